//! A zone's record sets as plain data (`route53::convert` turns them into the SDK's types and back).

use serde::{Deserialize, Serialize};

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
    normalized(name).into_owned()
}

/// `name` lowercase with a trailing dot, borrowed when it already is (the common case: every
/// name the harness stores is normalised), so lookups on the hot paths allocate nothing.
pub fn normalized(name: &str) -> std::borrow::Cow<'_, str> {
    if name.ends_with('.') && !name.bytes().any(|b| b.is_ascii_uppercase()) {
        return std::borrow::Cow::Borrowed(name);
    }
    let n = name.to_ascii_lowercase();
    std::borrow::Cow::Owned(if n.ends_with('.') { n } else { format!("{n}.") })
}

/// True when `name` is `parent` or a name below it (both normalised).
pub fn at_or_below(name: &str, parent: &str) -> bool {
    name == parent || (name.len() > parent.len() && name.ends_with(parent) && name.as_bytes()[name.len() - parent.len() - 1] == b'.')
}

impl RecordSet {
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

    /// Record sets with this name and type (several when weighted).
    pub fn find(&self, name: &str, kind: RrKind) -> Vec<&RecordSet> {
        let name = normalized(name);
        self.records.iter().filter(|r| r.kind == kind && r.name == *name).collect()
    }

    /// True when any record exists at `name` or below it (an empty non-terminal is a name too).
    pub fn name_exists(&self, name: &str) -> bool {
        let name = normalized(name);
        self.records.iter().any(|r| at_or_below(&r.name, &name))
    }

    /// True when `name` is this zone or inside it.
    pub fn in_zone(&self, name: &str) -> bool {
        at_or_below(&normalized(name), &self.zone)
    }
}
