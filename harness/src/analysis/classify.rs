//! Classify every probe against the plan active on its endpoint at its time. Pure.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use super::Sample;
use crate::events::{Event, EventKind};
use crate::model::{zone_normalize, Endpoint, LoadBalancer, Plan, RrKind};
use crate::probe::{classify, ProbeRecord};

/// Classify `records` against the newest generation applied to each endpoint at their time (the
/// bootstrap plan, g1, before any flip). `plan_of` finds a plan by generation; `pool` is every
/// load balancer that can appear, so that an old address is told from a foreign one. Records
/// for names of no endpoint, or whose plan is unknown, are left out.
pub fn samples(
    endpoints: &[Endpoint],
    events: &[Event],
    records: &[ProbeRecord],
    plan_of: &dyn Fn(u64) -> Option<Arc<Plan>>,
    pool: &[LoadBalancer],
) -> Vec<Sample> {
    let mut flips: BTreeMap<&str, Vec<(u64, u64)>> = BTreeMap::new();
    for e in events {
        if let EventKind::AliasFlipped { endpoint, to, .. } = &e.event {
            flips.entry(endpoint).or_default().push((e.t_ms, *to));
        }
    }
    let by_name: BTreeMap<String, &Endpoint> = endpoints.iter().map(|e| (zone_normalize(&e.name()), e)).collect();
    let all_v4: HashSet<IpAddr> = pool.iter().map(|lb| IpAddr::V4(lb.ipv4)).collect();
    let all_v6: HashSet<IpAddr> = pool.iter().map(|lb| IpAddr::V6(lb.ipv6)).collect();
    records
        .iter()
        .filter_map(|r| {
            let ep = by_name.get(&r.name)?;
            let gen = flips
                .get(ep.label.as_str())
                .map(|f| f.iter().filter(|(t, _)| *t <= r.t_ms).map(|(_, g)| *g).max().unwrap_or(1))
                .unwrap_or(1);
            let plan = plan_of(gen)?;
            let (current, old): (HashSet<IpAddr>, &HashSet<IpAddr>) = match r.qtype {
                RrKind::Aaaa => (plan.ipv6s().into_iter().map(IpAddr::V6).collect(), &all_v6),
                _ => (plan.ipv4s().into_iter().map(IpAddr::V4).collect(), &all_v4),
            };
            let class = classify(&r.outcome, &current, old);
            let qtype = if r.qtype == RrKind::Aaaa { "AAAA" } else { "A" };
            Some(Sample { t_ms: r.t_ms, name: format!("{} {qtype}", ep.label), class })
        })
        .collect()
}
