//! The server: UDP and TCP listeners on one port of 127.0.0.1, around [`respond`].

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::{JoinHandle, JoinSet};

use super::respond::{respond, Policy, Reply, Transport};
use super::zones::ZoneTable;
use crate::error::{Error, Result};
use crate::model::ZoneSnapshot;

/// How a data plane listens and answers. Every field has a default (see [`Default`]).
#[derive(Debug, Clone)]
pub struct DataPlaneConfig {
    /// Where to listen, UDP and TCP on the same port. Default `127.0.0.1:0`: a free port,
    /// reported by [`DataPlane::addr`].
    pub listen: SocketAddr,
    /// Seed of the weighted pick. Default 0. The n-th query the server receives gets the n-th
    /// number of this seed's sequence, so a run is reproducible when queries arrive in the same
    /// order (the arrival order itself is the OS's, not the seed's).
    pub seed: u64,
    /// Answer every member of a weighted set instead of one picked by weight. Default false
    /// (Route 53 answers one).
    pub answer_all: bool,
    /// Negative-caching TTL: the TTL of the SOA sent with NXDOMAIN and NODATA answers, and the
    /// SOA's MINIMUM. Default 60 s. Route 53's own default SOA says 900 s (SOA TTL 900, MINIMUM
    /// 86400); the harness uses a shorter value so that negative answers cached by resolvers
    /// expire within a run. Whole seconds; anything longer than `u32::MAX` s is clamped.
    pub negative_ttl: Duration,
    /// How long a TCP connection may stay idle before the server closes it. Default 10 s.
    pub tcp_idle_timeout: Duration,
}

impl Default for DataPlaneConfig {
    fn default() -> Self {
        DataPlaneConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 0,
            answer_all: false,
            negative_ttl: Duration::from_secs(60),
            tcp_idle_timeout: Duration::from_secs(10),
        }
    }
}

/// Counters of what the server has seen since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Queries answered over UDP (FORMERR replies included).
    pub udp_queries: u64,
    /// Queries answered over TCP (FORMERR replies included).
    pub tcp_queries: u64,
    /// Packets that were not a readable query: answered FORMERR or dropped.
    pub malformed: u64,
}

#[derive(Debug, Default)]
struct Counters {
    udp: AtomicU64,
    tcp: AtomicU64,
    malformed: AtomicU64,
    /// How many weighted picks have been drawn: the position in the seed's sequence.
    draws: AtomicU64,
}

/// What the listener tasks share.
struct Shared {
    table: ZoneTable,
    policy: Policy,
    seed: u64,
    counters: Counters,
    tcp_idle_timeout: Duration,
}

impl Shared {
    fn reply(&self, packet: &[u8], transport: Transport) -> Option<Vec<u8>> {
        let n = self.counters.draws.fetch_add(1, Ordering::Relaxed);
        let random = unit_interval(splitmix64(crate::seeds::nth(self.seed, n)));
        let counter = match transport {
            Transport::Udp => &self.counters.udp,
            Transport::Tcp => &self.counters.tcp,
        };
        match respond(&self.table.load(), self.policy, random, packet, transport) {
            Reply::Send(bytes) => {
                counter.fetch_add(1, Ordering::Relaxed);
                Some(bytes)
            }
            Reply::Malformed(bytes) => {
                counter.fetch_add(1, Ordering::Relaxed);
                self.counters.malformed.fetch_add(1, Ordering::Relaxed);
                Some(bytes)
            }
            Reply::Drop => {
                self.counters.malformed.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }
}

/// SplitMix64: a small, well-mixed hash; good enough to turn a counter into a pick.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The top 53 bits of `x` as a number in [0, 1).
fn unit_interval(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// A running authoritative DNS server. Dropping it stops its tasks; [`DataPlane::shutdown`]
/// also waits for them.
pub struct DataPlane {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl DataPlane {
    /// Bind UDP and TCP on `config.listen` and start serving (no zones yet: every query is
    /// REFUSED until a zone is published). Must be called inside a tokio runtime.
    pub async fn start(config: DataPlaneConfig) -> Result<DataPlane> {
        let (udp, tcp) = bind_pair(config.listen).await?;
        let addr = udp.local_addr().map_err(|e| bind_error(config.listen, &e))?;
        let negative_ttl = u32::try_from(config.negative_ttl.as_secs()).unwrap_or(u32::MAX);
        let shared = Arc::new(Shared {
            table: ZoneTable::new(negative_ttl),
            policy: Policy { answer_all: config.answer_all, negative_ttl },
            seed: config.seed,
            counters: Counters::default(),
            tcp_idle_timeout: config.tcp_idle_timeout,
        });
        let tasks = vec![tokio::spawn(serve_udp(udp, shared.clone())), tokio::spawn(serve_tcp(tcp, shared.clone()))];
        tracing::debug!(%addr, "dns data plane listening");
        Ok(DataPlane { addr, shared, tasks })
    }

    /// The address served, UDP and TCP.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared zone state, for a publisher such as [`super::Mirror`].
    pub fn table(&self) -> ZoneTable {
        self.shared.table.clone()
    }

    /// Serve `snapshot`, replacing the earlier snapshot of the same zone atomically.
    pub fn publish(&self, snapshot: ZoneSnapshot) {
        self.shared.table.publish(snapshot);
    }

    /// The snapshots served now, by zone name.
    pub fn zones(&self) -> std::collections::BTreeMap<String, Arc<ZoneSnapshot>> {
        self.shared.table.zones()
    }

    pub fn stats(&self) -> ServerStats {
        let c = &self.shared.counters;
        ServerStats {
            udp_queries: c.udp.load(Ordering::Relaxed),
            tcp_queries: c.tcp.load(Ordering::Relaxed),
            malformed: c.malformed.load(Ordering::Relaxed),
        }
    }

    /// Stop listening and wait until the sockets are closed.
    pub async fn shutdown(mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
            // Cancelled is the expected outcome; a panic has already been reported by tokio.
            let _ = task.await;
        }
    }
}

impl Drop for DataPlane {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Bind UDP, then TCP on the same port. With port 0, a port whose TCP side is taken is given
/// back and another one tried.
async fn bind_pair(listen: SocketAddr) -> Result<(UdpSocket, TcpListener)> {
    const ATTEMPTS: usize = 20;
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let udp = UdpSocket::bind(listen).await.map_err(|e| bind_error(listen, &e))?;
        let port = udp.local_addr().map_err(|e| bind_error(listen, &e))?.port();
        match TcpListener::bind(SocketAddr::new(listen.ip(), port)).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) if listen.port() == 0 => last = Some(e),
            Err(e) => return Err(bind_error(listen, &e)),
        }
    }
    let e = last.unwrap_or_else(|| std::io::Error::other("no attempt made"));
    Err(bind_error(listen, &e))
}

fn bind_error(listen: SocketAddr, e: &std::io::Error) -> Error {
    Error::setup(format!(
        "dns data plane: cannot listen on {listen} (udp and tcp): {e} (hint: use port 0 for a free port, or free the port)"
    ))
}

async fn serve_udp(socket: UdpSocket, shared: Arc<Shared>) {
    let mut buf = vec![0u8; 65_535];
    loop {
        let (len, peer) = match socket.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(e) => {
                // ICMP errors from earlier sends surface here on some systems; keep serving.
                tracing::debug!(error = %e, "udp receive failed");
                continue;
            }
        };
        if let Some(bytes) = shared.reply(&buf[..len], Transport::Udp) {
            if let Err(e) = socket.send_to(&bytes, peer).await {
                tracing::debug!(error = %e, %peer, "udp send failed");
            }
        }
    }
}

async fn serve_tcp(listener: TcpListener, shared: Arc<Shared>) {
    // Connections live in this set, so stopping this task closes them all.
    let mut connections = JoinSet::new();
    loop {
        // Not biased: accepts and reaps are independent and both must progress under load.
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(serve_connection(stream, peer, shared.clone()));
                }
                Err(e) => {
                    tracing::debug!(error = %e, "tcp accept failed");
                    // Out of file descriptors and the like: do not spin.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// One TCP connection: length-prefixed messages (RFC 1035 4.2.2), answered in order, closed
/// after the idle timeout, on EOF, or on a read error.
async fn serve_connection(mut stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let idle = shared.tcp_idle_timeout;
    let mut buf = Vec::new();
    loop {
        let mut len = [0u8; 2];
        match tokio::time::timeout(idle, stream.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => return, // EOF, reset or idle
        }
        buf.resize(usize::from(u16::from_be_bytes(len)), 0);
        match tokio::time::timeout(idle, stream.read_exact(&mut buf)).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => return,
        }
        let Some(bytes) = shared.reply(&buf, Transport::Tcp) else { continue };
        let Ok(prefix) = u16::try_from(bytes.len()) else {
            tracing::warn!(%peer, len = bytes.len(), "tcp response too long for a dns message; closing");
            return;
        };
        let mut framed = Vec::with_capacity(bytes.len() + 2);
        framed.extend_from_slice(&prefix.to_be_bytes());
        framed.extend_from_slice(&bytes);
        if stream.write_all(&framed).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_are_uniform_enough_and_in_range() {
        let mut below_quarter = 0;
        for n in 0..10_000u64 {
            let r = unit_interval(splitmix64(7 ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
            assert!((0.0..1.0).contains(&r));
            if r < 0.25 {
                below_quarter += 1;
            }
        }
        assert!((2_300..2_700).contains(&below_quarter), "{below_quarter}");
    }
}
