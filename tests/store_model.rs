//! Model-based tests of the store contract (`CredentialStore`, R13–R19):
//! proptest generates sequences of operations, runs each on a store and on
//! a plain `BTreeMap` model, and compares results and whole contents after
//! every step.
//!
//! The check is generic over a store factory. A new backend joins with one
//! more test at the bottom:
//! `fn my_store_matches_the_model(ops in ops()) { check(MyStore::new(), &ops)?; }`.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use registry_credentials::credential::CredentialUpdate;
use registry_credentials::store::Key;
use registry_credentials::{
    App, Credential, CredentialSource, CredentialStore, Location, MemoryStore, Password, Reference,
    RegistryCredential, Scope, StoreError, Username, resolve, strategies,
};

/// (username, password): what the model keeps per key.
type Value = (String, String);
type Model = BTreeMap<(Scope, String), Value>;

/// The app resolved for: `a1` in space `s1` of organization `o1`, so that
/// of the scopes [`strategies::scope`] draws from, four are its own and
/// the others (`o2`, `s2`, `a2`) its neighbours', which must never serve it.
fn app() -> App {
    App::new(
        strategies::ORGS[0],
        strategies::SPACES[0],
        strategies::APPS[0],
    )
    .unwrap()
}

/// Locations as written: several share a normal form (R7), so operations
/// meet each other's keys often.
const LOCATIONS: [&str; 9] = [
    "example.com",
    "registry.example.com",
    "registry.example.com/team",
    "Registry.Example.COM/team",
    "registry.example.com/team/sub",
    "docker.io/library",
    "index.docker.io",
    "localhost:5000/a",
    "registry.example.com:5000",
];

/// References resolved against the store and the model (R10–R15).
const REFERENCES: [&str; 6] = [
    "registry.example.com/team/sub/img:1",
    "registry.example.com/team/img",
    "registry.example.com:5000/team/img",
    "nginx",
    "localhost:5000/a/b",
    "other.example.com/img",
];

#[derive(Debug, Clone)]
enum Change {
    Username(u8),
    Password(u8),
    Both(u8, u8),
}

#[derive(Debug, Clone)]
enum Op {
    Create(Scope, usize, u8, u8),
    /// At an app scope, `replace_app_credential` (R19); elsewhere a delete
    /// and a create.
    Replace(Scope, usize, u8, u8),
    Update(Scope, usize, Change),
    Delete(Scope, usize),
    DeleteScope(Scope),
    Get(Scope, usize),
    List(Scope),
    ListAll,
    GetMany(Vec<(Scope, usize)>),
    Resolve(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let s = strategies::scope;
    let l = 0..LOCATIONS.len();
    let v = 0..4u8;
    let change = prop_oneof![
        v.clone().prop_map(Change::Username),
        v.clone().prop_map(Change::Password),
        (v.clone(), v.clone()).prop_map(|(u, p)| Change::Both(u, p)),
    ];
    prop_oneof![
        3 => (s(), l.clone(), v.clone(), v.clone()).prop_map(|(s, l, u, p)| Op::Create(s, l, u, p)),
        2 => (s(), l.clone(), v.clone(), v.clone()).prop_map(|(s, l, u, p)| Op::Replace(s, l, u, p)),
        2 => (s(), l.clone(), change).prop_map(|(s, l, c)| Op::Update(s, l, c)),
        2 => (s(), l.clone()).prop_map(|(s, l)| Op::Delete(s, l)),
        1 => s().prop_map(Op::DeleteScope),
        1 => (s(), l.clone()).prop_map(|(s, l)| Op::Get(s, l)),
        1 => s().prop_map(Op::List),
        1 => Just(Op::ListAll),
        1 => prop::collection::vec((s(), l), 0..6).prop_map(Op::GetMany),
        2 => (0..REFERENCES.len()).prop_map(Op::Resolve),
    ]
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..80)
}

fn username(u: u8) -> String {
    format!("user-{u}")
}

fn password(p: u8) -> String {
    format!("secret-{p}")
}

fn location(l: usize) -> Location {
    LOCATIONS[l].parse().unwrap()
}

fn value(c: &RegistryCredential) -> Value {
    (
        c.username().as_str().to_owned(),
        c.password().expose().to_owned(),
    )
}

/// The model's entries at `scope`, ordered by location.
fn in_scope(model: &Model, scope: &Scope) -> Vec<((Scope, String), Value)> {
    let at = model.iter().filter(|((sc, _), _)| sc == scope);
    at.map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn entry(c: &RegistryCredential) -> ((Scope, String), Value) {
    (
        (c.scope().clone(), c.location().as_str().to_owned()),
        value(c),
    )
}

/// The model's answer for resolving `reference` for `app()` (R14): every
/// candidate at the app's scope, then its space, organization, foundation.
fn model_resolve(model: &Model, reference: &Reference) -> Option<(Scope, String, Value)> {
    let app = app();
    for scope in app.scopes() {
        for c in reference.candidates() {
            let key = (scope.to_scope(), c.as_str().to_owned());
            if let Some(v) = model.get(&key) {
                return Some((key.0, key.1, v.clone()));
            }
        }
    }
    None
}

/// Runs `ops` on `store` and on the model, comparing after every step.
fn check<S: CredentialStore>(store: S, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut model = Model::new();
    for (step, op) in ops.iter().enumerate() {
        let ctx = || format!("step {step}: {op:?}");
        match op {
            Op::Create(s, l, u, p) => {
                let (scope, loc) = (s.clone(), location(*l));
                let key = (scope.clone(), loc.as_str().to_owned());
                let cred = Credential::new(username(*u), password(*p)).unwrap();
                let got = store.create(RegistryCredential::new(scope, loc, cred));
                match model.entry(key) {
                    // R16: a conflict, and the stored one is untouched (the
                    // contents are compared below).
                    std::collections::btree_map::Entry::Occupied(_) => prop_assert!(
                        matches!(got, Err(StoreError::Conflict { .. })),
                        "{}: {got:?}",
                        ctx()
                    ),
                    std::collections::btree_map::Entry::Vacant(slot) => {
                        let stored =
                            got.map_err(|e| TestCaseError::fail(format!("{}: {e}", ctx())))?;
                        prop_assert_eq!(value(&stored), (username(*u), password(*p)));
                        slot.insert((username(*u), password(*p)));
                    }
                }
            }
            Op::Replace(s, l, u, p) => {
                let (scope, loc) = (s.clone(), location(*l));
                let key = (scope.clone(), loc.as_str().to_owned());
                let cred = Credential::new(username(*u), password(*p)).unwrap();
                let new = (username(*u), password(*p));
                if let Scope::App(app) = &scope {
                    // R19: the app's one credential; every other it held,
                    // at this location or another, is replaced.
                    let got = store
                        .replace_app_credential(app, loc, cred)
                        .map_err(|e| TestCaseError::fail(format!("{}: {e}", ctx())))?;
                    prop_assert_eq!(entry(&got.stored), (key.clone(), new.clone()));
                    let replaced: Vec<_> = got.replaced.iter().map(|c| entry(c)).collect();
                    // The one at the same location first, then the others
                    // in location order.
                    let mut want: Vec<_> = model
                        .get(&key)
                        .map(|v| (key.clone(), v.clone()))
                        .into_iter()
                        .collect();
                    want.extend(
                        model
                            .iter()
                            .filter(|((sc, l), _)| *sc == scope && *l != key.1)
                            .map(|(k, v)| (k.clone(), v.clone())),
                    );
                    prop_assert_eq!(replaced, want, "{}", ctx());
                    model.retain(|(sc, _), _| *sc != scope);
                    model.insert(key, new);
                } else {
                    let deleted = match store.delete(scope.as_scope_ref(), &loc) {
                        Ok(c) => Some(value(&c)),
                        Err(StoreError::NotFound { .. }) => None,
                        Err(e) => return Err(TestCaseError::fail(format!("{}: {e}", ctx()))),
                    };
                    let stored = store
                        .create(RegistryCredential::new(scope, loc, cred))
                        .map_err(|e| TestCaseError::fail(format!("{}: {e}", ctx())))?;
                    prop_assert_eq!(value(&stored), new.clone(), "{}", ctx());
                    let before = model.insert(key, new);
                    prop_assert_eq!(deleted, before, "{}", ctx());
                }
            }
            Op::DeleteScope(s) => {
                let scope = s;
                let got: Vec<_> = store
                    .delete_scope(scope.as_scope_ref())
                    .map_err(|e| TestCaseError::fail(format!("{}: {e}", ctx())))?
                    .iter()
                    .map(|c| entry(c))
                    .collect();
                // R13: that scope's credentials, ordered by location; no
                // other scope's.
                let want = in_scope(&model, scope);
                model.retain(|(sc, _), _| sc != scope);
                prop_assert_eq!(got, want, "{}", ctx());
            }
            Op::Update(s, l, change) => {
                let loc = location(*l);
                let update = match change {
                    Change::Username(u) => {
                        CredentialUpdate::Username(Username::new(username(*u)).unwrap())
                    }
                    Change::Password(p) => {
                        CredentialUpdate::Password(Password::new(password(*p)).unwrap())
                    }
                    Change::Both(u, p) => {
                        CredentialUpdate::Both(Credential::new(username(*u), password(*p)).unwrap())
                    }
                };
                let got = store.update(s.as_scope_ref(), &loc, update);
                let mkey = (s.clone(), loc.as_str().to_owned());
                match model.get_mut(&mkey) {
                    // R17: updating a missing credential is not found.
                    None => prop_assert!(
                        matches!(got, Err(StoreError::NotFound { .. })),
                        "{}: {got:?}",
                        ctx()
                    ),
                    Some(v) => {
                        match change {
                            Change::Username(u) => v.0 = username(*u),
                            Change::Password(p) => v.1 = password(*p),
                            Change::Both(u, p) => *v = (username(*u), password(*p)),
                        }
                        let got =
                            got.map_err(|e| TestCaseError::fail(format!("{}: {e}", ctx())))?;
                        prop_assert_eq!(&value(&got), &*v, "{}", ctx());
                        // R17: the location and scope never change.
                        prop_assert_eq!(got.location(), &loc);
                        prop_assert_eq!(got.scope(), s);
                    }
                }
            }
            Op::Delete(s, l) => {
                let loc = location(*l);
                let got = store.delete(s.as_scope_ref(), &loc);
                match model.remove(&(s.clone(), loc.as_str().to_owned())) {
                    // R18: deleting a missing credential is not found.
                    None => prop_assert!(
                        matches!(got, Err(StoreError::NotFound { .. })),
                        "{}: {got:?}",
                        ctx()
                    ),
                    Some(v) => {
                        let got =
                            got.map_err(|e| TestCaseError::fail(format!("{}: {e}", ctx())))?;
                        prop_assert_eq!(value(&got), v, "{}", ctx());
                    }
                }
            }
            Op::Get(s, l) => {
                let loc = location(*l);
                let got = store
                    .get(Key::new(s.as_scope_ref(), &loc))
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let want = model.get(&(s.clone(), loc.as_str().to_owned()));
                let got = got.as_deref().map(value);
                prop_assert_eq!(got.as_ref(), want, "{}", ctx());
            }
            Op::List(s) => {
                let got: Vec<_> = store
                    .list(s.as_scope_ref())
                    .map_err(|e| TestCaseError::fail(e.to_string()))?
                    .iter()
                    .map(|c| entry(c))
                    .collect();
                let want = in_scope(&model, s);
                prop_assert_eq!(got, want, "{}: ordered by location", ctx());
            }
            Op::ListAll => {} // checked after every step below
            Op::GetMany(keys) => {
                let locs: Vec<Location> = keys.iter().map(|(_, l)| location(*l)).collect();
                let store_keys: Vec<Key<'_>> = keys
                    .iter()
                    .zip(&locs)
                    .map(|((s, _), loc)| Key::new(s.as_scope_ref(), loc))
                    .collect();
                let got: Vec<Option<Value>> = store
                    .get_many(&store_keys)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?
                    .iter()
                    .map(|c| c.as_deref().map(value))
                    .collect();
                let want: Vec<Option<Value>> = keys
                    .iter()
                    .zip(&locs)
                    .map(|((s, _), loc)| model.get(&(s.clone(), loc.as_str().to_owned())).cloned())
                    .collect();
                prop_assert_eq!(&got, &want, "{}", ctx());
                let first = store
                    .first_match(&store_keys)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?
                    .map(|(i, c)| (i, value(&c)));
                let want_first = want
                    .iter()
                    .enumerate()
                    .find_map(|(i, v)| v.clone().map(|v| (i, v)));
                prop_assert_eq!(first, want_first, "{}", ctx());
            }
            Op::Resolve(r) => {
                let reference: Reference = REFERENCES[*r].parse().unwrap();
                let got = resolve(&store, &app(), &reference)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?
                    .map(|res| {
                        let c = res.stored();
                        (
                            c.scope().clone(),
                            c.location().as_str().to_owned(),
                            value(c),
                        )
                    });
                // R14, R15: the model's first hit, or nothing.
                prop_assert_eq!(got, model_resolve(&model, &reference), "{}", ctx());
            }
        }
        // After every step the whole store equals the model (list_all is
        // ordered by scope, then location, as a BTreeMap iterates).
        let all: Vec<_> = store
            .list_all()
            .map_err(|e| TestCaseError::fail(e.to_string()))?
            .iter()
            .map(|c| entry(c))
            .collect();
        let want: Vec<_> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        prop_assert_eq!(all, want, "{}: contents differ from the model", ctx());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn r13_r19_memory_store_matches_the_model(ops in ops()) {
        let store = MemoryStore::new();
        check(&store, &ops)?;
        prop_assert_eq!(store.len(), store.list_all().unwrap().len());
    }

    /// The forwarding impls (`Arc`, `Box<dyn CredentialStore>`) keep the
    /// contract.
    #[test]
    fn r13_r19_forwarding_stores_match_the_model(ops in ops()) {
        check(Arc::new(MemoryStore::new()), &ops)?;
        let boxed: Box<dyn CredentialStore> = Box::new(MemoryStore::new());
        check(boxed, &ops)?;
    }
}

/// Clones of a `MemoryStore` share state: the model holds across them.
#[test]
fn r17_memory_store_clones_share_state() {
    let a = MemoryStore::new();
    let b = a.clone();
    let loc = location(0);
    a.create(RegistryCredential::new(
        Scope::Foundation,
        loc.clone(),
        Credential::new("u", "p").unwrap(),
    ))
    .unwrap();
    let got = b
        .get(Key::new(Scope::Foundation.as_scope_ref(), &loc))
        .unwrap();
    assert_eq!(got.map(|c| value(&c)), Some(("u".into(), "p".into())));
}
