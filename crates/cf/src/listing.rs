//! Listings (R21): the credentials available to a target and visible to
//! the caller, as rows and as the table `cf registry-credentials` prints.

use std::cmp::Ordering;
use std::fmt;

use registry_credentials::scope::{OrgId, SpaceId};
use registry_credentials::{Location, ScopeKind, Username};

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

/// One listed credential: location, scope, username, and the app's name
/// for an app credential. It has no password field, so no listing can
/// show one.
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
/// every row is one line and shows what it holds (R21).
///
/// ```
/// use registry_credentials::ScopeKind;
/// use registry_credentials_cf::listing::{Listing, Row};
///
/// let listing = Listing::new(vec![
///     Row {
///         location: "registry.example.com".parse()?,
///         scope: ScopeKind::Foundation,
///         username: "platform-user".parse()?,
///         app_name: None,
///     },
///     Row {
///         location: "docker.io/library".parse()?,
///         scope: ScopeKind::App,
///         username: "myuser".parse()?,
///         app_name: Some("myapp".parse()?),
///     },
/// ]);
/// assert_eq!(
///     listing.to_string(),
///     "location               scope        username        app name\n\
///      docker.io/library      app          myuser          myapp\n\
///      registry.example.com   foundation   platform-user\n"
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

const HEADER: [&str; 4] = ["location", "scope", "username", "app name"];
const GAP: usize = 3;

impl fmt::Display for Listing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cells = |r: &Row| -> [String; 4] {
            [
                r.location.to_string(),
                r.scope.as_str().to_owned(),
                // Usernames and names come from input: escaped, so that no
                // cell can end its line or hide characters (R21).
                text::escape(r.username.as_str()).into_owned(),
                r.app_name
                    .as_ref()
                    .map(|n| text::escape(n.as_str()).into_owned())
                    .unwrap_or_default(),
            ]
        };
        let lines: Vec<[String; 4]> = std::iter::once(HEADER.map(str::to_owned))
            .chain(self.rows.iter().map(cells))
            .collect();
        let mut widths = [0usize; 4];
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
