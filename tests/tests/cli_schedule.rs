//! The `colt` commands of the schedule space: `emit-c --random`,
//! `show-candidate`, `edits`, and the errors a user can cause with them.

use colt_e2e::{colt, stderr, stdout};
use std::process::Command;

fn compiles(source: &[u8]) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.c");
    std::fs::write(&path, source).unwrap();
    let cc = Command::new("cc")
        .args(["-O3", "-march=native", "-fno-math-errno", "-ffreestanding", "-fno-tree-loop-distribute-patterns"])
        .args(["-c", "-o"])
        .arg(dir.path().join("k.o"))
        .arg(&path)
        .output()
        .unwrap();
    if cc.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&cc.stderr).into_owned())
    }
}

#[test]
fn emit_c_random_prints_a_scheduled_kernel_that_compiles() {
    for seed in ["1", "2"] {
        let out = colt(&["emit-c", "llama3-8b-attn", "--random", "--seed", seed]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("colt scheduled kernel") && text.contains("colt_kernel"), "{text}");
        compiles(&out.stdout).unwrap();
    }
    let a = colt(&["emit-c", "gemm-512", "--random", "--seed", "5"]);
    let b = colt(&["emit-c", "gemm-512", "--random", "--seed", "5"]);
    let c = colt(&["emit-c", "gemm-512", "--random", "--seed", "6"]);
    assert_eq!(a.stdout, b.stdout, "the same seed gives the same kernel");
    assert_ne!(a.stdout, c.stdout);
}

#[test]
fn edits_lists_legal_edits_that_apply() {
    let out = colt(&["edits", "gemm-512", "--seed", "0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let edits: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(edits.len() > 20, "{text}");
    for kind in ["tile(", "unroll(", "parallel(", "vectorize(", "accumulate(", "pack("] {
        assert!(edits.iter().any(|e| e.starts_with(kind)), "no {kind} edit in\n{text}");
    }
    // Any listed edit applies on the command line too.
    let pick = edits[edits.len() / 2];
    let applied = colt(&["edits", "gemm-512", "--seed", "0", "--apply", pick]);
    assert!(applied.status.success(), "`{pick}`: {}", stderr(&applied));
}

#[test]
fn hand_written_schedules_start_from_a_sketch() {
    let out = colt(&[
        "show-candidate",
        "gemm-512",
        "--sketch",
        "0",
        "--apply",
        r#"tile(stage="C", axis="j", factors=[1,2,32])"#,
        "--apply",
        r#"vectorize(stage="C", lanes=16)"#,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("j512=[1,2,32]") && text.contains("vector=16") && text.contains("fingerprint "), "{text}");
}

#[test]
fn schedule_errors_name_the_edit_and_the_reason() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["edits", "gemm-512", "--sketch", "0", "--apply", r#"vectorize(stage="C", lanes=8)"#],
            "`vectorize(stage=\"C\", lanes=8)` is illegal: stage `C`: 8 lanes do not divide the register tile of axis `j` (1)",
        ),
        (&["edits", "gemm-512", "--apply", r#"unroll(stage="Z", depth=16)"#], "the program has no stage `Z`"),
        (&["edits", "gemm-512", "--apply", "twist(C)"], "cannot read edit `twist(C)`"),
        (&["show-candidate", "gemm-512", "--sketch", "4"], "workload `gemm-512` has 1 sketches (0..=0), not 4"),
        (
            &["emit-c", "gemm-512", "--sketch", "0", "--apply", r#"parallel(stage="C", loops=3)"#],
            "stage `C` has 2 spatial loops, cannot parallelise 3",
        ),
    ];
    for (args, expected) in cases {
        let out = colt(args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = stderr(&out);
        assert!(err.starts_with("colt: error: ") && err.contains(expected), "{args:?}: {err}");
    }
}
