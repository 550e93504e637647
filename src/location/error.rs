//! Why a registry location could not be parsed.
//!
//! A [`LocationError`] carries a [`LocationErrorKind`], the byte offset of
//! the fault and, where one can be worked out and is itself a valid
//! location, the corrected input ([`hint`](LocationError::hint)). Messages
//! are lowercase, name the input ("registry location"), the part and the
//! fix, and never repeat what stands before an `@`, which may be a password.

use std::fmt;

use crate::reference::MAX_NAME_LEN;
use crate::reference::error::Hint;
use crate::reference::scan::Fault;

/// What is wrong with a registry location (R7–R9).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocationErrorKind {
    /// The input is empty.
    Empty,
    /// The input is longer than [`MAX_REFERENCE_LEN`](crate::reference::MAX_REFERENCE_LEN).
    TooLong {
        /// The input's length in bytes.
        len: usize,
        /// The most this parser reads.
        max: usize,
    },
    /// The input contains white space.
    Whitespace,
    /// The input contains a control character.
    ControlCharacter,
    /// The input contains a character outside ASCII.
    NonAscii,
    /// The input starts with a protocol such as `https://` (R8).
    Scheme,
    /// The input names a user (`user@host`) (R8).
    UserInfo,
    /// A path component is empty (`//`, a trailing `/`) (R8).
    EmptyComponent,
    /// A path component has uppercase letters.
    Uppercase,
    /// A path component does not match `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
    InvalidComponent,
    /// The host is empty.
    EmptyHost,
    /// The host is not a valid DNS name, IPv4 or bracketed IPv6 address.
    InvalidHost,
    /// The host ends with a dot.
    TrailingDot,
    /// The host ends in a number, so it is an IPv4 address, but it is not a
    /// dotted quad of four decimal numbers 0–255 without leading zeros (R5).
    InvalidIpv4,
    /// The bracketed IPv6 address is not valid hex-and-colon form.
    InvalidIpv6,
    /// The port is empty or not a decimal number.
    InvalidPort,
    /// The port is 0 or above 65535.
    PortOutOfRange,
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
            Fault::Whitespace => K::Whitespace,
            Fault::ControlCharacter => K::ControlCharacter,
            Fault::NonAscii => K::NonAscii,
            Fault::EmptyComponent => K::EmptyComponent,
            Fault::Uppercase => K::Uppercase,
            Fault::InvalidComponent => K::InvalidComponent,
            Fault::EmptyHost => K::EmptyHost,
            Fault::InvalidHost => K::InvalidHost,
            Fault::TrailingDot => K::TrailingDot,
            Fault::InvalidIpv4 => K::InvalidIpv4,
            Fault::InvalidIpv6 => K::InvalidIpv6,
            Fault::InvalidPort => K::InvalidPort,
            Fault::PortOutOfRange => K::PortOutOfRange,
            Fault::EmptyTag | Fault::InvalidTag | Fault::TagTooLong => K::Tag,
            Fault::InvalidDigest
            | Fault::InvalidDigestAlgorithm
            | Fault::InvalidDigestHex
            | Fault::DigestTooLong => K::Digest,
        }
    }
}

impl fmt::Display for LocationErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use LocationErrorKind as K;
        let shared = match self {
            K::Whitespace => Fault::Whitespace,
            K::ControlCharacter => Fault::ControlCharacter,
            K::NonAscii => Fault::NonAscii,
            K::EmptyComponent => Fault::EmptyComponent,
            K::Uppercase => Fault::Uppercase,
            K::InvalidComponent => Fault::InvalidComponent,
            K::EmptyHost => Fault::EmptyHost,
            K::InvalidHost => Fault::InvalidHost,
            K::TrailingDot => Fault::TrailingDot,
            K::InvalidIpv4 => Fault::InvalidIpv4,
            K::InvalidIpv6 => Fault::InvalidIpv6,
            K::InvalidPort => Fault::InvalidPort,
            K::PortOutOfRange => Fault::PortOutOfRange,
            K::Empty => return f.write_str("it is empty; name a registry host such as `registry.example.com`"),
            K::TooLong { len, max } => {
                return write!(f, "it is {len} bytes long, more than the {max} allowed")
            }
            K::Scheme => {
                return f.write_str("it starts with a protocol; leave out the protocol")
            }
            K::UserInfo => {
                return f.write_str(
                    "it names a user with `@`; leave the user out and give the username separately",
                )
            }
            K::PortAfterPath => {
                return f.write_str("a port goes right after the host, not after the path")
            }
            K::Tag => return f.write_str("a location has no tag; leave the tag out"),
            K::Digest => return f.write_str("a location has no digest; leave the digest out"),
            K::PublicSuffix => {
                return f.write_str(
                    "the host is a public suffix, which no registry serves from; name the registry's own host",
                )
            }
            K::NameTooLong { len } => {
                return write!(
                    f,
                    "it is {len} characters long in normal form, more than {MAX_NAME_LEN}; shorten the path"
                )
            }
        };
        f.write_str(shared.message())
    }
}

/// Why a registry location could not be parsed.
///
/// ```
/// use registry_credentials::location::{Location, LocationErrorKind};
/// let e = Location::parse("registry.example.com/path/to/repo:5000").unwrap_err();
/// assert_eq!(e.kind(), &LocationErrorKind::PortAfterPath);
/// assert_eq!(e.hint(), Some("registry.example.com:5000/path/to/repo"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid registry location at byte {position}: {kind}{}", Hint(hint))]
pub struct LocationError {
    kind: LocationErrorKind,
    position: usize,
    hint: Option<Box<str>>,
}

impl LocationError {
    pub(crate) fn new(kind: impl Into<LocationErrorKind>, position: usize) -> Self {
        LocationError {
            kind: kind.into(),
            position,
            hint: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<Box<str>>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// What is wrong.
    pub fn kind(&self) -> &LocationErrorKind {
        &self.kind
    }

    /// The byte offset in the input where the fault was found.
    pub fn position(&self) -> usize {
        self.position
    }

    /// A corrected input, where one can be worked out.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
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
