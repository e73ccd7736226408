//! What a job knows before its first round: earlier jobs' verified records
//! of the workload and target, and, when resumed, its own trials. Each
//! becomes a known measurement (never measured again), a sample of the
//! cost model, a candidate for the best, and — through the strategy — a
//! member of what it searches from. Records of other workloads on the same
//! target only warm the cost model up ([`load_warm`]).

use crate::context::{Best, SearchContext};
use colt_ir::features::features_of;
use colt_ir::schedule::{lower, Candidate, Lineage};

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
/// builds is skipped with a warning.
pub(crate) fn load_known(ctx: &SearchContext<'_>) -> Vec<KnownCandidate> {
    let spec = ctx.spec();
    let mut rows: Vec<(Lineage, Option<f64>, bool, Option<String>)> =
        spec.known.iter().map(|k| (k.lineage.clone(), Some(k.latency_ms), false, None)).collect();
    if let Some(resume) = &spec.resume {
        rows.extend(resume.trials.iter().map(|t| (t.lineage.clone(), t.latency_ms, true, t.model.clone())));
    }
    let mut known = Vec::with_capacity(rows.len());
    let mut curve = Vec::new();
    for (lineage, latency, own, model) in rows {
        let Ok(candidate) = lineage.rebuild_on(ctx.program(), ctx.space()) else {
            ctx.warn(format!("a stored candidate no longer builds ({lineage}); skipped"));
            continue;
        };
        let nest = lower(&candidate);
        let fingerprint = nest.fingerprint();
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
    known
}

/// Trains the cost model on the job's warm start: verified records of
/// other workloads on the same target (see `JobSpec::warm`). A record that
/// no longer builds is skipped; how many were is one warning. Returns how
/// many it learned from.
pub(crate) fn load_warm(ctx: &SearchContext<'_>) -> usize {
    let spec = ctx.spec();
    let mut stale = 0;
    let mut cost = ctx.cost.write();
    for record in &spec.warm {
        let Ok(candidate) = record.lineage.rebuild_on(&record.program, ctx.space()) else {
            stale += 1;
            continue;
        };
        let nest = lower(&candidate);
        let rate = record.program.flops() as f64 / (record.latency_ms * 1e-3);
        cost.add_prior_measurement(&features_of(&candidate, &nest), rate);
    }
    drop(cost);
    if stale > 0 {
        ctx.warn(format!("{stale} of {} other workloads' records no longer build; not learned from", spec.warm.len()));
    }
    spec.warm.len() - stale
}
