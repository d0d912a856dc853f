//! A world: the system under test assembled on a backend. Hosted zones for the endpoints (one
//! each, named uniquely so that several worlds can share one backend), a bootstrap plan applied
//! directly, a planner, and the enactors, all logging to one event log.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_route53::types::ChangeAction;
use tokio::sync::watch;
use tokio::task::JoinSet;

pub use crate::model::az_name;
use crate::answer::{self, Answer, Pick};
use crate::route53::BackendInfo;
use crate::enactor::subprocess::{ChildEnactor, ProcessSpec};
use crate::enactor::{self, core, Checkpoints, Ctx, EnactorKind, Tuning};
use crate::error::{Error, Result};
use crate::events::{EventKind, EventLog};
use crate::model::{Endpoint, Plan, RrKind, ZoneSnapshot, DEFAULT_TTL};
use crate::planner::{PlanBus, Planner, PlannerConfig, PlannerControl};
use crate::route53::records::{change, plain, quote_txt};
use crate::route53::Route53;
use crate::seeds::SeedTree;
use crate::route53::convert::SdkSnapshot;

/// What to assemble.
#[derive(Debug, Clone)]
pub struct WorldConfig {
    /// The schedule seed (the plan stream).
    pub seed: u64,
    /// The jitter seed (the enactors' pickup and backoff jitter).
    pub jitter_seed: u64,
    pub implementation: EnactorKind,
    /// Enactors requested (default 3, one per AZ); `single` runs at most a primary and a standby.
    pub enactors: usize,
    /// (label, dual stack) per endpoint; default a regional IPv4 name and a dual-stack name.
    pub endpoints: Vec<(String, bool)>,
    pub planner: PlannerConfig,
    pub tuning: Tuning,
    /// Where enactor processes' stderr goes, as `enactor-<az>.stderr.log` (else to ours, prefixed).
    pub process_logs: Option<std::path::PathBuf>,
}

impl WorldConfig {
    pub fn new(implementation: EnactorKind, seed: u64) -> Self {
        WorldConfig {
            seed,
            jitter_seed: seed,
            implementation,
            enactors: 3,
            endpoints: vec![("regional".into(), false), ("dualstack".into(), true)],
            planner: PlannerConfig::default(),
            tuning: Tuning::default(),
            process_logs: None,
        }
    }
}

pub struct World {
    config: WorldConfig,
    r53: Route53,
    endpoints: Vec<Endpoint>,
    bus: PlanBus,
    log: EventLog,
    checkpoints: Checkpoints,
    planner_control: Arc<PlannerControl>,
    /// The AZs of the enactors, in start order.
    azs: Vec<String>,
    planner: Option<Planner>,
    stop_tx: watch::Sender<bool>,
    tasks: JoinSet<()>,
    /// Enactors running as child processes, when started with [`World::start_enactor_processes`].
    children: Vec<ChildEnactor>,
    /// Abort handles of in-process enactors, by index (for crash and az-loss faults).
    enactor_tasks: Vec<Option<tokio::task::AbortHandle>>,
    /// Per-AZ Route 53 clients (e.g. through the fault gateway under `/e/<az>`); others use `r53`.
    r53_for: std::collections::BTreeMap<String, Route53>,
    /// Per-AZ backend info for subprocess enactors (the gateway URL for that AZ).
    backend_for: std::collections::BTreeMap<String, BackendInfo>,
    /// What replaced (crashed and restarted) enactor processes did wrong.
    process_problems: Vec<String>,
}

/// Read access to the parts of a world that faults and the runner act on.
impl World {
    pub fn config(&self) -> &WorldConfig {
        &self.config
    }

    /// The client the harness itself uses (set-up, zone reads).
    pub fn r53(&self) -> &Route53 {
        &self.r53
    }

    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    pub fn bus(&self) -> &PlanBus {
        &self.bus
    }

    pub fn log(&self) -> &EventLog {
        &self.log
    }

    pub fn checkpoints(&self) -> &Checkpoints {
        &self.checkpoints
    }

    /// The planner's controls (pause, rate, bursts, AZs down).
    pub fn planner(&self) -> &PlannerControl {
        &self.planner_control
    }

    /// The AZs of the enactors, in start order.
    pub fn azs(&self) -> &[String] {
        &self.azs
    }

    /// Enactors running as child processes.
    pub fn children(&self) -> &[ChildEnactor] {
        &self.children
    }

    /// Route the enactor in `az` through `client` (e.g. the fault gateway under `/e/<az>`);
    /// `info` is what a subprocess enactor there is told about its backend.
    pub fn route_enactor(&mut self, az: &str, client: Route53, info: BackendInfo) {
        self.r53_for.insert(az.to_string(), client);
        self.backend_for.insert(az.to_string(), info);
    }
}

impl World {
    /// Create the zones and apply the bootstrap plan (generation 1). Nothing runs yet.
    pub async fn create(r53: Route53, log: EventLog, config: WorldConfig) -> Result<World> {
        let tag = log.clock().unique_id()[..8].to_string();
        let mut endpoints = Vec::new();
        for (label, dual) in &config.endpoints {
            let zone = format!("{label}.{tag}.dnschaos.test.");
            let zone_id = r53.create_zone(&zone).await?;
            endpoints.push(Endpoint::new(label, &zone, &zone_id, *dual));
        }
        let mut planner = Planner::new(config.planner.clone(), SeedTree::new(config.seed).planner());
        let bus = PlanBus::new();
        let first = planner.next_plan(log.now_ms());
        for ep in &endpoints {
            bootstrap(&r53, ep, &first).await?;
        }
        log.emit(
            "planner",
            EventKind::PlanEmitted {
                generation: first.generation,
                lbs: first.members.iter().map(|m| m.lb.id.clone()).collect(),
                valid_until_ms: first.valid_until_ms,
            },
        );
        log.emit("harness", EventKind::Note { message: format!("bootstrap applied g{} to every endpoint", first.generation) });
        bus.publish(first);
        let n = enactor::instances(config.implementation, config.enactors, &config.tuning);
        let (stop_tx, _) = watch::channel(false);
        Ok(World {
            planner_control: planner.control.clone(),
            planner: Some(planner),
            azs: (0..n).map(az_name).collect(),
            config,
            r53,
            endpoints,
            bus,
            log,
            checkpoints: Checkpoints::new(),
            stop_tx,
            tasks: JoinSet::new(),
            children: Vec::new(),
            enactor_tasks: Vec::new(),
            r53_for: Default::default(),
            backend_for: Default::default(),
            process_problems: Vec::new(),
        })
    }

    /// Emit `n` plans right now, by hand (only before [`World::start_planner`]); returns the
    /// newest generation.
    pub fn emit_plans(&mut self, n: usize) -> Option<u64> {
        let planner = self.planner.as_mut()?;
        let mut last = None;
        for _ in 0..n {
            let plan = planner.next_plan(self.log.now_ms());
            self.log.emit(
                "planner",
                EventKind::PlanEmitted {
                    generation: plan.generation,
                    lbs: plan.members.iter().map(|m| m.lb.id.clone()).collect(),
                    valid_until_ms: plan.valid_until_ms,
                },
            );
            last = Some(plan.generation);
            self.bus.publish(plan);
        }
        last
    }

    /// Start the planner's plan stream.
    pub fn start_planner(&mut self) {
        if let Some(planner) = self.planner.take() {
            let (bus, log, stop) = (self.bus.clone(), self.log.clone(), self.stop_tx.subscribe());
            self.tasks.spawn(planner.run(bus, log, stop));
        }
    }

    /// Start every enactor as a task of this process.
    pub fn start_enactors(&mut self) {
        for i in 0..self.azs.len() {
            self.spawn_enactor(i);
        }
    }

    fn spawn_enactor(&mut self, i: usize) {
        let ctx = self.enactor_ctx(&self.azs[i].clone());
        let e = enactor::build(self.config.implementation, i, &self.config.tuning);
        let handle = self.tasks.spawn(enactor::drive(e, ctx));
        if self.enactor_tasks.len() <= i {
            self.enactor_tasks.resize(i + 1, None);
        }
        self.enactor_tasks[i] = Some(handle);
    }

    /// Kill enactor `i` at once, wherever it is (an in-process task is aborted, a child killed).
    pub async fn crash_enactor(&mut self, i: usize) -> Result<()> {
        if let Some(Some(handle)) = self.enactor_tasks.get_mut(i).map(Option::take) {
            handle.abort();
            self.log.emit(&format!("enactor:{}", self.azs[i]), EventKind::EnactorStopped { reason: "crashed".into() });
            return Ok(());
        }
        let az = self.azs.get(i).cloned().ok_or_else(|| Error::bad_input(format!("no enactor {i}")))?;
        match self.children.iter_mut().find(|c| c.az == az) {
            Some(c) => {
                c.kill().await;
                self.log.emit(&format!("enactor:{az}"), EventKind::EnactorStopped { reason: "crashed".into() });
                Ok(())
            }
            None => Err(Error::bad_input(format!("enactor {i} is not running"))),
        }
    }

    /// Start enactor `i` afresh after a crash.
    pub async fn restart_enactor(&mut self, i: usize, bin: &std::path::Path, backend: &BackendInfo) -> Result<()> {
        if self.children.is_empty() && self.config.implementation.is_builtin() {
            self.spawn_enactor(i);
            Ok(())
        } else {
            self.restart_child(i, bin, backend).await
        }
    }

    /// Start every enactor as a process through the outside-enactor protocol: a built-in as
    /// `bin enactor --impl K`, an outside enactor as its own command; each talks to its AZ's
    /// route (the fault gateway) or `backend`.
    pub async fn start_enactor_processes(&mut self, bin: &std::path::Path, backend: &BackendInfo) -> Result<()> {
        for i in 0..self.azs.len() {
            let child = self.spawn_process(i, bin, backend).await?;
            self.children.push(child);
        }
        Ok(())
    }

    async fn spawn_process(&self, index: usize, bin: &std::path::Path, backend: &BackendInfo) -> Result<ChildEnactor> {
        let kind = self.config.implementation;
        let az = self.azs[index].clone();
        let info = self.backend_for.get(&az).unwrap_or(backend);
        let route53_url = info.endpoint_url.clone().ok_or_else(|| {
            Error::setup(format!("enactor {kind} in {az} runs as a process and needs a Route 53 URL; the backend {} has none (hint: run against LocalStack)", info.kind))
        })?;
        let (program, checkpoints) = match kind.outside_spec() {
            Some(o) => (o.command.clone(), o.checkpoints),
            None => (vec![bin.to_string_lossy().into_owned(), "enactor".into(), "--impl".into(), kind.as_str().into()], true),
        };
        let spec = ProcessSpec {
            az: az.clone(),
            index,
            seed: SeedTree::with_jitter(self.config.seed, self.config.jitter_seed).enactor(&az),
            epoch_ms: self.log.epoch_ms(),
            endpoints: self.endpoints.clone(),
            tuning: self.config.tuning.clone(),
            route53_url,
            checkpoints,
        };
        let stderr_log = self.config.process_logs.as_ref().map(|d| d.join(format!("enactor-{az}.stderr.log")));
        ChildEnactor::spawn(&program, kind.as_str(), &spec, &self.bus, &self.log, &self.checkpoints, &self.stop_tx.subscribe(), stderr_log.as_deref()).await
    }

    /// A context for the enactor in `az`.
    pub fn enactor_ctx(&self, az: &str) -> Ctx {
        Ctx::new(
            az,
            SeedTree::with_jitter(self.config.seed, self.config.jitter_seed),
            self.r53_for.get(az).cloned().unwrap_or_else(|| self.r53.clone()),
            self.endpoints.clone(),
            self.bus.subscribe(az),
            self.log.clone(),
            self.checkpoints.clone(),
            self.config.tuning.clone(),
            self.stop_tx.subscribe(),
        )
    }

    /// Restart the enactor process at `index` (after a crash fault).
    pub async fn restart_child(&mut self, index: usize, bin: &std::path::Path, backend: &BackendInfo) -> Result<()> {
        let child = self.spawn_process(index, bin, backend).await?;
        match self.children.iter().position(|c| c.az == child.az) {
            Some(i) => {
                let old = std::mem::replace(&mut self.children[i], child);
                self.process_problems.extend(old.stop().await);
            }
            None => self.children.push(child),
        }
        Ok(())
    }

    /// Stop the planner and enactors; holds are released so nobody waits forever. Returns
    /// what enactor processes did wrong as processes (see `enactor::subprocess`); empty for
    /// in-process enactors.
    pub async fn stop(&mut self) -> Vec<String> {
        self.stop_tx.send_replace(true);
        self.checkpoints.release_all();
        let mut problems = std::mem::take(&mut self.process_problems);
        let stopping = self.children.drain(..).map(|c| c.stop());
        problems.extend(futures_util::future::join_all(stopping).await.into_iter().flatten());
        let join = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(20), join).await.is_err() {
            tracing::warn!("world tasks did not stop within 20 s: aborting them");
            self.tasks.abort_all();
        }
        problems
    }

    /// The endpoint's zone as listed now.
    pub async fn snapshot(&self, ep: &Endpoint) -> Result<ZoneSnapshot> {
        let records = self
            .r53
            .list_records(&ep.zone_id)
            .await
            .map_err(|e| Error::Route53 { operation: "ListResourceRecordSets", message: e.to_string() })?;
        Ok(ZoneSnapshot::from_sdk(&ep.zone, &records))
    }

    /// What DNS would answer now for `ep`'s name (all weighted members), from the control plane.
    pub async fn answer(&self, ep: &Endpoint, kind: RrKind) -> Result<Answer> {
        let snap = self.snapshot(ep).await?;
        Ok(answer::resolve(&snap, &ep.name(), kind, Pick::All))
    }

    /// The active generation of `ep` now.
    pub async fn active(&self, ep: &Endpoint) -> Result<Option<u64>> {
        let snap = self.snapshot(ep).await?;
        Ok(core::EndpointState::from_snapshot(ep, snap).active)
    }

    /// Delete this world's zones (only ours).
    pub async fn delete_zones(&self) {
        for ep in &self.endpoints {
            if let Err(e) = self.r53.delete_zone(&ep.zone_id).await {
                tracing::warn!(zone = %ep.zone, error = %e, "could not delete a world zone");
            }
        }
    }
}

/// The initial healthy state: a free lock, the fence at g1, plan 1's tree, alias and rollback.
/// All UPSERTs (nobody else writes yet), so a batch whose answer was lost can be sent again.
async fn bootstrap(r53: &Route53, ep: &Endpoint, plan: &Plan) -> Result<()> {
    let mut changes = vec![
        change(
            ChangeAction::Upsert,
            plain(&ep.lock_name(), aws_sdk_route53::types::RrType::Txt, DEFAULT_TTL, &[&quote_txt(
                &core::LockValue::free().render(),
            )]),
        ),
        change(ChangeAction::Upsert, enactor_fence(ep, plan.generation)),
    ];
    changes.extend(core::tree_changes(ep, plan));
    changes.extend(core::flip_changes(ep, plan.generation, plan.generation));
    let mut attempt = 0;
    loop {
        attempt += 1;
        match r53.change(&ep.zone_id, changes.clone(), Some("dnschaos bootstrap")).await {
            Ok(_) => return Ok(()),
            Err(e) if attempt < 3 && matches!(e.code.as_str(), "Dispatch" | "Timeout" | "ResponseError") => {
                tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
            }
            Err(e) => {
                return Err(Error::Route53 { operation: "ChangeResourceRecordSets", message: format!("bootstrap of {}: {e}", ep.zone) })
            }
        }
    }
}

fn enactor_fence(ep: &Endpoint, generation: u64) -> aws_sdk_route53::types::ResourceRecordSet {
    plain(&ep.fence_name(), aws_sdk_route53::types::RrType::Txt, DEFAULT_TTL, &[&quote_txt(&format!("g={generation};n=0"))])
}
