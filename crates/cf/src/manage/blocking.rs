//! [`Manager`]: management over a sync store.

use std::sync::Arc;

use registry_credentials::credential::{Credential, CredentialUpdate};
use registry_credentials::scope::{AppId, OrgId, SpaceId, UserId};
use registry_credentials::store::CredentialStore;
use registry_credentials::{Location, Reference, RegistryCredential, Scope, ScopeKind, resolve};

use super::{Chosen, Gate, ManageError, StagedPush, Started, Traced, rows_of};
use crate::access::{Operation, OrgRole, SpaceRole};
use crate::directory::{Directory, DirectoryError, MemoryDirectory, Name};
use crate::listing::{Listing, Target};

/// Credentials over a sync store `S`, with the platform's directory `D`,
/// and the access rules (R16–R21) applied to every call. Every call takes
/// `&self`: share one manager between threads (both parts are `Sync`).
#[derive(Debug, Clone)]
pub struct Manager<S, D = MemoryDirectory> {
    store: S,
    directory: D,
}

/// The directory calls of both fronts: they touch no store.
macro_rules! directory_calls {
    () => {
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

        /// The roles of `user`.
        ///
        /// # Errors
        ///
        /// [`ManageError::Directory`] when the directory fails.
        pub fn roles(&self, user: &UserId) -> Result<crate::access::Roles, ManageError> {
            self.gate().roles(user)
        }

        /// Whether `caller` may do `operation` at `scope`, without doing it:
        /// for a front end that asks for a password only when the call can
        /// go through. The calls themselves check again.
        ///
        /// # Errors
        ///
        /// [`ManageError::Unknown`] for a scope not in the directory,
        /// [`ManageError::Permission`] when the caller's roles do not allow
        /// it.
        pub fn check_access(
            &self,
            caller: &UserId,
            operation: Operation,
            scope: &Scope,
        ) -> Result<(), ManageError> {
            self.gate().check(caller, operation, scope).map(|_| ())
        }

        /// The organization called `name`, if `caller` may know of it:
        /// those who see everything and its members. To anyone else it does
        /// not exist, as in cf.
        ///
        /// # Errors
        ///
        /// [`ManageError::Unknown`].
        pub fn find_org(&self, caller: &UserId, name: &str) -> Result<OrgId, ManageError> {
            self.gate().find_org(caller, name)
        }

        /// The space of `org` called `name`, if `caller` may know of `org`.
        ///
        /// # Errors
        ///
        /// [`ManageError::Unknown`].
        pub fn find_space(
            &self,
            caller: &UserId,
            org: &OrgId,
            name: &str,
        ) -> Result<SpaceId, ManageError> {
            self.gate().find_space(caller, org, name)
        }

        /// The app of `space` called `name`, if `caller` may know of the
        /// space's organization.
        ///
        /// # Errors
        ///
        /// [`ManageError::Unknown`].
        pub fn find_app(
            &self,
            caller: &UserId,
            space: &SpaceId,
            name: &str,
        ) -> Result<AppId, ManageError> {
            self.gate().find_app(caller, space, name)
        }

        /// Creates an organization called `name` and returns its new id, a
        /// random GUID (R13: ids are never reused). Admin only.
        ///
        /// # Errors
        ///
        /// [`ManageError::Permission`], or [`ManageError::Directory`] when
        /// the name is taken.
        pub fn create_org(&self, caller: &UserId, name: Name) -> Result<OrgId, ManageError> {
            self.gate().create_org(caller, name)
        }

        /// Creates a space called `name` in `org` and returns its new id, a
        /// random GUID. Admin, or an Org Manager of `org`.
        ///
        /// # Errors
        ///
        /// [`ManageError::Unknown`], [`ManageError::Permission`], or
        /// [`ManageError::Directory`] when the name is taken.
        pub fn create_space(
            &self,
            caller: &UserId,
            org: &OrgId,
            name: Name,
        ) -> Result<SpaceId, ManageError> {
            self.gate().create_space(caller, org, name)
        }

        /// Gives `user` a role in `org`. Admin, or an Org Manager of `org`.
        ///
        /// # Errors
        ///
        /// [`ManageError::Unknown`] or [`ManageError::Permission`].
        pub fn set_org_role(
            &self,
            caller: &UserId,
            user: UserId,
            org: &OrgId,
            role: OrgRole,
        ) -> Result<(), ManageError> {
            self.gate().set_org_role(caller, user, org, role)
        }

        /// Gives `user` a role in `space`, which makes the user an Org User
        /// of its organization too (R21). Admin, an Org Manager of the
        /// organization, or a Space Manager of the space.
        ///
        /// # Errors
        ///
        /// [`ManageError::Unknown`] or [`ManageError::Permission`].
        pub fn set_space_role(
            &self,
            caller: &UserId,
            user: UserId,
            space: &SpaceId,
            role: SpaceRole,
        ) -> Result<(), ManageError> {
            self.gate().set_space_role(caller, user, space, role)
        }

        /// Whether `caller` may push the app called `app` to `space` (R20:
        /// Admin, or a Space Developer of the space), without pushing: for
        /// a front end that asks for a password only when the push can go
        /// on.
        ///
        /// # Errors
        ///
        /// [`ManageError::Unknown`] or [`ManageError::Permission`], as
        /// `stage` would fail.
        pub fn check_push(
            &self,
            caller: &UserId,
            space: &SpaceId,
            app: &Name,
        ) -> Result<(), ManageError> {
            self.gate().push_target(caller, space, app).map(|_| ())
        }

        fn gate(&self) -> Gate<'_, D> {
            Gate::new(&self.directory)
        }
    };
}

pub(super) use directory_calls;

impl<S: CredentialStore, D: Directory> Manager<S, D> {
    /// A manager over `store` and `directory`. Give someone the Admin role
    /// through [`directory`](Self::directory) to begin.
    pub fn new(store: S, directory: D) -> Self {
        Manager { store, directory }
    }

    directory_calls!();

    /// Stores a new credential at foundation, organization or space scope
    /// (R16), if `caller` may change that scope (R20).
    ///
    /// # Errors
    ///
    /// [`ManageError::AppCredentialByPush`] for app scope (R19),
    /// [`ManageError::Unknown`] for a scope not in the directory,
    /// [`ManageError::Permission`], [`ManageError::Conflict`] when the
    /// location is taken at that scope, [`ManageError::Store`].
    pub fn create(
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
        traced.done((|| {
            if credential.scope().kind() == ScopeKind::App {
                return Err(ManageError::AppCredentialByPush);
            }
            let gate = self.gate();
            gate.check(caller, Operation::Create, credential.scope())?;
            self.store
                .create(credential)
                .map_err(|e| gate.store_error(e))
        })())
    }

    /// Changes the username, password or both of the credential for
    /// `location` at `scope` (R17), if `caller` may change that scope
    /// (R20). The location never changes.
    ///
    /// # Errors
    ///
    /// [`ManageError::Unknown`], [`ManageError::Permission`],
    /// [`ManageError::NotFound`], [`ManageError::Store`].
    pub fn update(
        &self,
        caller: &UserId,
        scope: &Scope,
        location: &Location,
        update: CredentialUpdate,
    ) -> Result<Arc<RegistryCredential>, ManageError> {
        let traced = Traced::new("update", caller, scope, Some(location));
        traced.done((|| {
            let gate = self.gate();
            gate.check(caller, Operation::Update, scope)?;
            self.store
                .update(scope.as_ref(), location, update)
                .map_err(|e| gate.store_error(e))
        })())
    }

    /// Deletes the credential for `location` at `scope` (R18); an app
    /// credential is named by `Scope::App(app)`. Only if `caller` may
    /// change that scope (R20).
    ///
    /// # Errors
    ///
    /// [`ManageError::Unknown`], [`ManageError::Permission`],
    /// [`ManageError::NotFound`], [`ManageError::Store`].
    pub fn delete(
        &self,
        caller: &UserId,
        scope: &Scope,
        location: &Location,
    ) -> Result<Arc<RegistryCredential>, ManageError> {
        let traced = Traced::new("delete", caller, scope, Some(location));
        traced.done((|| {
            let gate = self.gate();
            gate.check(caller, Operation::Delete, scope)?;
            self.store
                .delete(scope.as_ref(), location)
                .map_err(|e| gate.store_error(e))
        })())
    }

    /// The credentials available to `target` that `caller` may see (R21),
    /// in R21's order. What the caller may not see is left out without a
    /// trace: a listing looks the same whether or not it exists.
    ///
    /// # Errors
    ///
    /// [`ManageError::Unknown`] for a target not in the directory,
    /// [`ManageError::Store`].
    pub fn list(&self, caller: &UserId, target: &Target) -> Result<Listing, ManageError> {
        let mut rows = Vec::new();
        for (scope, app_name) in self.gate().listing_scopes(caller, target)? {
            let found = self
                .store
                .list(scope.as_ref())
                .map_err(ManageError::Store)?;
            rows.extend(rows_of(&scope, app_name.as_ref(), found));
        }
        Ok(Listing::new(rows))
    }

    /// Deletes the organization `org` with its spaces and apps, and every
    /// credential stored at any of them (R13): nothing created later can
    /// inherit them, and the ids are never used again. Admin only.
    ///
    /// The credentials go first, then the directory's entries: over a
    /// store and directory that share a transaction (the `sqlite`
    /// feature's `SqliteTransaction` and `SqliteDirectory`) the whole
    /// deletion is one step; otherwise a failure part-way leaves entries
    /// without some of their credentials, never credentials without their
    /// entry.
    ///
    /// Returns the credentials deleted.
    ///
    /// # Errors
    ///
    /// [`ManageError::Unknown`], [`ManageError::Permission`],
    /// [`ManageError::Store`], [`ManageError::Directory`].
    pub fn delete_org(
        &self,
        caller: &UserId,
        org: &OrgId,
    ) -> Result<Vec<Arc<RegistryCredential>>, ManageError> {
        self.delete_entry(caller, Scope::Org(org.clone()))
    }

    /// Deletes the space `space` with its apps and every credential stored
    /// at them (R13), as [`delete_org`](Self::delete_org) does. Admin, or
    /// an Org Manager of its organization.
    ///
    /// # Errors
    ///
    /// As [`delete_org`](Self::delete_org).
    pub fn delete_space(
        &self,
        caller: &UserId,
        space: &SpaceId,
    ) -> Result<Vec<Arc<RegistryCredential>>, ManageError> {
        self.delete_entry(caller, Scope::Space(space.clone()))
    }

    /// Deletes the app `app` and its credentials (R13), as
    /// [`delete_org`](Self::delete_org) does. Admin, or a Space Developer
    /// of its space.
    ///
    /// # Errors
    ///
    /// As [`delete_org`](Self::delete_org).
    pub fn delete_app(
        &self,
        caller: &UserId,
        app: &AppId,
    ) -> Result<Vec<Arc<RegistryCredential>>, ManageError> {
        self.delete_entry(caller, Scope::App(app.clone()))
    }

    fn delete_entry(
        &self,
        caller: &UserId,
        what: Scope,
    ) -> Result<Vec<Arc<RegistryCredential>>, ManageError> {
        let gate = self.gate();
        let mut deleted = Vec::new();
        for scope in gate.deletion(caller, &what)? {
            deleted.extend(
                self.store
                    .delete_scope(scope.as_ref())
                    .map_err(ManageError::Store)?,
            );
        }
        gate.remove(&what)?;
        Ok(deleted)
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
    pub fn stage(
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
            let (the_app, new) = self.gate().push_target(caller, space, app)?;
            let chosen = match &given {
                Some(credential) => Gate::<D>::given(&image, credential.clone()),
                None => match resolve(&self.store, &the_app, &image).map_err(ManageError::Store)? {
                    Some(r) => Chosen::Stored(r),
                    None => Chosen::None,
                },
            };
            if new {
                match self
                    .directory
                    .add_app(the_app.id().clone(), space, app.clone())
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

impl<S: CredentialStore, D: Directory> StagedPush<'_, Manager<S, D>> {
    /// The app started: keep the credentials given with the push as the
    /// app's credential for the image's most specific candidate location.
    /// They replace all of the app's credentials in one step of the store
    /// (R19): the one at that location and any the app had at other
    /// locations, so an app holds one pair, as in cf, and two pushes
    /// starting at once leave exactly one.
    ///
    /// The caller's right to push is checked again first: a role taken
    /// away between staging and start stops the push from storing.
    ///
    /// # Errors
    ///
    /// [`ManageError::Permission`] when the caller may no longer push
    /// there, [`ManageError::Store`] when the store fails; either way
    /// nothing changed.
    pub fn started(self) -> Result<Started, ManageError> {
        let kept = self.keep();
        let traced = Traced::new(
            "push-start",
            &self.caller,
            &Scope::App(self.app.id().clone()),
            kept.as_ref().map(|(location, _)| location),
        );
        traced.done((|| {
            let m = self.manager;
            m.gate()
                .check_push(&self.caller, &self.app, &self.app_name)?;
            let done = match kept {
                Some((location, credential)) => Some(
                    m.store
                        .replace_app_credential(self.app.id(), location, credential)
                        .map_err(ManageError::Store)?,
                ),
                None => None,
            };
            Ok(self.started_with(done))
        })())
    }
}
