//! `colt run`: every suite workload's naive kernel verifies on the CPU (in
//! colt's measure worker) and on OpenCL (this machine's pocl CPU device),
//! a scheduled candidate of each space verifies too, `colt devices` lists
//! the device, and the user's mistakes are clear errors.

use colt_e2e::{colt, stderr, stdout};

fn run_json(args: &[&str]) -> serde_json::Value {
    let out = colt(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    serde_json::from_str(stdout(&out).trim()).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", stdout(&out)))
}

fn assert_verified(v: &serde_json::Value, workload: &str, target: &str) {
    assert_eq!(v["workload"], workload, "{v}");
    assert_eq!(v["verified"], true, "{v}");
    assert!(v["target"].as_str().unwrap().starts_with(target), "{v}");
    assert!(v["max_rel_err"].as_f64().unwrap() <= 1e-3, "{v}");
    assert!(v["median_ms"].as_f64().unwrap() > 0.0 && v["runs"].as_u64().unwrap() >= 1, "{v}");
}

#[test]
fn every_workload_verifies_on_the_cpu() {
    for w in ["gemm-512", "llama3-8b-attn", "deepseek-r1-moe", "flux-attn", "flux-conv", "llama4-scout-mlp"] {
        assert_verified(&run_json(&["run", w, "--json", "--quick"]), w, "cpu");
    }
    let v = run_json(&["run", "flux-conv", "--random", "--seed", "3", "--json", "--quick"]);
    assert_verified(&v, "flux-conv", "cpu");
    assert_ne!(v["kernel"], "flux-conv naive");
}

#[test]
fn every_workload_verifies_on_opencl() {
    for w in ["gemm-512", "llama3-8b-attn", "deepseek-r1-moe", "flux-attn", "flux-conv", "llama4-scout-mlp"] {
        assert_verified(&run_json(&["run", w, "--target", "opencl", "--json", "--quick"]), w, "opencl");
    }
    // A candidate of the OpenCL schedule space, the device named by a part
    // of the platform's name and its index.
    let args = ["run", "flux-attn", "--target", "opencl", "--platform", "portable", "--device", "0"];
    let v = run_json(&[&args[..], &["--random", "--seed", "5", "--json", "--quick"]].concat());
    assert_verified(&v, "flux-attn", "opencl");
    assert_ne!(v["kernel"], "flux-attn naive opencl");
}

#[test]
fn devices_lists_this_machines_pocl_device() {
    let out = colt(&["devices"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("platform 0: Portable Computing Language"), "{text}");
    assert!(text.contains("  device 0: ") && text.contains("[CPU]"), "{text}");
    let out = colt(&["devices", "--json"]);
    let line: serde_json::Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!((line["platform"].as_u64(), line["device"].as_u64()), (Some(0), Some(0)), "{line}");
    assert!(line["max_work_group"].as_u64().unwrap() >= 256, "{line}");
}

#[test]
fn run_errors_name_what_is_wrong() {
    let out = colt(&["run", "gemm-512", "--target", "opencl", "--platform", "no-such-platform", "--quick"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.starts_with("colt: error: cannot open the OpenCL device") && err.contains("no-such-platform"), "{err}");
    assert!(err.contains("Portable Computing Language"), "names the platforms there are: {err}");
    let out = colt(&["run", "gemm-512", "--target", "opencl", "--device", "7", "--quick"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("has no device `7`") && err.contains("pthread"), "{err}");
    // A CPU decision in the OpenCL space.
    let out =
        colt(&["run", "gemm-512", "--target", "opencl", "--sketch", "0", "--apply", r#"parallel(stage="C", loops=1)"#]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(r#"`parallel(stage="C", loops=1)` is illegal"#) && err.contains("no `parallel` decision"),
        "{err}"
    );
}
