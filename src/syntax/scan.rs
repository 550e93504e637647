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
//! inside the brackets of an IPv6 address: [`host_port`] does that for
//! both, so hosts and ports have one grammar.
//!
//! [`Reference`]: crate::reference::Reference
//! [`Location`]: crate::location::Location

use std::net::Ipv6Addr;

pub(crate) use super::Fault;
use crate::host::{self, HostKind, HostPort};
use crate::reference::{MAX_DIGEST_LEN, MAX_TAG_LEN};

/// A fault the scanner found: what, and at which byte.
pub(crate) type At = (Fault, usize);

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
const CLOSE: u8 = 9;
const PLUS: u8 = 10;
const OTHER: u8 = 11;
const SPACE: u8 = 12;
const CONTROL: u8 = 13;
const NON_ASCII: u8 = 14;
const CLASS: u8 = 0x0f;
/// Flag: lowercase hex digit (`[0-9a-f]`), for image ids and digests.
const HEX: u8 = 0x10;
/// Flag: a character a tag may hold (`[A-Za-z0-9_.-]`).
const TAG: u8 = 0x20;
/// Flag: a hex digit of either case, for IPv6 addresses.
const ANY_HEX: u8 = 0x40;
/// Flag: a lowercase letter or digit, which every machine takes the same
/// way, so that runs of them skip the state tables.
const ALNUM: u8 = 0x80;

/// The class and flags of every byte.
static BYTES: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut b: u8 = 0;
    loop {
        t[b as usize] = match b {
            b'a'..=b'f' => LOWER | HEX | TAG | ANY_HEX | ALNUM,
            b'g'..=b'z' => LOWER | TAG | ALNUM,
            b'0'..=b'9' => DIGIT | HEX | TAG | ANY_HEX | ALNUM,
            b'A'..=b'F' => UPPER | TAG | ANY_HEX,
            b'G'..=b'Z' => UPPER | TAG,
            b'.' => DOT | TAG,
            b'_' => UNDER | TAG,
            b'-' => DASH | TAG,
            b'/' => SLASH,
            b':' => COLON,
            b'@' => AT_SIGN,
            // `[` opens an IPv6 address only as the first byte, which the
            // scanner checks by position; anywhere else it is just invalid.
            b']' => CLOSE,
            b'+' => PLUS,
            b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' => SPACE,
            0..=0x1f | 0x7f => CONTROL,
            0x80..=0xff => NON_ASCII,
            _ => OTHER,
        };
        if b == u8::MAX {
            break;
        }
        b += 1;
    }
    t
};

#[inline]
fn flags(b: u8) -> u8 {
    BYTES[usize::from(b)]
}

/// Where the run of lowercase letters and digits from `i` ends, and the
/// AND of its bytes' flags. Such bytes are valid in a path component and in
/// a host label whatever came before, so a run skips the state tables.
#[inline(always)]
fn alnum_run(b: &[u8], mut i: usize) -> (usize, u8) {
    let mut and = u8::MAX;
    while let Some(&byte) = b.get(i) {
        let fl = flags(byte);
        if fl & ALNUM == 0 {
            break;
        }
        and &= fl;
        i += 1;
    }
    (i, and)
}

/// Keeps the first fault of one kind of part.
#[inline]
fn first(slot: &mut Option<At>, fault: Fault, at: usize) {
    if slot.is_none() {
        *slot = Some((fault, at));
    }
}

/// The path component machine: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` (R1).
/// States: what the byte just read was.
const C_START: u8 = 0;
const C_ALNUM: u8 = 1;
const C_DOT: u8 = 2;
const C_UNDER1: u8 = 3;
const C_UNDER2: u8 = 4;
const C_DASH: u8 = 5;
/// A fault was recorded; the rest of the component is not checked.
const C_FAILED: u8 = 6;

/// The next component state, by state and byte class (`LOWER`..=`DASH`;
/// every other class fails).
static COMP_NEXT: [[u8; 6]; 7] = {
    let mut t = [[C_FAILED; 6]; 7];
    let mut state = 0;
    while state < 6 {
        t[state][LOWER as usize] = C_ALNUM;
        t[state][DIGIT as usize] = C_ALNUM;
        state += 1;
    }
    t[C_ALNUM as usize][DOT as usize] = C_DOT;
    t[C_ALNUM as usize][UNDER as usize] = C_UNDER1;
    t[C_UNDER1 as usize][UNDER as usize] = C_UNDER2;
    t[C_ALNUM as usize][DASH as usize] = C_DASH;
    t[C_DASH as usize][DASH as usize] = C_DASH;
    t
};

/// One byte of class `c` of a component, at `at`.
#[inline(always)]
fn comp_step(state: u8, c: u8, at: usize, fault: &mut Option<At>) -> u8 {
    let row = COMP_NEXT.get(usize::from(state));
    let next = row
        .and_then(|r| r.get(usize::from(c)))
        .map_or(C_FAILED, |&n| n);
    if next == C_FAILED && state != C_FAILED {
        let f = if c == UPPER {
            Fault::Uppercase
        } else {
            Fault::InvalidComponent
        };
        first(fault, f, at);
    }
    next
}

/// The component ends before byte `at`.
#[inline]
fn comp_end(state: u8, at: usize, fault: &mut Option<At>) {
    match state {
        C_ALNUM | C_FAILED => {}
        C_START => first(fault, Fault::EmptyComponent, at),
        _ => first(fault, Fault::InvalidComponent, at - 1),
    }
}

/// The DNS name machine: dot-separated labels of `[A-Za-z0-9-]`, none
/// empty, none starting or ending with `-` (R5). States: what was read.
const D_EMPTY: u8 = 0;
/// After a `.`.
const D_LABEL_START: u8 = 1;
const D_LABEL: u8 = 2;
const D_DASH: u8 = 3;
const D_FAILED: u8 = 4;

/// The next DNS state, by state and byte class (`LOWER`..=`DASH`).
static DNS_NEXT: [[u8; 6]; 5] = {
    let mut t = [[D_FAILED; 6]; 5];
    let mut state = 0;
    while state < 4 {
        t[state][LOWER as usize] = D_LABEL;
        t[state][DIGIT as usize] = D_LABEL;
        t[state][UPPER as usize] = D_LABEL;
        state += 1;
    }
    t[D_LABEL as usize][DASH as usize] = D_DASH;
    t[D_DASH as usize][DASH as usize] = D_DASH;
    t[D_LABEL as usize][DOT as usize] = D_LABEL_START;
    t
};

/// One byte of class `c` of a host name, at `at`.
#[inline(always)]
fn dns_step(state: u8, c: u8, at: usize, fault: &mut Option<At>) -> u8 {
    let row = DNS_NEXT.get(usize::from(state));
    let next = row
        .and_then(|r| r.get(usize::from(c)))
        .map_or(D_FAILED, |&n| n);
    if next == D_FAILED && state != D_FAILED {
        // `a-.b`: the label ended with the `-` before the dot.
        let at = if state == D_DASH && c == DOT {
            at - 1
        } else {
            at
        };
        first(fault, Fault::InvalidHost, at);
    }
    next
}

/// The host name ends before byte `at`; it started at `start`.
fn dns_end(state: u8, start: usize, at: usize, fault: &mut Option<At>) {
    match state {
        D_EMPTY => first(fault, Fault::EmptyHost, start),
        D_LABEL_START => first(fault, Fault::TrailingDot, at - 1),
        D_DASH => first(fault, Fault::InvalidHost, at - 1),
        _ => {}
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
    let leading_punct = n == 0 && matches!(f & CLASS, DOT | DASH);
    if f & TAG == 0 || leading_punct {
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

/// Reads `s` once (R1, R2, R5, R7): the first segment, then the path
/// components, a tag and a digest. The hot loops keep their state in
/// locals and take one table look-up per byte; the rare bytes (`/`, `:`,
/// `@`, brackets, anything invalid) take the slow branch.
pub(crate) fn scan(s: &str) -> Scanned {
    let b = s.as_bytes();
    let len = b.len();
    let mut scheme = None;
    let mut bad_byte = None;
    // The AND of the flags of the first segment's bytes and of the byte
    // that ends it: its `HEX` bit says the input is nothing but lowercase
    // hex digits (a `/` or `@` after the segment clears it, so the parts
    // after it need not be looked at).
    let mut hex = HEX;

    // The rare classes every part handles the same way.
    let mut rare = |c: u8, i: usize, scheme: &mut Option<usize>| {
        if c >= SPACE {
            let fault = match c {
                SPACE => Fault::Whitespace,
                CONTROL => Fault::ControlCharacter,
                _ => Fault::NonAscii,
            };
            first(&mut bad_byte, fault, i);
        } else if c == COLON && scheme.is_none() && b.get(i + 1..i + 3) == Some(b"//".as_slice()) {
            *scheme = Some(i);
        }
    };

    // The first segment, up to `/`, `@` or the end.
    let mut f = First {
        bracket: b.first() == Some(&b'['),
        ..First::default()
    };
    let mut comp = C_START;
    let mut dns = D_EMPTY;
    let mut in_brackets = false;
    let mut i = 0;
    while i < len {
        let fl = flags(b[i]);
        hex &= fl;
        let c = fl & CLASS;
        let name = !f.bracket && f.colon.is_none();
        if fl & ALNUM != 0 && name {
            // A run of lowercase letters and digits: valid in a component
            // and in a label, whatever came before.
            let (end, and) = alnum_run(b, i);
            hex &= and;
            i = end;
            if comp != C_FAILED {
                comp = C_ALNUM;
            }
            if dns != D_FAILED {
                dns = D_LABEL;
            }
            continue;
        }
        if c <= DASH && name {
            // The common case: a byte of a name.
            comp = comp_step(comp, c, i, &mut f.comp_fault);
            dns = dns_step(dns, c, i, &mut f.host_fault);
            f.has_upper |= c == UPPER;
            if c == DOT {
                f.has_dot = true;
                f.last_label = i + 1;
            }
            i += 1;
            continue;
        }
        if c == SLASH || c == AT_SIGN {
            break;
        }
        rare(c, i, &mut scheme);
        if in_brackets {
            if c == CLOSE {
                in_brackets = false;
                f.close = Some(i);
            } else if c != COLON && fl & ANY_HEX == 0 {
                first(&mut f.host_fault, Fault::InvalidIpv6, i);
            }
        } else if let Some(colon) = f.colon {
            // After the colon: a port, or a tag when nothing follows.
            if c == DIGIT {
                f.port = (f.port * 10 + u32::from(b[i] - b'0')).min(100_000);
            } else {
                first(&mut f.port_fault, Fault::InvalidPort, colon + 1);
            }
            tag_byte(b[i], i - colon - 1, i, &mut f.tag_fault);
        } else if c == COLON {
            f.colon = Some(i);
            comp_end(comp, i, &mut f.comp_fault);
            if !f.bracket {
                dns_end(dns, 0, i, &mut f.host_fault);
            }
        } else if f.bracket && i == 0 {
            in_brackets = true;
            comp = comp_step(comp, c, i, &mut f.comp_fault);
        } else if f.bracket {
            // After `]`: only `:PORT` may follow.
            first(&mut f.host_fault, Fault::InvalidIpv6, i);
        } else {
            comp = comp_step(comp, c, i, &mut f.comp_fault);
            dns = dns_step(dns, c, i, &mut f.host_fault);
        }
        i += 1;
    }
    f.end = i;
    match f.colon {
        Some(colon) => {
            if i == colon + 1 {
                first(&mut f.port_fault, Fault::InvalidPort, colon + 1);
            }
            tag_end(colon + 1, i, &mut f.tag_fault);
        }
        None => {
            comp_end(comp, i, &mut f.comp_fault);
            if f.bracket {
                if f.close.is_none() {
                    first(&mut f.host_fault, Fault::InvalidIpv6, 0);
                }
            } else {
                dns_end(dns, 0, i, &mut f.host_fault);
            }
        }
    }

    let mut out = Scanned {
        scheme: None,
        bad_byte: None,
        all_hex: false,
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
        first: f,
    };

    // The components after the first `/`, then a tag.
    if i < len && b[i] == b'/' {
        out.first_ends = FirstEnd::Slash;
        let mut slashes = 1;
        let mut path_fault = None;
        let mut comp = C_START;
        let mut tag_colon: Option<usize> = None;
        let mut tag_fault = None;
        i += 1;
        while i < len {
            let fl = flags(b[i]);
            let c = fl & CLASS;
            if fl & ALNUM != 0 && tag_colon.is_none() {
                // A run of lowercase letters and digits.
                i = alnum_run(b, i).0;
                if comp != C_FAILED {
                    comp = C_ALNUM;
                }
                continue;
            }
            if c <= DASH && tag_colon.is_none() {
                comp = comp_step(comp, c, i, &mut path_fault);
                i += 1;
                continue;
            }
            if c == AT_SIGN {
                break;
            }
            rare(c, i, &mut scheme);
            match tag_colon {
                None => match c {
                    SLASH => {
                        comp_end(comp, i, &mut path_fault);
                        comp = C_START;
                        slashes += 1;
                    }
                    COLON => {
                        comp_end(comp, i, &mut path_fault);
                        if out.path_colon.is_none() {
                            out.path_colon = Some(i);
                        }
                        tag_colon = Some(i);
                        // The tag's valid bytes in one run; whatever
                        // stops it takes the slow branch.
                        let start = i + 1;
                        let mut j = start;
                        while j < len {
                            let fl = flags(b[j]);
                            if fl & TAG == 0 {
                                break;
                            }
                            j += 1;
                        }
                        if j > start && matches!(b[start], b'.' | b'-') {
                            first(&mut tag_fault, Fault::InvalidTag, start);
                        }
                        if j - start > MAX_TAG_LEN {
                            first(&mut tag_fault, Fault::TagTooLong, start + MAX_TAG_LEN);
                        }
                        i = j;
                        continue;
                    }
                    _ => comp = comp_step(comp, c, i, &mut path_fault),
                },
                // A `/` after the `:`: it was no tag, but a component with
                // a `:` in it.
                Some(colon) if c == SLASH => {
                    first(&mut path_fault, Fault::InvalidComponent, colon);
                    tag_colon = None;
                    tag_fault = None;
                    comp = C_START;
                    slashes += 1;
                }
                // The run above stopped at a byte no tag may hold: the tag
                // is invalid there, and later bytes come after that fault.
                Some(_) => first(&mut tag_fault, Fault::InvalidTag, i),
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
                comp_end(comp, i, &mut path_fault);
                out.name_end = i;
            }
        }
        out.slashes = slashes;
        out.path_fault = path_fault;
    } else {
        out.name_end = out.first.host_end();
        out.path_fault = out.first.comp_fault;
        if let Some(colon) = out.first.colon {
            out.tag = Some((colon + 1, i));
            out.tag_fault = out.first.tag_fault;
        }
    }

    // At `@`: the digest is the rest.
    if i < len {
        out.at_sign = Some(i);
        i += 1;
        let start = i;
        let mut fault = None;
        if len - start > MAX_DIGEST_LEN {
            first(&mut fault, Fault::DigestTooLong, start + MAX_DIGEST_LEN);
        }
        let mut state = Digest::Letter;
        let mut alg_fault = None;
        let mut hex_fault = None;
        let mut colon = None;
        while i < len {
            let fl = flags(b[i]);
            let c = fl & CLASS;
            if c >= SLASH {
                rare(c, i, &mut scheme);
                out.slash_after_at |= c == SLASH;
            }
            state = match (state, c) {
                (Digest::Hex, _) => {
                    if fl & HEX == 0 {
                        first(&mut hex_fault, Fault::InvalidDigestHex, i);
                    }
                    // The rest of the hex in one run.
                    i += 1;
                    while i < len && flags(b[i]) & HEX != 0 {
                        i += 1;
                    }
                    continue;
                }
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
                (s, _) => {
                    first(&mut alg_fault, Fault::InvalidDigestAlgorithm, i);
                    s
                }
            };
            i += 1;
        }
        match colon {
            None => first(&mut fault, Fault::InvalidDigest, start),
            Some(colon) => {
                if let Some((f, at)) = alg_fault.or(hex_fault) {
                    first(&mut fault, f, at);
                }
                let digits = len - colon - 1;
                let ok = match &s[start..colon] {
                    "sha256" => digits == 64,
                    "sha512" => digits == 128,
                    _ => digits >= 32,
                };
                if !ok {
                    first(&mut fault, Fault::InvalidDigestHex, colon + 1);
                }
            }
        }
        out.digest_fault = fault;
    }
    out.scheme = scheme;
    out.bad_byte = bad_byte;
    out.all_hex = hex & HEX != 0;
    out
}

/// Checks the first segment that [`scan`] read as `HOST[:PORT]` and gives its normal form (R4, R5). `s` is the
/// whole input; the host starts at byte 0.
pub(crate) fn host_port<'a>(s: &'a str, first: &First) -> Result<HostPort<'a>, At> {
    if let Some(fault) = first.host_fault {
        return Err(fault);
    }
    let host = &s[..first.host_end()];
    let (kind, ipv6) = if first.bracket {
        // The scanner checked the brackets and that only hex digits and
        // colons stand inside; the address grammar is the standard one's.
        let inner = host.get(1..host.len().saturating_sub(1)).unwrap_or("");
        match inner.parse::<Ipv6Addr>() {
            // `[]` is refused here too: the empty string is no address.
            Ok(a) => (HostKind::Ipv6, Some(a)),
            Err(_) => return Err((Fault::InvalidIpv6, 1)),
        }
    } else if host::ends_in_a_number(&host[first.last_label.min(host.len())..]) {
        if !host::is_dotted_quad(host) {
            return Err((Fault::InvalidIpv4, 0));
        }
        (HostKind::Ipv4, None)
    } else {
        (HostKind::Domain, None)
    };
    let (port, port_written) = match first.colon {
        None => (None, None),
        Some(colon) => {
            if let Some(fault) = first.port_fault {
                return Err(fault);
            }
            match u16::try_from(first.port) {
                Ok(p) if p > 0 => (Some(p), Some(&s[colon + 1..first.end])),
                _ => return Err((Fault::PortOutOfRange, colon + 1)),
            }
        }
    };
    let alias = kind == HostKind::Domain
        && port.is_none()
        && host::DOCKER_HUB_ALIASES
            .iter()
            .any(|a| a.eq_ignore_ascii_case(host));
    Ok(HostPort {
        written: host,
        kind,
        ipv6,
        alias,
        upper: first.has_upper,
        port,
        port_written,
    })
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

    type Step = fn(u8, u8, usize, &mut Option<At>) -> u8;

    /// Runs one of the state machines alone over `s`, a table step for
    /// every byte (the scanner skips runs of letters and digits past it),
    /// and says whether it accepted.
    fn run_alone(
        s: &str,
        (start, failed): (u8, u8),
        step: Step,
        end: impl Fn(u8, usize, &mut Option<At>),
    ) -> bool {
        let mut fault = None;
        let mut state = start;
        for (i, &b) in s.as_bytes().iter().enumerate() {
            state = step(state, flags(b) & CLASS, i, &mut fault);
            // Once failed, it stays failed: nothing after the first fault
            // is checked.
            assert!(fault.is_none() || state == failed, "{s}: {state}");
        }
        end(state, s.len(), &mut fault);
        fault.is_none()
    }

    fn machine_accepts(component: &str) -> bool {
        run_alone(component, (C_START, C_FAILED), comp_step, comp_end)
    }

    #[test]
    fn r1_component_machine_alone_is_the_grammar() {
        // Every state must take a letter or digit on to C_ALNUM, not only
        // the states the scanner's fast path leaves behind.
        for ok in [
            "a", "0", "a0", "a.b", "a_b", "a__b", "a-b", "a---b", "a.0.b", "a-0_b__c",
        ] {
            assert!(machine_accepts(ok), "{ok}");
        }
        for bad in [
            "", "-a", "a-", "a..b", "a___b", "a_-b", ".a", "a.", "a+b", "_a", "aB", "a[b",
        ] {
            assert!(!machine_accepts(bad), "{bad}");
        }
    }

    fn dns_accepts(host: &str) -> bool {
        run_alone(host, (D_EMPTY, D_FAILED), dns_step, |state, at, fault| {
            dns_end(state, 0, at, fault)
        })
    }

    #[test]
    fn r5_dns_machine_alone_is_the_grammar() {
        for ok in ["a", "0", "A", "a.b", "a-b.c", "a--b", "Ab.0c", "x1-y.z"] {
            assert!(dns_accepts(ok), "{ok}");
        }
        for bad in [
            "", "-a", "a-", "a.", ".a", "a..b", "a-.b", "a.-b", "a_b", "a+b0c", "a b",
        ] {
            assert!(!dns_accepts(bad), "{bad}");
        }
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
        // A label may not end with `-`, the last one included: the fault is
        // at the `-`, before a `/` or a `:`.
        for (input, fault) in [
            ("a..b/c", (Fault::InvalidHost, 2)),
            ("a-.b/c", (Fault::InvalidHost, 1)),
            ("a.b./c", (Fault::TrailingDot, 3)),
            (":1/c", (Fault::EmptyHost, 0)),
            ("a.b-/c", (Fault::InvalidHost, 3)),
            ("a.bc--:5/c", (Fault::InvalidHost, 5)),
        ] {
            assert_eq!(scan(input).first.host_fault, Some(fault), "{input}");
        }
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

    /// Scans `s` as a location's first segment and checks it as a host.
    fn hp(s: &str) -> Result<HostPort<'_>, At> {
        host_port(s, &scan(s).first)
    }

    #[test]
    fn r5_ports() {
        assert_eq!(hp("a:5000").unwrap().port, Some(5000));
        assert_eq!(hp("a:05000").unwrap().port, Some(5000));
        assert_eq!(hp("a:65535").unwrap().port, Some(65535));
        assert_eq!(hp("a:0").unwrap_err(), (Fault::PortOutOfRange, 2));
        assert_eq!(hp("a:65536").unwrap_err(), (Fault::PortOutOfRange, 2));
        assert_eq!(hp("a:").unwrap_err(), (Fault::InvalidPort, 2));
        assert_eq!(hp("a:5a").unwrap_err(), (Fault::InvalidPort, 2));
        assert_eq!(hp("a:0000000000000000000080").unwrap().port, Some(80));
        assert!(hp("a:99999999999999999999999").is_err());
    }

    #[test]
    fn r5_host_ending_in_number_must_be_dotted_quad() {
        for ok in ["1.2.3.4", "10.0.0.1", "0.0.0.0", "255.255.255.255"] {
            assert_eq!(hp(ok).unwrap().kind(), HostKind::Ipv4, "{ok}");
        }
        for bad in [
            "010.0.0.1",
            "0x7f.0.0.1",
            "1.2.3.999",
            "1.2.3",
            "999",
            "0.1",
            "3.999",
            "1.2.3.4.5",
            "256.0.0.1",
            "a.1",
            "example.123",
            "1a.2",
            "x.0x",
            "x.0X1F",
            "1.2.3.04",
            "1..2.3",
        ] {
            assert!(hp(bad).is_err(), "{bad}");
        }
        assert_eq!(hp("1.2.3.999").unwrap_err(), (Fault::InvalidIpv4, 0));
        assert_eq!(hp("0x7f.0.0.1").unwrap_err(), (Fault::InvalidIpv4, 0));
        // The last label decides: these are DNS names.
        for name in ["1.2.3.a", "0x.com", "1x", "123abc", "x.0xg", "0xg"] {
            assert_eq!(hp(name).unwrap().kind(), HostKind::Domain, "{name}");
        }
    }

    #[test]
    fn r5_hosts() {
        assert!(hp("registry.example.com:5000").is_ok());
        assert!(hp("[::1]:5000").is_ok());
        assert_eq!(hp("example.com.").unwrap_err().0, Fault::TrailingDot);
        assert!(hp("-a.com").is_err());
        assert!(hp("a-.com").is_err());
        assert!(hp("a..com").is_err());
        assert!(hp("[fe80::1%eth0]").is_err());
        assert!(hp("[::ffff:1.2.3.4]").is_err());
        assert!(hp("[]").is_err());
        assert!(hp("[::1]x").is_err());
        assert!(hp("a_b.com").is_err());
        let hub = hp("Index.Docker.IO").unwrap();
        assert!(hub.is_docker_hub());
        let mut s = String::new();
        hub.write_normalized(&mut s).unwrap();
        assert_eq!(s, "docker.io");
        assert!(!hp("index.docker.io:443").unwrap().is_docker_hub());
    }
}
