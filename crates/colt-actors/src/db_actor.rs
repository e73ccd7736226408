//! The tuning-database actor: the one owner of the SQLite connection. A
//! request is a closure run on the actor's thread with the database, so
//! callers use `TuningDb`'s whole API without a message type per method.

use crate::system::{ask, ActorGone};
use actix::{Actor, Addr, Handler, Message, SyncContext};
use colt_db::TuningDb;
use crossbeam_channel::Sender;

type DbJob = Box<dyn FnOnce(&mut TuningDb) + Send>;

pub struct DbRequest(DbJob);

impl Message for DbRequest {
    type Result = ();
}

pub struct DbActor {
    db: TuningDb,
}

impl DbActor {
    pub fn new(db: TuningDb) -> DbActor {
        DbActor { db }
    }
}

impl Actor for DbActor {
    type Context = SyncContext<Self>;
}

impl Handler<DbRequest> for DbActor {
    type Result = ();

    fn handle(&mut self, request: DbRequest, _: &mut SyncContext<Self>) {
        // A panic inside one request drops its reply (the caller gets
        // `ActorGone` for that request) and leaves the actor serving the
        // next: its thread is the only one with the connection.
        let db = &mut self.db;
        if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (request.0)(db))) {
            tracing::error!("a database request panicked: {}", crate::measure::panic_message(&*panic));
        }
    }
}

/// A handle on the database actor.
#[derive(Clone)]
pub struct Db {
    addr: Addr<DbActor>,
}

impl Db {
    pub fn new(addr: Addr<DbActor>) -> Db {
        Db { addr }
    }

    /// Whether the actor still runs.
    pub fn connected(&self) -> bool {
        self.addr.connected()
    }

    /// Runs `f` with the database on the actor's thread and returns its
    /// result, or `None` if it did not come within `deadline` (`f` still
    /// runs when the actor gets to it: only for calls that change
    /// nothing, or whose late effect is wanted anyway).
    pub fn call_within<T: Send + 'static>(
        &self,
        deadline: std::time::Duration,
        f: impl FnOnce(&mut TuningDb) -> T + Send + 'static,
    ) -> Result<Option<T>, ActorGone> {
        let gone = ActorGone { actor: "tuning database" };
        let (reply, answer) = crossbeam_channel::bounded(1);
        let request = DbRequest(Box::new(move |db: &mut TuningDb| {
            let _ = reply.send(f(db));
        }));
        self.addr.try_send(request).map_err(|_| gone.clone())?;
        match answer.recv_timeout(deadline) {
            Ok(value) => Ok(Some(value)),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => Ok(None),
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Err(gone),
        }
    }

    /// Runs `f` with the database on the actor's thread and returns its
    /// result.
    pub fn call<T: Send + 'static>(&self, f: impl FnOnce(&mut TuningDb) -> T + Send + 'static) -> Result<T, ActorGone> {
        ask(&self.addr, "tuning database", move |reply: Sender<T>| {
            DbRequest(Box::new(move |db: &mut TuningDb| {
                let _ = reply.send(f(db));
            }))
        })
    }
}
