//! The gateway's side of the truth log: after a committed batch, still under the zone's lock,
//! what the backend holds, read back from the backend itself, resolved per endpoint.

use super::strict::{self, Zone};
use super::wire;
use crate::answer::{self, Pick};
use crate::model::{zone_normalize, Endpoint, RrKind, ZoneSnapshot};
use crate::truth::{Commit, EndpointTruth, NameTruth, TruthLog};

/// A zone whose commits are recorded, and the endpoints it serves.
#[derive(Clone)]
pub(super) struct Watch {
    pub zone: String,
    pub endpoints: Vec<Endpoint>,
    pub truth: TruthLog,
}

impl Watch {
    /// Record what the backend's `listing` after the commit means; `expected` is the strict
    /// simulation's outcome, when there was one, for the drift check.
    pub fn record_listing(&self, zone_id: &str, change_id: &str, caller: &str, listing: &Zone, expected: Option<&Zone>) {
        let snapshot = ZoneSnapshot::new(&self.zone, listing.values().map(wire::record_set).collect());
        let drift = expected.map(|e| strict::differences(e, listing)).unwrap_or_default();
        self.record(zone_id, change_id, caller, snapshot, drift);
    }

    /// Record the zone's state after a commit (`drift`: where the backend holds other than
    /// Route 53 would).
    pub fn record(&self, zone_id: &str, change_id: &str, caller: &str, snapshot: impl Into<std::sync::Arc<ZoneSnapshot>>, drift: Vec<String>) {
        let snapshot = snapshot.into();
        let mut endpoints = Vec::new();
        let mut answers = Vec::new();
        for ep in &self.endpoints {
            let alias = snapshot.find(&ep.name(), RrKind::A).into_iter().find_map(|r| r.alias.clone());
            let active = alias.as_deref().and_then(|t| ep.generation_of(t));
            let active_tree = active.is_some_and(|g| !snapshot.find(&zone_normalize(&ep.root_name(g)), RrKind::A).is_empty());
            endpoints.push(EndpointTruth { endpoint: ep.label.clone(), active, active_tree });
            let kinds: &[(RrKind, &str)] = if ep.dual_stack { &[(RrKind::A, "A"), (RrKind::Aaaa, "AAAA")] } else { &[(RrKind::A, "A")] };
            for (kind, label) in kinds {
                let a = answer::resolve(&snapshot, &ep.name(), *kind, Pick::All);
                let mut addrs = a.addrs.clone();
                addrs.sort();
                answers.push(NameTruth { name: format!("{} {label}", ep.label), empty: a.is_empty_noerror(), addrs });
            }
        }
        if !drift.is_empty() {
            tracing::warn!(zone = %self.zone, change_id, drift = ?drift, "route 53 gateway: the backend holds other than Route 53 would");
        }
        let commit = Commit {
            t_ms: self.truth.now_ms(),
            zone: self.zone.clone(),
            zone_id: zone_id.to_string(),
            change_id: change_id.to_string(),
            caller: caller.to_string(),
            endpoints,
            answers,
            drift,
        };
        self.truth.record(commit, snapshot);
    }
}
