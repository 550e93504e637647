//! Stored credentials by GUID and the one query of them, through the
//! manager's access rules (R20, R21, R22): the query reads exactly the
//! scopes the caller may see, in one call of the store; a GUID the caller
//! may not see is not found, one it may see but not change is refused.

use std::collections::BTreeSet;
use std::sync::Mutex;

use registry_credentials::credential::{CredentialUpdate, Password};
use registry_credentials::store::conformance::{Call, Hooked, Hooks};
use registry_credentials::store::{Query, StoreError};
use registry_credentials::{Credential, CredentialStore, MemoryStore, Scope, ScopeKind};
use registry_credentials_cf::access::{self, GlobalRole, OrgRole, SpaceRole};
use registry_credentials_cf::directory::{DirectoryReader, DirectoryWriter};
use registry_credentials_cf::manage::{ManageError, Manager, Within};
use registry_credentials_test_support::cf::{World, name};

/// Records every call of the store, by name.
#[derive(Default)]
struct Calls(Mutex<Vec<String>>);

impl Hooks for Calls {
    fn before(&self, call: Call<'_>) -> Result<(), StoreError> {
        let what = match call {
            Call::Query(q) => format!("query {:?}", q.scope_filter().map(<[Scope]>::len)),
            Call::ListAll => "list_all".into(),
            Call::List(_) => "list".into(),
            other => format!("{other:?}")
                .split([' ', '('])
                .next()
                .unwrap()
                .into(),
        };
        self.0.lock().unwrap().push(what);
        Ok(())
    }
}

type TheWorld = World<Manager<Hooked<MemoryStore, Calls>>>;

/// The world with a second organization `o2` and a second space `s2` of
/// `o`, credentials at every scope (an app in each space, by a push), and
/// users of every kind. Returns the users by name.
fn populated() -> (
    TheWorld,
    Vec<(&'static str, registry_credentials::scope::UserId)>,
) {
    let w = World::new(Hooked::new(MemoryStore::new(), Calls::default()));
    let o2 = w.m.create_org(&w.admin, name("o2")).unwrap();
    let s2 = w.add_space("s2");
    let s3 = w.m.create_space(&w.admin, &o2, name("s3")).unwrap();
    w.store(Scope::Foundation, "docker.io", "f", "pw-f");
    w.store(Scope::Org(w.org.clone()), "org.example.com", "o", "pw-o");
    w.store(Scope::Org(o2.clone()), "org2.example.com", "o2", "pw-o2");
    w.store(Scope::Space(w.space.clone()), "s.example.com", "s", "pw-s");
    w.store(Scope::Space(s2.clone()), "s2.example.com", "s2", "pw-s2");
    w.store(Scope::Space(s3.clone()), "s3.example.com", "s3", "pw-s3");
    w.push(
        "app",
        "app.example.com/x/i",
        Some(Credential::new("a", "pw-a").unwrap()),
    )
    .started()
    .unwrap();
    let dev2 = w.user("dev2", &s2, SpaceRole::Developer);
    w.m.stage(
        &dev2,
        &s2,
        &name("app2"),
        "app2.example.com/y/i".parse().unwrap(),
        Some(Credential::new("a2", "pw-a2").unwrap()),
    )
    .unwrap()
    .started()
    .unwrap();
    let auditor = registry_credentials::scope::UserId::new("auditor").unwrap();
    w.m.directory()
        .grant_global(auditor.clone(), GlobalRole::GlobalAuditor)
        .unwrap();
    let users = vec![
        ("admin", w.admin.clone()),
        ("auditor", auditor),
        ("org-manager", w.org_user("org-manager", OrgRole::Manager)),
        ("org-auditor", w.org_user("org-auditor", OrgRole::Auditor)),
        ("dev", w.dev.clone()),
        ("dev2", dev2),
        ("supporter", w.user("supporter", &s2, SpaceRole::Supporter)),
        (
            "nobody",
            registry_credentials::scope::UserId::new("nobody").unwrap(),
        ),
    ];
    (w, users)
}

/// What `user` may see by the pure rules, over every stored credential.
fn seen_by_the_rules(w: &TheWorld, user: &registry_credentials::scope::UserId) -> BTreeSet<String> {
    let roles = w.m.directory().roles(user).unwrap();
    w.m.store()
        .list_all()
        .unwrap()
        .iter()
        .filter(|c| {
            let place = w.m.directory().place(c.scope()).unwrap().unwrap();
            access::may_see(&roles, place.as_path())
        })
        .map(|c| c.location().to_string())
        .collect()
}

#[test]
fn r21_query_reads_exactly_the_scopes_the_caller_may_see_in_one_store_call() {
    let (w, users) = populated();
    for (label, user) in &users {
        let expected = seen_by_the_rules(&w, user);
        w.m.store().hooks.0.lock().unwrap().clear();
        let page =
            w.m.query(user, Query::new().page(1, 5000).unwrap(), &Within::new())
                .unwrap();
        let got: BTreeSet<String> = page
            .resources()
            .iter()
            .map(|r| r.credential().location().to_string())
            .collect();
        assert_eq!(got, expected, "{label}");
        assert_eq!(page.total_results(), expected.len() as u64, "{label}");
        let calls = w.m.store().hooks.0.lock().unwrap().clone();
        assert_eq!(calls.len(), 1, "{label}: {calls:?}");
        assert!(calls[0].starts_with("query"), "{label}: {calls:?}");
    }
    // The foundation is seen by everyone; a space's credentials only by
    // those with a role there (or who see everything).
    let by = |label: &str| {
        let user = &users.iter().find(|(l, _)| *l == label).unwrap().1;
        seen_by_the_rules(&w, user)
    };
    assert_eq!(by("nobody"), BTreeSet::from(["docker.io".to_owned()]));
    assert!(by("dev").contains("s.example.com") && !by("dev").contains("s2.example.com"));
    assert!(by("dev").contains("app.example.com/x") && !by("dev").contains("app2.example.com/y"));
    assert!(by("supporter").contains("org.example.com"));
    assert!(!by("org-manager").contains("s.example.com"));
    assert_eq!(by("auditor").len(), 8);
}

#[test]
fn r22_within_narrows_by_relationship_and_the_read_rules_still_hold() {
    let (w, users) = populated();
    let dev = &users.iter().find(|(l, _)| *l == "dev").unwrap().1;
    let all = Query::new().page(1, 5000).unwrap();
    let locations = |user, within: Within| -> Vec<String> {
        let mut found: Vec<String> =
            w.m.query(user, all.clone(), &within)
                .unwrap()
                .resources()
                .iter()
                .map(|r| r.credential().location().to_string())
                .collect();
        found.sort();
        found
    };
    let org = Within::new().orgs([w.org.clone()]);
    assert_eq!(
        locations(&w.admin, org.clone()),
        [
            "app.example.com/x",
            "app2.example.com/y",
            "org.example.com",
            "s.example.com",
            "s2.example.com"
        ]
    );
    assert_eq!(
        locations(dev, org),
        ["app.example.com/x", "org.example.com", "s.example.com"]
    );
    let space = Within::new().spaces([w.space.clone()]);
    assert_eq!(
        locations(&w.admin, space.clone()),
        ["app.example.com/x", "s.example.com"]
    );
    let app = w.m.find_app(&w.admin, &w.space, "app").unwrap();
    assert_eq!(
        locations(&w.admin, space.apps([app.clone()])),
        ["app.example.com/x"]
    );
    let dev2 = &users.iter().find(|(l, _)| *l == "dev2").unwrap().1;
    assert!(locations(dev2, Within::new().apps([app])).is_empty());
    assert!(locations(&w.admin, Within::new().orgs([])).is_empty());
    // The located relationships: an app credential knows its space and
    // organization, a space credential its organization.
    let page =
        w.m.query(
            &w.admin,
            all.clone().scope_kinds([ScopeKind::App, ScopeKind::Space]),
            &Within::new().spaces([w.space.clone()]),
        )
        .unwrap();
    for r in page.resources() {
        assert_eq!(r.org(), Some(&w.org));
        assert_eq!(r.space(), Some(&w.space));
        assert_eq!(
            r.app().is_some(),
            r.credential().scope().kind() == ScopeKind::App
        );
    }
}

#[test]
fn r20_r21_by_guid_unseen_is_not_found_and_seen_but_unchangeable_is_refused() {
    let (w, users) = populated();
    let user = |label: &str| users.iter().find(|(l, _)| *l == label).unwrap().1.clone();
    let s2_credential =
        w.m.store()
            .list_all()
            .unwrap()
            .into_iter()
            .find(|c| c.location().as_str() == "s2.example.com")
            .unwrap();
    let guid = s2_credential.record().unwrap().guid();
    let new_password = || CredentialUpdate::Password(Password::new("pw-new").unwrap());

    // dev has no role in s2: the credential does not exist for dev.
    for e in [
        w.m.get_by_guid(&user("dev"), guid).unwrap_err(),
        w.m.update_by_guid(&user("dev"), guid, new_password())
            .unwrap_err(),
        w.m.delete_by_guid(&user("dev"), guid).unwrap_err(),
    ] {
        assert!(
            matches!(e, ManageError::GuidNotFound { guid: g } if g == guid),
            "{e}"
        );
        assert!(!e.to_string().contains("s2"), "{e}");
    }
    let stored_password = || {
        let stored = w.m.store().get_by_guid(guid).unwrap().unwrap();
        stored.password().expose().to_owned()
    };
    // The supporter of s2 sees it but may not change it (R20).
    assert_eq!(
        w.m.get_by_guid(&user("supporter"), guid)
            .unwrap()
            .credential()
            .username()
            .as_str(),
        "s2"
    );
    for e in [
        w.m.update_by_guid(&user("supporter"), guid, new_password())
            .unwrap_err(),
        w.m.delete_by_guid(&user("supporter"), guid).unwrap_err(),
    ] {
        assert!(matches!(e, ManageError::Permission(_)), "{e}");
    }
    assert_eq!(stored_password(), "pw-s2");
    // The Space Developer of s2 changes it, then deletes it.
    let updated =
        w.m.update_by_guid(&user("dev2"), guid, new_password())
            .unwrap();
    assert_eq!(updated.credential().record().guid(), guid);
    assert_eq!(stored_password(), "pw-new");
    assert_eq!(updated.org(), Some(&w.org));
    let deleted = w.m.delete_by_guid(&user("dev2"), guid).unwrap();
    assert_eq!(deleted.credential().location().as_str(), "s2.example.com");
    let gone = w.m.get_by_guid(&w.admin, guid).unwrap_err();
    assert!(matches!(gone, ManageError::GuidNotFound { .. }), "{gone}");
}
