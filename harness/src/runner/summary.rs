//! `summary.json`: the run's source of truth. Every report is derived from it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::analysis::expect::{ExpectResult, Facts};
use crate::analysis::{InvariantResult, Window};

/// The whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub seed: u64,
    pub plan: PlanInfo,
    /// The command that replays this run.
    pub replay: String,
    pub backend: serde_json::Value,
    pub started_at_epoch_ms: u64,
    pub enactors: Vec<EnactorSummary>,
    /// True when every implementation met the plan's SLOs and invariants.
    pub passed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanInfo {
    pub name: String,
    pub path: String,
    pub description: String,
    pub duration_ms: u64,
    pub spec: serde_json::Value,
}

/// One empty-answer window, as the issue specifies it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EmptyWindow {
    pub name: String,
    pub start_ms: u64,
    /// `None` when the window was still open at the end of the run.
    pub end_ms: Option<u64>,
    pub duration_ms: u64,
}

/// A fault as scheduled and as it happened.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FaultResult {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub start_ms: Option<u64>,
    pub end_ms: Option<u64>,
    /// True when the fault had an observable effect (see `evidence`).
    pub fired: bool,
    /// False when the target does not exist for this implementation (e.g. `single` runs two
    /// enactors, so `enactor:2` is absent); such a fault is not counted against the run.
    pub applicable: bool,
    pub evidence: String,
}

/// Latency percentiles of answered probes, in microseconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Latency {
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub count: u64,
}

/// One generation step of one endpoint: when it flipped and who flipped it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flip {
    pub t_ms: u64,
    pub generation: u64,
    pub enactor: String,
}

/// The verdict against the plan's SLOs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verdict {
    pub passed: bool,
    /// Every SLO or invariant that failed, with its numbers.
    pub failures: Vec<String>,
}

/// One implementation's run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnactorSummary {
    pub implementation: String,
    pub enactors: Vec<String>,
    pub run_ms: u64,
    pub empty_windows: Vec<EmptyWindow>,
    /// Longest time from a bad window's start to sustained good answers; `None` = never.
    pub time_to_recovery_ms: Option<u64>,
    /// Longest time from the end of a fault to recovery; `None` when no window followed a fault.
    pub time_to_recovery_after_fault_ms: Option<u64>,
    /// Earliest detection (alarm / stuck / frozen) after the first bad window started.
    pub time_to_detect_ms: Option<u64>,
    pub total_empty_ms: u64,
    pub longest_empty_ms: u64,
    pub availability_pct: f64,
    pub probe_counts: BTreeMap<String, u64>,
    pub latency: Latency,
    pub windows: Vec<Window>,
    pub invariants: Vec<InvariantResult>,
    pub faults: Vec<FaultResult>,
    /// Enactors that reported themselves stuck, with the endpoints.
    pub stuck: BTreeMap<String, Vec<String>>,
    /// Per endpoint, the applied generation over time.
    pub generations: BTreeMap<String, Vec<Flip>>,
    /// Plans emitted, batches committed and rejected.
    pub counters: BTreeMap<String, u64>,
    /// For az-loss faults: from the loss to the first flip (on every endpoint) to a plan made
    /// after it, i.e. how long DNS kept handing out the lost zone's load balancers; `None` when
    /// some endpoint never got such a plan or there was no az-loss fault.
    #[serde(default)]
    pub az_loss_reaction_ms: Option<u64>,
    /// Per endpoint, the control-plane answer at the end of the run.
    #[serde(default)]
    pub final_state: BTreeMap<String, FinalState>,
    /// True when the run ended as October 2025 did: an endpoint answering no records and every
    /// enactor of the implementation stuck.
    #[serde(default)]
    pub reproduced_october_2025: bool,
    /// Measurement resolution: empty windows seen by probes vs implied by the control plane.
    pub cross_check: CrossCheck,
    pub verdict: Verdict,
    /// Every metric the plan's `expect:` section can bound (absent = never / not applicable).
    #[serde(default)]
    pub metrics: Facts,
    /// The plan's expected properties for this implementation, each checked; `None` when the
    /// plan expects nothing of it.
    #[serde(default)]
    pub expectation: Option<ExpectResult>,
    pub events_path: String,
    pub probes_path: String,
}

/// An endpoint's control-plane answer when the run ended.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FinalState {
    /// The generation the alias points at.
    pub active: Option<u64>,
    /// True when the control plane answers NOERROR with no records for the name (A).
    pub empty: bool,
    pub addresses: usize,
}

/// Probe-measured empty time against the control-plane's own record of empty states.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CrossCheck {
    /// Control-plane samples (answer view over ListResourceRecordSets) that were empty.
    pub control_plane_empty_ms: u64,
    pub probe_empty_ms: u64,
    /// |probe - control plane|, the measurement's resolution in this run.
    /// Sum over endpoints of |probe - control plane| empty time (A records).
    pub difference_ms: u64,
    pub control_plane_samples: u64,
    /// Median time between two control-plane samples of one endpoint: the cross-check's own
    /// resolution (the difference cannot be expected below about twice this).
    #[serde(default)]
    pub control_plane_interval_ms: u64,
}
