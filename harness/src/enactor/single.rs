//! `single`: Idea 1 of the seed article. One enactor applies plans (legacy's loop: with a
//! single writer the race cannot happen). Optionally a standby in another AZ watches the
//! primary's heartbeat, a TXT record `_heartbeat.api.<first zone>` the primary rewrites every
//! `heartbeat`, and takes over after `standby_after_missed` missed beats.
//!
//! The weakness the article names is kept: a primary that fails silently (heartbeat alive, no
//! progress) is never replaced, and a primary that comes back after a takeover races the
//! standby, since nothing fences the old primary. The primary beats once per pass (and every
//! beat while idle), so the opposite mistake happens too: a primary alive but inside a pass
//! slower than `standby_after_missed` beats (slow batches, lost locks) reads as dead, and the
//! standby takes over beside it. The chaos suite measures that false failover under
//! `steady-state` (chaos-plans/steady-state.yaml).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_route53::types::ChangeAction;

use super::legacy;
use super::{Ctx, Enactor, EnactorKind, PassOutcome, Point, Tuning};
use crate::events::EventKind;
use crate::model::{RecordSet, RrKind};
use crate::route53::records::{change, txt};

pub struct Single {
    primary: bool,
    heartbeat: Duration,
    missed: u32,
    last_applied: u64,
    /// When this standby first looked (epoch ms): silence counts from here when no beat exists.
    watching_since: Option<u64>,
}

impl Single {
    pub fn new(primary: bool, tuning: &Tuning) -> Self {
        Single {
            primary,
            heartbeat: tuning.heartbeat,
            missed: tuning.standby_after_missed.max(1),
            last_applied: 0,
            watching_since: None,
        }
    }
}

fn heartbeat_name(ctx: &Ctx) -> Option<(String, String)> {
    ctx.endpoints.first().map(|ep| (format!("_heartbeat.{}", ep.name()), ep.zone_id.clone()))
}

/// Parse `holder=<az>;at=<epoch ms>` into (holder, at).
pub(crate) fn parse_heartbeat(value: &str) -> Option<(String, u64)> {
    let mut holder = None;
    let mut at = None;
    for part in value.split(';') {
        match part.split_once('=') {
            Some(("holder", v)) => holder = Some(v.to_string()),
            Some(("at", v)) => at = v.parse().ok(),
            _ => {}
        }
    }
    Some((holder?, at?))
}

/// True when the primary has missed `missed` beats: no heartbeat in `records` newer than
/// `missed` beats ago, counting from `watching_since` (the standby's first look) when the
/// heartbeat is older or absent, so that a primary is never declared silent before it has had
/// `missed` beats to write its first one.
pub(crate) fn primary_silent(records: &[RecordSet], name: &str, now_ms: u64, beat: Duration, missed: u32, watching_since: u64) -> bool {
    let newest = records
        .iter()
        .filter(|r| r.name == crate::model::zone_normalize(name) && r.kind == RrKind::Txt)
        .filter_map(|r| r.txt_value().and_then(|v| parse_heartbeat(&v)))
        .map(|(_, at)| at)
        .max()
        .unwrap_or(0)
        .max(watching_since);
    now_ms.saturating_sub(newest) > beat.as_millis() as u64 * missed as u64
}

impl Single {
    async fn beat(&self, ctx: &Ctx) {
        let Some((name, zone_id)) = heartbeat_name(ctx) else { return };
        let value = format!("holder={};at={}", ctx.az, ctx.log.clock().epoch_ms());
        // The heartbeat is not DNS data: it is written without the lock preamble.
        if let Err(e) = ctx.r53.change(&zone_id, vec![change(ChangeAction::Upsert, txt(&name, 60, &value))], None).await {
            // Part of the run's story (a missed beat may start a takeover), so it goes to the
            // event log, not the terminal: an exploration runs thousands of these.
            ctx.emit(EventKind::Note { message: format!("heartbeat write failed: {e}") });
        }
    }

    async fn standby_should_take_over(&mut self, ctx: &Ctx) -> bool {
        let Some((name, zone_id)) = heartbeat_name(ctx) else { return false };
        let since = *self.watching_since.get_or_insert_with(|| ctx.log.clock().epoch_ms());
        match ctx.r53.read_zone(&zone_id, &zone_id).await {
            Ok(snap) => primary_silent(&snap.records, &name, ctx.log.clock().epoch_ms(), self.heartbeat, self.missed, since),
            Err(_) => false,
        }
    }
}

#[async_trait]
impl Enactor for Single {
    fn kind(&self) -> EnactorKind {
        EnactorKind::Single
    }

    fn tick(&self) -> Option<Duration> {
        Some(self.heartbeat)
    }

    async fn pass(&mut self, ctx: &mut Ctx, plan: Arc<Plan>) -> PassOutcome {
        if !self.primary {
            if !self.standby_should_take_over(ctx).await {
                return PassOutcome::Idle;
            }
            self.primary = true;
            ctx.emit(EventKind::TookOver {
                reason: format!("no heartbeat for {} beats of {} ms", self.missed, self.heartbeat.as_millis()),
            });
        }
        self.beat(ctx).await;
        if plan.generation <= self.last_applied {
            return PassOutcome::Idle;
        }
        let Some((passed, active)) = legacy::one_time_check(ctx, &plan).await else { return PassOutcome::Stopped };
        if !passed {
            self.last_applied = self.last_applied.max(active.unwrap_or(0));
            return PassOutcome::Stale(format!("g{} is not newer than active g{}", plan.generation, active.unwrap_or(0)));
        }
        ctx.checkpoint(Point::AfterStalenessCheck, plan.generation).await;
        let outcome = legacy::apply_all(ctx, &plan, |_, _, _| None).await;
        if outcome != PassOutcome::Applied {
            return outcome;
        }
        self.last_applied = plan.generation;
        ctx.checkpoint(Point::BeforeCleanup, plan.generation).await;
        legacy::cleanup_all(ctx, plan.generation).await;
        PassOutcome::Applied
    }
}

use crate::model::Plan;

#[cfg(test)]
mod tests {
    use super::*;

    fn hb(name: &str, value: &str) -> RecordSet {
        RecordSet {
            name: name.into(),
            kind: RrKind::Txt,
            ttl: Some(60),
            values: vec![format!("\"{value}\"")],
            set_id: None,
            weight: None,
            alias: None,
        }
    }

    #[test]
    fn standby_takes_over_only_after_missed_beats() {
        let name = "_heartbeat.api.z.test.";
        let beat = Duration::from_millis(1000);
        let recs = vec![hb(name, "holder=use1-az1;at=10000")];
        assert!(!primary_silent(&recs, name, 12_999, beat, 3, 0));
        assert!(primary_silent(&recs, name, 13_001, beat, 3, 0));
        // No heartbeat yet: the primary gets three beats from the standby's first look.
        assert!(!primary_silent(&[], name, 2_900, beat, 3, 0), "a primary that has not beaten yet is given its beats");
        assert!(primary_silent(&[], name, 3_001, beat, 3, 0), "no heartbeat for three beats means no primary");
        assert!(!primary_silent(&recs, name, 13_500, beat, 3, 11_000), "the standby started watching late: silence counts from then");
        assert_eq!(parse_heartbeat("holder=a;at=5"), Some(("a".into(), 5)));
    }
}
