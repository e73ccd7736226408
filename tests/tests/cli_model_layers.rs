//! `colt model-layers` on the default model files (real GGUFs as their
//! publishers made them): the tasks' shapes agree with the hyperparameters
//! read here, independently of colt, from the files' headers, and every
//! derived program verifies against the reference interpreter, naive and
//! as a random scheduled candidate.

use colt_e2e::{colt, json_line, repo_root, stderr, stdout};
use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// A GGUF metadata value as this test reads it: integers, strings and, for
/// arrays, their length.
#[derive(Debug, Clone)]
enum Value {
    Int(u64),
    Text(String),
    Array(u64),
    Other,
}

/// The metadata of a GGUF file (format:
/// <https://github.com/ggml-org/ggml/blob/master/docs/gguf.md>), read from
/// its first bytes without any of colt's code.
fn gguf_metadata(path: &Path) -> BTreeMap<String, Value> {
    let mut r = BufReader::new(std::fs::File::open(path).unwrap());
    let mut bytes = |n: usize| {
        let mut b = vec![0u8; n];
        r.read_exact(&mut b).unwrap();
        b
    };
    assert_eq!(bytes(4), b"GGUF");
    let _version = u32::from_le_bytes(bytes(4).try_into().unwrap());
    let _tensors = u64::from_le_bytes(bytes(8).try_into().unwrap());
    let entries = u64::from_le_bytes(bytes(8).try_into().unwrap());
    fn value(kind: u32, bytes: &mut dyn FnMut(usize) -> Vec<u8>) -> Value {
        let u = |b: Vec<u8>| b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64);
        match kind {
            0 | 2 | 4 | 10 => Value::Int(u(bytes([1, 0, 2, 0, 4, 0, 0, 0, 0, 0, 8][kind as usize]))),
            1 | 3 | 5 | 11 => {
                let size = [0, 1, 0, 2, 0, 4, 0, 0, 0, 0, 0, 8][kind as usize];
                let raw = u(bytes(size));
                let shift = 64 - 8 * size as u32;
                let signed = ((raw << shift) as i64) >> shift;
                if signed >= 0 {
                    Value::Int(signed as u64)
                } else {
                    Value::Other
                }
            }
            6 | 7 | 12 => {
                bytes([0, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 8][kind as usize]);
                Value::Other
            }
            8 => {
                let len = u(bytes(8)) as usize;
                Value::Text(String::from_utf8_lossy(&bytes(len)).into_owned())
            }
            9 => {
                let element = u(bytes(4)) as u32;
                let len = u(bytes(8));
                for _ in 0..len {
                    value(element, bytes);
                }
                Value::Array(len)
            }
            other => panic!("GGUF value type {other}"),
        }
    }
    let mut metadata = BTreeMap::new();
    for _ in 0..entries {
        let len = u64::from_le_bytes(bytes(8).try_into().unwrap()) as usize;
        let key = String::from_utf8(bytes(len)).unwrap();
        let kind = u32::from_le_bytes(bytes(4).try_into().unwrap());
        metadata.insert(key, value(kind, &mut bytes));
    }
    metadata
}

fn model(file: &str) -> PathBuf {
    repo_root().join("models").join(file)
}

/// Buffer shapes of a task's program, from its `shapes` column.
fn shape(task: &serde_json::Value, buffer: &str) -> Vec<u64> {
    let shapes = task["shapes"].as_str().unwrap();
    let start =
        shapes.find(&format!("{buffer}[")).unwrap_or_else(|| panic!("no {buffer} in {shapes}")) + buffer.len() + 1;
    let end = start + shapes[start..].find(']').unwrap();
    shapes[start..end].split(", ").map(|d| d.parse().unwrap()).collect()
}

fn check_model(file: &str, seq: u64) {
    let path = model(file);
    let meta = gguf_metadata(&path);
    let Some(Value::Text(arch)) = meta.get("general.architecture").cloned() else { panic!("no architecture") };
    let int = |key: &str| match meta.get(&format!("{arch}.{key}")) {
        Some(Value::Int(v)) => Some(*v),
        _ => None,
    };
    let (d, blocks, ffn, heads) = (
        int("embedding_length").unwrap(),
        int("block_count").unwrap(),
        int("feed_forward_length").unwrap(),
        int("attention.head_count").unwrap(),
    );
    let kv_heads = int("attention.head_count_kv").unwrap_or(heads);
    let dk = int("attention.key_length").unwrap_or(d / heads);
    let vocab = match (int("vocab_size"), meta.get("tokenizer.ggml.tokens")) {
        (Some(v), _) => v,
        (None, Some(Value::Array(n))) => *n,
        _ => panic!("no vocabulary size"),
    };
    let out = tempfile::tempdir().unwrap();
    let o = colt(&[
        "model-layers",
        path.to_str().unwrap(),
        "--seq",
        &seq.to_string(),
        "--json",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let tasks: Vec<serde_json::Value> = stdout(&o).lines().map(json_line).collect();
    let by_role = |role: &str| {
        tasks
            .iter()
            .find(|t| t["roles"].as_array().unwrap().iter().any(|r| r == role))
            .unwrap_or_else(|| panic!("{file}: no task does `{role}`"))
    };
    let count_of = |role: &str| -> u64 {
        tasks
            .iter()
            .filter(|t| t["roles"].as_array().unwrap().iter().any(|r| r == role))
            .map(|t| t["count"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(shape(by_role("q-proj"), "B"), [d, heads * dk], "{file}");
    assert_eq!(shape(by_role("k-proj"), "B"), [d, kv_heads * dk], "{file}");
    assert_eq!(shape(by_role("o-proj"), "A"), [seq, heads * dk], "{file}");
    assert_eq!(shape(by_role("mlp"), "Wg"), [d, ffn], "{file}");
    assert_eq!(shape(by_role("head"), "B"), [d, vocab], "{file}");
    let attention = tasks.iter().find(|t| t["task"].as_str().unwrap().ends_with("attention")).unwrap();
    assert_eq!(shape(attention, "Q"), [heads, seq, dk], "{file}");
    assert_eq!(shape(attention, "K"), [kv_heads, seq, dk], "{file}");
    let norms_per_block = if arch == "gemma3" { 4 } else { 2 };
    assert_eq!(count_of("norm"), norms_per_block * blocks + 1, "{file}");
    assert_eq!(count_of("mlp"), blocks, "{file}");
    let attention_layers: u64 = tasks
        .iter()
        .filter(|t| t["task"].as_str().unwrap().ends_with("attention"))
        .map(|t| t["count"].as_u64().unwrap())
        .sum();
    assert_eq!(attention_layers, blocks, "{file}");

    // Every task's program, from its file: naive and one random candidate
    // verify against the interpreter.
    let files: Vec<PathBuf> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), tasks.len());
    std::thread::scope(|scope| {
        for file in &files {
            scope.spawn(move || {
                for extra in [&[][..], &["--random", "--seed", "3"][..]] {
                    let mut args = vec!["run", file.to_str().unwrap(), "--quick", "--json"];
                    args.extend_from_slice(extra);
                    let o = colt(&args);
                    assert!(o.status.success(), "{} {extra:?}: {}", file.display(), stderr(&o));
                    assert_eq!(json_line(&stdout(&o))["verified"], true, "{}", stdout(&o));
                }
            });
        }
    });
}

#[test]
fn the_small_default_models_layers_match_its_header_and_verify() {
    check_model(colt_llm::TEST_SMALL_MODEL_FILE, 64);
}

#[test]
fn the_large_default_models_layers_match_its_header_and_verify() {
    check_model(colt_llm::TEST_LARGE_MODEL_FILE, 64);
}

#[test]
fn model_layers_errors_name_what_is_wrong() {
    let o = colt(&["model-layers", "/nonexistent/model.gguf"]);
    assert!(!o.status.success() && stderr(&o).contains("/nonexistent/model.gguf"), "{}", stderr(&o));
    let o = colt(&["model-layers", model(colt_llm::TEST_SMALL_MODEL_FILE).to_str().unwrap(), "--seq", "0"]);
    assert!(!o.status.success() && stderr(&o).contains("--seq 0: a sequence is 1 to 8192"), "{}", stderr(&o));
    let o = colt(&["model-layers", model(colt_llm::TEST_SMALL_MODEL_FILE).to_str().unwrap(), "--seq", "100000"]);
    assert!(!o.status.success() && stderr(&o).contains("8192"), "{}", stderr(&o));
}
