//! Access control: who may change (R20) and who may see (R21) the
//! credentials at a scope, and who may shape the organizations and spaces
//! they live in.
//!
//! Everything here is a pure function of a user's [`Roles`] and the place
//! asked about ([`ScopePath`]): no store, no directory, no I/O. The
//! [`Manager`](crate::manage::Manager) looks the roles and the place up and asks
//! these functions before it touches anything.
//!
//! ```
//! use registry_credentials::scope::{OrgId, SpaceId};
//! use registry_credentials_cf::access::{self, OrgRole, Operation, Roles, ScopePath};
//!
//! let org = OrgId::new("org-1")?;
//! let space = SpaceId::new("space-1")?;
//! let mut manager = Roles::new();
//! manager.grant_org(org.clone(), OrgRole::Manager);
//!
//! // An Org Manager changes the organization's credentials (R20)…
//! assert!(access::allows(&manager, Operation::Create, ScopePath::Org(&org)));
//! // …but not its spaces' (R20), nor may it see them without a role there (R21).
//! assert!(!access::allows(&manager, Operation::Update, ScopePath::Space(&org, &space)));
//! assert!(!access::allows(&manager, Operation::Read, ScopePath::Space(&org, &space)));
//! // Every user sees the foundation's credentials (R21).
//! assert!(access::allows(&Roles::new(), Operation::Read, ScopePath::Foundation));
//! # Ok::<(), registry_credentials::scope::IdError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use registry_credentials::scope::{OrgId, SpaceId};
use registry_credentials::{App, ScopeKind};

/// A role over the whole platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GlobalRole {
    /// Changes and sees everything.
    Admin,
    /// Sees everything an admin sees, changes nothing.
    AdminReadOnly,
    /// Sees everything an admin sees, changes nothing.
    GlobalAuditor,
}

/// A role in one organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OrgRole {
    /// Org Manager: changes the organization's credentials (R20).
    Manager,
    /// Org Auditor.
    Auditor,
    /// Org Billing Manager.
    BillingManager,
    /// Org User: a member. A role in one of the organization's spaces makes
    /// its holder one (R21).
    User,
}

/// A role in one space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpaceRole {
    /// Space Developer: changes the space's and its apps' credentials (R20)
    /// and pushes apps.
    Developer,
    /// Space Manager.
    Manager,
    /// Space Auditor.
    Auditor,
    /// Space Supporter.
    Supporter,
}

impl GlobalRole {
    /// All of them.
    pub const ALL: [GlobalRole; 3] = [
        GlobalRole::Admin,
        GlobalRole::AdminReadOnly,
        GlobalRole::GlobalAuditor,
    ];

    /// The name cf uses.
    pub fn as_str(self) -> &'static str {
        match self {
            GlobalRole::Admin => "Admin",
            GlobalRole::AdminReadOnly => "AdminReadOnly",
            GlobalRole::GlobalAuditor => "GlobalAuditor",
        }
    }
}

impl OrgRole {
    /// All of them.
    pub const ALL: [OrgRole; 4] = [
        OrgRole::Manager,
        OrgRole::Auditor,
        OrgRole::BillingManager,
        OrgRole::User,
    ];

    /// The name `cf set-org-role` takes: `OrgManager`, `OrgAuditor`,
    /// `BillingManager`, `OrgUser`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Manager => "OrgManager",
            OrgRole::Auditor => "OrgAuditor",
            OrgRole::BillingManager => "BillingManager",
            OrgRole::User => "OrgUser",
        }
    }
}

impl SpaceRole {
    /// All of them.
    pub const ALL: [SpaceRole; 4] = [
        SpaceRole::Developer,
        SpaceRole::Manager,
        SpaceRole::Auditor,
        SpaceRole::Supporter,
    ];

    /// The name `cf set-space-role` takes: `SpaceDeveloper`, `SpaceManager`,
    /// `SpaceAuditor`, `SpaceSupporter`.
    pub fn as_str(self) -> &'static str {
        match self {
            SpaceRole::Developer => "SpaceDeveloper",
            SpaceRole::Manager => "SpaceManager",
            SpaceRole::Auditor => "SpaceAuditor",
            SpaceRole::Supporter => "SpaceSupporter",
        }
    }
}

/// A role name that is not one of cf's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{given}` is not {what} role; use one of {expected}")]
pub struct RoleError {
    given: String,
    what: &'static str,
    expected: &'static str,
}

macro_rules! role_names {
    ($ty:ident, $what:literal, $expected:literal) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Parses cf's name for the role, ignoring case.
        impl FromStr for $ty {
            type Err = RoleError;
            fn from_str(s: &str) -> Result<Self, RoleError> {
                Self::ALL
                    .into_iter()
                    .find(|r| r.as_str().eq_ignore_ascii_case(s))
                    .ok_or_else(|| RoleError {
                        given: s.chars().take(64).collect(),
                        what: $what,
                        expected: $expected,
                    })
            }
        }
    };
}

role_names!(
    GlobalRole,
    "a global",
    "Admin, AdminReadOnly, GlobalAuditor"
);
role_names!(
    OrgRole,
    "an organization",
    "OrgManager, OrgAuditor, BillingManager, OrgUser"
);
role_names!(
    SpaceRole,
    "a space",
    "SpaceDeveloper, SpaceManager, SpaceAuditor, SpaceSupporter"
);

/// The roles one user holds: global ones, per organization and per space.
///
/// Granting a space role also makes the user an Org User of the space's
/// organization, as cf does (R21).
///
/// ```
/// use registry_credentials::scope::{OrgId, SpaceId};
/// use registry_credentials_cf::access::{OrgRole, Roles, SpaceRole};
/// let (org, space) = (OrgId::new("o")?, SpaceId::new("s")?);
/// let mut roles = Roles::new();
/// roles.grant_space(org.clone(), space.clone(), SpaceRole::Developer);
/// assert!(roles.has_space_role(&space, SpaceRole::Developer));
/// assert!(roles.has_org_role(&org, OrgRole::User));
/// # Ok::<(), registry_credentials::scope::IdError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    global: BTreeSet<GlobalRole>,
    orgs: BTreeMap<OrgId, BTreeSet<OrgRole>>,
    spaces: BTreeMap<SpaceId, BTreeSet<SpaceRole>>,
}

impl Roles {
    /// No roles at all: such a user sees the foundation's credentials only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Grants a global role.
    pub fn grant_global(&mut self, role: GlobalRole) -> &mut Self {
        self.global.insert(role);
        self
    }

    /// Grants a role in `org`.
    pub fn grant_org(&mut self, org: OrgId, role: OrgRole) -> &mut Self {
        self.orgs.entry(org).or_default().insert(role);
        self
    }

    /// Grants a role in `space`, which belongs to `org`; the user also
    /// becomes an Org User of `org`.
    pub fn grant_space(&mut self, org: OrgId, space: SpaceId, role: SpaceRole) -> &mut Self {
        self.spaces.entry(space).or_default().insert(role);
        self.grant_org(org, OrgRole::User)
    }

    /// Takes away every role in `org` (its organization was deleted). Its
    /// spaces' roles are taken away by [`revoke_space`](Self::revoke_space).
    pub fn revoke_org(&mut self, org: &OrgId) -> &mut Self {
        self.orgs.remove(org);
        self
    }

    /// Takes away every role in `space` (it was deleted). The Org User
    /// role it brought stays, as in cf.
    pub fn revoke_space(&mut self, space: &SpaceId) -> &mut Self {
        self.spaces.remove(space);
        self
    }

    /// True when the user holds `role` globally.
    pub fn has_global(&self, role: GlobalRole) -> bool {
        self.global.contains(&role)
    }

    /// True when the user holds `role` in `org`.
    pub fn has_org_role(&self, org: &OrgId, role: OrgRole) -> bool {
        self.orgs.get(org).is_some_and(|r| r.contains(&role))
    }

    /// True when the user holds `role` in `space`.
    pub fn has_space_role(&self, space: &SpaceId, role: SpaceRole) -> bool {
        self.spaces.get(space).is_some_and(|r| r.contains(&role))
    }

    /// True when the user holds any role in `org` (a space role in one of
    /// its spaces counts, having made the user an Org User).
    pub fn in_org(&self, org: &OrgId) -> bool {
        self.orgs.get(org).is_some_and(|r| !r.is_empty())
    }

    /// True when the user holds any role in `space`.
    pub fn in_space(&self, space: &SpaceId) -> bool {
        self.spaces.get(space).is_some_and(|r| !r.is_empty())
    }

    /// True for an Admin.
    pub fn is_admin(&self) -> bool {
        self.has_global(GlobalRole::Admin)
    }

    /// True for the roles that see everything: Admin, Admin Read-Only,
    /// Global Auditor (R21).
    pub fn sees_everything(&self) -> bool {
        !self.global.is_empty()
    }

    /// The global roles held.
    pub fn global(&self) -> impl Iterator<Item = GlobalRole> + '_ {
        self.global.iter().copied()
    }

    /// Every (organization, role) held.
    pub fn org_roles(&self) -> impl Iterator<Item = (&OrgId, OrgRole)> + '_ {
        self.orgs
            .iter()
            .flat_map(|(o, rs)| rs.iter().map(move |r| (o, *r)))
    }

    /// Every (space, role) held.
    pub fn space_roles(&self) -> impl Iterator<Item = (&SpaceId, SpaceRole)> + '_ {
        self.spaces
            .iter()
            .flat_map(|(s, rs)| rs.iter().map(move |r| (s, *r)))
    }
}

/// A scope with the organization and space it sits in: what an access
/// decision needs to know about a place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopePath<'a> {
    /// The whole platform.
    Foundation,
    /// An organization.
    Org(&'a OrgId),
    /// A space of an organization.
    Space(&'a OrgId, &'a SpaceId),
    /// An app, which knows its space and organization.
    App(&'a App),
}

impl ScopePath<'_> {
    /// Which kind of scope.
    pub fn kind(&self) -> ScopeKind {
        match self {
            ScopePath::Foundation => ScopeKind::Foundation,
            ScopePath::Org(_) => ScopeKind::Org,
            ScopePath::Space(..) => ScopeKind::Space,
            ScopePath::App(_) => ScopeKind::App,
        }
    }
}

/// What a caller wants to do with the credentials at a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    /// Create one (R16), or, at app scope, store one from a push (R19).
    Create,
    /// Change the username or password of one (R17).
    Update,
    /// Delete one (R18).
    Delete,
    /// See them in a listing (R21).
    Read,
}

impl Operation {
    /// All four.
    pub const ALL: [Operation; 4] = [
        Operation::Create,
        Operation::Update,
        Operation::Delete,
        Operation::Read,
    ];

    /// True for create, update and delete: the operations R20 governs.
    pub fn changes(self) -> bool {
        !matches!(self, Operation::Read)
    }

    /// The verb, for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Read => "see",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// May a user with `roles` change the credentials at `at` (R20)?
///
/// Foundation: Admin. Organization: Admin, or an Org Manager of that
/// organization. Space and app: Admin, or a Space Developer of that space
/// (an Org Manager may not).
pub fn may_change(roles: &Roles, at: ScopePath<'_>) -> bool {
    if roles.is_admin() {
        return true;
    }
    match at {
        ScopePath::Foundation => false,
        ScopePath::Org(org) => roles.has_org_role(org, OrgRole::Manager),
        ScopePath::Space(_, space) => roles.has_space_role(space, SpaceRole::Developer),
        ScopePath::App(app) => roles.has_space_role(app.space(), SpaceRole::Developer),
    }
}

/// May a user with `roles` see the credentials at `at` (R21)?
///
/// Foundation: everyone. Organization: Admin, Admin Read-Only, Global
/// Auditor, and anyone with a role in that organization. Space and app:
/// the same three, and anyone with a role in that space.
pub fn may_see(roles: &Roles, at: ScopePath<'_>) -> bool {
    if roles.sees_everything() {
        return true;
    }
    match at {
        ScopePath::Foundation => true,
        ScopePath::Org(org) => roles.in_org(org),
        ScopePath::Space(_, space) => roles.in_space(space),
        ScopePath::App(app) => roles.in_space(app.space()),
    }
}

/// May a user with `roles` be told that `app` pulls with a credential, and
/// which (R29)? Those who may see the app's own credentials (R21: Admin,
/// Admin Read-Only, Global Auditor, anyone with a role in its space), and
/// an Org Manager of its organization, who in cf sees every space and app
/// of the organization: so that whoever may change a credential (R20) is
/// shown every app the change reaches.
pub fn may_see_app(roles: &Roles, app: &App) -> bool {
    may_see(roles, ScopePath::App(app)) || roles.has_org_role(app.org(), OrgRole::Manager)
}

/// May a user with `roles` do `operation` at `at`? [`may_change`] for
/// create, update and delete; [`may_see`] for read.
pub fn allows(roles: &Roles, operation: Operation, at: ScopePath<'_>) -> bool {
    if operation.changes() {
        may_change(roles, at)
    } else {
        may_see(roles, at)
    }
}

/// Who may do `operation` at a scope of `kind`, in words, for a refusal's
/// message.
pub fn who_may(operation: Operation, kind: ScopeKind) -> &'static str {
    match (operation.changes(), kind) {
        (true, ScopeKind::Foundation) => "only an admin may",
        (true, ScopeKind::Org) => "only an admin or an org manager of that organization may",
        (true, ScopeKind::Space | ScopeKind::App) => {
            "only an admin or a space developer of that space may"
        }
        (false, ScopeKind::Foundation) => "every user may",
        (false, ScopeKind::Org) => {
            "only admins, global auditors and users with a role in that organization may"
        }
        (false, ScopeKind::Space | ScopeKind::App) => {
            "only admins, global auditors and users with a role in that space may"
        }
    }
}

/// A change to the organizations, spaces and roles themselves, with cf's
/// rules for who may make it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DirectoryAction<'a> {
    /// Create an organization: Admin.
    CreateOrg,
    /// Create a space in an organization: Admin, or an Org Manager of it.
    CreateSpace(&'a OrgId),
    /// Give a user a role in an organization: Admin, or an Org Manager of
    /// it.
    SetOrgRole(&'a OrgId),
    /// Give a user a role in a space: Admin, an Org Manager of its
    /// organization, or a Space Manager of the space.
    SetSpaceRole(&'a OrgId, &'a SpaceId),
    /// Delete an organization with everything in it: Admin.
    DeleteOrg(&'a OrgId),
    /// Delete a space of an organization with everything in it: Admin,
    /// or an Org Manager of the organization.
    DeleteSpace(&'a OrgId),
}

impl DirectoryAction<'_> {
    /// What the action does, for messages.
    pub fn as_str(&self) -> &'static str {
        match self {
            DirectoryAction::CreateOrg => "create organizations",
            DirectoryAction::CreateSpace(_) => "create spaces in this organization",
            DirectoryAction::SetOrgRole(_) => "set roles in this organization",
            DirectoryAction::SetSpaceRole(..) => "set roles in this space",
            DirectoryAction::DeleteOrg(_) => "delete organizations",
            DirectoryAction::DeleteSpace(_) => "delete spaces in this organization",
        }
    }

    /// Who may, in words.
    pub fn who_may(&self) -> &'static str {
        match self {
            DirectoryAction::CreateOrg | DirectoryAction::DeleteOrg(_) => "only an admin may",
            DirectoryAction::CreateSpace(_)
            | DirectoryAction::SetOrgRole(_)
            | DirectoryAction::DeleteSpace(_) => {
                "only an admin or an org manager of the organization may"
            }
            DirectoryAction::SetSpaceRole(..) => {
                "only an admin, an org manager of the organization or a space manager of the space may"
            }
        }
    }
}

/// May a user with `roles` take `action`?
pub fn may_administer(roles: &Roles, action: DirectoryAction<'_>) -> bool {
    if roles.is_admin() {
        return true;
    }
    match action {
        DirectoryAction::CreateOrg | DirectoryAction::DeleteOrg(_) => false,
        DirectoryAction::CreateSpace(org)
        | DirectoryAction::SetOrgRole(org)
        | DirectoryAction::DeleteSpace(org) => roles.has_org_role(org, OrgRole::Manager),
        DirectoryAction::SetSpaceRole(org, space) => {
            roles.has_org_role(org, OrgRole::Manager)
                || roles.has_space_role(space, SpaceRole::Manager)
        }
    }
}

/// May a user with `roles` find `org` by name (target it, name it in a
/// command)? Those who see everything, and its members. An organization
/// the caller may not find is reported as not found, so its existence is
/// not revealed.
pub fn may_find_org(roles: &Roles, org: &OrgId) -> bool {
    roles.sees_everything() || roles.in_org(org)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (OrgId, SpaceId, App) {
        let app = App::new("o", "s", "a").unwrap();
        (app.org().clone(), app.space().clone(), app)
    }

    #[test]
    fn r20_org_manager_may_not_change_space_or_app_credentials() {
        let (org, space, app) = ids();
        let mut r = Roles::new();
        r.grant_org(org.clone(), OrgRole::Manager);
        assert!(may_change(&r, ScopePath::Org(&org)));
        assert!(!may_change(&r, ScopePath::Space(&org, &space)));
        assert!(!may_change(&r, ScopePath::App(&app)));
        assert!(!may_change(&r, ScopePath::Foundation));
    }

    #[test]
    fn r21_space_role_makes_an_org_user() {
        let (org, space, app) = ids();
        let mut r = Roles::new();
        r.grant_space(org.clone(), space.clone(), SpaceRole::Supporter);
        assert!(may_see(&r, ScopePath::Org(&org)));
        assert!(may_see(&r, ScopePath::App(&app)));
        assert!(!may_change(&r, ScopePath::App(&app)));
        assert!(r.has_org_role(&org, OrgRole::User));
    }

    #[test]
    fn role_names_parse_as_cf_writes_them() {
        assert_eq!("OrgManager".parse::<OrgRole>().unwrap(), OrgRole::Manager);
        assert_eq!(
            "spacedeveloper".parse::<SpaceRole>().unwrap(),
            SpaceRole::Developer
        );
        for r in OrgRole::ALL {
            assert_eq!(r.as_str().parse::<OrgRole>().unwrap(), r);
        }
        for r in SpaceRole::ALL {
            assert_eq!(r.to_string().parse::<SpaceRole>().unwrap(), r);
        }
        for r in GlobalRole::ALL {
            assert_eq!(r.to_string().parse::<GlobalRole>().unwrap(), r);
        }
        let e = "Manager".parse::<OrgRole>().unwrap_err().to_string();
        assert_eq!(
            e,
            "`Manager` is not an organization role; use one of OrgManager, OrgAuditor, BillingManager, OrgUser"
        );
    }

    #[test]
    fn cf_directory_rules() {
        let (org, space, _) = ids();
        let other = OrgId::new("other").unwrap();
        let mut sm = Roles::new();
        sm.grant_space(org.clone(), space.clone(), SpaceRole::Manager);
        assert!(may_administer(
            &sm,
            DirectoryAction::SetSpaceRole(&org, &space)
        ));
        assert!(!may_administer(&sm, DirectoryAction::SetOrgRole(&org)));
        assert!(!may_administer(&sm, DirectoryAction::CreateSpace(&org)));
        let mut om = Roles::new();
        om.grant_org(org.clone(), OrgRole::Manager);
        assert!(may_administer(&om, DirectoryAction::CreateSpace(&org)));
        assert!(!may_administer(&om, DirectoryAction::CreateSpace(&other)));
        assert!(!may_administer(&om, DirectoryAction::CreateOrg));
        assert!(may_administer(&om, DirectoryAction::DeleteSpace(&org)));
        assert!(!may_administer(&om, DirectoryAction::DeleteSpace(&other)));
        assert!(!may_administer(&om, DirectoryAction::DeleteOrg(&org)));
        assert!(!may_administer(&sm, DirectoryAction::DeleteSpace(&org)));
        let mut admin = Roles::new();
        admin.grant_global(GlobalRole::Admin);
        assert!(may_administer(&admin, DirectoryAction::CreateOrg));
        assert!(may_administer(&admin, DirectoryAction::DeleteOrg(&org)));
        assert!(may_find_org(&om, &org));
        assert!(!may_find_org(&om, &other));
    }
}
