//! Enactors against the real backend: every implementation keeps the endpoints answering with
//! the newest plan under a normal plan stream, and the hand-built October 2025 race (one
//! enactor held between its staleness check and its flip while another applies newer plans
//! and cleans up) empties `legacy`'s endpoint and leaves every legacy enactor stuck, while
//! `fenced` and `converging` end on the newest plan.
//!
//! LocalStack does not enforce the TXT lock's compare-and-swap (see the conformance check), so
//! these tests do not rely on it: the race is staged with checkpoints, and the steady-state
//! test checks outcomes (answers), not lock exclusivity.

#[path = "../support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dnschaos::answer::Rcode;
use dnschaos::enactor::{EnactorKind, HoldSpec, Point};
use dnschaos::events::{Event, EventKind, EventLog};
use dnschaos::model::{Endpoint, Plan, RrKind};
use dnschaos::world::{World, WorldConfig};
use libtest_mimic::{Failed, Trial};
use support::{ensure, Shared};

fn main() {
    let shared = Arc::new(support::start_shared("enactors"));
    let mut trials: Vec<Trial> = Vec::new();
    for kind in EnactorKind::ALL {
        let s = shared.clone();
        trials.push(Trial::test(format!("steady_{}_keeps_answering_newest_plan", kind.as_str()), move || {
            s.block_on(steady(&s, kind))
        }));
    }
    for kind in [EnactorKind::Legacy, EnactorKind::Fenced, EnactorKind::Converging] {
        let s = shared.clone();
        trials.push(Trial::test(format!("race_{}", kind.as_str()), move || s.block_on(race(&s, kind))));
    }
    let s = shared.clone();
    trials.push(Trial::test("subprocess_enactors_apply_plans_and_sigstop_silences_one", move || {
        s.block_on(subprocess(&s))
    }));
    for (script, want) in MALFORMED {
        let s = shared.clone();
        trials.push(Trial::test(format!("outside_enactor_{}_is_named_and_leaves_nothing", script.replace('-', "_")), move || {
            s.block_on(malformed(&s, script, want))
        }));
    }
    support::run(shared, trials)
}

/// Malformed outside enactors (`fixtures/enactors/malformed/`) and what the run's error must say.
const MALFORMED: [(&str, &[&str]); 4] = [
    ("exits-at-once", &["exited on its own", "exit status: 3", "cannot find my configuration file"]),
    ("writes-garbage", &["not protocol messages", "starting up, reading plans"]),
    ("never-reads-stdin", &["read its stdin"]),
    ("ignores-sigterm", &["after SIGTERM; killed with SIGKILL"]),
];

/// A malformed outside enactor fails its run with an error naming what it did, and none of its
/// processes outlives the run.
async fn malformed(s: &Shared, script: &str, want: &[&str]) -> Result<(), Failed> {
    let program = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/enactors/malformed").join(script);
    let program = program.canonicalize().map_err(|e| format!("{}: {e}", program.display()))?;
    let dir = support::scratch(&format!("malformed-{script}"));
    let plan_path = dir.join("plan.yaml");
    let text = format!(
        "name: protocol-{script}\nduration: 3s\nenactors:\n  implementations:\n    - name: malformed-{script}\n      command: [{:?}]\n",
        program.display().to_string()
    );
    std::fs::write(&plan_path, text).map_err(|e| e.to_string())?;
    let loaded = dnschaos::scenario::load(&plan_path)?;
    let request = dnschaos::runner::RunRequest::new(loaded, &dir.join("run")).bin(support::bin());
    let quiet = |_: &str| {};
    let outcome = s.runner.run(&request, &quiet).await;
    let running: Vec<String> = std::fs::read_dir("/proc")
        .map_err(|e| e.to_string())?
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(&program.display().to_string()))
        .collect();
    ensure(running.is_empty(), || format!("{script}: processes left running after the run: {running:?}"))?;
    let err = match outcome {
        Ok(_) => return Err(format!("{script}: the run passed; a malformed enactor must fail it").into()),
        Err(e) => e.to_string(),
    };
    println!("{script}: {err}");
    for w in want {
        ensure(err.contains(w), || format!("{script}: the error does not say {w:?}:\n{err}"))?;
    }
    ensure(err.contains(&format!("malformed-{script}")), || format!("{script}: the error does not name the enactor:\n{err}"))
}

/// The same enactors as child processes; a SIGSTOPped one emits nothing while stopped.
async fn subprocess(s: &Shared) -> Result<(), Failed> {
    let log = EventLog::starting_now(dnschaos::clock::Clock::wall());
    let mut world = World::create(s.r53.clone(), log.clone(), WorldConfig::new(EnactorKind::Legacy, 3)).await?;
    world.start_planner();
    world.start_enactor_processes(&support::bin(), s.backend.info()).await?;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let victim = world.children()[0].az.clone();
    let pid = world.children()[0].pid().ok_or("child has no pid")? as i32;
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    let stopped_at = log.now_ms();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let resumed_at = log.now_ms();
    unsafe { libc::kill(pid, libc::SIGCONT) };
    tokio::time::sleep(Duration::from_secs(3)).await;
    world.planner().set_paused(true);
    let newest = world.bus().newest().ok_or("no plan")?;
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut ok = false;
    while Instant::now() < deadline && !ok {
        ok = answers_plan(&world, &newest).await?;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    world.stop().await;
    world.delete_zones().await;
    let src = format!("enactor:{victim}");
    let events = log.snapshot();
    let mine = |from: u64, to: u64| events.iter().filter(|e| e.source == src && e.t_ms > from && e.t_ms < to).count();
    // Allow 100 ms for a write already under way when the signal landed.
    let while_stopped = mine(stopped_at + 100, resumed_at);
    let before = mine(0, stopped_at);
    let after = mine(resumed_at, u64::MAX);
    let others = events.iter().filter(|e| e.source.starts_with("enactor:") && e.source != src && e.t_ms > stopped_at && e.t_ms < resumed_at).count();
    println!("subprocess: {victim} events before {before}, while stopped {while_stopped}, after {after}; others while stopped {others}");
    ensure(before > 0 && after > 0, || format!("the child should log before and after the stop ({before}/{after})\n{}", tail(&log, 30)))?;
    ensure(while_stopped == 0, || format!("{while_stopped} events from a SIGSTOPped enactor"))?;
    ensure(others > 0, || "the other enactors should go on while one is stopped".into())?;
    ensure(ok, || format!("subprocess enactors did not converge to g{}\n{}", newest.generation, tail(&log, 30)))
}

fn expected_addrs(plan: &Plan, kind: RrKind) -> BTreeSet<IpAddr> {
    match kind {
        RrKind::Aaaa => plan.ipv6s().into_iter().map(IpAddr::V6).collect(),
        _ => plan.ipv4s().into_iter().map(IpAddr::V4).collect(),
    }
}

fn kinds(ep: &Endpoint) -> Vec<RrKind> {
    if ep.dual_stack {
        vec![RrKind::A, RrKind::Aaaa]
    } else {
        vec![RrKind::A]
    }
}

/// Does every endpoint answer exactly the load balancers of `plan`?
async fn answers_plan(world: &World, plan: &Plan) -> Result<bool, Failed> {
    for ep in world.endpoints() {
        for kind in kinds(ep) {
            let a = world.answer(ep, kind).await?;
            let got: BTreeSet<IpAddr> = a.addrs.iter().copied().collect();
            if a.rcode != Rcode::NoError || got != expected_addrs(plan, kind) {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

fn tail(log: &EventLog, n: usize) -> String {
    let events = log.snapshot();
    events[events.len().saturating_sub(n)..]
        .iter()
        .map(|e| format!("{:>6} {:<18} {:?}", e.t_ms, e.source, e.event))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn steady(s: &Shared, kind: EnactorKind) -> Result<(), Failed> {
    let log = EventLog::starting_now(dnschaos::clock::Clock::wall());
    let mut world = World::create(s.r53.clone(), log.clone(), WorldConfig::new(kind, 42)).await?;
    world.start_planner();
    world.start_enactors();
    let started = Instant::now();
    let mut samples = 0;
    let mut bad = Vec::new();
    while started.elapsed() < Duration::from_secs(20) {
        for ep in world.endpoints() {
            let a = world.answer(ep, RrKind::A).await?;
            samples += 1;
            if a.rcode != Rcode::NoError || a.addrs.is_empty() {
                bad.push(format!("{} ms {}: {:?} {:?}", started.elapsed().as_millis(), ep.label, a.rcode, a.chain));
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Stop the plan stream and give the enactors a moment to finish the newest plan.
    world.planner().set_paused(true);
    let newest = world.bus().newest().ok_or("no plan was emitted")?;
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut converged = false;
    while Instant::now() < deadline {
        if answers_plan(&world, &newest).await? {
            converged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    world.stop().await;
    let applied = log.snapshot().iter().filter(|e| matches!(e.event, EventKind::AliasFlipped { .. })).count();
    world.delete_zones().await;
    println!("{}: {} plans, {} flips, {} samples, {} bad", kind.as_str(), newest.generation, applied, samples, bad.len());
    ensure(bad.is_empty(), || format!("{} empty/bad control-plane answers: {:?}\n{}", bad.len(), &bad[..bad.len().min(5)], tail(&log, 30)))?;
    ensure(newest.generation >= 30, || format!("only {} plans in 20 s", newest.generation))?;
    ensure(converged, || format!("endpoints do not answer the newest plan g{}\n{}", newest.generation, tail(&log, 40)))
}

async fn wait_event(log: &EventLog, what: &str, secs: u64, pred: impl Fn(&Event) -> bool) -> Result<Event, Failed> {
    log.wait_for(Duration::from_secs(secs), pred)
        .await
        .ok_or_else(|| format!("timed out after {secs} s waiting for {what}\n{}", tail(log, 40)).into())
}

async fn wait_hits(h: &dnschaos::enactor::HoldHandle, log: &EventLog, what: &str) -> Result<(), Failed> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while h.hits() == 0 {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}\n{}", tail(log, 40)).into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

fn hold(az: &str, point: Point, min_generation: Option<u64>, once: bool) -> HoldSpec {
    HoldSpec { enactor: Some(az.into()), point, min_generation, once, duration: None }
}

/// The October 2025 race, staged with checkpoints, through the strict gateway (Route 53's rules:
/// it is Route 53 that refuses legacy's batches once the active tree is gone).
async fn race(s: &Shared, kind: EnactorKind) -> Result<(), Failed> {
    use dnschaos::fault::gateway::{Gateway, GatewayConfig};
    let clock = dnschaos::clock::Clock::wall();
    let upstream = s.backend.info().endpoint_url.clone().ok_or("no endpoint url")?;
    let gw = Gateway::start(GatewayConfig { clock: clock.clone(), ..GatewayConfig::new(upstream) }).await?;
    let log = EventLog::starting_now(clock);
    // Two enactors, A and B, as the postmortem tells it. (A third one holding the very plan A
    // flips to would rebuild its tree and repair the name: Route 53 accepts that batch.)
    let mut config = WorldConfig::new(kind, 7);
    config.enactors = 2;
    let keep = config.tuning.cleanup_keep;
    let (harness, _) = gw.client(&s.r53, s.backend.info(), "harness").await?;
    let mut world = World::create(harness, log.clone(), config).await?;
    for az in world.azs().to_vec() {
        let (client, info) = gw.client(&s.r53, s.backend.info(), &az).await?;
        world.route_enactor(&az, client, info);
    }
    let (a, b) = (world.azs()[0].clone(), world.azs()[1].clone());
    let cp = world.checkpoints().clone();
    // A and B both pass their check for g2.
    let hold_a = cp.hold(hold(&a, Point::AfterStalenessCheck, Some(2), true));
    let hold_b = cp.hold(hold(&b, Point::AfterStalenessCheck, Some(2), true));
    world.start_enactors();
    world.emit_plans(1);
    wait_hits(&hold_a, &log, "A at after-staleness-check for g2").await?;
    wait_hits(&hold_b, &log, "B at after-staleness-check for g2").await?;
    // B races ahead: applies g2, then many newer plans, and stops right before its cleanup.
    let fast_gen = 2 + keep + 1;
    let hold_b_cleanup = cp.hold(hold(&b, Point::BeforeCleanup, Some(fast_gen), true));
    hold_b.release();
    let source_b = format!("enactor:{b}");
    wait_event(&log, "B applying g2", 30, |e| {
        e.source == source_b && matches!(&e.event, EventKind::PassDone { generation: 2, .. })
    })
    .await?;
    world.emit_plans((fast_gen - 2) as usize);
    wait_hits(&hold_b_cleanup, &log, "B before its cleanup").await?;
    // A, still carrying g2, goes on: the flip lands just before B's cleanup. A's next pass
    // waits after its check until that cleanup is done: otherwise A, picking up g13 within its
    // 250 ms pickup delay while its own lock lease (300 ms) still keeps B out, repairs the name
    // before B's cleanup runs (seen on LocalStack: A's next pickup 62 ms after its g2 pass, B
    // locked out until then), and the staged race is not the one the postmortem tells.
    let hold_a_next = cp.hold(hold(&a, Point::AfterStalenessCheck, Some(3), true));
    hold_a.release();
    let source_a = format!("enactor:{a}");
    wait_event(&log, "A's pass for g2 to end", 30, |e| {
        e.source == source_a && matches!(&e.event, EventKind::PassDone { generation: 2, .. })
    })
    .await?;
    let released_at = log.now_ms();
    hold_b_cleanup.release();
    let cleanup_done = wait_event(&log, "B's pass with the cleanup to end", 30, |e| {
        e.source == source_b && e.t_ms >= released_at && matches!(&e.event, EventKind::PassDone { .. })
    })
    .await?;
    hold_a_next.release();
    // Newer plans keep coming.
    let newest_gen = world.emit_plans(1).ok_or("planner gone")?;
    let regional = world.endpoints()[0].clone();
    let result = match kind {
        EnactorKind::Legacy => {
            // Stuck is the analysis's finding from the rejections Route 53 (the gateway) gives.
            let azs = vec![a.clone(), b.clone()];
            let waited = Instant::now();
            loop {
                let stuck = dnschaos::analysis::truth::stuck(&log.snapshot(), &azs, log.now_ms());
                if stuck.len() == 2 {
                    println!("legacy: {stuck:?}");
                    break;
                }
                if waited.elapsed() > Duration::from_secs(30) {
                    return Err(format!("not every legacy enactor became stuck within 30 s: {stuck:?}\n{}", tail(&log, 40)).into());
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            // Give them a moment longer: nobody may repair it.
            tokio::time::sleep(Duration::from_secs(2)).await;
            let answer = world.answer(&regional, RrKind::A).await?;
            let active = world.active(&regional).await?;
            println!("legacy: regional answers {:?} {:?} (alias -> g{active:?})", answer.rcode, answer.addrs);
            ensure(answer.is_empty_noerror(), || format!("legacy endpoint should answer NOERROR with no records, got {answer:?}\n{}", tail(&log, 40)))?;
            let events = log.snapshot();
            let flips_after: Vec<&Event> = events
                .iter()
                .filter(|e| e.t_ms > cleanup_done.t_ms)
                .filter(|e| matches!(&e.event, EventKind::AliasFlipped { endpoint, .. } if *endpoint == regional.label))
                .collect();
            ensure(flips_after.is_empty(), || format!("no flip may succeed after the stuck state: {flips_after:?}"))?;
            ensure(active == Some(2), || format!("alias should still point at the deleted g2, points at {active:?}"))
        }
        _ => {
            let newest = world.bus().plan(newest_gen).ok_or("newest plan missing")?;
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut ok = false;
            let mut empties = 0;
            while Instant::now() < deadline && !ok {
                if world.answer(&regional, RrKind::A).await?.is_empty_noerror() {
                    empties += 1;
                }
                ok = answers_plan(&world, &newest).await?;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            println!("{}: converged to g{newest_gen}: {ok}", kind.as_str());
            ensure(empties == 0, || format!("{empties} empty answers after the race\n{}", tail(&log, 40)))?;
            ensure(ok, || format!("{} should answer the newest plan g{newest_gen}\n{}", kind.as_str(), tail(&log, 40)))
        }
    };
    world.stop().await;
    world.delete_zones().await;
    gw.shutdown().await;
    result
}
