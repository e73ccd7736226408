//! Where each command's reports get this machine's limits, for the
//! roofline bound they show beside the best kernel (colt-report's
//! `bound_of`). Each command asks once.

use colt_measure::limits::MachineLimits;
use std::path::Path;

/// The measured limits of the target labelled `label`, as the database at
/// `db` keeps them; None while they are not measured, and reports then say
/// the bound is not measured rather than show a guessed one.
pub(crate) fn machine_limits(db: &Path, label: &str) -> Option<MachineLimits> {
    // merge: crate::machine::limits_for
    let _ = (db, label);
    None
}
