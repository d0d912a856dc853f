//! Building blocks every enactor uses: reading an endpoint's state, the record tree of a plan,
//! the TXT-lock preamble, a locked change batch with retries, and tree deletion.
//!
//! The decisions (which plan, what to check, what to delete) live in the implementation files;
//! this file only does what they ask, and logs every step.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_route53::types::{Change, ChangeAction};
use rand::Rng;

use super::{Ctx, Point};
use crate::events::EventKind;
use crate::model::{Endpoint, Plan, RecordKind, RecordSet, RrKind, ZoneSnapshot, DEFAULT_TTL};
use crate::route53::records::{change, quote_txt};
use crate::route53::ApiError;
use crate::route53::convert::SdkRecordSet;

/// A parsed lock value: `holder=<az>;until=<epoch ms>;n=<nonce>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockValue {
    pub holder: String,
    pub until_ms: u64,
    pub nonce: String,
}

impl LockValue {
    pub fn parse(s: &str) -> Option<Self> {
        let mut holder = None;
        let mut until = None;
        let mut nonce = String::new();
        for part in s.split(';') {
            match part.split_once('=') {
                Some(("holder", v)) => holder = Some(v.to_string()),
                Some(("until", v)) => until = v.parse().ok(),
                Some(("n", v)) => nonce = v.to_string(),
                _ => {}
            }
        }
        Some(LockValue { holder: holder?, until_ms: until?, nonce })
    }

    pub fn render(&self) -> String {
        format!("holder={};until={};n={}", self.holder, self.until_ms, self.nonce)
    }

    /// The value of a lock nobody holds.
    pub fn free() -> Self {
        LockValue { holder: "none".into(), until_ms: 0, nonce: "0".into() }
    }
}

/// What an enactor knows about one endpoint after one read of its zone.
#[derive(Debug, Clone, Default)]
pub struct EndpointState {
    /// Shared: a state is cloned for every reader of one listing, and nothing changes it.
    pub snapshot: Arc<ZoneSnapshot>,
    /// Every TXT record set at the lock name (one on Route 53; LocalStack may keep duplicates).
    pub locks: Vec<RecordSet>,
    /// The generation the customer-facing alias points at.
    pub active: Option<u64>,
    /// The generation the rollback record points at.
    pub rollback: Option<u64>,
    /// Every TXT record set at the fence name (`fenced` only).
    pub fences: Vec<RecordSet>,
    /// Records of each generation's tree (root members and leaves).
    pub trees: Arc<BTreeMap<u64, Vec<RecordSet>>>,
}

impl EndpointState {
    pub fn from_snapshot(ep: &Endpoint, snapshot: ZoneSnapshot) -> Self {
        Self::shared(ep, Arc::new(snapshot))
    }

    /// [`EndpointState::from_snapshot`] of a snapshot others hold too.
    pub fn shared(ep: &Endpoint, snapshot: Arc<ZoneSnapshot>) -> Self {
        let mut st = EndpointState::default();
        let mut trees: BTreeMap<u64, Vec<RecordSet>> = BTreeMap::new();
        for r in &snapshot.records {
            match ep.classify(&r.name) {
                RecordKind::Alias if r.kind == RrKind::A => st.active = r.alias.as_deref().and_then(|t| ep.generation_of(t)),
                RecordKind::Rollback if r.kind == RrKind::A => {
                    st.rollback = r.alias.as_deref().and_then(|t| ep.generation_of(t))
                }
                RecordKind::Lock if r.kind == RrKind::Txt => st.locks.push(r.clone()),
                RecordKind::Fence if r.kind == RrKind::Txt => st.fences.push(r.clone()),
                RecordKind::PlanRoot(g) | RecordKind::Leaf { generation: g, .. } => {
                    trees.entry(g).or_default().push(r.clone())
                }
                _ => {}
            }
        }
        st.trees = Arc::new(trees);
        st.snapshot = snapshot;
        st
    }

    /// The lock's holder while its lease runs, if any (the latest lease among duplicates).
    pub fn live_holder(&self, now_epoch_ms: u64) -> Option<LockValue> {
        self.locks
            .iter()
            .filter_map(|r| r.txt_value().and_then(|v| LockValue::parse(&v)))
            .filter(|l| l.until_ms > now_epoch_ms && l.holder != "none")
            .max_by_key(|l| l.until_ms)
    }

    /// True when the root of `generation` exists (its weighted set has an A member).
    pub fn tree_exists(&self, ep: &Endpoint, generation: u64) -> bool {
        let root = crate::model::zone_normalize(&ep.root_name(generation));
        self.trees.get(&generation).is_some_and(|rs| rs.iter().any(|r| r.name == root && r.kind == RrKind::A))
    }

    /// True when every record of `plan`'s tree exists.
    pub fn tree_complete(&self, ep: &Endpoint, plan: &Plan) -> bool {
        let have = self.trees.get(&plan.generation).map(Vec::as_slice).unwrap_or(&[]);
        tree_records(ep, plan).iter().all(|want| {
            have.iter().any(|h| h.name == want.name && h.kind == want.kind && h.set_id == want.set_id)
        })
    }

    /// The applied generation recorded in the fence (the highest value if duplicated), and
    /// whether any fence value could not be read.
    pub fn fence(&self) -> (Option<u64>, bool) {
        let mut garbled = false;
        let mut best = None;
        for r in &self.fences {
            let parsed = r.txt_value().and_then(|v| {
                v.split(';').find_map(|part| part.strip_prefix("g=")).and_then(|g| g.parse::<u64>().ok())
            });
            match parsed {
                Some(g) => best = best.max(Some(g)),
                None => garbled = true,
            }
        }
        (best, garbled)
    }
}

/// The records of `plan`'s tree on `ep`: one leaf per load balancer (A, and AAAA when dual
/// stack) and the plan's root, a weighted set of aliases to the leaves.
pub fn tree_records(ep: &Endpoint, plan: &Plan) -> Vec<RecordSet> {
    let mut out = Vec::new();
    let kinds: &[RrKind] = if ep.dual_stack { &[RrKind::A, RrKind::Aaaa] } else { &[RrKind::A] };
    let root = crate::model::zone_normalize(&ep.root_name(plan.generation));
    for m in &plan.members {
        let leaf = crate::model::zone_normalize(&ep.leaf_name(plan.generation, &m.lb.id));
        for kind in kinds {
            let value = match kind {
                RrKind::A => m.lb.ipv4.to_string(),
                _ => m.lb.ipv6.to_string(),
            };
            out.push(RecordSet {
                name: leaf.clone(),
                kind: *kind,
                ttl: Some(DEFAULT_TTL),
                values: vec![value],
                set_id: None,
                weight: None,
                alias: None,
            });
            out.push(RecordSet {
                name: root.clone(),
                kind: *kind,
                ttl: None,
                values: vec![],
                // Unique per generation: LocalStack deletes weighted records by SetIdentifier
                // across the whole zone (see the weighted-delete-scope conformance check).
                set_id: Some(format!("g{:08}-{}", plan.generation, m.lb.id)),
                weight: Some(m.weight as i64),
                alias: Some(leaf.clone()),
            });
        }
    }
    out
}

/// UPSERTs that (re)build `plan`'s tree. Idempotent.
pub fn tree_changes(ep: &Endpoint, plan: &Plan) -> Vec<Change> {
    // Leaves first, so that aliases never point at a leaf created later in the batch.
    let mut records = tree_records(ep, plan);
    records.sort_by_key(|r| r.alias.is_some());
    records.iter().map(|r| change(ChangeAction::Upsert, r.to_sdk(&ep.zone_id))).collect()
}

/// UPSERTs that flip the customer-facing alias to `to` and the rollback record to `rollback`,
/// in the same batch as Route 53's model requires.
pub fn flip_changes(ep: &Endpoint, to: u64, rollback: u64) -> Vec<Change> {
    let kinds: &[RrKind] = if ep.dual_stack { &[RrKind::A, RrKind::Aaaa] } else { &[RrKind::A] };
    let mut out = Vec::new();
    for kind in kinds {
        for (name, target) in [(ep.name(), ep.root_name(to)), (ep.rollback_name(), ep.root_name(rollback))] {
            let rs = RecordSet {
                name: crate::model::zone_normalize(&name),
                kind: *kind,
                ttl: None,
                values: vec![],
                set_id: None,
                weight: None,
                alias: Some(crate::model::zone_normalize(&target)),
            };
            out.push(change(ChangeAction::Upsert, rs.to_sdk(&ep.zone_id)));
        }
    }
    out
}

/// The lock preamble: DELETE every lock value we saw, exactly as seen, then CREATE ours.
/// On Route 53 a changed lock makes the DELETE fail and the whole batch abort.
pub fn lock_preamble(ep: &Endpoint, state: &EndpointState, mine: &LockValue) -> Vec<Change> {
    let mut out: Vec<Change> =
        state.locks.iter().map(|r| change(ChangeAction::Delete, r.to_sdk(&ep.zone_id))).collect();
    out.push(change(
        ChangeAction::Create,
        crate::route53::records::plain(&ep.lock_name(), aws_sdk_route53::types::RrType::Txt, DEFAULT_TTL, &[&quote_txt(
            &mine.render(),
        )]),
    ));
    out
}

/// DELETE (as listed) the records of the given generations' trees.
pub fn delete_tree_changes(ep: &Endpoint, state: &EndpointState, generations: &[u64]) -> Vec<Change> {
    let mut out = Vec::new();
    for g in generations {
        if let Some(records) = state.trees.get(g) {
            // Root members (aliases) before the leaves they point at.
            let mut rs: Vec<&RecordSet> = records.iter().collect();
            rs.sort_by_key(|r| r.alias.is_none());
            out.extend(rs.into_iter().map(|r| change(ChangeAction::Delete, r.to_sdk(&ep.zone_id))));
        }
    }
    out
}

/// What a batch builder decided after seeing the state.
pub enum Build {
    /// Send these changes after the lock preamble.
    Changes(Vec<Change>),
    /// Nothing to do here (e.g. already applied, or the plan is stale): not an error.
    Skip(String),
    /// Cannot go on (e.g. the rollback target is gone): the caller decides what that means.
    Abort(String),
}

/// How a locked batch ended.
pub enum BatchOutcome {
    /// Committed; `state` is what the batch was built from.
    Committed { state: EndpointState },
    Skipped { reason: String, state: EndpointState },
    Aborted { reason: String, state: EndpointState },
    /// The enactor was told to stop.
    Stopped,
}

/// Read one endpoint's zone.
pub async fn read_state(ctx: &Ctx, ep: &Endpoint) -> Result<EndpointState, ApiError> {
    let snapshot = ctx.r53.read_zone(&ep.zone_id, &ep.zone).await?;
    Ok(parsed(ep, snapshot))
}

/// How many parsed listings each thread keeps.
const PARSED_KEPT: usize = 4;

thread_local! {
    /// The last snapshots parsed on this thread, with the state each gave. The simulated backend
    /// hands every reader of one zone state the same shared snapshot, so the enactors that read
    /// it between two changes share one parse; a listing over HTTP is new at every read and
    /// never matches. Each entry holds its snapshot, so a pointer is never reused while kept.
    static PARSED: std::cell::RefCell<Vec<(Arc<ZoneSnapshot>, String, EndpointState)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The state `snapshot` gives for `ep` (a pure function of the two, memoised per snapshot).
fn parsed(ep: &Endpoint, records: Arc<ZoneSnapshot>) -> EndpointState {
    let hit = PARSED.with(|p| p.borrow().iter().find(|(r, zone, _)| Arc::ptr_eq(r, &records) && *zone == ep.zone).map(|(_, _, s)| s.clone()));
    if let Some(state) = hit {
        return state;
    }
    let state = EndpointState::shared(ep, records.clone());
    PARSED.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() >= PARSED_KEPT {
            p.remove(0);
        }
        p.push((records, ep.zone.clone(), state.clone()));
    });
    state
}

/// Exponential backoff with jitter: base * 2^(attempt-1), capped, times [0.5, 1.5).
pub fn backoff(ctx: &mut Ctx, attempt: u32) -> Duration {
    let t = &ctx.tuning;
    let exp = t.backoff_base.as_secs_f64() * 2f64.powi(attempt.saturating_sub(1).min(20) as i32);
    let capped = exp.min(t.backoff_cap.as_secs_f64());
    Duration::from_secs_f64(capped * ctx.rng.gen_range(0.5..1.5))
}

/// Read the endpoint, wait for the lock, let `build` decide from what was read, and send the
/// lock preamble plus the changes as one batch. A rejected batch (lock changed, throttled...)
/// is retried with backoff until it commits, `build` skips or aborts, or the enactor stops.
pub async fn locked_batch<F>(ctx: &mut Ctx, ep: &Endpoint, generation: u64, purpose: &str, build: F) -> BatchOutcome
where
    F: FnMut(&mut Ctx, &EndpointState) -> Build,
{
    locked_batch_bounded(ctx, ep, generation, purpose, u32::MAX, build).await
}

/// [`locked_batch`] that gives up (as `Aborted`) after `max_attempts` attempts.
pub async fn locked_batch_bounded<F>(
    ctx: &mut Ctx,
    ep: &Endpoint,
    generation: u64,
    purpose: &str,
    max_attempts: u32,
    mut build: F,
) -> BatchOutcome
where
    F: FnMut(&mut Ctx, &EndpointState) -> Build,
{
    let mut attempt = 0u32;
    let mut last = EndpointState::default();
    loop {
        attempt += 1;
        if ctx.stopped() {
            return BatchOutcome::Stopped;
        }
        if attempt > max_attempts {
            return BatchOutcome::Aborted { reason: format!("gave up after {max_attempts} attempts"), state: last };
        }
        let Some(state) = read_state_retrying(ctx, ep, generation, &format!("{purpose}-read")).await else {
            return BatchOutcome::Stopped;
        };
        let now = ctx.log.clock().epoch_ms();
        if let Some(holder) = state.live_holder(now).filter(|l| l.holder != ctx.az) {
            let wait = backoff(ctx, attempt);
            ctx.emit(EventKind::LockBusy {
                endpoint: ep.label.clone(),
                holder: holder.holder.clone(),
                attempt,
                backoff_ms: wait.as_millis() as u64,
            });
            if ctx.sleep(wait).await {
                return BatchOutcome::Stopped;
            }
            continue;
        }
        last = state.clone();
        let changes = match build(ctx, &state) {
            Build::Changes(c) => c,
            Build::Skip(reason) => return BatchOutcome::Skipped { reason, state },
            Build::Abort(reason) => return BatchOutcome::Aborted { reason, state },
        };
        ctx.checkpoint(Point::BeforeBatch, generation).await;
        if ctx.stopped() {
            return BatchOutcome::Stopped;
        }
        let mine = LockValue {
            holder: ctx.az.clone(),
            until_ms: ctx.log.clock().epoch_ms() + ctx.tuning.lock_lease.as_millis() as u64,
            nonce: format!("{:08x}", ctx.rng.gen::<u32>()),
        };
        let mut batch = lock_preamble(ep, &state, &mine);
        batch.extend(changes);
        ctx.emit(EventKind::BatchSent {
            endpoint: ep.label.clone(),
            generation,
            purpose: purpose.to_string(),
            changes: batch.len(),
            attempt,
        });
        let sent = ctx.log.clock().now();
        let result = ctx.r53.change(&ep.zone_id, batch, Some(&format!("{} {purpose} g{generation}", ctx.source))).await;
        let latency_ms = ctx.log.clock().since(sent).as_millis() as u64;
        match result {
            Ok(outcome) => {
                ctx.emit(EventKind::BatchCommitted {
                    endpoint: ep.label.clone(),
                    generation,
                    purpose: purpose.to_string(),
                    change_id: outcome.id,
                    latency_ms,
                });
                return BatchOutcome::Committed { state };
            }
            Err(e) => {
                let message = e.message.chars().take(300).collect();
                if rejected_then_wait(ctx, ep, generation, purpose, &e.code, message, attempt, latency_ms).await {
                    return BatchOutcome::Stopped;
                }
            }
        }
    }
}

/// Delete the trees `select` picks from the state, in one locked batch (at most
/// `MAX_TREES_PER_BATCH` generations per pass). Returns the generations deleted.
pub async fn cleanup<F>(ctx: &mut Ctx, ep: &Endpoint, generation: u64, mut select: F) -> Option<Vec<u64>>
where
    F: FnMut(&mut Ctx, &EndpointState) -> (Vec<u64>, Vec<Change>),
{
    const MAX_TREES_PER_BATCH: usize = 8;
    let mut chosen = Vec::new();
    let attempts = ctx.tuning.cleanup_attempts;
    let outcome = locked_batch_bounded(ctx, ep, generation, "cleanup", attempts, |ctx, state| {
        let (mut gens, extra) = select(ctx, state);
        gens.sort_unstable();
        gens.truncate(MAX_TREES_PER_BATCH);
        chosen = gens.clone();
        if gens.is_empty() {
            return Build::Skip("nothing to clean".into());
        }
        let mut changes = extra;
        changes.extend(delete_tree_changes(ep, state, &gens));
        Build::Changes(changes)
    })
    .await;
    match outcome {
        BatchOutcome::Committed { state } => {
            ctx.emit(EventKind::CleanupDeleted { endpoint: ep.label.clone(), generations: chosen.clone(), active: state.active });
            Some(chosen)
        }
        _ => None,
    }
}

/// Generations older than `applied - keep` that have records (legacy rule, no in-use check).
pub fn older_than(state: &EndpointState, applied: u64, keep: u64) -> Vec<u64> {
    state.trees.keys().copied().filter(|g| g + keep < applied).collect()
}

/// Log a failed call as `batch-rejected` with the backoff chosen, then sleep it; true when the
/// enactor was told to stop meanwhile.
#[allow(clippy::too_many_arguments)]
async fn rejected_then_wait(
    ctx: &mut Ctx,
    ep: &Endpoint,
    generation: u64,
    purpose: &str,
    code: &str,
    message: String,
    attempt: u32,
    latency_ms: u64,
) -> bool {
    let wait = backoff(ctx, attempt);
    ctx.emit(EventKind::BatchRejected {
        endpoint: ep.label.clone(),
        generation,
        purpose: purpose.to_string(),
        code: code.to_string(),
        message,
        attempt,
        backoff_ms: wait.as_millis() as u64,
        latency_ms,
    });
    ctx.sleep(wait).await
}

/// Read an endpoint, retrying API errors with backoff; `None` when the enactor stops.
pub async fn read_state_retrying(ctx: &mut Ctx, ep: &Endpoint, generation: u64, purpose: &str) -> Option<EndpointState> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match read_state(ctx, ep).await {
            Ok(s) => return Some(s),
            Err(e) => {
                if rejected_then_wait(ctx, ep, generation, purpose, &e.code, e.message.clone(), attempt, 0).await {
                    return None;
                }
            }
        }
    }
}

/// The newest plan an enactor was given.
pub fn newest(ctx: &Ctx) -> Option<Arc<Plan>> {
    ctx.feed.latest()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{LoadBalancer, Member};

    pub(crate) fn plan(generation: u64, lbs: &[(u8, u8)]) -> Plan {
        Plan {
            generation,
            members: lbs
                .iter()
                .map(|(n, w)| Member {
                    lb: LoadBalancer {
                        id: format!("lb-{n:02}"),
                        az: "use1-az1".into(),
                        ipv4: std::net::Ipv4Addr::new(192, 0, 2, *n),
                        ipv6: std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, *n as u16),
                    },
                    weight: *w,
                })
                .collect(),
            emitted_ms: 0,
            valid_until_ms: 10_000,
        }
    }

    pub(crate) fn ep(dual: bool) -> Endpoint {
        Endpoint::new("regional", "regional.t.dnschaos.test.", "Z1", dual)
    }

    /// A state holding the trees of `plans`, the alias on `active`, rollback on `rollback`.
    pub(crate) fn state(ep: &Endpoint, plans: &[Plan], active: Option<u64>, rollback: Option<u64>, lock: Option<&str>) -> EndpointState {
        let mut records: Vec<RecordSet> = plans.iter().flat_map(|p| tree_records(ep, p)).collect();
        let alias = |name: String, g: u64| RecordSet {
            name: crate::model::zone_normalize(&name),
            kind: RrKind::A,
            ttl: None,
            values: vec![],
            set_id: None,
            weight: None,
            alias: Some(crate::model::zone_normalize(&ep.root_name(g))),
        };
        if let Some(g) = active {
            records.push(alias(ep.name(), g));
        }
        if let Some(g) = rollback {
            records.push(alias(ep.rollback_name(), g));
        }
        if let Some(v) = lock {
            records.push(RecordSet {
                name: crate::model::zone_normalize(&ep.lock_name()),
                kind: RrKind::Txt,
                ttl: Some(60),
                values: vec![quote_txt(v)],
                set_id: None,
                weight: None,
                alias: None,
            });
        }
        EndpointState::from_snapshot(ep, ZoneSnapshot::new(&ep.zone, records))
    }

    /// Where the rollback record of a batch points.
    pub(crate) fn rollback_target(ep: &Endpoint, changes: &[Change]) -> Option<String> {
        changes
            .iter()
            .filter_map(|c| c.resource_record_set())
            .find(|r| r.name() == ep.rollback_name())
            .and_then(|r| r.alias_target())
            .map(|a| a.dns_name().to_string())
    }

    #[test]
    fn tree_has_one_leaf_per_lb_and_a_weighted_root() {
        let ep4 = ep(false);
        let p = plan(7, &[(1, 10), (2, 30)]);
        let recs = tree_records(&ep4, &p);
        assert_eq!(recs.len(), 4);
        let roots: Vec<_> = recs.iter().filter(|r| r.name == "g00000007.regional.t.dnschaos.test.").collect();
        assert_eq!(roots.len(), 2);
        assert!(roots.iter().all(|r| r.alias.as_deref().is_some_and(|a| a.starts_with("lb-0")) && r.weight.is_some()));
        // Dual stack doubles everything with AAAA.
        let recs6 = tree_records(&ep(true), &p);
        assert_eq!(recs6.len(), 8);
        assert_eq!(recs6.iter().filter(|r| r.kind == RrKind::Aaaa && r.values == vec!["2001:db8::2"]).count(), 1);
        // Leaves come before the aliases that point at them.
        let changes = tree_changes(&ep4, &p);
        let first_alias = changes.iter().position(|c| c.resource_record_set().unwrap().alias_target().is_some()).unwrap();
        assert!(changes[..first_alias].iter().all(|c| c.resource_record_set().unwrap().alias_target().is_none()));
        assert!(changes.iter().all(|c| *c.action() == ChangeAction::Upsert));
        // And the answer view sees the plan through the tree.
        let st = state(&ep4, std::slice::from_ref(&p), Some(7), Some(7), None);
        let a = crate::answer::resolve(&st.snapshot, &ep4.name(), RrKind::A, crate::answer::Pick::All);
        assert_eq!(a.addrs.len(), 2);
        assert!(st.tree_complete(&ep4, &p));
    }

    #[test]
    fn lock_preamble_deletes_exact_current_values_then_creates_ours() {
        let e = ep(false);
        let cur = "holder=use1-az2;until=5;n=ab";
        let st = state(&e, &[], None, None, Some(cur));
        let mine = LockValue { holder: "use1-az1".into(), until_ms: 99, nonce: "cd".into() };
        let pre = lock_preamble(&e, &st, &mine);
        assert_eq!(pre.len(), 2);
        assert_eq!(*pre[0].action(), ChangeAction::Delete);
        assert_eq!(pre[0].resource_record_set().unwrap().resource_records()[0].value(), quote_txt(cur));
        assert_eq!(*pre[1].action(), ChangeAction::Create);
        assert_eq!(pre[1].resource_record_set().unwrap().resource_records()[0].value(), quote_txt(&mine.render()));
        assert_eq!(LockValue::parse(&mine.render()), Some(mine));
    }

    #[test]
    fn live_holder_respects_the_lease() {
        let e = ep(false);
        let st = state(&e, &[], None, None, Some("holder=use1-az2;until=1000;n=x"));
        assert_eq!(st.live_holder(999).map(|l| l.holder), Some("use1-az2".into()));
        assert_eq!(st.live_holder(1000), None);
        let free = state(&e, &[], None, None, Some(&LockValue::free().render()));
        assert_eq!(free.live_holder(0), None);
    }

    #[test]
    fn flip_updates_alias_and_rollback_together() {
        let e = ep(true);
        let ch = flip_changes(&e, 9, 8);
        assert_eq!(ch.len(), 4);
        let targets: Vec<(String, String)> = ch
            .iter()
            .map(|c| {
                let r = c.resource_record_set().unwrap();
                (r.name().to_string(), r.alias_target().unwrap().dns_name().to_string())
            })
            .collect();
        assert!(targets.contains(&(e.name(), e.root_name(9))));
        assert!(targets.contains(&(e.rollback_name(), e.root_name(8))));
    }

    #[test]
    fn legacy_cleanup_selection_has_no_in_use_check() {
        let e = ep(false);
        let plans: Vec<Plan> = (1..=12).map(|g| plan(g, &[(1, 1)])).collect();
        // The alias points at generation 1, which is old: legacy selects it anyway.
        let st = state(&e, &plans, Some(1), Some(12), None);
        assert_eq!(older_than(&st, 12, 10), vec![1]);
        assert_eq!(older_than(&st, 20, 10), (1..=9).collect::<Vec<_>>());
        let deletes = delete_tree_changes(&e, &st, &[1]);
        assert_eq!(deletes.len(), 2);
        assert!(deletes.iter().all(|c| *c.action() == ChangeAction::Delete));
    }
}
