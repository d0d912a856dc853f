//! The fault timeline: each fault of a plan starts at `at`, ends after `for`, logs
//! `fault-started` and `fault-ended`, and collects evidence that it really fired. The actors that
//! do the work live one family per file: `enactor.rs` (pause, sigstop, crash), `planner.rs`
//! (flood, burst, out-of-order), `api.rs` (gateway rules), `contention.rs`, `backend.rs`,
//! `az_loss.rs`.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::scenario::FaultKind;
use super::actor::{Active, FaultCtx, NOT_APPLICABLE};
use super::{api, az_loss, backend, contention, enactor, planner};
use crate::events::EventKind;
use crate::scenario::{ChaosPlan, FaultSpec, Target};
use crate::summary::FaultResult;
use crate::world::World;

/// A fault's id, resolved target and label.
fn describe(plan: &ChaosPlan, i: usize) -> (String, Option<Target>, String) {
    let f = &plan.faults[i];
    let target = f.target.as_deref().and_then(|t| ChaosPlan::resolve_target(t, plan.enactors.count));
    let label = f.target.clone().unwrap_or_else(|| match f.kind {
        FaultKind::Flood | FaultKind::Burst => "planner".into(),
        FaultKind::BackendPause | FaultKind::BackendRestart => "backend".into(),
        _ => "api".into(),
    });
    (plan.fault_id(i), target, label)
}

/// Run `plan`'s fault timeline on `world`, with `t0` (event-log ms) as the plan's time zero.
/// `say` gets one line per fault start and end. Returns every fault's result, in plan order.
pub async fn run(world: &mut World, ctx: &FaultCtx<'_>, plan: &ChaosPlan, t0: u64, say: &(dyn Fn(&str) + Sync)) -> Vec<FaultResult> {
    let log = world.log().clone();
    let mut schedule: Vec<(u64, bool, usize)> = Vec::new();
    for (i, f) in plan.faults.iter().enumerate() {
        schedule.push((f.at.ms(), true, i));
        if let Some(d) = f.duration {
            schedule.push((f.at.ms() + d.ms(), false, i));
        }
    }
    schedule.sort_by_key(|(t, start, _)| (*t, *start));
    let mut active: BTreeMap<usize, Active> = BTreeMap::new();
    let mut results: BTreeMap<usize, FaultResult> = BTreeMap::new();
    for (t, is_start, i) in schedule {
        let due = t0 + t;
        let now = log.now_ms();
        if due > now {
            log.clock().sleep(Duration::from_millis(due - now)).await;
        }
        let (id, target, label) = describe(plan, i);
        let f = &plan.faults[i];
        if is_start {
            match start(world, ctx, f, &id, &target).await {
                Ok(a) => {
                    log.emit(&format!("fault:{id}"), EventKind::FaultStarted { id: id.clone(), kind: f.kind.as_str().into(), target: label.clone() });
                    say(&format!("fault {id} ({}) started", f.kind.as_str()));
                    let mut r = FaultResult {
                        id,
                        kind: f.kind,
                        target: label,
                        start_ms: Some(log.now_ms()),
                        end_ms: None,
                        fired: false,
                        applicable: true,
                        evidence: String::new(),
                    };
                    if f.duration.is_some() {
                        active.insert(i, a);
                    } else {
                        (r.fired, r.evidence) = end(world, ctx, a).await;
                        r.end_ms = r.start_ms;
                    }
                    results.insert(i, r);
                }
                Err(why) => {
                    results.insert(i, not_started(&id, f.kind, &label, &why));
                }
            }
        } else if let Some(a) = active.remove(&i) {
            let (fired, evidence) = end(world, ctx, a).await;
            log.emit(&format!("fault:{id}"), EventKind::FaultEnded { id: id.clone(), kind: f.kind.as_str().into(), target: label });
            say(&format!("fault {id} ended ({evidence})"));
            if let Some(r) = results.get_mut(&i) {
                r.end_ms = Some(log.now_ms());
                r.fired = fired;
                r.evidence = evidence;
            }
        }
    }
    results.into_values().collect()
}

/// Start fault `spec` on `world`.
async fn start(world: &mut World, ctx: &FaultCtx<'_>, spec: &FaultSpec, id: &str, target: &Option<Target>) -> Result<Active, String> {
    let enactor = match target {
        Some(Target::Enactor(i)) => Some(*i),
        _ => None,
    };
    let need = |what: &str| enactor.ok_or_else(|| format!("{} needs an enactor{what}", spec.kind.as_str()));
    match spec.kind {
        FaultKind::Pause => enactor::pause(world, spec, need("")?),
        FaultKind::Sigstop => enactor::sigstop(world, need("")?),
        FaultKind::Crash => enactor::crash(world, need("")?).await,
        FaultKind::Flood | FaultKind::Burst => planner::start(world, spec),
        FaultKind::OutOfOrder => planner::out_of_order(world, need("")?),
        FaultKind::BackendPause => backend::pause(ctx).await,
        FaultKind::BackendRestart => Err(crate::scenario::vocab::BACKEND_RESTART_REFUSED.into()),
        FaultKind::LockContention => contention::start(world, ctx, id).await,
        FaultKind::AzLoss => az_loss::start(world, spec, need("")?).await,
        FaultKind::ApiLatency | FaultKind::ApiError | FaultKind::ApiStall | FaultKind::SlowEnactor => {
            let caller = match enactor {
                Some(i) => Some(super::actor::az(world, i)?),
                None => None,
            };
            api::start(ctx, spec, caller)
        }
    }
}

/// End fault `active`; returns whether it fired and the evidence.
async fn end(world: &mut World, ctx: &FaultCtx<'_>, active: Active) -> (bool, String) {
    match active {
        Active::Hold(h) => enactor::release(h),
        Active::Signal { pid } => enactor::resume(pid),
        Active::Crash { index } => enactor::restart(world, ctx, index).await,
        Active::Planner { emitted_before, expect } => planner::end(world, emitted_before, expect).await,
        Active::Filter { az, calls } => planner::in_order(world, &az, &calls),
        Active::Backend => backend::resume(ctx).await,
        Active::Contention { stop, wins } => contention::end(stop, &wins),
        Active::Gateway { rules } => api::end(ctx, rules),
        Active::AzLoss { az, index } => az_loss::end(world, ctx, &az, index).await,
    }
}

/// A result for a fault that never started.
fn not_started(id: &str, kind: FaultKind, target: &str, why: &str) -> FaultResult {
    FaultResult {
        id: id.into(),
        kind,
        target: target.into(),
        start_ms: None,
        end_ms: None,
        fired: false,
        applicable: !why.starts_with(NOT_APPLICABLE),
        evidence: why.into(),
    }
}
