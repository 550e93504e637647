//! Parsing an image reference: ours against oci-spec's regex parser, on the
//! same five inputs in the same run.
//!
//! Run: `cargo bench -p registry-credentials-bench --bench parse`. Names are `parse/<case>/<impl>`.

#![allow(missing_docs, reason = "criterion_group! makes an undocumented pub fn")]

mod common;

use std::hint::black_box;
use std::str::FromStr;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use registry_credentials::Reference;

fn parse(c: &mut Criterion) {
    let mut g = common::group(c, "parse", 100, Duration::from_secs(2));
    for input in registry_credentials_bench::inputs::inputs() {
        let text = input.text.as_str();
        g.bench_with_input(BenchmarkId::new(input.case, "ours"), text, |b, text| {
            b.iter(|| {
                let r = Reference::parse(black_box(text)).expect("a valid reference");
                assert_eq!(r.registry(), input.registry);
                r
            })
        });
        g.bench_with_input(BenchmarkId::new(input.case, "oci-spec"), text, |b, text| {
            b.iter(|| {
                let r = oci_spec::distribution::Reference::from_str(black_box(text))
                    .expect("a valid reference");
                assert_eq!(r.registry(), input.registry);
                r
            })
        });
    }
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
