//! The fault vocabulary: the kinds a chaos plan can schedule and the Route 53 operations and
//! errors they name. One set of types for the plans, the gateway and the fault actors (`fault/`).

use serde::{Deserialize, Serialize};

/// Every fault kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// Extra latency on Route 53 API calls (gateway).
    ApiLatency,
    /// Route 53 errors: throttling, prior-request-not-complete, service-unavailable, internal-error, drop-connection.
    ApiError,
    /// Hold API calls until the fault ends (gateway).
    ApiStall,
    /// Hold an enactor at a named point in its code.
    Pause,
    /// SIGSTOP a subprocess enactor, SIGCONT at the end.
    Sigstop,
    /// Kill an enactor (abort its task or SIGKILL its process); restart it fresh when the fault ends.
    Crash,
    /// Extra latency on one enactor's calls only.
    SlowEnactor,
    /// Extra lock holders that win the target's endpoints' locks for a while.
    LockContention,
    /// Multiply the planner's rate.
    Flood,
    /// Emit a number of plans at once.
    Burst,
    /// Deliver plans to one enactor late and out of order.
    OutOfOrder,
    /// Pause the backend (docker pause / SIGSTOP).
    BackendPause,
    /// Restart the backend.
    BackendRestart,
    /// Lose an AZ: its enactor stops and its load balancers leave the plans.
    AzLoss,
}

impl FaultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::ApiLatency => "api-latency",
            FaultKind::ApiError => "api-error",
            FaultKind::ApiStall => "api-stall",
            FaultKind::Pause => "pause",
            FaultKind::Sigstop => "sigstop",
            FaultKind::Crash => "crash",
            FaultKind::SlowEnactor => "slow-enactor",
            FaultKind::LockContention => "lock-contention",
            FaultKind::Flood => "flood",
            FaultKind::Burst => "burst",
            FaultKind::OutOfOrder => "out-of-order",
            FaultKind::BackendPause => "backend-pause",
            FaultKind::BackendRestart => "backend-restart",
            FaultKind::AzLoss => "az-loss",
        }
    }
}

/// The Route 53 operations a fault can single out. A fault without one matches every request,
/// including operations not named here (CreateHostedZone, ListHostedZones, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    ChangeResourceRecordSets,
    ListResourceRecordSets,
    GetChange,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::ChangeResourceRecordSets => "change-resource-record-sets",
            Operation::ListResourceRecordSets => "list-resource-record-sets",
            Operation::GetChange => "get-change",
        }
    }
}

/// A Route 53 error a fault answers with, in Route 53's own wire shape, or a dropped connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApiErrorKind {
    /// HTTP 400, `Throttling`, "Rate exceeded".
    Throttling,
    /// HTTP 400, `PriorRequestNotComplete`: Route 53 is still applying an earlier change.
    PriorRequestNotComplete,
    /// HTTP 503, `ServiceUnavailable`.
    ServiceUnavailable,
    /// HTTP 500, `InternalError`.
    InternalError,
    /// The connection closes without an answer; the request never reaches the backend.
    DropConnection,
    /// The request is carried out by the backend (a change batch commits), then the connection
    /// closes without an answer: the client cannot tell whether it happened.
    LostResponse,
}

impl ApiErrorKind {
    /// HTTP status, `Sender` (true) or `Receiver` fault, error code, message; `None` for a
    /// dropped connection, which has no answer.
    pub fn wire(self) -> Option<(u16, bool, &'static str, &'static str)> {
        Some(match self {
            ApiErrorKind::Throttling => (400, true, "Throttling", "Rate exceeded"),
            ApiErrorKind::PriorRequestNotComplete => (
                400,
                true,
                "PriorRequestNotComplete",
                "The request was rejected because Route 53 was still processing a prior request.",
            ),
            ApiErrorKind::ServiceUnavailable => (503, false, "ServiceUnavailable", "Service Unavailable"),
            ApiErrorKind::InternalError => (500, false, "InternalError", "We encountered an internal error. Please try again."),
            ApiErrorKind::DropConnection | ApiErrorKind::LostResponse => return None,
        })
    }
}


impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why `backend-restart` is refused (by `validate`, and by the timeline should a plan get past it).
pub const BACKEND_RESTART_REFUSED: &str =
    "backend-restart is not supported: LocalStack community keeps no state across a restart, so every zone would vanish (hint: use backend-pause to freeze the API)";
