//! Training in two phases — pretraining on the screened corpus, then
//! training on measured examples (with a quarter as many screened ones
//! mixed in, so the first phase is not forgotten) — with the held-out loss
//! followed along the way. The model kept is the second phase's of the
//! lowest held-out measured loss: the measured examples are few (hundreds)
//! and were overfitted after a fifth of the phase on the first corpus
//! (bench/specialist/xeon-2026-12-07/), so the last step's is not the best.

use crate::examples::{Sample, Source};
use colt_ir::schedule::Rng;
use colt_specialist::{Config, Example, Model, TrainOptions, Trainer};

/// How a specialist is trained.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainSettings {
    pub config: Config,
    pub pretrain_steps: usize,
    pub finetune_steps: usize,
    /// Sequences per step.
    pub batch: usize,
    pub pretrain_learning_rate: f32,
    pub finetune_learning_rate: f32,
    pub threads: usize,
    pub seed: u64,
    /// Steps between held-out evaluations.
    pub eval_every: usize,
}

/// One point of the loss curves.
#[derive(Clone, Debug, PartialEq)]
pub struct CurvePoint {
    /// Counted over both phases.
    pub step: usize,
    pub phase: &'static str,
    /// The mean loss of the steps since the last point.
    pub train_loss: f64,
    /// The held-out losses at this step: screened, measured (where there are such examples).
    pub held_out_screened: Option<f64>,
    pub held_out_measured: Option<f64>,
}

/// Progress, as `colt train` shows it.
#[derive(Clone, Debug)]
pub struct Progress<'a> {
    pub step: usize,
    pub steps: usize,
    pub phase: &'static str,
    pub last: Option<&'a CurvePoint>,
}

/// A trained specialist and how it got there.
#[derive(Clone, Debug)]
pub struct Trained {
    pub model: Model,
    pub curve: Vec<CurvePoint>,
    /// The step whose model was kept: the training phase's point of the
    /// lowest held-out measured loss, or the last step where no held-out
    /// measured example exists.
    pub kept_step: usize,
    pub seconds: f64,
    /// Tokens processed by training steps (forward and backward).
    pub tokens: u64,
}

impl Trained {
    /// The curve's point of the step whose model was kept.
    pub fn kept_point(&self) -> Option<&CurvePoint> {
        self.curve.iter().find(|p| p.step == self.kept_step)
    }
}

/// Splits samples into training and held-out ones by workload: the
/// workloads whose name hashes to 0 modulo `held_out_every` are held out
/// whole, so the held-out loss is that of programs the model never saw;
/// where none does and there are two workloads or more, the one of the
/// smallest hash is.
pub fn split_by_workload(samples: Vec<Sample>, held_out_every: u64) -> (Vec<Sample>, Vec<Sample>) {
    let hash = |s: &Sample| colt_ir::fnv1a(s.workload.as_bytes());
    let workloads: std::collections::BTreeSet<(u64, &str)> =
        samples.iter().map(|s| (hash(s), s.workload.as_str())).collect();
    let mut held: Vec<u64> = workloads.iter().map(|w| w.0).filter(|h| h % held_out_every.max(2) == 0).collect();
    if held.is_empty() && workloads.len() >= 2 {
        held.extend(workloads.iter().next().map(|w| w.0));
    }
    samples.into_iter().partition(|s| !held.contains(&hash(s)))
}

/// Held-out examples evaluated at each point, at most.
const EVAL_EXAMPLES: usize = 256;

/// Trains a fresh model of `settings.config` on `train` (screened examples
/// in the first phase, measured ones in the second), following the
/// held-out loss on `held_out`.
pub fn train(
    train: &[Sample],
    held_out: &[Sample],
    settings: &TrainSettings,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Trained, colt_specialist::SpecialistError> {
    let start = std::time::Instant::now();
    let of = |samples: &[Sample], screened: bool| -> Vec<Example> {
        samples.iter().filter(|s| (s.source == Source::Screened) == screened).map(|s| s.example.clone()).collect()
    };
    let (screened, measured) = (of(train, true), of(train, false));
    let eval_screened: Vec<Example> = of(held_out, true).into_iter().take(EVAL_EXAMPLES).collect();
    let eval_measured: Vec<Example> = of(held_out, false).into_iter().take(EVAL_EXAMPLES).collect();
    let mut model = Model::init(settings.config, settings.seed)?;
    let mut curve = Vec::new();
    let mut rng = Rng::new(settings.seed ^ 0x7ea1);
    let mut tokens = 0u64;
    let total = settings.pretrain_steps + settings.finetune_steps;
    let evaluate = |model: &Model, examples: &[Example]| -> Option<f64> {
        (!examples.is_empty()).then(|| model.loss(examples).unwrap_or(f64::NAN))
    };
    curve.push(CurvePoint {
        step: 0,
        phase: "start",
        train_loss: f64::NAN,
        held_out_screened: evaluate(&model, &eval_screened),
        held_out_measured: evaluate(&model, &eval_measured),
    });
    let mut done = 0;
    // The training phase's best point so far: (held-out measured loss, step, model).
    let mut best: Option<(f64, usize, Model)> = None;
    for (phase, steps, learning_rate) in [
        ("pretraining", settings.pretrain_steps, settings.pretrain_learning_rate),
        ("training", settings.finetune_steps, settings.finetune_learning_rate),
    ] {
        let pool: Vec<&Example> = if phase == "pretraining" {
            screened.iter().collect()
        } else {
            let mixed = (measured.len() / 4).min(screened.len());
            measured.iter().chain(screened.iter().take(mixed)).collect()
        };
        if steps == 0 || pool.is_empty() {
            continue;
        }
        let options = TrainOptions {
            learning_rate,
            warmup: (steps / 20).max(1),
            steps,
            threads: settings.threads,
            ..TrainOptions::default()
        };
        let mut trainer = Trainer::new(model, options);
        let (mut loss_sum, mut loss_steps) = (0.0, 0);
        for step in 0..steps {
            let batch: Vec<Example> = (0..settings.batch).map(|_| pool[rng.below(pool.len())].clone()).collect();
            tokens += batch.iter().map(|e| e.tokens.len() as u64).sum::<u64>();
            loss_sum += trainer.step(&batch)?;
            loss_steps += 1;
            done += 1;
            let last_step = step + 1 == steps;
            if done % settings.eval_every.max(1) == 0 || last_step {
                let held_out_measured = evaluate(&trainer.model, &eval_measured);
                if let Some(loss) = held_out_measured.filter(|l| l.is_finite() && phase == "training") {
                    if best.as_ref().is_none_or(|(b, _, _)| loss < *b) {
                        best = Some((loss, done, trainer.model.clone()));
                    }
                }
                curve.push(CurvePoint {
                    step: done,
                    phase,
                    train_loss: loss_sum / f64::from(loss_steps),
                    held_out_screened: evaluate(&trainer.model, &eval_screened),
                    held_out_measured,
                });
                (loss_sum, loss_steps) = (0.0, 0);
            }
            progress(&Progress { step: done, steps: total, phase, last: curve.last() });
        }
        model = trainer.model;
    }
    let (model, kept_step) = match best {
        Some((_, step, best_model)) => (best_model, step),
        None => (model, done),
    };
    Ok(Trained { model, curve, kept_step, seconds: start.elapsed().as_secs_f64(), tokens })
}
