//! The OpenCL schedule space: what its decisions mean in the lowered
//! kernels, its legality rules (each kind of refusal, with the reason), and
//! that it leaves the CPU space as it was. That its kernels compute the
//! right answer is fuzzed on pocl in colt-measure's `opencl_fuzz` test.

mod common;

use common::{illegal, workload};

use colt_ir::features::{features, FEATURE_NAMES};
use colt_ir::loopnest::LoopKind;
use colt_ir::schedule::{
    legal_edits, lower, opencl, sketches, Candidate, Edit, PackLayout, Placement, ScheduleError, Target,
};
use colt_ir::Size;
use std::sync::Arc;

fn initial(name: &str, sketch: usize) -> Candidate {
    let p = workload(name);
    Candidate::initial_on(p.clone(), sketches(&p)[sketch].clone(), Target::OpenCl)
}

fn apply(c: &Candidate, texts: &[&str]) -> Candidate {
    texts.iter().fold(c.clone(), |c, t| Edit::parse(t).unwrap().apply(&c).unwrap_or_else(|e| panic!("{e}")))
}

#[test]
fn tiles_bind_work_groups_and_work_items_and_local_staging_fits_the_tiles() {
    let c = apply(
        &initial("gemm-512", 0),
        &[
            r#"tile(stage="C", axis="i", factors=[16,1,4])"#,
            r#"tile(stage="C", axis="j", factors=[8,2,8])"#,
            r#"tile(stage="C", axis="k", factors=[16])"#,
            r#"pack(stage="C", operand="A", layout="local")"#,
            r#"pack(stage="C", operand="B", layout="local")"#,
            r#"vectorize(stage="C", lanes=4)"#,
            r#"accumulate(stage="C", into="registers")"#,
        ],
    );
    let (stage, sched) = (&c.program().stages()[0], &c.stages()[0]);
    assert_eq!(opencl::work_group_size(stage, sched), 16 * 8);
    // i: 512 / 64 groups; j: 512 / 128 groups.
    assert_eq!(opencl::work_groups(stage, sched), 8 * 4);
    let regions = opencl::local_regions(c.program(), 0, &c.bodies()[0], sched).unwrap();
    // A's region: the group's 64 rows by the 16-wide k step; B's: 16 by 128.
    assert_eq!(regions.iter().map(|r| r.floats()).collect::<Vec<_>>(), vec![64 * 16, 16 * 128]);
    let program = lower(&c).to_opencl();
    assert_eq!(program.launches.len(), 1);
    let launch = &program.launches[0];
    assert_eq!((launch.global, launch.local), (32 * 128, Some(128)));
    for needle in [
        "__kernel void colt_phase0(",
        "get_group_id(0)",
        "get_local_id(0)",
        "__local float C_local_A[1024];",
        "__local float C_local_B[2048];",
        "barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);",
        "colt_vload4(&C_local_B[",
        "colt_v4 C_acc0",
    ] {
        assert!(program.source.contains(needle), "no `{needle}` in\n{}", program.source);
    }
    assert!(c.render().contains("work-groups"), "{}", c.render());
}

#[test]
fn attention_fuses_its_softmax_rows_into_one_kernel() {
    // Sketch 7 inlines nothing: QK, S, M, E, L, P, O. M, E, L and P at
    // O's group loop (its last S0 loop, `d0`) over rows of whole d.
    let c = apply(
        &initial("llama3-8b-attn", 7),
        &[
            r#"tile(stage="O", axis="i", factors=[8,1,2])"#,
            r#"tile(stage="O", axis="d", factors=[16,1,8])"#,
            r#"compute_at(stage="P", at="O.d0")"#,
            r#"compute_at(stage="L", at="O.d0")"#,
            r#"compute_at(stage="E", at="O.d0")"#,
            r#"compute_at(stage="M", at="O.d0")"#,
        ],
    );
    let groups = c.groups();
    assert_eq!(groups.last().unwrap().members.len(), 4, "{}", c.render());
    let program = lower(&c).to_opencl();
    // QK and S are kernels of their own; the rest is one.
    assert_eq!(program.launches.len(), 3, "{:?}", program.launches);
    assert!(program.source.contains("/* P computed here */"));
    // Elsewhere than the group loop is refused, with the reason.
    let plain = initial("llama3-8b-attn", 7);
    let e = illegal(&plain, r#"compute_at(stage="P", at="O.i0")"#);
    assert!(matches!(e, ScheduleError::AttachNotGroupLoop { .. }), "{e}");
    assert!(e.to_string().contains("work-group loop"), "{e}");
}

#[test]
fn what_the_cpu_has_and_opencl_does_not_is_refused_with_the_reason() {
    let c = initial("gemm-512", 0);
    let e = illegal(&c, r#"parallel(stage="C", loops=1)"#);
    assert!(matches!(e, ScheduleError::ParallelOnOpenCl { .. }), "{e}");
    let e = illegal(&c, r#"pack(stage="C", operand="B", layout="packed")"#);
    assert!(matches!(e, ScheduleError::CpuLayoutOnOpenCl { .. }), "{e}");
    assert!(e.to_string().contains("`local`"), "{e}");
    let e = illegal(&c, r#"vectorize(stage="C", lanes=16)"#);
    assert!(e.to_string().contains("1, 2, 4, 8"), "{e}");
    // And the other way round.
    let p = workload("gemm-512");
    let cpu = Candidate::initial(p.clone(), sketches(&p)[0].clone());
    let e = illegal(&cpu, r#"pack(stage="C", operand="A", layout="local")"#);
    assert!(matches!(e, ScheduleError::LocalOnCpu { .. }), "{e}");
}

#[test]
fn work_groups_registers_and_local_memory_are_bounded() {
    let c = initial("gemm-512", 0);
    let wide = apply(&c, &[r#"tile(stage="C", axis="i", factors=[32,1,1])"#]);
    let e = illegal(&wide, r#"tile(stage="C", axis="j", factors=[16,1,1])"#);
    assert!(matches!(e, ScheduleError::WorkGroupTooLarge { items: 512, .. }), "{e}");
    let tile =
        apply(&c, &[r#"tile(stage="C", axis="i", factors=[1,1,8])"#, r#"tile(stage="C", axis="j", factors=[1,1,16])"#]);
    let e = illegal(&tile, r#"accumulate(stage="C", into="registers")"#);
    assert!(matches!(e, ScheduleError::TileTooLargeForWorkItem { floats: 128, .. }), "{e}");
    // A group of 256 rows of A over all 512 of k: 128 Ki floats.
    let big =
        apply(&c, &[r#"tile(stage="C", axis="i", factors=[1,4,64])"#, r#"tile(stage="C", axis="k", factors=[512])"#]);
    let e = illegal(&big, r#"pack(stage="C", operand="A", layout="local")"#);
    assert!(matches!(e, ScheduleError::LocalTooLarge { floats: 131072, .. }), "{e}");
    // Softmax's probabilities divide by L: fine; a stage that does not read
    // the operand cannot stage it.
    let attn = initial("llama3-8b-attn", 7);
    let e = illegal(&attn, r#"pack(stage="P", operand="Q", layout="local")"#);
    assert!(matches!(e, ScheduleError::LocalNotStageable { .. }), "{e}");
    assert!(e.to_string().contains("does not read it"), "{e}");
}

#[test]
fn sampling_and_legal_edits_stay_in_the_opencl_space() {
    let (mut staged, mut fused, mut vector, mut items) = (0, 0, 0, 0);
    for w in colt_ir::SUITE {
        let p = Arc::new(w.program(Size::Bench));
        for seed in 0..12 {
            let c = Candidate::sample_on(p.clone(), Target::OpenCl, seed);
            assert_eq!(c, Candidate::sample_on(p.clone(), Target::OpenCl, seed), "deterministic");
            assert_eq!(c.target(), Target::OpenCl);
            c.check().unwrap_or_else(|e| panic!("{}: {e}", w.name));
            for s in c.stages() {
                assert_eq!(s.parallel, 0);
                assert!(s.packed.is_empty() && s.blocked.is_empty());
                staged += usize::from(!s.local.is_empty());
                fused += usize::from(matches!(s.placement, Placement::At { .. }));
                vector += usize::from(s.vector > 1);
            }
            items += usize::from(
                c.program().stages().iter().zip(c.stages()).any(|(stage, s)| opencl::work_group_size(stage, s) > 1),
            );
            let nest = lower(&c);
            assert!(matches!(&nest.body[1], colt_ir::loopnest::Node::Loop(l) if l.kind == LoopKind::Groups));
            // Every legal edit applies and stays on OpenCL; none is a CPU one.
            for edit in legal_edits(&c).into_iter().step_by(7) {
                let next = edit.apply(&c).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(next.target(), Target::OpenCl);
                assert!(!matches!(edit, Edit::Parallel { .. }), "{edit}");
                if let Edit::Pack { layout, .. } = &edit {
                    assert!(matches!(layout, PackLayout::Original | PackLayout::Local), "{edit}");
                }
            }
            let f = features(&c);
            assert!(f.0.iter().all(|x| x.is_finite()));
        }
    }
    assert!(staged > 0 && fused > 0 && vector > 0 && items > 0, "{staged} {fused} {vector} {items}");
}

#[test]
fn opencl_features_describe_the_kernel_and_are_zero_on_the_cpu() {
    // The four OpenCL features, in order, from the first.
    let o = FEATURE_NAMES.iter().position(|n| n.starts_with("OpenCL: log2 work-items")).unwrap();
    assert!(FEATURE_NAMES[o + 3].starts_with("OpenCL: share of the heaviest stage's operands"));
    let c = apply(&initial("gemm-512", 0), &[r#"tile(stage="C", axis="i", factors=[16,1,1])"#]);
    let f = features(&c).0;
    assert!((f[o] - (17f32).log2()).abs() < 1e-5, "{}", f[o]);
    assert!((f[o + 1] - (1.0 + 32.0 * 512.0f32).log2()).abs() < 1e-4, "{}", f[o + 1]);
    let staged = apply(&c, &[r#"pack(stage="C", operand="B", layout="local")"#]);
    let g = features(&staged).0;
    assert!(g[o + 2] > 0.0 && (g[o + 3] - 0.5).abs() < 1e-6, "{:?}", &g[o..o + 4]);
    let p = workload("gemm-512");
    let cpu = features(&Candidate::sample(p, 3)).0;
    assert_eq!(&cpu[o..o + 4], &[0.0; 4]);
}
