//! colt-llm: local LLMs run in-process through llama.cpp — everything colt
//! needs from a GGUF model and nothing about how colt uses it: loading and
//! validating a file, its metadata, chat formatting, grammar-constrained
//! generation, reuse of a prompt prefix's KV state, per-call accounting,
//! and pausing decoding. It knows nothing of actors, search trees or the
//! command line: a session serves one call at a time on its own thread.
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
//! ```no_run
//! use colt_llm::{ChatPrompt, Generation, Grammar, Model, SessionOptions};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let model = Model::load("models/SmolLM2-135M-Instruct.Q4_1.gguf")?;
//! println!("{} has {} parameters", model.info().name, model.info().parameters);
//! let mut session = model.session(SessionOptions::default().threads(2))?;
//! let grammar = Grammar::gbnf(r#"root ::= "{\"answer\": \"" ("yes" | "no") "\"}""#);
//! let prompt = ChatPrompt::new("You answer questions.", "Is the sky blue?");
//! let answer = session.chat(&prompt, &Generation::new(16).seed(7).grammar(grammar))?;
//! println!("{} ({} prompt tokens, {:.3} s)", answer.text, answer.stats.prompt_tokens, answer.stats.prompt_seconds);
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
pub use info::{Hyperparameters, ModelInfo};
pub use model::{LoadOptions, Model, GPU_BACKEND};
pub use pause::{PauseGate, Paused};
pub use session::{Session, SessionOptions};
