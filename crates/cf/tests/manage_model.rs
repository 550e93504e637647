//! R16–R20 as a model: any sequence of create, update, delete and push
//! calls, by callers with and without the right roles, leaves the store
//! equal to a plain map that follows the rules, a push picks the credential
//! the model's own precedence search picks (R14, R19), and a refused or
//! failed call never changes the store.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use registry_credentials::credential::CredentialUpdate;
use registry_credentials::scope::{AppId, OrgId, SpaceId, UserId};
use registry_credentials::{
    Credential, CredentialStore, MemoryStore, Password, RegistryCredential, Scope,
};
use registry_credentials_cf::access::{GlobalRole, OrgRole, SpaceRole};
use registry_credentials_cf::directory::{DirectoryReader, DirectoryWriter, MemoryDirectory, Name};
use registry_credentials_cf::manage::{ManageError, Manager};

// Users: 0 admin, 1 Org Manager of org 0, 2 Space Developer of space 0,
// 3 Space Developer of space 2, 4 Global Auditor, 5 no role.
const USERS: [&str; 6] = ["admin", "orgmgr", "dev0", "dev2", "auditor", "nobody"];
// Spaces 0 and 1 are in org 0; space 2 is in org 1.
const SPACE_ORG: [usize; 3] = [0, 0, 1];
const APPS: [&str; 2] = ["a", "b"];
const LOCATIONS: [&str; 5] = [
    "docker.io/library",
    "docker.io",
    "registry.example.com/repo",
    "registry.example.com",
    "example.com",
];
/// Images and their candidates, written out by hand (R10, R11).
const IMAGES: [(&str, &[&str]); 3] = [
    ("nginx", &["docker.io/library", "docker.io"]),
    (
        "registry.example.com/repo/img:1",
        &[
            "registry.example.com/repo",
            "registry.example.com",
            "example.com",
        ],
    ),
    ("example.com/img", &["example.com"]),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum M {
    App(usize, usize),
    Space(usize),
    Org(usize),
    Foundation,
}

#[derive(Debug, Clone)]
enum Op {
    Create {
        user: usize,
        scope: M,
        loc: usize,
        cred: (usize, usize),
    },
    Update {
        user: usize,
        scope: M,
        loc: usize,
        username: Option<usize>,
        password: Option<usize>,
    },
    Delete {
        user: usize,
        scope: M,
        loc: usize,
    },
    Push {
        user: usize,
        space: usize,
        app: usize,
        image: usize,
        given: Option<(usize, usize)>,
        starts: bool,
    },
}

fn any_scope(with_apps: bool) -> BoxedStrategy<M> {
    let plain = prop_oneof![
        Just(M::Foundation),
        (0..2usize).prop_map(M::Org),
        (0..3usize).prop_map(M::Space),
    ];
    if with_apps {
        prop_oneof![
            plain,
            (0..3usize, 0..2usize).prop_map(|(s, a)| M::App(s, a))
        ]
        .boxed()
    } else {
        plain.boxed()
    }
}

fn op() -> impl Strategy<Value = Op> {
    let user = 0..USERS.len();
    let loc = 0..LOCATIONS.len();
    let cred = (0..3usize, 0..3usize);
    prop_oneof![
        (user.clone(), any_scope(false), loc.clone(), cred.clone()).prop_map(
            |(user, scope, loc, cred)| Op::Create {
                user,
                scope,
                loc,
                cred
            }
        ),
        (
            user.clone(),
            any_scope(true),
            loc.clone(),
            proptest::option::of(0..3usize),
            proptest::option::of(0..3usize)
        )
            .prop_filter("an update changes something", |(_, _, _, u, p)| u.is_some()
                || p.is_some())
            .prop_map(|(user, scope, loc, username, password)| Op::Update {
                user,
                scope,
                loc,
                username,
                password
            }),
        (user.clone(), any_scope(true), loc).prop_map(|(user, scope, loc)| Op::Delete {
            user,
            scope,
            loc
        }),
        (
            user,
            0..3usize,
            0..2usize,
            0..IMAGES.len(),
            proptest::option::of(cred),
            any::<bool>()
        )
            .prop_map(|(user, space, app, image, given, starts)| Op::Push {
                user,
                space,
                app,
                image,
                given,
                starts
            }),
    ]
}

/// R20, written plainly for this world.
fn may_change(user: usize, scope: M) -> bool {
    match user {
        0 => true,
        1 => scope == M::Org(0),
        2 => matches!(scope, M::Space(0) | M::App(0, _)),
        3 => matches!(scope, M::Space(2) | M::App(2, _)),
        _ => false,
    }
}

#[derive(Default)]
struct Model {
    creds: BTreeMap<(M, &'static str), (String, String)>,
    apps: BTreeSet<(usize, usize)>,
}

/// Which rule refuses a call, and the error it gives.
type Refusal = (&'static str, fn(&ManageError) -> bool);

impl Model {
    /// The refusal the model expects of an update or a delete of `key` by
    /// `user`, or `None` when it must be carried out: an app the directory
    /// does not know, then a caller who may not change the scope (R20),
    /// then nothing stored there (R17 for an update, R18 for a delete).
    fn refusal(&self, user: usize, key: &(M, &'static str)) -> Option<Refusal> {
        match key.0 {
            M::App(s, a) if !self.apps.contains(&(s, a)) => Some(("an unknown app", |e| {
                matches!(e, ManageError::Unknown { .. })
            })),
            scope if !may_change(user, scope) => {
                Some(("R20", |e| matches!(e, ManageError::Permission(_))))
            }
            _ if !self.creds.contains_key(key) => {
                Some(("R17, R18", |e| matches!(e, ManageError::NotFound { .. })))
            }
            _ => None,
        }
    }

    /// R17, R18, R20: `r` is the refusal [`refusal`](Self::refusal)
    /// expects of `user` changing `key`, or a success where it expects
    /// none; true when the call must have been carried out.
    fn check_outcome<T: std::fmt::Debug>(
        &self,
        user: usize,
        key: &(M, &'static str),
        r: &Result<T, ManageError>,
    ) -> Result<bool, TestCaseError> {
        if let Some((rule, is)) = self.refusal(user, key) {
            prop_assert!(r.as_ref().is_err_and(is), "{rule}: {r:?}");
            Ok(false)
        } else {
            prop_assert!(r.is_ok(), "{r:?}");
            Ok(true)
        }
    }

    /// R14: app, space, organization, foundation; most specific first.
    fn resolve(&self, space: usize, app: usize, image: usize) -> Option<(M, &(String, String))> {
        let scopes = [
            M::App(space, app),
            M::Space(space),
            M::Org(SPACE_ORG[space]),
            M::Foundation,
        ];
        scopes.into_iter().find_map(|s| {
            IMAGES[image]
                .1
                .iter()
                .find_map(|c| self.creds.get(&(s, *c)).map(|v| (s, v)))
        })
    }
}

struct Real {
    m: Manager<MemoryStore>,
    users: Vec<UserId>,
    orgs: Vec<OrgId>,
    spaces: Vec<SpaceId>,
}

fn real() -> Real {
    let m = Manager::new(MemoryStore::new(), MemoryDirectory::new());
    let users: Vec<UserId> = USERS.iter().map(|u| UserId::new(u).unwrap()).collect();
    let admin = &users[0];
    m.directory()
        .grant_global(admin.clone(), GlobalRole::Admin)
        .unwrap();
    m.directory()
        .grant_global(users[4].clone(), GlobalRole::GlobalAuditor)
        .unwrap();
    let orgs: Vec<OrgId> = ["o0", "o1"]
        .iter()
        .map(|n| m.create_org(admin, Name::new(n).unwrap()).unwrap())
        .collect();
    let spaces: Vec<SpaceId> = ["s0", "s1", "s2"]
        .iter()
        .zip(SPACE_ORG)
        .map(|(n, o)| {
            m.create_space(admin, &orgs[o], Name::new(n).unwrap())
                .unwrap()
        })
        .collect();
    m.set_org_role(admin, users[1].clone(), &orgs[0], OrgRole::Manager)
        .unwrap();
    m.set_space_role(admin, users[2].clone(), &spaces[0], SpaceRole::Developer)
        .unwrap();
    m.set_space_role(admin, users[3].clone(), &spaces[2], SpaceRole::Developer)
        .unwrap();
    Real {
        m,
        users,
        orgs,
        spaces,
    }
}

impl Real {
    fn scope(&self, s: M) -> Scope {
        match s {
            M::Foundation => Scope::Foundation,
            M::Org(o) => Scope::Org(self.orgs[o].clone()),
            M::Space(s) => Scope::Space(self.spaces[s].clone()),
            M::App(s, a) => Scope::App(
                self.m
                    .directory()
                    .app_by_name(&self.spaces[s], APPS[a])
                    .unwrap()
                    .unwrap_or_else(|| AppId::new("never-pushed").unwrap()),
            ),
        }
    }

    fn model_scope(&self, s: &Scope) -> M {
        let space = |id: &SpaceId| self.spaces.iter().position(|x| x == id).unwrap();
        match s {
            Scope::Foundation => M::Foundation,
            Scope::Org(o) => M::Org(self.orgs.iter().position(|x| x == o).unwrap()),
            Scope::Space(s) => M::Space(space(s)),
            Scope::App(a) => {
                let (app, name) = self
                    .m
                    .directory()
                    .app(a)
                    .unwrap()
                    .expect("an app credential's app is known");
                M::App(
                    space(app.space()),
                    APPS.iter().position(|n| *n == name.as_str()).unwrap(),
                )
            }
        }
    }

    fn snapshot(&self) -> BTreeMap<(M, String), (String, String)> {
        self.m
            .store()
            .list_all()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    (self.model_scope(c.scope()), c.location().to_string()),
                    (c.username().to_string(), c.password().expose().to_owned()),
                )
            })
            .collect()
    }
}

fn user_name(i: usize) -> String {
    format!("user{i}")
}

fn password(i: usize) -> String {
    format!("password{i}")
}

/// The credential of user `user{u}` and password `password{p}`.
fn credential((u, p): (usize, usize)) -> Credential {
    Credential::new(user_name(u), password(p)).unwrap()
}

/// R20: `r` is the refusal a caller who may not change the scope gets.
fn assert_refused_r20<T: std::fmt::Debug>(r: &Result<T, ManageError>) -> Result<(), TestCaseError> {
    prop_assert!(matches!(r, Err(ManageError::Permission(_))), "R20: {r:?}");
    Ok(())
}

fn check_sequence(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let real = real();
    let mut model = Model::default();
    for op in ops {
        let before = real.snapshot();
        // Whether the call must be carried out; when not, the store must
        // stay as it was.
        let done: bool = match &op {
            Op::Create {
                user,
                scope,
                loc,
                cred,
            } => {
                let r = real.m.create(
                    &real.users[*user],
                    RegistryCredential::new(
                        real.scope(*scope),
                        LOCATIONS[*loc].parse().unwrap(),
                        credential(*cred),
                    ),
                );
                let key = (*scope, LOCATIONS[*loc]);
                if !may_change(*user, *scope) {
                    assert_refused_r20(&r)?;
                    false
                } else if let Entry::Vacant(slot) = model.creds.entry(key) {
                    prop_assert!(r.is_ok(), "{r:?}");
                    slot.insert((user_name(cred.0), password(cred.1)));
                    true
                } else {
                    prop_assert!(matches!(r, Err(ManageError::Conflict { .. })), "R16: {r:?}");
                    false
                }
            }
            Op::Update {
                user,
                scope,
                loc,
                username,
                password: pw,
            } => {
                let update = match (username, pw) {
                    (Some(u), Some(p)) => CredentialUpdate::Both(credential((*u, *p))),
                    (Some(u), None) => CredentialUpdate::Username(user_name(*u).parse().unwrap()),
                    (None, Some(p)) => {
                        CredentialUpdate::Password(Password::new(password(*p)).unwrap())
                    }
                    (None, None) => unreachable!("filtered out"),
                };
                let r = real.m.update(
                    &real.users[*user],
                    &real.scope(*scope),
                    &LOCATIONS[*loc].parse().unwrap(),
                    update,
                );
                let key = (*scope, LOCATIONS[*loc]);
                let done = model.check_outcome(*user, &key, &r)?;
                if done {
                    let v = model.creds.get_mut(&key).expect("not refused: stored");
                    if let Some(u) = username {
                        v.0 = user_name(*u);
                    }
                    if let Some(p) = pw {
                        v.1 = password(*p);
                    }
                }
                done
            }
            Op::Delete { user, scope, loc } => {
                let r = real.m.delete(
                    &real.users[*user],
                    &real.scope(*scope),
                    &LOCATIONS[*loc].parse().unwrap(),
                );
                let key = (*scope, LOCATIONS[*loc]);
                let done = model.check_outcome(*user, &key, &r)?;
                if done {
                    model.creds.remove(&key);
                }
                done
            }
            Op::Push {
                user,
                space,
                app,
                image,
                given,
                starts,
            } => {
                let r = real.m.stage(
                    &real.users[*user],
                    &real.spaces[*space],
                    &Name::new(APPS[*app]).unwrap(),
                    IMAGES[*image].0.parse().unwrap(),
                    given.map(credential),
                );
                if !may_change(*user, M::App(*space, *app)) {
                    assert_refused_r20(&r)?;
                    false
                } else {
                    let staged = r.map_err(|e| TestCaseError::fail(e.to_string()))?;
                    model.apps.insert((*space, *app));
                    // R19: given credentials first; else the search (R14).
                    let want = match given {
                        Some((u, _)) => Some(("push", user_name(*u))),
                        None => model.resolve(*space, *app, *image).map(|(s, v)| {
                            let kind = match s {
                                M::App(..) => "app",
                                M::Space(_) => "space",
                                M::Org(_) => "organization",
                                M::Foundation => "foundation",
                            };
                            (kind, v.0.clone())
                        }),
                    };
                    let got = staged
                        .chosen()
                        .source()
                        .map(|s| (s.as_str(), staged.chosen().username().unwrap().to_string()));
                    prop_assert_eq!(got, want);
                    if *starts {
                        staged
                            .started()
                            .map_err(|e| TestCaseError::fail(e.to_string()))?;
                        if let Some((u, p)) = given {
                            // R19: new credentials replace the app's, at
                            // every location, as one pair per app.
                            model.creds.retain(|(s, _), _| *s != M::App(*space, *app));
                            let key = (M::App(*space, *app), IMAGES[*image].1[0]);
                            model.creds.insert(key, (user_name(*u), password(*p)));
                        }
                        given.is_some()
                    } else {
                        staged.failed();
                        false
                    }
                }
            }
        };
        let after = real.snapshot();
        if !done {
            prop_assert_eq!(
                &before,
                &after,
                "a refused or failed call changed the store: {:?}",
                op
            );
        }
        let expected: BTreeMap<(M, String), (String, String)> = model
            .creds
            .iter()
            .map(|((s, l), v)| ((*s, (*l).to_owned()), v.clone()))
            .collect();
        prop_assert_eq!(after, expected, "after {:?}", op);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn r16_r20_store_follows_the_model(ops in proptest::collection::vec(op(), 1..40)) {
        check_sequence(ops)?;
    }
}

#[test]
fn r16_r19_a_known_sequence() {
    use Op::*;
    check_sequence(vec![
        Create {
            user: 0,
            scope: M::Foundation,
            loc: 0,
            cred: (0, 0),
        },
        Create {
            user: 2,
            scope: M::Foundation,
            loc: 1,
            cred: (0, 0),
        },
        Create {
            user: 1,
            scope: M::Org(0),
            loc: 3,
            cred: (1, 1),
        },
        Push {
            user: 2,
            space: 0,
            app: 0,
            image: 0,
            given: None,
            starts: true,
        },
        Push {
            user: 2,
            space: 0,
            app: 0,
            image: 1,
            given: Some((2, 2)),
            starts: false,
        },
        Push {
            user: 2,
            space: 0,
            app: 0,
            image: 1,
            given: Some((2, 2)),
            starts: true,
        },
        Update {
            user: 2,
            scope: M::App(0, 0),
            loc: 2,
            username: Some(0),
            password: None,
        },
        Delete {
            user: 1,
            scope: M::App(0, 0),
            loc: 2,
        },
        Delete {
            user: 2,
            scope: M::App(0, 0),
            loc: 2,
        },
        Delete {
            user: 2,
            scope: M::App(0, 1),
            loc: 2,
        },
        Push {
            user: 3,
            space: 0,
            app: 1,
            image: 2,
            given: None,
            starts: true,
        },
    ])
    .unwrap();
}
