//! R20, R21: the exhaustive access matrix. Every role, held in the same or
//! in another organization or space, against every scope and every
//! operation, checked against a table written here from the rules, first
//! for the pure decision and then end to end through the `Manager` (a
//! refusal is a permission error and changes nothing; a listing shows
//! exactly what the table says, and looks the same whether or not the
//! credentials the caller may not see exist).

use std::sync::Arc;

use registry_credentials::credential::CredentialUpdate;
use registry_credentials::scope::{AppId, OrgId, SpaceId, UserId};
use registry_credentials::{
    App, Credential, CredentialStore, Location, MemoryStore, Reference, RegistryCredential, Scope,
    ScopeKind,
};
use registry_credentials_cf::access::{
    self, GlobalRole, Operation, OrgRole, Roles, ScopePath, SpaceRole,
};
use registry_credentials_cf::directory::{DirectoryReader, DirectoryWriter, MemoryDirectory, Name};
use registry_credentials_cf::listing::Target;
use registry_credentials_cf::manage::{ManageError, Manager, Refused};

/// Where the role is held, relative to the scope checked (organization
/// `o1`, space `s1` of `o1`, app `a1` in `s1`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Held {
    /// A global role.
    Global,
    /// In `o1` (org roles) or `s1` (space roles).
    Same,
    /// In space `s2`, another space of `o1`.
    OtherSpaceSameOrg,
    /// In `o2` or its space `s3`.
    OtherOrg,
    /// No role at all.
    Nowhere,
}

#[derive(Debug, Clone, Copy)]
enum Role {
    Global(GlobalRole),
    Org(OrgRole),
    Space(SpaceRole),
    None,
}

/// R20 and R21 as a table. Columns: foundation, organization, space, app;
/// each lists the operations allowed: C(reate), U(pdate), D(elete), R(ead).
///
/// - R20: foundation: Admin; organization: Admin, Org Manager of it; space
///   and app: Admin, Space Developer of the space (not an Org Manager).
/// - R21: foundation: everyone; organization: Admin, Admin Read-Only,
///   Global Auditor, anyone with a role in it; space and app: the three,
///   and anyone with a role in the space. A space role makes its holder an
///   Org User of the space's organization.
#[rustfmt::skip]
const TABLE: &[(Role, Held, [&str; 4])] = {
    use GlobalRole as G;
    use Held::*;
    use OrgRole as O;
    use SpaceRole as S;
    &[
        //                                               foundation  org     space   app
        (Role::Global(G::Admin),         Global,            ["CUDR", "CUDR", "CUDR", "CUDR"]),
        (Role::Global(G::AdminReadOnly), Global,            ["R",    "R",    "R",    "R"]),
        (Role::Global(G::GlobalAuditor), Global,            ["R",    "R",    "R",    "R"]),
        (Role::Org(O::Manager),          Same,              ["R",    "CUDR", "",     ""]),
        (Role::Org(O::Manager),          OtherOrg,          ["R",    "",     "",     ""]),
        (Role::Org(O::Auditor),          Same,              ["R",    "R",    "",     ""]),
        (Role::Org(O::Auditor),          OtherOrg,          ["R",    "",     "",     ""]),
        (Role::Org(O::BillingManager),   Same,              ["R",    "R",    "",     ""]),
        (Role::Org(O::BillingManager),   OtherOrg,          ["R",    "",     "",     ""]),
        (Role::Org(O::User),             Same,              ["R",    "R",    "",     ""]),
        (Role::Org(O::User),             OtherOrg,          ["R",    "",     "",     ""]),
        (Role::Space(S::Developer),      Same,              ["R",    "R",    "CUDR", "CUDR"]),
        (Role::Space(S::Developer),      OtherSpaceSameOrg, ["R",    "R",    "",     ""]),
        (Role::Space(S::Developer),      OtherOrg,          ["R",    "",     "",     ""]),
        (Role::Space(S::Manager),        Same,              ["R",    "R",    "R",    "R"]),
        (Role::Space(S::Manager),        OtherSpaceSameOrg, ["R",    "R",    "",     ""]),
        (Role::Space(S::Manager),        OtherOrg,          ["R",    "",     "",     ""]),
        (Role::Space(S::Auditor),        Same,              ["R",    "R",    "R",    "R"]),
        (Role::Space(S::Auditor),        OtherSpaceSameOrg, ["R",    "R",    "",     ""]),
        (Role::Space(S::Auditor),        OtherOrg,          ["R",    "",     "",     ""]),
        (Role::Space(S::Supporter),      Same,              ["R",    "R",    "R",    "R"]),
        (Role::Space(S::Supporter),      OtherSpaceSameOrg, ["R",    "R",    "",     ""]),
        (Role::Space(S::Supporter),      OtherOrg,          ["R",    "",     "",     ""]),
        (Role::None,                     Nowhere,           ["R",    "",     "",     ""]),
    ]
};

const SCOPES: [ScopeKind; 4] = [
    ScopeKind::Foundation,
    ScopeKind::Org,
    ScopeKind::Space,
    ScopeKind::App,
];

fn letter(op: Operation) -> char {
    match op {
        Operation::Create => 'C',
        Operation::Update => 'U',
        Operation::Delete => 'D',
        Operation::Read => 'R',
    }
}

struct World {
    o1: OrgId,
    o2: OrgId,
    s1: SpaceId,
    s2: SpaceId,
    s3: SpaceId,
    a1: App,
}

fn world() -> World {
    World {
        o1: OrgId::new("o1").unwrap(),
        o2: OrgId::new("o2").unwrap(),
        s1: SpaceId::new("s1").unwrap(),
        s2: SpaceId::new("s2").unwrap(),
        s3: SpaceId::new("s3").unwrap(),
        a1: App::new("o1", "s1", "a1").unwrap(),
    }
}

fn roles(w: &World, role: Role, held: Held) -> Roles {
    let mut r = Roles::new();
    match (role, held) {
        (Role::Global(g), Held::Global) => {
            r.grant_global(g);
        }
        (Role::Org(o), Held::Same) => {
            r.grant_org(w.o1.clone(), o);
        }
        (Role::Org(o), Held::OtherOrg) => {
            r.grant_org(w.o2.clone(), o);
        }
        (Role::Space(s), Held::Same) => {
            r.grant_space(w.o1.clone(), w.s1.clone(), s);
        }
        (Role::Space(s), Held::OtherSpaceSameOrg) => {
            r.grant_space(w.o1.clone(), w.s2.clone(), s);
        }
        (Role::Space(s), Held::OtherOrg) => {
            r.grant_space(w.o2.clone(), w.s3.clone(), s);
        }
        (Role::None, Held::Nowhere) => {}
        other => panic!("the table holds an impossible row: {other:?}"),
    }
    r
}

fn path<'a>(w: &'a World, kind: ScopeKind) -> ScopePath<'a> {
    match kind {
        ScopeKind::Foundation => ScopePath::Foundation,
        ScopeKind::Org => ScopePath::Org(&w.o1),
        ScopeKind::Space => ScopePath::Space(&w.o1, &w.s1),
        ScopeKind::App => ScopePath::App(&w.a1),
    }
}

#[test]
fn r20_r21_table_covers_every_role_and_placement() {
    let mut rows = 0;
    for g in GlobalRole::ALL {
        assert!(
            TABLE
                .iter()
                .any(|(r, h, _)| matches!(r, Role::Global(x) if *x == g) && *h == Held::Global)
        );
        rows += 1;
    }
    for o in OrgRole::ALL {
        for held in [Held::Same, Held::OtherOrg] {
            assert!(
                TABLE
                    .iter()
                    .any(|(r, h, _)| matches!(r, Role::Org(x) if *x == o) && *h == held)
            );
            rows += 1;
        }
    }
    for s in SpaceRole::ALL {
        for held in [Held::Same, Held::OtherSpaceSameOrg, Held::OtherOrg] {
            assert!(
                TABLE
                    .iter()
                    .any(|(r, h, _)| matches!(r, Role::Space(x) if *x == s) && *h == held)
            );
            rows += 1;
        }
    }
    assert_eq!(
        TABLE.len(),
        rows + 1,
        "one row per role and placement, plus no role"
    );
}

#[test]
fn r20_r21_pure_decisions_match_the_table() {
    let w = world();
    let mut checked = 0;
    for (role, held, allowed) in TABLE {
        let r = roles(&w, *role, *held);
        for (kind, allowed) in SCOPES.iter().zip(allowed) {
            for op in Operation::ALL {
                let want = allowed.contains(letter(op));
                let got = access::allows(&r, op, path(&w, *kind));
                assert_eq!(got, want, "{role:?} held {held:?}: {op} at {kind}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 24 * 4 * 4);
}

// ---- end to end, through the Manager ------------------------------------

const LOC: &str = "registry.example.com";
const PW: &str = "matrix-secret-password";

struct Setup<S = MemoryStore, D = MemoryDirectory> {
    m: Manager<S, D>,
    admin: UserId,
    caller: UserId,
    o1: OrgId,
    s1: SpaceId,
    a1: AppId,
}

/// o1 (spaces s1 with app a1, s2), o2 (space s3); the caller holds `role`
/// where `held` says; one credential for `LOC` at each of the four scopes
/// (when `seeded`).
fn setup(role: Role, held: Held, seeded: bool) -> Setup {
    setup_over(
        Manager::new(MemoryStore::new(), MemoryDirectory::new()),
        role,
        held,
        seeded,
    )
}

/// [`setup`] over any store and directory.
fn setup_over<S: CredentialStore, D: DirectoryWriter>(
    m: Manager<S, D>,
    role: Role,
    held: Held,
    seeded: bool,
) -> Setup<S, D> {
    let admin = UserId::new("admin").unwrap();
    m.directory()
        .grant_global(admin.clone(), GlobalRole::Admin)
        .unwrap();
    let o1 = m.create_org(&admin, Name::new("o1").unwrap()).unwrap();
    let o2 = m.create_org(&admin, Name::new("o2").unwrap()).unwrap();
    let s1 = m
        .create_space(&admin, &o1, Name::new("s1").unwrap())
        .unwrap();
    let s2 = m
        .create_space(&admin, &o1, Name::new("s2").unwrap())
        .unwrap();
    let s3 = m
        .create_space(&admin, &o2, Name::new("s3").unwrap())
        .unwrap();
    let app = Name::new("a1").unwrap();
    let staged = m
        .stage(&admin, &s1, &app, "nginx".parse().unwrap(), None)
        .unwrap();
    let a1 = staged.app().id().clone();
    staged.failed();
    let caller = UserId::new("caller").unwrap();
    match (role, held) {
        (Role::Global(g), _) => m.directory().grant_global(caller.clone(), g).unwrap(),
        (Role::Org(o), Held::Same) => m.set_org_role(&admin, caller.clone(), &o1, o).unwrap(),
        (Role::Org(o), _) => m.set_org_role(&admin, caller.clone(), &o2, o).unwrap(),
        (Role::Space(s), Held::Same) => m.set_space_role(&admin, caller.clone(), &s1, s).unwrap(),
        (Role::Space(s), Held::OtherSpaceSameOrg) => {
            m.set_space_role(&admin, caller.clone(), &s2, s).unwrap()
        }
        (Role::Space(s), _) => m.set_space_role(&admin, caller.clone(), &s3, s).unwrap(),
        (Role::None, _) => {}
    }
    let s = Setup {
        m,
        admin,
        caller,
        o1,
        s1,
        a1,
    };
    if seeded {
        for kind in SCOPES {
            seed(&s, kind);
        }
    }
    s
}

fn scope<S, D>(s: &Setup<S, D>, kind: ScopeKind) -> Scope {
    match kind {
        ScopeKind::Foundation => Scope::Foundation,
        ScopeKind::Org => Scope::Org(s.o1.clone()),
        ScopeKind::Space => Scope::Space(s.s1.clone()),
        ScopeKind::App => Scope::App(s.a1.clone()),
    }
}

fn seed<S: CredentialStore, D: DirectoryWriter>(s: &Setup<S, D>, kind: ScopeKind) {
    let c = RegistryCredential::new(
        scope(s, kind),
        LOC.parse().unwrap(),
        Credential::new(format!("{kind}-user"), PW).unwrap(),
    );
    // Through the store: the seed is not what is being checked (and an
    // app credential is not created directly through the manager, R19).
    s.m.store().create(c).unwrap();
}

/// Everything in the store, passwords included (a `RegistryCredential`
/// compares its password too), to compare before and after.
fn snapshot<S: CredentialStore, D: DirectoryWriter>(
    m: &Manager<S, D>,
) -> Vec<Arc<RegistryCredential>> {
    m.store().list_all().unwrap()
}

fn target<S, D>(s: &Setup<S, D>, kind: ScopeKind) -> Target {
    match kind {
        ScopeKind::Foundation => Target::Foundation,
        ScopeKind::Org => Target::Org(s.o1.clone()),
        ScopeKind::Space | ScopeKind::App => Target::Space(s.s1.clone()),
    }
}

/// Runs `op` at `kind` as the caller: true when it was carried out, false
/// when refused with a permission error that names the caller, what was
/// refused and where.
fn attempt<S: CredentialStore, D: DirectoryWriter>(
    s: &Setup<S, D>,
    op: Operation,
    kind: ScopeKind,
) -> bool {
    let sc = scope(s, kind);
    let loc: Location = LOC.parse().unwrap();
    let result = match (op, kind) {
        (Operation::Create, ScopeKind::App) => {
            // R19: an app credential is created by a push that starts.
            let app = Name::new("a1").unwrap();
            let given = Some(Credential::new("pushed", PW).unwrap());
            let image: Reference = "registry.example.com/img".parse().unwrap();
            s.m.stage(&s.caller, &s.s1, &app, image, given)
                .and_then(|staged| staged.started())
                .map(|_| ())
        }
        (Operation::Create, _) => {
            s.m.create(
                &s.caller,
                RegistryCredential::new(sc.clone(), loc, Credential::new("created", PW).unwrap()),
            )
            .map(|_| ())
        }
        (Operation::Update, _) => {
            s.m.update(
                &s.caller,
                &sc,
                &loc,
                CredentialUpdate::Username("updated".parse().unwrap()),
            )
            .map(|_| ())
        }
        (Operation::Delete, _) => s.m.delete(&s.caller, &sc, &loc).map(|_| ()),
        (Operation::Read, _) => {
            let listing = s.m.list(&s.caller, &target(s, kind)).unwrap();
            return listing
                .rows()
                .iter()
                .any(|r| r.scope == kind && r.location.as_str() == LOC);
        }
    };
    match result {
        Ok(()) => true,
        Err(ManageError::Permission(p)) => {
            assert_eq!(p.user(), &s.caller);
            let (refused, at) = match (op, kind) {
                // A push is refused for the space it pushes to.
                (Operation::Create, ScopeKind::App) => (Refused::Push, Scope::Space(s.s1.clone())),
                _ => (Refused::Credentials(op), sc),
            };
            assert_eq!(p.refused(), refused, "{op} at {kind}");
            assert_eq!(p.scope(), &at, "{op} at {kind}");
            let msg = p.to_string();
            assert!(msg.starts_with("user `caller` may not "), "{msg}");
            assert!(!msg.contains(PW));
            false
        }
        Err(e) => panic!("{op} at {kind}: unexpected error {e}"),
    }
}

/// One case of the matrix: `op` at `kind` by a caller holding `role`
/// where `held` says, over the setup `s`.
fn check_case<S: CredentialStore, D: DirectoryWriter>(
    s: &Setup<S, D>,
    (role, held, want): (Role, Held, bool),
    op: Operation,
    kind: ScopeKind,
) {
    // Create needs the location free at that scope; the others need it
    // taken.
    if op == Operation::Create && kind != ScopeKind::App {
        let sc = scope(s, kind);
        s.m.delete(&s.admin, &sc, &LOC.parse().unwrap()).unwrap();
    }
    let before = snapshot(&s.m);
    let got = attempt(s, op, kind);
    assert_eq!(got, want, "{role:?} held {held:?}: {op} at {kind}");
    let after = snapshot(&s.m);
    if !got || op == Operation::Read {
        assert_eq!(before, after, "a refused {op} at {kind} changed the store");
    } else {
        assert_ne!(before, after, "{op} at {kind} was carried out");
    }
}

#[test]
fn r20_r21_manager_matches_the_table() {
    let mut checked = 0;
    for (role, held, allowed) in TABLE {
        for (kind, allowed) in SCOPES.iter().zip(allowed) {
            for op in Operation::ALL {
                let want = allowed.contains(letter(op));
                let s = setup(*role, *held, true);
                check_case(&s, (*role, *held, want), op, *kind);
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 24 * 4 * 4);
}

/// The same matrix through the cf tool's storage: the credentials and a
/// `SqliteDirectory` in one SQLite file, each case one transaction
/// (rolled back afterwards, so every case starts from the same file).
#[cfg(feature = "sqlite")]
#[test]
fn r20_r21_manager_matches_the_table_over_sqlite() {
    use registry_credentials::StoreError;
    use registry_credentials_cf::directory::SqliteDirectory;
    use registry_credentials_sql::{EncryptionKey, Keyring, SqliteStore};

    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("access-matrix-sqlite");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteStore::open(
        dir.join("cf.db"),
        Keyring::new(EncryptionKey::new("k", [9; 32]).unwrap()),
    )
    .unwrap();
    store
        .transaction(|tx| SqliteDirectory::open(tx).map(|_| ()))
        .unwrap();
    /// Ends a case's transaction without committing it.
    #[derive(Debug)]
    struct RolledBack;
    impl From<StoreError> for RolledBack {
        fn from(e: StoreError) -> Self {
            panic!("{e}")
        }
    }
    let mut checked = 0;
    for (role, held, allowed) in TABLE {
        for (kind, allowed) in SCOPES.iter().zip(allowed) {
            for op in Operation::ALL {
                let want = allowed.contains(letter(op));
                let result: Result<(), RolledBack> = store.transaction(|tx| {
                    let directory = SqliteDirectory::open(tx).unwrap();
                    let s = setup_over(Manager::new(tx, directory), *role, *held, true);
                    check_case(&s, (*role, *held, want), op, *kind);
                    Err(RolledBack)
                });
                assert!(result.is_err());
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 24 * 4 * 4);
    assert!(store.is_empty().unwrap(), "every case was rolled back");
}

#[test]
fn r21_listings_do_not_reveal_invisible_credentials() {
    for (role, held, allowed) in TABLE {
        for kind in SCOPES {
            let full = setup(*role, *held, true);
            let caller = full.caller.clone();
            let t = target(&full, kind);
            let seen = full.m.list(&caller, &t).unwrap();
            // The same world with only the credentials the caller may see.
            let partial = setup(*role, *held, false);
            for (k, a) in SCOPES.iter().zip(allowed) {
                if a.contains('R') {
                    seed(&partial, *k);
                }
            }
            // Ids are random GUIDs (R13): the same target in this world.
            let filtered = partial.m.list(&caller, &target(&partial, kind)).unwrap();
            assert_eq!(
                seen.to_string(),
                filtered.to_string(),
                "{role:?} held {held:?}, target {kind}"
            );
            assert!(!seen.to_string().contains(PW));
        }
    }
}

#[test]
fn r16_r19_app_credentials_are_not_created_directly() {
    let s = setup(Role::Global(GlobalRole::Admin), Held::Global, false);
    let e =
        s.m.create(
            &s.admin,
            RegistryCredential::new(
                Scope::App(s.a1.clone()),
                LOC.parse().unwrap(),
                Credential::new("u", PW).unwrap(),
            ),
        )
        .unwrap_err();
    assert!(matches!(e, ManageError::AppCredentialByPush), "{e}");
    assert!(s.m.store().list_all().unwrap().is_empty());
}

#[test]
fn r20_directory_changes_follow_cf() {
    let s = setup(Role::Org(OrgRole::Manager), Held::Same, false);
    let caller = s.caller.clone();
    let o1 = s.o1.clone();
    let s1 = s.s1.clone();
    // An Org Manager creates spaces and sets roles in its organization…
    s.m.create_space(&caller, &o1, Name::new("new").unwrap())
        .unwrap();
    s.m.set_space_role(&caller, UserId::new("x").unwrap(), &s1, SpaceRole::Auditor)
        .unwrap();
    // …but creates no organization.
    let e =
        s.m.create_org(&caller, Name::new("mine").unwrap())
            .unwrap_err();
    assert!(matches!(e, ManageError::Permission(_)), "{e}");
    assert!(s.m.directory().org_by_name("mine").unwrap().is_none());
    // A Space Manager sets roles in its space only.
    let s = setup(Role::Space(SpaceRole::Manager), Held::Same, false);
    let (caller, s1, o1) = (s.caller.clone(), s.s1.clone(), s.o1.clone());
    s.m.set_space_role(
        &caller,
        UserId::new("y").unwrap(),
        &s1,
        SpaceRole::Developer,
    )
    .unwrap();
    let e =
        s.m.set_org_role(&caller, UserId::new("y").unwrap(), &o1, OrgRole::Manager)
            .unwrap_err();
    assert!(matches!(e, ManageError::Permission(_)), "{e}");
    assert!(
        !s.m.roles(&UserId::new("y").unwrap())
            .unwrap()
            .has_org_role(&o1, OrgRole::Manager)
    );
}
