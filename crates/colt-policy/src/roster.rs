//! The models a job searches with, and φ, the preference for small ones.

use crate::error::PolicyError;
use colt_tree::ModelId;

/// One model as the policy knows it: a name (what prompts and answers call
/// it) and its parameter count (read from its GGUF by colt-llm).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelSpec {
    pub name: String,
    pub parameters: u64,
}

impl ModelSpec {
    pub fn new(name: impl Into<String>, parameters: u64) -> ModelSpec {
        ModelSpec { name: name.into(), parameters }
    }
}

/// The models of a job, indexed by [`ModelId`] (the position in the list
/// given to [`Roster::new`]), with each model's φ computed once.
#[derive(Clone, Debug)]
pub struct Roster {
    models: Vec<ModelSpec>,
    phi: Vec<f64>,
    largest: ModelId,
    smallest: ModelId,
}

impl Roster {
    /// At least one model, at most `u16::MAX`, names unique and non-empty,
    /// parameter counts positive (φ takes their logarithm).
    pub fn new(models: Vec<ModelSpec>) -> Result<Roster, PolicyError> {
        if models.is_empty() {
            return Err(PolicyError::NoModels);
        }
        if models.len() > usize::from(u16::MAX) {
            return Err(PolicyError::TooManyModels(models.len()));
        }
        for (i, m) in models.iter().enumerate() {
            if m.name.is_empty() || m.name.contains(['"', '\\']) || m.name.chars().any(char::is_control) {
                return Err(PolicyError::BadModelName(m.name.clone()));
            }
            if m.parameters == 0 {
                return Err(PolicyError::ZeroParameters(m.name.clone()));
            }
            if models[..i].iter().any(|other| other.name == m.name) {
                return Err(PolicyError::DuplicateModel(m.name.clone()));
            }
        }
        let ln: Vec<f64> = models.iter().map(|m| (m.parameters as f64).ln()).collect();
        let ln_max = ln.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let ln_min = ln.iter().copied().fold(f64::INFINITY, f64::min);
        // φ(m) = (ln Pmax − ln Pm) / (ln Pmax − ln Pmin). With one model or
        // equal sizes the denominator is 0 and no model is smaller than
        // another: every φ is 1, a constant, so it does not change any
        // ranking (and λ is ignored anyway when children share a model).
        let span = ln_max - ln_min;
        let phi = ln.iter().map(|&l| if span > 0.0 { (ln_max - l) / span } else { 1.0 }).collect();
        // Ties: the first listed, so the choice is deterministic.
        let id = |i: usize| ModelId(i as u16);
        let largest = id((0..models.len()).rev().max_by_key(|&i| models[i].parameters).unwrap_or(0));
        let smallest = id((0..models.len()).min_by_key(|&i| models[i].parameters).unwrap_or(0));
        Ok(Roster { models, phi, largest, smallest })
    }

    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// Never true: a roster has at least one model.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    pub fn ids(&self) -> impl Iterator<Item = ModelId> + '_ {
        (0..self.models.len()).map(|i| ModelId(i as u16))
    }

    pub fn get(&self, id: ModelId) -> Option<&ModelSpec> {
        self.models.get(usize::from(id.0))
    }

    /// The model called `name`, exactly.
    pub fn by_name(&self, name: &str) -> Option<ModelId> {
        self.models.iter().position(|m| m.name == name).map(|i| ModelId(i as u16))
    }

    /// φ of a model: 1 for the smallest, 0 for the largest, 0 for an id not
    /// in the roster (it earns no small-model bonus).
    pub fn phi(&self, id: ModelId) -> f64 {
        self.phi.get(usize::from(id.0)).copied().unwrap_or(0.0)
    }

    /// The model with the most parameters (the first listed on ties): the
    /// one course alteration escalates to.
    pub fn largest(&self) -> ModelId {
        self.largest
    }

    /// The model with the fewest parameters (the first listed on ties).
    pub fn smallest(&self) -> ModelId {
        self.smallest
    }

    /// A "small" model in the sense of course alteration: any model but the
    /// largest. With one model there is no small model.
    pub fn is_small(&self, id: ModelId) -> bool {
        self.get(id).zip(self.get(self.largest)).is_some_and(|(model, largest)| model.parameters < largest.parameters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roster() -> Roster {
        // 1B, 4B and 27B: the default trio's sizes, roughly.
        Roster::new(vec![
            ModelSpec::new("big", 27_000_000_000),
            ModelSpec::new("tiny", 1_000_000_000),
            ModelSpec::new("mid", 4_000_000_000),
        ])
        .unwrap()
    }

    #[test]
    fn phi_is_one_for_the_smallest_zero_for_the_largest_and_log_linear_between() {
        let r = roster();
        assert_eq!(r.phi(ModelId(0)), 0.0);
        assert_eq!(r.phi(ModelId(1)), 1.0);
        // (ln 27e9 − ln 4e9) / (ln 27e9 − ln 1e9) = ln 6.75 / ln 27
        let expected = 6.75f64.ln() / 27f64.ln();
        assert!((r.phi(ModelId(2)) - expected).abs() < 1e-12);
        assert!((expected - 0.579_380).abs() < 1e-6);
        assert_eq!(r.largest(), ModelId(0));
        assert_eq!(r.smallest(), ModelId(1));
        assert!(r.is_small(ModelId(1)) && r.is_small(ModelId(2)) && !r.is_small(ModelId(0)));
        assert_eq!(r.phi(ModelId(9)), 0.0);
    }

    #[test]
    fn one_model_or_equal_sizes_do_not_divide_by_zero() {
        let one = Roster::new(vec![ModelSpec::new("only", 7)]).unwrap();
        assert_eq!(one.phi(ModelId(0)), 1.0);
        assert!(!one.is_small(ModelId(0)));
        let equal = Roster::new(vec![ModelSpec::new("a", 5), ModelSpec::new("b", 5)]).unwrap();
        assert_eq!((equal.phi(ModelId(0)), equal.phi(ModelId(1))), (1.0, 1.0));
        assert!(!equal.is_small(ModelId(1)), "a model as large as the largest is not small");
        assert_eq!((equal.largest(), equal.smallest()), (ModelId(0), ModelId(0)));
    }

    #[test]
    fn bad_rosters_are_refused() {
        assert_eq!(Roster::new(vec![]).unwrap_err(), PolicyError::NoModels);
        assert!(matches!(Roster::new(vec![ModelSpec::new("a", 0)]), Err(PolicyError::ZeroParameters(_))));
        let dup = Roster::new(vec![ModelSpec::new("a", 1), ModelSpec::new("a", 2)]);
        assert!(matches!(dup, Err(PolicyError::DuplicateModel(_))));
        assert!(matches!(Roster::new(vec![ModelSpec::new("a\"b", 1)]), Err(PolicyError::BadModelName(_))));
    }
}
