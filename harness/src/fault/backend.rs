//! Faults on the backend itself: `backend-pause` (docker pause / SIGSTOP of LocalStack).
//! `backend-restart` is refused: LocalStack community keeps no state across a restart.

use super::timeline::{Active, FaultCtx};

/// Why `backend-restart` is refused (also by `validate`).
pub const RESTART_REFUSED: &str =
    "backend-restart is not supported: LocalStack community keeps no state across a restart, so every zone would vanish (hint: use backend-pause to freeze the API)";

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
