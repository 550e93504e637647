//! `SqliteStore`: the store conformance suite, integrity across a killed
//! process, concurrency across threads and processes, and encryption at
//! rest (keys, rotation, tampering, no plain text in the file).
#![cfg(feature = "sqlite")]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use registry_credentials::credential::CredentialUpdate;
use registry_credentials::resolve::resolve_all;
use registry_credentials::scope::AppId;
use registry_credentials::store::conformance::{cred, loc, org};
use registry_credentials::store::{CredentialSource, CredentialStore, Key, StoreError};
use registry_credentials::{
    App, Credential, Password, RegistryCredential, Scope, Username, resolve,
};
use registry_credentials_sql::{KeyError, Keyring, OpenError, SchemaError, SqliteStore};
use support::{
    IMAGE, OUTRANKED, assert_the_winner, key, keyring, undecryptable, winner_and_outranked,
};

/// A fresh directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    registry_credentials_test_support::fs::temp_dir(
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        &format!("sqlite-{name}"),
    )
}

/// What `store` holds at `scope` for `location`.
fn get(
    store: &SqliteStore,
    scope: &Scope,
    location: impl AsRef<str>,
) -> Result<Option<std::sync::Arc<RegistryCredential>>, StoreError> {
    store.get(Key::new(scope.as_scope_ref(), &loc(location.as_ref())))
}

/// The password stored at `scope` and `location`, which must hold one.
fn password_at(store: &SqliteStore, scope: &Scope, location: &str) -> String {
    let stored = get(store, scope, location).unwrap();
    let stored = stored.unwrap_or_else(|| panic!("no credential for {location} at {scope}"));
    stored.password().expose().to_owned()
}

/// A store in a new file of its own, and the file's path.
fn fresh_store(name: &str) -> (SqliteStore, PathBuf) {
    let path = temp_dir(name).join("c.db");
    (SqliteStore::open(&path, keyring()).unwrap(), path)
}

/// [`fresh_store`], holding the foundation's credential for `docker.io`.
fn fresh_store_holding_one(name: &str) -> (SqliteStore, PathBuf) {
    let (store, path) = fresh_store(name);
    store
        .create(cred(Scope::Foundation, "docker.io", "u", "p"))
        .unwrap();
    (store, path)
}

fn store() -> SqliteStore {
    SqliteStore::open(temp_dir("conformance").join("c.db"), keyring()).unwrap()
}

/// A second instance over the same file: another `SqliteStore::open`, with
/// connections of its own, as a second process would have.
fn reopen(store: &SqliteStore) -> SqliteStore {
    SqliteStore::open(store.path(), keyring()).unwrap()
}

registry_credentials::store_conformance!();

#[test]
fn r17_clones_and_reopened_stores_share_the_file() {
    let path = temp_dir("reopen").join("c.db");
    let a = SqliteStore::open(&path, keyring()).unwrap();
    let b = SqliteStore::open(&path, keyring()).unwrap();
    a.create(cred(Scope::Foundation, "docker.io", "u", "p"))
        .unwrap();
    let docker = loc("docker.io");
    let k = Key::new(Scope::Foundation.as_scope_ref(), &docker);
    assert_eq!(b.get(k).unwrap().unwrap().password().expose(), "p");
    b.clone()
        .update(
            Scope::Foundation.as_scope_ref(),
            &docker,
            CredentialUpdate::Password(Password::new("q").unwrap()),
        )
        .unwrap();
    assert_eq!(a.get(k).unwrap().unwrap().password().expose(), "q");
    drop((a, b));
    let c = SqliteStore::open(&path, keyring()).unwrap();
    assert_eq!(c.len().unwrap(), 1);
}

// ---- encryption at rest -------------------------------------------------

fn raw_bytes(path: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        if let Ok(b) = std::fs::read(&p) {
            all.extend(b);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn r21_the_file_never_holds_a_password_in_plain_text() {
    let (store, path) = fresh_store("plaintext");
    for i in 0..40 {
        store
            .create(cred(
                org("o"),
                &format!("r{i}.example.com"),
                &format!("visible-user-{i}"),
                &format!("SENTINEL-PASSWORD-{i}-zq"),
            ))
            .unwrap();
    }
    for i in 0..10 {
        store
            .update(
                org("o").as_scope_ref(),
                &loc(&format!("r{i}.example.com")),
                CredentialUpdate::Password(Password::new(format!("SENTINEL-UPDATED-{i}")).unwrap()),
            )
            .unwrap();
    }
    // The other write path: an app's credential replaced whole (R19).
    store
        .replace_app_credential(
            &AppId::new("p").unwrap(),
            loc("docker.io"),
            Credential::new("put-user", "SENTINEL-PUT").unwrap(),
        )
        .unwrap();
    // While open: the WAL holds the recent writes.
    let open_bytes = raw_bytes(&path);
    // The search reads real data: usernames are stored in clear.
    assert!(contains(&open_bytes, b"visible-user-7"));
    assert!(!contains(&open_bytes, b"SENTINEL"), "a password in clear");
    drop(store);
    // Closed: checkpointed into the main file.
    let closed_bytes = raw_bytes(&path);
    assert!(contains(&closed_bytes, b"visible-user-7"));
    assert!(!contains(&closed_bytes, b"SENTINEL"));
}

#[test]
fn wrong_and_missing_keys_are_clear_errors() {
    let path = temp_dir("keys").join("c.db");
    let store = SqliteStore::open(&path, Keyring::new(key("k1", 1))).unwrap();
    store
        .create(cred(Scope::Foundation, "docker.io", "u", "p"))
        .unwrap();
    drop(store);

    // The same id with other key bytes.
    let e = SqliteStore::open(&path, Keyring::new(key("k1", 2))).unwrap_err();
    assert!(
        matches!(e, OpenError::Key(KeyError::WrongKey { ref id }) if id == "k1"),
        "{e:?}"
    );
    assert!(e.to_string().contains("key `k1` is not the key"), "{e}");

    // Another key only: the rows under k1 cannot be read.
    let e = SqliteStore::open(&path, Keyring::new(key("k2", 2))).unwrap_err();
    assert!(
        matches!(e, OpenError::Key(KeyError::MissingKey { ref id }) if id == "k1"),
        "{e:?}"
    );
    assert!(e.to_string().contains("which the keyring lacks"), "{e}");

    // Both: reads fine, writes under k2.
    let store = SqliteStore::open(
        &path,
        Keyring::new(key("k2", 2)).with_key(key("k1", 1)).unwrap(),
    )
    .unwrap();
    let docker = loc("docker.io");
    let k = Key::new(Scope::Foundation.as_scope_ref(), &docker);
    assert_eq!(store.get(k).unwrap().unwrap().password().expose(), "p");
}

#[test]
fn rotate_moves_every_row_to_the_current_key() {
    let path = temp_dir("rotate").join("c.db");
    let store = SqliteStore::open(&path, Keyring::new(key("old", 1))).unwrap();
    // One transaction for the 1,200 rows: one sync to disk, not 1,200.
    store
        .transaction(|tx| {
            for i in 0..1200 {
                tx.create(cred(
                    org("o"),
                    &format!("r{i}.example.com"),
                    "u",
                    &format!("p{i}"),
                ))?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    drop(store);
    let both = || Keyring::new(key("new", 2)).with_key(key("old", 1)).unwrap();
    let store = SqliteStore::open(&path, both()).unwrap();
    store
        .create(cred(org("o"), "fresh.example.com", "u", "fresh"))
        .unwrap();
    assert_eq!(store.rotate().unwrap(), 1200, "batches cover every old row");
    assert_eq!(store.rotate().unwrap(), 0);
    drop(store);

    let store = SqliteStore::open(&path, Keyring::new(key("new", 2))).unwrap();
    let all = store.list_all().unwrap();
    assert_eq!(all.len(), 1201);
    assert_eq!(password_at(&store, &org("o"), "r7.example.com"), "p7");
    drop(store);
    // The old key alone no longer reads anything.
    let e = SqliteStore::open(&path, Keyring::new(key("old", 1))).unwrap_err();
    assert!(
        matches!(e, OpenError::Key(KeyError::MissingKey { ref id }) if id == "new"),
        "{e:?}"
    );
}

#[test]
fn a_ciphertext_moved_to_another_row_fails_to_decrypt() {
    let (store, path) = fresh_store("tamper");
    store
        .create(cred(
            org("victim"),
            "registry.example.com",
            "same-user",
            "victim-pw",
        ))
        .unwrap();
    store
        .create(cred(
            org("attacker"),
            "registry.example.com",
            "same-user",
            "attacker-pw",
        ))
        .unwrap();
    store
        .create(cred(org("victim"), "example.com", "other", "x"))
        .unwrap();
    let raw = rusqlite::Connection::open(&path).unwrap();
    // Copy the victim's sealed password onto the attacker's row.
    raw.execute(
        "UPDATE registry_credentials SET secret = \
         (SELECT secret FROM registry_credentials WHERE scope_id = 'victim' AND location = 'registry.example.com') \
         WHERE scope_id = 'attacker'",
        [],
    )
    .unwrap();
    // And change a username behind the store's back.
    raw.execute(
        "UPDATE registry_credentials SET username = 'renamed' WHERE location = 'example.com'",
        [],
    )
    .unwrap();
    let attacker = org("attacker");
    let e = get(&store, &attacker, "registry.example.com").unwrap_err();
    assert!(undecryptable(&e), "{e:?}");
    let victim = org("victim");
    let e = get(&store, &victim, "example.com").unwrap_err();
    assert!(undecryptable(&e), "{e:?}");
    let e = store.list_all().unwrap_err();
    assert!(undecryptable(&e));
    let app = App::new("attacker", "s", "a").unwrap();
    let e = resolve(&store, &app, &"registry.example.com/x/y".parse().unwrap()).unwrap_err();
    assert!(undecryptable(&e));
    // A failed delete changes nothing.
    assert!(
        store
            .delete(attacker.as_scope_ref(), &loc("registry.example.com"))
            .is_err()
    );
    let n: i64 = raw
        .query_row("SELECT count(*) FROM registry_credentials", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, 3);
    // The untouched row still reads.
    assert_eq!(
        password_at(&store, &victim, "registry.example.com"),
        "victim-pw"
    );
}

#[test]
fn r14_resolve_reads_and_decrypts_the_winning_row_alone() {
    let (store, path) = fresh_store("winner-only");
    for c in winner_and_outranked() {
        store.create(c).unwrap();
    }
    // Corrupt the outranked row's sealed password behind the store's back.
    let raw = rusqlite::Connection::open(&path).unwrap();
    let changed = raw
        .execute(
            "UPDATE registry_credentials SET secret = zeroblob(length(secret)) \
             WHERE scope_id = '' AND location = ?1",
            [OUTRANKED],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let app = App::new("org-1", "space-1", "app-1").unwrap();
    let image = IMAGE.parse().unwrap();
    // `resolve` asks `first_match`, one statement that returns the winning
    // row alone: the corrupt row is never read, so it cannot fail.
    assert_the_winner(resolve(&store, &app, &image).unwrap());
    // `resolve_all` reads every match, so it meets the corrupt row and says
    // so, rather than skipping it or returning a garbled password.
    let e = resolve_all(&store, &app, &image).unwrap_err();
    assert!(undecryptable(&e), "{e:?}");
}

#[test]
fn schema_is_versioned_and_newer_files_are_refused() {
    let path = temp_dir("schema").join("c.db");
    drop(SqliteStore::open(&path, keyring()).unwrap());
    let raw = rusqlite::Connection::open(&path).unwrap();
    let v: u32 = raw
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 6);
    let mode: String = raw
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    raw.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(raw);
    let e = SqliteStore::open(&path, keyring()).unwrap_err();
    assert!(
        matches!(
            e,
            OpenError::Schema(SchemaError::TooNew {
                found: 99,
                supported: 6
            })
        ),
        "{e:?}"
    );
    // Nothing was written.
    let raw = rusqlite::Connection::open(&path).unwrap();
    let v: u32 = raw
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 99);
}

/// R24, R25: a row whose kind or expiry is changed in the file does not
/// decrypt: a token is never served as a password, nor a credential past
/// the expiry it was stored with.
#[test]
fn r24_r25_a_row_whose_kind_or_expiry_was_changed_does_not_decrypt() {
    let (store, path) = fresh_store("changed-kind");
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(4_000_000_000);
    store
        .create(
            RegistryCredential::new(
                org("o"),
                "registry.example.com".parse().unwrap(),
                Credential::registry_token("robot", "bearer").unwrap(),
            )
            .with_expires_at(Some(at)),
        )
        .unwrap();
    assert_eq!(
        get(&store, &org("o"), "registry.example.com")
            .unwrap()
            .unwrap()
            .password()
            .expose(),
        "bearer"
    );
    let raw = rusqlite::Connection::open(&path).unwrap();
    for (change, undo) in [
        (
            "UPDATE registry_credentials SET kind = 0",
            "UPDATE registry_credentials SET kind = 2",
        ),
        (
            "UPDATE registry_credentials SET expires_at = NULL",
            "UPDATE registry_credentials SET expires_at = 4000000000",
        ),
        (
            "UPDATE registry_credentials SET expires_at = 4100000000",
            "UPDATE registry_credentials SET expires_at = 4000000000",
        ),
    ] {
        raw.execute(change, []).unwrap();
        let e = get(&store, &org("o"), "registry.example.com").unwrap_err();
        assert!(undecryptable(&e), "{change}: {e:?}");
        raw.execute(undo, []).unwrap();
        assert!(
            get(&store, &org("o"), "registry.example.com").is_ok(),
            "{undo}"
        );
    }
}

// ---- child processes ---------------------------------------------------
//
// A killed writer is tested in `sqlite_chaos.rs`.

const CHILD_ENV: &str = "REGISTRY_CREDENTIALS_TEST_CHILD";
const PATH_ENV: &str = "REGISTRY_CREDENTIALS_TEST_DB";

fn child(test: &str, role: &str, path: &Path, extra: &[(&str, String)]) -> std::process::Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, role)
        .env(PATH_ENV, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

// ---- concurrency: threads and two processes -----------------------------

const SHARED: usize = 12;

#[derive(Default)]
struct Outcome {
    /// Contested creates this worker won.
    won: Vec<String>,
    /// Contested deletes it made.
    deleted: Vec<String>,
    /// Contested updates it made, with the username written.
    updated: Vec<(String, String)>,
}

fn retry<T>(mut f: impl FnMut() -> Result<T, StoreError>) -> Result<T, StoreError> {
    for _ in 0..50 {
        match f() {
            Err(e) if e.is_retryable() => continue,
            other => return other,
        }
    }
    f()
}

fn own_location(worker: usize, i: usize) -> String {
    format!("w{worker}-{i}.example.com")
}

/// The worker's own keys: create all, rename each, delete every third.
fn own_expected(worker: usize) -> BTreeMap<(String, String), String> {
    (0..30)
        .filter(|i| i % 3 != 0)
        .map(|i| {
            (
                (format!("w{worker}"), own_location(worker, i)),
                format!("w{worker}-{i}-v2"),
            )
        })
        .collect()
}

fn worker(store: &SqliteStore, w: usize) -> Outcome {
    let mut out = Outcome::default();
    let own = org(&format!("w{w}"));
    let app = App::new(format!("w{w}"), "s", "a").unwrap();
    for i in 0..30 {
        let l = own_location(w, i);
        retry(|| store.create(cred(own.clone(), &l, "first", &format!("pw-{w}-{i}")))).unwrap();
        let shared = format!("shared{}.example.com", i % SHARED);
        match retry(|| store.create(cred(Scope::Foundation, &shared, &format!("w{w}"), "p"))) {
            Ok(_) => out.won.push(shared.clone()),
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => panic!("{e:?}"),
        }
        retry(|| {
            store.update(
                own.as_scope_ref(),
                &loc(&l),
                CredentialUpdate::Username(Username::new(format!("w{w}-{i}-v2")).unwrap()),
            )
        })
        .unwrap();
        if i % 3 == 0 {
            retry(|| store.delete(own.as_scope_ref(), &loc(&l))).unwrap();
        }
        // An update racing a delete on the contested rows.
        let ud = format!("ud{}.example.com", i % SHARED);
        let ud_at = loc(&ud);
        let foundation = Scope::Foundation.as_scope_ref();
        if w % 2 == 0 {
            match retry(|| store.delete(foundation, &ud_at)) {
                Ok(_) => out.deleted.push(ud.clone()),
                Err(StoreError::NotFound { .. }) => {}
                Err(e) => panic!("{e:?}"),
            }
        } else {
            let user = format!("w{w}-{i}");
            match retry(|| {
                store.update(
                    foundation,
                    &ud_at,
                    CredentialUpdate::Username(Username::new(&user).unwrap()),
                )
            }) {
                Ok(_) => out.updated.push((ud.clone(), user)),
                Err(StoreError::NotFound { .. }) => {}
                Err(e) => panic!("{e:?}"),
            }
        }
        // Resolution runs meanwhile and only ever sees whole credentials.
        let image = format!("shared{}.example.com/x/y", i % SHARED)
            .parse()
            .unwrap();
        if let Some(r) = retry(|| resolve(store, &app, &image)).unwrap() {
            assert!(r.credential().username().as_str().starts_with('w'));
            assert_eq!(r.credential().password().expose(), "p");
        }
    }
    out
}

#[test]
fn concurrency_threads_and_processes_on_one_file() {
    if std::env::var(CHILD_ENV).as_deref() == Ok("concurrency") {
        let store = SqliteStore::open(std::env::var(PATH_ENV).unwrap(), keyring()).unwrap();
        let out = worker(&store, 1);
        let mut so = std::io::stdout().lock();
        writeln!(so).unwrap();
        for l in out.won {
            writeln!(so, "won {l}").unwrap();
        }
        for l in out.deleted {
            writeln!(so, "deleted {l}").unwrap();
        }
        for (l, u) in out.updated {
            writeln!(so, "updated {l} {u}").unwrap();
        }
        writeln!(so, "done").unwrap();
        return;
    }
    let (store, path) = fresh_store("concurrency");
    for j in 0..SHARED {
        store
            .create(cred(
                Scope::Foundation,
                &format!("ud{j}.example.com"),
                "initial",
                "p",
            ))
            .unwrap();
    }
    let proc = child(
        "concurrency_threads_and_processes_on_one_file",
        "concurrency",
        &path,
        &[],
    );
    let mut outcomes: Vec<Outcome> = std::thread::scope(|s| {
        let handles: Vec<_> = (2..5)
            .map(|w| {
                let store = store.clone();
                s.spawn(move || worker(&store, w))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let output = proc.wait_with_output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.lines().any(|l| l == "done"), "{text}");
    let mut child_outcome = Outcome::default();
    for line in text.lines() {
        let parts: Vec<&str> = line.split(' ').collect();
        match parts.as_slice() {
            ["won", l] => child_outcome.won.push(l.to_string()),
            ["deleted", l] => child_outcome.deleted.push(l.to_string()),
            ["updated", l, u] => child_outcome.updated.push((l.to_string(), u.to_string())),
            _ => {}
        }
    }
    outcomes.push(child_outcome);

    let all = store.list_all().unwrap();
    let keys: BTreeSet<(Scope, String)> = all
        .iter()
        .map(|c| (c.scope().clone(), c.location().as_str().to_owned()))
        .collect();
    assert_eq!(keys.len(), all.len(), "no location twice at one scope");

    // Own keys: exactly what each worker's acknowledged writes imply.
    let mut expected_own = BTreeMap::new();
    for w in 1..5 {
        expected_own.extend(own_expected(w));
    }
    let own: BTreeMap<(String, String), String> = all
        .iter()
        .filter(|c| matches!(c.scope(), Scope::Org(_)))
        .map(|c| {
            (
                (
                    c.scope().id().unwrap().to_owned(),
                    c.location().as_str().to_owned(),
                ),
                c.username().as_str().to_owned(),
            )
        })
        .collect();
    assert_eq!(own, expected_own);

    // Contested creates: exactly one winner each, and it is stored.
    let mut winners: BTreeMap<String, usize> = BTreeMap::new();
    for (w, o) in outcomes.iter().enumerate() {
        for l in &o.won {
            assert!(winners.insert(l.clone(), w).is_none(), "{l} won twice");
        }
    }
    assert_eq!(winners.len(), SHARED);
    for l in winners.keys() {
        assert!(get(&store, &Scope::Foundation, l).unwrap().is_some());
    }

    // Update racing delete: one delete at most; a survivor carries an
    // acknowledged update (or the initial username if none came).
    for j in 0..SHARED {
        let l = format!("ud{j}.example.com");
        let deletes = outcomes
            .iter()
            .flat_map(|o| &o.deleted)
            .filter(|d| **d == l)
            .count();
        assert!(deletes <= 1, "{l} deleted {deletes} times");
        let now = get(&store, &Scope::Foundation, &l).unwrap();
        match now {
            None => assert_eq!(deletes, 1, "{l} vanished without an acknowledged delete"),
            Some(c) => {
                assert_eq!(deletes, 0);
                let user = c.username().as_str();
                let updates: Vec<&String> = outcomes
                    .iter()
                    .flat_map(|o| &o.updated)
                    .filter(|(ul, _)| *ul == l)
                    .map(|(_, u)| u)
                    .collect();
                assert!(
                    updates.iter().any(|u| *u == user) || (updates.is_empty() && user == "initial"),
                    "{l}: {user} not among {updates:?}"
                );
            }
        }
    }
    assert_eq!(
        all.len(),
        expected_own.len()
            + SHARED
            + (0..SHARED)
                .filter(
                    |j| get(&store, &Scope::Foundation, format!("ud{j}.example.com"))
                        .unwrap()
                        .is_some()
                )
                .count(),
        "nothing else is stored"
    );
}

// ---- transactions, opening, files ---------------------------------------

#[test]
fn transactions_take_effect_whole_or_not_at_all() {
    let (store, path) = fresh_store("transaction");
    // Committed: the credential and a table of the caller's own, together.
    store
        .transaction(|tx| -> Result<(), StoreError> {
            tx.create(cred(Scope::Foundation, "docker.io", "u", "p"))?;
            tx.with_connection(|c| {
                c.execute_batch("CREATE TABLE mine (x TEXT); INSERT INTO mine VALUES ('a');")
            })
            .map_err(|e| StoreError::Backend {
                retryable: false,
                source: Box::new(e),
            })?;
            // The transaction sees its own writes.
            assert_eq!(tx.list_all()?.len(), 1);
            Ok(())
        })
        .unwrap();
    assert_eq!(store.len().unwrap(), 1);
    // Rolled back: an error after a create and a row of the caller's.
    let e = store
        .transaction(|tx| -> Result<(), StoreError> {
            tx.create(cred(org("o"), "example.com", "u", "p"))?;
            tx.with_connection(|c| c.execute("INSERT INTO mine VALUES ('b')", []))
                .unwrap();
            tx.create(cred(Scope::Foundation, "docker.io", "v", "q"))?;
            Ok(())
        })
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict { .. }), "{e:?}");
    assert_eq!(store.len().unwrap(), 1);
    let mine: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT count(*) FROM mine", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mine, 1);
    // A closure that ends the transaction itself gets an error.
    let e = store
        .transaction(|tx| -> Result<(), StoreError> {
            tx.with_connection(|c| c.execute_batch("COMMIT")).unwrap();
            Ok(())
        })
        .unwrap_err();
    assert!(e.to_string().contains("failed"), "{e}");
    // The store still works afterwards.
    assert_eq!(store.list_all().unwrap().len(), 1);
}

#[test]
fn read_transactions_refuse_writes_and_never_wait_for_a_writer() {
    let (store, path) = fresh_store_holding_one("read-transaction");
    let e = store
        .read_transaction(|tx| tx.create(cred(org("o"), "example.com", "u", "p")))
        .unwrap_err();
    assert!(matches!(e, StoreError::Backend { .. }), "{e:?}");
    assert_eq!(store.len().unwrap(), 1);
    // Another connection holds the write lock; a read transaction, and
    // opening the store, go on at once.
    let writer = rusqlite::Connection::open(&path).unwrap();
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = std::time::Instant::now();
    let other = SqliteStore::open(&path, keyring()).unwrap();
    let n = other
        .read_transaction(|tx| tx.list_all().map(|v| v.len()))
        .unwrap();
    assert_eq!(n, 1);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    // A write waits for the busy timeout and fails, retryably.
    let short = SqliteStore::open_with(
        &path,
        keyring(),
        registry_credentials_sql::SqliteOptions::default()
            .busy_timeout(std::time::Duration::from_millis(100)),
    )
    .unwrap();
    let e = short
        .transaction(|tx| tx.create(cred(org("o"), "example.com", "u", "p")))
        .unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    writer.execute_batch("ROLLBACK").unwrap();
    // After a read transaction the pooled connection writes again.
    other
        .create(cred(org("o"), "example.com", "u", "p"))
        .unwrap();
}

#[test]
fn opening_without_create_never_makes_a_store() {
    use registry_credentials_sql::SqliteOptions;
    let dir = temp_dir("no-create");
    let missing = dir.join("missing.db");
    let existing = || SqliteOptions::default().create(false);
    assert!(SqliteStore::open_with(&missing, keyring(), existing()).is_err());
    assert!(!missing.exists());
    // An empty file, and another program's database, are not stores.
    let empty = dir.join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let e = SqliteStore::open_with(&empty, keyring(), existing()).unwrap_err();
    assert!(
        matches!(e, OpenError::Schema(SchemaError::NotAStore)),
        "{e:?}"
    );
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);
    let foreign = dir.join("foreign.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    let e = SqliteStore::open_with(&foreign, keyring(), existing()).unwrap_err();
    assert!(
        matches!(e, OpenError::Schema(SchemaError::NotAStore)),
        "{e:?}"
    );
    // A store opens.
    let path = dir.join("store.db");
    drop(SqliteStore::open(&path, keyring()).unwrap());
    SqliteStore::open_with(&path, keyring(), existing()).unwrap();
}

#[cfg(unix)]
#[test]
fn r21_files_are_created_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let (_open, path) = fresh_store_holding_one("private");
    let mut wal = path.clone().into_os_string();
    wal.push("-wal");
    let mut shm = path.clone().into_os_string();
    shm.push("-shm");
    for file in [path.clone(), wal.into(), shm.into()] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", file.display());
    }
}

/// Several processes opening one new file at once all succeed: the switch
/// to WAL mode is retried under the busy timeout.
#[test]
fn opening_a_new_file_from_several_processes_at_once() {
    if std::env::var(CHILD_ENV).as_deref() == Ok("open-race") {
        let store = SqliteStore::open(std::env::var(PATH_ENV).unwrap(), keyring()).unwrap();
        let w: usize = std::env::var("RC_WORKER").unwrap().parse().unwrap();
        store
            .create(cred(
                Scope::Foundation,
                &format!("w{w}.example.com"),
                "u",
                "p",
            ))
            .unwrap();
        return;
    }
    for round in 0..3 {
        let path = temp_dir(&format!("open-race-{round}")).join("c.db");
        let procs: Vec<_> = (0..4)
            .map(|w| {
                child(
                    "opening_a_new_file_from_several_processes_at_once",
                    "open-race",
                    &path,
                    &[("RC_WORKER", w.to_string())],
                )
            })
            .collect();
        for p in procs {
            let out = p.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "a process failed to open the new file"
            );
        }
        let store = SqliteStore::open(&path, keyring()).unwrap();
        assert_eq!(store.len().unwrap(), 4);
    }
}

/// R13: a row copied to another scope's id (an id that was deleted and
/// came back, or a forged row) does not decrypt there: the sealed password
/// binds the scope's kind and id.
#[test]
fn r13_a_row_copied_to_another_scope_id_does_not_decrypt() {
    let (store, path) = fresh_store("copied-row");
    store
        .create(cred(org("old-org"), "registry.example.com", "u", "secret"))
        .unwrap();
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute(
        "INSERT INTO registry_credentials \
         SELECT scope_kind, 'new-org', location, username, key_id, secret, kind, expires_at, \
         randomblob(16), created_at, updated_at, metadata \
         FROM registry_credentials WHERE scope_id = 'old-org'",
        [],
    )
    .unwrap();
    let new_org = org("new-org");
    let e = get(&store, &new_org, "registry.example.com").unwrap_err();
    assert!(undecryptable(&e), "{e:?}");
    let app = App::new("new-org", "s", "a").unwrap();
    let e = resolve(&store, &app, &"registry.example.com/x/y".parse().unwrap()).unwrap_err();
    assert!(undecryptable(&e), "{e:?}");
    // The original still reads.
    assert_eq!(
        password_at(&store, &org("old-org"), "registry.example.com"),
        "secret"
    );
}

/// `create_all` inside a transaction the caller goes on with: a refused
/// batch takes back its own rows (a savepoint) and leaves the
/// transaction's other writes, which commit.
#[test]
fn a_refused_batch_inside_a_transaction_takes_back_its_rows_alone() {
    let store = SqliteStore::open(temp_dir("batch-in-tx").join("c.db"), keyring()).unwrap();
    store
        .transaction(|tx| -> Result<(), StoreError> {
            tx.create(cred(org("o"), "kept.example.com", "kept", "p"))?;
            let refused = tx.create_all(vec![
                cred(org("o"), "batch.example.com", "b", "p"),
                cred(org("o"), "kept.example.com", "clash", "p"),
            ]);
            match refused {
                Err(StoreError::Conflict { location, .. }) => {
                    assert_eq!(location, loc("kept.example.com"));
                }
                other => panic!("{other:?}"),
            }
            assert_eq!(tx.list(org("o").as_scope_ref())?.len(), 1);
            Ok(())
        })
        .unwrap();
    let all = store.list_all().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].username().as_str(), "kept");
}
