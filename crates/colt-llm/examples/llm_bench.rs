//! Throughput of colt-llm on GGUF models, measured the way llama.cpp's
//! `llama-bench` measures it, plus what grammars and prefix reuse change.
//!
//! ```text
//! cargo run --release -p colt-llm --example llm_bench -- [--threads 2] [--reps 3] [--throughput-only] [--gpu-layers N] [MODEL.gguf ...]
//! ```
//!
//! Without model paths it runs on both default models; `--gpu-layers N`
//! offloads N layers to a GPU (a build with `--features cuda` or `vulkan`).
//! Per model it prints:
//! - `pp512`: prompt processing, tokens/s, a 512-token prompt in one batch;
//! - `tg128`: generation, tokens/s, 128 tokens sampled (top-40,
//!   temperature 0.8) and decoded one at a time;
//! - `tg grammar`: generation under a bounded JSON grammar like colt's
//!   joint actions;
//! - `call cold` / `call reused`: seconds per call of a ~1000-token system
//!   message plus a short request answered under that grammar, without and
//!   with reuse of the system message's KV state.
//!
//! `crates/colt-llm/examples/llama_raw_bench.cpp` measures pp512 and tg128
//! with llama.cpp's C API alone on the same library build, for comparison.

use colt_llm::{default_model_paths, ChatPrompt, Generation, Grammar, LoadOptions, Model, SessionOptions, StopReason};
use std::path::PathBuf;
use std::time::Instant;

const GRAMMAR: &str = r#"
root  ::= "{\"edits\": [" (edit ("," edit){0,2})? "], \"next_model\": \"" model "\"}"
edit  ::= "{\"op\": \"" op "\", \"loop\": " [0-9] ", \"factor\": " ("2" | "4" | "8" | "16") "}"
op    ::= "split" | "unroll" | "vectorize" | "parallel" | "reorder"
model ::= "small" | "large"
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut threads = 2;
    let mut reps = 3;
    let mut calls = true;
    let mut load = LoadOptions::default();
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--threads" => threads = args.next().ok_or("--threads N")?.parse()?,
            "--reps" => reps = args.next().ok_or("--reps N")?.parse()?,
            "--throughput-only" => calls = false,
            "--gpu-layers" => load = load.gpu_layers(args.next().ok_or("--gpu-layers N")?.parse()?),
            _ => paths.push(PathBuf::from(arg)),
        }
    }
    if paths.is_empty() {
        paths = default_model_paths()?;
    }
    println!("threads {threads}, {} GPU layers, {reps} repetitions, mean ± spread (min..max)", load.gpu_layers);
    for path in paths {
        let model = Model::load_with(&path, &load)?;
        println!(
            "\n{} ({}, {} parameters, {})",
            model.info().name,
            model.info().architecture,
            model.info().parameters,
            model.info().quantisation
        );
        bench(&model, threads, reps, calls)?;
    }
    Ok(())
}

fn bench(model: &Model, threads: u32, reps: usize, calls: bool) -> Result<(), Box<dyn std::error::Error>> {
    let options = SessionOptions::default().threads(threads).context_tokens(2048).batch_tokens(512);

    // pp512: a prompt of exactly 512 tokens, cold each time.
    let prompt = prompt_of_tokens(model, 512)?;
    let mut session = model.session(options.clone().reuse_prefix(false))?;
    session.complete(&prompt, &Generation::new(1))?; // warm-up
    let pp: Vec<f64> = (0..reps)
        .map(|_| session.complete(&prompt, &Generation::new(1)).map(|c| c.stats.prompt_tokens_per_second()))
        .collect::<Result<_, _>>()?;
    report("pp512 tok/s", &pp);

    // tg128: counting keeps the model going; a stop before 128 still counts.
    // The prompt is short because llama-bench generates from an empty cache
    // and attention's cost grows with the tokens before.
    let counting = "1, 2, 3,";
    let tg: Vec<f64> = (0..reps)
        .map(|seed| {
            session.complete(counting, &Generation::new(128).seed(seed as u32)).map(|c| {
                if c.stats.generated_tokens < 128 {
                    eprintln!("  (tg stopped after {} tokens)", c.stats.generated_tokens);
                }
                c.stats.generated_tokens_per_second()
            })
        })
        .collect::<Result<_, _>>()?;
    report("tg128 tok/s", &tg);
    if !calls {
        return Ok(());
    }

    // Grammar-constrained answers, and what prefix reuse saves per call.
    let system = system_message(model, 1000)?;
    let grammar = Grammar::gbnf(GRAMMAR);
    let requests = ["Speed up the matmul.", "The last split was slower.", "Vectorize the inner loop.", "Try parallel."];
    let mut tg_grammar = Vec::new();
    for (reuse, label) in [(false, "call cold s"), (true, "call reused s")] {
        let mut session = model.session(options.clone().reuse_prefix(reuse))?;
        session.chat(&ChatPrompt::new(&system, "Warm up."), &Generation::new(40).grammar(grammar.clone()))?;
        let mut seconds = Vec::new();
        let mut prompt_seconds = Vec::new();
        for i in 0..reps.max(4) {
            let prompt = ChatPrompt::new(&system, requests[i % requests.len()]);
            let start = Instant::now();
            let c = session.chat(&prompt, &Generation::new(192).seed(i as u32).grammar(grammar.clone()))?;
            seconds.push(start.elapsed().as_secs_f64());
            prompt_seconds.push(c.stats.prompt_seconds);
            if c.stop != StopReason::EndOfGeneration {
                eprintln!("  (grammar answer cut at the token limit: {})", c.text);
            }
            if reuse {
                tg_grammar.push(c.stats.generated_tokens_per_second());
            }
            if i == 0 {
                println!(
                    "  {label}: prompt {} tokens, {} reused, answer {} tokens: {}",
                    c.stats.prompt_tokens, c.stats.reused_prompt_tokens, c.stats.generated_tokens, c.text
                );
            }
        }
        report(label, &seconds);
        report(&format!("{label} (prompt part)"), &prompt_seconds);
    }
    report("tg grammar tok/s", &tg_grammar);
    Ok(())
}

/// A prompt of exactly `n` tokens (repeated prose, cut at token `n`).
fn prompt_of_tokens(model: &Model, n: usize) -> Result<String, Box<dyn std::error::Error>> {
    let prose = "The loop nest computes a matrix product in tiles that fit the cache. ".repeat(n / 4);
    let mut lo = 0;
    let mut hi = prose.len();
    // Bisect on the text length: tokens grow with it.
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let text = &prose[..mid];
        if model.count_tokens(text) <= n {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Ok(prose[..lo].to_string())
}

/// A system message of about `n` tokens that reads like colt's.
fn system_message(model: &Model, n: usize) -> Result<String, Box<dyn std::error::Error>> {
    let mut text = String::from("You tune loop nests of tensor programs. Answer with JSON only.\nLegal edits:\n");
    let mut i = 0;
    while model.count_tokens(&text) < n {
        text.push_str(&format!(
            "- split loop {} by a factor of 2, 4, 8 or 16; unroll it; vectorize it; run it in parallel\n",
            i % 10
        ));
        i += 1;
    }
    Ok(text)
}

fn report(label: &str, xs: &[f64]) {
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    let min = xs.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    println!("  {label:<28} {mean:>9.3}  ({min:.3}..{max:.3})");
}
