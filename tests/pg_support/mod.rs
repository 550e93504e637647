//! The throwaway PostgreSQL server the `postgres` tests use: its address
//! comes from `REGISTRY_CREDENTIALS_PG_URL` (`.ci/postgres.sh setup` starts
//! one and prints it). Without it the tests say they were skipped, except
//! under CI (`CI=true`), where they fail.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use registry_credentials::{
    AsyncCredentialStore, CredentialStore, CredentialUpdate, EncryptionKey, Key, Keyring,
    PostgresStore, RegistryCredential, ScopeRef, StoreError,
};

pub const URL_ENV: &str = "REGISTRY_CREDENTIALS_PG_URL";

/// The server's address, or `None` after saying the test is skipped.
///
/// # Panics
///
/// Under CI when the variable is missing: there the tests must run.
pub fn url(test: &str) -> Option<String> {
    match std::env::var(URL_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
            panic!("{URL_ENV} is not set under CI; .ci/run starts a server with .ci/postgres.sh and sets it")
        }
        _ => {
            let current = std::thread::current();
            let test = current.name().unwrap_or(test);
            eprintln!(
                "skipped {test}: set {URL_ENV} (for example with `.ci/postgres.sh setup`) to run the PostgreSQL tests"
            );
            None
        }
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

/// A `PostgresStore` behind the sync trait, so the one conformance suite
/// runs on it: every call is `block_on` on a runtime of its own.
pub struct Blocking {
    pub rt: Arc<tokio::runtime::Runtime>,
    pub store: PostgresStore,
}

impl Blocking {
    pub fn new(test: &str) -> Option<Self> {
        let url = url(test)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let store = rt.block_on(async {
            let schema = fresh_schema(&url, test).await;
            PostgresStore::connect(&url_in(&url, &schema), keyring())
                .await
                .unwrap()
        });
        Some(Blocking {
            rt: Arc::new(rt),
            store,
        })
    }
}

type Found = Option<Arc<RegistryCredential>>;

impl CredentialStore for Blocking {
    fn get(&self, key: Key<'_>) -> Result<Found, StoreError> {
        self.rt
            .block_on(AsyncCredentialStore::get(&self.store, key))
    }
    fn get_many(&self, keys: &[Key<'_>]) -> Result<Vec<Found>, StoreError> {
        self.rt
            .block_on(AsyncCredentialStore::get_many(&self.store, keys))
    }
    fn first_match(
        &self,
        keys: &[Key<'_>],
    ) -> Result<Option<(usize, Arc<RegistryCredential>)>, StoreError> {
        self.rt
            .block_on(AsyncCredentialStore::first_match(&self.store, keys))
    }
    fn create(&self, c: RegistryCredential) -> Result<Arc<RegistryCredential>, StoreError> {
        self.rt
            .block_on(AsyncCredentialStore::create(&self.store, c))
    }
    fn put(&self, c: RegistryCredential) -> Result<Found, StoreError> {
        self.rt.block_on(AsyncCredentialStore::put(&self.store, c))
    }
    fn update(
        &self,
        key: Key<'_>,
        u: CredentialUpdate,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        self.rt
            .block_on(AsyncCredentialStore::update(&self.store, key, u))
    }
    fn delete(&self, key: Key<'_>) -> Result<Arc<RegistryCredential>, StoreError> {
        self.rt
            .block_on(AsyncCredentialStore::delete(&self.store, key))
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
