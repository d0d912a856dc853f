//! The DNS data plane over real UDP and TCP, the mirror against the real backend, and the prober
//! against both. One shared backend (for the mirror tests); every test starts its own data plane
//! on a free port of 127.0.0.1.

#[path = "../support/mod.rs"]
mod support;

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_route53::types::{ChangeAction, RrType};
use dnschaos::answer::Rcode;
use dnschaos::dataplane::{DataPlane, DataPlaneConfig, Mirror, MirrorConfig, MirroredZone};
use dnschaos::model::{RecordSet, RrKind, ZoneSnapshot};
use dnschaos::probe::{self, classify, Outcome, ProbeClass, ProbeRecord, Prober, ProberConfig};
use dnschaos::route53::{records, ClientOptions, Route53};
use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use libtest_mimic::Failed;
use support::{ensure, scratch, trial, Shared};

fn main() {
    let shared = Arc::new(support::start_shared("dataplane"));
    let trials = vec![
        trial(&shared, "alias_is_followed_to_the_leaf_with_its_ttl", alias_followed),
        trial(&shared, "weighted_pick_follows_weights_and_the_seed", weighted_pick),
        trial(&shared, "answer_all_returns_every_live_member", answer_all),
        trial(&shared, "dangling_alias_is_noerror_empty_with_soa", dangling_alias),
        trial(&shared, "missing_name_is_nxdomain_with_soa", nxdomain),
        trial(&shared, "names_outside_every_zone_are_refused", refused),
        trial(&shared, "tcp_answers_and_takes_over_truncated_udp", tcp),
        trial(&shared, "malformed_packets_get_formerr_or_nothing", malformed),
        trial(&shared, "port_in_use_is_a_setup_error_with_hint", port_in_use),
        trial(&shared, "publish_swaps_a_zone_whole_while_serving", atomic_publish),
        trial(&shared, "prober_records_classifies_and_writes_json_lines", prober_records),
        trial(&shared, "prober_counts_late_answers_as_timeouts", prober_late),
        trial(&shared, "mirror_serves_backend_records_and_follows_changes", mirror_follows),
        trial(&shared, "mirror_respects_the_propagation_delay", mirror_delay),
        trial(&shared, "mirror_keeps_the_last_good_snapshot_through_api_errors", mirror_errors),
        trial(&shared, "truth_log_holds_every_empty_interval_and_probes_see_the_long_ones", truth_and_probes),
    ];
    support::run(shared, trials)
}

// ---------------------------------------------------------------------------------------------
// Helpers

const ZONE: &str = "dp.test.";

fn leaf(name: &str, kind: RrKind, value: &str) -> RecordSet {
    RecordSet {
        name: name.into(),
        kind,
        ttl: Some(30),
        values: vec![value.into()],
        set_id: None,
        weight: None,
        alias: None,
    }
}

fn alias(name: &str, kind: RrKind, target: &str) -> RecordSet {
    RecordSet {
        name: name.into(),
        kind,
        ttl: None,
        values: vec![],
        set_id: None,
        weight: None,
        alias: Some(target.into()),
    }
}

fn weighted_alias(name: &str, set_id: &str, weight: i64, target: &str) -> RecordSet {
    RecordSet { set_id: Some(set_id.into()), weight: Some(weight), ..alias(name, RrKind::A, target) }
}

/// api -> g1 (weighted 1:3:6, and a member of weight 0) -> leaves; a dangling alias; AAAA.
fn zone() -> ZoneSnapshot {
    ZoneSnapshot::new(
        ZONE,
        vec![
            leaf("lb-1.g1.dp.test.", RrKind::A, "192.0.2.1"),
            leaf("lb-2.g1.dp.test.", RrKind::A, "192.0.2.2"),
            leaf("lb-3.g1.dp.test.", RrKind::A, "192.0.2.3"),
            leaf("lb-4.g1.dp.test.", RrKind::A, "192.0.2.4"),
            leaf("lb-1.g1.dp.test.", RrKind::Aaaa, "2001:db8::1"),
            weighted_alias("g1.dp.test.", "lb-1", 1, "lb-1.g1.dp.test."),
            weighted_alias("g1.dp.test.", "lb-2", 3, "lb-2.g1.dp.test."),
            weighted_alias("g1.dp.test.", "lb-3", 6, "lb-3.g1.dp.test."),
            weighted_alias("g1.dp.test.", "lb-4", 0, "lb-4.g1.dp.test."),
            alias("api.dp.test.", RrKind::A, "g1.dp.test."),
            alias("api.dp.test.", RrKind::Aaaa, "lb-1.g1.dp.test."),
            alias("dangling.dp.test.", RrKind::A, "g9.dp.test."),
        ],
    )
}

fn start(s: &Shared, config: DataPlaneConfig) -> Result<DataPlane, Failed> {
    let dp = s.block_on(DataPlane::start(config))?;
    dp.publish(zone());
    Ok(dp)
}

fn query_bytes(name: &str, ty: RecordType) -> (u16, Vec<u8>) {
    let mut m = Message::query();
    m.add_query(Query::query(Name::from_ascii(name).expect("test name"), ty));
    (m.metadata.id, m.to_vec().expect("encode query"))
}

/// One query over UDP; the response with the query's id.
fn ask(addr: SocketAddr, name: &str, ty: RecordType) -> Result<Message, Failed> {
    let (id, bytes) = query_bytes(name, ty);
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    socket.set_read_timeout(Some(Duration::from_secs(2)))?;
    socket.connect(addr)?;
    socket.send(&bytes)?;
    let mut buf = [0u8; 4096];
    loop {
        let n = socket.recv(&mut buf).map_err(|e| format!("no answer from {addr} for {name} {ty}: {e}"))?;
        let m = Message::from_vec(&buf[..n])?;
        if m.metadata.id == id {
            return Ok(m);
        }
    }
}

/// One query over TCP.
fn ask_tcp(addr: SocketAddr, name: &str, ty: RecordType) -> Result<Message, Failed> {
    let (id, bytes) = query_bytes(name, ty);
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(&(bytes.len() as u16).to_be_bytes())?;
    stream.write_all(&bytes)?;
    let mut len = [0u8; 2];
    stream.read_exact(&mut len)?;
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut body)?;
    let m = Message::from_vec(&body)?;
    ensure(m.metadata.id == id, || format!("tcp answer id {} for query {id}", m.metadata.id))?;
    Ok(m)
}

fn addrs(m: &Message) -> Vec<IpAddr> {
    m.answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
            _ => None,
        })
        .collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

/// The SOA TTL of the authority section, if there is an SOA.
fn soa_ttl(m: &Message) -> Option<u32> {
    m.authorities.iter().find(|r| r.record_type() == RecordType::SOA).map(|r| r.ttl)
}

/// Poll `f` every 20 ms until it returns Some or `limit` passes.
fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Result<Option<T>, Failed>) -> Result<Option<T>, Failed> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f()? {
            return Ok(Some(v));
        }
        if Instant::now() > deadline {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------------------------
// Data plane

fn alias_followed(s: &Shared) -> Result<(), Failed> {
    let dp = start(s, DataPlaneConfig::default())?;
    let m = ask(dp.addr(), "api.dp.test.", RecordType::A)?;
    let got = addrs(&m);
    ensure(m.metadata.response_code == ResponseCode::NoError && got.len() == 1, || format!("api A: {m:?}"))?;
    ensure(["192.0.2.1", "192.0.2.2", "192.0.2.3"].map(ip).contains(&got[0]), || format!("api A answered {got:?}"))?;
    ensure(m.metadata.authoritative, || "AA flag not set".into())?;
    ensure(m.answers[0].ttl == 30 && m.answers[0].name.to_ascii() == "api.dp.test.", || {
        format!("leaf ttl / owner: {:?}", m.answers[0])
    })?;
    ensure(m.authorities.is_empty(), || format!("authority on a positive answer: {:?}", m.authorities))?;
    let m = ask(dp.addr(), "API.DP.TEST.", RecordType::AAAA)?;
    ensure(addrs(&m) == vec![ip("2001:db8::1")], || format!("api AAAA: {m:?}"))?;
    Ok(())
}

fn weighted_pick(s: &Shared) -> Result<(), Failed> {
    const N: usize = 2000;
    let config = DataPlaneConfig { seed: 42, ..DataPlaneConfig::default() };
    let dp = start(s, config.clone())?;
    let mut seen: BTreeMap<IpAddr, usize> = BTreeMap::new();
    let mut sequence = Vec::with_capacity(N);
    for _ in 0..N {
        let got = addrs(&ask(dp.addr(), "api.dp.test.", RecordType::A)?);
        ensure(got.len() == 1, || format!("weighted answer with {} addresses: {got:?}", got.len()))?;
        *seen.entry(got[0]).or_default() += 1;
        sequence.push(got[0]);
    }
    println!("{N} weighted picks (weights 1:3:6:0): {seen:?}");
    for (addr, weight) in [("192.0.2.1", 0.1), ("192.0.2.2", 0.3), ("192.0.2.3", 0.6)] {
        let share = seen.get(&ip(addr)).copied().unwrap_or(0) as f64 / N as f64;
        ensure((share - weight).abs() < 0.04, || format!("{addr}: share {share:.3}, weight {weight}: {seen:?}"))?;
    }
    ensure(!seen.contains_key(&ip("192.0.2.4")), || "a member of weight 0 was answered".into())?;
    // The same seed and the same query order give the same picks.
    let again = start(s, config)?;
    for (i, want) in sequence.iter().take(200).enumerate() {
        let got = addrs(&ask(again.addr(), "api.dp.test.", RecordType::A)?);
        ensure(got == vec![*want], || format!("pick {i} differs with the same seed: {got:?} vs {want}"))?;
    }
    Ok(())
}

fn answer_all(s: &Shared) -> Result<(), Failed> {
    let dp = start(s, DataPlaneConfig { answer_all: true, ..DataPlaneConfig::default() })?;
    for _ in 0..20 {
        let mut got = addrs(&ask(dp.addr(), "api.dp.test.", RecordType::A)?);
        got.sort();
        ensure(got == ["192.0.2.1", "192.0.2.2", "192.0.2.3"].map(ip), || format!("answer_all gave {got:?}"))?;
    }
    Ok(())
}

fn dangling_alias(s: &Shared) -> Result<(), Failed> {
    let config = DataPlaneConfig { negative_ttl: Duration::from_secs(45), ..DataPlaneConfig::default() };
    let dp = start(s, config)?;
    for ty in [RecordType::A, RecordType::AAAA] {
        let m = ask(dp.addr(), "dangling.dp.test.", ty)?;
        ensure(m.metadata.response_code == ResponseCode::NoError && m.answers.is_empty(), || {
            format!("dangling {ty}: {m:?}")
        })?;
        ensure(soa_ttl(&m) == Some(45), || format!("dangling {ty}: SOA ttl {:?}, want 45", soa_ttl(&m)))?;
        ensure(m.metadata.authoritative, || "AA flag not set on NODATA".into())?;
    }
    // The same through the prober's parser: NOERROR, no records, negative TTL from the SOA.
    let outcome = s.block_on(probe::query(dp.addr(), "dangling.dp.test.", RrKind::A, Duration::from_secs(2)))?;
    let want = Outcome::Answer { rcode: Rcode::NoError, addrs: vec![], ttl: None, negative_ttl: Some(45) };
    ensure(outcome == want, || format!("probe saw {outcome:?}"))?;
    ensure(classify(&outcome, &HashSet::new(), &HashSet::new()) == ProbeClass::Empty, || "not classed empty".into())
}

fn nxdomain(s: &Shared) -> Result<(), Failed> {
    let dp = start(s, DataPlaneConfig::default())?;
    for (name, ty) in [
        ("nothing.dp.test.", RecordType::A),
        ("nothing.dp.test.", RecordType::AAAA),
        ("x.api.dp.test.", RecordType::TXT),
    ] {
        let m = ask(dp.addr(), name, ty)?;
        ensure(m.metadata.response_code == ResponseCode::NXDomain, || {
            format!("{name} {ty}: {:?}", m.metadata.response_code)
        })?;
        ensure(soa_ttl(&m) == Some(60) && m.metadata.authoritative, || format!("{name} {ty}: SOA/AA missing: {m:?}"))?;
    }
    // An existing name with another type: NODATA with the SOA.
    let m = ask(dp.addr(), "api.dp.test.", RecordType::MX)?;
    ensure(m.metadata.response_code == ResponseCode::NoError && m.answers.is_empty() && soa_ttl(&m) == Some(60), || {
        format!("api MX: {m:?}")
    })
}

fn refused(s: &Shared) -> Result<(), Failed> {
    let dp = start(s, DataPlaneConfig::default())?;
    dp.publish(ZoneSnapshot::new("other.test.", vec![leaf("www.other.test.", RrKind::A, "198.51.100.7")]));
    for name in ["example.org.", "test.", "dp.test.evil."] {
        let m = ask(dp.addr(), name, RecordType::A)?;
        ensure(m.metadata.response_code == ResponseCode::Refused && !m.metadata.authoritative, || {
            format!("{name}: {m:?}")
        })?;
    }
    let m = ask(dp.addr(), "www.other.test.", RecordType::A)?;
    ensure(addrs(&m) == vec![ip("198.51.100.7")], || format!("second zone: {m:?}"))?;
    ensure(dp.zones().len() == 2, || format!("zones served: {:?}", dp.zones().keys().collect::<Vec<_>>()))
}

fn tcp(s: &Shared) -> Result<(), Failed> {
    let dp = start(s, DataPlaneConfig { answer_all: true, ..DataPlaneConfig::default() })?;
    let m = ask_tcp(dp.addr(), "api.dp.test.", RecordType::A)?;
    ensure(addrs(&m).len() == 3 && m.metadata.authoritative, || format!("tcp api: {m:?}"))?;
    let m = ask_tcp(dp.addr(), "nothing.dp.test.", RecordType::A)?;
    ensure(m.metadata.response_code == ResponseCode::NXDomain, || format!("tcp nxdomain: {m:?}"))?;
    // 100 addresses do not fit 512 bytes: UDP says TC, TCP gives them all.
    let mut wide = leaf("wide.dp.test.", RrKind::A, "10.0.0.1");
    wide.values = (1..=100).map(|i| format!("10.0.0.{i}")).collect();
    let mut z = zone();
    z.records.push(wide);
    dp.publish(z);
    let udp = ask(dp.addr(), "wide.dp.test.", RecordType::A)?;
    ensure(udp.metadata.truncation, || "a 100-address answer over udp without TC".into())?;
    let m = ask_tcp(dp.addr(), "wide.dp.test.", RecordType::A)?;
    ensure(addrs(&m).len() == 100, || format!("tcp gave {} addresses", addrs(&m).len()))?;
    ensure(dp.stats().tcp_queries == 3, || format!("stats: {:?}", dp.stats()))
}

fn malformed(s: &Shared) -> Result<(), Failed> {
    let dp = start(s, DataPlaneConfig::default())?;
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    socket.set_read_timeout(Some(Duration::from_millis(300)))?;
    socket.connect(dp.addr())?;
    // A header and garbage: FORMERR with the id.
    socket.send(&[0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x3f, 0xff, 0xff])?;
    let mut buf = [0u8; 512];
    let n = socket.recv(&mut buf)?;
    let m = Message::from_vec(&buf[..n])?;
    ensure(m.metadata.id == 0xbeef && m.metadata.response_code == ResponseCode::FormErr, || format!("garbage: {m:?}"))?;
    // Too short for a header: no answer.
    socket.send(&[1, 2, 3])?;
    ensure(socket.recv(&mut buf).is_err(), || "a 3-byte packet was answered".into())?;
    // Garbage over TCP closes nothing else; the server still answers.
    let mut stream = TcpStream::connect(dp.addr())?;
    stream.write_all(&[0, 3, 1, 2, 3])?;
    drop(stream);
    let m = ask(dp.addr(), "api.dp.test.", RecordType::A)?;
    ensure(addrs(&m).len() == 1, || format!("after garbage: {m:?}"))?;
    ensure(dp.stats().malformed >= 2, || format!("stats: {:?}", dp.stats()))
}

fn port_in_use(s: &Shared) -> Result<(), Failed> {
    let holder = UdpSocket::bind("127.0.0.1:0")?;
    let listen = holder.local_addr()?;
    let err = match s.block_on(DataPlane::start(DataPlaneConfig { listen, ..DataPlaneConfig::default() })) {
        Ok(_) => return Err("started on a port in use".into()),
        Err(e) => e,
    };
    let text = err.to_string();
    ensure(matches!(err, dnschaos::Error::Setup(_)), || format!("not a setup error: {err:?}"))?;
    ensure(text.contains(&listen.to_string()) && text.contains("hint:"), || {
        format!("error lacks the address or a hint: {text}")
    })
}

/// While the prober asks at 400 queries/s, the zone flips 40 times between two plans; every
/// answer is all of one plan, never a mix, never empty.
fn atomic_publish(s: &Shared) -> Result<(), Failed> {
    let plan = |g: &str, base: &str| {
        let mut records = vec![alias("api.dp.test.", RrKind::A, &format!("{g}.dp.test."))];
        for i in 1..=4 {
            let lb = format!("lb-{i}.{g}.dp.test.");
            records.push(leaf(&lb, RrKind::A, &format!("{base}.{i}")));
            records.push(weighted_alias(&format!("{g}.dp.test."), &format!("lb-{i}"), 1, &lb));
        }
        ZoneSnapshot::new(ZONE, records)
    };
    let dp = s.block_on(DataPlane::start(DataPlaneConfig { answer_all: true, ..DataPlaneConfig::default() }))?;
    dp.publish(plan("g1", "192.0.2"));
    let mut config = ProberConfig::new(dp.addr(), ["api.dp.test."]);
    config.kinds = vec![RrKind::A];
    config.rate_per_name = 400.0;
    let prober = s.block_on(Prober::start(config, tokio::time::Instant::now()))?;
    for flip in 0..40 {
        std::thread::sleep(Duration::from_millis(25));
        if flip % 2 == 0 {
            dp.publish(plan("g2", "198.51.100"));
        } else {
            dp.publish(plan("g1", "192.0.2"));
        }
    }
    let run = s.block_on(prober.stop());
    let one: HashSet<IpAddr> = (1..=4).map(|i| ip(&format!("192.0.2.{i}"))).collect();
    let two: HashSet<IpAddr> = (1..=4).map(|i| ip(&format!("198.51.100.{i}"))).collect();
    let mut per_plan = [0usize; 2];
    for r in &run.records {
        let got: HashSet<IpAddr> = r.outcome.addrs().iter().copied().collect();
        ensure(got == one || got == two, || format!("a torn or empty answer: {r:?}"))?;
        per_plan[usize::from(got == two)] += 1;
    }
    println!("{} answers during 40 swaps: {per_plan:?} per plan, stats {:?}", run.records.len(), run.stats);
    ensure(run.records.len() > 200 && per_plan[0] > 0 && per_plan[1] > 0, || format!("too few answers: {per_plan:?}"))
}

// ---------------------------------------------------------------------------------------------
// Prober

fn prober_records(s: &Shared) -> Result<(), Failed> {
    let dp = start(s, DataPlaneConfig::default())?;
    let jsonl = scratch("prober-records").join("probes.jsonl");
    let mut config = ProberConfig::new(dp.addr(), ["api.dp.test.", "nothing.dp.test", "dangling.dp.test."]);
    config.jsonl = Some(jsonl.clone());
    let run_start = tokio::time::Instant::now();
    let prober = s.block_on(Prober::start(config, run_start))?;
    std::thread::sleep(Duration::from_millis(1000));
    let run = s.block_on(prober.stop());
    let st = &run.stats;
    println!(
        "stats {st:?}, p50 {} us, p99 {} us",
        run.latency_us.value_at_quantile(0.5),
        run.latency_us.value_at_quantile(0.99)
    );
    // 100 queries/s per name for one second, three names.
    ensure((240..=330).contains(&run.records.len()), || format!("{} records in 1 s at 3 x 100/s", run.records.len()))?;
    ensure(st.sent as usize == run.records.len() && st.timeouts == 0 && st.answered == st.sent, || {
        format!("stats {st:?}")
    })?;
    ensure(run.latency_us.len() == st.answered, || "histogram count differs from answers".into())?;
    let current: HashSet<IpAddr> = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "2001:db8::1"].map(ip).into_iter().collect();
    let mut classes: BTreeMap<(String, RrKind), BTreeMap<ProbeClass, usize>> = BTreeMap::new();
    for r in &run.records {
        let class = classify(&r.outcome, &current, &HashSet::new());
        *classes.entry((r.name.clone(), r.qtype)).or_default().entry(class).or_default() += 1;
        ensure(r.t_ms <= 1600 && r.latency_us < 500_000, || format!("time or latency out of range: {r:?}"))?;
    }
    println!("{classes:?}");
    let only = |name: &str, kind: RrKind, class: ProbeClass| -> Result<(), Failed> {
        let got = classes.get(&(name.to_string(), kind)).cloned().unwrap_or_default();
        ensure(got.len() == 1 && got.contains_key(&class), || format!("{name} {kind:?}: {got:?}, want only {class:?}"))
    };
    only("api.dp.test.", RrKind::A, ProbeClass::Current)?;
    only("api.dp.test.", RrKind::Aaaa, ProbeClass::Current)?;
    only("nothing.dp.test.", RrKind::A, ProbeClass::Nxdomain)?;
    only("dangling.dp.test.", RrKind::A, ProbeClass::Empty)?;
    // The JSON lines are the records.
    let text = std::fs::read_to_string(&jsonl)?;
    let lines: Vec<ProbeRecord> = text.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
    ensure(lines == run.records, || format!("{} json lines vs {} records", lines.len(), run.records.len()))?;
    // The caching view: one fetch per name and type, then hits for the TTL (30 s / 60 s).
    let view = probe::cached_view(&run.records);
    let misses = view.iter().filter(|c| !c.hit).count();
    ensure(misses == 6, || format!("{misses} cache misses in 1 s, want 6 (3 names x 2 types)"))
}

/// A server that answers every query 150 ms late; the prober waits 50 ms.
fn prober_late(s: &Shared) -> Result<(), Failed> {
    let server = UdpSocket::bind("127.0.0.1:0")?;
    let addr = server.local_addr()?;
    server.set_read_timeout(Some(Duration::from_millis(100)))?;
    let done = Arc::new(AtomicBool::new(false));
    let done2 = done.clone();
    let slow = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        let mut pending: Vec<(Instant, Vec<u8>, SocketAddr)> = Vec::new();
        while !done2.load(Ordering::Relaxed) || !pending.is_empty() {
            if let Ok((n, peer)) = server.recv_from(&mut buf) {
                if let Ok(q) = Message::from_vec(&buf[..n]) {
                    let mut r = Message::response(q.metadata.id, q.metadata.op_code);
                    r.add_queries(q.queries.clone());
                    if let Ok(bytes) = r.to_vec() {
                        pending.push((Instant::now() + Duration::from_millis(150), bytes, peer));
                    }
                }
            }
            let now = Instant::now();
            pending.retain(|(due, bytes, peer)| {
                if *due <= now {
                    let _ = server.send_to(bytes, peer);
                    false
                } else {
                    true
                }
            });
            if done2.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    });
    let mut config = ProberConfig::new(addr, ["late.test."]);
    config.timeout = Duration::from_millis(50);
    config.rate_per_name = 50.0;
    let run = s.block_on(async {
        let prober = Prober::start(config, tokio::time::Instant::now()).await?;
        tokio::time::sleep(Duration::from_millis(600)).await;
        let run = prober.stop().await;
        Ok::<_, dnschaos::Error>(run)
    })?;
    done.store(true, Ordering::Relaxed);
    let _ = slow.join();
    let st = &run.stats;
    println!("{st:?}");
    ensure(st.sent > 20 && st.timeouts == st.sent && st.answered == 0, || format!("stats {st:?}"))?;
    ensure(run.records.iter().all(|r| r.outcome == Outcome::Timeout && r.latency_us == 50_000), || {
        "a late answer was recorded".into()
    })?;
    ensure(st.late > 0, || format!("no late answer counted: {st:?}"))
}

// ---------------------------------------------------------------------------------------------
// Mirror (real backend)

/// A fresh hosted zone with `api` -> `lb` (A 192.0.2.10).
fn backend_zone(s: &Shared, label: &str) -> Result<(String, String), Failed> {
    let name = format!("{label}-{}.dnschaos.test.", std::process::id());
    let id = s.block_on(s.r53.create_zone(&name))?;
    let lb = format!("lb.{name}");
    let changes = vec![
        records::change(ChangeAction::Create, records::plain(&lb, RrType::A, 30, &["192.0.2.10"])),
        records::change(ChangeAction::Create, records::alias(&format!("api.{name}"), RrType::A, &id, &lb)),
    ];
    s.block_on(s.r53.change(&id, changes, None)).map_err(|e| format!("create records: {e}"))?;
    Ok((id, name))
}

fn set_lb(s: &Shared, id: &str, zone: &str, value: &str) -> Result<(), Failed> {
    let change = records::change(ChangeAction::Upsert, records::plain(&format!("lb.{zone}"), RrType::A, 30, &[value]));
    s.block_on(s.r53.change(id, vec![change], None)).map_err(|e| format!("upsert lb: {e}"))?;
    Ok(())
}

/// The addresses `api.<zone>` answers now (None for anything but NOERROR).
fn api_addrs(addr: SocketAddr, zone: &str) -> Result<Option<Vec<IpAddr>>, Failed> {
    let m = ask(addr, &format!("api.{zone}"), RecordType::A)?;
    Ok((m.metadata.response_code == ResponseCode::NoError).then(|| addrs(&m)))
}

fn mirror_follows(s: &Shared) -> Result<(), Failed> {
    let (id, zone) = backend_zone(s, "mirror")?;
    let dp = s.block_on(DataPlane::start(DataPlaneConfig::default()))?;
    let zones = vec![MirroredZone::new(&id, &zone), MirroredZone::new("ZNOSUCHZONE0000", "missing.dnschaos.test.")];
    let mirror = s.block_on(async { Mirror::start(s.r53.clone(), dp.table(), zones, MirrorConfig::default()) });
    let first =
        wait_for(
            Duration::from_secs(10),
            || Ok(api_addrs(dp.addr(), &zone)?.filter(|a| *a == vec![ip("192.0.2.10")])),
        )?;
    ensure(first.is_some(), || format!("api.{zone} never answered 192.0.2.10: {:?}", mirror.stats()))?;
    let changed_at = Instant::now();
    set_lb(s, &id, &zone, "192.0.2.11")?;
    let second =
        wait_for(
            Duration::from_secs(10),
            || Ok(api_addrs(dp.addr(), &zone)?.filter(|a| *a == vec![ip("192.0.2.11")])),
        )?;
    ensure(second.is_some(), || format!("the change never showed: {:?}", mirror.stats()))?;
    println!("change visible after {} ms; {:?}", changed_at.elapsed().as_millis(), mirror.stats());
    // The bogus zone fails every poll and is never served; the good one is unaffected.
    let stats = mirror.stats();
    ensure(
        stats.errors > 0 && stats.last_error.as_deref().is_some_and(|e| e.contains("missing.dnschaos.test.")),
        || format!("{stats:?}"),
    )?;
    ensure(dp.zones().keys().cloned().collect::<Vec<_>>() == vec![zone.clone()], || {
        format!("zones: {:?}", dp.zones().keys())
    })?;
    let stopping = Instant::now();
    s.block_on(mirror.stop());
    ensure(stopping.elapsed() < Duration::from_secs(2), || format!("stop took {:?}", stopping.elapsed()))?;
    // After the stop, changes are no longer followed.
    set_lb(s, &id, &zone, "192.0.2.12")?;
    std::thread::sleep(Duration::from_millis(400));
    let now = api_addrs(dp.addr(), &zone)?;
    ensure(now == Some(vec![ip("192.0.2.11")]), || format!("after stop: {now:?}"))
}

fn mirror_delay(s: &Shared) -> Result<(), Failed> {
    let delay = Duration::from_millis(1500);
    let (id, zone) = backend_zone(s, "delay")?;
    let dp = s.block_on(DataPlane::start(DataPlaneConfig::default()))?;
    let config = MirrorConfig { propagation_delay: delay, ..MirrorConfig::default() };
    let created = Instant::now();
    let mirror =
        s.block_on(async { Mirror::start(s.r53.clone(), dp.table(), vec![MirroredZone::new(&id, &zone)], config) });
    // Nothing is served before the first snapshot's delay has passed.
    let first = wait_for(Duration::from_secs(10), || Ok(api_addrs(dp.addr(), &zone)?.filter(|a| !a.is_empty())))?;
    ensure(first.is_some(), || format!("never served: {:?}", mirror.stats()))?;
    ensure(created.elapsed() >= delay, || format!("first answer after {:?}, before the delay", created.elapsed()))?;
    // A change: the old answer until the delay has passed, then the new one.
    let sent = Instant::now();
    set_lb(s, &id, &zone, "192.0.2.20")?;
    let mut seen_old_until = sent;
    let new_at = wait_for(delay + Duration::from_secs(5), || {
        let now = Instant::now();
        match api_addrs(dp.addr(), &zone)? {
            Some(a) if a == vec![ip("192.0.2.20")] => Ok(Some(now)),
            Some(a) if a == vec![ip("192.0.2.10")] => {
                seen_old_until = now;
                Ok(None)
            }
            other => Err(format!("neither old nor new answer: {other:?}").into()),
        }
    })?;
    let new_at = new_at.ok_or_else(|| format!("the change never showed: {:?}", mirror.stats()))?;
    let visible_after = new_at.duration_since(sent);
    println!(
        "delay {delay:?}: old answer until {:?}, new after {visible_after:?}",
        seen_old_until.duration_since(sent)
    );
    ensure(visible_after >= delay, || {
        format!("the change showed after {visible_after:?}, before the {delay:?} delay")
    })?;
    ensure(visible_after <= delay + Duration::from_secs(2), || {
        format!("the change took {visible_after:?} (delay {delay:?})")
    })?;
    ensure(seen_old_until.duration_since(sent) >= delay - Duration::from_millis(200), || {
        "the old answer was not served until the delay".into()
    })?;
    s.block_on(mirror.stop());
    Ok(())
}

/// The mirror reads through a proxy that the test breaks: while the API fails, the last good
/// snapshot keeps being served; when it comes back, changes flow again.
fn mirror_errors(s: &Shared) -> Result<(), Failed> {
    let (id, zone) = backend_zone(s, "errors")?;
    let upstream = s.backend.info().endpoint_url.clone().ok_or("the shared backend has no endpoint url")?;
    let proxy = s.block_on(Proxy::start(&upstream))?;
    let mut info = s.backend.info().clone();
    info.endpoint_url = Some(proxy.url());
    let options = ClientOptions { max_attempts: 1, operation_timeout: Duration::from_secs(2), ..ClientOptions::default() };
    let r53 = s.block_on(Route53::connect(&info, options))?;
    let dp = s.block_on(DataPlane::start(DataPlaneConfig::default()))?;
    let mirror = s.block_on(async {
        Mirror::start(r53, dp.table(), vec![MirroredZone::new(&id, &zone)], MirrorConfig::default())
    });
    let ok =
        wait_for(
            Duration::from_secs(10),
            || Ok(api_addrs(dp.addr(), &zone)?.filter(|a| *a == vec![ip("192.0.2.10")])),
        )?;
    ensure(ok.is_some(), || format!("never served: {:?}", mirror.stats()))?;

    proxy.set_broken(true);
    set_lb(s, &id, &zone, "192.0.2.30")?;
    let errors_before = mirror.stats().errors;
    let failing = wait_for(Duration::from_secs(10), || Ok((mirror.stats().errors >= errors_before + 3).then_some(())))?;
    ensure(failing.is_some(), || format!("no api errors while the proxy is broken: {:?}", mirror.stats()))?;
    let during = api_addrs(dp.addr(), &zone)?;
    ensure(during == Some(vec![ip("192.0.2.10")]), || {
        format!("during api errors: {during:?} (want the last good snapshot)")
    })?;
    println!("while broken: {:?}", mirror.stats());

    proxy.set_broken(false);
    let healed =
        wait_for(
            Duration::from_secs(10),
            || Ok(api_addrs(dp.addr(), &zone)?.filter(|a| *a == vec![ip("192.0.2.30")])),
        )?;
    ensure(healed.is_some(), || format!("did not recover after the api came back: {:?}", mirror.stats()))?;
    s.block_on(mirror.stop());
    Ok(())
}

/// A TCP proxy to the backend that can be broken: while broken it closes every connection,
/// new and open.
struct Proxy {
    addr: SocketAddr,
    broken: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream_url: &str) -> Result<Proxy, Failed> {
        let upstream = upstream_url.trim_start_matches("http://").trim_end_matches('/').to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (broken, watch) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                if *watch.borrow() {
                    continue; // dropped: connection closed
                }
                let upstream = upstream.clone();
                let mut watch = watch.clone();
                conns.spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = watch.wait_for(|b| *b) => {}
                    }
                });
            }
        });
        Ok(Proxy { addr, broken, task })
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn set_broken(&self, broken: bool) {
        self.broken.send_replace(broken);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ---------------------------------------------------------------------------------------------
// Truth log against the probes (real backend, through the strict gateway)

/// Empty a name through the gateway for about 30 ms, 200 ms and 2 s (by deleting the leaf its
/// plan's tree ends in, then putting it back). The truth log must hold all three intervals; the
/// probes (100 queries/s, one every 10 ms) must see every interval at least three probe
/// intervals long, each boundary within two probe intervals + the propagation delay (0) + 5 ms,
/// and no window the truth log lacks.
fn truth_and_probes(s: &Shared) -> Result<(), Failed> {
    use dnschaos::analysis::{self, truth};
    use dnschaos::enactor::core::{flip_changes, tree_changes};
    use dnschaos::fault::gateway::{Gateway, GatewayConfig};
    use dnschaos::model::{Endpoint, LoadBalancer, Member, Plan, DEFAULT_TTL};
    use dnschaos::summary::EmptyWindow;
    use dnschaos::truth::TruthLog;

    const PROBE_INTERVAL_MS: u64 = 10;
    let clock = dnschaos::clock::Clock::wall();
    let upstream = s.backend.info().endpoint_url.clone().ok_or("no endpoint url")?;
    let gw = s.block_on(Gateway::start(GatewayConfig { clock: clock.clone(), ..GatewayConfig::new(upstream) }))?;
    let (r53, _) = s.block_on(gw.client(&s.r53, s.backend.info(), "harness"))?;
    let zone = format!("truth-{}.dnschaos.test.", std::process::id());
    let id = s.block_on(r53.create_zone(&zone))?;
    let ep = Endpoint::new("regional", &zone, &id, false);
    let lb = LoadBalancer { id: "lb-1".into(), az: "use1-az1".into(), ipv4: "192.0.2.1".parse().unwrap(), ipv6: "2001:db8::1".parse().unwrap() };
    let plan = Plan { generation: 1, members: vec![Member { lb: lb.clone(), weight: 10 }], emitted_ms: 0, valid_until_ms: u64::MAX };
    let mut boot = tree_changes(&ep, &plan);
    boot.extend(flip_changes(&ep, 1, 1));
    s.block_on(r53.change(&id, boot, None))?;

    let run_start = clock.now();
    let truth = TruthLog::new(clock.clone(), clock.epoch_ms());
    let dp = s.block_on(DataPlane::start(DataPlaneConfig::default()))?;
    let mirror = s.block_on(async {
        Mirror::follow(&truth, dp.table(), vec![MirroredZone::new(&id, &zone)], MirrorConfig { clock: clock.clone(), ..MirrorConfig::default() })
    });
    s.block_on(gw.watch(&id, &zone, vec![ep.clone()], truth.clone()))?;
    ensure(wait_for(Duration::from_secs(5), || Ok((!dp.zones().is_empty()).then_some(())))?.is_some(), || "the data plane never got the zone".into())?;
    let mut pc = ProberConfig::new(dp.addr(), [ep.name()]);
    pc.kinds = vec![RrKind::A];
    pc.rate_per_name = 1000.0 / PROBE_INTERVAL_MS as f64;
    pc.clock = clock.clone();
    let prober = s.block_on(Prober::start(pc, run_start))?;

    let leaf = records::plain(&ep.leaf_name(1, "lb-1"), RrType::A, DEFAULT_TTL, &["192.0.2.1"]);
    for hold_ms in [30u64, 200, 2_000] {
        std::thread::sleep(Duration::from_millis(400));
        s.block_on(r53.change(&id, vec![records::change(ChangeAction::Delete, leaf.clone())], None))?;
        std::thread::sleep(Duration::from_millis(hold_ms));
        s.block_on(r53.change(&id, vec![records::change(ChangeAction::Upsert, leaf.clone())], None))?;
    }
    std::thread::sleep(Duration::from_millis(400));
    let run = s.block_on(prober.stop());
    s.block_on(mirror.stop());
    let end_ms = truth.now_ms();

    let current: HashSet<IpAddr> = [ip("192.0.2.1")].into_iter().collect();
    let samples: Vec<analysis::Sample> = run
        .records
        .iter()
        .map(|r| analysis::Sample { t_ms: r.t_ms, name: "regional A".into(), class: classify(&r.outcome, &current, &HashSet::new()) })
        .collect();
    let probe_windows: Vec<EmptyWindow> = analysis::windows(&samples, &[], end_ms)
        .into_iter()
        .filter(|w| w.class == ProbeClass::Empty)
        .map(|w| EmptyWindow { name: w.name, start_ms: w.start_ms, end_ms: w.end_ms, duration_ms: w.duration_ms })
        .collect();
    let intervals = truth::empty_intervals(&truth.snapshot(), end_ms);
    println!("truth: {intervals:?}\nprobes: {probe_windows:?}");
    let lengths: Vec<u64> = intervals.iter().map(|w| w.duration_ms).collect();
    ensure(lengths.len() == 3 && lengths[0] >= 30 && lengths[1] >= 200 && lengths[2] >= 2_000, || format!("truth intervals {lengths:?}"))?;
    let bound = 2 * PROBE_INTERVAL_MS + 5;
    let (matched, missed, unexplained) = truth::compare(&probe_windows, &intervals, end_ms, bound);
    ensure(unexplained.is_empty(), || format!("probe windows the truth log lacks: {unexplained:?}"))?;
    ensure(missed.iter().all(|m| m.duration_ms < 3 * PROBE_INTERVAL_MS), || format!("intervals of 3 probe intervals or more missed: {missed:?}"))?;
    for m in &matched {
        let errors = [Some(m.start_error_ms), m.end_error_ms];
        ensure(errors.iter().flatten().all(|e| e.unsigned_abs() <= bound), || format!("boundary error over {bound} ms: {m:?}"))?;
    }
    println!("matched {} of {} intervals; boundary errors {:?}", matched.len(), intervals.len(), matched.iter().map(|m| (m.start_error_ms, m.end_error_ms)).collect::<Vec<_>>());
    s.block_on(gw.shutdown());
    Ok(())
}
