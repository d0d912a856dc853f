//! A failure's signature: which invariant or SLO broke, and how, as one short tag, so that the
//! explorer can sort thousands of failing schedules into a few distinct findings. Pure.
//!
//! The tag is built from the truth-judged invariants and the measured windows, never from the
//! failure messages' text:
//!
//! | tag | meaning |
//! |---|---|
//! | `active-deleted-empty-forever` | the active plan's tree was deleted and a name stayed empty to the end (October 2025) |
//! | `active-deleted-empty-recovered` | the same, but some enactor repaired it |
//! | `empty-forever` / `empty-recovered` | a name answered nothing, without the active tree being deleted |
//! | `active-deleted` | the active tree was deleted without an empty answer being seen |
//! | `flip-back-after-takeover` | an endpoint went back to an older plan after a standby took over |
//! | `flip-back` | an endpoint went back to an older plan |
//! | `stuck` | an enactor stopped applying plans, with the names answering |
//! | `not-converged` | the endpoints never caught up with the newest plans |
//! | `slo` | any other SLO (recovery, window length) broke |
//!
//! A run whose only failures are faults that never fired has no signature: nothing broke.

use crate::scenario::Metric;
use crate::summary::ImplementationSummary;

/// The signature of a failing run of one implementation; `None` when nothing broke.
pub fn signature(s: &ImplementationSummary) -> Option<String> {
    if s.verdict.passed {
        return None;
    }
    let broke = |name: &str| s.invariants.iter().any(|i| i.name == name && !i.held);
    let active_deleted = broke("active-never-deleted");
    let truth_empty = s.truth.as_ref().is_some_and(|t| t.empty_ms > 0);
    let empty = s.total_empty_ms > 0 || truth_empty || broke("no-empty-answer");
    let forever = s.empty_windows.iter().any(|w| w.end_ms.is_none()) || s.final_state.values().any(|f| f.empty);
    let tag = if empty {
        let how = if forever { "empty-forever" } else { "empty-recovered" };
        if active_deleted {
            format!("active-deleted-{how}")
        } else {
            how.to_string()
        }
    } else if active_deleted {
        "active-deleted".into()
    } else if broke("generation-monotonic") {
        let after_takeover = s.metrics.get(&Metric::BackwardFlipsAfterTakeover).copied().flatten().unwrap_or(0) > 0;
        if after_takeover { "flip-back-after-takeover" } else { "flip-back" }.into()
    } else if !s.stuck.is_empty() {
        "stuck".into()
    } else if broke("converges") {
        "not-converged".into()
    } else if s.verdict.failures.iter().any(|f| !is_unfired_fault(f)) {
        "slo".into()
    } else {
        return None;
    };
    Some(tag)
}

/// One line saying what the signature means, with the run's numbers.
pub fn describe(s: &ImplementationSummary, tag: &str) -> String {
    let first = |name: &str| s.invariants.iter().find(|i| i.name == name && !i.held).and_then(|i| i.first_violation.clone());
    let what = match tag {
        t if t.starts_with("active-deleted") => {
            format!("active plan's tree deleted ({})", first("active-never-deleted").unwrap_or_default())
        }
        "flip-back" | "flip-back-after-takeover" => format!("flip back to an older plan ({})", first("generation-monotonic").unwrap_or_default()),
        "stuck" => format!("enactors stuck: {}", s.stuck.keys().cloned().collect::<Vec<_>>().join(", ")),
        "not-converged" => "the endpoints never caught up with the newest plans".into(),
        _ => s.verdict.failures.iter().find(|f| !is_unfired_fault(f)).cloned().unwrap_or_default(),
    };
    let recovery = s.time_to_recovery_ms.map(|t| format!("{t} ms")).unwrap_or_else(|| "never".into());
    format!("{tag}: {what}; empty {} ms, recovery {recovery}", s.total_empty_ms)
}

/// Is this verdict failure only a fault that had no effect (not a finding)?
fn is_unfired_fault(failure: &str) -> bool {
    failure.starts_with("fault ") && failure.contains(" never fired")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::{EmptyWindow, InvariantResult, Verdict};

    fn run(passed: bool, failures: &[&str], broken: &[&str], windows: &[(u64, Option<u64>)]) -> ImplementationSummary {
        let fixture: crate::summary::Summary = serde_json::from_str(include_str!("../../../fixtures/summaries/october-2025-legacy-fenced.json")).expect("the fixture summary");
        let mut s = fixture.enactors[0].clone();
        s.truth = None;
        s.stuck.clear();
        s.final_state.clear();
        s.metrics.clear();
        s.verdict = Verdict { passed, failures: failures.iter().map(|f| f.to_string()).collect() };
        s.invariants = ["generation-monotonic", "active-never-deleted", "converges"]
            .iter()
            .map(|n| InvariantResult { name: n.to_string(), held: !broken.contains(n), first_violation: broken.contains(n).then(|| "1000 ms: x".into()) })
            .collect();
        s.empty_windows = windows.iter().map(|(a, b)| EmptyWindow { name: "regional A".into(), start_ms: *a, end_ms: *b, duration_ms: b.unwrap_or(5000) - a }).collect();
        s.total_empty_ms = s.empty_windows.iter().map(|w| w.duration_ms).sum();
        s
    }

    fn check(s: ImplementationSummary, expected: Option<&str>) {
        assert_eq!(signature(&s).as_deref(), expected);
    }

    #[test]
    fn signatures() {
        check(run(true, &[], &[], &[]), None);
        check(run(false, &["fault n0-pause (pause) never fired: point not reached"], &[], &[]), None);
        check(run(false, &["x"], &["active-never-deleted"], &[(1000, None)]), Some("active-deleted-empty-forever"));
        check(run(false, &["x"], &["active-never-deleted"], &[(1000, Some(2000))]), Some("active-deleted-empty-recovered"));
        check(run(false, &["x"], &[], &[(1000, Some(2000))]), Some("empty-recovered"));
        check(run(false, &["x"], &[], &[(1000, None)]), Some("empty-forever"));
        check(run(false, &["x"], &["active-never-deleted"], &[]), Some("active-deleted"));
        check(run(false, &["x"], &["generation-monotonic"], &[]), Some("flip-back"));
        let mut after = run(false, &["x"], &["generation-monotonic"], &[]);
        after.metrics.insert(Metric::BackwardFlipsAfterTakeover, Some(1));
        check(after, Some("flip-back-after-takeover"));
        check(run(false, &["x"], &["converges"], &[]), Some("not-converged"));
        check(run(false, &["time to recovery 9000 ms > max-time-to-recovery 5000 ms"], &[], &[]), Some("slo"));
        let mut stuck = run(false, &["x"], &[], &[]);
        stuck.stuck.insert("enactor:a".into(), vec!["regional".into()]);
        check(stuck, Some("stuck"));
    }
}
