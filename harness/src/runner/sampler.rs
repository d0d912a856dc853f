//! The harness's own reads of the control plane: the sampler for the cross-check, and the final
//! state of every endpoint.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::analysis::verdict::ControlPlaneSample;
use crate::answer::{self, Pick};
use crate::events::EventLog;
use crate::model::{Endpoint, RrKind, ZoneSnapshot};
use crate::route53::convert::SdkSnapshot;
use crate::route53::Route53;
use crate::summary::FinalState;
use crate::world::World;

/// Every 250 ms, the control plane's own answer for each endpoint (A) until `stop`.
pub(super) async fn control_plane(r53: Route53, endpoints: Vec<Endpoint>, log: EventLog, mut stop: tokio::sync::watch::Receiver<bool>) -> Vec<ControlPlaneSample> {
    let mut out = Vec::new();
    while !*stop.borrow() {
        for ep in &endpoints {
            if let Ok(records) = r53.list_records(&ep.zone_id).await {
                let snap = ZoneSnapshot::from_sdk(&ep.zone, &records);
                let a = answer::resolve(&snap, &ep.name(), RrKind::A, Pick::All);
                out.push((log.now_ms(), ep.label.clone(), a.is_empty_noerror()));
            }
        }
        // Biased: a stop wins over another round of reads.
        tokio::select! {
            biased;
            _ = stop.changed() => {}
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
    }
    out
}

/// Each endpoint's control-plane answer and active generation now.
pub(super) async fn final_state(world: &World) -> BTreeMap<String, FinalState> {
    let mut out = BTreeMap::new();
    for ep in world.endpoints() {
        if let (Ok(answer), Ok(active)) = (world.answer(ep, RrKind::A).await, world.active(ep).await) {
            out.insert(ep.label.clone(), FinalState { active, empty: answer.is_empty_noerror(), addresses: answer.addrs.len() });
        }
    }
    out
}
