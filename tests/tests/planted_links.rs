//! Issue 40, item 6: with symbolic links planted in an output folder,
//! `colt export` overwrote (and chmodded) files outside it, and so did
//! `model-layers --out`, `tune --out`, `bench --out` and the daemon's lock
//! file. A property over every writer: links planted at any of the names
//! it writes (found by a first clean run), pointing at a file or a folder
//! outside or at nothing, change nothing outside the output folder (every
//! file there byte-identical, with its mode, and nothing new), and the
//! output folder ends up holding real files where the links were.

use colt_e2e::{colt, colt_binary, repo_root, stderr};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The elementwise workload of issue 40's first item: tuned in moments.
const WORKLOAD: &str = "input A[8]\noutput C[8]\nC[i] = A[i] * 2.0\n";

/// What is planted at one name of the output folder.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Plant {
    Nothing,
    /// A link to a file outside (mode 0640).
    FileLink,
    /// A link to a folder outside (holding a file).
    FolderLink,
    /// A link to a name outside that does not exist.
    Dangling,
}

const PLANTS: [Plant; 4] = [Plant::Nothing, Plant::FileLink, Plant::FolderLink, Plant::Dangling];

/// Everything under `root`, by path: what it is, its bytes (as text, so
/// that a failure reads) and its mode.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (String, String, u32)> {
    let mut all = BTreeMap::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            if meta.file_type().is_symlink() {
                all.insert(rel, ("link".into(), std::fs::read_link(&path).unwrap().display().to_string(), 0));
            } else if meta.is_dir() {
                all.insert(rel, ("folder".into(), String::new(), mode));
                todo.push(path);
            } else {
                all.insert(rel, ("file".into(), String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into(), mode));
            }
        }
    }
    all
}

/// The files and folders a clean run left in `out`, relative to it.
fn names(out: &Path) -> Vec<PathBuf> {
    snapshot(out).into_keys().collect()
}

/// A folder outside the output folder that links point into.
fn outside() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("victim"), "precious\n").unwrap();
    std::fs::set_permissions(dir.path().join("victim"), std::fs::Permissions::from_mode(0o640)).unwrap();
    std::fs::create_dir(dir.path().join("folder")).unwrap();
    std::fs::write(dir.path().join("folder/inside"), "also precious\n").unwrap();
    dir
}

/// Plants `plants[i]` at `names[i]` in a new `out`; a name under a
/// planted link is skipped (the link stands for the whole folder).
fn plant(out: &Path, outside: &Path, names: &[PathBuf], plants: &[Plant]) -> Vec<PathBuf> {
    std::fs::create_dir_all(out).unwrap();
    let mut planted: Vec<PathBuf> = Vec::new();
    for (i, (name, plant)) in names.iter().zip(plants).enumerate() {
        if *plant == Plant::Nothing || planted.iter().any(|p| name.starts_with(p)) {
            continue;
        }
        let at = out.join(name);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        let target = match plant {
            Plant::FileLink => outside.join("victim"),
            Plant::FolderLink => outside.join("folder"),
            _ => outside.join(format!("missing-{i}")),
        };
        std::os::unix::fs::symlink(target, &at).unwrap();
        planted.push(name.clone());
    }
    planted
}

/// Runs `write(out)` for cases of plantings over the names of a clean
/// run: every kind of link at every name, then random mixes.
fn check_writer(what: &str, extra_names: &[&str], write: impl Fn(&Path) -> std::process::Output) {
    let clean = tempfile::tempdir().unwrap();
    let out = clean.path().join("out");
    let o = write(&out);
    assert!(o.status.success(), "{what}, clean run: {}", stderr(&o));
    let mut names = names(&out);
    names.extend(extra_names.iter().map(PathBuf::from));
    let check = |plants: &[Plant]| -> Result<(), TestCaseError> {
        let root = tempfile::tempdir().unwrap();
        let (out, outside) = (root.path().join("out"), outside());
        let planted = plant(&out, outside.path(), &names, plants);
        let before = snapshot(outside.path());
        let o = write(&out);
        prop_assert!(o.status.success(), "{what} with links at {planted:?}: {}", stderr(&o));
        prop_assert_eq!(snapshot(outside.path()), before, "{} changed a file outside through {:?}", what, planted);
        for name in &planted {
            let meta = std::fs::symlink_metadata(out.join(name));
            prop_assert!(meta.is_err() || !meta.unwrap().file_type().is_symlink(), "{what} left the link at {name:?}");
        }
        Ok(())
    };
    for plant in &PLANTS[1..] {
        check(&vec![*plant; names.len()]).unwrap();
    }
    let mut runner = TestRunner::new(Config { cases: 2, failure_persistence: None, ..Config::default() });
    runner.run(&proptest::collection::vec(proptest::sample::select(&PLANTS[..]), names.len()), |p| check(&p)).unwrap();
}

/// A tuning database with a tuned kernel of the workload file, outside
/// every output folder: what `export` reads.
fn tuned(dir: &Path) -> (PathBuf, PathBuf) {
    let workload = dir.join("ew.colt");
    std::fs::write(&workload, WORKLOAD).unwrap();
    let db = dir.join("tuned.db");
    let o = run(&tune_args(&workload, &db, &dir.join("first-out")));
    assert!(o.status.success(), "{}", stderr(&o));
    (workload, db)
}

fn tune_args(workload: &Path, db: &Path, out: &Path) -> Vec<String> {
    ["tune", workload.to_str().unwrap(), "--strategy", "random", "--trials", "2", "--seed", "1"]
        .into_iter()
        .map(String::from)
        .chain(["--db".into(), db.to_str().unwrap().into(), "--out".into(), out.to_str().unwrap().into()])
        .collect()
}

fn run(args: &[String]) -> std::process::Output {
    colt(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn tune_out_writes_through_no_planted_link() {
    let dir = tempfile::tempdir().unwrap();
    let (workload, _) = tuned(dir.path());
    let db = dir.path().join("tune.db");
    check_writer("colt tune --out", &[], |out| run(&tune_args(&workload, &db, out)));
}

#[test]
fn export_writes_through_no_planted_link() {
    let dir = tempfile::tempdir().unwrap();
    let (_, db) = tuned(dir.path());
    let args = |out: &Path| -> Vec<String> {
        [
            "export",
            "--db",
            db.to_str().unwrap(),
            // The name the file gets (it declares none: its stem).
            "--workload",
            "ew",
            "--out",
            out.to_str().unwrap(),
        ]
        .into_iter()
        .map(String::from)
        .collect()
    };
    check_writer("colt export", &[], |out| run(&args(out)));
}

#[test]
fn model_layers_out_writes_through_no_planted_link() {
    let model = repo_root().join("models").join(colt_llm::TEST_SMALL_MODEL_FILE);
    check_writer("colt model-layers --out", &[], |out| {
        colt(&["model-layers", model.to_str().unwrap(), "--seq", "8", "--out", out.to_str().unwrap()])
    });
}

#[test]
fn bench_out_writes_through_no_planted_link() {
    let dir = tempfile::tempdir().unwrap();
    let workload = dir.path().join("ew.colt");
    std::fs::write(&workload, WORKLOAD).unwrap();
    // The bench database's log files exist only while it runs.
    check_writer("colt bench --out", &["bench.db-wal", "bench.db-shm", "bench.db-journal"], |out| {
        colt(&[
            "bench",
            "--workloads",
            workload.to_str().unwrap(),
            "--strategies",
            "random",
            "--trials",
            "2",
            "--out",
            out.to_str().unwrap(),
        ])
    });
}

/// The daemon's lock file: a link planted at its name is refused, naming
/// it, and never followed (it was truncated, or created outside).
#[test]
fn the_daemon_lock_is_never_opened_through_a_link() {
    for plant in &PLANTS[1..] {
        let (dir, outside) = (tempfile::tempdir().unwrap(), outside());
        let db = dir.path().join("d.db");
        let planted = plant_lock(&db, outside.path(), *plant);
        let before = snapshot(outside.path());
        let mut serve = Command::new(colt_binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--db", db.to_str().unwrap()])
            .current_dir(repo_root())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while serve.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = serve.kill();
        let o = serve.wait_with_output().unwrap();
        let err = stderr(&o);
        assert!(!o.status.success(), "{plant:?}: the daemon started through the link at the lock's name");
        assert!(err.contains(&format!("`{}` is a symbolic link", planted.display())), "{plant:?}: {err}");
        assert_eq!(snapshot(outside.path()), before, "{plant:?}: the daemon changed a file outside through its lock");
    }
}

fn plant_lock(db: &Path, outside: &Path, plant: Plant) -> PathBuf {
    let lock = db.with_file_name("d.db.serve.lock");
    let target = match plant {
        Plant::FileLink => outside.join("victim"),
        Plant::FolderLink => outside.join("folder"),
        _ => outside.join("missing"),
    };
    std::os::unix::fs::symlink(target, &lock).unwrap();
    // The lock sits beside the database's canonical path.
    std::fs::canonicalize(db.parent().unwrap()).unwrap().join("d.db.serve.lock")
}
