//! `nemesis:`: random faults drawn per schedule seed, in the manner of Jepsen's nemesis.
//!
//! A plan with a nemesis is a family of schedules: each schedule seed draws a concrete fault
//! list from it ([`ChaosPlan::draw`]), and the drawn plan is an ordinary chaos plan (no nemesis,
//! every fault written out) that the summary stores, so that any random run replays as a plain
//! plan. The draws use the schedule seed only; the jitter seed never changes the schedule.
//!
//! ```yaml
//! nemesis:
//!   faults: {min: 1, max: 4}        # how many to draw by weight (a number fixes it)
//!   kinds:
//!     - kind: pause
//!       weight: 3                   # relative chance per draw (default 1)
//!       targets: ["enactor:*"]      # one is picked per fault (default: every enactor)
//!       points: [before-batch]      # one is picked (default: every point)
//!       at: {uniform: [0s, 20s]}    # default uniform over the first 80 % of the run
//!       for: {exponential: {mean: 3s, max: 15s}}   # default mean 1/6, max 1/2 of the run
//!     - kind: slow-enactor
//!       always: true                # drawn once in every schedule, besides `faults`
//!       latency: {pareto: {scale: 50ms, shape: 1.2, max: 5s}}
//! ```
//!
//! Distributions (`Draw`): `fixed: X`, `uniform: [LO, HI]`, `exponential: {mean, max}`,
//! `pareto: {scale, shape, max}` (heavy-tailed: P(X > x) = (scale/x)^shape). Every drawn value is
//! clipped to what a fault may hold (starts inside the run, ends by its end, probabilities in
//! [0, 1]), and times are rounded to 10 ms so that a drawn plan reads well.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::{ApiErrorKind, ChaosPlan, Dur, EnactorMode, FaultKind, FaultSpec, Operation, Target};
use crate::model::Point;

/// The `nemesis:` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NemesisSpec {
    /// Faults drawn by weight per schedule, besides the `always` kinds (default 1 to 4).
    #[serde(default = "default_count")]
    pub faults: Count,
    /// What may be drawn.
    pub kinds: Vec<KindSpec>,
}

fn default_count() -> Count {
    Count { min: 1, max: 4 }
}

/// A number of faults: `3`, or `{min: 1, max: 4}` (uniform).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub min: u32,
    pub max: u32,
}

/// One kind the nemesis may draw, with the ranges of its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct KindSpec {
    pub kind: FaultKind,
    /// Relative chance per weighted draw (default 1).
    #[serde(default = "one")]
    pub weight: f64,
    /// Draw one of this kind in every schedule, outside the weighted draws (default false).
    #[serde(default)]
    pub always: bool,
    /// Targets to pick from: `enactor:*` (every enactor), `enactor:<i or az>`, `api`, `planner`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// pause: the points to pick from (default every point).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points: Vec<Point>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Draw<Dur>>,
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    pub duration: Option<Draw<Dur>>,
    /// api-latency, slow-enactor: the fault's latency (default pareto, scale 20ms, shape 1.5, max 5s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Draw<Dur>>,
    /// api-latency, slow-enactor: per-call jitter around the latency (default none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<Draw<Dur>>,
    /// api-*, slow-enactor: chance per call (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<Draw<f64>>,
    /// flood: rate multiplier (default uniform 2 to 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiplier: Option<Draw<f64>>,
    /// burst: plans at once (default uniform 10 to 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plans: Option<Draw<f64>>,
    /// api-error: the errors to pick from (default throttling).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ApiErrorKind>,
    /// api-*: the operations to pick from (default: the fault matches every operation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<Operation>,
}

fn one() -> f64 {
    1.0
}

/// A distribution of one parameter, written as a plain value (fixed) or a one-key map:
/// `2s`, `{uniform: [1s, 5s]}`, `{exponential: {mean: 2s, max: 10s}}`,
/// `{pareto: {scale: 50ms, shape: 1.5, max: 5s}}`.
#[derive(Debug, Clone, PartialEq)]
pub enum Draw<T> {
    Fixed(T),
    Uniform([T; 2]),
    Exponential { mean: T, max: Option<T> },
    Pareto { scale: T, shape: f64, max: Option<T> },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "T: Deserialize<'de>"))]
struct ExpArgs<T> {
    mean: T,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max: Option<T>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "T: Deserialize<'de>"))]
struct ParetoArgs<T> {
    scale: T,
    shape: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max: Option<T>,
}

impl<T: Serialize + Clone> Serialize for Draw<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        if let Draw::Fixed(x) = self {
            return x.serialize(s);
        }
        let mut m = s.serialize_map(Some(1))?;
        match self {
            Draw::Uniform(r) => m.serialize_entry("uniform", r)?,
            Draw::Exponential { mean, max } => m.serialize_entry("exponential", &ExpArgs { mean: mean.clone(), max: max.clone() })?,
            Draw::Pareto { scale, shape, max } => m.serialize_entry("pareto", &ParetoArgs { scale: scale.clone(), shape: *shape, max: max.clone() })?,
            Draw::Fixed(_) => unreachable!(),
        }
        m.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Draw<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{self, IntoDeserializer, MapAccess, Visitor};
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Draw<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value, or one of {uniform: [low, high]}, {exponential: {mean, max}}, {pareto: {scale, shape, max}}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Draw<T>, E> {
                T::deserialize(v.into_deserializer()).map(Draw::Fixed)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Draw<T>, E> {
                T::deserialize(v.into_deserializer()).map(Draw::Fixed)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Draw<T>, E> {
                T::deserialize(v.into_deserializer()).map(Draw::Fixed)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Draw<T>, E> {
                T::deserialize(v.into_deserializer()).map(Draw::Fixed)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Draw<T>, A::Error> {
                let key: String = map.next_key()?.ok_or_else(|| de::Error::custom("an empty map (hint: e.g. {uniform: [1s, 5s]})"))?;
                let draw = match key.as_str() {
                    "uniform" => Draw::Uniform(map.next_value()?),
                    "exponential" => {
                        let a: ExpArgs<T> = map.next_value()?;
                        Draw::Exponential { mean: a.mean, max: a.max }
                    }
                    "pareto" => {
                        let a: ParetoArgs<T> = map.next_value()?;
                        Draw::Pareto { scale: a.scale, shape: a.shape, max: a.max }
                    }
                    other => return Err(de::Error::unknown_variant(other, &["uniform", "exponential", "pareto"])),
                };
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format!("one distribution per parameter, found {key} and {extra}")));
                }
                Ok(draw)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A value a [`Draw`] ranges over, as a number (durations in milliseconds).
pub trait Scalar: Copy {
    fn value(self) -> f64;
    fn from_value(v: f64) -> Self;
}

impl Scalar for f64 {
    fn value(self) -> f64 {
        self
    }
    fn from_value(v: f64) -> Self {
        v
    }
}

impl Scalar for Dur {
    fn value(self) -> f64 {
        self.0.as_secs_f64() * 1000.0
    }
    fn from_value(v: f64) -> Self {
        Dur(Duration::from_millis(v.max(0.0).round() as u64))
    }
}

impl<T: Scalar> Draw<T> {
    /// A value for the uniform number `u` in [0, 1) (inverse transform sampling).
    pub fn sample(&self, u: f64) -> f64 {
        match self {
            Draw::Fixed(x) => x.value(),
            Draw::Uniform([lo, hi]) => lo.value() + u * (hi.value() - lo.value()),
            Draw::Exponential { mean, max } => {
                let x = -mean.value() * (1.0 - u).ln();
                max.map_or(x, |m| x.min(m.value()))
            }
            Draw::Pareto { scale, shape, max } => {
                let x = scale.value() / (1.0 - u).powf(1.0 / shape);
                max.map_or(x, |m| x.min(m.value()))
            }
        }
    }

    /// What is wrong with the distribution's parameters, if anything.
    pub fn problem(&self) -> Option<String> {
        let bad = |x: f64| !x.is_finite() || x < 0.0;
        match self {
            Draw::Fixed(x) if bad(x.value()) => Some("fixed value must be a finite number >= 0".into()),
            Draw::Uniform([lo, hi]) if bad(lo.value()) || bad(hi.value()) || hi.value() < lo.value() => {
                Some("uniform needs [low, high] with 0 <= low <= high (hint: e.g. uniform: [1s, 5s])".into())
            }
            Draw::Exponential { mean, .. } if bad(mean.value()) || mean.value() == 0.0 => {
                Some("exponential needs a positive mean (hint: e.g. exponential: {mean: 2s, max: 10s})".into())
            }
            Draw::Pareto { scale, shape, .. } if bad(scale.value()) || scale.value() == 0.0 || !(*shape > 0.0 && shape.is_finite()) => {
                Some("pareto needs a positive scale and shape (hint: e.g. pareto: {scale: 50ms, shape: 1.5, max: 5s})".into())
            }
            _ => None,
        }
    }

    /// The largest value it can draw, when bounded.
    pub fn upper(&self) -> Option<f64> {
        match self {
            Draw::Fixed(x) => Some(x.value()),
            Draw::Uniform([_, hi]) => Some(hi.value()),
            Draw::Exponential { max, .. } | Draw::Pareto { max, .. } => max.map(|m| m.value()),
        }
    }
}

impl Serialize for Count {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        if self.min == self.max {
            return s.serialize_u32(self.min);
        }
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("min", &self.min)?;
        m.serialize_entry("max", &self.max)?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number of faults such as 3, or {min: 1, max: 4}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Count, E> {
                let v = u32::try_from(v).map_err(|_| E::custom(format!("{v} faults is out of range (hint: 0 to {MAX_FAULTS})")))?;
                Ok(Count { min: v, max: v })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Count, E> {
                u64::try_from(v).map_err(|_| E::custom(format!("{v} faults is negative (hint: 0 to {MAX_FAULTS})"))).and_then(|v| self.visit_u64(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Count, A::Error> {
                let (mut min, mut max) = (None, None);
                while let Some(k) = map.next_key::<String>()? {
                    match k.as_str() {
                        "min" => min = Some(map.next_value::<u32>()?),
                        "max" => max = Some(map.next_value::<u32>()?),
                        other => return Err(de::Error::custom(format!("unknown field `{other}`, expected `min` or `max`"))),
                    }
                }
                match (min, max) {
                    (Some(min), Some(max)) => Ok(Count { min, max }),
                    _ => Err(de::Error::custom("a fault count range needs both `min` and `max` (hint: {min: 1, max: 4})")),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The most faults one schedule may draw.
pub const MAX_FAULTS: u32 = 32;

/// Where a nemesis problem is: the kind's index (None: the section itself) and the field.
pub type Problem = (Option<usize>, &'static str, String);

/// Kinds whose target is an enactor.
fn enactor_targeted(kind: FaultKind) -> bool {
    matches!(kind, FaultKind::Pause | FaultKind::Sigstop | FaultKind::Crash | FaultKind::SlowEnactor | FaultKind::OutOfOrder | FaultKind::AzLoss)
}

/// Every problem of `n` under `plan` (its duration, enactor count and mode), first first.
pub fn problems(n: &NemesisSpec, plan: &ChaosPlan) -> Vec<Problem> {
    let mut out = Vec::new();
    let count = plan.enactors.count;
    let run_ms = plan.duration.ms() as f64;
    if n.kinds.is_empty() {
        out.push((None, "kinds", "the nemesis lists no fault kinds (hint: e.g. kinds: [{kind: pause}])".to_string()));
    }
    if n.faults.min > n.faults.max || n.faults.max > MAX_FAULTS {
        out.push((None, "faults", format!("fault count {}..{} is out of range (hint: 0 <= min <= max <= {MAX_FAULTS})", n.faults.min, n.faults.max)));
    }
    if n.faults.max > 0 && !n.kinds.iter().any(|k| !k.always) {
        out.push((None, "faults", "faults are drawn by weight but every kind is `always` (hint: set faults: 0, or add a kind without always)".into()));
    }
    if n.faults.max == 0 && !n.kinds.iter().any(|k| k.always) {
        out.push((None, "faults", "the nemesis draws no faults (hint: faults above 0, or a kind with always: true)".into()));
    }
    for (i, k) in n.kinds.iter().enumerate() {
        let mut p = |field: &'static str, msg: String| out.push((Some(i), field, format!("{}: {msg}", k.kind)));
        match k.kind {
            FaultKind::BackendRestart => p("kind", super::vocab::BACKEND_RESTART_REFUSED.to_string()),
            FaultKind::Sigstop if plan.enactors.mode != EnactorMode::Subprocess => {
                p("kind", "sigstop needs subprocess enactors (hint: set enactors.mode: subprocess)".into())
            }
            _ => {}
        }
        if !(k.weight > 0.0 && k.weight.is_finite()) {
            p("weight", format!("weight {} must be a positive number (hint: e.g. weight: 2)", k.weight));
        }
        for t in &k.targets {
            if t == "enactor:*" {
                if !enactor_targeted(k.kind) {
                    p("targets", format!("enactor:* is not a target of {} (hint: only enactor faults take an enactor)", k.kind));
                }
                continue;
            }
            match ChaosPlan::resolve_target(t, count) {
                None => p("targets", format!("target {t:?} does not exist (hint: enactor:*, enactor:0..enactor:{}, api, planner)", count - 1)),
                Some(Target::Enactor(_)) if !enactor_targeted(k.kind) => p("targets", format!("{t} is not a target of {} (hint: only enactor faults take an enactor)", k.kind)),
                Some(Target::Enactor(_)) => {}
                Some(_) if enactor_targeted(k.kind) => p("targets", format!("{} needs an enactor target, not {t:?} (hint: enactor:*)", k.kind)),
                Some(_) => {}
            }
        }
        if !k.points.is_empty() && k.kind != FaultKind::Pause {
            p("points", format!("points apply to pause only, not {}", k.kind));
        }
        let durs: [(&'static str, &Option<Draw<Dur>>); 4] = [("at", &k.at), ("for", &k.duration), ("latency", &k.latency), ("jitter", &k.jitter)];
        for (field, d) in durs {
            if let Some(msg) = d.as_ref().and_then(|d| d.problem()) {
                p(field, msg);
            }
        }
        let nums: [(&'static str, &Option<Draw<f64>>); 3] = [("probability", &k.probability), ("multiplier", &k.multiplier), ("plans", &k.plans)];
        for (field, d) in nums {
            if let Some(msg) = d.as_ref().and_then(|d| d.problem()) {
                p(field, msg);
            }
        }
        if let Some(hi) = k.at.as_ref().and_then(|d| d.upper()) {
            if hi >= run_ms {
                p("at", format!("starts may be drawn at {} but the run lasts {} (hint: keep `at` below `duration`)", ms(hi), ms(run_ms)));
            }
        }
        if k.probability.as_ref().and_then(|d| d.upper()).is_some_and(|hi| hi > 1.0) {
            p("probability", "probabilities may be drawn above 1 (hint: keep them within 0 to 1)".into());
        }
        if k.multiplier.as_ref().and_then(|d| d.upper()).is_some_and(|hi| hi > 100.0) {
            p("multiplier", "multipliers may be drawn above 100 (hint: 0 < multiplier <= 100)".into());
        }
        if k.plans.as_ref().and_then(|d| d.upper()).is_some_and(|hi| hi > 10_000.0) {
            p("plans", "plans may be drawn above 10000 (hint: 1 to 10000)".into());
        }
        if k.latency.as_ref().and_then(|d| d.upper()).is_some_and(|hi| hi > 120_000.0) {
            p("latency", "latencies may be drawn above 120s (hint: add max:, e.g. pareto: {scale: 50ms, shape: 1.5, max: 5s})".into());
        }
        let unused = |has: bool, applies: bool| has && !applies;
        let lat = matches!(k.kind, FaultKind::ApiLatency | FaultKind::SlowEnactor);
        let api = matches!(k.kind, FaultKind::ApiLatency | FaultKind::ApiError | FaultKind::ApiStall);
        for (field, has, applies) in [
            ("latency", k.latency.is_some(), lat),
            ("jitter", k.jitter.is_some(), lat),
            ("probability", k.probability.is_some(), api || k.kind == FaultKind::SlowEnactor),
            ("multiplier", k.multiplier.is_some(), k.kind == FaultKind::Flood),
            ("plans", k.plans.is_some(), k.kind == FaultKind::Burst),
            ("errors", !k.errors.is_empty(), k.kind == FaultKind::ApiError),
            ("operations", !k.operations.is_empty(), api),
            ("for", k.duration.is_some(), k.kind != FaultKind::Burst),
        ] {
            if unused(has, applies) {
                p(field, format!("`{field}` does not apply to {} (hint: remove it)", k.kind));
            }
        }
    }
    out
}

fn ms(v: f64) -> String {
    humantime::format_duration(Duration::from_millis(v.max(0.0) as u64)).to_string()
}

/// A stream of uniform numbers in [0, 1) from one seed.
struct Stream {
    seed: u64,
    n: u64,
}

impl Stream {
    fn next(&mut self) -> f64 {
        self.n += 1;
        crate::seeds::unit(crate::seeds::nth(self.seed, self.n))
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            return None;
        }
        let i = ((self.next() * items.len() as f64) as usize).min(items.len() - 1);
        items.get(i)
    }
}

/// Round a drawn time to 10 ms.
fn round10(ms: f64) -> u64 {
    ((ms / 10.0).round() as u64) * 10
}

fn dur_ms(ms: u64) -> Dur {
    Dur(Duration::from_millis(ms))
}

/// Round a drawn number to two significant digits, so that a drawn plan reads well.
fn two_digits(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let mag = 10f64.powf(x.abs().log10().floor() - 1.0);
    (x / mag).round() * mag
}

impl NemesisSpec {
    /// Draw the faults of one schedule for `plan` (its duration and enactor count) from `seed`.
    /// Ids are `n<i>-<kind>`; the list is sorted by start.
    pub fn draw(&self, plan: &ChaosPlan, seed: u64) -> Vec<FaultSpec> {
        let mut s = Stream { seed, n: 0 };
        let mut chosen: Vec<&KindSpec> = self.kinds.iter().filter(|k| k.always).collect();
        let pool: Vec<&KindSpec> = self.kinds.iter().filter(|k| !k.always).collect();
        let total: f64 = pool.iter().map(|k| k.weight).sum();
        let span = (self.faults.max - self.faults.min) as f64 + 1.0;
        let n = self.faults.min + ((s.next() * span) as u32).min(self.faults.max - self.faults.min);
        for _ in 0..if pool.is_empty() { 0 } else { n } {
            let mut x = s.next() * total;
            let k = pool.iter().find(|k| {
                x -= k.weight;
                x < 0.0
            });
            chosen.push(k.copied().unwrap_or(pool[pool.len() - 1]));
        }
        let mut faults: Vec<FaultSpec> = chosen.into_iter().map(|k| k.draw_one(plan, &mut s)).collect();
        faults.sort_by_key(|f| f.at);
        for (i, f) in faults.iter_mut().enumerate() {
            f.id = Some(format!("n{}-{}", i + 1, f.kind));
        }
        faults
    }
}

impl KindSpec {
    fn draw_one(&self, plan: &ChaosPlan, s: &mut Stream) -> FaultSpec {
        let run = plan.duration.ms();
        let at_default = Draw::Uniform([dur_ms(0), dur_ms(run * 8 / 10)]);
        let for_default = Draw::Exponential { mean: dur_ms(run / 6), max: Some(dur_ms(run / 2)) };
        let at = round10(self.at.as_ref().unwrap_or(&at_default).sample(s.next())).min(run.saturating_sub(10));
        let room = run - at;
        let duration = (self.kind != FaultKind::Burst)
            .then(|| dur_ms(round10(self.duration.as_ref().unwrap_or(&for_default).sample(s.next())).clamp(10, room.max(10))));
        let enactors: Vec<String> = (0..plan.enactors.count).map(|i| format!("enactor:{i}")).collect();
        let targets: Vec<String> = if self.targets.is_empty() {
            if enactor_targeted(self.kind) {
                enactors.clone()
            } else {
                Vec::new()
            }
        } else {
            self.targets.iter().flat_map(|t| if t == "enactor:*" { enactors.clone() } else { vec![t.clone()] }).collect()
        };
        let target = s.pick(&targets).cloned();
        let mut f = FaultSpec { duration, target, ..FaultSpec::bare(self.kind, dur_ms(at)) };
        match self.kind {
            FaultKind::Pause => {
                let points = if self.points.is_empty() { Point::ALL.to_vec() } else { self.points.clone() };
                f.point = s.pick(&points).copied();
            }
            FaultKind::ApiLatency | FaultKind::SlowEnactor => {
                let d = Draw::Pareto { scale: dur_ms(20), shape: 1.5, max: Some(dur_ms(5_000)) };
                let l = self.latency.as_ref().unwrap_or(&d).sample(s.next());
                f.latency = Some(dur_ms(round10(two_digits(l)).clamp(10, 120_000)));
                f.jitter = self.jitter.as_ref().map(|j| dur_ms(round10(two_digits(j.sample(s.next())))));
            }
            FaultKind::ApiError => {
                let errors = if self.errors.is_empty() { vec![ApiErrorKind::Throttling] } else { self.errors.clone() };
                f.error = s.pick(&errors).copied();
            }
            FaultKind::Flood => {
                let d = Draw::Uniform([2.0, 20.0]);
                f.multiplier = Some(two_digits(self.multiplier.as_ref().unwrap_or(&d).sample(s.next())).clamp(0.1, 100.0));
            }
            FaultKind::Burst => {
                let d = Draw::Uniform([10.0, 200.0]);
                f.plans = Some((self.plans.as_ref().unwrap_or(&d).sample(s.next()).round() as u64).clamp(1, 10_000));
            }
            _ => {}
        }
        if matches!(self.kind, FaultKind::ApiLatency | FaultKind::ApiError | FaultKind::ApiStall | FaultKind::SlowEnactor) {
            f.probability = self.probability.as_ref().map(|p| (two_digits(p.sample(s.next()))).clamp(0.0, 1.0));
            f.operation = s.pick(&self.operations).copied();
        }
        f
    }
}

impl ChaosPlan {
    /// The concrete plan of schedule `seed`: the plan's own faults, then the nemesis's draws;
    /// no nemesis left. A plan without a nemesis is returned as it is.
    pub fn draw(&self, seed: u64) -> ChaosPlan {
        let Some(n) = &self.nemesis else { return self.clone() };
        let mut p = self.clone();
        p.nemesis = None;
        // The drawn plan carries its seed, so that running it without --seed replays the same
        // planner stream and jitter too.
        p.seed = seed;
        p.faults.extend(n.draw(self, crate::seeds::SeedTree::new(seed).nemesis()));
        let kinds: BTreeSet<&str> = n.kinds.iter().map(|k| k.kind.as_str()).collect();
        let drawn = format!(
            "Faults drawn with seed {seed} by the nemesis of {} ({} of: {}).",
            self.name,
            p.faults.len() - self.faults.len(),
            kinds.into_iter().collect::<Vec<_>>().join(", ")
        );
        p.description = if p.description.is_empty() { drawn } else { format!("{} {drawn}", p.description) };
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const PLAN: &str = "duration: 30s\nnemesis:\n  faults: {min: 2, max: 5}\n  kinds:\n    - kind: pause\n      weight: 3\n      targets: [\"enactor:*\"]\n      for: {exponential: {mean: 3s, max: 15s}}\n    - kind: slow-enactor\n      latency: {pareto: {scale: 50ms, shape: 1.2, max: 5s}}\n    - kind: api-error\n      errors: [throttling, service-unavailable]\n      probability: {uniform: [0.2, 0.9]}\n    - kind: flood\n      always: true\n";

    #[test]
    fn draws_are_repeatable_valid_and_vary_with_the_seed() {
        let plan = super::super::parse(Path::new("n.yaml"), PLAN).unwrap().plan;
        let a = plan.draw(7);
        assert_eq!(a, plan.draw(7), "one seed, one schedule");
        assert_ne!(a.faults, plan.draw(8).faults);
        let mut kinds = BTreeSet::new();
        for seed in 1..300 {
            let p = plan.draw(seed);
            assert!(p.nemesis.is_none());
            let n = p.faults.len();
            assert!((3..=6).contains(&n), "flood always, plus 2 to 5: {n}");
            assert_eq!(p.faults.iter().filter(|f| f.kind == FaultKind::Flood).count().max(1), p.faults.iter().filter(|f| f.kind == FaultKind::Flood).count());
            // The drawn plan is an ordinary plan that passes validation as written.
            let text = serde_yaml::to_string(&p).unwrap();
            let back = super::super::parse(Path::new("drawn.yaml"), &text).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
            assert_eq!(back.plan.faults, p.faults);
            kinds.extend(p.faults.iter().map(|f| f.kind.as_str()));
        }
        assert_eq!(kinds.len(), 4, "every kind gets drawn: {kinds:?}");
    }

    #[test]
    fn samplers_follow_their_distributions() {
        let pareto: Draw<f64> = Draw::Pareto { scale: 1.0, shape: 2.0, max: None };
        // P(X > 2) = (1/2)^2 = 0.25.
        let over = (0..10_000).filter(|i| pareto.sample(*i as f64 / 10_000.0) > 2.0).count();
        assert!((2400..=2600).contains(&over), "{over}");
        let exp: Draw<f64> = Draw::Exponential { mean: 2.0, max: Some(5.0) };
        assert!((0..1000).all(|i| exp.sample(i as f64 / 1000.0) <= 5.0));
        assert_eq!(Draw::Uniform([10.0, 20.0]).sample(0.5), 15.0);
        assert_eq!(two_digits(1234.0), 1200.0);
        assert_eq!(two_digits(0.456), 0.46);
    }
}
