//! `PostgresStore` under chaos (R28): sixteen tasks write while a proxy
//! between the store and the server cuts connections right after a
//! `COMMIT` has reached the server (its answer lost: the commit happened)
//! or right before (the commit never arrives), while backends are
//! terminated and the server is crashed (`-m immediate`) and started
//! again. Every result is checked against a model of what each task has
//! written:
//!
//! - a success is what the table holds;
//! - a failure that says nothing changed ([`StoreError::Backend`],
//!   [`StoreError::Conflict`], [`StoreError::NotFound`]) changed nothing:
//!   the task reads its scope back and finds the model unchanged;
//! - an unknown outcome is the old state or the new one, whole;
//! - a create never meets itself as a conflict (no write is applied
//!   twice), and at the end the table is the model exactly.
//!
//! Figures are printed: how many answers the proxy cut, how the store
//! settled them, how many outcomes stayed unknown.
//!
//! Built with `RUSTFLAGS="--cfg registry_credentials_unsettled"`, the store
//! reports a lost answer as a failure that changed nothing, and this test
//! fails.
//!
//! Needs `REGISTRY_CREDENTIALS_PG_URL` and `REGISTRY_CREDENTIALS_PG_CTL`
//! (a command taking `crash` and `start`, such as `.ci/postgres.sh`), so it
//! is `#[ignore]`d; a test binary of its own, run alone, because it crashes
//! the server and terminates every backend of the database.
#![cfg(feature = "postgres")]

mod support;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use registry_credentials::credential::{Credential, CredentialUpdate, Password};
use registry_credentials::scope::{AppId, OrgId};
use registry_credentials::store::AsyncCredentialStore;
use registry_credentials::store::StoreError;
use registry_credentials::{Location, RegistryCredential, Scope};
use registry_credentials_sql::PostgresStore;
use registry_credentials_test_support::postgres::{Rng, runtime, url};
use support::store_behind_proxy;

const CTL_ENV: &str = "REGISTRY_CREDENTIALS_PG_CTL";
const TASKS: usize = 16;
const KEYS: usize = 4;
const RUN: Duration = Duration::from_secs(12);

fn ctl(action: &str) {
    let ctl = std::env::var(CTL_ENV)
        .ok()
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| panic!("needs {CTL_ENV}: a command taking `crash` and `start`"));
    let status = Command::new(&ctl).arg(action).status().unwrap();
    assert!(status.success(), "`{ctl} {action}` failed");
}

/// Starts the server again if the test fails while it is down.
struct Restart(Arc<AtomicBool>);

impl Drop for Restart {
    fn drop(&mut self) {
        if self.0.load(Ordering::SeqCst) {
            ctl("start");
        }
    }
}

/// One task's view of what it has stored: its organization's credentials
/// by location, and its app's one credential.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Model {
    org: BTreeMap<String, (String, String)>,
    app: Option<(String, String, String)>,
}

#[derive(Default)]
struct Tally {
    ok: u64,
    nothing_changed: u64,
    unknown_applied: u64,
    unknown_not_applied: u64,
    violations: Vec<String>,
}

fn loc(s: &str) -> Location {
    s.parse().unwrap()
}

fn cred(user: &str, password: &str) -> Credential {
    Credential::new(user, password).unwrap()
}

/// The task's scopes as they are stored, read until the server answers.
async fn read_back(store: &PostgresStore, org: &Scope, app: &Scope) -> Model {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let org_rows = store.list(org.as_scope_ref()).await;
        let app_rows = store.list(app.as_scope_ref()).await;
        match (org_rows, app_rows) {
            (Ok(o), Ok(a)) => {
                let pair = |c: &RegistryCredential| {
                    (
                        c.username().as_str().to_owned(),
                        c.password().expose().to_owned(),
                    )
                };
                assert!(a.len() <= 1, "an app holds {} credentials (R19)", a.len());
                return Model {
                    org: o
                        .iter()
                        .map(|c| (c.location().as_str().to_owned(), pair(c)))
                        .collect(),
                    app: a.first().map(|c| {
                        let (u, p) = pair(c);
                        (c.location().as_str().to_owned(), u, p)
                    }),
                };
            }
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            (o, a) => panic!("the store stayed out of reach: {o:?} {a:?}"),
        }
    }
}

async fn writer(store: PostgresStore, task: usize, stop: Instant) -> Tally {
    let org = Scope::Org(OrgId::new(format!("chaos-{task}")).unwrap());
    let app_id = AppId::new(format!("chaos-app-{task}")).unwrap();
    let app = Scope::App(app_id.clone());
    let mut rng = Rng(0x5eed ^ ((task as u64 + 1) * 0x9e37_79b9));
    let mut model = Model::default();
    let mut tally = Tally::default();
    let mut seq = 0u64;
    while Instant::now() < stop {
        seq += 1;
        let name = format!("k{}.example.com", rng.draw() as usize % KEYS);
        let location = loc(&name);
        let user = format!("u{task}-{seq}");
        let password = format!("p{task}-{seq}");
        let mut after = model.clone();
        let result: Result<(), StoreError> = if rng.draw() % 6 == 0 {
            after.app = Some((name.clone(), user.clone(), password.clone()));
            store
                .replace_app_credential(&app_id, location, cred(&user, &password))
                .await
                .map(drop)
        } else {
            match model.org.get(&name).cloned() {
                None => {
                    after
                        .org
                        .insert(name.clone(), (user.clone(), password.clone()));
                    let c = RegistryCredential::new(org.clone(), location, cred(&user, &password));
                    store.create(c).await.map(drop)
                }
                Some((old_user, _)) => match rng.draw() % 3 {
                    0 => {
                        after.org.remove(&name);
                        store.delete(org.as_scope_ref(), &location).await.map(drop)
                    }
                    1 => {
                        after
                            .org
                            .insert(name.clone(), (user.clone(), password.clone()));
                        let both = CredentialUpdate::Both(cred(&user, &password));
                        store
                            .update(org.as_scope_ref(), &location, both)
                            .await
                            .map(drop)
                    }
                    _ => {
                        after.org.insert(name.clone(), (old_user, password.clone()));
                        let p =
                            CredentialUpdate::Password(Password::new(password.clone()).unwrap());
                        store
                            .update(org.as_scope_ref(), &location, p)
                            .await
                            .map(drop)
                    }
                },
            }
        };
        match result {
            Ok(()) => {
                tally.ok += 1;
                model = after;
            }
            Err(e) if e.is_outcome_unknown() => {
                let found = read_back(&store, &org, &app).await;
                if found == after {
                    tally.unknown_applied += 1;
                    model = after;
                } else if found == model {
                    tally.unknown_not_applied += 1;
                } else {
                    tally.violations.push(format!(
                        "task {task} op {seq}: an unknown outcome left neither the old nor the new state: {found:?}"
                    ));
                    model = found;
                }
            }
            Err(e) => {
                tally.nothing_changed += 1;
                let found = read_back(&store, &org, &app).await;
                if found != model {
                    tally.violations.push(format!(
                        "task {task} op {seq}: `{e}` said nothing changed, but the store changed: {:?} -> {found:?}",
                        model
                    ));
                    model = found;
                }
            }
        }
    }
    let found = read_back(&store, &org, &app).await;
    if found != model {
        tally.violations.push(format!(
            "task {task}: at the end the store holds {found:?}, the acknowledged writes {model:?}"
        ));
    }
    tally
}

#[test]
#[ignore = "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)"]
fn r28_chaos_no_acknowledged_write_lost_no_false_nothing_changed_no_duplicate() {
    let direct = url();
    let down = Arc::new(AtomicBool::new(false));
    let _restart = Restart(Arc::clone(&down));
    runtime().block_on(async {
        let (store, _, counts) = store_behind_proxy(&direct, "chaos").await;

        let started = Instant::now();
        let stop = started + RUN;
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| tokio::spawn(writer(store.clone(), t, stop)))
            .collect();

        // Terminate a third of the database's backends every 200 ms, and
        // crash the server twice.
        let terminated = Arc::new(AtomicU64::new(0));
        let killer = {
            let direct = direct.clone();
            let terminated = Arc::clone(&terminated);
            tokio::spawn(async move {
                while Instant::now() < stop {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    let Ok((client, conn)) =
                        tokio_postgres::connect(&direct, tokio_postgres::NoTls).await
                    else {
                        continue;
                    };
                    let task = tokio::spawn(conn);
                    if let Ok(rows) = client
                        .query(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                             WHERE datname = current_database() AND pid <> pg_backend_pid() \
                             AND backend_type = 'client backend' AND random() < 0.33",
                            &[],
                        )
                        .await
                    {
                        terminated.fetch_add(rows.len() as u64, Ordering::Relaxed);
                    }
                    drop(client);
                    let _ = task.await;
                }
            })
        };
        let mut crashes = 0;
        for at in [RUN / 3, RUN * 2 / 3] {
            tokio::time::sleep_until((started + at).into()).await;
            down.store(true, Ordering::SeqCst);
            tokio::task::spawn_blocking(|| ctl("crash")).await.unwrap();
            tokio::time::sleep(Duration::from_millis(700)).await;
            tokio::task::spawn_blocking(|| ctl("start")).await.unwrap();
            down.store(false, Ordering::SeqCst);
            crashes += 1;
        }
        killer.await.unwrap();

        let mut total = Tally::default();
        for t in tasks {
            let tally = t.await.unwrap();
            total.ok += tally.ok;
            total.nothing_changed += tally.nothing_changed;
            total.unknown_applied += tally.unknown_applied;
            total.unknown_not_applied += tally.unknown_not_applied;
            total.violations.extend(tally.violations);
        }
        let settled = store.settled();
        println!(
            "chaos over {:.1} s: {} writes acknowledged, {} failed saying nothing changed (each read back: {} did change something), \
             {} outcomes unknown to the caller ({} had been applied, {} had not); \
             proxy: {} COMMITs, {} answers cut after the server had the COMMIT, {} cut before; \
             {} backends terminated, {} crashes; \
             the store settled {} lost answers: {} found committed, {} redone or refused by a later attempt, {} left unknown",
            started.elapsed().as_secs_f64(),
            total.ok,
            total.nothing_changed,
            total.violations.len(),
            total.unknown_applied + total.unknown_not_applied,
            total.unknown_applied,
            total.unknown_not_applied,
            counts.commits.load(Ordering::Relaxed),
            counts.cut_after.load(Ordering::Relaxed),
            counts.cut_before.load(Ordering::Relaxed),
            terminated.load(Ordering::Relaxed),
            crashes,
            settled.lost,
            settled.committed,
            settled.redone,
            settled.unknown,
        );
        assert!(
            total.violations.is_empty(),
            "{} results did not tell the truth:\n{}",
            total.violations.len(),
            total.violations.join("\n")
        );
        assert!(
            counts.cut_after.load(Ordering::Relaxed) > 0 && settled.committed > 0,
            "the run must lose answers to commits that happened, or it shows nothing"
        );
        assert!(total.ok > 1000, "too few writes to mean anything: {}", total.ok);
    });
}
