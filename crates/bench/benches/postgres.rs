//! Resolve on `PostgresStore` against a loopback server, with `MemoryStore`
//! and a `SELECT 1` round trip on the store's own pool measured beside it
//! in the same run, at 1 thousand and 1 million stored credentials: plan,
//! one round trip, decrypt the winner.
//!
//! `resolve/<case>-<size>/{postgres,memory-store,select-1}` asks one
//! question at a time; `concurrent/<case>-<size>/{postgres,select-1}` runs
//! 32 tasks at once on the runtime, each asking one question (or running
//! one `SELECT 1`), and one iteration is the whole batch. `select-1` takes
//! a connection from the store's pool and runs the prepared `SELECT 1`:
//! the least a round trip on that pool costs, so `postgres / select-1` is
//! what the store adds to it.
//!
//! The store and the questions are the resolve bench's, from the core's workload
//! (`registry_credentials::workload`), as in the SQLite bench: `app-hit`, `foundation-hit`
//! and `miss`, each iteration the next of 4,096 different questions, the
//! references parsed outside the timed part.
//!
//! `query/<case>-<size>/postgres` lists as the platform's API does (R22,
//! R23): a space developer's first page of 50 and one GUID, beside
//! `query/plain-select-50-<size>/postgres`, a plain indexed select of 50
//! rows on a connection of the same pool.
//!
//! Run: `.ci/postgres.sh setup` prints the server's address; then
//! `REGISTRY_CREDENTIALS_PG_URL=<address> cargo bench -p registry-credentials-bench --features postgres --bench postgres`.
//! The rows are loaded once (the million takes several minutes) into the
//! schemas `bench_workload_1000` and `bench_workload_1000000` and kept
//! for later runs. `REGISTRY_CREDENTIALS_BENCH_SIZES=1000` (a
//! comma-separated list) runs only the sizes given.

#![allow(missing_docs, reason = "criterion_group! makes an undocumented pub fn")]

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use registry_credentials::resolve::resolve_async;
use registry_credentials::store::AsyncCredentialStore;
use registry_credentials::{CredentialStore, resolve};
use registry_credentials_sql::{EncryptionKey, Keyring, PostgresStore};

use registry_credentials::MemoryStore;
use registry_credentials::workload::Workload;
use registry_credentials_bench::{Question, StoreCase, cycle, memory_store};

/// How many tasks the concurrent benches run at once.
const TASKS: usize = 32;

/// The peer: one `SELECT 1` on a connection of the store's pool, prepared
/// once per connection (the pool's statement cache) as the store's own
/// statements are.
async fn select_1(store: &PostgresStore) -> i32 {
    let client = store.pool().get().await.unwrap();
    let stmt = client.prepare_cached("SELECT 1").await.unwrap();
    client.query_one(&stmt, &[]).await.unwrap().get(0)
}

/// Runs `TASKS` tasks at once on the current runtime, task `t` running
/// `work(t)`, and waits for all of them.
async fn batch<F, Fut>(work: F)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for t in 0..TASKS {
        set.spawn(work(t));
    }
    while let Some(done) = set.join_next().await {
        done.unwrap();
    }
}

/// The sizes to run: `REGISTRY_CREDENTIALS_BENCH_SIZES`, or both.
fn sizes() -> Vec<(usize, &'static str)> {
    let all = [(1_000, "1k"), (1_000_000, "1m")];
    match std::env::var("REGISTRY_CREDENTIALS_BENCH_SIZES") {
        Ok(list) => all
            .into_iter()
            .filter(|(n, _)| list.split(',').any(|s| s.trim() == n.to_string()))
            .collect(),
        Err(_) => all.to_vec(),
    }
}

/// The workload's credentials in a schema of their own, loaded once and
/// kept.
async fn store(url: &str, memory: &MemoryStore, n: usize) -> PostgresStore {
    let schema = format!("bench_workload_{n}");
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .await
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{sep}options=-c%20search_path%3D{schema}");
    let keyring = Keyring::new(EncryptionKey::new("bench", [7; 32]).unwrap());
    let store = PostgresStore::connect(&url, keyring).await.unwrap();
    let have = store.len().await.unwrap() as usize;
    if have != n {
        client
            .batch_execute(&format!("TRUNCATE {schema}.registry_credentials CASCADE"))
            .await
            .unwrap();
        eprintln!("loading {n} credentials into {schema}…");
        let all = std::sync::Arc::new(memory.list_all().unwrap());
        let tasks: Vec<_> = (0..8)
            .map(|t| {
                let (store, all) = (store.clone(), std::sync::Arc::clone(&all));
                tokio::spawn(async move {
                    let mine: Vec<_> = all.iter().skip(t).step_by(8).collect();
                    for chunk in mine.chunks(5_000) {
                        let batch = chunk.iter().map(|c| (***c).clone()).collect();
                        store.create_all(batch).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        // VACUUM as well: it sets the visibility map that index-only
        // scans need, as autovacuum does in a server that has run a while.
        client
            .batch_execute(&format!("VACUUM ANALYZE {schema}.registry_credentials"))
            .await
            .unwrap();
    }
    store
}

fn resolve_bench(c: &mut Criterion) {
    let Ok(url) = std::env::var("REGISTRY_CREDENTIALS_PG_URL") else {
        eprintln!(
            "skipped: set REGISTRY_CREDENTIALS_PG_URL (see .ci/postgres.sh) to run the PostgreSQL bench"
        );
        return;
    };
    // One thread: the bench, the pool's connection tasks and the client
    // run together, as in a request handler; no cross-thread wake-ups.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut g = common::group(c, "resolve", 30, Duration::from_secs(3));
    let mut loaded = Vec::new();
    for (n, label) in sizes() {
        let workload = Workload::new(n);
        let memory = memory_store(&workload);
        let store = rt.block_on(store(&url, &memory, n));
        for case in StoreCase::all(&workload) {
            // Both stores give the same answers.
            case.assert_agrees_with_memory(&memory, |app, image| {
                rt.block_on(resolve_async(&store, app, image)).unwrap()
            });
            let id = format!("{}-{label}", case.name);
            g.bench_function(BenchmarkId::new(&id, "postgres"), |b| {
                let mut next = cycle(&case.questions);
                b.iter(|| {
                    let (app, image) = next();
                    let found =
                        rt.block_on(resolve_async(&store, black_box(app), black_box(image)));
                    case.checked(found.unwrap())
                })
            });
            g.bench_function(BenchmarkId::new(&id, "select-1"), |b| {
                b.iter(|| rt.block_on(select_1(&store)))
            });
            g.bench_function(BenchmarkId::new(&id, "memory-store"), |b| {
                let mut next = cycle(&case.questions);
                b.iter(|| {
                    let (app, image) = next();
                    case.checked(resolve(&memory, black_box(app), black_box(image)).unwrap())
                })
            });
        }
        loaded.push((label, workload, store));
    }
    g.finish();

    let mut g = common::group(c, "concurrent", 20, Duration::from_secs(3));
    for (label, workload, store) in &loaded {
        for case in StoreCase::all(workload) {
            let id = format!("{}-{label}", case.name);
            let case = Arc::new(case);
            g.bench_function(BenchmarkId::new(&id, "postgres"), |b| {
                let mut round = 0;
                b.iter(|| {
                    round += TASKS;
                    rt.block_on(batch(|t| {
                        let (store, case) = (store.clone(), Arc::clone(&case));
                        async move {
                            let (app, image): &Question =
                                &case.questions[(round + t) % case.questions.len()];
                            let found = resolve_async(&store, app, image).await.unwrap();
                            case.checked(found);
                        }
                    }))
                })
            });
            g.bench_function(BenchmarkId::new(&id, "select-1"), |b| {
                b.iter(|| {
                    rt.block_on(batch(|_| {
                        let store = store.clone();
                        async move {
                            assert_eq!(select_1(&store).await, 1);
                        }
                    }))
                })
            });
        }
    }
    g.finish();

    // A page of the platform's list and one GUID, against a plain indexed
    // select of 50 rows on a connection of the same pool (R22, R23).
    use registry_credentials_bench::{PLAIN_SELECT_50, query_cases};
    let mut g = c.benchmark_group("query");
    g.sample_size(30);
    g.measurement_time(Duration::from_secs(3));
    g.warm_up_time(Duration::from_millis(500));
    for (label, workload, store) in &loaded {
        let first = registry_credentials::store::Query::new()
            .page(1, 1)
            .unwrap();
        let guid = rt.block_on(store.query(&first)).unwrap().resources()[0]
            .record()
            .guid();
        for (name, query) in query_cases(workload, 0, guid) {
            let page = rt.block_on(store.query(&query)).unwrap();
            assert!(!page.resources().is_empty(), "{name} finds credentials");
            g.bench_function(
                BenchmarkId::new(format!("{name}-{label}"), "postgres"),
                |b| b.iter(|| rt.block_on(store.query(black_box(&query))).unwrap()),
            );
        }
        let org = workload.app(0).org().as_str().to_owned();
        g.bench_function(
            BenchmarkId::new(format!("plain-select-50-{label}"), "postgres"),
            |b| {
                b.iter(|| {
                    rt.block_on(async {
                        let client = store.pool().get().await.unwrap();
                        let stmt = client.prepare_cached(PLAIN_SELECT_50).await.unwrap();
                        client.query(&stmt, &[black_box(&org)]).await.unwrap().len()
                    })
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, resolve_bench);
criterion_main!(benches);
