//! Tuning on OpenCL end to end, on this machine's pocl CPU device: `colt
//! tune --target opencl` with the small default model finds a verified
//! kernel faster than the naive OpenCL one and records it under the
//! device's target label, `colt show` rebuilds it, `colt bench --target
//! opencl` reports latency, GFLOP/s and speedup, and the user's mistakes
//! are clear errors.

use colt_db::TuningDb;
use colt_e2e::{colt, json_line, repo_root, stderr, stdout};

const SMALL: &str = "models/SmolLM2-135M-Instruct.Q4_1.gguf";

#[test]
fn tune_on_opencl_finds_a_verified_kernel_faster_than_the_naive_one() {
    assert!(repo_root().join(SMALL).is_file(), "{SMALL} is missing: run `bash scripts/fetch-models.sh`");
    let dir = tempfile::tempdir().unwrap();
    let (db, out) = (dir.path().join("t.db"), dir.path().join("out"));
    let (db_s, out_s) = (db.to_str().unwrap(), out.to_str().unwrap());
    let tune = [
        "tune",
        "gemm-512",
        "--strategy",
        "colt",
        "--target",
        "opencl",
        "--platform",
        "portable",
        "--trials",
        "8",
        "--models",
        SMALL,
        "--db",
        db_s,
        "--out",
        out_s,
        "--seed",
        "2",
        "--batch",
        "4",
        "--expansions",
        "2",
        "--json",
        "--fresh",
    ];
    let o = colt(&tune);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = json_line(&stdout(&o));
    let target = summary["target"].as_str().unwrap().to_string();
    assert!(target.starts_with("opencl:Portable Computing Language / "), "{summary}");
    assert_eq!((summary["trials"].as_u64(), summary["verified"].as_bool()), (Some(8), Some(true)), "{summary}");
    let (naive, best) = (summary["naive_ms"].as_f64().unwrap(), summary["best_ms"].as_f64().unwrap());
    assert!(best < naive, "best {best} ms is not faster than the naive OpenCL kernel's {naive} ms");
    let kernel = std::fs::read_to_string(out.join("kernel.cl")).unwrap();
    assert!(kernel.contains("__kernel void colt_phase0("), "{kernel}");
    // Every trial is the device's, and the model's proposals were measured.
    let trials = TuningDb::open(&db).unwrap().job_trials(1).unwrap();
    assert_eq!(trials.len(), 8);
    assert!(trials.iter().all(|t| t.target == target), "{:?}", trials.iter().map(|t| &t.target).collect::<Vec<_>>());
    // The device's label names its driver; `colt show` on this host's CPU
    // (the default) does not hand out the device's kernel, and names it.
    assert_eq!(target.matches(" / ").count(), 2, "platform / device / driver: {target}");
    let o = colt(&["show", "--db", db_s, "--workload", "gemm-512"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains(&format!("not reused here: `{target}`")), "{}", stderr(&o));
    // `colt show --target` rebuilds the best kernel in the OpenCL space.
    let o = colt(&["show", "--db", db_s, "--workload", "gemm-512", "--target", &target]);
    assert!(o.status.success(), "{}", stderr(&o));
    let shown = stdout(&o);
    assert!(shown.contains("--space opencl") && shown.contains("__kernel void colt_phase0("), "{shown}");

    // Resuming that job for the CPU is refused: it is the device's.
    let mut cpu = tune.to_vec();
    cpu.retain(|a| !["--target", "opencl", "--platform", "portable"].contains(a));
    cpu.push("--resume");
    let o = colt(&cpu);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains(&format!("was tuned for target `{target}`, not `cpu:")), "{err}");
}

#[test]
fn bench_on_opencl_reports_latency_gflops_and_speedup() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bench");
    let o = colt(&[
        "bench",
        "--target",
        "opencl",
        "--workloads",
        "flux-conv",
        "--strategies",
        "random",
        "--trials",
        "2,4",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bench.json")).unwrap()).unwrap();
    assert!(report["target"].as_str().unwrap().starts_with("opencl:"), "{report}");
    let w = &report["workloads"][0];
    assert!(w["flops"].as_u64().unwrap() > 0 && w["naive_ms"].as_f64().unwrap() > 0.0, "{w}");
    let tables = std::fs::read_to_string(out.join("tables.md")).unwrap();
    assert!(tables.contains("On opencl:Portable Computing Language"), "{tables}");
    assert!(tables.contains("GFLOP/s)") && tables.contains("| GFLOP/s @4 |"), "{tables}");
}

#[test]
fn opencl_errors_name_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let o = colt(&[
        "tune",
        "gemm-512",
        "--target",
        "opencl",
        "--platform",
        "no-such-vendor",
        "--strategy",
        "random",
        "--db",
        db.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("no OpenCL platform matches `no-such-vendor`") && err.contains("Portable"), "{err}");
    // A CPU-only edit in the OpenCL space, by `colt emit-c --space opencl`.
    let o = colt(&[
        "emit-c",
        "gemm-512",
        "--space",
        "opencl",
        "--sketch",
        "0",
        "--apply",
        r#"pack(stage="C", operand="B", layout="blocked")"#,
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("packs `B` in a CPU layout"), "{}", stderr(&o));
    let o = colt(&["emit-c", "gemm-512", "--space", "opencl", "--random", "--seed", "4"]);
    assert!(o.status.success() && stdout(&o).contains("__kernel void colt_phase0("), "{}", stderr(&o));
}
