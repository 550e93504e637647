//! `SqliteStore`: credentials in one SQLite file, passwords encrypted at
//! rest.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use rusqlite::types::{FromSqlResult, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};

use registry_credentials::credential::{Credential, CredentialUpdate};
use registry_credentials::identity::Guid;
use registry_credentials::scope::{AppId, ScopeRef};
use registry_credentials::store::audit::{
    self, AuditContext, AuditEvent, AuditQuery, Write, Written,
};
use registry_credentials::store::{
    AppCredentialReplaced, CredentialSource, CredentialStore, InlineStore, Key, Page, Query,
    StoreError, block_on_ready,
};
use registry_credentials::{Location, RegistryCredential, Scope};

use crate::audit::{EventPage, INSERT_EVENT, audit_sql, event_params};
use crate::schema::{self, SchemaError, scope_columns};
use crate::{
    Columns, DatabaseError, Failure, KeyError, Keyring, OpenError, PRUNE_KEYS, PageJoin,
    PageScopes, Param, QuerySql, ROTATE_SELECT, check_key, corrupt, expires_column, fatal,
    fresh_record, kind_column, label_rows, metadata_column, query_page, read_row, read_scoped_row,
    read_summary, seal, time_column, touched,
};

/// How a [`SqliteStore`] uses its file.
///
/// ```
/// use std::time::Duration;
/// use registry_credentials_sql::SqliteOptions;
/// let options = SqliteOptions::default()
///     .busy_timeout(Duration::from_secs(10))
///     .idle_connections(8);
/// assert!(format!("{options:?}").contains("busy_timeout: 10s"));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SqliteOptions {
    busy_timeout: Duration,
    idle_connections: usize,
    synchronous_full: bool,
    create: bool,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            busy_timeout: Duration::from_secs(5),
            idle_connections: 4,
            synchronous_full: true,
            create: true,
        }
    }
}

impl SqliteOptions {
    /// How long a call waits for another connection or process holding the
    /// write lock before failing with a retryable error. Default: 5 s.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// How many open connections the store keeps for reuse; calls made at
    /// once beyond that open more, closed when done. Default: 4.
    pub fn idle_connections(mut self, n: usize) -> Self {
        self.idle_connections = n.max(1);
        self
    }

    /// Whether every commit waits for the disk (`synchronous = FULL`, the
    /// default): an acknowledged write then survives a power cut, not only
    /// a crash of the process. `false` uses `NORMAL`, which in WAL mode
    /// still survives a crash of the process and is faster to write.
    pub fn sync_every_commit(mut self, full: bool) -> Self {
        self.synchronous_full = full;
        self
    }

    /// Whether opening may create the file and the store's tables (the
    /// default). With `false`, a missing file, or a file without the
    /// store's tables, is an error ([`SchemaError::NotAStore`] for the
    /// latter) and nothing is created or written: for a tool that must
    /// notice a database that went missing instead of starting over.
    pub fn create(mut self, create: bool) -> Self {
        self.create = create;
        self
    }
}

/// Credentials in one SQLite file, the persistent embedded store; passwords
/// are encrypted at rest with the caller's [`Keyring`].
///
/// - One row per credential; the database enforces one credential per
///   location and scope (R13, R16), so two writers racing to create the same
///   location cannot both succeed, in one process or several.
/// - A whole resolution is one query that reads one row:
///   [`first_match`](CredentialSource::first_match) answers every (scope,
///   location) key of a [`Plan`](registry_credentials::resolve::Plan) with
///   one statement that looks the keys up in the plan's order and stops at
///   the first hit (`LIMIT 1`), so it returns the winning row alone without
///   sorting, looks up no key after the winner's, and decrypts the winner
///   alone. Each scope and each location is bound once.
/// - Replacing an app's credentials (R19) is one transaction.
/// - Several operations run as one transaction with
///   [`transaction`](Self::transaction) (or, reading,
///   [`read_transaction`](Self::read_transaction)), which hands out a
///   [`SqliteTransaction`]: a store on the open transaction that also lends
///   its connection, so a caller's own tables in the same file (a
///   directory, a session) change together with the credentials.
/// - Opening reads the schema and key check values without the write lock
///   (it writes only to migrate or to record a new key id), retries the
///   switch to WAL mode under the busy timeout, and creates a new file
///   readable by its owner alone (0600; SQLite gives the WAL and
///   shared-memory files the same mode).
/// - Every write is one transaction (`BEGIN IMMEDIATE`); the file is in WAL
///   mode, so readers never wait for writers, and by default every commit is
///   synced to disk before the call returns
///   ([`SqliteOptions::sync_every_commit`]).
/// - It never returns [`StoreError::OutcomeUnknown`]: SQLite answers every
///   commit in the process that made it, and a failed commit is rolled
///   back, so a failed call changed nothing (R28). A process killed during
///   a write leaves that write whole or absent, never part of it.
/// - Share it between threads (it is `Send + Sync`, and clones share one
///   pool of connections) and between processes opening the same file.
/// - Each password is sealed with XChaCha20-Poly1305 under the keyring's
///   current key, with a random nonce and the row's scope, location and
///   username bound in; [`rotate`](Self::rotate) moves every row to the
///   current key. A wrong or missing key is an error ([`KeyError`]), never
///   a garbled password.
/// - The schema is versioned (`PRAGMA user_version`); opening a file made
///   by an older release migrates it, and a file from a newer release is
///   refused.
///
/// ```
/// use registry_credentials::{resolve, App, Credential, CredentialStore, RegistryCredential, Scope};
/// use registry_credentials_sql::{EncryptionKey, KeyError, Keyring, OpenError, SqliteStore};
///
/// # let dir = std::env::temp_dir().join(format!("rc-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let path = dir.join("credentials.db");
/// // In a real service the key comes from a secret manager.
/// let key = EncryptionKey::from_hex("2026-11", &"5a".repeat(32))?;
/// let store = SqliteStore::open(&path, Keyring::new(key))?;
/// store.create(RegistryCredential::new(
///     Scope::Foundation,
///     "docker.io".parse()?,
///     Credential::new("hub-user", "hub-password")?,
/// ))?;
/// drop(store);
///
/// // Reopened, with the same key: the credential is there.
/// let key = EncryptionKey::from_hex("2026-11", &"5a".repeat(32))?;
/// let store = SqliteStore::open(&path, Keyring::new(key))?;
/// let app = App::new("org", "space", "app")?;
/// let found = resolve(&store, &app, &"nginx".parse()?)?.expect("a credential");
/// assert_eq!(found.credential().password().expose(), "hub-password");
///
/// // The wrong key under the same id is refused.
/// let wrong = EncryptionKey::from_hex("2026-11", &"00".repeat(32))?;
/// let err = SqliteStore::open(&path, Keyring::new(wrong)).unwrap_err();
/// assert!(matches!(err, OpenError::Key(KeyError::WrongKey { .. })));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    keyring: Keyring,
    options: SqliteOptions,
    idle: Mutex<Vec<Connection>>,
}

/// One scope's rows, in location order (the `by_scope` index).
const LIST_SQL: &str = "SELECT location, username, key_id, secret, kind, expires_at, guid, created_at, \
                        updated_at, metadata FROM registry_credentials \
                        WHERE scope_kind = ?1 AND scope_id = ?2 ORDER BY location";
/// Every row, in scope and location order (the `by_scope` index).
const LIST_ALL_SQL: &str = "SELECT scope_kind, scope_id, location, username, key_id, secret, kind, expires_at, \
                            guid, created_at, updated_at, metadata \
                            FROM registry_credentials ORDER BY scope_kind, scope_id, location";
/// The most scopes of one plan statement: a plan has four (app, space,
/// organization, foundation).
const BLOCK_SCOPES: usize = 4;
/// The most locations of one plan statement; plans have far fewer
/// candidates.
const BLOCK_LOCATIONS: usize = 64;
/// Rows re-encrypted per transaction by `rotate`.
const ROTATE_BATCH: usize = 500;

/// Less free space than this, for unprivileged writers, when SQLite fails
/// with an I/O error, is a full disk: SQLite reports `SQLITE_FULL` for its
/// own page writes only, and growing its shared-memory file (`xShmMap`)
/// or syncing on a full disk fails as a plain I/O error.
const LOW_SPACE: u64 = 1 << 20;

/// Bytes free for unprivileged writers on the file system holding `path`
/// (the file, or its directory when the file is not there yet).
#[cfg(unix)]
fn space_left(path: &Path) -> Option<u64> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let stat = rustix::fs::statvfs(path)
        .or_else(|_| rustix::fs::statvfs(dir))
        .ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

#[cfg(not(unix))]
fn space_left(_: &Path) -> Option<u64> {
    None
}

/// SQLite's error as text, kept as the source of a [`DatabaseError`]:
/// its message and its extended result code.
#[derive(Debug)]
struct SqliteCause {
    message: String,
    code: Option<i32>,
}

impl fmt::Display for SqliteCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(code) => write!(f, "SQLite: {}, result code {code}", self.message),
            None => write!(f, "SQLite: {}", self.message),
        }
    }
}

impl std::error::Error for SqliteCause {}

impl DatabaseError {
    /// What SQLite's error `e`, met on the database file at `path` with a
    /// busy timeout of `busy_timeout`, means to a person, when it is a
    /// failure one can act on: a full disk (`SQLITE_FULL`, or an I/O error
    /// while less than 1 MiB is left on the file's file system), another
    /// writer past the busy timeout, a damaged file, one that may not be
    /// written or opened. `None` for any other error (a constraint, a bug).
    ///
    /// [`SqliteStore`] explains its own errors this way; this is for
    /// statements of the caller's own run through
    /// [`SqliteTransaction::with_connection`].
    ///
    /// ```
    /// use std::path::Path;
    /// use std::time::Duration;
    /// use registry_credentials_sql::DatabaseError;
    /// use registry_credentials_sql::rusqlite::{Error, ffi};
    ///
    /// let full = Error::SqliteFailure(ffi::Error::new(ffi::SQLITE_FULL), None);
    /// let e = DatabaseError::from_sqlite(&full, Path::new("/srv/cf/state.db"), Duration::from_secs(5)).unwrap();
    /// assert!(e.is_retryable());
    /// assert_eq!(e.to_string(), "the disk holding /srv/cf/state.db is full: free space and retry; nothing was changed");
    /// ```
    pub fn from_sqlite(
        e: &rusqlite::Error,
        path: &Path,
        busy_timeout: Duration,
    ) -> Option<DatabaseError> {
        let failure = e.sqlite_error()?;
        let path = path.to_owned();
        let message = match e {
            rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
            _ => failure.to_string(),
        };
        let source: Box<dyn std::error::Error + Send + Sync> = Box::new(SqliteCause {
            message,
            code: Some(failure.extended_code),
        });
        Some(match failure.code {
            ErrorCode::DiskFull => DatabaseError::DiskFull { path, source },
            ErrorCode::SystemIoFailure
                if space_left(&path).is_some_and(|left| left < LOW_SPACE) =>
            {
                DatabaseError::DiskFull { path, source }
            }
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => DatabaseError::Busy {
                path,
                waited: busy_timeout,
                source,
            },
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                DatabaseError::Damaged { path, source }
            }
            ErrorCode::ReadOnly | ErrorCode::PermissionDenied => {
                DatabaseError::ReadOnly { path, source }
            }
            ErrorCode::CannotOpen => DatabaseError::CannotOpen { path, source },
            _ => return None,
        })
    }
}

/// `e`, met on the file at `path`, explained: a failure of the database
/// that [`DatabaseError::from_sqlite`] names becomes that error (which
/// decides whether it is retryable); any other error stays as it is.
fn explained(e: StoreError, path: &Path, busy_timeout: Duration) -> StoreError {
    let StoreError::Backend { retryable, source } = e else {
        return e;
    };
    match source.downcast::<rusqlite::Error>() {
        Ok(sqlite) => failure(*sqlite, path, busy_timeout).into(),
        Err(source) => StoreError::Backend { retryable, source },
    }
}

/// SQLite's error `e`, met on the file at `path`: the [`DatabaseError`]
/// it is, or SQLite's own, retryable when another connection held a lock.
fn failure(e: rusqlite::Error, path: &Path, busy_timeout: Duration) -> Failure {
    match DatabaseError::from_sqlite(&e, path, busy_timeout) {
        Some(explained) => Failure::Database(explained),
        None => Failure::Driver {
            retryable: is_busy(&e),
            source: Box::new(e),
        },
    }
}

/// What opening the file met, kept typed until [`SqliteStore::open_with`]
/// explains it with the file's path ([`Opening::explained`]).
enum Opening {
    Sqlite(rusqlite::Error),
    /// Creating the file.
    Io(std::io::Error),
    Key(KeyError),
    Schema(SchemaError),
}

impl From<rusqlite::Error> for Opening {
    fn from(e: rusqlite::Error) -> Self {
        Opening::Sqlite(e)
    }
}

impl From<KeyError> for Opening {
    fn from(e: KeyError) -> Self {
        Opening::Key(e)
    }
}

impl From<SchemaError> for Opening {
    fn from(e: SchemaError) -> Self {
        Opening::Schema(e)
    }
}

impl Opening {
    /// This, met on the file at `path`, as the caller's error: SQLite's
    /// errors as [`failure`] tells them, and the system's errors of
    /// creating the file (a full disk, no permission, no directory) as the
    /// [`DatabaseError`] they are.
    fn explained(self, path: &Path, busy_timeout: Duration) -> OpenError {
        let io = match self {
            Opening::Sqlite(e) => return failure(e, path, busy_timeout).into(),
            Opening::Key(e) => return e.into(),
            Opening::Schema(e) => return e.into(),
            Opening::Io(io) => io,
        };
        let path = path.to_owned();
        let source: Box<dyn std::error::Error + Send + Sync> = Box::new(SqliteCause {
            message: io.to_string(),
            code: None,
        });
        match io.kind() {
            std::io::ErrorKind::StorageFull => DatabaseError::DiskFull { path, source }.into(),
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                DatabaseError::ReadOnly { path, source }.into()
            }
            std::io::ErrorKind::NotFound => DatabaseError::CannotOpen { path, source }.into(),
            _ => OpenError::Backend {
                retryable: false,
                source: Box::new(io),
            },
        }
    }
}

/// True when `e` is another connection holding a lock past the busy
/// timeout: the same call may succeed later.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

fn sqlite_error(e: rusqlite::Error) -> StoreError {
    StoreError::Backend {
        retryable: is_busy(&e),
        source: Box::new(e),
    }
}

impl SqliteStore {
    /// Opens (or creates) the store in the file at `path`, with default
    /// [`SqliteOptions`].
    ///
    /// # Errors
    ///
    /// [`OpenError::Key`] when a key of `keyring` is not the one the file
    /// knows by its id, or rows are encrypted with a key `keyring` lacks;
    /// [`OpenError::Schema`] when the file was written by a newer release;
    /// [`OpenError::Backend`] when the file cannot be opened.
    pub fn open(path: impl AsRef<Path>, keyring: Keyring) -> Result<Self, OpenError> {
        Self::open_with(path, keyring, SqliteOptions::default())
    }

    /// Opens (or creates) the store in the file at `path`.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn open_with(
        path: impl AsRef<Path>,
        keyring: Keyring,
        options: SqliteOptions,
    ) -> Result<Self, OpenError> {
        let path = path.as_ref().to_owned();
        let busy_timeout = options.busy_timeout;
        Self::open_inner(path.clone(), keyring, options)
            .map_err(|e| e.explained(&path, busy_timeout))
    }

    fn open_inner(
        path: PathBuf,
        keyring: Keyring,
        options: SqliteOptions,
    ) -> Result<Self, Opening> {
        if options.create {
            create_private(&path)?;
        }
        let inner = Inner {
            path,
            keyring,
            options,
            idle: Mutex::new(Vec::new()),
        };
        let mut conn = inner.connect()?;
        // Without `create`, nothing is written to a file that is not a
        // store: not even the switch to WAL mode.
        if !inner.options.create && user_version(&conn)? == 0 {
            return Err(SchemaError::NotAStore.into());
        }
        enable_wal(&conn, inner.options.busy_timeout)?;
        migrate(&mut conn, inner.options.create)?;
        check_keys(&mut conn, &inner.keyring)?;
        inner.give_back(conn);
        Ok(SqliteStore {
            inner: Arc::new(inner),
        })
    }

    /// Runs `f` in one write transaction (`BEGIN IMMEDIATE`, waiting up to
    /// the busy timeout for other writers) and commits it when `f` returns
    /// `Ok`; when `f` returns `Err`, or the commit fails, every change `f`
    /// made is rolled back. Whatever `f` does through the
    /// [`SqliteTransaction`] — credentials, and the caller's own tables
    /// through [`with_connection`](SqliteTransaction::with_connection) —
    /// takes effect whole or not at all, also when the process dies
    /// part-way.
    ///
    /// ```
    /// use registry_credentials::{Credential, CredentialStore, RegistryCredential, Scope, StoreError};
    /// use registry_credentials_sql::{EncryptionKey, Keyring, SqliteStore};
    /// # let dir = std::env::temp_dir().join(format!("rc-tx-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let store = SqliteStore::open(dir.join("c.db"), Keyring::new(EncryptionKey::new("k", [7; 32])?))?;
    /// let hub = || RegistryCredential::new(
    ///     Scope::Foundation, "docker.io".parse().unwrap(), Credential::new("u", "p").unwrap(),
    /// );
    /// // The second create conflicts: the first is rolled back with it.
    /// let failed: Result<(), StoreError> = store.transaction(|tx| {
    ///     tx.create(hub())?;
    ///     tx.create(hub())?;
    ///     Ok(())
    /// });
    /// assert!(matches!(failed, Err(StoreError::Conflict { .. })));
    /// assert!(store.is_empty()?);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `f`'s error, or [`StoreError::Backend`] (converted to `E`) when the
    /// transaction cannot begin or commit (retryable when another writer
    /// held the lock past the busy timeout).
    pub fn transaction<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&SqliteTransaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.run_transaction(false, f)
    }

    /// Runs `f` in one read transaction: a plain (deferred) `BEGIN` with
    /// `PRAGMA query_only`, so it takes no write lock and never waits for
    /// writers; every read in it sees one snapshot of the file, and every
    /// write fails.
    ///
    /// # Errors
    ///
    /// `f`'s error, or [`StoreError::Backend`] (converted to `E`) when the
    /// transaction cannot begin or end.
    pub fn read_transaction<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&SqliteTransaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.run_transaction(true, f)
    }

    fn run_transaction<T, E: From<StoreError>>(
        &self,
        read_only: bool,
        f: impl FnOnce(&SqliteTransaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let inner = &self.inner;
        let conn = inner.take().map_err(|e| inner.explain(e))?;
        let begin = if read_only {
            "PRAGMA query_only = ON; BEGIN DEFERRED;"
        } else {
            "BEGIN IMMEDIATE;"
        };
        if let Err(e) = conn.execute_batch(begin) {
            // Not given back: it may be left query-only.
            return Err(inner.explain(sqlite_error(e)).into());
        }
        let tx = SqliteTransaction {
            conn: Mutex::new(conn),
            keyring: &inner.keyring,
            inner,
            read_only,
        };
        let out = f(&tx);
        let conn = tx.conn.into_inner().unwrap_or_else(PoisonError::into_inner);
        let ended = conn.is_autocommit();
        let result = match out {
            Ok(_) if ended => Err(E::from(fatal(std::io::Error::other(
                "the transaction was ended inside it (COMMIT or ROLLBACK); nothing is known to have been written",
            )))),
            Ok(v) => match conn.execute_batch("COMMIT;") {
                Ok(()) => Ok(v),
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK;");
                    Err(inner.explain(sqlite_error(e)).into())
                }
            },
            Err(e) => {
                if !ended {
                    let _ = conn.execute_batch("ROLLBACK;");
                }
                Err(e)
            }
        };
        if !read_only || conn.execute_batch("PRAGMA query_only = OFF;").is_ok() {
            inner.give_back(conn);
        }
        result
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// How many credentials the store holds.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the database fails.
    pub fn len(&self) -> Result<u64, StoreError> {
        self.inner.with_conn(|c| {
            c.query_row("SELECT count(*) FROM registry_credentials", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(sqlite_error)
        })
    }

    /// True when it holds no credential.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the database fails.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }

    /// Re-encrypts every row not under the keyring's current key with it,
    /// and returns how many were. Runs in transactions of a few hundred
    /// rows, so other callers are never held up for long; rows written
    /// meanwhile are already under the current key. Afterwards the old
    /// keys can be dropped from the keyring.
    ///
    /// ```
    /// use registry_credentials::{Credential, CredentialStore, RegistryCredential, Scope};
    /// use registry_credentials_sql::{EncryptionKey, Keyring, SqliteStore};
    /// # let dir = std::env::temp_dir().join(format!("rc-rot-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("credentials.db");
    /// let old = || EncryptionKey::new("old", [1; 32]);
    /// let new = || EncryptionKey::new("new", [2; 32]);
    /// let store = SqliteStore::open(&path, Keyring::new(old()?))?;
    /// store.create(RegistryCredential::new(
    ///     Scope::Foundation, "docker.io".parse()?, Credential::new("u", "p")?,
    /// ))?;
    /// drop(store);
    ///
    /// let store = SqliteStore::open(&path, Keyring::new(new()?).with_key(old()?)?)?;
    /// assert_eq!(store.rotate()?, 1);
    /// drop(store);
    /// // The old key is no longer needed.
    /// let store = SqliteStore::open(&path, Keyring::new(new()?))?;
    /// assert_eq!(store.list_all()?.len(), 1);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the database fails, or with a
    /// [`KeyError`] source when a row cannot be decrypted; the rows done
    /// before stay done.
    pub fn rotate(&self) -> Result<u64, StoreError> {
        let keyring = &self.inner.keyring;
        let current = keyring.current().id();
        self.inner.with_conn(|conn| {
            let mut done = 0u64;
            loop {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(sqlite_error)?;
                let rows = {
                    let mut stmt = tx.prepare_cached(ROTATE_SELECT).map_err(sqlite_error)?;
                    let mut rows = stmt
                        .query(params![current, ROTATE_BATCH as i64])
                        .map_err(sqlite_error)?;
                    let mut read = Vec::new();
                    while let Some(r) = rows.next().map_err(sqlite_error)? {
                        read.push(read_scoped_row(keyring, r, 0)?);
                    }
                    read
                };
                if rows.is_empty() {
                    prune_keys(&tx, keyring)?;
                    tx.commit().map_err(sqlite_error)?;
                    return Ok(done);
                }
                for credential in rows {
                    let sealed = seal(keyring, &credential)?;
                    let (kind, scope_id) = scope_columns(credential.scope().as_scope_ref());
                    tx.prepare_cached(
                        "UPDATE registry_credentials SET key_id = ?4, secret = ?5 \
                         WHERE scope_kind = ?1 AND scope_id = ?2 AND location = ?3",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            kind,
                            scope_id,
                            credential.location().as_str(),
                            current,
                            sealed
                        ])
                    })
                    .map_err(sqlite_error)?;
                    done += 1;
                }
                tx.commit().map_err(sqlite_error)?;
            }
        })
    }
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("keyring", &self.inner.keyring)
            .finish_non_exhaustive()
    }
}

impl Inner {
    fn connect(&self) -> rusqlite::Result<Connection> {
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if self.options.create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(self.options.busy_timeout)?;
        let sync = if self.options.synchronous_full {
            "FULL"
        } else {
            "NORMAL"
        };
        // `foreign_keys`: a credential's label rows go with it (R22).
        conn.execute_batch(&format!(
            "PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON;"
        ))?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    fn take(&self) -> Result<Connection, StoreError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(c) => Ok(c),
            None => self.connect().map_err(sqlite_error),
        }
    }

    fn give_back(&self, conn: Connection) {
        // A connection left inside a transaction (it cannot be, as every
        // transaction here ends or rolls back on drop) is not reused.
        if conn.is_autocommit() {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.len() < self.options.idle_connections {
                idle.push(conn);
            }
        }
    }

    fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.take().map_err(|e| self.explain(e))?;
        let out = f(&mut conn).map_err(|e| self.explain(e));
        self.give_back(conn);
        out
    }

    /// `e`, met on this store's file, explained ([`explained`]).
    fn explain(&self, e: StoreError) -> StoreError {
        explained(e, &self.path, self.options.busy_timeout)
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.with_conn(|conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sqlite_error)?;
            let out = f(&tx)?;
            tx.commit().map_err(sqlite_error)?;
            Ok(out)
        })
    }
}

/// Creates the store's file readable and writable by its owner alone
/// (mode 0600) when it does not exist, before SQLite opens it: SQLite
/// gives the WAL and shared-memory files the database's mode.
fn create_private(path: &Path) -> Result<(), Opening> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Opening::Io(e)),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Switches the file to WAL mode, retrying for up to `timeout` while
/// another connection holds a lock: the switch needs the file to itself,
/// and SQLite does not wait for that under the busy timeout. A file
/// already in WAL mode needs no switch, and no lock.
fn enable_wal(conn: &Connection, timeout: Duration) -> rusqlite::Result<()> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        let mode = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0));
        let e = match mode {
            // A file system without shared memory for WAL answers with the
            // mode it keeps: the store still works, readers just wait.
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if !is_busy(&e) || Instant::now() >= deadline {
            return Err(e);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// The file's schema version, read without the write lock.
fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Brings the schema up to date. A file that is up to date is only read,
/// so opening it never waits for a writer; migrating takes the write lock
/// and checks the version again under it.
fn migrate(conn: &mut Connection, create: bool) -> Result<(), Opening> {
    let found = user_version(conn)?;
    if found == 0 && !create {
        return Err(SchemaError::NotAStore.into());
    }
    if schema::pending(found)?.is_empty() {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = user_version(&tx)?;
    for m in schema::pending(found)? {
        tx.execute_batch(m.sqlite)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", m.version))?;
    }
    tx.commit()?;
    Ok(())
}

/// Checks every key against the check value stored for its id, and that
/// no row is under a key the keyring lacks: a read, without the write lock.
/// Only when a key's id is new does it take the write lock, to store its
/// check value.
fn check_keys(conn: &mut Connection, keyring: &Keyring) -> Result<(), Opening> {
    let tx = conn.transaction()?;
    let new_ids = check_keys_in(&tx, keyring, false)?;
    tx.commit()?;
    if new_ids {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        check_keys_in(&tx, keyring, true)?;
        tx.commit()?;
    }
    Ok(())
}

/// [`check_keys`]'s work inside one transaction; with `write`, stores the
/// check values of new ids. True when an id is new and nothing was written.
fn check_keys_in(tx: &Connection, keyring: &Keyring, write: bool) -> Result<bool, Opening> {
    let mut new_ids = false;
    for id in keyring.ids() {
        let key = keyring.get(id).expect("an id of the keyring");
        let stored: Option<Vec<u8>> = tx
            .query_row(
                "SELECT check_value FROM registry_credential_keys WHERE key_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(check) = check_key(key, stored.as_deref())? {
            if write {
                tx.execute(
                    "INSERT INTO registry_credential_keys (key_id, check_value) VALUES (?1, ?2)",
                    params![id, check],
                )?;
            } else {
                new_ids = true;
            }
        }
    }
    let known: Vec<String> = tx
        .prepare("SELECT key_id FROM registry_credential_keys")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())?;
    for id in known.iter().filter(|id| keyring.get(id).is_none()) {
        let used: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM registry_credentials WHERE key_id = ?1)",
            [id],
            |r| r.get(0),
        )?;
        if used {
            return Err(KeyError::MissingKey { id: id.clone() }.into());
        }
    }
    Ok(new_ids)
}

/// Forgets the check values of keys that encrypt nothing any more and are
/// not the current key.
fn prune_keys(tx: &rusqlite::Transaction<'_>, keyring: &Keyring) -> Result<(), StoreError> {
    tx.execute(PRUNE_KEYS, [keyring.current().id()])
        .map_err(sqlite_error)?;
    Ok(())
}

/// A run of keys that holds each of `scopes` scopes with the same
/// `locations` locations, scope by scope: the order of a plan's keys (R14:
/// scope first, then the most specific location). One plan statement looks
/// up a block, binding each scope and each location once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    scopes: usize,
    locations: usize,
}

impl Block {
    /// The longest block (of at most [`BLOCK_SCOPES`] ×
    /// [`BLOCK_LOCATIONS`] keys) that `keys`, not empty, starts with. A
    /// plan's keys are one block; other lists are split into several, each
    /// of at least one key.
    fn starting(keys: &[Key<'_>]) -> Block {
        let scope = scope_columns(keys[0].scope());
        let locations = keys
            .iter()
            .take(BLOCK_LOCATIONS)
            .take_while(|k| same_scope(scope_columns(k.scope()), scope))
            .count();
        let first = &keys[..locations];
        let same_locations = |run: &[Key<'_>]| {
            let scope = scope_columns(run[0].scope());
            run.iter().zip(first).all(|(k, f)| {
                same_scope(scope_columns(k.scope()), scope) && same(k.location(), f.location())
            })
        };
        let more = keys[locations..]
            .chunks_exact(locations)
            .take(BLOCK_SCOPES - 1)
            .take_while(|run| same_locations(run))
            .count();
        Block {
            scopes: 1 + more,
            locations,
        }
    }

    /// How many keys it holds.
    fn len(self) -> usize {
        self.scopes * self.locations
    }

    /// `keys` as consecutive blocks.
    fn split<'k>(keys: &'k [Key<'k>]) -> Blocks<'k> {
        Blocks {
            keys,
            start: 0,
            next: (!keys.is_empty()).then(|| Block::starting(keys)),
        }
    }

    /// The statement that looks up the keys of a block of this shape:
    /// the keys as a `VALUES` list `k` in the block's order, each scope's
    /// kind and id bound once (parameters `2j+1` and `2j+2` for scope
    /// `j`) and each location once (parameter `2 × scopes + m + 1` for
    /// location `m`), joined to the table on its primary key. `CROSS JOIN`
    /// keeps `k` the outer loop (SQLite never reorders it), so rows come in
    /// key order; with `first`, `LIMIT 1` ends the statement at the first
    /// row, and the keys after the first hit are never looked up (R14: the
    /// winner alone is read). The text is made once per shape.
    fn sql(self, first: bool) -> &'static str {
        const SHAPES: usize = BLOCK_SCOPES * BLOCK_LOCATIONS;
        static SQL: [[OnceLock<Box<str>>; SHAPES]; 2] =
            [const { [const { OnceLock::new() }; SHAPES] }; 2];
        let shape = (self.scopes - 1) * BLOCK_LOCATIONS + (self.locations - 1);
        SQL[usize::from(first)][shape].get_or_init(|| {
            use std::fmt::Write;
            let mut sql = String::from("WITH k(i, kind, sid, loc) AS (VALUES ");
            for j in 0..self.scopes {
                for m in 0..self.locations {
                    let i = j * self.locations + m;
                    let sep = if i == 0 { "" } else { "," };
                    let (kind, id) = (2 * j + 1, 2 * j + 2);
                    let loc = 2 * self.scopes + m + 1;
                    // Writing to a `String` cannot fail.
                    let _ = write!(sql, "{sep}({i},?{kind},?{id},?{loc})");
                }
            }
            sql.push_str(
                ") SELECT k.i, c.location, c.username, c.key_id, c.secret, c.kind, \
                 c.expires_at, c.guid, c.created_at, c.updated_at, c.metadata \
                 FROM k CROSS JOIN registry_credentials AS c ON c.location = k.loc \
                 AND c.scope_kind = k.kind AND c.scope_id = k.sid",
            );
            if first {
                sql.push_str(" LIMIT 1");
            }
            sql.into()
        })
    }

    /// Binds the scopes and locations of `keys`, a block of this shape, to
    /// its statement's parameters.
    fn bind(
        self,
        stmt: &mut rusqlite::CachedStatement<'_>,
        keys: &[Key<'_>],
    ) -> Result<(), StoreError> {
        for j in 0..self.scopes {
            let (kind, id) = scope_columns(keys[j * self.locations].scope());
            stmt.raw_bind_parameter(2 * j + 1, kind)
                .map_err(sqlite_error)?;
            stmt.raw_bind_parameter(2 * j + 2, id)
                .map_err(sqlite_error)?;
        }
        for (m, key) in keys[..self.locations].iter().enumerate() {
            stmt.raw_bind_parameter(2 * self.scopes + m + 1, key.location())
                .map_err(sqlite_error)?;
        }
        Ok(())
    }
}

/// Column `i` of `r`, converted by `as_type`.
fn column<'a, T>(
    r: &'a rusqlite::Row<'_>,
    i: usize,
    as_type: impl FnOnce(&ValueRef<'a>) -> FromSqlResult<T>,
) -> Result<T, StoreError> {
    as_type(&r.get_ref(i).map_err(sqlite_error)?).map_err(|e| fatal(rusqlite::Error::from(e)))
}

impl<'a> Columns<'a> for &'a rusqlite::Row<'_> {
    fn text(self, i: usize) -> Result<&'a str, StoreError> {
        column(self, i, ValueRef::as_str)
    }
    fn text_or_null(self, i: usize) -> Result<Option<&'a str>, StoreError> {
        column(self, i, ValueRef::as_str_or_null)
    }
    fn bytes(self, i: usize) -> Result<&'a [u8], StoreError> {
        column(self, i, ValueRef::as_blob)
    }
    fn bytes_or_null(self, i: usize) -> Result<Option<&'a [u8]>, StoreError> {
        column(self, i, ValueRef::as_blob_or_null)
    }
    fn small(self, i: usize) -> Result<i64, StoreError> {
        column(self, i, ValueRef::as_i64)
    }
    fn int(self, i: usize) -> Result<i64, StoreError> {
        column(self, i, ValueRef::as_i64)
    }
    fn int_or_null(self, i: usize) -> Result<Option<i64>, StoreError> {
        column(self, i, ValueRef::as_i64_or_null)
    }
}

/// A new row; a row already at its key is a conflict (0 rows changed).
const INSERT_NEW: &str = "INSERT INTO registry_credentials \
     (scope_kind, scope_id, location, username, key_id, secret, kind, expires_at, guid, created_at, \
     updated_at, metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
     ON CONFLICT DO NOTHING";

/// Writes `credential`, its password `sealed` under the keyring's current
/// key, with `sql` ([`INSERT_NEW`]), and its labels; returns the rows
/// changed. `credential` carries the record to store.
fn insert(
    tx: &Connection,
    sql: &str,
    keyring: &Keyring,
    credential: &RegistryCredential,
    sealed: &[u8],
) -> Result<usize, StoreError> {
    let (kind, id) = scope_columns(credential.scope().as_scope_ref());
    let record = credential
        .record()
        .expect("a credential is stamped before it is written");
    let changed = tx
        .prepare_cached(sql)
        .and_then(|mut s| {
            s.execute(params![
                kind,
                id,
                credential.location().as_str(),
                credential.username().as_str(),
                keyring.current().id(),
                sealed,
                kind_column(credential.kind()),
                expires_column(credential),
                &record.guid().as_bytes()[..],
                time_column(record.created_secs()),
                time_column(record.updated_secs()),
                metadata_column(credential),
            ])
        })
        .map_err(sqlite_error)?;
    if changed > 0 {
        write_labels(tx, credential)?;
    }
    Ok(changed)
}

/// Makes `registry_credential_labels` hold `credential`'s labels and no
/// others (R23).
fn write_labels(tx: &Connection, credential: &RegistryCredential) -> Result<(), StoreError> {
    let guid = credential
        .record()
        .expect("a credential is stamped before it is written")
        .guid();
    let guid = &guid.as_bytes()[..];
    tx.prepare_cached("DELETE FROM registry_credential_labels WHERE guid = ?1")
        .and_then(|mut s| s.execute(params![guid]))
        .map_err(sqlite_error)?;
    for (key, value) in label_rows(credential) {
        tx.prepare_cached(
            "INSERT INTO registry_credential_labels (guid, key, value) VALUES (?1, ?2, ?3)",
        )
        .and_then(|mut s| s.execute(params![guid, key, value]))
        .map_err(sqlite_error)?;
    }
    Ok(())
}

fn get_in(
    conn: &Connection,
    keyring: &Keyring,
    key: Key<'_>,
) -> Result<Option<RegistryCredential>, StoreError> {
    let (kind, id) = scope_columns(key.scope());
    let mut stmt = conn
        .prepare_cached(
            "SELECT location, username, key_id, secret, kind, expires_at, guid, created_at, \
             updated_at, metadata FROM registry_credentials \
             WHERE scope_kind = ?1 AND scope_id = ?2 AND location = ?3",
        )
        .map_err(sqlite_error)?;
    let mut rows = stmt
        .query(params![kind, id, key.location()])
        .map_err(sqlite_error)?;
    match rows.next().map_err(sqlite_error)? {
        Some(r) => Ok(Some(read_row(keyring, key.scope().to_scope(), r, 0)?)),
        None => Ok(None),
    }
}

/// Reads and deletes every row at `scope`, inside the caller's
/// transaction; returns them ordered by location.
fn take_scope(
    tx: &Connection,
    keyring: &Keyring,
    scope: ScopeRef<'_>,
) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
    let (kind, id) = scope_columns(scope);
    let mut taken = Vec::new();
    {
        let mut stmt = tx.prepare_cached(LIST_SQL).map_err(sqlite_error)?;
        let mut rows = stmt.query(params![kind, id]).map_err(sqlite_error)?;
        while let Some(r) = rows.next().map_err(sqlite_error)? {
            taken.push(Arc::new(read_row(keyring, scope.to_scope(), r, 0)?));
        }
    }
    tx.prepare_cached("DELETE FROM registry_credentials WHERE scope_kind = ?1 AND scope_id = ?2")
        .and_then(|mut s| s.execute(params![kind, id]))
        .map_err(sqlite_error)?;
    Ok(taken)
}

/// Whether `a` and `b` are the same text: a plan's keys share their
/// scope ids and locations, so most answers come from the addresses alone.
fn same(a: &str, b: &str) -> bool {
    std::ptr::eq(a, b) || a == b
}

/// Whether two scopes' (kind, id) columns are the same.
fn same_scope((kind_a, id_a): (i16, &str), (kind_b, id_b): (i16, &str)) -> bool {
    kind_a == kind_b && same(id_a, id_b)
}

/// The blocks of a list of keys, in order ([`Block::split`]): each
/// block's first key's index, and the block.
struct Blocks<'k> {
    keys: &'k [Key<'k>],
    start: usize,
    /// The block at `start`, found ahead.
    next: Option<Block>,
}

impl Blocks<'_> {
    /// True when the list is more than one block (a plan is one).
    fn several(&self) -> bool {
        self.next
            .is_some_and(|b| self.start + b.len() < self.keys.len())
    }
}

impl Iterator for Blocks<'_> {
    type Item = (usize, Block);

    fn next(&mut self) -> Option<(usize, Block)> {
        let block = self.next?;
        let at = self.start;
        self.start += block.len();
        self.next = self
            .keys
            .get(self.start..)
            .filter(|rest| !rest.is_empty())
            .map(Block::starting);
        Some((at, block))
    }
}

/// The credential at each of `keys`, in order, read on `conn`: one
/// statement per block (a plan is one), all in one snapshot.
fn get_many_in(
    conn: &Connection,
    keyring: &Keyring,
    keys: &[Key<'_>],
) -> Result<Vec<Option<Arc<RegistryCredential>>>, StoreError> {
    in_one_snapshot(conn, Block::split(keys), |blocks| {
        let mut found = vec![None; keys.len()];
        for (start, block) in blocks {
            let chunk = &keys[start..start + block.len()];
            let mut stmt = conn
                .prepare_cached(block.sql(false))
                .map_err(sqlite_error)?;
            block.bind(&mut stmt, chunk)?;
            let mut rows = stmt.raw_query();
            while let Some(r) = rows.next().map_err(sqlite_error)? {
                let (i, c) = read_plan_row(keyring, chunk, r)?;
                found[start + i] = Some(Arc::new(c));
            }
        }
        Ok(found)
    })
}

/// The first of `keys` that holds a credential, read on `conn`: one
/// statement per block (a plan is one), each ending at its first hit, all
/// in one snapshot.
fn first_match_in(
    conn: &Connection,
    keyring: &Keyring,
    keys: &[Key<'_>],
) -> Result<Option<(usize, Arc<RegistryCredential>)>, StoreError> {
    in_one_snapshot(conn, Block::split(keys), |blocks| {
        for (start, block) in blocks {
            let chunk = &keys[start..start + block.len()];
            let mut stmt = conn.prepare_cached(block.sql(true)).map_err(sqlite_error)?;
            block.bind(&mut stmt, chunk)?;
            let mut rows = stmt.raw_query();
            if let Some(r) = rows.next().map_err(sqlite_error)? {
                let (i, c) = read_plan_row(keyring, chunk, r)?;
                return Ok(Some((start + i, Arc::new(c))));
            }
        }
        Ok(None)
    })
}

/// Runs `read` over `blocks`, one statement each, so that they all see
/// one snapshot of the file, as a single statement does: a plan is one
/// block and runs as it is; a list of several blocks runs in a read
/// transaction of its own (a deferred `BEGIN`, which takes no write lock),
/// unless `conn` is inside one already (a [`SqliteTransaction`]). So no
/// reader sees part of a batch that another connection writes in one
/// transaction.
fn in_one_snapshot<'k, T>(
    conn: &Connection,
    blocks: Blocks<'k>,
    read: impl FnOnce(Blocks<'k>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    if !blocks.several() || !conn.is_autocommit() {
        return read(blocks);
    }
    let tx = conn.unchecked_transaction().map_err(sqlite_error)?;
    let out = read(blocks)?;
    tx.commit().map_err(sqlite_error)?;
    Ok(out)
}

/// Inserts `credential` (its password already `sealed`), inside the
/// caller's transaction; a taken key is a conflict.
fn create_in(
    tx: &Connection,
    keyring: &Keyring,
    credential: RegistryCredential,
    sealed: &[u8],
) -> Result<Arc<RegistryCredential>, StoreError> {
    let credential = credential.with_record(fresh_record());
    if insert(tx, INSERT_NEW, keyring, &credential, sealed)? == 0 {
        return Err(StoreError::Conflict {
            scope: credential.scope().clone(),
            location: credential.location().clone(),
        });
    }
    Ok(Arc::new(credential))
}

/// Inserts every credential of a batch (each password already sealed, in
/// `sealed`), inside the caller's transaction and under a savepoint of its
/// own: when one is refused, the batch's earlier rows are rolled back,
/// also inside a [`SqliteTransaction`] the caller goes on with.
fn create_all_in(
    tx: &Connection,
    keyring: &Keyring,
    credentials: Vec<RegistryCredential>,
    sealed: &[Vec<u8>],
) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
    tx.execute_batch("SAVEPOINT registry_credentials_create_all;")
        .map_err(sqlite_error)?;
    let created: Result<Vec<_>, _> = credentials
        .into_iter()
        .zip(sealed)
        .map(|(credential, sealed)| create_in(tx, keyring, credential, sealed))
        .collect();
    if created.is_err() {
        // On a full disk or an I/O error SQLite may have rolled the whole
        // transaction back itself: then no savepoint is left to go back
        // to, nothing of the batch is there, and the batch's own error is
        // the one that says what happened.
        if tx.is_autocommit() {
            return created;
        }
        tx.execute_batch("ROLLBACK TO registry_credentials_create_all;")
            .map_err(sqlite_error)?;
    }
    tx.execute_batch("RELEASE registry_credentials_create_all;")
        .map_err(sqlite_error)?;
    created
}

/// Every password of a batch, sealed under the keyring's current key.
fn seal_all(
    keyring: &Keyring,
    credentials: &[RegistryCredential],
) -> Result<Vec<Vec<u8>>, StoreError> {
    credentials.iter().map(|c| seal(keyring, c)).collect()
}

/// Updates a row, inside the caller's transaction.
fn update_in(
    tx: &Connection,
    keyring: &Keyring,
    scope: ScopeRef<'_>,
    location: &Location,
    update: CredentialUpdate,
) -> Result<Arc<RegistryCredential>, StoreError> {
    let key = Key::new(scope, location);
    let old = get_in(tx, keyring, key)?.ok_or_else(|| StoreError::not_found(scope, location))?;
    rewrite(tx, keyring, &old, update)
}

/// Writes `old` with `update` applied in its row, inside the caller's
/// transaction: the same GUID and `created_at`, `updated_at` now (R22).
fn rewrite(
    tx: &Connection,
    keyring: &Keyring,
    old: &RegistryCredential,
    update: CredentialUpdate,
) -> Result<Arc<RegistryCredential>, StoreError> {
    let new = old.updated(update)?.with_record(touched(old.record()));
    let record = new.record().expect("stamped");
    let sealed = seal(keyring, &new)?;
    let (kind, id) = scope_columns(new.scope().as_scope_ref());
    tx.prepare_cached(
        "UPDATE registry_credentials SET username = ?4, key_id = ?5, secret = ?6, \
         kind = ?7, expires_at = ?8, updated_at = ?9, metadata = ?10 \
         WHERE scope_kind = ?1 AND scope_id = ?2 AND location = ?3",
    )
    .and_then(|mut s| {
        s.execute(params![
            kind,
            id,
            new.location().as_str(),
            new.username().as_str(),
            keyring.current().id(),
            sealed,
            kind_column(new.kind()),
            expires_column(&new),
            time_column(record.updated_secs()),
            metadata_column(&new),
        ])
    })
    .map_err(sqlite_error)?;
    if new.metadata() != old.metadata() {
        write_labels(tx, &new)?;
    }
    Ok(Arc::new(new))
}

/// The credential with `guid`, read on `conn`.
fn get_by_guid_in(
    conn: &Connection,
    keyring: &Keyring,
    guid: Guid,
) -> Result<Option<RegistryCredential>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT scope_kind, scope_id, location, username, key_id, secret, kind, expires_at, \
             guid, created_at, updated_at, metadata FROM registry_credentials WHERE guid = ?1",
        )
        .map_err(sqlite_error)?;
    let mut rows = stmt
        .query(params![&guid.as_bytes()[..]])
        .map_err(sqlite_error)?;
    match rows.next().map_err(sqlite_error)? {
        Some(r) => Ok(Some(read_scoped_row(keyring, r, 0)?)),
        None => Ok(None),
    }
}

/// The page of `query` and its total, read on `conn` by one statement
/// (two for a page past the end).
fn query_in(conn: &Connection, query: &Query) -> Result<Page, StoreError> {
    let sql = QuerySql::new(query, PageJoin::PrimaryKey);
    let mut stmt = conn.prepare_cached(&sql.sql).map_err(sqlite_error)?;
    bind_all(&mut stmt, &sql.params)?;
    let mut rows = stmt.raw_query();
    let mut total = 0;
    let mut resources = Vec::new();
    let mut scopes = PageScopes::default();
    while let Some(r) = rows.next().map_err(sqlite_error)? {
        total = r.int(0)?;
        resources.push(read_summary(r, &mut scopes)?);
    }
    if resources.is_empty() {
        let mut count = conn.prepare_cached(&sql.count_sql).map_err(sqlite_error)?;
        bind_all(&mut count, sql.count_params())?;
        let mut rows = count.raw_query();
        if let Some(r) = rows.next().map_err(sqlite_error)? {
            total = r.get(0).map_err(sqlite_error)?;
        }
    }
    Ok(query_page(query, total, resources))
}

/// Binds `params` to `stmt`'s `$1`, `$2`, … in order.
fn bind_all(stmt: &mut rusqlite::CachedStatement<'_>, params: &[Param]) -> Result<(), StoreError> {
    for (i, p) in params.iter().enumerate() {
        match p {
            Param::Small(v) => stmt.raw_bind_parameter(i + 1, v),
            Param::Int(v) => stmt.raw_bind_parameter(i + 1, v),
            Param::Text(v) => stmt.raw_bind_parameter(i + 1, v),
            Param::Bytes(v) => stmt.raw_bind_parameter(i + 1, v),
            Param::Null => stmt.raw_bind_parameter(i + 1, rusqlite::types::Null),
        }
        .map_err(sqlite_error)?;
    }
    Ok(())
}

/// Makes `write` on `tx` and stores its events there, under a savepoint
/// of its own: the change and its events are kept together or not at
/// all, also inside a [`SqliteTransaction`] the caller goes on with (R27).
fn audited_in(
    tx: &SqliteTransaction<'_>,
    write: Write,
    context: &AuditContext,
) -> Result<Written, StoreError> {
    let savepoint = |sql: &str| {
        tx.with_connection(|c| c.execute_batch(sql))
            .map_err(sqlite_error)
    };
    savepoint("SAVEPOINT registry_credentials_audited;")?;
    let done = block_on_ready(audit::apply(&InlineStore(tx), write)).and_then(|change| {
        let events = change.events(context, SystemTime::now());
        tx.with_connection(|c| {
            let mut stmt = c.prepare_cached(INSERT_EVENT).map_err(sqlite_error)?;
            for event in &events {
                bind_all(&mut stmt, &event_params(event))?;
                stmt.raw_execute().map_err(sqlite_error)?;
            }
            Ok::<_, StoreError>(())
        })?;
        Ok(Written::new(change, events))
    });
    if done.is_err() && !tx.with_connection(Connection::is_autocommit) {
        savepoint("ROLLBACK TO registry_credentials_audited;")?;
    }
    if !tx.with_connection(Connection::is_autocommit) {
        savepoint("RELEASE registry_credentials_audited;")?;
    }
    done
}

/// The page of `query` and its total, read on `conn` by one statement.
fn audit_events_in(conn: &Connection, query: &AuditQuery) -> Result<Page<AuditEvent>, StoreError> {
    let (sql, params) = audit_sql(query);
    let mut stmt = conn.prepare_cached(&sql).map_err(sqlite_error)?;
    bind_all(&mut stmt, &params)?;
    let mut rows = stmt.raw_query();
    let mut page = EventPage::default();
    while let Some(r) = rows.next().map_err(sqlite_error)? {
        page.read(r)?;
    }
    Ok(page.into_page(query))
}

/// Deletes a row, inside the caller's transaction.
fn delete_in(
    tx: &Connection,
    keyring: &Keyring,
    scope: ScopeRef<'_>,
    location: &Location,
) -> Result<Arc<RegistryCredential>, StoreError> {
    let key = Key::new(scope, location);
    let old = get_in(tx, keyring, key)?.ok_or_else(|| StoreError::not_found(scope, location))?;
    let (kind, id) = scope_columns(key.scope());
    tx.prepare_cached(
        "DELETE FROM registry_credentials \
         WHERE scope_kind = ?1 AND scope_id = ?2 AND location = ?3",
    )
    .and_then(|mut s| s.execute(params![kind, id, key.location()]))
    .map_err(sqlite_error)?;
    Ok(Arc::new(old))
}

/// Replaces an app's rows with `new` (its password already `sealed`),
/// inside the caller's transaction; returns it as stored and the rows
/// replaced, the one at `new`'s location first.
fn replace_in(
    tx: &Connection,
    keyring: &Keyring,
    app: &AppId,
    new: &RegistryCredential,
    sealed: &[u8],
) -> Result<AppCredentialReplaced, StoreError> {
    let mut replaced = take_scope(tx, keyring, ScopeRef::App(app))?;
    let same = replaced
        .iter()
        .position(|c| c.location() == new.location())
        .map(|i| replaced.remove(i));
    // At the same location the new one is that one updated (R22).
    let stored = match &same {
        Some(same) => new
            .clone()
            .with_metadata(same.metadata().clone())
            .with_record(touched(same.record())),
        None => new.clone().with_record(fresh_record()),
    };
    if let Some(same) = same {
        replaced.insert(0, same);
    }
    insert(tx, INSERT_NEW, keyring, &stored, sealed)?;
    Ok(AppCredentialReplaced {
        stored: Arc::new(stored),
        replaced,
    })
}

/// One scope's rows, in location order, read on `conn`.
fn list_in(
    conn: &Connection,
    keyring: &Keyring,
    scope: ScopeRef<'_>,
) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
    let (kind, id) = scope_columns(scope);
    let mut stmt = conn.prepare_cached(LIST_SQL).map_err(sqlite_error)?;
    let mut rows = stmt.query(params![kind, id]).map_err(sqlite_error)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(sqlite_error)? {
        out.push(Arc::new(read_row(keyring, scope.to_scope(), r, 0)?));
    }
    Ok(out)
}

/// Every row, in scope and location order, read on `conn`.
fn list_all_in(
    conn: &Connection,
    keyring: &Keyring,
) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
    let mut stmt = conn.prepare_cached(LIST_ALL_SQL).map_err(sqlite_error)?;
    let mut rows = stmt.query([]).map_err(sqlite_error)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(sqlite_error)? {
        out.push(Arc::new(read_scoped_row(keyring, r, 0)?));
    }
    Ok(out)
}

/// A plan statement's row: the index of its key in `chunk`, and the
/// credential.
fn read_plan_row(
    keyring: &Keyring,
    chunk: &[Key<'_>],
    r: &rusqlite::Row<'_>,
) -> Result<(usize, RegistryCredential), StoreError> {
    let i: usize = r.get(0).map_err(sqlite_error)?;
    let key = chunk.get(i).ok_or_else(|| {
        corrupt(schema::SchemaError::CorruptRow {
            what: format!("the plan query returned key {i}"),
        })
    })?;
    Ok((i, read_row(keyring, key.scope().to_scope(), r, 1)?))
}

/// Several operations in one transaction on one connection of a
/// [`SqliteStore`]: what [`SqliteStore::transaction`] and
/// [`SqliteStore::read_transaction`] hand their closure.
///
/// It is a [`CredentialStore`] whose calls all run inside the open
/// transaction: they see each other's writes, and either all of them take
/// effect (the closure returned `Ok` and the commit succeeded) or none
/// does. [`with_connection`](Self::with_connection) lends the transaction's
/// connection, for tables of the caller's own in the same file (a
/// directory of organizations, a session), changed in the same
/// transaction.
///
/// In a read transaction every write fails (`PRAGMA query_only`), and
/// the transaction takes no write lock: writers to the file go on while it
/// runs, and it reads one snapshot throughout.
pub struct SqliteTransaction<'s> {
    // A `Mutex` makes it `Sync`, as the store traits require; calls never
    // nest, so it is never contended.
    conn: Mutex<Connection>,
    keyring: &'s Keyring,
    /// The store's file and options, to explain its errors.
    inner: &'s Inner,
    read_only: bool,
}

impl fmt::Debug for SqliteTransaction<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::debug_transaction(f, "SqliteTransaction", self.keyring, self.read_only)
    }
}

impl SqliteTransaction<'_> {
    /// Runs `f` with the transaction's connection: its statements run
    /// inside the transaction, and commit or roll back with it.
    ///
    /// `f` must not end the transaction (`COMMIT`, `ROLLBACK`): if it does,
    /// the closure's result is replaced by an error. It must not call this
    /// transaction's store methods either (they wait for the connection
    /// `f` holds).
    pub fn with_connection<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        f(&conn)
    }

    /// True for a read transaction, where every write fails.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }
}

/// Where a call of the store traits runs. [`SqliteStore`] takes a
/// connection of its own for each call, and runs each write in a
/// `BEGIN IMMEDIATE` transaction of its own; [`SqliteTransaction`] runs
/// every call on its connection, inside its open transaction. The traits'
/// methods are written once, over this ([`store_on_session!`]).
trait Session {
    /// The keys that seal and open passwords.
    fn keyring(&self) -> &Keyring;

    /// Runs a read on a connection.
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection, &Keyring) -> Result<T, StoreError>,
    ) -> Result<T, StoreError>;

    /// Runs a write on a connection inside a transaction. By default as a
    /// read: a [`SqliteTransaction`]'s writes run in the open transaction
    /// and commit with it. [`SqliteStore`] runs each in one of its own,
    /// which commits when `f` returns `Ok`.
    fn write<T>(
        &self,
        f: impl FnOnce(&Connection, &Keyring) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.read(f)
    }

    /// Runs `f` in a transaction: [`SqliteStore`]'s own, or the open one.
    fn in_transaction<T>(
        &self,
        f: impl FnOnce(&SqliteTransaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError>;
}

impl Session for SqliteStore {
    fn keyring(&self) -> &Keyring {
        &self.inner.keyring
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&Connection, &Keyring) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.inner.with_conn(|c| f(c, &self.inner.keyring))
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&Connection, &Keyring) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.inner.write(|tx| f(tx, &self.inner.keyring))
    }

    fn in_transaction<T>(
        &self,
        f: impl FnOnce(&SqliteTransaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.transaction(f)
    }
}

impl Session for SqliteTransaction<'_> {
    fn keyring(&self) -> &Keyring {
        self.keyring
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&Connection, &Keyring) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.with_connection(|c| f(c, self.keyring))
            .map_err(|e| self.inner.explain(e))
    }

    fn in_transaction<T>(
        &self,
        f: impl FnOnce(&SqliteTransaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        f(self)
    }
}

/// `CredentialSource` and `CredentialStore` for a [`Session`]: one
/// implementation, for [`SqliteStore`] and [`SqliteTransaction`] alike.
/// Passwords are sealed before a connection is taken.
macro_rules! store_on_session {
    ($($ty:ty),*) => {$(
        impl CredentialSource for $ty {
            fn get(&self, key: Key<'_>) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
                self.read(|c, k| Ok(get_in(c, k, key)?.map(Arc::new)))
            }

            /// One statement for a plan's keys (a list of another shape
            /// takes one per run of keys with the same locations): the keys
            /// as a `VALUES` list joined to the table's primary key.
            fn get_many(&self, keys: &[Key<'_>]) -> Result<Vec<Option<Arc<RegistryCredential>>>, StoreError> {
                if keys.is_empty() {
                    return Ok(Vec::new());
                }
                self.read(|c, k| get_many_in(c, k, keys))
            }

            /// One statement for a plan's keys that looks them up in order
            /// and ends at the first hit (`LIMIT 1`): only the winner is
            /// read and decrypted, no key after it is looked up, and
            /// outranked passwords never leave the database.
            fn first_match(&self, keys: &[Key<'_>]) -> Result<Option<(usize, Arc<RegistryCredential>)>, StoreError> {
                self.read(|c, k| first_match_in(c, k, keys))
            }
        }

        impl CredentialStore for $ty {
            fn create(
                &self,
                credential: RegistryCredential,
            ) -> Result<Arc<RegistryCredential>, StoreError> {
                let sealed = seal(self.keyring(), &credential)?;
                self.write(|c, k| create_in(c, k, credential, &sealed))
            }

            /// In one transaction (the store's own `BEGIN IMMEDIATE`, or a
            /// savepoint of the open one, so a refused batch takes back its
            /// own rows alone): readers (WAL snapshots) see all of it or
            /// none of it.
            fn create_all(
                &self,
                credentials: Vec<RegistryCredential>,
            ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
                let sealed = seal_all(self.keyring(), &credentials)?;
                self.write(|c, k| create_all_in(c, k, credentials, &sealed))
            }

            fn update(
                &self,
                scope: ScopeRef<'_>,
                location: &Location,
                update: CredentialUpdate,
            ) -> Result<Arc<RegistryCredential>, StoreError> {
                self.write(|c, k| update_in(c, k, scope, location, update))
            }

            fn delete(
                &self,
                scope: ScopeRef<'_>,
                location: &Location,
            ) -> Result<Arc<RegistryCredential>, StoreError> {
                self.write(|c, k| delete_in(c, k, scope, location))
            }

            /// In one transaction (the store's own `BEGIN IMMEDIATE`, or
            /// the open one): read the app's rows, delete them all, insert
            /// the new one. Writers to the file take turns, so two
            /// replacements never interleave, in one process or several.
            fn replace_app_credential(
                &self,
                app: &AppId,
                location: Location,
                credential: Credential,
            ) -> Result<AppCredentialReplaced, StoreError> {
                let new = RegistryCredential::new(Scope::App(app.clone()), location, credential);
                let sealed = seal(self.keyring(), &new)?;
                self.write(|c, k| replace_in(c, k, app, &new, &sealed))
            }

            fn delete_scope(
                &self,
                scope: ScopeRef<'_>,
            ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
                self.write(|c, k| take_scope(c, k, scope))
            }

            fn list(&self, scope: ScopeRef<'_>) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
                self.read(|c, k| list_in(c, k, scope))
            }

            fn list_all(&self) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
                self.read(list_all_in)
            }

            /// One look-up of the unique `guid` index.
            fn get_by_guid(&self, guid: Guid) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
                self.read(|c, k| Ok(get_by_guid_in(c, k, guid)?.map(Arc::new)))
            }

            fn update_by_guid(
                &self,
                guid: Guid,
                update: CredentialUpdate,
            ) -> Result<Arc<RegistryCredential>, StoreError> {
                self.write(|c, k| {
                    let old = get_by_guid_in(c, k, guid)?.ok_or(StoreError::GuidNotFound { guid })?;
                    rewrite(c, k, &old, update)
                })
            }

            fn delete_by_guid(&self, guid: Guid) -> Result<Arc<RegistryCredential>, StoreError> {
                self.write(|c, k| {
                    let old = get_by_guid_in(c, k, guid)?.ok_or(StoreError::GuidNotFound { guid })?;
                    delete_in(c, k, old.scope().as_scope_ref(), old.location())
                })
            }

            /// One statement, the count and the page, over the indexes.
            fn query(&self, query: &Query) -> Result<Page, StoreError> {
                self.read(|c, _| query_in(c, query))
            }

            /// In one transaction (the store's own, or a savepoint of the
            /// open one): the change, then its events.
            fn audited(&self, write: Write, context: &AuditContext) -> Result<Written, StoreError> {
                self.in_transaction(|tx| audited_in(tx, write, context))
            }

            /// One statement, the count and the page, over the indexes.
            fn audit_events(&self, query: &AuditQuery) -> Result<Page<AuditEvent>, StoreError> {
                self.read(|c, _| audit_events_in(c, query))
            }
        }
    )*};
}

store_on_session!(SqliteStore, SqliteTransaction<'_>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EncryptionKey;
    use registry_credentials::resolve::Plan;
    use registry_credentials::{App, Reference};

    fn temp_path(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("rc-sqlite-unit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("store.db")
    }

    fn keyring() -> Keyring {
        Keyring::new(EncryptionKey::new("k1", [4; 32]).unwrap())
    }

    /// The `EXPLAIN QUERY PLAN` details of `sql` on a new store's file.
    /// Unbound parameters read as NULL: the plan does not depend on them.
    fn query_plan(name: &str, sql: &str) -> Vec<String> {
        let path = temp_path(name);
        let _store = SqliteStore::open(&path, keyring()).unwrap();
        let conn = Connection::open(&path).unwrap();
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let mut rows = stmt.raw_query();
        let mut details = Vec::new();
        while let Some(r) = rows.next().unwrap() {
            details.push(r.get(3).unwrap());
        }
        details
    }

    /// The keys of a typical resolution's plan: four scopes, three
    /// candidates (the image's path, its host, its parent domain).
    fn plan_keys() -> Vec<Key<'static>> {
        let app = Box::leak(Box::new(App::new("o", "s", "a").unwrap()));
        let image: &'static Reference =
            Box::leak(Box::new("registry.example.com/repo/image".parse().unwrap()));
        Plan::new(app, image).keys().to_vec()
    }

    /// A typical plan's keys are one block, which binds each scope and
    /// each location once.
    fn plan_block() -> Block {
        let keys = plan_keys();
        let block = Block::starting(&keys);
        assert_eq!(
            block,
            Block {
                scopes: 4,
                locations: 3
            }
        );
        assert_eq!(block.len(), keys.len());
        block
    }

    #[test]
    fn r14_a_plan_is_one_block_and_other_lists_split_in_order() {
        plan_block();
        // Keys in another order (`keys[3 * scope + location]`): runs of
        // scopes with the same locations, in the order given, every key in
        // one block.
        let keys = plan_keys();
        let shape = |scopes, locations| Block { scopes, locations };
        let by_location = [keys[0], keys[3], keys[1], keys[4], keys[6], keys[9]];
        let blocks: Vec<_> = Block::split(&by_location).collect();
        assert_eq!(
            blocks,
            [(0, shape(2, 1)), (2, shape(2, 1)), (4, shape(2, 1))]
        );
        let mixed = [
            keys[0], keys[4], keys[1], keys[5], keys[3], keys[7], keys[11],
        ];
        let blocks: Vec<_> = Block::split(&mixed).collect();
        assert_eq!(
            blocks,
            [
                (0, shape(1, 1)),
                (1, shape(2, 1)),
                (3, shape(1, 2)),
                (5, shape(1, 1)),
                (6, shape(1, 1)),
            ]
        );
        // App and space with two locations each, then the organization with
        // one: a block of two scopes, then one of one.
        let uneven = [keys[0], keys[1], keys[3], keys[4], keys[6]];
        let blocks: Vec<_> = Block::split(&uneven).collect();
        assert_eq!(blocks, [(0, shape(2, 2)), (4, shape(1, 1))]);
        assert_eq!(Block::split(&[]).count(), 0);
        // The most locations of a block.
        let app = App::new("o", "s", "a").unwrap();
        let locations: Vec<Location> = (0..BLOCK_LOCATIONS + 1)
            .map(|i| format!("r{i}.example.com").parse().unwrap())
            .collect();
        let scope = Scope::App(app.id().clone());
        let many: Vec<_> = locations
            .iter()
            .map(|l| Key::new(scope.as_scope_ref(), l))
            .collect();
        let blocks: Vec<_> = Block::split(&many).collect();
        assert_eq!(
            blocks,
            [
                (0, shape(1, BLOCK_LOCATIONS)),
                (BLOCK_LOCATIONS, shape(1, 1))
            ]
        );
    }

    /// Each key is one search of the primary key, with the keys the outer
    /// loop (so rows come in key order), and nothing sorted.
    fn assert_searches_the_primary_key_in_key_order(details: &[String]) {
        let at = |prefix: &str| details.iter().position(|d| d.starts_with(prefix));
        let outer = at("SCAN k").unwrap_or_else(|| panic!("{details:?}"));
        let search = at("SEARCH c USING PRIMARY KEY (location=? AND scope_kind=? AND scope_id=?)")
            .unwrap_or_else(|| panic!("{details:?}"));
        assert!(outer < search, "{details:?}");
        assert!(at("SCAN c").is_none(), "{details:?}");
        assert_sorts_nothing(details);
    }

    #[test]
    fn r14_a_plan_is_one_statement_on_the_primary_key() {
        let details = query_plan("plan", plan_block().sql(false));
        assert_searches_the_primary_key_in_key_order(&details);
    }

    /// The plan `details` builds no temporary B-tree: the rows come in the
    /// order an index gives.
    fn assert_sorts_nothing(details: &[String]) {
        let sorts = details.iter().any(|d| d.contains("TEMP B-TREE"));
        assert!(!sorts, "{details:?}");
    }

    #[test]
    fn r14_first_match_is_one_statement_on_the_primary_key() {
        let details = query_plan("first-match-plan", plan_block().sql(true));
        assert_searches_the_primary_key_in_key_order(&details);
    }

    /// `first_match`'s statement ends at the first hit: a hit at the plan's
    /// first key runs a fraction of the virtual machine's steps of a hit at
    /// its last key, which looks up every key before it.
    #[test]
    fn r14_first_match_looks_up_no_key_after_the_winner() {
        let path = temp_path("first-hit-ends");
        let store = SqliteStore::open(&path, keyring()).unwrap();
        let keys = plan_keys();
        let (first, last) = (keys[0], keys[keys.len() - 1]);
        let create = |key: Key<'_>| {
            store
                .create(RegistryCredential::new(
                    key.scope().to_scope(),
                    key.location().parse().unwrap(),
                    Credential::new("u", "pw").unwrap(),
                ))
                .unwrap();
        };
        create(last);
        let block = plan_block();
        let steps = || {
            let conn = store.inner.take().unwrap();
            let steps = {
                let mut stmt = conn.prepare_cached(block.sql(true)).unwrap();
                stmt.reset_status(rusqlite::StatementStatus::VmStep);
                block.bind(&mut stmt, &keys).unwrap();
                let mut rows = stmt.raw_query();
                let i: usize = rows.next().unwrap().unwrap().get(0).unwrap();
                drop(rows);
                (i, stmt.get_status(rusqlite::StatementStatus::VmStep))
            };
            store.inner.give_back(conn);
            steps
        };
        let (i, at_last) = steps();
        assert_eq!(i, keys.len() - 1);
        create(first);
        let (i, at_first) = steps();
        assert_eq!(i, 0);
        assert!(
            at_first * 4 < at_last,
            "{at_first} steps for a hit at the first key, {at_last} at the last"
        );
        assert_eq!(store.first_match(&keys).unwrap().map(|(i, _)| i), Some(0));
    }

    #[test]
    fn r21_listings_read_the_scope_index_in_order() {
        for sql in [LIST_SQL, LIST_ALL_SQL] {
            let details = query_plan("listing", sql);
            let by_scope = |d: &String| d.contains("INDEX registry_credentials_by_scope");
            assert!(details.iter().any(by_scope), "{details:?}");
            assert_sorts_nothing(&details);
        }
    }

    #[test]
    fn r16_conflicts_leave_the_stored_row() {
        let path = temp_path("conflict");
        let store = SqliteStore::open(&path, keyring()).unwrap();
        let c = |u: &str| {
            RegistryCredential::new(
                Scope::Foundation,
                "example.org".parse().unwrap(),
                Credential::new(u, "pw").unwrap(),
            )
        };
        store.create(c("first")).unwrap();
        assert!(matches!(
            store.create(c("second")),
            Err(StoreError::Conflict { .. })
        ));
        let all = store.list_all().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].username().as_str(), "first");
        assert_eq!(store.len().unwrap(), 1);
    }

    /// A file at schema `version`, made by this release's own migrations
    /// up to it, holding two password credentials in that version's
    /// columns, sealed as that version sealed them.
    fn file_at_version(name: &str, version: u32) -> PathBuf {
        let path = temp_path(name);
        let mut conn = Connection::open(&path).unwrap();
        let tx = conn.transaction().unwrap();
        for m in schema::MIGRATIONS.iter().filter(|m| m.version <= version) {
            tx.execute_batch(m.sqlite).unwrap();
        }
        tx.execute_batch(&format!("PRAGMA user_version = {version}"))
            .unwrap();
        let ring = keyring();
        let org = registry_credentials::scope::OrgId::new("o").unwrap();
        let insert = crate::earlier_version::insert(
            version,
            '?',
            ", randomblob(16), unixepoch(), unixepoch()",
        );
        for (kind, id, location, user, key, sealed) in
            crate::earlier_version::sealed_rows(&ring, &org)
        {
            tx.execute(&insert, params![kind, id, location, user, key, sealed])
                .unwrap();
        }
        tx.commit().unwrap();
        path
    }

    /// R22, R24, R25: a file of every earlier schema version opens, is
    /// migrated in place, and keeps every row readable: each a password
    /// credential without an expiry, with a GUID of its own and the time
    /// of the migration; then it stores metadata and every kind.
    #[test]
    fn r22_r24_r25_a_file_of_every_earlier_version_migrates_and_keeps_every_row() {
        use registry_credentials::metadata::{Metadata, MetadataPatch};
        use registry_credentials::{CredentialKind, Password};
        let latest = schema::latest_version();
        for version in 1..latest {
            let path = file_at_version(&format!("migrate-{version}"), version);
            let before = crate::earlier_version::now_secs();
            let store = SqliteStore::open(&path, keyring()).unwrap();
            let all = store.list_all().unwrap();
            let records = crate::earlier_version::assert_kept(&all, version, before);
            for r in &records {
                assert_eq!(
                    store.get_by_guid(r.guid()).unwrap().unwrap().record(),
                    Some(r)
                );
            }
            let mut metadata = Metadata::default();
            metadata
                .merge(&MetadataPatch::labels([("env", Some("prod"))]))
                .unwrap();
            let org = Scope::Org(registry_credentials::scope::OrgId::new("o").unwrap());
            store
                .create(
                    RegistryCredential::new(
                        org.clone(),
                        "quay.io".parse().unwrap(),
                        Credential::registry_token("robot", "bearer").unwrap(),
                    )
                    .with_metadata(metadata.clone()),
                )
                .unwrap();
            store
                .update_by_guid(
                    records[0].guid(),
                    CredentialUpdate::Password(Password::new("changed").unwrap()),
                )
                .unwrap();
            drop(store);
            let store = SqliteStore::open(&path, keyring()).unwrap();
            let got = store
                .get(Key::new(org.as_scope_ref(), &"quay.io".parse().unwrap()))
                .unwrap()
                .unwrap();
            assert_eq!(got.kind(), CredentialKind::RegistryToken);
            assert_eq!(got.metadata(), &metadata);
            let page = store
                .query(&Query::new().selector("env=prod".parse().unwrap()))
                .unwrap();
            assert_eq!(page.total_results(), 1);
            let raw = Connection::open(&path).unwrap();
            let v: u32 = raw
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(v, latest);
        }
    }

    /// R22, R23: the query statement reads through indexes: no filter
    /// walks the whole table or a whole index, a selector searches the
    /// labels' index, and the unfiltered page walks the (time, GUID) index
    /// without sorting.
    #[test]
    fn r22_r23_queries_search_indexes_and_never_scan_the_table() {
        use registry_credentials::ScopeKind;
        use registry_credentials::store::{OrderBy, TimeFilter};
        let space = Scope::Space(registry_credentials::scope::SpaceId::new("s").unwrap());
        let cases = [
            ("scopes", Query::new().scopes([space.clone()])),
            (
                "scopes and selector",
                Query::new()
                    .scopes([space])
                    .selector("env in (prod,dev),!deprecated".parse().unwrap()),
            ),
            ("guids", Query::new().guids([Guid::random()])),
            (
                "locations",
                Query::new().locations(["example.com".parse().unwrap()]),
            ),
            (
                "selector",
                Query::new().selector("env=prod".parse().unwrap()),
            ),
            (
                "created",
                Query::new().created(TimeFilter::new().after(std::time::UNIX_EPOCH)),
            ),
            (
                "kinds",
                Query::new()
                    .scope_kinds([ScopeKind::Foundation])
                    .order_by(OrderBy::UpdatedAtDescending),
            ),
        ];
        for (what, query) in cases {
            let details = query_plan(
                &format!("query-{}", what.replace(' ', "-")),
                &QuerySql::new(&query, PageJoin::PrimaryKey).sql,
            );
            let scans = details.iter().any(|d| d.starts_with("SCAN c"));
            assert!(!scans, "{what}: {details:?}");
        }
        // The page's keys come in the order of the time index, unsorted;
        // only the page's own rows may be sorted after they are read.
        let details = query_plan(
            "query-all",
            &QuerySql::new(&Query::new(), PageJoin::PrimaryKey).sql,
        );
        let keys = details
            .iter()
            .skip_while(|d| *d != "CO-ROUTINE k")
            .take_while(|d| *d != "SCAN k")
            .cloned()
            .collect::<Vec<_>>();
        assert!(!keys.is_empty(), "{details:?}");
        assert_sorts_nothing(&keys);
        assert!(
            details
                .iter()
                .any(|d| d.contains("registry_credentials_by_created")),
            "{details:?}"
        );
    }
}
