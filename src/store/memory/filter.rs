//! The location filter of [`MemoryStore`](super::MemoryStore): which scope
//! kinds may hold a location, read by a resolution once per candidate, in
//! as few cache lines as a reference's candidates allow.
//!
//! Every candidate of a reference (R10–R12) lies under the reference's
//! registry or one of its parent domains, and all of them end in the same
//! last two labels of the host and the same port: the reference's
//! *group*. The filter keeps a location in the bucket of its group, one
//! 64-byte line of seven entries, so a reference whose group holds few
//! locations is answered, for every candidate and every scope, from that
//! one line. A bucket that fills up (Docker Hub's group, say) closes: its
//! entries move to the buckets of their own fingerprints, where every
//! later location of its groups goes too, and a full one of those spills to
//! an overflow table. A location of a closed group costs the line of its
//! own bucket, as in a table of locations alone.
//!
//! Beside the buckets, a summary byte each, small enough to stay in cache
//! where the buckets cannot: whether the bucket is closed, and a bit of
//! each group that has had an entry there. A reference whose group's
//! bucket is open and whose bit is clear has no candidate stored (R15),
//! and is answered from that byte alone.
//!
//! # Entries and what they promise
//!
//! An entry is a word naming a location (a 30-bit fingerprint of its hash,
//! with whether it sits in its group's bucket or in its own) and four
//! saturating counts, one byte per scope kind: how many credentials of
//! that kind hold a location with that word. Locations with one word share
//! the entry, whose counts are their sums, and a count that reaches 255
//! stays, so the filter has false positives and no false negatives: a
//! count of 0 means that no credential of that kind holds the location
//! (R13, R14).
//!
//! Where a location's entry is:
//!
//! - while its group's bucket is open, there, and nowhere else: a bucket
//!   that closes moves every group entry it holds to their own buckets
//!   first, and stays closed until the filter is rebuilt;
//! - once it is closed, in the bucket of its own fingerprint, or, when
//!   that bucket had no room when the entry was made, in the overflow
//!   table (the bucket counts its entries there, and takes no new entry of
//!   a word the table holds).
//!
//! So a look-up reads its group's summary byte, then its group's bucket
//! when that is open, or else the location's own bucket, and the table
//! only when that bucket has sent entries there.

use hashbrown::HashTable;

use crate::scope::ScopeKind;

/// How many entries a bucket holds; its eighth count says how many of its
/// own entries are in the overflow table.
const SLOTS: usize = 7;

/// A count that has reached this stays (see the module's text).
const STUCK: u8 = u8::MAX;

/// The bit of an entry's word that says it is in its own bucket, not its
/// group's.
const OWN: u32 = 2;

/// One cache line: seven entries, and how many it has sent to the
/// overflow table.
///
/// `counts[7]` counts the overflow table's entries whose own bucket this
/// is. Entry words are odd and `words[7]` stays 0, so a look-up compares
/// all eight words at once (two vector compares) and the eighth never
/// matches. Whether the bucket is closed is in the filter's summary byte.
#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct Bucket {
    /// An entry's word, odd; 0 marks a free slot.
    words: [u32; SLOTS + 1],
    /// An entry's counts, byte `k` for `ScopeKind as u8 == k`; never 0 in
    /// a slot that holds an entry.
    counts: [u32; SLOTS + 1],
}

impl Bucket {
    /// The counts of the entry of `word` (odd), or 0 when the bucket holds
    /// none: a word is in one slot at most, and an entry's counts are
    /// never 0.
    #[inline(always)]
    fn counts_of(&self, word: u32) -> u32 {
        let mut counts = 0;
        for (&w, &c) in self.words.iter().zip(&self.counts) {
            counts |= c & 0u32.wrapping_sub(u32::from(w == word));
        }
        counts
    }

    /// The slot holding `word` (0: the first free slot), if any.
    fn slot(&self, word: u32) -> Option<usize> {
        self.words[..SLOTS].iter().position(|&w| w == word)
    }

    fn overflowed(&self) -> u32 {
        self.counts[SLOTS]
    }

    fn overflowed_mut(&mut self) -> &mut u32 {
        &mut self.counts[SLOTS]
    }

    /// Adds `counts` to `slot`'s entry, making it `word`'s when free.
    fn add(&mut self, slot: usize, word: u32, counts: u32) {
        self.words[slot] = word;
        self.counts[slot] = add_counts(self.counts[slot], counts);
    }

    /// Counts `kind` down in `slot`; true when that freed the slot.
    fn remove(&mut self, slot: usize, kind: ScopeKind) -> bool {
        self.counts[slot] = remove_count(self.counts[slot], kind);
        if self.counts[slot] == 0 {
            self.words[slot] = 0;
            return true;
        }
        false
    }
}

/// `a + b`, byte by byte, each sum stuck at 255 when it reaches it.
fn add_counts(a: u32, b: u32) -> u32 {
    let (a, b) = (a.to_le_bytes(), b.to_le_bytes());
    u32::from_le_bytes(std::array::from_fn(|k| a[k].saturating_add(b[k])))
}

/// One credential of `kind`, as counts.
fn one(kind: ScopeKind) -> u32 {
    1 << (8 * kind as u32)
}

/// `counts` with `kind`'s byte one lower, unless it is stuck at 255.
fn remove_count(counts: u32, kind: ScopeKind) -> u32 {
    let mut bytes = counts.to_le_bytes();
    let n = &mut bytes[kind as usize];
    if *n != STUCK {
        *n = n.saturating_sub(1);
    }
    u32::from_le_bytes(bytes)
}

/// The scope kinds a filter's answer names: byte `k` of the answer is not
/// 0 when a credential of `ScopeKind as u8 == k` may hold the location.
pub(super) fn kind_mask(kind: ScopeKind) -> u32 {
    0xff << (8 * kind as u32)
}

/// A reference's group in the filter: its bucket, and its bit in the
/// bucket's summary byte (one of seven; groups that share a bucket may
/// share a bit).
#[derive(Clone, Copy, Debug)]
pub(super) struct Group {
    /// The index of its bucket.
    pub(super) bucket: usize,
    bit: u8,
}

/// What a bucket's summary byte says of a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Presence {
    /// No location of the group is stored (R15).
    Absent,
    /// Its bucket is open and may hold its locations.
    Open,
    /// Its bucket is closed: its locations are in buckets of their own.
    Closed,
}

/// The summary byte's bit of a closed bucket.
const CLOSED_BIT: u8 = 0x80;

/// The word of a location in its group's bucket: the high half of its
/// hash, odd and without the [`OWN`] bit.
fn group_word_of(location: u64) -> u32 {
    ((location >> 32) as u32 & !OWN) | 1
}

/// A registry's group word: the last two labels of its host and its port
/// (`example.com:5000` of `registry.example.com:5000`), or their last
/// eight bytes when they are longer, as a big-endian word.
///
/// Every candidate of a reference (R10–R12) is under a registry that ends
/// in its reference's last two labels and port (a parent domain keeps the
/// port and at least two labels), so every one has the word of the
/// reference's registry. A registry of fewer than two labels (an address,
/// `localhost`) has no parent domains, and its word is any function of it.
pub(super) fn group_word(bytes: &[u8]) -> u64 {
    // Big-endian: the registry's last byte is the word's lowest.
    let word = match bytes.last_chunk::<8>() {
        Some(last) => u64::from_be_bytes(*last),
        None => bytes.iter().fold(0, |w, &b| (w << 8) | u64::from(b)),
    };
    // A byte of 0x80 where the word holds a dot. The subtraction's borrow
    // can mark the byte before a dot too, but only when that byte is `/`,
    // which no registry holds.
    const ONES: u64 = 0x0101_0101_0101_0101;
    let differs = word ^ (0x2e * ONES);
    let dots = differs.wrapping_sub(ONES) & !differs & (0x80 * ONES);
    // Without the last dot (the lowest), the lowest left is the one before
    // the last two labels: keep the bytes below it (most registries have
    // none in their last eight bytes, and keep every byte).
    let before = dots & dots.wrapping_sub(1);
    if before == 0 {
        return word;
    }
    word & ((before & before.wrapping_neg()) >> 7).wrapping_sub(1)
}

/// The filter: buckets of groups and of fingerprints, and an overflow
/// table behind them.
pub(super) struct LocationFilter {
    /// A power of two of them, at least one.
    buckets: Vec<Bucket>,
    /// A byte per bucket, small enough to stay in the second-level cache:
    /// [`CLOSED_BIT`] when the bucket is closed, and a bit of each group
    /// that has had an entry there since the filter was built (see
    /// [`Group`]). A group whose bucket is open and whose bit is clear
    /// holds no location.
    summary: Vec<u8>,
    /// The seed of the group words' hash (the store's own, so one store's
    /// layout repeats with its hash seed).
    seed: u64,
    /// Entries in the buckets' slots.
    used: usize,
    /// Entries no bucket had room for, by word.
    overflow: HashTable<(u32, u32)>,
}

impl LocationFilter {
    /// An empty filter of `buckets` buckets (a power of two).
    pub(super) fn new(buckets: usize, seed: u64) -> Self {
        debug_assert!(buckets.is_power_of_two());
        LocationFilter {
            buckets: vec![Bucket::default(); buckets],
            summary: vec![0; buckets],
            seed,
            used: 0,
            overflow: HashTable::new(),
        }
    }

    /// How many buckets it has.
    pub(super) fn buckets(&self) -> usize {
        self.buckets.len()
    }

    /// Whether it holds more than four entries a bucket: time for twice
    /// the buckets (the store rebuilds it from its credentials). That is 8
    /// to 16 bytes an entry, what a table of locations alone spends (9 a
    /// slot, 44–88 % full); at four a bucket, about one bucket in twenty
    /// fills by chance and closes (a Poisson count of mean 4 over 7), and
    /// one in a thousand after the filter has grown (mean 2).
    pub(super) fn is_crowded(&self) -> bool {
        self.used + self.overflow.len() > 4 * self.buckets.len()
    }

    /// How many entries it holds, in the buckets and behind them.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.used + self.overflow.len()
    }

    /// How many buckets are closed, and how many entries are in the
    /// overflow table.
    #[cfg(test)]
    pub(super) fn spilled(&self) -> (usize, usize) {
        let closed = self
            .summary
            .iter()
            .filter(|&&s| s & CLOSED_BIT != 0)
            .count();
        (closed, self.overflow.len())
    }

    /// The bucket of a registry's group (see [`group_word`]) and its bit in
    /// the summary: the high bits of a multiplicative hash, which every
    /// bit of the word reaches (the low bits would not see the word's
    /// first bytes), and three of its low bits.
    #[inline]
    pub(super) fn group(&self, registry: &[u8]) -> Group {
        let hash = (group_word(registry) ^ self.seed).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        Group {
            bucket: self.bucket_of(hash),
            bit: 1 << (hash as u32 >> 8 & 7).min(6),
        }
    }

    /// What the summary says of `group`, without reading its bucket.
    #[inline]
    pub(super) fn presence(&self, group: Group) -> Presence {
        let summary = self.summary[group.bucket];
        if summary & CLOSED_BIT != 0 {
            Presence::Closed
        } else if summary & group.bit != 0 {
            Presence::Open
        } else {
            Presence::Absent
        }
    }

    /// Whether the bucket `group` is closed.
    fn is_closed(&self, group: usize) -> bool {
        self.summary[group] & CLOSED_BIT != 0
    }

    /// The bucket of a hash, from its high bits.
    #[inline]
    fn bucket_of(&self, hash: u64) -> usize {
        ((u128::from(hash) * self.buckets.len() as u128) >> 64) as usize
    }

    /// The own bucket of an entry's word: a hash of its fingerprint bits.
    #[inline]
    fn own(&self, word: u32) -> usize {
        self.bucket_of(u64::from(word >> 2).wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    /// The scope kinds that may hold the location with hash `location`,
    /// whose group's bucket is `group`, closed when `closed` (as
    /// [`presence`](Self::presence) says): see [`kind_mask`].
    #[inline]
    pub(super) fn kinds(&self, group: usize, closed: bool, location: u64) -> u32 {
        let word = group_word_of(location);
        if !closed {
            return self.buckets[group].counts_of(word);
        }
        self.kinds_in_own(word | OWN)
    }

    /// [`kinds`](Self::kinds) of a location whose group's bucket is
    /// closed, by its own word.
    #[inline]
    fn kinds_in_own(&self, word: u32) -> u32 {
        let bucket = &self.buckets[self.own(word)];
        let counts = bucket.counts_of(word);
        if counts != 0 || bucket.overflowed() == 0 {
            return counts;
        }
        self.overflow
            .find(overflow_hash(word), |e| e.0 == word)
            .map_or(0, |e| e.1)
    }

    /// Counts a credential of `kind` at the location with hash `location`,
    /// whose group's bucket is `group`.
    pub(super) fn add(&mut self, group: Group, location: u64, kind: ScopeKind) {
        let word = group_word_of(location);
        if !self.is_closed(group.bucket) {
            let bucket = &mut self.buckets[group.bucket];
            if let Some(slot) = bucket.slot(word).or_else(|| bucket.slot(0)) {
                if bucket.words[slot] == 0 {
                    self.used += 1;
                }
                bucket.add(slot, word, one(kind));
                // Whether the entry is new or another group's of the same
                // word: the group has an entry here.
                self.summary[group.bucket] |= group.bit;
                return;
            }
            self.close(group.bucket);
        }
        self.add_own(word | OWN, one(kind));
    }

    /// Closes the bucket `group`: its group entries move to their own
    /// buckets.
    fn close(&mut self, group: usize) {
        self.summary[group] |= CLOSED_BIT;
        let bucket = &mut self.buckets[group];
        let mut moved = [(0, 0); SLOTS];
        for (m, slot) in moved.iter_mut().zip(0..SLOTS) {
            let word = bucket.words[slot];
            if word & OWN == 0 && word != 0 {
                *m = (word, bucket.counts[slot]);
                bucket.words[slot] = 0;
                bucket.counts[slot] = 0;
                self.used -= 1;
            }
        }
        for (word, counts) in moved {
            if word != 0 {
                self.add_own(word | OWN, counts);
            }
        }
    }

    /// Adds `counts` to the entry of `word` (with the [`OWN`] bit) in its
    /// own bucket or the overflow table.
    fn add_own(&mut self, word: u32, counts: u32) {
        let own = self.own(word);
        let bucket = &mut self.buckets[own];
        if let Some(slot) = bucket.slot(word) {
            bucket.add(slot, word, counts);
            return;
        }
        let hash = overflow_hash(word);
        if bucket.overflowed() > 0 {
            if let Some(e) = self.overflow.find_mut(hash, |e| e.0 == word) {
                e.1 = add_counts(e.1, counts);
                return;
            }
        }
        if let Some(slot) = bucket.slot(0) {
            bucket.add(slot, word, counts);
            self.used += 1;
            return;
        }
        *bucket.overflowed_mut() += 1;
        self.overflow
            .insert_unique(hash, (word, counts), |e| overflow_hash(e.0));
    }

    /// Counts down a credential of `kind` that [`add`](Self::add) counted
    /// with the same `group` and `location`.
    pub(super) fn remove(&mut self, group: Group, location: u64, kind: ScopeKind) {
        let word = group_word_of(location);
        if !self.is_closed(group.bucket) {
            let bucket = &mut self.buckets[group.bucket];
            if let Some(slot) = bucket.slot(word) {
                if bucket.remove(slot, kind) {
                    self.used -= 1;
                }
            }
            return;
        }
        let word = word | OWN;
        let own = self.own(word);
        let bucket = &mut self.buckets[own];
        if let Some(slot) = bucket.slot(word) {
            if bucket.remove(slot, kind) {
                self.used -= 1;
            }
            return;
        }
        if let Ok(mut entry) = self
            .overflow
            .find_entry(overflow_hash(word), |e| e.0 == word)
        {
            let counts = &mut entry.get_mut().1;
            *counts = remove_count(*counts, kind);
            if *counts == 0 {
                entry.remove();
                *bucket.overflowed_mut() -= 1;
            }
        }
    }
}

/// The overflow table's hash of a word.
fn overflow_hash(word: u32) -> u64 {
    u64::from(word).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The group word of each registry of `image`'s candidates.
    fn words(image: &str) -> Vec<(String, u64)> {
        let r: crate::Reference = image.parse().unwrap();
        r.candidates()
            .map(|c| {
                let l: crate::Location = c.as_str().parse().unwrap();
                (c.to_string(), group_word(l.registry().as_bytes()))
            })
            .collect()
    }

    /// Every candidate of a reference has its registry's group word, so a
    /// resolution reads one group's bucket for all of them (R10–R12).
    #[test]
    fn r10_r11_r12_every_candidate_has_its_references_group_word() {
        for image in [
            "nginx",
            "registry.example.com/repo/image",
            "a.b.c.registry.example.com/a/b/c/image",
            "registry.example.com:5000/img",
            "x.index.docker.io/i",
            "a.b.corp/i",
            "a.b.example.co.uk/x/img",
            "r1.nowhere12345678.io/team/img",
            "localhost:5000/a/b/img",
            "10.0.0.1:5000/r/i",
            "[::1]/i",
            "[fd00::1f]:5000/team/i",
            "ghcr.io/o/i",
            "a.io/i",
            "b.a.io/i",
        ] {
            let r: crate::Reference = image.parse().unwrap();
            let want = group_word(r.registry().as_bytes());
            for (c, w) in words(image) {
                assert_eq!(w, want, "{image}: {c}");
            }
        }
    }

    /// The word is the last two labels and the port, or their last eight
    /// bytes.
    #[test]
    fn group_words_are_the_last_two_labels_and_the_port() {
        let text = |s: &str| {
            let w = group_word(s.as_bytes()).to_be_bytes();
            String::from_utf8(w.iter().copied().skip_while(|&b| b == 0).collect()).unwrap()
        };
        for (registry, word) in [
            ("registry.example.com", "mple.com"),
            ("a.b.io", "b.io"),
            ("x.b.io", "b.io"),
            ("b.io", "b.io"),
            ("docker.io", "ocker.io"),
            ("x.index.docker.io", "ocker.io"),
            ("a.b:5000", "a.b:5000"),
            ("x.a.b:5000", "a.b:5000"),
            ("ghcr.io", "ghcr.io"),
            ("localhost", "ocalhost"),
            ("a", "a"),
            ("", ""),
        ] {
            assert_eq!(text(registry), word, "{registry}");
        }
    }

    /// A filter whose every location spills past its group: one bucket.
    fn tiny() -> LocationFilter {
        LocationFilter::new(1, 0)
    }

    /// The group of bucket `bucket` with the summary's first bit.
    fn g(bucket: usize) -> Group {
        Group { bucket, bit: 1 }
    }

    /// The kinds a filter's answer names.
    fn named(counts: u32) -> Vec<ScopeKind> {
        ScopeKind::ALL
            .into_iter()
            .filter(|&k| counts & kind_mask(k) != 0)
            .collect()
    }

    /// The filter names every scope kind that holds a location and, while
    /// counts stay under 255, no other, at each of its three places; a
    /// count that reached 255 stays, so it never hides a credential (R13,
    /// R14).
    #[test]
    fn r14_the_filter_never_hides_a_stored_kind() {
        use ScopeKind::{App, Foundation, Org, Space};
        // Nothing first, then the one bucket full, then the overflow too.
        for spilled in [0, 7, 14] {
            let mut f = tiny();
            for i in 0..spilled {
                f.add(g(0), (4 * i + 400) << 32, App);
            }
            let (a, b) = (4 << 32, 8 << 32);
            assert_eq!(f.kinds(0, f.is_closed(0), a), 0);
            f.add(g(0), a, Org);
            f.add(g(0), a, Org);
            f.add(g(0), a, Foundation);
            f.add(g(0), b, App);
            assert_eq!(
                named(f.kinds(0, f.is_closed(0), a)),
                [Org, Foundation],
                "{spilled}"
            );
            assert_eq!(named(f.kinds(0, f.is_closed(0), b)), [App], "{spilled}");
            f.remove(g(0), a, Org);
            assert_eq!(
                named(f.kinds(0, f.is_closed(0), a)),
                [Org, Foundation],
                "{spilled}"
            );
            f.remove(g(0), a, Org);
            f.remove(g(0), a, Foundation);
            assert_eq!(f.kinds(0, f.is_closed(0), a), 0, "{spilled}");
            assert_eq!(
                f.len(),
                spilled as usize + 1,
                "an entry whose counts are all 0 goes"
            );
            for _ in 0..300 {
                f.add(g(0), b, Space);
            }
            for _ in 0..300 {
                f.remove(g(0), b, Space);
            }
            assert_eq!(
                named(f.kinds(0, f.is_closed(0), b)),
                [App, Space],
                "a count that reached 255 stays ({spilled})"
            );
        }
    }

    /// A group with no location is absent until one of its locations is
    /// added; a closed bucket says so for every group of it; a group keeps
    /// its bit after its locations go, until the filter is rebuilt (R15).
    #[test]
    fn r15_the_summary_names_absent_groups() {
        let mut f = LocationFilter::new(2, 0);
        let (a, b) = (Group { bucket: 0, bit: 1 }, Group { bucket: 0, bit: 2 });
        assert_eq!(f.presence(a), Presence::Absent);
        f.add(a, 4 << 32, ScopeKind::App);
        assert_eq!(f.presence(a), Presence::Open);
        assert_eq!(
            f.presence(b),
            Presence::Absent,
            "another group of the bucket"
        );
        f.remove(a, 4 << 32, ScopeKind::App);
        assert_eq!(f.presence(a), Presence::Open, "the bit stays");
        for i in 0..8 {
            f.add(b, (4 * i + 400) << 32, ScopeKind::Org);
        }
        assert_eq!(f.presence(a), Presence::Closed);
        assert_eq!(f.presence(Group { bucket: 0, bit: 4 }), Presence::Closed);
        assert_eq!(f.presence(Group { bucket: 1, bit: 1 }), Presence::Absent);
    }

    /// A model check: random adds and removes over few buckets, so that
    /// entries spill to every place and buckets free slots while they
    /// have turned credits away; every location held by a kind is named
    /// for that kind, and when everything is removed the filter is empty
    /// (R13, R14).
    #[test]
    fn r14_the_filter_never_hides_a_location_whatever_the_order() {
        use std::collections::BTreeMap;
        let mut state = 0x243f_6a88_85a3_08d3_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for buckets in [1, 2, 4] {
            let mut f = LocationFilter::new(buckets, 9);
            // (group, location, kind) -> how many are held.
            let mut held: BTreeMap<(usize, u64, u8), u32> = BTreeMap::new();
            // Three groups, each with a bucket and a summary bit of its own.
            let group = |id: usize| Group {
                bucket: id & (buckets - 1),
                bit: 1 << id,
            };
            let mut overflowed = false;
            for _ in 0..20_000 {
                let r = next();
                // Few distinct groups and fingerprints, so they collide.
                let id = (r % 3) as usize;
                let location = (((r >> 8) % 40) << 32) | ((r >> 16) % 8);
                let kind = ScopeKind::ALL[(r >> 24) as usize % 4];
                let key = (id, location, kind as u8);
                if (r >> 40) & 1 == 0 {
                    f.add(group(id), location, kind);
                    *held.entry(key).or_default() += 1;
                } else if let Some(n) = held.get_mut(&key) {
                    f.remove(group(id), location, kind);
                    *n -= 1;
                    if *n == 0 {
                        held.remove(&key);
                    }
                }
                overflowed |= !f.overflow.is_empty();
                for (&(id, l, k), _) in held.iter().take(64) {
                    let g = group(id);
                    assert_ne!(f.presence(g), Presence::Absent, "{id} {l:x} {k}");
                    assert_ne!(
                        f.kinds(g.bucket, f.is_closed(g.bucket), l) & (0xff << (8 * k)),
                        0,
                        "{id} {l:x} {k}"
                    );
                }
            }
            for (&(id, l, k), &n) in &held {
                let g = group(id);
                assert_ne!(f.presence(g), Presence::Absent, "{id} {l:x} {k}");
                assert_ne!(
                    f.kinds(g.bucket, f.is_closed(g.bucket), l) & (0xff << (8 * k)),
                    0,
                    "{id} {l:x} {k}"
                );
                for _ in 0..n {
                    f.remove(g, l, ScopeKind::ALL[usize::from(k)]);
                }
            }
            assert!(overflowed, "the overflow table was used");
            assert!(f.spilled().0 > 0, "a bucket closed");
            assert_eq!(f.len(), 0, "every count went back to 0");
            for b in &f.buckets {
                assert_eq!(b.overflowed(), 0);
            }
        }
    }
}
