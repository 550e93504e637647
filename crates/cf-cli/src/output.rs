//! What the command line prints: failures, as cf prints them (the message,
//! then `FAILED` on its own line; a usage error as `Incorrect Usage:`
//! followed by the command's help), and text from input made safe to
//! print (R21).
//!
//! Every line that repeats input escapes control, format and separator
//! characters ([`text::escape`]) and cuts a long argument to
//! [`text::MAX_QUOTED`] characters, so input can neither forge a line
//! nor drive the terminal. Messages name an argument by its position or
//! role rather than repeat it where it could be a secret.

use std::ffi::OsString;
use std::fmt::Write as _;

use registry_credentials_cf::directory::{DirectoryError, Entity};
use registry_credentials_cf::manage::ManageError;
use registry_credentials_cf::text;
use registry_credentials_sql::DatabaseError;

/// An API response body as `cf curl` prints it: JSON indented by two
/// spaces, then a newline; nothing but the newline for an empty body (a
/// 204). Every character a terminal could be driven by or a line forged
/// with ([`text::is_unsafe`]: control, format and separator characters)
/// is written as a JSON `\u` escape, so the printed JSON reads back to the
/// same value and shows what it holds (R21). A body that is not JSON is
/// printed [escaped](text::escape).
pub(crate) fn pretty_json(body: &str) -> String {
    use serde::Serialize as _;
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return format!("{}\n", text::escape(body));
    };
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Escaping::default());
    match value.serialize(&mut ser) {
        Ok(()) => format!("{}\n", String::from_utf8_lossy(&out)),
        Err(_) => format!("{}\n", text::escape(body)),
    }
}

/// The methods of serde_json's `Formatter` that lay out arrays and
/// objects, handed to the pretty formatter `self.0`; a method with
/// `(first)` takes whether its value is the first.
macro_rules! pretty_layout {
    ($($method:ident $(($first:ident))?,)*) => {$(
        fn $method<W: ?Sized + std::io::Write>(
            &mut self,
            w: &mut W,
            $($first: bool,)?
        ) -> std::io::Result<()> {
            self.0.$method(w, $($first)?)
        }
    )*};
}

/// serde_json's indented formatter, with [unsafe](text::is_unsafe)
/// characters in strings written as `\u` escapes (UTF-16, as JSON has
/// them).
#[derive(Default)]
struct Escaping(serde_json::ser::PrettyFormatter<'static>);

impl serde_json::ser::Formatter for Escaping {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        for c in fragment.chars() {
            if text::is_unsafe(c) {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            } else {
                let mut buf = [0u8; 4];
                writer.write_all(c.encode_utf8(&mut buf).as_bytes())?;
            }
        }
        Ok(())
    }

    pretty_layout! {
        begin_array, end_array, begin_array_value(first), end_array_value,
        begin_object, end_object, begin_object_key(first), begin_object_value, end_object_value,
    }
}

/// A failed command, or a signal from a command that needs something of
/// the person at the terminal before it can go on.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct Failure {
    /// What went wrong, and what to do.
    pub(crate) message: String,
    /// What kind of failure it is.
    pub(crate) kind: Kind,
}

/// The kinds of [`Failure`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The command could not be carried out; it changed nothing.
    Failed,
    /// The database holds what this tool never writes (a corrupt row, a
    /// password that does not decrypt): reported as damage to the file.
    Damage,
    /// The arguments do not fit the command (`None`: no command was
    /// recognised); its help follows the message.
    Usage(Option<String>),
    /// SQLite failed under the directory's tables: its extended result
    /// code and message, explained once the database's file is known
    /// ([`Failure::on_database`]).
    Sqlite { code: i32, message: Option<String> },
    /// Not a failure: the command needs a password (`optional`: an empty
    /// answer keeps the stored one).
    NeedsPassword { optional: bool },
    /// Not a failure: the command asks before it deletes.
    NeedsConfirmation {
        /// The question, ending in `?`.
        question: String,
        /// What is printed when the answer is no.
        declined: String,
    },
}

impl Failure {
    /// A command that could not be carried out.
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            kind: Kind::Failed,
        }
    }

    /// A usage error of `command` (`None`: of `cf` itself).
    pub(crate) fn usage(command: Option<&str>, message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            kind: Kind::Usage(command.map(str::to_owned)),
        }
    }
}

/// Shorthand for [`Failure::failed`].
pub(crate) fn fail(message: impl Into<String>) -> Failure {
    Failure::failed(message)
}

/// Every error becomes one message: its text, then each source's, joined
/// by `: `. A source whose text the message already ends with (an error
/// that repeats its source's in its own) is not said twice.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.ends_with(&text) {
            let _ = write!(s, ": {text}");
        }
        source = inner.source();
    }
    s
}

/// SQLite's error inside `e`, if `e` is one.
fn sqlite_of<'e>(
    e: &'e (dyn std::error::Error + 'static),
) -> Option<&'e registry_credentials_sql::rusqlite::Error> {
    e.downcast_ref::<registry_credentials_sql::rusqlite::Error>()
}

/// True when SQLite found the file corrupt, or not a database.
pub(crate) fn sqlite_damage(e: &(dyn std::error::Error + 'static)) -> bool {
    use registry_credentials_sql::rusqlite::ErrorCode;
    sqlite_of(e)
        .and_then(|e| e.sqlite_error_code())
        .is_some_and(|c| matches!(c, ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase))
}

/// A failure of the database the store explained ([`DatabaseError`]): its
/// message, which says what to do, and then what the database said, in
/// brackets. A damaged file is reported as damage, with what SQLite said.
pub(crate) fn database_failure(e: &DatabaseError) -> Failure {
    let detail = std::error::Error::source(e).map(chain);
    match (e, detail) {
        (DatabaseError::Damaged { .. }, Some(detail)) => with_damage(detail, true),
        (DatabaseError::Damaged { .. }, None) => with_damage(e.to_string(), true),
        (_, Some(detail)) => fail(format!("{e} ({detail})")),
        (_, None) => fail(e.to_string()),
    }
}

/// True when the store found the database damaged: a row it cannot read
/// (a wrong key for a row, a corrupt row) or a file SQLite calls corrupt.
/// A full disk or a busy database is not damage.
fn store_damage(e: &registry_credentials::StoreError) -> bool {
    use registry_credentials::StoreError;
    match e {
        StoreError::Unreadable { .. } => true,
        StoreError::Backend { source, .. } => {
            sqlite_damage(source.as_ref())
                || matches!(
                    source.downcast_ref::<DatabaseError>(),
                    Some(DatabaseError::Damaged { .. })
                )
        }
        _ => false,
    }
}

fn with_damage(message: String, damage: bool) -> Failure {
    Failure {
        message,
        kind: if damage { Kind::Damage } else { Kind::Failed },
    }
}

impl From<registry_credentials::StoreError> for Failure {
    fn from(e: registry_credentials::StoreError) -> Self {
        use registry_credentials::StoreError;
        if let StoreError::Backend { source, .. } = &e {
            if let Some(db) = source.downcast_ref::<DatabaseError>() {
                return database_failure(db);
            }
        }
        let damage = store_damage(&e);
        let mut message = chain(&e);
        if e.is_outcome_unknown() {
            message.push_str(
                "; it may or may not have been stored: run `cf registry-credentials` to see",
            );
        }
        with_damage(message, damage)
    }
}

impl From<DirectoryError> for Failure {
    fn from(e: DirectoryError) -> Self {
        let damage = match &e {
            DirectoryError::Corrupt { .. } => true,
            // A name taken is named by the argument that gave it, not
            // repeated: what was typed there may be anything.
            DirectoryError::NameTaken { what, .. } => {
                let among = match what {
                    Entity::Org => "",
                    Entity::Space => " in its organization",
                    _ => " in its space",
                };
                return fail(format!(
                    "the {what} name given is already taken{among}; choose another name"
                ));
            }
            DirectoryError::Backend { source, .. } => {
                if let Some(sqlite) = sqlite_of(source.as_ref()) {
                    // Explained once the file is known ([`Kind::Sqlite`]).
                    if let Some(failure) = sqlite.sqlite_error() {
                        let message = match sqlite {
                            registry_credentials_sql::rusqlite::Error::SqliteFailure(
                                _,
                                Some(m),
                            ) => Some(m.clone()),
                            _ => None,
                        };
                        return Failure {
                            message: chain(&e),
                            kind: Kind::Sqlite {
                                code: failure.extended_code,
                                message,
                            },
                        };
                    }
                }
                source
                    .downcast_ref::<registry_credentials::StoreError>()
                    .is_some_and(store_damage)
            }
            _ => false,
        };
        with_damage(chain(&e), damage)
    }
}

impl Failure {
    /// A failure of SQLite's ([`Kind::Sqlite`]) explained for the database
    /// file `db`, as the store explains its own ([`DatabaseError`]); any
    /// other failure as it is.
    pub(crate) fn on_database(
        self,
        db: &std::path::Path,
        busy_timeout: std::time::Duration,
    ) -> Self {
        use registry_credentials_sql::rusqlite::{Error, ffi};
        let Kind::Sqlite { code, message } = &self.kind else {
            return self;
        };
        let sqlite = Error::SqliteFailure(ffi::Error::new(*code), message.clone());
        match DatabaseError::from_sqlite(&sqlite, db, busy_timeout) {
            Some(e) => database_failure(&e),
            None if sqlite_damage(&sqlite) => with_damage(self.message, true),
            None => fail(self.message),
        }
    }
}

impl From<ManageError> for Failure {
    fn from(e: ManageError) -> Self {
        match e {
            ManageError::Store(s) => s.into(),
            ManageError::Directory(d) => d.into(),
            // A name not found is not repeated: it may be anything typed.
            ManageError::Unknown { what, .. } => {
                fail(format!("{what} not found; check the name given"))
            }
            other => fail(chain(&other)),
        }
    }
}

macro_rules! impl_failure_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Self {
                fail(chain(&e))
            }
        }
    )*};
}

impl_failure_from!(
    registry_credentials::scope::IdError,
    registry_credentials_cf::directory::NameError,
    registry_credentials::credential::CredentialError,
    registry_credentials::LocationError,
    registry_credentials::ReferenceError,
    registry_credentials::metadata::MetadataError
);

/// Text from input, safe to print ([`text::escape`]).
pub(crate) fn shown(s: &impl std::fmt::Display) -> String {
    text::escape(&s.to_string()).into_owned()
}

/// `line` as one safe line: every control, format or separator character
/// escaped, and every argument longer than [`text::MAX_QUOTED`]
/// characters cut to that (R21).
pub(crate) fn one_line(line: &str, args: &[OsString]) -> String {
    let mut line = line.to_owned();
    for arg in args.iter().filter_map(|a| a.to_str()) {
        if arg.chars().count() > text::MAX_QUOTED {
            let cut = text::quote(arg);
            line = line.replace(arg, &cut);
            line = line.replace(&arg.escape_debug().to_string(), &cut);
        }
    }
    // Whatever a library error repeated in another form, the line stays
    // short.
    const MAX_LINE: usize = 2000;
    if let Some((at, _)) = line.char_indices().nth(MAX_LINE) {
        line.truncate(at);
        line.push('…');
    }
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if text::is_unsafe(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// What standard error shows for `failure`: cf's `Incorrect Usage:` and
/// the command's help for a usage error; otherwise the message and
/// `FAILED`, each on its own line.
pub(crate) fn report(failure: &Failure, args: &[OsString]) -> String {
    let line = one_line(&failure.message, args);
    match &failure.kind {
        Kind::Usage(command) => {
            format!(
                "Incorrect Usage: {line}\n\n{}",
                crate::args::help_of(command.as_deref())
            )
        }
        _ => format!("{line}\nFAILED\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r21_curl_prints_indented_json_with_terminal_controls_escaped() {
        let body = r#"{"a":{"b":[1,"x\u001b[2J\u202e\u2028y\u00e9\ud83d\ude00"]}}"#;
        let printed = pretty_json(body);
        assert_eq!(
            printed,
            "{\n  \"a\": {\n    \"b\": [\n      1,\n      \"x\\u001b[2J\\u202e\\u2028y\u{e9}\u{1f600}\"\n    ]\n  }\n}\n"
        );
        let back: serde_json::Value = serde_json::from_str(&printed).unwrap();
        let original: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(back, original);
        assert_eq!(pretty_json(""), "\n");
        assert_eq!(pretty_json("not\u{1b}json"), "not\\u{1b}json\n");
    }

    #[test]
    fn r21_a_failure_is_its_message_then_failed() {
        let f = fail("organization not found\u{2028}forged");
        assert_eq!(
            report(&f, &[]),
            "organization not found\\u{2028}forged\nFAILED\n"
        );
    }

    #[test]
    fn r28_an_unknown_outcome_says_to_look_and_how() {
        let lost = registry_credentials::StoreError::OutcomeUnknown {
            source: "connection closed".into(),
        };
        let f = Failure::from(lost);
        let text = report(&f, &[]);
        assert!(
            text.contains("may or may not have been")
                && text.contains("run `cf registry-credentials` to see")
                && text.ends_with("\nFAILED\n"),
            "{text}"
        );
        let refused = registry_credentials::StoreError::Backend {
            retryable: true,
            source: "connection refused".into(),
        };
        let text = report(&Failure::from(refused), &[]);
        assert!(!text.contains("may or may not"), "{text}");
    }

    #[test]
    fn a_chain_says_each_cause_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] Inner);
        #[derive(Debug, thiserror::Error)]
        #[error("refused: {0}")]
        struct Repeats(#[source] Inner);
        #[derive(Debug, thiserror::Error)]
        #[error("inner")]
        struct Inner;
        assert_eq!(chain(&Outer(Inner)), "outer: inner");
        assert_eq!(chain(&Repeats(Inner)), "refused: inner");
    }

    #[test]
    fn r21_long_arguments_are_cut_in_error_lines() {
        let long = "y".repeat(300);
        let line = one_line(&format!("no `{long}` here"), &[OsString::from(&long)]);
        assert!(line.contains(&format!("{}…", "y".repeat(200))), "{line}");
        assert!(!line.contains(&"y".repeat(201)));
    }
}
