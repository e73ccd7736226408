//! What a job knows before its first round: earlier jobs' verified records
//! of the workload and target, and, when resumed, its own trials. Each
//! becomes a known measurement (never measured again), a sample of the
//! cost model, a candidate for the best, and — through the strategy — a
//! member of what it searches from. Records of other workloads on the same
//! target only warm the cost model up ([`load_warm`]).

use crate::context::{Best, SearchContext};
use crate::job::PastTrial;
use crate::transfer::styles_of;
use colt_ir::features::features_of;
use colt_ir::loopnest::LoopNest;
use colt_ir::schedule::{lower, Candidate, Lineage, Target, TileStyle};
use colt_ir::Program;
use std::sync::Arc;

/// A candidate measured before the job's first round, rebuilt.
#[derive(Clone, Debug)]
pub struct KnownCandidate {
    pub candidate: Candidate,
    pub lineage: Lineage,
    pub fingerprint: u64,
    /// None: it failed.
    pub latency: Option<f64>,
    /// The model whose proposal it was (this job's own trials only).
    pub model: Option<String>,
    /// One of this job's own trials (a resumed job).
    pub own: bool,
}

/// Rebuilds the known records and this job's past trials (earlier jobs'
/// first), and enters each into the context: the job's curve (own trials),
/// the cost model, the measured set and the best. A record that no longer
/// builds, or builds another kernel than the one measured (a database
/// written before a sampler or an edit changed), is skipped with a warning:
/// its latency belongs to a kernel this colt no longer makes from it.
pub(crate) fn load_known(ctx: &SearchContext<'_>) -> Vec<KnownCandidate> {
    let spec = ctx.spec();
    // (trial, whether it is this job's own), earlier jobs' records first.
    let mut rows: Vec<(PastTrial, bool)> = spec
        .known
        .iter()
        .map(|k| {
            let trial = PastTrial {
                lineage: k.lineage.clone(),
                fingerprint: k.fingerprint,
                latency_ms: Some(k.latency_ms),
                model: None,
            };
            (trial, false)
        })
        .collect();
    if let Some(resume) = &spec.resume {
        rows.extend(resume.trials.iter().map(|t| (t.clone(), true)));
    }
    let mut known = Vec::with_capacity(rows.len());
    let mut curve = Vec::new();
    let mut stale = 0;
    for (PastTrial { lineage, fingerprint, latency_ms: latency, model }, own) in rows {
        let Some((candidate, nest)) = rebuild_as_recorded(&lineage, fingerprint, ctx.program(), ctx.space()) else {
            // The latency is still that kernel's: it is not measured again
            // (a job records a kernel once), though nothing rebuilds it.
            ctx.measured.lock().insert(fingerprint, latency);
            stale += 1;
            continue;
        };
        if own {
            curve.push(latency);
        }
        if let Some(ms) = latency {
            ctx.cost.write().add_measurement(&features_of(&candidate, &nest), ctx.flop_rate(ms));
            let mut best = ctx.best.lock();
            if best.as_ref().is_none_or(|b| ms < b.latency) {
                *best = Some(Best { latency: ms, lineage: lineage.clone(), candidate: candidate.clone() });
            }
        }
        ctx.measured.lock().insert(fingerprint, latency);
        known.push(KnownCandidate { candidate, lineage, fingerprint, latency, model, own });
    }
    ctx.curve.lock().extend(curve);
    if stale > 0 {
        ctx.warn(format!(
            "{stale} stored candidates no longer build the kernel they were measured as \
             (recorded by another version of colt's schedule space); skipped"
        ));
    }
    known
}

/// The candidate of a stored lineage and its loop nest, if it rebuilds the
/// kernel whose fingerprint was recorded with it.
fn rebuild_as_recorded(
    lineage: &Lineage,
    recorded: u64,
    program: &Arc<Program>,
    space: Target,
) -> Option<(Candidate, LoopNest)> {
    let candidate = lineage.rebuild_on(program, space).ok()?;
    let nest = lower(&candidate);
    (nest.fingerprint() == recorded).then_some((candidate, nest))
}

/// What a job takes from other workloads' records on its target.
pub(crate) struct WarmStart {
    /// Records the cost model learned from.
    pub records: usize,
    /// The styles of their fastest kernels, for the transfer round.
    pub styles: Vec<TileStyle>,
}

/// Trains the cost model on the job's warm start: verified records of
/// other workloads on the same target (see `JobSpec::warm`), and takes the
/// styles of their fastest kernels (see `transfer.rs`). A record that no
/// longer builds its measured kernel is skipped; how many were is one
/// warning.
pub(crate) fn load_warm(ctx: &SearchContext<'_>) -> WarmStart {
    let spec = ctx.spec();
    let mut rebuilt = Vec::with_capacity(spec.warm.len());
    let mut cost = ctx.cost.write();
    for record in &spec.warm {
        let Some((candidate, nest)) =
            rebuild_as_recorded(&record.lineage, record.fingerprint, &record.program, ctx.space())
        else {
            continue;
        };
        let rate = record.program.flops() as f64 / (record.latency_ms * 1e-3);
        cost.add_prior_measurement(&features_of(&candidate, &nest), rate);
        rebuilt.push((record.program.clone(), candidate, record.latency_ms));
    }
    drop(cost);
    let stale = spec.warm.len() - rebuilt.len();
    if stale > 0 {
        ctx.warn(format!(
            "{stale} of {} other workloads' records no longer build the kernel they were measured as; \
             not learned from",
            spec.warm.len()
        ));
    }
    WarmStart { records: rebuilt.len(), styles: styles_of(&rebuilt) }
}
