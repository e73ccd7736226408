//! The image format and the loader, in this process: what is refused and
//! why, and the one relocation kind that is applied.

mod common;

use colt_measure::{ImageError, KernelImage, LoadedKernel, Runner};
use common::*;

fn image_of(source: &str) -> Result<KernelImage, ImageError> {
    let cache = tempfile::tempdir().unwrap();
    let artifact = builder(cache.path()).build("test", source).unwrap();
    KernelImage::parse(&artifact.read().unwrap())
}

const HEAD: &str = "typedef void (*colt_barrier_fn)(void *ctx);\n";
const SIGNATURE: &str =
    "void colt_kernel(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx)";

#[test]
fn a_table_of_pointers_is_relocated_and_runs() {
    // The pointer table lives in `.data.rel.ro` with R_X86_64_RELATIVE
    // relocations; indexing it by data defeats constant folding.
    let source = format!(
        "{HEAD}static const float low[4] = {{1.0f, 2.0f, 3.0f, 4.0f}};\n\
         static const float high[4] = {{10.0f, 20.0f, 30.0f, 40.0f}};\n\
         static const float *const table[2] = {{low, high}};\n\
         {SIGNATURE} {{\n(void)ntasks; (void)barrier; (void)barrier_ctx;\nif (task) return;\n\
         for (int e = 0; e < 8; e++) bufs[1][e] = table[bufs[0][e] > 0.0f][e % 4];\n}}\n"
    );
    let image = image_of(&source).unwrap();
    assert!(!image.relative.is_empty(), "the table needs relocations");
    let kernel = LoadedKernel::load(&image).unwrap();
    let specs = vec![
        colt_measure::buffers::BufferSpec { len: 8, fill: colt_measure::buffers::Fill::Input { name: "X".into() } },
        colt_measure::buffers::BufferSpec { len: 8, fill: colt_measure::buffers::Fill::Poison },
    ];
    let mut runner = Runner::new(kernel, specs, 0, vec![colt_measure::affinity::available_cores()[0]]).unwrap();
    runner.check_run().unwrap();
    let x = colt_ir::data::fill("X", 8, 0);
    let expected: Vec<f32> = (0..8)
        .map(|e| if x[e] > 0.0 { [10.0, 20.0, 30.0, 40.0][e % 4] } else { [1.0, 2.0, 3.0, 4.0][e % 4] })
        .collect();
    assert_eq!(runner.buffers().buffer(1).unwrap(), expected.as_slice());
}

#[test]
fn mutable_global_state_is_refused() {
    let source = format!("{HEAD}static float calls;\n{SIGNATURE} {{ calls += 1.0f; bufs[0][0] = calls; }}\n");
    match image_of(&source) {
        Err(ImageError::MutableGlobal { section, .. }) => assert_eq!(section, ".bss"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_image_without_the_entry_point_is_refused() {
    let source = format!("{HEAD}void some_other_kernel(float *const *bufs) {{ bufs[0][0] = 1.0f; }}\n");
    assert_eq!(image_of(&source), Err(ImageError::NoEntry));
}

#[test]
fn bytes_that_are_not_an_image_are_refused() {
    assert!(matches!(KernelImage::parse(b"not an elf file at all"), Err(ImageError::NotElf(_))));
    // An executable of this machine is ELF but not a shared object image.
    let own = std::fs::read(env!("CARGO_BIN_EXE_colt-measure-worker")).unwrap();
    assert!(KernelImage::parse(&own).is_err());
}

#[test]
fn a_compiled_image_survives_the_trip_to_the_worker_unchanged() {
    let source = good_kernel().c;
    let image = image_of(&source).unwrap();
    let bytes = bincode::serde::encode_to_vec(&image, bincode::config::standard()).unwrap();
    let (back, _): (KernelImage, usize) =
        bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
    assert_eq!(back, image);
}
