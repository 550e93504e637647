//! The in-memory store, the embedded default.

use std::cell::Cell;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::SystemTime;

use foldhash::SharedSeed;
use foldhash::fast::SeedableRandomState;
use hashbrown::{HashMap, HashTable};

use super::audit::{self, AuditContext, AuditEvent, AuditQuery, Write, Written};
use super::{
    AppCredentialReplaced, CredentialSource, CredentialStore, InlineStore, Key, Page, Query,
    StoreError, block_on_ready,
};
use crate::credential::{Credential, CredentialUpdate, RegistryCredential};
use crate::identity::{Guid, Record};
use crate::location::Location;
use crate::resolve::{Clock, Plan, Prober, Resolution};
use crate::scope::{AppId, Scope, ScopeRef};

mod filter;

use filter::{LocationFilter, Presence, kind_mask};

/// Credentials in memory, indexed by scope and location together, so a
/// look-up costs the same with ten credentials or ten million.
///
/// Clones share one store (an `Arc<RwLock<…>>` inside), as the clones of an
/// `Arc` do: hand a clone to each thread or task. Reads run in parallel;
/// a write holds the lock for one change. Stored credentials are `Arc`s, so
/// a look-up copies no strings and a replaced credential is swapped whole.
/// Every answer arrives: it never returns
/// [`StoreError::OutcomeUnknown`](crate::store::StoreError::OutcomeUnknown).
/// Writes are stamped with [`SystemTime::now`] (R22), or with the clock
/// given to [`with_clock`](Self::with_clock).
///
/// ```
/// use registry_credentials::*;
///
/// let store = MemoryStore::new();
/// store.create(RegistryCredential::new(
///     Scope::Foundation,
///     "docker.io".parse()?,
///     Credential::new("hub-user", "hub-password")?,
/// ))?;
/// let app = App::new("org", "space", "app")?;
/// let found = resolve(&store, &app, &"nginx".parse()?)?.expect("a credential");
/// assert_eq!(found.credential().username().as_str(), "hub-user");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<RwLock<Inner>>,
    now: Arc<dyn Fn() -> SystemTime + Send + Sync>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::with_clock(SystemTime::now)
    }
}

/// Two indexes over the same `Arc`s and a filter beside them, changed
/// together under the write lock:
///
/// - `all`, one table keyed by (scope, location), is what look-ups probe.
///   A key that holds nothing costs one probe, usually one cache line, and
///   the probes of a resolution do not depend on each other, so the
///   processor overlaps their cache misses. (A table per scope would make
///   every probe wait for the scope's own look-up first.)
/// - `scopes`, a table per scope keyed by location, is what listings read,
///   so listing one scope does not scan the whole store.
/// - `locations`, which scope kinds may hold each location
///   ([`LocationFilter`]): a resolution reads it once per candidate, and
///   probes `all` only for the scope kinds that may hold the candidate. A
///   candidate nobody stored costs a read of the line its reference's
///   group shares with all of its candidates, instead of one probe per
///   scope.
/// - `guids`, a table keyed by GUID, for the calls by GUID (R22).
/// - `events`, the audit events, in the order written (R27).
struct Inner {
    hasher: KeyHasher,
    all: HashTable<Arc<RegistryCredential>>,
    scopes: HashMap<Scope, HashTable<Arc<RegistryCredential>>>,
    locations: LocationFilter,
    guids: HashTable<Arc<RegistryCredential>>,
    events: Vec<AuditEvent>,
}

impl Default for Inner {
    fn default() -> Self {
        Inner::with_hasher(KeyHasher::default())
    }
}

/// The hashes of one key: its location's (for the per-scope tables) and the
/// key's (for `all`).
#[derive(Clone, Copy)]
struct Hashes {
    location: u64,
    key: u64,
}

/// The hashes of keys, the same for every table of one store: a
/// resolution hashes each scope and each candidate once, and each key from
/// those two in a few instructions. Seeded at random, unless the store was
/// made by [`MemoryStore::with_hash_seed`].
#[derive(Default)]
struct KeyHasher(SeedableRandomState);

impl KeyHasher {
    /// The hasher of `seed` and foldhash's fixed shared seed.
    fn seeded(seed: u64) -> Self {
        KeyHasher(SeedableRandomState::with_seed(
            seed,
            SharedSeed::global_fixed(),
        ))
    }

    /// A location's hash: its bytes, one write.
    fn location(&self, location: &str) -> u64 {
        let mut h = self.0.build_hasher();
        h.write(location.as_bytes());
        h.finish()
    }

    /// A scope's hash: its id's bytes and its kind, so that scopes of
    /// different kinds with the same id hash apart.
    fn scope(&self, scope: ScopeRef<'_>) -> u64 {
        let mut h = self.0.build_hasher();
        h.write(scope.id().unwrap_or("").as_bytes());
        h.write_u8(scope.kind() as u8);
        h.finish()
    }

    /// A key's hash from its scope's and its location's: a folded
    /// multiply, foldhash's own mixing step.
    fn combine(scope: u64, location: u64) -> u64 {
        let product = u128::from(scope ^ 0x243f_6a88_85a3_08d3) * u128::from(location);
        (product as u64) ^ ((product >> 64) as u64)
    }

    fn hashes(&self, scope: ScopeRef<'_>, location: &str) -> Hashes {
        let l = self.location(location);
        Hashes {
            location: l,
            key: Self::combine(self.scope(scope), l),
        }
    }

    /// The key hash of a stored credential, for a table that grows.
    fn key_of(&self, c: &RegistryCredential) -> u64 {
        self.hashes(c.scope().as_scope_ref(), c.location().as_str())
            .key
    }

    /// The seed of the location filter's group hash.
    fn group_seed(&self) -> u64 {
        self.location("")
    }

    /// A GUID's hash.
    fn guid(&self, guid: Guid) -> u64 {
        let mut h = self.0.build_hasher();
        h.write(guid.as_bytes());
        h.finish()
    }

    /// The GUID hash of a stored credential.
    fn guid_of(&self, c: &RegistryCredential) -> u64 {
        self.guid(guid_of(c))
    }
}

/// The GUID of a credential this store holds: every one has a record.
fn guid_of(c: &RegistryCredential) -> Guid {
    c.record()
        .expect("every credential of a MemoryStore carries its record")
        .guid()
}

/// The filter's counts of a stored credential, whose location's hash is
/// `location`: in the group of its location's registry, at its scope's
/// kind.
impl LocationFilter {
    fn add_stored(&mut self, c: &RegistryCredential, location: u64) {
        let group = self.group(c.location().registry().as_bytes());
        self.add(group, location, c.scope().kind());
    }

    fn remove_stored(&mut self, c: &RegistryCredential, location: u64) {
        let group = self.group(c.location().registry().as_bytes());
        self.remove(group, location, c.scope().kind());
    }
}

impl Inner {
    /// Empty tables over `hasher`.
    fn with_hasher(hasher: KeyHasher) -> Self {
        Inner {
            locations: LocationFilter::new(1, hasher.group_seed()),
            hasher,
            all: HashTable::new(),
            scopes: HashMap::new(),
            guids: HashTable::new(),
            events: Vec::new(),
        }
    }

    fn hashes(&self, scope: ScopeRef<'_>, location: &str) -> Hashes {
        self.hasher.hashes(scope, location)
    }

    fn find(&self, hash: u64, key: Key<'_>) -> Option<&Arc<RegistryCredential>> {
        self.all.find(hash, |c| is_key(c, key))
    }

    fn find_key(&self, key: Key<'_>) -> Option<&Arc<RegistryCredential>> {
        self.find(self.hashes(key.scope, key.location).key, key)
    }

    /// Replaces the credential at `key` in both indexes; false when there
    /// is none.
    fn replace(&mut self, h: Hashes, key: Key<'_>, new: &Arc<RegistryCredential>) -> bool {
        let Some(slot) = self.all.find_mut(h.key, |c| is_key(c, key)) else {
            return false;
        };
        let old = std::mem::replace(slot, Arc::clone(new));
        self.remove_guid(&old);
        self.insert_guid(new);
        if let Some(slot) = self
            .scopes
            .get_mut(&key.scope)
            .and_then(|t| t.find_mut(h.location, |c| c.location().as_str() == key.location))
        {
            *slot = Arc::clone(new);
        }
        true
    }

    /// Removes the credential at `key` from both indexes.
    fn remove(&mut self, key: Key<'_>) -> Option<Arc<RegistryCredential>> {
        let h = self.hashes(key.scope, key.location);
        let (removed, _) = self
            .all
            .find_entry(h.key, |c| is_key(c, key))
            .ok()?
            .remove();
        self.remove_guid(&removed);
        self.locations.remove_stored(&removed, h.location);
        if let Some(table) = self.scopes.get_mut(&key.scope) {
            if let Ok(entry) =
                table.find_entry(h.location, |c| c.location().as_str() == key.location)
            {
                entry.remove();
            }
            if table.is_empty() {
                self.scopes.remove(&key.scope);
            }
        }
        Some(removed)
    }

    /// Removes every credential at `scope` from both indexes; returns them
    /// ordered by location.
    fn take_scope(&mut self, scope: ScopeRef<'_>) -> Vec<Arc<RegistryCredential>> {
        let Some(table) = self.scopes.remove(&scope) else {
            return Vec::new();
        };
        let mut taken: Vec<_> = table.into_iter().collect();
        taken.sort_unstable_by(|a, b| a.location().cmp(b.location()));
        for c in &taken {
            let h = self.hashes(scope, c.location().as_str());
            if let Ok(entry) = self.all.find_entry(h.key, |x| Arc::ptr_eq(x, c)) {
                entry.remove();
                self.locations.remove_stored(c, h.location);
            }
            self.remove_guid(c);
        }
        taken
    }

    /// Adds a credential whose key holds nothing, to both indexes.
    fn insert_new(&mut self, h: Hashes, stored: Arc<RegistryCredential>) {
        let hasher = &self.hasher;
        self.scopes
            .entry_ref(&stored.scope().as_scope_ref())
            .or_default()
            .insert_unique(h.location, Arc::clone(&stored), |c| {
                hasher.location(c.location().as_str())
            });
        self.locations.add_stored(&stored, h.location);
        self.insert_guid(&stored);
        let hasher = &self.hasher;
        self.all.insert_unique(h.key, stored, |c| hasher.key_of(c));
        if self.locations.is_crowded() {
            self.locations = self.filter_of(2 * self.locations.buckets());
        }
    }

    /// A location filter of `buckets` buckets over every stored credential.
    fn filter_of(&self, buckets: usize) -> LocationFilter {
        let mut filter = LocationFilter::new(buckets, self.hasher.group_seed());
        for c in &self.all {
            filter.add_stored(c, self.hasher.location(c.location().as_str()));
        }
        filter
    }

    fn find_guid(&self, guid: Guid) -> Option<&Arc<RegistryCredential>> {
        self.guids
            .find(self.hasher.guid(guid), |c| guid_of(c) == guid)
    }

    fn insert_guid(&mut self, stored: &Arc<RegistryCredential>) {
        let hasher = &self.hasher;
        self.guids
            .insert_unique(hasher.guid_of(stored), Arc::clone(stored), |c| {
                hasher.guid_of(c)
            });
    }

    fn remove_guid(&mut self, stored: &RegistryCredential) {
        let guid = guid_of(stored);
        if let Ok(entry) = self
            .guids
            .find_entry(self.hasher.guid(guid), |c| guid_of(c) == guid)
        {
            entry.remove();
        }
    }

    /// A fresh record at `now`, with a GUID no stored credential has.
    fn fresh_record(&self, now: SystemTime) -> Record {
        loop {
            let record = Record::fresh(now);
            if self.find_guid(record.guid()).is_none() {
                return record;
            }
        }
    }
}

/// Whether `c` is stored at `key`: the same location, and a scope of the
/// same kind with the same id.
fn is_key(c: &RegistryCredential, key: Key<'_>) -> bool {
    let scope = c.scope().as_scope_ref();
    same_text(c.location().as_str(), key.location)
        && scope.kind() == key.scope.kind()
        && same_text(scope.id().unwrap_or(""), key.scope.id().unwrap_or(""))
}

/// `a == b`, with texts of 8 to 16 bytes (most locations and ids) compared
/// as two overlapping words instead of by a call of `memcmp`.
#[inline(always)]
fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    if !(8..=16).contains(&a.len()) {
        return a == b;
    }
    let word = |w: Option<&[u8; 8]>| w.map(|w| u64::from_ne_bytes(*w));
    word(a.first_chunk()) == word(b.first_chunk()) && word(a.last_chunk()) == word(b.last_chunk())
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store that stamps its writes with the time `now` gives
    /// (R22): a test's clock, say.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use registry_credentials::{Credential, CredentialStore, MemoryStore, RegistryCredential, Scope};
    /// let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    /// let store = MemoryStore::with_clock(move || at);
    /// let c = store.create(RegistryCredential::new(Scope::Foundation, "example.com".parse()?, Credential::new("u", "p")?))?;
    /// assert_eq!(c.record().unwrap().created_at(), at);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_clock(now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        MemoryStore {
            inner: Arc::default(),
            now: Arc::new(now),
        }
    }

    /// An empty store whose tables hash keys with `seed` instead of a
    /// random seed: the same seed and the same writes lay its tables out
    /// the same in every process, so a benchmark's instruction counts
    /// repeat from one machine to the next. Its answers are those of any
    /// other store; only the cost of a look-up may differ.
    ///
    /// A store holding locations written by untrusted users should keep
    /// the random seed of [`new`](Self::new): one who knows the seed can
    /// choose locations that collide.
    ///
    /// ```
    /// use registry_credentials::{Credential, CredentialStore, MemoryStore, RegistryCredential, Scope};
    /// let store = MemoryStore::with_hash_seed(7);
    /// store.create(RegistryCredential::new(Scope::Foundation, "example.com".parse()?, Credential::new("u", "p")?))?;
    /// assert_eq!(store.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_hash_seed(seed: u64) -> Self {
        let store = MemoryStore::new();
        *store.write() = Inner::with_hasher(KeyHasher::seeded(seed));
        store
    }

    /// How many credentials it holds.
    pub fn len(&self) -> usize {
        self.read().all.len()
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    // A panic while the lock is held cannot leave a half-made change: no
    // code that can panic runs between the two index updates of a write.
    // So a poisoned lock is still sound.
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.read();
        f.debug_struct("MemoryStore")
            .field("credentials", &inner.all.len())
            .field("scopes", &inner.scopes.len())
            .finish()
    }
}

/// A resolution's probes of a store's key table: each scope and each
/// candidate hashed once, each key's hash made from the two; a key is
/// probed only when the [`LocationFilter`] says that its scope's kind may
/// hold its location.
///
/// One key is probed without the filter: the first, when the reference's
/// group's bucket is closed (Docker Hub's, say). There the filter
/// holds the candidate in a bucket of its own, a cache line and about the
/// instructions of the probe it could spare, and the first key (the app's
/// own, at the most specific candidate) is where a pushed app's credential
/// is (R19). The candidate's kinds are read when a later scope asks.
struct Probe<'i> {
    inner: &'i Inner,
    /// The filter's bucket of the reference's group.
    group: usize,
    /// Whether that bucket is closed.
    closed: bool,
    /// Whether the next key is probed without the filter.
    unfiltered: bool,
}

/// A candidate's kinds not read from the filter yet.
const UNREAD: u64 = u64::MAX;

impl Probe<'_> {
    /// The filter's kinds of the candidate of hash `location`.
    #[inline]
    fn kinds(&self, location: u64) -> u64 {
        u64::from(
            self.inner
                .locations
                .kinds(self.group, self.closed, location),
        )
    }

    /// [`kinds`](Self::kinds), kept in `kinds` for the candidate's later
    /// keys: out of line, so that the look-up is inlined in one place.
    #[inline(never)]
    fn read_kinds(&self, location: u64, kinds: &Cell<u64>) -> u64 {
        let read = self.kinds(location);
        kinds.set(read);
        read
    }
}

impl<'a> Prober<'a> for Probe<'_> {
    /// The scope's kind in a filter answer, and its hash once a key needs
    /// it.
    type Scope = (u32, Option<u64>);
    /// The location's hash, and the kinds that may hold it once read.
    type Location = (u64, Cell<u64>);

    /// Reads the summary of the reference's group, which stays in cache:
    /// false when the group holds no location, so no candidate is stored.
    #[inline]
    fn registry(&mut self, registry: &'a str) -> bool {
        let filter = &self.inner.locations;
        let group = filter.group(registry.as_bytes());
        self.group = group.bucket;
        match filter.presence(group) {
            Presence::Absent => false,
            Presence::Open => true,
            Presence::Closed => {
                self.closed = true;
                self.unfiltered = true;
                true
            }
        }
    }

    fn scope(&mut self, scope: ScopeRef<'a>) -> (u32, Option<u64>) {
        (kind_mask(scope.kind()), None)
    }

    #[inline]
    fn location(&mut self, location: &'a str) -> (u64, Cell<u64>) {
        let hash = self.inner.hasher.location(location);
        let kinds = if self.unfiltered {
            UNREAD
        } else {
            self.kinds(hash)
        };
        (hash, Cell::new(kinds))
    }

    #[inline]
    fn probe(
        &mut self,
        key: Key<'a>,
        (kind, scope): &mut (u32, Option<u64>),
        (location, kinds): &(u64, Cell<u64>),
    ) -> Option<Arc<RegistryCredential>> {
        let mut may = kinds.get();
        if may == UNREAD {
            if self.unfiltered {
                self.unfiltered = false;
            } else {
                may = self.read_kinds(*location, kinds);
            }
        }
        if may & u64::from(*kind) == 0 {
            return None;
        }
        let inner = self.inner;
        let scope = *scope.get_or_insert_with(|| inner.hasher.scope(key.scope));
        inner
            .find(KeyHasher::combine(scope, *location), key)
            .cloned()
    }
}

impl CredentialSource for MemoryStore {
    fn get(&self, key: Key<'_>) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
        Ok(self.read().find_key(key).cloned())
    }

    fn get_many(
        &self,
        keys: &[Key<'_>],
    ) -> Result<Vec<Option<Arc<RegistryCredential>>>, StoreError> {
        let inner = self.read();
        Ok(keys.iter().map(|k| inner.find_key(*k).cloned()).collect())
    }

    /// One read lock for the whole plan, one probe of one table per key,
    /// up to the first hit, and no allocation.
    fn first_match(
        &self,
        keys: &[Key<'_>],
    ) -> Result<Option<(usize, Arc<RegistryCredential>)>, StoreError> {
        let inner = self.read();
        Ok(keys
            .iter()
            .enumerate()
            .find_map(|(i, k)| inner.find_key(*k).map(|c| (i, Arc::clone(c)))))
    }

    /// One read lock, and [`Plan::first_probed`] over one probe of one
    /// table per key: keys are made up to the winner and no further, each
    /// scope and each candidate hashed once, and nothing allocated.
    fn resolve_plan(
        &self,
        plan: &Plan<'_>,
        clock: &mut Clock,
    ) -> Result<Option<Resolution>, StoreError> {
        let inner = self.read();
        let mut probe = Probe {
            inner: &inner,
            group: 0,
            closed: false,
            unfiltered: false,
        };
        Ok(plan.first_probed(&mut probe, clock))
    }
}

/// The writes, on the tables under the write lock, stamped `now`: one
/// implementation for [`MemoryStore`]'s calls (each under a lock of its
/// own) and for [`Locked`] (one lock for a whole audited write).
impl Inner {
    /// `old` with `update` applied, stamped `now`.
    fn updated(
        old: &RegistryCredential,
        update: CredentialUpdate,
        now: SystemTime,
    ) -> Result<RegistryCredential, StoreError> {
        let record = old.record().expect("stored").touched(now);
        Ok(old.updated(update)?.with_record(record))
    }

    fn create(
        &mut self,
        credential: RegistryCredential,
        now: SystemTime,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        let key = Key::of(&credential);
        let h = self.hashes(key.scope, key.location);
        if self.find(h.key, key).is_some() {
            return Err(StoreError::Conflict {
                scope: credential.scope().clone(),
                location: credential.location().clone(),
            });
        }
        let record = self.fresh_record(now);
        let stored = Arc::new(credential.with_record(record));
        self.insert_new(h, Arc::clone(&stored));
        Ok(stored)
    }

    /// Every key is checked before anything is inserted, so a refusal
    /// leaves the tables as they were.
    fn create_all(
        &mut self,
        credentials: Vec<RegistryCredential>,
        now: SystemTime,
    ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        let mut hashes = Vec::with_capacity(credentials.len());
        {
            let mut batch = hashbrown::HashSet::with_capacity(credentials.len());
            for credential in &credentials {
                let key = Key::of(credential);
                let h = self.hashes(key.scope, key.location);
                if self.find(h.key, key).is_some() || !batch.insert(key) {
                    return Err(StoreError::Conflict {
                        scope: credential.scope().clone(),
                        location: credential.location().clone(),
                    });
                }
                hashes.push(h);
            }
        }
        Ok(credentials
            .into_iter()
            .zip(hashes)
            .map(|(credential, h)| {
                let record = self.fresh_record(now);
                let stored = Arc::new(credential.with_record(record));
                self.insert_new(h, Arc::clone(&stored));
                stored
            })
            .collect())
    }

    fn update(
        &mut self,
        scope: ScopeRef<'_>,
        location: &Location,
        update: CredentialUpdate,
        now: SystemTime,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        let key = Key::new(scope, location);
        let h = self.hashes(key.scope, key.location);
        let old = self
            .find(h.key, key)
            .ok_or_else(|| StoreError::not_found(scope, location))?;
        let new = Arc::new(Inner::updated(old, update, now)?);
        self.replace(h, key, &new);
        Ok(new)
    }

    fn update_by_guid(
        &mut self,
        guid: Guid,
        update: CredentialUpdate,
        now: SystemTime,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        let old = self
            .find_guid(guid)
            .ok_or(StoreError::GuidNotFound { guid })?;
        let new = Arc::new(Inner::updated(old, update, now)?);
        let key = Key::of(&new);
        let h = self.hashes(key.scope, key.location);
        self.replace(h, key, &new);
        Ok(new)
    }

    fn delete_by_guid(&mut self, guid: Guid) -> Result<Arc<RegistryCredential>, StoreError> {
        let old = Arc::clone(
            self.find_guid(guid)
                .ok_or(StoreError::GuidNotFound { guid })?,
        );
        Ok(self
            .remove(Key::of(&old))
            .expect("the GUID's credential is in every index"))
    }

    fn delete(
        &mut self,
        scope: ScopeRef<'_>,
        location: &Location,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        self.remove(Key::new(scope, location))
            .ok_or_else(|| StoreError::not_found(scope, location))
    }

    /// Readers see the app's old credentials or its new one, and two
    /// replacements never interleave: the lock is held for all of it.
    fn replace_app_credential(
        &mut self,
        app: &AppId,
        location: Location,
        credential: Credential,
        now: SystemTime,
    ) -> Result<AppCredentialReplaced, StoreError> {
        let new = RegistryCredential::new(Scope::App(app.clone()), location, credential);
        let mut replaced = self.take_scope(ScopeRef::App(app));
        // The one at the same location first, as the contract says; the
        // new one is that one updated (R22).
        let same = replaced
            .iter()
            .position(|c| c.location() == new.location())
            .map(|i| replaced.remove(i));
        let stored = Arc::new(match &same {
            Some(same) => {
                let record = same.record().expect("stored").touched(now);
                new.with_metadata(same.metadata().clone())
                    .with_record(record)
            }
            None => new.with_record(self.fresh_record(now)),
        });
        if let Some(same) = same {
            replaced.insert(0, same);
        }
        let key = Key::of(&stored);
        let h = self.hashes(key.scope, key.location);
        self.insert_new(h, Arc::clone(&stored));
        Ok(AppCredentialReplaced { stored, replaced })
    }

    fn delete_scope(
        &mut self,
        scope: ScopeRef<'_>,
    ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        Ok(self.take_scope(scope))
    }

    fn list(&self, scope: ScopeRef<'_>) -> Vec<Arc<RegistryCredential>> {
        let mut v: Vec<_> = self
            .scopes
            .get(&scope)
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default();
        v.sort_unstable_by(|a, b| a.location().cmp(b.location()));
        v
    }

    fn list_all(&self) -> Vec<Arc<RegistryCredential>> {
        let mut v: Vec<_> = self.all.iter().cloned().collect();
        v.sort_unstable_by(|a, b| (a.scope(), a.location()).cmp(&(b.scope(), b.location())));
        v
    }
}

/// Where the store's calls run: [`MemoryStore`] takes its lock for each
/// call; [`Locked`] holds the write lock for all the calls of one audited
/// write, so that its change and its events are seen together.
trait Session {
    /// The time a write is stamped with.
    fn now(&self) -> SystemTime;

    /// `f` on the tables, read.
    fn reading<T>(&self, f: impl FnOnce(&Inner) -> T) -> T;

    /// `f` on the tables, written.
    fn writing<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T;
}

impl Session for MemoryStore {
    fn now(&self) -> SystemTime {
        (self.now)()
    }

    fn reading<T>(&self, f: impl FnOnce(&Inner) -> T) -> T {
        f(&MemoryStore::read(self))
    }

    fn writing<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut MemoryStore::write(self))
    }
}

/// The store's tables under one write lock, for one audited write: the
/// lock is taken once, so no reader sees the change before its events.
struct Locked<'a> {
    inner: std::sync::Mutex<&'a mut Inner>,
    now: SystemTime,
}

impl Session for Locked<'_> {
    fn now(&self) -> SystemTime {
        self.now
    }

    fn reading<T>(&self, f: impl FnOnce(&Inner) -> T) -> T {
        f(&self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn writing<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl CredentialSource for Locked<'_> {
    fn get_many(
        &self,
        keys: &[Key<'_>],
    ) -> Result<Vec<Option<Arc<RegistryCredential>>>, StoreError> {
        Ok(self.reading(|inner| keys.iter().map(|k| inner.find_key(*k).cloned()).collect()))
    }
}

impl MemoryStore {
    /// `write` made on the tables under one lock, and its events kept
    /// under the same lock (R27).
    fn audited_write(&self, write: Write, context: &AuditContext) -> Result<Written, StoreError> {
        let mut inner = MemoryStore::write(self);
        Locked {
            inner: std::sync::Mutex::new(&mut inner),
            now: (self.now)(),
        }
        .audited_write(write, context)
    }
}

impl Locked<'_> {
    /// `write` made through the locked tables' own calls, and its events
    /// kept in them, all under the one lock held (R27).
    fn audited_write(&self, write: Write, context: &AuditContext) -> Result<Written, StoreError> {
        let change = block_on_ready(audit::apply(&InlineStore(self), write))?;
        let events = change.events(context, self.now);
        self.writing(|i| i.events.extend(events.iter().cloned()));
        Ok(Written::new(change, events))
    }
}

/// `CredentialStore` for a [`Session`]: one implementation, for
/// [`MemoryStore`] and [`Locked`] alike.
macro_rules! store_on_session {
    ($($ty:ty),*) => {$(
        impl CredentialStore for $ty {
            fn create(
                &self,
                credential: RegistryCredential,
            ) -> Result<Arc<RegistryCredential>, StoreError> {
                let now = self.now();
                self.writing(|i| i.create(credential, now))
            }

            /// One write lock for the whole batch: a refusal leaves the
            /// store as it was, and a reader sees the batch whole or not
            /// at all.
            fn create_all(
                &self,
                credentials: Vec<RegistryCredential>,
            ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
                let now = self.now();
                self.writing(|i| i.create_all(credentials, now))
            }

            fn update(
                &self,
                scope: ScopeRef<'_>,
                location: &Location,
                update: CredentialUpdate,
            ) -> Result<Arc<RegistryCredential>, StoreError> {
                let now = self.now();
                self.writing(|i| i.update(scope, location, update, now))
            }

            fn get_by_guid(&self, guid: Guid) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
                Ok(self.reading(|i| i.find_guid(guid).cloned()))
            }

            fn update_by_guid(
                &self,
                guid: Guid,
                update: CredentialUpdate,
            ) -> Result<Arc<RegistryCredential>, StoreError> {
                let now = self.now();
                self.writing(|i| i.update_by_guid(guid, update, now))
            }

            fn delete_by_guid(&self, guid: Guid) -> Result<Arc<RegistryCredential>, StoreError> {
                self.writing(|i| i.delete_by_guid(guid))
            }

            /// Every credential read under one read lock, then
            /// [`Query::page_of`].
            fn query(&self, query: &Query) -> Result<Page, StoreError> {
                Ok(self.reading(|i| query.page_of(i.all.iter().cloned())))
            }

            fn delete(
                &self,
                scope: ScopeRef<'_>,
                location: &Location,
            ) -> Result<Arc<RegistryCredential>, StoreError> {
                self.writing(|i| i.delete(scope, location))
            }

            /// One write lock for the whole replacement.
            fn replace_app_credential(
                &self,
                app: &AppId,
                location: Location,
                credential: Credential,
            ) -> Result<AppCredentialReplaced, StoreError> {
                let now = self.now();
                self.writing(|i| i.replace_app_credential(app, location, credential, now))
            }

            fn delete_scope(
                &self,
                scope: ScopeRef<'_>,
            ) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
                self.writing(|i| i.delete_scope(scope))
            }

            fn list(&self, scope: ScopeRef<'_>) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
                Ok(self.reading(|i| i.list(scope)))
            }

            fn list_all(&self) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
                Ok(self.reading(Inner::list_all))
            }

            /// The write and its events under one write lock.
            fn audited(&self, write: Write, context: &AuditContext) -> Result<Written, StoreError> {
                self.audited_write(write, context)
            }

            /// Every event read under one read lock, then
            /// [`AuditQuery::page_of`].
            fn audit_events(&self, query: &AuditQuery) -> Result<Page<AuditEvent>, StoreError> {
                Ok(self.reading(|i| query.page_of(&i.events)))
            }
        }
    )*};
}

store_on_session!(MemoryStore, Locked<'_>);

#[cfg(test)]
mod conformance {
    use super::MemoryStore;

    fn store() -> MemoryStore {
        MemoryStore::new()
    }

    /// Clones share one store: the second instance of the two-instance
    /// checks.
    fn reopen(store: &MemoryStore) -> MemoryStore {
        store.clone()
    }

    crate::store_conformance!();
}

/// A store of a fixed hash seed keeps the whole contract: the seed changes
/// where its tables put keys, never what it answers.
#[cfg(test)]
mod conformance_with_hash_seed {
    use super::MemoryStore;

    fn store() -> MemoryStore {
        MemoryStore::with_hash_seed(0)
    }

    fn reopen(store: &MemoryStore) -> MemoryStore {
        store.clone()
    }

    crate::store_conformance!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::{OrgId, SpaceId};

    fn cred(scope: Scope, loc: &str, user: &str) -> RegistryCredential {
        RegistryCredential::new(
            scope,
            Location::parse(loc).unwrap(),
            Credential::new(user, format!("{user}-pw")).unwrap(),
        )
    }

    /// The locations `s` lists at `scope`, in its order.
    fn locations(s: &MemoryStore, scope: &Scope) -> Vec<String> {
        let listed = s.list(scope.as_scope_ref()).unwrap();
        listed.iter().map(|c| c.location().to_string()).collect()
    }

    fn loc(s: &str) -> Location {
        Location::parse(s).unwrap()
    }

    #[test]
    fn r16_r17_r18_basic_operations() {
        let s = MemoryStore::new();
        let org = Scope::Org(OrgId::new("o").unwrap());
        s.create(cred(org.clone(), "example.com", "a")).unwrap();
        let e = s.create(cred(org.clone(), "Example.com", "b")).unwrap_err();
        assert!(matches!(e, StoreError::Conflict { .. }));
        let l = loc("example.com");
        let key = Key::new(org.as_scope_ref(), &l);
        assert_eq!(s.get(key).unwrap().unwrap().username().as_str(), "a");
        s.update(
            org.as_scope_ref(),
            &l,
            CredentialUpdate::Username(crate::credential::Username::new("c").unwrap()),
        )
        .unwrap();
        assert_eq!(s.get(key).unwrap().unwrap().username().as_str(), "c");
        assert_eq!(s.get(key).unwrap().unwrap().password().expose(), "a-pw");
        assert_eq!(s.len(), 1);
        s.delete(org.as_scope_ref(), &l).unwrap();
        assert!(s.get(key).unwrap().is_none());
        assert!(matches!(
            s.delete(org.as_scope_ref(), &l),
            Err(StoreError::NotFound { .. })
        ));
        assert!(s.is_empty());
        let clone = s.clone();
        clone.create(cred(Scope::Foundation, "x.io", "x")).unwrap();
        assert_eq!(s.len(), 1, "clones share state");
    }

    /// Among many scopes, each lists only its own credential and a key
    /// finds only its own scope's: the per-scope index tells scopes apart
    /// by id, not only by hash (R13).
    #[test]
    fn r13_each_of_many_scopes_lists_only_its_own() {
        let s = MemoryStore::new();
        assert!(s.is_empty());
        let orgs: Vec<_> = (0..2000)
            .map(|i| Scope::Org(OrgId::new(format!("org-{i}")).unwrap()))
            .collect();
        for (i, org) in orgs.iter().enumerate() {
            s.create(cred(org.clone(), &format!("r.example.com/t{i}"), "u"))
                .unwrap();
            assert!(!s.is_empty());
        }
        assert_eq!(s.len(), orgs.len());
        for (i, org) in orgs.iter().enumerate() {
            let listed = locations(&s, org);
            assert_eq!(listed, [format!("r.example.com/t{i}")], "{org}");
        }
    }

    /// An update replaces the credential in both indexes: a key, the
    /// scope's listing and the whole store's listing all see the new one
    /// (R17).
    #[test]
    fn r17_an_update_is_seen_by_every_listing() {
        let s = MemoryStore::new();
        let org = Scope::Org(OrgId::new("o").unwrap());
        for l in ["a.example.com", "b.example.com", "c.example.com"] {
            s.create(cred(org.clone(), l, "old")).unwrap();
        }
        let l = loc("b.example.com");
        let new = crate::credential::Username::new("new").unwrap();
        s.update(org.as_scope_ref(), &l, CredentialUpdate::Username(new))
            .unwrap();
        let users = |v: Vec<Arc<RegistryCredential>>| -> Vec<String> {
            v.iter().map(|c| c.username().to_string()).collect()
        };
        assert_eq!(
            users(s.list(org.as_scope_ref()).unwrap()),
            ["old", "new", "old"]
        );
        assert_eq!(users(s.list_all().unwrap()), ["old", "new", "old"]);
        let key = Key::new(org.as_scope_ref(), &l);
        assert_eq!(s.get(key).unwrap().unwrap().username().as_str(), "new");
    }

    #[test]
    fn debug_counts_credentials_and_scopes() {
        let s = MemoryStore::new();
        s.create(cred(Scope::Foundation, "a.example.com", "a"))
            .unwrap();
        s.create(cred(Scope::Foundation, "b.example.com", "b"))
            .unwrap();
        s.create(cred(
            Scope::Org(OrgId::new("o").unwrap()),
            "a.example.com",
            "c",
        ))
        .unwrap();
        assert_eq!(
            format!("{s:?}"),
            "MemoryStore { credentials: 3, scopes: 2 }"
        );
    }

    /// The two indexes stay in step through every kind of write: what a
    /// key finds, what a scope lists and what the whole store lists agree
    /// (R13, R16–R19).
    #[test]
    fn r13_r19_indexes_agree_after_every_write() {
        let s = MemoryStore::new();
        let app = AppId::new("a").unwrap();
        let scopes = [
            Scope::Foundation,
            Scope::Org(OrgId::new("o").unwrap()),
            Scope::Space(SpaceId::new("s").unwrap()),
            Scope::App(app.clone()),
        ];
        let mut expected = std::collections::BTreeMap::new();
        for i in 0..200 {
            let scope = scopes[i % 4].clone();
            let l = format!("r{}.example.com/team{}", i % 7, i / 7);
            s.create(cred(scope.clone(), &l, &format!("u{i}"))).unwrap();
            expected.insert((scope, l), format!("u{i}"));
        }
        for (i, ((scope, l), user)) in expected.iter_mut().enumerate() {
            if i % 5 == 0 {
                let u = crate::credential::Username::new(format!("{user}-updated")).unwrap();
                s.update(scope.as_scope_ref(), &loc(l), CredentialUpdate::Username(u))
                    .unwrap();
                user.push_str("-updated");
            }
        }
        let deleted: Vec<_> = expected.keys().step_by(3).cloned().collect();
        for (scope, l) in &deleted {
            s.delete(scope.as_scope_ref(), &loc(l)).unwrap();
            expected.remove(&(scope.clone(), l.clone()));
        }
        // Replacing the app's credentials leaves one there.
        let done = s
            .replace_app_credential(
                &app,
                loc("new.example.com"),
                Credential::new("n", "n-pw").unwrap(),
            )
            .unwrap();
        let app_scope = Scope::App(app.clone());
        let before: Vec<_> = expected
            .keys()
            .filter(|(sc, _)| *sc == app_scope)
            .cloned()
            .collect();
        assert_eq!(done.replaced.len(), before.len());
        for k in &before {
            expected.remove(k);
        }
        expected.insert((app_scope, "new.example.com".into()), "n".into());

        assert_eq!(s.len(), expected.len());
        for ((scope, l), user) in &expected {
            let l = loc(l);
            let got = s.get(Key::new(scope.as_scope_ref(), &l)).unwrap().unwrap();
            assert_eq!(got.username().as_str(), user);
        }
        for (scope, l) in &deleted {
            let l = loc(l);
            assert!(s.get(Key::new(scope.as_scope_ref(), &l)).unwrap().is_none());
        }
        // Everything, in the order of the expected map's keys.
        let all: Vec<_> = s
            .list_all()
            .unwrap()
            .iter()
            .map(|c| {
                let key = (c.scope().clone(), c.location().to_string());
                (key, c.username().to_string())
            })
            .collect();
        assert_eq!(all, expected.clone().into_iter().collect::<Vec<_>>());
        for scope in &scopes {
            let listed = locations(&s, scope);
            let want: Vec<_> = expected
                .keys()
                .filter(|(s, _)| s == scope)
                .map(|(_, l)| l.clone())
                .collect();
            assert_eq!(listed, want, "{scope}");
        }
        // Emptied scopes are dropped from the per-scope index.
        for scope in &scopes {
            s.delete_scope(scope.as_scope_ref()).unwrap();
        }
        assert!(s.is_empty());
        assert_eq!(s.read().scopes.len(), 0);
        assert_eq!(s.read().all.len(), 0);
        assert_eq!(s.read().locations.len(), 0, "every count went back to 0");
    }

    /// One seed hashes alike in every store, and apart from another seed.
    #[test]
    fn a_hash_seed_gives_the_same_hashes_in_every_store() {
        let (a, b) = (KeyHasher::seeded(7), KeyHasher::seeded(7));
        let l = "registry.example.com/team";
        assert_eq!(a.location(l), b.location(l));
        assert_eq!(
            a.scope(Scope::Foundation.as_scope_ref()),
            b.scope(Scope::Foundation.as_scope_ref())
        );
        assert_ne!(a.location(l), KeyHasher::seeded(8).location(l));
    }

    /// A key's texts compare as `==` does at every length, whichever byte
    /// differs (R13, R14).
    #[test]
    fn r13_key_texts_compare_as_equality_does() {
        for len in 0..=20 {
            let a = "k".repeat(len);
            assert!(same_text(&a, &a.clone()), "{len}");
            assert!(!same_text(&a, &format!("{a}k")), "{len}");
            for i in 0..len {
                let mut b = a.clone().into_bytes();
                b[i] = b'j';
                let b = String::from_utf8(b).unwrap();
                assert!(!same_text(&a, &b), "{len} {i}");
            }
        }
    }

    /// Locations in one large group (Docker Hub's, whose bucket closes and
    /// whose locations spill to buckets of their own and the overflow
    /// table), in groups of a few dozen and in groups of one, through the
    /// filter's rebuilds as the store grows and after deletes: each is
    /// found at its own scope, a deleted one is not, and the counts all
    /// return to 0 (R14, R15).
    #[test]
    fn r14_resolution_finds_every_credential_in_groups_large_and_small() {
        let s = MemoryStore::new();
        let app = crate::App::new("o", "s", "a").unwrap();
        let scopes = [
            Scope::App(app.id().clone()),
            Scope::Space(app.space().clone()),
            Scope::Org(app.org().clone()),
            Scope::Foundation,
        ];
        let location = |i: usize| match i % 3 {
            0 => format!("docker.io/team{i}"),
            1 => format!("r{i}.example{}.com/team", i % 7),
            _ => format!("host{i}.cold{i}.io"),
        };
        let n = 3_000;
        for i in 0..n {
            s.create(cred(scopes[i % 4].clone(), &location(i), &format!("u{i}")))
                .unwrap();
        }
        let (closed, overflowed) = s.read().locations.spilled();
        assert!(closed > 0 && overflowed > 0, "{closed} {overflowed}");
        for i in (0..n).step_by(5) {
            let l = Location::parse(&location(i)).unwrap();
            s.delete(scopes[i % 4].as_scope_ref(), &l).unwrap();
        }
        for i in 0..n {
            let image: crate::Reference = format!("{}/image:1", location(i)).parse().unwrap();
            let found = crate::resolve(&s, &app, &image).unwrap();
            if i % 5 == 0 {
                assert!(found.is_none(), "{image} was deleted");
            } else {
                let found = found.unwrap_or_else(|| panic!("{image}"));
                assert_eq!(found.credential().username().as_str(), format!("u{i}"));
                assert_eq!(found.scope(), &scopes[i % 4]);
            }
        }
        for scope in &scopes {
            s.delete_scope(scope.as_scope_ref()).unwrap();
        }
        assert_eq!(s.read().locations.len(), 0, "every count went back to 0");
    }
}
