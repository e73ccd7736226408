//! `colt models`: one JSON line per GGUF file, errors that name the file.

use colt_e2e::{colt, repo_root, stderr, stdout};

const SMALL: &str = "models/SmolLM2-135M-Instruct.Q4_1.gguf";
const LARGE: &str = "models/gemma-3-270m-q4_k_m.gguf";

fn require_models() {
    for m in [SMALL, LARGE] {
        assert!(repo_root().join(m).is_file(), "{m} is missing: run `bash scripts/fetch-models.sh`");
    }
}

#[test]
fn models_prints_one_json_line_per_file() {
    require_models();
    let out = colt(&["models", SMALL, LARGE]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for (line, fields) in lines.iter().zip([
        [
            r#""architecture":"llama""#,
            r#""parameters":134515008"#,
            r#""quantisation":"Q4_1""#,
            r#""chat_format":"template""#,
            r#""blocks":30"#,
        ],
        [
            r#""architecture":"gemma3""#,
            r#""parameters":268098176"#,
            r#""quantisation":"Q4_K_M""#,
            r#""chat_template":null"#,
            r#""blocks":18"#,
        ],
    ]) {
        assert!(line.starts_with('{') && line.ends_with('}'), "{line}");
        for field in fields {
            assert!(line.contains(field), "{field} not in {line}");
        }
    }
}

#[test]
fn models_without_paths_describes_the_default_models() {
    require_models();
    let out = colt(&["models"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 2);
}

#[test]
fn a_bad_file_is_named_and_the_others_are_still_described() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("notes.gguf");
    std::fs::write(&bad, "not a model").unwrap();
    let out = colt(&["models", bad.to_str().unwrap(), SMALL]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out).lines().count(), 1);
    let err = stderr(&out);
    assert!(err.contains(&format!("model file {} is not a GGUF file", bad.display())), "{err}");
}
