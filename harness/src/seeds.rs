//! The seed tree: every seeded component draws from a seed derived here from the run's seed, so
//! one number replays a run's decisions and each component's stream is independent of the
//! others'. The derivations are the only ones in the crate.

/// The seeds of one run, derived from its seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedTree {
    pub run: u64,
}

/// FNV-1a, for labels.
fn fnv(label: &str) -> u64 {
    label.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// The `n`-th seed of a sequence derived from `seed` (rules, weighted picks).
pub fn nth(seed: u64, n: u64) -> u64 {
    seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl SeedTree {
    pub fn new(run: u64) -> Self {
        SeedTree { run }
    }

    /// The planner's plan stream.
    pub fn planner(&self) -> u64 {
        self.run ^ 0x706c_616e
    }

    /// The jitter of the enactor in `az` (plan pickup, backoff).
    pub fn enactor(&self, az: &str) -> u64 {
        self.run ^ fnv(az)
    }

    /// The gateway's change ids.
    pub fn gateway(&self) -> u64 {
        self.run
    }

    /// The draws of the gateway's `n`-th rule (probabilities, latencies).
    pub fn gateway_rule(&self, n: u64) -> u64 {
        nth(self.gateway(), n)
    }

    /// The data plane's weighted picks.
    pub fn dataplane(&self) -> u64 {
        self.run
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_get_distinct_seeds() {
        let t = SeedTree::new(7);
        let all = [t.planner(), t.enactor("use1-az1"), t.enactor("use1-az2"), t.gateway_rule(1), t.gateway_rule(2)];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(SeedTree::new(7), t);
    }
}
