//! The seed tree: every seeded component draws from a seed derived here, so that the run's
//! seeds replay its decisions and each component's stream is independent of the others'. The
//! derivations are the only ones in the crate.
//!
//! Two roots: the **schedule** seed (`--seed`: the plan stream, the fault rules' draws, ids) and
//! the **jitter** seed (`--jitter-seed`, the schedule seed unless given: the enactors' pickup and
//! backoff jitter, the data plane's weighted picks, the simulated backend's latency). Holding the
//! schedule and varying the jitter reruns one schedule under other timing.

/// The seeds of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedTree {
    pub run: u64,
    pub jitter: u64,
}

/// FNV-1a, for labels.
fn fnv(label: &str) -> u64 {
    label.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// A seed as a number in [0, 1) (SplitMix64, then the top 53 bits).
pub fn unit(seed: u64) -> f64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// The `n`-th seed of a sequence derived from `seed` (rules, weighted picks).
pub fn nth(seed: u64, n: u64) -> u64 {
    seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// One seed from several numbers (SplitMix64 over each in turn): e.g. a rerun's jitter seed
/// from its schedule, candidate and rerun index.
pub fn mix(parts: &[u64]) -> u64 {
    parts.iter().fold(0x243f_6a88_85a3_08d3u64, |h, p| {
        let mut z = (h ^ p).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

impl SeedTree {
    /// One seed for both roots.
    pub fn new(run: u64) -> Self {
        SeedTree { run, jitter: run }
    }

    /// A schedule seed and a jitter seed.
    pub fn with_jitter(run: u64, jitter: u64) -> Self {
        SeedTree { run, jitter }
    }

    /// The planner's plan stream.
    pub fn planner(&self) -> u64 {
        self.run ^ 0x706c_616e
    }

    /// The jitter of the enactor in `az` (plan pickup, backoff).
    pub fn enactor(&self, az: &str) -> u64 {
        self.jitter ^ fnv(az)
    }

    /// The simulated backend's latency draws.
    pub fn sim_latency(&self) -> u64 {
        self.jitter ^ fnv("sim-latency")
    }

    /// The nemesis's draws: the schedule of a plan with random faults.
    pub fn nemesis(&self) -> u64 {
        self.run ^ fnv("nemesis")
    }

    /// The ids of a simulated run (zone references, run id).
    pub fn ids(&self) -> u64 {
        self.run ^ fnv("ids")
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
        self.jitter
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
