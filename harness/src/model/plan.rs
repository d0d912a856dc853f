//! Plans: a numbered set of load balancers with weights, shared by every endpoint.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

/// A load balancer behind the service: one IPv4 and one IPv6 address, in one AZ.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LoadBalancer {
    /// Stable id, e.g. `lb-07`; used in record names and set identifiers.
    pub id: String,
    /// The availability zone it lives in, e.g. `use1-az1`.
    pub az: String,
    pub ipv4: Ipv4Addr,
    pub ipv6: Ipv6Addr,
}

/// A load balancer in a plan, with its weight (1..=255).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub lb: LoadBalancer,
    pub weight: u8,
}

/// One generation of the Planner's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub generation: u64,
    pub members: Vec<Member>,
    /// Milliseconds since the run started, when the Planner emitted it.
    pub emitted_ms: u64,
    /// The plan must not be applied after this (run milliseconds). Used by `revalidating`
    /// and by `fenced`'s "in flight" rule; legacy ignores it, as the 2025 code did.
    pub valid_until_ms: u64,
}

impl Plan {
    pub fn ipv4s(&self) -> Vec<Ipv4Addr> {
        self.members.iter().map(|m| m.lb.ipv4).collect()
    }

    pub fn ipv6s(&self) -> Vec<Ipv6Addr> {
        self.members.iter().map(|m| m.lb.ipv6).collect()
    }
}
