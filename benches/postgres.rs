//! Resolve end to end on `PostgresStore` against a loopback server, at 1
//! thousand and 1 million stored credentials: plan, one round trip,
//! decrypt the winner.
//!
//! Run: `.ci/postgres.sh setup` prints the server's address; then
//! `REGISTRY_CREDENTIALS_PG_URL=<address> cargo bench --features postgres --bench postgres`.
//! The rows are loaded once (the million takes a few minutes) into the
//! schemas `bench_1000` and `bench_1000000` and kept for later runs.

#![allow(missing_docs, reason = "criterion_group! makes an undocumented pub fn")]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use registry_credentials::{
    resolve_async, App, AppId, AsyncCredentialStore, Credential, EncryptionKey, Keyring, OrgId,
    PostgresStore, Reference, RegistryCredential, Scope, SpaceId,
};

const APPS: usize = 20_000;
const SPACES: usize = 5_000;
const ORGS: usize = 1_000;

fn credential(i: usize) -> RegistryCredential {
    let scope = match i % 4 {
        0 => Scope::App(AppId::new(format!("app{}", i % APPS)).unwrap()),
        1 => Scope::Space(SpaceId::new(format!("space{}", i % SPACES)).unwrap()),
        2 => Scope::Org(OrgId::new(format!("org{}", i % ORGS)).unwrap()),
        _ => Scope::Foundation,
    };
    RegistryCredential::new(
        scope,
        format!("r{i}.example.com/team").parse().unwrap(),
        Credential::new(format!("user{i}"), format!("password-{i}")).unwrap(),
    )
}

/// Pulls that find an organization's credential, as an app of it.
fn queries(n: usize) -> Vec<(App, Reference, String)> {
    (0..64)
        .map(|k| {
            let i = (k * 7919 * 4 + 2) % n;
            let a = i % APPS;
            let app = App::new(
                format!("org{}", a % ORGS),
                format!("space{}", a % SPACES),
                format!("app{a}"),
            )
            .unwrap();
            let image = format!("r{i}.example.com/team/img:1").parse().unwrap();
            (app, image, format!("user{i}"))
        })
        .collect()
}

async fn store(url: &str, n: usize) -> PostgresStore {
    let schema = format!("bench_{n}");
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
            .batch_execute(&format!("TRUNCATE {schema}.registry_credentials"))
            .await
            .unwrap();
        eprintln!("loading {n} credentials into {schema}…");
        let tasks: Vec<_> = (0..8)
            .map(|t| {
                let store = store.clone();
                tokio::spawn(async move {
                    for i in (t..n).step_by(8) {
                        store.create(credential(i)).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        client
            .batch_execute(&format!("ANALYZE {schema}.registry_credentials"))
            .await
            .unwrap();
    }
    store
}

fn resolve_bench(c: &mut Criterion) {
    let Ok(url) = std::env::var("REGISTRY_CREDENTIALS_PG_URL") else {
        eprintln!("skipped: set REGISTRY_CREDENTIALS_PG_URL (see .ci/postgres.sh) to run the PostgreSQL bench");
        return;
    };
    // One thread: the bench, the pool's connection tasks and the client
    // run together, as in a request handler; no cross-thread wake-ups.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("resolve");
    for (n, label) in [(1_000, "1k"), (1_000_000, "1m")] {
        let store = rt.block_on(store(&url, n));
        let qs = queries(n);
        let mut k = 0;
        group.bench_function(format!("{label}/postgres"), |b| {
            b.iter(|| {
                let (app, image, user) = &qs[k % qs.len()];
                k += 1;
                let found = rt
                    .block_on(resolve_async(&store, black_box(app), black_box(image)))
                    .unwrap();
                assert_eq!(found.unwrap().credential().username().as_str(), user);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, resolve_bench);
criterion_main!(benches);
