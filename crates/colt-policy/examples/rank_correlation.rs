//! How well the cost model ranks real candidates as measurements arrive.
//!
//! For each workload: measures `--holdout` random candidates (the test set)
//! and `--train` more (the training stream) with colt-measure's
//! `CpuMeasurer`, then reports Spearman's ρ between predicted throughput and
//! measured throughput on the test set for the prior alone and after 8, 16,
//! 32 and 64 training measurements. The figures are means over `--splits`
//! random splits of the measured candidates into test set and training
//! stream (one split of 32 is noisy). Measurements are saved under
//! `$TMPDIR/colt-policy-rank-correlation/<workload>.json` and reused by
//! later runs (`--fresh` measures again).
//!
//! ```text
//! cargo build --release -p colt-measure --bin colt-measure-worker
//! cargo run --release -p colt-policy --example rank_correlation -- gemm-512 flux-conv
//! ```
//! (with `CARGO_TARGET_DIR` set the same way for both). The worker is found
//! next to the example's directory (`target/release/`), or at
//! `--worker PATH`. With `--opencl`, the candidates come from the OpenCL
//! schedule space and are measured on the first OpenCL device (pocl on a
//! CPU-only machine), so the same figures show the cost model there.

use colt_ir::features::Features;
use colt_ir::schedule::{Candidate, Target};
use colt_measure::opencl::{DeviceChoice, OpenClConfig, OpenClDevice, OpenClKernel, OpenClMeasurer};
use colt_measure::{
    affinity, ArtifactCache, Builder, Compiler, CpuConfig, CpuMeasurer, KernelSource, RunPlan, TimingGate,
    WorkerCommand,
};
use colt_policy::cost::{spearman, CostModel, Roofline};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHECKPOINTS: [usize; 4] = [8, 16, 32, 64];

fn main() {
    let mut args = std::env::args().skip(1);
    let mut workloads = Vec::new();
    let (mut train, mut holdout, mut worker) = (64usize, 32usize, None::<PathBuf>);
    let (mut splits, mut fresh, mut opencl) = (10usize, false, false);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--train" => train = args.next().and_then(|v| v.parse().ok()).expect("--train N"),
            "--holdout" => holdout = args.next().and_then(|v| v.parse().ok()).expect("--holdout N"),
            "--worker" => worker = args.next().map(PathBuf::from),
            "--splits" => splits = args.next().and_then(|v| v.parse().ok()).expect("--splits N"),
            "--fresh" => fresh = true,
            "--opencl" => opencl = true,
            name => workloads.push(name.to_string()),
        }
    }
    if workloads.is_empty() {
        workloads = vec!["gemm-512".into(), "flux-conv".into()];
    }
    let worker = worker.unwrap_or_else(|| {
        let exe = std::env::current_exe().expect("the example knows its path");
        exe.parent()
            .and_then(|examples| examples.parent())
            .expect("target/<profile>/examples/")
            .join("colt-measure-worker")
    });
    assert!(
        worker.exists(),
        "no worker at {} (build it: cargo build --release -p colt-measure --bin colt-measure-worker)",
        worker.display()
    );
    let cache = std::env::temp_dir().join("colt-policy-rank-correlation");
    let builder = Arc::new(Builder::new(Compiler::system(), ArtifactCache::new(&cache), TimingGate::new()));
    let cores: Vec<usize> = affinity::available_cores();
    let roofline = Roofline { cores: cores.len(), ..Roofline::default() };
    let config = CpuConfig {
        cores,
        plan: RunPlan { warmup_runs: 1, min_runs: 3, min_seconds: 0.05, max_seconds: 0.5 },
        timeout: Duration::from_secs(20),
        seed: colt_ir::data::DEFAULT_SEED,
    };
    let mut measurer = CpuMeasurer::new(builder, WorkerCommand::new(&worker), config.clone());
    let device = opencl.then(|| {
        let device = OpenClDevice::open(&DeviceChoice::default()).unwrap_or_else(|e| panic!("{e}"));
        println!("on OpenCL: {} / {}", device.platform_name, device.name);
        OpenClMeasurer::new(device, OpenClConfig { plan: config.plan.clone(), seed: config.seed })
    });
    let target = if opencl { Target::OpenCl } else { Target::Cpu };

    println!(
        "workload            n=0 (prior)   n=8    n=16   n=32   n=64   (mean Spearman ρ on {holdout} held-out candidates, {splits} splits)"
    );
    for name in &workloads {
        let workload = colt_ir::builtin(name).unwrap_or_else(|| panic!("no workload `{name}`"));
        let program = Arc::new(workload.program(colt_ir::Size::Bench));
        let flops = program.flops() as f64;
        let started = Instant::now();
        // Keyed by the feature count: rows saved with another feature set
        // are measured again rather than misread.
        let saved = cache.join(format!("{name}-{}-{}f.json", target.name(), colt_ir::features::FEATURE_COUNT));
        let mut measured: Vec<(Vec<f32>, f64)> = if fresh {
            Vec::new()
        } else {
            std::fs::read(&saved).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
        };
        // (features, measured throughput) of distinct random candidates.
        let mut fingerprints = std::collections::HashSet::new();
        let mut seed = 0u64;
        while measured.len() < holdout + train {
            let candidate = Candidate::sample_on(program.clone(), target, seed);
            seed += 1;
            let nest = colt_ir::schedule::lower(&candidate);
            if !fingerprints.insert(nest.fingerprint()) {
                continue;
            }
            let result = match &device {
                Some(device) => device.measure(&program, &OpenClKernel::from_nest(&nest)),
                None => measurer.measure(&program, &KernelSource::candidate(&candidate)),
            };
            match result {
                Ok(m) => measured.push((
                    colt_ir::features::features_of(&candidate, &nest).0.to_vec(),
                    flops / (m.timing.median_ms / 1e3),
                )),
                Err(e) => eprintln!("{name}: seed {}: {e}", seed - 1),
            }
            if measured.len() == holdout + train {
                let _ = std::fs::create_dir_all(&cache);
                let _ = std::fs::write(&saved, serde_json::to_vec(&measured).expect("numbers serialise"));
            }
        }
        let measured: Vec<(Features, f64)> = measured
            .into_iter()
            .take(holdout + train)
            .map(|(f, t)| (Features(f.try_into().expect("saved rows have FEATURE_COUNT values")), t))
            .collect();
        let mut sums = [0.0f64; 1 + CHECKPOINTS.len()];
        let mut rng = colt_ir::schedule::Rng::new(1);
        for _ in 0..splits {
            let mut order: Vec<usize> = (0..measured.len()).collect();
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i + 1));
            }
            let (test, stream) = order.split_at(holdout);
            let actual: Vec<f64> = test.iter().map(|&i| measured[i].1).collect();
            let mut model = CostModel::new(roofline.clone());
            let rho = |model: &CostModel| {
                let predicted: Vec<f64> = test.iter().map(|&i| model.predict_ln(&measured[i].0)).collect();
                spearman(&predicted, &actual).unwrap_or(0.0)
            };
            sums[0] += rho(&model);
            let mut k = 1;
            for (n, &i) in stream.iter().enumerate() {
                model.add_measurement(&measured[i].0, measured[i].1);
                if CHECKPOINTS.contains(&(n + 1)) {
                    model.retrain();
                    sums[k] += rho(&model);
                    k += 1;
                }
            }
        }
        let mut row = format!("{name:<18}  {:>11.2}", sums[0] / splits as f64);
        for sum in &sums[1..] {
            row.push_str(&format!("  {:>5.2}", sum / splits as f64));
        }
        let actual: Vec<f64> = measured.iter().map(|(_, t)| *t).collect();
        let best = actual.iter().fold(0.0f64, |a, &b| a.max(b));
        println!(
            "{row}   ({} candidates, {:.0} s, best {:.1} Gflop/s)",
            measured.len(),
            started.elapsed().as_secs_f64(),
            best / 1e9
        );
    }
}
