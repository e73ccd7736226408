//! How good colt-ir's schedule space is, measured through colt-measure: for
//! each workload, the naive kernel, the best and median of N random
//! candidates of the uniform and of the informed sampler (for this
//! machine), and
//! hand-picked candidates (what the search should find), and on gemm-512
//! OpenBLAS's `cblas_sgemm` in the same run.
//!
//! ```text
//! cargo bench -p colt-measure --bench space                  # the suite, 16 random candidates each
//! cargo bench -p colt-measure --bench space -- gemm-512 64   # one workload, 64 candidates
//! ```
//!
//! Every kernel is built, checked against the reference interpreter and
//! timed by a `CpuMeasurer` on all the cores this process may use (2 here):
//! medians of repeats after warm-up. OpenBLAS runs with
//! `OPENBLAS_NUM_THREADS` = the same core count (Debian's
//! `libopenblas-dev`), timed by a small C program the same way. The cost
//! of sampling, lowering and extracting the features of a candidate is
//! printed too.

use colt_ir::schedule::{sketches, Candidate, Edit, Sampler, Target};
use colt_ir::{Program, Size};
use colt_measure::{Builder, CpuConfig, CpuMeasurer, KernelSource, WorkerCommand};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

fn run(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{what} failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

/// OpenBLAS's sgemm on the same 512x512 inputs, median of repeats.
fn time_openblas(dir: &Path, threads: usize) -> Result<f64, String> {
    let source = r#"
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
int main(void) {
  const int n = 512;
  float *a = aligned_alloc(64, n * n * 4), *b = aligned_alloc(64, n * n * 4), *c = aligned_alloc(64, n * n * 4);
  for (int i = 0; i < n * n; i++) { a[i] = (float)(i % 7) * 0.25f - 0.75f; b[i] = (float)(i % 5) * 0.5f - 1.0f; }
  for (int w = 0; w < 3; w++) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
  static double times[1000]; int runs = 0; double total = 0;
  while (runs < 1000 && (runs < 10 || total < 300.0)) {
    double t0 = now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    times[runs] = (now() - t0) * 1e3; total += times[runs]; runs++;
  }
  qsort(times, runs, sizeof(double), cmp);
  printf("%f %s\n", times[runs / 2], openblas_get_corename());
  return 0;
}
"#;
    std::fs::write(dir.join("blas.c"), source).map_err(|e| e.to_string())?;
    run(
        Command::new("cc").args(["-O2", "-o"]).arg(dir.join("blas")).arg(dir.join("blas.c")).arg("-lopenblas"),
        "cc openblas (needs libopenblas-dev)",
    )?;
    let line = run(Command::new(dir.join("blas")).env("OPENBLAS_NUM_THREADS", threads.to_string()), "openblas")?;
    eprintln!("  openblas core: {}", line.split_whitespace().nth(1).unwrap_or("?"));
    line.split_whitespace().next().and_then(|f| f.parse().ok()).ok_or_else(|| "openblas printed no time".into())
}

/// Good schedules of the space, written by hand as edits from the
/// untransformed candidate of a sketch: what the search should find.
fn hand_picked(program: &Arc<Program>) -> Vec<(String, Candidate)> {
    let tile = |stage: &str, axis: &str, f: &[usize]| {
        let list: Vec<String> = f.iter().map(|x| x.to_string()).collect();
        format!("tile(stage=\"{stage}\", axis=\"{axis}\", factors=[{}])", list.join(","))
    };
    let fast = |stage: &str, parallel: usize| {
        vec![
            format!("vectorize(stage=\"{stage}\", lanes=16)"),
            format!("accumulate(stage=\"{stage}\", into=\"registers\")"),
            format!("parallel(stage=\"{stage}\", loops={parallel})"),
            format!("unroll(stage=\"{stage}\", depth=64)"),
        ]
    };
    let elementwise = |stage: &str, axis: &str, parallel: usize| {
        vec![
            tile(stage, axis, &[1, 1, 32]),
            format!("vectorize(stage=\"{stage}\", lanes=16)"),
            format!("parallel(stage=\"{stage}\", loops={parallel})"),
        ]
    };
    let matmul = |stage: &str, rows: (&str, [usize; 3]), cols: (&str, [usize; 3]), red: (&str, usize)| {
        let mut e = vec![tile(stage, rows.0, &rows.1), tile(stage, cols.0, &cols.1), tile(stage, red.0, &[red.1])];
        e.extend(fast(stage, 1));
        e
    };
    // (label, sketch, edits)
    let configs: Vec<(&str, usize, Vec<String>)> = match program.name() {
        "gemm-512" => vec![
            ("12x32 tile, k=128", 0, matmul("C", ("i", [2, 4, 12]), ("j", [4, 4, 32]), ("k", 128))),
            ("6x64 tile, k=128", 0, matmul("C", ("i", [4, 4, 6]), ("j", [2, 2, 64]), ("k", 128))),
            ("8x48 tile, k=256", 0, matmul("C", ("i", [4, 4, 8]), ("j", [1, 2, 48]), ("k", 256))),
            ("14x32 tile, k=64", 0, matmul("C", ("i", [3, 4, 14]), ("j", [4, 4, 32]), ("k", 64))),
            ("12x32 tile, k=128, B blocked", 0, {
                let mut e = matmul("C", ("i", [2, 4, 12]), ("j", [4, 4, 32]), ("k", 128));
                e.push("pack(stage=\"C\", operand=\"B\", layout=\"blocked\")".into());
                e
            }),
            ("6x64 tile, k=128, B blocked", 0, {
                let mut e = matmul("C", ("i", [4, 4, 6]), ("j", [2, 2, 64]), ("k", 128));
                e.push("pack(stage=\"C\", operand=\"B\", layout=\"blocked\")".into());
                e
            }),
        ],
        "llama3-8b-attn" | "flux-attn" => {
            // S inlined; K packed so that QK vectorises along j; softmax
            // vectorised along rows; O register-tiled along d.
            let mut e = vec![tile("QK", "i", &[1, 2, 8]), tile("QK", "j", &[1, 2, 32]), tile("QK", "d", &[128])];
            e.push("pack(stage=\"QK\", operand=\"K\", layout=\"packed\")".into());
            e.extend(fast("QK", 1));
            e.push("parallel(stage=\"M\", loops=1)".into());
            e.extend(elementwise("E", "j", 1));
            e.push("parallel(stage=\"L\", loops=1)".into());
            e.extend(elementwise("P", "j", 1));
            e.extend([tile("O", "i", &[1, 2, 8]), tile("O", "d", &[1, 2, 32]), tile("O", "j", &[128])]);
            e.extend(fast("O", 1));
            let sketch = 6; // inline(S)
            vec![("row-wise softmax, 8x32 tiles", sketch, e)]
        }
        "deepseek-r1-moe" | "llama4-scout-mlp" => {
            let mut e = matmul("G", ("t", [1, 1, 8]), ("f", [1, 2, 32]), ("h", 256));
            e.extend(matmul("U", ("t", [1, 1, 8]), ("f", [1, 2, 32]), ("h", 256)));
            e.extend(elementwise("H", "f", 1));
            e.extend(matmul("Y", ("t", [1, 1, 8]), ("h", [1, 2, 32]), ("f", 256)));
            vec![("8x32 tiles, H not inlined", 1, e)]
        }
        "flux-conv" => {
            let mut e = vec![tile("Yc", "co", &[1, 2, 8]), tile("Yc", "x", &[1, 1, 32]), tile("Yc", "ci", &[128])];
            e.push("pack(stage=\"Yc\", operand=\"X\", layout=\"packed\")".into());
            e.extend(fast("Yc", 2));
            e.extend(elementwise("Y", "x", 2));
            vec![("X packed with its padding, 8x32 tiles", 0, e)]
        }
        _ => Vec::new(),
    };
    let all = sketches(program);
    configs
        .into_iter()
        .filter_map(|(label, sketch, edits)| {
            let mut c = Candidate::initial(program.clone(), all.get(sketch)?.clone());
            for text in &edits {
                match Edit::parse(text).map_err(|e| e.to_string()).and_then(|e| e.apply(&c).map_err(|e| e.to_string()))
                {
                    Ok(next) => c = next,
                    Err(err) => {
                        eprintln!("  hand-picked `{label}`: {err}");
                        return None;
                    }
                }
            }
            Some((label.to_string(), c))
        })
        .collect()
}

fn gflops(program: &Program, ms: f64) -> f64 {
    program.flops() as f64 / (ms * 1e-3) / 1e9
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let workloads: Vec<String> = match args.first() {
        Some(w) => w.split(',').map(str::to_string).collect(),
        None => colt_ir::SUITE.iter().map(|w| w.name.to_string()).collect(),
    };
    let count: u64 = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(16);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let worker = WorkerCommand::new(env!("CARGO_BIN_EXE_colt-measure-worker"));
    let mut measurer = CpuMeasurer::new(Arc::new(Builder::system()), worker, CpuConfig::default());
    let cores = measurer.config().cores.len();
    println!("{cores} cores");
    let samplers = [("uniform", Sampler::Uniform), ("informed", Sampler::Informed(measurer.config().machine()))];
    println!("samplers: {}", samplers.map(|(_, s)| s.to_string()).join(", "));
    println!(
        "| workload | naive ms | sampler | best of {count} ms | GFLOP/s | speedup | median of {count} ms | failed |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut notes = Vec::new();
    for name in &workloads {
        let program = Arc::new(colt_ir::load_workload(name, Size::Bench).expect("a workload"));
        let naive = measurer.measure(&program, &KernelSource::naive(&program)).expect("the naive kernel measures");
        let naive_ms = naive.timing.median_ms;
        for (label, sampler) in samplers {
            let mut times: Vec<(f64, u64)> = Vec::new();
            let mut failed = 0;
            for seed in 0..count {
                let c = sampler.sample(program.clone(), Target::Cpu, seed);
                match measurer.measure(&program, &KernelSource::candidate(&c)) {
                    Ok(m) => times.push((m.timing.median_ms, seed)),
                    Err(e) => {
                        failed += 1;
                        eprintln!("  {name} {label} seed {seed}: {e}");
                    }
                }
            }
            times.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (best_ms, best_seed) = times.first().copied().unwrap_or((f64::NAN, 0));
            let median_ms = times.get(times.len() / 2).map_or(f64::NAN, |t| t.0);
            println!(
                "| {name} | {naive_ms:.3} | {label} | {best_ms:.3} (seed {best_seed}) | {:.1} | {:.1}x | {median_ms:.3} | {failed} |",
                gflops(&program, best_ms),
                naive_ms / best_ms
            );
            // What the search does per candidate: sample, then lower and
            // extract features.
            let samples = 100;
            let start = std::time::Instant::now();
            let candidates: Vec<Candidate> =
                (0..samples).map(|seed| sampler.sample(program.clone(), Target::Cpu, 1000 + seed)).collect();
            let sampling = start.elapsed().as_secs_f64() * 1e3 / samples as f64;
            let start = std::time::Instant::now();
            for c in &candidates {
                std::hint::black_box(colt_ir::features::features(c));
            }
            notes.push(format!(
                "{name} {label}: per candidate (mean of {samples}): sampling {sampling:.3} ms, lowering + features {:.3} ms",
                start.elapsed().as_secs_f64() * 1e3 / samples as f64
            ));
        }
        let blas = if name == "gemm-512" { Some(time_openblas(dir.path(), cores)) } else { None };
        for (label, c) in hand_picked(&program) {
            match measurer.measure(&program, &KernelSource::candidate(&c)) {
                Ok(m) => {
                    let t = m.timing;
                    let vs = match &blas {
                        Some(Ok(b)) => format!(", {:.0}% of OpenBLAS", 100.0 * b / t.median_ms),
                        _ => String::new(),
                    };
                    notes.push(format!(
                        "{name} hand-picked {label}: {:.3} ms (min {:.3}, max {:.3}, {} runs), {:.1} GFLOP/s, {:.1}x naive{vs}",
                        t.median_ms,
                        t.min_ms,
                        t.max_ms,
                        t.runs,
                        gflops(&program, t.median_ms),
                        naive_ms / t.median_ms
                    ));
                }
                Err(e) => notes.push(format!("{name} hand-picked {label}: failed: {e}")),
            }
        }
        match blas {
            Some(Ok(ms)) => notes
                .push(format!("gemm-512 OpenBLAS ({cores} threads): {ms:.3} ms, {:.1} GFLOP/s", gflops(&program, ms))),
            Some(Err(e)) => notes.push(format!("OpenBLAS: {e}")),
            None => {}
        }
    }
    for n in notes {
        println!("\n{n}");
    }
}
