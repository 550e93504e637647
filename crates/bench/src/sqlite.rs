//! The workload in SQLite files, for the benches that read a
//! `SqliteStore` (feature `sqlite`): built once per size under
//! `target/bench-data/` of the workspace and kept.

use std::path::PathBuf;

use registry_credentials::StoreError;
use registry_credentials::workload::Workload;
use registry_credentials_sql::{EncryptionKey, Keyring, SqliteOptions, SqliteStore};

/// The benches' keyring: one fixed key (the files hold nothing secret).
pub fn keyring() -> Keyring {
    Keyring::new(EncryptionKey::new("bench", [7; 32]).expect("a valid key id"))
}

/// Where the file of a workload of `n` credentials is kept.
pub fn path(n: usize) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/bench-data")
        .join(format!("sqlite-workload-{n}.db"))
}

/// The file of `workload`, opened; built first (one transaction, about
/// 10 µs a credential) when it is missing or holds another number of rows.
pub fn store(workload: &Workload) -> SqliteStore {
    let n = workload.len();
    let path = path(n);
    if let Ok(store) = SqliteStore::open(&path, keyring()) {
        if store.len().ok() == Some(n as u64) {
            return store;
        }
    }
    let dir = path.parent().expect("a file in a directory");
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    eprintln!("building {} ({n} credentials)…", path.display());
    // Built without waiting for the disk, then opened with the defaults
    // for measuring.
    let build = SqliteStore::open_with(
        &path,
        keyring(),
        SqliteOptions::default().sync_every_commit(false),
    )
    .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
    build
        .transaction(|tx| {
            // A page cache that holds the whole file: the rows arrive in no
            // order of their key, and a small cache would write each page
            // to the log many times.
            tx.with_connection(|c| c.execute_batch("PRAGMA cache_size = -1048576"))
                .map_err(|e| StoreError::Backend {
                    retryable: false,
                    source: Box::new(e),
                })?;
            workload.fill(tx)
        })
        .expect("a workload's keys are distinct");
    drop(build);
    SqliteStore::open(&path, keyring())
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()))
}
