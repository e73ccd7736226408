//! A workload file is known by the name it declares (`workload my-layer`),
//! not by its path: `bench`'s plots, tables and rows, `tune`'s summary,
//! output folder and database rows, `show` and `export` by that name from
//! any folder — and one name is one program in a database.

use colt_db::TuningDb;
use colt_e2e::{colt_binary, json_line, stderr, stdout, submit, Daemon};
use std::path::Path;
use std::process::{Command, Output};

/// A small matrix product of width `n` that declares the name `name`.
fn layer(name: &str, n: usize) -> String {
    format!("workload {name}\ninput A[{n}, {n}]\ninput B[{n}, {n}]\noutput C[{n}, {n}]\nC[i, j] += A[i, k] * B[k, j]\n")
}

/// Writes `text` at `dir/rel`, its folders created.
fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Runs `colt` in `dir`: paths given relative resolve there.
fn colt_in(dir: &Path, args: &[&str]) -> Output {
    std::fs::create_dir_all(dir).unwrap();
    Command::new(colt_binary()).args(args).current_dir(dir).output().expect("colt runs")
}

/// `colt tune` of `workload` into `db` with the random strategy: 3 trials
/// unless `extra` gives `--trials`.
fn tune<'a>(workload: &'a str, db: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["tune", workload, "--strategy", "random", "--db", db, "--json", "--fresh"];
    if !extra.contains(&"--trials") {
        args.extend(["--trials", "3"]);
    }
    args.extend_from_slice(extra);
    args
}

#[test]
fn bench_on_a_workload_file_in_a_folder_names_plots_tables_rows_and_jobs_by_the_declared_name() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "layers/my-layer.colt", &layer("my-layer", 64));
    let o = colt_in(
        dir.path(),
        &["bench", "--workloads", "layers/my-layer.colt", "--strategies", "random", "--trials", "2", "--out", "b"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.path().join("b");
    let mut plots: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".svg") || n.ends_with(".png"))
        .collect();
    plots.sort();
    assert_eq!(plots, ["my-layer.png", "my-layer.svg"]);
    let tables = std::fs::read_to_string(out.join("tables.md")).unwrap();
    assert!(tables.contains("## my-layer ("), "{tables}");
    assert!(!tables.contains("layers/"), "the path is in the tables: {tables}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bench.json")).unwrap()).unwrap();
    assert_eq!(json["workloads"][0]["workload"], "my-layer");
    let jobs = TuningDb::open(&out.join("bench.db")).unwrap().jobs().unwrap();
    assert!(!jobs.is_empty() && jobs.iter().all(|j| j.job.workload == "my-layer"), "{jobs:?}");
    // Its kernel is found by that name.
    let o = colt_in(dir.path(), &["show", "--db", "b/bench.db", "--workload", "my-layer"]);
    assert!(o.status.success(), "{}", stderr(&o));

    // Two workloads of one name would be one table and one plot.
    write(dir.path(), "other/my-layer.colt", &layer("my-layer", 32));
    let o = colt_in(
        dir.path(),
        &["bench", "--workloads", "layers/my-layer.colt,other/my-layer.colt", "--strategies", "random"],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("both declare the workload `my-layer`"), "{}", stderr(&o));
}

#[test]
fn a_kernel_tuned_from_a_file_is_shown_and_exported_by_its_declared_name_from_another_folder() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    write(&work, "layers/my-layer.colt", &layer("my-layer", 64));
    let o = colt_in(&work, &tune("layers/my-layer.colt", "x.db", &[]));
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = json_line(&stdout(&o));
    assert_eq!(summary["workload"], "my-layer");
    let out = work.join("colt-out/my-layer-random");
    let job: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("job.json")).unwrap()).unwrap();
    assert_eq!(job["workload"], "my-layer");
    // The rebuild hint loads the file from any folder.
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    let file = std::fs::canonicalize(work.join("layers/my-layer.colt")).unwrap();
    assert!(report.contains(&format!("colt emit-c {} --space", file.display())), "{report}");
    // ... and, run from another folder, prints the job's best kernel (not
    // the naive one: it must say `--random`).
    let hint = report.lines().find(|l| l.contains("colt emit-c ")).unwrap();
    let command = &hint[hint.find("colt emit-c ").unwrap()..].trim_end_matches('`');
    let bin = colt_binary().parent().unwrap().to_path_buf();
    let rebuilt = Command::new("bash")
        .args(["-c", command])
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(rebuilt.status.success(), "{command}: {}", stderr(&rebuilt));
    let best = std::fs::read_to_string(out.join("kernel.c")).unwrap();
    let body = |c: &str| c.lines().filter(|l| !l.starts_with("//")).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&stdout(&rebuilt)), body(&best), "`{command}` does not rebuild the best kernel");
    // Resumed from the default folder, by the file again.
    let o = colt_in(&work, &tune("layers/my-layer.colt", "x.db", &["--resume", "--trials", "4"]));
    assert!(o.status.success(), "{}", stderr(&o));

    let elsewhere = dir.path().join("elsewhere");
    let o = colt_in(&elsewhere, &["show", "--db", "../work/x.db", "--workload", "my-layer"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let kernel = std::fs::read_to_string(out.join("kernel.c")).unwrap();
    assert!(stdout(&o).contains(kernel.trim()), "colt show does not print the job's best kernel");
    let o = colt_in(&elsewhere, &["export", "--db", "../work/x.db", "--workload", "my-layer", "--out", "lib"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let exported = std::fs::read_to_string(elsewhere.join("lib/kernels/colt_my_layer.c")).unwrap();
    assert!(!exported.is_empty());
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(elsewhere.join("lib/kernels.json")).unwrap()).unwrap();
    assert_eq!(manifest[0]["task"], "my-layer", "{manifest}");
}

#[test]
fn a_second_program_under_a_name_is_refused_before_anything_is_measured() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a/my-layer.colt", &layer("my-layer", 64));
    write(dir.path(), "b/my-layer.colt", &layer("my-layer", 32));
    write(dir.path(), "gemm.colt", &layer("gemm-512", 8));
    let o = colt_in(dir.path(), &tune("a/my-layer.colt", "x.db", &[]));
    assert!(o.status.success(), "{}", stderr(&o));
    let db = dir.path().join("x.db");
    for (file, says) in [("b/my-layer.colt", "for another program"), ("gemm.colt", "for the built-in workload")] {
        let o = colt_in(dir.path(), &tune(file, "x.db", &["--out", "refused"]));
        assert!(!o.status.success(), "{file} was tuned under a taken name");
        let e = stderr(&o);
        for part in [says, "x.db", "Rename this one (the `workload` line of its file)", "another database (--db)"] {
            assert!(e.contains(part), "`{part}` not in: {e}");
        }
        assert!(!dir.path().join("refused").exists(), "the refused job made its output folder");
    }
    assert_eq!(TuningDb::open(&db).unwrap().jobs().unwrap().len(), 1, "a refused job is in the database");

    // A bench whose database keeps the name for another program measures nothing.
    let bench = ["bench", "--strategies", "random", "--trials", "2", "--out", "b", "--workloads"];
    let o = colt_in(dir.path(), &[&bench[..], &["a/my-layer.colt"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let o = colt_in(dir.path(), &[&bench[..], &["b/my-layer.colt"]].concat());
    assert!(!o.status.success());
    assert!(stderr(&o).contains("keeps the name `my-layer` for another program"), "{}", stderr(&o));
    assert_eq!(TuningDb::open(&dir.path().join("b/bench.db")).unwrap().jobs().unwrap().len(), 1);

    // The daemon's jobs: a text under a taken name is a conflict; texts
    // that declare no name are each named by their program.
    let daemon = Daemon::start(&db, "127.0.0.1", &[]);
    let text = |t: String| serde_json::json!({"workload_text": t, "strategy": "random", "trials": 1}).to_string();
    let r = daemon.post("/v1/jobs", &text(layer("my-layer", 32)));
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap().contains("`my-layer`"), "{}", r.body);
    let same = submit(&daemon, &text(layer("my-layer", 64)));
    let unnamed = |n| layer("x", n).replace("workload x\n", "");
    let (first, second) = (submit(&daemon, &text(unnamed(8))), submit(&daemon, &text(unnamed(4))));
    let names: Vec<String> = [same, first, second]
        .iter()
        .map(|id| daemon.get(&format!("/v1/jobs/{id}")).json()["workload"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names[0], "my-layer");
    assert!(names[1].starts_with("unnamed-") && names[2].starts_with("unnamed-") && names[1] != names[2], "{names:?}");
    for id in [same, first, second] {
        daemon.wait_state(id, "done");
    }
}
