//! Running a program with something on its standard input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `cmd` with `input` on its standard input, and waits for its
/// output (both streams captured).
///
/// A program that exits before it reads all of `input` (one that refuses
/// its arguments before it asks) closes the pipe: the input was not
/// needed, and what it printed is what the test checks.
///
/// # Panics
///
/// When the program cannot be started or its output cannot be read.
pub fn output_with_input(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?} cannot be started: {e}"));
    match child.stdin.take().expect("a piped stdin").write_all(input) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        written => written.unwrap(),
    }
    child.wait_with_output().unwrap()
}

/// What a program printed: its standard output, then its standard error.
pub fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
