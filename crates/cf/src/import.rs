//! Importing Docker, Podman and Kubernetes credential files through the
//! management API (feature `import`): `registry-credentials-interop`'s
//! [`ImportTarget`] for [`AsyncManager`], and for [`Manager`] through the
//! async manager it drives, so that its `apply::import_into` and
//! `apply::import_into_async` check access with [`Manager::check_access`]
//! (R20), conflicts against the scope's listing, and create with
//! [`Manager::create_all`] (R16), all entries in one step of the store.
//! App scope is refused: app credentials come from pushes only (R19).
//!
//! ```
//! use registry_credentials::scope::UserId;
//! use registry_credentials::{MemoryStore, Scope};
//! use registry_credentials_cf::access::GlobalRole;
//! use registry_credentials_cf::directory::{DirectoryWriter, MemoryDirectory};
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
use registry_credentials::store::{AsyncCredentialStore, BoxFuture, CredentialStore, InlineStore};
use registry_credentials::{Credential, Location, Scope};
use registry_credentials_interop::apply::ImportTarget;

use crate::access::Operation;
use crate::directory::{AsyncDirectoryWriter, DirectoryWriter, InlineDirectory};
use crate::listing::Target;
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

impl<S: AsyncCredentialStore, D: AsyncDirectoryWriter> ImportTarget for AsyncManager<S, D> {
    type Error = ManageError;

    fn check_create<'a>(
        &'a self,
        caller: &'a UserId,
        scope: &'a Scope,
    ) -> BoxFuture<'a, Result<(), ManageError>> {
        Box::pin(async move {
            target_of(scope)?;
            self.check_access(caller, Operation::Create, scope).await
        })
    }

    /// The locations the scope's listing shows at the scope itself.
    fn held<'a>(
        &'a self,
        caller: &'a UserId,
        scope: &'a Scope,
    ) -> BoxFuture<'a, Result<BTreeSet<Location>, ManageError>> {
        Box::pin(async move {
            let listing = self.list(caller, &target_of(scope)?).await?;
            Ok(listing
                .rows()
                .iter()
                .filter(|r| r.scope == scope.kind())
                .map(|r| r.location.clone())
                .collect())
        })
    }

    fn create_all<'a>(
        &'a self,
        caller: &'a UserId,
        scope: &'a Scope,
        batch: Vec<(Location, Credential)>,
    ) -> BoxFuture<'a, Result<(), ManageError>> {
        Box::pin(async move {
            AsyncManager::create_all(self, caller, scope, batch)
                .await
                .map(drop)
        })
    }

    fn conflict_at(error: &ManageError) -> Option<(Location, String)> {
        match error {
            ManageError::Conflict { at, location } => Some((location.clone(), at.clone())),
            _ => None,
        }
    }

    fn outcome_unknown(error: &ManageError) -> bool {
        error.is_outcome_unknown()
    }
}

/// A `Manager` imports through the async manager it drives: its futures
/// never pend, so `import_into` runs them at once.
#[rustfmt::skip]
impl<S: CredentialStore, D: DirectoryWriter> ImportTarget for Manager<S, D> {
    type Error = ManageError;

    fn check_create<'a>(&'a self, caller: &'a UserId, scope: &'a Scope) -> BoxFuture<'a, Result<(), ManageError>> {
        self.as_async().check_create(caller, scope)
    }

    fn held<'a>(&'a self, caller: &'a UserId, scope: &'a Scope) -> BoxFuture<'a, Result<BTreeSet<Location>, ManageError>> {
        self.as_async().held(caller, scope)
    }

    fn create_all<'a>(&'a self, caller: &'a UserId, scope: &'a Scope, batch: Vec<(Location, Credential)>) -> BoxFuture<'a, Result<(), ManageError>> {
        ImportTarget::create_all(self.as_async(), caller, scope, batch)
    }

    fn conflict_at(error: &ManageError) -> Option<(Location, String)> {
        AsyncManager::<InlineStore<S>, InlineDirectory<D>>::conflict_at(error)
    }

    fn outcome_unknown(error: &ManageError) -> bool {
        error.is_outcome_unknown()
    }
}
