//! How good the schedule space is: for each workload, the naive kernel, the
//! best of N random candidates, and (for gemm-512) hand-picked candidates
//! next to OpenBLAS's `cblas_sgemm`, all timed in the same run.
//!
//! ```text
//! cargo bench -p colt-ir --bench space                       # the suite, 16 candidates each
//! cargo bench -p colt-ir --bench space -- gemm-512 64        # one workload, 64 candidates
//! ```
//!
//! Each kernel is compiled alone with the ABI's flags and called by 2
//! threads pinned to cores 0 and 1 (a pthread harness, the stand-in for
//! colt-measure's runner); a timing is the median of repeats after 2
//! warm-up runs (at least 10 runs and 0.3 s). Every kernel's output is
//! checked against the reference interpreter before its time counts. The
//! cost of sampling, lowering and extracting the features of a candidate is
//! printed too.
//! OpenBLAS runs with `OPENBLAS_NUM_THREADS=2` (Debian's `libopenblas-dev`).

use colt_ir::data::{initial_buffers, max_rel_err, DEFAULT_SEED, TOLERANCE};
use colt_ir::schedule::{lower, sketches, Candidate, Edit};
use colt_ir::{interp, BufferRole, Program, Size};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

const FLAGS: &[&str] =
    &["-O3", "-march=native", "-fno-math-errno", "-ffreestanding", "-fno-tree-loop-distribute-patterns"];
const NTASKS: usize = 2;

/// The timing harness: a `main` that runs the kernel on `NTASKS` pinned
/// threads and prints the median, min and max milliseconds, then writes the
/// buffers for the output check.
fn harness(program: &Program, scratch: &[usize]) -> String {
    let n = program.buffers().len();
    let total = n + scratch.len();
    let lens: Vec<String> =
        program.buffers().iter().map(|b| b.len()).chain(scratch.iter().copied()).map(|l| l.to_string()).collect();
    format!(
        r#"
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
typedef void (*colt_barrier_fn)(void *ctx);
void colt_kernel(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);
#define NT {NTASKS}
static pthread_barrier_t kernel_sync, run_sync;
static float *bufs[{total}];
static volatile int stop = 0;
static void wait_all(void *ctx) {{ pthread_barrier_wait((pthread_barrier_t *)ctx); }}
static void pin(int core) {{
  cpu_set_t set; CPU_ZERO(&set); CPU_SET(core, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}}
static void *worker(void *arg) {{
  int task = (int)(long)arg;
  pin(task);
  for (;;) {{
    pthread_barrier_wait(&run_sync);
    if (stop) return 0;
    colt_kernel(bufs, task, NT, wait_all, &kernel_sync);
    pthread_barrier_wait(&run_sync);
  }}
}}
static double now(void) {{ struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }}
static double run_once(void) {{
  double t0 = now();
  pthread_barrier_wait(&run_sync);
  colt_kernel(bufs, 0, NT, wait_all, &kernel_sync);
  pthread_barrier_wait(&run_sync);
  return (now() - t0) * 1e3;
}}
static int cmp(const void *a, const void *b) {{ double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }}
int main(int argc, char **argv) {{
  (void)argc;
  static const long lens[{total}] = {{{lens}}};
  FILE *in = fopen(argv[1], "rb");
  if (!in) return 2;
  for (int i = 0; i < {total}; i++) {{
    bufs[i] = aligned_alloc(64, ((lens[i] * 4 + 63) / 64) * 64);
    if (i >= {n}) continue;
    if (fread(bufs[i], 4, lens[i], in) != (size_t)lens[i]) return 3;
  }}
  fclose(in);
  pin(0);
  pthread_barrier_init(&kernel_sync, 0, NT);
  pthread_barrier_init(&run_sync, 0, NT);
  pthread_t threads[NT];
  for (long t = 1; t < NT; t++) pthread_create(&threads[t], 0, worker, (void *)t);
  run_once(); run_once();
  static double times[1000];
  int runs = 0; double total = 0;
  while (runs < 1000 && (runs < 10 || total < 300.0)) {{ times[runs] = run_once(); total += times[runs]; runs++; }}
  qsort(times, runs, sizeof(double), cmp);
  printf("%f %f %f %d\n", times[runs / 2], times[0], times[runs - 1], runs);
  stop = 1;
  pthread_barrier_wait(&run_sync);
  FILE *out = fopen(argv[2], "wb");
  for (int i = 0; i < {n}; i++) fwrite(bufs[i], 4, lens[i], out);
  fclose(out);
  return 0;
}}
"#,
        lens = lens.join(", ")
    )
}

struct Timing {
    median_ms: f64,
    runs: usize,
}

fn run(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{what} failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

/// Builds, times and checks one kernel.
fn time_kernel(
    program: &Program,
    reference: &[Vec<f32>],
    kernel_c: &str,
    scratch: &[usize],
    dir: &Path,
) -> Result<Timing, String> {
    std::fs::write(dir.join("kernel.c"), kernel_c).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("main.c"), harness(program, scratch)).map_err(|e| e.to_string())?;
    run(
        Command::new("cc").args(FLAGS).args(["-c", "-o"]).arg(dir.join("kernel.o")).arg(dir.join("kernel.c")),
        "cc kernel",
    )?;
    run(
        Command::new("cc")
            .args(["-O2", "-pthread", "-o"])
            .arg(dir.join("bench"))
            .arg(dir.join("main.c"))
            .arg(dir.join("kernel.o")),
        "cc harness",
    )?;
    let inputs = initial_buffers(program, DEFAULT_SEED);
    let bytes: Vec<u8> = inputs.iter().flatten().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(dir.join("in.bin"), bytes).map_err(|e| e.to_string())?;
    let line = run(Command::new(dir.join("bench")).arg(dir.join("in.bin")).arg(dir.join("out.bin")), "kernel")?;
    let fields: Vec<f64> = line.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    let data = std::fs::read(dir.join("out.bin")).map_err(|e| e.to_string())?;
    let mut floats = data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]));
    let actual: Vec<Vec<f32>> = program.buffers().iter().map(|b| floats.by_ref().take(b.len()).collect()).collect();
    for (id, b) in program.buffers_with_role(BufferRole::Output) {
        let err = max_rel_err(&actual[id.0], &reference[id.0]);
        if err.is_nan() || err > TOLERANCE {
            return Err(format!("output {} off by {err}", b.name));
        }
    }
    Ok(Timing { median_ms: fields[0], runs: fields[3] as usize })
}

/// OpenBLAS's sgemm on the same 512x512 inputs, median of repeats.
fn time_openblas(dir: &Path) -> Result<f64, String> {
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
    let line = run(Command::new(dir.join("blas")).env("OPENBLAS_NUM_THREADS", NTASKS.to_string()), "openblas")?;
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
    println!("| workload | naive ms | naive GFLOP/s | best of {count} random ms | GFLOP/s | speedup | failed |");
    println!("|---|---|---|---|---|---|---|");
    let mut notes = Vec::new();
    for name in &workloads {
        let program = Arc::new(colt_ir::load_workload(name, Size::Bench).expect("a workload"));
        let reference = interp::evaluate(&program, DEFAULT_SEED);
        let naive =
            time_kernel(&program, &reference, &colt_ir::c::naive_c(&program), &[], dir.path()).expect("naive kernel");
        let mut best: Option<(f64, u64)> = None;
        let mut failed = 0;
        for seed in 0..count {
            let nest = lower(&Candidate::sample(program.clone(), seed));
            match time_kernel(&program, &reference, &nest.to_c(), &nest.scratch, dir.path()) {
                Ok(t) if best.is_none_or(|(b, _)| t.median_ms < b) => best = Some((t.median_ms, seed)),
                Ok(_) => {}
                Err(e) => {
                    failed += 1;
                    eprintln!("  {name} seed {seed}: {e}");
                }
            }
        }
        let (best_ms, best_seed) = best.unwrap_or((f64::NAN, 0));
        // The cost of what the search does per candidate: sample, lower,
        // extract features.
        let samples = 100;
        let start = std::time::Instant::now();
        let candidates: Vec<Candidate> =
            (0..samples).map(|seed| Candidate::sample(program.clone(), 1000 + seed)).collect();
        let sampling = start.elapsed().as_secs_f64() * 1e3 / samples as f64;
        let start = std::time::Instant::now();
        for c in &candidates {
            std::hint::black_box(colt_ir::features::features(c));
        }
        notes.push(format!(
            "{name}: per candidate (mean of {samples}): sampling {sampling:.3} ms, lowering + features {:.3} ms",
            start.elapsed().as_secs_f64() * 1e3 / samples as f64
        ));
        println!(
            "| {name} | {:.3} | {:.1} | {best_ms:.3} (seed {best_seed}) | {:.1} | {:.1}x | {failed} |",
            naive.median_ms,
            gflops(&program, naive.median_ms),
            gflops(&program, best_ms),
            naive.median_ms / best_ms
        );
        {
            let blas = if name == "gemm-512" { Some(time_openblas(dir.path())) } else { None };
            for (label, c) in hand_picked(&program) {
                let nest = lower(&c);
                match time_kernel(&program, &reference, &nest.to_c(), &nest.scratch, dir.path()) {
                    Ok(t) => {
                        let vs = match &blas {
                            Some(Ok(b)) => format!(", {:.0}% of OpenBLAS", 100.0 * b / t.median_ms),
                            _ => String::new(),
                        };
                        notes.push(format!(
                            "{name} hand-picked {label}: {:.3} ms, {:.1} GFLOP/s, {:.1}x naive ({} runs){vs}",
                            t.median_ms,
                            gflops(&program, t.median_ms),
                            naive.median_ms / t.median_ms,
                            t.runs
                        ));
                    }
                    Err(e) => notes.push(format!("{name} hand-picked {label}: failed: {e}")),
                }
            }
            match blas {
                Some(Ok(ms)) => notes.push(format!(
                    "gemm-512 OpenBLAS ({NTASKS} threads): {ms:.3} ms, {:.1} GFLOP/s",
                    gflops(&program, ms)
                )),
                Some(Err(e)) => notes.push(format!("OpenBLAS: {e}")),
                None => {}
            }
        }
    }
    for n in notes {
        println!("\n{n}");
    }
}
