//! ε-greedy choice of the candidates to measure in a round: mostly the top
//! predicted unmeasured ones, sometimes a random one, so that a cost model
//! that is wrong about a region still gets measurements from it.

use crate::error::{check_range, PolicyError};
use colt_ir::schedule::Rng;

/// DESIGN.md's ε (the MetaSchedule evolutionary search's default).
pub const DEFAULT_EPSILON: f64 = 0.05;

/// The seeded ε-greedy picker.
pub struct EpsilonGreedy {
    epsilon: f64,
    rng: Rng,
}

impl EpsilonGreedy {
    /// `epsilon` in [0, 1].
    pub fn new(epsilon: f64, seed: u64) -> Result<EpsilonGreedy, PolicyError> {
        let epsilon = check_range("ε", epsilon, 0.0, 1.0, "[0, 1]")?;
        Ok(EpsilonGreedy { epsilon, rng: Rng::new(seed) })
    }

    /// Indices into `predicted` (the unmeasured candidates' predicted
    /// scores) of the `count` to measure, in pick order: each slot takes,
    /// with probability ε, a uniformly random candidate not yet picked,
    /// otherwise the best predicted one not yet picked (NaN ranks last,
    /// ties by index).
    pub fn pick(&mut self, predicted: &[f64], count: usize) -> Vec<usize> {
        let mut ranked: Vec<usize> = (0..predicted.len()).collect();
        let key = |i: usize| if predicted[i].is_nan() { f64::NEG_INFINITY } else { predicted[i] };
        ranked.sort_by(|&a, &b| key(b).total_cmp(&key(a)).then(a.cmp(&b)));
        let mut picked = Vec::with_capacity(count.min(ranked.len()));
        while picked.len() < count && !ranked.is_empty() {
            let at = if self.unit() < self.epsilon { self.rng.below(ranked.len()) } else { 0 };
            picked.push(ranked.remove(at));
        }
        picked
    }

    /// A uniform number in [0, 1) from the top 53 bits.
    fn unit(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epsilon_zero_is_the_top_predicted_in_order() {
        let mut g = EpsilonGreedy::new(0.0, 1).unwrap();
        assert_eq!(g.pick(&[0.3, f64::NAN, 0.9, 0.5, 0.9], 4), vec![2, 4, 3, 0]);
        assert_eq!(g.pick(&[0.3], 5), vec![0]);
        assert_eq!(g.pick(&[], 2), Vec::<usize>::new());
    }

    #[test]
    fn epsilon_one_is_uniform_and_seeded() {
        let scores: Vec<f64> = (0..10).map(f64::from).collect();
        let mut counts = [0u32; 10];
        let mut g = EpsilonGreedy::new(1.0, 9).unwrap();
        for _ in 0..10_000 {
            counts[g.pick(&scores, 1)[0]] += 1;
        }
        // 1000 expected per index; 5 standard deviations is ±150.
        assert!(counts.iter().all(|&c| (850..1150).contains(&c)), "{counts:?}");
        let a = EpsilonGreedy::new(0.5, 3).unwrap().pick(&scores, 5);
        let b = EpsilonGreedy::new(0.5, 3).unwrap().pick(&scores, 5);
        assert_eq!(a, b);
    }

    #[test]
    fn the_default_epsilon_explores_about_one_pick_in_twenty() {
        let scores: Vec<f64> = (0..100).map(f64::from).collect();
        let mut g = EpsilonGreedy::new(DEFAULT_EPSILON, 5).unwrap();
        // The first pick is random with probability 0.05 and then hits the
        // top one only 1% of the time: ~4.95% of rounds do not start with 99.
        let rounds = 20_000;
        let off = (0..rounds).filter(|_| g.pick(&scores, 1)[0] != 99).count();
        let share = off as f64 / rounds as f64;
        assert!((0.04..0.06).contains(&share), "{share}");
        assert!(EpsilonGreedy::new(1.5, 0).is_err());
    }
}
