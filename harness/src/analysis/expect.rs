//! The expected-properties verdict: the numbers every run is measured on (`facts`) and the
//! check of a plan's `expect:` section against them (`evaluate`). Pure: no IO, no clock.

use std::collections::{BTreeMap, BTreeSet};

use super::rate::Rate;
use super::InvariantResult;
use crate::events::{Event, EventKind};
use crate::scenario::{ImplExpect, Metric};
pub use crate::summary::{ExpectResult, Facts, PropertyResult};

/// What `facts` is computed from: the run's headline numbers and its event log.
#[derive(Debug, Clone, Copy)]
pub struct RunOutcome<'a> {
    pub total_empty_ms: u64,
    pub longest_empty_ms: u64,
    pub time_to_recovery_ms: Option<u64>,
    pub az_loss_reaction_ms: Option<u64>,
    pub final_empty_endpoints: u64,
    /// The implementation's enactors, by AZ.
    pub enactors: &'a [String],
    pub events: &'a [Event],
    /// Enactors the analysis finds stuck (`enactor:<az>`).
    pub stuck: &'a [String],
    pub converge_ms: Option<u64>,
    /// From the truth log, when there is one.
    pub truth: Option<&'a crate::summary::TruthReport>,
    pub harness_calls_faulted: u64,
    /// p99 of ChangeResourceRecordSets as the gateway saw it (ms), when there was a gateway.
    pub change_p99_ms: Option<u64>,
    /// The enactors' cleanup keep and lock lease, for the race's preconditions.
    pub cleanup_keep: u64,
    pub lock_lease_ms: u64,
}

/// Compute every [`Metric`] of a run.
pub fn facts(o: &RunOutcome) -> Facts {
    let events = o.events;
    let count = |f: &dyn Fn(&EventKind) -> bool| Some(events.iter().filter(|e| f(&e.event)).count() as u64);
    let loss = events.iter().find(|e| matches!(&e.event, EventKind::FaultStarted { kind, .. } if kind == "az-loss")).map(|e| e.t_ms);
    let first_takeover = events.iter().find(|e| matches!(e.event, EventKind::TookOver { .. }));
    let takeover_after_loss = loss.and_then(|l| events.iter().find(|e| e.t_ms >= l && matches!(e.event, EventKind::TookOver { .. })));
    // The first plan made at or after the loss: flips to it or newer carry the loss's news.
    let fresh_from = loss.and_then(|l| {
        events.iter().find_map(|e| match e.event {
            EventKind::PlanEmitted { generation, .. } if e.t_ms >= l => Some(generation),
            _ => None,
        })
    });
    let fresh_before_takeover = match (loss, fresh_from) {
        (Some(_), Some(g0)) => {
            let until = takeover_after_loss.map(|t| t.t_ms).unwrap_or(u64::MAX);
            Some(
                events
                    .iter()
                    .filter(|e| e.t_ms < until && matches!(e.event, EventKind::AliasFlipped { to, .. } if to >= g0))
                    .count() as u64,
            )
        }
        (Some(_), None) => Some(0),
        _ => None,
    };
    let backward = backward_flips(events);
    let backward_after_takeover = first_takeover.map(|t| {
        backward.iter().filter(|(at, source)| *at > t.t_ms && *source != t.source.as_str()).count() as u64
    });
    let stuck: BTreeSet<&str> = o.stuck.iter().map(String::as_str).collect();
    let unstuck = o.enactors.iter().filter(|az| !stuck.contains(format!("enactor:{az}").as_str())).count() as u64;

    let mut f = Facts::new();
    f.insert(Metric::EmptyMs, Some(o.total_empty_ms));
    f.insert(Metric::LongestEmptyMs, Some(o.longest_empty_ms));
    f.insert(Metric::RecoveryMs, o.time_to_recovery_ms);
    f.insert(Metric::StaleMs, o.az_loss_reaction_ms);
    f.insert(Metric::Takeovers, count(&|k| matches!(k, EventKind::TookOver { .. })));
    f.insert(Metric::TakeoverAfterLossMs, loss.zip(takeover_after_loss).map(|(l, t)| t.t_ms - l));
    f.insert(Metric::FreshFlipsBeforeTakeover, fresh_before_takeover);
    f.insert(Metric::BackwardFlips, Some(backward.len() as u64));
    f.insert(Metric::BackwardFlipsAfterTakeover, backward_after_takeover);
    f.insert(Metric::StuckEnactors, Some(stuck.len() as u64));
    f.insert(Metric::UnstuckEnactors, Some(unstuck));
    f.insert(Metric::FinalEmptyEndpoints, Some(o.final_empty_endpoints));
    f.insert(Metric::Alarms, count(&|k| matches!(k, EventKind::Alarm { .. })));
    f.insert(Metric::Frozen, count(&|k| matches!(k, EventKind::Frozen { .. })));
    f.insert(Metric::ConvergeMs, o.converge_ms);
    f.insert(Metric::TruthEmptyMs, o.truth.map(|t| t.empty_ms));
    f.insert(Metric::MissedTruthWindows, o.truth.map(|t| t.missed.len() as u64));
    f.insert(Metric::UnexplainedProbeWindows, o.truth.map(|t| t.unexplained.len() as u64));
    f.insert(Metric::HarnessCallsFaulted, Some(o.harness_calls_faulted));
    f.insert(Metric::ChangeLatencyP99Ms, o.change_p99_ms);
    let (old, near) = race_preconditions(events, o.cleanup_keep, o.lock_lease_ms);
    f.insert(Metric::OldPlanFlips, Some(old));
    f.insert(Metric::CleanupsNearFlip, Some(near));
    f
}

/// (time, source) of every flip of an endpoint to an older generation than it had reached.
fn backward_flips(events: &[Event]) -> Vec<(u64, &str)> {
    let mut max: BTreeMap<&str, u64> = BTreeMap::new();
    let mut out = Vec::new();
    for e in events {
        if let EventKind::AliasFlipped { endpoint, to, .. } = &e.event {
            let m = max.entry(endpoint).or_insert(0);
            if *to < *m {
                out.push((e.t_ms, e.source.as_str()));
            }
            *m = (*m).max(*to);
        }
    }
    out
}

/// The October race's preconditions: (flips to a plan more than `keep` generations below the
/// newest emitted by then, cleanups that deleted something within `lease_ms` of another
/// enactor's flip). A design that never empties a name under schedules where both occur has
/// been tested against the race, not spared it.
fn race_preconditions(events: &[Event], keep: u64, lease_ms: u64) -> (u64, u64) {
    let mut newest = 0u64;
    let mut old = 0u64;
    let mut flips: Vec<(u64, &str)> = Vec::new();
    for e in events {
        match &e.event {
            EventKind::PlanEmitted { generation, .. } => newest = newest.max(*generation),
            EventKind::AliasFlipped { to, .. } => {
                if newest.saturating_sub(*to) > keep {
                    old += 1;
                }
                flips.push((e.t_ms, e.source.as_str()));
            }
            _ => {}
        }
    }
    let near = events
        .iter()
        .filter(|e| matches!(&e.event, EventKind::CleanupDeleted { generations, .. } if !generations.is_empty()))
        .filter(|c| flips.iter().any(|(t, who)| *who != c.source && t.abs_diff(c.t_ms) <= lease_ms))
        .count() as u64;
    (old, near)
}

/// A metric's value as text: a number, or `never` when absent.
pub fn show(v: Option<u64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "never".into())
}

/// Check `expect` against the run's invariant verdicts and facts.
pub fn evaluate(expect: &ImplExpect, invariants: &[InvariantResult], facts: &Facts) -> ExpectResult {
    let mut props = Vec::new();
    let find = |name: &str| invariants.iter().find(|i| i.name == name);
    let state = |i: Option<&InvariantResult>| match i {
        None => "not judged".to_string(),
        Some(i) if i.held => "held".to_string(),
        Some(i) => format!("broken: {}", i.first_violation.clone().unwrap_or_default()),
    };
    for inv in &expect.hold {
        let r = find(inv.as_str());
        props.push(PropertyResult { property: format!("{} holds", inv.as_str()), held: r.is_some_and(|r| r.held), measured: state(r), rate_floor_pct: None });
    }
    for (inv, why) in &expect.must_break {
        let r = find(inv.as_str());
        props.push(PropertyResult {
            property: format!("{} breaks ({why})", inv.as_str()),
            held: r.is_some_and(|r| !r.held),
            measured: state(r),
            rate_floor_pct: None,
        });
    }
    for (inv, why) in &expect.may_break {
        let r = find(inv.as_str());
        props.push(PropertyResult { property: format!("{} may break ({why})", inv.as_str()), held: r.is_some(), measured: state(r), rate_floor_pct: None });
    }
    for (metric, bound) in &expect.metrics {
        let v = facts.get(metric).copied().flatten();
        props.push(PropertyResult { property: bound.describe(*metric), held: bound.admits(v), measured: show(v), rate_floor_pct: bound.rate.map(|r| r.0) });
    }
    ExpectResult { met: props.iter().all(|p| p.held || p.rate_floor_pct.is_some()), properties: props }
}

/// Fewer runs than this and a rate property is reported, not judged.
pub const MIN_RUNS_FOR_A_RATE: u64 = 3;

/// One rate property of a row, judged over its runs.
#[derive(Debug, Clone, PartialEq)]
pub struct RateJudgement {
    pub property: String,
    pub floor_pct: u8,
    /// Runs in which it held, of the runs.
    pub rate: Rate,
    /// `None` with fewer than [`MIN_RUNS_FOR_A_RATE`] runs; else whether the rate is consistent
    /// with the floor.
    pub ok: Option<bool>,
}

impl RateJudgement {
    /// `takeovers >= 1: held 18/20 = 90.0% [69.9%, 97.2%], floor 65%: ok`.
    pub fn describe(&self) -> String {
        let verdict = match self.ok {
            None => format!("too few runs to judge (fewer than {MIN_RUNS_FOR_A_RATE})"),
            Some(true) => "ok".into(),
            Some(false) => "BELOW (the whole interval is under the floor)".into(),
        };
        format!("{}: held {}, floor {}%: {verdict}", self.property, self.rate.describe(), self.floor_pct)
    }
}

/// Judge the rate properties of one row (one plan and implementation) over its runs: a property
/// fails only when even the upper end of the 95% Wilson interval of its rate is below its
/// floor, i.e. the runs show that it happens less often than the table says (a one-sided test
/// at about 2.5%). One run never decides a rate.
pub fn judge_rates<'a>(runs: impl IntoIterator<Item = &'a ExpectResult>) -> Vec<RateJudgement> {
    let mut counts: BTreeMap<(&str, u8), (u64, u64)> = BTreeMap::new();
    for r in runs {
        for p in &r.properties {
            if let Some(floor) = p.rate_floor_pct {
                let c = counts.entry((p.property.as_str(), floor)).or_default();
                c.0 += p.held as u64;
                c.1 += 1;
            }
        }
    }
    counts
        .into_iter()
        .map(|((property, floor_pct), (k, n))| {
            let rate = Rate::of(k, n);
            let ok = (n >= MIN_RUNS_FOR_A_RATE).then(|| rate.high >= f64::from(floor_pct) / 100.0);
            RateJudgement { property: property.to_string(), floor_pct, rate, ok }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Bound, Invariant};

    fn ev(t: u64, source: &str, event: EventKind) -> Event {
        Event { t_ms: t, source: source.into(), event }
    }

    fn flip(t: u64, source: &str, endpoint: &str, to: u64) -> Event {
        ev(t, source, EventKind::AliasFlipped { endpoint: endpoint.into(), from: None, to, rollback: None })
    }

    fn plan(t: u64, g: u64) -> Event {
        ev(t, "planner", EventKind::PlanEmitted { generation: g, lbs: vec![], valid_until_ms: 0 })
    }

    fn outcome<'a>(enactors: &'a [String], events: &'a [Event]) -> RunOutcome<'a> {
        RunOutcome {
            total_empty_ms: 0,
            longest_empty_ms: 0,
            time_to_recovery_ms: Some(0),
            az_loss_reaction_ms: None,
            final_empty_endpoints: 0,
            enactors,
            events,
            stuck: &[],
            converge_ms: Some(0),
            truth: None,
            harness_calls_faulted: 0,
            change_p99_ms: None,
            cleanup_keep: 10,
            lock_lease_ms: 300,
        }
    }

    #[test]
    fn takeover_after_an_az_loss_and_stale_until_it() {
        let azs = vec!["a".to_string(), "b".to_string()];
        let loss = |t| ev(t, "fault:x", EventKind::FaultStarted { id: "x".into(), kind: "az-loss".into(), target: "enactor:0".into() });
        let events = vec![
            plan(900, 4),
            flip(950, "enactor:a", "regional", 4),
            loss(1000),
            plan(1400, 5),
            ev(3500, "enactor:b", EventKind::TookOver { reason: "silent".into() }),
            flip(3900, "enactor:b", "regional", 5),
        ];
        let f = facts(&outcome(&azs, &events));
        assert_eq!(f[&Metric::TakeoverAfterLossMs], Some(2500));
        assert_eq!(f[&Metric::FreshFlipsBeforeTakeover], Some(0));
        assert_eq!(f[&Metric::Takeovers], Some(1));
        assert_eq!(f[&Metric::BackwardFlipsAfterTakeover], Some(0));
        // A fresh plan applied before the takeover: DNS was not stale until it.
        let mut early = events.clone();
        early.insert(4, flip(2000, "enactor:a", "regional", 5));
        assert_eq!(facts(&outcome(&azs, &early))[&Metric::FreshFlipsBeforeTakeover], Some(1));
        // Without an az-loss the az-loss metrics are absent.
        let none = facts(&outcome(&azs, &[]));
        assert_eq!((none[&Metric::TakeoverAfterLossMs], none[&Metric::FreshFlipsBeforeTakeover]), (None, None));
        assert_eq!(none[&Metric::BackwardFlipsAfterTakeover], None);
    }

    #[test]
    fn backward_flips_stuck_and_unstuck_enactors() {
        let azs = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let events = vec![
            flip(1, "enactor:b", "regional", 9),
            ev(2, "enactor:b", EventKind::TookOver { reason: "r".into() }),
            flip(3, "enactor:a", "regional", 4),
            flip(4, "enactor:b", "regional", 3),
            flip(5, "enactor:a", "dualstack", 2),
        ];
        let stuck = vec!["enactor:a".to_string(), "enactor:c".to_string()];
        let f = facts(&RunOutcome { stuck: &stuck, ..outcome(&azs, &events) });
        assert_eq!(f[&Metric::BackwardFlips], Some(2));
        assert_eq!(f[&Metric::BackwardFlipsAfterTakeover], Some(1), "only the other enactor's flip back counts");
        assert_eq!((f[&Metric::StuckEnactors], f[&Metric::UnstuckEnactors]), (Some(2), Some(1)));
    }

    #[test]
    fn race_preconditions_count_old_plan_flips_and_cleanups_near_another_flip() {
        let azs = vec!["a".to_string(), "b".to_string()];
        let cleanup = |t: u64, who: &str, gens: Vec<u64>| ev(t, who, EventKind::CleanupDeleted { endpoint: "regional".into(), generations: gens, active: None });
        let events = vec![
            plan(100, 1),
            plan(200, 20),
            // a flips to g5 when g20 is the newest: more than 10 generations old.
            flip(1000, "enactor:a", "regional", 5),
            // b's cleanup 200 ms later (within the 300 ms lease) deletes trees.
            cleanup(1200, "enactor:b", vec![4, 5]),
            // a's own cleanup right after its flip does not count, nor does one that deleted nothing.
            cleanup(1100, "enactor:a", vec![3]),
            cleanup(1250, "enactor:b", vec![]),
            // A fresh flip is no precondition; a cleanup far from any flip neither.
            flip(2000, "enactor:b", "regional", 20),
            cleanup(5000, "enactor:a", vec![1]),
        ];
        let f = facts(&outcome(&azs, &events));
        assert_eq!((f[&Metric::OldPlanFlips], f[&Metric::CleanupsNearFlip]), (Some(1), Some(1)));
        let none = facts(&outcome(&azs, &[]));
        assert_eq!((none[&Metric::OldPlanFlips], none[&Metric::CleanupsNearFlip]), (Some(0), Some(0)));
    }

    #[test]
    fn properties_are_each_asserted() {
        let inv = |name: &str, held| InvariantResult { name: name.into(), held, first_violation: (!held).then(|| "1 ms: x".into()) };
        let invariants = vec![inv("generation-monotonic", false), inv("converges", true), inv("active-never-deleted", false)];
        let mut e = ImplExpect { hold: vec![Invariant::Converges], ..ImplExpect::default() };
        e.may_break.insert(Invariant::GenerationMonotonic, "one-time check".into());
        e.must_break.insert(Invariant::ActiveNeverDeleted, "cleanup has no in-use check".into());
        e.metrics.insert(Metric::RecoveryMs, Bound { never: true, measured: "m".into(), ..Bound::default() });
        e.metrics.insert(Metric::StuckEnactors, Bound { min: Some(3), measured: "m".into(), ..Bound::default() });
        let mut f = Facts::new();
        f.insert(Metric::RecoveryMs, None);
        f.insert(Metric::StuckEnactors, Some(2));
        let r = evaluate(&e, &invariants, &f);
        assert!(!r.met);
        assert_eq!(r.failures(), vec!["stuck-enactors >= 3: measured 2".to_string()]);
        f.insert(Metric::StuckEnactors, Some(3));
        let r = evaluate(&e, &invariants, &f);
        assert!(r.met, "{r:?}");
        assert_eq!(r.properties.len(), 5);
        // An invariant that must hold but broke fails; one the run did not judge fails too.
        let r = evaluate(&ImplExpect { hold: vec![Invariant::GenerationMonotonic, Invariant::NoEmptyAnswer], ..ImplExpect::default() }, &invariants, &f);
        assert_eq!(r.failures().len(), 2);
        assert!(r.failures()[1].contains("not judged"));
    }

    #[test]
    fn a_rate_property_is_reported_per_run_and_judged_over_runs() {
        use crate::scenario::Percent;
        let mut e = ImplExpect::default();
        e.metrics.insert(Metric::Takeovers, Bound { min: Some(1), rate: Some(Percent(65)), measured: "m".into(), ..Bound::default() });
        e.metrics.insert(Metric::StuckEnactors, Bound { max: Some(0), measured: "m".into(), ..Bound::default() });
        let run = |takeovers: u64| {
            let mut f = Facts::new();
            f.insert(Metric::Takeovers, Some(takeovers));
            f.insert(Metric::StuckEnactors, Some(0));
            evaluate(&e, &[], &f)
        };
        // A run without a takeover still meets the expectation: it reports the miss.
        let miss = run(0);
        assert!(miss.met && miss.failures().is_empty(), "{miss:?}");
        assert_eq!(miss.rate_misses(), vec!["takeovers >= 1 (a rate, >= 65% of seeds): measured 0".to_string()]);
        // A required property still fails the run.
        let mut f = Facts::new();
        f.insert(Metric::Takeovers, Some(1));
        f.insert(Metric::StuckEnactors, Some(1));
        assert!(!evaluate(&e, &[], &f).met);
        // Over runs: 18 of 20 is consistent with 65%; 2 of 20 is not; one run decides nothing.
        let runs: Vec<ExpectResult> = (0..20).map(|i| run(u64::from(i >= 2))).collect();
        let j = judge_rates(&runs);
        assert_eq!((j.len(), j[0].rate.k, j[0].rate.n, j[0].ok), (1, 18, 20, Some(true)));
        assert!(j[0].describe().starts_with("takeovers >= 1: held 18/20 = 90.0% ["), "{}", j[0].describe());
        let runs: Vec<ExpectResult> = (0..20).map(|i| run(u64::from(i < 2))).collect();
        assert_eq!(judge_rates(&runs)[0].ok, Some(false));
        assert_eq!(judge_rates([&run(0)])[0].ok, None);
        // Three misses in three runs are enough to say a 65% floor is wrong (upper end 56%).
        assert_eq!(judge_rates(&[run(0), run(0), run(0)])[0].ok, Some(false));
    }
}

/// How one run of one implementation fares against its plan's `expect:` entry: the chaos
/// suite's judgement, shared with the nightly's (so both judge by one table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunJudgement {
    /// The plan expects nothing of it (a nemesis plan, whose outcome is a rate over seeds).
    Unjudged,
    /// Every expected property held and every applicable fault fired: how many properties.
    Met(usize),
    /// What failed, one line each.
    Missed(Vec<String>),
}

/// Judge a run: its expected properties, and that every scheduled fault that applies fired (a
/// fault that never fired tested nothing).
pub fn judge_run(expectation: Option<&ExpectResult>, faults: &[crate::summary::FaultResult]) -> RunJudgement {
    let Some(x) = expectation else { return RunJudgement::Unjudged };
    let unfired: Vec<&str> = faults.iter().filter(|f| f.applicable && !f.fired).map(|f| f.id.as_str()).collect();
    let mut missed = Vec::new();
    if !unfired.is_empty() {
        missed.push(format!("scheduled faults never fired: {unfired:?}"));
    }
    missed.extend(x.failures());
    if missed.is_empty() {
        RunJudgement::Met(x.properties.len())
    } else {
        RunJudgement::Missed(missed)
    }
}
