//! [`World`]: a Cloud Foundry manager set up as most management tests
//! need it.

use std::sync::Arc;

use registry_credentials::scope::{OrgId, SpaceId, UserId};
use registry_credentials::{Credential, CredentialStore, RegistryCredential, Scope};
use registry_credentials_cf::access::{GlobalRole, SpaceRole};
use registry_credentials_cf::directory::{DirectoryWriter, MemoryDirectory, Name};
use registry_credentials_cf::manage::{Manager, StagedPush};

/// A [`Manager`] holding one organization `o` with one space `s`, an
/// `admin` (global Admin, R20) and a `dev` (Space Developer of `s`).
pub struct World<S, D = MemoryDirectory> {
    /// The manager under test.
    pub m: Manager<S, D>,
    /// User `admin`, a global Admin.
    pub admin: UserId,
    /// User `dev`, a Space Developer of [`space`](Self::space).
    pub dev: UserId,
    /// Organization `o`.
    pub org: OrgId,
    /// Space `s` of [`org`](Self::org).
    pub space: SpaceId,
}

impl<S: CredentialStore> World<S> {
    /// The world over `store` and a new [`MemoryDirectory`].
    ///
    /// # Panics
    ///
    /// When the manager refuses to set it up.
    pub fn new(store: S) -> Self {
        Self::over(store, MemoryDirectory::new())
    }
}

impl<S: CredentialStore, D: DirectoryWriter> World<S, D> {
    /// The world over `store` and `directory`, both empty.
    ///
    /// # Panics
    ///
    /// When the manager refuses to set it up (a store or directory that
    /// fails, or one that already holds `o`).
    pub fn over(store: S, directory: D) -> Self {
        let m = Manager::new(store, directory);
        let admin = UserId::new("admin").unwrap();
        m.directory()
            .grant_global(admin.clone(), GlobalRole::Admin)
            .unwrap();
        let org = m.create_org(&admin, name("o")).unwrap();
        let space = m.create_space(&admin, &org, name("s")).unwrap();
        let dev = UserId::new("dev").unwrap();
        m.set_space_role(&admin, dev.clone(), &space, SpaceRole::Developer)
            .unwrap();
        World {
            m,
            admin,
            dev,
            org,
            space,
        }
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
        self.m
            .stage(
                &self.dev,
                &self.space,
                &name(app),
                image.parse().unwrap(),
                given,
            )
            .unwrap()
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
