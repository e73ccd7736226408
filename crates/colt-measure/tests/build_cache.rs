//! The build cache: a source is compiled once, across builders (runs) too;
//! a different compiler flag is a different artifact; concurrent builds of
//! one source compile it once.

mod common;

use colt_measure::{ArtifactCache, Builder, Compiler, TimingGate};
use common::*;

fn fresh_builder(cache: &std::path::Path) -> Builder {
    Builder::new(Compiler::system(), ArtifactCache::new(cache), TimingGate::new())
}

#[test]
fn the_second_build_of_a_source_hits_the_cache_in_this_run_and_the_next() {
    let cache = tempfile::tempdir().unwrap();
    let kernel = good_kernel();
    let first_run = fresh_builder(cache.path());
    let built = first_run.build(&kernel.name, &kernel.c).unwrap();
    assert!(!built.cached);
    let again = first_run.build(&kernel.name, &kernel.c).unwrap();
    assert!(again.cached);
    assert_eq!((again.key, &again.path), (built.key, &built.path));
    assert_eq!(first_run.stats().compiled, 1);
    assert_eq!(first_run.stats().cache_hits, 1);

    // A new builder on the same directory is the next run of colt.
    let modified = std::fs::metadata(&built.path).unwrap().modified().unwrap();
    let next_run = fresh_builder(cache.path());
    assert!(next_run.build(&kernel.name, &kernel.c).unwrap().cached);
    assert_eq!(next_run.stats().compiled, 0);
    assert_eq!(std::fs::metadata(&built.path).unwrap().modified().unwrap(), modified, "the image was not rewritten");
}

#[test]
fn the_key_covers_the_source_and_the_flags() {
    let cache = tempfile::tempdir().unwrap();
    let kernel = good_kernel();
    let builder = fresh_builder(cache.path());
    let a = builder.build(&kernel.name, &kernel.c).unwrap();
    let b = builder.build(&kernel.name, &format!("{}\n/* another */\n", kernel.c)).unwrap();
    assert_ne!(a.key, b.key);
    let mut compiler = Compiler::system();
    compiler.flags.push("-fno-unroll-loops".into());
    let other_flags = Builder::new(compiler, ArtifactCache::new(cache.path()), TimingGate::new());
    let c = other_flags.build(&kernel.name, &kernel.c).unwrap();
    assert!(!c.cached);
    assert_ne!(a.key, c.key);
    assert_eq!(builder.stats().compiled + other_flags.stats().compiled, 3);
}

#[test]
fn concurrent_builds_of_one_source_compile_it_once() {
    let cache = tempfile::tempdir().unwrap();
    let kernel = good_kernel();
    let builder = fresh_builder(cache.path());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| builder.build(&kernel.name, &kernel.c).unwrap());
        }
    });
    assert_eq!(builder.stats().compiled, 1);
    assert_eq!(builder.stats().cache_hits, 3);
}

#[test]
fn a_missing_compiler_is_a_typed_error_naming_it() {
    let cache = tempfile::tempdir().unwrap();
    let builder =
        Builder::new(Compiler::new("/nonexistent/colt-cc"), ArtifactCache::new(cache.path()), TimingGate::new());
    let error = builder.build("k", "void colt_kernel(void) {}").unwrap_err();
    assert!(matches!(error, colt_measure::BuildError::CompilerUnavailable { .. }));
    assert!(error.to_string().contains("/nonexistent/colt-cc"), "{error}");
}

#[test]
fn a_measurement_reports_whether_its_build_was_cached() {
    let cache = tempfile::tempdir().unwrap();
    let program = small_gemm();
    let mut measurer = measurer(cache.path());
    let first = measurer.measure(&program, &good_kernel()).unwrap();
    let second = measurer.measure(&program, &good_kernel()).unwrap();
    assert!(!first.phases.cached);
    assert!(second.phases.cached);
    assert_eq!(measurer.builder().stats().compiled, 1);
}

/// Issue 19, item 10: the C compiler had no time limit, so a compiler that
/// hangs (or a source that makes it loop) held a job forever. Now it is
/// killed at its timeout with everything it started (a driver's `cc1`),
/// and the kernel fails to build with an error saying so.
#[test]
fn a_hung_compiler_is_killed_with_its_children_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("hung-cc");
    let child_pid = dir.path().join("child.pid");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \"$1\" in --version|-dumpmachine) echo hung-cc; exit 0;; esac\n\
             sleep 600 &\necho $! > {}\nwait\n",
            child_pid.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let compiler = Compiler::new(&script).with_timeout(std::time::Duration::from_secs(1));
    let builder = Builder::new(compiler, ArtifactCache::new(dir.path().join("cache")), TimingGate::new());
    let start = std::time::Instant::now();
    let error = builder.build("k", "void colt_kernel(void) {}").unwrap_err();
    assert!(start.elapsed() < std::time::Duration::from_secs(20), "{:?}", start.elapsed());
    assert!(matches!(error, colt_measure::BuildError::CompileTimedOut { .. }), "{error:?}");
    assert!(
        error.to_string().contains("did not compile within 1s") && error.to_string().contains("hung-cc"),
        "{error}"
    );
    let pid = std::fs::read_to_string(&child_pid).unwrap().trim().to_string();
    // Killed, it is gone or a zombie until its new parent reaps it.
    let running = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().next()) != Some("Z"))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while running() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!running(), "the compiler's child {pid} outlived the timeout");
    let measure = colt_measure::MeasureError::Build(error);
    assert_eq!(measure.kind(), colt_measure::FailureKind::Build, "a hung build is the candidate's failure");
}
