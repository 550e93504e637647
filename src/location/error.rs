//! Why a registry location could not be parsed.
//!
//! A [`LocationError`] carries a [`LocationErrorKind`], the byte offset of
//! the fault and, where one can be worked out and is itself a valid
//! location, the corrected input ([`hint`](LocationError::hint)). Messages
//! are lowercase, name the input ("registry location"), the part and the
//! fix, and never repeat what stands before an `@`, which may be a password.

use std::fmt;

use crate::reference::MAX_NAME_LEN;
use crate::syntax::Fault;

/// What is wrong with a registry location (R7–R9): a [`Fault`] of the
/// grammar references and locations share, or one of the location's own.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocationErrorKind {
    /// The input is empty.
    Empty,
    /// The text breaks the shared grammar ([`Fault`]). Faults of a tag or
    /// a digest are [`Tag`](Self::Tag) and [`Digest`](Self::Digest) here:
    /// a location has neither.
    Syntax(Fault),
    /// A port after the path (`host/path:5000`) (R8).
    PortAfterPath,
    /// A tag (`host/repo:tag`) (R8).
    Tag,
    /// A digest (`host/repo@sha256:…`) (R8).
    Digest,
    /// The host is a public suffix (`com`, `co.uk`, `github.io`) or the root
    /// of a wildcard rule (`ck`) (R9).
    PublicSuffix,
    /// The normal form is longer than [`MAX_NAME_LEN`] characters (R7).
    NameTooLong {
        /// The normal form's length.
        len: usize,
    },
}

impl From<Fault> for LocationErrorKind {
    fn from(f: Fault) -> Self {
        use LocationErrorKind as K;
        match f {
            Fault::EmptyTag | Fault::InvalidTag | Fault::TagTooLong => K::Tag,
            Fault::InvalidDigest
            | Fault::InvalidDigestAlgorithm
            | Fault::InvalidDigestHex
            | Fault::DigestTooLong => K::Digest,
            other => K::Syntax(other),
        }
    }
}

impl fmt::Display for LocationErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use LocationErrorKind as K;
        match self {
            K::Empty => {
                f.write_str("it is empty; name a registry host such as `registry.example.com`")
            }
            K::Syntax(fault) => fault.fmt(f),
            K::PortAfterPath => {
                f.write_str("a port goes right after the host, not after the path")
            }
            K::Tag => f.write_str("a location has no tag; leave the tag out"),
            K::Digest => f.write_str("a location has no digest; leave the digest out"),
            K::PublicSuffix => f.write_str(
                "the host is a public suffix, which no registry serves from; name the registry's own host",
            ),
            K::NameTooLong { len } => write!(
                f,
                "it is {len} characters long in normal form, more than {MAX_NAME_LEN}; shorten the path"
            ),
        }
    }
}

crate::macros::syntax_error! {
    /// Why a registry location could not be parsed.
    ///
    /// ```
    /// use registry_credentials::location::{Location, LocationErrorKind};
    /// let e = Location::parse("registry.example.com/path/to/repo:5000").unwrap_err();
    /// assert_eq!(e.kind(), &LocationErrorKind::PortAfterPath);
    /// assert_eq!(e.hint(), Some("registry.example.com:5000/path/to/repo"));
    /// ```
    LocationError(LocationErrorKind),
    "invalid registry location at byte {position}: {kind}{}"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r8_messages_are_lowercase_and_carry_the_hint() {
        let e = LocationError::new(LocationErrorKind::PortAfterPath, 30)
            .with_hint("registry.example.com:5000/path/to/repo");
        let msg = e.to_string();
        assert!(msg.starts_with("invalid registry location at byte 30: a port goes"));
        assert!(msg.contains("registry.example.com:5000/path/to/repo"));
        assert_eq!(e.hint(), Some("registry.example.com:5000/path/to/repo"));
        assert_eq!(
            LocationError::new(Fault::InvalidTag, 3).kind(),
            &LocationErrorKind::Tag
        );
    }
}
