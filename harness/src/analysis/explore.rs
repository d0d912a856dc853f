//! What an exploration found, as data: per implementation, schedules run, failures and their
//! rate (95% Wilson interval), failures sorted by signature, and how often the October race's
//! preconditions occurred; per finding, the schedule that showed it and, once shrunk, the
//! smallest plan that still does, with its reproduction rate. Pure: the explorer (`explore/`)
//! feeds it runs; `report::explore` renders it; `explore-merge` adds shards together.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::rate::Rate;
use super::signature::{describe, signature};
use crate::scenario::{FaultSpec, Metric};
use crate::summary::{EmptyWindow, ImplementationSummary};

pub const EXPLORE_SCHEMA_VERSION: u32 = 1;
pub const EXPLORE_JSON: &str = "explore.json";
pub const EXPLORE_HTML: &str = "explore.html";

/// The whole of an exploration (or of merged shards).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exploration {
    pub schema_version: u32,
    pub plan: String,
    pub plan_path: String,
    /// True when the schedules ran on the simulated backend: rates are then the simulation's,
    /// and a finding counts once `confirmation` says it reproduced on the real backend.
    pub simulated: bool,
    pub backend: String,
    /// Schedule `i` runs with seed `base_seed + i`.
    pub base_seed: u64,
    /// The shards this covers, as `I/N` (all of them after a merge); empty = unsharded.
    pub shards: Vec<String>,
    /// Wall time of the search (and of the shrinking), summed over shards.
    pub search_ms: u64,
    pub shrink_ms: u64,
    pub implementations: Vec<ImplRate>,
    pub findings: Vec<Finding>,
}

/// One implementation's record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImplRate {
    pub implementation: String,
    pub schedules: u64,
    pub failures: u64,
    /// Failing schedules per signature.
    pub signatures: BTreeMap<String, u64>,
    /// Schedules where some enactor flipped to a plan older than cleanup keeps.
    pub old_plan_flips: u64,
    /// Schedules where a cleanup deleted trees within a lease of another enactor's flip.
    pub cleanups_near_flip: u64,
    /// Schedules where both happened: the October race's preconditions met.
    pub preconditions_met: u64,
}

impl ImplRate {
    pub fn rate(&self) -> Rate {
        Rate::of(self.failures, self.schedules)
    }

    /// Count one run; returns its signature when it failed.
    pub fn add(&mut self, s: &ImplementationSummary) -> Option<String> {
        self.schedules += 1;
        let m = |k: Metric| s.metrics.get(&k).copied().flatten().unwrap_or(0);
        let (old, near) = (m(Metric::OldPlanFlips) > 0, m(Metric::CleanupsNearFlip) > 0);
        self.old_plan_flips += old as u64;
        self.cleanups_near_flip += near as u64;
        self.preconditions_met += (old && near) as u64;
        let sig = signature(s)?;
        self.failures += 1;
        *self.signatures.entry(sig.clone()).or_default() += 1;
        Some(sig)
    }

    fn merge(&mut self, o: &ImplRate) {
        self.schedules += o.schedules;
        self.failures += o.failures;
        for (k, v) in &o.signatures {
            *self.signatures.entry(k.clone()).or_default() += v;
        }
        self.old_plan_flips += o.old_plan_flips;
        self.cleanups_near_flip += o.cleanups_near_flip;
        self.preconditions_met += o.preconditions_met;
    }
}

/// One distinct failure (implementation x signature).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub implementation: String,
    pub signature: String,
    /// What broke in the first failing schedule, with its numbers.
    pub description: String,
    /// Failing schedules with this signature, and the first few of their seeds.
    pub count: u64,
    pub seeds: Vec<u64>,
    /// The first failing schedule: its faults, its empty windows, its run directory.
    pub faults: Vec<FaultSpec>,
    pub run_ms: u64,
    pub empty_windows: Vec<EmptyWindow>,
    pub run_dir: Option<String>,
    pub shrunk: Option<Shrunk>,
}

/// Seeds kept per finding (shrinking picks among them which schedule to shrink).
pub const SEEDS_KEPT: usize = 20;

impl Finding {
    pub fn first(seed: u64, s: &ImplementationSummary, sig: &str, faults: Vec<FaultSpec>, run_dir: Option<String>) -> Finding {
        Finding {
            implementation: s.implementation.clone(),
            signature: sig.to_string(),
            description: describe(s, sig),
            count: 1,
            seeds: vec![seed],
            faults,
            run_ms: s.run_ms,
            empty_windows: s.empty_windows.clone(),
            run_dir,
            shrunk: None,
        }
    }

    /// How many faults the shrunk schedule had as drawn (an exploration written before the
    /// drawn faults were kept shrank the finding's first schedule: its faults).
    pub fn drawn_count(&self) -> usize {
        match &self.shrunk {
            Some(s) if !s.drawn.is_empty() => s.drawn.len(),
            _ => self.faults.len(),
        }
    }

    pub fn again(&mut self, seed: u64) {
        self.count += 1;
        if self.seeds.len() < SEEDS_KEPT {
            self.seeds.push(seed);
        }
    }
}

/// A finding reduced to a smallest plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shrunk {
    /// Which of the finding's failing schedules was shrunk, and how often each showed it.
    #[serde(default)]
    pub picked: String,
    /// The picked schedule's faults as drawn, and what shrinking kept of them.
    #[serde(default)]
    pub drawn: Vec<FaultSpec>,
    /// The holds placed from a failing run's events (`explore::pin`) that delta debugging
    /// started from instead of the drawn faults, and who played which role in that run; empty
    /// when it started from the drawn faults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pinned: Vec<FaultSpec>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pinned_from: String,
    pub faults: Vec<FaultSpec>,
    /// The plan file written (`found/<impl>-<signature>.yaml`), and the command that replays it.
    pub plan_file: String,
    pub replay: String,
    /// Candidate plans tried and runs spent.
    pub candidates: u64,
    pub runs: u64,
    /// Runs of the shrunk plan (jitter seeds varied) that showed the signature.
    pub repro: Rate,
    /// Per kept fault: how often the signature appears without it.
    pub without: Vec<(String, Rate)>,
    /// Every one of those rates under 20%: dropping any fault makes the failure rare.
    #[serde(default)]
    pub one_minimal: bool,
    /// On the real backend, when asked: runs that showed the signature.
    pub confirmation: Option<Confirmation>,
}

/// A shrunk finding re-run on the real backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confirmation {
    pub backend: String,
    pub repro: Rate,
    /// `confirmed` (at least `CONFIRM_MIN` of the reruns) or `sim-only`.
    pub verdict: String,
    /// The simulated reproduction rate it is compared with, and whether the two 95% intervals
    /// overlap: where they do not, the simulated backend does not model what this schedule
    /// depends on, and its rate there says little about the real one.
    #[serde(default)]
    pub sim: Option<Rate>,
    #[serde(default = "agree_by_default")]
    pub agrees: bool,
}

fn agree_by_default() -> bool {
    true
}

impl Confirmation {
    /// Judge `repro`, the real backend's reruns, against the simulated rate `sim`.
    pub fn judge(backend: String, repro: Rate, sim: Rate) -> Confirmation {
        let verdict = if repro.k >= CONFIRM_MIN { "confirmed" } else { "sim-only" }.to_string();
        let agrees = repro.overlaps(&sim);
        Confirmation { backend, repro, verdict, sim: Some(sim), agrees }
    }

    /// One line: the verdict, the real rate, and the simulated one when they disagree.
    pub fn describe(&self) -> String {
        let mut line = format!("{} on {}: {}", self.verdict, self.backend, self.repro.describe());
        if let (false, Some(sim)) = (self.agrees, &self.sim) {
            line.push_str(&format!(" (sim {}: the intervals do not overlap, so sim does not model what this schedule depends on)", sim.describe()));
        }
        line
    }
}

/// Reruns on the real backend that must show the signature for a finding to count.
pub const CONFIRM_MIN: u64 = 2;

impl Exploration {
    /// Does any implementation have a finding? (exit code 1)
    pub fn found(&self) -> bool {
        !self.findings.is_empty()
    }

    /// Join shards (or repeated explorations of one plan): rates add, findings of one
    /// implementation and signature join (the first one's schedule and shrink kept).
    pub fn merge(parts: Vec<Exploration>) -> Option<Exploration> {
        let mut it = parts.into_iter();
        let mut all = it.next()?;
        for p in it {
            all.simulated |= p.simulated;
            all.shards.extend(p.shards);
            all.search_ms += p.search_ms;
            all.shrink_ms += p.shrink_ms;
            for r in &p.implementations {
                match all.implementations.iter_mut().find(|x| x.implementation == r.implementation) {
                    Some(x) => x.merge(r),
                    None => all.implementations.push(r.clone()),
                }
            }
            for f in p.findings {
                match all.findings.iter_mut().find(|x| x.implementation == f.implementation && x.signature == f.signature) {
                    Some(x) => {
                        x.count += f.count;
                        x.seeds.extend(f.seeds);
                        x.seeds.sort_unstable();
                        x.seeds.dedup();
                        x.seeds.truncate(SEEDS_KEPT);
                        if x.shrunk.is_none() {
                            x.shrunk = f.shrunk;
                        }
                    }
                    None => all.findings.push(f),
                }
            }
        }
        all.shards.sort();
        all.implementations.sort_by(|a, b| a.implementation.cmp(&b.implementation));
        all.findings.sort_by(|a, b| (&a.implementation, &a.signature).cmp(&(&b.implementation, &b.signature)));
        Some(all)
    }

    /// The table printed at the end: one line per implementation.
    pub fn table(&self) -> String {
        let mut out = format!("{:<13} {:>9}  {:<34} {:>14}  signatures\n", "implementation", "schedules", "failure rate [95% Wilson]", "preconditions");
        for r in &self.implementations {
            let sigs: Vec<String> = r.signatures.iter().map(|(k, v)| format!("{k} x{v}")).collect();
            out.push_str(&format!(
                "{:<13} {:>9}  {:<34} {:>14}  {}\n",
                r.implementation,
                r.schedules,
                r.rate().describe(),
                format!("{}/{}", r.preconditions_met, r.schedules),
                if sigs.is_empty() { "-".into() } else { sigs.join(", ") }
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(shard: &str, n: u64, k: u64, sig: &str, seed: u64) -> Exploration {
        let mut r = ImplRate { implementation: "legacy".into(), schedules: n, failures: k, ..Default::default() };
        if k > 0 {
            r.signatures.insert(sig.into(), k);
        }
        let findings = (k > 0)
            .then(|| Finding {
                implementation: "legacy".into(),
                signature: sig.into(),
                description: String::new(),
                count: k,
                seeds: vec![seed],
                faults: vec![],
                run_ms: 0,
                empty_windows: vec![],
                run_dir: None,
                shrunk: None,
            })
            .into_iter()
            .collect();
        Exploration {
            schema_version: EXPLORE_SCHEMA_VERSION,
            plan: "p".into(),
            plan_path: "p.yaml".into(),
            simulated: true,
            backend: "sim".into(),
            base_seed: 1,
            shards: vec![shard.into()],
            search_ms: 10,
            shrink_ms: 0,
            implementations: vec![r],
            findings,
        }
    }

    #[test]
    fn shards_merge_into_one_rate_and_one_finding_per_signature() {
        let all = Exploration::merge(vec![part("0/3", 10, 2, "flip-back", 4), part("1/3", 10, 0, "", 0), part("2/3", 10, 1, "flip-back", 2)]).unwrap();
        assert_eq!(all.shards, ["0/3", "1/3", "2/3"]);
        assert_eq!(all.implementations.len(), 1);
        assert_eq!((all.implementations[0].schedules, all.implementations[0].failures), (30, 3));
        assert_eq!(all.implementations[0].signatures["flip-back"], 3);
        assert_eq!(all.findings.len(), 1);
        assert_eq!((all.findings[0].count, all.findings[0].seeds.clone()), (3, vec![2, 4]));
        assert_eq!(all.search_ms, 30);
        assert!(all.found());
        assert!(!Exploration::merge(vec![part("0/1", 5, 0, "", 0)]).unwrap().found());
    }

    #[test]
    fn a_confirmation_says_when_sim_and_the_real_backend_disagree() {
        // Legacy's 3-fault finding of 2026-12-05: 8/10 on sim, 1/10 on LocalStack.
        let c = Confirmation::judge("container".into(), Rate::of(1, 10), Rate::of(8, 10));
        assert_eq!(c.verdict, "sim-only");
        assert!(!c.agrees);
        assert!(c.describe().contains("do not overlap"), "{}", c.describe());
        let c = Confirmation::judge("container".into(), Rate::of(6, 10), Rate::of(8, 10));
        assert_eq!(c.verdict, "confirmed");
        assert!(c.agrees);
        assert!(!c.describe().contains("overlap"));
        // An explore.json written before the comparison reads as agreeing.
        let old: Confirmation = serde_json::from_str(r#"{"backend":"container","repro":{"k":3,"n":10,"low":0.1,"high":0.6},"verdict":"confirmed"}"#).unwrap();
        assert!(old.agrees && old.sim.is_none());
    }
}
