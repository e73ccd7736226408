//! `colt bench`: a tiny bench end to end, its outputs' shape and figures.

use colt_e2e::{colt, stderr, stdout};

#[test]
fn a_tiny_bench_writes_agreeing_tables_json_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bench");
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
    let svg = std::fs::read_to_string(out.join("gemm-512.svg")).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("trials") && svg.contains("mcts"),
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
    for (args, expected) in [
        (vec!["--strategies", "random,genetic"], "unknown strategy `genetic`"),
        (vec!["--trials", "0"], "positive budget"),
        (vec!["--repeats", "0"], "--repeats"),
        (vec!["--workloads", "gemm-512,nope"], "nope"),
        (vec!["--compare", "/nonexistent/bench.json"], "/nonexistent/bench.json"),
    ] {
        let mut all = vec!["bench", "--out", out, "--strategies", "random"];
        all.extend(args);
        let o = colt(&all);
        assert!(!o.status.success(), "{all:?} succeeded");
        assert!(stderr(&o).contains(expected), "{all:?}: {}", stderr(&o));
    }
}
