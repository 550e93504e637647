//! Heap allocations, counted (not timed, so the count is the same on every
//! machine): parsing a reference, walking its candidates and resolving it
//! allocate nothing in the common cases (R1, R10, R14).
//!
//! This test binary has its own counting global allocator. The count is per
//! thread, so the test harness's other threads do not disturb it; each
//! measured call is made once before it is counted, so one-time set-up
//! (lazy statics, thread-locals) is not counted either.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use registry_credentials::{
    App, Credential, CredentialStore, MemoryStore, Reference, RegistryCredential, Scope, ScopeKind,
    resolve,
};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    // `try_with`: the thread-local may already be gone while a thread exits.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// The one unsafe item of this test: a global allocator must be an
// `unsafe impl`. It forwards every call to the system allocator unchanged.
#[allow(unsafe_code, reason = "a GlobalAlloc is an unsafe trait")]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: as for `alloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// How many heap allocations (and reallocations) `f` makes on this thread,
/// and what it returns. `f` runs once first, uncounted.
fn allocations<R>(mut f: impl FnMut() -> R) -> (usize, R) {
    drop(f());
    let before = ALLOCATIONS.with(Cell::get);
    let r = f();
    (ALLOCATIONS.with(Cell::get) - before, r)
}

const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// The inputs of the parse bench, two whose normal form differs from
/// what was written (case, a port with a leading zero, an alias), and an
/// IPv6 host written in its canonical form, long enough (over 64 bytes)
/// that keeping a second, normalized copy would not fit inline.
fn inputs() -> Vec<String> {
    vec![
        "[2001:db8::1]:5000/platform-team/backend-services/payments/image:1.2.3".into(),
        "nginx".into(),
        "registry.example.com/repo/image:tag".into(),
        format!("registry.example.com/repo/image@sha256:{SHA}"),
        "registry.example.com/one/two/three/four/five/six/seven/image:tag".into(),
        "Registry.Example.com:05000/team/app:1.2".into(),
        "index.docker.io/org/app".into(),
    ]
}

#[test]
fn the_counter_counts() {
    assert_eq!(allocations(|| Box::new(7u64)).0, 1);
    assert_eq!(allocations(|| vec![0u8; 100]).0, 1);
    assert_eq!(allocations(|| 7u64).0, 0);
}

#[test]
fn r1_parse_allocates_nothing() {
    for s in inputs() {
        let (n, r) = allocations(|| Reference::parse(&s).unwrap());
        assert_eq!(n, 0, "{s}");
        assert_eq!(r.as_str(), s);
    }
}

#[test]
fn r1_parse_of_a_long_reference_allocates_once() {
    // Over 128 bytes, the reference's text is kept in one heap block.
    let s = format!("registry.example.com/{}image:tag", "component/".repeat(20));
    assert!(s.len() > 128 && s.len() <= 255);
    let (n, r) = allocations(|| Reference::parse(&s).unwrap());
    assert_eq!(n, 1);
    assert_eq!(r.as_str(), s);
}

#[test]
fn r10_candidates_allocate_nothing() {
    for s in inputs() {
        let r = Reference::parse(&s).unwrap();
        let (n, (count, last)) = allocations(|| {
            let mut count = 0;
            let mut last = "";
            for c in r.candidates() {
                count += 1;
                last = c.as_str();
            }
            (count, last)
        });
        assert_eq!(n, 0, "{s}");
        assert!(count >= 2, "{s}: {count}");
        assert_eq!(last, r.candidates().last().unwrap().as_str());
    }
}

fn store_and_app() -> (MemoryStore, App) {
    let store = MemoryStore::new();
    let app = App::new("org-1", "space-1", "app-1").unwrap();
    let cred = |scope: Scope, loc: &str| {
        RegistryCredential::new(
            scope,
            loc.parse().unwrap(),
            Credential::new(format!("user-{loc}"), "pw").unwrap(),
        )
    };
    store
        .create(cred(
            Scope::App(app.id().clone()),
            "registry.example.com/team",
        ))
        .unwrap();
    store
        .create(cred(
            Scope::Space(app.space().clone()),
            "other.example.org/x",
        ))
        .unwrap();
    store
        .create(cred(Scope::Org(app.org().clone()), "docker.io/myorg"))
        .unwrap();
    store.create(cred(Scope::Foundation, "acme.com")).unwrap();
    (store, app)
}

#[test]
fn r14_resolve_allocates_nothing_on_a_hit_or_a_miss() {
    let (store, app) = store_and_app();
    for (image, expected) in [
        ("registry.example.com/team/image:1", Some(ScopeKind::App)),
        ("registry.acme.com/x/image:1", Some(ScopeKind::Foundation)),
        ("myorg/app", Some(ScopeKind::Org)),
        ("registry.nowhere.io/team/image:1", None),
    ] {
        let reference = Reference::parse(image).unwrap();
        let (n, found) = allocations(|| resolve(&store, &app, &reference).unwrap());
        assert_eq!(n, 0, "{image}");
        assert_eq!(found.map(|r| r.scope_kind()), expected, "{image}");

        // End to end, parsing included.
        let (n, found) =
            allocations(|| resolve(&store, &app, &Reference::parse(image).unwrap()).unwrap());
        assert_eq!(n, 0, "{image}");
        assert_eq!(found.map(|r| r.scope_kind()), expected, "{image}");
    }
}

#[test]
fn r14_resolve_keeps_sixteen_candidates_inline_and_spills_once_past_them() {
    // 7 namespaces, the registry and a parent domain: 9 candidates, which
    // the probing loop keeps on the stack; it lists no keys.
    let (store, app) = store_and_app();
    let image = "registry.example.com/one/two/three/four/five/six/seven/image:tag";
    let reference = Reference::parse(image).unwrap();
    assert_eq!(reference.candidates().count(), 9);
    let (n, found) = allocations(|| resolve(&store, &app, &reference).unwrap());
    assert_eq!(n, 0);
    assert!(found.is_none());
    // 16 namespaces, the registry and a parent domain: 18, past the 16 kept
    // inline, so the candidates spill to the heap once.
    let path: Vec<String> = (0..16).map(|i| format!("n{i}")).collect();
    let image = format!("registry.example.com/{}/image:tag", path.join("/"));
    let reference = Reference::parse(&image).unwrap();
    assert_eq!(reference.candidates().count(), 18);
    let (n, found) = allocations(|| resolve(&store, &app, &reference).unwrap());
    assert_eq!(n, 1);
    assert!(found.is_none());
}
