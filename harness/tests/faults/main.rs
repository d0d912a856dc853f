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

fn main() {
    let shared = Arc::new(support::start_shared("faults"));
    let s = shared.clone();
    let trials = vec![Trial::test("lock_contention_out_of_order_burst_and_crash_fire_and_show", move || s.block_on(kinds(&s)))];
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
