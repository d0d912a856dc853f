//! Baselines: a stored set of run summaries that later runs are compared against (the nightly
//! regression gate).
//!
//! `dnschaos baseline save NAME --from DIR` copies every `summary.json` under DIR (the run folder
//! itself, a sweep's `seed-N/` folders, or a nightly's `<plan>/seed-N/` folders) into
//! `reports/baselines/NAME/`, keeping the relative paths, with a `baseline.json` manifest.
//!
//! `dnschaos baseline compare NAME --from DIR` groups both sides **per plan and implementation**
//! and takes the worst value over the seeds on each side (most empty time, longest window,
//! "never" before any recovery time, lowest availability, an invariant broken in any seed), then
//! calls each pair "regressed", "improved" or "within noise":
//!
//! | metric | regressed when | improved when |
//! |---|---|---|
//! | total empty time, longest empty window, time to recovery | grows by more than max(500 ms, 20 % of the baseline) | shrinks by more than the same |
//! | time to recovery | becomes "never" | "never" becomes a time |
//! | time to recovery after fault | grows as above (compared only when both sides have one) | shrinks as above |
//! | availability | drops by more than 0.5 percentage points | rises by more than 0.5 points |
//! | invariant | held in the baseline, fails now | failed in the baseline, holds now |
//! | fault | fired in the baseline, did not fire now | — |
//! | verdict | passed in the baseline, fails now | failed in the baseline, passes now |
//! | a plan + implementation | in the baseline, absent from the run | — |
//!
//! Any regression wins over improvements; the command exits 1 (`exit::VIOLATED`) on any
//! regression, 0 otherwise. A missing baseline, or a run that matches none of it, is bad input
//! (exit 2), never a silent pass. Time to detect is shown but not gated (it exists only when
//! there is something to detect).
//!
//! `--enactor IMPL` restricts a side to one implementation. On `save` the baseline keeps only
//! IMPL (recorded in the manifest). On `compare` only IMPL's results in the run are compared,
//! and when the baseline has no IMPL for a plan but exactly one other implementation, the pair is
//! made **by plan alone**: e.g. a baseline saved with `--enactor fenced`, compared with
//! `--enactor legacy`, holds legacy to fenced's numbers on the same plan.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::format::{ms, pct, recovery, utc};
use super::SUMMARY_JSON;
use crate::paths::repo_root;
use crate::error::{exit, Error, Result};
use crate::summary::{ExpectResult, ImplementationSummary, Summary};

/// Where baselines live: `reports/baselines/` under the repository (`DNSCHAOS_HOME` moves it).
pub fn baselines_dir() -> PathBuf {
    repo_root().join("reports").join("baselines")
}

/// File name of a baseline's manifest.
pub const MANIFEST: &str = "baseline.json";

/// The regression thresholds (see the module docs for the table).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// A time metric may move by this much without counting (default 500 ms)...
    pub time_abs_ms: u64,
    /// ...or by this share of the baseline's value, whichever is larger (default 0.20).
    pub time_rel: f64,
    /// Availability may move by this many percentage points (default 0.5).
    pub availability_points: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { time_abs_ms: 500, time_rel: 0.20, availability_points: 0.5 }
    }
}

impl Thresholds {
    /// How far a time metric with baseline value `old` may move within noise.
    pub fn allowed_ms(&self, old: u64) -> u64 {
        self.time_abs_ms.max((old as f64 * self.time_rel).round() as u64)
    }
}

impl fmt::Display for Thresholds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "thresholds: total empty time, longest empty window and time to recovery regress when they grow by more than \
max({} ms, {:.0} %) and improve when they shrink by as much; a recovery that becomes \"never\" regresses; availability \
regresses on a drop of more than {:.2} points; an invariant that held and now fails, a fault that fired and now does not, \
and a verdict that passed and now fails regress; seeds are aggregated worst-case per plan and implementation",
            self.time_abs_ms,
            self.time_rel * 100.0,
            self.availability_points
        )
    }
}

/// `dnschaos baseline save|compare`.
#[derive(Debug, clap::Subcommand)]
pub enum BaselineCommand {
    /// Copy the summaries of a run, sweep or nightly folder into reports/baselines/NAME/.
    ///
    /// Replaces an older baseline of that name. With --enactor IMPL only IMPL counts.
    Save(BaselineArgs),
    /// Compare a run folder with reports/baselines/NAME (exit 1 on any regression).
    ///
    /// Prints "regressed", "improved" or "within noise" per plan and implementation, naming
    /// what got worse with numbers. Seeds are aggregated worst-case. Thresholds: total empty
    /// time, longest empty window and time to recovery regress when they grow by more than
    /// max(500 ms, 20 %); a recovery that becomes "never" regresses; availability regresses on a
    /// drop of more than 0.5 points; an invariant that held and now fails, a fault that fired and
    /// now does not, a verdict that passed and now fails, and a plan/implementation missing from
    /// the run regress. Exits 2 when the baseline is missing or nothing in the run matches it.
    Compare(BaselineArgs),
}

#[derive(Debug, clap::Args)]
pub struct BaselineArgs {
    /// Baseline name: letters, digits, '.', '-', '_' (e.g. nightly).
    pub name: String,
    /// A run folder (summary.json), a sweep folder (seed-N/summary.json), a nightly folder
    /// (<plan>/seed-N/summary.json), or one summary.json file; several (`--from A --from B`, or
    /// `--from A B`) are taken together, e.g. the shards of one night.
    #[arg(long, required = true, num_args = 1..)]
    pub from: Vec<PathBuf>,
    /// Only this implementation. With compare, a baseline of another single implementation is
    /// matched by plan alone (e.g. a fenced baseline against a legacy run).
    #[arg(long = "enactor")]
    pub enactor: Option<String>,
    /// With compare: when there is no baseline NAME yet, judge every run by its plan's `expect:`
    /// entry (the chaos suite's table) instead of failing with exit 2.
    #[arg(long)]
    pub or_expect: bool,
}

/// Run a `baseline` subcommand, printing its result; returns the exit code.
pub fn run(cmd: &BaselineCommand) -> Result<i32> {
    match cmd {
        BaselineCommand::Save(a) => {
            let saved = save(&a.name, &a.from, a.enactor.as_deref())?;
            println!("{saved}");
            Ok(exit::OK)
        }
        BaselineCommand::Compare(a) if a.or_expect && !baselines_dir().join(&a.name).join(MANIFEST).is_file() => {
            let j = judge_by_expectations(&a.from)?;
            println!("no baseline {:?} yet: judged by the plans' expect: tables (the chaos suite's); adopt this night with `dnschaos baseline save {} --from {}`", a.name, a.name, shown(&a.from));
            print!("{j}");
            Ok(if j.missed + j.rates_below > 0 { exit::VIOLATED } else { exit::OK })
        }
        BaselineCommand::Compare(a) => {
            let c = compare(&a.name, &a.from, a.enactor.as_deref(), &Thresholds::default())?;
            print!("{c}");
            Ok(if c.regressed() { exit::VIOLATED } else { exit::OK })
        }
    }
}

/// Runs judged by their plans' `expect:` entries.
#[derive(Debug, Default)]
pub struct ExpectJudgement {
    pub lines: Vec<String>,
    pub met: usize,
    pub missed: usize,
    pub unjudged: usize,
    /// Rate properties judged over the night's seeds, per plan and implementation.
    pub rates_below: usize,
}

impl std::fmt::Display for ExpectJudgement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for l in &self.lines {
            writeln!(f, "  {l}")?;
        }
        writeln!(
            f,
            "judged {} run(s) by expectation: {} met, {} missed, {} not judged (rates); {} rate propert{} below its floor -> {}",
            self.met + self.missed,
            self.met,
            self.missed,
            self.unjudged,
            self.rates_below,
            if self.rates_below == 1 { "y" } else { "ies" },
            if self.missed + self.rates_below > 0 { "REGRESSION" } else { "ok" }
        )
    }
}

/// Judge every run under `from` by its plan's `expect:` entry, as the chaos suite does.
pub fn judge_by_expectations(from: &[PathBuf]) -> Result<ExpectJudgement> {
    let found = find_summaries_in(from)?;
    Ok(judge_summaries(found.iter().map(|f| &f.summary)))
}

/// Each run by its expectation, and each (plan, implementation)'s rate properties over its runs.
fn judge_summaries<'a>(summaries: impl Iterator<Item = &'a Summary> + Clone) -> ExpectJudgement {
    use crate::analysis::expect::{judge_rates, judge_run, RunJudgement};
    let mut j = ExpectJudgement::default();
    let mut rows: BTreeMap<(String, String), Vec<&ExpectResult>> = BTreeMap::new();
    for summary in summaries.clone() {
        for e in &summary.enactors {
            if let Some(x) = &e.expectation {
                rows.entry((summary.plan.name.clone(), e.implementation.clone())).or_default().push(x);
            }
        }
    }
    for summary in summaries {
        for e in &summary.enactors {
            let head = format!("{} / {} seed {}", summary.plan.name, e.implementation, summary.seed);
            match judge_run(e.expectation.as_ref(), &e.faults) {
                RunJudgement::Met(n) => {
                    j.met += 1;
                    j.lines.push(format!("{head}: met ({n} properties)"));
                }
                RunJudgement::Missed(why) => {
                    j.missed += 1;
                    j.lines.push(format!("{head}: MISSED: {}", why.join("; ")));
                }
                RunJudgement::Unjudged => {
                    j.unjudged += 1;
                    j.lines.push(format!("{head}: not judged (the plan expects nothing of it: its outcome is a rate)"));
                }
            }
        }
    }
    // A property that is a rate is judged over the night's seeds, never on one run.
    for ((plan, implementation), runs) in &rows {
        for r in judge_rates(runs.iter().copied()) {
            j.rates_below += usize::from(r.ok == Some(false));
            j.lines.push(format!("{plan} / {implementation} over {} seed(s), rate {}", runs.len(), r.describe()));
        }
    }
    j
}

/// A summary found under a folder, with its path relative to that folder.
#[derive(Debug, Clone)]
pub struct Found {
    pub rel: PathBuf,
    pub path: PathBuf,
    pub summary: Summary,
}

/// Every `summary.json` under each of `froms`, in order; two at the same relative place (the
/// same run in two shards) is bad input.
pub fn find_summaries_in(froms: &[PathBuf]) -> Result<Vec<Found>> {
    let mut all: Vec<Found> = Vec::new();
    for from in froms {
        for f in find_summaries(from)? {
            if let Some(other) = all.iter().find(|o| o.rel == f.rel && froms.len() > 1) {
                return Err(Error::bad_input(format!(
                    "{} and {} are the same run ({}) in two folders (hint: shards must split the runs, not repeat them)",
                    other.path.display(),
                    f.path.display(),
                    f.rel.display()
                )));
            }
            all.push(f);
        }
    }
    Ok(all)
}

/// The folders, for messages.
pub fn shown(froms: &[PathBuf]) -> String {
    froms.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" + ")
}

/// Every `summary.json` under `from` (itself a file, or a folder searched five levels deep), in
/// path order. None found, or one that is not a summary, is bad input.
pub fn find_summaries(from: &Path) -> Result<Vec<Found>> {
    if !from.exists() {
        return Err(Error::bad_input(format!(
            "{}: no such file or folder (hint: pass the --out folder of `dnschaos run`, a sweep folder or a summary.json)",
            from.display()
        )));
    }
    let mut files = Vec::new();
    if from.is_file() {
        files.push((PathBuf::from(SUMMARY_JSON), from.to_path_buf()));
    } else {
        walk(from, from, 0, &mut files)?;
    }
    files.sort();
    if files.is_empty() {
        return Err(Error::bad_input(format!(
            "{}: no summary.json in it or its subfolders (hint: pass the --out folder of `dnschaos run`, or a sweep folder with seed-N/summary.json)",
            from.display()
        )));
    }
    files
        .into_iter()
        .map(|(rel, path)| {
            let (_, summary) = super::load(&path)?;
            Ok(Found { rel, path, summary })
        })
        .collect()
}

fn walk(root: &Path, dir: &Path, depth: usize, out: &mut Vec<(PathBuf, PathBuf)>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let ft = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if ft.is_file() && entry.file_name() == SUMMARY_JSON {
            out.push((path.strip_prefix(root).unwrap_or(&path).to_path_buf(), path));
        } else if ft.is_dir() && depth < 5 {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if !name.starts_with('.') && name != "target" {
                walk(root, &path, depth + 1, out)?;
            }
        }
    }
    Ok(())
}

/// What `baseline.json` records.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub saved_at_epoch_ms: u64,
    /// The folder or file it was saved from, as given.
    pub from: String,
    /// Only this implementation counts in the baseline (`--enactor` at save time).
    #[serde(default)]
    pub enactor: Option<String>,
    pub summaries: Vec<ManifestEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ManifestEntry {
    /// Relative to the baseline folder.
    pub path: String,
    pub plan: String,
    pub seed: u64,
    pub implementations: Vec<String>,
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty() && !name.starts_with('.') && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(Error::bad_input(format!(
            "baseline name {name:?} is not a plain name (hint: letters, digits, '.', '-', '_', e.g. nightly)"
        )))
    }
}

fn implementations(found: &[Found]) -> BTreeSet<String> {
    found.iter().flat_map(|f| f.summary.enactors.iter().map(|e| e.implementation.clone())).collect()
}

fn check_enactor(enactor: Option<&str>, found: &[Found], place: &str) -> Result<()> {
    if let Some(i) = enactor {
        let all = implementations(found);
        if !all.contains(i) {
            return Err(Error::bad_input(format!(
                "--enactor {i}: no {i} results in {place} (hint: one of {})",
                all.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    Ok(())
}

/// The result of `save`, printed by the CLI.
#[derive(Debug, Clone)]
pub struct Saved {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

impl fmt::Display for Saved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plans: BTreeSet<&str> = self.manifest.summaries.iter().map(|s| s.plan.as_str()).collect();
        let impls: BTreeSet<&str> = self.manifest.summaries.iter().flat_map(|s| s.implementations.iter().map(String::as_str)).collect();
        write!(
            f,
            "saved baseline {}: {} summary file(s), plan(s) {}, implementation(s) {}{} -> {}",
            self.manifest.name,
            self.manifest.summaries.len(),
            plans.into_iter().collect::<Vec<_>>().join(", "),
            impls.into_iter().collect::<Vec<_>>().join(", "),
            self.manifest.enactor.as_deref().map(|e| format!(" (only {e} counts)")).unwrap_or_default(),
            self.dir.display()
        )
    }
}

/// Copy every summary under `from` into `reports/baselines/NAME/` (replacing an older baseline of
/// that name) and write the manifest.
pub fn save(name: &str, from: &[PathBuf], enactor: Option<&str>) -> Result<Saved> {
    check_name(name)?;
    let found = find_summaries_in(from)?;
    check_enactor(enactor, &found, &shown(from))?;
    let dir = baselines_dir().join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    }
    let mut summaries = Vec::new();
    for f in &found {
        let impls: Vec<String> = f
            .summary
            .enactors
            .iter()
            .map(|e| e.implementation.clone())
            .filter(|i| enactor.is_none_or(|want| want == i))
            .collect();
        if impls.is_empty() {
            continue;
        }
        let target = dir.join(&f.rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::copy(&f.path, &target).map_err(|e| Error::io(&f.path, e))?;
        summaries.push(ManifestEntry {
            path: f.rel.to_string_lossy().replace('\\', "/"),
            plan: f.summary.plan.name.clone(),
            seed: f.summary.seed,
            implementations: impls,
        });
    }
    let manifest = Manifest {
        name: name.to_string(),
        saved_at_epoch_ms: crate::clock::Clock::wall().epoch_ms(),
        from: shown(from),
        enactor: enactor.map(str::to_string),
        summaries,
    };
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let path = dir.join(MANIFEST);
    std::fs::write(&path, serde_json::to_string_pretty(&manifest).expect("manifest is json") + "\n").map_err(|e| Error::io(&path, e))?;
    Ok(Saved { dir, manifest })
}

/// Load a stored baseline: its manifest and summaries.
pub fn load_baseline(name: &str) -> Result<(PathBuf, Manifest, Vec<Found>)> {
    check_name(name)?;
    let root = baselines_dir();
    let dir = root.join(name);
    let path = dir.join(MANIFEST);
    if !path.is_file() {
        let existing: Vec<String> = std::fs::read_dir(&root)
            .map(|rd| {
                let mut v: Vec<String> = rd
                    .filter_map(|e| e.ok())
                    .filter(|e| e.path().join(MANIFEST).is_file())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
                v.sort();
                v
            })
            .unwrap_or_default();
        return Err(Error::bad_input(format!(
            "no baseline {name:?} in {} (hint: save one with `dnschaos baseline save {name} --from DIR`; existing: {})",
            root.display(),
            if existing.is_empty() { "none".to_string() } else { existing.join(", ") }
        )));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|e| Error::bad_input(format!("{}: not a baseline manifest: {e} (hint: save the baseline again)", path.display())))?;
    let mut found = Vec::new();
    for entry in &manifest.summaries {
        let p = dir.join(&entry.path);
        let (_, summary) = super::load(&p)?;
        found.push(Found { rel: PathBuf::from(&entry.path), path: p, summary });
    }
    Ok((dir, manifest, found))
}

/// One plan + implementation aggregated over its seeds (worst case).
#[derive(Debug, Clone)]
pub struct Aggregate {
    pub plan: String,
    pub implementation: String,
    pub seeds: BTreeSet<u64>,
    pub total_empty_ms: (u64, u64),
    pub longest_empty_ms: (u64, u64),
    /// `None` = never recovered in some seed.
    pub time_to_recovery_ms: (Option<u64>, u64),
    pub time_to_recovery_after_fault_ms: Option<(u64, u64)>,
    pub availability_pct: (f64, u64),
    /// Invariant -> first violation over the seeds (`None` = held in every seed).
    pub invariants: BTreeMap<String, Option<(u64, String)>>,
    /// Applicable fault -> fired in every seed.
    pub faults: BTreeMap<String, bool>,
    pub passed: bool,
    pub failures: Vec<String>,
}

impl Aggregate {
    fn new(plan: &str, e: &ImplementationSummary, seed: u64) -> Self {
        let mut a = Aggregate {
            plan: plan.to_string(),
            implementation: e.implementation.clone(),
            seeds: BTreeSet::new(),
            total_empty_ms: (0, seed),
            longest_empty_ms: (0, seed),
            time_to_recovery_ms: (Some(0), seed),
            time_to_recovery_after_fault_ms: None,
            availability_pct: (f64::INFINITY, seed),
            invariants: BTreeMap::new(),
            faults: BTreeMap::new(),
            passed: true,
            failures: Vec::new(),
        };
        a.add(e, seed);
        a
    }

    fn add(&mut self, e: &ImplementationSummary, seed: u64) {
        self.seeds.insert(seed);
        if e.total_empty_ms > self.total_empty_ms.0 || self.seeds.len() == 1 {
            self.total_empty_ms = (e.total_empty_ms, seed);
        }
        if e.longest_empty_ms > self.longest_empty_ms.0 || self.seeds.len() == 1 {
            self.longest_empty_ms = (e.longest_empty_ms, seed);
        }
        let worse_ttr = match (self.time_to_recovery_ms.0, e.time_to_recovery_ms) {
            (_, None) => self.time_to_recovery_ms.0.is_some(),
            (None, Some(_)) => false,
            (Some(a), Some(b)) => b > a,
        };
        if worse_ttr || self.seeds.len() == 1 {
            self.time_to_recovery_ms = (e.time_to_recovery_ms, seed);
        }
        if let Some(t) = e.time_to_recovery_after_fault_ms {
            if self.time_to_recovery_after_fault_ms.is_none_or(|(a, _)| t > a) {
                self.time_to_recovery_after_fault_ms = Some((t, seed));
            }
        }
        if e.availability_pct < self.availability_pct.0 {
            self.availability_pct = (e.availability_pct, seed);
        }
        for inv in &e.invariants {
            let slot = self.invariants.entry(inv.name.clone()).or_insert(None);
            if !inv.held && slot.is_none() {
                *slot = Some((seed, inv.first_violation.clone().unwrap_or_default()));
            }
        }
        for f in e.faults.iter().filter(|f| f.applicable) {
            let slot = self.faults.entry(f.id.clone()).or_insert(true);
            *slot &= f.fired;
        }
        if !e.verdict.passed && self.passed {
            self.failures = e.verdict.failures.clone();
        }
        self.passed &= e.verdict.passed;
    }
}

fn aggregate(found: &[Found], only: Option<&str>) -> BTreeMap<(String, String), Aggregate> {
    let mut out: BTreeMap<(String, String), Aggregate> = BTreeMap::new();
    for f in found {
        for e in &f.summary.enactors {
            if only.is_some_and(|o| o != e.implementation) {
                continue;
            }
            let key = (f.summary.plan.name.clone(), e.implementation.clone());
            match out.get_mut(&key) {
                Some(a) => a.add(e, f.summary.seed),
                None => {
                    out.insert(key, Aggregate::new(&f.summary.plan.name, e, f.summary.seed));
                }
            }
        }
    }
    out
}

/// The outcome of one pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Regressed,
    Improved,
    WithinNoise,
    /// In the baseline, not in the run: counts as a regression.
    Missing,
    /// In the run, not in the baseline: reported, not gated.
    New,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Regressed => "regressed",
            Outcome::Improved => "improved",
            Outcome::WithinNoise => "within noise",
            Outcome::Missing => "regressed (missing from the run)",
            Outcome::New => "new (no baseline)",
        })
    }
}

/// One plan + implementation compared.
#[derive(Debug, Clone)]
pub struct Pair {
    pub plan: String,
    pub implementation: String,
    /// The baseline's implementation when it differs (`--enactor` mapping by plan).
    pub baseline_implementation: Option<String>,
    pub seeds: BTreeSet<u64>,
    pub baseline_seeds: BTreeSet<u64>,
    pub outcome: Outcome,
    pub worse: Vec<String>,
    pub better: Vec<String>,
    /// The headline numbers, for pairs within noise.
    pub numbers: String,
}

/// The result of `compare`.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub name: String,
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub from: String,
    pub thresholds: Thresholds,
    pub pairs: Vec<Pair>,
}

impl Comparison {
    /// True when any pair regressed (or went missing): the gate fails.
    pub fn regressed(&self) -> bool {
        self.pairs.iter().any(|p| matches!(p.outcome, Outcome::Regressed | Outcome::Missing))
    }

    fn count(&self, o: Outcome) -> usize {
        self.pairs.iter().filter(|p| p.outcome == o).count()
    }
}

fn seeds(s: &BTreeSet<u64>) -> String {
    s.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "baseline {} ({}; saved {} from {}{}) vs {}",
            self.name,
            self.dir.display(),
            utc(self.manifest.saved_at_epoch_ms),
            self.manifest.from,
            self.manifest.enactor.as_deref().map(|e| format!(", only {e}")).unwrap_or_default(),
            self.from
        )?;
        writeln!(f, "{}", self.thresholds)?;
        for p in &self.pairs {
            let vs = p.baseline_implementation.as_deref().map(|b| format!(" vs baseline {b}")).unwrap_or_default();
            let seed_note = if p.seeds == p.baseline_seeds || p.baseline_seeds.is_empty() || p.seeds.is_empty() {
                format!("seeds {}", seeds(if p.seeds.is_empty() { &p.baseline_seeds } else { &p.seeds }))
            } else {
                format!("seeds {} vs baseline seeds {}", seeds(&p.seeds), seeds(&p.baseline_seeds))
            };
            writeln!(f, "{} {}{vs} ({seed_note}): {}", p.plan, p.implementation, p.outcome)?;
            for w in &p.worse {
                writeln!(f, "  worse:  {w}")?;
            }
            for b in &p.better {
                writeln!(f, "  better: {b}")?;
            }
            if p.worse.is_empty() && p.better.is_empty() && !p.numbers.is_empty() {
                writeln!(f, "  {}", p.numbers)?;
            }
        }
        let regressed = self.count(Outcome::Regressed) + self.count(Outcome::Missing);
        writeln!(
            f,
            "result: {regressed} regressed, {} improved, {} within noise{} -> {}",
            self.count(Outcome::Improved),
            self.count(Outcome::WithinNoise),
            match self.count(Outcome::New) {
                0 => String::new(),
                n => format!(", {n} new without baseline"),
            },
            if self.regressed() { "REGRESSION" } else { "ok" }
        )
    }
}

/// Compare the summaries under `from` with baseline `name`.
pub fn compare(name: &str, from: &[PathBuf], enactor: Option<&str>, th: &Thresholds) -> Result<Comparison> {
    let (dir, manifest, base_found) = load_baseline(name)?;
    let run_found = find_summaries_in(from)?;
    check_enactor(enactor, &run_found, &shown(from))?;
    let base = aggregate(&base_found, manifest.enactor.as_deref());
    let run = aggregate(&run_found, enactor);

    let mut pairs = Vec::new();
    let mut used: BTreeSet<(String, String)> = BTreeSet::new();
    for (key, r) in &run {
        let b = match base.get(key) {
            Some(b) => Some(b),
            None if enactor.is_some() => {
                let same_plan: Vec<&Aggregate> = base.values().filter(|b| b.plan == r.plan).collect();
                match same_plan.len() {
                    0 => None,
                    1 => Some(same_plan[0]),
                    _ => {
                        return Err(Error::bad_input(format!(
                            "baseline {name} has several implementations for plan {} ({}) and none is {} (hint: save the baseline with --enactor IMPL)",
                            r.plan,
                            same_plan.iter().map(|b| b.implementation.as_str()).collect::<Vec<_>>().join(", "),
                            r.implementation
                        )))
                    }
                }
            }
            None => None,
        };
        match b {
            Some(b) => {
                used.insert((b.plan.clone(), b.implementation.clone()));
                pairs.push(pair(b, r, th));
            }
            None => pairs.push(Pair {
                plan: r.plan.clone(),
                implementation: r.implementation.clone(),
                baseline_implementation: None,
                seeds: r.seeds.clone(),
                baseline_seeds: BTreeSet::new(),
                outcome: Outcome::New,
                worse: vec![],
                better: vec![],
                numbers: String::new(),
            }),
        }
    }
    if used.is_empty() {
        let describe = |m: &BTreeMap<(String, String), Aggregate>| {
            m.keys().map(|(p, i)| format!("{p}/{i}")).collect::<Vec<_>>().join(", ")
        };
        return Err(Error::bad_input(format!(
            "nothing in {} matches baseline {name} (baseline has {}; the run has {}) (hint: compare runs of the same plans, or pass --enactor to map another implementation by plan)",
            shown(from),
            describe(&base),
            if run.is_empty() { "nothing".to_string() } else { describe(&run) }
        )));
    }
    for (key, b) in &base {
        if used.contains(key) {
            continue;
        }
        // With --enactor IMPL only IMPL is in question (or the baseline's single implementation),
        // and only for plans the run has none of.
        if let Some(want) = enactor {
            let in_question = b.implementation == want || manifest.enactor.is_some();
            if !in_question || run.values().any(|r| r.plan == b.plan) {
                continue;
            }
        }
        pairs.push(Pair {
            plan: b.plan.clone(),
            implementation: b.implementation.clone(),
            baseline_implementation: None,
            seeds: BTreeSet::new(),
            baseline_seeds: b.seeds.clone(),
            outcome: Outcome::Missing,
            worse: vec![format!("{} {} is in the baseline but not in the run", b.plan, b.implementation)],
            better: vec![],
            numbers: String::new(),
        });
    }
    Ok(Comparison { name: name.to_string(), dir, manifest, from: shown(from), thresholds: *th, pairs })
}

/// Compare one aggregate with its baseline.
pub fn pair(b: &Aggregate, r: &Aggregate, th: &Thresholds) -> Pair {
    let mut worse = Vec::new();
    let mut better = Vec::new();
    let seed_of = |s: u64, set: &BTreeSet<u64>| if set.len() > 1 { format!(" (worst seed {s})") } else { String::new() };

    let time = |what: &str, old: u64, new: u64, new_seed: u64| -> Option<(bool, String)> {
        let allowed = th.allowed_ms(old);
        if new > old + allowed {
            Some((true, format!("{what} {old} ms -> {new} ms (+{} ms > allowed +{allowed} ms){}", new - old, seed_of(new_seed, &r.seeds))))
        } else if new + allowed < old {
            Some((false, format!("{what} {old} ms -> {new} ms (-{} ms)", old - new)))
        } else {
            None
        }
    };
    let mut times = vec![
        time("total empty time", b.total_empty_ms.0, r.total_empty_ms.0, r.total_empty_ms.1),
        time("longest empty window", b.longest_empty_ms.0, r.longest_empty_ms.0, r.longest_empty_ms.1),
    ];
    match (b.time_to_recovery_ms.0, r.time_to_recovery_ms.0) {
        (Some(old), Some(new)) => times.push(time("time to recovery", old, new, r.time_to_recovery_ms.1)),
        (Some(old), None) => times.push(Some((true, format!("time to recovery {old} ms -> never{}", seed_of(r.time_to_recovery_ms.1, &r.seeds))))),
        (None, Some(new)) => times.push(Some((false, format!("time to recovery never -> {new} ms")))),
        (None, None) => {}
    }
    if let (Some((old, _)), Some((new, s))) = (b.time_to_recovery_after_fault_ms, r.time_to_recovery_after_fault_ms) {
        times.push(time("time to recovery after fault", old, new, s));
    }
    for (is_worse, text) in times.into_iter().flatten() {
        if is_worse {
            worse.push(text);
        } else {
            better.push(text);
        }
    }
    let (old_av, new_av) = (b.availability_pct.0, r.availability_pct.0);
    if new_av + th.availability_points < old_av {
        worse.push(format!(
            "availability {} -> {} (-{:.2} points > allowed -{:.2}){}",
            pct(old_av),
            pct(new_av),
            old_av - new_av,
            th.availability_points,
            seed_of(r.availability_pct.1, &r.seeds)
        ));
    } else if new_av > old_av + th.availability_points {
        better.push(format!("availability {} -> {} (+{:.2} points)", pct(old_av), pct(new_av), new_av - old_av));
    }
    for (inv, old) in &b.invariants {
        match (old, r.invariants.get(inv)) {
            (None, Some(Some((seed, v)))) => worse.push(format!("invariant {inv} held -> violated in seed {seed}: {v}")),
            (Some(_), Some(None)) => better.push(format!("invariant {inv} violated -> held")),
            _ => {}
        }
    }
    for (id, fired) in &b.faults {
        if *fired && r.faults.get(id) == Some(&false) {
            worse.push(format!("fault {id} fired -> did not fire"));
        }
    }
    if b.passed && !r.passed {
        worse.push(format!("verdict pass -> FAIL ({} failure(s), first: {})", r.failures.len(), r.failures.first().map(String::as_str).unwrap_or("?")));
    } else if !b.passed && r.passed {
        better.push("verdict FAIL -> pass".into());
    }
    let outcome = if !worse.is_empty() {
        Outcome::Regressed
    } else if !better.is_empty() {
        Outcome::Improved
    } else {
        Outcome::WithinNoise
    };
    let numbers = format!(
        "empty {} -> {}, longest {} -> {}, recovery {} -> {}, availability {} -> {}",
        ms(b.total_empty_ms.0),
        ms(r.total_empty_ms.0),
        ms(b.longest_empty_ms.0),
        ms(r.longest_empty_ms.0),
        recovery(b.time_to_recovery_ms.0),
        recovery(r.time_to_recovery_ms.0),
        pct(old_av),
        pct(new_av)
    );
    Pair {
        plan: r.plan.clone(),
        implementation: r.implementation.clone(),
        baseline_implementation: (b.implementation != r.implementation).then(|| b.implementation.clone()),
        seeds: r.seeds.clone(),
        baseline_seeds: b.seeds.clone(),
        outcome,
        worse,
        better,
        numbers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_property_fails_the_night_over_its_seeds_not_one_run() {
        let text = std::fs::read_to_string(repo_root().join("fixtures/summaries/october-2025-legacy-fenced.json")).unwrap();
        let base: Summary = serde_json::from_str(&text).unwrap();
        // Seeds whose fenced row held a rate property (floor 80%) or missed it.
        let night = |held: &[bool]| -> Vec<Summary> {
            held.iter()
                .enumerate()
                .map(|(i, &h)| {
                    let mut s = base.clone();
                    s.seed = i as u64 + 1;
                    for e in &mut s.enactors {
                        let x = e.expectation.get_or_insert(ExpectResult { met: true, properties: vec![] });
                        x.properties.push(crate::summary::PropertyResult {
                            property: "takeovers >= 1".into(),
                            held: h,
                            measured: if h { "1".into() } else { "0".into() },
                            rate_floor_pct: Some(80),
                        });
                    }
                    s
                })
                .collect()
        };
        let one = night(&[false]);
        let j = judge_summaries(one.iter());
        assert_eq!(j.rates_below, 0, "one run decides no rate: {j}");
        let three = night(&[false, false, false]);
        let j = judge_summaries(three.iter());
        assert_eq!(j.rates_below, base.enactors.len(), "{j}");
        assert!(j.to_string().contains("REGRESSION") && j.to_string().contains("held 0/3"), "{j}");
        let mostly = night(&[true, false, true, true, true]);
        assert_eq!(judge_summaries(mostly.iter()).rates_below, 0);
    }

    #[test]
    fn allowed_noise_is_the_larger_of_absolute_and_relative() {
        let th = Thresholds::default();
        for (old, allowed) in [(0, 500), (1_000, 500), (2_500, 500), (10_000, 2_000), (75_748, 15_150)] {
            assert_eq!(th.allowed_ms(old), allowed, "old {old}");
        }
    }

    #[test]
    fn names_are_plain() {
        for ok in ["nightly", "fenced-2025.10", "a_b"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "../x", "a/b", ".hidden", "a b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
