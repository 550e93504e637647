//! Public suffixes (R9, R11), from the `psl` crate when the `psl` feature is
//! on. Without it, only the list's default rule applies: the last label alone
//! is a suffix, and single-label names are never refused.

/// True when `host` (a lowercase DNS name) is itself a suffix named by the
/// Public Suffix List, in its ICANN or private section.
#[cfg(feature = "psl")]
pub(crate) fn is_public_suffix(host: &str) -> bool {
    match psl::suffix(host.as_bytes()) {
        Some(s) => s.is_known() && s.as_bytes().len() == host.len(),
        None => false,
    }
}

/// Without the `psl` feature no host is known to be a public suffix.
#[cfg(not(feature = "psl"))]
pub(crate) fn is_public_suffix(_host: &str) -> bool {
    false
}

/// Where the registrable domain of `host` (a lowercase DNS name) starts: the
/// byte offset of its first label, or `None` when the host has no
/// registrable domain (it is a suffix itself, or a single label).
#[cfg(feature = "psl")]
pub(crate) fn registrable_start(host: &str) -> Option<usize> {
    let d = psl::domain(host.as_bytes())?;
    Some(host.len() - d.as_bytes().len())
}

/// The default rule: the registrable domain is the last two labels.
#[cfg(not(feature = "psl"))]
pub(crate) fn registrable_start(host: &str) -> Option<usize> {
    let last_dot = host.rfind('.')?;
    Some(host[..last_dot].rfind('.').map_or(0, |i| i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "psl")]
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

    #[test]
    #[cfg(feature = "psl")]
    fn r11_registrable_domains() {
        assert_eq!(registrable_start("registry.example.com"), Some(9));
        assert_eq!(registrable_start("example.com"), Some(0));
        assert_eq!(registrable_start("a.b.example.co.uk"), Some(4));
        assert_eq!(registrable_start("a.b.corp"), Some(2));
        assert_eq!(registrable_start("co.uk"), None);
        assert_eq!(registrable_start("user.github.io"), Some(0));
    }
}
