//! Faults: the vocabulary plans use (`vocab`), the Route 53 fault gateway (`gateway`), and the
//! fault timeline (`timeline`) with its actors, one file per family.

mod api;
mod az_loss;
mod backend;
mod contention;
mod enactor;
pub mod gateway;
mod planner;
pub mod timeline;
pub mod vocab;

pub use backend::RESTART_REFUSED;
pub use planner::out_of_order_filter;
pub use timeline::FaultCtx;
