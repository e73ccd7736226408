//! The machine's limits (schema 7): what colt-measure measured a hardware
//! label's cores can do at most (FP32 peak, the cost of operations, each
//! memory level's bandwidth), one row per label, replaced when measured
//! again. colt-db does not know colt-measure's types: a row carries them
//! as the JSON colt-measure wrote, with the time of the measurement.

use crate::error::DbError;
use crate::schema::{bits, unbits};
use crate::sqlite::SqliteDb;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

/// One label's limits as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineLimitsRecord {
    /// The hardware label (`cpu:MODEL [FEATURES]`) the limits were measured on.
    pub label: String,
    /// colt-measure's `MachineLimits` as JSON.
    pub limits_json: String,
    /// Unix seconds of the measurement.
    pub measured_unix: u64,
}

/// Version 7's table, the same on both backends.
pub(crate) const MIGRATE_FROM_6: &str = "
CREATE TABLE machine_limits (
    label TEXT PRIMARY KEY,
    limits_json TEXT NOT NULL,
    measured_unix BIGINT NOT NULL
);
";

/// Inserts a label's row or replaces it (`$1`/`?1` label, then the JSON,
/// then the time): SQLite and PostgreSQL both read this upsert.
pub(crate) fn save_sql(placeholder: char) -> String {
    format!(
        "INSERT INTO machine_limits (label, limits_json, measured_unix) VALUES ({p}1, {p}2, {p}3) \
         ON CONFLICT (label) DO UPDATE SET limits_json = excluded.limits_json, measured_unix = excluded.measured_unix",
        p = placeholder
    )
}

impl SqliteDb {
    /// The limits measured on `label`, if any were stored.
    pub fn machine_limits(&self, label: &str) -> Result<Option<MachineLimitsRecord>, DbError> {
        self.conn
            .query_row("SELECT label, limits_json, measured_unix FROM machine_limits WHERE label = ?1", [label], |r| {
                Ok(MachineLimitsRecord { label: r.get(0)?, limits_json: r.get(1)?, measured_unix: unbits(r.get(2)?) })
            })
            .optional()
            .map_err(self.fail(format!("read the machine limits of `{label}`")))
    }

    /// Stores `record` as its label's limits, replacing earlier ones.
    pub fn save_machine_limits(&mut self, record: &MachineLimitsRecord) -> Result<(), DbError> {
        self.conn
            .execute(&save_sql('?'), params![record.label, record.limits_json, bits(record.measured_unix)])
            .map_err(self.fail(format!("save the machine limits of `{}`", record.label)))?;
        Ok(())
    }
}
