//! Joining the `bench.json` of several `colt bench` runs into one report,
//! for `colt bench --from A --from B`: a long bench made in parts (some
//! workloads now, the rest later; a strategy added to an earlier run).
//!
//! The rules, so that the joined tables compare like with like:
//! - the runs must agree on the budgets, the repeats and the target
//!   speedup; otherwise their figures do not line up, and joining is refused;
//! - workloads keep the order of their first appearance, and a workload
//!   in several runs gets the strategies of each in turn; a strategy may
//!   appear once per workload (two runs of one strategy are not averaged);
//! - each workload keeps the naive latency of the first run that has it,
//!   and the speedups and trials-to-target of the strategies joined from
//!   later runs are computed again against it (their best latencies and
//!   curves are kept as measured). The naive kernel is measured once per
//!   run: without this one table would mix two baselines;
//! - the wall time is the sum of the runs'.

use crate::bench::{against_naive, BenchReport};
use anyhow::{bail, Result};
use std::path::PathBuf;

/// Joins `reports` (each with the file it came from, for the errors) in
/// order. One report is returned as it is.
pub fn merge(reports: Vec<(PathBuf, BenchReport)>) -> Result<BenchReport> {
    let mut reports = reports.into_iter();
    let Some((first_path, mut joined)) = reports.next() else {
        bail!("--from needs at least one bench.json");
    };
    for (path, report) in reports {
        let differs = |what: &str, a: String, b: String| {
            anyhow::anyhow!(
                "cannot join `{}` to `{}`: their {what} differ ({b} against {a})",
                path.display(),
                first_path.display()
            )
        };
        if report.target != joined.target {
            return Err(differs("targets", joined.target.clone(), report.target.clone()));
        }
        if report.full != joined.full {
            return Err(differs("shapes (--full)", joined.full.to_string(), report.full.to_string()));
        }
        if report.budgets != joined.budgets {
            return Err(differs("budgets", format!("{:?}", joined.budgets), format!("{:?}", report.budgets)));
        }
        if report.repeats != joined.repeats {
            return Err(differs("repeats", joined.repeats.to_string(), report.repeats.to_string()));
        }
        if report.target_speedup != joined.target_speedup {
            return Err(differs(
                "target speedups",
                joined.target_speedup.to_string(),
                report.target_speedup.to_string(),
            ));
        }
        joined.wall_s += report.wall_s;
        for workload in report.workloads {
            let Some(existing) = joined.workloads.iter_mut().find(|w| w.workload == workload.workload) else {
                joined.workloads.push(workload);
                continue;
            };
            for mut strategy in workload.strategies {
                if existing.strategies.iter().any(|s| s.strategy == strategy.strategy) {
                    bail!(
                        "cannot join `{}`: strategy `{}` on `{}` is already in an earlier file (from `{}` on)",
                        path.display(),
                        strategy.strategy,
                        workload.workload,
                        first_path.display()
                    );
                }
                let (speedup, trials_to_target) =
                    against_naive(&strategy.runs, &strategy.best_ms, existing.naive_ms, joined.target_speedup);
                strategy.speedup = speedup;
                strategy.trials_to_target = trials_to_target;
                existing.strategies.push(strategy);
            }
        }
    }
    Ok(joined)
}
