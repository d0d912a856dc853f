//! What a started backend is: where its Route 53 API answers and how it was started. Plain data,
//! written by `backend/` and read by every client of the API.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What a started backend is, for logs and reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendInfo {
    /// `container`, `process` or `endpoint`.
    pub kind: String,
    /// The image, the venv, or the URL.
    pub source: String,
    /// LocalStack version when known.
    pub version: Option<String>,
    /// The Route 53 API URL; `None` means AWS's own endpoint.
    pub endpoint_url: Option<String>,
    /// True when the API is real AWS: static test credentials are not used then.
    pub real_aws: bool,
    /// Milliseconds from "start" to the first successful API answer.
    pub ready_ms: u64,
    /// Where the backend's own log lines are captured, if we run it.
    pub log_path: Option<PathBuf>,
    /// The container id or process id we run, for leak checks; `None` for endpoints.
    pub handle: Option<String>,
}

