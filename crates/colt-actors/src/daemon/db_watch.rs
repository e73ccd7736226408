//! Whether the daemon's database server answers, watched on a connection
//! of its own: the database actor's connection may be stuck in a job's
//! statement (up to `colt_db::STATEMENT_DEADLINE`, then redialled for up
//! to `colt_db::RECONNECT_FOR`), and health must not wait behind it. A
//! SQLite file is not watched (it cannot stop answering while the actor
//! lives; a dead actor is reported as before).

use super::Daemon;
use colt_db::ServerProbe;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// How often the server is asked `SELECT 1`.
pub const PROBE_EVERY: Duration = Duration::from_secs(2);

/// Longest one probe (a dial, or `SELECT 1`) waits for the server. With
/// [`PROBE_EVERY`], a server that stops answering is reported within
/// `PROBE_EVERY + PROBE_DEADLINE` (5 s), inside the 10 s health promises,
/// and a loaded but live server (answers in milliseconds) is not.
pub const PROBE_DEADLINE: Duration = Duration::from_secs(3);

impl Daemon {
    /// Starts the watch of the database server (nothing for a file).
    pub(super) fn watch_database(self: &Arc<Self>) -> std::io::Result<()> {
        let probe = match ServerProbe::new(self.colt.db_location().given()) {
            Ok(Some(probe)) => probe,
            Ok(None) => return Ok(()),
            // The URL parsed when the actor connected: it parses again.
            Err(e) => {
                *self.database_trouble.lock() = Some(e.to_string());
                return Ok(());
            }
        };
        let daemon = Arc::downgrade(self);
        std::thread::Builder::new().name("database watch".into()).spawn(move || watch(daemon, probe))?;
        Ok(())
    }
}

fn watch(daemon: Weak<Daemon>, mut probe: ServerProbe) {
    loop {
        let started = Instant::now();
        let answer = probe.check(PROBE_DEADLINE);
        let Some(daemon) = daemon.upgrade() else { return };
        if daemon.shutting_down.load(Ordering::SeqCst) {
            return;
        }
        *daemon.database_trouble.lock() = answer.err().map(|e| e.to_string());
        drop(daemon);
        std::thread::sleep(PROBE_EVERY.saturating_sub(started.elapsed()));
    }
}
