//! Backend tests: the real LocalStack three ways, conformance, teardown on every exit path,
//! and one-line errors for bad input. One shared backend for the conformance checks; the
//! teardown tests start their own, because tearing down is what they test.

#[path = "../support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use dnschaos::backend::owner::{self, Owner};
use dnschaos::backend::{BackendConfig, BackendInfo, BackendKind, PID_LABEL};
use dnschaos::conformance;
use dnschaos::session::with_backend;
use libtest_mimic::Failed;
use support::{dnschaos, ensure, scratch, stderr, trial, Shared};
use testcontainers::bollard::query_parameters::ListContainersOptionsBuilder;
use testcontainers::bollard::Docker;

fn main() {
    let shared = Arc::new(support::start_shared("backend"));
    let trials = vec![
        trial(&shared, "conformance_shared_backend_reports_localstack_deviations", conformance_shared),
        trial(&shared, "conformance_process_backend_reports_deviations_and_stops", conformance_process),
        trial(&shared, "cli_conformance_container_writes_json_and_leaves_nothing", cli_container),
        trial(&shared, "cli_interrupt_tears_down_container", |_| cli_interrupt("container")),
        trial(&shared, "cli_interrupt_tears_down_process", |_| cli_interrupt("process")),
        trial(&shared, "kill_9_of_harness_leaves_no_process_backend", |_| kill_9("process")),
        trial(&shared, "kill_9_of_harness_leaves_no_container_backend", |_| kill_9("container")),
        trial(&shared, "panic_in_session_tears_down_container", panic_teardown),
        trial(&shared, "error_in_session_tears_down_process", error_teardown),
        trial(&shared, "bad_backend_name_is_bad_input", |_| bad_input(&["conformance", "--backend", "bogus"], 2, "invalid value 'bogus'")),
        trial(&shared, "real_aws_without_opt_in_is_refused", |_| {
            bad_input(&["conformance", "--backend", "endpoint"], 2, "refusing to run against real AWS")
        }),
        trial(&shared, "latest_tag_is_refused", |_| {
            bad_input(&["conformance", "--backend", "container", "--image", "localstack/localstack:latest"], 2, "tag latest")
        }),
        trial(&shared, "unreachable_endpoint_is_setup_error", |_| {
            bad_input(&["conformance", "--backend", "endpoint", "--endpoint-url", "http://127.0.0.1:9"], 3, "did not answer")
        }),
        trial(&shared, "missing_image_is_setup_error_with_hint", |_| {
            bad_input(&["conformance", "--backend", "container", "--image", "dnschaos/never-built:0.0.0"], 3, "build-image")
        }),
        trial(&shared, "missing_venv_is_setup_error_with_hint", |_| {
            bad_input(&["conformance", "--backend", "process", "--venv", "/nonexistent/venv"], 3, "install-venv.sh")
        }),
        trial(&shared, "port_in_use_is_setup_error", |_| port_in_use()),
        trial(&shared, "localstack_exiting_early_is_setup_error", |_| early_exit()),
    ];
    support::run(shared, trials)
}

/// The deviations backend-facts.md measured on LocalStack 4.13.1, and the guarantees it keeps.
fn assert_localstack_profile(report: &conformance::Report) -> Result<(), Failed> {
    let verdict = |name: &str| report.check(name).map(|c| c.conforms);
    for kept in ["batch-atomicity", "delete-missing-value", "upsert", "weighted-sets", "alias-records", "concurrent-upserts"] {
        ensure(verdict(kept) == Some(true), || format!("{kept} should conform:\n{}", report.table()))?;
    }
    for broken in ["stale-compare-and-swap", "duplicate-create"] {
        ensure(verdict(broken) == Some(false), || format!("{broken} should NOT conform on LocalStack 4.13.1:\n{}", report.table()))?;
    }
    ensure(report.total >= 10, || format!("expected at least 10 checks, got {}", report.total))
}

fn conformance_shared(s: &Shared) -> Result<(), Failed> {
    let report = s.block_on(conformance::run(&s.r53, s.backend.info(), false))?;
    println!("{}", report.table());
    assert_localstack_profile(&report)
}

fn conformance_process(_: &Shared) -> Result<(), Failed> {
    let dir = scratch("conformance-process");
    let config = BackendConfig::new(BackendKind::Process, &dir);
    let rt = tokio::runtime::Runtime::new()?;
    let (report, pid) = rt.block_on(with_backend(&config, |session| async move {
        let pid = session.backend.info().handle.clone().unwrap_or_default();
        let report = conformance::run(&session.r53, session.backend.info(), false).await?;
        Ok((report, pid))
    }))?;
    println!("{}", report.table());
    ensure(report.backend.ready_ms < 60_000, || format!("process backend took {} ms", report.backend.ready_ms))?;
    assert_localstack_profile(&report)?;
    ensure(!pid_alive(&pid), || format!("localstack process {pid} still runs after shutdown"))?;
    ensure(localstack_processes_under(&dir).is_empty(), || format!("localstack processes left under {}", dir.display()))
}

fn cli_container(_: &Shared) -> Result<(), Failed> {
    let dir = scratch("cli-container");
    let json = dir.join("out.json");
    let out = dnschaos(&[
        "conformance", "--backend", "container", "--json", json.to_str().unwrap(), "--out", dir.to_str().unwrap(),
    ]);
    ensure(out.status.code() == Some(0), || format!("exit {:?}: {}", out.status.code(), stderr(&out)))?;
    let table = String::from_utf8_lossy(&out.stdout);
    ensure(table.contains("stale-compare-and-swap") && table.contains("| NO"), || format!("table lacks verdicts:\n{table}"))?;
    let body: serde_json::Value = serde_json::from_slice(&std::fs::read(&json)?)?;
    ensure(body["backend"]["kind"] == "container", || format!("backend kind in json: {}", body["backend"]))?;
    let checks = body["checks"].as_array().cloned().unwrap_or_default();
    ensure(checks.len() >= 10, || format!("{} checks in json", checks.len()))?;
    for c in &checks {
        for key in ["name", "expected", "observed", "conforms"] {
            ensure(c.get(key).is_some(), || format!("check without {key}: {c}"))?;
        }
    }
    // The session gzips the backend's log at teardown.
    let log = dnschaos::paths::read_text(&dir.join("backend.log.gz"))?;
    ensure(!log.is_empty(), || "backend.log.gz is empty".into())?;
    containers_of(0)
}

/// Start `dnschaos conformance`, wait until its backend is ready, Ctrl-C it, and check that
/// it exits 130 leaving nothing behind.
fn cli_interrupt(kind: &str) -> Result<(), Failed> {
    let dir = scratch(&format!("interrupt-{kind}"));
    let mut child = std::process::Command::new(support::bin())
        .args(["conformance", "--backend", kind, "--out", dir.to_str().unwrap()])
        .env("RUST_LOG", "dnschaos=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    loop {
        let Some(Ok(line)) = lines.next() else {
            return Err(format!("dnschaos ended before its backend was ready: {seen:?}").into());
        };
        let ready = line.contains("backend ready");
        seen.push(line);
        if ready || Instant::now() > deadline {
            break;
        }
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(pid as i32, libc::SIGINT) };
    let status = child.wait()?;
    ensure(status.code() == Some(130), || format!("expected exit 130 after Ctrl-C, got {status}"))?;
    containers_of(pid)?;
    ensure(localstack_processes_under(&dir).is_empty(), || format!("localstack process left under {}", dir.display()))
}

/// `dnschaos backend up --backend KIND` as a child process of the test.
struct Up {
    child: std::process::Child,
    dir: PathBuf,
    info: Option<BackendInfo>,
    stdout: Option<mpsc::Receiver<Result<BackendInfo, String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Up {
    fn spawn(kind: &str, dir: PathBuf) -> Result<Up, Failed> {
        let mut child = std::process::Command::new(support::bin())
            .args(["backend", "up", "--backend", kind, "--out", dir.to_str().unwrap()])
            .env("RUST_LOG", "dnschaos=info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let lines = stderr.clone();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        // `backend up` prints the backend's info as JSON once it is ready.
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut text = String::new();
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                text.push_str(&line);
                text.push('\n');
                if let Ok(info) = serde_json::from_str::<BackendInfo>(&text) {
                    let _ = tx.send(Ok(info));
                    return;
                }
            }
            let _ = tx.send(Err(format!("stdout ended without the backend's json: {text:?}")));
        });
        Ok(Up { child, dir, info: None, stdout: Some(rx), stderr })
    }

    /// Wait until the backend is ready (at most 120 s).
    fn ready(mut self) -> Result<Up, Failed> {
        let rx = self.stdout.take().expect("ready is called once");
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(Ok(info)) => {
                self.info = Some(info);
                Ok(self)
            }
            Ok(Err(e)) => Err(format!("dnschaos backend up (pid {}) failed: {e}; stderr: {:?}", self.pid(), self.stderr()).into()),
            Err(_) => Err(format!("dnschaos backend up (pid {}) not ready within 120s; stderr: {:?}", self.pid(), self.stderr()).into()),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn info(&self) -> &BackendInfo {
        self.info.as_ref().expect("ready was called")
    }

    fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Ctrl-C.
    fn interrupt(&self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.pid() as i32, libc::SIGINT) };
    }

    /// Expect exit 0 within 60 s.
    fn exits_ok(mut self) -> Result<(), Failed> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait()? {
                return ensure(status.code() == Some(0), || {
                    format!("backend up (pid {}) exited {status} after Ctrl-C; stderr: {:?}", self.pid(), self.stderr())
                });
            }
            if Instant::now() > deadline {
                return Err(format!("backend up (pid {}) still runs 60s after Ctrl-C; stderr: {:?}", self.pid(), self.stderr()).into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Up {
    /// A failed test still stops its harnesses: Ctrl-C, then SIGKILL after 30 s.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
            let deadline = Instant::now() + Duration::from_secs(30);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A LocalStack host process started by the test, marked as owned by `owner`: what a harness that
/// died leaves behind when nothing killed its LocalStack (a frozen watchdog, an older dnschaos).
struct MarkedLocalstack(std::process::Child);

impl MarkedLocalstack {
    fn spawn(owner: &Owner, dir: &Path) -> Result<MarkedLocalstack, Failed> {
        std::fs::create_dir_all(dir.join("tmp"))?;
        let port = dnschaos::backend::process::free_port()?;
        let child = std::process::Command::new(dnschaos::backend::default_venv().join("bin/python"))
            .args(["-m", "localstack.runtime.main"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", dir)
            .env("TMP", dir.join("tmp"))
            .env("OVERRIDE_IN_DOCKER", "0")
            .env("DNS_ADDRESS", "0")
            .env("GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
            .env("SERVICES", "route53")
            .env("LOCALSTACK_VOLUME_DIR", dir.join("volume"))
            .env("FILESYSTEM_ROOT", dir.join("filesystem"))
            .env("DISABLE_EVENTS", "1")
            .env("SKIP_SSL_CERT_DOWNLOAD", "1")
            .envs(owner.env_markers())
            .current_dir(dir)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(MarkedLocalstack(child))
    }

    /// How it ended, once it has (at most `within`).
    fn ended(&mut self, within: Duration) -> Result<Option<std::process::ExitStatus>, Failed> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.0.try_wait()? {
                return Ok(Some(status));
            }
            if Instant::now() > deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for MarkedLocalstack {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start a live harness and a doomed one, SIGKILL the doomed one, start a third backend, and
/// check that nothing of the killed harness remains while the live harness's backend still
/// answers. For the process backend the killed harness's LocalStack must die with it (before
/// any new start); since that leaves the start-time clean-up nothing to do, two marked
/// LocalStack processes stand in for what older builds or a frozen watchdog leave: one owned by
/// the killed harness, one owned by the live harness's pid with another start time (a recycled
/// pid). The next start must kill both and spare the live harness's own LocalStack.
fn kill_9(kind: &str) -> Result<(), Failed> {
    let started = Instant::now();
    let live = Up::spawn(kind, scratch(&format!("kill9-{kind}-live")))?;
    let doomed = Up::spawn(kind, scratch(&format!("kill9-{kind}-doomed")))?;
    let live = live.ready()?;
    let mut doomed = doomed.ready()?;
    let t_ready = started.elapsed();
    let live_owner = Owner::of_pid(live.pid())?;
    let doomed_owner = Owner::of_pid(doomed.pid())?;
    let doomed_handle = doomed.info().handle.clone().ok_or("the doomed backend has no handle")?;
    let live_handle = live.info().handle.clone().ok_or("the live backend has no handle")?;

    // SAFETY: signalling our own child.
    unsafe { libc::kill(doomed.pid() as i32, libc::SIGKILL) };
    doomed.child.wait()?;
    let killed_at = Instant::now();

    let mut orphans = Vec::new();
    if kind == "process" {
        let pgid: i32 = doomed_handle.parse()?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while !(group_members(pgid).is_empty() && localstack_processes_under(&doomed.dir).is_empty()) {
            ensure(Instant::now() < deadline, || {
                format!(
                    "5s after SIGKILL of harness {}, its localstack group {pgid} still has {:?} and {:?} run under {}",
                    doomed.pid(),
                    group_members(pgid),
                    localstack_processes_under(&doomed.dir),
                    doomed.dir.display()
                )
            })?;
            std::thread::sleep(Duration::from_millis(20));
        }
        println!("localstack died {} ms after its harness", killed_at.elapsed().as_millis());
        let dir = scratch("kill9-orphans");
        let recycled = Owner { start_ticks: live_owner.start_ticks + 1, ..live_owner.clone() };
        orphans.push(("owned by the killed harness", MarkedLocalstack::spawn(&doomed_owner, &dir.join("dead"))?));
        orphans.push(("owned by a recycled pid", MarkedLocalstack::spawn(&recycled, &dir.join("recycled"))?));
        for (what, orphan) in &mut orphans {
            ensure(orphan.ended(Duration::ZERO)?.is_none(), || format!("the marked localstack {what} exited at once"))?;
        }
    } else {
        let rt = tokio::runtime::Runtime::new()?;
        let exists = rt.block_on(async {
            let docker = Docker::connect_with_local_defaults().ok()?;
            Some(docker.inspect_container(&doomed_handle, None).await.is_ok())
        });
        ensure(exists == Some(true), || {
            format!("container {doomed_handle} of the killed harness was gone before the next start (another run's clean-up?)")
        })?;
    }

    // Any start of a backend of this kind cleans up.
    let t_next = Instant::now();
    let next = Up::spawn(kind, scratch(&format!("kill9-{kind}-next")))?.ready()?;
    let t_next = t_next.elapsed();
    if kind == "process" {
        for (what, orphan) in &mut orphans {
            let status = orphan.ended(Duration::from_secs(5))?;
            ensure(status.is_some_and(|s| s.signal() == Some(libc::SIGKILL)), || {
                format!("the marked localstack {what} was not killed by the next start: {status:?}")
            })?;
        }
        let pgid: i32 = doomed_handle.parse()?;
        ensure(group_members(pgid).is_empty(), || format!("group {pgid} came back: {:?}", group_members(pgid)))?;
        let live_pgid: i32 = live_handle.parse()?;
        ensure(!group_members(live_pgid).is_empty(), || format!("the live harness's localstack group {live_pgid} was killed"))?;
        let marked_live: Vec<_> = owner::marked_processes().into_iter().filter(|p| p.pgid == live_pgid).collect();
        ensure(marked_live.iter().all(|p| p.owner == live_owner) && !marked_live.is_empty(), || {
            format!("the live localstack group {live_pgid} is not marked as owned by harness {}: {marked_live:?}", live.pid())
        })?;
    } else {
        containers_of(doomed.pid())?;
    }

    // The live harness's backend survived the clean-up and still answers.
    let url = live.info().endpoint_url.clone().ok_or("the live backend has no url")?;
    let health = tokio::runtime::Runtime::new()?.block_on(async {
        let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(5)).build()?;
        http.get(format!("{url}/_localstack/health")).send().await?.json::<serde_json::Value>().await
    });
    let route53 = health.as_ref().map(|h| h["services"]["route53"].as_str().unwrap_or("missing").to_string());
    ensure(matches!(route53.as_deref(), Ok("available" | "running")), || {
        format!("the live harness's {kind} backend at {url} does not answer after the clean-up: {route53:?}")
    })?;

    let (live_dir, next_dir, live_pid, next_pid) = (live.dir.clone(), next.dir.clone(), live.pid(), next.pid());
    let t_down = Instant::now();
    live.interrupt();
    next.interrupt();
    live.exits_ok()?;
    next.exits_ok()?;
    let t_down = t_down.elapsed();
    if kind == "process" {
        for dir in [&live_dir, &next_dir] {
            ensure(localstack_processes_under(dir).is_empty(), || format!("localstack left under {}", dir.display()))?;
        }
    } else {
        containers_of(live_pid)?;
        containers_of(next_pid)?;
    }
    println!(
        "kill -9 of a {kind} harness: checked in {:.1} s (two backends ready {:.1} s, the next start {:.1} s, two Ctrl-C teardowns {:.1} s)",
        started.elapsed().as_secs_f64(),
        t_ready.as_secs_f64(),
        t_next.as_secs_f64(),
        t_down.as_secs_f64()
    );
    Ok(())
}

/// Live (non-zombie) processes in process group `pgid`.
fn group_members(pgid: i32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, r)| r.split_whitespace().collect()).unwrap_or_default();
        if fields.get(2).and_then(|g| g.parse::<i32>().ok()) == Some(pgid) && fields.first() != Some(&"Z") {
            out.push(pid);
        }
    }
    out
}

fn panic_teardown(_: &Shared) -> Result<(), Failed> {
    let dir = scratch("panic-teardown");
    let config = BackendConfig::new(BackendKind::Container, &dir);
    let rt = tokio::runtime::Runtime::new()?;
    let seen = Arc::new(std::sync::Mutex::new(None));
    let seen2 = seen.clone();
    let result: dnschaos::Result<()> = rt.block_on(with_backend(&config, move |session| async move {
        *seen2.lock().unwrap() = session.backend.info().handle.clone();
        panic!("deliberate panic inside a session");
    }));
    let err = result.err().ok_or("a panicking body must yield an error")?;
    ensure(err.to_string().contains("deliberate panic"), || format!("error does not carry the panic: {err}"))?;
    let id = seen.lock().unwrap().clone().ok_or("body never saw a container id")?;
    let exists = rt.block_on(async {
        match Docker::connect_with_local_defaults() {
            Ok(d) => d.inspect_container(&id, None).await.is_ok(),
            Err(_) => false,
        }
    });
    ensure(!exists, || format!("container {id} still exists after a panic"))
}

fn error_teardown(_: &Shared) -> Result<(), Failed> {
    let dir = scratch("error-teardown");
    let config = BackendConfig::new(BackendKind::Process, &dir);
    let rt = tokio::runtime::Runtime::new()?;
    let seen = Arc::new(std::sync::Mutex::new(None));
    let seen2 = seen.clone();
    let result: dnschaos::Result<()> = rt.block_on(with_backend(&config, move |session| async move {
        *seen2.lock().unwrap() = session.backend.info().handle.clone();
        Err(dnschaos::Error::bad_input("deliberate error inside a session"))
    }));
    ensure(result.is_err(), || "the body's error must come back".into())?;
    let pid = seen.lock().unwrap().clone().ok_or("body never saw a pid")?;
    ensure(!pid_alive(&pid), || format!("localstack process {pid} still runs after an error"))?;
    ensure(localstack_processes_under(&dir).is_empty(), || format!("localstack process left under {}", dir.display()))
}

/// Run the CLI and expect exit `code` with a one-line error containing `needle`.
fn bad_input(args: &[&str], code: i32, needle: &str) -> Result<(), Failed> {
    let dir = scratch(&format!("bad-{}", args.join("-").replace(['/', ':', '.'], "_")));
    let mut full: Vec<&str> = args.to_vec();
    if !args.contains(&"bogus") {
        full.extend(["--out", dir.to_str().unwrap()]);
    }
    let out = dnschaos(&full);
    let err = stderr(&out);
    ensure(out.status.code() == Some(code), || format!("expected exit {code}, got {:?}: {err}", out.status.code()))?;
    let error_lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    ensure(error_lines.len() == 1, || format!("expected exactly one error line, got:\n{err}"))?;
    ensure(error_lines[0].contains(needle), || format!("error line lacks {needle:?}: {}", error_lines[0]))?;
    containers_of(0)?;
    ensure(localstack_processes_under(&dir).is_empty(), || "a localstack process was left behind".into())
}

fn port_in_use() -> Result<(), Failed> {
    let holder = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = holder.local_addr()?.port().to_string();
    bad_input(&["conformance", "--backend", "process", "--port", &port], 3, "not free")
}

/// A venv whose python exits at once stands in for a LocalStack that dies during start-up.
fn early_exit() -> Result<(), Failed> {
    let venv = scratch("fake-venv");
    std::fs::create_dir_all(venv.join("bin"))?;
    let python = venv.join("bin/python");
    std::fs::write(&python, "#!/bin/sh\necho 'localstack: cannot start: simulated crash' >&2\nexit 7\n")?;
    std::fs::set_permissions(&python, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    bad_input(&["conformance", "--backend", "process", "--venv", venv.to_str().unwrap()], 3, "exited early")
}

/// No container labelled with `pid` (0: with any dead owner) may exist.
fn containers_of(pid: u32) -> Result<(), Failed> {
    let rt = tokio::runtime::Runtime::new()?;
    let ids = rt.block_on(async {
        let docker = Docker::connect_with_local_defaults().ok()?;
        let filters = std::collections::HashMap::from([(
            "label".to_string(),
            vec![if pid == 0 { format!("{}=dnschaos", dnschaos::backend::OWNER_LABEL) } else { format!("{PID_LABEL}={pid}") }],
        )]);
        let list = docker
            .list_containers(Some(ListContainersOptionsBuilder::new().all(true).filters(&filters).build()))
            .await
            .ok()?;
        Some(
            list.into_iter()
                .filter(|c| {
                    // With pid 0, only containers whose owner process is gone are leaks.
                    pid != 0
                        || c.labels
                            .as_ref()
                            .and_then(|l| l.get(PID_LABEL))
                            .and_then(|p| p.parse::<i32>().ok())
                            .is_none_or(|p| !pid_alive(&p.to_string()))
                })
                .filter_map(|c| c.id)
                .collect::<Vec<_>>(),
        )
    });
    let ids = ids.unwrap_or_default();
    ensure(ids.is_empty(), || format!("containers left behind: {ids:?}"))
}

fn pid_alive(pid: &str) -> bool {
    // A zombie still has /proc/<pid>; look at its state too.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.split_whitespace().nth(2).is_none_or(|s| s != "Z"),
        Err(_) => false,
    }
}

/// LocalStack processes whose file system root lies under `dir`.
fn localstack_processes_under(dir: &Path) -> Vec<u32> {
    let needle = format!("FILESYSTEM_ROOT={}", dir.display());
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        if let Ok(env) = std::fs::read(entry.path().join("environ")) {
            if String::from_utf8_lossy(&env).split('\0').any(|v| v.starts_with(&needle)) && pid_alive(&pid.to_string()) {
                out.push(pid);
            }
        }
    }
    out
}
