//! Registry hosts: their normal form (R4), the host and port grammar that
//! references and locations share (R5), the Docker Hub aliases, and public
//! suffixes (R9, R11).

use std::fmt::{self, Write};
use std::net::{Ipv4Addr, Ipv6Addr};

pub(crate) mod suffix;

/// The registry that references without a host name (R3).
pub const DOCKER_HUB: &str = "docker.io";

/// Host names that are the same registry as [`DOCKER_HUB`] and are rewritten
/// to it (R4).
pub const DOCKER_HUB_ALIASES: [&str; 3] = [
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
];

/// True when `alias`, one of [`DOCKER_HUB_ALIASES`] as written there, ends
/// in [`DOCKER_HUB`]: every one but `registry.hub.docker.com`, the one of
/// its length.
#[inline(always)]
pub(crate) fn ends_in_hub(alias: &str) -> bool {
    alias.len() != DOCKER_HUB_ALIASES[2].len()
}

/// What [`ends_in_hub`] tells by length: the alias of the third one's
/// length is the only one that does not end in `docker.io`.
const fn aliases_end_in_hub_by_length() -> bool {
    let hub = DOCKER_HUB.as_bytes();
    let mut k = 0;
    while k < DOCKER_HUB_ALIASES.len() {
        let a = DOCKER_HUB_ALIASES[k].as_bytes();
        let ends = a.len() >= hub.len() && same_bytes(a.split_at(a.len() - hub.len()).1, hub);
        if ends != (a.len() != DOCKER_HUB_ALIASES[2].len()) {
            return false;
        }
        k += 1;
    }
    true
}

/// `a == b`, for the compile-time checks of these constants.
pub(crate) const fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const _: () = assert!(aliases_end_in_hub_by_length());

/// A registry host in normal form, as a reference or location holds it.
///
/// ```
/// use registry_credentials::host::Host;
/// use registry_credentials::location::Location;
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
    pub(crate) written: &'a str,
    pub(crate) kind: HostKind,
    /// The IPv6 address, for writing its canonical form.
    pub(crate) ipv6: Option<Ipv6Addr>,
    /// True when the host is one of the Docker Hub aliases (and has no port).
    pub(crate) alias: bool,
    /// True when the host has an uppercase letter.
    pub(crate) upper: bool,
    pub(crate) port: Option<u16>,
    /// The port's digits as written.
    pub(crate) port_written: Option<&'a str>,
}

/// The decimal length of a port number.
#[inline]
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
    #[inline]
    pub(crate) fn kind(&self) -> HostKind {
        self.kind
    }

    /// Length of the normalized host, without the port.
    #[inline(always)]
    pub(crate) fn normalized_host_len(&self) -> usize {
        match (self.kind, self.alias) {
            (_, true) => DOCKER_HUB.len(),
            (HostKind::Ipv6, _) => self.ipv6_len(),
            _ => self.written.len(),
        }
    }

    /// Length of the canonical IPv6 address in brackets.
    #[cold]
    #[inline(never)]
    fn ipv6_len(&self) -> usize {
        let mut n = Counter(0);
        let _ = write_ipv6(&mut n, &self.ipv6.unwrap_or(Ipv6Addr::UNSPECIFIED));
        n.0 + 2
    }

    /// Length of the normalized `host[:port]`.
    #[inline(always)]
    pub(crate) fn normalized_len(&self) -> usize {
        self.normalized_host_len() + self.port.map_or(0, |p| 1 + port_len(p))
    }

    /// True when the normal form is exactly what was written.
    #[inline(always)]
    pub(crate) fn is_normal_as_written(&self) -> bool {
        let host_ok = match self.kind {
            HostKind::Ipv6 => self.ipv6_as_written(),
            _ => !self.alias && !self.upper,
        };
        let port_ok = match (self.port, self.port_written) {
            (Some(p), Some(w)) => w.len() == port_len(p),
            _ => true,
        };
        host_ok && port_ok
    }

    /// True when the IPv6 address is written in its canonical form.
    #[cold]
    #[inline(never)]
    fn ipv6_as_written(&self) -> bool {
        self.normalized_host_len() == self.written.len() && {
            let inner = self
                .written
                .get(1..self.written.len().saturating_sub(1))
                .unwrap_or("");
            let mut same = SameAs::new(inner);
            let _ = write_ipv6(&mut same, &self.ipv6.unwrap_or(Ipv6Addr::UNSPECIFIED));
            same.finish()
        }
    }

    /// True when the normalized host is `docker.io` with no port.
    #[inline(always)]
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
                    for c in self.written.chars() {
                        out.write_char(c.to_ascii_lowercase())?;
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

/// The first `needle` in `s`. For the short strings parsed here a plain byte
/// loop is several times cheaper than `str::find`'s searcher set-up.
#[inline]
pub(crate) fn find_byte(s: &str, needle: u8) -> Option<usize> {
    s.bytes().position(|b| b == needle)
}

/// The last `needle` in `b`: eight bytes a step from the end, then byte by
/// byte (a candidate's next `/` is usually in the last eight bytes).
#[inline]
pub(crate) fn rfind_byte(b: &[u8], needle: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut end = b.len();
    while let Some(word) = b[..end].last_chunk::<8>() {
        let differs = u64::from_le_bytes(*word) ^ (u64::from(needle) * ONES);
        // 0x80 in each byte that is `needle`, and nowhere else.
        let hits = !(((differs & LOW) + LOW) | differs | LOW);
        if hits != 0 {
            return Some(end - 8 + (63 - hits.leading_zeros() as usize) / 8);
        }
        end -= 8;
    }
    b[..end].iter().rposition(|&c| c == needle)
}

/// R5, after the WHATWG URL standard's "ends in a number": the last label
/// is all decimal digits, or `0x`/`0X` followed by hex digits (none
/// included, as there: `0x` is the number 0). Resolvers (`inet_aton`)
/// read such a name as an address.
#[inline]
pub(crate) fn ends_in_a_number(last_label: &str) -> bool {
    let b = last_label.as_bytes();
    match b {
        [] => false,
        [b'0', b'x' | b'X', hex @ ..] => hex.iter().all(u8::is_ascii_hexdigit),
        digits => digits.iter().all(u8::is_ascii_digit),
    }
}

/// R5: four decimal numbers 0–255, dot-separated, without leading zeros.
/// One pass over the bytes.
pub(crate) fn is_dotted_quad(host: &str) -> bool {
    let mut dots = 0;
    // The current number's value and digits.
    let (mut value, mut digits) = (0u32, 0u32);
    for &b in host.as_bytes() {
        let digit = u32::from(b.wrapping_sub(b'0'));
        if digit < 10 {
            // A leading zero is a number of its own: `0`, never `01`.
            if digits == 3 || (digits == 1 && value == 0) {
                return false;
            }
            value = value * 10 + digit;
            digits += 1;
        } else if b == b'.' && digits > 0 && value <= 255 {
            dots += 1;
            (value, digits) = (0, 0);
        } else {
            return false;
        }
    }
    dots == 3 && digits > 0 && value <= 255
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass check says what a split at dots and a number parse of
    /// each part say (R5), on every host of up to six bytes over digits,
    /// dots and one other byte, and on every address-like text of four
    /// parts of up to four digits.
    #[test]
    fn r5_dotted_quad_is_what_splitting_says() {
        fn by_split(host: &str) -> bool {
            let parts: Vec<_> = host.split('.').collect();
            parts.len() == 4
                && parts.iter().all(|p| {
                    !p.is_empty()
                        && p.len() <= 3
                        && p.bytes().all(|b| b.is_ascii_digit())
                        && (p.len() == 1 || !p.starts_with('0'))
                        && p.parse::<u16>().is_ok_and(|n| n <= 255)
                })
        }
        let alphabet = [b'0', b'1', b'2', b'5', b'9', b'.', b'a'];
        let mut texts = vec![String::new()];
        for _ in 0..6 {
            let longer: Vec<String> = texts
                .iter()
                .filter(|t| t.len() == texts.last().map_or(0, String::len))
                .flat_map(|t| alphabet.iter().map(move |&b| format!("{t}{}", b as char)))
                .collect();
            texts.extend(longer);
        }
        let numbers = [
            "0", "00", "01", "1", "9", "10", "99", "100", "199", "255", "256", "299", "999",
            "1000", "",
        ];
        for a in numbers {
            for b in numbers {
                texts.push(format!("{a}.{b}.1.{b}"));
                texts.push(format!("1.{a}.{b}.255"));
                texts.push(format!("{a}.{b}.{a}.{b}.1"));
            }
        }
        for t in &texts {
            assert_eq!(is_dotted_quad(t), by_split(t), "{t:?}");
        }
    }

    /// `rfind_byte` finds what a byte-by-byte search from the end finds, at
    /// every length and place, beside every other byte value.
    #[test]
    fn rfind_byte_is_the_last_occurrence() {
        for len in 0..=40 {
            for fill in [b'a', b'/' ^ 1, b'.' ^ 1, 0x7f, 0x80 + b'/'] {
                let base = vec![fill; len];
                for needle in [b'/', b'.'] {
                    let s = String::from_utf8_lossy(&base).into_owned();
                    let want = s.bytes().rposition(|c| c == needle);
                    assert_eq!(rfind_byte(s.as_bytes(), needle), want, "{len} {fill:x}");
                    for i in 0..len {
                        for j in i..len {
                            let mut b = base.clone();
                            b[i] = needle;
                            b[j] = needle;
                            let s = String::from_utf8_lossy(&b).into_owned();
                            let want = s.bytes().rposition(|c| c == needle);
                            assert_eq!(rfind_byte(s.as_bytes(), needle), want, "{s:?}");
                        }
                    }
                }
            }
        }
    }

    fn canonical(s: &str) -> String {
        let mut out = String::new();
        write_ipv6(&mut out, &s.parse().unwrap()).unwrap();
        out
    }

    #[test]
    fn r4_ipv6_canonical_form_rfc5952() {
        for (written, canonical_form) in [
            ("2001:db8:0:0:0:0:0:2", "2001:db8::2"),
            ("0:0:0:0:0:0:0:1", "::1"),
            ("::", "::"),
            ("2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("1:0:0:0:0:0:0:0", "1::"),
            // Never a dotted quad, even for IPv4-mapped addresses.
            ("::ffff:102:304", "::ffff:102:304"),
            ("00ab:0:0:0:0:0:0:0", "ab::"),
        ] {
            assert_eq!(canonical(written), canonical_form, "{written}");
        }
    }
}
