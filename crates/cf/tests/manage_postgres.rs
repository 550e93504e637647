//! Management end to end over `PostgresStore` in an async runtime (R14,
//! R16–R21): two service instances, each an `AsyncManager` with its own
//! connection pool behind `Arc<dyn AsyncCredentialStore>`, sharing one
//! directory and one database.
//!
//! Needs a server: these tests are ignored unless run with
//! `-- --include-ignored` and `REGISTRY_CREDENTIALS_PG_URL` set
//! (`.ci/postgres.sh setup` starts one and prints the address).
#![cfg(feature = "postgres")]

use std::sync::Arc;

use registry_credentials::credential::{Credential, CredentialUpdate, Password};
use registry_credentials::resolve::resolve_async;
use registry_credentials::scope::{AppId, SpaceId, UserId};
use registry_credentials::store::AsyncCredentialStore;
use registry_credentials::{Location, RegistryCredential, Scope, ScopeKind};
use registry_credentials_cf::access::GlobalRole;
use registry_credentials_cf::access::SpaceRole;
use registry_credentials_cf::directory::{
    AsyncDirectoryWriter, InlineDirectory, MemoryDirectory, Name,
};
use registry_credentials_cf::listing::Target;
use registry_credentials_cf::manage::{AsyncManager, ManageError, Source, Started};
use registry_credentials_sql::{EncryptionKey, Keyring, PostgresStore};
use registry_credentials_test_support::cf::{World, name};
use registry_credentials_test_support::postgres::{fresh_schema, fresh_url, session, url, url_in};

type Instance = AsyncManager<Arc<dyn AsyncCredentialStore>, InlineDirectory<MemoryDirectory>>;

fn keyring() -> Keyring {
    Keyring::new(EncryptionKey::new("cf-pg-test", [0x5c; 32]).unwrap())
}

/// Two instances of a service over one database and one directory: the
/// first set up as a [`World`] (its organization and space ids are fresh
/// GUIDs, so its scopes are its own in a shared database), the second
/// seeing what the first holds.
async fn instances() -> (World<Instance>, Instance) {
    let url = url();
    let directory = MemoryDirectory::new();
    let instance = async || {
        let store: Arc<dyn AsyncCredentialStore> =
            Arc::new(PostgresStore::connect(&url, keyring()).await.unwrap());
        (store, InlineDirectory(directory.clone()))
    };
    let (store, directory_a) = instance().await;
    let a = World::over_async(store, directory_a).await;
    let (store, directory_b) = instance().await;
    (a, AsyncManager::new(store, directory_b))
}

fn loc(s: &str) -> Location {
    s.parse().unwrap()
}

fn cred(user: &str) -> Credential {
    Credential::new(user, format!("{user}-pw")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)"]
async fn r16_to_r21_managed_end_to_end_over_postgres() {
    let (w, b) = instances().await;
    let (a, admin, dev, org, space) = (&w.m, &w.admin, &w.dev, &w.org, &w.space);
    // The foundation credential has a host of this test's own.
    let host = format!("r{}.example.com", std::process::id());

    // R16, R20: created through one instance…
    a.create(
        admin,
        RegistryCredential::new(Scope::Foundation, loc(&host), cred("platform")),
    )
    .await
    .unwrap();
    let (in_space, team) = (Scope::Space(space.clone()), loc(&format!("{host}/team")));
    let at_team = |user: &str| RegistryCredential::new(in_space.clone(), team.clone(), cred(user));
    a.create(dev, at_team("space-user")).await.unwrap();
    let refused = b
        .create(
            dev,
            RegistryCredential::new(Scope::Org(org.clone()), loc(&host), cred("org-user")),
        )
        .await
        .unwrap_err();
    assert!(matches!(refused, ManageError::Permission(_)), "{refused}");
    // …a conflict through the other (R16).
    let conflict = b.create(dev, at_team("again")).await.unwrap_err();
    assert!(
        matches!(conflict, ManageError::Conflict { .. }),
        "{conflict}"
    );

    // R17: updated through B, seen by a push staged on A (R14).
    let rotated = CredentialUpdate::Password(Password::new("rotated").unwrap());
    b.update(dev, &in_space, &team, rotated).await.unwrap();
    let staged = w
        .push_async("web", &format!("{host}/team/app:1"), None)
        .await;
    assert_eq!(
        staged.chosen().source(),
        Some(Source::Stored(ScopeKind::Space))
    );
    assert_eq!(
        staged.chosen().credential().unwrap().password().expose(),
        "rotated"
    );
    let app = staged.app().clone();
    assert!(staged.started().await.unwrap().stored().is_none());

    // R19: a push with credentials stores them once started, on A…
    let image = format!("{host}/team/app:2");
    let staged = w.push_async("web", &image, Some(cred("app-a"))).await;
    assert_eq!(staged.app().id(), app.id(), "the same app");
    let started = staged.started().await.unwrap();
    assert_eq!(
        started.stored().unwrap().location().as_str(),
        format!("{host}/team")
    );
    // …and a later push through B at another location replaces it whole.
    let started = push_web(&b, dev, space, "nginx", "app-b").await;
    assert_eq!(started.replaced().len(), 1);
    assert_eq!(started.replaced()[0].username().as_str(), "app-a");

    // R14: resolution through either instance's store sees one app credential.
    let found = resolve_async(&**b.store(), &app, &"nginx".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.scope_kind(), ScopeKind::App);
    assert_eq!(found.credential().username().as_str(), "app-b");
    let found = resolve_async(
        &**a.store(),
        &app,
        &format!("{host}/team/x").parse().unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(found.credential().username().as_str(), "space-user");

    // R21: the listing, in order, with the app's name; no passwords.
    let listing = b.list(dev, &Target::Space(space.clone())).await.unwrap();
    let rows: Vec<_> = listing
        .rows()
        .iter()
        .map(|r| {
            (
                r.scope,
                r.location.to_string(),
                r.username.to_string(),
                r.app_name.as_ref().map(Name::to_string),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                ScopeKind::App,
                "docker.io/library".into(),
                "app-b".into(),
                Some("web".into())
            ),
            (
                ScopeKind::Space,
                format!("{host}/team"),
                "space-user".into(),
                None
            ),
            (ScopeKind::Foundation, host.clone(), "platform".into(), None),
        ]
    );
    assert!(!listing.to_string().contains("-pw"));

    // R18: deleted through A, gone for B.
    a.delete(dev, &in_space, &team).await.unwrap();
    let gone = b.delete(dev, &in_space, &team).await.unwrap_err();
    assert!(matches!(gone, ManageError::NotFound { .. }), "{gone}");
    a.delete(admin, &Scope::Foundation, &loc(&host))
        .await
        .unwrap();
    a.delete(
        dev,
        &Scope::App(app.id().clone()),
        &loc("docker.io/library"),
    )
    .await
    .unwrap();
}

/// R19 under concurrency through the async front: pushes of one app
/// started at once on two instances leave exactly one app credential.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)"]
async fn r19_pushes_started_at_once_on_two_instances_leave_one() {
    let (w, b) = instances().await;
    // Stage once so the app exists.
    let first = w.push_async("racer", "nginx", None).await;
    let app = first.app().clone();
    first.failed();
    let (dev, space) = (w.dev.clone(), w.space.clone());
    let (a, b) = (Arc::new(w.m), Arc::new(b));

    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let mut tasks = Vec::new();
    for t in 0..8 {
        let m = if t % 2 == 0 {
            Arc::clone(&a)
        } else {
            Arc::clone(&b)
        };
        let (dev, space, barrier) = (dev.clone(), space.clone(), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            let image = format!("registry{}.example.com/team/app", t % 3)
                .parse()
                .unwrap();
            let staged = m
                .stage(
                    &dev,
                    &space,
                    &name("racer"),
                    image,
                    Some(cred(&format!("t{t}"))),
                )
                .await
                .unwrap();
            barrier.wait().await;
            staged.started().await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let held = a
        .store()
        .list(Scope::App(app.id().clone()).as_scope_ref())
        .await
        .unwrap();
    let users: Vec<_> = held.iter().map(|c| c.username().as_str()).collect();
    assert_eq!(users.len(), 1, "R19: {users:?}");
    assert_eq!(
        held[0].password().expose(),
        format!("{}-pw", held[0].username())
    );
    a.store()
        .delete_scope(Scope::App(app.id().clone()).as_scope_ref())
        .await
        .unwrap();
}

mod postgres_directory_conformance {
    use registry_credentials_cf::directory::PostgresDirectory;
    use registry_credentials_cf::directory::conformance::Check;
    use registry_credentials_sql::PostgresStore;
    use registry_credentials_test_support::postgres::{fresh_url, runtime};

    /// Each check on a fresh schema: its own empty tables.
    fn run(check: Check) {
        runtime().block_on(async {
            let store = PostgresStore::connect(&fresh_url("conf").await, super::keyring())
                .await
                .unwrap();
            let d = PostgresDirectory::connect(&store).await.unwrap();
            check(&d).await;
        });
    }

    registry_credentials_cf::directory_conformance!(
        ignore =
            "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)"
    );
}

/// Two service instances, each with its own pool (two
/// `PostgresStore::connect` on one database) and its own
/// `PostgresDirectory` over it: what one creates, grants and pushes the
/// other sees (R16, R19, R20, R21), and a second connect finds the
/// tables migrated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)"]
async fn r19_r20_two_instances_share_one_postgres_directory() {
    use registry_credentials_cf::directory::PostgresDirectory;
    let url = fresh_url("shared").await;
    let store_a = PostgresStore::connect(&url, keyring()).await.unwrap();
    let store_b = PostgresStore::connect(&url, keyring()).await.unwrap();
    let dir_a = PostgresDirectory::connect(&store_a).await.unwrap();
    let dir_b = PostgresDirectory::connect(&store_b).await.unwrap();
    let w = World::over_async(store_a, dir_a).await;
    let b = AsyncManager::new(store_b, dir_b);
    let (a, admin, org) = (&w.m, &w.admin, &w.org);
    // The organization made through one instance is found through the
    // other, and its name is taken there too.
    assert_eq!(&b.find_org(admin, "o").await.unwrap(), org);
    assert!(matches!(
        b.create_org(admin, name("o")).await,
        Err(ManageError::Directory(_))
    ));
    let space = b.create_space(admin, org, name("from-b")).await.unwrap();
    let dev = UserId::new("dev-b").unwrap();
    a.set_space_role(admin, dev.clone(), &space, SpaceRole::Developer)
        .await
        .unwrap();
    // The role granted through one instance lets the other's gate admit
    // the push (R20), and the push's app and credential are seen by the
    // first (R19).
    let app = pg_push_web(&b, &dev, &space).await;
    assert_eq!(a.find_app(&dev, &space, "web").await.unwrap(), app);
    let listing = a.list(&dev, &Target::Space(space.clone())).await.unwrap();
    assert_eq!(listing.len(), 1);
    // A user with no role in the organization does not find it (R21).
    let stranger = UserId::new("stranger").unwrap();
    assert!(matches!(
        b.find_org(&stranger, "o").await,
        Err(ManageError::Unknown { .. })
    ));
    // Deleting the organization through one instance takes its app's
    // credential along (R13); the other sees it gone.
    let deleted = a.delete_org(admin, org).await.unwrap();
    assert_eq!(deleted.len(), 1);
    assert!(matches!(
        b.find_org(admin, "o").await,
        Err(ManageError::Unknown { .. })
    ));
    assert!(b.store().list_all().await.unwrap().is_empty());
}

mod postgres_directory_in_a_transaction_conformance {
    use registry_credentials::store::StoreError;
    use registry_credentials_cf::directory::PostgresDirectory;
    use registry_credentials_cf::directory::conformance::Check;
    use registry_credentials_sql::PostgresStore;

    /// Each check inside one transaction of a fresh schema: every change
    /// under a savepoint of its own, every look-up seeing the changes
    /// before it.
    fn run(check: Check) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let url = super::url();
            let schema = super::fresh_schema(&url, "conf_tx").await;
            let store = PostgresStore::connect(&super::url_in(&url, &schema), super::keyring())
                .await
                .unwrap();
            let d = PostgresDirectory::connect(&store).await.unwrap();
            store
                .transaction(async |tx| {
                    check(&d.in_transaction(tx)).await;
                    Ok::<_, StoreError>(())
                })
                .await
                .unwrap();
        });
    }

    registry_credentials_cf::directory_conformance!(
        ignore =
            "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)"
    );
}

/// One service instance over PostgreSQL: its store and the directory in
/// the same database.
type PgInstance =
    AsyncManager<PostgresStore, registry_credentials_cf::directory::PostgresDirectory>;

/// Two instances (two pools) on a fresh schema, its URL, and an admin.
async fn pg_instances(test: &str) -> (PgInstance, PgInstance, String, UserId) {
    use registry_credentials_cf::directory::{AsyncDirectoryWriter, PostgresDirectory};
    let url = url();
    let schema = fresh_schema(&url, test).await;
    let url = url_in(&url, &schema);
    let mut instances = Vec::new();
    for _ in 0..2 {
        let store = PostgresStore::connect(&url, keyring()).await.unwrap();
        let directory = PostgresDirectory::connect(&store).await.unwrap();
        instances.push(AsyncManager::new(store, directory));
    }
    let admin = UserId::new("admin").unwrap();
    instances[0]
        .directory()
        .grant_global(admin.clone(), GlobalRole::Admin)
        .await
        .unwrap();
    let b = instances.pop().unwrap();
    let a = instances.pop().unwrap();
    (a, b, url, admin)
}

/// `user` pushes the app `web` of `image`, with the credential of
/// `pusher`, into `space` through `m`; the push once started.
async fn push_web<S: AsyncCredentialStore, D: AsyncDirectoryWriter>(
    m: &AsyncManager<S, D>,
    user: &UserId,
    space: &SpaceId,
    image: &str,
    pusher: &str,
) -> Started {
    let (app, image) = (name("web"), image.parse().unwrap());
    let staged = m.stage(user, space, &app, image, Some(cred(pusher)));
    staged.await.unwrap().started().await.unwrap()
}

/// `user` pushes the app `web` of `registry.example.com/team/web`, with
/// the credential of `pusher`, into `space` through `m`; the app's id once
/// the push has started.
async fn pg_push_web(m: &PgInstance, user: &UserId, space: &SpaceId) -> AppId {
    let started = push_web(m, user, space, "registry.example.com/team/web", "pusher").await;
    started.app().id().clone()
}

/// An organization called `name` with two spaces, a credential at the
/// organization and at each space, and a pushed app in the first space
/// with its credential, and an Org Manager; returns it with every scope
/// that holds a credential.
async fn pg_org_with_credentials(
    m: &PgInstance,
    admin: &UserId,
    name: &str,
) -> (registry_credentials::scope::OrgId, Vec<Scope>) {
    use registry_credentials_cf::access::OrgRole;
    let org = m.create_org(admin, self::name(name)).await.unwrap();
    let mut scopes = vec![Scope::Org(org.clone())];
    for space in ["first", "second"] {
        let space = m
            .create_space(admin, &org, self::name(space))
            .await
            .unwrap();
        scopes.push(Scope::Space(space));
    }
    m.set_org_role(
        admin,
        UserId::new("manager").unwrap(),
        &org,
        OrgRole::Manager,
    )
    .await
    .unwrap();
    for scope in &scopes {
        m.create(
            admin,
            RegistryCredential::new(scope.clone(), loc("registry.example.com"), cred("u")),
        )
        .await
        .unwrap();
    }
    let Scope::Space(first) = &scopes[1] else {
        unreachable!("the second scope is a space")
    };
    scopes.push(Scope::App(pg_push_web(m, admin, first).await));
    (org, scopes)
}

/// Whether the organization is in the directory, and how many credentials
/// its scopes hold, read in one snapshot of the database.
async fn pg_seen(
    m: &PgInstance,
    org: &registry_credentials::scope::OrgId,
    scopes: &[Scope],
) -> (bool, usize) {
    use registry_credentials_cf::directory::{AsyncDirectoryReader, DirectoryError};
    m.store()
        .read_transaction(async |tx| {
            let present = m
                .directory()
                .in_transaction(tx)
                .org_name(org)
                .await?
                .is_some();
            let mut held = 0;
            for scope in scopes {
                held += tx.list(scope.as_scope_ref()).await?.len();
            }
            Ok::<_, DirectoryError>((present, held))
        })
        .await
        .unwrap()
}

/// `by` deletes the organization `org` of [`pg_org_with_credentials`]
/// with its four credentials, and `reader` sees none of it left.
async fn pg_delete_whole(
    by: &PgInstance,
    reader: &PgInstance,
    admin: &UserId,
    org: &registry_credentials::scope::OrgId,
    scopes: &[Scope],
) {
    let deleted = by.delete_org(admin, org).await.unwrap();
    assert_eq!(deleted.len(), 4);
    assert_eq!(pg_seen(reader, org, scopes).await, (false, 0));
}

/// R13 over PostgreSQL: `delete_org` is one transaction. A failure after
/// the credentials and the directory's rows are deleted (a trigger that
/// refuses the last statement, recording the organization's id as
/// removed) leaves the organization, its spaces, its app and every
/// credential; once the failure is gone the same call removes all of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)"]
async fn r13_delete_org_over_postgres_that_fails_at_its_last_step_removes_nothing() {
    let (a, b, url, admin) = pg_instances("delete_fails").await;
    let (org, scopes) = pg_org_with_credentials(&a, &admin, "doomed").await;
    assert_eq!(pg_seen(&b, &org, &scopes).await, (true, 4));

    let client = session(&url).await;
    client
        .batch_execute(
            "CREATE FUNCTION refuse_org_removal() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$; \
             CREATE TRIGGER refuse_org_removal BEFORE INSERT ON cf_retired_ids \
             FOR EACH ROW WHEN (NEW.kind = 'organization') \
             EXECUTE FUNCTION refuse_org_removal()",
        )
        .await
        .unwrap();
    let failed = a.delete_org(&admin, &org).await.unwrap_err();
    assert!(matches!(failed, ManageError::Directory(_)), "{failed}");
    // Nothing is gone: not the organization, not its spaces or app, not
    // one credential.
    assert_eq!(pg_seen(&b, &org, &scopes).await, (true, 4));
    assert_eq!(b.find_org(&admin, "doomed").await.unwrap(), org);
    let first = b.find_space(&admin, &org, "first").await.unwrap();
    b.find_app(&admin, &first, "web").await.unwrap();
    b.find_space(&admin, &org, "second").await.unwrap();

    client
        .batch_execute("DROP TRIGGER refuse_org_removal ON cf_retired_ids")
        .await
        .unwrap();
    pg_delete_whole(&a, &b, &admin, &org, &scopes).await;
}

/// R13 over PostgreSQL: a `delete_org` whose connection dies part-way
/// (its backend terminated while it waits for a lock, after it deleted
/// the credentials and most of the directory's rows) leaves all of it, and
/// while it waits another instance still sees the organization with every
/// credential; run again, by the other instance, it removes all of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)"]
async fn r13_delete_org_over_postgres_killed_part_way_removes_nothing() {
    let (a, b, url, admin) = pg_instances("delete_killed").await;
    let (org, scopes) = pg_org_with_credentials(&a, &admin, "doomed").await;

    // Another session holds the Org Manager's role row: the removal waits
    // there, at its next-to-last statement.
    let blocker = session(&url).await;
    blocker.batch_execute("BEGIN").await.unwrap();
    blocker
        .execute(
            "SELECT 1 FROM cf_org_roles WHERE org_id = $1 FOR UPDATE",
            &[&org.as_str()],
        )
        .await
        .unwrap();

    let a = Arc::new(a);
    let deleting = tokio::spawn({
        let (a, admin, org) = (a.clone(), admin.clone(), org.clone());
        async move { a.delete_org(&admin, &org).await }
    });
    // Watched from a session outside any transaction: inside one,
    // `pg_stat_activity` is read once and then kept.
    let killer = session(&url).await;
    let started = std::time::Instant::now();
    let pid: i32 = loop {
        let waiting = killer
            .query_opt(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                 AND wait_event_type = 'Lock' AND query LIKE 'DELETE FROM cf_org_roles%'",
                &[],
            )
            .await
            .unwrap();
        if let Some(row) = waiting {
            break row.get(0);
        }
        assert!(
            !deleting.is_finished(),
            "the removal did not wait for the lock"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the removal is not waiting for the role's row"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    // Mid-way, another instance sees the organization and every credential.
    assert_eq!(pg_seen(&b, &org, &scopes).await, (true, 4));

    let killed: bool = killer
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap()
        .get(0);
    assert!(killed);
    let failed = deleting.await.unwrap().unwrap_err();
    assert!(
        matches!(failed, ManageError::Directory(_) | ManageError::Store(_)),
        "{failed}"
    );
    blocker.batch_execute("ROLLBACK").await.unwrap();

    assert_eq!(pg_seen(&b, &org, &scopes).await, (true, 4));
    assert_eq!(b.find_org(&admin, "doomed").await.unwrap(), org);
    // The other instance deletes it whole (the first one's pool may still
    // hand out the killed connection once, which fails retryably).
    pg_delete_whole(&b, &b, &admin, &org, &scopes).await;
}

/// R13 over PostgreSQL: while one instance deletes organizations (and
/// spaces) with their credentials, a reader on another instance, reading
/// the directory and the credentials in one snapshot, sees each
/// organization either whole, with every credential, or gone, with none:
/// never one without the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)"]
async fn r13_a_reader_never_sees_half_a_delete_org_over_postgres() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    const ORGS: usize = 6;
    let (a, b, _url, admin) = pg_instances("delete_read").await;
    let mut orgs = Vec::new();
    for i in 0..ORGS {
        orgs.push(pg_org_with_credentials(&a, &admin, &format!("org-{i}")).await);
    }
    let orgs = Arc::new(orgs);
    let done = Arc::new(AtomicBool::new(false));
    let passes = Arc::new(AtomicUsize::new(0));
    let reader = tokio::spawn({
        let (orgs, done, passes) = (orgs.clone(), done.clone(), passes.clone());
        async move {
            let (mut whole, mut gone) = (0, 0);
            while !done.load(Ordering::SeqCst) {
                for (org, scopes) in orgs.iter() {
                    match pg_seen(&b, org, scopes).await {
                        (true, 4) => whole += 1,
                        (false, 0) => gone += 1,
                        half => panic!("organization {org}: seen {half:?}"),
                    }
                }
                passes.fetch_add(1, Ordering::SeqCst);
            }
            (whole, gone)
        }
    });
    for (org, _) in orgs.iter() {
        let before = passes.load(Ordering::SeqCst);
        assert_eq!(a.delete_org(&admin, org).await.unwrap().len(), 4);
        // Let the reader read once more between deletions.
        while passes.load(Ordering::SeqCst) < before + 2 && !reader.is_finished() {
            tokio::task::yield_now().await;
        }
    }
    done.store(true, Ordering::SeqCst);
    let (whole, gone) = reader.await.unwrap();
    assert!(whole > 0 && gone > 0, "whole {whole}, gone {gone}");
}
