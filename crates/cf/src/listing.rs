//! Listings (R21): the credentials available to a target and visible to
//! the caller, as rows and as the table `cf registry-credentials` prints.

use std::cmp::Ordering;
use std::fmt;
use std::time::SystemTime;

use registry_credentials::scope::{OrgId, SpaceId};
use registry_credentials::{CredentialKind, Location, ScopeKind, Username};

use crate::directory::Name;
use crate::text;

/// What a listing is for: nothing targeted (the foundation's credentials
/// only), an organization, or a space of an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// No organization or space: the credentials available to the
    /// foundation.
    Foundation,
    /// An organization: its credentials and the foundation's.
    Org(OrgId),
    /// A space: the credentials of its apps, its own, its organization's
    /// and the foundation's.
    Space(SpaceId),
}

/// One listed credential: location, scope, username, the app's name for
/// an app credential, its kind (R24) and its expiry (R25). It has no
/// secret field, so no listing can show one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The location the credential is stored under.
    pub location: Location,
    /// Its scope.
    pub scope: ScopeKind,
    /// Its username.
    pub username: Username,
    /// The app's name, for an app credential.
    pub app_name: Option<Name>,
    /// What its secret is.
    pub kind: CredentialKind,
    /// When it expires, if ever.
    pub expires_at: Option<SystemTime>,
}

impl Row {
    /// R21's order: app, space, organization, foundation, then by
    /// location (then by app name, for two apps' credentials for one
    /// location).
    pub fn listing_order(&self, other: &Self) -> Ordering {
        (self.scope, &self.location, &self.app_name).cmp(&(
            other.scope,
            &other.location,
            &other.app_name,
        ))
    }
}

/// The rows of a listing, in R21's order. Its `Display` is the table cf
/// prints: a header `location scope username app name` and one line per
/// row, columns padded to line up, with control, format and separator
/// characters in usernames and names escaped ([`text::escape`]), so that
/// every row is one line and shows what it holds (R21). A `kind` column
/// follows when a row holds a token (R24), and an `expires` column (RFC
/// 3339, UTC) when a row expires (R25); a listing of passwords without
/// expiry is cf's table exactly.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use registry_credentials::{CredentialKind, ScopeKind};
/// use registry_credentials_cf::listing::{Listing, Row};
///
/// let row = |location: &str, scope, username: &str, app: Option<&str>| -> Result<Row, Box<dyn std::error::Error>> {
///     Ok(Row {
///         location: location.parse()?,
///         scope,
///         username: username.parse()?,
///         app_name: app.map(str::parse).transpose()?,
///         kind: CredentialKind::Password,
///         expires_at: None,
///     })
/// };
/// let platform = row("registry.example.com", ScopeKind::Foundation, "platform-user", None)?;
/// let app = row("docker.io/library", ScopeKind::App, "myuser", Some("myapp"))?;
/// let listing = Listing::new(vec![platform.clone(), app]);
/// assert_eq!(
///     listing.to_string(),
///     "location               scope        username        app name\n\
///      docker.io/library      app          myuser          myapp\n\
///      registry.example.com   foundation   platform-user\n"
/// );
/// let robot = Row {
///     kind: CredentialKind::RegistryToken,
///     expires_at: Some(UNIX_EPOCH + Duration::from_secs(1_798_761_600)),
///     ..row("quay.io", ScopeKind::Foundation, "robot", None)?
/// };
/// assert_eq!(
///     Listing::new(vec![platform, robot]).to_string(),
///     "location               scope        username        app name   kind             expires\n\
///      quay.io                foundation   robot                      registry-token   2027-01-01T00:00:00Z\n\
///      registry.example.com   foundation   platform-user              password\n"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    rows: Vec<Row>,
}

impl Listing {
    /// A listing of `rows`, sorted into R21's order.
    pub fn new(mut rows: Vec<Row>) -> Self {
        rows.sort_by(Row::listing_order);
        Listing { rows }
    }

    /// The rows, in order.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// True when nothing is listed.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }
}

const HEADER: [&str; 6] = [
    "location", "scope", "username", "app name", "kind", "expires",
];
const GAP: usize = 3;

impl fmt::Display for Listing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tokens = self.rows.iter().any(|r| r.kind != CredentialKind::Password);
        let expiring = self.rows.iter().any(|r| r.expires_at.is_some());
        let columns = match (tokens, expiring) {
            (_, true) => 6,
            (true, false) => 5,
            (false, false) => 4,
        };
        let cells = |r: &Row| -> Vec<String> {
            let mut cells = vec![
                r.location.to_string(),
                r.scope.as_str().to_owned(),
                // Usernames and names come from input: escaped, so that no
                // cell can end its line or hide characters (R21).
                text::escape(r.username.as_str()).into_owned(),
                r.app_name
                    .as_ref()
                    .map(|n| text::escape(n.as_str()).into_owned())
                    .unwrap_or_default(),
                r.kind.as_str().to_owned(),
                r.expires_at.map(text::utc_time).unwrap_or_default(),
            ];
            cells.truncate(columns);
            cells
        };
        let lines: Vec<Vec<String>> =
            std::iter::once(HEADER[..columns].iter().map(|h| (*h).to_owned()).collect())
                .chain(self.rows.iter().map(cells))
                .collect();
        let mut widths = [0usize; 6];
        for line in &lines {
            for (w, cell) in widths.iter_mut().zip(line) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for line in &lines {
            let mut text = String::new();
            for (i, cell) in line.iter().enumerate() {
                text.push_str(cell);
                if i + 1 < line.len() {
                    let pad = widths[i] - cell.chars().count() + GAP;
                    text.extend(std::iter::repeat_n(' ', pad));
                }
            }
            writeln!(f, "{}", text.trim_end())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(loc: &str, scope: ScopeKind, user: &str, app: Option<&str>) -> Row {
        Row {
            kind: CredentialKind::Password,
            expires_at: None,
            location: loc.parse().unwrap(),
            scope,
            username: user.parse().unwrap(),
            app_name: app.map(|a| a.parse().unwrap()),
        }
    }

    #[test]
    fn r21_rows_sort_by_scope_then_location() {
        let l = Listing::new(vec![
            row("b.example.com", ScopeKind::Foundation, "f", None),
            row("a.example.com", ScopeKind::Foundation, "f", None),
            row("z.example.com", ScopeKind::Org, "o", None),
            row("y.example.com", ScopeKind::App, "a", Some("two")),
            row("y.example.com", ScopeKind::App, "a", Some("one")),
            row("c.example.com", ScopeKind::Space, "s", None),
        ]);
        let got: Vec<_> = l
            .rows()
            .iter()
            .map(|r| {
                format!(
                    "{} {} {}",
                    r.scope,
                    r.location,
                    r.app_name.as_ref().map_or("", |n| n.as_str())
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                "app y.example.com one",
                "app y.example.com two",
                "space c.example.com ",
                "organization z.example.com ",
                "foundation a.example.com ",
                "foundation b.example.com ",
            ]
        );
    }

    #[test]
    fn r21_empty_listing_is_the_header() {
        assert_eq!(
            Listing::default().to_string(),
            "location   scope   username   app name\n"
        );
    }
}
