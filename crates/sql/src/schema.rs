//! The schema the database stores share: one table of credentials, one of
//! key check values, and the ordered migrations that build them.
//!
//! # Design
//!
//! - `registry_credentials` holds one row per credential. Its primary key
//!   (location, scope kind, scope id) is the uniqueness rule of R13 and the
//!   index every look-up uses; in SQLite the table is `WITHOUT ROWID`, so
//!   the row lives in that index. Location comes first because a
//!   resolution asks for each candidate location at four scopes: those four
//!   keys sit side by side in the index, so a plan touches a few index pages
//!   instead of one per key, and its cost stays nearly flat as the table
//!   grows. The foundation's scope id is the empty string (ids are never
//!   empty), so the key has no NULLs.
//! - `registry_credentials_by_scope` (scope kind, scope id, location) serves
//!   the listings. Scope kinds are stored as 0–3 in precedence order and
//!   text compares bytewise (SQLite's `BINARY`, PostgreSQL's `"C"`
//!   collation), so that index's order is the order
//!   [`list_all`](crate::CredentialStore::list_all) promises.
//! - `kind` is the credential's kind (R24: 0 password, 1 identity token,
//!   2 registry token) and `expires_at` its expiry in whole seconds since
//!   1970, UTC, or `NULL` (R25). Both are bound into the sealed secret's
//!   associated data (for any row but a password without an expiry, whose
//!   data is what older releases sealed), so a row whose kind or expiry
//!   was changed in the table does not open.
//! - The password is never stored: `secret` is its ciphertext (nonce,
//!   ciphertext and tag), `key_id` the key that sealed it, indexed so a
//!   rotation finds the rows left under old keys.
//! - `guid` (16 bytes, unique), `created_at` and `updated_at` (whole
//!   seconds since 1970, UTC) are the store's record of the row (R22),
//!   indexed as (time, guid) so that a page in either order is an index
//!   range. `metadata` holds the labels and annotations as one JSON
//!   object, read with the row; `registry_credential_labels` holds each
//!   label again as a row (guid, key, value), deleted with its credential
//!   (`ON DELETE CASCADE`), so that a label selector (R23) is `EXISTS`
//!   over the (guid, key) key or the (key, value) index.
//! - `registry_credential_writes` (PostgreSQL only) keeps the id of each
//!   recent write, inserted first in the write's own transaction, so that
//!   a write whose commit answer was lost can be settled: sent again with
//!   the same id it either finds the id taken (the first attempt
//!   committed) or takes it (the first did not). Ids older than a day are
//!   pruned.
//! - `registry_credential_events` keeps the audit events (R27), one row
//!   each, inserted in the transaction of the change they record and
//!   never deleted with their credential; `data` is what changed, as
//!   JSON, never a secret. Indexed by time, target, organization and
//!   space, the filters of the platform's list.
//! - `registry_credential_keys` keeps, per key id, a check value sealed with
//!   that key, so a store opened with the wrong key under a known id fails
//!   at once with [`KeyError::WrongKey`](crate::KeyError::WrongKey).
//! - Migrations are numbered from 1 and applied in order, each in one
//!   transaction with its version bump. A database whose version is newer
//!   than this release knows is refused, never written.

use registry_credentials::Scope;
use registry_credentials::scope::{AppId, IdError, OrgId, ScopeKind, ScopeRef, SpaceId};

/// One schema change, written once per dialect.
#[derive(Debug)]
pub(crate) struct Migration {
    /// The schema version after it.
    pub version: u32,
    /// Its SQLite statements.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub sqlite: &'static str,
    /// Its PostgreSQL statements.
    #[allow(dead_code)] // read by the PostgreSQL store
    pub postgres: &'static str,
}

/// The six columns of SQLite's first credential table, which version 4
/// builds again (a macro, so that `concat!` joins it to both).
macro_rules! sqlite_first_columns {
    () => {
        "
            scope_kind INTEGER NOT NULL CHECK (scope_kind BETWEEN 0 AND 3),
            scope_id   TEXT    NOT NULL,
            location   TEXT    NOT NULL,
            username   TEXT    NOT NULL,
            key_id     TEXT    NOT NULL,
            secret     BLOB    NOT NULL,"
    };
}

/// Version 5's indexes of the audit events, the same text in both
/// dialects (a macro, so that `concat!` joins it to each table's text).
macro_rules! events_indexes {
    () => {
        "
        CREATE INDEX registry_credential_events_by_created
            ON registry_credential_events (created_at, guid);
        CREATE INDEX registry_credential_events_by_target
            ON registry_credential_events (target_guid);
        CREATE INDEX registry_credential_events_by_organization
            ON registry_credential_events (organization, created_at);
        CREATE INDEX registry_credential_events_by_space
            ON registry_credential_events (space, created_at);
    "
    };
}

/// Every migration, in order.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sqlite: concat!(
            "
        CREATE TABLE registry_credentials (",
            sqlite_first_columns!(),
            "
            PRIMARY KEY (location, scope_kind, scope_id),
            CHECK ((scope_kind = 3) = (scope_id = ''))
        ) WITHOUT ROWID;
        CREATE INDEX registry_credentials_by_scope
            ON registry_credentials (scope_kind, scope_id, location);
        CREATE INDEX registry_credentials_by_key ON registry_credentials (key_id);
        CREATE TABLE registry_credential_keys (
            key_id TEXT PRIMARY KEY,
            check_value BLOB NOT NULL
        ) WITHOUT ROWID;
    "
        ),
        postgres: r#"
        CREATE TABLE registry_credentials (
            scope_kind SMALLINT NOT NULL CHECK (scope_kind BETWEEN 0 AND 3),
            scope_id   TEXT COLLATE "C" NOT NULL,
            location   TEXT COLLATE "C" NOT NULL,
            username   TEXT NOT NULL,
            key_id     TEXT COLLATE "C" NOT NULL,
            secret     BYTEA NOT NULL,
            PRIMARY KEY (location, scope_kind, scope_id),
            CHECK ((scope_kind = 3) = (scope_id = ''))
        );
        CREATE INDEX registry_credentials_by_scope
            ON registry_credentials (scope_kind, scope_id, location);
        CREATE INDEX registry_credentials_by_key ON registry_credentials (key_id);
        CREATE TABLE registry_credential_keys (
            key_id TEXT COLLATE "C" PRIMARY KEY,
            check_value BYTEA NOT NULL
        );
    "#,
    },
    Migration {
        version: 2,
        // SQLite answers every commit in the process that sent it: there
        // is no lost answer to settle, so it keeps no write ids.
        sqlite: "",
        postgres: r#"
        CREATE TABLE registry_credential_writes (
            write_id   BYTEA PRIMARY KEY,
            written_at TIMESTAMPTZ NOT NULL DEFAULT now()
        );
    "#,
    },
    Migration {
        version: 3,
        // R24 and R25: every row so far is a password without an expiry.
        sqlite: "
        ALTER TABLE registry_credentials
            ADD COLUMN kind INTEGER NOT NULL DEFAULT 0 CHECK (kind BETWEEN 0 AND 2);
        ALTER TABLE registry_credentials ADD COLUMN expires_at INTEGER;
    ",
        postgres: "
        ALTER TABLE registry_credentials
            ADD COLUMN kind SMALLINT NOT NULL DEFAULT 0 CHECK (kind BETWEEN 0 AND 2),
            ADD COLUMN expires_at BIGINT;
    ",
    },
    Migration {
        version: 4,
        // R22: a GUID, created and updated times and metadata per row;
        // every row so far gets a random GUID and the time of the
        // migration. SQLite cannot add a NOT NULL column without a
        // constant default, so it builds the table again.
        sqlite: concat!(
            "
        CREATE TABLE registry_credentials_next (",
            sqlite_first_columns!(),
            "
            kind       INTEGER NOT NULL DEFAULT 0 CHECK (kind BETWEEN 0 AND 2),
            expires_at INTEGER,
            guid       BLOB    NOT NULL UNIQUE CHECK (length(guid) = 16),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            metadata   TEXT,
            PRIMARY KEY (location, scope_kind, scope_id),
            CHECK ((scope_kind = 3) = (scope_id = ''))
        ) WITHOUT ROWID;
        INSERT INTO registry_credentials_next
            SELECT scope_kind, scope_id, location, username, key_id, secret, kind, expires_at,
                   randomblob(16), unixepoch(), unixepoch(), NULL
            FROM registry_credentials;
        DROP TABLE registry_credentials;
        ALTER TABLE registry_credentials_next RENAME TO registry_credentials;
        CREATE INDEX registry_credentials_by_scope
            ON registry_credentials (scope_kind, scope_id, location);
        CREATE INDEX registry_credentials_by_key ON registry_credentials (key_id);
        CREATE INDEX registry_credentials_by_created ON registry_credentials (created_at, guid);
        CREATE INDEX registry_credentials_by_updated ON registry_credentials (updated_at, guid);
        CREATE TABLE registry_credential_labels (
            guid  BLOB NOT NULL REFERENCES registry_credentials (guid) ON DELETE CASCADE,
            key   TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (guid, key)
        ) WITHOUT ROWID;
        CREATE INDEX registry_credential_labels_by_value
            ON registry_credential_labels (key, value, guid);
    "
        ),
        postgres: r#"
        ALTER TABLE registry_credentials
            ADD COLUMN guid BYTEA,
            ADD COLUMN created_at BIGINT,
            ADD COLUMN updated_at BIGINT,
            ADD COLUMN metadata TEXT;
        UPDATE registry_credentials SET
            guid = uuid_send(gen_random_uuid()),
            created_at = extract(epoch FROM now())::bigint,
            updated_at = extract(epoch FROM now())::bigint;
        ALTER TABLE registry_credentials
            ALTER COLUMN guid SET NOT NULL,
            ALTER COLUMN created_at SET NOT NULL,
            ALTER COLUMN updated_at SET NOT NULL,
            ADD CONSTRAINT registry_credentials_guid UNIQUE (guid),
            ADD CONSTRAINT registry_credentials_guid_length CHECK (length(guid) = 16);
        CREATE INDEX registry_credentials_by_created ON registry_credentials (created_at, guid);
        CREATE INDEX registry_credentials_by_updated ON registry_credentials (updated_at, guid);
        CREATE TABLE registry_credential_labels (
            guid  BYTEA NOT NULL REFERENCES registry_credentials (guid) ON DELETE CASCADE,
            key   TEXT COLLATE "C" NOT NULL,
            value TEXT COLLATE "C" NOT NULL,
            PRIMARY KEY (guid, key)
        );
        CREATE INDEX registry_credential_labels_by_value
            ON registry_credential_labels (key, value, guid);
    "#,
    },
    Migration {
        version: 5,
        // R27: the audit events, kept apart from the credentials (an
        // event outlives its credential).
        sqlite: concat!(
            "
        CREATE TABLE registry_credential_events (
            guid              BLOB    NOT NULL PRIMARY KEY CHECK (length(guid) = 16),
            created_at        INTEGER NOT NULL,
            type              TEXT    NOT NULL,
            actor_id          TEXT    NOT NULL,
            actor_name        TEXT    NOT NULL,
            target_guid       BLOB    NOT NULL,
            target_scope_kind INTEGER NOT NULL CHECK (target_scope_kind BETWEEN 0 AND 3),
            target_scope_id   TEXT    NOT NULL,
            target_location   TEXT    NOT NULL,
            organization      TEXT,
            space             TEXT,
            data              TEXT    NOT NULL
        ) WITHOUT ROWID;",
            events_indexes!()
        ),
        postgres: concat!(
            r#"
        CREATE TABLE registry_credential_events (
            guid              BYTEA    NOT NULL PRIMARY KEY CHECK (length(guid) = 16),
            created_at        BIGINT   NOT NULL,
            type              TEXT     NOT NULL,
            actor_id          TEXT     NOT NULL,
            actor_name        TEXT     NOT NULL,
            target_guid       BYTEA    NOT NULL,
            target_scope_kind SMALLINT NOT NULL CHECK (target_scope_kind BETWEEN 0 AND 3),
            target_scope_id   TEXT COLLATE "C" NOT NULL,
            target_location   TEXT     NOT NULL,
            organization      TEXT COLLATE "C",
            space             TEXT COLLATE "C",
            data              TEXT     NOT NULL
        );"#,
            events_indexes!()
        ),
    },
    Migration {
        version: 6,
        // R21, R22: a page of the credentials a caller may read is the
        // first rows of a few scopes in time order; these indexes hold
        // them in that order, so the page and its count read the index
        // alone and only the page's rows are read from the table.
        sqlite: BY_SCOPE_AND_TIME,
        postgres: BY_SCOPE_AND_TIME,
    },
];

/// Version 6's indexes, the same text in both dialects.
const BY_SCOPE_AND_TIME: &str = "
        CREATE INDEX registry_credentials_by_scope_created
            ON registry_credentials (scope_kind, scope_id, created_at, guid);
        CREATE INDEX registry_credentials_by_scope_updated
            ON registry_credentials (scope_kind, scope_id, updated_at, guid);
    ";

/// The schema version this release writes.
pub(crate) fn latest_version() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The migrations to apply to a database at version `found`.
pub(crate) fn pending(found: u32) -> Result<&'static [Migration], SchemaError> {
    if found > latest_version() {
        return Err(SchemaError::TooNew {
            found,
            supported: latest_version(),
        });
    }
    Ok(&MIGRATIONS[MIGRATIONS
        .iter()
        .position(|m| m.version > found)
        .unwrap_or(MIGRATIONS.len())..])
}

/// Why a database's schema or contents could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The database was written by a newer release of this crate.
    #[error(
        "the database has schema version {found}, newer than the {supported} this release knows; upgrade registry-credentials, or open a copy made before the upgrade"
    )]
    TooNew {
        /// The database's version.
        found: u32,
        /// The newest version this release knows.
        supported: u32,
    },
    /// The file holds no credential store: it was opened with
    /// `SqliteOptions::create(false)`, and it is empty or another
    /// program's database.
    #[error(
        "the database holds no credential store; give the path of the store's file, or restore it from a backup"
    )]
    NotAStore,
    /// A row holds something no release writes.
    #[error(
        "a stored row is corrupt: {what}; restore the database from a backup or delete the row"
    )]
    CorruptRow {
        /// What is wrong with it (never a password).
        what: String,
    },
}

/// The stored code of a scope kind: its place in precedence order.
pub(crate) fn kind_code(kind: ScopeKind) -> i16 {
    match kind {
        ScopeKind::App => 0,
        ScopeKind::Space => 1,
        ScopeKind::Org => 2,
        ScopeKind::Foundation => 3,
    }
}

/// The scope kind of a stored code.
pub(crate) fn kind_of(code: i64) -> Result<ScopeKind, SchemaError> {
    Ok(match code {
        0 => ScopeKind::App,
        1 => ScopeKind::Space,
        2 => ScopeKind::Org,
        3 => ScopeKind::Foundation,
        _ => {
            return Err(SchemaError::CorruptRow {
                what: format!("scope kind {code} is not 0 to 3"),
            });
        }
    })
}

/// The stored (kind, id) of a scope; the foundation's id is empty.
pub(crate) fn scope_columns<'a>(scope: ScopeRef<'a>) -> (i16, &'a str) {
    (kind_code(scope.kind()), scope.id().unwrap_or(""))
}

/// The scope of stored columns.
pub(crate) fn scope_of(kind: ScopeKind, id: &str) -> Result<Scope, SchemaError> {
    let corrupt = |e: IdError| SchemaError::CorruptRow {
        what: format!("the {kind} id is not valid ({e})"),
    };
    Ok(match kind {
        ScopeKind::Foundation if id.is_empty() => Scope::Foundation,
        ScopeKind::Foundation => {
            return Err(SchemaError::CorruptRow {
                what: "a foundation row has a scope id".to_owned(),
            });
        }
        ScopeKind::Org => Scope::Org(OrgId::new(id).map_err(corrupt)?),
        ScopeKind::Space => Scope::Space(SpaceId::new(id).map_err(corrupt)?),
        ScopeKind::App => Scope::App(AppId::new(id).map_err(corrupt)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_ordered_and_newer_files_are_refused() {
        for pair in MIGRATIONS.windows(2) {
            assert_eq!(pair[1].version, pair[0].version + 1);
        }
        assert_eq!(MIGRATIONS[0].version, 1);
        assert_eq!(pending(0).unwrap().len(), MIGRATIONS.len());
        assert!(pending(latest_version()).unwrap().is_empty());
        let e = pending(latest_version() + 1).unwrap_err();
        assert!(e.to_string().contains("newer than"), "{e}");
    }

    #[test]
    fn r14_kind_codes_follow_precedence() {
        let codes: Vec<_> = ScopeKind::ALL.iter().map(|k| kind_code(*k)).collect();
        assert_eq!(codes, [0, 1, 2, 3]);
        for k in ScopeKind::ALL {
            assert_eq!(kind_of(i64::from(kind_code(k))).unwrap(), k);
        }
        assert!(kind_of(4).is_err());
        assert!(scope_of(ScopeKind::Foundation, "x").is_err());
        assert!(scope_of(ScopeKind::Org, "").is_err());
    }
}
