//! `PostgresStore`'s failures say what happened and what to do
//! ([`DatabaseError`]): a pool with no connection free for its whole wait
//! names the wait and the connections in use, read from the pool itself;
//! a terminated connection says the server ended it. Each is retryable
//! and changed nothing (R28). Opening a store tells the same failures
//! apart from an address that is not valid.
//!
//! Every test but the two of opening needs a server and is `#[ignore]`d
//! (see `registry_credentials_test_support::postgres`).
#![cfg(feature = "postgres")]

mod support;

use std::str::FromStr;
use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use registry_credentials::Scope;
use registry_credentials::store::conformance::{cred, org};
use registry_credentials::store::{AsyncCredentialStore, StoreError};
use registry_credentials_sql::{DatabaseError, OpenError, PostgresStore};
use registry_credentials_test_support::postgres::{fresh_schema, runtime, session, url, url_in};
use support::keyring;
use tokio_postgres::{Client, NoTls, Transaction};

/// A store over a pool of at most `size` connections that waits `wait`
/// for one, on a fresh schema.
async fn store_with_pool(test: &str, size: usize, wait: Duration) -> (PostgresStore, String) {
    let url = url();
    let schema = fresh_schema(&url, test).await;
    let url = url_in(&url, &schema);
    let manager = Manager::from_config(
        tokio_postgres::Config::from_str(&url).unwrap(),
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(wait))
        .build()
        .unwrap();
    (
        PostgresStore::from_pool(pool, keyring()).await.unwrap(),
        url,
    )
}

/// A transaction of `client` that holds the credentials' table locked
/// against every other session until it ends.
async fn lock_the_table(client: &mut Client) -> Transaction<'_> {
    let lock = client.transaction().await.unwrap();
    lock.batch_execute("LOCK TABLE registry_credentials IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    lock
}

fn database_error(e: &StoreError) -> &DatabaseError {
    match e {
        StoreError::Backend { source, .. } => source
            .downcast_ref()
            .unwrap_or_else(|| panic!("not a DatabaseError: {e:?}")),
        other => panic!("{other:?}"),
    }
}

/// A server that refuses the connection, met while opening: the
/// database error that says so, retryable, under the open error's message.
#[test]
fn r28_opening_a_server_that_refuses_the_connection_names_it_and_is_retryable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("postgresql://nobody@127.0.0.1:{port}/none");
    let e = runtime()
        .block_on(PostgresStore::connect(&url, keyring()))
        .unwrap_err();
    assert!(
        matches!(
            e,
            OpenError::Database(DatabaseError::ServerUnavailable { .. })
        ),
        "{e:?}"
    );
    assert!(e.is_retryable());
    assert_eq!(e.to_string(), "could not open the credential database");
}

/// An address that is not a PostgreSQL address: no database error, and
/// the open error's message says where to look.
#[test]
fn opening_an_address_that_is_not_valid_says_how_to_write_one() {
    let e = runtime()
        .block_on(PostgresStore::connect("postgresql://[::1", keyring()))
        .unwrap_err();
    let OpenError::Backend { retryable, source } = &e else {
        panic!("{e:?}")
    };
    assert!(!retryable);
    assert_eq!(
        e.to_string(),
        "could not open the credential database; check its location and permissions"
    );
    assert!(
        source
            .to_string()
            .starts_with("the PostgreSQL address is not valid"),
        "{source}"
    );
}

#[test]
#[ignore = "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)"]
fn r28_a_pool_of_one_held_busy_names_its_wait_and_the_connection_in_use() {
    runtime().block_on(async {
        let (store, _) = store_with_pool("pool-one", 1, Duration::from_millis(300)).await;
        let held = store.pool().get().await.unwrap();
        let started = Instant::now();
        let e = store
            .create(cred(Scope::Foundation, "docker.io", "u", "pw"))
            .await
            .unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert!(e.is_retryable(), "{e:?}");
        let explained = database_error(&e);
        assert!(
            matches!(
                explained,
                DatabaseError::PoolExhausted {
                    in_use: 1,
                    max_size: 1,
                    ..
                }
            ),
            "{explained:?}"
        );
        assert_eq!(
            explained.to_string(),
            "no database connection became free within 300 ms (1 in use): retry later; if it keeps happening, raise the pool's size above 1 or find what holds its connections; nothing was changed"
        );
        // Nothing was changed, and once the connection is free the same
        // call goes through.
        drop(held);
        assert!(store.list_all().await.unwrap().is_empty());
        store
            .create(cred(Scope::Foundation, "docker.io", "u", "pw"))
            .await
            .unwrap();
    });
}

/// The table locked by another session: every connection of the pool
/// waits on the lock, and the calls beyond them wait for the pool, then
/// fail saying so, with its size and wait; once the lock goes, the
/// waiting calls complete.
#[test]
#[ignore = "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)"]
fn r28_a_locked_table_exhausts_the_pool_and_the_error_says_so() {
    const POOL: usize = 4;
    const CALLS: usize = 10;
    runtime().block_on(async {
        let (store, url) = store_with_pool("locked", POOL, Duration::from_millis(500)).await;
        let mut locker = session(&url).await;
        let lock = lock_the_table(&mut locker).await;
        let calls: Vec<_> = (0..CALLS)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .create(cred(org("o"), &format!("r{i}.example.com"), "u", "pw"))
                        .await
                })
            })
            .collect();
        // Long enough for every call beyond the pool to give up waiting.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        lock.rollback().await.unwrap();
        let mut exhausted = 0;
        let mut created = 0;
        for call in calls {
            match call.await.unwrap() {
                Ok(_) => created += 1,
                Err(e) => {
                    let explained = database_error(&e);
                    assert!(e.is_retryable(), "{e:?}");
                    assert!(
                        matches!(explained, DatabaseError::PoolExhausted { in_use: POOL, max_size: POOL, .. }),
                        "{explained:?}"
                    );
                    assert!(
                        explained.to_string().starts_with(&format!(
                            "no database connection became free within 500 ms ({POOL} in use): retry later"
                        )),
                        "{explained}"
                    );
                    exhausted += 1;
                }
            }
        }
        assert_eq!((created, exhausted), (POOL, CALLS - POOL));
        // What failed changed nothing: the table holds the calls that
        // got a connection.
        assert_eq!(store.list_all().await.unwrap().len(), POOL);
    });
}

/// A connection an administrator (or a restart) terminates while its call
/// runs: the call says the server ended the connection, and is retryable;
/// the pool replaces the connection, so the retry works.
#[test]
#[ignore = "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)"]
fn r28_a_terminated_connection_says_the_server_ended_it_and_a_retry_works() {
    runtime().block_on(async {
        let (store, url) = store_with_pool("terminated", 2, Duration::from_secs(5)).await;
        let mut admin = session(&url).await;
        // The call waits on a lock this session holds, so that it is
        // running when its backend (the one this session blocks) is
        // terminated.
        let lock = lock_the_table(&mut admin).await;
        let call = tokio::spawn({
            let store = store.clone();
            async move { store.list_all().await }
        });
        let waiting = loop {
            let row = lock
                .query_opt(
                    "SELECT pid FROM pg_stat_activity \
                     WHERE pg_backend_pid() = ANY (pg_blocking_pids(pid)) LIMIT 1",
                    &[],
                )
                .await
                .unwrap();
            if let Some(row) = row {
                break row.get::<_, i32>(0);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        lock.execute("SELECT pg_terminate_backend($1)", &[&waiting])
            .await
            .unwrap();
        lock.rollback().await.unwrap();
        let e = call.await.unwrap().unwrap_err();
        assert!(e.is_retryable(), "{e:?}");
        let explained = database_error(&e);
        assert!(
            matches!(
                explained,
                DatabaseError::ServerUnavailable { .. } | DatabaseError::ConnectionLost { .. }
            ),
            "{explained:?}"
        );
        assert!(
            explained.to_string().contains(": retry once"),
            "{explained}"
        );
        // The pool drops a closed connection when it sees it closed: a
        // retry or two later, the call goes through on a new one.
        let mut tries = 0;
        let listed = loop {
            tries += 1;
            match store.list_all().await {
                Ok(listed) => break listed,
                Err(e) if tries < 3 => assert!(e.is_retryable(), "{e:?}"),
                Err(e) => panic!("still failing after {tries} tries: {e:?}"),
            }
        };
        assert!(listed.is_empty());
    });
}
