//! The conformance suite every store must pass: the contract of
//! [`CredentialStore`](crate::store::CredentialStore) (R13–R19, R21's
//! listing order) and resolution over it (R14, R15, R17), including R16's
//! racing creates and R19's concurrent app-credential replacement across
//! two instances of one store.
//!
//! The suite is written once, over [`AsyncCredentialStore`], as
//! `object_store`'s integration suite is. A sync store runs it through
//! [`InlineStore`](crate::store::InlineStore), whose futures never pend, driven by [`block_on_ready`](crate::store::block_on_ready); an
//! async store runs it on its own runtime. [`CHECKS`] lists every check;
//! [`store_conformance!`](crate::store_conformance) makes one `#[test]` of
//! each, from the same list. Each check is a private function that only
//! that list uses, so a check left out of it is dead code, which the build
//! refuses (`-D warnings`): no check can be left out of a run.
//!
//! # A sync store
//!
//! The test file defines `fn store() -> S`, a fresh, empty store, and
//! `fn reopen(store: &S) -> S`, a second instance over the same data (a
//! clone that shares state, a second connection pool, the same file opened
//! again), then calls the macro:
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
//! # An async store
//!
//! `store_conformance!(async)` asks for `async fn store() -> S` and
//! `async fn reopen(store: &S) -> S`, and `fn block_on<F: Future>(f: F) ->
//! F::Output`, which runs a future to its end on the runtime the store
//! needs (tokio's `Runtime::block_on` on one runtime for the whole test
//! binary, say). The concurrency checks call `block_on` from several
//! threads at once, and their futures wait on each other's: it must allow
//! that, as a multi-threaded runtime does. Here `InlineStore` stands in for
//! an async backend:
//!
//! ```
//! mod async_store_conformance {
//!     use registry_credentials::MemoryStore;
//!     use registry_credentials::store::InlineStore;
//!
//!     async fn store() -> InlineStore<MemoryStore> {
//!         InlineStore(MemoryStore::new())
//!     }
//!
//!     async fn reopen(store: &InlineStore<MemoryStore>) -> InlineStore<MemoryStore> {
//!         store.clone()
//!     }
//!
//!     fn block_on<F: std::future::Future>(f: F) -> F::Output {
//!         // A PostgreSQL store: `RUNTIME.block_on(f)` on a tokio runtime.
//!         registry_credentials::store::block_on_ready(f)
//!     }
//!
//!     registry_credentials::store_conformance!(async);
//! }
//! ```
//!
//! A backend that needs a server nobody may have (PostgreSQL) passes
//! `ignore = "why"` (`store_conformance!(async, ignore = "why")`): its
//! tests are then `#[ignore]`d with that reason, so that a run without the
//! server reports them as ignored, not passed, and
//! `cargo test -- --include-ignored` runs them where the server is.
//!
//! # Without the macro
//!
//! [`run`] runs one check by name; the macro's tests call it. Every check,
//! here on a `MemoryStore`:
//!
//! ```
//! use registry_credentials::MemoryStore;
//! use registry_credentials::store::InlineStore;
//! use registry_credentials::store::conformance::{self, CHECKS};
//!
//! for (name, _) in CHECKS {
//!     let store = InlineStore(MemoryStore::new());
//!     conformance::run(name, &store, || store.clone(), |f| registry_credentials::store::block_on_ready(f));
//! }
//! ```
//!
//! # Test doubles
//!
//! [`Hooked`] wraps any store in [`Hooks`]: a test double that fails,
//! waits, counts or races where a test wants it to, and forwards the rest.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};

use crate::credential::{Credential, CredentialUpdate, Password, RegistryCredential, Username};
use crate::identity::Guid;
use crate::location::Location;
use crate::metadata::{Metadata, MetadataPatch, Selector};
use crate::reference::Reference;
use crate::resolve::{explain_async, resolve_all_async, resolve_async};
use crate::scope::{App, AppId, OrgId, Scope, ScopeKind, ScopeRef, SpaceId};
use crate::store::audit::{Actor, AuditContext, AuditEvent, AuditQuery, EventType, Write};
use crate::store::{
    AppCredentialReplaced, AsyncCredentialStore, BoxFuture, Key, OrderBy, Query, StoreError,
    TimeFilter,
};

mod hooked;

pub use hooked::{Call, Hooked, Hooks};

/// One `#[test]` per entry of [`CHECKS`](crate::store::conformance::CHECKS),
/// each calling [`run`](crate::store::conformance::run) on a fresh
/// `store()` (and, for the checks across two instances, `reopen` of it).
///
/// - `store_conformance!()`: a sync store; the module defines
///   `fn store() -> S` and `fn reopen(&S) -> S`.
/// - `store_conformance!(async)`: an async store; the module defines
///   `async fn store() -> S`, `async fn reopen(&S) -> S` and
///   `fn block_on<F: Future>(F) -> F::Output`.
///
/// Either takes `ignore = "reason"` last, which marks every test
/// `#[ignore]` with that reason. Read
/// [`store::conformance`](crate::store::conformance) for examples.
#[macro_export]
macro_rules! store_conformance {
    () => {
        $crate::store_conformance!(@list @tests [] sync);
    };
    (ignore = $reason:literal) => {
        $crate::store_conformance!(@list @tests [#[ignore = $reason]] sync);
    };
    (async) => {
        $crate::store_conformance!(@list @tests [] async);
    };
    (async, ignore = $reason:literal) => {
        $crate::store_conformance!(@list @tests [#[ignore = $reason]] async);
    };
    // The one list of checks: those of one fresh store, then those across
    // two instances from many threads. `CHECKS` is made from it too.
    (@list $($then:tt)*) => {
        $crate::store_conformance!($($then)*
            single [
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
                r14_resolve_plan_answers_as_first_match_of_every_key,
                r14_resolution_scope_outranks_specificity,
                r15_nothing_found_is_not_an_error,
                r17_resolution_sees_every_write,
                r16_limits_and_unicode_round_trip,
                create_all_stores_all_or_none,
                r24_every_kind_round_trips,
                r25_expiry_round_trips_and_resolution_passes_over_it,
                r22_every_stored_credential_has_its_own_guid_and_times,
                r22_an_update_moves_updated_at_only,
                r22_get_update_and_delete_by_guid,
                r22_metadata_round_trips_and_merges_all_or_nothing,
                r22_replacing_an_app_credential_at_its_location_keeps_its_guid,
                r22_r23_query_answers_as_page_of_every_credential,
                r27_every_audited_write_records_its_events,
                r27_a_refused_write_records_nothing,
                r27_audit_query_answers_as_page_of_every_event,
            ]
            threads [
                r16_racing_creates_exactly_one_wins,
                r19_concurrent_pushes_of_one_app_leave_exactly_one,
                create_all_is_never_seen_in_part,
            ]
        );
    };
    (@tests $attrs:tt $mode:ident single [$($single:ident),* $(,)?] threads [$($threads:ident),* $(,)?]) => {
        $( $crate::store_conformance!(@test $attrs $mode $single); )*
        $( $crate::store_conformance!(@test $attrs $mode $threads); )*
    };
    (@test [$($attr:tt)*] sync $name:ident) => {
        #[test]
        $($attr)*
        fn $name() {
            let first = $crate::store::InlineStore(store());
            $crate::store::conformance::run(
                stringify!($name),
                &first,
                || $crate::store::InlineStore(reopen(&first.0)),
                |f| $crate::store::block_on_ready(f),
            );
        }
    };
    (@test [$($attr:tt)*] async $name:ident) => {
        #[test]
        $($attr)*
        fn $name() {
            let first = block_on(store());
            $crate::store::conformance::run(
                stringify!($name),
                &first,
                || block_on(reopen(&first)),
                |f| block_on(f),
            );
        }
    };
    (@checks single [$($single:ident),* $(,)?] threads [$($threads:ident),* $(,)?]) => {
        /// Every check of the suite, by name: what
        /// [`store_conformance!`](crate::store_conformance) runs, one
        /// `#[test]` each, and [`run`] looks up.
        pub const CHECKS: &[(&str, Check)] = &[
            $( (stringify!($single), Check::Single(|s| Box::pin($single(s)))), )*
            $( (stringify!($threads), Check::Threads($threads)), )*
        ];
    };
}

crate::store_conformance!(@list @checks);

/// A check of one fresh, empty store.
pub type SingleCheck = for<'a> fn(&'a dyn AsyncCredentialStore) -> BoxFuture<'a, ()>;

/// A check across two instances of one store, from many threads at once.
pub type ThreadsCheck = fn(&Instances<'_>);

/// One check of the suite.
#[derive(Clone, Copy)]
pub enum Check {
    /// Of one fresh, empty store.
    Single(SingleCheck),
    /// Across two instances of one fresh store, from many threads.
    Threads(ThreadsCheck),
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Check::Single(_) => "Single",
            Check::Threads(_) => "Threads",
        })
    }
}

/// What a [`Check::Threads`] works on: two instances over the same data
/// (a second pool, the same file opened again) and the executor that runs
/// each thread's calls.
#[derive(Clone, Copy)]
pub struct Instances<'a> {
    first: &'a dyn AsyncCredentialStore,
    second: &'a dyn AsyncCredentialStore,
    block_on: &'a (dyn Fn(BoxFuture<'_, ()>) + Sync),
}

impl std::fmt::Debug for Instances<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instances").finish_non_exhaustive()
    }
}

impl<'a> Instances<'a> {
    /// Two instances over one store's data, and `block_on`, which runs a
    /// future to its end on the calling thread; it is called from many
    /// threads at once.
    pub fn new(
        first: &'a dyn AsyncCredentialStore,
        second: &'a dyn AsyncCredentialStore,
        block_on: &'a (dyn Fn(BoxFuture<'_, ()>) + Sync),
    ) -> Self {
        Instances {
            first,
            second,
            block_on,
        }
    }

    /// The first instance.
    pub fn first(&self) -> &'a dyn AsyncCredentialStore {
        self.first
    }

    /// The second instance, over the first one's data.
    pub fn second(&self) -> &'a dyn AsyncCredentialStore {
        self.second
    }

    /// Runs `future` to its end on the calling thread.
    pub fn block_on<T: Send>(&self, future: impl Future<Output = T> + Send) -> T {
        let mut out = None;
        (self.block_on)(Box::pin(async {
            out = Some(future.await);
        }));
        out.expect("block_on runs the future to its end")
    }
}

/// Runs the check named `name` on `first`, a fresh, empty store; a check
/// across two instances makes the second with `reopen`. `block_on` runs a
/// future to its end on the calling thread: [`block_on_ready`](crate::store::block_on_ready) for a sync store
/// behind [`InlineStore`](crate::store::InlineStore), the runtime's for an async one.
///
/// # Panics
///
/// When the store fails the check, and when no check is named `name`.
pub fn run<S: AsyncCredentialStore>(
    name: &str,
    first: &S,
    reopen: impl FnOnce() -> S,
    block_on: impl Fn(BoxFuture<'_, ()>) + Sync,
) {
    let Some((_, check)) = CHECKS.iter().find(|(n, _)| *n == name) else {
        panic!("no conformance check is named `{name}`");
    };
    match check {
        Check::Single(check) => block_on(check(first)),
        Check::Threads(check) => {
            let second = reopen();
            check(&Instances::new(first, &second, &block_on));
        }
    }
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

/// Creates each of `credentials`, in order.
async fn put<const N: usize>(s: &dyn AsyncCredentialStore, credentials: [RegistryCredential; N]) {
    for c in credentials {
        let what = format!("{} {}", c.scope(), c.location());
        s.create(c)
            .await
            .unwrap_or_else(|e| panic!("create at {what}: {e:?}"));
    }
}

/// The location of each of `credentials`, in order.
fn locations_of(credentials: &[Arc<RegistryCredential>]) -> Vec<String> {
    credentials
        .iter()
        .map(|c| c.location().to_string())
        .collect()
}

/// The usernames of every resolution of `image` for `app`, winner first.
async fn users_of_all(s: &dyn AsyncCredentialStore, app: &App, image: &Reference) -> Vec<String> {
    resolve_all_async(s, app, image)
        .await
        .unwrap()
        .iter()
        .map(|r| r.credential().username().as_str().to_owned())
        .collect()
}

/// The credential stored at `scope` for `location`, which must exist.
async fn stored(
    s: &dyn AsyncCredentialStore,
    scope: &Scope,
    location: &str,
) -> Arc<RegistryCredential> {
    s.get(Key::new(scope.as_scope_ref(), &loc(location)))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("nothing stored at {scope} for {location}"))
}

async fn user_at(s: &dyn AsyncCredentialStore, scope: &Scope, location: &str) -> Option<String> {
    s.get(Key::new(scope.as_scope_ref(), &loc(location)))
        .await
        .unwrap()
        .map(|c| c.username().as_str().to_owned())
}

/// R16: a created credential reads back whole; missing keys read as nothing.
async fn r16_create_then_get(s: &dyn AsyncCredentialStore) {
    let o = org("org-1");
    let made = s
        .create(cred(
            o.clone(),
            "registry.example.com/team",
            "alice",
            "pw-1",
        ))
        .await
        .unwrap();
    assert_eq!(made.username().as_str(), "alice");
    let got = s
        .get(Key::new(
            o.as_scope_ref(),
            &loc("registry.example.com/team"),
        ))
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(got.scope(), &o);
    assert_eq!(got.location().as_str(), "registry.example.com/team");
    assert_eq!(got.username().as_str(), "alice");
    assert_eq!(got.password().expose(), "pw-1");
    // Missing is not an error: another location, scope id or scope kind.
    for (scope, location) in [
        (o, "registry.example.com"),
        (org("org-2"), "registry.example.com/team"),
        (space("org-1"), "registry.example.com/team"),
    ] {
        assert_eq!(
            user_at(s, &scope, location).await,
            None,
            "{scope} {location}"
        );
    }
}

/// R16: creating a taken location is a conflict and keeps the stored one.
async fn r16_create_conflict_keeps_the_stored_credential(s: &dyn AsyncCredentialStore) {
    s.create(cred(Scope::Foundation, "docker.io", "first", "pw-first"))
        .await
        .unwrap();
    let e = s
        .create(cred(Scope::Foundation, "docker.io", "second", "pw-second"))
        .await
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
        .get(Key::new(
            Scope::Foundation.as_scope_ref(),
            &loc("docker.io"),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.username().as_str(), "first");
    assert_eq!(kept.password().expose(), "pw-first");
    assert_eq!(s.list_all().await.unwrap().len(), 1);
}

/// R7: locations conflict in their normal form.
async fn r7_locations_conflict_in_normal_form(s: &dyn AsyncCredentialStore) {
    let sp = space("space-1");
    s.create(cred(sp.clone(), "Registry.Example.com/team", "a", "p"))
        .await
        .unwrap();
    assert!(matches!(
        s.create(cred(sp.clone(), "registry.example.com/team", "b", "p"))
            .await,
        Err(StoreError::Conflict { .. })
    ));
    s.create(cred(sp.clone(), "index.docker.io/team", "a", "p"))
        .await
        .unwrap();
    assert!(matches!(
        s.create(cred(sp.clone(), "docker.io/team", "b", "p")).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(
        user_at(s, &sp, "registry.example.com/team")
            .await
            .as_deref(),
        Some("a")
    );
}

/// R13: one location at each scope is a distinct credential.
async fn r13_one_location_at_each_scope_is_distinct(s: &dyn AsyncCredentialStore) {
    let scopes = [
        Scope::Foundation,
        org("x"),
        space("x"),
        app_scope("x"),
        org("y"),
    ];
    for (i, scope) in scopes.iter().enumerate() {
        s.create(cred(scope.clone(), "example.com", &format!("u{i}"), "p"))
            .await
            .unwrap();
    }
    for (i, scope) in scopes.iter().enumerate() {
        assert_eq!(
            user_at(s, scope, "example.com").await,
            Some(format!("u{i}")),
            "{scope}"
        );
    }
    assert_eq!(s.list_all().await.unwrap().len(), scopes.len());
}

/// R17: update changes the username, the password or both, never the location.
async fn r17_update_username_password_or_both(s: &dyn AsyncCredentialStore) {
    let o = org("o");
    let key_loc = "registry.example.com";
    s.create(cred(o.clone(), key_loc, "old-user", "old-pw"))
        .await
        .unwrap();
    let l = loc(key_loc);
    let key = Key::new(o.as_scope_ref(), &l);
    let steps = [
        (
            CredentialUpdate::Username(Username::new("new-user").unwrap()),
            ("new-user", "old-pw"),
        ),
        (
            CredentialUpdate::Password(Password::new("new-pw").unwrap()),
            ("new-user", "new-pw"),
        ),
        (
            CredentialUpdate::Both(Credential::new("both-user", "both-pw").unwrap()),
            ("both-user", "both-pw"),
        ),
    ];
    for (update, expected) in steps {
        let what = format!("{update:?}");
        let updated = s.update(o.as_scope_ref(), &l, update).await.unwrap();
        let stored = s.get(key).await.unwrap().unwrap();
        for c in [&updated, &stored] {
            assert_eq!(
                (c.username().as_str(), c.password().expose()),
                expected,
                "R17: after {what}"
            );
            assert_eq!(c.location().as_str(), key_loc);
            assert_eq!(c.scope(), &o);
        }
    }
    assert_eq!(s.list_all().await.unwrap().len(), 1);
}

/// R17: updating a missing credential is not found and changes nothing.
async fn r17_update_of_a_missing_credential_is_not_found(s: &dyn AsyncCredentialStore) {
    s.create(cred(org("o"), "example.com", "u", "p"))
        .await
        .unwrap();
    let other = org("p");
    let e = s
        .update(
            other.as_scope_ref(),
            &loc("example.com"),
            CredentialUpdate::Password(Password::new("x").unwrap()),
        )
        .await
        .unwrap_err();
    match e {
        StoreError::NotFound { scope, location } => {
            assert_eq!(scope, other);
            assert_eq!(location, "example.com");
        }
        other => panic!("expected not found, got {other:?}"),
    }
    assert!(
        s.get(Key::new(other.as_scope_ref(), &loc("example.com")))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.get(Key::new(org("o").as_scope_ref(), &loc("example.com")))
            .await
            .unwrap()
            .unwrap()
            .password()
            .expose(),
        "p"
    );
}

/// R18: delete returns the credential, and then it is gone.
async fn r18_delete_returns_the_credential_and_then_it_is_gone(s: &dyn AsyncCredentialStore) {
    let a = app_scope("app-1");
    put(
        s,
        [
            cred(a.clone(), "docker.io/library", "u", "p"),
            cred(a.clone(), "docker.io", "v", "q"),
        ],
    )
    .await;
    let l = loc("docker.io/library");
    let key = Key::new(a.as_scope_ref(), &l);
    let gone = s.delete(a.as_scope_ref(), &l).await.unwrap();
    assert_eq!(gone.username().as_str(), "u");
    assert_eq!(gone.password().expose(), "p");
    assert!(s.get(key).await.unwrap().is_none());
    assert!(matches!(
        s.delete(a.as_scope_ref(), &l).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(user_at(s, &a, "docker.io").await.as_deref(), Some("v"));
    // The location is free again.
    s.create(cred(a.clone(), "docker.io/library", "w", "r"))
        .await
        .unwrap();
    assert_eq!(
        user_at(s, &a, "docker.io/library").await.as_deref(),
        Some("w")
    );
}

/// Replaces `app`'s credential with `user`'s at `location`; the password
/// is `pw-` and the username.
async fn push(
    s: &dyn AsyncCredentialStore,
    app: &AppId,
    location: &str,
    user: &str,
) -> AppCredentialReplaced {
    s.replace_app_credential(
        app,
        loc(location),
        Credential::new(user, format!("pw-{user}")).unwrap(),
    )
    .await
    .unwrap_or_else(|e| panic!("push of {user}: {e:?}"))
}

/// A credential's location, username and password, to compare.
type Entry<'a> = (&'a str, &'a str, &'a str);

/// The [`Entry`] of each credential.
fn entries(credentials: &[Arc<RegistryCredential>]) -> Vec<Entry<'_>> {
    credentials
        .iter()
        .map(|c| {
            (
                c.location().as_str(),
                c.username().as_str(),
                c.password().expose(),
            )
        })
        .collect()
}

/// R19: replacing an app's credential removes every credential the app
/// held, at any location, and nothing of anyone else's.
async fn r19_replace_app_credential_replaces_all_of_the_app(s: &dyn AsyncCredentialStore) {
    let app = AppId::new("app-1").unwrap();
    let a = Scope::App(app.clone());
    let other = app_scope("app-2");
    put(
        s,
        [
            cred(other.clone(), "docker.io/library", "other", "pw-o"),
            cred(space("space-1"), "docker.io/library", "sp", "pw-s"),
        ],
    )
    .await;
    let first = push(s, &app, "docker.io/library", "first").await;
    assert!(first.replaced.is_empty());
    assert_eq!(first.stored.scope(), &a);
    assert_eq!(first.stored.username().as_str(), "first");
    // (a credential created at the app's scope some other way first?, the
    // push's location and user, what it replaces, in order).
    let steps: [(bool, &str, &str, &[Entry<'_>]); 3] = [
        // Same location: replaced whole.
        (
            false,
            "docker.io/library",
            "second",
            &[("docker.io/library", "first", "pw-first")],
        ),
        // Credentials created at the app's scope some other way are
        // replaced too: the app holds one pair.
        (
            true,
            "registry.example.com/repo",
            "third",
            &[
                ("docker.io/library", "second", "pw-second"),
                ("quay.io/team", "extra", "pw-extra"),
            ],
        ),
        // At the same location as one held elsewhere: that one first.
        (
            true,
            "quay.io/team",
            "fourth",
            &[
                ("quay.io/team", "extra", "pw-extra"),
                ("registry.example.com/repo", "third", "pw-third"),
            ],
        ),
    ];
    for (extra, location, user, replaced) in steps {
        if extra {
            s.create(cred(a.clone(), "quay.io/team", "extra", "pw-extra"))
                .await
                .unwrap();
        }
        let done = push(s, &app, location, user).await;
        assert_eq!(
            entries(&done.replaced),
            replaced,
            "R19: what {user} replaced"
        );
        let held = s.list(a.as_scope_ref()).await.unwrap();
        let password = format!("pw-{user}");
        assert_eq!(
            entries(&held),
            [(location, user, password.as_str())],
            "R19: the app holds {user}'s credential alone"
        );
    }
    // Nobody else's changed.
    assert_eq!(
        user_at(s, &other, "docker.io/library").await.as_deref(),
        Some("other")
    );
    assert_eq!(
        user_at(s, &space("space-1"), "docker.io/library")
            .await
            .as_deref(),
        Some("sp")
    );
}

/// R13: deleting a scope removes what it holds, ordered by location, and
/// nothing at any other scope; an empty scope is not an error.
async fn r13_delete_scope_removes_that_scope_alone(s: &dyn AsyncCredentialStore) {
    let o = org("org-1");
    for l in ["quay.io/b", "quay.io/a", "example.com"] {
        s.create(cred(o.clone(), l, "u", "p")).await.unwrap();
    }
    put(
        s,
        [
            cred(org("org-2"), "quay.io/a", "keep", "p"),
            cred(space("org-1"), "quay.io/a", "keep", "p"),
            cred(Scope::Foundation, "quay.io/a", "keep", "p"),
        ],
    )
    .await;
    let gone = locations_of(&s.delete_scope(o.as_scope_ref()).await.unwrap());
    assert_eq!(gone, ["example.com", "quay.io/a", "quay.io/b"]);
    assert!(s.list(o.as_scope_ref()).await.unwrap().is_empty());
    assert!(s.delete_scope(o.as_scope_ref()).await.unwrap().is_empty());
    let left: Vec<_> = s
        .list_all()
        .await
        .unwrap()
        .iter()
        .map(|c| c.username().to_string())
        .collect();
    assert_eq!(left, ["keep", "keep", "keep"]);
}

/// How many threads the R19 check `r19_concurrent_pushes_of_one_app_leave_exactly_one`
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
fn r19_concurrent_pushes_of_one_app_leave_exactly_one(stores: &Instances<'_>) {
    struct Push {
        user: String,
        started: u64,
        acknowledged: u64,
        replaced: Vec<String>,
    }
    let app = AppId::new("pushed-app").unwrap();
    let scope = Scope::App(app.clone());
    let (first, second) = (stores.first(), stores.second());
    stores
        .block_on(first.create(cred(
            app_scope("bystander"),
            "docker.io/library",
            "bystander",
            "p",
        )))
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
                            let done = stores
                                .block_on(store.replace_app_credential(
                                    app,
                                    location.clone(),
                                    Credential::new(&user, format!("{user}-pw")).unwrap(),
                                ))
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
        let held = stores.block_on(store.list(scope.as_scope_ref())).unwrap();
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
        stores
            .block_on(user_at(first, &app_scope("bystander"), "docker.io/library"))
            .as_deref(),
        Some("bystander")
    );
}

/// `first_match` answers with the first key, in order, that holds a
/// credential, and its index.
async fn first_match_is_the_first_found_in_key_order(s: &dyn AsyncCredentialStore) {
    let (o, sp) = (org("o"), space("s"));
    put(
        s,
        [
            cred(o.clone(), "example.com", "org", "p"),
            cred(sp.clone(), "example.com/team", "space", "p"),
        ],
    )
    .await;
    let (l1, l2, l3) = (
        loc("nothing.example.com"),
        loc("example.com"),
        loc("example.com/team"),
    );
    let keys = [
        Key::new(o.as_scope_ref(), &l1),
        Key::new(sp.as_scope_ref(), &l2),
        Key::new(o.as_scope_ref(), &l2),
        Key::new(sp.as_scope_ref(), &l3),
    ];
    let (i, c) = s.first_match(&keys).await.unwrap().expect("a match");
    assert_eq!((i, c.username().as_str()), (2, "org"));
    let (i, c) = s.first_match(&keys[3..]).await.unwrap().expect("a match");
    assert_eq!((i, c.username().as_str()), (0, "space"));
    assert!(s.first_match(&keys[..2]).await.unwrap().is_none());
    assert!(s.first_match(&[]).await.unwrap().is_none());
}

/// `resolve_plan` gives, for every plan, the resolution that
/// `first_match` of the plan's keys names (R14, R15): the same credential,
/// candidate kind and rank, for pullers of every kind, hits at each scope
/// and each candidate, and misses.
async fn r14_resolve_plan_answers_as_first_match_of_every_key(s: &dyn AsyncCredentialStore) {
    use crate::resolve::{Clock, Plan};
    use crate::scope::Puller;

    put(
        s,
        [
            cred(app_scope("a"), "registry.example.com/team/deep", "app", "p"),
            cred(space("s"), "registry.example.com", "space", "p"),
            cred(org("o"), "example.com:5000", "org", "p"),
            cred(Scope::Foundation, "example.com", "foundation", "p"),
            cred(Scope::Foundation, "docker.io", "hub", "p"),
            cred(space("other"), "quay.io/team", "other", "p"),
        ],
    )
    .await;
    let app = App::new("o", "s", "a").unwrap();
    let pullers = [
        Puller::App(app.clone()),
        Puller::Space {
            org: app.org().clone(),
            space: app.space().clone(),
        },
        Puller::Org(app.org().clone()),
        Puller::Foundation,
    ];
    let images = [
        "registry.example.com/team/deep/image:1",
        "registry.example.com/team/image:1",
        "registry.example.com/image",
        "a.b.registry.example.com/x/y/image",
        "registry.example.com:5000/team/image",
        "nginx",
        "quay.io/team/image",
        "registry.nowhere.io/team/image",
    ];
    let mut winners = Vec::new();
    for puller in &pullers {
        for image in images {
            let reference = image.parse().unwrap();
            let plan = Plan::new(puller, &reference);
            let expected = s
                .first_match(plan.keys())
                .await
                .unwrap()
                .and_then(|(i, c)| plan.resolution(i, c));
            let got = s
                .resolve_plan(&Plan::new(puller, &reference), &mut Clock::new())
                .await
                .unwrap();
            let summary = |r: &Option<crate::resolve::Resolution>| {
                r.as_ref().map(|r| {
                    (
                        r.credential().username().as_str().to_owned(),
                        r.candidate_kind(),
                        r.rank(),
                        r.key_index(),
                    )
                })
            };
            assert_eq!(summary(&got), summary(&expected), "{puller} {image}");
            winners.push(summary(&got).map(|(user, ..)| user));
        }
    }
    // Every stored credential but the other space's wins somewhere, and
    // some pulls find nothing.
    for user in ["app", "space", "org", "foundation", "hub"] {
        assert!(
            winners.iter().any(|w| w.as_deref() == Some(user)),
            "{user} never won"
        );
    }
    assert!(winners.iter().any(Option::is_none));
    assert!(!winners.iter().any(|w| w.as_deref() == Some("other")));
}

/// R21: a listing is one scope, ordered by location.
async fn r21_list_is_one_scope_ordered_by_location(s: &dyn AsyncCredentialStore) {
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
        s.create(cred(o.clone(), l, "u", "p")).await.unwrap();
    }
    put(
        s,
        [
            cred(org("other"), "zzz.example.com", "u", "p"),
            cred(Scope::Foundation, "aaa.example.com", "u", "p"),
        ],
    )
    .await;
    let listed = locations_of(&s.list(o.as_scope_ref()).await.unwrap());
    let mut expected: Vec<String> = locations.iter().map(|l| l.to_string()).collect();
    expected.sort();
    assert_eq!(listed, expected);
    assert!(
        s.list(org("nobody").as_scope_ref())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.list(Scope::Foundation.as_scope_ref())
            .await
            .unwrap()
            .len(),
        1
    );
}

/// R21: the whole store lists by scope, then location.
async fn r21_list_all_is_ordered_by_scope_then_location(s: &dyn AsyncCredentialStore) {
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
        s.create(cred(scope.clone(), l, "u", "p")).await.unwrap();
    }
    let listed: Vec<(Scope, String)> = s
        .list_all()
        .await
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
async fn get_many_answers_in_order_with_gaps(s: &dyn AsyncCredentialStore) {
    let o = org("o");
    put(
        s,
        [
            cred(o.clone(), "example.com", "org-user", "p"),
            cred(Scope::Foundation, "example.com", "f-user", "p"),
        ],
    )
    .await;
    assert!(s.get_many(&[]).await.unwrap().is_empty());
    let sp = space("o");
    let (nothing, example) = (loc("nothing.example.com"), loc("example.com"));
    let keys = [
        Key::new(o.as_scope_ref(), &nothing),
        Key::new(Scope::Foundation.as_scope_ref(), &example),
        Key::new(o.as_scope_ref(), &example),
        Key::new(o.as_scope_ref(), &example),
        Key::new(sp.as_scope_ref(), &example),
    ];
    let found: Vec<Option<String>> = s
        .get_many(&keys)
        .await
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
    let (i, c) = s.first_match(&keys).await.unwrap().unwrap();
    assert_eq!((i, c.username().as_str()), (1, "f-user"));
    assert!(s.first_match(&keys[..1]).await.unwrap().is_none());
}

/// `get_many` answers key lists longer than any plan.
async fn get_many_answers_long_key_lists(s: &dyn AsyncCredentialStore) {
    let o = org("o");
    for i in (0..600).step_by(7) {
        s.create(cred(
            o.clone(),
            &format!("r{i}.example.com"),
            &format!("u{i}"),
            "p",
        ))
        .await
        .unwrap();
    }
    let names: Vec<Location> = (0..600)
        .map(|i| loc(&format!("r{i}.example.com")))
        .collect();
    let keys: Vec<Key<'_>> = names
        .iter()
        .map(|n| Key::new(o.as_scope_ref(), n))
        .collect();
    let found = s.get_many(&keys).await.unwrap();
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
async fn r14_resolution_scope_outranks_specificity(s: &dyn AsyncCredentialStore) {
    let app = App::new("org-1", "space-1", "app-1").unwrap();
    let image = "registry.example.com/repo/image:tag".parse().unwrap();
    put(
        s,
        [
            cred(Scope::Foundation, "registry.example.com/repo", "f", "p"),
            cred(org("org-1"), "example.com", "o", "p"),
            cred(space("space-1"), "registry.example.com", "s", "p"),
            cred(space("other-space"), "registry.example.com/repo", "x", "p"),
        ],
    )
    .await;
    let r = resolve_async(s, &app, &image).await.unwrap().unwrap();
    assert_eq!(r.scope_kind(), ScopeKind::Space);
    assert_eq!(r.credential().username().as_str(), "s");
    assert_eq!(r.location().as_str(), "registry.example.com");
    assert_eq!(r.rank(), 1);

    s.create(cred(app_scope("app-1"), "example.com", "a", "p"))
        .await
        .unwrap();
    let r = resolve_async(s, &app, &image).await.unwrap().unwrap();
    assert_eq!(
        r.scope_kind(),
        ScopeKind::App,
        "R14: scope beats specificity"
    );
    assert_eq!(r.credential().password().expose(), "p");

    let all = users_of_all(s, &app, &image).await;
    assert_eq!(all, ["a", "s", "o", "f"]);

    let e = explain_async(s, &app, &image).await.unwrap();
    assert_eq!(e.winner().unwrap().candidate(), "example.com");
    assert_eq!(e.attempts().len(), 12);
    assert!(!e.to_string().contains("\"p\""));

    // R12: ports are identity.
    let ported = "registry.example.com:5000/repo/image".parse().unwrap();
    assert!(resolve_async(s, &app, &ported).await.unwrap().is_none());
}

/// R15: finding nothing is not an error.
async fn r15_nothing_found_is_not_an_error(s: &dyn AsyncCredentialStore) {
    let app = App::new("o", "s", "a").unwrap();
    assert!(
        resolve_async(s, &app, &"nginx".parse().unwrap())
            .await
            .unwrap()
            .is_none()
    );
    s.create(cred(Scope::Foundation, "docker.io/myorg", "u", "p"))
        .await
        .unwrap();
    assert!(
        resolve_async(s, &app, &"nginx".parse().unwrap())
            .await
            .unwrap()
            .is_none()
    );
    let r = resolve_async(s, &app, &"myorg/app:1".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.location().as_str(), "docker.io/myorg");
}

/// R17: resolution sees every write at once; nothing is cached.
async fn r17_resolution_sees_every_write(s: &dyn AsyncCredentialStore) {
    let app = App::new("o", "s", "a").unwrap();
    let image: Reference = "nginx".parse().unwrap();
    let f = Scope::Foundation;
    s.create(cred(f.clone(), "docker.io", "u1", "p1"))
        .await
        .unwrap();
    let pw = async || {
        resolve_async(s, &app, &image)
            .await
            .unwrap()
            .map(|r| r.credential().password().expose().to_owned())
    };
    assert_eq!(pw().await.as_deref(), Some("p1"));
    s.update(
        f.as_scope_ref(),
        &loc("docker.io"),
        CredentialUpdate::Password(Password::new("p2").unwrap()),
    )
    .await
    .unwrap();
    assert_eq!(pw().await.as_deref(), Some("p2"));
    s.replace_app_credential(
        &AppId::new("a").unwrap(),
        loc("docker.io/library"),
        Credential::new("u3", "p3").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(pw().await.as_deref(), Some("p3"));
    s.delete(app_scope("a").as_scope_ref(), &loc("docker.io/library"))
        .await
        .unwrap();
    s.delete(f.as_scope_ref(), &loc("docker.io")).await.unwrap();
    assert_eq!(pw().await, None);
}

/// R16: of racing creates of one location, exactly one wins.
fn r16_racing_creates_exactly_one_wins(stores: &Instances<'_>) {
    let s = stores.first();
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
                        match stores.block_on(s.create(cred(
                            Scope::Foundation,
                            &l,
                            &format!("t{t}"),
                            "p",
                        ))) {
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
        assert_eq!(
            stores
                .block_on(user_at(s, &Scope::Foundation, l))
                .as_deref(),
            Some(t)
        );
    }
}

/// R16: the longest password and non-ASCII usernames round trip.
async fn r16_limits_and_unicode_round_trip(s: &dyn AsyncCredentialStore) {
    let long = "é".repeat(2500); // 5,000 bytes
    s.create(cred(org("o"), "example.com", "ünï-çødé", &long))
        .await
        .unwrap();
    let got = s
        .get(Key::new(org("o").as_scope_ref(), &loc("example.com")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.password().expose(), long);
    assert_eq!(got.username().as_str(), "ünï-çødé");
}

/// R24: each kind of credential reads back with its kind and secret, from
/// `get`, the listings, a batch, a push and an update that changes the kind.
async fn r24_every_kind_round_trips(s: &dyn AsyncCredentialStore) {
    use crate::credential::CredentialKind;
    let of_kind = |kind, scope, location: &str, user: &str, secret: &str| {
        RegistryCredential::new(
            scope,
            loc(location),
            Credential::of_kind(kind, user, secret).unwrap(),
        )
    };
    let kinds = CredentialKind::ALL;
    for (i, kind) in kinds.into_iter().enumerate() {
        s.create(of_kind(
            kind,
            org("o"),
            &format!("r{i}.example.com"),
            &format!("u{i}"),
            &format!("secret-{kind}"),
        ))
        .await
        .unwrap();
    }
    s.create_all(vec![of_kind(
        CredentialKind::RegistryToken,
        space("s"),
        "batch.example.com",
        "robot",
        "bearer-in-a-batch",
    )])
    .await
    .unwrap();
    let listed = s.list(org("o").as_scope_ref()).await.unwrap();
    let got: Vec<(CredentialKind, &str, &str)> = listed
        .iter()
        .map(|c| (c.kind(), c.username().as_str(), c.password().expose()))
        .collect();
    assert_eq!(
        got,
        [
            (CredentialKind::Password, "u0", "secret-password"),
            (CredentialKind::IdentityToken, "u1", "secret-identity-token"),
            (CredentialKind::RegistryToken, "u2", "secret-registry-token"),
        ]
    );
    let batch = stored(s, &space("s"), "batch.example.com").await;
    assert_eq!(batch.kind(), CredentialKind::RegistryToken);
    assert_eq!(batch.password().expose(), "bearer-in-a-batch");

    // A push may bring a token; the app's credential keeps its kind.
    let app = AppId::new("a").unwrap();
    s.replace_app_credential(
        &app,
        loc("push.example.com"),
        Credential::identity_token("<token>", "refresh-from-a-push").unwrap(),
    )
    .await
    .unwrap();
    let pushed = s.list(app_scope("a").as_scope_ref()).await.unwrap();
    assert_eq!(pushed.len(), 1);
    assert_eq!(pushed[0].kind(), CredentialKind::IdentityToken);
    assert_eq!(pushed[0].password().expose(), "refresh-from-a-push");

    // An update to a whole credential brings its kind; a new password
    // makes it a password credential again; a new username keeps the kind.
    let at = loc("r0.example.com");
    let key = org("o");
    let u = s
        .update(
            key.as_scope_ref(),
            &at,
            CredentialUpdate::Both(Credential::registry_token("robot", "bearer-2").unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(u.kind(), CredentialKind::RegistryToken);
    let u = s
        .update(
            key.as_scope_ref(),
            &at,
            CredentialUpdate::Username(Username::new("robot-2").unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(u.kind(), CredentialKind::RegistryToken);
    let read = stored(s, &key, at.as_str()).await;
    assert_eq!(
        (
            read.kind(),
            read.username().as_str(),
            read.password().expose()
        ),
        (CredentialKind::RegistryToken, "robot-2", "bearer-2")
    );
    s.update(
        key.as_scope_ref(),
        &at,
        CredentialUpdate::Password(Password::new("plain").unwrap()),
    )
    .await
    .unwrap();
    let read = stored(s, &key, at.as_str()).await;
    assert_eq!(read.kind(), CredentialKind::Password);
    let all = s.list_all().await.unwrap();
    assert!(
        all.iter()
            .any(|c| c.kind() == CredentialKind::IdentityToken)
            && all
                .iter()
                .any(|c| c.kind() == CredentialKind::RegistryToken)
    );
}

/// R25: an expiry reads back to the second, an update sets or clears it,
/// resolution passes over an expired credential to the next candidate and
/// the next scope, `explain` marks it, and `expiring_by` finds it.
async fn r25_expiry_round_trips_and_resolution_passes_over_it(s: &dyn AsyncCredentialStore) {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};
    let now = SystemTime::now();
    let past = now - Duration::from_secs(3600);
    let soon = now + Duration::from_secs(3600);
    let later = now + Duration::from_secs(86_400 * 365);
    let whole = |t: SystemTime| {
        UNIX_EPOCH + Duration::from_secs(t.duration_since(UNIX_EPOCH).unwrap().as_secs())
    };
    let app = App::new("o", "s", "a").unwrap();
    let image = "registry.example.com/repo/image".parse().unwrap();
    put(
        s,
        [
            cred(
                app_scope("a"),
                "registry.example.com/repo",
                "app-expired",
                "p",
            )
            .with_expires_at(Some(past)),
            cred(app_scope("a"), "registry.example.com", "app-live", "p")
                .with_expires_at(Some(later)),
            cred(space("s"), "example.com", "space", "p").with_expires_at(Some(soon)),
            cred(Scope::Foundation, "registry.example.com", "foundation", "p"),
        ],
    )
    .await;
    let read = stored(s, &app_scope("a"), "registry.example.com").await;
    assert_eq!(read.expires_at(), Some(whole(later)));
    let user = |r: Option<crate::resolve::Resolution>| {
        r.map(|r| r.credential().username().as_str().to_owned())
    };

    // The next candidate at the same scope.
    let r = resolve_async(s, &app, &image).await.unwrap();
    assert_eq!(user(r).as_deref(), Some("app-live"));
    // With the app's live one expired too, the next scope.
    s.update(
        app_scope("a").as_scope_ref(),
        &loc("registry.example.com"),
        CredentialUpdate::ExpiresAt(Some(past)),
    )
    .await
    .unwrap();
    let r = resolve_async(s, &app, &image).await.unwrap();
    assert_eq!(user(r).as_deref(), Some("space"));
    let all = users_of_all(s, &app, &image).await;
    assert_eq!(all, ["space", "foundation"]);
    let why = explain_async(s, &app, &image).await.unwrap();
    let expired: Vec<&str> = why
        .attempts()
        .iter()
        .filter(|a| a.expired())
        .map(|a| a.candidate())
        .collect();
    assert_eq!(
        expired,
        ["registry.example.com/repo", "registry.example.com"]
    );
    assert_eq!(
        why.winner().unwrap().stored().unwrap().username().as_str(),
        "space"
    );
    assert!(why.to_string().contains("expired: passed over"), "{why}");

    // Expiring by tomorrow: the two expired app credentials and the space's.
    let by = s
        .expiring_by(now + Duration::from_secs(86_400))
        .await
        .unwrap();
    let mut users: Vec<&str> = by.iter().map(|c| c.username().as_str()).collect();
    assert_eq!(users.pop(), Some("space"), "soonest first");
    users.sort_unstable();
    assert_eq!(users, ["app-expired", "app-live"]);

    // Clearing the expiry makes it chosen again.
    s.update(
        app_scope("a").as_scope_ref(),
        &loc("registry.example.com"),
        CredentialUpdate::ExpiresAt(None),
    )
    .await
    .unwrap();
    let r = resolve_async(s, &app, &image).await.unwrap();
    assert_eq!(user(r).as_deref(), Some("app-live"));
    // A username update keeps the expiry.
    s.update(
        space("s").as_scope_ref(),
        &loc("example.com"),
        CredentialUpdate::Username(Username::new("space-2").unwrap()),
    )
    .await
    .unwrap();
    let read = stored(s, &space("s"), "example.com").await;
    assert_eq!(read.expires_at(), Some(whole(soon)));
    // Every credential expired: nothing is chosen (R15).
    for (scope, location) in [
        (app_scope("a"), "registry.example.com"),
        (space("s"), "example.com"),
        (Scope::Foundation, "registry.example.com"),
    ] {
        s.update(
            scope.as_scope_ref(),
            &loc(location),
            CredentialUpdate::ExpiresAt(Some(past)),
        )
        .await
        .unwrap();
    }
    assert!(resolve_async(s, &app, &image).await.unwrap().is_none());
    let why = explain_async(s, &app, &image).await.unwrap();
    assert!(why.winner().is_none());
}

/// `create_all` is one step: a batch is stored whole, in its order; a
/// batch with one refused entry (a key already held, or the same key twice
/// in the batch) stores nothing, and the error names that entry.
async fn create_all_stores_all_or_none(s: &dyn AsyncCredentialStore) {
    assert!(s.create_all(Vec::new()).await.unwrap().is_empty());
    let stored = s
        .create_all(vec![
            cred(Scope::Foundation, "docker.io", "hub", "p1"),
            cred(org("o"), "quay.io/team", "quay", "p2"),
            cred(space("s"), "ghcr.io", "gh", "p3"),
        ])
        .await
        .unwrap();
    let users: Vec<_> = stored.iter().map(|c| c.username().as_str()).collect();
    assert_eq!(users, ["hub", "quay", "gh"], "in the batch's order");
    // Every credential, password and all (they compare whole).
    let before = s.list_all().await.unwrap();
    assert_eq!(before.len(), 3);
    // Its last entry is held already: the entries before it are not kept.
    // Then the same key twice in one batch, in two spellings (R7).
    let refusals = [
        (
            vec![
                cred(Scope::Foundation, "new1.example.com", "n1", "p"),
                cred(org("o"), "new2.example.com", "n2", "p"),
                cred(org("o"), "Quay.io/team", "clash", "p"),
            ],
            org("o"),
            "quay.io/team",
        ),
        (
            vec![
                cred(space("s"), "twice.example.com", "t1", "p"),
                cred(space("s"), "new3.example.com", "n3", "p"),
                cred(space("s"), "TWICE.example.com", "t2", "p"),
            ],
            space("s"),
            "twice.example.com",
        ),
    ];
    for (batch, scope, location) in refusals {
        match s.create_all(batch).await {
            Err(StoreError::Conflict {
                scope: at,
                location: l,
            }) => assert_eq!(
                (at, l),
                (scope, loc(location)),
                "the error names the entry refused"
            ),
            other => panic!("R16: a refused batch is a conflict, not {other:?}"),
        }
        let after = s.list_all().await.unwrap();
        assert_eq!(after, before, "a refused batch stores nothing");
    }
    assert_eq!(
        user_at(s, &org("o"), "quay.io/team").await.as_deref(),
        Some("quay")
    );
    assert_eq!(
        user_at(s, &Scope::Foundation, "new1.example.com").await,
        None
    );
}

/// How many batches [`create_all_is_never_seen_in_part`] writes.
const BATCHES: usize = 24;
/// How many credentials each batch of [`create_all_is_never_seen_in_part`]
/// holds.
const BATCH_LEN: usize = 6;

/// `create_all` under concurrency: while one instance writes batches (each
/// over three scopes; every other one refused by its last entry), readers
/// on the other instance look every batch up again and again, and never
/// see part of one: a stored batch is seen whole or not at all, a refused
/// one never.
fn create_all_is_never_seen_in_part(stores: &Instances<'_>) {
    let (first, second) = (stores.first(), stores.second());
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
    stores
        .block_on(first.create(cred(space("batch-space"), "taken.example.com", "held", "p")))
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
                                .map(|(scope, l)| Key::new(scope.as_scope_ref(), l))
                                .collect();
                            let found = stores.block_on(second.get_many(&keys)).unwrap();
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
                    stores.block_on(first.create_all(batch)),
                    Err(StoreError::Conflict { .. })
                ));
            } else {
                assert_eq!(
                    stores.block_on(first.create_all(batch)).unwrap().len(),
                    BATCH_LEN
                );
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
        stores.block_on(second.list_all()).unwrap().len(),
        1 + BATCH_LEN * BATCHES.div_ceil(2),
        "every accepted batch whole, no refused one"
    );
}

/// The suite's power: a store that replaces an app's credentials in
/// separate calls (store, then list the app, then delete the others) fails
/// the R19 concurrency case.
/// Whole seconds since 1970 of `t`.
fn secs(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// The record of a credential a store returned, which must have one.
fn record_of(c: &RegistryCredential) -> crate::identity::Record {
    *c.record().unwrap_or_else(|| {
        panic!(
            "{} {} was returned without its record",
            c.scope(),
            c.location()
        )
    })
}

/// R22: every credential a store returns (from a create, a batch, a read,
/// a listing) carries a record: a GUID no other credential has, and
/// `created_at` equal to `updated_at`, the time of the write to the second.
async fn r22_every_stored_credential_has_its_own_guid_and_times(s: &dyn AsyncCredentialStore) {
    let before = secs(std::time::SystemTime::now());
    let one = s
        .create(cred(Scope::Foundation, "one.example.com", "u", "p"))
        .await
        .unwrap();
    let batch = s
        .create_all(vec![
            cred(org("o"), "one.example.com", "u", "p"),
            cred(space("s"), "one.example.com", "u", "p"),
        ])
        .await
        .unwrap();
    let after = secs(std::time::SystemTime::now());
    let mut guids = BTreeSet::new();
    for c in std::iter::once(&one).chain(&batch) {
        let r = record_of(c);
        assert!(guids.insert(r.guid()), "{} reused a GUID", c.scope());
        assert_eq!(r.created_at(), r.updated_at());
        assert!(
            (before..=after).contains(&r.created_secs()),
            "created_at {} is not the time of the write ({before}..={after})",
            r.created_secs()
        );
    }
    let read = stored(s, &Scope::Foundation, "one.example.com").await;
    assert_eq!(
        read.record(),
        one.record(),
        "a read gives the stored record"
    );
    let listed: BTreeSet<Guid> = s
        .list_all()
        .await
        .unwrap()
        .iter()
        .map(|c| record_of(c).guid())
        .collect();
    assert_eq!(listed, guids);
    // A credential deleted and created again is a new one.
    s.delete(ScopeRef::Foundation, &loc("one.example.com"))
        .await
        .unwrap();
    let again = s
        .create(cred(Scope::Foundation, "one.example.com", "u", "p"))
        .await
        .unwrap();
    assert!(
        !guids.contains(&record_of(&again).guid()),
        "a GUID was reused"
    );
}

/// R22: an update, of any part, keeps the GUID and `created_at` and moves
/// `updated_at` to the time of the update.
async fn r22_an_update_moves_updated_at_only(s: &dyn AsyncCredentialStore) {
    let created = s
        .create(cred(Scope::Foundation, "example.com", "u", "p"))
        .await
        .unwrap();
    let first = record_of(&created);
    // Whole seconds: wait into the next one.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    for update in [
        CredentialUpdate::Username(Username::new("v").unwrap()),
        CredentialUpdate::Metadata(MetadataPatch::labels([("env", Some("prod"))])),
    ] {
        let updated = s
            .update(ScopeRef::Foundation, &loc("example.com"), update)
            .await
            .unwrap();
        let r = record_of(&updated);
        assert_eq!(r.guid(), first.guid());
        assert_eq!(r.created_at(), first.created_at());
        assert!(
            r.updated_secs() > first.updated_secs(),
            "updated_at did not move"
        );
        let read = stored(s, &Scope::Foundation, "example.com").await;
        assert_eq!(read.record(), Some(&r));
    }
}

/// R22: a credential is read, updated and deleted by its GUID as by its
/// key; a GUID nobody has is not found, and a failed call changes nothing.
async fn r22_get_update_and_delete_by_guid(s: &dyn AsyncCredentialStore) {
    let a = s
        .create(cred(space("s"), "registry.example.com", "a", "pa"))
        .await
        .unwrap();
    let b = s
        .create(cred(space("s"), "example.com", "b", "pb"))
        .await
        .unwrap();
    let (ga, gb) = (record_of(&a).guid(), record_of(&b).guid());
    let got = s.get_by_guid(ga).await.unwrap().expect("found by GUID");
    assert_eq!(entries(&[got]), entries(std::slice::from_ref(&a)));
    let nobody = Guid::random();
    assert!(s.get_by_guid(nobody).await.unwrap().is_none());

    let updated = s
        .update_by_guid(
            ga,
            CredentialUpdate::Both(Credential::new("a2", "pa2").unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(updated.location().as_str(), "registry.example.com");
    assert_eq!(record_of(&updated).guid(), ga);
    assert_eq!(
        user_at(s, &space("s"), "registry.example.com")
            .await
            .as_deref(),
        Some("a2")
    );
    assert_eq!(
        user_at(s, &space("s"), "example.com").await.as_deref(),
        Some("b")
    );
    for e in [
        s.update_by_guid(
            nobody,
            CredentialUpdate::Username(Username::new("x").unwrap()),
        )
        .await
        .unwrap_err(),
        s.delete_by_guid(nobody).await.unwrap_err(),
    ] {
        assert!(
            matches!(e, StoreError::GuidNotFound { guid } if guid == nobody),
            "{e:?}"
        );
    }
    let deleted = s.delete_by_guid(gb).await.unwrap();
    assert_eq!(deleted.username().as_str(), "b");
    assert!(s.get_by_guid(gb).await.unwrap().is_none());
    assert_eq!(user_at(s, &space("s"), "example.com").await, None);
    assert!(s.get_by_guid(ga).await.unwrap().is_some());
}

/// R22: labels and annotations round-trip whole (the longest annotation,
/// Unicode, empty label values); a patch merges, `None` removes; a refused
/// patch changes nothing; several changes apply in one step.
async fn r22_metadata_round_trips_and_merges_all_or_nothing(s: &dyn AsyncCredentialStore) {
    let long = "ü".repeat(crate::metadata::MAX_ANNOTATION_LEN);
    let mut metadata = Metadata::default();
    metadata
        .merge(
            &MetadataPatch::labels([
                ("env", Some("prod")),
                ("team.example.com/owner", Some("ci-bot")),
                ("empty", Some("")),
            ])
            .with_annotations([
                ("note", Some(long.as_str())),
                ("example.com/x", Some("ÿ \n {}")),
            ]),
        )
        .unwrap();
    s.create(cred(org("o"), "example.com", "u", "p").with_metadata(metadata.clone()))
        .await
        .unwrap();
    let read = stored(s, &org("o"), "example.com").await;
    assert_eq!(read.metadata(), &metadata);

    let (o, example) = (org("o"), loc("example.com"));
    let update = |u| s.update(o.as_scope_ref(), &example, u);
    update(CredentialUpdate::Metadata(
        MetadataPatch::labels([
            ("env", Some("staging")),
            ("empty", None),
            ("new", Some("1")),
        ])
        .with_annotations([("note", None)]),
    ))
    .await
    .unwrap();
    let read = stored(s, &org("o"), "example.com").await;
    let labels: Vec<(&str, &str)> = read
        .metadata()
        .labels()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            ("env", "staging"),
            ("new", "1"),
            ("team.example.com/owner", "ci-bot")
        ]
    );
    let annotations: Vec<&str> = read
        .metadata()
        .annotations()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(annotations, ["example.com/x"]);

    // Refused: a bad key, and too many labels. Nothing changes, not even
    // the username given in the same step.
    let too_many: Vec<String> = (0..crate::metadata::MAX_LABELS)
        .map(|i| format!("k{i}"))
        .collect();
    for patch in [
        MetadataPatch::labels([("cloudfoundry.org/x", Some("v"))]),
        MetadataPatch::labels(too_many.iter().map(|k| (k.as_str(), Some("v")))),
    ] {
        let e = update(CredentialUpdate::All(vec![
            CredentialUpdate::Username(Username::new("changed").unwrap()),
            CredentialUpdate::Metadata(patch),
        ]))
        .await
        .unwrap_err();
        assert!(matches!(e, StoreError::Metadata(_)), "{e:?}");
        let after = stored(s, &org("o"), "example.com").await;
        assert_eq!(after.metadata(), read.metadata());
        assert_eq!(after.username().as_str(), "u");
        assert_eq!(after.record(), read.record());
    }
    // Accepted: username, password and labels in one step.
    let both = update(CredentialUpdate::All(vec![
        CredentialUpdate::Username(Username::new("u2").unwrap()),
        CredentialUpdate::Password(Password::new("p2").unwrap()),
        CredentialUpdate::Metadata(MetadataPatch::labels([("env", None)])),
    ]))
    .await
    .unwrap();
    let after = stored(s, &org("o"), "example.com").await;
    assert_eq!(
        entries(std::slice::from_ref(&after)),
        [("example.com", "u2", "p2")]
    );
    assert_eq!(after.metadata(), both.metadata());
    assert_eq!(after.metadata().label("env"), None);
}

/// R19, R22: a push that brings a credential for the location the app's
/// credential already has updates that one (same GUID, `created_at` and
/// metadata); one for another location is a new credential.
async fn r22_replacing_an_app_credential_at_its_location_keeps_its_guid(
    s: &dyn AsyncCredentialStore,
) {
    let app = AppId::new("a").unwrap();
    // The app pushes with a credential of `user` and `password` for
    // `location`.
    let push = |location: &str, user: &str, password: &str| {
        let credential = Credential::new(user, password).unwrap();
        s.replace_app_credential(&app, loc(location), credential)
    };
    let first = push("example.com", "u1", "p1").await.unwrap().stored;
    let labelled = s
        .update(
            ScopeRef::App(&app),
            &loc("example.com"),
            CredentialUpdate::Metadata(MetadataPatch::labels([("env", Some("prod"))])),
        )
        .await
        .unwrap();
    let same = push("example.com", "u2", "p2").await.unwrap();
    let r = record_of(&same.stored);
    assert_eq!(r.guid(), record_of(&first).guid());
    assert_eq!(r.created_at(), record_of(&first).created_at());
    assert_eq!(same.stored.metadata(), labelled.metadata());
    assert_eq!(same.stored.username().as_str(), "u2");
    let read = stored(s, &app_scope("a"), "example.com").await;
    assert_eq!(read.record(), Some(&r));
    let other = push("other.example.com", "u3", "p3").await.unwrap();
    assert_ne!(record_of(&other.stored).guid(), r.guid());
    assert!(other.stored.metadata().is_empty());
    assert!(s.get_by_guid(r.guid()).await.unwrap().is_none());
}

/// R22, R23: every filter of a [`Query`] alone and together, every order
/// and page boundary, answered as [`Query::page_of`] over every stored
/// credential answers it.
async fn r22_r23_query_answers_as_page_of_every_credential(s: &dyn AsyncCredentialStore) {
    let scopes = [
        Scope::Foundation,
        org("o1"),
        org("o2"),
        space("s1"),
        space("s2"),
        app_scope("a1"),
    ];
    let locations = [
        "example.com",
        "registry.example.com",
        "registry.example.com/team",
        "docker.io",
    ];
    let label = |i: usize| -> MetadataPatch {
        let env = ["prod", "staging", "dev"][i % 3];
        let mut labels = vec![("env", Some(env))];
        if i % 2 == 0 {
            labels.push(("team.example.com/owner", Some("ci")));
        }
        if i % 5 == 0 {
            labels.push(("flag", Some("")));
        }
        MetadataPatch::labels(labels)
    };
    let make = |range: std::ops::Range<usize>| {
        range
            .map(|i| {
                let mut metadata = Metadata::default();
                metadata.merge(&label(i)).unwrap();
                cred(
                    scopes[i % scopes.len()].clone(),
                    locations[(i / scopes.len()) % locations.len()],
                    &format!("u{i}"),
                    "p",
                )
                .with_metadata(metadata)
            })
            .collect::<Vec<_>>()
    };
    // Two seconds of creates, and updates in a third, so that the time
    // filters and orders have ties and differences both.
    s.create_all(make(0..12)).await.unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    s.create_all(make(12..24)).await.unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    for c in s.list(ScopeRef::Foundation).await.unwrap() {
        s.update_by_guid(
            record_of(&c).guid(),
            CredentialUpdate::Username(Username::new("touched").unwrap()),
        )
        .await
        .unwrap();
    }
    let all = s.list_all().await.unwrap();
    assert_eq!(all.len(), 24);
    let first = record_of(&all[0]);
    let created: BTreeSet<u64> = all.iter().map(|c| record_of(c).created_secs()).collect();
    let (early, late) = (*created.first().unwrap(), *created.last().unwrap());
    let at = |secs: u64| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    let selector = |t: &str| t.parse::<Selector>().unwrap();

    let mut queries = vec![
        Query::new(),
        Query::new().guids([first.guid(), Guid::random()]),
        Query::new().guids([]),
        Query::new().scope_kinds([ScopeKind::Org, ScopeKind::App]),
        Query::new().scopes([org("o1"), space("s2"), app_scope("nobody")]),
        Query::new().scopes([Scope::Foundation]),
        Query::new().locations([loc("registry.example.com"), loc("docker.io")]),
        Query::new().selector(selector("env=prod")),
        Query::new().selector(selector("env==staging,team.example.com/owner")),
        Query::new().selector(selector("env!=prod")),
        Query::new().selector(selector("env in (prod,dev)")),
        Query::new().selector(selector("env notin (prod,dev),!flag")),
        Query::new().selector(selector("flag=")),
        Query::new().selector(selector("!team.example.com/owner")),
        Query::new().created(TimeFilter::new().any_of([at(early), at(late + 100)])),
        Query::new().created(TimeFilter::new().after(at(early))),
        Query::new().created(
            TimeFilter::new()
                .at_or_after(at(late))
                .at_or_before(at(late)),
        ),
        Query::new().created(TimeFilter::new().before(at(late))),
        Query::new().updated(TimeFilter::new().after(at(late))),
        Query::new()
            .scope_kinds([ScopeKind::Space, ScopeKind::Foundation])
            .locations([loc("example.com"), loc("registry.example.com/team")])
            .selector(selector("env in (prod,staging)"))
            .created(TimeFilter::new().at_or_after(at(early))),
    ];
    for order in [
        OrderBy::CreatedAt,
        OrderBy::CreatedAtDescending,
        OrderBy::UpdatedAt,
        OrderBy::UpdatedAtDescending,
    ] {
        for (page, per_page) in [
            (1, 1),
            (2, 7),
            (4, 7),
            (5, 7),
            (1, 24),
            (1, 5000),
            (9, 3),
            (30, 1),
        ] {
            queries.push(Query::new().order_by(order).page(page, per_page).unwrap());
        }
        queries.push(
            Query::new()
                .order_by(order)
                .selector(selector("env!=dev"))
                .page(2, 3)
                .unwrap(),
        );
    }
    let guids = |p: &crate::store::Page| -> Vec<Guid> {
        p.resources().iter().map(|c| c.record().guid()).collect()
    };
    for q in &queries {
        let want = q.page_of(all.iter().cloned());
        let got = s.query(q).await.unwrap();
        assert_eq!(got.total_results(), want.total_results(), "{q:?}");
        assert_eq!(guids(&got), guids(&want), "{q:?}");
        // Everything a listing shows, the whole summary, is what a read gives.
        assert_eq!(got.resources(), want.resources(), "{q:?}");
        for c in got.resources() {
            assert!(
                !c.metadata().is_empty(),
                "{q:?}: the page lost a credential's labels"
            );
        }
    }
    // Not vacuous: the filters select different, non-empty sets.
    let totals: BTreeSet<u64> = queries[..20]
        .iter()
        .map(|q| q.page_of(all.iter().cloned()).total_results())
        .collect();
    assert!(totals.len() >= 8, "{totals:?}");
}

/// Who makes the audited writes of the checks, and where.
fn auditor(org: Option<&str>, space: Option<&str>) -> AuditContext {
    let mut context = AuditContext::new(Actor::new("user-guid-1", "alice"));
    if let Some(o) = org {
        context = context.in_organization(OrgId::new(o).unwrap());
    }
    if let Some(sp) = space {
        context = context.in_space(SpaceId::new(sp).unwrap());
    }
    context
}

/// Every event of the store, oldest first.
async fn every_event(s: &dyn AsyncCredentialStore) -> Vec<AuditEvent> {
    let page = s
        .audit_events(&AuditQuery::new().page(1, 5000).unwrap())
        .await
        .unwrap();
    page.into_resources()
}

/// R27: each audited write records, in its step, one event per credential
/// it creates, updates or removes (one for a push), with the actor, the
/// place, the target's GUID, scope and location, and what changed; the
/// store lists them as written, and no event holds a secret.
async fn r27_every_audited_write_records_its_events(s: &dyn AsyncCredentialStore) {
    let ctx = auditor(Some("o1"), Some("s1"));
    let mut metadata = Metadata::default();
    metadata
        .merge(&MetadataPatch::labels([("env", Some("prod"))]))
        .unwrap();
    let created = s
        .audited(
            Write::Create(
                cred(space("s1"), "example.com", "u1", "secret-one").with_metadata(metadata),
            ),
            &ctx,
        )
        .await
        .unwrap();
    let c = Arc::clone(&created.after()[0]);
    let guid = record_of(&c).guid();
    assert_eq!(created.events().len(), 1);
    let e = &created.events()[0];
    assert_eq!(e.event_type(), EventType::Create);
    assert_eq!(e.actor(), &Actor::new("user-guid-1", "alice"));
    assert_eq!(e.context().organization().map(OrgId::as_str), Some("o1"));
    assert_eq!(e.context().space().map(SpaceId::as_str), Some("s1"));
    assert_eq!(e.target().guid(), guid);
    assert_eq!(e.target().scope(), &space("s1"));
    assert_eq!(e.target().location().as_str(), "example.com");
    assert_eq!(
        e.changes().username_after().map(Username::as_str),
        Some("u1")
    );
    assert!(e.changes().is_password_changed() && e.changes().is_metadata_changed());

    let renamed = s
        .audited(
            Write::Update {
                scope: space("s1"),
                location: loc("example.com"),
                update: CredentialUpdate::Username(Username::new("u2").unwrap()),
            },
            &ctx,
        )
        .await
        .unwrap();
    let e = &renamed.events()[0];
    assert_eq!(e.event_type(), EventType::Update);
    assert_eq!(
        e.changes().username_before().map(Username::as_str),
        Some("u1")
    );
    assert_eq!(
        e.changes().username_after().map(Username::as_str),
        Some("u2")
    );
    assert!(!e.changes().is_password_changed() && !e.changes().is_metadata_changed());
    let rotated = s
        .audited(
            Write::UpdateByGuid(
                guid,
                CredentialUpdate::Password(Password::new("secret-two").unwrap()),
            ),
            &ctx,
        )
        .await
        .unwrap();
    assert!(rotated.events()[0].changes().is_password_changed());
    assert_eq!(rotated.events()[0].target().guid(), guid);

    let app = AppId::new("a1").unwrap();
    let push = |location: &str, password: &str| Write::ReplaceAppCredential {
        app: app.clone(),
        location: loc(location),
        credential: Credential::new("pusher", password).unwrap(),
    };
    let first_push = s
        .audited(push("docker.io/library", "secret-three"), &ctx)
        .await
        .unwrap();
    let pushed = record_of(&first_push.after()[0]).guid();
    let second_push = s
        .audited(push("quay.io", "secret-four"), &ctx)
        .await
        .unwrap();
    assert_eq!(second_push.events().len(), 1);
    let e = &second_push.events()[0];
    assert_eq!(e.event_type(), EventType::Push);
    assert_eq!(e.target().location().as_str(), "quay.io");
    assert_eq!(e.changes().replaced_guids(), &[pushed]);
    assert_eq!(e.changes().username_before(), None);

    let batch = s
        .audited(
            Write::CreateAll(vec![
                cred(Scope::Foundation, "a.example.com", "f1", "secret-five"),
                cred(Scope::Foundation, "b.example.com", "f2", "secret-six"),
            ]),
            &auditor(None, None),
        )
        .await
        .unwrap();
    assert_eq!(batch.events().len(), 2);
    let gone = s
        .audited(Write::DeleteScope(Scope::Foundation), &auditor(None, None))
        .await
        .unwrap();
    assert_eq!(gone.before().len(), 2);
    assert_eq!(gone.events().len(), 2);
    assert!(
        gone.events()
            .iter()
            .all(|e| e.event_type() == EventType::Delete)
    );
    let deleted = s.audited(Write::DeleteByGuid(guid), &ctx).await.unwrap();
    let e = &deleted.events()[0];
    assert_eq!(
        (e.event_type(), e.target().guid()),
        (EventType::Delete, guid)
    );
    assert_eq!(
        e.changes().username_before().map(Username::as_str),
        Some("u2")
    );

    let mut expected: Vec<AuditEvent> = [
        &created,
        &renamed,
        &rotated,
        &first_push,
        &second_push,
        &batch,
        &gone,
        &deleted,
    ]
    .iter()
    .flat_map(|w| w.events().iter().cloned())
    .collect();
    let mut stored = every_event(s).await;
    let order = |a: &AuditEvent, b: &AuditEvent| a.guid().cmp(&b.guid());
    stored.sort_by(order);
    expected.sort_by(order);
    assert_eq!(stored, expected, "the store lists the events it returned");
    let text = format!("{stored:?}");
    assert!(!text.contains("secret-"), "an event holds a secret: {text}");
}

/// R27: a write that is refused records nothing, and changes nothing.
async fn r27_a_refused_write_records_nothing(s: &dyn AsyncCredentialStore) {
    let ctx = auditor(Some("o1"), None);
    s.audited(
        Write::Create(cred(org("o1"), "example.com", "u", "p")),
        &ctx,
    )
    .await
    .unwrap();
    let before = s.list_all().await.unwrap();
    let refused = [
        Write::Create(cred(org("o1"), "example.com", "other", "p")),
        Write::CreateAll(vec![
            cred(org("o1"), "new.example.com", "u", "p"),
            cred(org("o1"), "example.com", "u", "p"),
        ]),
        Write::Update {
            scope: org("o1"),
            location: loc("missing.example.com"),
            update: CredentialUpdate::Username(Username::new("x").unwrap()),
        },
        Write::UpdateByGuid(
            record_of(&before[0]).guid(),
            CredentialUpdate::Metadata(MetadataPatch::labels([("cloudfoundry.org/x", Some("y"))])),
        ),
        Write::Delete {
            scope: org("o1"),
            location: loc("missing.example.com"),
        },
        Write::DeleteByGuid(Guid::random()),
    ];
    for write in refused {
        let what = format!("{:?}", write.event_type());
        assert!(s.audited(write, &ctx).await.is_err(), "{what} was refused");
    }
    assert_eq!(every_event(s).await.len(), 1, "only the create is recorded");
    assert_eq!(s.list_all().await.unwrap(), before, "nothing changed");
}

/// R27: the list of events answers as [`AuditQuery::page_of`] over every
/// event: each filter, the order both ways, and page boundaries.
async fn r27_audit_query_answers_as_page_of_every_event(s: &dyn AsyncCredentialStore) {
    let places = [
        (None, None),
        (Some("o1"), None),
        (Some("o1"), Some("s1")),
        (Some("o2"), Some("s2")),
    ];
    let scopes = [Scope::Foundation, org("o1"), space("s1"), space("s2")];
    for round in 0..2 {
        for (i, ((o, sp), scope)) in places.iter().zip(&scopes).enumerate() {
            let ctx = auditor(*o, *sp);
            let location = format!("r{round}-{i}.example.com");
            s.audited(
                Write::Create(cred(scope.clone(), &location, "u", "p")),
                &ctx,
            )
            .await
            .unwrap();
            s.audited(
                Write::Update {
                    scope: scope.clone(),
                    location: loc(&location),
                    update: CredentialUpdate::Username(Username::new("v").unwrap()),
                },
                &ctx,
            )
            .await
            .unwrap();
        }
        s.audited(
            Write::DeleteScope(space("s2")),
            &auditor(Some("o2"), Some("s2")),
        )
        .await
        .unwrap();
        if round == 0 {
            std::thread::sleep(std::time::Duration::from_millis(1100));
        }
    }
    let all = every_event(s).await;
    assert_eq!(all.len(), 18);
    let times: BTreeSet<u64> = all.iter().map(AuditEvent::created_secs).collect();
    let (early, late) = (*times.first().unwrap(), *times.last().unwrap());
    assert!(early < late, "the events span two seconds");
    let at = |secs: u64| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    let target = all[3].target().guid();
    let queries = [
        AuditQuery::new(),
        AuditQuery::new().descending(true),
        AuditQuery::new().types([EventType::Update]),
        AuditQuery::new().types([EventType::Create, EventType::Delete]),
        AuditQuery::new().types([]),
        AuditQuery::new().target_guids([target, Guid::random()]),
        AuditQuery::new().organizations([OrgId::new("o1").unwrap()]),
        AuditQuery::new().spaces([SpaceId::new("s2").unwrap(), SpaceId::new("s9").unwrap()]),
        AuditQuery::new().scopes([Scope::Foundation, space("s1")]),
        AuditQuery::new().scopes([]),
        AuditQuery::new().created(TimeFilter::new().any_of([at(early)])),
        AuditQuery::new().created(TimeFilter::new().after(at(early))),
        AuditQuery::new().created(
            TimeFilter::new()
                .at_or_before(at(late))
                .at_or_after(at(early)),
        ),
        AuditQuery::new().created(TimeFilter::new().before(at(early))),
        AuditQuery::new().page(2, 5).unwrap(),
        AuditQuery::new().descending(true).page(4, 5).unwrap(),
        AuditQuery::new().page(5, 5).unwrap(),
        AuditQuery::new()
            .types([EventType::Create])
            .organizations([OrgId::new("o1").unwrap()])
            .page(1, 1)
            .unwrap(),
    ];
    for query in queries {
        let got = s.audit_events(&query).await.unwrap();
        assert_eq!(got, query.page_of(&all), "{query:?}");
    }
}

#[cfg(test)]
mod split_replacement_is_caught {
    use std::cell::Cell;

    use super::*;
    use crate::scope::ScopeRef;
    use crate::store::{CredentialStore, InlineStore, MemoryStore, block_on_ready};

    /// `replace_app_credential` in three steps, with every pushing thread's
    /// first replacement made to wait for the others between the first
    /// step and the second: the interleaving two pushes that start at the
    /// same moment can have.
    struct SplitReplacement {
        rendezvous: Barrier,
    }

    thread_local! {
        static MET: Cell<bool> = const { Cell::new(false) };
    }

    impl Hooks for SplitReplacement {
        fn replace_app_credential(
            &self,
            inner: &dyn CredentialStore,
            app: &AppId,
            location: Location,
            credential: Credential,
        ) -> Result<AppCredentialReplaced, StoreError> {
            let scope = ScopeRef::App(app);
            let new = RegistryCredential::new(Scope::App(app.clone()), location, credential);
            // Step 1: put (delete, then create, until the create wins).
            let mut replaced = Vec::new();
            let stored = loop {
                if let Ok(old) = inner.delete(scope, new.location()) {
                    replaced.push(old);
                }
                match inner.create(new.clone()) {
                    Ok(stored) => break stored,
                    Err(StoreError::Conflict { .. }) => continue,
                    Err(e) => return Err(e),
                }
            };
            if !MET.with(|m| m.replace(true)) {
                self.rendezvous.wait();
            }
            // Steps 2 and 3: list the app, delete the others.
            for old in inner.list(scope)? {
                if old.location() != stored.location() {
                    replaced.push(inner.delete(scope, old.location())?);
                }
            }
            Ok(AppCredentialReplaced { stored, replaced })
        }
    }

    fn pushes_on(store: &InlineStore<impl CredentialStore>) {
        let exec = |f: BoxFuture<'_, ()>| block_on_ready(f);
        r19_concurrent_pushes_of_one_app_leave_exactly_one(&Instances::new(store, store, &exec));
    }

    #[test]
    fn r19_the_concurrency_case_fails_a_split_replacement() {
        let split = InlineStore(Hooked::new(
            MemoryStore::new(),
            SplitReplacement {
                rendezvous: Barrier::new(PUSH_THREADS),
            },
        ));
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pushes_on(&split)));
        assert!(
            outcome.is_err(),
            "R19: the concurrency case passed a store that replaces in three steps"
        );
        // The same case passes the real, one-step replacement.
        pushes_on(&InlineStore(MemoryStore::new()));
    }
}
