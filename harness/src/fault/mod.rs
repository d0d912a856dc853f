//! Faults (being written).

pub mod gateway;
