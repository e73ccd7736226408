//! End-to-end tests of the `colt` binary live in `tests/tests/`; this library
//! holds what they share.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The `colt` binary of the profile these tests were built in
/// (`cargo test --workspace` builds it: colt-bin has an integration test,
/// which makes cargo build its binary; `cargo test -p colt-e2e` alone does
/// not, and may find a stale one).
pub fn colt_binary() -> PathBuf {
    // Test executables live in target/<profile>/deps/.
    let exe = std::env::current_exe().expect("the test executable has a path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps/<test>");
    let colt = profile_dir.join("colt");
    assert!(
        colt.exists(),
        "{} does not exist: build it with `cargo build --release -p colt-bin` (or run `cargo test --workspace --release`)",
        colt.display()
    );
    colt
}

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `colt` with `args` from the repository root.
pub fn colt(args: &[&str]) -> Output {
    Command::new(colt_binary()).args(args).current_dir(repo_root()).output().expect("colt runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The last line of `text` as JSON (what `--json` prints at the end).
pub fn json_line(text: &str) -> serde_json::Value {
    let line = text.lines().last().unwrap_or_else(|| panic!("no output: {text}"));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

/// A response of [`http`]: status and body.
pub struct Response {
    pub status: u16,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`), as
/// plain as possible: the daemon's tests need no client library.
pub fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Response {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        request.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    if let Some(body) = body {
        request.push_str(body);
    }
    // The server may answer (413) and close before reading a large body.
    let _ = stream.write_all(request.as_bytes());
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    // No answer at all (a daemon still starting or stopping) is status 0:
    // callers waiting for readiness retry, the others fail on the status.
    let Some((head, rest)) = text.split_once("\r\n\r\n") else {
        return Response { status: 0, body: text };
    };
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { unchunk(rest) } else { rest.to_string() };
    Response { status, body }
}

fn unchunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// A free loopback port (bound and released: another process could take
/// it in between, which these tests accept).
pub fn free_port(ip: &str) -> u16 {
    std::net::TcpListener::bind((ip, 0)).unwrap().local_addr().unwrap().port()
}
