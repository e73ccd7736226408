//! A register-tile style: the shape of a fast kernel's inner loops that
//! carries from one workload to another on the same machine.
//!
//! A style is the register tile (vectors along the contiguous axis, rows
//! along the axis that reuses them), the inner reduction factor sought,
//! the unroll depth and whether the panel order is taken. It says nothing
//! of extents, so it applies to any multi-level-tiled stage: each stage
//! takes the nearest legal version of it (see the informed sampler).
//!
//! The register tile that suits a machine suits it on every workload: a
//! job's transfer round ([`Sampler::Styled`](super::Sampler::Styled))
//! draws candidates in the styles of the fastest kernels the tuning
//! database holds for other workloads on the same hardware.
//!
//! Tried and not kept (2026-12-05, a Zen 4 part, `bench/vs-metaschedule/zen4-2026-12-05/`):
//! the informed sampler giving all tiled stages of a sample one drawn
//! style (three samples in four), so that an MLP's three matmuls share a
//! tile. Over four seeds at 64 trials it helped `mcts` (deepseek-r1-moe
//! median 2.13 -> 2.07 ms, llama4-scout-mlp 4.15 -> 3.89) and hurt
//! `evolutionary`, the better of the two on both (1.81 -> 1.97, 3.21 ->
//! 3.95): the best scout kernels had different tiles on the gate and up
//! projections.

use super::candidate::Candidate;
use super::sketch::StageRule;
use super::{Accumulator, Placement, MAX_REGISTER_TILE, UNROLL_DEPTHS};
use crate::program::AxisKind;
use serde::{Deserialize, Serialize};

/// The most vectors a register tile's row holds in a style.
pub const MAX_STYLE_VECTORS: usize = 4;

/// The shape of a register tile and its loops (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TileStyle {
    /// Vectors along the contiguous axis, `1..=4`.
    pub vectors: usize,
    /// Rows along the axis that reuses those vectors.
    pub rows: usize,
    /// The inner factor sought for the first reduction axis: each stage
    /// takes its largest near-divisor of the extent up to this (0: drawn).
    pub depth: usize,
    /// Unroll depth of every tiled stage (one of [`UNROLL_DEPTHS`]).
    pub unroll: usize,
    /// Whether the tiled stages take the panel order (a panel of
    /// the contiguous operand read by every row tile before the next).
    pub panel: bool,
}

impl TileStyle {
    /// The style of a candidate's heaviest multi-level-tiled stage (the
    /// one with the most loop points; the last of equals) that accumulates
    /// a vectorised register tile; None when no stage does.
    pub fn of(candidate: &Candidate) -> Option<TileStyle> {
        TileStyle::of_stages(candidate).into_iter().max_by_key(|(points, _)| *points).map(|(_, style)| style)
    }

    /// The style of every multi-level-tiled stage of a candidate that
    /// accumulates a vectorised register tile, with the stage's loop points
    /// (its share of the work), in stage order.
    pub fn of_stages(candidate: &Candidate) -> Vec<(usize, TileStyle)> {
        let program = candidate.program();
        let mut styles = Vec::new();
        for (s, schedule) in candidate.stages().iter().enumerate() {
            let tiled = candidate.sketch().rules[s] == StageRule::MultiLevelTiling
                && schedule.placement != Placement::Inlined
                && schedule.accumulator == Accumulator::Registers
                && schedule.vector > 1;
            let stage = &program.stages()[s];
            let spatial: Vec<usize> = stage.spatial_axes().map(|(a, _)| a.0).collect();
            let Some((&vector_axis, row_axes)) = spatial.split_last().filter(|_| tiled) else { continue };
            let vector_tile = &schedule.tiles[vector_axis];
            let depth =
                stage.axes.iter().position(|a| a.kind == AxisKind::Reduction).map_or(0, |r| schedule.tiles[r][0]);
            let style = TileStyle {
                vectors: (vector_tile[2] / schedule.vector).clamp(1, MAX_STYLE_VECTORS),
                rows: row_axes.iter().map(|&a| schedule.tiles[a][2]).max().unwrap_or(1),
                depth,
                unroll: schedule.unroll,
                // One panel per `R0` step: the vector axis only in the
                // outermost loop. (The panel is blocked only where enough
                // rows read it to pay for the copy, see the sampler.)
                panel: vector_tile[0] == 1 && vector_tile[1] == 1,
            };
            styles.push((stage.axes.iter().map(|a| a.extent).product(), style));
        }
        styles
    }

    /// The register tile alone: vectors and rows.
    pub fn tile(&self) -> (usize, usize) {
        (self.vectors, self.rows)
    }

    /// Why these values are not a style, if they are not one.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=MAX_STYLE_VECTORS).contains(&self.vectors) {
            return Err(format!("vectors must be 1 to {MAX_STYLE_VECTORS}, not {}", self.vectors));
        }
        if !(1..=MAX_REGISTER_TILE).contains(&self.rows) {
            return Err(format!("rows must be 1 to {MAX_REGISTER_TILE}, not {}", self.rows));
        }
        if !UNROLL_DEPTHS.contains(&self.unroll) {
            return Err(format!("unroll must be one of {UNROLL_DEPTHS:?}, not {}", self.unroll));
        }
        Ok(())
    }
}
