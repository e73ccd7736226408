//! Golden files of the lowering, in the manner of cranelift's filetests:
//! each file in `tests/golden/` is one case, its input and its expected
//! output side by side, so that a compiler change shows up as a readable
//! diff and adding a case is adding a file (no Rust to edit).
//!
//! A case opens with header lines naming a candidate — `; workload: NAME`
//! (a suite workload, at bench size), `; target: cpu` or `opencl`,
//! `; sketch: N` (an index into `sketches(program)`), then one
//! `; edit: EDIT` per edit, applied in order to that sketch's untransformed
//! candidate — and, after a blank line, what colt-ir makes of it: the
//! rendering a prompt shows, the kernel's fingerprint and scratch buffers,
//! and the kernel (on the CPU its C without the prelude every kernel
//! shares; on OpenCL its launches, then the whole OpenCL program).
//!
//! After a deliberate change to the lowering, rewrite the expected outputs
//! (headers are kept as written) with
//!
//! ```text
//! UPDATE_EXPECT=1 cargo test --release -p colt-ir --test lowering_golden
//! ```
//!
//! and review the diff before committing. A failing case prints its file
//! and the diff. (Correctness is the fuzz tests' job, against the reference
//! interpreter; these pin the shape of the code.)

use colt_ir::schedule::{lower, sketches, Candidate, Edit, Target};
use colt_ir::Size;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One golden file's input.
struct Case {
    path: PathBuf,
    /// The header lines as written, each with its newline.
    header: String,
    workload: String,
    target: Target,
    sketch: usize,
    edits: Vec<String>,
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Every `*.golden` file, by name.
fn case_paths() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("tests/golden exists")
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "golden"))
        .collect();
    paths.sort();
    paths
}

/// Reads a case's header: the lines before the first that does not start
/// with `;`.
fn read_case(path: &Path) -> Result<Case, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let (mut header, mut workload, mut target, mut sketch, mut edits) = (String::new(), None, None, None, Vec::new());
    for (n, line) in text.lines().enumerate().take_while(|(_, l)| l.starts_with(';')) {
        let at = |what: &str| format!("line {}: {what}", n + 1);
        let (key, value) = line[1..].split_once(':').ok_or_else(|| at("a header line is `; key: value`"))?;
        let value = value.trim().to_string();
        match key.trim() {
            "workload" => workload = Some(value),
            "target" => {
                target = Some(match value.as_str() {
                    "cpu" => Target::Cpu,
                    "opencl" => Target::OpenCl,
                    other => return Err(at(&format!("target `{other}` is not `cpu` or `opencl`"))),
                })
            }
            "sketch" => sketch = Some(value.parse().map_err(|_| at("the sketch is an index"))?),
            "edit" => edits.push(value),
            other => return Err(at(&format!("unknown header key `{other}` (workload, target, sketch, edit)"))),
        }
        header.push_str(line);
        header.push('\n');
    }
    Ok(Case {
        path: path.to_path_buf(),
        header,
        workload: workload.ok_or("no `; workload:` line")?,
        target: target.ok_or("no `; target:` line")?,
        sketch: sketch.ok_or("no `; sketch:` line")?,
        edits,
    })
}

fn candidate(case: &Case) -> Result<Candidate, String> {
    let workload = colt_ir::builtin(&case.workload).ok_or(format!("no suite workload `{}`", case.workload))?;
    let program = Arc::new(workload.program(Size::Bench));
    let all = sketches(&program);
    let sketch = all.get(case.sketch).ok_or(format!("`{}` has {} sketches", case.workload, all.len()))?;
    let mut c = Candidate::initial_on(program.clone(), sketch.clone(), case.target);
    for text in &case.edits {
        c = Edit::parse(text).map_err(|e| e.to_string())?.apply(&c).map_err(|e| e.to_string())?;
    }
    Ok(c)
}

/// What the case pins: rendering, fingerprint, scratch, then the kernel.
fn output(c: &Candidate) -> String {
    let nest = lower(c);
    let mut out = format!("{}fingerprint {:016x}\nscratch {:?}\n\n", c.render(), nest.fingerprint(), nest.scratch);
    match c.target() {
        Target::Cpu => {
            let c_source = nest.to_c();
            // The prelude is the same in every kernel: keep the files short.
            let (_, body) = c_source.split_once("\nvoid colt_kernel").expect("a kernel defines colt_kernel");
            out.push_str("void colt_kernel");
            out.push_str(body);
        }
        Target::OpenCl => {
            let program = nest.to_opencl();
            for launch in &program.launches {
                let local = launch.local.map_or("any".to_string(), |l| l.to_string());
                let _ = writeln!(out, "launch {} global {} local {local}", launch.entry, launch.global);
            }
            out.push('\n');
            out.push_str(&program.source);
        }
    }
    out
}

#[test]
fn every_golden_file_matches_the_lowering() {
    let paths = case_paths();
    assert!(!paths.is_empty(), "no golden files in {}", golden_dir().display());
    let mut failed = Vec::new();
    for path in &paths {
        let case = read_case(path).and_then(|case| candidate(&case).map(|c| (case, c)));
        let (case, c) = match case {
            Ok(found) => found,
            Err(e) => {
                failed.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        let actual = format!("{}\n{}", case.header, output(&c));
        // expect-test prints the file and the diff, then unwinds; go on
        // with the other files so that one run shows every change.
        let checked = std::panic::catch_unwind(|| expect_test::expect_file![&case.path].assert_eq(&actual));
        if checked.is_err() {
            failed.push(format!("{}: differs (diff above)", path.display()));
        }
    }
    assert!(failed.is_empty(), "{} of {} golden files fail:\n{}", failed.len(), paths.len(), failed.join("\n"));
}

#[test]
fn every_suite_workload_has_a_golden_case_on_each_target() {
    let cases: Vec<Case> = case_paths().iter().map(|p| read_case(p).unwrap()).collect();
    for w in colt_ir::SUITE {
        for target in [Target::Cpu, Target::OpenCl] {
            assert!(
                cases.iter().any(|c| c.workload == w.name && c.target == target && !c.edits.is_empty()),
                "no golden case of {} on {}",
                w.name,
                target.name()
            );
        }
    }
}
