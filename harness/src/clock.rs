//! The one clock of a run, and its source of unique ids.
//!
//! Every component reads wall time ([`Clock::epoch_ms`]) and monotonic time ([`Clock::now`])
//! here, and draws unique names and ids ([`Clock::unique_id`]) here. Monotonic time is tokio's,
//! so it follows tokio's paused clock where a run uses one; wall time is the wall clock at the
//! clock's creation plus the monotonic time since, so every reader of one clock agrees with every
//! other, and child processes that make their own wall clock share the axis to the millisecond.
//!
//! **Architecture invariant:** nothing outside this file calls `SystemTime::now`,
//! `Instant::now` or `Uuid::new_v4` (a test greps for them).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A shared clock. Cloning shares it.
#[derive(Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

struct Inner {
    origin_epoch_ms: u64,
    origin: tokio::time::Instant,
    /// `None`: ids from the operating system's randomness; `Some`: from this seeded stream.
    ids: Option<Mutex<StdRng>>,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock").field("origin_epoch_ms", &self.inner.origin_epoch_ms).field("seeded_ids", &self.inner.ids.is_some()).finish()
    }
}

impl Clock {
    /// The wall clock, now; ids are random.
    pub fn wall() -> Clock {
        let origin_epoch_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        Clock { inner: Arc::new(Inner { origin_epoch_ms, origin: tokio::time::Instant::now(), ids: None }) }
    }

    /// A clock whose wall time starts at `epoch_ms` and whose ids come from `id_seed`: the same
    /// readings and ids every time, given the same monotonic time (a paused tokio clock).
    pub fn fixed(epoch_ms: u64, id_seed: u64) -> Clock {
        Clock {
            inner: Arc::new(Inner {
                origin_epoch_ms: epoch_ms,
                origin: tokio::time::Instant::now(),
                ids: Some(Mutex::new(StdRng::seed_from_u64(id_seed))),
            }),
        }
    }

    /// Wall-clock milliseconds since the Unix epoch.
    pub fn epoch_ms(&self) -> u64 {
        self.inner.origin_epoch_ms + self.inner.origin.elapsed().as_millis() as u64
    }

    /// Monotonic now.
    pub fn now(&self) -> tokio::time::Instant {
        tokio::time::Instant::now()
    }

    /// Time since `earlier` (a reading of [`Clock::now`]).
    pub fn since(&self, earlier: tokio::time::Instant) -> Duration {
        self.now().saturating_duration_since(earlier)
    }

    pub async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await
    }

    /// 32 hex digits, unique per call (random, or the seeded stream's next draw).
    pub fn unique_id(&self) -> String {
        match &self.inner.ids {
            None => uuid::Uuid::new_v4().simple().to_string(),
            Some(rng) => {
                let v: u128 = rng.lock().unwrap_or_else(|e| e.into_inner()).gen();
                format!("{v:032x}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_time_moves_and_fixed_ids_repeat() {
        let c = Clock::wall();
        let a = c.epoch_ms();
        assert!(a > 1_700_000_000_000, "wall time is the real one: {a}");
        assert!(c.epoch_ms() >= a);
        assert_ne!(c.unique_id(), c.unique_id());
        let (x, y) = (Clock::fixed(5_000, 7), Clock::fixed(5_000, 7));
        assert_eq!((x.unique_id(), x.unique_id()), (y.unique_id(), y.unique_id()));
        assert!(x.epoch_ms() >= 5_000 && x.epoch_ms() < 6_000);
    }
}
