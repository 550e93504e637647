//! The throwaway PostgreSQL server the `postgres` tests use: its address
//! comes from `REGISTRY_CREDENTIALS_PG_URL` (`.ci/postgres.sh setup` starts
//! one and prints it).
//!
//! Every test that needs the server is `#[ignore]`d with the reason
//! [`NEEDS_POSTGRES`], so a plain `cargo test` reports it as ignored,
//! never as passed. `--run-ignored only` (nextest) or `-- --include-ignored`
//! runs them; then a missing address is a panic that says what to set,
//! never a silent pass.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The variable that holds the server's address.
pub const URL_ENV: &str = "REGISTRY_CREDENTIALS_PG_URL";

/// Why the PostgreSQL tests are ignored by default; the `#[ignore = …]`
/// attributes repeat it (an attribute takes a literal only).
pub const NEEDS_POSTGRES: &str =
    "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)";

/// The server's address.
///
/// # Panics
///
/// When `REGISTRY_CREDENTIALS_PG_URL` is missing or empty: a test that
/// needs the server runs only when asked for, and then it must not pass
/// without one.
pub fn url() -> String {
    match std::env::var(URL_ENV) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!("{NEEDS_POSTGRES}"),
    }
}

/// A new, empty schema for one test, named after `name` (its first 30
/// letters and digits), the process and a counter, so that tests run side
/// by side on one database and never share tables.
///
/// # Panics
///
/// When the server cannot be reached or refuses the statement.
pub async fn fresh_schema(url: &str, name: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let schema = format!(
        "t_{}_{}_{}",
        name.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .take(30)
            .collect::<String>(),
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let task = tokio::spawn(conn);
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .await
        .unwrap();
    drop(client);
    let _ = task.await;
    schema
}

/// `url` with `search_path` set to `schema`: every connection made with it
/// reads and writes that schema's tables.
pub fn url_in(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

/// [`url`] in a [`fresh_schema`] named after `name`.
///
/// # Panics
///
/// As [`url`] and [`fresh_schema`].
pub async fn fresh_url(name: &str) -> String {
    let url = url();
    let schema = fresh_schema(&url, name).await;
    url_in(&url, &schema)
}

/// A runtime for one test: two worker threads, I/O and timers.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}
