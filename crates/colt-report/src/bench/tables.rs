//! `tables.md`: a table per workload, a row per strategy — best latency and
//! speedup at each budget, GFLOP/s, trials to the target speedup, the
//! models' calls — beside an earlier bench's best latencies if given, and
//! beside the peers measured on the same machine if the report has them (a
//! row per peer; for each strategy its latency over the peer's and the
//! trials it needed to reach the peer's latency, the median of repeats).
//! Each workload's roofline bound on the machine is given under its heading
//! with the best kernel's share of it, and when it is known each row has
//! its share at the largest budget.

use crate::bench::{first_reaching, median, BenchReport, WorkloadReport};
use crate::roofline::{describe_bound, share_cell, share_of};
use std::fmt::Write as _;

/// The tables of `report`; with `earlier`, a column of its best latency at
/// the largest budget for each strategy it also ran.
pub fn tables_markdown(report: &BenchReport, earlier: Option<&BenchReport>) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# colt bench\n\nOn {}, {} shapes. {} repeat(s); budgets {:?}; target speedup {}x; {:.0} s in all.\n",
        report.target,
        if report.full { "full" } else { "bench" },
        report.repeats,
        report.budgets,
        report.target_speedup,
        report.wall_s
    );
    let gflops = |flops: u64, ms: f64| flops as f64 / (ms * 1e-3) / 1e9;
    for w in &report.workloads {
        if w.flops > 0 {
            let _ = writeln!(
                md,
                "## {} (naive {:.3} ms, {:.1} GFLOP/s)\n",
                w.workload,
                w.naive_ms,
                gflops(w.flops, w.naive_ms)
            );
        } else {
            let _ = writeln!(md, "## {} (naive {:.3} ms)\n", w.workload, w.naive_ms);
        }
        let _ = writeln!(md, "{}\n", bound_line(w, *report.budgets.last().unwrap_or(&0)));
        let mut head = String::from("| strategy |");
        let mut rule = String::from("|---|");
        for b in &report.budgets {
            let _ = write!(head, " best ms @{b} (x) |");
            rule.push_str("--:|");
        }
        let old = earlier.and_then(|e| e.workloads.iter().find(|o| o.workload == w.workload));
        let last = *report.budgets.last().unwrap_or(&0);
        if old.is_some() {
            let _ = write!(head, " before @{last} |");
            rule.push_str("--:|");
        }
        let peers = report.peers_of(&w.workload);
        let reference = peers.first().and_then(|p| Some((p.label(), p.best_ms?)));
        head.push_str(&format!(" GFLOP/s @{last} |"));
        rule.push_str("--:|");
        if w.bound.is_some() {
            let _ = write!(head, " % of bound @{last} |");
            rule.push_str("--:|");
        }
        if let Some((label, _)) = &reference {
            let _ = write!(head, " vs {label} @{last} | trials to {label} |");
            rule.push_str("--:|--:|");
        }
        head.push_str(&format!(
            " trials to {}x | LLM calls | largest share | tokens | model s | wall s |",
            report.target_speedup
        ));
        rule.push_str("--:|---|--:|--:|--:|--:|");
        let _ = writeln!(md, "{head}\n{rule}");
        for s in &w.strategies {
            let mut row = format!("| {} |", s.strategy);
            for b in &report.budgets {
                match (s.best_ms.get(b).copied().flatten(), s.speedup.get(b).copied().flatten()) {
                    (Some(ms), Some(x)) => {
                        let _ = write!(row, " {ms:.3} ({x:.1}x) |");
                    }
                    _ => row.push_str(" — |"),
                }
            }
            if let Some(old) = old {
                let before = old
                    .strategies
                    .iter()
                    .find(|o| o.strategy == s.strategy)
                    .and_then(|o| o.best_ms.get(&last).copied().flatten());
                let _ = write!(row, " {} |", before.map_or("—".into(), |b| format!("{b:.3}")));
            }
            let best_at_last = s.best_ms.get(&last).copied().flatten();
            let best = best_at_last.filter(|_| w.flops > 0);
            let _ = write!(row, " {} |", best.map_or("—".into(), |ms| format!("{:.1}", gflops(w.flops, ms))));
            if w.bound.is_some() {
                let _ = write!(row, " {} |", share_cell(share_of(w.bound.as_ref(), best_at_last)));
            }
            if let Some((_, peer_ms)) = reference {
                let ratio = best_at_last.map_or("—".into(), |ms| format!("{:.2}", ms / peer_ms));
                let reached: Vec<Option<usize>> = s.runs.iter().map(|r| first_reaching(&r.curve, peer_ms)).collect();
                let trials = if !reached.is_empty() && reached.iter().all(Option::is_some) {
                    median(reached.into_iter().flatten().map(|n| n as f64).collect())
                        .map_or("—".into(), |m| format!("{}", m.round()))
                } else {
                    "—".into()
                };
                let _ = write!(row, " {ratio} | {trials} |");
            }
            let calls = if s.llm_calls.is_empty() {
                "—".to_string()
            } else {
                s.llm_calls.iter().map(|(m, n)| format!("{m}: {n}")).collect::<Vec<_>>().join(", ")
            };
            let _ = writeln!(
                row,
                " {} | {calls} | {} | {} | {} | {:.0} |",
                s.trials_to_target.map_or("—".into(), |n| n.to_string()),
                s.largest_model_share.map_or("—".into(), |x| format!("{:.0}%", x * 100.0)),
                s.llm_tokens,
                if s.llm_calls.is_empty() { "—".to_string() } else { format!("{:.1}", s.llm_seconds) },
                s.wall_s
            );
            md.push_str(&row);
        }
        for p in &peers {
            let Some(ms) = p.best_ms else { continue };
            let mut row = format!("| {} (peer) |", p.label());
            for b in &report.budgets {
                if *b == p.trials {
                    let _ = write!(row, " {ms:.3} ({:.1}x) |", w.naive_ms / ms);
                } else {
                    row.push_str(" — |");
                }
            }
            if old.is_some() {
                row.push_str(" — |");
            }
            let _ = write!(row, " {} |", if w.flops > 0 { format!("{:.1}", gflops(w.flops, ms)) } else { "—".into() });
            if w.bound.is_some() {
                let _ = write!(row, " {} |", share_cell(share_of(w.bound.as_ref(), Some(ms))));
            }
            if let Some((_, peer_ms)) = reference {
                let _ = write!(row, " {:.2} | — |", ms / peer_ms);
            }
            let wall = p.tuning_wall_s.map_or("—".into(), |s| format!("{s:.0}"));
            let _ = writeln!(row, " — | — | — | — | — | {wall} |");
            md.push_str(&row);
        }
        if let Some(numpy) = peers.iter().find_map(|p| p.numpy_ms) {
            let _ = writeln!(md, "\nnumpy (OpenBLAS) on the same math, timed in the peer's run: {numpy:.3} ms.");
        }
        let _ = writeln!(md, "\n![best speedup versus trials]({}.svg)\n", plot_file_stem(&w.workload));
    }
    md.push_str(&proposal_quality_section(report));
    md
}

/// `Roofline bound: ... ms (...); the best @N, colt's 8.000 ms, runs at 12.3%
/// of it.`, or that the bound is not measured.
fn bound_line(w: &WorkloadReport, last: usize) -> String {
    let best = w
        .strategies
        .iter()
        .filter_map(|s| Some((s.strategy.as_str(), s.best_ms.get(&last).copied().flatten()?)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    match (&w.bound, best) {
        (Some(bound), Some((strategy, ms))) => format!(
            "Roofline bound: {}; the best @{last}, {strategy}'s {ms:.3} ms, runs at {} of it.",
            describe_bound(Some(bound)),
            share_cell(share_of(Some(bound), Some(ms)))
        ),
        (bound, _) => format!("Roofline bound: {}.", describe_bound(bound.as_ref())),
    }
}

/// Every model strategy's calls against random edit sets at the same
/// nodes: over all workloads, then per workload. Empty when no run probed.
fn proposal_quality_section(report: &BenchReport) -> String {
    let mut strategies: Vec<&str> = Vec::new();
    for s in report.workloads.iter().flat_map(|w| &w.strategies) {
        if s.runs.iter().any(|r| !r.probes.is_empty()) && !strategies.contains(&s.strategy.as_str()) {
            strategies.push(&s.strategy);
        }
    }
    if strategies.is_empty() {
        return String::new();
    }
    let mut rows = Vec::new();
    for strategy in &strategies {
        let all = report
            .workloads
            .iter()
            .flat_map(|w| &w.strategies)
            .filter(|s| s.strategy == *strategy)
            .flat_map(|s| s.runs.iter().flat_map(|r| &r.probes));
        rows.extend(crate::proposal_quality(all).into_iter().map(|q| (format!("{strategy}, all workloads"), q)));
    }
    for w in &report.workloads {
        for s in w.strategies.iter().filter(|s| s.runs.iter().any(|r| !r.probes.is_empty())) {
            let probes = s.runs.iter().flat_map(|r| &r.probes);
            rows.extend(
                crate::proposal_quality(probes).into_iter().map(|q| (format!("{} on {}", s.strategy, w.workload), q)),
            );
        }
    }
    format!(
        "## Proposal quality\n\nEach model call beside a random legal edit set of as many edits at the same node, \
         both scored by the same cost model, and both measured outside the trial budget where the bench ran with \
         `--measure-probes`. An unusable answer counts as a loss, a tie as half; the interval is Wilson's at 95%.\n\n{}\n",
        crate::proposal_quality_table(&rows)
    )
}

/// The name of a workload's plot files (`<stem>.svg`, `<stem>.png`): a
/// workload named by a path or with spaces gets one file, not a folder.
pub(crate) fn plot_file_stem(workload: &str) -> String {
    workload.replace(['/', ' '], "_")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::bench::{RunRecord, StrategyReport, WorkloadReport};
    use std::collections::BTreeMap;

    /// A bench of one workload (gemm-512, naive 100 ms, 2 GFLOP) and two
    /// strategies, one with model calls, one without a kernel at budget 2.
    pub(crate) fn report() -> BenchReport {
        let strategy = |name: &str, best: [Option<f64>; 2], calls: &[(&str, u64)]| StrategyReport {
            strategy: name.into(),
            best_ms: BTreeMap::from([(2, best[0]), (4, best[1])]),
            speedup: BTreeMap::from([(2, best[0].map(|b| 100.0 / b)), (4, best[1].map(|b| 100.0 / b))]),
            trials_to_target: best[1].map(|_| 3),
            llm_calls: calls.iter().map(|&(m, n)| (m.to_string(), n)).collect(),
            llm_tokens: 1200,
            llm_seconds: 6.5,
            largest_model_share: (!calls.is_empty()).then_some(0.25),
            share_of_bound: None,
            wall_s: 10.4,
            runs: vec![RunRecord {
                seed: 1,
                curve: vec![best[0], None, Some(9.0), best[1]],
                wall_s: 10.4,
                probes: Vec::new(),
            }],
        };
        BenchReport {
            target: "cpu".into(),
            full: false,
            budgets: vec![2, 4],
            target_speedup: 10.0,
            repeats: 1,
            workloads: vec![WorkloadReport {
                workload: "gemm-512".into(),
                flops: 2_000_000_000,
                naive_ms: 100.0,
                strategies: vec![
                    strategy("colt", [Some(20.0), Some(8.0)], &[("qwen-1.5b", 1), ("smollm-135m", 3)]),
                    strategy("random", [None, Some(10.0)], &[]),
                ],
                bound: None,
            }],
            peers: Vec::new(),
            wall_s: 21.0,
        }
    }

    #[test]
    fn a_row_per_strategy_with_the_reports_figures() {
        let md = tables_markdown(&report(), None);
        assert!(
            md.starts_with(
                "# colt bench\n\nOn cpu, bench shapes. 1 repeat(s); budgets [2, 4]; target speedup 10x; 21 s in all.\n"
            ),
            "{md}"
        );
        assert!(md.contains("## gemm-512 (naive 100.000 ms, 20.0 GFLOP/s)"), "{md}");
        assert!(md.contains("| strategy | best ms @2 (x) | best ms @4 (x) | GFLOP/s @4 | trials to 10x | LLM calls | largest share | tokens | model s | wall s |\n|---|--:|--:|--:|--:|---|--:|--:|--:|--:|\n"), "{md}");
        assert!(md.contains("| colt | 20.000 (5.0x) | 8.000 (12.5x) | 250.0 | 3 | qwen-1.5b: 1, smollm-135m: 3 | 25% | 1200 | 6.5 | 10 |\n"), "{md}");
        assert!(md.contains("| random | — | 10.000 (10.0x) | 200.0 | 3 | — | — | 1200 | — | 10 |\n"), "{md}");
        assert!(md.contains("![best speedup versus trials](gemm-512.svg)"));
        assert!(md.contains("\nRoofline bound: — (this machine's limits are not measured).\n"), "{md}");
    }

    #[test]
    fn a_measured_bound_gives_each_row_its_share() {
        let mut report = report();
        let program = colt_ir::builtin("gemm-512").unwrap().program(colt_ir::Size::Bench);
        let limits = crate::roofline::tests::limits();
        report
            .fill_bounds(|name| crate::bound_of(Some(&limits), &colt_ir::builtin(name)?.program(colt_ir::Size::Bench)));
        assert_eq!(report.workloads[0].bound, crate::bound_of(Some(&limits), &program));
        // 2.684 ms of bound: colt's 8 ms is 33.6% of it, random's 10 ms 26.8%.
        let shares: Vec<Option<f64>> = report.workloads[0].strategies.iter().map(|s| s.share_of_bound).collect();
        assert!(
            (shares[0].unwrap() - 2.68435456 / 8.0).abs() < 1e-12 && (shares[1].unwrap() - 0.268435456).abs() < 1e-12
        );
        let md = tables_markdown(&report, None);
        assert!(md.contains("\nRoofline bound: 2.684 ms (compute 2.684 ms; memory 0.157 ms, the bytes fitting in memory); the best @4, colt's 8.000 ms, runs at 33.6% of it.\n"), "{md}");
        assert!(md.contains("| GFLOP/s @4 | % of bound @4 | trials to 10x |"), "{md}");
        assert!(md.contains("| colt | 20.000 (5.0x) | 8.000 (12.5x) | 250.0 | 33.6% | 3 |"), "{md}");
        assert!(md.contains("| random | — | 10.000 (10.0x) | 200.0 | 26.8% | 3 |"), "{md}");
        // A strategy without a kernel at the largest budget has no share.
        report.workloads[0].strategies[1].best_ms.insert(4, None);
        assert!(tables_markdown(&report, None).contains("| random | — | — | — | — | 3 |"));
    }

    #[test]
    fn a_peer_gets_a_row_and_each_strategy_its_ratio_and_trials_to_the_peer() {
        let mut report = report();
        let peer = |trials, best_ms| crate::bench::PeerResult {
            peer: "MetaSchedule".into(),
            workload: "gemm-512".into(),
            trials,
            best_ms,
            tuning_wall_s: Some(80.4),
            numpy_ms: Some(12.5),
            file: "gemm-512__t4.json".into(),
        };
        report.peers = vec![peer(2, Some(30.0)), peer(4, Some(9.5)), peer(8, None)];
        let md = tables_markdown(&report, None);
        assert!(
            md.contains("| GFLOP/s @4 | vs MetaSchedule@4 @4 | trials to MetaSchedule@4 | trials to 10x |"),
            "{md}"
        );
        // colt's first trial at or under 9.5 ms is its third (9.0 ms).
        assert!(md.contains("| colt | 20.000 (5.0x) | 8.000 (12.5x) | 250.0 | 0.84 | 3 | 3 |"), "{md}");
        assert!(md.contains("| random | — | 10.000 (10.0x) | 200.0 | 1.05 | 3 | 3 |"), "{md}");
        assert!(
            md.contains("| MetaSchedule@4 (peer) | — | 9.500 (10.5x) | 210.5 | 1.00 | — | — | — | — | — | — | 80 |\n"),
            "{md}"
        );
        assert!(md.contains("| MetaSchedule@2 (peer) | 30.000 (3.3x) | — | 66.7 | 3.16 | — |"), "{md}");
        assert!(!md.contains("MetaSchedule@8"), "a peer without a kernel has no row: {md}");
        assert!(md.contains("numpy (OpenBLAS) on the same math, timed in the peer's run: 12.500 ms."), "{md}");
    }

    #[test]
    fn an_earlier_bench_adds_its_best_at_the_largest_budget() {
        let mut earlier = report();
        earlier.workloads[0].strategies.truncate(1);
        earlier.workloads[0].strategies[0].best_ms.insert(4, Some(9.5));
        let md = tables_markdown(&report(), Some(&earlier));
        assert!(md.contains("| best ms @4 (x) | before @4 | GFLOP/s @4 |"), "{md}");
        assert!(md.contains("| colt | 20.000 (5.0x) | 8.000 (12.5x) | 9.500 | 250.0 |"), "{md}");
        assert!(md.contains("| random | — | 10.000 (10.0x) | — | 200.0 |"), "{md}");
    }
}
