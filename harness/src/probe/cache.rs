//! What a caching resolver in front of the authoritative server would have answered.
//!
//! The prober asks the authoritative server directly, so it sees every change at once. Clients
//! ask a caching resolver, which keeps an answer for its TTL, and a negative answer (NXDOMAIN,
//! or NOERROR with no records) for the negative-caching TTL of the zone's SOA (RFC 2308). A
//! short empty-answer window at the authority can thus last a full negative TTL for clients.
//!
//! The model, deliberately small:
//! - one cache, one entry per (name, type), empty at the start of the run;
//! - at each probe time, an unexpired entry is returned (a hit, its TTLs counted down);
//!   otherwise the resolver fetches, and what it gets is what the probe saw at that moment;
//! - a positive answer is kept for its TTL, a negative one for its `negative_ttl`; a negative
//!   answer without an SOA, a TTL of 0, SERVFAIL, REFUSED and timeouts are not kept;
//! - NXDOMAIN is cached per type, not for the whole name (RFC 8020 allows the latter);
//! - no prefetch, no serve-stale, no retries at other name servers.

use std::collections::HashMap;

use serde::Serialize;

use super::record::{Outcome, ProbeRecord};
use crate::answer::Rcode;
use crate::model::RrKind;

/// The resolver's answer at one probe's time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CachedProbe {
    pub t_ms: u64,
    pub name: String,
    pub qtype: RrKind,
    /// The cached answer on a hit (TTLs counted down), else the probe's own outcome.
    pub outcome: Outcome,
    /// True when the answer came from the cache.
    pub hit: bool,
}

struct Entry {
    outcome: Outcome,
    fetched_ms: u64,
    expires_ms: u64,
}

/// The resolver's view of `records`, one result per record in the same order. Pure: records
/// may be in any order; they are replayed in order of `t_ms` (ties in input order).
pub fn cached_view(records: &[ProbeRecord]) -> Vec<CachedProbe> {
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_by_key(|&i| records[i].t_ms);
    let mut cache: HashMap<(&str, RrKind), Entry> = HashMap::new();
    let mut out: Vec<Option<CachedProbe>> = vec![None; records.len()];
    for i in order {
        let r = &records[i];
        let key = (r.name.as_str(), r.qtype);
        let (outcome, hit) = match cache.get(&key) {
            Some(e) if r.t_ms < e.expires_ms => (count_down(&e.outcome, r.t_ms - e.fetched_ms), true),
            _ => {
                match cache_ttl_s(&r.outcome) {
                    Some(ttl) => {
                        let entry = Entry {
                            outcome: r.outcome.clone(),
                            fetched_ms: r.t_ms,
                            expires_ms: r.t_ms + u64::from(ttl) * 1000,
                        };
                        cache.insert(key, entry);
                    }
                    None => {
                        cache.remove(&key);
                    }
                }
                (r.outcome.clone(), false)
            }
        };
        out[i] = Some(CachedProbe { t_ms: r.t_ms, name: r.name.clone(), qtype: r.qtype, outcome, hit });
    }
    out.into_iter().flatten().collect()
}

/// How long a resolver keeps `outcome`, in seconds; None when it does not keep it.
fn cache_ttl_s(outcome: &Outcome) -> Option<u32> {
    let Outcome::Answer { rcode, addrs, ttl, negative_ttl } = outcome else { return None };
    let ttl = match rcode {
        Rcode::NoError if !addrs.is_empty() => *ttl,
        Rcode::NoError | Rcode::NxDomain => *negative_ttl,
        Rcode::ServFail | Rcode::Refused => None,
    };
    ttl.filter(|t| *t > 0)
}

/// `outcome` as served `age_ms` after it was fetched: TTLs less the whole seconds elapsed.
fn count_down(outcome: &Outcome, age_ms: u64) -> Outcome {
    let age = u32::try_from(age_ms / 1000).unwrap_or(u32::MAX);
    match outcome {
        Outcome::Answer { rcode, addrs, ttl, negative_ttl } => Outcome::Answer {
            rcode: *rcode,
            addrs: addrs.clone(),
            ttl: ttl.map(|t| t.saturating_sub(age)),
            negative_ttl: negative_ttl.map(|t| t.saturating_sub(age)),
        },
        Outcome::Timeout => Outcome::Timeout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(addr: &str, ttl: u32) -> Outcome {
        Outcome::Answer {
            rcode: Rcode::NoError,
            addrs: vec![addr.parse().unwrap()],
            ttl: Some(ttl),
            negative_ttl: None,
        }
    }

    fn negative(rcode: Rcode, negative_ttl: Option<u32>) -> Outcome {
        Outcome::Answer { rcode, addrs: vec![], ttl: None, negative_ttl }
    }

    fn probe(t_ms: u64, qtype: RrKind, outcome: Outcome) -> ProbeRecord {
        ProbeRecord { t_ms, name: "api.z.test.".into(), qtype, outcome, latency_us: 100 }
    }

    /// Replays `(t_ms, authoritative outcome)` for one name and type; expects `(hit, addrs)`.
    fn check(stream: &[(u64, Outcome)], expected: &[(bool, &[&str])]) {
        let records: Vec<ProbeRecord> = stream.iter().map(|(t, o)| probe(*t, RrKind::A, o.clone())).collect();
        let got: Vec<(bool, Vec<String>)> = cached_view(&records)
            .into_iter()
            .map(|c| (c.hit, c.outcome.addrs().iter().map(|a| a.to_string()).collect()))
            .collect();
        let want: Vec<(bool, Vec<String>)> =
            expected.iter().map(|(h, a)| (*h, a.iter().map(|s| s.to_string()).collect())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn positive_answers_hide_changes_until_their_ttl_ends() {
        let a = || ok("192.0.2.1", 2);
        let b = || ok("192.0.2.2", 2);
        check(
            &[(0, a()), (1000, b()), (1999, b()), (2000, b()), (3000, a())],
            &[
                (false, &["192.0.2.1"]),
                (true, &["192.0.2.1"]),
                (true, &["192.0.2.1"]),
                (false, &["192.0.2.2"]),
                (true, &["192.0.2.2"]),
            ],
        );
    }

    #[test]
    fn a_short_empty_window_lasts_the_negative_ttl() {
        let a = || ok("192.0.2.1", 1);
        let empty = negative(Rcode::NoError, Some(5));
        check(
            &[(0, a()), (1000, empty), (1100, a()), (5999, a()), (6000, a())],
            &[(false, &["192.0.2.1"]), (false, &[]), (true, &[]), (true, &[]), (false, &["192.0.2.1"])],
        );
    }

    #[test]
    fn uncachable_outcomes_are_passed_through() {
        let a = || ok("192.0.2.1", 60);
        check(
            &[
                (0, negative(Rcode::NxDomain, None)),
                (1, Outcome::Timeout),
                (2, negative(Rcode::ServFail, None)),
                (3, a()),
                (4, Outcome::Timeout),
            ],
            &[(false, &[]), (false, &[]), (false, &[]), (false, &["192.0.2.1"]), (true, &["192.0.2.1"])],
        );
        check(&[(0, ok("192.0.2.1", 0)), (1, ok("192.0.2.2", 0))], &[(false, &["192.0.2.1"]), (false, &["192.0.2.2"])]);
    }

    #[test]
    fn ttls_count_down_types_are_separate_and_order_is_kept() {
        let records = vec![
            probe(2500, RrKind::A, ok("192.0.2.9", 60)),
            probe(0, RrKind::A, ok("192.0.2.1", 60)),
            probe(100, RrKind::Aaaa, negative(Rcode::NxDomain, Some(30))),
            probe(3100, RrKind::Aaaa, ok("2001:db8::1", 60)),
        ];
        let view = cached_view(&records);
        assert_eq!(view.iter().map(|c| c.t_ms).collect::<Vec<_>>(), vec![2500, 0, 100, 3100]);
        assert_eq!(view[0].outcome, ok("192.0.2.1", 58));
        assert!(view[0].hit && !view[1].hit);
        assert_eq!(view[3].outcome, negative(Rcode::NxDomain, Some(27)));
    }
}
