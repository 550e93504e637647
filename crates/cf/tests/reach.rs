//! Which apps a credential reaches (R29): the image a started push
//! records, the apps whose next pull uses a stored credential, and the
//! apps a proposed create, update or delete would move, worked out
//! without writing, under the same access rules as the change (R20, R21).
//! The two-credential rotation the platform's page advises runs over the
//! in-memory store and directory, and over PostgreSQL (`postgres`
//! feature, ignored without a server: `-- --include-ignored` with
//! `REGISTRY_CREDENTIALS_PG_URL` set).

use std::time::{Duration, SystemTime};

use registry_credentials::credential::CredentialUpdate;
use registry_credentials::metadata::MetadataPatch;
use registry_credentials::scope::UserId;
use registry_credentials::store::{AsyncCredentialStore, InlineStore, block_on_ready};
use registry_credentials::{
    Credential, CredentialStore, Location, MemoryStore, Password, RegistryCredential, Scope,
};
use registry_credentials_cf::access::{OrgRole, SpaceRole};
use registry_credentials_cf::directory::{
    AsyncDirectoryWriter, DirectoryReader, InlineDirectory, MemoryDirectory,
};
use registry_credentials_cf::manage::{AppRef, AsyncManager, ManageError, Move, Proposal, Stored};
use registry_credentials_test_support::cf::{World, name};

fn loc(s: &str) -> Location {
    s.parse().unwrap()
}

fn cred(user: &str) -> Credential {
    Credential::new(user, format!("{user}-pw")).unwrap()
}

/// The apps' names, in the order given.
fn names(apps: &[AppRef]) -> Vec<&str> {
    apps.iter().map(|a| a.name().as_str()).collect()
}

/// Each move as (app, before, after), a credential as `scope location
/// username`, `-` for none.
fn moves(moves: &[Move]) -> Vec<(String, String, String)> {
    let shown = |c: Option<&registry_credentials_cf::manage::CredentialRef>| {
        c.map_or_else(
            || "-".to_owned(),
            |c| format!("{} {} {}", c.scope_kind(), c.location(), c.username()),
        )
    };
    moves
        .iter()
        .map(|m| {
            (
                m.app().name().to_string(),
                shown(m.before()),
                shown(m.after()),
            )
        })
        .collect()
}

fn triple(app: &str, before: &str, after: &str) -> (String, String, String) {
    (app.to_owned(), before.to_owned(), after.to_owned())
}

/// The rotation through two credentials the platform's page advises:
/// apps use credential A; the new credential B is created where it wins
/// for them (a more specific location at the same scope), the dry run
/// first showing which apps would move; they move; then A is deleted,
/// its dry run showing that nothing is left on it. Driven by an Org
/// Manager with no role in the apps' spaces, who is shown every app all
/// the same (R29).
async fn rotation<S: AsyncCredentialStore, D: AsyncDirectoryWriter>(w: &World<AsyncManager<S, D>>) {
    let (m, admin, dev) = (&w.m, &w.admin, &w.dev);
    let alice = UserId::new("alice").unwrap();
    m.set_org_role(admin, alice.clone(), &w.org, OrgRole::Manager)
        .await
        .unwrap();
    let s2 = m.create_space(admin, &w.org, name("s2")).await.unwrap();
    m.set_space_role(admin, dev.clone(), &s2, SpaceRole::Developer)
        .await
        .unwrap();
    let in_org = Scope::Org(w.org.clone());
    let a = m
        .create(
            &alice,
            RegistryCredential::new(in_org.clone(), loc("example.com"), cred("robot-a")),
        )
        .await
        .unwrap();
    let a_guid = a.record().unwrap().guid();
    let push = async |space, app: &str, image: &str, given: Option<Credential>| {
        let app = name(app);
        let staged = m.stage(dev, space, &app, image.parse().unwrap(), given);
        staged.await.unwrap().started().await.unwrap();
    };
    push(&w.space, "web", "registry.example.com/team/web:1", None).await;
    push(&s2, "worker", "registry.example.com/jobs/worker", None).await;
    // Elsewhere: another registry, and an app whose own credential (R19)
    // outranks the organization's (R14).
    push(&w.space, "cache", "quay.io/team/cache", None).await;
    let own = Some(cred("own-user"));
    push(&w.space, "own", "registry.example.com/team/own", own).await;

    let using = m.apps_using(&alice, &Stored::Guid(a_guid)).await.unwrap();
    assert_eq!(names(&using), ["web", "worker"]);
    assert_eq!(using[1].space_name().as_str(), "s2");
    assert_eq!(
        using[1].image().as_str(),
        "registry.example.com/jobs/worker"
    );

    // The dry run of B: both apps would move from A to B, and nothing is
    // written.
    let b = RegistryCredential::new(in_org.clone(), loc("registry.example.com"), cred("robot-b"));
    let would = m
        .dry_run(&alice, Proposal::Create(b.clone()))
        .await
        .unwrap();
    let a_to_b = [
        triple(
            "web",
            "organization example.com robot-a",
            "organization registry.example.com robot-b",
        ),
        triple(
            "worker",
            "organization example.com robot-a",
            "organization registry.example.com robot-b",
        ),
    ];
    assert_eq!(moves(&would), a_to_b);
    assert_eq!(would[0].before().unwrap().guid(), Some(a_guid));
    assert_eq!(would[0].after().unwrap().guid(), None);
    assert!(!would[0].keeps_the_credential());
    let stored = m.store().list(in_org.as_scope_ref()).await.unwrap();
    assert_eq!(stored.len(), 1, "a dry run writes nothing");

    // B for real: the apps move to it, none is left on A.
    let b = m.create(&alice, b).await.unwrap();
    let b_guid = b.record().unwrap().guid();
    let on_b = m.apps_using(&alice, &Stored::Guid(b_guid)).await.unwrap();
    assert_eq!(names(&on_b), ["web", "worker"]);
    let on_a = m.apps_using(&alice, &Stored::Guid(a_guid)).await.unwrap();
    assert!(on_a.is_empty());

    // Deleting A moves nothing: its dry run says so, and it is deleted.
    let would = m
        .dry_run(&alice, Proposal::Delete(Stored::Guid(a_guid)))
        .await
        .unwrap();
    assert!(would.is_empty(), "{would:?}");
    m.delete_by_guid(&alice, a_guid).await.unwrap();
    let on_b = m.apps_using(&alice, &Stored::Guid(b_guid)).await.unwrap();
    assert_eq!(names(&on_b), ["web", "worker"]);
    // Deleting B now would leave both apps without a credential (R15).
    let would = m
        .dry_run(
            &alice,
            Proposal::Delete(Stored::At(in_org, loc("registry.example.com"))),
        )
        .await
        .unwrap();
    assert_eq!(
        moves(&would),
        [
            triple("web", "organization registry.example.com robot-b", "-"),
            triple("worker", "organization registry.example.com robot-b", "-"),
        ]
    );
}

#[test]
fn r29_the_two_credential_rotation_moves_every_app_before_the_old_one_goes() {
    block_on_ready(async {
        let w = World::over_async(
            InlineStore(MemoryStore::new()),
            InlineDirectory(MemoryDirectory::new()),
        )
        .await;
        rotation(&w).await;
    });
}

#[test]
fn r29_a_started_push_records_its_image_and_a_failed_one_does_not() {
    let w = World::new(MemoryStore::new());
    let images = || {
        w.m.directory()
            .app_images(&Scope::Foundation)
            .unwrap()
            .into_iter()
            .map(|(_, n, image)| (n.to_string(), image.as_str().to_owned()))
            .collect::<Vec<_>>()
    };
    w.push("web", "registry.example.com/team/web:1", None)
        .started()
        .unwrap();
    // Staged, then failed: the app exists, its image is not recorded (R19).
    w.push("api", "registry.example.com/team/api:1", None)
        .failed();
    assert!(w.m.find_app(&w.dev, &w.space, "api").is_ok());
    let web = (
        "web".to_owned(),
        "registry.example.com/team/web:1".to_owned(),
    );
    assert_eq!(images(), [web]);
    // A later started push replaces the image, with or without credentials.
    w.push("web", "registry.example.com/team/web:2", Some(cred("u")))
        .started()
        .unwrap();
    let web = (
        "web".to_owned(),
        "registry.example.com/team/web:2".to_owned(),
    );
    assert_eq!(images(), [web]);
    // Deleting the app takes its image along.
    let id = w.m.find_app(&w.dev, &w.space, "web").unwrap();
    w.m.delete_app(&w.dev, &id).unwrap();
    assert!(images().is_empty());
}

/// A foundation credential for Docker Hub, an organization one for
/// `registry.example.com` and a space one for its `team`, and apps
/// pulling from each.
fn three_scopes() -> World<registry_credentials_cf::manage::Manager<MemoryStore>> {
    let w = World::new(MemoryStore::new());
    w.store(Scope::Foundation, "docker.io", "hub", "hub-pw");
    w.store(
        Scope::Org(w.org.clone()),
        "registry.example.com",
        "org-user",
        "org-pw",
    );
    w.store(
        Scope::Space(w.space.clone()),
        "registry.example.com/team",
        "space-user",
        "space-pw",
    );
    for (app, image) in [
        ("hub", "nginx"),
        ("web", "registry.example.com/team/web"),
        ("api", "registry.example.com/other/api"),
        ("quay", "quay.io/x/y"),
    ] {
        w.push(app, image, None).started().unwrap();
    }
    w
}

#[test]
fn r29_r14_apps_using_a_credential_are_those_it_wins_for() {
    let w = three_scopes();
    let using = |scope: Scope, location: &str| {
        let at = Stored::At(scope, loc(location));
        names(&w.m.apps_using(&w.dev, &at).unwrap())
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(using(Scope::Foundation, "docker.io"), ["hub"]);
    // The space's credential outranks the organization's for `team`.
    assert_eq!(
        using(Scope::Org(w.org.clone()), "registry.example.com"),
        ["api"]
    );
    assert_eq!(
        using(Scope::Space(w.space.clone()), "registry.example.com/team"),
        ["web"]
    );
    // An app whose own credential wins leaves the space's (R19, R14).
    w.push("web", "registry.example.com/team/web", Some(cred("mine")))
        .started()
        .unwrap();
    assert!(using(Scope::Space(w.space.clone()), "registry.example.com/team").is_empty());
    let web = w.m.find_app(&w.dev, &w.space, "web").unwrap();
    assert_eq!(using(Scope::App(web), "registry.example.com/team"), ["web"]);
    // By GUID, the same answer.
    let org_cred =
        w.m.store()
            .list(Scope::Org(w.org.clone()).as_scope_ref())
            .unwrap();
    let guid = org_cred[0].record().unwrap().guid();
    assert_eq!(
        names(&w.m.apps_using(&w.dev, &Stored::Guid(guid)).unwrap()),
        ["api"]
    );
}

#[test]
fn r29_r17_r25_an_update_reaches_the_apps_of_the_credential_unless_it_changes_no_pull() {
    let w = three_scopes();
    let at_org = Stored::At(Scope::Org(w.org.clone()), loc("registry.example.com"));
    let dry = |update| {
        w.m.dry_run(&w.admin, Proposal::Update(at_org.clone(), update))
    };
    // A new password reaches every app using the credential, which keeps
    // it: no push needed (R17).
    let password = Password::new("rotated").unwrap();
    let reached = dry(CredentialUpdate::Password(password)).unwrap();
    assert_eq!(
        moves(&reached),
        [triple(
            "api",
            "organization registry.example.com org-user",
            "organization registry.example.com org-user"
        )]
    );
    assert!(reached[0].keeps_the_credential());
    let user = registry_credentials::Username::new("new-user").unwrap();
    let reached = dry(CredentialUpdate::Username(user)).unwrap();
    assert_eq!(reached[0].after().unwrap().username().as_str(), "new-user");
    // Labels are no part of a pull.
    let labels = MetadataPatch::labels([("env", Some("prod"))]);
    assert!(dry(CredentialUpdate::Metadata(labels)).unwrap().is_empty());
    // An expiry in the future changes no pull; one past moves the app on
    // (R25): here to nothing.
    let later = SystemTime::now() + Duration::from_secs(3600);
    assert!(
        dry(CredentialUpdate::ExpiresAt(Some(later)))
            .unwrap()
            .is_empty()
    );
    let past = SystemTime::now() - Duration::from_secs(3600);
    let reached = dry(CredentialUpdate::ExpiresAt(Some(past))).unwrap();
    assert_eq!(
        moves(&reached),
        [triple(
            "api",
            "organization registry.example.com org-user",
            "-"
        )]
    );
    // Nothing was written.
    let stored =
        w.m.store()
            .list(Scope::Org(w.org.clone()).as_scope_ref())
            .unwrap();
    assert_eq!(stored[0].username().as_str(), "org-user");
    assert_eq!(stored[0].expires_at(), None);
}

#[test]
fn r29_r14_a_shadowed_credential_moves_nothing_and_scope_outranks_specificity() {
    let w = three_scopes();
    // A foundation credential for the whole registry, shadowed by the
    // organization's and the space's everywhere.
    w.store(Scope::Foundation, "registry.example.com", "fnd", "fnd-pw");
    let shadowed = Stored::At(Scope::Foundation, loc("registry.example.com"));
    assert!(w.m.apps_using(&w.admin, &shadowed).unwrap().is_empty());
    assert!(
        w.m.dry_run(&w.admin, Proposal::Delete(shadowed))
            .unwrap()
            .is_empty()
    );
    // Deleting the space's: its app falls back to the organization's.
    let space = Stored::At(
        Scope::Space(w.space.clone()),
        loc("registry.example.com/team"),
    );
    let reached = w.m.dry_run(&w.dev, Proposal::Delete(space)).unwrap();
    assert_eq!(
        moves(&reached),
        [triple(
            "web",
            "space registry.example.com/team space-user",
            "organization registry.example.com org-user"
        )]
    );
    // A space credential for the parent domain outranks the
    // organization's more specific one (R14: scope before specificity),
    // and stays below the space's own `team`, more specific at its scope.
    let broad = RegistryCredential::new(
        Scope::Space(w.space.clone()),
        loc("example.com"),
        cred("broad"),
    );
    let reached = w.m.dry_run(&w.dev, Proposal::Create(broad)).unwrap();
    assert_eq!(
        moves(&reached),
        [triple(
            "api",
            "organization registry.example.com org-user",
            "space example.com broad"
        )]
    );
}

#[test]
fn r29_r16_r20_a_dry_run_is_refused_as_the_change_would_be() {
    let w = three_scopes();
    let org_cred =
        RegistryCredential::new(Scope::Org(w.org.clone()), loc("example.com"), cred("x"));
    let e = w.m.dry_run(&w.dev, Proposal::Create(org_cred)).unwrap_err();
    assert!(matches!(e, ManageError::Permission(_)), "{e}");
    let taken = RegistryCredential::new(Scope::Foundation, loc("docker.io"), cred("x"));
    let e = w.m.dry_run(&w.admin, Proposal::Create(taken)).unwrap_err();
    assert!(matches!(e, ManageError::Conflict { .. }), "{e}");
    let web = w.m.find_app(&w.dev, &w.space, "web").unwrap();
    let at_app = RegistryCredential::new(Scope::App(web), loc("example.com"), cred("x"));
    let e = w.m.dry_run(&w.admin, Proposal::Create(at_app)).unwrap_err();
    assert!(matches!(e, ManageError::AppCredentialByPush), "{e}");
    let missing = Stored::At(Scope::Foundation, loc("example.com"));
    let e =
        w.m.dry_run(&w.admin, Proposal::Delete(missing))
            .unwrap_err();
    assert!(matches!(e, ManageError::NotFound { .. }), "{e}");
    let hub = Stored::At(Scope::Foundation, loc("docker.io"));
    let e = w.m.dry_run(&w.dev, Proposal::Delete(hub)).unwrap_err();
    assert!(matches!(e, ManageError::Permission(_)), "{e}");
    // A space credential is not found by GUID for one who may not see it
    // (R21), exactly as a GUID that does not exist.
    let space_cred =
        w.m.store()
            .list(Scope::Space(w.space.clone()).as_scope_ref())
            .unwrap();
    let guid = space_cred[0].record().unwrap().guid();
    let stranger = w.org_user("stranger", OrgRole::User);
    for e in [
        w.m.apps_using(&stranger, &Stored::Guid(guid)).unwrap_err(),
        w.m.dry_run(&stranger, Proposal::Delete(Stored::Guid(guid)))
            .unwrap_err(),
    ] {
        assert!(matches!(e, ManageError::GuidNotFound { .. }), "{e}");
    }
    // A refused metadata patch is refused as the update would be.
    let bad = MetadataPatch::labels([("cloudfoundry.org/x", Some("y"))]);
    let e =
        w.m.dry_run(
            &w.admin,
            Proposal::Update(Stored::Guid(guid), CredentialUpdate::Metadata(bad)),
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            ManageError::Store(registry_credentials::StoreError::Metadata(_))
        ),
        "{e}"
    );
}

#[test]
fn r29_r21_apps_are_shown_to_those_who_may_see_them() {
    let w = three_scopes();
    let other = w.add_space("other");
    w.m.set_space_role(&w.admin, w.dev.clone(), &other, SpaceRole::Developer)
        .unwrap();
    w.m.stage(
        &w.dev,
        &other,
        &name("far"),
        "registry.example.com/other/far".parse().unwrap(),
        None,
    )
    .unwrap()
    .started()
    .unwrap();
    let org_cred = Stored::At(Scope::Org(w.org.clone()), loc("registry.example.com"));
    let seen = |user: &UserId| {
        let apps = w.m.apps_using(user, &org_cred).unwrap();
        names(&apps)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    // Everyone in the organization may see its credential (R21); the
    // apps using it are shown to those who may see each app: a role in
    // its space, or an Org Manager of its organization.
    assert_eq!(seen(&w.admin), ["far", "api"]);
    assert_eq!(
        seen(&w.org_user("manager", OrgRole::Manager)),
        ["far", "api"]
    );
    assert!(seen(&w.org_user("auditor", OrgRole::Auditor)).is_empty());
    assert_eq!(
        seen(&w.user("watcher", &w.space, SpaceRole::Auditor)),
        ["api"]
    );
    // Ordered by organization, space and app name: `other` before `s`.
    assert_eq!(
        w.m.apps_using(&w.admin, &org_cred).unwrap()[0]
            .space_name()
            .as_str(),
        "other"
    );
}

#[cfg(feature = "postgres")]
mod postgres {
    use registry_credentials::Scope;
    use registry_credentials::scope::{AppId, OrgId, SpaceId};
    use registry_credentials_cf::directory::{
        AsyncDirectoryReader, AsyncDirectoryWriter, POSTGRES_DIRECTORY_VERSION, PostgresDirectory,
    };
    use registry_credentials_sql::{EncryptionKey, Keyring, PostgresStore};
    use registry_credentials_test_support::cf::{World, name};
    use registry_credentials_test_support::postgres::{fresh_url, session};

    /// Tables of the first schema, as a release before the apps' images
    /// made them (the current tables without the image column, at
    /// version 1), migrate when a directory connects: the apps are kept,
    /// without images until their next push.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)"]
    async fn r29_first_schema_tables_migrate_keeping_their_apps() {
        let url = fresh_url("reach_migrate").await;
        let keyring = || Keyring::new(EncryptionKey::new("reach", [0x29; 32]).unwrap());
        let store = PostgresStore::connect(&url, keyring()).await.unwrap();
        let d = PostgresDirectory::connect(&store).await.unwrap();
        let (org, space, app) = (
            OrgId::new("o1").unwrap(),
            SpaceId::new("s1").unwrap(),
            AppId::new("a1").unwrap(),
        );
        d.add_org(org.clone(), name("o")).await.unwrap();
        d.add_space(space.clone(), &org, name("s")).await.unwrap();
        d.add_app(app.clone(), &space, name("web")).await.unwrap();
        session(&url)
            .await
            .batch_execute(
                "ALTER TABLE cf_apps DROP COLUMN image; \
                 UPDATE registry_credentials_cf_schema SET version = 1",
            )
            .await
            .unwrap();
        let d = PostgresDirectory::connect(&store).await.unwrap();
        let version: i32 = session(&url)
            .await
            .query_one("SELECT version FROM registry_credentials_cf_schema", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(version, POSTGRES_DIRECTORY_VERSION);
        assert_eq!(d.app(&app).await.unwrap().unwrap().1.as_str(), "web");
        assert!(d.app_images(&Scope::Foundation).await.unwrap().is_empty());
        d.set_app_image(&app, &"registry.example.com/team/web".parse().unwrap())
            .await
            .unwrap();
        assert_eq!(d.app_images(&Scope::Org(org)).await.unwrap().len(), 1);
    }

    /// The rotation over a `PostgresStore` (whose resolution reads the
    /// winner alone, through the overlay's one look-up) and a
    /// `PostgresDirectory` on a schema of its own.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)"]
    async fn r29_the_two_credential_rotation_over_postgres() {
        let keyring = Keyring::new(EncryptionKey::new("reach", [0x29; 32]).unwrap());
        let store = PostgresStore::connect(&fresh_url("reach").await, keyring)
            .await
            .unwrap();
        let directory = PostgresDirectory::connect(&store).await.unwrap();
        let w = World::over_async(store, directory).await;
        super::rotation(&w).await;
    }
}

/// The API's extension (R29): `GET /v3/registry_credentials/:guid/apps`
/// and `?dry_run=true` on `POST`, `PATCH` and `DELETE`.
#[cfg(feature = "api")]
mod api {
    use registry_credentials::scope::UserId;
    use registry_credentials::{MemoryStore, Scope};
    use registry_credentials_cf::access::OrgRole;
    use registry_credentials_cf::api::{Api, Response};
    use registry_credentials_cf::manage::Manager;
    use registry_credentials_test_support::cf::World;
    use serde_json::{Value, json};

    fn call(
        w: &World<Manager<MemoryStore>>,
        who: &UserId,
        method: &str,
        path: &str,
        body: &Value,
    ) -> (u16, Value) {
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let r: Response = Api::new().handle_blocking(&w.m, who, method, path, &body);
        assert!(!r.body().contains("-pw"), "R21: a secret in {}", r.body());
        let value = if r.body().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(r.body()).unwrap()
        };
        (r.status(), value)
    }

    fn app_names(value: &Value) -> Vec<&str> {
        value["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().or(r["app"]["name"].as_str()).unwrap())
            .collect()
    }

    #[test]
    fn r29_the_rotation_through_the_api_with_its_dry_runs() {
        let w = World::new(MemoryStore::new());
        let alice = w.org_user("alice", OrgRole::Manager);
        let org = json!({"organization": {"data": {"guid": w.org.as_str()}}});
        let create = |location: &str, user: &str| json!({"location": location, "username": user, "password": format!("{user}-pw"), "relationships": org});
        let (status, a) = call(
            &w,
            &alice,
            "POST",
            "/v3/registry_credentials",
            &create("example.com", "robot-a"),
        );
        assert_eq!(status, 201);
        let a_guid = a["guid"].as_str().unwrap().to_owned();
        w.push("web", "registry.example.com/team/web:1", None)
            .started()
            .unwrap();
        w.push("cache", "quay.io/x/cache", None).started().unwrap();

        let apps_of = |guid: &str| {
            call(
                &w,
                &alice,
                "GET",
                &format!("/v3/registry_credentials/{guid}/apps"),
                &Value::Null,
            )
        };
        let (status, apps) = apps_of(&a_guid);
        assert_eq!(status, 200);
        let web = w.m.find_app(&w.dev, &w.space, "web").unwrap();
        assert_eq!(
            apps["resources"][0],
            json!({
                "guid": web.as_str(),
                "name": "web",
                "image": "registry.example.com/team/web:1",
                "space": {"guid": w.space.as_str(), "name": "s"},
                "organization": {"guid": w.org.as_str(), "name": "o"},
                "links": {
                    "self": {"href": format!("/v3/apps/{}", web.as_str())},
                    "space": {"href": format!("/v3/spaces/{}", w.space.as_str())},
                    "organization": {"href": format!("/v3/organizations/{}", w.org.as_str())},
                }
            })
        );
        assert_eq!(app_names(&apps), ["web"]);

        // The dry run of B: 200, the move, and nothing created.
        let b = create("registry.example.com", "robot-b");
        let (status, would) = call(
            &w,
            &alice,
            "POST",
            "/v3/registry_credentials?dry_run=true",
            &b,
        );
        assert_eq!(status, 200, "{would}");
        assert_eq!(
            (
                &would["resources"][0]["before"],
                &would["resources"][0]["after"]
            ),
            (
                &json!({"guid": a_guid, "scope": "organization", "location": "example.com", "username": "robot-a"}),
                &json!({"guid": null, "scope": "organization", "location": "registry.example.com", "username": "robot-b"}),
            )
        );
        assert_eq!(app_names(&would), ["web"]);
        let (_, listed) = call(
            &w,
            &alice,
            "GET",
            "/v3/registry_credentials?scopes=organization",
            &Value::Null,
        );
        assert_eq!(listed["pagination"]["total_results"], 1);

        let (status, b) = call(
            &w,
            &alice,
            "POST",
            "/v3/registry_credentials?dry_run=false",
            &b,
        );
        assert_eq!(status, 201);
        let b_guid = b["guid"].as_str().unwrap().to_owned();
        assert_eq!(app_names(&apps_of(&b_guid).1), ["web"]);
        assert!(app_names(&apps_of(&a_guid).1).is_empty());

        // A new password for B reaches its app, which keeps B.
        let path = format!("/v3/registry_credentials/{b_guid}?dry_run=true");
        let (status, would) = call(
            &w,
            &alice,
            "PATCH",
            &path,
            &json!({"password": "rotated-pw"}),
        );
        assert_eq!(status, 200);
        let moved = &would["resources"][0];
        assert_eq!(moved["before"]["guid"], moved["after"]["guid"]);
        let (_, would) = call(
            &w,
            &alice,
            "PATCH",
            &path,
            &json!({"metadata": {"labels": {"env": "prod"}}}),
        );
        assert_eq!(would, json!({"resources": []}));

        // A's delete moves nothing; its dry run says so and deletes nothing.
        let path = format!("/v3/registry_credentials/{a_guid}?dry_run=true");
        let (status, would) = call(&w, &alice, "DELETE", &path, &Value::Null);
        assert_eq!((status, would), (200, json!({"resources": []})));
        let (status, _) = call(
            &w,
            &alice,
            "GET",
            &format!("/v3/registry_credentials/{a_guid}"),
            &Value::Null,
        );
        assert_eq!(status, 200);
        let (status, _) = call(
            &w,
            &alice,
            "DELETE",
            &format!("/v3/registry_credentials/{a_guid}"),
            &Value::Null,
        );
        assert_eq!(status, 204);
    }

    #[test]
    fn r29_r20_r21_the_extension_refuses_as_the_resource_does() {
        let w = World::new(MemoryStore::new());
        let hub = w.store(Scope::Foundation, "docker.io", "hub", "hub-pw");
        let guid = hub.record().unwrap().guid().to_string();
        // The status, and the error's code when it is an error.
        let answer = |who: &UserId, method: &str, path: &str, body: &Value| {
            let (status, value) = call(&w, who, method, path, body);
            (status, value["errors"][0]["code"].as_u64())
        };
        let none = Value::Null;
        let credential = format!("/v3/registry_credentials/{guid}");
        let apps = format!("{credential}/apps");
        // A developer may see the foundation's credential and its apps,
        // but not dry-run its delete (R20).
        let dry_run_delete = format!("{credential}?dry_run=true");
        assert_eq!(
            answer(&w.dev, "DELETE", &dry_run_delete, &none),
            (403, Some(10003))
        );
        assert_eq!(answer(&w.dev, "GET", &apps, &none), (200, None));
        // A dry-run create is checked as a create: taken, and a space not
        // visible (422, as the platform hides it).
        let dry_run_create = "/v3/registry_credentials?dry_run=true";
        let taken = json!({"location": "docker.io", "username": "u", "password": "p-pw"});
        assert_eq!(
            answer(&w.admin, "POST", dry_run_create, &taken),
            (422, Some(10008))
        );
        let stranger = UserId::new("stranger").unwrap();
        let in_space = json!({"location": "example.com", "username": "u", "password": "p-pw",
            "relationships": {"space": {"data": {"guid": w.space.as_str()}}}});
        assert_eq!(
            answer(&stranger, "POST", dry_run_create, &in_space),
            (422, Some(10008))
        );
        // Unknown GUIDs, parameters and values.
        let missing = "/v3/registry_credentials/00000000-0000-4000-8000-000000000000/apps";
        for path in ["/v3/registry_credentials/not-a-guid/apps", missing] {
            assert_eq!(answer(&w.admin, "GET", path, &none), (404, Some(10010)));
        }
        for query in ["dry_run=yes", "dry_run=true&x=1", "preview=true"] {
            let path = format!("{credential}?{query}");
            let got = answer(&w.admin, "DELETE", &path, &none);
            assert_eq!(got, (400, Some(10005)), "{query}");
        }
        let dry_run_apps = format!("{apps}?dry_run=true");
        assert_eq!(
            answer(&w.admin, "GET", &dry_run_apps, &none),
            (400, Some(10005))
        );
        assert_eq!(answer(&w.admin, "POST", &apps, &none), (404, Some(10000)));
        // The credential is still there.
        assert_eq!(answer(&w.admin, "GET", &credential, &none), (200, None));
    }
}
