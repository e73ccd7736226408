//! `colt machine`: this host's limits are measured once per hardware label
//! and kept in the tuning database — a second run reads the stored record,
//! `--remeasure` replaces it; a new database copies what this machine
//! measured before — and a database colt cannot use is named.
//! The figures themselves vary with the machine's load: only what holds on
//! a busy machine is asserted.

use colt_e2e::{colt, json_line, stderr, stdout};
use std::path::Path;
use std::process::{Command, Output};

/// `colt machine` with a kernel cache of the test's own beside `db`: a
/// `--remeasure` here runs while other tests load the machine, and must not
/// replace the limits this machine keeps for everything else.
fn machine(db: &Path, extra: &[&str]) -> Output {
    Command::new(colt_e2e::colt_binary())
        .args(["machine", "--db", db.to_str().unwrap()])
        .args(extra)
        .env("COLT_CACHE_DIR", db.with_extension("cache"))
        .current_dir(colt_e2e::repo_root())
        .output()
        .unwrap()
}

fn limits(db: &Path, extra: &[&str]) -> serde_json::Value {
    let o = machine(db, extra);
    assert!(o.status.success(), "{}", stderr(&o));
    json_line(&stdout(&o))
}

fn plausible(limits: &serde_json::Value) {
    assert!(limits["peak_flops_per_s"].as_f64().unwrap() > 0.0, "{limits}");
    assert!(limits["cores"].as_u64().unwrap() >= 1, "{limits}");
    for op in ["add", "max", "div", "exp", "sqrt"] {
        let cost = limits["op_cost"][op].as_f64().unwrap();
        assert!(cost.is_finite() && cost > 0.0, "{op}: {limits}");
    }
    let levels = limits["levels"].as_array().unwrap();
    let names: Vec<&str> = levels.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert!(names.len() >= 2 && names[0] == "L1d" && names.last() == Some(&"memory"), "{names:?}");
    let caches = &levels[..levels.len() - 1];
    let bytes: Vec<u64> = caches.iter().map(|l| l["bytes"].as_u64().unwrap()).collect();
    assert!(bytes.windows(2).all(|w| w[0] < w[1]), "inner to outer, each larger: {bytes:?}");
    assert!(levels.last().unwrap()["bytes"].is_null());
    assert!(levels.iter().all(|l| l["read_bytes_per_s"].as_f64().unwrap() > 0.0), "{limits}");
}

#[test]
fn the_limits_are_measured_once_read_back_after_and_replaced_on_remeasure() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("colt.db");
    let first = limits(&db, &["--json"]);
    plausible(&first);
    let label = first["label"].as_str().unwrap().to_string();
    assert!(label.starts_with("cpu:"), "{label}");

    // Read back, not measured again: the very record.
    let second = limits(&db, &["--json"]);
    assert_eq!(second, first);
    let stored = colt_db::TuningDb::open(&db).unwrap().machine_limits(&label).unwrap().expect("stored");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&stored.limits_json).unwrap(), first);
    assert_eq!(Some(stored.measured_unix), first["measured_at"].as_u64());

    // The table shows the same record.
    let o = machine(&db, &[]);
    let text = stdout(&o);
    assert!(o.status.success() && text.contains(&label) && text.contains("GFLOP/s"), "{text}{}", stderr(&o));
    assert!(text.contains("memory") && text.contains(db.to_str().unwrap()), "{text}");

    // A measurement takes seconds, so the new one is stamped later.
    let third = limits(&db, &["--remeasure", "--json"]);
    plausible(&third);
    assert!(third["measured_at"].as_u64() > first["measured_at"].as_u64(), "{third}\n{first}");
    assert_eq!(limits(&db, &["--json"]), third);
}

#[test]
fn a_database_colt_cannot_use_is_named_before_anything_is_measured() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |db: &Path, expected: &str| {
        let o = machine(db, &["--json"]);
        let e = stderr(&o);
        assert!(!o.status.success() && stdout(&o).is_empty(), "{e}");
        assert!(e.contains(&format!("`{}`", db.display())) && e.contains(expected), "{e}");
    };
    refused(&dir.path().join("no-such-folder/colt.db"), "cannot open");
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database, but long enough to be read as one's header...........").unwrap();
    refused(&text, "not a SQLite database");
    refused(dir.path(), "not a regular file");
    let other = dir.path().join("other.db");
    rusqlite::Connection::open(&other).unwrap().execute_batch("CREATE TABLE notes (text TEXT)").unwrap();
    refused(&other, "not a colt tuning database");
    let newer = dir.path().join("newer.db");
    drop(colt_db::TuningDb::open(&newer).unwrap());
    rusqlite::Connection::open(&newer).unwrap().execute_batch("PRAGMA user_version = 99").unwrap();
    refused(&newer, "written by a newer colt");

    // A server that does not answer, named without its password.
    let o = colt(&["machine", "--db", "postgres://colt:s3cret@127.0.0.1:1/colt"]);
    let e = stderr(&o);
    assert!(!o.status.success() && e.contains("postgres://colt:***@127.0.0.1:1/colt") && !e.contains("s3cret"), "{e}");
}

#[test]
fn stored_limits_this_colt_cannot_read_are_named_with_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("colt.db");
    let label = "Test Part [x86_64]";
    colt_db::TuningDb::open(&db)
        .unwrap()
        .save_machine_limits(&colt_db::MachineLimitsRecord {
            label: format!("cpu:{label}"),
            limits_json: "{\"peak\": 1}".into(),
            measured_unix: 1,
        })
        .unwrap();
    let o = Command::new(colt_e2e::colt_binary())
        .args(["machine", "--db", db.to_str().unwrap()])
        .env("COLT_CPU_LABEL", label)
        .output()
        .unwrap();
    let e = stderr(&o);
    assert!(!o.status.success(), "{e}");
    assert!(
        e.contains(&format!("`cpu:{label}`")) && e.contains(db.to_str().unwrap()) && e.contains("--remeasure"),
        "{e}"
    );
}

/// A new database (every `colt bench --out`, every test) does not cost a
/// measurement: what this machine measured is kept beside its kernel cache
/// and copied in; `--remeasure` replaces that copy too.
#[test]
fn a_new_database_gets_the_limits_this_machine_measured_without_measuring_again() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let limits_in = |db: &str, extra: &[&str]| {
        let o = Command::new(colt_e2e::colt_binary())
            .args(["machine", "--json", "--db", dir.path().join(db).to_str().unwrap()])
            .args(extra)
            .env("COLT_CACHE_DIR", &cache)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        json_line(&stdout(&o))
    };
    let measured = limits_in("a.db", &[]);
    plausible(&measured);
    let kept: Vec<_> = std::fs::read_dir(cache.join("limits")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(kept.len(), 1, "one file for this label and core count: {kept:?}");
    // Another database: the same record, its measurement time included.
    assert_eq!(limits_in("b.db", &[]), measured);
    // Measured again for one database, the machine's copy follows.
    let remeasured = limits_in("b.db", &["--remeasure"]);
    assert!(remeasured["measured_at"].as_u64() > measured["measured_at"].as_u64(), "{remeasured}");
    assert_eq!(limits_in("c.db", &[]), remeasured);
    // The database that had them keeps its own.
    assert_eq!(limits_in("a.db", &[]), measured);
}
