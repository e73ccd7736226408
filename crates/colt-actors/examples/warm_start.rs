//! How much a warm start helps the cost model rank a workload it has never
//! seen: for each workload of the given tuning databases in turn, Spearman's
//! ρ between predicted and measured throughput over that workload's
//! verified candidates, at 0 measurements of it, for the prior alone (an
//! empty database) and for the model warmed up on every other workload's
//! records (what a job's cost model starts from, see colt-search's
//! `load_warm`), and after 8 and 16 of its own measurements (the first
//! rounds; measured candidates leave the test set), and the best measured
//! of the 8 candidates each model ranks highest at 0 measurements, as a
//! share of the best of all (what a first round of 8 would find, had the
//! search only these candidates to choose from).
//!
//! ```text
//! cargo run --release -p colt-actors --example warm_start -- bench/*/bench.db [--target LABEL]
//! ```
//!
//! `LABEL` is the target label the jobs recorded (`cpu:MODEL [FEATURES]`
//! since labels name the hardware); the default is this host's CPU's, so
//! a database from another machine needs its label.
//!
//! Nothing is measured: the databases' latencies are used as they are. A
//! candidate in several databases counts once (its first record).

use colt_db::TuningDb;
use colt_ir::features::{features_of, Features};
use colt_ir::schedule::{lower, Lineage, Target};
use colt_ir::Program;
use colt_policy::cost::{spearman, CostModel, Roofline};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

/// One verified candidate: its features and flop/s.
struct Row {
    features: Features,
    rate: f64,
}

fn main() {
    let mut dbs: Vec<PathBuf> = Vec::new();
    let mut target = colt_measure::Target::Cpu.label();
    let usage = || -> ! {
        eprintln!("usage: warm_start DB... [--target LABEL] (default: this host's CPU label)");
        std::process::exit(2);
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--target" => target = args.next().unwrap_or_else(|| usage()),
            _ => dbs.push(a.into()),
        }
    }
    if dbs.is_empty() {
        usage();
    }
    // Workload name → its candidates, over every database.
    let mut workloads: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    let mut seen: HashSet<(String, u64)> = HashSet::new();
    for path in &dbs {
        let db = TuningDb::open(path).unwrap_or_else(|e| panic!("{e}"));
        // Every workload but a name no job has: all of them.
        let rows = db.other_workloads_trials(&target, "", usize::MAX).unwrap_or_else(|e| panic!("{e}"));
        let mut programs: BTreeMap<String, Arc<Program>> = BTreeMap::new();
        for row in rows {
            let program = programs
                .entry(row.workload_text.clone())
                .or_insert_with(|| {
                    let p = colt_ir::parse_workload(&row.workload_text, &row.workload, colt_ir::Size::Bench);
                    Arc::new(p.unwrap_or_else(|e| panic!("{}: {e}", row.workload)))
                })
                .clone();
            let t = row.trial;
            if !seen.insert((t.workload_fingerprint.clone(), t.fingerprint)) {
                continue;
            }
            let lineage = Lineage { sampler: t.sampler, seed: t.seed, edits: t.edits };
            let Ok(candidate) = lineage.rebuild_on(&program, Target::of_label(&target)) else { continue };
            let nest = lower(&candidate);
            let Some(ms) = t.median_ms else { continue };
            let rate = program.flops() as f64 / (ms * 1e-3);
            workloads
                .entry(row.workload.clone())
                .or_default()
                .push(Row { features: features_of(&candidate, &nest), rate });
        }
    }
    if workloads.is_empty() {
        eprintln!("warm_start: no verified trials of target {target:?} in the databases given: pass the label their jobs recorded with --target");
        std::process::exit(1);
    }
    // The query gives the newest first; a job measures the oldest first.
    for rows in workloads.values_mut() {
        rows.reverse();
    }
    let prior = Roofline::default();
    println!("databases: {}", dbs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", "));
    println!("\n| held-out workload | candidates | warm rows | ρ cold @0 | ρ warm @0 | ρ cold @8 | ρ warm @8 | ρ cold @16 | ρ warm @16 | best of top 8 @0 cold / warm |");
    println!("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for (name, rows) in &workloads {
        let mut warm = CostModel::new(prior.clone());
        let mut warm_rows = 0;
        for (other, others) in &workloads {
            if other != name {
                for r in others {
                    warm.add_prior_measurement(&r.features, r.rate);
                    warm_rows += 1;
                }
            }
        }
        warm.retrain();
        let mut cold = CostModel::new(prior.clone());
        // The first round's proxy: the best measured of each model's 8
        // highest-ranked candidates, as a share of the best of all.
        let best_of_top = |m: &CostModel| {
            let mut ranked: Vec<(f64, f64)> = rows.iter().map(|r| (m.predict_ln(&r.features), r.rate)).collect();
            ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
            let best = rows.iter().map(|r| r.rate).fold(0.0, f64::max);
            ranked.iter().take(8).map(|r| r.1).fold(0.0, f64::max) / best
        };
        let top8 = format!("{:.2} / {:.2}", best_of_top(&cold), best_of_top(&warm));
        let mut cells = Vec::new();
        let mut trained = 0;
        for checkpoint in [0, 8, 16] {
            // The job's first measurements: its rows in recorded order.
            while trained < checkpoint.min(rows.len()) {
                cold.add_measurement(&rows[trained].features, rows[trained].rate);
                warm.add_measurement(&rows[trained].features, rows[trained].rate);
                trained += 1;
            }
            cold.retrain();
            warm.retrain();
            let test = &rows[trained..];
            let actual: Vec<f64> = test.iter().map(|r| r.rate).collect();
            let rho = |m: &CostModel| {
                let predicted: Vec<f64> = test.iter().map(|r| m.predict_ln(&r.features)).collect();
                spearman(&predicted, &actual).map_or("—".into(), |x| format!("{x:.3}"))
            };
            cells.push(rho(&cold));
            cells.push(rho(&warm));
        }
        println!("| {name} | {} | {warm_rows} | {} |", rows.len(), cells.join(" | ") + " | " + &top8);
    }
}
