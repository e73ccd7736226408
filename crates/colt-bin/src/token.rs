//! The daemon's bearer token: read from a file only its owner can read,
//! and compared in constant time.

use anyhow::{bail, Context, Result};
use std::path::Path;

/// Longest bearer token accepted, in bytes. A header line longer than a few
/// KiB is refused by HTTP servers and proxies on the way (actix-web's whole
/// request head is bounded), and 256 bytes of printable ASCII hold far more
/// than any token needs: a longer file is a mistake, not a secret.
const MAX_TOKEN_BYTES: usize = 256;

/// The bearer token in `path`: a regular file only its owner can read (a
/// token others can read is no secret), holding the token and at most one
/// line ending, 16 to [`MAX_TOKEN_BYTES`] printable ASCII characters
/// without spaces — what an `Authorization` header can carry: a token of
/// other characters started the daemon, then no request could match it.
pub(crate) fn read_token(path: &Path) -> Result<String> {
    use std::io::Read;
    let shown = path.display();
    let metadata = std::fs::metadata(path).with_context(|| format!("cannot read the token file `{shown}`"))?;
    if !metadata.is_file() {
        bail!("the token file `{shown}` is not a regular file");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            bail!(
                "the token file `{shown}` can be read or written by group or others (mode {:o}); `chmod 600` it",
                mode & 0o777
            );
        }
    }
    // Read one byte past the longest token and its line ending: a larger
    // file is refused without reading it all.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_TOKEN_BYTES as u64 + 3).read_to_end(&mut bytes))
        .with_context(|| format!("cannot read the token file `{shown}`"))?;
    let token = bytes.strip_suffix(b"\n").map(|t| t.strip_suffix(b"\r").unwrap_or(t)).unwrap_or(&bytes);
    if token.len() > MAX_TOKEN_BYTES {
        bail!("the token in `{shown}` is longer than {MAX_TOKEN_BYTES} bytes");
    }
    if let Some(at) = token.iter().position(|b| !b.is_ascii_graphic()) {
        bail!(
            "the token in `{shown}` holds a byte that is not printable ASCII (0x{:02x}, byte {}): a token is one line \
             of printable ASCII characters without spaces, what an `Authorization` header carries",
            token[at],
            at + 1
        );
    }
    if token.len() < 16 {
        bail!("the token in `{shown}` is shorter than 16 characters");
    }
    // Every byte is ASCII: the conversion cannot fail.
    Ok(String::from_utf8_lossy(token).into_owned())
}

/// Equal in time whatever the first difference: a token is not guessed a
/// byte at a time from response times.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0xff));
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_equal_only_when_equal() {
        assert!(constant_time_eq(b"abcdefghijklmnop", b"abcdefghijklmnop"));
        assert!(!constant_time_eq(b"abcdefghijklmnop", b"abcdefghijklmnoq"));
        assert!(!constant_time_eq(b"abcdefghijklmnop", b"abcdefghijklmno"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(!constant_time_eq(b"abc\xff", b"abc"));
    }
}
