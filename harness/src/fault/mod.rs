//! Faults: the Route 53 fault gateway (`gateway`), and the fault timeline (`timeline`) with its
//! actors, one file per family. The vocabulary (kinds, operations, errors) is the plans' own,
//! `scenario::vocab`.

mod actor;
mod api;
mod az_loss;
mod backend;
mod contention;
mod enactor;
pub mod gateway;
mod planner;
pub mod timeline;

pub use planner::out_of_order_filter;
pub use actor::FaultCtx;
