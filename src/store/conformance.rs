//! The conformance suite every store must pass: the contract of
//! [`CredentialStore`] (R13–R19, R21's listing order) and resolution over
//! it (R14, R15, R17), including R19's concurrent app-credential
//! replacement across two instances of one store.
//!
//! Each check is a public function of a store; [`store_conformance!`](crate::store_conformance)
//! makes one `#[test]` of each. A backend's test file defines
//! `fn store() -> S`, a fresh, empty store, and `fn reopen(store: &S) -> S`,
//! a second instance over the same data (a clone that shares state, a second
//! connection pool, the same file opened again), then calls the macro:
//!
//! ```
//! mod memory_store_conformance {
//!     use registry_credentials::MemoryStore;
//!
//!     fn store() -> MemoryStore {
//!         MemoryStore::new()
//!     }
//!
//!     fn reopen(store: &MemoryStore) -> MemoryStore {
//!         store.clone()
//!     }
//!
//!     registry_credentials::store_conformance!();
//! }
//! ```
//!
//! A backend that needs a server nobody may have (PostgreSQL) passes
//! `ignore = "why"`: its tests are then `#[ignore]`d with that reason, so
//! that a run without the server reports them as ignored, not passed, and
//! `cargo test -- --include-ignored` runs them where the server is.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};

use crate::credential::{Credential, CredentialUpdate, Password, RegistryCredential, Username};
use crate::location::Location;
use crate::resolve::{explain, resolve, resolve_all};
use crate::scope::{App, AppId, OrgId, Scope, ScopeKind, SpaceId};
use crate::store::{CredentialStore, Key, StoreError};

/// One `#[test]` per function of [`store::conformance`](crate::store::conformance),
/// each on a fresh `store()` (and, for the two-instance checks, `reopen`
/// of it). `store_conformance!(ignore = "reason")` marks every test
/// `#[ignore]` with that reason.
#[macro_export]
macro_rules! store_conformance {
    () => {
        $crate::store_conformance!(@all []);
    };
    (ignore = $reason:literal) => {
        $crate::store_conformance!(@all [#[ignore = $reason]]);
    };
    (@all [$($attr:tt)*]) => {
        $crate::store_conformance!(@each [$($attr)*],
            r16_create_then_get,
            r16_create_conflict_keeps_the_stored_credential,
            r7_locations_conflict_in_normal_form,
            r13_one_location_at_each_scope_is_distinct,
            r13_delete_scope_removes_that_scope_alone,
            r17_update_username_password_or_both,
            r17_update_of_a_missing_credential_is_not_found,
            r18_delete_returns_the_credential_and_then_it_is_gone,
            r19_replace_app_credential_replaces_all_of_the_app,
            r21_list_is_one_scope_ordered_by_location,
            r21_list_all_is_ordered_by_scope_then_location,
            get_many_answers_in_order_with_gaps,
            get_many_answers_long_key_lists,
            first_match_is_the_first_found_in_key_order,
            r14_resolution_scope_outranks_specificity,
            r15_nothing_found_is_not_an_error,
            r17_resolution_sees_every_write,
            r16_racing_creates_exactly_one_wins,
            r16_limits_and_unicode_round_trip,
            create_all_stores_all_or_none,
        );
        $crate::store_conformance!(@pair [$($attr)*],
            r19_concurrent_pushes_of_one_app_leave_exactly_one,
            create_all_is_never_seen_in_part,
        );
    };
    (@each $attrs:tt, $($name:ident),* $(,)?) => {
        $( $crate::store_conformance!(@one $attrs $name); )*
    };
    (@pair $attrs:tt, $($name:ident),* $(,)?) => {
        $( $crate::store_conformance!(@two $attrs $name); )*
    };
    (@one [$($attr:tt)*] $name:ident) => {
        #[test]
        $($attr)*
        fn $name() {
            $crate::store::conformance::$name(&store());
        }
    };
    (@two [$($attr:tt)*] $name:ident) => {
        #[test]
        $($attr)*
        fn $name() {
            let first = store();
            let second = reopen(&first);
            $crate::store::conformance::$name(&first, &second);
        }
    };
}

/// A location, parsed.
pub fn loc(s: &str) -> Location {
    s.parse().unwrap()
}

/// An organization scope.
pub fn org(s: &str) -> Scope {
    Scope::Org(OrgId::new(s).unwrap())
}

/// A space scope.
pub fn space(s: &str) -> Scope {
    Scope::Space(SpaceId::new(s).unwrap())
}

/// An app scope.
pub fn app_scope(s: &str) -> Scope {
    Scope::App(AppId::new(s).unwrap())
}

/// A credential at `scope` for `location`.
pub fn cred(scope: Scope, location: &str, user: &str, password: &str) -> RegistryCredential {
    RegistryCredential::new(
        scope,
        loc(location),
        Credential::new(user, password).unwrap(),
    )
}

fn user_at<S: CredentialStore + ?Sized>(s: &S, scope: &Scope, location: &str) -> Option<String> {
    s.get(Key::new(scope.as_ref(), &loc(location)))
        .unwrap()
        .map(|c| c.username().as_str().to_owned())
}

/// R16: a created credential reads back whole; missing keys read as nothing.
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
        .get(Key::new(o.as_ref(), &loc("registry.example.com/team")))
        .unwrap()
        .expect("stored");
    assert_eq!(got.scope(), &o);
    assert_eq!(got.location().as_str(), "registry.example.com/team");
    assert_eq!(got.username().as_str(), "alice");
    assert_eq!(got.password().expose(), "pw-1");
    // Missing is not an error.
    assert!(
        s.get(Key::new(o.as_ref(), &loc("registry.example.com")))
            .unwrap()
            .is_none()
    );
    assert!(
        s.get(Key::new(
            org("org-2").as_ref(),
            &loc("registry.example.com/team")
        ))
        .unwrap()
        .is_none()
    );
    assert!(
        s.get(Key::new(
            space("org-1").as_ref(),
            &loc("registry.example.com/team")
        ))
        .unwrap()
        .is_none()
    );
}

/// R16: creating a taken location is a conflict and keeps the stored one.
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
        .get(Key::new(Scope::Foundation.as_ref(), &loc("docker.io")))
        .unwrap()
        .unwrap();
    assert_eq!(kept.username().as_str(), "first");
    assert_eq!(kept.password().expose(), "pw-first");
    assert_eq!(s.list_all().unwrap().len(), 1);
}

/// R7: locations conflict in their normal form.
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

/// R13: one location at each scope is a distinct credential.
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

/// R17: update changes the username, the password or both, never the location.
pub fn r17_update_username_password_or_both<S: CredentialStore + ?Sized>(s: &S) {
    let o = org("o");
    let key_loc = "registry.example.com";
    s.create(cred(o.clone(), key_loc, "old-user", "old-pw"))
        .unwrap();
    let l = loc(key_loc);
    let key = Key::new(o.as_ref(), &l);

    let u = s
        .update(
            o.as_ref(),
            &l,
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
            o.as_ref(),
            &l,
            CredentialUpdate::Password(Password::new("new-pw").unwrap()),
        )
        .unwrap();
    assert_eq!(
        (u.username().as_str(), u.password().expose()),
        ("new-user", "new-pw")
    );

    s.update(
        o.as_ref(),
        &l,
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

/// R17: updating a missing credential is not found and changes nothing.
pub fn r17_update_of_a_missing_credential_is_not_found<S: CredentialStore + ?Sized>(s: &S) {
    s.create(cred(org("o"), "example.com", "u", "p")).unwrap();
    let other = org("p");
    let e = s
        .update(
            other.as_ref(),
            &loc("example.com"),
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
    assert!(
        s.get(Key::new(other.as_ref(), &loc("example.com")))
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.get(Key::new(org("o").as_ref(), &loc("example.com")))
            .unwrap()
            .unwrap()
            .password()
            .expose(),
        "p"
    );
}

/// R18: delete returns the credential, and then it is gone.
pub fn r18_delete_returns_the_credential_and_then_it_is_gone<S: CredentialStore + ?Sized>(s: &S) {
    let a = app_scope("app-1");
    s.create(cred(a.clone(), "docker.io/library", "u", "p"))
        .unwrap();
    s.create(cred(a.clone(), "docker.io", "v", "q")).unwrap();
    let l = loc("docker.io/library");
    let key = Key::new(a.as_ref(), &l);
    let gone = s.delete(a.as_ref(), &l).unwrap();
    assert_eq!(gone.username().as_str(), "u");
    assert_eq!(gone.password().expose(), "p");
    assert!(s.get(key).unwrap().is_none());
    assert!(matches!(
        s.delete(a.as_ref(), &l),
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(user_at(s, &a, "docker.io").as_deref(), Some("v"));
    // The location is free again.
    s.create(cred(a.clone(), "docker.io/library", "w", "r"))
        .unwrap();
    assert_eq!(user_at(s, &a, "docker.io/library").as_deref(), Some("w"));
}

/// R19: replacing an app's credential removes every credential the app
/// held, at any location, and nothing of anyone else's.
pub fn r19_replace_app_credential_replaces_all_of_the_app<S: CredentialStore + ?Sized>(s: &S) {
    let app = AppId::new("app-1").unwrap();
    let a = Scope::App(app.clone());
    let other = app_scope("app-2");
    s.create(cred(other.clone(), "docker.io/library", "other", "pw-o"))
        .unwrap();
    s.create(cred(space("space-1"), "docker.io/library", "sp", "pw-s"))
        .unwrap();
    let first = s
        .replace_app_credential(
            &app,
            loc("docker.io/library"),
            Credential::new("first", "pw-1").unwrap(),
        )
        .unwrap();
    assert!(first.replaced.is_empty());
    assert_eq!(first.stored.scope(), &a);
    assert_eq!(first.stored.username().as_str(), "first");
    // Same location: replaced whole.
    let second = s
        .replace_app_credential(
            &app,
            loc("docker.io/library"),
            Credential::new("second", "pw-2").unwrap(),
        )
        .unwrap();
    assert_eq!(second.replaced.len(), 1);
    assert_eq!(
        (
            second.replaced[0].username().as_str(),
            second.replaced[0].password().expose()
        ),
        ("first", "pw-1")
    );
    let now = s
        .get(Key::new(a.as_ref(), &loc("docker.io/library")))
        .unwrap()
        .unwrap();
    assert_eq!(
        (now.username().as_str(), now.password().expose()),
        ("second", "pw-2")
    );
    // Credentials created at the app's scope some other way are replaced
    // too: the app holds one pair.
    s.create(cred(a.clone(), "quay.io/team", "extra", "pw-x"))
        .unwrap();
    let third = s
        .replace_app_credential(
            &app,
            loc("registry.example.com/repo"),
            Credential::new("third", "pw-3").unwrap(),
        )
        .unwrap();
    let replaced: Vec<_> = third
        .replaced
        .iter()
        .map(|c| c.location().as_str())
        .collect();
    assert_eq!(replaced, ["docker.io/library", "quay.io/team"]);
    let held: Vec<_> = s
        .list(a.as_ref())
        .unwrap()
        .iter()
        .map(|c| (c.location().to_string(), c.username().to_string()))
        .collect();
    assert_eq!(
        held,
        [("registry.example.com/repo".to_owned(), "third".to_owned())]
    );
    // At the same location as one held elsewhere: that one first.
    s.create(cred(a.clone(), "quay.io/team", "extra", "pw-x"))
        .unwrap();
    let fourth = s
        .replace_app_credential(
            &app,
            loc("quay.io/team"),
            Credential::new("fourth", "pw-4").unwrap(),
        )
        .unwrap();
    let replaced: Vec<_> = fourth
        .replaced
        .iter()
        .map(|c| c.username().as_str())
        .collect();
    assert_eq!(replaced, ["extra", "third"]);
    assert_eq!(s.list(a.as_ref()).unwrap().len(), 1);
    // Nobody else's changed.
    assert_eq!(
        user_at(s, &other, "docker.io/library").as_deref(),
        Some("other")
    );
    assert_eq!(
        user_at(s, &space("space-1"), "docker.io/library").as_deref(),
        Some("sp")
    );
}

/// R13: deleting a scope removes what it holds, ordered by location, and
/// nothing at any other scope; an empty scope is not an error.
pub fn r13_delete_scope_removes_that_scope_alone<S: CredentialStore + ?Sized>(s: &S) {
    let o = org("org-1");
    for l in ["quay.io/b", "quay.io/a", "example.com"] {
        s.create(cred(o.clone(), l, "u", "p")).unwrap();
    }
    s.create(cred(org("org-2"), "quay.io/a", "keep", "p"))
        .unwrap();
    s.create(cred(space("org-1"), "quay.io/a", "keep", "p"))
        .unwrap();
    s.create(cred(Scope::Foundation, "quay.io/a", "keep", "p"))
        .unwrap();
    let gone: Vec<_> = s
        .delete_scope(o.as_ref())
        .unwrap()
        .iter()
        .map(|c| c.location().to_string())
        .collect();
    assert_eq!(gone, ["example.com", "quay.io/a", "quay.io/b"]);
    assert!(s.list(o.as_ref()).unwrap().is_empty());
    assert!(s.delete_scope(o.as_ref()).unwrap().is_empty());
    let left: Vec<_> = s
        .list_all()
        .unwrap()
        .iter()
        .map(|c| c.username().to_string())
        .collect();
    assert_eq!(left, ["keep", "keep", "keep"]);
}

/// How many threads [`r19_concurrent_pushes_of_one_app_leave_exactly_one`]
/// starts, half on each store instance.
pub const PUSH_THREADS: usize = 8;
/// How many pushes each of those threads starts.
pub const PUSH_ROUNDS: usize = 12;

/// R19 under concurrency: many threads, half on each of two instances of
/// the store, start pushes of one app at once, each replacing the app's
/// credential (at one of three locations). Afterwards the app holds
/// exactly one credential; it is that of a push that was acknowledged and
/// not followed by another push that started after it returned; each push
/// replaced exactly the credential of the one before it (the first,
/// nothing); and every push's credential but the last was replaced exactly
/// once (so no two replacements saw the same state, and none was lost).
pub fn r19_concurrent_pushes_of_one_app_leave_exactly_one<S: CredentialStore + ?Sized>(
    first: &S,
    second: &S,
) {
    struct Push {
        user: String,
        started: u64,
        acknowledged: u64,
        replaced: Vec<String>,
    }
    let app = AppId::new("pushed-app").unwrap();
    let scope = Scope::App(app.clone());
    first
        .create(cred(
            app_scope("bystander"),
            "docker.io/library",
            "bystander",
            "p",
        ))
        .unwrap();
    let clock = AtomicU64::new(0);
    let barrier = Barrier::new(PUSH_THREADS);
    let pushes: Vec<Push> = std::thread::scope(|threads| {
        let handles: Vec<_> = (0..PUSH_THREADS)
            .map(|t| {
                let (store, app, clock, barrier) = (
                    if t % 2 == 0 { first } else { second },
                    &app,
                    &clock,
                    &barrier,
                );
                threads.spawn(move || {
                    barrier.wait();
                    (0..PUSH_ROUNDS)
                        .map(|r| {
                            let user = format!("t{t}-r{r}");
                            let location =
                                loc(&format!("registry{}.example.com/team", (t + r) % 3));
                            let started = clock.fetch_add(1, Ordering::SeqCst);
                            let done = store
                                .replace_app_credential(
                                    app,
                                    location.clone(),
                                    Credential::new(&user, format!("{user}-pw")).unwrap(),
                                )
                                .unwrap_or_else(|e| panic!("push {user}: {e:?}"));
                            let acknowledged = clock.fetch_add(1, Ordering::SeqCst);
                            assert_eq!(done.stored.username().as_str(), user);
                            assert_eq!(done.stored.location(), &location);
                            Push {
                                user,
                                started,
                                acknowledged,
                                replaced: done
                                    .replaced
                                    .iter()
                                    .map(|c| c.username().to_string())
                                    .collect(),
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    for store in [first, second] {
        let held = store.list(scope.as_ref()).unwrap();
        assert_eq!(
            held.len(),
            1,
            "R19: the app holds exactly one credential after concurrent pushes, not {:?}",
            held.iter()
                .map(|c| c.username().as_str())
                .collect::<Vec<_>>()
        );
        let winner = &held[0];
        assert_eq!(
            winner.password().expose(),
            format!("{}-pw", winner.username()),
            "R19: one push's username with its own password"
        );
        let push = pushes
            .iter()
            .find(|p| p.user == winner.username().as_str())
            .expect("the credential of an acknowledged push");
        for other in &pushes {
            assert!(
                other.user == push.user || other.started < push.acknowledged,
                "R19: {} was acknowledged before {} started, yet {} is the one kept",
                push.user,
                other.user,
                push.user
            );
        }
        // One step each: the first to take effect replaced nothing, every
        // other exactly the one before it.
        let firsts = pushes.iter().filter(|p| p.replaced.is_empty()).count();
        assert!(
            firsts == 1 && pushes.iter().all(|p| p.replaced.len() <= 1),
            "R19: each push replaces exactly the one before it; replaced per push: {:?}",
            pushes
                .iter()
                .map(|p| (&p.user, &p.replaced))
                .collect::<Vec<_>>()
        );
        let mut replaced: Vec<&str> = pushes
            .iter()
            .flat_map(|p| p.replaced.iter().map(String::as_str))
            .collect();
        replaced.sort_unstable();
        let mut expected: Vec<&str> = pushes
            .iter()
            .map(|p| p.user.as_str())
            .filter(|u| *u != push.user)
            .collect();
        expected.sort_unstable();
        assert_eq!(
            replaced, expected,
            "R19: every push but the last is replaced exactly once"
        );
    }
    assert_eq!(
        user_at(first, &app_scope("bystander"), "docker.io/library").as_deref(),
        Some("bystander")
    );
}

/// `first_match` answers with the first key, in order, that holds a
/// credential, and its index.
pub fn first_match_is_the_first_found_in_key_order<S: CredentialStore + ?Sized>(s: &S) {
    let (o, sp) = (org("o"), space("s"));
    s.create(cred(o.clone(), "example.com", "org", "p"))
        .unwrap();
    s.create(cred(sp.clone(), "example.com/team", "space", "p"))
        .unwrap();
    let (l1, l2, l3) = (
        loc("nothing.example.com"),
        loc("example.com"),
        loc("example.com/team"),
    );
    let keys = [
        Key::new(o.as_ref(), &l1),
        Key::new(sp.as_ref(), &l2),
        Key::new(o.as_ref(), &l2),
        Key::new(sp.as_ref(), &l3),
    ];
    let (i, c) = s.first_match(&keys).unwrap().expect("a match");
    assert_eq!((i, c.username().as_str()), (2, "org"));
    let (i, c) = s.first_match(&keys[3..]).unwrap().expect("a match");
    assert_eq!((i, c.username().as_str()), (0, "space"));
    assert!(s.first_match(&keys[..2]).unwrap().is_none());
    assert!(s.first_match(&[]).unwrap().is_none());
}

/// R21: a listing is one scope, ordered by location.
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

/// R21: the whole store lists by scope, then location.
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

/// `get_many` answers every key in order, `None` where nothing is held.
pub fn get_many_answers_in_order_with_gaps<S: CredentialStore + ?Sized>(s: &S) {
    let o = org("o");
    s.create(cred(o.clone(), "example.com", "org-user", "p"))
        .unwrap();
    s.create(cred(Scope::Foundation, "example.com", "f-user", "p"))
        .unwrap();
    assert!(s.get_many(&[]).unwrap().is_empty());
    let sp = space("o");
    let (nothing, example) = (loc("nothing.example.com"), loc("example.com"));
    let keys = [
        Key::new(o.as_ref(), &nothing),
        Key::new(Scope::Foundation.as_ref(), &example),
        Key::new(o.as_ref(), &example),
        Key::new(o.as_ref(), &example),
        Key::new(sp.as_ref(), &example),
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

/// `get_many` answers key lists longer than any plan.
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
    let names: Vec<Location> = (0..600)
        .map(|i| loc(&format!("r{i}.example.com")))
        .collect();
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

/// R14: scope outranks specificity in resolution.
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

/// R15: finding nothing is not an error.
pub fn r15_nothing_found_is_not_an_error<S: CredentialStore + ?Sized>(s: &S) {
    let app = App::new("o", "s", "a").unwrap();
    assert!(
        resolve(s, &app, &"nginx".parse().unwrap())
            .unwrap()
            .is_none()
    );
    s.create(cred(Scope::Foundation, "docker.io/myorg", "u", "p"))
        .unwrap();
    assert!(
        resolve(s, &app, &"nginx".parse().unwrap())
            .unwrap()
            .is_none()
    );
    let r = resolve(s, &app, &"myorg/app:1".parse().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(r.location().as_str(), "docker.io/myorg");
}

/// R17: resolution sees every write at once; nothing is cached.
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
        f.as_ref(),
        &loc("docker.io"),
        CredentialUpdate::Password(Password::new("p2").unwrap()),
    )
    .unwrap();
    assert_eq!(pw(s).as_deref(), Some("p2"));
    s.replace_app_credential(
        &AppId::new("a").unwrap(),
        loc("docker.io/library"),
        Credential::new("u3", "p3").unwrap(),
    )
    .unwrap();
    assert_eq!(pw(s).as_deref(), Some("p3"));
    s.delete(app_scope("a").as_ref(), &loc("docker.io/library"))
        .unwrap();
    s.delete(f.as_ref(), &loc("docker.io")).unwrap();
    assert_eq!(pw(s), None);
}

/// R16: of racing creates of one location, exactly one wins.
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

/// R16: the longest password and non-ASCII usernames round trip.
pub fn r16_limits_and_unicode_round_trip<S: CredentialStore + ?Sized>(s: &S) {
    let long = "é".repeat(2500); // 5,000 bytes
    s.create(cred(org("o"), "example.com", "ünï-çødé", &long))
        .unwrap();
    let got = s
        .get(Key::new(org("o").as_ref(), &loc("example.com")))
        .unwrap()
        .unwrap();
    assert_eq!(got.password().expose(), long);
    assert_eq!(got.username().as_str(), "ünï-çødé");
}

/// `create_all` is one step: a batch is stored whole, in its order; a
/// batch with one refused entry (a key already held, or the same key twice
/// in the batch) stores nothing, and the error names that entry.
pub fn create_all_stores_all_or_none<S: CredentialStore + ?Sized>(s: &S) {
    assert!(s.create_all(Vec::new()).unwrap().is_empty());
    let stored = s
        .create_all(vec![
            cred(Scope::Foundation, "docker.io", "hub", "p1"),
            cred(org("o"), "quay.io/team", "quay", "p2"),
            cred(space("s"), "ghcr.io", "gh", "p3"),
        ])
        .unwrap();
    let users: Vec<_> = stored.iter().map(|c| c.username().as_str()).collect();
    assert_eq!(users, ["hub", "quay", "gh"], "in the batch's order");
    assert_eq!(s.list_all().unwrap().len(), 3);

    let before: Vec<_> = s
        .list_all()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c.scope().clone(),
                c.location().clone(),
                c.username().to_string(),
            )
        })
        .collect();
    let refused = |batch: Vec<RegistryCredential>, scope: Scope, location: &str| {
        match s.create_all(batch) {
            Err(StoreError::Conflict {
                scope: at,
                location: l,
            }) => {
                assert_eq!(
                    (at, l),
                    (scope, loc(location)),
                    "the error names the entry refused"
                );
            }
            other => panic!("R16: a refused batch is a conflict, not {other:?}"),
        }
        let after: Vec<_> = s
            .list_all()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c.scope().clone(),
                    c.location().clone(),
                    c.username().to_string(),
                )
            })
            .collect();
        assert_eq!(after, before, "a refused batch stores nothing");
    };
    // Its last entry is held already: the entries before it are not kept.
    refused(
        vec![
            cred(Scope::Foundation, "new1.example.com", "n1", "p"),
            cred(org("o"), "new2.example.com", "n2", "p"),
            cred(org("o"), "Quay.io/team", "clash", "p"),
        ],
        org("o"),
        "quay.io/team",
    );
    // The same key twice in one batch, in two spellings (R7).
    refused(
        vec![
            cred(space("s"), "twice.example.com", "t1", "p"),
            cred(space("s"), "new3.example.com", "n3", "p"),
            cred(space("s"), "TWICE.example.com", "t2", "p"),
        ],
        space("s"),
        "twice.example.com",
    );
    assert_eq!(
        user_at(s, &org("o"), "quay.io/team").as_deref(),
        Some("quay")
    );
    assert_eq!(user_at(s, &Scope::Foundation, "new1.example.com"), None);
}

/// How many batches [`create_all_is_never_seen_in_part`] writes, and how
/// many credentials each holds.
pub const BATCHES: usize = 24;
/// How many credentials each batch of [`create_all_is_never_seen_in_part`]
/// holds.
pub const BATCH_LEN: usize = 6;

/// `create_all` under concurrency: while one instance writes batches (each
/// over three scopes; every other one refused by its last entry), readers
/// on the other instance look every batch up again and again, and never
/// see part of one: a stored batch is seen whole or not at all, a refused
/// one never.
pub fn create_all_is_never_seen_in_part<S: CredentialStore + ?Sized>(first: &S, second: &S) {
    let scope_of = |i: usize| match i % 3 {
        0 => Scope::Foundation,
        1 => org("batch-org"),
        _ => space("batch-space"),
    };
    let location_of = |b: usize, i: usize| loc(&format!("batch{b}-{i}.example.com"));
    let batch_of = |b: usize| -> Vec<RegistryCredential> {
        (0..BATCH_LEN)
            .map(|i| {
                RegistryCredential::new(
                    scope_of(i),
                    location_of(b, i),
                    Credential::new(format!("b{b}-{i}"), "p").unwrap(),
                )
            })
            .collect()
    };
    first
        .create(cred(space("batch-space"), "taken.example.com", "held", "p"))
        .unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    let seen = std::thread::scope(|threads| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let done = &done;
                threads.spawn(move || {
                    let mut looks = 0usize;
                    let scopes: Vec<Scope> = (0..BATCH_LEN).map(scope_of).collect();
                    while !done.load(Ordering::SeqCst) || looks == 0 {
                        for b in 0..BATCHES {
                            let locations: Vec<Location> =
                                (0..BATCH_LEN).map(|i| location_of(b, i)).collect();
                            let keys: Vec<Key<'_>> = scopes
                                .iter()
                                .zip(&locations)
                                .map(|(scope, l)| Key::new(scope.as_ref(), l))
                                .collect();
                            let found = second.get_many(&keys).unwrap();
                            let n = found.iter().filter(|c| c.is_some()).count();
                            assert!(
                                n == 0 || (n == BATCH_LEN && b % 2 == 0),
                                "batch {b}: a reader saw {n} of its {BATCH_LEN} credentials"
                            );
                        }
                        looks += 1;
                    }
                    looks
                })
            })
            .collect();
        for b in 0..BATCHES {
            let mut batch = batch_of(b);
            if b % 2 == 1 {
                batch.push(cred(
                    space("batch-space"),
                    "taken.example.com",
                    "clash",
                    "p",
                ));
                assert!(matches!(
                    first.create_all(batch),
                    Err(StoreError::Conflict { .. })
                ));
            } else {
                assert_eq!(first.create_all(batch).unwrap().len(), BATCH_LEN);
            }
        }
        done.store(true, Ordering::SeqCst);
        readers
            .into_iter()
            .map(|r| r.join().unwrap())
            .sum::<usize>()
    });
    assert!(seen > 0);
    assert_eq!(
        second.list_all().unwrap().len(),
        1 + BATCH_LEN * BATCHES.div_ceil(2),
        "every accepted batch whole, no refused one"
    );
}

/// The suite's power: a store that replaces an app's credentials in
/// separate calls, as pushes once did (store, then list the app, then
/// delete the others), fails the R19 concurrency case.
#[cfg(test)]
mod split_replacement_is_caught {
    use std::cell::Cell;
    use std::sync::Arc;

    use super::*;
    use crate::scope::ScopeRef;
    use crate::store::{AppCredentialReplaced, CredentialSource, Found, MemoryStore};

    /// `MemoryStore`, but `replace_app_credential` is three steps, with
    /// every pushing thread's first replacement made to wait for the others
    /// between the first step and the second: the interleaving two pushes
    /// that start at the same moment can have.
    struct SplitStore {
        inner: MemoryStore,
        rendezvous: Barrier,
    }

    thread_local! {
        static MET: Cell<bool> = const { Cell::new(false) };
    }

    impl CredentialSource for SplitStore {
        fn get_many(&self, keys: &[Key<'_>]) -> Result<Found, StoreError> {
            self.inner.get_many(keys)
        }
    }

    impl CredentialStore for SplitStore {
        fn create(
            &self,
            credential: RegistryCredential,
        ) -> Result<Arc<RegistryCredential>, StoreError> {
            self.inner.create(credential)
        }
        fn create_all(
            &self,
            c: Vec<RegistryCredential>,
        ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
            self.inner.create_all(c)
        }
        fn update(
            &self,
            scope: ScopeRef<'_>,
            location: &Location,
            update: CredentialUpdate,
        ) -> Result<Arc<RegistryCredential>, StoreError> {
            self.inner.update(scope, location, update)
        }
        fn delete(
            &self,
            scope: ScopeRef<'_>,
            location: &Location,
        ) -> Result<Arc<RegistryCredential>, StoreError> {
            self.inner.delete(scope, location)
        }
        fn replace_app_credential(
            &self,
            app: &AppId,
            location: Location,
            credential: Credential,
        ) -> Result<AppCredentialReplaced, StoreError> {
            let scope = ScopeRef::App(app);
            let new = RegistryCredential::new(Scope::App(app.clone()), location, credential);
            // Step 1: put (delete, then create, until the create wins).
            let mut replaced = Vec::new();
            let stored = loop {
                if let Ok(old) = self.inner.delete(scope, new.location()) {
                    replaced.push(old);
                }
                match self.inner.create(new.clone()) {
                    Ok(stored) => break stored,
                    Err(StoreError::Conflict { .. }) => continue,
                    Err(e) => return Err(e),
                }
            };
            if !MET.with(|m| m.replace(true)) {
                self.rendezvous.wait();
            }
            // Steps 2 and 3: list the app, delete the others.
            for old in self.inner.list(scope)? {
                if old.location() != stored.location() {
                    replaced.push(self.inner.delete(scope, old.location())?);
                }
            }
            Ok(AppCredentialReplaced { stored, replaced })
        }
        fn delete_scope(
            &self,
            scope: ScopeRef<'_>,
        ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
            self.inner.delete_scope(scope)
        }
        fn list(&self, scope: ScopeRef<'_>) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
            self.inner.list(scope)
        }
        fn list_all(&self) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
            self.inner.list_all()
        }
    }

    #[test]
    fn r19_the_concurrency_case_fails_a_split_replacement() {
        let split = SplitStore {
            inner: MemoryStore::new(),
            rendezvous: Barrier::new(PUSH_THREADS),
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            r19_concurrent_pushes_of_one_app_leave_exactly_one(&split, &split)
        }));
        assert!(
            outcome.is_err(),
            "R19: the concurrency case passed a store that replaces in three steps"
        );
        // The same case passes the real, one-step replacement.
        let memory = MemoryStore::new();
        r19_concurrent_pushes_of_one_app_leave_exactly_one(&memory, &memory.clone());
    }
}
