//! Resolution end to end (parse, candidates, search of app, space,
//! organization and foundation) on a `MemoryStore` of 1 thousand, 100
//! thousand and 1 million credentials, against a linear scan of the kind
//! kubelet's keyring does (every stored entry tested against the
//! reference, the best kept), in the same run.
//!
//! The store and the questions are the core's workload
//! (`registry_credentials::workload`, a mix of scopes, registries and
//! namespaces). Run: `cargo bench -p registry-credentials-bench --bench resolve`.
//! Names are `resolve/<case>-<size>/<impl>` with case `app-hit` (the app's
//! own credential, the first of the plan's keys), `space-hit` and `org-hit`
//! (a credential of the app's space or organization, the app holding none
//! for the image), `foundation-hit` (a foundation credential for a parent
//! domain, the last of twelve keys) or `miss` (twelve keys, nothing
//! found). Each iteration asks the next of 4,096 different questions, so a
//! large store is not all in cache.

#![allow(missing_docs, reason = "criterion_group! makes an undocumented pub fn")]

mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use registry_credentials::workload::{PushKind, Workload};
use registry_credentials::{App, CredentialStore, Reference, resolve};
use registry_credentials_bench::peers::linear_scan;
use registry_credentials_bench::{memory_store, questions};

/// An app and the image it pushes.
type Question = (App, String);

fn label(n: usize) -> &'static str {
    match n {
        1_000 => "1k",
        100_000 => "100k",
        1_000_000 => "1m",
        _ => unreachable!("sizes are 1k, 100k and 1m"),
    }
}

fn resolve_bench(c: &mut Criterion) {
    let mut g = common::group(c, "resolve", 30, Duration::from_secs(2));
    // Every store is built first, and each case is measured at every size
    // before the next case: the sizes of one case run back to back, under
    // the same load, so that their ratio (the 1m / 1k target) compares like
    // with like on a shared machine.
    let sizes: Vec<_> = [1_000, 100_000, 1_000_000]
        .into_iter()
        .map(|n| {
            let workload = Workload::new(n);
            let store = memory_store(&workload);
            let entries = store.list_all().unwrap();
            assert_eq!(entries.len(), n);
            (n, workload, store, entries)
        })
        .collect();
    for kind in PushKind::ALL {
        let (case, expected) = (kind.name(), kind.scope());
        for (n, workload, store, entries) in &sizes {
            let queries: &[Question] = &questions(workload, kind);
            // Both implementations give the same answers.
            for (app, image) in queries.iter().take(64) {
                let ours = resolve(store, app, &image.parse().unwrap()).unwrap();
                let linear = linear_scan(entries, app, image);
                assert_eq!(
                    ours.as_ref().map(|r| r.location()),
                    linear.map(|c| c.location()),
                    "{case} {image}"
                );
                assert_eq!(ours.map(|r| r.scope_kind()), expected);
            }
            let id = format!("{case}-{}", label(*n));
            g.bench_function(BenchmarkId::new(&id, "memory-store"), |b| {
                let mut i = 0;
                b.iter(|| {
                    let (app, image) = &queries[i % queries.len()];
                    i += 1;
                    let reference = Reference::parse(black_box(image)).unwrap();
                    let found = resolve(store, black_box(app), &reference).unwrap();
                    assert_eq!(found.as_ref().map(|r| r.scope_kind()), expected);
                    found
                })
            });
            if *n <= 100_000 {
                g.bench_function(BenchmarkId::new(&id, "linear-scan"), |b| {
                    let mut i = 0;
                    b.iter(|| {
                        let (app, image) = &queries[i % queries.len()];
                        i += 1;
                        let found = linear_scan(entries, black_box(app), black_box(image));
                        assert_eq!(found.map(|c| c.scope().kind()), expected);
                        found.cloned()
                    })
                });
            }
        }
    }
    g.finish();
}

criterion_group!(benches, resolve_bench);
criterion_main!(benches);
