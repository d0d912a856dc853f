//! Which harness process owns a backend, in a form that survives the harness.
//!
//! A backend outlives a harness that is killed with SIGKILL unless something else removes it.
//! Every backend we start is marked with its owner: the harness's pid, the pid's start time
//! (field 22 of `/proc/<pid>/stat`, clock ticks since boot) and the harness's pid namespace.
//! Containers carry them as labels, LocalStack host processes as environment variables (readable
//! in `/proc/<pid>/environ` and inherited by every process LocalStack starts). The next start of
//! a backend removes what belongs to owners that are gone.
//!
//! The start time is what keeps a reused pid from passing for the dead owner: a new process with
//! the same pid has another start time. The namespace is what keeps a live harness from passing
//! for a dead one: a harness in another pid namespace has pids that mean nothing here, so its
//! backends are never judged (they are left alone).

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// Environment variable (process backend) carrying the owner's pid.
pub const ENV_OWNER_PID: &str = "DNSCHAOS_OWNER_PID";
/// Environment variable carrying the owner's start time (clock ticks since boot).
pub const ENV_OWNER_START: &str = "DNSCHAOS_OWNER_START";
/// Environment variable carrying the owner's pid namespace, e.g. `pid:[4026531836]`.
pub const ENV_OWNER_PIDNS: &str = "DNSCHAOS_OWNER_PIDNS";
/// Container label carrying the owner's start time (the pid is in [`super::PID_LABEL`]).
pub const START_LABEL: &str = "org.dnschaos.pid-start";
/// Container label carrying the owner's pid namespace.
pub const PIDNS_LABEL: &str = "org.dnschaos.pidns";

/// A harness process, identified so that a reused pid is not taken for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Owner {
    pub pid: u32,
    /// Field 22 of `/proc/<pid>/stat`: when the process started, in clock ticks since boot.
    pub start_ticks: u64,
    /// `readlink /proc/<pid>/ns/pid`, e.g. `pid:[4026531836]`; empty when unreadable.
    pub pidns: String,
}

/// What the owner of a backend is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerState {
    /// The same process (pid and start time) still runs.
    Alive,
    /// No such process, a zombie, or the pid now belongs to a process that started later.
    Gone,
    /// Recorded in another pid namespace (or unreadable here): we cannot tell, so we keep it.
    Unknown,
}

impl Owner {
    /// This process.
    pub fn current() -> std::io::Result<Owner> {
        Owner::of_pid(std::process::id())
    }

    /// A running process, read from `/proc`. In the caller's pid namespace.
    pub fn of_pid(pid: u32) -> std::io::Result<Owner> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        let start_ticks = stat_start_ticks(&stat).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("/proc/{pid}/stat has no start time"))
        })?;
        Ok(Owner { pid, start_ticks, pidns: own_pidns() })
    }

    /// The environment variables that mark a LocalStack host process as ours.
    pub fn env_markers(&self) -> [(&'static str, String); 3] {
        [
            (ENV_OWNER_PID, self.pid.to_string()),
            (ENV_OWNER_START, self.start_ticks.to_string()),
            (ENV_OWNER_PIDNS, self.pidns.clone()),
        ]
    }

    /// The owner recorded in a process environment (`/proc/<pid>/environ` split at NULs);
    /// `None` when the process carries no marker or an unreadable one.
    pub fn from_env<'a>(vars: impl IntoIterator<Item = &'a str>) -> Option<Owner> {
        let mut found: HashMap<&str, &str> = HashMap::new();
        for var in vars {
            if let Some((k, v)) = var.split_once('=') {
                if k == ENV_OWNER_PID || k == ENV_OWNER_START || k == ENV_OWNER_PIDNS {
                    found.insert(k, v);
                }
            }
        }
        Some(Owner {
            pid: found.get(ENV_OWNER_PID)?.parse().ok()?,
            start_ticks: found.get(ENV_OWNER_START)?.parse().ok()?,
            pidns: found.get(ENV_OWNER_PIDNS)?.to_string(),
        })
    }

    /// The owner recorded in a container's labels; `None` without the start-time label
    /// (containers started by an older dnschaos carry only the pid).
    pub fn from_labels(labels: &HashMap<String, String>) -> Option<Owner> {
        Some(Owner {
            pid: labels.get(super::PID_LABEL)?.parse().ok()?,
            start_ticks: labels.get(START_LABEL)?.parse().ok()?,
            pidns: labels.get(PIDNS_LABEL)?.clone(),
        })
    }

    /// Is this owner still running? Judged only in our own pid namespace.
    pub fn state(&self) -> OwnerState {
        let ours = own_pidns();
        if self.pidns.is_empty() || ours.is_empty() || self.pidns != ours {
            return OwnerState::Unknown;
        }
        match std::fs::read_to_string(format!("/proc/{}/stat", self.pid)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => OwnerState::Gone,
            Err(_) => OwnerState::Unknown,
            Ok(stat) => match (stat_state(&stat), stat_start_ticks(&stat)) {
                (Some('Z' | 'X'), _) => OwnerState::Gone,
                (_, Some(start)) if start != self.start_ticks => OwnerState::Gone,
                (_, Some(_)) => OwnerState::Alive,
                (_, None) => OwnerState::Unknown,
            },
        }
    }
}

/// Our pid namespace, e.g. `pid:[4026531836]`; empty when `/proc/self/ns/pid` is unreadable.
pub fn own_pidns() -> String {
    std::fs::read_link("/proc/self/ns/pid").map(|p| p.display().to_string()).unwrap_or_default()
}

/// The fields after the command name of `/proc/<pid>/stat`; the name may hold spaces and
/// parentheses, so split after the last ')'. Index 0 is field 3 (state).
fn stat_fields(stat: &str) -> Vec<&str> {
    stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default()
}

fn stat_state(stat: &str) -> Option<char> {
    stat_fields(stat).first().and_then(|s| s.chars().next())
}

/// Field 5: the process group.
fn stat_pgid(stat: &str) -> Option<i32> {
    stat_fields(stat).get(2).and_then(|s| s.parse().ok())
}

/// Field 22: start time in clock ticks since boot.
fn stat_start_ticks(stat: &str) -> Option<u64> {
    stat_fields(stat).get(19).and_then(|s| s.parse().ok())
}

/// A process that carries an owner marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkedProcess {
    pub pid: u32,
    pub pgid: i32,
    pub owner: Owner,
}

/// Every live (non-zombie) process whose environment carries an owner marker.
pub fn marked_processes() -> Vec<MarkedProcess> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return out };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        if let Some(p) = marked_process(&entry.path(), pid) {
            out.push(p);
        }
    }
    out
}

fn marked_process(dir: &Path, pid: u32) -> Option<MarkedProcess> {
    // Cheap test first: most processes carry no marker.
    let env = std::fs::read(dir.join("environ")).ok()?;
    let env = String::from_utf8_lossy(&env);
    if !env.contains(ENV_OWNER_PID) {
        return None;
    }
    let owner = Owner::from_env(env.split('\0'))?;
    let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
    if matches!(stat_state(&stat), Some('Z' | 'X')) {
        return None;
    }
    Some(MarkedProcess { pid, pgid: stat_pgid(&stat)?, owner })
}

/// Kill every marked process whose owner is gone, with its whole process group when the group's
/// leader carries the same owner (LocalStack's group, started by us). Waits up to `wait` until
/// they have exited; returns the pids that were killed.
pub fn reap_orphans(wait: Duration) -> Vec<u32> {
    let marked = marked_processes();
    let mut states: HashMap<Owner, OwnerState> = HashMap::new();
    let mut killed = Vec::new();
    let mut groups = Vec::new();
    for p in &marked {
        let state = *states.entry(p.owner.clone()).or_insert_with(|| p.owner.state());
        if state != OwnerState::Gone {
            continue;
        }
        let leader_is_ours = marked.iter().any(|l| l.pid as i32 == p.pgid && l.owner == p.owner);
        if leader_is_ours && !groups.contains(&p.pgid) {
            tracing::warn!(
                pgid = p.pgid,
                owner_pid = p.owner.pid,
                "killing a leftover localstack process group whose dnschaos harness is gone"
            );
            // SAFETY: plain syscall; the group's leader was alive and marked as ours just now.
            unsafe { libc::kill(-p.pgid, libc::SIGKILL) };
            groups.push(p.pgid);
        }
        // SAFETY: plain syscall on a process that was alive and marked as ours just now.
        unsafe { libc::kill(p.pid as i32, libc::SIGKILL) };
        killed.push(p.pid);
    }
    let clock = crate::clock::Clock::wall();
    let started = clock.now();
    while clock.since(started) < wait && killed.iter().any(|pid| process_runs(*pid)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    killed
}

/// True while `/proc/<pid>` exists and is not a zombie.
pub fn process_runs(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !matches!(stat_state(&stat), Some('Z' | 'X')),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_survive_spaces_and_parentheses_in_the_name() {
        // Real layout: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt
        // cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime ...
        let stat = "4242 (py (x) y) S 1 4240 4240 0 -1 4194560 100 0 0 0 5 6 0 0 20 0 3 0 987654 1000 10";
        assert_eq!(stat_state(stat), Some('S'));
        assert_eq!(stat_pgid(stat), Some(4240));
        assert_eq!(stat_start_ticks(stat), Some(987654));
        assert_eq!(stat_start_ticks("garbage"), None);
    }

    #[test]
    fn this_process_is_alive_and_a_reused_pid_is_not() {
        let me = Owner::current().expect("read /proc/self");
        assert_eq!(me.state(), OwnerState::Alive);
        let reused = Owner { start_ticks: me.start_ticks + 1, ..me.clone() };
        assert_eq!(reused.state(), OwnerState::Gone, "same pid, later start: another process");
        let elsewhere = Owner { pidns: "pid:[1]".into(), ..me.clone() };
        assert_eq!(elsewhere.state(), OwnerState::Unknown, "another namespace is never judged");
        let unmarked_ns = Owner { pidns: String::new(), ..me };
        assert_eq!(unmarked_ns.state(), OwnerState::Unknown);
    }

    #[test]
    fn an_exited_child_is_gone() {
        let mut child = std::process::Command::new("true").spawn().expect("spawn true");
        let owner = Owner::of_pid(child.id()).expect("read the child's stat");
        child.wait().expect("wait for true");
        assert_eq!(owner.state(), OwnerState::Gone);
    }

    #[test]
    fn markers_round_trip_through_env_and_labels() {
        let me = Owner::current().unwrap();
        let env: Vec<String> = me.env_markers().iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut vars: Vec<&str> = vec!["PATH=/bin", "OVERRIDE_IN_DOCKER=0"];
        vars.extend(env.iter().map(String::as_str));
        assert_eq!(Owner::from_env(vars), Some(me.clone()));
        assert_eq!(Owner::from_env(["PATH=/bin", "DNSCHAOS_OWNER_PID=12"]), None, "incomplete marker");
        assert_eq!(Owner::from_env(["DNSCHAOS_OWNER_PID=x", "DNSCHAOS_OWNER_START=1", "DNSCHAOS_OWNER_PIDNS=p"]), None);
        let labels = HashMap::from([
            (super::super::PID_LABEL.to_string(), me.pid.to_string()),
            (START_LABEL.to_string(), me.start_ticks.to_string()),
            (PIDNS_LABEL.to_string(), me.pidns.clone()),
        ]);
        assert_eq!(Owner::from_labels(&labels), Some(me));
        let legacy = HashMap::from([(super::super::PID_LABEL.to_string(), "12".to_string())]);
        assert_eq!(Owner::from_labels(&legacy), None);
    }
}
