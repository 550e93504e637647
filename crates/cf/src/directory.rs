//! The platform's directory: which organizations, spaces and apps exist,
//! with their names, and which roles each user holds.
//!
//! The store keys credentials by ids alone ([`Scope`]); the directory is
//! what knows that an app sits in a space of an organization (for the
//! access rules, R20, R21) and what each is called (for listings).
//!
//! [`DirectoryReader`] (what the access checks read) and
//! [`DirectoryWriter`] (what changes it) are the traits a platform
//! implements over its own records (cf's Cloud Controller, a database);
//! [`AsyncDirectoryReader`] and [`AsyncDirectoryWriter`] are their async,
//! object-safe forms, which [`AsyncManager`](crate::manage::AsyncManager)
//! awaits, and [`InlineDirectory`] adapts a sync directory to them.
//! [`MemoryDirectory`] keeps one in memory. A directory does no access control: the
//! [`Manager`](crate::manage::Manager) checks the caller's roles before it
//! changes one, and a platform operator uses the directory directly to set
//! up the first admin or to restore one.

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use registry_credentials::scope::{AppId, OrgId, SpaceId, UserId};
use registry_credentials::store::block_on_ready;
use registry_credentials::{App, Reference, Scope};

use crate::access::{GlobalRole, OrgRole, Roles, ScopePath, SpaceRole};

#[macro_use]
mod methods;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[macro_use]
mod tables;

mod asynchronous;
#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::{SQLITE_DIRECTORY_VERSION, Session, SqliteDirectory};

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::{POSTGRES_DIRECTORY_VERSION, PostgresDirectory};

pub use asynchronous::{AsyncDirectoryReader, AsyncDirectoryWriter, InlineDirectory};

/// The longest name accepted, in bytes.
pub const MAX_DIRECTORY_NAME_LEN: usize = 255;

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    #[error("the name is empty; give a name")]
    Empty,
    /// The name is too long.
    #[error("the name is {len} bytes long, more than the {MAX_DIRECTORY_NAME_LEN} allowed")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// The name has white space, a control, format or separator
    /// character.
    #[error("the name contains white space or an invisible character at byte {at}; remove it")]
    BadCharacter {
        /// Where.
        at: usize,
    },
}

/// The name of an organization, space or app: non-empty, at most 255
/// bytes, without white space, control, format (bidi controls, zero-width
/// marks) or separator characters, so that no listing or message can be
/// forged through one (R21).
///
/// ```
/// use registry_credentials_cf::directory::Name;
/// let name: Name = "my-app".parse()?;
/// assert_eq!(name.as_str(), "my-app");
/// assert!("my app".parse::<Name>().is_err());
/// # Ok::<(), registry_credentials_cf::directory::NameError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(Box<str>);

impl Name {
    /// Checks and wraps a name.
    ///
    /// # Errors
    ///
    /// [`NameError`] when it is empty, too long, or has white space, a
    /// control, format or separator character.
    pub fn new(name: impl AsRef<str>) -> Result<Self, NameError> {
        let name = name.as_ref();
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.len() > MAX_DIRECTORY_NAME_LEN {
            return Err(NameError::TooLong { len: name.len() });
        }
        if let Some((at, _)) = name
            .char_indices()
            .find(|(_, c)| c.is_whitespace() || crate::text::is_unsafe(*c))
        {
            return Err(NameError::BadCharacter { at });
        }
        Ok(Name(name.into()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({:?})", &*self.0)
    }
}

impl FromStr for Name {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        Self::new(s)
    }
}

impl TryFrom<&str> for Name {
    type Error = NameError;
    fn try_from(s: &str) -> Result<Self, NameError> {
        Self::new(s)
    }
}

/// Names compare as their text, so maps keyed by names are searched with a
/// `&str`.
impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// What a directory holds: an organization, a space or an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Entity {
    /// An organization.
    Org,
    /// A space of an organization.
    Space,
    /// An app in a space.
    App,
}

impl Entity {
    /// Its name in messages: `organization`, `space`, `app`.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Org => "organization",
            Entity::Space => "space",
            Entity::App => "app",
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the directory refused a change. A refused change leaves it as it
/// was.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum DirectoryError {
    /// The id is already used.
    #[error("{what} id `{id}` is already used; choose another id")]
    IdTaken {
        /// Organization, space or app.
        what: Entity,
        /// The id.
        id: String,
    },
    /// The name is already used where it must be unique: among
    /// organizations, among a organization's spaces, among a space's apps.
    #[error("{what} `{name}` already exists{where_}; choose another name")]
    NameTaken {
        /// Organization, space or app.
        what: Entity,
        /// The name.
        name: Name,
        /// Where, for a space or an app (` in organization `x``).
        where_: String,
    },
    /// The organization, space or app named by id does not exist.
    #[error("no {what} has the id `{id}`; create it first")]
    Unknown {
        /// Organization, space or app.
        what: Entity,
        /// The id.
        id: String,
    },
    /// The directory's records hold what no release writes (a name or id
    /// that is not valid, an unknown role, tables of a newer release):
    /// they need a person, not a retry.
    #[error("the directory's records are not usable: {what}; restore them from a backup")]
    Corrupt {
        /// What is wrong (never a password).
        what: String,
    },
    /// The directory's backend failed; nothing is known to have changed.
    #[error("the directory failed{}", if *retryable { " (retry later)" } else { "" })]
    Backend {
        /// True when the same call may succeed later.
        retryable: bool,
        /// The backend's error.
        #[source]
        source: Arc<dyn StdError + Send + Sync>,
    },
}

/// A store's failure inside a transaction the directory shares (the
/// `sqlite` feature's `SqliteDirectory`): a backend failure.
impl From<registry_credentials::StoreError> for DirectoryError {
    fn from(e: registry_credentials::StoreError) -> Self {
        DirectoryError::Backend {
            retryable: e.is_retryable(),
            source: Arc::new(e),
        }
    }
}

/// Where a scope sits: the place an access decision is about, owned (see
/// [`ScopePath`] for the borrowed form the access rules take).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The whole platform.
    Foundation,
    /// An organization.
    Org(OrgId),
    /// A space of an organization.
    Space(OrgId, SpaceId),
    /// An app, with its space and organization.
    App(App),
}

impl Place {
    /// The borrowed form, for the [`access`](crate::access) rules.
    pub fn as_path(&self) -> ScopePath<'_> {
        match self {
            Place::Foundation => ScopePath::Foundation,
            Place::Org(org) => ScopePath::Org(org),
            Place::Space(org, space) => ScopePath::Space(org, space),
            Place::App(app) => ScopePath::App(app),
        }
    }
}

/// What the management gate reads: every user's roles, and organizations,
/// spaces and apps by name and by id.
///
/// # Contract
///
/// - Missing is not an error: a look-up of an id or a name the directory
///   does not hold (never added, or removed) returns `None` (or no roles,
///   or an empty list), never [`DirectoryError::Unknown`]. Errors are
///   [`DirectoryError::Backend`] (the backend failed; retry if it says so)
///   and [`DirectoryError::Corrupt`] (its records hold what no release
///   writes).
/// - An id removed from the directory is gone for every look-up, and
///   stays gone: ids are never reused (R13), so what an id named once it
///   never names again.
/// - Lists (`apps_in`, `spaces_in`) are in name order.
/// - Every call sees every change that returned before it began (in the
///   same transaction, for a directory over one); each call is one read,
///   so it never sees half of a change.
/// - Implementations are `Send + Sync`; calls take `&self`, so a directory
///   is shared between threads and handlers as it is.
///
/// The look-ups have no defaults; [`place`](Self::place) and
/// [`describe`](Self::describe) are built on them, written once in
/// [`AsyncDirectoryReader`] and driven here over [`InlineDirectory`].
pub trait DirectoryReader: Send + Sync {
    /// The roles of `user`; none for a user the directory has never seen.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Backend`].
    fn roles(&self, user: &UserId) -> Result<Roles, DirectoryError>;

    /// The organization called `name`.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Backend`].
    fn org_by_name(&self, name: &str) -> Result<Option<OrgId>, DirectoryError>;

    /// The space of `org` called `name`.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Backend`].
    fn space_by_name(&self, org: &OrgId, name: &str) -> Result<Option<SpaceId>, DirectoryError>;

    /// The app of `space` called `name`.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Backend`].
    fn app_by_name(&self, space: &SpaceId, name: &str) -> Result<Option<AppId>, DirectoryError>;

    /// The name of `org`, if it exists.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Backend`].
    fn org_name(&self, org: &OrgId) -> Result<Option<Name>, DirectoryError>;

    /// The organization and name of `space`, if it exists.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Backend`].
    fn space(&self, space: &SpaceId) -> Result<Option<(OrgId, Name)>, DirectoryError>;

    /// The app with id `app` (its space and organization) and its name, if
    /// it exists.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Backend`].
    fn app(&self, app: &AppId) -> Result<Option<(App, Name)>, DirectoryError>;

    /// The apps of `space` with their names, in name order.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Backend`].
    fn apps_in(&self, space: &SpaceId) -> Result<Vec<(App, Name)>, DirectoryError>;

    /// The spaces of `org` with their names, in name order.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Backend`].
    fn spaces_in(&self, org: &OrgId) -> Result<Vec<(SpaceId, Name)>, DirectoryError>;

    /// Every app at or inside `within` whose image the directory has
    /// recorded ([`DirectoryWriter::set_app_image`]), with its name and
    /// that image, in app id order: every app for the foundation, the apps
    /// of an organization's spaces, a space's apps, or the app itself. An
    /// app never pushed to its start has no image and is left out.
    ///
    /// This is what tells which apps a credential serves (R29): their
    /// next pull resolves this image.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Backend`], or [`DirectoryError::Corrupt`] for a
    /// recorded image that does not parse.
    fn app_images(&self, within: &Scope) -> Result<Vec<(App, Name, Reference)>, DirectoryError>;

    /// Where `scope` sits, for an access decision; `None` when the
    /// directory does not know it.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Backend`].
    fn place(&self, scope: &Scope) -> Result<Option<Place>, DirectoryError> {
        block_on_ready(AsyncDirectoryReader::place(&InlineDirectory(self), scope))
    }

    /// `scope` in words, by name: `the foundation`, ``organization `myorg` ``,
    /// ``space `myspace` of organization `myorg` ``, ``app `myapp` in space
    /// `myspace` ``. Ids stand in for names the directory does not know.
    /// Names are printed with control characters escaped (R21).
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Backend`].
    fn describe(&self, scope: &Scope) -> Result<String, DirectoryError> {
        block_on_ready(AsyncDirectoryReader::describe(
            &InlineDirectory(self),
            scope,
        ))
    }
}

/// What changes a directory: organizations, spaces and apps added and
/// removed, and roles granted. A platform operator uses it directly to set
/// up the first admin; the [`Manager`](crate::manage::Manager) calls it
/// after its access checks.
///
/// # Contract
///
/// - Organization names are unique on the platform, space names inside
///   their organization, app names inside their space, as in cf. A change
///   that would break this fails with [`DirectoryError::NameTaken`].
/// - Ids are never reused (R13): an id that is held, or was ever removed,
///   is refused with [`DirectoryError::IdTaken`]; a name is free again once
///   what held it is removed.
/// - Missing is [`DirectoryError::Unknown`] here: adding to, granting in or
///   removing an organization, space or app that does not exist. Granting
///   a role a user holds already succeeds and changes nothing.
/// - Each call is one step: it succeeds whole, or fails and changes
///   nothing. Removing takes what is inside along (a space's apps, the
///   roles held there) in the same step, and records every removed id.
/// - Concurrent calls are serialized by the backend: two adds of one name
///   or one id at once leave one, and the other fails as above.
///
/// The directory holds no credentials: the
/// [`Manager`](crate::manage::Manager)'s `delete_org` deletes those first
/// (in the same transaction, for a directory that shares the store's).
pub trait DirectoryWriter: DirectoryReader {
    /// Adds an organization.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::IdTaken`], [`DirectoryError::NameTaken`],
    /// [`DirectoryError::Backend`].
    fn add_org(&self, id: OrgId, name: Name) -> Result<(), DirectoryError>;

    /// Removes an organization with its spaces, their apps, and every role
    /// held in them. Its id, and theirs, are never used again (R13): adding
    /// one with a removed id fails with [`DirectoryError::IdTaken`].
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Unknown`] when `org` does not exist,
    /// [`DirectoryError::Backend`].
    fn remove_org(&self, org: &OrgId) -> Result<(), DirectoryError>;

    /// Removes a space with its apps and every role held in it; the ids
    /// are never used again (R13).
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Unknown`] when `space` does not exist,
    /// [`DirectoryError::Backend`].
    fn remove_space(&self, space: &SpaceId) -> Result<(), DirectoryError>;

    /// Removes an app; its id is never used again (R13).
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Unknown`] when `app` does not exist,
    /// [`DirectoryError::Backend`].
    fn remove_app(&self, app: &AppId) -> Result<(), DirectoryError>;

    /// Adds a space to `org`.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Unknown`] when `org` does not exist,
    /// [`DirectoryError::IdTaken`], [`DirectoryError::NameTaken`],
    /// [`DirectoryError::Backend`].
    fn add_space(&self, id: SpaceId, org: &OrgId, name: Name) -> Result<(), DirectoryError>;

    /// Adds an app to `space`.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Unknown`] when `space` does not exist,
    /// [`DirectoryError::IdTaken`], [`DirectoryError::NameTaken`],
    /// [`DirectoryError::Backend`].
    fn add_app(&self, id: AppId, space: &SpaceId, name: Name) -> Result<(), DirectoryError>;

    /// Records `image` as the image `app` runs, replacing the one recorded
    /// before: the manager calls it when a push of the app starts (R19's
    /// moment, R29), so the directory knows what the app's next pull
    /// resolves. Removing the app removes its image with it.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Unknown`] when `app` does not exist,
    /// [`DirectoryError::Backend`].
    fn set_app_image(&self, app: &AppId, image: &Reference) -> Result<(), DirectoryError>;

    /// Gives `user` a global role.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Backend`].
    fn grant_global(&self, user: UserId, role: GlobalRole) -> Result<(), DirectoryError>;

    /// Gives `user` a role in `org`.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Unknown`] when `org` does not exist,
    /// [`DirectoryError::Backend`].
    fn grant_org(&self, user: UserId, org: &OrgId, role: OrgRole) -> Result<(), DirectoryError>;

    /// Gives `user` a role in `space`, which also makes the user an Org
    /// User of the space's organization (R21).
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Unknown`] when `space` does not exist,
    /// [`DirectoryError::Backend`].
    fn grant_space(
        &self,
        user: UserId,
        space: &SpaceId,
        role: SpaceRole,
    ) -> Result<(), DirectoryError>;
}

macro_rules! forward_directory {
    ($($ty:ty),*) => {$(
        impl<D: DirectoryReader + ?Sized> DirectoryReader for $ty {
            reader_methods!(forward);
            derived_methods!(forward);
        }

        impl<D: DirectoryWriter + ?Sized> DirectoryWriter for $ty {
            writer_methods!(forward);
        }
    )*};
}

forward_directory!(&D, Box<D>, Arc<D>);

#[derive(Debug, Clone)]
struct SpaceEntry {
    org: OrgId,
    name: Name,
}

#[derive(Debug, Clone)]
struct AppEntry {
    app: App,
    name: Name,
    /// The image its last started push ran (R29).
    image: Option<Reference>,
}

/// A [`DirectoryReader`] and [`DirectoryWriter`] in memory: the embedded default.
///
/// Clones share one directory (an `Arc<RwLock<…>>` inside). Every look-up,
/// by id or by name, is a map look-up.
///
/// ```
/// use registry_credentials::scope::{OrgId, SpaceId};
/// use registry_credentials::{Scope, ScopeKind};
/// use registry_credentials_cf::directory::{DirectoryReader, DirectoryWriter, MemoryDirectory, Name};
///
/// let dir = MemoryDirectory::new();
/// let org = OrgId::new("org-1")?;
/// let space = SpaceId::new("space-1")?;
/// dir.add_org(org.clone(), Name::new("myorg")?)?;
/// dir.add_space(space.clone(), &org, Name::new("myspace")?)?;
/// assert_eq!(dir.space_by_name(&org, "myspace")?, Some(space.clone()));
/// let scope = Scope::Space(space);
/// assert_eq!(dir.place(&scope)?.map(|p| p.as_path().kind()), Some(ScopeKind::Space));
/// assert_eq!(dir.describe(&scope)?, "space `myspace` of organization `myorg`");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct MemoryDirectory {
    tables: Arc<RwLock<Tables>>,
}

impl fmt::Debug for MemoryDirectory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.read();
        f.debug_struct("MemoryDirectory")
            .field("orgs", &t.orgs.len())
            .field("spaces", &t.spaces.len())
            .field("apps", &t.apps.len())
            .field("users", &t.users.len())
            .finish()
    }
}

impl MemoryDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    // No code that can panic runs while a change is half made, so a
    // poisoned lock is still sound.
    fn read(&self) -> RwLockReadGuard<'_, Tables> {
        self.tables.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Tables> {
        self.tables.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every user that holds a role, with the roles, in id order.
    pub fn users(&self) -> Vec<(UserId, Roles)> {
        self.read()
            .users
            .iter()
            .map(|(u, r)| (u.clone(), r.clone()))
            .collect()
    }

    /// Every organization, with its name, in id order.
    pub fn orgs(&self) -> Vec<(OrgId, Name)> {
        self.read()
            .orgs
            .iter()
            .map(|(o, n)| (o.clone(), n.clone()))
            .collect()
    }

    /// Every space, with its organization and name, in id order.
    pub fn spaces(&self) -> Vec<(SpaceId, OrgId, Name)> {
        self.read()
            .spaces
            .iter()
            .map(|(id, e)| (id.clone(), e.org.clone(), e.name.clone()))
            .collect()
    }

    /// Every app, with its name, in id order.
    pub fn apps(&self) -> Vec<(App, Name)> {
        self.read()
            .apps
            .values()
            .map(|e| (e.app.clone(), e.name.clone()))
            .collect()
    }
}

impl DirectoryReader for MemoryDirectory {
    fn roles(&self, user: &UserId) -> Result<Roles, DirectoryError> {
        Ok(self.read().users.get(user).cloned().unwrap_or_default())
    }
    fn org_by_name(&self, name: &str) -> Result<Option<OrgId>, DirectoryError> {
        Ok(self.read().org_id(name).cloned())
    }
    fn space_by_name(&self, org: &OrgId, name: &str) -> Result<Option<SpaceId>, DirectoryError> {
        Ok(self.read().space_id(org, name).cloned())
    }
    fn app_by_name(&self, space: &SpaceId, name: &str) -> Result<Option<AppId>, DirectoryError> {
        Ok(self.read().app_id(space, name).cloned())
    }
    fn org_name(&self, org: &OrgId) -> Result<Option<Name>, DirectoryError> {
        Ok(self.read().org_name(org).cloned())
    }
    fn space(&self, space: &SpaceId) -> Result<Option<(OrgId, Name)>, DirectoryError> {
        Ok(self
            .read()
            .spaces
            .get(space)
            .map(|e| (e.org.clone(), e.name.clone())))
    }
    fn app(&self, app: &AppId) -> Result<Option<(App, Name)>, DirectoryError> {
        Ok(self
            .read()
            .apps
            .get(app)
            .map(|e| (e.app.clone(), e.name.clone())))
    }
    fn apps_in(&self, space: &SpaceId) -> Result<Vec<(App, Name)>, DirectoryError> {
        let t = self.read();
        Ok(t.app_names
            .get(space)
            .into_iter()
            .flat_map(|names| names.values())
            .filter_map(|id| t.apps.get(id))
            .map(|e| (e.app.clone(), e.name.clone()))
            .collect())
    }
    fn spaces_in(&self, org: &OrgId) -> Result<Vec<(SpaceId, Name)>, DirectoryError> {
        Ok(self
            .read()
            .space_names
            .get(org)
            .into_iter()
            .flat_map(|names| names.iter())
            .map(|(name, id)| (id.clone(), name.clone()))
            .collect())
    }
    fn app_images(&self, within: &Scope) -> Result<Vec<(App, Name, Reference)>, DirectoryError> {
        let t = self.read();
        Ok(t.apps
            .values()
            .filter(|e| is_within(&e.app, within))
            .filter_map(|e| Some((e.app.clone(), e.name.clone(), e.image.clone()?)))
            .collect())
    }
}

/// Whether `app` is at or inside `within` (R13's "at that scope and below
/// it").
fn is_within(app: &App, within: &Scope) -> bool {
    match within {
        Scope::Foundation => true,
        Scope::Org(org) => app.org() == org,
        Scope::Space(space) => app.space() == space,
        Scope::App(id) => app.id() == id,
    }
}

impl DirectoryWriter for MemoryDirectory {
    writer_methods!(locked);
}

/// Removes the entry `id` from `entries`, and its name from `names`, the
/// index by name in the parent `parent_and_name` reads from the entry;
/// [`DirectoryError::Unknown`] when there is no such entry.
fn take_named<K: Ord + fmt::Display, E, P: Ord>(
    entries: &mut BTreeMap<K, E>,
    names: &mut BTreeMap<P, BTreeMap<Name, K>>,
    what: Entity,
    id: &K,
    parent_and_name: impl Fn(&E) -> (&P, &Name),
) -> Result<E, DirectoryError> {
    let entry = entries.remove(id).ok_or_else(|| unknown(what, id))?;
    let (parent, name) = parent_and_name(&entry);
    if let Some(names) = names.get_mut(parent) {
        names.remove(name);
    }
    Ok(entry)
}

/// The maps behind a [`MemoryDirectory`], changed under its write lock.
#[derive(Debug, Default)]
struct Tables {
    orgs: BTreeMap<OrgId, Name>,
    spaces: BTreeMap<SpaceId, SpaceEntry>,
    apps: BTreeMap<AppId, AppEntry>,
    users: BTreeMap<UserId, Roles>,
    // Indexes by name.
    org_names: BTreeMap<Name, OrgId>,
    space_names: BTreeMap<OrgId, BTreeMap<Name, SpaceId>>,
    app_names: BTreeMap<SpaceId, BTreeMap<Name, AppId>>,
    // Ids removed, never to be used again (R13), each with its kind.
    retired: std::collections::BTreeSet<(&'static str, String)>,
}

impl Tables {
    /// Adds an organization.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::IdTaken`] or [`DirectoryError::NameTaken`].
    fn add_org(&mut self, id: OrgId, name: Name) -> Result<(), DirectoryError> {
        if self.orgs.contains_key(&id) || self.is_retired(Entity::Org, id.as_str()) {
            return Err(id_taken(Entity::Org, &id));
        }
        if self.org_id(name.as_str()).is_some() {
            return Err(name_taken(Entity::Org, &name, String::new()));
        }
        self.org_names.insert(name.clone(), id.clone());
        self.orgs.insert(id, name);
        Ok(())
    }

    /// Adds a space to `org`.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Unknown`] when `org` does not exist,
    /// [`DirectoryError::IdTaken`] or [`DirectoryError::NameTaken`].
    fn add_space(&mut self, id: SpaceId, org: &OrgId, name: Name) -> Result<(), DirectoryError> {
        let org_name = self
            .org_name(org)
            .ok_or_else(|| unknown(Entity::Org, org))?;
        if self.spaces.contains_key(&id) || self.is_retired(Entity::Space, id.as_str()) {
            return Err(id_taken(Entity::Space, &id));
        }
        if self.space_id(org, name.as_str()).is_some() {
            let where_ = format!(" in organization `{org_name}`");
            return Err(name_taken(Entity::Space, &name, where_));
        }
        self.space_names
            .entry(org.clone())
            .or_default()
            .insert(name.clone(), id.clone());
        self.spaces.insert(
            id,
            SpaceEntry {
                org: org.clone(),
                name,
            },
        );
        Ok(())
    }

    /// Adds an app to `space`.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Unknown`] when `space` does not exist,
    /// [`DirectoryError::IdTaken`] or [`DirectoryError::NameTaken`].
    fn add_app(&mut self, id: AppId, space: &SpaceId, name: Name) -> Result<(), DirectoryError> {
        let entry = self
            .spaces
            .get(space)
            .ok_or_else(|| unknown(Entity::Space, space))?;
        if self.apps.contains_key(&id) || self.is_retired(Entity::App, id.as_str()) {
            return Err(id_taken(Entity::App, &id));
        }
        if self.app_id(space, name.as_str()).is_some() {
            let where_ = format!(" in space `{}`", entry.name);
            return Err(name_taken(Entity::App, &name, where_));
        }
        let app = App::from_ids(entry.org.clone(), space.clone(), id.clone());
        self.app_names
            .entry(space.clone())
            .or_default()
            .insert(name.clone(), id.clone());
        self.apps.insert(
            id,
            AppEntry {
                app,
                name,
                image: None,
            },
        );
        Ok(())
    }

    /// Records the image `app` runs.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Unknown`] when `app` does not exist.
    fn set_app_image(&mut self, app: &AppId, image: &Reference) -> Result<(), DirectoryError> {
        let entry = self
            .apps
            .get_mut(app)
            .ok_or_else(|| unknown(Entity::App, app))?;
        entry.image = Some(image.clone());
        Ok(())
    }

    fn is_retired(&self, what: Entity, id: &str) -> bool {
        self.retired.contains(&(what.as_str(), id.to_owned()))
    }

    /// Removes an organization, its spaces and apps, and the roles in them.
    fn remove_org(&mut self, org: &OrgId) -> Result<(), DirectoryError> {
        let name = self
            .orgs
            .remove(org)
            .ok_or_else(|| unknown(Entity::Org, org))?;
        self.org_names.remove(&name);
        let spaces: Vec<SpaceId> = self
            .space_names
            .get(org)
            .map(|names| names.values().cloned().collect())
            .unwrap_or_default();
        for space in &spaces {
            self.remove_space(space)?;
        }
        self.space_names.remove(org);
        for roles in self.users.values_mut() {
            roles.revoke_org(org);
        }
        self.retired.insert(("organization", org.to_string()));
        Ok(())
    }

    /// Removes a space, its apps, and the roles in it.
    fn remove_space(&mut self, space: &SpaceId) -> Result<(), DirectoryError> {
        take_named(
            &mut self.spaces,
            &mut self.space_names,
            Entity::Space,
            space,
            |e| (&e.org, &e.name),
        )?;
        for (_, app) in self.app_names.remove(space).unwrap_or_default() {
            self.apps.remove(&app);
            self.retired.insert(("app", app.to_string()));
        }
        for roles in self.users.values_mut() {
            roles.revoke_space(space);
        }
        self.retired.insert(("space", space.to_string()));
        Ok(())
    }

    /// Removes an app.
    fn remove_app(&mut self, app: &AppId) -> Result<(), DirectoryError> {
        take_named(&mut self.apps, &mut self.app_names, Entity::App, app, |e| {
            (e.app.space(), &e.name)
        })?;
        self.retired.insert(("app", app.to_string()));
        Ok(())
    }

    /// Gives `user` a global role; never fails.
    #[expect(
        clippy::unnecessary_wraps,
        reason = "the same result as every other change, so that `MemoryDirectory` calls each the same way"
    )]
    fn grant_global(&mut self, user: UserId, role: GlobalRole) -> Result<(), DirectoryError> {
        self.users.entry(user).or_default().grant_global(role);
        Ok(())
    }

    /// Gives `user` a role in `org`.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Unknown`] when `org` does not exist.
    fn grant_org(
        &mut self,
        user: UserId,
        org: &OrgId,
        role: OrgRole,
    ) -> Result<(), DirectoryError> {
        if !self.orgs.contains_key(org) {
            return Err(unknown(Entity::Org, org));
        }
        self.users
            .entry(user)
            .or_default()
            .grant_org(org.clone(), role);
        Ok(())
    }

    /// Gives `user` a role in `space`, which also makes the user an Org
    /// User of the space's organization (R21).
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Unknown`] when `space` does not exist.
    fn grant_space(
        &mut self,
        user: UserId,
        space: &SpaceId,
        role: SpaceRole,
    ) -> Result<(), DirectoryError> {
        let org = self
            .spaces
            .get(space)
            .map(|e| e.org.clone())
            .ok_or_else(|| unknown(Entity::Space, space))?;
        self.users
            .entry(user)
            .or_default()
            .grant_space(org, space.clone(), role);
        Ok(())
    }

    /// The name of `org`.
    fn org_name(&self, org: &OrgId) -> Option<&Name> {
        self.orgs.get(org)
    }

    /// The organization called `name`.
    fn org_id(&self, name: &str) -> Option<&OrgId> {
        self.org_names.get(name)
    }

    /// The space of `org` called `name`.
    fn space_id(&self, org: &OrgId, name: &str) -> Option<&SpaceId> {
        self.space_names.get(org)?.get(name)
    }

    /// The app of `space` called `name`.
    fn app_id(&self, space: &SpaceId, name: &str) -> Option<&AppId> {
        self.app_names.get(space)?.get(name)
    }
}

/// The error for a name already used where it must be unique; `where_`
/// says where (` in organization `o``), empty for an organization.
fn name_taken(what: Entity, name: &Name, where_: String) -> DirectoryError {
    DirectoryError::NameTaken {
        what,
        name: name.clone(),
        where_,
    }
}

/// The error for an id already used, or used once and removed (R13).
fn id_taken(what: Entity, id: &impl fmt::Display) -> DirectoryError {
    DirectoryError::IdTaken {
        what,
        id: id.to_string(),
    }
}

fn unknown(what: Entity, id: &impl fmt::Display) -> DirectoryError {
    DirectoryError::Unknown {
        what,
        id: id.to_string(),
    }
}

/// The error for tables that hold what no release writes: `what` names it.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn corrupt(what: impl Into<String>) -> DirectoryError {
    DirectoryError::Corrupt { what: what.into() }
}

/// A name read from a table.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn name_of(text: &str) -> Result<Name, DirectoryError> {
    Name::new(text).map_err(|e| corrupt(format!("the name `{}` ({e})", text.escape_debug())))
}

/// An id read from a table, checked by `make`.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn id_of<'a, T>(
    text: &'a str,
    make: impl FnOnce(&'a str) -> Result<T, registry_credentials::scope::IdError>,
) -> Result<T, DirectoryError> {
    make(text).map_err(|e| corrupt(format!("the id `{}` ({e})", text.escape_debug())))
}

/// An app's image read from a table (R29).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn image_of(text: &str) -> Result<Reference, DirectoryError> {
    Reference::parse(text)
        .map_err(|e| corrupt(format!("the image `{}` ({e})", text.escape_debug())))
}

/// A role read from a table.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn role_of<T: std::str::FromStr>(text: &str) -> Result<T, DirectoryError> {
    text.parse()
        .map_err(|_| corrupt(format!("the role `{}`", text.escape_debug())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> (MemoryDirectory, OrgId, SpaceId) {
        let d = MemoryDirectory::new();
        let org = OrgId::new("o1").unwrap();
        let space = SpaceId::new("s1").unwrap();
        d.add_org(org.clone(), Name::new("myorg").unwrap()).unwrap();
        d.add_space(space.clone(), &org, Name::new("myspace").unwrap())
            .unwrap();
        (d, org, space)
    }

    #[test]
    fn names_are_unique_where_cf_wants_them() {
        let (d, org, space) = dir();
        let e = d
            .add_org(OrgId::new("o2").unwrap(), Name::new("myorg").unwrap())
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "organization `myorg` already exists; choose another name"
        );
        let e = d
            .add_space(
                SpaceId::new("s2").unwrap(),
                &org,
                Name::new("myspace").unwrap(),
            )
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "space `myspace` already exists in organization `myorg`; choose another name"
        );
        d.add_app(AppId::new("a1").unwrap(), &space, Name::new("app").unwrap())
            .unwrap();
        assert!(
            d.add_app(AppId::new("a2").unwrap(), &space, Name::new("app").unwrap())
                .is_err()
        );
        assert_eq!(d.apps().len(), 1);
        let e = d
            .add_space(
                SpaceId::new("s3").unwrap(),
                &OrgId::new("nope").unwrap(),
                Name::new("x").unwrap(),
            )
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "no organization has the id `nope`; create it first"
        );
        // R13: an id is never taken twice.
        let e = d
            .add_org(org.clone(), Name::new("other").unwrap())
            .unwrap_err();
        assert!(matches!(e, DirectoryError::IdTaken { .. }));
    }

    #[test]
    fn r21_space_role_grants_org_membership() {
        let (d, org, space) = dir();
        let u = UserId::new("u").unwrap();
        d.grant_space(u.clone(), &space, SpaceRole::Auditor)
            .unwrap();
        assert!(d.roles(&u).unwrap().has_org_role(&org, OrgRole::User));
        assert!(
            d.roles(&UserId::new("nobody").unwrap())
                .unwrap()
                .org_roles()
                .next()
                .is_none()
        );
    }

    #[test]
    fn describe_uses_names_and_place_finds_the_parents() {
        let (d, org, space) = dir();
        let id = AppId::new("a1").unwrap();
        d.add_app(id.clone(), &space, Name::new("a").unwrap())
            .unwrap();
        assert_eq!(
            d.describe(&Scope::App(id.clone())).unwrap(),
            "app `a` in space `myspace`"
        );
        assert_eq!(
            d.describe(&Scope::Space(space.clone())).unwrap(),
            "space `myspace` of organization `myorg`"
        );
        assert_eq!(
            d.place(&Scope::App(id.clone())).unwrap(),
            Some(Place::App(App::from_ids(org.clone(), space.clone(), id)))
        );
        assert_eq!(
            d.place(&Scope::Space(space.clone())).unwrap(),
            Some(Place::Space(org, space))
        );
        assert_eq!(
            d.place(&Scope::App(AppId::new("nope").unwrap())).unwrap(),
            None
        );
        assert!(Name::new("a b").is_err());
        assert!(Name::new("").is_err());
    }

    #[test]
    fn r13_removed_ids_are_never_used_again() {
        let (d, org, space) = dir();
        let app = AppId::new("a1").unwrap();
        d.add_app(app.clone(), &space, Name::new("app").unwrap())
            .unwrap();
        let u = UserId::new("u").unwrap();
        d.grant_space(u.clone(), &space, SpaceRole::Developer)
            .unwrap();
        d.remove_org(&org).unwrap();
        assert_eq!(d.org_by_name("myorg").unwrap(), None);
        assert_eq!(d.space(&space).unwrap(), None);
        assert!(d.app(&app).unwrap().is_none());
        assert!(!d.roles(&u).unwrap().in_org(&org));
        assert!(!d.roles(&u).unwrap().in_space(&space));
        // The name is free again; the ids are not.
        let o2 = OrgId::new("o2").unwrap();
        d.add_org(o2.clone(), Name::new("myorg").unwrap()).unwrap();
        let e = d
            .add_org(org.clone(), Name::new("again").unwrap())
            .unwrap_err();
        assert!(matches!(e, DirectoryError::IdTaken { .. }), "{e}");
        let e = d
            .add_space(space.clone(), &o2, Name::new("s").unwrap())
            .unwrap_err();
        assert!(matches!(e, DirectoryError::IdTaken { .. }), "{e}");
        assert!(matches!(
            d.remove_org(&org),
            Err(DirectoryError::Unknown { .. })
        ));
        // Removing one app leaves its space.
        let s2 = SpaceId::new("s2").unwrap();
        d.add_space(s2.clone(), &o2, Name::new("s").unwrap())
            .unwrap();
        let a2 = AppId::new("a2").unwrap();
        d.add_app(a2.clone(), &s2, Name::new("x").unwrap()).unwrap();
        d.remove_app(&a2).unwrap();
        assert!(d.apps_in(&s2).unwrap().is_empty());
        assert_eq!(d.spaces_in(&o2).unwrap().len(), 1);
        d.remove_space(&s2).unwrap();
        assert!(d.spaces_in(&o2).unwrap().is_empty());
    }

    #[test]
    fn r21_names_refuse_invisible_characters() {
        for bad in [
            "a\u{2028}b",
            "bidi\u{202e}",
            "zw\u{200b}",
            "nb\u{a0}sp",
            "c\x07",
        ] {
            assert!(Name::new(bad).is_err(), "{bad:?}");
        }
        assert!(Name::new("ünïcödé-app").is_ok());
    }

    #[test]
    fn clones_share_one_directory() {
        let (d, _, _) = dir();
        let clone = d.clone();
        clone
            .add_org(OrgId::new("o9").unwrap(), Name::new("nine").unwrap())
            .unwrap();
        assert!(d.org_by_name("nine").unwrap().is_some());
    }
}
