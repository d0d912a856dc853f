//! `dnschaos run` and `dnschaos sweep`: a chaos plan against every chosen enactor
//! implementation, one after another, on one backend. Orchestration only: the fault timeline is
//! `fault::timeline`, the verdict `analysis::verdict`, the summary's types `summary`.
//!
//! [`Runner`] owns what a run needs besides the plan: the backend, the harness's client, the
//! conformance check (done once per backend and gateway mode, embedded in every summary), and
//! the gateway. [`RunRequest`] says what to run and builds its replay command.

mod implementation;
mod sampler;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::backend::Backend;
use crate::clock::Clock;
use crate::conformance::{self, Report as ConformanceReport};
use crate::error::{Error, Result};
use crate::fault::gateway::{Gateway, GatewayConfig};
use crate::model::EnactorKind;
use crate::route53::Route53;
use crate::scenario::{ChaosPlan, LoadedPlan};
use crate::summary::{BackendReport, PlanInfo, Summary, SCHEMA_VERSION};

/// What to run. Built with [`RunRequest::new`] and the setters.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// The plan as it runs: drawn from the file's nemesis for this seed, if it has one, and scaled.
    pub plan: LoadedPlan,
    /// The plan as loaded.
    template: ChaosPlan,
    pub implementations: Vec<EnactorKind>,
    /// The schedule seed.
    pub seed: u64,
    /// The jitter seed (`None`: the schedule seed).
    pub jitter_seed: Option<u64>,
    /// The run's folder (event and probe logs; the caller writes the summary and reports there).
    pub out: PathBuf,
    /// The `dnschaos` binary, for subprocess enactors.
    pub bin: PathBuf,
    /// Embed the backend's conformance check (raw and through the gateway) in the summary.
    pub conformance: bool,
    /// How many implementations run at once, each in a world of its own on the one backend
    /// (default 1).
    pub parallel: usize,
    /// Every time of the plan and of the enactors multiplied by this (default 1).
    pub time_scale: f64,
    /// Plant the `fenced` bug (see `Tuning::sabotage_fenced`); library only, for tests.
    pub sabotage_fenced: bool,
}

impl RunRequest {
    /// The plan's own seed and implementations, this binary, no conformance check.
    pub fn new(plan: LoadedPlan, out: impl Into<PathBuf>) -> Self {
        let template = plan.plan.clone();
        let mut plan = plan;
        plan.plan = template.draw(template.seed);
        RunRequest {
            template,
            seed: plan.plan.seed,
            jitter_seed: None,
            implementations: plan.plan.enactors.implementations.clone(),
            plan,
            out: out.into(),
            bin: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("dnschaos")),
            conformance: false,
            parallel: 1,
            time_scale: 1.0,
            sabotage_fenced: cfg!(feature = "sabotage-fenced"),
        }
    }

    /// Scale the plan's times and the enactors' by `f` (see `ChaosPlan::scaled`).
    pub fn time_scale(mut self, f: f64) -> Self {
        self.time_scale = f;
        self.refresh()
    }

    /// The plan for the current seed and time scale.
    fn refresh(mut self) -> Self {
        let drawn = self.template.draw(self.seed);
        self.plan.plan = if (self.time_scale - 1.0).abs() > f64::EPSILON { drawn.scaled(self.time_scale) } else { drawn };
        self
    }

    /// Does the plan draw its faults per seed (a nemesis)?
    pub fn is_drawn(&self) -> bool {
        self.template.nemesis.is_some()
    }

    /// Plant the `fenced` bug (tests of the suite and of `explore` only).
    pub fn sabotage_fenced(mut self, on: bool) -> Self {
        self.sabotage_fenced = on;
        self
    }

    /// Run up to `k` implementations at once.
    pub fn parallel(mut self, k: usize) -> Self {
        self.parallel = k.max(1);
        self
    }

    /// The schedule seed; a plan with a nemesis draws its faults from it.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self.refresh()
    }

    /// Vary the timing (enactor jitter, weighted picks, simulated latency) under one schedule.
    pub fn jitter_seed(mut self, jitter: Option<u64>) -> Self {
        self.jitter_seed = jitter;
        self
    }

    /// The run's seed tree.
    pub fn seeds(&self) -> crate::seeds::SeedTree {
        crate::seeds::SeedTree::with_jitter(self.seed, self.jitter_seed.unwrap_or(self.seed))
    }

    /// Run these implementations (the plan's list when empty).
    pub fn implementations(mut self, kinds: &[EnactorKind]) -> Self {
        if !kinds.is_empty() {
            self.implementations = kinds.to_vec();
        }
        self
    }

    pub fn bin(mut self, bin: impl Into<PathBuf>) -> Self {
        self.bin = bin.into();
        self
    }

    pub fn conformance(mut self, on: bool) -> Self {
        self.conformance = on;
        self
    }

    /// The command that replays this run: the plan by its path relative to the repository when
    /// it lies inside it, the implementations and the seed.
    pub fn replay(&self) -> String {
        let shown = crate::paths::shown(&self.plan.path);
        let impls: Vec<&str> = self.implementations.iter().map(|k| k.as_str()).collect();
        let jitter = match self.jitter_seed {
            Some(j) if j != self.seed => format!(" --jitter-seed {j}"),
            _ => String::new(),
        };
        let scale = if (self.time_scale - 1.0).abs() > f64::EPSILON { format!(" --time-scale {}", self.time_scale) } else { String::new() };
        // An outside enactor the plan does not declare itself is named with its command.
        let cmds: String = self
            .implementations
            .iter()
            .filter_map(|k| k.outside_spec())
            .filter(|o| !self.plan.plan.enactors.implementations.iter().any(|p| p.outside_spec() == Some(*o)))
            .map(|o| format!(" --enactor-cmd '{}{}={}'", o.name, if o.checkpoints { "+checkpoints" } else { "" }, o.command.join(" ")))
            .collect();
        format!("dnschaos run {shown} --enactor {}{cmds} --seed {}{jitter}{scale}", impls.join(","), self.seed)
    }
}

/// Where a run reports its progress (a progress bar, log lines, or nothing).
pub trait Observer: Sync {
    fn phase(&self, line: &str);
    /// Probes sent so far in this run (all implementations).
    fn probes(&self, _total: u64) {}
    fn verdict(&self, line: &str) {
        self.phase(line);
    }
}

impl<F: Fn(&str) + Sync> Observer for F {
    fn phase(&self, line: &str) {
        self(line)
    }
}

/// Runs plans on one backend.
pub struct Runner {
    backend: Arc<dyn Backend>,
    r53: Route53,
    /// Conformance per gateway mode (strict or not), checked on first need.
    conformance: tokio::sync::Mutex<BTreeMap<bool, (ConformanceReport, Option<ConformanceReport>)>>,
}

impl Runner {
    pub fn new(backend: Arc<dyn Backend>, r53: Route53) -> Self {
        Runner { backend, r53, conformance: Default::default() }
    }

    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// Run every implementation of `req` and return the summary (written by the caller).
    pub async fn run(&self, req: &RunRequest, observer: &dyn Observer) -> Result<Summary> {
        std::fs::create_dir_all(&req.out).map_err(|e| Error::io(&req.out, e))?;
        let simulated = self.backend.sim_store().is_some();
        // A simulated run lives on a fixed clock (a paused tokio runtime drives it) with seeded ids.
        let clock = if simulated { Clock::fixed(SIM_EPOCH_MS, req.seeds().ids()) } else { Clock::wall() };
        let started_at = clock.epoch_ms();
        let (conformance, conformance_through_gateway) = if req.conformance {
            let gateway = start_gateway(self.backend.as_ref(), &req.plan.plan, req.seeds(), &clock).await?;
            let (raw, via) = self.check_conformance(&req.plan.plan, gateway.as_ref()).await?;
            if let Some(g) = gateway {
                g.shutdown().await;
            }
            (Some(raw), via)
        } else {
            (None, None)
        };
        // Each implementation has a gateway of its own (its counters and latencies are its own),
        // and up to `parallel` of them run at once on the one backend.
        let probes_total = std::sync::atomic::AtomicU64::new(0);
        let one = |kind: EnactorKind| {
            let (clock, probes_total) = (clock.clone(), &probes_total);
            async move {
                observer.phase(&format!("{}: starting", kind.as_str()));
                let gateway = start_gateway(self.backend.as_ref(), &req.plan.plan, req.seeds(), &clock).await?;
                let ctx = implementation::Ctx { backend: self.backend.as_ref(), gateway: gateway.as_ref(), r53: &self.r53, req, clock, probes_done: probes_total };
                let s = implementation::run(&ctx, kind, observer).await;
                if let Some(g) = gateway {
                    g.shutdown().await;
                }
                let s = s?;
                let total = probes_total.fetch_add(s.probe_counts.values().sum::<u64>(), std::sync::atomic::Ordering::Relaxed);
                observer.probes(total + s.probe_counts.values().sum::<u64>());
                observer.verdict(&format!(
                    "{}: {} (empty {} ms, recovery {})",
                    kind.as_str(),
                    if s.verdict.passed { "SLOs held" } else { "VIOLATED" },
                    s.total_empty_ms,
                    s.time_to_recovery_ms.map(|t| format!("{t} ms")).unwrap_or_else(|| "never".into())
                ));
                Ok::<_, Error>(s)
            }
        };
        let runs: Vec<BoxedRun<'_, crate::summary::ImplementationSummary>> = req.implementations.iter().map(|k| Box::pin(one(*k)) as BoxedRun<'_, _>).collect();
        let enactors = at_most(runs, req.parallel).await?;
        let plan = &req.plan.plan;
        Ok(Summary {
            schema_version: SCHEMA_VERSION,
            simulated,
            seed: req.seed,
            jitter_seed: req.jitter_seed.filter(|j| *j != req.seed),
            plan: PlanInfo {
                name: plan.name.clone(),
                path: req.plan.path.display().to_string(),
                description: plan.description.clone(),
                duration_ms: plan.duration.ms(),
                spec: plan.clone(),
            },
            replay: req.replay(),
            backend: BackendReport { info: self.backend.info().clone(), conformance, conformance_through_gateway },
            started_at_epoch_ms: started_at,
            passed: enactors.iter().all(|e| e.verdict.passed),
            enactors,
        })
    }

    /// The backend's conformance, raw and through `gateway` (checked once per gateway mode).
    async fn check_conformance(&self, plan: &ChaosPlan, gateway: Option<&Gateway>) -> Result<(ConformanceReport, Option<ConformanceReport>)> {
        let mut cache = self.conformance.lock().await;
        if let Some(hit) = cache.get(&plan.gateway.strict) {
            return Ok(hit.clone());
        }
        let raw = conformance::run(&self.r53, self.backend.info(), false).await?;
        let via = match gateway {
            Some(gw) => {
                let (r53, info) = gw.client(&self.r53, self.backend.info(), "conformance").await?;
                Some(conformance::run(&r53, &info, true).await?)
            }
            None => None,
        };
        cache.insert(plan.gateway.strict, (raw.clone(), via.clone()));
        Ok((raw, via))
    }
}

/// Where a simulated run's wall clock starts: 2026-01-01T00:00:00Z.
pub const SIM_EPOCH_MS: u64 = 1_767_225_600_000;

/// Start the gateway in front of `backend` as the plan asks: over HTTP, in process for the
/// simulated backend, none for real AWS.
pub async fn start_gateway(backend: &dyn Backend, plan: &ChaosPlan, seeds: crate::seeds::SeedTree, clock: &Clock) -> Result<Option<Gateway>> {
    let info = backend.info();
    if info.real_aws {
        return Ok(None);
    }
    let mut config = GatewayConfig::new(info.endpoint_url.clone().unwrap_or_default());
    config.strict = plan.gateway.strict;
    config.propagation_delay = plan.gateway.propagation_delay.0;
    config.seed = seeds.run;
    config.clock = clock.clone();
    if let Some(store) = backend.sim_store() {
        let sim = crate::fault::gateway::sim::InProcess::new(store, crate::fault::gateway::sim::LatencyModel::LOCALSTACK, seeds.sim_latency());
        return Ok(Some(Gateway::in_process(config, sim)?));
    }
    if info.endpoint_url.is_none() {
        return Err(Error::setup("the backend has no endpoint url for the gateway"));
    }
    Ok(Some(Gateway::start(config).await?))
}

/// Run `req` on a fresh simulated backend, on virtual time: a current-thread tokio runtime with
/// its clock paused (on the caller's thread when it runs no runtime, else on a thread of its own),
/// so that nothing waits on the wall clock. The same request and seeds give the same logs and summary.
pub fn run_simulated(req: &RunRequest, observer: &(dyn Observer + Sync)) -> Result<Summary> {
    let simulate = || {
        // tokio's own random choices (unbiased selects, watch wake-ups) come from the seed too.
        let rng = tokio::runtime::RngSeed::from_bytes(&req.seeds().ids().to_le_bytes());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .rng_seed(rng)
            .build()
            .map_err(|e| Error::setup(format!("cannot build the simulation's runtime: {e}")))?;
        rt.block_on(async {
            let backend: Arc<dyn Backend> = Arc::new(crate::backend::sim::SimBackend::start());
            let clock = Clock::fixed(SIM_EPOCH_MS, req.seeds().ids());
            let r53 = crate::backend::client(backend.as_ref(), &clock).await?;
            Runner::new(backend, r53).run(req, observer).await
        })
    };
    let panicked = |_| Err(Error::setup("the simulation panicked"));
    if tokio::runtime::Handle::try_current().is_err() {
        // On the caller's thread when it runs no runtime (the explorer's and the bench's workers):
        // the thread's allocator heap stays warm from one run to the next.
        return std::panic::catch_unwind(std::panic::AssertUnwindSafe(simulate)).unwrap_or_else(panicked);
    }
    // Inside a runtime, on a thread of its own (a runtime cannot block on another).
    std::thread::scope(|scope| scope.spawn(simulate).join().unwrap_or_else(panicked))
}

/// A boxed future of a run (boxing names its lifetime, so that a `Send` future can hold many).
pub type BoxedRun<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send + 'a>>;

/// Await `runs`, at most `k` at a time, keeping their order; the first error wins.
pub async fn at_most<T>(runs: Vec<BoxedRun<'_, T>>, k: usize) -> Result<Vec<T>> {
    use futures_util::StreamExt;
    futures_util::stream::iter(runs).buffered(k.max(1)).collect::<Vec<Result<T>>>().await.into_iter().collect()
}
