//! The one scanner of the grammar that references and locations share
//! (R1, R2, R5, R7).
//!
//! [`scan`] reads the input once, left to right, driving state machines
//! from a 256-entry byte-class table (in the manner of `http`'s
//! `URI_CHARS`): the first segment (`HOST[:PORT]` or the first path
//! component with a tag), the path components, the tag and the digest. It
//! records where each part is and the first fault of each kind, and does
//! not stop at a fault, so the caller can report faults in the order the
//! rules rank them, from this one pass. It stops early only where nothing
//! is left to find: an input that is one run of lowercase letters and
//! digits is a lone name ([`Scanned::lone_name`]).
//!
//! The first segment and the path each run one table of their own, made at
//! compile time from the component and DNS machines ([`NAME_NEXT`],
//! [`PATH_NEXT`], and [`PATH_PAIRS`] for two path bytes a look-up): a byte
//! that only moves the machines on costs one look-up, a run of letters and
//! digits in the first segment none (nor a `.` between two of them), and
//! every other byte (a fault, `/`,
//! `:`, `@`, anything that is no name byte) takes a slow branch that steps
//! the machines themselves.
//!
//! Building a [`Reference`] or a [`Location`] from a [`Scanned`] takes no
//! second look at the input, except at the host's last label (read from
//! the host's end, for R5's "ends in a number", when the host ends in a
//! hex digit or `x`) and inside the brackets of
//! an IPv6 address: [`host_port`] does that for both, so hosts and ports
//! have one grammar. A reference of exactly 64 bytes is also read once
//! more, to tell an image id ([`is_image_id`]).
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
/// every other class fails). Eight rows of sixteen, so that a state and a
/// class, masked, index it without a bounds check.
static COMP_NEXT: [[u8; 16]; 8] = {
    let mut t = [[C_FAILED; 16]; 8];
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
    let next = COMP_NEXT[usize::from(state & 7)][usize::from(c & CLASS)];
    if next == C_FAILED && state != C_FAILED {
        comp_fault(c, at, fault);
    }
    next
}

/// A component's first fault: the byte of class `c` at `at`.
#[cold]
fn comp_fault(c: u8, at: usize, fault: &mut Option<At>) {
    let f = if c == UPPER {
        Fault::Uppercase
    } else {
        Fault::InvalidComponent
    };
    first(fault, f, at);
}

/// The component ends before byte `at`.
#[inline]
fn comp_end(state: u8, at: usize, fault: &mut Option<At>) {
    if !matches!(state, C_ALNUM | C_FAILED) {
        comp_end_fault(state, at, fault);
    }
}

/// The component ends before byte `at` in `state`, which is no whole
/// component: its fault. Apart, so that the ends' hot code reads no fault.
#[cold]
fn comp_end_fault(state: u8, at: usize, fault: &mut Option<At>) {
    match state {
        C_START => first(fault, Fault::EmptyComponent, at),
        _ => first(fault, Fault::InvalidComponent, at.saturating_sub(1)),
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

/// The next DNS state, by state and byte class (`LOWER`..=`DASH`; every
/// other class fails), shaped as [`COMP_NEXT`] is.
static DNS_NEXT: [[u8; 16]; 8] = {
    let mut t = [[D_FAILED; 16]; 8];
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
    let next = DNS_NEXT[usize::from(state & 7)][usize::from(c & CLASS)];
    if next == D_FAILED && state != D_FAILED {
        dns_fault(state, c, at, fault);
    }
    next
}

/// A host name's first fault: the byte of class `c` at `at`, read in
/// `state`.
#[cold]
fn dns_fault(state: u8, c: u8, at: usize, fault: &mut Option<At>) {
    // `a-.b`: the label ended with the `-` before the dot.
    let at = if state == D_DASH && c == DOT {
        at - 1
    } else {
        at
    };
    first(fault, Fault::InvalidHost, at);
}

/// The host name ends before byte `at`; it started at `start`.
#[inline]
fn dns_end(state: u8, start: usize, at: usize, fault: &mut Option<At>) {
    if !matches!(state, D_LABEL | D_FAILED) {
        dns_end_fault(state, start, at, fault);
    }
}

/// The host name ends before byte `at` in `state`, which ends no name: its
/// fault. Apart, so that the ends' hot code reads no fault.
#[cold]
fn dns_end_fault(state: u8, start: usize, at: usize, fault: &mut Option<At>) {
    match state {
        D_EMPTY => first(fault, Fault::EmptyHost, start),
        D_LABEL_START => first(fault, Fault::TrailingDot, at.saturating_sub(1)),
        D_DASH => first(fault, Fault::InvalidHost, at.saturating_sub(1)),
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
    /// It holds a `.` (before any `:`).
    pub(crate) has_dot: bool,
    pub(crate) has_upper: bool,
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

/// Where a reference's tag and digest are in what was written: each its
/// text's start and end. The scan records them as a reference stores them,
/// so that building one copies them whole.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Spans {
    pub(crate) tag: Option<(u16, u16)>,
    pub(crate) digest: Option<(u16, u16)>,
}

/// What one pass over the input found.
#[derive(Debug, Clone)]
pub(crate) struct Scanned {
    /// The first `://` and the first byte no reference may hold.
    pub(crate) rare: Rare,
    pub(crate) first: First,
    pub(crate) first_ends: FirstEnd,
    /// The first fault in the components after the first segment.
    pub(crate) path_fault: Option<At>,
    /// The first `:` after the first `/` that a `/` follows, so that it is
    /// no tag's; before the tag's, which [`Scanned::path_colon`] reads
    /// otherwise.
    pub(crate) slashed_colon: Option<usize>,
    /// Where the name ends: its tag's `:`, its `@`, or the end.
    pub(crate) name_end: usize,
    /// Where the tag after the first segment and the digest after the
    /// first `@` (outside a digest) are, as a reference stores them.
    pub(crate) spans: Spans,
    pub(crate) tag_fault: Option<At>,
    /// The digest's fault.
    pub(crate) digest_fault: Option<At>,
    /// A `/` after the `@`.
    pub(crate) slash_after_at: bool,
    /// A `/` in the name after the one that ends the first segment: the
    /// path holds more than the first segment and one component.
    pub(crate) slash_in_path: bool,
}

impl Scanned {
    /// The first `:` after the first `/` (for locations): one that a `/`
    /// follows, else the tag's.
    pub(crate) fn path_colon(&self) -> Option<usize> {
        if self.first_ends != FirstEnd::Slash {
            return None;
        }
        let tag_colon = || self.spans.tag.map(|(start, _)| usize::from(start) - 1);
        self.slashed_colon.or_else(tag_colon)
    }

    /// The first `@` (outside a digest).
    pub(crate) fn at_sign(&self) -> Option<usize> {
        self.spans.digest.map(|(start, _)| usize::from(start) - 1)
    }

    /// What [`scan`] starts from for `s`, in its caller's slot: a
    /// `Scanned` is a few hundred bytes, and returning it from the scan
    /// would copy them.
    #[inline(always)]
    pub(crate) fn new(s: &str) -> Self {
        Scanned {
            rare: Rare::default(),
            first_ends: FirstEnd::Alone,
            path_fault: None,
            slashed_colon: None,
            name_end: s.len(),
            spans: Spans::default(),
            tag_fault: None,
            digest_fault: None,
            slash_after_at: false,
            slash_in_path: false,
            first: First {
                bracket: s.as_bytes().first() == Some(&b'['),
                ..First::default()
            },
        }
    }

    /// What a scan finds in `s` when it is one name alone, the input
    /// [`scan`] leaves its slot empty for: a first segment that ends the
    /// input, with no fault, separator or other part.
    pub(crate) fn lone_name(s: &str) -> Self {
        let mut x = Scanned::new(s);
        x.first.end = s.len();
        x
    }
}

/// The bytes from `start` to `end` of an input the parsers read (at most
/// [`MAX_REFERENCE_LEN`](crate::reference::MAX_REFERENCE_LEN) bytes, so
/// the casts keep every bit).
#[inline(always)]
fn span(start: usize, end: usize) -> (u16, u16) {
    debug_assert!(end <= crate::reference::MAX_REFERENCE_LEN);
    (start as u16, end as u16)
}

const _: () = assert!(crate::reference::MAX_REFERENCE_LEN <= u16::MAX as usize);

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

/// What every part of the scan records the same way, from its slow
/// branches only (the bytes that are not letters, digits or `.`, `_`, `-`):
/// the first `://`, and the first byte no reference may hold. It is part of
/// [`Scanned`], written where it is found, so the parts' loops carry
/// nothing of it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rare {
    /// The first `://` in the first segment, when the input may start with
    /// a protocol (a later one cannot end a scheme).
    pub(crate) scheme: Option<usize>,
    /// The first white space, control or non-ASCII byte.
    pub(crate) bad_byte: Option<At>,
}

impl Rare {
    /// The byte of class `c` at `i` of `b` took a slow branch.
    #[inline(always)]
    fn byte(&mut self, b: &[u8], c: u8, i: usize) {
        if c >= SPACE {
            self.bad(c, i);
        } else if c == COLON {
            self.colon(b, i);
        }
    }

    /// The `:` at `i` of `b`, in the first segment: the first `://` is
    /// recorded. Apart, so that the segment's hot code reads no record.
    #[cold]
    fn colon(&mut self, b: &[u8], i: usize) {
        if self.scheme.is_none() && b.get(i + 1..i + 3) == Some(b"//".as_slice()) {
            self.scheme = Some(i);
        }
    }

    /// The byte of class `c` at `i`, after the first segment, took a slow
    /// branch. A `://` there follows text that holds the `/` or `@` which
    /// ended the first segment, so it cannot end a scheme (see
    /// [`is_scheme`]), and only a bad byte is recorded.
    #[inline(always)]
    fn past_first(&mut self, c: u8, i: usize) {
        if c >= SPACE {
            self.bad(c, i);
        }
    }

    #[cold]
    fn bad(&mut self, c: u8, i: usize) {
        let fault = match c {
            SPACE => Fault::Whitespace,
            CONTROL => Fault::ControlCharacter,
            _ => Fault::NonAscii,
        };
        first(&mut self.bad_byte, fault, i);
    }
}

/// The class of every byte, without its flags: the columns of the state
/// tables below.
static CLASS_OF: [u8; 256] = {
    let mut t = [0; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = BYTES[b] & CLASS;
        b += 1;
    }
    t
};

/// The classes a table column can hold (the byte classes, `LOWER` to
/// `NON_ASCII`).
#[cfg(test)]
const END_CLASS: u8 = NON_ASCII + 1;

/// An entry of [`NAME_NEXT`] or [`PATH_NEXT`] that is no plain step: the
/// byte takes the slow branch. A plain step's entry is the next state
/// times sixteen, whose low four bits are clear.
const ACT: u8 = 1;

/// The flag of a [`NAME_NEXT`] state once a `.` was read.
const DOTTED: usize = 64;

/// The bit of a [`NAME_NEXT`] state that says a `.` was read.
const NAME_DOTTED: u16 = DOTTED as u16 * 16;
/// The bits of a [`NAME_NEXT`] state that hold the two machines' states.
const NAME_MACHINES: u16 = 63 * 16;
/// The machines' states in a run of letters and digits: a component and a
/// label, each going on.
const NAME_IN_RUN: u16 = (C_ALNUM as u16 * 8 + D_LABEL as u16) * 16;

/// The first segment read as a name: the component machine's and the DNS
/// machine's states at once, and whether a `.` was read,
/// `dotted + comp * 8 + dns` ([`DOTTED`]), times sixteen, plus the byte's
/// class, index it. An entry is the next such index base, or [`ACT`]:
/// every byte but a letter, digit, `.`, `_` or `-` that neither machine
/// fails on takes the slow branch ([`name_byte`]), which steps each machine
/// on its own.
static NAME_NEXT: [u16; 2048] = {
    let mut t = [ACT as u16; 2048];
    let classes = [LOWER, DIGIT, DOT, UNDER, DASH];
    let mut dotted = 0;
    while dotted <= DOTTED {
        let mut comp = 0;
        while comp <= C_FAILED as usize {
            let mut dns = 0;
            while dns <= D_FAILED as usize {
                let mut k = 0;
                while k < classes.len() {
                    let c = classes[k] as usize;
                    let nc = COMP_NEXT[comp][c] as usize;
                    let nd = DNS_NEXT[dns][c] as usize;
                    let comp_fails = nc == C_FAILED as usize && comp != C_FAILED as usize;
                    let dns_fails = nd == D_FAILED as usize && dns != D_FAILED as usize;
                    if !comp_fails && !dns_fails {
                        let next_dotted = if c == DOT as usize { DOTTED } else { dotted };
                        let next = next_dotted + nc * 8 + nd;
                        t[(dotted + comp * 8 + dns) * 16 + c] = (next * 16) as u16;
                    }
                    k += 1;
                }
                dns += 1;
            }
            comp += 1;
        }
        dotted += DOTTED;
    }
    t
};

/// A component state after a `/` in the path (the flag in [`PATH_NEXT`]'s
/// states): the name has more than one component after the first segment.
const MORE: u8 = 8;

/// The path after the first segment: the component machine's state, with
/// [`MORE`] once a `/` was read, times sixteen, plus the byte's class,
/// index it. An entry is the next such index base, or [`ACT`] for the slow
/// branch ([`path`]): a byte the machine fails on, a `/` that ends a
/// component badly, `:`, `@`, and the bytes no reference may hold. After a
/// fault (state `C_FAILED`) only those last three take it: the path's first
/// fault is the one reported.
static PATH_NEXT: [u8; 256] = {
    let mut t = [ACT; 256];
    let classes = [LOWER, DIGIT, DOT, UNDER, DASH];
    let mut more = 0;
    while more <= MORE as usize {
        let mut comp = 0;
        while comp < C_FAILED as usize {
            let state = comp | more;
            let mut k = 0;
            while k < classes.len() {
                let c = classes[k] as usize;
                let next = COMP_NEXT[comp][c];
                if next != C_FAILED {
                    t[state * 16 + c] = (next | more as u8) * 16;
                }
                k += 1;
            }
            // A `/` after a whole component.
            if comp == C_ALNUM as usize {
                t[state * 16 + SLASH as usize] = (C_START | MORE) * 16;
            }
            comp += 1;
        }
        more += MORE as usize;
    }
    let mut c = 0;
    while c < 16 {
        if c != COLON as usize && c != AT_SIGN as usize && c < SPACE as usize {
            t[C_FAILED as usize * 16 + c] = C_FAILED * 16;
        }
        c += 1;
    }
    t
};

/// The flag of a [`PATH_PAIRS`] entry with [`ACT`] whose first byte is a
/// plain step: the entry's high four bits are the state after it.
const FIRST_PLAIN: u8 = 2;

/// Two steps of [`PATH_NEXT`] at once: the state (times sixteen) and the
/// first byte's class, times sixteen, plus the second byte's class, index
/// it. An entry is the state after both, or [`ACT`] when either is no plain
/// step: with [`FIRST_PLAIN`] and the state after the first byte when only
/// the second is none. Two bytes then wait for one look-up instead of two.
static PATH_PAIRS: [u8; 4096] = {
    let mut t = [ACT; 4096];
    let mut i = 0;
    while i < 4096 {
        let (state, first, second) = (i >> 8, (i >> 4) & 15, i & 15);
        let after_first = PATH_NEXT[state * 16 + first];
        if after_first & ACT == 0 {
            let both = PATH_NEXT[after_first as usize + second];
            t[i] = if both & ACT == 0 {
                both
            } else {
                after_first | ACT | FIRST_PLAIN
            };
        }
        i += 1;
    }
    t
};

/// Reads `s` once (R1, R2, R5, R7): the first segment, then the path
/// components, a tag and a digest. Each part has a loop of its own that
/// keeps its state in locals: runs of letters and digits take one table
/// look-up a byte and no state machine, the other name bytes one step of
/// each machine, and the rare bytes (`/`, `:`, `@`, brackets, anything
/// invalid) a slow branch.
///
/// The scan starts with the first segment's run of lowercase letters and
/// digits. When that run is the whole input, the input is one name alone
/// (R1, R2): nothing else can be found, `slot` is left empty and the scan
/// returns `None` ([`Scanned::lone_name`] is what the rest would have
/// found). Otherwise the scan fills [`Scanned::new`] of `s` in `slot`, in
/// the caller's frame (a `Scanned` is a few hundred bytes, and returning it
/// would copy them), and returns it.
#[inline(always)]
pub(crate) fn scan<'a>(s: &str, slot: &'a mut Option<Scanned>) -> Option<&'a Scanned> {
    let b = s.as_bytes();
    let len = b.len();
    let run = alnum_run(b);
    if run == len && len > 0 {
        return None;
    }
    let out = slot.insert(Scanned::new(s));
    scan_from(s, run, out);
    Some(out)
}

/// How many of `bytes` lead as a run of lowercase letters and digits: two
/// bytes a round, whose flags are tested at once.
#[inline(always)]
fn alnum_run(bytes: &[u8]) -> usize {
    let mut n = 0;
    let mut pairs = bytes.chunks_exact(2);
    for pair in &mut pairs {
        let (a, b) = (flags(pair[0]), flags(pair[1]));
        if a & b & ALNUM == 0 {
            return n + usize::from(a & ALNUM != 0);
        }
        n += 2;
    }
    n + usize::from(
        pairs
            .remainder()
            .first()
            .is_some_and(|&c| flags(c) & ALNUM != 0),
    )
}

/// The rest of [`scan`], from the end of the first segment's run of
/// lowercase letters and digits at `run`, into `out` ([`Scanned::new`] of
/// `s`). Inlined with the scan into the parsers, so that the record is
/// written and read in one frame.
#[inline(always)]
fn scan_from(s: &str, run: usize, out: &mut Scanned) {
    let b = s.as_bytes();
    let len = b.len();

    // The first segment, up to `/`, `@` or the end, and whether a `/`
    // ends it.
    let (mut i, slash) = if out.first.bracket {
        let end = first_bracketed(b, &mut out.first, &mut out.rare);
        (end, b.get(end) == Some(&b'/'))
    } else {
        first_named(b, run, &mut out.first, &mut out.rare)
    };

    if slash {
        out.first_ends = FirstEnd::Slash;
        i = path(b, i + 1, out);
    } else {
        out.name_end = out.first.host_end();
        out.path_fault = out.first.comp_fault;
        if let Some(colon) = out.first.colon {
            out.spans.tag = Some(span(colon + 1, i));
            out.tag_fault = out.first.tag_fault;
        }
    }

    // At `@`: the digest is the rest.
    if i < len {
        out.spans.digest = Some(span(i + 1, len));
        digest(s, i + 1, out);
    }
}

/// The digest that starts at `start` and runs to the end of `s` (R1), and
/// any `/` or byte no reference may hold in it; into `out`. A call of its
/// own, so its loops keep their registers whatever the parts before it
/// needed.
#[inline(never)]
fn digest(s: &str, start: usize, out: &mut Scanned) {
    let b = s.as_bytes();
    let len = b.len();
    let mut i = start;
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
            out.rare.past_first(c, i);
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
            (Digest::Letter, LOWER) => {
                // The rest of the component's letters and digits in one
                // run.
                i += 1;
                while i < len && flags(b[i]) & ALNUM != 0 {
                    i += 1;
                }
                state = Digest::Alg;
                continue;
            }
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

/// The first segment when it does not start with `[`: a DNS name and a
/// path component at once (R2 decides later which it is), then a port or a
/// tag after a `:`. Its first `run` bytes are lowercase letters and digits,
/// already read. Returns where it ends, and whether a `/` ends it.
#[inline(always)]
fn first_named(b: &[u8], run: usize, f: &mut First, rare: &mut Rare) -> (usize, bool) {
    // After a letter or digit both machines are in a run; before any byte,
    // `(C_START * 8 + D_EMPTY) * 16`.
    let mut state: u16 = if run > 0 { NAME_IN_RUN } else { 0 };
    let mut i = run;
    let mut slash = false;
    loop {
        i += name_steps(b.get(i..).unwrap_or_default(), &mut state);
        let Some(&byte) = b.get(i) else {
            break;
        };
        if byte == b'/' {
            slash = true;
            break;
        }
        let c = CLASS_OF[usize::from(byte)];
        match name_byte(b, c, state, i, f, rare) {
            Some(next) => state = next,
            None if c == COLON => {
                let end = port(b, i, f, rare);
                return (end, b.get(end) == Some(&b'/'));
            }
            None => break,
        }
        i += 1;
    }
    f.has_dot = state & NAME_DOTTED != 0;
    // In a run both machines are at a whole component and label: nothing
    // to record.
    if state & NAME_MACHINES != NAME_IN_RUN {
        let (_, comp, dns) = name_machines(state);
        comp_end(comp, i, &mut f.comp_fault);
        dns_end(dns, 0, i, &mut f.host_fault);
    }
    f.end = i;
    (i, slash)
}

/// Whether a `.` was read, and the component and DNS states, of a
/// [`NAME_NEXT`] state.
#[inline(always)]
fn name_machines(state: u16) -> (bool, u8, u8) {
    let s = usize::from(state >> 4);
    // Both below 8: the casts keep every bit.
    (s & DOTTED != 0, (s >> 3) as u8 & 7, s as u8 & 7)
}

/// The slow branch of the first segment's name: the byte of class `c` at
/// `i`, read in `state`. Returns the next state, or `None` where the name
/// ends (`/`, `@`, or `:` before a port or a tag, which it records).
fn name_byte(b: &[u8], c: u8, state: u16, i: usize, f: &mut First, rare: &mut Rare) -> Option<u16> {
    let (mut dotted, mut comp, mut dns) = name_machines(state);
    match c {
        SLASH | AT_SIGN => return None,
        COLON => {
            rare.byte(b, c, i);
            f.has_dot = dotted;
            f.colon = Some(i);
            comp_end(comp, i, &mut f.comp_fault);
            dns_end(dns, 0, i, &mut f.host_fault);
            return None;
        }
        LOWER..=DASH => {
            dotted |= c == DOT;
            f.has_upper |= c == UPPER;
        }
        _ => rare.byte(b, c, i),
    }
    comp = comp_step(comp, c, i, &mut f.comp_fault);
    dns = dns_step(dns, c, i, &mut f.host_fault);
    let dotted = if dotted { DOTTED as u16 } else { 0 };
    Some((dotted + u16::from(comp) * 8 + u16::from(dns)) * 16)
}

/// The first segment when it starts with `[`: an IPv6 address in brackets
/// (no path component starts so), then a port after a `:`. Returns where
/// it ends.
#[cold]
fn first_bracketed(b: &[u8], f: &mut First, rare: &mut Rare) -> usize {
    // `[` is no byte of a component.
    let comp = comp_step(C_START, OTHER, 0, &mut f.comp_fault);
    let mut in_brackets = true;
    // Where the `]` is.
    let mut close = None;
    let mut i = 1;
    while let Some(&byte) = b.get(i) {
        let fl = flags(byte);
        let c = fl & CLASS;
        if c == SLASH || c == AT_SIGN {
            break;
        }
        rare.byte(b, c, i);
        if in_brackets {
            if c == CLOSE {
                in_brackets = false;
                close = Some(i);
            } else if c != COLON && fl & ANY_HEX == 0 {
                first(&mut f.host_fault, Fault::InvalidIpv6, i);
            }
        } else if c == COLON {
            f.colon = Some(i);
            comp_end(comp, i, &mut f.comp_fault);
            return port(b, i, f, rare);
        } else {
            // After `]`: only `:PORT` may follow.
            first(&mut f.host_fault, Fault::InvalidIpv6, i);
        }
        i += 1;
    }
    comp_end(comp, i, &mut f.comp_fault);
    if close.is_none() {
        first(&mut f.host_fault, Fault::InvalidIpv6, 0);
    }
    f.end = i;
    i
}

/// What follows the first segment's `:` at `colon`, up to `/`, `@` or the
/// end: a port, or a tag when nothing follows (R2). Returns where the
/// segment ends.
fn port(b: &[u8], colon: usize, f: &mut First, rare: &mut Rare) -> usize {
    let mut i = colon + 1;
    while let Some(&byte) = b.get(i) {
        let c = flags(byte) & CLASS;
        if c == SLASH || c == AT_SIGN {
            break;
        }
        rare.byte(b, c, i);
        if c == DIGIT {
            f.port = (f.port * 10 + u32::from(byte - b'0')).min(100_000);
        } else {
            first(&mut f.port_fault, Fault::InvalidPort, colon + 1);
        }
        tag_byte(byte, i - colon - 1, i, &mut f.tag_fault);
        i += 1;
    }
    if i == colon + 1 {
        first(&mut f.port_fault, Fault::InvalidPort, colon + 1);
    }
    tag_end(colon + 1, i, &mut f.tag_fault);
    f.end = i;
    i
}

/// The components after the first `/` (from `i`), then a tag; up to `@`
/// or the end, which it returns.
#[inline(always)]
fn path(b: &[u8], mut i: usize, out: &mut Scanned) -> usize {
    let mut fault = None;
    // `C_START * 16`
    let mut state: u8 = 0;
    loop {
        // The plain steps, two bytes a look-up.
        i += path_steps(b.get(i..).unwrap_or_default(), &mut state);
        let Some(&byte) = b.get(i) else {
            break;
        };
        let c = CLASS_OF[usize::from(byte)];
        let comp = (state >> 4) & 7;
        let more = state & (MORE * 16);
        match c {
            AT_SIGN => break,
            SLASH => {
                comp_end(comp, i, &mut fault);
                state = (C_START | MORE) * 16;
            }
            COLON => {
                out.rare.past_first(c, i);
                comp_end(comp, i, &mut fault);
                match tag(b, i, &mut out.rare) {
                    Tag::Ends(end, tag_fault) => {
                        out.name_end = i;
                        out.spans.tag = Some(span(i + 1, end));
                        // `Scanned::new` left the faults empty: only a
                        // fault is written.
                        if tag_fault.is_some() {
                            out.tag_fault = tag_fault;
                        }
                        out.slash_in_path = more != 0;
                        if fault.is_some() {
                            out.path_fault = fault;
                        }
                        return end;
                    }
                    Tag::Slash(slash) => {
                        // It was no tag, but a component with a `:` in it.
                        if out.slashed_colon.is_none() {
                            out.slashed_colon = Some(i);
                        }
                        first(&mut fault, Fault::InvalidComponent, i);
                        state = (C_START | MORE) * 16;
                        i = slash;
                    }
                }
            }
            _ => {
                out.rare.past_first(c, i);
                state = (comp_step(comp, c, i, &mut fault) * 16) | more;
            }
        }
        // A fault: the rest of the path is not checked.
        if fault.is_some() {
            state = C_FAILED * 16;
        }
        i += 1;
    }
    comp_end((state >> 4) & 7, i, &mut fault);
    out.name_end = i;
    out.slash_in_path = state & (MORE * 16) != 0;
    // Left empty by `Scanned::new`: only a fault is written.
    if fault.is_some() {
        out.path_fault = fault;
    }
    i
}

/// How many of `bytes` are plain steps of [`NAME_NEXT`] from `state`,
/// which it leaves at the state before the first that is not. In a run
/// (a letter or digit was just read, and another leaves both machines
/// where they are), lowercase letters and digits are skipped without the
/// table, so its bytes do not wait for each other's look-ups; so is a `.`
/// followed by one, which leaves both machines in a run again and only
/// records that a `.` was read (a component goes on after `.` and a
/// letter or digit, and a label starts).
#[inline(always)]
fn name_steps(bytes: &[u8], state: &mut u16) -> usize {
    let mut s = *state;
    let mut n = 0;
    loop {
        if s & NAME_MACHINES == NAME_IN_RUN {
            loop {
                while bytes.get(n).is_some_and(|&c| flags(c) & ALNUM != 0) {
                    n += 1;
                }
                if bytes.get(n) == Some(&b'.')
                    && bytes.get(n + 1).is_some_and(|&c| flags(c) & ALNUM != 0)
                {
                    s |= NAME_DOTTED;
                    n += 2;
                } else {
                    break;
                }
            }
        }
        let Some(&byte) = bytes.get(n) else {
            break;
        };
        // `/` ends the first segment, and is no plain step.
        if byte == b'/' {
            break;
        }
        let next = name_step(s, byte);
        if next & u16::from(ACT) != 0 {
            break;
        }
        s = next;
        n += 1;
    }
    *state = s;
    n
}

/// How many of `bytes` are plain steps of [`PATH_NEXT`] from `state`,
/// which it leaves at the state before the first that is not: two bytes a
/// round through [`PATH_PAIRS`], then the first of a pair on its own.
#[inline(always)]
fn path_steps(bytes: &[u8], state: &mut u8) -> usize {
    let mut s = *state;
    let mut n = 0;
    let mut pairs = bytes.chunks_exact(2);
    for pair in &mut pairs {
        let first = CLASS_OF[usize::from(pair[0])];
        let second = CLASS_OF[usize::from(pair[1])];
        let next = PATH_PAIRS[(usize::from(s | first) << 4 | usize::from(second)) & 4095];
        if next & ACT != 0 {
            // The pair that holds the slow byte: its first byte may be a
            // plain step.
            if next & FIRST_PLAIN != 0 {
                s = next & !15;
                n += 1;
            }
            *state = s;
            return n;
        }
        s = next;
        n += 2;
    }
    // The last byte alone.
    if let [byte] = *pairs.remainder() {
        let next = path_step(s, byte);
        if next & ACT == 0 {
            s = next;
            n += 1;
        }
    }
    *state = s;
    n
}

/// A byte's [`PATH_NEXT`] entry in `state`.
#[inline(always)]
fn path_step(state: u8, byte: u8) -> u8 {
    PATH_NEXT[usize::from(state | CLASS_OF[usize::from(byte)])]
}

/// A byte's [`NAME_NEXT`] entry in `state`.
#[inline(always)]
fn name_step(state: u16, byte: u8) -> u16 {
    NAME_NEXT[usize::from((state | u16::from(CLASS_OF[usize::from(byte)])) & 2047)]
}

/// How what follows a `:` in the path ended.
enum Tag {
    /// At `@` or the end of the input (where, and the tag's first fault):
    /// it is the tag.
    Ends(usize, Option<At>),
    /// At a `/` (where): it was no tag.
    Slash(usize),
}

/// What follows the path's `:` at `colon`: its valid bytes in one run;
/// whatever stops the run takes the slow branch.
#[inline(always)]
fn tag(b: &[u8], colon: usize, rare: &mut Rare) -> Tag {
    let start = colon + 1;
    let mut j = start;
    while let Some(&byte) = b.get(j) {
        if flags(byte) & TAG == 0 {
            break;
        }
        j += 1;
    }
    // The run ends the tag, and it is neither empty, too long, nor led by
    // `.` or `-`: a valid tag, the common case, with nothing to record.
    if matches!(b.get(j), None | Some(b'@'))
        && (1..=MAX_TAG_LEN).contains(&(j - start))
        && !matches!(b.get(start), Some(b'.' | b'-'))
    {
        return Tag::Ends(j, None);
    }
    let mut fault = None;
    if j > start && matches!(b[start], b'.' | b'-') {
        first(&mut fault, Fault::InvalidTag, start);
    }
    if j - start > MAX_TAG_LEN {
        first(&mut fault, Fault::TagTooLong, start + MAX_TAG_LEN);
    }
    while let Some(&byte) = b.get(j) {
        let c = flags(byte) & CLASS;
        if c == AT_SIGN {
            break;
        }
        if c == SLASH {
            return Tag::Slash(j);
        }
        // The run stopped at a byte no tag may hold: the tag is invalid
        // there, and later bytes come after that fault.
        rare.past_first(c, j);
        first(&mut fault, Fault::InvalidTag, j);
        j += 1;
    }
    tag_end(start, j, &mut fault);
    Tag::Ends(j, fault)
}

/// Checks the first segment that [`scan`] read as `HOST[:PORT]` and gives its normal form (R4, R5). `s` is the
/// whole input; the host starts at byte 0.
#[inline]
pub(crate) fn host_port<'a>(s: &'a str, first: &First) -> Result<HostPort<'a>, At> {
    host_port_inlined(s, first)
}

/// [`host_port`], inlined where a reference is built from its fields.
#[inline(always)]
pub(crate) fn host_port_inlined<'a>(s: &'a str, first: &First) -> Result<HostPort<'a>, At> {
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
    } else if host
        .as_bytes()
        .last()
        // A number ends in a hex digit, or is `0x` (R5): a host that ends in
        // anything else needs no look for its last label.
        .is_some_and(|&b| flags(b) & ANY_HEX != 0 || b | 0x20 == b'x')
        && host::ends_in_a_number(last_label(host))
    {
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
    // R4: the aliases are lowercase, so a host without capitals is
    // compared byte for byte.
    let alias = kind == HostKind::Domain
        && port.is_none()
        && host::DOCKER_HUB_ALIASES.iter().any(|a| {
            if first.has_upper {
                a.eq_ignore_ascii_case(host)
            } else {
                *a == host
            }
        });
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

/// A DNS name's last label: what follows its last `.`.
#[inline]
fn last_label(host: &str) -> &str {
    host.bytes()
        .rposition(|b| b == b'.')
        .map_or(host, |dot| &host[dot + 1..])
}

/// True when `s` is an image id: 64 lowercase hex digits (R6).
pub(crate) fn is_image_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| flags(b) & HEX != 0)
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

    /// What one scan of `s` found.
    fn scanned(s: &str) -> Scanned {
        let mut slot = None;
        scan(s, &mut slot);
        slot.unwrap_or_else(|| Scanned::lone_name(s))
    }

    /// Whether the scan of `s` stopped at a lone name.
    fn lone(s: &str) -> bool {
        let mut slot = None;
        scan(s, &mut slot);
        slot.is_none()
    }

    fn path_fault(s: &str) -> Option<At> {
        scanned(s).path_fault
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

    #[test]
    fn r1_r5_the_step_tables_take_a_plain_step_exactly_where_the_machines_move_without_a_fault() {
        // The first segment: both machines at once.
        for dotted in [false, true] {
            for comp in 0..=C_FAILED {
                for dns in 0..=D_FAILED {
                    let d = if dotted { DOTTED as u16 } else { 0 };
                    let state = (d + u16::from(comp) * 8 + u16::from(dns)) * 16;
                    for c in 0..END_CLASS {
                        let entry = NAME_NEXT[usize::from(state | u16::from(c))];
                        let (mut cf, mut df) = (None, None);
                        let nc = comp_step(comp, c, 1, &mut cf);
                        let nd = dns_step(dns, c, 1, &mut df);
                        let plain = matches!(c, LOWER | DIGIT | DOT | UNDER | DASH)
                            && cf.is_none()
                            && df.is_none();
                        assert_eq!(entry & u16::from(ACT) == 0, plain, "{comp} {dns} {c}");
                        if plain {
                            let next = name_machines(entry);
                            assert_eq!(next, (dotted || c == DOT, nc, nd), "{comp} {dns} {c}");
                        }
                    }
                }
            }
        }
        // The path: the component machine, with `/` after a whole
        // component, and a fault that ends the checking.
        for more in [0, MORE] {
            for comp in 0..C_FAILED {
                let state = (comp | more) * 16;
                for c in 0..END_CLASS {
                    let entry = PATH_NEXT[usize::from(state | c)];
                    let mut fault = None;
                    let next = comp_step(comp, c, 1, &mut fault);
                    let plain = matches!(c, LOWER | DIGIT | DOT | UNDER | DASH) && fault.is_none()
                        || c == SLASH && comp == C_ALNUM;
                    assert_eq!(entry & ACT == 0, plain, "{comp} {more} {c}");
                    if plain && c != SLASH {
                        assert_eq!(entry, (next | more) * 16, "{comp} {more} {c}");
                    }
                    for c2 in 0..END_CLASS {
                        let pair = PATH_PAIRS[usize::from(state | c) << 4 | usize::from(c2)];
                        let second = PATH_NEXT[usize::from((entry & !ACT) | c2)];
                        let both = entry & ACT == 0 && second & ACT == 0;
                        let want = if both {
                            second
                        } else if entry & ACT == 0 {
                            entry | ACT | FIRST_PLAIN
                        } else {
                            ACT
                        };
                        assert_eq!(pair, want, "{comp} {more} {c} {c2}");
                    }
                }
            }
        }
    }

    #[test]
    fn r1_r5_name_steps_skip_only_what_the_table_steps_through() {
        // The first segment's shortcuts (runs of letters and digits, and a
        // `.` before one) end where a byte-by-byte walk of the table ends,
        // in the same state.
        let inputs = [
            "a",
            "ab.cd",
            "a.b.c",
            "a..b",
            "a.-b",
            "a-.b",
            "a.",
            ".a",
            "a.B",
            "a._b",
            "A.b",
            "ab.c/d",
            "ab.c:1",
            "x1.y2-z.w",
            "a-b.c--d.e",
            "a.b_c.d",
            "0.0.0.0",
            "a.b.c.",
            "a.b+c",
        ];
        for input in inputs {
            for start in [0, 1] {
                let b = &input.as_bytes()[start.min(input.len())..];
                let first = if start == 1 { NAME_IN_RUN } else { 0 };
                if start == 1 && !input.as_bytes()[0].is_ascii_lowercase() {
                    continue;
                }
                let mut state = first;
                let n = name_steps(b, &mut state);
                let (mut walked, mut at) = (first, 0);
                while let Some(&byte) = b.get(at) {
                    let next = name_step(walked, byte);
                    if next & u16::from(ACT) != 0 {
                        break;
                    }
                    walked = next;
                    at += 1;
                }
                assert_eq!((n, state), (at, walked), "{input} from {start}");
            }
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
    fn r1_the_paths_first_colon_is_one_a_slash_follows_or_the_tags() {
        for s in [
            "h/a",
            "h/a:t",
            "h/a:b/c",
            "h/a:b/c:d",
            "h/a:b:c/d:e",
            "h/a/b:t@x:y",
            "h/a@x:y",
            "h:1/a:t",
            "h:1",
            "a:t",
            "h/a:",
            "h/:a/b",
            "[::1]/a:b/c",
        ] {
            let x = scanned(s);
            let want = (x.first_ends == FirstEnd::Slash)
                .then(|| {
                    let path = &s[x.first.end + 1..];
                    let path = path.split('@').next().unwrap_or_default();
                    path.find(':').map(|c| x.first.end + 1 + c)
                })
                .flatten();
            assert_eq!(x.path_colon(), want, "{s}");
        }
    }

    #[test]
    fn r1_a_run_of_letters_and_digits_is_counted_two_bytes_a_round() {
        for s in [
            "",
            "a",
            "A",
            "ab",
            "a-",
            "-a",
            "abc",
            "ab-",
            "a-b",
            "abcd",
            "abc.",
            "ab.d",
            "nginx",
            "x1y2/z",
            "registry.example.com",
        ] {
            let b = s.as_bytes();
            let want = b.iter().take_while(|&&c| flags(c) & ALNUM != 0).count();
            assert_eq!(alnum_run(b), want, "{s}");
        }
    }

    #[test]
    fn r1_r2_one_name_alone_stops_the_scan_with_nothing_else_found() {
        for name in ["a", "0", "nginx", "x1y2", &"f".repeat(300)] {
            assert!(lone(name), "{name}");
        }
        for other in [
            "", "my-app", "a.b", "a_b", "aB", "A", "a-", "-a", "a:1", "a/b", "a@b", "a b", "a+b",
            "[a]", "a\u{e9}", "nginx:1", "nginx/", "nginx@",
        ] {
            assert!(!lone(other), "{other}");
        }
        // What the full scan finds for names it reads to the end, with `-`
        // or `.` in them, is what a lone name stands for.
        for name in ["my-app", "a--b0", "0-0"] {
            let full = format!("{:?}", scanned(name));
            assert_eq!(full, format!("{:?}", Scanned::lone_name(name)), "{name}");
        }
        assert_eq!(scanned("nginx").first.end, 5);
    }

    #[test]
    fn r1_spans_of_tag_and_digest() {
        let sha = "0123456789abcdef".repeat(4);
        let s = format!("h.com/a/b:t@sha256:{sha}");
        let x = scanned(&s);
        assert_eq!(x.first.end, 5);
        assert_eq!(x.name_end, 9);
        assert_eq!(x.spans.tag, Some((10, 11)));
        assert_eq!(x.at_sign(), Some(11));
        assert_eq!(x.digest_fault, None);
        assert!(x.slash_in_path);
        // A `:` followed by `/` is not a tag.
        let x = scanned("a/b:c/d:e");
        assert_eq!(x.path_fault, Some((Fault::InvalidComponent, 3)));
        assert_eq!(x.spans.tag, Some((8, 9)));
        // The first segment alone: component and tag.
        let x = scanned("test.com:5000");
        assert_eq!(x.first_ends, FirstEnd::Alone);
        assert_eq!((x.name_end, x.spans.tag), (8, Some((9, 13))));
        assert_eq!(x.first.tag_fault, None);
    }

    #[test]
    fn r5_first_segment_as_a_host() {
        let f = scanned("Registry.Example.com:5000/a").first;
        assert_eq!(
            (f.colon, f.port, f.host_fault, f.port_fault),
            (Some(20), 5000, None, None)
        );
        assert!(f.has_dot && f.has_upper);
        assert_eq!(last_label("Registry.Example.com"), "com");
        assert_eq!(last_label("localhost"), "localhost");
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
            assert_eq!(scanned(input).first.host_fault, Some(fault), "{input}");
        }
        assert_eq!(
            scanned("a:x/c").first.port_fault,
            Some((Fault::InvalidPort, 2))
        );
        assert_eq!(
            scanned("a:/c").first.port_fault,
            Some((Fault::InvalidPort, 2))
        );
        assert_eq!(scanned("[::1]:80/c").first.host_fault, None);
        assert_eq!(
            scanned("[::1]x/c").first.host_fault,
            Some((Fault::InvalidIpv6, 5))
        );
        assert_eq!(
            scanned("[::1/c").first.host_fault,
            Some((Fault::InvalidIpv6, 0))
        );
        assert_eq!(
            scanned("[::g]/c").first.host_fault,
            Some((Fault::InvalidIpv6, 3))
        );
    }

    #[test]
    fn r6_bad_bytes_and_protocols_are_found_anywhere() {
        assert_eq!(scanned("a/b c").rare.bad_byte, Some((Fault::Whitespace, 3)));
        assert_eq!(
            scanned("a@b\u{1}").rare.bad_byte,
            Some((Fault::ControlCharacter, 3))
        );
        assert_eq!(
            scanned("a:t\u{e9}").rare.bad_byte,
            Some((Fault::NonAscii, 3))
        );
        assert_eq!(scanned("https://a").rare.scheme, Some(5));
        // After the first segment a `://` follows its `/` or `@`, so what
        // stands before it is no scheme and the scan does not record it.
        for input in ["a/https://b", "a@https://b", "a/b:https://c", "a/b:t@x://y"] {
            assert_eq!(scanned(input).rare.scheme, None, "{input}");
            let before = &input[..input.find("://").unwrap()];
            assert!(!is_scheme(before), "{input}");
        }
        assert!(is_scheme("git+ssh") && !is_scheme("1x") && !is_scheme(""));
    }

    #[test]
    fn r1_digests() {
        let hex = "0123456789abcdef".repeat(4);
        let digest = |d: &str| scanned(&format!("a@{d}")).digest_fault;
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
                let _ = scanned(&s);
            }
        }
    }

    /// Scans `s` as a location's first segment and checks it as a host.
    fn hp(s: &str) -> Result<HostPort<'_>, At> {
        host_port(s, &scanned(s).first)
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
    fn r5_a_number_ends_in_a_hex_digit_or_0x() {
        // `host_port` looks for the last label only when the host ends so.
        let alphabet: Vec<u8> = (b'0'..=b'9')
            .chain(b'a'..=b'z')
            .chain(b'A'..=b'Z')
            .collect();
        let mut labels: Vec<Vec<u8>> = alphabet.iter().map(|&a| vec![a]).collect();
        for &a in &alphabet {
            for &b in &alphabet {
                labels.push(vec![a, b]);
                labels.push(vec![b'0', a, b]);
            }
        }
        for label in labels {
            let label = String::from_utf8(label).unwrap();
            let last = *label.as_bytes().last().unwrap();
            if host::ends_in_a_number(&label) {
                assert!(
                    last.is_ascii_hexdigit() || last == b'x' || last == b'X',
                    "{label}"
                );
            }
        }
        assert_eq!(hp("a.0x").unwrap_err(), (Fault::InvalidIpv4, 0));
        assert_eq!(hp("a.0X").unwrap_err(), (Fault::InvalidIpv4, 0));
        assert_eq!(hp("a.bad").unwrap().kind(), HostKind::Domain);
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
        // R4: a host without capitals is compared with the aliases byte for
        // byte, which holds for lowercase aliases only.
        for alias in host::DOCKER_HUB_ALIASES {
            assert_eq!(alias, alias.to_ascii_lowercase());
            assert!(hp(alias).unwrap().is_docker_hub(), "{alias}");
            assert!(
                hp(&alias.to_ascii_uppercase()).unwrap().is_docker_hub(),
                "{alias}"
            );
        }
    }
}
