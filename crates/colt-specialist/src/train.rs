//! The model's parameters, their initialisation, and training by AdamW on
//! batches of examples, the batch's sequences split between threads.

use crate::config::{Config, LayerTensor};
use crate::error::SpecialistError;
use crate::model::{answer_loss, backward, forward, Example};

/// A model: its shape and its parameters, one flat vector laid out as
/// [`Config::tensors`] says.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub config: Config,
    pub params: Vec<f32>,
}

impl Model {
    /// A fresh model: linear layers and embeddings drawn from N(0, 0.02²),
    /// the projections into the residual stream scaled down by √(2·layers)
    /// (GPT-2's initialisation), norms at one.
    pub fn init(config: Config, seed: u64) -> Result<Model, SpecialistError> {
        config.check()?;
        let mut rng = Rng(seed ^ 0x5eed_c017);
        let mut params: Vec<f32> = (0..config.parameters()).map(|_| 0.02 * rng.normal()).collect();
        let residual_scale = 1.0 / (2.0 * config.layers as f32).sqrt();
        for l in 0..config.layers {
            for which in LayerTensor::ALL.into_iter().filter(|w| w.is_norm()) {
                params[config.layer(l, which)].fill(1.0);
            }
            for which in [LayerTensor::AttnOut, LayerTensor::Down] {
                params[config.layer(l, which)].iter_mut().for_each(|p| *p *= residual_scale);
            }
        }
        params[config.output_norm()].fill(1.0);
        Ok(Model { config, params })
    }

    /// The logits of every position of `tokens`, `[position][vocab]`.
    pub fn logits(&self, tokens: &[u32]) -> Vec<f32> {
        crate::model::logits(&self.config, &self.params, tokens)
    }

    /// The mean cross-entropy per answer token of `examples` (nats).
    pub fn loss(&self, examples: &[Example]) -> Result<f64, SpecialistError> {
        check_examples(&self.config, examples)?;
        let (sum, count) = examples.iter().fold((0.0, 0), |(sum, count), e| {
            let f = forward(&self.config, &self.params, &e.tokens);
            (sum + answer_loss(&self.config, &f, e, 0.0).0, count + e.predicted())
        });
        Ok(sum / count.max(1) as f64)
    }

    /// The mean loss of `batch` and its gradient, the sequences split
    /// between `threads` threads.
    pub fn loss_and_gradient(&self, batch: &[Example], threads: usize) -> (f64, Vec<f32>) {
        let c = &self.config;
        let predicted: usize = batch.iter().map(Example::predicted).sum();
        let scale = 1.0 / predicted.max(1) as f32;
        let part = |examples: &[Example]| {
            let mut grads = vec![0.0; self.params.len()];
            let mut loss = 0.0;
            for e in examples {
                let f = forward(c, &self.params, &e.tokens);
                let (l, d_logits) = answer_loss(c, &f, e, scale);
                backward(c, &self.params, &f, &d_logits, &mut grads);
                loss += l;
            }
            (loss, grads)
        };
        let chunk = batch.len().div_ceil(threads.max(1)).max(1);
        let parts: Vec<(f64, Vec<f32>)> = std::thread::scope(|s| {
            let handles: Vec<_> = batch.chunks(chunk).map(|examples| s.spawn(move || part(examples))).collect();
            // A thread's panic is a bug of the model code: it is passed on, not hidden.
            handles.into_iter().map(|h| h.join().expect("a training thread panicked")).collect()
        });
        let mut parts = parts.into_iter();
        let (mut loss, mut grads) = parts.next().unwrap_or_else(|| (0.0, vec![0.0; self.params.len()]));
        for (l, g) in parts {
            loss += l;
            grads.iter_mut().zip(&g).for_each(|(a, b)| *a += b);
        }
        (loss * f64::from(scale), grads)
    }
}

/// Checks every example fits the model: tokens in the vocabulary, no longer
/// than the context, an answer of at least one token after a prompt.
pub fn check_examples(c: &Config, examples: &[Example]) -> Result<(), SpecialistError> {
    for (index, e) in examples.iter().enumerate() {
        let fail = |reason: String| Err(SpecialistError::Example { index, reason });
        if let Some(&bad) = e.tokens.iter().find(|&&t| t as usize >= c.vocab) {
            return fail(format!("token {bad} is outside the vocabulary of {}", c.vocab));
        }
        if e.tokens.len() > c.context {
            return fail(format!("{} tokens, more than the context of {}", e.tokens.len(), c.context));
        }
        if e.answer_start == 0 || e.answer_start >= e.tokens.len() {
            return fail(format!(
                "the answer starts at token {} of {}: there must be a prompt and an answer",
                e.answer_start,
                e.tokens.len()
            ));
        }
    }
    Ok(())
}

/// How a model is trained.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    pub learning_rate: f32,
    /// Steps of linear warm-up before the cosine decay to a tenth.
    pub warmup: usize,
    pub steps: usize,
    pub weight_decay: f32,
    /// The gradient's global norm is clipped to this.
    pub clip: f32,
    pub threads: usize,
}

impl Default for TrainOptions {
    fn default() -> TrainOptions {
        TrainOptions { learning_rate: 3e-3, warmup: 20, steps: 200, weight_decay: 0.01, clip: 1.0, threads: 2 }
    }
}

/// AdamW's state over a model.
pub struct Trainer {
    pub model: Model,
    pub options: TrainOptions,
    first_moment: Vec<f32>,
    second_moment: Vec<f32>,
    /// Whether each parameter takes weight decay (matrices do, norms do not).
    decays: Vec<bool>,
    step: usize,
}

impl Trainer {
    pub fn new(model: Model, options: TrainOptions) -> Trainer {
        let c = model.config;
        let mut decays = vec![true; model.params.len()];
        for l in 0..c.layers {
            for which in LayerTensor::ALL.into_iter().filter(|w| w.is_norm()) {
                decays[c.layer(l, which)].fill(false);
            }
        }
        decays[c.output_norm()].fill(false);
        let n = model.params.len();
        Trainer { model, options, first_moment: vec![0.0; n], second_moment: vec![0.0; n], decays, step: 0 }
    }

    /// The learning rate of the next step.
    pub fn learning_rate(&self) -> f32 {
        let o = &self.options;
        let step = self.step as f32;
        if self.step < o.warmup {
            return o.learning_rate * (step + 1.0) / o.warmup as f32;
        }
        let progress = ((step - o.warmup as f32) / (o.steps.saturating_sub(o.warmup)).max(1) as f32).min(1.0);
        o.learning_rate * (0.1 + 0.9 * 0.5 * (1.0 + (std::f32::consts::PI * progress).cos()))
    }

    /// One AdamW step on `batch`; returns the batch's mean loss before it.
    pub fn step(&mut self, batch: &[Example]) -> Result<f64, SpecialistError> {
        check_examples(&self.model.config, batch)?;
        let (loss, mut grads) = self.model.loss_and_gradient(batch, self.options.threads);
        let norm = grads.iter().map(|g| g * g).sum::<f32>().sqrt();
        if norm > self.options.clip {
            let k = self.options.clip / norm;
            grads.iter_mut().for_each(|g| *g *= k);
        }
        let lr = self.learning_rate();
        self.step += 1;
        let (b1, b2, eps) = (0.9f32, 0.95f32, 1e-8f32);
        let (c1, c2) = (1.0 - b1.powi(self.step as i32), 1.0 - b2.powi(self.step as i32));
        let decay = self.options.weight_decay;
        let state = self.model.params.iter_mut().zip(&mut self.first_moment).zip(&mut self.second_moment);
        for (((p, m), v), (&g, &decays)) in state.zip(grads.iter().zip(&self.decays)) {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            if decays {
                *p -= lr * decay * *p;
            }
            *p -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
        }
        Ok(loss)
    }

    pub fn steps_taken(&self) -> usize {
        self.step
    }
}

/// SplitMix64 and Box–Muller: the initialisation needs no more.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f32 {
        ((self.next() >> 40) as f32 + 0.5) / (1u64 << 24) as f32
    }

    fn normal(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f32::consts::PI * v).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `<s> a b c d e | e d c b a </s>`: the answer is the prompt's symbols reversed.
    fn reversal(seed: u64, symbols: u32) -> Example {
        let mut rng = Rng(seed);
        let word: Vec<u32> = (0..5).map(|_| 4 + (rng.next() % u64::from(symbols)) as u32).collect();
        let mut tokens = vec![1];
        tokens.extend(&word);
        tokens.push(3);
        let answer_start = tokens.len();
        tokens.extend(word.iter().rev());
        tokens.push(2);
        Example { tokens, answer_start }
    }

    #[test]
    fn training_learns_to_reverse_words_it_never_saw() {
        let symbols = 8;
        let config = Config::new(4 + symbols as usize, 32, 2, 4, 16);
        let train: Vec<Example> = (0..2000).map(|i| reversal(i, symbols)).collect();
        let held_out: Vec<Example> = (1_000_000..1_000_200).map(|i| reversal(i, symbols)).collect();
        let held_out: Vec<Example> = held_out.into_iter().filter(|e| !train.contains(e)).collect();
        let model = Model::init(config, 1).unwrap();
        let before = model.loss(&held_out).unwrap();
        let options = TrainOptions { steps: 600, ..TrainOptions::default() };
        let mut trainer = Trainer::new(model, options.clone());
        for step in 0..options.steps {
            let batch: Vec<Example> = (0..32).map(|k| train[(step * 32 + k) % train.len()].clone()).collect();
            trainer.step(&batch).unwrap();
        }
        let after = trainer.model.loss(&held_out).unwrap();
        // Uniform guessing costs ln(12) = 2.48 nats a token; the first
        // answer token is the prompt's last, the end token always follows five.
        assert!(before > 2.0, "{before}");
        assert!(after < 0.05, "held-out loss {before:.3} -> {after:.3}");
        eprintln!("held-out loss {before:.3} -> {after:.3} on {} words", held_out.len());
    }

    #[test]
    fn examples_the_model_cannot_take_are_refused_by_index() {
        let config = Config::new(10, 16, 1, 2, 8);
        let good = Example { tokens: vec![1, 4, 5], answer_start: 2 };
        let cases = [
            (Example { tokens: vec![1, 12, 5], answer_start: 2 }, "token 12 is outside the vocabulary of 10"),
            (Example { tokens: vec![1; 9], answer_start: 2 }, "9 tokens, more than the context of 8"),
            (Example { tokens: vec![1, 4, 5], answer_start: 3 }, "the answer starts at token 3 of 3"),
            (Example { tokens: vec![1, 4, 5], answer_start: 0 }, "the answer starts at token 0 of 3"),
        ];
        for (bad, reason) in cases {
            let error = check_examples(&config, &[good.clone(), bad]).unwrap_err().to_string();
            assert!(error.starts_with("example 1: ") && error.contains(reason), "{error}");
        }
    }
}
