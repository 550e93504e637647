//! [`AsyncManager`]: management over an async store, the one
//! implementation of every management call; [`Manager`](super::Manager)
//! drives it over a sync store (R16–R21 are decided here alone).

use std::sync::Arc;

use registry_credentials::credential::{Credential, CredentialUpdate};
use registry_credentials::resolve::resolve_async;
use registry_credentials::scope::{AppId, OrgId, SpaceId, UserId};
use registry_credentials::store::AsyncCredentialStore;
use registry_credentials::{Location, Reference, RegistryCredential, Scope, ScopeKind};

use super::{Chosen, Gate, ManageError, StagedPush, Started, Traced, rows_of};
use crate::access::{Operation, OrgRole, Roles, SpaceRole};
use crate::directory::{
    AsyncDirectoryWriter, DirectoryError, InlineDirectory, MemoryDirectory, Name,
};
use crate::listing::{Listing, Target};

/// Management for async services, and the one implementation of every
/// management call ([`Manager`](super::Manager) drives it over a sync
/// store): the calls, rules and errors over an [`AsyncCredentialStore`] (a `PostgresStore`, or
/// `Arc<dyn AsyncCredentialStore>`), and an [`AsyncDirectoryWriter`] (a
/// `PostgresDirectory`, `Arc<dyn AsyncDirectoryWriter>`, or a sync
/// directory behind [`InlineDirectory`]), whose look-ups every access
/// decision awaits.
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

impl<S: AsyncCredentialStore, D: AsyncDirectoryWriter> AsyncManager<S, D> {
    /// [`Manager::roles`](super::Manager::roles), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::roles`](super::Manager::roles).
    pub async fn roles(&self, user: &UserId) -> Result<Roles, ManageError> {
        self.gate().roles(user).await
    }

    /// [`Manager::check_access`](super::Manager::check_access), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::check_access`](super::Manager::check_access).
    pub async fn check_access(
        &self,
        caller: &UserId,
        operation: Operation,
        scope: &Scope,
    ) -> Result<(), ManageError> {
        self.gate().check(caller, operation, scope).await.map(drop)
    }

    /// [`Manager::find_org`](super::Manager::find_org), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::find_org`](super::Manager::find_org).
    pub async fn find_org(&self, caller: &UserId, name: &str) -> Result<OrgId, ManageError> {
        self.gate().find_org(caller, name).await
    }

    /// [`Manager::find_space`](super::Manager::find_space), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::find_space`](super::Manager::find_space).
    pub async fn find_space(
        &self,
        caller: &UserId,
        org: &OrgId,
        name: &str,
    ) -> Result<SpaceId, ManageError> {
        self.gate().find_space(caller, org, name).await
    }

    /// [`Manager::find_app`](super::Manager::find_app), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::find_app`](super::Manager::find_app).
    pub async fn find_app(
        &self,
        caller: &UserId,
        space: &SpaceId,
        name: &str,
    ) -> Result<AppId, ManageError> {
        self.gate().find_app(caller, space, name).await
    }

    /// [`Manager::create_org`](super::Manager::create_org), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::create_org`](super::Manager::create_org).
    pub async fn create_org(&self, caller: &UserId, name: Name) -> Result<OrgId, ManageError> {
        self.gate().create_org(caller, name).await
    }

    /// [`Manager::create_space`](super::Manager::create_space), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::create_space`](super::Manager::create_space).
    pub async fn create_space(
        &self,
        caller: &UserId,
        org: &OrgId,
        name: Name,
    ) -> Result<SpaceId, ManageError> {
        self.gate().create_space(caller, org, name).await
    }

    /// [`Manager::set_org_role`](super::Manager::set_org_role), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::set_org_role`](super::Manager::set_org_role).
    pub async fn set_org_role(
        &self,
        caller: &UserId,
        user: UserId,
        org: &OrgId,
        role: OrgRole,
    ) -> Result<(), ManageError> {
        self.gate().set_org_role(caller, user, org, role).await
    }

    /// [`Manager::set_space_role`](super::Manager::set_space_role), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::set_space_role`](super::Manager::set_space_role).
    pub async fn set_space_role(
        &self,
        caller: &UserId,
        user: UserId,
        space: &SpaceId,
        role: SpaceRole,
    ) -> Result<(), ManageError> {
        self.gate().set_space_role(caller, user, space, role).await
    }

    /// [`Manager::check_push`](super::Manager::check_push), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::check_push`](super::Manager::check_push).
    pub async fn check_push(
        &self,
        caller: &UserId,
        space: &SpaceId,
        app: &Name,
    ) -> Result<(), ManageError> {
        self.gate().push_target(caller, space, app).await.map(drop)
    }

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
        let traced = Traced::new(
            "create",
            caller,
            credential.scope(),
            Some(credential.location()),
        );
        traced.done(
            async {
                if credential.scope().kind() == ScopeKind::App {
                    return Err(ManageError::AppCredentialByPush);
                }
                let gate = self.gate();
                gate.check(caller, Operation::Create, credential.scope())
                    .await?;
                gate.store_result(self.store.create(credential).await).await
            }
            .await,
        )
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
        let traced = Traced::new("create-all", caller, scope, None);
        traced.done(
            async {
                if scope.kind() == ScopeKind::App {
                    return Err(ManageError::AppCredentialByPush);
                }
                let gate = self.gate();
                gate.check(caller, Operation::Create, scope).await?;
                let batch = credentials
                    .into_iter()
                    .map(|(location, credential)| {
                        RegistryCredential::new(scope.clone(), location, credential)
                    })
                    .collect();
                gate.store_result(self.store.create_all(batch).await).await
            }
            .await,
        )
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
        let traced = Traced::new("update", caller, scope, Some(location));
        traced.done(
            async {
                let gate = self.gate();
                gate.check(caller, Operation::Update, scope).await?;
                gate.store_result(
                    self.store
                        .update(scope.as_scope_ref(), location, update)
                        .await,
                )
                .await
            }
            .await,
        )
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
        let traced = Traced::new("delete", caller, scope, Some(location));
        traced.done(
            async {
                let gate = self.gate();
                gate.check(caller, Operation::Delete, scope).await?;
                gate.store_result(self.store.delete(scope.as_scope_ref(), location).await)
                    .await
            }
            .await,
        )
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

    /// [`Manager::delete_org`](super::Manager::delete_org), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::delete_org`](super::Manager::delete_org).
    pub async fn delete_org(
        &self,
        caller: &UserId,
        org: &OrgId,
    ) -> Result<Vec<Arc<RegistryCredential>>, ManageError> {
        self.delete_entry(caller, Scope::Org(org.clone())).await
    }

    /// [`Manager::delete_space`](super::Manager::delete_space), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::delete_org`](super::Manager::delete_org).
    pub async fn delete_space(
        &self,
        caller: &UserId,
        space: &SpaceId,
    ) -> Result<Vec<Arc<RegistryCredential>>, ManageError> {
        self.delete_entry(caller, Scope::Space(space.clone())).await
    }

    /// [`Manager::delete_app`](super::Manager::delete_app), async.
    ///
    /// # Errors
    ///
    /// As [`Manager::delete_org`](super::Manager::delete_org).
    pub async fn delete_app(
        &self,
        caller: &UserId,
        app: &AppId,
    ) -> Result<Vec<Arc<RegistryCredential>>, ManageError> {
        self.delete_entry(caller, Scope::App(app.clone())).await
    }

    async fn delete_entry(
        &self,
        caller: &UserId,
        what: Scope,
    ) -> Result<Vec<Arc<RegistryCredential>>, ManageError> {
        let gate = self.gate();
        let mut deleted = Vec::new();
        for scope in gate.deletion(caller, &what).await? {
            deleted.extend(
                self.store
                    .delete_scope(scope.as_scope_ref())
                    .await
                    .map_err(ManageError::Store)?,
            );
        }
        gate.remove(&what).await?;
        Ok(deleted)
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

impl<S: AsyncCredentialStore, D: AsyncDirectoryWriter> StagedPush<'_, AsyncManager<S, D>> {
    /// [`StagedPush::started`] for an [`AsyncManager`]: checks the caller's
    /// roles again, then replaces the app's credentials in one step of the
    /// store (R19).
    ///
    /// # Errors
    ///
    /// [`ManageError::Permission`] or [`ManageError::Store`]; nothing
    /// changed, unless the store lost the answer to the replacement
    /// ([`ManageError::is_outcome_unknown`]).
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
                let done = match kept {
                    Some((location, credential)) => Some(
                        m.store
                            .replace_app_credential(self.app.id(), location, credential)
                            .await
                            .map_err(ManageError::Store)?,
                    ),
                    None => None,
                };
                Ok(self.started_with(done))
            }
            .await,
        )
    }
}
