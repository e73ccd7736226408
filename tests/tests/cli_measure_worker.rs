//! `colt measure-worker` is wired to colt-measure's worker loop: it ends
//! quietly when its parent closes the pipe, and says what is wrong when
//! what arrives is not a request. (colt-measure's own tests drive the full
//! protocol, crashes and hangs with the same loop in a stand-in binary.)

use colt_e2e::{colt_binary, stderr};
use std::io::Write;
use std::process::{Command, Stdio};

fn worker_with_input(input: &[u8]) -> std::process::Output {
    let mut child = Command::new(colt_binary())
        .arg("measure-worker")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("colt runs");
    child.stdin.take().expect("piped stdin").write_all(input).expect("the worker reads its input");
    child.wait_with_output().expect("the worker ends")
}

#[test]
fn the_worker_ends_quietly_when_its_input_closes() {
    let out = worker_with_input(b"");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
}

#[test]
fn the_worker_refuses_input_that_is_not_a_request() {
    let out = worker_with_input(&[0xff; 64]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("colt: error: measurement worker"), "{}", stderr(&out));
}

#[test]
fn the_worker_is_not_listed_in_the_help() {
    let out = Command::new(colt_binary()).arg("--help").output().expect("colt runs");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("measure-worker"));
}
