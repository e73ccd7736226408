//! Metadata read from the real default models' GGUF headers.

mod common;

use colt_llm::{
    ChatFormat, ModelInfo, LARGE_MODEL_FILE, SMALL_MODEL_FILE, TEST_LARGE_MODEL_FILE, TEST_SMALL_MODEL_FILE,
};

fn within_one_percent(actual: u64, known: u64) -> bool {
    (actual as f64 - known as f64).abs() <= 0.01 * known as f64
}

#[test]
fn small_model_metadata() {
    let info = ModelInfo::read(common::model_path(TEST_SMALL_MODEL_FILE)).unwrap();
    assert_eq!(info.architecture, "llama");
    assert!(info.name.to_lowercase().contains("smollm2"), "{}", info.name);
    assert!(within_one_percent(info.parameters, 135_000_000), "{}", info.parameters);
    assert_eq!(info.quantisation, "Q4_1");
    assert_eq!(info.context_length, Some(8192));
    assert!(info.chat_template.as_deref().is_some_and(|t| t.contains("<|im_start|>")));
    assert_eq!(info.file_bytes, 98_362_432);
}

#[test]
fn large_model_metadata() {
    let info = ModelInfo::read(common::model_path(TEST_LARGE_MODEL_FILE)).unwrap();
    assert_eq!(info.architecture, "gemma3");
    assert!(within_one_percent(info.parameters, 268_000_000), "{}", info.parameters);
    assert_eq!(info.quantisation, "Q4_K_M");
    assert_eq!(info.context_length, Some(32768));
    assert_eq!(info.chat_template, None);
}

#[test]
fn loading_agrees_with_the_header_and_picks_a_chat_format() {
    let small = common::small_model();
    assert_eq!(small.info(), &ModelInfo::read(common::model_path(TEST_SMALL_MODEL_FILE)).unwrap());
    assert!(matches!(small.chat_format(), ChatFormat::Template(_)));
    let text = small.format(&colt_llm::ChatPrompt::new("Be brief.", "Hi")).unwrap();
    assert!(text.starts_with("<|im_start|>system\nBe brief.<|im_end|>"), "{text}");
    assert!(text.ends_with("<|im_start|>assistant\n"), "{text}");

    let large = common::large_model();
    assert_eq!(large.chat_format(), &ChatFormat::Plain);
    let text = large.format(&colt_llm::ChatPrompt::new("Be brief.", "Hi")).unwrap();
    assert_eq!(text, "Be brief.\n\nUser: Hi\nAssistant:");
}

#[test]
fn default_models_are_found_and_missing_ones_say_how_to_fetch_them() {
    let paths = colt_llm::default_model_paths().unwrap();
    let names: Vec<_> = paths.iter().map(|p| p.file_name().unwrap().to_str().unwrap()).collect();
    assert_eq!(names, [SMALL_MODEL_FILE, LARGE_MODEL_FILE]);
    assert!(paths.iter().all(|p| p.is_file()));
    let empty = tempfile::tempdir().unwrap();
    let err = colt_llm::model_paths_in(empty.path()).unwrap_err().to_string();
    assert!(err.contains("bash scripts/fetch-models.sh") && err.contains(SMALL_MODEL_FILE), "{err}");
}
