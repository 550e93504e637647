//! Image references: `[HOST[:PORT]/]PATH[:TAG][@DIGEST]` (R1–R6).

use std::fmt::{self, Write};
use std::hash::{Hash, Hasher};
use std::ops::Range;

use arrayvec::ArrayString;

use crate::candidates::Candidates;
use crate::host::{self, DOCKER_HUB, Host, HostKind, HostPort};

pub(crate) mod error;

use crate::syntax::Fault;
use crate::syntax::scan::{self, At, FirstEnd, Scanned, Spans};
pub use error::{ReferenceError, ReferenceErrorKind};

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

    fn as_mut_str(&mut self) -> &mut str {
        match self {
            Text::Inline(s) => s.as_mut_str(),
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
/// use registry_credentials::reference::Reference;
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
/// # Ok::<(), registry_credentials::reference::ReferenceError>(())
/// ```
#[derive(Clone)]
pub struct Reference {
    /// What was written and the normalized name: the one text when they
    /// are the same or the name is a part of what was written
    /// (`index.docker.io/team/app`), the name with what was written as its
    /// end when the input named no host (`docker.io/library/` + `nginx`),
    /// else what was written followed by the name.
    text: Text,
    written_start: u16,
    written_len: u16,
    name_start: u16,
    name_len: u16,
    /// Length of the normalized host (no port) at the start of the name.
    host_len: u16,
    /// Length of the normalized `host[:port]` at the start of the name.
    registry_len: u16,
    port: Option<u16>,
    host_kind: HostKind,
    /// The tag's and the digest's places in what was written.
    spans: Spans,
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
        let start = usize::from(self.written_start);
        &self.text.as_str()[start..start + usize::from(self.written_len)]
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
        self.spans
            .tag
            .map(|(s, e)| &self.as_str()[usize::from(s)..usize::from(e)])
    }

    /// The digest (`algorithm:hex`), if one was written.
    pub fn digest(&self) -> Option<&str> {
        self.spans
            .digest
            .map(|(s, e)| &self.as_str()[usize::from(s)..usize::from(e)])
    }

    /// True when the input named a host; false when `docker.io` was assumed.
    pub fn has_host(&self) -> bool {
        // Only a name on a host nobody wrote has text before what was
        // written (Docker Hub's prefix).
        self.written_start == 0
    }

    /// True when the image is on Docker Hub (`docker.io`, after aliases).
    pub fn is_docker_hub(&self) -> bool {
        self.registry() == DOCKER_HUB
    }

    /// The candidate locations for this reference, most specific first
    /// (R10–R12). Allocates nothing.
    ///
    /// ```
    /// use registry_credentials::reference::Reference;
    /// let r: Reference = "registry.example.com/repo/image:tag".parse()?;
    /// let c: Vec<&str> = r.candidates().map(|c| c.as_str()).collect();
    /// assert_eq!(c, ["registry.example.com/repo", "registry.example.com", "example.com"]);
    /// # Ok::<(), registry_credentials::reference::ReferenceError>(())
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

#[cfg(test)]
thread_local! {
    /// How many times `parse_with` ran on this thread: tests count the work.
    static PARSES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn parse(s: &str) -> Result<Reference, ReferenceError> {
    parse_with(s, true)
}

/// Every length a `Reference` stores is below this, so its `u16` fields
/// never truncate.
const _: () = assert!(MAX_REFERENCE_LEN + MAX_NAME_LEN <= u16::MAX as usize);
const _: () = assert!(MAX_DIGEST_LEN == 639, "the digest message says 639");

/// A length or offset of a reference: at most the input's length and its
/// name's together, so the cast keeps every bit (the assertion above).
#[inline(always)]
fn short(n: usize) -> u16 {
    debug_assert!(n <= MAX_REFERENCE_LEN + MAX_NAME_LEN);
    n as u16
}

/// R2: the first of several components is a host when it contains `.` or
/// `:`, equals `localhost`, or has an uppercase letter (or is a bracketed
/// IPv6 address, which has a `:`).
#[inline(always)]
fn first_is_host(s: &str, x: &Scanned) -> bool {
    let f = &x.first;
    x.first_ends == FirstEnd::Slash
        && (f.has_dot
            || f.colon.is_some()
            || f.has_upper
            || f.bracket
            || s.as_bytes().get(..f.end) == Some(b"localhost".as_slice()))
}

/// The grammar of R1–R6, in one scan. With `hints`, works out a corrected
/// input for an error; the hint is checked by one more parse, without
/// hints, so a refusal costs at most two linear passes (R6).
fn parse_with(s: &str, hints: bool) -> Result<Reference, ReferenceError> {
    #[cfg(test)]
    PARSES.with(|n| n.set(n.get() + 1));
    if s.is_empty() {
        return Err(ReferenceError::new(ReferenceErrorKind::Empty, 0));
    }
    if s.len() > MAX_REFERENCE_LEN {
        let kind = ReferenceErrorKind::Syntax(Fault::TooLong {
            len: s.len(),
            max: MAX_REFERENCE_LEN,
        });
        return Err(ReferenceError::new(kind, MAX_REFERENCE_LEN));
    }
    let mut slot = None;
    let Some(x) = scan::scan(s, &mut slot) else {
        // One name alone: no fault but R6's image id can apply, and on
        // Docker Hub it is an official image (R3).
        if scan::is_image_id(s) {
            return Err(ReferenceError::new(ReferenceErrorKind::ImageId, 0));
        }
        return assemble(s, 0..s.len(), true, None, Spans::default());
    };
    let fail = |(fault, at): At| ReferenceError::new(fault, at);

    // The faults, in the order the rules rank them.
    if let Some(i) = x.rare.scheme {
        if scan::is_scheme(&s[..i]) {
            let e = ReferenceError::new(ReferenceErrorKind::Syntax(Fault::Scheme), 0);
            let rest = &s[i + 3..];
            let fixed = hints && !rest.contains('@') && parse_with(rest, false).is_ok();
            return Err(if fixed { e.with_hint(rest) } else { e });
        }
    }
    if let Some(fault) = x.rare.bad_byte {
        return Err(fail(fault));
    }
    if scan::is_image_id(s) {
        return Err(ReferenceError::new(ReferenceErrorKind::ImageId, 0));
    }
    if x.first_ends == FirstEnd::Alone && x.slash_after_at {
        // `user@host/…`: user information, not a digest. Never echoed.
        return Err(ReferenceError::new(
            ReferenceErrorKind::Syntax(Fault::UserInfo),
            0,
        ));
    }
    // The digest's fault first, then the tag's (compared by reference: a
    // fault is 32 bytes).
    if let Some(&fault) = x.digest_fault.as_ref().or(x.tag_fault.as_ref()) {
        return Err(fail(fault));
    }
    finish(s, x)
}

/// What parsing checks and builds once the scan's first faults passed:
/// R2's host, its check (R4, R5), the path's fault, and the reference.
/// A call of its own, with the host's check inlined: the general case's
/// code stays apart from the one-name case, which [`assemble`] inlined
/// makes of constants.
#[inline(never)]
fn finish(s: &str, x: &Scanned) -> Result<Reference, ReferenceError> {
    let fail = |(fault, at): At| ReferenceError::new(fault, at);
    let is_host = first_is_host(s, x);
    // Borrowed where `host_port` left it, not moved into an `Option`.
    let checked;
    let hostport = if is_host {
        checked = scan::host_port_inlined(s, &x.first);
        match &checked {
            Ok(h) => Some(h),
            Err(fault) => return Err(fail(*fault)),
        }
    } else {
        None
    };
    let path_fault = if is_host || x.first_ends == FirstEnd::Alone {
        x.path_fault.as_ref()
    } else {
        // The first segment is the first path component.
        x.first.comp_fault.as_ref().or(x.path_fault.as_ref())
    };
    if let Some(&fault) = path_fault {
        return Err(fail(fault));
    }
    let path_start = if is_host { x.first.end + 1 } else { 0 };
    let path = path_start..x.name_end;
    // The path is a single component: `library/` goes before it on Docker
    // Hub (R3).
    let one_component = if is_host {
        !x.slash_in_path
    } else {
        x.first_ends == FirstEnd::Alone
    };

    assemble(s, path, one_component, hostport, x.spans)
}

/// The reference written as `s`, of the path at `path` in `s` (a single
/// component when `one_component`), on `hostport` or on Docker Hub
/// when none was written, with the tag's and the digest's places in `s`:
/// R3's defaults filled in, the name's length checked (R1) and the text
/// written.
#[inline(always)]
fn assemble(
    s: &str,
    path: Range<usize>,
    one_component: bool,
    hostport: Option<&HostPort<'_>>,
    spans: Spans,
) -> Result<Reference, ReferenceError> {
    let docker_hub = hostport.is_none_or(HostPort::is_docker_hub);
    let add_library = docker_hub && one_component;
    let (host_len, registry_len) = match hostport {
        Some(h) => (h.normalized_host_len(), h.normalized_len()),
        None => (DOCKER_HUB.len(), DOCKER_HUB.len()),
    };
    let name_len = registry_len + 1 + if add_library { 8 } else { 0 } + path.len();
    if name_len > MAX_NAME_LEN {
        let kind = ReferenceErrorKind::NameTooLong { len: name_len };
        return Err(ReferenceError::new(kind, 0));
    }

    let as_written = !add_library && hostport.is_some_and(HostPort::is_normal_as_written);
    // Made whole in the result first and its text written there: moving
    // a finished text would copy its 128 inline bytes.
    let mut out = Ok(Reference {
        text: Text::Inline(ArrayString::new()),
        written_start: 0,
        written_len: short(s.len()),
        name_start: 0,
        name_len: short(name_len),
        host_len: short(host_len),
        registry_len: short(registry_len),
        port: hostport.and_then(|h| h.port),
        host_kind: hostport.map_or(HostKind::Domain, HostPort::kind),
        spans,
    });
    if let Ok(r) = &mut out {
        match hostport {
            // The name is the text.
            Some(_) if as_written => concat(&mut r.text, &[s]),
            // An alias in lowercase that ends in `docker.io`, before a path
            // of more than one component (`index.docker.io/team/app`; an
            // alias has no port, so the path follows it): the name is what
            // was written from there, a slice of the text.
            Some(h) if h.alias && !add_library && !h.upper && host::ends_in_hub(h.written) => {
                concat(&mut r.text, &[s]);
                r.name_start = short(h.written.len() - DOCKER_HUB.len());
            }
            // What was written, then the name: the host (lowercased in
            // place), the port's digits without leading zeros, the path.
            Some(h) if h.kind() != HostKind::Ipv6 => {
                let path = s.get(path.clone()).unwrap_or_default();
                if h.alias {
                    let prefix = if add_library {
                        LIBRARY_PREFIX
                    } else {
                        HUB_PREFIX
                    };
                    concat(&mut r.text, &[s, prefix, path]);
                } else {
                    let host = h.written;
                    let sep = if add_library { "/library/" } else { "/" };
                    match h.port_written {
                        Some(p) => concat(
                            &mut r.text,
                            &[s, host, ":", p.trim_start_matches('0'), sep, path],
                        ),
                        None => concat(&mut r.text, &[s, host, sep, path]),
                    }
                    if h.upper {
                        r.text.as_mut_str()[s.len()..s.len() + host.len()].make_ascii_lowercase();
                    }
                }
                r.name_start = short(s.len());
            }
            // The name, then what was written, for an IPv6 address.
            Some(h) => {
                let write = |out: &mut dyn Write| {
                    out.write_str(s)?;
                    h.write_normalized(out)?;
                    out.write_str(if add_library { "/library/" } else { "/" })?;
                    out.write_str(s.get(path.clone()).unwrap_or_default())
                };
                store(&mut r.text, s.len() + name_len, write);
                r.name_start = short(s.len());
            }
            // What was written is the name's end: Docker Hub's prefix, then
            // the input.
            None if add_library => {
                concat(&mut r.text, &[LIBRARY_PREFIX, s]);
                r.written_start = short(LIBRARY_PREFIX.len());
            }
            None => {
                concat(&mut r.text, &[HUB_PREFIX, s]);
                r.written_start = short(HUB_PREFIX.len());
            }
        }
    }
    out
}

/// What a name on Docker Hub starts with (R3).
const HUB_PREFIX: &str = "docker.io/";
/// What an official image's name on Docker Hub starts with (R3).
const LIBRARY_PREFIX: &str = "docker.io/library/";

/// `prefix` is `DOCKER_HUB`, then `/` and `more`.
const fn is_hub_prefix(prefix: &str, more: &str) -> bool {
    let (p, h, m) = (prefix.as_bytes(), DOCKER_HUB.as_bytes(), more.as_bytes());
    if p.len() != h.len() + 1 + m.len() {
        return false;
    }
    let (hub, rest) = p.split_at(h.len());
    let (slash, rest) = rest.split_at(1);
    host::same_bytes(hub, h) && slash[0] == b'/' && host::same_bytes(rest, m)
}

const _: () = assert!(is_hub_prefix(HUB_PREFIX, ""));
const _: () = assert!(is_hub_prefix(LIBRARY_PREFIX, "library/"));

/// `pieces`, one after the other, into `text` (empty and inline): inline
/// when they fit, else in one heap allocation.
#[inline(always)]
fn concat(text: &mut Text, pieces: &[&str]) {
    let len: usize = pieces.iter().map(|p| p.len()).sum();
    match text {
        Text::Inline(a) if len <= INLINE => {
            for p in pieces {
                // Fits: the length was checked.
                let _ = a.try_push_str(p);
            }
        }
        _ => {
            let mut heap = String::with_capacity(len);
            for p in pieces {
                heap.push_str(p);
            }
            *text = Text::Heap(heap.into_boxed_str());
        }
    }
}

/// Writes `len` bytes into `text` (empty and inline): inline when they
/// fit, else into one heap allocation.
fn store(text: &mut Text, len: usize, write: impl Fn(&mut dyn Write) -> fmt::Result) {
    if let Text::Inline(a) = text {
        if len <= INLINE {
            if write(a).is_ok() {
                return;
            }
            a.clear();
        }
    }
    let mut s = String::with_capacity(len);
    let _ = write(&mut s);
    *text = Text::Heap(s.into_boxed_str());
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn kind(s: &str) -> ReferenceErrorKind {
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
    fn r1_r3_r6_a_lone_name_is_an_official_image_unless_an_id_or_too_long() {
        let r = Reference::parse("my-app").unwrap();
        assert_eq!(
            (r.name(), r.as_str()),
            ("docker.io/library/my-app", "my-app")
        );
        assert_eq!(
            (r.registry(), r.path(), r.image_name()),
            ("docker.io", "library/my-app", "my-app")
        );
        assert_eq!(
            (r.tag(), r.digest(), r.port(), r.has_host()),
            (None, None, None, false)
        );
        assert_eq!(r, Reference::parse("docker.io/library/my-app").unwrap());
        assert_eq!(kind(SHA), ReferenceErrorKind::ImageId);
        // `docker.io/library/` and the name: 255 at most (R1).
        let longest = "a".repeat(MAX_NAME_LEN - LIBRARY_PREFIX.len());
        assert_eq!(
            Reference::parse(&longest).unwrap().name().len(),
            MAX_NAME_LEN
        );
        let over = format!("{longest}a");
        assert_eq!(kind(&over), ReferenceErrorKind::NameTooLong { len: 256 });
        // Past the inline bytes the text is on the heap, the same reference.
        let long = "b".repeat(200);
        assert_eq!(Reference::parse(&long).unwrap().as_str(), long);
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
        assert_eq!(
            kind("example.com/Repo/img"),
            ReferenceErrorKind::Syntax(Fault::Uppercase)
        );
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
            ReferenceErrorKind::Syntax(Fault::TagTooLong)
        );
        assert_eq!(kind("a:.t"), ReferenceErrorKind::Syntax(Fault::InvalidTag));
        assert_eq!(kind("a:"), ReferenceErrorKind::Syntax(Fault::EmptyTag));
        assert!(Reference::parse("a:_t.T-1").is_ok());
        // A byte no tag may hold, after a path: the tag is what is wrong,
        // at that byte; only a `/` makes the `:` part of a component.
        let bad = [
            ("a/b:t+x", 5),
            ("a/b:t:x", 5),
            ("a/b:t]x", 5),
            ("a/b:+x", 4),
        ];
        for (bad, at) in bad {
            let e = Reference::parse(bad).unwrap_err();
            assert_eq!(
                (e.kind(), e.position()),
                (&ReferenceErrorKind::Syntax(Fault::InvalidTag), at),
                "{bad}"
            );
        }
        let long = format!("a/b:{}", "t".repeat(129));
        let e = Reference::parse(&long).unwrap_err();
        assert_eq!(
            (e.kind(), e.position()),
            (&ReferenceErrorKind::Syntax(Fault::TagTooLong), 4 + 128)
        );
        assert!(Reference::parse(&long[..long.len() - 1]).is_ok());
        let e = Reference::parse("a/b:t/x").unwrap_err();
        assert_eq!(
            (e.kind(), e.position()),
            (&ReferenceErrorKind::Syntax(Fault::InvalidComponent), 3)
        );
    }

    #[test]
    fn r6_errors_name_the_place() {
        assert_eq!(kind(""), ReferenceErrorKind::Empty);
        assert_eq!(
            kind(" nginx"),
            ReferenceErrorKind::Syntax(Fault::Whitespace)
        );
        assert_eq!(
            kind("https://example.com/a"),
            ReferenceErrorKind::Syntax(Fault::Scheme)
        );
        assert_eq!(
            Reference::parse("https://example.com/a")
                .unwrap_err()
                .hint(),
            Some("example.com/a")
        );
        assert_eq!(
            kind("example.com//a"),
            ReferenceErrorKind::Syntax(Fault::EmptyComponent)
        );
        assert_eq!(kind(SHA), ReferenceErrorKind::ImageId);
        // Only 64 hex digits are an image id: one other byte, first or
        // last, makes it an image name.
        for name in [
            format!("g{}", &SHA[1..]),
            format!("{}g{}", &SHA[..10], &SHA[11..]),
            format!("{}g", &SHA[..63]),
        ] {
            assert!(Reference::parse(&name).is_ok(), "{name}");
        }
        assert_ne!(
            kind(&format!("A{}", &SHA[1..])),
            ReferenceErrorKind::ImageId
        );
        assert_eq!(
            kind("user:pw@example.com/a"),
            ReferenceErrorKind::Syntax(Fault::UserInfo)
        );
        let user = Reference::parse("user:pw@example.com/a")
            .unwrap_err()
            .to_string();
        assert!(!user.contains("pw"), "{user}");
        assert!(
            user.ends_with(
                "it names a user with `@`; leave the user out and give the username separately"
            ),
            "{user}"
        );
        assert!(Reference::parse(&format!("{SHA}:tag")).is_ok());
        assert_eq!(
            kind("example.com:0/a"),
            ReferenceErrorKind::Syntax(Fault::PortOutOfRange)
        );
        assert_eq!(
            kind("ex\u{e9}mple.com/a"),
            ReferenceErrorKind::Syntax(Fault::NonAscii)
        );
        assert_eq!(
            kind("example.com./a"),
            ReferenceErrorKind::Syntax(Fault::TrailingDot)
        );
        let e = Reference::parse("example.com/ok/Bad").unwrap_err();
        assert_eq!(e.position(), 15);
        assert_eq!(
            e.to_string(),
            "invalid image reference at byte 15: repository name must be lowercase; write the path in lowercase"
        );
        let long = format!("example.com/{}", "a".repeat(244));
        assert_eq!(kind(&long), ReferenceErrorKind::NameTooLong { len: 256 });
        assert!(Reference::parse(&long[..long.len() - 1]).is_ok());
        let huge = "a".repeat(MAX_REFERENCE_LEN + 1);
        assert!(matches!(
            kind(&huge),
            ReferenceErrorKind::Syntax(Fault::TooLong { .. })
        ));
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
        // Every shape that parses takes one pass.
        assert_eq!(passes("example.com/a"), 1);
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

    #[test]
    fn r5_host_ending_in_number_must_be_dotted_quad() {
        for bad in [
            "010.0.0.1/img",
            "0x7f.0.0.1/img",
            "1.2.3.999/img",
            "1.2.3/img",
            "0X7F/img",
            "999:5000/img",
        ] {
            assert_eq!(
                kind(bad),
                ReferenceErrorKind::Syntax(Fault::InvalidIpv4),
                "{bad}"
            );
        }
        let r = Reference::parse("10.0.0.1:5000/r/i").unwrap();
        assert_eq!(r.host(), Host::Ipv4(std::net::Ipv4Addr::new(10, 0, 0, 1)));
        // R2: a single first component without `.` or `:`, not
        // `localhost` and without capitals, is no host at all.
        let r = Reference::parse("999/img").unwrap();
        assert_eq!(r.name(), "docker.io/999/img");
        assert!(!r.has_host());
        let r = Reference::parse("test.com:5000").unwrap();
        assert_eq!(
            (r.name(), r.tag()),
            ("docker.io/library/test.com", Some("5000"))
        );
    }

    #[test]
    fn r4_the_normal_host_and_port_follow_what_was_written() {
        let long = format!("Example.COM:05000/{}", "a".repeat(120));
        let cases = [
            ("Example.COM:05000/a", "example.com:5000/a"),
            ("Example.COM/a/b", "example.com/a/b"),
            ("example.com:00080/a", "example.com:80/a"),
            ("10.0.0.1:065535/a", "10.0.0.1:65535/a"),
            ("Index.Docker.io/a", "docker.io/library/a"),
            ("registry-1.docker.io/a/b:t", "docker.io/a/b"),
            ("index.docker.io/a/b@sha256:{SHA}", "docker.io/a/b"),
            ("index.docker.io/a", "docker.io/library/a"),
            ("Index.docker.io/a/b", "docker.io/a/b"),
            ("registry.hub.docker.com/a/b", "docker.io/a/b"),
            ("Docker.io/a", "docker.io/library/a"),
            (
                long.as_str(),
                &long.to_lowercase().replace(":05000", ":5000"),
            ),
        ];
        for (written, name) in cases {
            let written = written.replace("{SHA}", SHA);
            let written = written.as_str();
            let r = Reference::parse(written).unwrap();
            assert_eq!((r.as_str(), r.name()), (written, name), "{written}");
            assert_eq!(Reference::parse(r.name()).unwrap().name(), name);
        }
    }

    #[test]
    fn r4_aliases_are_rewritten_only_without_a_port() {
        let r = Reference::parse("index.docker.io:443/x").unwrap();
        assert_eq!(r.name(), "index.docker.io:443/x");
        assert_eq!(r.registry(), "index.docker.io:443");
        assert!(!r.is_docker_hub());
        let r = Reference::parse("index.docker.io/x").unwrap();
        assert_eq!(r.name(), "docker.io/library/x");
        let r = Reference::parse("docker.io:443/x").unwrap();
        assert_eq!(r.name(), "docker.io:443/x");
    }

    #[test]
    fn r1_input_longer_than_1024_bytes_is_refused_first() {
        // Over the limit, whatever else is wrong: the length is checked
        // before the scan.
        let over = format!(" {}", "a".repeat(MAX_REFERENCE_LEN));
        assert_eq!(
            kind(&over),
            ReferenceErrorKind::Syntax(Fault::TooLong {
                len: MAX_REFERENCE_LEN + 1,
                max: MAX_REFERENCE_LEN
            })
        );
        let e = Reference::parse(&over).unwrap_err();
        assert_eq!(e.position(), MAX_REFERENCE_LEN);
        // At the limit the scan runs and finds the white space.
        assert_eq!(
            kind(&over[..MAX_REFERENCE_LEN]),
            ReferenceErrorKind::Syntax(Fault::Whitespace)
        );
    }

    #[test]
    fn r1_digest_at_most_639_characters() {
        let hex = |n: usize| "a".repeat(n);
        let at_limit = format!("a@foo:{}", hex(MAX_DIGEST_LEN - 4));
        assert_eq!(
            Reference::parse(&at_limit).unwrap().digest().unwrap().len(),
            MAX_DIGEST_LEN
        );
        let over = format!("a@foo:{}", hex(MAX_DIGEST_LEN - 3));
        assert_eq!(
            kind(&over),
            ReferenceErrorKind::Syntax(Fault::DigestTooLong)
        );
        // The longest name, tag and digest together fit the input limit.
        let longest = format!(
            "example.com/{}:{}@foo:{}",
            "a".repeat(MAX_NAME_LEN - 12),
            "t".repeat(MAX_TAG_LEN),
            hex(MAX_DIGEST_LEN - 4)
        );
        assert_eq!(longest.len(), MAX_REFERENCE_LEN);
        assert!(Reference::parse(&longest).is_ok());
    }

    #[test]
    fn r6_parsing_is_one_pass_and_never_panics_on_odd_shapes() {
        for s in [
            "a/b:c/d",
            "a:b:c",
            "[::1]",
            "[::1]/a",
            "[::1/a",
            "a@",
            "@",
            ":",
            "/",
            "a/",
            "a//",
            "a:@",
            "a/b@",
            "a/b@sha256:",
            "::",
            "[]:/",
            "a/b:c@d/e",
            "[",
            "]",
            "a]/b",
            "localhost",
            "localhost/a",
            "LOCALHOST/a",
        ] {
            let _ = Reference::parse(s);
            let _ = crate::location::Location::parse(s);
        }
        assert_eq!(kind("a:b:c"), ReferenceErrorKind::Syntax(Fault::InvalidTag));
        assert_eq!(
            kind("a/b:c/d"),
            ReferenceErrorKind::Syntax(Fault::InvalidComponent)
        );
        assert_eq!(
            kind("[::1]"),
            ReferenceErrorKind::Syntax(Fault::InvalidComponent)
        );
        assert_eq!(
            kind("a:b/c"),
            ReferenceErrorKind::Syntax(Fault::InvalidPort)
        );
        assert_eq!(
            kind(":5000/c"),
            ReferenceErrorKind::Syntax(Fault::EmptyHost)
        );
        assert_eq!(Reference::parse("[::1]/a").unwrap().name(), "[::1]/a");
        assert_eq!(
            Reference::parse("LOCALHOST/a").unwrap().name(),
            "localhost/a"
        );
    }
}
