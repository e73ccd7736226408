//! colt-train: trains colt's specialist (colt-specialist's model of the
//! schedule language) for `colt train`.
//!
//! # What it owns
//!
//! The training examples ([`examples`]): screened ones from the corpus
//! (colt-ir's `corpus`, ranked by the cost model's roofline prior, no
//! kernel compiled), and measured ones from a tuning database — the edges
//! whose child measured faster and the lineages of each job's best kernel,
//! only from records whose lineage still rebuilds the kernel measured. The
//! held-out split by workload, the two training phases ([`train`]), the
//! GGUF with the vocabulary's fingerprint ([`write_specialist`]) and the
//! training report ([`write_report`]: what it trained on, the loss curves
//! as a picture, the held-out loss).
//!
//! The prompt and answer language is colt-policy's `specialist`; the model
//! and its optimiser are colt-specialist's.

mod error;
pub mod examples;
mod report;
mod training;

pub use error::TrainError;
pub use examples::{database_examples, screened_examples, DatabaseExamples, Sample, ScreenedExamples, Source};
pub use report::{write_report, TrainReport};
pub use training::{split_by_workload, train, CurvePoint, Progress, TrainSettings, Trained};

use colt_policy::specialist::Vocabulary;
use colt_specialist::{Config, Model};
use std::path::Path;

/// The specialist's default shape: 4 blocks of width 128 and 4 heads
/// (about a million parameters: a call's prompt of ~600 tokens in tens of
/// milliseconds on 2 cores), a context of 1024 tokens (the suite's longest
/// prompt is ~650).
pub fn default_config(vocabulary: &Vocabulary) -> Config {
    Config::new(vocabulary.len(), 128, 4, 4, 1024)
}

/// Writes `model` as a GGUF llama.cpp runs, its tokens spelled as
/// `vocabulary`'s and its fingerprint under `colt.specialist.vocabulary`
/// (how colt knows to prompt it in the schedule language).
pub fn write_specialist(path: &Path, model: &Model, vocabulary: &Vocabulary) -> Result<(), TrainError> {
    let extra = [("colt.specialist.vocabulary".to_string(), vocabulary.fingerprint())];
    colt_specialist::write_gguf(path, model, "colt-specialist", vocabulary.tokens(), &extra)?;
    Ok(())
}
