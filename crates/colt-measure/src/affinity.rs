//! Pinning threads to the measured cores (Linux `sched_setaffinity`).

use serde::{Deserialize, Serialize};

/// Why a thread could not be pinned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("cannot pin a thread to core {core}: {message}")]
pub struct PinError {
    pub core: usize,
    pub message: String,
}

/// A thread's CPU set, to restore after pinning.
pub struct CpuSet(libc::cpu_set_t);

/// The cores this process may run on, ascending.
pub fn available_cores() -> Vec<usize> {
    match current() {
        // SAFETY: `CPU_ISSET` reads a bit of an initialised set.
        Some(set) => (0..libc::CPU_SETSIZE as usize).filter(|&c| unsafe { libc::CPU_ISSET(c, &set.0) }).collect(),
        None => (0..std::thread::available_parallelism().map_or(1, |n| n.get())).collect(),
    }
}

/// The calling thread's CPU set.
pub fn current() -> Option<CpuSet> {
    // SAFETY: a zeroed `cpu_set_t` is a valid empty set, and the call
    // writes at most `size_of` bytes into it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        (libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0).then_some(CpuSet(set))
    }
}

/// Pins the calling thread to `core`.
pub fn pin_to(core: usize) -> Result<(), PinError> {
    if core >= libc::CPU_SETSIZE as usize {
        return Err(PinError { core, message: "beyond CPU_SETSIZE".into() });
    }
    // SAFETY: as in `current`; `core` is below CPU_SETSIZE.
    let set = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(core, &mut set);
        CpuSet(set)
    };
    restore(&set).map_err(|e| PinError { core, message: e.to_string() })
}

/// Gives the calling thread `set` (e.g. what [`current`] returned).
pub fn restore(set: &CpuSet) -> std::io::Result<()> {
    // SAFETY: `set.0` is an initialised set of the size passed.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set.0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
