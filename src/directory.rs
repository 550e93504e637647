//! The platform's directory: which organizations, spaces and apps exist,
//! with their names, and which roles each user holds.
//!
//! The store keys credentials by ids alone ([`Scope`]); the directory is
//! what knows that an app sits in a space of an organization (for the
//! access rules, R20, R21) and what each is called (for listings). It is
//! plain data with no access control: the [`Manager`](crate::Manager)
//! checks the caller's roles before it changes the directory, and a
//! platform operator uses [`Directory`] directly to set up or restore one.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::access::{GlobalRole, OrgRole, Roles, ScopePath, SpaceRole};
use crate::{App, AppId, OrgId, Scope, SpaceId, UserId};

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
    /// The name has white space or a control character.
    #[error("the name contains white space or a control character at byte {at}; remove it")]
    BadCharacter {
        /// Where.
        at: usize,
    },
}

/// The name of an organization, space or app: non-empty, at most 255
/// bytes, without white space or control characters.
///
/// ```
/// use registry_credentials::Name;
/// let name: Name = "my-app".parse()?;
/// assert_eq!(name.as_str(), "my-app");
/// assert!("my app".parse::<Name>().is_err());
/// # Ok::<(), registry_credentials::NameError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(Box<str>);

impl Name {
    /// Checks and wraps a name.
    ///
    /// # Errors
    ///
    /// [`NameError`] when it is empty, too long, or has white space or a
    /// control character.
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
            .find(|(_, c)| c.is_whitespace() || c.is_control())
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

/// Why the directory refused a change. A refused change leaves it as it
/// was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DirectoryError {
    /// The id is already used.
    #[error("{what} id `{id}` is already used; choose another id")]
    IdTaken {
        /// Organization, space or app.
        what: &'static str,
        /// The id.
        id: String,
    },
    /// The name is already used where it must be unique: among
    /// organizations, among a organization's spaces, among a space's apps.
    #[error("{what} `{name}` already exists{where_}; choose another name")]
    NameTaken {
        /// Organization, space or app.
        what: &'static str,
        /// The name.
        name: Name,
        /// Where, for a space or an app (` in organization `x``).
        where_: String,
    },
    /// The organization, space or app named by id does not exist.
    #[error("no {what} has the id `{id}`; create it first")]
    Unknown {
        /// Organization, space or app.
        what: &'static str,
        /// The id.
        id: String,
    },
}

#[derive(Debug, Clone)]
struct SpaceEntry {
    org: OrgId,
    name: Name,
}

#[derive(Debug, Clone)]
struct AppEntry {
    app: App,
    name: Name,
}

/// Organizations, spaces and apps with their names, and every user's roles.
///
/// Organization names are unique on the platform, space names inside their
/// organization, app names inside their space, as in cf. Every look-up, by
/// id or by name, is a map look-up; iteration is in id order, except
/// [`apps_in`](Self::apps_in), which is in name order.
///
/// ```
/// use registry_credentials::{Directory, Name, OrgId, Scope, ScopeKind, SpaceId};
///
/// let mut dir = Directory::new();
/// let org = OrgId::new("org-1")?;
/// let space = SpaceId::new("space-1")?;
/// dir.add_org(org.clone(), Name::new("myorg")?)?;
/// dir.add_space(space.clone(), &org, Name::new("myspace")?)?;
/// assert_eq!(dir.space_id(&org, "myspace"), Some(&space));
/// let scope = Scope::Space(space);
/// assert_eq!(dir.path(&scope).map(|p| p.kind()), Some(ScopeKind::Space));
/// assert_eq!(dir.describe(&scope), "space `myspace` of organization `myorg`");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Directory {
    orgs: BTreeMap<OrgId, Name>,
    spaces: BTreeMap<SpaceId, SpaceEntry>,
    apps: BTreeMap<AppId, AppEntry>,
    users: BTreeMap<UserId, Roles>,
    // Indexes by name.
    org_names: BTreeMap<Name, OrgId>,
    space_names: BTreeMap<OrgId, BTreeMap<Name, SpaceId>>,
    app_names: BTreeMap<SpaceId, BTreeMap<Name, AppId>>,
}

static NO_ROLES: std::sync::OnceLock<Roles> = std::sync::OnceLock::new();

impl Directory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an organization.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::IdTaken`] or [`DirectoryError::NameTaken`].
    pub fn add_org(&mut self, id: OrgId, name: Name) -> Result<(), DirectoryError> {
        if self.orgs.contains_key(&id) {
            return Err(DirectoryError::IdTaken {
                what: "organization",
                id: id.to_string(),
            });
        }
        if self.org_id(name.as_str()).is_some() {
            return Err(DirectoryError::NameTaken {
                what: "organization",
                name,
                where_: String::new(),
            });
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
    pub fn add_space(
        &mut self,
        id: SpaceId,
        org: &OrgId,
        name: Name,
    ) -> Result<(), DirectoryError> {
        let org_name = self
            .org_name(org)
            .ok_or_else(|| unknown("organization", org))?;
        if self.spaces.contains_key(&id) {
            return Err(DirectoryError::IdTaken {
                what: "space",
                id: id.to_string(),
            });
        }
        if self.space_id(org, name.as_str()).is_some() {
            return Err(DirectoryError::NameTaken {
                what: "space",
                where_: format!(" in organization `{org_name}`"),
                name,
            });
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
    pub fn add_app(
        &mut self,
        id: AppId,
        space: &SpaceId,
        name: Name,
    ) -> Result<(), DirectoryError> {
        let entry = self
            .spaces
            .get(space)
            .ok_or_else(|| unknown("space", space))?;
        if self.apps.contains_key(&id) {
            return Err(DirectoryError::IdTaken {
                what: "app",
                id: id.to_string(),
            });
        }
        if self.app_id(space, name.as_str()).is_some() {
            return Err(DirectoryError::NameTaken {
                what: "app",
                where_: format!(" in space `{}`", entry.name),
                name,
            });
        }
        let app = App::from_ids(entry.org.clone(), space.clone(), id.clone());
        self.app_names
            .entry(space.clone())
            .or_default()
            .insert(name.clone(), id.clone());
        self.apps.insert(id, AppEntry { app, name });
        Ok(())
    }

    /// Gives `user` a global role.
    pub fn grant_global(&mut self, user: UserId, role: GlobalRole) {
        self.users.entry(user).or_default().grant_global(role);
    }

    /// Gives `user` a role in `org`.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Unknown`] when `org` does not exist.
    pub fn grant_org(
        &mut self,
        user: UserId,
        org: &OrgId,
        role: OrgRole,
    ) -> Result<(), DirectoryError> {
        if !self.orgs.contains_key(org) {
            return Err(unknown("organization", org));
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
    pub fn grant_space(
        &mut self,
        user: UserId,
        space: &SpaceId,
        role: SpaceRole,
    ) -> Result<(), DirectoryError> {
        let org = self
            .space_org(space)
            .ok_or_else(|| unknown("space", space))?;
        let org = org.clone();
        self.users
            .entry(user)
            .or_default()
            .grant_space(org, space.clone(), role);
        Ok(())
    }

    /// The roles of `user`; none for a user the directory has never seen.
    pub fn roles(&self, user: &UserId) -> &Roles {
        self.users
            .get(user)
            .unwrap_or_else(|| NO_ROLES.get_or_init(Roles::new))
    }

    /// Every user that holds a role, with the roles.
    pub fn users(&self) -> impl Iterator<Item = (&UserId, &Roles)> + '_ {
        self.users.iter()
    }

    /// Every organization, with its name.
    pub fn orgs(&self) -> impl Iterator<Item = (&OrgId, &Name)> + '_ {
        self.orgs.iter()
    }

    /// Every space, with its organization and name.
    pub fn spaces(&self) -> impl Iterator<Item = (&SpaceId, &OrgId, &Name)> + '_ {
        self.spaces.iter().map(|(id, e)| (id, &e.org, &e.name))
    }

    /// Every app, with its name.
    pub fn apps(&self) -> impl Iterator<Item = (&App, &Name)> + '_ {
        self.apps.values().map(|e| (&e.app, &e.name))
    }

    /// The apps of `space`, with their names.
    pub fn apps_in<'a>(
        &'a self,
        space: &'a SpaceId,
    ) -> impl Iterator<Item = (&'a App, &'a Name)> + 'a {
        self.app_names
            .get(space)
            .into_iter()
            .flat_map(|names| names.values())
            .filter_map(|id| self.apps.get(id))
            .map(|e| (&e.app, &e.name))
    }

    /// The name of `org`.
    pub fn org_name(&self, org: &OrgId) -> Option<&Name> {
        self.orgs.get(org)
    }

    /// The organization called `name`.
    pub fn org_id(&self, name: &str) -> Option<&OrgId> {
        self.org_names.get(name)
    }

    /// The name of `space`.
    pub fn space_name(&self, space: &SpaceId) -> Option<&Name> {
        self.spaces.get(space).map(|e| &e.name)
    }

    /// The organization `space` belongs to.
    pub fn space_org(&self, space: &SpaceId) -> Option<&OrgId> {
        self.spaces.get(space).map(|e| &e.org)
    }

    /// The space of `org` called `name`.
    pub fn space_id(&self, org: &OrgId, name: &str) -> Option<&SpaceId> {
        self.space_names.get(org)?.get(name)
    }

    /// The app with id `app`: its space and organization.
    pub fn app(&self, app: &AppId) -> Option<&App> {
        self.apps.get(app).map(|e| &e.app)
    }

    /// The name of `app`.
    pub fn app_name(&self, app: &AppId) -> Option<&Name> {
        self.apps.get(app).map(|e| &e.name)
    }

    /// The app of `space` called `name`.
    pub fn app_id(&self, space: &SpaceId, name: &str) -> Option<&AppId> {
        self.app_names.get(space)?.get(name)
    }

    /// The place `scope` names, with its organization and space, for an
    /// access decision; `None` when the directory does not know it.
    pub fn path<'a>(&'a self, scope: &'a Scope) -> Option<ScopePath<'a>> {
        Some(match scope {
            Scope::Foundation => ScopePath::Foundation,
            Scope::Org(org) => {
                self.orgs.get(org)?;
                ScopePath::Org(org)
            }
            Scope::Space(space) => ScopePath::Space(self.space_org(space)?, space),
            Scope::App(app) => ScopePath::App(self.app(app)?),
        })
    }

    /// `scope` in words, by name: `the foundation`, ``organization `myorg` ``,
    /// ``space `myspace` of organization `myorg` ``, ``app `myapp` in space
    /// `myspace` ``. Ids stand in for names the directory does not know.
    pub fn describe(&self, scope: &Scope) -> String {
        match scope {
            Scope::Foundation => "the foundation".to_owned(),
            Scope::Org(org) => format!("organization `{}`", self.org_label(org)),
            Scope::Space(space) => match self.space_org(space) {
                Some(org) => format!(
                    "space `{}` of organization `{}`",
                    self.space_label(space),
                    self.org_label(org)
                ),
                None => format!("space `{space}`"),
            },
            Scope::App(app) => match self.app(app) {
                Some(a) => format!(
                    "app `{}` in space `{}`",
                    self.app_label(app),
                    self.space_label(a.space())
                ),
                None => format!("app `{app}`"),
            },
        }
    }

    fn org_label<'a>(&'a self, org: &'a OrgId) -> &'a str {
        self.org_name(org).map_or(org.as_str(), Name::as_str)
    }

    fn space_label<'a>(&'a self, space: &'a SpaceId) -> &'a str {
        self.space_name(space).map_or(space.as_str(), Name::as_str)
    }

    fn app_label<'a>(&'a self, app: &'a AppId) -> &'a str {
        self.app_name(app).map_or(app.as_str(), Name::as_str)
    }

    /// An id of the form `{prefix}-{n}` that no organization, space or app
    /// uses yet.
    pub(crate) fn fresh_id(&self, prefix: &str) -> String {
        let used = |id: &str| {
            OrgId::new(id).is_ok_and(|k| self.orgs.contains_key(&k))
                || SpaceId::new(id).is_ok_and(|k| self.spaces.contains_key(&k))
                || AppId::new(id).is_ok_and(|k| self.apps.contains_key(&k))
        };
        let count = self.orgs.len() + self.spaces.len() + self.apps.len();
        (count + 1..)
            .map(|n| format!("{prefix}-{n}"))
            .find(|id| !used(id))
            .expect("an unused number exists")
    }
}

fn unknown(what: &'static str, id: &impl fmt::Display) -> DirectoryError {
    DirectoryError::Unknown {
        what,
        id: id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> (Directory, OrgId, SpaceId) {
        let mut d = Directory::new();
        let org = OrgId::new("o1").unwrap();
        let space = SpaceId::new("s1").unwrap();
        d.add_org(org.clone(), Name::new("myorg").unwrap()).unwrap();
        d.add_space(space.clone(), &org, Name::new("myspace").unwrap())
            .unwrap();
        (d, org, space)
    }

    #[test]
    fn names_are_unique_where_cf_wants_them() {
        let (mut d, org, space) = dir();
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
        assert!(d
            .add_app(AppId::new("a2").unwrap(), &space, Name::new("app").unwrap())
            .is_err());
        assert_eq!(d.apps().count(), 1);
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
    }

    #[test]
    fn r21_space_role_grants_org_membership() {
        let (mut d, org, space) = dir();
        let u = UserId::new("u").unwrap();
        d.grant_space(u.clone(), &space, SpaceRole::Auditor)
            .unwrap();
        assert!(d.roles(&u).has_org_role(&org, OrgRole::User));
        assert!(d
            .roles(&UserId::new("nobody").unwrap())
            .org_roles()
            .next()
            .is_none());
    }

    #[test]
    fn fresh_ids_are_unused_and_describe_uses_names() {
        let (mut d, _, space) = dir();
        let id = d.fresh_id("app");
        d.add_app(AppId::new(&id).unwrap(), &space, Name::new("a").unwrap())
            .unwrap();
        assert_ne!(d.fresh_id("app"), id);
        assert_eq!(
            d.describe(&Scope::App(AppId::new(&id).unwrap())),
            "app `a` in space `myspace`"
        );
        assert_eq!(
            d.describe(&Scope::Space(space)),
            "space `myspace` of organization `myorg`"
        );
        assert!(Name::new("a b").is_err());
        assert!(Name::new("").is_err());
    }
}
