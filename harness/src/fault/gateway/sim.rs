//! The gateway in front of the simulated backend, in this process: the same rules (latency,
//! errors, stalls, dropped and lost responses), the same zone locks, change ids and truth log as
//! over HTTP, but the backend is `route53::sim::SimStore` and no byte of XML is built.
//!
//! The backend's own latency comes from [`LatencyModel`]: per operation and outcome a log-normal
//! service time fitted to LocalStack, its median growing with the zone and the batch (see
//! ARCHITECTURE.md), drawn from the run's seeded stream.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_route53::types::{Change as SdkChange, ChangeStatus, ResourceRecordSet};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::rules::{Operation, Verdict};
use super::server::Shared;
use crate::route53::sim::{from_sdk_changes, SimStore};
use crate::route53::{ApiError, ChangeOutcome, InProcessApi};
use crate::scenario::ApiErrorKind;

/// A service time: a fixed floor (every call's own overhead) plus a log-normal part,
/// `median * exp(sigma * z)`, z standard normal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogNormal {
    pub floor: Duration,
    pub median: Duration,
    pub sigma: f64,
}

impl LogNormal {
    const fn new(floor_ms: u64, median_ms: u64, sigma: f64) -> Self {
        LogNormal { floor: Duration::from_millis(floor_ms), median: Duration::from_millis(median_ms), sigma }
    }

    /// One draw, its log-normal median raised by `extra` (work that grows with the zone or the batch).
    fn sample(&self, extra: Duration, rng: &mut StdRng) -> Duration {
        let (u1, u2): (f64, f64) = (1.0 - rng.gen::<f64>(), rng.gen::<f64>());
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        let median = (self.median + extra).as_secs_f64();
        // Clamped at 50 medians: a fitted tail, not an unbounded one.
        self.floor + Duration::from_secs_f64((median * (self.sigma * z).exp()).min(50.0 * median))
    }
}

/// The simulated backend's service time: what LocalStack behind the strict gateway does per
/// call. A listing costs a base plus a cost per record set in the zone. A change batch costs
/// what the strict gateway does for it over HTTP: it lists the zone to validate the batch (a
/// rejected batch stops there), posts the net change (a base plus a cost per change), lists
/// again for the truth, and once more when the batch deleted anything (LocalStack's deletes of
/// weighted members are checked). Each step draws its own log-normal noise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyModel {
    /// One ListResourceRecordSets of an empty zone.
    pub list: LogNormal,
    /// Added to a listing's median per record set in the zone.
    pub per_record: Duration,
    /// One ChangeResourceRecordSets posted to the backend, without its changes.
    pub post: LogNormal,
    /// Added to a post's median per change in it.
    pub per_change: Duration,
    /// Zone creation and deletion, GetChange.
    pub other: LogNormal,
}

impl LatencyModel {
    /// Fitted to LocalStack 4.13.1 through the strict gateway on this project's machine kind
    /// (ARCHITECTURE.md, "The simulated backend's latency").
    pub const LOCALSTACK: LatencyModel = LatencyModel {
        list: LogNormal::new(8, 5, 1.1),
        per_record: Duration::from_micros(40),
        post: LogNormal::new(5, 4, 1.3),
        per_change: Duration::from_micros(300),
        other: LogNormal::new(0, 10, 0.5),
    };

    /// No latency at all (for tests of the semantics alone).
    pub const ZERO: LatencyModel = LatencyModel {
        list: LogNormal::new(0, 0, 0.0),
        per_record: Duration::ZERO,
        post: LogNormal::new(0, 0, 0.0),
        per_change: Duration::ZERO,
        other: LogNormal::new(0, 0, 0.0),
    };
}

/// The simulated backend behind an in-process gateway.
pub struct InProcess {
    pub store: Arc<SimStore>,
    model: LatencyModel,
    rng: Mutex<StdRng>,
}

impl InProcess {
    pub fn new(store: Arc<SimStore>, model: LatencyModel, seed: u64) -> Self {
        InProcess { store, model, rng: Mutex::new(StdRng::seed_from_u64(seed)) }
    }

    fn draw(&self, dist: LogNormal, extra: Duration) -> Duration {
        dist.sample(extra, &mut self.rng.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Zone creation and deletion, GetChange.
    fn other_time(&self) -> Duration {
        self.draw(self.model.other, Duration::ZERO)
    }

    /// A listing of a zone of `records` record sets.
    fn list_time(&self, records: usize) -> Duration {
        self.draw(self.model.list, self.model.per_record * records as u32)
    }

    /// A change batch of `changes` on a zone of `before` record sets (`after` once applied), as
    /// the strict gateway serves it: list to validate (a rejection ends there), post, list for
    /// the truth, and list once more when it deleted anything.
    fn change_time(&self, applied: bool, before: usize, after: usize, changes: usize, deletes: bool) -> Duration {
        let mut t = self.list_time(before);
        if applied {
            t += self.draw(self.model.post, self.model.per_change * changes as u32);
            t += self.list_time(after);
            if deletes {
                t += self.list_time(after);
            }
        }
        t
    }

    /// Record sets in the zone now (0 for a zone that does not exist).
    fn records(&self, zone_id: &str) -> usize {
        self.store.snapshot(zone_id).map(|s| s.records.len()).unwrap_or(0)
    }
}

/// One caller's client of the in-process gateway.
pub(super) struct Client {
    pub shared: Arc<Shared>,
    pub caller: String,
}

fn api_error(kind: ApiErrorKind) -> ApiError {
    match kind.wire() {
        Some((status, _, code, message)) => ApiError { code: code.into(), message: message.into(), status: Some(status) },
        None => ApiError { code: "Dispatch".into(), message: "connection closed before an answer (dnschaos gateway)".into(), status: None },
    }
}

impl Client {
    fn sim(&self) -> &InProcess {
        self.shared.sim.as_ref().expect("an in-process client has a simulated backend")
    }

    /// The rules' verdict for `op`; `Ok(true)` when the answer is to be lost after the work.
    async fn rules(&self, op: Option<Operation>) -> Result<bool, ApiError> {
        match self.shared.rules.apply(op, &self.caller).await {
            Verdict::Proceed => Ok(false),
            Verdict::LoseResponse => Ok(true),
            Verdict::Fail(kind) => Err(api_error(kind)),
            Verdict::Drop => Err(api_error(ApiErrorKind::DropConnection)),
        }
    }

    /// One ListResourceRecordSets: the rules, the zone's read lock, the service time, then
    /// `read` of the store (the SDK's listing or the shared snapshot of one zone state).
    async fn listing<T>(&self, zone_id: &str, read: impl FnOnce(&SimStore, &str) -> Result<T, ApiError>) -> Result<T, ApiError> {
        let op = Operation::ListResourceRecordSets;
        let lose = self.rules(Some(op)).await?;
        let started = self.shared.config.clock.now();
        let lock = self.shared.zone_lock(zone_id);
        let _reading = lock.read().await;
        tokio::time::sleep(self.sim().list_time(self.sim().records(zone_id))).await;
        let outcome = read(&self.sim().store, zone_id);
        self.finish(op, started, lose, outcome)
    }

    /// Record the latency and, when the answer is lost, turn the outcome into a dropped one.
    fn finish<T>(&self, op: Operation, started: tokio::time::Instant, lose: bool, outcome: Result<T, ApiError>) -> Result<T, ApiError> {
        self.shared.record_latency(op, self.shared.config.clock.since(started));
        if lose {
            return Err(api_error(ApiErrorKind::DropConnection));
        }
        outcome
    }
}

#[async_trait::async_trait]
impl InProcessApi for Client {
    async fn create_zone(&self, name: &str) -> Result<String, ApiError> {
        let lose = self.rules(None).await?;
        tokio::time::sleep(self.sim().other_time()).await;
        let id = self.sim().store.create_zone(name);
        if lose {
            return Err(api_error(ApiErrorKind::DropConnection));
        }
        Ok(id)
    }

    async fn delete_zone(&self, zone_id: &str) -> Result<(), ApiError> {
        let lose = self.rules(None).await?;
        tokio::time::sleep(self.sim().other_time()).await;
        let outcome = self.sim().store.delete_zone(zone_id);
        if lose {
            return Err(api_error(ApiErrorKind::DropConnection));
        }
        outcome
    }

    async fn list(&self, zone_id: &str) -> Result<Arc<Vec<ResourceRecordSet>>, ApiError> {
        self.listing(zone_id, SimStore::list_sdk).await
    }

    async fn read_zone(&self, zone_id: &str) -> Result<Arc<crate::model::ZoneSnapshot>, ApiError> {
        self.listing(zone_id, SimStore::snapshot).await
    }

    async fn change(&self, zone_id: &str, changes: Vec<SdkChange>, comment: Option<&str>) -> Result<ChangeOutcome, ApiError> {
        let op = Operation::ChangeResourceRecordSets;
        let lose = self.rules(Some(op)).await?;
        let started = self.shared.config.clock.now();
        let typed = from_sdk_changes(&changes)?;
        let lock = self.shared.zone_lock(zone_id);
        let _exclusive = lock.write().await;
        // Applied at once under the zone's lock, answered after the service time its outcome
        // takes; nobody can read the zone before then, and the truth is stamped at the answer.
        let before = self.sim().records(zone_id);
        let applied = self.sim().store.change(zone_id, &typed);
        let deletes = typed.iter().any(|c| c.action == crate::route53::semantics::Action::Delete);
        let took = self.sim().change_time(applied.is_ok(), before, self.sim().records(zone_id), typed.len(), deletes);
        tokio::time::sleep(took).await;
        let outcome = match applied {
            Ok(()) => {
                let (id, _) = self.shared.issue(comment.map(str::to_string));
                // The truth: the store's state now, still under the zone's lock.
                if let Some(watch) = self.shared.watch_of(zone_id) {
                    if let Ok(snapshot) = self.sim().store.snapshot(zone_id) {
                        watch.record(zone_id, &id, &self.caller, snapshot, Vec::new());
                    }
                }
                let insync = self.shared.config.propagation_delay.is_zero();
                Ok(ChangeOutcome { id: format!("/change/{id}"), status: if insync { "INSYNC" } else { "PENDING" }.into() })
            }
            Err(e) => Err(e),
        };
        self.finish(op, started, lose, outcome)
    }

    async fn change_status(&self, change_id: &str) -> Result<ChangeStatus, ApiError> {
        let lose = self.rules(Some(Operation::GetChange)).await?;
        tokio::time::sleep(self.sim().other_time()).await;
        let outcome = match self.shared.insync(change_id) {
            Some(true) => Ok(ChangeStatus::Insync),
            Some(false) => Ok(ChangeStatus::Pending),
            None => Err(ApiError { code: "NoSuchChange".into(), message: format!("A change with the specified change ID does not exist: {change_id}"), status: Some(404) }),
        };
        if lose {
            return Err(api_error(ApiErrorKind::DropConnection));
        }
        outcome
    }
}
