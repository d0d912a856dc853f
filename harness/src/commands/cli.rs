//! Command-line interface (clap). Every flag CI may set has an env var.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use crate::backend::{BackendConfig, BackendKind, DEFAULT_IMAGE};

#[derive(Debug, Parser)]
#[command(name = "dnschaos", version, about = "Chaos and fault-injection harness for Route 53 DNS enactors")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check which Route 53 guarantees a backend keeps, and print a table.
    Conformance(ConformanceArgs),
    /// Manage backends: build the local LocalStack image, install the venv, start one.
    #[command(subcommand)]
    Backend(BackendCommand),
    /// Check chaos plans and report every problem as file:line:column.
    Validate {
        /// Plan files.
        #[arg(required = true)]
        plans: Vec<PathBuf>,
        /// Also check that the plans can run on this backend (`sim` refuses what needs a process).
        #[arg(long, value_enum)]
        backend: Option<crate::backend::BackendKind>,
    },
    /// Run a chaos plan against enactor implementations and write summary.json.
    Run(RunArgs),
    /// Run a plan for many seeds on one backend and count outcomes (e.g. how often legacy
    /// reproduces October 2025).
    Sweep(SweepArgs),
    /// Run many schedules drawn from a plan's `nemesis:`, rate each implementation's failures,
    /// and shrink each distinct finding to a smallest replayable plan (exit 1 on a finding).
    Explore(ExploreArgs),
    /// Join the explore.json of several shards (or explorations of one plan) into one.
    ExploreMerge(ExploreMergeArgs),
    /// Measure how many schedules a minute the harness runs: on `sim`, and on the container
    /// backend with 1 and with K worlds at once (with the API's p99 latency, which shows overload).
    Bench(BenchArgs),
    /// Run one enactor as a child process (started by `dnschaos run`): plans on stdin,
    /// events on stdout as JSON lines.
    Enactor(EnactorArgs),
    /// Render report.html and junit.xml from a run's summary.json (default: next to it).
    Report(crate::report::ReportArgs),
    /// Save a run as a named baseline, or compare a run with one (exit 1 on regression).
    #[command(subcommand)]
    Baseline(crate::report::baseline::BaselineCommand),
    /// Write DIR/index.html linking every run report under DIR (the nightly's index).
    ReportIndex(crate::report::index::IndexArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The chaos plan (YAML).
    pub plan: PathBuf,
    /// Implementations to run, comma-separated (default: the plan's list).
    #[arg(long = "enactor", value_parser = parse_enactor, value_delimiter = ',', env = "DNSCHAOS_ENACTORS")]
    pub enactors: Vec<crate::enactor::EnactorKind>,
    /// Run your own enactor: NAME=COMMAND (repeatable; the command split on spaces), named in
    /// --enactor or the plan (see docs/enactor-protocol.md).
    #[arg(long = "enactor-cmd", value_parser = parse_enactor_cmd)]
    pub enactor_cmds: Vec<crate::model::OutsideEnactor>,
    /// Seed (default: the plan's): the plan stream, the faults' draws.
    #[arg(long, env = "DNSCHAOS_SEED")]
    pub seed: Option<u64>,
    /// Jitter seed (default: the seed): the enactors' timing jitter, the data plane's weighted
    /// picks, the simulated backend's latency. Vary it to rerun one schedule under other timing.
    #[arg(long, env = "DNSCHAOS_JITTER_SEED")]
    pub jitter_seed: Option<u64>,
    /// Skip the conformance check of the backend (it is embedded in the summary otherwise).
    #[arg(long)]
    pub no_conformance: bool,
    /// Implementations at once, each in a world of its own on the one backend.
    #[arg(long, default_value_t = DEFAULT_WORLDS, env = "DNSCHAOS_PARALLEL")]
    pub parallel: usize,
    /// Multiply every time of the plan and of the enactors by this (0 < F <= 1 runs faster;
    /// the backend's own latency does not scale, so check that verdicts survive it).
    #[arg(long, default_value_t = 1.0, value_parser = time_scale)]
    pub time_scale: f64,
    #[command(flatten)]
    pub backend: BackendArgs,
}

/// Worlds at once on one LocalStack unless `--parallel` says otherwise: the largest K whose
/// ChangeResourceRecordSets p99 stays within 1.5x of K=1's. Measured 2026-12-05 (`dnschaos bench
/// --plans chaos-plans/steady-state.yaml --container-schedules 8 --k 2,4 --backend container`,
/// debug build): p99 K=1 671 ms, K=2 860 ms (1.28x), K=4 1,269 ms (1.89x, and one verdict of 8
/// differed from K=1's), K=8 2.54x (earlier run). The chaos suite's bounds were measured at 2.
pub const DEFAULT_WORLDS: usize = 2;

fn time_scale(s: &str) -> Result<f64, String> {
    let f: f64 = s.parse().map_err(|_| format!("{s:?} is not a number (hint: e.g. 0.5)"))?;
    if f > 0.0 && f <= 4.0 {
        Ok(f)
    } else {
        Err(format!("{f} is out of range (hint: 0 < F <= 4)"))
    }
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The chaos plan (YAML).
    pub plan: PathBuf,
    /// Implementations, comma-separated (default: the plan's list).
    #[arg(long = "enactor", value_parser = parse_enactor, value_delimiter = ',')]
    pub enactors: Vec<crate::enactor::EnactorKind>,
    /// Run your own enactor: NAME=COMMAND (repeatable), as for `run`.
    #[arg(long = "enactor-cmd", value_parser = parse_enactor_cmd)]
    pub enactor_cmds: Vec<crate::model::OutsideEnactor>,
    /// Seeds: a range `1-20` or a list `1,5,9`.
    #[arg(long, default_value = "1-20", env = "DNSCHAOS_SEEDS")]
    pub seeds: String,
    /// Runs at once: on a real backend, worlds sharing it; on `sim`, threads.
    #[arg(long, default_value_t = DEFAULT_WORLDS, env = "DNSCHAOS_PARALLEL")]
    pub parallel: usize,
    #[command(flatten)]
    pub backend: BackendArgs,
}

#[derive(Debug, Args)]
pub struct ExploreArgs {
    /// The chaos plan; its `nemesis:` section says what to draw.
    pub plan: PathBuf,
    /// Implementations, comma-separated (default: the plan's list).
    #[arg(long = "enactor", value_parser = parse_enactor, value_delimiter = ',', env = "DNSCHAOS_ENACTORS")]
    pub enactors: Vec<crate::enactor::EnactorKind>,
    /// Run your own enactor: NAME=COMMAND (repeatable; the command split on spaces), named in
    /// --enactor or the plan (see docs/enactor-protocol.md).
    #[arg(long = "enactor-cmd", value_parser = parse_enactor_cmd)]
    pub enactor_cmds: Vec<crate::model::OutsideEnactor>,
    /// How many schedules (default 200 when no --budget).
    #[arg(long, conflicts_with = "budget")]
    pub schedules: Option<u64>,
    /// Search for this long (e.g. 10m), then shrink.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub budget: Option<Duration>,
    /// Schedule i runs with seed SEED + i (default: the plan's seed).
    #[arg(long, env = "DNSCHAOS_SEED")]
    pub seed: Option<u64>,
    /// Runs at once: threads on `sim` (default: the machine's cores), worlds on a real backend
    /// (default [`DEFAULT_WORLDS`]).
    #[arg(long, env = "DNSCHAOS_PARALLEL")]
    pub parallel: Option<usize>,
    /// This shard of the schedule space, as I/N (0 <= I < N): schedules with i % N == I.
    #[arg(long, value_parser = shard, env = "DNSCHAOS_SHARD")]
    pub shard: Option<(u64, u64)>,
    /// Runs per shrinking candidate; it shows the finding in at least two thirds of them.
    #[arg(long, default_value_t = 3)]
    pub confirm: u64,
    /// Do not shrink the findings.
    #[arg(long)]
    pub no_shrink: bool,
    /// Where a simulated finding is re-run to count: auto (container when Docker answers, else
    /// process), container, process, or none.
    #[arg(long, default_value = "auto")]
    pub confirm_on: String,
    #[command(flatten)]
    pub backend: BackendArgs,
}

fn shard(s: &str) -> Result<(u64, u64), String> {
    let bad = || format!("{s:?} is not a shard (hint: I/N with 0 <= I < N, e.g. 0/4)");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (u64, u64) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

#[derive(Debug, Args)]
pub struct ExploreMergeArgs {
    /// Folders (or explore.json files) written by `dnschaos explore --shard`.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where the merged explore.json and explore.html go.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Plans to time (default: steady-state and the October 2025 plan).
    #[arg(long, value_delimiter = ',', default_value = "chaos-plans/steady-state.yaml,chaos-plans/october-2025-replay.yaml")]
    pub plans: Vec<PathBuf>,
    /// Simulated schedules per plan (each one plan x seed x implementation).
    #[arg(long, default_value_t = 200)]
    pub sim_schedules: u64,
    /// Threads for the simulated runs (default: the machine's cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also time the container backend: schedules per K (0 skips it).
    #[arg(long, default_value_t = 0)]
    pub container_schedules: u64,
    /// Worlds at once on the container backend, each compared with 1: `--k 2,4,8`.
    #[arg(long, value_delimiter = ',', default_value = "8")]
    pub k: Vec<usize>,
    #[command(flatten)]
    pub backend: BackendArgs,
}

/// Parse `1-20` or `1,5,9`.
pub fn parse_seeds(s: &str) -> Option<Vec<u64>> {
    if let Some((a, b)) = s.split_once('-') {
        let (a, b): (u64, u64) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        return (a <= b && b - a < 10_000).then(|| (a..=b).collect());
    }
    s.split(',').map(|x| x.trim().parse().ok()).collect()
}

#[derive(Debug, Args)]
pub struct EnactorArgs {
    /// The built-in implementation; everything else comes from the protocol's environment
    /// (docs/enactor-protocol.md).
    #[arg(long = "impl", value_parser = parse_builtin)]
    pub implementation: crate::enactor::EnactorKind,
}

/// An implementation's name: a built-in, or an outside enactor named by --enactor-cmd or the
/// plan (checked once the plan is read).
fn parse_enactor(s: &str) -> Result<crate::enactor::EnactorKind, String> {
    if let Some(problem) = crate::model::outside_name_problem(s).filter(|_| crate::enactor::EnactorKind::parse(s).is_none()) {
        return Err(problem);
    }
    Ok(crate::enactor::EnactorKind::by_name(s))
}

fn parse_builtin(s: &str) -> Result<crate::enactor::EnactorKind, String> {
    crate::enactor::EnactorKind::ALL
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| format!("{s:?} is not a built-in implementation (hint: legacy, single, revalidating, converging, fenced)"))
}

fn parse_enactor_cmd(s: &str) -> Result<crate::model::OutsideEnactor, String> {
    crate::enactor::EnactorKind::parse_command_flag(s)
}

/// Register `--enactor-cmd` specs, then resolve `--enactor` names against them.
pub fn resolve_enactors(kinds: &[crate::enactor::EnactorKind], cmds: &[crate::model::OutsideEnactor]) -> Vec<crate::enactor::EnactorKind> {
    for c in cmds {
        crate::enactor::EnactorKind::outside(c.clone());
    }
    kinds.iter().map(|k| crate::enactor::EnactorKind::by_name(k.as_str())).collect()
}

#[derive(Debug, Args)]
pub struct ConformanceArgs {
    #[command(flatten)]
    pub backend: BackendArgs,
    /// Also write the result as JSON here.
    #[arg(long, env = "DNSCHAOS_CONFORMANCE_JSON")]
    pub json: Option<PathBuf>,
    /// Exit 1 when any check does not conform (default: report only).
    #[arg(long)]
    pub require_conforming: bool,
}

#[derive(Debug, Subcommand)]
pub enum BackendCommand {
    /// Build the pinned LocalStack image locally from Debian packages and PyPI wheels
    /// (for Docker hosts without a registry). Skips when the image exists.
    BuildImage {
        /// Image tag to build.
        #[arg(long, env = "DNSCHAOS_IMAGE", default_value = DEFAULT_IMAGE)]
        tag: String,
        /// Rebuild even when the image exists.
        #[arg(long)]
        force: bool,
    },
    /// Install LocalStack into the project-local venv from the pinned lock file.
    InstallVenv {
        /// Where the venv goes (default: .dnschaos/localstack-venv in the repository).
        #[arg(long, env = "DNSCHAOS_VENV")]
        venv: Option<PathBuf>,
    },
    /// Start a backend, print its Route 53 URL, and keep it until Ctrl-C.
    Up {
        #[command(flatten)]
        backend: BackendArgs,
    },
}

/// Which backend to run against. Shared by every command that needs one.
#[derive(Debug, Clone, Args)]
pub struct BackendArgs {
    /// auto: container when Docker answers, else process.
    #[arg(long, value_enum, env = "DNSCHAOS_BACKEND", default_value = "auto")]
    pub backend: BackendKind,
    /// Image for the container backend (pinned; `latest` is refused).
    #[arg(long, env = "DNSCHAOS_IMAGE", default_value = DEFAULT_IMAGE)]
    pub image: String,
    /// Venv for the process backend (default: .dnschaos/localstack-venv in the repository).
    #[arg(long, env = "DNSCHAOS_VENV")]
    pub venv: Option<PathBuf>,
    /// Port on 127.0.0.1 for the process backend (default: a free one).
    #[arg(long, env = "DNSCHAOS_PORT")]
    pub port: Option<u16>,
    /// Route 53 API URL for the endpoint backend (default: real AWS, which needs --allow-real-aws).
    #[arg(long, env = "DNSCHAOS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// Allow the endpoint backend to be real AWS. Only zones the harness creates are touched.
    #[arg(long, env = "DNSCHAOS_ALLOW_REAL_AWS")]
    pub allow_real_aws: bool,
    /// How long the backend may take to become ready.
    #[arg(long, env = "DNSCHAOS_STARTUP_TIMEOUT", default_value = "120s", value_parser = humantime::parse_duration)]
    pub startup_timeout: Duration,
    /// Folder for this run's logs (default: reports/runs/<command>-<time>).
    #[arg(long, env = "DNSCHAOS_OUT")]
    pub out: Option<PathBuf>,
}

impl BackendArgs {
    pub fn config(&self, command: &str) -> BackendConfig {
        let run_dir = self.out.clone().unwrap_or_else(|| default_run_dir(command));
        let mut config = BackendConfig::new(self.backend, run_dir);
        config.image = self.image.clone();
        if let Some(v) = &self.venv {
            config.venv = v.clone();
        }
        config.port = self.port;
        config.endpoint_url = self.endpoint_url.clone();
        config.allow_real_aws = self.allow_real_aws;
        config.startup_timeout = self.startup_timeout;
        config
    }
}

/// `reports/runs/<command>-<unix seconds>-<pid>` under the repository.
pub fn default_run_dir(command: &str) -> PathBuf {
    let secs = crate::clock::Clock::wall().epoch_ms() / 1000;
    crate::paths::repo_root()
        .join("reports")
        .join("runs")
        .join(format!("{command}-{secs}-{}", std::process::id()))
}
