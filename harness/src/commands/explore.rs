//! `dnschaos explore` and `dnschaos explore-merge`.

use crate::analysis::explore::Exploration;
use crate::backend::{BackendConfig, BackendKind};
use crate::error::{exit, Error, Result};
use crate::explore::shrink::{confirm, shrink_all};
use crate::explore::{Engine, Limit, Search};
use crate::runner::Runner;
use crate::session::with_backend;

use super::cli::{self, ExploreArgs, ExploreMergeArgs};

/// Schedules run when neither --schedules nor --budget is given.
const DEFAULT_SCHEDULES: u64 = 200;

pub async fn explore(mut args: ExploreArgs) -> Result<i32> {
    args.enactors = cli::resolve_enactors(&args.enactors, &args.enactor_cmds);
    let loaded = crate::scenario::load(&args.plan)?;
    if loaded.plan.nemesis.is_none() {
        return Err(Error::bad_input(format!(
            "{}: the plan has no nemesis: section, so every schedule would be the same (hint: add one, see chaos-plans/explore-enactors.yaml)",
            args.plan.display()
        )));
    }
    let confirm_on = match args.confirm_on.as_str() {
        "auto" => Some(BackendKind::Auto),
        "container" => Some(BackendKind::Container),
        "process" => Some(BackendKind::Process),
        "none" => None,
        other => return Err(Error::bad_input(format!("--confirm-on {other:?} (hint: auto, container, process or none)"))),
    };
    let seed = args.seed.unwrap_or(loaded.plan.seed);
    let simulated = args.backend.backend == BackendKind::Sim;
    if simulated {
        crate::scenario::check_simulable(&loaded)?;
    }
    let mut config = args.backend.config(&format!("explore-{}", loaded.plan.name));
    if args.backend.out.is_none() {
        config.run_dir = cli::default_run_dir(&format!("explore-{}-seed{seed}", loaded.plan.name));
    }
    let out = config.run_dir.clone();
    let implementations = if args.enactors.is_empty() { loaded.plan.enactors.implementations.clone() } else { args.enactors.clone() };
    crate::scenario::check_enactors(&loaded, &implementations, simulated)?;
    let limit = match (args.schedules, args.budget) {
        (Some(n), _) => Limit::Schedules(n),
        (None, Some(b)) => Limit::Budget(b),
        (None, None) => Limit::Schedules(DEFAULT_SCHEDULES),
    };
    let search = Search {
        plan: loaded,
        implementations,
        base_seed: seed,
        limit,
        shard: args.shard,
        out: out.clone(),
        sabotage_fenced: cfg!(feature = "sabotage-fenced"),
    };
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    eprintln!(
        "exploring {} on {} ({}), schedules from seed {seed}{}; output: {}",
        search.plan.plan.name,
        if simulated { "sim" } else { "the real backend" },
        match limit {
            Limit::Schedules(n) => format!("{n} schedules"),
            Limit::Budget(b) => format!("for {}", humantime::format_duration(b)),
        },
        args.shard.map(|(i, n)| format!(", shard {i}/{n}")).unwrap_or_default(),
        out.display()
    );
    let (k, shrink) = (args.confirm, !args.no_shrink);
    let mut x = if simulated {
        let engine = Engine::Sim { threads: args.parallel.unwrap_or(cores) };
        let say = |l: &str| eprintln!("{l}");
        let mut x = search.run(&engine, &say).await?;
        if shrink {
            shrink_all(&engine, &search, &mut x, k, &say).await?;
        }
        x
    } else {
        let parallel = args.parallel.unwrap_or(cli::DEFAULT_WORLDS);
        with_backend(&config, move |session| async move {
            let runner = Runner::new(session.backend.clone(), session.r53.clone());
            let engine = Engine::Real { runner: &runner, k: parallel };
            let say = |l: &str| eprintln!("{l}");
            let mut x = search.run(&engine, &say).await?;
            if shrink {
                shrink_all(&engine, &search, &mut x, k, &say).await?;
            }
            Ok(x)
        })
        .await?
    };
    if simulated && shrink && x.found() {
        if let Some(kind) = confirm_on {
            x = confirm_all(x, BackendConfig { kind, ..args.backend.config("explore-confirm") }, &out).await?;
        }
    }
    crate::report::explore::write(&x, &out)?;
    print(&x, &out);
    Ok(if x.found() { exit::VIOLATED } else { exit::OK })
}

/// Re-run every shrunk simulated finding on a real backend.
async fn confirm_all(mut x: Exploration, mut config: BackendConfig, out: &std::path::Path) -> Result<Exploration> {
    config.run_dir = out.join("confirm");
    let out = out.to_path_buf();
    with_backend(&config, move |session| async move {
        let runner = Runner::new(session.backend.clone(), session.r53.clone());
        let engine = Engine::Real { runner: &runner, k: 2 };
        for f in &mut x.findings {
            let Some(s) = &mut f.shrunk else { continue };
            let plan = crate::scenario::load(&out.join(&s.plan_file))?;
            let kind = crate::explore::kind_of(&f.implementation)?;
            eprintln!("confirming {} {} on {} ({} reruns)", f.implementation, f.signature, engine.backend_name(), crate::explore::shrink::CONFIRM_RUNS);
            let c = confirm(&engine, &plan, kind, &f.signature, s.repro, &out.join("confirm")).await?;
            eprintln!("  {}", c.describe());
            s.confirmation = Some(c);
        }
        Ok(x)
    })
    .await
}

fn print(x: &Exploration, out: &std::path::Path) {
    println!("{}", x.table());
    for f in &x.findings {
        println!("finding: {} {}: {} ({} schedule(s), first seeds {:?})", f.implementation, f.signature, f.description, f.count, f.seeds);
        if let Some(s) = &f.shrunk {
            if !s.picked.is_empty() {
                println!("  picked the {}", s.picked);
            }
            if !s.pinned.is_empty() {
                println!("  pinned {} hold(s) from a failing run's events (not drawn): {}", s.pinned.len(), s.pinned_from);
            }
            println!(
                "  shrunk {} -> {} fault(s); reproduces {}{}",
                f.drawn_count(),
                s.faults.len(),
                s.repro.describe(),
                s.confirmation.as_ref().map(|c| format!("; {}", c.describe())).unwrap_or_default()
            );
            println!("  replay: {}", s.replay);
        }
    }
    println!("explore: {}", out.join(crate::analysis::explore::EXPLORE_HTML).display());
}

pub fn merge(args: &ExploreMergeArgs) -> Result<i32> {
    let parts = args.dirs.iter().map(|d| crate::report::explore::read(d)).collect::<Result<Vec<_>>>()?;
    let plans: std::collections::BTreeSet<&str> = parts.iter().map(|p| p.plan.as_str()).collect();
    if plans.len() > 1 {
        return Err(Error::bad_input(format!("the explorations are of different plans: {plans:?} (hint: merge shards of one plan)")));
    }
    let x = Exploration::merge(parts).ok_or_else(|| Error::bad_input("nothing to merge"))?;
    crate::report::explore::write(&x, &args.out)?;
    print(&x, &args.out);
    Ok(if x.found() { exit::VIOLATED } else { exit::OK })
}
