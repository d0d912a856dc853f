//! One implementation's run: its world, the DNS data plane mirroring its zones, the probers,
//! the fault timeline, a settle period, then the verdict.

use std::path::Path;
use std::time::Duration;

use super::{sampler, Observer, RunRequest};
use crate::analysis::{self, verdict};
use crate::backend::Backend;
use crate::clock::Clock;
use crate::dataplane::{DataPlane, DataPlaneConfig, Mirror, MirrorConfig, MirroredZone, ZoneTable};
use crate::enactor::Tuning;
use crate::error::{Error, Result};
use crate::events::EventLog;
use crate::fault::gateway::Gateway;
use crate::fault::timeline;
use crate::fault::FaultCtx;
use crate::model::{EnactorKind, RrKind};
use crate::planner::{Planner, PlannerConfig};
use crate::probe::{ProbeRecord, Prober, ProberConfig, SimProber};
use crate::route53::Route53;
use crate::scenario::EnactorMode;
use crate::summary::ImplementationSummary;
use crate::truth::TruthLog;
use crate::world::{World, WorldConfig};

/// A prober on real sockets, or in process for a simulated run.
enum Probing {
    Real(Prober),
    Sim(SimProber),
}

/// What every implementation of one run shares.
pub(super) struct Ctx<'a> {
    pub backend: &'a dyn Backend,
    pub gateway: Option<&'a Gateway>,
    pub r53: &'a Route53,
    pub req: &'a RunRequest,
    pub clock: Clock,
    /// Probes sent by the implementations that already finished (for live progress).
    pub probes_done: &'a std::sync::atomic::AtomicU64,
}

pub(super) async fn run(ctx: &Ctx<'_>, kind: EnactorKind, progress: &dyn Observer) -> Result<ImplementationSummary> {
    let (req, clock) = (ctx.req, &ctx.clock);
    let plan = &req.plan.plan;
    let dir = req.out.join(kind.as_str());
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let epoch = clock.epoch_ms();
    let run_start = clock.now();
    let log = EventLog::new(clock.clone(), epoch);
    let events_path = dir.join("events.jsonl");
    log.write_to(&events_path)?;

    let seeds = req.seeds();
    let simulated = ctx.backend.sim_store().is_some();
    let mut config = WorldConfig::new(kind, req.seed);
    config.jitter_seed = seeds.jitter;
    config.enactors = plan.enactors.count;
    config.process_logs = Some(dir.clone());
    config.planner = PlannerConfig { rate_per_s: plan.planner.rate, validity: plan.planner.validity.0, ..PlannerConfig::default() };
    config.tuning = Tuning { sabotage_fenced: req.sabotage_fenced, ..Tuning::default().scaled(req.time_scale) };
    if let Some(l) = plan.enactors.lock_lease {
        config.tuning.lock_lease = l.0.mul_f64(req.time_scale);
    }
    if let Some(k) = plan.enactors.cleanup_keep {
        config.tuning.cleanup_keep = k;
    }
    // Everything the run does goes through the gateway: set-up and the harness's own reads as
    // caller `harness`, each enactor as `<az>`, the data plane's mirror as `dataplane`.
    let calls_before = ctx.gateway.map(|g| g.upstream_calls()).unwrap_or(0);
    let harness = match ctx.gateway {
        Some(gw) => gw.client(ctx.r53, ctx.backend.info(), "harness").await?.0,
        None => ctx.r53.clone(),
    };
    let mut world = World::create(harness.clone(), log.clone(), config).await?;
    if let Some(gw) = ctx.gateway {
        for az in world.azs().to_vec() {
            let (client, info) = gw.client(ctx.r53, ctx.backend.info(), &az).await?;
            world.route_enactor(&az, client, info);
        }
    }
    let harness_faulted_before = ctx.gateway.map(|g| g.harness_calls_matched()).unwrap_or(0);

    // The truth: what the backend held after every commit, recorded by the gateway. The data
    // plane follows it (exact to the change); without the gateway, it polls the API.
    let truth = TruthLog::new(clock.clone(), epoch);
    let truth_path = dir.join("truth.jsonl");
    // A simulated run serves its zones from a table no socket reaches; its probes ask it in process.
    let dp_config = DataPlaneConfig { seed: seeds.dataplane(), ..DataPlaneConfig::default() };
    let (dp, table) = if simulated {
        (None, ZoneTable::in_process(dp_config.negative_ttl))
    } else {
        let dp = DataPlane::start(dp_config).await?;
        let table = dp.table();
        (Some(dp), table)
    };
    let zones: Vec<MirroredZone> = world.endpoints().iter().map(|e| MirroredZone::new(&e.zone_id, &e.zone)).collect();
    let mirror_config = MirrorConfig { propagation_delay: plan.probe.propagation_delay.0, clock: clock.clone(), ..MirrorConfig::default() };
    let mirror = match ctx.gateway {
        Some(gw) => {
            truth.write_to(&truth_path)?;
            let mirror = Mirror::follow(&truth, table.clone(), zones, mirror_config);
            for ep in world.endpoints() {
                gw.watch(&ep.zone_id, &ep.zone, vec![ep.clone()], truth.clone()).await?;
            }
            mirror
        }
        None => Mirror::start(harness.clone(), table.clone(), zones, mirror_config),
    };
    let ready = clock.now();
    while table.zones().len() < world.endpoints().len() && clock.since(ready) < Duration::from_secs(10) {
        clock.sleep(Duration::from_millis(50)).await;
    }
    // Every probe once, compressed (about 10x smaller); `paths::read_text` reads it back.
    let probes_path = dir.join("probes.jsonl.gz");
    let mut probers = Vec::new();
    for (dual, kinds) in [(false, vec![RrKind::A]), (true, vec![RrKind::A, RrKind::Aaaa])] {
        let names: Vec<String> = world.endpoints().iter().filter(|e| e.dual_stack == dual).map(|e| e.name()).collect();
        if names.is_empty() {
            continue;
        }
        let addr = dp.as_ref().map(|d| d.addr()).unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
        let mut pc = ProberConfig::new(addr, names);
        pc.kinds = kinds;
        pc.rate_per_name = plan.probe.rate;
        pc.timeout = plan.probe.timeout.0;
        pc.clock = clock.clone();
        probers.push(if simulated {
            Probing::Sim(SimProber::start(pc, table.clone(), run_start, seeds.dataplane())?)
        } else {
            Probing::Real(Prober::start(pc, run_start).await?)
        });
    }

    if let Some(gw) = ctx.gateway {
        gw.take_latencies();
    }
    world.start_planner();
    match plan.enactors.mode {
        // An outside enactor is a process whatever the mode.
        EnactorMode::InProcess if kind.is_builtin() => world.start_enactors(),
        _ => {
            if let Err(e) = world.start_enactor_processes(&req.bin, ctx.backend.info()).await {
                world.stop().await;
                world.delete_zones().await;
                return Err(e);
            }
        }
    }
    // The fault timeline, relative to now.
    let t0 = log.now_ms();
    let fctx = FaultCtx { backend: ctx.backend, bin: &req.bin, gateway: ctx.gateway };
    let say = |line: &str| progress.phase(&format!("{}: {line}", kind.as_str()));
    let faults = {
        let work = async {
            let faults = timeline::run(&mut world, &fctx, plan, t0, &say).await;
            // The rest of the run, then a settle period for recovery.
            let run_end = t0 + plan.duration.ms();
            let now = log.now_ms();
            if run_end > now {
                clock.sleep(Duration::from_millis(run_end - now)).await;
            }
            // The settle period, planner still running: `converges` is judged on it.
            progress.phase(&format!("{}: faulted part done, settling for {} s", kind.as_str(), plan.slo.converge_within.0.as_secs()));
            clock.sleep(plan.slo.converge_within.0).await;
            faults
        };
        // Live probe counts for the progress line, once a second, on real sockets only: a
        // simulated run stays free of extra timers (its runs must repeat exactly) and is quiet.
        let live = async {
            loop {
                clock.sleep(Duration::from_secs(1)).await;
                let sent: u64 = probers.iter().map(|p| if let Probing::Real(p) = p { p.sent() } else { 0 }).sum();
                progress.probes(ctx.probes_done.load(std::sync::atomic::Ordering::Relaxed) + sent);
            }
        };
        if simulated {
            work.await
        } else {
            // Biased: the run's own work decides when this ends; the ticker never finishes.
            tokio::select! {
                biased;
                faults = work => faults,
                _ = live => unreachable!("the progress ticker never ends"),
            }
        }
    };

    let mut records: Vec<ProbeRecord> = Vec::new();
    let mut hist = crate::probe::latency_histogram();
    for p in probers {
        let run = match p {
            Probing::Real(p) => p.stop().await,
            Probing::Sim(p) => p.stop().await,
        };
        let _ = hist.add(&run.latency_us);
        records.extend(run.records);
    }
    let end_ms = log.now_ms();
    let api_latency = ctx.gateway.map(|g| g.take_latencies()).unwrap_or_default();
    let process_problems = world.stop().await;
    let final_state = match ctx.gateway {
        Some(_) => Default::default(),
        None => sampler::final_state(&world).await,
    };
    let harness_calls_faulted = ctx.gateway.map(|g| g.harness_calls_matched() - harness_faulted_before).unwrap_or(0);
    if let Some(gw) = ctx.gateway {
        for ep in world.endpoints() {
            gw.unwatch(&ep.zone_id);
        }
    }
    mirror.stop().await;
    if let Some(dp) = dp {
        dp.shutdown().await;
    }
    world.delete_zones().await;
    if !process_problems.is_empty() {
        return Err(Error::setup(format!(
            "the enactor under test broke the outside-enactor protocol (docs/enactor-protocol.md):\n  {}",
            process_problems.join("\n  ")
        )));
    }
    let backend_calls = ctx.gateway.map(|g| g.upstream_calls() - calls_before);
    write_probes(&probes_path, &records)?;

    let events = log.snapshot();
    let pool = Planner::new(PlannerConfig::default(), 0).pool().to_vec();
    let bus = world.bus().clone();
    let samples = analysis::classify::samples(world.endpoints(), &events, &records, &|g| bus.plan(g), &pool);
    let commits = ctx.gateway.map(|_| truth.snapshot());
    let probe_interval_ms = (1000.0 / plan.probe.rate) as u64 * 2;
    let observed = verdict::Observed {
        implementation: kind,
        enactors: world.azs(),
        endpoints: world.endpoints(),
        events: &events,
        samples: &samples,
        records: &records,
        truth: commits.as_deref(),
        probe_slack_ms: plan.probe.propagation_delay.ms() + 2 * probe_interval_ms + 5,
        harness_calls_faulted,
        api_latency: api_latency.iter().map(|(op, h)| (op.as_str().to_string(), verdict::latency(h))).collect(),
        latency: verdict::latency(&hist),
        faults,
        control_plane: &[],
        final_state,
        end_ms,
        cleanup_keep: world.config().tuning.cleanup_keep,
        lock_lease_ms: world.config().tuning.lock_lease.as_millis() as u64,
        events_path: events_path.display().to_string(),
        probes_path: probes_path.display().to_string(),
    };
    let mut summary = verdict::summarise(&verdict::Slo::of(&plan.slo), plan.expect.get(&kind), observed);
    summary.backend_calls = backend_calls;
    Ok(summary)
}

fn write_probes(path: &Path, records: &[ProbeRecord]) -> Result<()> {
    use std::io::Write;
    let mut w = crate::paths::gzip_writer(path).map_err(|e| Error::io(path, e))?;
    for r in records {
        let _ = writeln!(w, "{}", serde_json::to_string(r).expect("probe record is json"));
    }
    w.finish().and_then(|mut b| b.flush()).map_err(|e| Error::io(path, e))
}
