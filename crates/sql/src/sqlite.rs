//! `SqliteStore`: credentials in one SQLite file, passwords encrypted at
//! rest.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};

use registry_credentials::credential::{Credential, CredentialUpdate};
use registry_credentials::scope::{AppId, ScopeRef};
use registry_credentials::store::{
    AppCredentialReplaced, CredentialSource, CredentialStore, FirstMatch, Found, Key, StoreError,
};
use registry_credentials::{Location, RegistryCredential, Scope};

use crate::schema::{self, kind_of, scope_columns, scope_of};
use crate::{
    check_key, corrupt, decode, fatal, seal, KeyError, Keyring, OpenError, RowData, PRUNE_KEYS,
    ROTATE_SELECT,
};

/// How a [`SqliteStore`] uses its file.
///
/// ```
/// use std::time::Duration;
/// use registry_credentials_sql::SqliteOptions;
/// let options = SqliteOptions::default()
///     .busy_timeout(Duration::from_secs(10))
///     .idle_connections(8);
/// assert_eq!(options.get_busy_timeout(), Duration::from_secs(10));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SqliteOptions {
    busy_timeout: Duration,
    idle_connections: usize,
    synchronous_full: bool,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            busy_timeout: Duration::from_secs(5),
            idle_connections: 4,
            synchronous_full: true,
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

    /// The busy timeout.
    pub fn get_busy_timeout(&self) -> Duration {
        self.busy_timeout
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
///   one statement ordered by the key's place in the plan, `LIMIT 1`, and
///   decrypts the winner alone.
/// - Replacing an app's credentials (R19) is one transaction.
/// - Every write is one transaction (`BEGIN IMMEDIATE`); the file is in WAL
///   mode, so readers never wait for writers, and by default every commit is
///   synced to disk before the call returns
///   ([`SqliteOptions::sync_every_commit`]).
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
const LIST_SQL: &str = "SELECT location, username, key_id, secret FROM registry_credentials \
                        WHERE scope_kind = ?1 AND scope_id = ?2 ORDER BY location";
/// Every row, in scope and location order (the `by_scope` index).
const LIST_ALL_SQL: &str = "SELECT scope_kind, scope_id, location, username, key_id, secret \
                            FROM registry_credentials ORDER BY scope_kind, scope_id, location";
/// Keys per statement in `get_many`; plans are far smaller.
const KEYS_PER_QUERY: usize = 256;
/// Rows re-encrypted per transaction by `rotate`.
const ROTATE_BATCH: usize = 500;

fn sqlite_error(e: rusqlite::Error) -> StoreError {
    let retryable = matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    );
    StoreError::Backend {
        retryable,
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
        let inner = Inner {
            path: path.as_ref().to_owned(),
            keyring,
            options,
            idle: Mutex::new(Vec::new()),
        };
        let mut conn = inner.connect()?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .map_err(sqlite_error)?;
        migrate(&mut conn)?;
        check_keys(&mut conn, &inner.keyring)?;
        inner.give_back(conn);
        Ok(SqliteStore {
            inner: Arc::new(inner),
        })
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
                    let rows = stmt
                        .query_map(params![current, ROTATE_BATCH as i64], |r| {
                            Ok((
                                r.get::<_, i64>(0)?,
                                r.get::<_, String>(1)?,
                                r.get::<_, String>(2)?,
                                r.get::<_, String>(3)?,
                                r.get::<_, String>(4)?,
                                r.get::<_, Vec<u8>>(5)?,
                            ))
                        })
                        .map_err(sqlite_error)?;
                    rows.collect::<Result<Vec<_>, _>>().map_err(sqlite_error)?
                };
                if rows.is_empty() {
                    prune_keys(&tx, keyring)?;
                    tx.commit().map_err(sqlite_error)?;
                    return Ok(done);
                }
                for (kind, scope_id, location, username, key_id, secret) in rows {
                    let scope =
                        scope_of(kind_of(kind).map_err(corrupt)?, &scope_id).map_err(corrupt)?;
                    let credential = decode(
                        keyring,
                        scope,
                        RowData {
                            location: &location,
                            username: &username,
                            key_id: &key_id,
                            secret: &secret,
                        },
                    )?;
                    let sealed = seal(keyring, &credential)?;
                    tx.prepare_cached(
                        "UPDATE registry_credentials SET key_id = ?4, secret = ?5 \
                         WHERE scope_kind = ?1 AND scope_id = ?2 AND location = ?3",
                    )
                    .and_then(|mut s| s.execute(params![kind, scope_id, location, current, sealed]))
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
    fn connect(&self) -> Result<Connection, StoreError> {
        let conn = Connection::open(&self.path).map_err(sqlite_error)?;
        conn.busy_timeout(self.options.busy_timeout)
            .map_err(sqlite_error)?;
        let sync = if self.options.synchronous_full {
            "FULL"
        } else {
            "NORMAL"
        };
        conn.execute_batch(&format!("PRAGMA synchronous = {sync};"))
            .map_err(sqlite_error)?;
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
            None => self.connect(),
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
        let mut conn = self.take()?;
        let out = f(&mut conn);
        self.give_back(conn);
        out
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

fn migrate(conn: &mut Connection) -> Result<(), OpenError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sqlite_error)?;
    let found: u32 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sqlite_error)?;
    for m in schema::pending(found)? {
        tx.execute_batch(m.sqlite).map_err(sqlite_error)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", m.version))
            .map_err(sqlite_error)?;
    }
    tx.commit().map_err(sqlite_error)?;
    Ok(())
}

/// Checks every key against the check value stored for its id (storing one
/// for an id seen first), and that no row is under a key the keyring lacks.
fn check_keys(conn: &mut Connection, keyring: &Keyring) -> Result<(), OpenError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sqlite_error)?;
    for id in keyring.ids() {
        let key = keyring.get(id).expect("an id of the keyring");
        let stored: Option<Vec<u8>> = tx
            .query_row(
                "SELECT check_value FROM registry_credential_keys WHERE key_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(sqlite_error)?;
        if let Some(check) = check_key(key, stored.as_deref())? {
            tx.execute(
                "INSERT INTO registry_credential_keys (key_id, check_value) VALUES (?1, ?2)",
                params![id, check],
            )
            .map_err(sqlite_error)?;
        }
    }
    let known: Vec<String> = tx
        .prepare("SELECT key_id FROM registry_credential_keys")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(sqlite_error)?;
    for id in known.iter().filter(|id| keyring.get(id).is_none()) {
        let used: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM registry_credentials WHERE key_id = ?1)",
                [id],
                |r| r.get(0),
            )
            .map_err(sqlite_error)?;
        if used {
            return Err(KeyError::MissingKey { id: id.clone() }.into());
        }
    }
    tx.commit().map_err(sqlite_error)?;
    Ok(())
}

/// Forgets the check values of keys that encrypt nothing any more and are
/// not the current key.
fn prune_keys(tx: &rusqlite::Transaction<'_>, keyring: &Keyring) -> Result<(), StoreError> {
    tx.execute(PRUNE_KEYS, [keyring.current().id()])
        .map_err(sqlite_error)?;
    Ok(())
}

/// `get_many`'s statement for `n` keys: the keys as a VALUES list joined
/// to the table on its primary key (location first, so the four scopes of a
/// candidate are neighbours in the index).
fn get_many_sql(n: usize) -> &'static str {
    static SQL: OnceLock<Vec<String>> = OnceLock::new();
    &SQL.get_or_init(|| plan_statements(""))[n - 1]
}

/// `first_match`'s statement for `n` keys: `get_many`'s, with only the
/// row of the first key that holds one.
fn first_match_sql(n: usize) -> &'static str {
    static SQL: OnceLock<Vec<String>> = OnceLock::new();
    &SQL.get_or_init(|| plan_statements(" ORDER BY k.i LIMIT 1"))[n - 1]
}

/// The plan statements for 1 to `KEYS_PER_QUERY` keys, each ending in
/// `tail`.
fn plan_statements(tail: &str) -> Vec<String> {
    {
        (1..=KEYS_PER_QUERY)
            .map(|n| {
                let mut sql = String::from("WITH k(i, kind, sid, loc) AS (VALUES ");
                for i in 0..n {
                    if i > 0 {
                        sql.push(',');
                    }
                    let p = 3 * i + 1;
                    sql.push_str(&format!("({i},?{},?{},?{})", p, p + 1, p + 2));
                }
                sql.push_str(
                    ") SELECT k.i, c.location, c.username, c.key_id, c.secret FROM k \
                     JOIN registry_credentials AS c ON c.scope_kind = k.kind \
                     AND c.scope_id = k.sid AND c.location = k.loc",
                );
                sql.push_str(tail);
                sql
            })
            .collect()
    }
}

fn read_row(
    keyring: &Keyring,
    scope: Scope,
    r: &rusqlite::Row<'_>,
    first: usize,
) -> Result<RegistryCredential, StoreError> {
    let get = |i: usize| r.get_ref(first + i).map_err(sqlite_error);
    let text = |i: usize| -> Result<&str, StoreError> {
        get(i)?
            .as_str()
            .map_err(|e| fatal(rusqlite::Error::from(e)))
    };
    let secret = get(3)?
        .as_blob()
        .map_err(|e| fatal(rusqlite::Error::from(e)))?;
    decode(
        keyring,
        scope,
        RowData {
            location: text(0)?,
            username: text(1)?,
            key_id: text(2)?,
            secret,
        },
    )
}

/// A new row; a row already at its key is a conflict (0 rows changed).
const INSERT_NEW: &str = "INSERT INTO registry_credentials \
     (scope_kind, scope_id, location, username, key_id, secret) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING";

/// Writes `credential`, its password `sealed` under the keyring's current
/// key, with `sql` ([`INSERT_NEW`]); returns the rows changed.
fn insert(
    tx: &Connection,
    sql: &str,
    keyring: &Keyring,
    credential: &RegistryCredential,
    sealed: &[u8],
) -> Result<usize, StoreError> {
    let (kind, id) = scope_columns(credential.scope().as_ref());
    tx.prepare_cached(sql)
        .and_then(|mut s| {
            s.execute(params![
                kind,
                id,
                credential.location().as_str(),
                credential.username().as_str(),
                keyring.current().id(),
                sealed
            ])
        })
        .map_err(sqlite_error)
}

fn get_in(
    conn: &Connection,
    keyring: &Keyring,
    key: Key<'_>,
) -> Result<Option<RegistryCredential>, StoreError> {
    let (kind, id) = scope_columns(key.scope());
    let mut stmt = conn
        .prepare_cached(
            "SELECT location, username, key_id, secret FROM registry_credentials \
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

impl CredentialSource for SqliteStore {
    fn get(&self, key: Key<'_>) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
        let keyring = &self.inner.keyring;
        self.inner
            .with_conn(|c| Ok(get_in(c, keyring, key)?.map(Arc::new)))
    }

    /// One statement per 256 keys (a resolution plan has far fewer): the
    /// keys as a `VALUES` list joined to the table's primary key.
    fn get_many(&self, keys: &[Key<'_>]) -> Result<Found, StoreError> {
        let keyring = &self.inner.keyring;
        let mut found = vec![None; keys.len()];
        if keys.is_empty() {
            return Ok(found);
        }
        self.inner.with_conn(|conn| {
            for (chunk_no, chunk) in keys.chunks(KEYS_PER_QUERY).enumerate() {
                let mut stmt = conn
                    .prepare_cached(get_many_sql(chunk.len()))
                    .map_err(sqlite_error)?;
                bind_keys(&mut stmt, chunk)?;
                let mut rows = stmt.raw_query();
                while let Some(r) = rows.next().map_err(sqlite_error)? {
                    let (i, c) = read_plan_row(keyring, chunk, r)?;
                    found[chunk_no * KEYS_PER_QUERY + i] = Some(Arc::new(c));
                }
            }
            Ok(found)
        })
    }

    /// One statement per 256 keys that returns the winning row alone
    /// (`ORDER BY` the key's index, `LIMIT 1`): only the winner is read and
    /// decrypted, and outranked passwords never leave the database.
    fn first_match(&self, keys: &[Key<'_>]) -> Result<FirstMatch, StoreError> {
        let keyring = &self.inner.keyring;
        self.inner.with_conn(|conn| {
            for (chunk_no, chunk) in keys.chunks(KEYS_PER_QUERY).enumerate() {
                let mut stmt = conn
                    .prepare_cached(first_match_sql(chunk.len()))
                    .map_err(sqlite_error)?;
                bind_keys(&mut stmt, chunk)?;
                let mut rows = stmt.raw_query();
                if let Some(r) = rows.next().map_err(sqlite_error)? {
                    let (i, c) = read_plan_row(keyring, chunk, r)?;
                    return Ok(Some((chunk_no * KEYS_PER_QUERY + i, Arc::new(c))));
                }
            }
            Ok(None)
        })
    }
}

/// Binds a chunk of plan keys to a plan statement's parameters.
fn bind_keys(
    stmt: &mut rusqlite::CachedStatement<'_>,
    chunk: &[Key<'_>],
) -> Result<(), StoreError> {
    for (i, key) in chunk.iter().enumerate() {
        let (kind, id) = scope_columns(key.scope());
        let p = 3 * i + 1;
        stmt.raw_bind_parameter(p, kind).map_err(sqlite_error)?;
        stmt.raw_bind_parameter(p + 1, id).map_err(sqlite_error)?;
        stmt.raw_bind_parameter(p + 2, key.location())
            .map_err(sqlite_error)?;
    }
    Ok(())
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

impl CredentialStore for SqliteStore {
    fn create(
        &self,
        credential: RegistryCredential,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        let inner = &self.inner;
        let sealed = seal(&inner.keyring, &credential)?;
        let inserted =
            inner.write(|tx| insert(tx, INSERT_NEW, &inner.keyring, &credential, &sealed))?;
        if inserted == 0 {
            return Err(StoreError::Conflict {
                scope: credential.scope().clone(),
                location: credential.location().clone(),
            });
        }
        Ok(Arc::new(credential))
    }

    fn update(
        &self,
        scope: ScopeRef<'_>,
        location: &Location,
        update: CredentialUpdate,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        let inner = &self.inner;
        let key = Key::new(scope, location);
        inner.write(|tx| {
            let old = get_in(tx, &inner.keyring, key)?
                .ok_or_else(|| StoreError::not_found(scope, location))?;
            let new = old.updated(update);
            let sealed = seal(&inner.keyring, &new)?;
            let (kind, id) = scope_columns(key.scope());
            tx.prepare_cached(
                "UPDATE registry_credentials SET username = ?4, key_id = ?5, secret = ?6 \
                 WHERE scope_kind = ?1 AND scope_id = ?2 AND location = ?3",
            )
            .and_then(|mut s| {
                s.execute(params![
                    kind,
                    id,
                    key.location(),
                    new.username().as_str(),
                    inner.keyring.current().id(),
                    sealed
                ])
            })
            .map_err(sqlite_error)?;
            Ok(Arc::new(new))
        })
    }

    fn delete(
        &self,
        scope: ScopeRef<'_>,
        location: &Location,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        let inner = &self.inner;
        let key = Key::new(scope, location);
        inner.write(|tx| {
            let old = get_in(tx, &inner.keyring, key)?
                .ok_or_else(|| StoreError::not_found(scope, location))?;
            let (kind, id) = scope_columns(key.scope());
            tx.prepare_cached(
                "DELETE FROM registry_credentials \
                 WHERE scope_kind = ?1 AND scope_id = ?2 AND location = ?3",
            )
            .and_then(|mut s| s.execute(params![kind, id, key.location()]))
            .map_err(sqlite_error)?;
            Ok(Arc::new(old))
        })
    }

    /// One `BEGIN IMMEDIATE` transaction: read the app's rows, delete them
    /// all, insert the new one. Writers to the file take turns, so two
    /// replacements never interleave, in one process or several.
    fn replace_app_credential(
        &self,
        app: &AppId,
        location: Location,
        credential: Credential,
    ) -> Result<AppCredentialReplaced, StoreError> {
        let inner = &self.inner;
        let new = RegistryCredential::new(Scope::App(app.clone()), location, credential);
        let sealed = seal(&inner.keyring, &new)?;
        let replaced = inner.write(|tx| {
            let mut replaced = take_scope(tx, &inner.keyring, ScopeRef::App(app))?;
            if let Some(i) = replaced.iter().position(|c| c.location() == new.location()) {
                let same = replaced.remove(i);
                replaced.insert(0, same);
            }
            insert(tx, INSERT_NEW, &inner.keyring, &new, &sealed)?;
            Ok(replaced)
        })?;
        Ok(AppCredentialReplaced {
            stored: Arc::new(new),
            replaced,
        })
    }

    fn delete_scope(
        &self,
        scope: ScopeRef<'_>,
    ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        let inner = &self.inner;
        inner.write(|tx| take_scope(tx, &inner.keyring, scope))
    }

    fn list(&self, scope: ScopeRef<'_>) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        let keyring = &self.inner.keyring;
        let (kind, id) = scope_columns(scope);
        self.inner.with_conn(|conn| {
            let mut stmt = conn.prepare_cached(LIST_SQL).map_err(sqlite_error)?;
            let mut rows = stmt.query(params![kind, id]).map_err(sqlite_error)?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(sqlite_error)? {
                out.push(Arc::new(read_row(keyring, scope.to_scope(), r, 0)?));
            }
            Ok(out)
        })
    }

    fn list_all(&self) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        let keyring = &self.inner.keyring;
        self.inner.with_conn(|conn| {
            let mut stmt = conn.prepare_cached(LIST_ALL_SQL).map_err(sqlite_error)?;
            let mut rows = stmt.query([]).map_err(sqlite_error)?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(sqlite_error)? {
                let kind: i64 = r.get(0).map_err(sqlite_error)?;
                let id: String = r.get(1).map_err(sqlite_error)?;
                let scope = scope_of(kind_of(kind).map_err(corrupt)?, &id).map_err(corrupt)?;
                out.push(Arc::new(read_row(keyring, scope, r, 2)?));
            }
            Ok(out)
        })
    }
}

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

    #[test]
    fn r14_a_plan_is_one_statement_on_the_primary_key() {
        let path = temp_path("plan");
        let store = SqliteStore::open(&path, keyring()).unwrap();
        let app = App::new("o", "s", "a").unwrap();
        let image: Reference = "registry.example.com/repo/image".parse().unwrap();
        let plan = Plan::new(&app, &image);
        let conn = Connection::open(&path).unwrap();
        let mut stmt = conn
            .prepare(&format!(
                "EXPLAIN QUERY PLAN {}",
                get_many_sql(plan.keys().len())
            ))
            .unwrap();
        // Unbound parameters read as NULL: the plan does not depend on them.
        let mut rows = stmt.raw_query();
        let mut details: Vec<String> = Vec::new();
        while let Some(r) = rows.next().unwrap() {
            details.push(r.get(3).unwrap());
        }
        let search = details
            .iter()
            .find(|d| d.contains(" c "))
            .unwrap_or_else(|| panic!("{details:?}"));
        assert!(
            search.starts_with(
                "SEARCH c USING PRIMARY KEY (location=? AND scope_kind=? AND scope_id=?)"
            ),
            "{details:?}"
        );
        drop(store);
    }

    #[test]
    fn r14_first_match_is_one_statement_on_the_primary_key() {
        let path = temp_path("first-match-plan");
        let store = SqliteStore::open(&path, keyring()).unwrap();
        let app = App::new("o", "s", "a").unwrap();
        let image: Reference = "registry.example.com/repo/image".parse().unwrap();
        let plan = Plan::new(&app, &image);
        let conn = Connection::open(&path).unwrap();
        let mut stmt = conn
            .prepare(&format!(
                "EXPLAIN QUERY PLAN {}",
                first_match_sql(plan.keys().len())
            ))
            .unwrap();
        // Unbound parameters read as NULL: the plan does not depend on them.
        let mut rows = stmt.raw_query();
        let mut details: Vec<String> = Vec::new();
        while let Some(r) = rows.next().unwrap() {
            details.push(r.get(3).unwrap());
        }
        // Each key is one search of the primary key, never a scan of the
        // table; only the few rows found are sorted by the key's index.
        let search = details
            .iter()
            .find(|d| d.contains(" c "))
            .unwrap_or_else(|| panic!("{details:?}"));
        assert!(
            search.starts_with(
                "SEARCH c USING PRIMARY KEY (location=? AND scope_kind=? AND scope_id=?)"
            ),
            "{details:?}"
        );
        assert!(
            !details.iter().any(|d| d.starts_with("SCAN c")),
            "{details:?}"
        );
        drop(store);
    }

    #[test]
    fn r21_listings_read_the_scope_index_in_order() {
        let path = temp_path("listing");
        let _store = SqliteStore::open(&path, keyring()).unwrap();
        let conn = Connection::open(&path).unwrap();
        for sql in [LIST_SQL, LIST_ALL_SQL] {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let mut rows = stmt.raw_query();
            let mut details: Vec<String> = Vec::new();
            while let Some(r) = rows.next().unwrap() {
                details.push(r.get(3).unwrap());
            }
            assert!(
                details
                    .iter()
                    .any(|d| d.contains("INDEX registry_credentials_by_scope")),
                "{details:?}"
            );
            assert!(
                !details.iter().any(|d| d.contains("TEMP B-TREE")),
                "{details:?}"
            );
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
}
