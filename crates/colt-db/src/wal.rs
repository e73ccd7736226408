//! The check of a `-wal` before its database file is opened: SQLite
//! replays whatever valid log lies beside a file, its own or not.
//!
//! Refused, naming both files:
//! - a log SQLite would silently drop, and the rows with it: too short for
//!   its header, without the magic number, of another format, or of
//!   another page size than the main file's;
//! - another database's log: the last committed copy of page 1 in the log
//!   (frames whose salts match the log's header and whose checksums hold,
//!   up to the last commit — what SQLite would replay) carries another
//!   identity ([`crate::identity`]) than the main file, or is not colt's.
//!
//! SQLite writes page 1 into a log only when a transaction changes it, so
//! colt makes sure each log it writes holds page 1: every connection that
//! writes stamps page 1 when it opens and right after each checkpoint it
//! runs (the only times a log starts afresh, since colt replaces SQLite's
//! automatic checkpoints with its own; see `SqliteDb::bound_wal`). What
//! this does not catch: a log without page 1 — one written by a colt
//! older than identities, or by another program that checkpointed the
//! file —, a log beside a file made before identities that has not been
//! opened for writing since, and two databases that drew one identity
//! (once in 32767 pairs).

use crate::error::DbError;
use crate::identity::{header_fields, main_file_header, HeaderFields};
use crate::schema::APPLICATION_ID;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The magic numbers a write-ahead log starts with (big-endian; the last
/// bit says which byte order its checksums use) and its format version.
const WAL_MAGIC: [u32; 2] = [0x377f_0682, 0x377f_0683];
const WAL_FORMAT: u32 = 3_007_000;
const WAL_HEADER_BYTES: usize = 32;
const FRAME_HEADER_BYTES: usize = 24;

/// `<path>-wal`.
pub(crate) fn wal_path(path: &Path) -> PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// Checks the `-wal` beside `path` (see the module docs); returns the
/// identity the main file holds (0: none, or no main file yet), which the
/// opened connection must then read too.
pub(crate) fn check_wal(path: &Path) -> Result<u16, DbError> {
    let main = main_file_header(path);
    let main_identity = main.map_or(0, |h| crate::identity::identity(h.user_version));
    let wal_path = wal_path(path);
    let Ok(file) = std::fs::File::open(&wal_path) else { return Ok(main_identity) };
    let mut log = std::io::BufReader::new(file);
    let mut header = Vec::with_capacity(WAL_HEADER_BYTES);
    if (&mut log).take(WAL_HEADER_BYTES as u64).read_to_end(&mut header).is_err() || header.is_empty() {
        return Ok(main_identity);
    }
    let bad = |reason: String| DbError::BadWal { path: path.to_path_buf(), wal: wal_path.clone(), reason };
    if header.len() < WAL_HEADER_BYTES {
        return Err(bad(format!("{} bytes, shorter than a log's {WAL_HEADER_BYTES}-byte header", header.len())));
    }
    let word = |bytes: &[u8], at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    if !WAL_MAGIC.contains(&word(&header, 0)) {
        return Err(bad(format!(
            "it does not start with a write-ahead log's magic number (found {:#010x})",
            word(&header, 0)
        )));
    }
    if word(&header, 4) != WAL_FORMAT {
        return Err(bad(format!("log format {} where SQLite writes {WAL_FORMAT}", word(&header, 4))));
    }
    let page_size = word(&header, 8);
    if let Some(main) = main.map(|h| h.page_size).filter(|&main| main != page_size) {
        return Err(bad(format!(
            "its pages are {page_size} bytes and the database's {main}: it is another database's"
        )));
    }
    let Some(page_one) = last_committed_page_one(&header, page_size, &mut log) else { return Ok(main_identity) };
    let foreign = |reason: String| DbError::ForeignWal { path: path.to_path_buf(), wal: wal_path.clone(), reason };
    let logged = crate::identity::identity(page_one.user_version);
    if page_one.application_id != APPLICATION_ID {
        return Err(foreign(format!(
            "its page 1 is not a colt database's (application id {:#x})",
            page_one.application_id
        )));
    }
    if main_identity != 0 && logged != main_identity {
        return Err(foreign(format!("it logs database {logged:#06x}, and the file is database {main_identity:#06x}")));
    }
    Ok(main_identity)
}

/// The header of the last copy of page 1 that SQLite would replay from
/// the log (`header`: its first 32 bytes, `frames`: the rest), if any.
fn last_committed_page_one(header: &[u8], page_size: u32, frames: &mut impl Read) -> Option<HeaderFields> {
    let word = |bytes: &[u8], at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    if !(512..=65_536).contains(&page_size) || !page_size.is_power_of_two() {
        return None;
    }
    let big_endian = word(header, 0) & 1 == 1;
    let mut sum = checksum(big_endian, &header[..24], (0, 0));
    // A header whose checksum fails makes SQLite ignore the whole log.
    if sum != (word(header, 24), word(header, 28)) {
        return None;
    }
    let salts = &header[16..24];
    let mut frame = vec![0u8; FRAME_HEADER_BYTES + page_size as usize];
    let (mut pending, mut committed) = (None, None);
    // SQLite replays frames while their salts match and their checksums
    // chain; a log is bounded by the disk, and this reads it once.
    while frames.read_exact(&mut frame).is_ok() {
        if &frame[8..16] != salts {
            break;
        }
        sum = checksum(big_endian, &frame[..8], sum);
        sum = checksum(big_endian, &frame[FRAME_HEADER_BYTES..], sum);
        if sum != (word(&frame, 16), word(&frame, 20)) {
            break;
        }
        if word(&frame, 0) == 1 {
            pending = header_fields(&frame[FRAME_HEADER_BYTES..]).or(pending);
        }
        if word(&frame, 4) != 0 {
            committed = pending.or(committed);
        }
    }
    committed
}

/// SQLite's log checksum over `bytes` (a multiple of 8), continuing `sum`.
fn checksum(big_endian: bool, bytes: &[u8], sum: (u32, u32)) -> (u32, u32) {
    let (mut s0, mut s1) = sum;
    let read = |b: &[u8]| {
        let word = [b[0], b[1], b[2], b[3]];
        if big_endian {
            u32::from_be_bytes(word)
        } else {
            u32::from_le_bytes(word)
        }
    };
    for pair in bytes.chunks_exact(8) {
        s0 = s0.wrapping_add(read(&pair[..4])).wrapping_add(s1);
        s1 = s1.wrapping_add(read(&pair[4..])).wrapping_add(s0);
    }
    (s0, s1)
}
