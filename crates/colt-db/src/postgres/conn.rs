//! One connection to the server in which every round trip has a deadline.
//!
//! The `postgres` crate's blocking client bounds only the TCP connect: a
//! server that accepts and never answers (a hung host, a process stopped
//! with SIGSTOP, whose kernel still acknowledges every packet, so TCP
//! keepalives and `tcp_user_timeout` never fire) held `colt show` past
//! 140 s and a daemon's every request behind it. So colt drives
//! `tokio-postgres` on a runtime of its own, one thread, and waits for each
//! call — the connection handshake included — at most a deadline. A call
//! that misses it leaves the connection in an unknown state: the caller
//! drops it (closing the socket) and dials again.

use super::Fail;
use std::future::Future;
use std::time::Duration;
use tokio::runtime::Runtime;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, NoTls, Row};

type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

/// A client and the runtime that drives its connection.
pub(super) struct Conn {
    // Dropped first: the runtime's drop then ends the connection's task,
    // which closes the socket.
    client: Client,
    runtime: Runtime,
    /// How long one call may wait for the server.
    deadline: Duration,
}

/// Waits for `call` on `runtime` at most `deadline`.
fn within<T>(
    runtime: &Runtime,
    deadline: Duration,
    call: impl Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, Fail> {
    match runtime.block_on(async { tokio::time::timeout(deadline, call).await }) {
        Ok(answer) => Ok(answer?),
        Err(_) => Err(Fail::NoAnswer(deadline)),
    }
}

impl Conn {
    /// Connects with `config`, the whole handshake (TCP, TLS negotiation,
    /// authentication, startup) within `handshake`; each later call within
    /// `deadline`.
    pub(super) fn connect(config: &Config, handshake: Duration, deadline: Duration) -> Result<Conn, Fail> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Fail::Bad(format!("cannot start the connection's runtime: {e}")))?;
        let (client, connection) = within(&runtime, handshake, config.connect(NoTls))?;
        // The connection's task runs whenever a call blocks on the runtime
        // (one thread: between calls nothing reads the socket, as with the
        // blocking client).
        runtime.spawn(async move {
            let _ = connection.await;
        });
        Ok(Conn { client, runtime, deadline })
    }

    pub(super) fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, Fail> {
        within(&self.runtime, self.deadline, self.client.query(sql, params))
    }

    pub(super) fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, Fail> {
        within(&self.runtime, self.deadline, self.client.query_one(sql, params))
    }

    pub(super) fn query_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>, Fail> {
        within(&self.runtime, self.deadline, self.client.query_opt(sql, params))
    }

    pub(super) fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, Fail> {
        within(&self.runtime, self.deadline, self.client.execute(sql, params))
    }

    /// Opens a transaction; dropped without [`Tx::commit`], it is rolled
    /// back (by the driver, on the connection's next use).
    pub(super) fn transaction(&mut self) -> Result<Tx<'_>, Fail> {
        let Conn { client, runtime, deadline } = self;
        let tx = within(runtime, *deadline, client.transaction())?;
        Ok(Tx { tx, runtime, deadline: *deadline })
    }
}

/// An open transaction on a [`Conn`], its calls under the same deadline.
pub(super) struct Tx<'c> {
    tx: tokio_postgres::Transaction<'c>,
    runtime: &'c Runtime,
    deadline: Duration,
}

impl Tx<'_> {
    pub(super) fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, Fail> {
        within(self.runtime, self.deadline, self.tx.query_one(sql, params))
    }

    pub(super) fn query_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>, Fail> {
        within(self.runtime, self.deadline, self.tx.query_opt(sql, params))
    }

    pub(super) fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, Fail> {
        within(self.runtime, self.deadline, self.tx.execute(sql, params))
    }

    pub(super) fn batch_execute(&mut self, sql: &str) -> Result<(), Fail> {
        within(self.runtime, self.deadline, self.tx.batch_execute(sql))
    }

    pub(super) fn commit(self) -> Result<(), Fail> {
        let Tx { tx, runtime, deadline } = self;
        within(runtime, deadline, tx.commit())
    }
}

/// What both a connection and a transaction answer: the reads shared by
/// code that runs in either.
pub(super) trait Session {
    fn query_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>, Fail>;
}

impl Session for Conn {
    fn query_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>, Fail> {
        Conn::query_opt(self, sql, params)
    }
}

impl Session for Tx<'_> {
    fn query_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>, Fail> {
        Tx::query_opt(self, sql, params)
    }
}
