//! "What would DNS answer now": Route 53's answer logic over a zone snapshot.
//!
//! One implementation, used by the control-plane view (enactor tests, analysis cross-checks)
//! and by the DNS data plane. It follows aliases within the zone, picks from weighted sets by
//! weight (or returns all members), answers NOERROR with no records when an alias target is gone,
//! and NXDOMAIN for names that do not exist.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::model::{RecordSet, RrKind, ZoneSnapshot};

/// How many aliases may be chained before the answer is SERVFAIL.
const MAX_ALIAS_DEPTH: usize = 8;

/// The response code of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rcode {
    NoError,
    NxDomain,
    ServFail,
    /// The name is not in this zone (the server is not authoritative for it).
    Refused,
}

/// How to answer a weighted set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pick {
    /// One member chosen by weight with this random number in [0, 1).
    Weighted(f64),
    /// Every member with a positive weight.
    All,
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub rcode: Rcode,
    pub addrs: Vec<IpAddr>,
    /// TTL of the records returned (the leaf's TTL), or None when there are none.
    pub ttl: Option<i64>,
    /// The names followed, in order (the query name first).
    pub chain: Vec<String>,
}

impl Answer {
    fn new(rcode: Rcode, chain: Vec<String>) -> Self {
        Answer { rcode, addrs: Vec::new(), ttl: None, chain }
    }

    /// NOERROR with zero records: what DynamoDB's name answered in October 2025.
    pub fn is_empty_noerror(&self) -> bool {
        self.rcode == Rcode::NoError && self.addrs.is_empty()
    }
}

/// Answer `qname`/`kind` (A or AAAA) from `zone`.
pub fn resolve(zone: &ZoneSnapshot, qname: &str, kind: RrKind, pick: Pick) -> Answer {
    let qname = crate::model::zone_normalize(qname);
    if !zone.in_zone(&qname) {
        return Answer::new(Rcode::Refused, vec![qname]);
    }
    if !zone.name_exists(&qname) {
        return Answer::new(Rcode::NxDomain, vec![qname]);
    }
    let mut chain = vec![qname.clone()];
    let mut answer = Answer::new(Rcode::NoError, Vec::new());
    collect(zone, &qname, kind, pick, 0, &mut chain, &mut answer);
    answer.chain = chain;
    answer
}

fn collect(zone: &ZoneSnapshot, name: &str, kind: RrKind, pick: Pick, depth: usize, chain: &mut Vec<String>, out: &mut Answer) {
    if depth > MAX_ALIAS_DEPTH {
        out.rcode = Rcode::ServFail;
        out.addrs.clear();
        return;
    }
    let sets = zone.find(name, kind);
    if sets.is_empty() {
        return; // NOERROR, no records: a dangling alias or an empty name
    }
    let chosen: Vec<&RecordSet> = if sets.iter().any(|s| s.weight.is_some()) {
        choose_weighted(&sets, pick)
    } else {
        sets
    };
    for set in chosen {
        match &set.alias {
            Some(target) => {
                if !zone.in_zone(target) {
                    continue; // aliases to other zones are not followed here
                }
                chain.push(target.clone());
                collect(zone, target, kind, pick, depth + 1, chain, out);
            }
            None => {
                for v in &set.values {
                    if let Ok(ip) = v.parse::<IpAddr>() {
                        out.addrs.push(ip);
                    }
                }
                out.ttl = Some(out.ttl.map_or(set.ttl.unwrap_or(0), |t| t.min(set.ttl.unwrap_or(0))));
            }
        }
    }
}

fn choose_weighted<'a>(sets: &[&'a RecordSet], pick: Pick) -> Vec<&'a RecordSet> {
    let live: Vec<&RecordSet> = sets.iter().copied().filter(|s| s.weight.unwrap_or(0) > 0).collect();
    match pick {
        Pick::All => live,
        Pick::Weighted(r) => {
            let total: i64 = live.iter().map(|s| s.weight.unwrap_or(0)).sum();
            if total == 0 {
                return Vec::new();
            }
            let mut target = (r.clamp(0.0, 0.999_999) * total as f64) as i64;
            // Stable order so the same random number picks the same member.
            let mut ordered = live;
            ordered.sort_by(|a, b| a.set_id.cmp(&b.set_id));
            for s in ordered {
                let w = s.weight.unwrap_or(0);
                if target < w {
                    return vec![s];
                }
                target -= w;
            }
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(name: &str, kind: RrKind, values: &[&str], set: Option<(&str, i64)>, alias: Option<&str>) -> RecordSet {
        RecordSet {
            name: name.into(),
            kind,
            ttl: if alias.is_some() { None } else { Some(60) },
            values: values.iter().map(|v| v.to_string()).collect(),
            set_id: set.map(|s| s.0.to_string()),
            weight: set.map(|s| s.1),
            alias: alias.map(str::to_string),
        }
    }

    fn zone() -> ZoneSnapshot {
        use RrKind::*;
        ZoneSnapshot::new(
            "z.test.",
            vec![
                rs("lb-1.g1.z.test.", A, &["192.0.2.1"], None, None),
                rs("lb-2.g1.z.test.", A, &["192.0.2.2"], None, None),
                rs("g1.z.test.", A, &[], Some(("lb-1", 1)), Some("lb-1.g1.z.test.")),
                rs("g1.z.test.", A, &[], Some(("lb-2", 3)), Some("lb-2.g1.z.test.")),
                rs("api.z.test.", A, &[], None, Some("g1.z.test.")),
                rs("dangling.z.test.", A, &[], None, Some("g9.z.test.")),
                rs("loop.z.test.", A, &[], None, Some("loop.z.test.")),
            ],
        )
    }

    fn check(qname: &str, pick: Pick, rcode: Rcode, addrs: &[&str]) {
        let a = resolve(&zone(), qname, RrKind::A, pick);
        let want: Vec<IpAddr> = addrs.iter().map(|s| s.parse().unwrap()).collect();
        assert_eq!((a.rcode, a.addrs.clone()), (rcode, want), "{qname}: {a:?}");
    }

    #[test]
    fn answers_like_route53() {
        check("api.z.test.", Pick::All, Rcode::NoError, &["192.0.2.1", "192.0.2.2"]);
        check("api.z.test", Pick::Weighted(0.0), Rcode::NoError, &["192.0.2.1"]);
        check("api.z.test.", Pick::Weighted(0.26), Rcode::NoError, &["192.0.2.2"]);
        check("API.Z.TEST.", Pick::Weighted(0.99), Rcode::NoError, &["192.0.2.2"]);
        check("dangling.z.test.", Pick::All, Rcode::NoError, &[]);
        check("nothing.z.test.", Pick::All, Rcode::NxDomain, &[]);
        check("g1.z.test.", Pick::All, Rcode::NoError, &["192.0.2.1", "192.0.2.2"]);
        check("loop.z.test.", Pick::All, Rcode::ServFail, &[]);
        check("other.test.", Pick::All, Rcode::Refused, &[]);
    }

    #[test]
    fn empty_non_terminal_is_noerror_and_aaaa_missing_is_nodata() {
        // g1.z.test has children (leaves) and records; lb names exist; a parent of a leaf exists.
        let z = zone();
        assert_eq!(resolve(&z, "api.z.test.", RrKind::Aaaa, Pick::All).rcode, Rcode::NoError);
        assert!(resolve(&z, "api.z.test.", RrKind::Aaaa, Pick::All).addrs.is_empty());
        let a = resolve(&z, "dangling.z.test.", RrKind::A, Pick::All);
        assert!(a.is_empty_noerror());
        assert_eq!(a.chain, vec!["dangling.z.test.".to_string(), "g9.z.test.".to_string()]);
    }
}
