//! Errors of the parsers.
//!
//! # Design
//!
//! Parsing an image reference fails with a [`ReferenceError`]; parsing a
//! registry location fails with a [`LocationError`]. Both carry a
//! [`ParseErrorKind`] (what is wrong), the byte offset where it was found, and,
//! where one can be worked out, a corrected input (`hint`). Their messages are
//! lowercase, name the part at fault and say how to fix it.
//!
//! The messages never repeat the whole input: a location written with user
//! information (`user:secret@host`) may hold a password. They quote only the
//! part at fault when that part cannot be a secret, and the hint drops user
//! information.

use std::fmt;

/// What is wrong with an image reference or a registry location.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The input is empty.
    Empty,
    /// The input is longer than any valid one can be.
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
    /// The input starts with a protocol such as `https://`.
    Scheme,
    /// The input names a user (`user@host`).
    UserInfo,
    /// The input is 64 hexadecimal digits, which Docker reads as an image id.
    ImageId,
    /// A path component is empty (`//`, a leading or trailing `/`).
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
    /// The bracketed IPv6 address is not valid hex-and-colon form.
    InvalidIpv6,
    /// The port is empty or not a decimal number.
    InvalidPort,
    /// The port is 0 or above 65535.
    PortOutOfRange,
    /// A location has a port after its path (`host/path:5000`).
    PortAfterPath,
    /// The tag after `:` is empty.
    EmptyTag,
    /// The tag does not match `[A-Za-z0-9_][A-Za-z0-9_.-]*`.
    InvalidTag,
    /// The tag is longer than 128 characters.
    TagTooLong,
    /// The digest after `@` is not `ALGORITHM:HEX`.
    InvalidDigest,
    /// The digest's algorithm is not `[a-z][a-z0-9]*([+._-][a-z][a-z0-9]*)*`.
    InvalidDigestAlgorithm,
    /// The digest's hex part has the wrong length or characters.
    InvalidDigestHex,
    /// The digest is longer than [`MAX_DIGEST_LEN`](crate::reference::MAX_DIGEST_LEN).
    DigestTooLong,
    /// The normalized name is longer than 255 characters.
    NameTooLong {
        /// The normalized name's length.
        len: usize,
    },
    /// A location has a tag (`host/repo:tag`).
    LocationTag,
    /// A location has a digest (`host/repo@sha256:…`).
    LocationDigest,
    /// A location's host is a public suffix (`com`, `co.uk`, `github.io`).
    PublicSuffix,
    /// A reference has no path: it names only a host.
    MissingPath,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ParseErrorKind::*;
        match self {
            Empty => f.write_str("it is empty"),
            TooLong { len, max } => write!(f, "it is {len} bytes long, more than the {max} allowed"),
            Whitespace => f.write_str("it contains white space; remove it"),
            ControlCharacter => f.write_str("it contains a control character; remove it"),
            NonAscii => f.write_str("it contains a non-ASCII character; registry names are ASCII"),
            Scheme => f.write_str("it starts with a protocol; leave out the protocol"),
            UserInfo => f.write_str(
                "it names a user with `@`; leave the user out and give the username separately",
            ),
            ImageId => f.write_str(
                "64 hexadecimal digits are an image id, not a reference; name a repository",
            ),
            EmptyComponent => {
                f.write_str("a path component is empty; remove the extra or trailing `/`")
            }
            Uppercase => f.write_str("repository name must be lowercase"),
            InvalidComponent => f.write_str(
                "a path component must be lowercase letters and digits, joined by `.`, `_`, `__` or `-`",
            ),
            EmptyHost => f.write_str("the host is empty"),
            InvalidHost => f.write_str(
                "the host must be a DNS name (letters, digits and `-` in dot-separated labels), an IPv4 address or a bracketed IPv6 address",
            ),
            TrailingDot => f.write_str("the host ends with a dot; remove it"),
            InvalidIpv6 => f.write_str(
                "the IPv6 address must be hex and colons in brackets, such as `[2001:db8::1]`, with no zone and no dotted quad",
            ),
            InvalidPort => f.write_str("the port must be a decimal number"),
            PortOutOfRange => f.write_str("the port must be between 1 and 65535"),
            PortAfterPath => f.write_str("a port goes right after the host, not after the path"),
            EmptyTag => f.write_str("the tag after `:` is empty; remove the `:` or add a tag"),
            InvalidTag => f.write_str(
                "the tag must start with a letter, digit or `_` and contain only letters, digits, `_`, `.` and `-`",
            ),
            TagTooLong => f.write_str("the tag is longer than 128 characters"),
            InvalidDigest => {
                f.write_str("the digest after `@` must be `algorithm:hex`, such as `sha256:…`")
            }
            InvalidDigestAlgorithm => f.write_str(
                "the digest algorithm must be lowercase letters and digits, such as `sha256`",
            ),
            InvalidDigestHex => f.write_str(
                "the digest must be lowercase hex: 64 digits for sha256, 128 for sha512, at least 32 otherwise",
            ),
            DigestTooLong => write!(
                f,
                "the digest is longer than {} characters",
                crate::reference::MAX_DIGEST_LEN
            ),
            NameTooLong { len } => {
                write!(f, "the repository name is {len} characters long, more than 255")
            }
            LocationTag => f.write_str("a location has no tag; leave the tag out"),
            LocationDigest => f.write_str("a location has no digest; leave the digest out"),
            PublicSuffix => f.write_str(
                "the host is a public suffix, which no registry serves from; name the registry's own host",
            ),
            MissingPath => f.write_str("it names a host but no repository; add a repository path"),
        }
    }
}

/// Why an image reference could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid image reference at byte {position}: {kind}{}", Hint(hint))]
pub struct ReferenceError {
    pub(crate) kind: ParseErrorKind,
    pub(crate) position: usize,
    pub(crate) hint: Option<Box<str>>,
}

/// Why a registry location could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid registry location at byte {position}: {kind}{}", Hint(hint))]
pub struct LocationError {
    pub(crate) kind: ParseErrorKind,
    pub(crate) position: usize,
    pub(crate) hint: Option<Box<str>>,
}

struct Hint<'a>(&'a Option<Box<str>>);

impl fmt::Display for Hint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(h) => write!(f, " (did you mean `{h}`?)"),
            None => Ok(()),
        }
    }
}

macro_rules! error_accessors {
    ($ty:ident) => {
        impl $ty {
            pub(crate) fn new(kind: ParseErrorKind, position: usize) -> Self {
                Self {
                    kind,
                    position,
                    hint: None,
                }
            }

            pub(crate) fn with_hint(mut self, hint: impl Into<Box<str>>) -> Self {
                self.hint = Some(hint.into());
                self
            }

            /// What is wrong.
            pub fn kind(&self) -> &ParseErrorKind {
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
    };
}

error_accessors!(ReferenceError);
error_accessors!(LocationError);

impl From<ReferenceError> for LocationError {
    fn from(e: ReferenceError) -> Self {
        LocationError {
            kind: e.kind,
            position: e.position,
            hint: e.hint,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_lowercase_and_carry_the_hint() {
        let e = LocationError::new(ParseErrorKind::PortAfterPath, 30)
            .with_hint("registry.example.com:5000/path/to/repo");
        let msg = e.to_string();
        assert!(msg.starts_with("invalid registry location at byte 30: a port goes"));
        assert!(msg.contains("registry.example.com:5000/path/to/repo"));
        assert_eq!(e.hint(), Some("registry.example.com:5000/path/to/repo"));
    }
}
