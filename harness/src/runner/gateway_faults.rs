//! API faults go through the Route 53 fault gateway.

use super::faults::Active;
use super::RunCtx;
use crate::scenario::FaultSpec;

pub(crate) fn start(_ctx: &RunCtx<'_>, spec: &FaultSpec, _caller: Option<String>) -> Result<Active, String> {
    Err(format!("{} needs the fault gateway, which this build does not have yet", spec.kind.as_str()))
}

pub(crate) fn end(_ctx: &RunCtx<'_>, _rules: Vec<u64>) -> (bool, String) {
    (false, "no gateway".into())
}
