//! The run event log: every planner, enactor and fault action, timestamped, one JSON object per
//! line. Later analysis reads only this log and the probe log.
//!
//! Timestamps are wall-clock milliseconds since the run's epoch (`t_ms`), so that enactors
//! running as subprocesses stamp their events on the same axis as the in-process ones.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::error::{Error, Result};
use crate::clock::Clock;

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Milliseconds since the run's epoch.
    pub t_ms: u64,
    /// Who did it: `planner`, `enactor:<az>`, `fault:<id>`, `harness`.
    pub source: String,
    pub event: EventKind,
}

/// What happened. Generations are plan numbers; `endpoint` is the endpoint's label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum EventKind {
    PlanEmitted { generation: u64, lbs: Vec<String>, valid_until_ms: u64 },
    EnactorStarted { implementation: String },
    EnactorStopped { reason: String },
    PlanPicked { generation: u64 },
    StalenessCheck { generation: u64, endpoint: Option<String>, active: Option<u64>, passed: bool, reason: String },
    Checkpoint { point: String, generation: u64, held_ms: u64 },
    LockBusy { endpoint: String, holder: String, attempt: u32, backoff_ms: u64 },
    BatchSent { endpoint: String, generation: u64, purpose: String, changes: usize, attempt: u32 },
    BatchCommitted { endpoint: String, generation: u64, purpose: String, change_id: String, latency_ms: u64 },
    BatchRejected {
        endpoint: String,
        generation: u64,
        purpose: String,
        code: String,
        message: String,
        attempt: u32,
        backoff_ms: u64,
        latency_ms: u64,
    },
    AliasFlipped { endpoint: String, from: Option<u64>, to: u64, rollback: Option<u64> },
    CleanupDeleted { endpoint: String, generations: Vec<u64>, active: Option<u64> },
    PassDone { generation: u64, outcome: String },
    Alarm { endpoint: Option<String>, reason: String },
    Stuck { endpoint: String, reason: String },
    Frozen { endpoint: String, reason: String },
    Unfrozen { endpoint: String },
    TookOver { reason: String },
    FaultStarted { id: String, kind: String, target: String },
    FaultEnded { id: String, kind: String, target: String },
    Note { message: String },
}

struct Inner {
    clock: Clock,
    epoch_ms: u64,
    events: Mutex<Vec<Event>>,
    sink: Mutex<Option<Box<dyn Write + Send>>>,
    tx: broadcast::Sender<Event>,
}

/// A shared, append-only event log. Cloning shares it.
#[derive(Clone)]
pub struct EventLog {
    inner: Arc<Inner>,
}

impl EventLog {
    /// A log on `clock` whose t=0 is `epoch_ms` (wall clock, so that child processes, which
    /// make clocks of their own, share the axis).
    pub fn new(clock: Clock, epoch_ms: u64) -> Self {
        let (tx, _) = broadcast::channel(4096);
        EventLog { inner: Arc::new(Inner { clock, epoch_ms, events: Mutex::default(), sink: Mutex::new(None), tx }) }
    }

    /// A log on `clock` starting now.
    pub fn starting_now(clock: Clock) -> Self {
        let epoch = clock.epoch_ms();
        Self::new(clock, epoch)
    }

    /// The run's clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    pub fn epoch_ms(&self) -> u64 {
        self.inner.epoch_ms
    }

    /// Milliseconds since the epoch, now.
    pub fn now_ms(&self) -> u64 {
        self.inner.clock.epoch_ms().saturating_sub(self.inner.epoch_ms)
    }

    /// Also write every event as a JSON line to `path` (created or truncated).
    pub fn write_to(&self, path: &Path) -> Result<()> {
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        self.write_lines_to(Box::new(std::io::BufWriter::new(file)));
        Ok(())
    }

    /// Also write every event as a JSON line to `sink` (e.g. stdout of a subprocess enactor).
    pub fn write_lines_to(&self, sink: Box<dyn Write + Send>) {
        let mut guard = self.inner.sink.lock().expect("event sink");
        *guard = Some(sink);
    }

    /// Record an event that happens now.
    pub fn emit(&self, source: &str, event: EventKind) {
        self.record(Event { t_ms: self.now_ms(), source: source.to_string(), event });
    }

    /// Record an event stamped elsewhere (a subprocess enactor's line).
    pub fn record(&self, event: Event) {
        tracing::debug!(t_ms = event.t_ms, source = %event.source, event = ?event.event);
        if let Some(sink) = self.inner.sink.lock().expect("event sink").as_mut() {
            if let Ok(line) = serde_json::to_string(&event) {
                let _ = writeln!(sink, "{line}");
                let _ = sink.flush();
            }
        }
        self.inner.events.lock().expect("event log").push(event.clone());
        let _ = self.inner.tx.send(event);
    }

    /// Every event so far, in recording order.
    pub fn snapshot(&self) -> Vec<Event> {
        self.inner.events.lock().expect("event log").clone()
    }

    /// Events recorded from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.tx.subscribe()
    }

    /// Wait until an event matching `pred` has been recorded (including earlier ones), or time out.
    pub async fn wait_for(&self, timeout: std::time::Duration, pred: impl Fn(&Event) -> bool) -> Option<Event> {
        let mut rx = self.subscribe();
        if let Some(e) = self.snapshot().into_iter().find(|e| pred(e)) {
            return Some(e);
        }
        let wait = async {
            loop {
                match rx.recv().await {
                    Ok(e) if pred(&e) => return Some(e),
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        if let Some(e) = self.snapshot().into_iter().find(|e| pred(e)) {
                            return Some(e);
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.ok().flatten()
    }
}

/// Read a JSON-lines event log, naming the line of any bad entry.
pub fn read_log(path: &Path) -> Result<Vec<Event>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| Error::bad_input(format!("{}:{}: not an event: {e}", path.display(), i + 1)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_as_tagged_json_lines() {
        let e = Event {
            t_ms: 12,
            source: "enactor:use1-az1".into(),
            event: EventKind::AliasFlipped { endpoint: "regional".into(), from: Some(3), to: 4, rollback: Some(3) },
        };
        let line = serde_json::to_string(&e).unwrap();
        assert!(line.contains(r#""type":"alias-flipped""#), "{line}");
        assert_eq!(serde_json::from_str::<Event>(&line).unwrap(), e);
    }
}
