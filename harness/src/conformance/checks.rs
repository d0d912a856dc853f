//! The individual conformance checks. Each gets a fresh zone and returns one [`Check`].

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use aws_sdk_route53::types::{ChangeAction, ChangeStatus, RrType};

use super::Check;
use crate::route53::records::{alias, change, plain, same_name, txt, values, weighted};
use crate::route53::{ApiError, Route53};

type CheckFuture<'a> = Pin<Box<dyn Future<Output = Result<Check, ApiError>> + Send + 'a>>;

pub(super) struct Spec {
    pub name: &'static str,
    pub expected: &'static str,
    pub run: for<'a> fn(&'a Route53, String, String) -> CheckFuture<'a>,
}

pub(super) const ALL: &[Spec] = &[
    Spec { name: "batch-atomicity", expected: BATCH_ATOMICITY, run: |r, z, id| Box::pin(batch_atomicity(r, z, id)) },
    Spec { name: "delete-missing-value", expected: DELETE_MISSING, run: |r, z, id| Box::pin(delete_missing_value(r, z, id)) },
    Spec { name: "stale-compare-and-swap", expected: STALE_CAS, run: |r, z, id| Box::pin(stale_cas(r, z, id)) },
    Spec { name: "replace-in-one-batch", expected: REPLACE, run: |r, z, id| Box::pin(replace_in_one_batch(r, z, id)) },
    Spec { name: "duplicate-create", expected: DUPLICATE_CREATE, run: |r, z, id| Box::pin(duplicate_create(r, z, id)) },
    Spec { name: "upsert", expected: UPSERT, run: |r, z, id| Box::pin(upsert(r, z, id)) },
    Spec { name: "weighted-sets", expected: WEIGHTED, run: |r, z, id| Box::pin(weighted_sets(r, z, id)) },
    Spec { name: "weighted-delete-scope", expected: WEIGHTED_DELETE, run: |r, z, id| Box::pin(weighted_delete_scope(r, z, id)) },
    Spec { name: "alias-records", expected: ALIAS, run: |r, z, id| Box::pin(alias_records(r, z, id)) },
    Spec { name: "alias-target-exists", expected: ALIAS_TARGET, run: |r, z, id| Box::pin(alias_target_exists(r, z, id)) },
    Spec { name: "get-change-status", expected: GET_CHANGE, run: |r, z, id| Box::pin(get_change(r, z, id)) },
    Spec { name: "concurrent-upserts", expected: CONCURRENT_UPSERTS, run: |r, z, id| Box::pin(concurrent_upserts(r, z, id)) },
    Spec { name: "concurrent-compare-and-swap", expected: CONCURRENT_CAS, run: |r, z, id| Box::pin(concurrent_cas(r, z, id)) },
];

const BATCH_ATOMICITY: &str = "batch of valid CREATE + invalid DELETE rejected whole; CREATE not applied";
const DELETE_MISSING: &str = "DELETE of a value that never existed rejected (InvalidChangeBatch)";
const STALE_CAS: &str = "lock v1->v2 by B, then A's DELETE v1 + CREATE v3 rejected; lock stays v2";
const REPLACE: &str = "DELETE value v + CREATE the same value v in one batch accepted";
const DUPLICATE_CREATE: &str = "CREATE of an existing name/type with other values rejected";
const UPSERT: &str = "UPSERT replaces the values; one record set remains";
const WEIGHTED: &str = "weighted members stored with SetIdentifier and Weight";
const WEIGHTED_DELETE: &str = "DELETE of one weighted member removes only that name's member";
const ALIAS: &str = "alias record stored and listed with its target";
const ALIAS_TARGET: &str = "CREATE of an alias to a name/type the zone lacks rejected (InvalidChangeBatch); deleting a target is accepted";
const GET_CHANGE: &str = "each change has its own id; GetChange goes PENDING -> INSYNC";
const CONCURRENT_UPSERTS: &str = "N parallel UPSERTs of distinct names: all N present";
const CONCURRENT_CAS: &str = "N parallel compare-and-swaps on one TXT lock: exactly one wins";

const CONCURRENCY: usize = 24;

fn verdict(name: &str, expected: &str, observed: String, conforms: bool) -> Check {
    Check { name: name.into(), expected: expected.into(), observed, conforms }
}

fn n(zone: &str, label: &str) -> String {
    format!("{label}.{zone}")
}

/// Record sets named `name` of type `ty`, as listed now.
async fn sets(r53: &Route53, zone_id: &str, name: &str, ty: RrType) -> Result<Vec<aws_sdk_route53::types::ResourceRecordSet>, ApiError> {
    Ok(r53
        .list_records(zone_id)
        .await?
        .iter()
        .filter(|r| same_name(r.name(), name) && *r.r#type() == ty)
        .cloned()
        .collect())
}

fn describe(result: &Result<crate::route53::ChangeOutcome, ApiError>) -> String {
    match result {
        Ok(_) => "accepted".into(),
        Err(e) => format!("rejected ({})", e.code),
    }
}

async fn batch_atomicity(r53: &Route53, zone: String, id: String) -> Result<Check, ApiError> {
    let created = n(&zone, "created");
    let res = r53
        .change(
            &id,
            vec![
                change(ChangeAction::Create, txt(&created, 60, "new")),
                change(ChangeAction::Delete, txt(&n(&zone, "missing"), 60, "never-existed")),
            ],
            None,
        )
        .await;
    let applied = !sets(r53, &id, &created, RrType::Txt).await?.is_empty();
    let observed = format!("{}, CREATE {}", describe(&res), if applied { "applied" } else { "not applied" });
    Ok(verdict("batch-atomicity", BATCH_ATOMICITY, observed, res.is_err() && !applied))
}

async fn delete_missing_value(r53: &Route53, zone: String, id: String) -> Result<Check, ApiError> {
    let res = r53.change(&id, vec![change(ChangeAction::Delete, txt(&n(&zone, "ghost"), 60, "never-existed"))], None).await;
    let conforms = matches!(&res, Err(e) if e.is_invalid_change_batch());
    Ok(verdict("delete-missing-value", DELETE_MISSING, describe(&res), conforms))
}

async fn stale_cas(r53: &Route53, zone: String, id: String) -> Result<Check, ApiError> {
    let lock = n(&zone, "lock");
    r53.change(&id, vec![change(ChangeAction::Create, txt(&lock, 60, "v1"))], None).await?;
    let b = r53
        .change(
            &id,
            vec![change(ChangeAction::Delete, txt(&lock, 60, "v1")), change(ChangeAction::Create, txt(&lock, 60, "v2"))],
            None,
        )
        .await;
    let a = r53
        .change(
            &id,
            vec![change(ChangeAction::Delete, txt(&lock, 60, "v1")), change(ChangeAction::Create, txt(&lock, 60, "v3"))],
            None,
        )
        .await;
    let now: Vec<String> = sets(r53, &id, &lock, RrType::Txt).await?.iter().flat_map(values).collect();
    let observed = format!("B {}, A (stale) {}, lock now {}", describe(&b), describe(&a), now.join(" "));
    let conforms = b.is_ok() && a.is_err() && now == vec!["\"v2\"".to_string()];
    Ok(verdict("stale-compare-and-swap", STALE_CAS, observed, conforms))
}

async fn replace_in_one_batch(r53: &Route53, zone: String, id: String) -> Result<Check, ApiError> {
    let name = n(&zone, "same");
    r53.change(&id, vec![change(ChangeAction::Create, txt(&name, 60, "v"))], None).await?;
    let res = r53
        .change(&id, vec![change(ChangeAction::Delete, txt(&name, 60, "v")), change(ChangeAction::Create, txt(&name, 60, "v"))], None)
        .await;
    let left = sets(r53, &id, &name, RrType::Txt).await?.len();
    let observed = format!("{}, {left} record set(s) now", describe(&res));
    Ok(verdict("replace-in-one-batch", REPLACE, observed, res.is_ok() && left == 1))
}

async fn duplicate_create(r53: &Route53, zone: String, id: String) -> Result<Check, ApiError> {
    let name = n(&zone, "dup");
    r53.change(&id, vec![change(ChangeAction::Create, txt(&name, 60, "first"))], None).await?;
    let second = r53.change(&id, vec![change(ChangeAction::Create, txt(&name, 60, "second"))], None).await;
    let found = sets(r53, &id, &name, RrType::Txt).await?;
    let observed = format!("second CREATE {}, {} record set(s) now", describe(&second), found.len());
    Ok(verdict("duplicate-create", DUPLICATE_CREATE, observed, second.is_err() && found.len() == 1))
}

async fn upsert(r53: &Route53, zone: String, id: String) -> Result<Check, ApiError> {
    let name = n(&zone, "up");
    r53.change(&id, vec![change(ChangeAction::Create, plain(&name, RrType::A, 60, &["192.0.2.1"]))], None).await?;
    let res = r53.change(&id, vec![change(ChangeAction::Upsert, plain(&name, RrType::A, 60, &["192.0.2.2"]))], None).await;
    let found = sets(r53, &id, &name, RrType::A).await?;
    let vals: Vec<String> = found.iter().flat_map(values).collect();
    let observed = format!("{}, {} set(s): {}", describe(&res), found.len(), vals.join(" "));
    Ok(verdict("upsert", UPSERT, observed, res.is_ok() && vals == vec!["192.0.2.2".to_string()]))
}

async fn weighted_sets(r53: &Route53, zone: String, id: String) -> Result<Check, ApiError> {
    let name = n(&zone, "w");
    let res = r53
        .change(
            &id,
            vec![
                change(ChangeAction::Create, weighted(&name, RrType::A, 60, "lb-1", 10, &["192.0.2.1"])),
                change(ChangeAction::Create, weighted(&name, RrType::A, 60, "lb-2", 30, &["192.0.2.2"])),
            ],
            None,
        )
        .await;
    let mut got: Vec<(String, i64)> = sets(r53, &id, &name, RrType::A)
        .await?
        .iter()
        .map(|r| (r.set_identifier().unwrap_or("-").to_string(), r.weight().unwrap_or(-1)))
        .collect();
    got.sort();
    let observed = format!(
        "{}, listed {}",
        describe(&res),
        got.iter().map(|(s, w)| format!("{s}={w}")).collect::<Vec<_>>().join(" ")
    );
    let conforms = got == vec![("lb-1".to_string(), 10), ("lb-2".to_string(), 30)];
    Ok(verdict("weighted-sets", WEIGHTED, observed, conforms))
}

async fn weighted_delete_scope(r53: &Route53, zone: String, id: String) -> Result<Check, ApiError> {
    let (one, two) = (n(&zone, "one"), n(&zone, "two"));
    r53.change(
        &id,
        vec![
            change(ChangeAction::Create, weighted(&one, RrType::A, 60, "lb-1", 10, &["192.0.2.1"])),
            change(ChangeAction::Create, weighted(&two, RrType::A, 60, "lb-1", 10, &["192.0.2.2"])),
        ],
        None,
    )
    .await?;
    let res = r53.change(&id, vec![change(ChangeAction::Delete, weighted(&one, RrType::A, 60, "lb-1", 10, &["192.0.2.1"]))], None).await;
    let left = sets(r53, &id, &two, RrType::A).await?.len();
    let observed = format!("{}, other name's member with the same SetIdentifier {}", describe(&res), if left == 1 { "kept" } else { "deleted too" });
    Ok(verdict("weighted-delete-scope", WEIGHTED_DELETE, observed, res.is_ok() && left == 1))
}

async fn alias_records(r53: &Route53, zone: String, id: String) -> Result<Check, ApiError> {
    let leaf = n(&zone, "leaf");
    let root = n(&zone, "root");
    let res = r53
        .change(
            &id,
            vec![
                change(ChangeAction::Create, plain(&leaf, RrType::A, 60, &["192.0.2.10"])),
                change(ChangeAction::Create, alias(&root, RrType::A, &id, &leaf)),
            ],
            None,
        )
        .await;
    let found = sets(r53, &id, &root, RrType::A).await?;
    let target = found.first().and_then(|r| r.alias_target()).map(|a| a.dns_name().to_string());
    let observed = format!("{}, alias target {}", describe(&res), target.clone().unwrap_or_else(|| "missing".into()));
    let conforms = target.is_some_and(|t| same_name(&t, &leaf));
    Ok(verdict("alias-records", ALIAS, observed, conforms))
}

/// The rule that made October 2025 last: Route 53 refuses an alias whose target is missing, but
/// never re-checks an alias when its target is deleted.
async fn alias_target_exists(r53: &Route53, zone: String, id: String) -> Result<Check, ApiError> {
    let missing = n(&zone, "missing");
    let root = n(&zone, "root");
    let dangling = r53.change(&id, vec![change(ChangeAction::Create, alias(&root, RrType::A, &id, &missing))], None).await;
    let refused = matches!(&dangling, Err(e) if e.code == "InvalidChangeBatch");
    let created = !sets(r53, &id, &root, RrType::A).await?.is_empty();
    // A target deleted under an existing alias: accepted.
    let leaf = n(&zone, "leaf");
    let other = n(&zone, "other");
    r53.change(
        &id,
        vec![
            change(ChangeAction::Create, plain(&leaf, RrType::A, 60, &["192.0.2.11"])),
            change(ChangeAction::Create, alias(&other, RrType::A, &id, &leaf)),
        ],
        None,
    )
    .await?;
    let deleted = r53.change(&id, vec![change(ChangeAction::Delete, plain(&leaf, RrType::A, 60, &["192.0.2.11"]))], None).await;
    let observed = format!(
        "dangling alias {}{}; deleting a target under an alias {}",
        describe(&dangling),
        if created { " (and stored)" } else { "" },
        describe(&deleted)
    );
    Ok(verdict("alias-target-exists", ALIAS_TARGET, observed, refused && !created && deleted.is_ok()))
}

async fn get_change(r53: &Route53, zone: String, id: String) -> Result<Check, ApiError> {
    let first = r53.change(&id, vec![change(ChangeAction::Create, txt(&n(&zone, "c1"), 60, "a"))], None).await?;
    let second = r53.change(&id, vec![change(ChangeAction::Create, txt(&n(&zone, "c2"), 60, "b"))], None).await?;
    let clock = crate::clock::Clock::wall();
    let start = clock.now();
    let mut statuses = vec![first.status.clone()];
    let mut insync_after = None;
    while clock.since(start) < Duration::from_secs(120) {
        let status = r53.change_status(&first.id).await?;
        if statuses.last().map(String::as_str) != Some(status.as_str()) {
            statuses.push(status.as_str().to_string());
        }
        if status == ChangeStatus::Insync {
            insync_after = Some(clock.since(start));
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let distinct = first.id != second.id;
    let observed = format!(
        "ids {} ({} / {}), statuses {}{}",
        if distinct { "distinct" } else { "identical" },
        first.id,
        second.id,
        statuses.join(" -> "),
        insync_after.map(|d| format!(" after {} ms", d.as_millis())).unwrap_or_else(|| ", never INSYNC in 120 s".into())
    );
    Ok(verdict("get-change-status", GET_CHANGE, observed, distinct && insync_after.is_some()))
}

async fn concurrent_upserts(r53: &Route53, zone: String, id: String) -> Result<Check, ApiError> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..CONCURRENCY {
        let r53 = r53.clone();
        let (zone, id) = (zone.clone(), id.clone());
        tasks.spawn(async move {
            let name = n(&zone, &format!("u{i}"));
            r53.change(&id, vec![change(ChangeAction::Upsert, txt(&name, 60, &format!("v{i}")))], None).await
        });
    }
    let mut accepted = 0;
    while let Some(r) = tasks.join_next().await {
        if matches!(r, Ok(Ok(_))) {
            accepted += 1;
        }
    }
    let present = r53
        .list_records(&id)
        .await?
        .iter()
        .filter(|r| *r.r#type() == RrType::Txt && r.name().starts_with('u'))
        .count();
    let observed = format!("{accepted} of {CONCURRENCY} accepted, {present} present");
    Ok(verdict("concurrent-upserts", CONCURRENT_UPSERTS, observed, accepted == CONCURRENCY && present == CONCURRENCY))
}

async fn concurrent_cas(r53: &Route53, zone: String, id: String) -> Result<Check, ApiError> {
    let lock = n(&zone, "lock");
    r53.change(&id, vec![change(ChangeAction::Create, txt(&lock, 60, "v0"))], None).await?;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 1..=CONCURRENCY {
        let r53 = r53.clone();
        let (lock, id) = (lock.clone(), id.clone());
        tasks.spawn(async move {
            r53.change(
                &id,
                vec![
                    change(ChangeAction::Delete, txt(&lock, 60, "v0")),
                    change(ChangeAction::Create, txt(&lock, 60, &format!("holder-{i}"))),
                ],
                None,
            )
            .await
        });
    }
    let mut winners = 0;
    while let Some(r) = tasks.join_next().await {
        if matches!(r, Ok(Ok(_))) {
            winners += 1;
        }
    }
    let found = sets(r53, &id, &lock, RrType::Txt).await?;
    let vals: Vec<String> = found.iter().flat_map(values).collect();
    let observed = format!("{winners} of {CONCURRENCY} won; lock holds {} value(s) in {} set(s)", vals.len(), found.len());
    Ok(verdict("concurrent-compare-and-swap", CONCURRENT_CAS, observed, winners == 1 && vals.len() == 1))
}
