//! Fault rules: what they match, what they do, and the per-rule counters that prove they fired.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::seeds::SeedTree;
use crate::error::{Error, Result};
pub use crate::scenario::vocab::{ApiErrorKind, Operation};

/// How long a latency effect delays a request. Durations are human strings in YAML ("200ms").
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum LatencySpec {
    /// Always this long: `fixed: 200ms`.
    Fixed(#[serde(with = "crate::model::duration::human")] Duration),
    /// Uniform between `min` and `max` inclusive: `uniform: {min: 50ms, max: 150ms}`.
    Uniform {
        #[serde(with = "crate::model::duration::human")]
        min: Duration,
        #[serde(with = "crate::model::duration::human")]
        max: Duration,
    },
    /// Normal around `mean` with standard deviation `jitter` (Box-Muller), clamped to
    /// `[0, mean + 4 * jitter]`: `normal: {mean: 100ms, jitter: 20ms}`.
    Normal {
        #[serde(with = "crate::model::duration::human")]
        mean: Duration,
        #[serde(with = "crate::model::duration::human")]
        jitter: Duration,
    },
}

impl LatencySpec {
    fn sample(&self, rng: &mut StdRng) -> Duration {
        match *self {
            LatencySpec::Fixed(d) => d,
            LatencySpec::Uniform { min, max } => rng.gen_range(min..=max),
            LatencySpec::Normal { mean, jitter } => {
                let (u1, u2): (f64, f64) = (1.0 - rng.gen::<f64>(), rng.gen::<f64>());
                let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                let secs = mean.as_secs_f64() + z * jitter.as_secs_f64();
                Duration::from_secs_f64(secs.clamp(0.0, mean.as_secs_f64() + 4.0 * jitter.as_secs_f64()))
            }
        }
    }
}

/// What a fired rule does to the request.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Effect {
    /// Delay the request before it goes upstream, then let it through.
    Latency(LatencySpec),
    /// Hold the request until [`super::Gateway::release_stalls`] (or the rule's removal), or
    /// until `max` has passed; then let it through.
    Stall {
        #[serde(default, with = "crate::model::duration::human::option", skip_serializing_if = "Option::is_none")]
        max: Option<Duration>,
    },
    /// Answer with this Route 53 error; the request never reaches the upstream.
    Error(ApiErrorKind),
}

/// One fault rule. A request matches when operation and caller match; a matching request fires
/// the rule with `probability`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Rule {
    /// `None` (default): every operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<Operation>,
    /// The caller name of `/e/<name>` endpoints; `None` (default): every caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    /// Chance that a matching request fires the rule, 0..=1 (default 1).
    #[serde(default = "always")]
    pub probability: f64,
    /// In YAML a one-key map: `{latency: {fixed: 200ms}}`, `{error: drop-connection}`.
    #[serde(with = "serde_yaml::with::singleton_map_recursive")]
    pub effect: Effect,
}

fn always() -> f64 {
    1.0
}

impl Rule {
    /// A rule that fires on every request of `operation` (`None`: any), from any caller.
    pub fn new(operation: Option<Operation>, effect: Effect) -> Rule {
        Rule { operation, caller: None, probability: 1.0, effect }
    }

    fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.probability) {
            return Err(Error::bad_input(format!(
                "fault rule probability {} is outside 0..=1 (hint: 0.25 fires on a quarter of the matching requests)",
                self.probability
            )));
        }
        if let Effect::Latency(LatencySpec::Uniform { min, max }) = self.effect {
            if min > max {
                return Err(Error::bad_input(format!(
                    "uniform latency min {min:?} is above max {max:?} (hint: swap them)"
                )));
            }
        }
        Ok(())
    }
}

/// A rule's handle, unique within one gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RuleId(pub u64);

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rule-{}", self.0)
    }
}

/// A rule's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RuleStats {
    /// Requests whose operation and caller matched.
    pub matched: u64,
    /// Matching requests that fired the rule (drew under its probability).
    pub fired: u64,
    /// Requests a stall rule holds right now.
    pub stalled: u64,
}

/// What the rules decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    Proceed,
    Fail(ApiErrorKind),
    Drop,
    /// Carry the request out upstream, then drop the connection: an ambiguous outcome.
    LoseResponse,
}

/// The harness's own callers: the data plane's mirror, the control-plane sampler, the harness's
/// set-up and final reads, the conformance check. Rules match them only by naming them.
pub const HARNESS_CALLERS: [&str; 4] = ["dataplane", "sampler", "harness", "conformance"];

struct Installed {
    id: RuleId,
    rule: Rule,
    rng: Mutex<StdRng>,
    matched: AtomicU64,
    fired: AtomicU64,
    stalled: AtomicU64,
    /// Bumped to release every request the rule holds.
    release: watch::Sender<u64>,
    /// Set on removal: a request that saw the rule before it went is not held.
    removed: AtomicBool,
}

impl Installed {
    fn stats(&self) -> RuleStats {
        RuleStats {
            matched: self.matched.load(Ordering::Relaxed),
            fired: self.fired.load(Ordering::Relaxed),
            stalled: self.stalled.load(Ordering::Relaxed),
        }
    }

    fn release(&self) {
        self.release.send_modify(|g| *g += 1);
    }
}

/// The installed rules, in the order they were added.
pub(super) struct RuleTable {
    seeds: SeedTree,
    /// Requests of harness callers that some rule matched (only rules naming them can).
    harness_matched: AtomicU64,
    next: AtomicU64,
    rules: Mutex<Vec<Arc<Installed>>>,
}

impl RuleTable {
    pub fn new(seeds: SeedTree) -> Self {
        RuleTable { seeds, harness_matched: AtomicU64::new(0), next: AtomicU64::new(1), rules: Mutex::default() }
    }

    pub fn add(&self, rule: Rule) -> Result<RuleId> {
        rule.validate()?;
        let id = RuleId(self.next.fetch_add(1, Ordering::Relaxed));
        // Each rule draws from its own stream, so adding a rule never shifts another's draws.
        let rng = StdRng::seed_from_u64(self.seeds.gateway_rule(id.0));
        let installed = Installed {
            id,
            rule,
            rng: Mutex::new(rng),
            matched: AtomicU64::new(0),
            fired: AtomicU64::new(0),
            stalled: AtomicU64::new(0),
            release: watch::Sender::new(0),
            removed: AtomicBool::new(false),
        };
        self.lock().push(Arc::new(installed));
        Ok(id)
    }

    /// Remove a rule, releasing what it holds; its final counters, or `None` for an unknown id.
    pub fn remove(&self, id: RuleId) -> Option<RuleStats> {
        let mut rules = self.lock();
        let at = rules.iter().position(|r| r.id == id)?;
        let rule = rules.remove(at);
        rule.removed.store(true, Ordering::SeqCst);
        rule.release();
        Some(rule.stats())
    }

    /// Release every request rule `id` holds now; false for an unknown id.
    pub fn release(&self, id: RuleId) -> bool {
        self.find(id).map(|r| r.release()).is_some()
    }

    /// Requests of harness callers that some rule matched so far.
    pub fn harness_matched(&self) -> u64 {
        self.harness_matched.load(Ordering::Relaxed)
    }

    pub fn stats(&self, id: RuleId) -> Option<RuleStats> {
        self.find(id).map(|r| r.stats())
    }

    fn find(&self, id: RuleId) -> Option<Arc<Installed>> {
        self.lock().iter().find(|r| r.id == id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Installed>>> {
        // Nothing panics while holding this lock, but a poisoned table is still a usable table.
        self.rules.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run the rules over one request, in the order they were added: delays add up, and the
    /// first error or drop that fires decides (later rules are not consulted).
    pub async fn apply(&self, operation: Option<Operation>, caller: &str) -> Verdict {
        let harness = HARNESS_CALLERS.contains(&caller);
        // A rule without a caller never touches the harness's own callers (its measurement):
        // only a rule that names one does.
        let matching: Vec<Arc<Installed>> = self
            .lock()
            .iter()
            .filter(|r| r.rule.operation.is_none_or(|o| Some(o) == operation))
            .filter(|r| match r.rule.caller.as_deref() {
                Some(c) => c == caller,
                None => !harness,
            })
            .cloned()
            .collect();
        for rule in matching {
            rule.matched.fetch_add(1, Ordering::Relaxed);
            if harness {
                self.harness_matched.fetch_add(1, Ordering::Relaxed);
            }
            let delay = {
                let mut rng = rule.rng.lock().unwrap_or_else(|p| p.into_inner());
                if rng.gen::<f64>() >= rule.rule.probability {
                    continue;
                }
                match &rule.rule.effect {
                    Effect::Latency(spec) => Some(spec.sample(&mut rng)),
                    _ => None,
                }
            };
            rule.fired.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(rule = %rule.id, ?operation, caller, effect = ?rule.rule.effect, "fault rule fired");
            match rule.rule.effect {
                Effect::Latency(_) => tokio::time::sleep(delay.unwrap_or_default()).await,
                Effect::Stall { max } => stall(&rule, max).await,
                Effect::Error(ApiErrorKind::DropConnection) => return Verdict::Drop,
                Effect::Error(ApiErrorKind::LostResponse) => return Verdict::LoseResponse,
                Effect::Error(kind) => return Verdict::Fail(kind),
            }
        }
        Verdict::Proceed
    }
}

/// Hold until the rule is released or removed, or `max` passes.
async fn stall(rule: &Installed, max: Option<Duration>) {
    struct Held<'a>(&'a AtomicU64);
    impl Drop for Held<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::Relaxed);
        }
    }
    let mut released = rule.release.subscribe();
    if rule.removed.load(Ordering::SeqCst) {
        return;
    }
    rule.stalled.fetch_add(1, Ordering::Relaxed);
    let _held = Held(&rule.stalled);
    match max {
        Some(max) => {
            let _ = tokio::time::timeout(max, released.changed()).await;
        }
        None => {
            let _ = released.changed().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_from_yaml() {
        let rule: Rule = serde_yaml::from_str(
            "operation: change-resource-record-sets\ncaller: use1-az1\nprobability: 0.5\neffect:\n  latency:\n    uniform: {min: 50ms, max: 150ms}\n",
        )
        .unwrap();
        assert_eq!(rule.operation, Some(Operation::ChangeResourceRecordSets));
        assert_eq!(
            rule.effect,
            Effect::Latency(LatencySpec::Uniform { min: Duration::from_millis(50), max: Duration::from_millis(150) })
        );
        for (yaml, effect) in [
            ("effect: {error: drop-connection}", Effect::Error(ApiErrorKind::DropConnection)),
            ("effect: {error: prior-request-not-complete}", Effect::Error(ApiErrorKind::PriorRequestNotComplete)),
            ("effect: {stall: {}}", Effect::Stall { max: None }),
            ("effect: {stall: {max: 2s}}", Effect::Stall { max: Some(Duration::from_secs(2)) }),
            ("effect: {latency: {fixed: 200ms}}", Effect::Latency(LatencySpec::Fixed(Duration::from_millis(200)))),
        ] {
            let rule: Rule = serde_yaml::from_str(yaml).unwrap();
            assert_eq!(rule, Rule::new(None, effect), "{yaml}");
            let again: Rule = serde_yaml::from_str(&serde_yaml::to_string(&rule).unwrap()).unwrap();
            assert_eq!(again, rule, "round trip of {yaml}");
        }
        let err = serde_yaml::from_str::<Rule>("effect: {latency: {fixed: 200}}").unwrap_err().to_string();
        assert!(err.contains("invalid type") || err.contains("duration"), "{err}");
        let err = serde_yaml::from_str::<Rule>("effect: {error: drop-connection}\nprobabilty: 1").unwrap_err().to_string();
        assert!(err.contains("unknown field `probabilty`"), "{err}");
    }

    #[test]
    fn bad_rules_are_refused() {
        let table = RuleTable::new(SeedTree::new(1));
        for p in [-0.1, 1.5, f64::NAN] {
            let rule = Rule { probability: p, ..Rule::new(None, Effect::Error(ApiErrorKind::DropConnection)) };
            assert!(table.add(rule).unwrap_err().to_string().contains("outside 0..=1"));
        }
        let spec = LatencySpec::Uniform { min: Duration::from_millis(2), max: Duration::from_millis(1) };
        assert!(table.add(Rule::new(None, Effect::Latency(spec))).unwrap_err().to_string().contains("swap"));
    }

    #[test]
    fn latency_samples_stay_in_range_and_replay() {
        let mut rng = StdRng::seed_from_u64(7);
        let normal = LatencySpec::Normal { mean: Duration::from_millis(100), jitter: Duration::from_millis(20) };
        let samples: Vec<Duration> = (0..2000).map(|_| normal.sample(&mut rng)).collect();
        assert!(samples.iter().all(|d| *d <= Duration::from_millis(180)));
        let mean = samples.iter().map(Duration::as_secs_f64).sum::<f64>() / samples.len() as f64;
        assert!((mean - 0.100).abs() < 0.003, "mean {mean}");
        let uniform = LatencySpec::Uniform { min: Duration::from_millis(5), max: Duration::from_millis(9) };
        assert!((0..200).all(|_| (5..=9).contains(&uniform.sample(&mut rng).as_millis())));
        let mut a = StdRng::seed_from_u64(3);
        let mut b = StdRng::seed_from_u64(3);
        assert_eq!(normal.sample(&mut a), normal.sample(&mut b));
    }

    #[tokio::test]
    async fn rules_match_count_and_decide() {
        let table = RuleTable::new(SeedTree::new(42));
        let throttle = table
            .add(Rule { caller: Some("az1".into()), ..Rule::new(Some(Operation::GetChange), Effect::Error(ApiErrorKind::Throttling)) })
            .unwrap();
        let never = table.add(Rule { probability: 0.0, ..Rule::new(None, Effect::Error(ApiErrorKind::DropConnection)) }).unwrap();
        assert_eq!(table.apply(Some(Operation::GetChange), "az1").await, Verdict::Fail(ApiErrorKind::Throttling));
        assert_eq!(table.apply(Some(Operation::GetChange), "az2").await, Verdict::Proceed);
        assert_eq!(table.apply(None, "az1").await, Verdict::Proceed);
        assert_eq!(table.stats(throttle), Some(RuleStats { matched: 1, fired: 1, stalled: 0 }));
        // The throttle decided the first request, so the drop rule saw only the other two.
        assert_eq!(table.stats(never), Some(RuleStats { matched: 2, fired: 0, stalled: 0 }));
        assert_eq!(table.remove(throttle).map(|s| s.matched), Some(1));
        assert_eq!(table.stats(throttle), None);
        assert!(!table.release(throttle));
    }

    #[tokio::test]
    async fn stalls_hold_until_released_or_removed() {
        let table = Arc::new(RuleTable::new(SeedTree::new(0)));
        let id = table.add(Rule::new(None, Effect::Stall { max: None })).unwrap();
        let held = |table: Arc<RuleTable>| tokio::spawn(async move { table.apply(None, "x").await });
        let first = held(table.clone());
        while table.stats(id).unwrap().stalled == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(!first.is_finished());
        assert!(table.release(id));
        assert_eq!(first.await.unwrap(), Verdict::Proceed);
        let second = held(table.clone());
        while table.stats(id).unwrap().stalled == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(table.remove(id).map(|s| s.fired), Some(2));
        assert_eq!(second.await.unwrap(), Verdict::Proceed);
    }
}
