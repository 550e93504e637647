//! [`Hooked`]: the one test double, a store wrapped in hooks.

use std::ops::Deref;
use std::sync::Arc;

use crate::credential::{Credential, CredentialUpdate, RegistryCredential};
use crate::identity::Guid;
use crate::location::Location;
use crate::scope::{AppId, ScopeRef};
use crate::store::audit::{AuditContext, AuditEvent, AuditQuery, Write, Written};
use crate::store::{
    AppCredentialReplaced, CredentialSource, CredentialStore, Key, Page, Query, StoreError,
};

/// A call of the store traits as [`Hooks::before`] sees it, with its
/// arguments borrowed.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Call<'a> {
    /// [`CredentialSource::get_many`]; `get` and `first_match` of a
    /// [`Hooked`] store are the trait's defaults, so they arrive here too.
    GetMany(&'a [Key<'a>]),
    /// [`CredentialStore::create`].
    Create(&'a RegistryCredential),
    /// [`CredentialStore::create_all`].
    CreateAll(&'a [RegistryCredential]),
    /// [`CredentialStore::update`].
    Update {
        /// The scope.
        scope: ScopeRef<'a>,
        /// The location.
        location: &'a Location,
        /// The change.
        update: &'a CredentialUpdate,
    },
    /// [`CredentialStore::delete`].
    Delete {
        /// The scope.
        scope: ScopeRef<'a>,
        /// The location.
        location: &'a Location,
    },
    /// [`CredentialStore::replace_app_credential`].
    ReplaceAppCredential {
        /// The app.
        app: &'a AppId,
        /// The location of its new credential.
        location: &'a Location,
        /// The new credential.
        credential: &'a Credential,
    },
    /// [`CredentialStore::delete_scope`].
    DeleteScope(ScopeRef<'a>),
    /// [`CredentialStore::list`].
    List(ScopeRef<'a>),
    /// [`CredentialStore::list_all`].
    ListAll,
    /// [`CredentialStore::get_by_guid`].
    GetByGuid(Guid),
    /// [`CredentialStore::update_by_guid`].
    UpdateByGuid {
        /// The GUID.
        guid: Guid,
        /// The change.
        update: &'a CredentialUpdate,
    },
    /// [`CredentialStore::delete_by_guid`].
    DeleteByGuid(Guid),
    /// [`CredentialStore::query`].
    Query(&'a Query),
    /// [`CredentialStore::audited`]: a write, made by the inner store's
    /// own `audited`, so that its events are recorded in its step.
    Audited {
        /// The write.
        write: &'a Write,
        /// Who makes it, and where.
        context: &'a AuditContext,
    },
    /// [`CredentialStore::audit_events`].
    AuditEvents(&'a AuditQuery),
}

impl Call<'_> {
    /// True for the calls that change the store.
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Call::Create(_)
                | Call::CreateAll(_)
                | Call::Update { .. }
                | Call::Delete { .. }
                | Call::ReplaceAppCredential { .. }
                | Call::DeleteScope(_)
                | Call::UpdateByGuid { .. }
                | Call::DeleteByGuid(_)
                | Call::Audited { .. }
        )
    }
}

/// The store methods a [`Hooked`] store passes through its [`Hooks`], as
/// one list per store trait: each with its arguments, the `Ok` type of its
/// result and the [`Call`] that [`Hooks::before`] sees, so that the hooks'
/// defaults and `Hooked`'s impls are written from it once.
/// `forward_by_default` makes each a method of [`Hooks`] that calls the
/// inner store's; `through_hooks` makes each the store method of `Hooked`
/// that runs `before`, then the hook of the same name.
macro_rules! hook_methods {
    (forward_by_default $store:ident: $($name:ident($($arg:ident: $ty:ty),*) -> $out:ty => $call:expr;)*) => {$(
        #[doc = concat!("[`", stringify!($store), "::", stringify!($name), "`]; forwards by default.")]
        #[doc = ""]
        #[doc = "# Errors"]
        #[doc = ""]
        #[doc = "The inner store's."]
        fn $name(&self, inner: &dyn CredentialStore, $($arg: $ty),*) -> Result<$out, StoreError> {
            inner.$name($($arg),*)
        }
    )*};
    (through_hooks $store:ident: $($name:ident($($arg:ident: $ty:ty),*) -> $out:ty => $call:expr;)*) => {$(
        fn $name(&self, $($arg: $ty),*) -> Result<$out, StoreError> {
            self.hooks.before($call)?;
            self.hooks.$name(&self.inner, $($arg),*)
        }
    )*};
}

/// [`CredentialSource`]'s methods, for `hook_methods!`: `get_many` alone
/// (`get` and `first_match` stay the trait's defaults, so that every read
/// arrives as [`Call::GetMany`]).
macro_rules! source_hooks {
    ($how:ident) => {
        hook_methods! { $how CredentialSource:
            get_many(keys: &[Key<'_>]) -> Vec<Option<Arc<RegistryCredential>>> => Call::GetMany(keys);
        }
    };
}

/// [`CredentialStore`]'s methods that [`Call`] names, for `hook_methods!`.
macro_rules! store_hooks {
    ($how:ident) => {
        hook_methods! { $how CredentialStore:
            create(credential: RegistryCredential) -> Arc<RegistryCredential>
                => Call::Create(&credential);
            create_all(credentials: Vec<RegistryCredential>) -> Vec<Arc<RegistryCredential>>
                => Call::CreateAll(&credentials);
            update(scope: ScopeRef<'_>, location: &Location, update: CredentialUpdate) -> Arc<RegistryCredential>
                => Call::Update { scope, location, update: &update };
            delete(scope: ScopeRef<'_>, location: &Location) -> Arc<RegistryCredential>
                => Call::Delete { scope, location };
            replace_app_credential(app: &AppId, location: Location, credential: Credential) -> AppCredentialReplaced
                => Call::ReplaceAppCredential { app, location: &location, credential: &credential };
            delete_scope(scope: ScopeRef<'_>) -> Vec<Arc<RegistryCredential>>
                => Call::DeleteScope(scope);
            list(scope: ScopeRef<'_>) -> Vec<Arc<RegistryCredential>> => Call::List(scope);
            list_all() -> Vec<Arc<RegistryCredential>> => Call::ListAll;
            get_by_guid(guid: Guid) -> Option<Arc<RegistryCredential>> => Call::GetByGuid(guid);
            update_by_guid(guid: Guid, update: CredentialUpdate) -> Arc<RegistryCredential>
                => Call::UpdateByGuid { guid, update: &update };
            delete_by_guid(guid: Guid) -> Arc<RegistryCredential> => Call::DeleteByGuid(guid);
            query(query: &Query) -> Page => Call::Query(query);
            audited(write: Write, context: &AuditContext) -> Written
                => Call::Audited { write: &write, context };
            audit_events(query: &AuditQuery) -> Page<AuditEvent> => Call::AuditEvents(query);
        }
    };
}

/// What a [`Hooked`] store does around its inner store: every method has
/// a default, so a test double overrides only what it changes.
///
/// [`before`](Self::before) runs first on every call; an error it returns
/// is the call's answer, and the inner store is not asked (a failing
/// backend, a lost race). Then the method of the same name runs, given the
/// inner store; by default it forwards. Override it to do something else
/// in its place (a replacement in several steps, say).
pub trait Hooks: Send + Sync {
    /// Runs before every call.
    ///
    /// # Errors
    ///
    /// The error to answer the call with instead; by default none.
    fn before(&self, call: Call<'_>) -> Result<(), StoreError> {
        let _ = call;
        Ok(())
    }

    source_hooks!(forward_by_default);
    store_hooks!(forward_by_default);
}

/// No hooks: every call forwards.
impl Hooks for () {}

/// A store wrapped in [`Hooks`]: the test double for a store that fails,
/// waits, counts or races where a test wants it to, and otherwise is
/// `inner`.
///
/// Its [`CredentialSource`] implements `get_many` alone, so `get` and
/// `first_match` are the trait's defaults (one `get_many` each): every
/// read passes [`Call::GetMany`], and a test of the defaults sees them.
/// It dereferences to its hooks, so a test reads the double's state (a
/// counter, a switch) as the double's own.
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use registry_credentials::store::conformance::{Call, Hooked, Hooks, cred};
/// use registry_credentials::{CredentialStore, MemoryStore, Scope, StoreError};
///
/// /// Writes fail while `broken` is set.
/// #[derive(Default)]
/// struct Broken {
///     broken: AtomicBool,
/// }
///
/// impl Hooks for Broken {
///     fn before(&self, call: Call<'_>) -> Result<(), StoreError> {
///         if call.is_write() && self.broken.load(Ordering::SeqCst) {
///             return Err(StoreError::Backend { retryable: true, source: "down".into() });
///         }
///         Ok(())
///     }
/// }
///
/// let store = Hooked::new(MemoryStore::new(), Broken::default());
/// store.broken.store(true, Ordering::SeqCst);
/// assert!(store.create(cred(Scope::Foundation, "docker.io", "u", "p")).is_err());
/// store.broken.store(false, Ordering::SeqCst);
/// store.create(cred(Scope::Foundation, "docker.io", "u", "p"))?;
/// assert_eq!(store.inner.len(), 1);
/// # Ok::<(), StoreError>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct Hooked<S, H = ()> {
    /// The store every call reaches unless a hook answers it.
    pub inner: S,
    /// The hooks.
    pub hooks: H,
}

impl<S, H> Hooked<S, H> {
    /// `inner`, wrapped in `hooks`.
    pub fn new(inner: S, hooks: H) -> Self {
        Hooked { inner, hooks }
    }
}

impl<S, H> Deref for Hooked<S, H> {
    type Target = H;

    fn deref(&self) -> &H {
        &self.hooks
    }
}

impl<S: CredentialStore, H: Hooks> CredentialSource for Hooked<S, H> {
    source_hooks!(through_hooks);
}

impl<S: CredentialStore, H: Hooks> CredentialStore for Hooked<S, H> {
    store_hooks!(through_hooks);
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::scope::Scope;
    use crate::store::MemoryStore;
    use crate::store::conformance::{cred, loc};

    /// Records every call's name, and refuses creates of `refused.example.com`.
    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);

    impl Hooks for Log {
        fn before(&self, call: Call<'_>) -> Result<(), StoreError> {
            let name = format!("{call:?}");
            let name = name.split([' ', '(']).next().unwrap_or_default().to_owned();
            self.0.lock().unwrap().push(name);
            match call {
                Call::Create(c) if c.location().as_str() == "refused.example.com" => {
                    Err(StoreError::Conflict {
                        scope: c.scope().clone(),
                        location: c.location().clone(),
                    })
                }
                _ => Ok(()),
            }
        }
    }

    #[test]
    fn every_call_passes_before_and_reads_go_through_get_many() {
        let store = Hooked::new(MemoryStore::new(), Log::default());
        let l = loc("example.com");
        let app = AppId::new("a").unwrap();
        store
            .create(cred(Scope::Foundation, "example.com", "u", "p"))
            .unwrap();
        assert!(matches!(
            store.create(cred(Scope::Foundation, "refused.example.com", "u", "p")),
            Err(StoreError::Conflict { .. })
        ));
        let key = Key::new(ScopeRef::Foundation, &l);
        store.get(key).unwrap().unwrap();
        store.first_match(&[key]).unwrap().unwrap();
        store
            .update(
                ScopeRef::Foundation,
                &l,
                CredentialUpdate::Username(crate::credential::Username::new("v").unwrap()),
            )
            .unwrap();
        store
            .replace_app_credential(&app, l.clone(), Credential::new("w", "q").unwrap())
            .unwrap();
        store.list(ScopeRef::App(&app)).unwrap();
        store.delete(ScopeRef::App(&app), &l).unwrap();
        store.delete_scope(ScopeRef::Foundation).unwrap();
        assert!(store.list_all().unwrap().is_empty());
        assert_eq!(
            *store.0.lock().unwrap(),
            [
                "Create",
                "Create",
                "GetMany",
                "GetMany",
                "Update",
                "ReplaceAppCredential",
                "List",
                "Delete",
                "DeleteScope",
                "ListAll"
            ]
        );
        // The refused create never reached the inner store.
        assert!(store.inner.is_empty());
    }
}
