//! Applying an import through the management API: access (R20), conflicts
//! (R16), all or nothing in one step of the store (a location taken
//! meanwhile, a failed commit), and readers that never see part of one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use registry_credentials::scope::{AppId, UserId};
use registry_credentials::store::audit::{AuditContext, Write, Written};
use registry_credentials::store::conformance::{Call, Hooked, Hooks};
use registry_credentials::store::{CredentialSource, InlineStore, Key, StoreError, block_on_ready};
use registry_credentials::{
    App, CredentialStore, Location, MemoryStore, RegistryCredential, Scope, resolve,
};
use registry_credentials_cf::access::{GlobalRole, OrgRole};
use registry_credentials_cf::directory::{DirectoryWriter, InlineDirectory, MemoryDirectory, Name};
use registry_credentials_cf::manage::{ManageError, Manager};
use registry_credentials_interop::apply::{ImportError, Policy, import_into, import_into_async};
use registry_credentials_interop::import::{Import, Outcome, Report, Skip, read};
use registry_credentials_test_support::cf::World;

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A store that can be told to fail the next create of `registry.example.com`,
/// as if another writer had got there between the checks and the create,
/// or to fail the commit of every batch: the batch is written, then taken
/// back, as a database's rolled-back transaction is.
type Racing = Hooked<MemoryStore, RaceNextCreate>;

/// Set `race` to lose the next create of `registry.example.com`, and
/// `commit_fails` to fail every batch's commit.
#[derive(Default)]
struct RaceNextCreate {
    race: AtomicBool,
    commit_fails: AtomicBool,
    /// Store every batch, then answer as if the commit's answer was lost.
    answer_lost: AtomicBool,
}

impl RaceNextCreate {
    /// The conflict a lost race gives, when `c` is the raced location and
    /// the race is set (once).
    fn lost(&self, c: &RegistryCredential) -> Option<StoreError> {
        (c.location().as_str() == "registry.example.com" && self.race.swap(false, Ordering::SeqCst))
            .then(|| StoreError::Conflict {
                scope: c.scope().clone(),
                location: c.location().clone(),
            })
    }
}

impl Hooks for RaceNextCreate {
    fn before(&self, call: Call<'_>) -> Result<(), StoreError> {
        let lost = match call {
            Call::Create(c) => self.lost(c),
            Call::CreateAll(batch) => batch.iter().find_map(|c| self.lost(c)),
            Call::Audited {
                write: Write::CreateAll(batch),
                ..
            } => batch.iter().find_map(|c| self.lost(c)),
            Call::Audited {
                write: Write::Create(c),
                ..
            } => self.lost(c),
            _ => None,
        };
        lost.map_or(Ok(()), Err)
    }

    /// The manager's writes arrive here, made with their events by the
    /// inner store; a lost answer or a failed commit is simulated after
    /// it, as for a plain batch.
    fn audited(
        &self,
        inner: &dyn CredentialStore,
        write: Write,
        context: &AuditContext,
    ) -> Result<Written, StoreError> {
        let batch = matches!(write, Write::CreateAll(_));
        let written = inner.audited(write, context)?;
        if batch && self.answer_lost.load(Ordering::SeqCst) {
            return Err(StoreError::OutcomeUnknown {
                source: "the connection closed after COMMIT was sent".into(),
            });
        }
        if batch && self.commit_fails.load(Ordering::SeqCst) {
            for row in written.after() {
                inner.delete(row.scope().as_scope_ref(), row.location())?;
            }
            return Err(StoreError::Backend {
                retryable: true,
                source: "the commit failed: the disk is full".into(),
            });
        }
        Ok(written)
    }
}

/// The world over a [`Racing`] store, with an Org Manager of its
/// organization besides its admin and developer.
fn world() -> (World<Manager<Racing>>, UserId) {
    let w = World::new(Racing::default());
    let manager = w.org_user("org-manager", OrgRole::Manager);
    (w, manager)
}

/// `caller` imports [`good`] into `scope` through `w`'s manager.
fn import(
    w: &World<Manager<Racing>>,
    caller: &UserId,
    scope: &Scope,
    policy: Policy,
) -> Result<Report, ImportError<ManageError>> {
    import_into(&w.m, caller, scope, good(), policy)
}

/// How many of `report`'s lines have an outcome that `is`.
fn lines(report: &Report, is: impl Fn(&Outcome) -> bool) -> usize {
    report.lines.iter().filter(|l| is(&l.outcome)).count()
}

/// What `Outcome::NotCreated` lines say: created nothing, for a failure
/// elsewhere.
fn not_created(o: &Outcome) -> bool {
    *o == Outcome::NotCreated
}

/// Three good entries (one for Docker Hub), and a helper entry that is
/// reported but is no failure.
fn good() -> Import {
    let file = serde_json::json!({
        "auths": {
            "https://index.docker.io/v1/": {"auth": b64("hub-user:hub-pw")},
            "registry.example.com": {"auth": b64("reg-user:reg-pw")},
            "quay.io/org": {"username": "robot", "password": "robot-pw"}
        },
        "credHelpers": {"gcr.io": "gcloud"}
    });
    read(file.to_string().as_bytes()).unwrap()
}

#[test]
fn r16_r20_a_space_developer_imports_into_the_space_and_resolution_uses_it() {
    let (w, _) = world();
    let scope = Scope::Space(w.space.clone());
    let report = import(&w, &w.dev, &scope, Policy::AllOrNothing).unwrap();
    assert_eq!(report.imported(), 3, "{report}");
    assert_eq!(report.lines.len(), 4);
    assert!(matches!(
        &report.lines[0].outcome,
        Outcome::Skipped(Skip::Helper { .. })
    ));
    assert_eq!(w.m.store().list(scope.as_scope_ref()).unwrap().len(), 3);
    // R14: pushing an app in that space now resolves to the imported one.
    let app = App::from_ids(w.org.clone(), w.space.clone(), AppId::new("a").unwrap());
    let r = resolve(w.m.store(), &app, &"nginx".parse().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.location().as_str(), r.credential().username().as_str()),
        ("docker.io", "hub-user")
    );
    let r = resolve(w.m.store(), &app, &"quay.io/org/tool".parse().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(r.credential().password().expose(), "robot-pw");
}

#[test]
fn r20_refused_callers_and_app_scope_create_nothing() {
    let (w, manager) = world();
    let (org, space) = (Scope::Org(w.org.clone()), Scope::Space(w.space.clone()));
    let refused =
        |e: &ImportError<ManageError>| matches!(e, ImportError::Check(ManageError::Permission(_)));
    // A Space Developer may not change the organization's credentials…
    let e = import(&w, &w.dev, &org, Policy::SkipFailures).unwrap_err();
    assert!(refused(&e), "{e:?}");
    // …nor an Org Manager a space's.
    let e = import(&w, &manager, &space, Policy::SkipFailures).unwrap_err();
    assert!(refused(&e), "{e:?}");
    // R19: app credentials come from pushes only.
    let app = Scope::App(AppId::new("a").unwrap());
    let e = import(&w, &w.admin, &app, Policy::SkipFailures).unwrap_err();
    assert!(matches!(
        e,
        ImportError::Check(ManageError::AppCredentialByPush)
    ));
    assert!(e.report().is_none());
    // The Org Manager may import into the organization.
    let report = import(&w, &manager, &org, Policy::AllOrNothing).unwrap();
    assert_eq!(report.imported(), 3);
    assert_eq!(w.m.store().inner.list_all().unwrap().len(), 3);
}

#[test]
fn r16_a_conflict_refuses_the_whole_import_unless_failures_are_skipped() {
    let (w, _) = world();
    let scope = Scope::Space(w.space.clone());
    w.store(scope.clone(), "quay.io/org", "kept", "kept-pw");
    let e = import(&w, &w.dev, &scope, Policy::AllOrNothing).unwrap_err();
    let ImportError::Refused(report) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(report.imported(), 0);
    let conflict = report
        .lines
        .iter()
        .find(|l| l.key == "quay.io/org")
        .unwrap();
    assert!(matches!(
        &conflict.outcome,
        Outcome::Skipped(Skip::Conflict { .. })
    ));
    assert_eq!(lines(report, not_created), 2);
    assert!(
        e.to_string().contains("1 of 4 keys cannot be imported"),
        "{e}"
    );
    assert_eq!(w.m.store().list(scope.as_scope_ref()).unwrap().len(), 1);

    let report = import(&w, &w.dev, &scope, Policy::SkipFailures).unwrap();
    assert_eq!(report.imported(), 2);
    let kept = w.m.store().list(scope.as_scope_ref()).unwrap();
    assert_eq!(kept.len(), 3);
    // R16: the stored one is untouched.
    let quay = kept
        .iter()
        .find(|c| c.location().as_str() == "quay.io/org")
        .unwrap();
    assert_eq!(quay.username().as_str(), "kept");
    assert_eq!(quay.password().expose(), "kept-pw");
}

#[test]
fn r9_r16_bad_entries_refuse_the_import_and_are_skipped_on_request() {
    let (w, _) = world();
    let scope = Scope::Foundation;
    let file = serde_json::json!({"auths": {
        "co.uk": {"auth": b64("u:pw")},
        "registry.example.com": {"username": "bad user", "password": "pw"},
        "good.example.com": {"auth": b64("u:pw")},
    }});
    let import = read(file.to_string().as_bytes()).unwrap();
    let e = import_into(&w.m, &w.admin, &scope, import.clone(), Policy::AllOrNothing).unwrap_err();
    assert!(matches!(e, ImportError::Refused(_)));
    assert!(w.m.store().inner.list_all().unwrap().is_empty());
    let report = import_into(&w.m, &w.admin, &scope, import, Policy::SkipFailures).unwrap();
    assert_eq!(report.imported(), 1);
    let text = report.to_string();
    assert!(
        text.contains("public suffix") && text.contains("(R9)"),
        "{text}"
    );
    assert!(text.contains("refused (R16)"), "{text}");
}

#[test]
fn r16_a_location_taken_meanwhile_fails_the_import_and_nothing_is_stored() {
    let (w, _) = world();
    let scope = Scope::Space(w.space.clone());
    w.m.store().race.store(true, Ordering::SeqCst);
    let e = import(&w, &w.dev, &scope, Policy::AllOrNothing).unwrap_err();
    let ImportError::Failed { report, error } = &e else {
        panic!("{e:?}")
    };
    assert!(matches!(**error, ManageError::Conflict { .. }));
    let outcome = |k: &str| {
        report
            .lines
            .iter()
            .find(|l| l.key == k)
            .unwrap()
            .outcome
            .clone()
    };
    assert_eq!(outcome("https://index.docker.io/v1/"), Outcome::NotCreated);
    assert_eq!(outcome("quay.io/org"), Outcome::NotCreated);
    assert!(matches!(
        outcome("registry.example.com"),
        Outcome::Skipped(Skip::Conflict { .. })
    ));
    assert!(w.m.store().list(scope.as_scope_ref()).unwrap().is_empty());
    assert!(report.to_string().contains("not done"), "{report}");
    assert_eq!(
        e.to_string(),
        "creating the credentials failed, so nothing was created"
    );

    // Skipping failures creates the others, in one step again.
    w.m.store().race.store(true, Ordering::SeqCst);
    let report = import(&w, &w.dev, &scope, Policy::SkipFailures).unwrap();
    assert_eq!(report.imported(), 2);
    assert_eq!(w.m.store().list(scope.as_scope_ref()).unwrap().len(), 2);
}

#[test]
fn a_failed_commit_leaves_nothing_and_the_error_says_so() {
    let (w, _) = world();
    let (m, admin) = (&w.m, &w.admin);
    m.store().commit_fails.store(true, Ordering::SeqCst);
    for policy in [Policy::AllOrNothing, Policy::SkipFailures] {
        let e = import_into(m, admin, &Scope::Foundation, good(), policy).unwrap_err();
        let ImportError::Failed { report, error } = &e else {
            panic!("{e:?}")
        };
        assert!(
            matches!(&**error, ManageError::Store(s) if s.is_retryable()),
            "{error:?}"
        );
        assert_eq!(report.imported(), 0);
        assert_eq!(lines(report, not_created), 3, "{report}");
        assert!(!report.to_string().contains("imported"), "{report}");
        assert_eq!(
            e.to_string(),
            "creating the credentials failed, so nothing was created"
        );
        assert!(m.store().inner.is_empty());
    }
}

/// R28: when the store lost the answer to the batch, the import does not
/// say that nothing was created: every key of the batch is reported as
/// unknown, and the error says to look. Here the batch was stored.
#[test]
fn r28_a_lost_answer_is_reported_as_unknown_not_as_nothing_created() {
    let m = Manager::new(Racing::default(), MemoryDirectory::new());
    m.store().answer_lost.store(true, Ordering::SeqCst);
    let admin = UserId::new("admin").unwrap();
    m.directory()
        .grant_global(admin.clone(), GlobalRole::Admin)
        .unwrap();
    for policy in [Policy::AllOrNothing, Policy::SkipFailures] {
        let e = import_into(&m, &admin, &Scope::Foundation, good(), policy).unwrap_err();
        let ImportError::OutcomeUnknown { report, error } = &e else {
            panic!("{e:?}")
        };
        assert!(error.is_outcome_unknown(), "{error:?}");
        let unknown = report
            .lines
            .iter()
            .filter(|l| l.outcome == Outcome::Unknown)
            .count();
        assert_eq!(unknown, 3, "{report}");
        assert!(!report.to_string().contains("stored nothing"), "{report}");
        assert!(!e.to_string().contains("nothing was created"), "{e}");
        assert!(
            e.to_string().contains("all of them or none may be stored"),
            "{e}"
        );
        // It was stored: the error did not claim otherwise.
        assert_eq!(m.store().inner.list_all().unwrap().len(), 3);
        for row in m.store().inner.list_all().unwrap() {
            m.store()
                .inner
                .delete(row.scope().as_scope_ref(), row.location())
                .unwrap();
        }
    }
}

/// While imports run, a reader looks their keys up again and again and
/// never sees part of one: an import is one step of the store.
#[test]
fn a_reader_never_sees_part_of_an_import() {
    const ORGS: usize = 40;
    let w = World::new(MemoryStore::new());
    let (m, admin) = (&w.m, &w.admin);
    let orgs: Vec<Scope> = (0..ORGS)
        .map(|i| {
            Scope::Org(
                m.create_org(admin, Name::new(format!("o{i}")).unwrap())
                    .unwrap(),
            )
        })
        .collect();
    let locations: Vec<Location> = good().entries.iter().map(|e| e.location.clone()).collect();
    let done = AtomicBool::new(false);
    std::thread::scope(|threads| {
        let reader = threads.spawn(|| {
            let mut looks = 0;
            while !done.load(Ordering::SeqCst) || looks == 0 {
                for scope in &orgs {
                    let keys: Vec<Key<'_>> = locations
                        .iter()
                        .map(|l| Key::new(scope.as_scope_ref(), l))
                        .collect();
                    let seen = m.store().get_many(&keys).unwrap();
                    let n = seen.iter().filter(|c| c.is_some()).count();
                    assert!(
                        n == 0 || n == keys.len(),
                        "a reader saw {n} of {}",
                        keys.len()
                    );
                }
                looks += 1;
            }
        });
        for scope in &orgs {
            let report = import_into(m, admin, scope, good(), Policy::AllOrNothing).unwrap();
            assert_eq!(report.imported(), locations.len());
        }
        done.store(true, Ordering::SeqCst);
        reader.join().unwrap();
    });
}

#[test]
fn r16_r20_the_async_twin_does_the_same() {
    let store: Arc<dyn registry_credentials::store::AsyncCredentialStore> =
        Arc::new(InlineStore(MemoryStore::new()));
    block_on_ready(async {
        let w = World::over_async(store, InlineDirectory(MemoryDirectory::new())).await;
        let (m, dev, org, space) = (&w.m, &w.dev, &w.org, &w.space);
        let e = import_into_async(
            m,
            dev,
            &Scope::Org(org.clone()),
            good(),
            Policy::AllOrNothing,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, ImportError::Check(ManageError::Permission(_))));
        let scope = Scope::Space(space.clone());
        let report = import_into_async(m, dev, &scope, good(), Policy::AllOrNothing)
            .await
            .unwrap();
        assert_eq!(report.imported(), 3);
        // Again: every key now conflicts (R16), nothing changes.
        let e = import_into_async(m, dev, &scope, good(), Policy::AllOrNothing)
            .await
            .unwrap_err();
        let ImportError::Refused(report) = e else {
            panic!()
        };
        let conflict = |o: &Outcome| matches!(o, Outcome::Skipped(Skip::Conflict { .. }));
        assert_eq!(lines(&report, conflict), 3);
        assert_eq!(m.store().list(scope.as_scope_ref()).await.unwrap().len(), 3);
    });
}

#[test]
fn r16_the_async_twin_stores_nothing_when_a_location_is_taken_meanwhile() {
    block_on_ready(async {
        let directory = InlineDirectory(MemoryDirectory::new());
        let w = World::over_async(InlineStore(Racing::default()), directory).await;
        let (m, admin) = (&w.m, &w.admin);
        m.store().0.race.store(true, Ordering::SeqCst);
        let e = import_into_async(m, admin, &Scope::Foundation, good(), Policy::AllOrNothing)
            .await
            .unwrap_err();
        let ImportError::Failed { report, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(lines(report, not_created), 2, "{report}");
        assert!(m.store().0.inner.list_all().unwrap().is_empty());
    });
}
