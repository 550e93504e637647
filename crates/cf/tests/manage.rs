//! The management layer end to end: pushes in two phases (R19), listings
//! (R21), and passwords kept out of every listing, error and `Debug`.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, Mutex, PoisonError};

use registry_credentials::credential::CredentialUpdate;
use registry_credentials::scope::{AppId, OrgId, ScopeRef, SpaceId, UserId};
use registry_credentials::store::conformance::{Call, Hooked, Hooks};
use registry_credentials::{
    App, Credential, CredentialStore, Location, MemoryStore, Password, Reference,
    RegistryCredential, Scope, ScopeKind, StoreError,
};
use registry_credentials_cf::access::{GlobalRole, OrgRole, Roles, SpaceRole};
use registry_credentials_cf::directory::{
    DirectoryError, DirectoryReader, DirectoryWriter, MemoryDirectory, Name,
};
use registry_credentials_cf::listing::Target;
use registry_credentials_cf::manage::{Chosen, ManageError, Manager, Refused, Source, Started};
use registry_credentials_test_support::cf::{World, name};

fn world() -> World<Manager<MemoryStore>> {
    World::new(MemoryStore::new())
}

fn app_creds<D: DirectoryWriter>(m: &Manager<MemoryStore, D>) -> Vec<(String, String, String)> {
    m.store()
        .list_all()
        .unwrap()
        .iter()
        .filter(|c| c.scope().kind() == ScopeKind::App)
        .map(|c| {
            (
                c.location().to_string(),
                c.username().to_string(),
                c.password().expose().to_owned(),
            )
        })
        .collect()
}

#[test]
fn r19_given_credentials_win_and_are_stored_only_once_started() {
    let w = world();
    w.m.create(
        &w.admin,
        RegistryCredential::new(
            Scope::Foundation,
            "docker.io/library".parse().unwrap(),
            Credential::new("hub", "hub-pw").unwrap(),
        ),
    )
    .unwrap();
    let given = Credential::new("mine", "mine-pw").unwrap();

    // With credentials: they are used ahead of every stored one.
    let staged = w.push("app", "nginx", Some(given.clone()));
    assert_eq!(staged.chosen().source(), Some(Source::Push));
    assert_eq!(staged.chosen().credential(), Some(&given));
    assert_eq!(
        staged.chosen().location().map(Location::as_str),
        Some("docker.io/library")
    );
    // Staging failed: dropping the push stores nothing.
    drop(staged);
    assert!(app_creds(&w.m).is_empty());

    // Staging succeeded but start failed: nothing either.
    let staged = w.push("app", "nginx", Some(given.clone()));
    staged.failed();
    assert!(app_creds(&w.m).is_empty());

    // Started: stored for the most specific candidate.
    let staged = w.push("app", "nginx:1", Some(given));
    let started = staged.started().unwrap();
    assert!(started.replaced().is_empty());
    assert_eq!(
        app_creds(&w.m),
        [("docker.io/library".into(), "mine".into(), "mine-pw".into())]
    );

    // A later push without credentials finds the app's own (R14).
    let staged = w.push("app", "nginx", None);
    assert_eq!(
        staged.chosen().source(),
        Some(Source::Stored(ScopeKind::App))
    );
    assert_eq!(staged.chosen().username().unwrap().as_str(), "mine");
    let started = staged.started().unwrap();
    assert!(started.stored().is_none(), "nothing given, nothing stored");

    // New credentials replace them.
    let staged = w.push(
        "app",
        "docker.io/library/nginx",
        Some(Credential::new("newer", "newer-pw").unwrap()),
    );
    let started = staged.started().unwrap();
    assert_eq!(started.replaced()[0].username().as_str(), "mine");
    assert_eq!(
        app_creds(&w.m),
        [(
            "docker.io/library".into(),
            "newer".into(),
            "newer-pw".into()
        )]
    );

    // An app credential serves that app alone.
    let staged = w.push("another", "nginx", None);
    assert_eq!(
        staged.chosen().source(),
        Some(Source::Stored(ScopeKind::Foundation))
    );
    staged.failed();

    // Deleting it takes a location and an app (R18).
    let app =
        w.m.directory()
            .app_by_name(&w.space, "app")
            .unwrap()
            .expect("pushed");
    let e =
        w.m.delete(
            &w.dev,
            &Scope::App(app.clone()),
            &"docker.io".parse().unwrap(),
        )
        .unwrap_err();
    assert!(matches!(e, ManageError::NotFound { .. }), "{e}");
    w.m.delete(
        &w.dev,
        &Scope::App(app),
        &"docker.io/library".parse().unwrap(),
    )
    .unwrap();
    assert!(app_creds(&w.m).is_empty());
}

#[test]
fn r15_r19_without_credentials_the_search_decides() {
    let w = world();
    let staged = w.push("app", "registry.example.com/repo/img", None);
    assert!(matches!(staged.chosen(), Chosen::None));
    assert!(staged.chosen().credential().is_none());
    staged.started().unwrap();
    assert!(w.m.store().is_empty());
}

#[test]
fn r20_a_refused_push_changes_nothing() {
    let w = world();
    // A developer of another space may not push here: not even the app
    // record appears.
    let other_space = w.add_space("other");
    let outsider = w.user("outsider", &other_space, SpaceRole::Developer);
    let e =
        w.m.stage(
            &outsider,
            &w.space,
            &name("app"),
            "nginx".parse().unwrap(),
            Some(Credential::new("u", "p").unwrap()),
        )
        .unwrap_err();
    assert!(matches!(e, ManageError::Permission(_)), "{e}");
    assert!(
        w.m.directory()
            .app_by_name(&w.space, "app")
            .unwrap()
            .is_none()
    );
    assert!(w.m.store().is_empty());
}

// The core's `psl` feature (on by default, and this crate keeps the
// defaults) makes `co.uk` a public suffix.
#[test]
fn r9_r19_given_credentials_for_an_unstorable_location_serve_the_push_alone() {
    let w = world();
    let staged = w.push("app", "co.uk/img", Some(Credential::new("u", "p").unwrap()));
    assert_eq!(staged.chosen().source(), Some(Source::Push));
    assert_eq!(staged.chosen().username().unwrap().as_str(), "u");
    assert!(staged.chosen().location().is_none());
    let started = staged.started().unwrap();
    assert!(started.stored().is_none());
    assert!(app_creds(&w.m).is_empty());
}

#[test]
fn r19_a_later_push_with_new_credentials_replaces_the_apps_credentials() {
    let w = world();
    let push = |image: &str, user: &str| {
        let given = Credential::new(user, format!("{user}-pw")).unwrap();
        w.push("app", image, Some(given)).started().unwrap()
    };
    push("nginx", "first");
    let started = push("registry.example.com/team/img", "second");
    assert_eq!(started.replaced().len(), 1);
    assert_eq!(
        started.replaced()[0].location().as_str(),
        "docker.io/library"
    );
    assert_eq!(
        app_creds(&w.m),
        [(
            "registry.example.com/team".into(),
            "second".into(),
            "second-pw".into()
        )]
    );
}

#[test]
fn r21_listing_targets() {
    let w = world();
    let other_space = w.add_space("other");
    for scope in [
        Scope::Foundation,
        Scope::Org(w.org.clone()),
        Scope::Space(w.space.clone()),
        Scope::Space(other_space.clone()),
    ] {
        w.store(scope, "registry.example.com", "u", "p");
    }
    w.push(
        "app",
        "registry.example.com/i",
        Some(Credential::new("a", "p").unwrap()),
    )
    .started()
    .unwrap();
    let kinds = |t: Target| -> Vec<ScopeKind> {
        w.m.list(&w.admin, &t)
            .unwrap()
            .rows()
            .iter()
            .map(|r| r.scope)
            .collect()
    };
    use ScopeKind::*;
    assert_eq!(kinds(Target::Foundation), [Foundation]);
    assert_eq!(kinds(Target::Org(w.org.clone())), [Org, Foundation]);
    assert_eq!(
        kinds(Target::Space(w.space.clone())),
        [App, Space, Org, Foundation]
    );
    assert_eq!(kinds(Target::Space(other_space)), [Space, Org, Foundation]);
    let listing = w.m.list(&w.dev, &Target::Space(w.space.clone())).unwrap();
    assert_eq!(listing.rows()[0].app_name.as_ref().unwrap().as_str(), "app");
    let e =
        w.m.list(&w.dev, &Target::Space(SpaceId::new("nope").unwrap()))
            .unwrap_err();
    assert!(matches!(e, ManageError::Unknown { .. }), "{e}");
}

#[test]
fn r21_passwords_never_in_listings_errors_or_debug() {
    const SECRET: &str = "Zebra-Secret-31415";
    let w = world();
    let loc: Location = "registry.example.com".parse().unwrap();
    let mut texts: Vec<String> = Vec::new();
    let credential = |scope: Scope, user: &str| {
        RegistryCredential::new(scope, loc.clone(), Credential::new(user, SECRET).unwrap())
    };
    let (m, dev, space) = (&w.m, &w.dev, Scope::Space(w.space.clone()));
    let created = m.create(dev, credential(space.clone(), "user")).unwrap();
    texts.push(format!("{created:?}"));
    let conflict = m
        .create(dev, credential(space.clone(), "user"))
        .unwrap_err();
    let refused = m
        .create(dev, credential(Scope::Foundation, "u"))
        .unwrap_err();
    let password = CredentialUpdate::Password(Password::new(SECRET).unwrap());
    let missing = m
        .update(dev, &space, &"example.com".parse().unwrap(), password)
        .unwrap_err();
    for e in [&conflict, &refused, &missing] {
        texts.push(e.to_string());
        texts.push(format!("{e:?} {e:#?}"));
    }
    let both = CredentialUpdate::Both(Credential::new("user2", SECRET).unwrap());
    let updated = m.update(dev, &space, &loc, both).unwrap();
    texts.push(format!("{updated:#?}"));
    let staged = w.push(
        "app",
        "registry.example.com/img",
        Some(Credential::new("pusher", SECRET).unwrap()),
    );
    texts.push(format!("{staged:?} {:?}", staged.chosen()));
    let started = staged.started().unwrap();
    texts.push(format!("{started:#?}"));
    let staged = w.push("app", "registry.example.com/img", None);
    texts.push(format!("{staged:#?}"));
    staged.failed();
    let listing = w.m.list(&w.dev, &Target::Space(w.space.clone())).unwrap();
    texts.push(listing.to_string());
    texts.push(format!("{listing:#?}"));
    texts.push(format!("{:?} {:?}", w.m, w.m.store()));
    assert_eq!(listing.len(), 2);
    for t in &texts {
        assert!(!t.contains(SECRET), "a password leaked: {t}");
    }
    // The secret is really there, so the checks above could fail.
    assert!(
        w.m.store()
            .list_all()
            .unwrap()
            .iter()
            .all(|c| c.password().expose() == SECRET)
    );
}

/// A store whose writes fail while `broken` is set, to check that a
/// backend failure reaches the caller as such and changes nothing.
#[derive(Default)]
struct Flaky {
    broken: AtomicBool,
}

impl Hooks for Flaky {
    fn before(&self, call: Call<'_>) -> Result<(), StoreError> {
        if call.is_write() && self.broken.load(Ordering::SeqCst) {
            Err(StoreError::Backend {
                retryable: true,
                source: "the disk is on fire".into(),
            })
        } else {
            Ok(())
        }
    }
}

/// A world over a [`Flaky`] memory store.
fn flaky_world() -> World<Manager<Hooked<MemoryStore, Flaky>>> {
    World::over(
        Hooked::new(MemoryStore::new(), Flaky::default()),
        MemoryDirectory::new(),
    )
}

#[test]
fn r16_r19_backend_failures_change_nothing() {
    let w = flaky_world();
    let (m, admin) = (&w.m, &w.admin);
    let loc: Location = "registry.example.com".parse().unwrap();
    w.store(Scope::Foundation, loc.as_str(), "u", "p");
    let given = Credential::new("app-user", "app-pw").unwrap();
    let staged = w.push("app", "registry.example.com/img", Some(given));

    m.store().broken.store(true, Ordering::SeqCst);
    let e = staged.started().unwrap_err();
    assert!(
        matches!(&e, ManageError::Store(s) if s.is_retryable()),
        "{e}"
    );
    assert_eq!(e.to_string(), "the credential store failed (retry later)");
    let e = m
        .update(
            admin,
            &Scope::Foundation,
            &loc,
            CredentialUpdate::Username("v".parse().unwrap()),
        )
        .unwrap_err();
    assert!(matches!(e, ManageError::Store(_)), "{e}");
    let e = m.delete(admin, &Scope::Foundation, &loc).unwrap_err();
    assert!(matches!(e, ManageError::Store(_)), "{e}");
    let all = m.store().list_all().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].username().as_str(), "u");
    assert_eq!(all[0].password().expose(), "p");
}

/// A [`MemoryDirectory`] with two levers for tests; everything else is the
/// inner directory's.
///
/// - Its operator can take every role away from a user at once, as cf
///   does when a user is removed from a space: `roles` answers none for a
///   revoked user.
/// - With a `rendezvous`, the first `add_app` in each thread waits for the
///   other threads': two first pushes of one new app, both past their
///   look-up of the name before either adds it.
#[derive(Default)]
struct TestDirectory {
    inner: MemoryDirectory,
    revoked: Mutex<BTreeSet<UserId>>,
    rendezvous: Option<Barrier>,
}

thread_local! {
    static ADDED_ONCE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl TestDirectory {
    fn revoke(&self, user: &UserId) {
        self.revoked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(user.clone());
    }
}

/// Methods of [`TestDirectory`] that are its inner directory's, unchanged.
macro_rules! inner {
    ($(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $out:ty;)*) => {$(
        fn $name(&self $(, $arg: $ty)*) -> Result<$out, DirectoryError> {
            self.inner.$name($($arg),*)
        }
    )*};
}

impl DirectoryReader for TestDirectory {
    fn roles(&self, user: &UserId) -> Result<Roles, DirectoryError> {
        let revoked = self
            .revoked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(user);
        if revoked {
            Ok(Roles::new())
        } else {
            self.inner.roles(user)
        }
    }
    inner! {
        fn org_by_name(&self, name: &str) -> Option<OrgId>;
        fn space_by_name(&self, org: &OrgId, name: &str) -> Option<SpaceId>;
        fn app_by_name(&self, space: &SpaceId, name: &str) -> Option<AppId>;
        fn org_name(&self, org: &OrgId) -> Option<Name>;
        fn space(&self, space: &SpaceId) -> Option<(OrgId, Name)>;
        fn app(&self, app: &AppId) -> Option<(App, Name)>;
        fn apps_in(&self, space: &SpaceId) -> Vec<(App, Name)>;
        fn spaces_in(&self, org: &OrgId) -> Vec<(SpaceId, Name)>;
        fn app_images(&self, within: &Scope) -> Vec<(App, Name, Reference)>;
    }
}

impl DirectoryWriter for TestDirectory {
    fn add_app(&self, id: AppId, space: &SpaceId, name: Name) -> Result<(), DirectoryError> {
        if let Some(rendezvous) = &self.rendezvous {
            if !ADDED_ONCE.with(|a| a.replace(true)) {
                rendezvous.wait();
            }
        }
        self.inner.add_app(id, space, name)
    }
    inner! {
        fn add_org(&self, id: OrgId, name: Name) -> ();
        fn add_space(&self, id: SpaceId, org: &OrgId, name: Name) -> ();
        fn remove_org(&self, org: &OrgId) -> ();
        fn remove_space(&self, space: &SpaceId) -> ();
        fn remove_app(&self, app: &AppId) -> ();
        fn set_app_image(&self, app: &AppId, image: &Reference) -> ();
        fn grant_global(&self, user: UserId, role: GlobalRole) -> ();
        fn grant_org(&self, user: UserId, org: &OrgId, role: OrgRole) -> ();
        fn grant_space(&self, user: UserId, space: &SpaceId, role: SpaceRole) -> ();
    }
}

#[test]
fn r19_r20_a_push_whose_caller_lost_the_role_before_start_stores_nothing() {
    let w = World::over(MemoryStore::new(), TestDirectory::default());
    let (m, dev, space) = (&w.m, &w.dev, &w.space);
    // An earlier push left the app a credential.
    let before = Credential::new("before", "before-pw").unwrap();
    w.push("app", "nginx", Some(before)).started().unwrap();
    let kept = [(
        "docker.io/library".into(),
        "before".into(),
        "before-pw".into(),
    )];
    assert_eq!(app_creds(m), kept);

    // Staged while a Space Developer…
    let after = Credential::new("after", "after-pw").unwrap();
    let staged = w.push("app", "registry.example.com/team/img", Some(after));
    assert_eq!(staged.chosen().source(), Some(Source::Push));
    // …removed from the space before the app started (R20).
    m.directory().revoke(dev);
    let e = staged.started().unwrap_err();
    let ManageError::Permission(p) = &e else {
        panic!("not a permission error: {e}");
    };
    assert_eq!(p.user(), dev);
    assert_eq!(p.refused(), Refused::Push);
    assert_eq!(p.scope(), &Scope::Space(space.clone()));
    assert_eq!(
        e.to_string(),
        "user `dev` may not push app `app` to space `s` of organization `o`: \
         only an admin or a space developer of that space may"
    );
    assert!(!e.to_string().contains("after-pw"));
    // R19: nothing was stored; the app keeps what it had.
    assert_eq!(app_creds(m), kept);
    assert_eq!(m.store().len(), 1);
}

#[test]
fn r19_two_pushes_starting_at_once_leave_exactly_one_credential() {
    let w = world();
    // The app exists (staging a new app adds it to the directory), with a
    // credential of its own from an earlier push.
    w.push(
        "app",
        "example.com/img",
        Some(Credential::new("first", "first-pw").unwrap()),
    )
    .started()
    .unwrap();
    let pushes = [
        ("nginx:1.27", "docker.io/library", "one", "one-pw"),
        (
            "registry.example.com/team/img",
            "registry.example.com/team",
            "two",
            "two-pw",
        ),
    ];
    let cred = |c: &RegistryCredential| {
        (
            c.location().to_string(),
            c.username().to_string(),
            c.password().expose().to_owned(),
        )
    };
    for round in 0..64 {
        let barrier = Barrier::new(pushes.len());
        let started: Vec<Started> = std::thread::scope(|threads| {
            let handles: Vec<_> = pushes
                .iter()
                .map(|(image, _, user, pw)| {
                    let (w, barrier) = (&w, &barrier);
                    threads.spawn(move || {
                        let staged =
                            w.push("app", image, Some(Credential::new(*user, *pw).unwrap()));
                        barrier.wait();
                        staged.started().unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });

        // Exactly one credential for the app, and it is one of the two
        // pairs whole: its location, username and password from one push.
        let left = app_creds(&w.m);
        assert_eq!(left.len(), 1, "round {round}: {left:?}");
        let last = pushes
            .iter()
            .position(|(_, loc, user, pw)| left[0] == ((*loc).into(), (*user).into(), (*pw).into()))
            .unwrap_or_else(|| panic!("round {round}: {left:?} is neither push's"));
        // The one that took effect last replaced the other's (R19).
        let other = &started[1 - last];
        let stored = cred(other.stored().expect("credentials were given"));
        assert!(
            started[last].replaced().iter().any(|c| cred(c) == stored),
            "round {round}: the last push did not replace {stored:?}"
        );
        assert_eq!(
            started[last].stored().map(|c| cred(c)),
            Some(left[0].clone())
        );
    }
    // Nothing but the app's credential was ever stored.
    assert_eq!(w.m.store().len(), 1);
}

/// R13, R19: two first pushes of one new app at the same moment both go
/// on, to the same app: the second to add it finds the name taken and
/// pushes to the app the first added.
#[test]
fn r13_r19_two_first_pushes_of_a_new_app_push_to_one_app() {
    let directory = TestDirectory {
        rendezvous: Some(Barrier::new(2)),
        ..TestDirectory::default()
    };
    let w = World::over(MemoryStore::new(), directory);
    let apps: Vec<AppId> = std::thread::scope(|threads| {
        let pushes: Vec<_> = (0..2)
            .map(|t| {
                let w = &w;
                threads.spawn(move || {
                    let given = Credential::new(format!("u{t}"), "pw").unwrap();
                    let staged = w.push("new-app", "nginx", Some(given));
                    let id = staged.app().id().clone();
                    staged.started().unwrap();
                    id
                })
            })
            .collect();
        pushes.into_iter().map(|p| p.join().unwrap()).collect()
    });
    assert_eq!(apps[0], apps[1], "both pushes went to one app");
    assert_eq!(w.m.directory().inner.apps().len(), 1);
    let held = w.m.store().list(ScopeRef::App(&apps[0])).unwrap();
    assert_eq!(held.len(), 1, "R19: one credential");
}

/// R13: deleting an organization, space or app deletes the credentials at
/// it and below it, so a later one of the same name inherits nothing; R20:
/// who may delete each (as cf: Admin for organizations, Admin or Org
/// Manager for spaces, Admin or Space Developer for apps).
#[test]
fn r13_r20_deleting_orgs_spaces_and_apps_deletes_their_credentials() {
    let w = world();
    let m = &w.m;
    let manager = UserId::new("org-manager").unwrap();
    m.set_org_role(&w.admin, manager.clone(), &w.org, OrgRole::Manager)
        .unwrap();
    w.store(
        Scope::Org(w.org.clone()),
        "org.example.com",
        "o",
        "pw-delete",
    );
    let space_scope = Scope::Space(w.space.clone());
    w.store(space_scope, "space.example.com", "s", "pw-delete");
    w.store(Scope::Foundation, "docker.io", "f", "pw-delete");
    let given = Credential::new("a", "pw-app").unwrap();
    let staged = w.push("app", "registry.example.com/team/x", Some(given));
    let app = staged.app().id().clone();
    staged.started().unwrap();

    // R20: refusals change nothing.
    let outsider = UserId::new("outsider").unwrap();
    assert!(matches!(
        m.delete_app(&outsider, &app),
        Err(ManageError::Permission(_))
    ));
    assert!(matches!(
        m.delete_app(&manager, &app),
        Err(ManageError::Permission(_))
    ));
    let e = m.delete_space(&w.dev, &w.space).unwrap_err();
    assert!(
        matches!(&e, ManageError::Permission(p) if p.refused() == Refused::DeleteSpace),
        "{e}"
    );
    let e = m.delete_org(&manager, &w.org).unwrap_err();
    assert!(
        matches!(&e, ManageError::Permission(p) if p.refused() == Refused::DeleteOrg),
        "{e}"
    );
    assert_eq!(m.store().list_all().unwrap().len(), 4);

    // A Space Developer deletes the app: its credential goes with it.
    let gone = m.delete_app(&w.dev, &app).unwrap();
    assert_eq!(gone.len(), 1);
    assert!(m.directory().app(&app).unwrap().is_none());
    // A new app of the same name is a new id, with no credential.
    let staged = w.push("app", "registry.example.com/team/x", None);
    assert_ne!(staged.app().id(), &app);
    assert_eq!(staged.chosen().source(), None);
    staged.started().unwrap();

    // An Org Manager deletes the space; an admin the organization.
    let gone = m.delete_space(&manager, &w.space).unwrap();
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].location().as_str(), "space.example.com");
    let gone = m.delete_org(&w.admin, &w.org).unwrap();
    assert_eq!(gone.len(), 1);
    assert_eq!(
        m.store()
            .list_all()
            .unwrap()
            .iter()
            .map(|c| c.location().as_str().to_owned())
            .collect::<Vec<_>>(),
        ["docker.io"]
    );
    // A new organization of the old name inherits nothing (R13).
    let again = m.create_org(&w.admin, name("o")).unwrap();
    assert_ne!(again, w.org);
    let space = m.create_space(&w.admin, &again, name("s")).unwrap();
    m.set_space_role(&w.admin, w.dev.clone(), &space, SpaceRole::Developer)
        .unwrap();
    let listing = m.list(&w.dev, &Target::Space(space)).unwrap();
    assert_eq!(listing.len(), 1, "{listing}");
    assert!(matches!(
        m.delete_org(&w.admin, &w.org),
        Err(ManageError::Unknown { .. })
    ));
}

/// R13 through the async front: the same deletions, the same rules.
#[tokio::test]
async fn r13_async_manager_deletes_an_app_and_its_credentials() {
    use registry_credentials::store::InlineStore;
    use registry_credentials_cf::directory::InlineDirectory;
    let w = World::over_async(
        InlineStore(MemoryStore::new()),
        InlineDirectory(MemoryDirectory::new()),
    )
    .await;
    let (m, admin, org, space) = (&w.m, &w.admin, &w.org, &w.space);
    let given = Credential::new("u", "pw-async").unwrap();
    let staged = w.push_async("app", "nginx", Some(given)).await;
    let app = staged.app().id().clone();
    staged.started().await.unwrap();
    let stranger = UserId::new("stranger").unwrap();
    assert!(matches!(
        m.delete_app(&stranger, &app).await,
        Err(ManageError::Permission(_))
    ));
    assert_eq!(m.delete_app(admin, &app).await.unwrap().len(), 1);
    assert!(m.store().0.list_all().unwrap().is_empty());
    assert!(m.delete_space(admin, space).await.unwrap().is_empty());
    assert!(m.delete_org(admin, org).await.unwrap().is_empty());
    assert!(m.directory().0.org_by_name("o").unwrap().is_none());
}

/// R27 through the manager: every committed management write (create,
/// update, delete, a started push) leaves its event, with the caller and
/// the place; a write the backend fails leaves none; and a caller lists
/// only the events of credentials it may see (R21).
#[test]
fn r27_committed_writes_leave_events_and_failed_ones_none() {
    use registry_credentials::store::audit::{AuditQuery, EventType};
    let w = flaky_world();
    let (m, admin) = (&w.m, &w.admin);
    let foundation = w.store(Scope::Foundation, "registry.example.com", "u", "p");
    let space = Scope::Space(w.space.clone());
    let loc: Location = "quay.io".parse().unwrap();
    m.create(
        &w.dev,
        RegistryCredential::new(
            space.clone(),
            loc.clone(),
            Credential::new("d", "dp").unwrap(),
        ),
    )
    .unwrap();
    m.update(
        &w.dev,
        &space,
        &loc,
        CredentialUpdate::Username("d2".parse().unwrap()),
    )
    .unwrap();
    let given = Credential::new("app-user", "app-pw").unwrap();
    w.push("app", "registry.example.com/img", Some(given))
        .started()
        .unwrap();
    m.delete(admin, &Scope::Foundation, foundation.location())
        .unwrap();

    let events = m.audit_events(admin, AuditQuery::new()).unwrap();
    // Events of one second are ordered by their GUIDs: compare as sets.
    let mut types: Vec<EventType> = events.resources().iter().map(|e| e.event_type()).collect();
    types.sort();
    assert_eq!(
        types,
        [
            EventType::Create,
            EventType::Create,
            EventType::Update,
            EventType::Delete,
            EventType::Push,
        ]
    );
    let update = events
        .resources()
        .iter()
        .find(|e| e.event_type() == EventType::Update)
        .unwrap();
    assert_eq!(update.actor().id(), "dev");
    assert_eq!(update.context().organization(), Some(&w.org));
    assert_eq!(update.context().space(), Some(&w.space));
    assert_eq!(update.changes().username_before().unwrap().as_str(), "d");
    let text = format!("{events:?}");
    assert!(!text.contains("app-pw") && !text.contains("dp\""), "{text}");

    // The developer sees the foundation's and its own space's events.
    let seen = m.audit_events(&w.dev, AuditQuery::new()).unwrap();
    assert_eq!(seen.total_results(), 5);
    let stranger = w.org_user("stranger", registry_credentials_cf::access::OrgRole::User);
    let seen = m.audit_events(&stranger, AuditQuery::new()).unwrap();
    assert_eq!(
        seen.total_results(),
        2,
        "the foundation's create and delete"
    );

    m.store().broken.store(true, Ordering::SeqCst);
    let refused = m.update(
        &w.dev,
        &space,
        &loc,
        CredentialUpdate::Username("d3".parse().unwrap()),
    );
    assert!(refused.is_err());
    m.store().broken.store(false, Ordering::SeqCst);
    let after = m.audit_events(admin, AuditQuery::new()).unwrap();
    assert_eq!(after.total_results(), 5, "a failed write records nothing");

    // Deleting the space deletes its credential and its app's, each
    // recorded in its place.
    let removed = m.delete_space(admin, &w.space).unwrap();
    assert_eq!(removed.len(), 2);
    let deletes = m
        .audit_events(
            admin,
            AuditQuery::new()
                .types([EventType::Delete])
                .spaces([w.space.clone()]),
        )
        .unwrap();
    assert_eq!(deletes.total_results(), 2);
    assert!(
        deletes
            .resources()
            .iter()
            .all(|e| e.context().organization() == Some(&w.org) && e.actor().id() == "admin")
    );
}
