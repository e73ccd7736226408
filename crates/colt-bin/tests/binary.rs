//! The binary's own smoke test. Besides checking `--version` and `--help`,
//! its presence makes `cargo test --workspace` build `target/<profile>/colt`,
//! the binary that the end-to-end tests in `tests/` drive.

use std::process::Command;

#[test]
fn version_and_help_name_the_subcommands() {
    let colt = env!("CARGO_BIN_EXE_colt");
    let version = Command::new(colt).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("colt "));
    let help = Command::new(colt).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for sub in ["workloads", "show-program", "emit-c", "reference"] {
        assert!(help.contains(sub), "{help}");
    }
}
