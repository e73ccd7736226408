//! Choosing the next token: temperature, top-k and seed, under a grammar.

use crate::error::GenerationError;
use crate::generation::Generation;
use crate::model::Model;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use llama_cpp_2::token::LlamaToken;

/// The sampler of one call.
///
/// A grammar is checked lazily, as llama.cpp's own `common_sampler` does:
/// the token is first sampled as if there were no grammar, then only that
/// token is checked; the grammar is applied to the whole vocabulary only
/// when it rejects that token. Applying it to every token of Gemma 3's
/// 262,144-token vocabulary at every step cost more than decoding (measured
/// here: 5 instead of 13 tokens/s on Gemma-3-270M with 2 threads). The
/// answer still always satisfies the grammar.
pub(crate) struct TokenSampler {
    /// top-k, temperature, seeded draw (or greedy).
    chain: LlamaSampler,
    grammar: Option<LlamaSampler>,
}

impl TokenSampler {
    pub(crate) fn new(model: &Model, generation: &Generation) -> Result<TokenSampler, GenerationError> {
        let grammar = generation.grammar.as_ref().map(|g| g.sampler(model.llama())).transpose()?;
        let chain = if generation.temperature <= 0.0 {
            LlamaSampler::greedy()
        } else {
            let mut chain = Vec::with_capacity(3);
            if generation.top_k > 0 {
                chain.push(LlamaSampler::top_k(i32::try_from(generation.top_k).unwrap_or(i32::MAX)));
            }
            chain.push(LlamaSampler::temp(generation.temperature));
            chain.push(LlamaSampler::dist(generation.seed));
            LlamaSampler::chain_simple(chain)
        };
        Ok(TokenSampler { chain, grammar })
    }

    /// The next token, from the logits of the batch's token `index` (-1:
    /// the last); it is accepted into the grammar exactly once (twice would
    /// double-feed the grammar, which aborts the process).
    pub(crate) fn sample_at(&mut self, context: &LlamaContext<'_>, index: i32) -> Result<LlamaToken, GenerationError> {
        let dead_end = || GenerationError::GrammarDeadEnd;
        let mut candidates = context.token_data_array_ith(index);
        let Some(grammar) = &mut self.grammar else {
            candidates.apply_sampler(&mut self.chain);
            return candidates.selected_token().ok_or_else(dead_end);
        };
        let mut free = candidates.clone();
        free.apply_sampler(&mut self.chain);
        let token = match free.selected_token() {
            Some(token) if allows(grammar, token) => token,
            _ => {
                candidates.apply_sampler(grammar);
                candidates.apply_sampler(&mut self.chain);
                candidates.selected_token().ok_or_else(dead_end)?
            }
        };
        grammar.accept(token);
        Ok(token)
    }
}

impl TokenSampler {
    /// Accepts `token` into the grammar without sampling it, if the grammar
    /// allows it next (always, without a grammar); false leaves the state
    /// as it was.
    pub(crate) fn accept_forced(&mut self, token: LlamaToken) -> bool {
        let Some(grammar) = &mut self.grammar else { return true };
        let allowed = allows(grammar, token);
        if allowed {
            grammar.accept(token);
        }
        allowed
    }
}

/// Whether the grammar, in its current state, allows `token` next.
fn allows(grammar: &mut LlamaSampler, token: LlamaToken) -> bool {
    let mut single = LlamaTokenDataArray::new(vec![LlamaTokenData::new(token, 1.0, 0.0)], false);
    single.apply_sampler(grammar);
    // Samplers change logits in place and never drop entries: one in, one out.
    single.data[0].logit().is_finite()
}
