//! Text from people, checked and shown safely: which characters may not
//! appear in names (usernames are the core's `Username`'s to check, R16),
//! and escaping for everything a
//! listing or an error repeats from its input (R21), so that input can
//! neither forge a row nor drive the terminal.
//!
//! ```
//! use registry_credentials_cf::text;
//! assert_eq!(text::escape("evil\u{2028}row\x1b[2J"), "evil\\u{2028}row\\u{1b}[2J");
//! assert!(text::is_unsafe('\u{200b}'));
//! assert!(!text::is_unsafe(' '));
//! ```

use std::borrow::Cow;
use std::fmt::Write as _;

use registry_credentials::credential::ForbiddenCharacter;

/// True for a character no name may hold and no listing may print as it
/// is: a control character (Cc), a format character (Cf: bidi controls,
/// zero-width marks), or white space other than the plain space (which
/// covers the line and paragraph separators, Zl and Zp, and the other
/// space separators, Zs). The classes are the core's, from R16
/// ([`ForbiddenCharacter`]); a colon is allowed here.
pub fn is_unsafe(c: char) -> bool {
    c != ' '
        && !matches!(
            ForbiddenCharacter::of(c),
            None | Some(ForbiddenCharacter::Colon)
        )
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

/// `at` as RFC 3339 in UTC to the second (`2027-01-01T00:00:00Z`): how
/// listings show an expiry (R25).
pub fn utc_time(at: std::time::SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string()
}

/// Reads an RFC 3339 time (`2027-01-01T00:00:00Z`, or with an offset such
/// as `+02:00`), for an expiry given on the command line (R25).
///
/// ```
/// use registry_credentials_cf::text::{parse_utc_time, utc_time};
/// let at = parse_utc_time("2027-01-01T02:00:00+02:00")?;
/// assert_eq!(utc_time(at), "2027-01-01T00:00:00Z");
/// assert!(parse_utc_time("tomorrow").unwrap_err().to_string().contains("RFC 3339"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`TimeError`] when `text` is not such a time.
pub fn parse_utc_time(text: &str) -> Result<std::time::SystemTime, TimeError> {
    let (local, offset) = split_offset(text).ok_or_else(|| TimeError::new(text))?;
    let at = humantime::parse_rfc3339_weak(local).map_err(|_| TimeError::new(text))?;
    let shifted = if offset >= 0 {
        at.checked_sub(std::time::Duration::from_secs(offset.unsigned_abs()))
    } else {
        at.checked_add(std::time::Duration::from_secs(offset.unsigned_abs()))
    };
    shifted.ok_or_else(|| TimeError::new(text))
}

/// `text` without its `Z` or `±HH:MM` suffix, and that offset in seconds.
fn split_offset(text: &str) -> Option<(&str, i64)> {
    if let Some(local) = text.strip_suffix(['Z', 'z']) {
        return Some((local, 0));
    }
    let at = text.len().checked_sub(6)?;
    let (local, offset) = (text.get(..at)?, text.get(at..)?.as_bytes());
    let sign = match offset[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = |b: &[u8]| -> Option<i64> {
        b.iter().try_fold(0i64, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
        })
    };
    let (hours, minutes) = (digits(&offset[1..3])?, digits(&offset[4..6])?);
    (offset[3] == b':' && hours < 24 && minutes < 60)
        .then(|| (local, sign * (hours * 3600 + minutes * 60)))
}

/// Why a time was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{} is not an RFC 3339 time; give one such as 2027-01-01T00:00:00Z",
    quote(given)
)]
pub struct TimeError {
    given: String,
}

impl TimeError {
    fn new(given: &str) -> Self {
        TimeError {
            given: given.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r16_r21_invisible_and_control_characters_are_unsafe() {
        for bad in [
            '\t',
            '\u{2028}',
            '\u{2029}',
            '\u{202e}',
            '\u{200b}',
            '\u{feff}',
            '\u{a0}',
            '\u{e0041}',
            '\x1b',
            '\u{85}',
            '\u{ad}',
        ] {
            assert!(is_unsafe(bad), "{bad:?}");
        }
        for good in [' ', ':', 'a', 'ü', '@', '.'] {
            assert!(!is_unsafe(good), "{good:?}");
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
