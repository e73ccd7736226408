//! colt-specialist: colt's own model. A small decoder-only language model
//! of the llama architecture, trained from scratch on the CPU on sequences
//! of colt's schedule language, and written as a GGUF that llama.cpp loads
//! and runs in-process like any other model (through `colt-llm`).
//!
//! # What it owns
//!
//! The model's shape ([`Config`]) and parameters ([`Model`]), its forward
//! pass, the loss on an example's answer only ([`Example`]: a prompt the
//! model is given, an answer it learns to write) and the backward pass,
//! AdamW training on batches split between threads ([`Trainer`]), and the
//! GGUF writer ([`write_gguf`]). It knows nothing of schedules, databases
//! or llama.cpp: token ids in, logits and weights out.
//!
//! Take it alone to train a small llama-architecture model on any token
//! sequences and run it with llama.cpp.
//!
//! # Why by hand, and not on candle or burn
//!
//! The model is a few hundred thousand to a few million parameters, so
//! its cost is in a handful of matrix products per layer, which
//! `matrixmultiply`'s SGEMM (AVX/FMA kernels picked at run time, pure
//! Rust, seconds to build) computes near the CPU's speed; the rest is
//! element-wise and small. A hand-written backward pass is a few hundred
//! lines, checked against finite differences in the tests. candle's fused
//! softmax, RoPE and RMS norm record no backward step (a model of its
//! basic ops does, at the price of their intermediate tensors), burn's
//! autodiff is general; either adds minutes of build to every CI run on
//! 2 cores for what this crate needs. The forward pass here computes
//! exactly what llama.cpp computes for the `llama` architecture (RoPE on
//! adjacent pairs, attention scaled by 1/√head width), and a test in
//! `tests/` checks llama.cpp's logits against it.

mod config;
mod error;
mod gguf;
mod linalg;
mod model;
mod train;

pub use config::{Config, TensorSpec};
pub use error::SpecialistError;
pub use gguf::{gguf_bytes, write_gguf, SPECIAL_TOKENS};
pub use model::{logits, Example};
pub use train::{check_examples, Model, TrainOptions, Trainer};
