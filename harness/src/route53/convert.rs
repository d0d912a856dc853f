//! The model's record sets to and from the SDK's types: the only place the two meet.
//!
//! Extension traits keep the call sites short: `RrKind::from_sdk(t)`, `record.to_sdk(zone_id)`,
//! `ZoneSnapshot::from_sdk(zone, &records)` with `use crate::route53::convert::*`.

use aws_sdk_route53::types::{ResourceRecordSet, RrType};

use super::records;
use crate::model::{zone_normalize as normalize, RecordSet, RrKind, ZoneSnapshot, DEFAULT_TTL};

/// [`RrKind`] from and to the SDK's [`RrType`].
pub trait SdkRrKind: Sized {
    fn from_sdk(t: &RrType) -> Self;
    fn to_sdk(self) -> RrType;
}

impl SdkRrKind for RrKind {
    fn from_sdk(t: &RrType) -> Self {
        match t {
            RrType::A => RrKind::A,
            RrType::Aaaa => RrKind::Aaaa,
            RrType::Txt => RrKind::Txt,
            RrType::Soa => RrKind::Soa,
            RrType::Ns => RrKind::Ns,
            _ => RrKind::Other,
        }
    }

    fn to_sdk(self) -> RrType {
        match self {
            RrKind::A => RrType::A,
            RrKind::Aaaa => RrType::Aaaa,
            RrKind::Txt => RrType::Txt,
            RrKind::Soa => RrType::Soa,
            RrKind::Ns => RrType::Ns,
            RrKind::Other => RrType::Spf,
        }
    }
}

/// [`RecordSet`] from and to the SDK's [`ResourceRecordSet`].
pub trait SdkRecordSet: Sized {
    fn from_sdk(r: &ResourceRecordSet) -> Self;
    /// The SDK record set, for a change. Aliases target `zone_id`.
    fn to_sdk(&self, zone_id: &str) -> ResourceRecordSet;
}

impl SdkRecordSet for RecordSet {
    fn from_sdk(r: &ResourceRecordSet) -> Self {
        RecordSet {
            name: normalize(r.name()),
            kind: RrKind::from_sdk(r.r#type()),
            ttl: r.ttl(),
            values: records::values(r),
            set_id: r.set_identifier().map(str::to_string),
            weight: r.weight(),
            alias: r.alias_target().map(|a| normalize(a.dns_name())),
        }
    }

    fn to_sdk(&self, zone_id: &str) -> ResourceRecordSet {
        let ty = self.kind.to_sdk();
        let mut rrs = match &self.alias {
            Some(target) => records::alias(&self.name, ty, zone_id, target),
            None => {
                let vals: Vec<&str> = self.values.iter().map(String::as_str).collect();
                records::plain(&self.name, ty, self.ttl.unwrap_or(DEFAULT_TTL), &vals)
            }
        };
        rrs.set_identifier = self.set_id.clone();
        rrs.weight = self.weight;
        rrs
    }
}

/// [`ZoneSnapshot`] from a listing.
pub trait SdkSnapshot: Sized {
    fn from_sdk(zone: &str, records: &[ResourceRecordSet]) -> Self;
}

impl SdkSnapshot for ZoneSnapshot {
    fn from_sdk(zone: &str, records: &[ResourceRecordSet]) -> Self {
        ZoneSnapshot::new(zone, records.iter().map(RecordSet::from_sdk).collect())
    }
}
