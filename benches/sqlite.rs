//! Resolve end to end on `SqliteStore`, with `MemoryStore` measured beside
//! it, at 1 thousand and 1 million stored credentials: parse nothing, plan,
//! one query, decrypt the winner.
//!
//! Run: `cargo bench --features sqlite --bench sqlite`. The 1-million-row
//! file is built once (about a minute) and kept under `target/bench-data/`.

#![allow(missing_docs, reason = "criterion_group! makes an undocumented pub fn")]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use registry_credentials::{
    resolve, App, AppId, Credential, CredentialStore, EncryptionKey, Keyring, MemoryStore, OrgId,
    Reference, RegistryCredential, Scope, SpaceId, SqliteOptions, SqliteStore,
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

/// Pulls that find an organization's credential for the row `i`, as an
/// app of that organization.
fn queries(n: usize) -> Vec<(App, Reference, String)> {
    (0..64)
        .map(|k| {
            let i = (k * 7919 * 4 + 2) % n; // rows with i % 4 == 2: org scope
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

fn keyring() -> Keyring {
    Keyring::new(EncryptionKey::new("bench", [7; 32]).unwrap())
}

fn sqlite_store(n: usize) -> SqliteStore {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("sqlite-{n}.db"));
    if let Ok(store) = SqliteStore::open(&path, keyring()) {
        if store.len().unwrap() == n as u64 {
            return store;
        }
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    // Build without waiting for the disk on every commit, then reopen with
    // the defaults for measuring.
    let build = SqliteStore::open_with(
        &path,
        keyring(),
        SqliteOptions::default().sync_every_commit(false),
    )
    .unwrap();
    for i in 0..n {
        build.create(credential(i)).unwrap();
    }
    drop(build);
    SqliteStore::open(&path, keyring()).unwrap()
}

fn memory_store(n: usize) -> MemoryStore {
    let store = MemoryStore::new();
    for i in 0..n {
        store.create(credential(i)).unwrap();
    }
    store
}

fn bench_store<S: CredentialStore>(c: &mut Criterion, name: &str, store: &S, n: usize) {
    let qs = queries(n);
    let mut k = 0;
    c.benchmark_group("resolve").bench_function(name, |b| {
        b.iter(|| {
            let (app, image, user) = &qs[k % qs.len()];
            k += 1;
            let found = resolve(store, black_box(app), black_box(image)).unwrap();
            assert_eq!(found.unwrap().credential().username().as_str(), user);
        })
    });
}

fn resolve_bench(c: &mut Criterion) {
    for (n, label) in [(1_000, "1k"), (1_000_000, "1m")] {
        let sqlite = sqlite_store(n);
        bench_store(c, &format!("{label}/sqlite"), &sqlite, n);
        drop(sqlite);
        let memory = memory_store(n);
        bench_store(c, &format!("{label}/memory"), &memory, n);
    }
}

criterion_group!(benches, resolve_bench);
criterion_main!(benches);
