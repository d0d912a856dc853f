//! The truth log: what the backend actually held after every committed change batch, as the
//! strict gateway read it back from the backend under the batch's zone lock.
//!
//! Each [`Commit`] records the time, the zone, the change id, the caller, every watched
//! endpoint's active generation (and whether that plan's tree is there), and the resolved
//! answer of every endpoint name and type through `answer::resolve`. The log is written to the
//! run's `truth.jsonl`; the full zone snapshot of each commit also goes to subscribers (the DNS
//! data plane's mirror follows it). Analysis judges invariants and exact empty intervals on it.

use std::io::Write;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::model::ZoneSnapshot;

/// One endpoint's state after a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointTruth {
    /// The endpoint's label (`regional`, `dualstack`).
    pub endpoint: String,
    /// The generation the customer-facing alias points at.
    pub active: Option<u64>,
    /// True when the active generation's tree (its weighted root) exists.
    pub active_tree: bool,
}

/// One name and type's answer after a commit, as Route 53 would give it (every weighted member).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameTruth {
    /// `<endpoint label> <A|AAAA>`, the same name the probes' samples carry.
    pub name: String,
    /// NOERROR with no records.
    pub empty: bool,
    pub addrs: Vec<IpAddr>,
}

/// What the backend held after one committed batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    /// Milliseconds since the run's event-log epoch.
    pub t_ms: u64,
    pub zone: String,
    pub zone_id: String,
    /// The gateway's change id (`initial` for the state found when watching began).
    pub change_id: String,
    /// Who sent the batch (`use1-az1`, `contender`, `harness`).
    pub caller: String,
    pub endpoints: Vec<EndpointTruth>,
    pub answers: Vec<NameTruth>,
    /// Record sets where the backend's listing differs from what the strict simulation
    /// expected (empty when the backend did exactly what Route 53 would have).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<String>,
}

/// A zone's full state at a commit, for followers (the data plane's mirror).
#[derive(Debug, Clone)]
pub struct ZoneState {
    pub t_ms: u64,
    pub snapshot: Arc<ZoneSnapshot>,
}

struct Inner {
    clock: Clock,
    epoch_ms: u64,
    commits: Mutex<Vec<Commit>>,
    sink: Mutex<Option<std::io::BufWriter<std::fs::File>>>,
    tx: broadcast::Sender<ZoneState>,
}

/// The run's truth log. Cloning shares it.
#[derive(Clone)]
pub struct TruthLog {
    inner: Arc<Inner>,
}

impl TruthLog {
    /// A log on `clock` whose t=0 is `epoch_ms` (the event log's epoch).
    pub fn new(clock: Clock, epoch_ms: u64) -> Self {
        let (tx, _) = broadcast::channel(4096);
        TruthLog { inner: Arc::new(Inner { clock, epoch_ms, commits: Mutex::default(), sink: Mutex::new(None), tx }) }
    }

    /// Milliseconds since the epoch, now.
    pub fn now_ms(&self) -> u64 {
        self.inner.clock.epoch_ms().saturating_sub(self.inner.epoch_ms)
    }

    /// Also write every commit as a JSON line to `path` (created or truncated).
    pub fn write_to(&self, path: &Path) -> Result<()> {
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        *self.inner.sink.lock().unwrap_or_else(|p| p.into_inner()) = Some(std::io::BufWriter::new(file));
        Ok(())
    }

    /// Record a commit and hand the zone's state to followers.
    pub fn record(&self, commit: Commit, snapshot: impl Into<Arc<ZoneSnapshot>>) {
        let state = ZoneState { t_ms: commit.t_ms, snapshot: snapshot.into() };
        if let Some(sink) = self.inner.sink.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            if let Ok(line) = serde_json::to_string(&commit) {
                let _ = writeln!(sink, "{line}");
                let _ = sink.flush();
            }
        }
        self.inner.commits.lock().unwrap_or_else(|p| p.into_inner()).push(commit);
        let _ = self.inner.tx.send(state);
    }

    /// Every commit so far, in order.
    pub fn snapshot(&self) -> Vec<Commit> {
        self.inner.commits.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Zone states from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ZoneState> {
        self.inner.tx.subscribe()
    }
}

/// Read a `truth.jsonl`, naming the line of any bad entry.
pub fn read_log(path: &Path) -> Result<Vec<Commit>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| Error::bad_input(format!("{}:{}: not a truth commit: {e}", path.display(), i + 1))))
        .collect()
}
