//! Route 53-compatible backends: where the enactors' API calls land.
//!
//! A [`Backend`] is something that answers the Route 53 API. Three implementations:
//! - [`container`]: LocalStack in a Docker container started through testcontainers;
//! - [`process`]: LocalStack as a host Python process from a pinned virtual environment;
//! - [`endpoint`]: an existing Route 53 API URL (another LocalStack, moto, or real AWS).
//!
//! Every backend reports how long it took to become ready and is torn down on every exit path:
//! [`Backend::shutdown`] on the normal path, `Drop` on errors, panics and cancellation.

pub mod container;
pub mod endpoint;
pub mod owner;
pub mod process;
pub mod sim;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use crate::error::{Error, Result};
pub use crate::route53::BackendInfo;

/// The pinned LocalStack community version. `latest` needs an auth token since 2026-03.
pub const LOCALSTACK_VERSION: &str = "4.13.1";
/// The image the container backend runs unless told otherwise.
pub const DEFAULT_IMAGE: &str = "localstack/localstack:4.13.1";
/// Label put on every container we start, so that leftovers can be found and removed.
pub const OWNER_LABEL: &str = "org.dnschaos.owner";
/// Label carrying the pid of the harness process that owns a container (with its start time and
/// pid namespace in [`owner::START_LABEL`] and [`owner::PIDNS_LABEL`]).
pub const PID_LABEL: &str = "org.dnschaos.pid";

/// Which backend to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    /// `container` when a Docker engine answers, else `process`.
    Auto,
    /// LocalStack in Docker through testcontainers.
    Container,
    /// LocalStack as a host process from the project's pinned virtual environment.
    Process,
    /// An existing Route 53 API URL (or real AWS with `--allow-real-aws`).
    Endpoint,
    /// Route 53 in this process, on virtual time: fast, for searching; never the judge.
    Sim,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Auto => "auto",
            BackendKind::Container => "container",
            BackendKind::Process => "process",
            BackendKind::Endpoint => "endpoint",
            BackendKind::Sim => "sim",
        }
    }
}

/// Everything needed to start any backend. Defaults are documented on the CLI flags.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    pub kind: BackendKind,
    /// Image for the container backend.
    pub image: String,
    /// Virtual environment holding LocalStack for the process backend.
    pub venv: PathBuf,
    /// Port on 127.0.0.1 for the process backend; `None` picks a free one.
    pub port: Option<u16>,
    /// Route 53 API URL for the endpoint backend; `None` means real AWS.
    pub endpoint_url: Option<String>,
    /// Required before anything touches real AWS.
    pub allow_real_aws: bool,
    /// Where logs and LocalStack's state go.
    pub run_dir: PathBuf,
    /// How long a backend may take to become ready.
    pub startup_timeout: Duration,
}

impl BackendConfig {
    pub fn new(kind: BackendKind, run_dir: impl Into<PathBuf>) -> Self {
        BackendConfig {
            kind,
            image: DEFAULT_IMAGE.to_string(),
            venv: default_venv(),
            port: None,
            endpoint_url: None,
            allow_real_aws: false,
            run_dir: run_dir.into(),
            startup_timeout: Duration::from_secs(120),
        }
    }
}

/// A running Route 53-compatible backend.
#[async_trait]
pub trait Backend: Send + Sync {
    fn info(&self) -> &BackendInfo;

    /// Freeze the backend (docker pause / SIGSTOP); API calls hang until [`Backend::resume`].
    async fn pause(&self) -> Result<()>;

    /// Undo [`Backend::pause`].
    async fn resume(&self) -> Result<()>;

    /// The last `n` lines the backend logged, for failure messages.
    async fn log_tail(&self, n: usize) -> Vec<String>;

    /// Stop and remove everything this backend started; waits until it is gone.
    /// Idempotent: a second call does nothing.
    async fn shutdown(&self) -> Result<()>;

    /// The in-memory store, for the simulated backend; `None` for every real one.
    fn sim_store(&self) -> Option<Arc<crate::route53::sim::SimStore>> {
        None
    }
}

/// The harness's own client of `backend`: over HTTP, or in process for the simulated one.
pub async fn client(backend: &dyn Backend, clock: &crate::clock::Clock) -> Result<crate::route53::Route53> {
    match backend.sim_store() {
        Some(store) => Ok(crate::route53::Route53::in_process(Arc::new(crate::route53::sim::Direct::new(store)), clock)),
        None => crate::route53::Route53::connect(backend.info(), crate::route53::ClientOptions { clock: clock.clone(), ..Default::default() }).await,
    }
}

/// Start the backend `config` asks for.
pub async fn start(config: &BackendConfig) -> Result<Arc<dyn Backend>> {
    std::fs::create_dir_all(&config.run_dir).map_err(|e| Error::io(&config.run_dir, e))?;
    let kind = match config.kind {
        BackendKind::Auto => {
            if container::docker_answers().await {
                BackendKind::Container
            } else {
                tracing::info!("no docker engine answers: using the process backend");
                BackendKind::Process
            }
        }
        k => k,
    };
    let backend: Arc<dyn Backend> = match kind {
        BackendKind::Container => Arc::new(container::ContainerBackend::start(config).await?),
        BackendKind::Process => Arc::new(process::ProcessBackend::start(config).await?),
        BackendKind::Endpoint => Arc::new(endpoint::EndpointBackend::start(config).await?),
        BackendKind::Sim => Arc::new(sim::SimBackend::start()),
        BackendKind::Auto => unreachable!("auto resolved above"),
    };
    let info = backend.info();
    tracing::info!(
        kind = %info.kind,
        source = %info.source,
        endpoint = info.endpoint_url.as_deref().unwrap_or("aws"),
        ready_ms = info.ready_ms,
        "backend ready"
    );
    Ok(backend)
}

/// Where `fixtures/localstack/install-venv.sh` puts LocalStack by default.
pub fn default_venv() -> PathBuf {
    crate::paths::repo_root().join(".dnschaos").join("localstack-venv")
}

/// Poll LocalStack's health endpoint until Route 53 reports available (or running).
pub(crate) async fn wait_route53_healthy(base_url: &str, deadline: Duration) -> Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .no_proxy()
        .build()
        .map_err(|e| Error::setup(format!("cannot build http client: {e}")))?;
    let url = format!("{base_url}/_localstack/health");
    let clock = crate::clock::Clock::wall();
    let start = clock.now();
    let mut last = String::from("no answer yet");
    while clock.since(start) < deadline {
        match http.get(&url).send().await {
            Ok(resp) => match resp.json::<serde_json::Value>().await {
                Ok(body) => {
                    let state = body["services"]["route53"].as_str().unwrap_or("missing");
                    if state == "available" || state == "running" {
                        return Ok(());
                    }
                    last = format!("route53 is {state}");
                }
                Err(e) => last = format!("unreadable health answer: {e}"),
            },
            Err(e) => last = format!("{e}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(Error::setup(format!(
        "localstack at {base_url} did not report route53 healthy within {}s ({last})",
        deadline.as_secs()
    )))
}

/// Keeps the last lines of a child's output for error messages.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogTail {
    lines: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<String>>>,
}

impl LogTail {
    const KEEP: usize = 200;

    pub(crate) fn push(&self, line: &str) {
        let mut lines = self.lines.lock().expect("log tail lock");
        if lines.len() == Self::KEEP {
            lines.pop_front();
        }
        lines.push_back(line.to_string());
    }

    pub(crate) fn last(&self, n: usize) -> Vec<String> {
        let lines = self.lines.lock().expect("log tail lock");
        lines.iter().skip(lines.len().saturating_sub(n)).cloned().collect()
    }
}
