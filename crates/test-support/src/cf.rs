//! [`World`]: a Cloud Foundry manager set up as most management tests
//! need it, for sync ([`Manager`]) and async ([`AsyncManager`]) callers.

use std::sync::Arc;

use registry_credentials::scope::{OrgId, SpaceId, UserId};
use registry_credentials::store::{AsyncCredentialStore, block_on_ready};
use registry_credentials::{Credential, CredentialStore, RegistryCredential, Scope};
use registry_credentials_cf::access::{GlobalRole, OrgRole, SpaceRole};
use registry_credentials_cf::directory::{
    AsyncDirectoryWriter, DirectoryWriter, MemoryDirectory, Name,
};
use registry_credentials_cf::manage::{AsyncManager, Manager, StagedPush};

/// A manager `M` ([`Manager`] or [`AsyncManager`]) holding one
/// organization `o` with one space `s`, an `admin` (global Admin, R20)
/// and a `dev` (Space Developer of `s`).
pub struct World<M> {
    /// The manager under test.
    pub m: M,
    /// User `admin`, a global Admin.
    pub admin: UserId,
    /// User `dev`, a Space Developer of [`space`](Self::space).
    pub dev: UserId,
    /// Organization `o`.
    pub org: OrgId,
    /// Space `s` of [`org`](Self::org).
    pub space: SpaceId,
}

impl<M> World<M> {
    /// Sets up `m` as [`World`] describes it, through `inner`, its async
    /// form: the one set-up of both ([`Manager::as_async`] for a
    /// [`Manager`], the manager itself for an [`AsyncManager`]).
    async fn set_up<S, D>(m: M, inner: impl Fn(&M) -> &AsyncManager<S, D>) -> Self
    where
        S: AsyncCredentialStore,
        D: AsyncDirectoryWriter,
    {
        let a = inner(&m);
        let admin = UserId::new("admin").unwrap();
        a.directory()
            .grant_global(admin.clone(), GlobalRole::Admin)
            .await
            .unwrap();
        let org = a.create_org(&admin, name("o")).await.unwrap();
        let space = a.create_space(&admin, &org, name("s")).await.unwrap();
        let dev = UserId::new("dev").unwrap();
        a.set_space_role(&admin, dev.clone(), &space, SpaceRole::Developer)
            .await
            .unwrap();
        World {
            m,
            admin,
            dev,
            org,
            space,
        }
    }
}

impl<S: CredentialStore> World<Manager<S>> {
    /// The world over `store` and a new [`MemoryDirectory`].
    ///
    /// # Panics
    ///
    /// When the manager refuses to set it up.
    pub fn new(store: S) -> Self {
        Self::over(store, MemoryDirectory::new())
    }
}

impl<S: CredentialStore, D: DirectoryWriter> World<Manager<S, D>> {
    /// The world over `store` and `directory`, both empty.
    ///
    /// # Panics
    ///
    /// When the manager refuses to set it up (a store or directory that
    /// fails, or one that already holds `o`).
    pub fn over(store: S, directory: D) -> Self {
        block_on_ready(Self::set_up(
            Manager::new(store, directory),
            Manager::as_async,
        ))
    }

    /// A new space `space` of [`org`](Self::org), made by the admin.
    ///
    /// # Panics
    ///
    /// When the manager refuses it (the name is taken).
    pub fn add_space(&self, space: &str) -> SpaceId {
        self.m
            .create_space(&self.admin, &self.org, name(space))
            .unwrap()
    }

    /// A new user `id`, given `role` in `space` by the admin.
    ///
    /// # Panics
    ///
    /// When `id` is no user id or the manager refuses the grant.
    pub fn user(&self, id: &str, space: &SpaceId, role: SpaceRole) -> UserId {
        let user = UserId::new(id).unwrap();
        self.m
            .set_space_role(&self.admin, user.clone(), space, role)
            .unwrap();
        user
    }

    /// A new user `id`, given `role` in [`org`](Self::org) by the admin.
    ///
    /// # Panics
    ///
    /// When `id` is no user id or the manager refuses the grant.
    pub fn org_user(&self, id: &str, role: OrgRole) -> UserId {
        let user = UserId::new(id).unwrap();
        self.m
            .set_org_role(&self.admin, user.clone(), &self.org, role)
            .unwrap();
        user
    }

    /// The admin creates a credential for `location` at `scope`: user
    /// `user`, password `password`.
    ///
    /// # Panics
    ///
    /// When the manager refuses it.
    pub fn store(
        &self,
        scope: Scope,
        location: &str,
        user: &str,
        password: &str,
    ) -> Arc<RegistryCredential> {
        let credential = RegistryCredential::new(
            scope,
            location.parse().unwrap(),
            Credential::new(user, password).unwrap(),
        );
        self.m.create(&self.admin, credential).unwrap()
    }

    /// `dev` stages a push of app `app` in [`space`](Self::space) with
    /// `image`, and the credentials `given` with it if any.
    ///
    /// # Panics
    ///
    /// When `image` is no reference or the manager refuses the push.
    pub fn push(
        &self,
        app: &str,
        image: &str,
        given: Option<Credential>,
    ) -> StagedPush<'_, Manager<S, D>> {
        let image = image.parse().unwrap();
        (self
            .m
            .stage(&self.dev, &self.space, &name(app), image, given))
        .unwrap()
    }
}

impl<S: AsyncCredentialStore, D: AsyncDirectoryWriter> World<AsyncManager<S, D>> {
    /// The world over `store` and `directory`, both empty, for async
    /// callers.
    ///
    /// # Panics
    ///
    /// As [`World::over`].
    pub async fn over_async(store: S, directory: D) -> Self {
        Self::set_up(AsyncManager::new(store, directory), |m| m).await
    }

    /// [`World::push`], async.
    ///
    /// # Panics
    ///
    /// As [`World::push`].
    pub async fn push_async(
        &self,
        app: &str,
        image: &str,
        given: Option<Credential>,
    ) -> StagedPush<'_, AsyncManager<S, D>> {
        let (app, image) = (name(app), image.parse().unwrap());
        let staged = self.m.stage(&self.dev, &self.space, &app, image, given);
        staged.await.unwrap()
    }
}

/// `s` as a [`Name`].
///
/// # Panics
///
/// When `s` is no name (R16's characters).
pub fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}
