//! Concurrency stress test of `MemoryStore` (R13–R18 under concurrent use;
//! the store contract: "a reader sees the old one or the new one, never
//! one's username with the other's password").
//!
//! Writer threads create, replace, update, delete, get and resolve on one
//! store, each for a fixed number of operations (not for a time: the test
//! does the same amount of work on a slow machine). Reader threads only
//! resolve, get and list. Every credential written has the password
//! `USERNAME-pw`, and its username names its location, so a torn read (one
//! credential's username with another's password) or a credential under
//! the wrong location is detected on every read.
//!
//! Each writer owns some keys, which only it writes: it keeps an exact
//! model of them and checks every result and every read of them against
//! it (nothing cached: a write is seen by the next read, R17). Each writer
//! pushes its own app, so that replacing the app's credential (R19, which
//! removes every other credential of the app) only touches its own keys;
//! at the other scopes a replacement is a delete and a create. All writers
//! also contend on shared keys: each shared key is created exactly once,
//! and ends holding some writer's last acknowledged update. At the end the
//! store must equal what the acknowledged operations imply.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};

use registry_credentials::credential::CredentialUpdate;
use registry_credentials::store::Key;
use registry_credentials::{
    App, Credential, CredentialSource, CredentialStore, Location, MemoryStore, Reference,
    RegistryCredential, Scope, StoreError, resolve,
};

const WRITERS: usize = 4;
const READERS: usize = 2;
const OPS_PER_THREAD: usize = 20_000;
const OWNED_KEYS: usize = 8;
const SHARED_KEYS: usize = 4;

/// xorshift64*: a fixed sequence per thread, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: usize) -> Self {
        Rng(0x9E37_79B9_7F4A_7C15 ^ (seed as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D))
    }
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

/// Writer `t`'s app: every writer's app is in the same space and
/// organization.
fn app(t: usize) -> App {
    App::new("o1", "s1", format!("a{t}")).unwrap()
}

/// Writer `t`'s app's four scopes, in precedence order (R14).
fn scopes(t: usize) -> [Scope; 4] {
    app(t).scopes().map(|s| s.to_scope())
}

fn owned_location(thread: usize, j: usize) -> String {
    format!("t{thread}.example.com/k{j}")
}

fn shared_location(j: usize) -> String {
    format!("shared.example.com/k{j}")
}

/// A credential for `location` whose fields encode their pairing: the
/// username names the location and a generation, the password is the
/// username with `-pw`.
fn credential(location: &str, generation: u64) -> Credential {
    let user = format!("{location}#{generation}");
    let password = format!("{user}-pw");
    Credential::new(user, password).unwrap()
}

/// Checks a credential read from the store: never torn, never under the
/// wrong location. Returns its generation.
fn check_read(c: &RegistryCredential) -> u64 {
    let user = c.username().as_str();
    assert_eq!(
        c.password().expose(),
        format!("{user}-pw"),
        "torn read: a password that is not its username's"
    );
    let (location, generation) = user.rsplit_once('#').expect("a written username");
    assert_eq!(
        location,
        c.location().as_str(),
        "a credential under the wrong location"
    );
    generation.parse().unwrap()
}

#[derive(Default)]
struct Counts {
    ops: AtomicUsize,
    acknowledged_writes: AtomicUsize,
    refused_as_expected: AtomicUsize,
    resolves: AtomicUsize,
    resolves_found: AtomicUsize,
}

impl Counts {
    /// An update or delete of a key the writer owns: when the model holds
    /// it (`held`, the username the store must answer with) the write is
    /// acknowledged; when not, `rule` says it is not found.
    fn settle(
        &self,
        got: Result<std::sync::Arc<RegistryCredential>, StoreError>,
        held: Option<&str>,
        rule: &str,
    ) {
        match held {
            Some(user) => {
                assert_eq!(got.expect("an owned key").username().as_str(), user);
                self.acknowledged_writes.fetch_add(1, Ordering::Relaxed);
            }
            None => {
                assert!(matches!(got, Err(StoreError::NotFound { .. })), "{rule}");
                self.refused_as_expected.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// What one writer leaves behind: its owned keys' model, and its last
/// acknowledged value per shared key.
struct WriterResult {
    owned: BTreeMap<(Scope, String), String>,
    shared_last: HashMap<String, String>,
}

fn writer(
    t: usize,
    store: &MemoryStore,
    counts: &Counts,
    shared_creates: &[AtomicUsize; SHARED_KEYS],
    barrier: &Barrier,
) -> WriterResult {
    // Every writer's app and scopes, for reading the others' keys.
    let apps: Vec<App> = (0..WRITERS).map(app).collect();
    let scopes_of_others: Vec<[Scope; 4]> = (0..WRITERS).map(scopes).collect();
    let scopes = scopes(t);
    let app = app(t);
    let app_scope = Scope::App(app.id().clone());
    let mut rng = Rng::new(t);
    // Generations increase with every write, across all of this thread's
    // keys: a reader never sees a key's generation go back.
    let mut generation = (t as u64) << 40;
    let next_generation = |g: &mut u64| {
        *g += 1;
        *g
    };
    let mut owned: BTreeMap<(Scope, String), String> = BTreeMap::new();
    let mut shared_last = HashMap::new();
    let mut seen: HashMap<(Scope, String), u64> = HashMap::new();
    barrier.wait();

    // Every writer tries to create every shared key: one wins each.
    for (j, creates) in shared_creates.iter().enumerate() {
        let loc = shared_location(j);
        let cred = credential(&loc, next_generation(&mut generation));
        let user = cred.username().as_str().to_owned();
        match store.create(RegistryCredential::new(
            Scope::Foundation,
            loc.parse().unwrap(),
            cred,
        )) {
            Ok(_) => {
                creates.fetch_add(1, Ordering::SeqCst);
                shared_last.insert(loc, user);
                counts.acknowledged_writes.fetch_add(1, Ordering::Relaxed);
            }
            Err(StoreError::Conflict { .. }) => {
                counts.refused_as_expected.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => panic!("create {loc}: {e}"),
        }
    }

    for _ in 0..OPS_PER_THREAD {
        counts.ops.fetch_add(1, Ordering::Relaxed);
        let j = rng.below(OWNED_KEYS);
        let scope_index = rng.below(4);
        let scope = scopes[scope_index].clone();
        let loc = owned_location(t, j);
        let location: Location = loc.parse().unwrap();
        let mkey = (scope.clone(), loc.clone());
        let key = Key::new(scope.as_scope_ref(), &location);
        match rng.below(9) {
            0 => {
                let g = next_generation(&mut generation);
                let cred = credential(&loc, g);
                let user = cred.username().as_str().to_owned();
                let got = store.create(RegistryCredential::new(
                    scope.clone(),
                    location.clone(),
                    cred,
                ));
                if let std::collections::btree_map::Entry::Vacant(slot) = owned.entry(mkey) {
                    assert_eq!(check_read(&got.expect("create")), g);
                    slot.insert(user);
                    counts.acknowledged_writes.fetch_add(1, Ordering::Relaxed);
                } else {
                    assert!(matches!(got, Err(StoreError::Conflict { .. })), "R16");
                    counts.refused_as_expected.fetch_add(1, Ordering::Relaxed);
                }
            }
            1 if scope == app_scope => {
                // R19: the app's one credential, replacing all it held.
                let g = next_generation(&mut generation);
                let cred = credential(&loc, g);
                let user = cred.username().as_str().to_owned();
                let done = store
                    .replace_app_credential(app.id(), location.clone(), cred)
                    .unwrap();
                assert_eq!(check_read(&done.stored), g);
                let replaced: Vec<(String, String)> = done
                    .replaced
                    .iter()
                    .map(|c| {
                        check_read(c);
                        assert_eq!(c.scope(), &app_scope);
                        (
                            c.location().as_str().to_owned(),
                            c.username().as_str().to_owned(),
                        )
                    })
                    .collect();
                // The model: the one at this location first, then the
                // app's others in location order; afterwards only the new.
                let mut want: Vec<(String, String)> = Vec::new();
                if let Some(u) = owned.get(&mkey) {
                    want.push((loc.clone(), u.clone()));
                }
                want.extend(
                    owned
                        .iter()
                        .filter(|((s, l), _)| *s == app_scope && *l != loc)
                        .map(|((_, l), u)| (l.clone(), u.clone())),
                );
                assert_eq!(
                    replaced, want,
                    "replace_app_credential returns the ones replaced"
                );
                owned.retain(|(s, _), _| *s != app_scope);
                owned.insert(mkey, user);
                counts.acknowledged_writes.fetch_add(1, Ordering::Relaxed);
            }
            1 => {
                // Elsewhere a replacement is a delete and a create.
                let cred = credential(&loc, next_generation(&mut generation));
                let user = cred.username().as_str().to_owned();
                let before = match store.delete(scope.as_scope_ref(), &location) {
                    Ok(c) => Some(c.username().as_str().to_owned()),
                    Err(StoreError::NotFound { .. }) => None,
                    Err(e) => panic!("delete {loc}: {e}"),
                };
                store
                    .create(RegistryCredential::new(scope.clone(), location, cred))
                    .expect("create after delete");
                assert_eq!(
                    before,
                    owned.insert(mkey, user),
                    "delete returns the one replaced"
                );
                counts.acknowledged_writes.fetch_add(1, Ordering::Relaxed);
            }
            2 => {
                let cred = credential(&loc, next_generation(&mut generation));
                let user = cred.username().as_str().to_owned();
                let got = store.update(
                    scope.as_scope_ref(),
                    &location,
                    CredentialUpdate::Both(cred),
                );
                let held = owned.get_mut(&mkey);
                counts.settle(got, held.is_some().then_some(user.as_str()), "R17");
                if let Some(v) = held {
                    *v = user;
                }
            }
            3 => {
                let got = store.delete(scope.as_scope_ref(), &location);
                let held = owned.remove(&mkey);
                counts.settle(got, held.as_deref(), "R18");
            }
            4 => {
                // Read-your-writes on an owned key: exactly the model (R17).
                let got = store.get(key).unwrap();
                if let Some(c) = &got {
                    check_read(c);
                }
                assert_eq!(
                    got.map(|c| c.username().as_str().to_owned()).as_ref(),
                    owned.get(&mkey)
                );
            }
            5 => {
                // Resolving an owned image: the model's first hit (R14).
                let image: Reference = format!("{loc}/img").parse().unwrap();
                let got = resolve(store, &app, &image).unwrap();
                counts.resolves.fetch_add(1, Ordering::Relaxed);
                let want = scopes
                    .iter()
                    .find_map(|s| owned.get(&(s.clone(), loc.clone())).map(|u| (s.clone(), u)));
                match (&got, want) {
                    (Some(r), Some((s, u))) => {
                        check_read(r.stored());
                        assert_eq!((r.scope(), r.credential().username().as_str()), (&s, &**u));
                        counts.resolves_found.fetch_add(1, Ordering::Relaxed);
                    }
                    (None, None) => {}
                    (got, want) => panic!("resolve {image}: {got:?}, want {want:?}"),
                }
            }
            6 => {
                // Another writer's key: never torn, never going back.
                // At the same kind of scope: its app's, for the app scope.
                let other = (t + 1 + rng.below(WRITERS - 1)) % WRITERS;
                let oscope = scopes_of_others[other][scope_index].clone();
                let oloc = owned_location(other, j);
                let olocation: Location = oloc.parse().unwrap();
                if let Some(c) = store
                    .get(Key::new(oscope.as_scope_ref(), &olocation))
                    .unwrap()
                {
                    let g = check_read(&c);
                    let last = seen.entry((oscope, oloc)).or_insert(0);
                    assert!(g >= *last, "a reader saw a key's generation go back");
                    *last = g;
                }
                let image: Reference = format!("{}/img", owned_location(other, j)).parse().unwrap();
                counts.resolves.fetch_add(1, Ordering::Relaxed);
                if let Some(r) = resolve(store, &apps[other], &image).unwrap() {
                    check_read(r.stored());
                    counts.resolves_found.fetch_add(1, Ordering::Relaxed);
                }
            }
            _ => {
                // A shared key: contended updates.
                let sloc = shared_location(rng.below(SHARED_KEYS));
                let slocation: Location = sloc.parse().unwrap();
                let cred = credential(&sloc, next_generation(&mut generation));
                let user = cred.username().as_str().to_owned();
                let got = store
                    .update(
                        Scope::Foundation.as_scope_ref(),
                        &slocation,
                        CredentialUpdate::Both(cred),
                    )
                    .expect("a shared key is never deleted");
                assert_eq!(got.username().as_str(), user);
                shared_last.insert(sloc.clone(), user);
                counts.acknowledged_writes.fetch_add(1, Ordering::Relaxed);
                let image: Reference = format!("{sloc}/img").parse().unwrap();
                counts.resolves.fetch_add(1, Ordering::Relaxed);
                let r = resolve(store, &app, &image).unwrap().expect("shared key");
                check_read(r.stored());
                counts.resolves_found.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    WriterResult { owned, shared_last }
}

fn reader(t: usize, store: &MemoryStore, counts: &Counts, barrier: &Barrier) {
    let apps: Vec<App> = (0..WRITERS).map(app).collect();
    let mut rng = Rng::new(100 + t);
    barrier.wait();
    for i in 0..OPS_PER_THREAD {
        counts.ops.fetch_add(1, Ordering::Relaxed);
        // An owned key is resolved as its writer's app, so that its app
        // credentials are found too.
        let (loc, app) = match rng.below(3) {
            0 => (shared_location(rng.below(SHARED_KEYS)), &apps[t % WRITERS]),
            _ => {
                let w = rng.below(WRITERS);
                (owned_location(w, rng.below(OWNED_KEYS)), &apps[w])
            }
        };
        let image: Reference = format!("{loc}/img").parse().unwrap();
        counts.resolves.fetch_add(1, Ordering::Relaxed);
        if let Some(r) = resolve(store, app, &image).unwrap() {
            check_read(r.stored());
            assert_eq!(r.location().as_str(), loc);
            counts.resolves_found.fetch_add(1, Ordering::Relaxed);
        }
        if i % 100 == 0 {
            for c in store.list_all().unwrap() {
                check_read(&c);
            }
        }
    }
}

#[test]
fn r13_r18_concurrent_writers_and_readers_lose_nothing_and_never_tear() {
    let store = MemoryStore::new();
    let counts = Counts::default();
    let shared_creates: [AtomicUsize; SHARED_KEYS] = Default::default();
    let barrier = Barrier::new(WRITERS + READERS);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for t in 0..WRITERS {
            let (store, counts, shared_creates, barrier, results) =
                (&store, &counts, &shared_creates, &barrier, &results);
            s.spawn(move || {
                let r = writer(t, store, counts, shared_creates, barrier);
                results.lock().unwrap().push(r);
            });
        }
        for t in 0..READERS {
            let (store, counts, barrier) = (&store, &counts, &barrier);
            s.spawn(move || reader(t, store, counts, barrier));
        }
    });
    let results = results.into_inner().unwrap();
    assert_eq!(results.len(), WRITERS, "a thread panicked");

    // R16: every shared key was created exactly once.
    for (j, n) in shared_creates.iter().enumerate() {
        assert_eq!(n.load(Ordering::SeqCst), 1, "shared key {j}");
    }

    // The store equals what the acknowledged operations imply.
    let stored: BTreeMap<(Scope, String), String> = store
        .list_all()
        .unwrap()
        .iter()
        .map(|c| {
            check_read(c);
            (
                (c.scope().clone(), c.location().as_str().to_owned()),
                c.username().as_str().to_owned(),
            )
        })
        .collect();
    let mut want_owned = BTreeMap::new();
    for r in &results {
        want_owned.extend(r.owned.clone());
    }
    let stored_owned: BTreeMap<_, _> = stored
        .iter()
        .filter(|((_, loc), _)| !loc.starts_with("shared."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(stored_owned, want_owned, "owned keys: lost or stray writes");
    for j in 0..SHARED_KEYS {
        let loc = shared_location(j);
        let got = &stored[&(Scope::Foundation, loc.clone())];
        // Some writer's last acknowledged write to it (its create or its
        // last update) is what remains.
        let lasts: BTreeSet<&String> = results
            .iter()
            .filter_map(|r| r.shared_last.get(&loc))
            .collect();
        assert!(
            lasts.contains(got),
            "{loc}: {got} is no writer's last write"
        );
    }
    assert_eq!(stored.len(), want_owned.len() + SHARED_KEYS);
    assert_eq!(store.len(), stored.len());

    let ops = counts.ops.load(Ordering::Relaxed);
    assert_eq!(ops, (WRITERS + READERS) * OPS_PER_THREAD);
    let resolves = counts.resolves.load(Ordering::Relaxed);
    let found = counts.resolves_found.load(Ordering::Relaxed);
    assert!(
        found > 0 && found < resolves,
        "both hits and misses were seen"
    );
    // The figures SECURITY.md quotes (`cargo test --test store_concurrency
    // -- --nocapture` prints them).
    println!(
        "threads: {} ({WRITERS} writers, {READERS} readers); operations: {ops}; \
         acknowledged writes: {}; refused as expected: {}; resolves: {resolves} \
         ({found} found a credential); credentials at the end: {}, all accounted for",
        WRITERS + READERS,
        counts.acknowledged_writes.load(Ordering::Relaxed),
        counts.refused_as_expected.load(Ordering::Relaxed),
        stored.len(),
    );
}

/// The check itself catches a torn credential: one username with another's
/// password.
#[test]
#[should_panic(expected = "torn read")]
fn the_pairing_check_catches_a_torn_read() {
    let loc = owned_location(0, 0);
    let a = credential(&loc, 1);
    let b = credential(&loc, 2);
    let torn = Credential::from_parts(a.into_parts().0, b.into_parts().1);
    check_read(&RegistryCredential::new(
        Scope::Foundation,
        loc.parse().unwrap(),
        torn,
    ));
}

/// And one filed under another location.
#[test]
#[should_panic(expected = "wrong location")]
fn the_pairing_check_catches_a_misfiled_credential() {
    let c = credential(&owned_location(0, 0), 1);
    check_read(&RegistryCredential::new(
        Scope::Foundation,
        owned_location(0, 1).parse().unwrap(),
        c,
    ));
}
