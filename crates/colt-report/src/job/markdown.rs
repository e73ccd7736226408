//! `report.md`: a job's report for a person — its figures, the curve, the
//! models' calls, the best kernel and the trials.

use crate::job::{kernel_file, ReportInput, TrialPoint};
use std::fmt::Write as _;

/// Beyond this many trials the trial table keeps only the improvements and the last trial.
const FULL_TRIAL_TABLE: usize = 20;

pub(crate) fn report_markdown(input: &ReportInput) -> String {
    let s = input.summary;
    let mut md = format!("# colt report: {} ({} on {})\n\n", s.workload, s.strategy, s.target);
    let share = s.largest_model_share.map_or_else(|| "— (no LLM)".to_string(), |f| format!("{:.1}%", f * 100.0));
    let rows = [
        ("trials", s.trials.to_string()),
        ("naive", format!("{} ms", ms(s.naive_ms))),
        ("best", s.best_ms.map_or_else(|| "none".to_string(), |b| format!("{} ms", ms(b)))),
        ("speedup", s.speedup.map_or_else(|| "—".to_string(), speedup)),
        ("verified", if s.verified { "yes" } else { "no" }.to_string()),
        ("wall time", format!("{:.1} s", s.wall_s)),
        ("course alterations", s.course_alterations.to_string()),
        ("largest-model share", share),
        (
            "started from",
            match &s.started_from {
                Some(k) => format!(
                    "{} earlier records of this workload on this target (best {} ms, job {})",
                    k.records,
                    ms(k.best_ms),
                    k.best_job
                ),
                None => "nothing known: a fresh start".to_string(),
            },
        ),
        ("roofline bound", crate::describe_bound(s.bound.as_ref())),
        (
            "share of the bound",
            format!("{}{}", crate::share_cell(s.share_of_bound), crate::above_the_bound(s.share_of_bound)),
        ),
    ];
    md.push_str("| | |\n|---|---|\n");
    for (name, value) in rows {
        let _ = writeln!(md, "| {name} | {} |", cell(&value));
    }
    md.push_str("\n## Best latency versus trials\n\n![best latency versus trials](curve.svg)\n\n## LLM calls\n\n");
    if input.models.is_empty() {
        let _ = writeln!(md, "no LLM (strategy {})", s.strategy);
    } else {
        md.push_str("| model | parameters | calls | errors | hit rate | tokens | seconds |\n");
        md.push_str("|---|--:|--:|--:|--:|--:|--:|\n");
        for m in input.models {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {:.1}% | {} | {:.1} |",
                cell(&m.name),
                count(m.parameters),
                m.calls,
                m.errors,
                m.hit_rate * 100.0,
                m.tokens,
                m.seconds
            );
        }
    }
    if !s.sources.is_empty() {
        let _ = write!(
            md,
            "\n## Who found what\n\n{} expansions by random edits; each model's expansions are its calls above.\n\n\
             | source | trials | improvements of the best | found the best |\n|---|--:|--:|---|\n",
            s.random_expansions
        );
        for source in &s.sources {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                cell(&source.source),
                source.trials,
                source.improvements,
                if source.found_best { "yes" } else { "" }
            );
        }
    }
    if !s.proposal_quality.is_empty() {
        md.push_str(
            "\n## Proposal quality\n\nEach model call beside a random legal edit set of as many edits at the \
             same node, both scored by the same cost model (and both measured, outside the trial budget, \
             with `--measure-probes`). An unusable answer counts as a loss, a tie as half.\n\n",
        );
        let rows: Vec<(String, crate::ProposalQuality)> =
            s.proposal_quality.iter().map(|q| (s.strategy.clone(), q.clone())).collect();
        md.push_str(&crate::proposal_quality_table(&rows));
    }
    md.push_str("\n## Best kernel\n\n");
    if input.best_lineage.is_none() && input.best_decisions.is_none() && input.best_source.is_none() {
        md.push_str("no verified kernel\n");
    }
    if let Some(lineage) = input.best_lineage {
        let _ = write!(md, "Lineage:\n\n{}\n", fenced(lineage));
    }
    if let Some(decisions) = input.best_decisions {
        let _ = write!(md, "Decisions ([decisions.txt](decisions.txt)):\n\n{}\n", fenced(decisions));
    }
    if input.best_source.is_some() {
        let file = kernel_file(input);
        let _ = writeln!(md, "Source: [{file}]({file})");
    }
    md.push_str("\n## Trials\n\n");
    let mut shown: Vec<&TrialPoint> = Vec::new();
    let mut previous_best = None;
    for (i, p) in input.curve.iter().enumerate() {
        let improved = p.best_ms.is_some() && p.best_ms != previous_best;
        if input.curve.len() <= FULL_TRIAL_TABLE || improved || i + 1 == input.curve.len() {
            shown.push(p);
        }
        previous_best = p.best_ms;
    }
    if shown.len() < input.curve.len() {
        let _ = writeln!(
            md,
            "{} of {} trials: those that improved the best, and the last.\n",
            shown.len(),
            input.curve.len()
        );
    }
    md.push_str("| trial | latency | best so far |\n|--:|--:|--:|\n");
    for p in shown {
        let latency = p.latency_ms.map_or_else(|| "failed".to_string(), |v| format!("{} ms", ms(v)));
        let best = p.best_ms.map_or_else(|| "—".to_string(), |v| format!("{} ms", ms(v)));
        let _ = writeln!(md, "| {} | {latency} | {best} |", p.trial);
    }
    md
}

fn ms(v: f64) -> String {
    format!("{v:.3}")
}

fn speedup(v: f64) -> String {
    format!("{v:.2}x")
}

/// Parameter counts the way model cards write them: 135M, 1.5B.
fn count(n: u64) -> String {
    let n = n as f64;
    match n {
        n if n >= 1e9 => format!("{:.1}B", n / 1e9),
        n if n >= 1e6 => format!("{:.0}M", n / 1e6),
        n if n >= 1e3 => format!("{:.0}K", n / 1e3),
        n => format!("{n}"),
    }
}

/// A table cell: a `|` inside would end the cell early.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// A code block whose fence is longer than any run of backticks in `text`, so the text cannot close it.
fn fenced(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{}\n{fence}\n", text.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::curve::tests::curve;
    use crate::job::summary::tests::summary;

    #[test]
    fn a_long_trial_table_keeps_the_improvements_and_the_last() {
        let s = summary();
        let latencies: Vec<Option<f64>> = (0..30).map(|i| Some(if i == 4 { 10.0 } else { 20.0 + i as f64 })).collect();
        let points = curve(&latencies);
        let input = ReportInput {
            summary: &s,
            curve: &points,
            models: &[],
            best_source: None,
            best_decisions: None,
            best_lineage: None,
        };
        let md = report_markdown(&input);
        assert!(md.contains("3 of 30 trials: those that improved the best, and the last."), "{md}");
        assert!(md.contains("| 1 | 20.000 ms | 20.000 ms |\n| 5 | 10.000 ms | 10.000 ms |\n| 30 |"), "{md}");
    }

    #[test]
    fn fences_outlast_the_texts_backticks_and_cells_escape_bars() {
        assert_eq!(fenced("a ```` b"), "`````text\na ```` b\n`````\n");
        assert_eq!(fenced("plain\n"), "```text\nplain\n```\n");
        assert_eq!(cell("a|b"), "a\\|b");
        assert_eq!(
            (count(135_000_000), count(1_500_000_000), count(999)),
            ("135M".into(), "1.5B".into(), "999".into())
        );
    }
}
