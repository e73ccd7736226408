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
