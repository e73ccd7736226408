//! Timing repeatability: the same kernel measured 10 times in one process
//! (one measurer, one worker), each measurement with the default plan (2
//! warm-up runs, then at least 10 runs and 0.3 s). Prints each
//! measurement's median and the spread `(max - min) / median` of the 10
//! medians, which DESIGN.md wants under 5% on an idle machine.
//!
//! ```text
//! cargo bench -p colt-measure --bench repeatability                 # gemm-512, candidate of seed 1
//! cargo bench -p colt-measure --bench repeatability -- flux-conv 3  # another workload and seed
//! cargo bench -p colt-measure --bench repeatability -- gemm-512 1 1 # on one core only
//! ```

use colt_ir::schedule::Candidate;
use colt_measure::{Builder, CpuConfig, CpuMeasurer, KernelSource, WorkerCommand};
use std::sync::Arc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let workload = args.first().map_or("gemm-512", String::as_str);
    let seed: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let program = Arc::new(colt_ir::builtin(workload).expect("a built-in workload").program(colt_ir::Size::Bench));
    let kernel = KernelSource::candidate(&Candidate::sample(program.clone(), seed));
    let worker = WorkerCommand::new(env!("CARGO_BIN_EXE_colt-measure-worker"));
    let mut config = CpuConfig::default();
    if let Some(cores) = args.get(2).and_then(|s| s.parse::<usize>().ok()) {
        config.cores.truncate(cores.max(1));
    }
    let mut measurer = CpuMeasurer::new(Arc::new(Builder::system()), worker, config);
    println!("{} on cores {:?}", kernel.name, measurer.config().cores);
    let (mut medians, mut minima) = (Vec::new(), Vec::new());
    for i in 0..10 {
        let m = measurer.measure(&program, &kernel).unwrap_or_else(|e| panic!("{e}"));
        let t = m.timing;
        println!(
            "  {i}: median {:.4} ms  min {:.4}  max {:.4}  runs {}  (spread within {:.1}%)",
            t.median_ms,
            t.min_ms,
            t.max_ms,
            t.runs,
            100.0 * t.spread()
        );
        medians.push(t.median_ms);
        minima.push(t.min_ms);
    }
    println!("spread of the 10 medians: {:.2}%", 100.0 * spread(&medians));
    println!("spread of the 10 minima:  {:.2}% (less sensitive to other load on the cores)", 100.0 * spread(&minima));
}

/// `(max - min) / median` of `values`.
fn spread(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
    (sorted[n - 1] - sorted[0]) / median
}
