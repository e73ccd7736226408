//! The cost model: an analytical roofline prior that ranks candidates from
//! the first trial, corrected online by gradient-boosted trees.

mod model;
mod rank;
mod roofline;

pub use model::{CostModel, HALF_WEIGHT_SAMPLES, MIN_TRAINING_SAMPLES};
pub use rank::spearman;
pub use roofline::{MeasuredLevel, MeasuredMachine, Roofline, RooflineReading};
