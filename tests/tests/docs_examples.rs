//! Every command example of the user's guide (docs/src/*.md) and of the
//! README, run, so that none can go stale.
//!
//! A command example is a fenced block whose info string is `console`. Its
//! lines beginning with `$ ` are commands (a line ending in `\` continues on
//! the next, and a heredoc's lines up to its delimiter belong to its
//! command); other lines are sample output and are not compared, except a
//! shown `colt: error: …` or `error: …` line: that command must then fail,
//! and its stderr must hold the shown text (`...` stands for any text).
//!
//! Each file's commands run in order in one bash (`set -euo pipefail`) in
//! a fresh sandbox folder holding `models/` — the default models' names
//! linked to the tests' tiny models, so that `--strategy colt` and the
//! default roster run in seconds, and the tiny models under their own
//! names — and `workloads/`, a copy of the repository's workload files;
//! `colt` is on `PATH`. A command ending in `&` runs in the background
//! until the file's commands end; after a background `colt serve`, the
//! commands wait until its `--listen` address answers `/v1/health`. A file
//! whose commands name `postgres://` gets a throw-away PostgreSQL server on
//! 127.0.0.1:5433 (superuser `colt`, trust, an empty database `colt`) for
//! its examples to use. Files run one at a time (the daemon's default port
//! and 5433 are fixed).
//!
//! A block right after the comment `<!-- run by .ci/run on a fresh clone -->`
//! is not run here: it is the README's set-up, which builds colt and uses
//! the default models, and `.ci/run` runs it as written on CI's fresh clone.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The marker before the README's set-up block (`.ci/run` looks for it too).
const RUN_BY_CI: &str = "<!-- run by .ci/run on a fresh clone -->";
/// The PostgreSQL port the book's examples name.
const BOOK_POSTGRES_PORT: u16 = 5433;
/// The most a file's examples may take, all together.
const FILE_LIMIT: Duration = Duration::from_secs(600);

/// One command of an example, with where it is and the errors it must print.
#[derive(Debug, PartialEq)]
struct Example {
    line: usize,
    command: String,
    expected_error: Option<String>,
}

fn is_shown_error(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("colt: error:") || line.starts_with("error:")
}

/// The heredoc delimiter a command line opens, if any (`<<'EOF'`, `<<EOF`,
/// `<<-"EOF"`).
fn heredoc_delimiter(line: &str) -> Option<String> {
    let at = line.find("<<")?;
    let rest = line[at + 2..].trim_start_matches('-').trim_start();
    let word: String =
        rest.trim_start_matches(['\'', '"']).chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    (!word.is_empty()).then_some(word)
}

/// The command examples of one Markdown file, in order.
fn examples(markdown: &str) -> Vec<Example> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut out: Vec<Example> = Vec::new();
    let mut i = 0;
    let mut previous_text_line = "";
    while i < lines.len() {
        let line = lines[i].trim_start();
        let fence = if line.starts_with("```") {
            "```"
        } else if line.starts_with("~~~") {
            "~~~"
        } else {
            if !line.trim().is_empty() {
                previous_text_line = line.trim();
            }
            i += 1;
            continue;
        };
        let info = line.trim_start_matches(fence).trim();
        let language = info.split([' ', ',', '{']).next().unwrap_or("");
        let skipped = previous_text_line == RUN_BY_CI;
        previous_text_line = "";
        i += 1;
        let start = i;
        while i < lines.len() && !lines[i].trim_start().starts_with(fence) {
            i += 1;
        }
        let block = &lines[start..i.min(lines.len())];
        i += 1;
        if language != "console" || skipped {
            continue;
        }
        let mut j = 0;
        while j < block.len() {
            let Some(first) = block[j].strip_prefix("$ ") else {
                if let (true, Some(last)) = (is_shown_error(block[j]), out.last_mut()) {
                    last.expected_error.get_or_insert_with(|| block[j].trim().to_string());
                }
                j += 1;
                continue;
            };
            let line_number = start + j + 1;
            let mut command = first.to_string();
            while command.ends_with('\\') && j + 1 < block.len() {
                j += 1;
                command.push('\n');
                command.push_str(block[j]);
            }
            if let Some(delimiter) = heredoc_delimiter(&command) {
                while j + 1 < block.len() {
                    j += 1;
                    command.push('\n');
                    command.push_str(block[j]);
                    if block[j].trim() == delimiter {
                        break;
                    }
                }
            }
            out.push(Example { line: line_number, command, expected_error: None });
            j += 1;
        }
    }
    out
}

/// `text` as one single-quoted bash word.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r#"'\''"#))
}

/// The `--listen` address of a `colt serve` command (its default otherwise).
fn listen_address(command: &str) -> String {
    let words: Vec<&str> = command.split_whitespace().collect();
    words
        .iter()
        .position(|w| *w == "--listen")
        .and_then(|at| words.get(at + 1))
        .map(|a| a.to_string())
        .or_else(|| words.iter().find_map(|w| w.strip_prefix("--listen=").map(str::to_string)))
        .unwrap_or_else(|| "127.0.0.1:7878".to_string())
}

/// The bash script that runs `examples` of `file` and checks their errors.
fn script(file: &str, examples: &[Example]) -> String {
    let mut s = String::from(
        r#"set -euo pipefail
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true' EXIT
mkdir -p .docs-log
wait_for_daemon() {
  for _ in $(seq 1 600); do
    if curl -s -o /dev/null "http://$1/v1/health"; then return 0; fi
    sleep 0.1
  done
  echo "docs: no daemon answered at $1 within 60 s; its log:" >&2
  cat .docs-log/background-* >&2 || true
  return 1
}
"#,
    );
    for (n, example) in examples.iter().enumerate() {
        let first_line = example.command.lines().next().unwrap_or_default();
        let place = format!("{file}:{}", example.line);
        s.push_str(&format!("echo {} >&2\n", quoted(&format!("+ {place}: $ {first_line}"))));
        let trimmed = example.command.trim_end();
        if let Some(background) = trimmed.strip_suffix('&').filter(|c| !c.ends_with('&')) {
            s.push_str(&format!("{} >.docs-log/background-{n} 2>&1 &\n", background.trim_end()));
            if background.trim_start().starts_with("colt serve") {
                s.push_str(&format!("wait_for_daemon {}\n", quoted(&listen_address(background))));
            }
            continue;
        }
        match &example.expected_error {
            None => s.push_str(&format!("{{ {}\n}}\n", example.command)),
            Some(shown) => {
                s.push_str(&format!(
                    "if {{ {}\n}} 2>.docs-log/stderr-{n}; then\n  echo {} >&2\n  exit 1\nfi\ncat .docs-log/stderr-{n} >&2\n",
                    example.command,
                    quoted(&format!("docs: {place}: succeeded, but the guide shows it failing with: {shown}"))
                ));
                for fragment in shown.split("...").map(str::trim).filter(|f| !f.is_empty()) {
                    s.push_str(&format!(
                        "grep -qF -- {} .docs-log/stderr-{n} || {{ echo {} >&2; exit 1; }}\n",
                        quoted(fragment),
                        quoted(&format!("docs: {place}: its error does not say what the guide shows: {fragment}"))
                    ));
                }
            }
        }
    }
    s
}

fn repo() -> PathBuf {
    colt_e2e::repo_root().canonicalize().expect("the checkout exists")
}

/// A sandbox folder as the convention above describes.
fn sandbox() -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix("colt-docs-").tempdir().unwrap();
    let models = repo().join("models");
    let sandbox_models = dir.path().join("models");
    std::fs::create_dir(&sandbox_models).unwrap();
    let small = models.join(colt_llm::TEST_SMALL_MODEL_FILE);
    let large = models.join(colt_llm::TEST_LARGE_MODEL_FILE);
    for (name, target) in [
        (colt_llm::SMALL_MODEL_FILE, &small),
        (colt_llm::LARGE_MODEL_FILE, &large),
        (colt_llm::TEST_SMALL_MODEL_FILE, &small),
        (colt_llm::TEST_LARGE_MODEL_FILE, &large),
    ] {
        assert!(target.is_file(), "{} is missing: run scripts/fetch-models.sh", target.display());
        std::os::unix::fs::symlink(target, sandbox_models.join(name)).unwrap();
    }
    copy_folder(&repo().join("workloads"), &dir.path().join("workloads"));
    dir
}

/// `from`'s files and folders (`workloads/beyond-suite/`) into a new `to`.
fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// `PATH` with the tested `colt` first.
fn path_with_colt() -> String {
    let bin = colt_e2e::colt_binary().parent().unwrap().to_path_buf();
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default())
}

static ONE_FILE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs the command examples of `relative` (a path in the repository).
fn run_examples_of(relative: &str) {
    let _turn = ONE_FILE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let markdown = std::fs::read_to_string(repo().join(relative)).unwrap();
    let examples = examples(&markdown);
    if examples.is_empty() {
        return;
    }
    let dir = sandbox();
    let _postgres = examples.iter().any(|e| e.command.contains("postgres://")).then(|| {
        let mut server = colt_db::test_server::TestServer::start_on_port(BOOK_POSTGRES_PORT)
            .unwrap_or_else(|e| panic!("{relative}'s examples need PostgreSQL on port {BOOK_POSTGRES_PORT}: {e}"));
        server.create_database("colt").unwrap();
        server
    });
    let script = script(relative, &examples);
    std::fs::write(dir.path().join(".docs-script.sh"), &script).unwrap();
    let mut child = Command::new("bash")
        .arg(".docs-script.sh")
        .current_dir(dir.path())
        .env("PATH", path_with_colt())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    // Read both pipes on threads, so that a chatty example cannot block.
    let read = |pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let mut pipe = pipe;
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > FILE_LIMIT {
            kill_group(child.id());
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    let tail = |text: &str| text.chars().rev().take(12_000).collect::<Vec<_>>().into_iter().rev().collect::<String>();
    match status {
        Some(status) if status.success() => {
            eprintln!("{relative}: {} commands in {:.1} s", examples.len(), started.elapsed().as_secs_f64())
        }
        Some(status) => panic!(
            "an example of {relative} failed ({status}); the commands ran in {}\n--- stdout\n{}\n--- stderr\n{}",
            dir.keep().display(),
            tail(&stdout),
            tail(&stderr)
        ),
        None => {
            panic!("the examples of {relative} took over {} s\n--- stderr\n{}", FILE_LIMIT.as_secs(), tail(&stderr))
        }
    }
}

/// Kills the process group that `leader` leads: the script and whatever
/// it started in the background.
fn kill_group(leader: u32) {
    let _ = Command::new("kill").args(["-KILL", "--", &format!("-{leader}")]).status();
}

/// The files whose examples are run: the README and every chapter.
fn documents() -> Vec<String> {
    let mut files = vec!["README.md".to_string()];
    let mut chapters: Vec<String> = std::fs::read_dir(repo().join("docs/src"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str().map(str::to_string))
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/src/{name}"))
        .collect();
    chapters.sort();
    files.extend(chapters);
    files
}

macro_rules! chapters {
    ($($test:ident => $file:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                run_examples_of($file);
            }
        )*

        /// Every Markdown file of the book has its test above (a new
        /// chapter cannot be left unrun by forgetting it here).
        #[test]
        fn every_chapter_has_its_test() {
            let tested = [$($file),*];
            for file in documents() {
                assert!(tested.contains(&file.as_str()), "{file} has no test in tests/tests/docs_examples.rs");
            }
        }
    };
}

chapters! {
    readme => "README.md",
    summary => "docs/src/SUMMARY.md",
    introduction => "docs/src/introduction.md",
    installation => "docs/src/installation.md",
    tuning => "docs/src/tuning.md",
    strategies => "docs/src/strategies.md",
    models => "docs/src/models.md",
    specialist => "docs/src/specialist.md",
    workload_files => "docs/src/workload-files.md",
    schedule_space => "docs/src/schedule-space.md",
    measurement => "docs/src/measurement.md",
    gpus => "docs/src/gpus.md",
    benchmarks => "docs/src/benchmarks.md",
    daemon => "docs/src/daemon.md",
    postgres => "docs/src/postgres.md",
    scale_out => "docs/src/scale-out.md",
    whole_models => "docs/src/whole-models.md",
    database => "docs/src/database.md",
    hardening => "docs/src/hardening.md",
    troubleshooting => "docs/src/troubleshooting.md",
    development => "docs/src/development.md",
}

#[test]
fn commands_continuations_heredocs_and_shown_errors_are_read_as_the_guide_means_them() {
    let markdown = "text\n\n```console\n$ colt tune a \\\n  --trials 8\nsome output\n$ cat > w.colt <<'EOF'\nworkload w\n$ not a command\nEOF\n$ colt tune nosuch\ncolt: error: cannot load workload `nosuch`: ... no built-in\n```\n\n```sh\n$ not run\n```\n\n<!-- run by .ci/run on a fresh clone -->\n```console\n$ bash scripts/setup.sh\n```\n";
    let found = examples(markdown);
    assert_eq!(
        found,
        vec![
            Example { line: 4, command: "colt tune a \\\n  --trials 8".into(), expected_error: None },
            Example {
                line: 7,
                command: "cat > w.colt <<'EOF'\nworkload w\n$ not a command\nEOF".into(),
                expected_error: None
            },
            Example {
                line: 11,
                command: "colt tune nosuch".into(),
                expected_error: Some("colt: error: cannot load workload `nosuch`: ... no built-in".into())
            },
        ]
    );
    assert_eq!(listen_address("colt serve --db x.db --listen 127.0.0.1:9000"), "127.0.0.1:9000");
    assert_eq!(listen_address("colt serve --db x.db"), "127.0.0.1:7878");
}

/// The harness itself fails a file whose shown error is not what colt says,
/// and one whose command fails: it cannot pass by construction.
#[test]
fn a_wrong_shown_error_and_a_failing_command_fail_the_file() {
    let run = |markdown: &str| {
        let dir = sandbox();
        let script = script("t.md", &examples(markdown));
        Command::new("bash")
            .args(["-c", &script])
            .current_dir(dir.path())
            .env("PATH", path_with_colt())
            .output()
            .unwrap()
    };
    let right = run(
        "```console\n$ colt tune nosuch\ncolt: error: cannot load workload `nosuch`: ... no built-in workload\n```\n",
    );
    assert!(right.status.success(), "{}", String::from_utf8_lossy(&right.stderr));
    let wrong = run("```console\n$ colt tune nosuch\ncolt: error: something colt never says\n```\n");
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("does not say what the guide shows"));
    let failing = run("```console\n$ colt tune nosuch\n```\n");
    assert!(!failing.status.success());
    let succeeding_error = run("```console\n$ colt workloads\ncolt: error: x\n```\n");
    assert!(String::from_utf8_lossy(&succeeding_error.stderr).contains("succeeded, but the guide shows it failing"));
}
