//! The transfer round: what a job takes from other workloads' kernels on
//! the same hardware before its strategy starts.
//!
//! The warm start's cost model learns other workloads' measurements, but a
//! model that ranks a little better does not make the first round's
//! kernels better: on three machines the first round with a warm database
//! was worse than with an empty one in most jobs (bench/issue17's
//! `warm-start.txt` files). What does carry from one workload to another
//! on one machine is the shape of the inner loops that suit it: the
//! register tile, the reduction depth, the unroll and the loop order
//! ([`TileStyle`]). So a job whose database knows other workloads first
//! measures a few candidates drawn in the styles of their fastest kernels
//! (transfer tuning: the best schedules of other programs, carried over
//! and re-fitted to this one's extents by the informed sampler), each the
//! best the cost model predicts of many draws in that style. They are the
//! job's own trials, and its strategy starts from them as from any known
//! candidate.

use crate::context::SearchContext;
use crate::pool::PoolEntry;
use colt_ir::schedule::{Candidate, Sampler, TileStyle};
use colt_ir::Program;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Each other workload's fastest kernels whose styles are carried over.
const STYLES_PER_WORKLOAD: usize = 2;

/// Draws in one style of which the cost model keeps the best: enough for
/// the style's re-fit to meet the rest of the sample's decisions (sketch,
/// placements, outer tiles, packing) in a few ways.
const DRAWS_PER_STYLE: usize = 64;

/// The styles of the fastest kernels of each other workload: every
/// workload's fastest first, then every workload's second, ...; each style
/// once. `records` are (program, candidate, latency in ms).
pub(crate) fn styles_of(records: &[(Arc<Program>, Candidate, f64)]) -> Vec<TileStyle> {
    let mut by_workload: HashMap<&str, Vec<(f64, TileStyle)>> = HashMap::new();
    for (program, candidate, ms) in records {
        if let Some(style) = TileStyle::of(candidate) {
            by_workload.entry(program.name()).or_default().push((*ms, style));
        }
    }
    let mut workloads: Vec<(&str, Vec<(f64, TileStyle)>)> = by_workload.into_iter().collect();
    // A fixed order of workloads, so that a job's transfer is repeatable.
    workloads.sort_by(|a, b| a.0.cmp(b.0));
    for (_, kernels) in &mut workloads {
        kernels.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let mut styles = Vec::new();
    let mut seen = HashSet::new();
    for rank in 0..STYLES_PER_WORKLOAD {
        for (_, kernels) in &workloads {
            // The rank-th distinct style of this workload's kernels.
            let mut distinct = Vec::new();
            for (_, style) in kernels {
                if !distinct.contains(style) {
                    distinct.push(*style);
                }
            }
            if let Some(style) = distinct.get(rank) {
                if seen.insert(*style) {
                    styles.push(*style);
                }
            }
        }
    }
    styles
}

/// Up to `count` unmeasured candidates of this job in the given styles:
/// per style the best predicted of [`DRAWS_PER_STYLE`] draws, then the
/// styles' best by prediction. None without an informed sampler (the
/// uniform space and OpenCL have no register tile to carry).
pub(crate) fn transplants(ctx: &SearchContext<'_>, styles: &[TileStyle], count: usize) -> Vec<PoolEntry> {
    let Sampler::Informed(machine) = ctx.spec().sampler() else { return Vec::new() };
    let mut seen = HashSet::new();
    let mut best_per_style: Vec<PoolEntry> = Vec::new();
    for style in styles {
        let mut best: Option<PoolEntry> = None;
        for _ in 0..DRAWS_PER_STYLE {
            let (candidate, lineage, fingerprint) = ctx.sample_by(Sampler::Styled(machine, *style));
            if ctx.is_measured(fingerprint) || seen.contains(&fingerprint) {
                continue;
            }
            let predicted = ctx.predict(&candidate);
            if best.as_ref().is_none_or(|b| predicted > b.predicted) {
                best = Some(PoolEntry { fingerprint, candidate, lineage, model: None, tag: 0, predicted, position: 0 });
            }
        }
        if let Some(entry) = best {
            seen.insert(entry.fingerprint);
            best_per_style.push(entry);
        }
    }
    best_per_style.sort_by(|a, b| b.predicted.total_cmp(&a.predicted));
    best_per_style.truncate(count);
    for (position, entry) in best_per_style.iter_mut().enumerate() {
        entry.position = position;
    }
    best_per_style
}
