//! [`DbLocation`]: where a tuning database is, as every message, log line,
//! file and API answer shows it — never with a password.
//!
//! A PostgreSQL URL may carry a password twice over (`user:PW@` and a
//! `password=` parameter, its key even percent-encoded: `pass%77ord=`), and
//! a libpq key=value string (`host=h password=PW`) one more. The view is
//! built by splitting the URL the way `tokio-postgres` does (credentials up
//! to the first `@`, the password after their first `:`, parameters split
//! at `&` with percent-decoded keys), so what the driver takes as a
//! password is exactly what is hidden; where the two could disagree it
//! hides more. Errors of the driver itself are scrubbed of every form of
//! the password with [`DbLocation::scrub`].
//!
//! ```
//! use colt_db::DbLocation;
//! use std::path::Path;
//! let at = DbLocation::new(Path::new("postgres://colt:S3cr3t@db:5432/tuning?pass%77ord=S3cr3t"));
//! assert_eq!(at.to_string(), "postgres://colt:***@db:5432/tuning?pass%77ord=***");
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

/// What a hidden password is shown as.
pub const HIDDEN: &str = "***";

/// A tuning database's location: a SQLite file, or a PostgreSQL server's
/// URL. `Display` and `Debug` never show a password.
#[derive(Clone, PartialEq, Eq)]
pub struct DbLocation {
    /// As given (a server URL with its password): only for connecting.
    given: PathBuf,
    /// As shown.
    shown: String,
    /// Every form of every password in `given` (raw, percent-decoded),
    /// longest first: what [`DbLocation::scrub`] removes.
    secrets: Vec<String>,
}

impl DbLocation {
    /// The location `given` (a `--db` value).
    pub fn new(given: &Path) -> DbLocation {
        let mut secrets = Vec::new();
        let shown = match given.to_str() {
            Some(text) if is_server_url(text) => redact_url(text, &mut secrets),
            Some(text) if looks_like_key_values(text) => redact_key_values(text, &mut secrets),
            // Not UTF-8: no URL, shown lossily.
            _ => given.display().to_string(),
        };
        secrets.retain(|s| !s.is_empty());
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        DbLocation { given: given.to_path_buf(), shown, secrets }
    }

    /// Whether this names a database server (`postgres://…` or
    /// `postgresql://…`) rather than a file.
    pub fn is_server(&self) -> bool {
        self.given.to_str().is_some_and(is_server_url)
    }

    /// Whether this is a libpq key=value connection string (`host=… …`),
    /// which colt does not take: servers are named by URL.
    pub fn is_key_value_string(&self) -> bool {
        !self.is_server() && self.given.to_str().is_some_and(looks_like_key_values)
    }

    /// The location as given, password included: to open it, never to
    /// print it.
    pub fn given(&self) -> &Path {
        &self.given
    }

    /// `text` (e.g. a driver's error) with every form of this location's
    /// passwords replaced by [`HIDDEN`].
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            out = out.replace(secret.as_str(), HIDDEN);
        }
        out
    }
}

impl fmt::Display for DbLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for DbLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbLocation({:?})", self.shown)
    }
}

impl From<&Path> for DbLocation {
    fn from(given: &Path) -> DbLocation {
        DbLocation::new(given)
    }
}

fn is_server_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

/// `text` percent-decoded as `tokio-postgres` decodes a password (bytes,
/// then lossily as text for matching).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Keeps `secret` (raw and decoded) for scrubbing.
fn keep(secret: &str, secrets: &mut Vec<String>) {
    secrets.push(secret.to_string());
    secrets.push(percent_decoded(secret));
}

/// `url` with its passwords shown as [`HIDDEN`], split as `tokio-postgres`
/// splits it (its `UrlParser`).
fn redact_url(url: &str, secrets: &mut Vec<String>) -> String {
    let (scheme, mut rest) = url.split_at(url.find("://").map_or(0, |i| i + 3));
    let mut out = scheme.to_string();
    // Credentials: everything up to the first `@`, wherever it is (the
    // driver searches the whole rest); the password after their first `:`.
    if let Some(at) = rest.find('@') {
        let creds = &rest[..at];
        match creds.split_once(':') {
            Some((user, password)) => {
                keep(password, secrets);
                out.push_str(user);
                out.push(':');
                out.push_str(HIDDEN);
            }
            None => out.push_str(creds),
        }
        out.push('@');
        rest = &rest[at + 1..];
    }
    // Host and database name, up to the parameters.
    let (head, params) = match rest.find('?') {
        Some(q) => (&rest[..q], Some(&rest[q + 1..])),
        None => (rest, None),
    };
    out.push_str(head);
    if let Some(params) = params {
        out.push('?');
        let shown: Vec<String> = params
            .split('&')
            .map(|param| match param.split_once('=') {
                // The key is percent-decoded before it is matched
                // (`pass%77ord`); hidden whatever its case.
                Some((key, value)) if is_password_key(&percent_decoded(key)) => {
                    keep(value, secrets);
                    format!("{key}={HIDDEN}")
                }
                _ => param.to_string(),
            })
            .collect();
        out.push_str(&shown.join("&"));
    }
    out
}

fn is_password_key(key: &str) -> bool {
    key.trim().eq_ignore_ascii_case("password")
}

/// Whether `text` reads as a libpq key=value connection string: its first
/// word is `key=` with a connection keyword.
fn looks_like_key_values(text: &str) -> bool {
    const KEYWORDS: [&str; 8] = ["host", "hostaddr", "port", "dbname", "user", "password", "sslmode", "options"];
    text.split_whitespace().next().and_then(|w| w.split_once('=')).is_some_and(|(k, _)| KEYWORDS.contains(&k))
        || text.split_whitespace().any(|w| w.split_once('=').is_some_and(|(k, _)| is_password_key(k)))
        || text.contains("password =")
}

/// A key=value string with each `password` value shown as [`HIDDEN`]: a
/// value is quoted (`'…'`, with `\` escapes) or runs to the next space, as
/// libpq reads it; spaces around `=` are allowed.
fn redact_key_values(text: &str, secrets: &mut Vec<String>) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        // Copy whitespace, then read a key up to `=` or whitespace.
        if chars[i].is_whitespace() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let key_start = i;
        while i < chars.len() && chars[i] != '=' && !chars[i].is_whitespace() {
            i += 1;
        }
        let key: String = chars[key_start..i].iter().collect();
        out.push_str(&key);
        let mut j = i;
        while j < chars.len() && chars[j].is_whitespace() {
            j += 1;
        }
        if j >= chars.len() || chars[j] != '=' {
            continue;
        }
        out.extend(&chars[i..=j]);
        i = j + 1;
        while i < chars.len() && chars[i].is_whitespace() {
            out.push(chars[i]);
            i += 1;
        }
        let value_start = i;
        if i < chars.len() && chars[i] == '\'' {
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(chars.len());
        } else {
            while i < chars.len() && !chars[i].is_whitespace() {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i = i.min(chars.len());
        }
        let value: String = chars[value_start..i].iter().collect();
        if is_password_key(&key) {
            let unquoted = value.trim_matches('\'');
            secrets.push(value.clone());
            secrets.push(unquoted.to_string());
            secrets.push(unquoted.replace("\\'", "'").replace("\\\\", "\\"));
            out.push_str(HIDDEN);
        } else {
            out.push_str(&value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(given: &str) -> String {
        DbLocation::new(Path::new(given)).to_string()
    }

    #[test]
    fn a_url_is_shown_without_its_password() {
        assert_eq!(shown("postgres://colt:s3cret@db.local:5432/tuning"), "postgres://colt:***@db.local:5432/tuning");
        assert_eq!(shown("postgresql://colt:s3cret@db.local/tuning"), "postgresql://colt:***@db.local/tuning");
        assert_eq!(shown("postgres://colt@db.local/tuning"), "postgres://colt@db.local/tuning");
        assert_eq!(
            shown("postgresql:///tuning?host=/run/pg&password=x&user=u"),
            "postgresql:///tuning?host=/run/pg&password=***&user=u"
        );
    }

    #[test]
    fn every_password_parameter_is_hidden_whatever_its_key_spelling() {
        let at = "postgres://u:A1@h/db?password=B2&sslmode=disable&password=C3&pass%77ord=D4&PASSWORD=E5&p%61ssword=F6";
        let text = shown(at);
        for secret in ["A1", "B2", "C3", "D4", "E5", "F6"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("sslmode=disable") && text.contains("pass%77ord=***"), "{text}");
    }

    #[test]
    fn a_password_with_at_colon_or_percent_signs_is_hidden_whole() {
        // The driver takes the credentials up to the first `@`: a password
        // with `@` must be percent-encoded, and then its decoded form is
        // what errors could quote.
        let at = DbLocation::new(Path::new("postgres://colt:p%40ss:w%3Ard@127.0.0.1:5/x"));
        assert_eq!(at.to_string(), "postgres://colt:***@127.0.0.1:5/x");
        assert_eq!(at.scrub("auth failed for p@ss:w:rd and p%40ss:w%3Ard"), "auth failed for *** and ***");
        // Unencoded: whatever the driver would take as the password (up to
        // the first `@`) is hidden, and the rest shown as the host.
        assert_eq!(shown("postgres://colt:pw:x@y@h/db"), "postgres://colt:***@y@h/db");
        // An `@` only in the parameters still ends the credentials for the
        // driver: nothing after `:` before it is shown.
        assert!(!shown("postgres://h:5432/db?password=Zz9@x").contains("Zz9"));
    }

    #[test]
    fn a_key_value_string_is_shown_without_its_password() {
        assert_eq!(shown("host=db user=colt password=S3cr3t dbname=x"), "host=db user=colt password=*** dbname=x");
        assert_eq!(shown("host=db password = 'a b\\' c' port=5"), "host=db password = *** port=5");
        let at = DbLocation::new(Path::new("dbname=x password='p w'"));
        assert!(at.is_key_value_string() && !at.is_server());
        assert_eq!(at.scrub("no: p w"), "no: ***");
    }

    #[test]
    fn a_file_is_shown_as_it_is() {
        let at = DbLocation::new(Path::new("runs/colt.db"));
        assert_eq!(at.to_string(), "runs/colt.db");
        assert!(!at.is_server() && !at.is_key_value_string());
        assert_eq!(at.scrub("runs/colt.db: locked"), "runs/colt.db: locked");
    }

    #[test]
    fn debug_hides_the_password_too() {
        let at = DbLocation::new(Path::new("postgres://colt:S3cr3t-Pw@h/db"));
        assert!(!format!("{at:?}").contains("S3cr3t"));
    }
}
