//! Hosts, ports and path components: the grammar that references and
//! locations share (R4, R5), and the Docker Hub aliases.

use std::fmt::{self, Write};
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::error::ParseErrorKind;

/// The registry that references without a host name (R3).
pub const DOCKER_HUB: &str = "docker.io";

/// Host names that are the same registry as [`DOCKER_HUB`] and are rewritten
/// to it (R4).
pub const DOCKER_HUB_ALIASES: [&str; 3] = [
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
];

/// A registry host in normal form, as a reference or location holds it.
///
/// ```
/// use registry_credentials::host::Host;
/// use registry_credentials::Location;
/// let loc: Location = "[2001:DB8:0:0::1]:5000/team".parse()?;
/// assert_eq!(loc.host(), Host::Ipv6("2001:db8::1".parse()?));
/// assert_eq!(loc.host().to_string(), "[2001:db8::1]");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Host<'a> {
    /// A DNS name, lowercase.
    Domain(&'a str),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address (written in brackets).
    Ipv6(Ipv6Addr),
}

impl<'a> Host<'a> {
    /// Reads a host from its normal form (`text` is already validated).
    pub(crate) fn from_normalized(text: &'a str, kind: HostKind) -> Self {
        match kind {
            HostKind::Domain => Host::Domain(text),
            HostKind::Ipv4 => text.parse().map(Host::Ipv4).unwrap_or(Host::Domain(text)),
            HostKind::Ipv6 => text
                .get(1..text.len().saturating_sub(1))
                .and_then(|t| t.parse().ok())
                .map(Host::Ipv6)
                .unwrap_or(Host::Domain(text)),
        }
    }
}

impl fmt::Display for Host<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6(a) => {
                f.write_char('[')?;
                write_ipv6(f, a)?;
                f.write_char(']')
            }
        }
    }
}

/// Which of the three forms a host has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum HostKind {
    Domain,
    Ipv4,
    Ipv6,
}

/// A host and port as written, checked; it knows its normal form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HostPort<'a> {
    /// The host as written (brackets included for IPv6).
    written: &'a str,
    kind: HostKind,
    /// The IPv6 address, for writing its canonical form.
    ipv6: Option<Ipv6Addr>,
    /// True when the host is one of the Docker Hub aliases (and has no port).
    alias: bool,
    pub(crate) port: Option<u16>,
    /// The port's digits as written.
    port_written: Option<&'a str>,
}

/// The decimal length of a port number.
fn port_len(p: u16) -> usize {
    match p {
        0..=9 => 1,
        10..=99 => 2,
        100..=999 => 3,
        1000..=9999 => 4,
        _ => 5,
    }
}

impl HostPort<'_> {
    pub(crate) fn kind(&self) -> HostKind {
        self.kind
    }

    /// Length of the normalized host, without the port.
    pub(crate) fn normalized_host_len(&self) -> usize {
        match (self.kind, self.alias) {
            (_, true) => DOCKER_HUB.len(),
            (HostKind::Ipv6, _) => {
                let mut n = Counter(0);
                let _ = write_ipv6(&mut n, &self.ipv6.unwrap_or(Ipv6Addr::UNSPECIFIED));
                n.0 + 2
            }
            _ => self.written.len(),
        }
    }

    /// Length of the normalized `host[:port]`.
    pub(crate) fn normalized_len(&self) -> usize {
        self.normalized_host_len() + self.port.map_or(0, |p| 1 + port_len(p))
    }

    /// True when the normal form is exactly what was written.
    pub(crate) fn is_normal_as_written(&self) -> bool {
        let host_ok = match self.kind {
            HostKind::Ipv6 => {
                self.normalized_host_len() == self.written.len() && {
                    let mut same = SameAs::new(&self.written[1..self.written.len() - 1]);
                    let _ = write_ipv6(&mut same, &self.ipv6.unwrap_or(Ipv6Addr::UNSPECIFIED));
                    same.finish()
                }
            }
            _ => !self.alias && !self.written.bytes().any(|b| b.is_ascii_uppercase()),
        };
        let port_ok = match (self.port, self.port_written) {
            (Some(p), Some(w)) => w.len() == port_len(p),
            _ => true,
        };
        host_ok && port_ok
    }

    /// True when the normalized host is `docker.io` with no port.
    pub(crate) fn is_docker_hub(&self) -> bool {
        self.port.is_none()
            && (self.alias
                || (self.kind == HostKind::Domain && self.written.eq_ignore_ascii_case(DOCKER_HUB)))
    }

    /// Writes the normalized `host[:port]`.
    pub(crate) fn write_normalized<W: Write + ?Sized>(&self, out: &mut W) -> fmt::Result {
        if self.alias {
            out.write_str(DOCKER_HUB)?;
        } else {
            match self.kind {
                HostKind::Ipv6 => {
                    out.write_char('[')?;
                    write_ipv6(out, &self.ipv6.unwrap_or(Ipv6Addr::UNSPECIFIED))?;
                    out.write_char(']')?;
                }
                _ => {
                    for b in self.written.bytes() {
                        out.write_char(b.to_ascii_lowercase() as char)?;
                    }
                }
            }
        }
        if let Some(p) = self.port {
            write!(out, ":{p}")?;
        }
        Ok(())
    }
}

/// Counts what is written.
struct Counter(usize);

impl Write for Counter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// Compares what is written with a given string.
struct SameAs<'a> {
    rest: &'a str,
    same: bool,
}

impl<'a> SameAs<'a> {
    fn new(s: &'a str) -> Self {
        SameAs {
            rest: s,
            same: true,
        }
    }
    fn finish(self) -> bool {
        self.same && self.rest.is_empty()
    }
}

impl Write for SameAs<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        match self.rest.strip_prefix(s) {
            Some(r) => self.rest = r,
            None => {
                self.same = false;
                self.rest = "";
            }
        }
        Ok(())
    }
}

/// Writes an IPv6 address in the form of RFC 5952: lowercase hex without
/// leading zeros, the longest run of two or more zero groups (the first of
/// equal runs) written `::`, and never a dotted quad (which `Ipv6Addr`'s own
/// `Display` uses for IPv4-mapped addresses).
pub(crate) fn write_ipv6<W: Write + ?Sized>(out: &mut W, addr: &Ipv6Addr) -> fmt::Result {
    let g = addr.segments();
    let (mut best_start, mut best_len) = (0usize, 0usize);
    let mut i = 0;
    while i < 8 {
        if g[i] == 0 {
            let start = i;
            while i < 8 && g[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                best_start = start;
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    if best_len < 2 {
        best_len = 0;
    }
    let mut i = 0;
    while i < 8 {
        if best_len > 0 && i == best_start {
            out.write_str("::")?;
            i += best_len;
            continue;
        }
        if i > 0 && !(best_len > 0 && i == best_start + best_len) {
            out.write_char(':')?;
        }
        write!(out, "{:x}", g[i])?;
        i += 1;
    }
    Ok(())
}

/// Error position inside the string being parsed.
pub(crate) type Fault = (ParseErrorKind, usize);

/// The first `needle` in `s`. For the short strings parsed here a plain byte
/// loop is several times cheaper than `str::find`'s searcher set-up.
#[inline]
pub(crate) fn find_byte(s: &str, needle: u8) -> Option<usize> {
    s.bytes().position(|b| b == needle)
}

/// The last `needle` in `s`; see [`find_byte`].
#[inline]
pub(crate) fn rfind_byte(s: &str, needle: u8) -> Option<usize> {
    s.bytes().rposition(|b| b == needle)
}

/// Parses `HOST[:PORT]` (R5). `base` is the offset of `s` in the whole input,
/// for error positions.
pub(crate) fn parse_host_port(s: &str, base: usize) -> Result<HostPort<'_>, Fault> {
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return Err((ParseErrorKind::EmptyHost, base));
    }
    let (host, rest, rest_at) = if bytes[0] == b'[' {
        let close = match find_byte(s, b']') {
            Some(c) => c,
            None => return Err((ParseErrorKind::InvalidIpv6, base)),
        };
        (&s[..=close], &s[close + 1..], close + 1)
    } else {
        match find_byte(s, b':') {
            Some(c) => (&s[..c], &s[c..], c),
            None => (s, "", s.len()),
        }
    };
    let (port, port_written) = if rest.is_empty() {
        (None, None)
    } else if let Some(digits) = rest.strip_prefix(':') {
        let p = parse_port(digits, base + rest_at + 1)?;
        (Some(p), Some(digits))
    } else {
        return Err((ParseErrorKind::InvalidIpv6, base + rest_at));
    };
    let (kind, ipv6) = if host.starts_with('[') {
        let inner = &host[1..host.len() - 1];
        let bad = inner.is_empty() || inner.bytes().any(|b| !(b.is_ascii_hexdigit() || b == b':'));
        let addr: Ipv6Addr = match (bad, inner.parse()) {
            (false, Ok(a)) => a,
            _ => return Err((ParseErrorKind::InvalidIpv6, base + 1)),
        };
        (HostKind::Ipv6, Some(addr))
    } else {
        check_dns_name(host, base)?;
        // Only digits and dots can be an IPv4 address: skip the parse
        // for every other name.
        let numeric = host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        let kind = if numeric && host.parse::<Ipv4Addr>().is_ok() {
            HostKind::Ipv4
        } else {
            HostKind::Domain
        };
        (kind, None)
    };
    let alias = kind == HostKind::Domain
        && port.is_none()
        && DOCKER_HUB_ALIASES
            .iter()
            .any(|a| a.eq_ignore_ascii_case(host));
    Ok(HostPort {
        written: host,
        kind,
        ipv6,
        alias,
        port,
        port_written,
    })
}

/// Checks a DNS name: dot-separated labels of `[A-Za-z0-9-]`, none empty, none
/// starting or ending with `-`. Uppercase is accepted here and lowered later.
fn check_dns_name(host: &str, base: usize) -> Result<(), Fault> {
    if host.is_empty() {
        return Err((ParseErrorKind::EmptyHost, base));
    }
    let mut at = base;
    let mut labels = host.as_bytes().split(|&b| b == b'.').peekable();
    while let Some(lb) = labels.next() {
        let last = labels.peek().is_none();
        if lb.is_empty() {
            let kind = if last && host.len() > 1 {
                ParseErrorKind::TrailingDot
            } else {
                ParseErrorKind::InvalidHost
            };
            return Err((kind, at.saturating_sub(usize::from(last))));
        }
        if let Some(i) = lb
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-'))
        {
            return Err((ParseErrorKind::InvalidHost, at + i));
        }
        if lb[0] == b'-' {
            return Err((ParseErrorKind::InvalidHost, at));
        }
        if lb[lb.len() - 1] == b'-' {
            return Err((ParseErrorKind::InvalidHost, at + lb.len() - 1));
        }
        at += lb.len() + 1;
    }
    Ok(())
}

/// Parses a port: decimal digits, 1–65535, leading zeros allowed.
fn parse_port(digits: &str, at: usize) -> Result<u16, Fault> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err((ParseErrorKind::InvalidPort, at));
    }
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() || significant.len() > 5 {
        return Err((ParseErrorKind::PortOutOfRange, at));
    }
    match significant.parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
        _ => Err((ParseErrorKind::PortOutOfRange, at)),
    }
}

/// Checks one path component against
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` (R1). `at` is its offset.
pub(crate) fn check_component(c: &str, at: usize) -> Result<(), Fault> {
    #[derive(PartialEq)]
    enum Last {
        Start,
        Alnum,
        Dot,
        Under1,
        Under2,
        Dash,
    }
    if c.is_empty() {
        return Err((ParseErrorKind::EmptyComponent, at));
    }
    let mut last = Last::Start;
    for (i, b) in c.bytes().enumerate() {
        last = match b {
            b'a'..=b'z' | b'0'..=b'9' => Last::Alnum,
            b'A'..=b'Z' => return Err((ParseErrorKind::Uppercase, at + i)),
            b'.' if last == Last::Alnum => Last::Dot,
            b'_' if last == Last::Alnum => Last::Under1,
            b'_' if last == Last::Under1 => Last::Under2,
            b'-' if last == Last::Alnum || last == Last::Dash => Last::Dash,
            _ => return Err((ParseErrorKind::InvalidComponent, at + i)),
        };
    }
    if last != Last::Alnum {
        return Err((ParseErrorKind::InvalidComponent, at + c.len() - 1));
    }
    Ok(())
}

/// Rejects white space, control characters and non-ASCII, which no valid
/// reference or location holds.
pub(crate) fn check_characters(s: &str) -> Result<(), Fault> {
    // Fast path: every byte printable ASCII other than space.
    if s.bytes().all(|b| matches!(b, 0x21..=0x7e)) {
        return Ok(());
    }
    for (i, b) in s.bytes().enumerate() {
        if b == b' ' || b == b'\t' || b == b'\n' || b == b'\r' || b == 0x0b || b == 0x0c {
            return Err((ParseErrorKind::Whitespace, i));
        }
        if b < 0x20 || b == 0x7f {
            return Err((ParseErrorKind::ControlCharacter, i));
        }
        if b >= 0x80 {
            return Err((ParseErrorKind::NonAscii, i));
        }
    }
    Ok(())
}

/// The position of `://` when the input starts with a protocol, and the rest.
pub(crate) fn strip_scheme(s: &str) -> Option<(usize, &str)> {
    let i = s.as_bytes().windows(3).position(|w| w == b"://")?;
    let scheme = &s[..i];
    let is_scheme = !scheme.is_empty()
        && scheme.as_bytes()[0].is_ascii_alphabetic()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.');
    is_scheme.then(|| (i, &s[i + 3..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(s: &str) -> String {
        let mut out = String::new();
        write_ipv6(&mut out, &s.parse().unwrap()).unwrap();
        out
    }

    #[test]
    fn r4_ipv6_canonical_form_rfc5952() {
        assert_eq!(canonical("2001:db8:0:0:0:0:0:2"), "2001:db8::2");
        assert_eq!(canonical("0:0:0:0:0:0:0:1"), "::1");
        assert_eq!(canonical("::"), "::");
        assert_eq!(canonical("2001:DB8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
        assert_eq!(canonical("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
        assert_eq!(canonical("1:0:0:0:0:0:0:0"), "1::");
        // Never a dotted quad, even for IPv4-mapped addresses.
        assert_eq!(canonical("::ffff:102:304"), "::ffff:102:304");
        assert_eq!(canonical("00ab:0:0:0:0:0:0:0"), "ab::");
    }

    #[test]
    fn r5_components_follow_the_grammar() {
        for ok in ["a", "a0", "a.b", "a_b", "a__b", "a-b", "a---b", "0"] {
            assert!(check_component(ok, 0).is_ok(), "{ok}");
        }
        for bad in [
            "", "-a", "a-", "a..b", "a___b", "a_-b", ".a", "a.", "a+b", "_a",
        ] {
            assert!(check_component(bad, 0).is_err(), "{bad}");
        }
        assert_eq!(
            check_component("aB", 10),
            Err((ParseErrorKind::Uppercase, 11))
        );
    }

    #[test]
    fn r5_ports() {
        assert_eq!(parse_port("5000", 0), Ok(5000));
        assert_eq!(parse_port("05000", 0), Ok(5000));
        assert_eq!(parse_port("65535", 0), Ok(65535));
        assert!(parse_port("0", 0).is_err());
        assert!(parse_port("65536", 0).is_err());
        assert!(parse_port("", 0).is_err());
        assert!(parse_port("5a", 0).is_err());
        assert!(parse_port("0000000000000000000080", 0).is_ok());
    }

    #[test]
    fn r5_hosts() {
        assert!(parse_host_port("registry.example.com:5000", 0).is_ok());
        assert!(parse_host_port("[::1]:5000", 0).is_ok());
        assert_eq!(
            parse_host_port("example.com.", 0).unwrap_err().0,
            ParseErrorKind::TrailingDot
        );
        assert!(parse_host_port("-a.com", 0).is_err());
        assert!(parse_host_port("a-.com", 0).is_err());
        assert!(parse_host_port("a..com", 0).is_err());
        assert!(parse_host_port("[fe80::1%eth0]", 0).is_err());
        assert!(parse_host_port("[::ffff:1.2.3.4]", 0).is_err());
        assert!(parse_host_port("[]", 0).is_err());
        assert!(parse_host_port("[::1]x", 0).is_err());
        assert!(parse_host_port("a_b.com", 0).is_err());
        let hp = parse_host_port("Index.Docker.IO", 0).unwrap();
        assert!(hp.is_docker_hub());
        let mut s = String::new();
        hp.write_normalized(&mut s).unwrap();
        assert_eq!(s, "docker.io");
        assert!(!parse_host_port("index.docker.io:443", 0)
            .unwrap()
            .is_docker_hub());
    }
}
