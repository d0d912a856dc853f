//! Benchmark of the DNS data plane and the prober, with dnsperf as the yardstick.
//!
//! Starts a data plane on a free port of 127.0.0.1 serving one small zone (`api` -> a weighted
//! set of 8 leaves, A and AAAA), then, on that one server:
//! 1. runs the prober at `--rate` for `--duration`, then dnsperf at the same rate and duration,
//!    and compares their **goodput** (queries answered per second) with each one's loss beside it;
//! 2. searches, in short steps, the highest rate each of them sustains without loss: the rate
//!    doubles from `--search-start` until a step fails, then bisects between the last rate that
//!    held and the first that did not.
//!
//! ```text
//! cargo run --release --example dns_bench -- --rate 2000 --duration 10s
//! ```
//!
//! A rate is *sustained* when at most 0.1% of the queries sent were lost (no answer within the
//! timeout) and the goodput is at least 99% of the rate asked for (a sender that falls behind
//! sustains nothing either). The goal on a 2-core machine: the prober sustains at least 2,000
//! queries/s with p99 < 5 ms.
//!
//! Both share the machine with the data plane (and with whatever else runs): the numbers are
//! what this machine did at that moment, and a search step is short, so its result is approximate.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use clap::Parser;
use dnschaos::dataplane::{DataPlane, DataPlaneConfig};
use dnschaos::model::{RecordSet, RrKind, ZoneSnapshot};
use dnschaos::probe::{ProbeRun, Prober, ProberConfig};

#[derive(Parser, Debug)]
#[command(about = "Benchmark the dns data plane and prober against dnsperf")]
struct Args {
    /// Total queries per second of the head-to-head run, spread evenly over the names.
    #[arg(long, env = "DNS_BENCH_RATE", default_value_t = 2000.0)]
    rate: f64,
    /// How long each of the prober and dnsperf runs head to head ("10s", "1m").
    #[arg(long, env = "DNS_BENCH_DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Timeout per query, for the prober and dnsperf alike (an answer later than this is lost).
    #[arg(long, env = "DNS_BENCH_TIMEOUT", default_value = "500ms", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// Seed of the data plane's weighted pick.
    #[arg(long, env = "DNS_BENCH_SEED", default_value_t = 0)]
    seed: u64,
    /// dnsperf binary; the comparison is skipped, and said so, when it is not found.
    #[arg(long, env = "DNS_BENCH_DNSPERF", default_value = "dnsperf")]
    dnsperf: String,
    /// dnsperf's limit of queries in flight (its -q; dnsperf's own default is 100).
    #[arg(long, env = "DNS_BENCH_DNSPERF_OUTSTANDING", default_value_t = 100)]
    dnsperf_outstanding: u32,
    /// Skip the search for the highest lossless rate.
    #[arg(long, env = "DNS_BENCH_NO_SEARCH")]
    no_search: bool,
    /// First rate of the search, in queries per second.
    #[arg(long, env = "DNS_BENCH_SEARCH_START", default_value_t = 1000.0)]
    search_start: f64,
    /// Highest rate the search tries.
    #[arg(long, env = "DNS_BENCH_SEARCH_MAX", default_value_t = 1_024_000.0)]
    search_max: f64,
    /// Length of each search step.
    #[arg(long, env = "DNS_BENCH_SEARCH_STEP", default_value = "2s", value_parser = humantime::parse_duration)]
    search_step: Duration,
    /// Bisection stops when the failing rate is within this fraction of the sustained one.
    #[arg(long, env = "DNS_BENCH_SEARCH_PRECISION", default_value_t = 0.05)]
    search_precision: f64,
}

/// Most of the queries sent that may go unanswered for a rate to count as sustained: 0.1%.
const MAX_LOSS: f64 = 0.001;
/// Least share of the asked rate that must be answered for a rate to count as sustained.
const MIN_GOODPUT_SHARE: f64 = 0.99;
/// The prober's goal: answered queries per second, and its p99 latency.
const GOAL_QPS: f64 = 2000.0;
const GOAL_P99_US: u64 = 5_000;

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

/// What one run at one rate did, for the prober or dnsperf.
#[derive(Debug, Clone)]
struct Outcome {
    /// The rate asked for, queries per second.
    target: f64,
    sent: u64,
    answered: u64,
    /// Sent and not answered within the timeout.
    lost: u64,
    secs: f64,
}

impl Outcome {
    fn sent_qps(&self) -> f64 {
        per_sec(self.sent, self.secs)
    }

    /// Answered queries per second.
    fn goodput(&self) -> f64 {
        per_sec(self.answered, self.secs)
    }

    /// Lost share of the queries sent (0..1).
    fn loss(&self) -> f64 {
        if self.sent == 0 {
            0.0
        } else {
            self.lost as f64 / self.sent as f64
        }
    }

    fn sustained(&self) -> bool {
        self.sent > 0 && self.loss() <= MAX_LOSS && self.goodput() >= MIN_GOODPUT_SHARE * self.target
    }

    /// `goodput 1999.8 answered/s (sent 2000.0/s), loss 0 of 20000 (0.000%)`
    fn line(&self) -> String {
        format!(
            "goodput {:.1} answered/s (sent {:.1}/s), loss {} of {} ({:.3}%)",
            self.goodput(),
            self.sent_qps(),
            self.lost,
            self.sent,
            100.0 * self.loss()
        )
    }
}

fn per_sec(n: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        n as f64 / secs
    } else {
        0.0
    }
}

/// dnsperf's numbers beyond the outcome.
struct DnsperfRun {
    outcome: Outcome,
    avg_us: f64,
    min_us: f64,
    max_us: f64,
    stddev_us: f64,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    anyhow::ensure!(args.rate > 0.0, "--rate {} is not above 0 (hint: queries per second, e.g. 2000)", args.rate);
    anyhow::ensure!(
        args.search_start > 0.0 && args.search_max >= args.search_start,
        "--search-start {} and --search-max {} must satisfy 0 < start <= max (hint: e.g. --search-start 1000 --search-max 1024000)",
        args.search_start,
        args.search_max
    );
    anyhow::ensure!(
        args.search_precision > 0.0,
        "--search-precision {} is not above 0 (hint: a fraction, e.g. 0.05)",
        args.search_precision
    );
    let dp = DataPlane::start(DataPlaneConfig { seed: args.seed, ..DataPlaneConfig::default() }).await?;
    dp.publish(zone());
    let names = names();
    println!(
        "dns bench: data plane at {} (seed {}), {} names x A/AAAA, target {} queries/s for {:?}, timeout {:?}",
        dp.addr(),
        args.seed,
        names.len(),
        args.rate,
        args.duration,
        args.timeout
    );
    println!(
        "a rate is sustained when loss <= {:.1}% of the queries sent and goodput >= {:.0}% of the rate",
        100.0 * MAX_LOSS,
        100.0 * MIN_GOODPUT_SHARE
    );

    // 1. Head to head at --rate.
    let before = dp.stats();
    let run = run_prober(dp.addr(), &names, args.rate, args.duration, args.timeout).await?;
    let served = dp.stats().udp_queries - before.udp_queries;
    let prober = prober_outcome(&run, args.rate);
    report_prober(&run, &prober, served);

    let query_file = std::env::temp_dir().join(format!("dns_bench-{}.txt", std::process::id()));
    let lines: String = names.iter().flat_map(|n| [format!("{n} A\n"), format!("{n} AAAA\n")]).collect();
    std::fs::write(&query_file, lines)?;
    let dnsperf = Dnsperf { bin: args.dnsperf.clone(), server: dp.addr(), queries: query_file.clone(), outstanding: args.dnsperf_outstanding, timeout: args.timeout };
    let result = compare_and_search(&args, &dp, &names, &dnsperf, &prober).await;
    // Best effort: a leftover file in the temp dir is harmless.
    let _ = std::fs::remove_file(&query_file);
    dp.shutdown().await;
    result
}

async fn compare_and_search(
    args: &Args,
    dp: &DataPlane,
    names: &[String],
    dnsperf: &Dnsperf,
    prober: &Outcome,
) -> anyhow::Result<()> {
    let perf = dnsperf.run(args.rate, args.duration, true).await?;
    match &perf {
        Some(perf) => {
            println!("dnsperf:  {}", perf.outcome.line());
            println!(
                "          latency avg {:.0} us (min {:.0}, max {:.0}, stddev {:.0})",
                perf.avg_us, perf.min_us, perf.max_us, perf.stddev_us
            );
            println!("          target {} queries/s {}", args.rate, verdict(&perf.outcome));
            if perf.outcome.goodput() > 0.0 {
                println!(
                    "goodput ratio prober/dnsperf: {:.3} (answered queries/s: prober {:.1} at {:.3}% loss, dnsperf {:.1} at {:.3}% loss)",
                    prober.goodput() / perf.outcome.goodput(),
                    prober.goodput(),
                    100.0 * prober.loss(),
                    perf.outcome.goodput(),
                    100.0 * perf.outcome.loss()
                );
            }
        }
        None => println!("dnsperf: not run: {:?} not found (hint: apt-get install dnsperf, or pass --dnsperf PATH)", args.dnsperf),
    }
    if args.no_search {
        return Ok(());
    }

    // 2. The highest rate each sustains, in short steps.
    println!(
        "search: highest lossless rate, {:?} steps, doubling from {} queries/s (at most {}), then bisecting to within {:.0}%",
        args.search_step,
        args.search_start,
        args.search_max,
        100.0 * args.search_precision
    );
    let step = args.search_step;
    let timeout = args.timeout;
    let addr = dp.addr();
    let best_prober = search(args, "prober", |rate| async move {
        let run = run_prober(addr, names, rate, step, timeout).await?;
        Ok(Some(prober_outcome(&run, rate)))
    })
    .await?;
    let best_dnsperf = if perf.is_some() {
        search(args, "dnsperf", |rate| async move { Ok(dnsperf.run(rate, step, false).await?.map(|p| p.outcome)) }).await?
    } else {
        None
    };
    let show = |best: &Option<Outcome>| match best {
        Some(o) if o.target >= args.search_max => {
            format!("at least {:.0} queries/s, the search's maximum (raise --search-max) ({})", o.target, o.line())
        }
        Some(o) => format!("{:.0} queries/s ({})", o.target, o.line()),
        None => format!("none (not even {} queries/s)", args.search_start),
    };
    println!("highest lossless rate, prober:  {}", show(&best_prober));
    match (&best_dnsperf, perf.is_some()) {
        (_, false) => println!("highest lossless rate, dnsperf: not measured ({:?} not found)", args.dnsperf),
        (best, true) => println!("highest lossless rate, dnsperf: {}", show(best)),
    }
    if let (Some(p), Some(d)) = (&best_prober, &best_dnsperf) {
        println!("lossless rate ratio prober/dnsperf: {:.3}", p.target / d.target);
    }
    Ok(())
}

/// Double from `--search-start` until a step fails, then bisect; the best sustained outcome.
/// `step(rate)` returns `None` when the tool cannot run.
async fn search<F, Fut>(args: &Args, who: &str, mut step: F) -> anyhow::Result<Option<Outcome>>
where
    F: FnMut(f64) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<Outcome>>>,
{
    let mut try_rate = |rate: f64| {
        let fut = step(rate);
        async move {
            let outcome = fut.await?;
            if let Some(o) = &outcome {
                println!("  {who:<7} {rate:>9.0} queries/s: {} -> {}", o.line(), if o.sustained() { "sustained" } else { "NOT sustained" });
            }
            // Let the server's socket buffers drain before the next step.
            tokio::time::sleep(Duration::from_millis(300)).await;
            anyhow::Ok(outcome)
        }
    };
    let mut best: Option<Outcome> = None;
    let mut failed_at: Option<f64> = None;
    let mut rate = args.search_start;
    loop {
        let Some(o) = try_rate(rate).await? else { return Ok(None) };
        if o.sustained() {
            best = Some(o);
            if rate >= args.search_max {
                break;
            }
            rate = (rate * 2.0).min(args.search_max);
        } else {
            failed_at = Some(rate);
            break;
        }
    }
    let Some(mut high) = failed_at else { return Ok(best) };
    // Even the first rate failed: halve a few times to find one that holds.
    let mut low = match &best {
        Some(b) => b.target,
        None => {
            let mut r = high / 2.0;
            loop {
                if r < args.search_start / 64.0 {
                    return Ok(None);
                }
                let Some(o) = try_rate(r).await? else { return Ok(None) };
                if o.sustained() {
                    best = Some(o);
                    break r;
                }
                high = r;
                r /= 2.0;
            }
        }
    };
    for _ in 0..8 {
        if high <= low * (1.0 + args.search_precision) {
            break;
        }
        let mid = ((low + high) / 2.0).round();
        let Some(o) = try_rate(mid).await? else { break };
        if o.sustained() {
            low = mid;
            best = Some(o);
        } else {
            high = mid;
        }
    }
    Ok(best)
}

async fn run_prober(
    server: SocketAddr,
    names: &[String],
    rate: f64,
    duration: Duration,
    timeout: Duration,
) -> anyhow::Result<ProbeRun> {
    let mut config = ProberConfig::new(server, names.to_vec());
    config.rate_per_name = rate / names.len() as f64;
    config.timeout = timeout;
    let run_start = config.clock.now();
    let prober = Prober::start(config, run_start).await?;
    tokio::time::sleep(duration).await;
    Ok(prober.stop().await)
}

fn prober_outcome(run: &ProbeRun, target: f64) -> Outcome {
    let st = &run.stats;
    Outcome {
        target,
        sent: st.sent,
        answered: st.answered,
        lost: st.sent.saturating_sub(st.answered),
        secs: st.elapsed.as_secs_f64(),
    }
}

/// Print the prober's head-to-head numbers and the verdict against the goal.
fn report_prober(run: &ProbeRun, o: &Outcome, served: u64) {
    let st = &run.stats;
    let h = &run.latency_us;
    println!("prober:   {}", o.line());
    println!(
        "          {} sent, {} answered, {} served, {} timeouts, {} late, {} send errors, skipped sends {}",
        st.sent, st.answered, served, st.timeouts, st.late, st.send_errors, st.skipped
    );
    println!(
        "          latency p50 {} us, p90 {} us, p99 {} us, max {} us",
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.9),
        h.value_at_quantile(0.99),
        h.max()
    );
    println!("          target {} queries/s {}", o.target, verdict(o));
    let p99 = h.value_at_quantile(0.99);
    let mut missed = Vec::new();
    if o.goodput() < GOAL_QPS * MIN_GOODPUT_SHARE {
        missed.push(format!("goodput {:.1} answered/s is below {GOAL_QPS}", o.goodput()));
    }
    if o.loss() > MAX_LOSS {
        missed.push(format!("loss {:.3}% is above {:.1}%", 100.0 * o.loss(), 100.0 * MAX_LOSS));
    }
    if p99 >= GOAL_P99_US {
        missed.push(format!("p99 {p99} us is not below {GOAL_P99_US} us"));
    }
    println!(
        "goal (>= {GOAL_QPS} answered queries/s, loss <= {:.1}%, p99 < 5 ms): {}",
        100.0 * MAX_LOSS,
        if missed.is_empty() { "met".to_string() } else { format!("NOT met: {}", missed.join("; ")) }
    );
}

fn verdict(o: &Outcome) -> String {
    if o.sustained() {
        "sustained".to_string()
    } else {
        format!(
            "NOT sustained (goodput {:.1}% of it, loss {:.3}%)",
            100.0 * o.goodput() / o.target,
            100.0 * o.loss()
        )
    }
}

/// How to run dnsperf against the data plane.
struct Dnsperf {
    bin: String,
    server: SocketAddr,
    queries: PathBuf,
    outstanding: u32,
    timeout: Duration,
}

impl Dnsperf {
    /// Run dnsperf at `rate` for `duration`; `None` when it is not installed.
    async fn run(&self, rate: f64, duration: Duration, show: bool) -> anyhow::Result<Option<DnsperfRun>> {
        let mut cmd = Command::new(&self.bin);
        cmd.args(["-s", &self.server.ip().to_string(), "-p", &self.server.port().to_string()])
            .arg("-d")
            .arg(&self.queries)
            .args(["-l", &format!("{:.3}", duration.as_secs_f64())])
            .args(["-Q", &format!("{}", rate.round() as u64)])
            .args(["-q", &self.outstanding.to_string()])
            .args(["-t", &format!("{:.3}", self.timeout.as_secs_f64())]);
        if show {
            println!("running: {cmd:?}");
        }
        // dnsperf blocks; run it off the runtime so the data plane keeps answering.
        let out = match tokio::task::spawn_blocking(move || cmd.output()).await? {
            Ok(out) => out,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let text = String::from_utf8_lossy(&out.stdout);
        anyhow::ensure!(
            out.status.success(),
            "dnsperf {} failed ({}): {}{} (hint: run the command above by hand)",
            self.bin,
            out.status,
            text,
            String::from_utf8_lossy(&out.stderr)
        );
        parse_dnsperf(&text, rate, self.queries.as_path()).map(Some)
    }
}

/// dnsperf's statistics block: counts, run time and latency.
fn parse_dnsperf(text: &str, target: f64, queries: &Path) -> anyhow::Result<DnsperfRun> {
    let field = |label: &str| -> Option<&str> { text.lines().find_map(|l| l.trim().strip_prefix(label)).map(str::trim) };
    let number = |s: &str| {
        s.split(|c: char| !(c.is_ascii_digit() || c == '.')).find(|t| !t.is_empty()).and_then(|t| t.parse::<f64>().ok())
    };
    let count = |label: &str| -> anyhow::Result<u64> {
        field(label).and_then(number).map(|n| n as u64).ok_or_else(|| {
            anyhow::anyhow!(
                "dnsperf's output (queries from {}) has no {label:?} line (hint: dnsperf 2.x prints it; check its version): {text}",
                queries.display()
            )
        })
    };
    let sent = count("Queries sent:")?;
    let answered = count("Queries completed:")?;
    let lost = count("Queries lost:")?;
    let secs = field("Run time (s):").and_then(number).unwrap_or(0.0);
    let latency = field("Average Latency (s):").unwrap_or("");
    // "0.000080 (min 0.000020, max 0.001234)"
    let parts: Vec<f64> =
        latency.split(|c: char| !(c.is_ascii_digit() || c == '.')).filter_map(|t| t.parse().ok()).collect();
    Ok(DnsperfRun {
        outcome: Outcome { target, sent, answered, lost, secs },
        avg_us: parts.first().copied().unwrap_or(0.0) * 1e6,
        min_us: parts.get(1).copied().unwrap_or(0.0) * 1e6,
        max_us: parts.get(2).copied().unwrap_or(0.0) * 1e6,
        stddev_us: field("Latency StdDev (s):").and_then(number).unwrap_or(0.0) * 1e6,
    })
}
