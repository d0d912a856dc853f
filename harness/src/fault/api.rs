//! API faults (`api-latency`, `api-error`, `api-stall`, `slow-enactor`) are rules on the Route 53
//! fault gateway.

use std::time::Duration;

use super::gateway::{Effect, LatencySpec, Rule, RuleId};
use super::actor::{Active, FaultCtx};
use crate::scenario::{FaultKind, FaultSpec};

fn latency(spec: &FaultSpec) -> LatencySpec {
    let base = spec.latency.map(|d| d.0).unwrap_or(Duration::ZERO);
    match (spec.latency_max, spec.jitter) {
        (Some(max), _) => LatencySpec::Uniform { min: base, max: max.0 },
        (None, Some(j)) => LatencySpec::Normal { mean: base, jitter: j.0 },
        (None, None) => LatencySpec::Fixed(base),
    }
}

/// Add the gateway rule(s) for an API fault; `caller` is the target enactor's AZ, if any.
pub(super) fn start(ctx: &FaultCtx<'_>, spec: &FaultSpec, caller: Option<String>) -> Result<Active, String> {
    let gw = ctx.gateway.ok_or_else(|| format!("{} needs the fault gateway, which is off for real AWS", spec.kind.as_str()))?;
    let effect = match spec.kind {
        FaultKind::ApiLatency | FaultKind::SlowEnactor => Effect::Latency(latency(spec)),
        FaultKind::ApiStall => Effect::Stall { max: None },
        FaultKind::ApiError => Effect::Error(spec.error.ok_or("api-error needs `error`")?),
        other => return Err(format!("{} is not an API fault", other.as_str())),
    };
    let rule = Rule {
        operation: spec.operation,
        caller: if spec.kind == FaultKind::SlowEnactor { caller } else { None },
        probability: spec.probability.unwrap_or(1.0),
        effect,
    };
    let id = gw.add_rule(rule).map_err(|e| e.to_string())?;
    Ok(Active::Gateway { rules: vec![id.0] })
}

/// Remove the rules (releasing stalled calls); fired when any matching call was affected.
pub(super) fn end(ctx: &FaultCtx<'_>, rules: Vec<u64>) -> (bool, String) {
    let Some(gw) = ctx.gateway else { return (false, "no gateway".into()) };
    let (mut matched, mut fired) = (0, 0);
    for id in rules {
        gw.release_stalls(RuleId(id));
        if let Some(s) = gw.remove_rule(RuleId(id)) {
            matched += s.matched;
            fired += s.fired;
        }
    }
    (fired > 0, format!("{fired} of {matched} matching API calls affected"))
}
