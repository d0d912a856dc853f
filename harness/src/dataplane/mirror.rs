//! The mirror: keeps a data plane's zones in step with the control plane, late by a
//! propagation delay, as Route 53's name servers are.
//!
//! Two ways: [`Mirror::follow`] takes every committed state from the truth log the gateway
//! writes (exact to the change: no state is missed, however short); [`Mirror::start`] polls the
//! Route 53 API (for a backend without the gateway, such as real AWS: states shorter than a
//! poll are never seen).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use super::zones::ZoneTable;
use crate::clock::Clock;
use crate::model::ZoneSnapshot;
use crate::route53::Route53;
use crate::route53::convert::SdkSnapshot;
use crate::truth::{TruthLog, ZoneState};

/// How the mirror polls and how late it publishes.
#[derive(Debug, Clone)]
pub struct MirrorConfig {
    /// Time between two polls of a zone (`ListResourceRecordSets`, all pages). Default 100 ms.
    /// A poll that takes longer delays the next one; polls never overlap.
    pub poll_interval: Duration,
    /// How long after it was read a snapshot becomes visible. Default 0. Route 53 takes up to
    /// about 60 s to propagate a change to all its name servers.
    pub propagation_delay: Duration,
    /// The run's clock (default: a wall clock of its own).
    pub clock: Clock,
}

impl Default for MirrorConfig {
    fn default() -> Self {
        MirrorConfig { poll_interval: Duration::from_millis(100), propagation_delay: Duration::ZERO, clock: Clock::wall() }
    }
}

/// A hosted zone to mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirroredZone {
    /// Hosted zone id, bare (`Z123`) or with `/hostedzone/`.
    pub id: String,
    /// The zone's name, e.g. `r1.dnschaos.test.`.
    pub name: String,
}

impl MirroredZone {
    pub fn new(id: &str, name: &str) -> Self {
        MirroredZone { id: id.to_string(), name: crate::model::zone_normalize(name) }
    }
}

/// What the mirror has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MirrorStats {
    /// Successful zone reads.
    pub polls: u64,
    /// Failed zone reads (the last good snapshot stayed in service).
    pub errors: u64,
    /// Snapshots made visible.
    pub published: u64,
    /// The latest error, as `zone: error`.
    pub last_error: Option<String>,
}

/// A running mirror. Dropping it stops the task; [`Mirror::stop`] also waits for it.
pub struct Mirror {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    stats: Arc<Mutex<MirrorStats>>,
}

impl Mirror {
    /// Start mirroring `zones` from `r53` into `table`. Must be called inside a tokio runtime.
    pub fn start(r53: Route53, table: ZoneTable, zones: Vec<MirroredZone>, config: MirrorConfig) -> Mirror {
        let (stop, stopped) = watch::channel(false);
        let stats = Arc::new(Mutex::new(MirrorStats::default()));
        let task = tokio::spawn(run(r53, table, zones, config, stopped, stats.clone()));
        Mirror { stop, task: Some(task), stats }
    }

    /// Follow `truth`'s commits of `zones` into `table`, each visible `propagation_delay` after
    /// its commit. Subscribe before the zones are watched, so that their initial states arrive.
    pub fn follow(truth: &TruthLog, table: ZoneTable, zones: Vec<MirroredZone>, config: MirrorConfig) -> Mirror {
        let (stop, stopped) = watch::channel(false);
        let stats = Arc::new(Mutex::new(MirrorStats::default()));
        let task = tokio::spawn(follow(truth.subscribe(), table, zones, config, stopped, stats.clone()));
        Mirror { stop, task: Some(task), stats }
    }

    pub fn stats(&self) -> MirrorStats {
        self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Stop polling (an API call in flight is abandoned); pending snapshots are not published.
    pub async fn stop(mut self) {
        // A send error means the task has already ended; then there is nothing to signal.
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            if let Err(e) = task.await {
                if e.is_panic() {
                    tracing::error!(error = %e, "the dns mirror task panicked");
                }
            }
        }
    }
}

impl Drop for Mirror {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// A snapshot waiting for its propagation delay.
struct Pending {
    due: Instant,
    snapshot: std::sync::Arc<ZoneSnapshot>,
}

async fn run(
    r53: Route53,
    table: ZoneTable,
    zones: Vec<MirroredZone>,
    config: MirrorConfig,
    mut stopped: watch::Receiver<bool>,
    stats: Arc<Mutex<MirrorStats>>,
) {
    let mut ticker = tokio::time::interval(config.poll_interval.max(Duration::from_millis(1)));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut pending: VecDeque<Pending> = VecDeque::new();
    // What was last read per zone: unchanged reads are not queued again.
    let mut last_read: Vec<Option<ZoneSnapshot>> = vec![None; zones.len()];
    loop {
        let next_due = pending.front().map(|p| p.due);
        tokio::select! {
            biased;
            _ = stopped.changed() => return,
            _ = sleep_until_some(next_due) => {}
            _ = ticker.tick() => {
                tokio::select! {
                    biased;
                    _ = stopped.changed() => return,
                    () = poll_all(&r53, &zones, &config, &mut last_read, &mut pending, &stats) => {}
                }
            }
        }
        let now = config.clock.now();
        while pending.front().is_some_and(|p| p.due <= now) {
            if let Some(p) = pending.pop_front() {
                table.publish(p.snapshot);
                stats.lock().unwrap_or_else(|p| p.into_inner()).published += 1;
            }
        }
    }
}

async fn follow(
    mut commits: tokio::sync::broadcast::Receiver<ZoneState>,
    table: ZoneTable,
    zones: Vec<MirroredZone>,
    config: MirrorConfig,
    mut stopped: watch::Receiver<bool>,
    stats: Arc<Mutex<MirrorStats>>,
) {
    let mut pending: VecDeque<Pending> = VecDeque::new();
    loop {
        let next_due = pending.front().map(|p| p.due);
        // Biased: a stop first, then what is due, then new commits.
        tokio::select! {
            biased;
            _ = stopped.changed() => return,
            _ = sleep_until_some(next_due) => {}
            received = commits.recv() => match received {
                Ok(state) => {
                    if zones.iter().any(|z| z.name == state.snapshot.zone) {
                        stats.lock().unwrap_or_else(|p| p.into_inner()).polls += 1;
                        pending.push_back(Pending { due: config.clock.now() + config.propagation_delay, snapshot: state.snapshot.clone() });
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
                    s.errors += 1;
                    s.last_error = Some(format!("the mirror fell {n} commits behind the truth log"));
                    tracing::error!(missed = n, "the dns mirror fell behind the truth log");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
        }
        let now = config.clock.now();
        while pending.front().is_some_and(|p| p.due <= now) {
            if let Some(p) = pending.pop_front() {
                table.publish(p.snapshot);
                stats.lock().unwrap_or_else(|p| p.into_inner()).published += 1;
            }
        }
    }
}

async fn sleep_until_some(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

/// Read every zone once; queue each changed snapshot to become visible `propagation_delay`
/// after the moment its read completed. That moment is no earlier than any change the read
/// reflects, so no change is visible before its delay has passed.
async fn poll_all(
    r53: &Route53,
    zones: &[MirroredZone],
    config: &MirrorConfig,
    last_read: &mut [Option<ZoneSnapshot>],
    pending: &mut VecDeque<Pending>,
    stats: &Mutex<MirrorStats>,
) {
    for (zone, last) in zones.iter().zip(last_read.iter_mut()) {
        let result = r53.list_records(&zone.id).await;
        let read_at = config.clock.now();
        let mut stats = stats.lock().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(records) => {
                stats.polls += 1;
                let snapshot = ZoneSnapshot::from_sdk(&zone.name, &records);
                if last.as_ref() != Some(&snapshot) {
                    *last = Some(snapshot.clone());
                    pending.push_back(Pending { due: read_at + config.propagation_delay, snapshot: std::sync::Arc::new(snapshot) });
                }
            }
            Err(e) => {
                stats.errors += 1;
                let message = format!("{}: {e}", zone.name);
                // Once per distinct error, not once per poll.
                if stats.last_error.as_deref() != Some(message.as_str()) {
                    tracing::warn!(zone = %zone.name, zone_id = %zone.id, error = %e, "dns mirror: listing records failed; serving the last good snapshot");
                }
                stats.last_error = Some(message);
            }
        }
    }
}
