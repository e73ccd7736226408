//! Each way a candidate can fail gives its own typed failure, the parent
//! survives, and the next candidate measures fine on the same measurer.

mod common;

use colt_measure::{BuildError, FailureKind, ImageError, MeasureError};
use common::*;
use std::time::Duration;

/// Measures `bad`, expects `kind`, then measures the good kernel.
fn fails_then_recovers(bad: &colt_measure::KernelSource, kind: FailureKind, timeout: Duration) -> MeasureError {
    let cache = tempfile::tempdir().unwrap();
    let program = small_gemm();
    let mut measurer = colt_measure::CpuMeasurer::new(builder(cache.path()), worker(), config(timeout));
    let before = measurer.measure(&program, &good_kernel()).expect("the good kernel measures");
    assert!(before.timing.runs >= 3);
    let error = measurer.measure(&program, bad).expect_err("the bad kernel fails");
    assert_eq!(error.kind(), kind, "{error}");
    assert!(error.to_string().contains(&bad.name), "the error names the kernel: {error}");
    let after = measurer.measure(&program, &good_kernel()).expect("the next kernel measures fine");
    assert!(after.max_rel_err <= colt_ir::data::TOLERANCE);
    error
}

#[test]
fn a_segfaulting_kernel_is_a_crash() {
    let bad = small_gemm_kernel("segfault", "*(volatile float *)8 = 1.0f;");
    match fails_then_recovers(&bad, FailureKind::Crashed, Duration::from_secs(20)) {
        MeasureError::Crashed { signal, .. } => assert_eq!(signal, Some(libc::SIGSEGV)),
        other => panic!("{other}"),
    }
}

#[test]
fn a_kernel_that_never_returns_is_a_timeout_with_the_configured_limit() {
    let bad = small_gemm_kernel("forever", "for (;;) __asm__ volatile(\"\");");
    match fails_then_recovers(&bad, FailureKind::TimedOut, Duration::from_secs(2)) {
        MeasureError::TimedOut { limit, .. } => assert_eq!(limit, Duration::from_secs(2)),
        other => panic!("{other}"),
    }
}

#[test]
fn a_kernel_that_computes_garbage_is_a_wrong_result() {
    let bad = small_gemm_kernel("garbage", "for (long e = 0; e < 64 * 48; e++) C[e] = 42.0f;");
    match fails_then_recovers(&bad, FailureKind::WrongResult, Duration::from_secs(20)) {
        MeasureError::WrongResult { buffer, max_rel_err, .. } => {
            assert_eq!(buffer, "C");
            assert!(max_rel_err > 1.0);
        }
        other => panic!("{other}"),
    }
}

#[test]
fn an_output_left_unwritten_is_caught_by_the_nan_poison() {
    // Writes every element but the last: the last keeps its NaN poison.
    let bad = small_gemm_kernel(
        "unwritten",
        "for (long i = 0; i < 64; i++) for (long j = 0; j < 48; j++) {\n\
           if (i == 63 && j == 47) continue;\n\
           float acc = 0.0f; for (long k = 0; k < 32; k++) acc += A[i * 32 + k] * B[k * 48 + j];\n\
           C[i * 48 + j] = acc; }",
    );
    match fails_then_recovers(&bad, FailureKind::WrongResult, Duration::from_secs(20)) {
        MeasureError::WrongResult { max_rel_err, .. } => assert!(max_rel_err.is_infinite()),
        other => panic!("{other}"),
    }
}

#[test]
fn a_kernel_that_writes_its_input_is_refused() {
    let bad = small_gemm_kernel("writes-input", "((float *)A)[5] = 3.0f;");
    match fails_then_recovers(&bad, FailureKind::WroteInput, Duration::from_secs(20)) {
        MeasureError::WroteInput { buffer, .. } => assert_eq!(buffer, "A"),
        other => panic!("{other}"),
    }
}

#[test]
fn a_kernel_that_does_not_compile_carries_the_compiler_message() {
    let bad = small_gemm_kernel("syntax", "C[0] = undeclared_thing;");
    match fails_then_recovers(&bad, FailureKind::Build, Duration::from_secs(20)) {
        MeasureError::Build(BuildError::Compile { message, .. }) => {
            assert!(message.contains("undeclared_thing"), "{message}")
        }
        other => panic!("{other}"),
    }
}

#[test]
fn an_image_with_an_unsatisfiable_import_is_refused_by_name() {
    let bad = small_gemm_kernel(
        "imports-memset",
        "extern void *memset(void *, int, unsigned long);\nmemset(C, 0, 64 * 48 * sizeof(float));",
    );
    match fails_then_recovers(&bad, FailureKind::Image, Duration::from_secs(20)) {
        MeasureError::Image { source: ImageError::UnresolvedImport { symbol }, .. } => assert_eq!(symbol, "memset"),
        other => panic!("{other}"),
    }
}

#[test]
fn a_crash_costs_one_fresh_worker_and_a_good_kernel_none() {
    let cache = tempfile::tempdir().unwrap();
    let program = small_gemm();
    let mut measurer = measurer(cache.path());
    for _ in 0..3 {
        measurer.measure(&program, &good_kernel()).unwrap();
    }
    assert_eq!(measurer.workers_spawned(), 1, "one worker serves every good kernel");
    let crash = small_gemm_kernel("segfault", "*(volatile float *)8 = 1.0f;");
    assert_eq!(measurer.measure(&program, &crash).unwrap_err().kind(), FailureKind::Crashed);
    measurer.measure(&program, &good_kernel()).unwrap();
    assert_eq!(measurer.workers_spawned(), 2);
}
