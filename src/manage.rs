//! Managing credentials (R16–R21) over any [`CredentialStore`]: create,
//! update, delete and list with access control, and pushes that store an
//! app's credential once the app has started.
//!
//! A [`Manager`] holds a store and the platform's [`Directory`]. Every call
//! names its caller; the manager looks up the caller's roles, asks the
//! [`access`](crate::access) rules, and only then reads or writes. A call
//! that is refused or fails changes nothing.
//!
//! ```
//! use registry_credentials::*;
//!
//! let mut m = Manager::new(MemoryStore::new());
//! let admin = UserId::new("admin")?;
//! m.directory_mut().grant_global(admin.clone(), GlobalRole::Admin);
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
//! staged.started(&m)?;
//!
//! let listing = m.list(&dev, &Target::Space(space))?;
//! assert_eq!(listing.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::sync::Arc;

use crate::access::{self, DirectoryAction, Operation, OrgRole, Roles, ScopePath, SpaceRole};
use crate::directory::{Directory, DirectoryError, Name};
use crate::listing::{Listing, Row, Target};
use crate::store::{CredentialStore, Key, StoreError};
use crate::{
    resolve, App, AppId, Credential, CredentialUpdate, Location, OrgId, Reference,
    RegistryCredential, Resolution, Scope, ScopeKind, SpaceId, UserId, Username,
};

/// A refusal (R20): the caller's roles do not allow the call. Nothing
/// changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("user `{user}` may not {action} {at}: {who_may}")]
pub struct PermissionError {
    user: UserId,
    action: String,
    at: String,
    who_may: &'static str,
}

impl PermissionError {
    /// The caller refused.
    pub fn user(&self) -> &UserId {
        &self.user
    }
}

/// Why a management call failed. Whatever the variant, the call changed
/// nothing, and no message holds a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManageError {
    /// The caller's roles do not allow the call (R20).
    #[error(transparent)]
    Permission(#[from] PermissionError),
    /// A credential already exists there (R16); it is unchanged.
    #[error("a registry credential for `{location}` already exists for {at}; update or delete it instead")]
    Conflict {
        /// The scope, in words.
        at: String,
        /// The location.
        location: Location,
    },
    /// No credential exists there (R17, R18).
    #[error("no registry credential for `{location}` exists for {at}; check the location and the target")]
    NotFound {
        /// The scope, in words.
        at: String,
        /// The location.
        location: Location,
    },
    /// The organization, space or app is not in the directory, or the
    /// caller may not know it exists.
    #[error("{what} `{name}` not found")]
    Unknown {
        /// Organization, space or app.
        what: &'static str,
        /// Its name or id, as given.
        name: String,
    },
    /// Credentials are created at app scope by a push only (R16, R19).
    #[error("app credentials are not created directly; push the app with a username and password to store one")]
    AppCredentialByPush,
    /// The directory refused a change (a name already used).
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

/// Credentials over a store, with the directory of organizations, spaces,
/// apps and roles, and the access rules (R16–R21) applied to every call.
///
/// Directory changes take `&mut self`; credential calls take `&self`, as
/// the store's do.
pub struct Manager<S> {
    store: S,
    directory: Directory,
}

impl<S> fmt::Debug for Manager<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manager")
            .field("directory", &self.directory)
            .finish_non_exhaustive()
    }
}

impl<S: CredentialStore> Manager<S> {
    /// A manager over `store` with an empty directory. Give someone the
    /// Admin role through [`directory_mut`](Self::directory_mut) to begin.
    pub fn new(store: S) -> Self {
        Self::from_parts(store, Directory::new())
    }

    /// A manager over `store` and an existing `directory`.
    pub fn from_parts(store: S, directory: Directory) -> Self {
        Manager { store, directory }
    }

    /// The store and the directory.
    pub fn into_parts(self) -> (S, Directory) {
        (self.store, self.directory)
    }

    /// The store. Reading it directly skips the access rules.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The directory.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The directory, to change without access checks: the platform
    /// operator's door, for setting up the first admin or restoring a
    /// saved directory.
    pub fn directory_mut(&mut self) -> &mut Directory {
        &mut self.directory
    }

    /// The roles of `user`.
    pub fn roles(&self, user: &UserId) -> &Roles {
        self.directory.roles(user)
    }

    fn administer(
        &self,
        caller: &UserId,
        action: DirectoryAction<'_>,
        at: String,
    ) -> Result<(), PermissionError> {
        if access::may_administer(self.roles(caller), action) {
            Ok(())
        } else {
            Err(PermissionError {
                user: caller.clone(),
                action: action.as_str().to_owned(),
                at,
                who_may: action.who_may(),
            })
        }
    }

    fn check(
        &self,
        caller: &UserId,
        operation: Operation,
        path: ScopePath<'_>,
        scope: &Scope,
    ) -> Result<(), PermissionError> {
        if access::allows(self.roles(caller), operation, path) {
            Ok(())
        } else {
            Err(PermissionError {
                user: caller.clone(),
                action: format!("{operation} registry credentials"),
                at: format!("for {}", self.directory.describe(scope)),
                who_may: access::who_may(operation, path.kind()),
            })
        }
    }

    /// The path of `scope`, or [`ManageError::Unknown`].
    fn path<'a>(&'a self, scope: &'a Scope) -> Result<ScopePath<'a>, ManageError> {
        self.directory
            .path(scope)
            .ok_or_else(|| ManageError::Unknown {
                what: match scope.kind() {
                    ScopeKind::App => "app",
                    ScopeKind::Space => "space",
                    ScopeKind::Org | ScopeKind::Foundation => "organization",
                },
                name: scope.id().unwrap_or_default().to_owned(),
            })
    }

    /// Whether `caller` may do `operation` at `scope`, without doing it:
    /// for a front end that asks for a password only when the call can go
    /// through. The calls themselves check again.
    ///
    /// # Errors
    ///
    /// [`ManageError::Unknown`] for a scope not in the directory,
    /// [`ManageError::Permission`] when the caller's roles do not allow it.
    pub fn check_access(
        &self,
        caller: &UserId,
        operation: Operation,
        scope: &Scope,
    ) -> Result<(), ManageError> {
        let path = self.path(scope)?;
        self.check(caller, operation, path, scope)?;
        Ok(())
    }

    /// The organization called `name`, if `caller` may know of it: those
    /// who see everything and its members. To anyone else it does not
    /// exist, as in cf.
    ///
    /// # Errors
    ///
    /// [`ManageError::Unknown`].
    pub fn find_org(&self, caller: &UserId, name: &str) -> Result<OrgId, ManageError> {
        self.directory
            .org_id(name)
            .filter(|org| access::may_find_org(self.roles(caller), org))
            .cloned()
            .ok_or_else(|| ManageError::Unknown {
                what: "organization",
                name: name.to_owned(),
            })
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
        self.directory
            .space_id(org, name)
            .filter(|_| access::may_find_org(self.roles(caller), org))
            .cloned()
            .ok_or_else(|| ManageError::Unknown {
                what: "space",
                name: name.to_owned(),
            })
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
        let visible = self
            .directory
            .space_org(space)
            .is_some_and(|org| access::may_find_org(self.roles(caller), org));
        self.directory
            .app_id(space, name)
            .filter(|_| visible)
            .cloned()
            .ok_or_else(|| ManageError::Unknown {
                what: "app",
                name: name.to_owned(),
            })
    }

    /// Creates an organization called `name` and returns its new id.
    /// Admin only.
    ///
    /// # Errors
    ///
    /// [`ManageError::Permission`], or [`ManageError::Directory`] when the
    /// name is taken.
    pub fn create_org(&mut self, caller: &UserId, name: Name) -> Result<OrgId, ManageError> {
        self.administer(caller, DirectoryAction::CreateOrg, String::new())?;
        let id = OrgId::new(self.directory.fresh_id("org")).expect("a generated id is valid");
        self.directory.add_org(id.clone(), name)?;
        Ok(id)
    }

    /// Creates a space called `name` in `org` and returns its new id.
    /// Admin, or an Org Manager of `org`.
    ///
    /// # Errors
    ///
    /// [`ManageError::Unknown`], [`ManageError::Permission`], or
    /// [`ManageError::Directory`] when the name is taken.
    pub fn create_space(
        &mut self,
        caller: &UserId,
        org: &OrgId,
        name: Name,
    ) -> Result<SpaceId, ManageError> {
        let scope = Scope::Org(org.clone());
        self.path(&scope)?;
        let at = format!("(in {})", self.directory.describe(&scope));
        self.administer(caller, DirectoryAction::CreateSpace(org), at)?;
        let id = SpaceId::new(self.directory.fresh_id("space")).expect("a generated id is valid");
        self.directory.add_space(id.clone(), org, name)?;
        Ok(id)
    }

    /// Gives `user` a role in `org`. Admin, or an Org Manager of `org`.
    ///
    /// # Errors
    ///
    /// [`ManageError::Unknown`] or [`ManageError::Permission`].
    pub fn set_org_role(
        &mut self,
        caller: &UserId,
        user: UserId,
        org: &OrgId,
        role: OrgRole,
    ) -> Result<(), ManageError> {
        let scope = Scope::Org(org.clone());
        self.path(&scope)?;
        let at = format!("(in {})", self.directory.describe(&scope));
        self.administer(caller, DirectoryAction::SetOrgRole(org), at)?;
        self.directory.grant_org(user, org, role)?;
        Ok(())
    }

    /// Gives `user` a role in `space`, which makes the user an Org User of
    /// its organization too (R21). Admin, an Org Manager of the
    /// organization, or a Space Manager of the space.
    ///
    /// # Errors
    ///
    /// [`ManageError::Unknown`] or [`ManageError::Permission`].
    pub fn set_space_role(
        &mut self,
        caller: &UserId,
        user: UserId,
        space: &SpaceId,
        role: SpaceRole,
    ) -> Result<(), ManageError> {
        let scope = Scope::Space(space.clone());
        let ScopePath::Space(org, _) = self.path(&scope)? else {
            unreachable!("a space's path is a space path")
        };
        let org = org.clone();
        let at = format!("(in {})", self.directory.describe(&scope));
        self.administer(caller, DirectoryAction::SetSpaceRole(&org, space), at)?;
        self.directory.grant_space(user, space, role)?;
        Ok(())
    }

    fn store_error(&self, e: StoreError) -> ManageError {
        match e {
            StoreError::Conflict { scope, location } => ManageError::Conflict {
                at: self.directory.describe(&scope),
                location,
            },
            StoreError::NotFound { scope, location } => match Location::parse(&location) {
                Ok(location) => ManageError::NotFound {
                    at: self.directory.describe(&scope),
                    location,
                },
                Err(_) => ManageError::Store(StoreError::NotFound { scope, location }),
            },
            other => ManageError::Store(other),
        }
    }

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
        let scope = credential.scope();
        if scope.kind() == ScopeKind::App {
            return Err(ManageError::AppCredentialByPush);
        }
        let path = self.path(scope)?;
        self.check(caller, Operation::Create, path, scope)?;
        self.store
            .create(credential)
            .map_err(|e| self.store_error(e))
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
        let path = self.path(scope)?;
        self.check(caller, Operation::Update, path, scope)?;
        self.store
            .update(Key::new(scope.as_ref(), location.as_str()), update)
            .map_err(|e| self.store_error(e))
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
        let path = self.path(scope)?;
        self.check(caller, Operation::Delete, path, scope)?;
        self.store
            .delete(Key::new(scope.as_ref(), location.as_str()))
            .map_err(|e| self.store_error(e))
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
        let mut scopes: Vec<Scope> = vec![Scope::Foundation];
        match target {
            Target::Foundation => {}
            Target::Org(org) => {
                let scope = Scope::Org(org.clone());
                self.path(&scope)?;
                scopes.push(scope);
            }
            Target::Space(space) => {
                let scope = Scope::Space(space.clone());
                let ScopePath::Space(org, _) = self.path(&scope)? else {
                    unreachable!("a space's path is a space path")
                };
                scopes.push(Scope::Org(org.clone()));
                scopes.extend(
                    self.directory
                        .apps_in(space)
                        .map(|(a, _)| Scope::App(a.id().clone())),
                );
                scopes.push(scope);
            }
        }
        let roles = self.roles(caller);
        let mut rows = Vec::new();
        for scope in &scopes {
            let path = self.path(scope)?;
            if !access::may_see(roles, path) {
                continue;
            }
            let app_name = match scope {
                Scope::App(app) => self.directory.app_name(app).cloned(),
                _ => None,
            };
            for c in self
                .store
                .list(scope.as_ref())
                .map_err(ManageError::Store)?
            {
                rows.push(Row {
                    location: c.location().clone(),
                    scope: scope.kind(),
                    username: c.username().clone(),
                    app_name: app_name.clone(),
                });
            }
        }
        Ok(Listing::new(rows))
    }

    /// The app a push of `app` to `space` would be (an existing one, or a
    /// new one with a fresh id) and whether it is new, if `caller` may push
    /// there.
    fn push_target(
        &self,
        caller: &UserId,
        space: &SpaceId,
        app: &Name,
    ) -> Result<(App, bool), ManageError> {
        let space_scope = Scope::Space(space.clone());
        let ScopePath::Space(org, _) = self.path(&space_scope)? else {
            unreachable!("a space's path is a space path")
        };
        let (id, new) = match self.directory.app_id(space, app.as_str()) {
            Some(id) => (id.clone(), false),
            None => (
                AppId::new(self.directory.fresh_id("app")).expect("a generated id is valid"),
                true,
            ),
        };
        let the_app = App::from_ids(org.clone(), space.clone(), id);
        if !access::may_change(self.roles(caller), ScopePath::App(&the_app)) {
            return Err(PermissionError {
                user: caller.clone(),
                action: format!("push app `{app}`"),
                at: format!("to {}", self.directory.describe(&space_scope)),
                who_may: access::who_may(Operation::Create, ScopeKind::App),
            }
            .into());
        }
        Ok((the_app, new))
    }

    /// Whether `caller` may push the app called `app` to `space` (R20:
    /// Admin, or a Space Developer of the space), without pushing: for a
    /// front end that asks for a password only when the push can go on.
    ///
    /// # Errors
    ///
    /// [`ManageError::Unknown`] or [`ManageError::Permission`], as
    /// [`stage`](Self::stage) would fail.
    pub fn check_push(
        &self,
        caller: &UserId,
        space: &SpaceId,
        app: &Name,
    ) -> Result<(), ManageError> {
        self.push_target(caller, space, app).map(|_| ())
    }

    /// Stages a push of the app called `app` in `space` with `image` (R19).
    ///
    /// With `given` credentials, staging uses them, ahead of every stored
    /// credential; without, the precedence search decides (R14, R15). The
    /// app is added to the directory if it is new. Nothing is stored yet:
    /// call [`StagedPush::started`] once the app has started, or drop the
    /// [`StagedPush`] (or call [`StagedPush::failed`]) if staging or start
    /// failed, and nothing will be.
    ///
    /// The caller must be allowed to change the app's credentials (R20:
    /// Admin, or a Space Developer of the space).
    ///
    /// # Errors
    ///
    /// [`ManageError::Unknown`], [`ManageError::Permission`],
    /// [`ManageError::Store`]. On error the directory is unchanged.
    pub fn stage(
        &mut self,
        caller: &UserId,
        space: &SpaceId,
        app: &Name,
        image: Reference,
        given: Option<Credential>,
    ) -> Result<StagedPush, ManageError> {
        let (the_app, new) = self.push_target(caller, space, app)?;
        let id = the_app.id().clone();
        let (chosen, keep) = match given {
            Some(credential) => {
                let first = image
                    .candidates()
                    .next()
                    .expect("every reference has a candidate");
                // A location that cannot hold a credential (a public
                // suffix, R9) still lets the push use what it brought; it
                // is just not kept.
                let location = Location::parse(first.as_str()).ok();
                let keep = location.clone().map(|location| {
                    RegistryCredential::new(Scope::App(id.clone()), location, credential.clone())
                });
                (
                    Chosen::Given {
                        location,
                        credential,
                    },
                    keep,
                )
            }
            None => match resolve(&self.store, &the_app, &image).map_err(ManageError::Store)? {
                Some(r) => (Chosen::Stored(r), None),
                None => (Chosen::None, None),
            },
        };
        if new {
            self.directory.add_app(id, space, app.clone())?;
        }
        Ok(StagedPush {
            app: the_app,
            app_name: app.clone(),
            image,
            chosen,
            keep,
        })
    }
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
            Chosen::Stored(r) => Some(r.credential().credential()),
            Chosen::None => None,
        }
    }

    /// Its username.
    pub fn username(&self) -> Option<&Username> {
        self.credential().map(|c| &c.username)
    }

    /// Its location.
    pub fn location(&self) -> Option<&Location> {
        match self {
            Chosen::Given { location, .. } => location.as_ref(),
            Chosen::Stored(r) => Some(r.location()),
            Chosen::None => None,
        }
    }

    /// Where it came from: `push` for credentials given with the push, else
    /// the scope it is stored at (`app`, `space`, `organization`,
    /// `foundation`); `None` when nothing matched.
    pub fn source(&self) -> Option<&'static str> {
        match self {
            Chosen::Given { .. } => Some("push"),
            Chosen::Stored(r) => Some(r.scope_kind().as_str()),
            Chosen::None => None,
        }
    }
}

/// A push that has staged: it knows which credential to pull with and has
/// stored nothing. [`started`](Self::started) stores the app's credential
/// (if the push brought one); dropping it, or [`failed`](Self::failed),
/// stores nothing (R19). Only [`Manager::stage`] makes one, so a credential
/// cannot be stored before staging, and only `started` stores.
///
/// ```
/// use registry_credentials::*;
///
/// let mut m = Manager::new(MemoryStore::new());
/// let admin = UserId::new("admin")?;
/// m.directory_mut().grant_global(admin.clone(), GlobalRole::Admin);
/// let org = m.create_org(&admin, Name::new("o")?)?;
/// let space = m.create_space(&admin, &org, Name::new("s")?)?;
/// let given = Credential::new("me", "my-password")?;
/// let staged = m.stage(&admin, &space, &Name::new("app")?, "nginx".parse()?, Some(given))?;
/// assert_eq!(staged.chosen().source(), Some("push"));
/// staged.failed(); // staging failed: nothing is stored (R19)
/// assert!(m.store().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A push that failed cannot be started afterwards; the same code with one
/// more line does not compile:
///
/// ```compile_fail
/// use registry_credentials::*;
///
/// let mut m = Manager::new(MemoryStore::new());
/// let admin = UserId::new("admin")?;
/// m.directory_mut().grant_global(admin.clone(), GlobalRole::Admin);
/// let org = m.create_org(&admin, Name::new("o")?)?;
/// let space = m.create_space(&admin, &org, Name::new("s")?)?;
/// let given = Credential::new("me", "my-password")?;
/// let staged = m.stage(&admin, &space, &Name::new("app")?, "nginx".parse()?, Some(given))?;
/// assert_eq!(staged.chosen().source(), Some("push"));
/// staged.failed(); // staging failed: nothing is stored (R19)
/// staged.started(&m)?; // error[E0382]: use of moved value: `staged`
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use = "call `started` once the app has started, or `failed` if it did not"]
pub struct StagedPush {
    app: App,
    app_name: Name,
    image: Reference,
    chosen: Chosen,
    keep: Option<RegistryCredential>,
}

impl StagedPush {
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

    /// The app started: keep the credentials given with the push as the
    /// app's credential for the image's most specific candidate location.
    /// They replace the app's credentials (R19): the one at that location,
    /// and any the app had at other locations from earlier pushes of other
    /// images, so an app holds one pair, as in cf.
    ///
    /// # Errors
    ///
    /// [`ManageError::Store`] when the store fails. The new credential is
    /// written first, so a failure while removing the older ones leaves
    /// the new one in place and some older ones still stored.
    pub fn started<S: CredentialStore>(self, manager: &Manager<S>) -> Result<Started, ManageError> {
        let mut replaced = Vec::new();
        let stored = match self.keep {
            Some(credential) => {
                let stored = Arc::new(credential.clone());
                let scope = Scope::App(self.app.id().clone());
                if let Some(old) = manager.store.put(credential).map_err(ManageError::Store)? {
                    replaced.push(old);
                }
                for old in manager
                    .store
                    .list(scope.as_ref())
                    .map_err(ManageError::Store)?
                {
                    if old.location() != stored.location() {
                        replaced.push(
                            manager
                                .store
                                .delete(Key::of(&old))
                                .map_err(ManageError::Store)?,
                        );
                    }
                }
                Some(stored)
            }
            None => None,
        };
        Ok(Started {
            app: self.app,
            stored,
            replaced,
        })
    }

    /// Staging or start failed: nothing is stored (R19). The same as
    /// dropping it, said out loud.
    pub fn failed(self) {}
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
