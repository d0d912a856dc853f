//! `converging`: Idea 3 of the seed article. The desired state is the newest plan this enactor
//! has; from any state (an old plan, an alias to a deleted tree, a half-built tree) it builds
//! that plan's tree and flips to it. It never fails on a missing rollback target (the rollback
//! record then points at the new plan itself), looks again every tick without a new plan, and
//! raises an alarm when an endpoint has not converged within `converge_bound`.
//!
//! Cleanup deletes trees older than `cleanup_keep` generations below the desired plan, except
//! the ones active or rolled back to at the moment of the cleanup's own read.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::core::{self, BatchOutcome, Build, EndpointState};
use super::{Ctx, Enactor, EnactorKind, PassOutcome, Point};
use crate::events::EventKind;
use crate::model::{Endpoint, Plan};

#[derive(Default)]
pub struct Converging {
    /// Per endpoint: since when (run ms) it has not matched the desired plan, and whether the
    /// alarm for this episode was raised.
    diverged: BTreeMap<String, (u64, bool)>,
}

/// What to do with an endpoint in `state` when `desired` is the goal.
pub(crate) fn converge(ep: &Endpoint, desired: &Plan, state: &EndpointState) -> Build {
    if state.active == Some(desired.generation) && state.tree_complete(ep, desired) {
        return Build::Skip("converged".into());
    }
    // Someone applied a newer plan than ours (our feed lags): that is convergence too, as long
    // as its tree is whole.
    if state.active.is_some_and(|a| a > desired.generation && state.tree_exists(ep, a)) {
        return Build::Skip("a newer plan is active".into());
    }
    // Point the rollback record at the current plan only if its tree still exists.
    let rollback = state.active.filter(|g| state.tree_exists(ep, *g)).unwrap_or(desired.generation);
    let mut changes = core::tree_changes(ep, desired);
    changes.extend(core::flip_changes(ep, desired.generation, rollback));
    Build::Changes(changes)
}

/// Trees to delete: older than `desired - keep`, never the active or rollback tree.
pub(crate) fn cleanup_selection(state: &EndpointState, desired: u64, keep: u64) -> Vec<u64> {
    core::older_than(state, desired, keep)
        .into_iter()
        .filter(|g| Some(*g) != state.active && Some(*g) != state.rollback)
        .collect()
}

impl Converging {
    fn track(&mut self, ctx: &Ctx, ep: &str, converged: bool, bound: Duration) {
        let now = ctx.log.now_ms();
        if converged {
            self.diverged.remove(ep);
            return;
        }
        let entry = self.diverged.entry(ep.to_string()).or_insert((now, false));
        if !entry.1 && now.saturating_sub(entry.0) > bound.as_millis() as u64 {
            entry.1 = true;
            ctx.emit(EventKind::Alarm {
                endpoint: Some(ep.to_string()),
                reason: format!("not converged to the newest plan for {} ms", now - entry.0),
            });
        }
    }
}

#[async_trait]
impl Enactor for Converging {
    fn kind(&self) -> EnactorKind {
        EnactorKind::Converging
    }

    fn tick(&self) -> Option<Duration> {
        Some(Duration::from_secs(1))
    }

    async fn pass(&mut self, ctx: &mut Ctx, plan: Arc<Plan>) -> PassOutcome {
        ctx.checkpoint(Point::AfterStalenessCheck, plan.generation).await;
        let bound = ctx.tuning.converge_bound;
        let endpoints = ctx.endpoints.clone();
        let mut changed = false;
        let mut desired_gen = plan.generation;
        for ep in &endpoints {
            // The goal is re-read at every attempt: whatever is newest when the batch is built, so
            // that a batch retried for a while never lands an outdated plan.
            let mut desired = core::newest(ctx).unwrap_or_else(|| plan.clone());
            desired_gen = desired.generation;
            let outcome = core::locked_batch(ctx, ep, desired.generation, "apply", |ctx, state| {
                desired = core::newest(ctx).unwrap_or_else(|| desired.clone());
                converge(ep, &desired, state)
            })
            .await;
            desired_gen = desired_gen.max(desired.generation);
            match outcome {
                BatchOutcome::Committed { state } => {
                    changed = true;
                    ctx.emit(EventKind::AliasFlipped {
                        endpoint: ep.label.clone(),
                        from: state.active,
                        to: desired.generation,
                        rollback: Some(state.active.filter(|g| state.tree_exists(ep, *g)).unwrap_or(desired.generation)),
                    });
                    self.track(ctx, &ep.label, true, bound);
                }
                BatchOutcome::Skipped { .. } => self.track(ctx, &ep.label, true, bound),
                BatchOutcome::Aborted { .. } => self.track(ctx, &ep.label, false, bound),
                BatchOutcome::Stopped => return PassOutcome::Stopped,
            }
        }
        ctx.checkpoint(Point::BeforeCleanup, desired_gen).await;
        let keep = ctx.tuning.cleanup_keep;
        for ep in &endpoints {
            if core::cleanup(ctx, ep, desired_gen, |_, state| (cleanup_selection(state, desired_gen, keep), Vec::new()))
                .await
                .is_some()
            {
                changed = true;
            }
        }
        if changed {
            PassOutcome::Applied
        } else {
            PassOutcome::Idle
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enactor::core::tests::{ep, plan, rollback_target, state};

    #[test]
    fn converges_from_a_dangling_alias_without_failing() {
        let e = ep(false);
        let p9 = plan(9, &[(1, 1), (2, 2)]);
        let dangling = state(&e, &[], Some(3), Some(2), None);
        let Build::Changes(ch) = converge(&e, &p9, &dangling) else { panic!("must rebuild") };
        let rollback = rollback_target(&e, &ch);
        assert_eq!(rollback, Some(e.root_name(9)), "rollback falls back to the new plan itself");
        let done = state(&e, std::slice::from_ref(&p9), Some(9), Some(8), None);
        assert!(matches!(converge(&e, &p9, &done), Build::Skip(_)));
        // A half-deleted tree is not converged.
        let mut half = done.clone();
        Arc::make_mut(&mut half.trees).get_mut(&9).unwrap().retain(|r| r.alias.is_some());
        assert!(matches!(converge(&e, &p9, &half), Build::Changes(_)));
    }

    #[test]
    fn cleanup_spares_active_and_rollback() {
        let e = ep(false);
        let plans: Vec<Plan> = (1..=20).map(|g| plan(g, &[(1, 1)])).collect();
        let st = state(&e, &plans, Some(2), Some(3), None);
        assert_eq!(cleanup_selection(&st, 20, 10), vec![1, 4, 5, 6, 7, 8, 9]);
    }
}
