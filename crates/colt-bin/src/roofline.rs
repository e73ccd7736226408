//! Where each command gets this machine's limits, before its jobs: the
//! jobs' cost-model prior runs on them (colt-actors' `job_roofline` reads
//! them from the tuning database), and the reports show each best
//! kernel's roofline bound (colt-report's `bound_of`). Each command asks
//! once.

use colt_actors::Colt;
use colt_db::TuningDb;
use colt_measure::limits::MachineLimits;
use colt_measure::{Builder, CpuConfig, Target};
use std::path::Path;

/// This machine's limits for the target labelled `label`: what `colt`'s
/// tuning database holds, else what this machine measured for another
/// database, else measured now (a few seconds, once per hardware label:
/// [`crate::machine::limits_for`]) and stored in that database. None for
/// a target that is not this CPU, and where they cannot be had (said on
/// stderr): reports then say the bound is not measured rather than show a
/// guessed one. Called before the command's jobs (their cost models'
/// prior runs on these limits: colt-actors' `job_roofline`), so that the
/// probes have the cores to themselves. Asked through `colt`'s own
/// connection: a second one would checkpoint the database's log into its
/// main file when it closes, so that a copy of the file taken while a job
/// runs would no longer be just the header the job's log extends
/// (`tests/faults.rs` copies one).
pub(crate) fn machine_limits(colt: &Colt, label: &str) -> Option<MachineLimits> {
    if label != Target::Cpu.label() {
        return None;
    }
    let found = colt
        .db()
        .call(|db| crate::machine::limits_for(&mut **db, &Builder::system(), &CpuConfig::default(), false))
        .map_err(anyhow::Error::from)
        .and_then(|limits| limits);
    found.map_err(|e| eprintln!("colt: no roofline bound in this report: {e:#}")).ok()
}

/// The limits a read-only command (`colt show`) can give without writing
/// or measuring: the database's, else this machine's kept ones.
pub(crate) fn stored_machine_limits(db: &Path, label: &str) -> Option<MachineLimits> {
    if label != Target::Cpu.label() {
        return None;
    }
    let cores = CpuConfig::default().cores.len();
    let stored = TuningDb::open_read_only(db).ok().and_then(|store| store.machine_limits(label).ok().flatten());
    stored
        .and_then(|record| crate::machine::usable(&record.limits_json, label, cores))
        .or_else(|| crate::machine::remembered(label, cores))
}
