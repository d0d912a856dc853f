//! The zones a data plane serves: a set of snapshots that is swapped whole while serving.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::Name;

use crate::model::{RrKind, ZoneSnapshot};

/// Route 53's SOA timers (refresh, retry, expire), used when a snapshot carries no SOA record.
const SOA_TIMERS: (i32, i32, i32) = (7200, 900, 1_209_600);

/// One served zone: its snapshot and the SOA record sent with negative answers.
#[derive(Debug, Clone)]
pub(crate) struct ServedZone {
    pub snapshot: Arc<ZoneSnapshot>,
    pub apex: Name,
    /// The zone's SOA with MINIMUM set to the negative-caching TTL, so that a resolver applying
    /// RFC 2308 (min of the SOA's TTL and MINIMUM) caches a negative answer for exactly that long.
    pub soa: SOA,
}

impl ServedZone {
    fn new(snapshot: Arc<ZoneSnapshot>, negative_ttl: u32) -> Option<Self> {
        let apex = Name::from_ascii(&snapshot.zone).ok()?;
        let soa = soa_of(&snapshot, &apex, negative_ttl);
        Some(ServedZone { snapshot, apex, soa })
    }
}

/// The SOA record of the snapshot (as Route 53 lists it: `mname rname serial refresh retry
/// expire minimum`), else one made up in Route 53's shape.
fn soa_of(snapshot: &ZoneSnapshot, apex: &Name, negative_ttl: u32) -> SOA {
    let listed = snapshot
        .find(&snapshot.zone, RrKind::Soa)
        .first()
        .and_then(|set| set.values.first())
        .and_then(|value| parse_soa(value));
    let mut soa = listed.unwrap_or_else(|| {
        let (refresh, retry, expire) = SOA_TIMERS;
        let label = |l: &str| apex.prepend_label(l).unwrap_or_else(|_| apex.clone());
        SOA::new(label("ns"), label("hostmaster"), 1, refresh, retry, expire, negative_ttl)
    });
    soa.minimum = negative_ttl;
    soa
}

fn parse_soa(value: &str) -> Option<SOA> {
    let mut it = value.split_whitespace();
    let mname = Name::from_ascii(it.next()?).ok()?;
    let rname = Name::from_ascii(it.next()?).ok()?;
    let serial = it.next()?.parse().ok()?;
    let refresh = it.next()?.parse().ok()?;
    let retry = it.next()?.parse().ok()?;
    let expire = it.next()?.parse().ok()?;
    let minimum = it.next()?.parse().ok()?;
    Some(SOA::new(mname, rname, serial, refresh, retry, expire, minimum))
}

/// Every served zone at one moment, most specific (longest) zone first.
#[derive(Debug, Default)]
pub(crate) struct ZoneSet {
    zones: Vec<ServedZone>,
}

impl ZoneSet {
    /// The zone that is authoritative for `qname` (lowercase, trailing dot): the longest match.
    pub fn zone_for(&self, qname: &str) -> Option<&ServedZone> {
        self.zones.iter().find(|z| z.snapshot.in_zone(qname))
    }
}

/// The shared, swappable zone state of a data plane. Cheap to clone; every clone sees the same
/// zones. Readers take an `Arc` of the current set under a read lock held for a pointer copy,
/// so a publish never blocks a query for longer than that and a query never sees half a swap.
#[derive(Debug, Clone)]
pub struct ZoneTable {
    current: Arc<RwLock<Arc<ZoneSet>>>,
    negative_ttl: u32,
}

impl ZoneTable {
    pub(crate) fn new(negative_ttl: u32) -> Self {
        ZoneTable { current: Arc::default(), negative_ttl }
    }

    /// A table served by no socket (the simulated data plane), with this negative-caching TTL.
    pub fn in_process(negative_ttl: std::time::Duration) -> Self {
        Self::new(u32::try_from(negative_ttl.as_secs()).unwrap_or(u32::MAX))
    }

    /// The data plane's reply to one query packet, as its UDP listener would send it (`random`
    /// picks among weighted members); `None` when it would send nothing.
    pub fn respond(&self, packet: &[u8], random: f64) -> Option<Vec<u8>> {
        let policy = super::respond::Policy { answer_all: false, negative_ttl: self.negative_ttl };
        match super::respond::respond(&self.load(), policy, random, packet, super::respond::Transport::Udp) {
            super::respond::Reply::Send(bytes) | super::respond::Reply::Malformed(bytes) => Some(bytes),
            super::respond::Reply::Drop => None,
        }
    }

    /// Serve `snapshot`, replacing any earlier snapshot of the same zone. All of the zone's
    /// records change at once. A zone name that is not a valid DNS name is logged and ignored.
    pub fn publish(&self, snapshot: impl Into<Arc<ZoneSnapshot>>) {
        let snapshot = snapshot.into();
        let zone = snapshot.zone.clone();
        let Some(served) = ServedZone::new(snapshot, self.negative_ttl) else {
            tracing::warn!(zone, "not serving a zone whose name is not a valid dns name");
            return;
        };
        self.update(|zones| {
            zones.insert(zone, served);
        });
    }

    /// Stop serving `zone` (queries for it are then REFUSED). Returns true when it was served.
    pub fn withdraw(&self, zone: &str) -> bool {
        let zone = crate::model::zone_normalize(zone);
        let mut found = false;
        self.update(|zones| found = zones.remove(&zone).is_some());
        found
    }

    /// The snapshots served now, by zone name.
    pub fn zones(&self) -> BTreeMap<String, Arc<ZoneSnapshot>> {
        self.load().zones.iter().map(|z| (z.snapshot.zone.clone(), z.snapshot.clone())).collect()
    }

    /// The snapshot served now for `zone`, if any.
    pub fn get(&self, zone: &str) -> Option<Arc<ZoneSnapshot>> {
        let zone = crate::model::zone_normalize(zone);
        self.load().zones.iter().find(|z| z.snapshot.zone == zone).map(|z| z.snapshot.clone())
    }

    pub(crate) fn load(&self) -> Arc<ZoneSet> {
        // A poisoned lock only means a publisher panicked between two pointer writes; the
        // pointer itself is always whole, so serving goes on.
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn update(&self, f: impl FnOnce(&mut BTreeMap<String, ServedZone>)) {
        let mut guard = self.current.write().unwrap_or_else(|p| p.into_inner());
        let mut map: BTreeMap<String, ServedZone> =
            guard.zones.iter().map(|z| (z.snapshot.zone.clone(), z.clone())).collect();
        f(&mut map);
        let mut zones: Vec<ServedZone> = map.into_values().collect();
        zones.sort_by_key(|z| std::cmp::Reverse(z.snapshot.zone.len()));
        *guard = Arc::new(ZoneSet { zones });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soa_comes_from_the_snapshot_with_the_negative_ttl_as_minimum() {
        let soa = crate::model::RecordSet {
            name: "z.test.".into(),
            kind: RrKind::Soa,
            ttl: Some(900),
            values: vec!["ns-2048.awsdns-64.com. hostmaster.z.test. 7 7200 900 1209600 86400".into()],
            set_id: None,
            weight: None,
            alias: None,
        };
        let table = ZoneTable::new(60);
        table.publish(ZoneSnapshot::new("z.test", vec![soa]));
        let set = table.load();
        let zone = set.zone_for("a.z.test.").expect("served");
        assert_eq!((zone.soa.serial, zone.soa.minimum), (7, 60));
        assert_eq!(zone.soa.mname.to_ascii(), "ns-2048.awsdns-64.com.");
    }

    #[test]
    fn made_up_soa_and_longest_zone_wins() {
        let table = ZoneTable::new(30);
        table.publish(ZoneSnapshot::new("test.", vec![]));
        table.publish(ZoneSnapshot::new("b.test.", vec![]));
        let set = table.load();
        assert_eq!(set.zone_for("x.b.test.").map(|z| z.snapshot.zone.as_str()), Some("b.test."));
        assert_eq!(set.zone_for("x.c.test.").map(|z| z.snapshot.zone.as_str()), Some("test."));
        assert!(set.zone_for("example.").is_none());
        assert_eq!(set.zone_for("b.test.").map(|z| z.soa.mname.to_ascii()), Some("ns.b.test.".into()));
        assert!(table.withdraw("b.test"));
        assert_eq!(table.zones().keys().cloned().collect::<Vec<_>>(), vec!["test.".to_string()]);
    }
}
