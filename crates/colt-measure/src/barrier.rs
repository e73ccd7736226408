//! The barrier kernels call between dependent phases, and the runner uses
//! to start and end a run on every task at once.
//!
//! It spins: a phase of a tuned kernel can be microseconds, and a futex
//! wake-up costs about as much, so a sleeping barrier would time the
//! scheduler, not the kernel. Threads only ever wait here on their own
//! pinned core while no other work of colt runs on it (the timing gate), so
//! spinning steals nothing; after a long wait it yields, so that an
//! unpinned or oversubscribed run still finishes.

use std::ffi::c_void;
use std::hint::spin_loop;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Spins before yielding (a few microseconds of `pause`).
const SPINS_BEFORE_YIELD: u32 = 1 << 14;

pub struct SpinBarrier {
    parties: usize,
    arrived: AtomicUsize,
    generation: AtomicUsize,
}

impl SpinBarrier {
    pub fn new(parties: usize) -> SpinBarrier {
        SpinBarrier { parties: parties.max(1), arrived: AtomicUsize::new(0), generation: AtomicUsize::new(0) }
    }

    /// Returns once all `parties` threads have called it.
    pub fn wait(&self) {
        // Read the generation before arriving: the last arrival bumps it, so
        // a waiter that read it afterwards would wait for the next round.
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.parties {
            // Nobody re-arrives before the bump below releases them, so the
            // reset is ordered before any arrival of the next round.
            self.arrived.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::Release);
            return;
        }
        let mut spins = 0;
        while self.generation.load(Ordering::Acquire) == generation {
            if spins < SPINS_BEFORE_YIELD {
                spins += 1;
                spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// The `colt_barrier_fn` given to kernels; `ctx` is a `*const SpinBarrier`.
///
/// # Safety
/// `ctx` must point to a live `SpinBarrier`.
pub unsafe extern "C" fn barrier_callback(ctx: *mut c_void) {
    // SAFETY: the runner passes a pointer to the team's barrier, which
    // outlives every kernel call of the team.
    let barrier = unsafe { &*(ctx as *const SpinBarrier) };
    barrier.wait();
}
