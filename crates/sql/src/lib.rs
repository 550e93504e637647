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

#[cfg(feature = "tokio")]
mod blocking;
mod crypto;
#[cfg(feature = "postgres")]
mod postgres;
mod schema;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::error::Error as StdError;

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
pub use postgres::{PostgresStore, Settled};
pub use schema::SchemaError;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::{SqliteOptions, SqliteStore, SqliteTransaction};

/// The SQLite bindings [`SqliteTransaction::with_connection`] lends a
/// connection of, re-exported so callers name the same version.
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use rusqlite;

use crypto::RowIdentity;
use registry_credentials::store::{StoreError, UnreadableReason};
use registry_credentials::{Credential, Location, Password, RegistryCredential, Scope, Username};

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
    /// The database could not be reached or read.
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
        matches!(
            self,
            OpenError::Backend {
                retryable: true,
                ..
            }
        )
    }
}

impl From<StoreError> for OpenError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unreadable { source, .. } => match source.downcast::<KeyError>() {
                Ok(k) => OpenError::Key(*k),
                Err(source) => match source.downcast::<SchemaError>() {
                    Ok(s) => OpenError::Schema(*s),
                    Err(source) => OpenError::Backend {
                        retryable: false,
                        source,
                    },
                },
            },
            StoreError::Backend { retryable, source } => match source.downcast::<KeyError>() {
                Ok(k) => OpenError::Key(*k),
                Err(source) => match source.downcast::<SchemaError>() {
                    Ok(s) => OpenError::Schema(*s),
                    Err(source) => OpenError::Backend { retryable, source },
                },
            },
            other => OpenError::Backend {
                retryable: false,
                source: Box::new(other),
            },
        }
    }
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
pub(crate) const ROTATE_SELECT: &str = "SELECT scope_kind, scope_id, location, username, key_id, secret \
     FROM registry_credentials WHERE key_id < $1 OR key_id > $1 LIMIT $2";

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

/// The sealed password of `credential`, under the keyring's current key.
pub(crate) fn seal(keyring: &Keyring, c: &RegistryCredential) -> Result<Vec<u8>, StoreError> {
    keyring
        .seal_password(
            c.scope().as_scope_ref(),
            c.location().as_str(),
            c.username().as_str(),
            c.password().expose(),
        )
        .map_err(fatal)
}

/// A stored row's columns after the scope.
pub(crate) struct RowData<'a> {
    pub location: &'a str,
    pub username: &'a str,
    pub key_id: &'a str,
    pub secret: &'a [u8],
}

/// The credential a row holds, its password decrypted and every part
/// checked: a row that fails is an error, never a wrong credential.
pub(crate) fn decode(
    keyring: &Keyring,
    scope: Scope,
    row: RowData<'_>,
) -> Result<RegistryCredential, StoreError> {
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
    let identity = RowIdentity {
        kind: scope.kind(),
        scope_id: scope.id().unwrap_or(""),
        location: row.location,
    };
    let password = keyring
        .open_password(identity, row.username, row.key_id, row.secret)
        .map_err(undecryptable)?;
    let password = Password::new(password)
        .map_err(|e| corrupt(format!("the password at `{location}` in {scope}: {e}")))?;
    Ok(RegistryCredential::new(
        scope,
        location,
        Credential::from_parts(username, password),
    ))
}
