//! Shrinking a finding to a smallest plan that still shows it.
//!
//! A candidate is a list of faults; it *shows* the finding when at least two thirds of `k`
//! runs (the schedule seed fixed, so the planner's stream is the same; the jitter seed fresh for
//! every candidate, so a lucky interleaving does not count) fail with the same signature, and
//! again over `k` more fresh timings. One batch alone lets rare schedules through: delta
//! debugging tries dozens of candidates, and one that fails 40% of the time passes 7 of 10 one
//! time in 18 (both batches one time in 330), so a single batch shrank a schedule that forced
//! the finding 7 times in 10 to one that showed it 4 times in 10. The steps:
//!
//! 0. for a deleted active tree, pinning first (`pin.rs`): the holds read off one failing run
//!    of the schedule replace its drawn faults when they show the finding over two batches;
//!    delta debugging (step 2) then runs over the holds, and step 3 does not shorten them;
//!    otherwise the whole schedule must show it, over one batch (else it is not
//!    delta-debugged; only step 4 may drop faults from it);
//! 1. no faults at all (some designs fail without help);
//! 2. delta debugging (ddmin) over the fault list: drop halves, then smaller chunks;
//! 3. simplify each kept fault: halve its duration while it still shows, move its start to a
//!    round second, coarsen its values (one significant digit of latency, no jitter, every
//!    call rather than a probability, whole multipliers);
//! 4. 1-minimality: without each kept fault, over `MINIMAL_RUNS` jitter seeds, the signature
//!    must be rare (under `MINIMAL_RATE`). A fault without which the rest still shows the
//!    finding (two thirds) is dropped and the check starts over; one without which the rate
//!    falls, but not below `MINIMAL_RATE`, is kept and the plan reported as not 1-minimal
//!    (the design fails that often without it: a base rate, not a fault's doing);
//! 5. the reproduction rate over `REPRO_RUNS` jitter seeds, with its Wilson interval.
//!
//! The result is written as an ordinary chaos plan (`found/<impl>-<signature>.yaml`) whose
//! header says what it shows, how often, on which backend, and how to replay it.

use std::path::{Path, PathBuf};

use crate::analysis::explore::{Confirmation, Finding, Shrunk};
use crate::analysis::rate::Rate;
use crate::analysis::signature::signature;
use crate::enactor::EnactorKind;
use crate::error::{Error, Result};
use crate::runner::RunRequest;
use crate::scenario::{ChaosPlan, Dur, FaultSpec, LoadedPlan};

use super::{pin, Engine};

/// Runs without one fault over which the signature must be rare.
pub const MINIMAL_RUNS: u64 = 20;
/// ... rarer than this share.
pub const MINIMAL_RATE: f64 = 0.2;
/// Runs of the shrunk plan that give its reproduction rate.
pub const REPRO_RUNS: u64 = 10;
/// Reruns on the real backend.
pub const CONFIRM_RUNS: u64 = 10;
/// Reruns of each kept failing schedule of a finding, to pick the one to shrink.
pub const PICK_RUNS: u64 = 10;
/// Shortest duration halving goes down to.
const SHORTEST_MS: u64 = 100;

/// What shrinking left: the faults, the signature's rate without each, the reproduction rate.
pub struct Reduced {
    /// The schedule that was shrunk, as drawn.
    pub drawn: Vec<FaultSpec>,
    /// How it was picked among the finding's failing schedules, one line.
    pub picked: String,
    /// The holds that pinned its interleaving, when delta debugging started from them.
    pub pinned: Option<Pinned>,
    pub faults: Vec<FaultSpec>,
    pub without: Vec<(String, Rate)>,
    pub repro: Rate,
}

/// Holds read off a failing run's trace (`pin`) that show the finding.
#[derive(Debug, Clone)]
pub struct Pinned {
    pub holds: Vec<FaultSpec>,
    /// Who played which role in the failing run, one line.
    pub from: String,
}

/// One finding being shrunk.
pub struct Shrinker<'a> {
    pub engine: &'a Engine<'a>,
    /// The concrete plan of the failing schedule (faults drawn, no nemesis).
    pub plan: ChaosPlan,
    pub path: PathBuf,
    pub kind: EnactorKind,
    pub signature: String,
    /// The schedule seed (the planner's stream); jitter seeds are derived from it.
    pub seed: u64,
    /// Runs per candidate.
    pub k: u64,
    pub sabotage_fenced: bool,
    /// Scratch folder for the candidates' runs (removed as they finish).
    pub scratch: PathBuf,
    candidates: u64,
    runs: u64,
}

impl<'a> Shrinker<'a> {
    /// A shrinker of finding `f` of `search`: its first failing schedule, drawn again. Creates
    /// the scratch folder its candidates run in (`shrink_all` removes it at the end).
    pub fn new(engine: &'a Engine<'a>, search: &super::Search, f: &Finding, k: u64) -> Result<Self> {
        let seed = f.seeds[0];
        let scratch = search.out.join("shrink-scratch").join(format!("{}-{}", f.implementation, f.signature));
        std::fs::create_dir_all(&scratch).map_err(|e| Error::io(&scratch, e))?;
        Ok(Shrinker {
            engine,
            plan: search.plan.plan.draw(seed),
            path: search.plan.path.clone(),
            kind: super::kind_of(&f.implementation)?,
            signature: f.signature.clone(),
            seed,
            k: k.max(1),
            sabotage_fenced: search.sabotage_fenced,
            scratch,
            candidates: 0,
            runs: 0,
        })
    }

    /// The jitter seed of rerun `r` of the current candidate: fresh for every candidate, so
    /// that delta debugging cannot pick a subset that happens to fail on a few fixed timings
    /// (on sim a jitter seed repeats exactly).
    fn jitter(&self, r: u64) -> u64 {
        crate::seeds::mix(&[self.seed, self.candidates, r])
    }

    /// The plan with these faults.
    pub fn plan_with(&self, faults: &[FaultSpec]) -> ChaosPlan {
        let mut p = self.plan.clone();
        p.faults = faults.to_vec();
        p.seed = self.seed;
        p
    }

    /// The reruns `rs` of `faults` (folders `c<candidate>-<tag><r>` in the scratch folder).
    fn reruns(&mut self, faults: &[FaultSpec], rs: std::ops::Range<u64>, tag: &str) -> Vec<RunRequest> {
        let loaded = LoadedPlan { path: self.path.clone(), plan: self.plan_with(faults) };
        self.runs += rs.end - rs.start;
        let c = self.candidates;
        rs.map(|r| {
            RunRequest::new(loaded.clone(), self.scratch.join(format!("c{c}-{tag}{r}")))
                .seed(self.seed)
                .jitter_seed(Some(self.jitter(r)))
                .implementations(&[self.kind])
                .sabotage_fenced(self.sabotage_fenced)
        })
        .collect()
    }

    /// How many of the reruns `rs` of `faults` fail with the signature.
    async fn count(&mut self, faults: &[FaultSpec], rs: std::ops::Range<u64>) -> Result<u64> {
        let reqs = self.reruns(faults, rs, "r");
        hits(self.engine, reqs, &self.signature).await
    }

    /// Does this candidate show the finding (at least two thirds of `k` runs, twice)?
    async fn shows(&mut self, faults: &[FaultSpec]) -> Result<bool> {
        self.shows_in(faults, 2).await
    }

    /// ... over `batches` batches of `k` runs, each of which must show it.
    async fn shows_in(&mut self, faults: &[FaultSpec], batches: u64) -> Result<bool> {
        self.candidates += 1;
        for batch in 0..batches {
            let hits = self.count(faults, batch * self.k..(batch + 1) * self.k).await?;
            if hits * 3 < self.k * 2 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Of the failing schedules `seeds` (a finding's kept seeds), pick the one that shows the
    /// signature most often over [`PICK_RUNS`] fresh timings (the earliest on a tie), and make it
    /// the one to shrink: a schedule that fails one time in five can only shrink to a plan that
    /// fails about as rarely, while another schedule of the same finding may force it. Returns
    /// its faults and a line saying what was picked.
    pub async fn pick(&mut self, search: &super::Search, seeds: &[u64], say: &(dyn Fn(&str) + Sync)) -> Result<(Vec<FaultSpec>, String)> {
        let mut tried = Vec::new();
        let mut best: Option<(u64, u64)> = None;
        for &seed in seeds {
            self.seed = seed;
            self.plan = search.plan.plan.draw(seed);
            self.candidates += 1;
            let faults = self.plan.faults.clone();
            let hits = self.count(&faults, 0..PICK_RUNS).await?;
            tried.push(format!("seed {seed} {hits}/{PICK_RUNS}"));
            if best.is_none_or(|(h, _)| hits > h) {
                best = Some((hits, seed));
            }
            if hits == PICK_RUNS {
                break;
            }
        }
        let (hits, seed) = best.ok_or_else(|| Error::setup("a finding without a failing schedule"))?;
        self.seed = seed;
        self.plan = search.plan.plan.draw(seed);
        let line = format!("schedule seed {seed} of the first {} failing ({}{}): shows it {hits}/{PICK_RUNS}", seeds.len(), tried.join(", "), if tried.len() < seeds.len() { "; stopped at the first that showed it every time" } else { "" });
        say(&format!("shrink {}/{}: picked {line}", self.kind.as_str(), self.signature));
        Ok((self.plan.faults.clone(), line))
    }

    /// Pin the current schedule's interleaving (see `pin`): rerun it until a run fails with
    /// the signature, read the roles off that run's events, and place the holds. `Some` when the
    /// holds show the finding as any candidate must (two thirds, twice); `None` for signatures
    /// other than a deleted active tree, and when no rerun failed, the roles cannot be read,
    /// the holds do not fit in the plan or do not show it.
    pub async fn pin(&mut self, say: &(dyn Fn(&str) + Sync)) -> Result<Option<Pinned>> {
        if !self.signature.starts_with("active-deleted") {
            return Ok(None);
        }
        let name = format!("shrink {}/{}", self.kind.as_str(), self.signature);
        let Some(events) = self.witness().await? else {
            say(&format!("{name}: not pinned: none of {PICK_RUNS} reruns of schedule seed {} failed with it", self.seed));
            return Ok(None);
        };
        let Some(roles) = pin::roles(&events) else {
            say(&format!("{name}: not pinned: the failing run's events show no enactor deleting another's active plan"));
            return Ok(None);
        };
        let keep = self.plan.enactors.cleanup_keep.unwrap_or(crate::enactor::Tuning::default().cleanup_keep);
        let Some(holds) = pin::holds(&roles, &self.plan, keep) else {
            say(&format!("{name}: not pinned: the holds for {} do not fit in the plan's {} ms", roles.describe(), self.plan.duration.ms()));
            return Ok(None);
        };
        if !self.shows_in(&holds, 2).await? {
            say(&format!("{name}: the holds pinned from the trace ({}) do not show it; shrinking the drawn schedule", roles.describe()));
            return Ok(None);
        }
        say(&format!("{name}: pinned from the trace of seed {}: {}", self.seed, roles.describe()));
        Ok(Some(Pinned { holds, from: roles.describe() }))
    }

    /// The events of one run of the current schedule that fails with the signature, of
    /// [`PICK_RUNS`] fresh timings.
    async fn witness(&mut self) -> Result<Option<Vec<crate::events::Event>>> {
        self.candidates += 1;
        let faults = self.plan.faults.clone();
        let reqs = self.reruns(&faults, 0..PICK_RUNS, "witness");
        let dirs: Vec<PathBuf> = reqs.iter().map(|r| r.out.clone()).collect();
        let mut found = None;
        for (s, dir) in self.engine.run_all(reqs).await.into_iter().zip(dirs) {
            let failed = s?.enactors.first().and_then(signature).as_deref() == Some(self.signature.as_str());
            if failed && found.is_none() {
                found = Some(crate::events::read_log(&dir.join(self.kind.as_str()).join("events.jsonl"))?);
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
        Ok(found)
    }

    /// Shrink `faults` (the schedule picked as `picked` says), or the holds `pinned` from its
    /// trace when there are some; `say` gets one line per step.
    pub async fn shrink(&mut self, faults: Vec<FaultSpec>, picked: String, pinned: Option<Pinned>, say: &(dyn Fn(&str) + Sync)) -> Result<Reduced> {
        let drawn = faults.clone();
        let mut kept = if let Some(p) = &pinned {
            // The holds showed it over two batches already (`pin`). Delta debugging drops any
            // hold the race does not need; their lengths are not halved: they are the rule's
            // margins, and a hold cut to the edge of what the simulated timing needs shows on
            // sim and not on LocalStack.
            let kept = self.ddmin(p.holds.clone()).await?;
            say(&format!("shrink {}/{}: {} of {} pinned hold(s) after delta debugging ({} candidates)", self.kind.as_str(), self.signature, kept.len(), p.holds.len(), self.candidates));
            kept
        } else if !self.shows_in(&faults, 1).await? {
            // The schedule itself shows it in fewer than two thirds of fresh timings: nothing
            // for delta debugging to shrink against. Only the 1-minimality check below may drop
            // faults from it, and its rate below says how rare it is.
            say(&format!("shrink {}/{}: the whole schedule shows it in fewer than two thirds of {} fresh timings: not delta-debugged (only faults the 1-minimality check finds needless are dropped)", self.kind.as_str(), self.signature, self.k));
            faults
        } else if self.shows(&[]).await? {
            say(&format!("shrink {}/{}: shows with no faults at all", self.kind.as_str(), self.signature));
            Vec::new()
        } else {
            let mut kept = self.ddmin(faults).await?;
            say(&format!("shrink {}/{}: {} fault(s) after delta debugging ({} candidates)", self.kind.as_str(), self.signature, kept.len(), self.candidates));
            self.simplify(&mut kept).await?;
            kept
        };
        let without = loop {
            let mut without = Vec::new();
            let mut dropped = false;
            for i in 0..kept.len() {
                let mut less = kept.clone();
                less.remove(i);
                let hits = self.count(&less, 100..100 + MINIMAL_RUNS).await?;
                // Dropped when the rest still shows the finding as a candidate must (two
                // thirds); a fault without which the rate falls below that but stays above
                // MINIMAL_RATE is kept and reported: the design then fails at that rate
                // without it, and the plan is not 1-minimal (see `Shrunk::one_minimal`).
                if hits * 3 >= MINIMAL_RUNS * 2 {
                    say(&format!("shrink: without {} the signature still shows {hits}/{MINIMAL_RUNS}: dropped", id(&kept[i], i)));
                    kept = less;
                    dropped = true;
                    break;
                }
                without.push((id(&kept[i], i), Rate::of(hits, MINIMAL_RUNS)));
            }
            if !dropped {
                break without;
            }
        };
        let repro = Rate::of(self.count(&kept, 200..200 + REPRO_RUNS).await?, REPRO_RUNS);
        let _ = std::fs::remove_dir_all(&self.scratch);
        say(&format!("shrink {}/{}: {} fault(s), reproduces {}", self.kind.as_str(), self.signature, kept.len(), repro.describe()));
        Ok(Reduced { drawn, picked, pinned, faults: kept, without, repro })
    }

    /// Delta debugging over the fault list (Zeller's ddmin).
    async fn ddmin(&mut self, mut items: Vec<FaultSpec>) -> Result<Vec<FaultSpec>> {
        let mut n = 2usize;
        while items.len() >= 2 {
            let chunks = split(&items, n);
            let mut reduced = false;
            for c in &chunks {
                if self.shows(c).await? {
                    items = c.clone();
                    n = 2;
                    reduced = true;
                    break;
                }
            }
            if !reduced && n > 2 {
                for i in 0..chunks.len() {
                    let rest: Vec<FaultSpec> = chunks.iter().enumerate().filter(|(j, _)| *j != i).flat_map(|(_, c)| c.iter().cloned()).collect();
                    if self.shows(&rest).await? {
                        items = rest;
                        n = (n - 1).max(2);
                        reduced = true;
                        break;
                    }
                }
            }
            if !reduced {
                if n >= items.len() {
                    break;
                }
                n = (n * 2).min(items.len());
            }
        }
        Ok(items)
    }

    /// Shorten, move and coarsen each fault while the finding still shows.
    async fn simplify(&mut self, faults: &mut [FaultSpec]) -> Result<()> {
        for i in 0..faults.len() {
            // Halve the duration while it shows.
            while let Some(d) = faults[i].duration.map(|d| d.ms()) {
                if d / 2 < SHORTEST_MS {
                    break;
                }
                let mut c = faults.to_vec();
                c[i].duration = Some(ms(round10(d / 2)));
                if !self.shows(&c).await? {
                    break;
                }
                faults[i] = c[i].clone();
            }
            for step in [5_000, 1_000] {
                let at = faults[i].at.ms();
                if at.is_multiple_of(step) {
                    break;
                }
                let mut c = faults.to_vec();
                c[i].at = ms(at / step * step);
                if self.shows(&c).await? {
                    faults[i] = c[i].clone();
                    break;
                }
            }
            if let Some(c) = coarser(&faults[i]) {
                let mut all = faults.to_vec();
                all[i] = c;
                if self.shows(&all).await? {
                    faults[i] = all[i].clone();
                }
            }
        }
        Ok(())
    }

    pub fn counters(&self) -> (u64, u64) {
        (self.candidates, self.runs)
    }
}

/// Run `reqs` (removing their folders) and count the runs that fail with signature `sig`.
async fn hits(engine: &Engine<'_>, reqs: Vec<RunRequest>, sig: &str) -> Result<u64> {
    let dirs: Vec<PathBuf> = reqs.iter().map(|r| r.out.clone()).collect();
    let mut n = 0;
    for (s, dir) in engine.run_all(reqs).await.into_iter().zip(dirs) {
        let _ = std::fs::remove_dir_all(&dir);
        if s?.enactors.first().and_then(signature).as_deref() == Some(sig) {
            n += 1;
        }
    }
    Ok(n)
}

fn id(f: &FaultSpec, i: usize) -> String {
    f.id.clone().unwrap_or_else(|| format!("{}-{i}", f.kind.as_str()))
}

fn ms(v: u64) -> Dur {
    Dur(std::time::Duration::from_millis(v))
}

fn round10(v: u64) -> u64 {
    (v / 10 * 10).max(10)
}

/// `items` in `n` chunks of near-equal size.
fn split(items: &[FaultSpec], n: usize) -> Vec<Vec<FaultSpec>> {
    let n = n.min(items.len()).max(1);
    let mut out = Vec::new();
    let mut start = 0;
    for i in 0..n {
        let end = start + (items.len() - start) / (n - i);
        out.push(items[start..end].to_vec());
        start = end;
    }
    out
}

/// One significant digit of a number.
fn one_digit(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return x;
    }
    let mag = 10f64.powf(x.log10().floor());
    (x / mag).round() * mag
}

/// The fault with coarser values, if any value can be coarser.
fn coarser(f: &FaultSpec) -> Option<FaultSpec> {
    let mut c = f.clone();
    c.latency = f.latency.map(|l| ms(one_digit(l.ms() as f64) as u64));
    c.jitter = None;
    c.probability = None;
    c.multiplier = f.multiplier.map(|m| m.round().max(1.0));
    c.plans = f.plans.map(|p| one_digit(p as f64) as u64);
    (c != *f).then_some(c)
}

/// Write the shrunk plan as an ordinary chaos plan with a header that says what it shows.
pub fn write_found(dir: &Path, plan: &ChaosPlan, finding: &Finding, r: &Reduced, backend: &str, source: &str) -> Result<PathBuf> {
    let (shrunk_faults, repro, without) = (&r.faults, &r.repro, &r.without);
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let file = dir.join(format!("{}-{}.yaml", finding.implementation, finding.signature));
    let mut p = plan.clone();
    p.name = format!("{}-found-{}-{}", plan.name, finding.implementation, finding.signature);
    p.faults = shrunk_faults.clone();
    p.nemesis = None;
    p.expect = Default::default();
    p.description = format!("Found by dnschaos explore {source}, schedule seed {}, shrunk to {} fault(s): {}", plan.seed, shrunk_faults.len(), finding.description);
    let yaml = serde_yaml::to_string(&p).map_err(|e| Error::setup(format!("cannot write the found plan: {e}")))?;
    let header = format!(
        "# Found by `dnschaos explore {source}` ({}): {} fails with signature {}.\n\
         # {}\n\
         # Schedule seed {}: {} fault(s) drawn, shrunk to {}. Picked as the {}.\n\
         # Drawn:\n{}{}# Kept:\n{}# Without each kept fault: {}\n\
         # Reproduces in {} of runs with varied jitter seeds on {backend}.\n\
         # Replay: dnschaos run {} --enactor {} --seed {}{}\n",
        if backend == "sim" { "simulated" } else { backend },
        finding.implementation,
        finding.signature,
        finding.description,
        plan.seed,
        r.drawn.len(),
        shrunk_faults.len(),
        r.picked,
        listing(&r.drawn),
        match &r.pinned {
            Some(p) => format!(
                "# Pinned: holds placed from the events of a failing run of it (the rule for a deleted active tree,\n\
                 # harness/src/explore/pin.rs; not drawn): {}. Delta debugging started from them:\n{}",
                p.from,
                listing(&p.holds)
            ),
            None => String::new(),
        },
        listing(shrunk_faults),
        if without.is_empty() { "-".into() } else { without.iter().map(|(id, r)| format!("{id} {}", r.describe())).collect::<Vec<_>>().join("; ") },
        repro.describe(),
        crate::paths::shown(&file),
        finding.implementation,
        plan.seed,
        if backend == "sim" { " --backend sim" } else { "" }
    );
    std::fs::write(&file, format!("{header}{yaml}")).map_err(|e| Error::io(&file, e))?;
    Ok(file)
}

/// One comment line per fault: `#   n2-pause pause enactor:1 at 4s for 2s (before-batch)`.
fn listing(faults: &[FaultSpec]) -> String {
    if faults.is_empty() {
        return "#   (none)\n".into();
    }
    faults.iter().map(|f| format!("#   {}\n", one_line(f))).collect()
}

/// A fault in one line.
pub fn one_line(f: &FaultSpec) -> String {
    let mut parts = vec![f.id.clone().unwrap_or_default(), f.kind.as_str().to_string()];
    parts.extend(f.target.clone());
    parts.push(format!("at {} ms", f.at.ms()));
    parts.extend(f.duration.map(|d| format!("for {} ms", d.ms())));
    parts.extend(f.point.map(|p| format!("point {}", p.as_str())));
    parts.extend(f.latency.map(|l| format!("latency {} ms", l.ms())));
    parts.extend(f.probability.map(|p| format!("probability {p}")));
    parts.extend(f.error.map(|e| format!("error {e:?}")));
    parts.extend(f.multiplier.map(|m| format!("x{m}")));
    parts.extend(f.plans.map(|p| format!("{p} plans")));
    parts.join(" ")
}

/// Rerun a shrunk plan on a real backend: the finding counts once it shows there. `sim` is its
/// reproduction rate on the simulated backend, to compare with.
pub async fn confirm(engine: &Engine<'_>, plan: &LoadedPlan, kind: EnactorKind, sig: &str, sim: Rate, scratch: &Path) -> Result<Confirmation> {
    let seed = plan.plan.seed;
    let reqs: Vec<RunRequest> = (0..CONFIRM_RUNS)
        .map(|r| {
            RunRequest::new(plan.clone(), scratch.join(format!("confirm-{r}")))
                .seed(seed)
                .jitter_seed(Some(crate::seeds::mix(&[seed, u64::MAX, r])))
                .implementations(&[kind])
        })
        .collect();
    let hits = hits(engine, reqs, sig).await?;
    let repro = Rate::of(hits, CONFIRM_RUNS);
    Ok(Confirmation::judge(engine.backend_name(), repro, sim))
}

/// Shrink every finding of `exploration` on `engine`; writes `out/found/` and fills `shrunk`.
pub async fn shrink_all(
    engine: &Engine<'_>,
    search: &super::Search,
    exploration: &mut crate::analysis::explore::Exploration,
    k: u64,
    say: &(dyn Fn(&str) + Sync),
) -> Result<()> {
    let clock = crate::clock::Clock::wall();
    let started = clock.now();
    let found_dir = search.out.join("found");
    let source = crate::paths::shown(&search.plan.path);
    for f in &mut exploration.findings {
        let mut s = Shrinker::new(engine, search, f, k)?;
        // Picking costs PICK_RUNS runs per kept schedule: cheap on sim, about half an hour per
        // finding on LocalStack, where the first failing schedule is shrunk.
        let (drawn, picked) = if engine.simulated() {
            s.pick(search, &f.seeds, say).await?
        } else {
            (f.faults.clone(), format!("first failing schedule, seed {} (not picked: picking is for sim)", s.seed))
        };
        // Pinning reruns the picked schedule PICK_RUNS times to find a failing run's events:
        // on sim, like picking.
        let pinned = if engine.simulated() { s.pin(say).await? } else { None };
        let (kind, seed) = (s.kind, s.seed);
        let reduced = s.shrink(drawn, picked, pinned, say).await?;
        let mut plan = s.plan_with(&reduced.faults);
        plan.enactors.implementations = vec![kind];
        let file = write_found(&found_dir, &plan, f, &reduced, &engine.backend_name(), &source)?;
        let Reduced { drawn, picked, pinned, faults, without, repro } = reduced;
        // One run of the shrunk plan with its reports, for the finding's timeline.
        let run_dir = found_dir.join(format!("{}-{}-run", f.implementation, f.signature));
        let req = RunRequest::new(LoadedPlan { path: file.clone(), plan: plan.clone() }, &run_dir)
            .seed(seed)
            .implementations(&[kind])
            .sabotage_fenced(search.sabotage_fenced);
        if let Some(Ok(summary)) = engine.run_all(vec![req]).await.into_iter().next() {
            if let Some(e) = summary.enactors.first() {
                f.empty_windows = e.empty_windows.clone();
                f.run_ms = e.run_ms;
            }
            crate::report::write_run(&summary, &run_dir)?;
        }
        let (candidates, runs) = s.counters();
        f.shrunk = Some(Shrunk {
            picked,
            drawn,
            pinned_from: pinned.as_ref().map(|p| p.from.clone()).unwrap_or_default(),
            pinned: pinned.map(|p| p.holds).unwrap_or_default(),
            faults,
            plan_file: file.strip_prefix(&search.out).unwrap_or(&file).display().to_string(),
            replay: format!(
                "dnschaos run {} --enactor {} --seed {seed}{}",
                crate::paths::shown(&file),
                f.implementation,
                if engine.simulated() { " --backend sim" } else { "" }
            ),
            candidates,
            runs,
            one_minimal: without.iter().all(|(_, r)| (r.k as f64) < MINIMAL_RATE * r.n as f64),
            repro,
            without,
            confirmation: None,
        });
    }
    let _ = std::fs::remove_dir_all(search.out.join("shrink-scratch"));
    exploration.shrink_ms += clock.since(started).as_millis() as u64;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_and_coarsening() {
        let f = |i: u64| FaultSpec { id: Some(format!("f{i}")), ..serde_yaml::from_str("kind: flood\nat: 1s\nfor: 2s\nmultiplier: 3.7").unwrap() };
        let items: Vec<FaultSpec> = (0..5).map(f).collect();
        let sizes: Vec<usize> = split(&items, 2).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [2, 3]);
        assert_eq!(split(&items, 5).len(), 5);
        assert_eq!(split(&items, 9).len(), 5);
        assert_eq!(coarser(&items[0]).unwrap().multiplier, Some(4.0));
        assert_eq!(one_digit(340.0), 300.0);
        assert_eq!(one_digit(0.06), 0.06);
        assert!(coarser(&coarser(&items[0]).unwrap()).is_none(), "coarsening ends");
    }
}
