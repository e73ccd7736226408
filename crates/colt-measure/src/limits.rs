//! What this machine can do at most, measured: the FP32 FMA peak of the
//! measured cores, the cost of the operations that are not FMAs (exp, max,
//! division, ...) in FMA slots, and the read bandwidth of each cache level
//! and of memory. A kernel's roofline bound ([`MachineLimits::bound`]) is
//! the time its necessary work ([`colt_ir::work::NecessaryWork`]) takes at
//! these limits; reports give each best kernel's share of it.
//!
//! Measured once per hardware label and kept in the tuning database
//! (`colt machine` shows them, `--remeasure` measures again).

use serde::{Deserialize, Serialize};

/// One level of the memory hierarchy as the measured cores see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryLevel {
    /// `L1d`, `L2`, `L3`, `memory`.
    pub name: String,
    /// What all measured cores together can keep at this level (private
    /// caches times the cores, a shared cache once); None for memory.
    pub bytes: Option<u64>,
    /// Read bandwidth of all measured cores together, bytes per second.
    pub read_bytes_per_s: f64,
}

/// The limits of one hardware label on its measured cores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MachineLimits {
    /// The target's label (`cpu:MODEL [FEATURES]`).
    pub label: String,
    /// How many cores ran the probes.
    pub cores: usize,
    /// FP32 FLOP/s of all measured cores with every FMA unit busy
    /// (an FMA counts 2 FLOPs).
    pub peak_flops_per_s: f64,
    /// Cost of one f32 operation, in FMA slots (1.0: as fast as an FMA
    /// instruction, vectorized the way colt's kernels are compiled).
    pub op_cost: OpCosts,
    /// Inner to outer; the last is memory.
    pub levels: Vec<MemoryLevel>,
    /// Unix seconds of the measurement.
    pub measured_at: u64,
}

/// Per-element cost of the operations a kernel computes besides FMAs, in
/// FMA slots (the time of one FMA at peak is 2 / peak_flops_per_s).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpCosts {
    /// add, sub, mul (one slot each on every x86 part colt targets; kept
    /// as a measured figure all the same).
    pub add: f64,
    pub max: f64,
    pub div: f64,
    pub exp: f64,
    pub sqrt: f64,
}
