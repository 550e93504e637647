//! Where credentials are kept: the look-up and management traits, sync and
//! async, their contract, and [`MemoryStore`], the embedded default.
//!
//! Two audiences, two traits:
//!
//! - [`CredentialSource`] is all that resolution needs: one batch look-up
//!   of (scope, location) [`Key`]s in plan order. A back end that only
//!   answers look-ups (a secrets manager, a platform API, a config file)
//!   implements this one method.
//! - [`CredentialStore`] adds what management needs: create, update,
//!   delete, list, and [`replace_app_credential`](CredentialStore::replace_app_credential),
//!   which replaces an app's credentials whole in one step (R19).
//!
//! [`AsyncCredentialSource`] and [`AsyncCredentialStore`] are the same for
//! stores that talk to a server. Their methods return boxed futures, so
//! they can be trait objects (`Arc<dyn AsyncCredentialSource>`) in a
//! service's shared state. [`InlineStore`] makes any sync store an async
//! one whose futures never pend, and [`block_on_ready`] drives such a
//! future from sync code: so an operation written once, async, serves sync
//! callers too.
//!
//! Every trait is implemented for `&S`, `Box<S>` and `Arc<S>` when `S`
//! implements it.

mod asynchronous;
pub mod audit;
#[cfg(any(test, feature = "conformance"))]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;
mod memory;
mod query;

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::SystemTime;

pub use asynchronous::{
    AsyncCredentialSource, AsyncCredentialStore, BoxFuture, InlineStore, block_on_ready,
};
pub use memory::MemoryStore;
pub use query::{
    DEFAULT_PER_PAGE, MAX_PER_PAGE, OrderBy, Page, Paged, Query, QueryError, TimeFilter,
};

use audit::{AuditContext, AuditEvent, AuditQuery, Write, Written};

use crate::candidates::Candidate;
use crate::credential::{Credential, CredentialUpdate, RegistryCredential};
use crate::identity::Guid;
use crate::location::Location;
use crate::metadata::MetadataError;
use crate::resolve::{Clock, Plan, Resolution, first_live};
use crate::scope::{AppId, Scope, ScopeRef};

/// One look-up key: a scope and a location in normal form.
///
/// Made only from a checked [`Location`] or a [`Candidate`], so its
/// location is always in normal form: a key cannot silently miss because
/// it was spelled `Example.com`.
///
/// ```
/// use registry_credentials::store::Key;
/// use registry_credentials::{Location, Scope};
/// let location: Location = "Registry.Example.com/team".parse()?;
/// let key = Key::new(Scope::Foundation.as_scope_ref(), &location);
/// assert_eq!(key.location(), "registry.example.com/team");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key<'a> {
    scope: ScopeRef<'a>,
    location: &'a str,
}

impl<'a> Key<'a> {
    /// A key for `location` at `scope`.
    pub fn new(scope: ScopeRef<'a>, location: &'a Location) -> Self {
        Key {
            scope,
            location: location.as_str(),
        }
    }

    /// A key for a reference's `candidate` at `scope`: what a resolution
    /// [`Plan`] is made of.
    pub fn candidate(scope: ScopeRef<'a>, candidate: Candidate<'a>) -> Self {
        Key {
            scope,
            location: candidate.as_str(),
        }
    }

    /// The key of a stored credential.
    pub fn of(credential: &'a RegistryCredential) -> Self {
        Key::new(credential.scope().as_scope_ref(), credential.location())
    }

    /// The scope.
    pub fn scope(&self) -> ScopeRef<'a> {
        self.scope
    }

    /// The location, in normal form.
    pub fn location(&self) -> &'a str {
        self.location
    }
}

/// A [`Key`] that owns its scope and location, for handing a batch of
/// look-ups to another thread or task (a blocking pool, a worker) that
/// outlives the borrow.
///
/// Made only from a [`Key`], so its location is in normal form as the
/// key's was; [`key`](Self::key) lends it back.
///
/// ```
/// use registry_credentials::store::{Key, OwnedKey};
/// use registry_credentials::{Location, Scope};
/// let location: Location = "registry.example.com/team".parse()?;
/// let key = Key::new(Scope::Foundation.as_scope_ref(), &location);
/// let owned: OwnedKey = key.to_owned_key();
/// let handle = std::thread::spawn(move || owned.key().location().len());
/// assert_eq!(handle.join().unwrap(), key.location().len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OwnedKey {
    scope: Scope,
    location: Box<str>,
}

impl OwnedKey {
    /// The key, borrowed.
    pub fn key(&self) -> Key<'_> {
        Key {
            scope: self.scope.as_scope_ref(),
            location: &self.location,
        }
    }
}

impl Key<'_> {
    /// An owned copy (the scope's id is shared, the location copied).
    pub fn to_owned_key(&self) -> OwnedKey {
        OwnedKey {
            scope: self.scope.to_scope(),
            location: self.location.into(),
        }
    }
}

impl From<Key<'_>> for OwnedKey {
    fn from(key: Key<'_>) -> Self {
        key.to_owned_key()
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A credential already exists at that scope and location (R16); the
    /// stored one is unchanged.
    #[error("a credential for `{location}` already exists at {scope}; update or delete it instead")]
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
        /// The location.
        location: Location,
    },
    /// No stored credential has that GUID (R22).
    #[error("no credential has the GUID {guid}; list the credentials to find its GUID")]
    GuidNotFound {
        /// The GUID asked for.
        guid: Guid,
    },
    /// A change to the labels or annotations was refused (R22): nothing
    /// changed.
    #[error("the change was refused, nothing changed: {0}")]
    Metadata(#[from] MetadataError),
    /// A stored credential cannot be read back as it was written: it does
    /// not decrypt with the keys the store was given, or its stored data is
    /// corrupt. The store never returns a wrong credential instead.
    /// Retrying will not help: a person must supply the right key or repair
    /// the data. Nothing changed.
    #[error("a stored credential cannot be read: {reason}")]
    Unreadable {
        /// What is wrong.
        reason: UnreadableReason,
        /// The backend's error, naming the key or the row.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The backend failed before the change could take effect: nothing
    /// changed (R28).
    #[error("the credential store failed{}", if *retryable { " (retry later)" } else { "" })]
    Backend {
        /// True when the same call may succeed later (a lost connection, a
        /// busy database).
        retryable: bool,
        /// The backend's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The change was sent to the backend and its answer was lost: it may
    /// or may not have taken effect (R28). The store has already checked
    /// as far as it can (a store that can settle the question does so
    /// before returning this); read the credential to see which it was.
    /// Retrying the same call blindly is not safe: a create may then fail
    /// as a conflict with itself, and an update may undo a later one.
    #[error(
        "the credential store lost the answer to a change it was sent, so it may or may not have been made; read it back to see"
    )]
    OutcomeUnknown {
        /// The backend's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

/// Why a stored credential cannot be read ([`StoreError::Unreadable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnreadableReason {
    /// It does not decrypt with the keys given: a key is wrong or missing.
    Key,
    /// Its stored data is not what the store writes: the row is corrupt.
    Corrupt,
}

impl std::fmt::Display for UnreadableReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UnreadableReason::Key => {
                "it does not decrypt with the keys given; supply the key it was written with"
            }
            UnreadableReason::Corrupt => {
                "its stored data is corrupt; restore it from a backup or delete it"
            }
        })
    }
}

impl StoreError {
    /// A [`StoreError::NotFound`] for `location` at `scope`.
    pub fn not_found(scope: ScopeRef<'_>, location: &Location) -> Self {
        StoreError::NotFound {
            scope: scope.to_scope(),
            location: location.clone(),
        }
    }

    /// True when the call may or may not have taken effect
    /// ([`StoreError::OutcomeUnknown`]); every other error changed nothing.
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, StoreError::OutcomeUnknown { .. })
    }

    /// True when retrying the same call may succeed. Never true of an
    /// unknown outcome: read first, then decide.
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

/// What one [`CredentialStore::replace_app_credential`] did: the app
/// credential now stored, and every one it replaced.
#[derive(Debug, Clone)]
pub struct AppCredentialReplaced {
    /// The credential stored.
    pub stored: Arc<RegistryCredential>,
    /// The app's credentials before the call: the one at the same location
    /// first, if there was one, then the others in location order.
    pub replaced: Vec<Arc<RegistryCredential>>,
}

/// Where resolution looks credentials up: the read side of a store.
///
/// # Contract
///
/// - Keys are a scope and a location in normal form; a location is held at
///   most once per scope (R13).
/// - [`get_many`](Self::get_many) answers every key, in the keys' order;
///   a key that holds nothing answers `None`: missing is not an error.
/// - Every call sees every write that returned before it began: nothing is
///   cached (R17). A credential is replaced whole: a reader sees the old one
///   or the new one, never one's username with the other's password.
/// - Implementations are `Send + Sync` and may be called from many threads
///   at once.
///
/// [`get`](Self::get) and [`first_match`](Self::first_match) have defaults
/// over `get_many`. A store that can answer the whole plan with its winner
/// alone (a database: one statement, `ORDER BY` the key's index, `LIMIT
/// 1`) overrides `first_match`, so that it reads and decrypts one row.
///
/// ```
/// use std::sync::Arc;
/// use registry_credentials::store::{CredentialSource, Key, StoreError};
/// use registry_credentials::{resolve, App, Credential, RegistryCredential, Scope};
///
/// /// One credential for every image on Docker Hub, from configuration.
/// struct HubOnly(Arc<RegistryCredential>);
///
/// impl CredentialSource for HubOnly {
///     fn get_many(&self, keys: &[Key<'_>]) -> Result<Vec<Option<Arc<RegistryCredential>>>, StoreError> {
///         Ok(keys
///             .iter()
///             .map(|k| (*k == Key::of(&self.0)).then(|| Arc::clone(&self.0)))
///             .collect())
///     }
/// }
///
/// let source = HubOnly(Arc::new(RegistryCredential::new(
///     Scope::Foundation,
///     "docker.io".parse()?,
///     Credential::new("hub-user", "hub-password")?,
/// )));
/// let app = App::new("org", "space", "app")?;
/// let found = resolve(&source, &app, &"nginx".parse()?)?.expect("Docker Hub");
/// assert_eq!(found.credential().username().as_str(), "hub-user");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait CredentialSource: Send + Sync {
    /// The credential at each of `keys`, in the same order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn get_many(
        &self,
        keys: &[Key<'_>],
    ) -> Result<Vec<Option<Arc<RegistryCredential>>>, StoreError>;

    /// The credential at `key`, if any.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn get(&self, key: Key<'_>) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
        Ok(self.get_many(&[key])?.pop().flatten())
    }

    /// The first of `keys`, in order, that holds a credential, with its
    /// index in `keys`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn first_match(
        &self,
        keys: &[Key<'_>],
    ) -> Result<Option<(usize, Arc<RegistryCredential>)>, StoreError> {
        Ok(first_found(self.get_many(keys)?))
    }

    /// The winner of `plan` (R14), or `None` (R15): what [`resolve`](crate::resolve())
    /// asks, an expired credential passed over as if absent (R25, by
    /// `clock`). The answer is always that of [`first_live`] of the plan's
    /// [`keys`](Plan::keys), which is the default. A store
    /// that looks one key up cheaply (one in memory) overrides it with
    /// [`Plan::first_probed`] over that look-up, so that no key after the
    /// winner is made or probed.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn resolve_plan(
        &self,
        plan: &Plan<'_>,
        clock: &mut Clock,
    ) -> Result<Option<Resolution>, StoreError> {
        Ok(
            first_live(self, plan.keys(), clock, |_| true)?
                .and_then(|(i, c)| plan.resolution(i, c)),
        )
    }
}

/// The first found credential and its index.
pub(crate) fn first_found(
    found: impl IntoIterator<Item = Option<Arc<RegistryCredential>>>,
) -> Option<(usize, Arc<RegistryCredential>)> {
    found
        .into_iter()
        .enumerate()
        .find_map(|(i, c)| c.map(|c| (i, c)))
}

/// Where credentials are kept and managed: [`CredentialSource`] plus the
/// writes and listings of R16–R19 and R21.
///
/// # Contract
///
/// Everything [`CredentialSource`] promises, and:
///
/// - [`create`](Self::create) fails with [`StoreError::Conflict`] when the
///   key holds a credential, and leaves that one untouched (R16).
///   [`update`](Self::update) and [`delete`](Self::delete) fail with
///   [`StoreError::NotFound`] when it holds none (R17, R18).
/// - A failed call says which of three things happened (R28): it was
///   refused ([`Conflict`](StoreError::Conflict),
///   [`NotFound`](StoreError::NotFound)) or failed
///   ([`Backend`](StoreError::Backend),
///   [`Unreadable`](StoreError::Unreadable)), and changed nothing; or its
///   outcome is unknown ([`OutcomeUnknown`](StoreError::OutcomeUnknown)):
///   the change was sent and its answer lost. A store that can lose an
///   answer says when in its docs, and settles the question itself
///   wherever it can, so that retrying never applies a write twice or
///   undoes a later one; a store whose every answer arrives (one in this
///   process) never returns `OutcomeUnknown`.
/// - [`replace_app_credential`](Self::replace_app_credential) is one atomic
///   step (R19): of any number of calls for one app that overlap in time,
///   the app afterwards holds exactly one credential, the one of the call
///   that took effect last; never none, never two.
/// - [`create_all`](Self::create_all) stores a batch in one step: every
///   credential of it or none. A reader never sees part of a batch: a
///   call that overlaps it in time sees all of it or nothing of it. When
///   one entry is refused (its key holds a credential, or an earlier entry
///   of the batch has the same key) nothing is stored and the error is the
///   [`StoreError::Conflict`] that names that entry's scope and location.
/// - [`delete_scope`](Self::delete_scope) removes everything at one scope
///   in one step (R13).
/// - [`list`](Self::list) returns one scope's credentials ordered by
///   location; [`list_all`](Self::list_all) every credential ordered by
///   scope ([`Scope`]'s `Ord`), then location.
/// - Every credential a store returns carries its
///   [`Record`](crate::identity::Record) (R22): a GUID the store chose at
///   random when it was created, never another credential's, and its
///   `created_at` and `updated_at` in whole seconds, set by the store. An
///   update (of any part, metadata too) moves `updated_at` only; a
///   credential that [`replace_app_credential`](Self::replace_app_credential)
///   stores at the location the app already had is that one updated
///   (same GUID and `created_at`, its metadata kept), and at another
///   location a new one. Labels and annotations round-trip whole.
/// - [`query`](Self::query) answers as [`Query::page_of`] over every
///   credential would.
///
/// The suite in [`conformance`] (feature `conformance`) checks all of
/// this; run it against a new backend.
pub trait CredentialStore: CredentialSource {
    /// Stores a new credential.
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] when its scope already holds its location.
    fn create(&self, credential: RegistryCredential)
    -> Result<Arc<RegistryCredential>, StoreError>;

    /// Stores every credential of `credentials` in one step, or none of
    /// them: an import of a file, a restore. Returns the stored
    /// credentials in the batch's order. An empty batch stores nothing and
    /// succeeds.
    ///
    /// Required, with no default: a loop over [`create`](Self::create)
    /// would let a reader see part of the batch, and a failure part-way
    /// would leave part of it stored.
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] naming the first entry refused (its key
    /// holds a credential, or an earlier entry has the same key);
    /// [`StoreError::Backend`] when the backend fails. Either way nothing
    /// of the batch is stored.
    fn create_all(
        &self,
        credentials: Vec<RegistryCredential>,
    ) -> Result<Vec<Arc<RegistryCredential>>, StoreError>;

    /// Changes the username, password or both of the credential for
    /// `location` at `scope` (R17).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] when it holds nothing.
    fn update(
        &self,
        scope: ScopeRef<'_>,
        location: &Location,
        update: CredentialUpdate,
    ) -> Result<Arc<RegistryCredential>, StoreError>;

    /// Removes the credential for `location` at `scope` and returns it
    /// (R18).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] when it holds nothing.
    fn delete(
        &self,
        scope: ScopeRef<'_>,
        location: &Location,
    ) -> Result<Arc<RegistryCredential>, StoreError>;

    /// Makes `credential` for `location` the app's one credential, in one
    /// step: every credential the app held, at this location or any other,
    /// is replaced (R19). This is how a started push keeps what it brought.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails; then nothing
    /// changed.
    fn replace_app_credential(
        &self,
        app: &AppId,
        location: Location,
        credential: Credential,
    ) -> Result<AppCredentialReplaced, StoreError>;

    /// Removes every credential at `scope` in one step and returns them,
    /// ordered by location: for deleting an organization, space or app
    /// (R13). A scope that holds nothing is not an error.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails; then nothing
    /// changed.
    fn delete_scope(&self, scope: ScopeRef<'_>)
    -> Result<Vec<Arc<RegistryCredential>>, StoreError>;

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

    /// The credential with `guid`, if any (R22). The default reads
    /// [`list_all`](Self::list_all); a store with an index overrides it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn get_by_guid(&self, guid: Guid) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
        Ok(with_guid(self.list_all()?, guid))
    }

    /// Changes the credential with `guid` in one step, as
    /// [`update`](Self::update) does (R17, R22).
    ///
    /// # Errors
    ///
    /// [`StoreError::GuidNotFound`] when no credential has it;
    /// [`StoreError::Metadata`] when a metadata patch is refused.
    fn update_by_guid(
        &self,
        guid: Guid,
        update: CredentialUpdate,
    ) -> Result<Arc<RegistryCredential>, StoreError>;

    /// Removes the credential with `guid` and returns it (R18, R22).
    ///
    /// # Errors
    ///
    /// [`StoreError::GuidNotFound`] when no credential has it.
    fn delete_by_guid(&self, guid: Guid) -> Result<Arc<RegistryCredential>, StoreError>;

    /// One page of the credentials `query` selects, and how many it selects
    /// in all: the platform's list (R22, R23). The default filters
    /// [`list_all`](Self::list_all) with [`Query::page_of`]; a database
    /// overrides it with one indexed statement.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn query(&self, query: &Query) -> Result<Page, StoreError> {
        Ok(query.page_of(self.list_all()?))
    }

    /// Every credential that expires at or before `by`, expired ones
    /// included, soonest first, then in [`list_all`](Self::list_all)'s
    /// order (R25): what to renew before pulls pass over it.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use registry_credentials::{Credential, CredentialStore, MemoryStore, RegistryCredential, Scope};
    /// let store = MemoryStore::new();
    /// let now = SystemTime::now();
    /// let c = |l: &str| RegistryCredential::new(Scope::Foundation, l.parse().unwrap(), Credential::new("u", "p").unwrap());
    /// store.create(c("a.example.com").with_expires_at(Some(now + Duration::from_secs(3600))))?;
    /// store.create(c("b.example.com").with_expires_at(Some(now + Duration::from_secs(86400 * 30))))?;
    /// store.create(c("c.example.com"))?;
    /// let soon = store.expiring_by(now + Duration::from_secs(86400))?;
    /// assert_eq!(soon.len(), 1);
    /// assert_eq!(soon[0].location().as_str(), "a.example.com");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn expiring_by(&self, by: SystemTime) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        Ok(expiring_by(self.list_all()?, by))
    }

    /// Makes `write` and records its [`AuditEvent`]s by `context`, in one
    /// step (R27): the change and its events commit together, or neither
    /// does. A store runs [`audit::apply`] in a transaction of its own
    /// and stores [`audit::Change::events`] in it before it commits.
    ///
    /// # Errors
    ///
    /// The write's own errors, as the call of the same name has them;
    /// whatever the error, no event is recorded unless the change was
    /// ([`StoreError::OutcomeUnknown`]: both or neither).
    fn audited(&self, write: Write, context: &AuditContext) -> Result<Written, StoreError>;

    /// One page of the audit events `query` selects, and how many it
    /// selects in all (R27).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the backend fails.
    fn audit_events(&self, query: &AuditQuery) -> Result<Page<AuditEvent>, StoreError>;
}

/// The credential of `all` with `guid`, if any.
pub(crate) fn with_guid(
    all: Vec<Arc<RegistryCredential>>,
    guid: Guid,
) -> Option<Arc<RegistryCredential>> {
    all.into_iter()
        .find(|c| c.record().is_some_and(|r| r.guid() == guid))
}

/// The credentials of `all` that expire at or before `by`, soonest first
/// (stable, so ties keep `all`'s order).
pub(crate) fn expiring_by(
    all: Vec<Arc<RegistryCredential>>,
    by: SystemTime,
) -> Vec<Arc<RegistryCredential>> {
    let mut soon: Vec<_> = all
        .into_iter()
        .filter(|c| c.expires_at().is_some_and(|at| at <= by))
        .collect();
    soon.sort_by_key(|c| c.expires_at());
    soon
}

macro_rules! forward_store {
    ($($ty:ty),*) => {$(
        impl<S: CredentialSource + ?Sized> CredentialSource for $ty {
            fn get_many(&self, keys: &[Key<'_>]) -> Result<Vec<Option<Arc<RegistryCredential>>>, StoreError> {
                (**self).get_many(keys)
            }
            fn get(&self, key: Key<'_>) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
                (**self).get(key)
            }
            fn first_match(&self, keys: &[Key<'_>]) -> Result<Option<(usize, Arc<RegistryCredential>)>, StoreError> {
                (**self).first_match(keys)
            }
            fn resolve_plan(&self, plan: &Plan<'_>, clock: &mut Clock) -> Result<Option<Resolution>, StoreError> {
                (**self).resolve_plan(plan, clock)
            }
        }

        impl<S: CredentialStore + ?Sized> CredentialStore for $ty {
            fn create(&self, c: RegistryCredential) -> Result<Arc<RegistryCredential>, StoreError> {
                (**self).create(c)
            }
            fn create_all(&self, c: Vec<RegistryCredential>) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
                (**self).create_all(c)
            }
            fn update(&self, scope: ScopeRef<'_>, location: &Location, u: CredentialUpdate) -> Result<Arc<RegistryCredential>, StoreError> {
                (**self).update(scope, location, u)
            }
            fn delete(&self, scope: ScopeRef<'_>, location: &Location) -> Result<Arc<RegistryCredential>, StoreError> {
                (**self).delete(scope, location)
            }
            fn replace_app_credential(&self, app: &AppId, location: Location, credential: Credential) -> Result<AppCredentialReplaced, StoreError> {
                (**self).replace_app_credential(app, location, credential)
            }
            fn delete_scope(&self, scope: ScopeRef<'_>) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
                (**self).delete_scope(scope)
            }
            fn list(&self, scope: ScopeRef<'_>) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
                (**self).list(scope)
            }
            fn list_all(&self) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
                (**self).list_all()
            }
            fn get_by_guid(&self, guid: Guid) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
                (**self).get_by_guid(guid)
            }
            fn update_by_guid(&self, guid: Guid, u: CredentialUpdate) -> Result<Arc<RegistryCredential>, StoreError> {
                (**self).update_by_guid(guid, u)
            }
            fn delete_by_guid(&self, guid: Guid) -> Result<Arc<RegistryCredential>, StoreError> {
                (**self).delete_by_guid(guid)
            }
            fn query(&self, query: &Query) -> Result<Page, StoreError> {
                (**self).query(query)
            }
            fn expiring_by(&self, by: SystemTime) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
                (**self).expiring_by(by)
            }
            fn audited(&self, write: Write, context: &AuditContext) -> Result<Written, StoreError> {
                (**self).audited(write, context)
            }
            fn audit_events(&self, query: &AuditQuery) -> Result<Page<AuditEvent>, StoreError> {
                (**self).audit_events(query)
            }
        }
    )*};
}

forward_store!(&S, Box<S>, Arc<S>);
