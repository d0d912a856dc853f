//! The verdict of one implementation's run: from its event log, classified probes, fault
//! results and control-plane samples to an [`ImplementationSummary`]. Pure: no IO, no clock.

use std::collections::BTreeMap;

use super::expect::{self, RunOutcome};
use super::{truth, Sample, CONVERGED_TAIL};
use crate::events::{Event, EventKind};
use crate::model::{zone_normalize, EnactorKind, Endpoint, RrKind};
use crate::probe::{cached_view, Outcome, ProbeClass, ProbeRecord};
use crate::scenario::{ImplExpect, Invariant, SloSpec};
use crate::summary::{
    CrossCheck, EmptyWindow, FaultResult, FinalState, Flip, ImplementationSummary, InvariantResult, Latency, TruthReport, Verdict, Window,
};
use crate::truth::Commit;

/// The plan's SLOs, as the verdict needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slo {
    pub max_empty_window_ms: u64,
    pub max_time_to_recovery_ms: u64,
    pub invariants: Vec<Invariant>,
    pub converge_within_ms: u64,
}

impl Slo {
    pub fn of(spec: &SloSpec) -> Slo {
        Slo {
            max_empty_window_ms: spec.max_empty_window.ms(),
            max_time_to_recovery_ms: spec.max_time_to_recovery.ms(),
            invariants: spec.invariants.clone(),
            converge_within_ms: spec.converge_within.ms(),
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
    pub endpoints: &'a [Endpoint],
    pub events: &'a [Event],
    pub samples: &'a [Sample],
    /// The raw probes, for the caching resolver's view.
    pub records: &'a [ProbeRecord],
    /// The truth log, when the strict gateway kept one.
    pub truth: Option<&'a [Commit]>,
    /// How late a probe may see a change: the propagation delay plus two probe intervals.
    pub probe_slack_ms: u64,
    /// Requests of the harness's own callers a fault matched.
    pub harness_calls_faulted: u64,
    /// The API's latency per operation, as the gateway saw it.
    pub api_latency: BTreeMap<String, Latency>,
    pub latency: Latency,
    pub faults: Vec<FaultResult>,
    pub control_plane: &'a [ControlPlaneSample],
    /// Per endpoint, the control-plane answer when the run ended.
    pub final_state: BTreeMap<String, FinalState>,
    /// The run's last moment (event-log ms).
    pub end_ms: u64,
    /// The enactors' cleanup keep and lock lease (for the race's preconditions).
    pub cleanup_keep: u64,
    pub lock_lease_ms: u64,
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
    let last_fault_end = super::fault_spans(o.events).iter().filter_map(|f| f.end_ms.or(f.start_ms.into())).max().unwrap_or(0);
    let truth_intervals = o.truth.map(|c| truth::empty_intervals(c, o.end_ms));
    let converge_ms = o.truth.and_then(|c| truth::converged_after(c, o.events, last_fault_end, o.end_ms));
    // Per endpoint, what the name answered when the run ended: the backend's own record when
    // there is one.
    let final_state = match o.truth {
        Some(c) if !c.is_empty() => truth::final_state(c),
        _ => o.final_state,
    };
    let invariants: Vec<_> = slo
        .invariants
        .iter()
        .map(|inv| match (inv, o.truth, &truth_intervals) {
            (Invariant::GenerationMonotonic, Some(c), _) => truth::generation_monotonic(c),
            (Invariant::ActiveNeverDeleted, Some(c), _) => truth::active_never_deleted(c),
            (Invariant::NoEmptyAnswer, _, Some(iv)) => truth::no_empty_answer(iv),
            (Invariant::Converges, Some(_), _) => {
                let ends_empty: Vec<&str> = final_state.iter().filter(|(_, f)| f.empty).map(|(e, _)| e.as_str()).collect();
                truth::converges(converge_ms, last_fault_end, slo.converge_within_ms, &ends_empty, o.end_ms)
            }
            (Invariant::GenerationMonotonic, None, _) => super::generation_monotonic(o.events),
            (Invariant::ActiveNeverDeleted, None, _) => super::active_never_deleted(o.events),
            (Invariant::NoEmptyAnswer, _, None) => super::no_empty_answer(&windows),
            (Invariant::Converges, None, _) => super::converges(o.samples, CONVERGED_TAIL),
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
    let stuck = truth::stuck(o.events, o.enactors, o.end_ms);
    let stuck_names: Vec<String> = stuck.keys().cloned().collect();
    let truth_report = match (o.truth, truth_intervals) {
        (Some(commits), Some(intervals)) => {
            let (matched, missed, unexplained) = truth::compare(&empty, &intervals, o.end_ms, o.probe_slack_ms);
            Some(TruthReport {
                commits: commits.len() as u64,
                drift_commits: commits.iter().filter(|c| !c.drift.is_empty()).count() as u64,
                empty_ms: intervals.iter().map(|w| w.duration_ms).sum(),
                empty_windows: intervals,
                probe_windows: matched,
                missed,
                unexplained,
                disagreements: disagreements(o.events, commits),
            })
        }
        _ => None,
    };
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
    let labels: Vec<String> = o.endpoints.iter().map(|e| e.label.clone()).collect();
    let az_loss_reaction_ms = az_loss_reaction(&labels, o.events);
    let final_empty = final_state.values().filter(|f| f.empty).count() as u64;
    let reproduced_october_2025 = final_empty > 0 && o.enactors.iter().all(|az| stuck.contains_key(&format!("enactor:{az}")));
    let metrics = expect::facts(&RunOutcome {
        total_empty_ms,
        longest_empty_ms,
        time_to_recovery_ms,
        az_loss_reaction_ms,
        final_empty_endpoints: final_empty,
        enactors: o.enactors,
        events: o.events,
        stuck: &stuck_names,
        converge_ms,
        truth: truth_report.as_ref(),
        harness_calls_faulted: o.harness_calls_faulted,
        change_p99_ms: o.api_latency.get("change-resource-record-sets").map(|l| l.p99_us / 1000),
        cleanup_keep: o.cleanup_keep,
        lock_lease_ms: o.lock_lease_ms,
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
        stuck: stuck.into_iter().map(|(k, v)| (k, vec![v])).collect(),
        generations,
        counters,
        verdict: Verdict { passed: failures.is_empty(), failures },
        final_state,
        az_loss_reaction_ms,
        reproduced_october_2025,
        metrics,
        expectation,
        truth: truth_report,
        converge_ms,
        harness_calls_faulted: o.harness_calls_faulted,
        backend_calls: None,
        api_latency: o.api_latency,
        cached_empty_ms: cached_empty(o.endpoints, o.records),
        events_path: o.events_path,
        probes_path: o.probes_path,
    }
}

/// Where the enactors' own events disagree with the truth log: an invariant judged differently.
fn disagreements(events: &[Event], commits: &[Commit]) -> Vec<String> {
    let mut out = Vec::new();
    for (by_events, by_truth) in [
        (super::generation_monotonic(events), truth::generation_monotonic(commits)),
        (super::active_never_deleted(events), truth::active_never_deleted(commits)),
    ] {
        if by_events.held != by_truth.held {
            let say = |r: &InvariantResult| r.first_violation.clone().unwrap_or_else(|| "held".into());
            out.push(format!("{}: the enactors' events say {}; the backend's history says {}", by_truth.name, say(&by_events), say(&by_truth)));
        }
    }
    out
}

/// Per probed name, the empty-answer time seen through a caching resolver in front of the
/// authoritative data plane (`probe::cached_view`): from each empty cached answer to the next.
pub fn cached_empty(endpoints: &[Endpoint], records: &[ProbeRecord]) -> BTreeMap<String, u64> {
    let view = cached_view(records);
    let mut by_name: BTreeMap<String, Vec<(u64, bool)>> = BTreeMap::new();
    for c in &view {
        let Some(ep) = endpoints.iter().find(|e| zone_normalize(&e.name()) == c.name) else { continue };
        let qtype = if c.qtype == RrKind::Aaaa { "AAAA" } else { "A" };
        let empty = matches!(&c.outcome, Outcome::Answer { rcode: crate::answer::Rcode::NoError, addrs, .. } if addrs.is_empty());
        by_name.entry(format!("{} {qtype}", ep.label)).or_default().push((c.t_ms, empty));
    }
    by_name
        .into_iter()
        .map(|(name, mut seen)| {
            seen.sort_by_key(|(t, _)| *t);
            let total = seen.windows(2).filter(|w| w[0].1).map(|w| w[1].0 - w[0].0).sum();
            (name, total)
        })
        .collect()
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
    use crate::truth::{EndpointTruth, NameTruth};
    use ProbeClass::*;

    fn ev(t: u64, source: &str, event: EventKind) -> Event {
        Event { t_ms: t, source: source.into(), event }
    }

    fn s(t: u64, name: &str, class: ProbeClass) -> Sample {
        Sample { t_ms: t, name: name.into(), class }
    }

    fn slo() -> Slo {
        Slo {
            max_empty_window_ms: 0,
            max_time_to_recovery_ms: 1_000,
            invariants: vec![Invariant::NoEmptyAnswer, Invariant::GenerationMonotonic],
            converge_within_ms: 10_000,
        }
    }

    fn regional() -> Vec<Endpoint> {
        vec![Endpoint::new("regional", "r.test.", "Z1", false)]
    }

    fn observed<'a>(azs: &'a [String], eps: &'a [Endpoint], events: &'a [Event], samples: &'a [Sample]) -> Observed<'a> {
        Observed {
            implementation: EnactorKind::Legacy,
            enactors: azs,
            endpoints: eps,
            events,
            samples,
            records: &[],
            truth: None,
            probe_slack_ms: 25,
            harness_calls_faulted: 0,
            api_latency: BTreeMap::new(),
            latency: Latency::default(),
            faults: vec![],
            control_plane: &[],
            final_state: BTreeMap::new(),
            end_ms: 1_000,
            cleanup_keep: 10,
            lock_lease_ms: 300,
            events_path: "e".into(),
            probes_path: "p".into(),
        }
    }

    fn commit(t: u64, active: u64, tree: bool, empty: bool) -> Commit {
        Commit {
            t_ms: t,
            zone: "r.test.".into(),
            zone_id: "Z1".into(),
            change_id: format!("c{t}"),
            caller: "use1-az2".into(),
            endpoints: vec![EndpointTruth { endpoint: "regional".into(), active: Some(active), active_tree: tree }],
            answers: vec![NameTruth { name: "regional A".into(), empty, addrs: vec![] }],
            drift: vec![],
        }
    }

    #[test]
    fn an_empty_window_fails_the_slos_and_counts_everywhere() {
        let azs = vec!["a".to_string()];
        let eps = regional();
        let mut samples = vec![s(0, "regional A", Current), s(10, "regional A", Empty), s(20, "regional A", Empty)];
        samples.extend((3..10).map(|i| s(i * 10, "regional A", Current)));
        let events = vec![
            ev(12, "enactor:a", EventKind::Alarm { endpoint: None, reason: "r".into() }),
            ev(1, "enactor:a", EventKind::AliasFlipped { endpoint: "regional".into(), from: None, to: 5, rollback: None }),
        ];
        let sum = summarise(&slo(), None, observed(&azs, &eps, &events, &samples));
        assert_eq!((sum.total_empty_ms, sum.longest_empty_ms, sum.time_to_recovery_ms), (20, 20, Some(20)));
        assert_eq!(sum.time_to_detect_ms, Some(2), "one time-to-detect: the alarm 2 ms after the window opened");
        assert_eq!(sum.windows[0].detect_ms, Some(2));
        assert!(!sum.verdict.passed);
        assert!(sum.verdict.failures[0].contains("longest empty-answer window 20 ms"), "{:?}", sum.verdict.failures);
        assert_eq!(sum.probe_counts["empty"], 2);
        assert_eq!(sum.metrics[&crate::scenario::Metric::EmptyMs], Some(20));
        assert_eq!(sum.counters["alarms"], 1);
        assert!(sum.truth.is_none(), "no truth log without the gateway");
    }

    #[test]
    fn with_a_truth_log_the_invariants_and_the_final_state_are_the_backends() {
        let azs = vec!["a".to_string()];
        let eps = regional();
        let samples: Vec<Sample> = (0..10).map(|i| s(i * 10, "regional A", Current)).collect();
        // The enactors' events claim a forward flip; the backend went back from g6 to g4 and
        // held an empty answer for 30 ms that no probe saw.
        let events = vec![ev(1, "enactor:a", EventKind::AliasFlipped { endpoint: "regional".into(), from: None, to: 6, rollback: None })];
        let commits = vec![commit(0, 6, true, false), commit(100, 4, true, false), commit(200, 4, false, true), commit(230, 7, true, false)];
        let mut o = observed(&azs, &eps, &events, &samples);
        o.truth = Some(&commits);
        let sum = summarise(&slo(), None, o);
        let broken: Vec<&str> = sum.invariants.iter().filter(|i| !i.held).map(|i| i.name.as_str()).collect();
        assert_eq!(broken, vec!["no-empty-answer", "generation-monotonic"]);
        let t = sum.truth.as_ref().unwrap();
        assert_eq!((t.commits, t.empty_ms, t.missed.len(), t.unexplained.len()), (4, 30, 1, 0));
        assert!(t.disagreements[0].starts_with("generation-monotonic"), "{:?}", t.disagreements);
        assert_eq!(sum.final_state["regional"].active, Some(7));
    }

    #[test]
    fn converging_then_ending_empty_breaks_converges() {
        // backend-pause x single, seed 8: converged 1.4 s after the freeze, then the old
        // primary's late flip met the new primary's cleanup and the name ended empty.
        let azs = vec!["a".to_string()];
        let eps = regional();
        let samples: Vec<Sample> = (0..10).map(|i| s(i * 10, "regional A", Current)).collect();
        let events = vec![ev(1, "planner", EventKind::PlanEmitted { generation: 6, lbs: vec![], valid_until_ms: 0 })];
        let mut slo = slo();
        slo.invariants = vec![Invariant::Converges];
        let ends = |last: Commit| {
            let commits = vec![commit(0, 6, true, false), last];
            let mut o = observed(&azs, &eps, &events, &samples);
            o.truth = Some(&commits);
            summarise(&slo, None, o).invariants[0].clone()
        };
        assert!(ends(commit(500, 6, true, false)).held);
        let broken = ends(commit(500, 6, false, true));
        assert!(broken.first_violation.as_deref().is_some_and(|v| v.contains("regional ended with no records")), "{broken:?}");
    }

    #[test]
    fn a_fault_that_never_fired_fails_and_october_needs_every_enactor_stuck() {
        let azs = vec!["a".to_string(), "b".to_string()];
        let eps = regional();
        let samples: Vec<Sample> = (0..10).map(|i| s(i * 10, "regional A", Current)).collect();
        let missing = "Tried to create an alias that targets g3.r.test., type A in zone Z1, but that target was not found";
        let rejected = |az: &str, t: u64| {
            ev(t, &format!("enactor:{az}"), EventKind::BatchRejected {
                endpoint: "regional".into(), generation: 9, purpose: "apply".into(), code: "InvalidChangeBatch".into(),
                message: missing.into(), attempt: 1, backoff_ms: 10, latency_ms: 5,
            })
        };
        let mut o = observed(&azs, &eps, &[], &samples);
        o.faults = vec![FaultResult {
            id: "f".into(),
            kind: crate::scenario::FaultKind::Flood,
            target: "planner".into(),
            start_ms: None,
            end_ms: None,
            fired: false,
            applicable: true,
            evidence: "0 plans".into(),
        }];
        o.final_state.insert("regional".into(), FinalState { active: Some(3), empty: true, addresses: 0 });
        let one: Vec<Event> = (0..3).map(|i| rejected("a", i)).collect();
        o.events = &one;
        let sum = summarise(&slo(), None, o.clone());
        assert!(sum.verdict.failures.iter().any(|f| f.contains("fault f (flood) never fired")));
        assert!(!sum.reproduced_october_2025, "b was never stuck");
        assert!(sum.stuck["enactor:a"][0].contains("3 rejections in a row"));
        let both: Vec<Event> = (0..3).flat_map(|i| [rejected("a", i), rejected("b", i)]).collect();
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

    #[test]
    fn a_caching_resolver_keeps_an_empty_answer_for_its_negative_ttl() {
        use crate::answer::Rcode;
        let eps = regional();
        let rec = |t: u64, empty: bool| ProbeRecord {
            t_ms: t,
            name: "api.r.test.".into(),
            qtype: RrKind::A,
            outcome: Outcome::Answer {
                rcode: Rcode::NoError,
                addrs: if empty { vec![] } else { vec!["192.0.2.1".parse().unwrap()] },
                ttl: if empty { None } else { Some(60) },
                negative_ttl: if empty { Some(5) } else { None },
            },
            latency_us: 100,
        };
        // Empty at the authority for the first 100 ms only; a resolver keeps it for 5 s.
        let mut records = vec![rec(0, true)];
        records.extend((1..80).map(|i| rec(i * 100, false)));
        let cached = cached_empty(&eps, &records);
        assert_eq!(cached["regional A"], 5_000, "{cached:?}");
    }
}
