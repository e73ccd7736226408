//! No broken link in the user's guide: every relative link of the README,
//! ARCHITECTURE.md, the book (docs/src) and the benchmark folders' READMEs
//! names a file or folder of the checkout, and every `#anchor` a heading of
//! its target (as GitHub and mdBook make heading ids). `.ci/run` builds the
//! book with `mdbook build docs`, which fails on a chapter SUMMARY.md names
//! but that is missing (`create-missing = false`); this test does the rest.
//!
//! Links to the web (`https://…`) are not followed: CI reaches no site.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    colt_e2e::repo_root().canonicalize().expect("the checkout exists")
}

/// `markdown` without fenced blocks and inline code (whose brackets are
/// not links), line numbers kept.
fn prose_lines(markdown: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fence: Option<&str> = None;
    for (n, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match fence {
            Some(f) if trimmed.starts_with(f) => fence = None,
            Some(_) => {}
            None if trimmed.starts_with("```") => fence = Some("```"),
            None if trimmed.starts_with("~~~") => fence = Some("~~~"),
            None => {
                // Inline code: drop what is between backtick runs.
                let mut text = String::new();
                for (i, part) in line.split('`').enumerate() {
                    if i % 2 == 0 {
                        text.push_str(part);
                    }
                }
                out.push((n + 1, text));
            }
        }
    }
    out
}

/// The targets of the inline links `[text](target)` and of the reference
/// definitions `[label]: target` of `markdown`, with their line numbers.
fn links(markdown: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in prose_lines(markdown) {
        let bytes = line.as_bytes();
        let mut i = 0;
        while let Some(at) = line[i..].find("](") {
            let start = i + at + 2;
            let mut depth = 1;
            let mut end = start;
            while end < bytes.len() {
                match bytes[end] {
                    b'(' => depth += 1,
                    b')' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                end += 1;
            }
            let target = line[start..end].split_whitespace().next().unwrap_or("").trim_matches(['<', '>']);
            out.push((n, target.to_string()));
            i = end.min(line.len());
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            if let Some((label, target)) = trimmed.split_once("]: ") {
                if !label.contains("](") {
                    out.push((n, target.split_whitespace().next().unwrap_or("").to_string()));
                }
            }
        }
    }
    out
}

/// A heading's id as GitHub and mdBook make it: lower case, letters,
/// digits, `-` and `_` kept, spaces to `-`, the rest dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The ids of `markdown`'s headings (a repeated heading's later ids get
/// `-1`, `-2`, …, as both renderers do).
fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = BTreeSet::new();
    let mut fence = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") || line.trim_start().starts_with("~~~") {
            fence = !fence;
            continue;
        }
        if fence || !line.starts_with('#') {
            continue;
        }
        let text = line.trim_start_matches('#');
        if !text.starts_with(' ') {
            continue;
        }
        let id = slug(&text.replace('`', ""));
        let count = seen.entry(id.clone()).or_insert(0);
        out.insert(if *count == 0 { id.clone() } else { format!("{id}-{count}") });
        *count += 1;
    }
    // Explicit anchors: `<a id="x"></a>` / `<a name="x">`.
    for part in markdown.split("<a ").skip(1) {
        for key in ["id=\"", "name=\""] {
            if let Some(rest) = part.split_once(key).map(|(_, r)| r) {
                if let Some((id, _)) = rest.split_once('"') {
                    out.insert(id.to_string());
                }
            }
        }
    }
    out
}

/// The Markdown files whose links are checked.
fn checked_files() -> Vec<PathBuf> {
    let root = repo();
    let mut files = vec![root.join("README.md"), root.join("ARCHITECTURE.md")];
    let mut stack = vec![root.join("docs/src"), root.join("bench")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if (dir.starts_with(root.join("docs/src")) && path.extension().is_some_and(|e| e == "md"))
                || path.file_name().is_some_and(|n| n == "README.md")
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// What is wrong with `target`, a link in `file`, if anything.
fn broken(file: &Path, target: &str) -> Option<String> {
    broken_in_the_checkout(file, target).or_else(|| broken_in_the_built_book(file, target))
}

/// A link of a chapter that leaves the book (into the rest of the checkout)
/// works in the checkout, but mdBook renames every relative `.md` link to
/// `.html`, which outside the book names nothing: such links name a
/// folder (its README is what a repository viewer shows) or a file that
/// is not Markdown.
fn broken_in_the_built_book(file: &Path, target: &str) -> Option<String> {
    let book = repo().join("docs/src");
    if !file.starts_with(&book) || target.contains("://") {
        return None;
    }
    let path = target.split('#').next().unwrap_or_default();
    let resolved = normalized(&file.parent().unwrap().join(path));
    (!resolved.starts_with(&book) && path.ends_with(".md"))
        .then(|| "leaves the book and ends in `.md`, which mdBook renames to `.html`: link the folder".to_string())
}

/// `path` with its `..` and `.` resolved lexically.
fn normalized(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn broken_in_the_checkout(file: &Path, target: &str) -> Option<String> {
    if target.is_empty() {
        return Some("an empty link".into());
    }
    if target.contains("://") || target.starts_with("mailto:") {
        return None;
    }
    let (path, anchor) = match target.split_once('#') {
        Some((path, anchor)) => (path, Some(anchor)),
        None => (target, None),
    };
    let resolved = if path.is_empty() { file.to_path_buf() } else { file.parent().unwrap().join(path) };
    if !resolved.exists() {
        return Some(format!("{} does not exist", resolved.display()));
    }
    let anchor = anchor?;
    if resolved.extension().is_none_or(|e| e != "md") {
        return None;
    }
    let text = std::fs::read_to_string(&resolved).unwrap();
    (!anchors(&text).contains(anchor)).then(|| format!("{} has no heading `#{anchor}`", resolved.display()))
}

#[test]
fn no_relative_link_of_the_guide_is_broken() {
    let root = repo();
    let mut problems = Vec::new();
    let files = checked_files();
    assert!(files.len() > 20, "the guide's files were not found: {files:?}");
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (line, target) in links(&text) {
            if let Some(problem) = broken(file, &target) {
                let at = file.strip_prefix(&root).unwrap_or(file).display().to_string();
                problems.push(format!("{at}:{line}: ({target}): {problem}"));
            }
        }
    }
    assert!(problems.is_empty(), "{} broken links:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn the_checker_finds_links_and_anchors_as_renderers_make_them() {
    let markdown = "# Tuning (`colt tune`)\n\nSee [a](other.md#x) and [b](#tuning-colt-tune).\n\n```text\n[not](a-link)\n```\n`[nor](this)`\n[ref]: ../x.md\n## Tuning (`colt tune`)\n";
    assert_eq!(
        links(markdown),
        vec![(3, "other.md#x".to_string()), (3, "#tuning-colt-tune".to_string()), (9, "../x.md".to_string())]
    );
    let ids = anchors(markdown);
    assert!(ids.contains("tuning-colt-tune") && ids.contains("tuning-colt-tune-1"), "{ids:?}");
    assert_eq!(slug("Several hosts (one PostgreSQL)"), "several-hosts-one-postgresql");
    // A link that names nothing is caught, one that names a heading passes.
    let readme = repo().join("README.md");
    assert!(broken(&readme, "no-such-file.md").is_some());
    assert!(broken(&readme, "ARCHITECTURE.md").is_none());
    assert!(broken(&readme, "#no-such-heading-anywhere").is_some());
    // A chapter's link out of the book names a folder, not a `.md` file.
    let chapter = repo().join("docs/src/introduction.md");
    assert!(broken(&chapter, "../../ARCHITECTURE.md").is_some());
    assert!(broken(&chapter, "../../bench/").is_none());
    assert!(broken(&chapter, "tuning.md").is_none());
}

/// `bench/` is read by question: every folder has a README; a run's
/// (`bench/<question>/<machine>-<date>/`) says its question, machine, date
/// and commands; a part of a run points back to the run's README (or is a
/// follow-up run that says all four itself); and no
/// folder is named after a work item (`issue17`), which tells a reader
/// nothing about what it measures.
#[test]
fn every_bench_folder_says_its_question_machine_and_commands() {
    let bench = repo().join("bench");
    let mut problems = Vec::new();
    let mut stack = vec![bench.clone()];
    while let Some(dir) = stack.pop() {
        let relative = dir.strip_prefix(&bench).unwrap().to_path_buf();
        let depth = relative.components().count();
        let name = dir.file_name().unwrap().to_string_lossy().to_lowercase();
        let work_item = ["issue", "stop", "refactor"].iter().any(|w| {
            name.strip_prefix(w).is_some_and(|rest| rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_digit()))
        });
        if work_item {
            problems.push(format!("bench/{}: named after a work item", relative.display()));
        }
        let readme = dir.join("README.md");
        match std::fs::read_to_string(&readme) {
            Err(_) => problems.push(format!("bench/{}: no README.md", relative.display())),
            Ok(text) if depth == 2 && !relative.starts_with("peers") => {
                for field in ["**Question:**", "**Machine:**", "**Date:**", "**Commands:**"] {
                    if !text.contains(field) {
                        problems.push(format!("bench/{}/README.md: no {field}", relative.display()));
                    }
                }
            }
            // A part of a run, or a follow-up run with the four fields of
            // its own.
            Ok(text) if depth > 2 && !text.contains("../README.md") && !text.contains("**Question:**") => {
                problems.push(format!("bench/{}/README.md: does not link its run's README", relative.display()))
            }
            Ok(_) => {}
        }
        for entry in std::fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
            if entry.path().is_dir() {
                stack.push(entry.path());
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
