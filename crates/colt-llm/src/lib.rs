//! colt-llm: local LLMs run in-process through llama.cpp — everything colt
//! needs from a GGUF model and nothing about how colt uses it: loading and
//! validating a file, its metadata, chat formatting, grammar-constrained
//! generation, reuse of a prompt prefix's KV state, per-call accounting,
//! and pausing decoding.
//!
//! Take it alone to run a small GGUF model in-process with answers held to
//! a grammar, without a server: structured output from a local model in any
//! Rust program, or reading what a GGUF file is before loading it.
//!
//! # What it owns
//!
//! Loading a file (validated by colt before llama.cpp maps it, so a
//! bad file is an error that names it, never a crash), its metadata
//! ([`ModelInfo`]: architecture, name, parameter count, quantisation,
//! context length, chat template), formatting a system and a user message
//! ([`ChatPrompt`], [`ChatFormat`]), generation under a caller's grammar
//! ([`Generation`], [`Grammar`]), reuse of the KV state of a prompt's fixed
//! prefix across calls ([`Session`]), the accounting of each call
//! ([`CallStats`]), and a gate that holds decoding still between tokens
//! ([`PauseGate`]). It knows nothing of actors, search trees or the command
//! line: a [`Session`] serves one call at a time on the thread that made it.
//!
//! # Example
//!
//! The tests' tiny model (SmolLM2-135M, 98 MB, fetched into `models/` by
//! `scripts/fetch-models.sh`): its metadata read without loading it, then
//! one answer that the grammar allows to be only `{"answer": "yes"}` or
//! `{"answer": "no"}`.
//!
//! ```
//! use colt_llm::{
//!     ChatPrompt, Generation, Grammar, Model, ModelInfo, SessionOptions, StopReason, TEST_SMALL_MODEL_FILE,
//! };
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models").join(TEST_SMALL_MODEL_FILE);
//! let info = ModelInfo::read(&path)?; // the header only: no weights loaded
//! assert_eq!((info.architecture.as_str(), info.quantisation.as_str()), ("llama", "Q4_1"));
//! assert!((100_000_000..200_000_000).contains(&info.parameters), "{} parameters", info.parameters);
//! assert!(info.chat_template.is_some());
//!
//! let model = Model::load(&path)?;
//! let mut session = model.session(SessionOptions::default().threads(2).context_tokens(512))?;
//! let grammar = Grammar::gbnf(r#"root ::= "{\"answer\": \"" ("yes" | "no") "\"}""#);
//! let prompt = ChatPrompt::new("You answer questions.", "Is the sky blue?");
//! let answer = session.chat(&prompt, &Generation::new(16).seed(7).grammar(grammar))?;
//! assert!(answer.text == r#"{"answer": "yes"}"# || answer.text == r#"{"answer": "no"}"#, "{}", answer.text);
//! assert_eq!(answer.stop, StopReason::EndOfGeneration, "the grammar was complete");
//! assert!(answer.stats.prompt_tokens > 10 && answer.stats.generated_tokens > 0);
//! # Ok(())
//! # }
//! ```
//!
//! The default models (Qwen2.5-Coder 0.5B and 1.5B Instruct) and the
//! tests' tiny ones are fetched by `scripts/fetch-models.sh` into
//! `models/`; [`default_model_paths`] finds the defaults. [`Session::chat_n`]
//! decodes several answers to one prompt side by side.
//!
//! Models run on the CPU unless [`Model::load_with`] offloads layers to a
//! GPU ([`LoadOptions::gpu_layers`]), which needs a build with the `cuda`
//! or `vulkan` feature (llama-cpp-2's backends; off by default).

mod backend;
mod chat;
mod completion;
mod defaults;
mod error;
mod generation;
mod gguf;
mod grammar;
mod info;
mod model;
mod pause;
mod reuse;
mod sampler;
mod session;

pub use chat::{ChatFormat, ChatPrompt};
pub use completion::{CallStats, Completion, StopReason};
pub use defaults::{
    default_model_paths, default_models_dir, model_paths_in, FETCH_SCRIPT, LARGE_MODEL_FILE, SMALL_MODEL_FILE,
    TEST_LARGE_MODEL_FILE, TEST_SMALL_MODEL_FILE,
};
pub use error::{GenerationError, ModelError};
pub use generation::{Continuation, Forced, Generation};
pub use grammar::Grammar;
pub use info::{Hyperparameters, ModelInfo, SPECIALIST_VOCABULARY_KEY};
pub use model::{LoadOptions, Model, GPU_BACKEND};
pub use pause::{PauseGate, Paused};
pub use session::{Session, SessionOptions};
