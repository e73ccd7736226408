//! Calls on a model: prompt processing with prefix reuse, sampling under a
//! grammar, accounting, pausing.

use crate::backend::backend;
use crate::chat::ChatPrompt;
use crate::completion::{CallStats, Completion, StopReason};
use crate::error::GenerationError;
use crate::generation::Generation;
use crate::model::Model;
use crate::pause::{PauseGate, Step};
use crate::reuse::{chunk_ends, reusable};
use crate::sampler::TokenSampler;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::token::LlamaToken;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

/// How a [`Session`] runs.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Threads llama.cpp computes with (prompt and generation alike).
    pub threads: u32,
    /// Context size in tokens: prompt plus answer must fit. Capped at the
    /// model's training context.
    pub context_tokens: u32,
    /// Prompt tokens decoded per step. A pause waits at most one step, so
    /// this also bounds how long [`PauseGate::pause`] blocks.
    pub batch_tokens: u32,
    /// Keep the KV state of the previous call and process only the tokens
    /// after the part of the new prompt it shares (on by default; off only
    /// to measure what reuse saves).
    pub reuse_prefix: bool,
    /// Checked before every step; see [`PauseGate`].
    pub pause_gate: Option<PauseGate>,
    /// Most answers one call may decode side by side from one prompt
    /// ([`Session::chat_n`]): llama.cpp's sequences of one context, the
    /// prompt's KV state shared between them.
    pub sequences: u32,
}

impl Default for SessionOptions {
    /// All available cores, 4096 tokens of context, prompt steps of 512
    /// tokens (llama.cpp's default micro-batch), prefix reuse, no gate.
    fn default() -> SessionOptions {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        SessionOptions {
            threads,
            context_tokens: 4096,
            batch_tokens: 512,
            reuse_prefix: true,
            pause_gate: None,
            sequences: 1,
        }
    }
}

impl SessionOptions {
    pub fn threads(mut self, threads: u32) -> SessionOptions {
        self.threads = threads;
        self
    }

    pub fn context_tokens(mut self, tokens: u32) -> SessionOptions {
        self.context_tokens = tokens;
        self
    }

    pub fn batch_tokens(mut self, tokens: u32) -> SessionOptions {
        self.batch_tokens = tokens;
        self
    }

    pub fn reuse_prefix(mut self, reuse: bool) -> SessionOptions {
        self.reuse_prefix = reuse;
        self
    }

    pub fn pause_gate(mut self, gate: PauseGate) -> SessionOptions {
        self.pause_gate = Some(gate);
        self
    }

    pub fn sequences(mut self, sequences: u32) -> SessionOptions {
        self.sequences = sequences.clamp(1, MAX_SEQUENCES);
        self
    }
}

/// The most answers [`Session::chat_n`] decodes side by side.
pub const MAX_SEQUENCES: u32 = 16;

/// A llama.cpp context on a [`Model`]: serves one call at a time (`&mut
/// self`) and keeps the KV state of its last prompt, so that a call whose
/// prompt starts like the previous one's — the same system message —
/// processes only what follows. With reuse, a call's answer is the same as
/// a cold call's with the same seed: prompts are decoded in chunks fixed by
/// the prompt alone and only whole chunks a cold call would decode the same
/// way are kept (see `reuse.rs`; tests check it on both default models).
///
/// A session is not `Send`: create it on the thread that will use it.
pub struct Session<'m> {
    model: &'m Model,
    context: LlamaContext<'m>,
    batch: LlamaBatch<'static>,
    /// The tokens whose keys and values are in the KV cache, in positions
    /// 0.., exactly: this is what makes reuse safe.
    cached: Vec<LlamaToken>,
    /// Where the batches that decoded `cached` ended (see [`crate::reuse`]).
    cached_ends: Vec<usize>,
    options: SessionOptions,
}

impl<'m> Session<'m> {
    pub(crate) fn new(model: &'m Model, mut options: SessionOptions) -> Result<Session<'m>, GenerationError> {
        let error = |reason: String| GenerationError::Context { reason };
        let trained = model.info().context_length.unwrap_or(u64::MAX);
        options.context_tokens = options.context_tokens.min(u32::try_from(trained).unwrap_or(u32::MAX)).max(16);
        options.batch_tokens = options.batch_tokens.clamp(1, options.context_tokens);
        let threads = i32::try_from(options.threads.max(1)).unwrap_or(i32::MAX);
        options.sequences = options.sequences.clamp(1, MAX_SEQUENCES);
        let mut params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(options.context_tokens))
            .with_n_batch(options.batch_tokens)
            .with_n_ubatch(options.batch_tokens)
            .with_n_threads(threads)
            .with_n_threads_batch(threads)
            // Sliding-window layers (Gemma 3) would otherwise drop keys that
            // left the window, and a prefix could no longer be cut anywhere.
            .with_swa_full(true);
        if options.sequences > 1 {
            // One pool of cells for all sequences: the prompt's are shared,
            // each answer takes its own (not n_ctx / n_seq_max each).
            params = params.with_n_seq_max(options.sequences).with_kv_unified(true);
        }
        let backend = backend().map_err(|e| error(e.to_string()))?;
        let context = model.llama().new_context(backend, params).map_err(|e| error(e.to_string()))?;
        let batch = LlamaBatch::new(options.batch_tokens as usize, 1);
        Ok(Session { model, context, batch, cached: Vec::new(), cached_ends: Vec::new(), options })
    }

    pub fn model(&self) -> &'m Model {
        self.model
    }

    pub fn options(&self) -> &SessionOptions {
        &self.options
    }

    /// Formats `prompt` with the model's chat format and answers it.
    pub fn chat(&mut self, prompt: &ChatPrompt, generation: &Generation) -> Result<Completion, GenerationError> {
        let (tokens, system_end) = self.chat_tokens(prompt)?;
        let mut answers = self.call(tokens, Some(system_end), generation, 1)?;
        // `generate` answers exactly n = 1 completion or fails; the error
        // here is never reached.
        answers.pop().ok_or(GenerationError::EmptyPrompt)
    }

    /// `prompt` formatted and tokenized, and where its system message ends:
    /// where it stops agreeing with the same chat without a request.
    fn chat_tokens(&self, prompt: &ChatPrompt) -> Result<(Vec<LlamaToken>, usize), GenerationError> {
        let tokens = self.tokenize(&self.model.format(prompt)?);
        let without_request = ChatPrompt { system: prompt.system.clone(), user: String::new() };
        let system_tokens = self.tokenize(&self.model.format(&without_request)?);
        let system_end = tokens.iter().zip(&system_tokens).take_while(|(a, b)| a == b).count();
        Ok((tokens, system_end))
    }

    /// `n` answers to one prompt (at most `SessionOptions::sequences`),
    /// decoded side by side: the prompt is processed once (with prefix
    /// reuse, as [`Session::chat`]), its KV state shared by `n` sequences,
    /// each sampled with its own sampler and grammar state and the seed
    /// `generation.seed + i`. Each completion's stats carry the whole
    /// call's prompt time and the time of the steps it took part in (steps
    /// are shared: the call took as long as its longest answer). After it,
    /// the session holds the prompt and the first answer, as after `chat`.
    pub fn chat_n(
        &mut self,
        prompt: &ChatPrompt,
        generation: &Generation,
        n: usize,
    ) -> Result<Vec<Completion>, GenerationError> {
        let n = n.clamp(1, self.options.sequences as usize);
        let (tokens, system_end) = self.chat_tokens(prompt)?;
        self.call(tokens, Some(system_end), generation, n)
    }

    /// Continues `text` (already formatted; special tokens such as
    /// `<|im_start|>` are parsed as such).
    pub fn complete(&mut self, text: &str, generation: &Generation) -> Result<Completion, GenerationError> {
        let tokens = self.tokenize(text);
        let mut answers = self.call(tokens, None, generation, 1)?;
        // `generate` answers exactly n = 1 completion or fails; the error
        // here is never reached.
        answers.pop().ok_or(GenerationError::EmptyPrompt)
    }

    /// The logits of the token that would follow `tokens` (token ids of the
    /// model's vocabulary, as given: nothing is tokenized or added), one per
    /// vocabulary entry, with the call's accounting. This is how a caller
    /// that tokenizes its own language and constrains the answer itself
    /// (colt's specialist) decodes: it appends the token it chose and asks
    /// again, the prompt's cached chunks reused as for [`Session::chat`].
    ///
    /// The first `prompt_len` tokens are decoded in the session's chunks;
    /// each token after them (the answer so far) in a step of its own, so
    /// that asking again with one more token decodes just that token, and
    /// the logits do not depend on what the cache held before.
    pub fn next_token_logits(
        &mut self,
        tokens: &[i32],
        prompt_len: usize,
    ) -> Result<(Vec<f32>, CallStats), GenerationError> {
        if tokens.is_empty() {
            return Err(GenerationError::EmptyPrompt);
        }
        let vocabulary = self.model.llama().n_vocab();
        if let Some(&bad) = tokens.iter().find(|&&t| t < 0 || t >= vocabulary) {
            return Err(GenerationError::Decode {
                reason: format!("token id {bad} is outside the model's vocabulary of {vocabulary}"),
            });
        }
        let tokens: Vec<LlamaToken> = tokens.iter().map(|&t| LlamaToken::new(t)).collect();
        let mut stats = CallStats { prompt_tokens: tokens.len(), ..CallStats::default() };
        let prompt_len = prompt_len.clamp(1, tokens.len());
        let mut plan = chunk_ends(prompt_len, None, self.options.batch_tokens as usize);
        plan.extend(prompt_len + 1..=tokens.len());
        let result = self.prompt_in(&tokens, &plan, &mut stats);
        match result {
            Ok(paused) => stats.paused_seconds = paused.as_secs_f64(),
            Err(e) => {
                self.forget();
                return Err(e);
            }
        }
        // `prompt` always decodes the last token, with its logits last in the batch.
        Ok((self.context.get_logits_ith(self.batch.n_tokens() - 1).to_vec(), stats))
    }

    fn call(
        &mut self,
        tokens: Vec<LlamaToken>,
        system_end: Option<usize>,
        generation: &Generation,
        n: usize,
    ) -> Result<Vec<Completion>, GenerationError> {
        let result = self.generate(tokens, system_end, generation, n);
        if result.is_err() {
            // A failed decode may leave the KV cache partly written.
            self.forget();
        }
        result
    }

    /// Drops the cached prompt state: the next call starts cold.
    pub fn forget(&mut self) {
        self.context.clear_kv_cache();
        self.cached.clear();
        self.cached_ends.clear();
    }

    /// `text` as a prompt, special tokens parsed.
    fn tokenize(&self, text: &str) -> Vec<LlamaToken> {
        let vocab = self.model.llama().vocab();
        let mut tokens = vocab.tokenize(text.as_bytes(), true, true);
        // A template that writes the BOS token itself gets a second one from
        // the tokenizer; models are trained with one.
        if tokens.len() >= 2 && tokens[0] == vocab.bos() && tokens[1] == tokens[0] {
            tokens.remove(0);
        }
        tokens
    }

    /// The tokens of the text `generation` forces after `answer` (see
    /// [`crate::Continuation`]), at most `room`, each accepted into
    /// `sampler`'s grammar: the first the grammar refuses ends them.
    fn forced_tokens(
        &self,
        generation: &Generation,
        sampler: &mut TokenSampler,
        answer: &[u8],
        room: usize,
    ) -> Vec<LlamaToken> {
        let Some(forced) = &generation.forced else { return Vec::new() };
        if room == 0 {
            return Vec::new();
        }
        let text = forced.0.forced(&String::from_utf8_lossy(answer));
        if text.is_empty() {
            return Vec::new();
        }
        let vocab = self.model.llama().vocab();
        let mut tokens = vocab.tokenize(text.as_bytes(), false, false);
        tokens.truncate(room);
        let accepted = tokens.iter().take_while(|&&t| sampler.accept_forced(t)).count();
        tokens.truncate(accepted);
        tokens
    }

    /// Decodes `tokens` into sequence 0, keeping the chunks of the cached
    /// prompt a cold call would decode the same way (see crate::reuse);
    /// the last token's logits are the batch's last. Returns the time
    /// waited at the pause gate.
    fn prompt(
        &mut self,
        tokens: &[LlamaToken],
        system_end: Option<usize>,
        stats: &mut CallStats,
    ) -> Result<Duration, GenerationError> {
        let plan = chunk_ends(tokens.len(), system_end, self.options.batch_tokens as usize);
        self.prompt_in(tokens, &plan, stats)
    }

    /// [`Session::prompt`] with the chunks' ends given: `plan` ends at
    /// `tokens.len()`.
    fn prompt_in(
        &mut self,
        tokens: &[LlamaToken],
        plan: &[usize],
        stats: &mut CallStats,
    ) -> Result<Duration, GenerationError> {
        let gate = self.options.pause_gate.clone();
        let mut paused = Duration::ZERO;
        let mut reuse = match self.options.reuse_prefix {
            true => reusable(&self.cached, &self.cached_ends, tokens, plan),
            false => 0,
        };
        if reuse < self.cached.len() && !self.truncate_cache(reuse) {
            reuse = 0;
        }
        stats.reused_prompt_tokens = reuse;
        let mut working = Duration::ZERO;
        for &end in plan.iter().filter(|&&end| end > reuse) {
            let (_step, waited) = step(gate.as_ref());
            paused += waited;
            let start = Instant::now();
            let first = self.cached.len();
            self.batch.clear();
            for (pos, &token) in tokens.iter().enumerate().take(end).skip(first) {
                self.add(token, pos, pos + 1 == tokens.len())?;
            }
            self.decode()?;
            self.cached.extend_from_slice(&tokens[first..end]);
            self.cached_ends.push(end);
            working += start.elapsed();
        }
        stats.prompt_seconds = working.as_secs_f64();
        Ok(paused)
    }

    /// The answers of a call: sequence 0 is the prompt's, sequences 1..
    /// are copies of it; every step samples one token of each unfinished
    /// answer and decodes it, with the text the grammar then forces, in
    /// one batch. The text forced before any choice (the answer's opening)
    /// is decoded with the prompt, once for all sequences. Afterwards only
    /// sequence 0's tokens stay cached (the others are removed).
    fn generate(
        &mut self,
        mut tokens: Vec<LlamaToken>,
        system_end: Option<usize>,
        generation: &Generation,
        n: usize,
    ) -> Result<Vec<Completion>, GenerationError> {
        let model: &'m Model = self.model;
        let vocab = model.llama().vocab();
        let gate = self.options.pause_gate.clone();
        if tokens.is_empty() {
            return Err(GenerationError::EmptyPrompt);
        }
        let mut samplers = (0..n)
            .map(|i| TokenSampler::new(model, &generation.clone().seed(generation.seed.wrapping_add(i as u32))))
            .collect::<Result<Vec<_>, _>>()?;
        let max_tokens = generation.max_tokens as usize;
        // One step's batch holds a token and its forced text per sequence.
        let room = (self.options.batch_tokens as usize / n).saturating_sub(1);
        // The opening is decoded as the prompt's end (it prefills the
        // answer): it counts as prompt tokens, not as generated ones.
        // Callers pass n >= 1 (chat_n clamps it), so there is a first sampler.
        let (first, rest) = samplers.split_first_mut().ok_or(GenerationError::EmptyPrompt)?;
        let opening = self.forced_tokens(generation, first, &[], room);
        for sampler in rest {
            for &token in &opening {
                sampler.accept_forced(token);
            }
        }
        let mut opening_text = Vec::new();
        for &token in &opening {
            opening_text.extend(vocab.token_to_piece(token, false, None));
        }
        tokens.extend_from_slice(&opening);
        // Every answer takes its own cells beside the shared prompt's.
        self.check_fits(tokens.len(), generation.max_tokens.saturating_mul(n as u32))?;
        let mut stats = CallStats { prompt_tokens: tokens.len(), ..CallStats::default() };
        let mut paused = self.prompt(&tokens, system_end, &mut stats)?;
        let decode_error = |e: String| GenerationError::Decode { reason: e };
        for seq in 1..n as i32 {
            self.context.copy_kv_cache_seq(0, seq, None, None).map_err(|e| decode_error(e.to_string()))?;
        }
        let start = tokens.len();
        let mut answers: Vec<Vec<u8>> = vec![opening_text; n];
        let mut generated = vec![0usize; n];
        // Answer tokens in each sequence's cells (its next position).
        let mut decoded = vec![0usize; n];
        let mut forced = vec![0usize; n];
        let mut stops = vec![None; n];
        let mut seconds = vec![0.0f64; n];
        // The batch index of each sequence's logits: all of them read the
        // prompt's last token first.
        let mut logits_at: Vec<i32> = vec![-1; n];
        let mut step_all = || -> Result<(), GenerationError> {
            loop {
                let (_step, waited) = step(gate.as_ref());
                paused += waited;
                let begun = Instant::now();
                // The sequences sampled this step, and what each decodes.
                let sampled: Vec<usize> = (0..n).filter(|&seq| stops[seq].is_none()).collect();
                let mut next: Vec<(usize, Vec<LlamaToken>)> = Vec::new();
                for &seq in &sampled {
                    let token = samplers[seq].sample_at(&self.context, logits_at[seq])?;
                    if vocab.is_eog(token) {
                        stops[seq] = Some(StopReason::EndOfGeneration);
                        continue;
                    }
                    answers[seq].extend(vocab.token_to_piece(token, false, None));
                    generated[seq] += 1;
                    let mut batch = vec![token];
                    let budget = max_tokens.saturating_sub(generated[seq]).min(room);
                    for t in self.forced_tokens(generation, &mut samplers[seq], &answers[seq], budget) {
                        answers[seq].extend(vocab.token_to_piece(t, false, None));
                        batch.push(t);
                    }
                    generated[seq] += batch.len() - 1;
                    forced[seq] += batch.len() - 1;
                    if generated[seq] >= max_tokens {
                        stops[seq] = Some(StopReason::TokenLimit);
                    } else {
                        next.push((seq, batch));
                    }
                }
                if !next.is_empty() {
                    self.batch.clear();
                    let mut index = 0i32;
                    for (seq, batch) in &next {
                        for (j, &token) in batch.iter().enumerate() {
                            let at = start + decoded[*seq] + j;
                            let pos = i32::try_from(at).map_err(|_| decode_error(format!("position {at}")))?;
                            let last = j + 1 == batch.len();
                            self.batch
                                .add(token, pos, &[*seq as i32], last)
                                .map_err(|e| decode_error(e.to_string()))?;
                            if last {
                                logits_at[*seq] = index;
                            }
                            index += 1;
                        }
                        decoded[*seq] += batch.len();
                    }
                    self.decode()?;
                }
                // A step's time counts for every sequence it sampled.
                let elapsed = begun.elapsed().as_secs_f64();
                for &seq in &sampled {
                    seconds[seq] += elapsed;
                }
                if next.is_empty() {
                    return Ok(());
                }
                if let Some((_, batch)) = next.iter().find(|(seq, _)| *seq == 0) {
                    self.cached.extend_from_slice(batch);
                    self.cached_ends.push(self.cached.len());
                }
            }
        };
        let result = step_all();
        for seq in 1..n as u32 {
            let _ = self.context.clear_kv_cache_seq(Some(seq), None, None);
        }
        result?;
        stats.paused_seconds = paused.as_secs_f64();
        Ok((0..n)
            .map(|seq| Completion {
                text: String::from_utf8_lossy(&answers[seq]).into_owned(),
                stop: stops[seq].unwrap_or(StopReason::TokenLimit),
                stats: CallStats {
                    generated_tokens: generated[seq],
                    forced_tokens: forced[seq],
                    generation_seconds: seconds[seq],
                    ..stats
                },
            })
            .collect())
    }

    /// A prompt of `prompt_tokens` and answers of `max_tokens` in all must
    /// fit the context.
    fn check_fits(&self, prompt_tokens: usize, max_tokens: u32) -> Result<(), GenerationError> {
        let context_tokens = self.options.context_tokens;
        if prompt_tokens + max_tokens as usize > context_tokens as usize {
            return Err(GenerationError::ContextOverflow { prompt_tokens, max_tokens, context_tokens });
        }
        Ok(())
    }

    /// Removes cached positions `keep..`; false if llama.cpp could not (the
    /// cache is then cleared entirely).
    fn truncate_cache(&mut self, keep: usize) -> bool {
        let removed =
            u32::try_from(keep).ok().and_then(|p0| self.context.clear_kv_cache_seq(Some(0), Some(p0), None).ok());
        if removed == Some(true) {
            self.cached.truncate(keep);
            self.cached_ends.retain(|&end| end <= keep);
            true
        } else {
            self.forget();
            false
        }
    }

    fn add(&mut self, token: LlamaToken, pos: usize, logits: bool) -> Result<(), GenerationError> {
        // Positions are below context_tokens, a u32 checked against i32 by llama.cpp's own limits.
        let pos = i32::try_from(pos).map_err(|_| GenerationError::Decode { reason: format!("position {pos}") })?;
        self.batch.add(token, pos, &[0], logits).map_err(|e| GenerationError::Decode { reason: e.to_string() })
    }

    fn decode(&mut self) -> Result<(), GenerationError> {
        self.context.decode(&mut self.batch).map_err(|e| GenerationError::Decode { reason: e.to_string() })
    }
}

/// Passes `gate` if there is one: see [`PauseGate`].
fn step(gate: Option<&PauseGate>) -> (Option<Step<'_>>, Duration) {
    match gate {
        Some(gate) => {
            let (step, waited) = gate.step();
            (Some(step), waited)
        }
        None => (None, Duration::ZERO),
    }
}
