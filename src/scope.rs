//! Scopes: foundation, organization, space and app (R13), their ids, and the
//! app being pushed.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::Arc;

use crate::credential::ForbiddenCharacter;

/// The longest id accepted.
pub const MAX_ID_LEN: usize = 255;

/// Why an id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The id is empty.
    #[error("{what} id is empty; give the {what}'s id")]
    Empty {
        /// Which id.
        what: &'static str,
    },
    /// The id is too long.
    #[error("{what} id is {len} bytes long, more than the {MAX_ID_LEN} allowed")]
    TooLong {
        /// Which id.
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// The id has a character R16 keeps out of names: white space, a
    /// control, format or separator character ([`ForbiddenCharacter`],
    /// the colon apart).
    #[error("{what} id contains {class} at byte {at}; remove it{}", class.why())]
    BadCharacter {
        /// Which id.
        what: &'static str,
        /// Where.
        at: usize,
        /// The character's class.
        class: ForbiddenCharacter,
    },
}

fn check_id(s: &str, what: &'static str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty { what });
    }
    if s.len() > MAX_ID_LEN {
        return Err(IdError::TooLong { what, len: s.len() });
    }
    // The classes usernames are checked by (R16), but for the colon,
    // which only HTTP Basic authentication cannot carry.
    let forbidden = s.char_indices().find_map(|(at, c)| {
        ForbiddenCharacter::of(c)
            .filter(|class| *class != ForbiddenCharacter::Colon)
            .map(|class| (at, class))
    });
    if let Some((at, class)) = forbidden {
        return Err(IdError::BadCharacter { what, at, class });
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        ///
        /// Any non-empty string of at most 255 bytes without white space or
        /// a control, format or separator character (R16's classes, the
        /// colon apart): a platform's GUID, or a plain name. Clones
        /// share one allocation.
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Checks and wraps an id.
            ///
            /// # Errors
            ///
            /// [`IdError`] when it is empty, too long, or has a character R16
            /// keeps out of names.
            pub fn new(id: impl AsRef<str>) -> Result<Self, IdError> {
                let id = id.as_ref();
                check_id(id, $what)?;
                Ok(Self(Arc::from(id)))
            }
        }

        crate::macros::string_accessors! {
            /// The id.
            $name
        }

        crate::macros::checked_string_conversions!($name, IdError, $name::new);

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// The id of an organization.
    OrgId,
    "organization"
);
id_type!(
    /// The id of a space; unique across organizations.
    SpaceId,
    "space"
);
id_type!(
    /// The id of an app; unique across the platform.
    AppId,
    "app"
);
id_type!(
    /// The id of a platform user: who calls a management operation (R20,
    /// R21).
    UserId,
    "user"
);

/// The four kinds of scope, ordered by precedence: `App < Space < Org <
/// Foundation`, so sorting puts the scope that wins first (R14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScopeKind {
    /// One app's own credential.
    App,
    /// Every app in a space.
    Space,
    /// Every app in an organization.
    Org,
    /// Every app on the platform.
    Foundation,
}

crate::macros::enum_names! {
    /// All four, in precedence order.
    ALL,
    /// The name cf prints: `app`, `space`, `organization`, `foundation`.
    ScopeKind::as_str {
        App => "app",
        Space => "space",
        Org => "organization",
        Foundation => "foundation",
    }
}

/// Where a credential lives (R13): the foundation, an organization, a space
/// or an app.
///
/// `Ord` sorts by precedence first (app, space, organization, foundation),
/// then by id.
///
/// It prints as `foundation`, `organization ID`, `space ID` or `app ID`
/// (the kind as cf names it, a space, the id), and parses from exactly that,
/// so that `parse(x.to_string()) == x`; the ids are checked by their own
/// `new`, so a parsed scope is one [`Scope`] could hold anyway.
///
/// ```
/// use registry_credentials::Scope;
/// use registry_credentials::scope::OrgId;
/// let org: Scope = "organization 7f3c".parse()?;
/// assert_eq!(org, Scope::Org(OrgId::new("7f3c")?));
/// assert_eq!(org.to_string(), "organization 7f3c");
/// assert_eq!("foundation".parse::<Scope>()?, Scope::Foundation);
/// assert!("org 7f3c".parse::<Scope>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// An app's own credential (R19). Listed first: it wins.
    App(AppId),
    /// Every app in a space.
    Space(SpaceId),
    /// Every app in an organization.
    Org(OrgId),
    /// The whole platform.
    Foundation,
}

impl Scope {
    /// Which kind of scope.
    pub fn kind(&self) -> ScopeKind {
        self.as_scope_ref().kind()
    }

    /// A borrowed view, as store look-ups take it.
    pub fn as_scope_ref(&self) -> ScopeRef<'_> {
        match self {
            Scope::Foundation => ScopeRef::Foundation,
            Scope::Org(o) => ScopeRef::Org(o),
            Scope::Space(s) => ScopeRef::Space(s),
            Scope::App(a) => ScopeRef::App(a),
        }
    }

    /// The id of the organization, space or app; `None` for the foundation.
    pub fn id(&self) -> Option<&str> {
        self.as_scope_ref().id()
    }
}

impl FromStr for Scope {
    type Err = ScopeParseError;

    fn from_str(s: &str) -> Result<Self, ScopeParseError> {
        Scope::parse(s)
    }
}

impl Scope {
    /// Parses a scope as it prints: `foundation`, `organization ID`,
    /// `space ID` or `app ID`.
    ///
    /// # Errors
    ///
    /// [`ScopeParseError`] when the kind is not one of the four, an id is
    /// missing, the foundation is given one, or the id is not valid
    /// ([`IdError`]).
    pub fn parse(s: &str) -> Result<Self, ScopeParseError> {
        let (kind, id) = match s.split_once(' ') {
            Some((kind, id)) => (kind, Some(id)),
            None => (s, None),
        };
        let kind = ScopeKind::ALL
            .into_iter()
            .find(|k| k.as_str() == kind)
            .ok_or_else(|| ScopeParseError::UnknownKind {
                input: s.to_owned(),
            })?;
        let bad_id = |source| ScopeParseError::Id {
            input: s.to_owned(),
            source,
        };
        match (kind, id) {
            (ScopeKind::Foundation, None) => Ok(Scope::Foundation),
            (ScopeKind::Foundation, Some(_)) => Err(ScopeParseError::FoundationId {
                input: s.to_owned(),
            }),
            (kind, None) => Err(ScopeParseError::MissingId { kind }),
            (ScopeKind::Org, Some(id)) => OrgId::new(id).map(Scope::Org).map_err(bad_id),
            (ScopeKind::Space, Some(id)) => SpaceId::new(id).map(Scope::Space).map_err(bad_id),
            (ScopeKind::App, Some(id)) => AppId::new(id).map(Scope::App).map_err(bad_id),
        }
    }
}

/// Why a string is not a [`Scope`] as it prints.
///
/// What it repeats from the input is printed with control characters
/// escaped (R21).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeParseError {
    /// The first word is not `foundation`, `organization`, `space` or
    /// `app`.
    #[error(
        "scope `{}` does not start with a scope kind; write `foundation`, `organization ID`, `space ID` or `app ID`",
        input.escape_debug()
    )]
    UnknownKind {
        /// The input.
        input: String,
    },
    /// An organization, space or app without its id.
    #[error("{kind} scope has no id; write `{kind} ID`, one space between")]
    MissingId {
        /// The kind given.
        kind: ScopeKind,
    },
    /// The foundation with something after it.
    #[error(
        "scope `{}` gives the foundation an id; write `foundation` alone",
        input.escape_debug()
    )]
    FoundationId {
        /// The input.
        input: String,
    },
    /// The id is not valid.
    #[error("scope `{}` has an id that is not valid", input.escape_debug())]
    Id {
        /// The input.
        input: String,
        /// Why the id was refused.
        #[source]
        source: IdError,
    },
}

impl Hash for Scope {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_scope_ref().hash(state)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_scope_ref().fmt(f)
    }
}

/// A borrowed [`Scope`]; hashes and compares as the owned one does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ScopeRef<'a> {
    /// An app.
    App(&'a AppId),
    /// A space.
    Space(&'a SpaceId),
    /// An organization.
    Org(&'a OrgId),
    /// The whole platform.
    Foundation,
}

impl<'a> ScopeRef<'a> {
    /// Which kind of scope.
    pub fn kind(&self) -> ScopeKind {
        match self {
            ScopeRef::Foundation => ScopeKind::Foundation,
            ScopeRef::Org(_) => ScopeKind::Org,
            ScopeRef::Space(_) => ScopeKind::Space,
            ScopeRef::App(_) => ScopeKind::App,
        }
    }

    /// The id of the organization, space or app; `None` for the foundation.
    pub fn id(&self) -> Option<&'a str> {
        match self {
            ScopeRef::Foundation => None,
            ScopeRef::Org(o) => Some(o.as_str()),
            ScopeRef::Space(s) => Some(s.as_str()),
            ScopeRef::App(a) => Some(a.as_str()),
        }
    }

    /// An owned copy (the ids are shared, not copied).
    pub fn to_scope(&self) -> Scope {
        match *self {
            ScopeRef::Foundation => Scope::Foundation,
            ScopeRef::Org(o) => Scope::Org(o.clone()),
            ScopeRef::Space(s) => Scope::Space(s.clone()),
            ScopeRef::App(a) => Scope::App(a.clone()),
        }
    }
}

impl Hash for ScopeRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.kind() as u8).hash(state);
        self.id().unwrap_or("").hash(state);
    }
}

impl PartialEq<Scope> for ScopeRef<'_> {
    fn eq(&self, other: &Scope) -> bool {
        *self == other.as_scope_ref()
    }
}

impl From<&ScopeRef<'_>> for Scope {
    fn from(s: &ScopeRef<'_>) -> Scope {
        s.to_scope()
    }
}

impl hashbrown::Equivalent<Scope> for ScopeRef<'_> {
    fn equivalent(&self, key: &Scope) -> bool {
        *self == key.as_scope_ref()
    }
}

impl fmt::Display for ScopeRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.id() {
            Some(id) => write!(f, "{} {id}", self.kind()),
            None => f.write_str("foundation"),
        }
    }
}

/// The app being pushed, with the space and organization it belongs to:
/// what resolution searches from (R14).
///
/// ```
/// use registry_credentials::{App, ScopeKind};
/// let app = App::new("org-1", "space-1", "app-1")?;
/// let kinds: Vec<_> = app.scopes().iter().map(|s| s.kind()).collect();
/// assert_eq!(kinds, ScopeKind::ALL);
/// # Ok::<(), registry_credentials::scope::IdError>(())
/// ```
///
/// It prints as `app APP in space SPACE of organization ORG`, as
/// [`explain`](crate::resolve::explain) names it, and parses from exactly
/// that: ids hold no white space, so the words between them cannot be
/// mistaken for part of one. (`ORG/SPACE/APP` would not read back: an id
/// may contain `/`.)
///
/// ```
/// use registry_credentials::App;
/// let app = App::new("org-1", "space-1", "app-1")?;
/// assert_eq!(app.to_string(), "app app-1 in space space-1 of organization org-1");
/// assert_eq!(app.to_string().parse::<App>()?, app);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct App {
    org: OrgId,
    space: SpaceId,
    id: AppId,
}

impl App {
    /// An app `id` in space `space` of organization `org`.
    ///
    /// # Errors
    ///
    /// [`IdError`] when an id is not valid.
    pub fn new(
        org: impl AsRef<str>,
        space: impl AsRef<str>,
        id: impl AsRef<str>,
    ) -> Result<Self, IdError> {
        Ok(App {
            org: OrgId::new(org)?,
            space: SpaceId::new(space)?,
            id: AppId::new(id)?,
        })
    }

    /// From ids already checked.
    pub fn from_ids(org: OrgId, space: SpaceId, id: AppId) -> Self {
        App { org, space, id }
    }

    /// The organization.
    pub fn org(&self) -> &OrgId {
        &self.org
    }

    /// The space.
    pub fn space(&self) -> &SpaceId {
        &self.space
    }

    /// The app.
    pub fn id(&self) -> &AppId {
        &self.id
    }

    /// The scopes searched for this app, in precedence order: app, space,
    /// organization, foundation (R14).
    pub fn scopes(&self) -> [ScopeRef<'_>; 4] {
        [
            ScopeRef::App(&self.id),
            ScopeRef::Space(&self.space),
            ScopeRef::Org(&self.org),
            ScopeRef::Foundation,
        ]
    }
}

impl App {
    /// Parses an app as it prints: `app APP in space SPACE of organization
    /// ORG`, each id checked as [`App::new`] checks it.
    ///
    /// # Errors
    ///
    /// [`AppParseError`] when the words around the ids are not those, or
    /// an id is not valid.
    pub fn parse(s: &str) -> Result<Self, AppParseError> {
        let shape = || AppParseError::Shape {
            input: s.to_owned(),
        };
        let rest = s.strip_prefix("app ").ok_or_else(shape)?;
        let (id, rest) = rest.split_once(" in space ").ok_or_else(shape)?;
        let (space, org) = rest.split_once(" of organization ").ok_or_else(shape)?;
        App::new(org, space, id).map_err(|source| AppParseError::Id {
            input: s.to_owned(),
            source,
        })
    }
}

impl FromStr for App {
    type Err = AppParseError;

    fn from_str(s: &str) -> Result<Self, AppParseError> {
        App::parse(s)
    }
}

impl fmt::Display for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "app {} in space {} of organization {}",
            self.id, self.space, self.org
        )
    }
}

/// Who pulls an image, as far as the one asking can say (R26).
///
/// An app is served by its own credentials, then its space's, its
/// organization's and the foundation's (R14). A puller that can vouch
/// only for a space or an organization is served from that scope up; one
/// that cannot say who pulls (a node-wide puller, a helper acting for the
/// platform) from the foundation's credentials alone, never from an
/// organization's, a space's or an app's.
///
/// ```
/// use registry_credentials::scope::{Puller, Pulls, ScopeKind};
/// use registry_credentials::App;
/// let app = App::new("o", "s", "a")?;
/// let kinds = |p: &dyn Pulls| p.scopes().map(|s| s.kind()).collect::<Vec<_>>();
/// assert_eq!(kinds(&app).len(), 4);
/// assert_eq!(kinds(&Puller::Foundation), [ScopeKind::Foundation]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Puller {
    /// An app: every scope, from the app's own.
    App(App),
    /// A space of an organization: the space, the organization, the
    /// foundation.
    Space {
        /// The space's organization.
        org: OrgId,
        /// The space.
        space: SpaceId,
    },
    /// An organization: its credentials, then the foundation's.
    Org(OrgId),
    /// Nobody known: the foundation's credentials alone.
    Foundation,
}

impl From<App> for Puller {
    fn from(app: App) -> Self {
        Puller::App(app)
    }
}

impl fmt::Display for Puller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Puller::App(app) => app.fmt(f),
            Puller::Space { org, space } => write!(f, "space {space} of organization {org}"),
            Puller::Org(org) => write!(f, "organization {org}"),
            Puller::Foundation => f.write_str("a puller who cannot say who pulls (the foundation)"),
        }
    }
}

/// The scopes a resolution searches, in precedence order: what
/// [`Pulls::scopes`] returns.
pub type PullerScopes<'a> = std::iter::Take<std::array::IntoIter<ScopeRef<'a>, 4>>;

/// What a resolution is for: an [`App`], or any [`Puller`]. Resolution,
/// explanation and their async forms take either.
pub trait Pulls {
    /// The scopes searched, in precedence order (R14, R26).
    fn scopes(&self) -> PullerScopes<'_>;

    /// As a [`Puller`].
    fn to_puller(&self) -> Puller;
}

impl Pulls for App {
    fn scopes(&self) -> PullerScopes<'_> {
        App::scopes(self).into_iter().take(4)
    }

    fn to_puller(&self) -> Puller {
        Puller::App(self.clone())
    }
}

impl Pulls for Puller {
    fn scopes(&self) -> PullerScopes<'_> {
        let f = ScopeRef::Foundation;
        let (list, n) = match self {
            Puller::App(app) => (App::scopes(app), 4),
            Puller::Space { org, space } => ([ScopeRef::Space(space), ScopeRef::Org(org), f, f], 3),
            Puller::Org(org) => ([ScopeRef::Org(org), f, f, f], 2),
            Puller::Foundation => ([f; 4], 1),
        };
        list.into_iter().take(n)
    }

    fn to_puller(&self) -> Puller {
        self.clone()
    }
}

/// Why a string is not an [`App`] as it prints.
///
/// What it repeats from the input is printed with control characters
/// escaped (R21).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppParseError {
    /// The words around the ids are not `app … in space … of organization
    /// …`.
    #[error(
        "app `{}` is not written as `app APP in space SPACE of organization ORG`; write it so, one space between words",
        input.escape_debug()
    )]
    Shape {
        /// The input.
        input: String,
    },
    /// An id is not valid.
    #[error("app `{}` has an id that is not valid", input.escape_debug())]
    Id {
        /// The input.
        input: String,
        /// Why the id was refused.
        #[source]
        source: IdError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn r14_scope_kinds_sort_by_precedence() {
        let mut v = vec![
            ScopeKind::Foundation,
            ScopeKind::App,
            ScopeKind::Org,
            ScopeKind::Space,
        ];
        v.sort();
        assert_eq!(v, ScopeKind::ALL);
    }

    #[test]
    fn ids_are_checked() {
        assert!(OrgId::new("").is_err());
        assert!(OrgId::new("a b").is_err());
        assert!(OrgId::new("x".repeat(256)).is_err());
        assert_eq!(AppId::new("a1").unwrap().as_str(), "a1");
        assert_eq!(
            SpaceId::new("").unwrap_err().to_string(),
            "space id is empty; give the space's id"
        );
    }

    #[test]
    fn r13_ids_of_exactly_255_bytes_are_accepted() {
        assert!(OrgId::new("x".repeat(MAX_ID_LEN)).is_ok());
        assert_eq!(
            AppId::new("x".repeat(MAX_ID_LEN + 1)).unwrap_err(),
            IdError::TooLong {
                what: "app",
                len: MAX_ID_LEN + 1
            }
        );
    }

    #[test]
    fn r13_scope_ids_and_borrowed_comparisons() {
        let o = OrgId::new("o").unwrap();
        let s = SpaceId::new("s").unwrap();
        let a = AppId::new("a").unwrap();
        assert_eq!(Scope::Foundation.id(), None);
        assert_eq!(Scope::Org(o.clone()).id(), Some("o"));
        assert_eq!(Scope::Space(s.clone()).id(), Some("s"));
        assert_eq!(Scope::App(a.clone()).id(), Some("a"));
        assert!(ScopeRef::Org(&o) == Scope::Org(o.clone()));
        assert!(ScopeRef::Foundation == Scope::Foundation);
        assert!(ScopeRef::Org(&o) != Scope::Org(OrgId::new("p").unwrap()));
        assert!(ScopeRef::Foundation != Scope::Org(o.clone()));
        let owned: Scope = (&ScopeRef::Space(&s)).into();
        assert_eq!(owned, Scope::Space(s.clone()));
        let owned: Scope = (&ScopeRef::App(&a)).into();
        assert_eq!(owned, Scope::App(a));
    }

    #[test]
    fn scope_ref_hashes_like_scope() {
        let s = hashbrown::DefaultHashBuilder::default();
        let org = OrgId::new("o").unwrap();
        let owned = Scope::Org(org.clone());
        assert_eq!(s.hash_one(&owned), s.hash_one(ScopeRef::Org(&org)));
        assert_eq!(
            s.hash_one(Scope::Foundation),
            s.hash_one(ScopeRef::Foundation)
        );
        let space = Scope::Space(SpaceId::new("o").unwrap());
        assert_ne!(s.hash_one(&owned), s.hash_one(&space));
    }
}
