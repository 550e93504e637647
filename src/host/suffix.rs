//! Public suffixes (R9, R11), from the `psl` crate when the `psl` feature is
//! on. Without it, only the list's default rule applies: the last label alone
//! is a suffix, and single-label names are never refused.

/// True when `host` (a lowercase DNS name) is itself a suffix named by the
/// Public Suffix List, in its ICANN or private section, or the root of one
/// of its wildcard rules (R9).
#[cfg(feature = "psl")]
pub(crate) fn is_public_suffix(host: &str) -> bool {
    let listed = match psl::suffix(host.as_bytes()) {
        Some(s) => s.is_known() && s.as_bytes().len() == host.len(),
        None => false,
    };
    listed || is_wildcard_root(host)
}

/// True when `host` is the root of a wildcard rule (`ck` of `*.ck`,
/// `kawasaki.jp` of `*.kawasaki.jp`), so that every name one label below it
/// is a public suffix (R9).
///
/// The `psl` crate answers for whole names only, so this asks about a name
/// one label below `host`: when the list's suffix of `-.host` is that whole
/// name, a rule matched the new label, and only a wildcard can match a label
/// nobody registers (`-` is not a valid DNS label, so no explicit rule names
/// it). An exception rule (`!city.kawasaki.jp`) makes the suffix of
/// `-.city.kawasaki.jp` `kawasaki.jp`, and a plain private rule such as
/// `github.io` makes the suffix of `-.github.io` `github.io`: neither is a
/// root.
#[cfg(feature = "psl")]
fn is_wildcard_root(host: &str) -> bool {
    const PROBE: &[u8] = b"-.";
    // No normalized name is longer than 255 characters (R1, R7), so no
    // host is.
    const MAX_HOST_LEN: usize = 255;
    let mut below = [0u8; PROBE.len() + MAX_HOST_LEN];
    let Some(room) = below.get_mut(PROBE.len()..PROBE.len() + host.len()) else {
        return false; // longer than any host a reference or location holds
    };
    room.copy_from_slice(host.as_bytes());
    below[..PROBE.len()].copy_from_slice(PROBE);
    let name = &below[..PROBE.len() + host.len()];
    match psl::suffix(name) {
        Some(s) => s.is_known() && s.as_bytes().len() == name.len(),
        None => false,
    }
}

/// Without the `psl` feature no host is known to be a public suffix.
#[cfg(not(feature = "psl"))]
pub(crate) fn is_public_suffix(_host: &str) -> bool {
    false
}

/// Where the last parent domain of `host` (a lowercase DNS name) starts
/// (R11): the byte offset of the first label of the shortest name, from
/// `host` up, that has at least two labels and is neither a public suffix
/// nor above one. `None` when there is no such name.
///
/// For a host under a public suffix that is its registrable domain. A host
/// that is a public suffix itself has none, but R11 still climbs from it
/// while the names above are not suffixes: `s3.amazonaws.com` (a private
/// rule) has the parent `amazonaws.com`, as the wildcard root
/// `compute.amazonaws.com` does, while `co.uk`'s parent `uk` is one label.
#[cfg(feature = "psl")]
pub(crate) fn registrable_start(host: &str) -> Option<usize> {
    let Some(d) = psl::domain(host.as_bytes()) else {
        // `host` is a suffix: go on from its parent when that is not one.
        let parent_at = host.find('.')? + 1;
        let parent = &host[parent_at..];
        if !parent.contains('.') || is_public_suffix(parent) {
            return None;
        }
        return registrable_start(parent).map(|r| parent_at + r);
    };
    let start = host.len() - d.as_bytes().len();
    // The list's own answer never names a wildcard root (its suffix would
    // be one label longer); the check keeps R11 from climbing to one
    // whatever the list's snapshot says.
    let root = host.get(start..).is_none_or(is_wildcard_root);
    (!root).then_some(start)
}

/// The default rule: the registrable domain is the last two labels.
#[cfg(not(feature = "psl"))]
pub(crate) fn registrable_start(host: &str) -> Option<usize> {
    let last_dot = host.rfind('.')?;
    Some(host[..last_dot].rfind('.').map_or(0, |i| i + 1))
}

// Every test here reads the Public Suffix List.
#[cfg(all(test, feature = "psl"))]
mod tests {
    use super::*;

    #[test]
    fn r9_known_suffixes() {
        for s in ["com", "co.uk", "github.io", "uk"] {
            assert!(is_public_suffix(s), "{s}");
        }
        for s in [
            "example.com",
            "localhost",
            "registry",
            "example.co.uk",
            "corp.internal",
        ] {
            assert!(!is_public_suffix(s), "{s}");
        }
    }

    /// R11: where each host's registrable domain starts, if anywhere: the
    /// parent-domain candidates stop there.
    #[test]
    fn r11_registrable_domains() {
        let starts = [
            ("registry.example.com", 9),
            ("example.com", 0),
            ("a.b.example.co.uk", 4),
            ("a.b.corp", 2),
            ("user.github.io", 0),
            // A host that is a public suffix itself still climbs while the
            // names above it are not (as R11 states it): `s3.amazonaws.com`
            // and `wien.funkfeuer.at` are private rules, their parents not.
            ("s3.amazonaws.com", 3),
            ("wien.funkfeuer.at", 5),
            ("s3.cn-north-1.amazonaws.com.cn", 14),
            // A registrable domain is never a wildcard root (`*.ck` with
            // the exception `!www.ck`, `*.kawasaki.jp` with
            // `!city.kawasaki.jp`).
            ("a.b.example.ck", 2),
            ("a.www.ck", 2),
            ("a.b.city.kawasaki.jp", 4),
            ("a.b.kawasaki.jp", 0),
        ];
        for (host, start) in starts {
            assert_eq!(registrable_start(host), Some(start), "{host}");
        }
        // None where the parent is a suffix or one label, or the host a
        // wildcard root.
        for host in ["co.uk", "github.io", "kawasaki.jp", "foo.kawasaki.jp", "ck"] {
            assert_eq!(registrable_start(host), None, "{host}");
        }
    }

    #[test]
    fn r9_wildcard_roots_are_public_suffixes() {
        // `*.ck` with the exception `!www.ck`; `*.kawasaki.jp` with
        // `!city.kawasaki.jp`.
        for s in ["ck", "kawasaki.jp", "example.ck", "foo.kawasaki.jp"] {
            assert!(is_public_suffix(s), "{s}");
        }
        assert!(is_wildcard_root("ck"));
        assert!(is_wildcard_root("kawasaki.jp"));
        // Exceptions are registrable; plain rules have no wildcard below.
        for s in [
            "city.kawasaki.jp",
            "www.ck",
            "example.com",
            "localhost",
            "registry.example.ck",
        ] {
            assert!(!is_public_suffix(s), "{s}");
        }
        for s in [
            "co.uk",
            "github.io",
            "com",
            "example.com",
            "www.ck",
            "city.kawasaki.jp",
        ] {
            assert!(!is_wildcard_root(s), "{s}");
        }
        assert!(!is_wildcard_root(&"a".repeat(400)));
    }
}
