//! [`PostgresDirectory`]: the directory in tables of a `PostgresStore`'s
//! database, shared by every service instance.

use std::fmt;
use std::future::Future;
use std::ops::DerefMut;
use std::sync::Arc;

use deadpool_postgres::{GenericClient, Object, Pool, PoolError, Transaction};
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use registry_credentials::scope::{AppId, OrgId, SpaceId, UserId};
use registry_credentials::store::{BoxFuture, StoreError};
use registry_credentials::{App, Reference, RegistryCredential, Scope};
use registry_credentials_sql::{
    PostgresStore, PostgresTransaction, TransactionClient, postgres_error,
};

use super::{
    AsyncDirectoryReader, AsyncDirectoryWriter, DirectoryError, Entity, Name, corrupt, id_of,
    id_taken, image_of, name_of, name_taken, role_of, unknown,
};
use crate::access::{GlobalRole, OrgRole, Roles, SpaceRole};
use crate::manage::{AsyncRemoval, Entry, ManageError, remove_in_order};
use registry_credentials::store::audit::Actor;

/// The directory's schema changes, in order: (version after it, SQL). Its
/// version is kept in a table of its own, apart from the credential
/// store's, so each side migrates on its own.
const MIGRATIONS: &[(i32, &str)] = &[(1, directory_tables!("")), (2, directory_images!())];

/// The schema version this release writes.
pub const POSTGRES_DIRECTORY_VERSION: i32 = 2;

/// Serializes the directory's migrations across instances starting at
/// once.
const MIGRATION_LOCK: i64 = 0x7265_6763_6366_6469; // "regccfdi"

/// An [`AsyncDirectoryWriter`] in tables of the PostgreSQL database of a
/// `registry_credentials_sql::PostgresStore`: every service instance with
/// a store over that database sees the same organizations, spaces, apps
/// and roles.
///
/// [`connect`](Self::connect) makes one over the store's pool, where each
/// change is one transaction of its own;
/// [`in_transaction`](Self::in_transaction) makes one over a
/// [`PostgresTransaction`] of the store, whose changes commit or roll back
/// with that transaction's credentials. Over a `PostgresStore`, an
/// [`AsyncManager`](crate::manage::AsyncManager)'s deletions
/// ([`AsyncRemoval`]) remove an entry and its credentials in one
/// transaction: a crash part-way leaves both, and no reader sees one gone
/// without the other.
///
/// Names are unique where cf wants them (the tables' `UNIQUE`
/// constraints, which also settle two instances adding one name at once),
/// and removed ids are recorded so they are never used again (R13). The
/// tables carry their own schema version ([`POSTGRES_DIRECTORY_VERSION`]);
/// `connect` creates or migrates them, under an advisory lock, and
/// refuses a newer version.
#[derive(Clone)]
pub struct PostgresDirectory<C = Pool> {
    on: C,
}

impl<C> fmt::Debug for PostgresDirectory<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresDirectory").finish_non_exhaustive()
    }
}

/// A PostgreSQL error as the directory's, retryable as the store's
/// would be.
fn backend(e: tokio_postgres::Error) -> DirectoryError {
    postgres_error(e).into()
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
            on: store.pool().clone(),
        };
        dir.migrate().await?;
        Ok(dir)
    }

    /// The same directory inside `tx`, an open transaction of a
    /// `PostgresStore` over this directory's database: its look-ups see the
    /// transaction's writes, and its changes commit or roll back with the
    /// transaction, together with the credentials changed through `tx`.
    /// (Each change runs under a savepoint of its own, so a refused one,
    /// a name already taken, leaves the transaction usable.)
    ///
    /// ```no_run
    /// use registry_credentials::scope::OrgId;
    /// use registry_credentials::store::{AsyncCredentialStore, StoreError};
    /// use registry_credentials::{Credential, RegistryCredential, Scope};
    /// use registry_credentials_cf::directory::{AsyncDirectoryWriter, DirectoryError, Name, PostgresDirectory};
    /// use registry_credentials_sql::{EncryptionKey, Keyring, PostgresStore};
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let keyring = Keyring::new(EncryptionKey::new("k", [7; 32])?);
    /// let store = PostgresStore::connect("postgresql://app@db/platform", keyring).await?;
    /// let directory = PostgresDirectory::connect(&store).await?;
    /// let org = OrgId::new("org-1")?;
    /// // The organization and its first credential, together or not at all.
    /// store
    ///     .transaction(async |tx| {
    ///         let d = directory.in_transaction(tx);
    ///         d.add_org(org.clone(), Name::new("myorg").unwrap()).await?;
    ///         tx.create(RegistryCredential::new(
    ///             Scope::Org(org.clone()),
    ///             "registry.example.com".parse().unwrap(),
    ///             Credential::new("u", "p").unwrap(),
    ///         ))
    ///         .await?;
    ///         Ok::<_, DirectoryError>(())
    ///     })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn in_transaction<'a, 't>(
        &self,
        tx: &'a PostgresTransaction<'t>,
    ) -> PostgresDirectory<&'a PostgresTransaction<'t>> {
        PostgresDirectory { on: tx }
    }

    async fn migrate(&self) -> Result<(), DirectoryError> {
        let mut client = self.on.get().await.map_err(pool_backend)?;
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

mod connections {
    use super::*;

    /// Where a [`PostgresDirectory`]'s statements run: a connection of the
    /// store's pool for each call, or the open transaction of a
    /// [`PostgresTransaction`]. A change opens a transaction of the
    /// connection's own ([`GenericClient::transaction`]): on the pool a
    /// transaction that commits alone, in the open transaction a savepoint.
    /// Implemented for [`Pool`] and `&PostgresTransaction` alone.
    pub trait Connections: Send + Sync {
        /// The connection one call runs on.
        type Conn: DerefMut<Target: GenericClient + Sized> + Send;

        /// A connection for one call.
        fn conn(&self) -> impl Future<Output = Result<Self::Conn, DirectoryError>> + Send + '_;
    }

    /// A connection of the pool, for one call, boxed: the box lends the
    /// pool's `Object` itself, the client the statements run on (the
    /// `Object` derefs to the driver's client wrapper instead). One
    /// allocation per call, next to its round trip to the server.
    impl Connections for Pool {
        type Conn = Box<Object>;

        async fn conn(&self) -> Result<Box<Object>, DirectoryError> {
            Ok(Box::new(self.get().await.map_err(pool_backend)?))
        }
    }

    impl<'a, 't> Connections for &'a PostgresTransaction<'t> {
        type Conn = TransactionClient<'a, 't>;

        async fn conn(&self) -> Result<TransactionClient<'a, 't>, DirectoryError> {
            Ok(self.client().await)
        }
    }
}
use connections::Connections;

/// Query parameters.
type Params<'p> = [&'p (dyn ToSql + Sync)];

async fn one_string(
    c: &impl GenericClient,
    sql: &str,
    params: &Params<'_>,
) -> Result<Option<String>, DirectoryError> {
    Ok(c.query_opt(sql, params)
        .await
        .map_err(backend)?
        .map(|r| r.get(0)))
}

async fn exists(
    c: &impl GenericClient,
    sql: &str,
    params: &Params<'_>,
) -> Result<bool, DirectoryError> {
    Ok(c.query_one(sql, params).await.map_err(backend)?.get(0))
}

/// A table of entries (organizations, spaces or apps) and the statements
/// that find and add one.
struct Table {
    what: Entity,
    table: &'static str,
    /// The id of the entry called `$last`, in the parent `$1` for a
    /// child: the parameters of `insert` without the id.
    by_name: &'static str,
    /// Adds an entry: its id, its parent's for a child, its name.
    insert: &'static str,
}

const ORGS: Table = Table {
    what: Entity::Org,
    table: "cf_orgs",
    by_name: "SELECT id FROM cf_orgs WHERE name = $1",
    insert: "INSERT INTO cf_orgs (id, name) VALUES ($1, $2)",
};

const SPACES: Table = Table {
    what: Entity::Space,
    table: "cf_spaces",
    by_name: "SELECT id FROM cf_spaces WHERE org_id = $1 AND name = $2",
    insert: "INSERT INTO cf_spaces (id, org_id, name) VALUES ($1, $2, $3)",
};

const APPS: Table = Table {
    what: Entity::App,
    table: "cf_apps",
    by_name: "SELECT id FROM cf_apps WHERE space_id = $1 AND name = $2",
    insert: "INSERT INTO cf_apps (id, space_id, name) VALUES ($1, $2, $3)",
};

/// A kind of entry that lives inside a parent entry (a space in an
/// organization, an app in a space).
struct Child {
    table: Table,
    parent: Entity,
    /// The parent's name, its row held (`FOR SHARE`) until the change
    /// commits, so that no child outlives a removal of its parent running
    /// at the same time (the removal waits, then takes the child along).
    parent_name: &'static str,
}

const SPACE_IN_ORG: Child = Child {
    table: SPACES,
    parent: Entity::Org,
    parent_name: "SELECT name FROM cf_orgs WHERE id = $1 FOR SHARE",
};

const APP_IN_SPACE: Child = Child {
    table: APPS,
    parent: Entity::Space,
    parent_name: "SELECT name FROM cf_spaces WHERE id = $1 FOR SHARE",
};

impl Table {
    /// Adds the entry `id` (`rest`: its parent's id for a child, then its
    /// name): its id must never have been used (R13), and its name must be
    /// free (checked, and held by the unique index against another
    /// instance's insert in between). `where_` says where, for the error.
    async fn add(
        &self,
        c: &impl GenericClient,
        id: &str,
        rest: &Params<'_>,
        name: &Name,
        where_: String,
    ) -> Result<(), DirectoryError> {
        let used = exists(
            c,
            &format!(
                "SELECT EXISTS (SELECT 1 FROM {} WHERE id = $1) \
                 OR EXISTS (SELECT 1 FROM cf_retired_ids WHERE kind = $2 AND id = $1)",
                self.table
            ),
            &[&id, &self.what.as_str()],
        )
        .await?;
        if used {
            return Err(id_taken(self.what, &id));
        }
        let taken = || name_taken(self.what, name, where_);
        if one_string(c, self.by_name, rest).await?.is_some() {
            return Err(taken());
        }
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&id];
        params.extend_from_slice(rest);
        match c.execute(self.insert, &params).await {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(taken()),
            Err(e) => Err(backend(e)),
        }
    }
}

/// Runs each of `statements` with the one parameter `id`.
async fn run_all(
    c: &impl GenericClient,
    statements: &[&str],
    id: &str,
) -> Result<(), DirectoryError> {
    for sql in statements {
        c.execute(*sql, &[&id]).await.map_err(backend)?;
    }
    Ok(())
}

/// Deletes the row of `what` called `id` by `delete`, or says there is
/// none.
async fn delete_row(
    c: &impl GenericClient,
    delete: &str,
    what: Entity,
    id: &str,
) -> Result<(), DirectoryError> {
    match c.execute(delete, &[&id]).await.map_err(backend)? {
        0 => Err(unknown(what, &id)),
        _ => Ok(()),
    }
}

/// Removes a space, its apps and the roles in it, recording their ids as
/// removed; false when there is no such space. The space's row is locked
/// first (`FOR UPDATE`): an app being added to it at the same time holds
/// it (`FOR SHARE`), so it is either in before this reads the apps, and
/// removed with them, or refused after.
async fn remove_space_rows(c: &impl GenericClient, space: &str) -> Result<bool, DirectoryError> {
    let found = c
        .query_opt(
            "SELECT 1 FROM cf_spaces WHERE id = $1 FOR UPDATE",
            &[&space],
        )
        .await
        .map_err(backend)?;
    if found.is_none() {
        return Ok(false);
    }
    run_all(
        c,
        &[
            "INSERT INTO cf_retired_ids (kind, id) SELECT 'app', id FROM cf_apps WHERE space_id = $1 ON CONFLICT DO NOTHING",
            "DELETE FROM cf_apps WHERE space_id = $1",
            "DELETE FROM cf_space_roles WHERE space_id = $1",
            "DELETE FROM cf_spaces WHERE id = $1",
            "INSERT INTO cf_retired_ids (kind, id) VALUES ('space', $1) ON CONFLICT DO NOTHING",
        ],
        space,
    )
    .await?;
    Ok(true)
}

impl<C: Connections> PostgresDirectory<C> {
    /// Runs `f` as one change, committed when it returns `Ok`: over the
    /// pool a transaction of its own, inside an open transaction a
    /// savepoint.
    async fn change<T>(
        &self,
        f: impl AsyncFnOnce(&Transaction<'_>) -> Result<T, DirectoryError>,
    ) -> Result<T, DirectoryError> {
        let mut c = self.on.conn().await?;
        let tx = c.transaction().await.map_err(backend)?;
        let out = f(&tx).await?;
        tx.commit().await.map_err(backend)?;
        Ok(out)
    }

    /// The first column of the row `sql` finds, read by `read` (as an id or
    /// a name), if it finds one.
    async fn one<T>(
        &self,
        sql: &str,
        params: &Params<'_>,
        read: impl FnOnce(&str) -> Result<T, DirectoryError>,
    ) -> Result<Option<T>, DirectoryError> {
        self.row(sql, params, |r| read(r.get(0))).await
    }

    /// The row `sql` finds, read by `read`, if it finds one.
    async fn row<T>(
        &self,
        sql: &str,
        params: &Params<'_>,
        read: impl FnOnce(&Row) -> Result<T, DirectoryError>,
    ) -> Result<Option<T>, DirectoryError> {
        let c = self.on.conn().await?;
        let found = c.query_opt(sql, params).await.map_err(backend)?;
        found.as_ref().map(read).transpose()
    }

    /// Every row `sql` finds, each read by `read`.
    async fn rows<T>(
        &self,
        sql: &str,
        params: &Params<'_>,
        read: impl FnMut(&Row) -> Result<T, DirectoryError>,
    ) -> Result<Vec<T>, DirectoryError> {
        let c = self.on.conn().await?;
        let found = c.query(sql, params).await.map_err(backend)?;
        found.iter().map(read).collect()
    }

    /// Adds a child entry in one change: its parent must exist (and is
    /// held until the change commits), then as [`Table::add`].
    async fn add_child(
        &self,
        kind: &Child,
        id: &str,
        parent: &str,
        name: Name,
    ) -> Result<(), DirectoryError> {
        self.change(async |tx| {
            let parent_name = one_string(tx, kind.parent_name, &[&parent])
                .await?
                .ok_or_else(|| unknown(kind.parent, &parent))?;
            let where_ = format!(" in {} `{parent_name}`", kind.parent);
            kind.table
                .add(tx, id, &[&parent, &name.as_str()], &name, where_)
                .await
        })
        .await
    }
}

impl<C: Connections> AsyncDirectoryReader for PostgresDirectory<C> {
    fn roles<'a>(&'a self, user: &'a UserId) -> BoxFuture<'a, Result<Roles, DirectoryError>> {
        Box::pin(async move {
            let c = self.on.conn().await?;
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
            self.one(ORGS.by_name, &[&name], |i| id_of(i, OrgId::new))
                .await
        })
    }

    fn space_by_name<'a>(
        &'a self,
        org: &'a OrgId,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<SpaceId>, DirectoryError>> {
        Box::pin(async move {
            self.one(SPACES.by_name, &[&org.as_str(), &name], |i| {
                id_of(i, SpaceId::new)
            })
            .await
        })
    }

    fn app_by_name<'a>(
        &'a self,
        space: &'a SpaceId,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<AppId>, DirectoryError>> {
        Box::pin(async move {
            self.one(APPS.by_name, &[&space.as_str(), &name], |i| {
                id_of(i, AppId::new)
            })
            .await
        })
    }

    fn org_name<'a>(
        &'a self,
        org: &'a OrgId,
    ) -> BoxFuture<'a, Result<Option<Name>, DirectoryError>> {
        Box::pin(async move {
            self.one(
                "SELECT name FROM cf_orgs WHERE id = $1",
                &[&org.as_str()],
                name_of,
            )
            .await
        })
    }

    fn space<'a>(
        &'a self,
        space: &'a SpaceId,
    ) -> BoxFuture<'a, Result<Option<(OrgId, Name)>, DirectoryError>> {
        Box::pin(async move {
            self.row(
                "SELECT org_id, name FROM cf_spaces WHERE id = $1",
                &[&space.as_str()],
                |r| Ok((id_of(r.get(0), OrgId::new)?, name_of(r.get(1))?)),
            )
            .await
        })
    }

    fn app<'a>(
        &'a self,
        app: &'a AppId,
    ) -> BoxFuture<'a, Result<Option<(App, Name)>, DirectoryError>> {
        Box::pin(async move {
            self.row(
                "SELECT s.org_id, a.space_id, a.name FROM cf_apps a \
                 JOIN cf_spaces s ON s.id = a.space_id WHERE a.id = $1",
                &[&app.as_str()],
                |r| {
                    Ok((
                        App::from_ids(
                            id_of(r.get(0), OrgId::new)?,
                            id_of(r.get(1), SpaceId::new)?,
                            app.clone(),
                        ),
                        name_of(r.get(2))?,
                    ))
                },
            )
            .await
        })
    }

    fn apps_in<'a>(
        &'a self,
        space: &'a SpaceId,
    ) -> BoxFuture<'a, Result<Vec<(App, Name)>, DirectoryError>> {
        Box::pin(async move {
            self.rows(
                "SELECT s.org_id, a.id, a.name FROM cf_apps a \
                 JOIN cf_spaces s ON s.id = a.space_id WHERE a.space_id = $1 \
                 ORDER BY a.name COLLATE \"C\"",
                &[&space.as_str()],
                |r| {
                    Ok((
                        App::from_ids(
                            id_of(r.get(0), OrgId::new)?,
                            space.clone(),
                            id_of(r.get(1), AppId::new)?,
                        ),
                        name_of(r.get(2))?,
                    ))
                },
            )
            .await
        })
    }

    fn spaces_in<'a>(
        &'a self,
        org: &'a OrgId,
    ) -> BoxFuture<'a, Result<Vec<(SpaceId, Name)>, DirectoryError>> {
        Box::pin(async move {
            self.rows(
                "SELECT id, name FROM cf_spaces WHERE org_id = $1 ORDER BY name COLLATE \"C\"",
                &[&org.as_str()],
                |r| Ok((id_of(r.get(0), SpaceId::new)?, name_of(r.get(1))?)),
            )
            .await
        })
    }

    fn app_images<'a>(
        &'a self,
        within: &'a Scope,
    ) -> BoxFuture<'a, Result<Vec<(App, Name, Reference)>, DirectoryError>> {
        Box::pin(async move {
            let (filter, id) = match within {
                Scope::Foundation => ("", None),
                Scope::Org(org) => (" AND s.org_id = $1", Some(org.as_str())),
                Scope::Space(space) => (" AND a.space_id = $1", Some(space.as_str())),
                Scope::App(app) => (" AND a.id = $1", Some(app.as_str())),
            };
            let sql = format!(
                "SELECT s.org_id, a.space_id, a.id, a.name, a.image FROM cf_apps a \
                 JOIN cf_spaces s ON s.id = a.space_id WHERE a.image IS NOT NULL{filter} \
                 ORDER BY a.id COLLATE \"C\""
            );
            let params: Vec<&(dyn ToSql + Sync)> = match &id {
                Some(id) => vec![id],
                None => Vec::new(),
            };
            self.rows(&sql, &params, |r| {
                let app = App::from_ids(
                    id_of(r.get(0), OrgId::new)?,
                    id_of(r.get(1), SpaceId::new)?,
                    id_of(r.get(2), AppId::new)?,
                );
                Ok((app, name_of(r.get(3))?, image_of(r.get(4))?))
            })
            .await
        })
    }
}

impl<C: Connections> AsyncDirectoryWriter for PostgresDirectory<C> {
    fn add_org(&self, id: OrgId, name: Name) -> BoxFuture<'_, Result<(), DirectoryError>> {
        Box::pin(async move {
            self.change(async |tx| {
                ORGS.add(tx, id.as_str(), &[&name.as_str()], &name, String::new())
                    .await
            })
            .await
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

    fn set_app_image<'a>(
        &'a self,
        app: &'a AppId,
        image: &'a Reference,
    ) -> BoxFuture<'a, Result<(), DirectoryError>> {
        Box::pin(async move {
            self.change(async |tx| {
                let set = tx
                    .execute(
                        "UPDATE cf_apps SET image = $2 WHERE id = $1",
                        &[&app.as_str(), &image.as_str()],
                    )
                    .await
                    .map_err(backend)?;
                match set {
                    0 => Err(unknown(Entity::App, app)),
                    _ => Ok(()),
                }
            })
            .await
        })
    }

    /// Deleting the organization's row locks it first: a space being added
    /// to it at the same time (which holds it `FOR SHARE`) is either in
    /// before this reads the spaces, and removed with them, or refused.
    fn remove_org<'a>(&'a self, org: &'a OrgId) -> BoxFuture<'a, Result<(), DirectoryError>> {
        Box::pin(async move {
            self.change(async |tx| {
                let o = org.as_str();
                delete_row(tx, "DELETE FROM cf_orgs WHERE id = $1", Entity::Org, o).await?;
                for r in tx
                    .query("SELECT id FROM cf_spaces WHERE org_id = $1", &[&o])
                    .await
                    .map_err(backend)?
                {
                    remove_space_rows(tx, r.get(0)).await?;
                }
                run_all(
                    tx,
                    &[
                        "DELETE FROM cf_org_roles WHERE org_id = $1",
                        "INSERT INTO cf_retired_ids (kind, id) VALUES ('organization', $1) ON CONFLICT DO NOTHING",
                    ],
                    o,
                )
                .await
            })
            .await
        })
    }

    fn remove_space<'a>(&'a self, space: &'a SpaceId) -> BoxFuture<'a, Result<(), DirectoryError>> {
        Box::pin(async move {
            self.change(
                async |tx| match remove_space_rows(tx, space.as_str()).await? {
                    true => Ok(()),
                    false => Err(unknown(Entity::Space, space)),
                },
            )
            .await
        })
    }

    fn remove_app<'a>(&'a self, app: &'a AppId) -> BoxFuture<'a, Result<(), DirectoryError>> {
        Box::pin(async move {
            self.change(async |tx| {
                let a = app.as_str();
                delete_row(tx, "DELETE FROM cf_apps WHERE id = $1", Entity::App, a).await?;
                run_all(
                    tx,
                    &["INSERT INTO cf_retired_ids (kind, id) VALUES ('app', $1) ON CONFLICT DO NOTHING"],
                    a,
                )
                .await
            })
            .await
        })
    }

    fn grant_global(
        &self,
        user: UserId,
        role: GlobalRole,
    ) -> BoxFuture<'_, Result<(), DirectoryError>> {
        Box::pin(async move {
            self.change(async |tx| {
                tx.execute(
                    "INSERT INTO cf_global_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&user.as_str(), &role.as_str()],
                )
                .await
                .map_err(backend)?;
                Ok(())
            })
            .await
        })
    }

    fn grant_org<'a>(
        &'a self,
        user: UserId,
        org: &'a OrgId,
        role: OrgRole,
    ) -> BoxFuture<'a, Result<(), DirectoryError>> {
        Box::pin(async move {
            self.change(async |tx| {
                // `FOR SHARE` keeps the organization until this commits, so
                // no role outlives a removal running at the same time.
                one_string(
                    tx,
                    "SELECT id FROM cf_orgs WHERE id = $1 FOR SHARE",
                    &[&org.as_str()],
                )
                .await?
                .ok_or_else(|| unknown(Entity::Org, org))?;
                tx.execute(
                    "INSERT INTO cf_org_roles (user_id, org_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    &[&user.as_str(), &org.as_str(), &role.as_str()],
                )
                .await
                .map_err(backend)?;
                Ok(())
            })
            .await
        })
    }

    fn grant_space<'a>(
        &'a self,
        user: UserId,
        space: &'a SpaceId,
        role: SpaceRole,
    ) -> BoxFuture<'a, Result<(), DirectoryError>> {
        Box::pin(async move {
            self.change(async |tx| {
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
                Ok(())
            })
            .await
        })
    }
}

impl PostgresDirectory<&PostgresTransaction<'_>> {
    /// Locks the rows of `what` and of the spaces inside it (`FOR UPDATE`)
    /// until the transaction ends: an entry being added inside them at the
    /// same time (which holds its parent `FOR SHARE`) is either in before
    /// the removal reads what to remove, or refused after.
    async fn lock_for_removal(&self, what: Entry<'_>) -> Result<(), DirectoryError> {
        let (statements, id): (&[&str], &str) = match what {
            Entry::Org(org) => (
                &[
                    "SELECT 1 FROM cf_orgs WHERE id = $1 FOR UPDATE",
                    "SELECT 1 FROM cf_spaces WHERE org_id = $1 FOR UPDATE",
                ],
                org.as_str(),
            ),
            Entry::Space(space) => (
                &["SELECT 1 FROM cf_spaces WHERE id = $1 FOR UPDATE"],
                space.as_str(),
            ),
            Entry::App(_) => return Ok(()),
        };
        let c = self.on.conn().await?;
        run_all(&*c, statements, id).await
    }
}

/// Inside the transaction: the entry's row and its spaces' are locked
/// first, then the credentials at every scope inside it are deleted
/// through `store` (the same transaction, for the removal to commit as
/// one), then the entry's rows.
impl<'a, 't> AsyncRemoval<&'a PostgresTransaction<'t>>
    for PostgresDirectory<&'a PostgresTransaction<'t>>
{
    fn remove_with_credentials<'b>(
        &'b self,
        store: &'b &'a PostgresTransaction<'t>,
        what: Entry<'b>,
        by: &'b Actor,
    ) -> BoxFuture<'b, Result<Vec<Arc<RegistryCredential>>, ManageError>> {
        Box::pin(async move {
            self.lock_for_removal(what).await?;
            remove_in_order(*store, self, what, by).await
        })
    }
}

/// One transaction of `store` ([`PostgresStore::transaction`]), over the
/// database this directory was connected to: as inside a transaction
/// above, and committed once. A failure or a crash at any point leaves the
/// entry and all of its credentials, and no other session sees one gone
/// without the other.
impl AsyncRemoval<PostgresStore> for PostgresDirectory {
    fn remove_with_credentials<'a>(
        &'a self,
        store: &'a PostgresStore,
        what: Entry<'a>,
        by: &'a Actor,
    ) -> BoxFuture<'a, Result<Vec<Arc<RegistryCredential>>, ManageError>> {
        Box::pin(async move {
            store
                .transaction(async |tx| {
                    self.in_transaction(tx)
                        .remove_with_credentials(&tx, what, by)
                        .await
                        .map_err(InTransaction)
                })
                .await
                .map_err(|InTransaction(e)| e)
        })
    }
}

/// A removal's error as the error of the store's transaction, which
/// comes `From<StoreError>` (its begin and commit).
struct InTransaction(ManageError);

impl From<StoreError> for InTransaction {
    fn from(e: StoreError) -> Self {
        InTransaction(ManageError::Store(e))
    }
}
