//! Lower bounds: the least work each hot path must do, written plainly, so
//! that the instruction-count benches (`benches/icount.rs`) show ours
//! beside what the work itself costs.
//!
//! - [`scan`] for parsing: one pass over the bytes that checks each against
//!   a 256-entry table and finds the first `/`, the last `:` and the `@`.
//!   It validates nothing else and builds nothing.
//! - [`candidates`] for candidate generation: one backward pass over the
//!   normalized name, a slice at each `/` of the path and each `.` of the
//!   host (no Public Suffix List, which ours consults).
//! - [`KeyTable`] for resolution: a bare hash probe of the same (scope,
//!   location) keys the resolution plan probes, in one table with the
//!   store's hash function, stopping at the first hit.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use registry_credentials::store::Key;
use registry_credentials::{RegistryCredential, ScopeKind};

// The bound scanner's byte classes.
const INVALID: u8 = 0;
const NAME: u8 = 1;
const SLASH: u8 = 2;
const COLON: u8 = 3;
const AT: u8 = 4;

/// The class of every byte: what a reference may hold at all.
static CLASS: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut b: u8 = 0;
    loop {
        t[b as usize] = match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'_' | b'-' | b'+' | b'[' | b']' => {
                NAME
            }
            b'/' => SLASH,
            b':' => COLON,
            b'@' => AT,
            _ => INVALID,
        };
        if b == u8::MAX {
            break;
        }
        b += 1;
    }
    t
};

/// What the bound scanner finds: where the separators are, and whether
/// every byte is one a reference may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marks {
    /// The first `/`.
    pub slash: Option<usize>,
    /// The last `:` (a port's or a tag's).
    pub colon: Option<usize>,
    /// The `@` before a digest.
    pub at: Option<usize>,
    /// Every byte is in the table.
    pub valid: bool,
}

/// One pass over `s`: each byte's class from the table, the first `/`,
/// the last `:` and the first `@` (a parse's least work).
#[inline(never)]
pub fn scan(s: &str) -> Marks {
    let mut marks = Marks {
        slash: None,
        colon: None,
        at: None,
        valid: true,
    };
    for (i, &b) in s.as_bytes().iter().enumerate() {
        match CLASS[usize::from(b)] {
            NAME => {}
            SLASH => {
                if marks.slash.is_none() {
                    marks.slash = Some(i);
                }
            }
            COLON => marks.colon = Some(i),
            AT => {
                if marks.at.is_none() {
                    marks.at = Some(i);
                }
            }
            _ => marks.valid = false,
        }
    }
    marks
}

/// Every candidate of a normalized name `host[:port]/path` in one backward
/// pass: each namespace prefix, the registry, then each parent domain down
/// to two labels. Returns how many there were and the last (the least
/// specific), as the benches check.
#[inline(never)]
pub fn candidates(name: &str) -> (usize, &str) {
    let b = name.as_bytes();
    let registry_end = b.iter().position(|&c| c == b'/').unwrap_or(b.len());
    let mut count = 0;
    let mut last = name;
    // The namespace prefixes, longest first: at each `/` after the
    // registry's, backwards (the image name itself is no candidate).
    let mut i = b.len();
    while i > registry_end {
        i -= 1;
        if b[i] == b'/' {
            count += 1;
            last = &name[..i];
        }
    }
    // The parent domains, longest first: after each `.` of the host but
    // the last, each with the port.
    let host_end = b[..registry_end]
        .iter()
        .rposition(|&c| c == b':')
        .unwrap_or(registry_end);
    let last_dot = b[..host_end].iter().rposition(|&c| c == b'.').unwrap_or(0);
    for (j, &c) in b[..last_dot].iter().enumerate() {
        if c == b'.' {
            count += 1;
            last = &name[j + 1..registry_end];
        }
    }
    (count, last)
}

/// A scope key's kind as one byte, as the SQL schema's `scope_kind` codes
/// it.
pub fn kind_code(kind: ScopeKind) -> u8 {
    match kind {
        ScopeKind::App => 0,
        ScopeKind::Space => 1,
        ScopeKind::Org => 2,
        ScopeKind::Foundation => 3,
    }
}

/// A (scope kind, scope id, location) key, borrowed.
type Probe<'a> = (u8, &'a str, &'a str);

/// The keys of stored credentials in one hash table, with the hash
/// `MemoryStore` uses (foldhash's fast hash, here with a fixed seed so that
/// the probes, and so the count, are the same in every build): the bare
/// probe a resolution cannot do without.
pub struct KeyTable {
    hasher: FixedState,
    table: HashTable<(u8, Box<str>, Box<str>)>,
}

impl KeyTable {
    /// A table of the keys of `credentials`.
    pub fn new<'c>(credentials: impl IntoIterator<Item = &'c RegistryCredential>) -> Self {
        let hasher = FixedState::with_seed(0x5eed);
        let mut table = HashTable::new();
        for c in credentials {
            let entry = (
                kind_code(c.scope().kind()),
                Box::from(c.scope().id().unwrap_or("")),
                Box::from(c.location().as_str()),
            );
            let hash = hasher.hash_one((entry.0, &*entry.1, &*entry.2));
            table.insert_unique(hash, entry, |e| hasher.hash_one((e.0, &*e.1, &*e.2)));
        }
        KeyTable { hasher, table }
    }

    /// The plan's keys as this table's probes, made outside the measured
    /// part.
    pub fn probes<'k>(keys: &[Key<'k>]) -> Vec<Probe<'k>> {
        keys.iter()
            .map(|k| {
                let scope = k.scope();
                (
                    kind_code(scope.kind()),
                    scope.id().unwrap_or(""),
                    k.location(),
                )
            })
            .collect()
    }

    /// The index of the first probe that is in the table (`None` when no
    /// key is): hash and compare each key in order, stopping at a hit.
    #[inline(never)]
    pub fn first(&self, probes: &[Probe<'_>]) -> Option<usize> {
        probes.iter().position(|p| self.contains(p))
    }

    /// How many of the probes are in the table: every key probed, as an
    /// explanation does.
    #[inline(never)]
    pub fn count(&self, probes: &[Probe<'_>]) -> usize {
        probes.iter().filter(|p| self.contains(p)).count()
    }

    fn contains(&self, &(kind, id, location): &Probe<'_>) -> bool {
        let hash = self.hasher.hash_one((kind, id, location));
        self.table
            .find(hash, |e| e.0 == kind && &*e.1 == id && &*e.2 == location)
            .is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use registry_credentials::Reference;

    #[test]
    fn scan_finds_the_separators_and_bad_bytes() {
        let m = scan("registry.example.com:5000/repo/image:tag@sha256:ab");
        assert_eq!(m.slash, Some(25));
        assert_eq!(m.colon, Some(47));
        assert_eq!(m.at, Some(40));
        assert!(m.valid);
        assert!(!scan("a b").valid);
        assert!(!scan("caf\u{e9}").valid);
        assert_eq!(scan("nginx").slash, None);
    }

    #[test]
    fn candidates_bound_lists_what_ours_lists_without_the_suffix_list() {
        for input in crate::inputs::inputs() {
            let r = Reference::parse(&input.text).unwrap();
            let ours: Vec<String> = r.candidates().map(|c| c.to_string()).collect();
            let (count, last) = candidates(r.name());
            assert_eq!(
                (count, last),
                (ours.len(), ours.last().unwrap().as_str()),
                "{}",
                input.case
            );
        }
    }

    #[test]
    fn key_table_finds_stored_keys_and_nothing_else() {
        let store = registry_credentials::MemoryStore::new();
        let workload = registry_credentials::workload::Workload::new(1_000);
        workload.fill(&store).unwrap();
        let all = registry_credentials::CredentialStore::list_all(&store).unwrap();
        let table = KeyTable::new(all.iter().map(|c| &**c));
        let keys: Vec<Key<'_>> = all.iter().map(|c| Key::of(c)).collect();
        let probes = KeyTable::probes(&keys);
        assert_eq!(table.count(&probes), all.len());
        assert_eq!(table.first(&probes), Some(0));
        assert_eq!(table.first(&[(3, "", "nowhere.example")]), None);
    }
}
