//! The workload in SQLite files, for the benches that read a
//! `SqliteStore` (feature `sqlite`): built once per size under
//! `target/bench-data/` of the workspace and kept.

use std::path::PathBuf;

use registry_credentials::StoreError;
use registry_credentials::identity::Guid;
use registry_credentials::store::CredentialStore;
use registry_credentials::workload::Workload;
use registry_credentials_sql::rusqlite::{self, Connection, params};
use registry_credentials_sql::{EncryptionKey, Keyring, SqliteOptions, SqliteStore};

/// The first time a settled file's rows carry (2026-01-01, UTC).
const FIRST_CREATED: i64 = 1_767_225_600;

/// Rows that share a second of `created_at` in a settled file: about what
/// one second of the build writes, so that a page sorted by time breaks
/// ties by GUID as a real one does.
const ROWS_PER_SECOND: i64 = 100_000;

/// The GUID a settled file gives its `i`-th row in key order: a version 4
/// UUID whose bits are drawn from `i` alone (splitmix64), never nil.
fn guid(i: u64) -> Guid {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut bytes = [0; 16];
    bytes[..8].copy_from_slice(&mix(2 * i).to_be_bytes());
    bytes[8..].copy_from_slice(&mix(2 * i + 1).to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Guid::from_bytes(bytes).expect("the version bits make it other than nil")
}

/// Gives every row of the file on `conn` a GUID and times drawn from its
/// place in key order alone (the store draws random GUIDs and reads the
/// clock), so that the instruction counts of a read do not hang on where
/// the random GUIDs of one build put the page's rows.
fn settle(conn: &Connection) -> rusqlite::Result<()> {
    let keys: Vec<(String, i64, String)> = conn
        .prepare(
            "SELECT location, scope_kind, scope_id FROM registry_credentials \
             ORDER BY location, scope_kind, scope_id",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = conn.prepare(
        "UPDATE registry_credentials SET guid = ?1, created_at = ?2, updated_at = ?2 \
         WHERE location = ?3 AND scope_kind = ?4 AND scope_id = ?5",
    )?;
    for (i, (location, kind, id)) in keys.iter().enumerate() {
        let at = FIRST_CREATED + i as i64 / ROWS_PER_SECOND;
        let guid = guid(i as u64);
        update.execute(params![&guid.as_bytes()[..], at, location, kind, id])?;
    }
    Ok(())
}

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
/// 10 µs a credential, then settled: every row's GUID and times drawn
/// from its place, and the file vacuumed) when it is missing, holds
/// another number of rows or was built with random GUIDs.
pub fn store(workload: &Workload) -> SqliteStore {
    let n = workload.len();
    let path = path(n);
    if let Ok(store) = SqliteStore::open(&path, keyring()) {
        let settled = store
            .get_by_guid(guid(0))
            .is_ok_and(|found| found.is_some());
        if settled && store.len().ok() == Some(n as u64) {
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
            workload.fill(tx)?;
            tx.with_connection(settle).map_err(|e| StoreError::Backend {
                retryable: false,
                source: Box::new(e),
            })
        })
        .expect("a workload's keys are distinct");
    // The file rebuilt from its rows alone, so that its pages are the same
    // on every machine whatever order the rows and their GUIDs came in.
    drop(build);
    Connection::open(&path)
        .and_then(|c| c.execute_batch("VACUUM"))
        .unwrap_or_else(|e| panic!("cannot vacuum {}: {e}", path.display()));
    SqliteStore::open(&path, keyring())
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()))
}
