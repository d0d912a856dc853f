//! The Route 53 fault gateway: an HTTP proxy on 127.0.0.1 between the enactors' SDK clients and
//! the backend, which injects API faults and (by default) enforces Route 53's change semantics
//! that the emulator lacks.
//!
//! ```text
//! enactor (aws-sdk-route53, endpoint http://127.0.0.1:PORT/e/use1-az1)
//!    -> gateway: strip /e/<caller>, run the fault rules, keep Route 53's semantics
//!    -> upstream (LocalStack, which does not check SigV4 signatures), plain HTTP
//! ```
//!
//! # Use
//! ```no_run
//! # async fn demo(backend_url: String) -> dnschaos::Result<()> {
//! use std::time::Duration;
//! use dnschaos::fault::gateway::{Effect, Gateway, GatewayConfig, LatencySpec, Operation, Rule};
//!
//! let gateway = Gateway::start(GatewayConfig::new(backend_url)).await?;
//! let slow = gateway.add_rule(Rule::new(
//!     Some(Operation::ChangeResourceRecordSets),
//!     Effect::Latency(LatencySpec::Fixed(Duration::from_millis(200))),
//! ))?;
//! // Point an SDK client at gateway.url() or gateway.url_for("use1-az1") ...
//! let stats = gateway.rule_stats(slow).expect("rule is installed");
//! println!("matched {} fired {}", stats.matched, stats.fired);
//! gateway.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Design
//! - **Callers.** A client whose endpoint URL is `http://127.0.0.1:PORT/e/<name>` (see
//!   [`Gateway::url_for`]) has every request path prefixed with `/e/<name>` by the SDK; the gateway
//!   strips it and matches rules against `<name>`. Requests without the prefix come from
//!   `"anonymous"`. Names are one URL path segment, percent-encoded beyond `[A-Za-z0-9._~-]`.
//! - **Rules** ([`Rule`]) are added and removed at run time and consulted for every request, in
//!   the order they were added, after the body has been read and before anything goes upstream.
//!   A rule matches on operation and caller (each optional); a matching request fires it with
//!   the rule's probability. Latency and stall effects add up; the first error or drop that fires
//!   decides, and later rules are not consulted for that request. Every rule counts `matched` and
//!   `fired` ([`RuleStats`]), so a test can prove a fault happened.
//! - **Effects.** Latency is [`LatencySpec::Fixed`], [`LatencySpec::Uniform`] over `[min, max]`,
//!   or [`LatencySpec::Normal`]: normal with standard deviation `jitter` around `mean` (Box-Muller),
//!   clamped to `[0, mean + 4 jitter]`. A stall holds requests until [`Gateway::release_stalls`]
//!   or the rule's removal, or for at most its `max`. Delays apply before the request goes
//!   upstream, and so do errors and drops: a faulted request never changes the zone.
//! - **Seeded.** Each rule draws (probability first, then its latency) from its own RNG seeded
//!   with [`GatewayConfig::seed`] and the rule id, and change ids come from an RNG seeded with
//!   the same seed: a run that sends the same requests in the same order replays the same
//!   faults. What the seed cannot fix is the order in which concurrent requests arrive, and the
//!   backend's own timing.
//! - **Errors** use Route 53's wire shape (`ErrorResponse` / `Error` / `Type`, `Code`, `Message`,
//!   plus `RequestId` and the `x-amzn-RequestId` header), so the SDK surfaces the real error code.
//!   A dropped connection closes the socket without a response: the SDK sees a transport error.
//! - **Strict semantics** ([`GatewayConfig::strict`], on by default). LocalStack 4.13.1 (moto)
//!   checks a DELETE against its change history rather than the current records and accepts a
//!   CREATE of an existing name, so the enactors' TXT-lock compare-and-swap does not hold on it
//!   (shared/research/backend-facts.md). In strict mode a ChangeResourceRecordSets batch takes its
//!   hosted zone's lock (exclusive; listings of the zone take it shared, so they never see a
//!   half-applied batch), lists the zone's current record sets from the upstream (following
//!   pagination), and simulates the batch in order: CREATE of an existing (name, type, set
//!   identifier) and DELETE of a missing set, or with other TTL, values, alias target, weight or
//!   routing fields, reject the whole batch with `InvalidChangeBatch` (HTTP 400). Names compare
//!   without case, trailing dot or `\OOO` (octal) escapes; TXT values compare as character strings (so
//!   quoting does not matter); value order does not matter. An accepted batch is forwarded as its
//!   **net effect**: DELETEs of the sets that are gone (as the upstream stores them), then
//!   UPSERTs of the new and changed ones. That removes LocalStack's apply deviations: net no-op
//!   pairs (DELETE v + CREATE v) vanish (an empty net batch is answered without the upstream),
//!   and no CREATE reaches moto, whose CREATE refuses any change equal to one in its history.
//!   After a forwarded DELETE the gateway lists the zone again and UPSERTs back every set that the
//!   simulation keeps but the upstream lost (moto's DELETE of a weighted member deletes every set
//!   with that identifier, across names), still under the lock.
//!   Not simulated: Route 53's other checks (CNAME exclusivity, weighted and plain sets sharing a
//!   name, alias targets existing, SOA/NS rules); those batches go upstream as they are judged.
//! - **InvalidChangeBatch shape.** Route 53 answers it today as an `ErrorResponse` whose
//!   `Message` lists the problems in brackets, `[problem, problem]` (aws-sdk-kotlin issue 1433 /
//!   PR 1435 record the change from the old `<InvalidChangeBatch><Messages>` document).
//!   aws-sdk-route53 1.x only parses the `ErrorResponse` form; the old form reaches it as an
//!   error without a code.
//! - **Change ids and GetChange** (both modes). Every accepted batch gets an id of the gateway's
//!   own (`/change/C000001XXXXXX`) and a submission time; GetChange for such an id answers
//!   `PENDING` until [`GatewayConfig::propagation_delay`] has passed and `INSYNC` after (with a
//!   zero delay the batch answer itself says `INSYNC`). GetChange for other ids goes upstream.
//! - **Failures of the upstream** (no answer within 120 s, connection refused) are answered with
//!   HTTP 502 and code `UpstreamUnavailable`; upstream error answers pass through unchanged.
//!   Malformed change batches get HTTP 400 `InvalidInput` with the parse error.
//! - **Not for real AWS.** Requests keep the client's SigV4 headers, which sign the gateway's
//!   host, and the gateway's own listings reuse them; an upstream that checks signatures will
//!   refuse them. Real Route 53 needs no strict layer anyway.
//! - **Cost.** Strict mode reads the whole zone (one paginated ListResourceRecordSets pass) per
//!   batch, plus a second pass after a batch that deletes. No zone state is cached: writers that
//!   bypass the gateway (the harness's own set-up, a second gateway) stay visible to it.
//! - A change batch runs to its end in a task of its own even if the client goes away, so the
//!   upstream never stops between the batch and its repair. [`Gateway::shutdown`] (or dropping
//!   the [`Gateway`]) stops accepting and closes every connection, stalled ones included.

mod rules;
mod server;
pub mod sim;
mod strict;
mod truth;
mod wire;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

pub use rules::{ApiErrorKind, Effect, LatencySpec, Operation, Rule, RuleId, RuleStats};

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::model::Endpoint;
use crate::route53::{BackendInfo, ClientOptions, Route53};
use crate::truth::TruthLog;

/// How a gateway behaves. Durations are human strings in YAML ("2s").
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct GatewayConfig {
    /// The backend's Route 53 API base URL, e.g. `http://127.0.0.1:4566`.
    pub upstream: String,
    /// Enforce Route 53's change-batch semantics in front of the backend (default true).
    #[serde(default = "strict_default")]
    pub strict: bool,
    /// How long GetChange reports a change `PENDING` before `INSYNC` (default 0: at once).
    #[serde(default, with = "crate::model::duration::human")]
    pub propagation_delay: Duration,
    /// The run's seed: the rules' draws and the change ids derive from it (default 0).
    #[serde(default)]
    pub seed: u64,
    /// The run's clock (default: a wall clock of its own).
    #[serde(skip, default = "Clock::wall")]
    pub clock: Clock,
}

fn strict_default() -> bool {
    true
}

impl GatewayConfig {
    /// Strict, no propagation delay, seed 0.
    pub fn new(upstream: impl Into<String>) -> Self {
        GatewayConfig { upstream: upstream.into(), strict: true, propagation_delay: Duration::ZERO, seed: 0, clock: Clock::wall() }
    }
}

/// A running gateway. Dropping it stops it.
pub struct Gateway {
    /// Where it listens; `None` in front of the simulated backend (no HTTP).
    addr: Option<SocketAddr>,
    shared: Arc<server::Shared>,
    task: Option<JoinHandle<()>>,
}

impl Gateway {
    /// The caller name of requests without an `/e/<name>` prefix.
    pub const ANONYMOUS: &'static str = server::ANONYMOUS;

    /// Bind a free port on 127.0.0.1 and start serving.
    pub async fn start(mut config: GatewayConfig) -> Result<Gateway> {
        let upstream = config.upstream.trim().trim_end_matches('/').to_string();
        if !(upstream.starts_with("http://") || upstream.starts_with("https://")) {
            return Err(Error::bad_input(format!(
                "gateway upstream {:?} is not an http(s) URL (hint: the backend's endpoint, e.g. http://127.0.0.1:4566)",
                config.upstream
            )));
        }
        config.upstream = upstream;
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| Error::setup(format!("cannot build the gateway's http client: {e}")))?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.map_err(|e| {
            Error::setup(format!("cannot bind the route 53 gateway on 127.0.0.1: {e} (hint: is the loopback interface up?)"))
        })?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::setup(format!("the route 53 gateway's socket has no address: {e}")))?;
        let shared = Arc::new(server::Shared::new(config, http, None));
        let task = tokio::spawn(server::serve(listener, shared.clone()));
        tracing::debug!(%addr, upstream = shared.config.upstream, strict = shared.config.strict, "route 53 gateway up");
        Ok(Gateway { addr: Some(addr), shared, task: Some(task) })
    }

    /// A gateway in front of the simulated backend `sim`, in this process: no socket, no HTTP.
    /// It is always strict (the store keeps Route 53's semantics itself).
    pub fn in_process(mut config: GatewayConfig, sim: sim::InProcess) -> Result<Gateway> {
        config.upstream = "in-process".into();
        config.strict = true;
        let http = reqwest::Client::builder().no_proxy().build().map_err(|e| Error::setup(format!("cannot build an http client: {e}")))?;
        let shared = Arc::new(server::Shared::new(config, http, Some(sim)));
        Ok(Gateway { addr: None, shared, task: None })
    }

    /// The base URL for clients that need no caller name: `http://127.0.0.1:PORT`
    /// (`in-process:` in front of the simulated backend, which no HTTP client can reach).
    pub fn url(&self) -> String {
        match self.addr {
            Some(addr) => format!("http://{addr}"),
            None => "in-process:".into(),
        }
    }

    /// The base URL for the caller `name`: `http://127.0.0.1:PORT/e/<name>`.
    pub fn url_for(&self, caller: &str) -> String {
        format!("{}/e/{}", self.url(), server::encode_segment(caller))
    }

    /// The configuration in force (the upstream without a trailing slash).
    pub fn config(&self) -> &GatewayConfig {
        &self.shared.config
    }

    /// Install a rule; it applies to requests that arrive from now on. Refuses a probability
    /// outside 0..=1 and a uniform latency whose min is above its max.
    pub fn add_rule(&self, rule: Rule) -> Result<RuleId> {
        self.shared.rules.add(rule)
    }

    /// Remove a rule and release the requests it stalls; its final counters, `None` if unknown.
    pub fn remove_rule(&self, id: RuleId) -> Option<RuleStats> {
        self.shared.rules.remove(id)
    }

    /// Let every request that rule `id` holds now go on; false if the rule is unknown.
    pub fn release_stalls(&self, id: RuleId) -> bool {
        self.shared.rules.release(id)
    }

    /// A rule's counters, `None` if unknown.
    pub fn rule_stats(&self, id: RuleId) -> Option<RuleStats> {
        self.shared.rules.stats(id)
    }

    /// Record every commit to hosted zone `zone_id` (named `zone`, serving `endpoints`) in
    /// `truth`, starting with the state the backend holds now (change id `initial`).
    pub async fn watch(&self, zone_id: &str, zone: &str, endpoints: Vec<Endpoint>, truth: TruthLog) -> Result<()> {
        let watch = truth::Watch { zone: zone.to_string(), endpoints, truth };
        server::watch(&self.shared, zone_id, watch).await
    }

    /// Stop recording commits to `zone_id`.
    pub fn unwatch(&self, zone_id: &str) {
        self.shared.unwatch(zone_id);
    }

    /// Requests the gateway has sent to the backend so far (its own listings included).
    pub fn upstream_calls(&self) -> u64 {
        self.shared.upstream_calls.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Per operation, how long the gateway took to answer since the last call (injected latency
    /// excluded: the backend's own time under load, and any zone-lock wait), in microseconds.
    pub fn take_latencies(&self) -> std::collections::HashMap<Operation, hdrhistogram::Histogram<u64>> {
        self.shared.take_latencies()
    }

    /// Requests of the harness's own callers that a rule matched so far (by naming them).
    pub fn harness_calls_matched(&self) -> u64 {
        self.shared.rules.harness_matched()
    }

    /// A client for `backend` that goes through this gateway as caller `caller`, sharing `r53`'s
    /// zone registry; and the backend info such a client uses.
    pub async fn client(&self, r53: &Route53, backend: &BackendInfo, caller: &str) -> Result<(Route53, BackendInfo)> {
        let mut info = backend.clone();
        info.endpoint_url = Some(self.url_for(caller));
        if self.shared.sim.is_some() {
            let api = Arc::new(sim::Client { shared: self.shared.clone(), caller: caller.to_string() });
            return Ok((r53.through(&Route53::in_process(api, &self.shared.config.clock)), info));
        }
        let c = Route53::connect(&info, ClientOptions { clock: self.shared.config.clock.clone(), ..ClientOptions::default() }).await?;
        Ok((r53.through(&c), info))
    }

    /// Stop accepting and close every connection; returns once the server task has ended.
    pub async fn shutdown(mut self) {
        if let Some(task) = self.task.as_mut() {
            task.abort();
            // The task ends cancelled; Drop then aborts it again, which does nothing.
            let _ = task.await;
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}
