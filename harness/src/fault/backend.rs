//! Faults on the backend itself: `backend-pause` (docker pause / SIGSTOP of LocalStack).
//! `backend-restart` is refused: LocalStack community keeps no state across a restart.

use super::actor::{Active, FaultCtx};

pub(super) async fn pause(ctx: &FaultCtx<'_>) -> Result<Active, String> {
    ctx.backend.pause().await.map_err(|e| e.to_string())?;
    Ok(Active::Backend)
}

pub(super) async fn resume(ctx: &FaultCtx<'_>) -> (bool, String) {
    match ctx.backend.resume().await {
        Ok(()) => (true, "backend paused and resumed".into()),
        Err(e) => (true, format!("backend paused; resume failed: {e}")),
    }
}
