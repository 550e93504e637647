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

use super::MAX_NAME_LEN;
use crate::syntax::Fault;

/// What is wrong with an image reference (R1–R6): a [`Fault`] of the grammar
/// references and locations share, or one of the reference's own.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReferenceErrorKind {
    /// The input is empty.
    Empty,
    /// The text breaks the shared grammar ([`Fault`]).
    Syntax(Fault),
    /// The input is 64 hexadecimal digits, which Docker reads as an image id.
    ImageId,
    /// The normalized name is longer than [`MAX_NAME_LEN`] characters.
    NameTooLong {
        /// The normalized name's length.
        len: usize,
    },
}

impl From<Fault> for ReferenceErrorKind {
    fn from(f: Fault) -> Self {
        ReferenceErrorKind::Syntax(f)
    }
}

impl fmt::Display for ReferenceErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ReferenceErrorKind as K;
        match self {
            K::Empty => f.write_str("it is empty; name an image such as `nginx`"),
            K::Syntax(fault) => fault.fmt(f),
            K::ImageId => f.write_str(
                "64 hexadecimal digits are an image id, not a reference; name a repository",
            ),
            K::NameTooLong { len } => write!(
                f,
                "the repository name is {len} characters long, more than {MAX_NAME_LEN}; shorten the path"
            ),
        }
    }
}

crate::macros::syntax_error! {
    /// Why an image reference could not be parsed.
    ///
    /// ```
    /// use registry_credentials::reference::{Reference, ReferenceErrorKind};
    /// use registry_credentials::syntax::Fault;
    /// let e = Reference::parse("https://registry.example.com/app").unwrap_err();
    /// assert_eq!(e.kind(), &ReferenceErrorKind::Syntax(Fault::Scheme));
    /// assert_eq!(e.hint(), Some("registry.example.com/app"));
    /// ```
    ReferenceError(ReferenceErrorKind),
    "invalid image reference at byte {position}: {kind}{}"
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r6_messages_are_lowercase_name_the_input_and_carry_the_hint() {
        let e = ReferenceError::new(Fault::Scheme, 0).with_hint("a.com/b");
        assert_eq!(
            e.to_string(),
            "invalid image reference at byte 0: it starts with a protocol; leave out the protocol (did you mean `a.com/b`?)"
        );
        let e = ReferenceError::new(Fault::Uppercase, 4);
        assert_eq!(e.kind(), &ReferenceErrorKind::Syntax(Fault::Uppercase));
        assert!(e.to_string().contains("must be lowercase"));
        for kind in [
            ReferenceErrorKind::Empty,
            ReferenceErrorKind::ImageId,
            ReferenceErrorKind::NameTooLong { len: 300 },
            ReferenceErrorKind::Syntax(Fault::InvalidIpv4),
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
