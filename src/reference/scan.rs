//! The one scanner of the grammar that references and locations share
//! (R1, R2, R5, R7).
//!
//! [`scan`] reads the input once, left to right, driving small state
//! machines from a 256-entry byte-class table (in the manner of
//! `http`'s `URI_CHARS`): the first segment (`HOST[:PORT]` or the first
//! path component with a tag), the path components, the tag and the
//! digest. It records where each part is and the first fault of each kind,
//! and never stops early, so the caller can report faults in the order the
//! rules rank them, from this one pass. Building a [`Reference`] or a
//! [`Location`] from a [`Scanned`] takes no second look at the input,
//! except at the host's last label when it starts with a digit (R5) and
//! inside the brackets of an IPv6 address.
//!
//! [`Reference`]: crate::reference::Reference
//! [`Location`]: crate::location::Location

use super::{MAX_DIGEST_LEN, MAX_TAG_LEN};

/// A fault the scanner found: what, and at which byte.
pub(crate) type At = (Fault, usize);

/// What is wrong, in the parts references and locations share. The public
/// error kinds ([`ReferenceErrorKind`](super::ReferenceErrorKind),
/// [`LocationErrorKind`](crate::location::LocationErrorKind)) convert from
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    Whitespace,
    ControlCharacter,
    NonAscii,
    EmptyComponent,
    Uppercase,
    InvalidComponent,
    EmptyHost,
    InvalidHost,
    TrailingDot,
    InvalidIpv4,
    InvalidIpv6,
    InvalidPort,
    PortOutOfRange,
    EmptyTag,
    InvalidTag,
    TagTooLong,
    InvalidDigest,
    InvalidDigestAlgorithm,
    InvalidDigestHex,
    DigestTooLong,
}

impl Fault {
    /// What is wrong and how to fix it, for the public error kinds.
    pub(crate) fn message(self) -> &'static str {
        match self {
            Fault::Whitespace => "it contains white space; remove it",
            Fault::ControlCharacter => "it contains a control character; remove it",
            Fault::NonAscii => "it contains a non-ASCII character; registry names are ASCII",
            Fault::EmptyComponent => "a path component is empty; remove the extra or trailing `/`",
            Fault::Uppercase => "repository name must be lowercase; write the path in lowercase",
            Fault::InvalidComponent => {
                "a path component must be lowercase letters and digits, joined by `.`, `_`, `__` or `-`"
            }
            Fault::EmptyHost => "the host is empty; name the registry's host before the `:`",
            Fault::InvalidHost => {
                "the host must be a DNS name (letters, digits and `-` in dot-separated labels), an IPv4 address or a bracketed IPv6 address"
            }
            Fault::TrailingDot => "the host ends with a dot; remove it",
            Fault::InvalidIpv4 => {
                "the host ends in a number, so it is an IPv4 address, but not four decimal numbers 0-255 without leading zeros (such as `10.0.0.1`); write the address that way or use a DNS name"
            }
            Fault::InvalidIpv6 => {
                "the IPv6 address must be hex and colons in brackets, such as `[2001:db8::1]`, with no zone and no dotted quad"
            }
            Fault::InvalidPort => "the port after the host's `:` must be a decimal number",
            Fault::PortOutOfRange => "the port must be between 1 and 65535",
            Fault::EmptyTag => "the tag after `:` is empty; remove the `:` or add a tag",
            Fault::InvalidTag => {
                "the tag must start with a letter, digit or `_` and contain only letters, digits, `_`, `.` and `-`"
            }
            Fault::TagTooLong => "the tag is longer than 128 characters; shorten it",
            Fault::InvalidDigest => {
                "the digest after `@` must be `algorithm:hex`, such as `sha256:…`"
            }
            Fault::InvalidDigestAlgorithm => {
                "the digest algorithm must be lowercase letters and digits, such as `sha256`"
            }
            Fault::InvalidDigestHex => {
                "the digest must be lowercase hex: 64 digits for sha256, 128 for sha512, at least 32 otherwise"
            }
            Fault::DigestTooLong => "the digest is longer than 639 characters",
        }
    }
}

// Byte classes: the low four bits of a table entry.
const LOWER: u8 = 0;
const DIGIT: u8 = 1;
const UPPER: u8 = 2;
const DOT: u8 = 3;
const UNDER: u8 = 4;
const DASH: u8 = 5;
const SLASH: u8 = 6;
const COLON: u8 = 7;
const AT_SIGN: u8 = 8;
const OPEN: u8 = 9;
const CLOSE: u8 = 10;
const PLUS: u8 = 11;
const OTHER: u8 = 12;
const SPACE: u8 = 13;
const CONTROL: u8 = 14;
const NON_ASCII: u8 = 15;
const CLASS: u8 = 0x0f;
/// Flag: lowercase hex digit (`[0-9a-f]`), for image ids and digests.
const HEX: u8 = 0x10;
/// Flag: a character a tag may hold (`[A-Za-z0-9_.-]`).
const TAG: u8 = 0x20;
/// Flag: a hex digit of either case, for IPv6 addresses.
const ANY_HEX: u8 = 0x40;

/// The class and flags of every byte.
static BYTES: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut i = 0;
    while i < 256 {
        // Never truncates: `i` < 256.
        #[allow(clippy::cast_possible_truncation, reason = "i < 256")]
        let b = i as u8;
        t[i] = match b {
            b'a'..=b'f' => LOWER | HEX | TAG | ANY_HEX,
            b'g'..=b'z' => LOWER | TAG,
            b'0'..=b'9' => DIGIT | HEX | TAG | ANY_HEX,
            b'A'..=b'F' => UPPER | TAG | ANY_HEX,
            b'G'..=b'Z' => UPPER | TAG,
            b'.' => DOT | TAG,
            b'_' => UNDER | TAG,
            b'-' => DASH | TAG,
            b'/' => SLASH,
            b':' => COLON,
            b'@' => AT_SIGN,
            b'[' => OPEN,
            b']' => CLOSE,
            b'+' => PLUS,
            b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' => SPACE,
            0..=0x1f | 0x7f => CONTROL,
            0x80..=0xff => NON_ASCII,
            _ => OTHER,
        };
        i += 1;
    }
    t
};

#[inline]
fn flags(b: u8) -> u8 {
    BYTES[usize::from(b)]
}

/// Keeps the first fault of one kind of part.
#[inline]
fn first(slot: &mut Option<At>, fault: Fault, at: usize) {
    if slot.is_none() {
        *slot = Some((fault, at));
    }
}

/// The state of a path component after the byte just read:
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` (R1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comp {
    Start,
    Alnum,
    Dot,
    Under1,
    Under2,
    Dash,
    /// A fault was recorded; the rest of the component is not checked.
    Failed,
}

impl Comp {
    /// One byte of a component.
    #[inline]
    fn step(self, c: u8, at: usize, fault: &mut Option<At>) -> Comp {
        use Comp::*;
        match (self, c) {
            (Failed, _) => return Failed,
            (_, LOWER | DIGIT) => Alnum,
            (Alnum, DOT) => Dot,
            (Alnum, UNDER) => Under1,
            (Under1, UNDER) => Under2,
            (Alnum | Dash, DASH) => Dash,
            (_, UPPER) => {
                first(fault, Fault::Uppercase, at);
                Failed
            }
            _ => {
                first(fault, Fault::InvalidComponent, at);
                Failed
            }
        }
    }

    /// The component ends before byte `at`.
    #[inline]
    fn end(self, at: usize, fault: &mut Option<At>) {
        match self {
            Comp::Alnum | Comp::Failed => {}
            Comp::Start => first(fault, Fault::EmptyComponent, at),
            _ => first(fault, Fault::InvalidComponent, at - 1),
        }
    }
}

/// The state of a DNS name after the byte just read: dot-separated labels
/// of `[A-Za-z0-9-]`, none empty, none starting or ending with `-` (R5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dns {
    /// Nothing read yet.
    Empty,
    /// After a `.`.
    LabelStart,
    Label,
    Dash,
    Failed,
}

impl Dns {
    #[inline]
    fn step(self, c: u8, at: usize, fault: &mut Option<At>) -> Dns {
        use Dns::*;
        match (self, c) {
            (Failed, _) => Failed,
            (_, LOWER | DIGIT | UPPER) => Label,
            (Label | Dash, DASH) => Dash,
            (Label, DOT) => LabelStart,
            (Dash, DOT) => {
                first(fault, Fault::InvalidHost, at - 1);
                Failed
            }
            _ => {
                first(fault, Fault::InvalidHost, at);
                Failed
            }
        }
    }

    /// The name ends before byte `at`; it started at `start`.
    fn end(self, start: usize, at: usize, fault: &mut Option<At>) {
        match self {
            Dns::Label | Dns::Failed => {}
            Dns::Empty => first(fault, Fault::EmptyHost, start),
            Dns::LabelStart => first(fault, Fault::TrailingDot, at - 1),
            Dns::Dash => first(fault, Fault::InvalidHost, at - 1),
        }
    }
}

/// The state of a digest after the byte just read: `ALG:HEX`, ALG
/// `[a-z][a-z0-9]*([+._-][a-z][a-z0-9]*)*` (R1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Digest {
    /// Expecting a letter of the algorithm.
    Letter,
    Alg,
    Hex,
}

/// How the first segment of the input ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FirstEnd {
    /// At the first `/`: more components follow.
    Slash,
    /// At `@` or at the end of the input: it is the only component.
    Alone,
}

/// The first segment: a host with its port, or the first path component
/// with a tag (R2 decides which).
#[derive(Debug, Clone, Default)]
pub(crate) struct First {
    /// Where it ends (the first `/`, the first `@`, or the end).
    pub(crate) end: usize,
    /// The first `:` outside brackets.
    pub(crate) colon: Option<usize>,
    /// It starts with `[`.
    pub(crate) bracket: bool,
    /// Where its `]` is.
    pub(crate) close: Option<usize>,
    pub(crate) has_dot: bool,
    pub(crate) has_upper: bool,
    /// Where the last DNS label starts (after the last `.`).
    pub(crate) last_label: usize,
    /// The first fault read as a host (DNS name or IPv6 address).
    pub(crate) host_fault: Option<At>,
    /// The first fault read as a path component (before any `:`).
    pub(crate) comp_fault: Option<At>,
    /// The port's value (saturated at 100,000) and first fault, read from
    /// what follows the colon.
    pub(crate) port: u32,
    pub(crate) port_fault: Option<At>,
    /// The first fault read as a tag, from what follows the colon.
    pub(crate) tag_fault: Option<At>,
}

impl First {
    /// R2 (or a location, where the first segment is always the host): the
    /// host part, up to its port.
    pub(crate) fn host_end(&self) -> usize {
        self.colon.unwrap_or(self.end)
    }
}

/// What one pass over the input found.
#[derive(Debug, Clone)]
pub(crate) struct Scanned {
    /// The first `://`, when the input may start with a protocol.
    pub(crate) scheme: Option<usize>,
    /// The first white space, control or non-ASCII byte.
    pub(crate) bad_byte: Option<At>,
    /// Every byte is a lowercase hex digit.
    pub(crate) all_hex: bool,
    pub(crate) first: First,
    pub(crate) first_ends: FirstEnd,
    /// The first fault in the components after the first segment.
    pub(crate) path_fault: Option<At>,
    /// The first `:` after the first `/` (for locations).
    pub(crate) path_colon: Option<usize>,
    /// Where the name ends: its tag's `:`, its `@`, or the end.
    pub(crate) name_end: usize,
    /// The tag after the first segment: its text's start and end.
    pub(crate) tag: Option<(usize, usize)>,
    pub(crate) tag_fault: Option<At>,
    /// The first `@` (outside a digest) and the digest's fault.
    pub(crate) at_sign: Option<usize>,
    pub(crate) digest_fault: Option<At>,
    /// A `/` after the `@`.
    pub(crate) slash_after_at: bool,
    /// The number of `/` in the name.
    pub(crate) slashes: usize,
}

/// Checks the tag byte at `i`, the `n`th of the tag (R1).
#[inline]
fn tag_byte(b: u8, n: usize, i: usize, fault: &mut Option<At>) {
    let f = flags(b);
    if n == 0 && f & TAG != 0 && matches!(f & CLASS, DOT | DASH) {
        first(fault, Fault::InvalidTag, i);
    } else if f & TAG == 0 {
        first(fault, Fault::InvalidTag, i);
    } else if n == MAX_TAG_LEN {
        first(fault, Fault::TagTooLong, i);
    }
}

/// The tag of `start..end` is empty: an `EmptyTag` fault.
#[inline]
fn tag_end(start: usize, end: usize, fault: &mut Option<At>) {
    if start == end {
        first(fault, Fault::EmptyTag, start);
    }
}

/// Reads `s` once (R1, R2, R5, R7). `location` reads the first segment as
/// a host even when nothing follows it.
pub(crate) fn scan(s: &str) -> Scanned {
    let b = s.as_bytes();
    let len = b.len();
    let mut out = Scanned {
        scheme: None,
        bad_byte: None,
        all_hex: true,
        first: First::default(),
        first_ends: FirstEnd::Alone,
        path_fault: None,
        path_colon: None,
        name_end: len,
        tag: None,
        tag_fault: None,
        at_sign: None,
        digest_fault: None,
        slash_after_at: false,
        slashes: 0,
    };
    let mut i = 0;

    // Bytes every part checks the same way. Returns the class.
    macro_rules! common {
        ($i:expr) => {{
            let i = $i;
            let f = flags(b[i]);
            out.all_hex &= f & HEX != 0;
            let c = f & CLASS;
            if c >= SPACE {
                let fault = match c {
                    SPACE => Fault::Whitespace,
                    CONTROL => Fault::ControlCharacter,
                    _ => Fault::NonAscii,
                };
                first(&mut out.bad_byte, fault, i);
            } else if c == COLON
                && out.scheme.is_none()
                && b.get(i + 1..i + 3) == Some(b"//".as_slice())
            {
                out.scheme = Some(i);
            }
            c
        }};
    }

    // The first segment, up to `/`, `@` or the end.
    let f = &mut out.first;
    let mut comp = Comp::Start;
    let mut dns = Dns::Empty;
    let mut in_brackets = false;
    f.bracket = b.first() == Some(&b'[');
    while i < len {
        let c = common!(i);
        let f = &mut out.first;
        if c == SLASH || c == AT_SIGN {
            break;
        }
        if in_brackets {
            if c == CLOSE {
                in_brackets = false;
                f.close = Some(i);
            } else if c != COLON && flags(b[i]) & ANY_HEX == 0 {
                first(&mut f.host_fault, Fault::InvalidIpv6, i);
            }
        } else if let Some(colon) = f.colon {
            // After the colon: a port, or a tag when nothing follows.
            let n = i - colon - 1;
            if c == DIGIT {
                f.port = (f.port * 10 + u32::from(b[i] - b'0')).min(100_000);
            } else {
                first(&mut f.port_fault, Fault::InvalidPort, colon + 1);
            }
            tag_byte(b[i], n, i, &mut f.tag_fault);
        } else if c == COLON {
            f.colon = Some(i);
            comp.end(i, &mut f.comp_fault);
            if !f.bracket {
                dns.end(0, i, &mut f.host_fault);
            }
        } else if f.bracket {
            if i == 0 {
                in_brackets = true;
                comp = comp.step(c, i, &mut f.comp_fault);
            } else {
                // After `]`: only `:PORT` may follow.
                first(&mut f.host_fault, Fault::InvalidIpv6, i);
            }
        } else {
            comp = comp.step(c, i, &mut f.comp_fault);
            dns = dns.step(c, i, &mut f.host_fault);
            f.has_dot |= c == DOT;
            f.has_upper |= c == UPPER;
            if c == DOT {
                f.last_label = i + 1;
            }
        }
        i += 1;
    }
    let f = &mut out.first;
    f.end = i;
    match f.colon {
        Some(colon) => {
            let digits = i - colon - 1;
            if digits == 0 {
                first(&mut f.port_fault, Fault::InvalidPort, colon + 1);
            }
            tag_end(colon + 1, i, &mut f.tag_fault);
        }
        None => {
            comp.end(i, &mut f.comp_fault);
            if f.bracket {
                if f.close.is_none() {
                    first(&mut f.host_fault, Fault::InvalidIpv6, 0);
                }
            } else {
                dns.end(0, i, &mut f.host_fault);
            }
        }
    }
    if f.bracket && in_brackets {
        first(&mut f.host_fault, Fault::InvalidIpv6, 0);
    }

    // The components after the first `/`, then a tag, then a digest.
    let mut digest_start = None;
    if i < len && b[i] == b'/' {
        out.first_ends = FirstEnd::Slash;
        out.slashes = 1;
        i += 1;
        let mut comp = Comp::Start;
        let mut tag_colon: Option<usize> = None;
        let mut tag_fault = None;
        while i < len {
            let c = common!(i);
            match tag_colon {
                None => match c {
                    SLASH => {
                        comp.end(i, &mut out.path_fault);
                        comp = Comp::Start;
                        out.slashes += 1;
                    }
                    COLON => {
                        comp.end(i, &mut out.path_fault);
                        if out.path_colon.is_none() {
                            out.path_colon = Some(i);
                        }
                        tag_colon = Some(i);
                    }
                    AT_SIGN => {
                        comp.end(i, &mut out.path_fault);
                        break;
                    }
                    _ => comp = comp.step(c, i, &mut out.path_fault),
                },
                Some(colon) => match c {
                    // A `/` after the `:`: it was no tag, but a component
                    // with a `:` in it.
                    SLASH => {
                        first(&mut out.path_fault, Fault::InvalidComponent, colon);
                        tag_colon = None;
                        tag_fault = None;
                        comp = Comp::Start;
                        out.slashes += 1;
                    }
                    AT_SIGN => break,
                    _ => tag_byte(b[i], i - colon - 1, i, &mut tag_fault),
                },
            }
            i += 1;
        }
        match tag_colon {
            Some(colon) => {
                tag_end(colon + 1, i, &mut tag_fault);
                out.name_end = colon;
                out.tag = Some((colon + 1, i));
                out.tag_fault = tag_fault;
            }
            None => {
                comp.end(i, &mut out.path_fault);
                out.name_end = i;
            }
        }
    } else {
        out.name_end = out.first.host_end();
        out.path_fault = out.first.comp_fault;
        if let Some(colon) = out.first.colon {
            out.tag = Some((colon + 1, i));
            out.tag_fault = out.first.tag_fault;
        }
    }
    if i < len {
        // At `@`: the digest is the rest.
        out.at_sign = Some(i);
        digest_start = Some(i + 1);
        i += 1;
    }

    if let Some(start) = digest_start {
        let fault = &mut out.digest_fault;
        if len - start > MAX_DIGEST_LEN {
            first(fault, Fault::DigestTooLong, start + MAX_DIGEST_LEN);
        }
        let mut state = Digest::Letter;
        let mut alg_fault = None;
        let mut hex_fault = None;
        let mut colon = None;
        while i < len {
            let c = common!(i);
            out.slash_after_at |= c == SLASH;
            state = match (state, c) {
                (Digest::Letter, LOWER) => Digest::Alg,
                (Digest::Alg, LOWER | DIGIT) => Digest::Alg,
                (Digest::Alg, DOT | UNDER | DASH | PLUS) => Digest::Letter,
                (Digest::Alg | Digest::Letter, COLON) => {
                    if state == Digest::Letter {
                        first(&mut alg_fault, Fault::InvalidDigestAlgorithm, start);
                    }
                    colon = Some(i);
                    Digest::Hex
                }
                (Digest::Hex, _) => {
                    if flags(b[i]) & HEX == 0 {
                        first(&mut hex_fault, Fault::InvalidDigestHex, i);
                    }
                    Digest::Hex
                }
                (s, _) => {
                    first(&mut alg_fault, Fault::InvalidDigestAlgorithm, i);
                    s
                }
            };
            i += 1;
        }
        match colon {
            None => first(fault, Fault::InvalidDigest, start),
            Some(colon) => {
                if let Some((f, at)) = alg_fault.or(hex_fault) {
                    first(fault, f, at);
                }
                let hex = len - colon - 1;
                let ok = match &s[start..colon] {
                    "sha256" => hex == 64,
                    "sha512" => hex == 128,
                    _ => hex >= 32,
                };
                if !ok {
                    first(fault, Fault::InvalidDigestHex, colon + 1);
                }
            }
        }
    }
    out
}

/// True when `scheme` (what stands before `://`) is a URL scheme:
/// `[A-Za-z][A-Za-z0-9+.-]*`.
pub(crate) fn is_scheme(scheme: &str) -> bool {
    let mut bytes = scheme.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_fault(s: &str) -> Option<At> {
        scan(s).path_fault
    }

    #[test]
    fn r1_component_grammar() {
        for ok in ["a", "a0", "a.b", "a_b", "a__b", "a-b", "a---b", "0"] {
            assert_eq!(path_fault(&format!("h.com/{ok}")), None, "{ok}");
        }
        for bad in ["-a", "a-", "a..b", "a___b", "a_-b", ".a", "a.", "a+b", "_a"] {
            assert!(path_fault(&format!("h.com/{bad}")).is_some(), "{bad}");
        }
        assert_eq!(path_fault("h.com/aB"), Some((Fault::Uppercase, 7)));
        assert_eq!(path_fault("h.com/a//b"), Some((Fault::EmptyComponent, 8)));
        assert_eq!(path_fault("h.com/a/"), Some((Fault::EmptyComponent, 8)));
        assert_eq!(path_fault("h.com/a-"), Some((Fault::InvalidComponent, 7)));
    }

    #[test]
    fn r1_spans_of_tag_and_digest() {
        let sha = "0123456789abcdef".repeat(4);
        let s = format!("h.com/a/b:t@sha256:{sha}");
        let x = scan(&s);
        assert_eq!(x.first.end, 5);
        assert_eq!(x.name_end, 9);
        assert_eq!(x.tag, Some((10, 11)));
        assert_eq!(x.at_sign, Some(11));
        assert_eq!(x.digest_fault, None);
        assert_eq!(x.slashes, 2);
        // A `:` followed by `/` is not a tag.
        let x = scan("a/b:c/d:e");
        assert_eq!(x.path_fault, Some((Fault::InvalidComponent, 3)));
        assert_eq!(x.tag, Some((8, 9)));
        // The first segment alone: component and tag.
        let x = scan("test.com:5000");
        assert_eq!(x.first_ends, FirstEnd::Alone);
        assert_eq!((x.name_end, x.tag), (8, Some((9, 13))));
        assert_eq!(x.first.tag_fault, None);
    }

    #[test]
    fn r5_first_segment_as_a_host() {
        let f = scan("Registry.Example.com:5000/a").first;
        assert_eq!(
            (f.colon, f.port, f.host_fault, f.port_fault),
            (Some(20), 5000, None, None)
        );
        assert!(f.has_dot && f.has_upper);
        assert_eq!(f.last_label, 17);
        assert_eq!(
            scan("a..b/c").first.host_fault,
            Some((Fault::InvalidHost, 2))
        );
        assert_eq!(
            scan("a-.b/c").first.host_fault,
            Some((Fault::InvalidHost, 1))
        );
        assert_eq!(
            scan("a.b./c").first.host_fault,
            Some((Fault::TrailingDot, 3))
        );
        assert_eq!(scan(":1/c").first.host_fault, Some((Fault::EmptyHost, 0)));
        assert_eq!(
            scan("a:x/c").first.port_fault,
            Some((Fault::InvalidPort, 2))
        );
        assert_eq!(scan("a:/c").first.port_fault, Some((Fault::InvalidPort, 2)));
        assert_eq!(scan("[::1]:80/c").first.host_fault, None);
        assert_eq!(
            scan("[::1]x/c").first.host_fault,
            Some((Fault::InvalidIpv6, 5))
        );
        assert_eq!(
            scan("[::1/c").first.host_fault,
            Some((Fault::InvalidIpv6, 0))
        );
        assert_eq!(
            scan("[::g]/c").first.host_fault,
            Some((Fault::InvalidIpv6, 3))
        );
    }

    #[test]
    fn r6_bad_bytes_and_protocols_are_found_anywhere() {
        assert_eq!(scan("a/b c").bad_byte, Some((Fault::Whitespace, 3)));
        assert_eq!(
            scan("a@b\u{1}").bad_byte,
            Some((Fault::ControlCharacter, 3))
        );
        assert_eq!(scan("a:t\u{e9}").bad_byte, Some((Fault::NonAscii, 3)));
        assert_eq!(scan("https://a").scheme, Some(5));
        assert!(is_scheme("git+ssh") && !is_scheme("1x") && !is_scheme(""));
    }

    #[test]
    fn r1_digests() {
        let hex = "0123456789abcdef".repeat(4);
        let digest = |d: &str| scan(&format!("a@{d}")).digest_fault;
        assert_eq!(digest(&format!("sha256:{hex}")), None);
        assert_eq!(digest(&format!("sha512:{hex}{hex}")), None);
        assert_eq!(digest(&format!("foo+bar.x:{}", &hex[..32])), None);
        assert_eq!(
            digest(&format!("sha256:{}", &hex[..63])),
            Some((Fault::InvalidDigestHex, 9))
        );
        assert_eq!(digest("sha256"), Some((Fault::InvalidDigest, 2)));
        assert_eq!(
            digest(&format!("1sha:{hex}")),
            Some((Fault::InvalidDigestAlgorithm, 2))
        );
        assert_eq!(
            digest(&format!("sha-:{hex}")),
            Some((Fault::InvalidDigestAlgorithm, 2))
        );
        assert_eq!(
            digest(&format!(":{hex}")),
            Some((Fault::InvalidDigestAlgorithm, 2))
        );
        assert_eq!(
            digest(&format!("sha256:{}", hex.to_uppercase())),
            Some((Fault::InvalidDigestHex, 19))
        );
        let long = format!("foo:{}", "0".repeat(MAX_DIGEST_LEN));
        assert_eq!(
            digest(&long),
            Some((Fault::DigestTooLong, 2 + MAX_DIGEST_LEN))
        );
    }

    #[test]
    fn r6_scan_is_total() {
        // Every byte value in every position class: no panic, no overflow.
        for b in 0u8..=255 {
            for shape in [
                "{}", "a{}/b", "a/{}", "a:{}", "a@{}", "[{}]/a", "a/b:{}", "a@b:{}",
            ] {
                let mut v = shape.as_bytes().to_vec();
                let at = shape.find("{}").unwrap();
                v.splice(at..at + 2, [b]);
                let s = String::from_utf8_lossy(&v);
                let _ = scan(&s);
            }
        }
    }
}
