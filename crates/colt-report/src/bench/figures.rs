//! How a bench's figures are computed from its runs' latency curves: the
//! best latency within each budget (the median over repeats), the speedup
//! over naive, the trials to reach the target speedup, the largest model's
//! share of the calls.

use crate::bench::{RunRecord, StrategyReport};
use std::collections::BTreeMap;

/// What one strategy's runs on one workload measured, before its figures.
#[derive(Clone, Debug)]
pub struct StrategyRuns {
    /// The strategy as the bench names it (`colt`, `colt:lambda=0.5`, ...).
    pub strategy: String,
    /// One per repeat, in the order run.
    pub runs: Vec<RunRecord>,
    /// Calls per model name, over the runs.
    pub llm_calls: BTreeMap<String, u64>,
    pub llm_tokens: u64,
    /// The models' call time, over the runs.
    pub llm_seconds: f64,
    pub wall_s: f64,
}

/// A strategy's figures on a workload whose naive kernel took `naive` ms:
/// per budget the median over runs of the best latency within it (None when
/// a run has no verified kernel within it) and its speedup, the trials to
/// `target` times naive, and the share of the calls that went to
/// `largest_model` (the name of the model with the most parameters).
pub fn strategy_report(
    measured: StrategyRuns,
    naive: f64,
    budgets: &[usize],
    target: f64,
    largest_model: Option<&str>,
) -> StrategyReport {
    let StrategyRuns { strategy, runs, llm_calls, llm_tokens, llm_seconds, wall_s } = measured;
    let mut best_ms = BTreeMap::new();
    for &b in budgets {
        let bests: Vec<f64> = runs.iter().filter_map(|r| best_within(&r.curve, b)).collect();
        best_ms.insert(b, (bests.len() == runs.len()).then(|| median(bests)).flatten());
    }
    let (speedup, trials_to_target) = against_naive(&runs, &best_ms, naive, target);
    let total: u64 = llm_calls.values().sum();
    let largest_model_share = largest_model
        .and_then(|name| llm_calls.get(name).copied())
        .filter(|_| total > 0)
        .map(|n| n as f64 / total as f64);
    StrategyReport {
        strategy,
        best_ms,
        speedup,
        trials_to_target,
        llm_calls,
        llm_tokens,
        llm_seconds,
        largest_model_share,
        share_of_bound: None,
        wall_s,
        runs,
    }
}

/// The figures of a strategy that depend on the naive latency: the speedup
/// at each budget, and the median over runs of the first trial reaching
/// `target` times naive (None when a run never did).
pub fn against_naive(
    runs: &[RunRecord],
    best_ms: &BTreeMap<usize, Option<f64>>,
    naive: f64,
    target: f64,
) -> (BTreeMap<usize, Option<f64>>, Option<usize>) {
    let speedup = best_ms.iter().map(|(&b, m)| (b, m.map(|m| naive / m))).collect();
    let reached: Vec<Option<usize>> = runs.iter().map(|r| first_reaching(&r.curve, naive / target)).collect();
    let trials_to_target = if reached.iter().all(Option::is_some) {
        median(reached.into_iter().flatten().map(|n| n as f64).collect()).map(|m| m.round() as usize)
    } else {
        None
    };
    (speedup, trials_to_target)
}

/// The best verified latency among the first `budget` trials.
pub fn best_within(curve: &[Option<f64>], budget: usize) -> Option<f64> {
    curve.iter().take(budget).flatten().copied().reduce(f64::min)
}

/// The 1-based trial at which the best latency first reaches `ms`.
pub fn first_reaching(curve: &[Option<f64>], ms: f64) -> Option<usize> {
    curve.iter().position(|l| l.is_some_and(|l| l <= ms)).map(|i| i + 1)
}

/// The median (the mean of the middle two of an even count); None of nothing.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(seed: u64, curve: &[Option<f64>]) -> RunRecord {
        RunRecord { seed, curve: curve.to_vec(), wall_s: 1.0, probes: Vec::new() }
    }

    #[test]
    fn medians_and_curves() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        let curve = [None, Some(9.0), Some(12.0), Some(4.0)];
        assert_eq!(
            (best_within(&curve, 1), best_within(&curve, 3), best_within(&curve, 99)),
            (None, Some(9.0), Some(4.0))
        );
        assert_eq!(
            (first_reaching(&curve, 10.0), first_reaching(&curve, 4.0), first_reaching(&curve, 1.0)),
            (Some(2), Some(4), None)
        );
    }

    #[test]
    fn a_budget_is_reported_only_when_every_run_verified_a_kernel_within_it() {
        let measured = StrategyRuns {
            strategy: "colt".into(),
            runs: vec![run(1, &[Some(50.0), Some(8.0)]), run(2, &[None, Some(12.0)])],
            llm_calls: BTreeMap::from([("qwen-1.5b".into(), 1), ("smollm-135m".into(), 3)]),
            llm_tokens: 400,
            llm_seconds: 1.5,
            wall_s: 2.0,
        };
        let report = strategy_report(measured, 100.0, &[1, 2], 5.0, Some("qwen-1.5b"));
        assert_eq!(report.best_ms, BTreeMap::from([(1, None), (2, Some(10.0))]));
        assert_eq!(report.speedup, BTreeMap::from([(1, None), (2, Some(10.0))]));
        assert_eq!(report.trials_to_target, Some(2), "both runs reach 100 / 5 = 20 ms at their second trial");
        assert_eq!(report.largest_model_share, Some(0.25));
        assert_eq!((report.llm_tokens, report.llm_seconds), (400, 1.5), "the models' cost is carried over");
        let none = StrategyRuns {
            strategy: "random".into(),
            runs: vec![run(1, &[Some(20.0)])],
            llm_calls: BTreeMap::new(),
            llm_tokens: 0,
            llm_seconds: 0.0,
            wall_s: 1.0,
        };
        let report = strategy_report(none, 100.0, &[1], 10.0, Some("qwen-1.5b"));
        assert_eq!((report.trials_to_target, report.largest_model_share), (None, None));
    }
}
