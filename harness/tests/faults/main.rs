//! Fault kinds that need no gateway, against the real backend: each fires, and its effect is
//! in the event log. (API faults are proven in tests/gateway; pause in tests/enactors and the
//! chaos suite; sigstop in tests/enactors.)

#[path = "../support/mod.rs"]
mod support;

use std::path::Path;
use std::sync::Arc;

use dnschaos::events::{read_log, EventKind};
use dnschaos::runner::RunRequest;
use libtest_mimic::{Failed, Trial};
use support::{ensure, Shared};

/// These tests count the backend's requests: one at a time.
static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn main() {
    let shared = Arc::new(support::start_shared("faults"));
    let trial = |name: &str, f: fn(&Shared) -> Result<(), Failed>| {
        let s = shared.clone();
        Trial::test(name, move || {
            let _alone = ALONE.lock().unwrap_or_else(|p| p.into_inner());
            f(&s)
        })
    };
    let trials = vec![
        trial("lock_contention_out_of_order_burst_and_crash_fire_and_show", |s| s.block_on(kinds(s))),
        trial("every_call_of_a_run_passes_the_gateway_and_faults_spare_the_harness", |s| s.block_on(isolation(s))),
        trial("what_each_implementation_does_with_lost_responses", |s| s.block_on(lost_responses(s))),
    ];
    support::run(shared, trials)
}

async fn kinds(s: &Shared) -> Result<(), Failed> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/plans/fault-kinds.yaml");
    let loaded = dnschaos::scenario::load(&path)?;
    let out = support::scratch("fault-kinds");
    let request = RunRequest::new(loaded, &out).bin(support::bin());
    let quiet = |_: &str| {};
    let summary = s.runner.run(&request, &quiet).await?;
    let e = &summary.enactors[0];
    for f in &e.faults {
        println!("{} ({}): fired {} - {}", f.id, f.kind, f.fired, f.evidence);
        ensure(f.fired, || format!("fault {} never fired: {}", f.id, f.evidence))?;
    }
    let events = read_log(Path::new(&e.events_path))?;
    let window = |id: &str| {
        let f = e.faults.iter().find(|f| f.id == id).expect("fault in summary");
        (f.start_ms.unwrap_or(0), f.end_ms.unwrap_or(u64::MAX))
    };
    // Lock contention: enactors found the lock held by the contender.
    let chaos_busy = events.iter().filter(|ev| matches!(&ev.event, EventKind::LockBusy { holder, .. } if holder.starts_with("chaos-"))).count();
    ensure(chaos_busy > 0, || "no enactor ever found the lock held by the contender".into())?;
    // Out of order: the reordered enactor picked a plan older than one it had picked before.
    let (from, to) = window("reorder");
    let az1 = format!("enactor:{}", e.enactors[1]);
    let picked: Vec<u64> = events
        .iter()
        .filter(|ev| ev.source == az1 && ev.t_ms >= from && ev.t_ms <= to)
        .filter_map(|ev| match ev.event {
            EventKind::PlanPicked { generation } => Some(generation),
            _ => None,
        })
        .collect();
    let went_down = picked.windows(2).any(|w| w[1] < w[0]);
    ensure(went_down, || format!("{az1} picked {picked:?} during the reordering: never went down"))?;
    // Burst: 25 plans within a few milliseconds of its start.
    let (b, _) = window("burst");
    let burst = events.iter().filter(|ev| matches!(ev.event, EventKind::PlanEmitted { .. }) && ev.t_ms + 50 >= b && ev.t_ms <= b + 300).count();
    ensure(burst >= 25, || format!("only {burst} plans around the burst"))?;
    // Crash: the enactor stopped as crashed, then started again.
    let az2 = format!("enactor:{}", e.enactors[2]);
    let crashed = events.iter().position(|ev| ev.source == az2 && matches!(&ev.event, EventKind::EnactorStopped { reason } if reason == "crashed"));
    let restarted = crashed.is_some_and(|i| events[i..].iter().any(|ev| ev.source == az2 && matches!(ev.event, EventKind::EnactorStarted { .. })));
    ensure(restarted, || format!("{az2} was not crashed and restarted"))?;
    ensure(e.empty_windows.is_empty(), || format!("fenced answered empty under these faults: {:?}", e.empty_windows))
}

fn fixture(name: &str) -> Result<dnschaos::scenario::LoadedPlan, Failed> {
    Ok(dnschaos::scenario::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/plans").join(name))?)
}

/// Route 53 requests the backend has logged so far (LocalStack logs one line per request).
fn backend_requests(s: &Shared) -> Result<usize, Failed> {
    let path = s.backend.info().log_path.clone().ok_or("the backend keeps no log")?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text.lines().filter(|l| l.contains("AWS route53.")).count())
}

async fn isolation(s: &Shared) -> Result<(), Failed> {
    let out = support::scratch("isolation");
    let request = RunRequest::new(fixture("isolation.yaml")?, &out).bin(support::bin());
    let before = backend_requests(s)?;
    let summary = s.runner.run(&request, &|_: &str| {}).await?;
    // LocalStack writes its log asynchronously.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let seen_by_backend = backend_requests(s)? - before;
    let e = &summary.enactors[0];
    let through_gateway = e.backend_calls.ok_or("no gateway in the run")? as usize;
    println!("backend saw {seen_by_backend} route53 requests; the gateway sent {through_gateway}; harness calls faulted {}", e.harness_calls_faulted);
    ensure(e.faults.iter().all(|f| f.fired), || format!("the throttling never fired: {:?}", e.faults))?;
    ensure(e.harness_calls_faulted == 0, || format!("{} of the harness's own calls were faulted", e.harness_calls_faulted))?;
    ensure(seen_by_backend == through_gateway, || {
        format!("{} request(s) reached the backend around the gateway ({seen_by_backend} logged, {through_gateway} sent by it)", seen_by_backend as i64 - through_gateway as i64)
    })?;
    let t = e.truth.as_ref().ok_or("no truth log")?;
    ensure(t.unexplained.is_empty(), || format!("probe windows the truth lacks: {:?}", t.unexplained))
}

async fn lost_responses(s: &Shared) -> Result<(), Failed> {
    let out = support::scratch("lost-response");
    let request = RunRequest::new(fixture("lost-response.yaml")?, &out).bin(support::bin());
    let summary = s.runner.run(&request, &|_: &str| {}).await?;
    let mut failures = Vec::new();
    for e in &summary.enactors {
        let events = read_log(Path::new(&e.events_path))?;
        let lost = events.iter().filter(|ev| matches!(&ev.event, EventKind::BatchRejected { code, .. } if code == "Dispatch" || code == "ResponseError" || code == "Timeout")).count();
        let held: Vec<String> = e.invariants.iter().map(|i| format!("{}={}", i.name, if i.held { "held" } else { "broken" })).collect();
        println!(
            "{:<12} lost answers seen {lost:>3}, commits {:>4}, rejections {:>4}; {}; {}",
            e.implementation,
            e.counters.get("batches_committed").copied().unwrap_or(0),
            e.counters.get("batches_rejected").copied().unwrap_or(0),
            held.join(" "),
            e.faults[0].evidence
        );
        // The gateway's count of this implementation's calls whose answers it lost is the
        // evidence that lost responses reached it. Rejected batches (`lost` above) undercount
        // it: single's heartbeats are change batches too, and a heartbeat whose answer is lost
        // is only a warning, not an event (seen: 3 lost answers, all on heartbeats).
        if !e.faults[0].fired {
            failures.push(format!("{}: no lost response reached it ({})", e.implementation, e.faults[0].evidence));
        }
        // legacy may empty its name here by the October race: a late stale flip meets another
        // enactor's cleanup, which deletes the tree just made active. Measured on LocalStack,
        // `dnschaos sweep fixtures/plans/lost-response.yaml --enactor legacy --seeds 1-20
        // --backend container --parallel 2` (2026-12-05): 2 of 20 seeds (7, 8), each with
        // active-never-deleted broken too; this plan's seed 12 passed there and failed once in
        // a full test run. So for legacy an empty name must come with that mechanism.
        let race = e.implementation == "legacy" && e.invariants.iter().any(|i| i.name == "active-never-deleted" && !i.held);
        for inv in e.invariants.iter().filter(|i| !i.held && (i.name == "no-empty-answer" || i.name == "converges")) {
            if race {
                println!("{}: {} broken by the October race (active tree deleted), a measured 2-in-20 outcome", e.implementation, inv.name);
                continue;
            }
            failures.push(format!("{}: {} broken: {}", e.implementation, inv.name, inv.first_violation.clone().unwrap_or_default()));
        }
    }
    ensure(failures.is_empty(), || failures.join("\n"))
}
