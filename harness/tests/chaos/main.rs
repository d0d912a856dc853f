//! The chaos suite: every shipped plan against every enactor implementation on the real
//! backend, each run checked against the plan's `expect:` section (the one place the expected
//! verdicts live: invariants that hold, break or may break with the reason, and bounds on
//! measured numbers, each citing the 20-seed distribution it was set from).
//!
//! Environment:
//! - `DNSCHAOS_SEEDS=1-20` (or `1,7,9`): run every selected row over these seeds instead of the
//!   plan's own seed, and print each metric's distribution and each property's pass count per
//!   row at the end (also written to `<out>/sweep.json`). This is how a bound is re-derived:
//!   `DNSCHAOS_CHAOS_PLANS=az-loss DNSCHAOS_CHAOS_ENACTORS=single DNSCHAOS_SEEDS=1-20 cargo test --test chaos`
//! - `DNSCHAOS_CHAOS_PLANS=steady-state,october-2025-replay`, `DNSCHAOS_CHAOS_ENACTORS=legacy,single`:
//!   limit the rows.
//! - `DNSCHAOS_CHAOS_REJUDGE=1`: run nothing; judge the runs already stored in the output
//!   folder against the current expectations (after editing a bound).
//! - `DNSCHAOS_CHAOS_OUT=DIR`: where runs are stored (default `target/tmp/chaos`).
//!
//! One backend serves the whole binary; every run builds its own zones on it.
//!
//! Outside enactors (`docs/enactor-protocol.md`) run beside the built-ins and are judged by a
//! built-in twin's expectations: `python-boto3` (`fixtures/enactors/python-boto3`, legacy's
//! logic in Python) by legacy's on the plans in [`outside_rows`], and `fenced-protocol` (the
//! built-in fenced started as an outside process) by fenced's on every plan. Same verdicts, same
//! rows: the protocol loses nothing a verdict needs.

#[path = "../support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use dnschaos::analysis::expect::{self, ExpectResult, Facts};
use dnschaos::enactor::EnactorKind;
use dnschaos::events::Event;
use dnschaos::summary::{ImplementationSummary, Summary};
use dnschaos::runner::RunRequest;
use dnschaos::scenario::{FaultKind, LoadedPlan, Metric};
use libtest_mimic::{Failed, Trial};

/// Runs share the backend (read) unless they fault the backend itself (write).
static BACKEND_GATE: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// Every judged run, for the sweep's distributions.
static RESULTS: Mutex<Vec<Judged>> = Mutex::new(Vec::new());

/// Every failed row with why, written to `<out>/failures.txt` at the end: a long log (CI's)
/// may keep only its tail, and the reason a row failed must survive in it.
static FAILURES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Judged {
    plan: String,
    kind: EnactorKind,
    seed: u64,
    metrics: Facts,
    expectation: ExpectResult,
}

#[allow(dead_code)]
enum Gate<'a> {
    Shared(std::sync::RwLockReadGuard<'a, ()>),
    Alone(std::sync::RwLockWriteGuard<'a, ()>),
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn out_root() -> PathBuf {
    std::env::var_os("DNSCHAOS_CHAOS_OUT").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("chaos"))
}

fn run_dir(plan: &str, kind: EnactorKind, seed: u64) -> PathBuf {
    out_root().join(format!("{plan}-{}-seed{seed}", kind.as_str()))
}

/// `DNSCHAOS_SEEDS`, or `None` for each plan's own seed.
fn sweep_seeds() -> Option<Vec<u64>> {
    let s = std::env::var("DNSCHAOS_SEEDS").ok().filter(|s| !s.trim().is_empty())?;
    let parse = |x: &str| x.trim().parse::<u64>().unwrap_or_else(|_| panic!("DNSCHAOS_SEEDS: {x:?} is not a seed (hint: 1-20 or 1,7,9)"));
    Some(match s.split_once('-') {
        Some((a, b)) => (parse(a)..=parse(b)).collect(),
        None => s.split(',').map(parse).collect(),
    })
}

fn list_env(name: &str) -> Option<Vec<String>> {
    std::env::var(name).ok().filter(|s| !s.trim().is_empty()).map(|s| s.split(',').map(|x| x.trim().to_string()).collect())
}

fn main() {
    let only_plans = list_env("DNSCHAOS_CHAOS_PLANS");
    let only_kinds = list_env("DNSCHAOS_CHAOS_ENACTORS");
    let rejudge = std::env::var("DNSCHAOS_CHAOS_REJUDGE").is_ok_and(|v| v == "1");
    let seeds = sweep_seeds();
    // Every shipped plan must say what every implementation is expected to show.
    let mut plans = Vec::new();
    let mut dir: Vec<PathBuf> = std::fs::read_dir(repo().join("chaos-plans")).unwrap().map(|e| e.unwrap().path()).collect();
    dir.sort();
    for path in dir {
        let loaded = dnschaos::scenario::load(&path).unwrap_or_else(|e| panic!("shipped plan does not load: {e}"));
        // A plan with a nemesis draws its faults per seed: its outcome is a rate over seeds
        // (`dnschaos explore`, `dnschaos sweep`, README's rate table), not a per-seed verdict.
        if loaded.plan.nemesis.is_some() {
            continue;
        }
        for kind in EnactorKind::ALL {
            assert!(
                loaded.plan.expect.contains_key(&kind),
                "{} expects nothing of {} (hint: every shipped plan has an expect: entry per implementation)",
                path.display(),
                kind.as_str()
            );
        }
        plans.push(loaded);
    }
    let shared = if rejudge { None } else { Some(Arc::new(support::start_shared("chaos"))) };
    let mut trials = Vec::new();
    for loaded in &plans {
        let name = loaded.plan.name.clone();
        if only_plans.as_ref().is_some_and(|o| !o.contains(&name)) {
            continue;
        }
        let rows = EnactorKind::ALL.into_iter().map(|k| (k, k)).chain(outside_rows(&name));
        for (kind, twin) in rows {
            if only_kinds.as_ref().is_some_and(|o| !o.iter().any(|k| k == kind.as_str())) {
                continue;
            }
            for seed in seeds.clone().unwrap_or_else(|| vec![loaded.plan.seed]) {
                let s = shared.clone();
                let loaded = loaded.clone();
                // A backend fault freezes the shared backend for every run on it: such runs go alone.
                let exclusive = loaded.plan.faults.iter().any(|f| matches!(f.kind, FaultKind::BackendPause | FaultKind::BackendRestart));
                let row = format!("{name}::{}::seed{seed}", kind.as_str());
                trials.push(Trial::test(row.clone(), move || {
                    let verdict = match &s {
                        None => rejudge_stored(&loaded, kind, twin, seed),
                        Some(s) => {
                            let _gate = if exclusive {
                                Gate::Alone(BACKEND_GATE.write().unwrap_or_else(|e| e.into_inner()))
                            } else {
                                Gate::Shared(BACKEND_GATE.read().unwrap_or_else(|e| e.into_inner()))
                            };
                            s.block_on(check(s, loaded, kind, twin, seed))
                        }
                    };
                    if let Err(why) = &verdict {
                        let why = why.message().unwrap_or("(no message)");
                        // The reason and the replay command; the event tails stay in the test's own output.
                        let short: Vec<&str> = why.lines().take_while(|l| !l.starts_with("last events:")).collect();
                        FAILURES.lock().unwrap_or_else(|e| e.into_inner()).push(format!("{row}\n  {}", short.join("\n  ")));
                    }
                    verdict
                }));
            }
        }
    }
    let finish = move || {
        let rates_ok = if seeds.as_ref().is_some_and(|s| s.len() > 1) || rejudge { print_distributions() } else { true };
        write_failures();
        rates_ok
    };
    match shared {
        Some(s) => support::run_then(s, trials, finish),
        None => {
            let conclusion = libtest_mimic::run(&libtest_mimic::Arguments::from_args(), trials);
            if !finish() {
                std::process::exit(101);
            }
            conclusion.exit()
        }
    }
}

/// The outside enactors run on `plan`, each with the built-in whose expectations judge it.
fn outside_rows(plan: &str) -> Vec<(EnactorKind, EnactorKind)> {
    let mut rows = vec![(
        EnactorKind::outside(dnschaos::model::OutsideEnactor {
            name: "fenced-protocol".into(),
            command: vec![support::bin().to_string_lossy().into_owned(), "enactor".into(), "--impl".into(), "fenced".into()],
            checkpoints: true,
        }),
        EnactorKind::Fenced,
    )];
    if ["steady-state", "october-2025-replay"].contains(&plan) {
        let command = repo().join("fixtures/enactors/python-boto3/enactor");
        rows.push((
            EnactorKind::outside(dnschaos::model::OutsideEnactor {
                name: "python-boto3".into(),
                command: vec![command.to_string_lossy().into_owned()],
                checkpoints: true,
            }),
            EnactorKind::Legacy,
        ));
    }
    rows
}

async fn check(s: &support::Shared, loaded: LoadedPlan, kind: EnactorKind, twin: EnactorKind, seed: u64) -> Result<(), Failed> {
    let name = loaded.plan.name.clone();
    let out = run_dir(&name, kind, seed);
    let _ = std::fs::remove_dir_all(&out);
    let request = RunRequest::new(loaded, &out).seed(seed).implementations(&[kind]).bin(support::bin());
    let replay = request.replay();
    let quiet = |_: &str| {};
    let summary = s.runner.run(&request, &quiet).await?;
    dnschaos::commands::write_outputs(&summary, &out)?;
    let e = &summary.enactors[0];
    let result = if twin == kind { e.expectation.clone() } else { summary.plan.spec.expect.get(&twin).map(|x| expect::evaluate(x, &e.invariants, &e.metrics)) };
    let verdict = judge(&name, kind, seed, e, result);
    if let Err(why) = &verdict {
        let events = std::fs::read_to_string(&e.events_path).unwrap_or_default();
        let tail: Vec<&str> = events.lines().rev().take(15).collect();
        let backend_tail = s.backend.log_tail(10).await;
        return Err(format!(
            "{why}\nplan {name}, enactor {}, seed {seed}\nreplay: {replay}\nsummary: {}\nlast events:\n{}\nlast backend log lines:\n{}",
            kind.as_str(),
            out.join("summary.json").display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
            backend_tail.join("\n")
        )
        .into());
    }
    Ok(())
}

/// Judge a run stored by an earlier sweep against the plan's current expectations.
fn rejudge_stored(loaded: &LoadedPlan, kind: EnactorKind, twin: EnactorKind, seed: u64) -> Result<(), Failed> {
    let dir = run_dir(&loaded.plan.name, kind, seed);
    let text = std::fs::read_to_string(dir.join("summary.json")).map_err(|e| format!("{}: no stored run: {e}", dir.display()))?;
    let summary: Summary = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", dir.join("summary.json").display()))?;
    // The enactors' tuning as the run had it: the plan's, else the defaults.
    let tuning = dnschaos::enactor::Tuning::default();
    let cleanup_keep = summary.plan.spec.enactors.cleanup_keep.unwrap_or(tuning.cleanup_keep);
    let lock_lease_ms = summary.plan.spec.enactors.lock_lease.map(|l| l.ms()).unwrap_or(tuning.lock_lease.as_millis() as u64);
    let e = summary.enactors.into_iter().next().ok_or("summary without an implementation")?;
    let events: Vec<Event> = std::fs::read_to_string(&e.events_path)
        .map_err(|err| format!("{}: {err}", e.events_path))?
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let mut e = e;
    e.metrics = expect::facts(&expect::RunOutcome {
        total_empty_ms: e.total_empty_ms,
        longest_empty_ms: e.longest_empty_ms,
        time_to_recovery_ms: e.time_to_recovery_ms,
        az_loss_reaction_ms: e.az_loss_reaction_ms,
        final_empty_endpoints: e.final_state.values().filter(|f| f.empty).count() as u64,
        enactors: &e.enactors,
        events: &events,
        stuck: &e.stuck.keys().cloned().collect::<Vec<_>>(),
        converge_ms: e.converge_ms,
        truth: e.truth.as_ref(),
        harness_calls_faulted: e.harness_calls_faulted,
        change_p99_ms: e.api_latency.get("change-resource-record-sets").map(|l| l.p99_us / 1000),
        cleanup_keep,
        lock_lease_ms,
    });
    let result = loaded.plan.expect.get(&twin).map(|x| expect::evaluate(x, &e.invariants, &e.metrics));
    Ok(judge(&loaded.plan.name, kind, seed, &e, result)?)
}

fn judge(plan: &str, kind: EnactorKind, seed: u64, e: &ImplementationSummary, result: Option<ExpectResult>) -> Result<(), String> {
    let result = result.ok_or_else(|| format!("the plan expects nothing of {}", kind.as_str()))?;
    RESULTS.lock().unwrap().push(Judged { plan: plan.into(), kind, seed, metrics: e.metrics.clone(), expectation: result.clone() });
    let properties = match expect::judge_run(Some(&result), &e.faults) {
        expect::RunJudgement::Met(n) => n,
        expect::RunJudgement::Missed(why) => return Err(format!("expected properties failed:\n  {}", why.join("\n  "))),
        expect::RunJudgement::Unjudged => unreachable!("judged with an expectation"),
    };
    let shown: Vec<String> = [Metric::EmptyMs, Metric::RecoveryMs, Metric::StaleMs, Metric::TakeoverAfterLossMs, Metric::BackwardFlips]
        .iter()
        .filter_map(|m| e.metrics.get(m).map(|v| format!("{} {}", m.as_str(), expect::show(*v))))
        .collect();
    println!("{plan} x {}: {properties} properties held; {}", kind.as_str(), shown.join(", "));
    for miss in result.rate_misses() {
        println!("{plan} x {} seed {seed}: not in this run, judged over seeds: {miss}", kind.as_str());
    }
    Ok(())
}

/// `<out>/failures.txt`: each failed row and why (removed when none failed), for `.ci/run` to
/// print last.
fn write_failures() {
    let failures = FAILURES.lock().unwrap_or_else(|e| e.into_inner());
    let path = out_root().join("failures.txt");
    if failures.is_empty() {
        let _ = std::fs::remove_file(&path);
        return;
    }
    let _ = std::fs::create_dir_all(out_root());
    let text = format!("{} chaos row(s) failed:\n{}\n", failures.len(), failures.join("\n"));
    if std::fs::write(&path, text).is_ok() {
        eprintln!("failed rows and why: {}", path.display());
    }
}

/// Per row: each metric's distribution over the seeds, each property's pass count, and each
/// rate property judged over the seeds. False when a rate is below its floor.
fn print_distributions() -> bool {
    let mut rates_ok = true;
    let results = RESULTS.lock().unwrap();
    let mut rows: BTreeMap<(String, EnactorKind), Vec<&Judged>> = BTreeMap::new();
    for r in results.iter() {
        rows.entry((r.plan.clone(), r.kind)).or_default().push(r);
    }
    let mut json = Vec::new();
    println!("\n== distributions per row (seeds as run) ==");
    for ((plan, kind), runs) in &rows {
        let mut seeds: Vec<u64> = runs.iter().map(|r| r.seed).collect();
        seeds.sort_unstable();
        println!("{plan} x {} ({} runs, seeds {})", kind.as_str(), runs.len(), compact(&seeds));
        let mut metrics = serde_json::Map::new();
        for m in Metric::ALL {
            let vals: Vec<Option<u64>> = runs.iter().map(|r| r.metrics.get(&m).copied().flatten()).collect();
            let mut present: Vec<u64> = vals.iter().flatten().copied().collect();
            present.sort_unstable();
            let absent = vals.len() - present.len();
            if present.is_empty() && absent == vals.len() && !matches!(m, Metric::RecoveryMs) {
                continue;
            }
            let line = dist(&present, absent);
            println!("  {:<30} {line}", m.as_str());
            metrics.insert(m.as_str().into(), serde_json::json!({"values": vals, "summary": line}));
        }
        let mut props: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for r in runs {
            for p in &r.expectation.properties {
                let c = props.entry(p.property.as_str()).or_default();
                c.0 += p.held as usize;
                c.1 += 1;
            }
        }
        for (p, (held, n)) in &props {
            println!("  {held:>2} of {n:<2} held: {p}");
        }
        let rates = expect::judge_rates(runs.iter().map(|r| &r.expectation));
        for r in &rates {
            println!("  rate: {}", r.describe());
            rates_ok &= r.ok != Some(false);
        }
        json.push(serde_json::json!({
            "plan": plan, "implementation": kind.as_str(), "seeds": seeds, "metrics": metrics,
            "properties": props.iter().map(|(p, (h, n))| serde_json::json!({"property": p, "held": h, "runs": n})).collect::<Vec<_>>(),
            "rates": rates.iter().map(|r| serde_json::json!({"property": r.property, "floor_pct": r.floor_pct, "rate": r.rate, "ok": r.ok})).collect::<Vec<_>>(),
        }));
        if rates.iter().any(|r| r.ok == Some(false)) {
            FAILURES.lock().unwrap_or_else(|e| e.into_inner()).push(format!(
                "{plan} x {} over seeds {}: a rate below its floor\n  {}",
                kind.as_str(),
                compact(&seeds),
                rates.iter().filter(|r| r.ok == Some(false)).map(|r| r.describe()).collect::<Vec<_>>().join("\n  ")
            ));
        }
    }
    let path = out_root().join("sweep.json");
    let _ = std::fs::create_dir_all(out_root());
    if std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap_or_default()).is_ok() {
        println!("distributions written to {}", path.display());
    }
    if !rates_ok {
        println!("error: a rate property is below its floor over these seeds (see `rate:` lines above)");
    }
    rates_ok
}

/// `min 0, median 120, max 840` (+ `, never 3` for absent values).
fn dist(sorted: &[u64], absent: usize) -> String {
    let mut s = if sorted.is_empty() {
        "no value".to_string()
    } else {
        format!("min {}, median {}, max {}", sorted[0], sorted[(sorted.len() - 1) / 2], sorted[sorted.len() - 1])
    };
    if absent > 0 {
        s.push_str(&format!(", absent (never) {absent}"));
    }
    s
}

/// `1-20` or `1-5,9`.
fn compact(seeds: &[u64]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < seeds.len() {
        let mut j = i;
        while j + 1 < seeds.len() && seeds[j + 1] == seeds[j] + 1 {
            j += 1;
        }
        parts.push(if i == j { seeds[i].to_string() } else { format!("{}-{}", seeds[i], seeds[j]) });
        i = j + 1;
    }
    parts.join(",")
}
