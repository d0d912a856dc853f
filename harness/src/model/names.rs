//! Where each record of an endpoint lives. One hosted zone per endpoint.
//!
//! Real record names are UUIDs; the harness uses readable, parseable names instead (a choice
//! recorded in ARCHITECTURE.md) so that analysis can tell the generation of any record:
//!
//! | record | name | type |
//! |---|---|---|
//! | customer-facing alias | `api.<zone>` | A (+ AAAA) alias -> plan root |
//! | rollback record | `_rollback.api.<zone>` | A (+ AAAA) alias -> previous plan root |
//! | lock | `_lock.api.<zone>` | TXT `holder=<az>;until=<epoch ms>;n=<nonce>` |
//! | applied-generation fence (`fenced` only) | `_gen.api.<zone>` | TXT `g=<generation>` |
//! | plan root (weighted set) | `g00000042.<zone>` | A (+ AAAA), members weighted aliases to leaves |
//! | leaf | `lb-07.g00000042.<zone>` | A (+ AAAA) with the load balancer's address |

use serde::{Deserialize, Serialize};

/// TTL of leaves and plain records (Route 53 ignores TTL on aliases).
pub const DEFAULT_TTL: i64 = 60;

/// An endpoint: a customer-facing name in a hosted zone of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// Short label, e.g. `regional` or `dualstack`.
    pub label: String,
    /// The hosted zone's name, with a trailing dot.
    pub zone: String,
    /// The hosted zone's id, once created.
    pub zone_id: String,
    /// True when the endpoint also answers AAAA.
    pub dual_stack: bool,
}

/// What a record name means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordKind {
    Alias,
    Rollback,
    Lock,
    Fence,
    PlanRoot(u64),
    Leaf { generation: u64, lb: String },
    Other,
}

impl Endpoint {
    pub fn new(label: &str, zone: &str, zone_id: &str, dual_stack: bool) -> Self {
        let zone = if zone.ends_with('.') { zone.to_string() } else { format!("{zone}.") };
        Endpoint { label: label.into(), zone, zone_id: zone_id.into(), dual_stack }
    }

    /// The customer-facing name, e.g. `api.regional.r1.dnschaos.test.`.
    pub fn name(&self) -> String {
        format!("api.{}", self.zone)
    }

    pub fn rollback_name(&self) -> String {
        format!("_rollback.api.{}", self.zone)
    }

    pub fn lock_name(&self) -> String {
        format!("_lock.api.{}", self.zone)
    }

    pub fn fence_name(&self) -> String {
        format!("_gen.api.{}", self.zone)
    }

    pub fn root_name(&self, generation: u64) -> String {
        format!("g{generation:08}.{}", self.zone)
    }

    pub fn leaf_name(&self, generation: u64, lb: &str) -> String {
        format!("{lb}.g{generation:08}.{}", self.zone)
    }

    /// Classify a record name of this endpoint's zone.
    pub fn classify(&self, name: &str) -> RecordKind {
        let name = crate::model::zone::normalized(name);
        let zone = crate::model::zone::normalized(&self.zone);
        let Some(rel) = name.strip_suffix(&*zone) else { return RecordKind::Other };
        let rel = rel.trim_end_matches('.');
        match rel {
            "api" => RecordKind::Alias,
            "_rollback.api" => RecordKind::Rollback,
            "_lock.api" => RecordKind::Lock,
            "_gen.api" => RecordKind::Fence,
            _ => match rel.split_once('.') {
                None => parse_gen(rel).map(RecordKind::PlanRoot).unwrap_or(RecordKind::Other),
                Some((lb, g)) if !g.contains('.') => parse_gen(g)
                    .map(|generation| RecordKind::Leaf { generation, lb: lb.to_string() })
                    .unwrap_or(RecordKind::Other),
                Some(_) => RecordKind::Other,
            },
        }
    }

    /// The generation a plan root or leaf name belongs to.
    pub fn generation_of(&self, name: &str) -> Option<u64> {
        match self.classify(name) {
            RecordKind::PlanRoot(g) | RecordKind::Leaf { generation: g, .. } => Some(g),
            _ => None,
        }
    }
}

fn parse_gen(label: &str) -> Option<u64> {
    label.strip_prefix('g').filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let ep = Endpoint::new("regional", "regional.r1.dnschaos.test", "Z1", false);
        assert_eq!(ep.name(), "api.regional.r1.dnschaos.test.");
        let check = |name: String, kind: RecordKind| assert_eq!(ep.classify(&name), kind, "{name}");
        check(ep.name(), RecordKind::Alias);
        check(ep.rollback_name(), RecordKind::Rollback);
        check(ep.lock_name(), RecordKind::Lock);
        check(ep.fence_name(), RecordKind::Fence);
        check(ep.root_name(42), RecordKind::PlanRoot(42));
        check(ep.leaf_name(42, "lb-07"), RecordKind::Leaf { generation: 42, lb: "lb-07".into() });
        check("other.example.".into(), RecordKind::Other);
        check("gx.regional.r1.dnschaos.test.".into(), RecordKind::Other);
        assert_eq!(ep.generation_of("G00000042.REGIONAL.r1.dnschaos.test"), Some(42));
    }
}
