//! The cost model: the roofline prior corrected by gradient-boosted trees
//! learned online from measurements.
//!
//! It works in log throughput. The trees learn the *residual* of the prior,
//! `ln measured − ln prior`, on colt-ir's features plus `ln prior`; the
//! prediction is `ln prior + mean residual + w·tree(features)` with
//! `w = n / (n + 16)` for `n` measurements. So with no measurement the
//! prior alone ranks; the mean residual calibrates its scale from the first
//! measurement; and the trees' correction weighs half at 16 measurements
//! and 80% at 64 (the half-weight point is a judgement for a 64-trial
//! budget: trees on fewer than ~16 points overfit).
//!
//! One model serves one job, and may start warm: measurements of other
//! workloads on the same target (the tuning database's, see
//! [`add_prior_measurement`](CostModel::add_prior_measurement)) train it
//! before the job's first round — the features are workload-independent
//! and throughputs are in flop/s, so one kernel's lesson carries to
//! another's. Those rows weigh [`PRIOR_WEIGHT`] measurements of the job's
//! own in all, however many they are, so the job's own measurements soon
//! dominate; and they count as that many measurements in the trees'
//! weight `w`. Predictions are normalised by the best throughput the job
//! itself measured.

use super::roofline::Roofline;
use colt_ir::features::{Features, FEATURE_COUNT};
use gbdt::config::Config;
use gbdt::decision_tree::{Data, DataVec};
use gbdt::gradient_boost::GBDT;

/// Measurements at which the learned correction weighs one half.
pub const HALF_WEIGHT_SAMPLES: f64 = 16.0;

/// The trees are not trained on fewer measurements than this.
pub const MIN_TRAINING_SAMPLES: usize = 4;

/// What all of a warm start's rows weigh together, in measurements of the
/// job's own: a full 64-trial job's worth (a judgement: enough that the
/// first rounds rank by them, little enough that the job's own
/// measurements outweigh them by its end).
pub const PRIOR_WEIGHT: f64 = 64.0;

/// Trees per fit, their depth, learning rate, smallest leaf: small, because
/// a job has at most a few hundred measurements and the model is refitted
/// from scratch after each measurement round (gbdt has no incremental fit;
/// a fit of 64 rows × 33 features takes about a millisecond).
const TREES: usize = 60;
const DEPTH: u32 = 3;
const SHRINKAGE: f32 = 0.1;
const MIN_LEAF: usize = 2;

/// The prior plus the learned correction.
pub struct CostModel {
    prior: Roofline,
    /// Features (with ln prior appended), ln measured throughput: the
    /// job's own measurements.
    samples: Vec<(Vec<f32>, f64)>,
    /// The same of other workloads' measurements (a warm start).
    prior_samples: Vec<(Vec<f32>, f64)>,
    mean_residual: f64,
    trees: Option<GBDT>,
    best_ln: Option<f64>,
}

impl CostModel {
    pub fn new(prior: Roofline) -> CostModel {
        CostModel {
            prior,
            samples: Vec::new(),
            prior_samples: Vec::new(),
            mean_residual: 0.0,
            trees: None,
            best_ln: None,
        }
    }

    /// The job's own measurements.
    pub fn samples(&self) -> usize {
        self.samples.len()
    }

    /// The warm start's measurements.
    /// The analytical prior the model starts from.
    pub fn prior(&self) -> &Roofline {
        &self.prior
    }

    pub fn prior_samples(&self) -> usize {
        self.prior_samples.len()
    }

    /// Records a measurement of another workload on the same target (a
    /// warm start; `throughput` in flop/s). It trains the model but does
    /// not set the scale predictions are normalised by.
    pub fn add_prior_measurement(&mut self, features: &Features, throughput: f64) {
        if !(throughput.is_finite() && throughput > 0.0) {
            return;
        }
        let row = self.row(features);
        self.prior_samples.push((row, throughput.ln()));
    }

    /// Weight of each warm-start row.
    fn prior_row_weight(&self) -> f64 {
        if self.prior_samples.is_empty() {
            0.0
        } else {
            (PRIOR_WEIGHT / self.prior_samples.len() as f64).min(1.0)
        }
    }

    /// Measurements the trees' weight counts: the job's own plus what the
    /// warm start weighs.
    fn effective_samples(&self) -> f64 {
        self.samples.len() as f64 + self.prior_row_weight() * self.prior_samples.len() as f64
    }

    /// Records a measurement of the job's (`throughput` in flop/s, the
    /// prior's unit and a warm start's).
    /// Non-finite or non-positive throughputs are ignored. Call
    /// [`retrain`](Self::retrain) after a round of them.
    pub fn add_measurement(&mut self, features: &Features, throughput: f64) {
        if !(throughput.is_finite() && throughput > 0.0) {
            return;
        }
        let row = self.row(features);
        let ln = throughput.ln();
        self.best_ln = Some(self.best_ln.map_or(ln, |b| b.max(ln)));
        self.samples.push((row, ln));
    }

    /// Refits the correction on every measurement so far (the warm
    /// start's included, weighted).
    pub fn retrain(&mut self) {
        let prior_weight = self.prior_row_weight();
        let rows: Vec<(&Vec<f32>, f64, f64)> = self
            .samples
            .iter()
            .map(|(row, ln)| (row, *ln, 1.0))
            .chain(self.prior_samples.iter().map(|(row, ln)| (row, *ln, prior_weight)))
            .collect();
        let total: f64 = rows.iter().map(|r| r.2).sum();
        if rows.is_empty() || total <= 0.0 {
            return;
        }
        let residual = |(row, ln, _): &(&Vec<f32>, f64, f64)| ln - f64::from(row[FEATURE_COUNT]);
        self.mean_residual = rows.iter().map(|r| r.2 * residual(r)).sum::<f64>() / total;
        if rows.len() < MIN_TRAINING_SAMPLES {
            self.trees = None;
            return;
        }
        let mut config = Config::new();
        config.set_feature_size(FEATURE_COUNT + 1);
        config.set_max_depth(DEPTH);
        config.set_iterations(TREES);
        config.set_shrinkage(SHRINKAGE);
        config.set_min_leaf_size(MIN_LEAF);
        config.set_loss("SquaredError");
        // No sampling: deterministic fits.
        config.set_data_sample_ratio(1.0);
        config.set_feature_sample_ratio(1.0);
        let mut data: DataVec = rows
            .iter()
            .map(|r| {
                let target = (residual(r) - self.mean_residual) as f32;
                Data::new_training_data(r.0.clone(), r.2 as f32, target, None)
            })
            .collect();
        let mut trees = GBDT::new(&config);
        // Every row has FEATURE_COUNT + 1 values (built by `row`), which is
        // the only thing gbdt's fit checks (it panics otherwise).
        trees.fit(&mut data);
        self.trees = Some(trees);
    }

    /// Predicted ln throughput.
    pub fn predict_ln(&self, features: &Features) -> f64 {
        let row = self.row(features);
        let prior = f64::from(row[FEATURE_COUNT]);
        let correction = match &self.trees {
            Some(trees) => {
                let n = self.effective_samples();
                let w = n / (n + HALF_WEIGHT_SAMPLES);
                let out = trees.predict(&vec![Data::new_test_data(row, None)]);
                w * f64::from(out.first().copied().unwrap_or(0.0))
            }
            None => 0.0,
        };
        prior + self.mean_residual + correction
    }

    /// Predicted throughput normalised by the best measured one, clamped
    /// to [0, 1] (the tree's value scale). Before any measurement it is
    /// normalised by a guessed best (see `ROOF_REFERENCE_LN`): uncalibrated,
    /// but ranking as the prior does.
    pub fn predict(&self, features: &Features) -> f64 {
        let ln = self.predict_ln(features);
        let reference = self.best_ln.unwrap_or(ROOF_REFERENCE_LN);
        (ln - reference).exp().clamp(0.0, 1.0)
    }

    fn row(&self, features: &Features) -> Vec<f32> {
        let mut row: Vec<f32> = features.0.iter().map(|&x| if x.is_finite() { x } else { 0.0 }).collect();
        let prior = self.prior.throughput(features).max(1.0).ln();
        row.push(prior as f32);
        row
    }
}

/// Before any measurement, predictions are normalised by 100 Gflop/s: a
/// guess of the best a job reaches, so early predictions fall in (0, 1)
/// and still rank as the prior does.
const ROOF_REFERENCE_LN: f64 = 25.328_436; // ln 1e11

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::spearman;
    use colt_ir::schedule::Candidate;
    use std::sync::Arc;

    fn gemm_features(count: u64) -> Vec<Features> {
        let program = Arc::new(colt_ir::builtin("gemm-512").unwrap().program(colt_ir::Size::Bench));
        (0..count).map(|seed| colt_ir::features::features(&Candidate::sample(program.clone(), seed))).collect()
    }

    fn machine() -> Roofline {
        Roofline { cores: 2, ..Roofline::default() }
    }

    #[test]
    fn without_measurements_the_prior_alone_predicts() {
        let model = CostModel::new(machine());
        for f in gemm_features(5) {
            assert!((model.predict_ln(&f) - machine().throughput(&f).ln()).abs() < 1e-4);
            assert!((0.0..=1.0).contains(&model.predict(&f)));
        }
    }

    #[test]
    fn a_constant_bias_of_the_prior_is_calibrated_away_by_the_mean_residual() {
        let mut model = CostModel::new(machine());
        let features = gemm_features(3);
        for f in &features {
            model.add_measurement(f, 2.0 * machine().throughput(f));
        }
        model.retrain();
        for f in &features {
            let expected = (2.0 * machine().throughput(f)).ln();
            assert!((model.predict_ln(f) - expected).abs() < 1e-4);
        }
        // Normalised by the best measured: the best is 1.
        let best = features.iter().map(|f| model.predict(f)).fold(0.0, f64::max);
        assert!((best - 1.0).abs() < 1e-3, "{best}");
    }

    #[test]
    fn the_trees_learn_what_the_prior_misses() {
        // Synthetic truth: the prior times a factor the prior does not model
        // (8x faster with contiguous loads, feature 6).
        let truth = |f: &Features| machine().throughput(f) * (3.0 * f64::from(f.0[6])).exp();
        let all = gemm_features(160);
        let (train, test) = all.split_at(64);
        let mut model = CostModel::new(machine());
        let actual: Vec<f64> = test.iter().map(truth).collect();
        let prior: Vec<f64> = test.iter().map(|f| model.predict_ln(f)).collect();
        for f in train {
            model.add_measurement(f, truth(f));
        }
        model.retrain();
        let learned: Vec<f64> = test.iter().map(|f| model.predict_ln(f)).collect();
        let (before, after) = (spearman(&prior, &actual).unwrap(), spearman(&learned, &actual).unwrap());
        assert!(after > before + 0.05, "prior ρ = {before:.3}, learned ρ = {after:.3}");
    }

    fn features_of(workload: &str, seeds: std::ops::Range<u64>) -> Vec<Features> {
        let program = Arc::new(colt_ir::builtin(workload).unwrap().program(colt_ir::Size::Bench));
        seeds.map(|seed| colt_ir::features::features(&Candidate::sample(program.clone(), seed))).collect()
    }

    #[test]
    fn a_warm_start_on_other_workloads_ranks_a_new_one_before_its_first_measurement() {
        // The same synthetic truth on every workload: what the prior misses
        // is a property of kernels, not of one workload.
        let truth = |f: &Features| machine().throughput(f) * (3.0 * f64::from(f.0[6])).exp();
        let test = features_of("llama3-8b-attn", 0..96);
        let actual: Vec<f64> = test.iter().map(truth).collect();
        let cold = CostModel::new(machine());
        let mut warm = CostModel::new(machine());
        for workload in ["gemm-512", "flux-conv", "deepseek-r1-moe"] {
            for f in features_of(workload, 0..64) {
                warm.add_prior_measurement(&f, truth(&f));
            }
        }
        warm.retrain();
        assert_eq!((warm.samples(), warm.prior_samples()), (0, 192));
        let rho = |m: &CostModel| spearman(&test.iter().map(|f| m.predict_ln(f)).collect::<Vec<_>>(), &actual).unwrap();
        let (before, after) = (rho(&cold), rho(&warm));
        assert!(after > before + 0.05, "cold ρ = {before:.3}, warm ρ = {after:.3}");
        // The warm start does not set the scale: still the reference's.
        let f = &test[0];
        assert!((warm.predict(f) - (warm.predict_ln(f) - ROOF_REFERENCE_LN).exp().clamp(0.0, 1.0)).abs() < 1e-9);
    }

    #[test]
    fn the_jobs_own_measurements_outweigh_a_large_warm_start() {
        // The warm start says feature 6 is good, the job's own kernels that
        // it is bad: after 64 of its own, the model ranks the job's way.
        let warm_truth = |f: &Features| machine().throughput(f) * (3.0 * f64::from(f.0[6])).exp();
        let own_truth = |f: &Features| machine().throughput(f) * (-3.0 * f64::from(f.0[6])).exp();
        let mut model = CostModel::new(machine());
        for f in features_of("gemm-512", 0..1000) {
            model.add_prior_measurement(&f, warm_truth(&f));
        }
        let all = features_of("flux-conv", 0..160);
        let (train, test) = all.split_at(64);
        for f in train {
            model.add_measurement(f, own_truth(f));
        }
        model.retrain();
        let actual: Vec<f64> = test.iter().map(own_truth).collect();
        let learned: Vec<f64> = test.iter().map(|f| model.predict_ln(f)).collect();
        let rho = spearman(&learned, &actual).unwrap();
        assert!(rho > 0.3, "ρ against the job's own truth = {rho:.3}");
    }

    #[test]
    fn degenerate_training_data_fits_without_panicking() {
        let mut model = CostModel::new(machine());
        let f = &gemm_features(1)[0];
        for _ in 0..8 {
            model.add_measurement(f, 1e9);
        }
        model.retrain();
        assert!(model.predict_ln(f).is_finite());
        assert!((model.predict(f) - 1.0).abs() < 1e-3);
    }

    #[test]
    fn bad_throughputs_are_ignored() {
        let mut model = CostModel::new(machine());
        let f = &gemm_features(1)[0];
        for t in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            model.add_measurement(f, t);
        }
        model.retrain();
        assert_eq!(model.samples(), 0);
    }
}
