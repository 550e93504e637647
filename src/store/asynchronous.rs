//! The async store traits, for stores that talk to a server.
//!
//! # Why boxed futures
//!
//! The methods return [`BoxFuture`], a pinned, boxed, `Send` future, as
//! `object_store` does, so that the traits are object safe: a service
//! keeps an `Arc<dyn AsyncCredentialSource>` (or `…Store`) in its shared
//! state and picks the backend at run time. One box per call costs nothing
//! measurable next to the database round trip it waits for. Implementations
//! write `Box::pin(async move { … })`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::SystemTime;

use super::audit::{AuditContext, AuditEvent, AuditQuery, Write, Written};
use super::{
    AppCredentialReplaced, CredentialSource, CredentialStore, Key, Page, Query, StoreError,
    first_found,
};
use crate::credential::{Credential, CredentialUpdate, RegistryCredential};
use crate::identity::Guid;
use crate::location::Location;
use crate::resolve::{Clock, LiveProbe, Plan, Resolution};
use crate::scope::{AppId, ScopeRef};

/// A pinned, boxed future that can move between threads: what the async
/// traits' methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`CredentialSource`] for async callers: the same contract (read its
/// *Contract* section), as futures that never block the runtime.
///
/// Object safe: a service keeps `Arc<dyn AsyncCredentialSource>` in its
/// state.
///
/// ```
/// use std::sync::Arc;
/// use registry_credentials::resolve::resolve_async;
/// use registry_credentials::store::{AsyncCredentialSource, CredentialStore, InlineStore};
/// use registry_credentials::{App, Credential, MemoryStore, RegistryCredential, Scope};
/// // The executor of `InlineStore`'s futures (feature `conformance`);
/// // services use their runtime's.
/// use registry_credentials::store::block_on_ready;
///
/// /// A service's shared state, cloned into every request handler.
/// #[derive(Clone)]
/// struct AppState {
///     credentials: Arc<dyn AsyncCredentialSource>,
/// }
///
/// async fn handle_push(state: AppState, image: &str) -> Result<Option<String>, Box<dyn std::error::Error>> {
///     let app = App::new("org", "space", "app")?;
///     let found = resolve_async(&*state.credentials, &app, &image.parse()?).await?;
///     Ok(found.map(|r| r.credential().username().to_string()))
/// }
///
/// let memory = MemoryStore::new();
/// memory.create(RegistryCredential::new(
///     Scope::Foundation,
///     "docker.io".parse()?,
///     Credential::new("hub-user", "hub-password")?,
/// ))?;
/// let state = AppState { credentials: Arc::new(InlineStore(memory)) };
/// let user = block_on_ready(handle_push(state.clone(), "nginx"))?;
/// assert_eq!(user.as_deref(), Some("hub-user"));
/// assert_eq!(block_on_ready(handle_push(state, "quay.io/x/y"))?, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait AsyncCredentialSource: Send + Sync {
    /// The credential at each of `keys`, in the same order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn get_many<'a>(
        &'a self,
        keys: &'a [Key<'a>],
    ) -> BoxFuture<'a, Result<Vec<Option<Arc<RegistryCredential>>>, StoreError>>;

    /// The credential at `key`, if any.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn get<'a>(
        &'a self,
        key: Key<'a>,
    ) -> BoxFuture<'a, Result<Option<Arc<RegistryCredential>>, StoreError>> {
        Box::pin(async move { Ok(self.get_many(&[key]).await?.pop().flatten()) })
    }

    /// The first of `keys`, in order, that holds a credential, with its
    /// index in `keys`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    #[expect(
        clippy::type_complexity,
        reason = "the signature spells out what the future yields, as the sync trait's does"
    )]
    fn first_match<'a>(
        &'a self,
        keys: &'a [Key<'a>],
    ) -> BoxFuture<'a, Result<Option<(usize, Arc<RegistryCredential>)>, StoreError>> {
        Box::pin(async move { Ok(first_found(self.get_many(keys).await?)) })
    }

    /// The winner of `plan` (R14), or `None` (R15): what
    /// [`resolve_async`](crate::resolve::resolve_async) asks, an expired
    /// credential passed over as if absent (R25, by `clock`); see
    /// [`CredentialSource::resolve_plan`]. The default asks
    /// [`first_match`](Self::first_match) of the plan's keys, again past
    /// each credential passed over ([`LiveProbe`]).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn resolve_plan<'a>(
        &'a self,
        plan: &'a Plan<'_>,
        clock: &'a mut Clock,
    ) -> BoxFuture<'a, Result<Option<Resolution>, StoreError>> {
        Box::pin(async move {
            let mut probe = LiveProbe::new(plan.keys(), clock, |_| true);
            loop {
                if let Some(done) = probe.answer(self.first_match(probe.keys()).await?) {
                    return Ok(done.and_then(|(i, c)| plan.resolution(i, c)));
                }
            }
        })
    }
}

/// [`CredentialStore`] for async callers: the same operations and contract.
///
/// Object safe: `Arc<dyn AsyncCredentialStore>` works, and can be used as
/// an `AsyncCredentialSource` too.
pub trait AsyncCredentialStore: AsyncCredentialSource {
    /// Stores a new credential.
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] when its scope already holds its location.
    fn create(
        &self,
        credential: RegistryCredential,
    ) -> BoxFuture<'_, Result<Arc<RegistryCredential>, StoreError>>;

    /// Stores every credential of `credentials` in one step, or none; see
    /// [`CredentialStore::create_all`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] naming the first entry refused,
    /// [`StoreError::Backend`]; either way nothing of the batch is stored.
    fn create_all(
        &self,
        credentials: Vec<RegistryCredential>,
    ) -> BoxFuture<'_, Result<Vec<Arc<RegistryCredential>>, StoreError>>;

    /// Changes the username, password or both of the credential for
    /// `location` at `scope` (R17).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] when it holds nothing.
    fn update<'a>(
        &'a self,
        scope: ScopeRef<'a>,
        location: &'a Location,
        update: CredentialUpdate,
    ) -> BoxFuture<'a, Result<Arc<RegistryCredential>, StoreError>>;

    /// Removes the credential for `location` at `scope` and returns it
    /// (R18).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] when it holds nothing.
    fn delete<'a>(
        &'a self,
        scope: ScopeRef<'a>,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Arc<RegistryCredential>, StoreError>>;

    /// Makes `credential` for `location` the app's one credential, in one
    /// step (R19); see [`CredentialStore::replace_app_credential`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails; then nothing
    /// changed.
    fn replace_app_credential<'a>(
        &'a self,
        app: &'a AppId,
        location: Location,
        credential: Credential,
    ) -> BoxFuture<'a, Result<AppCredentialReplaced, StoreError>>;

    /// Removes every credential at `scope` in one step (R13); see
    /// [`CredentialStore::delete_scope`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn delete_scope<'a>(
        &'a self,
        scope: ScopeRef<'a>,
    ) -> BoxFuture<'a, Result<Vec<Arc<RegistryCredential>>, StoreError>>;

    /// The credentials at `scope`, ordered by location.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn list<'a>(
        &'a self,
        scope: ScopeRef<'a>,
    ) -> BoxFuture<'a, Result<Vec<Arc<RegistryCredential>>, StoreError>>;

    /// Every credential, ordered by scope, then location.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn list_all(&self) -> BoxFuture<'_, Result<Vec<Arc<RegistryCredential>>, StoreError>>;

    /// The credential with `guid`, if any (R22); see
    /// [`CredentialStore::get_by_guid`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn get_by_guid(
        &self,
        guid: Guid,
    ) -> BoxFuture<'_, Result<Option<Arc<RegistryCredential>>, StoreError>> {
        Box::pin(async move { Ok(super::with_guid(self.list_all().await?, guid)) })
    }

    /// Changes the credential with `guid` in one step (R17, R22); see
    /// [`CredentialStore::update_by_guid`].
    ///
    /// # Errors
    ///
    /// [`StoreError::GuidNotFound`] when no credential has it.
    fn update_by_guid(
        &self,
        guid: Guid,
        update: CredentialUpdate,
    ) -> BoxFuture<'_, Result<Arc<RegistryCredential>, StoreError>>;

    /// Removes the credential with `guid` and returns it (R18, R22).
    ///
    /// # Errors
    ///
    /// [`StoreError::GuidNotFound`] when no credential has it.
    fn delete_by_guid(
        &self,
        guid: Guid,
    ) -> BoxFuture<'_, Result<Arc<RegistryCredential>, StoreError>>;

    /// One page of what `query` selects (R22, R23); see
    /// [`CredentialStore::query`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn query<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Page, StoreError>> {
        Box::pin(async move { Ok(query.page_of(self.list_all().await?)) })
    }

    /// Every credential that expires at or before `by`, soonest first; see
    /// [`CredentialStore::expiring_by`](super::CredentialStore::expiring_by).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn expiring_by(
        &self,
        by: SystemTime,
    ) -> BoxFuture<'_, Result<Vec<Arc<RegistryCredential>>, StoreError>> {
        Box::pin(async move { Ok(super::expiring_by(self.list_all().await?, by)) })
    }

    /// [`CredentialStore::audited`](super::CredentialStore::audited), async.
    fn audited<'a>(
        &'a self,
        write: Write,
        context: &'a AuditContext,
    ) -> BoxFuture<'a, Result<Written, StoreError>>;

    /// [`CredentialStore::audit_events`](super::CredentialStore::audit_events), async.
    fn audit_events<'a>(
        &'a self,
        query: &'a AuditQuery,
    ) -> BoxFuture<'a, Result<Page<AuditEvent>, StoreError>>;
}

/// The methods of the async store traits as one list each, every method
/// with its arguments and the `Ok` type of its future, so that the
/// forwarding impls (`&S`, `Box<S>`, `Arc<S>`) and [`InlineStore`] are
/// written once: `store_methods!(forward: …)` calls the same method of
/// `**self`, `store_methods!(inline: …)` the sync method of `self.0`, in a
/// future ready at once. `source_methods!` and `credential_store_methods!`
/// expand [`AsyncCredentialSource`]'s and [`AsyncCredentialStore`]'s list
/// the way named. The lists hold the methods with a default too, so that
/// a wrapper passes on the wrapped store's own answer.
macro_rules! store_methods {
    (forward: $($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {$(
        fn $name<'a>(&'a self, $($arg: $ty),*) -> BoxFuture<'a, Result<$out, StoreError>> {
            (**self).$name($($arg),*)
        }
    )*};
    (inline: $($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {$(
        fn $name<'a>(&'a self, $($arg: $ty),*) -> BoxFuture<'a, Result<$out, StoreError>> {
            Box::pin(async move { self.0.$name($($arg),*) })
        }
    )*};
}

/// [`AsyncCredentialSource`]'s methods, for `store_methods!`.
macro_rules! source_methods {
    ($how:ident) => {
        store_methods! { $how:
            get_many(keys: &'a [Key<'a>]) -> Vec<Option<Arc<RegistryCredential>>>;
            get(key: Key<'a>) -> Option<Arc<RegistryCredential>>;
            first_match(keys: &'a [Key<'a>]) -> Option<(usize, Arc<RegistryCredential>)>;
            resolve_plan(plan: &'a Plan<'_>, clock: &'a mut Clock) -> Option<Resolution>;
        }
    };
}

/// [`AsyncCredentialStore`]'s methods, for `store_methods!`.
macro_rules! credential_store_methods {
    ($how:ident) => {
        store_methods! { $how:
            create(credential: RegistryCredential) -> Arc<RegistryCredential>;
            create_all(credentials: Vec<RegistryCredential>) -> Vec<Arc<RegistryCredential>>;
            update(scope: ScopeRef<'a>, location: &'a Location, update: CredentialUpdate) -> Arc<RegistryCredential>;
            delete(scope: ScopeRef<'a>, location: &'a Location) -> Arc<RegistryCredential>;
            replace_app_credential(app: &'a AppId, location: Location, credential: Credential) -> AppCredentialReplaced;
            delete_scope(scope: ScopeRef<'a>) -> Vec<Arc<RegistryCredential>>;
            list(scope: ScopeRef<'a>) -> Vec<Arc<RegistryCredential>>;
            list_all() -> Vec<Arc<RegistryCredential>>;
            get_by_guid(guid: Guid) -> Option<Arc<RegistryCredential>>;
            update_by_guid(guid: Guid, update: CredentialUpdate) -> Arc<RegistryCredential>;
            delete_by_guid(guid: Guid) -> Arc<RegistryCredential>;
            query(query: &'a Query) -> Page;
            expiring_by(by: SystemTime) -> Vec<Arc<RegistryCredential>>;
            audited(write: Write, context: &'a AuditContext) -> Written;
            audit_events(query: &'a AuditQuery) -> Page<AuditEvent>;
        }
    };
}

macro_rules! forward_async {
    ($($ty:ty),*) => {$(
        impl<S: AsyncCredentialSource + ?Sized> AsyncCredentialSource for $ty {
            source_methods!(forward);
        }

        impl<S: AsyncCredentialStore + ?Sized> AsyncCredentialStore for $ty {
            credential_store_methods!(forward);
        }
    )*};
}

forward_async!(&S, Box<S>, Arc<S>);

/// The output of a future that is ready when first polled: how a sync
/// front drives code written once, async, over adapters whose futures
/// never pend ([`InlineStore`], and any adapter built the same way).
///
/// It polls `future` once, with a waker that does nothing, and returns
/// what it gives. No runtime, no thread, no allocation: a sync caller pays
/// for the async form only the state machine.
///
/// ```
/// use registry_credentials::store::{block_on_ready, AsyncCredentialStore, InlineStore};
/// use registry_credentials::{Credential, MemoryStore, RegistryCredential, Scope};
///
/// let store = InlineStore(MemoryStore::new());
/// let created = block_on_ready(store.create(RegistryCredential::new(
///     Scope::Foundation,
///     "docker.io".parse()?,
///     Credential::new("hub-user", "hub-password")?,
/// )))?;
/// assert_eq!(created.username().as_str(), "hub-user");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Panics
///
/// When `future` is not ready at its first poll: it waits on something
/// (I/O, a timer, a lock of an async runtime) that only an executor can
/// drive, so it was handed to this function by mistake. The message says
/// so; the future is dropped unfinished. Run such futures on a runtime
/// instead (`tokio::runtime::Runtime::block_on`).
#[track_caller]
pub fn block_on_ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!(
            "block_on_ready: the future is not ready at its first poll; it waits on I/O or a \
             runtime and must run on an executor, not through a sync front over a sync store"
        ),
    }
}

/// A sync store used as an async one, its calls run inline in the future:
/// the one adapter from the sync traits to the async ones. Right for stores
/// that never wait on I/O, such as [`MemoryStore`](super::MemoryStore)
/// (each call takes a lock for one hash-table operation). A store that
/// waits on a disk (`SqliteStore`) would block the runtime's thread for
/// that long; run it under the runtime's blocking pool instead, or accept
/// the wait where it is short.
///
/// ```
/// use registry_credentials::store::{AsyncCredentialStore, InlineStore};
/// use registry_credentials::MemoryStore;
/// let store = InlineStore(MemoryStore::new());
/// fn takes_async_store(_: &dyn AsyncCredentialStore) {}
/// takes_async_store(&store);
/// ```
#[derive(Debug, Clone, Default)]
pub struct InlineStore<S>(pub S);

impl<S: CredentialSource> AsyncCredentialSource for InlineStore<S> {
    source_methods!(inline);
}

impl<S: CredentialStore> AsyncCredentialStore for InlineStore<S> {
    credential_store_methods!(inline);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn block_on_ready_returns_what_a_ready_future_gives() {
        let store = InlineStore(MemoryStore::new());
        assert!(block_on_ready(store.list_all()).unwrap().is_empty());
    }

    #[test]
    #[should_panic(expected = "not ready at its first poll")]
    fn block_on_ready_refuses_a_future_that_pends() {
        block_on_ready(std::future::pending::<()>());
    }
}
