//! How long a specialist's calls take, and where the time goes: for each
//! suite workload, sampled nodes are asked for answers in turn (as the
//! tree asks, node after node in one session), and the call's prompt
//! decoding, answer decoding and mask work are timed apart.
//!
//! ```text
//! cargo build --release --workspace --examples
//! target/release/examples/specialist_calls bench/specialist/xeon-2026-12-07/specialist.gguf [NODES] [ANSWERS] [THREADS]
//! ```

use colt_actors::llm::{specialist_answers, SpecialistQuery};
use colt_ir::schedule::{legal_edits, Candidate, Machine, Sampler, Target};
use colt_ir::{load_workload, Size};

use colt_llm::{Model, SessionOptions};
use colt_policy::specialist::{prompt, AnswerConstraint, MachineView, Vocabulary};
use colt_policy::{ModelSpec, Roster};
use std::sync::Arc;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).ok_or("usage: specialist_calls MODEL.gguf [NODES] [ANSWERS] [THREADS]")?;
    let nodes: u64 = args.get(2).map_or(Ok(8), |s| s.parse()).map_err(|e| format!("NODES: {e}"))?;
    let answers: u32 = args.get(3).map_or(Ok(4), |s| s.parse()).map_err(|e| format!("ANSWERS: {e}"))?;
    let threads: u32 = args.get(4).map_or(Ok(2), |s| s.parse()).map_err(|e| format!("THREADS: {e}"))?;
    let model = Model::load(path)?;
    let options = SessionOptions::default().threads(threads).sequences(8).batch_tokens(32);
    let mut session = model.session(options)?;
    let vocabulary = Vocabulary::new();
    let machine = Machine { lanes: 16, registers: 32, cores: 2 };
    let view = MachineView::of(machine, &[48 << 10, 2 << 20, 32 << 20]);
    let roster = Roster::new(vec![ModelSpec::new("specialist", 1_000_000)])?;
    let asking = roster.ids().next().ok_or("the roster has its one model")?;
    for workload in colt_ir::SUITE.iter().map(|w| w.name) {
        let program = Arc::new(load_workload(workload, Size::Bench)?);
        let (mut prompt_tokens, mut total, mut mask, mut calls, mut decode) = (0usize, 0.0, 0.0, 0, 0.0);
        let (mut first, mut steps) = (0.0, 0usize);
        for seed in 0..nodes {
            let node: Candidate = Sampler::Informed(machine).sample(program.clone(), Target::Cpu, seed);
            let started = Instant::now();
            let legal = legal_edits(&node);
            let query = SpecialistQuery {
                prompt: prompt(&vocabulary, &view, &node),
                constraint: Arc::new(AnswerConstraint::new(&vocabulary, &legal, &roster, asking)),
                temperature: colt_actors::llm::SPECIALIST_TEMPERATURE,
            };
            mask += started.elapsed().as_secs_f64();
            prompt_tokens += query.prompt.len();
            let started = Instant::now();
            let done = specialist_answers(&mut session, &query, seed as u32, answers, 64)?;
            total += started.elapsed().as_secs_f64();
            decode += done.iter().map(|c| c.stats.prompt_seconds + c.stats.generation_seconds).sum::<f64>();
            first += done.iter().map(|c| c.stats.prompt_seconds).sum::<f64>();
            steps += done.iter().map(|c| c.stats.generated_tokens).sum::<usize>();
            calls += 1;
        }
        println!(
            "{workload:18} {calls} calls of {answers} answers: prompt {:4} tokens, {:6.1} ms a call ({:6.1} ms in llama.cpp), {:5.1} ms building the query; answers' first steps {:5.1} ms, {:4.1} answer tokens an answer",
            prompt_tokens / calls,
            1e3 * total / calls as f64,
            1e3 * decode / calls as f64,
            1e3 * mask / calls as f64,
            1e3 * first / calls as f64,
            steps as f64 / (calls as f64 * answers as f64)
        );
    }
    Ok(())
}
