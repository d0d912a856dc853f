//! Enactors as processes, through the outside-enactor protocol (`docs/enactor-protocol.md`,
//! version 1): the harness starts a command once per AZ with the protocol's environment, writes
//! [`Control`] messages as JSON lines on its stdin, and reads optional events and pause
//! handshakes as JSON lines on its stdout. A team's own enactor and the built-ins run as
//! processes (`dnschaos enactor --impl K`, for real SIGSTOPs and kills) use this one path.
//!
//! Nothing an enactor says decides a verdict (the truth log does); what it says is shown beside
//! it. What it does wrong as a process (exits on its own, never reads its stdin, writes garbage,
//! ignores stop and SIGTERM) is collected as a problem and fails the run, naming it.

use std::collections::VecDeque;
use std::os::fd::AsRawFd;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, Command};
use tokio::sync::watch;

use super::{build, drive, Checkpoints, Ctx, EnactorKind, Point, Tuning};
use crate::error::{Error, Result};
use crate::events::{Event, EventKind, EventLog};
use crate::model::{Endpoint, Plan};
use crate::planner::PlanBus;
use crate::route53::{BackendInfo, ClientOptions, Route53};

/// The protocol version this harness speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// How long an enactor has to exit after `stop` and end of stdin, then after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(5);
const TERM_GRACE: Duration = Duration::from_secs(3);

/// A message from the harness to an enactor process (one JSON line on its stdin).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Control {
    Plan { plan: Plan },
    /// The answer to a `reached`: go on. `held_ms` says how long the harness held it.
    Continue {
        point: Point,
        generation: u64,
        #[serde(default)]
        held_ms: u64,
    },
    Stop,
}

/// The pause handshake's question, from an enactor (one JSON line on its stdout).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum Reached {
    Reached { point: Point, generation: u64 },
}

/// One endpoint as an enactor process is told about it (`DNSCHAOS_ENDPOINTS`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct EndpointEnv {
    label: String,
    zone: String,
    zone_id: String,
    dual_stack: bool,
    name: String,
    rollback_name: String,
    lock_name: String,
    fence_name: String,
}

/// Everything one enactor process is told, through its environment.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    pub az: String,
    pub index: usize,
    /// The seed for its own jitter.
    pub seed: u64,
    /// The run's t=0 (Unix ms).
    pub epoch_ms: u64,
    pub endpoints: Vec<Endpoint>,
    pub tuning: Tuning,
    /// This enactor's Route 53 endpoint (the fault gateway's path for its AZ).
    pub route53_url: String,
    /// The harness answers `reached` lines (the enactor speaks the handshake).
    pub checkpoints: bool,
}

impl ProcessSpec {
    /// The protocol's environment variables.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let endpoints: Vec<EndpointEnv> = self
            .endpoints
            .iter()
            .map(|e| EndpointEnv {
                label: e.label.clone(),
                zone: e.zone.clone(),
                zone_id: e.zone_id.clone(),
                dual_stack: e.dual_stack,
                name: e.name(),
                rollback_name: e.rollback_name(),
                lock_name: e.lock_name(),
                fence_name: e.fence_name(),
            })
            .collect();
        vec![
            ("DNSCHAOS_PROTOCOL", PROTOCOL_VERSION.to_string()),
            ("AWS_ENDPOINT_URL_ROUTE_53", self.route53_url.clone()),
            ("DNSCHAOS_ROUTE53_URL", self.route53_url.clone()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("DNSCHAOS_AZ", self.az.clone()),
            ("DNSCHAOS_INDEX", self.index.to_string()),
            ("DNSCHAOS_ENDPOINTS", serde_json::to_string(&endpoints).expect("endpoints are json")),
            ("DNSCHAOS_EPOCH_MS", self.epoch_ms.to_string()),
            ("DNSCHAOS_LOCK_LEASE_MS", self.tuning.lock_lease.as_millis().to_string()),
            ("DNSCHAOS_CLEANUP_KEEP", self.tuning.cleanup_keep.to_string()),
            ("DNSCHAOS_SEED", self.seed.to_string()),
            ("DNSCHAOS_CHECKPOINTS", if self.checkpoints { "1" } else { "0" }.into()),
            ("DNSCHAOS_TUNING", serde_json::to_string(&self.tuning).expect("tuning is json")),
        ]
    }

    /// Read the protocol's environment (a built-in run as a process).
    pub fn from_env() -> Result<ProcessSpec> {
        let var = |name: &str| {
            std::env::var(name).map_err(|_| {
                Error::bad_input(format!("{name} is not set: `dnschaos enactor` is started by `dnschaos run` (hint: see docs/enactor-protocol.md)"))
            })
        };
        let num = |name: &str| -> Result<u64> {
            var(name)?.parse().map_err(|e| Error::bad_input(format!("{name} is not a number: {e}")))
        };
        let protocol = num("DNSCHAOS_PROTOCOL")?;
        if protocol != PROTOCOL_VERSION as u64 {
            return Err(Error::bad_input(format!("DNSCHAOS_PROTOCOL is {protocol}; this enactor speaks {PROTOCOL_VERSION}")));
        }
        let endpoints: Vec<EndpointEnv> = serde_json::from_str(&var("DNSCHAOS_ENDPOINTS")?)
            .map_err(|e| Error::bad_input(format!("DNSCHAOS_ENDPOINTS is not the protocol's endpoint list: {e}")))?;
        let tuning: Tuning = serde_json::from_str(&var("DNSCHAOS_TUNING")?)
            .map_err(|e| Error::bad_input(format!("DNSCHAOS_TUNING is not the enactors' tuning: {e}")))?;
        Ok(ProcessSpec {
            az: var("DNSCHAOS_AZ")?,
            index: num("DNSCHAOS_INDEX")? as usize,
            seed: num("DNSCHAOS_SEED")?,
            epoch_ms: num("DNSCHAOS_EPOCH_MS")?,
            endpoints: endpoints.into_iter().map(|e| Endpoint::new(&e.label, &e.zone, &e.zone_id, e.dual_stack)).collect(),
            tuning,
            route53_url: var("DNSCHAOS_ROUTE53_URL")?,
            checkpoints: var("DNSCHAOS_CHECKPOINTS")? == "1",
        })
    }
}

/// The child side for a built-in: run one enactor fed from stdin, its events and handshakes on
/// stdout, until stopped or stdin closes.
pub async fn run_child(kind: EnactorKind, spec: ProcessSpec) -> Result<()> {
    let log = EventLog::new(crate::clock::Clock::wall(), spec.epoch_ms);
    log.write_lines_to(Box::new(std::io::stdout()));
    let backend = BackendInfo {
        kind: "endpoint".into(),
        source: spec.route53_url.clone(),
        version: None,
        endpoint_url: Some(spec.route53_url.clone()),
        real_aws: false,
        ready_ms: 0,
        log_path: None,
        handle: None,
    };
    let r53 = Route53::connect(&backend, ClientOptions::default()).await?;
    let bus = PlanBus::new();
    let (stop_tx, stop_rx) = watch::channel(false);
    type Waiters = Arc<Mutex<Vec<((Point, u64), tokio::sync::oneshot::Sender<u64>)>>>;
    let waiters: Waiters = Arc::default();
    let checkpoints = if spec.checkpoints {
        let waiters = waiters.clone();
        Checkpoints::relayed(Arc::new(move |point: Point, generation: u64| {
            let (tx, rx) = tokio::sync::oneshot::channel();
            waiters.lock().expect("waiters").push(((point, generation), tx));
            let line = serde_json::to_string(&Reached::Reached { point, generation }).expect("json");
            {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            Box::pin(async move { Duration::from_millis(rx.await.unwrap_or(0)) })
        }))
    } else {
        Checkpoints::new()
    };
    let seeds = crate::seeds::SeedTree::with_jitter(spec.seed, spec.seed);
    let ctx = Ctx::new(&spec.az, seeds, r53, spec.endpoints.clone(), bus.subscribe(&spec.az), log.clone(), checkpoints, spec.tuning.clone(), stop_rx);
    let enactor = tokio::spawn(drive(build(kind, spec.index, &spec.tuning), ctx));
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        match serde_json::from_str::<Control>(&line) {
            Ok(Control::Plan { plan }) => bus.publish(plan),
            Ok(Control::Continue { point, generation, held_ms }) => {
                let mut w = waiters.lock().expect("waiters");
                if let Some(i) = w.iter().position(|(k, _)| *k == (point, generation)) {
                    let _ = w.remove(i).1.send(held_ms);
                }
            }
            Ok(Control::Stop) => break,
            Err(e) => tracing::warn!(error = %e, "ignoring a control line that is not a message"),
        }
    }
    stop_tx.send_replace(true);
    // Let anyone waiting at a point go, then finish.
    for (_, tx) in waiters.lock().expect("waiters").drain(..) {
        let _ = tx.send(0);
    }
    let _ = enactor.await;
    Ok(())
}

/// What went wrong with one process, for the run's error.
#[derive(Default)]
struct Health {
    /// Lines on stdout that are not protocol messages: count and the first three.
    garbage: u64,
    garbage_first: Vec<String>,
    stderr_tail: VecDeque<String>,
    problems: Vec<String>,
}

/// Shared between the parent's tasks for one process.
struct Shared {
    label: String,
    health: Mutex<Health>,
    /// Set before the harness kills or stops it, so its exit is not a problem.
    expected_exit: AtomicBool,
    /// Bytes of whole lines written to its stdin.
    written: AtomicU64,
}

impl Shared {
    fn problem(&self, what: String) {
        self.health.lock().expect("health").problems.push(format!("{}: {what}", self.label));
    }

    fn last_stderr(&self) -> String {
        let h = self.health.lock().expect("health");
        match h.stderr_tail.back() {
            Some(l) => format!("; its last stderr line: {l:?}"),
            None => "; it wrote nothing on stderr".into(),
        }
    }
}

/// The parent side of one enactor process.
pub struct ChildEnactor {
    pub az: String,
    pid: Option<u32>,
    stdin: Arc<tokio::sync::Mutex<Option<ChildStdin>>>,
    feeder: tokio::task::JoinHandle<()>,
    exited: watch::Receiver<Option<String>>,
    shared: Arc<Shared>,
}

impl ChildEnactor {
    /// Start `program` (program and arguments) with the protocol's environment for `spec`,
    /// forward the bus's plans to it, its events to `log`, and answer its `reached` lines from
    /// `checkpoints`. `name` names it in messages (the implementation). Its stderr is appended
    /// to `stderr_log` when given (a restarted enactor adds to its predecessor's), else copied to
    /// ours with a prefix.
    #[allow(clippy::too_many_arguments)]
    pub async fn spawn(
        program: &[String],
        name: &str,
        spec: &ProcessSpec,
        bus: &PlanBus,
        log: &EventLog,
        checkpoints: &Checkpoints,
        stop: &watch::Receiver<bool>,
        stderr_log: Option<&std::path::Path>,
    ) -> Result<Self> {
        let label = format!("enactor {name} in {}", spec.az);
        let (exe, args) = program.split_first().ok_or_else(|| Error::bad_input(format!("{label}: empty command")))?;
        let mut cmd = Command::new(exe);
        cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true).process_group(0);
        // The user's AWS settings never reach the enactor: only the protocol's.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("AWS_") {
                cmd.env_remove(k);
            }
        }
        cmd.envs(spec.env());
        // SAFETY: prctl is async-signal-safe; it makes the kernel kill the child with SIGKILL
        // when this process dies, however it dies.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|e| Error::setup(format!("cannot start {label} as {exe:?}: {e} (hint: check the command in the plan or --enactor-cmd)")))?;
        let pid = child.id();
        let shared = Arc::new(Shared { label: label.clone(), health: Mutex::default(), expected_exit: AtomicBool::new(false), written: AtomicU64::new(0) });
        let stdin = Arc::new(tokio::sync::Mutex::new(child.stdin.take()));
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        if let Some(fd) = stdin.lock().await.as_ref().map(|s| s.as_raw_fd()) {
            // A small pipe, so an enactor that never reads its stdin shows it within a few plans.
            // SAFETY: a valid pipe fd we own.
            unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, 4096) };
        }

        // Exit watcher: owns the child.
        let (exit_tx, exited) = watch::channel(None);
        {
            let shared = shared.clone();
            let log = log.clone();
            let source = format!("enactor:{}", spec.az);
            let started = log.clock().now();
            let clock = log.clock().clone();
            tokio::spawn(async move {
                let status = child.wait().await.map(|s| s.to_string()).unwrap_or_else(|e| format!("unknown ({e})"));
                if !shared.expected_exit.load(Ordering::SeqCst) {
                    let after = clock.since(started).as_millis();
                    // Let its last stderr lines arrive.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    let what = format!("exited on its own ({status}) {after} ms after it started{}", shared.last_stderr());
                    log.emit(&source, EventKind::EnactorStopped { reason: what.clone() });
                    shared.problem(what);
                }
                exit_tx.send_replace(Some(status));
            });
        }

        // stderr: to its log file or ours; the last lines kept for messages.
        {
            let shared = shared.clone();
            let prefix = format!("[enactor {name} {}]", spec.az);
            let mut file = match stderr_log {
                Some(p) => Some(
                    std::fs::OpenOptions::new().create(true).append(true).open(p).map_err(|e| Error::io(p, e))?,
                ),
                None => None,
            };
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    match file.as_mut() {
                        Some(f) => {
                            use std::io::Write;
                            let _ = writeln!(f, "{line}");
                        }
                        None => eprintln!("{prefix} {line}"),
                    }
                    let mut h = shared.health.lock().expect("health");
                    h.stderr_tail.push_back(line.chars().take(300).collect());
                    if h.stderr_tail.len() > 5 {
                        h.stderr_tail.pop_front();
                    }
                }
            });
        }

        // stdout: events and handshakes.
        {
            let (shared, log, checkpoints, stdin, stop) = (shared.clone(), log.clone(), checkpoints.clone(), stdin.clone(), stop.clone());
            let (az, source) = (spec.az.clone(), format!("enactor:{}", spec.az));
            let answers = spec.checkpoints;
            tokio::spawn(async move {
                let mut lines = BufReader::new(stdout).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    match parse_output(&line) {
                        Some(Output::Event(mut e)) => {
                            e.source = source.clone();
                            log.record(e);
                        }
                        Some(Output::Kind(k)) => log.emit(&source, k),
                        Some(Output::Reached(point, generation)) if answers => {
                            let (checkpoints, stdin, mut stop, clock, az) = (checkpoints.clone(), stdin.clone(), stop.clone(), log.clock().clone(), az.clone());
                            let log = log.clone();
                            let source = source.clone();
                            tokio::spawn(async move {
                                let held = checkpoints.reach(&az, point, generation, &mut stop, &clock).await;
                                if !held.is_zero() {
                                    log.emit(&source, EventKind::Checkpoint { point: point.as_str().into(), generation, held_ms: held.as_millis() as u64 });
                                }
                                let msg = Control::Continue { point, generation, held_ms: held.as_millis() as u64 };
                                let _ = write_line(&stdin, &msg).await;
                            });
                        }
                        _ => {
                            let mut h = shared.health.lock().expect("health");
                            h.garbage += 1;
                            if h.garbage_first.len() < 3 {
                                h.garbage_first.push(line.chars().take(120).collect());
                            }
                        }
                    }
                }
            });
        }

        // stdin: the plan delivered to this enactor whenever it changes: normally a newer one,
        // an older one when a delivery fault reorders them (plans emitted faster than they are
        // written may be skipped; the newest delivered is always written).
        let feeder = {
            let mut feed = bus.subscribe(&spec.az);
            let (stdin, shared) = (stdin.clone(), shared.clone());
            tokio::spawn(async move {
                let mut seen = 0;
                while let Some(plan) = feed.other_than(seen).await {
                    seen = plan.generation;
                    match write_line(&stdin, &Control::Plan { plan: (*plan).clone() }).await {
                        Some(n) => shared.written.fetch_add(n, Ordering::SeqCst),
                        None => break,
                    };
                }
            })
        };
        Ok(ChildEnactor { az: spec.az.clone(), pid, stdin, feeder, exited, shared })
    }

    /// Its process group id (its own pid), for SIGSTOP/SIGCONT faults on the whole group.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    fn signal_group(&self, sig: i32) {
        if let Some(pid) = self.pid {
            // SAFETY: signalling the process group we created for our own child.
            unsafe { libc::kill(-(pid as i32), sig) };
        }
    }

    async fn wait_exit(&mut self, within: Duration) -> bool {
        tokio::time::timeout(within, self.exited.wait_for(|s| s.is_some())).await.is_ok()
    }

    /// Kill it at once (a crash fault), with everything it started.
    pub async fn kill(&mut self) {
        self.shared.expected_exit.store(true, Ordering::SeqCst);
        self.signal_group(libc::SIGKILL);
        self.wait_exit(Duration::from_secs(5)).await;
    }

    /// Stop it as the protocol says (`stop`, end of stdin, SIGTERM after 5 s, SIGKILL 3 s
    /// later), leave nothing of its process group running, and return what it did wrong.
    pub async fn stop(mut self) -> Vec<String> {
        let already_gone = self.exited.borrow().is_some();
        if !already_gone {
            self.never_read_check().await;
        }
        self.shared.expected_exit.store(true, Ordering::SeqCst);
        self.feeder.abort();
        // A stopped process cannot read its stdin.
        self.signal_group(libc::SIGCONT);
        if !already_gone {
            let _ = tokio::time::timeout(Duration::from_secs(1), write_line(&self.stdin, &Control::Stop)).await;
        }
        if let Ok(mut guard) = tokio::time::timeout(Duration::from_secs(1), self.stdin.lock()).await {
            guard.take();
        }
        if !already_gone && !self.wait_exit(STOP_GRACE).await {
            self.signal_group(libc::SIGTERM);
            if !self.wait_exit(TERM_GRACE).await {
                self.shared.problem(format!(
                    "did not exit within {} s of `stop` and end of stdin, nor {} s after SIGTERM; killed with SIGKILL",
                    STOP_GRACE.as_secs(),
                    TERM_GRACE.as_secs()
                ));
            }
        }
        // Whatever it left in its group goes too.
        self.signal_group(libc::SIGKILL);
        self.wait_exit(Duration::from_secs(5)).await;
        let mut h = self.shared.health.lock().expect("health");
        if h.garbage > 0 {
            let first = h.garbage_first.iter().map(|l| format!("{l:?}")).collect::<Vec<_>>().join(", ");
            let n = h.garbage;
            h.problems.push(format!(
                "{}: wrote {n} line(s) on stdout that are not protocol messages, first: {first} (hint: stdout carries only JSON messages; logs go to stderr)",
                self.shared.label
            ));
        }
        std::mem::take(&mut h.problems)
    }

    /// A process that consumed nothing of what was written to it never read its stdin.
    async fn never_read_check(&self) {
        let Ok(guard) = tokio::time::timeout(Duration::from_secs(2), self.stdin.lock()).await else {
            // A write has been blocked on a full pipe for 2 s: it does not read its stdin.
            self.shared.problem("does not read its stdin: a plan written to it was still blocked on a full pipe 2 s later (hint: read stdin continuously, see docs/enactor-protocol.md)".into());
            return;
        };
        let Some(fd) = guard.as_ref().map(|s| s.as_raw_fd()) else { return };
        let mut unread: libc::c_int = 0;
        // SAFETY: FIONREAD on a pipe fd we own, into a c_int.
        if unsafe { libc::ioctl(fd, libc::FIONREAD, &mut unread) } != 0 {
            return;
        }
        let written = self.shared.written.load(Ordering::SeqCst);
        if unread > 0 && written.saturating_sub(unread as u64) == 0 {
            self.shared.problem(format!("never read its stdin ({unread} bytes of plans left unread; hint: read stdin continuously, see docs/enactor-protocol.md)"));
        }
    }
}

/// Write one message as a line; the bytes written, `None` when the pipe is gone.
async fn write_line(stdin: &tokio::sync::Mutex<Option<ChildStdin>>, msg: &Control) -> Option<u64> {
    let line = format!("{}\n", serde_json::to_string(msg).expect("control is json"));
    let mut guard = stdin.lock().await;
    let w = guard.as_mut()?;
    if w.write_all(line.as_bytes()).await.is_err() || w.flush().await.is_err() {
        return None;
    }
    Some(line.len() as u64)
}

enum Output {
    /// A whole event (`t_ms` from the run's epoch, `source`, `event`): what the built-ins write.
    Event(Event),
    /// An event kind alone, stamped when read.
    Kind(EventKind),
    Reached(Point, u64),
}

/// What a line on an enactor's stdout is, if it is a protocol message.
fn parse_output(line: &str) -> Option<Output> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    if v.get("t_ms").is_some() && v.get("event").is_some() {
        return serde_json::from_value(v).ok().map(Output::Event);
    }
    if v.get("type").and_then(|t| t.as_str()) == Some("reached") {
        let Reached::Reached { point, generation } = serde_json::from_value(v).ok()?;
        return Some(Output::Reached(point, generation));
    }
    serde_json::from_value(v).ok().map(Output::Kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdout_lines_are_events_handshakes_or_garbage() {
        let kind = |l: &str| match parse_output(l) {
            Some(Output::Event(_)) => "event",
            Some(Output::Kind(_)) => "kind",
            Some(Output::Reached(..)) => "reached",
            None => "garbage",
        };
        assert_eq!(kind(r#"{"type":"alias-flipped","endpoint":"regional","from":3,"to":4,"rollback":3}"#), "kind");
        assert_eq!(kind(r#"{"t_ms":5,"source":"x","event":{"type":"note","message":"hi"}}"#), "event");
        assert_eq!(kind(r#"{"type":"reached","point":"before-batch","generation":7}"#), "reached");
        assert_eq!(kind(r#"{"type":"alias-flipped"}"#), "garbage");
        assert_eq!(kind("hello"), "garbage");
        assert_eq!(kind(r#"{"type":"no-such-event"}"#), "garbage");
    }

    #[test]
    fn control_messages_have_the_documented_shape() {
        let stop = serde_json::to_string(&Control::Stop).unwrap();
        assert_eq!(stop, r#"{"type":"stop"}"#);
        let c = serde_json::to_string(&Control::Continue { point: Point::BeforeBatch, generation: 3, held_ms: 0 }).unwrap();
        assert_eq!(c, r#"{"type":"continue","point":"before-batch","generation":3,"held_ms":0}"#);
    }
}
