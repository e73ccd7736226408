//! A grammar that constrains what a model may answer.

use crate::error::GenerationError;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;

/// A GBNF grammar (llama.cpp's grammar format,
/// <https://github.com/ggml-org/llama.cpp/blob/master/grammars/README.md>).
///
/// Under a grammar a model can only produce text the grammar accepts, and it
/// can stop only where the grammar is complete. For the answer to always
/// parse, the grammar must also be *bounded*: every repetition limited
/// (`item{0,4}`, not `item*`), so that its longest sentence fits the call's
/// token limit. An unbounded grammar lets a tiny model ramble until the
/// limit cuts the answer off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grammar {
    gbnf: String,
    root: String,
}

impl Grammar {
    /// A grammar whose start rule is `root`.
    pub fn gbnf(text: impl Into<String>) -> Grammar {
        Grammar { gbnf: text.into(), root: "root".into() }
    }

    /// The same grammar, starting from rule `root`.
    pub fn with_root(mut self, root: impl Into<String>) -> Grammar {
        self.root = root.into();
        self
    }

    pub fn text(&self) -> &str {
        &self.gbnf
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    /// llama.cpp's grammar sampler for `model`'s vocabulary. llama.cpp parses
    /// the grammar here and reports any error as a null sampler (its parser
    /// catches its own exceptions), so a bad grammar is an error, not a crash.
    pub(crate) fn sampler(&self, model: &LlamaModel) -> Result<LlamaSampler, GenerationError> {
        if self.gbnf.contains('\0') || self.root.contains('\0') {
            return Err(GenerationError::GrammarNul);
        }
        LlamaSampler::grammar(model, &self.gbnf, &self.root)
            .map_err(|_| GenerationError::Grammar { root: self.root.clone() })
    }
}
