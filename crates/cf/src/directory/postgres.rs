//! [`PostgresDirectory`]: the directory in tables of a `PostgresStore`'s
//! database, shared by every service instance.

use std::error::Error as _;
use std::fmt;
use std::sync::Arc;

use deadpool_postgres::{GenericClient, Object, Pool, PoolError};
use tokio_postgres::error::SqlState;

use registry_credentials::App;
use registry_credentials::scope::{AppId, IdError, OrgId, SpaceId, UserId};
use registry_credentials::store::BoxFuture;
use registry_credentials_sql::PostgresStore;

use super::{AsyncDirectoryReader, AsyncDirectoryWriter, DirectoryError, Entity, Name, unknown};
use crate::access::{GlobalRole, OrgRole, Roles, SpaceRole};

/// The directory's schema changes, in order: (version after it, SQL). Its
/// version is kept in a table of its own, apart from the credential
/// store's, so each side migrates on its own.
const MIGRATIONS: &[(i32, &str)] = &[(
    1,
    "
    CREATE TABLE cf_orgs (
        id   TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
    CREATE TABLE cf_spaces (
        id     TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        name   TEXT NOT NULL,
        UNIQUE (org_id, name)
    );
    CREATE TABLE cf_apps (
        id       TEXT PRIMARY KEY,
        space_id TEXT NOT NULL,
        name     TEXT NOT NULL,
        UNIQUE (space_id, name)
    );
    CREATE TABLE cf_global_roles (
        user_id TEXT NOT NULL,
        role    TEXT NOT NULL,
        PRIMARY KEY (user_id, role)
    );
    CREATE TABLE cf_org_roles (
        user_id TEXT NOT NULL,
        org_id  TEXT NOT NULL,
        role    TEXT NOT NULL,
        PRIMARY KEY (user_id, org_id, role)
    );
    CREATE INDEX cf_org_roles_by_org ON cf_org_roles (org_id);
    CREATE TABLE cf_space_roles (
        user_id  TEXT NOT NULL,
        space_id TEXT NOT NULL,
        role     TEXT NOT NULL,
        PRIMARY KEY (user_id, space_id, role)
    );
    CREATE INDEX cf_space_roles_by_space ON cf_space_roles (space_id);
    CREATE TABLE cf_retired_ids (
        kind TEXT NOT NULL,
        id   TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    );
    ",
)];

/// The schema version this release writes.
pub const POSTGRES_DIRECTORY_VERSION: i32 = 1;

/// Serializes the directory's migrations across instances starting at
/// once.
const MIGRATION_LOCK: i64 = 0x7265_6763_6366_6469; // "regccfdi"

/// An [`AsyncDirectoryWriter`] in tables of the PostgreSQL database of a
/// `registry_credentials_sql::PostgresStore`, over the store's pool: every
/// service instance with a store over that database sees the same
/// organizations, spaces, apps and roles.
///
/// Names are unique where cf wants them (the tables' `UNIQUE`
/// constraints, which also settle two instances adding one name at once),
/// and removed ids are recorded so they are never used again (R13). Each
/// change is one transaction. The tables carry their own schema version
/// ([`POSTGRES_DIRECTORY_VERSION`]); [`connect`](Self::connect) creates or
/// migrates them, under an advisory lock, and refuses a newer version.
#[derive(Clone)]
pub struct PostgresDirectory {
    pool: Pool,
}

impl fmt::Debug for PostgresDirectory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresDirectory").finish_non_exhaustive()
    }
}

fn backend(e: tokio_postgres::Error) -> DirectoryError {
    let retryable = match e.code() {
        Some(state) => {
            let code = state.code();
            code.starts_with("08") || code.starts_with("53") || matches!(code, "40001" | "40P01")
        }
        None => e.is_closed() || e.source().is_some_and(|s| s.is::<std::io::Error>()),
    };
    DirectoryError::Backend {
        retryable,
        source: Arc::new(e),
    }
}

fn pool_backend(e: PoolError) -> DirectoryError {
    match e {
        PoolError::Backend(e) => backend(e),
        other => DirectoryError::Backend {
            retryable: matches!(other, PoolError::Timeout(_)),
            source: Arc::new(other),
        },
    }
}

fn corrupt(what: impl Into<String>) -> DirectoryError {
    DirectoryError::Corrupt { what: what.into() }
}

fn name_of(text: &str) -> Result<Name, DirectoryError> {
    Name::new(text).map_err(|e| corrupt(format!("the name `{}` ({e})", text.escape_debug())))
}

fn id_of<'a, T>(
    text: &'a str,
    make: impl FnOnce(&'a str) -> Result<T, IdError>,
) -> Result<T, DirectoryError> {
    make(text).map_err(|e| corrupt(format!("the id `{}` ({e})", text.escape_debug())))
}

fn role_of<T: std::str::FromStr>(text: &str) -> Result<T, DirectoryError> {
    text.parse()
        .map_err(|_| corrupt(format!("the role `{}`", text.escape_debug())))
}

/// A unique violation of an insert: another instance added the same id or
/// name between this one's check and its insert.
fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

impl PostgresDirectory {
    /// The directory in the database of `store`, over its pool; its tables
    /// are created, or migrated, when they are missing or older.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Corrupt`] when the tables are newer than this
    /// release, [`DirectoryError::Backend`] when the database fails.
    pub async fn connect(store: &PostgresStore) -> Result<Self, DirectoryError> {
        let dir = PostgresDirectory {
            pool: store.pool().clone(),
        };
        dir.migrate().await?;
        Ok(dir)
    }

    async fn client(&self) -> Result<Object, DirectoryError> {
        self.pool.get().await.map_err(pool_backend)
    }

    async fn migrate(&self) -> Result<(), DirectoryError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(backend)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS registry_credentials_cf_schema (version INTEGER NOT NULL)",
        )
        .await
        .map_err(backend)?;
        let found: i32 = tx
            .query_opt("SELECT version FROM registry_credentials_cf_schema", &[])
            .await
            .map_err(backend)?
            .map_or(0, |r| r.get(0));
        if found > POSTGRES_DIRECTORY_VERSION {
            return Err(corrupt(format!(
                "the tables have schema version {found}, newer than the {POSTGRES_DIRECTORY_VERSION} this release knows; upgrade registry-credentials-cf"
            )));
        }
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
            tx.batch_execute(sql).await.map_err(backend)?;
            tx.execute("DELETE FROM registry_credentials_cf_schema", &[])
                .await
                .map_err(backend)?;
            tx.execute(
                "INSERT INTO registry_credentials_cf_schema (version) VALUES ($1)",
                &[version],
            )
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }
}

async fn one_string(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Option<String>, DirectoryError> {
    Ok(c.query_opt(sql, params)
        .await
        .map_err(backend)?
        .map(|r| r.get(0)))
}

async fn exists(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<bool, DirectoryError> {
    Ok(c.query_one(sql, params).await.map_err(backend)?.get(0))
}

async fn id_free(
    c: &impl GenericClient,
    what: Entity,
    table: &str,
    id: &str,
) -> Result<(), DirectoryError> {
    let used = exists(
        c,
        &format!(
            "SELECT EXISTS (SELECT 1 FROM {table} WHERE id = $1) \
             OR EXISTS (SELECT 1 FROM cf_retired_ids WHERE kind = $2 AND id = $1)"
        ),
        &[&id, &what.as_str()],
    )
    .await?;
    if used {
        return Err(DirectoryError::IdTaken {
            what,
            id: id.to_owned(),
        });
    }
    Ok(())
}

/// Inserts a row whose id and name were found free; a unique violation is
/// another instance's insert in between: `taken` says which error.
async fn insert(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    taken: impl FnOnce() -> DirectoryError,
) -> Result<(), DirectoryError> {
    match c.execute(sql, params).await {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(taken()),
        Err(e) => Err(backend(e)),
    }
}

/// A kind of row that lives inside a parent row (a space in an
/// organization, an app in a space): its table, its parent's, and the
/// words its errors use.
struct Child {
    what: Entity,
    table: &'static str,
    parent: Entity,
    parent_table: &'static str,
    parent_column: &'static str,
    parent_word: &'static str,
}

const SPACE_IN_ORG: Child = Child {
    what: Entity::Space,
    table: "cf_spaces",
    parent: Entity::Org,
    parent_table: "cf_orgs",
    parent_column: "org_id",
    parent_word: "organization",
};

const APP_IN_SPACE: Child = Child {
    what: Entity::App,
    table: "cf_apps",
    parent: Entity::Space,
    parent_table: "cf_spaces",
    parent_column: "space_id",
    parent_word: "space",
};

impl PostgresDirectory {
    /// Adds a child row in one transaction: its parent must exist, its id
    /// must never have been used (R13), and its name must be free in the
    /// parent (checked, and held by the unique index against another
    /// instance's insert in between).
    async fn add_child(
        &self,
        kind: &Child,
        id: &str,
        parent: &str,
        name: Name,
    ) -> Result<(), DirectoryError> {
        let mut client = self.client().await?;
        let owned = client.transaction().await.map_err(backend)?;
        let tx = &owned;
        let parent_name = one_string(
            tx,
            &format!("SELECT name FROM {} WHERE id = $1", kind.parent_table),
            &[&parent],
        )
        .await?
        .ok_or_else(|| unknown(kind.parent, &parent))?;
        id_free(tx, kind.what, kind.table, id).await?;
        let taken = || DirectoryError::NameTaken {
            what: kind.what,
            where_: format!(" in {} `{parent_name}`", kind.parent_word),
            name: name.clone(),
        };
        let held = one_string(
            tx,
            &format!(
                "SELECT id FROM {} WHERE {} = $1 AND name = $2",
                kind.table, kind.parent_column
            ),
            &[&parent, &name.as_str()],
        )
        .await?;
        if held.is_some() {
            return Err(taken());
        }
        insert(
            tx,
            &format!(
                "INSERT INTO {} (id, {}, name) VALUES ($1, $2, $3)",
                kind.table, kind.parent_column
            ),
            &[&id, &parent, &name.as_str()],
            taken,
        )
        .await?;
        owned.commit().await.map_err(backend)
    }
}

async fn remove_space_rows(c: &impl GenericClient, space: &str) -> Result<(), DirectoryError> {
    for sql in [
        "INSERT INTO cf_retired_ids (kind, id) SELECT 'app', id FROM cf_apps WHERE space_id = $1 ON CONFLICT DO NOTHING",
        "DELETE FROM cf_apps WHERE space_id = $1",
        "DELETE FROM cf_space_roles WHERE space_id = $1",
        "DELETE FROM cf_spaces WHERE id = $1",
        "INSERT INTO cf_retired_ids (kind, id) VALUES ('space', $1) ON CONFLICT DO NOTHING",
    ] {
        c.execute(sql, &[&space]).await.map_err(backend)?;
    }
    Ok(())
}

impl AsyncDirectoryReader for PostgresDirectory {
    fn roles<'a>(&'a self, user: &'a UserId) -> BoxFuture<'a, Result<Roles, DirectoryError>> {
        Box::pin(async move {
            let c = self.client().await?;
            let u = user.as_str();
            let mut roles = Roles::new();
            for r in c
                .query("SELECT role FROM cf_global_roles WHERE user_id = $1", &[&u])
                .await
                .map_err(backend)?
            {
                roles.grant_global(role_of::<GlobalRole>(r.get(0))?);
            }
            for r in c
                .query(
                    "SELECT org_id, role FROM cf_org_roles WHERE user_id = $1",
                    &[&u],
                )
                .await
                .map_err(backend)?
            {
                roles.grant_org(id_of(r.get(0), OrgId::new)?, role_of::<OrgRole>(r.get(1))?);
            }
            for r in c
                .query(
                    "SELECT s.org_id, r.space_id, r.role FROM cf_space_roles r \
                     JOIN cf_spaces s ON s.id = r.space_id WHERE r.user_id = $1",
                    &[&u],
                )
                .await
                .map_err(backend)?
            {
                roles.grant_space(
                    id_of(r.get(0), OrgId::new)?,
                    id_of(r.get(1), SpaceId::new)?,
                    role_of::<SpaceRole>(r.get(2))?,
                );
            }
            Ok(roles)
        })
    }

    fn org_by_name<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<OrgId>, DirectoryError>> {
        Box::pin(async move {
            let c = self.client().await?;
            one_string(&c, "SELECT id FROM cf_orgs WHERE name = $1", &[&name])
                .await?
                .map(|i| id_of(&i, OrgId::new))
                .transpose()
        })
    }

    fn space_by_name<'a>(
        &'a self,
        org: &'a OrgId,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<SpaceId>, DirectoryError>> {
        Box::pin(async move {
            let c = self.client().await?;
            one_string(
                &c,
                "SELECT id FROM cf_spaces WHERE org_id = $1 AND name = $2",
                &[&org.as_str(), &name],
            )
            .await?
            .map(|i| id_of(&i, SpaceId::new))
            .transpose()
        })
    }

    fn app_by_name<'a>(
        &'a self,
        space: &'a SpaceId,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<AppId>, DirectoryError>> {
        Box::pin(async move {
            let c = self.client().await?;
            one_string(
                &c,
                "SELECT id FROM cf_apps WHERE space_id = $1 AND name = $2",
                &[&space.as_str(), &name],
            )
            .await?
            .map(|i| id_of(&i, AppId::new))
            .transpose()
        })
    }

    fn org_name<'a>(
        &'a self,
        org: &'a OrgId,
    ) -> BoxFuture<'a, Result<Option<Name>, DirectoryError>> {
        Box::pin(async move {
            let c = self.client().await?;
            one_string(
                &c,
                "SELECT name FROM cf_orgs WHERE id = $1",
                &[&org.as_str()],
            )
            .await?
            .map(|n| name_of(&n))
            .transpose()
        })
    }

    fn space<'a>(
        &'a self,
        space: &'a SpaceId,
    ) -> BoxFuture<'a, Result<Option<(OrgId, Name)>, DirectoryError>> {
        Box::pin(async move {
            let c = self.client().await?;
            c.query_opt(
                "SELECT org_id, name FROM cf_spaces WHERE id = $1",
                &[&space.as_str()],
            )
            .await
            .map_err(backend)?
            .map(|r| Ok((id_of(r.get(0), OrgId::new)?, name_of(r.get(1))?)))
            .transpose()
        })
    }

    fn app<'a>(
        &'a self,
        app: &'a AppId,
    ) -> BoxFuture<'a, Result<Option<(App, Name)>, DirectoryError>> {
        Box::pin(async move {
            let c = self.client().await?;
            c.query_opt(
                "SELECT s.org_id, a.space_id, a.name FROM cf_apps a \
                 JOIN cf_spaces s ON s.id = a.space_id WHERE a.id = $1",
                &[&app.as_str()],
            )
            .await
            .map_err(backend)?
            .map(|r| {
                Ok((
                    App::from_ids(
                        id_of(r.get(0), OrgId::new)?,
                        id_of(r.get(1), SpaceId::new)?,
                        app.clone(),
                    ),
                    name_of(r.get(2))?,
                ))
            })
            .transpose()
        })
    }

    fn apps_in<'a>(
        &'a self,
        space: &'a SpaceId,
    ) -> BoxFuture<'a, Result<Vec<(App, Name)>, DirectoryError>> {
        Box::pin(async move {
            let c = self.client().await?;
            c.query(
                "SELECT s.org_id, a.id, a.name FROM cf_apps a \
                 JOIN cf_spaces s ON s.id = a.space_id WHERE a.space_id = $1 \
                 ORDER BY a.name COLLATE \"C\"",
                &[&space.as_str()],
            )
            .await
            .map_err(backend)?
            .iter()
            .map(|r| {
                Ok((
                    App::from_ids(
                        id_of(r.get(0), OrgId::new)?,
                        space.clone(),
                        id_of(r.get(1), AppId::new)?,
                    ),
                    name_of(r.get(2))?,
                ))
            })
            .collect()
        })
    }

    fn spaces_in<'a>(
        &'a self,
        org: &'a OrgId,
    ) -> BoxFuture<'a, Result<Vec<(SpaceId, Name)>, DirectoryError>> {
        Box::pin(async move {
            let c = self.client().await?;
            c.query(
                "SELECT id, name FROM cf_spaces WHERE org_id = $1 ORDER BY name COLLATE \"C\"",
                &[&org.as_str()],
            )
            .await
            .map_err(backend)?
            .iter()
            .map(|r| Ok((id_of(r.get(0), SpaceId::new)?, name_of(r.get(1))?)))
            .collect()
        })
    }
}

impl AsyncDirectoryWriter for PostgresDirectory {
    fn add_org(&self, id: OrgId, name: Name) -> BoxFuture<'_, Result<(), DirectoryError>> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let owned = client.transaction().await.map_err(backend)?;
            let tx = &owned;
            async {
                id_free(tx, Entity::Org, "cf_orgs", id.as_str()).await?;
                let taken = || DirectoryError::NameTaken {
                    what: Entity::Org,
                    name: name.clone(),
                    where_: String::new(),
                };
                if one_string(
                    tx,
                    "SELECT id FROM cf_orgs WHERE name = $1",
                    &[&name.as_str()],
                )
                .await?
                .is_some()
                {
                    return Err(taken());
                }
                insert(
                    tx,
                    "INSERT INTO cf_orgs (id, name) VALUES ($1, $2)",
                    &[&id.as_str(), &name.as_str()],
                    taken,
                )
                .await
            }
            .await?;
            owned.commit().await.map_err(backend)
        })
    }

    fn add_space<'a>(
        &'a self,
        id: SpaceId,
        org: &'a OrgId,
        name: Name,
    ) -> BoxFuture<'a, Result<(), DirectoryError>> {
        Box::pin(async move {
            self.add_child(&SPACE_IN_ORG, id.as_str(), org.as_str(), name)
                .await
        })
    }

    fn add_app<'a>(
        &'a self,
        id: AppId,
        space: &'a SpaceId,
        name: Name,
    ) -> BoxFuture<'a, Result<(), DirectoryError>> {
        Box::pin(async move {
            self.add_child(&APP_IN_SPACE, id.as_str(), space.as_str(), name)
                .await
        })
    }

    fn remove_org<'a>(&'a self, org: &'a OrgId) -> BoxFuture<'a, Result<(), DirectoryError>> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let owned = client.transaction().await.map_err(backend)?;
            let tx = &owned;
            async {
                let o = org.as_str();
                let removed = tx
                    .execute("DELETE FROM cf_orgs WHERE id = $1", &[&o])
                    .await
                    .map_err(backend)?;
                if removed == 0 {
                    return Err(unknown(Entity::Org, org));
                }
                for r in tx
                    .query("SELECT id FROM cf_spaces WHERE org_id = $1", &[&o])
                    .await
                    .map_err(backend)?
                {
                    remove_space_rows(tx, r.get(0)).await?;
                }
                tx.execute("DELETE FROM cf_org_roles WHERE org_id = $1", &[&o])
                    .await
                    .map_err(backend)?;
                tx.execute(
                    "INSERT INTO cf_retired_ids (kind, id) VALUES ('organization', $1) ON CONFLICT DO NOTHING",
                    &[&o],
                )
                .await
                .map_err(backend)?;
                Ok::<(), DirectoryError>(())
            }
            .await?;
            owned.commit().await.map_err(backend)
        })
    }

    fn remove_space<'a>(&'a self, space: &'a SpaceId) -> BoxFuture<'a, Result<(), DirectoryError>> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let owned = client.transaction().await.map_err(backend)?;
            let tx = &owned;
            async {
                let found = exists(
                    tx,
                    "SELECT EXISTS (SELECT 1 FROM cf_spaces WHERE id = $1)",
                    &[&space.as_str()],
                )
                .await?;
                if !found {
                    return Err(unknown(Entity::Space, space));
                }
                remove_space_rows(tx, space.as_str()).await
            }
            .await?;
            owned.commit().await.map_err(backend)
        })
    }

    fn remove_app<'a>(&'a self, app: &'a AppId) -> BoxFuture<'a, Result<(), DirectoryError>> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let owned = client.transaction().await.map_err(backend)?;
            let tx = &owned;
            async {
                let removed = tx
                    .execute("DELETE FROM cf_apps WHERE id = $1", &[&app.as_str()])
                    .await
                    .map_err(backend)?;
                if removed == 0 {
                    return Err(unknown(Entity::App, app));
                }
                tx.execute(
                    "INSERT INTO cf_retired_ids (kind, id) VALUES ('app', $1) ON CONFLICT DO NOTHING",
                    &[&app.as_str()],
                )
                .await
                .map_err(backend)?;
                Ok::<(), DirectoryError>(())
            }
            .await?;
            owned.commit().await.map_err(backend)
        })
    }

    fn grant_global(
        &self,
        user: UserId,
        role: GlobalRole,
    ) -> BoxFuture<'_, Result<(), DirectoryError>> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let owned = client.transaction().await.map_err(backend)?;
            let tx = &owned;
            async {
                tx.execute(
                    "INSERT INTO cf_global_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&user.as_str(), &role.as_str()],
                )
                .await
                .map_err(backend)?;
                Ok::<(), DirectoryError>(())
            }
            .await?;
            owned.commit().await.map_err(backend)
        })
    }

    fn grant_org<'a>(
        &'a self,
        user: UserId,
        org: &'a OrgId,
        role: OrgRole,
    ) -> BoxFuture<'a, Result<(), DirectoryError>> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let owned = client.transaction().await.map_err(backend)?;
            let tx = &owned;
            async {
                // `FOR SHARE` keeps the organization until this commits, so
                // no role outlives a removal running at the same time.
                let found = tx
                    .query_opt(
                        "SELECT 1 FROM cf_orgs WHERE id = $1 FOR SHARE",
                        &[&org.as_str()],
                    )
                    .await
                    .map_err(backend)?
                    .is_some();
                if !found {
                    return Err(unknown(Entity::Org, org));
                }
                tx.execute(
                    "INSERT INTO cf_org_roles (user_id, org_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    &[&user.as_str(), &org.as_str(), &role.as_str()],
                )
                .await
                .map_err(backend)?;
                Ok::<(), DirectoryError>(())
            }
            .await?;
            owned.commit().await.map_err(backend)
        })
    }

    fn grant_space<'a>(
        &'a self,
        user: UserId,
        space: &'a SpaceId,
        role: SpaceRole,
    ) -> BoxFuture<'a, Result<(), DirectoryError>> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let owned = client.transaction().await.map_err(backend)?;
            let tx = &owned;
            async {
                let org = one_string(
                    tx,
                    "SELECT org_id FROM cf_spaces WHERE id = $1 FOR SHARE",
                    &[&space.as_str()],
                )
                .await?
                .ok_or_else(|| unknown(Entity::Space, space))?;
                tx.execute(
                    "INSERT INTO cf_space_roles (user_id, space_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    &[&user.as_str(), &space.as_str(), &role.as_str()],
                )
                .await
                .map_err(backend)?;
                // A role in a space makes its holder an Org User (R21).
                tx.execute(
                    "INSERT INTO cf_org_roles (user_id, org_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    &[&user.as_str(), &org, &OrgRole::User.as_str()],
                )
                .await
                .map_err(backend)?;
                Ok::<(), DirectoryError>(())
            }
            .await?;
            owned.commit().await.map_err(backend)
        })
    }
}
