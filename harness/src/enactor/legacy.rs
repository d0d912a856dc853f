//! `legacy`: the enactor as it ran in October 2025 (faithful, bugs included).
//!
//! 1. Take the newest plan; check **once**, before the endpoint loop, that it is newer than
//!    the plan active now.
//! 2. Per endpoint, one batch: lock preamble, build the plan's tree, flip the alias, point the
//!    rollback record at the previously active plan. Retry with backoff when the lock is busy
//!    or the batch is rejected, however stale the plan has become meanwhile.
//! 3. Clean up: delete every tree more than `cleanup_keep` generations older than the plan just
//!    applied, **without checking whether it is the one in use**.
//! 4. The latent bug: every flip also points the rollback record at the currently active plan,
//!    whatever state it is in. When cleanup deleted that plan's tree, Route 53 refuses the
//!    batch (an alias to a missing target), the enactor retries it with backoff, and so does
//!    every other enactor: nobody makes progress until an operator repairs the zone. Nothing
//!    here checks for it; the refusal is Route 53's (the strict gateway's), and "stuck" is the
//!    analysis's finding, not a word the enactor says about itself.

use std::sync::Arc;

use async_trait::async_trait;

use super::core::{self, BatchOutcome, Build, EndpointState};
use super::{Ctx, Enactor, EnactorKind, PassOutcome, Point};
use crate::events::EventKind;
use crate::model::{Endpoint, Plan};

#[derive(Default)]
pub struct Legacy;

/// The one-time staleness check: is `plan` newer than every endpoint's active plan?
pub(crate) fn newer_than_active(plan: &Plan, states: &[EndpointState]) -> (bool, Option<u64>) {
    let active = states.iter().filter_map(|s| s.active).max();
    (active.is_none_or(|a| plan.generation > a), active)
}

/// The apply batch for one endpoint: the plan's tree, the flip, and the rollback record pointed
/// at whatever is active now, even a plan whose tree is gone (the latent bug).
pub(crate) fn apply_changes(ep: &Endpoint, plan: &Plan, state: &EndpointState) -> Build {
    let mut changes = core::tree_changes(ep, plan);
    changes.extend(core::flip_changes(ep, plan.generation, state.active.unwrap_or(plan.generation)));
    Build::Changes(changes)
}

/// Apply `plan` to every endpoint the legacy way; shared with `single` and `revalidating`.
/// `revalidate` is called with each endpoint's fresh state right before its batch.
pub(crate) async fn apply_all<F>(ctx: &mut Ctx, plan: &Plan, mut revalidate: F) -> PassOutcome
where
    F: FnMut(&mut Ctx, &Endpoint, &EndpointState) -> Option<String>,
{
    let endpoints = ctx.endpoints.clone();
    for ep in &endpoints {
        let mut stale = None;
        let outcome = core::locked_batch(ctx, ep, plan.generation, "apply", |ctx, state| {
            if let Some(reason) = revalidate(ctx, ep, state) {
                stale = Some(reason.clone());
                return Build::Skip(reason);
            }
            apply_changes(ep, plan, state)
        })
        .await;
        match outcome {
            BatchOutcome::Committed { state } => {
                ctx.emit(EventKind::AliasFlipped {
                    endpoint: ep.label.clone(),
                    from: state.active,
                    to: plan.generation,
                    rollback: Some(state.active.unwrap_or(plan.generation)),
                });
            }
            BatchOutcome::Skipped { reason, .. } => {
                if stale.is_some() {
                    return PassOutcome::Stale(reason);
                }
            }
            BatchOutcome::Aborted { reason, .. } => return PassOutcome::Stale(format!("gave up on {}: {reason}", ep.label)),
            BatchOutcome::Stopped => return PassOutcome::Stopped,
        }
    }
    PassOutcome::Applied
}

/// Legacy cleanup on every endpoint: no in-use check.
pub(crate) async fn cleanup_all(ctx: &mut Ctx, applied: u64) {
    let keep = ctx.tuning.cleanup_keep;
    let endpoints = ctx.endpoints.clone();
    for ep in &endpoints {
        core::cleanup(ctx, ep, applied, |_, state| (core::older_than(state, applied, keep), Vec::new())).await;
    }
}

/// The one-time check, logged; `None` when the enactor stops while reading.
pub(crate) async fn one_time_check(ctx: &mut Ctx, plan: &Plan) -> Option<(bool, Option<u64>)> {
    let endpoints = ctx.endpoints.clone();
    let mut states = Vec::new();
    for ep in &endpoints {
        states.push(core::read_state_retrying(ctx, ep, plan.generation, "read").await?);
    }
    let (passed, active) = newer_than_active(plan, &states);
    ctx.emit(EventKind::StalenessCheck {
        generation: plan.generation,
        endpoint: None,
        active,
        passed,
        reason: "one-time check before the endpoint loop".into(),
    });
    Some((passed, active))
}

#[async_trait]
impl Enactor for Legacy {
    fn kind(&self) -> EnactorKind {
        EnactorKind::Legacy
    }

    async fn pass(&mut self, ctx: &mut Ctx, plan: Arc<Plan>) -> PassOutcome {
        let Some((passed, active)) = one_time_check(ctx, &plan).await else { return PassOutcome::Stopped };
        if !passed {
            return PassOutcome::Stale(format!("g{} is not newer than active g{}", plan.generation, active.unwrap_or(0)));
        }
        ctx.checkpoint(Point::AfterStalenessCheck, plan.generation).await;
        let outcome = apply_all(ctx, &plan, |_, _, _| None).await;
        if outcome != PassOutcome::Applied {
            return outcome;
        }
        ctx.checkpoint(Point::BeforeCleanup, plan.generation).await;
        cleanup_all(ctx, plan.generation).await;
        PassOutcome::Applied
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enactor::core::tests::{ep, plan, rollback_target, state};

    #[test]
    fn the_check_is_against_the_newest_active_plan() {
        let e = ep(false);
        let p5 = plan(5, &[(1, 1)]);
        let s3 = state(&e, &[plan(3, &[(1, 1)])], Some(3), None, None);
        let s6 = state(&e, &[plan(6, &[(1, 1)])], Some(6), None, None);
        assert_eq!(newer_than_active(&p5, std::slice::from_ref(&s3)), (true, Some(3)));
        assert_eq!(newer_than_active(&p5, &[s3, s6]), (false, Some(6)));
        assert_eq!(newer_than_active(&p5, &[]), (true, None));
    }

    #[test]
    fn the_rollback_points_at_the_active_plan_even_when_its_tree_is_gone() {
        let e = ep(false);
        let p9 = plan(9, &[(1, 1)]);
        // With the tree present, the batch builds g9, flips to it, and rolls back to g3.
        let fine = state(&e, &[plan(3, &[(1, 1)])], Some(3), Some(2), None);
        let Build::Changes(ch) = apply_changes(&e, &p9, &fine) else { panic!("expected changes") };
        assert_eq!(rollback_target(&e, &ch), Some(e.root_name(3)));
        // The alias points at g3, whose tree is gone: the batch is built just the same, and it
        // is Route 53 (the strict gateway) that refuses it: the 2025 stuck state.
        let gone = state(&e, &[], Some(3), Some(2), None);
        let Build::Changes(ch) = apply_changes(&e, &p9, &gone) else { panic!("expected changes") };
        assert_eq!(rollback_target(&e, &ch), Some(e.root_name(3)));
    }
}
