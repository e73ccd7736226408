//! Each colt SQLite database's identity: a random number kept in its
//! page-1 header, so that a write-ahead log can be told to be its own
//! (see [`crate::wal`]).
//!
//! It lives in the high bits of `PRAGMA user_version` (bytes 60-63 of the
//! file), above the schema version: SQLite's header has no other field an
//! application owns (`application_id` says "colt" and tells colt's files
//! from others'). A file is given one when it is created (before it
//! switches to WAL, so the main file holds it from the start) or, for a
//! file made before identities, at its first open for writing. A colt
//! older than identities reads such a file's `user_version` as a schema
//! version above its own and refuses it as written by a newer colt.

use std::path::Path;

/// The bits of `user_version` that hold the schema version.
pub(crate) const SCHEMA_BITS: i64 = 0xffff;

/// Where the identity starts in `user_version`.
const IDENTITY_SHIFT: u32 = 16;

/// The identity's bits: 15, so that `user_version` (a signed 32-bit
/// number to SQLite) stays positive. Two databases share one by chance
/// once in 32767 pairs: a foreign log is then missed, as it was before
/// identities.
const IDENTITY_MASK: i64 = 0x7fff;

/// The schema version in a `user_version`.
pub(crate) fn schema_version(user_version: i64) -> i64 {
    user_version & SCHEMA_BITS
}

/// The identity in a `user_version` (0: none yet).
pub(crate) fn identity(user_version: i64) -> u16 {
    // The mask keeps 15 bits: the cast loses nothing.
    ((user_version >> IDENTITY_SHIFT) & IDENTITY_MASK) as u16
}

/// `user_version` holding `schema` and `identity`.
pub(crate) fn user_version(schema: i64, identity: u16) -> i64 {
    (i64::from(identity) & IDENTITY_MASK) << IDENTITY_SHIFT | schema_version(schema)
}

/// A new identity, never 0: std's per-process random hash keys over the
/// time and the process.
pub(crate) fn new_identity() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    h.write_u128(now.as_nanos());
    let word = (h.finish() as i64) & IDENTITY_MASK;
    // 1..=IDENTITY_MASK, which fits 15 bits.
    (word % IDENTITY_MASK + 1) as u16
}

/// The page-1 header fields a check reads: `user_version` and
/// `application_id`, from the 100-byte database header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeaderFields {
    pub user_version: i64,
    pub application_id: i64,
    /// Bytes 16-17: the page size (1 means 65536).
    pub page_size: u32,
}

/// SQLite's database files start with this.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// The header of a page 1 (a database file's first bytes, or a log frame's
/// page); `None` for bytes that are not a SQLite database header.
pub(crate) fn header_fields(page: &[u8]) -> Option<HeaderFields> {
    let header = page.get(..100)?;
    if &header[..16] != SQLITE_MAGIC {
        return None;
    }
    let word = |at: usize| i64::from(i32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]]));
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        n => u32::from(n),
    };
    Some(HeaderFields { user_version: word(60), application_id: word(68), page_size })
}

/// The header of the main file at `path` as the file holds it (without
/// its log), read before SQLite opens it: `None` when it has none (new,
/// empty, short or not a database).
pub(crate) fn main_file_header(path: &Path) -> Option<HeaderFields> {
    let mut header = [0u8; 100];
    // This descriptor is closed at once, before this process's connection
    // to the file exists: closing it releases no lock of SQLite's. A
    // second connection of one process to one file is not colt's way (one
    // `SqliteDb` per file per process; see the crate docs).
    let mut file = std::fs::File::open(path).ok()?;
    std::io::Read::read_exact(&mut file, &mut header).ok()?;
    header_fields(&header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_and_schema_share_user_version_without_overlap() {
        for _ in 0..1000 {
            let id = new_identity();
            assert!(id != 0 && i64::from(id) <= IDENTITY_MASK);
            let packed = user_version(6, id);
            assert!(packed > 0 && packed <= i64::from(i32::MAX));
            assert_eq!((schema_version(packed), identity(packed)), (6, id));
        }
        assert_eq!(identity(5), 0, "a file made before identities has none");
    }
}
