//! Stored credentials as the platform's resources (R21, R22): read,
//! changed and deleted by GUID, and listed by one [`Query`] that the read
//! rules narrow to the scopes the caller may see, so the store answers it
//! in one call.
//!
//! The decisions live on the gate (no store I/O); the calls that use them
//! are [`AsyncManager`](super::AsyncManager)'s `get_by_guid`,
//! `update_by_guid`, `delete_by_guid` and `query`.

use std::collections::{BTreeMap, BTreeSet};

use registry_credentials::credential::CredentialSummary;
use registry_credentials::identity::Guid;
use registry_credentials::scope::{AppId, OrgId, SpaceId, UserId};
use registry_credentials::store::StoreError;
use registry_credentials::store::{Page, Query};
use registry_credentials::{RegistryCredential, Scope};

use super::{Gate, ManageError};
use crate::access::{self, Operation, Roles};
use crate::directory::{AsyncDirectoryWriter, Place};

/// A stored credential with the place of its scope: the organization of
/// a space, the space and organization of an app, as the directory holds
/// them, for the relationships of the platform's resource.
#[derive(Debug, Clone)]
pub struct Located {
    credential: CredentialSummary,
    place: Option<Place>,
}

impl Located {
    /// The credential, without its secret (R21).
    pub fn credential(&self) -> &CredentialSummary {
        &self.credential
    }

    /// Where its scope sits; `None` when the directory no longer knows the
    /// scope (a credential its organization, space or app left behind).
    pub fn place(&self) -> Option<&Place> {
        self.place.as_ref()
    }

    /// The organization it belongs to: its own for an organization
    /// credential, its space's or app's organization otherwise; `None` for
    /// the foundation's.
    pub fn org(&self) -> Option<&OrgId> {
        match (&self.place, self.credential.scope()) {
            (_, Scope::Org(org)) => Some(org),
            (Some(Place::Space(org, _)), _) => Some(org),
            (Some(Place::App(app)), _) => Some(app.org()),
            _ => None,
        }
    }

    /// The space it belongs to: its own for a space credential, its
    /// app's for an app credential.
    pub fn space(&self) -> Option<&SpaceId> {
        match (&self.place, self.credential.scope()) {
            (_, Scope::Space(space)) => Some(space),
            (Some(Place::App(app)), _) => Some(app.space()),
            _ => None,
        }
    }

    /// The app, for an app credential.
    pub fn app(&self) -> Option<&AppId> {
        match self.credential.scope() {
            Scope::App(app) => Some(app),
            _ => None,
        }
    }
}

/// One page of [`AsyncManager::query`](super::AsyncManager::query)'s
/// answer: the credentials on it, located, and how many matched in all.
pub type LocatedPage = Page<Located>;

/// The organizations, spaces and apps a query is narrowed to, by the
/// credentials' relationships (R22): a credential is within an
/// organization when it belongs to it (its own, or its spaces' and their
/// apps'), within a space when it is the space's or one of its apps', and
/// within an app when it is the app's. Each list given must hold; an
/// empty list holds for nothing, and a foundation credential is within
/// no organization, space or app.
///
/// ```
/// use registry_credentials::scope::OrgId;
/// use registry_credentials_cf::directory::Place;
/// use registry_credentials_cf::manage::Within;
/// let org = OrgId::new("o")?;
/// let within = Within::new().orgs([org.clone()]);
/// assert!(within.holds(&Place::Org(org)));
/// assert!(!within.holds(&Place::Foundation));
/// assert!(Within::new().holds(&Place::Foundation));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Within {
    orgs: Option<Vec<OrgId>>,
    spaces: Option<Vec<SpaceId>>,
    apps: Option<Vec<AppId>>,
}

impl Within {
    /// Everywhere: no organization, space or app filter.
    pub fn new() -> Self {
        Within::default()
    }

    /// Only credentials that belong to one of `orgs`.
    #[must_use]
    pub fn orgs(mut self, orgs: impl IntoIterator<Item = OrgId>) -> Self {
        self.orgs = Some(orgs.into_iter().collect());
        self
    }

    /// Only credentials that belong to one of `spaces`.
    #[must_use]
    pub fn spaces(mut self, spaces: impl IntoIterator<Item = SpaceId>) -> Self {
        self.spaces = Some(spaces.into_iter().collect());
        self
    }

    /// Only credentials of one of `apps`.
    #[must_use]
    pub fn apps(mut self, apps: impl IntoIterator<Item = AppId>) -> Self {
        self.apps = Some(apps.into_iter().collect());
        self
    }

    /// Whether it narrows nothing.
    pub fn is_everywhere(&self) -> bool {
        self.orgs.is_none() && self.spaces.is_none() && self.apps.is_none()
    }

    /// Whether a credential at `place` is within every list given.
    pub fn holds(&self, place: &Place) -> bool {
        let (org, space, app) = match place {
            Place::Foundation => (None, None, None),
            Place::Org(org) => (Some(org), None, None),
            Place::Space(org, space) => (Some(org), Some(space), None),
            Place::App(app) => (Some(app.org()), Some(app.space()), Some(app.id())),
        };
        fn within<T: PartialEq>(list: Option<&Vec<T>>, value: Option<&T>) -> bool {
            list.is_none_or(|list| value.is_some_and(|v| list.contains(v)))
        }
        within(self.orgs.as_ref(), org)
            && within(self.spaces.as_ref(), space)
            && within(self.apps.as_ref(), app)
    }
}

/// The places of the scopes a query reads, by scope; `None` for every
/// scope (one who sees everything, with no organization, space or app
/// filter).
pub(super) type Readable = Option<BTreeMap<Scope, Place>>;

impl<D: AsyncDirectoryWriter + ?Sized> Gate<'_, D> {
    /// The place of the stored `credential` (with `guid`) if `caller` may
    /// do `operation` to it: one who may not see it is told it does not exist
    /// ([`ManageError::GuidNotFound`], R21), one who may see but not change
    /// it is refused ([`ManageError::Permission`], R20). A credential whose
    /// scope the directory no longer knows is seen by those who see
    /// everything and changed by admins alone.
    pub(super) async fn check_stored(
        &self,
        caller: &UserId,
        operation: Operation,
        guid: Guid,
        credential: &RegistryCredential,
    ) -> Result<Option<Place>, ManageError> {
        let roles = self.roles(caller).await?;
        let scope = credential.scope();
        let place = self.directory.place(scope).await?;
        let allowed =
            |rule: fn(&Roles, access::ScopePath<'_>) -> bool, otherwise: bool| match &place {
                Some(place) => rule(&roles, place.as_path()),
                None => otherwise,
            };
        if !allowed(access::may_see, roles.sees_everything()) {
            return Err(ManageError::GuidNotFound { guid });
        }
        if operation.changes() && !allowed(access::may_change, roles.is_admin()) {
            return Err(self.refuse_credentials(caller, operation, scope).await?);
        }
        Ok(place)
    }

    /// The scopes a query by `caller` within `within` may read (R21),
    /// with their places: every scope the caller may see that is within
    /// `within` and, when `query` has a scope filter, in it; `None` (every
    /// scope, `query`'s own filter left to the store) for one who sees
    /// everything, asking everywhere.
    pub(super) async fn readable(
        &self,
        caller: &UserId,
        query: &Query,
        within: &Within,
    ) -> Result<Readable, ManageError> {
        let roles = self.roles(caller).await?;
        let places = if roles.sees_everything() {
            if within.is_everywhere() {
                return Ok(None);
            }
            self.places_within(within).await?
        } else {
            self.visible_places(&roles).await?
        };
        Ok(Some(
            places
                .into_iter()
                .filter(|(scope, place)| {
                    within.holds(place) && query.scope_filter().is_none_or(|s| s.contains(scope))
                })
                .collect(),
        ))
    }

    /// Every scope a user with `roles` (and no global role) may see
    /// (R21): the foundation, each organization the user is in, each space
    /// the user has a role in, and that space's apps.
    async fn visible_places(&self, roles: &Roles) -> Result<Vec<(Scope, Place)>, ManageError> {
        let mut places = vec![(Scope::Foundation, Place::Foundation)];
        let orgs: BTreeSet<&OrgId> = roles.org_roles().map(|(org, _)| org).collect();
        places.extend(
            orgs.into_iter()
                .map(|org| (Scope::Org(org.clone()), Place::Org(org.clone()))),
        );
        let spaces: BTreeSet<&SpaceId> = roles.space_roles().map(|(space, _)| space).collect();
        for space in spaces {
            self.space_and_apps(space, &mut places).await?;
        }
        Ok(places)
    }

    /// The scopes `within` names and those inside them, for one who sees
    /// everything: from its most specific list (apps, else spaces, else
    /// organizations); [`Within::holds`] then checks the others.
    async fn places_within(&self, within: &Within) -> Result<Vec<(Scope, Place)>, ManageError> {
        let mut places = Vec::new();
        if let Some(apps) = &within.apps {
            for app in apps {
                if let Some((app, _)) = self.directory.app(app).await? {
                    places.push((Scope::App(app.id().clone()), Place::App(app)));
                }
            }
        } else if let Some(spaces) = &within.spaces {
            for space in spaces {
                self.space_and_apps(space, &mut places).await?;
            }
        } else if let Some(orgs) = &within.orgs {
            for org in orgs {
                if self.directory.org_name(org).await?.is_none() {
                    continue;
                }
                places.push((Scope::Org(org.clone()), Place::Org(org.clone())));
                for (space, _) in self.directory.spaces_in(org).await? {
                    self.space_and_apps(&space, &mut places).await?;
                }
            }
        }
        Ok(places)
    }

    /// Adds `space` (when the directory knows it) and its apps to
    /// `places`.
    async fn space_and_apps(
        &self,
        space: &SpaceId,
        places: &mut Vec<(Scope, Place)>,
    ) -> Result<(), ManageError> {
        let Some((org, _)) = self.directory.space(space).await? else {
            return Ok(());
        };
        places.push((
            Scope::Space(space.clone()),
            Place::Space(org, space.clone()),
        ));
        for (app, _) in self.directory.apps_in(space).await? {
            places.push((Scope::App(app.id().clone()), Place::App(app)));
        }
        Ok(())
    }

    /// `page` with each credential's place: from `known` when the query
    /// computed it, else looked up once per scope.
    pub(super) async fn locate(
        &self,
        page: Page,
        known: Readable,
    ) -> Result<LocatedPage, ManageError> {
        let mut known = known.unwrap_or_default();
        let mut resources = Vec::with_capacity(page.resources().len());
        let counts = page.with_resources(Vec::<()>::new());
        for credential in page.into_resources() {
            let scope = credential.scope();
            let place = match known.get(scope) {
                Some(place) => Some(place.clone()),
                None => {
                    let place = self.directory.place(scope).await?;
                    if let Some(place) = &place {
                        known.insert(scope.clone(), place.clone());
                    }
                    place
                }
            };
            resources.push(Located { credential, place });
        }
        Ok(counts.with_resources(resources))
    }
}

/// A stored credential located at `place`, its secret left out.
///
/// # Errors
///
/// [`ManageError::Store`] when the store returned it without its record,
/// which its contract forbids (R22).
pub(super) fn located(
    credential: &RegistryCredential,
    place: Option<Place>,
) -> Result<Located, ManageError> {
    let credential = CredentialSummary::of(credential).ok_or_else(|| {
        ManageError::Store(StoreError::Backend {
            retryable: false,
            source: "the store returned a credential without its GUID and times (R22); \
                     it does not keep the store contract"
                .into(),
        })
    })?;
    Ok(Located { credential, place })
}
