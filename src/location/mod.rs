//! Registry locations: what a credential is stored under (R7–R9).

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};

use crate::host::{Host, HostKind, suffix};
use crate::reference::{MAX_NAME_LEN, MAX_REFERENCE_LEN, Reference};
use crate::syntax::Fault;
use crate::syntax::scan::{self, At, FirstEnd};

mod error;

pub use error::{LocationError, LocationErrorKind};

/// A registry location in normal form: `HOST[:PORT][/COMPONENT]*` (R7).
///
/// The host is lowercased, Docker Hub aliases become `docker.io`, an IPv6
/// address is written in its canonical form and a port without leading
/// zeros. `library/` is never added. The normal form is what is stored,
/// compared, hashed, listed and printed, so `Registry.Example.com/team` and
/// `registry.example.com/team` are the same location.
///
/// ```
/// use registry_credentials::location::Location;
///
/// let loc: Location = "Registry.Example.com:5000/team".parse()?;
/// assert_eq!(loc.as_str(), "registry.example.com:5000/team");
/// assert_eq!(loc.registry(), "registry.example.com:5000");
/// assert_eq!(loc.port(), Some(5000));
/// assert_eq!(loc.path(), Some("team"));
///
/// let err = "registry.example.com/path/to/repo:5000".parse::<Location>().unwrap_err();
/// assert_eq!(err.hint(), Some("registry.example.com:5000/path/to/repo"));
/// # Ok::<(), registry_credentials::location::LocationError>(())
/// ```
#[derive(Clone)]
pub struct Location {
    text: Box<str>,
    host_len: u16,
    registry_len: u16,
    port: Option<u16>,
    kind: HostKind,
}

impl Location {
    /// Parses and normalizes a location.
    ///
    /// # Errors
    ///
    /// A [`LocationError`] for anything outside R7's grammar, for the forms
    /// R8 names (with a corrected input as [`hint`](LocationError::hint)
    /// where one can be worked out), and for a host that is a public suffix
    /// (R9, with the `psl` feature).
    pub fn parse(input: &str) -> Result<Self, LocationError> {
        parse(input)
    }

    /// The normal form.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The host.
    pub fn host(&self) -> Host<'_> {
        Host::from_normalized(&self.text[..usize::from(self.host_len)], self.kind)
    }

    /// `host[:port]`.
    pub fn registry(&self) -> &str {
        &self.text[..usize::from(self.registry_len)]
    }

    /// The port, if any.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The path after `host[:port]/`, if any.
    pub fn path(&self) -> Option<&str> {
        self.text.get(usize::from(self.registry_len) + 1..)
    }

    /// True when a credential stored here serves `reference`: the location
    /// is one of its candidates (R10–R12).
    ///
    /// ```
    /// use registry_credentials::{location::Location, reference::Reference};
    /// let loc: Location = "example.com".parse()?;
    /// assert!(loc.serves(&"registry.example.com/repo/image".parse()?));
    /// assert!(!loc.serves(&"registry.example.com:5000/repo/image".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn serves(&self, reference: &Reference) -> bool {
        reference.candidates().any(|c| c.as_str() == self.as_str())
    }
}

impl PartialEq for Location {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Location {}

impl PartialOrd for Location {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Location {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.text.cmp(&other.text)
    }
}

/// Hashes as its normal form does, so maps keyed by `Location` are looked up
/// with a `&str`.
impl Hash for Location {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl Borrow<str> for Location {
    fn borrow(&self) -> &str {
        &self.text
    }
}

impl AsRef<str> for Location {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl PartialEq<str> for Location {
    fn eq(&self, other: &str) -> bool {
        &*self.text == other
    }
}

impl PartialEq<&str> for Location {
    fn eq(&self, other: &&str) -> bool {
        &*self.text == *other
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({:?})", &*self.text)
    }
}

crate::macros::checked_string_conversions!(Location, LocationError, parse);

fn fail(kind: impl Into<LocationErrorKind>, at: usize) -> LocationError {
    LocationError::new(kind, at)
}

#[cfg(test)]
thread_local! {
    /// How many times `parse_with` ran on this thread: tests count the work.
    static PARSES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn parse(s: &str) -> Result<Location, LocationError> {
    parse_with(s, true)
}

/// Every length a `Location` stores is at most `MAX_NAME_LEN`.
const _: () = assert!(MAX_NAME_LEN <= u16::MAX as usize);

/// Parses `s` with the scanner references use; with `hints`, works out a
/// corrected input for an error.
///
/// A hint is offered only when it is itself a valid location, which takes
/// one more parse, without hints: so a refusal costs at most two linear
/// passes, however the faults in the input are nested (R6).
fn parse_with(s: &str, hints: bool) -> Result<Location, LocationError> {
    #[cfg(test)]
    PARSES.with(|n| n.set(n.get() + 1));
    // Adds `fixed` as the hint when it is itself a valid location.
    let hinted = |e: LocationError, fixed: &str| {
        if hints && parse_with(fixed, false).is_ok() {
            e.with_hint(fixed)
        } else {
            e
        }
    };
    if s.is_empty() {
        return Err(fail(LocationErrorKind::Empty, 0));
    }
    if s.len() > MAX_REFERENCE_LEN {
        let kind = LocationErrorKind::Syntax(Fault::TooLong {
            len: s.len(),
            max: MAX_REFERENCE_LEN,
        });
        return Err(fail(kind, MAX_REFERENCE_LEN));
    }
    let mut slot = None;
    let _ = scan::scan(s, &mut slot);
    let x = slot.get_or_insert_with(|| scan::Scanned::lone_name(s));
    if let Some(i) = x.rare.scheme.filter(|&i| scan::is_scheme(&s[..i])) {
        let e = fail(LocationErrorKind::Syntax(Fault::Scheme), 0);
        let rest = &s[i + 3..];
        return Err(if rest.contains('@') {
            e
        } else {
            hinted(e, rest)
        });
    }
    if let Some((fault, at)) = x.rare.bad_byte {
        let e = fail(fault, at);
        let trimmed = s.trim();
        return Err(if trimmed.len() < s.len() && !trimmed.contains('@') {
            hinted(e, trimmed)
        } else {
            e
        });
    }
    if let Some(at) = x.at_sign() {
        let after_path = x.first_ends == FirstEnd::Slash;
        if after_path || x.digest_fault.is_none() {
            // `@` after the path, or a digest after the host: leave it out,
            // and a tag before it too.
            let before = &s[..at];
            let fixed = match before.rfind('/') {
                Some(sl) => before[sl..].find(':').map_or(before, |c| &before[..sl + c]),
                None => before,
            };
            return Err(hinted(fail(LocationErrorKind::Digest, at), fixed));
        }
        // Never echo what stands before `@`: it may hold a password.
        let after = &s[s.rfind('@').map_or(at, |i| i) + 1..];
        return Err(hinted(
            fail(LocationErrorKind::Syntax(Fault::UserInfo), 0),
            after,
        ));
    }

    let hostport = &s[..x.first.end];
    let path = (x.first_ends == FirstEnd::Slash).then(|| (&s[x.first.end + 1..], x.first.end + 1));
    if let (Some(at), Some((path, path_at))) = (x.path_colon(), path) {
        let c = at - path_at;
        let (before, after) = (&path[..c], &path[c + 1..]);
        if !after.is_empty() && after.bytes().all(|b| b.is_ascii_digit()) && x.first.colon.is_none()
        {
            let fixed = format!("{hostport}:{after}/{before}");
            return Err(hinted(fail(LocationErrorKind::PortAfterPath, at), &fixed));
        }
        return Err(hinted(fail(LocationErrorKind::Tag, at), &s[..at]));
    }
    let hp = scan::host_port(s, &x.first).map_err(|(f, at): At| fail(f, at))?;

    let mut text = String::with_capacity(s.len());
    let _ = hp.write_normalized(&mut text);
    let host_len = hp.normalized_host_len();
    let registry_len = text.len();
    if hp.kind() == HostKind::Domain && suffix::is_public_suffix(&text[..host_len]) {
        return Err(fail(LocationErrorKind::PublicSuffix, 0));
    }
    if let Some((path, _)) = path {
        if let Some((fault, at)) = x.path_fault {
            let e = fail(fault, at);
            return Err(match e.kind() {
                LocationErrorKind::Syntax(Fault::EmptyComponent) => {
                    let parts: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
                    if parts.is_empty() {
                        hinted(e, hostport)
                    } else {
                        hinted(e, &format!("{hostport}/{}", parts.join("/")))
                    }
                }
                LocationErrorKind::Syntax(Fault::Uppercase) => {
                    hinted(e, &format!("{hostport}/{}", path.to_ascii_lowercase()))
                }
                _ => e,
            });
        }
        text.push('/');
        text.push_str(path);
    }
    if text.len() > MAX_NAME_LEN {
        return Err(fail(LocationErrorKind::NameTooLong { len: text.len() }, 0));
    }
    let short = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
    Ok(Location {
        text: text.into_boxed_str(),
        host_len: short(host_len),
        registry_len: short(registry_len),
        port: hp.port,
        kind: hp.kind(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        Location::parse(s).unwrap().to_string()
    }

    fn err(s: &str) -> LocationError {
        Location::parse(s).unwrap_err()
    }

    #[test]
    fn r7_normal_form() {
        for (written, normal) in [
            ("Registry.Example.com/team", "registry.example.com/team"),
            ("index.docker.io", "docker.io"),
            ("REGISTRY-1.docker.io/library", "docker.io/library"),
            ("registry.hub.docker.com/x", "docker.io/x"),
            ("docker.io", "docker.io"),
            ("[0:0::1]:05000/a", "[::1]:5000/a"),
            ("localhost", "localhost"),
            ("registry", "registry"),
            ("10.0.0.1:5000", "10.0.0.1:5000"),
        ] {
            assert_eq!(norm(written), normal, "{written}");
        }
        let a = Location::parse("Registry.Example.com/team").unwrap();
        let b = Location::parse("registry.example.com/team").unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn r8_rejections_show_the_fix() {
        let e = err("https://registry.example.com");
        assert_eq!(e.kind(), &LocationErrorKind::Syntax(Fault::Scheme));
        assert_eq!(e.hint(), Some("registry.example.com"));
        assert!(e.to_string().contains("leave out the protocol"));

        let e = err("registry.example.com/path/to/repo:5000");
        assert_eq!(e.kind(), &LocationErrorKind::PortAfterPath);
        assert_eq!(e.hint(), Some("registry.example.com:5000/path/to/repo"));

        let e = err("user:hunter2@registry.example.com");
        assert_eq!(e.kind(), &LocationErrorKind::Syntax(Fault::UserInfo));
        assert_eq!(e.hint(), Some("registry.example.com"));
        assert!(!e.to_string().contains("hunter2"));

        let e = err("registry.example.com/repo:v1");
        assert_eq!(e.kind(), &LocationErrorKind::Tag);
        assert_eq!(e.hint(), Some("registry.example.com/repo"));

        let sha = "0123456789abcdef".repeat(4);
        let e = err(&format!("registry.example.com/repo@sha256:{sha}"));
        assert_eq!(e.kind(), &LocationErrorKind::Digest);
        assert_eq!(e.hint(), Some("registry.example.com/repo"));

        let e = err("registry.example.com/");
        assert_eq!(e.kind(), &LocationErrorKind::Syntax(Fault::EmptyComponent));
        assert_eq!(e.hint(), Some("registry.example.com"));
        assert_eq!(err("a.com//b").hint(), Some("a.com/b"));
        assert_eq!(err(" a.com").hint(), Some("a.com"));
        assert_eq!(err("").kind(), &LocationErrorKind::Empty);
        assert_eq!(err("a.com/Team").hint(), Some("a.com/team"));
        assert_eq!(
            err("a.com.").kind(),
            &LocationErrorKind::Syntax(Fault::TrailingDot)
        );
        assert_eq!(err("[::1]/x:5000").hint(), Some("[::1]:5000/x"));
        let e = err("registry.example.com/repo@latest");
        assert_eq!(e.kind(), &LocationErrorKind::Digest);
        assert_eq!(e.hint(), Some("registry.example.com/repo"));
        let e = err(&format!("a.com@sha256:{sha}"));
        assert_eq!(
            (e.kind(), e.hint()),
            (&LocationErrorKind::Digest, Some("a.com"))
        );
        let e = err(&format!("a.com/repo:v1@sha256:{sha}"));
        assert_eq!(e.hint(), Some("a.com/repo"));
        assert_eq!(err("[::1]:80/x:5000").kind(), &LocationErrorKind::Tag);
    }

    /// Parses `s` and counts the passes it took.
    fn passes(s: &str) -> usize {
        PARSES.with(|n| n.set(0));
        let _ = Location::parse(s);
        PARSES.with(|n| n.get())
    }

    #[test]
    fn r6_refusals_take_at_most_two_passes() {
        // Each of these nests one fix inside another (a protocol, then
        // white space, then a protocol…), so checking hints by parsing
        // them with hints would take a pass per layer: quadratic time.
        let max = MAX_REFERENCE_LEN;
        let nested = [
            "https://".repeat(max / 8),
            "https:// ".repeat(max / 9),
            " https://".repeat(max / 9),
            format!("{}a.com", "https://".repeat(max / 8 - 1)),
            format!("{}a.com/B", "https:// ".repeat(max / 9 - 1)),
            format!("{}x", "a.com/b:5000/".repeat(max / 14)),
            format!("{}a.com", "u@".repeat(max / 2 - 3)),
        ];
        for s in &nested {
            assert!(s.len() <= max, "{}", s.len());
            assert!(Location::parse(s).is_err());
            assert!(passes(s) <= 2, "{} passes for {s:?}", passes(s));
        }
        // A hint is still offered where one layer hides a valid location.
        assert_eq!(err("https://a.com").hint(), Some("a.com"));
        assert_eq!(passes("https://a.com"), 2);
        assert_eq!(passes("a.com"), 1);
    }

    #[test]
    #[cfg(feature = "psl")]
    fn r9_public_suffixes_are_refused() {
        for s in ["com", "co.uk", "github.io", "CO.UK/x"] {
            assert_eq!(err(s).kind(), &LocationErrorKind::PublicSuffix, "{s}");
        }
        assert!(Location::parse("example.co.uk").is_ok());
        assert!(Location::parse("user.github.io").is_ok());
    }

    #[test]
    #[cfg(feature = "psl")]
    fn r9_wildcard_roots_are_refused_as_locations() {
        for s in [
            "ck",
            "kawasaki.jp",
            "example.ck",
            "foo.kawasaki.jp",
            "CK/team",
        ] {
            assert_eq!(err(s).kind(), &LocationErrorKind::PublicSuffix, "{s}");
        }
        for s in [
            "city.kawasaki.jp",
            "www.ck",
            "registry.example.ck",
            "example.com",
        ] {
            assert!(Location::parse(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn r5_location_host_ending_in_number_must_be_dotted_quad() {
        for s in [
            "999",
            "0.1",
            "3.999",
            "010.0.0.1",
            "0x7f.0.0.1/a",
            "1.2.3.999:5000",
            "1.2.3",
            "0x",
        ] {
            assert_eq!(
                err(s).kind(),
                &LocationErrorKind::Syntax(Fault::InvalidIpv4),
                "{s}"
            );
        }
        assert_eq!(norm("10.0.0.1/team"), "10.0.0.1/team");
        assert_eq!(
            Location::parse("10.0.0.1").unwrap().host(),
            Host::Ipv4([10, 0, 0, 1].into())
        );
    }

    #[test]
    fn r7_normal_form_at_most_255_characters() {
        let at = format!("example.com/{}", "a".repeat(MAX_NAME_LEN - 12));
        assert_eq!(norm(&at).len(), MAX_NAME_LEN);
        let over = format!("{at}a");
        assert_eq!(
            err(&over).kind(),
            &LocationErrorKind::NameTooLong { len: 256 }
        );
        // The normal form counts, not the input: an alias shrinks.
        let alias = format!("registry.hub.docker.com/{}", "a".repeat(MAX_NAME_LEN - 10));
        assert_eq!(norm(&alias).len(), MAX_NAME_LEN);
    }

    /// A location compares, orders, hashes and borrows as its normal form
    /// does, so a map keyed by locations is looked up with the `&str` a
    /// candidate holds (R7, R10).
    #[test]
    fn r7_compares_hashes_and_borrows_as_its_normal_form() {
        let l = Location::parse("Registry.Example.com/team").unwrap();
        let text = "registry.example.com/team";
        assert!(l == *text);
        assert!(l != *"registry.example.com");
        assert!(l == text);
        assert!(l != "registry.example.com");
        let r: &str = l.as_ref();
        assert_eq!(r, text);
        let b: &str = l.borrow();
        assert_eq!(b, text);
        let set: std::collections::HashSet<Location> = [l.clone()].into();
        assert!(set.contains(text));
        assert!(!set.contains("registry.example.com"));
        let (a, z) = (
            Location::parse("a.example.com").unwrap(),
            Location::parse("z.example.com").unwrap(),
        );
        assert_eq!(a.partial_cmp(&z), Some(std::cmp::Ordering::Less));
        assert_eq!(z.cmp(&a), std::cmp::Ordering::Greater);
        assert_eq!(a.partial_cmp(&a.clone()), Some(std::cmp::Ordering::Equal));
        assert_eq!(format!("{l:?}"), "Location(\"registry.example.com/team\")");
    }

    #[test]
    fn r7_accessors_split_the_normal_form() {
        let l = Location::parse("Registry.Example.com:5000/team/x").unwrap();
        assert_eq!(l.registry(), "registry.example.com:5000");
        assert_eq!(l.port(), Some(5000));
        assert_eq!(l.path(), Some("team/x"));
        assert_eq!(l.host().to_string(), "registry.example.com");
        let bare = Location::parse("registry.example.com").unwrap();
        assert_eq!(bare.path(), None);
        assert_eq!(bare.port(), None);
        assert_eq!(bare.registry(), "registry.example.com");
    }

    #[test]
    fn r4_r7_aliases_are_rewritten_only_without_a_port() {
        assert_eq!(norm("index.docker.io:443/x"), "index.docker.io:443/x");
        assert_eq!(norm("Index.Docker.io/x"), "docker.io/x");
    }
}
