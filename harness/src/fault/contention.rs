//! `lock-contention`: an extra lock holder, `chaos-<id>`, keeps taking every endpoint's lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::actor::{Active, FaultCtx};
use crate::enactor::core::{lock_preamble, EndpointState, LockValue};
use crate::model::{Endpoint, ZoneSnapshot};
use crate::route53::convert::SdkSnapshot;
use crate::route53::Route53;
use crate::world::World;

/// Start the contender; it talks to Route 53 through the gateway as caller `contender`.
pub(super) async fn start(world: &World, ctx: &FaultCtx<'_>, id: &str) -> Result<Active, String> {
    let r53 = match ctx.gateway {
        Some(gw) => gw.client(world.r53(), ctx.backend.info(), "contender").await.map_err(|e| e.to_string())?.0,
        None => world.r53().clone(),
    };
    let (tx, rx) = tokio::sync::watch::channel(false);
    let wins = Arc::new(AtomicU64::new(0));
    let clock = world.log().clock().clone();
    tokio::spawn(contend(r53, world.endpoints().to_vec(), id.to_string(), rx, wins.clone(), clock));
    Ok(Active::Contention { stop: tx, wins })
}

pub(super) fn end(stop: tokio::sync::watch::Sender<bool>, wins: &AtomicU64) -> (bool, String) {
    stop.send_replace(true);
    let n = wins.load(Ordering::SeqCst);
    (n > 0, format!("{n} lock takeovers by the contender"))
}

async fn contend(
    r53: Route53,
    endpoints: Vec<Endpoint>,
    id: String,
    mut stop: tokio::sync::watch::Receiver<bool>,
    wins: Arc<AtomicU64>,
    clock: crate::clock::Clock,
) {
    let mut n = 0u32;
    while !*stop.borrow() {
        for ep in &endpoints {
            let Ok(records) = r53.list_records(&ep.zone_id).await else { continue };
            let state = EndpointState::from_snapshot(ep, ZoneSnapshot::from_sdk(&ep.zone, &records));
            n += 1;
            let mine = LockValue { holder: format!("chaos-{id}"), until_ms: clock.epoch_ms() + 1_000, nonce: format!("c{n:07}") };
            if r53.change(&ep.zone_id, lock_preamble(ep, &state, &mine), Some("dnschaos lock contention")).await.is_ok() {
                wins.fetch_add(1, Ordering::SeqCst);
            }
        }
        // Biased: a stop wins over another round.
        tokio::select! {
            biased;
            _ = stop.changed() => {}
            _ = tokio::time::sleep(Duration::from_millis(400)) => {}
        }
    }
}
