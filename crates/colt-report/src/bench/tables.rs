//! `tables.md`: a table per workload, a row per strategy — best latency and
//! speedup at each budget, GFLOP/s, trials to the target speedup, the
//! models' calls — beside an earlier bench's best latencies if given, and
//! beside the peers measured on the same machine if the report has them
//! (MetaSchedule, torch eager, torch.compile, numpy: a row per peer; for
//! each strategy and each peer with a latency, the strategy's latency over
//! the peer's and the trials it needed to reach it, the median of repeats;
//! below the table how the peers were timed, a warning where a peer ran
//! on another thread count than colt's measured cores, and why a peer
//! failed). Each workload's roofline bound on the machine is given under
//! its heading with the best kernel's share of it, and when it is known
//! each row, the peers' too, has its share at the largest budget.

use crate::bench::{first_reaching, median, BenchReport, PeerResult, WorkloadReport};
use crate::roofline::{above_the_bound, describe_bound, share_cell, share_of};
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
        // Every strategy is compared to every peer with a latency, in one
        // column pair each.
        let timed: Vec<(String, f64)> = peers.iter().filter_map(|p| Some((p.label(), p.best_ms?))).collect();
        head.push_str(&format!(" GFLOP/s @{last} |"));
        rule.push_str("--:|");
        if w.bound.is_some() {
            let _ = write!(head, " % of bound @{last} |");
            rule.push_str("--:|");
        }
        for (label, _) in &timed {
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
            for &(_, peer_ms) in &timed {
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
            md.push_str(&peer_row(report, w, p, &timed, old.is_some()));
        }
        md.push_str(&peer_notes(report, &peers));
        let _ = writeln!(md, "\n![best speedup versus trials]({}.svg)\n", plot_file_stem(&w.workload));
    }
    md.push_str(&proposal_quality_section(report));
    md
}

/// A peer's row: its latency (at its budget, a tuner's; at every budget, a
/// library's) and its ratio to each peer; `failed` where it has an error
/// instead, and nothing where it has neither (MetaSchedule that found no
/// valid schedule).
fn peer_row(report: &BenchReport, w: &WorkloadReport, p: &PeerResult, timed: &[(String, f64)], old: bool) -> String {
    let gflops = |ms: f64| w.flops as f64 / (ms * 1e-3) / 1e9;
    let mut row = format!("| {} (peer) |", p.label());
    let Some(ms) = p.best_ms else {
        if p.error.is_none() {
            return String::new();
        }
        row.push_str(&" failed |".repeat(report.budgets.len()));
        let columns = usize::from(old) + 1 + usize::from(w.bound.is_some()) + 2 * timed.len() + 6;
        row.push_str(&" — |".repeat(columns));
        row.push('\n');
        return row;
    };
    for b in &report.budgets {
        if !p.is_tuner() || *b == p.trials {
            let _ = write!(row, " {ms:.3} ({:.1}x) |", w.naive_ms / ms);
        } else {
            row.push_str(" — |");
        }
    }
    if old {
        row.push_str(" — |");
    }
    let _ = write!(row, " {} |", if w.flops > 0 { format!("{:.1}", gflops(ms)) } else { "—".into() });
    if w.bound.is_some() {
        let _ = write!(row, " {} |", share_cell(share_of(w.bound.as_ref(), Some(ms))));
    }
    for (_, peer_ms) in timed {
        let _ = write!(row, " {:.2} | — |", ms / peer_ms);
    }
    let wall = p.tuning_wall_s.map_or("—".into(), |s| format!("{s:.0}"));
    let _ = writeln!(row, " — | — | — | — | — | {wall} |");
    row
}

/// Below a workload's table: how the peers were timed (grouped, in the
/// rows' order), a warning for a peer timed on another thread count than
/// colt's measured cores, and why a peer failed.
fn peer_notes(report: &BenchReport, peers: &[&PeerResult]) -> String {
    let shown: Vec<&PeerResult> = peers.iter().copied().filter(|p| p.best_ms.is_some() || p.error.is_some()).collect();
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for p in &shown {
        let Some(provenance) = p.provenance() else { continue };
        match groups.iter_mut().find(|(g, _)| *g == provenance) {
            Some((_, labels)) => labels.push(p.label()),
            None => groups.push((provenance, vec![p.label()])),
        }
    }
    let mut notes = String::new();
    if !groups.is_empty() {
        let runs: Vec<String> =
            groups.iter().map(|(provenance, labels)| format!("{} {provenance}", labels.join(" and "))).collect();
        let colt = report.cores.map_or(String::new(), |c| format!("; colt measured on {c} core{}", plural(c)));
        let _ = writeln!(notes, "\nPeers: {}{colt}.", runs.join("; "));
    }
    if let Some(cores) = report.cores {
        let mut threads: Vec<(usize, Vec<String>)> = Vec::new();
        for p in shown.iter().filter(|p| p.threads.is_some_and(|t| t != cores)) {
            let t = p.threads.unwrap_or_default();
            match threads.iter_mut().find(|(n, _)| *n == t) {
                Some((_, labels)) => labels.push(p.label()),
                None => threads.push((t, vec![p.label()])),
            }
        }
        for (t, labels) in threads {
            let _ = writeln!(
                notes,
                "\n**Warning:** {} ran on {t} thread{}, colt's kernels on {cores} core{}: not like for like.",
                labels.join(" and "),
                plural(t),
                plural(cores)
            );
        }
    }
    for p in &shown {
        if let (None, Some(error)) = (p.best_ms, &p.error) {
            let reason = error.split_whitespace().collect::<Vec<_>>().join(" ");
            let _ = writeln!(notes, "\n{} failed: {reason}", p.label());
        }
    }
    notes
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
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
            "Roofline bound: {}; the best @{last}, {strategy}'s {ms:.3} ms, runs at {} of it{}.",
            describe_bound(Some(bound)),
            share_cell(share_of(Some(bound), Some(ms))),
            above_the_bound(share_of(Some(bound), Some(ms)))
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
    use crate::bench::peers::tests::peer;
    use crate::bench::{RunRecord, StrategyReport, WorkloadReport, METASCHEDULE, NUMPY, TORCH_COMPILE, TORCH_EAGER};
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
            cores: None,
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
        report.peers =
            vec![peer(METASCHEDULE, 2, Some(30.0)), peer(METASCHEDULE, 4, Some(9.5)), peer(METASCHEDULE, 8, None)];
        let md = tables_markdown(&report, None);
        assert!(
            md.contains(
                "| GFLOP/s @4 | vs MetaSchedule@4 @4 | trials to MetaSchedule@4 | vs MetaSchedule@2 @4 | trials to \
                 MetaSchedule@2 | trials to 10x |"
            ),
            "the largest budget first: {md}"
        );
        // colt's first trial at or under 9.5 ms is its third (9.0 ms).
        assert!(md.contains("| colt | 20.000 (5.0x) | 8.000 (12.5x) | 250.0 | 0.84 | 3 | 0.27 | 1 | 3 |"), "{md}");
        assert!(md.contains("| random | — | 10.000 (10.0x) | 200.0 | 1.05 | 3 | 0.33 | 3 | 3 |"), "{md}");
        assert!(
            md.contains(
                "| MetaSchedule@4 (peer) | — | 9.500 (10.5x) | 210.5 | 1.00 | — | 0.32 | — | — | — | — | — | — | 80 |\n"
            ),
            "{md}"
        );
        assert!(md.contains("| MetaSchedule@2 (peer) | 30.000 (3.3x) | — | 66.7 | 3.16 | — | 1.00 | — |"), "{md}");
        assert!(!md.contains("MetaSchedule@8"), "a peer without a kernel has no row: {md}");
        assert!(!md.contains("Peers:"), "MetaSchedule's own run needs no note: {md}");
    }

    #[test]
    fn torch_and_numpy_get_rows_and_columns_beside_metaschedule_and_a_failure_its_reason() {
        let mut report = report();
        report.cores = Some(4);
        let failed =
            PeerResult { error: Some("InductorError:\n  no C++ compiler".into()), ..peer(TORCH_COMPILE, 0, None) };
        report.peers =
            vec![peer(NUMPY, 4, Some(12.5)), peer(TORCH_EAGER, 0, Some(7.0)), failed, peer(METASCHEDULE, 4, Some(9.5))];
        let md = tables_markdown(&report, None);
        assert!(
            md.contains(
                "| GFLOP/s @4 | vs MetaSchedule@4 @4 | trials to MetaSchedule@4 | vs torch eager @4 | trials to torch \
                 eager | vs numpy @4 | trials to numpy | trials to 10x |"
            ),
            "a column pair per peer with a latency, the tuner first: {md}"
        );
        assert!(
            md.contains("| colt | 20.000 (5.0x) | 8.000 (12.5x) | 250.0 | 0.84 | 3 | 1.14 | — | 0.64 | 3 | 3 |"),
            "{md}"
        );
        // A library needs no trials: its latency stands at every budget.
        assert!(
            md.contains("| torch eager (peer) | 7.000 (14.3x) | 7.000 (14.3x) | 285.7 | 0.74 | — | 1.00 | — | 0.56 | — | — | — | — | — | — | — |\n"),
            "{md}"
        );
        assert!(
            md.contains("| numpy (peer) | 12.500 (8.0x) | 12.500 (8.0x) | 160.0 | 1.32 | — | 1.79 | — | 1.00 | — |"),
            "{md}"
        );
        assert!(
            md.contains(
                "| torch.compile (peer) | failed | failed | — | — | — | — | — | — | — | — | — | — | — | — | — |\n"
            ),
            "as many cells as the header: {md}"
        );
        assert!(!md.contains("vs torch.compile"), "a failed peer has nothing to compare to: {md}");
        assert!(md.contains("\nPeers: torch.compile and torch eager timed by torch 2.15.0+cpu on 2 threads; numpy (OpenBLAS) timed in MetaSchedule@4's run; colt measured on 4 cores.\n"), "{md}");
        assert!(md.contains("\n**Warning:** torch.compile and torch eager ran on 2 threads, colt's kernels on 4 cores: not like for like.\n"), "{md}");
        assert!(md.contains("\ntorch.compile failed: InductorError: no C++ compiler\n"), "on one line: {md}");
        let rows = md.lines().filter(|l| l.starts_with('|')).map(|l| l.matches('|').count()).collect::<Vec<_>>();
        assert!(rows.iter().all(|&n| n == rows[0]), "every row as wide as the header: {rows:?}\n{md}");

        report.cores = Some(2);
        let md = tables_markdown(&report, None);
        assert!(md.contains("; colt measured on 2 cores.\n") && !md.contains("Warning"), "{md}");
        report.cores = None;
        let md = tables_markdown(&report, None);
        assert!(
            md.contains("on 2 threads; numpy") && !md.contains("Warning"),
            "an older bench.json has no cores: {md}"
        );
    }

    #[test]
    fn a_folder_of_both_scripts_results_shows_every_peer() {
        use crate::bench::peers::tests::{torch_failed, GEMM, TORCH_GEMM};
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("gemm-512__t4.json"), GEMM.replace("\"trials\": 64", "\"trials\": 4")).unwrap();
        std::fs::write(dir.path().join("gemm-512__torch.json"), TORCH_GEMM).unwrap();
        std::fs::write(dir.path().join("flux-conv__torch.json"), torch_failed("flux-conv")).unwrap();
        let mut report = report();
        report.peers = crate::bench::read_peer_results(dir.path()).unwrap();
        report.cores = Some(2);
        let md = tables_markdown(&report, None);
        for label in ["MetaSchedule@4", "torch.compile", "torch eager", "numpy"] {
            assert!(md.contains(&format!("| vs {label} @4 | trials to {label} |")), "{label}: {md}");
            assert!(md.contains(&format!("\n| {label} (peer) |")), "{label}: {md}");
        }
        assert!(md.contains("| torch.compile (peer) | 1.011 (98.9x) | 1.011 (98.9x) | 1978.7 |"), "{md}");
        assert!(md.contains("| MetaSchedule@4 (peer) | — | 1.278 (78.2x) |"), "{md}");
        assert!(md.contains("Peers: torch.compile and torch eager timed by torch 2.15.0+cu132 on 2 threads; numpy (OpenBLAS) timed in MetaSchedule@4's run; colt measured on 2 cores."), "{md}");
        assert!(!md.contains("failed"), "flux-conv's failure is not gemm-512's: {md}");
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
