//! A zone's record sets as plain data, converted from and to the SDK's types at the edge.

use aws_sdk_route53::types::{ResourceRecordSet, RrType};
use serde::{Deserialize, Serialize};

use crate::route53::records;

/// The record types the harness uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RrKind {
    A,
    Aaaa,
    Txt,
    Soa,
    Ns,
    Other,
}

impl RrKind {
    pub fn from_sdk(t: &RrType) -> Self {
        match t {
            RrType::A => RrKind::A,
            RrType::Aaaa => RrKind::Aaaa,
            RrType::Txt => RrKind::Txt,
            RrType::Soa => RrKind::Soa,
            RrType::Ns => RrKind::Ns,
            _ => RrKind::Other,
        }
    }

    pub fn to_sdk(self) -> RrType {
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

/// One record set: a name, a type, and either values or an alias target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSet {
    /// Lowercase, with a trailing dot.
    pub name: String,
    pub kind: RrKind,
    pub ttl: Option<i64>,
    pub values: Vec<String>,
    pub set_id: Option<String>,
    pub weight: Option<i64>,
    /// Alias target name (lowercase, trailing dot) when this is an alias.
    pub alias: Option<String>,
}

pub fn normalize(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    if n.ends_with('.') {
        n
    } else {
        format!("{n}.")
    }
}

impl RecordSet {
    pub fn from_sdk(r: &ResourceRecordSet) -> Self {
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

    /// The SDK record set, for a change. Aliases target `zone_id`.
    pub fn to_sdk(&self, zone_id: &str) -> ResourceRecordSet {
        let ty = self.kind.to_sdk();
        let mut rrs = match &self.alias {
            Some(target) => records::alias(&self.name, ty, zone_id, target),
            None => {
                let vals: Vec<&str> = self.values.iter().map(String::as_str).collect();
                records::plain(&self.name, ty, self.ttl.unwrap_or(super::DEFAULT_TTL), &vals)
            }
        };
        rrs.set_identifier = self.set_id.clone();
        rrs.weight = self.weight;
        rrs
    }

    /// The unquoted value of a single-value TXT record.
    pub fn txt_value(&self) -> Option<String> {
        let v = self.values.first()?;
        Some(v.trim_matches('"').replace("\\\"", "\"").replace("\\\\", "\\"))
    }
}

/// All record sets of a zone at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneSnapshot {
    /// Lowercase zone name with a trailing dot.
    pub zone: String,
    pub records: Vec<RecordSet>,
}

impl ZoneSnapshot {
    pub fn new(zone: &str, records: Vec<RecordSet>) -> Self {
        ZoneSnapshot { zone: normalize(zone), records }
    }

    pub fn from_sdk(zone: &str, records: &[ResourceRecordSet]) -> Self {
        Self::new(zone, records.iter().map(RecordSet::from_sdk).collect())
    }

    /// Record sets with this name and type (several when weighted).
    pub fn find(&self, name: &str, kind: RrKind) -> Vec<&RecordSet> {
        let name = normalize(name);
        self.records.iter().filter(|r| r.name == name && r.kind == kind).collect()
    }

    /// True when any record exists at `name` or below it (an empty non-terminal is a name too).
    pub fn name_exists(&self, name: &str) -> bool {
        let name = normalize(name);
        let suffix = format!(".{name}");
        self.records.iter().any(|r| r.name == name || r.name.ends_with(&suffix))
    }

    /// True when `name` is this zone or inside it.
    pub fn in_zone(&self, name: &str) -> bool {
        let name = normalize(name);
        name == self.zone || name.ends_with(&format!(".{}", self.zone))
    }
}
