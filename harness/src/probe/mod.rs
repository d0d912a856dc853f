//! DNS prober (being written).
