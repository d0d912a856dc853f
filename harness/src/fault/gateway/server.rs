//! The HTTP side: accept connections, route Route 53 requests, apply the rules, forward, and
//! keep Route 53's semantics for change batches and GetChange.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::RwLock;
use tokio::task::JoinSet;

use super::rules::{Operation, RuleTable, Verdict};
use super::truth::Watch;
use super::strict::{self, Zone};
use super::wire::{self, Action, Change, ChangeInfo};
use super::GatewayConfig;
use crate::seeds::SeedTree;

/// Largest request body accepted; Route 53's own limit is far lower (32,000 characters of values).
const MAX_BODY: usize = 4 << 20;
/// How long the gateway waits for one upstream answer before answering 502 itself.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(120);
/// The caller of requests without an `/e/<name>` prefix.
pub(super) const ANONYMOUS: &str = "anonymous";

/// An answer before it becomes a hyper response: upstream answers are read whole, so that the
/// strict path can inspect them, and the gateway's own answers are small.
pub(super) struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn status(&self) -> StatusCode {
        self.status
    }

    fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(self.body));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }
}

/// Everything the connections share.
pub(super) struct Shared {
    pub config: GatewayConfig,
    pub rules: RuleTable,
    http: reqwest::Client,
    /// The simulated backend, when the gateway fronts one in this process (no HTTP).
    pub sim: Option<super::sim::InProcess>,
    /// One lock per hosted zone: change batches take it exclusively, listings shared.
    zones: Mutex<HashMap<String, Arc<RwLock<()>>>>,
    changes: Mutex<Changes>,
    /// Zones whose commits go to a truth log, by zone id.
    watched: Mutex<HashMap<String, Watch>>,
    /// Requests sent to the backend, all kinds (the gateway's own listings included).
    pub upstream_calls: std::sync::atomic::AtomicU64,
    /// Per operation, how long the gateway took to answer (the backend's work, and the zone lock
    /// a batch waited for; injected latency excluded), in microseconds.
    latencies: Mutex<HashMap<Operation, hdrhistogram::Histogram<u64>>>,
}

/// The change ids the gateway handed out.
struct Changes {
    issued: u64,
    rng: StdRng,
    by_id: HashMap<String, Submitted>,
}

struct Submitted {
    at: Instant,
    submitted_at: String,
    comment: Option<String>,
}

/// The service's error: it makes hyper close the connection without an answer.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a fault rule")
    }
}

impl std::error::Error for DropConnection {}

impl Shared {
    pub fn new(config: GatewayConfig, http: reqwest::Client, sim: Option<super::sim::InProcess>) -> Shared {
        let seeds = SeedTree::new(config.seed);
        let changes = Changes { issued: 0, rng: StdRng::seed_from_u64(seeds.gateway()), by_id: HashMap::new() };
        Shared {
            rules: RuleTable::new(seeds),
            config,
            http,
            sim,
            zones: Mutex::default(),
            changes: Mutex::new(changes),
            watched: Mutex::default(),
            upstream_calls: Default::default(),
            latencies: Mutex::default(),
        }
    }

    pub(super) fn zone_lock(&self, zone: &str) -> Arc<RwLock<()>> {
        let mut zones = self.zones.lock().unwrap_or_else(|p| p.into_inner());
        zones.entry(zone.to_string()).or_default().clone()
    }

    fn changes(&self) -> std::sync::MutexGuard<'_, Changes> {
        self.changes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The truth log's view of `zone`, if it is watched.
    pub(super) fn watch_of(&self, zone: &str) -> Option<Watch> {
        self.watched.lock().unwrap_or_else(|p| p.into_inner()).get(zone).cloned()
    }

    pub fn watch(&self, zone_id: &str, watch: Watch) {
        self.watched.lock().unwrap_or_else(|p| p.into_inner()).insert(zone_id.to_string(), watch);
    }

    pub(super) fn record_latency(&self, op: Operation, took: Duration) {
        let mut all = self.latencies.lock().unwrap_or_else(|p| p.into_inner());
        let hist = all.entry(op).or_insert_with(|| hdrhistogram::Histogram::new_with_bounds(1, 600_000_000, 2).expect("histogram bounds"));
        let _ = hist.record(took.as_micros().clamp(1, 600_000_000) as u64);
    }

    /// The latencies recorded since the last call, per operation; the record starts afresh.
    pub fn take_latencies(&self) -> HashMap<Operation, hdrhistogram::Histogram<u64>> {
        std::mem::take(&mut *self.latencies.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn unwatch(&self, zone_id: &str) {
        self.watched.lock().unwrap_or_else(|p| p.into_inner()).remove(zone_id);
    }

    /// Record an accepted change under a fresh id; its id and the ChangeResourceRecordSets answer.
    pub(super) fn issue(&self, comment: Option<String>) -> (String, Answer) {
        let submitted_at = aws_smithy_types::DateTime::from_millis(self.config.clock.epoch_ms() as i64)
            .fmt(aws_smithy_types::date_time::Format::DateTime)
            .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into());
        let id = {
            let mut changes = self.changes();
            changes.issued += 1;
            let suffix: String = (0..6)
                .map(|_| char::from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[changes.rng.gen_range(0..36)]))
                .collect();
            let id = format!("C{:06}{suffix}", changes.issued);
            let record = Submitted { at: self.config.clock.now(), submitted_at: submitted_at.clone(), comment: comment.clone() };
            changes.by_id.insert(id.clone(), record);
            id
        };
        let info = ChangeInfo {
            id: &id,
            insync: self.config.propagation_delay.is_zero(),
            submitted_at: &submitted_at,
            comment: comment.as_deref(),
        };
        let answer = xml(StatusCode::OK, wire::change_info_body("ChangeResourceRecordSetsResponse", &info), &request_id());
        (id, answer)
    }

    /// Whether change `id` is in sync (its propagation delay passed); `None` for an unknown id.
    pub(super) fn insync(&self, id: &str) -> Option<bool> {
        let changes = self.changes();
        let change = changes.by_id.get(id.trim_start_matches("/change/"))?;
        Some(self.config.clock.since(change.at) >= self.config.propagation_delay)
    }

    /// Answer GetChange for an id the gateway handed out; `None` for any other id.
    fn get_change(&self, id: &str) -> Option<Answer> {
        let changes = self.changes();
        let change = changes.by_id.get(id)?;
        let info = ChangeInfo {
            id,
            insync: self.config.clock.since(change.at) >= self.config.propagation_delay,
            submitted_at: &change.submitted_at,
            comment: change.comment.as_deref(),
        };
        Some(xml(StatusCode::OK, wire::change_info_body("GetChangeResponse", &info), &request_id()))
    }
}

/// Accept connections until the task is aborted; aborting drops every connection with it.
pub(super) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        // Biased: reap finished connections before accepting more, so the set never grows
        // with dead entries under load.
        tokio::select! {
            biased;
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, shared.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off rather than spin.
                    tracing::warn!(error = %e, "route 53 gateway: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let service = hyper::service::service_fn(move |req| handle(shared.clone(), req));
    if let Err(e) = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
        tracing::debug!(error = %e, "route 53 gateway: connection ended");
    }
}

/// What a request is, from its method and path (without the caller prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    ChangeRecords { zone: String },
    ListRecords { zone: String },
    GetChange { id: String },
    Other,
}

impl Route {
    fn of(method: &Method, path: &str) -> Route {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (method, segments.as_slice()) {
            (&Method::POST, ["2013-04-01", "hostedzone", zone, "rrset"]) => Route::ChangeRecords { zone: zone.to_string() },
            (&Method::GET, ["2013-04-01", "hostedzone", zone, "rrset"]) => Route::ListRecords { zone: zone.to_string() },
            (&Method::GET, ["2013-04-01", "change", id]) => Route::GetChange { id: id.to_string() },
            _ => Route::Other,
        }
    }

    fn operation(&self) -> Option<Operation> {
        match self {
            Route::ChangeRecords { .. } => Some(Operation::ChangeResourceRecordSets),
            Route::ListRecords { .. } => Some(Operation::ListResourceRecordSets),
            Route::GetChange { .. } => Some(Operation::GetChange),
            Route::Other => None,
        }
    }
}

/// `/e/use1-az1/2013-04-01/...` is caller `use1-az1` and path `/2013-04-01/...`.
fn split_caller(path: &str) -> (String, String) {
    if let Some(rest) = path.strip_prefix("/e/") {
        let (name, tail) = rest.split_once('/').map_or((rest, ""), |(n, t)| (n, t));
        if !name.is_empty() {
            return (decode_segment(name), format!("/{tail}"));
        }
    }
    (ANONYMOUS.to_string(), path.to_string())
}

/// A caller name as one URL path segment: unreserved characters as they are, the rest %XX.
pub(super) fn encode_segment(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode_segment(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, DropConnection> {
    answer(shared, req).await.map(Answer::into_response)
}

async fn answer(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Answer, DropConnection> {
    let (parts, body) = req.into_parts();
    let (caller, path) = split_caller(parts.uri.path());
    let route = Route::of(&parts.method, &path);
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            return Ok(error(StatusCode::BAD_REQUEST, true, "InvalidInput", &format!("could not read the request body: {e} (hint: bodies are limited to {MAX_BODY} bytes)")))
        }
    };
    tracing::trace!(caller, method = %parts.method, path, "route 53 gateway: request");
    let mut lose_response = false;
    match shared.rules.apply(route.operation(), &caller).await {
        Verdict::Proceed => {}
        Verdict::LoseResponse => lose_response = true,
        Verdict::Fail(kind) => {
            let Some((status, sender, code, message)) = kind.wire() else { return Err(DropConnection) };
            return Ok(error(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), sender, code, message));
        }
        Verdict::Drop => return Err(DropConnection),
    }
    let target = match parts.uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let headers = forwardable(&parts.headers);
    let timed = route.operation().map(|op| (op, shared.config.clock.now()));
    let timer = shared.clone();
    let answer = match route {
        Route::ChangeRecords { zone } => {
            // Run the batch to completion even if the client goes away mid-way: the zone lock
            // spans several upstream calls, and stopping between them would leave the upstream
            // in a state Route 53 never shows.
            let task = tokio::spawn(change_records(shared, zone, caller, target, headers, body));
            task.await.unwrap_or_else(|e| {
                error(StatusCode::INTERNAL_SERVER_ERROR, false, "InternalError", &format!("the gateway's change task failed: {e}"))
            })
        }
        Route::ListRecords { zone } if shared.config.strict => {
            let lock = shared.zone_lock(&zone);
            let _reading = lock.read().await;
            forward(&shared, Method::GET, &target, &headers, body).await
        }
        Route::GetChange { id } => match shared.get_change(&id) {
            Some(answer) => answer,
            None => forward(&shared, Method::GET, &target, &headers, body).await,
        },
        Route::ListRecords { .. } | Route::Other => forward(&shared, parts.method, &target, &headers, body).await,
    };
    if let Some((op, started)) = timed {
        timer.record_latency(op, timer.config.clock.since(started));
    }
    if lose_response {
        // Done upstream; the answer is lost on the way back.
        return Err(DropConnection);
    }
    Ok(answer)
}

/// ChangeResourceRecordSets: pass through (non-strict), or validate on the zone's current
/// records, forward the net change and repair what the backend did beyond it (strict).
async fn change_records(shared: Arc<Shared>, zone: String, caller: String, target: String, headers: HeaderMap, body: Bytes) -> Answer {
    if !shared.config.strict {
        let comment = wire::comment_of(&body);
        let answer = forward(&shared, Method::POST, &target, &headers, body).await;
        if !answer.status().is_success() {
            return answer;
        }
        let (id, answer) = shared.issue(comment);
        // Without strict mode nothing serialises readers with this batch: the truth is the
        // listing as soon after it as the backend answers.
        if let Some(watch) = shared.watch_of(&zone) {
            if let Ok(listing) = list_zone(&shared, &zone, &headers).await {
                watch.record_listing(&zone, &id, &caller, &listing, None);
            }
        }
        return answer;
    }
    let batch = match wire::parse_change_batch(&body) {
        Ok(batch) => batch,
        Err(message) => return error(StatusCode::BAD_REQUEST, true, "InvalidInput", &message),
    };
    let lock = shared.zone_lock(&zone);
    let _exclusive = lock.write().await;
    let watch = shared.watch_of(&zone);
    let result: Result<Option<(Zone, Zone)>, Answer> = async {
        let before = list_zone(&shared, &zone, &headers).await?;
        let after = strict::simulate(&before, &batch.changes, &zone).map_err(|problems| {
            let id = request_id();
            xml(StatusCode::BAD_REQUEST, wire::invalid_change_batch_body(&problems, &id), &id)
        })?;
        let net = strict::net_changes(&before, &after);
        if net.is_empty() {
            return Ok(None);
        }
        post_changes(&shared, &target, &headers, batch.comment.as_deref(), &net).await?;
        let mut actual = None;
        if net.iter().any(|c| c.action == Action::Delete) {
            // LocalStack's DELETE of a weighted member removes every set with its identifier,
            // across names: look, and put back what Route 53 would have kept.
            let listed = list_zone(&shared, &zone, &headers).await.map_err(applied_but)?;
            let lost = strict::missing(&after, &listed);
            if lost.is_empty() {
                actual = Some(listed);
            } else {
                tracing::debug!(zone, restored = lost.len(), "route 53 gateway: restoring record sets the backend deleted beyond the batch");
                post_changes(&shared, &target, &headers, Some("dnschaos gateway: restore collateral deletions"), &lost)
                    .await
                    .map_err(applied_but)?;
            }
        }
        // The truth: what the backend holds now, read from it (not from the simulation).
        if watch.is_some() && actual.is_none() {
            actual = Some(list_zone(&shared, &zone, &headers).await.map_err(applied_but)?);
        }
        Ok(actual.map(|a| (a, after)))
    }
    .await;
    match result {
        Ok(committed) => {
            let (id, answer) = shared.issue(batch.comment);
            if let (Some(watch), Some((actual, after))) = (&watch, &committed) {
                watch.record_listing(&zone, &id, &caller, actual, Some(after));
            }
            answer
        }
        Err(answer) => answer,
    }
}

/// The batch went through but the repair after it failed: say so rather than pass on an
/// answer that reads as if nothing was applied.
fn applied_but(answer: Answer) -> Answer {
    let detail = String::from_utf8_lossy(&answer.body).into_owned();
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        false,
        "InternalError",
        &format!("the change batch was applied, but restoring record sets the backend also deleted failed: {detail}"),
    )
}

/// Start recording `zone_id`'s commits: its state now (read under the zone's shared lock, so
/// between batches) is the first record.
pub(super) async fn watch(shared: &Shared, zone_id: &str, watch: Watch) -> crate::error::Result<()> {
    let lock = shared.zone_lock(zone_id);
    let _reading = lock.read().await;
    if let Some(sim) = &shared.sim {
        let snapshot = sim.store.snapshot(zone_id).map_err(|e| crate::error::Error::Route53 { operation: "ListResourceRecordSets", message: e.to_string() })?;
        watch.record(zone_id, "initial", "harness", snapshot, Vec::new());
        shared.watch(zone_id, watch);
        return Ok(());
    }
    let listing = list_zone(shared, zone_id, &own_headers()).await.map_err(|a| {
        crate::error::Error::Route53 {
            operation: "ListResourceRecordSets",
            message: format!("the gateway could not read zone {zone_id} to start its truth log: {}", String::from_utf8_lossy(&a.body)),
        }
    })?;
    watch.record_listing(zone_id, "initial", "harness", &listing, None);
    shared.watch(zone_id, watch);
    Ok(())
}

/// Headers for the gateway's own requests: an (unsigned) AWS authorisation whose credential
/// scope names route53, which is how an emulator tells the service apart.
fn own_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        HeaderName::from_static("authorization"),
        HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=dnschaos/20260101/us-east-1/route53/aws4_request, SignedHeaders=host, Signature=0"),
    );
    h
}

/// Every record set of `zone`, as the upstream stores it, following pagination.
async fn list_zone(shared: &Shared, zone: &str, headers: &HeaderMap) -> Result<Zone, Answer> {
    let started = shared.config.clock.now();
    let mut record_sets = Vec::new();
    let mut next: Option<(String, String, Option<String>)> = None;
    loop {
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some((name, ty, ident)) = &next {
            query.extend([("name", name.as_str()), ("type", ty.as_str())]);
            if let Some(ident) = ident {
                query.push(("identifier", ident.as_str()));
            }
        }
        let url = format!("{}/2013-04-01/hostedzone/{zone}/rrset", shared.config.upstream);
        let answer = send(shared, shared.http.get(url).query(&query).headers(headers.clone())).await;
        if !answer.status().is_success() {
            return Err(answer);
        }
        let page = wire::parse_list_page(&answer.body).map_err(|e| bad_upstream(shared, &e))?;
        record_sets.extend(page.record_sets);
        match page.next {
            Some(n) if Some(&n) == next.as_ref() => {
                return Err(bad_upstream(shared, &format!("ListResourceRecordSets pagination does not advance past {n:?}")))
            }
            Some(n) => next = Some(n),
            None => {
                // The backend's own service time, for fitting the simulated backend's latency.
                tracing::debug!(target: "dnschaos::upstream", op = "list", records = record_sets.len(), us = shared.config.clock.since(started).as_micros() as u64);
                return Ok(strict::zone_of(record_sets));
            }
        }
    }
}

/// POST `changes` to the upstream; a non-2xx answer comes back as the error.
async fn post_changes(shared: &Shared, target: &str, headers: &HeaderMap, comment: Option<&str>, changes: &[Change]) -> Result<(), Answer> {
    let body = Bytes::from(wire::change_batch_body(comment, changes));
    let started = shared.config.clock.now();
    let answer = forward(shared, Method::POST, target, headers, body).await;
    // With the answer's status: a refused post costs the backend less than a committed one.
    tracing::debug!(target: "dnschaos::upstream", op = "post", changes = changes.len(), status = answer.status().as_u16(), us = shared.config.clock.since(started).as_micros() as u64);
    if answer.status().is_success() {
        Ok(())
    } else {
        Err(answer)
    }
}

/// Send one request upstream as the client sent it (less hop-by-hop headers).
async fn forward(shared: &Shared, method: Method, target: &str, headers: &HeaderMap, body: Bytes) -> Answer {
    let url = format!("{}{target}", shared.config.upstream);
    send(shared, shared.http.request(method, url).headers(headers.clone()).body(body)).await
}

async fn send(shared: &Shared, request: reqwest::RequestBuilder) -> Answer {
    shared.upstream_calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let response = match request.timeout(UPSTREAM_TIMEOUT).send().await {
        Ok(r) => r,
        Err(e) => return upstream_unreachable(&e),
    };
    let status = response.status();
    let headers = forwardable(response.headers());
    let body = match response.bytes().await {
        Ok(b) => b,
        Err(e) => return upstream_unreachable(&e),
    };
    Answer { status, headers, body }
}

fn upstream_unreachable(e: &reqwest::Error) -> Answer {
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = format!("{detail}: {s}");
        source = s.source();
    }
    tracing::warn!(error = detail, "route 53 gateway: upstream did not answer");
    error(StatusCode::BAD_GATEWAY, false, "UpstreamUnavailable", &format!("dnschaos gateway: the upstream did not answer: {detail}"))
}

fn bad_upstream(shared: &Shared, problem: &str) -> Answer {
    error(
        StatusCode::BAD_GATEWAY,
        false,
        "UpstreamUnavailable",
        &format!("dnschaos gateway: unreadable answer from {}: {problem}", shared.config.upstream),
    )
}

/// Headers worth passing on: all but hop-by-hop ones, `Host` and `Content-Length` (the HTTP
/// client sets those). The client's `Authorization` goes along: LocalStack picks the service
/// from its credential scope.
fn forwardable(headers: &HeaderMap) -> HeaderMap {
    const HOP_BY_HOP: [&str; 8] =
        ["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"];
    let mut out = HeaderMap::new();
    for (name, value) in headers {
        if name == HOST || name == CONTENT_LENGTH || HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

/// A request id, unique within this process (numbered, so that runs repeat).
fn request_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    format!("dnschaos-{:016x}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

/// An XML answer with a request id, as Route 53 sends them.
fn xml(status: StatusCode, body: String, request_id: &str) -> Answer {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert(HeaderName::from_static("x-amzn-requestid"), id);
    }
    Answer { status, headers, body: Bytes::from(body) }
}

fn error(status: StatusCode, sender: bool, code: &str, message: &str) -> Answer {
    let id = request_id();
    xml(status, wire::error_body(sender, code, message, &id), &id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_come_from_the_path() {
        for (path, caller, rest) in [
            ("/e/use1-az1/2013-04-01/hostedzone", "use1-az1", "/2013-04-01/hostedzone"),
            ("/2013-04-01/change/C1", ANONYMOUS, "/2013-04-01/change/C1"),
            ("/e/a%20b/x", "a b", "/x"),
            ("/e/only", "only", "/"),
            ("/e//x", ANONYMOUS, "/e//x"),
            ("/e/bad%zz/x", "bad%zz", "/x"),
        ] {
            assert_eq!(split_caller(path), (caller.to_string(), rest.to_string()), "{path}");
        }
        assert_eq!(encode_segment("use1-az1"), "use1-az1");
        assert_eq!(decode_segment(&encode_segment("a b/ü")), "a b/ü");
    }

    #[test]
    fn routes_follow_the_rest_paths() {
        for (method, path, route) in [
            (Method::POST, "/2013-04-01/hostedzone/Z1/rrset", Route::ChangeRecords { zone: "Z1".into() }),
            (Method::POST, "/2013-04-01/hostedzone/Z1/rrset/", Route::ChangeRecords { zone: "Z1".into() }),
            (Method::GET, "/2013-04-01/hostedzone/Z1/rrset", Route::ListRecords { zone: "Z1".into() }),
            (Method::GET, "/2013-04-01/change/C1", Route::GetChange { id: "C1".into() }),
            (Method::POST, "/2013-04-01/hostedzone", Route::Other),
            (Method::DELETE, "/2013-04-01/hostedzone/Z1", Route::Other),
        ] {
            assert_eq!(Route::of(&method, path), route, "{method} {path}");
        }
    }
}
