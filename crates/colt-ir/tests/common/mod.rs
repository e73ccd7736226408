//! Shared by colt-ir's integration tests: paths, suite workloads and
//! refused edits, and a throwaway harness that compiles a kernel with the
//! system C compiler and runs it on the seeded inputs (the real builder and
//! loader live in colt-measure).

#![allow(dead_code)]

pub mod masked_attention;
pub mod random_program;

use colt_ir::schedule::{Candidate, Edit, EditError, ScheduleError};
use colt_ir::{Program, Size};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// A suite workload at its bench size.
pub fn workload(name: &str) -> Arc<Program> {
    Arc::new(colt_ir::builtin(name).unwrap().program(Size::Bench))
}

/// The reason `text` is refused on `c`; fails the test if the edit does not
/// parse, applies, or is refused without naming itself.
pub fn illegal(c: &Candidate, text: &str) -> ScheduleError {
    match Edit::parse(text).unwrap_or_else(|e| panic!("{e}")).apply(c) {
        Err(EditError::Illegal { edit, reason }) => {
            assert_eq!(edit, text, "the error names the edit");
            reason
        }
        other => panic!("`{text}` should be illegal, got {other:?}"),
    }
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The held-back workloads: shapes and constructs the suite does not have
/// (this crate's `tests/workloads/`), and the repository's beyond-suite
/// workloads (`workloads/beyond-suite/`: a matrix-vector product, a row
/// norm, attention of odd length, a batched matmul of prime extents).
pub fn held_back() -> Vec<Program> {
    let folders =
        [Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/workloads"), repo_root().join("workloads/beyond-suite")];
    let mut paths: Vec<PathBuf> = folders
        .iter()
        .flat_map(|dir| std::fs::read_dir(dir).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "colt"))
        .collect();
    paths.sort();
    paths.iter().map(|p| colt_ir::load_workload(p.to_str().unwrap(), Size::Bench).unwrap()).collect()
}

/// The flags of the kernel ABI (crate docs).
pub const KERNEL_FLAGS: &[&str] =
    &["-O3", "-march=native", "-fno-math-errno", "-ffreestanding", "-fno-tree-loop-distribute-patterns"];

/// Compiles `kernel_c` alone with the ABI's flags, links it to a `main`
/// that reads every buffer from a file, calls the kernel from `ntasks`
/// threads at once with a real barrier, as
/// colt-measure will call it, with the `scratch` buffers (in floats) the
/// kernel asks for after the program's. Temporaries, outputs and scratch
/// start as NaN, so a kernel that leaves an element unwritten cannot pass
/// by luck.
pub fn run_c_kernel_tasks(
    program: &Program,
    kernel_c: &str,
    buffers: &[Vec<f32>],
    ntasks: usize,
    scratch: &[usize],
) -> Vec<Vec<f32>> {
    let dir = tempfile::tempdir().unwrap();
    let n = program.buffers().len();
    let total = n + scratch.len();
    let lens: Vec<String> =
        program.buffers().iter().map(|b| b.len()).chain(scratch.iter().copied()).map(|l| l.to_string()).collect();
    let harness = format!(
        r#"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
typedef void (*colt_barrier_fn)(void *ctx);
void colt_kernel(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);
static pthread_barrier_t sync_point;
static float *bufs[{total}];
static void wait_all(void *ctx) {{ pthread_barrier_wait((pthread_barrier_t *)ctx); }}
static void *worker(void *arg) {{
  colt_kernel(bufs, (int)(long)arg, {ntasks}, wait_all, &sync_point);
  return 0;
}}
int main(int argc, char **argv) {{
  (void)argc;
  static const long lens[{total}] = {{{lens}}};
  FILE *in = fopen(argv[1], "rb");
  if (!in) return 2;
  for (int i = 0; i < {total}; i++) {{
    bufs[i] = aligned_alloc(64, ((lens[i] * 4 + 63) / 64) * 64);
    if (i >= {n}) {{ for (long e = 0; e < lens[i]; e++) bufs[i][e] = __builtin_nanf(""); continue; }}
    if (fread(bufs[i], 4, lens[i], in) != (size_t)lens[i]) return 3;
  }}
  fclose(in);
  pthread_barrier_init(&sync_point, 0, {ntasks});
  pthread_t threads[{ntasks}];
  for (long t = 0; t < {ntasks}; t++) pthread_create(&threads[t], 0, worker, (void *)t);
  for (int t = 0; t < {ntasks}; t++) pthread_join(threads[t], 0);
  FILE *out = fopen(argv[2], "wb");
  for (int i = 0; i < {n}; i++) fwrite(bufs[i], 4, lens[i], out);
  fclose(out);
  return 0;
}}
"#,
        lens = lens.join(", ")
    );
    let kernel = dir.path().join("kernel.c");
    let main = dir.path().join("main.c");
    std::fs::write(&kernel, kernel_c).unwrap();
    std::fs::write(&main, harness).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let object = dir.path().join("kernel.o");
    let compile = Command::new(&cc).args(KERNEL_FLAGS).args(["-c", "-o"]).arg(&object).arg(&kernel).output().unwrap();
    assert!(
        compile.status.success(),
        "{} kernel does not compile:\n{}\n{kernel_c}",
        program.name(),
        String::from_utf8_lossy(&compile.stderr)
    );
    // The kernel must run as a bare code image: no libc, no other symbol
    // from outside.
    let nm = Command::new("nm").arg("-u").arg(&object).output().expect("nm (binutils) is needed by this test");
    let undefined = String::from_utf8_lossy(&nm.stdout).into_owned();
    assert!(undefined.trim().is_empty(), "{} kernel calls outside itself:\n{undefined}\n{kernel_c}", program.name());
    let binary = dir.path().join("kernel");
    let link = Command::new(&cc).args(["-O2", "-pthread", "-o"]).arg(&binary).arg(&main).arg(&object).output().unwrap();
    assert!(link.status.success(), "harness does not link:\n{}", String::from_utf8_lossy(&link.stderr));
    let input = dir.path().join("in.bin");
    let output = dir.path().join("out.bin");
    let bytes: Vec<u8> = buffers
        .iter()
        .zip(program.buffers())
        .flat_map(|(data, b)| {
            let poison = b.role != colt_ir::BufferRole::Input;
            data.iter().map(move |&x| if poison { f32::NAN } else { x })
        })
        .flat_map(|x| x.to_le_bytes())
        .collect();
    std::fs::write(&input, bytes).unwrap();
    let run = Command::new(&binary).arg(&input).arg(&output).status().unwrap();
    assert!(run.success(), "{} kernel failed: {run}\n{kernel_c}", program.name());
    let bytes = std::fs::read(&output).unwrap();
    let mut floats = bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]));
    program.buffers().iter().map(|b| floats.by_ref().take(b.len()).collect()).collect()
}
