//! `colt models`: one JSON line per model with what its GGUF file says.

use anyhow::{anyhow, Result};
use colt_llm::{ChatFormat, Model};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ModelsArgs {
    /// GGUF files to describe; without any, the default models in `models/`
    /// (fetched by `bash scripts/fetch-models.sh`).
    paths: Vec<PathBuf>,
}

/// Loads each model (validating its file and that llama.cpp can run it) and
/// prints its metadata as soon as it is read; a bad file is reported on
/// stderr and the others are still described.
pub fn run(args: &ModelsArgs, emit: impl Fn(&str)) -> Result<()> {
    let paths = if args.paths.is_empty() { colt_llm::default_model_paths()? } else { args.paths.clone() };
    let mut failed = 0;
    for path in &paths {
        match Model::load(path) {
            Ok(model) => emit(&format!("{}\n", describe(&model)?)),
            Err(e) => {
                eprintln!("colt: error: {e}");
                failed += 1;
            }
        }
    }
    match failed {
        0 => Ok(()),
        _ => Err(anyhow!("{failed} of {} model files could not be loaded", paths.len())),
    }
}

/// The model's metadata, its transformer blocks (what `--gpu-layers`
/// counts; null where colt cannot read them) and the chat format colt will
/// use with it (`template`: its own; `plain`: the documented fallback).
fn describe(model: &Model) -> Result<String> {
    let mut json = serde_json::to_value(model.info())?;
    json["blocks"] = colt_llm::Hyperparameters::read(&model.info().path).ok().map(|h| h.blocks).into();
    let format = match model.chat_format() {
        ChatFormat::Template(_) => "template",
        ChatFormat::Plain => "plain",
    };
    json["chat_format"] = format.into();
    Ok(json.to_string())
}
