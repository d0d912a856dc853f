//! The chaos suite: every shipped plan against every enactor implementation on the real
//! backend, checked against the expected verdict table below (the one place it lives).
//!
//! Seeds: each plan's own seed by default; `DNSCHAOS_SEEDS=1-5` (or `1,7,9`) sweeps more.
//! `DNSCHAOS_CHAOS_PLANS=steady-state,october-2025` limits the plans. One backend serves the
//! whole binary; every run builds its own zones on it.

#[path = "../support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dnschaos::enactor::EnactorKind;
use dnschaos::runner::summary::EnactorSummary;
use dnschaos::runner::{self, RunRequest};
use dnschaos::scenario::FaultKind;
use libtest_mimic::{Failed, Trial};
use support::Shared;

/// What a (plan, implementation) pair must show.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// SLOs and invariants held: no empty answer, recovery within bounds.
    Holds,
    /// The October 2025 failure: an empty-answer window that never recovers, the control plane
    /// answering no records at the end, and every enactor stuck.
    October2025,
    /// Empty answers happen (an unsafe design under this schedule), whatever else.
    EmptyAnswers,
    /// No empty answer, but other invariants may break (legacy flips back to older plans when
    /// its retried batches outlive newer plans: its design, visible in the report).
    NoEmpty,
    /// No empty answer, and DNS kept the lost AZ's load balancers for at least `min_ms`
    /// (single's standby needs 3 missed heartbeats of 1 s; the last beat can be up to 1 s old
    /// when the AZ goes, so at least 2 s) — availability otherwise held.
    StaleAtLeast { min_ms: u64 },
}

use EnactorKind::*;
use Expect::*;

/// plan x implementation -> expected outcome.
const EXPECTED: &[(&str, EnactorKind, Expect)] = &[
    ("steady-state", Legacy, NoEmpty),
    ("steady-state", Single, Holds),
    ("steady-state", Revalidating, Holds),
    ("steady-state", Converging, Holds),
    ("steady-state", Fenced, Holds),
    ("october-2025", Legacy, October2025),
    // Idea 1: the primary comes back after the standby took over and races it.
    ("october-2025", Single, EmptyAnswers),
    ("october-2025", Revalidating, Holds),
    ("october-2025", Converging, Holds),
    ("october-2025", Fenced, Holds),
    ("az-loss", Legacy, Holds),
    ("az-loss", Single, StaleAtLeast { min_ms: 2_000 }),
    ("az-loss", Revalidating, Holds),
    ("az-loss", Converging, Holds),
    ("az-loss", Fenced, Holds),
    ("backend-pause", Legacy, NoEmpty),
    ("backend-pause", Single, NoEmpty),
    ("backend-pause", Revalidating, Holds),
    ("backend-pause", Converging, Holds),
    ("backend-pause", Fenced, Holds),
    ("api-latency", Legacy, NoEmpty),
    ("api-latency", Single, NoEmpty),
    ("api-latency", Revalidating, Holds),
    ("api-latency", Converging, Holds),
    ("api-latency", Fenced, Holds),
    ("throttling", Legacy, NoEmpty),
    ("throttling", Single, NoEmpty),
    ("throttling", Revalidating, Holds),
    ("throttling", Converging, Holds),
    ("throttling", Fenced, Holds),
];

/// Runs share the backend (read) unless they fault the backend itself (write).
static BACKEND_GATE: std::sync::RwLock<()> = std::sync::RwLock::new(());

#[allow(dead_code)]
enum Gate<'a> {
    Shared(std::sync::RwLockReadGuard<'a, ()>),
    Alone(std::sync::RwLockWriteGuard<'a, ()>),
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn seeds(default: u64) -> Vec<u64> {
    match std::env::var("DNSCHAOS_SEEDS") {
        Ok(s) if s.contains('-') => {
            let (a, b) = s.split_once('-').unwrap();
            (a.trim().parse().unwrap()..=b.trim().parse().unwrap()).collect()
        }
        Ok(s) if !s.trim().is_empty() => s.split(',').map(|x| x.trim().parse().unwrap()).collect(),
        _ => vec![default],
    }
}

fn main() {
    let only: Option<Vec<String>> = std::env::var("DNSCHAOS_CHAOS_PLANS").ok().map(|s| s.split(',').map(str::to_string).collect());
    // Every shipped plan must have a row per implementation in the table.
    for entry in std::fs::read_dir(repo().join("chaos-plans")).unwrap() {
        let name = entry.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned();
        for kind in EnactorKind::ALL {
            let covered = EXPECTED.iter().any(|(p, k, _)| *p == name && *k == kind);
            assert!(covered, "chaos-plans/{name}.yaml x {} has no row in the expected verdict table", kind.as_str());
        }
    }
    let shared = Arc::new(support::start_shared("chaos"));
    let mut trials = Vec::new();
    for (plan, kind, expect) in EXPECTED {
        if only.as_ref().is_some_and(|o| !o.iter().any(|p| p == plan)) {
            continue;
        }
        let loaded = dnschaos::scenario::load(&repo().join("chaos-plans").join(format!("{plan}.yaml"))).expect("shipped plan loads");
        for seed in seeds(loaded.plan.seed) {
            let s = shared.clone();
            let loaded = loaded.clone();
            let (kind, expect) = (*kind, *expect);
            // A backend fault freezes the shared backend for every run on it: such runs go alone.
            let exclusive = loaded.plan.faults.iter().any(|f| matches!(f.kind, FaultKind::BackendPause | FaultKind::BackendRestart));
            trials.push(Trial::test(format!("{plan}::{}::seed{seed}", kind.as_str()), move || {
                let _gate = if exclusive {
                    Gate::Alone(BACKEND_GATE.write().unwrap_or_else(|e| e.into_inner()))
                } else {
                    Gate::Shared(BACKEND_GATE.read().unwrap_or_else(|e| e.into_inner()))
                };
                s.block_on(check(&s, loaded, kind, seed, expect))
            }));
        }
    }
    support::run(shared, trials)
}

async fn check(s: &Shared, loaded: dnschaos::scenario::LoadedPlan, kind: EnactorKind, seed: u64, expect: Expect) -> Result<(), Failed> {
    let name = loaded.plan.name.clone();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("chaos").join(format!("{name}-{}-seed{seed}", kind.as_str()));
    let _ = std::fs::remove_dir_all(&out);
    let replay = format!("dnschaos run chaos-plans/{name}.yaml --enactor {} --seed {seed}", kind.as_str());
    let request = RunRequest { plan: loaded, implementations: vec![kind], seed, out: out.clone(), replay: replay.clone(), bin: support::bin() };
    let quiet = |_: &str| {};
    let backend_json = serde_json::to_value(s.backend.info()).unwrap_or_default();
    let summary = runner::run(s.backend.clone(), s.r53.clone(), &request, backend_json, &quiet).await?;
    let e = &summary.enactors[0];
    let verdict = judge(e, expect);
    if let Err(why) = &verdict {
        let events = std::fs::read_to_string(&e.events_path).unwrap_or_default();
        let tail: Vec<&str> = events.lines().rev().take(15).collect();
        let backend_tail = s.backend.log_tail(10).await;
        return Err(format!(
            "{why}\nplan {name}, enactor {}, seed {seed}\nreplay: {replay}\nsummary: {}\nverdict failures: {:?}\nlast events:\n{}\nlast backend log lines:\n{}",
            kind.as_str(),
            out.join("summary.json").display(),
            e.verdict.failures,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
            backend_tail.join("\n")
        )
        .into());
    }
    println!(
        "{name} x {}: empty {} ms, recovery {:?}, availability {:.2} %, reproduced {}, az-loss reaction {:?}",
        kind.as_str(),
        e.total_empty_ms,
        e.time_to_recovery_ms,
        e.availability_pct,
        e.reproduced_october_2025,
        e.az_loss_reaction_ms
    );
    Ok(())
}

fn judge(e: &EnactorSummary, expect: Expect) -> Result<(), String> {
    let unfired: Vec<&str> = e.faults.iter().filter(|f| f.applicable && !f.fired).map(|f| f.id.as_str()).collect();
    if !unfired.is_empty() {
        return Err(format!("scheduled faults never fired: {unfired:?}"));
    }
    match expect {
        Holds => (e.verdict.passed && e.empty_windows.is_empty())
            .then_some(())
            .ok_or_else(|| format!("expected the SLOs to hold; got {} ms empty, failures {:?}", e.total_empty_ms, e.verdict.failures)),
        October2025 => {
            let never = e.empty_windows.iter().any(|w| w.end_ms.is_none()) && e.time_to_recovery_ms.is_none();
            (never && e.reproduced_october_2025).then_some(()).ok_or_else(|| {
                format!(
                    "expected a never-recovering empty window and every enactor stuck; empty windows {:?}, stuck {:?}, final {:?}",
                    e.empty_windows, e.stuck, e.final_state
                )
            })
        }
        NoEmpty => e.empty_windows.is_empty().then_some(()).ok_or_else(|| {
            format!("expected no empty answer; got {} ms in {:?}", e.total_empty_ms, e.empty_windows)
        }),
        EmptyAnswers => (!e.empty_windows.is_empty())
            .then_some(())
            .ok_or_else(|| "expected empty answers under this schedule, saw none".to_string()),
        StaleAtLeast { min_ms } => {
            let reaction = e.az_loss_reaction_ms.ok_or("the lost AZ's load balancers were never dropped")?;
            (e.empty_windows.is_empty() && reaction >= min_ms).then_some(()).ok_or_else(|| {
                format!("expected no empty answer and >= {min_ms} ms of stale answers; empty {} ms, reaction {reaction} ms", e.total_empty_ms)
            })
        }
    }
}
