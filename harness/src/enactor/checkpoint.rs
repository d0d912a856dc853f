//! Named points in the enactors' code where a test or a fault can hold an enactor.
//!
//! `after-staleness-check` lies between "is my plan newer?" and the first write;
//! `before-batch` between reading an endpoint's state and sending its change batch;
//! `before-cleanup` between the last endpoint and the cleanup.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::clock::Clock;
use crate::model::Point;

/// Which hits a hold catches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldSpec {
    /// The enactor's AZ; `None` holds every enactor.
    pub enactor: Option<String>,
    pub point: Point,
    /// Only plans of at least this generation.
    pub min_generation: Option<u64>,
    /// Catch only the first matching hit.
    pub once: bool,
    /// Let go after this long even without a release; `None` waits for a release.
    pub duration: Option<Duration>,
}

struct Entry {
    id: u64,
    spec: HoldSpec,
    armed: bool,
    hits: u64,
    released: watch::Sender<bool>,
}

/// Asks someone else whether to go on at a point and how long it was held: an enactor run as
/// a process asks the harness through the protocol's `reached` / `continue` handshake.
pub type Relay = Arc<dyn Fn(Point, u64) -> std::pin::Pin<Box<dyn std::future::Future<Output = Duration> + Send>> + Send + Sync>;

/// The registry of holds, shared by the harness and the enactors. Cloning shares it.
#[derive(Clone, Default)]
pub struct Checkpoints {
    entries: Arc<Mutex<Vec<Entry>>>,
    next_id: Arc<AtomicU64>,
    relay: Option<Relay>,
}

/// A hold placed with [`Checkpoints::hold`]; release it to let held enactors go on.
pub struct HoldHandle {
    id: u64,
    checkpoints: Checkpoints,
}

impl Checkpoints {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checkpoints decided elsewhere: every point reached is asked through `relay`.
    pub fn relayed(relay: Relay) -> Self {
        Checkpoints { relay: Some(relay), ..Self::default() }
    }

    /// Hold enactors matching `spec` at its point, until released (or its duration passes).
    pub fn hold(&self, spec: HoldSpec) -> HoldHandle {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let (released, _) = watch::channel(false);
        self.entries.lock().expect("checkpoints").push(Entry { id, spec, armed: true, hits: 0, released });
        HoldHandle { id, checkpoints: self.clone() }
    }

    /// Release hold `id`: held enactors go on and no new hit is caught.
    pub fn release(&self, id: u64) {
        let mut entries = self.entries.lock().expect("checkpoints");
        if let Some(e) = entries.iter_mut().find(|e| e.id == id) {
            e.armed = false;
            e.released.send_replace(true);
        }
    }

    /// Release every hold.
    pub fn release_all(&self) {
        let mut entries = self.entries.lock().expect("checkpoints");
        for e in entries.iter_mut() {
            e.armed = false;
            e.released.send_replace(true);
        }
    }

    /// How many hits hold `id` caught so far.
    pub fn hits(&self, id: u64) -> u64 {
        self.entries.lock().expect("checkpoints").iter().find(|e| e.id == id).map_or(0, |e| e.hits)
    }

    /// Called by an enactor at `point`; returns how long it was held (zero when not held).
    /// Returns early when `stop` turns true.
    pub async fn reach(&self, enactor: &str, point: Point, generation: u64, stop: &mut watch::Receiver<bool>, clock: &Clock) -> Duration {
        if let Some(relay) = &self.relay {
            return tokio::select! {
                biased;
                _ = stop.wait_for(|s| *s) => Duration::ZERO,
                held = relay(point, generation) => held,
            };
        }
        let caught: Vec<(watch::Receiver<bool>, Option<Duration>)> = {
            let mut entries = self.entries.lock().expect("checkpoints");
            entries
                .iter_mut()
                .filter(|e| {
                    e.armed
                        && e.spec.point == point
                        && e.spec.enactor.as_deref().is_none_or(|a| a == enactor)
                        && e.spec.min_generation.is_none_or(|g| generation >= g)
                })
                .map(|e| {
                    e.hits += 1;
                    if e.spec.once {
                        e.armed = false;
                    }
                    (e.released.subscribe(), e.spec.duration)
                })
                .collect()
        };
        if caught.is_empty() {
            return Duration::ZERO;
        }
        let start = clock.now();
        for (mut released, duration) in caught {
            let wait = async {
                let _ = released.wait_for(|r| *r).await;
            };
            let bounded = async {
                match duration {
                    Some(d) => {
                        let _ = tokio::time::timeout(d.saturating_sub(clock.since(start)), wait).await;
                    }
                    None => wait.await,
                }
            };
            // Biased: a stop ends the hold even when the release comes at the same moment.
            tokio::select! {
                biased;
                _ = stop.wait_for(|s| *s) => break,
                _ = bounded => {}
            }
        }
        clock.since(start)
    }
}

impl HoldHandle {
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn release(&self) {
        self.checkpoints.release(self.id);
    }

    pub fn hits(&self) -> u64 {
        self.checkpoints.hits(self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hold_catches_matching_hits_until_released() {
        let cp = Checkpoints::new();
        let (_stop_tx, mut stop) = watch::channel(false);
        let h = cp.hold(HoldSpec {
            enactor: Some("az1".into()),
            point: Point::AfterStalenessCheck,
            min_generation: Some(5),
            once: true,
            duration: None,
        });
        // Not matching: other enactor, other point, older plan.
        assert_eq!(cp.reach("az2", Point::AfterStalenessCheck, 9, &mut stop, &Clock::wall()).await, Duration::ZERO);
        assert_eq!(cp.reach("az1", Point::BeforeBatch, 9, &mut stop, &Clock::wall()).await, Duration::ZERO);
        assert_eq!(cp.reach("az1", Point::AfterStalenessCheck, 4, &mut stop, &Clock::wall()).await, Duration::ZERO);
        let cp2 = cp.clone();
        let held = tokio::spawn(async move {
            let (_t, mut s) = watch::channel(false);
            cp2.reach("az1", Point::AfterStalenessCheck, 5, &mut s, &Clock::wall()).await
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!held.is_finished());
        assert_eq!(h.hits(), 1);
        // `once`: a second hit passes straight through.
        assert_eq!(cp.reach("az1", Point::AfterStalenessCheck, 6, &mut stop, &Clock::wall()).await, Duration::ZERO);
        h.release();
        assert!(held.await.unwrap() >= Duration::from_millis(40));
    }

    #[tokio::test]
    async fn a_timed_hold_lets_go_by_itself() {
        let cp = Checkpoints::new();
        let (_stop_tx, mut stop) = watch::channel(false);
        let _h = cp.hold(HoldSpec {
            enactor: None,
            point: Point::BeforeCleanup,
            min_generation: None,
            once: false,
            duration: Some(Duration::from_millis(30)),
        });
        let held = cp.reach("az9", Point::BeforeCleanup, 1, &mut stop, &Clock::wall()).await;
        assert!(held >= Duration::from_millis(25) && held < Duration::from_secs(2), "{held:?}");
    }
}
