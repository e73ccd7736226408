//! Hardware identity in the target label, end to end: a CPU job's records
//! carry this host's CPU model and ISA features; a later job on the same
//! label starts from them (and says so in its report); a job on another
//! CPU label (`COLT_CPU_LABEL`, as a second host of another kind would
//! have) neither starts from them nor is shown them by `colt show`, nor
//! resumes a job of this host's.

use colt_e2e::{colt_binary, json_line, repo_root, stderr, stdout};
use std::path::Path;
use std::process::{Command, Output};

const OTHER: &str = "Some Other Part [x86_64 avx2 fma]";

fn colt_as(label: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(colt_binary());
    command.args(args).current_dir(repo_root()).env_remove("COLT_CPU_LABEL");
    if let Some(label) = label {
        command.env("COLT_CPU_LABEL", label);
    }
    command.output().expect("colt runs")
}

fn tune(label: Option<&str>, db: &Path, out: &Path, seed: &str) -> serde_json::Value {
    let (db, out) = (db.to_str().unwrap(), out.to_str().unwrap());
    tune_on(label, db, out, seed)
}

fn tune_on(label: Option<&str>, db: &str, out: &str, seed: &str) -> serde_json::Value {
    let args = [
        "tune",
        "gemm-512",
        "--strategy",
        "random",
        "--trials",
        "3",
        "--seed",
        seed,
        "--db",
        db,
        "--out",
        out,
        "--json",
    ];
    let o = colt_as(label, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    json_line(&stdout(&o))
}

/// The CPU's model as /proc/cpuinfo has it, read here independently.
fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap();
    let line = info.lines().find(|l| l.starts_with("model name")).expect("/proc/cpuinfo names the model");
    line.split_once(':').unwrap().1.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn records_are_reused_on_their_own_hardware_label_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("colt.db");
    reused_on_their_own_label_only(db.to_str().unwrap(), dir.path());
}

/// Hosts A and B of one kind and C of another, sharing one PostgreSQL
/// server (here all three on this machine, C with another CPU label).
#[test]
fn hosts_sharing_a_postgres_server_reuse_each_others_records_on_their_label_only() {
    let mut server = colt_db::test_server::TestServer::start().unwrap();
    let url = server.fresh_database().unwrap();
    let dir = tempfile::tempdir().unwrap();
    reused_on_their_own_label_only(&url, dir.path());
    // All three hosts' jobs are in the server.
    let db = colt_db::TuningDb::open(Path::new(&url)).unwrap();
    assert_eq!(db.jobs().unwrap().len(), 3);

    // `colt db copy` moves the cluster's history into a file, twice
    // changing nothing the second time, and the file shows the same kernel.
    let file = dir.path().join("copy.db");
    let copy = || colt_as(None, &["db", "copy", "--from", &url, "--to", file.to_str().unwrap()]);
    let o = copy();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("3 jobs copied (0 there already)"), "{}", stdout(&o));
    let o = copy();
    assert!(stdout(&o).contains("0 jobs copied (3 there already), 0 of 9 trials copied"), "{}", stdout(&o));
    let show = |db: &str| json_line(&stdout(&colt_as(None, &["show", "--db", db, "--workload", "gemm-512", "--json"])));
    assert_eq!(show(&url), show(file.to_str().unwrap()));
    let o = colt_as(None, &["db", "copy", "--from", dir.path().join("none.db").to_str().unwrap(), "--to", &url]);
    assert!(!o.status.success() && stderr(&o).contains("none.db` does not exist"), "{}", stderr(&o));
}

fn reused_on_their_own_label_only(db_s: &str, dir: &Path) {
    let tune = |label: Option<&str>, out: &str, seed: &str| tune_on(label, db_s, dir.join(out).to_str().unwrap(), seed);

    // Host A: the label names this CPU and what the compiler targets.
    let a = tune(None, "a", "1");
    let label = a["target"].as_str().unwrap().to_string();
    assert!(label.starts_with(&format!("cpu:{} [", cpu_model())), "{label}");
    #[cfg(target_arch = "x86_64")]
    assert_eq!(label.contains(" avx2"), std::arch::is_x86_feature_detected!("avx2"), "{label}");
    assert!(a["started_from"].is_null(), "a fresh database knows nothing: {a}");
    let best_a = a["best_ms"].as_f64().unwrap();

    // Host B of the same kind: starts from A's best record, and says so.
    let b = tune(None, "b", "2");
    assert_eq!(b["target"], label.as_str());
    let from = &b["started_from"];
    assert_eq!((from["best_job"].as_i64(), from["best_ms"].as_f64()), (Some(1), Some(best_a)), "{b}");
    assert!(from["records"].as_u64().unwrap() >= 1, "{b}");
    assert!(b["best_ms"].as_f64().unwrap() <= best_a, "B knows A's best: {b}");
    let report = std::fs::read_to_string(dir.join("b/report.md")).unwrap();
    assert!(
        report.contains("earlier records of this workload on this target") && report.contains("job 1)"),
        "{report}"
    );

    // A host of another kind: nothing of A's is known to it.
    let c = tune(Some(OTHER), "c", "1");
    assert_eq!(c["target"], format!("cpu:{OTHER}"));
    assert!(c["started_from"].is_null(), "another CPU's records were reused: {c}");

    // `colt show` hands each host its own hardware's kernel.
    let show = |label: Option<&str>, extra: &[&str]| {
        let mut args = vec!["show", "--db", db_s, "--workload", "gemm-512", "--json"];
        args.extend_from_slice(extra);
        colt_as(label, &args)
    };
    let here = json_line(&stdout(&show(None, &[])));
    assert_eq!(here["target"], label.as_str());
    assert!(here["job"].as_i64().unwrap() <= 2, "{here}");
    let there = json_line(&stdout(&show(Some(OTHER), &[])));
    assert_eq!((there["target"].as_str(), there["job"].as_i64()), (Some(format!("cpu:{OTHER}").as_str()), Some(3)));
    // ... and names the labels it holds when asked for one it does not.
    let o = show(None, &["--target", "cpu:Yet Another Part [x86_64]"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("on `cpu:Yet Another Part [x86_64]`"), "{err}");
    assert!(err.contains(&format!("`{label}`")) && err.contains(&format!("`cpu:{OTHER}`")), "{err}");

    // A job of this host's is not resumed by the other kind of host.
    let out = dir.join("a");
    let args = ["tune", "gemm-512", "--strategy", "random", "--trials", "4", "--db", db_s, "--out"];
    let mut args = args.to_vec();
    args.extend([out.to_str().unwrap(), "--resume"]);
    let o = colt_as(Some(OTHER), &args);
    assert!(!o.status.success(), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains(&format!("was tuned for target `{label}`, not `cpu:{OTHER}`")), "{err}");
}

#[test]
fn records_of_the_bare_cpu_label_are_reused_once_relabelled() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("colt.db");
    let db_s = db.to_str().unwrap();
    // A database of before the labels: its jobs and trials say `cpu`.
    tune(Some("placeholder"), &db, &dir.path().join("a"), "1");
    let o = colt_as(None, &["db", "relabel", "--db", db_s, "--from", "cpu:placeholder", "--to", "cpu"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let here = colt_db::TuningDb::open(&db).unwrap().job(1).unwrap().unwrap().job.target;
    assert!(here.starts_with(&format!("cpu:{} [", cpu_model())), "{here}");
    assert!(stdout(&o).contains("1 jobs and 3 trials of `cpu:placeholder` are now `cpu:"), "{}", stdout(&o));
    let b = tune(None, &db, &dir.path().join("b"), "2");
    assert_eq!(b["started_from"]["best_job"], 1, "{b}");
    // A label no record carries is named, and nothing changes.
    let o = colt_as(None, &["db", "relabel", "--db", db_s, "--from", "cpu", "--to", "cpu"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("holds no job or trial of target `cpu`"), "{}", stderr(&o));
    // Labels no hardware has were given to every record: empty, 10 KiB,
    // two lines, padded.
    let huge = "x".repeat(10 << 10);
    for (to, says) in [
        ("", "`--to` is empty"),
        ("  ", "`--to` is empty"),
        (huge.as_str(), "10240 bytes long: a target label is at most 512"),
        ("cpu:a\ncpu:b", "holds '\\n'"),
        (" cpu:padded", "starts or ends with a space"),
    ] {
        let o = colt_as(None, &["db", "relabel", "--db", db_s, "--from", &here, "--to", to]);
        assert!(!o.status.success() && stderr(&o).contains(says), "{to:?}: {}", stderr(&o));
    }
    let still = colt_db::TuningDb::open(&db).unwrap().job(1).unwrap().unwrap().job.target;
    assert_eq!(still, here, "a refused relabel changed the records");
}
