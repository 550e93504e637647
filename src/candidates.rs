//! Candidate locations for a reference, most specific first (R10–R12).

use std::fmt;
use std::iter::FusedIterator;

use crate::host::suffix;
use crate::host::{HostKind, find_byte, rfind_byte};

/// How a candidate relates to the reference it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CandidateKind {
    /// `host[:port]/n1/…/nj`: a namespace the image is in (R10).
    Namespace,
    /// `host[:port]`: the registry itself (R10).
    Registry,
    /// A parent domain of the host, with the same port (R11).
    ParentDomain,
}

crate::macros::enum_names! {
    /// All three, from the most specific.
    ALL,
    /// How `explain` and serialized resolutions name it: `namespace`,
    /// `registry` or `parent domain`.
    CandidateKind::as_str {
        Namespace => "namespace",
        Registry => "registry",
        ParentDomain => "parent domain",
    }
}

/// One candidate location: a slice of the reference's normalized name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Candidate<'a> {
    location: &'a str,
    kind: CandidateKind,
}

impl<'a> Candidate<'a> {
    /// The location in normal form, as a store holds it.
    pub fn as_str(&self) -> &'a str {
        self.location
    }

    /// How it relates to the reference.
    pub fn kind(&self) -> CandidateKind {
        self.kind
    }
}

impl fmt::Display for Candidate<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.location)
    }
}

impl AsRef<str> for Candidate<'_> {
    fn as_ref(&self) -> &str {
        self.location
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Path,
    Parents,
    Done,
}

/// The candidate locations of a [`Reference`](crate::Reference), most
/// specific first; made by [`Reference::candidates`](crate::Reference::candidates).
///
/// Every candidate is a slice of the normalized name
/// `host[:port]/n1/…/nk/image`: first the namespaces `host[:port]/n1/…/nk`
/// down to `host[:port]/n1` (the image name itself never), then
/// `host[:port]`, then the parent domains of a DNS host, each with the same
/// port, down to the registrable domain. Nothing is allocated.
#[derive(Debug, Clone)]
pub struct Candidates<'a> {
    name: &'a str,
    host_len: usize,
    registry_len: usize,
    host_kind: HostKind,
    /// The next namespace ends at the last `/` before this offset.
    back: usize,
    /// Where the next search for a `.` in the host starts.
    label: usize,
    /// Parent domains start at or before this offset ([`NOT_LOOKED_UP`]
    /// until the first parent is asked for; 0 when there is none).
    registrable: usize,
    phase: Phase,
}

/// [`Candidates::registrable`] before the Public Suffix List is read.
const NOT_LOOKED_UP: usize = usize::MAX;

impl<'a> Candidates<'a> {
    pub(crate) fn new(name: &'a str, host_len: usize, registry_len: usize, kind: HostKind) -> Self {
        Candidates {
            name,
            host_len,
            registry_len,
            host_kind: kind,
            back: name.len(),
            label: 0,
            registrable: 0,
            phase: Phase::Path,
        }
    }

    /// The reference's registry, `host[:port]`.
    #[inline]
    pub(crate) fn registry(&self) -> &'a str {
        &self.name[..self.registry_len]
    }

    fn start_parents(&mut self) {
        self.phase = Phase::Done;
        if self.host_kind != HostKind::Domain {
            return;
        }
        let host = &self.name[..self.host_len];
        // A single label has no parent (R11). A name that is not an IPv4
        // address is a DNS name, whatever its labels look like.
        if rfind_byte(host.as_bytes(), b'.').is_none() {
            return;
        }
        // Where the parents stop is asked of the Public Suffix List when the
        // first parent is: a caller that stops at the registry never reads
        // the list.
        self.registrable = NOT_LOOKED_UP;
        self.phase = Phase::Parents;
    }

    /// Where the parent domains stop, from the Public Suffix List, read
    /// once; `None` when the host has no parent (R11).
    fn registrable(&mut self) -> Option<usize> {
        if self.registrable == NOT_LOOKED_UP {
            self.registrable = suffix::registrable_start(&self.name[..self.host_len])
                .filter(|&r| r > 0)
                .unwrap_or(0);
        }
        (self.registrable > 0).then_some(self.registrable)
    }
}

impl<'a> Iterator for Candidates<'a> {
    type Item = Candidate<'a>;

    #[inline]
    fn next(&mut self) -> Option<Candidate<'a>> {
        loop {
            match self.phase {
                Phase::Path => {
                    let slash = rfind_byte(&self.name.as_bytes()[..self.back], b'/')?;
                    self.back = slash;
                    if slash == self.registry_len {
                        self.start_parents();
                        return Some(Candidate {
                            location: &self.name[..slash],
                            kind: CandidateKind::Registry,
                        });
                    }
                    return Some(Candidate {
                        location: &self.name[..slash],
                        kind: CandidateKind::Namespace,
                    });
                }
                Phase::Parents => {
                    let Some(registrable) = self.registrable() else {
                        self.phase = Phase::Done;
                        continue;
                    };
                    let dot = match find_byte(&self.name[self.label..self.host_len], b'.') {
                        Some(d) => self.label + d,
                        None => {
                            self.phase = Phase::Done;
                            continue;
                        }
                    };
                    let start = dot + 1;
                    if start > registrable {
                        self.phase = Phase::Done;
                        continue;
                    }
                    self.label = start;
                    // As R11 states it, a parent that is a Docker Hub
                    // alias (`x.index.docker.io` -> `index.docker.io`) is
                    // listed too, though it never matches: a location under
                    // an alias is stored as `docker.io` (R4, R7).
                    let location = &self.name[start..self.registry_len];
                    return Some(Candidate {
                        location,
                        kind: CandidateKind::ParentDomain,
                    });
                }
                Phase::Done => return None,
            }
        }
    }
}

impl FusedIterator for Candidates<'_> {}

#[cfg(test)]
mod tests {
    use crate::Reference;

    fn cands(s: &str) -> Vec<String> {
        Reference::parse(s)
            .unwrap()
            .candidates()
            .map(|c| c.to_string())
            .collect()
    }

    #[test]
    fn r10_r11_r12_spec_examples() {
        assert_eq!(cands("nginx"), ["docker.io/library", "docker.io"]);
        assert_eq!(cands("myorg/app:1"), ["docker.io/myorg", "docker.io"]);
        assert_eq!(
            cands("registry.example.com/repo/image:tag"),
            [
                "registry.example.com/repo",
                "registry.example.com",
                "example.com"
            ]
        );
        assert_eq!(
            cands("localhost:5000/a/b/img"),
            ["localhost:5000/a/b", "localhost:5000/a", "localhost:5000"]
        );
        assert_eq!(
            cands("registry.example.com:5000/img"),
            ["registry.example.com:5000", "example.com:5000"]
        );
        assert_eq!(
            cands("10.0.0.1:5000/r/i"),
            ["10.0.0.1:5000/r", "10.0.0.1:5000"]
        );
        assert_eq!(cands("[::1]/i"), ["[::1]"]);
        // R5: a host ending in a number is an IPv4 address or an error,
        // never a DNS name with parent domains (R11).
        assert!(Reference::parse("1.2.3.999/i").is_err());
        assert!(Reference::parse("010.0.0.1/i").is_err());
        assert_eq!(cands("10.0.0.1/i"), ["10.0.0.1"]);
        assert_eq!(cands("a.b.corp/i"), ["a.b.corp", "b.corp"]);
        assert_eq!(
            cands("x.index.docker.io/i"),
            ["x.index.docker.io", "index.docker.io", "docker.io"]
        );
    }

    #[test]
    #[cfg(feature = "psl")]
    fn r11_public_suffix_list() {
        assert_eq!(
            cands("a.b.example.co.uk/x/img"),
            [
                "a.b.example.co.uk/x",
                "a.b.example.co.uk",
                "b.example.co.uk",
                "example.co.uk"
            ]
        );
        assert_eq!(cands("user.github.io/i"), ["user.github.io"]);
    }

    #[test]
    #[cfg(not(feature = "psl"))]
    fn r11_default_rule_without_the_list() {
        assert_eq!(
            cands("a.example.co.uk/img"),
            ["a.example.co.uk", "example.co.uk", "co.uk"]
        );
    }

    #[test]
    fn r10_candidate_as_ref_and_display_are_the_location() {
        let r = Reference::parse("registry.example.com/repo/image").unwrap();
        for c in r.candidates() {
            let s: &str = c.as_ref();
            assert_eq!(s, c.as_str());
            assert_eq!(c.to_string(), c.as_str());
        }
        let texts: Vec<String> = r.candidates().map(|c| c.as_ref().to_owned()).collect();
        assert_eq!(
            texts,
            [
                "registry.example.com/repo",
                "registry.example.com",
                "example.com"
            ]
        );
    }

    /// The iterator ends after the last parent domain, and stays ended
    /// (R10-R12); counted with a bound, so an endless one fails this test
    /// rather than running it on.
    #[test]
    fn r10_r12_candidates_end() {
        for (image, n) in [
            ("registry.example.com/repo/image", 3),
            ("a.b.c.example.com:5000/x/y/z/img", 7),
            ("x.index.docker.io/i", 3),
            ("nginx", 2),
            ("10.0.0.1/a/i", 2),
            ("[::1]/i", 1),
        ] {
            let r = Reference::parse(image).unwrap();
            assert_eq!(r.candidates().take(100).count(), n, "{image}");
            let mut c = r.candidates();
            for _ in 0..n {
                assert!(c.next().is_some());
            }
            assert!(c.next().is_none() && c.next().is_none(), "{image}");
        }
    }

    #[test]
    fn r10_kinds() {
        use crate::candidates::CandidateKind::*;
        let r = Reference::parse("registry.example.com/repo/image").unwrap();
        let kinds: Vec<_> = r.candidates().map(|c| c.kind()).collect();
        assert_eq!(kinds, [Namespace, Registry, ParentDomain]);
    }
}
