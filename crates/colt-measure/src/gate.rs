//! The gate between builds and timed runs: builds may overlap each other,
//! but a timed run waits for running builds to finish and holds new ones
//! back until it is done, so a compiler never shares the measured cores
//! with a timing (DESIGN.md, "measurement never shares the measured cores
//! with ... compilation").

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Cheap to clone; clones share one gate.
#[derive(Clone, Debug, Default)]
pub struct TimingGate(Arc<RwLock<()>>);

/// Held while a build runs.
pub struct BuildPermit<'a>(#[allow(dead_code)] RwLockReadGuard<'a, ()>);

/// Held while a measurement times a kernel.
pub struct TimingPermit<'a>(#[allow(dead_code)] RwLockWriteGuard<'a, ()>);

impl TimingGate {
    pub fn new() -> TimingGate {
        TimingGate::default()
    }

    /// Waits until no timing runs. std's `RwLock` on Linux prefers waiting
    /// writers, so a stream of builds cannot starve a timing.
    pub fn building(&self) -> BuildPermit<'_> {
        // The lock guards no data, so a panic while it was held left
        // nothing inconsistent: poisoning is ignored.
        BuildPermit(self.0.read().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// Waits until no build runs.
    pub fn timing(&self) -> TimingPermit<'_> {
        TimingPermit(self.0.write().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}
