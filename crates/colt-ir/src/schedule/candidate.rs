//! Candidates: a program, a sketch and every decision; sampling; validity.

use super::analysis::{self, loop_order, LoopLevel};
use super::check::Decisions;
use super::error::ScheduleError;
use super::mask::{MaskFacts, MaskSlot};
use super::sketch::{effective_bodies, sketches, Sketch};
use super::{
    factor_domain, Accumulator, Group, Iterate, Placement, Rng, StageSchedule, Target, UNROLL_DEPTHS, VECTOR_WIDTHS,
};
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
    /// The masks and masked-iteration facts of the program and sketch,
    /// shared like `bodies` and computed on first use.
    masks: Arc<MaskSlot>,
    pub(crate) stages: Vec<StageSchedule>,
    target: Target,
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
        let candidate = Candidate { program, sketch, bodies, masks: Arc::default(), stages, target };
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
        Candidate { program, sketch, bodies, masks: Arc::default(), stages, target }
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
            masks: self.masks.clone(),
            stages,
            target: self.target,
        };
        candidate.check()?;
        Ok(candidate)
    }

    /// The masks of the program's stages under this sketch and what the
    /// rule of masked iteration reads (see [`mask`](super::mask)).
    pub fn mask_facts(&self) -> &MaskFacts {
        self.masks.get(&self.program, &self.bodies, &self.sketch)
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
    /// lineages stored before it rebuild the same candidates. `rfactor` is
    /// drawn from a stream of its own, so a stored lineage rebuilds the
    /// same candidate unless a stage of it now draws a vectorised
    /// reduction (a job skips such records: their fingerprints differ).
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
                if candidate.accept_or_drop_rfactor(s) {
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
        super::fusion::draw(&mut candidate, seed, super::MAX_REGISTER_TILE, true);
        candidate.draw_iteration(seed, 2);
        candidate
    }

    /// Moves stage `s` to `at` (not parallel), if that is legal; whether
    /// it did.
    pub(crate) fn try_placement(&mut self, s: usize, at: Placement) -> bool {
        let before = self.stages[s].clone();
        self.stages[s].placement = at;
        self.stages[s].parallel = 0;
        if self.check().is_ok() {
            return true;
        }
        self.stages[s] = before;
        false
    }

    /// Draws which stages iterate only the points their masks keep (see
    /// [`mask`](super::mask)): each stage with a mask, consumers first (a
    /// producer that leaves elements unwritten needs its readers to skip
    /// them too), one time in `odds` not, where the result is legal. From a
    /// stream of its own, so that every other decision of a seed is drawn
    /// as before the decision existed and programs without masks are
    /// sampled exactly as before.
    pub(crate) fn draw_iteration(&mut self, seed: u64, odds: usize) {
        if self.target != Target::Cpu {
            return;
        }
        let masked: Vec<usize> = (0..self.stages.len()).filter(|&s| self.mask_facts().masks[s].is_some()).collect();
        let mut rng = Rng::new(seed ^ 0x6974_6572_6174_6521);
        for s in masked.into_iter().rev() {
            if rng.below(odds) == 0 {
                continue;
            }
            self.stages[s].iterate = Iterate::Kept;
            if self.check().is_err() {
                self.stages[s].iterate = Iterate::All;
            }
        }
    }

    /// Moves stage `s` to a random legal compute-at location, if any.
    pub(crate) fn try_random_placement(&mut self, s: usize, rng: &mut Rng) {
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

    /// Whether stage `s`'s draw is legal, as drawn or with its `rfactor`
    /// turned off: the draw of a space without the decision, so that a
    /// refused `rfactor` costs no redraw (which would shift the stream).
    pub(crate) fn accept_or_drop_rfactor(&mut self, s: usize) -> bool {
        if self.check().is_ok() {
            return true;
        }
        if self.stages[s].rfactor == 1 {
            return false;
        }
        self.stages[s].rfactor = 1;
        self.check().is_ok()
    }

    /// A uniform `rfactor` for stage `s`'s draw `sched`: where the draw
    /// left the stage scalar and its reduction can be read in vectors, one
    /// of the widths that divide the `R1` factor. Drawn from a stream of
    /// its own, seeded by `rng`'s state without advancing it, so that
    /// every other decision (and every stored lineage without it) draws as
    /// before the decision existed.
    fn random_rfactor(&self, s: usize, sched: &StageSchedule, rng: &Rng) -> usize {
        let stage = &self.program.stages()[s];
        let Some(axis) = super::rfactor::rfactor_axis(stage) else { return 1 };
        if self.target != Target::Cpu
            || sched.vector > 1
            || !super::rfactor::rfactorable(&self.program, stage, &self.bodies[s])
        {
            return 1;
        }
        let r1 = sched.tiles[axis.0][0];
        let widths: Vec<usize> = VECTOR_WIDTHS.into_iter().filter(|w| r1.is_multiple_of(*w)).collect();
        rfactor_stream(rng).pick(&widths)
    }

    pub(crate) fn random_schedule(&self, s: usize, rng: &mut Rng) -> StageSchedule {
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
        let mut sched = StageSchedule {
            placement: Placement::Root,
            tiles,
            parallel: if parallel_decision { parallel } else { 0 },
            vector: lanes,
            unroll,
            accumulator,
            blocked: Vec::new(),
            packed,
            local,
            fused: None,
            rfactor: 1,
            iterate: Iterate::All,
        };
        sched.rfactor = self.random_rfactor(s, &sched, rng);
        sched
    }

    /// Checks every rule (see `check`, and [`analysis`] for compute-at's).
    pub fn check(&self) -> Result<(), ScheduleError> {
        Decisions {
            program: &self.program,
            sketch: &self.sketch,
            bodies: &self.bodies,
            stages: &self.stages,
            target: self.target,
            masks: &self.masks,
        }
        .check()
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
        analysis::groups(&self.program, &self.sketch, &self.bodies, &self.stages).unwrap_or_default()
    }

    /// The index of the stage called `name`.
    pub fn stage_index(&self, name: &str) -> Option<usize> {
        self.program.stages().iter().position(|s| self.program.stage_name(s) == name)
    }
}

/// The stream the samplers draw `rfactor` from: seeded by the main
/// stream's state, which it leaves where it is (see `random_rfactor`).
pub(crate) fn rfactor_stream(rng: &Rng) -> Rng {
    Rng::new(rng.clone().next_u64() ^ 0x7266_6163_746f_7221)
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
        fused: None,
        rfactor: 1,
        iterate: Iterate::All,
    }
}
