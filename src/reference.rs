//! Image references: `[HOST[:PORT]/]PATH[:TAG][@DIGEST]` (R1–R6).

use std::fmt::{self, Write};
use std::hash::{Hash, Hasher};

use arrayvec::ArrayString;

use crate::candidates::Candidates;
use crate::error::{ParseErrorKind, ReferenceError};
use crate::host::{
    self, find_byte, rfind_byte, Host, HostKind, HostPort, DOCKER_HUB, DOCKER_HUB_ALIASES,
};

/// The longest input [`Reference`] reads; longer input is refused before any
/// other work. A valid reference is at most 255 characters of name, 129 of
/// tag and a digest (135 for sha512); the rest leaves room for aliases and
/// long digests of other algorithms.
pub const MAX_REFERENCE_LEN: usize = 1024;

/// The longest normalized name (`host[:port]/path`) (R1).
pub const MAX_NAME_LEN: usize = 255;

/// The longest tag (R1).
pub const MAX_TAG_LEN: usize = 128;

/// The longest digest (`algorithm:hex`) accepted: what [`MAX_REFERENCE_LEN`]
/// leaves after the longest name and tag, so that the normalized form
/// `name[:tag][@digest]` of every accepted reference is itself accepted
/// (a `sha512` digest is 135 characters).
pub const MAX_DIGEST_LEN: usize = MAX_REFERENCE_LEN - MAX_NAME_LEN - 1 - MAX_TAG_LEN - 1;

/// Up to this many bytes (the input, plus its normalized name where that is
/// not a slice of the input) are held inline, without a heap allocation.
const INLINE: usize = 128;

#[derive(Clone)]
enum Text {
    Inline(ArrayString<INLINE>),
    Heap(Box<str>),
}

impl Text {
    fn as_str(&self) -> &str {
        match self {
            Text::Inline(s) => s.as_str(),
            Text::Heap(s) => s,
        }
    }
}

/// A parsed image reference (R1–R6).
///
/// It keeps what was written (its [`Display`](fmt::Display) and
/// [`as_str`](Self::as_str) give the input back, so printing and parsing
/// again yields an equal reference) apart from the normalized name, in which
/// the host is lowercased, Docker Hub aliases become `docker.io`, and the
/// defaults of R3 are filled in.
///
/// Two references are equal when their normalized names, tags and digests
/// are: `nginx` equals `docker.io/library/nginx`. Tag and digest are kept
/// but play no part in choosing a credential.
///
/// Parsing does not allocate for inputs of up to 128 bytes (109 when the
/// normalized name differs from what was written), and never panics.
///
/// ```
/// use registry_credentials::Reference;
///
/// let r: Reference = "Registry.Example.com:5000/team/app:1.2".parse()?;
/// assert_eq!(r.name(), "registry.example.com:5000/team/app");
/// assert_eq!(r.registry(), "registry.example.com:5000");
/// assert_eq!(r.port(), Some(5000));
/// assert_eq!(r.path(), "team/app");
/// assert_eq!(r.image_name(), "app");
/// assert_eq!(r.tag(), Some("1.2"));
/// assert_eq!(r.to_string(), "Registry.Example.com:5000/team/app:1.2");
///
/// let hub: Reference = "nginx".parse()?;
/// assert_eq!(hub.name(), "docker.io/library/nginx");
/// assert!(!hub.has_host());
/// assert_eq!(hub.tag(), None); // no `latest` nobody wrote
/// # Ok::<(), registry_credentials::ReferenceError>(())
/// ```
#[derive(Clone)]
pub struct Reference {
    text: Text,
    written_len: u16,
    name_start: u16,
    name_len: u16,
    /// Length of the normalized host (no port) at the start of the name.
    host_len: u16,
    /// Length of the normalized `host[:port]` at the start of the name.
    registry_len: u16,
    port: Option<u16>,
    host_kind: HostKind,
    tag: Option<(u16, u16)>,
    digest: Option<(u16, u16)>,
    host_written: bool,
}

impl Reference {
    /// Parses an image reference.
    ///
    /// # Errors
    ///
    /// A [`ReferenceError`] naming what is wrong and where, for anything
    /// outside the grammar of R1–R6.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        parse(input)
    }

    /// The reference as it was written.
    pub fn as_str(&self) -> &str {
        &self.text.as_str()[..usize::from(self.written_len)]
    }

    /// The normalized name: `host[:port]/path`, with no tag or digest.
    pub fn name(&self) -> &str {
        let start = usize::from(self.name_start);
        &self.text.as_str()[start..start + usize::from(self.name_len)]
    }

    /// The normalized host (without port).
    pub fn host(&self) -> Host<'_> {
        Host::from_normalized(&self.name()[..usize::from(self.host_len)], self.host_kind)
    }

    /// The normalized registry, `host[:port]`: the least specific location
    /// that is not a parent domain.
    pub fn registry(&self) -> &str {
        &self.name()[..usize::from(self.registry_len)]
    }

    /// The port, if one was written.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The normalized path: every component after the host, with the image
    /// name last (`library/nginx`).
    pub fn path(&self) -> &str {
        &self.name()[usize::from(self.registry_len) + 1..]
    }

    /// The image name: the last path component.
    pub fn image_name(&self) -> &str {
        let path = self.path();
        path.rfind('/').map_or(path, |i| &path[i + 1..])
    }

    /// The tag, if one was written (no `latest` is assumed).
    pub fn tag(&self) -> Option<&str> {
        self.tag
            .map(|(s, e)| &self.as_str()[usize::from(s)..usize::from(e)])
    }

    /// The digest (`algorithm:hex`), if one was written.
    pub fn digest(&self) -> Option<&str> {
        self.digest
            .map(|(s, e)| &self.as_str()[usize::from(s)..usize::from(e)])
    }

    /// True when the input named a host; false when `docker.io` was assumed.
    pub fn has_host(&self) -> bool {
        self.host_written
    }

    /// True when the image is on Docker Hub (`docker.io`, after aliases).
    pub fn is_docker_hub(&self) -> bool {
        self.registry() == DOCKER_HUB
    }

    /// The candidate locations for this reference, most specific first
    /// (R10–R12). Allocates nothing.
    ///
    /// ```
    /// use registry_credentials::Reference;
    /// let r: Reference = "registry.example.com/repo/image:tag".parse()?;
    /// let c: Vec<&str> = r.candidates().map(|c| c.as_str()).collect();
    /// assert_eq!(c, ["registry.example.com/repo", "registry.example.com", "example.com"]);
    /// # Ok::<(), registry_credentials::ReferenceError>(())
    /// ```
    pub fn candidates(&self) -> Candidates<'_> {
        Candidates::new(
            self.name(),
            usize::from(self.host_len),
            usize::from(self.registry_len),
            self.host_kind,
        )
    }
}

impl PartialEq for Reference {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name() && self.tag() == other.tag() && self.digest() == other.digest()
    }
}

impl Eq for Reference {}

impl Hash for Reference {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name().hash(state);
        self.tag().hash(state);
        self.digest().hash(state);
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reference")
            .field("written", &self.as_str())
            .field("name", &self.name())
            .field("tag", &self.tag())
            .field("digest", &self.digest())
            .finish()
    }
}

crate::macros::checked_string_conversions!(Reference, ReferenceError, parse);

fn fail(kind: ParseErrorKind, at: usize) -> ReferenceError {
    ReferenceError::new(kind, at)
}

fn fault((kind, at): host::Fault) -> ReferenceError {
    ReferenceError::new(kind, at)
}

#[cfg(test)]
thread_local! {
    /// How many times `parse_with` ran on this thread: tests count the work.
    static PARSES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn parse(s: &str) -> Result<Reference, ReferenceError> {
    match parse_fast(s) {
        Some(r) => Ok(r),
        None => parse_with(s, true),
    }
}

/// The state of a path component scan, after the byte just read:
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` (R1).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scan {
    Start,
    Alnum,
    Dot,
    Under1,
    Under2,
    Dash,
}

/// The common shapes in one pass: `[host[:port]/]path[:tag][@sha256:hex]`
/// with a lowercase DNS host (not all digits, not a Docker Hub alias), a
/// port without leading zeros, and a lowercase path. Anything else, every
/// error included, returns `None` and [`parse_with`] decides. What this
/// returns is exactly what `parse_with` returns for the same input (the
/// test `fast_path_agrees_with_the_general_parser` checks it); it exists
/// because the general parser's separate passes cost several times more.
fn parse_fast(s: &str) -> Option<Reference> {
    let b = s.as_bytes();
    let len = b.len();
    if len == 0 || len > MAX_REFERENCE_LEN {
        return None;
    }
    if len == 64 && b.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None; // an image id (R6)
    }
    // The name: components separated by `/`, up to a `:` or `@`.
    let mut state = Scan::Start;
    let mut slashes = 0usize;
    let mut first_slash = 0usize;
    let mut first_end = 0usize; // end of the first component (before any port)
    let mut first_dot = false;
    let mut first_under = false;
    let mut port: Option<u16> = None;
    let mut i = 0;
    while i < len {
        let c = b[i];
        state = match c {
            b'a'..=b'z' | b'0'..=b'9' => Scan::Alnum,
            b'.' if state == Scan::Alnum => {
                first_dot |= slashes == 0;
                Scan::Dot
            }
            b'_' if state == Scan::Alnum => {
                first_under |= slashes == 0;
                Scan::Under1
            }
            b'_' if state == Scan::Under1 => Scan::Under2,
            b'-' if state == Scan::Alnum || state == Scan::Dash => Scan::Dash,
            b'/' if state == Scan::Alnum => {
                if slashes == 0 {
                    first_slash = i;
                    first_end = i;
                }
                slashes += 1;
                Scan::Start
            }
            b':' if state == Scan::Alnum && slashes == 0 => {
                // A port when digits and a `/` follow; else a tag.
                let digits = &b[i + 1..];
                let n = digits.iter().take_while(|d| d.is_ascii_digit()).count();
                if digits.get(n) != Some(&b'/') {
                    break;
                }
                if n == 0 || n > 5 || digits[0] == b'0' {
                    return None;
                }
                let p = digits[..n]
                    .iter()
                    .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
                port = Some(u16::try_from(p).ok()?);
                first_end = i;
                first_slash = i + 1 + n;
                slashes = 1;
                i = first_slash + 1;
                state = Scan::Start;
                continue;
            }
            b':' | b'@' if state == Scan::Alnum => break,
            _ => return None,
        };
        i += 1;
    }
    if state != Scan::Alnum {
        return None;
    }
    let name_end = i;
    let mut tag = None;
    if i < len && b[i] == b':' {
        let start = i + 1;
        let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        if !b.get(start).is_some_and(|&c| word(c)) {
            return None;
        }
        let n = b[start..]
            .iter()
            .take_while(|&&c| word(c) || c == b'.' || c == b'-')
            .count();
        if n > MAX_TAG_LEN {
            return None;
        }
        i = start + n;
        tag = Some((start, i));
    }
    let mut digest = None;
    if i < len && b[i] == b'@' {
        let d = &b[i + 1..];
        let hex = |c: &u8| matches!(c, b'0'..=b'9' | b'a'..=b'f');
        if d.len() != 71 || !d.starts_with(b"sha256:") || !d[7..].iter().all(hex) {
            return None;
        }
        digest = Some((i + 1, len));
        i = len;
    }
    if i != len {
        return None;
    }

    // R2: with several components, the first is a host when it has a `.`
    // or a port, or is `localhost` (uppercase never gets here).
    let host = slashes > 0 && (first_dot || port.is_some() || &s[..first_end] == "localhost");
    let (host_len, registry_len, path) = if host {
        let h = &s[..first_end];
        if first_under
            || h.bytes().all(|c| c.is_ascii_digit() || c == b'.')
            || (port.is_none() && DOCKER_HUB_ALIASES.contains(&h))
        {
            return None; // not a DNS name, maybe IPv4, or an alias (R4)
        }
        (first_end, first_slash, &s[first_slash + 1..name_end])
    } else {
        (DOCKER_HUB.len(), DOCKER_HUB.len(), &s[..name_end])
    };
    let docker_hub = !host || (port.is_none() && &s[..first_end] == DOCKER_HUB);
    let path_slashes = if host { slashes - 1 } else { slashes };
    let add_library = docker_hub && path_slashes == 0;
    let name_len = registry_len + 1 + if add_library { 8 } else { 0 } + path.len();
    if name_len > MAX_NAME_LEN {
        return None;
    }
    let (text, name_start) = if host && !add_library {
        let text = match ArrayString::from(s) {
            Ok(a) => Text::Inline(a),
            Err(_) => Text::Heap(s.into()),
        };
        (text, 0)
    } else {
        let registry = if host { &s[..registry_len] } else { DOCKER_HUB };
        let write = |out: &mut dyn Write| {
            out.write_str(s)?;
            out.write_str(registry)?;
            out.write_str(if add_library { "/library/" } else { "/" })?;
            out.write_str(path)
        };
        (store(len + name_len, write), len)
    };
    let n = |x: usize| x as u16; // all bounded by MAX_REFERENCE_LEN + MAX_NAME_LEN
    let range = |r: Option<(usize, usize)>| r.map(|(a, b)| (n(a), n(b)));
    Some(Reference {
        text,
        written_len: n(len),
        name_start: n(name_start),
        name_len: n(name_len),
        host_len: n(host_len),
        registry_len: n(registry_len),
        port,
        host_kind: HostKind::Domain,
        tag: range(tag),
        digest: range(digest),
        host_written: host,
    })
}

/// Every input, every error: the grammar of R1–R6 step by step. With
/// `hints`, works out a corrected input for an error; the hint is checked
/// by one more parse, without hints, so a refusal costs at most two linear
/// passes (R6), not one per nested protocol.
fn parse_with(s: &str, hints: bool) -> Result<Reference, ReferenceError> {
    #[cfg(test)]
    PARSES.with(|n| n.set(n.get() + 1));
    if s.is_empty() {
        return Err(fail(ParseErrorKind::Empty, 0));
    }
    if s.len() > MAX_REFERENCE_LEN {
        return Err(fail(
            ParseErrorKind::TooLong {
                len: s.len(),
                max: MAX_REFERENCE_LEN,
            },
            MAX_REFERENCE_LEN,
        ));
    }
    if let Some((_, rest)) = host::strip_scheme(s) {
        let e = fail(ParseErrorKind::Scheme, 0);
        return Err(
            if hints && !rest.contains('@') && parse_with(rest, false).is_ok() {
                e.with_hint(rest)
            } else {
                e
            },
        );
    }
    host::check_characters(s).map_err(fault)?;
    if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(fail(ParseErrorKind::ImageId, 0));
    }

    // Split off the digest, then the tag (a `:` after the last `/`).
    let (name_tag, digest) = match find_byte(s, b'@') {
        // `user@host/…`: user information, not a digest. Never echoed.
        Some(at) if find_byte(s, b'/').is_some_and(|slash| at < slash) => {
            return Err(fail(ParseErrorKind::UserInfo, 0));
        }
        Some(at) => {
            check_digest(&s[at + 1..], at + 1)?;
            (&s[..at], Some((at + 1, s.len())))
        }
        None => (s, None),
    };
    let after_slash = rfind_byte(name_tag, b'/').map_or(0, |i| i + 1);
    let (name, tag) = match find_byte(&name_tag[after_slash..], b':') {
        Some(c) => {
            let c = after_slash + c;
            check_tag(&name_tag[c + 1..], c + 1)?;
            (&name_tag[..c], Some((c + 1, name_tag.len())))
        }
        None => (name_tag, None),
    };

    // R2: the first component is a host when it looks like one.
    let (hostport, path, path_at) = match find_byte(name, b'/') {
        Some(i) if looks_like_host(&name[..i]) => (
            Some(host::parse_host_port(&name[..i], 0).map_err(fault)?),
            &name[i + 1..],
            i + 1,
        ),
        _ => (None, name, 0),
    };
    check_path(path, path_at)?;

    let docker_hub = hostport.as_ref().is_none_or(HostPort::is_docker_hub);
    let add_library = docker_hub && !path.contains('/');
    let (host_len, registry_len) = match &hostport {
        Some(h) => (h.normalized_host_len(), h.normalized_len()),
        None => (DOCKER_HUB.len(), DOCKER_HUB.len()),
    };
    let name_len = registry_len + 1 + if add_library { 8 } else { 0 } + path.len();
    if name_len > MAX_NAME_LEN {
        return Err(fail(ParseErrorKind::NameTooLong { len: name_len }, 0));
    }

    let as_written = !add_library
        && hostport
            .as_ref()
            .is_some_and(HostPort::is_normal_as_written);
    let (text, name_start) = if as_written {
        let text = match ArrayString::from(s) {
            Ok(a) => Text::Inline(a),
            Err(_) => Text::Heap(s.into()),
        };
        (text, 0)
    } else {
        let write = |out: &mut dyn Write| {
            out.write_str(s)?;
            match &hostport {
                Some(h) => h.write_normalized(out)?,
                None => out.write_str(DOCKER_HUB)?,
            }
            out.write_char('/')?;
            if add_library {
                out.write_str("library/")?;
            }
            out.write_str(path)
        };
        (store(s.len() + name_len, write), s.len())
    };
    // Every length here is bounded by MAX_REFERENCE_LEN + MAX_NAME_LEN.
    let n = |x: usize| x as u16;
    let range = |r: Option<(usize, usize)>| r.map(|(a, b)| (n(a), n(b)));
    Ok(Reference {
        text,
        written_len: n(s.len()),
        name_start: n(name_start),
        name_len: n(name_len),
        host_len: n(host_len),
        registry_len: n(registry_len),
        port: hostport.as_ref().and_then(|h| h.port),
        host_kind: hostport.as_ref().map_or(HostKind::Domain, HostPort::kind),
        tag: range(tag),
        digest: range(digest),
        host_written: hostport.is_some(),
    })
}

/// Writes `len` bytes inline when they fit, else into one heap allocation.
fn store(len: usize, write: impl Fn(&mut dyn Write) -> fmt::Result) -> Text {
    if len <= INLINE {
        let mut a = ArrayString::<INLINE>::new();
        if write(&mut a).is_ok() {
            return Text::Inline(a);
        }
    }
    let mut s = String::with_capacity(len);
    let _ = write(&mut s);
    Text::Heap(s.into_boxed_str())
}

/// R2: a first component is a host when it contains `.` or `:`, is
/// `localhost`, or has an uppercase letter.
fn looks_like_host(first: &str) -> bool {
    first == "localhost"
        || first
            .bytes()
            .any(|b| b == b'.' || b == b':' || b.is_ascii_uppercase())
}

fn check_path(path: &str, at: usize) -> Result<(), ReferenceError> {
    if path.is_empty() {
        return Err(fail(ParseErrorKind::EmptyComponent, at));
    }
    let (mut rest, mut offset) = (path, at);
    loop {
        let end = find_byte(rest, b'/');
        let c = &rest[..end.unwrap_or(rest.len())];
        host::check_component(c, offset).map_err(fault)?;
        match end {
            Some(e) => {
                rest = &rest[e + 1..];
                offset += e + 1;
            }
            None => return Ok(()),
        }
    }
}

fn check_tag(tag: &str, at: usize) -> Result<(), ReferenceError> {
    let b = tag.as_bytes();
    if b.is_empty() {
        return Err(fail(ParseErrorKind::EmptyTag, at));
    }
    if b.len() > MAX_TAG_LEN {
        return Err(fail(ParseErrorKind::TagTooLong, at + MAX_TAG_LEN));
    }
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    if !word(b[0]) {
        return Err(fail(ParseErrorKind::InvalidTag, at));
    }
    if let Some(i) = b.iter().position(|&c| !(word(c) || c == b'.' || c == b'-')) {
        return Err(fail(ParseErrorKind::InvalidTag, at + i));
    }
    Ok(())
}

/// R1: `ALG:HEX`, ALG `[a-z][a-z0-9]*([+._-][a-z][a-z0-9]*)*`, HEX lowercase,
/// 64 digits for sha256, 128 for sha512, at least 32 otherwise.
pub(crate) fn check_digest(d: &str, at: usize) -> Result<(), ReferenceError> {
    if d.len() > MAX_DIGEST_LEN {
        return Err(fail(ParseErrorKind::DigestTooLong, at + MAX_DIGEST_LEN));
    }
    let Some(colon) = find_byte(d, b':') else {
        return Err(fail(ParseErrorKind::InvalidDigest, at));
    };
    let (alg, hex) = (&d[..colon], &d[colon + 1..]);
    let mut expect_letter = true;
    for (i, b) in alg.bytes().enumerate() {
        let ok = match b {
            b'a'..=b'z' => true,
            b'0'..=b'9' => !expect_letter,
            b'+' | b'.' | b'_' | b'-' => !expect_letter && i > 0,
            _ => false,
        };
        if !ok {
            return Err(fail(ParseErrorKind::InvalidDigestAlgorithm, at + i));
        }
        expect_letter = matches!(b, b'+' | b'.' | b'_' | b'-');
    }
    if alg.is_empty() || expect_letter {
        return Err(fail(ParseErrorKind::InvalidDigestAlgorithm, at));
    }
    let hex_at = at + colon + 1;
    if let Some(i) = hex
        .bytes()
        .position(|b| !matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(fail(ParseErrorKind::InvalidDigestHex, hex_at + i));
    }
    let ok_len = match alg {
        "sha256" => hex.len() == 64,
        "sha512" => hex.len() == 128,
        _ => hex.len() >= 32,
    };
    if !ok_len {
        return Err(fail(ParseErrorKind::InvalidDigestHex, hex_at));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn kind(s: &str) -> ParseErrorKind {
        Reference::parse(s).unwrap_err().kind().clone()
    }

    #[test]
    fn r3_defaults() {
        let r = Reference::parse("nginx").unwrap();
        assert_eq!(r.name(), "docker.io/library/nginx");
        assert_eq!(r.path(), "library/nginx");
        assert_eq!(r.registry(), "docker.io");
        assert!(r.is_docker_hub());
        let r = Reference::parse("myorg/app").unwrap();
        assert_eq!(r.name(), "docker.io/myorg/app");
        let r = Reference::parse("docker.io/nginx").unwrap();
        assert_eq!(r.name(), "docker.io/library/nginx");
        assert!(r.has_host());
    }

    #[test]
    fn r2_host_detection() {
        assert_eq!(
            Reference::parse("myrepo/img").unwrap().name(),
            "docker.io/myrepo/img"
        );
        assert_eq!(
            Reference::parse("myrepo.io/img").unwrap().name(),
            "myrepo.io/img"
        );
        assert_eq!(
            Reference::parse("localhost/img").unwrap().name(),
            "localhost/img"
        );
        let r = Reference::parse("Foo/bar").unwrap();
        assert_eq!(r.name(), "foo/bar");
        assert!(r.has_host());
        let r = Reference::parse("test.com:5000").unwrap();
        assert_eq!(r.name(), "docker.io/library/test.com");
        assert_eq!(r.tag(), Some("5000"));
    }

    #[test]
    fn r4_aliases_and_case() {
        for h in [
            "index.docker.io",
            "registry-1.docker.io",
            "Registry.Hub.Docker.com",
        ] {
            let r = Reference::parse(&format!("{h}/nginx")).unwrap();
            assert_eq!(r.name(), "docker.io/library/nginx", "{h}");
            let r = Reference::parse(&format!("{h}/org/app")).unwrap();
            assert_eq!(r.name(), "docker.io/org/app", "{h}");
        }
        assert_eq!(kind("example.com/Repo/img"), ParseErrorKind::Uppercase);
        assert_eq!(
            Reference::parse("[2001:DB8:0:0:0:0:0:2]:05000/img")
                .unwrap()
                .name(),
            "[2001:db8::2]:5000/img"
        );
    }

    #[test]
    fn r1_tags_and_digests() {
        let r = Reference::parse(&format!("a/b:t@sha256:{SHA}")).unwrap();
        assert_eq!(r.tag(), Some("t"));
        assert_eq!(r.digest().unwrap(), format!("sha256:{SHA}"));
        assert_eq!(r.name(), "docker.io/a/b");
        assert!(Reference::parse(&format!("a@sha256:{}", &SHA[..63])).is_err());
        assert!(Reference::parse(&format!("a@sha512:{SHA}")).is_err());
        assert!(Reference::parse(&format!("a@sha512:{SHA}{SHA}")).is_ok());
        assert!(Reference::parse(&format!("a@foo+bar:{}", &SHA[..32])).is_ok());
        assert!(Reference::parse(&format!("a@foo:{}", &SHA[..31])).is_err());
        assert!(Reference::parse(&format!("a@SHA256:{SHA}")).is_err());
        assert!(Reference::parse(&format!("a@sha256:{}", SHA.to_uppercase())).is_err());
        assert!(Reference::parse(&format!("a@1sha:{SHA}")).is_err());
        assert!(Reference::parse(&format!("a@sha-:{SHA}")).is_err());
        assert!(Reference::parse(&format!("a:{}", "t".repeat(128))).is_ok());
        assert_eq!(
            kind(&format!("a:{}", "t".repeat(129))),
            ParseErrorKind::TagTooLong
        );
        assert_eq!(kind("a:.t"), ParseErrorKind::InvalidTag);
        assert_eq!(kind("a:"), ParseErrorKind::EmptyTag);
        assert!(Reference::parse("a:_t.T-1").is_ok());
    }

    #[test]
    fn r6_errors_name_the_place() {
        assert_eq!(kind(""), ParseErrorKind::Empty);
        assert_eq!(kind(" nginx"), ParseErrorKind::Whitespace);
        assert_eq!(kind("https://example.com/a"), ParseErrorKind::Scheme);
        assert_eq!(
            Reference::parse("https://example.com/a")
                .unwrap_err()
                .hint(),
            Some("example.com/a")
        );
        assert_eq!(kind("example.com//a"), ParseErrorKind::EmptyComponent);
        assert_eq!(kind(SHA), ParseErrorKind::ImageId);
        assert_eq!(kind("user:pw@example.com/a"), ParseErrorKind::UserInfo);
        assert!(!Reference::parse("user:pw@example.com/a")
            .unwrap_err()
            .to_string()
            .contains("pw"));
        assert!(Reference::parse(&format!("{SHA}:tag")).is_ok());
        assert_eq!(kind("example.com:0/a"), ParseErrorKind::PortOutOfRange);
        assert_eq!(kind("ex\u{e9}mple.com/a"), ParseErrorKind::NonAscii);
        assert_eq!(kind("example.com./a"), ParseErrorKind::TrailingDot);
        let e = Reference::parse("example.com/ok/Bad").unwrap_err();
        assert_eq!(e.position(), 15);
        assert_eq!(
            e.to_string(),
            "invalid image reference at byte 15: repository name must be lowercase"
        );
        let long = format!("example.com/{}", "a".repeat(244));
        assert_eq!(kind(&long), ParseErrorKind::NameTooLong { len: 256 });
        assert!(Reference::parse(&long[..long.len() - 1]).is_ok());
        let huge = "a".repeat(MAX_REFERENCE_LEN + 1);
        assert!(matches!(kind(&huge), ParseErrorKind::TooLong { .. }));
    }

    #[test]
    fn r6_refusals_take_at_most_two_passes() {
        let passes = |s: &str| {
            PARSES.with(|n| n.set(0));
            let _ = Reference::parse(s);
            PARSES.with(|n| n.get())
        };
        let nested = [
            "https://".repeat(MAX_REFERENCE_LEN / 8),
            format!("{}a/b", "https://".repeat(MAX_REFERENCE_LEN / 8 - 1)),
        ];
        for s in &nested {
            assert!(Reference::parse(s).is_err());
            assert!(passes(s) <= 2, "{} passes", passes(s));
        }
        let e = Reference::parse("https://example.com/a").unwrap_err();
        assert_eq!(e.hint(), Some("example.com/a"));
        assert_eq!(passes("https://example.com/a"), 2);
        // The one-pass parser takes the common shapes without the general
        // one; a shape it does not take costs one general pass.
        assert_eq!(passes("example.com/a"), 0);
        assert_eq!(passes("Example.com/a"), 1);
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "nginx",
            "Foo/bar",
            "Index.Docker.IO/x:1",
            "[::1]:00080/a/b",
            "registry.example.com/repo/image:tag",
            &format!("a@sha256:{SHA}"),
            &format!("registry.example.com/{}", "a/".repeat(60) + "img"),
        ] {
            let r = Reference::parse(s).unwrap();
            assert_eq!(r.to_string(), s);
            assert_eq!(Reference::parse(&r.to_string()).unwrap(), r);
        }
    }

    /// Every field, and where the text lives.
    fn fields(r: &Reference) -> String {
        format!(
            "{:?} inline={} {:?}",
            (
                r.text.as_str(),
                r.written_len,
                r.name_start,
                r.name_len,
                r.host_len,
                r.registry_len,
            ),
            matches!(r.text, Text::Inline(_)),
            (r.port, r.host_kind, r.tag, r.digest, r.host_written),
        )
    }

    fn agree(s: &str) -> bool {
        match parse_fast(s) {
            Some(fast) => {
                let general = parse_with(s, true)
                    .unwrap_or_else(|e| panic!("fast path accepted {s:?}, general refused: {e}"));
                assert_eq!(fields(&fast), fields(&general), "{s:?}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn r1_r3_fast_path_covers_the_common_shapes() {
        for s in [
            "nginx",
            "nginx:1.25",
            "myorg/app:1",
            "docker.io/nginx",
            "docker.io/org/app",
            "registry.example.com/repo/image:tag",
            &format!("registry.example.com/repo/image@sha256:{SHA}"),
            &format!("registry.example.com/repo/image:tag@sha256:{SHA}"),
            "registry.example.com/one/two/three/four/five/six/seven/image:tag",
            "localhost:5000/a/b/img",
            "localhost/img",
            "registry:5000/a",
            "test.com:5000",
            "a__b/c--d/e.f_g:T_1.x-y",
            &format!("registry.example.com/{}", "a/".repeat(100) + "img"),
        ] {
            assert!(agree(s), "{s:?} should take the fast path");
        }
    }

    #[test]
    fn r2_r4_r6_fast_path_leaves_the_rest_to_the_general_parser() {
        for s in [
            "",
            "Foo/bar",
            "index.docker.io/nginx",
            "registry.example.com:05000/a",
            "10.0.0.1:5000/r/i",
            "[::1]/i",
            "example.com/Repo/img",
            "https://example.com/a",
            "a_b.com/c",
            "example.com//a",
            "a:",
            "a@sha512:00",
            SHA,
            "example.com:0/a",
            "example.com:65536/a",
            "user:pw@example.com/a",
        ] {
            assert!(!agree(s), "{s:?} should take the general path");
        }
    }

    /// A strategy picking from `good` four times in five, else from `bad`.
    fn mostly(
        good: &'static [&'static str],
        bad: &'static [&'static str],
    ) -> impl proptest::strategy::Strategy<Value = &'static str> {
        use proptest::sample::select;
        proptest::prop_oneof![4 => select(good), 1 => select(bad)]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// Whatever the fast path accepts, the general parser accepts with
        /// the same result, field by field (R1–R6).
        #[test]
        fn r1_r6_fast_path_agrees_with_the_general_parser(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", "b0", "z9", ".", "_", "__", "-", "--", "/", ":", ":", "5000",
                    "05000", "65535", "65536", "0", "@", "@sha256:", SHA, "localhost",
                    "docker.io", "index.docker.io", "A", "Tag", "1.2.3.4", "example.com",
                    "x.y", "..", "[::1]", "://", " ", "library", "\u{e9}",
                ]),
                0..12,
            )
        ) {
            let s: String = parts.concat();
            agree(&s);
            if let Some(fast) = parse_fast(&s) {
                proptest::prop_assert_eq!(parse(&s).unwrap(), fast);
            }
        }

        /// The same, on inputs built in the reference's own shape, most
        /// parts valid, some not (R1–R6).
        #[test]
        fn r1_r6_fast_path_agrees_on_shaped_inputs(
            host in mostly(
                &["", "", "example.com", "localhost", "docker.io", "registry", "a.b-c.d"],
                &["Example.com", "index.docker.io", "a_b.com", "1.2.3.4", "1.2.3.999",
                  "[::1]", "x-.com", "a..b"],
            ),
            port in mostly(&["", "", "", ":5000", ":65535", ":1"],
                           &[":05000", ":0", ":65536", ":", ":123456", ":x"]),
            path in proptest::collection::vec(
                mostly(&["a", "b0", "a.b", "a_b", "a__b", "a-b", "a--b", "library", "x",
                         "localhost", "a.b.c", "0"],
                       &["a___b", "-a", "a-", "A", "", "a.", "a:b"]),
                1..5,
            ),
            tag in mostly(&["", "", ":t", ":T_1.x-y", ":0"], &[":", ":.x", ":a/b", ":a@b"]),
            digest in mostly(&["", "", "@sha256:"], &["@sha512:", "@sha256:0", "@sha256:A"]),
        ) {
            let mut s = String::from(host);
            s.push_str(port);
            if !s.is_empty() {
                s.push('/');
            }
            s.push_str(&path.join("/"));
            s.push_str(tag);
            if !digest.is_empty() {
                s.push_str(digest);
                s.push_str(SHA);
            }
            agree(&s);
        }
    }
}
