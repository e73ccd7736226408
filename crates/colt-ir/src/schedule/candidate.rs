//! Candidates: a program, a sketch and every decision; sampling; validity.

use super::analysis::{self, check_decisions, loop_order, LoopLevel};
use super::sketch::{effective_bodies, sketches, Sketch};
use super::{factor_domain, Accumulator, Group, Placement, Rng, StageSchedule, Target, UNROLL_DEPTHS};
use crate::expr::Expr;
use crate::program::{AxisKind, Program};
use std::sync::Arc;

/// A point of the schedule space. Always valid: the constructors check
/// every rule, and edits go through them.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    program: Arc<Program>,
    pub(crate) sketch: Sketch,
    /// The stage bodies after the sketch's inlining: fixed by the program
    /// and the sketch, which edits never change, so computed once per
    /// sketch and shared by every candidate edited from it.
    bodies: Arc<[Expr]>,
    pub(crate) stages: Vec<StageSchedule>,
    target: Target,
}

/// Why a schedule is not legal. Every variant names the stage (and the axis
/// or loop) it is about.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("stage `{stage}` has {got} tiled axes, expected {expected}")]
    WrongAxisCount { stage: String, expected: usize, got: usize },
    #[error("axis `{axis}` of stage `{stage}` takes {expected} tile factors, got {got}")]
    WrongFactorCount { stage: String, axis: String, expected: usize, got: usize },
    #[error("axis `{axis}` of stage `{stage}` has a tile factor of 0")]
    ZeroFactor { stage: String, axis: String },
    #[error(
        "the tile factors of axis `{axis}` of stage `{stage}` multiply to {product}, more than its extent {extent}"
    )]
    TileLargerThanAxis { stage: String, axis: String, product: usize, extent: usize },
    #[error("stage `{stage}` uses the simple sketch rule: only the innermost tile factor of axis `{axis}` is free")]
    LevelFixedBySketch { stage: String, axis: String },
    #[error("stage `{stage}` is inlined by its sketch and has no loops to schedule")]
    InlinedStagePlaced { stage: String },
    #[error("stage `{stage}` cannot be inlined: it is not an elementwise temporary read without padding")]
    NotInlinable { stage: String },
    #[error("stage `{stage}` has {spatial} spatial loops, cannot parallelise {loops}")]
    ParallelTooDeep { stage: String, loops: usize, spatial: usize },
    #[error("stage `{stage}` is computed at another stage's loop, which decides its parallelism; it cannot be parallel itself")]
    ParallelInsideComputeAt { stage: String },
    #[error("stage `{stage}`: {lanes} is not a vector width of the target ({widths})")]
    BadVectorWidth { stage: String, lanes: usize, widths: String },
    #[error("stage `{stage}` cannot be vectorised along its innermost spatial axis: {reason}")]
    NotVectorisable { stage: String, reason: String },
    #[error("stage `{stage}`: {lanes} lanes do not divide the register tile of axis `{axis}` ({f3})")]
    VectorDoesNotDivideTile { stage: String, lanes: usize, axis: String, f3: usize },
    #[error("stage `{stage}`: {depth} is not an unroll depth (0, 16, 64 or 512)")]
    BadUnroll { stage: String, depth: usize },
    #[error("stage `{stage}` is elementwise: it has no reduction to accumulate in registers")]
    RegistersWithoutReduction { stage: String },
    #[error("stage `{stage}`: a register tile of {count} accumulators is more than the {max} registers there are", max = super::MAX_REGISTER_TILE)]
    RegisterTileTooLarge { stage: String, count: usize },
    #[error("stage `{stage}` can only be computed at a loop of a later stage")]
    AttachNotToLaterStage { stage: String },
    #[error(
        "stage `{stage}` cannot be computed at `{target}`, which is itself computed at or inlined into another stage"
    )]
    AttachToNonRoot { stage: String, target: String },
    #[error("stage `{stage}`: `{target}` has no loop number {loop_index}")]
    AttachLoopMissing { stage: String, target: String, loop_index: usize },
    #[error(
        "stage `{stage}` cannot be computed at `{at}`: only the outer tile loops (levels S0, S1, R0) take other stages"
    )]
    AttachInsideTile { stage: String, at: String },
    #[error("stage `{stage}` cannot be computed at `{at}`: it lies between loops that are fused for parallelism")]
    AttachBetweenParallelLoops { stage: String, at: String },
    #[error("stage `{stage}` cannot be computed inside `{root}`: its consumer `{consumer}` runs before `{root}`")]
    ConsumerRunsEarlier { stage: String, consumer: String, root: String },
    #[error("stage `{stage}` must be computed no deeper than its consumer `{consumer}` in the same loop nest")]
    ConsumerShallower { stage: String, consumer: String },
    #[error("stage `{stage}` cannot be computed at `{at}`: loop `{loop_name}` iterates {trips} times over an axis `{stage}` does not depend on, so it would be recomputed")]
    RecomputedInLoop { stage: String, at: String, loop_name: String, trips: usize },
    #[error("stage `{stage}` does not read `{operand}`, so it cannot pack it")]
    PackNotRead { stage: String, operand: String },
    #[error("stage `{stage}` reads `{operand}` at different indices, so one packed layout cannot serve it")]
    PackReadSeveralWays { stage: String, operand: String },
    #[error("stage `{stage}` can block `{operand}` only when it is a root stage reading it at exactly its vector axis `{axis}` in one dimension")]
    BlockNeedsVectorDimension { stage: String, operand: String, axis: String },
    #[error("stage `{stage}` cannot pack `{operand}`: it is computed in the same phase, after the packing would run")]
    PackProducedInPhase { stage: String, operand: String },
    #[error("stage `{stage}`: OpenCL kernels bind every spatial loop to work-groups and work-items; there is no `parallel` decision (use loops=0)")]
    ParallelOnOpenCl { stage: String },
    #[error("stage `{stage}` packs `{operand}` in a CPU layout; on OpenCL an operand is `original` or staged in `local` memory")]
    CpuLayoutOnOpenCl { stage: String, operand: String },
    #[error("stage `{stage}` stages `{operand}` in local memory, which only OpenCL kernels have")]
    LocalOnCpu { stage: String, operand: String },
    #[error("stage `{stage}` cannot be computed at `{at}`: on OpenCL a stage is computed at a root stage's work-group loop (its last `S0` loop) or at the root")]
    AttachNotGroupLoop { stage: String, at: String },
    #[error("stage `{stage}` is computed inside another stage's work-group; only root stages stage operands in local memory")]
    LocalInComputeAt { stage: String },
    #[error("stage `{stage}` has work-groups of {items} work-items (the product of its spatial axes' first tile factors), more than {max}", max = super::gpu::MAX_WORK_GROUP)]
    WorkGroupTooLarge { stage: String, items: usize },
    #[error("stage `{stage}` cannot stage `{operand}` in local memory: {reason}")]
    LocalNotStageable { stage: String, operand: String, reason: String },
    #[error("stage `{stage}` accumulates a register tile of {floats} floats per work-item, more than {max}", max = super::gpu::MAX_TILE_FLOATS)]
    TileTooLargeForWorkItem { stage: String, floats: usize },
    #[error("stage `{stage}` stages {floats} floats in local memory per work-group, more than {max}", max = super::gpu::MAX_LOCAL_FLOATS)]
    LocalTooLarge { stage: String, floats: usize },
}

impl Candidate {
    /// A CPU candidate from explicit decisions, checked.
    pub fn new(program: Arc<Program>, sketch: Sketch, stages: Vec<StageSchedule>) -> Result<Candidate, ScheduleError> {
        Candidate::new_on(program, sketch, stages, Target::Cpu)
    }

    /// A candidate for `target` from explicit decisions, checked.
    pub fn new_on(
        program: Arc<Program>,
        sketch: Sketch,
        stages: Vec<StageSchedule>,
        target: Target,
    ) -> Result<Candidate, ScheduleError> {
        let bodies = effective_bodies(&program, &sketch).into();
        let candidate = Candidate { program, sketch, bodies, stages, target };
        candidate.check()?;
        Ok(candidate)
    }

    /// The untransformed CPU schedule of a sketch: every stage at the root,
    /// untiled, scalar, sequential.
    pub fn initial(program: Arc<Program>, sketch: Sketch) -> Candidate {
        Candidate::initial_on(program, sketch, Target::Cpu)
    }

    /// The untransformed schedule of a sketch on `target` (on OpenCL: one
    /// work-item per work-group, each computing one point).
    pub fn initial_on(program: Arc<Program>, sketch: Sketch, target: Target) -> Candidate {
        let stages = (0..program.stages().len()).map(|s| default_schedule(&program, &sketch, s)).collect();
        let bodies = effective_bodies(&program, &sketch).into();
        Candidate { program, sketch, bodies, stages, target }
    }

    /// What the candidate's kernel runs on.
    pub fn target(&self) -> Target {
        self.target
    }

    /// The same program and sketch with other decisions, checked.
    pub(crate) fn with_stages(&self, stages: Vec<StageSchedule>) -> Result<Candidate, ScheduleError> {
        let candidate = Candidate {
            program: self.program.clone(),
            sketch: self.sketch.clone(),
            bodies: self.bodies.clone(),
            stages,
            target: self.target,
        };
        candidate.check()?;
        Ok(candidate)
    }

    /// Every stage's body after the sketch's inlining, in program order.
    pub fn bodies(&self) -> &[Expr] {
        &self.bodies
    }

    /// A random candidate, deterministic in `seed`: a sketch, then each
    /// stage's decisions (consumers first, so that compute-at targets are
    /// decided), redrawn until legal; then, for half the stages, a random
    /// legal compute-at placement if there is one.
    pub fn sample(program: Arc<Program>, seed: u64) -> Candidate {
        Candidate::sample_on(program, Target::Cpu, seed)
    }

    /// [`sample`](Candidate::sample) on `target`. The CPU's stream of
    /// random draws is unchanged by the OpenCL space's existence, so CPU
    /// lineages stored before it rebuild the same candidates.
    pub fn sample_on(program: Arc<Program>, target: Target, seed: u64) -> Candidate {
        let mut rng = Rng::new(seed);
        let all = sketches(&program);
        let sketch = all[rng.below(all.len())].clone();
        let mut candidate = Candidate::initial_on(program, sketch, target);
        for s in (0..candidate.stages.len()).rev() {
            if candidate.sketch.is_inlined(s) {
                continue;
            }
            for _ in 0..32 {
                let before = candidate.stages[s].clone();
                candidate.stages[s] = candidate.random_schedule(s, &mut rng);
                if candidate.check().is_ok() {
                    break;
                }
                candidate.stages[s] = before;
            }
            // Half the packed operands blocked, where that is legal.
            for b in candidate.stages[s].packed.clone() {
                if rng.below(2) == 0 {
                    candidate.stages[s].blocked.push(b);
                    if candidate.check().is_err() {
                        candidate.stages[s].blocked.pop();
                    }
                }
            }
            if rng.below(2) == 0 {
                candidate.try_random_placement(s, &mut rng);
            }
        }
        candidate
    }

    /// Moves stage `s` to a random legal compute-at location, if any.
    fn try_random_placement(&mut self, s: usize, rng: &mut Rng) {
        let program = self.program.clone();
        let mut options = Vec::new();
        for r in s + 1..program.stages().len() {
            if self.stages[r].placement != Placement::Root {
                continue;
            }
            let order = loop_order(&program.stages()[r]);
            for i in (0..order.len()).filter(|&i| self.target.offers_attach(&order, i)) {
                options.push(Placement::At { stage: r, loop_index: i });
            }
        }
        let before = self.stages[s].clone();
        let mut legal = Vec::new();
        for p in options {
            self.stages[s].placement = p.clone();
            self.stages[s].parallel = 0;
            if self.check().is_ok() {
                legal.push(p);
            }
        }
        self.stages[s] = before;
        if !legal.is_empty() {
            self.stages[s].placement = legal[rng.below(legal.len())].clone();
            self.stages[s].parallel = 0;
        }
    }

    fn random_schedule(&self, s: usize, rng: &mut Rng) -> StageSchedule {
        let program = &self.program;
        let stage = &program.stages()[s];
        let rule = self.sketch.rules[s];
        let last_spatial = stage.spatial_axes().last().map(|(id, _)| id);
        let parallel_decision = self.target.has_parallel_decision();
        // Vector lanes first, so that the register tile of the innermost
        // axis can be drawn as a multiple of them.
        let lanes = rng.pick(self.target.vector_widths());
        let tiles = stage
            .axes
            .iter()
            .enumerate()
            .map(|(a, axis)| {
                let domain = factor_domain(axis.extent);
                if axis.kind == AxisKind::Reduction {
                    return vec![rng.pick(&domain)];
                }
                let mut factors = vec![1, 1, 1];
                // Innermost level first: the register tile is drawn as a
                // multiple of the lanes before the outer levels take the rest.
                for &l in self.target.free_levels(rule).iter().rev() {
                    let used: usize = factors.iter().product();
                    // Work-items per group along one axis: at most 64, so
                    // that a few axes' product stays under the group limit.
                    let cap = if self.target == Target::OpenCl && l == 0 { 64 } else { usize::MAX };
                    let mut fits: Vec<usize> =
                        domain.iter().copied().filter(|f| f * used <= axis.extent && *f <= cap).collect();
                    if l == 2 && Some(crate::expr::AxisId(a)) == last_spatial {
                        let multiples: Vec<usize> = fits.iter().copied().filter(|f| f % lanes == 0).collect();
                        if !multiples.is_empty() {
                            fits = multiples;
                        }
                    }
                    factors[l] = rng.pick(&fits);
                }
                factors
            })
            .collect();
        let spatial = stage.spatial_axes().count();
        // The draws in the order the CPU space has always made them, so
        // that stored CPU lineages rebuild the same candidates.
        let accumulator = if stage.combine != crate::program::Combine::Assign && rng.below(3) != 0 {
            Accumulator::Registers
        } else {
            Accumulator::Memory
        };
        let parallel = rng.below(spatial + 1);
        let unroll = rng.pick(&UNROLL_DEPTHS);
        // Each operand packed (CPU) or staged in local memory (OpenCL)
        // with probability 1/3.
        let chosen = {
            let mut ids: Vec<usize> =
                super::pack::operands(&self.bodies[s]).into_iter().map(|b| b.0).filter(|_| rng.below(3) == 0).collect();
            ids.sort_unstable();
            ids
        };
        let (packed, local) = match self.target {
            Target::Cpu => (chosen, Vec::new()),
            Target::OpenCl => (Vec::new(), chosen),
        };
        StageSchedule {
            placement: Placement::Root,
            tiles,
            parallel: if parallel_decision { parallel } else { 0 },
            vector: lanes,
            unroll,
            accumulator,
            blocked: Vec::new(),
            packed,
            local,
        }
    }

    /// Checks every rule; see [`analysis`].
    pub fn check(&self) -> Result<(), ScheduleError> {
        check_decisions(self)?;
        analysis::groups(self).map(|_| ())
    }

    pub fn program(&self) -> &Program {
        &self.program
    }

    pub fn program_arc(&self) -> &Arc<Program> {
        &self.program
    }

    pub fn sketch(&self) -> &Sketch {
        &self.sketch
    }

    /// The decisions of every stage, in program order.
    pub fn stages(&self) -> &[StageSchedule] {
        &self.stages
    }

    /// The stage's loops in nest order.
    pub fn loop_order(&self, stage: usize) -> Vec<LoopLevel> {
        loop_order(&self.program.stages()[stage])
    }

    /// The phases of the kernel: root stages with what is computed inside
    /// them. A candidate is valid, so this cannot fail.
    pub fn groups(&self) -> Vec<Group> {
        analysis::groups(self).unwrap_or_default()
    }

    /// The index of the stage called `name`.
    pub fn stage_index(&self, name: &str) -> Option<usize> {
        self.program.stages().iter().position(|s| self.program.stage_name(s) == name)
    }
}

/// The decisions of the untransformed loop nest.
pub(crate) fn default_schedule(program: &Program, sketch: &Sketch, s: usize) -> StageSchedule {
    let stage = &program.stages()[s];
    let placement = if sketch.is_inlined(s) { Placement::Inlined } else { Placement::Root };
    let tiles = stage.axes.iter().map(|a| if a.kind == AxisKind::Spatial { vec![1, 1, 1] } else { vec![1] }).collect();
    StageSchedule {
        placement,
        tiles,
        parallel: 0,
        vector: 1,
        unroll: 0,
        accumulator: Accumulator::Memory,
        packed: Vec::new(),
        blocked: Vec::new(),
        local: Vec::new(),
    }
}
