//! The `dnschaos` commands: each parses nothing (that is `cli`), runs, prints, and returns the
//! documented exit code. `main.rs` only parses and maps errors to exit codes.

pub mod cli;
mod explore;
pub mod progress;

use std::path::{Path, PathBuf};

use cli::{BackendCommand, Cli, Command};

use crate::error::{exit, Error, Result};
use crate::paths::repo_root;
use crate::runner::{RunRequest, Runner};
use crate::session::{interrupted, with_backend};
use crate::summary::Summary;

/// Run the parsed command line; returns the exit code.
pub async fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Conformance(args) => conformance(args).await,
        Command::Report(args) => crate::report::run(&args),
        Command::Baseline(cmd) => crate::report::baseline::run(&cmd),
        Command::ReportIndex(args) => crate::report::index::run(&args),
        Command::Validate { plans, backend } => Ok(validate(&plans, backend)),
        Command::Run(args) => run(args).await,
        Command::Sweep(args) => sweep(args).await,
        Command::Bench(args) => bench(args).await,
        Command::Explore(args) => explore::explore(args).await,
        Command::ExploreMerge(args) => explore::merge(&args),
        Command::Enactor(args) => {
            let spec = crate::enactor::subprocess::ProcessSpec::from_env()?;
            crate::enactor::subprocess::run_child(args.implementation, spec).await?;
            Ok(exit::OK)
        }
        Command::Backend(BackendCommand::BuildImage { tag, force }) => {
            let mut script_args = vec!["--tag".to_string(), tag];
            if force {
                script_args.push("--force".into());
            }
            run_script("build-image.sh", &script_args).await
        }
        Command::Backend(BackendCommand::InstallVenv { venv }) => {
            let args: Vec<String> = venv.map(|v| v.display().to_string()).into_iter().collect();
            run_script("install-venv.sh", &args).await
        }
        Command::Backend(BackendCommand::Up { backend }) => {
            let config = backend.config("backend-up");
            with_backend(&config, |session| async move {
                let info = session.backend.info();
                println!("{}", serde_json::to_string_pretty(info).expect("backend info is json"));
                eprintln!("backend ready; press Ctrl-C to stop it");
                interrupted().await;
                Ok(exit::OK)
            })
            .await
            .or_else(|e| if matches!(e, Error::Interrupted) { Ok(exit::OK) } else { Err(e) })
        }
    }
}

/// Write `summary.json` and its reports into `dir`; returns the files written.
pub fn write_outputs(summary: &Summary, dir: &Path) -> Result<Vec<PathBuf>> {
    crate::report::write_run(summary, dir)
}

fn validate(plans: &[PathBuf], backend: Option<crate::backend::BackendKind>) -> i32 {
    let mut bad = 0;
    for p in plans {
        let loaded = crate::scenario::load(p).and_then(|l| match backend {
            Some(crate::backend::BackendKind::Sim) => crate::scenario::check_simulable(&l).map(|()| l),
            _ => Ok(l),
        });
        match loaded {
            Ok(l) => println!(
                "{}: ok ({}, {} faults{}, {} s)",
                p.display(),
                l.plan.name,
                l.plan.faults.len(),
                l.plan.nemesis.as_ref().map(|n| format!(" + a nemesis of {} kinds", n.kinds.len())).unwrap_or_default(),
                l.plan.duration.0.as_secs()
            ),
            Err(e) => {
                eprintln!("error: {e}");
                bad += 1;
            }
        }
    }
    if bad == 0 {
        exit::OK
    } else {
        exit::BAD_INPUT
    }
}

async fn conformance(args: cli::ConformanceArgs) -> Result<i32> {
    let config = args.backend.config("conformance");
    let run_dir = config.run_dir.clone();
    let report =
        with_backend(&config, |session| async move { crate::conformance::run(&session.r53, session.backend.info(), false).await }).await?;
    println!("{}", report.table());
    let json = serde_json::to_string_pretty(&report).expect("report is json");
    let path = args.json.unwrap_or_else(|| run_dir.join("conformance.json"));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    std::fs::write(&path, json).map_err(|e| Error::io(&path, e))?;
    eprintln!("wrote {}", path.display());
    if args.require_conforming && report.conforming < report.total {
        return Ok(exit::VIOLATED);
    }
    Ok(exit::OK)
}

async fn run(mut args: cli::RunArgs) -> Result<i32> {
    args.enactors = cli::resolve_enactors(&args.enactors, &args.enactor_cmds);
    let loaded = crate::scenario::load(&args.plan)?;
    let seed = args.seed.unwrap_or(loaded.plan.seed);
    let mut config = args.backend.config(&format!("run-{}", loaded.plan.name));
    if args.backend.out.is_none() {
        config.run_dir = cli::default_run_dir(&format!("run-{}-seed{seed}", loaded.plan.name));
    }
    let out = config.run_dir.clone();
    let simulated = args.backend.backend == crate::backend::BackendKind::Sim;
    if simulated {
        crate::scenario::check_simulable(&loaded)?;
    }
    let kinds = if args.enactors.is_empty() { loaded.plan.enactors.implementations.clone() } else { args.enactors.clone() };
    crate::scenario::check_enactors(&loaded, &kinds, simulated)?;
    let request = RunRequest::new(loaded, &out)
        .seed(seed)
        .jitter_seed(args.jitter_seed)
        .implementations(&args.enactors)
        .parallel(args.parallel)
        .time_scale(args.time_scale)
        .conformance(!args.no_conformance && !simulated);
    let replay = request.replay();
    let jitter = request.seeds().jitter;
    eprintln!("seed {seed}, jitter seed {jitter}; replay with: {replay}{}", if simulated { " --backend sim" } else { "" });
    if request.is_drawn() {
        // The schedule drawn from the nemesis, as an ordinary plan (also in summary.json).
        std::fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
        let drawn = out.join("drawn-plan.yaml");
        let yaml = serde_yaml::to_string(&request.plan.plan).expect("a plan is yaml");
        std::fs::write(&drawn, &yaml).map_err(|e| Error::io(&drawn, e))?;
        let faults = serde_yaml::to_string(&request.plan.plan.faults).expect("faults are yaml");
        eprintln!("faults drawn with seed {seed} (the whole plan: {}):\n{}", drawn.display(), faults.trim_end());
    }
    eprintln!("output: {}", out.display());
    // Faulted part + settle + about 8 s of set-up and tear-down, per implementation.
    let plan = &request.plan.plan;
    let per_impl = plan.duration.ms() + plan.slo.converge_within.ms() + 8_000;
    let total_ms = per_impl * request.implementations.len() as u64;
    let summary = if simulated {
        // Virtual time: the run's own paused runtime, on a thread of its own.
        let lines = |line: &str| eprintln!("{line}");
        std::fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
        crate::runner::run_simulated(&request, &lines)?
    } else {
        with_backend(&config, move |session| async move {
            let bar = progress::Progress::new(total_ms);
            let summary = Runner::new(session.backend.clone(), session.r53.clone()).run(&request, &bar).await;
            bar.finish();
            summary
        })
        .await?
    };
    write_outputs(&summary, &out)?;
    for e in &summary.enactors {
        println!(
            "{:<13} {:<8} empty {:>6} ms in {} window(s), recovery {}, availability {:.2} %",
            e.implementation,
            if e.verdict.passed { "pass" } else { "FAIL" },
            e.total_empty_ms,
            e.empty_windows.len(),
            e.time_to_recovery_ms.map(|t| format!("{t} ms")).unwrap_or_else(|| "never".into()),
            e.availability_pct
        );
        for f in &e.verdict.failures {
            println!("    - {f}");
        }
    }
    println!("summary: {}", out.join(crate::summary::SUMMARY_JSON).display());
    println!("report:  {}", out.join(crate::report::REPORT_HTML).display());
    if summary.passed {
        Ok(exit::OK)
    } else {
        eprintln!("note: rerun with --seed {seed}: {replay}");
        Ok(exit::VIOLATED)
    }
}

async fn sweep(mut args: cli::SweepArgs) -> Result<i32> {
    args.enactors = cli::resolve_enactors(&args.enactors, &args.enactor_cmds);
    let loaded = crate::scenario::load(&args.plan)?;
    let seeds = cli::parse_seeds(&args.seeds)
        .ok_or_else(|| Error::bad_input(format!("--seeds {:?} is not a range or list (hint: 1-20 or 1,5,9)", args.seeds)))?;
    let simulated = args.backend.backend == crate::backend::BackendKind::Sim;
    if simulated {
        crate::scenario::check_simulable(&loaded)?;
    }
    let kinds = if args.enactors.is_empty() { loaded.plan.enactors.implementations.clone() } else { args.enactors.clone() };
    crate::scenario::check_enactors(&loaded, &kinds, simulated)?;
    let config = args.backend.config(&format!("sweep-{}", loaded.plan.name));
    let out = config.run_dir.clone();
    let request = |seed: u64| {
        let dir = out.join(format!("seed-{seed}"));
        RunRequest::new(loaded.clone(), &dir).seed(seed).implementations(&args.enactors).conformance(false)
    };
    let quiet = |_: &str| {};
    let mut summaries: Vec<Summary> = Vec::new();
    let k = args.parallel.max(1);
    if simulated {
        // Each simulated run on a runtime of its own; `k` threads at a time.
        for chunk in seeds.chunks(k) {
            let done: Vec<Result<Summary>> = std::thread::scope(|scope| {
                let handles: Vec<_> = chunk.iter().map(|seed| {
                    let req = request(*seed);
                    scope.spawn(move || crate::runner::run_simulated(&req, &quiet))
                }).collect();
                handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(Error::setup("a simulated run panicked")))).collect()
            });
            for s in done {
                let s = s?;
                write_outputs(&s, &out.join(format!("seed-{}", s.seed)))?;
                print_seed(&s);
                summaries.push(s);
            }
        }
    } else {
        let reqs: Vec<RunRequest> = seeds.iter().map(|s| request(*s)).collect();
        summaries = with_backend(&config, move |session| async move {
            let runner = Runner::new(session.backend.clone(), session.r53.clone());
            let mut runs: Vec<crate::runner::BoxedRun<'_, Summary>> = Vec::new();
            for req in &reqs {
                let runner = &runner;
                runs.push(Box::pin(async move {
                    let s = runner.run(req, &quiet).await?;
                    write_outputs(&s, &req.out)?;
                    print_seed(&s);
                    Ok::<_, Error>(s)
                }));
            }
            crate::runner::at_most(runs, k).await
        })
        .await?;
    }
    let table = sweep_table(&summaries);
    println!("{table}");
    let json = serde_json::json!({
        "plan": loaded.plan.name,
        "simulated": simulated,
        "seeds": seeds,
        "rates": sweep_rates(&summaries),
    });
    std::fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
    let path = out.join("sweep.json");
    std::fs::write(&path, serde_json::to_string_pretty(&json).expect("json")).map_err(|e| Error::io(&path, e))?;
    eprintln!("wrote {}", path.display());
    Ok(exit::OK)
}

fn print_seed(s: &Summary) {
    for e in &s.enactors {
        eprintln!(
            "seed {:>4} {:<13} {} expected={} reproduced={} empty={} ms recovery={}",
            s.seed,
            e.implementation,
            if e.verdict.passed { "pass" } else { "FAIL" },
            e.expectation.as_ref().map(|x| if x.met { "met" } else { "NOT met" }).unwrap_or("none"),
            e.reproduced_october_2025,
            e.total_empty_ms,
            e.time_to_recovery_ms.map(|t| format!("{t} ms")).unwrap_or_else(|| "never".into())
        );
    }
}

/// Per implementation: SLO failures, unmet expectations, October 2025 reproductions, as rates.
fn sweep_rates(summaries: &[Summary]) -> serde_json::Value {
    use crate::analysis::rate::Rate;
    let mut impls: Vec<String> = summaries.iter().flat_map(|s| s.enactors.iter().map(|e| e.implementation.clone())).collect();
    impls.sort();
    impls.dedup();
    let rows: Vec<serde_json::Value> = impls
        .iter()
        .map(|i| {
            let mine: Vec<_> = summaries.iter().flat_map(|s| s.enactors.iter()).filter(|e| &e.implementation == i).collect();
            let n = mine.len() as u64;
            let count = |f: &dyn Fn(&&crate::summary::ImplementationSummary) -> bool| mine.iter().filter(|e| f(e)).count() as u64;
            serde_json::json!({
                "implementation": i,
                "runs": n,
                "slo_failed": Rate::of(count(&|e| !e.verdict.passed), n),
                "expectation_unmet": Rate::of(count(&|e| e.expectation.as_ref().is_some_and(|x| !x.met)), n),
                "reproduced_october_2025": Rate::of(count(&|e| e.reproduced_october_2025), n),
                "empty_answers": Rate::of(count(&|e| e.total_empty_ms > 0), n),
            })
        })
        .collect();
    serde_json::Value::Array(rows)
}

fn sweep_table(summaries: &[Summary]) -> String {
    let mut out = format!("{:<13} {:>5}  {:<30} {:<30} {:<30}\n", "implementation", "runs", "SLOs violated", "empty answers", "reproduced Oct 2025");
    if let serde_json::Value::Array(rows) = sweep_rates(summaries) {
        for r in rows {
            let rate = |k: &str| serde_json::from_value::<crate::analysis::rate::Rate>(r[k].clone()).map(|x| x.describe()).unwrap_or_default();
            out.push_str(&format!(
                "{:<13} {:>5}  {:<30} {:<30} {:<30}\n",
                r["implementation"].as_str().unwrap_or(""),
                r["runs"],
                rate("slo_failed"),
                rate("empty_answers"),
                rate("reproduced_october_2025")
            ));
        }
    }
    out
}

async fn bench(args: cli::BenchArgs) -> Result<i32> {
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)).max(1);
    let out = cli::default_run_dir("bench");
    let mut rows = Vec::new();
    for path in &args.plans {
        let loaded = crate::scenario::load(path)?;
        crate::scenario::check_simulable(&loaded)?;
        let impls = loaded.plan.enactors.implementations.clone();
        let jobs: Vec<(u64, crate::model::EnactorKind)> =
            (1..).flat_map(|seed| impls.iter().map(move |k| (seed, *k))).take(args.sim_schedules as usize).collect();
        let clock = crate::clock::Clock::wall();
        let started = clock.now();
        let quiet = |_: &str| {};
        let next = std::sync::atomic::AtomicUsize::new(0);
        let failures = std::sync::atomic::AtomicU64::new(0);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((seed, kind)) = jobs.get(i) else { break };
                    let dir = out.join(format!("sim-{}-{}-{seed}", loaded.plan.name, kind.as_str()));
                    let req = RunRequest::new(loaded.clone(), &dir).seed(*seed).implementations(&[*kind]);
                    match crate::runner::run_simulated(&req, &quiet) {
                        Ok(s) if s.passed => {}
                        Ok(_) => {
                            failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        Err(e) => eprintln!("error: {e}"),
                    }
                    let _ = std::fs::remove_dir_all(&dir);
                });
            }
        });
        let secs = clock.since(started).as_secs_f64();
        let per_min = jobs.len() as f64 / secs * 60.0;
        let speedup = (loaded.plan.duration.ms() + loaded.plan.slo.converge_within.ms()) as f64 / 1000.0 * jobs.len() as f64 / secs;
        println!(
            "sim       {:<14} {} schedules on {threads} thread(s) in {secs:.1} s: {per_min:.0} schedules/min ({speedup:.0}x real time); {} violated the SLOs",
            loaded.plan.name,
            jobs.len(),
            failures.load(std::sync::atomic::Ordering::Relaxed)
        );
        rows.push(serde_json::json!({"backend": "sim", "plan": loaded.plan.name, "schedules": jobs.len(), "seconds": secs, "per_minute": per_min, "threads": threads}));
    }
    if args.container_schedules > 0 {
        let loaded = crate::scenario::load(&args.plans[0])?;
        let mut config = args.backend.config("bench");
        if config.kind == crate::backend::BackendKind::Auto {
            config.kind = crate::backend::BackendKind::Container;
        }
        let n = args.container_schedules;
        let mut ks = vec![1];
        ks.extend(args.k.iter().copied().filter(|k| *k > 1));
        ks.sort_unstable();
        ks.dedup();
        let plan_name = loaded.plan.name.clone();
        let measured = with_backend(&config, move |session| async move {
            let runner = Runner::new(session.backend.clone(), session.r53.clone());
            let mut rows = Vec::new();
            for k in ks {
                let clock = crate::clock::Clock::wall();
                let started = clock.now();
                let quiet = |_: &str| {};
                let reqs: Vec<RunRequest> = (1..=n)
                    .map(|seed| {
                        let kind = loaded.plan.enactors.implementations[(seed as usize - 1) % loaded.plan.enactors.implementations.len()];
                        RunRequest::new(loaded.clone(), cli::default_run_dir(&format!("bench-k{k}-{seed}"))).seed(seed).implementations(&[kind])
                    })
                    .collect();
                let runs: Vec<crate::runner::BoxedRun<'_, Summary>> =
                    reqs.iter().map(|req| Box::pin(runner.run(req, &quiet)) as crate::runner::BoxedRun<'_, Summary>).collect();
                let summaries: Vec<Summary> = crate::runner::at_most(runs, k).await?;
                let secs = clock.since(started).as_secs_f64();
                let mut p99: Vec<u64> = summaries
                    .iter()
                    .flat_map(|s| s.enactors.iter())
                    .filter_map(|e| e.api_latency.get("change-resource-record-sets").map(|l| l.p99_us / 1000))
                    .collect();
                p99.sort_unstable();
                let median_p99 = p99.get(p99.len() / 2).copied().unwrap_or(0);
                // Each (seed, implementation)'s verdict, to compare with K=1's run by run.
                let verdicts: Vec<(u64, String, bool)> = summaries
                    .iter()
                    .map(|s| (s.seed, s.enactors.first().map(|e| e.implementation.clone()).unwrap_or_default(), s.passed))
                    .collect();
                for req in &reqs {
                    let _ = std::fs::remove_dir_all(&req.out);
                }
                rows.push((k, n, secs, median_p99, verdicts));
            }
            Ok(rows)
        })
        .await?;
        let base = measured.first().map(|r| r.3).unwrap_or(0).max(1);
        let at_one: Vec<(u64, String, bool)> = measured.first().map(|r| r.4.clone()).unwrap_or_default();
        // The rule for the default K: the largest whose p99 stays within 1.5x of K=1's.
        let within: Vec<usize> = measured.iter().filter(|r| r.3 as f64 <= 1.5 * base as f64).map(|r| r.0).collect();
        for (k, n, secs, p99, verdicts) in measured {
            let passed = verdicts.iter().filter(|v| v.2).count();
            let differ: Vec<String> = verdicts
                .iter()
                .filter(|v| at_one.iter().any(|o| o.0 == v.0 && o.1 == v.1 && o.2 != v.2))
                .map(|v| format!("seed {} {} {}", v.0, v.1, if v.2 { "passed" } else { "failed" }))
                .collect();
            let failed: Vec<String> = verdicts.iter().filter(|v| !v.2).map(|v| format!("seed {} {}", v.0, v.1)).collect();
            println!(
                "container {:<14} K={k}: {n} schedules in {secs:.0} s: {:.1} schedules/min; ChangeResourceRecordSets p99 (median over runs) {p99} ms = {:.2}x K=1; {passed} of {n} passed the SLOs (failed: {}); verdict differs from K=1 in {} of {n}{}",
                plan_name,
                n as f64 / secs * 60.0,
                p99 as f64 / base as f64,
                if failed.is_empty() { "none".to_string() } else { failed.join(", ") },
                differ.len(),
                if differ.is_empty() { String::new() } else { format!(" ({})", differ.join(", ")) }
            );
            rows.push(serde_json::json!({"backend": "container", "plan": plan_name, "k": k, "schedules": n, "seconds": secs, "per_minute": n as f64 / secs * 60.0, "change_p99_ms": p99, "passed": passed, "failed": failed, "verdict_differs_from_k1": differ}));
        }
        println!(
            "container {:<14} within 1.5x of K=1's p99: K={} (the largest is the default K the rule gives; this run's schedules only)",
            plan_name,
            within.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", K=")
        );
    }
    std::fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
    let path = out.join("bench.json");
    std::fs::write(&path, serde_json::to_string_pretty(&rows).expect("json")).map_err(|e| Error::io(&path, e))?;
    eprintln!("wrote {}", path.display());
    Ok(exit::OK)
}

/// Run one of the scripts in fixtures/localstack, passing its output through.
async fn run_script(name: &str, args: &[String]) -> Result<i32> {
    let script = repo_root().join("fixtures").join("localstack").join(name);
    if !script.exists() {
        return Err(Error::bad_input(format!("{} not found (hint: set DNSCHAOS_HOME to the repository root)", script.display())));
    }
    let mut child = tokio::process::Command::new("bash").arg(&script).args(args).kill_on_drop(true).spawn().map_err(|e| Error::io(&script, e))?;
    // Biased: the child's end is checked first, so a signal that races it does not kill a
    // script that already finished.
    let status = tokio::select! {
        biased;
        s = child.wait() => s.map_err(|e| Error::io(&script, e))?,
        _ = interrupted() => {
            let _ = child.kill().await;
            return Err(Error::Interrupted);
        }
    };
    if status.success() {
        Ok(exit::OK)
    } else {
        Err(Error::setup(format!("{} failed ({status})", script.display())))
    }
}
