//! The roofline bound: the least time a program's necessary work takes on
//! a machine whose limits were measured. No kernel of the program beats it,
//! so a kernel's *share* of it (bound / measured time, at most about 1)
//! says how much is left to find.
//!
//! - Compute: each necessary operation at its measured cost in FMA slots
//!   (a MAC is one slot; adds, maxes, divisions, `exp`s and `sqrt`s cost
//!   [`OpCosts`](crate::limits::OpCosts) slots each), and one slot takes
//!   `2 / peak_flops_per_s` seconds, since the peak counts an FMA as 2 FLOPs.
//! - Memory: the necessary bytes (inputs read once, outputs written once) at
//!   the read bandwidth of the innermost level that holds them all, memory
//!   when no cache does.
//! - The bound is the larger of the two: at best they overlap completely.

use crate::limits::MachineLimits;
use colt_ir::work::NecessaryWork;
use serde::{Deserialize, Serialize};

/// A program's roofline bound on one machine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bound {
    /// The larger of `compute_seconds` and `memory_seconds`.
    pub seconds: f64,
    /// The necessary operations at the measured peak and operation costs.
    pub compute_seconds: f64,
    /// The necessary bytes at the bandwidth of `level`.
    pub memory_seconds: f64,
    /// The memory level the necessary bytes fit in (`L2`, `memory`, ...).
    pub level: String,
}

impl Bound {
    /// The bound's share of a measured latency: 1.0 means the kernel runs at
    /// the bound. Not finite when the latency is not positive.
    pub fn share(&self, measured_ms: f64) -> f64 {
        self.seconds * 1e3 / measured_ms
    }

    pub fn milliseconds(&self) -> f64 {
        self.seconds * 1e3
    }
}

impl MachineLimits {
    /// The roofline bound of `work` on this machine (see the [module
    /// docs](self)).
    pub fn bound(&self, work: &NecessaryWork) -> Bound {
        let c = &self.op_cost;
        let slots = work.macs
            + work.adds * c.add
            + work.maxes * c.max
            + work.divs * c.div
            + work.exps * c.exp
            + work.sqrts * c.sqrt;
        let compute_seconds = slots * 2.0 / self.peak_flops_per_s;
        let fits = self.levels.iter().find(|l| l.bytes.is_some_and(|b| work.bytes <= b));
        // The last level is memory; a list without one still bounds by its
        // outermost level rather than inventing a bandwidth.
        let level = fits.or(self.levels.last());
        let (name, bandwidth) = match level {
            Some(l) => (l.name.clone(), l.read_bytes_per_s),
            None => ("memory".to_string(), f64::INFINITY),
        };
        let memory_seconds = work.bytes as f64 / bandwidth;
        Bound { seconds: compute_seconds.max(memory_seconds), compute_seconds, memory_seconds, level: name }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{MemoryLevel, OpCosts};

    /// 100 GFLOP/s (an FMA slot is 20 ps), L1 32 KiB at 1 TB/s, L2 1 MiB at
    /// 400 GB/s, memory at 20 GB/s.
    fn limits() -> MachineLimits {
        let level = |name: &str, bytes: Option<u64>, gbs: f64| MemoryLevel {
            name: name.to_string(),
            bytes,
            read_bytes_per_s: gbs * 1e9,
        };
        MachineLimits {
            label: "cpu:test".to_string(),
            cores: 2,
            peak_flops_per_s: 100e9,
            op_cost: OpCosts { add: 1.0, max: 2.0, div: 8.0, exp: 20.0, sqrt: 10.0 },
            levels: vec![
                level("L1d", Some(32 << 10), 1000.0),
                level("L2", Some(1 << 20), 400.0),
                level("memory", None, 20.0),
            ],
            measured_at: 0,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs()
    }

    #[test]
    fn compute_bound_work_costs_its_slots_at_peak() {
        let work = NecessaryWork {
            macs: 1e9,
            adds: 1e6,
            maxes: 1e6,
            divs: 1e6,
            exps: 1e6,
            sqrts: 1e6,
            bytes: 3 * 512 * 512 * 4,
        };
        let bound = limits().bound(&work);
        // 1e9 + 1e6·(1 + 2 + 8 + 20 + 10) = 1.041e9 slots of 20 ps.
        assert!(close(bound.compute_seconds, 1.041e9 * 2.0 / 100e9));
        // 3 MiB fits no cache: memory at 20 GB/s.
        assert_eq!(bound.level, "memory");
        assert!(close(bound.memory_seconds, 3.0 * 512.0 * 512.0 * 4.0 / 20e9));
        assert_eq!(bound.seconds, bound.compute_seconds);
        assert!(close(bound.share(2.0 * bound.milliseconds()), 0.5));
    }

    #[test]
    fn bytes_go_at_the_bandwidth_of_the_innermost_level_holding_them() {
        let limits = limits();
        let at = |bytes: u64| limits.bound(&NecessaryWork { bytes, ..NecessaryWork::default() });
        assert_eq!(at(32 << 10).level, "L1d");
        assert!(close(at(32 << 10).seconds, 32768.0 / 1000e9));
        assert_eq!(at((32 << 10) + 1).level, "L2");
        assert!(close(at(1 << 20).memory_seconds, 1048576.0 / 400e9));
        let big = at(1 << 30);
        assert_eq!(big.level, "memory");
        assert!(close(big.seconds, 1073741824.0 / 20e9));
        assert_eq!(big.compute_seconds, 0.0);
    }
}
