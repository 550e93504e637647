//! Registry locations: what a credential is stored under (R7–R9).

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};

use crate::error::{LocationError, ParseErrorKind};
use crate::host::{self, Host, HostKind};
use crate::reference::{MAX_NAME_LEN, MAX_REFERENCE_LEN};
use crate::{suffix, Reference};

/// A registry location in normal form: `HOST[:PORT][/COMPONENT]*` (R7).
///
/// The host is lowercased, Docker Hub aliases become `docker.io`, an IPv6
/// address is written in its canonical form and a port without leading
/// zeros. `library/` is never added. The normal form is what is stored,
/// compared, hashed, listed and printed, so `Registry.Example.com/team` and
/// `registry.example.com/team` are the same location.
///
/// ```
/// use registry_credentials::Location;
///
/// let loc: Location = "Registry.Example.com:5000/team".parse()?;
/// assert_eq!(loc.as_str(), "registry.example.com:5000/team");
/// assert_eq!(loc.registry(), "registry.example.com:5000");
/// assert_eq!(loc.port(), Some(5000));
/// assert_eq!(loc.path(), Some("team"));
///
/// let err = "registry.example.com/path/to/repo:5000".parse::<Location>().unwrap_err();
/// assert_eq!(err.hint(), Some("registry.example.com:5000/path/to/repo"));
/// # Ok::<(), registry_credentials::LocationError>(())
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
    /// use registry_credentials::{Location, Reference};
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

fn fail(kind: ParseErrorKind, at: usize) -> LocationError {
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

/// Parses `s`; with `hints`, works out a corrected input for an error.
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
        return Err(fail(ParseErrorKind::Empty, 0));
    }
    if s.len() > MAX_REFERENCE_LEN {
        let kind = ParseErrorKind::TooLong {
            len: s.len(),
            max: MAX_REFERENCE_LEN,
        };
        return Err(fail(kind, MAX_REFERENCE_LEN));
    }
    if let Some((_, rest)) = host::strip_scheme(s) {
        let e = fail(ParseErrorKind::Scheme, 0);
        return Err(if rest.contains('@') {
            e
        } else {
            hinted(e, rest)
        });
    }
    if let Err((kind, at)) = host::check_characters(s) {
        let e = fail(kind, at);
        let trimmed = s.trim();
        return Err(if trimmed.len() < s.len() && !trimmed.contains('@') {
            hinted(e, trimmed)
        } else {
            e
        });
    }
    if let Some(at) = s.find('@') {
        let after_path = s.find('/').is_some_and(|sl| sl < at);
        if after_path || crate::reference::check_digest(&s[at + 1..], at + 1).is_ok() {
            // `@` after the path, or a digest after the host: leave it out,
            // and a tag before it too.
            let before = &s[..at];
            let fixed = match before.rfind('/') {
                Some(sl) => before[sl..].find(':').map_or(before, |c| &before[..sl + c]),
                None => before,
            };
            return Err(hinted(fail(ParseErrorKind::LocationDigest, at), fixed));
        }
        // Never echo what stands before `@`: it may hold a password.
        let after = &s[s.rfind('@').map_or(at, |i| i) + 1..];
        return Err(hinted(fail(ParseErrorKind::UserInfo, 0), after));
    }

    let (hostport, path) = match s.find('/') {
        Some(i) => (&s[..i], Some((&s[i + 1..], i + 1))),
        None => (s, None),
    };
    if let Some((path, path_at)) = path {
        if let Some(c) = path.find(':') {
            let (before, after) = (&path[..c], &path[c + 1..]);
            let at = path_at + c;
            let has_port = match hostport.strip_prefix('[') {
                Some(v6) => v6.split_once(']').is_some_and(|(_, p)| p.contains(':')),
                None => hostport.contains(':'),
            };
            if !after.is_empty() && after.bytes().all(|b| b.is_ascii_digit()) && !has_port {
                let fixed = format!("{hostport}:{after}/{before}");
                return Err(hinted(fail(ParseErrorKind::PortAfterPath, at), &fixed));
            }
            return Err(hinted(fail(ParseErrorKind::LocationTag, at), &s[..at]));
        }
    }
    let hp = host::parse_host_port(hostport, 0).map_err(|(k, at)| fail(k, at))?;

    let mut text = String::with_capacity(s.len());
    let _ = hp.write_normalized(&mut text);
    let host_len = hp.normalized_host_len();
    let registry_len = text.len();
    if hp.kind() == HostKind::Domain && suffix::is_public_suffix(&text[..host_len]) {
        return Err(fail(ParseErrorKind::PublicSuffix, 0));
    }
    if let Some((path, path_at)) = path {
        if let Err((kind, at)) = check_location_path(path, path_at) {
            let e = fail(kind.clone(), at);
            return Err(match kind {
                ParseErrorKind::EmptyComponent => {
                    let parts: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
                    if parts.is_empty() {
                        hinted(e, hostport)
                    } else {
                        hinted(e, &format!("{hostport}/{}", parts.join("/")))
                    }
                }
                ParseErrorKind::Uppercase => {
                    hinted(e, &format!("{hostport}/{}", path.to_ascii_lowercase()))
                }
                _ => e,
            });
        }
        text.push('/');
        text.push_str(path);
    }
    if text.len() > MAX_NAME_LEN {
        return Err(fail(ParseErrorKind::NameTooLong { len: text.len() }, 0));
    }
    Ok(Location {
        text: text.into_boxed_str(),
        host_len: host_len as u16,
        registry_len: registry_len as u16,
        port: hp.port,
        kind: hp.kind(),
    })
}

fn check_location_path(path: &str, at: usize) -> Result<(), host::Fault> {
    if path.is_empty() {
        return Err((ParseErrorKind::EmptyComponent, at));
    }
    let mut offset = at;
    for c in path.split('/') {
        host::check_component(c, offset)?;
        offset += c.len() + 1;
    }
    Ok(())
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
        assert_eq!(
            norm("Registry.Example.com/team"),
            "registry.example.com/team"
        );
        assert_eq!(norm("index.docker.io"), "docker.io");
        assert_eq!(norm("REGISTRY-1.docker.io/library"), "docker.io/library");
        assert_eq!(norm("registry.hub.docker.com/x"), "docker.io/x");
        assert_eq!(norm("docker.io"), "docker.io");
        assert_eq!(norm("[0:0::1]:05000/a"), "[::1]:5000/a");
        assert_eq!(norm("localhost"), "localhost");
        assert_eq!(norm("registry"), "registry");
        assert_eq!(norm("10.0.0.1:5000"), "10.0.0.1:5000");
        let a = Location::parse("Registry.Example.com/team").unwrap();
        let b = Location::parse("registry.example.com/team").unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn r8_rejections_show_the_fix() {
        let e = err("https://registry.example.com");
        assert_eq!(e.kind(), &ParseErrorKind::Scheme);
        assert_eq!(e.hint(), Some("registry.example.com"));
        assert!(e.to_string().contains("leave out the protocol"));

        let e = err("registry.example.com/path/to/repo:5000");
        assert_eq!(e.kind(), &ParseErrorKind::PortAfterPath);
        assert_eq!(e.hint(), Some("registry.example.com:5000/path/to/repo"));

        let e = err("user:hunter2@registry.example.com");
        assert_eq!(e.kind(), &ParseErrorKind::UserInfo);
        assert_eq!(e.hint(), Some("registry.example.com"));
        assert!(!e.to_string().contains("hunter2"));

        let e = err("registry.example.com/repo:v1");
        assert_eq!(e.kind(), &ParseErrorKind::LocationTag);
        assert_eq!(e.hint(), Some("registry.example.com/repo"));

        let sha = "0123456789abcdef".repeat(4);
        let e = err(&format!("registry.example.com/repo@sha256:{sha}"));
        assert_eq!(e.kind(), &ParseErrorKind::LocationDigest);
        assert_eq!(e.hint(), Some("registry.example.com/repo"));

        let e = err("registry.example.com/");
        assert_eq!(e.kind(), &ParseErrorKind::EmptyComponent);
        assert_eq!(e.hint(), Some("registry.example.com"));
        assert_eq!(err("a.com//b").hint(), Some("a.com/b"));
        assert_eq!(err(" a.com").hint(), Some("a.com"));
        assert_eq!(err("").kind(), &ParseErrorKind::Empty);
        assert_eq!(err("a.com/Team").hint(), Some("a.com/team"));
        assert_eq!(err("a.com.").kind(), &ParseErrorKind::TrailingDot);
        assert_eq!(err("[::1]/x:5000").hint(), Some("[::1]:5000/x"));
        let e = err("registry.example.com/repo@latest");
        assert_eq!(e.kind(), &ParseErrorKind::LocationDigest);
        assert_eq!(e.hint(), Some("registry.example.com/repo"));
        let e = err(&format!("a.com@sha256:{sha}"));
        assert_eq!(
            (e.kind(), e.hint()),
            (&ParseErrorKind::LocationDigest, Some("a.com"))
        );
        let e = err(&format!("a.com/repo:v1@sha256:{sha}"));
        assert_eq!(e.hint(), Some("a.com/repo"));
        assert_eq!(err("[::1]:80/x:5000").kind(), &ParseErrorKind::LocationTag);
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
            assert_eq!(err(s).kind(), &ParseErrorKind::PublicSuffix, "{s}");
        }
        assert!(Location::parse("example.co.uk").is_ok());
        assert!(Location::parse("user.github.io").is_ok());
    }
}
