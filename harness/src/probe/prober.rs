//! The prober: a steady stream of A and AAAA queries per name over UDP, every outcome recorded.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use tokio::time::Instant;

use hdrhistogram::Histogram;
use hickory_proto::rr::{Name, RecordType};
use serde::Serialize;
use tokio::net::UdpSocket;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::record::{Outcome, ProbeRecord};
use super::wire;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::model::RrKind;

/// What to probe and how hard. Every field but `server` and `names` has a default.
#[derive(Debug, Clone)]
pub struct ProberConfig {
    /// The DNS server to ask (UDP).
    pub server: SocketAddr,
    /// The names to probe.
    pub names: Vec<String>,
    /// The types to ask for, in turn. Default A and AAAA.
    pub kinds: Vec<RrKind>,
    /// Queries per second per name, all types together: with A and AAAA, each gets half.
    /// Default 100, the "100 queries/s per name". Sends are paced on a fixed schedule,
    /// names staggered across the period; a sender that falls behind by more than `timeout`
    /// skips the missed sends (counted in [`ProbeStats::skipped`]) rather than bursting.
    pub rate_per_name: f64,
    /// How long to wait for each response. Default 500 ms.
    pub timeout: Duration,
    /// Also write every record as one JSON line to this file (created or truncated).
    pub jsonl: Option<PathBuf>,
    /// The run's clock (default: a wall clock of its own).
    pub clock: Clock,
}

impl ProberConfig {
    pub fn new<S: Into<String>>(server: SocketAddr, names: impl IntoIterator<Item = S>) -> Self {
        ProberConfig {
            server,
            names: names.into_iter().map(Into::into).collect(),
            kinds: vec![RrKind::A, RrKind::Aaaa],
            rate_per_name: 100.0,
            timeout: Duration::from_millis(500),
            jsonl: None,
            clock: Clock::wall(),
        }
    }
}

/// Counts over a whole run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProbeStats {
    /// Queries sent (or attempted: a failed send is recorded as a timeout).
    pub sent: u64,
    /// Responses matched to a query in time.
    pub answered: u64,
    pub timeouts: u64,
    /// Responses that arrived after their query had timed out, or matched no query.
    pub late: u64,
    /// Packets that were no readable response, or whose question did not match their id.
    pub bad_responses: u64,
    /// Answered with TC set (recorded as received; the prober does not retry over TCP).
    pub truncated: u64,
    /// Sends the socket refused.
    pub send_errors: u64,
    /// Scheduled sends dropped because a sender fell more than a timeout behind.
    pub skipped: u64,
    /// The sending window: from start to the stop request.
    pub elapsed: Duration,
    /// Why the JSON-lines file stopped being written, if it did.
    pub jsonl_error: Option<String>,
}

impl ProbeStats {
    /// Queries per second sent over the run.
    pub fn achieved_qps(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.sent as f64 / secs
        } else {
            0.0
        }
    }
}

/// Everything a run recorded.
#[derive(Debug)]
pub struct ProbeRun {
    /// Every probe, in the order they completed.
    pub records: Vec<ProbeRecord>,
    /// Latency of answered probes in microseconds (timeouts are not in it).
    pub latency_us: Histogram<u64>,
    pub stats: ProbeStats,
}

#[derive(Debug, Default)]
struct Counters {
    sent: AtomicU64,
    late: AtomicU64,
    bad: AtomicU64,
    truncated: AtomicU64,
    send_errors: AtomicU64,
    skipped: AtomicU64,
}

/// A running prober. Dropping it stops the probes at once; [`Prober::stop`] lets the queries in
/// flight finish (at most one timeout) and returns what was recorded.
pub struct Prober {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    collector: Option<std::thread::JoinHandle<Collected>>,
    counters: Arc<Counters>,
    started: Instant,
    clock: Clock,
}

impl Prober {
    /// Start probing. Times in records are milliseconds since `run_start`. Must be called inside
    /// a tokio runtime.
    pub async fn start(config: ProberConfig, run_start: Instant) -> Result<Prober> {
        validate(&config)?;
        let kinds = config.kinds.iter().map(|k| Ok((*k, wire::record_type(*k)?))).collect::<Result<Vec<_>>>()?;
        let jsonl = match &config.jsonl {
            Some(path) => Some((path.clone(), BufWriter::new(File::create(path).map_err(|e| Error::io(path, e))?))),
            None => None,
        };
        let period = Duration::from_secs_f64(1.0 / config.rate_per_name);
        let (stop, stopped) = watch::channel(false);
        let (tx, rx) = mpsc::channel();
        let counters = Arc::new(Counters::default());
        let mut probes = Vec::with_capacity(config.names.len());
        let n = config.names.len() as u32;
        for (i, name) in config.names.iter().enumerate() {
            let qname = wire::parse_name(name)?;
            let templates = kinds
                .iter()
                .map(|(kind, ty)| Ok((*kind, *ty, wire::query_template(&qname, *ty)?)))
                .collect::<Result<Vec<_>>>()?;
            let socket = bind_for(config.server).await?;
            let probe = NameProbe {
                name: crate::model::zone_normalize(name),
                qname,
                templates,
                period,
                offset: period * i as u32 / n,
                timeout: config.timeout,
                run_start,
                clock: config.clock.clone(),
                tx: tx.clone(),
                counters: counters.clone(),
            };
            probes.push((probe, socket));
        }
        // The collector ends when the last task's sender goes.
        drop(tx);
        // Spawned only once every name and socket is ready, so a bad name starts nothing.
        let tasks =
            probes.into_iter().map(|(probe, socket)| tokio::spawn(probe.run(socket, stopped.clone()))).collect();
        let collector = std::thread::Builder::new()
            .name("dnschaos-probe-log".into())
            .spawn(move || collect(rx, jsonl))
            .map_err(|e| Error::setup(format!("probe: cannot start the recording thread: {e}")))?;
        Ok(Prober { stop, tasks, collector: Some(collector), counters, started: config.clock.now(), clock: config.clock.clone() })
    }

    /// Queries sent so far.
    pub fn sent(&self) -> u64 {
        self.counters.sent.load(Ordering::Relaxed)
    }

    /// Stop sending, wait for the queries in flight to be answered or time out, and return the
    /// run's records, latencies and counts.
    pub async fn stop(mut self) -> ProbeRun {
        // A send error means every task has ended already.
        let _ = self.stop.send(true);
        let elapsed = self.clock.since(self.started);
        for task in self.tasks.drain(..) {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "a probe task failed");
            }
        }
        let collected = match self.collector.take() {
            Some(handle) => tokio::task::spawn_blocking(move || handle.join()).await.ok().and_then(|r| r.ok()),
            None => None,
        };
        let collected = collected.unwrap_or_else(|| {
            tracing::error!("the probe recording thread failed; the run's records are lost");
            Collected::default()
        });
        let c = &self.counters;
        ProbeRun {
            stats: ProbeStats {
                sent: c.sent.load(Ordering::Relaxed),
                answered: collected.answered,
                timeouts: collected.timeouts,
                late: c.late.load(Ordering::Relaxed),
                bad_responses: c.bad.load(Ordering::Relaxed),
                truncated: c.truncated.load(Ordering::Relaxed),
                send_errors: c.send_errors.load(Ordering::Relaxed),
                skipped: c.skipped.load(Ordering::Relaxed),
                elapsed,
                jsonl_error: collected.jsonl_error,
            },
            records: collected.records,
            latency_us: collected.latency_us,
        }
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn validate(config: &ProberConfig) -> Result<()> {
    if config.names.is_empty() {
        return Err(Error::bad_input("probe: no names to probe (hint: give at least one name)"));
    }
    if config.kinds.is_empty() {
        return Err(Error::bad_input("probe: no record types to ask for (hint: A, Aaaa or both)"));
    }
    if !(config.rate_per_name.is_finite() && config.rate_per_name > 0.0 && config.rate_per_name <= 1_000_000.0) {
        return Err(Error::bad_input(format!(
            "probe: rate {} per name is out of range (hint: queries per second, above 0 and at most 1000000)",
            config.rate_per_name
        )));
    }
    if config.timeout.is_zero() {
        return Err(Error::bad_input("probe: a timeout of 0 would time out every query (hint: e.g. 500ms)"));
    }
    Ok(())
}

/// A UDP socket connected to `server`, bound to the loopback address of its family when the
/// server is on loopback.
async fn bind_for(server: SocketAddr) -> Result<UdpSocket> {
    let local: IpAddr = match (server.ip().is_loopback(), server.is_ipv4()) {
        (true, true) => Ipv4Addr::LOCALHOST.into(),
        (true, false) => Ipv6Addr::LOCALHOST.into(),
        (false, true) => Ipv4Addr::UNSPECIFIED.into(),
        (false, false) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let fail = |e: std::io::Error| {
        Error::setup(format!("probe: cannot open a udp socket to {server}: {e} (hint: check the address)"))
    };
    let socket = UdpSocket::bind(SocketAddr::new(local, 0)).await.map_err(fail)?;
    socket.connect(server).await.map_err(fail)?;
    Ok(socket)
}

/// A query waiting for its response.
struct InFlight {
    kind: RrKind,
    ty: RecordType,
    sent: Instant,
}

/// One name's sender and receiver: one socket, one task, ids matched in a map.
struct NameProbe {
    name: String,
    qname: Name,
    templates: Vec<(RrKind, RecordType, Vec<u8>)>,
    period: Duration,
    offset: Duration,
    timeout: Duration,
    run_start: Instant,
    clock: Clock,
    tx: mpsc::Sender<ProbeRecord>,
    counters: Arc<Counters>,
}

impl NameProbe {
    async fn run(self, socket: UdpSocket, mut stopped: watch::Receiver<bool>) {
        let mut buf = vec![0u8; 4096];
        let mut inflight: HashMap<u16, InFlight> = HashMap::new();
        // Deadlines in send order (all timeouts are equal); entries already answered are skipped.
        let mut deadlines: VecDeque<(Instant, u16)> = VecDeque::new();
        let mut next_id: u16 = u16::from_str_radix(&self.clock.unique_id()[..4], 16).unwrap_or(1);
        let mut turn = 0usize;
        let mut next_send = self.clock.now() + self.offset;
        let mut stopping = false;
        loop {
            while deadlines
                .front()
                .is_some_and(|(due, id)| inflight.get(id).is_none_or(|f| f.sent + self.timeout != *due))
            {
                deadlines.pop_front();
            }
            if stopping && inflight.is_empty() {
                return;
            }
            let next_deadline = deadlines.front().map(|(due, _)| *due);
            tokio::select! {
                biased;
                _ = stopped.changed(), if !stopping => {
                    // Stop asked, or the prober was dropped: either way, send no more.
                    stopping = true;
                }
                received = socket.recv(&mut buf) => {
                    let now = self.clock.now();
                    match received {
                        Ok(len) => self.on_packet(&buf[..len], now, &mut inflight),
                        // An ICMP error for an earlier send (server gone): the query times out.
                        Err(e) => tracing::trace!(error = %e, name = %self.name, "probe receive failed"),
                    }
                }
                _ = sleep_until_some(next_deadline) => {
                    let now = self.clock.now();
                    while let Some(&(due, id)) = deadlines.front() {
                        if due > now {
                            break;
                        }
                        deadlines.pop_front();
                        if inflight.get(&id).is_some_and(|f| f.sent + self.timeout == due) {
                            if let Some(f) = inflight.remove(&id) {
                                self.record(f, Outcome::Timeout, self.timeout);
                            }
                        }
                    }
                }
                _ = tokio::time::sleep_until(next_send), if !stopping => {
                    let now = self.clock.now();
                    let behind = now.saturating_duration_since(next_send);
                    if behind > self.timeout {
                        let missed = (behind.as_secs_f64() / self.period.as_secs_f64()) as u64;
                        self.counters.skipped.fetch_add(missed, Ordering::Relaxed);
                        next_send = now;
                    }
                    while next_send <= now {
                        let (kind, ty, template) = &self.templates[turn % self.templates.len()];
                        turn = turn.wrapping_add(1);
                        let id = free_id(&mut next_id, &inflight);
                        let sent = self.clock.now();
                        if let Err(e) = socket.send(&wire::with_id(template, id)).await {
                            self.counters.send_errors.fetch_add(1, Ordering::Relaxed);
                            tracing::trace!(error = %e, name = %self.name, "probe send failed");
                        }
                        self.counters.sent.fetch_add(1, Ordering::Relaxed);
                        inflight.insert(id, InFlight { kind: *kind, ty: *ty, sent });
                        deadlines.push_back((sent + self.timeout, id));
                        next_send += self.period;
                    }
                }
            }
        }
    }

    fn on_packet(&self, packet: &[u8], now: Instant, inflight: &mut HashMap<u16, InFlight>) {
        let Some(response) = wire::decode(packet) else {
            self.counters.bad.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let Some(f) = inflight.get(&response.id) else {
            self.counters.late.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if !response.answers(&self.qname, f.ty) {
            // Not the question we asked under this id: ignore it, let the query time out.
            self.counters.bad.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if response.truncated {
            self.counters.truncated.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(f) = inflight.remove(&response.id) {
            let latency = now.saturating_duration_since(f.sent);
            self.record(f, response.outcome, latency);
        }
    }

    fn record(&self, f: InFlight, outcome: Outcome, latency: Duration) {
        let record = ProbeRecord {
            t_ms: u64::try_from(f.sent.saturating_duration_since(self.run_start).as_millis()).unwrap_or(u64::MAX),
            name: self.name.clone(),
            qtype: f.kind,
            outcome,
            latency_us: u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
        };
        // Fails only when the recording thread is gone, and then there is nobody to tell.
        let _ = self.tx.send(record);
    }
}

/// The next id not in flight. At most 65,535 queries can be in flight per name, far above any
/// rate times timeout this prober accepts; past that an id is reused.
fn free_id(next: &mut u16, inflight: &HashMap<u16, InFlight>) -> u16 {
    for _ in 0..=u16::MAX {
        let id = *next;
        *next = next.wrapping_add(1);
        if !inflight.contains_key(&id) {
            return id;
        }
    }
    *next
}

async fn sleep_until_some(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due.into()).await,
        None => std::future::pending().await,
    }
}

/// What the recording thread hands back.
struct Collected {
    records: Vec<ProbeRecord>,
    latency_us: Histogram<u64>,
    answered: u64,
    timeouts: u64,
    jsonl_error: Option<String>,
}

impl Default for Collected {
    fn default() -> Self {
        Collected { records: Vec::new(), latency_us: latency_histogram(), answered: 0, timeouts: 0, jsonl_error: None }
    }
}

/// An empty histogram for latencies from 1 us to 60 s with 3 significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("constant histogram bounds are valid")
}

/// The recording thread: keeps every record, fills the histogram, writes JSON lines. A thread
/// of its own so that file writes never stall the runtime that times the probes.
fn collect(rx: mpsc::Receiver<ProbeRecord>, mut jsonl: Option<(PathBuf, BufWriter<File>)>) -> Collected {
    let mut out = Collected::default();
    for record in rx {
        match record.outcome {
            Outcome::Timeout => out.timeouts += 1,
            Outcome::Answer { .. } => {
                out.answered += 1;
                out.latency_us.saturating_record(record.latency_us.max(1));
            }
        }
        if let Some((path, writer)) = &mut jsonl {
            if let Err(e) = serde_json::to_writer(&mut *writer, &record)
                .map_err(std::io::Error::from)
                .and_then(|()| writer.write_all(b"\n"))
            {
                let e = Error::io(path.as_path(), e);
                tracing::error!(error = %e, "probe log: writing stopped");
                out.jsonl_error = Some(e.to_string());
                jsonl = None;
            }
        }
        out.records.push(record);
    }
    if let Some((path, mut writer)) = jsonl {
        if let Err(e) = writer.flush() {
            out.jsonl_error = Some(Error::io(path, e).to_string());
        }
    }
    out
}

/// Ask `server` once for `name`/`kind` over UDP and wait up to `timeout`.
pub async fn query(server: SocketAddr, name: &str, kind: RrKind, timeout: Duration) -> Result<Outcome> {
    let qname = wire::parse_name(name)?;
    let ty = wire::record_type(kind)?;
    let id: u16 = u16::from_str_radix(&crate::clock::Clock::wall().unique_id()[..4], 16).unwrap_or(1);
    let socket = bind_for(server).await?;
    let bytes = wire::with_id(&wire::query_template(&qname, ty)?, id);
    if socket.send(&bytes).await.is_err() {
        return Ok(Outcome::Timeout);
    }
    let mut buf = vec![0u8; 4096];
    let wait = async {
        loop {
            match socket.recv(&mut buf).await {
                Err(_) => continue, // ICMP error: keep waiting until the timeout
                Ok(len) => {
                    if let Some(r) = wire::decode(&buf[..len]).filter(|r| r.id == id && r.answers(&qname, ty)) {
                        return r.outcome;
                    }
                }
            }
        }
    };
    Ok(tokio::time::timeout(timeout, wait).await.unwrap_or(Outcome::Timeout))
}
