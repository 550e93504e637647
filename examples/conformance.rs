//! The conformance runner.
//!
//! Reads a file of test vectors in the format of the project's
//! `shared/conformance/README.md` (image references, registry locations and
//! resolutions), checks every case against the crate, prints each failure
//! with its input and what the crate gave, and ends with `N passed, M failed`.
//! It exits non-zero when a case failed or the file could not be read.
//!
//! ```text
//! cargo run --example conformance -- tests/data/vectors.json
//! ```

#[path = "../tests/support/conformance.rs"]
mod conformance;

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: cargo run --example conformance -- FILE");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {}: {e}", path.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    let report = match conformance::run(&text) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: {e}", path.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    for f in &report.failures {
        println!("FAIL {f}");
    }
    println!("{}", report.summary());
    if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
