//! One conformance suite for every store: the contract of
//! `CredentialStore` (R13–R18, R21 listing order) and resolution over it
//! (R14, R15, R17).
//!
//! A test file includes this module, defines `fn store() -> impl
//! CredentialStore` returning a fresh, empty store, and calls
//! `store_conformance!()`, which makes one `#[test]` per function below.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};

use registry_credentials::{
    explain, resolve, resolve_all, App, AppId, Credential, CredentialStore, CredentialUpdate, Key,
    Location, OrgId, Password, RegistryCredential, Scope, ScopeKind, SpaceId, StoreError, Username,
};

/// One `#[test]` per suite function, each on a fresh `store()`. With
/// `optional`, `store()` returns an `Option` and a test whose store is
/// `None` (its server is not configured) passes after saying so.
#[macro_export]
macro_rules! store_conformance {
    () => {
        $crate::store_conformance!(@all required);
    };
    (optional) => {
        $crate::store_conformance!(@all optional);
    };
    (@all $mode:ident) => {
        $crate::store_conformance!(@each $mode,
            r16_create_then_get,
            r16_create_conflict_keeps_the_stored_credential,
            r7_locations_conflict_in_normal_form,
            r13_one_location_at_each_scope_is_distinct,
            r17_update_username_password_or_both,
            r17_update_of_a_missing_credential_is_not_found,
            r18_delete_returns_the_credential_and_then_it_is_gone,
            r19_put_replaces_whole_and_returns_the_old,
            r21_list_is_one_scope_ordered_by_location,
            r21_list_all_is_ordered_by_scope_then_location,
            get_many_answers_in_order_with_gaps,
            get_many_answers_long_key_lists,
            r14_resolution_scope_outranks_specificity,
            r15_nothing_found_is_not_an_error,
            r17_resolution_sees_every_write,
            r16_racing_creates_exactly_one_wins,
            r16_limits_and_unicode_round_trip,
        );
    };
    (@each required, $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                store_conformance::$name(&store());
            }
        )*
    };
    (@each optional, $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                if let Some(store) = store() {
                    store_conformance::$name(&store);
                }
            }
        )*
    };
}

pub fn loc(s: &str) -> Location {
    s.parse().unwrap()
}

pub fn org(s: &str) -> Scope {
    Scope::Org(OrgId::new(s).unwrap())
}

pub fn space(s: &str) -> Scope {
    Scope::Space(SpaceId::new(s).unwrap())
}

pub fn app_scope(s: &str) -> Scope {
    Scope::App(AppId::new(s).unwrap())
}

pub fn cred(scope: Scope, location: &str, user: &str, password: &str) -> RegistryCredential {
    RegistryCredential::new(
        scope,
        loc(location),
        Credential::new(user, password).unwrap(),
    )
}

fn user_at<S: CredentialStore + ?Sized>(s: &S, scope: &Scope, location: &str) -> Option<String> {
    s.get(Key::new(scope.as_ref(), location))
        .unwrap()
        .map(|c| c.username().as_str().to_owned())
}

pub fn r16_create_then_get<S: CredentialStore + ?Sized>(s: &S) {
    let o = org("org-1");
    let made = s
        .create(cred(
            o.clone(),
            "registry.example.com/team",
            "alice",
            "pw-1",
        ))
        .unwrap();
    assert_eq!(made.username().as_str(), "alice");
    let got = s
        .get(Key::new(o.as_ref(), "registry.example.com/team"))
        .unwrap()
        .expect("stored");
    assert_eq!(got.scope(), &o);
    assert_eq!(got.location().as_str(), "registry.example.com/team");
    assert_eq!(got.username().as_str(), "alice");
    assert_eq!(got.password().expose(), "pw-1");
    // Missing is not an error.
    assert!(s
        .get(Key::new(o.as_ref(), "registry.example.com"))
        .unwrap()
        .is_none());
    assert!(s
        .get(Key::new(org("org-2").as_ref(), "registry.example.com/team"))
        .unwrap()
        .is_none());
    assert!(s
        .get(Key::new(
            space("org-1").as_ref(),
            "registry.example.com/team"
        ))
        .unwrap()
        .is_none());
}

pub fn r16_create_conflict_keeps_the_stored_credential<S: CredentialStore + ?Sized>(s: &S) {
    s.create(cred(Scope::Foundation, "docker.io", "first", "pw-first"))
        .unwrap();
    let e = s
        .create(cred(Scope::Foundation, "docker.io", "second", "pw-second"))
        .unwrap_err();
    match &e {
        StoreError::Conflict { scope, location } => {
            assert_eq!(scope, &Scope::Foundation);
            assert_eq!(location.as_str(), "docker.io");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(!e.is_retryable());
    assert!(!e.to_string().contains("pw-"), "{e}");
    let kept = s
        .get(Key::new(Scope::Foundation.as_ref(), "docker.io"))
        .unwrap()
        .unwrap();
    assert_eq!(kept.username().as_str(), "first");
    assert_eq!(kept.password().expose(), "pw-first");
    assert_eq!(s.list_all().unwrap().len(), 1);
}

pub fn r7_locations_conflict_in_normal_form<S: CredentialStore + ?Sized>(s: &S) {
    let sp = space("space-1");
    s.create(cred(sp.clone(), "Registry.Example.com/team", "a", "p"))
        .unwrap();
    assert!(matches!(
        s.create(cred(sp.clone(), "registry.example.com/team", "b", "p")),
        Err(StoreError::Conflict { .. })
    ));
    s.create(cred(sp.clone(), "index.docker.io/team", "a", "p"))
        .unwrap();
    assert!(matches!(
        s.create(cred(sp.clone(), "docker.io/team", "b", "p")),
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(
        user_at(s, &sp, "registry.example.com/team").as_deref(),
        Some("a")
    );
}

pub fn r13_one_location_at_each_scope_is_distinct<S: CredentialStore + ?Sized>(s: &S) {
    let scopes = [
        Scope::Foundation,
        org("x"),
        space("x"),
        app_scope("x"),
        org("y"),
    ];
    for (i, scope) in scopes.iter().enumerate() {
        s.create(cred(scope.clone(), "example.com", &format!("u{i}"), "p"))
            .unwrap();
    }
    for (i, scope) in scopes.iter().enumerate() {
        assert_eq!(
            user_at(s, scope, "example.com"),
            Some(format!("u{i}")),
            "{scope}"
        );
    }
    assert_eq!(s.list_all().unwrap().len(), scopes.len());
}

pub fn r17_update_username_password_or_both<S: CredentialStore + ?Sized>(s: &S) {
    let o = org("o");
    let key_loc = "registry.example.com";
    s.create(cred(o.clone(), key_loc, "old-user", "old-pw"))
        .unwrap();
    let key = Key::new(o.as_ref(), key_loc);

    let u = s
        .update(
            key,
            CredentialUpdate::Username(Username::new("new-user").unwrap()),
        )
        .unwrap();
    assert_eq!(
        (u.username().as_str(), u.password().expose()),
        ("new-user", "old-pw")
    );
    let got = s.get(key).unwrap().unwrap();
    assert_eq!(
        (got.username().as_str(), got.password().expose()),
        ("new-user", "old-pw")
    );

    let u = s
        .update(
            key,
            CredentialUpdate::Password(Password::new("new-pw").unwrap()),
        )
        .unwrap();
    assert_eq!(
        (u.username().as_str(), u.password().expose()),
        ("new-user", "new-pw")
    );

    s.update(
        key,
        CredentialUpdate::Both(Credential::new("both-user", "both-pw").unwrap()),
    )
    .unwrap();
    let got = s.get(key).unwrap().unwrap();
    assert_eq!(
        (got.username().as_str(), got.password().expose()),
        ("both-user", "both-pw")
    );
    assert_eq!(got.location().as_str(), key_loc);
    assert_eq!(got.scope(), &o);
    assert_eq!(s.list_all().unwrap().len(), 1);
}

pub fn r17_update_of_a_missing_credential_is_not_found<S: CredentialStore + ?Sized>(s: &S) {
    s.create(cred(org("o"), "example.com", "u", "p")).unwrap();
    let other = org("p");
    let e = s
        .update(
            Key::new(other.as_ref(), "example.com"),
            CredentialUpdate::Password(Password::new("x").unwrap()),
        )
        .unwrap_err();
    match e {
        StoreError::NotFound { scope, location } => {
            assert_eq!(scope, other);
            assert_eq!(location, "example.com");
        }
        other => panic!("expected not found, got {other:?}"),
    }
    assert!(s
        .get(Key::new(other.as_ref(), "example.com"))
        .unwrap()
        .is_none());
    assert_eq!(
        s.get(Key::new(org("o").as_ref(), "example.com"))
            .unwrap()
            .unwrap()
            .password()
            .expose(),
        "p"
    );
}

pub fn r18_delete_returns_the_credential_and_then_it_is_gone<S: CredentialStore + ?Sized>(s: &S) {
    let a = app_scope("app-1");
    s.create(cred(a.clone(), "docker.io/library", "u", "p"))
        .unwrap();
    s.create(cred(a.clone(), "docker.io", "v", "q")).unwrap();
    let key = Key::new(a.as_ref(), "docker.io/library");
    let gone = s.delete(key).unwrap();
    assert_eq!(gone.username().as_str(), "u");
    assert_eq!(gone.password().expose(), "p");
    assert!(s.get(key).unwrap().is_none());
    assert!(matches!(s.delete(key), Err(StoreError::NotFound { .. })));
    assert_eq!(user_at(s, &a, "docker.io").as_deref(), Some("v"));
    // The location is free again.
    s.create(cred(a.clone(), "docker.io/library", "w", "r"))
        .unwrap();
    assert_eq!(user_at(s, &a, "docker.io/library").as_deref(), Some("w"));
}

pub fn r19_put_replaces_whole_and_returns_the_old<S: CredentialStore + ?Sized>(s: &S) {
    let a = app_scope("app-1");
    assert!(s
        .put(cred(a.clone(), "docker.io/library", "first", "pw-1"))
        .unwrap()
        .is_none());
    let old = s
        .put(cred(a.clone(), "docker.io/library", "second", "pw-2"))
        .unwrap()
        .expect("the replaced one");
    assert_eq!(
        (old.username().as_str(), old.password().expose()),
        ("first", "pw-1")
    );
    let now = s
        .get(Key::new(a.as_ref(), "docker.io/library"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (now.username().as_str(), now.password().expose()),
        ("second", "pw-2")
    );
    assert_eq!(s.list(a.as_ref()).unwrap().len(), 1);
}

pub fn r21_list_is_one_scope_ordered_by_location<S: CredentialStore + ?Sized>(s: &S) {
    let o = org("o");
    let locations = [
        "registry.example.com/team",
        "example.com",
        "registry.example.com",
        "a-b.example.com",
        "a.example.com",
        "registry.example.com:5000",
        "registry.example.com/team-x",
        "[::1]:5000",
        "10.0.0.1",
    ];
    for l in locations {
        s.create(cred(o.clone(), l, "u", "p")).unwrap();
    }
    s.create(cred(org("other"), "zzz.example.com", "u", "p"))
        .unwrap();
    s.create(cred(Scope::Foundation, "aaa.example.com", "u", "p"))
        .unwrap();
    let listed: Vec<String> = s
        .list(o.as_ref())
        .unwrap()
        .iter()
        .map(|c| c.location().as_str().to_owned())
        .collect();
    let mut expected: Vec<String> = locations.iter().map(|l| l.to_string()).collect();
    expected.sort();
    assert_eq!(listed, expected);
    assert!(s.list(org("nobody").as_ref()).unwrap().is_empty());
    assert_eq!(s.list(Scope::Foundation.as_ref()).unwrap().len(), 1);
}

pub fn r21_list_all_is_ordered_by_scope_then_location<S: CredentialStore + ?Sized>(s: &S) {
    let items = [
        (Scope::Foundation, "docker.io"),
        (Scope::Foundation, "aaa.example.com"),
        (org("b"), "example.com"),
        (org("B"), "example.com"),
        (org("a"), "example.com"),
        (space("s"), "z.example.com"),
        (space("s"), "example.com"),
        (app_scope("app-2"), "example.com"),
        (app_scope("app-10"), "example.com"),
        (app_scope("app-2"), "docker.io/library"),
    ];
    for (scope, l) in &items {
        s.create(cred(scope.clone(), l, "u", "p")).unwrap();
    }
    let listed: Vec<(Scope, String)> = s
        .list_all()
        .unwrap()
        .iter()
        .map(|c| (c.scope().clone(), c.location().as_str().to_owned()))
        .collect();
    let mut expected: Vec<(Scope, String)> = items
        .iter()
        .map(|(s, l)| (s.clone(), l.to_string()))
        .collect();
    expected.sort();
    assert_eq!(listed, expected);
    let kinds: Vec<ScopeKind> = listed.iter().map(|(s, _)| s.kind()).collect();
    assert!(kinds.windows(2).all(|w| w[0] <= w[1]), "{kinds:?}");
}

pub fn get_many_answers_in_order_with_gaps<S: CredentialStore + ?Sized>(s: &S) {
    let o = org("o");
    s.create(cred(o.clone(), "example.com", "org-user", "p"))
        .unwrap();
    s.create(cred(Scope::Foundation, "example.com", "f-user", "p"))
        .unwrap();
    assert!(s.get_many(&[]).unwrap().is_empty());
    let sp = space("o");
    let keys = [
        Key::new(o.as_ref(), "nothing.example.com"),
        Key::new(Scope::Foundation.as_ref(), "example.com"),
        Key::new(o.as_ref(), "example.com"),
        Key::new(o.as_ref(), "example.com"),
        Key::new(sp.as_ref(), "example.com"),
    ];
    let found: Vec<Option<String>> = s
        .get_many(&keys)
        .unwrap()
        .into_iter()
        .map(|c| c.map(|c| c.username().as_str().to_owned()))
        .collect();
    assert_eq!(
        found,
        [
            None,
            Some("f-user".into()),
            Some("org-user".into()),
            Some("org-user".into()),
            None
        ]
    );
    let (i, c) = s.first_match(&keys).unwrap().unwrap();
    assert_eq!((i, c.username().as_str()), (1, "f-user"));
    assert!(s.first_match(&keys[..1]).unwrap().is_none());
}

pub fn get_many_answers_long_key_lists<S: CredentialStore + ?Sized>(s: &S) {
    let o = org("o");
    for i in (0..600).step_by(7) {
        s.create(cred(
            o.clone(),
            &format!("r{i}.example.com"),
            &format!("u{i}"),
            "p",
        ))
        .unwrap();
    }
    let names: Vec<String> = (0..600).map(|i| format!("r{i}.example.com")).collect();
    let keys: Vec<Key<'_>> = names.iter().map(|n| Key::new(o.as_ref(), n)).collect();
    let found = s.get_many(&keys).unwrap();
    assert_eq!(found.len(), 600);
    for (i, f) in found.iter().enumerate() {
        assert_eq!(
            f.as_ref().map(|c| c.username().as_str().to_owned()),
            (i % 7 == 0).then(|| format!("u{i}")),
            "key {i}"
        );
    }
}

pub fn r14_resolution_scope_outranks_specificity<S: CredentialStore + ?Sized>(s: &S) {
    let app = App::new("org-1", "space-1", "app-1").unwrap();
    let image = "registry.example.com/repo/image:tag".parse().unwrap();
    s.create(cred(
        Scope::Foundation,
        "registry.example.com/repo",
        "f",
        "p",
    ))
    .unwrap();
    s.create(cred(org("org-1"), "example.com", "o", "p"))
        .unwrap();
    s.create(cred(space("space-1"), "registry.example.com", "s", "p"))
        .unwrap();
    s.create(cred(
        space("other-space"),
        "registry.example.com/repo",
        "x",
        "p",
    ))
    .unwrap();
    let r = resolve(s, &app, &image).unwrap().unwrap();
    assert_eq!(r.scope_kind(), ScopeKind::Space);
    assert_eq!(r.credential().username().as_str(), "s");
    assert_eq!(r.location().as_str(), "registry.example.com");
    assert_eq!(r.rank(), 1);

    s.create(cred(app_scope("app-1"), "example.com", "a", "p"))
        .unwrap();
    let r = resolve(s, &app, &image).unwrap().unwrap();
    assert_eq!(
        r.scope_kind(),
        ScopeKind::App,
        "R14: scope beats specificity"
    );
    assert_eq!(r.credential().password().expose(), "p");

    let all: Vec<String> = resolve_all(s, &app, &image)
        .unwrap()
        .iter()
        .map(|r| r.credential().username().as_str().to_owned())
        .collect();
    assert_eq!(all, ["a", "s", "o", "f"]);

    let e = explain(s, &app, &image).unwrap();
    assert_eq!(e.winner().unwrap().location, "example.com");
    assert_eq!(e.attempts.len(), 12);
    assert!(!e.to_string().contains("\"p\""));

    // R12: ports are identity.
    let ported = "registry.example.com:5000/repo/image".parse().unwrap();
    assert!(resolve(s, &app, &ported).unwrap().is_none());
}

pub fn r15_nothing_found_is_not_an_error<S: CredentialStore + ?Sized>(s: &S) {
    let app = App::new("o", "s", "a").unwrap();
    assert!(resolve(s, &app, &"nginx".parse().unwrap())
        .unwrap()
        .is_none());
    s.create(cred(Scope::Foundation, "docker.io/myorg", "u", "p"))
        .unwrap();
    assert!(resolve(s, &app, &"nginx".parse().unwrap())
        .unwrap()
        .is_none());
    let r = resolve(s, &app, &"myorg/app:1".parse().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(r.location().as_str(), "docker.io/myorg");
}

pub fn r17_resolution_sees_every_write<S: CredentialStore + ?Sized>(s: &S) {
    let app = App::new("o", "s", "a").unwrap();
    let image = "nginx".parse().unwrap();
    let f = Scope::Foundation;
    s.create(cred(f.clone(), "docker.io", "u1", "p1")).unwrap();
    let pw = |s: &S| {
        resolve(s, &app, &image)
            .unwrap()
            .map(|r| r.credential().password().expose().to_owned())
    };
    assert_eq!(pw(s).as_deref(), Some("p1"));
    s.update(
        Key::new(f.as_ref(), "docker.io"),
        CredentialUpdate::Password(Password::new("p2").unwrap()),
    )
    .unwrap();
    assert_eq!(pw(s).as_deref(), Some("p2"));
    s.put(cred(app_scope("a"), "docker.io/library", "u3", "p3"))
        .unwrap();
    assert_eq!(pw(s).as_deref(), Some("p3"));
    s.delete(Key::new(app_scope("a").as_ref(), "docker.io/library"))
        .unwrap();
    s.delete(Key::new(f.as_ref(), "docker.io")).unwrap();
    assert_eq!(pw(s), None);
}

pub fn r16_racing_creates_exactly_one_wins<S: CredentialStore + ?Sized>(s: &S) {
    const THREADS: usize = 6;
    let barrier = Arc::new(Barrier::new(THREADS));
    let winners: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let barrier = Arc::clone(&barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let mut won = Vec::new();
                    for k in 0..5 {
                        let l = format!("race{k}.example.com");
                        match s.create(cred(Scope::Foundation, &l, &format!("t{t}"), "p")) {
                            Ok(_) => won.push(format!("{l} t{t}")),
                            Err(StoreError::Conflict { .. }) => {}
                            Err(e) => panic!("{e:?}"),
                        }
                    }
                    won
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(winners.len(), 5, "{winners:?}");
    let locations: BTreeSet<_> = winners.iter().map(|w| w.split(' ').next()).collect();
    assert_eq!(locations.len(), 5);
    for w in &winners {
        let (l, t) = w.split_once(' ').unwrap();
        assert_eq!(user_at(s, &Scope::Foundation, l).as_deref(), Some(t));
    }
}

pub fn r16_limits_and_unicode_round_trip<S: CredentialStore + ?Sized>(s: &S) {
    let long = "é".repeat(2500); // 5,000 bytes
    s.create(cred(org("o"), "example.com", "ünï-çødé", &long))
        .unwrap();
    let got = s
        .get(Key::new(org("o").as_ref(), "example.com"))
        .unwrap()
        .unwrap();
    assert_eq!(got.password().expose(), long);
    assert_eq!(got.username().as_str(), "ünï-çødé");
}
