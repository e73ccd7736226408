//! What a GGUF file says about its model, read without loading it.

use crate::error::ModelError;
use crate::gguf::GgufHeader;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The GGUF key that marks colt's own models and names their vocabulary.
pub const SPECIALIST_VOCABULARY_KEY: &str = "colt.specialist.vocabulary";

/// A model's metadata, as its GGUF header states it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelInfo {
    /// The file it was read from.
    pub path: PathBuf,
    /// `general.name`, or the file's stem when the file has none.
    pub name: String,
    /// `general.architecture` (`llama`, `gemma3`, ...).
    pub architecture: String,
    /// Number of weights: the sum of the element counts of all tensors (what
    /// llama.cpp's `llama_model_n_params` reports). The routing policy ranks
    /// models by it.
    pub parameters: u64,
    /// The quantisation named by `general.file_type` (`Q4_1`, `Q4_K_M`, ...),
    /// or `unknown` when the file does not say.
    pub quantisation: String,
    /// `<architecture>.context_length`: the context the model was trained with.
    pub context_length: Option<u64>,
    /// `tokenizer.chat_template` (a Jinja template), when the file has one.
    pub chat_template: Option<String>,
    /// Size of the file in bytes.
    pub file_bytes: u64,
    /// `colt.specialist.vocabulary`: set in colt's own models (written by
    /// `colt train`), which are prompted in colt's schedule language with
    /// this vocabulary rather than chatted with.
    pub specialist_vocabulary: Option<String>,
}

impl ModelInfo {
    /// Reads and validates the GGUF at `path` (every length bounded by the
    /// file's size, the tensor data inside the file, the hyperparameters
    /// llama.cpp asserts on; see `gguf.rs`) and extracts its metadata; does
    /// not load the weights.
    pub fn read(path: impl AsRef<Path>) -> Result<ModelInfo, ModelError> {
        let path = path.as_ref();
        let header = GgufHeader::read(path)?;
        let text = |key: &str| header.metadata.get(key).and_then(|v| v.as_str()).map(str::to_string);
        let architecture = text("general.architecture").ok_or_else(|| ModelError::Malformed {
            path: path.to_path_buf(),
            offset: 0,
            reason: "no `general.architecture` string in the metadata".into(),
        })?;
        check_hyperparameters(path, &architecture, &|key| header.metadata.get(key).map(|v| v.as_u64()))?;
        let stem = || path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let quantisation = match header.metadata.get("general.file_type").and_then(|v| v.as_u64()) {
            Some(t) => file_type_name(t).map_or_else(|| format!("file_type {t}"), str::to_string),
            None => "unknown".to_string(),
        };
        Ok(ModelInfo {
            path: path.to_path_buf(),
            name: text("general.name").unwrap_or_else(stem),
            parameters: header.tensors.iter().map(|t| t.elements()).sum(),
            quantisation,
            context_length: header.metadata.get(&format!("{architecture}.context_length")).and_then(|v| v.as_u64()),
            chat_template: text("tokenizer.chat_template"),
            file_bytes: header.file_bytes,
            specialist_vocabulary: text(SPECIALIST_VOCABULARY_KEY),
            architecture,
        })
    }
}

/// A transformer's shape as its GGUF header states it: what colt needs to
/// derive the model's layer programs (`colt model-layers`). Keys are
/// llama.cpp's (`<architecture>.embedding_length`, ...); where a key is
/// optional, llama.cpp's default is taken (key length = embedding / heads,
/// value length = key length, KV heads = heads, no experts).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hyperparameters {
    pub architecture: String,
    pub embedding: u64,
    pub blocks: u64,
    pub feed_forward: u64,
    pub heads: u64,
    pub kv_heads: u64,
    pub key_length: u64,
    pub value_length: u64,
    /// `<arch>.vocab_size`, else the length of `tokenizer.ggml.tokens`.
    pub vocabulary: u64,
    pub experts: u64,
    pub experts_used: u64,
    pub expert_feed_forward: u64,
    pub rms_epsilon: f64,
    pub sliding_window: Option<u64>,
}

impl Hyperparameters {
    /// Reads them from the GGUF at `path` (validated as [`ModelInfo::read`]
    /// does). A missing required key, or one that is not a single integer
    /// (a per-layer array), is a [`ModelError::Layers`] naming it.
    pub fn read(path: impl AsRef<Path>) -> Result<Hyperparameters, ModelError> {
        let path = path.as_ref();
        let info = ModelInfo::read(path)?;
        let header = GgufHeader::read(path)?;
        let arch = info.architecture;
        let fail = |reason: String| ModelError::Layers { path: path.to_path_buf(), reason };
        let int = |name: &str| -> Result<Option<u64>, ModelError> {
            let key = format!("{arch}.{name}");
            match header.metadata.get(&key) {
                None => Ok(None),
                Some(v) => v.as_u64().map(Some).ok_or_else(|| fail(format!("`{key}` is not one integer"))),
            }
        };
        let required = |name: &str| int(name)?.ok_or_else(|| fail(format!("no `{arch}.{name}` in the metadata")));
        let embedding = required("embedding_length")?;
        let heads = required("attention.head_count")?;
        if heads == 0 {
            return Err(fail(format!("`{arch}.attention.head_count` is 0")));
        }
        let key_length = int("attention.key_length")?.unwrap_or(embedding / heads);
        let feed_forward = required("feed_forward_length")?;
        let vocabulary = match int("vocab_size")? {
            Some(v) => v,
            None => match header.metadata.get("tokenizer.ggml.tokens") {
                Some(crate::gguf::MetaValue::Array { len }) => *len,
                _ => return Err(fail(format!("neither `{arch}.vocab_size` nor `tokenizer.ggml.tokens`"))),
            },
        };
        Ok(Hyperparameters {
            embedding,
            blocks: required("block_count")?,
            feed_forward,
            heads,
            kv_heads: int("attention.head_count_kv")?.unwrap_or(heads),
            key_length,
            value_length: int("attention.value_length")?.unwrap_or(key_length),
            vocabulary,
            experts: int("expert_count")?.unwrap_or(0),
            experts_used: int("expert_used_count")?.unwrap_or(0),
            expert_feed_forward: int("expert_feed_forward_length")?.unwrap_or(feed_forward),
            rms_epsilon: header
                .metadata
                .get(&format!("{arch}.attention.layer_norm_rms_epsilon"))
                .and_then(|v| v.as_f64())
                .unwrap_or(1e-5),
            sliding_window: match int("attention.sliding_window")? {
                // Every score of a local attention layer masked: NaN.
                Some(0) => {
                    return Err(fail(format!(
                        "`{arch}.attention.sliding_window` is 0: a sliding window holds at least one key"
                    )))
                }
                window => window,
            },
            architecture: arch.clone(),
        })
    }
}

/// llama.cpp's `LLAMA_MAX_LAYERS` and `LLAMA_MAX_EXPERTS` (src/llama-hparams.h).
const MAX_LAYERS: u64 = 512;
const MAX_EXPERTS: u64 = 1024;

/// The hyperparameters llama.cpp checks with `GGML_ASSERT` when it loads a
/// model (`llm_load_hparams` in src/llama-model.cpp), checked here first:
/// an assert aborts the whole process, where this is an error naming the
/// file. `int(key)` is `None` for an absent key (llama.cpp's default then
/// applies: 0 for the expert counts) and `Some(None)` for one that is not
/// an integer (a per-layer array, or a type llama.cpp refuses with an
/// exception, a [`ModelError::Rejected`]): those are left to llama.cpp.
fn check_hyperparameters(path: &Path, arch: &str, int: &dyn Fn(&str) -> Option<Option<u64>>) -> Result<(), ModelError> {
    let key = |name: &str| format!("{arch}.{name}");
    let fail = |name: &str, reason: String| {
        Err(ModelError::Hyperparameter { path: path.to_path_buf(), key: key(name), reason })
    };
    // A key's integer value, its default when absent, or None (not ours).
    let value = |name: &str, default: Option<u64>| match int(&key(name)) {
        None => default,
        Some(v) => v,
    };
    let blocks = value("block_count", None);
    if let Some(n) = blocks {
        if !(1..=MAX_LAYERS).contains(&n) {
            return fail("block_count", format!("is {n}, not in 1..={MAX_LAYERS}"));
        }
    }
    if let (Some(nextn), Some(n)) = (value("nextn_predict_layers", None), blocks) {
        if nextn > n {
            return fail("nextn_predict_layers", format!("is {nextn}, more than the {n} blocks"));
        }
    }
    let (Some(experts), Some(groups), Some(groups_used)) = (
        value("expert_count", Some(0)),
        value("expert_group_count", Some(0)),
        value("expert_group_used_count", Some(0)),
    ) else {
        return Ok(());
    };
    if experts > MAX_EXPERTS {
        return fail("expert_count", format!("is {experts}, more than {MAX_EXPERTS}"));
    }
    if let Some(used) = value("expert_used_count", Some(0)) {
        if used > experts {
            return fail("expert_used_count", format!("is {used}, more than the {experts} experts"));
        }
        if experts > 0 && used == 0 {
            return fail("expert_used_count", format!("is 0 (or absent) with {experts} experts"));
        }
    }
    if experts > 0 {
        if groups >= experts {
            return fail("expert_group_count", format!("is {groups}, not fewer than the {experts} experts"));
        }
        if groups > 1 && (experts % groups != 0 || groups_used == 0 || groups_used >= groups) {
            return fail(
                "expert_group_count",
                format!(
                    "is {groups} with {experts} experts and {groups_used} groups used \
                     (it must divide the experts, and 0 < used < groups)"
                ),
            );
        }
    } else if groups > 0 {
        return fail("expert_group_count", format!("is {groups} with no experts"));
    }
    Ok(())
}

/// llama.cpp's `llama_ftype` names (include/llama.h), as its quantize tool
/// spells them.
fn file_type_name(file_type: u64) -> Option<&'static str> {
    Some(match file_type {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        19 => "IQ2_XXS",
        20 => "IQ2_XS",
        21 => "Q2_K_S",
        22 => "IQ3_XS",
        23 => "IQ3_XXS",
        24 => "IQ1_S",
        25 => "IQ4_NL",
        26 => "IQ3_S",
        27 => "IQ3_M",
        28 => "IQ2_S",
        29 => "IQ2_M",
        30 => "IQ4_XS",
        31 => "IQ1_M",
        32 => "BF16",
        36 => "TQ1_0",
        37 => "TQ2_0",
        38 => "MXFP4_MOE",
        39 => "NVFP4",
        40 => "Q1_0",
        41 => "Q2_0",
        _ => return None,
    })
}
