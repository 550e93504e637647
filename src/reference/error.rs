//! Why an image reference could not be parsed.
//!
//! # Design
//!
//! A [`ReferenceError`] carries a [`ReferenceErrorKind`] (what is wrong),
//! the byte offset where it was found and, where one can be worked out, a
//! corrected input ([`hint`](ReferenceError::hint)). Its message is
//! lowercase, names the input ("image reference"), the part at fault and
//! the fix. It never repeats the whole input: a reference written with user
//! information (`user:secret@host/…`) may hold a password.

use std::fmt;

use super::scan::Fault;
use super::{MAX_NAME_LEN, MAX_TAG_LEN};

/// What is wrong with an image reference (R1–R6).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReferenceErrorKind {
    /// The input is empty.
    Empty,
    /// The input is longer than [`MAX_REFERENCE_LEN`](super::MAX_REFERENCE_LEN).
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
    /// The input names a user (`user@host/…`).
    UserInfo,
    /// The input is 64 hexadecimal digits, which Docker reads as an image id.
    ImageId,
    /// A path component is empty (`//`, a leading or trailing `/`).
    EmptyComponent,
    /// A path component has uppercase letters.
    Uppercase,
    /// A path component does not match `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
    InvalidComponent,
    /// The host is empty (`:5000/app`).
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
    /// The tag after `:` is empty.
    EmptyTag,
    /// The tag does not match `[A-Za-z0-9_][A-Za-z0-9_.-]*`.
    InvalidTag,
    /// The tag is longer than [`MAX_TAG_LEN`] characters.
    TagTooLong,
    /// The digest after `@` is not `ALGORITHM:HEX`.
    InvalidDigest,
    /// The digest's algorithm is not `[a-z][a-z0-9]*([+._-][a-z][a-z0-9]*)*`.
    InvalidDigestAlgorithm,
    /// The digest's hex part has the wrong length or characters.
    InvalidDigestHex,
    /// The digest is longer than [`MAX_DIGEST_LEN`](super::MAX_DIGEST_LEN).
    DigestTooLong,
    /// The normalized name is longer than [`MAX_NAME_LEN`] characters.
    NameTooLong {
        /// The normalized name's length.
        len: usize,
    },
}

impl From<Fault> for ReferenceErrorKind {
    fn from(f: Fault) -> Self {
        use ReferenceErrorKind as K;
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
            Fault::EmptyTag => K::EmptyTag,
            Fault::InvalidTag => K::InvalidTag,
            Fault::TagTooLong => K::TagTooLong,
            Fault::InvalidDigest => K::InvalidDigest,
            Fault::InvalidDigestAlgorithm => K::InvalidDigestAlgorithm,
            Fault::InvalidDigestHex => K::InvalidDigestHex,
            Fault::DigestTooLong => K::DigestTooLong,
        }
    }
}

impl ReferenceErrorKind {
    /// The shared fault this kind stands for, if any.
    fn fault(&self) -> Option<Fault> {
        use ReferenceErrorKind as K;
        Some(match self {
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
            K::EmptyTag => Fault::EmptyTag,
            K::InvalidTag => Fault::InvalidTag,
            K::TagTooLong => Fault::TagTooLong,
            K::InvalidDigest => Fault::InvalidDigest,
            K::InvalidDigestAlgorithm => Fault::InvalidDigestAlgorithm,
            K::InvalidDigestHex => Fault::InvalidDigestHex,
            K::DigestTooLong => Fault::DigestTooLong,
            K::Empty | K::TooLong { .. } | K::Scheme | K::UserInfo | K::ImageId => return None,
            K::NameTooLong { .. } => return None,
        })
    }
}

impl fmt::Display for ReferenceErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ReferenceErrorKind as K;
        if let Some(fault) = self.fault() {
            return f.write_str(fault.message());
        }
        match self {
            K::Empty => f.write_str("it is empty; name an image such as `nginx`"),
            K::TooLong { len, max } => {
                write!(f, "it is {len} bytes long, more than the {max} allowed")
            }
            K::Scheme => f.write_str("it starts with a protocol; leave out the protocol"),
            K::UserInfo => f.write_str(
                "it names a user with `@`; leave the user out and give the username separately",
            ),
            K::ImageId => f.write_str(
                "64 hexadecimal digits are an image id, not a reference; name a repository",
            ),
            K::NameTooLong { len } => write!(
                f,
                "the repository name is {len} characters long, more than {MAX_NAME_LEN}; shorten the path"
            ),
            _ => Ok(()),
        }
    }
}

/// Why an image reference could not be parsed.
///
/// ```
/// use registry_credentials::reference::{Reference, ReferenceErrorKind};
/// let e = Reference::parse("https://registry.example.com/app").unwrap_err();
/// assert_eq!(e.kind(), &ReferenceErrorKind::Scheme);
/// assert_eq!(e.hint(), Some("registry.example.com/app"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid image reference at byte {position}: {kind}{}", Hint(hint))]
pub struct ReferenceError {
    kind: ReferenceErrorKind,
    position: usize,
    hint: Option<Box<str>>,
}

impl ReferenceError {
    pub(crate) fn new(kind: impl Into<ReferenceErrorKind>, position: usize) -> Self {
        ReferenceError {
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
    pub fn kind(&self) -> &ReferenceErrorKind {
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

/// ` (did you mean `…`?)` after a message, when there is a hint.
pub(crate) struct Hint<'a>(pub(crate) &'a Option<Box<str>>);

impl fmt::Display for Hint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(h) => write!(f, " (did you mean `{h}`?)"),
            None => Ok(()),
        }
    }
}

const _: () = assert!(MAX_TAG_LEN == 128, "the tag message says 128");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r6_messages_are_lowercase_name_the_input_and_carry_the_hint() {
        let e = ReferenceError::new(ReferenceErrorKind::Scheme, 0).with_hint("a.com/b");
        assert_eq!(
            e.to_string(),
            "invalid image reference at byte 0: it starts with a protocol; leave out the protocol (did you mean `a.com/b`?)"
        );
        let e = ReferenceError::new(Fault::Uppercase, 4);
        assert_eq!(e.kind(), &ReferenceErrorKind::Uppercase);
        assert!(e.to_string().contains("must be lowercase"));
        for kind in [
            ReferenceErrorKind::Empty,
            ReferenceErrorKind::ImageId,
            ReferenceErrorKind::NameTooLong { len: 300 },
            ReferenceErrorKind::InvalidIpv4,
        ] {
            let m = kind.to_string();
            assert!(
                m.starts_with(char::is_lowercase) || m.starts_with("64"),
                "{m}"
            );
            assert!(!m.is_empty());
        }
    }
}
