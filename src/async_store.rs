//! The async storage trait, for stores that talk to a server, and
//! resolution over it.
//!
//! # Why native `async fn` in traits, not `async-trait`
//!
//! The methods return `impl Future<Output = …> + Send` (stable since Rust
//! 1.75), and implementations write plain `async fn`. No future is boxed, so
//! a resolution allocates no more than the store itself does, and no macro
//! crate is pulled in. The `+ Send` in the signatures lets callers spawn the
//! futures on a multi-threaded runtime. The price is that the trait is not
//! object safe: code that must hold "some store" chosen at run time uses a
//! generic parameter or an enum of stores instead of `dyn`.

use std::future::Future;
use std::sync::Arc;

use crate::resolve::{select_first, Plan, Resolution};
use crate::store::{CredentialStore, Key, StoreError};
#[cfg(doc)]
use crate::MemoryStore;
use crate::{App, CredentialUpdate, Reference, RegistryCredential, ScopeRef};

/// Where credentials are kept, for async callers: the same operations and
/// the same contract as [`CredentialStore`] (read its *Contract* section),
/// as futures that never block the runtime.
///
/// [`get_many`](Self::get_many) and [`first_match`](Self::first_match) have
/// defaults that loop over `get`; a database store overrides `get_many` so
/// that one resolution is one round trip. [`InlineStore`] makes a
/// [`MemoryStore`] one, for tests and single-instance services.
///
/// ```
/// use registry_credentials::*;
///
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     // A tiny executor for the example; services use tokio.
/// #     use std::task::{Context, Poll, Wake, Waker};
/// #     struct Noop;
/// #     impl Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
/// #     let waker = Waker::from(std::sync::Arc::new(Noop));
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = Context::from_waker(&waker);
/// #     loop { if let Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// async fn push(store: &impl AsyncCredentialStore) -> Result<(), Box<dyn std::error::Error>> {
///     let app = App::new("org", "space", "app")?;
///     let found = resolve_async(store, &app, &"nginx".parse()?).await?;
///     assert_eq!(found.unwrap().credential().username().as_str(), "hub-user");
///     Ok(())
/// }
///
/// let store = InlineStore(MemoryStore::new());
/// block_on(store.create(RegistryCredential::new(
///     Scope::Foundation,
///     "docker.io".parse()?,
///     Credential::new("hub-user", "hub-password")?,
/// )))?;
/// block_on(push(&store))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait AsyncCredentialStore: Send + Sync {
    /// The credential at `key`, if any.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn get(
        &self,
        key: Key<'_>,
    ) -> impl Future<Output = Result<Option<Arc<RegistryCredential>>, StoreError>> + Send;

    /// The credential at each of `keys`, in the same order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn get_many(
        &self,
        keys: &[Key<'_>],
    ) -> impl Future<Output = Result<Vec<Option<Arc<RegistryCredential>>>, StoreError>> + Send {
        async move {
            let mut found = Vec::with_capacity(keys.len());
            for key in keys {
                found.push(self.get(*key).await?);
            }
            Ok(found)
        }
    }

    /// The first of `keys`, in order, that holds a credential, with its
    /// index.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn first_match(
        &self,
        keys: &[Key<'_>],
    ) -> impl Future<Output = Result<Option<(usize, Arc<RegistryCredential>)>, StoreError>> + Send
    {
        async move { Ok(select_first(self.get_many(keys).await?)) }
    }

    /// Stores a new credential.
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] when its scope already holds its location.
    fn create(
        &self,
        credential: RegistryCredential,
    ) -> impl Future<Output = Result<Arc<RegistryCredential>, StoreError>> + Send;

    /// Stores a credential, replacing any at the same key; returns the one
    /// replaced (R19).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn put(
        &self,
        credential: RegistryCredential,
    ) -> impl Future<Output = Result<Option<Arc<RegistryCredential>>, StoreError>> + Send;

    /// Changes the username, password or both at `key` (R17).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] when `key` holds nothing.
    fn update(
        &self,
        key: Key<'_>,
        update: CredentialUpdate,
    ) -> impl Future<Output = Result<Arc<RegistryCredential>, StoreError>> + Send;

    /// Removes the credential at `key` and returns it (R18).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] when `key` holds nothing.
    fn delete(
        &self,
        key: Key<'_>,
    ) -> impl Future<Output = Result<Arc<RegistryCredential>, StoreError>> + Send;

    /// The credentials at `scope`, ordered by location.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn list(
        &self,
        scope: ScopeRef<'_>,
    ) -> impl Future<Output = Result<Vec<Arc<RegistryCredential>>, StoreError>> + Send;

    /// Every credential, ordered by scope, then location.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn list_all(
        &self,
    ) -> impl Future<Output = Result<Vec<Arc<RegistryCredential>>, StoreError>> + Send;
}

/// A sync store used as an async one, its calls run inline in the future:
/// for stores that never wait on I/O, such as [`MemoryStore`] (each call
/// takes a lock for one hash-table operation). Not for `SqliteStore`, whose
/// calls wait on the disk and would block the runtime.
///
/// Handy in tests of async services, and for a single-instance service
/// that keeps its credentials in memory.
///
/// ```
/// use registry_credentials::{AsyncCredentialStore, InlineStore, MemoryStore};
/// let store = InlineStore(MemoryStore::new());
/// fn takes_async_store(_: &impl AsyncCredentialStore) {}
/// takes_async_store(&store);
/// ```
#[derive(Debug, Clone, Default)]
pub struct InlineStore<S>(pub S);

impl<S: CredentialStore> AsyncCredentialStore for InlineStore<S> {
    async fn get(&self, key: Key<'_>) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
        self.0.get(key)
    }
    async fn get_many(
        &self,
        keys: &[Key<'_>],
    ) -> Result<Vec<Option<Arc<RegistryCredential>>>, StoreError> {
        self.0.get_many(keys)
    }
    async fn first_match(
        &self,
        keys: &[Key<'_>],
    ) -> Result<Option<(usize, Arc<RegistryCredential>)>, StoreError> {
        self.0.first_match(keys)
    }
    async fn create(
        &self,
        credential: RegistryCredential,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        self.0.create(credential)
    }
    async fn put(
        &self,
        credential: RegistryCredential,
    ) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
        self.0.put(credential)
    }
    async fn update(
        &self,
        key: Key<'_>,
        update: CredentialUpdate,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        self.0.update(key, update)
    }
    async fn delete(&self, key: Key<'_>) -> Result<Arc<RegistryCredential>, StoreError> {
        self.0.delete(key)
    }
    async fn list(&self, scope: ScopeRef<'_>) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        self.0.list(scope)
    }
    async fn list_all(&self) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        self.0.list_all()
    }
}

/// [`resolve`](crate::resolve) for async stores: the same [`Plan`] and
/// [`select_first`], so a store that answers `get_many` in one query
/// resolves in one round trip.
///
/// # Errors
///
/// [`StoreError::Backend`] when the store fails. Finding nothing is not an
/// error (R15).
pub async fn resolve_async<S: AsyncCredentialStore + ?Sized>(
    store: &S,
    app: &App,
    reference: &Reference,
) -> Result<Option<Resolution>, StoreError> {
    let plan = Plan::new(app, reference);
    Ok(store
        .first_match(plan.keys())
        .await?
        .map(|(i, c)| plan.resolution(i, c)))
}

/// [`resolve_all`](crate::resolve_all) for async stores: every stored
/// credential that serves `reference` for `app`, winner first.
///
/// # Errors
///
/// [`StoreError::Backend`] when the store fails.
pub async fn resolve_all_async<S: AsyncCredentialStore + ?Sized>(
    store: &S,
    app: &App,
    reference: &Reference,
) -> Result<Vec<Resolution>, StoreError> {
    let plan = Plan::new(app, reference);
    let found = store.get_many(plan.keys()).await?;
    Ok(plan.resolutions(found))
}
