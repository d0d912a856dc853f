//! Exploration: run many schedules drawn from a plan's `nemesis:`, sort the failures by
//! signature (`analysis::signature`), give each implementation a failure rate with its 95%
//! Wilson interval (`analysis::explore`), and shrink each distinct finding to a smallest plan
//! that still shows it (`shrink`).
//!
//! Schedule `i` is the plan drawn with seed `base + i` (faults and planner stream); the shard
//! `I/N` takes the schedules with `i % N == I`, so shards never overlap and their union is the
//! unsharded exploration. Runs go through an [`Engine`]: the simulated backend on virtual time
//! (each run on a paused runtime of its own, `threads` at once) or a real backend shared by
//! `k` worlds. A simulated finding is labelled so until `shrink::confirm` reproduces it on the
//! real backend.

pub mod pin;
pub mod shrink;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;

use crate::analysis::explore::{Exploration, Finding, ImplRate, EXPLORE_SCHEMA_VERSION};
use crate::clock::Clock;
use crate::enactor::EnactorKind;
use crate::error::{Error, Result};
use crate::runner::{RunRequest, Runner};
use crate::scenario::LoadedPlan;
use crate::summary::Summary;

/// Where runs happen.
pub enum Engine<'a> {
    /// The simulated backend, `threads` runs at once.
    Sim { threads: usize },
    /// A real backend, `k` worlds at once on it.
    Real { runner: &'a Runner, k: usize },
}

impl Engine<'_> {
    pub fn simulated(&self) -> bool {
        matches!(self, Engine::Sim { .. })
    }

    /// Runs at once.
    pub fn width(&self) -> usize {
        match self {
            Engine::Sim { threads } => *threads,
            Engine::Real { k, .. } => *k,
        }
        .max(1)
    }

    pub fn backend_name(&self) -> String {
        match self {
            Engine::Sim { .. } => "sim".into(),
            Engine::Real { runner, .. } => runner.backend().info().kind.clone(),
        }
    }

    /// Run every request; results in the requests' order.
    pub async fn run_all(&self, reqs: Vec<RunRequest>) -> Vec<Result<Summary>> {
        match self {
            Engine::Sim { .. } => {
                let width = self.width();
                futures_util::stream::iter(reqs)
                    .map(|req| async move {
                        tokio::task::spawn_blocking(move || crate::runner::run_simulated(&req, &|_: &str| {}))
                            .await
                            .unwrap_or_else(|_| Err(Error::setup("a simulated run panicked")))
                    })
                    .buffered(width)
                    .collect()
                    .await
            }
            Engine::Real { runner, k } => {
                let quiet = |_: &str| {};
                let quiet = &quiet;
                // Boxed, as the sweep does: a `Send` future that holds many runs needs their lifetimes named.
                let runs: Vec<crate::runner::BoxedRun<'_, Summary>> =
                    reqs.iter().map(|req| Box::pin(runner.run(req, quiet)) as crate::runner::BoxedRun<'_, Summary>).collect();
                futures_util::stream::iter(runs).buffered((*k).max(1)).collect().await
            }
        }
    }
}

/// How many schedules to run.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    Schedules(u64),
    Budget(Duration),
}

/// One exploration's settings.
#[derive(Debug, Clone)]
pub struct Search {
    /// The plan with its nemesis.
    pub plan: LoadedPlan,
    pub implementations: Vec<EnactorKind>,
    pub base_seed: u64,
    pub limit: Limit,
    /// `(I, N)`: this shard of N.
    pub shard: Option<(u64, u64)>,
    pub out: PathBuf,
    /// Plant the fenced bug (tests of the explorer).
    pub sabotage_fenced: bool,
}

/// Failing runs whose directories are kept per implementation and signature.
pub const KEEP_PER_SIGNATURE: u64 = 3;
/// How often progress is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

impl Search {
    /// The request of schedule `seed` for one implementation.
    pub fn request(&self, seed: u64, kind: EnactorKind, dir: &Path) -> RunRequest {
        RunRequest::new(self.plan.clone(), dir).seed(seed).implementations(&[kind]).sabotage_fenced(self.sabotage_fenced)
    }

    /// The schedule seeds of this shard, in order, without end.
    fn seeds(&self) -> impl Iterator<Item = u64> + '_ {
        let (i, n) = self.shard.unwrap_or((0, 1));
        (0u64..).filter(move |s| s % n == i).map(move |s| self.base_seed + s)
    }

    /// Run schedules until the limit; every failure sorted by signature.
    pub async fn run(&self, engine: &Engine<'_>, say: &(dyn Fn(&str) + Sync)) -> Result<Exploration> {
        let runs_dir = self.out.join("runs");
        std::fs::create_dir_all(&runs_dir).map_err(|e| Error::io(&runs_dir, e))?;
        let clock = Clock::wall();
        let started = clock.now();
        let mut rates: BTreeMap<String, ImplRate> =
            self.implementations.iter().map(|k| (k.as_str().to_string(), ImplRate { implementation: k.as_str().into(), ..Default::default() })).collect();
        let mut findings: BTreeMap<(String, String), Finding> = BTreeMap::new();
        let mut seeds = self.seeds();
        let mut schedules = 0u64;
        let mut last_said = clock.now();
        let batch = (engine.width() * 2).max(self.implementations.len());
        loop {
            let room = match self.limit {
                Limit::Schedules(n) => n.saturating_sub(schedules),
                Limit::Budget(b) if clock.since(started) < b => u64::MAX,
                Limit::Budget(_) => 0,
            };
            if room == 0 {
                break;
            }
            let take = (batch / self.implementations.len()).max(1).min(room.min(usize::MAX as u64) as usize);
            let mut reqs = Vec::new();
            for seed in seeds.by_ref().take(take) {
                for kind in &self.implementations {
                    let dir = runs_dir.join(format!("{}-seed{seed}", kind.as_str()));
                    reqs.push(self.request(seed, *kind, &dir));
                }
            }
            schedules += take as u64;
            let dirs: Vec<PathBuf> = reqs.iter().map(|r| r.out.clone()).collect();
            for (summary, dir) in engine.run_all(reqs).await.into_iter().zip(dirs) {
                let summary = summary?;
                let Some(e) = summary.enactors.first() else { continue };
                let rate = rates.get_mut(&e.implementation).expect("one rate per implementation");
                let kept = match rate.add(e) {
                    None => false,
                    Some(sig) => {
                        let key = (e.implementation.clone(), sig.clone());
                        let n = findings.get(&key).map(|f| f.count).unwrap_or(0);
                        let keep = n < KEEP_PER_SIGNATURE;
                        let shown = keep.then(|| dir.strip_prefix(&self.out).unwrap_or(&dir).display().to_string());
                        match findings.get_mut(&key) {
                            Some(f) => f.again(summary.seed),
                            None => {
                                let f = Finding::first(summary.seed, e, &sig, summary.plan.spec.faults.clone(), shown);
                                say(&format!("explore: {} schedule {} fails: {}", e.implementation, summary.seed, f.description));
                                findings.insert(key, f);
                            }
                        }
                        keep
                    }
                };
                if kept {
                    crate::report::write_run(&summary, &dir)?;
                } else {
                    let _ = std::fs::remove_dir_all(&dir);
                }
            }
            if clock.since(last_said) >= PROGRESS_EVERY {
                last_said = clock.now();
                say(&progress_line(schedules, clock.since(started), &rates));
            }
        }
        let search_ms = clock.since(started).as_millis() as u64;
        say(&progress_line(schedules, clock.since(started), &rates));
        Ok(Exploration {
            schema_version: EXPLORE_SCHEMA_VERSION,
            plan: self.plan.plan.name.clone(),
            plan_path: crate::paths::shown(&self.plan.path),
            simulated: engine.simulated(),
            backend: engine.backend_name(),
            base_seed: self.base_seed,
            shards: self.shard.map(|(i, n)| format!("{i}/{n}")).into_iter().collect(),
            search_ms,
            shrink_ms: 0,
            implementations: rates.into_values().collect(),
            findings: findings.into_values().collect(),
        })
    }
}

/// The implementation a finding names.
pub fn kind_of(name: &str) -> Result<EnactorKind> {
    EnactorKind::parse(name).ok_or_else(|| Error::bad_input(format!("unknown implementation {name:?} (hint: one of legacy, single, revalidating, converging, fenced, or an outside enactor given with --enactor-cmd)")))
}

fn progress_line(schedules: u64, took: Duration, rates: &BTreeMap<String, ImplRate>) -> String {
    let per_min = schedules as f64 / took.as_secs_f64().max(0.001) * 60.0;
    let each: Vec<String> = rates.values().map(|r| format!("{} {}/{} ({} signatures)", r.implementation, r.failures, r.schedules, r.signatures.len())).collect();
    format!("explore: {schedules} schedules in {:.0} s ({per_min:.0}/min); failures: {}", took.as_secs_f64(), each.join(", "))
}
