//! Do the simulated backend and LocalStack agree? For every (plan, implementation) found in two
//! folders of run summaries, the SLO-failure rate on each side with its 95% Wilson interval, and
//! whether the intervals overlap.
//!
//! ```sh
//! # LocalStack: the chaos suite's sweep mode (or `dnschaos sweep ... --backend container`)
//! DNSCHAOS_SEEDS=1-20 DNSCHAOS_CHAOS_OUT=/tmp/ls cargo test --test chaos
//! # Simulation: the same seeds per plan
//! for p in steady-state october-2025-replay az-loss api-latency throttling; do
//!   cargo run --release -- sweep chaos-plans/$p.yaml --backend sim --seeds 1-20 --parallel 2 --out /tmp/sim/$p
//! done
//! cargo run --release --example agreement -- /tmp/ls /tmp/sim
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dnschaos::analysis::rate::Rate;
use dnschaos::summary::Summary;

fn summaries(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            summaries(&p, out);
        } else if p.file_name().is_some_and(|n| n == "summary.json") {
            out.push(p);
        }
    }
}

/// (plan, implementation) -> (failed, runs).
fn rates(dir: &Path) -> BTreeMap<(String, String), (u64, u64)> {
    let mut files = Vec::new();
    summaries(dir, &mut files);
    let mut out: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for f in files {
        let Ok((_, s)) = Summary::load(&f) else { continue };
        for e in &s.enactors {
            let r = out.entry((s.plan.name.clone(), e.implementation.clone())).or_default();
            r.0 += !e.verdict.passed as u64;
            r.1 += 1;
        }
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [real, sim] = args.as_slice() else {
        eprintln!("usage: agreement REAL_DIR SIM_DIR (hint: folders holding run summaries, searched recursively)");
        std::process::exit(2);
    };
    let (real, sim) = (rates(Path::new(real)), rates(Path::new(sim)));
    let mut disagree = 0;
    println!("{:<14} {:<13} {:<30} {:<30} overlap", "plan", "implementation", "LocalStack SLO failures", "sim SLO failures");
    for (key, (rf, rn)) in &real {
        let Some((sf, sn)) = sim.get(key) else {
            println!("{:<14} {:<13} {:<30} {:<30} n/a", key.0, key.1, Rate::of(*rf, *rn).describe(), "not run on sim");
            continue;
        };
        let (r, s) = (Rate::of(*rf, *rn), Rate::of(*sf, *sn));
        let ok = r.overlaps(&s);
        disagree += !ok as u32;
        println!("{:<14} {:<13} {:<30} {:<30} {}", key.0, key.1, r.describe(), s.describe(), if ok { "yes" } else { "NO" });
    }
    println!("{disagree} row(s) where the intervals do not overlap");
}
