//! Create, update and delete throughput on a `MemoryStore` holding 100
//! thousand credentials (the core's workload), against the plain way to hold them (a std
//! `HashMap` of scopes to a `HashMap` of locations, behind an `RwLock`), in
//! the same run.
//!
//! Run: `cargo bench -p registry-credentials-bench --bench management`. Names are
//! `management/<case>/<impl>`; each iteration is one operation, and the
//! credentials it takes are built outside the timed part.

#![allow(missing_docs, reason = "criterion_group! makes an undocumented pub fn")]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use registry_credentials::credential::CredentialUpdate;
use registry_credentials::scope::ScopeRef;
use registry_credentials::workload::Workload;
use registry_credentials::{
    Credential, CredentialStore, Location, MemoryStore, Password, RegistryCredential, Scope,
    StoreError,
};

/// The peer: what one writes first, with the standard library's maps.
#[derive(Default)]
struct NestedStd(RwLock<HashMap<Scope, HashMap<String, Arc<RegistryCredential>>>>);

/// What the stores hand back.
type Stored = Arc<RegistryCredential>;

/// Either store, behind the three operations measured: what a
/// `CredentialStore` answers (an update or delete of nothing is `None`).
/// An update names the credential it changes by a stored one's key.
trait Manage {
    fn create(&self, c: RegistryCredential) -> Result<Stored, StoreError>;
    fn update(&self, key: &RegistryCredential, u: CredentialUpdate) -> Option<Stored>;
    fn delete(&self, scope: ScopeRef<'_>, location: &Location) -> Option<Stored>;
}

impl Manage for MemoryStore {
    fn create(&self, c: RegistryCredential) -> Result<Stored, StoreError> {
        CredentialStore::create(self, c)
    }
    fn update(&self, key: &RegistryCredential, u: CredentialUpdate) -> Option<Stored> {
        let scope = key.scope().as_scope_ref();
        CredentialStore::update(self, scope, key.location(), u).ok()
    }
    fn delete(&self, scope: ScopeRef<'_>, location: &Location) -> Option<Stored> {
        CredentialStore::delete(self, scope, location).ok()
    }
}

impl Manage for NestedStd {
    fn create(&self, c: RegistryCredential) -> Result<Stored, StoreError> {
        let mut map = self.0.write().unwrap();
        let table = map.entry(c.scope().clone()).or_default();
        if table.contains_key(c.location().as_str()) {
            return Err(StoreError::Conflict {
                scope: c.scope().clone(),
                location: c.location().clone(),
            });
        }
        let stored = Arc::new(c);
        table.insert(stored.location().to_string(), Arc::clone(&stored));
        Ok(stored)
    }

    fn update(&self, key: &RegistryCredential, u: CredentialUpdate) -> Option<Stored> {
        let mut map = self.0.write().unwrap();
        let scope = key.scope().clone();
        let slot = map.get_mut(&scope)?.get_mut(key.location().as_str())?;
        let new = Arc::new(slot.updated(u).ok()?);
        *slot = Arc::clone(&new);
        Some(new)
    }

    fn delete(&self, scope: ScopeRef<'_>, location: &Location) -> Option<Stored> {
        let mut map = self.0.write().unwrap();
        let scope = scope.to_scope();
        let table = map.get_mut(&scope)?;
        let removed = table.remove(location.as_str())?;
        if table.is_empty() {
            map.remove(&scope);
        }
        Some(removed)
    }
}

/// `n` credentials that no workload holds, at space scope, and their keys.
fn fresh(
    workload: &Workload,
    round: u64,
    n: u64,
) -> (Vec<RegistryCredential>, Vec<(Scope, Location)>) {
    let spaces = workload.spaces();
    let creds: Vec<RegistryCredential> = (0..n)
        .map(|k| {
            let space = &spaces[(k as usize * 7919) % spaces.len()];
            RegistryCredential::new(
                Scope::Space(space.clone()),
                Location::parse(&format!("new{round}-{k}.example.org/team")).unwrap(),
                Credential::new("new-user", "new-password").unwrap(),
            )
        })
        .collect();
    let keys = creds
        .iter()
        .map(|c| (c.scope().clone(), c.location().clone()))
        .collect();
    (creds, keys)
}

fn bench_store<S: Manage>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    store: &S,
    workload: &Workload,
    existing: &[Arc<RegistryCredential>],
) {
    let mut round = 0u64;
    g.bench_function(BenchmarkId::new("create", name), |b| {
        b.iter_custom(|iters| {
            round += 1;
            let (creds, keys) = fresh(workload, round, iters);
            let start = Instant::now();
            for c in creds {
                let stored = store.create(black_box(c)).expect("a new location");
                assert_eq!(stored.username().as_str(), "new-user");
            }
            let took = start.elapsed();
            for (scope, loc) in &keys {
                store
                    .delete(scope.as_scope_ref(), loc)
                    .expect("created above");
            }
            took
        })
    });
    let mut next = 0usize;
    g.bench_function(BenchmarkId::new("update", name), |b| {
        b.iter_custom(|iters| {
            let updates: Vec<CredentialUpdate> = (0..iters)
                .map(|_| CredentialUpdate::Password(Password::new("rotated").unwrap()))
                .collect();
            let start = Instant::now();
            for u in updates {
                let c = &existing[next % existing.len()];
                next = next.wrapping_add(7919);
                let new = store.update(black_box(c), u).expect("a stored credential");
                assert_eq!(new.password().expose(), "rotated");
            }
            start.elapsed()
        })
    });
    g.bench_function(BenchmarkId::new("delete", name), |b| {
        b.iter_custom(|iters| {
            round += 1;
            let (creds, keys) = fresh(workload, round, iters);
            for c in creds {
                store.create(c).expect("a new location");
            }
            let start = Instant::now();
            for (scope, loc) in &keys {
                let removed = store
                    .delete(black_box(scope.as_scope_ref()), black_box(loc))
                    .expect("a stored credential");
                assert_eq!(removed.location(), loc);
            }
            start.elapsed()
        })
    });
}

fn management(c: &mut Criterion) {
    let mut g = c.benchmark_group("management");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(2));
    g.warm_up_time(Duration::from_millis(500));
    let workload = Workload::new(100_000);
    let store = registry_credentials_bench::memory_store(&workload);
    let existing = store.list_all().unwrap();
    let peer = NestedStd::default();
    for c in &existing {
        peer.create(RegistryCredential::clone(c)).unwrap();
    }
    bench_store(&mut g, "memory-store", &store, &workload, &existing);
    bench_store(&mut g, "std-nested-hashmap", &peer, &workload, &existing);
    assert_eq!(
        store.len(),
        existing.len(),
        "every bench leaves the store as it was"
    );
    g.finish();
}

criterion_group!(benches, management);
criterion_main!(benches);
