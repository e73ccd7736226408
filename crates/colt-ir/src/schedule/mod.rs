//! The schedule space: the points colt's search moves between.
//!
//! A [`Candidate`] is a program, a [`Sketch`] (the structure chosen by
//! rules, in the manner of TVM MetaSchedule's sketch generation: which
//! elementwise stages are inlined, which stages get multi-level tiling) and
//! one value per [`Decision`](StageSchedule) of that sketch. Candidates
//! lower deterministically to a [`LoopNest`](crate::loopnest::LoopNest) and
//! from there to C under the kernel ABI (see the crate docs).
//!
//! # The loop structure of a stage
//!
//! Every computed stage is lowered with the same structure, MetaSchedule's
//! multi-level tiling `S S R S R S`: each spatial axis `x` is split into 4
//! levels `x0 x1 x2 x3`, each reduction axis `k` into 2 levels `k0 k1`, and
//! the loops run in the order
//!
//! ```text
//! S0 (all spatial x0)  S1 (x1)  R0 (k0)  S2 (x2)  [accumulator]  R1 (k1)  S3 (x3)
//! ```
//!
//! A spatial axis's decision is its three inner factors `[f1, f2, f3]`; the
//! outer factor is whatever covers the extent, so factors need not divide
//! it: tiles at the end are clamped (tails). A reduction axis's decision is
//! its inner factor `[r1]`. The `S3` tile is the *register tile*: with
//! `accumulator = registers` its points live in local variables for the
//! whole `R1` loop, and the innermost spatial axis of `S3` is vectorised
//! with `vector` lanes — or, with `rfactor` lanes, the innermost `R1`
//! loop instead (a vectorised reduction, see [`rfactor`]). Full tiles take
//! a fast path with constant trip counts; partial tiles at the edges take
//! a clamped path, point by point (a reduction's points each accumulated
//! in a register over the `R1` loop, by whole vectors along the vector
//! axis while they fit, then element by element).
//!
//! Sketches differ in what is free: multi-level tiling (stages that reduce
//! over a product of loads, i.e. reuse data) frees every level; the simple
//! rule (elementwise stages, softmax's row reductions) frees only `f3` and
//! `r1`.
//!
//! # Placement
//!
//! A stage is computed at the root (its own phase, optionally parallel), or
//! *at* a loop of a later root stage (`compute_at`): it then runs inside that
//! loop, on the region of its output that the loop's iteration needs, so
//! that e.g. attention's softmax stages become a row-wise pipeline inside the
//! output's row loop. See [`analysis`] for the rules that make a placement
//! legal. Temporaries keep their full size either way.
//!
//! # Fusion
//!
//! A reduction may instead be computed in the nest of an earlier reduction
//! over the same axes (a *sibling*: SwiGLU's up projection beside its
//! gate, one register tile holding both accumulator sets), and an
//! elementwise stage that reads only those at its own point on their
//! finished accumulators (an *epilogue*: `silu(G)·U`). A fused stage has no
//! loops of its own; see [`fusion`] for the rules.

pub mod analysis;
mod candidate;
mod check;
mod edit;
mod edit_kind;
mod error;
pub mod fusion;
mod informed;
mod legal;
mod lineage;
mod lower;
pub mod mask;
pub mod opencl;
pub mod pack;
mod pipeline;
mod render;
pub mod rfactor;
mod sampler;
mod sketch;
mod style;

pub use analysis::{loop_name, loop_order, Group, LoopLevel, Member, Section, StageBinding};
pub use candidate::Candidate;
pub use edit::{placement_text, Argument, Edit, EditError, EditParseError};
pub use edit_kind::{edit_syntax, EditKind, EditKindSpec, EDIT_KINDS};
pub use error::ScheduleError;
pub use legal::{legal_edits, random_legal_edit};
pub use lineage::{Lineage, LineageError};
pub(crate) use lower::intrinsic_flops;
pub use lower::lower;
pub use sampler::{Machine, Sampler, SamplerParseError};
pub use sketch::{effective_bodies, inlinable, sketches, Sketch, StageRule};
pub use style::{TileStyle, MAX_STYLE_VECTORS};

/// Where a stage is computed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Placement {
    /// Its own phase, in program order.
    Root,
    /// Inside the loop `loop_index` (a position in
    /// [`loop_order`](Candidate::loop_order)) of the root stage `stage`.
    At { stage: usize, loop_index: usize },
    /// Substituted into its consumers (fixed by the sketch).
    Inlined,
}

/// How a reduction stage accumulates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Accumulator {
    /// Into the output buffer itself.
    Memory,
    /// Into local variables holding the register tile over the whole `R1`
    /// loop (full tiles; an edge tile accumulates one point, or one
    /// vector of points, at a time in a register).
    Registers,
}

impl Accumulator {
    pub fn name(self) -> &'static str {
        match self {
            Accumulator::Memory => "memory",
            Accumulator::Registers => "registers",
        }
    }
}

/// The decisions of one stage.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StageSchedule {
    pub placement: Placement,
    /// Per axis of the stage, in axis order: `[f1, f2, f3]` for a spatial
    /// axis, `[r1]` for a reduction axis.
    pub tiles: Vec<Vec<usize>>,
    /// How many outermost spatial `S0` loops are fused and split over the
    /// tasks (root stages only; 0 = task 0 does the whole stage).
    pub parallel: usize,
    /// Lanes of the innermost `S3` loop (1 = scalar).
    pub vector: usize,
    /// Maximum number of body copies unrolled in the innermost loops
    /// (MetaSchedule's `auto_unroll_max_step`); 0 = no unrolling hint.
    pub unroll: usize,
    pub accumulator: Accumulator,
    /// Buffer ids of the operands copied into a packed layout first (see
    /// [`pack`]), ascending.
    pub packed: Vec<usize>,
    /// The packed operands (a subset of `packed`) whose vector dimension is
    /// also blocked by the register tile, ascending.
    pub blocked: Vec<usize>,
    /// OpenCL only: buffer ids of the operands each work-group stages in
    /// `__local` memory before reading them (see [`opencl`]), ascending.
    pub local: Vec<usize>,
    /// Whether the stage is computed inside another stage's register tile
    /// (see [`fusion`]); `None` for a stage with a nest of its own.
    pub fused: Option<Fusion>,
    /// CPU only: lanes of the innermost reduction axis's `R1` loop, whose
    /// partial results stay in vector registers and are reduced across
    /// lanes once per register-tile point (see [`rfactor`]); 1 = off.
    pub rfactor: usize,
    /// CPU only: whether the stage iterates every point or only those its
    /// mask keeps (see [`mask`]).
    pub iterate: Iterate,
}

/// How a stage is computed inside the nest of an earlier *leader* stage
/// (see [`fusion`] for the rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fusion {
    /// A sibling reduction over the same domain: its accumulators share the
    /// leader's register tile, its tiles are the leader's.
    Sibling { leader: usize },
    /// An elementwise stage computed on the leader's (and its siblings')
    /// finished accumulators before they are stored.
    Epilogue { leader: usize },
}

impl Fusion {
    /// The stage whose nest computes this one.
    pub fn leader(self) -> usize {
        match self {
            Fusion::Sibling { leader } | Fusion::Epilogue { leader } => leader,
        }
    }
}

/// Which points of its domain a stage iterates (see [`mask`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Iterate {
    /// Every point (the untransformed loop nest).
    #[default]
    All,
    /// Only the points its mask keeps: tiles wholly outside it are skipped.
    Kept,
}

impl Iterate {
    pub fn name(self) -> &'static str {
        match self {
            Iterate::All => "all",
            Iterate::Kept => "kept",
        }
    }
}

/// What a candidate's kernel runs on: the same program, sketches and edit
/// language, with each decision read as [`opencl`] says for OpenCL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Target {
    /// C under the kernel ABI, run by the CPU measurer's tasks.
    #[default]
    Cpu,
    /// OpenCL C kernels, one per phase, on an OpenCL device.
    OpenCl,
}

impl Target {
    /// `cpu` or `opencl`, as the command line and the database spell it.
    pub fn name(self) -> &'static str {
        match self {
            Target::Cpu => "cpu",
            Target::OpenCl => "opencl",
        }
    }

    /// The space of a job's target label: `opencl` or `opencl:DEVICE` is
    /// OpenCL's, anything else (`cpu`) the CPU's.
    pub fn of_label(label: &str) -> Target {
        if label == "opencl" || label.starts_with("opencl:") {
            Target::OpenCl
        } else {
            Target::Cpu
        }
    }

    /// The vector widths a stage may use on this target.
    pub fn vector_widths(self) -> &'static [usize] {
        match self {
            Target::Cpu => &VECTOR_WIDTHS,
            Target::OpenCl => &opencl::VECTOR_WIDTHS,
        }
    }

    /// The levels of a spatial axis's `[f1, f2, f3]` that a stage under
    /// `rule` may set, ascending; the others stay 1. On OpenCL the simple
    /// rule frees `f1` too: the work-items.
    pub fn free_levels(self, rule: StageRule) -> &'static [usize] {
        match (rule, self) {
            (StageRule::MultiLevelTiling, _) => &[0, 1, 2],
            (_, Target::OpenCl) => &[0, 2],
            (_, Target::Cpu) => &[2],
        }
    }

    /// Whether a stage may be computed at loop `index` of a root stage's
    /// `order`: the CPU offers its `S0`, `S1` and `R0` loops, OpenCL only
    /// the work-group loop.
    pub fn offers_attach(self, order: &[LoopLevel], index: usize) -> bool {
        match self {
            Target::Cpu => order.get(index).is_some_and(|l| l.section <= Section::R0),
            Target::OpenCl => opencl::is_group_loop(order, index),
        }
    }

    /// The layouts an operand may be read in.
    pub fn pack_layouts(self) -> &'static [PackLayout] {
        match self {
            Target::Cpu => &[PackLayout::Original, PackLayout::Packed, PackLayout::Blocked],
            Target::OpenCl => &[PackLayout::Original, PackLayout::Local],
        }
    }

    /// Whether stages choose how many outer loops run in parallel (on
    /// OpenCL every spatial loop is bound to work-groups and work-items):
    /// whether the target offers `parallel` edits.
    pub fn has_parallel_decision(self) -> bool {
        EditKind::Parallel.spec().offered_on(self)
    }
}

/// The layout an operand is read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PackLayout {
    /// Where it is.
    Original,
    /// Copied with the vector axis's dimension last and padding stored.
    Packed,
    /// Packed, and that dimension split into panels of the register tile's
    /// width: `[v / f3, ..., v % f3]`, so that one register tile's reads
    /// along the reduction are one contiguous stream.
    Blocked,
    /// OpenCL: the region a work-group reads, copied into `__local` memory
    /// by the group's work-items for each step of the outer reduction loops.
    Local,
}

impl PackLayout {
    pub fn name(self) -> &'static str {
        match self {
            PackLayout::Original => "original",
            PackLayout::Packed => "packed",
            PackLayout::Blocked => "blocked",
            PackLayout::Local => "local",
        }
    }
}

/// Vector widths a stage may use: SSE, AVX2 and AVX-512 widths of f32.
pub const VECTOR_WIDTHS: [usize; 4] = [1, 4, 8, 16];

/// Unroll depths, as MetaSchedule's `auto_unroll_max_step` domain.
pub const UNROLL_DEPTHS: [usize; 4] = [0, 16, 64, 512];

/// The most accumulator variables a register tile may have: the 32 vector
/// registers of AVX-512 (x86-64 without it has 16; the compiler spills).
pub const MAX_REGISTER_TILE: usize = 32;

/// Tile factors offered for an axis of `extent`: powers of two, the
/// divisors of the extent up to 256, and the small odd sizes register tiles
/// like (3, 5, 6, 7, 12, 24: e.g. 6x32 or 12x16 register tiles), all at most
/// the extent.
pub fn factor_domain(extent: usize) -> Vec<usize> {
    let mut values: Vec<usize> = Vec::new();
    let mut p = 1;
    while p <= extent {
        values.push(p);
        p *= 2;
    }
    values.extend((1..=extent.min(256)).filter(|&d| extent.is_multiple_of(d)));
    values.extend([3, 5, 6, 7, 12, 24].into_iter().filter(|&v| v <= extent));
    values.sort_unstable();
    values.dedup();
    values
}

/// A deterministic pseudo-random stream (SplitMix64), so that sampling a
/// candidate from a seed gives the same candidate everywhere.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0xA076_1D64_78BD_642F)
    }

    pub fn next_u64(&mut self) -> u64 {
        crate::data::splitmix64(&mut self.0)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}
