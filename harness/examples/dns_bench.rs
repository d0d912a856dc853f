//! Benchmark of the DNS data plane and the prober, with dnsperf as the yardstick.
//!
//! Starts a data plane on a free port of 127.0.0.1 serving one small zone (`api` -> a weighted
//! set of 8 leaves, A and AAAA), runs the prober at a target rate for a while, prints what it
//! achieved, then runs dnsperf (when installed) against the same server at the same rate and
//! prints both and their ratio.
//!
//! ```text
//! cargo run --release --example dns_bench -- --rate 2000 --duration 10s
//! ```
//!
//! The goal on a 2-core machine: the prober sustains at least 2,000 queries/s with p99 < 5 ms.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use clap::Parser;
use dnschaos::dataplane::{DataPlane, DataPlaneConfig};
use dnschaos::model::{RecordSet, RrKind, ZoneSnapshot};
use dnschaos::probe::{ProbeRun, Prober, ProberConfig};

#[derive(Parser, Debug)]
#[command(about = "Benchmark the dns data plane and prober against dnsperf")]
struct Args {
    /// Total queries per second, spread evenly over the names.
    #[arg(long, env = "DNS_BENCH_RATE", default_value_t = 2000.0)]
    rate: f64,
    /// How long each of the prober and dnsperf runs ("10s", "1m").
    #[arg(long, env = "DNS_BENCH_DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Prober timeout per query.
    #[arg(long, env = "DNS_BENCH_TIMEOUT", default_value = "500ms", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// Seed of the data plane's weighted pick.
    #[arg(long, env = "DNS_BENCH_SEED", default_value_t = 0)]
    seed: u64,
    /// dnsperf binary; the comparison is skipped when it is not found.
    #[arg(long, env = "DNS_BENCH_DNSPERF", default_value = "dnsperf")]
    dnsperf: String,
}

const ZONE: &str = "bench.dnschaos.test.";

/// `api` -> `g1` (8 weighted aliases) -> `lb-N.g1` leaves, A and AAAA.
fn zone() -> ZoneSnapshot {
    let mut records = Vec::new();
    for kind in [RrKind::A, RrKind::Aaaa] {
        records.push(RecordSet {
            name: format!("api.{ZONE}"),
            kind,
            ttl: None,
            values: vec![],
            set_id: None,
            weight: None,
            alias: Some(format!("g1.{ZONE}")),
        });
        for i in 1..=8 {
            let leaf = format!("lb-{i}.g1.{ZONE}");
            let value = match kind {
                RrKind::A => format!("192.0.2.{i}"),
                _ => format!("2001:db8::{i}"),
            };
            records.push(RecordSet {
                name: leaf.clone(),
                kind,
                ttl: Some(60),
                values: vec![value],
                set_id: None,
                weight: None,
                alias: None,
            });
            records.push(RecordSet {
                name: format!("g1.{ZONE}"),
                kind,
                ttl: None,
                values: vec![],
                set_id: Some(format!("lb-{i}")),
                weight: Some(i),
                alias: Some(leaf),
            });
        }
    }
    ZoneSnapshot::new(ZONE, records)
}

/// The names probed: the alias, the weighted root and the 8 leaves.
fn names() -> Vec<String> {
    let mut names = vec![format!("api.{ZONE}"), format!("g1.{ZONE}")];
    names.extend((1..=8).map(|i| format!("lb-{i}.g1.{ZONE}")));
    names
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    anyhow::ensure!(args.rate > 0.0, "--rate must be above 0 (hint: queries per second, e.g. 2000)");
    let dp = DataPlane::start(DataPlaneConfig { seed: args.seed, ..DataPlaneConfig::default() }).await?;
    dp.publish(zone());
    let names = names();
    println!(
        "dns bench: data plane at {} (seed {}), {} names x A/AAAA, target {} queries/s for {:?}",
        dp.addr(),
        args.seed,
        names.len(),
        args.rate,
        args.duration
    );

    let mut config = ProberConfig::new(dp.addr(), names.clone());
    config.rate_per_name = args.rate / names.len() as f64;
    config.timeout = args.timeout;
    let before = dp.stats();
    let run_start = config.clock.now();
    let prober = Prober::start(config, run_start).await?;
    tokio::time::sleep(args.duration).await;
    let run = prober.stop().await;
    let served = dp.stats().udp_queries - before.udp_queries;
    let prober_qps = report_prober(&run, served);

    let query_file = std::env::temp_dir().join(format!("dns_bench-{}.txt", std::process::id()));
    let lines: String = names.iter().flat_map(|n| [format!("{n} A\n"), format!("{n} AAAA\n")]).collect();
    std::fs::write(&query_file, lines)?;
    let dnsperf = run_dnsperf(&args, dp.addr(), &query_file).await;
    // Best effort: a leftover file in the temp dir is harmless.
    let _ = std::fs::remove_file(&query_file);
    match dnsperf? {
        Some(perf) => {
            println!(
                "dnsperf:  {:.1} queries/s, lost {}, latency avg {:.0} us (min {:.0}, max {:.0}, stddev {:.0})",
                perf.qps, perf.lost, perf.avg_us, perf.min_us, perf.max_us, perf.stddev_us
            );
            if perf.qps > 0.0 {
                println!("ratio prober/dnsperf: {:.3} (queries/s)", prober_qps / perf.qps);
            }
        }
        None => println!("dnsperf: not run ({} not found)", args.dnsperf),
    }
    dp.shutdown().await;
    Ok(())
}

/// Print the prober's numbers and the verdict against the goal; returns its queries/s.
fn report_prober(run: &ProbeRun, served: u64) -> f64 {
    let st = &run.stats;
    let h = &run.latency_us;
    let qps = st.achieved_qps();
    let loss = if st.sent > 0 { 100.0 * st.timeouts as f64 / st.sent as f64 } else { 0.0 };
    println!(
        "prober:   {qps:.1} queries/s ({} sent, {} answered, {} served), loss {} ({loss:.3}%), skipped sends {}",
        st.sent, st.answered, served, st.timeouts, st.skipped
    );
    println!(
        "          latency p50 {} us, p90 {} us, p99 {} us, max {} us",
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.9),
        h.value_at_quantile(0.99),
        h.max()
    );
    let met = qps >= 2000.0 * 0.99 && h.value_at_quantile(0.99) < 5_000;
    println!("goal (>= 2000 queries/s, p99 < 5 ms): {}", if met { "met" } else { "NOT met" });
    qps
}

struct Dnsperf {
    qps: f64,
    lost: u64,
    avg_us: f64,
    min_us: f64,
    max_us: f64,
    stddev_us: f64,
}

/// Run dnsperf at the same rate and duration; None when it is not installed.
async fn run_dnsperf(args: &Args, server: SocketAddr, query_file: &Path) -> anyhow::Result<Option<Dnsperf>> {
    let mut cmd = Command::new(&args.dnsperf);
    cmd.args(["-s", &server.ip().to_string(), "-p", &server.port().to_string()]).arg("-d").arg(query_file).args([
        "-l",
        &args.duration.as_secs().max(1).to_string(),
        "-Q",
        &format!("{}", args.rate.round() as u64),
    ]);
    println!("running: {cmd:?}");
    // dnsperf blocks; run it off the runtime so the data plane keeps answering.
    let out = match tokio::task::spawn_blocking(move || cmd.output()).await? {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let text = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(
        out.status.success(),
        "dnsperf failed ({}): {}{}",
        out.status,
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    let field =
        |label: &str| -> Option<&str> { text.lines().find_map(|l| l.trim().strip_prefix(label)).map(str::trim) };
    let number = |s: &str| {
        s.split(|c: char| !(c.is_ascii_digit() || c == '.')).find(|t| !t.is_empty()).and_then(|t| t.parse::<f64>().ok())
    };
    let latency = field("Average Latency (s):").unwrap_or("");
    // "0.000080 (min 0.000020, max 0.001234)"
    let parts: Vec<f64> =
        latency.split(|c: char| !(c.is_ascii_digit() || c == '.')).filter_map(|t| t.parse().ok()).collect();
    let perf = Dnsperf {
        qps: field("Queries per second:").and_then(number).unwrap_or(0.0),
        lost: field("Queries lost:").and_then(number).map_or(0, |n| n as u64),
        avg_us: parts.first().copied().unwrap_or(0.0) * 1e6,
        min_us: parts.get(1).copied().unwrap_or(0.0) * 1e6,
        max_us: parts.get(2).copied().unwrap_or(0.0) * 1e6,
        stddev_us: field("Latency StdDev (s):").and_then(number).unwrap_or(0.0) * 1e6,
    };
    Ok(Some(perf))
}
