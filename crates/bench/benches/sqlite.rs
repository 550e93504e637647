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
//! `query-1m/<case>/sqlite` lists as the platform's API does (R22, R23):
//! a space developer's first page of 50 and one GUID, beside
//! `query-1m/plain-select-50/sqlite`, a plain indexed select of 50 rows
//! (no decryption) on a connection of the same store.
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

/// A page of the platform's list and one GUID, against a plain indexed
/// select of 50 rows on a connection of the same store, in the same run,
/// at 1 million rows (R22, R23).
fn query_bench(c: &mut Criterion) {
    use registry_credentials_bench::{PLAIN_SELECT_50, query_cases};
    let workload = Workload::new(1_000_000);
    let sqlite = registry_credentials_bench::sqlite::store(&workload);
    let app = workload.app(0);
    let guid = sqlite
        .query(
            &registry_credentials::store::Query::new()
                .page(1, 1)
                .unwrap(),
        )
        .unwrap()
        .resources()[0]
        .record()
        .guid();
    let mut g = c.benchmark_group("query-1m");
    g.sample_size(30);
    g.measurement_time(Duration::from_secs(2));
    g.warm_up_time(Duration::from_millis(500));
    for (name, query) in query_cases(&workload, 0, guid) {
        let page = sqlite.query(&query).unwrap();
        assert!(!page.resources().is_empty(), "{name} finds credentials");
        g.bench_function(BenchmarkId::new(name, "sqlite"), |b| {
            b.iter(|| sqlite.query(black_box(&query)).unwrap())
        });
    }
    let org = app.org().as_str().to_owned();
    g.bench_function(BenchmarkId::new("plain-select-50", "sqlite"), |b| {
        b.iter(|| {
            sqlite
                .read_transaction(|tx| {
                    Ok::<_, registry_credentials::StoreError>(tx.with_connection(|c| {
                        let mut stmt = c.prepare_cached(PLAIN_SELECT_50).unwrap();
                        let mut rows = stmt.query([black_box(&org)]).unwrap();
                        let mut n = 0;
                        while let Some(r) = rows.next().unwrap() {
                            n += r.get_ref(3).unwrap().as_blob().unwrap().len();
                        }
                        n
                    }))
                })
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, resolve_bench, query_bench);
criterion_main!(benches);
