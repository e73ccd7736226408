//! How a candidate is drawn from the schedule space.
//!
//! [`Sampler::Uniform`] draws every decision uniformly from its domain (and
//! is what every lineage stored before the informed sampler means). Most of
//! what it draws is slow: scalar code, sums in memory, one task, tiles
//! that fit nothing.
//!
//! [`Sampler::Informed`] draws from the part of the space where fast
//! kernels are, for one [`Machine`]: its rules are `informed.rs`'s.

use super::candidate::Candidate;
use super::style::TileStyle;
use super::{Target, VECTOR_WIDTHS};
use crate::program::Program;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The machine an informed sample is shaped for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Machine {
    /// f32 lanes of one vector register: 4 (SSE), 8 (AVX2), 16 (AVX-512).
    pub lanes: usize,
    /// Vector registers: 16 (SSE, AVX2), 32 (AVX-512).
    pub registers: usize,
    /// Cores the kernel's tasks run on.
    pub cores: usize,
}

/// How a candidate is drawn from a seed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sampler {
    /// Every decision uniform in its domain.
    #[default]
    Uniform,
    /// Shaped for a machine (see the module docs).
    Informed(Machine),
    /// Shaped for a machine, every tiled stage in one given register-tile
    /// style instead of a drawn one: a job's transfer of another
    /// workload's fast kernel (see [`TileStyle`]).
    Styled(Machine, TileStyle),
}

impl Sampler {
    /// The candidate of `seed` in `target`'s space.
    pub fn sample(self, program: Arc<Program>, target: Target, seed: u64) -> Candidate {
        match (self, target) {
            (Sampler::Informed(machine), Target::Cpu) => super::informed::sample_informed(program, machine, None, seed),
            (Sampler::Styled(machine, style), Target::Cpu) => {
                super::informed::sample_informed(program, machine, Some(style), seed)
            }
            _ => Candidate::sample_on(program, target, seed),
        }
    }

    pub fn is_uniform(self) -> bool {
        self == Sampler::Uniform
    }

    /// The style it gives every tiled stage, if it is a styled one.
    pub fn style(self) -> Option<TileStyle> {
        match self {
            Sampler::Styled(_, style) => Some(style),
            _ => None,
        }
    }
}

/// `uniform`, `informed(lanes=8, registers=16, cores=2)` or
/// `styled(lanes=8, registers=16, cores=2, vectors=2, rows=6, depth=256,
/// unroll=16, panel=0)`: how the command line (`--sampler`) and the tuning
/// database write it.
impl std::fmt::Display for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let machine = |m: &Machine| format!("lanes={}, registers={}, cores={}", m.lanes, m.registers, m.cores);
        match self {
            Sampler::Uniform => write!(f, "uniform"),
            Sampler::Informed(m) => write!(f, "informed({})", machine(m)),
            Sampler::Styled(m, s) => write!(
                f,
                "styled({}, vectors={}, rows={}, depth={}, unroll={}, panel={})",
                machine(m),
                s.vectors,
                s.rows,
                s.depth,
                s.unroll,
                u8::from(s.panel)
            ),
        }
    }
}

/// Why a sampler's text does not name one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "sampler `{text}`: {reason} (expected `uniform`, `informed(lanes=L, registers=R, cores=C)`, \
     e.g. `informed(lanes=8, registers=16, cores=2)`, or `styled(...)` with those and \
     `vectors=V, rows=N, depth=D, unroll=U, panel=0|1`)"
)]
pub struct SamplerParseError {
    pub text: String,
    pub reason: String,
}

impl std::str::FromStr for Sampler {
    type Err = SamplerParseError;

    fn from_str(text: &str) -> Result<Sampler, SamplerParseError> {
        let error = |reason: &str| SamplerParseError { text: text.to_string(), reason: reason.to_string() };
        let trimmed = text.trim();
        if trimmed == "uniform" {
            return Ok(Sampler::Uniform);
        }
        let (name, names): (_, &[&str]) = if trimmed.starts_with("informed(") {
            ("informed", &["lanes", "registers", "cores"])
        } else if trimmed.starts_with("styled(") {
            ("styled", &["lanes", "registers", "cores", "vectors", "rows", "depth", "unroll", "panel"])
        } else {
            return Err(error("not a sampler"));
        };
        let Some(args) = trimmed.strip_prefix(name).and_then(|r| r.strip_prefix('(')).and_then(|r| r.strip_suffix(')'))
        else {
            return Err(error("not a sampler"));
        };
        let mut values: Vec<Option<usize>> = vec![None; names.len()];
        for part in args.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| error(&format!("`{part}` is not NAME=VALUE")))?;
            let value: usize =
                value.trim().parse().map_err(|_| error(&format!("`{}` is not a number", value.trim())))?;
            let slot = names
                .iter()
                .position(|n| *n == key.trim())
                .ok_or_else(|| error(&format!("unknown argument `{}`", key.trim())))?;
            values[slot] = Some(value);
        }
        let value = |n: usize| values[n].ok_or_else(|| error(&format!("`{}` is missing", names[n])));
        let machine = Machine { lanes: value(0)?, registers: value(1)?, cores: value(2)? };
        if !VECTOR_WIDTHS.contains(&machine.lanes) {
            return Err(error(&format!("lanes must be one of {VECTOR_WIDTHS:?}")));
        }
        if machine.registers == 0 || machine.cores == 0 {
            return Err(error("registers and cores must be at least 1"));
        }
        if name == "informed" {
            return Ok(Sampler::Informed(machine));
        }
        let panel = match value(7)? {
            0 => false,
            1 => true,
            other => return Err(error(&format!("panel must be 0 or 1, not {other}"))),
        };
        let style = TileStyle { vectors: value(3)?, rows: value(4)?, depth: value(5)?, unroll: value(6)?, panel };
        style.check().map_err(|reason| error(&reason))?;
        Ok(Sampler::Styled(machine, style))
    }
}
#[cfg(test)]
mod tests {
    use super::super::informed::*;
    use super::super::*;
    use super::*;
    use crate::program::AxisKind;

    const AVX2: Machine = Machine { lanes: 8, registers: 16, cores: 2 };
    const AVX512: Machine = Machine { lanes: 16, registers: 32, cores: 2 };

    #[test]
    fn the_text_form_round_trips_and_bad_text_names_what_is_wrong() {
        for sampler in [Sampler::Uniform, Sampler::Informed(AVX2)] {
            assert_eq!(sampler.to_string().parse::<Sampler>().unwrap(), sampler);
        }
        let error = "informed(lanes=8, cores=2)".parse::<Sampler>().unwrap_err();
        assert!(error.to_string().contains("`registers` is missing"), "{error}");
        let error = "informed(lanes=12, registers=16, cores=2)".parse::<Sampler>().unwrap_err();
        assert!(error.to_string().contains("lanes must be one of"), "{error}");
        let error = "fancy".parse::<Sampler>().unwrap_err();
        assert!(error.to_string().contains("sampler `fancy`"), "{error}");
    }

    /// What the module docs promise, on every workload of the suite: each
    /// multi-level-tiled reduction is vectorised with the machine's lanes,
    /// accumulates in a register tile of at most 3/4 of the registers, and,
    /// at the root, gives every core two tasks; every root stage runs in
    /// parallel.
    #[test]
    fn informed_samples_of_the_suite_have_the_shape_of_fast_kernels() {
        for machine in [AVX2, Machine { lanes: 16, registers: 32, cores: 4 }] {
            for w in crate::SUITE {
                let program = Arc::new(w.program(crate::Size::Bench));
                for seed in 0..24 {
                    let c = Sampler::Informed(machine).sample(program.clone(), Target::Cpu, seed);
                    for (s, sched) in c.stages().iter().enumerate() {
                        let stage = &program.stages()[s];
                        let name = format!("{} seed {seed} stage {}: {sched:?}", w.name, program.stage_name(stage));
                        // A fused stage runs in its leader's loops.
                        if sched.fused.is_some() {
                            continue;
                        }
                        if sched.placement == Placement::Root {
                            assert!(sched.parallel > 0, "{name}");
                        }
                        if c.sketch().rules[s] != StageRule::MultiLevelTiling {
                            continue;
                        }
                        // The lanes along the spatial axis, or along the
                        // reduction axis (rfactor).
                        assert!(sched.vector == machine.lanes || sched.rfactor > 1, "{name}");
                        assert_eq!(sched.accumulator, Accumulator::Registers, "{name}");
                        let registers = super::super::analysis::register_count(stage, sched);
                        assert!(registers <= machine.registers * 3 / 4, "{name}");
                        if sched.placement == Placement::Root {
                            let tasks: usize = stage
                                .spatial_axes()
                                .take(sched.parallel)
                                .map(|(a, axis)| axis.extent.div_ceil(sched.tiles[a.0].iter().product()))
                                .product();
                            assert!(tasks >= 2 * machine.cores, "{name}: {tasks} tasks");
                        }
                    }
                }
            }
        }
    }

    /// About one sample in two of an attention is a pipeline: the stages
    /// before the output computed at one loop of it, so that a query
    /// tile's scores stay in cache from QK to P·V; the others keep their
    /// own placements. An MLP's down projection starts none.
    #[test]
    fn half_the_attention_samples_compute_the_softmax_at_the_output_rows() {
        for w in ["flux-attn", "llama3-8b-attn"] {
            let program = Arc::new(crate::builtin(w).unwrap().program(crate::Size::Bench));
            let o = program.stages().len() - 1;
            let pipelines = (0..200)
                .filter(|&seed| {
                    let c = Sampler::Informed(AVX512).sample(program.clone(), Target::Cpu, seed);
                    // An epilogue or a fused sibling runs in its leader's
                    // nest, wherever that is.
                    let members: Vec<&Placement> = c.stages()[..o]
                        .iter()
                        .filter(|sched| sched.fused.is_none())
                        .map(|sched| &sched.placement)
                        .filter(|p| **p != Placement::Inlined)
                        .collect();
                    let at = members.first().copied();
                    matches!(at, Some(Placement::At { stage, .. }) if *stage == o)
                        && members.iter().all(|&p| Some(p) == at)
                })
                .count();
            assert!((60..=140).contains(&pipelines), "{w}: {pipelines} pipelines of 200 samples");
        }
        let mlp = Arc::new(crate::builtin("llama4-scout-mlp").unwrap().program(crate::Size::Bench));
        let y = mlp.stages().len() - 1;
        // Random placements put all three there now and then.
        let pipelines = (0..100)
            .filter(|&seed| {
                let c = Sampler::Informed(AVX512).sample(mlp.clone(), Target::Cpu, seed);
                let at_y = |s: &&StageSchedule| matches!(s.placement, Placement::At { stage, .. } if stage == y);
                c.stages().iter().filter(at_y).count() >= 3
            })
            .count();
        assert!(pipelines <= 10, "{pipelines} pipelines at the down projection of 100 samples");
    }

    #[test]
    fn a_seed_draws_one_candidate_and_seeds_draw_many() {
        let program = Arc::new(crate::builtin("llama3-8b-attn").unwrap().program(crate::Size::Bench));
        let draw = |seed| super::super::lower(&Sampler::Informed(AVX2).sample(program.clone(), Target::Cpu, seed));
        assert_eq!(draw(5).fingerprint(), draw(5).fingerprint());
        let distinct: std::collections::HashSet<u64> = (0..64).map(|seed| draw(seed).fingerprint()).collect();
        assert!(distinct.len() >= 60, "{} distinct of 64", distinct.len());
    }

    /// The panel order (see `panel_order`) is drawn for about half of the
    /// tiled matmul samples: one panel of B per `R0` step (the vector
    /// axis's outer levels 1), at most 16 KB deep, and the rows' largest
    /// `S2` level of up to 16 row tiles. (A few other draws land on the
    /// same shape by chance.) B is blocked in those panels where enough
    /// rows read it to pay for the copy.
    #[test]
    fn about_half_the_matmul_samples_read_b_by_panels_blocked_where_rows_pay_for_the_copy() {
        for name in ["gemm-512", "llama4-scout-mlp"] {
            let program = Arc::new(crate::builtin(name).unwrap().program(crate::Size::Bench));
            let rows_extent = program.stages()[0].axes[0].extent;
            let (b, n, k) = (1, 1, 2); // the weights, the contiguous axis, the reduction
                                       // A fused draw halves the leader's row tile to fit its
                                       // siblings' accumulators: those are not panel draws.
            let unfused: Vec<Candidate> = (0..96)
                .map(|seed| Sampler::Informed(AVX2).sample(program.clone(), Target::Cpu, seed))
                .filter(|c| c.stages().iter().all(|s| s.fused.is_none()))
                .collect();
            let panels: Vec<&Candidate> = unfused
                .iter()
                .filter(|c| {
                    let sched = &c.stages()[0];
                    let (vector, rows) = (&sched.tiles[n], &sched.tiles[0]);
                    let widest = near_divisors(rows_extent / rows[2], 1, 16).into_iter().max();
                    vector[0] == 1
                        && vector[1] == 1
                        && sched.tiles[k][0] * vector[2] * 4 <= 16 * 1024
                        && Some(rows[1]) == widest
                })
                .collect();
            let considered = unfused.len();
            assert!(considered >= 32, "{name}: {considered} unfused samples of 96");
            let drawn = panels.len();
            assert!((30 * considered..=80 * considered).contains(&(drawn * 96)), "{name}: {drawn} of {considered}");
            // gemm-512 reads each element of B 512 times, and blocks its
            // panels in every panel draw; the MLP reads its weights 32
            // times, and blocks them in one panel draw in four.
            let blocked = panels.iter().filter(|c| c.stages()[0].blocked.contains(&b)).count();
            if rows_extent >= BLOCKING_AMORTISED_READS {
                assert_eq!(blocked, drawn, "{name}");
            } else {
                assert!(blocked * 2 < drawn, "{name}: {blocked} of {drawn} panel draws blocked");
            }
        }
    }

    #[test]
    fn the_sampler_seldom_recomputes_silu_per_output_column() {
        let program = Arc::new(crate::builtin("deepseek-r1-moe").unwrap().program(crate::Size::Bench));
        let h = program.stages().iter().position(|s| program.stage_name(s) == "H").unwrap();
        let inlined = (0..96)
            .filter(|&seed| Sampler::Informed(AVX2).sample(program.clone(), Target::Cpu, seed).sketch().is_inlined(h))
            .count();
        // One draw in four from all sketches, half of those inline H: 1/8.
        assert!(inlined <= 24, "{inlined} of 96 samples inline H");
        assert!(inlined >= 2, "the inlined sketch stays in the space: {inlined} of 96");
    }

    #[test]
    fn a_styled_sampler_round_trips_and_a_bad_style_is_named() {
        let style = TileStyle { vectors: 2, rows: 6, depth: 256, unroll: 16, panel: false };
        let styled = Sampler::Styled(AVX2, style);
        let text = "styled(lanes=8, registers=16, cores=2, vectors=2, rows=6, depth=256, unroll=16, panel=0)";
        assert_eq!(styled.to_string(), text);
        assert_eq!(text.parse::<Sampler>().unwrap(), styled);
        assert_eq!(styled.style(), Some(style));
        assert_eq!(Sampler::Informed(AVX2).style(), None);
        let base = "styled(lanes=8, registers=16, cores=2";
        for (args, expected) in [
            ("vectors=5, rows=6, depth=0, unroll=16, panel=0", "vectors must be 1 to 4, not 5"),
            ("vectors=2, rows=0, depth=0, unroll=16, panel=0", "rows must be 1 to 32, not 0"),
            ("vectors=2, rows=6, depth=0, unroll=7, panel=0", "unroll must be one of [0, 16, 64, 512], not 7"),
            ("vectors=2, rows=6, depth=0, unroll=16, panel=2", "panel must be 0 or 1, not 2"),
            ("vectors=2, rows=6, depth=0, unroll=16", "`panel` is missing"),
        ] {
            let error = format!("{base}, {args})").parse::<Sampler>().unwrap_err();
            assert!(error.to_string().contains(expected), "{args}: {error}");
        }
        let error = "informed(lanes=8, registers=16, cores=2, vectors=2)".parse::<Sampler>().unwrap_err();
        assert!(error.to_string().contains("unknown argument `vectors`"), "{error}");
    }

    /// A styled sample gives every tiled stage the style (here legal on
    /// every extent as it is), and the style read back from the sample is
    /// the one it was drawn in.
    #[test]
    fn a_styled_sample_has_its_style_on_every_tiled_stage() {
        let style = TileStyle { vectors: 1, rows: 8, depth: 128, unroll: 64, panel: true };
        for name in ["gemm-512", "deepseek-r1-moe", "llama4-scout-mlp"] {
            let program = Arc::new(crate::builtin(name).unwrap().program(crate::Size::Bench));
            for seed in 0..16 {
                let c = Sampler::Styled(AVX2, style).sample(program.clone(), Target::Cpu, seed);
                let mut tiled = 0;
                for (s, sched) in c.stages().iter().enumerate() {
                    if c.sketch().rules[s] != StageRule::MultiLevelTiling || sched.placement == Placement::Inlined {
                        continue;
                    }
                    tiled += 1;
                    let stage = &program.stages()[s];
                    let spatial: Vec<usize> = stage.spatial_axes().map(|(a, _)| a.0).collect();
                    let (&vector_axis, rows) = spatial.split_last().unwrap();
                    let what = format!("{name} seed {seed} stage {}: {sched:?}", program.stage_name(stage));
                    assert_eq!((sched.vector, sched.tiles[vector_axis][2]), (8, 8), "{what}");
                    assert!(rows.iter().any(|&a| sched.tiles[a][2] == 8), "{what}");
                    let depth = stage.axes.iter().position(|a| a.kind == AxisKind::Reduction).unwrap();
                    assert_eq!(sched.tiles[depth][0], 128, "{what}");
                    assert_eq!(sched.unroll, 64, "{what}");
                }
                assert!(tiled > 0, "{name} seed {seed}: no tiled stage");
                assert_eq!(TileStyle::of(&c), Some(style), "{name} seed {seed}");
            }
        }
    }

    #[test]
    fn near_divisors_leave_small_edges() {
        assert!(near_divisor(512, 6)); // 2 of 512 points in the edge tile
        assert!(!near_divisor(32, 12)); // 8 of 32
                                        // 3 and 7 leave one point of 64 in an edge tile, 5 and 6 four.
        assert_eq!(near_divisors(64, 1, 8), vec![1, 2, 3, 4, 7, 8]);
    }
}
