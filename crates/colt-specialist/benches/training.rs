//! A training step and a forward pass at a specialist's shape: 4 blocks of
//! width 128, 4 heads, a vocabulary of 512, sequences of 512 tokens (a schedule prompt and its answer).
//! Training throughput is 2,048 tokens (a batch of 4 sequences) over the
//! step's time.

use colt_specialist::{Config, Example, Model, TrainOptions, Trainer};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn batch(config: &Config, sequences: usize, len: usize) -> Vec<Example> {
    (0..sequences)
        .map(|s| Example {
            tokens: (0..len).map(|i| ((s * 7919 + i * 104_729) % config.vocab) as u32).collect(),
            answer_start: len / 2,
        })
        .collect()
}

fn training(c: &mut Criterion) {
    let config = Config::new(512, 128, 4, 4, 1024);
    let examples = batch(&config, 4, 512);
    let mut group = c.benchmark_group("specialist");
    group.sample_size(10);
    group.throughput(Throughput::Elements(4 * 512));
    let mut trainer = Trainer::new(Model::init(config, 1).unwrap(), TrainOptions::default());
    group.bench_function("train step, 4 x 512 tokens, 2 threads", |b| b.iter(|| trainer.step(&examples).unwrap()));
    let model = Model::init(config, 1).unwrap();
    group.throughput(Throughput::Elements(512));
    group.bench_function("forward, 512 tokens", |b| b.iter(|| model.logits(&examples[0].tokens)));
    group.finish();
}

criterion_group!(benches, training);
criterion_main!(benches);
