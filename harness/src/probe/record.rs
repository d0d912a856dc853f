//! What one probe recorded, and its class relative to the plans applied.

use std::collections::HashSet;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::answer::Rcode;
use crate::model::RrKind;

/// The outcome of one query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "lowercase", deny_unknown_fields)]
pub enum Outcome {
    /// A response arrived in time. Response codes other than the four of [`Rcode`] (FORMERR,
    /// NOTIMP, ...) are recorded as `servfail`: a resolver turns them into SERVFAIL too.
    Answer {
        rcode: Rcode,
        /// The addresses of the asked type in the answer section, in order.
        addrs: Vec<IpAddr>,
        /// The smallest TTL among those records; none without records.
        ttl: Option<u32>,
        /// With an SOA in the authority section: the negative-caching TTL it gives, the smaller
        /// of the SOA record's TTL and its MINIMUM (RFC 2308, section 5).
        negative_ttl: Option<u32>,
    },
    /// No response with this query's id within the timeout (a later response is ignored), or
    /// the query could not be sent.
    Timeout,
}

impl Outcome {
    /// The addresses answered (none for a timeout).
    pub fn addrs(&self) -> &[IpAddr] {
        match self {
            Outcome::Answer { addrs, .. } => addrs,
            Outcome::Timeout => &[],
        }
    }
}

/// One probe: when it was sent, what it asked, what came back and how fast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeRecord {
    /// When the query was sent, in milliseconds since the run's start.
    pub t_ms: u64,
    /// The name asked, lowercase with a trailing dot.
    pub name: String,
    pub qtype: RrKind,
    pub outcome: Outcome,
    /// From send to response in microseconds; for a timeout, the timeout.
    pub latency_us: u64,
}

/// How a probe's answer relates to the plans: the health signal of the whole harness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeClass {
    /// Addresses, all of the newest applied plan.
    Current,
    /// Addresses, all known (current or of an older plan), at least one not current.
    Stale,
    /// Addresses of which at least one belongs to no plan ever applied: a wrong answer, not a
    /// late one. Kept apart from `stale` because no amount of waiting fixes it.
    Foreign,
    /// NOERROR with no records: the failure mode of October 2025.
    Empty,
    Nxdomain,
    /// SERVFAIL, REFUSED or any other error code.
    Servfail,
    Timeout,
}

impl ProbeClass {
    /// The class's name, as in probe logs, summaries and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeClass::Current => "current",
            ProbeClass::Stale => "stale",
            ProbeClass::Foreign => "foreign",
            ProbeClass::Empty => "empty",
            ProbeClass::Nxdomain => "nxdomain",
            ProbeClass::Servfail => "servfail",
            ProbeClass::Timeout => "timeout",
        }
    }
}

/// Class of `outcome`, given the addresses of the newest applied plan (`current`) and of every
/// older plan (`known_old`). Pure. An address in both sets counts as current.
pub fn classify(outcome: &Outcome, current: &HashSet<IpAddr>, known_old: &HashSet<IpAddr>) -> ProbeClass {
    let Outcome::Answer { rcode, addrs, .. } = outcome else { return ProbeClass::Timeout };
    match rcode {
        Rcode::NxDomain => ProbeClass::Nxdomain,
        Rcode::ServFail | Rcode::Refused => ProbeClass::Servfail,
        Rcode::NoError if addrs.is_empty() => ProbeClass::Empty,
        Rcode::NoError => {
            if addrs.iter().all(|a| current.contains(a)) {
                ProbeClass::Current
            } else if addrs.iter().all(|a| current.contains(a) || known_old.contains(a)) {
                ProbeClass::Stale
            } else {
                ProbeClass::Foreign
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(addrs: &[&str]) -> HashSet<IpAddr> {
        addrs.iter().map(|a| a.parse().unwrap()).collect()
    }

    fn answer(rcode: Rcode, addrs: &[&str]) -> Outcome {
        Outcome::Answer {
            rcode,
            addrs: addrs.iter().map(|a| a.parse().unwrap()).collect(),
            ttl: Some(60),
            negative_ttl: None,
        }
    }

    fn check(outcome: Outcome, expected: ProbeClass) {
        let current = set(&["192.0.2.1", "192.0.2.2", "2001:db8::1"]);
        let old = set(&["198.51.100.1", "192.0.2.2"]);
        assert_eq!(classify(&outcome, &current, &old), expected, "{outcome:?}");
    }

    #[test]
    fn classes() {
        use ProbeClass::*;
        use Rcode::*;
        check(answer(NoError, &["192.0.2.1"]), Current);
        check(answer(NoError, &["192.0.2.1", "192.0.2.2"]), Current);
        check(answer(NoError, &["2001:db8::1"]), Current);
        check(answer(NoError, &["192.0.2.2"]), Current); // in both sets
        check(answer(NoError, &["198.51.100.1"]), Stale);
        check(answer(NoError, &["192.0.2.1", "198.51.100.1"]), Stale);
        check(answer(NoError, &["203.0.113.9"]), Foreign);
        check(answer(NoError, &["198.51.100.1", "203.0.113.9"]), Foreign);
        check(answer(NoError, &[]), Empty);
        check(answer(NxDomain, &[]), Nxdomain);
        check(answer(ServFail, &[]), Servfail);
        check(answer(Refused, &[]), Servfail);
        check(Outcome::Timeout, Timeout);
    }

    #[test]
    fn before_any_plan_every_address_is_foreign_or_stale() {
        let none = HashSet::new();
        assert_eq!(classify(&answer(Rcode::NoError, &["192.0.2.1"]), &none, &none), ProbeClass::Foreign);
        assert_eq!(classify(&answer(Rcode::NoError, &["192.0.2.1"]), &none, &set(&["192.0.2.1"])), ProbeClass::Stale);
    }

    #[test]
    fn json_shape() {
        let r = ProbeRecord {
            t_ms: 12,
            name: "api.z.test.".into(),
            qtype: RrKind::A,
            outcome: answer(Rcode::NoError, &["192.0.2.1"]),
            latency_us: 85,
        };
        let line = serde_json::to_string(&r).unwrap();
        assert_eq!(
            line,
            r#"{"t_ms":12,"name":"api.z.test.","qtype":"A","outcome":{"result":"answer","rcode":"noerror","addrs":["192.0.2.1"],"ttl":60,"negative_ttl":null},"latency_us":85}"#
        );
        assert_eq!(serde_json::from_str::<ProbeRecord>(&line).unwrap(), r);
        assert_eq!(serde_json::to_string(&Outcome::Timeout).unwrap(), r#"{"result":"timeout"}"#);
        assert_eq!(serde_json::to_string(&ProbeClass::Nxdomain).unwrap(), r#""nxdomain""#);
    }
}
