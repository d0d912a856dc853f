//! Chaos plans: YAML files under `chaos-plans/` that say what runs, which faults fire when, and
//! which SLOs decide the verdict.
//!
//! Parsing is strict (`deny_unknown_fields`, kebab-case) and every error names
//! `file:line:column`, what is wrong, and a hint. Checks that serde cannot do (parameters a
//! fault kind needs, faults outside the run, targets that do not exist, absurd values) run after
//! parsing and point at the offending fault's line.

pub mod expect;
mod locate;
pub mod nemesis;

pub use crate::model::Dur;
pub mod vocab;
pub use vocab::{ApiErrorKind, FaultKind, Operation};
pub use expect::{Bound, Expectations, ImplExpect, Metric, Percent};
pub use nemesis::{Draw, NemesisSpec};

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::{az_name, EnactorKind, Point};
use crate::error::{Error, Result};

/// The longest run a plan may ask for.
pub const MAX_DURATION_S: u64 = 6 * 3600;

/// A whole chaos plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ChaosPlan {
    /// Short name; defaults to the file stem.
    #[serde(default)]
    pub name: String,
    /// What the plan models (one paragraph).
    #[serde(default)]
    pub description: String,
    /// How long the faulted part of the run lasts.
    pub duration: Dur,
    /// Seed for the plan stream, the fault schedule's probabilities and the enactors' jitter.
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default)]
    pub enactors: EnactorsSpec,
    #[serde(default)]
    pub planner: PlannerSpec,
    #[serde(default)]
    pub probe: ProbeSpec,
    #[serde(default)]
    pub gateway: GatewaySpec,
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    /// Random faults drawn per schedule seed, besides `faults` (see `nemesis.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nemesis: Option<NemesisSpec>,
    #[serde(default)]
    pub slo: SloSpec,
    /// What each implementation is expected to show (see `expect.rs`); the chaos suite asserts it.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub expect: Expectations,
}

fn default_seed() -> u64 {
    1
}

/// Which enactors run, how many, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct EnactorsSpec {
    /// Implementations to run, one after another on the same schedule (default: all five
    /// built-ins). A built-in by name, or an outside enactor as `{name, command, checkpoints}`
    /// (`docs/enactor-protocol.md`).
    #[serde(default = "all_impls", serialize_with = "crate::model::serde_implementations::serialize")]
    pub implementations: Vec<EnactorKind>,
    /// Enactors per implementation, one per AZ (default 3).
    #[serde(default = "three")]
    pub count: usize,
    /// `in-process` tasks (default) or `subprocess` (needed for sigstop faults).
    #[serde(default)]
    pub mode: EnactorMode,
    /// Lock lease (default 300ms).
    #[serde(default)]
    pub lock_lease: Option<Dur>,
    /// Generations kept below the applied plan by cleanup (default 10).
    #[serde(default)]
    pub cleanup_keep: Option<u64>,
}

fn all_impls() -> Vec<EnactorKind> {
    EnactorKind::ALL.to_vec()
}

fn three() -> usize {
    3
}

impl Default for EnactorsSpec {
    fn default() -> Self {
        EnactorsSpec { implementations: all_impls(), count: 3, mode: EnactorMode::InProcess, lock_lease: None, cleanup_keep: None }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnactorMode {
    #[default]
    InProcess,
    Subprocess,
}

/// The plan stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PlannerSpec {
    /// Plans per second (default 2).
    #[serde(default = "two")]
    pub rate: f64,
    /// How long a plan stays valid (default 10s).
    #[serde(default = "ten_s")]
    pub validity: Dur,
}

fn two() -> f64 {
    2.0
}

fn ten_s() -> Dur {
    Dur(std::time::Duration::from_secs(10))
}

impl Default for PlannerSpec {
    fn default() -> Self {
        PlannerSpec { rate: 2.0, validity: ten_s() }
    }
}

/// DNS probing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ProbeSpec {
    /// Queries per second per name and type (default 100).
    #[serde(default = "hundred")]
    pub rate: f64,
    /// Per-query timeout (default 500ms).
    #[serde(default = "half_s")]
    pub timeout: Dur,
    /// Delay between the control plane and the DNS data plane (default 0s).
    #[serde(default)]
    pub propagation_delay: Dur,
}

fn hundred() -> f64 {
    100.0
}

fn half_s() -> Dur {
    Dur(std::time::Duration::from_millis(500))
}

impl Default for ProbeSpec {
    fn default() -> Self {
        ProbeSpec { rate: 100.0, timeout: half_s(), propagation_delay: Dur::default() }
    }
}

/// The Route 53 fault gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct GatewaySpec {
    /// Enforce Route 53's batch semantics in front of the backend (default true).
    #[serde(default = "yes")]
    pub strict: bool,
    /// GetChange answers PENDING for this long (default 0s).
    #[serde(default)]
    pub propagation_delay: Dur,
}

fn yes() -> bool {
    true
}

impl Default for GatewaySpec {
    fn default() -> Self {
        GatewaySpec { strict: true, propagation_delay: Dur::default() }
    }
}

/// One entry of the fault timeline. Which parameters apply depends on `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FaultSpec {
    /// Name used in events and reports (default `<kind>-<index>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub kind: FaultKind,
    /// When the fault starts, from the start of the faulted run.
    pub at: Dur,
    /// How long it lasts; required for faults with an end.
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    pub duration: Option<Dur>,
    /// `enactor:<index>` or `enactor:<az>`, `api`, `planner`, `backend`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// api-*: which operation (default: every request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<Operation>,
    /// api-*, slow-enactor: chance per call (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// api-latency, slow-enactor: fixed latency, or the low end with `latency-max`, or the mean with `jitter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Dur>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_max: Option<Dur>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<Dur>,
    /// api-error: which error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiErrorKind>,
    /// pause: the point in the enactor's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<Point>,
    /// flood: rate multiplier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiplier: Option<f64>,
    /// burst: how many plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plans: Option<u64>,
    /// az-loss: the AZ (default the target enactor's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub az: Option<String>,
}

impl FaultSpec {
    /// A fault of `kind` from `at` with every other field unset.
    pub fn bare(kind: FaultKind, at: Dur) -> FaultSpec {
        FaultSpec {
            id: None,
            kind,
            at,
            duration: None,
            target: None,
            operation: None,
            probability: None,
            latency: None,
            latency_max: None,
            jitter: None,
            error: None,
            point: None,
            multiplier: None,
            plans: None,
            az: None,
        }
    }
}

/// What decides the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SloSpec {
    /// Longest acceptable empty-answer window (default 0s: none).
    #[serde(default)]
    pub max_empty_window: Dur,
    /// Longest acceptable time to recovery after a fault ends (default 30s).
    #[serde(default = "thirty_s")]
    pub max_time_to_recovery: Dur,
    /// Invariants that must hold (default all).
    #[serde(default = "all_invariants")]
    pub invariants: Vec<Invariant>,
    /// Bound for `converges` (default 20s after the last fault ends).
    #[serde(default = "twenty_s")]
    pub converge_within: Dur,
}

fn thirty_s() -> Dur {
    Dur(std::time::Duration::from_secs(30))
}

fn twenty_s() -> Dur {
    Dur(std::time::Duration::from_secs(20))
}

fn all_invariants() -> Vec<Invariant> {
    vec![Invariant::GenerationMonotonic, Invariant::ActiveNeverDeleted, Invariant::NoEmptyAnswer, Invariant::Converges]
}

impl Default for SloSpec {
    fn default() -> Self {
        SloSpec { max_empty_window: Dur::default(), max_time_to_recovery: thirty_s(), invariants: all_invariants(), converge_within: twenty_s() }
    }
}

/// Invariants over the run's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Invariant {
    /// The applied generation never moves backwards per endpoint.
    GenerationMonotonic,
    /// The active plan's tree is never deleted.
    ActiveNeverDeleted,
    /// No probe sees NOERROR with zero records.
    NoEmptyAnswer,
    /// Every endpoint answers the newest plan within `converge-within` after the last fault.
    Converges,
}

impl Invariant {
    pub fn as_str(self) -> &'static str {
        match self {
            Invariant::GenerationMonotonic => "generation-monotonic",
            Invariant::ActiveNeverDeleted => "active-never-deleted",
            Invariant::NoEmptyAnswer => "no-empty-answer",
            Invariant::Converges => "converges",
        }
    }
}

/// A plan loaded from a file, with its source kept for error locations.
#[derive(Debug, Clone)]
pub struct LoadedPlan {
    pub path: PathBuf,
    pub plan: ChaosPlan,
}

/// A resolved fault target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Enactor(usize),
    Api,
    Planner,
    Backend,
}

impl ChaosPlan {
    /// The enactor index a target names, with `count` enactors running.
    pub fn resolve_target(target: &str, count: usize) -> Option<Target> {
        match target {
            "api" => Some(Target::Api),
            "planner" => Some(Target::Planner),
            "backend" => Some(Target::Backend),
            t => {
                let rest = t.strip_prefix("enactor:")?;
                if let Ok(i) = rest.parse::<usize>() {
                    return (i < count).then_some(Target::Enactor(i));
                }
                (0..count).find(|i| az_name(*i) == rest).map(Target::Enactor)
            }
        }
    }

    /// The id of fault `i`.
    pub fn fault_id(&self, i: usize) -> String {
        self.faults[i].id.clone().unwrap_or_else(|| format!("{}-{i}", self.faults[i].kind.as_str()))
    }
}

impl ChaosPlan {
    /// The plan with every time in it multiplied by `f` (0 < f <= 1 shortens it): the run's and
    /// the faults' times, the planner's rate (divided), plan validity, latencies injected, the
    /// probes' timeout and propagation delay, and the SLOs' bounds. The enactors' own timings
    /// scale with it in the runner. The backend's latency does not: whether a verdict survives a
    /// time scale is measured, never assumed.
    pub fn scaled(&self, f: f64) -> ChaosPlan {
        let d = |x: Dur| Dur(x.0.mul_f64(f));
        let mut p = self.clone();
        p.duration = d(p.duration);
        p.planner.rate /= f;
        p.planner.validity = d(p.planner.validity);
        p.probe.timeout = d(p.probe.timeout);
        p.probe.propagation_delay = d(p.probe.propagation_delay);
        p.gateway.propagation_delay = d(p.gateway.propagation_delay);
        p.slo.max_empty_window = d(p.slo.max_empty_window);
        p.slo.max_time_to_recovery = d(p.slo.max_time_to_recovery);
        p.slo.converge_within = d(p.slo.converge_within);
        for f_ in &mut p.faults {
            f_.at = d(f_.at);
            f_.duration = f_.duration.map(d);
            f_.latency = f_.latency.map(d);
            f_.latency_max = f_.latency_max.map(d);
            f_.jitter = f_.jitter.map(d);
        }
        p
    }
}

/// Check that `plan` can run on the simulated backend: nothing in it may need a real process
/// (virtual time cannot wait on one). Errors point at the line, like every plan error.
pub fn check_simulable(loaded: &LoadedPlan) -> Result<()> {
    use locate::Seg::{Index, Key};
    let text = std::fs::read_to_string(&loaded.path).unwrap_or_default();
    let at = |segs: &[locate::Seg]| {
        let (l, c) = locate::locate(&text, segs);
        format!("{}:{l}:{c}", loaded.path.display())
    };
    let plan = &loaded.plan;
    if plan.enactors.mode == EnactorMode::Subprocess {
        return Err(Error::bad_input(format!(
            "{}: subprocess enactors cannot run on the simulated backend: a child process runs on the wall clock, not the simulation's (hint: enactors.mode: in-process, or --backend container)",
            at(&[Key("enactors"), Key("mode")])
        )));
    }
    check_enactors(loaded, &plan.enactors.implementations, true)?;
    for (i, f) in plan.faults.iter().enumerate() {
        let Some(why) = needs_real_process(f.kind) else { continue };
        return Err(Error::bad_input(format!(
            "{}: {} cannot run on the simulated backend: {why} (hint: run this plan with --backend container)",
            at(&[Key("faults"), Index(i), Key("kind")]),
            f.kind.as_str()
        )));
    }
    for (i, k) in plan.nemesis.iter().flat_map(|n| n.kinds.iter()).enumerate() {
        if let Some(why) = needs_real_process(k.kind) {
            return Err(Error::bad_input(format!(
                "{}: the nemesis may draw {}, which cannot run on the simulated backend: {why} (hint: drop it from nemesis.kinds, or --backend container)",
                at(&[Key("nemesis"), Key("kinds"), Index(i), Key("kind")]),
                k.kind.as_str()
            )));
        }
    }
    Ok(())
}

/// Why a fault kind cannot run on virtual time, if it cannot.
fn needs_real_process(kind: FaultKind) -> Option<&'static str> {
    match kind {
        FaultKind::Sigstop => Some("sigstop stops a real process"),
        FaultKind::BackendPause => Some("backend-pause freezes a real backend process or container"),
        FaultKind::BackendRestart => Some("backend-restart restarts a real backend"),
        _ => None,
    }
}

/// What is wrong with running outside enactors among `kinds` under `plan`, if anything, with
/// where to point: an unknown name, a command that is not there, a named-point pause without
/// the handshake. `listed`: `kinds` is the plan's own list (else it came from `--enactor`).
fn outside_problem(plan: &ChaosPlan, kinds: &[EnactorKind], listed: bool) -> Option<(Vec<locate::Seg>, String)> {
    use locate::Seg::{Index, Key};
    for (i, k) in kinds.iter().enumerate() {
        let Some(o) = k.outside_spec() else { continue };
        let segs = if listed { vec![Key("enactors"), Key("implementations"), Index(i)] } else { vec![Key("enactors")] };
        let flag = if listed { String::new() } else { format!("--enactor {}: ", o.name) };
        if o.command.is_empty() {
            return Some((segs, format!(
                "{flag}unknown implementation {:?} (hint: one of legacy, single, revalidating, converging, fenced; or your own as {{name: {0}, command: [\"./my-enactor\"]}}, or --enactor-cmd '{0}=./my-enactor')",
                o.name
            )));
        }
        if let Err(why) = outside_program(&o.command[0]) {
            let mut segs = segs;
            if listed {
                segs.push(Key("command"));
            }
            return Some((segs, format!("{flag}outside enactor {}: {why}", o.name)));
        }
        if !o.checkpoints {
            if let Some(j) = plan.faults.iter().position(|f| f.kind == FaultKind::Pause && f.point.is_some()) {
                return Some((vec![Key("faults"), Index(j), Key("point")], format!(
                    "{flag}a pause at a named point needs the enactor's cooperation, and outside enactor {} does not declare the handshake (hint: implement `reached`/`continue` from docs/enactor-protocol.md and set checkpoints: true, or pause it with sigstop)",
                    o.name
                )));
            }
            if plan.nemesis.as_ref().is_some_and(|n| n.kinds.iter().any(|k| k.kind == FaultKind::Pause)) {
                return Some((vec![Key("nemesis"), Key("kinds")], format!(
                    "{flag}the nemesis may draw pauses at named points, and outside enactor {} does not declare the handshake (hint: set checkpoints: true once it speaks `reached`/`continue`, or drop pause from nemesis.kinds)",
                    o.name
                )));
            }
        }
    }
    None
}

/// Check the implementations a run will use (the plan's, or those `--enactor` names) against
/// the plan: outside enactors must be known, their commands there, named-point pauses need
/// their handshake, and none runs on the simulated backend.
pub fn check_enactors(loaded: &LoadedPlan, kinds: &[EnactorKind], simulated: bool) -> Result<()> {
    let listed = kinds == loaded.plan.enactors.implementations.as_slice();
    let at = |segs: &[locate::Seg]| {
        let text = std::fs::read_to_string(&loaded.path).unwrap_or_default();
        let (l, c) = locate::locate(&text, segs);
        format!("{}:{l}:{c}", loaded.path.display())
    };
    if let Some((segs, msg)) = outside_problem(&loaded.plan, kinds, listed) {
        return Err(Error::bad_input(format!("{}: {msg}", at(&segs))));
    }
    if simulated {
        if let Some(k) = kinds.iter().find(|k| !k.is_builtin()) {
            return Err(Error::bad_input(format!(
                "{}: outside enactor {k} cannot run on the simulated backend: it is a process on the wall clock, not the simulation's (hint: --backend container, or --enactor with built-ins only)",
                at(&[locate::Seg::Key("enactors")])
            )));
        }
    }
    Ok(())
}

/// Where an outside enactor's program is: `Ok(path)` when it exists and is executable. A name
/// with a `/` is a path (already made absolute by [`resolve_outside`] for plan files); a bare
/// name is looked up on `PATH`.
pub fn outside_program(program: &str) -> std::result::Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    if program.contains('/') {
        let p = PathBuf::from(program);
        return match std::fs::metadata(&p) {
            Err(_) => Err(format!("command {program:?} does not exist (hint: a path with a '/' is relative to the plan's folder)")),
            Ok(_) if !executable(&p) => Err(format!("command {program:?} is not an executable file (hint: chmod +x {program})")),
            Ok(_) => Ok(p),
        };
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(program))
        .find(|p| executable(p))
        .ok_or_else(|| format!("command {program:?} is not on PATH (hint: give a path, e.g. ./{program})"))
}

/// Make every outside enactor's relative program path (one with a `/`) absolute, from `base`
/// (the plan file's folder), so the plan runs from any working directory.
pub fn resolve_outside(base: &Path, kinds: &mut [EnactorKind]) {
    for k in kinds.iter_mut() {
        let Some(o) = k.outside_spec() else { continue };
        let Some(program) = o.command.first().filter(|p| p.contains('/') && !p.starts_with('/')) else { continue };
        let mut spec = o.clone();
        spec.command[0] = base.join(program.trim_start_matches("./")).to_string_lossy().into_owned();
        *k = EnactorKind::outside(spec);
    }
}

/// Load and validate a plan file.
pub fn load(path: &Path) -> Result<LoadedPlan> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::bad_input(format!("{}: cannot read the chaos plan: {e} (hint: see chaos-plans/ for examples)", path.display()))
    })?;
    parse(path, &text)
}

/// Parse and validate plan text; `path` is only used in messages.
pub fn parse(path: &Path, text: &str) -> Result<LoadedPlan> {
    let mut plan: ChaosPlan = serde_yaml::from_str(text).map_err(|e| {
        let (line, col) = e.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        Error::bad_input(format!("{}:{line}:{col}: {}", path.display(), hint_for(&msg)))
    })?;
    if plan.name.is_empty() {
        plan.name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    }
    let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    resolve_outside(base, &mut plan.enactors.implementations);
    validate(path, text, &plan)?;
    Ok(LoadedPlan { path: path.to_path_buf(), plan })
}

fn hint_for(msg: &str) -> String {
    if msg.contains("unknown variant") && msg.contains("`uniform`") {
        return format!("unknown distribution: {msg} (hint: a value, or {{uniform: [lo, hi]}}, {{exponential: {{mean, max}}}}, {{pareto: {{scale, shape, max}}}})");
    }
    if msg.contains("unknown variant") && msg.contains("kind") {
        return format!("unknown fault kind: {msg} (hint: see the fault table in README.md)");
    }
    if msg.contains("unknown field") {
        return format!("{msg} (hint: check the spelling; fields are kebab-case)");
    }
    if msg.contains("missing field") {
        return format!("{msg} (hint: every plan needs `duration`, every fault `kind` and `at`)");
    }
    msg.to_string()
}

fn validate(path: &Path, text: &str, plan: &ChaosPlan) -> Result<()> {
    let at = |segs: &[locate::Seg]| {
        let (l, c) = locate::locate(text, segs);
        format!("{}:{l}:{c}", path.display())
    };
    use locate::Seg::{Index, Key};
    let bad = |segs: &[locate::Seg], msg: String| Err(Error::bad_input(format!("{}: {msg}", at(segs))));
    let dur = plan.duration.0;
    if dur.is_zero() || dur.as_secs() > MAX_DURATION_S {
        return bad(&[Key("duration")], format!(
            "duration {} is out of range (hint: between 1s and {}h)", humantime::format_duration(dur), MAX_DURATION_S / 3600
        ));
    }
    if plan.enactors.implementations.is_empty() {
        return bad(&[Key("enactors"), Key("implementations")], "no enactor implementation listed (hint: e.g. [legacy, fenced])".into());
    }
    if let Some((segs, msg)) = outside_problem(plan, &plan.enactors.implementations, true) {
        return bad(&segs, msg);
    }
    if plan.enactors.count == 0 || plan.enactors.count > 9 {
        return bad(&[Key("enactors"), Key("count")], format!("{} enactors is out of range (hint: 1 to 9)", plan.enactors.count));
    }
    if !(plan.planner.rate > 0.0 && plan.planner.rate <= 100.0) {
        return bad(&[Key("planner"), Key("rate")], format!("planner rate {} is out of range (hint: 0 < rate <= 100 plans/s)", plan.planner.rate));
    }
    if !(plan.probe.rate > 0.0 && plan.probe.rate <= 5000.0) {
        return bad(&[Key("probe"), Key("rate")], format!("probe rate {} is out of range (hint: 0 < rate <= 5000 queries/s)", plan.probe.rate));
    }
    let count = plan.enactors.count;
    let mut ids = std::collections::BTreeSet::new();
    for (i, f) in plan.faults.iter().enumerate() {
        let here = |k: &'static str| vec![Key("faults"), Index(i), Key(k)];
        let kind = f.kind.as_str();
        if !ids.insert(plan.fault_id(i)) {
            return bad(&here("id"), format!("fault id {:?} is used twice (hint: ids must be unique)", plan.fault_id(i)));
        }
        let end = f.at.0 + f.duration.map(|d| d.0).unwrap_or_default();
        if f.at.0 >= dur {
            return bad(&here("at"), format!(
                "{kind} starts at {} but the run lasts {} (hint: faults must start inside the run)",
                humantime::format_duration(f.at.0), humantime::format_duration(dur)
            ));
        }
        if end > dur {
            return bad(&here("for"), format!(
                "{kind} ends at {} but the run lasts {} (hint: shorten `for` or lengthen `duration`)",
                humantime::format_duration(end), humantime::format_duration(dur)
            ));
        }
        let needs_for = !matches!(f.kind, FaultKind::Burst | FaultKind::BackendRestart);
        if needs_for && f.duration.is_none_or(|d| d.0.is_zero()) {
            return bad(&here("kind"), format!("{kind} needs a positive `for` (hint: e.g. for: 10s)"));
        }
        if let Some(p) = f.probability {
            if !(0.0..=1.0).contains(&p) {
                return bad(&here("probability"), format!("probability {p} is out of range (hint: 0 to 1)"));
            }
        }
        let target = match &f.target {
            Some(t) => match ChaosPlan::resolve_target(t, count) {
                Some(t) => Some(t),
                None => {
                    return bad(&here("target"), format!(
                        "target {t:?} does not exist (hint: enactor:0..enactor:{}, enactor:<az> such as enactor:{}, api, planner, backend)",
                        count - 1, az_name(0)
                    ))
                }
            },
            None => None,
        };
        let want_enactor = matches!(
            f.kind,
            FaultKind::Pause | FaultKind::Sigstop | FaultKind::Crash | FaultKind::SlowEnactor | FaultKind::OutOfOrder | FaultKind::AzLoss
        );
        if want_enactor && !matches!(target, Some(Target::Enactor(_))) {
            return bad(&here("kind"), format!("{kind} needs `target: enactor:<index or az>`"));
        }
        let need = |field: bool, name: &'static str, example: &str| -> Result<()> {
            if field {
                Ok(())
            } else {
                Err(Error::bad_input(format!("{}: {kind} needs `{name}` (hint: e.g. {name}: {example})", at(&here("kind")))))
            }
        };
        match f.kind {
            FaultKind::ApiLatency | FaultKind::SlowEnactor => {
                need(f.latency.is_some(), "latency", "200ms")?;
                if let (Some(lo), Some(hi)) = (f.latency, f.latency_max) {
                    if hi < lo {
                        return bad(&here("latency-max"), "latency-max is below latency (hint: latency..latency-max is a range)".into());
                    }
                }
                if f.latency.is_some_and(|l| l.0.as_secs() > 120) {
                    return bad(&here("latency"), "latency over 120s is absurd for an API call (hint: use api-stall to hold calls)".into());
                }
            }
            FaultKind::ApiError => need(f.error.is_some(), "error", "throttling")?,
            FaultKind::Pause => need(f.point.is_some(), "point", "after-staleness-check")?,
            FaultKind::Flood => {
                need(f.multiplier.is_some(), "multiplier", "10")?;
                if f.multiplier.is_some_and(|m| !(m > 0.0 && m <= 100.0)) {
                    return bad(&here("multiplier"), "multiplier is out of range (hint: 0 < multiplier <= 100)".into());
                }
            }
            FaultKind::Burst => {
                need(f.plans.is_some(), "plans", "20")?;
                if f.plans.is_some_and(|p| p == 0 || p > 10_000) {
                    return bad(&here("plans"), "plans is out of range (hint: 1 to 10000)".into());
                }
            }
            FaultKind::BackendRestart => return bad(&here("kind"), vocab::BACKEND_RESTART_REFUSED.to_string()),
            FaultKind::Sigstop if plan.enactors.mode != EnactorMode::Subprocess && plan.enactors.implementations.iter().any(|k| k.is_builtin()) => {
                return bad(&here("kind"), format!("{kind} needs subprocess enactors (hint: set enactors.mode: subprocess)"));
            }
            _ => {}
        }
    }
    if let Some(n) = &plan.nemesis {
        if let Some((kind, field, msg)) = nemesis::problems(n, plan).into_iter().next() {
            let mut segs = vec![Key("nemesis")];
            match kind {
                Some(i) => segs.extend([Key("kinds"), Index(i), Key(field)]),
                None => segs.push(Key(field)),
            }
            return bad(&segs, msg);
        }
    }
    for (kind, e) in &plan.expect {
        let mut segs = vec![Key("expect"), Key(kind.as_str())];
        if !plan.enactors.implementations.contains(kind) {
            return bad(&segs, format!("expectations for {} but the plan does not run it (hint: add it to enactors.implementations)", kind.as_str()));
        }
        if let Some((path, msg)) = expect::problems(e, &plan.slo.invariants).into_iter().next() {
            segs.extend(path.into_iter().map(Key));
            return bad(&segs, format!("{}: {msg}", kind.as_str()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match parse(Path::new("p.yaml"), text) {
            Ok(_) => panic!("should be rejected:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    fn check(text: &str, want_loc: &str, want: &str) {
        let e = err(text);
        assert!(e.starts_with(&format!("p.yaml:{want_loc}:")), "location {want_loc} expected in: {e}");
        assert!(e.contains(want), "{want:?} expected in: {e}");
    }

    #[test]
    fn a_good_plan_parses_with_defaults() {
        let p = parse(Path::new("x/steady.yaml"), "duration: 30s\nseed: 9\n").unwrap().plan;
        assert_eq!(p.name, "steady");
        assert_eq!(p.enactors.count, 3);
        assert_eq!(p.enactors.implementations.len(), 5);
        assert_eq!(p.slo.invariants.len(), 4);
    }

    #[test]
    fn bad_plans_are_rejected_with_line_and_column() {
        check("duration: 30s\nbogus: 1\n", "2:1", "unknown field `bogus`");
        check("duration: -5s\n", "1:11", "negative duration");
        check("duration: 30\n", "1:11", "bare number");
        check("duration: 30s\nfaults:\n  - kind: latncy\n    at: 1s\n", "3:11", "unknown fault kind");
        check("duration: 30s\nfaults:\n  - kind: flood\n    at: 40s\n    for: 5s\n    multiplier: 10\n", "4:9", "starts at 40s");
        check("duration: 30s\nfaults:\n  - kind: flood\n    at: 20s\n    for: 20s\n    multiplier: 10\n", "5:10", "ends at 40s");
        check("duration: 30s\nfaults:\n  - kind: pause\n    at: 1s\n    for: 5s\n    target: enactor:7\n    point: before-batch\n", "6:13", "does not exist");
        check("duration: 30s\nfaults:\n  - kind: api-error\n    at: 1s\n    for: 5s\n", "3:11", "needs `error`");
        check("duration: 30s\nfaults:\n  - kind: sigstop\n    at: 1s\n    for: 5s\n    target: enactor:0\n", "3:11", "subprocess");
        check("duration: 0s\n", "1:11", "out of range");
        check("duration: 30s\nfaults:\n  - kind: api-latency\n    at: 1s\n    for: 5s\n    latency: 10ms\n    probability: 2\n", "7:18", "probability 2");
    }
}
