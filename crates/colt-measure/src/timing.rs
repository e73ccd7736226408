//! A timing: the summary of a kernel's timed runs.

use serde::{Deserialize, Serialize};

/// Milliseconds per run over the timed runs (warm-up excluded).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub min_ms: f64,
    /// The latency colt reports (DESIGN.md: medians of repeats after warm-up).
    pub median_ms: f64,
    pub max_ms: f64,
    pub runs: usize,
}

impl Timing {
    /// `None` when there are no samples.
    pub fn from_samples(samples_ms: &[f64]) -> Option<Timing> {
        let mut sorted = samples_ms.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median_ms = match n {
            0 => return None,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        };
        Some(Timing { min_ms: sorted[0], median_ms, max_ms: sorted[n - 1], runs: n })
    }

    /// `(max - min) / median` of the runs.
    pub fn spread(&self) -> f64 {
        (self.max_ms - self.min_ms) / self.median_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let t = Timing::from_samples(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((t.min_ms, t.median_ms, t.max_ms, t.runs), (1.0, 2.0, 3.0, 3));
        assert_eq!(Timing::from_samples(&[4.0, 1.0, 2.0, 3.0]).unwrap().median_ms, 2.5);
        assert!(Timing::from_samples(&[]).is_none());
    }
}
