//! The storage trait every backend implements.

use std::error::Error as StdError;
use std::sync::Arc;

use crate::{CredentialUpdate, Location, RegistryCredential, Scope, ScopeRef};

/// One look-up key: a scope and a location in normal form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key<'a> {
    /// The scope.
    pub scope: ScopeRef<'a>,
    /// The location, in normal form ([`Location::as_str`], or a
    /// [`Candidate`](crate::Candidate)).
    pub location: &'a str,
}

impl<'a> Key<'a> {
    /// A key for `location` at `scope`.
    pub fn new(scope: ScopeRef<'a>, location: &'a str) -> Self {
        Key { scope, location }
    }

    /// The key of a stored credential.
    pub fn of(credential: &'a RegistryCredential) -> Self {
        Key {
            scope: credential.scope().as_ref(),
            location: credential.location().as_str(),
        }
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A credential already exists at that scope and location (R16); the
    /// stored one is unchanged.
    #[error(
        "a credential for `{location}` already exists at {scope}; update or delete it instead"
    )]
    Conflict {
        /// The scope.
        scope: Scope,
        /// The location.
        location: Location,
    },
    /// No credential exists at that scope and location (R17, R18).
    #[error("no credential for `{location}` exists at {scope}; check the location and scope")]
    NotFound {
        /// The scope.
        scope: Scope,
        /// The location as asked for.
        location: String,
    },
    /// The backend failed. Nothing is known to have changed.
    #[error("the credential store failed{}", if *retryable { " (retry later)" } else { "" })]
    Backend {
        /// True when the same call may succeed later (a lost connection, a
        /// busy database).
        retryable: bool,
        /// The backend's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

impl StoreError {
    pub(crate) fn not_found(key: Key<'_>) -> Self {
        StoreError::NotFound {
            scope: key.scope.to_scope(),
            location: key.location.to_owned(),
        }
    }

    /// True when retrying the same call may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StoreError::Backend {
                retryable: true,
                ..
            }
        )
    }
}

/// Where credentials are kept.
///
/// # Contract
///
/// - Keys are a scope and a location in normal form; a location is held at
///   most once per scope (R13).
/// - [`get`](Self::get) returns `Ok(None)` for a key that holds nothing:
///   missing is not an error.
/// - [`create`](Self::create) fails with [`StoreError::Conflict`] when the
///   key holds a credential, and leaves that one untouched (R16).
///   [`update`](Self::update) and [`delete`](Self::delete) fail with
///   [`StoreError::NotFound`] when it holds none (R17, R18). A failed call
///   changes nothing.
/// - Every call sees every write that returned before it began: nothing is
///   cached (R17). A credential is replaced whole: a reader sees the old one
///   or the new one, never one's username with the other's password.
/// - [`list`](Self::list) returns one scope's credentials ordered by
///   location; [`list_all`](Self::list_all) every credential ordered by
///   scope ([`Scope`]'s `Ord`), then location.
/// - Implementations are `Send + Sync` and may be called from many threads
///   at once.
///
/// [`get_many`](Self::get_many) and [`first_match`](Self::first_match) have
/// defaults that loop over `get`; a database store overrides `get_many` to
/// answer a whole resolution in one query.
pub trait CredentialStore: Send + Sync {
    /// The credential at `key`, if any.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn get(&self, key: Key<'_>) -> Result<Option<Arc<RegistryCredential>>, StoreError>;

    /// The credential at each of `keys`, in the same order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn get_many(
        &self,
        keys: &[Key<'_>],
    ) -> Result<Vec<Option<Arc<RegistryCredential>>>, StoreError> {
        keys.iter().map(|k| self.get(*k)).collect()
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
    ) -> Result<Option<(usize, Arc<RegistryCredential>)>, StoreError> {
        Ok(crate::resolve::select_first(self.get_many(keys)?))
    }

    /// Stores a new credential.
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] when its scope already holds its location.
    fn create(&self, credential: RegistryCredential)
        -> Result<Arc<RegistryCredential>, StoreError>;

    /// Stores a credential, replacing any at the same key; returns the one
    /// replaced. This is how a push stores an app's credential (R19).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn put(
        &self,
        credential: RegistryCredential,
    ) -> Result<Option<Arc<RegistryCredential>>, StoreError>;

    /// Changes the username, password or both at `key` (R17).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] when `key` holds nothing.
    fn update(
        &self,
        key: Key<'_>,
        update: CredentialUpdate,
    ) -> Result<Arc<RegistryCredential>, StoreError>;

    /// Removes the credential at `key` and returns it (R18).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] when `key` holds nothing.
    fn delete(&self, key: Key<'_>) -> Result<Arc<RegistryCredential>, StoreError>;

    /// The credentials at `scope`, ordered by location.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn list(&self, scope: ScopeRef<'_>) -> Result<Vec<Arc<RegistryCredential>>, StoreError>;

    /// Every credential, ordered by scope, then location.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn list_all(&self) -> Result<Vec<Arc<RegistryCredential>>, StoreError>;
}

macro_rules! forward_store {
    ($($ty:ty),*) => {$(
        impl<S: CredentialStore + ?Sized> CredentialStore for $ty {
            fn get(&self, key: Key<'_>) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
                (**self).get(key)
            }
            fn get_many(&self, keys: &[Key<'_>]) -> Result<Vec<Option<Arc<RegistryCredential>>>, StoreError> {
                (**self).get_many(keys)
            }
            fn first_match(&self, keys: &[Key<'_>]) -> Result<Option<(usize, Arc<RegistryCredential>)>, StoreError> {
                (**self).first_match(keys)
            }
            fn create(&self, c: RegistryCredential) -> Result<Arc<RegistryCredential>, StoreError> {
                (**self).create(c)
            }
            fn put(&self, c: RegistryCredential) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
                (**self).put(c)
            }
            fn update(&self, key: Key<'_>, u: CredentialUpdate) -> Result<Arc<RegistryCredential>, StoreError> {
                (**self).update(key, u)
            }
            fn delete(&self, key: Key<'_>) -> Result<Arc<RegistryCredential>, StoreError> {
                (**self).delete(key)
            }
            fn list(&self, scope: ScopeRef<'_>) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
                (**self).list(scope)
            }
            fn list_all(&self) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
                (**self).list_all()
            }
        }
    )*};
}

forward_store!(&S, Box<S>, Arc<S>);
