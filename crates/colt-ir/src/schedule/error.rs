//! Why a schedule is not legal: the one error type of every rule of the
//! schedule space (the decisions' domains, compute-at, packing, OpenCL's
//! limits), so that an illegal edit reads the same whichever rule refused it.
//! It depends on nothing else in `schedule`: limits it names travel in the
//! variant (`max`).

/// Why a schedule is not legal. Every variant names the stage (and the axis,
/// loop or operand) it is about.
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
    #[error("stage `{stage}` cannot vectorise its reduction (rfactor): {reason}")]
    NotRfactorable { stage: String, reason: String },
    #[error("stage `{stage}` is vectorised along its spatial axis ({vector} lanes); rfactor puts the lanes on the reduction axis instead, and needs vector=1")]
    RfactorWithSpatialVector { stage: String, vector: usize },
    #[error(
        "stage `{stage}`: {lanes} rfactor lanes do not divide the inner tile factor of reduction axis `{axis}` ({r1})"
    )]
    RfactorDoesNotDivideTile { stage: String, lanes: usize, axis: String, r1: usize },
    #[error("stage `{stage}`: rfactor (vectorised reductions) is a CPU decision; OpenCL's space does not offer it (use lanes=1)")]
    RfactorOnOpenCl { stage: String },
    #[error("stage `{stage}`: {depth} is not an unroll depth (0, 16, 64 or 512)")]
    BadUnroll { stage: String, depth: usize },
    #[error("stage `{stage}` is elementwise: it has no reduction to accumulate in registers")]
    RegistersWithoutReduction { stage: String },
    #[error("stage `{stage}`: a register tile of {count} accumulators is more than the {max} registers there are")]
    RegisterTileTooLarge { stage: String, count: usize, max: usize },
    #[error("stage `{stage}` can only be computed at a loop of a later stage")]
    AttachNotToLaterStage { stage: String },
    #[error(
        "stage `{stage}` cannot be computed at `{target}`, which is itself computed at, fused with or inlined into another stage"
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
    #[error("stage `{stage}` can block `{operand}` only when it reads it at exactly its vector axis `{axis}` in one dimension")]
    BlockNeedsVectorDimension { stage: String, operand: String, axis: String },
    #[error("stage `{stage}` cannot block `{operand}` computed at `{at}`: that loop's tiles ({size}) are not a multiple of the panels' width ({width}), so a register tile would straddle two panels")]
    BlockedPanelsStraddled { stage: String, operand: String, at: String, size: usize, width: usize },
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
    #[error("stage `{stage}` has work-groups of {items} work-items (the product of its spatial axes' first tile factors), more than {max}")]
    WorkGroupTooLarge { stage: String, items: usize, max: usize },
    #[error("stage `{stage}` cannot stage `{operand}` in local memory: {reason}")]
    LocalNotStageable { stage: String, operand: String, reason: String },
    #[error("stage `{stage}` accumulates a register tile of {floats} floats per work-item, more than {max}")]
    TileTooLargeForWorkItem { stage: String, floats: usize, max: usize },
    #[error("stage `{stage}` stages {floats} floats in local memory per work-group, more than {max}")]
    LocalTooLarge { stage: String, floats: usize, max: usize },
    #[error("stage `{stage}` cannot be computed in the nest of `{leader}`: {reason}")]
    FusionIllegal { stage: String, leader: String, reason: String },
    #[error("stage `{stage}` is fused with `{leader}`, whose tiles, vector lanes, unroll, accumulator, parallel loops and placement it shares: edit `{leader}` instead")]
    SiblingDecisionsDiffer { stage: String, leader: String },
    #[error("stage `{stage}` is the epilogue of `{leader}` and runs in its register tile: it has no loops of its own to schedule (edit `{leader}`, or `epilogue(stage=\"{stage}\", at=\"none\")` first)")]
    EpilogueHasDecisions { stage: String, leader: String },
    #[error(
        "stage `{stage}`: fused stages and epilogues are the CPU's; OpenCL kernels compute each stage in its own loops"
    )]
    FusionOnOpenCl { stage: String },
    // Masked iteration (`iterate(stage=..., points="kept")`, see `mask`).
    #[error("stage `{stage}` cannot iterate over the kept points only: it has no mask (no `select` on a conjunction of affine comparisons of its indices in its body, nor in a stage it reads or that reads it by plain axes)")]
    IterateWithoutMask { stage: String },
    #[error("stage `{stage}` cannot iterate over the kept points only on OpenCL: masked iteration is a CPU decision")]
    IterateOnOpenCl { stage: String },
    #[error("stage `{stage}` cannot iterate over the kept points only: it {other}, whose loops the mask does not clamp or guard")]
    IterateExcluded { stage: String, other: String },
    #[error("stage `{stage}` cannot iterate over the kept points only: it writes the output `{output}`, whose dropped elements would stay unwritten")]
    IterateSkipsOutput { stage: String, output: String },
    #[error("stage `{stage}` cannot iterate over the kept points only: its mask `{mask}` spans several reduction axes, and only one is clamped")]
    IterateMaskOverReductions { stage: String, mask: String },
    #[error("stage `{stage}` cannot skip the points outside its mask `{mask}`: its term there is not always the identity {identity} of its reduction (e.g. a row the mask keeps nothing of, where exp(-inf - -inf) is NaN)")]
    IterateTermNotIdentity { stage: String, mask: String, identity: String },
    #[error("stage `{stage}` cannot leave the elements outside its mask `{mask}` unwritten: `{reader}` reads some of them; iterate `{reader}` over its kept points too")]
    IterateReadsSkipped { stage: String, mask: String, reader: String },
    #[error(
        "stage `{stage}` cannot iterate over the kept points only: checking it would visit more than {max} points"
    )]
    IterateTooLarge { stage: String, max: u64 },
}
