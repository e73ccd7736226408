//! A gate that stops LLM work between tokens while something else needs the
//! cores (colt times kernels on them: DESIGN.md, "measurement never shares
//! the measured cores with LLM decoding").

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Shared between the thread that runs a [`crate::Session`] and the threads
/// that need it to stand still. Cloning gives another handle to the same gate.
///
/// A session passes the gate before each step — one prompt batch, or sampling
/// and decoding one token — and [`PauseGate::pause`] returns only once no
/// step is running, so from then until its guard drops llama.cpp does no
/// work at all. Steps are short (a token, or a batch of `batch_tokens`
/// prompt tokens), which bounds how long `pause` waits.
///
/// ```
/// let gate = colt_llm::PauseGate::new();
/// {
///     let _paused = gate.pause();
///     // time a kernel here: no session using `gate` decodes meanwhile
/// }
/// // dropped: sessions go on
/// ```
#[derive(Debug, Clone, Default)]
pub struct PauseGate {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Outstanding [`Paused`] guards; work waits while any exists.
    pauses: usize,
    /// Steps running now (one per session using the gate).
    steps: usize,
}

impl PauseGate {
    pub fn new() -> PauseGate {
        PauseGate::default()
    }

    /// Stops work at the next step boundary and waits until running steps
    /// have finished. Work resumes when every guard has been dropped.
    pub fn pause(&self) -> Paused {
        let mut state = self.lock();
        state.pauses += 1;
        while state.steps > 0 {
            state = self.wait(state);
        }
        Paused { gate: self.clone() }
    }

    /// Whether a pause is in force now.
    pub fn is_paused(&self) -> bool {
        self.lock().pauses > 0
    }

    /// Waits while paused, then marks a step as running until the returned
    /// guard drops. Returns how long it waited.
    pub(crate) fn step(&self) -> (Step<'_>, Duration) {
        let mut state = self.lock();
        let mut waited = Duration::ZERO;
        if state.pauses > 0 {
            let start = Instant::now();
            while state.pauses > 0 {
                state = self.wait(state);
            }
            waited = start.elapsed();
        }
        state.steps += 1;
        (Step { gate: self }, waited)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The lock guards two counters updated without panicking.
        self.shared.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.shared.changed.wait(state).unwrap_or_else(PoisonError::into_inner)
    }
}

/// Holds a [`PauseGate`] closed; dropping it lets work go on.
#[derive(Debug)]
#[must_use = "the pause ends when this guard is dropped"]
pub struct Paused {
    gate: PauseGate,
}

impl Drop for Paused {
    fn drop(&mut self) {
        self.gate.lock().pauses -= 1;
        self.gate.shared.changed.notify_all();
    }
}

/// One running step of a session.
pub(crate) struct Step<'a> {
    gate: &'a PauseGate,
}

impl Drop for Step<'_> {
    fn drop(&mut self) {
        self.gate.lock().steps -= 1;
        self.gate.shared.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn pause_waits_for_the_running_step_and_holds_the_next() {
        let gate = PauseGate::new();
        let (step, waited) = gate.step();
        assert_eq!(waited, Duration::ZERO);
        let pauser = gate.clone();
        let pausing = thread::spawn(move || {
            let paused = pauser.pause();
            (paused, Instant::now())
        });
        thread::sleep(Duration::from_millis(50));
        assert!(!pausing.is_finished(), "pause returned while a step was running");
        assert!(gate.is_paused());
        let step_done = Instant::now();
        drop(step);
        let (paused, paused_at) = pausing.join().unwrap();
        assert!(paused_at >= step_done);

        let stepper = gate.clone();
        let stepping = thread::spawn(move || stepper.step().1);
        thread::sleep(Duration::from_millis(50));
        assert!(!stepping.is_finished(), "a step ran while paused");
        drop(paused);
        stepping.join().unwrap();
        assert!(!gate.is_paused());
    }
}
