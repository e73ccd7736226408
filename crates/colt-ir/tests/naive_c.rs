//! The naive C kernel of every workload — the suite and the held-back
//! shapes — computes what the reference interpreter computes.

mod common;

use colt_ir::data::{initial_buffers, max_rel_err, DEFAULT_SEED, TOLERANCE};
use colt_ir::{interp, BufferRole, Program, Size};

fn check(program: &Program) {
    let inputs = initial_buffers(program, DEFAULT_SEED);
    let mut reference = inputs.clone();
    interp::run(program, &mut reference);
    let actual = common::run_c_kernel_tasks(program, &colt_ir::c::naive_c(program), &inputs, 1, &[]);
    for (id, buffer) in program.buffers_with_role(BufferRole::Output) {
        let err = max_rel_err(&actual[id.0], &reference[id.0]);
        assert!(err <= TOLERANCE, "{}: output {} differs from the reference: {err}", program.name(), buffer.name);
        assert!(reference[id.0].iter().any(|&x| x != 0.0), "{}: a reference of zeros proves nothing", program.name());
    }
}

#[test]
fn naive_c_matches_the_reference_on_the_suite() {
    for w in colt_ir::SUITE {
        check(&w.program(Size::Bench));
    }
}

#[test]
fn naive_c_matches_the_reference_on_held_back_shapes() {
    let programs = common::held_back();
    assert!(programs.len() >= 4);
    for p in &programs {
        check(p);
    }
}

#[test]
fn naive_c_detects_a_wrong_kernel() {
    // The check above must be able to fail: a kernel that forgets the
    // last reduction step of gemm is caught.
    let program = colt_ir::builtin("gemm-512").unwrap().program(Size::Bench);
    let wrong = colt_ir::c::naive_c(&program).replace("k < 512L", "k < 511L");
    let inputs = initial_buffers(&program, DEFAULT_SEED);
    let mut reference = inputs.clone();
    interp::run(&program, &mut reference);
    let actual = common::run_c_kernel_tasks(&program, &wrong, &inputs, 1, &[]);
    assert!(max_rel_err(&actual[2], &reference[2]) > TOLERANCE);
}
