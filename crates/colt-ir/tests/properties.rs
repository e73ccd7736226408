//! Property tests over random valid programs: the text format round-trips,
//! and the naive C kernel agrees with the reference interpreter.

mod common;

use colt_ir::data::{initial_buffers, max_rel_err, DEFAULT_SEED, TOLERANCE};
use colt_ir::{interp, parse_workload, print_program, BufferRole, Program, Size};
use common::random_program::random_program;
use proptest::prelude::*;

/// `PROPTEST_CASES` raises (or lowers) the counts below.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn valid(seed: u64) -> Program {
    let def = random_program(seed);
    Program::from_def(&def)
        .unwrap_or_else(|e| panic!("generated program {seed} is invalid: {e}\n{}", colt_ir::text::print_def(&def)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(512)))]

    #[test]
    fn printing_then_parsing_gives_the_same_program(seed in any::<u64>()) {
        let program = valid(seed);
        let text = print_program(&program);
        let parsed = parse_workload(&text, "printed.colt", Size::Bench)
            .unwrap_or_else(|e| panic!("printed program does not parse: {e}\n{text}"));
        prop_assert_eq!(parsed, program, "{}", text);
    }
}

proptest! {
    // Each case compiles a kernel: keep the count modest for CI.
    #![proptest_config(ProptestConfig::with_cases(cases(40)))]

    #[test]
    fn naive_c_agrees_with_the_interpreter_on_random_programs(seed in any::<u64>()) {
        let program = valid(seed);
        let inputs = initial_buffers(&program, DEFAULT_SEED);
        let mut reference = inputs.clone();
        interp::run(&program, &mut reference);
        let actual = common::run_c_kernel_tasks(&program, &colt_ir::c::naive_c(&program), &inputs, 1, &[]);
        for (id, b) in program.buffers_with_role(BufferRole::Output) {
            let err = max_rel_err(&actual[id.0], &reference[id.0]);
            prop_assert!(err <= TOLERANCE, "output {} off by {}\n{}", b.name, err, print_program(&program));
        }
    }
}
