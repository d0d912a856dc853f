//! Shared by the integration-test binaries: one backend per binary, started before the tests
//! and torn down after them, plus helpers for running the `dnschaos` binary.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Output;
use std::sync::Arc;

use dnschaos::backend::{self, Backend, BackendConfig, BackendKind};
use dnschaos::route53::{ClientOptions, Route53};
use libtest_mimic::{Arguments, Failed, Trial};
use tokio::runtime::Runtime;

/// The backend every test of a binary shares.
pub struct Shared {
    pub rt: Runtime,
    pub backend: Arc<dyn Backend>,
    pub r53: Route53,
    /// Runs plans on the shared backend (no conformance check unless a request asks).
    pub runner: dnschaos::runner::Runner,
}

impl Shared {
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.handle().block_on(f)
    }
}

/// Which backend kind the suite runs on: `DNSCHAOS_BACKEND`, else auto.
pub fn suite_backend_kind() -> BackendKind {
    match std::env::var("DNSCHAOS_BACKEND").as_deref() {
        Ok("container") => BackendKind::Container,
        Ok("process") => BackendKind::Process,
        Ok("endpoint") => BackendKind::Endpoint,
        _ => BackendKind::Auto,
    }
}

/// A fresh folder under target/ for one test's run files.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Start the shared backend or panic loudly: a test that cannot reach its backend fails.
pub fn start_shared(binary: &str) -> Shared {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let mut config = BackendConfig::new(suite_backend_kind(), scratch(&format!("{binary}-shared")));
    if let Ok(url) = std::env::var("DNSCHAOS_ENDPOINT_URL") {
        config.endpoint_url = Some(url);
    }
    let started = std::time::Instant::now();
    let backend = match rt.block_on(backend::start(&config)) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: the {binary} tests need a backend and it did not start: {e}");
            eprintln!("hint: bash .ci/run installs everything; or run fixtures/localstack/build-image.sh");
            std::process::exit(101);
        }
    };
    let r53 = rt
        .block_on(Route53::connect(backend.info(), ClientOptions::default()))
        .expect("route 53 client for the shared backend");
    // Ctrl-C or SIGTERM during the tests: tear the shared backend down before dying.
    let on_signal = backend.clone();
    rt.spawn(async move {
        dnschaos::session::interrupted().await;
        eprintln!("interrupted: tearing the shared backend down");
        let _ = on_signal.shutdown().await;
        std::process::exit(130);
    });
    eprintln!(
        "shared backend: {} {} at {} (ready in {} ms, {} ms with set-up)",
        backend.info().kind,
        backend.info().source,
        backend.info().endpoint_url.as_deref().unwrap_or("aws"),
        backend.info().ready_ms,
        started.elapsed().as_millis()
    );
    let runner = dnschaos::runner::Runner::new(backend.clone(), r53.clone());
    Shared { rt, backend, r53, runner }
}

/// Run the trials, tear the shared backend down, check the machine's resolver config is
/// untouched, and exit with libtest's code.
pub fn run(shared: Arc<Shared>, trials: Vec<Trial>) -> ! {
    run_then(shared, trials, || true)
}

/// As [`run`], calling `after` once the trials are done (before the teardown).
/// `after` runs once the trials are done; when it returns false the binary fails too.
pub fn run_then(shared: Arc<Shared>, trials: Vec<Trial>, after: impl FnOnce() -> bool) -> ! {
    let resolv_before = std::fs::read("/etc/resolv.conf").ok();
    let args = Arguments::from_args();
    let conclusion = libtest_mimic::run(&args, trials);
    let after_ok = after();
    let backend = shared.backend.clone();
    shared.block_on(async {
        shared.r53.delete_created_zones().await;
        if let Err(e) = backend.shutdown().await {
            eprintln!("error: shared backend teardown failed: {e}");
        }
    });
    if std::fs::read("/etc/resolv.conf").ok() != resolv_before {
        eprintln!("error: /etc/resolv.conf changed during the tests");
        std::process::exit(101);
    }
    if !after_ok {
        std::process::exit(101);
    }
    conclusion.exit()
}

/// A trial whose body gets the shared backend.
pub fn trial(shared: &Arc<Shared>, name: &str, f: fn(&Shared) -> Result<(), Failed>) -> Trial {
    let shared = shared.clone();
    Trial::test(name, move || f(&shared))
}

/// The `dnschaos` binary built for these tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_dnschaos"))
}

/// Run `dnschaos ARGS` to completion.
pub fn dnschaos(args: &[&str]) -> Output {
    std::process::Command::new(bin())
        .args(args)
        .env("RUST_LOG", "dnschaos=info")
        .output()
        .expect("run dnschaos")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Fail with a message unless `cond`.
pub fn ensure(cond: bool, msg: impl FnOnce() -> String) -> Result<(), Failed> {
    if cond {
        Ok(())
    } else {
        Err(msg().into())
    }
}
