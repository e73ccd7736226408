//! What a call returns: the answer, why it stopped, and what it cost.

/// A model's answer to one call.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The generated text, without the end-of-generation token.
    pub text: String,
    pub stop: StopReason,
    pub stats: CallStats,
}

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The model ended its answer (under a grammar: only where the grammar
    /// is complete, so the text parses).
    EndOfGeneration,
    /// `max_tokens` were generated; under a grammar the text may be cut off.
    TokenLimit,
}

/// The accounting of one call. Seconds are wall-clock time spent working:
/// time spent waiting at a closed [`crate::PauseGate`] is counted apart.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CallStats {
    /// Tokens of the formatted prompt, reused ones included, and of the
    /// answer's opening when its grammar forces one (decoded with the
    /// prompt; the completion's text starts with it).
    pub prompt_tokens: usize,
    /// Leading prompt tokens whose KV state was kept from the previous call
    /// and not processed again.
    pub reused_prompt_tokens: usize,
    /// Tokens generated (the end-of-generation token excluded), forced
    /// ones included.
    pub generated_tokens: usize,
    /// Of `generated_tokens`, those decoded without sampling because the
    /// grammar left no choice ([`crate::Continuation`]).
    pub forced_tokens: usize,
    /// Processing the prompt's new tokens.
    pub prompt_seconds: f64,
    /// Sampling and decoding the answer.
    pub generation_seconds: f64,
    /// Waiting at a closed pause gate.
    pub paused_seconds: f64,
}

impl CallStats {
    /// Prompt tokens processed per second (the reused ones were not).
    pub fn prompt_tokens_per_second(&self) -> f64 {
        (self.prompt_tokens - self.reused_prompt_tokens) as f64 / self.prompt_seconds
    }

    /// Tokens generated per second.
    pub fn generated_tokens_per_second(&self) -> f64 {
        self.generated_tokens as f64 / self.generation_seconds
    }
}
