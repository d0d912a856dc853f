//! Small constructors for record sets and changes, so callers read like Route 53's documents.

use aws_sdk_route53::types::{AliasTarget, Change, ChangeAction, ResourceRecord, ResourceRecordSet, RrType};

/// A TXT value as Route 53 stores it: quoted.
pub fn quote_txt(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A plain record set with literal values.
pub fn plain(name: &str, ty: RrType, ttl: i64, values: &[&str]) -> ResourceRecordSet {
    ResourceRecordSet::builder()
        .name(name)
        .r#type(ty)
        .ttl(ttl)
        .set_resource_records(Some(
            values
                .iter()
                .map(|v| ResourceRecord::builder().value(*v).build().expect("value is set"))
                .collect(),
        ))
        .build()
        .expect("name and type are set")
}

/// A TXT record set with one (unquoted) value.
pub fn txt(name: &str, ttl: i64, value: &str) -> ResourceRecordSet {
    plain(name, RrType::Txt, ttl, &[&quote_txt(value)])
}

/// A weighted member of a record set: one value, a set identifier and a weight.
pub fn weighted(name: &str, ty: RrType, ttl: i64, set_id: &str, weight: i64, values: &[&str]) -> ResourceRecordSet {
    let mut rrs = plain(name, ty, ttl, values);
    rrs.set_identifier = Some(set_id.to_string());
    rrs.weight = Some(weight);
    rrs
}

/// A weighted member that is itself an alias (to a leaf record in the same zone).
pub fn weighted_alias(name: &str, ty: RrType, set_id: &str, weight: i64, zone_id: &str, target: &str) -> ResourceRecordSet {
    let mut rrs = alias(name, ty, zone_id, target);
    rrs.set_identifier = Some(set_id.to_string());
    rrs.weight = Some(weight);
    rrs
}

/// An alias record to `target` in hosted zone `zone_id`.
pub fn alias(name: &str, ty: RrType, zone_id: &str, target: &str) -> ResourceRecordSet {
    ResourceRecordSet::builder()
        .name(name)
        .r#type(ty)
        .alias_target(
            AliasTarget::builder()
                .hosted_zone_id(zone_id)
                .dns_name(target)
                .evaluate_target_health(false)
                .build()
                .expect("alias fields are set"),
        )
        .build()
        .expect("name and type are set")
}

/// One change.
pub fn change(action: ChangeAction, rrs: ResourceRecordSet) -> Change {
    Change::builder().action(action).resource_record_set(rrs).build().expect("action and record set are set")
}

/// The values of a record set, as stored.
pub fn values(rrs: &ResourceRecordSet) -> Vec<String> {
    rrs.resource_records().iter().map(|r| r.value().to_string()).collect()
}

/// Route 53 names are absolute; compare them without the trailing dot and case.
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.').eq_ignore_ascii_case(b.trim_end_matches('.'))
}
