//! What a tuning job achieved, in figures: `summary.json` and the one line
//! of JSON `colt tune --json` prints.

use crate::probes::{proposal_quality, ProposalQuality};
use crate::roofline::Bound;
use colt_search::{Outcome, SourceReport};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a tuning job achieved, as `summary.json` and the one-line summary print it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TuneSummary {
    pub workload: String,
    pub strategy: String,
    pub target: String,
    /// Measured candidates.
    pub trials: usize,
    pub naive_ms: f64,
    /// Latency of the best verified kernel.
    pub best_ms: Option<f64>,
    /// `naive_ms / best_ms`.
    pub speedup: Option<f64>,
    pub verified: bool,
    /// Calls per model name.
    pub llm_calls: BTreeMap<String, u64>,
    /// Share of calls made by the largest model; `None` when no LLM was used.
    pub largest_model_share: Option<f64>,
    pub course_alterations: u64,
    pub wall_s: f64,
    /// The earlier verified records of this workload on this target label
    /// the job started from (none: a fresh start, `--fresh`, or a resume).
    #[serde(default)]
    pub started_from: Option<StartedFrom>,
    /// Per model, its calls against random edit sets at the same nodes
    /// (empty for a model-free strategy).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proposal_quality: Vec<ProposalQuality>,
    /// Who found the trials and the improvements of the best: each model,
    /// `random edits`, `samples`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<SourceReport>,
    /// Expansions by random edits (each model's are its calls).
    #[serde(default)]
    pub random_expansions: u64,
    /// The workload's roofline bound on the measured cores; None when the
    /// machine's limits are not measured.
    #[serde(default)]
    pub bound: Option<Bound>,
    /// The bound over `best_ms` (1.0: the kernel runs at the bound).
    #[serde(default)]
    pub share_of_bound: Option<f64>,
}

/// What a job knew before its first trial: earlier jobs' records of its
/// workload, on its own target label only (any host's, in a shared
/// database).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StartedFrom {
    pub records: usize,
    /// The fastest of them, and the job that measured it.
    pub best_ms: f64,
    pub best_job: i64,
}

impl TuneSummary {
    /// The figures of a job's outcome; `target` is the target's label.
    pub fn of(workload: &str, strategy: &str, target: &str, outcome: &Outcome) -> TuneSummary {
        let llm_calls = outcome.models.iter().map(|m| (m.name.clone(), m.calls)).collect();
        let total_calls: u64 = outcome.models.iter().map(|m| m.calls).sum();
        let largest_model_share = outcome
            .models
            .iter()
            .max_by_key(|m| m.parameters)
            .filter(|_| total_calls > 0)
            .map(|m| m.calls as f64 / total_calls as f64);
        let best_ms = outcome.best.as_ref().map(|b| b.0);
        TuneSummary {
            workload: workload.to_string(),
            strategy: strategy.to_string(),
            target: target.to_string(),
            trials: outcome.curve.len(),
            naive_ms: outcome.naive_ms,
            best_ms,
            speedup: best_ms.map(|b| outcome.naive_ms / b),
            verified: best_ms.is_some(),
            llm_calls,
            largest_model_share,
            course_alterations: outcome.course_alterations,
            wall_s: outcome.wall_s,
            started_from: None,
            proposal_quality: proposal_quality(&outcome.probes),
            sources: outcome.sources.clone(),
            random_expansions: outcome.random_expansions,
            bound: None,
            share_of_bound: None,
        }
    }

    /// With the workload's roofline bound (see [`crate::bound_of`]) and the
    /// best kernel's share of it.
    pub fn with_bound(mut self, bound: Option<Bound>) -> TuneSummary {
        self.share_of_bound = crate::share_of(bound.as_ref(), self.best_ms);
        self.bound = bound;
        self
    }
}

/// The summary's keys in the order scripts and `colt bench` read them; `target` comes last.
#[derive(Serialize)]
struct SummaryLine<'a> {
    workload: &'a str,
    strategy: &'a str,
    trials: usize,
    naive_ms: f64,
    best_ms: Option<f64>,
    speedup: Option<f64>,
    verified: bool,
    llm_calls: &'a BTreeMap<String, u64>,
    largest_model_share: Option<f64>,
    course_alterations: u64,
    wall_s: f64,
    started_from: Option<&'a StartedFrom>,
    #[serde(skip_serializing_if = "<[ProposalQuality]>::is_empty")]
    proposal_quality: &'a [ProposalQuality],
    bound_ms: Option<f64>,
    share_of_bound: Option<f64>,
    target: &'a str,
}

/// The summary as one line of JSON, keys in a fixed order: `summary.json`'s, with `target` last.
pub fn summary_line(summary: &TuneSummary) -> String {
    let line = SummaryLine {
        workload: &summary.workload,
        strategy: &summary.strategy,
        trials: summary.trials,
        naive_ms: summary.naive_ms,
        best_ms: summary.best_ms,
        speedup: summary.speedup,
        verified: summary.verified,
        llm_calls: &summary.llm_calls,
        largest_model_share: summary.largest_model_share,
        course_alterations: summary.course_alterations,
        wall_s: summary.wall_s,
        started_from: summary.started_from.as_ref(),
        proposal_quality: &summary.proposal_quality,
        bound_ms: summary.bound.as_ref().map(Bound::milliseconds),
        share_of_bound: summary.share_of_bound,
        target: &summary.target,
    };
    // Invariant: every field is a string, a number (non-finite ones become null), a bool or a map keyed by
    // strings, none of which serde_json can fail to serialize; and compact output contains no newline.
    serde_json::to_string(&line).expect("a SummaryLine always serializes")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use colt_search::{ModelReport, StopReason};

    pub(crate) fn summary() -> TuneSummary {
        TuneSummary {
            workload: "matmul-512".into(),
            strategy: "colt".into(),
            target: "x86_64-avx2".into(),
            trials: 3,
            naive_ms: 40.0,
            best_ms: Some(3.2),
            speedup: Some(12.5),
            verified: true,
            llm_calls: BTreeMap::from([("qwen-1.5b".into(), 7), ("smollm-135m".into(), 21)]),
            largest_model_share: Some(0.25),
            course_alterations: 2,
            wall_s: 81.25,
            started_from: None,
            proposal_quality: Vec::new(),
            sources: Vec::new(),
            random_expansions: 0,
            bound: None,
            share_of_bound: None,
        }
    }

    #[test]
    fn summary_line_is_one_ordered_json_line() {
        let line = summary_line(&summary());
        assert!(!line.contains('\n'));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["llm_calls"]["smollm-135m"], 21);
        let keys = "workload strategy trials naive_ms best_ms speedup verified llm_calls largest_model_share \
                    course_alterations wall_s bound_ms share_of_bound target";
        let positions: Vec<usize> = keys.split_whitespace().map(|k| line.find(&format!("\"{k}\":")).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{line}");
        // Not measured: the keys are there, with no figure.
        assert_eq!((value["bound_ms"].is_null(), value["share_of_bound"].is_null()), (true, true));
    }

    #[test]
    fn a_bound_gives_the_best_kernels_share_of_it() {
        let program = colt_ir::builtin("gemm-512").unwrap().program(colt_ir::Size::Bench);
        let bound = crate::bound_of(Some(&crate::roofline::tests::limits()), &program);
        // 2.684 ms of bound against the best's 3.2 ms.
        let s = TuneSummary { best_ms: Some(3.2), ..summary() }.with_bound(bound);
        let share = s.share_of_bound.unwrap();
        assert!((share - 2.68435456 / 3.2).abs() < 1e-12, "{share}");
        let value: serde_json::Value = serde_json::from_str(&summary_line(&s)).unwrap();
        assert!((value["bound_ms"].as_f64().unwrap() - 2.68435456).abs() < 1e-12);
        assert_eq!(value["share_of_bound"].as_f64(), Some(share));
        let none = TuneSummary { best_ms: None, ..summary() }.with_bound(s.bound.clone());
        assert_eq!((none.bound.is_some(), none.share_of_bound), (true, None));
    }

    #[test]
    fn the_largest_models_share_of_an_outcome_without_a_kernel() {
        let model = |name: &str, parameters, calls| ModelReport {
            name: name.into(),
            parameters,
            calls,
            errors: 0,
            hit_rate: 0.0,
            tokens: 0,
            seconds: 0.0,
        };
        let outcome = Outcome {
            reason: StopReason::TrialBudget,
            naive_ms: 40.0,
            best: None,
            curve: vec![None, None],
            models: vec![model("qwen-1.5b", 1_500_000_000, 1), model("smollm-135m", 135_000_000, 3)],
            course_alterations: 1,
            tree_nodes: 0,
            warm_records: 0,
            snapshot: None,
            wall_s: 2.0,
            probes: Vec::new(),
            random_expansions: 0,
            sources: Vec::new(),
        };
        let s = TuneSummary::of("gemm-512", "colt", "cpu", &outcome);
        assert_eq!((s.trials, s.best_ms, s.speedup, s.verified), (2, None, None, false));
        assert_eq!(s.largest_model_share, Some(0.25));
        assert_eq!(s.llm_calls["smollm-135m"], 3);
        let no_calls = Outcome { models: vec![model("qwen-1.5b", 1, 0)], ..outcome };
        assert_eq!(TuneSummary::of("gemm-512", "colt", "cpu", &no_calls).largest_model_share, None);
    }
}
