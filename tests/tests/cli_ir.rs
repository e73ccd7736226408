//! The `colt` commands that need only colt-ir: `workloads`, `show-program`,
//! `emit-c`, `reference`, and their errors.

use colt_e2e::{colt, stderr, stdout};
use std::process::Command;

#[test]
fn workloads_lists_the_six_suite_workloads_with_their_macs() {
    let out = colt(&["workloads"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    let names: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(names, ["gemm-512", "llama3-8b-attn", "deepseek-r1-moe", "flux-attn", "flux-conv", "llama4-scout-mlp"]);
    assert!(rows.iter().all(|r| r.len() == 3 && !r[2].is_empty()), "{text}");
    assert_eq!(rows[0][1], "134217728");
    assert_eq!(rows[3][1], "402653184");
}

#[test]
fn emit_c_prints_a_kernel_that_compiles() {
    let out = colt(&["emit-c", "gemm-512"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("gemm.c");
    std::fs::write(&source, &out.stdout).unwrap();
    let cc = Command::new("cc")
        .args(["-O3", "-march=native", "-fno-math-errno", "-ffreestanding", "-c", "-o"])
        .arg(dir.path().join("gemm.o"))
        .arg(&source)
        .output()
        .unwrap();
    assert!(cc.status.success(), "{}", String::from_utf8_lossy(&cc.stderr));
}

#[test]
fn show_program_reads_workload_files_and_full_shapes() {
    let out = colt(&["show-program", "workloads/flux-conv.colt", "--full"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("input  X[1, 512, 128, 128]"), "{text}");
    assert!(text.contains("r:ci=512 r:ky=3 r:kx=3"), "{text}");
}

#[test]
fn reference_summarises_every_output() {
    let out = colt(&["reference", "deepseek-r1-moe"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Y[64, 1792]: sum"), "{}", stdout(&out));
}

#[test]
fn an_unknown_workload_is_an_error_that_lists_the_known_ones() {
    let out = colt(&["emit-c", "gemm-1024"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("unknown workload `gemm-1024`") && err.contains("flux-conv"), "{err}");
}

#[test]
fn a_typo_in_a_workload_file_is_reported_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typo.colt");
    std::fs::write(&path, "input A[4, 3]\ninput B[3, 2]\noutput C[4, 2]\nC[i, j] += A[i, k] * B[k j]\n").unwrap();
    let out = colt(&["show-program", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(&format!("{}:4:26: expected `]`, found `j`", path.display())), "{err}");
}

#[test]
fn a_closed_pipe_ends_colt_quietly() {
    let mut child = Command::new(colt_e2e::colt_binary())
        .args(["emit-c", "flux-attn"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn an_invalid_program_is_reported_once_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("range.colt");
    std::fs::write(&path, "input A[4, 3]\ninput B[3, 2]\noutput C[4, 2]\nC[i, j] += A[i, k] * B[k + 1, j]\n").unwrap();
    let out = colt(&["emit-c", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(":4:22: in stage `C`: index out of range"), "{err}");
    assert_eq!(err.matches("index out of range").count(), 1, "{err}");
}
