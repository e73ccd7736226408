//! The user part of an expansion prompt, and of a correction prompt.

use super::legal_list::legal_edits_text;
use crate::stats::ModelStats;
use colt_ir::schedule::{Candidate, Edit};
use std::fmt::Write;

/// What the search knows of a candidate's speed, both as normalised
/// throughput (1 = the best measured so far).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Scores {
    pub predicted: Option<f64>,
    pub measured: Option<f64>,
}

impl Scores {
    /// The score that counts: the measurement when there is one.
    pub fn best_known(&self) -> Option<f64> {
        self.measured.or(self.predicted)
    }
}

/// A candidate and its scores, as a prompt shows it.
#[derive(Clone, Copy, Debug)]
pub struct Shown<'a> {
    pub candidate: &'a Candidate,
    pub scores: Scores,
}

/// Where the search stands.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SearchProgress {
    pub trials: usize,
    pub trial_budget: usize,
    /// Seconds of the best measured kernel.
    pub best_latency: Option<f64>,
    /// Expansions since the best measurement improved.
    pub stalled_expansions: usize,
}

/// Everything the user part of an expansion prompt shows.
#[derive(Clone, Copy)]
pub struct ExpansionView<'a> {
    pub current: Shown<'a>,
    pub parent: Option<Shown<'a>>,
    pub grandparent: Option<Shown<'a>>,
    /// `legal_edits(current.candidate)`.
    pub legal: &'a [Edit],
    /// List the legal edits (grouped by stage and decision). Off, the
    /// prompt says only that the grammar admits legal edits alone: a
    /// third to two thirds of the user part less (`colt:legal-list` turns
    /// it on).
    pub list_legal: bool,
    pub stats: &'a ModelStats,
    pub progress: SearchProgress,
    /// What this job measured so far, the same for every call of a round
    /// (empty: nothing yet): it goes first, after the fixed system message,
    /// so consecutive calls share the longest prefix.
    pub history: &'a str,
    /// The cost model's roofline reading of the current candidate.
    pub reading: Option<&'a str>,
}

/// The user part of the prompt asking a model for a joint action.
pub fn expansion_prompt(view: &ExpansionView<'_>) -> String {
    let c = view.current.candidate;
    let mut out = String::with_capacity(2048);
    out.push_str(view.history);
    progress_line(&mut out, c, &view.progress);
    for (label, shown) in [("grandparent", view.grandparent), ("parent", view.parent)] {
        if let Some(shown) = shown {
            let _ =
                writeln!(out, "{label} [{}]: {}", scores_text(shown.scores), differing_decisions(shown.candidate, c));
        }
    }
    // The decisions, not the loop nest: they say the same, and the nest's
    // outline was a third of the user part (at ~100 prompt tokens/s on 2
    // cores, a second of every 0.5B call); the roofline reading says what
    // the nest implies (parallel work, lanes, bound).
    let _ = writeln!(out, "current [{}]:\n{}", scores_text(view.current.scores), c.decisions_text().trim_end());
    if let Some(reading) = view.reading {
        let _ = writeln!(out, "cost model's reading of current: {reading}");
    }
    if view.list_legal {
        let _ = write!(out, "legal edits:\n{}", legal_edits_text(c, view.legal));
    } else {
        let _ = writeln!(out, "legal edits: not listed; the answer's grammar admits only legal ones");
    }
    models_block(&mut out, view.stats);
    out.push_str("Answer with the JSON object.");
    out
}

/// The user part of the prompt asking the largest model to correct a small
/// model's proposal that regressed: it sees the parent, the proposal and
/// both scores, and answers the same joint action (edits from the parent).
pub fn correction_prompt(
    view: &ExpansionView<'_>,
    proposal: &[Edit],
    proposal_scores: Scores,
    proposer: &str,
) -> String {
    let mut out = expansion_prompt(view);
    let edits: Vec<String> = proposal.iter().map(|e| e.to_string()).collect();
    let _ = write!(
        out,
        "\nCorrection: model {proposer} proposed {} from the current candidate, which scored [{}], below the current [{}]. Propose better edits from the current candidate.",
        edits.join("; "),
        scores_text(proposal_scores),
        scores_text(view.current.scores),
    );
    out
}

fn progress_line(out: &mut String, c: &Candidate, p: &SearchProgress) {
    let best = p.best_latency.map_or("none yet".to_string(), |s| format!("{:.3} ms", s * 1e3));
    let _ = writeln!(
        out,
        "program {}: trials {}/{}, best {best}, {} expansions without improvement",
        c.program().name(),
        p.trials,
        p.trial_budget,
        p.stalled_expansions
    );
}

fn models_block(out: &mut String, stats: &ModelStats) {
    out.push_str("models (params, calls, hit rate, errors):");
    for id in stats.roster().ids() {
        let (Some(spec), s) = (stats.roster().get(id), stats.summary(id)) else { continue };
        let _ = write!(
            out,
            " {} ({}, {}, {:.0}%, {})",
            spec.name,
            params_text(spec.parameters),
            s.calls,
            100.0 * s.hit_rate(),
            s.errors()
        );
        out.push(';');
    }
    out.pop();
    out.push('\n');
}

fn params_text(p: u64) -> String {
    if p >= 1_000_000_000 {
        format!("{:.1}B", p as f64 / 1e9)
    } else {
        format!("{:.0}M", p as f64 / 1e6)
    }
}

fn scores_text(s: Scores) -> String {
    match (s.predicted, s.measured) {
        (_, Some(m)) => format!("measured {m:.2}"),
        (Some(p), None) => format!("predicted {p:.2}"),
        (None, None) => "unscored".to_string(),
    }
}

/// The decision lines of `other` that differ from `current`'s: parent and
/// grandparent are one or two edits away, so this is a line or two where
/// the full rendering would be hundreds of tokens.
fn differing_decisions(other: &Candidate, current: &Candidate) -> String {
    let mine = current.decisions_text();
    let theirs = other.decisions_text();
    let differing: Vec<&str> = theirs.lines().filter(|line| !mine.lines().any(|m| m == *line)).collect();
    if differing.is_empty() {
        "same decisions".to_string()
    } else {
        differing.join(" | ")
    }
}
