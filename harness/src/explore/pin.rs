//! Pinning: turn the interleaving of one failing run into holds that force it.
//!
//! A schedule drawn at random shows the October race when its faults happen to line up with
//! the enactors' timing: a flood makes one enactor's plan old while it is slow, and another
//! enactor's cleanup lands just after its flip. Such a schedule fails in some timings and not
//! in others, and delta debugging over its faults can only keep or drop them, never make the
//! timing they depended on certain. Pinning reads the roles off the failing run's event log
//! and places pauses, at the enactors' named points, that make the same order of events happen
//! whatever the timing.
//!
//! It applies to the signatures whose failure is the active tree deleted (`active-deleted*`):
//! the race has a known anatomy, and the events name its actors.
//!
//! - **A**: the enactor whose flip made the deleted plan active (the last flip on that endpoint
//!   before the deletion), and the check at which it took that plan (its `staleness-check`, or
//!   its `plan-picked` when it logs no check).
//! - **D**: the enactor whose cleanup deleted the active plan's tree.
//! - **C**: every other enactor.
//!
//! The holds (at `T` = A's release):
//!
//! 1. A at `after-staleness-check` from just before its check in the failing run, for as long
//!    as it took there or for as long as the planner needs to make that plan more than
//!    `2 x cleanup-keep + 4` generations old, whichever is longer (the failing run's plan was
//!    made old by a flood the holds do not keep); moved earlier when that would leave less
//!    than 15 s of the plan after A's release;
//! 2. D at `before-cleanup` from `T - 1 s` to `T + 3 s`: D has flipped to a new plan and waits
//!    before its cleanup until A has flipped back;
//! 3. C at `before-batch` from `T - 1.5 s` to the end: nobody flips between A's flip and D's
//!    cleanup;
//! 4. A at `before-cleanup` from `T` to the end: A does not move on to a newer plan either.
//!
//! What comes from the run is who plays which role and when A took its plan; the margins
//! (the age, the 1-s and 1.5-s leads, D's 4 s) are the rule's, the ones the hand-placed
//! four-pause replay (`fixtures/plans/october-2025-minimal-replay.yaml`) showed to force it on
//! LocalStack. Pure: events in, faults out.

use std::collections::BTreeMap;

use crate::events::{Event, EventKind};
use crate::model::{az_name, Point};
use crate::scenario::{ChaosPlan, Dur, FaultKind, FaultSpec};

/// Who did what in a run where the active plan's tree was deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles {
    /// A: flipped the endpoint to the plan whose tree was then deleted.
    pub flipper: String,
    /// D: deleted it.
    pub deleter: String,
    /// C: the other enactors.
    pub others: Vec<String>,
    /// The plan A flipped to, and when A took it, flipped to it, and when D deleted it (ms).
    pub generation: u64,
    pub check_ms: u64,
    pub flip_ms: u64,
    pub delete_ms: u64,
}

impl Roles {
    /// One line for the found plan's header.
    pub fn describe(&self) -> String {
        format!(
            "{} took g{} at {} ms and flipped to it at {} ms; {} deleted its tree at {} ms; held as well: {}",
            self.flipper,
            self.generation,
            self.check_ms,
            self.flip_ms,
            self.deleter,
            self.delete_ms,
            if self.others.is_empty() { "nobody".into() } else { self.others.join(", ") }
        )
    }
}

/// The roles of the first deletion of an active plan's tree by an enactor other than the one
/// that made it active; `None` when the run has no such deletion.
pub fn roles(events: &[Event]) -> Option<Roles> {
    let mut active: BTreeMap<&str, (u64, u64, &str)> = BTreeMap::new();
    let mut enactors: Vec<&str> = Vec::new();
    let mut fatal = None;
    for e in events {
        match &e.event {
            EventKind::EnactorStarted { .. } if !enactors.contains(&e.source.as_str()) => enactors.push(&e.source),
            EventKind::AliasFlipped { endpoint, to, .. } => {
                active.insert(endpoint, (*to, e.t_ms, &e.source));
            }
            EventKind::CleanupDeleted { endpoint, generations, .. } => {
                if let Some(&(g, flip_ms, who)) = active.get(endpoint.as_str()) {
                    if generations.contains(&g) && who != e.source {
                        fatal = Some((g, flip_ms, who, e.source.as_str(), e.t_ms));
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    let (generation, flip_ms, flipper, deleter, delete_ms) = fatal?;
    let took = |e: &&Event| e.source == flipper && e.t_ms <= flip_ms;
    let check_ms = events
        .iter()
        .filter(took)
        .filter(|e| matches!(&e.event, EventKind::StalenessCheck { generation: g, passed: true, .. } if *g == generation))
        .chain(events.iter().filter(took).filter(|e| matches!(&e.event, EventKind::PlanPicked { generation: g } if *g == generation)))
        .map(|e| e.t_ms)
        .next()?;
    let others = enactors.iter().filter(|s| **s != flipper && **s != deleter).map(|s| s.to_string()).collect();
    Some(Roles { flipper: flipper.into(), deleter: deleter.into(), others, generation, check_ms, flip_ms, delete_ms })
}

/// Generations A's plan must be behind the newest when A flips, at least.
pub fn age_generations(keep: u64) -> u64 {
    2 * keep + 4
}

/// How long D waits after A's release, and the leads of D's and C's holds before it (ms).
const D_HOLD_MS: u64 = 4_000;
const D_LEAD_MS: u64 = 1_000;
const C_LEAD_MS: u64 = 1_500;
/// Room left after D's release for its cleanup to land inside the plan.
const TAIL_MS: u64 = 1_000;
/// How long after A's release the holds of C and of A after its flip last, at most (the
/// replay's 15 s); they are shortened, down to D's hold and the tail, only when the plan is
/// too short for that.
const AFTER_MS: u64 = 15_000;
/// Earliest start: the enactors are up and have applied the bootstrap plan.
const EARLIEST_MS: u64 = 1_000;

/// The four holds (`pin-*` ids) that force `r`'s interleaving under `plan` (its duration, its
/// planner's rate, its enactor count) when cleanup keeps `keep` generations; `None` when they
/// do not fit in the plan's duration.
pub fn holds(r: &Roles, plan: &ChaosPlan, keep: u64) -> Option<Vec<FaultSpec>> {
    let count = plan.enactors.count as usize;
    let index = |source: &str| {
        let az = source.strip_prefix("enactor:")?;
        (0..count).find(|i| az_name(*i) == az).map(|i| format!("enactor:{i}"))
    };
    let (a, d) = (index(&r.flipper)?, index(&r.deleter)?);
    let others: Vec<String> = r.others.iter().map(|o| index(o)).collect::<Option<_>>()?;
    let rate = plan.planner.rate.max(0.001);
    let age_ms = up(((age_generations(keep) as f64 / rate) * 1000.0).ceil() as u64, 500);
    let hold_a = up(r.flip_ms.saturating_sub(r.check_ms), 100).max(age_ms);
    let end = plan.duration.ms();
    let after = end.checked_sub(hold_a + EARLIEST_MS)?.min(AFTER_MS);
    if after < D_HOLD_MS - D_LEAD_MS + TAIL_MS {
        return None;
    }
    let start = (r.check_ms.saturating_sub(200) / 100 * 100).clamp(EARLIEST_MS, end - hold_a - after);
    let t = start + hold_a;
    let mut out = vec![
        pause("pin-a-stale", &a, Point::AfterStalenessCheck, start, hold_a),
        pause("pin-d-before-cleanup", &d, Point::BeforeCleanup, t - D_LEAD_MS, D_HOLD_MS),
    ];
    for (i, c) in others.iter().enumerate() {
        let id = if others.len() == 1 { "pin-c-before-batch".to_string() } else { format!("pin-c{i}-before-batch") };
        out.push(pause(&id, c, Point::BeforeBatch, t - C_LEAD_MS, end - (t - C_LEAD_MS)));
    }
    out.push(pause("pin-a-after-flip", &a, Point::BeforeCleanup, t, end - t));
    Some(out)
}

fn up(v: u64, step: u64) -> u64 {
    v.div_ceil(step) * step
}

fn pause(id: &str, target: &str, point: Point, at: u64, for_ms: u64) -> FaultSpec {
    let ms = |v: u64| Dur(std::time::Duration::from_millis(v));
    FaultSpec { id: Some(id.into()), duration: Some(ms(for_ms)), target: Some(target.into()), point: Some(point), ..FaultSpec::bare(FaultKind::Pause, ms(at)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t_ms: u64, source: &str, event: EventKind) -> Event {
        Event { t_ms, source: source.into(), event }
    }

    fn flip(t: u64, who: &str, to: u64) -> Event {
        ev(t, who, EventKind::AliasFlipped { endpoint: "regional".into(), from: None, to, rollback: None })
    }

    fn cleanup(t: u64, who: &str, gens: Vec<u64>) -> Event {
        ev(t, who, EventKind::CleanupDeleted { endpoint: "regional".into(), generations: gens, active: None })
    }

    fn check(t: u64, who: &str, g: u64) -> Event {
        ev(t, who, EventKind::StalenessCheck { generation: g, endpoint: None, active: None, passed: true, reason: String::new() })
    }

    fn started(who: &str) -> Event {
        ev(0, who, EventKind::EnactorStarted { implementation: "legacy".into() })
    }

    fn azs() -> Vec<String> {
        (0..3).map(|i| format!("enactor:{}", az_name(i))).collect()
    }

    /// The October order: A takes g5 at 3 s, B flips to g30 and cleans up after A's flip back.
    fn october() -> Vec<Event> {
        let [a, b, c] = [azs()[0].clone(), azs()[1].clone(), azs()[2].clone()];
        vec![
            started(&a),
            started(&b),
            started(&c),
            check(3_000, &a, 5),
            flip(3_500, &c, 6),
            // c's own cleanup of old trees is not the race: g6 is active and kept.
            cleanup(3_600, &c, vec![1]),
            check(9_000, &b, 30),
            flip(9_400, &b, 30),
            flip(9_900, &a, 5),
            cleanup(10_000, &b, vec![5, 6, 19]),
        ]
    }

    #[test]
    fn roles_are_read_off_the_deletion_of_the_active_tree() {
        let r = roles(&october()).expect("a deletion of the active tree");
        let z = azs();
        assert_eq!((r.flipper.as_str(), r.deleter.as_str(), r.others.clone()), (z[0].as_str(), z[1].as_str(), vec![z[2].clone()]));
        assert_eq!((r.generation, r.check_ms, r.flip_ms, r.delete_ms), (5, 3_000, 9_900, 10_000));
        // No deletion of the active tree (b flipped away from g5 first): no roles.
        let mut safe = october();
        safe.insert(9, flip(9_950, &z[1], 31));
        assert_eq!(roles(&safe), None);
    }

    #[test]
    fn holds_keep_the_order_and_make_the_plan_old() {
        let plan: ChaosPlan = serde_yaml::from_str("name: x\nduration: 30s\n").expect("a plan");
        let r = roles(&october()).unwrap();
        let h = holds(&r, &plan, 10).expect("they fit in 30 s");
        let got: Vec<(String, String, &str, u64, u64)> =
            h.iter().map(|f| (f.id.clone().unwrap(), f.target.clone().unwrap(), f.point.unwrap().as_str(), f.at.ms(), f.duration.unwrap().ms())).collect();
        // 2 x 10 + 4 = 24 generations at 2 a second: A held 12 s (its own 6.9 s is shorter).
        assert_eq!(
            got,
            vec![
                ("pin-a-stale".into(), "enactor:0".into(), "after-staleness-check", 2_800, 12_000),
                ("pin-d-before-cleanup".into(), "enactor:1".into(), "before-cleanup", 13_800, 4_000),
                ("pin-c-before-batch".into(), "enactor:2".into(), "before-batch", 13_300, 16_700),
                ("pin-a-after-flip".into(), "enactor:0".into(), "before-cleanup", 14_800, 15_200),
            ]
        );
        // A late check is moved earlier so that C and A stay held 15 s after A's release (as
        // long as the plan allows); a plan too short for D's hold and its cleanup gets none.
        let late = Roles { check_ms: 25_000, flip_ms: 26_000, ..r.clone() };
        assert_eq!(holds(&late, &plan, 10).unwrap()[0].at.ms(), 30_000 - 12_000 - 15_000);
        let tight: ChaosPlan = serde_yaml::from_str("name: x\nduration: 20s\n").unwrap();
        assert_eq!(holds(&late, &tight, 10).unwrap()[0].at.ms(), 1_000, "7 s after A's release");
        let short: ChaosPlan = serde_yaml::from_str("name: x\nduration: 16s\n").unwrap();
        assert_eq!(holds(&r, &short, 10), None);
    }
}
