//! [`SqliteDirectory`]: the directory in tables of a `SqliteStore`'s
//! file, changed in the same transactions as the credentials.

use std::fmt;
use std::sync::Arc;

use registry_credentials::scope::{AppId, OrgId, SpaceId, UserId};
use registry_credentials::{App, Reference, Scope};
use registry_credentials_sql::rusqlite::{self, Connection, ErrorCode, OptionalExtension, params};
use registry_credentials_sql::{SqliteStore, SqliteTransaction};

use super::{
    DirectoryError, DirectoryReader, DirectoryWriter, Entity, Name, corrupt, id_of, image_of,
    name_of, role_of,
};
use crate::access::{GlobalRole, OrgRole, Roles, SpaceRole};

/// The directory's schema changes, in order: (version after it, SQL).
/// Its version is kept in a table of its own, apart from the credential
/// store's `user_version`, so each side migrates on its own. The cf
/// command line's [`Session`] lives in the same file, in a table
/// of one row.
const MIGRATIONS: &[(u32, &str)] = &[
    (
        1,
        concat!(
            directory_tables!(" WITHOUT ROWID"),
            "
    CREATE TABLE cf_session (
        one      INTEGER PRIMARY KEY CHECK (one = 1),
        user_id  TEXT,
        org_id   TEXT,
        space_id TEXT
    );
    INSERT INTO cf_session (one) VALUES (1);
    "
        ),
    ),
    (2, directory_images!()),
];

/// The schema version this release writes.
pub const SQLITE_DIRECTORY_VERSION: u32 = 2;

/// The cf command line's session: who is logged in and what is targeted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    /// The current user, after `auth`.
    pub user: Option<UserId>,
    /// The targeted organization.
    pub org: Option<OrgId>,
    /// The targeted space (of `org`).
    pub space: Option<SpaceId>,
}

/// A [`DirectoryReader`] and [`DirectoryWriter`] in tables of the SQLite file of a
/// `registry_credentials_sql::SqliteStore`, read and changed inside one
/// [`SqliteTransaction`]: with a `Manager` over the same transaction,
/// a command's changes to organizations, spaces, apps, roles and
/// credentials commit together or not at all (R13: no credential outlives
/// its scope's entry, and no entry is saved without its credentials).
///
/// Names are unique where cf wants them (the tables' `UNIQUE`
/// constraints), and removed ids are recorded so they are never used again
/// (R13). The tables carry their own schema version
/// ([`SQLITE_DIRECTORY_VERSION`]); [`open`](Self::open) creates or
/// migrates them in a write transaction and refuses a newer version.
///
/// It also keeps the cf command line's [`Session`] (current user and
/// target) in the same file.
///
/// ```
/// use registry_credentials::scope::{OrgId, UserId};
/// use registry_credentials_cf::access::GlobalRole;
/// use registry_credentials_cf::directory::{DirectoryError, DirectoryReader, DirectoryWriter, Name, SqliteDirectory};
/// use registry_credentials_sql::{EncryptionKey, Keyring, SqliteStore};
/// # let dir = std::env::temp_dir().join(format!("cf-dir-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let store = SqliteStore::open(dir.join("cf.db"), Keyring::new(EncryptionKey::new("k", [1; 32])?))?;
/// store.transaction(|tx| -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
///     let d = SqliteDirectory::open(tx)?;
///     d.add_org(OrgId::new("org-1")?, Name::new("myorg")?)?;
///     d.grant_global(UserId::new("admin")?, GlobalRole::Admin)?;
///     Ok(())
/// }).map_err(|e| e as Box<dyn std::error::Error>)?;
/// let found = store.read_transaction(|tx| SqliteDirectory::open(tx)?.org_by_name("myorg"))?;
/// assert_eq!(found, Some(OrgId::new("org-1")?));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct SqliteDirectory<'t> {
    tx: &'t SqliteTransaction<'t>,
}

impl fmt::Debug for SqliteDirectory<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteDirectory")
            .field("read_only", &self.tx.is_read_only())
            .finish_non_exhaustive()
    }
}

fn backend(e: rusqlite::Error) -> DirectoryError {
    let retryable = matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    );
    DirectoryError::Backend {
        retryable,
        source: Arc::new(e),
    }
}

impl<'t> SqliteDirectory<'t> {
    /// The directory in `tx`'s file. In a write transaction its tables
    /// are created, or migrated, when they are missing or older; in a read
    /// transaction they must be current.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Backend`] when the tables are newer than this
    /// release, missing or older in a read transaction, or the database
    /// fails.
    pub fn open(tx: &'t SqliteTransaction<'t>) -> Result<Self, DirectoryError> {
        let dir = SqliteDirectory { tx };
        let found = dir.version()?;
        if found > SQLITE_DIRECTORY_VERSION {
            return Err(corrupt(format!(
                "the tables have schema version {found}, newer than the {SQLITE_DIRECTORY_VERSION} this release knows; upgrade registry-credentials-cf"
            )));
        }
        if found < SQLITE_DIRECTORY_VERSION {
            if tx.is_read_only() {
                return Err(corrupt(format!(
                    "the tables have schema version {found}, older than {SQLITE_DIRECTORY_VERSION}; open them in a write transaction to migrate"
                )));
            }
            dir.q(|c| {
                for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
                    c.execute_batch(sql)?;
                    c.execute(
                        "INSERT OR REPLACE INTO registry_credentials_cf_schema (one, version) VALUES (1, ?1)",
                        [version],
                    )?;
                }
                Ok(())
            })?;
        }
        Ok(dir)
    }

    /// Brings the directory's tables in `store`'s file to this release's
    /// schema, in a write transaction, when they are older (or missing);
    /// does nothing, in a read transaction, when they are current. For a
    /// program whose commands may open the directory in read transactions
    /// only ([`open`](Self::open) migrates in write transactions alone).
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn migrate(store: &SqliteStore) -> Result<(), DirectoryError> {
        let current = store.read_transaction(|tx| -> Result<bool, DirectoryError> {
            Ok(SqliteDirectory { tx }.version()? >= SQLITE_DIRECTORY_VERSION)
        })?;
        if !current {
            store.transaction(|tx| SqliteDirectory::open(tx).map(drop))?;
        }
        Ok(())
    }

    /// The tables' schema version; 0 when there are none.
    fn version(&self) -> Result<u32, DirectoryError> {
        self.q(|c| {
            let exists: bool = c.query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'registry_credentials_cf_schema')",
                [],
                |r| r.get(0),
            )?;
            if !exists {
                // Made only in a write transaction (a read one is
                // `query_only`), where the migrations follow at once.
                let read_only = c.query_row("PRAGMA query_only", [], |r| r.get::<_, bool>(0))?;
                if !read_only {
                    c.execute_batch(
                        "CREATE TABLE registry_credentials_cf_schema (
                             one INTEGER PRIMARY KEY CHECK (one = 1),
                             version INTEGER NOT NULL
                         )",
                    )?;
                }
                return Ok(0);
            }
            c.query_row(
                "SELECT version FROM registry_credentials_cf_schema WHERE one = 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map(|v| v.unwrap_or(0))
        })
    }

    fn q<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, DirectoryError> {
        self.tx.with_connection(f).map_err(backend)
    }

    fn retired(&self, kind: &str, id: &str) -> Result<bool, DirectoryError> {
        self.q(|c| {
            c.query_row(
                "SELECT EXISTS (SELECT 1 FROM cf_retired_ids WHERE kind = ?1 AND id = ?2)",
                [kind, id],
                |r| r.get(0),
            )
        })
    }

    /// The id `sql` finds by name (`params`: the parent's id for a child,
    /// then the name), checked by `make`.
    fn id_by_name<T>(
        &self,
        sql: &str,
        params: &[&str],
        make: impl FnOnce(&str) -> Result<T, registry_credentials::scope::IdError>,
    ) -> Result<Option<T>, DirectoryError> {
        let id: Option<String> = self.q(|c| {
            c.query_row(sql, rusqlite::params_from_iter(params), |r| r.get(0))
                .optional()
        })?;
        id.map(|i| id_of(&i, make)).transpose()
    }

    /// Adds an entry of `what` to `table` with `insert` (`params`: its id,
    /// its parent's for a child, its name): its id must never have been
    /// used (R13), and its name must be free (`taken` is the error when it
    /// is not).
    fn add_entry(
        &self,
        what: Entity,
        table: &str,
        insert: &str,
        params: &[&str],
        taken: Option<DirectoryError>,
    ) -> Result<(), DirectoryError> {
        self.id_free(what, table, params[0])?;
        if let Some(taken) = taken {
            return Err(taken);
        }
        self.q(|c| c.execute(insert, rusqlite::params_from_iter(params)))?;
        Ok(())
    }

    fn id_free(&self, what: Entity, table: &str, id: &str) -> Result<(), DirectoryError> {
        let used: bool = self.q(|c| {
            c.query_row(
                &format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE id = ?1)"),
                [id],
                |r| r.get(0),
            )
        })?;
        if used || self.retired(what.as_str(), id)? {
            return Err(super::id_taken(what, &id));
        }
        Ok(())
    }

    /// The cf command line's session: the current user and target.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Backend`].
    pub fn session(&self) -> Result<Session, DirectoryError> {
        let (user, org, space): (Option<String>, Option<String>, Option<String>) = self.q(|c| {
            c.query_row(
                "SELECT user_id, org_id, space_id FROM cf_session WHERE one = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
        })?;
        Ok(Session {
            user: user.map(|u| id_of(&u, UserId::new)).transpose()?,
            org: org.map(|o| id_of(&o, OrgId::new)).transpose()?,
            space: space.map(|s| id_of(&s, SpaceId::new)).transpose()?,
        })
    }

    /// Saves the cf command line's session.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Backend`].
    pub fn set_session(&self, session: &Session) -> Result<(), DirectoryError> {
        self.q(|c| {
            c.execute(
                "UPDATE cf_session SET user_id = ?1, org_id = ?2, space_id = ?3 WHERE one = 1",
                params![
                    session.user.as_ref().map(UserId::as_str),
                    session.org.as_ref().map(OrgId::as_str),
                    session.space.as_ref().map(SpaceId::as_str),
                ],
            )
        })?;
        Ok(())
    }

    fn remove_space_rows(&self, space: &SpaceId) -> Result<(), DirectoryError> {
        self.q(|c| {
            c.execute(
                "INSERT OR IGNORE INTO cf_retired_ids (kind, id) SELECT 'app', id FROM cf_apps WHERE space_id = ?1",
                [space.as_str()],
            )?;
            c.execute("DELETE FROM cf_apps WHERE space_id = ?1", [space.as_str()])?;
            c.execute("DELETE FROM cf_space_roles WHERE space_id = ?1", [space.as_str()])?;
            c.execute("DELETE FROM cf_spaces WHERE id = ?1", [space.as_str()])?;
            c.execute(
                "INSERT OR IGNORE INTO cf_retired_ids (kind, id) VALUES ('space', ?1)",
                [space.as_str()],
            )?;
            Ok(())
        })
    }
}

impl DirectoryReader for SqliteDirectory<'_> {
    fn roles(&self, user: &UserId) -> Result<Roles, DirectoryError> {
        type Rows = (
            Vec<String>,
            Vec<(String, String)>,
            Vec<(String, String, String)>,
        );
        let (global, orgs, spaces): Rows = self.q(|c| {
            let global = c
                .prepare_cached("SELECT role FROM cf_global_roles WHERE user_id = ?1")?
                .query_map([user.as_str()], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let orgs = c
                .prepare_cached("SELECT org_id, role FROM cf_org_roles WHERE user_id = ?1")?
                .query_map([user.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let spaces = c
                .prepare_cached(
                    "SELECT s.org_id, r.space_id, r.role FROM cf_space_roles r \
                     JOIN cf_spaces s ON s.id = r.space_id WHERE r.user_id = ?1",
                )?
                .query_map([user.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?;
            Ok((global, orgs, spaces))
        })?;
        let mut roles = Roles::new();
        for g in global {
            roles.grant_global(role_of::<GlobalRole>(&g)?);
        }
        for (org, role) in orgs {
            roles.grant_org(id_of(&org, OrgId::new)?, role_of::<OrgRole>(&role)?);
        }
        for (org, space, role) in spaces {
            roles.grant_space(
                id_of(&org, OrgId::new)?,
                id_of(&space, SpaceId::new)?,
                role_of::<SpaceRole>(&role)?,
            );
        }
        Ok(roles)
    }

    fn org_by_name(&self, name: &str) -> Result<Option<OrgId>, DirectoryError> {
        self.id_by_name("SELECT id FROM cf_orgs WHERE name = ?1", &[name], |i| {
            OrgId::new(i)
        })
    }

    fn space_by_name(&self, org: &OrgId, name: &str) -> Result<Option<SpaceId>, DirectoryError> {
        self.id_by_name(
            "SELECT id FROM cf_spaces WHERE org_id = ?1 AND name = ?2",
            &[org.as_str(), name],
            |i| SpaceId::new(i),
        )
    }

    fn app_by_name(&self, space: &SpaceId, name: &str) -> Result<Option<AppId>, DirectoryError> {
        self.id_by_name(
            "SELECT id FROM cf_apps WHERE space_id = ?1 AND name = ?2",
            &[space.as_str(), name],
            |i| AppId::new(i),
        )
    }

    fn org_name(&self, org: &OrgId) -> Result<Option<Name>, DirectoryError> {
        let name: Option<String> = self.q(|c| {
            c.query_row(
                "SELECT name FROM cf_orgs WHERE id = ?1",
                [org.as_str()],
                |r| r.get(0),
            )
            .optional()
        })?;
        name.as_deref().map(name_of).transpose()
    }

    fn space(&self, space: &SpaceId) -> Result<Option<(OrgId, Name)>, DirectoryError> {
        let row: Option<(String, String)> = self.q(|c| {
            c.query_row(
                "SELECT org_id, name FROM cf_spaces WHERE id = ?1",
                [space.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })?;
        row.map(|(o, n)| Ok((id_of(&o, OrgId::new)?, name_of(&n)?)))
            .transpose()
    }

    fn app(&self, app: &AppId) -> Result<Option<(App, Name)>, DirectoryError> {
        let row: Option<(String, String, String)> = self.q(|c| {
            c.query_row(
                "SELECT s.org_id, a.space_id, a.name FROM cf_apps a \
                 JOIN cf_spaces s ON s.id = a.space_id WHERE a.id = ?1",
                [app.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
        })?;
        row.map(|(o, s, n)| {
            Ok((
                App::from_ids(
                    id_of(&o, OrgId::new)?,
                    id_of(&s, SpaceId::new)?,
                    app.clone(),
                ),
                name_of(&n)?,
            ))
        })
        .transpose()
    }

    fn apps_in(&self, space: &SpaceId) -> Result<Vec<(App, Name)>, DirectoryError> {
        let rows: Vec<(String, String, String)> = self.q(|c| {
            c.prepare_cached(
                "SELECT s.org_id, a.id, a.name FROM cf_apps a \
                 JOIN cf_spaces s ON s.id = a.space_id WHERE a.space_id = ?1 ORDER BY a.name",
            )?
            .query_map([space.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect()
        })?;
        rows.into_iter()
            .map(|(o, a, n)| {
                Ok((
                    App::from_ids(
                        id_of(&o, OrgId::new)?,
                        space.clone(),
                        id_of(&a, AppId::new)?,
                    ),
                    name_of(&n)?,
                ))
            })
            .collect()
    }

    fn spaces_in(&self, org: &OrgId) -> Result<Vec<(SpaceId, Name)>, DirectoryError> {
        let rows: Vec<(String, String)> = self.q(|c| {
            c.prepare_cached("SELECT id, name FROM cf_spaces WHERE org_id = ?1 ORDER BY name")?
                .query_map([org.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })?;
        rows.into_iter()
            .map(|(s, n)| Ok((id_of(&s, SpaceId::new)?, name_of(&n)?)))
            .collect()
    }

    fn app_images(&self, within: &Scope) -> Result<Vec<(App, Name, Reference)>, DirectoryError> {
        const SELECT: &str = "SELECT s.org_id, a.space_id, a.id, a.name, a.image FROM cf_apps a \
             JOIN cf_spaces s ON s.id = a.space_id WHERE a.image IS NOT NULL";
        let (filter, id) = match within {
            Scope::Foundation => ("", None),
            Scope::Org(org) => (" AND s.org_id = ?1", Some(org.as_str())),
            Scope::Space(space) => (" AND a.space_id = ?1", Some(space.as_str())),
            Scope::App(app) => (" AND a.id = ?1", Some(app.as_str())),
        };
        let sql = format!("{SELECT}{filter} ORDER BY a.id");
        let rows: Vec<[String; 5]> = self.q(|c| {
            c.prepare_cached(&sql)?
                .query_map(rusqlite::params_from_iter(id), |r| {
                    Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?])
                })?
                .collect()
        })?;
        rows.into_iter()
            .map(|[o, s, a, n, image]| {
                let app = App::from_ids(
                    id_of(&o, OrgId::new)?,
                    id_of(&s, SpaceId::new)?,
                    id_of(&a, AppId::new)?,
                );
                Ok((app, name_of(&n)?, image_of(&image)?))
            })
            .collect()
    }
}

impl DirectoryWriter for SqliteDirectory<'_> {
    fn add_org(&self, id: OrgId, name: Name) -> Result<(), DirectoryError> {
        let taken = self
            .org_by_name(name.as_str())?
            .map(|_| super::name_taken(Entity::Org, &name, String::new()));
        self.add_entry(
            Entity::Org,
            "cf_orgs",
            "INSERT INTO cf_orgs (id, name) VALUES (?1, ?2)",
            &[id.as_str(), name.as_str()],
            taken,
        )
    }

    fn add_space(&self, id: SpaceId, org: &OrgId, name: Name) -> Result<(), DirectoryError> {
        let org_name = self
            .org_name(org)?
            .ok_or_else(|| super::unknown(Entity::Org, org))?;
        let taken = self.space_by_name(org, name.as_str())?.map(|_| {
            super::name_taken(
                Entity::Space,
                &name,
                format!(" in organization `{org_name}`"),
            )
        });
        self.add_entry(
            Entity::Space,
            "cf_spaces",
            "INSERT INTO cf_spaces (id, org_id, name) VALUES (?1, ?2, ?3)",
            &[id.as_str(), org.as_str(), name.as_str()],
            taken,
        )
    }

    fn add_app(&self, id: AppId, space: &SpaceId, name: Name) -> Result<(), DirectoryError> {
        let (_, space_name) = self
            .space(space)?
            .ok_or_else(|| super::unknown(Entity::Space, space))?;
        let taken = self
            .app_by_name(space, name.as_str())?
            .map(|_| super::name_taken(Entity::App, &name, format!(" in space `{space_name}`")));
        self.add_entry(
            Entity::App,
            "cf_apps",
            "INSERT INTO cf_apps (id, space_id, name) VALUES (?1, ?2, ?3)",
            &[id.as_str(), space.as_str(), name.as_str()],
            taken,
        )
    }

    fn set_app_image(&self, app: &AppId, image: &Reference) -> Result<(), DirectoryError> {
        let set = self.q(|c| {
            c.execute(
                "UPDATE cf_apps SET image = ?2 WHERE id = ?1",
                [app.as_str(), image.as_str()],
            )
        })?;
        if set == 0 {
            return Err(super::unknown(Entity::App, app));
        }
        Ok(())
    }

    fn remove_org(&self, org: &OrgId) -> Result<(), DirectoryError> {
        if self.org_name(org)?.is_none() {
            return Err(super::unknown(Entity::Org, org));
        }
        for (space, _) in self.spaces_in(org)? {
            self.remove_space_rows(&space)?;
        }
        self.q(|c| {
            c.execute("DELETE FROM cf_org_roles WHERE org_id = ?1", [org.as_str()])?;
            c.execute("DELETE FROM cf_orgs WHERE id = ?1", [org.as_str()])?;
            c.execute(
                "INSERT OR IGNORE INTO cf_retired_ids (kind, id) VALUES ('organization', ?1)",
                [org.as_str()],
            )
        })?;
        Ok(())
    }

    fn remove_space(&self, space: &SpaceId) -> Result<(), DirectoryError> {
        if self.space(space)?.is_none() {
            return Err(super::unknown(Entity::Space, space));
        }
        self.remove_space_rows(space)
    }

    fn remove_app(&self, app: &AppId) -> Result<(), DirectoryError> {
        let removed = self.q(|c| c.execute("DELETE FROM cf_apps WHERE id = ?1", [app.as_str()]))?;
        if removed == 0 {
            return Err(super::unknown(Entity::App, app));
        }
        self.q(|c| {
            c.execute(
                "INSERT OR IGNORE INTO cf_retired_ids (kind, id) VALUES ('app', ?1)",
                [app.as_str()],
            )
        })?;
        Ok(())
    }

    fn grant_global(&self, user: UserId, role: GlobalRole) -> Result<(), DirectoryError> {
        self.q(|c| {
            c.execute(
                "INSERT OR IGNORE INTO cf_global_roles (user_id, role) VALUES (?1, ?2)",
                [user.as_str(), role.as_str()],
            )
        })?;
        Ok(())
    }

    fn grant_org(&self, user: UserId, org: &OrgId, role: OrgRole) -> Result<(), DirectoryError> {
        if self.org_name(org)?.is_none() {
            return Err(super::unknown(Entity::Org, org));
        }
        self.q(|c| {
            c.execute(
                "INSERT OR IGNORE INTO cf_org_roles (user_id, org_id, role) VALUES (?1, ?2, ?3)",
                [user.as_str(), org.as_str(), role.as_str()],
            )
        })?;
        Ok(())
    }

    fn grant_space(
        &self,
        user: UserId,
        space: &SpaceId,
        role: SpaceRole,
    ) -> Result<(), DirectoryError> {
        let (org, _) = self
            .space(space)?
            .ok_or_else(|| super::unknown(Entity::Space, space))?;
        self.q(|c| {
            c.execute(
                "INSERT OR IGNORE INTO cf_space_roles (user_id, space_id, role) VALUES (?1, ?2, ?3)",
                [user.as_str(), space.as_str(), role.as_str()],
            )?;
            // A role in a space makes its holder an Org User (R21).
            c.execute(
                "INSERT OR IGNORE INTO cf_org_roles (user_id, org_id, role) VALUES (?1, ?2, ?3)",
                [user.as_str(), org.as_str(), OrgRole::User.as_str()],
            )
        })?;
        Ok(())
    }
}
