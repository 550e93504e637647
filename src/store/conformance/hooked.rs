//! [`Hooked`]: the one test double, a store wrapped in hooks.

use std::ops::Deref;
use std::sync::Arc;

use crate::credential::{Credential, CredentialUpdate, RegistryCredential};
use crate::identity::Guid;
use crate::location::Location;
use crate::scope::{AppId, ScopeRef};
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
        )
    }
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

    /// [`CredentialSource::get_many`]; forwards by default.
    ///
    /// # Errors
    ///
    /// The inner store's.
    fn get_many(
        &self,
        inner: &dyn CredentialStore,
        keys: &[Key<'_>],
    ) -> Result<Vec<Option<Arc<RegistryCredential>>>, StoreError> {
        inner.get_many(keys)
    }

    /// [`CredentialStore::create`]; forwards by default.
    ///
    /// # Errors
    ///
    /// The inner store's.
    fn create(
        &self,
        inner: &dyn CredentialStore,
        credential: RegistryCredential,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        inner.create(credential)
    }

    /// [`CredentialStore::create_all`]; forwards by default.
    ///
    /// # Errors
    ///
    /// The inner store's.
    fn create_all(
        &self,
        inner: &dyn CredentialStore,
        credentials: Vec<RegistryCredential>,
    ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        inner.create_all(credentials)
    }

    /// [`CredentialStore::update`]; forwards by default.
    ///
    /// # Errors
    ///
    /// The inner store's.
    fn update(
        &self,
        inner: &dyn CredentialStore,
        scope: ScopeRef<'_>,
        location: &Location,
        update: CredentialUpdate,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        inner.update(scope, location, update)
    }

    /// [`CredentialStore::delete`]; forwards by default.
    ///
    /// # Errors
    ///
    /// The inner store's.
    fn delete(
        &self,
        inner: &dyn CredentialStore,
        scope: ScopeRef<'_>,
        location: &Location,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        inner.delete(scope, location)
    }

    /// [`CredentialStore::replace_app_credential`]; forwards by default.
    ///
    /// # Errors
    ///
    /// The inner store's.
    fn replace_app_credential(
        &self,
        inner: &dyn CredentialStore,
        app: &AppId,
        location: Location,
        credential: Credential,
    ) -> Result<AppCredentialReplaced, StoreError> {
        inner.replace_app_credential(app, location, credential)
    }

    /// [`CredentialStore::delete_scope`]; forwards by default.
    ///
    /// # Errors
    ///
    /// The inner store's.
    fn delete_scope(
        &self,
        inner: &dyn CredentialStore,
        scope: ScopeRef<'_>,
    ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        inner.delete_scope(scope)
    }

    /// [`CredentialStore::list`]; forwards by default.
    ///
    /// # Errors
    ///
    /// The inner store's.
    fn list(
        &self,
        inner: &dyn CredentialStore,
        scope: ScopeRef<'_>,
    ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        inner.list(scope)
    }

    /// [`CredentialStore::list_all`]; forwards by default.
    ///
    /// # Errors
    ///
    /// The inner store's.
    fn list_all(
        &self,
        inner: &dyn CredentialStore,
    ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        inner.list_all()
    }

    /// [`CredentialStore::get_by_guid`]; forwards by default.
    ///
    /// # Errors
    ///
    /// The inner store's.
    fn get_by_guid(
        &self,
        inner: &dyn CredentialStore,
        guid: Guid,
    ) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
        inner.get_by_guid(guid)
    }

    /// [`CredentialStore::update_by_guid`]; forwards by default.
    ///
    /// # Errors
    ///
    /// The inner store's.
    fn update_by_guid(
        &self,
        inner: &dyn CredentialStore,
        guid: Guid,
        update: CredentialUpdate,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        inner.update_by_guid(guid, update)
    }

    /// [`CredentialStore::delete_by_guid`]; forwards by default.
    ///
    /// # Errors
    ///
    /// The inner store's.
    fn delete_by_guid(
        &self,
        inner: &dyn CredentialStore,
        guid: Guid,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        inner.delete_by_guid(guid)
    }

    /// [`CredentialStore::query`]; forwards by default.
    ///
    /// # Errors
    ///
    /// The inner store's.
    fn query(&self, inner: &dyn CredentialStore, query: &Query) -> Result<Page, StoreError> {
        inner.query(query)
    }
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
    fn get_many(
        &self,
        keys: &[Key<'_>],
    ) -> Result<Vec<Option<Arc<RegistryCredential>>>, StoreError> {
        self.hooks.before(Call::GetMany(keys))?;
        self.hooks.get_many(&self.inner, keys)
    }
}

impl<S: CredentialStore, H: Hooks> CredentialStore for Hooked<S, H> {
    fn create(
        &self,
        credential: RegistryCredential,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        self.hooks.before(Call::Create(&credential))?;
        self.hooks.create(&self.inner, credential)
    }

    fn create_all(
        &self,
        credentials: Vec<RegistryCredential>,
    ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        self.hooks.before(Call::CreateAll(&credentials))?;
        self.hooks.create_all(&self.inner, credentials)
    }

    fn update(
        &self,
        scope: ScopeRef<'_>,
        location: &Location,
        update: CredentialUpdate,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        self.hooks.before(Call::Update {
            scope,
            location,
            update: &update,
        })?;
        self.hooks.update(&self.inner, scope, location, update)
    }

    fn delete(
        &self,
        scope: ScopeRef<'_>,
        location: &Location,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        self.hooks.before(Call::Delete { scope, location })?;
        self.hooks.delete(&self.inner, scope, location)
    }

    fn replace_app_credential(
        &self,
        app: &AppId,
        location: Location,
        credential: Credential,
    ) -> Result<AppCredentialReplaced, StoreError> {
        self.hooks.before(Call::ReplaceAppCredential {
            app,
            location: &location,
            credential: &credential,
        })?;
        self.hooks
            .replace_app_credential(&self.inner, app, location, credential)
    }

    fn delete_scope(
        &self,
        scope: ScopeRef<'_>,
    ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        self.hooks.before(Call::DeleteScope(scope))?;
        self.hooks.delete_scope(&self.inner, scope)
    }

    fn list(&self, scope: ScopeRef<'_>) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        self.hooks.before(Call::List(scope))?;
        self.hooks.list(&self.inner, scope)
    }

    fn list_all(&self) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        self.hooks.before(Call::ListAll)?;
        self.hooks.list_all(&self.inner)
    }

    fn get_by_guid(&self, guid: Guid) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
        self.hooks.before(Call::GetByGuid(guid))?;
        self.hooks.get_by_guid(&self.inner, guid)
    }

    fn update_by_guid(
        &self,
        guid: Guid,
        update: CredentialUpdate,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        self.hooks.before(Call::UpdateByGuid {
            guid,
            update: &update,
        })?;
        self.hooks.update_by_guid(&self.inner, guid, update)
    }

    fn delete_by_guid(&self, guid: Guid) -> Result<Arc<RegistryCredential>, StoreError> {
        self.hooks.before(Call::DeleteByGuid(guid))?;
        self.hooks.delete_by_guid(&self.inner, guid)
    }

    fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.hooks.before(Call::Query(query))?;
        self.hooks.query(&self.inner, query)
    }
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
