//! Issue 10 at the store level: two pushes of one app that start at the
//! same moment must leave exactly one of their credentials (R19), never
//! none and never both.
//!
//! The reproduction made the store's `list` wait at a barrier of
//! two, so that both pushes had listed the app's credentials before either
//! wrote: each then deleted what it had listed and stored its own, and the
//! app ended with both credentials, or with none. The same trap is set
//! here around a `MemoryStore`. `replace_app_credential` is one step and
//! never lists, so it cannot be caught in the trap; should it ever list
//! again, both pushes meet at the barrier and race in the widest window,
//! and a push that lists alone waits forever: every round is joined
//! against a deadline, so the test fails instead of hanging.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use registry_credentials::credential::CredentialUpdate;
use registry_credentials::scope::{AppId, ScopeRef};
use registry_credentials::store::{AppCredentialReplaced, Found, Key};
use registry_credentials::{
    App, Credential, CredentialSource, CredentialStore, Location, MemoryStore, RegistryCredential,
    Scope, StoreError,
};

/// Rounds of the race; each starts both pushes at one barrier.
const ROUNDS: usize = 50;

/// The longest all rounds may take: far beyond what they need, short
/// enough that a deadlock fails the test.
const DEADLINE: Duration = Duration::from_secs(30);

/// A `MemoryStore` whose `list` waits until a second `list` arrives.
struct ListBarrier {
    inner: MemoryStore,
    barrier: Barrier,
    /// The `list` calls that went through the barrier.
    lists: AtomicUsize,
}

impl CredentialSource for ListBarrier {
    fn get_many(&self, keys: &[Key<'_>]) -> Result<Found, StoreError> {
        self.inner.get_many(keys)
    }
}

impl CredentialStore for ListBarrier {
    fn create(&self, c: RegistryCredential) -> Result<Arc<RegistryCredential>, StoreError> {
        self.inner.create(c)
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
        self.inner.replace_app_credential(app, location, credential)
    }
    fn delete_scope(
        &self,
        scope: ScopeRef<'_>,
    ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        self.inner.delete_scope(scope)
    }
    fn list(&self, scope: ScopeRef<'_>) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        self.barrier.wait();
        self.inner.list(scope)
    }
    fn list_all(&self) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        self.inner.list_all()
    }
}

fn location(s: &str) -> Location {
    s.parse().unwrap()
}

/// (location, username) of a credential, to compare.
fn entry(c: &RegistryCredential) -> (String, String) {
    (
        c.location().as_str().to_owned(),
        c.username().as_str().to_owned(),
    )
}

#[test]
fn r19_two_pushes_of_one_app_at_once_leave_exactly_one_credential() {
    let store = Arc::new(ListBarrier {
        inner: MemoryStore::new(),
        barrier: Barrier::new(2),
        lists: AtomicUsize::new(0),
    });
    let app = App::new("org", "space", "app").unwrap();
    // Another scope's credential, which no push of the app may touch.
    store
        .inner
        .create(RegistryCredential::new(
            Scope::Space(app.space().clone()),
            location("registry.example.com"),
            Credential::new("space-user", "space-pw").unwrap(),
        ))
        .unwrap();
    let deadline = Instant::now() + DEADLINE;

    for round in 0..ROUNDS {
        // The app holds a credential from an earlier push (stored past the
        // trap: only the racing pushes meet it, on their own threads).
        let earlier = store
            .inner
            .replace_app_credential(
                app.id(),
                location(&format!("earlier.example.com/r{round}")),
                Credential::new(format!("earlier-{round}"), "earlier-pw").unwrap(),
            )
            .unwrap();
        assert_eq!(
            store.inner.list(ScopeRef::App(app.id())).unwrap().len(),
            1,
            "round {round}: the app's one credential before the race"
        );

        // Two pushes at the same moment, to different locations.
        let start = Arc::new(Barrier::new(2));
        let (done, results) = mpsc::channel();
        for push in ["a", "b"] {
            let (store, start, done, app) = (
                Arc::clone(&store),
                Arc::clone(&start),
                done.clone(),
                app.id().clone(),
            );
            thread::spawn(move || {
                let loc = location(&format!("{push}.example.com/r{round}"));
                let credential = Credential::new(format!("{push}-{round}"), "pw").unwrap();
                start.wait();
                let result = store.replace_app_credential(&app, loc, credential);
                // The receiver is gone only when the test already failed.
                let _ = done.send((push, result.map_err(|e| e.to_string())));
            });
        }
        drop(done);
        let mut outcomes = Vec::new();
        for _ in 0..2 {
            let left = deadline.saturating_duration_since(Instant::now());
            match results.recv_timeout(left) {
                Ok((push, result)) => {
                    let replaced =
                        result.unwrap_or_else(|e| panic!("round {round}: push {push} failed: {e}"));
                    outcomes.push(replaced);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                    "round {round}: the pushes did not finish within {DEADLINE:?}: \
                     a deadlock (does replace_app_credential call list?)"
                ),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("round {round}: a push thread panicked")
                }
            }
        }

        // R19: exactly one credential, one of the two.
        let held: Vec<_> = store
            .inner
            .list(ScopeRef::App(app.id()))
            .unwrap()
            .iter()
            .map(|c| entry(c))
            .collect();
        assert_eq!(held.len(), 1, "round {round}: the app holds {held:?}");
        let stored: Vec<_> = outcomes.iter().map(|o| entry(&o.stored)).collect();
        assert!(
            stored.contains(&held[0]),
            "round {round}: {held:?} is neither push's credential {stored:?}"
        );

        // The one that took effect last replaced the other's, and the
        // other replaced the earlier push's: one step each, in some order.
        let (last, first): (Vec<_>, Vec<_>) =
            outcomes.iter().partition(|o| entry(&o.stored) == held[0]);
        let (last, first) = (last[0], first[0]);
        let replaced =
            |o: &AppCredentialReplaced| -> Vec<_> { o.replaced.iter().map(|c| entry(c)).collect() };
        assert_eq!(
            replaced(last),
            [entry(&first.stored)],
            "round {round}: the last push replaced the first's"
        );
        assert_eq!(
            replaced(first),
            [entry(&earlier.stored)],
            "round {round}: the first push replaced the earlier one"
        );
    }

    // Nothing else changed, and the trap never sprang: no push listed.
    assert_eq!(store.lists.load(Ordering::SeqCst), 0, "a push listed");
    let all = store.inner.list_all().unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(
        all.iter()
            .any(|c| c.scope() == &Scope::Space(app.space().clone())
                && c.username().as_str() == "space-user")
    );
}
