//! The Route 53 client layer, on aws-sdk-route53.
//!
//! - endpoint override and static test credentials for emulators; the default credential chain
//!   for real AWS;
//! - SDK retries are under the caller's control ([`ClientOptions::max_attempts`], default 1):
//!   enactors implement their own retry with backoff, as the real ones do;
//! - hosted zones created here are remembered and marked (caller reference and comment), and
//!   [`Route53::delete_zone`] refuses any zone this process did not create.

pub mod convert;
mod info;
pub mod records;
pub mod semantics;
pub mod sim;

pub use info::BackendInfo;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_route53::config::{BehaviorVersion, Region};
use aws_sdk_route53::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ChangeStatus, HostedZoneConfig, ResourceRecordSet, RrType};
use aws_sdk_route53::Client;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use serde::Serialize;

use crate::clock::Clock;
use crate::error::{Error, Result};

/// Marker in the comment of every hosted zone the harness creates.
pub const ZONE_MARKER: &str = "dnschaos-owned";

/// How the SDK client behaves.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Attempts per call including the first; 1 disables SDK retries (default).
    pub max_attempts: u32,
    /// Timeout for one whole operation, retries included (default 30 s).
    pub operation_timeout: Duration,
    /// Where the client's unique zone references come from (default: a wall clock).
    pub clock: Clock,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions { max_attempts: 1, operation_timeout: Duration::from_secs(30), clock: Clock::wall() }
    }
}

/// A Route 53 API error as the caller needs it: the wire code, the message, the HTTP status.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ApiError {
    /// Route 53's error code (`InvalidChangeBatch`, `Throttling`, ...), or a transport class
    /// (`Timeout`, `Dispatch`) when no response arrived.
    pub code: String,
    pub message: String,
    pub status: Option<u16>,
}

impl ApiError {
    pub fn from_sdk<E, R>(err: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + HttpStatus,
    {
        match err {
            SdkError::ServiceError(se) => ApiError {
                code: se.err().code().unwrap_or("Unknown").to_string(),
                message: se.err().message().unwrap_or("").to_string(),
                status: Some(se.raw().status_code()),
            },
            SdkError::TimeoutError(_) => {
                ApiError { code: "Timeout".into(), message: "the operation timed out".into(), status: None }
            }
            SdkError::DispatchFailure(d) => ApiError {
                code: "Dispatch".into(),
                message: d.as_connector_error().map(|c| innermost(c)).unwrap_or_else(|| "request not sent".into()),
                status: None,
            },
            SdkError::ResponseError(r) => ApiError {
                code: "ResponseError".into(),
                message: format!("{}", aws_smithy_types::error::display::DisplayErrorContext(err)),
                status: Some(r.raw().status_code()),
            },
            other => ApiError {
                code: other.code().unwrap_or("Unknown").to_string(),
                message: format!("{}", aws_smithy_types::error::display::DisplayErrorContext(other)),
                status: None,
            },
        }
    }

    /// True for the rejection Route 53 gives a batch that does not match current state.
    pub fn is_invalid_change_batch(&self) -> bool {
        matches!(self.code.as_str(), "InvalidChangeBatch" | "InvalidInput")
    }
}

/// The message of the deepest error in a source chain: "Connection refused (os error 111)".
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = err;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// The HTTP status of a raw response, whatever its concrete type.
pub trait HttpStatus {
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_smithy_runtime_api::http::Response {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(s) => write!(f, "{} (http {s}): {}", self.code, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

/// A committed change as the API reported it.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeOutcome {
    pub id: String,
    pub status: String,
}

/// A Route 53 answered in this process (the simulated backend, and the in-process gateway in
/// front of it), behind the same client interface: the enactors cannot tell.
#[async_trait::async_trait]
pub trait InProcessApi: Send + Sync {
    async fn create_zone(&self, name: &str) -> Result<String, ApiError>;
    async fn delete_zone(&self, zone_id: &str) -> Result<(), ApiError>;
    async fn list(&self, zone_id: &str) -> Result<Arc<Vec<ResourceRecordSet>>, ApiError>;
    /// The same listing as a snapshot, shared by every reader until the zone changes (no SDK
    /// types built and parsed back).
    async fn read_zone(&self, zone_id: &str) -> Result<Arc<crate::model::ZoneSnapshot>, ApiError>;
    async fn change(&self, zone_id: &str, changes: Vec<Change>, comment: Option<&str>) -> Result<ChangeOutcome, ApiError>;
    async fn change_status(&self, change_id: &str) -> Result<ChangeStatus, ApiError>;
}

/// How a client reaches Route 53.
#[derive(Clone)]
enum Transport {
    /// Over HTTP, through the AWS SDK.
    Sdk(Client),
    /// In this process.
    InProcess(Arc<dyn InProcessApi>),
}

/// The harness's Route 53 client.
#[derive(Clone)]
pub struct Route53 {
    transport: Transport,
    created: Arc<Mutex<BTreeSet<String>>>,
    run_id: String,
    clock: Clock,
}

impl Route53 {
    /// A client for `backend`: static "test" credentials for emulators, the default chain for AWS.
    pub async fn connect(backend: &BackendInfo, options: ClientOptions) -> Result<Self> {
        let retry = if options.max_attempts <= 1 {
            RetryConfig::disabled()
        } else {
            RetryConfig::standard().with_max_attempts(options.max_attempts)
        };
        let timeouts = TimeoutConfig::builder()
            .operation_timeout(options.operation_timeout)
            .connect_timeout(Duration::from_secs(5))
            .build();
        let config = if backend.real_aws {
            let shared = aws_config::defaults(BehaviorVersion::latest()).load().await;
            let mut b = aws_sdk_route53::config::Builder::from(&shared).retry_config(retry).timeout_config(timeouts);
            if let Some(url) = &backend.endpoint_url {
                b = b.endpoint_url(url);
            }
            b.build()
        } else {
            let url = backend
                .endpoint_url
                .clone()
                .ok_or_else(|| Error::setup("an emulator backend needs an endpoint url"))?;
            aws_sdk_route53::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new("test", "test", None, None, "dnschaos-static"))
                .endpoint_url(url)
                .retry_config(retry)
                .timeout_config(timeouts)
                .build()
        };
        Ok(Route53 {
            transport: Transport::Sdk(Client::from_conf(config)),
            created: Arc::default(),
            run_id: options.clock.unique_id()[..12].to_string(),
            clock: options.clock.clone(),
        })
    }

    /// A client of a Route 53 answered in this process.
    pub fn in_process(api: Arc<dyn InProcessApi>, clock: &Clock) -> Self {
        Route53 { transport: Transport::InProcess(api), created: Arc::default(), run_id: clock.unique_id()[..12].to_string(), clock: clock.clone() }
    }

    /// The underlying SDK client, for calls this layer does not wrap (none in process).
    pub fn sdk(&self) -> Option<&Client> {
        match &self.transport {
            Transport::Sdk(c) => Some(c),
            Transport::InProcess(_) => None,
        }
    }

    /// A client that reaches Route 53 the way `other` does but shares this one's zone registry
    /// (so that zones either creates are deleted at the end).
    pub fn through(&self, other: &Route53) -> Self {
        Route53 { transport: other.transport.clone(), created: self.created.clone(), run_id: self.run_id.clone(), clock: self.clock.clone() }
    }

    /// Create a public hosted zone marked as ours; returns its bare id (no `/hostedzone/`).
    /// A transport failure (no answer) is retried up to twice with the same caller reference;
    /// if the first attempt did create the zone, it is found by that reference, not duplicated.
    pub async fn create_zone(&self, name: &str) -> Result<String> {
        let client = match &self.transport {
            Transport::Sdk(c) => c,
            Transport::InProcess(api) => {
                let id = api.create_zone(name).await.map_err(|e| Error::Route53 { operation: "CreateHostedZone", message: e.to_string() })?;
                self.created.lock().expect("zone registry").insert(id.clone());
                return Ok(id);
            }
        };
        let reference = format!("dnschaos-{}-{}", self.run_id, self.clock.unique_id());
        let comment = format!("{ZONE_MARKER}: created by dnschaos run {}; deleted at its end", self.run_id);
        let fail = |message: String| Error::Route53 { operation: "CreateHostedZone", message };
        let mut attempt = 0;
        let id = loop {
            attempt += 1;
            let sent = client
                .create_hosted_zone()
                .name(name)
                .caller_reference(&reference)
                .hosted_zone_config(HostedZoneConfig::builder().comment(&comment).private_zone(false).build())
                .send()
                .await;
            match sent {
                Ok(out) => break out.hosted_zone().map(|z| bare_zone_id(z.id())).ok_or_else(|| fail("no zone in the answer".into()))?,
                Err(e) => {
                    let err = ApiError::from_sdk(&e);
                    let transport = matches!(err.code.as_str(), "Dispatch" | "Timeout" | "ResponseError");
                    if err.code == "HostedZoneAlreadyExists" && attempt > 1 {
                        break self.zone_by_reference(name, &reference).await?.ok_or_else(|| fail(err.to_string()))?;
                    }
                    if !transport || attempt >= 3 {
                        return Err(fail(err.to_string()));
                    }
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
            }
        };
        self.created.lock().expect("zone registry").insert(id.clone());
        Ok(id)
    }

    /// The id of the zone named `name` created with caller reference `reference`, if any.
    async fn zone_by_reference(&self, name: &str, reference: &str) -> Result<Option<String>> {
        let Transport::Sdk(client) = &self.transport else { return Ok(None) };
        let out = client
            .list_hosted_zones_by_name()
            .dns_name(name)
            .send()
            .await
            .map_err(|e| Error::Route53 { operation: "ListHostedZonesByName", message: ApiError::from_sdk(&e).to_string() })?;
        Ok(out.hosted_zones().iter().find(|z| z.caller_reference() == reference).map(|z| bare_zone_id(z.id())))
    }

    /// Every record set of a zone, as one consistent view.
    ///
    /// Asks for up to 1,000 records a page (Route 53 answers at most 300; emulators honour
    /// more), so small zones come back in one atomic page. When the listing needs several
    /// pages, a change landing between two pages could give a view that never existed (an
    /// alias to a tree whose records were on a page read earlier): the zone is then read again
    /// until two consecutive listings agree (at most 5 reads).
    pub async fn list_records(&self, zone_id: &str) -> Result<Arc<Vec<ResourceRecordSet>>, ApiError> {
        if let Transport::InProcess(api) = &self.transport {
            return api.list(zone_id).await;
        }
        let (mut last, pages) = self.list_pages(zone_id).await?;
        if pages == 1 {
            return Ok(Arc::new(last));
        }
        for _ in 0..4 {
            let (again, _) = self.list_pages(zone_id).await?;
            if again == last {
                return Ok(Arc::new(again));
            }
            last = again;
        }
        Ok(Arc::new(last))
    }

    /// Every record set of a zone as a snapshot: [`Route53::list_records`] read as the model's
    /// record sets (`zone`: the zone's name). In process the snapshot is the backend's own,
    /// shared by every reader until the zone changes.
    pub async fn read_zone(&self, zone_id: &str, zone: &str) -> Result<Arc<crate::model::ZoneSnapshot>, ApiError> {
        if let Transport::InProcess(api) = &self.transport {
            return api.read_zone(zone_id).await;
        }
        let records = self.list_records(zone_id).await?;
        Ok(Arc::new(<crate::model::ZoneSnapshot as convert::SdkSnapshot>::from_sdk(zone, &records)))
    }

    /// One paginated listing and the number of pages it took.
    async fn list_pages(&self, zone_id: &str) -> Result<(Vec<ResourceRecordSet>, usize), ApiError> {
        let Transport::Sdk(client) = &self.transport else { return Ok((Vec::new(), 0)) };
        let mut out = Vec::new();
        let mut pages = 0;
        let mut next: Option<(String, RrType, Option<String>)> = None;
        loop {
            pages += 1;
            let mut req = client.list_resource_record_sets().hosted_zone_id(zone_id).max_items(1000);
            if let Some((name, ty, ident)) = next.take() {
                req = req.start_record_name(name).start_record_type(ty);
                if let Some(ident) = ident {
                    req = req.start_record_identifier(ident);
                }
            }
            let page = req.send().await.map_err(|e| ApiError::from_sdk(&e))?;
            out.extend(page.resource_record_sets().iter().cloned());
            if !page.is_truncated() {
                return Ok((out, pages));
            }
            match (page.next_record_name(), page.next_record_type()) {
                (Some(n), Some(t)) => {
                    next = Some((n.to_string(), t.clone(), page.next_record_identifier().map(str::to_string)))
                }
                _ => return Ok((out, pages)),
            }
        }
    }

    /// Submit one change batch. The batch is applied whole or rejected whole (on real Route 53).
    pub async fn change(&self, zone_id: &str, changes: Vec<Change>, comment: Option<&str>) -> Result<ChangeOutcome, ApiError> {
        let client = match &self.transport {
            Transport::Sdk(c) => c,
            Transport::InProcess(api) => return api.change(zone_id, changes, comment).await,
        };
        let batch = ChangeBatch::builder()
            .set_changes(Some(changes))
            .set_comment(comment.map(str::to_string))
            .build()
            .expect("a change batch with changes set is complete");
        let out = client
            .change_resource_record_sets()
            .hosted_zone_id(zone_id)
            .change_batch(batch)
            .send()
            .await
            .map_err(|e| ApiError::from_sdk(&e))?;
        let info = out.change_info();
        Ok(ChangeOutcome {
            id: info.map(|i| i.id().to_string()).unwrap_or_default(),
            status: info.map(|i| i.status().as_str().to_string()).unwrap_or_default(),
        })
    }

    /// GetChange status of a change id.
    pub async fn change_status(&self, change_id: &str) -> Result<ChangeStatus, ApiError> {
        let client = match &self.transport {
            Transport::Sdk(c) => c,
            Transport::InProcess(api) => return api.change_status(change_id).await,
        };
        let out = client.get_change().id(change_id).send().await.map_err(|e| ApiError::from_sdk(&e))?;
        Ok(out.change_info().map(|i| i.status().clone()).unwrap_or(ChangeStatus::Pending))
    }

    /// Delete a zone this process created, with all its records. Any other zone is refused.
    pub async fn delete_zone(&self, zone_id: &str) -> Result<()> {
        let zone_id = bare_zone_id(zone_id);
        if !self.created.lock().expect("zone registry").contains(&zone_id) {
            return Err(Error::bad_input(format!(
                "refusing to delete hosted zone {zone_id}: this run did not create it"
            )));
        }
        let records = self
            .list_records(&zone_id)
            .await
            .map_err(|e| Error::Route53 { operation: "ListResourceRecordSets", message: e.to_string() })?;
        let deletes: Vec<Change> = records
            .iter()
            .filter(|r| !matches!(r.r#type(), RrType::Soa | RrType::Ns))
            .map(|r| records::change(ChangeAction::Delete, r.clone()))
            .collect();
        // Aliases must go before their targets on real Route 53; delete them first.
        let (aliases, plain): (Vec<_>, Vec<_>) =
            deletes.into_iter().partition(|c| c.resource_record_set().and_then(|r| r.alias_target()).is_some());
        for group in [aliases, plain] {
            for chunk in group.chunks(500) {
                self.change(&zone_id, chunk.to_vec(), Some("dnschaos cleanup"))
                    .await
                    .map_err(|e| Error::Route53 { operation: "ChangeResourceRecordSets", message: e.to_string() })?;
            }
        }
        match &self.transport {
            Transport::Sdk(client) => {
                client
                    .delete_hosted_zone()
                    .id(&zone_id)
                    .send()
                    .await
                    .map_err(|e| Error::Route53 { operation: "DeleteHostedZone", message: ApiError::from_sdk(&e).to_string() })?;
            }
            Transport::InProcess(api) => {
                api.delete_zone(&zone_id).await.map_err(|e| Error::Route53 { operation: "DeleteHostedZone", message: e.to_string() })?;
            }
        }
        self.created.lock().expect("zone registry").remove(&zone_id);
        Ok(())
    }

    /// Delete every zone this process created; errors are logged, not returned.
    pub async fn delete_created_zones(&self) {
        let zones: Vec<String> = self.created.lock().expect("zone registry").iter().cloned().collect();
        for zone in zones {
            if let Err(e) = self.delete_zone(&zone).await {
                tracing::warn!(zone, error = %e, "could not delete a hosted zone we created");
            }
        }
    }
}

/// `/hostedzone/Z123` -> `Z123`.
pub fn bare_zone_id(id: &str) -> String {
    id.trim_start_matches("/hostedzone/").to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn zone_ids_are_bare() {
        assert_eq!(super::bare_zone_id("/hostedzone/Z1"), "Z1");
        assert_eq!(super::bare_zone_id("Z1"), "Z1");
    }
}
