//! The DNS Planner: an unbounded, numbered stream of plans, deterministic from a seed.
//!
//! A pool of load balancers spread over the availability zones; each new plan lets load
//! balancers join, leave and change weight. Plans go to a [`PlanBus`], from which each enactor
//! reads the newest plan through its own [`PlanFeed`].

mod bus;

pub use bus::{Filter, PlanBus, PlanFeed};

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub use crate::model::AZS;
use crate::events::{EventKind, EventLog};
use crate::model::{LoadBalancer, Member, Plan};


/// Planner settings.
#[derive(Debug, Clone)]
pub struct PlannerConfig {
    /// Plans per second at normal rate (default 2).
    pub rate_per_s: f64,
    /// Load balancers per AZ (default 4).
    pub lbs_per_az: usize,
    /// How long after emission a plan stays valid (default 10 s).
    pub validity: Duration,
    /// Fewest load balancers a plan may have (default 4).
    pub min_members: usize,
}

impl Default for PlannerConfig {
    fn default() -> Self {
        PlannerConfig { rate_per_s: 2.0, lbs_per_az: 4, validity: Duration::from_secs(10), min_members: 4 }
    }
}

/// Knobs that faults turn while the planner runs.
#[derive(Debug, Default)]
pub struct PlannerControl {
    /// Rate multiplier in thousandths (1000 = normal); 0 means "use 1000".
    rate_milli: AtomicU64,
    /// Plans to emit at once, on top of the rate (bursts).
    burst: AtomicU64,
    /// AZs whose load balancers are gone.
    down_azs: Mutex<BTreeSet<String>>,
    /// True while emission is paused.
    paused: std::sync::atomic::AtomicBool,
}

impl PlannerControl {
    pub fn set_rate_multiplier(&self, m: f64) {
        self.rate_milli.store((m * 1000.0).round().max(1.0) as u64, Ordering::SeqCst);
    }

    pub fn rate_multiplier(&self) -> f64 {
        match self.rate_milli.load(Ordering::SeqCst) {
            0 => 1.0,
            m => m as f64 / 1000.0,
        }
    }

    pub fn burst(&self, n: u64) {
        self.burst.fetch_add(n, Ordering::SeqCst);
    }

    pub fn set_az_down(&self, az: &str, down: bool) {
        let mut azs = self.down_azs.lock().expect("planner control");
        if down {
            azs.insert(az.to_string());
        } else {
            azs.remove(az);
        }
    }

    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::SeqCst);
    }

    fn down_azs(&self) -> BTreeSet<String> {
        self.down_azs.lock().expect("planner control").clone()
    }
}

/// The plan generator. [`Planner::next_plan`] is pure given the seed and the control state.
pub struct Planner {
    config: PlannerConfig,
    rng: StdRng,
    pool: Vec<LoadBalancer>,
    /// Weights of the current members by pool index; 0 means not a member.
    weights: Vec<u8>,
    generation: u64,
    pub control: Arc<PlannerControl>,
}

impl Planner {
    /// A planner drawing from `seed` (the run's `SeedTree::planner`).
    pub fn new(config: PlannerConfig, seed: u64) -> Self {
        let mut pool = Vec::new();
        for (a, az) in AZS.iter().enumerate() {
            for i in 0..config.lbs_per_az {
                let n = a * config.lbs_per_az + i + 1;
                pool.push(LoadBalancer {
                    id: format!("lb-{n:02}"),
                    az: az.to_string(),
                    ipv4: Ipv4Addr::new(192, 0, 2, n as u8),
                    ipv6: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n as u16),
                });
            }
        }
        let weights = vec![100; pool.len()];
        Planner { config, rng: StdRng::seed_from_u64(seed), pool, weights, generation: 0, control: Arc::default() }
    }

    pub fn config(&self) -> &PlannerConfig {
        &self.config
    }

    /// Every load balancer the planner may use.
    pub fn pool(&self) -> &[LoadBalancer] {
        &self.pool
    }

    /// The next generation, emitted at `now_ms`.
    pub fn next_plan(&mut self, now_ms: u64) -> Plan {
        self.generation += 1;
        let down = self.control.down_azs();
        if self.generation > 1 {
            self.churn();
        }
        let members: Vec<Member> = self
            .pool
            .iter()
            .zip(&self.weights)
            .filter(|(lb, w)| **w > 0 && !down.contains(&lb.az))
            .map(|(lb, w)| Member { lb: lb.clone(), weight: *w })
            .collect();
        Plan {
            generation: self.generation,
            members,
            emitted_ms: now_ms,
            valid_until_ms: now_ms + self.config.validity.as_millis() as u64,
        }
    }

    /// Load balancers join, leave and change weight.
    fn churn(&mut self) {
        let n = self.pool.len();
        let active = self.weights.iter().filter(|w| **w > 0).count();
        if active > self.config.min_members && self.rng.gen_bool(0.15) {
            let candidates: Vec<usize> = (0..n).filter(|i| self.weights[*i] > 0).collect();
            let i = candidates[self.rng.gen_range(0..candidates.len())];
            self.weights[i] = 0;
        }
        if active < n && self.rng.gen_bool(0.15) {
            let candidates: Vec<usize> = (0..n).filter(|i| self.weights[*i] == 0).collect();
            let i = candidates[self.rng.gen_range(0..candidates.len())];
            self.weights[i] = self.rng.gen_range(50..=150);
        }
        for _ in 0..self.rng.gen_range(1..=3) {
            let i = self.rng.gen_range(0..n);
            if self.weights[i] > 0 {
                let delta: i16 = self.rng.gen_range(-30..=30);
                self.weights[i] = (self.weights[i] as i16 + delta).clamp(1, 255) as u8;
            }
        }
    }

    /// Emit plans onto `bus` until `stop` turns true. Each plan is logged as `plan-emitted`.
    pub async fn run(mut self, bus: PlanBus, log: EventLog, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            let paused = self.control.paused.load(Ordering::SeqCst);
            let extra = self.control.burst.swap(0, Ordering::SeqCst);
            if !paused {
                for _ in 0..(1 + extra) {
                    let plan = self.next_plan(log.now_ms());
                    log.emit(
                        "planner",
                        EventKind::PlanEmitted {
                            generation: plan.generation,
                            lbs: plan.members.iter().map(|m| m.lb.id.clone()).collect(),
                            valid_until_ms: plan.valid_until_ms,
                        },
                    );
                    bus.publish(plan);
                }
            }
            let rate = (self.config.rate_per_s * self.control.rate_multiplier()).max(0.01);
            let wait = Duration::from_secs_f64(1.0 / rate);
            // Biased: a stop wins over the next plan.
            tokio::select! {
                biased;
                _ = stop.wait_for(|s| *s) => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_other_seed_other_stream() {
        let stream = |seed| {
            let mut p = Planner::new(PlannerConfig::default(), seed);
            (0..50).map(|i| p.next_plan(i * 500)).collect::<Vec<_>>()
        };
        assert_eq!(stream(7), stream(7));
        assert_ne!(stream(7), stream(8));
    }

    #[test]
    fn plans_churn_within_bounds_and_drop_down_azs() {
        let mut p = Planner::new(PlannerConfig::default(), 1);
        let mut sizes = BTreeSet::new();
        for g in 1..=200u64 {
            let plan = p.next_plan(g);
            assert_eq!(plan.generation, g);
            assert!(plan.members.len() >= 4, "generation {g} has {} members", plan.members.len());
            assert!(plan.members.iter().all(|m| m.weight >= 1));
            sizes.insert(plan.members.len());
        }
        assert!(sizes.len() > 2, "load balancers should join and leave: sizes {sizes:?}");
        p.control.set_az_down("use1-az2", true);
        let plan = p.next_plan(201);
        assert!(plan.members.iter().all(|m| m.lb.az != "use1-az2"));
    }
}
