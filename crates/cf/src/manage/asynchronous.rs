//! [`AsyncManager`]: management over an async store, the one
//! implementation of every management call; [`Manager`](super::Manager)
//! drives it over a sync store (R16–R21 are decided here alone).

use std::sync::Arc;

use registry_credentials::credential::{Credential, CredentialUpdate};
use registry_credentials::identity::Guid;
use registry_credentials::resolve::resolve_async;
use registry_credentials::scope::{AppId, OrgId, SpaceId, UserId};
use registry_credentials::store::audit::{self, AuditEvent, AuditQuery, Written};
use registry_credentials::store::{AppCredentialReplaced, AsyncCredentialStore, Page, Query};
use registry_credentials::{Location, Reference, RegistryCredential, Scope, ScopeKind};

use super::resources::located;
use super::{
    AsyncRemoval, Chosen, Entry, Gate, Located, LocatedPage, ManageError, StagedPush, Started,
    Traced, Within, rows_of,
};
use super::{actor, audit_context};
use crate::access::{Operation, OrgRole, Roles, SpaceRole};
use crate::directory::{
    AsyncDirectoryWriter, DirectoryError, InlineDirectory, MemoryDirectory, Name, Place,
};
use crate::listing::{Listing, Target};

/// Management for async services, and the one implementation of every
/// management call ([`Manager`](super::Manager) drives it over a sync
/// store): the calls, rules and errors over an [`AsyncCredentialStore`] (a `PostgresStore`, or
/// `Arc<dyn AsyncCredentialStore>`), and an [`AsyncDirectoryWriter`] (a
/// `PostgresDirectory`, `Arc<dyn AsyncDirectoryWriter>`, or a sync
/// directory behind [`InlineDirectory`]), whose look-ups every access
/// decision awaits. Its deletions also need the directory to say how it
/// removes an entry with its credentials ([`AsyncRemoval`]): every
/// directory of this crate does, over a `PostgresStore` in one
/// transaction.
///
/// ```
/// use std::sync::Arc;
/// use registry_credentials::scope::UserId;
/// use registry_credentials::store::{AsyncCredentialStore, InlineStore};
/// use registry_credentials::{Credential, MemoryStore, RegistryCredential, Scope};
/// use registry_credentials_cf::access::GlobalRole;
/// use registry_credentials_cf::directory::{DirectoryWriter, InlineDirectory, MemoryDirectory, Name};
/// use registry_credentials_cf::manage::AsyncManager;
/// # use registry_credentials::store::block_on_ready;
/// # block_on_ready(async {
/// let store: Arc<dyn AsyncCredentialStore> = Arc::new(InlineStore(MemoryStore::new()));
/// let directory = MemoryDirectory::new();
/// let m = AsyncManager::new(store, InlineDirectory(directory.clone()));
/// let admin = UserId::new("admin")?;
/// directory.grant_global(admin.clone(), GlobalRole::Admin)?;
/// let org = m.create_org(&admin, Name::new("o")?).await?;
/// let space = m.create_space(&admin, &org, Name::new("s")?).await?;
/// let staged = m
///     .stage(&admin, &space, &Name::new("app")?, "nginx".parse()?, Some(Credential::new("me", "pw")?))
///     .await?;
/// let started = staged.started().await?;
/// assert_eq!(started.stored().unwrap().location().as_str(), "docker.io/library");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct AsyncManager<S, D = InlineDirectory<MemoryDirectory>> {
    store: S,
    directory: D,
}

impl<S, D> AsyncManager<S, D> {
    /// A manager over `store` and `directory`.
    pub fn new(store: S, directory: D) -> Self {
        AsyncManager { store, directory }
    }

    /// The store. Reading it directly skips the access rules.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The directory, to change without access checks: the platform
    /// operator's door, for setting up the first admin or restoring a
    /// saved directory.
    pub fn directory(&self) -> &D {
        &self.directory
    }

    /// The store and the directory.
    pub fn into_parts(self) -> (S, D) {
        (self.store, self.directory)
    }
}

/// Each call the gate answers alone (directory look-ups and changes,
/// access checks; no store I/O): the async form of the [`Manager`] call of
/// the same name, which documents it. `= method` names the gate's method
/// when the call keeps only whether it succeeded.
///
/// [`Manager`]: super::Manager
macro_rules! gate_calls {
    (@doc $name:ident $item:item) => {
        #[doc = concat!("[`Manager::", stringify!($name), "`](super::Manager::", stringify!($name), "), async.")]
        ///
        /// # Errors
        ///
        #[doc = concat!("As [`Manager::", stringify!($name), "`](super::Manager::", stringify!($name), ").")]
        $item
    };
    ($($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $out:ty $(= $gate:ident)?;)*) => {$(
        gate_calls!(@doc $name
            pub async fn $name(&self, $($arg: $ty),*) -> Result<$out, ManageError> {
                gate_calls!(@call self.gate(), $name $($gate)?, ($($arg),*))
            }
        );
    )*};
    (@call $gate:expr, $name:ident, $args:tt) => { $gate.$name $args.await };
    (@call $gate:expr, $name:ident $method:ident, $args:tt) => { $gate.$method $args.await.map(drop) };
}

/// Each deletion: [`delete_entry`](AsyncManager::delete_entry) of the
/// [`Entry`] of that kind, documented as [`gate_calls!`] is.
macro_rules! deletions {
    ($(fn $name:ident($what:ident: &$ty:ty) = $entry:ident;)*) => {$(
        gate_calls!(@doc $name
            pub async fn $name(
                &self,
                caller: &UserId,
                $what: &$ty,
            ) -> Result<Vec<Arc<RegistryCredential>>, ManageError> {
                self.delete_entry(caller, Entry::$entry($what)).await
            }
        );
    )*};
}

impl<S: AsyncCredentialStore, D: AsyncDirectoryWriter> AsyncManager<S, D> {
    with_gate_calls!(gate_calls);

    fn gate(&self) -> Gate<'_, D> {
        Gate::new(&self.directory)
    }

    /// [`Manager::create`](super::Manager::create), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::create`](super::Manager::create).
    pub async fn create(
        &self,
        caller: &UserId,
        credential: RegistryCredential,
    ) -> Result<Arc<RegistryCredential>, ManageError> {
        Ok(self.create_placed(caller, credential).await?.0)
    }

    /// [`Manager::create_located`](super::Manager::create_located), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::create`](super::Manager::create).
    pub async fn create_located(
        &self,
        caller: &UserId,
        credential: RegistryCredential,
    ) -> Result<Located, ManageError> {
        let (created, place) = self.create_placed(caller, credential).await?;
        located(&created, Some(place))
    }

    /// A create, and the place of the credential's scope.
    async fn create_placed(
        &self,
        caller: &UserId,
        credential: RegistryCredential,
    ) -> Result<(Arc<RegistryCredential>, Place), ManageError> {
        let (scope, location) = (credential.scope().clone(), credential.location().clone());
        let write = Write::new("create", Operation::Create, &scope, Some(&location));
        let (written, place) = self
            .write(caller, write, audit::Write::Create(credential))
            .await?;
        Ok((stored(written.after()), place))
    }

    /// [`Manager::create_all`](super::Manager::create_all), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::create_all`](super::Manager::create_all).
    pub async fn create_all(
        &self,
        caller: &UserId,
        scope: &Scope,
        credentials: Vec<(Location, Credential)>,
    ) -> Result<Vec<Arc<RegistryCredential>>, ManageError> {
        let batch = credentials
            .into_iter()
            .map(|(location, credential)| {
                RegistryCredential::new(scope.clone(), location, credential)
            })
            .collect();
        let write = Write::new("create-all", Operation::Create, scope, None);
        let (written, _) = self
            .write(caller, write, audit::Write::CreateAll(batch))
            .await?;
        Ok(written.after().to_vec())
    }

    /// [`Manager::update`](super::Manager::update), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::update`](super::Manager::update).
    pub async fn update(
        &self,
        caller: &UserId,
        scope: &Scope,
        location: &Location,
        update: CredentialUpdate,
    ) -> Result<Arc<RegistryCredential>, ManageError> {
        let write = Write::new("update", Operation::Update, scope, Some(location));
        let change = audit::Write::Update {
            scope: scope.clone(),
            location: location.clone(),
            update,
        };
        let (written, _) = self.write(caller, write, change).await?;
        Ok(stored(written.after()))
    }

    /// [`Manager::delete`](super::Manager::delete), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::delete`](super::Manager::delete).
    pub async fn delete(
        &self,
        caller: &UserId,
        scope: &Scope,
        location: &Location,
    ) -> Result<Arc<RegistryCredential>, ManageError> {
        let write = Write::new("delete", Operation::Delete, scope, Some(location));
        let change = audit::Write::Delete {
            scope: scope.clone(),
            location: location.clone(),
        };
        let (written, _) = self.write(caller, write, change).await?;
        Ok(stored(written.before()))
    }

    /// A write of credentials, traced: made by `store` only once `caller`
    /// may do it (R20), and never at app scope for a create (R16, R19:
    /// pushes store those); its store errors turned into management
    /// errors.
    async fn write(
        &self,
        caller: &UserId,
        what: Write<'_>,
        change: audit::Write,
    ) -> Result<(Written, Place), ManageError> {
        let traced = Traced::new(what.op, caller, what.scope, what.location);
        traced.done(
            async {
                if what.operation == Operation::Create && what.scope.kind() == ScopeKind::App {
                    return Err(ManageError::AppCredentialByPush);
                }
                let gate = self.gate();
                let place = gate.check(caller, what.operation, what.scope).await?;
                let context = audit_context(actor(caller), &place);
                let written = self.store.audited(change, &context).await;
                Ok((gate.store_result(written).await?, place))
            }
            .await,
        )
    }

    /// [`Manager::get_by_guid`](super::Manager::get_by_guid), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::get_by_guid`](super::Manager::get_by_guid).
    pub async fn get_by_guid(&self, caller: &UserId, guid: Guid) -> Result<Located, ManageError> {
        let found = self.stored(guid).await?;
        let place = self
            .gate()
            .check_stored(caller, Operation::Read, guid, &found)
            .await?;
        located(&found, place)
    }

    /// [`Manager::update_by_guid`](super::Manager::update_by_guid), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::update_by_guid`](super::Manager::update_by_guid).
    pub async fn update_by_guid(
        &self,
        caller: &UserId,
        guid: Guid,
        update: CredentialUpdate,
    ) -> Result<Located, ManageError> {
        let change = audit::Write::UpdateByGuid(guid, update);
        self.write_stored(caller, guid, Operation::Update, "update", change)
            .await
    }

    /// [`Manager::delete_by_guid`](super::Manager::delete_by_guid), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::delete_by_guid`](super::Manager::delete_by_guid).
    pub async fn delete_by_guid(
        &self,
        caller: &UserId,
        guid: Guid,
    ) -> Result<Located, ManageError> {
        let change = audit::Write::DeleteByGuid(guid);
        self.write_stored(caller, guid, Operation::Delete, "delete", change)
            .await
    }

    /// The stored credential with `guid`, read past the access rules.
    async fn stored(&self, guid: Guid) -> Result<Arc<RegistryCredential>, ManageError> {
        self.store
            .get_by_guid(guid)
            .await
            .map_err(ManageError::Store)?
            .ok_or(ManageError::GuidNotFound { guid })
    }

    /// A write of the stored credential with `guid`, traced: made by
    /// `store` only once `caller` may see it (else it is not found, R21)
    /// and may do `operation` to it (R20). Its scope, and so the decision,
    /// never changes while it exists (R22).
    async fn write_stored(
        &self,
        caller: &UserId,
        guid: Guid,
        operation: Operation,
        op: &'static str,
        change: audit::Write,
    ) -> Result<Located, ManageError> {
        let found = self.stored(guid).await?;
        let traced = Traced::new(op, caller, found.scope(), Some(found.location()));
        traced.done(
            async {
                let gate = self.gate();
                let place = gate.check_stored(caller, operation, guid, &found).await?;
                let context = place.as_ref().map_or_else(
                    || audit_context(actor(caller), &Place::Foundation),
                    |p| audit_context(actor(caller), p),
                );
                let written = gate
                    .store_result(self.store.audited(change, &context).await)
                    .await?;
                let one = match operation {
                    Operation::Delete => written.before(),
                    _ => written.after(),
                };
                located(&stored(one), place)
            }
            .await,
        )
    }

    /// [`Manager::query`](super::Manager::query), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::query`](super::Manager::query).
    pub async fn query(
        &self,
        caller: &UserId,
        query: Query,
        within: &Within,
    ) -> Result<LocatedPage, ManageError> {
        let gate = self.gate();
        let readable = gate.readable(caller, &query, within).await?;
        let query = match &readable {
            Some(scopes) => query.scopes(scopes.keys().cloned()),
            None => query,
        };
        let page = self.store.query(&query).await.map_err(ManageError::Store)?;
        gate.locate(page, readable).await
    }

    /// [`Manager::audit_events`](super::Manager::audit_events), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::audit_events`](super::Manager::audit_events).
    pub async fn audit_events(
        &self,
        caller: &UserId,
        query: AuditQuery,
    ) -> Result<Page<AuditEvent>, ManageError> {
        let readable = self
            .gate()
            .readable(caller, &Query::new(), &Within::new())
            .await?;
        let query = match readable {
            Some(places) => {
                let allowed = places.into_keys();
                let scopes: Vec<Scope> = match query.scope_filter() {
                    Some(asked) => allowed.filter(|s| asked.contains(s)).collect(),
                    None => allowed.collect(),
                };
                query.scopes(scopes)
            }
            None => query,
        };
        self.store
            .audit_events(&query)
            .await
            .map_err(ManageError::Store)
    }

    /// [`Manager::list`](super::Manager::list), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::list`](super::Manager::list).
    pub async fn list(&self, caller: &UserId, target: &Target) -> Result<Listing, ManageError> {
        let mut rows = Vec::new();
        for (scope, app_name) in self.gate().listing_scopes(caller, target).await? {
            let found = self
                .store
                .list(scope.as_scope_ref())
                .await
                .map_err(ManageError::Store)?;
            rows.extend(rows_of(&scope, app_name.as_ref(), found));
        }
        Ok(Listing::new(rows))
    }

    /// [`Manager::stage`](super::Manager::stage), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::stage`](super::Manager::stage).
    pub async fn stage(
        &self,
        caller: &UserId,
        space: &SpaceId,
        app: &Name,
        image: Reference,
        given: Option<Credential>,
    ) -> Result<StagedPush<'_, Self>, ManageError> {
        // A first push of a new app racing another that names it the
        // same: the second to add it finds it taken and pushes to the one
        // the first added.
        let mut attempts = 0;
        let (the_app, chosen) = loop {
            attempts += 1;
            let (the_app, new) = self.gate().push_target(caller, space, app).await?;
            let chosen = match &given {
                Some(credential) => Gate::<D>::given(&image, credential.clone()),
                None => match resolve_async(&self.store, &the_app, &image)
                    .await
                    .map_err(ManageError::Store)?
                {
                    Some(r) => Chosen::Stored(r),
                    None => Chosen::None,
                },
            };
            if new {
                match self
                    .directory
                    .add_app(the_app.id().clone(), space, app.clone())
                    .await
                {
                    Err(DirectoryError::NameTaken { .. }) if attempts < 2 => continue,
                    other => other?,
                }
            }
            break (the_app, chosen);
        };
        Ok(StagedPush {
            manager: self,
            caller: caller.clone(),
            app: the_app,
            app_name: app.clone(),
            image,
            chosen,
        })
    }
}

impl<S: AsyncCredentialStore, D: AsyncRemoval<S>> AsyncManager<S, D> {
    deletions! {
        fn delete_org(org: &OrgId) = Org;
        fn delete_space(space: &SpaceId) = Space;
        fn delete_app(app: &AppId) = App;
    }

    /// Removes `what` with its credentials, if `caller` may: the directory
    /// says how ([`AsyncRemoval`]), in one transaction over a
    /// `PostgresStore` and its `PostgresDirectory`.
    async fn delete_entry(
        &self,
        caller: &UserId,
        what: Entry<'_>,
    ) -> Result<Vec<Arc<RegistryCredential>>, ManageError> {
        self.gate().check_deletion(caller, what).await?;
        let by = actor(caller);
        self.directory
            .remove_with_credentials(&self.store, what, &by)
            .await
    }
}

impl<S: AsyncCredentialStore, D: AsyncDirectoryWriter> StagedPush<'_, AsyncManager<S, D>> {
    /// [`StagedPush::started`] for an [`AsyncManager`]: checks the caller's
    /// roles again, records the image as the one the app runs (R29), then
    /// replaces the app's credentials in one step of the store (R19).
    ///
    /// # Errors
    ///
    /// [`ManageError::Permission`], [`ManageError::Directory`] or
    /// [`ManageError::Store`]; nothing changed, unless the store lost the
    /// answer to the replacement ([`ManageError::is_outcome_unknown`]) or
    /// failed after the directory recorded the image (over a store and a
    /// directory that do not share a transaction: the image is the app's
    /// all the same, as it started with it).
    pub async fn started(self) -> Result<Started, ManageError> {
        let kept = self.keep();
        let traced = Traced::new(
            "push-start",
            &self.caller,
            &Scope::App(self.app.id().clone()),
            kept.as_ref().map(|(location, _)| location),
        );
        traced.done(
            async {
                let m = self.manager;
                m.gate()
                    .check_push(&self.caller, &self.app, &self.app_name)
                    .await?;
                // The app runs this image from now on: what its next pull
                // resolves (R29). Recorded before the credential is kept,
                // as the app started with it whatever becomes of that.
                m.directory
                    .set_app_image(self.app.id(), &self.image)
                    .await?;
                let done = match kept {
                    Some((location, credential)) => {
                        let change = audit::Write::ReplaceAppCredential {
                            app: self.app.id().clone(),
                            location,
                            credential,
                        };
                        let context =
                            audit_context(actor(&self.caller), &Place::App(self.app.clone()));
                        let written = m
                            .store
                            .audited(change, &context)
                            .await
                            .map_err(ManageError::Store)?;
                        Some(AppCredentialReplaced {
                            stored: stored(written.after()),
                            replaced: written.before().to_vec(),
                        })
                    }
                    None => None,
                };
                Ok(self.started_with(done))
            }
            .await,
        )
    }
}

/// The one credential a write of one credential stored or removed.
fn stored(credentials: &[Arc<RegistryCredential>]) -> Arc<RegistryCredential> {
    Arc::clone(
        credentials
            .first()
            .expect("a write of one credential stores or removes one"),
    )
}

/// What a credential write is, for [`AsyncManager::write`]: its name in
/// the trace (`create`, `create-all`, `update`, `delete`), the operation
/// the access rules check, and where.
struct Write<'a> {
    op: &'static str,
    operation: Operation,
    scope: &'a Scope,
    location: Option<&'a Location>,
}

impl<'a> Write<'a> {
    fn new(
        op: &'static str,
        operation: Operation,
        scope: &'a Scope,
        location: Option<&'a Location>,
    ) -> Self {
        Write {
            op,
            operation,
            scope,
            location,
        }
    }
}
