//! The `dnschaos` commands: each parses nothing (that is `cli`), runs, prints, and returns the
//! documented exit code. `main.rs` only parses and maps errors to exit codes.

pub mod cli;
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
        Command::Validate { plans } => Ok(validate(&plans)),
        Command::Run(args) => run(args).await,
        Command::Sweep(args) => sweep(args).await,
        Command::Enactor(args) => {
            let mut spec: crate::enactor::subprocess::ChildSpec = serde_json::from_str(&args.spec)
                .map_err(|e| Error::bad_input(format!("--spec is not a valid enactor spec: {e}")))?;
            spec.implementation = args.implementation;
            spec.az = args.az;
            crate::enactor::subprocess::run_child(spec).await?;
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
    let mut written = vec![summary.write(dir)?];
    written.extend(crate::report::write_all(summary, dir)?);
    Ok(written)
}

fn validate(plans: &[PathBuf]) -> i32 {
    let mut bad = 0;
    for p in plans {
        match crate::scenario::load(p) {
            Ok(l) => println!("{}: ok ({}, {} faults, {} s)", p.display(), l.plan.name, l.plan.faults.len(), l.plan.duration.0.as_secs()),
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

async fn run(args: cli::RunArgs) -> Result<i32> {
    let loaded = crate::scenario::load(&args.plan)?;
    let seed = args.seed.unwrap_or(loaded.plan.seed);
    let mut config = args.backend.config(&format!("run-{}", loaded.plan.name));
    if args.backend.out.is_none() {
        config.run_dir = cli::default_run_dir(&format!("run-{}-seed{seed}", loaded.plan.name));
    }
    let out = config.run_dir.clone();
    let request = RunRequest::new(loaded, &out).seed(seed).implementations(&args.enactors).conformance(!args.no_conformance);
    let replay = request.replay();
    eprintln!("seed {seed}; replay with: {replay}");
    eprintln!("output: {}", out.display());
    // Faulted part + settle + about 8 s of set-up and tear-down, per implementation.
    let plan = &request.plan.plan;
    let per_impl = plan.duration.ms() + plan.slo.converge_within.ms() + 8_000;
    let total_ms = per_impl * request.implementations.len() as u64;
    let summary = with_backend(&config, move |session| async move {
        let bar = progress::Progress::new(total_ms);
        let summary = Runner::new(session.backend.clone(), session.r53.clone()).run(&request, &bar).await;
        bar.finish();
        summary
    })
    .await?;
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

async fn sweep(args: cli::SweepArgs) -> Result<i32> {
    let loaded = crate::scenario::load(&args.plan)?;
    let seeds = cli::parse_seeds(&args.seeds)
        .ok_or_else(|| Error::bad_input(format!("--seeds {:?} is not a range or list (hint: 1-20 or 1,5,9)", args.seeds)))?;
    let config = args.backend.config(&format!("sweep-{}", loaded.plan.name));
    let out = config.run_dir.clone();
    let enactors = args.enactors.clone();
    let rows = with_backend(&config, move |session| async move {
        let runner = Runner::new(session.backend.clone(), session.r53.clone());
        let mut rows = Vec::new();
        for seed in seeds {
            let dir = out.join(format!("seed-{seed}"));
            let request = RunRequest::new(loaded.clone(), &dir).seed(seed).implementations(&enactors).conformance(true);
            let quiet = |_: &str| {};
            let summary = runner.run(&request, &quiet).await?;
            write_outputs(&summary, &dir)?;
            for e in &summary.enactors {
                eprintln!(
                    "seed {seed:>4} {:<13} {} reproduced={} empty={} ms recovery={}",
                    e.implementation,
                    if e.verdict.passed { "pass" } else { "FAIL" },
                    e.reproduced_october_2025,
                    e.total_empty_ms,
                    e.time_to_recovery_ms.map(|t| format!("{t} ms")).unwrap_or_else(|| "never".into())
                );
                rows.push((seed, e.implementation.clone(), e.verdict.passed, e.reproduced_october_2025));
            }
        }
        Ok(rows)
    })
    .await?;
    let mut impls: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
    impls.dedup();
    println!("{:<13} {:>6} {:>6} {:>12}", "implementation", "seeds", "passed", "reproduced");
    for i in impls {
        let mine: Vec<_> = rows.iter().filter(|r| r.1 == i).collect();
        println!("{:<13} {:>6} {:>6} {:>12}", i, mine.len(), mine.iter().filter(|r| r.2).count(), mine.iter().filter(|r| r.3).count());
    }
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
