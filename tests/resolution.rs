//! Resolution over the store (R13–R17).

use std::sync::{Arc, Mutex};

use registry_credentials::candidates::CandidateKind;
use registry_credentials::credential::CredentialUpdate;
use registry_credentials::resolve::{Explanation, explain, resolve_all};
use registry_credentials::scope::ScopeRef;
use registry_credentials::store::conformance::{Call, Hooked, Hooks, cred};
use registry_credentials::store::{Key, block_on_ready};
use registry_credentials::*;

fn app() -> App {
    App::new("o1", "s1", "a1").unwrap()
}

fn add(store: &dyn CredentialStore, scope: Scope, loc: &str, user: &str) {
    store
        .create(cred(scope, loc, user, &format!("{user}-pw")))
        .unwrap();
}

/// `add` for each of `entries` (scope, location, user).
fn add_all(store: &dyn CredentialStore, entries: &[(Scope, &str, &str)]) {
    for (scope, loc, user) in entries {
        add(store, scope.clone(), loc, user);
    }
}

/// A memory store holding `entries` (scope, location, user), each user's
/// password `USER-pw`.
fn stored(entries: &[(Scope, &str, &str)]) -> MemoryStore {
    let store = MemoryStore::new();
    add_all(&store, entries);
    store
}

/// The space's credential for `registry.example.com/repo` (user `s`) over
/// the foundation's for `example.com` (user `f`): both match the images
/// below, and the space outranks the foundation.
fn space_over_foundation() -> MemoryStore {
    stored(&[
        (Scope::Foundation, "example.com", "f"),
        (
            Scope::Space(app().space().clone()),
            "registry.example.com/repo",
            "s",
        ),
    ])
}

/// The explanation of `registry.example.com/repo/img:1` for `app()`.
fn explain_img1(store: &MemoryStore) -> Explanation {
    explain(
        store,
        &app(),
        &"registry.example.com/repo/img:1".parse().unwrap(),
    )
    .unwrap()
}

fn winner(store: &dyn CredentialStore, image: &str) -> Option<(ScopeKind, String, String)> {
    resolve(store, &app(), &image.parse().unwrap())
        .unwrap()
        .map(|r| {
            (
                r.scope_kind(),
                r.location().to_string(),
                r.credential().username().to_string(),
            )
        })
}

#[test]
fn r17_updates_and_deletes_take_effect_on_the_next_resolution() {
    let store = MemoryStore::new();
    let space = Scope::Space(app().space().clone());
    add(&store, space.clone(), "registry.example.com", "s");
    add(&store, Scope::Foundation, "example.com", "f");
    let image = "registry.example.com/repo/img";
    assert_eq!(winner(&store, image).unwrap().2, "s");

    let location: Location = "registry.example.com".parse().unwrap();
    store
        .update(
            space.as_scope_ref(),
            &location,
            CredentialUpdate::Username(Username::new("s2").unwrap()),
        )
        .unwrap();
    let r = resolve(&store, &app(), &image.parse().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(r.credential().username().as_str(), "s2");
    assert_eq!(r.credential().password().expose(), "s-pw", "password kept");

    store.delete(space.as_scope_ref(), &location).unwrap();
    assert_eq!(
        winner(&store, image),
        Some((ScopeKind::Foundation, "example.com".into(), "f".into()))
    );
}

#[test]
fn r16_conflict_leaves_the_stored_credential_untouched() {
    let store = MemoryStore::new();
    add(&store, Scope::Foundation, "registry.example.com", "first");
    let err = store
        .create(RegistryCredential::new(
            Scope::Foundation,
            "Registry.Example.com".parse().unwrap(),
            Credential::new("second", "second-pw").unwrap(),
        ))
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }));
    assert!(err.to_string().contains("registry.example.com"), "{err}");
    assert!(!err.to_string().contains("second-pw"));
    assert_eq!(winner(&store, "registry.example.com/x").unwrap().2, "first");
}

#[test]
fn r18_deleting_or_updating_a_missing_credential_is_not_found() {
    let store = MemoryStore::new();
    let location: Location = "example.com".parse().unwrap();
    assert!(matches!(
        store.delete(ScopeRef::Foundation, &location),
        Err(StoreError::NotFound { .. })
    ));
    let e = store
        .update(
            ScopeRef::Foundation,
            &location,
            CredentialUpdate::Password(Password::new("x").unwrap()),
        )
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }));
    assert!(e.to_string().contains("example.com"));
}

#[test]
fn r14_resolve_all_lists_fallbacks_in_precedence_order() {
    let a = app();
    let (org, app_scope) = (Scope::Org(a.org().clone()), Scope::App(a.id().clone()));
    let store = stored(&[
        (Scope::Foundation, "example.com", "f"),
        (org, "registry.example.com/repo", "o"),
        (app_scope, "registry.example.com", "a"),
        (Scope::Foundation, "registry.example.com/repo", "f2"),
    ]);
    let all: Vec<_> = resolve_all(
        &store,
        &a,
        &"registry.example.com/repo/img".parse().unwrap(),
    )
    .unwrap()
    .into_iter()
    .map(|r| {
        (
            r.credential().username().to_string(),
            r.rank(),
            r.candidate_kind(),
        )
    })
    .collect();
    assert_eq!(
        all,
        [
            ("a".to_string(), 1, CandidateKind::Registry),
            ("o".to_string(), 0, CandidateKind::Namespace),
            ("f2".to_string(), 0, CandidateKind::Namespace),
            ("f".to_string(), 2, CandidateKind::ParentDomain),
        ]
    );
}

#[test]
fn r14_explain_shows_every_attempt_and_never_a_password() {
    let why = explain_img1(&space_over_foundation());
    assert_eq!(why.attempts().len(), 12);
    let w = why.winner().unwrap();
    assert_eq!(w.scope().kind(), ScopeKind::Space);
    assert_eq!(w.candidate(), "registry.example.com/repo");
    let text = why.to_string();
    assert!(text.contains("<- chosen"), "{text}");
    assert!(text.contains("(outranked)"), "{text}");
    assert!(!text.contains("-pw"), "{text}");
    assert!(!format!("{why:?}").contains("-pw"));

    let none = explain(&MemoryStore::new(), &app(), &"nginx".parse().unwrap()).unwrap();
    assert!(none.winner().is_none());
    assert!(none.to_string().contains("goes on without one"));
}

#[test]
fn r15_nothing_found_is_not_an_error() {
    assert_eq!(winner(&MemoryStore::new(), "nginx"), None);
}

/// A store whose `CredentialSource` implements only `get_many` (what
/// [`Hooked`] does) and counts the batch look-ups and the keys they ask
/// for, to check the trait's defaults: `first_match` (what `resolve` calls)
/// asks `get_many` once for the whole plan and selects the first hit, and
/// `get` is a batch of one.
type Minimal = Hooked<MemoryStore, GetCounter>;

/// (`get_many` calls, keys asked for).
#[derive(Default)]
struct GetCounter {
    gets: Mutex<(usize, usize)>,
}

impl Hooks for GetCounter {
    fn before(&self, call: Call<'_>) -> Result<(), StoreError> {
        if let Call::GetMany(keys) = call {
            let mut gets = self.gets.lock().unwrap();
            gets.0 += 1;
            gets.1 += keys.len();
        }
        Ok(())
    }
}

#[test]
fn r14_trait_defaults_and_forwarding_impls_agree_with_memory_store() {
    let minimal = Minimal::default();
    let a = app();
    add_all(
        &minimal,
        &[
            (Scope::Org(a.org().clone()), "registry.example.com", "o"),
            (Scope::Foundation, "registry.example.com/repo", "f"),
        ],
    );
    let image: Reference = "registry.example.com/repo/img".parse().unwrap();
    let r = resolve(&minimal, &a, &image).unwrap().unwrap();
    assert_eq!(r.credential().username().as_str(), "o");
    assert_eq!(
        *minimal.gets.lock().unwrap(),
        (1, 12),
        "one batch look-up of every key of the plan"
    );
    // `get` is a batch of one.
    let org_location: Location = "registry.example.com".parse().unwrap();
    let got = minimal
        .get(Key::new(ScopeRef::Org(a.org()), &org_location))
        .unwrap()
        .unwrap();
    assert_eq!(got.username().as_str(), "o");
    assert_eq!(*minimal.gets.lock().unwrap(), (2, 13));

    let shared: Arc<dyn CredentialStore> = Arc::new(minimal);
    let boxed: Box<dyn CredentialStore> = Box::new(Arc::clone(&shared));
    assert_eq!(
        resolve(&boxed, &a, &image)
            .unwrap()
            .unwrap()
            .credential()
            .username()
            .as_str(),
        "o"
    );
    assert_eq!(shared.list_all().unwrap().len(), 2);
}

#[test]
fn r19_replace_app_credential_replaces_it_whole() {
    let store = MemoryStore::new();
    let a = app();
    let loc: Location = "docker.io/library".parse().unwrap();
    let first = store
        .replace_app_credential(a.id(), loc.clone(), Credential::new("u1", "p1").unwrap())
        .unwrap();
    assert!(first.replaced.is_empty());
    let second = store
        .replace_app_credential(a.id(), loc, Credential::new("u2", "p2").unwrap())
        .unwrap();
    assert_eq!(second.replaced.len(), 1);
    let old = &second.replaced[0];
    assert_eq!(old.username().as_str(), "u1");
    assert_eq!(second.stored.username().as_str(), "u2");
    assert_eq!(store.len(), 1);
    let r = resolve(&store, &a, &"nginx".parse().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            r.credential().username().as_str(),
            r.credential().password().expose()
        ),
        ("u2", "p2")
    );
    // Another app never sees it.
    let other = App::new("o1", "s1", "a2").unwrap();
    assert!(
        resolve(&store, &other, &"nginx".parse().unwrap())
            .unwrap()
            .is_none()
    );
}

#[test]
fn r21_listing_is_ordered_by_location_and_by_scope() {
    let store = MemoryStore::new();
    let a = app();
    add(&store, Scope::Foundation, "z.example.com", "1");
    add(&store, Scope::Foundation, "a.example.com", "2");
    add(&store, Scope::App(a.id().clone()), "m.example.com", "3");
    add(&store, Scope::Org(a.org().clone()), "b.example.com", "4");
    let found: Vec<_> = store
        .list(ScopeRef::Foundation)
        .unwrap()
        .iter()
        .map(|c| c.location().to_string())
        .collect();
    assert_eq!(found, ["a.example.com", "z.example.com"]);
    let all: Vec<_> = store
        .list_all()
        .unwrap()
        .iter()
        .map(|c| c.username().to_string())
        .collect();
    assert_eq!(all, ["3", "4", "2", "1"]);
}

#[test]
fn r14_r15_async_forms_answer_as_the_sync_ones() {
    use registry_credentials::resolve::{resolve_all_async, resolve_async};
    use registry_credentials::store::InlineStore;
    let store = space_over_foundation();
    let a = app();
    let inline = InlineStore(store.clone());
    let image: Reference = "registry.example.com/repo/img".parse().unwrap();
    let users = |all: Vec<resolve::Resolution>| -> Vec<(String, usize)> {
        all.iter()
            .map(|r| (r.credential().username().to_string(), r.rank()))
            .collect()
    };
    let all = block_on_ready(resolve_all_async(&inline, &a, &image)).unwrap();
    assert_eq!(users(all), [("s".to_string(), 0), ("f".to_string(), 2)]);
    assert_eq!(
        users(block_on_ready(resolve_all_async(&inline, &a, &image)).unwrap()),
        users(resolve_all(&store, &a, &image).unwrap())
    );
    let one = block_on_ready(resolve_async(&inline, &a, &image))
        .unwrap()
        .unwrap();
    assert_eq!(one.credential().username().as_str(), "s");
    let nothing: Reference = "quay.io/x/y".parse().unwrap();
    let none = block_on_ready(resolve_async(&inline, &a, &nothing)).unwrap();
    assert!(none.is_none(), "R15");
    let all = block_on_ready(resolve_all_async(&inline, &a, &nothing)).unwrap();
    assert!(all.is_empty(), "R15");
}

/// `explain_async` through `Arc<dyn AsyncCredentialSource>` reports what
/// `explain` does: the same attempts, found credentials and winner (R14),
/// and the same answer when nothing matches (R15).
#[test]
fn r14_r15_explain_async_through_a_trait_object_answers_as_explain() {
    use registry_credentials::resolve::explain_async;
    use registry_credentials::store::{AsyncCredentialSource, InlineStore};
    let store = space_over_foundation();
    let a = app();
    let org = Scope::Org(a.org().clone());
    add(&store, org, "registry.example.com", "o");
    let shared: Arc<dyn AsyncCredentialSource> = Arc::new(InlineStore(store.clone()));
    let rows = |why: &Explanation| -> Vec<(Scope, String, CandidateKind, Option<String>)> {
        why.attempts()
            .iter()
            .map(|t| {
                (
                    t.scope().clone(),
                    t.candidate().to_owned(),
                    t.candidate_kind(),
                    t.stored().map(|c| c.username().to_string()),
                )
            })
            .collect()
    };
    for image in ["registry.example.com/repo/img:1", "nginx"] {
        let image: Reference = image.parse().unwrap();
        let sync = explain(&store, &a, &image).unwrap();
        let r#async = block_on_ready(explain_async(&*shared, &a, &image)).unwrap();
        assert_eq!(rows(&r#async), rows(&sync));
        assert_eq!(r#async.winner_index(), sync.winner_index());
        assert_eq!(r#async.image(), sync.image());
        assert_eq!(r#async.name(), sync.name());
        assert_eq!(r#async.puller(), sync.puller());
        assert_eq!(r#async.to_string(), sync.to_string());
    }
    let why = block_on_ready(explain_async(
        &*shared,
        &a,
        &"registry.example.com/repo/img".parse().unwrap(),
    ))
    .unwrap();
    assert_eq!(why.attempts().len(), 12);
    let w = why.winner().unwrap();
    assert_eq!(
        (w.scope().kind(), w.candidate()),
        (ScopeKind::Space, "registry.example.com/repo")
    );
    assert_eq!(rows(&why).iter().filter(|r| r.3.is_some()).count(), 3);
    let none = block_on_ready(explain_async(&*shared, &a, &"nginx".parse().unwrap())).unwrap();
    assert_eq!(none.winner_index(), None);
    assert_eq!(none.attempts().len(), 8);
}

/// What an operator reads: the winner, its scope, location and kind.
#[test]
fn r14_resolution_display_names_user_scope_location_and_kind() {
    let store = MemoryStore::new();
    let a = app();
    add(&store, Scope::Org(a.org().clone()), "example.com", "o");
    let r = resolve(
        &store,
        &a,
        &"registry.example.com/repo/img".parse().unwrap(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        r.to_string(),
        "user `o` from the organization o1 credential for `example.com` (parent domain)"
    );
}

/// The explanation's table, line by line: the chosen mark on the winner's
/// line, the outranked mark on the others that were found (R14).
#[test]
fn r14_explain_table_marks_the_winner_line() {
    let why = explain_img1(&space_over_foundation());
    assert_eq!(
        why.to_string(),
        "\
image `registry.example.com/repo/img:1` (registry.example.com/repo/img) for app a1 in space s1 of organization o1:
  app          registry.example.com/repo  namespace      -
  app          registry.example.com       registry       -
  app          example.com                parent domain  -
  space        registry.example.com/repo  namespace      found user `s`  <- chosen
  space        registry.example.com       registry       -
  space        example.com                parent domain  -
  organization registry.example.com/repo  namespace      -
  organization registry.example.com       registry       -
  organization example.com                parent domain  -
  foundation   registry.example.com/repo  namespace      -
  foundation   registry.example.com       registry       -
  foundation   example.com                parent domain  found user `f` (outranked)
chosen: the space s1 credential for `registry.example.com/repo`, user `s`"
    );
}

/// R25 at each scope: an expired credential is passed over for the next
/// candidate of the same scope, and, with that one expired too, for the
/// next scope; `explain` marks both; with the foundation's expired too,
/// nothing is chosen (R15).
#[test]
fn r25_an_expired_credential_is_passed_over_at_each_scope() {
    use std::time::{Duration, SystemTime};
    let past = SystemTime::now() - Duration::from_secs(1);
    let a = app();
    let image: Reference = "registry.example.com/team/img".parse().unwrap();
    let scopes: Vec<Scope> = a.scopes().iter().map(|s| s.to_scope()).collect();
    for (i, scope) in scopes.iter().enumerate() {
        let store = MemoryStore::new();
        let put = |scope: &Scope, loc: &str, user: &str, expired: bool| {
            store
                .create(
                    RegistryCredential::new(
                        scope.clone(),
                        loc.parse().unwrap(),
                        Credential::new(user, "pw").unwrap(),
                    )
                    .with_expires_at(expired.then_some(past)),
                )
                .unwrap();
        };
        put(scope, "registry.example.com/team", "expired", true);
        put(scope, "registry.example.com", "next-candidate", false);
        for later in &scopes[i + 1..] {
            put(later, "example.com", "next-scope", false);
        }
        let user = |store: &MemoryStore| {
            resolve(store, &a, &image).unwrap().map(|r| {
                (
                    r.scope().clone(),
                    r.credential().username().as_str().to_owned(),
                )
            })
        };
        assert_eq!(
            user(&store),
            Some((scope.clone(), "next-candidate".to_owned())),
            "{scope}"
        );
        store
            .update(
                scope.as_scope_ref(),
                &"registry.example.com".parse().unwrap(),
                CredentialUpdate::ExpiresAt(Some(past)),
            )
            .unwrap();
        let next = scopes
            .get(i + 1)
            .map(|s| (s.clone(), "next-scope".to_owned()));
        assert_eq!(user(&store), next, "{scope}");
        let why = explain(&store, &a, &image).unwrap();
        let expired: Vec<(&Scope, &str)> = why
            .attempts()
            .iter()
            .filter(|t| t.expired())
            .map(|t| (t.scope(), t.candidate()))
            .collect();
        assert_eq!(
            expired,
            [
                (scope, "registry.example.com/team"),
                (scope, "registry.example.com")
            ]
        );
        assert_eq!(why.winner().is_some(), next.is_some());
        assert_eq!(
            resolve_all(&store, &a, &image).unwrap().len(),
            scopes.len() - i - 1,
            "{scope}: resolve_all leaves the expired out"
        );
    }
}
