//! Per-model statistics, shown to the models in every prompt and used to
//! route when an answer names no usable next model.
//!
//! Every counter is an atomic, so the search threads record into one
//! [`ModelStats`] through `&self`. A [`ModelSummary`] is read one counter
//! at a time: while threads record, it may mix an older and a newer count
//! (statistics for a prompt, exact once the threads are joined).

use crate::roster::Roster;
use colt_tree::ModelId;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// What one call of a model cost and how its answer read.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CallRecord {
    /// Prompt plus generated tokens.
    pub tokens: u64,
    pub seconds: f64,
    /// Edits of the answer that were unknown or illegal on the candidate.
    pub illegal_edits: u64,
    /// The answer's next model was missing or not in the roster.
    pub missing_next_model: bool,
    /// The call produced nothing usable (no answer, or no legal edit).
    pub failed: bool,
}

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    hits: AtomicU64,
    illegal_edits: AtomicU64,
    missing_next_model: AtomicU64,
    failures: AtomicU64,
    tokens: AtomicU64,
    nanos: AtomicU64,
}

/// A model's statistics at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ModelSummary {
    pub calls: u64,
    /// Calls whose child beat its parent.
    pub hits: u64,
    pub illegal_edits: u64,
    pub missing_next_model: u64,
    pub failures: u64,
    pub tokens: u64,
    pub seconds: f64,
}

impl ModelSummary {
    /// Errors: illegal edits + missing next models + failed calls.
    pub fn errors(&self) -> u64 {
        self.illegal_edits + self.missing_next_model + self.failures
    }

    /// Share of calls whose child beat its parent; 0 before the first call.
    pub fn hit_rate(&self) -> f64 {
        if self.calls == 0 {
            0.0
        } else {
            self.hits as f64 / self.calls as f64
        }
    }
}

/// The statistics of every model of a roster.
pub struct ModelStats {
    roster: Arc<Roster>,
    models: Vec<Counters>,
}

impl ModelStats {
    pub fn new(roster: Arc<Roster>) -> ModelStats {
        let models = roster.ids().map(|_| Counters::default()).collect();
        ModelStats { roster, models }
    }

    pub fn roster(&self) -> &Arc<Roster> {
        &self.roster
    }

    /// Counts one call of `model` (ignored for a model not in the roster).
    pub fn record_call(&self, model: ModelId, call: CallRecord) {
        let Some(c) = self.models.get(usize::from(model.0)) else { return };
        c.calls.fetch_add(1, Relaxed);
        c.illegal_edits.fetch_add(call.illegal_edits, Relaxed);
        c.missing_next_model.fetch_add(u64::from(call.missing_next_model), Relaxed);
        c.failures.fetch_add(u64::from(call.failed), Relaxed);
        c.tokens.fetch_add(call.tokens, Relaxed);
        // Nanoseconds in a u64 hold 584 years of calls.
        c.nanos.fetch_add((call.seconds.max(0.0) * 1e9) as u64, Relaxed);
    }

    /// Counts that a call of `model` produced a child that beat its parent
    /// (known only once the child is scored, after the call was recorded).
    pub fn record_hit(&self, model: ModelId) {
        if let Some(c) = self.models.get(usize::from(model.0)) {
            c.hits.fetch_add(1, Relaxed);
        }
    }

    pub fn summary(&self, model: ModelId) -> ModelSummary {
        let Some(c) = self.models.get(usize::from(model.0)) else { return ModelSummary::default() };
        ModelSummary {
            calls: c.calls.load(Relaxed),
            hits: c.hits.load(Relaxed),
            illegal_edits: c.illegal_edits.load(Relaxed),
            missing_next_model: c.missing_next_model.load(Relaxed),
            failures: c.failures.load(Relaxed),
            tokens: c.tokens.load(Relaxed),
            seconds: c.nanos.load(Relaxed) as f64 / 1e9,
        }
    }

    /// The routing fallback for an answer with no usable next model: the
    /// model with the best hit rate; ties go to the smallest model (the
    /// cheapest way to learn more), then to the first listed.
    pub fn fallback_model(&self) -> ModelId {
        let key = |id: ModelId| {
            let parameters = self.roster.get(id).map_or(u64::MAX, |m| m.parameters);
            (self.summary(id).hit_rate(), std::cmp::Reverse(parameters), std::cmp::Reverse(id.0))
        };
        self.roster
            .ids()
            .max_by(|&a, &b| {
                let (ra, pa, ia) = key(a);
                let (rb, pb, ib) = key(b);
                ra.total_cmp(&rb).then(pa.cmp(&pb)).then(ia.cmp(&ib))
            })
            .unwrap_or(self.roster.smallest())
    }

    /// The next model an answer asked for, or the fallback when it named
    /// none usable.
    pub fn route(&self, asked: Option<ModelId>) -> ModelId {
        asked.filter(|id| self.roster.get(*id).is_some()).unwrap_or_else(|| self.fallback_model())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::ModelSpec;

    fn stats() -> ModelStats {
        let roster =
            Roster::new(vec![ModelSpec::new("big", 27), ModelSpec::new("small", 1), ModelSpec::new("mid", 4)]).unwrap();
        ModelStats::new(Arc::new(roster))
    }

    #[test]
    fn counts_and_rates_add_up() {
        let s = stats();
        let small = ModelId(1);
        s.record_call(small, CallRecord { tokens: 700, seconds: 0.5, illegal_edits: 2, ..CallRecord::default() });
        s.record_call(
            small,
            CallRecord { tokens: 300, seconds: 0.25, missing_next_model: true, ..CallRecord::default() },
        );
        s.record_call(small, CallRecord { failed: true, ..CallRecord::default() });
        s.record_call(small, CallRecord::default());
        s.record_hit(small);
        let sum = s.summary(small);
        assert_eq!((sum.calls, sum.hits, sum.tokens, sum.errors()), (4, 1, 1000, 4));
        assert_eq!(sum.hit_rate(), 0.25);
        assert!((sum.seconds - 0.75).abs() < 1e-9);
        assert_eq!(s.summary(ModelId(0)).hit_rate(), 0.0);
        s.record_call(ModelId(42), CallRecord::default()); // not in the roster: ignored
    }

    #[test]
    fn fallback_is_the_best_hit_rate_and_ties_go_to_the_smallest() {
        let s = stats();
        assert_eq!(s.fallback_model(), ModelId(1), "no calls: all tie at 0, smallest wins");
        // mid: 1 of 2; big: 1 of 1 → big.
        for _ in 0..2 {
            s.record_call(ModelId(2), CallRecord::default());
        }
        s.record_hit(ModelId(2));
        assert_eq!(s.fallback_model(), ModelId(2));
        s.record_call(ModelId(0), CallRecord::default());
        s.record_hit(ModelId(0));
        assert_eq!(s.fallback_model(), ModelId(0));
        // small catches up to 1 of 1: ties with big, smaller wins.
        s.record_call(ModelId(1), CallRecord::default());
        s.record_hit(ModelId(1));
        assert_eq!(s.fallback_model(), ModelId(1));
        assert_eq!(s.route(Some(ModelId(2))), ModelId(2));
        assert_eq!(s.route(Some(ModelId(7))), ModelId(1));
        assert_eq!(s.route(None), ModelId(1));
    }

    #[test]
    fn threads_record_without_losing_counts() {
        let s = stats();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for i in 0..1000 {
                        s.record_call(
                            ModelId(i % 3),
                            CallRecord { tokens: 3, seconds: 0.001, ..CallRecord::default() },
                        );
                        if i % 2 == 0 {
                            s.record_hit(ModelId(i % 3));
                        }
                    }
                });
            }
        });
        let calls: u64 = (0..3).map(|m| s.summary(ModelId(m)).calls).sum();
        let hits: u64 = (0..3).map(|m| s.summary(ModelId(m)).hits).sum();
        let tokens: u64 = (0..3).map(|m| s.summary(ModelId(m)).tokens).sum();
        assert_eq!((calls, hits, tokens), (4000, 2000, 12000));
    }
}
