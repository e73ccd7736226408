//! A closed pause gate holds a call still until it opens.

mod common;

use colt_llm::{ChatPrompt, Generation, PauseGate};
use std::time::Duration;

#[test]
fn a_call_waits_while_the_gate_is_closed() {
    let gate = PauseGate::new();
    let paused = gate.pause();
    let session_gate = gate.clone();
    let call = std::thread::spawn(move || {
        // Sessions are not Send: each lives on the thread that uses it.
        let mut session = common::small_model().session(common::options().pause_gate(session_gate)).unwrap();
        session.chat(&ChatPrompt::new("Be brief.", "Hi"), &Generation::new(4).seed(1)).unwrap()
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(!call.is_finished(), "the call ran through a closed gate");
    drop(paused);
    let answer = call.join().unwrap();
    assert!(answer.stats.paused_seconds > 0.0, "{:?}", answer.stats);
    // Time spent waiting is not counted as work.
    assert!(answer.stats.prompt_seconds + answer.stats.generation_seconds > 0.0);
}
