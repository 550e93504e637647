//! Text from people, checked and shown safely: which characters may not
//! appear in names and usernames (R16), and escaping for everything a
//! listing or an error repeats from its input (R21), so that input can
//! neither forge a row nor drive the terminal.
//!
//! ```
//! use registry_credentials_cf::text;
//! assert_eq!(text::escape("evil\u{2028}row\x1b[2J"), "evil\\u{2028}row\\u{1b}[2J");
//! assert!(text::check_username("robot-1").is_ok());
//! assert!(text::check_username("a:b").is_err());
//! assert!(text::check_username("zero\u{200b}width").is_err());
//! ```

use std::borrow::Cow;
use std::fmt::Write as _;

/// Unicode's format characters (general category Cf, Unicode 16): bidi
/// controls, zero-width marks, the byte order mark, tags and the like.
/// They are invisible or reorder text on a terminal.
const FORMAT: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

/// True for a Unicode format character (general category Cf).
pub fn is_format(c: char) -> bool {
    let c = c as u32;
    FORMAT.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// True for a character no name or username may hold and no listing may
/// print as it is: a control character (Cc), a format character (Cf), or
/// white space other than the plain space (which covers the line and
/// paragraph separators, Zl and Zp, and the other space separators, Zs).
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_format(c) || (c.is_whitespace() && c != ' ')
}

/// `s` with every [unsafe](is_unsafe) character, and the backslash that
/// starts an escape, written as a Rust escape (`\u{2028}`, `\\`); text
/// without them is borrowed as it is.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| is_unsafe(c) || c == '\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else if is_unsafe(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The longest text an error quotes from an argument, in characters.
pub const MAX_QUOTED: usize = 200;

/// `s` [escaped](escape) and cut to [`MAX_QUOTED`] characters (with `…`
/// after a cut), for quoting an argument in an error.
pub fn quote(s: &str) -> String {
    let escaped = escape(s);
    match escaped.char_indices().nth(MAX_QUOTED) {
        None => escaped.into_owned(),
        Some((at, _)) => format!("{}…", &escaped[..at]),
    }
}

/// Why a username was refused (R16).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsernameError {
    /// A `:`, which HTTP Basic authentication cannot carry.
    #[error("the username contains `:` at byte {at}; HTTP Basic authentication cannot carry one")]
    Colon {
        /// Where.
        at: usize,
    },
    /// White space, a control, format or separator character.
    #[error("the username contains white space or an invisible character (U+{code:04X}) at byte {at}; remove it")]
    BadCharacter {
        /// Where.
        at: usize,
        /// The character's code point.
        code: u32,
    },
}

/// Checks a username against revised R16: no `:`, no white space, no
/// control, format, line or paragraph separator character. (Emptiness and
/// length are the core's `Username`'s to check.)
///
/// # Errors
///
/// [`UsernameError`] naming the first offending character.
pub fn check_username(name: &str) -> Result<(), UsernameError> {
    for (at, c) in name.char_indices() {
        if c == ':' {
            return Err(UsernameError::Colon { at });
        }
        if is_unsafe(c) || c.is_whitespace() {
            return Err(UsernameError::BadCharacter { at, code: c as u32 });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r16_usernames_refuse_what_could_forge_a_row() {
        for bad in [
            "a:b",
            "a b",
            "a\tb",
            "evil\u{2028}docker.io",
            "x\u{2029}",
            "bidi\u{202e}",
            "zero\u{200b}",
            "bom\u{feff}",
            "nbsp\u{a0}",
            "tag\u{e0041}",
            "esc\x1b[2J",
        ] {
            assert!(check_username(bad).is_err(), "{bad:?}");
        }
        for good in ["robot", "user@example.com", "ünïcödé", "a.b-c_d"] {
            check_username(good).unwrap();
        }
    }

    #[test]
    fn r21_escape_and_quote() {
        assert_eq!(escape("plain text"), "plain text");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        assert_eq!(escape("a\nb\\c"), "a\\u{a}b\\\\c");
        assert_eq!(escape("\u{202e}"), "\\u{202e}");
        let long = "x".repeat(500);
        let q = quote(&long);
        assert_eq!(q.chars().count(), MAX_QUOTED + 1);
        assert!(q.ends_with('…'));
        assert_eq!(quote("short"), "short");
    }
}
