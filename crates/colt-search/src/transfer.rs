//! The transfer round: what a job takes from other workloads' kernels on
//! the same hardware before its strategy starts.
//!
//! The warm start's cost model learns other workloads' measurements, but a
//! model that ranks a little better does not make the first round's
//! kernels better: on three machines the first round with a warm database
//! was worse than with an empty one in most jobs (the `warm-start.txt`
//! files under bench/vs-metaschedule/). What does carry from one workload
//! to another on one machine is the shape of the inner loops that suit it:
//! the register tile, the reduction depth, the unroll and the loop order
//! ([`TileStyle`]). So a job whose database knows other workloads first
//! measures a few candidates drawn in the styles of their fastest kernels
//! (transfer tuning: the best schedules of other programs, carried over
//! and re-fitted to this one's extents by the informed sampler): the
//! styles most of those workloads agree on, each the best the roofline
//! prior ranks of many draws in it. They are the job's own trials, and its
//! strategy starts from them as from any known candidate. A job asks for
//! one with the strategy option `transfer=N` (`SearchParams::transfer`).
//!
//! Measured on a Zen 4 part (2026-12-05, `bench/vs-metaschedule/zen4-2026-12-05/`),
//! flux-conv and llama4-scout-mlp each after the other five workloads:
//! - styles taken from each workload's fastest kernel and ranked by the
//!   warm cost model picked 4x2, 6x2 and 16x1 tiles where flux-conv's
//!   fastest kernels are 8 rows by 2 vectors; the transplants ran at
//!   1.6-5.0 ms against the empty database's first round at 1.40-1.56;
//! - the styles voted on and ranked by the prior (this file): the first
//!   measured round better than the empty database's in 8 of 15 jobs,
//!   worse in 7. The prior alone already finds the register tiles other
//!   workloads' best kernels use, so the round is off by default.

use crate::context::SearchContext;
use crate::pool::PoolEntry;
use colt_ir::schedule::{Candidate, Sampler, TileStyle};
use colt_ir::Program;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// Each other workload's fastest kernels that vote on the register tile.
const VOTERS_PER_WORKLOAD: usize = 8;

/// Draws in one style of which the prior keeps the best: enough for the
/// style's re-fit to meet the rest of the sample's decisions (sketch,
/// placements, outer tiles, packing) in a few ways.
const DRAWS_PER_STYLE: usize = 64;

/// The styles to carry over, the most agreed on first. Each other
/// workload has one vote, shared among its fastest kernels and, within a
/// kernel, among its tiled stages by their share of its loop points; a
/// register tile's votes are the sum over workloads. A tile's style
/// (depth, unroll, order) is that of the fastest kernel that has it (the
/// best rank within its workload; the first workload by name of equals).
/// Votes, because which workload's best suits this one is not known, and
/// the tile most of a machine's workloads run fastest with is a property
/// of the machine. `records` are (program, candidate, latency in ms).
pub(crate) fn styles_of(records: &[(Arc<Program>, Candidate, f64)]) -> Vec<TileStyle> {
    let mut by_workload: BTreeMap<&str, Vec<(f64, &Candidate)>> = BTreeMap::new();
    for (program, candidate, ms) in records {
        by_workload.entry(program.name()).or_default().push((*ms, candidate));
    }
    let mut tiles: HashMap<(usize, usize), Votes> = HashMap::new();
    for kernels in by_workload.values_mut() {
        kernels.sort_by(|a, b| a.0.total_cmp(&b.0));
        kernels.truncate(VOTERS_PER_WORKLOAD);
        let voters = kernels.len() as f64;
        for (rank, (_, candidate)) in kernels.iter().enumerate() {
            let stages = TileStyle::of_stages(candidate);
            let points: usize = stages.iter().map(|(p, _)| p).sum();
            for (stage_points, style) in stages {
                let tile = tiles.entry(style.tile()).or_insert(Votes { votes: 0.0, rank, style });
                tile.votes += stage_points as f64 / points as f64 / voters;
                if rank < tile.rank {
                    (tile.rank, tile.style) = (rank, style);
                }
            }
        }
    }
    let mut tiles: Vec<((usize, usize), Votes)> = tiles.into_iter().collect();
    tiles.sort_by(|a, b| b.1.votes.total_cmp(&a.1.votes).then(a.0.cmp(&b.0)));
    tiles.into_iter().map(|(_, tile)| tile.style).collect()
}

/// A register tile's votes, and the style of the best-ranked kernel that
/// has it.
struct Votes {
    votes: f64,
    rank: usize,
    style: TileStyle,
}

/// Up to `count` unmeasured candidates of this job, one in each of the
/// first styles (in their order): the best the roofline prior ranks of
/// [`DRAWS_PER_STYLE`] draws in it. None without an informed sampler (the
/// uniform space and OpenCL have no register tile to carry).
pub(crate) fn transplants(ctx: &SearchContext<'_>, styles: &[TileStyle], count: usize) -> Vec<PoolEntry> {
    let Sampler::Informed(machine) = ctx.spec().sampler() else { return Vec::new() };
    let mut seen = HashSet::new();
    let mut chosen: Vec<PoolEntry> = Vec::new();
    for style in styles {
        if chosen.len() == count || ctx.stopped() {
            break;
        }
        let mut best: Option<(f64, PoolEntry)> = None;
        for _ in 0..DRAWS_PER_STYLE {
            let (candidate, lineage, fingerprint) = ctx.sample_by(Sampler::Styled(machine, *style));
            if ctx.is_measured(fingerprint) || seen.contains(&fingerprint) {
                continue;
            }
            let prior = ctx.prior_throughput(&candidate);
            if best.as_ref().is_none_or(|(b, _)| prior > *b) {
                let position = chosen.len();
                let entry =
                    PoolEntry { fingerprint, candidate, lineage, model: None, tag: 0, predicted: 0.0, position };
                best = Some((prior, entry));
            }
        }
        if let Some((_, mut entry)) = best {
            seen.insert(entry.fingerprint);
            entry.predicted = ctx.predict(&entry.candidate);
            chosen.push(entry);
        }
    }
    chosen
}
