//! Database stores for [`registry_credentials`]: [`SqliteStore`] (feature
//! `sqlite`), a persistent store in one file for a single instance or a
//! command-line tool, and [`PostgresStore`] (feature `postgres`), an async
//! store that many service instances share.
//!
//! Both implement the core's traits ([`CredentialStore`] and
//! [`AsyncCredentialStore`] respectively), pass its conformance suite,
//! share one schema, and keep passwords encrypted at rest with
//! XChaCha20-Poly1305 under keys the caller supplies ([`Keyring`]). A
//! resolution is one statement that returns and decrypts the winning row
//! alone; replacing an app's credential (R19) is one transaction. With
//! `sqlite`, [`SqliteStore::transaction`] runs several operations — on the
//! credentials and on the caller's own tables in the same file — as one.
//!
//! # Features
//!
//! - `sqlite`: [`SqliteStore`], over rusqlite with SQLite compiled in (a C
//!   compiler is needed to build, nothing to install).
//! - `postgres`: [`PostgresStore`], over tokio-postgres with a deadpool
//!   connection pool (needs a tokio runtime).
//! - `tokio`: [`BlockingPoolStore`], which serves a sync store (such as
//!   `SqliteStore`) to async callers as an `AsyncCredentialStore`, each
//!   call run on tokio's blocking pool so that the runtime's threads never
//!   wait on the disk. Brings tokio with its `rt` feature only.
//!
//! None is on by default.
//!
//! [`CredentialStore`]: registry_credentials::CredentialStore
//! [`AsyncCredentialStore`]: registry_credentials::store::AsyncCredentialStore
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(
        dead_code,
        reason = "without a store feature only the keys are public; the row code the stores share has no caller"
    )
)]

mod audit;
#[cfg(feature = "tokio")]
mod blocking;
mod crypto;
#[cfg(feature = "postgres")]
mod postgres;
mod schema;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::error::Error as StdError;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// This crate's README, whose examples run as doc tests (both stores).
#[doc = include_str!("../README.md")]
#[cfg(all(doctest, feature = "sqlite", feature = "postgres"))]
pub struct ReadmeDoctests;

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use blocking::{BlockingError, BlockingPoolStore};
pub use crypto::{EncryptionKey, GeneratedKey, KEY_LEN, KeyError, Keyring, MAX_KEY_ID_LEN};
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::{
    PostgresStore, PostgresTransaction, Settled, TransactionClient, postgres_error,
};

/// The PostgreSQL pool and client [`PostgresStore::pool`] and
/// [`PostgresTransaction::client`] lend, re-exported so callers name the
/// same version (its `tokio_postgres` too).
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use deadpool_postgres;
pub use schema::SchemaError;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::{SqliteOptions, SqliteStore, SqliteTransaction};

/// The SQLite bindings [`SqliteTransaction::with_connection`] lends a
/// connection of, re-exported so callers name the same version.
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use rusqlite;

use crypto::{RowIdentity, SecretBinding};
use registry_credentials::credential::CredentialSummary;
use registry_credentials::identity::{Guid, Record};
use registry_credentials::metadata::{Metadata, MetadataPatch, Requirement};
use registry_credentials::store::{Page, Paged, Query, StoreError, TimeFilter, UnreadableReason};
use registry_credentials::{
    CredentialKind, Location, Password, RegistryCredential, Scope, Username,
};

/// What failed in the database, in words that say what to do: the source
/// of [`StoreError::Backend`], and [`OpenError::Database`], for every
/// failure a person or a retry can fix. Its message names the file or the
/// server, the condition and the action; the database's own error is its
/// [`source`](StdError::source), never repeated in the message. Failures
/// none of these fit keep the driver's error as the source.
///
/// Every one of these ended the call's transaction before it took effect:
/// nothing was changed (R28); a lost commit answer is
/// [`StoreError::OutcomeUnknown`] instead. [`is_retryable`](Self::is_retryable)
/// says whether the same call may succeed later without a person's help.
///
/// RELIABILITY.md lists each failure mode, its message and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatabaseError {
    /// The file system holding the SQLite file has no space left (SQLite's
    /// `SQLITE_FULL`, or an I/O error while it has next to none).
    /// Retryable: the same call works once space is freed.
    #[error("the disk holding {} is full: free space and retry; nothing was changed", path.display())]
    DiskFull {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// Another connection held the SQLite file's write lock for longer
    /// than the busy timeout. Retryable.
    #[error(
        "another writer held {} for longer than the {} wait: retry when it is done; nothing was changed",
        path.display(),
        Seconds(*waited)
    )]
    Busy {
        /// The database file.
        path: PathBuf,
        /// The busy timeout waited for.
        waited: Duration,
        /// SQLite's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// SQLite finds the file corrupt, or not a database at all.
    #[error("the database {} is damaged: restore it from a backup; nothing was changed", path.display())]
    Damaged {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The file, its directory or its file system may not be written by
    /// this process (`SQLITE_READONLY`, or permission denied).
    #[error(
        "{} cannot be written (the file, its directory or its file system is read-only for this user): give this user write access to both, then retry; nothing was changed",
        path.display()
    )]
    ReadOnly {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The file cannot be opened (`SQLITE_CANTOPEN`): it or its directory
    /// is missing, or this user may not open it.
    #[error(
        "cannot open {}: check that it and its directory exist and that this user may read and write both; nothing was changed",
        path.display()
    )]
    CannotOpen {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// Every connection of the pool stayed in use for the pool's whole
    /// wait (deadpool's `Timeout(Wait)`). Retryable.
    #[error(
        "no database connection became free within {} ({in_use} in use): retry later; if it keeps happening, raise the pool's size above {max_size} or find what holds its connections; nothing was changed",
        Seconds(*waited)
    )]
    PoolExhausted {
        /// The pool's wait timeout.
        waited: Duration,
        /// Connections in use when the wait ended.
        in_use: usize,
        /// The pool's most connections.
        max_size: usize,
        /// The pool's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// No connection to the server could be made within the pool's create
    /// timeout (deadpool's `Timeout(Create)`). Retryable.
    #[error(
        "no connection to the database server could be made within {}: check that it is up and reachable, then retry; nothing was changed",
        Seconds(*waited)
    )]
    ConnectTimeout {
        /// The pool's create timeout.
        waited: Duration,
        /// The pool's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The connection to the server broke before the change was sent to
    /// be committed (a restart, a network cut, a terminated backend).
    /// Retryable.
    #[error(
        "the connection to the database server was lost: retry once the server is reachable; nothing was changed"
    )]
    ConnectionLost {
        /// The driver's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The server ended the connection or refuses one: it is shutting
    /// down, starting up or in recovery, or an administrator terminated
    /// the session (SQLSTATE `57P01`–`57P03`, a refused connection).
    /// Retryable.
    #[error(
        "the database server ended or refused the connection (shutting down, starting up, or an administrator's command): retry once it is up; nothing was changed"
    )]
    ServerUnavailable {
        /// The driver's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The server's disk is full (SQLSTATE `53100`). Retryable.
    #[error(
        "the database server's disk is full: free space on the server and retry; nothing was changed"
    )]
    ServerDiskFull {
        /// The driver's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The server has run out of a resource other than disk: connection
    /// slots, memory (SQLSTATE class `53`). Retryable.
    #[error(
        "the database server is out of connections or memory: retry later, or raise its limits (max_connections); nothing was changed"
    )]
    ServerBusy {
        /// The driver's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The server broke off the transaction over another one: a
    /// serialization failure, a deadlock, a lock not available (SQLSTATE
    /// `40001`, `40P01`, `55P03`). Retryable.
    #[error(
        "the database server broke off the transaction over a conflict with another one: retry; nothing was changed"
    )]
    Contention {
        /// The driver's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The server refused the login (SQLSTATE class `28`).
    #[error(
        "the database server refused the login: check the user and password of the database address; nothing was changed"
    )]
    LoginRefused {
        /// The driver's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The database user lacks a privilege the store needs (SQLSTATE
    /// `42501`).
    #[error(
        "the database user may not do what the store needs: grant it the privileges on the store's tables (or on the schema, to create them); nothing was changed"
    )]
    NotPermitted {
        /// The driver's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

impl DatabaseError {
    /// True when the same call may succeed later without a person's help:
    /// a full disk being freed counts, as space comes back without
    /// changing the store.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            DatabaseError::DiskFull { .. }
                | DatabaseError::Busy { .. }
                | DatabaseError::PoolExhausted { .. }
                | DatabaseError::ConnectTimeout { .. }
                | DatabaseError::ConnectionLost { .. }
                | DatabaseError::ServerUnavailable { .. }
                | DatabaseError::ServerDiskFull { .. }
                | DatabaseError::ServerBusy { .. }
                | DatabaseError::Contention { .. }
        )
    }

    /// This as a store error: [`StoreError::Backend`], retryable as
    /// [`is_retryable`](Self::is_retryable) says.
    pub(crate) fn into_store_error(self) -> StoreError {
        StoreError::Backend {
            retryable: self.is_retryable(),
            source: Box::new(self),
        }
    }
}

/// A duration as the messages write it: `10 s`, `1.5 s`, `250 ms`.
struct Seconds(Duration);

impl std::fmt::Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = self.0;
        if d < Duration::from_secs(1) {
            write!(f, "{} ms", d.as_millis())
        } else if d.subsec_millis() == 0 {
            write!(f, "{} s", d.as_secs())
        } else {
            write!(f, "{:.1} s", d.as_secs_f64())
        }
    }
}

/// Why a database store could not be opened.
///
/// Key and schema problems are told apart from the database failing, as
/// they need a person: a missing or wrong key, or a file written by a newer
/// release.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// A key is wrong or missing ([`KeyError::WrongKey`],
    /// [`KeyError::MissingKey`]).
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The database's schema is newer than this release, or a row is
    /// corrupt.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// The database failed in a way its source names, with what to do
    /// (a full disk, a busy or damaged file, a server that is down).
    #[error("could not open the credential database")]
    Database(#[from] DatabaseError),
    /// The database could not be reached or read, for a reason none of
    /// [`DatabaseError`]'s fit (the driver's error is the source).
    #[error("could not open the credential database{}", if *retryable { " (retry later)" } else { "; check its location and permissions" })]
    Backend {
        /// True when the same call may succeed later.
        retryable: bool,
        /// The database's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

impl OpenError {
    /// True when retrying may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            OpenError::Database(e) => e.is_retryable(),
            OpenError::Backend { retryable, .. } => *retryable,
            OpenError::Key(_) | OpenError::Schema(_) => false,
        }
    }
}

/// A failure of the database or its driver, kept typed until it is told
/// to the caller as a [`StoreError`] or an [`OpenError`].
pub(crate) enum Failure {
    /// One [`DatabaseError`] names, which says what to do.
    Database(DatabaseError),
    /// The driver's own error, for anything else.
    Driver {
        retryable: bool,
        source: Box<dyn StdError + Send + Sync>,
    },
}

impl From<Failure> for StoreError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Database(e) => e.into_store_error(),
            Failure::Driver { retryable, source } => StoreError::Backend { retryable, source },
        }
    }
}

impl From<Failure> for OpenError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Database(e) => OpenError::Database(e),
            Failure::Driver { retryable, source } => OpenError::Backend { retryable, source },
        }
    }
}

/// A transaction's `Debug`: its keyring, which prints no key, and whether
/// it only reads; never its connection.
pub(crate) fn debug_transaction(
    f: &mut std::fmt::Formatter<'_>,
    name: &str,
    keyring: &Keyring,
    read_only: bool,
) -> std::fmt::Result {
    f.debug_struct(name)
        .field("keyring", keyring)
        .field("read_only", &read_only)
        .finish_non_exhaustive()
}

/// What opening a store does about one key of its keyring, given the
/// check value the database holds for its id: verify it, or return the
/// check value to store for an id seen first.
pub(crate) fn check_key(
    key: &EncryptionKey,
    stored: Option<&[u8]>,
) -> Result<Option<Vec<u8>>, KeyError> {
    match stored {
        Some(check) => Keyring::verify_check_value(key, check).map(|()| None),
        None => Keyring::check_value(key).map(Some),
    }
}

/// The statement that finds up to `$2` rows not under the current key `$1`,
/// for `rotate` (both dialects; `<>` would not use the index).
pub(crate) const ROTATE_SELECT: &str = "SELECT scope_kind, scope_id, location, username, key_id, secret, kind, expires_at, \
     guid, created_at, updated_at, metadata FROM registry_credentials WHERE key_id < $1 OR key_id > $1 LIMIT $2";

/// The statement that forgets check values of keys that encrypt nothing
/// any more, except the current key `$1`.
pub(crate) const PRUNE_KEYS: &str = "DELETE FROM registry_credential_keys WHERE key_id <> $1 AND NOT EXISTS \
     (SELECT 1 FROM registry_credentials c WHERE c.key_id = registry_credential_keys.key_id)";

/// A row that does not decrypt with the keyring's keys.
pub(crate) fn undecryptable(e: KeyError) -> StoreError {
    StoreError::Unreadable {
        reason: UnreadableReason::Key,
        source: Box::new(e),
    }
}

/// A row whose stored data is not what this release writes.
pub(crate) fn corrupt(e: SchemaError) -> StoreError {
    StoreError::Unreadable {
        reason: UnreadableReason::Corrupt,
        source: Box::new(e),
    }
}

/// A backend failure that needs a person: retrying will not help.
pub(crate) fn fatal(e: impl StdError + Send + Sync + 'static) -> StoreError {
    StoreError::Backend {
        retryable: false,
        source: Box::new(e),
    }
}

/// The sealed password of `credential`, under the keyring's current key,
/// bound to its row and to its kind and expiry.
pub(crate) fn seal(keyring: &Keyring, c: &RegistryCredential) -> Result<Vec<u8>, StoreError> {
    let binding = SecretBinding {
        kind: kind_column(c.kind()),
        expires_at: expires_column(c),
    };
    keyring
        .seal_password(
            c.scope().as_scope_ref(),
            c.location().as_str(),
            c.username().as_str(),
            binding,
            c.password().expose(),
        )
        .map_err(fatal)
}

/// A stored row's columns after the scope.
pub(crate) struct RowData<'a> {
    /// Every column but the secret's two.
    pub summary: SummaryRow<'a>,
    pub key_id: &'a str,
    pub secret: &'a [u8],
}

impl<'a> RowData<'a> {
    /// The columns from `first` on: location, username, key id, secret,
    /// kind, expiry, GUID, created and updated times, metadata.
    pub(crate) fn read(row: impl Columns<'a>, first: usize) -> Result<Self, StoreError> {
        Ok(RowData {
            summary: SummaryRow::read_around(row, first, 2)?,
            key_id: row.text(first + 2)?,
            secret: row.bytes(first + 3)?,
        })
    }
}

/// The credential of a stored row at `scope`: [`RowData`]'s columns from
/// `first` on, decoded and its secret opened.
pub(crate) fn read_row<'a>(
    keyring: &Keyring,
    scope: Scope,
    row: impl Columns<'a>,
    first: usize,
) -> Result<RegistryCredential, StoreError> {
    decode(keyring, scope, RowData::read(row, first)?)
}

/// [`read_row`] of a row whose scope kind and id stand at `first`, before
/// [`RowData`]'s columns.
pub(crate) fn read_scoped_row<'a>(
    keyring: &Keyring,
    row: impl Columns<'a>,
    first: usize,
) -> Result<RegistryCredential, StoreError> {
    read_row(keyring, row.scope(first)?, row, first + 2)
}

/// A query row's summary: the count at 0, scope kind and id at 1, then
/// [`SUMMARY_COLUMNS`]; no secret is read or opened (R21).
pub(crate) fn read_summary<'a>(
    row: impl Columns<'a>,
    scopes: &mut PageScopes,
) -> Result<CredentialSummary, StoreError> {
    let scope = scopes.get(row.small(1)?, row.text(2)?)?;
    decode_summary(scope, SummaryRow::read(row, 3)?)
}

/// A row of either driver, its columns read by index as the store's
/// columns are typed; a column of another type is a fatal error (the
/// schema is not the store's).
pub(crate) trait Columns<'a>: Copy {
    /// A `TEXT NOT NULL` column.
    fn text(self, i: usize) -> Result<&'a str, StoreError>;
    /// A `TEXT` column.
    fn text_or_null(self, i: usize) -> Result<Option<&'a str>, StoreError>;
    /// A `BLOB NOT NULL` (`BYTEA`) column.
    fn bytes(self, i: usize) -> Result<&'a [u8], StoreError>;
    /// A `BLOB` (`BYTEA`) column.
    fn bytes_or_null(self, i: usize) -> Result<Option<&'a [u8]>, StoreError>;
    /// A kind code (`SMALLINT` in PostgreSQL).
    fn small(self, i: usize) -> Result<i64, StoreError>;
    /// A time (`BIGINT NOT NULL`).
    fn int(self, i: usize) -> Result<i64, StoreError>;
    /// An expiry (`BIGINT`).
    fn int_or_null(self, i: usize) -> Result<Option<i64>, StoreError>;

    /// The scope of the kind and id columns at `first` and after it.
    fn scope(self, first: usize) -> Result<Scope, StoreError> {
        let kind = schema::kind_of(self.small(first)?).map_err(corrupt)?;
        schema::scope_of(kind, self.text(first + 1)?).map_err(corrupt)
    }
}

/// A new credential's record (R22): a random GUID, created and updated
/// now.
pub(crate) fn fresh_record() -> Record {
    Record::fresh(SystemTime::now())
}

/// `record`, updated now (R22).
pub(crate) fn touched(record: Option<&Record>) -> Record {
    record.map_or_else(fresh_record, |r| r.touched(SystemTime::now()))
}

/// The `created_at` or `updated_at` column of whole seconds `secs`.
pub(crate) fn time_column(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// The `metadata` column of `credential` (R22): its labels and
/// annotations as a JSON object `{"labels": {…}, "annotations": {…}}`, or
/// `NULL` when it has none. Labels are also kept one per row in
/// `registry_credential_labels`, for selectors; this column is what reads
/// return, so that a read needs no second statement.
pub(crate) fn metadata_column(credential: &RegistryCredential) -> Option<String> {
    let metadata = credential.metadata();
    if metadata.is_empty() {
        return None;
    }
    let labels: serde_json::Map<String, serde_json::Value> = metadata
        .labels()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.as_str().into()))
        .collect();
    let annotations: serde_json::Map<String, serde_json::Value> = metadata
        .annotations()
        .map(|(k, v)| (k.as_str().to_owned(), v.into()))
        .collect();
    Some(serde_json::json!({ "labels": labels, "annotations": annotations }).to_string())
}

/// The metadata a `metadata` column holds, every key and value checked
/// again (R22); `Err` says what is wrong.
fn metadata_of_column(text: &str) -> Result<Metadata, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("the metadata is not JSON ({e})"))?;
    let pairs = |part: &str| -> Result<Vec<(&str, Option<&str>)>, String> {
        match value.get(part) {
            None => Ok(Vec::new()),
            Some(serde_json::Value::Object(map)) => map
                .iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(v) => Ok((k.as_str(), Some(v.as_str()))),
                    _ => Err(format!(
                        "the metadata's {part} value of `{}` is not text",
                        k.escape_debug()
                    )),
                })
                .collect(),
            Some(_) => Err(format!("the metadata's {part} are not an object")),
        }
    };
    let patch = MetadataPatch::labels(pairs("labels")?).with_annotations(pairs("annotations")?);
    let mut metadata = Metadata::default();
    metadata
        .merge(&patch)
        .map_err(|e| format!("the metadata is not valid ({e})"))?;
    Ok(metadata)
}

/// The `kind` column of a credential of `kind` (R24): 0 password, 1
/// identity token, 2 registry token; rows from before kinds read as 0.
pub(crate) fn kind_column(kind: CredentialKind) -> i64 {
    match kind {
        CredentialKind::IdentityToken => 1,
        CredentialKind::RegistryToken => 2,
        _ => 0,
    }
}

/// The kind a `kind` column holds.
fn kind_of_column(column: i64) -> Option<CredentialKind> {
    CredentialKind::ALL
        .into_iter()
        .find(|k| kind_column(*k) == column)
}

/// The `expires_at` column of `credential` (R25): whole seconds since
/// 1970 (UTC); `NULL` for none.
pub(crate) fn expires_column(credential: &RegistryCredential) -> Option<i64> {
    credential
        .expires_at()
        // A credential keeps no expiry before 1970.
        .map(|at| at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
        .map(|seconds| i64::try_from(seconds).unwrap_or(i64::MAX))
}

/// The time an `expires_at` column holds.
fn time_of_column(seconds: i64) -> Option<SystemTime> {
    // A time before 1970 is 1970, as `RegistryCredential` keeps it.
    UNIX_EPOCH.checked_add(Duration::from_secs(u64::try_from(seconds).unwrap_or(0)))
}

/// The credential a row holds, its password decrypted and every part
/// checked: a row that fails is an error, never a wrong credential.
pub(crate) fn decode(
    keyring: &Keyring,
    scope: Scope,
    row: RowData<'_>,
) -> Result<RegistryCredential, StoreError> {
    let corrupt = |what: String| corrupt(SchemaError::CorruptRow { what });
    let (username, key_id, secret) = (row.summary.username, row.key_id, row.secret);
    let binding = SecretBinding {
        kind: row.summary.kind,
        expires_at: row.summary.expires_at,
    };
    let summary = decode_summary(scope, row.summary)?;
    let identity = RowIdentity {
        kind: summary.scope().kind(),
        scope_id: summary.scope().id().unwrap_or(""),
        location: summary.location().as_str(),
        binding,
    };
    let password = keyring
        .open_password(identity, username, key_id, secret)
        .map_err(undecryptable)?;
    let password = Password::new(password).map_err(|e| {
        corrupt(format!(
            "the password at `{}` in {}: {e}",
            summary.location(),
            summary.scope()
        ))
    })?;
    Ok(summary.into_credential(password))
}

/// The scopes of a page's rows, each checked once: a page holds the rows
/// of a few scopes, so a row of the scope before it takes that one again
/// instead of checking its id anew.
#[derive(Default)]
pub(crate) struct PageScopes(Option<(i64, String, Scope)>);

impl PageScopes {
    /// The scope of the kind code `kind` and id `id`, checked
    /// ([`schema::scope_of`]) unless it is the last one asked for.
    pub(crate) fn get(&mut self, kind: i64, id: &str) -> Result<Scope, StoreError> {
        if let Some((k, i, scope)) = &self.0 {
            if *k == kind && i == id {
                return Ok(scope.clone());
            }
        }
        let scope =
            schema::scope_of(schema::kind_of(kind).map_err(corrupt)?, id).map_err(corrupt)?;
        self.0 = Some((kind, id.to_owned(), scope.clone()));
        Ok(scope)
    }
}

impl<'a> SummaryRow<'a> {
    /// The [`SUMMARY_COLUMNS`] from `first` on.
    pub(crate) fn read(row: impl Columns<'a>, first: usize) -> Result<Self, StoreError> {
        Self::read_around(row, first, 0)
    }

    /// Its columns from `first` on, with `skipped` columns of another
    /// reader's between the username and the kind (a stored row's secret).
    fn read_around(
        row: impl Columns<'a>,
        first: usize,
        skipped: usize,
    ) -> Result<Self, StoreError> {
        let rest = first + 2 + skipped;
        Ok(SummaryRow {
            location: row.text(first)?,
            username: row.text(first + 1)?,
            kind: row.small(rest)?,
            expires_at: row.int_or_null(rest + 1)?,
            guid: row.bytes(rest + 2)?,
            created_at: row.int(rest + 3)?,
            updated_at: row.int(rest + 4)?,
            metadata: row.text_or_null(rest + 5)?,
        })
    }
}

/// A row's columns but its secret: what a listing reads (R21).
pub(crate) struct SummaryRow<'a> {
    pub location: &'a str,
    pub username: &'a str,
    /// [`kind_column`] of its kind.
    pub kind: i64,
    /// [`expires_column`] of its expiry.
    pub expires_at: Option<i64>,
    /// The 16 bytes of its GUID (R22).
    pub guid: &'a [u8],
    /// Whole seconds since 1970 of its creation and last update (R22).
    pub created_at: i64,
    /// See `created_at`.
    pub updated_at: i64,
    /// [`metadata_column`] of its labels and annotations, `NULL` for none.
    pub metadata: Option<&'a str>,
}

/// The columns a listing selects after the scope's, in [`SummaryRow`]'s
/// order, of the page's rows (`t`).
pub(crate) const SUMMARY_COLUMNS: &str = "t.location, t.username, t.kind, t.expires_at, t.guid, \
     t.created_at, t.updated_at, t.metadata";

/// What a row shows but its secret, every part checked as [`decode`]
/// checks it; the secret is not opened.
pub(crate) fn decode_summary(
    scope: Scope,
    row: SummaryRow<'_>,
) -> Result<CredentialSummary, StoreError> {
    let corrupt = |what: String| corrupt(SchemaError::CorruptRow { what });
    let location = Location::parse(row.location).map_err(|e| {
        corrupt(format!(
            "location `{}` at {scope} is not valid ({e})",
            row.location.escape_debug()
        ))
    })?;
    if location.as_str() != row.location {
        return Err(corrupt(format!(
            "location `{}` at {scope} is not in normal form",
            row.location.escape_debug()
        )));
    }
    let username = Username::new(row.username)
        .map_err(|e| corrupt(format!("the username at `{location}` in {scope}: {e}")))?;
    let kind = kind_of_column(row.kind).ok_or_else(|| {
        corrupt(format!(
            "the kind at `{location}` in {scope} is {}, not one of 0, 1 and 2",
            row.kind
        ))
    })?;
    let expires_at = row
        .expires_at
        .map(|seconds| {
            time_of_column(seconds).ok_or_else(|| {
                corrupt(format!(
                    "the expiry at `{location}` in {scope} ({seconds} s) is out of range"
                ))
            })
        })
        .transpose()?;
    let guid = <[u8; 16]>::try_from(row.guid)
        .ok()
        .and_then(|bytes| Guid::from_bytes(bytes).ok())
        .ok_or_else(|| {
            corrupt(format!(
                "the GUID at `{location}` in {scope} is not 16 bytes, not all zero"
            ))
        })?;
    let secs = |what: &str, secs: i64| {
        // Out of range too: a time `SystemTime` cannot hold.
        u64::try_from(secs)
            .ok()
            .filter(|s| UNIX_EPOCH.checked_add(Duration::from_secs(*s)).is_some())
            .ok_or_else(|| {
                corrupt(format!(
                    "the {what} at `{location}` in {scope} ({secs} s) is out of range"
                ))
            })
    };
    let record = Record::from_secs(
        guid,
        secs("created_at", row.created_at)?,
        secs("updated_at", row.updated_at)?,
    );
    let metadata = row
        .metadata
        .map(metadata_of_column)
        .transpose()
        .map_err(|what| corrupt(format!("{what} at `{location}` in {scope}")))?
        .unwrap_or_default();
    Ok(
        CredentialSummary::new(scope, location, username, kind, record)
            .with_expires_at(expires_at)
            .with_metadata(metadata),
    )
}

/// A parameter of a [`QuerySql`] statement, typed as its column is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    /// A scope kind code (`SMALLINT` in PostgreSQL).
    Small(i16),
    /// A time, a count or an offset (`BIGINT`).
    Int(i64),
    /// A scope id, a location, a label key or value.
    Text(String),
    /// A GUID's 16 bytes.
    Bytes(Vec<u8>),
    /// A `NULL` text (an event's organization or space, when none).
    Null,
}

impl Param {
    /// A GUID's bytes.
    pub(crate) fn guid(guid: &Guid) -> Param {
        Param::Bytes(guid.as_bytes().to_vec())
    }

    /// Text: an id, a location, a name.
    pub(crate) fn text(text: &impl AsRef<str>) -> Param {
        Param::Text(text.as_ref().to_owned())
    }
}

/// The statement that answers a [`Query`] (R22, R23), the same text in
/// both dialects but for the [`PageJoin`] (`$n` parameters, which SQLite
/// reads too): each row is
/// the count of every match, then the page's row (scope kind and id, then
/// [`SUMMARY_COLUMNS`]: no secret is read), so that the count and the page
/// come from one snapshot. A page past the end has no row; its count is
/// [`count_sql`](Self::count_sql)'s. Every filter is a condition on an
/// indexed column or an `EXISTS` over the labels' keys, and the order is
/// an index's: the database selects and pages, nothing is filtered after
/// it. A join of the page's keys to their rows need not keep the keys'
/// order (PostgreSQL's plans do not promise it), so [`query_page`] sorts
/// the page's rows, 50 or so, as they arrive.
#[derive(Debug)]
pub(crate) struct QuerySql {
    pub sql: String,
    /// The count alone, for a page past the end.
    pub count_sql: String,
    /// The statement's parameters, the offset last.
    pub params: Vec<Param>,
}

/// The conditions and parameters of one statement, built in order: each
/// value becomes the next `$n` parameter. [`QuerySql`] and the audit
/// events' statement are built with it.
#[derive(Debug, Default)]
pub(crate) struct Conditions {
    params: Vec<Param>,
    conditions: Vec<String>,
}

impl Conditions {
    /// `value` as the next parameter; its placeholder.
    pub(crate) fn param(&mut self, value: Param) -> String {
        self.params.push(value);
        format!("${}", self.params.len())
    }

    /// `condition`, joined to the others with `AND`.
    pub(crate) fn push(&mut self, condition: String) {
        self.conditions.push(condition);
    }

    /// `column IN (values…)`; no values select nothing.
    pub(crate) fn in_list(
        &mut self,
        column: &str,
        values: impl IntoIterator<Item = Param>,
    ) -> String {
        let placeholders: Vec<String> = values.into_iter().map(|v| self.param(v)).collect();
        if placeholders.is_empty() {
            "1 = 0".to_owned()
        } else {
            format!("{column} IN ({})", placeholders.join(", "))
        }
    }

    /// Where a filter gives `values`, the condition that `column` is one
    /// of them, each bound as `param` makes it; no condition for `None`.
    pub(crate) fn any_of<T>(
        &mut self,
        column: &str,
        values: Option<&[T]>,
        param: impl Fn(&T) -> Param,
    ) {
        if let Some(values) = values {
            let condition = self.in_list(column, values.iter().map(param));
            self.push(condition);
        }
    }

    /// The condition that the (scope kind, scope id) `columns` are one of
    /// `scopes`'.
    pub(crate) fn scopes(&mut self, columns: &str, scopes: &[Scope]) {
        if scopes.is_empty() {
            return self.push("1 = 0".to_owned());
        }
        let rows: Vec<String> = scopes
            .iter()
            .map(|s| {
                let (kind, id) = schema::scope_columns(s.as_scope_ref());
                let kind = self.param(Param::Small(kind));
                let id = self.param(Param::Text(id.to_owned()));
                format!("(CAST({kind} AS SMALLINT), CAST({id} AS TEXT))")
            })
            .collect();
        self.push(format!("{columns} IN (VALUES {})", rows.join(", ")));
    }

    /// The conditions of `filter` on the time `column`.
    pub(crate) fn time(&mut self, column: &str, filter: &TimeFilter) {
        self.any_of(column, filter.exact_secs(), |s| Param::Int(time_column(*s)));
        for (op, bound) in filter.bounds_secs() {
            if let Some(bound) = bound {
                let p = self.param(Param::Int(time_column(bound)));
                self.push(format!("{column} {op} {p}"));
            }
        }
    }

    /// ` WHERE` and every condition, or nothing when there are none.
    pub(crate) fn where_clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conditions.join(" AND "))
        }
    }

    /// `page`'s limit, as a number in the statement's text, and the
    /// placeholder of its offset, the last parameter. SQLite reads a bound
    /// `LIMIT` while it plans, so a statement whose limit were bound would
    /// be planned again each time it is bound; one statement per page size
    /// is cached instead.
    pub(crate) fn page(&mut self, page: &impl Paged) -> (String, String) {
        let offset = self.param(Param::Int(i64::try_from(page.offset()).unwrap_or(i64::MAX)));
        (page.per_page().to_string(), offset)
    }

    /// The parameters, in order.
    pub(crate) fn into_params(self) -> Vec<Param> {
        self.params
    }
}

/// Which key the page's keys are joined to their rows by, the one each
/// database's (scope, time, GUID) index gives without reading the table.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PageJoin {
    /// The primary key: SQLite's tables without a rowid keep it in every
    /// index.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    PrimaryKey,
    /// The GUID: PostgreSQL's index holds it (and not the location), so
    /// the keys are an index-only scan and the GUID's unique index finds
    /// each row.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Guid,
}

impl QuerySql {
    pub(crate) fn new(query: &Query, join: PageJoin) -> QuerySql {
        let mut c = Conditions::default();
        c.any_of("c.guid", query.guid_filter(), Param::guid);
        c.any_of("c.scope_kind", query.scope_kind_filter(), |k| {
            Param::Small(schema::kind_code(*k))
        });
        if let Some(scopes) = query.scope_filter() {
            c.scopes("(c.scope_kind, c.scope_id)", scopes);
        }
        c.any_of("c.location", query.location_filter(), Param::text);
        // A requirement that needs a label is `c.guid IN` the GUIDs the
        // (key, value) index gives, so that a selective selector drives
        // the statement from that index; one that a missing label meets
        // is `NOT EXISTS` over the (guid, key) key.
        for requirement in query
            .selector_filter()
            .map_or(&[][..], |s| s.requirements())
        {
            let (negated, key, values) = match requirement {
                Requirement::In(k, v) => (false, k, Some(v)),
                Requirement::NotIn(k, v) => (true, k, Some(v)),
                Requirement::Exists(k) => (false, k, None),
                Requirement::Absent(k) => (true, k, None),
            };
            let key = c.param(Param::Text(key.as_str().to_owned()));
            let mut labels = if negated {
                format!(
                    "NOT EXISTS (SELECT 1 FROM registry_credential_labels AS l \
                     WHERE l.guid = c.guid AND l.key = {key}"
                )
            } else {
                format!(
                    "c.guid IN (SELECT l.guid FROM registry_credential_labels AS l WHERE l.key = {key}"
                )
            };
            if let Some(values) = values {
                let values = values.iter().map(|v| Param::Text(v.as_str().to_owned()));
                labels.push_str(" AND ");
                labels.push_str(&c.in_list("l.value", values));
            }
            labels.push(')');
            c.push(labels);
        }
        c.time("c.created_at", query.created_filter());
        c.time("c.updated_at", query.updated_filter());
        let filter = c.where_clause();
        let order = query.order();
        let time = if order.by_updated_at() {
            "updated_at"
        } else {
            "created_at"
        };
        let direction = if order.descending() { " DESC" } else { "" };
        let (limit, offset) = c.page(query);
        // The page's keys are found first, on an index that holds the
        // scope, the time and the GUID: only the page's rows are then
        // read, by `join`'s key.
        let (keys, on) = match join {
            PageJoin::PrimaryKey => (
                "c.location, c.scope_kind, c.scope_id",
                "t.location = k.location AND t.scope_kind = k.scope_kind AND t.scope_id = k.scope_id",
            ),
            PageJoin::Guid => ("c.guid", "t.guid = k.guid"),
        };
        let count_sql = format!("SELECT count(*) FROM registry_credentials AS c{filter}");
        let sql = format!(
            "SELECT ({count_sql}), t.scope_kind, t.scope_id, {SUMMARY_COLUMNS} FROM (\
             SELECT {keys} FROM registry_credentials AS c{filter} \
             ORDER BY c.{time}{direction}, c.guid{direction} LIMIT {limit} OFFSET {offset}\
             ) AS k JOIN registry_credentials AS t ON {on}"
        );
        QuerySql {
            sql,
            count_sql,
            params: c.into_params(),
        }
    }

    /// The parameters of [`count_sql`](Self::count_sql): all but the
    /// offset.
    pub(crate) fn count_params(&self) -> &[Param] {
        &self.params[..self.params.len() - 1]
    }
}

/// The page of `query` whose rows [`QuerySql`]'s statement read, in the
/// query's order, with `total`, its count of every match.
pub(crate) fn query_page(query: &Query, total: i64, mut resources: Vec<CredentialSummary>) -> Page {
    resources.sort_unstable_by(|a, b| query.compare(a, b));
    Page::new(query, u64::try_from(total).unwrap_or(0), resources)
}

/// The labels of `credential`, for the rows of `registry_credential_labels`.
pub(crate) fn label_rows(credential: &RegistryCredential) -> impl Iterator<Item = (&str, &str)> {
    credential
        .metadata()
        .labels()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// What the migration tests of both stores share: the rows a database of
/// an earlier schema version is made with, and what must be true of them
/// once it is opened by this release (R22, R24, R25).
#[cfg(test)]
pub(crate) mod earlier_version {
    use std::sync::Arc;

    use registry_credentials::identity::Record;
    use registry_credentials::scope::{OrgId, ScopeRef};
    use registry_credentials::{CredentialKind, RegistryCredential};

    use crate::Keyring;

    /// (scope, location, username, password) of each row, in the order
    /// `list_all` gives them.
    pub(crate) fn rows(
        org: &OrgId,
    ) -> [(ScopeRef<'_>, &'static str, &'static str, &'static str); 2] {
        [
            (
                ScopeRef::Org(org),
                "registry.example.com",
                "u",
                "kept-secret",
            ),
            (ScopeRef::Foundation, "docker.io", "hub", "hub-secret"),
        ]
    }

    /// The values of a row as an earlier version's INSERT writes them:
    /// scope kind and id, location, username, key id, sealed password.
    pub(crate) type SealedRow<'a> = (i16, &'a str, &'static str, &'static str, &'a str, Vec<u8>);

    /// Each of [`rows`] as a [`SealedRow`], the password sealed under
    /// `ring`'s current key as every version seals one.
    pub(crate) fn sealed_rows<'a>(ring: &'a Keyring, org: &'a OrgId) -> Vec<SealedRow<'a>> {
        rows(org)
            .into_iter()
            .map(|(scope, location, user, password)| {
                let binding = crate::crypto::SecretBinding::default();
                let sealed = ring
                    .seal_password(scope, location, user, binding, password)
                    .unwrap();
                let (kind, id) = crate::schema::scope_columns(scope);
                (kind, id, location, user, ring.current().id(), sealed)
            })
            .collect()
    }

    /// The INSERT of one of [`sealed_rows`] into a database at `version`,
    /// its six values written `{marker}1` to `{marker}6` (`$` or `?`).
    /// From version 4 a row has its identity (R22), set as the store sets
    /// it: `identity` is the dialect's random GUID, now, and now again.
    pub(crate) fn insert(version: u32, marker: char, identity: &str) -> String {
        let (columns, identity) = if version >= 4 {
            (", guid, created_at, updated_at", identity)
        } else {
            ("", "")
        };
        let values: Vec<String> = (1..=6).map(|n| format!("{marker}{n}")).collect();
        format!(
            "INSERT INTO registry_credentials \
             (scope_kind, scope_id, location, username, key_id, secret{columns}) \
             VALUES ({}{identity})",
            values.join(", ")
        )
    }

    /// Whole seconds since 1970, now.
    pub(crate) fn now_secs() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    /// Asserts that `all`, read after migrating from `version` at
    /// `before`, is every row kept: each a password credential without an
    /// expiry, with a GUID of its own, created and updated at the
    /// migration. Returns their records.
    pub(crate) fn assert_kept(
        all: &[Arc<RegistryCredential>],
        version: u32,
        before: u64,
    ) -> Vec<Record> {
        let org = OrgId::new("o").unwrap();
        let got: Vec<_> = all
            .iter()
            .map(|c| {
                (
                    c.location().as_str(),
                    c.username().as_str(),
                    c.password().expose(),
                    c.kind(),
                    c.expires_at(),
                )
            })
            .collect();
        let want: Vec<_> = rows(&org)
            .iter()
            .map(|(_, l, u, p)| (*l, *u, *p, CredentialKind::Password, None))
            .collect();
        assert_eq!(got, want, "from version {version}");
        let records: Vec<Record> = all.iter().map(|c| *c.record().unwrap()).collect();
        assert_ne!(records[0].guid(), records[1].guid());
        for r in &records {
            assert!(
                r.created_secs() + 1 >= before && r.created_secs() <= before + 60,
                "{r:?}"
            );
            assert_eq!(r.created_at(), r.updated_at());
        }
        records
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use registry_credentials::credential::CredentialSummary;
    use registry_credentials::identity::{Guid, Record};
    use registry_credentials::store::{OrderBy, Query};
    use registry_credentials::{CredentialKind, Scope, Username};

    use super::query_page;

    /// R22, R23: a page whose rows the database gave in another order is
    /// answered in the query's order, time first and the GUID after.
    #[test]
    fn r22_r23_a_page_read_out_of_order_is_put_in_the_query_order() {
        let summary = |secs: u64, guid: &str| {
            let at = UNIX_EPOCH + Duration::from_secs(secs);
            CredentialSummary::new(
                Scope::Foundation,
                format!("r{secs}-{}.example.com", &guid[..1])
                    .parse()
                    .unwrap(),
                Username::new("u").unwrap(),
                CredentialKind::Password,
                Record::new(guid.parse::<Guid>().unwrap(), at, at),
            )
        };
        let (a, b) = (
            "1aaaaaaa-0000-4000-8000-000000000000",
            "2bbbbbbb-0000-4000-8000-000000000000",
        );
        let read = || {
            vec![
                summary(20, a),
                summary(10, b),
                summary(20, b),
                summary(10, a),
            ]
        };
        let order = |query: &Query| {
            query_page(query, 4, read())
                .resources()
                .iter()
                .map(|c| (c.record().created_secs(), c.record().guid().to_string()))
                .collect::<Vec<_>>()
        };
        let at = |secs, guid: &str| (secs, guid.to_owned());
        assert_eq!(
            order(&Query::new()),
            [at(10, a), at(10, b), at(20, a), at(20, b)]
        );
        assert_eq!(
            order(&Query::new().order_by(OrderBy::CreatedAtDescending)),
            [at(20, b), at(20, a), at(10, b), at(10, a)]
        );
        assert_eq!(query_page(&Query::new(), 4, read()).total_results(), 4);
    }
}
