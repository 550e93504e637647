//! `BlockingPoolStore`: `SqliteStore` served as `Arc<dyn
//! AsyncCredentialStore>` on a current-thread runtime, a store call that
//! waits without holding up the runtime's one thread, and a panicking,
//! cancelled or runtime-less call failing as a `StoreError`.
#![cfg(all(feature = "sqlite", feature = "tokio"))]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use registry_credentials::resolve::{explain_async, resolve_async};
use registry_credentials::store::conformance::{cred, loc};
use registry_credentials::store::{
    AsyncCredentialSource, AsyncCredentialStore, CredentialSource, InlineStore, Key, StoreError,
};
use registry_credentials::{App, Credential, RegistryCredential, Scope, ScopeKind};
use registry_credentials_sql::{
    BlockingError, BlockingPoolStore, EncryptionKey, Keyring, SqliteStore,
};

/// The store conformance suite (R13–R21) over a `SqliteStore` served from
/// the blocking pool, on a runtime of two worker threads that the
/// concurrency checks enter from many threads at once.
mod conformance {
    use std::future::Future;
    use std::sync::LazyLock;

    use registry_credentials_sql::{BlockingPoolStore, SqliteStore};

    static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap()
    });

    fn block_on<F: Future>(f: F) -> F::Output {
        RUNTIME.block_on(f)
    }

    async fn store() -> BlockingPoolStore<SqliteStore> {
        BlockingPoolStore::new(super::store("conformance"))
    }

    /// A second instance over the same file, as a second process has.
    async fn reopen(store: &BlockingPoolStore<SqliteStore>) -> BlockingPoolStore<SqliteStore> {
        let path = store.get_ref().path();
        BlockingPoolStore::new(SqliteStore::open(path, super::keyring()).unwrap())
    }

    registry_credentials::store_conformance!(async);
}

fn keyring() -> Keyring {
    Keyring::new(EncryptionKey::new("test-key", [0x42; 32]).unwrap())
}

fn store(name: &str) -> SqliteStore {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "blocking-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    SqliteStore::open(dir.join("c.db"), keyring()).unwrap()
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

fn app() -> App {
    App::new("o", "s", "a").unwrap()
}

/// The source of a `StoreError::Backend`, as a `BlockingError`.
fn blocking_error(e: &StoreError) -> BlockingError {
    match e {
        StoreError::Backend { source, .. } => *source
            .downcast_ref::<BlockingError>()
            .unwrap_or_else(|| panic!("not a BlockingError: {e:?}")),
        other => panic!("not a backend error: {other:?}"),
    }
}

/// Resolution (R14) and explanation through the trait object on a
/// current-thread runtime, answered by the SQLite file, as the app's
/// push replaces its credential (R19) and deletes take credentials away
/// (R18, R13); the contract of each write and read is the conformance
/// suite's, in `conformance` below.
#[test]
fn r14_r19_sqlite_through_dyn_async_store_on_a_current_thread_runtime() {
    let sqlite = store("dyn");
    let shared: Arc<dyn AsyncCredentialStore> = Arc::new(BlockingPoolStore::new(sqlite.clone()));
    let a = app();
    current_thread().block_on(async {
        shared
            .create(cred(Scope::Foundation, "docker.io", "hub", "hub-pw"))
            .await
            .unwrap();
        shared
            .create(cred(
                Scope::Space(a.space().clone()),
                "docker.io/library",
                "sp",
                "sp-pw",
            ))
            .await
            .unwrap();

        let image = "nginx".parse().unwrap();
        let r = resolve_async(&*shared, &a, &image).await.unwrap().unwrap();
        assert_eq!(r.scope_kind(), ScopeKind::Space);
        assert_eq!(r.credential().password().expose(), "sp-pw");
        let why = explain_async(&*shared, &a, &image).await.unwrap();
        assert_eq!(why.winner().unwrap().candidate(), "docker.io/library");

        let space = Scope::Space(a.space().clone());
        let replaced = shared
            .replace_app_credential(
                a.id(),
                loc("docker.io/library"),
                Credential::new("pushed", "pushed-pw").unwrap(),
            )
            .await
            .unwrap();
        assert!(replaced.replaced.is_empty());
        let r = resolve_async(&*shared, &a, &image).await.unwrap().unwrap();
        assert_eq!(r.scope_kind(), ScopeKind::App);

        assert_eq!(
            shared
                .list(Scope::App(a.id().clone()).as_scope_ref())
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(shared.list_all().await.unwrap().len(), 3);
        shared
            .delete(space.as_scope_ref(), &loc("docker.io/library"))
            .await
            .unwrap();
        let gone = shared
            .delete_scope(Scope::App(a.id().clone()).as_scope_ref())
            .await
            .unwrap();
        assert_eq!(gone.len(), 1);
        let r = resolve_async(&*shared, &a, &image).await.unwrap().unwrap();
        assert_eq!(r.scope_kind(), ScopeKind::Foundation);
    });
    // The writes went to the file: the sync store sees them.
    assert_eq!(
        registry_credentials::CredentialStore::list_all(&sqlite)
            .unwrap()
            .len(),
        1
    );
}

/// A source whose every look-up first sleeps on its thread, as a store
/// waiting on a slow disk does.
#[derive(Clone)]
struct Slow(SqliteStore, Duration);

impl CredentialSource for Slow {
    fn get_many(
        &self,
        keys: &[Key<'_>],
    ) -> Result<Vec<Option<Arc<RegistryCredential>>>, StoreError> {
        std::thread::sleep(self.1);
        self.0.get_many(keys)
    }
}

/// How many times a 5 ms timer task ticks on a current-thread runtime
/// while `resolve_async` waits for `source`.
fn ticks_during_a_resolution(source: Arc<dyn AsyncCredentialSource>) -> usize {
    let ticks = Arc::new(AtomicUsize::new(0));
    current_thread().block_on(async {
        let counter = Arc::clone(&ticks);
        let ticker = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(5)).await;
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
        // Let the ticker start its first sleep.
        tokio::task::yield_now().await;
        let before = ticks.load(Ordering::Relaxed);
        let r = resolve_async(&*source, &app(), &"nginx".parse().unwrap())
            .await
            .unwrap();
        assert_eq!(r.unwrap().credential().username().as_str(), "hub");
        let during = ticks.load(Ordering::Relaxed) - before;
        ticker.abort();
        during
    })
}

#[test]
fn a_blocking_store_call_does_not_stall_other_tasks_on_the_runtime_thread() {
    let sqlite = store("slow");
    registry_credentials::CredentialStore::create(
        &sqlite,
        cred(Scope::Foundation, "docker.io", "hub", "hub-pw"),
    )
    .unwrap();
    let slow = Slow(sqlite, Duration::from_millis(300));
    // On the blocking pool, the timer keeps ticking while the store sleeps.
    let pooled = ticks_during_a_resolution(Arc::new(BlockingPoolStore::new(slow.clone())));
    assert!(pooled >= 5, "the timer ticked {pooled} times in 300 ms");
    // Inline, the store's sleep holds the runtime's only thread: no tick.
    let inline = ticks_during_a_resolution(Arc::new(InlineStore(slow)));
    assert_eq!(inline, 0);
}

/// A source whose look-up panics with what it was given in the message.
#[derive(Clone)]
struct Panics;

impl CredentialSource for Panics {
    fn get_many(&self, _: &[Key<'_>]) -> Result<Vec<Option<Arc<RegistryCredential>>>, StoreError> {
        panic!("store bug holding secret-password")
    }
}

#[test]
fn r28_a_panicking_store_call_is_a_store_error_without_its_message() {
    let source: Arc<dyn AsyncCredentialSource> = Arc::new(BlockingPoolStore::new(Panics));
    let e = current_thread()
        .block_on(resolve_async(&*source, &app(), &"nginx".parse().unwrap()))
        .unwrap_err();
    assert_eq!(blocking_error(&e), BlockingError::Panicked);
    assert!(!e.is_retryable());
    let text = format!("{e} {e:?} {}", BlockingError::Panicked);
    assert!(text.contains("panicked"), "{text}");
    assert!(!text.contains("secret-password"), "{text}");
}

#[test]
fn r28_a_call_cancelled_by_runtime_shutdown_is_a_store_error() {
    let store = BlockingPoolStore::new(store("cancel"));
    let image = "nginx".parse().unwrap();
    let a = app();
    // A call made once the runtime has shut down is cancelled by its
    // blocking pool before it runs.
    let runtime = current_thread();
    let handle = runtime.handle().clone();
    runtime.shutdown_timeout(Duration::from_secs(5));
    let _entered = handle.enter();
    let e = poll_once(std::pin::pin!(resolve_async(&store, &a, &image)))
        .map(|r| r.unwrap_err())
        .expect("the cancelled call answers at once");
    assert_eq!(blocking_error(&e), BlockingError::Cancelled);
    assert!(e.to_string().starts_with("the credential store failed"));
}

#[test]
fn a_call_polled_outside_a_tokio_runtime_is_a_store_error_not_a_panic() {
    let store = BlockingPoolStore::new(store("no-runtime"));
    let a = app();
    let image = "nginx".parse().unwrap();
    let e = poll_once(std::pin::pin!(resolve_async(&store, &a, &image)))
        .map(|r| r.unwrap_err())
        .expect("answered at once");
    assert_eq!(blocking_error(&e), BlockingError::NoRuntime);
}

/// One poll of `f` with a waker that does nothing: its output, or `None`
/// while it is pending.
fn poll_once<F: std::future::Future>(f: std::pin::Pin<&mut F>) -> Option<F::Output> {
    use std::task::{Context, Wake, Waker};
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    let waker = Waker::from(Arc::new(Noop));
    match f.poll(&mut Context::from_waker(&waker)) {
        std::task::Poll::Ready(v) => Some(v),
        std::task::Poll::Pending => None,
    }
}
