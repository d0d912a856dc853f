//! The verdict of one implementation's run: from its event log, classified probes, fault
//! results and control-plane samples to an [`ImplementationSummary`]. Pure: no IO, no clock.

use std::collections::BTreeMap;

use super::expect::{self, RunOutcome};
use super::{Sample, CONVERGED_TAIL};
use crate::events::{Event, EventKind};
use crate::model::EnactorKind;
use crate::probe::ProbeClass;
use crate::scenario::{ImplExpect, Invariant, SloSpec};
use crate::summary::{CrossCheck, EmptyWindow, FaultResult, FinalState, Flip, ImplementationSummary, Latency, Verdict, Window};

/// The plan's SLOs, as the verdict needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slo {
    pub max_empty_window_ms: u64,
    pub max_time_to_recovery_ms: u64,
    pub invariants: Vec<Invariant>,
}

impl Slo {
    pub fn of(spec: &SloSpec) -> Slo {
        Slo {
            max_empty_window_ms: spec.max_empty_window.ms(),
            max_time_to_recovery_ms: spec.max_time_to_recovery.ms(),
            invariants: spec.invariants.clone(),
        }
    }
}

/// One control-plane sample: (t_ms, endpoint label, the endpoint's A answer was empty).
pub type ControlPlaneSample = (u64, String, bool);

/// Everything recorded about one implementation's run.
#[derive(Debug, Clone)]
pub struct Observed<'a> {
    pub implementation: EnactorKind,
    /// The enactors' AZs.
    pub enactors: &'a [String],
    /// The endpoints' labels.
    pub endpoints: &'a [String],
    pub events: &'a [Event],
    pub samples: &'a [Sample],
    pub latency: Latency,
    pub faults: Vec<FaultResult>,
    pub control_plane: &'a [ControlPlaneSample],
    /// Per endpoint, the control-plane answer when the run ended.
    pub final_state: BTreeMap<String, FinalState>,
    /// The run's last moment (event-log ms).
    pub end_ms: u64,
    pub events_path: String,
    pub probes_path: String,
}

/// Latency percentiles of answered probes, from the probers' histogram (microseconds).
pub fn latency(hist: &hdrhistogram::Histogram<u64>) -> Latency {
    Latency {
        p50_us: hist.value_at_quantile(0.5),
        p90_us: hist.value_at_quantile(0.9),
        p99_us: hist.value_at_quantile(0.99),
        max_us: hist.max(),
        count: hist.len(),
    }
}

/// Judge the run against the plan's SLOs and, when given, the implementation's expectations.
pub fn summarise(slo: &Slo, expect: Option<&ImplExpect>, o: Observed<'_>) -> ImplementationSummary {
    let windows = super::windows(o.samples, o.events, o.end_ms);
    let empty: Vec<EmptyWindow> = windows
        .iter()
        .filter(|w| w.class == ProbeClass::Empty)
        .map(|w| EmptyWindow { name: w.name.clone(), start_ms: w.start_ms, end_ms: w.end_ms, duration_ms: w.duration_ms })
        .collect();
    // Timeouts alone are the loss of the measurement, not an outage of the name.
    let outage: Vec<&Window> = windows.iter().filter(|w| w.class != ProbeClass::Timeout).collect();
    let time_to_recovery_ms = if outage.iter().any(|w| w.recovery_ms.is_none()) {
        None
    } else {
        Some(outage.iter().filter_map(|w| w.recovery_ms).max().unwrap_or(0))
    };
    let invariants: Vec<_> = slo
        .invariants
        .iter()
        .map(|inv| match inv {
            Invariant::GenerationMonotonic => super::generation_monotonic(o.events),
            Invariant::ActiveNeverDeleted => super::active_never_deleted(o.events),
            Invariant::NoEmptyAnswer => super::no_empty_answer(&windows),
            Invariant::Converges => super::converges(o.samples, CONVERGED_TAIL),
        })
        .collect();
    let mut probe_counts: BTreeMap<String, u64> = BTreeMap::new();
    for s in o.samples {
        *probe_counts.entry(s.class.as_str().to_string()).or_default() += 1;
    }
    let (generations, counters) = history(o.events);
    let total_empty_ms: u64 = empty.iter().map(|w| w.duration_ms).sum();
    let longest_empty_ms = empty.iter().map(|w| w.duration_ms).max().unwrap_or(0);
    let first_bad = outage.iter().map(|w| w.start_ms).min();
    let time_to_detect_ms = first_bad.and_then(|start| super::detect_after(o.events, start));
    let stuck = super::stuck_enactors(o.events);
    let mut failures = Vec::new();
    if longest_empty_ms > slo.max_empty_window_ms {
        failures.push(format!("longest empty-answer window {longest_empty_ms} ms > max-empty-window {} ms", slo.max_empty_window_ms));
    }
    match time_to_recovery_ms {
        None => failures.push("an outage never recovered (time to recovery: never)".into()),
        Some(t) if t > slo.max_time_to_recovery_ms => {
            failures.push(format!("time to recovery {t} ms > max-time-to-recovery {} ms", slo.max_time_to_recovery_ms))
        }
        _ => {}
    }
    for inv in &invariants {
        if !inv.held {
            failures.push(format!("invariant {} violated: {}", inv.name, inv.first_violation.clone().unwrap_or_default()));
        }
    }
    for f in &o.faults {
        if f.applicable && !f.fired {
            failures.push(format!("fault {} ({}) never fired: {}", f.id, f.kind.as_str(), f.evidence));
        }
    }
    let az_loss_reaction_ms = az_loss_reaction(o.endpoints, o.events);
    let final_empty = o.final_state.values().filter(|f| f.empty).count() as u64;
    let reproduced_october_2025 = final_empty > 0 && o.enactors.iter().all(|az| stuck.contains_key(&format!("enactor:{az}")));
    let metrics = expect::facts(&RunOutcome {
        total_empty_ms,
        longest_empty_ms,
        time_to_recovery_ms,
        az_loss_reaction_ms,
        final_empty_endpoints: final_empty,
        enactors: o.enactors,
        events: o.events,
    });
    let expectation = expect.map(|e| expect::evaluate(e, &invariants, &metrics));
    ImplementationSummary {
        implementation: o.implementation.as_str().into(),
        enactors: o.enactors.to_vec(),
        run_ms: o.end_ms,
        time_to_recovery_after_fault_ms: outage.iter().filter_map(|w| w.recovery_after_fault_ms).max(),
        time_to_detect_ms,
        total_empty_ms,
        longest_empty_ms,
        availability_pct: super::availability(o.samples),
        cross_check: cross_check(o.control_plane, &empty),
        empty_windows: empty,
        time_to_recovery_ms,
        probe_counts,
        latency: o.latency,
        windows,
        invariants,
        faults: o.faults,
        stuck: stuck.into_iter().map(|(k, v)| (k, v.into_iter().collect())).collect(),
        generations,
        counters,
        verdict: Verdict { passed: failures.is_empty(), failures },
        final_state: o.final_state,
        az_loss_reaction_ms,
        reproduced_october_2025,
        metrics,
        expectation,
        events_path: o.events_path,
        probes_path: o.probes_path,
    }
}

/// Per endpoint the applied generation over time, and counts of the events that matter.
fn history(events: &[Event]) -> (BTreeMap<String, Vec<Flip>>, BTreeMap<String, u64>) {
    let mut generations: BTreeMap<String, Vec<Flip>> = BTreeMap::new();
    let mut counters: BTreeMap<String, u64> = BTreeMap::new();
    for e in events {
        let key = match &e.event {
            EventKind::AliasFlipped { endpoint, to, .. } => {
                generations.entry(endpoint.clone()).or_default().push(Flip { t_ms: e.t_ms, generation: *to, enactor: e.source.clone() });
                "flips"
            }
            EventKind::PlanEmitted { .. } => "plans",
            EventKind::BatchCommitted { .. } => "batches_committed",
            EventKind::BatchRejected { .. } => "batches_rejected",
            EventKind::LockBusy { .. } => "lock_busy",
            EventKind::CleanupDeleted { .. } => "cleanups",
            EventKind::Alarm { .. } => "alarms",
            EventKind::Stuck { .. } => "stuck",
            _ => continue,
        };
        *counters.entry(key.into()).or_default() += 1;
    }
    (generations, counters)
}

/// From the first az-loss fault's start to the first flip of every endpoint to a plan emitted
/// after it: how long DNS kept the lost zone's load balancers. `None` without an az-loss, or
/// when some endpoint never got such a plan.
pub fn az_loss_reaction(endpoints: &[String], events: &[Event]) -> Option<u64> {
    let loss = events.iter().find(|e| matches!(&e.event, EventKind::FaultStarted { kind, .. } if kind == "az-loss"))?;
    let first_after = events.iter().find_map(|e| match &e.event {
        EventKind::PlanEmitted { generation, .. } if e.t_ms >= loss.t_ms => Some(*generation),
        _ => None,
    })?;
    let mut worst = 0;
    for label in endpoints {
        let flip = events.iter().find(|e| {
            e.t_ms >= loss.t_ms && matches!(&e.event, EventKind::AliasFlipped { endpoint, to, .. } if endpoint == label && *to >= first_after)
        })?;
        worst = worst.max(flip.t_ms - loss.t_ms);
    }
    Some(worst)
}

/// Probe-measured empty time (A records) against the control plane's own empty samples.
pub fn cross_check(cp: &[ControlPlaneSample], empty: &[EmptyWindow]) -> CrossCheck {
    let mut by_ep: BTreeMap<&str, Vec<(u64, bool)>> = BTreeMap::new();
    for (t, label, e) in cp {
        by_ep.entry(label.as_str()).or_default().push((*t, *e));
    }
    let (mut cp_empty, mut difference, mut gaps) = (0, 0, Vec::new());
    for (label, samples) in &by_ep {
        let mine: u64 = samples.windows(2).filter(|w| w[0].1).map(|w| w[1].0 - w[0].0).sum();
        gaps.extend(samples.windows(2).map(|w| w[1].0 - w[0].0));
        let probed: u64 = empty.iter().filter(|w| w.name == format!("{label} A")).map(|w| w.duration_ms).sum();
        cp_empty += mine;
        difference += mine.abs_diff(probed);
    }
    gaps.sort_unstable();
    CrossCheck {
        control_plane_empty_ms: cp_empty,
        probe_empty_ms: empty.iter().filter(|w| w.name.ends_with(" A")).map(|w| w.duration_ms).sum(),
        difference_ms: difference,
        control_plane_samples: cp.len() as u64,
        control_plane_interval_ms: gaps.get(gaps.len() / 2).copied().unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::FaultResult;
    use ProbeClass::*;

    fn ev(t: u64, source: &str, event: EventKind) -> Event {
        Event { t_ms: t, source: source.into(), event }
    }

    fn s(t: u64, name: &str, class: ProbeClass) -> Sample {
        Sample { t_ms: t, name: name.into(), class }
    }

    fn slo() -> Slo {
        Slo { max_empty_window_ms: 0, max_time_to_recovery_ms: 1_000, invariants: vec![Invariant::NoEmptyAnswer, Invariant::GenerationMonotonic] }
    }

    fn observed<'a>(azs: &'a [String], eps: &'a [String], events: &'a [Event], samples: &'a [Sample], cp: &'a [ControlPlaneSample]) -> Observed<'a> {
        Observed {
            implementation: EnactorKind::Legacy,
            enactors: azs,
            endpoints: eps,
            events,
            samples,
            latency: Latency::default(),
            faults: vec![],
            control_plane: cp,
            final_state: BTreeMap::new(),
            end_ms: 1_000,
            events_path: "e".into(),
            probes_path: "p".into(),
        }
    }

    #[test]
    fn an_empty_window_fails_the_slos_and_counts_everywhere() {
        let azs = vec!["a".to_string()];
        let eps = vec!["regional".to_string()];
        let mut samples = vec![s(0, "regional A", Current), s(10, "regional A", Empty), s(20, "regional A", Empty)];
        samples.extend((3..10).map(|i| s(i * 10, "regional A", Current)));
        let events = vec![
            ev(12, "enactor:a", EventKind::Alarm { endpoint: None, reason: "r".into() }),
            ev(1, "enactor:a", EventKind::AliasFlipped { endpoint: "regional".into(), from: None, to: 5, rollback: None }),
        ];
        let cp = vec![(0, "regional".into(), false), (10, "regional".into(), true), (30, "regional".into(), false)];
        let sum = summarise(&slo(), None, observed(&azs, &eps, &events, &samples, &cp));
        assert_eq!((sum.total_empty_ms, sum.longest_empty_ms, sum.time_to_recovery_ms), (20, 20, Some(20)));
        assert_eq!(sum.time_to_detect_ms, Some(2), "one time-to-detect: the alarm 2 ms after the window opened");
        assert_eq!(sum.windows[0].detect_ms, Some(2));
        assert!(!sum.verdict.passed);
        assert!(sum.verdict.failures[0].contains("longest empty-answer window 20 ms"), "{:?}", sum.verdict.failures);
        assert_eq!(sum.probe_counts["empty"], 2);
        assert_eq!((sum.cross_check.control_plane_empty_ms, sum.cross_check.probe_empty_ms, sum.cross_check.difference_ms), (20, 20, 0));
        assert_eq!(sum.metrics[&crate::scenario::Metric::EmptyMs], Some(20));
        assert_eq!(sum.counters["alarms"], 1);
    }

    #[test]
    fn a_fault_that_never_fired_fails_and_october_needs_every_enactor_stuck() {
        let azs = vec!["a".to_string(), "b".to_string()];
        let eps = vec!["regional".to_string()];
        let samples: Vec<Sample> = (0..10).map(|i| s(i * 10, "regional A", Current)).collect();
        let stuck = |az: &str| ev(5, &format!("enactor:{az}"), EventKind::Stuck { endpoint: "regional".into(), reason: "r".into() });
        let mut o = observed(&azs, &eps, &[], &samples, &[]);
        o.faults = vec![FaultResult {
            id: "f".into(),
            kind: crate::scenario::vocab::FaultKind::Flood,
            target: "planner".into(),
            start_ms: None,
            end_ms: None,
            fired: false,
            applicable: true,
            evidence: "0 plans".into(),
        }];
        o.final_state.insert("regional".into(), FinalState { active: Some(3), empty: true, addresses: 0 });
        let one = [stuck("a")];
        o.events = &one;
        let sum = summarise(&slo(), None, o.clone());
        assert!(sum.verdict.failures.iter().any(|f| f.contains("fault f (flood) never fired")));
        assert!(!sum.reproduced_october_2025, "b was never stuck");
        let both = [stuck("a"), stuck("b")];
        o.events = &both;
        assert!(summarise(&slo(), None, o).reproduced_october_2025);
    }

    #[test]
    fn az_loss_reaction_waits_for_every_endpoint() {
        let eps = vec!["regional".to_string(), "dualstack".to_string()];
        let flip = |t, ep: &str, to| ev(t, "enactor:b", EventKind::AliasFlipped { endpoint: ep.into(), from: None, to, rollback: None });
        let mut events = vec![
            ev(100, "fault:x", EventKind::FaultStarted { id: "x".into(), kind: "az-loss".into(), target: "enactor:0".into() }),
            ev(300, "planner", EventKind::PlanEmitted { generation: 7, lbs: vec![], valid_until_ms: 0 }),
            flip(200, "regional", 6),
            flip(900, "regional", 7),
        ];
        assert_eq!(az_loss_reaction(&eps, &events), None, "dualstack never got a plan made after the loss");
        events.push(flip(1_400, "dualstack", 8));
        assert_eq!(az_loss_reaction(&eps, &events), Some(1_300));
    }
}
