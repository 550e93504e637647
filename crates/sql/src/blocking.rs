//! [`BlockingPoolStore`]: a sync store served to async callers from tokio's
//! blocking pool (feature `tokio`).

use std::sync::Arc;

use registry_credentials::credential::{Credential, CredentialUpdate, RegistryCredential};
use registry_credentials::identity::Guid;
use registry_credentials::location::Location;
use registry_credentials::scope::AppId;
use registry_credentials::store::audit::{AuditContext, AuditEvent, AuditQuery, Write, Written};
use registry_credentials::store::{
    AppCredentialReplaced, AsyncCredentialSource, AsyncCredentialStore, BoxFuture,
    CredentialSource, CredentialStore, Key, OwnedKey, Page, Query, StoreError,
};
use registry_credentials::{Scope, scope::ScopeRef};

/// A sync store used as an async one, each call run on tokio's blocking
/// pool ([`tokio::task::spawn_blocking`]), so that a store that waits on a
/// disk or a lock ([`SqliteStore`](crate::SqliteStore)) never holds up the
/// runtime's threads: other tasks go on while it waits.
///
/// Each call moves a clone of the store and owned copies of its arguments
/// into the blocking task, so `S` is `Clone` and its clones share one
/// store (as `SqliteStore`'s and `MemoryStore`'s do). The core's
/// `InlineStore` runs calls in the future itself instead: right for a
/// store that never waits.
///
/// The futures must be polled inside a tokio runtime (any flavour; the
/// `rt` feature is enough). A call that cannot run there fails with a
/// [`StoreError::Backend`] whose source is a [`BlockingError`], never a
/// panic in the caller: outside a runtime, when the store's call panics,
/// or when the runtime shuts down before the call ran.
///
/// ```
/// use std::sync::Arc;
/// use registry_credentials::resolve::resolve_async;
/// use registry_credentials::store::AsyncCredentialStore;
/// use registry_credentials::{App, Credential, MemoryStore, RegistryCredential, Scope};
/// use registry_credentials_sql::BlockingPoolStore;
///
/// let runtime = tokio::runtime::Builder::new_current_thread().build()?;
/// runtime.block_on(async {
///     let store: Arc<dyn AsyncCredentialStore> =
///         Arc::new(BlockingPoolStore::new(MemoryStore::new()));
///     store
///         .create(RegistryCredential::new(
///             Scope::Foundation,
///             "docker.io".parse()?,
///             Credential::new("hub-user", "hub-password")?,
///         ))
///         .await?;
///     let app = App::new("org", "space", "app")?;
///     let found = resolve_async(&*store, &app, &"nginx".parse()?).await?;
///     assert_eq!(found.unwrap().credential().username().as_str(), "hub-user");
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct BlockingPoolStore<S>(S);

impl<S> BlockingPoolStore<S> {
    /// `store`, its calls to be run on the blocking pool.
    pub fn new(store: S) -> Self {
        BlockingPoolStore(store)
    }

    /// The sync store, for calls made where blocking is fine.
    pub fn get_ref(&self) -> &S {
        &self.0
    }

    /// The sync store back.
    pub fn into_inner(self) -> S {
        self.0
    }
}

/// Why a [`BlockingPoolStore`] call did not return the store's answer: the
/// source of the [`StoreError::Backend`] it fails with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlockingError {
    /// The future was polled outside a tokio runtime; the store was not
    /// called.
    #[error(
        "the store call was made outside a tokio runtime, so it did not run; poll it inside one"
    )]
    NoRuntime,
    /// The store's call panicked on the blocking pool. What it changed is
    /// not known (a database store rolls back an unfinished transaction).
    #[error(
        "the store call panicked on tokio's blocking pool; its outcome is unknown, check the store's logs before retrying a write"
    )]
    Panicked,
    /// The runtime shut down before the call ran; the store was not
    /// called.
    #[error("the store call was cancelled before it ran: the tokio runtime is shutting down")]
    Cancelled,
}

impl BlockingError {
    fn into_store_error(self) -> StoreError {
        StoreError::Backend {
            // Only a cancelled call is known not to have run, and a runtime
            // that is going away answers nothing more.
            retryable: false,
            source: Box::new(self),
        }
    }
}

/// `call(store)` on the blocking pool, its failure to run as a
/// [`StoreError`].
async fn run<S, T>(
    store: &S,
    call: impl FnOnce(&S) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError>
where
    S: Clone + Send + 'static,
    T: Send + 'static,
{
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return Err(BlockingError::NoRuntime.into_store_error());
    };
    let store = store.clone();
    match runtime.spawn_blocking(move || call(&store)).await {
        Ok(answer) => answer,
        // The panic's payload is not repeated: a store's panic message may
        // hold what it was given (R21).
        Err(e) if e.is_panic() => Err(BlockingError::Panicked.into_store_error()),
        Err(_) => Err(BlockingError::Cancelled.into_store_error()),
    }
}

/// The keys of a batch, owned, to move into the blocking task.
fn owned(keys: &[Key<'_>]) -> Vec<OwnedKey> {
    keys.iter().map(Key::to_owned_key).collect()
}

/// The owned keys lent back as the batch the sync store takes.
fn borrowed(keys: &[OwnedKey]) -> Vec<Key<'_>> {
    keys.iter().map(OwnedKey::key).collect()
}

impl<S: Clone + Send + Sync + 'static> BlockingPoolStore<S> {
    /// `call(store, scope)` on the blocking pool, with `scope` owned to
    /// move into the task.
    fn at_scope<T: Send + 'static>(
        &self,
        scope: ScopeRef<'_>,
        call: fn(&S, ScopeRef<'_>) -> Result<T, StoreError>,
    ) -> BoxFuture<'_, Result<T, StoreError>> {
        let scope: Scope = scope.to_scope();
        Box::pin(run(&self.0, move |s| call(s, scope.as_scope_ref())))
    }
}

impl<S: CredentialSource + Clone + 'static> AsyncCredentialSource for BlockingPoolStore<S> {
    fn get_many<'a>(
        &'a self,
        keys: &'a [Key<'a>],
    ) -> BoxFuture<'a, Result<Vec<Option<Arc<RegistryCredential>>>, StoreError>> {
        let keys = owned(keys);
        Box::pin(run(&self.0, move |s| s.get_many(&borrowed(&keys))))
    }

    fn get<'a>(
        &'a self,
        key: Key<'a>,
    ) -> BoxFuture<'a, Result<Option<Arc<RegistryCredential>>, StoreError>> {
        let key = key.to_owned_key();
        Box::pin(run(&self.0, move |s| s.get(key.key())))
    }

    fn first_match<'a>(
        &'a self,
        keys: &'a [Key<'a>],
    ) -> BoxFuture<'a, Result<Option<(usize, Arc<RegistryCredential>)>, StoreError>> {
        let keys = owned(keys);
        Box::pin(run(&self.0, move |s| s.first_match(&borrowed(&keys))))
    }
}

impl<S: CredentialStore + Clone + 'static> AsyncCredentialStore for BlockingPoolStore<S> {
    fn create(
        &self,
        credential: RegistryCredential,
    ) -> BoxFuture<'_, Result<Arc<RegistryCredential>, StoreError>> {
        Box::pin(run(&self.0, move |s| s.create(credential)))
    }

    fn create_all(
        &self,
        credentials: Vec<RegistryCredential>,
    ) -> BoxFuture<'_, Result<Vec<Arc<RegistryCredential>>, StoreError>> {
        Box::pin(run(&self.0, move |s| s.create_all(credentials)))
    }

    fn update<'a>(
        &'a self,
        scope: ScopeRef<'a>,
        location: &'a Location,
        update: CredentialUpdate,
    ) -> BoxFuture<'a, Result<Arc<RegistryCredential>, StoreError>> {
        let (scope, location) = (scope.to_scope(), location.clone());
        Box::pin(run(&self.0, move |s| {
            s.update(scope.as_scope_ref(), &location, update)
        }))
    }

    fn delete<'a>(
        &'a self,
        scope: ScopeRef<'a>,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Arc<RegistryCredential>, StoreError>> {
        let (scope, location) = (scope.to_scope(), location.clone());
        Box::pin(run(&self.0, move |s| {
            s.delete(scope.as_scope_ref(), &location)
        }))
    }

    fn replace_app_credential<'a>(
        &'a self,
        app: &'a AppId,
        location: Location,
        credential: Credential,
    ) -> BoxFuture<'a, Result<AppCredentialReplaced, StoreError>> {
        let app = app.clone();
        Box::pin(run(&self.0, move |s| {
            s.replace_app_credential(&app, location, credential)
        }))
    }

    fn delete_scope<'a>(
        &'a self,
        scope: ScopeRef<'a>,
    ) -> BoxFuture<'a, Result<Vec<Arc<RegistryCredential>>, StoreError>> {
        self.at_scope(scope, S::delete_scope)
    }

    fn list<'a>(
        &'a self,
        scope: ScopeRef<'a>,
    ) -> BoxFuture<'a, Result<Vec<Arc<RegistryCredential>>, StoreError>> {
        self.at_scope(scope, S::list)
    }

    fn list_all(&self) -> BoxFuture<'_, Result<Vec<Arc<RegistryCredential>>, StoreError>> {
        Box::pin(run(&self.0, |s| s.list_all()))
    }

    fn get_by_guid(
        &self,
        guid: Guid,
    ) -> BoxFuture<'_, Result<Option<Arc<RegistryCredential>>, StoreError>> {
        Box::pin(run(&self.0, move |s| s.get_by_guid(guid)))
    }

    fn update_by_guid(
        &self,
        guid: Guid,
        update: CredentialUpdate,
    ) -> BoxFuture<'_, Result<Arc<RegistryCredential>, StoreError>> {
        Box::pin(run(&self.0, move |s| s.update_by_guid(guid, update)))
    }

    fn delete_by_guid(
        &self,
        guid: Guid,
    ) -> BoxFuture<'_, Result<Arc<RegistryCredential>, StoreError>> {
        Box::pin(run(&self.0, move |s| s.delete_by_guid(guid)))
    }

    fn query<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Page, StoreError>> {
        let query = query.clone();
        Box::pin(run(&self.0, move |s| s.query(&query)))
    }

    fn expiring_by(
        &self,
        by: std::time::SystemTime,
    ) -> BoxFuture<'_, Result<Vec<Arc<RegistryCredential>>, StoreError>> {
        Box::pin(run(&self.0, move |s| s.expiring_by(by)))
    }

    fn audited<'a>(
        &'a self,
        write: Write,
        context: &'a AuditContext,
    ) -> BoxFuture<'a, Result<Written, StoreError>> {
        let context = context.clone();
        Box::pin(run(&self.0, move |s| s.audited(write, &context)))
    }

    fn audit_events<'a>(
        &'a self,
        query: &'a AuditQuery,
    ) -> BoxFuture<'a, Result<Page<AuditEvent>, StoreError>> {
        let query = query.clone();
        Box::pin(run(&self.0, move |s| s.audit_events(&query)))
    }
}
