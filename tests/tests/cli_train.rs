//! `colt train`: a tiny specialist trained in seconds from a real tuning job
//! and a few corpus programs, loaded through llama.cpp by `colt tune
//! --strategy colt`, whose answers all parse as joint actions; and the
//! errors a user can cause.

use colt_e2e::{colt, json_line, stderr, stdout};
use std::path::Path;

const WORKLOAD: &str = "corpus-rows-23";

fn tiny_train<'a>(db: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        "--db",
        db,
        "--out",
        out,
        "--corpus",
        "6",
        "--nodes",
        "4",
        "--pretrain-steps",
        "60",
        "--steps",
        "30",
        "--batch",
        "4",
        "--dim",
        "32",
        "--layers",
        "1",
        "--heads",
        "2",
        "--quiet",
    ]
}

/// `colt tune WORKLOAD --trials N --db DB --out OUT` and `extra`.
fn tune(trials: &str, db: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args =
        vec!["tune", WORKLOAD, "--trials", trials, "--db", db.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend(extra);
    colt(&args)
}

/// "… screened A -> B" of `colt train`'s line.
fn screened_losses(text: &str) -> (f64, f64) {
    let tail = text.split("screened ").nth(1).unwrap_or_else(|| panic!("{text}"));
    let mut parts = tail.split_whitespace();
    let before = parts.next().unwrap().parse().unwrap_or_else(|_| panic!("{text}"));
    parts.next(); // ->
    let after = parts.next().unwrap().trim_end_matches(|c: char| !c.is_ascii_digit()).parse().unwrap();
    (before, after)
}

#[test]
fn a_tiny_specialist_trains_lowers_its_held_out_loss_and_answers_legal_joint_actions() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("corpus.db");
    let db_s = db.to_str().unwrap();
    let o = tune("6", &db, &dir.path().join("t"), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    // A second database (another machine's or another time's corpus) is pooled with the first.
    let db2 = dir.path().join("corpus2.db");
    let o = colt(&[
        "tune",
        "corpus-rows-35",
        "--trials",
        "4",
        "--db",
        db2.to_str().unwrap(),
        "--out",
        dir.path().join("t2").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));

    let model = dir.path().join("tiny.gguf");
    let mut args = tiny_train(db_s, model.to_str().unwrap());
    args.extend(["--db", db2.to_str().unwrap()]);
    let o = colt(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let line = stdout(&o);
    let (before, after) = screened_losses(&line);
    assert!(after < before, "training did not lower the held-out loss: {line}");
    let info = colt_llm::ModelInfo::read(&model).unwrap();
    assert_eq!(info.name, "colt-specialist");
    assert!(info.specialist_vocabulary.as_deref().is_some_and(|v| v.starts_with("colt-schedule-v1-")));
    let report = dir.path().join("tiny.gguf.report");
    let md = std::fs::read_to_string(report.join("training.md")).unwrap();
    assert!(md.contains("Reproduce with") && md.contains("colt train --db"), "{md}");
    assert!(md.contains(&format!("`{db_s}` and `{}`", db2.display())) && md.contains(" of 2 jobs"), "{md}");
    assert!(md.contains("The model written is step "), "{md}");
    assert!(std::fs::read_to_string(report.join("training.svg")).unwrap().starts_with("<svg"));

    // The specialist in a search: llama.cpp runs it, and every answer is a joint action.
    let out = dir.path().join("with-specialist");
    let o = tune(
        "4",
        &dir.path().join("tune.db"),
        &out,
        &[
            "--strategy",
            "colt",
            "--models",
            model.to_str().unwrap(),
            "--batch",
            "2",
            "--expansions",
            "3",
            "--json",
            "--fresh",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = json_line(&stdout(&o));
    let calls = summary["llm_calls"]["colt-specialist"].as_u64().unwrap_or(0);
    assert!(calls > 0, "the specialist was never called: {summary}");
    let quality = &summary["proposal_quality"][0];
    assert_eq!(quality["model"], "colt-specialist");
    assert_eq!(quality["unusable_share"].as_f64(), Some(0.0), "an answer did not parse: {summary}");
}

#[test]
fn databases_labels_and_outputs_it_cannot_use_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.gguf");
    let out_s = out.to_str().unwrap();
    let refused = |args: &[&str], expected: &str| {
        let o = colt(args);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(stderr(&o).contains(expected), "{args:?}: {}", stderr(&o));
    };
    let missing = dir.path().join("none.db");
    refused(&tiny_train(missing.to_str().unwrap(), out_s), "does not exist (tune some workloads into it first)");

    // Each of several databases must exist, and is named when it does not.
    let first = dir.path().join("first.db");
    let o = tune("2", &first, &dir.path().join("f"), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut args = tiny_train(first.to_str().unwrap(), out_s);
    args.extend(["--db", missing.to_str().unwrap()]);
    refused(&args, &format!("the tuning database `{}` does not exist", missing.display()));
    let mut args = tiny_train(first.to_str().unwrap(), out_s);
    args.push("--min-gain=-0.1");
    refused(&args, "--min-gain -0.1: the least gain of a measured improvement is a number, 0 or above");

    let empty = dir.path().join("empty.db");
    drop(colt_db::TuningDb::open(&empty).unwrap());
    refused(&tiny_train(empty.to_str().unwrap(), out_s), "has no measured trials to train on");

    let foreign = dir.path().join("foreign.db");
    let connection = rusqlite::Connection::open(&foreign).unwrap();
    connection.execute_batch("CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT);").unwrap();
    drop(connection);
    let o = colt(&tiny_train(foreign.to_str().unwrap(), out_s));
    assert!(!o.status.success());
    assert!(stderr(&o).contains(foreign.to_str().unwrap()), "{}", stderr(&o));

    // A database with trials, asked for a label it has none of.
    let db = dir.path().join("t.db");
    let o = tune("2", &db, &dir.path().join("t"), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut args = tiny_train(db.to_str().unwrap(), out_s);
    args.extend(["--target", "cpu:Another CPU [avx2]"]);
    refused(&args, "has no trials measured on `cpu:Another CPU [avx2]`; its labels: `cpu:");

    // A specialist of another vocabulary is refused when a job loads it.
    let other = dir.path().join("other.gguf");
    let mut tokens: Vec<String> = colt_specialist::SPECIAL_TOKENS.map(String::from).to_vec();
    tokens.extend(["a", "b", "c"].map(String::from));
    let model = colt_specialist::Model::init(colt_specialist::Config::new(6, 16, 1, 2, 64), 1).unwrap();
    let extra = [("colt.specialist.vocabulary".to_string(), "colt-schedule-v0-old".to_string())];
    colt_specialist::write_gguf(&other, &model, "old-specialist", &tokens, &extra).unwrap();
    let o = tune("2", &db, &dir.path().join("o"), &["--strategy", "colt", "--models", other.to_str().unwrap()]);
    assert!(!o.status.success());
    let message = stderr(&o);
    assert!(
        message.contains("is a colt specialist of another vocabulary (`colt-schedule-v0-old`)")
            && message.contains("train it again with `colt train`"),
        "{message}"
    );

    refused(
        &tiny_train(db.to_str().unwrap(), "/proc/colt-none/s.gguf"),
        "cannot write the specialist to `/proc/colt-none/s.gguf`",
    );
    refused(&tiny_train(db.to_str().unwrap(), dir.path().to_str().unwrap()), "it is a folder");
    assert!(!Path::new(out_s).exists());
}
