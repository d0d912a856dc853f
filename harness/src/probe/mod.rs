//! The DNS prober: asks for every configured name continuously and records every outcome, the
//! health signal the analysis works from.
//!
//! # Design
//! - **One socket and one task per name.** The task paces its sends on a fixed schedule
//!   ([`ProberConfig::rate_per_name`], default 100 queries/s per name, A and AAAA in turn, so
//!   50/s each), keeps the queries in flight in a map by DNS id, and matches each response by
//!   id *and* question. Ids are sequential from a random start and never reused while in
//!   flight. Any number of probes may be in flight.
//! - **Timeouts** ([`ProberConfig::timeout`], default 500 ms) come from one deadline queue per
//!   name (all timeouts are equal, so send order is deadline order). A response that arrives
//!   after its query timed out is counted as late ([`ProbeStats::late`]) and the probe stays a
//!   timeout.
//! - **Records** ([`ProbeRecord`]: send time in ms since the run's start, name, type,
//!   [`Outcome`], latency in µs) go over a channel to a recording thread that keeps them in
//!   memory, fills an HDR histogram of answered latencies and, when asked, writes them as JSON
//!   lines. File writes never stall the runtime that times the probes.
//! - **Classification** is a pure function of an outcome and two address sets: [`classify`]
//!   returns a [`ProbeClass`]. Beyond the six classes of the issue (current, stale, empty,
//!   nxdomain, servfail, timeout) it has `foreign`: addresses that belong to no plan ever
//!   applied, a wrong answer rather than a late one.
//! - **The caching view** ([`cached_view`]) replays the authoritative answers through a model
//!   resolver cache honouring TTLs and negative TTLs, to show what clients would have seen.
//!
//! The prober asks over UDP only and does not retry truncated answers over TCP; it advertises
//! a 1232-byte EDNS buffer, enough for about 70 addresses, and counts truncated answers.

mod cache;
mod prober;
mod record;
mod sim;
mod wire;

pub use cache::{cached_view, CachedProbe};
pub use prober::{latency_histogram, query, ProbeRun, ProbeStats, Prober, ProberConfig};
pub use sim::SimProber;
pub use record::{classify, Outcome, ProbeClass, ProbeRecord};
