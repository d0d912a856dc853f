//! Rates over many runs: a failure rate is a count out of a number of runs, given with its 95%
//! Wilson score interval (which stays sensible at 0 and n), never as one lucky run. Pure.

use serde::{Deserialize, Serialize};

/// `k` of `n` runs, with the 95% Wilson interval of the rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub k: u64,
    pub n: u64,
    pub low: f64,
    pub high: f64,
}

impl Rate {
    pub fn of(k: u64, n: u64) -> Rate {
        let (low, high) = wilson(k, n);
        Rate { k, n, low, high }
    }

    /// `3/20 = 15.0% [5.2%, 36.0%]`.
    pub fn describe(&self) -> String {
        let pct = if self.n == 0 { 0.0 } else { 100.0 * self.k as f64 / self.n as f64 };
        format!("{}/{} = {pct:.1}% [{:.1}%, {:.1}%]", self.k, self.n, 100.0 * self.low, 100.0 * self.high)
    }

    /// True when the two intervals share a point.
    pub fn overlaps(&self, other: &Rate) -> bool {
        self.low <= other.high && other.low <= self.high
    }
}

/// The 95% Wilson score interval of `k` successes in `n` trials; `(0, 1)` for `n = 0`.
pub fn wilson(k: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    const Z: f64 = 1.959_963_984_540_054;
    let (n, p) = (n as f64, k as f64 / n as f64);
    let denom = 1.0 + Z * Z / n;
    let centre = (p + Z * Z / (2.0 * n)) / denom;
    let half = Z * ((p * (1.0 - p) / n) + Z * Z / (4.0 * n * n)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_intervals_match_the_textbook() {
        let (lo, hi) = wilson(0, 20);
        assert!(lo == 0.0 && (hi - 0.1611).abs() < 1e-3, "{lo} {hi}");
        let (lo, hi) = wilson(20, 20);
        assert!((lo - 0.8389).abs() < 1e-3 && hi == 1.0, "{lo} {hi}");
        let (lo, hi) = wilson(10, 20);
        assert!((lo - 0.2993).abs() < 1e-3 && (hi - 0.7007).abs() < 1e-3, "{lo} {hi}");
        assert_eq!(Rate::of(3, 20).describe(), "3/20 = 15.0% [5.2%, 36.0%]");
        assert!(Rate::of(0, 20).overlaps(&Rate::of(3, 20)));
        assert!(!Rate::of(0, 50).overlaps(&Rate::of(20, 20)));
    }
}
