//! The management layer end to end: pushes in two phases (R19), listings
//! (R21), and passwords kept out of every listing, error and `Debug`.

use registry_credentials::*;

struct World {
    m: Manager<MemoryStore>,
    admin: UserId,
    dev: UserId,
    org: OrgId,
    space: SpaceId,
    other_space: SpaceId,
}

fn world() -> World {
    let mut m = Manager::new(MemoryStore::new());
    let admin = UserId::new("admin").unwrap();
    m.directory_mut()
        .grant_global(admin.clone(), GlobalRole::Admin);
    let org = m.create_org(&admin, Name::new("myorg").unwrap()).unwrap();
    let space = m
        .create_space(&admin, &org, Name::new("myspace").unwrap())
        .unwrap();
    let other_space = m
        .create_space(&admin, &org, Name::new("other").unwrap())
        .unwrap();
    let dev = UserId::new("dev").unwrap();
    m.set_space_role(&admin, dev.clone(), &space, SpaceRole::Developer)
        .unwrap();
    World {
        m,
        admin,
        dev,
        org,
        space,
        other_space,
    }
}

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn app_creds(m: &Manager<MemoryStore>) -> Vec<(String, String, String)> {
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
    let mut w = world();
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
    let staged =
        w.m.stage(
            &w.dev,
            &w.space,
            &name("app"),
            "nginx".parse().unwrap(),
            Some(given.clone()),
        )
        .unwrap();
    assert_eq!(staged.chosen().source(), Some("push"));
    assert_eq!(staged.chosen().credential(), Some(&given));
    assert_eq!(
        staged.chosen().location().map(Location::as_str),
        Some("docker.io/library")
    );
    // Staging failed: dropping the push stores nothing.
    drop(staged);
    assert!(app_creds(&w.m).is_empty());

    // Staging succeeded but start failed: nothing either.
    let staged =
        w.m.stage(
            &w.dev,
            &w.space,
            &name("app"),
            "nginx".parse().unwrap(),
            Some(given.clone()),
        )
        .unwrap();
    staged.failed();
    assert!(app_creds(&w.m).is_empty());

    // Started: stored for the most specific candidate.
    let staged =
        w.m.stage(
            &w.dev,
            &w.space,
            &name("app"),
            "nginx:1".parse().unwrap(),
            Some(given),
        )
        .unwrap();
    let started = staged.started(&w.m).unwrap();
    assert!(started.replaced().is_empty());
    assert_eq!(
        app_creds(&w.m),
        [("docker.io/library".into(), "mine".into(), "mine-pw".into())]
    );

    // A later push without credentials finds the app's own (R14).
    let staged =
        w.m.stage(
            &w.dev,
            &w.space,
            &name("app"),
            "nginx".parse().unwrap(),
            None,
        )
        .unwrap();
    assert_eq!(staged.chosen().source(), Some("app"));
    assert_eq!(staged.chosen().username().unwrap().as_str(), "mine");
    let started = staged.started(&w.m).unwrap();
    assert!(started.stored().is_none(), "nothing given, nothing stored");

    // New credentials replace them.
    let staged =
        w.m.stage(
            &w.dev,
            &w.space,
            &name("app"),
            "docker.io/library/nginx".parse().unwrap(),
            Some(Credential::new("newer", "newer-pw").unwrap()),
        )
        .unwrap();
    let started = staged.started(&w.m).unwrap();
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
    let staged =
        w.m.stage(
            &w.dev,
            &w.space,
            &name("another"),
            "nginx".parse().unwrap(),
            None,
        )
        .unwrap();
    assert_eq!(staged.chosen().source(), Some("foundation"));
    staged.failed();

    // Deleting it takes a location and an app (R18).
    let app = w.m.directory().app_id(&w.space, "app").unwrap().clone();
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
    let mut w = world();
    let staged =
        w.m.stage(
            &w.dev,
            &w.space,
            &name("app"),
            "registry.example.com/repo/img".parse().unwrap(),
            None,
        )
        .unwrap();
    assert!(matches!(staged.chosen(), Chosen::None));
    assert!(staged.chosen().credential().is_none());
    staged.started(&w.m).unwrap();
    assert!(w.m.store().is_empty());
}

#[test]
fn r20_a_refused_push_changes_nothing() {
    let mut w = world();
    // A developer of another space may not push here: not even the app
    // record appears.
    let outsider = UserId::new("outsider").unwrap();
    w.m.set_space_role(
        &w.admin,
        outsider.clone(),
        &w.other_space,
        SpaceRole::Developer,
    )
    .unwrap();
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
    assert!(w.m.directory().app_id(&w.space, "app").is_none());
    assert!(w.m.store().is_empty());
}

#[cfg(feature = "psl")]
#[test]
fn r9_r19_given_credentials_for_an_unstorable_location_serve_the_push_alone() {
    let mut w = world();
    let staged =
        w.m.stage(
            &w.dev,
            &w.space,
            &name("app"),
            "co.uk/img".parse().unwrap(),
            Some(Credential::new("u", "p").unwrap()),
        )
        .unwrap();
    assert_eq!(staged.chosen().source(), Some("push"));
    assert_eq!(staged.chosen().username().unwrap().as_str(), "u");
    assert!(staged.chosen().location().is_none());
    let started = staged.started(&w.m).unwrap();
    assert!(started.stored().is_none());
    assert!(app_creds(&w.m).is_empty());
}

#[test]
fn r19_a_later_push_with_new_credentials_replaces_the_apps_credentials() {
    let mut w = world();
    let push = |w: &mut World, image: &str, user: &str| {
        w.m.stage(
            &w.dev,
            &w.space,
            &name("app"),
            image.parse().unwrap(),
            Some(Credential::new(user, format!("{user}-pw")).unwrap()),
        )
        .unwrap()
        .started(&w.m)
        .unwrap()
    };
    push(&mut w, "nginx", "first");
    let started = push(&mut w, "registry.example.com/team/img", "second");
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
    let mut w = world();
    let loc: Location = "registry.example.com".parse().unwrap();
    for scope in [
        Scope::Foundation,
        Scope::Org(w.org.clone()),
        Scope::Space(w.space.clone()),
        Scope::Space(w.other_space.clone()),
    ] {
        w.m.create(
            &w.admin,
            RegistryCredential::new(
                scope.clone(),
                loc.clone(),
                Credential::new("u", "p").unwrap(),
            ),
        )
        .unwrap();
    }
    w.m.stage(
        &w.dev,
        &w.space,
        &name("app"),
        "registry.example.com/i".parse().unwrap(),
        Some(Credential::new("a", "p").unwrap()),
    )
    .unwrap()
    .started(&w.m)
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
    assert_eq!(
        kinds(Target::Space(w.other_space.clone())),
        [Space, Org, Foundation]
    );
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
    let mut w = world();
    let loc: Location = "registry.example.com".parse().unwrap();
    let mut texts: Vec<String> = Vec::new();
    let created =
        w.m.create(
            &w.dev,
            RegistryCredential::new(
                Scope::Space(w.space.clone()),
                loc.clone(),
                Credential::new("user", SECRET).unwrap(),
            ),
        )
        .unwrap();
    texts.push(format!("{created:?}"));
    let conflict =
        w.m.create(
            &w.dev,
            RegistryCredential::new(
                Scope::Space(w.space.clone()),
                loc.clone(),
                Credential::new("user", SECRET).unwrap(),
            ),
        )
        .unwrap_err();
    let refused =
        w.m.create(
            &w.dev,
            RegistryCredential::new(
                Scope::Foundation,
                loc.clone(),
                Credential::new("u", SECRET).unwrap(),
            ),
        )
        .unwrap_err();
    let missing =
        w.m.update(
            &w.dev,
            &Scope::Space(w.space.clone()),
            &"example.com".parse().unwrap(),
            CredentialUpdate::Password(Password::new(SECRET).unwrap()),
        )
        .unwrap_err();
    for e in [&conflict, &refused, &missing] {
        texts.push(e.to_string());
        texts.push(format!("{e:?} {e:#?}"));
    }
    let updated =
        w.m.update(
            &w.dev,
            &Scope::Space(w.space.clone()),
            &loc,
            CredentialUpdate::Both(Credential::new("user2", SECRET).unwrap()),
        )
        .unwrap();
    texts.push(format!("{updated:#?}"));
    let staged =
        w.m.stage(
            &w.dev,
            &w.space,
            &name("app"),
            "registry.example.com/img".parse().unwrap(),
            Some(Credential::new("pusher", SECRET).unwrap()),
        )
        .unwrap();
    texts.push(format!("{staged:?} {:?}", staged.chosen()));
    let started = staged.started(&w.m).unwrap();
    texts.push(format!("{started:#?}"));
    let staged =
        w.m.stage(
            &w.dev,
            &w.space,
            &name("app"),
            "registry.example.com/img".parse().unwrap(),
            None,
        )
        .unwrap();
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
    assert!(w
        .m
        .store()
        .list_all()
        .unwrap()
        .iter()
        .all(|c| c.password().expose() == SECRET));
}

/// A store whose writes fail while `broken` is set, to check that a
/// backend failure reaches the caller as such and changes nothing.
struct Flaky {
    inner: MemoryStore,
    broken: std::sync::atomic::AtomicBool,
}

impl Flaky {
    fn check(&self) -> Result<(), StoreError> {
        if self.broken.load(std::sync::atomic::Ordering::SeqCst) {
            Err(StoreError::Backend {
                retryable: true,
                source: "the disk is on fire".into(),
            })
        } else {
            Ok(())
        }
    }
}

impl CredentialStore for Flaky {
    fn get(&self, key: Key<'_>) -> Result<Option<std::sync::Arc<RegistryCredential>>, StoreError> {
        self.inner.get(key)
    }
    fn create(
        &self,
        c: RegistryCredential,
    ) -> Result<std::sync::Arc<RegistryCredential>, StoreError> {
        self.check()?;
        self.inner.create(c)
    }
    fn put(
        &self,
        c: RegistryCredential,
    ) -> Result<Option<std::sync::Arc<RegistryCredential>>, StoreError> {
        self.check()?;
        self.inner.put(c)
    }
    fn update(
        &self,
        key: Key<'_>,
        u: CredentialUpdate,
    ) -> Result<std::sync::Arc<RegistryCredential>, StoreError> {
        self.check()?;
        self.inner.update(key, u)
    }
    fn delete(&self, key: Key<'_>) -> Result<std::sync::Arc<RegistryCredential>, StoreError> {
        self.check()?;
        self.inner.delete(key)
    }
    fn list(
        &self,
        scope: ScopeRef<'_>,
    ) -> Result<Vec<std::sync::Arc<RegistryCredential>>, StoreError> {
        self.inner.list(scope)
    }
    fn list_all(&self) -> Result<Vec<std::sync::Arc<RegistryCredential>>, StoreError> {
        self.inner.list_all()
    }
}

#[test]
fn r16_r19_backend_failures_change_nothing() {
    let mut m = Manager::new(Flaky {
        inner: MemoryStore::new(),
        broken: false.into(),
    });
    let admin = UserId::new("admin").unwrap();
    m.directory_mut()
        .grant_global(admin.clone(), GlobalRole::Admin);
    let org = m.create_org(&admin, name("o")).unwrap();
    let space = m.create_space(&admin, &org, name("s")).unwrap();
    let loc: Location = "registry.example.com".parse().unwrap();
    m.create(
        &admin,
        RegistryCredential::new(
            Scope::Foundation,
            loc.clone(),
            Credential::new("u", "p").unwrap(),
        ),
    )
    .unwrap();
    let staged = m
        .stage(
            &admin,
            &space,
            &name("app"),
            "registry.example.com/img".parse().unwrap(),
            Some(Credential::new("app-user", "app-pw").unwrap()),
        )
        .unwrap();

    m.store()
        .broken
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let e = staged.started(&m).unwrap_err();
    assert!(
        matches!(&e, ManageError::Store(s) if s.is_retryable()),
        "{e}"
    );
    assert_eq!(e.to_string(), "the credential store failed (retry later)");
    let e = m
        .update(
            &admin,
            &Scope::Foundation,
            &loc,
            CredentialUpdate::Username("v".parse().unwrap()),
        )
        .unwrap_err();
    assert!(matches!(e, ManageError::Store(_)), "{e}");
    let e = m.delete(&admin, &Scope::Foundation, &loc).unwrap_err();
    assert!(matches!(e, ManageError::Store(_)), "{e}");
    let all = m.store().list_all().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].username().as_str(), "u");
    assert_eq!(all[0].password().expose(), "p");
}
