//! [`Manager`]: management over a sync store, a thin front over
//! [`AsyncManager`]: each call drives the async implementation over
//! [`InlineStore`] and [`InlineDirectory`], whose futures never pend, with
//! [`block_on_ready`]. No decision is made here (STYLE 13: one
//! implementation per operation).

use std::fmt;
use std::sync::Arc;

use registry_credentials::credential::{Credential, CredentialUpdate};
use registry_credentials::identity::Guid;
use registry_credentials::scope::{AppId, OrgId, SpaceId, UserId};
use registry_credentials::store::audit::{AuditEvent, AuditQuery};
use registry_credentials::store::{CredentialStore, InlineStore, Page, Query, block_on_ready};
use registry_credentials::{Location, Reference, RegistryCredential, Scope};

use super::{AsyncManager, Located, LocatedPage, ManageError, StagedPush, Started, Within};
use crate::access::{Operation, OrgRole, Roles, SpaceRole};
use crate::directory::{DirectoryWriter, InlineDirectory, MemoryDirectory, Name};
use crate::listing::{Listing, Target};

/// Each front: the async call of the same name, run to completion at
/// once. One line each, so no call is written twice.
macro_rules! fronts {
    ($($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $out:ty $(= $gate:ident)?;)*) => {$(
        $(#[$doc])*
        pub fn $name(&self, $($arg: $ty),*) -> Result<$out, ManageError> {
            block_on_ready(self.inner.$name($($arg),*))
        }
    )*};
}

/// Credentials over a sync store `S`, with the platform's directory `D`,
/// and the access rules (R16–R21) applied to every call. Every call takes
/// `&self`: share one manager between threads (both parts are `Sync`).
///
/// It is [`AsyncManager`] over [`InlineStore`]`<S>` and
/// [`InlineDirectory`]`<D>`, each call run to
/// completion at once: the two fronts cannot drift apart.
#[derive(Clone)]
pub struct Manager<S, D = MemoryDirectory> {
    inner: AsyncManager<InlineStore<S>, InlineDirectory<D>>,
}

impl<S: fmt::Debug, D: fmt::Debug> fmt::Debug for Manager<S, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manager")
            .field("store", &self.inner.store().0)
            .field("directory", &self.inner.directory().0)
            .finish()
    }
}

impl<S: CredentialStore, D: DirectoryWriter> Manager<S, D> {
    /// A manager over `store` and `directory`. Give someone the Admin role
    /// through [`directory`](Self::directory) to begin.
    pub fn new(store: S, directory: D) -> Self {
        Manager {
            inner: AsyncManager::new(InlineStore(store), InlineDirectory(directory)),
        }
    }

    /// The async manager this one drives, over the same store and
    /// directory: for code written once against [`AsyncManager`].
    pub fn as_async(&self) -> &AsyncManager<InlineStore<S>, InlineDirectory<D>> {
        &self.inner
    }

    /// The store. Reading it directly skips the access rules.
    pub fn store(&self) -> &S {
        &self.inner.store().0
    }

    /// The directory, to change without access checks: the platform
    /// operator's door, for setting up the first admin or restoring a
    /// saved directory.
    pub fn directory(&self) -> &D {
        &self.inner.directory().0
    }

    /// The store and the directory.
    pub fn into_parts(self) -> (S, D) {
        let (InlineStore(store), InlineDirectory(directory)) = self.inner.into_parts();
        (store, directory)
    }

    with_gate_calls!(fronts);

    fronts! {
        /// Stores a new credential at foundation, organization or space
        /// scope (R16), if `caller` may change that scope (R20).
        ///
        /// # Errors
        ///
        /// [`ManageError::AppCredentialByPush`] for app scope (R19),
        /// [`ManageError::Unknown`] for a scope not in the directory,
        /// [`ManageError::Permission`], [`ManageError::Conflict`] when the
        /// location is taken at that scope, [`ManageError::Store`].
        fn create(caller: &UserId, credential: RegistryCredential) -> Arc<RegistryCredential>;

        /// [`create`](Self::create), answered with the place of the new
        /// credential's scope (its organization, for a space credential),
        /// as the platform's resource shows it (R22).
        ///
        /// # Errors
        ///
        /// As [`create`](Self::create).
        fn create_located(caller: &UserId, credential: RegistryCredential) -> Located;

        /// Stores several credentials at one foundation, organization or
        /// space scope in one step of the store
        /// ([`CredentialStore::create_all`]): all of them or none, and no
        /// reader sees part of them (R16, R20). Returns them in the order
        /// given.
        ///
        /// # Errors
        ///
        /// As [`create`](Self::create); [`ManageError::Conflict`] names the
        /// first location refused (held at the scope already, or given
        /// twice), and nothing is stored.
        fn create_all(caller: &UserId, scope: &Scope, credentials: Vec<(Location, Credential)>) -> Vec<Arc<RegistryCredential>>;

        /// Changes the username, password or both of the credential for
        /// `location` at `scope` (R17), if `caller` may change that scope
        /// (R20). The location never changes.
        ///
        /// # Errors
        ///
        /// [`ManageError::Unknown`], [`ManageError::Permission`],
        /// [`ManageError::NotFound`], [`ManageError::Store`].
        fn update(caller: &UserId, scope: &Scope, location: &Location, update: CredentialUpdate) -> Arc<RegistryCredential>;

        /// Deletes the credential for `location` at `scope` (R18); an app
        /// credential is named by `Scope::App(app)`. Only if `caller` may
        /// change that scope (R20).
        ///
        /// # Errors
        ///
        /// [`ManageError::Unknown`], [`ManageError::Permission`],
        /// [`ManageError::NotFound`], [`ManageError::Store`].
        fn delete(caller: &UserId, scope: &Scope, location: &Location) -> Arc<RegistryCredential>;

        /// The stored credential with `guid`, located, if `caller` may see
        /// it (R21, R22).
        ///
        /// # Errors
        ///
        /// [`ManageError::GuidNotFound`] when no credential has it or the
        /// caller may not see it (the two look the same),
        /// [`ManageError::Store`].
        fn get_by_guid(caller: &UserId, guid: Guid) -> Located;

        /// Changes the credential with `guid` in one step of the store
        /// (R17, R22): username, password, metadata (merged, a `None`
        /// value removing a key), all or none; its location and scope
        /// never change. Only if `caller` may change its scope (R20).
        ///
        /// # Errors
        ///
        /// [`ManageError::GuidNotFound`] when no credential has it or the
        /// caller may not see it, [`ManageError::Permission`] when the
        /// caller may see but not change it, [`ManageError::Store`] (with
        /// [`StoreError::Metadata`](registry_credentials::StoreError::Metadata)
        /// for a refused metadata patch); nothing changed.
        fn update_by_guid(caller: &UserId, guid: Guid, update: CredentialUpdate) -> Located;

        /// Deletes the credential with `guid` (R18, R22) and returns it,
        /// if `caller` may change its scope (R20).
        ///
        /// # Errors
        ///
        /// As [`update_by_guid`](Self::update_by_guid).
        fn delete_by_guid(caller: &UserId, guid: Guid) -> Located;

        /// One page of the stored credentials `query` selects that are
        /// `within` the organizations, spaces and apps given and that
        /// `caller` may see (R21, R22, R23), with how many there are in
        /// all. The read rules narrow the query's scopes to those the
        /// caller may see (the foundation's; each organization the caller
        /// is in; each space the caller has a role in, and its apps; every
        /// scope for those who see everything), so the store answers it in
        /// one call and what the caller may not see is not counted.
        ///
        /// # Errors
        ///
        /// [`ManageError::Directory`], [`ManageError::Store`].
        fn query(caller: &UserId, query: Query, within: &Within) -> LocatedPage;

        /// One page of the audit events `query` selects that `caller` may
        /// see (R21, R27): those about credentials of the scopes the
        /// caller may read (every event for those who see everything),
        /// with how many there are in all.
        ///
        /// # Errors
        ///
        /// [`ManageError::Directory`], [`ManageError::Store`].
        fn audit_events(caller: &UserId, query: AuditQuery) -> Page<AuditEvent>;

        /// The credentials available to `target` that `caller` may see
        /// (R21), in R21's order. What the caller may not see is left out
        /// without a trace: a listing looks the same whether or not it
        /// exists.
        ///
        /// # Errors
        ///
        /// [`ManageError::Unknown`] for a target not in the directory,
        /// [`ManageError::Store`].
        fn list(caller: &UserId, target: &Target) -> Listing;

        /// Deletes the organization `org` with its spaces and apps, and
        /// every credential stored at any of them (R13): nothing created
        /// later can inherit them, and the ids are never used again. Admin
        /// only.
        ///
        /// The credentials go first, then the directory's entries: over a
        /// store and directory that share a transaction (the `sqlite`
        /// feature's `SqliteTransaction` and `SqliteDirectory`) the whole
        /// deletion is one step; otherwise a failure part-way leaves
        /// entries without some of their credentials, never credentials
        /// without their entry.
        ///
        /// Returns the credentials deleted.
        ///
        /// # Errors
        ///
        /// [`ManageError::Unknown`], [`ManageError::Permission`],
        /// [`ManageError::Store`], [`ManageError::Directory`].
        fn delete_org(caller: &UserId, org: &OrgId) -> Vec<Arc<RegistryCredential>>;

        /// Deletes the space `space` with its apps and every credential
        /// stored at them (R13), as [`delete_org`](Self::delete_org) does.
        /// Admin, or an Org Manager of its organization.
        ///
        /// # Errors
        ///
        /// As [`delete_org`](Self::delete_org).
        fn delete_space(caller: &UserId, space: &SpaceId) -> Vec<Arc<RegistryCredential>>;

        /// Deletes the app `app` and its credentials (R13), as
        /// [`delete_org`](Self::delete_org) does. Admin, or a Space
        /// Developer of its space.
        ///
        /// # Errors
        ///
        /// As [`delete_org`](Self::delete_org).
        fn delete_app(caller: &UserId, app: &AppId) -> Vec<Arc<RegistryCredential>>;
    }

    /// Stages a push of the app called `app` in `space` with `image` (R19).
    ///
    /// With `given` credentials, staging uses them, ahead of every stored
    /// credential; without, the precedence search decides (R14, R15). The
    /// app is added to the directory if it is new, with a random GUID.
    /// Nothing is stored yet: call [`StagedPush::started`] once the app has
    /// started, or drop the [`StagedPush`] (or call
    /// [`StagedPush::failed`]) if staging or start failed, and nothing
    /// will be.
    ///
    /// The caller must be allowed to change the app's credentials (R20:
    /// Admin, or a Space Developer of the space).
    ///
    /// # Errors
    ///
    /// [`ManageError::Unknown`], [`ManageError::Permission`],
    /// [`ManageError::Store`]. On error the directory is unchanged.
    #[rustfmt::skip]
    pub fn stage(&self, caller: &UserId, space: &SpaceId, app: &Name, image: Reference, given: Option<Credential>) -> Result<StagedPush<'_, Self>, ManageError> {
        block_on_ready(self.inner.stage(caller, space, app, image, given)).map(|s| s.rebind(self))
    }
}

impl<S: CredentialStore, D: DirectoryWriter> StagedPush<'_, Manager<S, D>> {
    /// The app started: keep the credentials given with the push as the
    /// app's credential for the image's most specific candidate location.
    /// They replace all of the app's credentials in one step of the store
    /// (R19): the one at that location and any the app had at other
    /// locations, so an app holds one pair, as in cf, and two pushes
    /// starting at once leave exactly one.
    ///
    /// The caller's right to push is checked again first: a role taken
    /// away between staging and start stops the push from storing. Then
    /// the directory records the image as the one the app runs, what its
    /// next pull resolves (R29): over a `SqliteTransaction` and its
    /// `SqliteDirectory`, in the same transaction as the credential.
    ///
    /// # Errors
    ///
    /// [`ManageError::Permission`] when the caller may no longer push
    /// there, [`ManageError::Directory`] or [`ManageError::Store`] when
    /// the directory or the store fails; nothing changed, unless the store
    /// lost the answer to the replacement
    /// ([`ManageError::is_outcome_unknown`]) or failed after the directory
    /// recorded the image (see [`AsyncManager`]'s `started`).
    pub fn started(self) -> Result<Started, ManageError> {
        let inner = self.manager.as_async();
        block_on_ready(self.rebind(inner).started())
    }
}
