//! The fault timeline: each fault starts at `at`, ends after `for`, logs `fault-started` and
//! `fault-ended`, and collects evidence that it really fired.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::enactor::{HoldSpec, Point};
use crate::events::{EventKind, EventLog};
use crate::scenario::{ChaosPlan, FaultKind, FaultSpec, Target};
use crate::world::World;
use crate::route53::convert::SdkSnapshot;

use super::summary::FaultResult;

/// What a fault is doing while active, so that its end can undo it and its evidence be read.
pub(crate) enum Active {
    Hold(crate::enactor::HoldHandle),
    /// `expect`: plans the fault itself adds (a burst), waited for at its end.
    Planner { emitted_before: usize, expect: usize },
    Filter { az: String, calls: Arc<AtomicU64> },
    Signal { pid: i32 },
    Crash { index: usize },
    Backend,
    Contention { stop: tokio::sync::watch::Sender<bool>, wins: Arc<AtomicU64> },
    Gateway { rules: Vec<u64> },
    AzLoss { az: String, index: usize },
}

/// A fault's id, resolved target and label.
pub(crate) fn describe(plan: &ChaosPlan, i: usize) -> (String, Option<Target>, String) {
    let f = &plan.faults[i];
    let target = f.target.as_deref().and_then(|t| ChaosPlan::resolve_target(t, plan.enactors.count));
    let label = f.target.clone().unwrap_or_else(|| match f.kind {
        FaultKind::Flood | FaultKind::Burst => "planner".into(),
        FaultKind::BackendPause | FaultKind::BackendRestart => "backend".into(),
        _ => "api".into(),
    });
    (plan.fault_id(i), target, label)
}

pub(crate) fn emitted(log: &EventLog) -> usize {
    log.snapshot().iter().filter(|e| matches!(e.event, EventKind::PlanEmitted { .. })).count()
}

/// Out-of-order delivery: hold back eight plans, then hand them to the enactor newest first,
/// one older plan for each new one published (which is held back in turn). The generation the
/// enactor sees goes down for seconds at a time, and is always late.
pub(crate) fn out_of_order_filter(calls: Arc<AtomicU64>) -> crate::planner::Filter {
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

/// The lock-contention actor: keeps taking every endpoint's lock as holder `chaos-<id>`.
pub(crate) async fn contend(world_r53: crate::route53::Route53, endpoints: Vec<crate::model::Endpoint>, id: String, mut stop: tokio::sync::watch::Receiver<bool>, wins: Arc<AtomicU64>) {
    use crate::enactor::core::{lock_preamble, EndpointState, LockValue};
    use crate::model::ZoneSnapshot;
    let mut n = 0u32;
    while !*stop.borrow() {
        for ep in &endpoints {
            let Ok(records) = world_r53.list_records(&ep.zone_id).await else { continue };
            let state = EndpointState::from_snapshot(ep, ZoneSnapshot::from_sdk(&ep.zone, &records));
            n += 1;
            let mine = LockValue { holder: format!("chaos-{id}"), until_ms: crate::events::now_epoch_ms() + 1_000, nonce: format!("c{n:07}") };
            if world_r53.change(&ep.zone_id, lock_preamble(ep, &state, &mine), Some("dnschaos lock contention")).await.is_ok() {
                wins.fetch_add(1, Ordering::SeqCst);
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(400)) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Start fault `spec` on `world`.
pub(crate) async fn start(world: &mut World, ctx: &super::RunCtx<'_>, spec: &FaultSpec, id: &str, target: &Option<Target>) -> Result<Active, String> {
    let enactor = match target {
        Some(Target::Enactor(i)) => Some(*i),
        _ => None,
    };
    let az = |i: usize| world.azs().get(i).cloned().ok_or_else(|| format!("{NOT_APPLICABLE}enactor {i} does not run in this implementation"));
    Ok(match spec.kind {
        FaultKind::Pause => {
            let az = az(enactor.ok_or("pause needs an enactor")?)?;
            let point = spec.point.unwrap_or(Point::AfterStalenessCheck);
            Active::Hold(world.checkpoints().hold(HoldSpec { enactor: Some(az), point, min_generation: None, once: false, duration: None }))
        }
        FaultKind::Flood => {
            world.planner().set_rate_multiplier(spec.multiplier.unwrap_or(10.0));
            Active::Planner { emitted_before: emitted(world.log()), expect: 0 }
        }
        FaultKind::Burst => {
            let before = emitted(world.log());
            let n = spec.plans.unwrap_or(10);
            world.planner().burst(n);
            Active::Planner { emitted_before: before, expect: n as usize }
        }
        FaultKind::OutOfOrder => {
            let az = az(enactor.ok_or("out-of-order needs an enactor")?)?;
            let calls = Arc::new(AtomicU64::new(0));
            if !world.bus().set_filter(&az, Some(out_of_order_filter(calls.clone()))) {
                return Err(format!("{az} has no plan feed in this process (subprocess enactors are fed by the parent: use in-process)"));
            }
            Active::Filter { az, calls }
        }
        FaultKind::Sigstop => {
            let i = enactor.ok_or("sigstop needs an enactor")?;
            let pid = world.children().get(i).and_then(|c| c.pid()).ok_or("sigstop needs subprocess enactors")? as i32;
            // SAFETY: signalling our own child.
            if unsafe { libc::kill(pid, libc::SIGSTOP) } != 0 {
                return Err(format!("SIGSTOP to {pid} failed: {}", std::io::Error::last_os_error()));
            }
            Active::Signal { pid }
        }
        FaultKind::Crash => {
            let i = enactor.ok_or("crash needs an enactor")?;
            az(i)?;
            world.crash_enactor(i).await.map_err(|e| e.to_string())?;
            Active::Crash { index: i }
        }
        FaultKind::BackendPause => {
            ctx.backend.pause().await.map_err(|e| e.to_string())?;
            Active::Backend
        }
        FaultKind::LockContention => {
            let (tx, rx) = tokio::sync::watch::channel(false);
            let wins = Arc::new(AtomicU64::new(0));
            tokio::spawn(contend(world.r53().clone(), world.endpoints().to_vec(), id.to_string(), rx, wins.clone()));
            Active::Contention { stop: tx, wins }
        }
        FaultKind::AzLoss => {
            let i = enactor.ok_or("az-loss needs an enactor")?;
            let az_name = spec.az.clone().unwrap_or(az(i)?);
            world.planner().set_az_down(&az_name, true);
            // The enactor in that AZ dies with it; it comes back fresh when the AZ does.
            world.crash_enactor(i).await.map_err(|e| e.to_string())?;
            Active::AzLoss { az: az_name, index: i }
        }
        FaultKind::ApiLatency | FaultKind::ApiError | FaultKind::ApiStall | FaultKind::SlowEnactor => {
            super::gateway_faults::start(ctx, spec, enactor.map(|i| world.azs()[i].clone()))?
        }
        FaultKind::BackendRestart => return Err("backend-restart is not implemented: LocalStack community keeps no state across a restart".into()),
    })
}

/// End fault `active`; returns whether it fired and the evidence.
pub(crate) async fn end(world: &mut World, ctx: &super::RunCtx<'_>, active: Active) -> (bool, String) {
    match active {
        Active::Hold(h) => {
            let hits = h.hits();
            h.release();
            (hits > 0, format!("{hits} hit(s) held at the checkpoint"))
        }
        Active::Planner { emitted_before, expect } => {
            world.planner().set_rate_multiplier(1.0);
            // The planner takes a burst at its next tick: give it up to 3 s.
            let waited = std::time::Instant::now();
            while emitted(world.log()).saturating_sub(emitted_before) < expect && waited.elapsed() < Duration::from_secs(3) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let n = emitted(world.log()).saturating_sub(emitted_before);
            (n > 0, format!("{n} plans emitted while active"))
        }
        Active::Filter { az, calls } => {
            world.bus().set_filter(&az, None);
            if let Some(p) = world.bus().newest() {
                world.bus().deliver_to(&az, p);
            }
            let n = calls.load(Ordering::SeqCst);
            (n > 0, format!("{n} plans passed through the reordering filter"))
        }
        Active::Signal { pid } => {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid, libc::SIGCONT) };
            (true, format!("SIGSTOP then SIGCONT delivered to pid {pid}"))
        }
        Active::Crash { index } => match world.restart_enactor(index, ctx.bin, ctx.backend.info()).await {
            Ok(()) => (true, format!("enactor {index} killed and restarted")),
            Err(e) => (true, format!("enactor {index} killed; restart failed: {e}")),
        },
        Active::Backend => match ctx.backend.resume().await {
            Ok(()) => (true, "backend paused and resumed".into()),
            Err(e) => (true, format!("backend paused; resume failed: {e}")),
        },
        Active::Contention { stop, wins } => {
            stop.send_replace(true);
            let n = wins.load(Ordering::SeqCst);
            (n > 0, format!("{n} lock takeovers by the contender"))
        }
        Active::Gateway { rules } => super::gateway_faults::end(ctx, rules),
        Active::AzLoss { az, index } => {
            world.planner().set_az_down(&az, false);
            let restarted = world.restart_enactor(index, ctx.bin, ctx.backend.info()).await;
            (true, format!("{az} removed from plans and its enactor killed; restart: {}", match restarted {
                Ok(()) => "ok".to_string(),
                Err(e) => e.to_string(),
            }))
        }
    }
}

/// Prefix of a start error meaning "this fault has no target in this implementation".
pub(crate) const NOT_APPLICABLE: &str = "not applicable: ";

/// A result for a fault that never started.
pub(crate) fn not_started(id: &str, kind: FaultKind, target: &str, why: &str) -> FaultResult {
    FaultResult {
        id: id.into(),
        kind: kind.as_str().into(),
        target: target.into(),
        start_ms: None,
        end_ms: None,
        fired: false,
        applicable: !why.starts_with(NOT_APPLICABLE),
        evidence: why.into(),
    }
}
