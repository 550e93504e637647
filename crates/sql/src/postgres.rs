//! `PostgresStore`: credentials in PostgreSQL, shared by many service
//! instances; async, over tokio-postgres and a deadpool pool.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use deadpool_postgres::{
    GenericClient, Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
    TimeoutType, Transaction,
};
use tokio::sync::{Mutex, MutexGuard};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, NoTls, Row};

use registry_credentials::credential::{Credential, CredentialUpdate};
use registry_credentials::identity::Guid;
use registry_credentials::scope::{AppId, ScopeRef};
use registry_credentials::store::audit::{
    self, AuditContext, AuditEvent, AuditQuery, Write, Written,
};
use registry_credentials::store::{
    AppCredentialReplaced, AsyncCredentialSource, AsyncCredentialStore, BoxFuture, Key, Page,
    Query, StoreError,
};
use registry_credentials::{Location, RegistryCredential, Scope};

use crate::audit::{EventPage, INSERT_EVENT, audit_sql, event_params};
use crate::schema::{self, scope_columns};
use crate::{
    Columns, DatabaseError, Failure, KeyError, Keyring, OpenError, PRUNE_KEYS, PageJoin,
    PageScopes, Param, QuerySql, ROTATE_SELECT, check_key, corrupt, expires_column, fresh_record,
    kind_column, label_rows, metadata_column, query_page, read_row, read_scoped_row, read_summary,
    seal, time_column, touched,
};

/// Credentials in a PostgreSQL database, for services whose instances must
/// share one store: a credential created through one instance serves the
/// next push through any other. Passwords are encrypted at rest with the
/// caller's [`Keyring`], exactly as in the SQLite store (the schema,
/// migrations and encryption are the same code).
///
/// - Async: it implements [`AsyncCredentialStore`], over `tokio-postgres`
///   with a `deadpool-postgres` pool; nothing blocks the runtime.
/// - One resolution is one round trip that reads one row: `first_match`
///   sends every key of the [`Plan`](registry_credentials::resolve::Plan) as
///   three arrays to one prepared statement, which looks each up on the
///   primary key and returns the first found in plan order (`ORDER BY` the
///   key's position, `LIMIT 1`); only that row is decrypted.
/// - Replacing an app's credentials (R19) is one transaction, serialized
///   per app by a transaction-scoped advisory lock, so that of two
///   instances replacing at once, one waits for the other.
/// - [`transaction`](Self::transaction) runs several calls, and the
///   caller's own statements on tables of the same database (a directory
///   of organizations), as one transaction: all of them take effect or
///   none does.
/// - It is object safe: keep it as `Arc<dyn AsyncCredentialStore>`.
/// - The database enforces one credential per location and scope: of two
///   instances creating the same location at once, exactly one wins and the
///   other gets [`StoreError::Conflict`]. Updates and deletes lock the row,
///   so an update racing a delete either lands before it or finds nothing.
/// - A lost connection (a database restart, a network cut) fails the call
///   with [`StoreError::Backend`] and `retryable: true`, and nothing
///   changed; the pool replaces broken connections, so calls work again
///   once the database is back, without restarting the service.
/// - Every write is one transaction that first records a random write id.
///   When the connection is lost after `COMMIT` was sent, the store cannot
///   know whether it committed, so it sends the write again with the same
///   id, pausing between attempts for up to about 7 s: the id shows
///   whether the first attempt committed, so the write is applied once and
///   never undoes a later one (R28). The call returns what was written,
///   or its own refusal when it was not; only when the database stays out
///   of reach is the outcome [`StoreError::OutcomeUnknown`]. A
///   [`transaction`](Self::transaction) records one too, and is settled
///   the same way (it is not sent again: it committed, or it did not and
///   nothing changed). It needs a tokio runtime with its timer on (as the
///   pool's timeouts do).
///
/// Clones share one pool. Connections are plain TCP ([`connect`]); for TLS
/// build a [`deadpool_postgres::Pool`] with a TLS connector and use
/// [`from_pool`].
///
/// [`connect`]: Self::connect
/// [`from_pool`]: Self::from_pool
#[derive(Clone)]
pub struct PostgresStore {
    /// Writes begun, to prune old write ids every [`PRUNE_EVERY`]th.
    writes: Arc<AtomicU32>,
    /// How the writes whose commit answer was lost were settled.
    settled: Arc<SettleCounters>,
    pool: Pool,
    keyring: Arc<Keyring>,
}

/// Which statement `get_many` runs: the keys as arrays, unnested with their
/// position, each looked up on the primary key. The `LATERAL … LIMIT 1`
/// keeps the planner on one index look-up per key: as a plain join, a small
/// table gets a hash join over a full scan, three times slower. (A macro,
/// so that `FIRST_MATCH` extends the same text.)
macro_rules! get_many {
    () => {
        r#"SELECT k.i, c.location, c.username, c.key_id, c.secret, c.kind, c.expires_at,
  c.guid, c.created_at, c.updated_at, c.metadata
FROM unnest($1::int2[], $2::text[], $3::text[]) WITH ORDINALITY AS k(kind, sid, loc, i)
CROSS JOIN LATERAL (
  SELECT r.location, r.username, r.key_id, r.secret, r.kind, r.expires_at,
    r.guid, r.created_at, r.updated_at, r.metadata FROM registry_credentials AS r
  WHERE r.location = k.loc COLLATE "C" AND r.scope_kind = k.kind AND r.scope_id = k.sid COLLATE "C"
  LIMIT 1
) AS c"#
    };
}

/// `get_many`'s statement.
const GET_MANY: &str = get_many!();

/// `first_match`'s statement: `GET_MANY`'s winner alone.
const FIRST_MATCH: &str = concat!(get_many!(), "\nORDER BY k.i\nLIMIT 1");

/// Serializes the replacements of one app's credentials (R19): the
/// transaction-scoped advisory lock (namespace, hash of the app id).
const APP_LOCK: &str = "SELECT pg_advisory_xact_lock(1919246177, hashtext($1))";
/// Deletes every row at one scope, returning them.
const DELETE_SCOPE: &str = "DELETE FROM registry_credentials \
                            WHERE scope_kind = $1 AND scope_id = $2 \
                            RETURNING location, username, key_id, secret, kind, expires_at, \
                            guid, created_at, updated_at, metadata";
/// A new row; a row at its key (made meanwhile by `create`) is replaced,
/// its label rows following its new GUID (`ON UPDATE CASCADE`) until they
/// are written again.
const UPSERT: &str = "INSERT INTO registry_credentials \
                      (scope_kind, scope_id, location, username, key_id, secret, kind, expires_at, \
                      guid, created_at, updated_at, metadata) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                      ON CONFLICT (location, scope_kind, scope_id) \
                      DO UPDATE SET username = excluded.username, key_id = excluded.key_id, \
                      secret = excluded.secret, kind = excluded.kind, expires_at = excluded.expires_at, \
                      guid = excluded.guid, created_at = excluded.created_at, \
                      updated_at = excluded.updated_at, metadata = excluded.metadata";

const GET: &str = "SELECT location, username, key_id, secret, kind, expires_at, guid, created_at, \
                   updated_at, metadata FROM registry_credentials \
                   WHERE scope_kind = $1 AND scope_id = $2 AND location = $3";
const GET_FOR_UPDATE: &str = "SELECT location, username, key_id, secret, kind, expires_at, guid, \
                              created_at, updated_at, metadata FROM registry_credentials \
                              WHERE scope_kind = $1 AND scope_id = $2 AND location = $3 FOR UPDATE";
const INSERT: &str = "INSERT INTO registry_credentials \
                      (scope_kind, scope_id, location, username, key_id, secret, kind, expires_at, \
                      guid, created_at, updated_at, metadata) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING";
/// The row's GUID and `created_at` never change (R22): they select it.
const UPDATE: &str = "UPDATE registry_credentials SET username = $4, key_id = $5, secret = $6, \
                      kind = $7, expires_at = $8, updated_at = $11, metadata = $12 \
                      WHERE scope_kind = $1 AND scope_id = $2 AND location = $3 \
                      AND guid = $9 AND created_at = $10";
const DELETE: &str = "DELETE FROM registry_credentials \
                      WHERE scope_kind = $1 AND scope_id = $2 AND location = $3 \
                      RETURNING location, username, key_id, secret, kind, expires_at, \
                      guid, created_at, updated_at, metadata";
const LIST: &str = "SELECT location, username, key_id, secret, kind, expires_at, guid, created_at, \
                    updated_at, metadata FROM registry_credentials \
                    WHERE scope_kind = $1 AND scope_id = $2 ORDER BY location";
const LIST_ALL: &str = "SELECT scope_kind, scope_id, location, username, key_id, secret, kind, expires_at, \
                        guid, created_at, updated_at, metadata \
                        FROM registry_credentials ORDER BY scope_kind, scope_id, location";
/// The row with a GUID, its scope first.
const GET_BY_GUID: &str = "SELECT scope_kind, scope_id, location, username, key_id, secret, kind, \
                           expires_at, guid, created_at, updated_at, metadata \
                           FROM registry_credentials WHERE guid = $1";
/// [`GET_BY_GUID`], locking the row.
const GET_BY_GUID_FOR_UPDATE: &str = "SELECT scope_kind, scope_id, location, username, key_id, \
                           secret, kind, expires_at, guid, created_at, updated_at, metadata \
                           FROM registry_credentials WHERE guid = $1 FOR UPDATE";
/// Deletes the row with a GUID, returning it, its scope first.
const DELETE_BY_GUID: &str = "DELETE FROM registry_credentials WHERE guid = $1 \
                              RETURNING scope_kind, scope_id, location, username, key_id, secret, \
                              kind, expires_at, guid, created_at, updated_at, metadata";
/// Forgets a credential's label rows.
const DELETE_LABELS: &str = "DELETE FROM registry_credential_labels WHERE guid = $1";
/// Writes a credential's label rows, keys and values as two arrays.
const INSERT_LABELS: &str = "INSERT INTO registry_credential_labels (guid, key, value) \
                             SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v)";

/// Serializes migrations and key checks of instances starting at once.
const MIGRATION_LOCK: i64 = 0x7265_6763_7265_6473; // "regcreds"

/// Rows re-encrypted per transaction by `rotate`.
const ROTATE_BATCH: i64 = 500;

/// True for the SQLSTATEs after which the same call may succeed: a lost or
/// refused connection, a server shutting down or starting, too many
/// connections, a serialization failure or deadlock.
fn retryable_state(state: &SqlState) -> bool {
    let code = state.code();
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(
            code,
            "40001" | "40P01" | "57P01" | "57P02" | "57P03" | "55P03"
        )
}

/// A failure of the server or the connection as [`DatabaseError`], which
/// says what to do, when it is one the caller can act on; any other error
/// back as it is.
fn explained(e: tokio_postgres::Error) -> Result<DatabaseError, tokio_postgres::Error> {
    type Make = fn(Box<dyn StdError + Send + Sync>) -> DatabaseError;
    let make: Make = match e.code().map(SqlState::code) {
        Some("53100") => |source| DatabaseError::ServerDiskFull { source },
        Some(c) if c.starts_with("53") => |source| DatabaseError::ServerBusy { source },
        Some("57P01" | "57P02" | "57P03") => |source| DatabaseError::ServerUnavailable { source },
        Some(c) if c.starts_with("08") => |source| DatabaseError::ConnectionLost { source },
        Some("40001" | "40P01" | "55P03") => |source| DatabaseError::Contention { source },
        Some(c) if c.starts_with("28") => |source| DatabaseError::LoginRefused { source },
        Some("42501") => |source| DatabaseError::NotPermitted { source },
        Some(_) => return Err(e),
        // No SQLSTATE: the connection closed, or the network failed.
        None => match e.source().and_then(|s| s.downcast_ref::<std::io::Error>()) {
            Some(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                |source| DatabaseError::ServerUnavailable { source }
            }
            Some(_) => |source| DatabaseError::ConnectionLost { source },
            None if e.is_closed() => |source| DatabaseError::ConnectionLost { source },
            None => return Err(e),
        },
    };
    Ok(make(Box::new(e)))
}

/// The [`StoreError`] a PostgreSQL error means: [`StoreError::Backend`],
/// retryable when the same call may succeed later (a lost or refused
/// connection, a server shutting down or starting, too many connections, a
/// serialization failure or a deadlock). For statements of the caller's
/// own in a [`PostgresTransaction`], whose closure's error comes
/// `From<StoreError>`.
pub fn postgres_error(e: tokio_postgres::Error) -> StoreError {
    failure(e).into()
}

/// A PostgreSQL error as [`postgres_error`] tells it, still typed.
fn failure(e: tokio_postgres::Error) -> Failure {
    let e = match explained(e) {
        Ok(explained) => return Failure::Database(explained),
        Err(e) => e,
    };
    let retryable = match e.code() {
        Some(state) => retryable_state(state),
        None => e.is_closed() || e.source().is_some_and(|s| s.is::<std::io::Error>()),
    };
    Failure::Driver {
        retryable,
        source: Box::new(e),
    }
}

/// A failure to get a connection from `pool`: a wait past the pool's
/// timeout names the wait and how many connections were in use, read from
/// the pool itself.
fn pool_error(e: PoolError, pool: &Pool) -> Failure {
    match e {
        PoolError::Backend(e) => failure(e),
        PoolError::Timeout(kind) => {
            let timeouts = pool.timeouts();
            let status = pool.status();
            let source: Box<dyn StdError + Send + Sync> = Box::new(PoolError::Timeout(kind));
            Failure::Database(match kind {
                TimeoutType::Wait => DatabaseError::PoolExhausted {
                    waited: timeouts.wait.unwrap_or_default(),
                    in_use: status.size.saturating_sub(status.available),
                    max_size: status.max_size,
                    source,
                },
                TimeoutType::Create => DatabaseError::ConnectTimeout {
                    waited: timeouts.create.unwrap_or_default(),
                    source,
                },
                TimeoutType::Recycle => DatabaseError::ConnectionLost { source },
            })
        }
        other => Failure::Driver {
            retryable: false,
            source: Box::new(other),
        },
    }
}

/// `Box<dyn Error>` from a message: a configuration error, or a
/// transaction PostgreSQL rolled back.
#[derive(Debug)]
struct ConfigError(String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for ConfigError {}

impl PostgresStore {
    /// Connects to the database at `url` (a libpq URL or key=value string,
    /// such as `postgresql://app@db.internal:5432/platform`), with a pool of
    /// up to 16 connections over plain TCP, migrates its schema and checks
    /// the keyring against it.
    ///
    /// Tables are created in the first schema of the connection's
    /// `search_path` (add `?options=-c%20search_path%3Dcredentials` to the
    /// URL to choose one).
    ///
    /// # Errors
    ///
    /// [`OpenError::Key`] when a key is wrong or missing,
    /// [`OpenError::Schema`] when the database was migrated by a newer
    /// release, [`OpenError::Backend`] when `url` is not valid or the
    /// database cannot be reached (retryable then).
    pub async fn connect(url: &str, keyring: Keyring) -> Result<Self, OpenError> {
        let mut config = tokio_postgres::Config::from_str(url).map_err(|e| OpenError::Backend {
            retryable: false,
            source: Box::new(ConfigError(format!(
                "the PostgreSQL address is not valid ({e}); write it as postgresql://USER@HOST:PORT/DATABASE"
            ))),
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(16)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(10)))
            .build()
            .map_err(|e| OpenError::Backend {
                retryable: false,
                source: Box::new(e),
            })?;
        Self::from_pool(pool, keyring).await
    }

    /// A store over a pool the caller built (for TLS, other pool sizes or
    /// timeouts); migrates the schema and checks the keyring as
    /// [`connect`](Self::connect) does.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect).
    pub async fn from_pool(pool: Pool, keyring: Keyring) -> Result<Self, OpenError> {
        let store = PostgresStore {
            writes: Arc::new(AtomicU32::new(0)),
            settled: Arc::default(),
            pool,
            keyring: Arc::new(keyring),
        };
        store.prepare().await?;
        Ok(store)
    }

    /// How the writes whose commit answer was lost were settled (R28).
    pub fn settled(&self) -> Settled {
        let c = &*self.settled;
        Settled {
            lost: c.lost.load(Ordering::Relaxed),
            committed: c.committed.load(Ordering::Relaxed),
            redone: c.redone.load(Ordering::Relaxed),
            rolled_back: c.rolled_back.load(Ordering::Relaxed),
            unknown: c.unknown.load(Ordering::Relaxed),
        }
    }

    /// The pool, to share with other queries of the service.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// How many credentials the store holds.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the database fails.
    pub async fn len(&self) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT count(*) FROM registry_credentials", &[])
            .await
            .map_err(postgres_error)?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    /// True when it holds no credential.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the database fails.
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len().await? == 0)
    }

    /// Re-encrypts every row not under the keyring's current key with it,
    /// a few hundred rows per transaction, and returns how many were
    /// (see [`Keyring`] for the steps of a rotation).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the database fails, or with a
    /// [`KeyError`] source when a row cannot be decrypted; the rows done
    /// before stay done.
    pub async fn rotate(&self) -> Result<u64, StoreError> {
        let keyring = &*self.keyring;
        let current = keyring.current().id();
        let mut client = self.client().await?;
        let select = format!("{ROTATE_SELECT} FOR UPDATE SKIP LOCKED");
        let mut done = 0u64;
        loop {
            let tx = client.transaction().await.map_err(postgres_error)?;
            let rows = tx
                .query(&select, &[&current, &ROTATE_BATCH])
                .await
                .map_err(postgres_error)?;
            if rows.is_empty() {
                tx.execute(PRUNE_KEYS, &[&current])
                    .await
                    .map_err(postgres_error)?;
                tx.commit().await.map_err(postgres_error)?;
                return Ok(done);
            }
            for row in &rows {
                let credential = read_scoped_row(keyring, row, 0)?;
                let (kind, scope_id) = scope_columns(credential.scope().as_scope_ref());
                let sealed = seal(keyring, &credential)?;
                let location = credential.location().as_str();
                tx.execute(
                    "UPDATE registry_credentials SET key_id = $4, secret = $5 \
                     WHERE scope_kind = $1 AND scope_id = $2 AND location = $3",
                    &[&kind, &scope_id, &location, &current, &sealed],
                )
                .await
                .map_err(postgres_error)?;
                done += 1;
            }
            tx.commit().await.map_err(postgres_error)?;
        }
    }

    /// Runs `f` in one transaction (PostgreSQL's default isolation, read
    /// committed) and commits it when `f` returns `Ok`; when `f` returns
    /// `Err`, or the commit fails, every change `f` made is rolled back.
    /// Whatever `f` does through the [`PostgresTransaction`] — credentials,
    /// and the caller's own tables through
    /// [`client`](PostgresTransaction::client) — takes effect whole or not
    /// at all, also when the process, the connection or the server dies
    /// part-way; other sessions see none of it before the commit.
    ///
    /// Dropping the future part-way (a cancelled request) rolls the
    /// transaction back as well.
    ///
    /// ```no_run
    /// use registry_credentials::store::{AsyncCredentialStore, StoreError};
    /// use registry_credentials::{Credential, RegistryCredential, Scope};
    /// use registry_credentials_sql::{EncryptionKey, Keyring, PostgresStore};
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let keyring = Keyring::new(EncryptionKey::new("k", [7; 32])?);
    /// let store = PostgresStore::connect("postgresql://app@db/platform", keyring).await?;
    /// let hub = || RegistryCredential::new(
    ///     Scope::Foundation, "docker.io".parse().unwrap(), Credential::new("u", "p").unwrap(),
    /// );
    /// // The second create conflicts: the first is rolled back with it.
    /// let failed = store
    ///     .transaction(async |tx| {
    ///         tx.create(hub()).await?;
    ///         tx.create(hub()).await?;
    ///         Ok::<_, StoreError>(())
    ///     })
    ///     .await;
    /// assert!(matches!(failed, Err(StoreError::Conflict { .. })));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// `f`'s error, or [`StoreError::Backend`] (converted to `E`) when the
    /// transaction cannot begin or commit, or when a statement in it
    /// failed without `f` returning that failure: PostgreSQL then rolls
    /// the whole transaction back, and the error says that nothing was
    /// written.
    pub async fn transaction<T, E: From<StoreError>>(
        &self,
        f: impl AsyncFnOnce(&PostgresTransaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.run_transaction(false, f).await
    }

    /// Runs `f` in one read-only transaction at repeatable read: every
    /// read in it sees one snapshot of the database, taken at its first
    /// statement, and every write fails (and aborts it: later reads in it
    /// fail too). A reader that must never see
    /// half of another session's change (an organization gone, its
    /// credentials still there) reads both in one of these.
    ///
    /// # Errors
    ///
    /// As [`transaction`](Self::transaction).
    pub async fn read_transaction<T, E: From<StoreError>>(
        &self,
        f: impl AsyncFnOnce(&PostgresTransaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.run_transaction(true, f).await
    }

    async fn run_transaction<T, E: From<StoreError>>(
        &self,
        read_only: bool,
        f: impl AsyncFnOnce(&PostgresTransaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut client = self.client().await?;
        let mut begin = client.build_transaction();
        if read_only {
            begin = begin
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true);
        }
        let tx = begin.start().await.map_err(postgres_error)?;
        // Its write id, first in it, settles a lost commit answer (R28).
        let mut id = [0u8; 16];
        if !read_only {
            getrandom::fill(&mut id).map_err(|e| StoreError::Backend {
                retryable: true,
                source: Box::new(KeyError::Random(e)),
            })?;
            let insert = tx.prepare_cached(WRITE_ID).await.map_err(postgres_error)?;
            tx.execute(&insert, &[&&id[..]])
                .await
                .map_err(postgres_error)?;
        }
        let lent = PostgresTransaction {
            tx: Mutex::new(tx),
            keyring: &self.keyring,
            read_only,
        };
        // On `Err`, `lent` is dropped uncommitted: its transaction rolls
        // back.
        let value = f(&lent).await?;
        let tx = lent.tx.into_inner();
        // A transaction in which a statement failed is aborted, and
        // PostgreSQL answers its COMMIT by rolling back, without an
        // error: a statement that still runs proves the commit will write
        // (a read transaction writes nothing either way).
        if read_only {
            tx.commit().await.map_err(postgres_error)?;
            return Ok(value);
        }
        if let Err(e) = tx.batch_execute("SELECT 1").await {
            return Err(if e.code() == Some(&SqlState::IN_FAILED_SQL_TRANSACTION) {
                StoreError::Backend {
                    retryable: false,
                    source: Box::new(ConfigError(
                        "a statement in the transaction failed, so PostgreSQL rolled all of it back and nothing was written; return that statement's error from the closure".to_owned(),
                    )),
                }
            } else {
                postgres_error(e)
            }
            .into());
        }
        match tx.commit().await {
            Ok(()) => Ok(value),
            // The server answered: the commit failed, and rolled back.
            Err(e) if e.as_db_error().is_some() => Err(postgres_error(e).into()),
            // Built with `--cfg registry_credentials_unsettled`, a lost
            // answer is reported as a failure that changed nothing, which
            // may be untrue: the chaos test must catch it.
            #[cfg(registry_credentials_unsettled)]
            Err(e) => Err(postgres_error(e).into()),
            #[cfg(not(registry_credentials_unsettled))]
            Err(lost) => self
                .settle_transaction(&id, lost)
                .await
                .map(|()| value)
                .map_err(E::from),
        }
    }

    /// Settles a transaction whose answer to `COMMIT` was lost (R28):
    /// `Ok` when it committed; a retryable failure when it did not, and
    /// nothing changed; [`StoreError::OutcomeUnknown`] when the database
    /// stays out of reach through [`SETTLE_PAUSES`]. The closure is not
    /// run again: only the write id says what happened.
    #[cfg_attr(registry_credentials_unsettled, allow(dead_code))]
    async fn settle_transaction(
        &self,
        id: &[u8; 16],
        lost: tokio_postgres::Error,
    ) -> Result<(), StoreError> {
        let counts = &*self.settled;
        counts.lost.fetch_add(1, Ordering::Relaxed);
        for pause in SETTLE_PAUSES {
            tokio::time::sleep(pause).await;
            match self.write_id_taken(id).await {
                Some(true) => {
                    counts.committed.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                Some(false) => {
                    counts.rolled_back.fetch_add(1, Ordering::Relaxed);
                    return Err(StoreError::Backend {
                        retryable: true,
                        source: Box::new(ConfigError(
                            "the answer to the transaction's COMMIT was lost, and it did not commit: nothing changed; run it again".to_owned(),
                        )),
                    });
                }
                None => {}
            }
        }
        counts.unknown.fetch_add(1, Ordering::Relaxed);
        Err(StoreError::OutcomeUnknown {
            source: Box::new(lost),
        })
    }

    /// Whether a transaction holding write id `id` committed, or `None`
    /// when the database cannot say now. The probe inserts the id and
    /// rolls back: while that transaction is still open on the server, the
    /// insert waits for it to end (up to the lock timeout), then finds the
    /// id taken exactly when it committed.
    #[cfg_attr(registry_credentials_unsettled, allow(dead_code))]
    async fn write_id_taken(&self, id: &[u8; 16]) -> Option<bool> {
        let mut client = self.client().await.ok()?;
        let probe = client.transaction().await.ok()?;
        probe.batch_execute(SETTLE_LOCK_TIMEOUT).await.ok()?;
        match probe.execute(WRITE_ID, &[&&id[..]]).await {
            // Dropped uncommitted: the probe rolls back.
            Ok(_) => Some(false),
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Some(true),
            Err(_) => None,
        }
    }

    async fn client(&self) -> Result<Object, StoreError> {
        Ok(self.connection().await?)
    }

    /// A connection of the pool, its failure still typed.
    async fn connection(&self) -> Result<Object, Failure> {
        self.pool.get().await.map_err(|e| pool_error(e, &self.pool))
    }

    /// Migrates the schema and checks the keyring, under an advisory lock
    /// so instances starting together take turns.
    async fn prepare(&self) -> Result<(), OpenError> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await.map_err(failure)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(failure)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS registry_credentials_schema (version INTEGER NOT NULL)",
        )
        .await
        .map_err(failure)?;
        let found: Option<i32> = tx
            .query_one("SELECT max(version) FROM registry_credentials_schema", &[])
            .await
            .map_err(failure)?
            .get(0);
        let found = found.unwrap_or(0).max(0) as u32;
        let pending = schema::pending(found)?;
        for m in pending {
            tx.batch_execute(m.postgres).await.map_err(failure)?;
        }
        if let Some(last) = pending.last() {
            tx.execute("DELETE FROM registry_credentials_schema", &[])
                .await
                .map_err(failure)?;
            tx.execute(
                "INSERT INTO registry_credentials_schema (version) VALUES ($1)",
                &[&(last.version as i32)],
            )
            .await
            .map_err(failure)?;
        }

        let keyring = &*self.keyring;
        for id in keyring.ids() {
            let key = keyring.get(id).expect("an id of the keyring");
            let stored = tx
                .query_opt(
                    "SELECT check_value FROM registry_credential_keys WHERE key_id = $1",
                    &[&id],
                )
                .await
                .map_err(failure)?
                .map(|r| r.get::<_, Vec<u8>>(0));
            if let Some(check) = check_key(key, stored.as_deref())? {
                tx.execute(
                    "INSERT INTO registry_credential_keys (key_id, check_value) VALUES ($1, $2)",
                    &[&id, &check],
                )
                .await
                .map_err(failure)?;
            }
        }
        let known = tx
            .query("SELECT key_id FROM registry_credential_keys", &[])
            .await
            .map_err(failure)?;
        for row in known {
            let id: &str = row.get(0);
            if keyring.get(id).is_some() {
                continue;
            }
            let used: bool = tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM registry_credentials WHERE key_id = $1)",
                    &[&id],
                )
                .await
                .map_err(failure)?
                .get(0);
            if used {
                return Err(KeyError::MissingKey { id: id.to_owned() }.into());
            }
        }
        tx.commit().await.map_err(failure)?;
        Ok(())
    }
}

/// One open transaction of a [`PostgresStore`], lent to the closure of
/// [`PostgresStore::transaction`] or [`PostgresStore::read_transaction`].
///
/// It is an [`AsyncCredentialStore`] whose calls all run inside the
/// transaction: they see each other's writes, and either all of them take
/// effect (the closure returned `Ok` and the commit succeeded) or none
/// does. A write the store refuses (a conflict, a credential not found,
/// one that cannot be decrypted) takes back its own statements alone,
/// under a savepoint of its own, so the closure may go on. A failure of
/// the database itself leaves the transaction aborted (PostgreSQL's rule):
/// then it commits nothing, whatever the closure returns.
/// [`client`](Self::client) lends the transaction itself, for tables of
/// the caller's own in the same database, changed in the same transaction.
///
/// Its calls take turns on the one connection: started together (`join!`),
/// they run one after another.
pub struct PostgresTransaction<'t> {
    tx: Mutex<Transaction<'t>>,
    keyring: &'t Keyring,
    read_only: bool,
}

impl fmt::Debug for PostgresTransaction<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::debug_transaction(f, "PostgresTransaction", self.keyring, self.read_only)
    }
}

impl<'t> PostgresTransaction<'t> {
    /// The transaction itself, for statements of the caller's own: they
    /// run inside it and commit or roll back with it. A write of several
    /// statements that may fail part-way can open a savepoint of its own
    /// with [`transaction`](deadpool_postgres::Transaction::transaction).
    ///
    /// It waits for the call that holds the transaction, and holds it
    /// until dropped: drop it before calling this transaction's store
    /// methods, which wait for it. Do not end the transaction (`COMMIT`,
    /// `ROLLBACK`) through it.
    pub async fn client(&self) -> TransactionClient<'_, 't> {
        TransactionClient(self.tx.lock().await)
    }

    /// True for a read transaction, where every write fails.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }
}

/// The open transaction of a [`PostgresTransaction`], lent by
/// [`PostgresTransaction::client`]: it dereferences to the
/// [`deadpool_postgres::Transaction`] (a
/// [`GenericClient`]), and gives it back when dropped.
pub struct TransactionClient<'a, 't>(MutexGuard<'a, Transaction<'t>>);

impl<'t> Deref for TransactionClient<'_, 't> {
    type Target = Transaction<'t>;
    fn deref(&self) -> &Transaction<'t> {
        &self.0
    }
}

impl<'t> DerefMut for TransactionClient<'_, 't> {
    fn deref_mut(&mut self) -> &mut Transaction<'t> {
        &mut self.0
    }
}

impl fmt::Debug for TransactionClient<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransactionClient").finish_non_exhaustive()
    }
}

/// The parameters of `INSERT` and `UPDATE` for `c`, its password sealed
/// under the keyring's current key.
fn row_params<'a>(
    keyring: &'a Keyring,
    c: &'a RegistryCredential,
) -> Result<RowParams<'a>, StoreError> {
    Ok(row_params_sealed(keyring, c, seal(keyring, c)?))
}

/// [`row_params`] of a password already `sealed` for `c`.
fn row_params_sealed<'a>(
    keyring: &'a Keyring,
    c: &'a RegistryCredential,
    sealed: Vec<u8>,
) -> RowParams<'a> {
    RowParams {
        credential: c,
        kind: scope_columns(c.scope().as_scope_ref()).0,
        scope_id: c.scope().id().unwrap_or(""),
        location: c.location().as_str(),
        username: c.username().as_str(),
        key_id: keyring.current().id(),
        sealed,
        credential_kind: i16::try_from(kind_column(c.kind())).unwrap_or(0),
        expires_at: expires_column(c),
        guid: c
            .record()
            .map(|r| r.guid().as_bytes().to_vec())
            .unwrap_or_default(),
        created_at: c.record().map_or(0, |r| time_column(r.created_secs())),
        updated_at: c.record().map_or(0, |r| time_column(r.updated_secs())),
        metadata: metadata_column(c),
    }
}

/// Writes `old` with `update` applied in its row, inside `tx`: the same
/// GUID and `created_at`, `updated_at` now (R22).
async fn rewrite(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    old: &RegistryCredential,
    update: CredentialUpdate,
) -> Result<RegistryCredential, StoreError> {
    let new = old.updated(update)?.with_record(touched(old.record()));
    let params = row_params(keyring, &new)?;
    execute_row(tx, UPDATE, &params).await?;
    if new.metadata() != old.metadata() {
        write_labels(tx, &params).await?;
    }
    Ok(new)
}

/// `$1`–`$12` of `INSERT`, `UPSERT` and `UPDATE`.
struct RowParams<'a> {
    credential: &'a RegistryCredential,
    kind: i16,
    scope_id: &'a str,
    location: &'a str,
    username: &'a str,
    key_id: &'a str,
    sealed: Vec<u8>,
    credential_kind: i16,
    expires_at: Option<i64>,
    guid: Vec<u8>,
    created_at: i64,
    updated_at: i64,
    metadata: Option<String>,
}

impl RowParams<'_> {
    fn as_params(&self) -> [&(dyn ToSql + Sync); 12] {
        [
            &self.kind,
            &self.scope_id,
            &self.location,
            &self.username,
            &self.key_id,
            &self.sealed,
            &self.credential_kind,
            &self.expires_at,
            &self.guid,
            &self.created_at,
            &self.updated_at,
            &self.metadata,
        ]
    }
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.pool.status();
        f.debug_struct("PostgresStore")
            .field("pool_size", &status.size)
            .field("pool_max", &status.max_size)
            .field("keyring", &self.keyring)
            .finish_non_exhaustive()
    }
}

/// Column `i` of `row`, as the driver converts it.
fn column<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a Row,
    i: usize,
) -> Result<T, StoreError> {
    row.try_get(i).map_err(postgres_error)
}

impl<'a> Columns<'a> for &'a Row {
    fn text(self, i: usize) -> Result<&'a str, StoreError> {
        column(self, i)
    }
    fn text_or_null(self, i: usize) -> Result<Option<&'a str>, StoreError> {
        column(self, i)
    }
    fn bytes(self, i: usize) -> Result<&'a [u8], StoreError> {
        column(self, i)
    }
    fn bytes_or_null(self, i: usize) -> Result<Option<&'a [u8]>, StoreError> {
        column(self, i)
    }
    fn small(self, i: usize) -> Result<i64, StoreError> {
        column::<i16>(self, i).map(i64::from)
    }
    fn int(self, i: usize) -> Result<i64, StoreError> {
        column(self, i)
    }
    fn int_or_null(self, i: usize) -> Result<Option<i64>, StoreError> {
        column(self, i)
    }
}

/// Makes `registry_credential_labels` hold the labels of the row of
/// `params` and no others (R23).
async fn write_labels(tx: &Transaction<'_>, params: &RowParams<'_>) -> Result<(), StoreError> {
    let delete = tx
        .prepare_cached(DELETE_LABELS)
        .await
        .map_err(postgres_error)?;
    tx.execute(&delete, &[&params.guid])
        .await
        .map_err(postgres_error)?;
    let (keys, values): (Vec<&str>, Vec<&str>) = label_rows(params.credential).unzip();
    if !keys.is_empty() {
        let insert = tx
            .prepare_cached(INSERT_LABELS)
            .await
            .map_err(postgres_error)?;
        tx.execute(&insert, &[&params.guid, &keys, &values])
            .await
            .map_err(postgres_error)?;
    }
    Ok(())
}

async fn get_in(
    client: &impl GenericClient,
    sql: &str,
    keyring: &Keyring,
    key: Key<'_>,
) -> Result<Option<RegistryCredential>, StoreError> {
    let (kind, id) = scope_columns(key.scope());
    let stmt = client.prepare_cached(sql).await.map_err(postgres_error)?;
    let row = client
        .query_opt(&stmt, &[&kind, &id, &key.location()])
        .await
        .map_err(postgres_error)?;
    row.map(|r| read_row(keyring, key.scope().to_scope(), &r, 0))
        .transpose()
}

/// The row `sql` (`GET_FOR_UPDATE`, `DELETE`) returns for `location` at
/// `scope`, or [`StoreError::NotFound`].
async fn row_at(
    client: &impl GenericClient,
    sql: &str,
    keyring: &Keyring,
    scope: ScopeRef<'_>,
    location: &Location,
) -> Result<RegistryCredential, StoreError> {
    get_in(client, sql, keyring, Key::new(scope, location))
        .await?
        .ok_or_else(|| StoreError::not_found(scope, location))
}

/// The keys of a plan as the three arrays of `GET_MANY` and `FIRST_MATCH`.
fn key_arrays<'a>(keys: &[Key<'a>]) -> (Vec<i16>, Vec<&'a str>, Vec<&'a str>) {
    let mut kinds = Vec::with_capacity(keys.len());
    let mut ids = Vec::with_capacity(keys.len());
    let mut locations = Vec::with_capacity(keys.len());
    for key in keys {
        let (kind, id) = scope_columns(key.scope());
        kinds.push(kind);
        ids.push(id);
        locations.push(key.location());
    }
    (kinds, ids, locations)
}

/// A plan row (the key's position, counted from 1, then the row) as the
/// index of its key in `keys` and its credential, decrypted.
fn plan_hit(
    keyring: &Keyring,
    row: &Row,
    keys: &[Key<'_>],
) -> Result<(usize, Arc<RegistryCredential>), StoreError> {
    let i: i64 = row.try_get(0).map_err(postgres_error)?;
    let index = usize::try_from(i - 1)
        .ok()
        .filter(|i| *i < keys.len())
        .ok_or_else(|| {
            corrupt(schema::SchemaError::CorruptRow {
                what: format!("the plan query returned key {i}"),
            })
        })?;
    let c = read_row(keyring, keys[index].scope().to_scope(), row, 1)?;
    Ok((index, Arc::new(c)))
}

/// Inserts a write's id, first statement of its transaction.
const WRITE_ID: &str = "INSERT INTO registry_credential_writes (write_id) VALUES ($1)";
/// Removes write ids too old to be settled any more.
const PRUNE_WRITES: &str =
    "DELETE FROM registry_credential_writes WHERE written_at < now() - interval '1 day'";
/// How long an attempt that settles a lost one waits for the write id.
const SETTLE_LOCK_TIMEOUT: &str = "SET LOCAL lock_timeout = '5s'";
/// One write in this many prunes the old write ids in its transaction.
const PRUNE_EVERY: u32 = 1024;
/// How long a write whose commit answer was lost keeps sending it again
/// before it reports the outcome unknown: the pauses between attempts.
const SETTLE_PAUSES: [Duration; 8] = [
    Duration::from_millis(50),
    Duration::from_millis(100),
    Duration::from_millis(200),
    Duration::from_millis(400),
    Duration::from_millis(800),
    Duration::from_millis(1600),
    Duration::from_millis(2000),
    Duration::from_millis(2000),
];

/// The body of one write: the keyring, the write's arguments and the
/// transaction it runs in (on the pool, one whose id is already inserted;
/// in an open transaction, a savepoint of it).
type WriteOp<A, T> =
    for<'t> fn(&'t Keyring, &'t A, &'t Transaction<'_>) -> BoxFuture<'t, Result<T, StoreError>>;

/// How the store's writes whose commit answer was lost were settled, since
/// it was opened (its clones share the counts): for a service's metrics,
/// and for tests that cut connections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settled {
    /// Writes whose answer to `COMMIT` was lost, at least once.
    pub lost: u64,
    /// Of those, the ones found committed: the call returned success.
    pub committed: u64,
    /// The ones found not committed, and then done or refused by a later
    /// attempt: the call returned that attempt's outcome.
    pub redone: u64,
    /// Transactions ([`PostgresStore::transaction`]) found not committed:
    /// the call returned a retryable failure that changed nothing.
    pub rolled_back: u64,
    /// The ones the database stayed out of reach for: the call returned
    /// [`StoreError::OutcomeUnknown`].
    pub unknown: u64,
}

#[derive(Debug, Default)]
struct SettleCounters {
    lost: AtomicU64,
    committed: AtomicU64,
    redone: AtomicU64,
    rolled_back: AtomicU64,
    unknown: AtomicU64,
}

/// How one attempt at a write ended.
enum Attempt<T> {
    /// Committed, and the commit's answer read.
    Done(T),
    /// Failed before `COMMIT` was sent, so this attempt changed nothing.
    /// `took_id`: its write id was inserted before it failed, which shows
    /// that no earlier attempt committed.
    Refused { error: StoreError, took_id: bool },
    /// Its write id was taken: an earlier attempt committed.
    Duplicate,
    /// `COMMIT` was sent and its answer lost: this attempt may have
    /// committed. Its write id was inserted, so no earlier one did.
    Lost {
        value: T,
        error: tokio_postgres::Error,
    },
}

impl PostgresStore {
    /// Runs `op` as one write transaction that can be settled when the
    /// answer to its `COMMIT` is lost (R28).
    ///
    /// The transaction first inserts a random write id. When the answer to
    /// `COMMIT` is lost, the write is sent again with the same id, after a
    /// pause, until one attempt settles it: an attempt that finds the id
    /// taken shows the lost one committed, and the call returns what that
    /// one wrote; an attempt that takes the id shows it did not, and the
    /// call returns that attempt's own outcome. A second inserter of the
    /// id waits for the first's transaction to end, so an attempt still in
    /// flight on a connection the client gave up on is settled too. So a
    /// write is never applied twice, and a later write is never undone by
    /// an attempt of an earlier one. After [`SETTLE_PAUSES`] the call
    /// returns [`StoreError::OutcomeUnknown`].
    ///
    /// `op` runs once per attempt with `args`: what it borrows comes
    /// through them, so that its future may borrow both them and the
    /// transaction.
    async fn write<A: Sync, T: Send>(&self, args: &A, op: WriteOp<A, T>) -> Result<T, StoreError> {
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(|e| StoreError::Backend {
            retryable: true,
            source: Box::new(KeyError::Random(e)),
        })?;
        let prune = self.writes.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == 0;
        let (value, mut error) = match self.attempt(&id, prune, false, args, op).await {
            Attempt::Done(value) => return Ok(value),
            Attempt::Lost { value, error } => (value, error),
            Attempt::Refused { error, .. } => return Err(error),
            Attempt::Duplicate => {
                return Err(corrupt(schema::SchemaError::CorruptRow {
                    what: "a fresh random write id was already taken".to_owned(),
                }));
            }
        };
        // The value of the latest lost attempt: each attempt that gets as
        // far as `COMMIT` took the id, so no earlier one committed.
        let mut value = value;
        let counts = &*self.settled;
        counts.lost.fetch_add(1, Ordering::Relaxed);
        for pause in SETTLE_PAUSES {
            tokio::time::sleep(pause).await;
            match self.attempt(&id, prune, true, args, op).await {
                Attempt::Duplicate => {
                    counts.committed.fetch_add(1, Ordering::Relaxed);
                    return Ok(value);
                }
                Attempt::Done(redone) => {
                    counts.redone.fetch_add(1, Ordering::Relaxed);
                    return Ok(redone);
                }
                // This attempt took the id, so the lost one did not
                // commit, and neither did this one: nothing changed.
                Attempt::Refused {
                    error,
                    took_id: true,
                } => {
                    counts.redone.fetch_add(1, Ordering::Relaxed);
                    return Err(error);
                }
                // The database could not be reached to settle it.
                Attempt::Refused { took_id: false, .. } => {}
                Attempt::Lost {
                    value: again,
                    error: e,
                } => {
                    value = again;
                    error = e;
                }
            }
        }
        counts.unknown.fetch_add(1, Ordering::Relaxed);
        Err(StoreError::OutcomeUnknown {
            source: Box::new(error),
        })
    }

    async fn attempt<A: Sync, T: Send>(
        &self,
        id: &[u8; 16],
        prune: bool,
        settling: bool,
        args: &A,
        op: WriteOp<A, T>,
    ) -> Attempt<T> {
        let refused = |error, took_id| Attempt::Refused { error, took_id };
        let mut client = match self.client().await {
            Ok(c) => c,
            Err(e) => return refused(e, false),
        };
        let tx = match client.transaction().await {
            Ok(tx) => tx,
            Err(e) => return refused(postgres_error(e), false),
        };
        // An attempt that settles a lost one may wait on that one's
        // transaction for the id; bounded, in case its server session
        // lives on behind a cut network.
        if settling {
            if let Err(e) = tx.batch_execute(SETTLE_LOCK_TIMEOUT).await {
                return refused(postgres_error(e), false);
            }
        }
        let insert = match tx.prepare_cached(WRITE_ID).await {
            Ok(s) => s,
            Err(e) => return refused(postgres_error(e), false),
        };
        match tx.execute(&insert, &[&&id[..]]).await {
            Ok(_) => {}
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => return Attempt::Duplicate,
            Err(e) => return refused(postgres_error(e), false),
        }
        if prune {
            if let Err(e) = tx.execute(PRUNE_WRITES, &[]).await {
                return refused(postgres_error(e), true);
            }
        }
        let value = match op(&self.keyring, args, &tx).await {
            Ok(value) => value,
            Err(e) => return refused(e, true),
        };
        match tx.commit().await {
            Ok(()) => Attempt::Done(value),
            // The server answered: the commit failed, and rolled back.
            Err(e) if e.as_db_error().is_some() => refused(postgres_error(e), true),
            // Built with `--cfg registry_credentials_unsettled`, a lost
            // answer is reported as a failure that changed nothing, which
            // may be untrue: the chaos test must catch it.
            #[cfg(registry_credentials_unsettled)]
            Err(e) => refused(postgres_error(e), false),
            #[cfg(not(registry_credentials_unsettled))]
            Err(error) => Attempt::Lost { value, error },
        }
    }
}

/// Runs `sql` (`INSERT`, `UPSERT`, `UPDATE`) with a row's parameters;
/// how many rows it changed.
async fn execute_row(
    tx: &Transaction<'_>,
    sql: &str,
    params: &RowParams<'_>,
) -> Result<u64, StoreError> {
    let stmt = tx.prepare_cached(sql).await.map_err(postgres_error)?;
    tx.execute(&stmt, &params.as_params())
        .await
        .map_err(postgres_error)
}

/// Inserts each row of `params` in `tx`; a row that inserts nothing (its
/// key is taken) is the conflict that fails the write.
async fn insert_all(tx: &Transaction<'_>, params: &[RowParams<'_>]) -> Result<(), StoreError> {
    for row in params {
        if execute_row(tx, INSERT, row).await? == 0 {
            return Err(StoreError::Conflict {
                scope: row.credential.scope().clone(),
                location: row.credential.location().clone(),
            });
        }
        if !row.credential.metadata().labels().is_empty() {
            write_labels(tx, row).await?;
        }
    }
    Ok(())
}

/// Deletes every row at `scope` inside `tx`; returns them ordered by
/// location. A row that cannot be decrypted fails the call, and `tx`
/// rolls back.
async fn take_scope(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    scope: ScopeRef<'_>,
) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
    let (kind, id) = scope_columns(scope);
    let stmt = tx
        .prepare_cached(DELETE_SCOPE)
        .await
        .map_err(postgres_error)?;
    let rows = tx
        .query(&stmt, &[&kind, &id])
        .await
        .map_err(postgres_error)?;
    let mut taken = rows
        .iter()
        .map(|r| read_row(keyring, scope.to_scope(), r, 0).map(Arc::new))
        .collect::<Result<Vec<_>, _>>()?;
    taken.sort_unstable_by(|a, b| a.location().cmp(b.location()));
    Ok(taken)
}

/// Where a call of the store traits runs: a `&PostgresStore` takes a
/// connection of its pool for each call; a `&PostgresTransaction` runs
/// every call on its open transaction. A write of several statements
/// runs in a transaction of the connection's own
/// ([`GenericClient::transaction`]): on a connection of the pool a
/// transaction, which commits alone; in the open transaction a savepoint,
/// so that a write refused part-way takes back its own statements alone
/// and the open transaction goes on. The traits' methods are written once,
/// over this ([`calls`], [`store_on_session!`]).
trait Session: Copy + Send + Sync {
    /// The connection one call runs on.
    type Conn: DerefMut<Target: GenericClient + Sized> + Send;

    /// The keys that seal and open passwords.
    fn keyring(&self) -> &Keyring;

    /// A connection for one call: one of the pool's, or the open
    /// transaction (waiting for the call that holds it).
    fn conn(self) -> impl Future<Output = Result<Self::Conn, StoreError>> + Send;

    /// Runs `op` as one write: on the pool a transaction of its own,
    /// settled when its commit answer is lost (R28,
    /// [`PostgresStore::write`]); in the open transaction a savepoint of
    /// its own, which commits with it.
    fn write<A: Sync, T: Send>(
        self,
        args: &A,
        op: WriteOp<A, T>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send;
}

/// A connection of the pool, for one call of a [`PostgresStore`].
struct Pooled(Object);

impl Deref for Pooled {
    type Target = Object;
    fn deref(&self) -> &Object {
        &self.0
    }
}

impl DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut Object {
        &mut self.0
    }
}

impl Session for &PostgresStore {
    type Conn = Pooled;

    fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    async fn conn(self) -> Result<Pooled, StoreError> {
        Ok(Pooled(self.client().await?))
    }

    async fn write<A: Sync, T: Send>(self, args: &A, op: WriteOp<A, T>) -> Result<T, StoreError> {
        PostgresStore::write(self, args, op).await
    }
}

impl<'a, 't> Session for &'a PostgresTransaction<'t> {
    type Conn = TransactionClient<'a, 't>;

    fn keyring(&self) -> &Keyring {
        self.keyring
    }

    async fn conn(self) -> Result<TransactionClient<'a, 't>, StoreError> {
        Ok(self.client().await)
    }

    async fn write<A: Sync, T: Send>(self, args: &A, op: WriteOp<A, T>) -> Result<T, StoreError> {
        let mut c = self.client().await;
        let savepoint = c.transaction().await.map_err(postgres_error)?;
        let value = op(self.keyring, args, &savepoint).await?;
        savepoint.commit().await.map_err(postgres_error)?;
        Ok(value)
    }
}

/// The calls of the store traits, each written once over a [`Session`].
mod calls {
    use super::*;

    pub(super) async fn get<S: Session>(
        s: S,
        key: Key<'_>,
    ) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
        let c = s.conn().await?;
        Ok(get_in(&*c, GET, s.keyring(), key).await?.map(Arc::new))
    }

    /// One prepared statement, one round trip, whatever the number of keys.
    pub(super) async fn get_many<S: Session>(
        s: S,
        keys: &[Key<'_>],
    ) -> Result<Vec<Option<Arc<RegistryCredential>>>, StoreError> {
        let mut found = vec![None; keys.len()];
        if keys.is_empty() {
            return Ok(found);
        }
        for row in plan_rows(s, GET_MANY, keys).await? {
            let (index, c) = plan_hit(s.keyring(), &row, keys)?;
            found[index] = Some(c);
        }
        Ok(found)
    }

    /// One prepared statement, one round trip, one row read and decrypted.
    pub(super) async fn first_match<S: Session>(
        s: S,
        keys: &[Key<'_>],
    ) -> Result<Option<(usize, Arc<RegistryCredential>)>, StoreError> {
        if keys.is_empty() {
            return Ok(None);
        }
        let rows = plan_rows(s, FIRST_MATCH, keys).await?;
        rows.first()
            .map(|row| plan_hit(s.keyring(), row, keys))
            .transpose()
    }

    /// One `INSERT … ON CONFLICT DO NOTHING` in one write: a row that
    /// inserts nothing is the conflict.
    pub(super) async fn create<S: Session>(
        s: S,
        credential: RegistryCredential,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        let credential = credential.with_record(fresh_record());
        let params = vec![row_params(s.keyring(), &credential)?];
        s.write(&params, |_, params, tx| Box::pin(insert_all(tx, params)))
            .await?;
        Ok(Arc::new(credential))
    }

    /// One write for the whole batch, one `INSERT … ON CONFLICT DO
    /// NOTHING` per row: a row that inserts nothing is the conflict, and
    /// the batch's rows are rolled back, so other sessions see all of the
    /// batch or none of it.
    pub(super) async fn create_all<S: Session>(
        s: S,
        credentials: Vec<RegistryCredential>,
    ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        let credentials: Vec<_> = credentials
            .into_iter()
            .map(|c| c.with_record(fresh_record()))
            .collect();
        let params = credentials
            .iter()
            .map(|c| row_params(s.keyring(), c))
            .collect::<Result<Vec<_>, _>>()?;
        s.write(&params, |_, params, tx| Box::pin(insert_all(tx, params)))
            .await?;
        Ok(credentials.into_iter().map(Arc::new).collect())
    }

    /// One write under the app's advisory lock: delete the app's rows
    /// (returning them), insert the new one.
    pub(super) async fn replace_app_credential<S: Session>(
        s: S,
        app: &AppId,
        location: Location,
        credential: Credential,
    ) -> Result<AppCredentialReplaced, StoreError> {
        let new = RegistryCredential::new(Scope::App(app.clone()), location, credential);
        let sealed = row_params(s.keyring(), &new)?.sealed;
        s.write(&(app, &new, &sealed), |keyring, (app, new, sealed), tx| {
            Box::pin(async move {
                let lock = tx.prepare_cached(APP_LOCK).await.map_err(postgres_error)?;
                tx.execute(&lock, &[&app.as_str()])
                    .await
                    .map_err(postgres_error)?;
                let mut replaced = take_scope(tx, keyring, ScopeRef::App(app)).await?;
                let same = replaced
                    .iter()
                    .position(|c| c.location() == new.location())
                    .map(|i| replaced.remove(i));
                // At the same location the new one is that one updated (R22).
                let stored = match &same {
                    Some(same) => (*new)
                        .clone()
                        .with_metadata(same.metadata().clone())
                        .with_record(touched(same.record())),
                    None => (*new).clone().with_record(fresh_record()),
                };
                if let Some(same) = same {
                    replaced.insert(0, same);
                }
                let params = row_params_sealed(keyring, &stored, (*sealed).clone());
                execute_row(tx, UPSERT, &params).await?;
                write_labels(tx, &params).await?;
                Ok(AppCredentialReplaced {
                    stored: Arc::new(stored.clone()),
                    replaced,
                })
            })
        })
        .await
    }

    pub(super) async fn delete_scope<S: Session>(
        s: S,
        scope: ScopeRef<'_>,
    ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        s.write(&scope, |keyring, scope, tx| {
            Box::pin(take_scope(tx, keyring, *scope))
        })
        .await
    }

    /// Locks and reads the row, then writes it, in one write.
    pub(super) async fn update<S: Session>(
        s: S,
        scope: ScopeRef<'_>,
        location: &Location,
        update: CredentialUpdate,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        let new = s
            .write(
                &(scope, location, &update),
                |keyring, (scope, location, update), tx| {
                    Box::pin(async move {
                        let old = row_at(tx, GET_FOR_UPDATE, keyring, *scope, location).await?;
                        rewrite(tx, keyring, &old, (*update).clone()).await
                    })
                },
            )
            .await?;
        Ok(Arc::new(new))
    }

    /// Deletes and reads the row in one statement; if it cannot be
    /// decrypted the write rolls back and nothing changes.
    pub(super) async fn delete<S: Session>(
        s: S,
        scope: ScopeRef<'_>,
        location: &Location,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        let gone = s
            .write(&(scope, location), |keyring, (scope, location), tx| {
                Box::pin(row_at(tx, DELETE, keyring, *scope, location))
            })
            .await?;
        Ok(Arc::new(gone))
    }

    pub(super) async fn list<S: Session>(
        s: S,
        scope: ScopeRef<'_>,
    ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        let (kind, id) = scope_columns(scope);
        let c = s.conn().await?;
        let stmt = c.prepare_cached(LIST).await.map_err(postgres_error)?;
        let rows = c
            .query(&stmt, &[&kind, &id])
            .await
            .map_err(postgres_error)?;
        drop(c);
        rows.iter()
            .map(|r| read_row(s.keyring(), scope.to_scope(), r, 0).map(Arc::new))
            .collect()
    }

    pub(super) async fn list_all<S: Session>(
        s: S,
    ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        let c = s.conn().await?;
        let stmt = c.prepare_cached(LIST_ALL).await.map_err(postgres_error)?;
        let rows = c.query(&stmt, &[]).await.map_err(postgres_error)?;
        drop(c);
        rows.iter()
            .map(|r| read_scoped_row(s.keyring(), r, 0).map(Arc::new))
            .collect()
    }

    /// One look-up of the unique `guid` index.
    pub(super) async fn get_by_guid<S: Session>(
        s: S,
        guid: Guid,
    ) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
        let c = s.conn().await?;
        let row = guid_row(&*c, GET_BY_GUID, guid).await?;
        drop(c);
        row.map(|r| read_scoped_row(s.keyring(), &r, 0).map(Arc::new))
            .transpose()
    }

    /// Locks and reads the row by its GUID, then writes it, in one write.
    pub(super) async fn update_by_guid<S: Session>(
        s: S,
        guid: Guid,
        update: CredentialUpdate,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        s.write(&(guid, &update), |keyring, (guid, update), tx| {
            Box::pin(async move {
                let row = guid_row(tx, GET_BY_GUID_FOR_UPDATE, *guid)
                    .await?
                    .ok_or(StoreError::GuidNotFound { guid: *guid })?;
                let old = read_scoped_row(keyring, &row, 0)?;
                rewrite(tx, keyring, &old, (*update).clone()).await
            })
        })
        .await
        .map(Arc::new)
    }

    /// Deletes and reads the row by its GUID in one statement.
    pub(super) async fn delete_by_guid<S: Session>(
        s: S,
        guid: Guid,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        let gone = s
            .write(&guid, |keyring, guid, tx| {
                Box::pin(async move {
                    let row = guid_row(tx, DELETE_BY_GUID, *guid)
                        .await?
                        .ok_or(StoreError::GuidNotFound { guid: *guid })?;
                    read_scoped_row(keyring, &row, 0)
                })
            })
            .await?;
        Ok(Arc::new(gone))
    }

    /// The row `sql` (`GET_BY_GUID`, `GET_BY_GUID_FOR_UPDATE`,
    /// `DELETE_BY_GUID`) returns for `guid`, if any.
    async fn guid_row(
        client: &impl GenericClient,
        sql: &str,
        guid: Guid,
    ) -> Result<Option<Row>, StoreError> {
        let stmt = client.prepare_cached(sql).await.map_err(postgres_error)?;
        client
            .query_opt(&stmt, &[&&guid.as_bytes()[..]])
            .await
            .map_err(postgres_error)
    }

    /// One statement, the count and the page, over the indexes
    /// (`QuerySql`; a second for the count of a page past the end);
    /// prepared once per shape of query.
    pub(super) async fn query<S: Session>(s: S, query: &Query) -> Result<Page, StoreError> {
        let sql = QuerySql::new(query, PageJoin::Guid);
        let counted = sql.count_params().len();
        let params = sql_params(sql.params);
        let refs = param_refs(&params);
        let c = s.conn().await?;
        let stmt = c.prepare_cached(&sql.sql).await.map_err(postgres_error)?;
        let rows = c.query(&stmt, &refs).await.map_err(postgres_error)?;
        let mut total = 0i64;
        if rows.is_empty() {
            let count = c
                .prepare_cached(&sql.count_sql)
                .await
                .map_err(postgres_error)?;
            let row = c
                .query_one(&count, &refs[..counted])
                .await
                .map_err(postgres_error)?;
            total = row.try_get(0).map_err(postgres_error)?;
        }
        drop(c);
        let mut resources = Vec::new();
        let mut scopes = PageScopes::default();
        for row in &rows {
            total = row.int(0)?;
            resources.push(read_summary(row, &mut scopes)?);
        }
        Ok(query_page(query, total, resources))
    }

    /// Makes `write` in `tx` and inserts its events there (R27): they
    /// commit with the change, or roll back with it.
    pub(super) async fn audited_in(
        tx: &PostgresTransaction<'_>,
        write: Write,
        context: &AuditContext,
    ) -> Result<Written, StoreError> {
        let change = audit::apply(tx, write).await?;
        let events = change.events(context, std::time::SystemTime::now());
        let c = tx.client().await;
        let stmt = c
            .prepare_cached(INSERT_EVENT)
            .await
            .map_err(postgres_error)?;
        for event in &events {
            let params = sql_params(event_params(event));
            c.execute(&stmt, &param_refs(&params))
                .await
                .map_err(postgres_error)?;
        }
        drop(c);
        Ok(Written::new(change, events))
    }

    /// One statement, the count and the page, over the indexes.
    pub(super) async fn audit_events<S: Session>(
        s: S,
        query: &AuditQuery,
    ) -> Result<Page<AuditEvent>, StoreError> {
        let (sql, params) = audit_sql(query);
        let params = sql_params(params);
        let c = s.conn().await?;
        let stmt = c.prepare_cached(&sql).await.map_err(postgres_error)?;
        let rows = c
            .query(&stmt, &param_refs(&params))
            .await
            .map_err(postgres_error)?;
        drop(c);
        let mut page = EventPage::default();
        for row in &rows {
            page.read(row)?;
        }
        Ok(page.into_page(query))
    }

    /// The rows of a plan statement (`GET_MANY`, `FIRST_MATCH`) for
    /// `keys`; the connection goes back before any row is decrypted.
    async fn plan_rows<S: Session>(
        s: S,
        sql: &str,
        keys: &[Key<'_>],
    ) -> Result<Vec<Row>, StoreError> {
        let (kinds, ids, locations) = key_arrays(keys);
        let c = s.conn().await?;
        let stmt = c.prepare_cached(sql).await.map_err(postgres_error)?;
        c.query(&stmt, &[&kinds, &ids, &locations])
            .await
            .map_err(postgres_error)
    }
}

/// `CredentialSource` and `CredentialStore` for a [`Session`]: one
/// implementation, for [`PostgresStore`] and [`PostgresTransaction`]
/// alike.
macro_rules! store_on_session {
    ($($ty:ty),*) => {$(
        impl AsyncCredentialSource for $ty {
            fn get_many<'a>(&'a self, keys: &'a [Key<'a>]) -> BoxFuture<'a, Result<Vec<Option<Arc<RegistryCredential>>>, StoreError>> {
                Box::pin(calls::get_many(self, keys))
            }
            fn get<'a>(&'a self, key: Key<'a>) -> BoxFuture<'a, Result<Option<Arc<RegistryCredential>>, StoreError>> {
                Box::pin(calls::get(self, key))
            }
            fn first_match<'a>(&'a self, keys: &'a [Key<'a>]) -> BoxFuture<'a, Result<Option<(usize, Arc<RegistryCredential>)>, StoreError>> {
                Box::pin(calls::first_match(self, keys))
            }
        }

        impl AsyncCredentialStore for $ty {
            fn create(&self, credential: RegistryCredential) -> BoxFuture<'_, Result<Arc<RegistryCredential>, StoreError>> {
                Box::pin(calls::create(self, credential))
            }
            fn create_all(&self, credentials: Vec<RegistryCredential>) -> BoxFuture<'_, Result<Vec<Arc<RegistryCredential>>, StoreError>> {
                Box::pin(calls::create_all(self, credentials))
            }
            fn update<'a>(&'a self, scope: ScopeRef<'a>, location: &'a Location, update: CredentialUpdate) -> BoxFuture<'a, Result<Arc<RegistryCredential>, StoreError>> {
                Box::pin(calls::update(self, scope, location, update))
            }
            fn delete<'a>(&'a self, scope: ScopeRef<'a>, location: &'a Location) -> BoxFuture<'a, Result<Arc<RegistryCredential>, StoreError>> {
                Box::pin(calls::delete(self, scope, location))
            }
            fn replace_app_credential<'a>(&'a self, app: &'a AppId, location: Location, credential: Credential) -> BoxFuture<'a, Result<AppCredentialReplaced, StoreError>> {
                Box::pin(calls::replace_app_credential(self, app, location, credential))
            }
            fn delete_scope<'a>(&'a self, scope: ScopeRef<'a>) -> BoxFuture<'a, Result<Vec<Arc<RegistryCredential>>, StoreError>> {
                Box::pin(calls::delete_scope(self, scope))
            }
            fn list<'a>(&'a self, scope: ScopeRef<'a>) -> BoxFuture<'a, Result<Vec<Arc<RegistryCredential>>, StoreError>> {
                Box::pin(calls::list(self, scope))
            }
            fn list_all(&self) -> BoxFuture<'_, Result<Vec<Arc<RegistryCredential>>, StoreError>> {
                Box::pin(calls::list_all(self))
            }
            fn get_by_guid(&self, guid: Guid) -> BoxFuture<'_, Result<Option<Arc<RegistryCredential>>, StoreError>> {
                Box::pin(calls::get_by_guid(self, guid))
            }
            fn update_by_guid(&self, guid: Guid, update: CredentialUpdate) -> BoxFuture<'_, Result<Arc<RegistryCredential>, StoreError>> {
                Box::pin(calls::update_by_guid(self, guid, update))
            }
            fn delete_by_guid(&self, guid: Guid) -> BoxFuture<'_, Result<Arc<RegistryCredential>, StoreError>> {
                Box::pin(calls::delete_by_guid(self, guid))
            }
            fn query<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Page, StoreError>> {
                Box::pin(calls::query(self, query))
            }
            fn audited<'a>(&'a self, write: Write, context: &'a AuditContext) -> BoxFuture<'a, Result<Written, StoreError>> {
                Box::pin(self.audited_write(write, context))
            }
            fn audit_events<'a>(&'a self, query: &'a AuditQuery) -> BoxFuture<'a, Result<Page<AuditEvent>, StoreError>> {
                Box::pin(calls::audit_events(self, query))
            }
        }
    )*};
}

/// Each query parameter, as the driver binds it.
fn sql_params(params: Vec<Param>) -> Vec<Box<dyn ToSql + Sync + Send>> {
    params
        .into_iter()
        .map(|p| -> Box<dyn ToSql + Sync + Send> {
            match p {
                Param::Small(v) => Box::new(v),
                Param::Int(v) => Box::new(v),
                Param::Text(v) => Box::new(v),
                Param::Bytes(v) => Box::new(v),
                Param::Null => Box::new(None::<String>),
            }
        })
        .collect()
}

/// `params` borrowed, as a statement takes them.
fn param_refs(params: &[Box<dyn ToSql + Sync + Send>]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| &**p as &(dyn ToSql + Sync)).collect()
}

impl PostgresStore {
    /// In one transaction of its own, settled when its commit answer is
    /// lost (R28): the change, then its events.
    async fn audited_write(
        &self,
        write: Write,
        context: &AuditContext,
    ) -> Result<Written, StoreError> {
        self.transaction(async |tx| calls::audited_in(tx, write, context).await)
            .await
    }
}

impl PostgresTransaction<'_> {
    /// In the open transaction: the change, then its events, which commit
    /// with it.
    async fn audited_write(
        &self,
        write: Write,
        context: &AuditContext,
    ) -> Result<Written, StoreError> {
        calls::audited_in(self, write, context).await
    }
}

store_on_session!(PostgresStore, PostgresTransaction<'_>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EncryptionKey;
    use registry_credentials::metadata::{Metadata, MetadataPatch};
    use registry_credentials::scope::OrgId;
    use registry_credentials::{CredentialKind, Password};
    use registry_credentials_test_support::postgres::{
        fresh_schema, runtime, session, url, url_in,
    };

    fn keyring() -> Keyring {
        Keyring::new(EncryptionKey::new("k1", [4; 32]).unwrap())
    }

    /// R22, R24, R25: a database of every earlier schema version, made by
    /// this release's own migrations up to it and holding two password
    /// credentials in that version's columns, migrates on connect and
    /// keeps every row readable: each a password credential without an
    /// expiry, with a GUID of its own and the time of the migration; then
    /// it stores metadata and every kind.
    #[test]
    #[ignore = "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)"]
    fn r22_r24_r25_a_database_of_every_earlier_version_migrates_and_keeps_every_row() {
        runtime().block_on(async {
            let latest = schema::latest_version();
            for version in 1..latest {
                let base = url();
                let schema_name = fresh_schema(&base, &format!("migrate_{version}")).await;
                let url = url_in(&base, &schema_name);
                let raw = session(&url).await;
                for m in schema::MIGRATIONS.iter().filter(|m| m.version <= version) {
                    raw.batch_execute(m.postgres).await.unwrap();
                }
                raw.batch_execute(&format!(
                    "CREATE TABLE registry_credentials_schema (version INTEGER NOT NULL); \
                     INSERT INTO registry_credentials_schema VALUES ({version})"
                ))
                .await
                .unwrap();
                let ring = keyring();
                let org = OrgId::new("o").unwrap();
                let insert = crate::earlier_version::insert(
                    version,
                    '$',
                    ", uuid_send(gen_random_uuid()), extract(epoch FROM now())::bigint, \
                     extract(epoch FROM now())::bigint",
                );
                for (kind, id, location, user, key, sealed) in
                    crate::earlier_version::sealed_rows(&ring, &org)
                {
                    raw.execute(&insert, &[&kind, &id, &location, &user, &key, &sealed])
                        .await
                        .unwrap();
                }
                let before = crate::earlier_version::now_secs();
                let store = PostgresStore::connect(&url, keyring()).await.unwrap();
                let all = store.list_all().await.unwrap();
                let records = crate::earlier_version::assert_kept(&all, version, before);
                for r in &records {
                    assert_eq!(
                        store.get_by_guid(r.guid()).await.unwrap().unwrap().record(),
                        Some(r)
                    );
                }
                let mut metadata = Metadata::default();
                metadata
                    .merge(&MetadataPatch::labels([("env", Some("prod"))]))
                    .unwrap();
                store
                    .create(
                        RegistryCredential::new(
                            Scope::Org(org.clone()),
                            "quay.io".parse().unwrap(),
                            Credential::identity_token("<token>", "refresh").unwrap(),
                        )
                        .with_metadata(metadata.clone()),
                    )
                    .await
                    .unwrap();
                store
                    .update_by_guid(
                        records[0].guid(),
                        CredentialUpdate::Password(Password::new("changed").unwrap()),
                    )
                    .await
                    .unwrap();
                let page = store
                    .query(&Query::new().selector("env=prod".parse().unwrap()))
                    .await
                    .unwrap();
                assert_eq!(page.total_results(), 1);
                assert_eq!(page.resources()[0].kind(), CredentialKind::IdentityToken);
                assert_eq!(page.resources()[0].metadata(), &metadata);
                let found: i32 = raw
                    .query_one("SELECT max(version) FROM registry_credentials_schema", &[])
                    .await
                    .unwrap()
                    .get(0);
                assert_eq!(found as u32, latest);
            }
        });
    }
}
