//! The Route 53 fault gateway in front of the real backend, driven by the real SDK client:
//! conformance through the strict and the lenient gateway, every fault effect, per-caller
//! matching, GetChange propagation and the TXT-lock compare-and-swap under contention.
//! One shared backend; every test starts its own gateway on a free port of 127.0.0.1.

#[path = "../support/mod.rs"]
mod support;

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use aws_sdk_route53::types::{Change, ChangeAction, ChangeStatus, RrType};
use dnschaos::conformance;
use dnschaos::fault::gateway::{ApiErrorKind, Effect, Gateway, GatewayConfig, LatencySpec, Operation, Rule, RuleStats};
use dnschaos::route53::records::{change, same_name, txt, values};
use dnschaos::route53::{ApiError, ChangeOutcome, ClientOptions, Route53};
use libtest_mimic::{Failed, Trial};
use support::{ensure, Shared};

fn main() {
    let shared = Arc::new(support::start_shared("gateway"));
    let trials = vec![
        alongside(&shared, "conformance_through_the_strict_gateway_conforms", conformance_strict),
        alongside(&shared, "conformance_through_the_lenient_gateway_keeps_localstack_deviations", conformance_lenient),
        alone(&shared, "fixed_latency_adds_its_delay_to_change_batches", latency),
        alongside(&shared, "injected_errors_reach_the_sdk_with_route53_codes", errors),
        alongside(&shared, "dropped_connection_is_a_transport_error", dropped),
        alongside(&shared, "probability_half_fires_about_half_and_replays", probability),
        alongside(&shared, "stall_holds_a_call_until_released_or_max", stall),
        alongside(&shared, "rules_match_callers_by_endpoint_path", per_caller),
        alongside(&shared, "rules_without_a_caller_never_touch_the_harness_callers", harness_callers),
        alongside(&shared, "a_lost_response_commits_upstream_and_drops_the_answer", lost_response),
        alongside(&shared, "an_alias_to_a_missing_target_is_refused_but_deleting_a_target_is_not", dangling_alias),
        alone(&shared, "get_change_is_pending_then_insync_after_the_delay", get_change),
        alongside(&shared, "parallel_compare_and_swaps_have_exactly_one_winner", parallel_cas),
        alongside(&shared, "strict_listing_follows_pagination", pagination),
        alongside(&shared, "malformed_batches_and_bad_config_are_refused", malformed),
        alongside(&shared, "legacy_invalid_change_batch_document_has_no_code_in_the_sdk", legacy_shape),
    ];
    support::run(shared, trials)
}

/// Timing tests hold this exclusively, so that no other test loads the backend meanwhile.
static LOAD: RwLock<()> = RwLock::new(());

fn alongside(shared: &Arc<Shared>, name: &str, f: fn(&Shared) -> Result<(), Failed>) -> Trial {
    let shared = shared.clone();
    Trial::test(name, move || {
        let _load = LOAD.read().unwrap_or_else(|p| p.into_inner());
        f(&shared)
    })
}

fn alone(shared: &Arc<Shared>, name: &str, f: fn(&Shared) -> Result<(), Failed>) -> Trial {
    let shared = shared.clone();
    Trial::test(name, move || {
        let _quiet = LOAD.write().unwrap_or_else(|p| p.into_inner());
        f(&shared)
    })
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn start(s: &Shared, strict: bool, propagation_delay: Duration) -> Result<Gateway, Failed> {
    let upstream = s.backend.info().endpoint_url.clone().ok_or("the shared backend has no endpoint url")?;
    let config = GatewayConfig { strict, propagation_delay, seed: 7, ..GatewayConfig::new(upstream) };
    Ok(s.block_on(Gateway::start(config))?)
}

/// A client of `url` that shares the shared client's zone registry, so that zones it creates
/// are deleted at the end of the run even when a test fails.
fn client(s: &Shared, url: &str) -> Result<Route53, Failed> {
    let mut info = s.backend.info().clone();
    info.endpoint_url = Some(url.to_string());
    let r53 = s.block_on(Route53::connect(&info, ClientOptions::default()))?;
    Ok(s.r53.through(&r53))
}

fn zone(s: &Shared, r53: &Route53, label: &str) -> Result<(String, String), Failed> {
    let name = format!("{label}.{}.gateway.test.", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let id = s.block_on(r53.create_zone(&name))?;
    Ok((name, id))
}

fn upsert(name: &str, value: &str) -> Vec<Change> {
    vec![change(ChangeAction::Upsert, txt(name, 60, value))]
}

fn cas(name: &str, from: &str, to: &str) -> Vec<Change> {
    vec![change(ChangeAction::Delete, txt(name, 60, from)), change(ChangeAction::Create, txt(name, 60, to))]
}

fn stats(gw: &Gateway, id: dnschaos::fault::gateway::RuleId) -> Result<RuleStats, Failed> {
    gw.rule_stats(id).ok_or_else(|| format!("rule {id} is not installed").into())
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

// ---------------------------------------------------------------------------------------------
// Conformance

fn conformance_via(s: &Shared, strict: bool) -> Result<conformance::Report, Failed> {
    let gw = start(s, strict, Duration::from_millis(500))?;
    let mut info = s.backend.info().clone();
    info.endpoint_url = Some(gw.url());
    let r53 = s.block_on(Route53::connect(&info, ClientOptions::default()))?;
    let report = s.block_on(conformance::run(&r53, &info, true))?;
    println!("through the {} gateway:\n{}", if strict { "strict" } else { "lenient" }, report.table());
    s.block_on(gw.shutdown());
    Ok(report)
}

fn conformance_strict(s: &Shared) -> Result<(), Failed> {
    let report = conformance_via(s, true)?;
    let failing: Vec<&str> = report.checks.iter().filter(|c| !c.conforms).map(|c| c.name.as_str()).collect();
    ensure(failing.is_empty(), || format!("checks that do not conform through the strict gateway: {failing:?}\n{}", report.table()))?;
    ensure(report.total >= 13, || format!("expected at least 13 checks, got {}", report.total))
}

fn conformance_lenient(s: &Shared) -> Result<(), Failed> {
    let report = conformance_via(s, false)?;
    let verdict = |name: &str| report.check(name).map(|c| c.conforms);
    for broken in ["stale-compare-and-swap", "duplicate-create"] {
        ensure(verdict(broken) == Some(false), || format!("{broken} should NOT conform without strict mode:\n{}", report.table()))?;
    }
    // GetChange is the gateway's in both modes.
    ensure(verdict("get-change-status") == Some(true), || format!("get-change-status should conform:\n{}", report.table()))
}

// ---------------------------------------------------------------------------------------------
// Faults

fn latency(s: &Shared) -> Result<(), Failed> {
    const DELAY: Duration = Duration::from_millis(200);
    let gw = start(s, true, Duration::ZERO)?;
    let rule = Rule {
        caller: Some("slow".into()),
        ..Rule::new(Some(Operation::ChangeResourceRecordSets), Effect::Latency(LatencySpec::Fixed(DELAY)))
    };
    let id = gw.add_rule(rule)?;
    let (slow, fast) = (client(s, &gw.url_for("slow"))?, client(s, &gw.url_for("fast"))?);
    let (zone, zone_id) = zone(s, &fast, "latency")?;
    let name = format!("t.{zone}");
    let (mut with, mut without) = (Vec::new(), Vec::new());
    // Interleave, so that background load hits both samples alike. The backend idles for the
    // rule's 200 ms before each slowed call; on a loaded machine an idle process answers its
    // next request measurably later (tens of ms at load 8 on 2 cores), so the baseline calls
    // get the same idle time before them, outside the measured span.
    for i in 0..11 {
        for (r53, out, idle) in [(&slow, &mut with, Duration::ZERO), (&fast, &mut without, DELAY)] {
            std::thread::sleep(idle);
            let started = Instant::now();
            s.block_on(r53.change(&zone_id, upsert(&name, &format!("v{i}")), None))?;
            out.push(started.elapsed());
        }
    }
    println!("samples with the rule (ms): {:?}", with.iter().map(Duration::as_millis).collect::<Vec<_>>());
    println!("samples without (ms):       {:?}", without.iter().map(Duration::as_millis).collect::<Vec<_>>());
    let (with, without) = (median(with), median(without));
    let added = with.saturating_sub(without);
    println!("median batch {} ms with the rule, {} ms without: +{} ms (rule {} ms)", with.as_millis(), without.as_millis(), added.as_millis(), DELAY.as_millis());
    ensure(added.abs_diff(DELAY) <= DELAY / 10, || format!("added {added:?}, expected {DELAY:?} within 10%"))?;
    let st = stats(&gw, id)?;
    ensure(st.matched == 11 && st.fired == 11, || format!("rule stats {st:?}, expected 11 matched and fired"))
}

fn errors(s: &Shared) -> Result<(), Failed> {
    let gw = start(s, true, Duration::ZERO)?;
    let r53 = client(s, &gw.url())?;
    let (zone, zone_id) = zone(s, &r53, "errors")?;
    let name = format!("e.{zone}");
    for (kind, code, status) in [
        (ApiErrorKind::Throttling, "Throttling", 400),
        (ApiErrorKind::PriorRequestNotComplete, "PriorRequestNotComplete", 400),
        (ApiErrorKind::ServiceUnavailable, "ServiceUnavailable", 503),
        (ApiErrorKind::InternalError, "InternalError", 500),
    ] {
        let id = gw.add_rule(Rule::new(Some(Operation::ChangeResourceRecordSets), Effect::Error(kind)))?;
        let res = s.block_on(r53.change(&zone_id, upsert(&name, "never"), None));
        let st = gw.remove_rule(id).ok_or("rule vanished")?;
        println!("{kind:?}: {res:?}");
        let err = res.err().ok_or_else(|| format!("{kind:?}: the batch was accepted"))?;
        ensure(err.code == code && err.status == Some(status), || format!("{kind:?}: got {err}, expected {code} (http {status})"))?;
        ensure(st == RuleStats { matched: 1, fired: 1, stalled: 0 }, || format!("{kind:?}: stats {st:?}"))?;
    }
    // Nothing was applied, and the strict rejection carries Route 53's code too.
    let listed = s.block_on(r53.list_records(&zone_id))?;
    ensure(!listed.iter().any(|r| same_name(r.name(), &name)), || "an errored batch was applied".into())?;
    let err = s
        .block_on(r53.change(&zone_id, vec![change(ChangeAction::Delete, txt(&name, 60, "absent"))], None))
        .err()
        .ok_or("a DELETE of a missing record was accepted")?;
    println!("strict rejection: {err}");
    ensure(err.code == "InvalidChangeBatch" && err.status == Some(400), || format!("got {err}, expected InvalidChangeBatch (http 400)"))?;
    ensure(err.message.contains("but it was not found"), || format!("message lacks the reason: {}", err.message))
}

fn dropped(s: &Shared) -> Result<(), Failed> {
    let gw = start(s, true, Duration::ZERO)?;
    let r53 = client(s, &gw.url())?;
    let (zone, zone_id) = zone(s, &r53, "dropped")?;
    let id = gw.add_rule(Rule::new(Some(Operation::ChangeResourceRecordSets), Effect::Error(ApiErrorKind::DropConnection)))?;
    let err = s
        .block_on(r53.change(&zone_id, upsert(&format!("d.{zone}"), "never"), None))
        .err()
        .ok_or("the batch was accepted through a dropped connection")?;
    println!("dropped connection: {err}");
    ensure(err.status.is_none() && err.code == "Dispatch", || format!("expected a transport (Dispatch) error, got {err}"))?;
    ensure(stats(&gw, id)?.fired == 1, || "the drop rule did not fire".into())?;
    // The gateway keeps serving once the rule is gone.
    gw.remove_rule(id);
    s.block_on(r53.change(&zone_id, upsert(&format!("d.{zone}"), "after"), None))?;
    Ok(())
}

fn probability(s: &Shared) -> Result<(), Failed> {
    const CALLS: u64 = 200;
    let run = |s: &Shared| -> Result<(u64, RuleStats), Failed> {
        let gw = start(s, true, Duration::ZERO)?;
        let r53 = client(s, &gw.url())?;
        let (zone, zone_id) = zone(s, &r53, "probability")?;
        let first = s.block_on(r53.change(&zone_id, upsert(&format!("p.{zone}"), "v"), None))?;
        let rule = Rule { probability: 0.5, ..Rule::new(Some(Operation::GetChange), Effect::Error(ApiErrorKind::Throttling)) };
        let id = gw.add_rule(rule)?;
        let mut throttled = 0;
        for _ in 0..CALLS {
            match s.block_on(r53.change_status(&first.id)) {
                Ok(_) => {}
                Err(e) if e.code == "Throttling" => throttled += 1,
                Err(e) => return Err(format!("unexpected error {e}").into()),
            }
        }
        Ok((throttled, stats(&gw, id)?))
    };
    let (throttled, st) = run(s)?;
    // Binomial(200, 0.5): mean 100, sd 7.07; 4.5 sd either side.
    println!("probability 0.5: {throttled} of {CALLS} throttled; stats {st:?}");
    ensure((68..=132).contains(&throttled), || format!("{throttled} of {CALLS} fired, outside 68..=132"))?;
    ensure(st.matched == CALLS && st.fired == throttled, || format!("stats {st:?} disagree with {throttled} seen"))?;
    // Same seed, same sequential calls: same draws.
    let (again, _) = run(s)?;
    ensure(again == throttled, || format!("a second run with the same seed fired {again}, the first {throttled}"))
}

fn stall(s: &Shared) -> Result<(), Failed> {
    let gw = start(s, true, Duration::ZERO)?;
    let r53 = client(s, &gw.url())?;
    let (zone, zone_id) = zone(s, &r53, "stall")?;
    let name = format!("s.{zone}");
    let id = gw.add_rule(Rule::new(Some(Operation::ChangeResourceRecordSets), Effect::Stall { max: None }))?;
    let started = Instant::now();
    let call = {
        let (r53, zone_id, name) = (r53.clone(), zone_id.clone(), name.clone());
        s.rt.spawn(async move { r53.change(&zone_id, upsert(&name, "held"), None).await })
    };
    while stats(&gw, id)?.stalled == 0 {
        ensure(started.elapsed() < Duration::from_secs(10), || "the call never reached the stall".into())?;
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(500));
    ensure(!call.is_finished(), || "the stalled call finished before its release".into())?;
    let listed = s.block_on(r53.list_records(&zone_id))?;
    ensure(!listed.iter().any(|r| same_name(r.name(), &name)), || "a stalled batch reached the backend".into())?;
    ensure(gw.release_stalls(id), || "release_stalls did not know the rule".into())?;
    let outcome = s.block_on(call)??;
    let held = started.elapsed();
    println!("stalled call held {} ms, then {outcome:?}", held.as_millis());
    ensure(held >= Duration::from_millis(500), || format!("held only {held:?}"))?;
    ensure(stats(&gw, id)?.stalled == 0, || "the rule still counts a stalled call".into())?;
    gw.remove_rule(id);
    // A stall with a maximum lets go by itself.
    let id = gw.add_rule(Rule::new(Some(Operation::ChangeResourceRecordSets), Effect::Stall { max: Some(Duration::from_millis(300)) }))?;
    let started = Instant::now();
    s.block_on(r53.change(&zone_id, upsert(&name, "bounded"), None))?;
    let held = started.elapsed();
    println!("bounded stall held {} ms", held.as_millis());
    ensure(held >= Duration::from_millis(300) && held < Duration::from_secs(5), || format!("bounded stall held {held:?}"))?;
    ensure(stats(&gw, id)?.fired == 1, || "the bounded stall did not fire".into())
}

fn per_caller(s: &Shared) -> Result<(), Failed> {
    let gw = start(s, true, Duration::ZERO)?;
    let az1 = client(s, &gw.url_for("use1-az1"))?;
    let az2 = client(s, &gw.url_for("use1-az2"))?;
    let anonymous = client(s, &gw.url())?;
    // Zone creation and listing work through a path-prefixed endpoint.
    let (zone, zone_id) = zone(s, &az1, "callers")?;
    let zones = s.block_on(az1.sdk().unwrap().list_hosted_zones().send()).map_err(|e| ApiError::from_sdk(&e).to_string())?;
    ensure(zones.hosted_zones().iter().any(|z| z.id().ends_with(&zone_id)), || "ListHostedZones via /e/use1-az1 lacks the zone".into())?;
    let id = gw.add_rule(Rule {
        caller: Some("use1-az1".into()),
        ..Rule::new(Some(Operation::ChangeResourceRecordSets), Effect::Error(ApiErrorKind::Throttling))
    })?;
    let anon = gw.add_rule(Rule { caller: Some(Gateway::ANONYMOUS.into()), ..Rule::new(Some(Operation::ListResourceRecordSets), Effect::Error(ApiErrorKind::InternalError)) })?;
    let name = format!("c.{zone}");
    let r1 = s.block_on(az1.change(&zone_id, upsert(&name, "az1"), None));
    let r2 = s.block_on(az2.change(&zone_id, upsert(&name, "az2"), None));
    let r3 = s.block_on(anonymous.change(&zone_id, upsert(&name, "anonymous"), None));
    let l1 = s.block_on(az1.list_records(&zone_id));
    let l3 = s.block_on(anonymous.list_records(&zone_id));
    println!("az1 {r1:?}\naz2 {r2:?}\nanonymous {r3:?}");
    ensure(matches!(&r1, Err(e) if e.code == "Throttling"), || format!("use1-az1 should be throttled: {r1:?}"))?;
    ensure(r2.is_ok() && r3.is_ok(), || "other callers should pass".into())?;
    ensure(l1.is_ok(), || format!("use1-az1's listing should pass: {l1:?}"))?;
    ensure(matches!(&l3, Err(e) if e.code == "InternalError"), || format!("the anonymous listing should fail: {l3:?}"))?;
    let (st, st_anon) = (stats(&gw, id)?, stats(&gw, anon)?);
    ensure(st == RuleStats { matched: 1, fired: 1, stalled: 0 }, || format!("use1-az1 rule stats {st:?}"))?;
    ensure(st_anon.matched == 1, || format!("anonymous rule stats {st_anon:?}"))
}

fn harness_callers(s: &Shared) -> Result<(), Failed> {
    let gw = start(s, true, Duration::ZERO)?;
    let enactor = client(s, &gw.url_for("use1-az1"))?;
    let mirror = client(s, &gw.url_for("dataplane"))?;
    let (_, zone_id) = zone(s, &enactor, "harness")?;
    let unnamed = gw.add_rule(Rule::new(Some(Operation::ListResourceRecordSets), Effect::Error(ApiErrorKind::Throttling)))?;
    let by_enactor = s.block_on(enactor.list_records(&zone_id));
    let by_mirror = s.block_on(mirror.list_records(&zone_id));
    ensure(matches!(&by_enactor, Err(e) if e.code == "Throttling"), || format!("an enactor's listing should be throttled: {by_enactor:?}"))?;
    ensure(by_mirror.is_ok(), || format!("the mirror is the measurement: an unnamed rule must not touch it: {by_mirror:?}"))?;
    ensure(gw.harness_calls_matched() == 0, || format!("{} harness calls matched", gw.harness_calls_matched()))?;
    gw.remove_rule(unnamed);
    // A rule that names a harness caller does match it, and is counted.
    gw.add_rule(Rule { caller: Some("dataplane".into()), ..Rule::new(Some(Operation::ListResourceRecordSets), Effect::Error(ApiErrorKind::Throttling)) })?;
    let named = s.block_on(mirror.list_records(&zone_id));
    ensure(matches!(&named, Err(e) if e.code == "Throttling"), || format!("a rule naming dataplane should match it: {named:?}"))?;
    ensure(gw.harness_calls_matched() == 1, || format!("{} harness calls matched, want 1", gw.harness_calls_matched()))
}

fn lost_response(s: &Shared) -> Result<(), Failed> {
    let gw = start(s, true, Duration::ZERO)?;
    let r53 = client(s, &gw.url_for("use1-az1"))?;
    let (zone, zone_id) = zone(s, &r53, "lost")?;
    let name = format!("lost.{zone}");
    gw.add_rule(Rule::new(Some(Operation::ChangeResourceRecordSets), Effect::Error(ApiErrorKind::LostResponse)))?;
    let sent = s.block_on(r53.change(&zone_id, upsert(&name, "v1"), None));
    ensure(sent.is_err(), || format!("the client should see no answer: {sent:?}"))?;
    let listed = s.block_on(s.r53.list_records(&zone_id))?;
    let held: Vec<Vec<String>> = listed.iter().filter(|r| same_name(r.name(), &name)).map(values).collect();
    ensure(held == vec![vec!["\"v1\"".to_string()]], || format!("the change should have been applied upstream: {held:?}"))
}

fn dangling_alias(s: &Shared) -> Result<(), Failed> {
    use dnschaos::route53::records::{alias, plain};
    let gw = start(s, true, Duration::ZERO)?;
    let r53 = client(s, &gw.url_for("use1-az1"))?;
    let (zone, zone_id) = zone(s, &r53, "dangling")?;
    let (leaf, root) = (format!("leaf.{zone}"), format!("root.{zone}"));
    let refused = s.block_on(r53.change(&zone_id, vec![change(ChangeAction::Create, alias(&root, RrType::A, &zone_id, &leaf))], None));
    let message = match &refused {
        Err(e) if e.code == "InvalidChangeBatch" => e.message.clone(),
        other => return Err(format!("an alias to a missing target should be refused: {other:?}").into()),
    };
    ensure(message.contains("Tried to create an alias that targets") && message.contains("but that target was not found"), || message.clone())?;
    // Target first in the same batch: accepted. Then deleting the target: accepted too.
    s.block_on(r53.change(
        &zone_id,
        vec![change(ChangeAction::Create, plain(&leaf, RrType::A, 60, &["192.0.2.7"])), change(ChangeAction::Create, alias(&root, RrType::A, &zone_id, &leaf))],
        None,
    ))?;
    let deleted = s.block_on(r53.change(&zone_id, vec![change(ChangeAction::Delete, plain(&leaf, RrType::A, 60, &["192.0.2.7"]))], None));
    ensure(deleted.is_ok(), || format!("deleting an alias's target is accepted by Route 53: {deleted:?}"))
}

fn get_change(s: &Shared) -> Result<(), Failed> {
    const DELAY: Duration = Duration::from_millis(1500);
    let gw = start(s, true, DELAY)?;
    let r53 = client(s, &gw.url())?;
    let (zone, zone_id) = zone(s, &r53, "getchange")?;
    let submitted = Instant::now();
    let first: ChangeOutcome = s.block_on(r53.change(&zone_id, upsert(&format!("g1.{zone}"), "a"), None))?;
    let second = s.block_on(r53.change(&zone_id, upsert(&format!("g2.{zone}"), "b"), None))?;
    ensure(first.id != second.id, || format!("change ids repeat: {}", first.id))?;
    ensure(first.status == "PENDING", || format!("a fresh change is {}", first.status))?;
    let mut seen = vec![];
    let insync_after = loop {
        let status = s.block_on(r53.change_status(&first.id))?;
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status == ChangeStatus::Insync {
            break submitted.elapsed();
        }
        ensure(submitted.elapsed() < Duration::from_secs(10), || "never INSYNC".into())?;
        std::thread::sleep(Duration::from_millis(50));
    };
    println!("ids {} / {}; statuses {seen:?}; INSYNC after {} ms (delay {} ms)", first.id, second.id, insync_after.as_millis(), DELAY.as_millis());
    ensure(seen == [ChangeStatus::Pending, ChangeStatus::Insync], || format!("statuses {seen:?}"))?;
    ensure(insync_after >= DELAY && insync_after < DELAY + Duration::from_millis(500), || format!("INSYNC after {insync_after:?}"))
}

fn parallel_cas(s: &Shared) -> Result<(), Failed> {
    const N: usize = 24;
    let gw = start(s, true, Duration::ZERO)?;
    let r53 = client(s, &gw.url())?;
    let (zone, zone_id) = zone(s, &r53, "cas")?;
    let lock = format!("lock.{zone}");
    s.block_on(r53.change(&zone_id, vec![change(ChangeAction::Create, txt(&lock, 60, "v0"))], None))?;
    let results = s.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..N {
            let (r53, zone_id, lock) = (r53.clone(), zone_id.clone(), lock.clone());
            tasks.spawn(async move { (i, r53.change(&zone_id, cas(&lock, "v0", &format!("holder-{i}")), None).await) });
        }
        tasks.join_all().await
    });
    let winners: Vec<usize> = results.iter().filter(|(_, r)| r.is_ok()).map(|(i, _)| *i).collect();
    let codes: Vec<&str> = results.iter().filter_map(|(_, r)| r.as_ref().err()).map(|e| e.code.as_str()).collect();
    let held: Vec<String> =
        s.block_on(r53.list_records(&zone_id))?.iter().filter(|r| same_name(r.name(), &lock) && *r.r#type() == RrType::Txt).flat_map(values).collect();
    println!("winners {winners:?}; lock holds {held:?}; losers' codes {:?}", codes.iter().collect::<std::collections::BTreeSet<_>>());
    ensure(winners.len() == 1, || format!("{} winners: {winners:?}", winners.len()))?;
    ensure(codes.iter().all(|c| *c == "InvalidChangeBatch"), || format!("losers' codes {codes:?}"))?;
    ensure(held == [format!("\"holder-{}\"", winners[0])], || format!("lock holds {held:?}"))
}

fn pagination(s: &Shared) -> Result<(), Failed> {
    const SETS: usize = 320;
    let gw = start(s, true, Duration::ZERO)?;
    let r53 = client(s, &gw.url())?;
    let (zone, zone_id) = zone(s, &r53, "pages")?;
    let changes: Vec<Change> =
        (0..SETS).map(|i| change(ChangeAction::Create, txt(&format!("r{i:03}.{zone}"), 60, &format!("v{i}")))).collect();
    s.block_on(r53.change(&zone_id, changes, None))?;
    // Route 53 pages hold at most 300 sets: these lie beyond the first page.
    let page = s.block_on(r53.sdk().unwrap().list_resource_record_sets().hosted_zone_id(&zone_id).send()).map_err(|e| ApiError::from_sdk(&e).to_string())?;
    println!("first page: {} sets, truncated {}", page.resource_record_sets().len(), page.is_truncated());
    let last = format!("r{:03}.{zone}", SETS - 1);
    s.block_on(r53.change(&zone_id, cas(&last, &format!("v{}", SETS - 1), "swapped"), None))?;
    let dup = s.block_on(r53.change(&zone_id, vec![change(ChangeAction::Create, txt(&last, 60, "dup"))], None));
    ensure(matches!(&dup, Err(e) if e.code == "InvalidChangeBatch"), || format!("duplicate CREATE past page one: {dup:?}"))?;
    let listed = s.block_on(r53.list_records(&zone_id))?;
    let txt_sets = listed.iter().filter(|r| *r.r#type() == RrType::Txt).count();
    ensure(txt_sets == SETS, || format!("{txt_sets} TXT sets, expected {SETS}"))
}

fn malformed(s: &Shared) -> Result<(), Failed> {
    let gw = start(s, true, Duration::ZERO)?;
    let http = reqwest::Client::builder().no_proxy().build()?;
    for body in ["<ChangeResourceRecordSetsRequest><ChangeBatch>", "not xml at all", "<ChangeResourceRecordSetsRequest/>"] {
        let resp = s.block_on(http.post(format!("{}/2013-04-01/hostedzone/Z1/rrset", gw.url())).body(body).send())?;
        let status = resp.status().as_u16();
        let text = s.block_on(resp.text())?;
        ensure(status == 400 && text.contains("<Code>InvalidInput</Code>"), || format!("{body:?}: http {status}: {text}"))?;
    }
    let bad = Rule { probability: 2.0, ..Rule::new(None, Effect::Error(ApiErrorKind::DropConnection)) };
    let err = gw.add_rule(bad).err().ok_or("probability 2 was accepted")?;
    ensure(err.to_string().contains("outside 0..=1"), || format!("unhelpful error: {err}"))?;
    let err = s.block_on(Gateway::start(GatewayConfig::new("127.0.0.1:4566"))).err().ok_or("an upstream without scheme was accepted")?;
    ensure(err.to_string().contains("not an http(s) URL"), || format!("unhelpful error: {err}"))?;
    // An upstream that does not answer is a 502 with a message, not a hang or a crash.
    let dead = s.block_on(Gateway::start(GatewayConfig::new("http://127.0.0.1:9")))?;
    let r53 = client(s, &dead.url())?;
    let err = s.block_on(r53.list_records("Z1")).err().ok_or("a dead upstream answered")?;
    ensure(err.code == "UpstreamUnavailable" && err.status == Some(502), || format!("dead upstream: {err}"))
}

/// Why the gateway sends `InvalidChangeBatch` as an `ErrorResponse`: the SDK finds no error code
/// in the older `<InvalidChangeBatch><Messages>` document (a one-shot stub serves it here).
fn legacy_shape(s: &Shared) -> Result<(), Failed> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = s.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let url = format!("http://{}", listener.local_addr()?);
    let stub = s.rt.spawn(async move {
        let (mut stream, _) = listener.accept().await?;
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        // Read the head, then as much body as it announces.
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
        let head_len = text.find("\r\n\r\n").map_or(request.len(), |i| i + 4);
        let wanted: usize = text
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while request.len() < head_len + wanted {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<InvalidChangeBatch xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Messages><Message>Tried to delete resource record set [name='x.', type='TXT'] but the values provided do not match the current values</Message></Messages><RequestId>r-1</RequestId></InvalidChangeBatch>"#;
        let response = format!(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    });
    let r53 = client(s, &url)?;
    let err = s.block_on(r53.change("Z1", upsert("x.", "v"), None)).err().ok_or("the stub's error was taken for success")?;
    s.block_on(stub)??;
    println!("legacy InvalidChangeBatch document: {err}");
    ensure(err.code != "InvalidChangeBatch", || format!("the SDK now parses the legacy shape ({err}): the gateway could send it"))
}
