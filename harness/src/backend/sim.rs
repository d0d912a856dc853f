//! The simulated backend: Route 53 answered in this process by `route53::sim::SimStore`, for
//! runs on virtual time (`--backend sim`). It searches; LocalStack judges: a simulated run is
//! labelled as such wherever it appears, and never confirms a finding.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Backend, BackendInfo};
use crate::error::{Error, Result};
use crate::route53::sim::SimStore;

pub struct SimBackend {
    info: BackendInfo,
    store: Arc<SimStore>,
}

impl SimBackend {
    pub fn start() -> Self {
        let info = BackendInfo {
            kind: "sim".into(),
            source: "dnschaos in-memory Route 53 (route53::semantics), virtual time".into(),
            version: None,
            endpoint_url: None,
            real_aws: false,
            ready_ms: 0,
            log_path: None,
            handle: None,
        };
        SimBackend { info, store: Arc::new(SimStore::new()) }
    }
}

#[async_trait]
impl Backend for SimBackend {
    fn info(&self) -> &BackendInfo {
        &self.info
    }

    async fn pause(&self) -> Result<()> {
        Err(Error::bad_input("backend-pause needs a backend process to freeze; the simulated backend has none (hint: run it on --backend container)"))
    }

    async fn resume(&self) -> Result<()> {
        Ok(())
    }

    async fn log_tail(&self, _n: usize) -> Vec<String> {
        Vec::new()
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    fn sim_store(&self) -> Option<Arc<SimStore>> {
        Some(self.store.clone())
    }
}
