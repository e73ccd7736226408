//! One actor per loaded model. llama.cpp's inference blocks, and a
//! `colt_llm::Session` (the KV state reused across calls) must stay on the
//! thread that made it, so the actor is the model's mailbox and the model
//! lives on a thread of its own, which owns the `Model` and its `Session`
//! and answers one call at a time.

use actix::{Actor, Context, Handler, Message};
use colt_llm::{
    CallStats, ChatPrompt, Completion, Continuation, Generation, Grammar, LoadOptions, Model, ModelError, ModelInfo,
    Session, SessionOptions, StopReason,
};
use colt_policy::specialist::{AnswerConstraint, TokenId};
use crossbeam_channel::{bounded, unbounded, Sender};
use parking_lot::{Condvar, Mutex};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

/// One call: a chat prompt, decoded under an optional GBNF grammar, with
/// `answers` answers decoded side by side (seeds `seed`, `seed + 1`, ...).
pub struct Generate {
    pub system: String,
    pub user: String,
    pub grammar: Option<String>,
    /// The text the grammar forces after a prefix, decoded without
    /// sampling (see `colt_llm::Continuation`).
    pub forced: Option<Arc<dyn Continuation>>,
    pub max_tokens: u32,
    pub seed: u32,
    pub answers: u32,
    /// For colt's specialist: the schedule-language prompt and the mask of
    /// legal answers, decoded instead of the chat prompt (see [`specialist_answers`]).
    pub specialist: Option<Arc<SpecialistQuery>>,
    pub reply: Sender<Result<Vec<Completion>, String>>,
}

/// A call to colt's specialist: its prompt in the schedule language's
/// tokens and what its answer may be.
pub struct SpecialistQuery {
    pub prompt: Vec<TokenId>,
    pub constraint: Arc<AnswerConstraint>,
    /// The sampling temperature ([`SPECIALIST_TEMPERATURE`] unless the
    /// job's strategy says otherwise); 0 or below: the most likely token.
    pub temperature: f32,
}

/// The specialist's sampling temperature: the tree expands a node more than
/// once, so its answers must vary; below 1, they stay near its best guess.
pub const SPECIALIST_TEMPERATURE: f32 = 0.7;

/// `answers` answers of the specialist to `query`, token by token: the
/// logits after the prompt and the answer so far, masked to the tokens the
/// constraint allows next, sampled at the query's temperature with the
/// seeds `seed`, `seed + 1`, ...; each read into the JSON joint action the
/// general models answer. A specialist session decodes in small batches so
/// that each step re-decodes little beyond the cached prompt.
pub fn specialist_answers(
    session: &mut Session<'_>,
    query: &SpecialistQuery,
    seed: u32,
    answers: u32,
    max_tokens: u32,
) -> Result<Vec<Completion>, String> {
    (0..answers.max(1))
        .map(|i| {
            let started = std::time::Instant::now();
            let mut rng = colt_ir::schedule::Rng::new(u64::from(seed.wrapping_add(i)) ^ 0x5bec_1a11);
            let mut answer: Vec<TokenId> = Vec::new();
            let mut stats = CallStats::default();
            loop {
                let allowed = query.constraint.allowed(&answer);
                if allowed.is_empty() || answer.len() >= max_tokens as usize {
                    break;
                }
                let chosen = if allowed.len() == 1 {
                    allowed[0]
                } else {
                    let ids: Vec<i32> = query.prompt.iter().chain(&answer).map(|&t| t as i32).collect();
                    let (logits, call) =
                        session.next_token_logits(&ids, query.prompt.len()).map_err(|e| e.to_string())?;
                    if stats.prompt_tokens == 0 {
                        (stats.prompt_tokens, stats.reused_prompt_tokens) =
                            (call.prompt_tokens, call.reused_prompt_tokens);
                        stats.prompt_seconds = call.prompt_seconds;
                    }
                    sample_masked(&logits, &allowed, query.temperature, &mut rng)
                };
                answer.push(chosen);
            }
            stats.generated_tokens = answer.len();
            stats.generation_seconds = (started.elapsed().as_secs_f64() - stats.prompt_seconds).max(0.0);
            let text = query.constraint.answer_json(&answer).unwrap_or_default();
            let stop = if text.is_empty() { StopReason::TokenLimit } else { StopReason::EndOfGeneration };
            Ok(Completion { text, stop, stats })
        })
        .collect()
}

/// One of `allowed`, drawn from the softmax of their logits at
/// `temperature`; at 0 or below, the one of the highest logit (the first
/// of equals).
fn sample_masked(logits: &[f32], allowed: &[TokenId], temperature: f32, rng: &mut colt_ir::schedule::Rng) -> TokenId {
    let logit = |t: TokenId| logits.get(t as usize).copied().unwrap_or(f32::NEG_INFINITY);
    if temperature <= 0.0 {
        // Never empty here (the caller stops at an empty mask); 0 as the sampling path's end gives.
        let Some((&first, rest)) = allowed.split_first() else { return 0 };
        let mut best = first;
        for &t in rest {
            if logit(t) > logit(best) {
                best = t;
            }
        }
        return best;
    }
    let scaled: Vec<f32> = allowed.iter().map(|&t| logit(t) / temperature).collect();
    let max = scaled.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let weights: Vec<f64> = scaled.iter().map(|&z| f64::from((z - max).exp())).collect();
    let total: f64 = weights.iter().sum();
    let mut target = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
    for (&t, w) in allowed.iter().zip(&weights) {
        if target < *w {
            return t;
        }
        target -= w;
    }
    *allowed.last().unwrap_or(&0)
}

/// A specialist session's batch: prompts are decoded in chunks of this
/// many tokens, so that a node's prompt re-decodes at most this many of
/// the tokens it shares with the previous call's (answer tokens are
/// decoded one at a time).
const SPECIALIST_BATCH_TOKENS: u32 = 32;

/// A specialist decodes on one thread. Its steps are tiny (a million
/// parameters), and llama.cpp's threads meet at a barrier after every
/// operation of every step: when the job's compiler or measurement holds
/// one of two cores, each barrier waits for a scheduler slice. Measured on
/// a 2-core EPYC (`examples/specialist_calls.rs`, one core kept busy): a
/// llama3-8b-attn call took 1,204 ms on two threads and 87 ms on one
/// (54 and 103 ms with both cores idle).
const SPECIALIST_THREADS: u32 = 1;

/// The most answers one call decodes side by side (each model session has
/// this many llama.cpp sequences).
pub const MAX_ANSWERS: u32 = 8;

impl Message for Generate {
    type Result = ();
}

/// Why a model could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LlmStartError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("model `{path}`: cannot open an inference session: {reason}")]
    Session { path: PathBuf, reason: String },
    #[error("model `{path}`: cannot start its thread: {reason}")]
    Thread { path: PathBuf, reason: String },
}

/// How many models may decode at once. llama.cpp's threads wait for each
/// other at every step; two models with a thread per core each on the same
/// cores slow each other down far more than taking turns does. So a job
/// gives its models `cores / threads per model` slots (one on 2 cores),
/// and a call waits for a slot before it decodes (the wait is not counted
/// in the call's seconds).
#[derive(Clone, Debug)]
pub struct DecodeSlots(Arc<(Mutex<usize>, Condvar)>);

impl DecodeSlots {
    pub fn new(slots: usize) -> DecodeSlots {
        DecodeSlots(Arc::new((Mutex::new(slots.max(1)), Condvar::new())))
    }

    fn acquire(&self) -> SlotGuard<'_> {
        let (free, changed) = &*self.0;
        let mut free = free.lock();
        while *free == 0 {
            changed.wait(&mut free);
        }
        *free -= 1;
        SlotGuard(self)
    }
}

struct SlotGuard<'a>(&'a DecodeSlots);

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        let (free, changed) = &*(self.0).0;
        *free.lock() += 1;
        changed.notify_one();
    }
}

pub struct LlmActor {
    info: ModelInfo,
    requests: Option<Sender<Generate>>,
    thread: Option<JoinHandle<()>>,
}

impl LlmActor {
    /// Loads the model on a new thread (`load`: on the CPU, or with layers
    /// on a GPU) and opens its session; returns once it is ready to answer
    /// (or failed to load).
    pub fn load(
        path: &Path,
        load: LoadOptions,
        options: SessionOptions,
        slots: DecodeSlots,
    ) -> Result<LlmActor, LlmStartError> {
        let (ready, loaded) = bounded(1);
        let (requests, inbox) = unbounded::<Generate>();
        let owned = path.to_path_buf();
        let name = path.file_stem().map_or("model".into(), |s| s.to_string_lossy().into_owned());
        let thread = std::thread::Builder::new()
            .name(format!("llm {name}"))
            .spawn(move || {
                let model = match Model::load_with(&owned, &load) {
                    Ok(m) => m,
                    Err(e) => {
                        let _ = ready.send(Err(LlmStartError::Model(e)));
                        return;
                    }
                };
                // A specialist's prompt shares its head with the previous
                // call's: small batches keep the re-decoded tail short. One
                // thread: see SPECIALIST_THREADS.
                let options = match model.info().specialist_vocabulary {
                    Some(_) => options.batch_tokens(SPECIALIST_BATCH_TOKENS).threads(SPECIALIST_THREADS),
                    None => options,
                };
                let mut session = match model.session(options) {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready.send(Err(LlmStartError::Session { path: owned, reason: e.to_string() }));
                        return;
                    }
                };
                let _ = ready.send(Ok(model.info().clone()));
                for call in inbox {
                    if let Some(query) = &call.specialist {
                        let answer = {
                            let _slot = slots.acquire();
                            specialist_answers(&mut session, query, call.seed, call.answers, call.max_tokens)
                        };
                        let _ = call.reply.send(answer);
                        continue;
                    }
                    let mut generation = Generation::new(call.max_tokens).seed(call.seed);
                    if let Some(g) = call.grammar {
                        generation = generation.grammar(Grammar::gbnf(g));
                    }
                    if let Some(forced) = call.forced {
                        generation = generation.forced(forced);
                    }
                    let prompt = ChatPrompt::new(call.system, call.user);
                    let answer = {
                        let _slot = slots.acquire();
                        session.chat_n(&prompt, &generation, call.answers.max(1) as usize).map_err(|e| e.to_string())
                    };
                    let _ = call.reply.send(answer);
                }
            })
            .map_err(|e| LlmStartError::Thread { path: path.to_path_buf(), reason: e.to_string() })?;
        match loaded.recv() {
            Ok(Ok(info)) => Ok(LlmActor { info, requests: Some(requests), thread: Some(thread) }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(LlmStartError::Thread { path: path.to_path_buf(), reason: "it stopped while loading".into() })
            }
        }
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }
}

impl Actor for LlmActor {
    type Context = Context<Self>;

    fn stopped(&mut self, _: &mut Context<Self>) {
        // Closing the inbox ends the model's thread after its current call.
        self.requests.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Handler<Generate> for LlmActor {
    type Result = ();

    fn handle(&mut self, call: Generate, _: &mut Context<Self>) {
        let Some(requests) = &self.requests else {
            let _ = call.reply.send(Err(format!("model `{}` is stopped", self.info.name)));
            return;
        };
        if let Err(e) = requests.send(call) {
            let call = e.into_inner();
            let _ = call.reply.send(Err(format!("model `{}`'s thread has stopped", self.info.name)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sample_masked;
    use colt_ir::schedule::Rng;

    #[test]
    fn at_temperature_zero_the_allowed_token_of_the_highest_logit_is_taken_and_above_it_others_too() {
        // Token 1 has the highest logit of all but is not allowed.
        let logits = [0.0, 9.0, 2.0, 3.0, 2.5];
        let allowed = [0, 2, 3, 4];
        let mut rng = Rng::new(5);
        for _ in 0..50 {
            assert_eq!(sample_masked(&logits, &allowed, 0.0, &mut rng), 3);
        }
        let mut seen = [0usize; 5];
        for _ in 0..2000 {
            seen[sample_masked(&logits, &allowed, 1.0, &mut rng) as usize] += 1;
        }
        assert_eq!(seen[1], 0, "a token the mask forbids was drawn: {seen:?}");
        // Softmax of (0, 2, 3, 2.5): about 3%, 23%, 46%, 28%.
        assert!(seen[3] > seen[4] && seen[4] > seen[2] && seen[2] > seen[0] && seen[0] > 0, "{seen:?}");
    }
}
