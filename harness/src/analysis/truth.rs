//! Judgements on the truth log (what the backend held after every commit): exact control-plane
//! empty intervals, the invariants over that history, convergence, the probes' view against it,
//! and the stuck finding. Pure: no IO, no clock.

use std::collections::BTreeMap;

use super::{fault_spans, FaultSpan};
use crate::events::{Event, EventKind};
use crate::summary::{EmptyWindow, FinalState, InvariantResult, WindowMatch};
use crate::truth::Commit;

/// Rejections in a row naming a missing alias target that make an enactor stuck (K).
pub const STUCK_REJECTIONS: usize = 3;
/// Failing batches without a commit for this long make an enactor stuck too (T), unless a
/// fault held it meanwhile. A lost lock compare-and-swap alone is not a failing batch.
pub const STUCK_SILENCE_MS: u64 = 10_000;
/// An endpoint has converged when its active plan is at most this many generations behind the
/// newest plan emitted (K of `converges`).
pub const CONVERGED_BEHIND: u64 = 5;
/// Route 53's words for an alias whose target is missing (the strict gateway uses them too).
pub const MISSING_TARGET: &str = "but that target was not found";

fn result(name: &str, violation: Option<String>) -> InvariantResult {
    InvariantResult { name: name.into(), held: violation.is_none(), first_violation: violation }
}

/// Every interval in which a name answered NOERROR with no records, exactly, per name: from the
/// commit that emptied it to the commit that filled it (`None`: still empty at `end_ms`).
pub fn empty_intervals(commits: &[Commit], end_ms: u64) -> Vec<EmptyWindow> {
    let mut open: BTreeMap<&str, u64> = BTreeMap::new();
    let mut out = Vec::new();
    for c in commits {
        for a in &c.answers {
            match (a.empty, open.get(a.name.as_str()).copied()) {
                (true, None) => {
                    open.insert(&a.name, c.t_ms);
                }
                (false, Some(start)) => {
                    open.remove(a.name.as_str());
                    out.push(EmptyWindow { name: a.name.clone(), start_ms: start, end_ms: Some(c.t_ms), duration_ms: c.t_ms - start });
                }
                _ => {}
            }
        }
    }
    for (name, start) in open {
        out.push(EmptyWindow { name: name.to_string(), start_ms: start, end_ms: None, duration_ms: end_ms.saturating_sub(start) });
    }
    out.sort_by(|a, b| (a.start_ms, &a.name).cmp(&(b.start_ms, &b.name)));
    out
}

/// The active generation never moves backwards on any endpoint, as the backend held it.
pub fn generation_monotonic(commits: &[Commit]) -> InvariantResult {
    let mut max: BTreeMap<&str, u64> = BTreeMap::new();
    for c in commits {
        for e in &c.endpoints {
            let Some(g) = e.active else { continue };
            let m = max.entry(&e.endpoint).or_insert(0);
            if g < *m {
                return result(
                    "generation-monotonic",
                    Some(format!("{} ms: {} moved {} back to g{g} after g{m} (change {})", c.t_ms, c.caller, e.endpoint, c.change_id)),
                );
            }
            *m = g;
        }
    }
    result("generation-monotonic", None)
}

/// The active plan's tree is never deleted: no commit leaves an endpoint's alias pointing at a
/// plan whose tree the previous state held.
pub fn active_never_deleted(commits: &[Commit]) -> InvariantResult {
    let mut before: BTreeMap<&str, (Option<u64>, bool)> = BTreeMap::new();
    for c in commits {
        for e in &c.endpoints {
            let prev = before.insert(&e.endpoint, (e.active, e.active_tree));
            if let (Some((Some(was), true)), Some(g), false) = (prev, e.active, e.active_tree) {
                if was == g {
                    return result(
                        "active-never-deleted",
                        Some(format!("{} ms: {} deleted the active g{g} of {} (change {})", c.t_ms, c.caller, e.endpoint, c.change_id)),
                    );
                }
            }
        }
    }
    result("active-never-deleted", None)
}

/// No name ever answered NOERROR with no records, per the backend's own history.
pub fn no_empty_answer(intervals: &[EmptyWindow]) -> InvariantResult {
    result(
        "no-empty-answer",
        intervals.first().map(|w| format!("{} ms: {} held no records for {} ms (control plane)", w.start_ms, w.name, w.duration_ms)),
    )
}

/// The newest generation emitted at or before `t`.
fn newest_at(events: &[Event], t: u64) -> u64 {
    events
        .iter()
        .filter(|e| e.t_ms <= t)
        .filter_map(|e| match e.event {
            EventKind::PlanEmitted { generation, .. } => Some(generation),
            _ => None,
        })
        .max()
        .unwrap_or(1)
}

/// How long after `from_ms` every endpoint first held a plan at most [`CONVERGED_BEHIND`]
/// generations behind the newest emitted, with the planner still running; `None` = never.
pub fn converged_after(commits: &[Commit], events: &[Event], from_ms: u64, end_ms: u64) -> Option<u64> {
    // The moments the answer can change: commits, and plans emitted (the goal moving on).
    let mut moments: Vec<u64> = commits.iter().map(|c| c.t_ms).chain(events.iter().filter(|e| matches!(e.event, EventKind::PlanEmitted { .. })).map(|e| e.t_ms)).collect();
    moments.push(from_ms);
    moments.retain(|t| *t >= from_ms && *t <= end_ms);
    moments.sort_unstable();
    moments.dedup();
    let mut active: BTreeMap<&str, Option<u64>> = BTreeMap::new();
    let mut i = 0;
    for t in moments {
        while i < commits.len() && commits[i].t_ms <= t {
            for e in &commits[i].endpoints {
                active.insert(&e.endpoint, e.active.filter(|_| e.active_tree));
            }
            i += 1;
        }
        let goal = newest_at(events, t).saturating_sub(CONVERGED_BEHIND);
        if !active.is_empty() && active.values().all(|a| a.is_some_and(|g| g >= goal)) {
            return Some(t - from_ms);
        }
    }
    None
}

/// `converges`: convergence (see [`converged_after`]) within `within_ms` of `from_ms`, and still
/// converged when the run ends: `ends_empty` names the endpoints whose name the control plane
/// answered with no records at the last commit (a race after convergence can leave it so).
pub fn converges(after: Option<u64>, from_ms: u64, within_ms: u64, ends_empty: &[&str], end_ms: u64) -> InvariantResult {
    let violation = match after {
        Some(t) if t <= within_ms && ends_empty.is_empty() => None,
        Some(t) if t <= within_ms => Some(format!(
            "{end_ms} ms: converged {t} ms after the last fault, but {} ended with no records",
            ends_empty.join(", ")
        )),
        Some(t) => Some(format!("{} ms: converged {t} ms after the last fault, later than converge-within {within_ms} ms", from_ms + t)),
        None => Some(format!("{from_ms} ms: never within {CONVERGED_BEHIND} generations of the newest plan after the last fault")),
    };
    result("converges", violation)
}

/// Each endpoint's state at the last commit.
pub fn final_state(commits: &[Commit]) -> BTreeMap<String, FinalState> {
    let mut out = BTreeMap::new();
    for c in commits {
        for e in &c.endpoints {
            let a = c.answers.iter().find(|a| a.name == format!("{} A", e.endpoint));
            out.insert(
                e.endpoint.clone(),
                FinalState { active: e.active, empty: a.is_some_and(|a| a.empty), addresses: a.map(|a| a.addrs.len()).unwrap_or(0) },
            );
        }
    }
    out
}

/// The probes' empty windows against the truth's: each probe window with the truth interval it
/// saw and the boundary errors, the truth intervals no probe window saw, and the probe windows
/// with no truth interval behind them. `slack_ms` is how late a probe may see a change
/// (propagation delay plus two probe intervals).
pub fn compare(probe: &[EmptyWindow], truth: &[EmptyWindow], end_ms: u64, slack_ms: u64) -> (Vec<WindowMatch>, Vec<EmptyWindow>, Vec<EmptyWindow>) {
    let mut matched = Vec::new();
    let mut unexplained = Vec::new();
    let mut seen = vec![false; truth.len()];
    for p in probe {
        let (ps, pe) = (p.start_ms, p.end_ms.unwrap_or(end_ms));
        let best = truth
            .iter()
            .enumerate()
            .filter(|(_, t)| t.name == p.name)
            .map(|(i, t)| {
                let (ts, te) = (t.start_ms, t.end_ms.unwrap_or(end_ms) + slack_ms);
                (i, pe.min(te).saturating_sub(ps.max(ts)))
            })
            .filter(|(_, overlap)| *overlap > 0)
            .max_by_key(|(_, overlap)| *overlap);
        match best {
            Some((i, _)) => {
                seen[i] = true;
                let t = &truth[i];
                matched.push(WindowMatch {
                    name: p.name.clone(),
                    probe_start_ms: p.start_ms,
                    probe_end_ms: p.end_ms,
                    truth_start_ms: t.start_ms,
                    truth_end_ms: t.end_ms,
                    start_error_ms: p.start_ms as i64 - t.start_ms as i64,
                    end_error_ms: p.end_ms.zip(t.end_ms).map(|(a, b)| a as i64 - b as i64),
                });
            }
            None => unexplained.push(p.clone()),
        }
    }
    let missed = truth.iter().zip(seen).filter(|(_, s)| !s).map(|(t, _)| t.clone()).collect();
    (matched, missed, unexplained)
}

/// Whether a fault holds enactor `az` (index `i`) at some time in `[from, to]`: a pause, crash,
/// sigstop or az-loss aimed at it, or a fault on the whole API or backend.
fn held(spans: &[FaultSpan], az: &str, i: usize, from: u64, to: u64) -> bool {
    spans.iter().any(|f| {
        let aimed = f.target == format!("enactor:{i}") || f.target == format!("enactor:{az}");
        let global = matches!(f.kind.as_str(), "api-latency" | "api-error" | "api-stall" | "backend-pause" | "lock-contention");
        (aimed || global) && f.start_ms <= to && f.end_ms.is_none_or(|e| e >= from)
    })
}

/// Enactors the analysis finds stuck, with why: [`STUCK_REJECTIONS`] rejections in a row naming
/// a missing alias target, or failing batches and no commit for [`STUCK_SILENCE_MS`] while no
/// fault held it. An enactor's own words (its events) are read, not its claims.
pub fn stuck(events: &[Event], azs: &[String], end_ms: u64) -> BTreeMap<String, String> {
    let spans = fault_spans(events);
    let mut out = BTreeMap::new();
    for (i, az) in azs.iter().enumerate() {
        let source = format!("enactor:{az}");
        let mine = events.iter().filter(|e| e.source == source);
        let mut run: Vec<u64> = Vec::new();
        let mut failing_since: Option<u64> = None;
        let mut finding = None;
        for e in mine {
            match &e.event {
                EventKind::BatchCommitted { .. } => {
                    run.clear();
                    failing_since = None;
                }
                EventKind::BatchRejected { message, code, .. } => {
                    if message.contains(MISSING_TARGET) {
                        run.push(e.t_ms);
                        if run.len() >= STUCK_REJECTIONS && finding.is_none() {
                            finding = Some(format!("{} rejections in a row naming a missing alias target from {} ms", run.len(), run[0]));
                        }
                    } else {
                        run.clear();
                    }
                    let lost_cas = code == "InvalidChangeBatch" && message.contains("do not match the current values");
                    if !lost_cas {
                        failing_since.get_or_insert(e.t_ms);
                    }
                }
                _ => {}
            }
            if finding.is_none() {
                if let Some(since) = failing_since {
                    if e.t_ms.saturating_sub(since) >= STUCK_SILENCE_MS && !held(&spans, az, i, since, e.t_ms) {
                        finding = Some(format!("failing batches and no commit for {} ms from {since} ms", e.t_ms - since));
                    }
                }
            }
        }
        if finding.is_none() {
            if let Some(since) = failing_since {
                if end_ms.saturating_sub(since) >= STUCK_SILENCE_MS && !held(&spans, az, i, since, end_ms) {
                    finding = Some(format!("failing batches and no commit for {} ms from {since} ms, to the end", end_ms - since));
                }
            }
        }
        if let Some(f) = finding {
            out.insert(source, f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::truth::{EndpointTruth, NameTruth};

    fn commit(t: u64, active: u64, tree: bool, empty: bool) -> Commit {
        Commit {
            t_ms: t,
            zone: "z.".into(),
            zone_id: "Z".into(),
            change_id: format!("c{t}"),
            caller: "use1-az1".into(),
            endpoints: vec![EndpointTruth { endpoint: "regional".into(), active: Some(active), active_tree: tree }],
            answers: vec![NameTruth { name: "regional A".into(), empty, addrs: vec![] }],
            drift: vec![],
        }
    }

    fn ev(t: u64, source: &str, event: EventKind) -> Event {
        Event { t_ms: t, source: source.into(), event }
    }

    #[test]
    fn intervals_and_invariants_come_from_the_commits() {
        let c = vec![commit(0, 1, true, false), commit(100, 5, true, false), commit(130, 5, false, true), commit(330, 6, true, false), commit(400, 3, true, false)];
        let iv = empty_intervals(&c, 1_000);
        assert_eq!(iv, vec![EmptyWindow { name: "regional A".into(), start_ms: 130, end_ms: Some(330), duration_ms: 200 }]);
        assert!(active_never_deleted(&c).first_violation.unwrap().contains("130 ms: use1-az1 deleted the active g5"));
        assert!(generation_monotonic(&c).first_violation.unwrap().contains("back to g3 after g6"));
        assert!(no_empty_answer(&iv).first_violation.unwrap().contains("held no records for 200 ms"));
        let open = empty_intervals(&c[..3], 1_000);
        assert_eq!((open[0].end_ms, open[0].duration_ms), (None, 870));
        assert_eq!(final_state(&c[..3])["regional"], FinalState { active: Some(5), empty: true, addresses: 0 });
    }

    #[test]
    fn convergence_is_measured_with_the_planner_running() {
        let plan = |t, g| ev(t, "planner", EventKind::PlanEmitted { generation: g, lbs: vec![], valid_until_ms: 0 });
        let events: Vec<Event> = (1..=30).map(|g| plan(g * 100, g)).collect();
        // At 1000 ms the newest is g10: g5 is within 5 behind.
        let c = vec![commit(0, 1, true, false), commit(950, 4, true, false), commit(1_050, 6, true, false)];
        assert_eq!(converged_after(&c, &events, 1_000, 5_000), Some(50));
        assert!(converges(Some(50), 1_000, 100, &[], 9_000).held);
        assert!(!converges(Some(500), 1_000, 100, &[], 9_000).held);
        assert!(converges(None, 1_000, 100, &[], 9_000).first_violation.unwrap().contains("never"));
        // Converged in time, then a race emptied the name: not converged at the end.
        let late = converges(Some(50), 1_000, 100, &["regional"], 9_000).first_violation.unwrap();
        assert!(late.contains("9000 ms") && late.contains("regional ended with no records"), "{late}");
        // An active plan without its tree has not converged.
        let gone = vec![commit(1_050, 8, false, true)];
        assert_eq!(converged_after(&gone, &events, 1_000, 5_000), None);
    }

    #[test]
    fn probe_windows_are_matched_to_the_truth() {
        let w = |name: &str, s, e: Option<u64>| EmptyWindow { name: name.into(), start_ms: s, end_ms: e, duration_ms: e.unwrap_or(1_000) - s };
        let truth = vec![w("regional A", 100, Some(130)), w("regional A", 500, Some(700)), w("regional A", 800, Some(805))];
        let probe = vec![w("regional A", 108, Some(138)), w("regional A", 503, Some(710)), w("dualstack A", 50, Some(60))];
        let (matched, missed, unexplained) = compare(&probe, &truth, 1_000, 25);
        assert_eq!(matched.len(), 2);
        assert_eq!((matched[0].start_error_ms, matched[0].end_error_ms), (8, Some(8)));
        assert_eq!(missed, vec![truth[2].clone()], "the 5 ms interval no probe saw");
        assert_eq!(unexplained, vec![probe[2].clone()], "a probe window the truth lacks");
    }

    #[test]
    fn stuck_is_found_from_rejections_not_claimed() {
        let rej = |t, msg: &str| ev(t, "enactor:a", EventKind::BatchRejected {
            endpoint: "regional".into(), generation: 9, purpose: "apply".into(), code: "InvalidChangeBatch".into(),
            message: msg.into(), attempt: 1, backoff_ms: 10, latency_ms: 5,
        });
        let missing = "Tried to create an alias that targets g3.z., type A in zone Z, but that target was not found";
        let azs = vec!["a".to_string(), "b".to_string()];
        let two = vec![rej(10, missing), rej(20, missing)];
        assert!(stuck(&two, &azs, 100).is_empty(), "two rejections are not three");
        let three = vec![rej(10, missing), rej(20, missing), rej(30, missing)];
        assert!(stuck(&three, &azs, 100)["enactor:a"].contains("3 rejections in a row"));
        // Lost compare-and-swaps are never stuck, however long.
        let cas = "Tried to delete resource record set [name='lock.z.', type='TXT'] but the values provided do not match the current values";
        let lost: Vec<Event> = (0..30).map(|i| rej(i * 1_000, cas)).collect();
        assert!(stuck(&lost, &azs, 40_000).is_empty());
        // Throttled for 20 s while a fault throttled everyone: held, not stuck; without it, stuck.
        let throttled: Vec<Event> = (0..21).map(|i| rej(i * 1_000, "Rate exceeded")).collect();
        assert!(stuck(&throttled, &azs, 25_000)["enactor:a"].contains("no commit for"));
        let mut faulted = vec![ev(0, "fault:t", EventKind::FaultStarted { id: "t".into(), kind: "api-error".into(), target: "api".into() })];
        faulted.extend(throttled);
        assert!(stuck(&faulted, &azs, 25_000).is_empty());
    }
}
