//! How one call generates: token limit, temperature, seed, grammar.

use crate::grammar::Grammar;

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
}

impl Generation {
    /// At most `max_tokens` tokens, temperature 0.8, top-40, seed 0, no grammar.
    /// (Temperature and top-k are llama.cpp's own defaults.)
    pub fn new(max_tokens: u32) -> Generation {
        Generation { max_tokens, temperature: 0.8, seed: 0, top_k: 40, grammar: None }
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
}
