//! The kernel library a C program links (issue 21): `colt tune-model` on
//! the small default model exports its tasks' tuned kernels; the library
//! builds with the system compiler as a static library; a C driver linked
//! against it computes one transformer block's forward pass (norm →
//! Q/K/V projections → attention → output projection → residual → norm →
//! MLP → residual) through the header's named functions, and its output
//! matches colt's reference interpreter on the same block written as one
//! program.

use colt_e2e::{colt, repo_root, stderr};
use std::path::Path;
use std::process::Command;

/// SmolLM2-135M's shape (its GGUF header; `cli_model_layers` checks it).
const D: usize = 576;
const HEADS: usize = 9;
const KV_HEADS: usize = 3;
const DK: usize = 64;
const FFN: usize = 1536;
const T: usize = 8;

/// One block as one program: the runtime's re-layouts (projection rows to
/// head-major and back) are stages here and loops in the driver.
fn block_program(eps: f32) -> String {
    let (q, kv, group) = (HEADS * DK, KV_HEADS * DK, HEADS / KV_HEADS);
    format!(
        "workload block
input  x[{T}, {D}]
input  g1[{D}]
input  Wq[{D}, {q}]
input  Wk[{D}, {kv}]
input  Wv[{D}, {kv}]
input  Wo[{q}, {D}]
input  g2[{D}]
input  Wg[{D}, {FFN}]
input  Wu[{D}, {FFN}]
input  Wd[{FFN}, {D}]
temp   SS1[{T}]
temp   R1[{T}]
temp   H1[{T}, {D}]
temp   q[{T}, {q}]
temp   k[{T}, {kv}]
temp   v[{T}, {kv}]
temp   Qh[{HEADS}, {T}, {DK}]
temp   Kh[{KV_HEADS}, {T}, {DK}]
temp   Vh[{KV_HEADS}, {T}, {DK}]
temp   QK[{HEADS}, {T}, {T}]
temp   S[{HEADS}, {T}, {T}]
temp   M[{HEADS}, {T}]
temp   E[{HEADS}, {T}, {T}]
temp   L[{HEADS}, {T}]
temp   P[{HEADS}, {T}, {T}]
temp   O[{HEADS}, {T}, {DK}]
temp   A[{T}, {q}]
temp   o[{T}, {D}]
temp   x2[{T}, {D}]
temp   SS2[{T}]
temp   R2[{T}]
temp   H2[{T}, {D}]
temp   G[{T}, {FFN}]
temp   U[{T}, {FFN}]
temp   Hm[{T}, {FFN}]
temp   m[{T}, {D}]
output y[{T}, {D}]
SS1[t] += x[t, c] * x[t, c]
R1[t] = 1.0 / sqrt(SS1[t] / {D}.0 + {eps:?})
H1[t, c] = x[t, c] * R1[t] * g1[c]
q[t, n] += H1[t, c] * Wq[c, n]
k[t, n] += H1[t, c] * Wk[c, n]
v[t, n] += H1[t, c] * Wv[c, n]
Qh[h, t, e] = q[t, h * {DK} + e]
Kh[h, t, e] = k[t, h * {DK} + e]
Vh[h, t, e] = v[t, h * {DK} + e]
QK[h, i, j] += Qh[h, i, e] * Kh[h / {group}, j, e]
S[h, i, j] = select(j <= i, QK[h, i, j] / sqrt({DK}.0), -inf)
M[h, i] max= S[h, i, j]
E[h, i, j] = exp(S[h, i, j] - M[h, i])
L[h, i] += E[h, i, j]
P[h, i, j] = E[h, i, j] / L[h, i]
O[h, i, e] += P[h, i, j] * Vh[h / {group}, j, e]
A[t, n] = O[n / {DK}, t, n % {DK}]
o[t, c] += A[t, n] * Wo[n, c]
x2[t, c] = x[t, c] + o[t, c]
SS2[t] += x2[t, c] * x2[t, c]
R2[t] = 1.0 / sqrt(SS2[t] / {D}.0 + {eps:?})
H2[t, c] = x2[t, c] * R2[t] * g2[c]
G[t, f] += H2[t, c] * Wg[c, f]
U[t, f] += H2[t, c] * Wu[c, f]
Hm[t, f] = G[t, f] / (1.0 + exp(-G[t, f])) * U[t, f]
m[t, c] += Hm[t, f] * Wd[f, c]
y[t, c] = x2[t, c] + m[t, c]
"
    )
}

/// The driver: reads the inputs, runs the block through the library's
/// `_run` functions on one thread, writes `y`.
fn driver(functions: &dyn Fn(&str) -> String) -> String {
    let (norm, qo, kv, attn, mlp) =
        (functions("norm"), functions("q-proj"), functions("k-proj"), functions("attention"), functions("mlp"));
    let (q, kvw, group) = (HEADS * DK, KV_HEADS * DK, HEADS / KV_HEADS);
    let upper = |f: &str| f.to_uppercase();
    format!(
        r#"#include <stdio.h>
#include <stdlib.h>
#include "colt_kernels.h"

static void no_barrier(void *ctx) {{ (void)ctx; }}
static float *buf(size_t n) {{ float *p = aligned_alloc(64, ((n * 4 + 63) / 64) * 64 + 64); if (!p) exit(3); return p; }}
static float *scratch(size_t n) {{ return n ? buf(n) : NULL; }}
static float *input(const char *dir, const char *name, size_t n) {{
  char path[4096]; snprintf(path, sizeof path, "%s/%s.f32", dir, name);
  FILE *f = fopen(path, "rb"); if (!f) {{ perror(path); exit(2); }}
  float *p = buf(n); if (fread(p, 4, n, f) != n) {{ fprintf(stderr, "short %s\n", path); exit(2); }}
  fclose(f); return p;
}}

int main(int argc, char **argv) {{
  const char *dir = argv[1];
  float *x = input(dir, "x", {T} * {D}), *g1 = input(dir, "g1", {D}), *Wq = input(dir, "Wq", {D} * {q});
  float *Wk = input(dir, "Wk", {D} * {kvw}), *Wv = input(dir, "Wv", {D} * {kvw}), *Wo = input(dir, "Wo", {q} * {D});
  float *g2 = input(dir, "g2", {D}), *Wg = input(dir, "Wg", {D} * {FFN}), *Wu = input(dir, "Wu", {D} * {FFN});
  float *Wd = input(dir, "Wd", {FFN} * {D});
  float *ss = buf({T}), *r = buf({T}), *h1 = buf({T} * {D}), *q = buf({T} * {q}), *k = buf({T} * {kvw}), *v = buf({T} * {kvw});
  float *Qh = buf({T} * {q}), *Kh = buf({T} * {kvw}), *Vh = buf({T} * {kvw});
  float *QK = buf({HEADS} * {T} * {T}), *S = buf({HEADS} * {T} * {T}), *M = buf({HEADS} * {T}), *E = buf({HEADS} * {T} * {T});
  float *L = buf({HEADS} * {T}), *P = buf({HEADS} * {T} * {T}), *O = buf({T} * {q}), *A = buf({T} * {q});
  float *o = buf({T} * {D}), *x2 = buf({T} * {D}), *h2 = buf({T} * {D});
  float *G = buf({T} * {FFN}), *U = buf({T} * {FFN}), *H = buf({T} * {FFN}), *m = buf({T} * {D}), *y = buf({T} * {D});
  float *s_norm = scratch({un}_SCRATCH_FLOATS), *s_qo = scratch({uqo}_SCRATCH_FLOATS), *s_kv = scratch({ukv}_SCRATCH_FLOATS);
  float *s_attn = scratch({uattn}_SCRATCH_FLOATS), *s_mlp = scratch({umlp}_SCRATCH_FLOATS);

  {norm}_run(x, g1, ss, r, h1, s_norm, 0, 1, no_barrier, NULL);
  {qo}_run(h1, Wq, q, s_qo, 0, 1, no_barrier, NULL);
  {kv}_run(h1, Wk, k, s_kv, 0, 1, no_barrier, NULL);
  {kv}_run(h1, Wv, v, s_kv, 0, 1, no_barrier, NULL);
  for (int t = 0; t < {T}; t++) for (int n = 0; n < {q}; n++) Qh[(n / {DK}) * {T} * {DK} + t * {DK} + n % {DK}] = q[t * {q} + n];
  for (int t = 0; t < {T}; t++) for (int n = 0; n < {kvw}; n++) {{
    Kh[(n / {DK}) * {T} * {DK} + t * {DK} + n % {DK}] = k[t * {kvw} + n];
    Vh[(n / {DK}) * {T} * {DK} + t * {DK} + n % {DK}] = v[t * {kvw} + n];
  }}
  {attn}_run(Qh, Kh, Vh, QK, S, M, E, L, P, O, s_attn, 0, 1, no_barrier, NULL);
  for (int t = 0; t < {T}; t++) for (int n = 0; n < {q}; n++) A[t * {q} + n] = O[(n / {DK}) * {T} * {DK} + t * {DK} + n % {DK}];
  {qo}_run(A, Wo, o, s_qo, 0, 1, no_barrier, NULL);
  for (int i = 0; i < {T} * {D}; i++) x2[i] = x[i] + o[i];
  {norm}_run(x2, g2, ss, r, h2, s_norm, 0, 1, no_barrier, NULL);
  {mlp}_run(h2, Wg, Wu, Wd, G, U, H, m, s_mlp, 0, 1, no_barrier, NULL);
  for (int i = 0; i < {T} * {D}; i++) y[i] = x2[i] + m[i];

  char path[4096]; snprintf(path, sizeof path, "%s/y.out", dir);
  FILE *f = fopen(path, "wb"); if (!f || fwrite(y, 4, {T} * {D}, f) != {T} * {D}) return 4;
  fclose(f);
  (void)group_unused;
  return 0;
}}
"#,
        un = upper(&norm),
        uqo = upper(&qo),
        ukv = upper(&kv),
        uattn = upper(&attn),
        umlp = upper(&mlp),
    )
    .replace("(void)group_unused;", &format!("/* {group} query heads share a key/value head */"))
}

#[test]
fn a_c_driver_linked_against_the_exported_library_matches_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lib");
    let model = repo_root().join("models").join(colt_llm::TEST_SMALL_MODEL_FILE);
    let o = colt(&[
        "tune-model",
        model.to_str().unwrap(),
        "--seq",
        &T.to_string(),
        "--trials",
        "12",
        "--round",
        "2",
        "--db",
        dir.path().join("colt.db").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for file in ["colt_kernels.h", "kernels.json", "build.sh", "report.md"] {
        assert!(out.join(file).is_file(), "no {file}");
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("kernels.json")).unwrap()).unwrap();
    let entries = manifest.as_array().unwrap();
    assert_eq!(entries.len(), 6, "one kernel per task: {manifest}");
    for e in entries {
        assert!(e["latency_ms"].as_f64().unwrap() > 0.0 && e["speedup"].as_f64().unwrap() > 0.0, "{e}");
        assert!(out.join(e["file"].as_str().unwrap()).is_file(), "{e}");
        assert!(e["rebuild"].as_str().unwrap().starts_with("colt emit-c "), "{e}");
    }
    let function = |role: &str| {
        entries
            .iter()
            .find(|e| e["task"].as_str().unwrap().split('.').any(|part| part == role))
            .unwrap_or_else(|| panic!("no task does {role}"))["function"]
            .as_str()
            .unwrap()
            .to_string()
    };

    let built = Command::new("sh").arg(out.join("build.sh")).output().unwrap();
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    assert!(out.join("libcolt_kernels.a").is_file());

    let eps = colt_llm::Hyperparameters::read(&model).unwrap().rms_epsilon as f32;
    let program = colt_ir::parse_workload(&block_program(eps), "block", colt_ir::Size::Bench).unwrap();
    let seed = 5;
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    for (id, b) in program.buffers_with_role(colt_ir::BufferRole::Input) {
        let _ = id;
        let values = colt_ir::data::fill(&b.name, b.len(), seed);
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(data.join(format!("{}.f32", b.name)), bytes).unwrap();
    }
    let c = dir.path().join("driver.c");
    std::fs::write(&c, driver(&function)).unwrap();
    let exe = dir.path().join("driver");
    let cc = Command::new("cc")
        .args(["-O2", "-o", exe.to_str().unwrap(), c.to_str().unwrap(), "-I", out.to_str().unwrap()])
        .arg(out.join("libcolt_kernels.a"))
        .output()
        .unwrap();
    assert!(cc.status.success(), "the driver does not build: {}", String::from_utf8_lossy(&cc.stderr));
    let ran = Command::new(&exe).arg(&data).output().unwrap();
    assert!(ran.status.success(), "the driver failed: {}", String::from_utf8_lossy(&ran.stderr));

    let buffers = colt_ir::interp::evaluate(&program, seed);
    let y = program.buffer_id("y").unwrap();
    let expected = &buffers[y.0];
    let actual: Vec<f32> = std::fs::read(data.join("y.out"))
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(actual.len(), expected.len());
    let err = colt_ir::data::max_rel_err(&actual, expected);
    assert!(err <= colt_ir::data::TOLERANCE, "the block's output is off by {err}");
    check_header(&out.join("colt_kernels.h"), &function("mlp"));
}

/// The header declares the named function of each task with its buffers.
fn check_header(header: &Path, mlp: &str) {
    let text = std::fs::read_to_string(header).unwrap();
    let declaration = format!(
        "void {mlp}_run(const float *X, const float *Wg, const float *Wu, const float *Wd, float *G, float *U, float *H, float *Y, float *scratch, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);"
    );
    assert!(text.contains(&declaration), "{text}");
    assert!(text.contains(&format!("#define {}_SCRATCH_FLOATS", mlp.to_uppercase())), "{text}");
}
