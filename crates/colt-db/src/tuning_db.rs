//! [`TuningDb`]: the tuning database a colt process opens, on whichever
//! backend its location names — a file path is embedded SQLite (the
//! default, no server needed), `postgres://…` (or `postgresql://…`) a
//! PostgreSQL server that many hosts share. It derefs to the
//! [`TuningStore`] trait, so callers use one interface for both.

use crate::error::DbError;
use crate::location::DbLocation;
use crate::postgres::PostgresDb;
use crate::sqlite::SqliteDb;
use crate::store::TuningStore;
use std::ops::{Deref, DerefMut};
use std::path::Path;

/// One connection to a tuning database, used from one thread.
pub struct TuningDb {
    store: Box<dyn TuningStore>,
}

impl TuningDb {
    /// Opens the database at `location`: a PostgreSQL URL (see
    /// [`TuningDb::is_server`]) connects to that server, creating or
    /// migrating colt's schema in it; anything else is a SQLite file,
    /// created with its schema if missing (but not its parent folder).
    ///
    /// A libpq key=value string (`host=… password=…`) is refused rather
    /// than taken for a file name (and printed with its password).
    pub fn open(location: &Path) -> Result<TuningDb, DbError> {
        TuningDb::open_with(location, SqliteDb::open)
    }

    /// Opens the database at `location` for commands that only read
    /// (`colt show`, `colt db check`, `colt export`): a SQLite file is
    /// opened read-only and never created or written
    /// ([`SqliteDb::open_read_only`]: a missing or empty file is
    /// [`DbError::NoDatabase`]); a server is connected to as by
    /// [`TuningDb::open`].
    pub fn open_read_only(location: &Path) -> Result<TuningDb, DbError> {
        TuningDb::open_with(location, SqliteDb::open_read_only)
    }

    /// A server at `location`, or the SQLite file `open_file` opens.
    fn open_with(location: &Path, open_file: fn(&Path) -> Result<SqliteDb, DbError>) -> Result<TuningDb, DbError> {
        let at = DbLocation::new(location);
        let store: Box<dyn TuningStore> = if at.is_server() {
            Box::new(PostgresDb::connect(&at)?)
        } else if at.is_key_value_string() {
            return Err(DbError::KeyValueString { path: at.to_string().into() });
        } else {
            Box::new(open_file(location)?)
        };
        Ok(TuningDb { store })
    }

    /// A SQLite database in memory (tests, throw-away runs).
    pub fn open_in_memory() -> Result<TuningDb, DbError> {
        Ok(TuningDb { store: Box::new(SqliteDb::open_in_memory()?) })
    }

    /// Whether `location` names a database server rather than a file.
    pub fn is_server(location: &Path) -> bool {
        DbLocation::new(location).is_server()
    }

    /// Whether there is a database at `location` to read: a file that
    /// exists, or a server (whether it answers is found on connecting).
    ///
    /// A key=value connection string counts as there, so that opening it
    /// says why colt refuses it rather than "no database".
    pub fn exists(location: &Path) -> bool {
        let at = DbLocation::new(location);
        at.is_server() || at.is_key_value_string() || location.is_file()
    }

    /// `location` as messages, logs, files and API answers may show it: a
    /// server URL without its password (see [`DbLocation`]).
    pub fn display(location: &Path) -> String {
        DbLocation::new(location).to_string()
    }
}

impl Deref for TuningDb {
    type Target = dyn TuningStore;

    fn deref(&self) -> &Self::Target {
        self.store.as_ref()
    }
}

impl DerefMut for TuningDb {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.store.as_mut()
    }
}
