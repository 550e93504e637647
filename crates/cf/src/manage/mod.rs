//! Managing credentials (R16–R21) over any store and any directory:
//! create, update, delete and list with access control, and pushes that
//! store an app's credential once the app has started.
//!
//! Every operation is written once, async, in [`AsyncManager`], over an
//! [`AsyncCredentialStore`] (PostgreSQL, or any store behind
//! `Arc<dyn AsyncCredentialStore>`). [`Manager`] is its sync front over a
//! [`CredentialStore`] (the in-memory store, SQLite): it drives the same
//! code over [`InlineStore`](registry_credentials::store::InlineStore),
//! whose futures never pend, with
//! [`block_on_ready`](registry_credentials::store::block_on_ready). Each
//! holds a store and a directory ([`DirectoryWriter`](crate::directory::DirectoryWriter)). Every call names its caller; the manager looks up the
//! caller's roles and the place of the scope in the directory, asks the
//! pure [`access`](crate::access::allows) rules, and only then reads or writes. A
//! call that is refused or fails changes nothing.
//!
//! Which apps a credential reaches (R29): `apps_using` lists the apps
//! whose next pull uses a stored credential, `dry_run` the apps a proposed
//! create, update or delete ([`Proposal`]) would move, before and after,
//! resolved over an [`Overlay`] of the store and the change; nothing is
//! written.
//!
//! ```
//! use registry_credentials::scope::UserId;
//! use registry_credentials::{Credential, MemoryStore, RegistryCredential, Scope};
//! use registry_credentials_cf::access::{GlobalRole, SpaceRole};
//! use registry_credentials_cf::directory::{DirectoryWriter, MemoryDirectory, Name};
//! use registry_credentials_cf::listing::Target;
//! use registry_credentials_cf::manage::{ManageError, Manager};
//!
//! let m = Manager::new(MemoryStore::new(), MemoryDirectory::new());
//! let admin = UserId::new("admin")?;
//! m.directory().grant_global(admin.clone(), GlobalRole::Admin)?;
//! let org = m.create_org(&admin, Name::new("myorg")?)?;
//! let space = m.create_space(&admin, &org, Name::new("myspace")?)?;
//! let dev = UserId::new("dev")?;
//! m.set_space_role(&admin, dev.clone(), &space, SpaceRole::Developer)?;
//!
//! // A Space Developer stores a space credential (R16, R20)…
//! m.create(&dev, RegistryCredential::new(
//!     Scope::Space(space.clone()),
//!     "registry.example.com".parse()?,
//!     Credential::new("space-user", "space-password")?,
//! ))?;
//! // …but not one for the organization.
//! let refused = m.create(&dev, RegistryCredential::new(
//!     Scope::Org(org.clone()),
//!     "registry.example.com".parse()?,
//!     Credential::new("org-user", "org-password")?,
//! ));
//! assert!(matches!(refused, Err(ManageError::Permission(_))));
//!
//! // A push without credentials uses the stored one (R14, R19).
//! let staged = m.stage(&dev, &space, &Name::new("myapp")?, "registry.example.com/repo/img".parse()?, None)?;
//! assert_eq!(staged.chosen().username().map(|u| u.as_str()), Some("space-user"));
//! staged.started()?;
//!
//! let listing = m.list(&dev, &Target::Space(space))?;
//! assert_eq!(listing.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

/// The calls the gate answers alone (directory look-ups and changes,
/// access checks; no store I/O), with their documentation, written once:
/// `with_gate_calls!(m)` hands the list to `m`, which makes the blocking
/// fronts of [`Manager`] or the async calls of [`AsyncManager`]. `=
/// method` names the gate's method when the call keeps only whether it
/// succeeded.
macro_rules! with_gate_calls {
    ($m:ident) => {
        $m! {
            /// The roles of `user`.
            ///
            /// # Errors
            ///
            /// [`ManageError::Directory`] when the directory fails.
            fn roles(user: &UserId) -> Roles;

            /// Whether `caller` may do `operation` at `scope`, without doing
            /// it: for a front end that asks for a password only when the call
            /// can go through. The calls themselves check again.
            ///
            /// # Errors
            ///
            /// [`ManageError::Unknown`] for a scope not in the directory,
            /// [`ManageError::Permission`] when the caller's roles do not
            /// allow it.
            fn check_access(caller: &UserId, operation: Operation, scope: &Scope) -> () = check;

            /// The organization called `name`, if `caller` may know of it:
            /// those who see everything and its members. To anyone else it
            /// does not exist, as in cf.
            ///
            /// # Errors
            ///
            /// [`ManageError::Unknown`].
            fn find_org(caller: &UserId, name: &str) -> OrgId;

            /// The space of `org` called `name`, if `caller` may know of `org`.
            ///
            /// # Errors
            ///
            /// [`ManageError::Unknown`].
            fn find_space(caller: &UserId, org: &OrgId, name: &str) -> SpaceId;

            /// The app of `space` called `name`, if `caller` may know of the
            /// space's organization.
            ///
            /// # Errors
            ///
            /// [`ManageError::Unknown`].
            fn find_app(caller: &UserId, space: &SpaceId, name: &str) -> AppId;

            /// Creates an organization called `name` and returns its new id, a
            /// random GUID (R13: ids are never reused). Admin only.
            ///
            /// # Errors
            ///
            /// [`ManageError::Permission`], or [`ManageError::Directory`] when
            /// the name is taken.
            fn create_org(caller: &UserId, name: Name) -> OrgId;

            /// Creates a space called `name` in `org` and returns its new id, a
            /// random GUID. Admin, or an Org Manager of `org`.
            ///
            /// # Errors
            ///
            /// [`ManageError::Unknown`], [`ManageError::Permission`], or
            /// [`ManageError::Directory`] when the name is taken.
            fn create_space(caller: &UserId, org: &OrgId, name: Name) -> SpaceId;

            /// Gives `user` a role in `org`. Admin, or an Org Manager of `org`.
            ///
            /// # Errors
            ///
            /// [`ManageError::Unknown`] or [`ManageError::Permission`].
            fn set_org_role(caller: &UserId, user: UserId, org: &OrgId, role: OrgRole) -> ();

            /// Gives `user` a role in `space`, which makes the user an Org User
            /// of its organization too (R21). Admin, an Org Manager of the
            /// organization, or a Space Manager of the space.
            ///
            /// # Errors
            ///
            /// [`ManageError::Unknown`] or [`ManageError::Permission`].
            fn set_space_role(caller: &UserId, user: UserId, space: &SpaceId, role: SpaceRole) -> ();

            /// Whether `caller` may push the app called `app` to `space` (R20:
            /// Admin, or a Space Developer of the space), without pushing: for
            /// a front end that asks for a password only when the push can go
            /// on.
            ///
            /// # Errors
            ///
            /// [`ManageError::Unknown`] or [`ManageError::Permission`], as
            /// `stage` would fail.
            fn check_push(caller: &UserId, space: &SpaceId, app: &Name) -> () = push_target;
        }
    };
}

mod asynchronous;
mod blocking;
mod reach;
mod removal;
mod resources;

use std::fmt;
use std::sync::Arc;

use registry_credentials::credential::{Credential, Username};
use registry_credentials::identity::Guid;
use registry_credentials::scope::{AppId, OrgId, SpaceId, UserId};
use registry_credentials::store::{AppCredentialReplaced, StoreError};
use registry_credentials::{
    App, Location, Reference, RegistryCredential, Resolution, Scope, ScopeKind,
};

pub use asynchronous::AsyncManager;
pub use blocking::Manager;
pub use reach::{AppRef, CredentialRef, Move, Overlay, Proposal, Stored};
#[cfg(feature = "postgres")]
pub(crate) use removal::remove_in_order;

use registry_credentials::store::audit::{Actor, AuditContext};

/// The actor of `caller`'s writes (R27): a user is known by its id.
pub(crate) fn actor(caller: &UserId) -> Actor {
    Actor::new(caller.as_str(), caller.as_str())
}

/// Who makes a write and where, as its audit events record it (R27).
pub(crate) fn audit_context(actor: Actor, place: &Place) -> AuditContext {
    let context = AuditContext::new(actor);
    match place {
        Place::Foundation => context,
        Place::Org(org) => context.in_organization(org.clone()),
        Place::Space(org, space) => context.in_organization(org.clone()).in_space(space.clone()),
        Place::App(app) => context
            .in_organization(app.org().clone())
            .in_space(app.space().clone()),
    }
}
pub use removal::{AsyncRemoval, Entry};
pub use resources::{Located, LocatedPage, Within};

use crate::access::{self, DirectoryAction, Operation, Roles, ScopePath};
use crate::directory::{AsyncDirectoryWriter, DirectoryError, Entity, Name, Place};
use crate::listing::Target;
#[cfg(doc)]
use registry_credentials::store::{AsyncCredentialStore, CredentialStore};

/// What a refused call tried to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refused {
    /// An operation on registry credentials (R20, R21).
    Credentials(Operation),
    /// A push of an app, which may store its credential (R19, R20).
    Push,
    /// Creating an organization.
    CreateOrg,
    /// Creating a space.
    CreateSpace,
    /// Giving a user a role in an organization.
    SetOrgRole,
    /// Giving a user a role in a space.
    SetSpaceRole,
    /// Deleting an organization.
    DeleteOrg,
    /// Deleting a space.
    DeleteSpace,
    /// Deleting an app.
    DeleteApp,
}

/// A refusal (R20): the caller's roles do not allow the call. Nothing
/// changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("user `{}` may not {action} {at}: {who_may}", user.as_str().escape_debug())]
pub struct PermissionError {
    user: UserId,
    refused: Refused,
    scope: Scope,
    action: String,
    at: String,
    who_may: &'static str,
}

impl PermissionError {
    /// The caller refused.
    pub fn user(&self) -> &UserId {
        &self.user
    }

    /// What it tried to do.
    pub fn refused(&self) -> Refused {
        self.refused
    }

    /// Where: the scope whose credentials it tried to change or see, the
    /// space it pushed to, or the organization or space it tried to shape
    /// (the foundation for creating an organization).
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
}

/// Why a management call failed. The call changed nothing, but for two
/// cases: the store lost the answer to a change
/// ([`is_outcome_unknown`](Self::is_outcome_unknown), R28), and a deletion
/// that failed part-way over a store and a directory that do not share a
/// transaction (see [`Manager::delete_org`]). No message holds a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManageError {
    /// The caller's roles do not allow the call (R20).
    #[error(transparent)]
    Permission(#[from] PermissionError),
    /// A credential already exists there (R16); it is unchanged.
    #[error(
        "a registry credential for `{location}` already exists for {at}; update or delete it instead"
    )]
    Conflict {
        /// The scope, in words.
        at: String,
        /// The location.
        location: Location,
    },
    /// No credential exists there (R17, R18).
    #[error(
        "no registry credential for `{location}` exists for {at}; check the location and the target"
    )]
    NotFound {
        /// The scope, in words.
        at: String,
        /// The location.
        location: Location,
    },
    /// The organization, space or app is not in the directory, or the
    /// caller may not know it exists.
    #[error("{what} `{}` not found", name.escape_debug())]
    Unknown {
        /// Organization, space or app.
        what: Entity,
        /// Its name or id, as given.
        name: String,
    },
    /// No stored credential has that GUID, or the caller may not see the
    /// one that has it (R21, R22): the two look the same, so a GUID never
    /// reveals what the caller may not see.
    #[error(
        "no registry credential with the GUID {guid} exists or is visible to you; list the registry credentials to find its GUID"
    )]
    GuidNotFound {
        /// The GUID asked for.
        guid: Guid,
    },
    /// Credentials are created at app scope by a push only (R16, R19).
    #[error(
        "app credentials are not created directly; push the app with a username and password to store one"
    )]
    AppCredentialByPush,
    /// The directory refused a change (a name already used), or failed.
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    /// The store failed, and changed nothing; or it lost the answer to
    /// the change, which may or may not have been made
    /// ([`StoreError::OutcomeUnknown`], R28: see
    /// [`is_outcome_unknown`](Self::is_outcome_unknown)).
    #[error(transparent)]
    Store(StoreError),
}

impl ManageError {
    /// True when the call may or may not have changed the store: the
    /// store lost the answer to the change (R28). Every other error
    /// changed nothing. Read the credentials to see which it was.
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, ManageError::Store(e) if e.is_outcome_unknown())
    }
}

/// The decisions of every management call: every directory look-up and access
/// check, and turning store errors into management errors. No store I/O.
struct Gate<'a, D: ?Sized> {
    directory: &'a D,
}

impl<'a, D: AsyncDirectoryWriter + ?Sized> Gate<'a, D> {
    fn new(directory: &'a D) -> Self {
        Gate { directory }
    }

    async fn roles(&self, user: &UserId) -> Result<Roles, ManageError> {
        Ok(self.directory.roles(user).await?)
    }

    /// The place of `scope`, or [`ManageError::Unknown`].
    async fn place(&self, scope: &Scope) -> Result<Place, ManageError> {
        self.directory
            .place(scope)
            .await?
            .ok_or_else(|| ManageError::Unknown {
                what: match scope.kind() {
                    ScopeKind::App => Entity::App,
                    ScopeKind::Space => Entity::Space,
                    ScopeKind::Org | ScopeKind::Foundation => Entity::Org,
                },
                name: scope.id().unwrap_or_default().to_owned(),
            })
    }

    fn refuse(
        &self,
        caller: &UserId,
        refused: Refused,
        scope: &Scope,
        action: String,
        at: String,
        who_may: &'static str,
    ) -> ManageError {
        ManageError::Permission(PermissionError {
            user: caller.clone(),
            refused,
            scope: scope.clone(),
            action,
            at,
            who_may,
        })
    }

    /// Whether `caller` may do `operation` at `scope`; its place if so.
    async fn check(
        &self,
        caller: &UserId,
        operation: Operation,
        scope: &Scope,
    ) -> Result<Place, ManageError> {
        let place = self.place(scope).await?;
        if access::allows(&self.roles(caller).await?, operation, place.as_path()) {
            Ok(place)
        } else {
            Err(self.refuse_credentials(caller, operation, scope).await?)
        }
    }

    /// The refusal of `operation` on credentials at `scope` (R20).
    async fn refuse_credentials(
        &self,
        caller: &UserId,
        operation: Operation,
        scope: &Scope,
    ) -> Result<ManageError, ManageError> {
        Ok(self.refuse(
            caller,
            Refused::Credentials(operation),
            scope,
            format!("{operation} registry credentials"),
            format!("for {}", self.directory.describe(scope).await?),
            access::who_may(operation, scope.kind()),
        ))
    }

    async fn administer(
        &self,
        caller: &UserId,
        action: DirectoryAction<'_>,
        refused: Refused,
        scope: &Scope,
    ) -> Result<(), ManageError> {
        if access::may_administer(&self.roles(caller).await?, action) {
            return Ok(());
        }
        let at = match scope {
            Scope::Foundation => String::new(),
            _ => format!("(in {})", self.directory.describe(scope).await?),
        };
        Err(self.refuse(
            caller,
            refused,
            scope,
            action.as_str().to_owned(),
            at,
            action.who_may(),
        ))
    }

    /// Whether `caller` may do `action` in the organization `org`, which
    /// must be in the directory.
    async fn administer_org(
        &self,
        caller: &UserId,
        org: &OrgId,
        action: DirectoryAction<'_>,
        refused: Refused,
    ) -> Result<(), ManageError> {
        let scope = Scope::Org(org.clone());
        self.place(&scope).await?;
        self.administer(caller, action, refused, &scope).await
    }

    async fn store_error(&self, e: StoreError) -> ManageError {
        match e {
            StoreError::Conflict { scope, location } => match self.directory.describe(&scope).await
            {
                Ok(at) => ManageError::Conflict { at, location },
                Err(d) => ManageError::Directory(d),
            },
            StoreError::NotFound { scope, location } => match self.directory.describe(&scope).await
            {
                Ok(at) => ManageError::NotFound { at, location },
                Err(d) => ManageError::Directory(d),
            },
            StoreError::GuidNotFound { guid } => ManageError::GuidNotFound { guid },
            other => ManageError::Store(other),
        }
    }

    /// A store's answer, its errors turned into management errors.
    async fn store_result<T>(&self, result: Result<T, StoreError>) -> Result<T, ManageError> {
        match result {
            Ok(value) => Ok(value),
            Err(e) => Err(self.store_error(e).await),
        }
    }

    /// What a look-up by name `found`, in the organization named beside
    /// it, if `caller` may know of that organization: those who see
    /// everything and its members (R21). To anyone else it does not exist,
    /// as in cf.
    async fn known<T>(
        &self,
        caller: &UserId,
        what: Entity,
        name: &str,
        found: Option<(OrgId, T)>,
    ) -> Result<T, ManageError> {
        let roles = self.roles(caller).await?;
        found
            .filter(|(org, _)| access::may_find_org(&roles, org))
            .map(|(_, found)| found)
            .ok_or_else(|| ManageError::Unknown {
                what,
                name: name.to_owned(),
            })
    }

    async fn find_org(&self, caller: &UserId, name: &str) -> Result<OrgId, ManageError> {
        let found = self.directory.org_by_name(name).await?;
        let found = found.map(|org| (org.clone(), org));
        self.known(caller, Entity::Org, name, found).await
    }

    async fn find_space(
        &self,
        caller: &UserId,
        org: &OrgId,
        name: &str,
    ) -> Result<SpaceId, ManageError> {
        let found = self.directory.space_by_name(org, name).await?;
        let found = found.map(|space| (org.clone(), space));
        self.known(caller, Entity::Space, name, found).await
    }

    async fn find_app(
        &self,
        caller: &UserId,
        space: &SpaceId,
        name: &str,
    ) -> Result<AppId, ManageError> {
        let org = self.directory.space(space).await?.map(|(org, _)| org);
        let found = self.directory.app_by_name(space, name).await?;
        self.known(caller, Entity::App, name, org.zip(found)).await
    }

    async fn create_org(&self, caller: &UserId, name: Name) -> Result<OrgId, ManageError> {
        self.administer(
            caller,
            DirectoryAction::CreateOrg,
            Refused::CreateOrg,
            &Scope::Foundation,
        )
        .await?;
        let id = OrgId::new(new_guid()).expect("a GUID is a valid id");
        self.directory.add_org(id.clone(), name).await?;
        Ok(id)
    }

    async fn create_space(
        &self,
        caller: &UserId,
        org: &OrgId,
        name: Name,
    ) -> Result<SpaceId, ManageError> {
        self.administer_org(
            caller,
            org,
            DirectoryAction::CreateSpace(org),
            Refused::CreateSpace,
        )
        .await?;
        let id = SpaceId::new(new_guid()).expect("a GUID is a valid id");
        self.directory.add_space(id.clone(), org, name).await?;
        Ok(id)
    }

    async fn set_org_role(
        &self,
        caller: &UserId,
        user: UserId,
        org: &OrgId,
        role: access::OrgRole,
    ) -> Result<(), ManageError> {
        self.administer_org(
            caller,
            org,
            DirectoryAction::SetOrgRole(org),
            Refused::SetOrgRole,
        )
        .await?;
        self.directory.grant_org(user, org, role).await?;
        Ok(())
    }

    async fn set_space_role(
        &self,
        caller: &UserId,
        user: UserId,
        space: &SpaceId,
        role: access::SpaceRole,
    ) -> Result<(), ManageError> {
        let scope = Scope::Space(space.clone());
        let Place::Space(org, _) = self.place(&scope).await? else {
            unreachable!("a space's place is a space")
        };
        self.administer(
            caller,
            DirectoryAction::SetSpaceRole(&org, space),
            Refused::SetSpaceRole,
            &scope,
        )
        .await?;
        self.directory.grant_space(user, space, role).await?;
        Ok(())
    }

    /// Whether `caller` may delete `what` (R20: an organization, Admin; a
    /// space, Admin or an Org Manager of its organization; an app, who
    /// may change its credentials).
    async fn check_deletion(&self, caller: &UserId, what: Entry<'_>) -> Result<(), ManageError> {
        let scope = what.scope();
        match self.place(&scope).await? {
            Place::Foundation => unreachable!("the place of an entry is not the foundation"),
            Place::Org(org) => {
                self.administer(
                    caller,
                    DirectoryAction::DeleteOrg(&org),
                    Refused::DeleteOrg,
                    &scope,
                )
                .await
            }
            Place::Space(org, _) => {
                self.administer(
                    caller,
                    DirectoryAction::DeleteSpace(&org),
                    Refused::DeleteSpace,
                    &scope,
                )
                .await
            }
            Place::App(app) => {
                if access::may_change(&self.roles(caller).await?, ScopePath::App(&app)) {
                    return Ok(());
                }
                let name = self
                    .directory
                    .app(app.id())
                    .await?
                    .map_or_else(|| app.id().to_string(), |(_, n)| n.to_string());
                let space = Scope::Space(app.space().clone());
                Err(self.refuse(
                    caller,
                    Refused::DeleteApp,
                    &scope,
                    format!("delete app `{}`", name.escape_debug()),
                    format!("in {}", self.directory.describe(&space).await?),
                    access::who_may(Operation::Delete, ScopeKind::App),
                ))
            }
        }
    }

    /// The scopes a listing for `target` reads, in R21's order, each with
    /// the app's name for an app scope; those `caller` may not see are left
    /// out without a trace (R21).
    async fn listing_scopes(
        &self,
        caller: &UserId,
        target: &Target,
    ) -> Result<Vec<(Scope, Option<Name>)>, ManageError> {
        let mut scopes: Vec<(Place, Scope, Option<Name>)> =
            vec![(Place::Foundation, Scope::Foundation, None)];
        match target {
            Target::Foundation => {}
            Target::Org(org) => {
                let scope = Scope::Org(org.clone());
                scopes.push((self.place(&scope).await?, scope, None));
            }
            Target::Space(space) => {
                let scope = Scope::Space(space.clone());
                let place = self.place(&scope).await?;
                let Place::Space(org, _) = &place else {
                    unreachable!("a space's place is a space")
                };
                scopes.push((Place::Org(org.clone()), Scope::Org(org.clone()), None));
                for (app, name) in self.directory.apps_in(space).await? {
                    let scope = Scope::App(app.id().clone());
                    scopes.push((Place::App(app), scope, Some(name)));
                }
                scopes.push((place, scope, None));
            }
        }
        let roles = self.roles(caller).await?;
        Ok(scopes
            .into_iter()
            .filter(|(place, _, _)| access::may_see(&roles, place.as_path()))
            .map(|(_, scope, name)| (scope, name))
            .collect())
    }

    /// The app a push of `app` to `space` would be (an existing one, or a
    /// new one with a fresh id) and whether it is new, if `caller` may push
    /// there.
    async fn push_target(
        &self,
        caller: &UserId,
        space: &SpaceId,
        app: &Name,
    ) -> Result<(App, bool), ManageError> {
        let space_scope = Scope::Space(space.clone());
        let Place::Space(org, _) = self.place(&space_scope).await? else {
            unreachable!("a space's place is a space")
        };
        let (id, new) = match self.directory.app_by_name(space, app.as_str()).await? {
            Some(id) => (id, false),
            None => (AppId::new(new_guid()).expect("a GUID is a valid id"), true),
        };
        let the_app = App::from_ids(org, space.clone(), id);
        self.check_push(caller, &the_app, app).await?;
        Ok((the_app, new))
    }

    /// Whether `caller` may push `app` (R20: Admin, or a Space Developer of
    /// its space).
    async fn check_push(&self, caller: &UserId, app: &App, name: &Name) -> Result<(), ManageError> {
        if access::may_change(&self.roles(caller).await?, ScopePath::App(app)) {
            return Ok(());
        }
        let space = Scope::Space(app.space().clone());
        Err(self.refuse(
            caller,
            Refused::Push,
            &space,
            format!("push app `{}`", name.as_str().escape_debug()),
            format!("to {}", self.directory.describe(&space).await?),
            access::who_may(Operation::Create, ScopeKind::App),
        ))
    }

    /// Staging's decision when the push brought credentials: use them, and
    /// keep them at the image's most specific candidate once started.
    fn given(image: &Reference, credential: Credential) -> Chosen {
        let first = image
            .candidates()
            .next()
            .expect("every reference has a candidate");
        // A location that cannot hold a credential (a public suffix, R9)
        // still lets the push use what it brought; it is just not kept.
        Chosen::Given {
            location: Location::parse(first.as_str()).ok(),
            credential,
        }
    }
}

/// A new random id in cf's form (a version 4 UUID), so that ids are never
/// reused (R13).
fn new_guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The credential a push's staging uses (R19, R14, R15).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Chosen {
    /// The username and password given with the push, ahead of every
    /// stored credential (R19). `location` is where they will be kept as
    /// the app's credential once it starts.
    Given {
        /// The image's most specific candidate location, where they will be
        /// kept; `None` when no credential can be stored there (its host is
        /// a public suffix, R9): then they serve this push alone.
        location: Option<Location>,
        /// The credential given.
        credential: Credential,
    },
    /// A stored credential, found by the precedence search (R14).
    Stored(Resolution),
    /// Nothing matched: the push goes on without credentials (R15).
    None,
}

impl Chosen {
    /// The credential to send to the registry, if any.
    pub fn credential(&self) -> Option<&Credential> {
        match self {
            Chosen::Given { credential, .. } => Some(credential),
            Chosen::Stored(r) => Some(r.credential()),
            Chosen::None => None,
        }
    }

    /// Its username.
    pub fn username(&self) -> Option<&Username> {
        self.credential().map(|c| c.username())
    }

    /// Its location.
    pub fn location(&self) -> Option<&Location> {
        match self {
            Chosen::Given { location, .. } => location.as_ref(),
            Chosen::Stored(r) => Some(r.location()),
            Chosen::None => None,
        }
    }

    /// Where it came from: the push, or the scope it is stored at; `None`
    /// when nothing matched.
    pub fn source(&self) -> Option<Source> {
        match self {
            Chosen::Given { .. } => Some(Source::Push),
            Chosen::Stored(r) => Some(Source::Stored(r.scope_kind())),
            Chosen::None => None,
        }
    }
}

/// Where a push's chosen credential came from ([`Chosen::source`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Source {
    /// Given with the push (R19).
    Push,
    /// Stored at a scope of that kind, found by the search (R14).
    Stored(ScopeKind),
}

impl Source {
    /// `push`, or the scope's kind as the listing writes it (`app`,
    /// `space`, `organization`, `foundation`).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Push => "push",
            Source::Stored(kind) => kind.as_str(),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A push that has staged: it knows which credential to pull with and has
/// stored nothing. It borrows the manager that staged it (`M` is a
/// [`Manager`] or an [`AsyncManager`]); `started` stores the app's
/// credential (if the push brought one) through that manager, after
/// checking the caller's roles again; dropping it, or
/// [`failed`](Self::failed), stores nothing (R19). Only `stage` makes one,
/// so a credential cannot be stored before staging, and only `started`
/// stores.
///
/// ```
/// use registry_credentials::scope::UserId;
/// use registry_credentials::{Credential, MemoryStore};
/// use registry_credentials_cf::access::GlobalRole;
/// use registry_credentials_cf::directory::{DirectoryWriter, MemoryDirectory, Name};
/// use registry_credentials_cf::manage::{Manager, Source};
///
/// let m = Manager::new(MemoryStore::new(), MemoryDirectory::new());
/// let admin = UserId::new("admin")?;
/// m.directory().grant_global(admin.clone(), GlobalRole::Admin)?;
/// let org = m.create_org(&admin, Name::new("o")?)?;
/// let space = m.create_space(&admin, &org, Name::new("s")?)?;
/// let given = Credential::new("me", "my-password")?;
/// let staged = m.stage(&admin, &space, &Name::new("app")?, "nginx".parse()?, Some(given))?;
/// assert_eq!(staged.chosen().source(), Some(Source::Push));
/// staged.failed(); // staging failed: nothing is stored (R19)
/// assert!(m.store().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A push that failed cannot be started afterwards; the same code with one
/// more line does not compile:
///
/// ```compile_fail
/// use registry_credentials::scope::UserId;
/// use registry_credentials::{Credential, MemoryStore};
/// use registry_credentials_cf::access::GlobalRole;
/// use registry_credentials_cf::directory::{DirectoryWriter, MemoryDirectory, Name};
/// use registry_credentials_cf::manage::Manager;
///
/// let m = Manager::new(MemoryStore::new(), MemoryDirectory::new());
/// let admin = UserId::new("admin")?;
/// m.directory().grant_global(admin.clone(), GlobalRole::Admin)?;
/// let org = m.create_org(&admin, Name::new("o")?)?;
/// let space = m.create_space(&admin, &org, Name::new("s")?)?;
/// let given = Credential::new("me", "my-password")?;
/// let staged = m.stage(&admin, &space, &Name::new("app")?, "nginx".parse()?, Some(given))?;
/// staged.failed(); // staging failed: nothing is stored (R19)
/// staged.started()?; // error[E0382]: use of moved value: `staged`
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "call `started` once the app has started, or `failed` if it did not"]
pub struct StagedPush<'m, M> {
    manager: &'m M,
    caller: UserId,
    app: App,
    app_name: Name,
    image: Reference,
    chosen: Chosen,
}

impl<M> fmt::Debug for StagedPush<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StagedPush")
            .field("caller", &self.caller)
            .field("app", &self.app)
            .field("app_name", &self.app_name)
            .field("image", &self.image)
            .field("chosen", &self.chosen)
            .finish_non_exhaustive()
    }
}

impl<M> StagedPush<'_, M> {
    /// The app pushed.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Its name.
    pub fn app_name(&self) -> &Name {
        &self.app_name
    }

    /// The image.
    pub fn image(&self) -> &Reference {
        &self.image
    }

    /// The credential staging pulls with.
    pub fn chosen(&self) -> &Chosen {
        &self.chosen
    }

    /// Staging or start failed: nothing is stored (R19). The same as
    /// dropping it, said out loud.
    pub fn failed(self) {}

    /// The same staged push, owned by `manager`: how [`Manager`]'s front
    /// hands out and starts the pushes its [`AsyncManager`] stages.
    fn rebind<N>(self, manager: &N) -> StagedPush<'_, N> {
        StagedPush {
            manager,
            caller: self.caller,
            app: self.app,
            app_name: self.app_name,
            image: self.image,
            chosen: self.chosen,
        }
    }

    /// What `started` will keep: the credentials given with the push and
    /// the location to keep them at, if they can be kept.
    fn keep(&self) -> Option<(Location, Credential)> {
        match &self.chosen {
            Chosen::Given {
                location: Some(location),
                credential,
            } => Some((location.clone(), credential.clone())),
            _ => None,
        }
    }

    fn started_with(&self, done: Option<AppCredentialReplaced>) -> Started {
        let (stored, replaced) = match done {
            Some(d) => (Some(d.stored), d.replaced),
            None => (None, Vec::new()),
        };
        Started {
            app: self.app.clone(),
            stored,
            replaced,
        }
    }
}

/// A push whose app started.
#[derive(Debug, Clone)]
pub struct Started {
    app: App,
    stored: Option<Arc<RegistryCredential>>,
    replaced: Vec<Arc<RegistryCredential>>,
}

impl Started {
    /// The app.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The app credential stored, when the push brought credentials.
    pub fn stored(&self) -> Option<&Arc<RegistryCredential>> {
        self.stored.as_ref()
    }

    /// The app credentials it replaced: the one at the same location first,
    /// if there was one, then any at other locations.
    pub fn replaced(&self) -> &[Arc<RegistryCredential>] {
        &self.replaced
    }
}

/// The event a management write leaves (feature `tracing`): operation,
/// caller, scope, location and outcome, at `info` when it succeeded and at
/// `warn` with the error (whose message never holds a password) when it
/// failed. Without the feature it holds nothing and does nothing.
#[must_use = "call `done` with the write's result"]
struct Traced {
    #[cfg(feature = "tracing")]
    what: (&'static str, UserId, Scope, Option<Location>),
}

impl Traced {
    /// A write of kind `op` (`create`, `update`, `delete`, `push-start`)
    /// by `caller` at `scope`, for `location` when there is one.
    fn new(op: &'static str, caller: &UserId, scope: &Scope, location: Option<&Location>) -> Self {
        #[cfg(not(feature = "tracing"))]
        let _ = (op, caller, scope, location);
        Traced {
            #[cfg(feature = "tracing")]
            what: (op, caller.clone(), scope.clone(), location.cloned()),
        }
    }

    /// Leaves the event for `result`, and returns it.
    fn done<T>(self, result: Result<T, ManageError>) -> Result<T, ManageError> {
        #[cfg(feature = "tracing")]
        {
            let (op, caller, scope, location) = &self.what;
            let (caller, kind) = (caller.as_str(), scope.kind().as_str());
            let (scope_id, location) = (
                scope.id().unwrap_or(""),
                location.as_ref().map_or("", Location::as_str),
            );
            match &result {
                Ok(_) => tracing::info!(
                    target: "registry_credentials_cf::manage",
                    op, caller, scope = kind, scope_id, location, outcome = "ok",
                    "registry credential {op}: done"
                ),
                Err(e) => tracing::warn!(
                    target: "registry_credentials_cf::manage",
                    op, caller, scope = kind, scope_id, location, outcome = "error", error = %e,
                    "registry credential {op}: failed"
                ),
            }
        }
        result
    }
}

/// The listing rows of one scope's credentials.
fn rows_of<'a>(
    scope: &'a Scope,
    app_name: Option<&'a Name>,
    credentials: Vec<Arc<RegistryCredential>>,
) -> impl Iterator<Item = crate::listing::Row> + 'a {
    credentials.into_iter().map(move |c| crate::listing::Row {
        location: c.location().clone(),
        scope: scope.kind(),
        username: c.username().clone(),
        app_name: app_name.cloned(),
        kind: c.kind(),
        expires_at: c.expires_at(),
    })
}
