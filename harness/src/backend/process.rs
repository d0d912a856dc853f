//! LocalStack as a host Python process, for machines without Docker.
//!
//! Installed into a project-local venv from `fixtures/localstack/requirements.lock` by
//! `fixtures/localstack/install-venv.sh`. Always started with `OVERRIDE_IN_DOCKER=0 DNS_ADDRESS=0`:
//! LocalStack that believes it runs in a container rewrites the machine's `/etc/resolv.conf`.
//!
//! Nothing outlives the harness, however it dies:
//! - LocalStack leads its own process group and gets `PR_SET_PDEATHSIG` = SIGKILL (with SIGTERM,
//!   LocalStack whose harness had died kept running for more than 8 s).
//! - A watchdog (`/bin/sh`) in the same group reads a pipe whose write end only the harness holds.
//!   When the harness dies, even by SIGKILL, the read sees end-of-file and the watchdog SIGKILLs
//!   its own group, which reaches the processes LocalStack started, not only the one PDEATHSIG
//!   reaches. `kill 0` can only ever hit that group, so a recycled group id is never signalled.
//! - Every process of the group carries its owner (pid, start time, pid namespace; see
//!   [`super::owner`]) in its environment, and every start of a process backend first kills the
//!   marked groups whose owner is gone (say, a watchdog that was frozen by a backend pause).

use std::net::TcpListener;
use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;

use super::owner::{self, Owner};
use super::{Backend, BackendConfig, BackendInfo, LogTail, LOCALSTACK_VERSION};
use crate::error::{Error, Result};

/// The watchdog: ignore the group's SIGTERM (graceful stops), wait for end-of-file on stdin (the
/// harness is gone or let go), then SIGKILL the whole process group, itself included.
const WATCHDOG_SCRIPT: &str = "trap '' TERM INT HUP; while read -r line; do :; done; kill -KILL 0";

pub struct ProcessBackend {
    info: BackendInfo,
    /// LocalStack, the leader of its process group. Unreaped while `Some`, so the group id
    /// cannot be recycled while we may signal it.
    child: tokio::sync::Mutex<Option<Child>>,
    /// Write end of the watchdog's stdin; nobody else holds it (close-on-exec). Dropping it
    /// makes the watchdog kill the group.
    lifeline: std::sync::Mutex<Option<OwnedFd>>,
    /// The watchdog process, a member of LocalStack's group.
    watchdog: tokio::sync::Mutex<Option<Child>>,
    pgid: std::sync::atomic::AtomicI32,
    tail: LogTail,
}

impl ProcessBackend {
    pub async fn start(config: &BackendConfig) -> Result<Self> {
        let python = config.venv.join("bin").join("python");
        if !python.exists() {
            return Err(Error::setup(format!(
                "no localstack venv at {} (hint: run fixtures/localstack/install-venv.sh, or pass --venv)",
                config.venv.display()
            )));
        }
        let port = match config.port {
            Some(port) => {
                TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
                    Error::setup(format!(
                        "port {port} on 127.0.0.1 is not free for localstack: {e} (hint: pass another --port, or omit it to pick a free one)"
                    ))
                })?;
                port
            }
            None => free_port()?,
        };
        // Leftovers of harnesses that died (their watchdog could not act) go first.
        let reaped = tokio::task::spawn_blocking(|| owner::reap_orphans(Duration::from_secs(3)))
            .await
            .unwrap_or_default();
        if !reaped.is_empty() {
            tracing::warn!(pids = ?reaped, "killed leftover localstack processes of dead dnschaos runs");
        }
        let me = Owner::current().map_err(|e| {
            Error::setup(format!(
                "cannot read this process's start time from /proc/self/stat: {e} (hint: the process backend needs /proc)"
            ))
        })?;
        let data_dir = config.run_dir.join("localstack-data");
        let tmp_dir = data_dir.join("tmp");
        std::fs::create_dir_all(&tmp_dir).map_err(|e| Error::io(&tmp_dir, e))?;
        let log_path = config.run_dir.join("backend.log");
        let log = tokio::fs::File::create(&log_path).await.map_err(|e| Error::io(&log_path, e))?;

        let clock = crate::clock::Clock::wall();
        let started = clock.now();
        let mut cmd = Command::new(&python);
        cmd.args(["-m", "localstack.runtime.main"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &data_dir)
            .env("TMP", &tmp_dir)
            // Never touch the machine's resolver configuration.
            .env("OVERRIDE_IN_DOCKER", "0")
            .env("DNS_ADDRESS", "0")
            .env("GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
            .env("SERVICES", "route53")
            .env("EAGER_SERVICE_LOADING", "1")
            .env("LOCALSTACK_VOLUME_DIR", data_dir.join("volume"))
            .env("FILESYSTEM_ROOT", data_dir.join("filesystem"))
            .env("DISABLE_EVENTS", "1")
            .env("SKIP_SSL_CERT_DOWNLOAD", "1")
            .env("PYTHONUNBUFFERED", "1")
            .envs(me.env_markers())
            .current_dir(&data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        // PDEATHSIG fires when the *thread* that spawned the child ends: spawn from a thread that
        // lives as long as the backend (a runtime worker or the thread that block_on runs on).
        let parent = std::process::id();
        // SAFETY: prctl and getppid are async-signal-safe; they only ask the kernel to SIGKILL the
        // child when the harness dies, and catch a harness that died before the request.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() as u32 != parent {
                    return Err(std::io::Error::other("the harness exited while starting localstack"));
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|e| {
            Error::setup(format!("cannot start {}: {e} (hint: reinstall the venv)", python.display()))
        })?;
        let pgid = child.id().map(|id| id as i32).unwrap_or(0);
        let (watchdog, lifeline) = match spawn_watchdog(pgid, &me) {
            Ok(w) => w,
            Err(e) => {
                // SAFETY: our own group; the leader is not reaped yet, so the id is still ours.
                unsafe { libc::kill(-pgid, libc::SIGKILL) };
                let _ = child.wait().await;
                return Err(e);
            }
        };

        let tail = LogTail::default();
        let (ready_tx, mut ready_rx) = watch::channel(false);
        let log = std::sync::Arc::new(tokio::sync::Mutex::new(log));
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        tokio::spawn(pump(stdout, log.clone(), tail.clone(), Some(ready_tx)));
        tokio::spawn(pump(stderr, log, tail.clone(), None));

        let mut backend = ProcessBackend {
            info: BackendInfo {
                kind: "process".into(),
                source: config.venv.display().to_string(),
                version: Some(LOCALSTACK_VERSION.to_string()),
                endpoint_url: Some(format!("http://127.0.0.1:{port}")),
                real_aws: false,
                ready_ms: 0,
                log_path: Some(log_path.clone()),
                handle: Some(pgid.to_string()),
            },
            child: tokio::sync::Mutex::new(None),
            lifeline: std::sync::Mutex::new(Some(lifeline)),
            watchdog: tokio::sync::Mutex::new(Some(watchdog)),
            pgid: std::sync::atomic::AtomicI32::new(pgid),
            tail: tail.clone(),
        };
        let deadline = tokio::time::sleep(config.startup_timeout);
        tokio::pin!(deadline);
        // Set when stdout closed without "Ready.": LocalStack is exiting, so wait for its status.
        let mut stdout_closed = false;
        loop {
            // Biased: an exit is reported before readiness or the deadline seen at the same time.
            tokio::select! {
                biased;
                status = child.wait() => {
                    let status = status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                    // Give the pumps a moment to flush the last lines.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    return Err(Error::setup(format!(
                        "localstack process exited early ({status}); last log line: {:?} (hint: see {})",
                        tail.last(1).first().cloned().unwrap_or_default(),
                        log_path.display()
                    )));
                }
                changed = ready_rx.changed(), if !stdout_closed => {
                    match changed {
                        Ok(()) if *ready_rx.borrow() => break,
                        Ok(()) => {}
                        Err(_) => stdout_closed = true,
                    }
                }
                _ = &mut deadline => {
                    *backend.child.get_mut() = Some(child);
                    backend.kill_group().await;
                    return Err(Error::setup(format!(
                        "localstack process did not print \"Ready.\" within {}s (hint: see {})",
                        config.startup_timeout.as_secs(), log_path.display()
                    )));
                }
            }
        }
        *backend.child.get_mut() = Some(child);
        let url = backend.info.endpoint_url.clone().expect("process backend has a url");
        if let Err(e) = super::wait_route53_healthy(&url, Duration::from_secs(30)).await {
            backend.kill_group().await;
            return Err(e);
        }
        backend.info.ready_ms = clock.since(started).as_millis() as u64;
        Ok(backend)
    }

    fn signal_group(&self, signal: i32) -> Result<()> {
        let pgid = self.pgid.load(std::sync::atomic::Ordering::SeqCst);
        if pgid <= 0 {
            return Ok(());
        }
        // SAFETY: plain syscall on our own process group.
        let rc = unsafe { libc::kill(-pgid, signal) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::ESRCH) {
                return Err(Error::setup(format!(
                    "cannot signal localstack process group {pgid}: {err}"
                )));
            }
        }
        Ok(())
    }

    /// SIGTERM the whole process group, SIGKILL it after 10 s, reap LocalStack, then let the
    /// watchdog kill whatever is left of the group and wait for it.
    async fn kill_group(&self) {
        let Some(mut child) = self.child.lock().await.take() else { return };
        let _ = self.signal_group(libc::SIGCONT);
        let _ = self.signal_group(libc::SIGTERM);
        if tokio::time::timeout(Duration::from_secs(10), child.wait()).await.is_err() {
            tracing::warn!("localstack ignored SIGTERM for 10s: killing it");
            // Not reaped yet: the group id is still ours.
            let _ = self.signal_group(libc::SIGKILL);
        }
        let _ = child.wait().await;
        // Reaped: from here on the group id may be recycled, so never signal it again ourselves.
        self.pgid.store(0, std::sync::atomic::Ordering::SeqCst);
        self.lifeline.lock().expect("lifeline lock").take();
        if let Some(mut watchdog) = self.watchdog.lock().await.take() {
            if tokio::time::timeout(Duration::from_secs(5), watchdog.wait()).await.is_err() {
                tracing::warn!("the localstack watchdog did not exit within 5s of its lifeline closing: killing it");
                let _ = watchdog.kill().await;
            }
        }
    }
}

/// Start the watchdog in process group `pgid`; returns it and the write end of its stdin.
fn spawn_watchdog(pgid: i32, owner: &Owner) -> Result<(Child, OwnedFd)> {
    let (read, write) = lifeline_pipe()
        .map_err(|e| Error::setup(format!("cannot create the localstack watchdog's pipe: {e} (hint: too many open files?)")))?;
    let watchdog = Command::new("/bin/sh")
        .args(["-c", WATCHDOG_SCRIPT])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(owner.env_markers())
        .stdin(Stdio::from(read))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(pgid)
        .spawn()
        .map_err(|e| {
            Error::setup(format!(
                "cannot start the localstack watchdog /bin/sh in process group {pgid}: {e} (hint: the process backend needs /bin/sh)"
            ))
        })?;
    Ok((watchdog, write))
}

/// A pipe with close-on-exec on both ends: no child we start keeps the write end open.
fn lifeline_pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two fresh descriptors into `fds`, which we then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nothing else.
    Ok(unsafe { (std::os::fd::FromRawFd::from_raw_fd(fds[0]), std::os::fd::FromRawFd::from_raw_fd(fds[1])) })
}

#[async_trait]
impl Backend for ProcessBackend {
    fn info(&self) -> &BackendInfo {
        &self.info
    }

    async fn pause(&self) -> Result<()> {
        self.signal_group(libc::SIGSTOP)
    }

    async fn resume(&self) -> Result<()> {
        self.signal_group(libc::SIGCONT)
    }

    async fn log_tail(&self, n: usize) -> Vec<String> {
        self.tail.last(n)
    }

    async fn shutdown(&self) -> Result<()> {
        self.kill_group().await;
        Ok(())
    }
}

impl Drop for ProcessBackend {
    fn drop(&mut self) {
        if self.child.get_mut().is_some() {
            // Error, panic or cancellation: no time for a graceful stop. LocalStack is not reaped,
            // so the group id is still ours.
            let _ = self.signal_group(libc::SIGCONT);
            let _ = self.signal_group(libc::SIGKILL);
        }
        // The watchdog sees end-of-file and kills anything left in the group; it is not killed
        // on drop (that could beat it to it), and tokio reaps it once it has exited.
        if let Ok(lifeline) = self.lifeline.get_mut() {
            lifeline.take();
        }
    }
}

/// Copy a child's output into the log file and the tail; flag "Ready." when seen.
async fn pump<R: AsyncRead + Unpin>(
    reader: R,
    log: std::sync::Arc<tokio::sync::Mutex<tokio::fs::File>>,
    tail: LogTail,
    ready: Option<watch::Sender<bool>>,
) {
    let mut lines = BufReader::new(reader).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        {
            let mut file = log.lock().await;
            let _ = file.write_all(line.as_bytes()).await;
            let _ = file.write_all(b"\n").await;
            let _ = file.flush().await;
        }
        tail.push(&line);
        if line.trim() == "Ready." {
            if let Some(tx) = &ready {
                let _ = tx.send(true);
            }
        }
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| Error::setup(format!("cannot find a free port on 127.0.0.1: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::setup(format!("cannot read a free port: {e}")))
}

