//! Faults on one enactor: hold it at a named point (`pause`), SIGSTOP its process (`sigstop`),
//! kill it and start it afresh at the end (`crash`).

use super::actor::{az, Active, FaultCtx};
use crate::enactor::{HoldHandle, HoldSpec, Point};
use crate::scenario::FaultSpec;
use crate::world::World;

pub(super) fn pause(world: &World, spec: &FaultSpec, i: usize) -> Result<Active, String> {
    let az = az(world, i)?;
    let point = spec.point.unwrap_or(Point::AfterStalenessCheck);
    Ok(Active::Hold(world.checkpoints().hold(HoldSpec { enactor: Some(az), point, min_generation: None, once: false, duration: None })))
}

pub(super) fn release(h: HoldHandle) -> (bool, String) {
    let hits = h.hits();
    h.release();
    (hits > 0, format!("{hits} hit(s) held at the checkpoint"))
}

pub(super) fn sigstop(world: &World, i: usize) -> Result<Active, String> {
    az(world, i)?;
    let pid = world.children().get(i).and_then(|c| c.pid()).ok_or("sigstop needs subprocess enactors")? as i32;
    // SAFETY: signalling our own child.
    if unsafe { libc::kill(pid, libc::SIGSTOP) } != 0 {
        return Err(format!("SIGSTOP to {pid} failed: {}", std::io::Error::last_os_error()));
    }
    Ok(Active::Signal { pid })
}

pub(super) fn resume(pid: i32) -> (bool, String) {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(pid, libc::SIGCONT) };
    (true, format!("SIGSTOP then SIGCONT delivered to pid {pid}"))
}

pub(super) async fn crash(world: &mut World, i: usize) -> Result<Active, String> {
    az(world, i)?;
    world.crash_enactor(i).await.map_err(|e| e.to_string())?;
    Ok(Active::Crash { index: i })
}

pub(super) async fn restart(world: &mut World, ctx: &FaultCtx<'_>, index: usize) -> (bool, String) {
    match world.restart_enactor(index, ctx.bin, ctx.backend.info()).await {
        Ok(()) => (true, format!("enactor {index} killed and restarted")),
        Err(e) => (true, format!("enactor {index} killed; restart failed: {e}")),
    }
}
