//! The prober of a simulated run: the same schedule and the same DNS code path as the real one
//! (a query packet, the data plane's reply, the reply decoded), without a socket, on the run's
//! clock, so that a paused tokio clock runs it in virtual time. Answers are therefore computed
//! from the zone table the mirror keeps from the truth log, exact to the change.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::prober::{latency_histogram, ProbeRun, ProbeStats, ProberConfig};
use super::record::{Outcome, ProbeRecord};
use super::wire;
use crate::dataplane::ZoneTable;
use crate::error::Result;
use crate::model::zone_normalize;

/// How long a simulated query takes (the loopback round trip the real prober measures, about).
const SIMULATED_RTT: Duration = Duration::from_micros(150);

/// A running simulated prober.
pub struct SimProber {
    stop: watch::Sender<bool>,
    task: JoinHandle<Vec<ProbeRecord>>,
    started: Instant,
    config: ProberConfig,
}

impl SimProber {
    /// Probe `config.names` against `table` on `config.clock`; times are ms since `run_start`;
    /// weighted picks draw from `seed`.
    pub fn start(config: ProberConfig, table: ZoneTable, run_start: Instant, seed: u64) -> Result<SimProber> {
        let period = Duration::from_secs_f64(1.0 / config.rate_per_name);
        let mut probes = Vec::new();
        let n = config.names.len().max(1) as u32;
        for (i, name) in config.names.iter().enumerate() {
            let qname = wire::parse_name(name)?;
            let templates = config
                .kinds
                .iter()
                .map(|kind| Ok((*kind, wire::query_template(&qname, wire::record_type(*kind)?)?)))
                .collect::<Result<Vec<_>>>()?;
            probes.push((zone_normalize(name), templates, period * i as u32 / n));
        }
        let (stop, mut stopped) = watch::channel(false);
        let clock = config.clock.clone();
        let started = clock.now();
        let task = tokio::spawn(async move {
            let mut out = Vec::new();
            // Next send per name, and its turn among its types.
            let mut next: Vec<(Instant, usize)> = probes.iter().map(|(_, _, offset)| (started + *offset, 0)).collect();
            let mut draws = 0u64;
            loop {
                let Some((i, due)) = next.iter().enumerate().map(|(i, (t, _))| (i, *t)).min_by_key(|(i, t)| (*t, *i)) else { break };
                // Biased: a stop ends the probing even when a send is due at the same moment.
                tokio::select! {
                    biased;
                    _ = stopped.changed() => break,
                    _ = tokio::time::sleep_until(due) => {}
                }
                let (name, templates, _) = &probes[i];
                let (kind, template) = &templates[next[i].1 % templates.len()];
                draws += 1;
                let random = crate::seeds::unit(crate::seeds::nth(seed, draws));
                let packet = wire::with_id(template, (draws & 0xffff) as u16);
                let outcome = table.respond(&packet, random).and_then(|bytes| wire::decode(&bytes)).map(|r| r.outcome).unwrap_or(Outcome::Timeout);
                out.push(ProbeRecord {
                    t_ms: due.saturating_duration_since(run_start).as_millis() as u64,
                    name: name.clone(),
                    qtype: *kind,
                    outcome,
                    latency_us: SIMULATED_RTT.as_micros() as u64,
                });
                next[i] = (due + period, next[i].1 + 1);
            }
            out
        });
        Ok(SimProber { stop, task, started, config })
    }

    /// Stop probing and return what was recorded (written to `jsonl` when the config names one).
    pub async fn stop(self) -> ProbeRun {
        let _ = self.stop.send(true);
        let records = self.task.await.unwrap_or_default();
        let mut latency_us = latency_histogram();
        for r in &records {
            if !matches!(r.outcome, Outcome::Timeout) {
                let _ = latency_us.record(r.latency_us);
            }
        }
        let mut jsonl_error = None;
        if let Some(path) = &self.config.jsonl {
            use std::io::Write;
            let written = std::fs::File::create(path).and_then(|f| {
                let mut w = std::io::BufWriter::new(f);
                for r in &records {
                    writeln!(w, "{}", serde_json::to_string(r).expect("probe record is json"))?;
                }
                w.flush()
            });
            jsonl_error = written.err().map(|e| e.to_string());
        }
        let answered = records.iter().filter(|r| !matches!(r.outcome, Outcome::Timeout)).count() as u64;
        let stats = ProbeStats {
            sent: records.len() as u64,
            answered,
            timeouts: records.len() as u64 - answered,
            elapsed: self.config.clock.since(self.started),
            jsonl_error,
            ..ProbeStats::default()
        };
        ProbeRun { records, latency_us, stats }
    }
}
