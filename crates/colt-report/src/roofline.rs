//! The roofline bound as every report shows it: the time no kernel of the
//! workload can beat on the machine (colt-measure's [`Bound`] of colt-ir's
//! necessary work), and a kernel's share of it. Without the machine's
//! measured limits there is no bound, and reports say so ("—") rather than
//! guess one.

use colt_ir::Program;
use colt_measure::limits::MachineLimits;
pub use colt_measure::Bound;

/// `program`'s bound on the machine of `limits`; None when not measured.
pub fn bound_of(limits: Option<&MachineLimits>, program: &Program) -> Option<Bound> {
    limits.map(|l| l.bound(&program.necessary_work()))
}

/// A kernel's share of the bound (bound / its latency); None when either
/// is missing.
pub fn share_of(bound: Option<&Bound>, best_ms: Option<f64>) -> Option<f64> {
    Some(bound?.share(best_ms?)).filter(|s| s.is_finite())
}

/// `1.234 ms (compute 1.234 ms; memory 0.120 ms, the bytes fitting in L2)`,
/// or `— (this machine's limits are not measured)`.
pub fn describe_bound(bound: Option<&Bound>) -> String {
    match bound {
        Some(b) => format!(
            "{:.3} ms (compute {:.3} ms; memory {:.3} ms, the bytes fitting in {})",
            b.milliseconds(),
            b.compute_seconds * 1e3,
            b.memory_seconds * 1e3,
            b.level
        ),
        None => "— (this machine's limits are not measured)".to_string(),
    }
}

/// `12.3%`, or `—`.
pub fn share_cell(share: Option<f64>) -> String {
    share.map_or_else(|| "—".to_string(), |s| format!("{:.1}%", s * 100.0))
}

/// What a share above 100% means: no kernel beats its bound, so the
/// machine's limits were measured low (under load, most likely); empty
/// for a share at or under the bound.
pub fn above_the_bound(share: Option<f64>) -> &'static str {
    match share {
        Some(s) if s > 1.0 => {
            " (faster than the bound: this machine's limits were measured low, under load perhaps; \
             `colt machine --remeasure` on a quiet machine measures them again)"
        }
        _ => "",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn a_share_above_the_bound_says_the_limits_are_low() {
        assert_eq!(above_the_bound(None), "");
        assert_eq!(above_the_bound(Some(1.0)), "");
        assert!(above_the_bound(Some(1.214)).contains("`colt machine --remeasure`"));
    }
    use colt_measure::limits::{MemoryLevel, OpCosts};

    /// 100 GFLOP/s, every operation one FMA slot but exp (10 slots); a 1 MiB
    /// L2 at 400 GB/s, memory at 20 GB/s.
    pub(crate) fn limits() -> MachineLimits {
        MachineLimits {
            label: "cpu:test".into(),
            cores: 2,
            peak_flops_per_s: 100e9,
            op_cost: OpCosts { add: 1.0, max: 1.0, div: 1.0, exp: 10.0, sqrt: 1.0 },
            levels: vec![
                MemoryLevel { name: "L2".into(), bytes: Some(1 << 20), read_bytes_per_s: 400e9 },
                MemoryLevel { name: "memory".into(), bytes: None, read_bytes_per_s: 20e9 },
            ],
            measured_at: 0,
        }
    }

    #[test]
    fn gemm_512s_bound_is_its_macs_at_peak() {
        let program = colt_ir::builtin("gemm-512").unwrap().program(colt_ir::Size::Bench);
        let bound = bound_of(Some(&limits()), &program).unwrap();
        // 512³ FMAs of 20 ps; 3 MiB from memory at 20 GB/s is 0.157 ms.
        assert!((bound.milliseconds() - 2.68435456).abs() < 1e-9, "{bound:?}");
        assert_eq!(bound.level, "memory");
        assert_eq!(
            describe_bound(Some(&bound)),
            "2.684 ms (compute 2.684 ms; memory 0.157 ms, the bytes fitting in memory)"
        );
        assert_eq!(share_cell(share_of(Some(&bound), Some(2.68435456 * 4.0))), "25.0%");
        assert!(bound_of(None, &program).is_none());
        assert_eq!(share_cell(share_of(None, Some(1.0))), "—");
        assert_eq!(share_cell(share_of(Some(&bound), None)), "—");
    }
}
