//! `SqliteStore`'s failures say what happened and what to do
//! ([`DatabaseError`]): a full disk, another writer past the busy timeout,
//! a damaged, read-only or missing file; and a failed call changed nothing
//! (R28).
//!
//! The full-disk test mounts a 1 MiB tmpfs, which needs root: it is
//! `#[ignore]`d, and CI runs it with the other ignored tests (as root);
//! without root it fails, saying so. The same mapping is checked for
//! every condition, without a disk to fill, through
//! [`DatabaseError::from_sqlite`] with SQLite's own result codes.
#![cfg(feature = "sqlite")]

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use registry_credentials::store::conformance::{cred, org};
use registry_credentials::store::{CredentialStore, StoreError};
use registry_credentials::{Credential, RegistryCredential, Scope};
use registry_credentials_sql::rusqlite::{Error, ffi};
use registry_credentials_sql::{
    DatabaseError, EncryptionKey, Keyring, OpenError, SqliteOptions, SqliteStore,
};
use registry_credentials_test_support::fs::{self, Tmpfs};

fn temp_dir(name: &str) -> PathBuf {
    fs::temp_dir(
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        &format!("sqlite-errors-{name}"),
    )
}

fn keyring() -> Keyring {
    Keyring::new(EncryptionKey::new("errors", [0x17; 32]).unwrap())
}

/// `e` is retryable, and the [`DatabaseError`] it carries is one `is`
/// accepts, with the message `message`.
fn assert_retryable(e: &StoreError, is: fn(&DatabaseError) -> bool, message: &str) {
    assert!(e.is_retryable(), "{e:?}");
    let explained = match e {
        StoreError::Backend { source, .. } => source.downcast_ref::<DatabaseError>(),
        _ => None,
    }
    .unwrap_or_else(|| panic!("not a DatabaseError: {e:?}"));
    assert!(is(explained), "{explained:?}");
    assert_eq!(explained.to_string(), message);
}

fn sqlite(code: i32) -> Error {
    Error::SqliteFailure(ffi::Error::new(code), None)
}

#[test]
fn r28_each_sqlite_condition_is_named_with_its_file_and_what_to_do() {
    let path = Path::new("/srv/cf/state.db");
    let wait = Duration::from_secs(10);
    let explained = |code| DatabaseError::from_sqlite(&sqlite(code), path, wait);
    let table: [(i32, &str, bool); 6] = [
        (
            ffi::SQLITE_FULL,
            "the disk holding /srv/cf/state.db is full: free space and retry; nothing was changed",
            true,
        ),
        (
            ffi::SQLITE_BUSY,
            "another writer held /srv/cf/state.db for longer than the 10 s wait: retry when it is done; nothing was changed",
            true,
        ),
        (
            ffi::SQLITE_LOCKED,
            "another writer held /srv/cf/state.db for longer than the 10 s wait: retry when it is done; nothing was changed",
            true,
        ),
        (
            ffi::SQLITE_CORRUPT,
            "the database /srv/cf/state.db is damaged: restore it from a backup; nothing was changed",
            false,
        ),
        (
            ffi::SQLITE_READONLY,
            "/srv/cf/state.db cannot be written (the file, its directory or its file system is read-only for this user): give this user write access to both, then retry; nothing was changed",
            false,
        ),
        (
            ffi::SQLITE_CANTOPEN,
            "cannot open /srv/cf/state.db: check that it and its directory exist and that this user may read and write both; nothing was changed",
            false,
        ),
    ];
    for (code, message, retryable) in table {
        let e = explained(code).unwrap_or_else(|| panic!("code {code}"));
        assert_eq!(e.to_string(), message);
        assert_eq!(e.is_retryable(), retryable, "{e}");
        // SQLite's own words are the source, not the message.
        let source = std::error::Error::source(&e).unwrap().to_string();
        assert!(source.starts_with("SQLite: "), "{source}");
        assert!(!message.contains(&source), "{message}");
    }
    // The extended codes of a full shared-memory file count as their
    // primary code: an I/O error is a full disk only when the disk is.
    let shm = ffi::SQLITE_IOERR_SHMSIZE;
    let plenty = DatabaseError::from_sqlite(&sqlite(shm), &temp_dir("space").join("c.db"), wait);
    assert!(plenty.is_none(), "{plenty:?}");
    // Errors no person can act on are left to the driver's message.
    for code in [
        ffi::SQLITE_CONSTRAINT,
        ffi::SQLITE_MISUSE,
        ffi::SQLITE_ERROR,
    ] {
        assert!(explained(code).is_none(), "code {code}");
    }
    assert!(DatabaseError::from_sqlite(&Error::QueryReturnedNoRows, path, wait).is_none());
}

#[test]
fn r28_a_writer_past_the_busy_timeout_is_told_who_held_the_file_and_for_how_long() {
    let path = temp_dir("busy").join("c.db");
    let holder = SqliteStore::open(&path, keyring()).unwrap();
    let waiter = SqliteStore::open_with(
        &path,
        keyring(),
        SqliteOptions::default().busy_timeout(Duration::from_millis(200)),
    )
    .unwrap();
    let (held, hold) = mpsc::channel();
    let (done, finish) = mpsc::channel::<()>();
    std::thread::scope(|threads| {
        threads.spawn(move || {
            holder
                .transaction(|tx| -> Result<(), StoreError> {
                    tx.create(cred(org("o"), "docker.io", "holder", "pw"))?;
                    held.send(()).unwrap();
                    finish.recv().unwrap();
                    Ok(())
                })
                .unwrap()
        });
        hold.recv().unwrap();
        let e = waiter
            .create(cred(Scope::Foundation, "quay.io", "waiter", "pw"))
            .unwrap_err();
        done.send(()).unwrap();
        assert_retryable(
            &e,
            |d| matches!(d, DatabaseError::Busy { .. }),
            &format!(
                "another writer held {} for longer than the 200 ms wait: retry when it is done; nothing was changed",
                path.display()
            ),
        );
    });
    // It changed nothing, and once the lock is free it goes through.
    assert_eq!(waiter.list_all().unwrap().len(), 1);
    waiter
        .create(cred(Scope::Foundation, "quay.io", "waiter", "pw"))
        .unwrap();
}

#[test]
fn a_missing_directory_is_named_with_what_to_check() {
    let path = temp_dir("missing").join("no-such-dir").join("c.db");
    let e = SqliteStore::open(&path, keyring()).unwrap_err();
    assert!(!e.is_retryable());
    assert!(
        matches!(e, OpenError::Database(DatabaseError::CannotOpen { .. })),
        "{e:?}"
    );
    // The open error adds no advice of its own to the explained one.
    assert_eq!(e.to_string(), "could not open the credential database");
}

fn many(n: usize, tag: &str) -> Vec<RegistryCredential> {
    (0..n)
        .map(|i| {
            RegistryCredential::new(
                org("o"),
                format!("registry-{i}.example.com").parse().unwrap(),
                Credential::new(
                    format!("user-{tag}-{i}"),
                    format!("password-{tag}-{i}-{}", "x".repeat(40)),
                )
                .unwrap(),
            )
        })
        .collect()
}

#[test]
#[ignore = "needs root: mounts a 1 MiB tmpfs to fill (CI runs ignored tests as root)"]
fn r28_a_full_disk_says_so_changes_nothing_and_the_same_call_works_once_space_is_freed() {
    let disk = Tmpfs::mount(temp_dir("full"));
    let path = disk.path().join("c.db");
    let store = SqliteStore::open(&path, keyring()).unwrap();
    store
        .create(cred(Scope::Foundation, "docker.io", "u", "pw"))
        .unwrap();
    let message = format!(
        "the disk holding {} is full: free space and retry; nothing was changed",
        path.display()
    );
    let full = |e: &StoreError| {
        assert_retryable(e, |d| matches!(d, DatabaseError::DiskFull { .. }), &message);
    };

    // A disk already full: a single create, refused, then done once space
    // is freed.
    let filler = disk.fill();
    let one = || cred(Scope::Foundation, "quay.io", "u", "pw");
    let e = store.create(one()).unwrap_err();
    full(&e);
    assert_eq!(store.len().unwrap(), 1);
    std::fs::remove_file(&filler).unwrap();
    store.create(one()).unwrap();
    assert_eq!(store.len().unwrap(), 2);

    // A batch larger than the disk: one transaction, refused whole.
    let e = store.create_all(many(20_000, "big")).unwrap_err();
    full(&e);
    assert_eq!(store.len().unwrap(), 2);
    drop(store);

    // Opening on a full disk: SQLite cannot make its shared-memory file,
    // an I/O error that is a full disk all the same, not damage. (A store
    // of its own, closed cleanly, so that opening must make that file.)
    for f in std::fs::read_dir(disk.path()).unwrap() {
        std::fs::remove_file(f.unwrap().path()).unwrap();
    }
    let store = SqliteStore::open(&path, keyring()).unwrap();
    store.create(one()).unwrap();
    drop(store);
    let filler = disk.fill();
    let e = SqliteStore::open(&path, keyring()).unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    assert!(
        matches!(e, OpenError::Database(DatabaseError::DiskFull { .. })),
        "{e:?}"
    );
    std::fs::remove_file(&filler).unwrap();
    let store = SqliteStore::open(&path, keyring()).unwrap();
    assert_eq!(store.len().unwrap(), 1);
}
