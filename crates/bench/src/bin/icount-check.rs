//! Compares a run of the instruction-count benches with the committed
//! baseline, or writes the run into it.
//!
//! ```sh
//! cargo bench -p registry-credentials-bench --features sqlite --bench icount \
//!     -- --output-format=json > target/icount.jsonl
//! cargo run -p registry-credentials-bench --bin icount-check -- check target/icount.jsonl
//! cargo run -p registry-credentials-bench --bin icount-check -- update target/icount.jsonl
//! ```
//!
//! `check` prints every bench beside its baseline and exits 1 when a count
//! rose by more than 5 %, when a bench of the baseline did not run or when
//! one ran that the baseline lacks. `update` rewrites the baseline with the
//! run's counts, keeping its comment lines: an intended rise goes into the
//! same commit as its cause, with the reason in the commit message.
//! `--baseline FILE` names another baseline than `icount-baseline.txt` of
//! this package.

use std::process::ExitCode;

use registry_credentials_bench::icount::{self, LIMIT_PERCENT, UPDATE_COMMAND};

const USAGE: &str = "usage: icount-check check|update RUN [--baseline FILE]";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("icount-check: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Vec<String>) -> Result<ExitCode, String> {
    let (command, rest) = args.split_first().ok_or(USAGE)?;
    let (run_path, baseline_path) = match rest {
        [run] => (
            run.as_str(),
            concat!(env!("CARGO_MANIFEST_DIR"), "/icount-baseline.txt"),
        ),
        [run, flag, file] if flag == "--baseline" => (run.as_str(), file.as_str()),
        _ => return Err(USAGE.into()),
    };
    let read =
        |path: &str| std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"));
    let run = icount::read_run(&read(run_path)?).map_err(|e| format!("{run_path}: {e}"))?;
    let old = read(baseline_path)?;
    let baseline = icount::read_baseline(&old).map_err(|e| format!("{baseline_path}: {e}"))?;
    match command.as_str() {
        "check" => {
            let report = icount::compare(&baseline, &run);
            print!("{}", report.table);
            for gain in &report.gains {
                println!(
                    "note: {gain}; take the gain into the baseline (`{UPDATE_COMMAND} {run_path}`) so that a later rise is measured from it"
                );
            }
            if report.failures.is_empty() {
                println!(
                    "icount: {} benches within {LIMIT_PERCENT} % of the baseline {baseline_path}",
                    run.len()
                );
                return Ok(ExitCode::SUCCESS);
            }
            for failure in &report.failures {
                eprintln!("icount: {failure}");
            }
            eprintln!(
                "icount: the instruction counts differ from the baseline {baseline_path}. \
                 If the change is intended, update the baseline in the same commit and give \
                 the reason in the commit message: `{UPDATE_COMMAND} {run_path}`"
            );
            Ok(ExitCode::FAILURE)
        }
        "update" => {
            let text = icount::write_baseline(&icount::header(&old), &run);
            std::fs::write(baseline_path, text)
                .map_err(|e| format!("cannot write {baseline_path}: {e}"))?;
            println!("icount: wrote {} counts to {baseline_path}", run.len());
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(USAGE.into()),
    }
}
