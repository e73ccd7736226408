//! Who runs a job: a job row carries its owner (the process running it:
//! host, pid, the pid's start time, the command) and a lease, renewed while
//! the owner runs it. A job is claimed before anything of it is measured,
//! so a daemon never resumes a job that a live `colt tune` (or another
//! daemon) is running, and a job whose owner died is taken over.
//!
//! An owner is dead when its lease has run out, or, on this host, when its
//! pid no longer names a process started at the recorded time (a reused
//! pid is another process). A live owner on this host keeps its job even
//! past the lease: running a job twice at once is the failure to avoid,
//! and a process that is merely stopped (SIGSTOP, a debugger) may go on.
//!
//! A job whose owner died while running it [`MAX_CRASHES`] times is marked
//! failed instead of being taken again: a job that kills every process that
//! runs it would otherwise be resumed, and kill, forever.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How long a claim holds without renewal; owners renew every
/// [`LEASE_RENEWAL`].
pub const LEASE: Duration = Duration::from_secs(60);

/// How often an owner renews its lease.
pub const LEASE_RENEWAL: Duration = Duration::from_secs(15);

/// How many times a job's owner may die while running it before the job is
/// failed rather than resumed.
pub const MAX_CRASHES: u32 = 2;

/// A process that runs jobs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub host: String,
    pub pid: u32,
    /// The process's start time (clock ticks after boot, `/proc/PID/stat`
    /// field 22): with the pid, it names one process across pid reuse.
    pub started: u64,
    /// What it is, for messages: `colt serve`, `colt tune`.
    pub command: String,
}

impl Owner {
    /// This process, described as `command`.
    pub fn this_process(command: &str) -> Owner {
        let pid = std::process::id();
        Owner { host: hostname(), pid, started: start_time(pid).unwrap_or(0), command: command.to_string() }
    }

    /// Whether this owner's process still runs: `Some` on this host, `None`
    /// on another (only its lease tells).
    pub fn alive_here(&self) -> Option<bool> {
        if self.host != hostname() {
            return None;
        }
        Some(start_time(self.pid) == Some(self.started))
    }
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (pid {} on {})", self.command, self.pid, self.host)
    }
}

/// What [`crate::TuningDb::claim_job`] found.
#[derive(Clone, Debug, PartialEq)]
pub enum Claim {
    /// The job is this owner's now (its lease runs from now).
    Claimed,
    /// Another live owner runs it.
    Held { owner: Owner, lease_until_unix: f64 },
    /// Its owners died [`MAX_CRASHES`] times while running it: the job is
    /// marked failed with `reason`, and not claimed.
    GaveUp { reason: String },
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map_or_else(|_| "localhost".into(), |h| h.trim().to_string())
}

/// Field 22 of `/proc/PID/stat`; the command name (field 2) is in
/// parentheses and may hold spaces, so fields are counted after its `)`.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_changed_start_time_is_not() {
        let me = Owner::this_process("test");
        assert!(me.started > 0, "no start time read from /proc");
        assert_eq!(me.alive_here(), Some(true));
        let reused_pid = Owner { started: me.started + 1, ..me.clone() };
        assert_eq!(reused_pid.alive_here(), Some(false));
        let elsewhere = Owner { host: "another-host".into(), ..me };
        assert_eq!(elsewhere.alive_here(), None);
    }
}
