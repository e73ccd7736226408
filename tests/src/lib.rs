//! End-to-end tests of the `colt` binary live in `tests/tests/`; this library
//! holds what they share.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The `colt` binary of the profile these tests were built in
/// (`cargo test --workspace` builds it: colt-bin has an integration test,
/// which makes cargo build its binary; `cargo test -p colt-e2e` alone does
/// not, and may find a stale one).
pub fn colt_binary() -> PathBuf {
    // Test executables live in target/<profile>/deps/.
    let exe = std::env::current_exe().expect("the test executable has a path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps/<test>");
    let colt = profile_dir.join("colt");
    assert!(
        colt.exists(),
        "{} does not exist: build it with `cargo build --release -p colt-bin` (or run `cargo test --workspace --release`)",
        colt.display()
    );
    colt
}

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `colt` with `args` from the repository root.
pub fn colt(args: &[&str]) -> Output {
    Command::new(colt_binary()).args(args).current_dir(repo_root()).output().expect("colt runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
