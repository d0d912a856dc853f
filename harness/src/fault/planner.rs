//! Faults on the plan stream: a faster planner (`flood`), many plans at once (`burst`), and late,
//! reordered delivery to one enactor (`out-of-order`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::actor::{az, Active};
use crate::scenario::FaultKind;
use crate::events::{EventKind, EventLog};
use crate::scenario::FaultSpec;
use crate::world::World;

fn emitted(log: &EventLog) -> usize {
    log.snapshot().iter().filter(|e| matches!(e.event, EventKind::PlanEmitted { .. })).count()
}

/// `flood` or `burst`.
pub(super) fn start(world: &World, spec: &FaultSpec) -> Result<Active, String> {
    let before = emitted(world.log());
    if spec.kind == FaultKind::Burst {
        let n = spec.plans.unwrap_or(10);
        world.planner().burst(n);
        return Ok(Active::Planner { emitted_before: before, expect: n as usize });
    }
    world.planner().set_rate_multiplier(spec.multiplier.unwrap_or(10.0));
    Ok(Active::Planner { emitted_before: before, expect: 0 })
}

pub(super) async fn end(world: &World, emitted_before: usize, expect: usize) -> (bool, String) {
    world.planner().set_rate_multiplier(1.0);
    // The planner takes a burst at its next tick: give it up to 3 s.
    let clock = world.log().clock().clone();
    let waited = clock.now();
    while emitted(world.log()).saturating_sub(emitted_before) < expect && clock.now() - waited < Duration::from_secs(3) {
        clock.sleep(Duration::from_millis(20)).await;
    }
    let n = emitted(world.log()).saturating_sub(emitted_before);
    (n > 0, format!("{n} plans emitted while active"))
}

/// Out-of-order delivery: hold back eight plans, then hand them to the enactor newest first,
/// one older plan for each new one published (which is held back in turn). The generation the
/// enactor sees goes down for seconds at a time, and is always late.
pub fn out_of_order_filter(calls: Arc<AtomicU64>) -> crate::planner::Filter {
    const BATCH: usize = 8;
    let mut held: Vec<Arc<crate::model::Plan>> = Vec::new();
    let mut replay: Vec<Arc<crate::model::Plan>> = Vec::new();
    Box::new(move |p| {
        calls.fetch_add(1, Ordering::SeqCst);
        held.push(p.clone());
        if replay.is_empty() && held.len() >= BATCH {
            replay = std::mem::take(&mut held);
        }
        replay.pop()
    })
}

pub(super) fn out_of_order(world: &World, i: usize) -> Result<Active, String> {
    let az = az(world, i)?;
    let calls = Arc::new(AtomicU64::new(0));
    if !world.bus().set_filter(&az, Some(out_of_order_filter(calls.clone()))) {
        return Err(format!("{az} has no plan feed in this process (subprocess enactors are fed by the parent: use in-process)"));
    }
    Ok(Active::Filter { az, calls })
}

pub(super) fn in_order(world: &World, az: &str, calls: &AtomicU64) -> (bool, String) {
    world.bus().set_filter(az, None);
    if let Some(p) = world.bus().newest() {
        world.bus().deliver_to(az, p);
    }
    let n = calls.load(Ordering::SeqCst);
    (n > 0, format!("{n} plans passed through the reordering filter"))
}
