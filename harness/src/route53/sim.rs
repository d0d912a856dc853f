//! Route 53 in memory: hosted zones of the model's record sets, changed by the one
//! implementation of Route 53's batch semantics (`semantics`). The simulated backend's store:
//! no socket, no XML, no clock of its own; every change is applied whole, at one instant.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::semantics::{self, Action, Change, Zone};
use super::ApiError;
use crate::model::{zone_normalize, RecordSet, RrKind, ZoneSnapshot};

/// The store. Zone ids are numbered (`ZSIM0000001`), so runs repeat.
#[derive(Default)]
pub struct SimStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next_zone: u64,
    zones: BTreeMap<String, SimZone>,
}

struct SimZone {
    name: String,
    records: Zone<RecordSet>,
    /// The listing as the SDK gives it, built once per state (reads far outnumber changes).
    listed: Option<std::sync::Arc<Vec<aws_sdk_route53::types::ResourceRecordSet>>>,
    /// The state as a snapshot, built once per state and shared by every reader of it.
    shared: Option<std::sync::Arc<ZoneSnapshot>>,
}

fn not_found(zone_id: &str) -> ApiError {
    ApiError { code: "NoSuchHostedZone".into(), message: format!("No hosted zone found with ID: {zone_id}"), status: Some(404) }
}

impl SimStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Create a zone named `name`, with its SOA and NS record sets as Route 53 makes them.
    pub fn create_zone(&self, name: &str) -> String {
        let name = zone_normalize(name);
        let mut inner = self.lock();
        inner.next_zone += 1;
        let id = format!("ZSIM{:07}", inner.next_zone);
        let soa = RecordSet {
            name: name.clone(),
            kind: RrKind::Soa,
            ttl: Some(900),
            values: vec![format!("ns-1.sim.dnschaos.test. hostmaster.sim.dnschaos.test. 1 7200 900 1209600 86400")],
            set_id: None,
            weight: None,
            alias: None,
        };
        let ns = RecordSet { kind: RrKind::Ns, ttl: Some(172800), values: vec!["ns-1.sim.dnschaos.test.".into()], ..soa.clone() };
        let records = semantics::zone_of(vec![soa, ns]);
        inner.zones.insert(id.clone(), SimZone { name, records, listed: None, shared: None });
        id
    }

    /// Delete a zone; Route 53 refuses while it holds more than its SOA and NS.
    pub fn delete_zone(&self, zone_id: &str) -> Result<(), ApiError> {
        let mut inner = self.lock();
        let zone = inner.zones.get(zone_id).ok_or_else(|| not_found(zone_id))?;
        if zone.records.values().any(|r| !matches!(r.kind, RrKind::Soa | RrKind::Ns)) {
            return Err(ApiError {
                code: "HostedZoneNotEmpty".into(),
                message: "The specified hosted zone contains non-required resource record sets and so cannot be deleted.".into(),
                status: Some(400),
            });
        }
        inner.zones.remove(zone_id);
        Ok(())
    }

    /// The zone's name.
    pub fn zone_name(&self, zone_id: &str) -> Result<String, ApiError> {
        self.lock().zones.get(zone_id).map(|z| z.name.clone()).ok_or_else(|| not_found(zone_id))
    }

    /// Every record set of the zone, in Route 53's listing order (name, type, set identifier).
    pub fn list(&self, zone_id: &str) -> Result<Vec<RecordSet>, ApiError> {
        let inner = self.lock();
        let zone = inner.zones.get(zone_id).ok_or_else(|| not_found(zone_id))?;
        Ok(zone.records.values().cloned().collect())
    }

    /// Every record set of the zone as the SDK lists them (shared until the zone changes).
    pub fn list_sdk(&self, zone_id: &str) -> Result<std::sync::Arc<Vec<aws_sdk_route53::types::ResourceRecordSet>>, ApiError> {
        let mut inner = self.lock();
        let zone = inner.zones.get_mut(zone_id).ok_or_else(|| not_found(zone_id))?;
        if zone.listed.is_none() {
            let records: Vec<RecordSet> = zone.records.values().cloned().collect();
            zone.listed = Some(std::sync::Arc::new(to_sdk_records(zone_id, &records)));
        }
        Ok(zone.listed.clone().expect("just built"))
    }

    /// The zone as a snapshot (shared until the zone changes).
    pub fn snapshot(&self, zone_id: &str) -> Result<std::sync::Arc<ZoneSnapshot>, ApiError> {
        let mut inner = self.lock();
        let zone = inner.zones.get_mut(zone_id).ok_or_else(|| not_found(zone_id))?;
        let shared = zone.shared.get_or_insert_with(|| std::sync::Arc::new(ZoneSnapshot::new(&zone.name, zone.records.values().cloned().collect())));
        Ok(shared.clone())
    }

    /// Apply a batch whole, or refuse it whole with every problem in Route 53's words.
    pub fn change(&self, zone_id: &str, changes: &[Change<RecordSet>]) -> Result<(), ApiError> {
        let mut inner = self.lock();
        let zone = inner.zones.get_mut(zone_id).ok_or_else(|| not_found(zone_id))?;
        let changes: Vec<Change<RecordSet>> = changes
            .iter()
            .map(|c| Change { action: c.action, rrset: RecordSet { name: zone_normalize(&c.rrset.name), ..c.rrset.clone() } })
            .collect();
        match semantics::simulate(&zone.records, &changes, zone_id) {
            Ok(after) => {
                zone.records = after;
                zone.listed = None;
                zone.shared = None;
                Ok(())
            }
            Err(problems) => Err(ApiError { code: "InvalidChangeBatch".into(), message: format!("[{}]", problems.join(", ")), status: Some(400) }),
        }
    }
}

/// `DELETE`/`CREATE`/`UPSERT` of the SDK's spelling.
pub fn action_of(name: &str) -> Option<Action> {
    match name {
        "CREATE" => Some(Action::Create),
        "DELETE" => Some(Action::Delete),
        "UPSERT" => Some(Action::Upsert),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(name: &str, value: &str) -> RecordSet {
        RecordSet { name: name.into(), kind: RrKind::A, ttl: Some(60), values: vec![value.into()], set_id: None, weight: None, alias: None }
    }

    fn alias(name: &str, target: &str) -> RecordSet {
        RecordSet { name: name.into(), kind: RrKind::A, ttl: None, values: vec![], set_id: None, weight: None, alias: Some(target.into()) }
    }

    #[test]
    fn batches_are_whole_and_aliases_need_their_targets() {
        let store = SimStore::new();
        let id = store.create_zone("z.test");
        assert_eq!(store.list(&id).unwrap().len(), 2, "SOA and NS");
        let dangling = store.change(&id, &[Change { action: Action::Create, rrset: alias("api.z.test.", "leaf.z.test.") }]).unwrap_err();
        assert_eq!(dangling.code, "InvalidChangeBatch");
        assert!(dangling.message.contains("but that target was not found"), "{}", dangling.message);
        store
            .change(&id, &[Change { action: Action::Create, rrset: a("leaf.z.test.", "192.0.2.1") }, Change { action: Action::Create, rrset: alias("api.z.test.", "leaf.z.test.") }])
            .unwrap();
        // A batch with one bad change changes nothing.
        let bad = store.change(&id, &[Change { action: Action::Upsert, rrset: a("x.z.test.", "192.0.2.9") }, Change { action: Action::Delete, rrset: a("leaf.z.test.", "192.0.2.7") }]);
        assert!(bad.unwrap_err().message.contains("do not match the current values"));
        assert!(store.list(&id).unwrap().iter().all(|r| r.name != "x.z.test."));
        // Deleting a target under an alias is accepted; the zone then cannot be deleted until empty.
        store.change(&id, &[Change { action: Action::Delete, rrset: a("leaf.z.test.", "192.0.2.1") }]).unwrap();
        assert_eq!(store.delete_zone(&id).unwrap_err().code, "HostedZoneNotEmpty");
        store.change(&id, &[Change { action: Action::Delete, rrset: alias("api.z.test.", "leaf.z.test.") }]).unwrap();
        store.delete_zone(&id).unwrap();
        assert_eq!(store.list(&id).unwrap_err().code, "NoSuchHostedZone");
    }
}

/// The store reached directly, without the gateway: what `Route53` talks to for set-up in a
/// simulated session (the conformance check of the raw backend, for one).
pub struct Direct {
    pub store: std::sync::Arc<SimStore>,
    issued: std::sync::atomic::AtomicU64,
}

impl Direct {
    pub fn new(store: std::sync::Arc<SimStore>) -> Self {
        Direct { store, issued: std::sync::atomic::AtomicU64::new(0) }
    }
}

/// SDK changes as the semantics' changes of model record sets.
pub fn from_sdk_changes(changes: &[aws_sdk_route53::types::Change]) -> Result<Vec<Change<RecordSet>>, ApiError> {
    use super::convert::SdkRecordSet;
    changes
        .iter()
        .map(|c| {
            let action = action_of(c.action().as_str())
                .ok_or_else(|| ApiError { code: "InvalidInput".into(), message: format!("unknown action {}", c.action().as_str()), status: Some(400) })?;
            let rrset = c
                .resource_record_set()
                .ok_or_else(|| ApiError { code: "InvalidInput".into(), message: "a change without a record set".into(), status: Some(400) })?;
            Ok(Change { action, rrset: RecordSet::from_sdk(rrset) })
        })
        .collect()
}

/// The store's record sets as the SDK lists them.
pub fn to_sdk_records(zone_id: &str, records: &[RecordSet]) -> Vec<aws_sdk_route53::types::ResourceRecordSet> {
    use super::convert::SdkRecordSet;
    records.iter().map(|r| r.to_sdk(zone_id)).collect()
}

#[async_trait::async_trait]
impl super::InProcessApi for Direct {
    async fn create_zone(&self, name: &str) -> Result<String, ApiError> {
        Ok(self.store.create_zone(name))
    }

    async fn delete_zone(&self, zone_id: &str) -> Result<(), ApiError> {
        self.store.delete_zone(zone_id)
    }

    async fn list(&self, zone_id: &str) -> Result<std::sync::Arc<Vec<aws_sdk_route53::types::ResourceRecordSet>>, ApiError> {
        self.store.list_sdk(zone_id)
    }

    async fn read_zone(&self, zone_id: &str) -> Result<std::sync::Arc<ZoneSnapshot>, ApiError> {
        self.store.snapshot(zone_id)
    }

    async fn change(&self, zone_id: &str, changes: Vec<aws_sdk_route53::types::Change>, _comment: Option<&str>) -> Result<super::ChangeOutcome, ApiError> {
        self.store.change(zone_id, &from_sdk_changes(&changes)?)?;
        let n = self.issued.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        Ok(super::ChangeOutcome { id: format!("/change/CSIM{n:09}"), status: "INSYNC".into() })
    }

    async fn change_status(&self, _change_id: &str) -> Result<aws_sdk_route53::types::ChangeStatus, ApiError> {
        Ok(aws_sdk_route53::types::ChangeStatus::Insync)
    }
}
