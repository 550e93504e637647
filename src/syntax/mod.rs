//! The grammar references and locations share, and what can be wrong with
//! it.
//!
//! One scanner reads both (R1, R2, R5, R7): a single left-to-right pass
//! driven by a 256-entry byte-class table. What it finds wrong is a
//! [`Fault`], the one vocabulary of syntax errors:
//! [`ReferenceErrorKind::Syntax`](crate::reference::ReferenceErrorKind::Syntax)
//! and [`LocationErrorKind::Syntax`](crate::location::LocationErrorKind::Syntax)
//! carry it, and each error adds only the kinds that are its own (an image
//! id for references, a tag or a public suffix for locations).
//!
//! ```
//! use registry_credentials::location::{Location, LocationErrorKind};
//! use registry_credentials::reference::{Reference, ReferenceErrorKind};
//! use registry_credentials::syntax::Fault;
//!
//! let r = Reference::parse("registry.example.com/Team/app").unwrap_err();
//! assert_eq!(r.kind(), &ReferenceErrorKind::Syntax(Fault::Uppercase));
//! let l = Location::parse("registry.example.com/Team").unwrap_err();
//! assert_eq!(l.kind(), &LocationErrorKind::Syntax(Fault::Uppercase));
//! assert_eq!(r.kind().fault(), l.kind().fault());
//! ```

use std::fmt;

pub(crate) mod scan;

/// What is wrong with the text of a reference or a location, in the parts
/// both share (R1–R8). The message says what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// The input is longer than [`MAX_REFERENCE_LEN`](crate::reference::MAX_REFERENCE_LEN).
    TooLong {
        /// The input's length in bytes.
        len: usize,
        /// The most a parser reads.
        max: usize,
    },
    /// The input starts with a protocol such as `https://` (R6, R8).
    Scheme,
    /// The input names a user (`user@host/…`) (R6, R8).
    UserInfo,
    /// White space.
    Whitespace,
    /// A control character.
    ControlCharacter,
    /// A character outside ASCII.
    NonAscii,
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
    /// The tag is longer than [`MAX_TAG_LEN`](crate::reference::MAX_TAG_LEN) characters.
    TagTooLong,
    /// The digest after `@` is not `ALGORITHM:HEX`.
    InvalidDigest,
    /// The digest's algorithm is not `[a-z][a-z0-9]*([+._-][a-z][a-z0-9]*)*`.
    InvalidDigestAlgorithm,
    /// The digest's hex part has the wrong length or characters.
    InvalidDigestHex,
    /// The digest is longer than [`MAX_DIGEST_LEN`](crate::reference::MAX_DIGEST_LEN).
    DigestTooLong,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = match self {
            Fault::TooLong { len, max } => {
                return write!(f, "it is {len} bytes long, more than the {max} allowed");
            }
            Fault::Scheme => "it starts with a protocol; leave out the protocol",
            Fault::UserInfo => {
                "it names a user with `@`; leave the user out and give the username separately"
            }
            Fault::Whitespace => "it contains white space; remove it",
            Fault::ControlCharacter => "it contains a control character; remove it",
            Fault::NonAscii => "it contains a non-ASCII character; registry names are ASCII",
            Fault::EmptyComponent => "a path component is empty; remove the extra or trailing `/`",
            Fault::Uppercase => "repository name must be lowercase; write the path in lowercase",
            Fault::InvalidComponent => {
                "a path component must be lowercase letters and digits, joined by `.`, `_`, `__` or `-`"
            }
            Fault::EmptyHost => "the host is empty; name the registry's host before the `:`",
            Fault::InvalidHost => {
                "the host must be a DNS name (letters, digits and `-` in dot-separated labels), an IPv4 address or a bracketed IPv6 address"
            }
            Fault::TrailingDot => "the host ends with a dot; remove it",
            Fault::InvalidIpv4 => {
                "the host ends in a number, so it is an IPv4 address, but not four decimal numbers 0-255 without leading zeros (such as `10.0.0.1`); write the address that way or use a DNS name"
            }
            Fault::InvalidIpv6 => {
                "the IPv6 address must be hex and colons in brackets, such as `[2001:db8::1]`, with no zone and no dotted quad"
            }
            Fault::InvalidPort => "the port after the host's `:` must be a decimal number",
            Fault::PortOutOfRange => "the port must be between 1 and 65535",
            Fault::EmptyTag => "the tag after `:` is empty; remove the `:` or add a tag",
            Fault::InvalidTag => {
                "the tag must start with a letter, digit or `_` and contain only letters, digits, `_`, `.` and `-`"
            }
            Fault::TagTooLong => "the tag is longer than 128 characters; shorten it",
            Fault::InvalidDigest => {
                "the digest after `@` must be `algorithm:hex`, such as `sha256:…`"
            }
            Fault::InvalidDigestAlgorithm => {
                "the digest algorithm must be lowercase letters and digits, such as `sha256`"
            }
            Fault::InvalidDigestHex => {
                "the digest must be lowercase hex: 64 digits for sha256, 128 for sha512, at least 32 otherwise"
            }
            Fault::DigestTooLong => "the digest is longer than 639 characters",
        };
        f.write_str(message)
    }
}

const _: () = assert!(
    crate::reference::MAX_TAG_LEN == 128,
    "the tag message says 128"
);
const _: () = assert!(
    crate::reference::MAX_DIGEST_LEN == 639,
    "the digest message says 639"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r6_r8_fault_messages_are_lowercase_and_say_what_to_do() {
        let faults = [
            Fault::TooLong {
                len: 2000,
                max: 1024,
            },
            Fault::Scheme,
            Fault::UserInfo,
            Fault::Whitespace,
            Fault::ControlCharacter,
            Fault::NonAscii,
            Fault::EmptyComponent,
            Fault::Uppercase,
            Fault::InvalidComponent,
            Fault::EmptyHost,
            Fault::InvalidHost,
            Fault::TrailingDot,
            Fault::InvalidIpv4,
            Fault::InvalidIpv6,
            Fault::InvalidPort,
            Fault::PortOutOfRange,
            Fault::EmptyTag,
            Fault::InvalidTag,
            Fault::TagTooLong,
            Fault::InvalidDigest,
            Fault::InvalidDigestAlgorithm,
            Fault::InvalidDigestHex,
            Fault::DigestTooLong,
        ];
        let mut seen = std::collections::HashSet::new();
        for fault in faults {
            let m = fault.to_string();
            assert!(m.starts_with(char::is_lowercase), "{m}");
            assert!(seen.insert(m.clone()), "two faults share the message {m}");
        }
        assert_eq!(
            Fault::TooLong {
                len: 2000,
                max: 1024
            }
            .to_string(),
            "it is 2000 bytes long, more than the 1024 allowed"
        );
    }
}
