//! The DNS data plane: an authoritative name server on 127.0.0.1 that answers from hosted-zone
//! snapshots the way Route 53's name servers do, and a mirror that feeds it from the API.
//!
//! LocalStack's community edition stores Route 53 records but answers no DNS for them, and real
//! Route 53 separates the API (control plane) from the name servers (data plane) by a
//! propagation delay. This module is that data plane for any backend.
//!
//! # Design
//! - **One answer function.** Records come from [`crate::answer::resolve`], shared with the
//!   control-plane view, so "what DNS answers" and "what the zone says" cannot disagree. The wire
//!   layer (`respond.rs`) only maps an [`crate::answer::Answer`] onto a message: aliases are
//!   transparent (A/AAAA records owned by the query name, no CNAME) with the leaf's TTL;
//!   NOERROR with no records when an alias target is gone; NXDOMAIN for names that do not exist;
//!   for both negative cases the zone's SOA in the authority section with TTL (and MINIMUM) =
//!   the negative-caching TTL ([`DataPlaneConfig::negative_ttl`], default 60 s); AA set on every
//!   answer from a served zone; REFUSED (AA clear) for names outside every zone and for classes
//!   other than IN.
//! - **Other query types** get NODATA (NOERROR, SOA in authority) when the name exists and
//!   NXDOMAIN when it does not, as Route 53 answers a type the name lacks. No records of other
//!   types are ever returned (the harness only needs A and AAAA); opcodes other than QUERY get
//!   NOTIMP.
//! - **Malformed packets** never panic: a packet with a query header and an unreadable body gets
//!   FORMERR; anything shorter than a header, and any response, is dropped (answering responses
//!   is how reflection loops start). A question count other than one gets FORMERR.
//! - **Weighted sets**: one member by weight, using the n-th number of a SplitMix64 sequence
//!   seeded by [`DataPlaneConfig::seed`] for the n-th query received; or every member with
//!   [`DataPlaneConfig::answer_all`].
//! - **Hand-rolled listeners** (`server.rs`): one tokio task reads the UDP socket and answers
//!   inline (an answer takes microseconds, so a second task would only contend); one accepts TCP
//!   and serves each connection in a task of its own. hickory-server's `Authority` API would
//!   have meant a second answer implementation or an adapter bigger than the loop. UDP answers
//!   larger than the client's buffer (512 bytes, or its EDNS size up to 1232) are truncated
//!   with TC set so that the client retries over TCP.
//! - **Zones are swapped whole** ([`ZoneTable`]): readers take an `Arc` of the current zone set,
//!   publishers build a new set and swap the pointer, so a query sees one snapshot of a zone,
//!   never half of two.
//! - **The mirror** ([`Mirror`]) polls `ListResourceRecordSets` per zone every
//!   [`MirrorConfig::poll_interval`] and publishes each changed snapshot
//!   [`MirrorConfig::propagation_delay`] after its read completed. API errors are logged and
//!   counted, and the last good snapshot stays in service.
//!
//! **Architecture invariant:** nothing here decides an answer; only `answer::resolve` does.

mod mirror;
mod respond;
mod server;
mod zones;

pub use mirror::{Mirror, MirrorConfig, MirrorStats, MirroredZone};
pub use server::{DataPlane, DataPlaneConfig, ServerStats};
pub use zones::ZoneTable;
