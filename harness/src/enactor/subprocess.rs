//! The same enactor code in a child process (`dnschaos enactor ...`), so that a pause can be a
//! real SIGSTOP and a crash a real kill.
//!
//! Protocol: the parent writes [`Control`] messages as JSON lines on the child's stdin (plans,
//! stop); the child writes its events as JSON lines on stdout, stamped on the parent's epoch.
//! The child exits when told to stop or when stdin closes (the parent is gone).

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::watch;

use super::{build, drive, Checkpoints, Ctx, EnactorKind, Tuning};
use crate::route53::BackendInfo;
use crate::error::{Error, Result};
use crate::events::{Event, EventLog};
use crate::model::{Endpoint, Plan};
use crate::planner::PlanBus;
use crate::route53::{ClientOptions, Route53};

/// A message from the parent to a subprocess enactor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Control {
    Plan(Plan),
    Stop,
}

/// Everything a subprocess enactor needs, passed as one JSON argument.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChildSpec {
    pub implementation: EnactorKind,
    pub index: usize,
    pub az: String,
    pub seed: u64,
    /// The jitter seed (the schedule seed when absent).
    #[serde(default)]
    pub jitter_seed: Option<u64>,
    pub epoch_ms: u64,
    pub endpoints: Vec<Endpoint>,
    pub tuning: Tuning,
    pub backend: BackendInfo,
}

/// The child side: run one enactor fed from stdin, logging to stdout, until stopped.
pub async fn run_child(spec: ChildSpec) -> Result<()> {
    let log = EventLog::new(crate::clock::Clock::wall(), spec.epoch_ms);
    log.write_lines_to(Box::new(std::io::stdout()));
    let r53 = Route53::connect(&spec.backend, ClientOptions::default()).await?;
    let bus = PlanBus::new();
    let (stop_tx, stop_rx) = watch::channel(false);
    let ctx = Ctx::new(
        &spec.az,
        crate::seeds::SeedTree::with_jitter(spec.seed, spec.jitter_seed.unwrap_or(spec.seed)),
        r53,
        spec.endpoints.clone(),
        bus.subscribe(&spec.az),
        log.clone(),
        Checkpoints::new(),
        spec.tuning.clone(),
        stop_rx,
    );
    let enactor = tokio::spawn(drive(build(spec.implementation, spec.index, &spec.tuning), ctx));
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        match serde_json::from_str::<Control>(&line) {
            Ok(Control::Plan(p)) => bus.publish(p),
            Ok(Control::Stop) => break,
            Err(e) => tracing::warn!(error = %e, "ignoring a control line that is not a message"),
        }
    }
    stop_tx.send_replace(true);
    let _ = enactor.await;
    Ok(())
}

/// The parent side of one subprocess enactor.
pub struct ChildEnactor {
    pub az: String,
    child: Child,
    stdin: Arc<tokio::sync::Mutex<ChildStdin>>,
}

impl ChildEnactor {
    /// Start `bin enactor --spec JSON`, forward the bus's plans to it and its events to `log`.
    pub async fn spawn(bin: &Path, spec: &ChildSpec, bus: &PlanBus, log: &EventLog) -> Result<Self> {
        let json = serde_json::to_string(spec).expect("child spec is json");
        let mut child = Command::new(bin)
            .args(["enactor", "--impl", spec.implementation.as_str(), "--az", &spec.az, "--spec", &json])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Error::setup(format!("cannot start enactor {} as {}: {e}", spec.az, bin.display())))?;
        let stdin = Arc::new(tokio::sync::Mutex::new(child.stdin.take().expect("piped stdin")));
        let stdout = child.stdout.take().expect("piped stdout");
        let log2 = log.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                match serde_json::from_str::<Event>(&line) {
                    Ok(e) => log2.record(e),
                    Err(_) => tracing::debug!(line, "non-event output from a subprocess enactor"),
                }
            }
        });
        let mut feed = bus.subscribe(&spec.az);
        let stdin2 = stdin.clone();
        tokio::spawn(async move {
            let mut seen = 0;
            while let Some(plan) = feed.newer_than(seen).await {
                seen = plan.generation;
                let line = serde_json::to_string(&Control::Plan((*plan).clone())).expect("plan is json");
                let mut w = stdin2.lock().await;
                if w.write_all(format!("{line}\n").as_bytes()).await.is_err() || w.flush().await.is_err() {
                    break;
                }
            }
        });
        Ok(ChildEnactor { az: spec.az.clone(), child, stdin })
    }

    /// The child's pid, for SIGSTOP/SIGCONT/SIGKILL faults.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Kill the child at once (a crash fault).
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Ask the child to stop, then wait (kill after 10 s).
    pub async fn stop(mut self) {
        {
            let mut w = self.stdin.lock().await;
            let line = serde_json::to_string(&Control::Stop).expect("control is json");
            let _ = w.write_all(format!("{line}\n").as_bytes()).await;
            let _ = w.flush().await;
        }
        if let Some(pid) = self.child.id() {
            // A stopped child cannot read its stdin.
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid as i32, libc::SIGCONT) };
        }
        if tokio::time::timeout(std::time::Duration::from_secs(10), self.child.wait()).await.is_err() {
            let _ = self.child.kill().await;
        }
    }
}
