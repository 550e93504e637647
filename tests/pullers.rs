//! R26: a puller that can say only a space, an organization or nobody is
//! served from its scope up, never from a scope it cannot vouch for.

use registry_credentials::resolve::{explain, resolve_all};
use registry_credentials::scope::{OrgId, Puller, SpaceId};
use registry_credentials::{
    App, Credential, CredentialStore, MemoryStore, RegistryCredential, Scope, ScopeKind, resolve,
};

/// A store with a credential for `location` at each of `scopes`, its
/// username the scope's kind.
fn stored_at(scopes: Vec<Scope>, location: &str) -> MemoryStore {
    let store = MemoryStore::new();
    for scope in scopes {
        let user = format!("{}-user", scope.kind().as_str());
        store
            .create(RegistryCredential::new(
                scope,
                location.parse().unwrap(),
                Credential::new(user, "pw").unwrap(),
            ))
            .unwrap();
    }
    store
}

/// The scopes of app `o/s/a` below the foundation, most specific first.
fn tenant_scopes(app: &App) -> Vec<Scope> {
    vec![
        Scope::App(app.id().clone()),
        Scope::Space(app.space().clone()),
        Scope::Org(app.org().clone()),
    ]
}

/// A credential for `example.com` at every scope of app `o/s/a`.
fn everywhere() -> (MemoryStore, App) {
    let app = App::new("o", "s", "a").unwrap();
    let mut scopes = tenant_scopes(&app);
    scopes.push(Scope::Foundation);
    (stored_at(scopes, "example.com"), app)
}

#[test]
fn r26_each_puller_is_served_from_its_own_scope_up() {
    let (store, app) = everywhere();
    let image = "registry.example.com/team/image".parse().unwrap();
    let space = Puller::Space {
        org: app.org().clone(),
        space: app.space().clone(),
    };
    let cases = [
        (Puller::App(app.clone()), ScopeKind::App, 4),
        (space, ScopeKind::Space, 3),
        (Puller::Org(app.org().clone()), ScopeKind::Org, 2),
        (Puller::Foundation, ScopeKind::Foundation, 1),
    ];
    for (puller, winner, scopes) in cases {
        let r = resolve(&store, &puller, &image).unwrap().unwrap();
        assert_eq!(r.scope_kind(), winner, "{puller}");
        let all = resolve_all(&store, &puller, &image).unwrap();
        assert_eq!(all.len(), scopes, "{puller}: one per scope searched");
        let why = explain(&store, &puller, &image).unwrap();
        assert_eq!(why.puller(), &puller);
        assert!(why.attempts().iter().all(|a| a.scope().kind() >= winner));
    }
    // An app and the puller made of it resolve alike.
    let by_app = resolve(&store, &app, &image).unwrap().unwrap();
    assert_eq!(by_app.scope_kind(), ScopeKind::App);
}

#[test]
fn r26_a_puller_who_cannot_say_who_pulls_never_gets_a_lower_scope() {
    let app = App::new("o", "s", "a").unwrap();
    let store = stored_at(tenant_scopes(&app), "docker.io");
    let nginx = "nginx".parse().unwrap();
    assert!(
        resolve(&store, &Puller::Foundation, &nginx)
            .unwrap()
            .is_none()
    );
    let other_org = Puller::Org(OrgId::new("other").unwrap());
    assert!(resolve(&store, &other_org, &nginx).unwrap().is_none());
    let other_space = Puller::Space {
        org: app.org().clone(),
        space: SpaceId::new("other").unwrap(),
    };
    // The organization's credential serves its other spaces; the space's
    // and the app's do not.
    let r = resolve(&store, &other_space, &nginx).unwrap().unwrap();
    assert_eq!(r.scope_kind(), ScopeKind::Org);
}

/// Over random stores of the pool: a puller for nobody gets a foundation
/// credential or nothing, one for an organization never a space's or an
/// app's, whatever is stored.
#[cfg(feature = "proptest")]
mod random_stores {
    use proptest::prelude::*;
    use registry_credentials::scope::Puller;
    use registry_credentials::strategies::{app, pooled_image, pooled_location, scope};
    use registry_credentials::{
        Credential, CredentialStore, MemoryStore, RegistryCredential, ScopeKind, resolve,
    };

    proptest! {
        #[test]
        fn r26_foundation_and_org_pullers_never_reach_below_their_scope(
            stored in prop::collection::vec((scope(), pooled_location()), 0..24),
            app in app(),
            image in pooled_image(),
        ) {
            let store = MemoryStore::new();
            for (scope, location) in stored {
                // A location held twice at one scope conflicts; the first stays.
                let _ = store.create(RegistryCredential::new(
                    scope,
                    location,
                    Credential::new("u", "p").unwrap(),
                ));
            }
            if let Some(r) = resolve(&store, &Puller::Foundation, &image).unwrap() {
                prop_assert_eq!(r.scope_kind(), ScopeKind::Foundation);
            }
            let org = Puller::Org(app.org().clone());
            if let Some(r) = resolve(&store, &org, &image).unwrap() {
                prop_assert!(r.scope_kind() >= ScopeKind::Org, "{:?}", r.scope());
                if r.scope_kind() == ScopeKind::Org {
                    prop_assert_eq!(r.scope().id(), Some(app.org().as_str()));
                }
            }
            // A puller for the app sees at least what the foundation sees.
            let by_app = resolve(&store, &app, &image).unwrap();
            let by_nobody = resolve(&store, &Puller::Foundation, &image).unwrap();
            prop_assert!(by_nobody.is_none() || by_app.is_some());
        }
    }
}
