//! `dnschaos run`: a chaos plan against every chosen enactor implementation, one after another,
//! on one backend. Per implementation: a world, the DNS data plane mirroring its zones, probers,
//! the fault timeline, a settle period, then the analysis and `summary.json`.

mod faults;
mod gateway_faults;
pub mod summary;

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::analysis::{self, Sample};
use crate::backend::{Backend, BackendInfo};
use crate::fault::gateway::{Gateway, GatewayConfig};
use crate::dataplane::{DataPlane, DataPlaneConfig, Mirror, MirrorConfig, MirroredZone};
use crate::enactor::{EnactorKind, Tuning};
use crate::error::{Error, Result};
use crate::events::{now_epoch_ms, Event, EventKind, EventLog};
use crate::model::RrKind;
use crate::planner::PlannerConfig;
use crate::probe::{classify, ProbeClass, ProbeRecord, Prober, ProberConfig};
use crate::route53::Route53;
use crate::scenario::{EnactorMode, Invariant, LoadedPlan};
use crate::world::{World, WorldConfig};
use crate::route53::convert::SdkSnapshot;
use summary::*;

/// What to run.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub plan: LoadedPlan,
    pub implementations: Vec<EnactorKind>,
    pub seed: u64,
    pub out: PathBuf,
    /// The command line that replays this run.
    pub replay: String,
    /// The dnschaos binary, for subprocess enactors.
    pub bin: PathBuf,
}

/// Where a run reports its progress (a progress bar, log lines, or nothing).
pub trait Observer: Sync {
    fn phase(&self, line: &str);
    /// Probes sent so far in this run (all implementations).
    fn probes(&self, _total: u64) {}
    fn verdict(&self, line: &str) {
        self.phase(line);
    }
}

impl<F: Fn(&str) + Sync> Observer for F {
    fn phase(&self, line: &str) {
        self(line)
    }
}

/// What faults may act on.
pub struct RunCtx<'a> {
    pub backend: &'a dyn Backend,
    pub bin: &'a Path,
    /// The Route 53 fault gateway between the enactors and the backend (none for real AWS).
    pub gateway: Option<&'a Gateway>,
}

/// Start the gateway in front of `backend` as the plan asks (not for real AWS).
pub async fn start_gateway(backend: &BackendInfo, plan: &crate::scenario::ChaosPlan, seed: u64) -> Result<Option<Gateway>> {
    if backend.real_aws {
        return Ok(None);
    }
    let upstream = backend.endpoint_url.clone().ok_or_else(|| Error::setup("the backend has no endpoint url for the gateway"))?;
    let mut config = GatewayConfig::new(upstream);
    config.strict = plan.gateway.strict;
    config.propagation_delay = plan.gateway.propagation_delay.0;
    config.seed = seed;
    Ok(Some(Gateway::start(config).await?))
}

/// A client that goes through `gateway` as caller `caller`, sharing `r53`'s zone registry.
pub async fn client_via(r53: &Route53, backend: &BackendInfo, gateway: &Gateway, caller: &str) -> Result<(Route53, BackendInfo)> {
    let mut info = backend.clone();
    info.endpoint_url = Some(gateway.url_for(caller));
    let c = Route53::connect(&info, crate::route53::ClientOptions::default()).await?;
    Ok((r53.with_client(c.client().clone()), info))
}

/// Run every implementation and write `summary.json`. Progress goes to `progress`.
pub async fn run(backend: Arc<dyn Backend>, r53: Route53, req: &RunRequest, backend_json: serde_json::Value, progress: &dyn Observer) -> Result<Summary> {
    std::fs::create_dir_all(&req.out).map_err(|e| Error::io(&req.out, e))?;
    let started_at = now_epoch_ms();
    let gateway = start_gateway(backend.info(), &req.plan.plan, req.seed).await?;
    let mut enactors = Vec::new();
    let mut probes_total = 0u64;
    for kind in &req.implementations {
        progress.phase(&format!("{}: starting", kind.as_str()));
        let s = run_one(backend.as_ref(), gateway.as_ref(), &r53, req, *kind, progress).await?;
        probes_total += s.probe_counts.values().sum::<u64>();
        progress.probes(probes_total);
        progress.verdict(&format!(
            "{}: {} (empty {} ms, recovery {})",
            kind.as_str(),
            if s.verdict.passed { "SLOs held" } else { "VIOLATED" },
            s.total_empty_ms,
            s.time_to_recovery_ms.map(|t| format!("{t} ms")).unwrap_or_else(|| "never".into())
        ));
        enactors.push(s);
    }
    if let Some(g) = gateway {
        g.shutdown().await;
    }
    let plan = &req.plan.plan;
    let summary = Summary {
        seed: req.seed,
        plan: PlanInfo {
            name: plan.name.clone(),
            path: req.plan.path.display().to_string(),
            description: plan.description.clone(),
            duration_ms: plan.duration.ms(),
            spec: serde_json::to_value(plan).unwrap_or_default(),
        },
        replay: req.replay.clone(),
        backend: backend_json,
        started_at_epoch_ms: started_at,
        passed: enactors.iter().all(|e| e.verdict.passed),
        enactors,
    };
    let path = req.out.join("summary.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary).expect("summary is json")).map_err(|e| Error::io(&path, e))?;
    crate::report::write_all(&summary, &req.out)?;
    Ok(summary)
}

async fn run_one(backend: &dyn Backend, gateway: Option<&Gateway>, r53: &Route53, req: &RunRequest, kind: EnactorKind, progress: &dyn Observer) -> Result<EnactorSummary> {
    let plan = &req.plan.plan;
    let dir = req.out.join(kind.as_str());
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let epoch = now_epoch_ms();
    let clock = Instant::now();
    let log = EventLog::new(epoch);
    let events_path = dir.join("events.jsonl");
    log.write_to(&events_path)?;

    let mut config = WorldConfig::new(kind, req.seed);
    config.enactors = plan.enactors.count;
    config.planner = PlannerConfig { rate_per_s: plan.planner.rate, validity: plan.planner.validity.0, ..PlannerConfig::default() };
    config.tuning = Tuning::default();
    if let Some(l) = plan.enactors.lock_lease {
        config.tuning.lock_lease = l.0;
    }
    if let Some(k) = plan.enactors.cleanup_keep {
        config.tuning.cleanup_keep = k;
    }
    let mut world = World::create(r53.clone(), log.clone(), config).await?;
    // Every enactor talks to Route 53 through the gateway, as caller `<az>`.
    if let Some(gw) = gateway {
        for az in world.azs().to_vec() {
            let (client, info) = client_via(r53, backend.info(), gw, &az).await?;
            world.route_enactor(&az, client, info);
        }
    }

    // The DNS data plane mirrors the world's zones. Its reads go through the gateway too: the
    // gateway serialises them with change batches, and LocalStack applies a batch change by
    // change, so a direct read can see half a batch (an alias flipped before its tree exists).
    let reader = match gateway {
        Some(gw) => client_via(r53, backend.info(), gw, "dataplane").await?.0,
        None => r53.clone(),
    };
    let dp = DataPlane::start(DataPlaneConfig { seed: req.seed, ..DataPlaneConfig::default() }).await?;
    let zones: Vec<MirroredZone> = world.endpoints().iter().map(|e| MirroredZone::new(&e.zone_id, &e.zone)).collect();
    let mirror = Mirror::start(
        reader.clone(),
        dp.table(),
        zones,
        MirrorConfig { propagation_delay: plan.probe.propagation_delay.0, ..MirrorConfig::default() },
    );
    let ready = Instant::now();
    while dp.zones().len() < world.endpoints().len() && ready.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let probes_path = dir.join("probes.jsonl");
    let mut probers = Vec::new();
    for (dual, kinds) in [(false, vec![RrKind::A]), (true, vec![RrKind::A, RrKind::Aaaa])] {
        let names: Vec<String> = world.endpoints().iter().filter(|e| e.dual_stack == dual).map(|e| e.name()).collect();
        if names.is_empty() {
            continue;
        }
        let mut pc = ProberConfig::new(dp.addr(), names);
        pc.kinds = kinds;
        pc.rate_per_name = plan.probe.rate;
        pc.timeout = plan.probe.timeout.0;
        pc.jsonl = Some(dir.join(format!("probes-{}.jsonl", if dual { "dualstack" } else { "ipv4" })));
        probers.push(Prober::start(pc, clock).await?);
    }

    world.start_planner();
    match plan.enactors.mode {
        EnactorMode::InProcess => world.start_enactors(),
        EnactorMode::Subprocess => world.start_enactor_processes(&req.bin, backend.info()).await?,
    }
    // Control-plane sampler for the cross-check.
    let (cp_stop_tx, cp_stop) = tokio::sync::watch::channel(false);
    let cp_task = tokio::spawn(control_plane_sampler(reader.clone(), world.endpoints().to_vec(), log.clone(), cp_stop));

    // The fault timeline, relative to now.
    let t0 = log.now_ms();
    let ctx = RunCtx { backend, bin: &req.bin, gateway };
    let mut schedule: Vec<(u64, bool, usize)> = Vec::new();
    for (i, f) in plan.faults.iter().enumerate() {
        schedule.push((f.at.ms(), true, i));
        if let Some(d) = f.duration {
            schedule.push((f.at.ms() + d.ms(), false, i));
        }
    }
    schedule.sort_by_key(|(t, start, _)| (*t, *start));
    let mut active: BTreeMap<usize, faults::Active> = BTreeMap::new();
    let mut results: BTreeMap<usize, FaultResult> = BTreeMap::new();
    for (t, is_start, i) in schedule {
        let due = t0 + t;
        let now = log.now_ms();
        if due > now {
            tokio::time::sleep(Duration::from_millis(due - now)).await;
        }
        let (id, target, label) = faults::describe(plan, i);
        let f = &plan.faults[i];
        if is_start {
            match faults::start(&mut world, &ctx, f, &id, &target).await {
                Ok(a) => {
                    log.emit(&format!("fault:{id}"), EventKind::FaultStarted { id: id.clone(), kind: f.kind.as_str().into(), target: label.clone() });
                    progress.phase(&format!("{}: fault {id} ({}) started", kind.as_str(), f.kind.as_str()));
                    results.insert(i, FaultResult { id, kind: f.kind.as_str().into(), target: label, start_ms: Some(log.now_ms()), end_ms: None, fired: false, applicable: true, evidence: String::new() });
                    if f.duration.is_some() {
                        active.insert(i, a);
                    } else {
                        let (fired, evidence) = faults::end(&mut world, &ctx, a).await;
                        let r = results.get_mut(&i).expect("just inserted");
                        r.fired = fired;
                        r.evidence = evidence;
                        r.end_ms = r.start_ms;
                    }
                }
                Err(why) => {
                    results.insert(i, faults::not_started(&id, f.kind, &label, &why));
                }
            }
        } else if let Some(a) = active.remove(&i) {
            let (fired, evidence) = faults::end(&mut world, &ctx, a).await;
            log.emit(&format!("fault:{id}"), EventKind::FaultEnded { id: id.clone(), kind: f.kind.as_str().into(), target: label });
            progress.phase(&format!("{}: fault {id} ended ({evidence})", kind.as_str()));
            if let Some(r) = results.get_mut(&i) {
                r.end_ms = Some(log.now_ms());
                r.fired = fired;
                r.evidence = evidence;
            }
        }
    }
    // The rest of the run, then a settle period for recovery.
    let run_end = t0 + plan.duration.ms();
    let now = log.now_ms();
    if run_end > now {
        tokio::time::sleep(Duration::from_millis(run_end - now)).await;
    }
    progress.phase(&format!("{}: faulted part done, settling for {} s", kind.as_str(), plan.slo.converge_within.0.as_secs()));
    tokio::time::sleep(plan.slo.converge_within.0).await;
    // Quiet tail: no new plans; give the enactors up to 8 s to apply the newest one everywhere,
    // then 1 s for the data plane to mirror it, so that "converges" judges a settled state.
    world.planner().set_paused(true);
    let quiet = Instant::now();
    if let Some(newest) = world.bus().newest() {
        while quiet.elapsed() < Duration::from_secs(8) {
            let mut done = true;
            for ep in world.endpoints() {
                done &= world.active(ep).await.ok().flatten() == Some(newest.generation);
            }
            if done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;

    let mut records: Vec<ProbeRecord> = Vec::new();
    let mut hist = crate::probe::latency_histogram();
    for p in probers {
        let run = p.stop().await;
        let _ = hist.add(&run.latency_us);
        records.extend(run.records);
    }
    cp_stop_tx.send_replace(true);
    let cp_samples = cp_task.await.unwrap_or_default();
    let end_ms = log.now_ms();
    world.stop().await;
    let mut final_state = BTreeMap::new();
    for ep in world.endpoints() {
        if let (Ok(answer), Ok(active)) = (world.answer(ep, RrKind::A).await, world.active(ep).await) {
            final_state.insert(ep.label.clone(), FinalState { active, empty: answer.is_empty_noerror(), addresses: answer.addrs.len() });
        }
    }
    mirror.stop().await;
    dp.shutdown().await;
    world.delete_zones().await;
    write_probes(&probes_path, &records)?;

    let events = log.snapshot();
    let samples = classify_all(&world, &events, &records);
    let mut summary = summarise(plan, kind, &world, &events, &samples, &hist, results.into_values().collect(), cp_samples, end_ms, &events_path, &probes_path);
    summary.reproduced_october_2025 =
        final_state.values().any(|f| f.empty) && world.azs().iter().all(|az| summary.stuck.contains_key(&format!("enactor:{az}")));
    summary.final_state = final_state;
    summary.az_loss_reaction_ms = az_loss_reaction(&world, &events);
    summary.metrics = analysis::expect::facts(&analysis::expect::RunOutcome {
        total_empty_ms: summary.total_empty_ms,
        longest_empty_ms: summary.longest_empty_ms,
        time_to_recovery_ms: summary.time_to_recovery_ms,
        az_loss_reaction_ms: summary.az_loss_reaction_ms,
        final_empty_endpoints: summary.final_state.values().filter(|f| f.empty).count() as u64,
        enactors: world.azs(),
        events: &events,
    });
    summary.expectation = plan.expect.get(&kind).map(|e| analysis::expect::evaluate(e, &summary.invariants, &summary.metrics));
    Ok(summary)
}

/// From each az-loss fault's start to the first flip of every endpoint to a plan emitted after it.
fn az_loss_reaction(world: &World, events: &[Event]) -> Option<u64> {
    let loss = events.iter().find(|e| matches!(&e.event, EventKind::FaultStarted { kind, .. } if kind == "az-loss"))?;
    let first_after = events
        .iter()
        .find_map(|e| match &e.event {
            EventKind::PlanEmitted { generation, .. } if e.t_ms >= loss.t_ms => Some(*generation),
            _ => None,
        })?;
    let mut worst = 0;
    for ep in world.endpoints() {
        let flip = events.iter().find(|e| {
            e.t_ms >= loss.t_ms && matches!(&e.event, EventKind::AliasFlipped { endpoint, to, .. } if *endpoint == ep.label && *to >= first_after)
        })?;
        worst = worst.max(flip.t_ms - loss.t_ms);
    }
    Some(worst)
}

fn write_probes(path: &Path, records: &[ProbeRecord]) -> Result<()> {
    use std::io::Write;
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut w = std::io::BufWriter::new(file);
    for r in records {
        let _ = writeln!(w, "{}", serde_json::to_string(r).expect("probe record is json"));
    }
    w.flush().map_err(|e| Error::io(path, e))
}

/// Every 250 ms, the control plane's own answer for each endpoint (A): (t_ms, label, empty).
async fn control_plane_sampler(r53: Route53, endpoints: Vec<crate::model::Endpoint>, log: EventLog, mut stop: tokio::sync::watch::Receiver<bool>) -> Vec<(u64, String, bool)> {
    let mut out = Vec::new();
    while !*stop.borrow() {
        for ep in &endpoints {
            if let Ok(records) = r53.list_records(&ep.zone_id).await {
                let snap = crate::model::ZoneSnapshot::from_sdk(&ep.zone, &records);
                let a = crate::answer::resolve(&snap, &ep.name(), RrKind::A, crate::answer::Pick::All);
                out.push((log.now_ms(), ep.label.clone(), a.is_empty_noerror()));
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = stop.changed() => {}
        }
    }
    out
}

/// Classify probes against the newest generation applied to each endpoint at their time.
fn classify_all(world: &World, events: &[Event], records: &[ProbeRecord]) -> Vec<Sample> {
    let mut flips: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
    for e in events {
        if let EventKind::AliasFlipped { endpoint, to, .. } = &e.event {
            flips.entry(endpoint.clone()).or_default().push((e.t_ms, *to));
        }
    }
    let by_name: BTreeMap<String, &crate::model::Endpoint> =
        world.endpoints().iter().map(|e| (crate::model::zone_normalize(&e.name()), e)).collect();
    let mut all_v4 = HashSet::new();
    let mut all_v6 = HashSet::new();
    for lb in crate::planner::Planner::new(PlannerConfig::default(), 0).pool() {
        all_v4.insert(IpAddr::V4(lb.ipv4));
        all_v6.insert(IpAddr::V6(lb.ipv6));
    }
    records
        .iter()
        .filter_map(|r| {
            let ep = by_name.get(&r.name)?;
            // The bootstrap plan (g1) is applied before anything else.
            let gen = flips
                .get(&ep.label)
                .map(|f| f.iter().filter(|(t, _)| *t <= r.t_ms).map(|(_, g)| *g).max().unwrap_or(1))
                .unwrap_or(1);
            let plan = world.bus().plan(gen)?;
            let (current, old): (HashSet<IpAddr>, &HashSet<IpAddr>) = match r.qtype {
                RrKind::Aaaa => (plan.ipv6s().into_iter().map(IpAddr::V6).collect(), &all_v6),
                _ => (plan.ipv4s().into_iter().map(IpAddr::V4).collect(), &all_v4),
            };
            let class = classify(&r.outcome, &current, old);
            let qtype = if r.qtype == RrKind::Aaaa { "AAAA" } else { "A" };
            Some(Sample { t_ms: r.t_ms, name: format!("{} {qtype}", ep.label), class })
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn summarise(
    plan: &crate::scenario::ChaosPlan,
    kind: EnactorKind,
    world: &World,
    events: &[Event],
    samples: &[Sample],
    hist: &hdrhistogram::Histogram<u64>,
    faults: Vec<FaultResult>,
    cp: Vec<(u64, String, bool)>,
    end_ms: u64,
    events_path: &Path,
    probes_path: &Path,
) -> EnactorSummary {
    let windows = analysis::windows(samples, events, end_ms);
    let empty: Vec<EmptyWindow> = windows
        .iter()
        .filter(|w| w.class == ProbeClass::Empty)
        .map(|w| EmptyWindow { name: w.name.clone(), start_ms: w.start_ms, end_ms: w.end_ms, duration_ms: w.duration_ms })
        .collect();
    // Timeouts alone are the loss of the measurement, not an outage of the name.
    let outage: Vec<&analysis::Window> = windows.iter().filter(|w| w.class != ProbeClass::Timeout).collect();
    let time_to_recovery_ms = if outage.iter().any(|w| w.recovery_ms.is_none()) {
        None
    } else {
        Some(outage.iter().filter_map(|w| w.recovery_ms).max().unwrap_or(0))
    };
    let mut invariants = Vec::new();
    for inv in &plan.slo.invariants {
        invariants.push(match inv {
            Invariant::GenerationMonotonic => analysis::generation_monotonic(events),
            Invariant::ActiveNeverDeleted => analysis::active_never_deleted(events),
            Invariant::NoEmptyAnswer => analysis::no_empty_answer(&windows),
            Invariant::Converges => analysis::converges(samples, 20),
        });
    }
    let mut probe_counts: BTreeMap<String, u64> = BTreeMap::new();
    for s in samples {
        *probe_counts.entry(format!("{:?}", s.class).to_lowercase()).or_default() += 1;
    }
    let mut generations: BTreeMap<String, Vec<Flip>> = BTreeMap::new();
    let mut counters: BTreeMap<String, u64> = BTreeMap::new();
    for e in events {
        let key = match &e.event {
            EventKind::AliasFlipped { endpoint, to, .. } => {
                generations.entry(endpoint.clone()).or_default().push(Flip { t_ms: e.t_ms, generation: *to, enactor: e.source.clone() });
                "flips"
            }
            EventKind::PlanEmitted { .. } => "plans",
            EventKind::BatchCommitted { .. } => "batches_committed",
            EventKind::BatchRejected { .. } => "batches_rejected",
            EventKind::LockBusy { .. } => "lock_busy",
            EventKind::CleanupDeleted { .. } => "cleanups",
            EventKind::Alarm { .. } => "alarms",
            EventKind::Stuck { .. } => "stuck",
            _ => continue,
        };
        *counters.entry(key.into()).or_default() += 1;
    }
    let total_empty_ms: u64 = empty.iter().map(|w| w.duration_ms).sum();
    let longest_empty_ms = empty.iter().map(|w| w.duration_ms).max().unwrap_or(0);
    // Control-plane empty time per endpoint: from each empty sample to the next sample.
    let mut cp_by_ep: BTreeMap<&str, Vec<(u64, bool)>> = BTreeMap::new();
    for (t, label, empty) in &cp {
        cp_by_ep.entry(label.as_str()).or_default().push((*t, *empty));
    }
    let mut cp_empty = 0;
    let mut difference = 0;
    let mut gaps = Vec::new();
    for (label, samples) in &cp_by_ep {
        let mine: u64 = samples.windows(2).filter(|w| w[0].1).map(|w| w[1].0 - w[0].0).sum();
        gaps.extend(samples.windows(2).map(|w| w[1].0 - w[0].0));
        let probed: u64 = empty.iter().filter(|w| w.name == format!("{label} A")).map(|w| w.duration_ms).sum();
        cp_empty += mine;
        difference += mine.abs_diff(probed);
    }
    let probe_empty_a: u64 = empty.iter().filter(|w| w.name.ends_with(" A")).map(|w| w.duration_ms).sum();
    gaps.sort_unstable();
    let cp_interval = gaps.get(gaps.len() / 2).copied().unwrap_or(0);
    let first_bad = windows.iter().filter(|w| w.class != ProbeClass::Timeout).map(|w| w.start_ms).min();
    let time_to_detect_ms = first_bad.and_then(|start| {
        events
            .iter()
            .filter(|e| e.t_ms >= start && matches!(e.event, EventKind::Alarm { .. } | EventKind::Stuck { .. } | EventKind::Frozen { .. }))
            .map(|e| e.t_ms - start)
            .min()
    });
    let mut failures = Vec::new();
    if longest_empty_ms > plan.slo.max_empty_window.ms() {
        failures.push(format!("longest empty-answer window {longest_empty_ms} ms > max-empty-window {} ms", plan.slo.max_empty_window.ms()));
    }
    match time_to_recovery_ms {
        None => failures.push("an outage never recovered (time to recovery: never)".into()),
        Some(t) if t > plan.slo.max_time_to_recovery.ms() => {
            failures.push(format!("time to recovery {t} ms > max-time-to-recovery {} ms", plan.slo.max_time_to_recovery.ms()))
        }
        _ => {}
    }
    for inv in &invariants {
        if !inv.held {
            failures.push(format!("invariant {} violated: {}", inv.name, inv.first_violation.clone().unwrap_or_default()));
        }
    }
    for f in &faults {
        if f.applicable && !f.fired {
            failures.push(format!("fault {} ({}) never fired: {}", f.id, f.kind, f.evidence));
        }
    }
    let latency = Latency {
        p50_us: hist.value_at_quantile(0.5),
        p90_us: hist.value_at_quantile(0.9),
        p99_us: hist.value_at_quantile(0.99),
        max_us: hist.max(),
        count: hist.len(),
    };
    EnactorSummary {
        implementation: kind.as_str().into(),
        enactors: world.azs().to_vec(),
        run_ms: end_ms,
        time_to_recovery_after_fault_ms: outage.iter().filter_map(|w| w.recovery_after_fault_ms).max(),
        time_to_detect_ms,
        total_empty_ms,
        longest_empty_ms,
        availability_pct: analysis::availability(samples),
        empty_windows: empty,
        time_to_recovery_ms,
        probe_counts,
        latency,
        windows,
        invariants,
        faults,
        stuck: analysis::stuck_enactors(events).into_iter().map(|(k, v)| (k, v.into_iter().collect())).collect(),
        generations,
        counters,
        cross_check: CrossCheck {
            control_plane_empty_ms: cp_empty,
            probe_empty_ms: probe_empty_a,
            difference_ms: difference,
            control_plane_samples: cp.len() as u64,
            control_plane_interval_ms: cp_interval,
        },
        verdict: Verdict { passed: failures.is_empty(), failures },
        final_state: BTreeMap::new(),
        az_loss_reaction_ms: None,
        reproduced_october_2025: false,
        metrics: Default::default(),
        expectation: None,
        events_path: events_path.display().to_string(),
        probes_path: probes_path.display().to_string(),
    }
}
