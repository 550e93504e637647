//! Resolve on `SqliteStore`, with `MemoryStore` measured beside it in the
//! same run, at 1 thousand and 1 million stored credentials: plan, one
//! statement, decrypt the winner.
//!
//! The store and the questions are the resolve bench's, from the core's workload
//! (`registry_credentials::workload`): `app-hit` (the app's own credential, the first of
//! the plan's keys), `foundation-hit` (a foundation credential for a parent
//! domain, the last of twelve keys) and `miss` (twelve keys, nothing
//! found), each iteration the next of 4,096 different questions. The
//! references are parsed outside the timed part.
//!
//! Run: `cargo bench -p registry-credentials-bench --features sqlite --bench sqlite`.
//! Names are `resolve/<case>-<size>/<impl>`. The 1-million-row file is built
//! once (half a minute) and kept under `target/bench-data/` of the
//! workspace, where the instruction-count benches read it too.

#![allow(missing_docs, reason = "criterion_group! makes an undocumented pub fn")]

mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use registry_credentials::{CredentialStore, resolve};

use registry_credentials::workload::Workload;
use registry_credentials_bench::{StoreCase, cycle, memory_store};

fn bench_store<S: CredentialStore>(
    c: &mut Criterion,
    id: &str,
    name: &str,
    store: &S,
    case: &StoreCase,
) {
    let mut g = common::group(c, "resolve", 30, Duration::from_secs(2));
    g.bench_function(BenchmarkId::new(id, name), |b| {
        let mut next = cycle(&case.questions);
        b.iter(|| {
            let (app, image) = next();
            case.checked(resolve(store, black_box(app), black_box(image)).unwrap())
        })
    });
    g.finish();
}

fn resolve_bench(c: &mut Criterion) {
    for (n, label) in [(1_000, "1k"), (1_000_000, "1m")] {
        let workload = Workload::new(n);
        let memory = memory_store(&workload);
        let sqlite = registry_credentials_bench::sqlite::store(&workload);
        for case in StoreCase::all(&workload) {
            // Both stores give the same answers.
            case.assert_agrees_with_memory(&memory, |app, image| {
                resolve(&sqlite, app, image).unwrap()
            });
            let id = format!("{}-{label}", case.name);
            bench_store(c, &id, "sqlite", &sqlite, &case);
            bench_store(c, &id, "memory-store", &memory, &case);
        }
    }
}

criterion_group!(benches, resolve_bench);
criterion_main!(benches);
