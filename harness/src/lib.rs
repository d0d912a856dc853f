//! dnschaos: a chaos and fault-injection harness for Route 53 DNS enactors.
//!
//! Data flows one way: scenario -> backend up -> planner + enactors run -> faults fire ->
//! probes record -> analysis -> reports. See ARCHITECTURE.md for the code map.

pub mod analysis;
pub mod answer;
pub mod enactor;
pub mod backend;
pub mod clock;
pub mod commands;
pub mod conformance;
pub mod dataplane;
pub mod error;
pub mod events;
pub mod explore;
pub mod fault;
pub mod model;
pub mod paths;
pub mod planner;
pub mod probe;
pub mod report;
pub mod route53;
pub mod runner;
pub mod scenario;
pub mod seeds;
pub mod session;
pub mod summary;
pub mod truth;
pub mod world;

pub use error::{Error, Result};
