//! The specialist's GGUF in llama.cpp: a model trained by colt-specialist,
//! written as a GGUF, loaded through colt-llm, gives llama.cpp's logits
//! what colt-specialist's own forward pass gives, and decodes what it was
//! trained to answer.

use colt_llm::{Model as LlamaModel, ModelInfo, SessionOptions};
use colt_specialist::{write_gguf, Config, Example, Model, TrainOptions, Trainer};

const SYMBOLS: u32 = 8;
const SEPARATOR: u32 = 3;

fn tokens() -> Vec<String> {
    let mut tokens: Vec<String> = ["<unk>", "<s>", "</s>", "|"].map(String::from).to_vec();
    tokens.extend((0..SYMBOLS).map(|i| char::from(b'a' + i as u8).to_string()));
    tokens
}

/// `<s> w | reverse(w) </s>` for the word of five symbols numbered `n`.
fn reversal(n: u64) -> Example {
    let mut x = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let word: Vec<u32> = (0..5)
        .map(|_| {
            x ^= x >> 29;
            x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
            4 + (x >> 40) as u32 % SYMBOLS
        })
        .collect();
    let mut tokens = vec![1];
    tokens.extend(&word);
    tokens.push(SEPARATOR);
    let answer_start = tokens.len();
    tokens.extend(word.iter().rev());
    tokens.push(2);
    Example { tokens, answer_start }
}

fn trained() -> Model {
    let config = Config::new(4 + SYMBOLS as usize, 32, 2, 4, 16);
    let options = TrainOptions { steps: 600, ..TrainOptions::default() };
    let mut trainer = Trainer::new(Model::init(config, 7).unwrap(), options.clone());
    for step in 0..options.steps as u64 {
        let batch: Vec<Example> = (0..32).map(|k| reversal(step * 32 + k)).collect();
        trainer.step(&batch).unwrap();
    }
    trainer.model
}

#[test]
fn llama_cpp_runs_the_trained_specialist_as_colt_computes_it() {
    let model = trained();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("specialist.gguf");
    let extra = [("colt.specialist.vocabulary".to_string(), "reversal-test".to_string())];
    write_gguf(&path, &model, "colt-specialist-test", &tokens(), &extra).unwrap();

    let info = ModelInfo::read(&path).unwrap();
    assert_eq!((info.architecture.as_str(), info.name.as_str()), ("llama", "colt-specialist-test"));
    assert_eq!(info.parameters as usize, model.config.parameters());
    assert_eq!(info.context_length, Some(16));
    assert_eq!(info.specialist_vocabulary.as_deref(), Some("reversal-test"));

    let llama = LlamaModel::load(&path).unwrap();
    let mut session = llama.session(SessionOptions::default().threads(2).context_tokens(16)).unwrap();
    let vocab = model.config.vocab;
    let error = session.next_token_logits(&[1, 99], 2).unwrap_err().to_string();
    assert!(error.contains("token id 99 is outside the model's vocabulary of 12"), "{error}");
    assert!(session.next_token_logits(&[], 0).is_err());
    let mut worst = 0.0f32;
    // Words it never trained on: prefixes of every length, prompt and answer.
    for n in 1_000_000..1_000_020 {
        let example = reversal(n);
        for len in 1..example.tokens.len() {
            let prefix = &example.tokens[..len];
            let ours = model.logits(prefix);
            let ours = &ours[(len - 1) * vocab..];
            let ids: Vec<i32> = prefix.iter().map(|&t| t as i32).collect();
            let (theirs, stats) = session.next_token_logits(&ids, example.answer_start.min(len)).unwrap();
            assert_eq!(theirs.len(), vocab);
            assert_eq!(stats.prompt_tokens, len);
            let diff = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            let scale = ours.iter().map(|a| a.abs()).fold(0.0, f32::max);
            assert!(diff <= 1e-2 * scale.max(1.0), "word {n}, {len} tokens: logits differ by {diff} (largest {scale})");
            worst = worst.max(diff / scale.max(1.0));
        }
    }
    eprintln!("worst difference of llama.cpp's logits from colt's: {worst:.2e} of the largest");

    // Greedy decoding through llama.cpp answers the reversal it learned.
    let mut right = 0;
    for n in 2_000_000..2_000_020 {
        let example = reversal(n);
        let mut ids: Vec<i32> = example.tokens[..example.answer_start].iter().map(|&t| t as i32).collect();
        while ids.len() < example.tokens.len() {
            let (logits, _) = session.next_token_logits(&ids, example.answer_start).unwrap();
            let best = (0..vocab).max_by(|&a, &b| logits[a].total_cmp(&logits[b])).unwrap();
            ids.push(best as i32);
        }
        right += usize::from(ids.iter().zip(&example.tokens).all(|(&a, &b)| a as u32 == b));
    }
    assert!(right >= 18, "{right} of 20 words reversed");
}

#[test]
fn a_vocabulary_that_does_not_fit_the_model_is_refused() {
    let model = Model::init(Config::new(12, 16, 1, 2, 8), 1).unwrap();
    let path = std::env::temp_dir().join("colt-never-written.gguf");
    let mut short = tokens();
    short.pop();
    let error = write_gguf(&path, &model, "x", &short, &[]).unwrap_err().to_string();
    assert!(error.contains("11 token strings for a model of 12 tokens"), "{error}");
    let mut swapped = tokens();
    swapped.swap(1, 2);
    let error = write_gguf(&path, &model, "x", &swapped, &[]).unwrap_err().to_string();
    assert!(error.contains(r#"must start with ["<unk>", "<s>", "</s>"]"#), "{error}");
    let mut twice = tokens();
    twice[5] = "a".into();
    let error = write_gguf(&path, &model, "x", &twice, &[]).unwrap_err().to_string();
    assert!(error.contains("the token `a` is spelled twice"), "{error}");
    let unwritable = std::path::Path::new("/proc/colt-no/specialist.gguf");
    let error = write_gguf(unwritable, &model, "x", &tokens(), &[]).unwrap_err().to_string();
    assert!(error.starts_with("cannot write `/proc/colt-no/specialist.gguf`"), "{error}");
    assert!(!path.exists());
}
