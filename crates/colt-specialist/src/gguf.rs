//! Writes a model as a GGUF of llama.cpp's `llama` architecture, F32
//! weights, with a SentencePiece-style vocabulary of the given token
//! strings, so that llama.cpp loads and runs it like any other model.
//! Format: <https://github.com/ggml-org/ggml/blob/master/docs/gguf.md>.

use crate::error::SpecialistError;
use crate::train::Model;
use std::io::Write;
use std::path::Path;

const ALIGNMENT: usize = 32;
/// The tokens the vocabulary must start with, in this order: llama's
/// unknown, beginning-of-sequence and end-of-sequence tokens.
pub const SPECIAL_TOKENS: [&str; 3] = ["<unk>", "<s>", "</s>"];

/// GGUF's value types (the subset written here).
#[derive(Clone, Copy)]
#[repr(u32)]
enum ValueType {
    U32 = 4,
    I32 = 5,
    F32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
}

enum Value<'a> {
    U32(u32),
    F32(f32),
    Bool(bool),
    Str(&'a str),
    Strings(&'a [String]),
    F32s(Vec<f32>),
    I32s(Vec<i32>),
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_kv(out: &mut Vec<u8>, key: &str, value: Value) {
    put_str(out, key);
    let ty = |out: &mut Vec<u8>, t: ValueType| out.extend_from_slice(&(t as u32).to_le_bytes());
    let array = |out: &mut Vec<u8>, t: ValueType, len: usize| {
        ty(out, ValueType::Array);
        ty(out, t);
        out.extend_from_slice(&(len as u64).to_le_bytes());
    };
    match value {
        Value::U32(v) => {
            ty(out, ValueType::U32);
            out.extend_from_slice(&v.to_le_bytes());
        }
        Value::F32(v) => {
            ty(out, ValueType::F32);
            out.extend_from_slice(&v.to_le_bytes());
        }
        Value::Bool(v) => {
            ty(out, ValueType::Bool);
            out.push(u8::from(v));
        }
        Value::Str(s) => {
            ty(out, ValueType::String);
            put_str(out, s);
        }
        Value::Strings(items) => {
            array(out, ValueType::String, items.len());
            items.iter().for_each(|s| put_str(out, s));
        }
        Value::F32s(items) => {
            array(out, ValueType::F32, items.len());
            items.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
        }
        Value::I32s(items) => {
            array(out, ValueType::I32, items.len());
            items.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
        }
    }
}

/// The GGUF bytes of `model`, named `name`, its tokens spelled `tokens`
/// (which must start with [`SPECIAL_TOKENS`] and be distinct), with the
/// string metadata `extra` besides llama.cpp's keys (colt's own, such as
/// which vocabulary the tokens are).
pub fn gguf_bytes(
    model: &Model,
    name: &str,
    tokens: &[String],
    extra: &[(String, String)],
) -> Result<Vec<u8>, SpecialistError> {
    let c = &model.config;
    c.check()?;
    let fail = |reason: String| Err(SpecialistError::Vocabulary { reason });
    if tokens.len() != c.vocab {
        return fail(format!("{} token strings for a model of {} tokens", tokens.len(), c.vocab));
    }
    if tokens.iter().zip(SPECIAL_TOKENS).any(|(t, s)| t != s) {
        return fail(format!("it must start with {SPECIAL_TOKENS:?}, not {:?}", &tokens[..3.min(tokens.len())]));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = tokens.iter().find(|t| !seen.insert(t.as_str())) {
        return fail(format!("the token `{dup}` is spelled twice"));
    }
    let u32_of = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    let token_types: Vec<i32> = (0..tokens.len()).map(|i| [2, 3, 3].get(i).copied().unwrap_or(1)).collect();
    let mut metadata: Vec<(&str, Value)> = vec![
        ("general.architecture", Value::Str("llama")),
        ("general.name", Value::Str(name)),
        // 0: every tensor is F32.
        ("general.file_type", Value::U32(0)),
        ("general.alignment", Value::U32(ALIGNMENT as u32)),
        ("llama.vocab_size", Value::U32(u32_of(c.vocab))),
        ("llama.context_length", Value::U32(u32_of(c.context))),
        ("llama.embedding_length", Value::U32(u32_of(c.dim))),
        ("llama.block_count", Value::U32(u32_of(c.layers))),
        ("llama.feed_forward_length", Value::U32(u32_of(c.ffn))),
        ("llama.attention.head_count", Value::U32(u32_of(c.heads))),
        ("llama.attention.head_count_kv", Value::U32(u32_of(c.heads))),
        ("llama.rope.dimension_count", Value::U32(u32_of(c.head_dim()))),
        ("llama.rope.freq_base", Value::F32(c.rope_base)),
        ("llama.attention.layer_norm_rms_epsilon", Value::F32(c.norm_eps)),
        ("tokenizer.ggml.model", Value::Str("llama")),
        ("tokenizer.ggml.tokens", Value::Strings(tokens)),
        ("tokenizer.ggml.scores", Value::F32s(vec![0.0; tokens.len()])),
        ("tokenizer.ggml.token_type", Value::I32s(token_types)),
        ("tokenizer.ggml.unknown_token_id", Value::U32(0)),
        ("tokenizer.ggml.bos_token_id", Value::U32(1)),
        ("tokenizer.ggml.eos_token_id", Value::U32(2)),
        ("tokenizer.ggml.add_bos_token", Value::Bool(false)),
        ("tokenizer.ggml.add_eos_token", Value::Bool(false)),
    ];
    metadata.extend(extra.iter().map(|(k, v)| (k.as_str(), Value::Str(v))));
    let specs = c.tensors();
    let mut out = Vec::new();
    out.extend_from_slice(b"GGUF");
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&(specs.len() as u64).to_le_bytes());
    out.extend_from_slice(&(metadata.len() as u64).to_le_bytes());
    for (key, value) in metadata {
        put_kv(&mut out, key, value);
    }
    let mut data_offset = 0usize;
    for spec in &specs {
        put_str(&mut out, &spec.name);
        // A norm is a vector: one dimension, as llama.cpp expects it.
        let dims: Vec<u64> =
            if spec.rows == 1 { vec![spec.cols as u64] } else { vec![spec.cols as u64, spec.rows as u64] };
        out.extend_from_slice(&(dims.len() as u32).to_le_bytes());
        dims.iter().for_each(|d| out.extend_from_slice(&d.to_le_bytes()));
        out.extend_from_slice(&0u32.to_le_bytes()); // GGML_TYPE_F32
        out.extend_from_slice(&(data_offset as u64).to_le_bytes());
        data_offset += (spec.rows * spec.cols * 4).next_multiple_of(ALIGNMENT);
    }
    for spec in &specs {
        out.resize(out.len().next_multiple_of(ALIGNMENT), 0);
        let values = &model.params[spec.offset..spec.offset + spec.rows * spec.cols];
        values.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
    }
    Ok(out)
}

/// Writes [`gguf_bytes`] to `path`.
pub fn write_gguf(
    path: &Path,
    model: &Model,
    name: &str,
    tokens: &[String],
    extra: &[(String, String)],
) -> Result<(), SpecialistError> {
    let bytes = gguf_bytes(model, name, tokens, extra)?;
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(path)?;
        file.write_all(&bytes)?;
        file.sync_all()
    };
    write().map_err(|source| SpecialistError::Write { path: path.to_path_buf(), source })
}
