//! colt-policy: how colt's search decides.
//!
//! Will own: model-aware UCT, course alteration, per-model statistics and
//! routing fallbacks, the ε-greedy choice of candidates to measure, the cost
//! model, and the prompt and grammar of a joint action.
