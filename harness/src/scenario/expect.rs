//! What each implementation is expected to show under a plan: the `expect:` section.
//!
//! An expectation is a list of properties, each asserted on its own:
//! - which invariants must hold, which must break and which may break, each break with a
//!   one-line reason (every invariant the plan judges must be named once);
//! - bounds on measured numbers (`metrics`), each with the distribution it was set from;
//! - mechanism numbers (a takeover, stuck enactors, backward flips after a takeover) bounded
//!   the same way, so that a row asserts *how* it failed, not only that it did.
//!
//! ```yaml
//! expect:
//!   single:
//!     hold: [active-never-deleted, no-empty-answer, converges]
//!     may-break:
//!       generation-monotonic: its standby and a slow primary both apply, unfenced
//!     metrics:
//!       takeover-after-loss-ms: {min: 1, max: 5000, measured: "seeds 1-20: min 2,104, median 2,870, max 3,910"}
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Invariant;
use crate::model::EnactorKind;

/// Per implementation, what it must show.
pub type Expectations = BTreeMap<EnactorKind, ImplExpect>;

/// One implementation's expected properties under a plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ImplExpect {
    /// Invariants that must hold.
    #[serde(default)]
    pub hold: Vec<Invariant>,
    /// Invariants that must break, each with the reason.
    #[serde(default, rename = "break")]
    pub must_break: BTreeMap<Invariant, String>,
    /// Invariants that may break either way, each with the reason.
    #[serde(default)]
    pub may_break: BTreeMap<Invariant, String>,
    /// Bounds on measured numbers.
    #[serde(default)]
    pub metrics: BTreeMap<Metric, Bound>,
}

/// A bound on one metric. `min`/`max` need a value (a metric that is absent, such as a
/// recovery that never came, fails them); `never: true` requires the value to be absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Bound {
    #[serde(default)]
    pub min: Option<u64>,
    #[serde(default)]
    pub max: Option<u64>,
    #[serde(default)]
    pub never: bool,
    /// The distribution the bound was set from: seeds, min, median, max (required).
    #[serde(default)]
    pub measured: String,
    /// Set when the bound holds in some seeds and not others (a mechanism that emerges, not one
    /// the schedule forces): the share of seeds it must hold in, e.g. `rate: 65%`, set at or
    /// below the lower end of the measured rate's 95% interval. It is judged over a sweep of
    /// seeds (the suite's `DNSCHAOS_SEEDS`, the nightly), never on one run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Percent>,
}

/// A share of seeds in whole percent, written `65%`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Percent(pub u8);

impl TryFrom<String> for Percent {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let n = s.trim().strip_suffix('%').and_then(|n| n.trim().parse::<u8>().ok());
        match n {
            Some(n) if (1..=100).contains(&n) => Ok(Percent(n)),
            _ => Err(format!("rate {s:?} is not a share of seeds (hint: a whole percent from 1% to 100%, e.g. 65%)")),
        }
    }
}

impl From<Percent> for String {
    fn from(p: Percent) -> String {
        format!("{}%", p.0)
    }
}

impl Bound {
    /// `recovery-ms <= 2000`, `stuck-enactors >= 3`, `recovery-ms never`.
    pub fn describe(&self, metric: Metric) -> String {
        let m = metric.as_str();
        match (self.never, self.min, self.max) {
            (true, _, _) => format!("{m} never"),
            (_, Some(lo), Some(hi)) if lo == hi => format!("{m} == {lo}"),
            (_, Some(lo), Some(hi)) => format!("{lo} <= {m} <= {hi}"),
            (_, Some(lo), None) => format!("{m} >= {lo}"),
            (_, None, Some(hi)) => format!("{m} <= {hi}"),
            (_, None, None) => format!("{m} present"),
        }
    }

    /// Does `value` (None = absent) satisfy the bound?
    pub fn admits(&self, value: Option<u64>) -> bool {
        match value {
            None => self.never,
            Some(v) => !self.never && self.min.is_none_or(|lo| v >= lo) && self.max.is_none_or(|hi| v <= hi),
        }
    }
}

/// A number measured on every run (see `analysis::expect::facts` for how each is computed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// Empty-answer time summed over the probed names and types (ms).
    EmptyMs,
    /// The longest empty-answer window (ms).
    LongestEmptyMs,
    /// Time to recovery (ms); absent when some outage never recovered.
    RecoveryMs,
    /// From an az-loss to the first flip of every endpoint to a plan made after it (ms): how
    /// long DNS kept answering with the lost zone's load balancers. Absent without az-loss, or
    /// when some endpoint never got such a plan.
    StaleMs,
    /// `took-over` events (single's standby).
    Takeovers,
    /// From the az-loss fault's start to the first takeover at or after it (ms).
    TakeoverAfterLossMs,
    /// Flips to a plan made after the az-loss that were logged before the first takeover after
    /// it: zero means DNS stayed stale until the standby took over.
    FreshFlipsBeforeTakeover,
    /// Flips of an endpoint to an older generation than it had before.
    BackwardFlips,
    /// Backward flips after a takeover, by an enactor other than the one that took over.
    BackwardFlipsAfterTakeover,
    /// Enactors that reported themselves stuck.
    StuckEnactors,
    /// Enactors of the implementation that never reported themselves stuck.
    UnstuckEnactors,
    /// Endpoints whose control-plane answer was empty at the end of the run.
    FinalEmptyEndpoints,
    /// `alarm` events.
    Alarms,
    /// `frozen` events.
    Frozen,
    /// From the last fault's end to the first moment every endpoint held a plan within a few
    /// generations of the newest (the truth log); absent = never.
    ConvergeMs,
    /// Control-plane empty time summed over the names, from the truth log (exact).
    TruthEmptyMs,
    /// Truth empty intervals no probe window saw.
    MissedTruthWindows,
    /// Probe empty windows with no truth interval behind them (must be 0).
    UnexplainedProbeWindows,
    /// Requests of the harness's own callers a fault matched (must be 0).
    HarnessCallsFaulted,
    /// p99 latency of ChangeResourceRecordSets at the gateway (ms): the backend under load.
    ChangeLatencyP99Ms,
    /// The October race's first precondition: flips to a plan more than `cleanup-keep`
    /// generations below the newest plan emitted by then.
    OldPlanFlips,
    /// Its second: cleanups that deleted trees within one lock lease of another enactor's flip.
    CleanupsNearFlip,
}

impl Metric {
    pub const ALL: [Metric; 22] = [
        Metric::EmptyMs,
        Metric::LongestEmptyMs,
        Metric::RecoveryMs,
        Metric::StaleMs,
        Metric::Takeovers,
        Metric::TakeoverAfterLossMs,
        Metric::FreshFlipsBeforeTakeover,
        Metric::BackwardFlips,
        Metric::BackwardFlipsAfterTakeover,
        Metric::StuckEnactors,
        Metric::UnstuckEnactors,
        Metric::FinalEmptyEndpoints,
        Metric::Alarms,
        Metric::Frozen,
        Metric::ConvergeMs,
        Metric::TruthEmptyMs,
        Metric::MissedTruthWindows,
        Metric::UnexplainedProbeWindows,
        Metric::HarnessCallsFaulted,
        Metric::ChangeLatencyP99Ms,
        Metric::OldPlanFlips,
        Metric::CleanupsNearFlip,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::EmptyMs => "empty-ms",
            Metric::LongestEmptyMs => "longest-empty-ms",
            Metric::RecoveryMs => "recovery-ms",
            Metric::StaleMs => "stale-ms",
            Metric::Takeovers => "takeovers",
            Metric::TakeoverAfterLossMs => "takeover-after-loss-ms",
            Metric::FreshFlipsBeforeTakeover => "fresh-flips-before-takeover",
            Metric::BackwardFlips => "backward-flips",
            Metric::BackwardFlipsAfterTakeover => "backward-flips-after-takeover",
            Metric::StuckEnactors => "stuck-enactors",
            Metric::UnstuckEnactors => "unstuck-enactors",
            Metric::FinalEmptyEndpoints => "final-empty-endpoints",
            Metric::Alarms => "alarms",
            Metric::Frozen => "frozen",
            Metric::ConvergeMs => "converge-ms",
            Metric::TruthEmptyMs => "truth-empty-ms",
            Metric::MissedTruthWindows => "missed-truth-windows",
            Metric::UnexplainedProbeWindows => "unexplained-probe-windows",
            Metric::HarnessCallsFaulted => "harness-calls-faulted",
            Metric::ChangeLatencyP99Ms => "change-latency-p99-ms",
            Metric::OldPlanFlips => "old-plan-flips",
            Metric::CleanupsNearFlip => "cleanups-near-flip",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// Problems with one implementation's expectation, as (path below it, message) pairs.
pub(crate) fn problems(e: &ImplExpect, judged: &[Invariant]) -> Vec<(Vec<&'static str>, String)> {
    let mut out = Vec::new();
    for inv in judged {
        let named = e.hold.contains(inv) as u8 + e.must_break.contains_key(inv) as u8 + e.may_break.contains_key(inv) as u8;
        if named == 0 {
            out.push((vec![], format!(
                "invariant {} is judged by the plan but not expected either way (hint: list it under hold, break or may-break)",
                inv.as_str()
            )));
        } else if named > 1 {
            out.push((vec![], format!("invariant {} is listed more than once (hint: one of hold, break, may-break)", inv.as_str())));
        }
    }
    for inv in e.hold.iter().chain(e.must_break.keys()).chain(e.may_break.keys()) {
        if !judged.contains(inv) {
            out.push((vec![], format!(
                "invariant {} is not judged by this plan (hint: add it to slo.invariants or drop it here)",
                inv.as_str()
            )));
        }
    }
    for (inv, why) in e.must_break.iter().chain(e.may_break.iter()) {
        if why.trim().is_empty() {
            out.push((vec![], format!("invariant {} may break without a reason (hint: one line saying why)", inv.as_str())));
        }
    }
    for (m, b) in &e.metrics {
        if b.measured.trim().is_empty() {
            out.push((vec!["metrics", m.as_str()], format!(
                "bound on {} cites no measured distribution (hint: measured: \"seeds 1-20: min .., median .., max ..\")",
                m.as_str()
            )));
        }
        if b.never && (b.min.is_some() || b.max.is_some()) {
            out.push((vec!["metrics", m.as_str()], format!("bound on {} says never and gives a range (hint: one or the other)", m.as_str())));
        }
        if let (Some(lo), Some(hi)) = (b.min, b.max) {
            if lo > hi {
                out.push((vec!["metrics", m.as_str()], format!("bound on {}: min {lo} > max {hi}", m.as_str())));
            }
        }
        if !b.never && b.min.is_none() && b.max.is_none() {
            out.push((vec!["metrics", m.as_str()], format!("bound on {} sets nothing (hint: min, max or never: true)", m.as_str())));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_admit_and_describe() {
        let b = Bound { min: Some(2), max: Some(5), ..Bound::default() };
        assert!(b.admits(Some(2)) && b.admits(Some(5)) && !b.admits(Some(6)) && !b.admits(None));
        assert_eq!(b.describe(Metric::StuckEnactors), "2 <= stuck-enactors <= 5");
        let never = Bound { never: true, ..Bound::default() };
        assert!(never.admits(None) && !never.admits(Some(0)));
        assert_eq!(never.describe(Metric::RecoveryMs), "recovery-ms never");
        let max = Bound { max: Some(0), ..Bound::default() };
        assert!(max.admits(Some(0)) && !max.admits(None));
    }

    #[test]
    fn every_judged_invariant_is_named_once_with_reasons() {
        let judged = [Invariant::GenerationMonotonic, Invariant::Converges];
        let mut e = ImplExpect { hold: vec![Invariant::Converges], ..ImplExpect::default() };
        let p = problems(&e, &judged);
        assert!(p[0].1.contains("generation-monotonic is judged"), "{p:?}");
        e.may_break.insert(Invariant::GenerationMonotonic, " ".into());
        assert!(problems(&e, &judged)[0].1.contains("without a reason"));
        e.may_break.insert(Invariant::GenerationMonotonic, "one-time check".into());
        assert!(problems(&e, &judged).is_empty());
        e.metrics.insert(Metric::RecoveryMs, Bound { max: Some(10), ..Bound::default() });
        assert!(problems(&e, &judged)[0].1.contains("cites no measured"));
    }
}
