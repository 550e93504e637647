//! Importing a Docker `config.json` of 1 thousand, 10 thousand and 100
//! thousand entries: reading and checking the file, writing its entries
//! to a `SqliteStore` in one transaction, the whole import through the
//! management API as the `cf` tool runs it, and how long another writer
//! waits meanwhile.
//!
//! - `import/read/<n>`: `import::read` of the file's bytes (parse, every key
//!   to a location, every `auth` decoded and checked, keys of one location
//!   matched); each iteration checks the entry count.
//! - `import/write/<n>/sqlite`: `SqliteStore::create_all` of the entries at
//!   the foundation, into a new file each iteration (made outside the timed
//!   part), synced at commit as the store's defaults do.
//! - `import/apply/<n>/sqlite`: `apply::import_into` through a `Manager`
//!   over a `SqliteTransaction` (`BEGIN IMMEDIATE`), as `cf
//!   import-*-registry-credentials` runs it: the access check, the scope's
//!   listing, `create_all`, the commit.
//! - `import/concurrent-create-wait/<n>/sqlite`: while that transaction
//!   runs in one thread, another creates one credential through its own
//!   connection, as a concurrent `cf create-…` does; the time measured is
//!   that create's wait, from the moment the import holds the write lock
//!   until the create returns. It must succeed: the store's busy timeout
//!   (5 s; the `cf` tool's is 10 s) covers the import's transaction.
//!
//! Run: `cargo bench -p registry-credentials-bench --features sqlite --bench import`.
//! `REGISTRY_CREDENTIALS_IMPORT_SIZES=1000,10000` chooses the sizes (by
//! default all three). The files are built in memory; the stores live in
//! `target/bench-data/import/` and are removed after each iteration.

#![allow(missing_docs, reason = "criterion_group! makes an undocumented pub fn")]

mod common;

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use registry_credentials::scope::UserId;
use registry_credentials::{Credential, CredentialStore, RegistryCredential, Scope};
use registry_credentials_cf::access::GlobalRole;
use registry_credentials_cf::directory::{DirectoryWriter, MemoryDirectory};
use registry_credentials_cf::manage::Manager;
use registry_credentials_interop::apply::{Policy, import_into};
use registry_credentials_interop::import::{Import, read};
use registry_credentials_sql::{EncryptionKey, Keyring, SqliteStore};

fn sizes() -> Vec<usize> {
    std::env::var("REGISTRY_CREDENTIALS_IMPORT_SIZES")
        .ok()
        .map(|s| {
            s.split(',')
                .map(|n| n.trim().parse().expect("sizes are numbers"))
                .collect()
        })
        .unwrap_or_else(|| vec![1_000, 10_000, 100_000])
}

/// A `config.json` of `n` entries, one registry each, as `docker login`
/// writes them (padded base64 of `user:password`).
fn config_json(n: usize) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = String::from("{\n  \"auths\": {\n");
    for i in 0..n {
        let auth = b64.encode(format!("user-{i}:password-{i}-of-the-import-bench"));
        let sep = if i + 1 == n { "" } else { "," };
        out.push_str(&format!(
            "    \"registry-{i}.example.com\": {{\n      \"auth\": \"{auth}\"\n    }}{sep}\n"
        ));
    }
    out.push_str("  }\n}\n");
    out.into_bytes()
}

fn keyring() -> Keyring {
    Keyring::new(EncryptionKey::new("bench", [7; 32]).unwrap())
}

/// A new, empty store file.
fn fresh_store() -> SqliteStore {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data/import");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!(
        "import-{}-{}.db",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    remove(&path);
    SqliteStore::open(&path, keyring()).unwrap()
}

fn remove(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// Drops the store and removes its file.
fn discard(store: SqliteStore) {
    let path = store.path().to_owned();
    drop(store);
    remove(&path);
}

fn admin() -> UserId {
    UserId::new("admin").unwrap()
}

/// The management API over one transaction of `store`, with `admin` an
/// Admin, and the import applied through it at the foundation.
fn apply(tx: &registry_credentials_sql::SqliteTransaction<'_>, import: Import) -> usize {
    let directory = MemoryDirectory::new();
    directory.grant_global(admin(), GlobalRole::Admin).unwrap();
    let m = Manager::new(tx, directory);
    let report = import_into(
        &m,
        &admin(),
        &Scope::Foundation,
        import,
        Policy::AllOrNothing,
    )
    .expect("the import is applied");
    report.imported()
}

fn bench(c: &mut Criterion) {
    let mut g = common::group(c, "import", 10, Duration::from_secs(5));
    for n in sizes() {
        let bytes = config_json(n);
        g.bench_with_input(BenchmarkId::new("read", n), &bytes, |b, bytes| {
            b.iter(|| {
                let import = read(black_box(bytes)).unwrap();
                assert_eq!(import.entries.len(), n);
                import
            })
        });
        let import = read(&bytes).unwrap();
        let batch: Vec<RegistryCredential> = import
            .entries
            .iter()
            .map(|e| {
                RegistryCredential::new(Scope::Foundation, e.location.clone(), e.credential.clone())
            })
            .collect();
        g.bench_function(BenchmarkId::new(format!("write/{n}"), "sqlite"), |b| {
            b.iter_batched(
                || (fresh_store(), batch.clone()),
                |(store, batch)| {
                    let written = store.create_all(black_box(batch)).unwrap();
                    assert_eq!(written.len(), n);
                    store
                },
                BatchSize::PerIteration,
            )
        });
        g.bench_function(BenchmarkId::new(format!("apply/{n}"), "sqlite"), |b| {
            b.iter_batched(
                || (fresh_store(), import.clone()),
                |(store, import)| {
                    let imported = store
                        .transaction(|tx| -> Result<usize, registry_credentials::StoreError> {
                            Ok(apply(tx, black_box(import)))
                        })
                        .unwrap();
                    assert_eq!(imported, n);
                    store
                },
                BatchSize::PerIteration,
            )
        });
        g.bench_function(
            BenchmarkId::new(format!("concurrent-create-wait/{n}"), "sqlite"),
            |b| {
                b.iter_custom(|iters| {
                    let mut waited = Duration::ZERO;
                    for _ in 0..iters {
                        let store = fresh_store();
                        waited += concurrent_create_wait(&store, &import, n);
                        discard(store);
                    }
                    waited
                })
            },
        );
    }
    g.finish();
    let _ = std::fs::remove_dir_all(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data/import"),
    );
}

/// How long a create through the store's own connection waits while an
/// import of `n` entries runs in one transaction on another thread.
fn concurrent_create_wait(store: &SqliteStore, import: &Import, n: usize) -> Duration {
    let (locked, lock_held) = mpsc::channel();
    std::thread::scope(|threads| {
        let importer = threads.spawn(|| {
            store
                .transaction(|tx| -> Result<usize, registry_credentials::StoreError> {
                    // BEGIN IMMEDIATE has taken the write lock.
                    locked.send(()).unwrap();
                    Ok(apply(tx, import.clone()))
                })
                .unwrap()
        });
        lock_held.recv().unwrap();
        let started = Instant::now();
        store
            .create(RegistryCredential::new(
                Scope::Org(registry_credentials::scope::OrgId::new("concurrent").unwrap()),
                "docker.io".parse().unwrap(),
                Credential::new("other-writer", "its-password").unwrap(),
            ))
            .expect("the concurrent create waits for the import and succeeds");
        let waited = started.elapsed();
        assert_eq!(importer.join().unwrap(), n);
        waited
    })
}

criterion_group!(benches, bench);
criterion_main!(benches);
