//! Values as fixed-point integers.
//!
//! A value is a normalised throughput in [0, 1]. The tree adds values into
//! per-node sums from many threads at once and later *replaces* predicted
//! contributions with measured ones by adding a signed delta. Storing sums as
//! fixed-point integers (units of 2⁻³² of a value) rather than `f64` bits
//! updated by compare-and-swap gives three things:
//!
//! - **exactness**: integer addition is associative, so after any interleaving
//!   of backups and corrections a node's sum is exactly its own terminal
//!   contributions plus its children's sums; the invariant can be checked with
//!   `==`, and a correction undoes a prediction to the last bit;
//! - **wait-free updates**: one `fetch_add` per node, where an `f64` sum needs a
//!   CAS loop that retries under contention (the root is updated by every
//!   search thread on every backup);
//! - **enough range and precision**: a step of 2⁻³² ≈ 2.3·10⁻¹⁰ is far below
//!   any difference a measurement can show, and an `i64` holds 2³¹ (two
//!   billion) backups of the maximal value 1.

use crate::error::TreeError;

/// One value of 1.0, in units.
pub(crate) const ONE: i64 = 1 << 32;

/// A value in [0, 1], checked, in fixed-point units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Units(pub(crate) i64);

impl Units {
    /// Checks that `value` is a value the tree can hold and converts it,
    /// rounding to the nearest unit.
    pub(crate) fn from_value(value: f64) -> Result<Self, TreeError> {
        if !(0.0..=1.0).contains(&value) {
            // Also rejects NaN: `contains` is false for it.
            return Err(TreeError::ValueOutOfRange { value });
        }
        Ok(Units::quantize(value))
    }

    /// Converts a value already checked to be in [0, 1] (the product is then
    /// in [0, 2^32] and the cast exact).
    pub(crate) fn quantize(value: f64) -> Self {
        Units((value * ONE as f64).round() as i64)
    }

    pub(crate) fn to_value(self) -> f64 {
        to_value(self.0)
    }
}

/// Converts a sum in units back to a value (sums may exceed 1).
pub(crate) fn to_value(units: i64) -> f64 {
    units as f64 / ONE as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_within_one_unit() {
        for v in [0.0, 1.0, 0.5, 0.1, 1.0 / 3.0, 0.999_999_999] {
            let back = Units::from_value(v).unwrap().to_value();
            assert!((back - v).abs() <= 1.0 / ONE as f64, "{v} -> {back}");
        }
    }

    #[test]
    fn rejects_values_outside_unit_interval() {
        for v in [-0.0001, 1.0001, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(matches!(Units::from_value(v), Err(TreeError::ValueOutOfRange { .. })));
        }
    }

    #[test]
    fn extremes_are_exact() {
        assert_eq!(Units::from_value(0.0).unwrap().0, 0);
        assert_eq!(Units::from_value(1.0).unwrap().0, ONE);
    }
}
