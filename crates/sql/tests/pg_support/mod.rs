//! The throwaway PostgreSQL server the `postgres` tests use: its address
//! comes from `REGISTRY_CREDENTIALS_PG_URL` (`.ci/postgres.sh setup` starts
//! one and prints it).
//!
//! Every test that needs the server is `#[ignore]`d with the reason
//! "needs PostgreSQL: …", so a plain `cargo test` reports it as ignored,
//! never as passed. `cargo test -- --include-ignored` runs them; then a
//! missing address is a panic that says what to set, never a silent pass.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use registry_credentials::credential::{Credential, CredentialUpdate};
use registry_credentials::scope::{AppId, ScopeRef};
use registry_credentials::store::{
    AppCredentialReplaced, AsyncCredentialSource, AsyncCredentialStore, CredentialSource,
    CredentialStore, Found, Key, StoreError,
};
use registry_credentials::{Location, RegistryCredential};
use registry_credentials_sql::{EncryptionKey, Keyring, PostgresStore};

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
/// needs the server runs only when asked for (`--include-ignored`), and
/// then it must not pass without one.
pub fn url() -> String {
    match std::env::var(URL_ENV) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!("{NEEDS_POSTGRES}"),
    }
}

/// A schema of its own for one test, so tests run side by side on one
/// database.
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

/// `url` with `search_path` set to `schema`.
pub fn url_in(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

pub fn keyring() -> Keyring {
    Keyring::new(EncryptionKey::new("pg-test", [0x24; 32]).unwrap())
}

/// A runtime for one test: two worker threads, I/O and timers.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A `PostgresStore` behind the sync traits, so the one conformance suite
/// runs on it: every call is `block_on` on a runtime the instances share
/// (`block_on` may be called from many threads at once).
pub struct Blocking {
    pub rt: Arc<tokio::runtime::Runtime>,
    pub store: PostgresStore,
    /// The address of its schema, for [`reopen`](Self::reopen).
    pub url: String,
}

impl Blocking {
    /// A store on a fresh schema of its own.
    ///
    /// # Panics
    ///
    /// Without `REGISTRY_CREDENTIALS_PG_URL`, or when the server fails.
    pub fn new(test: &str) -> Self {
        let url = url();
        let rt = runtime();
        let url = rt.block_on(async {
            let schema = fresh_schema(&url, test).await;
            url_in(&url, &schema)
        });
        let store = rt
            .block_on(PostgresStore::connect(&url, keyring()))
            .unwrap();
        Blocking {
            rt: Arc::new(rt),
            store,
            url,
        }
    }

    /// A second instance over the same schema: another `PostgresStore`,
    /// with a pool of its own, as a second service instance has.
    pub fn reopen(&self) -> Self {
        let store = self
            .rt
            .block_on(PostgresStore::connect(&self.url, keyring()))
            .unwrap();
        Blocking {
            rt: Arc::clone(&self.rt),
            store,
            url: self.url.clone(),
        }
    }
}

impl CredentialSource for Blocking {
    fn get_many(&self, keys: &[Key<'_>]) -> Result<Found, StoreError> {
        self.rt
            .block_on(AsyncCredentialSource::get_many(&self.store, keys))
    }
    fn get(&self, key: Key<'_>) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
        self.rt
            .block_on(AsyncCredentialSource::get(&self.store, key))
    }
    fn first_match(
        &self,
        keys: &[Key<'_>],
    ) -> Result<Option<(usize, Arc<RegistryCredential>)>, StoreError> {
        self.rt
            .block_on(AsyncCredentialSource::first_match(&self.store, keys))
    }
}

impl CredentialStore for Blocking {
    fn create(&self, c: RegistryCredential) -> Result<Arc<RegistryCredential>, StoreError> {
        self.rt
            .block_on(AsyncCredentialStore::create(&self.store, c))
    }
    fn create_all(
        &self,
        c: Vec<RegistryCredential>,
    ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        self.rt
            .block_on(AsyncCredentialStore::create_all(&self.store, c))
    }
    fn update(
        &self,
        scope: ScopeRef<'_>,
        location: &Location,
        u: CredentialUpdate,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        self.rt.block_on(AsyncCredentialStore::update(
            &self.store,
            scope,
            location,
            u,
        ))
    }
    fn delete(
        &self,
        scope: ScopeRef<'_>,
        location: &Location,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        self.rt
            .block_on(AsyncCredentialStore::delete(&self.store, scope, location))
    }
    fn replace_app_credential(
        &self,
        app: &AppId,
        location: Location,
        credential: Credential,
    ) -> Result<AppCredentialReplaced, StoreError> {
        self.rt
            .block_on(AsyncCredentialStore::replace_app_credential(
                &self.store,
                app,
                location,
                credential,
            ))
    }
    fn delete_scope(
        &self,
        scope: ScopeRef<'_>,
    ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        self.rt
            .block_on(AsyncCredentialStore::delete_scope(&self.store, scope))
    }
    fn list(&self, scope: ScopeRef<'_>) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        self.rt
            .block_on(AsyncCredentialStore::list(&self.store, scope))
    }
    fn list_all(&self) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        self.rt
            .block_on(AsyncCredentialStore::list_all(&self.store))
    }
}
