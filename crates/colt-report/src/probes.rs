//! The proposal-quality instrument's figures: per model, how often its
//! calls beat a random legal edit set drawn at the same node — by the cost
//! model's prediction, and by measurement where the job measured its
//! probes — with a 95% interval, the mean gain, and the share of unusable
//! and duplicate answers.
//!
//! Decisions, so that the figure cannot flatter the models: an unusable
//! answer (no edit applied, or the call failed) counts as a loss — the
//! search spent the call and fell back to a random edit; a tie counts half;
//! a kernel that failed is slower than any that ran; a pair where both
//! failed is left out of the measured rate.

use colt_search::ProposalProbe;
use serde::{Deserialize, Serialize};

/// A share of wins out of `n`, with its Wilson score interval at 95%.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct WinRate {
    pub n: usize,
    /// Wins, ties counted half.
    pub wins: f64,
    pub rate: f64,
    pub low: f64,
    pub high: f64,
}

impl WinRate {
    /// None when `n` is 0.
    pub fn of(wins: f64, n: usize) -> Option<WinRate> {
        if n == 0 {
            return None;
        }
        const Z: f64 = 1.96;
        let nf = n as f64;
        let p = wins / nf;
        let denominator = 1.0 + Z * Z / nf;
        let centre = (p + Z * Z / (2.0 * nf)) / denominator;
        let half = Z * (p * (1.0 - p) / nf + Z * Z / (4.0 * nf * nf)).sqrt() / denominator;
        Some(WinRate { n, wins, rate: p, low: (centre - half).max(0.0), high: (centre + half).min(1.0) })
    }

    /// `62% [48–74%] of 40`.
    pub fn display(&self) -> String {
        format!("{:.0}% [{:.0}–{:.0}%] of {}", 100.0 * self.rate, 100.0 * self.low, 100.0 * self.high, self.n)
    }
}

/// One model's calls beside chance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProposalQuality {
    pub model: String,
    /// Calls probed.
    pub calls: usize,
    /// Against the random edit set, by the cost model (every call).
    pub predicted: Option<WinRate>,
    /// Geometric mean over usable calls of the proposal's predicted value
    /// over the random set's (above 1: the model's edits look better).
    pub predicted_gain: Option<f64>,
    /// Against the random edit set, measured (the measured probes).
    pub measured: Option<WinRate>,
    /// Geometric mean of the random kernel's latency over the proposal's,
    /// over measured pairs where both ran (above 1: the model's is faster).
    pub measured_gain: Option<f64>,
    /// Share of calls whose answer had no applicable edit.
    pub unusable_share: f64,
    /// Share of calls whose child was already in the tree.
    pub duplicate_share: f64,
}

/// Per model, in the order the models first appear in `probes`.
pub fn proposal_quality<'a>(probes: impl IntoIterator<Item = &'a ProposalProbe>) -> Vec<ProposalQuality> {
    let mut by_model: Vec<(String, Vec<&ProposalProbe>)> = Vec::new();
    for probe in probes {
        match by_model.iter_mut().find(|(m, _)| *m == probe.model) {
            Some((_, list)) => list.push(probe),
            None => by_model.push((probe.model.clone(), vec![probe])),
        }
    }
    by_model.into_iter().map(|(model, probes)| quality_of(model, &probes)).collect()
}

fn quality_of(model: String, probes: &[&ProposalProbe]) -> ProposalQuality {
    let calls = probes.len();
    let predicted_wins: f64 = probes
        .iter()
        .map(|p| match p.proposal_predicted {
            None => 0.0,
            Some(s) => outcome(s.total_cmp(&p.random_predicted)),
        })
        .sum();
    let predicted_ratios: Vec<f64> = probes
        .iter()
        .filter_map(|p| Some(p.proposal_predicted? / p.random_predicted))
        .filter(|r| r.is_finite() && *r > 0.0)
        .collect();
    let measured: Vec<&ProposalProbe> =
        probes.iter().copied().filter(|p| p.measured && (p.proposal_ms.is_some() || p.random_ms.is_some())).collect();
    let measured_wins: f64 = measured
        .iter()
        .map(|p| {
            let proposal = p.proposal_ms.unwrap_or(f64::INFINITY);
            let random = p.random_ms.unwrap_or(f64::INFINITY);
            outcome(random.total_cmp(&proposal))
        })
        .sum();
    let measured_ratios: Vec<f64> = measured
        .iter()
        .filter_map(|p| Some(p.random_ms? / p.proposal_ms?))
        .filter(|r| r.is_finite() && *r > 0.0)
        .collect();
    let share = |count: usize| if calls == 0 { 0.0 } else { count as f64 / calls as f64 };
    ProposalQuality {
        model,
        calls,
        predicted: WinRate::of(predicted_wins, calls),
        predicted_gain: geometric_mean(&predicted_ratios),
        measured: WinRate::of(measured_wins, measured.len()),
        measured_gain: geometric_mean(&measured_ratios),
        unusable_share: share(probes.iter().filter(|p| p.proposal_predicted.is_none()).count()),
        duplicate_share: share(probes.iter().filter(|p| p.duplicate).count()),
    }
}

/// A win (1), a tie (½) or a loss (0) of the proposal, from the order of
/// "its" value against the random set's (Greater: the proposal is better).
fn outcome(order: std::cmp::Ordering) -> f64 {
    match order {
        std::cmp::Ordering::Greater => 1.0,
        std::cmp::Ordering::Equal => 0.5,
        std::cmp::Ordering::Less => 0.0,
    }
}

fn geometric_mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| (values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp())
}

/// The markdown table of `rows` (a heading row and one row per model).
pub fn proposal_quality_table(rows: &[(String, ProposalQuality)]) -> String {
    let mut md = String::from(
        "| strategy | model | calls | win rate vs random, predicted | gain, predicted | win rate vs random, measured | \
         gain, measured | unusable | duplicate |\n|---|---|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    let rate = |r: &Option<WinRate>| r.as_ref().map_or("-".to_string(), WinRate::display);
    let gain = |g: Option<f64>| g.map_or("-".to_string(), |g| format!("{g:.2}x"));
    for (strategy, q) in rows {
        md.push_str(&format!(
            "| {strategy} | {} | {} | {} | {} | {} | {} | {:.0}% | {:.0}% |\n",
            q.model,
            q.calls,
            rate(&q.predicted),
            gain(q.predicted_gain),
            rate(&q.measured),
            gain(q.measured_gain),
            100.0 * q.unusable_share,
            100.0 * q.duplicate_share,
        ));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(model: &str, proposal: Option<f64>, random: f64, ms: Option<(Option<f64>, Option<f64>)>) -> ProposalProbe {
        ProposalProbe {
            model: model.into(),
            parent_predicted: 0.1,
            proposal_predicted: proposal,
            random_predicted: random,
            duplicate: false,
            measured: ms.is_some(),
            proposal_ms: ms.and_then(|m| m.0),
            random_ms: ms.and_then(|m| m.1),
        }
    }

    #[test]
    fn the_wilson_interval_matches_its_textbook_values() {
        // 8 of 10: Wilson 95% is [0.490, 0.943].
        let r = WinRate::of(8.0, 10).unwrap();
        assert!((r.low - 0.4902).abs() < 1e-3 && (r.high - 0.9433).abs() < 1e-3, "{r:?}");
        // All wins never reaches 1 at the low end; none has 0 at the low.
        let all = WinRate::of(20.0, 20).unwrap();
        assert!(all.low < 1.0 && all.high == 1.0 && all.low > 0.8, "{all:?}");
        assert_eq!(WinRate::of(0.0, 5).unwrap().low, 0.0);
        assert_eq!(WinRate::of(0.0, 0), None);
    }

    #[test]
    fn unusable_answers_lose_ties_count_half_and_failures_are_slowest() {
        let probes = [
            probe("small", Some(0.5), 0.2, Some((Some(1.0), Some(2.0)))), // wins both ways, gain 2x
            probe("small", Some(0.2), 0.2, Some((Some(2.0), Some(2.0)))), // ties both ways
            probe("small", None, 0.3, Some((None, Some(1.0)))),           // unusable: loses both ways
            probe("small", Some(0.1), 0.4, Some((Some(1.0), None))),      // predicted loss, random failed: measured win
            probe("small", Some(0.4), 0.1, Some((None, None))),           // both failed: not in the measured rate
            probe("large", Some(0.9), 0.1, None),
        ];
        let q = proposal_quality(&probes);
        assert_eq!(q.iter().map(|q| q.model.as_str()).collect::<Vec<_>>(), ["small", "large"]);
        let small = &q[0];
        assert_eq!(small.calls, 5);
        assert_eq!(small.predicted.unwrap().wins, 2.5);
        let measured = small.measured.unwrap();
        assert_eq!((measured.n, measured.wins), (4, 2.5));
        assert!((small.measured_gain.unwrap() - 2f64.sqrt()).abs() < 1e-12, "{small:?}");
        assert!((small.unusable_share - 0.2).abs() < 1e-12);
        assert_eq!(q[1].measured, None);
        assert!((q[1].predicted_gain.unwrap() - 9.0).abs() < 1e-9);
        let table = proposal_quality_table(&[("colt".into(), small.clone())]);
        assert!(table.contains("| colt | small | 5 | 50% ["), "{table}");
        assert!(table.contains("| 20% | 0% |"), "{table}");
    }
}
