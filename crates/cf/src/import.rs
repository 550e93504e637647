//! Importing Docker, Podman and Kubernetes credential files through the
//! management API (feature `import`): `registry-credentials-interop`'s
//! [`ImportTarget`] for [`Manager`] and [`AsyncImportTarget`] for
//! [`AsyncManager`], so that its `apply::import_into` and
//! `apply::import_into_async` check access with [`Manager::check_access`]
//! (R20), conflicts against the scope's listing, and create with
//! [`Manager::create`] (R16), like a credential created by hand. App scope
//! is refused: app credentials come from pushes only (R19).
//!
//! ```
//! use registry_credentials::scope::UserId;
//! use registry_credentials::{MemoryStore, Scope};
//! use registry_credentials_cf::access::GlobalRole;
//! use registry_credentials_cf::directory::{Directory, MemoryDirectory};
//! use registry_credentials_cf::manage::Manager;
//! use registry_credentials_interop::apply::{import_into, Policy};
//! use registry_credentials_interop::import::read;
//!
//! let m = Manager::new(MemoryStore::new(), MemoryDirectory::new());
//! let admin = UserId::new("admin")?;
//! m.directory().grant_global(admin.clone(), GlobalRole::Admin)?;
//! let file = br#"{"auths": {"quay.io/org": {"username": "robot", "password": "pw"}}}"#;
//! let report = import_into(&m, &admin, &Scope::Foundation, read(file)?, Policy::AllOrNothing)?;
//! assert_eq!(report.imported(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeSet;

use registry_credentials::scope::UserId;
use registry_credentials::store::{AsyncCredentialStore, BoxFuture, CredentialStore};
use registry_credentials::{Location, RegistryCredential, Scope, ScopeKind};
use registry_credentials_interop::apply::{AsyncImportTarget, ImportTarget};

use crate::access::Operation;
use crate::directory::Directory;
use crate::listing::{Listing, Target};
use crate::manage::{AsyncManager, ManageError, Manager};

/// The listing target that shows `scope`'s own credentials; app scope is
/// refused (R19).
fn target_of(scope: &Scope) -> Result<Target, ManageError> {
    Ok(match scope {
        Scope::Foundation => Target::Foundation,
        Scope::Org(org) => Target::Org(org.clone()),
        Scope::Space(space) => Target::Space(space.clone()),
        Scope::App(_) => return Err(ManageError::AppCredentialByPush),
    })
}

/// The locations a listing shows at scopes of `kind`: for the target of
/// one scope, that scope's own.
fn held_in(listing: &Listing, kind: ScopeKind) -> BTreeSet<Location> {
    listing
        .rows()
        .iter()
        .filter(|r| r.scope == kind)
        .map(|r| r.location.clone())
        .collect()
}

fn conflict_at(error: &ManageError) -> Option<String> {
    match error {
        ManageError::Conflict { at, .. } => Some(at.clone()),
        _ => None,
    }
}

impl<S: CredentialStore, D: Directory> ImportTarget for Manager<S, D> {
    type Error = ManageError;

    fn check_create(&self, caller: &UserId, scope: &Scope) -> Result<(), ManageError> {
        target_of(scope)?;
        self.check_access(caller, Operation::Create, scope)
    }

    fn held(&self, caller: &UserId, scope: &Scope) -> Result<BTreeSet<Location>, ManageError> {
        let listing = self.list(caller, &target_of(scope)?)?;
        Ok(held_in(&listing, scope.kind()))
    }

    fn create(&self, caller: &UserId, credential: RegistryCredential) -> Result<(), ManageError> {
        Manager::create(self, caller, credential).map(|_| ())
    }

    fn delete(
        &self,
        caller: &UserId,
        scope: &Scope,
        location: &Location,
    ) -> Result<(), ManageError> {
        Manager::delete(self, caller, scope, location).map(|_| ())
    }

    fn conflict_at(error: &ManageError) -> Option<String> {
        conflict_at(error)
    }
}

impl<S: AsyncCredentialStore, D: Directory> AsyncImportTarget for AsyncManager<S, D> {
    type Error = ManageError;

    fn check_create<'a>(
        &'a self,
        caller: &'a UserId,
        scope: &'a Scope,
    ) -> BoxFuture<'a, Result<(), ManageError>> {
        Box::pin(async move {
            target_of(scope)?;
            self.check_access(caller, Operation::Create, scope)
        })
    }

    fn held<'a>(
        &'a self,
        caller: &'a UserId,
        scope: &'a Scope,
    ) -> BoxFuture<'a, Result<BTreeSet<Location>, ManageError>> {
        Box::pin(async move {
            let listing = self.list(caller, &target_of(scope)?).await?;
            Ok(held_in(&listing, scope.kind()))
        })
    }

    fn create<'a>(
        &'a self,
        caller: &'a UserId,
        credential: RegistryCredential,
    ) -> BoxFuture<'a, Result<(), ManageError>> {
        Box::pin(async move {
            AsyncManager::create(self, caller, credential)
                .await
                .map(|_| ())
        })
    }

    fn delete<'a>(
        &'a self,
        caller: &'a UserId,
        scope: &'a Scope,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<(), ManageError>> {
        Box::pin(async move {
            AsyncManager::delete(self, caller, scope, location)
                .await
                .map(|_| ())
        })
    }

    fn conflict_at(error: &ManageError) -> Option<String> {
        conflict_at(error)
    }
}
