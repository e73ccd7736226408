//! The check of every decision: what makes a [`Candidate`](super::Candidate)
//! valid. Every constructor and every edit of a candidate goes through
//! [`Decisions::check`], so lowering never meets an illegal schedule.
//!
//! It reads the candidate's parts rather than the candidate (which is made
//! only once they pass), and through `analysis`, `pack` and `opencl` for
//! what the decisions mean; none of those knows a candidate exists.

use super::analysis::{groups, load_stride, loop_name, loop_order, register_count, Section};
use super::error::ScheduleError;
use super::mask::MaskSlot;
use super::opencl;
use super::pack::packed_view;
use super::rfactor::check_rfactor;
use super::sketch::{Sketch, StageRule};
use super::{Accumulator, Iterate, Placement, StageSchedule, Target, MAX_REGISTER_TILE, UNROLL_DEPTHS};
use crate::expr::{AxisId, BufferId, Expr, Load};
use crate::program::{AxisKind, Combine, Program, Stage};

/// The parts of a would-be candidate that the rules read.
#[derive(Clone, Copy)]
pub(crate) struct Decisions<'a> {
    pub program: &'a Program,
    pub sketch: &'a Sketch,
    /// Every stage's body after the sketch's inlining.
    pub bodies: &'a [Expr],
    pub stages: &'a [StageSchedule],
    pub target: Target,
    /// The masks' facts, computed only when a stage iterates its kept
    /// points.
    pub masks: &'a MaskSlot,
}

impl Decisions<'_> {
    /// Every rule, or the first one broken: the fused stages' rules, each
    /// stage's decisions, the fused register budget, then the placements'
    /// group rules.
    pub fn check(&self) -> Result<(), ScheduleError> {
        super::fusion::check(self.program, self.sketch, self.bodies, self.stages, self.target)?;
        self.check_stages()?;
        super::fusion::check_registers(self.program, self.stages)?;
        let groups = groups(self.program, self.sketch, self.bodies, self.stages)?;
        super::pack::check_blocked_members(self.program, self.stages, &groups)?;
        self.check_iteration()
    }

    /// Masked iteration's rule (see `mask`), read only when a stage uses it.
    fn check_iteration(&self) -> Result<(), ScheduleError> {
        if self.stages.iter().all(|s| s.iterate == Iterate::All) {
            return Ok(());
        }
        // The masked lowering clamps and guards the loops of the stage's
        // own nest (a vectorised reduction's too); a fused register tile
        // has loops of its own that it does not guard.
        for (s, sched) in self.stages.iter().enumerate() {
            let fused = super::fusion::is_fused(self.stages, s) || super::fusion::fused_set(self.stages, s).len() > 1;
            if sched.iterate == Iterate::Kept && fused {
                let stage = self.program.stage_name(&self.program.stages()[s]).to_string();
                return Err(ScheduleError::IterateExcluded { stage, other: "is fused with another stage".to_string() });
            }
        }
        let facts = self.masks.get(self.program, self.bodies, self.sketch);
        facts.check(self.program, self.bodies, self.stages, self.target)
    }

    /// Every decision of every stage (the placements' group rules are
    /// [`groups`]'s), in the order the first broken rule is reported.
    fn check_stages(&self) -> Result<(), ScheduleError> {
        let program = self.program;
        let view = packed_view(program, self.bodies, self.stages)?;
        let n = program.stages().len();
        for s in 0..n {
            let stage = &program.stages()[s];
            let name = program.stage_name(stage).to_string();
            let sched = &self.stages[s];
            let rule = self.sketch.rules[s];
            if rule == StageRule::Inlined {
                if sched.placement != Placement::Inlined {
                    return Err(ScheduleError::InlinedStagePlaced { stage: name });
                }
                continue;
            }
            if sched.tiles.len() != stage.axes.len() {
                return Err(ScheduleError::WrongAxisCount {
                    stage: name,
                    expected: stage.axes.len(),
                    got: sched.tiles.len(),
                });
            }
            for (axis, factors) in stage.axes.iter().zip(&sched.tiles) {
                let expected = if axis.kind == AxisKind::Spatial { 3 } else { 1 };
                let axis_name = axis.name.clone();
                if factors.len() != expected {
                    return Err(ScheduleError::WrongFactorCount {
                        stage: name,
                        axis: axis_name,
                        expected,
                        got: factors.len(),
                    });
                }
                if factors.contains(&0) {
                    return Err(ScheduleError::ZeroFactor { stage: name, axis: axis_name });
                }
                let product: usize = factors.iter().product();
                if product > axis.extent {
                    return Err(ScheduleError::TileLargerThanAxis {
                        stage: name,
                        axis: axis_name,
                        product,
                        extent: axis.extent,
                    });
                }
                let free = self.target.free_levels(rule);
                let fixed_set = (0..factors.len()).any(|l| !free.contains(&l) && factors[l] != 1);
                if axis.kind == AxisKind::Spatial && fixed_set {
                    return Err(ScheduleError::LevelFixedBySketch { stage: name, axis: axis_name });
                }
            }
            match self.target {
                Target::Cpu => self.check_cpu_stage(s)?,
                Target::OpenCl => self.check_opencl_stage(s)?,
            }
            let spatial = stage.spatial_axes().count();
            match sched.placement {
                Placement::Inlined => return Err(ScheduleError::NotInlinable { stage: name }),
                Placement::Root => {
                    if sched.parallel > spatial {
                        return Err(ScheduleError::ParallelTooDeep { stage: name, loops: sched.parallel, spatial });
                    }
                }
                Placement::At { stage: r, loop_index } => {
                    if sched.parallel != 0 {
                        return Err(ScheduleError::ParallelInsideComputeAt { stage: name });
                    }
                    self.check_attach_point(s, r, loop_index)?;
                }
            }
            let widths = self.target.vector_widths();
            if !widths.contains(&sched.vector) {
                let widths = widths.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(", ");
                return Err(ScheduleError::BadVectorWidth { stage: name, lanes: sched.vector, widths });
            }
            if sched.vector > 1 {
                if let Some(reason) = vector_obstacle(&view.program, stage, &view.bodies[s], &view.contiguous) {
                    return Err(ScheduleError::NotVectorisable { stage: name, reason });
                }
                // `vector_obstacle` refuses a stage without spatial axes, so
                // there is a last one here.
                if let Some((last, axis)) = stage.spatial_axes().last() {
                    let f3 = sched.tiles[last.0][2];
                    if !f3.is_multiple_of(sched.vector) {
                        return Err(ScheduleError::VectorDoesNotDivideTile {
                            stage: name,
                            lanes: sched.vector,
                            axis: axis.name.clone(),
                            f3,
                        });
                    }
                }
            }
            check_rfactor(&view.program, stage, &view.bodies[s], sched, self.target)?;
            if !UNROLL_DEPTHS.contains(&sched.unroll) {
                return Err(ScheduleError::BadUnroll { stage: name, depth: sched.unroll });
            }
            if sched.accumulator == Accumulator::Registers {
                if stage.combine == Combine::Assign {
                    return Err(ScheduleError::RegistersWithoutReduction { stage: name });
                }
                let count = register_count(stage, sched);
                if count > MAX_REGISTER_TILE {
                    return Err(ScheduleError::RegisterTileTooLarge { stage: name, count, max: MAX_REGISTER_TILE });
                }
            }
        }
        Ok(())
    }

    /// Rule 3 of compute-at (see `analysis`): where stage `s` may be
    /// computed inside root `r`.
    fn check_attach_point(&self, s: usize, r: usize, loop_index: usize) -> Result<(), ScheduleError> {
        let program = self.program;
        let name = program.stage_name(&program.stages()[s]).to_string();
        if r <= s || r >= program.stages().len() {
            return Err(ScheduleError::AttachNotToLaterStage { stage: name });
        }
        let root = &program.stages()[r];
        let root_name = program.stage_name(root).to_string();
        // A fused stage has no loops of its own to take another stage.
        if self.stages[r].placement != Placement::Root || self.stages[r].fused.is_some() {
            return Err(ScheduleError::AttachToNonRoot { stage: name, target: root_name });
        }
        let order = loop_order(root);
        let Some(l) = order.get(loop_index) else {
            return Err(ScheduleError::AttachLoopMissing { stage: name, target: root_name, loop_index });
        };
        let at = format!("{root_name}.{}", loop_name(root, l));
        if l.section > Section::R0 {
            return Err(ScheduleError::AttachInsideTile { stage: name, at });
        }
        if loop_index + 1 < self.stages[r].parallel {
            return Err(ScheduleError::AttachBetweenParallelLoops { stage: name, at });
        }
        Ok(())
    }

    /// The OpenCL rules of stage `s` (after the target-independent ones).
    fn check_opencl_stage(&self, s: usize) -> Result<(), ScheduleError> {
        let program = self.program;
        let stage = &program.stages()[s];
        let name = program.stage_name(stage).to_string();
        let sched = &self.stages[s];
        if sched.parallel != 0 {
            return Err(ScheduleError::ParallelOnOpenCl { stage: name });
        }
        if let Some(&b) = sched.packed.first() {
            let operand = program.buffer(BufferId(b)).name.clone();
            return Err(ScheduleError::CpuLayoutOnOpenCl { stage: name, operand });
        }
        match sched.placement {
            Placement::At { stage: r, loop_index } => {
                let order = loop_order(&program.stages()[r]);
                if !opencl::is_group_loop(&order, loop_index) {
                    let root = &program.stages()[r];
                    let at = format!("{}.{}", program.stage_name(root), loop_name(root, &order[loop_index]));
                    return Err(ScheduleError::AttachNotGroupLoop { stage: name, at });
                }
                if !sched.local.is_empty() {
                    return Err(ScheduleError::LocalInComputeAt { stage: name });
                }
            }
            Placement::Root => {
                let floats: usize = stage.spatial_axes().map(|(a, _)| sched.tiles[a.0][2]).product();
                if sched.accumulator == Accumulator::Registers && floats > opencl::MAX_TILE_FLOATS {
                    return Err(ScheduleError::TileTooLargeForWorkItem {
                        stage: name,
                        floats,
                        max: opencl::MAX_TILE_FLOATS,
                    });
                }
                let items = opencl::work_group_size(stage, sched);
                if items > opencl::MAX_WORK_GROUP {
                    return Err(ScheduleError::WorkGroupTooLarge { stage: name, items, max: opencl::MAX_WORK_GROUP });
                }
                opencl::local_regions(program, s, &self.bodies[s], sched)?;
            }
            Placement::Inlined => {}
        }
        Ok(())
    }

    /// The CPU's side of the same rule: local memory is OpenCL's.
    fn check_cpu_stage(&self, s: usize) -> Result<(), ScheduleError> {
        let program = self.program;
        if let Some(&b) = self.stages[s].local.first() {
            return Err(ScheduleError::LocalOnCpu {
                stage: program.stage_name(&program.stages()[s]).to_string(),
                operand: program.buffer(BufferId(b)).name.clone(),
            });
        }
        Ok(())
    }
}

/// Why the innermost spatial axis of a stage cannot be vectorised, if it
/// cannot: every load must be contiguous (stride 1) or invariant (stride 0)
/// along it, and a padded load's bounds check must not depend on it.
/// Loads of `contiguous` buffers (blocked packs) count as contiguous.
pub fn vector_obstacle(program: &Program, stage: &Stage, body: &Expr, contiguous: &[BufferId]) -> Option<String> {
    let Some((axis, _)) = stage.spatial_axes().last() else {
        return Some("it has no spatial axis".to_string());
    };
    let ranges: Vec<(i64, i64)> = stage.axes.iter().map(|a| (0, a.extent as i64 - 1)).collect();
    let mut obstacle = None;
    let mut check = |l: &Load| {
        if obstacle.is_some() {
            return;
        }
        let name = &program.buffer(l.buffer).name;
        if contiguous.contains(&l.buffer) {
            return;
        }
        match load_stride(program, l, axis) {
            Some(0) | Some(1) => {}
            Some(s) => obstacle = Some(format!("`{name}` is read with stride {s} along it")),
            None => obstacle = Some(format!("`{name}` is indexed by a division or modulo of it")),
        }
        if l.pad.is_some() {
            let shape = &program.buffer(l.buffer).shape;
            for (e, &extent) in l.index.iter().zip(shape) {
                let (lo, hi) = e.range(&|a: &AxisId| ranges[a.0]);
                if e.mentions(&axis) && (lo < 0 || hi >= extent as i64) {
                    obstacle = Some(format!("the padding of `{name}` depends on it"));
                }
            }
        }
    };
    body.for_each_load(&mut check);
    obstacle
}
