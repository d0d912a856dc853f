//! `az-loss`: an AZ goes away. Its enactor dies and the planner drops its load balancers from
//! every new plan; at the end both come back (the enactor fresh).

use super::actor::{az, Active, FaultCtx};
use crate::scenario::FaultSpec;
use crate::world::World;

pub(super) async fn start(world: &mut World, spec: &FaultSpec, i: usize) -> Result<Active, String> {
    let az_name = match &spec.az {
        Some(a) => a.clone(),
        None => az(world, i)?,
    };
    world.planner().set_az_down(&az_name, true);
    // The enactor in that AZ dies with it; it comes back fresh when the AZ does.
    world.crash_enactor(i).await.map_err(|e| e.to_string())?;
    Ok(Active::AzLoss { az: az_name, index: i })
}

pub(super) async fn end(world: &mut World, ctx: &FaultCtx<'_>, az: &str, index: usize) -> (bool, String) {
    world.planner().set_az_down(az, false);
    let restarted = world.restart_enactor(index, ctx.bin, ctx.backend.info()).await;
    let how = match restarted {
        Ok(()) => "ok".to_string(),
        Err(e) => e.to_string(),
    };
    (true, format!("{az} removed from plans and its enactor killed; restart: {how}"))
}
