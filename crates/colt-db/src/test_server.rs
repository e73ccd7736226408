//! A throw-away PostgreSQL server for tests and load tests: a new cluster
//! (`initdb`) in a temporary folder, served by a `postgres` child process
//! on a free loopback port with trust authentication (or, from
//! [`TestServer::start_with_password`], a password over TCP), stopped and
//! removed when dropped (and sent SIGTERM if the process that started it
//! dies). [`TestServer::pause`] stops every process of the server
//! (SIGSTOP) as a hung host would: connections are accepted by the kernel
//! and never answered.
//!
//! It needs Debian's `postgresql` package (`scripts/setup.sh` installs it);
//! the binaries are found under `/usr/lib/postgresql/*/bin`, or in
//! `COLT_PG_BIN`. PostgreSQL refuses to run as root, so a root process runs
//! the server as the `postgres` user and hands it the folder.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// The user the server runs as (when this process is root).
    run_as: Option<(u32, u32)>,
    child: Option<Child>,
    databases: u32,
    /// `name=value` server settings, passed as `-c` on every start.
    settings: Vec<String>,
    /// The superuser's password, where TCP connections need one.
    password: Option<String>,
}

/// Why a test server did not start, in words.
pub type StartError = String;

fn postgres_bin() -> Result<PathBuf, StartError> {
    if let Some(dir) = std::env::var_os("COLT_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| {
            format!("no PostgreSQL in /usr/lib/postgresql ({e}): install Debian's `postgresql` (scripts/setup.sh)")
        })?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").is_file())
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).ok_or_else(|| "no initdb under /usr/lib/postgresql/*/bin".to_string())
}

/// The uid and gid of `user`, from /etc/passwd.
fn user_ids(user: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&user) && fields.len() > 3)
            .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))?
    })
}

/// `text` with every byte but URL-unreserved ones percent-encoded.
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The processes whose parent is `parent` (from /proc).
fn children_of(parent: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            // `pid (comm) state ppid …`: the command may hold spaces and
            // parentheses, so the fields are read after its last `)`.
            std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().is_some_and(|stat| {
                stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<i32>().ok())
                    == Some(parent)
            })
        })
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_or(54329, |a| a.port())
}

impl TestServer {
    /// Creates and starts a new cluster; its superuser is `colt`. Commits
    /// are not flushed to disk (`fsync=off`): a test server holds nothing
    /// worth a power loss.
    pub fn start() -> Result<TestServer, StartError> {
        TestServer::start_with(&["fsync=off"])
    }

    /// As [`start`](Self::start), with these server settings (`name=value`)
    /// instead, e.g. `fsync=on` to measure what durable commits cost.
    pub fn start_with(settings: &[&str]) -> Result<TestServer, StartError> {
        TestServer::start_cluster(settings, None)
    }

    /// As [`start`](Self::start), but a TCP connection must give the
    /// superuser `colt`'s `password` (SCRAM); [`url_of`](Self::url_of)
    /// carries it.
    pub fn start_with_password(password: &str) -> Result<TestServer, StartError> {
        TestServer::start_cluster(&["fsync=off"], Some(password))
    }

    /// As [`start`](Self::start), on a port chosen by the caller (the
    /// user's guide's examples name theirs); fails if the port is taken.
    pub fn start_on_port(port: u16) -> Result<TestServer, StartError> {
        // A server already there would answer the readiness check itself.
        std::net::TcpListener::bind(("127.0.0.1", port))
            .map_err(|e| format!("port {port} of 127.0.0.1 is not free for a test server: {e}"))?;
        TestServer::start_cluster_on(&["fsync=off"], None, Some(port))
    }

    fn start_cluster(settings: &[&str], password: Option<&str>) -> Result<TestServer, StartError> {
        TestServer::start_cluster_on(settings, password, None)
    }

    fn start_cluster_on(
        settings: &[&str],
        password: Option<&str>,
        port: Option<u16>,
    ) -> Result<TestServer, StartError> {
        let bin = postgres_bin()?;
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let run_as = match root {
            true => Some(
                user_ids("postgres").ok_or("running as root, and there is no `postgres` user to run the server as")?,
            ),
            false => None,
        };
        let dir =
            tempfile::Builder::new().prefix("colt-pg-").tempdir().map_err(|e| format!("temporary folder: {e}"))?;
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).map_err(|e| format!("chown the folder: {e}"))?;
        }
        let settings = settings.iter().map(|s| s.to_string()).collect();
        let password = password.map(str::to_string);
        let mut server = TestServer {
            dir,
            bin,
            port: port.unwrap_or_else(free_port),
            run_as,
            child: None,
            databases: 0,
            settings,
            password,
        };
        let data = server.data_dir();
        let mut auth = vec!["--auth=trust".to_string()];
        if let Some(password) = &server.password {
            let file = server.dir.path().join("pwfile");
            std::fs::write(&file, password).map_err(|e| format!("password file: {e}"))?;
            auth = vec![
                "--auth-local=trust".into(),
                "--auth-host=scram-sha-256".into(),
                format!("--pwfile={}", file.display()),
            ];
        }
        let out = server
            .command("initdb")
            .args(["-D", data.to_str().unwrap_or_default(), "-U", "colt", "-E", "UTF8", "--no-sync"])
            .args(&auth)
            .output()
            .map_err(|e| format!("run initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!("initdb failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        server.start_server()?;
        Ok(server)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        if let Some((uid, gid)) = self.run_as {
            command.uid(uid).gid(gid);
        }
        command.current_dir(self.dir.path()).env("LC_ALL", "C");
        command
    }

    fn start_server(&mut self) -> Result<(), StartError> {
        let data = self.data_dir();
        let mut command = self.command("postgres");
        command
            .args(["-D", data.to_str().unwrap_or_default(), "-p", &self.port.to_string()])
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                &format!("unix_socket_directories={}", self.dir.path().display()),
            ])
            .args(["-c", "max_connections=200"])
            .args(self.settings.iter().flat_map(|s| ["-c", s.as_str()]))
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(self.dir.path().join("server.log")).map_err(|e| format!("server log: {e}"))?,
            ));
        // SAFETY: prctl is async-signal-safe; it runs after the uid change
        // (which would clear it) and before exec.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        // The parent-death signal follows the *thread* that forked: spawn
        // from a thread that lives as long as this process, not from the
        // (short-lived) test thread that asked for the server.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(command.spawn());
            loop {
                std::thread::park();
            }
        });
        let child = rx.recv().map_err(|e| format!("start postgres: {e}"))?;
        self.child = Some(child.map_err(|e| format!("start postgres: {e}"))?);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if postgres::Client::connect(&self.url_of("postgres"), postgres::NoTls).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
                return Err(format!("the server did not answer within 30 s: {log}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The URL of database `name` on this server (with the password, if
    /// it has one, percent-encoded).
    pub fn url_of(&self, name: &str) -> String {
        let user = match &self.password {
            Some(password) => format!("colt:{}", percent_encoded(password)),
            None => "colt".to_string(),
        };
        format!("postgres://{user}@127.0.0.1:{}/{name}", self.port)
    }

    /// A new, empty database on this server, and its URL.
    pub fn fresh_database(&mut self) -> Result<String, StartError> {
        self.databases += 1;
        let name = format!("colt_test_{}", self.databases);
        self.create_database(&name)
    }

    /// A new, empty database `name` on this server, and its URL.
    pub fn create_database(&mut self, name: &str) -> Result<String, StartError> {
        let mut admin =
            postgres::Client::connect(&self.url_of("postgres"), postgres::NoTls).map_err(|e| e.to_string())?;
        admin.batch_execute(&format!("CREATE DATABASE {name}")).map_err(|e| e.to_string())?;
        Ok(self.url_of(name))
    }

    /// Stops the server (a fast shutdown: clients are disconnected) and
    /// waits for it to exit.
    pub fn stop(&mut self) {
        // A paused server (a test that failed between `pause` and `resume`)
        // would never act on the SIGINT.
        self.resume();
        if let Some(mut child) = self.child.take() {
            // SAFETY: kill on our own child's pid.
            unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
            let _ = child.wait();
        }
    }

    /// Stops the server and starts it again on the same port and data.
    pub fn restart(&mut self) -> Result<(), StartError> {
        self.stop();
        self.start_server()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server's every process (SIGSTOP: the postmaster, then its
    /// backends and helpers), as a hung host: the kernel still accepts
    /// connections and acknowledges packets; nothing answers.
    pub fn pause(&self) {
        self.signal_all(libc::SIGSTOP);
    }

    /// Lets a [`pause`](Self::pause)d server run again.
    pub fn resume(&self) {
        self.signal_all(libc::SIGCONT);
    }

    fn signal_all(&self, signal: i32) {
        let Some(postmaster) = self.child.as_ref().map(|c| c.id() as i32) else { return };
        // The postmaster first: stopped, it forks no new process.
        let mut pids = vec![postmaster];
        pids.extend(children_of(postmaster));
        for pid in pids {
            // SAFETY: kill on the server's own processes.
            unsafe { libc::kill(pid, signal) };
        }
    }

    /// The folder the cluster and its log are in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}
