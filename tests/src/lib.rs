//! End-to-end tests of the `colt` binary live in `tests/tests/`; this library
//! holds what they share.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

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

/// A `colt serve` process on a loopback port, killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub addr: String,
}

impl Daemon {
    /// Starts `colt serve --listen IP:PORT --db DB EXTRA...` and waits until
    /// it answers health.
    pub fn start(db: &Path, ip: &str, extra: &[&str]) -> Daemon {
        Daemon::start_in(Command::new(colt_binary()), db, ip, extra)
    }

    /// As [`start`](Self::start), with the process's address space (and its
    /// workers', which inherit it) limited to `kib` KiB (`ulimit -v`).
    pub fn start_with_memory_limit(db: &Path, kib: u64, extra: &[&str]) -> Daemon {
        let mut command = Command::new("bash");
        command.args(["-c", &format!("ulimit -v {kib} && exec \"$0\" \"$@\"")]).arg(colt_binary());
        Daemon::start_in(command, db, "127.0.0.1", extra)
    }

    fn start_in(mut command: Command, db: &Path, ip: &str, extra: &[&str]) -> Daemon {
        let port = free_port(if ip == "127.0.0.2" { "127.0.0.1" } else { ip });
        let addr = format!("{ip}:{port}");
        // The tests' tiny models, not the defaults (1.6 GB), unless the
        // test names its own.
        // (colt_llm's TEST_SMALL_MODEL_FILE and TEST_LARGE_MODEL_FILE, in
        // the checkout's models/, which is the daemon's working directory.)
        let models = "models/SmolLM2-135M-Instruct.Q4_1.gguf,models/gemma-3-270m-q4_k_m.gguf";
        command.args(["serve", "--listen", &addr, "--db", db.to_str().unwrap()]);
        if !extra.contains(&"--models") {
            command.args(["--models", models]);
        }
        let child =
            command.args(extra).current_dir(repo_root()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let mut daemon = Daemon { child, addr };
        daemon.wait_ready(extra);
        daemon
    }

    pub fn wait_ready(&mut self, extra: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let auth = extra.contains(&"--token-file");
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the daemon exited ({status}) before answering");
            }
            // The port `free_port` gave is in the ephemeral range, so before
            // the daemon listens a connect can succeed by joining the socket
            // to itself (TCP simultaneous open), and the request that
            // follows is refused: only a peer other than the socket itself
            // is the daemon.
            let listening = std::net::TcpStream::connect(&self.addr)
                .is_ok_and(|stream| stream.local_addr().ok() != stream.peer_addr().ok());
            if listening {
                let r = http(&self.addr, "GET", "/v1/health", &[], None);
                if r.status == 200 || (auth && r.status == 401) {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the daemon did not answer in time");
    }

    pub fn get(&self, path: &str) -> Response {
        http(&self.addr, "GET", path, &[], None)
    }

    pub fn post(&self, path: &str, body: &str) -> Response {
        http(&self.addr, "POST", path, &[], Some(body))
    }

    pub fn wait_state(&self, id: i64, state: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let job = self.get(&format!("/v1/jobs/{id}")).json();
            if job["state"] == state {
                return job;
            }
            assert!(Instant::now() < deadline, "job {id} never reached `{state}`: {job}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Submits a job; its id (the request must be accepted).
pub fn submit(daemon: &Daemon, body: &str) -> i64 {
    let r = daemon.post("/v1/jobs", body);
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_i64().unwrap()
}
