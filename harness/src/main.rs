//! The `dnschaos` binary: parse, run, map errors to documented exit codes.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use cli::{BackendCommand, Cli, Command};
use dnschaos::paths::repo_root;
use dnschaos::error::{exit, Error, Result};
use dnschaos::session::{interrupted, with_backend};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit::BAD_INPUT } else { exit::OK };
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("dnschaos=info,warn")),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let code = match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    };
    ExitCode::from(code as u8)
}

async fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Conformance(args) => conformance(args).await,
        Command::Report(args) => dnschaos::report::run(&args),
        Command::Baseline(cmd) => dnschaos::report::baseline::run(&cmd),
        Command::ReportIndex(args) => dnschaos::report::index::run(&args),
        Command::Validate { plans } => {
            let mut bad = 0;
            for p in &plans {
                match dnschaos::scenario::load(p) {
                    Ok(l) => println!("{}: ok ({}, {} faults, {} s)", p.display(), l.plan.name, l.plan.faults.len(), l.plan.duration.0.as_secs()),
                    Err(e) => {
                        eprintln!("error: {e}");
                        bad += 1;
                    }
                }
            }
            Ok(if bad == 0 { exit::OK } else { exit::BAD_INPUT })
        }
        Command::Run(args) => run_plan(args).await,
        Command::Sweep(args) => sweep(args).await,
        Command::Enactor(args) => {
            let mut spec: dnschaos::enactor::subprocess::ChildSpec = serde_json::from_str(&args.spec)
                .map_err(|e| Error::bad_input(format!("--spec is not a valid enactor spec: {e}")))?;
            spec.implementation = args.implementation;
            spec.az = args.az;
            dnschaos::enactor::subprocess::run_child(spec).await?;
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

async fn conformance(args: cli::ConformanceArgs) -> Result<i32> {
    let config = args.backend.config("conformance");
    let run_dir = config.run_dir.clone();
    let report = with_backend(&config, |session| async move {
        dnschaos::conformance::run(&session.r53, session.backend.info(), false).await
    })
    .await?;
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

async fn run_plan(args: cli::RunArgs) -> Result<i32> {
    let loaded = dnschaos::scenario::load(&args.plan)?;
    let seed = args.seed.unwrap_or(loaded.plan.seed);
    let implementations = if args.enactors.is_empty() { loaded.plan.enactors.implementations.clone() } else { args.enactors.clone() };
    let mut config = args.backend.config(&format!("run-{}", loaded.plan.name));
    if args.backend.out.is_none() {
        config.run_dir = cli::default_run_dir(&format!("run-{}-seed{seed}", loaded.plan.name));
    }
    let out = config.run_dir.clone();
    let impls: Vec<&str> = implementations.iter().map(|k| k.as_str()).collect();
    let replay = format!("dnschaos run {} --enactor {} --seed {seed}", args.plan.display(), impls.join(","));
    eprintln!("seed {seed}; replay with: {replay}");
    eprintln!("output: {}", out.display());
    let request = dnschaos::runner::RunRequest {
        plan: loaded,
        implementations,
        seed,
        out: out.clone(),
        replay: replay.clone(),
        bin: std::env::current_exe().map_err(|e| Error::setup(format!("cannot find the dnschaos binary: {e}")))?,
    };
    let check_conformance = !args.no_conformance;
    // Faulted part + settle + about 8 s of set-up and tear-down, per implementation.
    let per_impl = request.plan.plan.duration.ms() + request.plan.plan.slo.converge_within.ms() + 8_000;
    let total_ms = per_impl * request.implementations.len() as u64;
    let summary = with_backend(&config, move |session| async move {
        let mut backend_json = serde_json::to_value(session.backend.info()).unwrap_or_default();
        if check_conformance {
            let report = dnschaos::conformance::run(&session.r53, session.backend.info(), false).await?;
            backend_json["conformance"] = serde_json::to_value(&report).unwrap_or_default();
            // And through the strict gateway the enactors will use.
            if let Some(gw) = dnschaos::runner::start_gateway(session.backend.info(), &request.plan.plan, request.seed).await? {
                let (r53, info) = dnschaos::runner::client_via(&session.r53, session.backend.info(), &gw, "conformance").await?;
                let report = dnschaos::conformance::run(&r53, &info, true).await?;
                backend_json["conformance_through_gateway"] = serde_json::to_value(&report).unwrap_or_default();
                gw.shutdown().await;
            }
        }
        let bar = BarObserver(dnschaos::report::Progress::new(total_ms));
        let summary = dnschaos::runner::run(session.backend.clone(), session.r53.clone(), &request, backend_json, &bar).await;
        bar.0.finish();
        summary
    })
    .await?;
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
    println!("summary: {}", out.join("summary.json").display());
    println!("report:  {}", out.join("report.html").display());
    if summary.passed {
        Ok(exit::OK)
    } else {
        eprintln!("note: rerun with --seed {seed}: {replay}");
        Ok(exit::VIOLATED)
    }
}

/// The run's progress on an indicatif bar (or plain lines when stderr is not a terminal).
struct BarObserver(dnschaos::report::Progress);

impl dnschaos::runner::Observer for BarObserver {
    fn phase(&self, line: &str) {
        self.0.phase(line);
    }

    fn probes(&self, total: u64) {
        self.0.set_probes(total);
    }

    fn verdict(&self, line: &str) {
        self.0.set_verdict(line);
    }
}

async fn sweep(args: cli::SweepArgs) -> Result<i32> {
    let loaded = dnschaos::scenario::load(&args.plan)?;
    let seeds = cli::parse_seeds(&args.seeds)
        .ok_or_else(|| Error::bad_input(format!("--seeds {:?} is not a range or list (hint: 1-20 or 1,5,9)", args.seeds)))?;
    let implementations = if args.enactors.is_empty() { loaded.plan.enactors.implementations.clone() } else { args.enactors.clone() };
    let config = args.backend.config(&format!("sweep-{}", loaded.plan.name));
    let out = config.run_dir.clone();
    let bin = std::env::current_exe().map_err(|e| Error::setup(format!("cannot find the dnschaos binary: {e}")))?;
    let plan_path = args.plan.clone();
    let rows = with_backend(&config, move |session| async move {
        let mut rows = Vec::new();
        for seed in seeds {
            let impls: Vec<&str> = implementations.iter().map(|k| k.as_str()).collect();
            let request = dnschaos::runner::RunRequest {
                plan: loaded.clone(),
                implementations: implementations.clone(),
                seed,
                out: out.join(format!("seed-{seed}")),
                replay: format!("dnschaos run {} --enactor {} --seed {seed}", plan_path.display(), impls.join(",")),
                bin: bin.clone(),
            };
            let backend_json = serde_json::to_value(session.backend.info()).unwrap_or_default();
            let quiet = |_: &str| {};
            let summary = dnschaos::runner::run(session.backend.clone(), session.r53.clone(), &request, backend_json, &quiet).await?;
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
        println!(
            "{:<13} {:>6} {:>6} {:>12}",
            i,
            mine.len(),
            mine.iter().filter(|r| r.2).count(),
            mine.iter().filter(|r| r.3).count()
        );
    }
    Ok(exit::OK)
}

/// Run one of the scripts in fixtures/localstack, passing its output through.
async fn run_script(name: &str, args: &[String]) -> Result<i32> {
    let script = repo_root().join("fixtures").join("localstack").join(name);
    if !script.exists() {
        return Err(Error::bad_input(format!(
            "{} not found (hint: set DNSCHAOS_HOME to the repository root)",
            script.display()
        )));
    }
    let mut child = tokio::process::Command::new("bash")
        .arg(&script)
        .args(args)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Error::io(&script, e))?;
    let status = tokio::select! {
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
