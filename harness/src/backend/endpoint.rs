//! An existing Route 53 API: another LocalStack, a moto server, or real AWS.
//!
//! Real AWS is refused unless `--allow-real-aws` is given; even then the harness only creates
//! and deletes hosted zones it made itself (see `route53::Route53::delete_zone`).

use std::time::Duration;

use async_trait::async_trait;

use super::{Backend, BackendConfig, BackendInfo};
use crate::error::{Error, Result};
use crate::route53::{ClientOptions, Route53};

pub struct EndpointBackend {
    info: BackendInfo,
}

/// True when `url` (or its absence) means AWS's own Route 53.
pub fn is_real_aws(url: Option<&str>) -> bool {
    match url {
        None => true,
        Some(url) => {
            let host = url
                .split("://")
                .nth(1)
                .unwrap_or(url)
                .split(['/', ':'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            host.ends_with("amazonaws.com") || host.ends_with("amazonaws.com.cn")
        }
    }
}

impl EndpointBackend {
    pub async fn start(config: &BackendConfig) -> Result<Self> {
        let url = config.endpoint_url.clone();
        let real_aws = is_real_aws(url.as_deref());
        if real_aws && !config.allow_real_aws {
            return Err(Error::bad_input(format!(
                "refusing to run against real AWS Route 53 ({}) without --allow-real-aws (hint: the harness creates and deletes hosted zones, only its own; pass --endpoint-url for an emulator)",
                url.as_deref().unwrap_or("no --endpoint-url given")
            )));
        }
        if let Some(u) = &url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(Error::bad_input(format!(
                    "--endpoint-url {u:?} is not an http(s) URL (hint: e.g. http://127.0.0.1:4566)"
                )));
            }
        }
        let mut info = BackendInfo {
            kind: "endpoint".into(),
            source: url.clone().unwrap_or_else(|| "aws".into()),
            version: None,
            endpoint_url: url.clone(),
            real_aws,
            ready_ms: 0,
            log_path: None,
            handle: None,
        };
        let clock = crate::clock::Clock::wall();
        let started = clock.now();
        let r53 = Route53::connect(&info, ClientOptions { max_attempts: 1, ..ClientOptions::default() }).await?;
        let probe = r53.sdk().expect("an endpoint is reached over http").list_hosted_zones().max_items(1).send();
        match tokio::time::timeout(Duration::from_secs(10), probe).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return Err(Error::setup(format!(
                    "route 53 endpoint {} did not answer ListHostedZones: {} (hint: check --endpoint-url and that the server runs)",
                    info.source,
                    crate::route53::ApiError::from_sdk(&e)
                )))
            }
            Err(_) => {
                return Err(Error::setup(format!(
                    "route 53 endpoint {} did not answer within 10s (hint: check --endpoint-url)",
                    info.source
                )))
            }
        }
        info.ready_ms = clock.since(started).as_millis() as u64;
        Ok(EndpointBackend { info })
    }
}

#[async_trait]
impl Backend for EndpointBackend {
    fn info(&self) -> &BackendInfo {
        &self.info
    }

    async fn pause(&self) -> Result<()> {
        Err(Error::bad_input("an endpoint backend cannot be paused: the harness does not run it"))
    }

    async fn resume(&self) -> Result<()> {
        Err(Error::bad_input("an endpoint backend cannot be resumed: the harness does not run it"))
    }

    async fn log_tail(&self, _n: usize) -> Vec<String> {
        Vec::new()
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::is_real_aws;

    #[test]
    fn real_aws_is_recognised() {
        assert!(is_real_aws(None));
        assert!(is_real_aws(Some("https://route53.amazonaws.com")));
        assert!(is_real_aws(Some("https://route53.amazonaws.com:443/")));
        assert!(!is_real_aws(Some("http://127.0.0.1:4566")));
        assert!(!is_real_aws(Some("http://localhost:5000/")));
    }
}
