//! `summary.json`, the run's source of truth: its types, typed all the way, and nothing else.
//! `analysis/` fills them, `runner/` assembles them, `report/` renders views of them.
//!
//! `schema_version` says which shape a file has: 1 (no field, before 2026-12), 2 (typed, with
//! metrics and expectations), 3 ([`SCHEMA_VERSION`]: the truth log's report, convergence,
//! harness isolation and the caching resolver's view). Every shape loads (later fields default);
//! files are written in the current one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::conformance::Report as ConformanceReport;
use crate::error::{Error, Result};
use crate::probe::ProbeClass;
use crate::route53::BackendInfo;
use crate::scenario::{ChaosPlan, FaultKind, Metric};

/// The shape written now.
pub const SCHEMA_VERSION: u32 = 3;
/// File name of the run's source of truth inside a run folder.
pub const SUMMARY_JSON: &str = "summary.json";

fn schema_v1() -> u32 {
    1
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    #[serde(default = "schema_v1")]
    pub schema_version: u32,
    /// True for a run on the simulated backend: it searched, it confirms nothing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub simulated: bool,
    pub seed: u64,
    /// The jitter seed, when it differs from the (schedule) seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_seed: Option<u64>,
    pub plan: PlanInfo,
    /// The command that replays this run.
    pub replay: String,
    pub backend: BackendReport,
    pub started_at_epoch_ms: u64,
    pub enactors: Vec<ImplementationSummary>,
    /// True when every implementation met the plan's SLOs and invariants.
    pub passed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanInfo {
    pub name: String,
    pub path: String,
    pub description: String,
    pub duration_ms: u64,
    /// The plan as run (defaults filled in).
    pub spec: ChaosPlan,
}

/// The backend a run used, and how well it keeps Route 53's guarantees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendReport {
    #[serde(flatten)]
    pub info: BackendInfo,
    /// The conformance check against the raw backend (absent with `--no-conformance`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conformance: Option<ConformanceReport>,
    /// The same checks through the strict gateway the enactors use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conformance_through_gateway: Option<ConformanceReport>,
}

impl Summary {
    /// Write `summary.json` into `dir` (created if missing); returns its path.
    pub fn write(&self, dir: &Path) -> Result<PathBuf> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join(SUMMARY_JSON);
        std::fs::write(&path, serde_json::to_string_pretty(self).expect("summary is json")).map_err(|e| Error::io(&path, e))?;
        Ok(path)
    }

    /// Read a summary. `path` may be the file or the run folder holding `summary.json`. Returns
    /// the file's path and the summary; every failure is one line of bad input with a hint.
    pub fn load(path: &Path) -> Result<(PathBuf, Summary)> {
        let file = if path.is_dir() { path.join(SUMMARY_JSON) } else { path.to_path_buf() };
        let hint = "(hint: pass the summary.json that `dnschaos run` wrote, or its folder)";
        let text = std::fs::read_to_string(&file).map_err(|e| {
            let what = match e.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                _ => format!("cannot read it: {e}"),
            };
            Error::bad_input(format!("{}: {what} {hint}", file.display()))
        })?;
        let summary = serde_json::from_str(&text)
            .map_err(|e| Error::bad_input(format!("{}: not a dnschaos summary: {e} {hint}", file.display())))?;
        Ok((file, summary))
    }
}

/// A maximal stretch of one bad probe class for one name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub name: String,
    pub class: ProbeClass,
    pub start_ms: u64,
    /// First good-or-other sample after the window; `None` when still open at the end.
    pub end_ms: Option<u64>,
    pub duration_ms: u64,
    /// Time from `start_ms` to the first sustained good answer; `None` = never.
    pub recovery_ms: Option<u64>,
    /// Time from the end of the fault active at `start_ms` to recovery, if a fault was.
    pub recovery_after_fault_ms: Option<u64>,
    /// First alarm / stuck / frozen event at or after the start, relative to it.
    pub detect_ms: Option<u64>,
}

/// One probe empty window and the truth interval it saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowMatch {
    pub name: String,
    pub probe_start_ms: u64,
    pub probe_end_ms: Option<u64>,
    pub truth_start_ms: u64,
    pub truth_end_ms: Option<u64>,
    /// Probe start minus truth start (how late the probes saw the name empty).
    pub start_error_ms: i64,
    /// Probe end minus truth end, when both ended.
    pub end_error_ms: Option<i64>,
}

/// What the backend held, from the truth log, and the probes' view against it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TruthReport {
    /// Commits recorded (the initial state of each zone included).
    pub commits: u64,
    /// Commits after which the backend held other than Route 53 would (see truth.jsonl).
    pub drift_commits: u64,
    /// Exact control-plane empty intervals per name.
    pub empty_windows: Vec<EmptyWindow>,
    pub empty_ms: u64,
    /// Every probe empty window with the truth interval behind it.
    pub probe_windows: Vec<WindowMatch>,
    /// Truth intervals no probe window saw (too short for the probe rate, or late).
    pub missed: Vec<EmptyWindow>,
    /// Probe empty windows with no truth interval behind them: there must be none.
    pub unexplained: Vec<EmptyWindow>,
    /// Where the enactors' own events tell another story than the truth log.
    pub disagreements: Vec<String>,
}

/// An invariant's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvariantResult {
    pub name: String,
    pub held: bool,
    /// What broke it first: time and detail.
    pub first_violation: Option<String>,
}

/// Every metric of a run; `None` where a metric is absent (a recovery that never came, no
/// az-loss, no takeover).
pub type Facts = BTreeMap<Metric, Option<u64>>;

/// One asserted property of a plan's `expect:` section and what was measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyResult {
    /// e.g. `recovery-ms <= 2000`, `generation-monotonic holds`.
    pub property: String,
    pub held: bool,
    /// The measured value, or what broke the invariant.
    pub measured: String,
    /// Set when the property is a rate: the share of seeds (percent) it must hold in. Judged over
    /// seeds (`analysis::expect::judge_rates`); one run reports it and does not fail on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_floor_pct: Option<u8>,
}

/// The verdict of an expectation: met when every property that is not a rate held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectResult {
    pub met: bool,
    pub properties: Vec<PropertyResult>,
}

impl ExpectResult {
    /// The properties that failed, one line each.
    pub fn failures(&self) -> Vec<String> {
        self.properties.iter().filter(|p| !p.held && p.rate_floor_pct.is_none()).map(|p| format!("{}: measured {}", p.property, p.measured)).collect()
    }

    /// The rate properties this run missed, one line each: not failures of the run, data for
    /// the rate over seeds.
    pub fn rate_misses(&self) -> Vec<String> {
        self.properties
            .iter()
            .filter_map(|p| p.rate_floor_pct.filter(|_| !p.held).map(|r| format!("{} (a rate, >= {r}% of seeds): measured {}", p.property, p.measured)))
            .collect()
    }
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultResult {
    pub id: String,
    pub kind: FaultKind,
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub count: u64,
}

/// One generation step of one endpoint: when it flipped and who flipped it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flip {
    pub t_ms: u64,
    pub generation: u64,
    pub enactor: String,
}

/// The verdict against the plan's SLOs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub passed: bool,
    /// Every SLO or invariant that failed, with its numbers.
    pub failures: Vec<String>,
}

/// One implementation's run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImplementationSummary {
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
    /// Enactors the analysis finds stuck, with why (schema 1: enactors that reported
    /// themselves stuck, with the endpoints).
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
    /// What the backend held (`None` without the strict gateway: no truth log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truth: Option<TruthReport>,
    /// From the last fault's end (or the start, without faults) to the first moment every
    /// endpoint held a plan within `CONVERGED_BEHIND` generations of the newest; `None` = never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub converge_ms: Option<u64>,
    /// Requests of the harness's own callers (mirror, sampler, final reads) a fault matched.
    #[serde(default)]
    pub harness_calls_faulted: u64,
    /// The Route 53 API's latency as the gateway saw it while the enactors ran, per operation
    /// (the backend's own time and zone-lock waits; injected latency excluded): overload shows.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub api_latency: BTreeMap<String, Latency>,
    /// Requests the gateway sent to the backend during this implementation's run, set-up and
    /// teardown included: every call of the run (`None` without a gateway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_calls: Option<u64>,
    /// Per probed name, the empty-answer time a client behind a caching resolver saw
    /// (negative answers cached for the SOA's negative TTL, positive ones for their TTL).
    #[serde(default)]
    pub cached_empty_ms: BTreeMap<String, u64>,
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
