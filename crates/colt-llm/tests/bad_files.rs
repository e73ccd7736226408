//! Every kind of bad model file is a typed error that names the file — and
//! never reaches llama.cpp in a state that could crash it.

mod common;

use colt_llm::{LoadOptions, Model, ModelError, ModelInfo, TEST_SMALL_MODEL_FILE};
use std::io::Read;
use std::path::Path;

/// Loads `path` expecting an error, and checks that the message names it.
fn load_error(path: &Path) -> ModelError {
    let err = Model::load(path).expect_err("a bad file must not load");
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
    // Reading the metadata alone fails the same way, except for what only
    // llama.cpp can tell.
    if !matches!(err, ModelError::UnsupportedArchitecture { .. } | ModelError::Rejected { .. }) {
        assert_eq!(ModelInfo::read(path).unwrap_err().to_string(), err.to_string());
    }
    err
}

/// A minimal GGUF (version 3) with string metadata and tensors of ggml type
/// `ggml_type` (0 is F32).
fn gguf_typed(metadata: &[(&str, &str)], tensors: &[(&str, &[u64])], ggml_type: u32) -> Vec<u8> {
    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend((s.len() as u64).to_le_bytes());
        out.extend(s.as_bytes());
    }
    let mut out = b"GGUF".to_vec();
    out.extend(3u32.to_le_bytes());
    out.extend((tensors.len() as u64).to_le_bytes());
    out.extend((metadata.len() as u64).to_le_bytes());
    for (key, value) in metadata {
        string(&mut out, key);
        out.extend(8u32.to_le_bytes());
        string(&mut out, value);
    }
    let mut offset = 0u64;
    for (name, dims) in tensors {
        string(&mut out, name);
        out.extend((dims.len() as u32).to_le_bytes());
        dims.iter().for_each(|d| out.extend(d.to_le_bytes()));
        out.extend(ggml_type.to_le_bytes());
        out.extend(offset.to_le_bytes());
        offset += (dims.iter().product::<u64>() * 4).div_ceil(32) * 32;
    }
    out.resize(out.len().div_ceil(32) * 32 + offset as usize, 0);
    out
}

fn gguf(metadata: &[(&str, &str)], tensors: &[(&str, &[u64])]) -> Vec<u8> {
    gguf_typed(metadata, tensors, 0)
}

#[test]
fn a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_error(&dir.path().join("nope.gguf"));
    assert!(matches!(err, ModelError::NotFound { .. }), "{err}");
}

#[test]
fn an_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.gguf");
    std::fs::write(&path, b"").unwrap();
    assert!(matches!(load_error(&path), ModelError::Empty { .. }));
}

#[test]
fn a_file_that_is_not_gguf() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [("text.gguf", &b"hello, this is not a model\n"[..]), ("short.gguf", b"GG!")] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = load_error(&path);
        assert!(matches!(err, ModelError::NotGguf { .. }), "{err}");
        // What the file holds is not quoted (it quoted "hell" here, and a
        // secret file's first bytes over the daemon's API).
        assert!(!err.to_string().contains("hell") && !err.to_string().contains("GG!"), "{err}");
    }
}

#[test]
fn a_directory() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(load_error(dir.path()), ModelError::Io { .. }));
}

/// `open` of a FIFO blocks until something writes to it: `colt models` on
/// one hung for ever.
#[test]
fn a_fifo_is_refused_without_waiting_for_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("model.gguf");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo {}", fifo.display());
    let err = load_error(&fifo);
    assert!(matches!(err, ModelError::Io { .. }) && err.to_string().contains("not a regular file"), "{err}");
}

#[test]
fn truncated_copies_of_the_small_model() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::model_path(TEST_SMALL_MODEL_FILE);
    let size = std::fs::metadata(&source).unwrap().len();
    // Cut inside the header, inside the metadata (the vocabulary), in the
    // middle of the weights, and one byte short.
    for keep in [3, 20, 100_000, size / 2, size - 1] {
        let path = dir.path().join(format!("cut-{keep}.gguf"));
        let mut cut = Vec::new();
        std::fs::File::open(&source).unwrap().take(keep).read_to_end(&mut cut).unwrap();
        std::fs::write(&path, &cut).unwrap();
        let err = load_error(&path);
        assert!(matches!(err, ModelError::Truncated { actual, .. } if actual == keep), "{keep}: {err}");
    }
}

#[test]
fn malformed_headers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.gguf");
    // Version 1 (before 64-bit counts).
    let mut v1 = gguf(&[("general.architecture", "llama")], &[]);
    v1[4..8].copy_from_slice(&1u32.to_le_bytes());
    std::fs::write(&path, &v1).unwrap();
    assert!(matches!(load_error(&path), ModelError::UnsupportedVersion { version: 1, .. }));
    // Counts no file of this size could hold: nothing is allocated for them.
    let mut huge = gguf(&[], &[]);
    huge[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    std::fs::write(&path, &huge).unwrap();
    assert!(matches!(load_error(&path), ModelError::Truncated { .. }));
    // Tensors of an unknown or a removed ggml type (4 was Q4_2).
    for ggml_type in [999, 4] {
        std::fs::write(&path, gguf_typed(&[("general.architecture", "llama")], &[("w", &[64])], ggml_type)).unwrap();
        let err = load_error(&path);
        assert!(
            matches!(err, ModelError::Malformed { ref reason, .. } if reason.contains(&ggml_type.to_string())),
            "{err}"
        );
    }
    // A row length that is not a whole number of blocks (Q4_0 blocks hold 32).
    std::fs::write(&path, gguf_typed(&[("general.architecture", "llama")], &[("w", &[33])], 2)).unwrap();
    assert!(matches!(load_error(&path), ModelError::Malformed { .. }));
    // No architecture.
    std::fs::write(&path, gguf(&[("general.name", "x")], &[("w", &[8])])).unwrap();
    assert!(matches!(load_error(&path), ModelError::Malformed { .. }));
}

#[test]
fn an_architecture_llama_cpp_does_not_know() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alien.gguf");
    std::fs::write(&path, gguf(&[("general.architecture", "colt-alien")], &[("w", &[8, 2])])).unwrap();
    assert_eq!(ModelInfo::read(&path).unwrap().parameters, 16);
    let err = load_error(&path);
    assert!(
        matches!(err, ModelError::UnsupportedArchitecture { ref architecture, .. } if architecture == "colt-alien"),
        "{err}"
    );
}

#[test]
fn a_valid_gguf_that_llama_cpp_rejects_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hollow.gguf");
    std::fs::write(&path, gguf(&[("general.architecture", "llama")], &[("w", &[8])])).unwrap();
    let err = load_error(&path);
    assert!(matches!(err, ModelError::Rejected { .. }), "{err}");
}

/// A llama GGUF with `u32` hyperparameters `ints` (keys without the
/// `llama.` prefix) and one small tensor.
fn gguf_with_hyperparameters(ints: &[(&str, u32)]) -> Vec<u8> {
    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend((s.len() as u64).to_le_bytes());
        out.extend(s.as_bytes());
    }
    let mut out = b"GGUF".to_vec();
    out.extend(3u32.to_le_bytes());
    out.extend(1u64.to_le_bytes());
    out.extend((ints.len() as u64 + 1).to_le_bytes());
    string(&mut out, "general.architecture");
    out.extend(8u32.to_le_bytes());
    string(&mut out, "llama");
    for (key, value) in ints {
        string(&mut out, &format!("llama.{key}"));
        out.extend(4u32.to_le_bytes()); // u32
        out.extend(value.to_le_bytes());
    }
    string(&mut out, "w");
    out.extend(1u32.to_le_bytes());
    out.extend(8u64.to_le_bytes());
    out.extend(0u32.to_le_bytes()); // F32
    out.extend(0u64.to_le_bytes());
    out.resize(out.len().div_ceil(32) * 32 + 32, 0);
    out
}

/// Hyperparameters llama.cpp asserts on (an abort of the whole process)
/// are refused first, naming the key; sane ones reach llama.cpp, which
/// refuses this hollow file with an error.
#[test]
fn hyperparameters_llama_cpp_asserts_on_are_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crafted.gguf");
    let cases: &[(&[(&str, u32)], &str)] = &[
        (&[("block_count", 0)], "`llama.block_count` is 0, not in 1..=512"),
        (&[("block_count", 100_000)], "`llama.block_count` is 100000"),
        (&[("block_count", 2), ("expert_count", 8), ("expert_used_count", 9)], "`llama.expert_used_count` is 9"),
        (&[("block_count", 2), ("expert_count", 8)], "`llama.expert_used_count` is 0 (or absent) with 8 experts"),
        (&[("block_count", 2), ("expert_count", 0), ("expert_used_count", 2)], "more than the 0 experts"),
        (&[("block_count", 2), ("expert_count", 5000), ("expert_used_count", 2)], "`llama.expert_count` is 5000"),
        (
            &[("block_count", 2), ("expert_count", 8), ("expert_used_count", 2), ("expert_group_count", 3)],
            "`llama.expert_group_count` is 3",
        ),
        (&[("block_count", 2), ("nextn_predict_layers", 3)], "`llama.nextn_predict_layers` is 3"),
    ];
    for (ints, expected) in cases {
        std::fs::write(&path, gguf_with_hyperparameters(ints)).unwrap();
        let err = load_error(&path);
        assert!(
            matches!(err, ModelError::Hyperparameter { .. }) && err.to_string().contains(expected),
            "{ints:?}: {err}"
        );
        assert!(err.to_string().contains("llama.cpp asserts on it"), "{err}");
    }
    std::fs::write(
        &path,
        gguf_with_hyperparameters(&[("block_count", 2), ("expert_count", 8), ("expert_used_count", 2)]),
    )
    .unwrap();
    assert!(matches!(load_error(&path), ModelError::Rejected { .. }));
}

/// A sliding window of 0 keys was read as a window: every score of a
/// local attention layer masked, and its kernels computed NaN.
#[test]
fn a_sliding_window_of_no_key_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("window0.gguf");
    let shape = [
        ("embedding_length", 64),
        ("attention.head_count", 4),
        ("feed_forward_length", 128),
        ("block_count", 2),
        ("vocab_size", 100),
    ];
    std::fs::write(&path, gguf_with_hyperparameters(&shape)).unwrap();
    assert_eq!(colt_llm::Hyperparameters::read(&path).unwrap().sliding_window, None);
    let windowed: Vec<(&str, u32)> = shape.iter().copied().chain([("attention.sliding_window", 0)]).collect();
    std::fs::write(&path, gguf_with_hyperparameters(&windowed)).unwrap();
    let err = colt_llm::Hyperparameters::read(&path).unwrap_err().to_string();
    assert!(err.contains("`llama.attention.sliding_window` is 0") && err.contains("window0.gguf"), "{err}");
}

/// Layers on a GPU need a GPU backend and a device it finds; without them
/// llama.cpp would run every layer on the CPU and say nothing, so the load
/// is an error that names the file and the flag.
#[test]
fn gpu_layers_without_a_gpu_are_an_error_that_names_the_file() {
    let path = common::model_path(TEST_SMALL_MODEL_FILE);
    let on_gpu = Model::load_with(&path, &LoadOptions::default().gpu_layers(8));
    match (colt_llm::GPU_BACKEND, on_gpu) {
        (None, Ok(_)) => panic!("a CPU-only build loaded a model with layers on a GPU"),
        (None, Err(err)) => {
            let text = err.to_string();
            assert!(matches!(err, ModelError::NoGpu { gpu_layers: 8, .. }), "{err:?}");
            for part in [path.display().to_string().as_str(), "--gpu-layers 8", "without a GPU backend"] {
                assert!(text.contains(part), "`{part}` not in: {text}");
            }
        }
        // A GPU build: it loads where the backend finds a device, else the
        // error says that it found none.
        (Some(_), Ok(model)) => assert!(model.info().parameters > 0),
        (Some(name), Err(err)) => {
            assert!(err.to_string().contains(&format!("its {name} backend finds no GPU device")), "{err}")
        }
    }
    // No layer on a GPU is the CPU, with or without a backend.
    Model::load_with(&path, &LoadOptions::default()).expect("0 GPU layers loads on the CPU");
}
