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
use crate::route53::{BackendInfo, Route53};
use crate::scenario::{ChaosPlan, LoadedPlan};
use crate::summary::{BackendReport, PlanInfo, Summary, SCHEMA_VERSION};

/// What to run. Built with [`RunRequest::new`] and the setters.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub plan: LoadedPlan,
    pub implementations: Vec<EnactorKind>,
    pub seed: u64,
    /// The run's folder (event and probe logs; the caller writes the summary and reports there).
    pub out: PathBuf,
    /// The `dnschaos` binary, for subprocess enactors.
    pub bin: PathBuf,
    /// Embed the backend's conformance check (raw and through the gateway) in the summary.
    pub conformance: bool,
}

impl RunRequest {
    /// The plan's own seed and implementations, this binary, no conformance check.
    pub fn new(plan: LoadedPlan, out: impl Into<PathBuf>) -> Self {
        RunRequest {
            seed: plan.plan.seed,
            implementations: plan.plan.enactors.implementations.clone(),
            plan,
            out: out.into(),
            bin: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("dnschaos")),
            conformance: false,
        }
    }

    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
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
        let path = &self.plan.path;
        let root = crate::paths::repo_root();
        let shown = path.strip_prefix(&root).unwrap_or(path);
        let impls: Vec<&str> = self.implementations.iter().map(|k| k.as_str()).collect();
        format!("dnschaos run {} --enactor {} --seed {}", shown.display(), impls.join(","), self.seed)
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
        let clock = Clock::wall();
        let started_at = clock.epoch_ms();
        let gateway = start_gateway(self.backend.info(), &req.plan.plan, req.seed, &clock).await?;
        let (conformance, conformance_through_gateway) = if req.conformance {
            let (raw, via) = self.check_conformance(&req.plan.plan, gateway.as_ref()).await?;
            (Some(raw), via)
        } else {
            (None, None)
        };
        let mut enactors = Vec::new();
        let mut probes_total = 0u64;
        for kind in &req.implementations {
            observer.phase(&format!("{}: starting", kind.as_str()));
            let ctx = implementation::Ctx { backend: self.backend.as_ref(), gateway: gateway.as_ref(), r53: &self.r53, req, clock: clock.clone() };
            let s = implementation::run(&ctx, *kind, observer).await?;
            probes_total += s.probe_counts.values().sum::<u64>();
            observer.probes(probes_total);
            observer.verdict(&format!(
                "{}: {} (empty {} ms, recovery {})",
                kind.as_str(),
                if s.verdict.passed { "SLOs held" } else { "VIOLATED" },
                s.total_empty_ms,
                s.time_to_recovery_ms.map(|t| format!("{t} ms")).unwrap_or_else(|| "never".into())
            ));
            enactors.push(s);
        }
        if let Some(g) = gateway {
            g.shutdown().await;
        }
        let plan = &req.plan.plan;
        Ok(Summary {
            schema_version: SCHEMA_VERSION,
            seed: req.seed,
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

/// Start the gateway in front of `backend` as the plan asks (not for real AWS).
pub async fn start_gateway(backend: &BackendInfo, plan: &ChaosPlan, seed: u64, clock: &Clock) -> Result<Option<Gateway>> {
    if backend.real_aws {
        return Ok(None);
    }
    let upstream = backend.endpoint_url.clone().ok_or_else(|| Error::setup("the backend has no endpoint url for the gateway"))?;
    let mut config = GatewayConfig::new(upstream);
    config.strict = plan.gateway.strict;
    config.propagation_delay = plan.gateway.propagation_delay.0;
    config.seed = seed;
    config.clock = clock.clone();
    Ok(Some(Gateway::start(config).await?))
}
