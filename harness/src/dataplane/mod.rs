//! DNS data plane (being written).
