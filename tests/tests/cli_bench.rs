//! `colt bench`: a tiny bench end to end, its outputs' shape and figures.

use colt_e2e::{colt, stderr, stdout};

/// What `torch_peer.py --threads 2 --compile --results-dir DIR` wrote for
/// gemm-512 on 2026-12-07 (a machine shared with two builds: not a
/// benchmark figure), abridged, with `inductor` as the script records a
/// torch.compile that raised.
const TORCH_GEMM: &str = r#"{"workload": "gemm-512", "torch": "2.15.0+cu132", "threads": 2,
 "eager": {"median_ms": 7.996101998287486, "gflops": 33.57078937430894},
 "inductor": {"error": "InductorError: CppCompileError: C++ compile error"}}"#;

/// What metaschedule.py writes, abridged.
const METASCHEDULE_GEMM: &str = r#"{"workload": "gemm-512", "trials": 8, "numpy": {"median_ms": 2.017},
 "tune_wall_s": 80.2, "tuned": {"median_ms": 1.301}, "tuned_recheck": {"median_ms": 1.278}}"#;

#[test]
fn a_tiny_bench_writes_agreeing_tables_json_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bench");
    let peers = dir.path().join("peers");
    std::fs::create_dir(&peers).unwrap();
    std::fs::write(peers.join("gemm-512__torch.json"), TORCH_GEMM).unwrap();
    std::fs::write(peers.join("gemm-512__t8.json"), METASCHEDULE_GEMM).unwrap();
    let o = colt(&[
        "bench",
        "--workloads",
        "gemm-512",
        "--strategies",
        "random,mcts",
        "--trials",
        "8,4",
        "--repeats",
        "2",
        "--out",
        out.to_str().unwrap(),
        "--peer-results",
        peers.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let printed: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bench.json")).unwrap()).unwrap();
    assert_eq!(printed, written, "--json prints bench.json");
    assert_eq!(written["budgets"], serde_json::json!([4, 8]));
    let workloads = written["workloads"].as_array().unwrap();
    assert_eq!(workloads.len(), 1);
    let w = &workloads[0];
    assert_eq!(w["workload"], "gemm-512");
    let naive = w["naive_ms"].as_f64().unwrap();
    assert!(naive > 0.0);
    let tables = std::fs::read_to_string(out.join("tables.md")).unwrap();
    let strategies = w["strategies"].as_array().unwrap();
    assert_eq!(strategies.iter().map(|s| s["strategy"].as_str().unwrap()).collect::<Vec<_>>(), ["random", "mcts"]);
    for s in strategies {
        let runs = s["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 2, "two repeats");
        assert_eq!(runs[0]["seed"], 1);
        assert_eq!(runs[1]["seed"], 2);
        for r in runs {
            assert_eq!(r["curve"].as_array().unwrap().len(), 8, "one job per repeat with the largest budget");
        }
        let (at4, at8) = (s["best_ms"]["4"].as_f64().unwrap(), s["best_ms"]["8"].as_f64().unwrap());
        assert!(at8 <= at4, "more trials cannot be slower: {at8} > {at4}");
        let x8 = s["speedup"]["8"].as_f64().unwrap();
        assert!(x8 > 1.0, "no speedup over naive: {x8}");
        assert!((x8 - naive / at8).abs() < 1e-9 * x8);
        // The table shows the JSON's figures.
        let row = tables.lines().find(|l| l.starts_with(&format!("| {} |", s["strategy"].as_str().unwrap()))).unwrap();
        assert!(row.contains(&format!("{at8:.3} ({x8:.1}x)")), "{row}");
        assert!(s["llm_calls"].as_object().unwrap().is_empty());
    }
    assert!(tables.contains("## gemm-512"));
    // The peers beside the strategies: a column pair for each with a
    // latency, torch.compile's failure and the thread counts in the notes.
    let labels: Vec<&str> = written["peers"].as_array().unwrap().iter().map(|p| p["peer"].as_str().unwrap()).collect();
    assert_eq!(labels, ["MetaSchedule", "numpy", "torch eager", "torch.compile"]);
    for label in ["MetaSchedule@8", "torch eager", "numpy"] {
        assert!(tables.contains(&format!("| vs {label} @8 | trials to {label} |")), "{label}: {tables}");
    }
    assert!(tables.contains("| torch.compile (peer) | failed | failed |"), "{tables}");
    assert!(tables.contains("\ntorch.compile failed: InductorError: CppCompileError: C++ compile error\n"), "{tables}");
    let cores = written["cores"].as_u64().expect("a CPU bench records its measured cores");
    assert!(cores >= 1);
    assert!(tables.contains(&format!("torch.compile and torch eager timed by torch 2.15.0+cu132 on 2 threads; numpy (OpenBLAS) timed in MetaSchedule@8's run; colt measured on {cores} core")), "{tables}");
    assert_eq!(tables.contains("**Warning:** torch.compile and torch eager ran on 2 threads"), cores != 2, "{tables}");
    // This machine's limits give the bound, and each strategy its share of
    // it at the largest budget.
    let bound_s = w["bound"]["seconds"].as_f64().expect("a CPU bench gives each workload's bound");
    for s in strategies {
        let best = s["best_ms"]["8"].as_f64().unwrap();
        assert!((s["share_of_bound"].as_f64().unwrap() - bound_s * 1e3 / best).abs() < 1e-9, "{s}");
    }
    assert!(tables.contains(&format!("\nRoofline bound: {:.3} ms (compute ", bound_s * 1e3)), "{tables}");
    assert!(tables.contains(" % of bound @8 |"), "{tables}");
    let svg = std::fs::read_to_string(out.join("gemm-512.svg")).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("trials") && svg.contains("mcts") && svg.contains("torch eager (peer)"),
        "{}",
        &svg[..200.min(svg.len())]
    );
    let png = std::fs::read(out.join("gemm-512.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 1000, "gemm-512.png is not a PNG plot");

    // The outputs again from the JSON alone, measuring nothing.
    let again = dir.path().join("again");
    let from = out.join("bench.json");
    let o = colt(&["bench", "--from", from.to_str().unwrap(), "--out", again.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(again.join("tables.md")).unwrap(), tables);
    assert!(again.join("gemm-512.svg").is_file());
    assert!(again.join("gemm-512.png").is_file());
}

#[test]
fn bench_errors_name_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b");
    let out = out.to_str().unwrap();
    let peers = dir.path().join("peers");
    std::fs::create_dir(&peers).unwrap();
    let no_eager = TORCH_GEMM.replace("\"eager\"", "\"eagre\"");
    std::fs::write(peers.join("gemm-512__torch.json"), no_eager).unwrap();
    let no_eager_error = format!(
        "peer result `{}`: not a torch_peer.py result: no `eager` timing",
        peers.join("gemm-512__torch.json").display()
    );
    for (args, expected) in [
        (vec!["--strategies", "random,genetic"], "unknown strategy `genetic`"),
        (vec!["--trials", "0"], "--trials 0: each trial budget is a whole number from 1 to 100000"),
        (vec!["--repeats", "0"], "--repeats"),
        (vec!["--workloads", "gemm-512,nope"], "nope"),
        (vec!["--compare", "/nonexistent/bench.json"], "/nonexistent/bench.json"),
        (vec!["--peer-results", "/nonexistent/peers"], "peer results `/nonexistent/peers`: cannot read the folder"),
        (vec!["--peer-results", peers.to_str().unwrap()], no_eager_error.as_str()),
    ] {
        let mut all = vec!["bench", "--out", out, "--strategies", "random"];
        all.extend(args);
        let o = colt(&all);
        assert!(!o.status.success(), "{all:?} succeeded");
        assert!(stderr(&o).contains(expected), "{all:?}: {}", stderr(&o));
    }
}

/// A workload of a synthetic run: name, naive ms, and each strategy's curve.
type SyntheticWorkload<'a> = (&'a str, f64, &'a [(&'a str, &'a [f64])]);

/// A `bench.json` of one run of these workloads and budgets: one repeat,
/// target speedup 10x.
fn bench_json(workloads: &[SyntheticWorkload<'_>], budgets: &[usize], wall_s: f64) -> String {
    let workloads: Vec<serde_json::Value> = workloads
        .iter()
        .map(|(name, naive, strategies)| {
            let strategies: Vec<serde_json::Value> = strategies
                .iter()
                .map(|(strategy, curve)| {
                    let best = |b: usize| curve.iter().take(b).copied().fold(f64::INFINITY, f64::min);
                    let best_ms: serde_json::Map<_, _> =
                        budgets.iter().map(|&b| (b.to_string(), serde_json::json!(best(b)))).collect();
                    let speedup: serde_json::Map<_, _> =
                        budgets.iter().map(|&b| (b.to_string(), serde_json::json!(naive / best(b)))).collect();
                    serde_json::json!({
                        "strategy": strategy, "best_ms": best_ms, "speedup": speedup, "trials_to_target": null,
                        "llm_calls": {}, "llm_tokens": 0, "largest_model_share": null, "wall_s": 1.0,
                        "runs": [{"seed": 1, "curve": curve, "wall_s": 1.0}],
                    })
                })
                .collect();
            serde_json::json!({"workload": name, "naive_ms": naive, "strategies": strategies})
        })
        .collect();
    serde_json::json!({"budgets": budgets, "target_speedup": 10.0, "repeats": 1, "workloads": workloads, "wall_s": wall_s})
        .to_string()
}

#[test]
fn bench_from_several_runs_joins_them_against_the_first_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    // The first run measured gemm-512's bound on its machine: 2.5 ms.
    let mut first_run: serde_json::Value = serde_json::from_str(&bench_json(
        &[("gemm-512", 100.0, &[("random", &[20.0, 12.0, 11.0, 9.0])]), ("flux-conv", 50.0, &[("random", &[5.0])])],
        &[2, 4],
        30.0,
    ))
    .unwrap();
    first_run["workloads"][0]["bound"] =
        serde_json::json!({"seconds": 0.0025, "compute_seconds": 0.0025, "memory_seconds": 0.0001, "level": "L3"});
    let first = write("first.json", first_run.to_string());
    // The same workload measured again later: another naive latency.
    let second = write(
        "second.json",
        bench_json(
            &[("gemm-512", 120.0, &[("mcts", &[15.0, 8.0, 5.0, 6.0])]), ("llama3-8b-attn", 80.0, &[("mcts", &[4.0])])],
            &[2, 4],
            12.0,
        ),
    );
    let out = dir.path().join("joined");
    let o = colt(&["bench", "--from", &first, "--from", &second, "--out", out.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let joined: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(joined["wall_s"], 42.0, "the runs' wall times add up");
    let names: Vec<&str> =
        joined["workloads"].as_array().unwrap().iter().map(|w| w["workload"].as_str().unwrap()).collect();
    assert_eq!(names, ["gemm-512", "flux-conv", "llama3-8b-attn"]);
    let gemm = &joined["workloads"][0];
    assert_eq!(gemm["naive_ms"], 100.0, "the first run's baseline is kept");
    let strategies: Vec<&str> =
        gemm["strategies"].as_array().unwrap().iter().map(|s| s["strategy"].as_str().unwrap()).collect();
    assert_eq!(strategies, ["random", "mcts"]);
    let mcts = &gemm["strategies"][1];
    assert_eq!(mcts["best_ms"]["4"], 5.0, "best latencies are kept as measured");
    assert_eq!(mcts["speedup"]["4"], 20.0, "speedups are against the kept baseline: 100 / 5");
    assert_eq!(mcts["speedup"]["2"], 12.5);
    assert_eq!(mcts["trials_to_target"], 2, "100 / 10 = 10 ms is first reached at the second trial");
    let tables = std::fs::read_to_string(out.join("tables.md")).unwrap();
    assert!(tables.contains("| mcts | 8.000 (12.5x) | 5.000 (20.0x)"), "{tables}");
    // The kept bound, and each strategy's share of it at the largest budget,
    // the joined one's too: 2.5 ms against random's 9 ms and mcts's 5 ms.
    assert_eq!(gemm["bound"]["level"], "L3");
    assert_eq!(
        (gemm["strategies"][0]["share_of_bound"].as_f64(), mcts["share_of_bound"].as_f64()),
        (Some(0.0025 * 1e3 / 9.0), Some(0.5))
    );
    assert!(tables.contains("| random | 12.000 (8.3x) | 9.000 (11.1x) | — | 27.8% |"), "{tables}");
    assert!(tables.contains("| mcts | 8.000 (12.5x) | 5.000 (20.0x) | — | 50.0% |"), "{tables}");
    assert!(tables.contains("Roofline bound: 2.500 ms (compute 2.500 ms; memory 0.100 ms, the bytes fitting in L3); the best @4, mcts's 5.000 ms, runs at 50.0% of it."), "{tables}");
    assert!(
        tables.contains(
            "## flux-conv (naive 50.000 ms)\n\nRoofline bound: — (this machine's limits are not measured).\n"
        ),
        "{tables}"
    );
    assert!(out.join("llama3-8b-attn.png").is_file());

    // What cannot be joined is named.
    let other_budgets =
        write("budgets.json", bench_json(&[("gemm-512", 100.0, &[("evolutionary", &[9.0])])], &[2, 8], 1.0));
    for (files, expected) in [
        (vec![first.as_str(), first.as_str()], "strategy `random` on `gemm-512` is already in an earlier file"),
        (vec![first.as_str(), other_budgets.as_str()], "their budgets differ ([2, 8] against [2, 4])"),
        (vec![first.as_str(), "/nonexistent/bench.json"], "/nonexistent/bench.json"),
    ] {
        let mut args = vec!["bench", "--out", out.to_str().unwrap()];
        for f in &files {
            args.extend(["--from", f]);
        }
        let o = colt(&args);
        assert!(!o.status.success(), "{files:?} were joined");
        assert!(stderr(&o).contains(expected), "{files:?}: {}", stderr(&o));
    }
}
