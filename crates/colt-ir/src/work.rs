//! The work a program needs, whatever its schedule: the operations whose
//! results reach an output (work a mask throws away is not needed) and the
//! bytes that must cross from memory at least once (every input read, every
//! output written). colt-measure's `MachineLimits::bound` turns it into a
//! roofline bound, the time no kernel of the program can beat on a machine.

/// Counts of one run's necessary operations, by kind, and its bytes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NecessaryWork {
    /// Multiply-accumulates (one FMA each; 2 FLOPs).
    pub macs: f64,
    /// Elementwise add, sub and mul (a reduction's `+=` that is not a
    /// multiply-accumulate counts here too).
    pub adds: f64,
    /// `max=` reductions and `max(a, b)`.
    pub maxes: f64,
    pub divs: f64,
    pub exps: f64,
    pub sqrts: f64,
    /// Inputs read once plus outputs written once, in bytes.
    pub bytes: u64,
}
