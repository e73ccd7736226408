//! How one call generates: token limit, temperature, seed, grammar, and
//! the text the grammar leaves no choice about.

use crate::grammar::Grammar;
use std::sync::Arc;

/// What an answer must go on with, given the answer so far: the text every
/// answer the call's grammar admits shares after it ("" where the answer
/// has a choice to make). A session decodes that text in one batch instead
/// of sampling it a token a step: under a grammar of long literals (colt's
/// edits are spelled out), most of an answer is forced, and one batch of a
/// few tokens costs about one step. Returning text the grammar does not
/// admit is safe — the session keeps only the tokens the grammar accepts —
/// but wasted.
pub trait Continuation: Send + Sync {
    fn forced(&self, answer: &str) -> String;
}

/// A [`Continuation`] in a [`Generation`]: compared by identity.
#[derive(Clone)]
pub struct Forced(pub Arc<dyn Continuation>);

impl std::fmt::Debug for Forced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Forced(..)")
    }
}

impl PartialEq for Forced {
    fn eq(&self, other: &Forced) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The parameters of one call.
///
/// ```
/// # use colt_llm::{Generation, Grammar};
/// let g = Generation::new(64).temperature(0.7).seed(3).grammar(Grammar::gbnf(r#"root ::= "yes" | "no""#));
/// assert_eq!(g.max_tokens, 64);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// At most this many tokens are generated.
    pub max_tokens: u32,
    /// 0 picks the most likely token (greedy); higher spreads the choice.
    pub temperature: f32,
    /// Seeds the sampler: the same prompt, parameters and seed give the same
    /// answer, whether or not the prompt's prefix was cached.
    pub seed: u32,
    /// Sample among this many most likely tokens (0: all of them).
    pub top_k: u32,
    /// Only answers this grammar accepts are generated.
    pub grammar: Option<Grammar>,
    /// The text the grammar forces, decoded without sampling (see
    /// [`Continuation`]); None samples every token.
    pub forced: Option<Forced>,
}

impl Generation {
    /// At most `max_tokens` tokens, temperature 0.8, top-40, seed 0, no grammar.
    /// (Temperature and top-k are llama.cpp's own defaults.)
    pub fn new(max_tokens: u32) -> Generation {
        Generation { max_tokens, temperature: 0.8, seed: 0, top_k: 40, grammar: None, forced: None }
    }

    pub fn temperature(mut self, temperature: f32) -> Generation {
        self.temperature = temperature;
        self
    }

    pub fn seed(mut self, seed: u32) -> Generation {
        self.seed = seed;
        self
    }

    pub fn top_k(mut self, top_k: u32) -> Generation {
        self.top_k = top_k;
        self
    }

    pub fn grammar(mut self, grammar: Grammar) -> Generation {
        self.grammar = Some(grammar);
        self
    }

    pub fn forced(mut self, continuation: Arc<dyn Continuation>) -> Generation {
        self.forced = Some(Forced(continuation));
        self
    }
}
