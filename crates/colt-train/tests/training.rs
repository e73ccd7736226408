//! The training loop keeps the model of the training phase's lowest
//! held-out measured loss, not the last step's.

use colt_specialist::{Config, Example};
use colt_train::{train, Sample, Source, TrainSettings};

fn sample(workload: &str, source: Source, answer: u32) -> Sample {
    Sample {
        workload: workload.to_string(),
        source,
        example: Example { tokens: vec![1, 2, 3, answer], answer_start: 3 },
    }
}

/// A tiny model's settings, evaluated every 10 steps.
fn settings(pretrain_steps: usize, finetune_steps: usize) -> TrainSettings {
    TrainSettings {
        config: Config::new(8, 16, 1, 2, 8),
        pretrain_steps,
        finetune_steps,
        batch: 4,
        pretrain_learning_rate: 1e-2,
        finetune_learning_rate: 1e-2,
        threads: 1,
        seed: 3,
        eval_every: 10,
    }
}

#[test]
fn the_model_kept_is_the_training_phases_of_the_lowest_held_out_measured_loss() {
    // Pretraining teaches answer 5, which the held-out measured examples
    // give; the measured training examples teach 4, so the held-out measured
    // loss rises as the training phase goes on and its lowest point is
    // early, not at the last step.
    let training: Vec<Sample> = (0..8)
        .map(|_| sample("pre", Source::Screened, 5))
        .chain((0..32).map(|_| sample("seen", Source::Improvement, 4)))
        .collect();
    let held_out = vec![sample("held", Source::Improvement, 5), sample("held", Source::Screened, 5)];
    let trained = train(&training, &held_out, &settings(40, 60), &mut |_| {}).unwrap();
    let training_points: Vec<_> = trained.curve.iter().filter(|p| p.phase == "training").collect();
    let lowest = training_points
        .iter()
        .min_by(|a, b| a.held_out_measured.unwrap().total_cmp(&b.held_out_measured.unwrap()))
        .unwrap();
    assert_eq!(trained.kept_step, lowest.step, "{:?}", trained.curve);
    assert!(trained.kept_step < 100, "the overfitting set-up did not overfit: {:?}", trained.curve);
    let measured: Vec<Example> = held_out[..1].iter().map(|s| s.example.clone()).collect();
    let kept_loss = trained.model.loss(&measured).unwrap();
    assert!((kept_loss - lowest.held_out_measured.unwrap()).abs() < 1e-9, "{kept_loss} vs {lowest:?}");
    let last = training_points.last().unwrap().held_out_measured.unwrap();
    assert!(kept_loss < last, "kept {kept_loss}, last {last}");
}

#[test]
fn without_held_out_measured_examples_the_last_model_is_kept() {
    let training: Vec<Sample> = (0..8).map(|_| sample("pre", Source::Screened, 5)).collect();
    let held_out = vec![sample("held", Source::Screened, 5)];
    let trained = train(&training, &held_out, &settings(20, 0), &mut |_| {}).unwrap();
    assert_eq!(trained.kept_step, 20);
}
