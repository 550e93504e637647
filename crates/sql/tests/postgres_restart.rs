//! `PostgresStore` through a database restart in the middle of a stream of
//! resolves: calls fail with a clear, retryable error while the server is
//! down and work again once it is back, with the same store (no restart of
//! the service).
//!
//! Needs `REGISTRY_CREDENTIALS_PG_URL` and `REGISTRY_CREDENTIALS_PG_CTL`, a
//! command taking `stop` or `start` (`.ci/postgres.sh`), so it is
//! `#[ignore]`d: run it with `-- --include-ignored`, where a missing
//! variable is a failure that names it. A test binary of its own, so
//! stopping the server disturbs no other test.
#![cfg(feature = "postgres")]

mod support;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use registry_credentials::resolve::{Resolution, resolve_async};
use registry_credentials::store::conformance::cred;
use registry_credentials::store::{AsyncCredentialStore, StoreError};
use registry_credentials::{App, Scope};
use registry_credentials_sql::PostgresStore;
use registry_credentials_test_support::postgres::{fresh_url, runtime, url};
use support::keyring;

const CTL_ENV: &str = "REGISTRY_CREDENTIALS_PG_CTL";

/// The command that stops and starts the server.
///
/// # Panics
///
/// When `REGISTRY_CREDENTIALS_PG_CTL` is missing: the test was asked for,
/// and must not pass without restarting anything.
fn ctl_command() -> String {
    match std::env::var(CTL_ENV) {
        Ok(ctl) if !ctl.is_empty() => ctl,
        _ => {
            panic!("needs {CTL_ENV}: a command taking `stop` and `start`, such as .ci/postgres.sh")
        }
    }
}

fn ctl(action: &str) {
    let ctl = ctl_command();
    let status = Command::new(&ctl).arg(action).status().unwrap();
    assert!(status.success(), "`{ctl} {action}` failed");
}

/// Starts the server again if the test fails while it is stopped.
struct Restart(bool);

impl Drop for Restart {
    fn drop(&mut self) {
        if self.0 {
            ctl("start");
        }
    }
}

#[derive(Default, Debug)]
struct Seen {
    ok: usize,
    retryable: usize,
    other: Vec<String>,
}

fn record(seen: &mut Seen, r: Result<Option<Resolution>, StoreError>) -> bool {
    match r {
        Ok(Some(found)) => {
            assert_eq!(found.credential().username().as_str(), "hub-user");
            seen.ok += 1;
            true
        }
        Ok(None) => {
            seen.other.push("the credential vanished".to_owned());
            false
        }
        Err(e) if e.is_retryable() => {
            // Clear: says the store failed and to retry, with the cause.
            assert_eq!(e.to_string(), "the credential store failed (retry later)");
            assert!(std::error::Error::source(&e).is_some());
            seen.retryable += 1;
            false
        }
        Err(e) => {
            seen.other.push(format!("{e:?}"));
            false
        }
    }
}

#[test]
#[ignore = "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)"]
fn a_resolve_during_a_database_restart_fails_retryably_then_recovers() {
    // Both variables are checked before anything starts.
    url();
    ctl_command();
    let rt = runtime();
    rt.block_on(async {
        let store = PostgresStore::connect(&fresh_url("restart").await, keyring())
            .await
            .unwrap();
        store
            .create(cred(Scope::Foundation, "docker.io", "hub-user", "hub-pw"))
            .await
            .unwrap();
        let app = App::new("o", "s", "a").unwrap();
        let image = "nginx".parse().unwrap();

        // A stream of resolves, running through the whole restart.
        let done = Arc::new(AtomicBool::new(false));
        let stream = {
            let (store, app, image, done) = (store.clone(), app.clone(), image, Arc::clone(&done));
            tokio::spawn(async move {
                let mut seen = Seen::default();
                for _ in 0..20_000 {
                    if done.load(Ordering::Relaxed) {
                        break;
                    }
                    record(&mut seen, resolve_async(&store, &app, &image).await);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                seen
            })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;

        tokio::task::spawn_blocking(|| ctl("stop")).await.unwrap();
        let mut guard = Restart(true);
        let image = "nginx".parse().unwrap();
        let mut down = Seen::default();
        for _ in 0..5 {
            record(&mut down, resolve_async(&store, &app, &image).await);
        }
        assert_eq!(down.retryable, 5, "while the server is down: {down:?}");

        tokio::task::spawn_blocking(|| ctl("start")).await.unwrap();
        guard.0 = false;
        // Back: the same store works again, within a bounded number of tries.
        let mut back = Seen::default();
        for _ in 0..300 {
            if record(&mut back, resolve_async(&store, &app, &image).await) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(back.ok, 1, "after the restart: {back:?}");
        assert!(back.other.is_empty(), "{back:?}");
        // Writes too.
        store
            .create(cred(Scope::Foundation, "example.org", "u", "p"))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;

        done.store(true, Ordering::Relaxed);
        let seen = stream.await.unwrap();
        assert!(seen.other.is_empty(), "only retryable errors: {seen:?}");
        assert!(seen.ok > 0, "{seen:?}");
        eprintln!("stream through the restart: {seen:?}; after: {back:?}");
        drop(guard);
    });
}
