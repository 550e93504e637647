//! A loop to profile: parse one of the bench inputs, or resolve one of the
//! resolve bench's questions, many times, and print the time per call.
//!
//! The benches time; this is for counting. Under valgrind's callgrind the
//! instruction counts are the same on every run, whatever else the machine
//! is doing, and `--toggle-collect` keeps the set-up out of them:
//!
//! ```sh
//! cargo build --release -p registry-credentials-bench --example profile
//! valgrind --tool=callgrind --toggle-collect='profile::measured' \
//!     target/release/examples/profile resolve foundation-hit 1000000 100000
//! valgrind --tool=callgrind --toggle-collect='profile::measured' \
//!     target/release/examples/profile parse typical 100000
//! ```
//!
//! Divide the `Collected` count by the number of calls (the last argument).
//! Arguments: `parse <short|typical|digest|deep|long255> [calls]`, or
//! `resolve <app-hit|space-hit|org-hit|foundation-hit|miss> <credentials>
//! [calls]`, the resolve bench's questions of the core's workload
//! (`registry_credentials::workload`).

use std::hint::black_box;
use std::time::Instant;

use registry_credentials::workload::{PushKind, Workload};
use registry_credentials::{App, MemoryStore, Reference, resolve};

/// The resolve cases' names, for the usage message.
fn kinds() -> String {
    PushKind::ALL.map(PushKind::name).join(", ")
}

enum Work<'a> {
    Parse(&'a str),
    Resolve(&'a MemoryStore, &'a [(App, String)]),
}

/// The measured loop; everything outside it is set-up.
#[inline(never)]
fn measured(work: &Work<'_>, calls: usize) -> usize {
    let mut found = 0;
    for i in 0..calls {
        match work {
            Work::Parse(s) => {
                found += Reference::parse(black_box(s)).unwrap().name().len();
            }
            Work::Resolve(store, questions) => {
                let (app, image) = &questions[i % questions.len()];
                let reference = Reference::parse(black_box(image)).unwrap();
                found += usize::from(resolve(*store, app, &reference).unwrap().is_some());
            }
        }
    }
    found
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    let number = |i: usize, default: usize| arg(i).map_or(default, |s| s.parse().unwrap());
    let (found, calls, took) = match (arg(0), arg(1)) {
        (Some("parse"), Some(case)) => {
            let inputs = registry_credentials_bench::inputs::inputs();
            let input = inputs
                .iter()
                .find(|i| i.case == case)
                .unwrap_or_else(|| panic!("no parse input named {case}"));
            let calls = number(2, 1_000_000);
            let start = Instant::now();
            let found = measured(&Work::Parse(&input.text), calls);
            (found, calls, start.elapsed())
        }
        (Some("resolve"), Some(case)) => {
            let kind = PushKind::ALL
                .into_iter()
                .find(|k| k.name() == case)
                .unwrap_or_else(|| panic!("cases are {}", kinds()));
            let workload = Workload::new(number(2, 1_000));
            let store = registry_credentials_bench::memory_store(&workload);
            let questions = registry_credentials_bench::questions(&workload, kind);
            let calls = number(3, 1_000_000);
            let start = Instant::now();
            let found = measured(&Work::Resolve(&store, &questions), calls);
            (found, calls, start.elapsed())
        }
        _ => {
            eprintln!(
                "usage: profile parse <case> [calls] | profile resolve <case> <credentials> [calls]"
            );
            std::process::exit(2);
        }
    };
    println!(
        "{:.1} ns per call ({calls} calls, checksum {found})",
        took.as_nanos() as f64 / calls as f64
    );
}
