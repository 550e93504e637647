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
use registry_credentials::scope::UserId;
use registry_credentials::store::AsyncCredentialStore;
use registry_credentials::{Location, RegistryCredential, Scope, ScopeKind};
use registry_credentials_cf::access::SpaceRole;
use registry_credentials_cf::directory::{InlineDirectory, MemoryDirectory, Name};
use registry_credentials_cf::listing::Target;
use registry_credentials_cf::manage::{AsyncManager, ManageError, Source};
use registry_credentials_sql::{EncryptionKey, Keyring, PostgresStore};
use registry_credentials_test_support::cf::{World, name};
use registry_credentials_test_support::postgres::{fresh_url, url};

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
    let staged = b
        .stage(
            dev,
            space,
            &name("web"),
            "nginx".parse().unwrap(),
            Some(cred("app-b")),
        )
        .await
        .unwrap();
    let started = staged.started().await.unwrap();
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
    let started = b
        .stage(
            &dev,
            &space,
            &name("web"),
            "registry.example.com/team/web".parse().unwrap(),
            Some(cred("pusher")),
        )
        .await
        .unwrap()
        .started()
        .await
        .unwrap();
    let app = started.app().id().clone();
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
