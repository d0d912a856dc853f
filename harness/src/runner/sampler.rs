//! The harness's own read of the control plane at the end of a run without a truth log (no
//! gateway): the final state of every endpoint.

use std::collections::BTreeMap;

use crate::model::RrKind;
use crate::summary::FinalState;
use crate::world::World;

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
