//! `revalidating`: Idea 2 of the seed article. The legacy enactor, except that staleness is
//! checked again right before every endpoint's batch (against the state read for that batch),
//! and every plan carries a validity deadline after which it is never applied.
//!
//! Everything else is legacy's, on purpose: cleanup has no in-use check and the rollback step
//! still fails on a missing target, so the comparison isolates the one change.

use std::sync::Arc;

use async_trait::async_trait;

use super::core::EndpointState;
use super::legacy;
use super::{Ctx, Enactor, EnactorKind, PassOutcome, Point};
use crate::events::EventKind;
use crate::model::Plan;

#[derive(Default)]
pub struct Revalidating {
}

/// Why `plan` must not be applied to an endpoint in `state` at `now_ms`, if it must not.
pub(crate) fn revalidate(plan: &Plan, state: &EndpointState, now_ms: u64) -> Option<String> {
    if now_ms > plan.valid_until_ms {
        return Some(format!("g{} expired at {} ms", plan.generation, plan.valid_until_ms));
    }
    match state.active {
        Some(active) if active >= plan.generation => {
            Some(format!("g{} is not newer than active g{active}", plan.generation))
        }
        _ => None,
    }
}

#[async_trait]
impl Enactor for Revalidating {
    fn kind(&self) -> EnactorKind {
        EnactorKind::Revalidating
    }

    async fn pass(&mut self, ctx: &mut Ctx, plan: Arc<Plan>) -> PassOutcome {
        if let Some(reason) = revalidate(&plan, &EndpointState::default(), ctx.log.now_ms()) {
            return PassOutcome::Stale(reason);
        }
        let Some((passed, active)) = legacy::one_time_check(ctx, &plan).await else { return PassOutcome::Stopped };
        if !passed {
            return PassOutcome::Stale(format!("g{} is not newer than active g{}", plan.generation, active.unwrap_or(0)));
        }
        ctx.checkpoint(Point::AfterStalenessCheck, plan.generation).await;
        let outcome = legacy::apply_all(ctx, &plan, |ctx, ep, state| {
            let verdict = revalidate(&plan, state, ctx.log.now_ms());
            ctx.emit(EventKind::StalenessCheck {
                generation: plan.generation,
                endpoint: Some(ep.label.clone()),
                active: state.active,
                passed: verdict.is_none(),
                reason: verdict.clone().unwrap_or_else(|| "revalidated before the batch".into()),
            });
            verdict
        })
        .await;
        if outcome != PassOutcome::Applied {
            return outcome;
        }
        ctx.checkpoint(Point::BeforeCleanup, plan.generation).await;
        legacy::cleanup_all(ctx, plan.generation).await;
        PassOutcome::Applied
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enactor::core::tests::{ep, plan, state};

    #[test]
    fn stale_or_expired_plans_are_refused_at_write_time() {
        let e = ep(false);
        let p5 = plan(5, &[(1, 1)]); // valid until 10 000 ms
        let older = state(&e, &[], Some(4), None, None);
        let newer = state(&e, &[], Some(7), None, None);
        let same = state(&e, &[], Some(5), None, None);
        assert_eq!(revalidate(&p5, &older, 1_000), None);
        assert!(revalidate(&p5, &newer, 1_000).unwrap().contains("not newer than active g7"));
        assert!(revalidate(&p5, &same, 1_000).is_some());
        assert!(revalidate(&p5, &older, 10_001).unwrap().contains("expired"));
    }
}
