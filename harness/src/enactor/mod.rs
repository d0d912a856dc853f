//! The DNS Enactors: five implementations of "apply the newest plan to Route 53".
//!
//! | implementation | idea | file |
//! |---|---|---|
//! | `legacy` | the 2025 design: one-time staleness check, cleanup without in-use check, stuck on a missing rollback target | `legacy.rs` |
//! | `single` | Idea 1: one enactor, optionally a standby taking over after missed heartbeats | `single.rs` |
//! | `revalidating` | Idea 2: re-check staleness before every endpoint's batch; plans expire | `revalidating.rs` |
//! | `converging` | Idea 3: converge to the newest plan from any state; alarm when it cannot | `converging.rs` |
//! | `fenced` | applied generation checked and advanced inside the batch; safe cleanup; freeze and alarm | `fenced.rs` |
//!
//! Every implementation talks to Route 53 only through [`crate::route53::Route53`], logs every
//! action to the run's [`EventLog`], and calls [`Ctx::checkpoint`] at the named points.

mod checkpoint;
pub mod core;
mod converging;
mod fenced;
mod legacy;
mod revalidating;
mod single;
pub mod subprocess;

pub use checkpoint::{Checkpoints, HoldHandle, HoldSpec, Relay};
pub use crate::model::{EnactorKind, Point};

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::events::{EventKind, EventLog};
use crate::model::{Endpoint, Plan};
use crate::planner::PlanFeed;
use crate::route53::Route53;
use crate::seeds::SeedTree;

/// Timing and thresholds shared by the implementations. Defaults are the documented ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tuning {
    /// How long a lock stays with its holder after a batch (default 300 ms).
    pub lock_lease: Duration,
    /// First retry delay; doubles per attempt, jittered x[0.5, 1.5) (default 25 ms).
    pub backoff_base: Duration,
    /// Retry delay cap (default 1 s).
    pub backoff_cap: Duration,
    /// Cleanup keeps this many generations below the plan just applied (default 10).
    pub cleanup_keep: u64,
    /// A cleanup batch is given up after this many attempts; the next pass tries again (default 5).
    pub cleanup_attempts: u32,
    /// `converging`: alarm when not converged for this long (default 10 s).
    pub converge_bound: Duration,
    /// `converging` and `single`'s standby: how often to look without a new plan (default 1 s).
    pub tick: Duration,
    /// `single`: run a standby that takes over after this many missed heartbeats (0 = no standby; default 3).
    pub standby_after_missed: u32,
    /// `single`: heartbeat interval (default 1 s).
    pub heartbeat: Duration,
    /// An enactor notices a new plan after a random delay up to this (default 250 ms): the
    /// real enactors are independent processes polling for plans, not woken together.
    pub pickup_jitter: Duration,
    /// Plant a bug: `fenced` skips its generation check, so it may flip backwards. Only for
    /// proving that the suite and `explore` catch a regression; set by the `sabotage-fenced`
    /// feature or by a test through the library (default false; no CLI flag sets it).
    #[serde(default)]
    pub sabotage_fenced: bool,
}

impl Tuning {
    /// Every timing multiplied by `f` (the counts stay).
    pub fn scaled(&self, f: f64) -> Tuning {
        Tuning {
            lock_lease: self.lock_lease.mul_f64(f),
            backoff_base: self.backoff_base.mul_f64(f),
            backoff_cap: self.backoff_cap.mul_f64(f),
            converge_bound: self.converge_bound.mul_f64(f),
            tick: self.tick.mul_f64(f),
            heartbeat: self.heartbeat.mul_f64(f),
            pickup_jitter: self.pickup_jitter.mul_f64(f),
            ..self.clone()
        }
    }
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            lock_lease: Duration::from_millis(300),
            backoff_base: Duration::from_millis(25),
            backoff_cap: Duration::from_secs(1),
            cleanup_keep: 10,
            cleanup_attempts: 5,
            converge_bound: Duration::from_secs(10),
            tick: Duration::from_secs(1),
            standby_after_missed: 3,
            heartbeat: Duration::from_secs(1),
            pickup_jitter: Duration::from_millis(250),
            sabotage_fenced: cfg!(feature = "sabotage-fenced"),
        }
    }
}

/// Everything one enactor needs. Owned by its task.
pub struct Ctx {
    /// The AZ this enactor runs in; also its lock holder name.
    pub az: String,
    /// `enactor:<az>`, the event source.
    pub source: String,
    pub r53: Route53,
    pub endpoints: Vec<Endpoint>,
    pub feed: PlanFeed,
    pub log: EventLog,
    pub checkpoints: Checkpoints,
    pub tuning: Tuning,
    pub rng: StdRng,
    pub stop: watch::Receiver<bool>,
}

impl Ctx {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        az: &str,
        seeds: SeedTree,
        r53: Route53,
        endpoints: Vec<Endpoint>,
        feed: PlanFeed,
        log: EventLog,
        checkpoints: Checkpoints,
        tuning: Tuning,
        stop: watch::Receiver<bool>,
    ) -> Self {
        Ctx {
            az: az.to_string(),
            source: format!("enactor:{az}"),
            r53,
            endpoints,
            feed,
            log,
            checkpoints,
            tuning,
            rng: StdRng::seed_from_u64(seeds.enactor(az)),
            stop,
        }
    }

    pub fn emit(&self, event: EventKind) {
        self.log.emit(&self.source, event);
    }

    pub fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Sleep; true when the enactor was told to stop meanwhile.
    pub async fn sleep(&mut self, d: Duration) -> bool {
        let mut stop = self.stop.clone();
        // Biased: a stop wins over a sleep that ends at the same moment.
        tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => {}
            _ = tokio::time::sleep(d) => {}
        }
        self.stopped()
    }

    /// Pass a named point; a hold there keeps the enactor until released.
    pub async fn checkpoint(&mut self, point: Point, generation: u64) {
        let held = self.checkpoints.reach(&self.az, point, generation, &mut self.stop, self.log.clock()).await;
        if !held.is_zero() {
            self.emit(EventKind::Checkpoint {
                point: point.as_str().to_string(),
                generation,
                held_ms: held.as_millis() as u64,
            });
        }
    }
}

/// How a pass ended, for the `pass-done` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassOutcome {
    Applied,
    /// The plan was not newer than what is active (or expired).
    Stale(String),
    /// Nothing needed doing.
    Idle,
    /// Some endpoints were left frozen in place (fenced).
    Frozen(String),
    Stopped,
}

impl PassOutcome {
    fn label(&self) -> String {
        match self {
            PassOutcome::Applied => "applied".into(),
            PassOutcome::Stale(r) => format!("stale: {r}"),
            PassOutcome::Idle => "idle".into(),
            PassOutcome::Frozen(r) => format!("frozen: {r}"),
            PassOutcome::Stopped => "stopped".into(),
        }
    }
}

/// One enactor implementation. The shared driver ([`drive`]) calls [`Enactor::pass`] for every
/// newer plan, and also every [`Enactor::tick`] when the implementation asks for it.
#[async_trait]
pub trait Enactor: Send {
    fn kind(&self) -> EnactorKind;

    /// Run a pass this often even without a new plan.
    fn tick(&self) -> Option<Duration> {
        None
    }

    /// Work on `plan` (the newest this enactor has been given).
    async fn pass(&mut self, ctx: &mut Ctx, plan: Arc<Plan>) -> PassOutcome;
}

/// Build implementation `kind` for the enactor at position `index` of the run's enactors.
pub fn build(kind: EnactorKind, index: usize, tuning: &Tuning) -> Box<dyn Enactor> {
    match kind {
        EnactorKind::Legacy => Box::new(legacy::Legacy::default()),
        EnactorKind::Single => Box::new(single::Single::new(index == 0, tuning)),
        EnactorKind::Revalidating => Box::new(revalidating::Revalidating::default()),
        EnactorKind::Converging => Box::new(converging::Converging::default()),
        EnactorKind::Fenced => Box::new(fenced::Fenced::default()),
        EnactorKind::Outside(o) => unreachable!("outside enactor {} runs as a process, never in this one", o.name),
    }
}

/// How many enactors an implementation runs when the run asks for `requested`.
pub fn instances(kind: EnactorKind, requested: usize, tuning: &Tuning) -> usize {
    match kind {
        EnactorKind::Single if tuning.standby_after_missed == 0 => 1.min(requested),
        EnactorKind::Single => 2.min(requested),
        _ => requested,
    }
}

/// The loop every enactor runs: wait for another plan than the last one (normally a newer one;
/// an older one when a delivery fault reorders them) or a tick, run a pass, log it.
pub async fn drive(mut enactor: Box<dyn Enactor>, mut ctx: Ctx) {
    ctx.emit(EventKind::EnactorStarted { implementation: enactor.kind().as_str().to_string() });
    let mut last = 0u64;
    let mut stop = ctx.stop.clone();
    loop {
        if ctx.stopped() {
            break;
        }
        let tick = enactor.tick();
        let mut feed = ctx.feed.clone();
        // Biased: a stop first, then a new plan, then the tick, so that equal readiness always
        // resolves the same way.
        let next = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => break,
            p = feed.other_than(last) => p,
            _ = async { match tick { Some(t) => tokio::time::sleep(t).await, None => std::future::pending().await } } => ctx.feed.latest(),
        };
        let Some(mut plan) = next else { continue };
        if plan.generation != last {
            let jitter = ctx.tuning.pickup_jitter.mul_f64(rand::Rng::gen_range(&mut ctx.rng, 0.0..1.0));
            if ctx.sleep(jitter).await {
                break;
            }
            // Take the newest plan at the moment the enactor actually looks.
            plan = ctx.feed.latest().unwrap_or(plan);
            last = plan.generation;
            ctx.emit(EventKind::PlanPicked { generation: plan.generation });
        }
        let generation = plan.generation;
        let outcome = enactor.pass(&mut ctx, plan).await;
        if outcome != PassOutcome::Idle {
            ctx.emit(EventKind::PassDone { generation, outcome: outcome.label() });
        }
        if outcome == PassOutcome::Stopped {
            break;
        }
    }
    ctx.emit(EventKind::EnactorStopped { reason: "told to stop".into() });
}
