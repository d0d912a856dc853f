//! What every fault actor shares: the context faults act in, the state of an active fault,
//! and how a fault says it does not apply to an implementation.

use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use super::gateway::Gateway;
use crate::backend::Backend;
use crate::world::World;

/// What faults may act on besides the world.
pub struct FaultCtx<'a> {
    pub backend: &'a dyn Backend,
    /// The `dnschaos` binary, to restart subprocess enactors.
    pub bin: &'a Path,
    /// The Route 53 fault gateway between the enactors and the backend (none for real AWS).
    pub gateway: Option<&'a Gateway>,
}

/// What a fault is doing while active, so that its end can undo it and its evidence be read.
pub(crate) enum Active {
    Hold(crate::enactor::HoldHandle),
    /// `expect`: plans the fault itself adds (a burst), waited for at its end.
    Planner { emitted_before: usize, expect: usize },
    Filter { az: String, calls: Arc<AtomicU64> },
    Signal { pid: i32 },
    Crash { index: usize },
    Backend,
    Contention { stop: tokio::sync::watch::Sender<bool>, wins: Arc<AtomicU64> },
    Gateway { rules: Vec<u64> },
    AzLoss { az: String, index: usize },
}

/// Prefix of a start error meaning "this fault has no target in this implementation".
pub(crate) const NOT_APPLICABLE: &str = "not applicable: ";

/// The AZ of enactor `i`, or why the fault does not apply to this implementation.
pub(crate) fn az(world: &World, i: usize) -> Result<String, String> {
    world.azs().get(i).cloned().ok_or_else(|| format!("{NOT_APPLICABLE}enactor {i} does not run in this implementation"))
}

