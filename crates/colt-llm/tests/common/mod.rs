//! What the tests share: the real default models, loaded once per test
//! binary. A missing model fails the test (never skips it) with the command
//! that fetches it.

#![allow(dead_code)]

use colt_llm::{Model, SessionOptions, TEST_LARGE_MODEL_FILE, TEST_SMALL_MODEL_FILE};
use std::path::PathBuf;
use std::sync::OnceLock;

pub fn model_path(file: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models").join(file);
    assert!(
        path.is_file(),
        "the default model {} is missing: run `bash scripts/fetch-models.sh` from the repository root (CI's scripts/setup.sh does)",
        path.display()
    );
    path
}

pub fn small_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| Model::load(model_path(TEST_SMALL_MODEL_FILE)).expect("the tests' small model loads"))
}

pub fn large_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| Model::load(model_path(TEST_LARGE_MODEL_FILE)).expect("the tests' large model loads"))
}

/// Tests run in parallel on CI's 2 cores: one thread per session.
pub fn options() -> SessionOptions {
    SessionOptions::default().threads(1).context_tokens(1024)
}
