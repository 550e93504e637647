//! Generating every candidate location of a parsed reference: ours (slices
//! of the normalized name, nothing allocated) against the straightforward
//! way (a `Vec<String>` of prefixes and parent domains), on the same inputs
//! in the same run.
//!
//! Run: `cargo bench -p registry-credentials-bench --bench candidates`. Names are
//! `candidates/<case>/<impl>`.

#![allow(missing_docs, reason = "criterion_group! makes an undocumented pub fn")]

mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use registry_credentials::Reference;
use registry_credentials_bench::peers::vec_of_strings;

fn candidates(c: &mut Criterion) {
    let mut g = common::group(c, "candidates", 100, Duration::from_secs(2));
    for input in registry_credentials_bench::inputs::inputs() {
        let r = Reference::parse(&input.text).unwrap();
        let expected: Vec<String> = r.candidates().map(|c| c.to_string()).collect();
        assert_eq!(vec_of_strings(r.name()), expected, "{}", input.case);
        let (n, last) = (expected.len(), expected.last().unwrap().clone());
        g.bench_with_input(BenchmarkId::new(input.case, "ours"), &r, |b, r| {
            b.iter(|| {
                let mut count = 0;
                let mut least = "";
                for c in black_box(r).candidates() {
                    count += 1;
                    least = c.as_str();
                }
                assert_eq!((count, least), (n, last.as_str()));
            })
        });
        let name = r.name();
        g.bench_with_input(
            BenchmarkId::new(input.case, "vec-of-strings"),
            name,
            |b, name| {
                b.iter(|| {
                    let v = vec_of_strings(black_box(name));
                    assert_eq!((v.len(), v.last()), (n, Some(&last)));
                    v
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, candidates);
criterion_main!(benches);
