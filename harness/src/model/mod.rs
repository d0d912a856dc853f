//! The data model of the system under test: plans, load balancers, endpoints and the names of
//! their records in Route 53. Pure data; no IO.

pub mod duration;
mod names;
mod plan;
mod roles;
mod zone;

pub use duration::Dur;
pub use names::{Endpoint, RecordKind, DEFAULT_TTL};
pub use plan::{LoadBalancer, Member, Plan};
pub use roles::{az_name, outside_name_problem, serde_implementations, EnactorKind, OutsideEnactor, Point, AZS};
pub use zone::{normalize as zone_normalize, RecordSet, RrKind, ZoneSnapshot};
