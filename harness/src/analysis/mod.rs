//! Analysis: pure functions over the run's event log and probe samples. No IO, no clock.
//!
//! - windows of each bad probe class per name, and the **empty-answer windows**;
//! - **time to recovery**: from a window's start, and from the end of the fault that caused it,
//!   to the first sustained good answer (`None` = never recovered within the run);
//! - time to detect: window start to the first alarm, stuck or frozen event;
//! - invariants over the enactors' history;
//! - a ground-truth cross-check of probe windows against the control plane's events.

pub mod classify;
pub mod expect;
pub mod explore;
pub mod rate;
pub mod signature;
pub mod truth;
pub mod verdict;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::events::{Event, EventKind};
use crate::probe::ProbeClass;
pub use crate::summary::{InvariantResult, Window};

/// One classified probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    pub t_ms: u64,
    /// The endpoint label (or DNS name) probed.
    pub name: String,
    pub class: ProbeClass,
}

/// A fault's lifetime as logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSpan {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub start_ms: u64,
    pub end_ms: Option<u64>,
}

/// Current answers in a row that count as "recovered" (a stale answer is not recovered).
pub const SUSTAINED_GOOD: usize = 5;

/// The last answers per name that must all be current for `converges`.
pub const CONVERGED_TAIL: usize = 20;

/// Time from `start` to the first detection (an enactor's alarm or freeze) at or after it: the
/// one computation of time-to-detect. The analysis's own findings (stuck) never count: they are
/// not the system detecting the problem.
pub fn detect_after(events: &[Event], start: u64) -> Option<u64> {
    events
        .iter()
        .filter(|e| e.t_ms >= start && matches!(e.event, EventKind::Alarm { .. } | EventKind::Frozen { .. }))
        .map(|e| e.t_ms - start)
        .min()
}

fn good(c: ProbeClass) -> bool {
    matches!(c, ProbeClass::Current | ProbeClass::Stale)
}

/// Fault lifetimes from the event log.
pub fn fault_spans(events: &[Event]) -> Vec<FaultSpan> {
    let mut out: Vec<FaultSpan> = Vec::new();
    for e in events {
        match &e.event {
            EventKind::FaultStarted { id, kind, target } => out.push(FaultSpan {
                id: id.clone(),
                kind: kind.clone(),
                target: target.clone(),
                start_ms: e.t_ms,
                end_ms: None,
            }),
            EventKind::FaultEnded { id, .. } => {
                if let Some(f) = out.iter_mut().rev().find(|f| &f.id == id && f.end_ms.is_none()) {
                    f.end_ms = Some(e.t_ms);
                }
            }
            _ => {}
        }
    }
    out
}

/// Windows of every class but `current` and `stale`, per name. `run_end_ms` closes nothing:
/// a window still bad at the last sample stays open (`end_ms: None`).
pub fn windows(samples: &[Sample], events: &[Event], run_end_ms: u64) -> Vec<Window> {
    let mut by_name: BTreeMap<&str, Vec<&Sample>> = BTreeMap::new();
    for s in samples {
        by_name.entry(&s.name).or_default().push(s);
    }
    let faults = fault_spans(events);
    let mut out = Vec::new();
    for (name, mut ss) in by_name {
        ss.sort_by_key(|s| s.t_ms);
        let mut i = 0;
        while i < ss.len() {
            let class = ss[i].class;
            if good(class) {
                i += 1;
                continue;
            }
            let start = ss[i].t_ms;
            let mut j = i;
            while j < ss.len() {
                if ss[j].class == class {
                    j += 1;
                    continue;
                }
                // Timeouts between two samples of this class do not end the window (they lose
                // the measurement, they do not end the outage); they are counted on their own.
                let after = ss[j..].iter().position(|s| s.class != ProbeClass::Timeout).map(|n| j + n);
                match after {
                    Some(k) if ss[j].class == ProbeClass::Timeout && ss[k].class == class => j = k,
                    _ => break,
                }
            }
            let end = ss.get(j).map(|s| s.t_ms);
            // Recovery: the first run of SUSTAINED_GOOD *current* samples from j on (or to the
            // end); a stale answer is not a recovered one.
            let mut recovered = None;
            let mut k = j;
            while k < ss.len() {
                if ss[k].class == ProbeClass::Current {
                    let run = ss[k..].iter().take_while(|s| s.class == ProbeClass::Current).count();
                    if run >= SUSTAINED_GOOD || k + run == ss.len() && run > 0 && ss[k + run - 1].t_ms + 500 <= run_end_ms {
                        recovered = Some(ss[k].t_ms);
                        break;
                    }
                    k += run;
                } else {
                    k += 1;
                }
            }
            let fault_end = faults
                .iter()
                .filter(|f| f.start_ms <= start && f.end_ms.is_none_or(|e| e + 1 >= start))
                .filter_map(|f| f.end_ms)
                .max();
            out.push(Window {
                name: name.to_string(),
                class,
                start_ms: start,
                end_ms: end,
                duration_ms: end.unwrap_or(run_end_ms).saturating_sub(start),
                recovery_ms: recovered.map(|r| r - start),
                recovery_after_fault_ms: match (recovered, fault_end) {
                    (Some(r), Some(fe)) => Some(r.saturating_sub(fe)),
                    _ => None,
                },
                detect_ms: detect_after(events, start),
            });
            i = j;
        }
    }
    out
}

fn result(name: &str, violation: Option<String>) -> InvariantResult {
    InvariantResult { name: name.into(), held: violation.is_none(), first_violation: violation }
}

/// The applied generation never moves backwards per endpoint.
pub fn generation_monotonic(events: &[Event]) -> InvariantResult {
    let mut max: BTreeMap<&str, u64> = BTreeMap::new();
    for e in events {
        if let EventKind::AliasFlipped { endpoint, to, .. } = &e.event {
            let m = max.entry(endpoint).or_insert(0);
            if *to < *m {
                return result(
                    "generation-monotonic",
                    Some(format!("{} ms: {} flipped {endpoint} back to g{to} after g{m}", e.t_ms, e.source)),
                );
            }
            *m = *to;
        }
    }
    result("generation-monotonic", None)
}

/// The active plan's tree is never deleted.
pub fn active_never_deleted(events: &[Event]) -> InvariantResult {
    for e in events {
        if let EventKind::CleanupDeleted { endpoint, generations, active: Some(a) } = &e.event {
            if generations.contains(a) {
                return result(
                    "active-never-deleted",
                    Some(format!("{} ms: {} deleted the active g{a} of {endpoint}", e.t_ms, e.source)),
                );
            }
        }
    }
    result("active-never-deleted", None)
}

/// No probe saw NOERROR with zero records.
pub fn no_empty_answer(windows: &[Window]) -> InvariantResult {
    let first = windows.iter().filter(|w| w.class == ProbeClass::Empty).min_by_key(|w| w.start_ms);
    result(
        "no-empty-answer",
        first.map(|w| format!("{} ms: {} answered NOERROR with no records for {} ms", w.start_ms, w.name, w.duration_ms)),
    )
}

/// Every name answers current at the end (its last `tail` samples all good).
pub fn converges(samples: &[Sample], tail: usize) -> InvariantResult {
    let mut by_name: BTreeMap<&str, Vec<&Sample>> = BTreeMap::new();
    for s in samples {
        by_name.entry(&s.name).or_default().push(s);
    }
    for (name, mut ss) in by_name {
        ss.sort_by_key(|s| s.t_ms);
        let last = &ss[ss.len().saturating_sub(tail)..];
        if let Some(bad) = last.iter().find(|s| s.class != ProbeClass::Current) {
            return result("converges", Some(format!("{} ms: {name} still answers {:?} at the end", bad.t_ms, bad.class)));
        }
    }
    result("converges", None)
}

/// Availability: percentage of good samples.
pub fn availability(samples: &[Sample]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    100.0 * samples.iter().filter(|s| good(s.class)).count() as f64 / samples.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProbeClass::*;

    fn samples(name: &str, classes: &[(u64, ProbeClass)]) -> Vec<Sample> {
        classes.iter().map(|(t, c)| Sample { t_ms: *t, name: name.into(), class: *c }).collect()
    }

    fn ev(t: u64, source: &str, event: EventKind) -> Event {
        Event { t_ms: t, source: source.into(), event }
    }

    #[test]
    fn windows_recovery_and_detection() {
        let mut s = samples("regional", &[(0, Current), (10, Empty), (20, Empty), (30, Current), (40, Current), (50, Current), (60, Current), (70, Current)]);
        s.extend(samples("dualstack", &[(0, Current), (10, Timeout), (20, Current), (30, Nxdomain)]));
        let events = vec![
            ev(5, "fault:f", EventKind::FaultStarted { id: "f".into(), kind: "flood".into(), target: "planner".into() }),
            ev(25, "fault:f", EventKind::FaultEnded { id: "f".into(), kind: "flood".into(), target: "planner".into() }),
            ev(15, "enactor:a", EventKind::Alarm { endpoint: None, reason: "x".into() }),
        ];
        let w = windows(&s, &events, 100);
        let empty = w.iter().find(|w| w.class == Empty).unwrap();
        assert_eq!((empty.start_ms, empty.end_ms, empty.duration_ms), (10, Some(30), 20));
        assert_eq!(empty.recovery_ms, Some(20));
        assert_eq!(empty.recovery_after_fault_ms, Some(5));
        assert_eq!(empty.detect_ms, Some(5));
        let timeout = w.iter().find(|w| w.class == Timeout).unwrap();
        assert_eq!(timeout.duration_ms, 10);
        let nx = w.iter().find(|w| w.class == Nxdomain).unwrap();
        assert_eq!((nx.end_ms, nx.recovery_ms, nx.duration_ms), (None, None, 70), "open at the end: never recovered");
        assert!(!no_empty_answer(&w).held);
        assert!(converges(&s, 1).first_violation.unwrap().contains("dualstack"));
    }

    #[test]
    fn a_timeout_inside_an_empty_window_does_not_split_it_and_stale_is_not_recovered() {
        let mut s = samples("regional", &[(0, Current), (10, Empty), (20, Timeout), (30, Timeout), (40, Empty), (50, Stale), (60, Stale)]);
        s.extend(samples("regional", &[(70, Current), (80, Current), (90, Current), (100, Current), (110, Current)]));
        let w = windows(&s, &[], 200);
        let empty: Vec<&Window> = w.iter().filter(|w| w.class == Empty).collect();
        assert_eq!(empty.len(), 1, "one window: {w:?}");
        assert_eq!((empty[0].start_ms, empty[0].end_ms, empty[0].duration_ms), (10, Some(50), 40));
        assert_eq!(empty[0].recovery_ms, Some(60), "recovered at the first of five current answers (70), not at the stale one (50)");
        // A timeout followed by something else than the window's class ends the window there.
        let s = samples("regional", &[(0, Empty), (10, Timeout), (20, Current), (30, Current)]);
        let w = windows(&s, &[], 100);
        assert_eq!(w.iter().find(|w| w.class == Empty).unwrap().end_ms, Some(10));
        assert!(w.iter().any(|w| w.class == Timeout), "the timeout is counted on its own");
    }

    #[test]
    fn an_empty_window_that_never_ends_never_recovers() {
        let s = samples("regional", &[(0, Current), (10, Empty), (20, Empty)]);
        let w = windows(&s, &[], 1_000);
        assert_eq!((w[0].end_ms, w[0].recovery_ms, w[0].duration_ms), (None, None, 990));
        assert!((availability(&s) - 100.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn invariants_over_the_enactor_history() {
        let flip = |t, src: &str, to| ev(t, src, EventKind::AliasFlipped { endpoint: "regional".into(), from: None, to, rollback: None });
        let ok = vec![flip(1, "enactor:a", 3), flip(2, "enactor:b", 5), flip(3, "enactor:a", 5)];
        assert!(generation_monotonic(&ok).held);
        let back = vec![flip(1, "enactor:b", 9), flip(2, "enactor:a", 2)];
        let r = generation_monotonic(&back);
        assert!(!r.held && r.first_violation.unwrap().contains("back to g2 after g9"));
        let del = |active| ev(4, "enactor:b", EventKind::CleanupDeleted { endpoint: "regional".into(), generations: vec![1, 2], active: Some(active) });
        assert!(active_never_deleted(&[del(9)]).held);
        assert!(!active_never_deleted(&[del(2)]).held);
    }
}
