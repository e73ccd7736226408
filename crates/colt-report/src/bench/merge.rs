//! Joining the reports of several benches into one, for
//! `colt bench --from A --from B`: a long bench made in parts (some
//! workloads now, the rest later; a strategy added to an earlier run).
//!
//! The rules, so that the joined tables compare like with like:
//! - the runs must agree on the target, the shapes, the budgets, the
//!   repeats, the target speedup and the measured cores (where both
//!   recorded them); otherwise their figures do not line
//!   up, and joining is refused;
//! - workloads keep the order of their first appearance, and a workload
//!   in several runs gets the strategies of each in turn; a strategy may
//!   appear once per workload (two runs of one strategy are not averaged);
//! - each workload keeps the naive latency of the first run that has it,
//!   and the speedups and trials-to-target of the strategies joined from
//!   later runs are computed again against it (their best latencies and
//!   curves are kept as measured). The naive kernel is measured once per
//!   run: without this one table would mix two baselines;
//! - each workload keeps the roofline bound of the first run that has one
//!   (every run is of one target), and each strategy's share of it is
//!   computed again when the outputs are written;
//! - the wall time is the sum of the runs';
//! - peers' results are kept once per peer, workload and budget (the
//!   first file's).

use crate::bench::{against_naive, BenchReport};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("no bench report to join")]
    Nothing,
    #[error("cannot join `{}` to `{}`: their {what} differ ({theirs} against {ours})", path.display(), first.display())]
    Differs { path: PathBuf, first: PathBuf, what: &'static str, theirs: String, ours: String },
    #[error(
        "cannot join `{}`: strategy `{strategy}` on `{workload}` is already in an earlier file (from `{}` on)",
        path.display(),
        first.display()
    )]
    StrategyTwice { path: PathBuf, strategy: String, workload: String, first: PathBuf },
}

/// Joins `reports` (each with the file it came from, for the errors) in
/// order. One report is returned as it is.
pub fn merge(reports: Vec<(PathBuf, BenchReport)>) -> Result<BenchReport, MergeError> {
    let mut reports = reports.into_iter();
    let Some((first_path, mut joined)) = reports.next() else {
        return Err(MergeError::Nothing);
    };
    for (path, report) in reports {
        let differs = |what: &'static str, ours: String, theirs: String| MergeError::Differs {
            path: path.clone(),
            first: first_path.clone(),
            what,
            theirs,
            ours,
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
        if let (Some(ours), Some(theirs)) = (joined.cores, report.cores) {
            if ours != theirs {
                return Err(differs("measured cores", ours.to_string(), theirs.to_string()));
            }
        }
        joined.cores = joined.cores.or(report.cores);
        joined.wall_s += report.wall_s;
        for peer in report.peers {
            let same = |p: &&crate::bench::PeerResult| {
                p.peer == peer.peer && p.workload == peer.workload && p.trials == peer.trials
            };
            if !joined.peers.iter().any(|p| same(&p)) {
                joined.peers.push(peer);
            }
        }
        for workload in report.workloads {
            let Some(existing) = joined.workloads.iter_mut().find(|w| w.workload == workload.workload) else {
                joined.workloads.push(workload);
                continue;
            };
            if existing.bound.is_none() {
                existing.bound = workload.bound;
            }
            for mut strategy in workload.strategies {
                if existing.strategies.iter().any(|s| s.strategy == strategy.strategy) {
                    return Err(MergeError::StrategyTwice {
                        path,
                        strategy: strategy.strategy,
                        workload: workload.workload,
                        first: first_path,
                    });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::tables::tests::report;

    #[test]
    fn a_later_strategy_is_measured_against_the_first_baseline() {
        let first = report();
        let mut second = report();
        second.workloads[0].naive_ms = 50.0;
        second.workloads[0].strategies.retain(|s| s.strategy == "random");
        let mcts = &mut second.workloads[0].strategies[0];
        mcts.strategy = "mcts".into();
        (mcts.speedup, mcts.trials_to_target) = (Default::default(), None);
        let joined = merge(vec![("a.json".into(), first), ("b.json".into(), second)]).unwrap();
        assert_eq!(joined.wall_s, 42.0);
        let mut unrecorded = report();
        unrecorded.cores = Some(2);
        unrecorded.workloads[0].workload = "flux-conv".into();
        let joined_cores = merge(vec![("a.json".into(), report()), ("b.json".into(), unrecorded)]).unwrap().cores;
        assert_eq!(joined_cores, Some(2), "a run before cores were recorded joins one that has them");
        let w = &joined.workloads[0];
        assert_eq!(w.naive_ms, 100.0);
        let mcts = &w.strategies[2];
        assert_eq!((mcts.strategy.as_str(), mcts.speedup[&4]), ("mcts", Some(10.0)));
        assert_eq!(mcts.trials_to_target, Some(3), "100 / 10 = 10 ms is first reached at the third trial");
    }

    #[test]
    fn what_cannot_be_joined_is_named() {
        let mut budgets = report();
        budgets.budgets = vec![2, 8];
        let err = merge(vec![("a.json".into(), report()), ("b.json".into(), budgets)]).unwrap_err();
        assert_eq!(err.to_string(), "cannot join `b.json` to `a.json`: their budgets differ ([2, 8] against [2, 4])");
        let err = merge(vec![("a.json".into(), report()), ("b.json".into(), report())]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot join `b.json`: strategy `colt` on `gemm-512` is already in an earlier file (from `a.json` on)"
        );
        let (mut two, mut four) = (report(), report());
        (two.cores, four.cores) = (Some(2), Some(4));
        let err = merge(vec![("a.json".into(), two), ("b.json".into(), four)]).unwrap_err();
        assert_eq!(err.to_string(), "cannot join `b.json` to `a.json`: their measured cores differ (4 against 2)");
        assert!(matches!(merge(Vec::new()), Err(MergeError::Nothing)));
    }
}
