//! The in-memory store, the embedded default.

use std::fmt;
use std::hash::BuildHasher;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use hashbrown::DefaultHashBuilder;
use hashbrown::{HashMap, HashTable};

use crate::store::{CredentialStore, Key, StoreError};
use crate::{CredentialUpdate, RegistryCredential, Scope, ScopeRef};

/// Credentials in memory, indexed by scope and then by location, so a
/// look-up costs the same with ten credentials or ten million.
///
/// Clones share one store (an `Arc<RwLock<…>>` inside), as the clones of an
/// `Arc` do: hand a clone to each thread or task. Reads run in parallel;
/// a write holds the lock for one hash-table change. Stored credentials are
/// `Arc`s, so a look-up copies no strings and a replaced credential is
/// swapped whole.
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
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<RwLock<Inner>>,
}

#[derive(Default)]
struct Inner {
    hasher: DefaultHashBuilder,
    scopes: HashMap<Scope, HashTable<Arc<RegistryCredential>>>,
    len: usize,
}

impl Inner {
    fn hash(&self, location: &str) -> u64 {
        self.hasher.hash_one(location)
    }

    fn find(&self, key: Key<'_>) -> Option<&Arc<RegistryCredential>> {
        let table = self.scopes.get(&key.scope)?;
        find_in(table, self.hash(key.location), key.location)
    }
}

fn find_in<'t>(
    table: &'t HashTable<Arc<RegistryCredential>>,
    hash: u64,
    location: &str,
) -> Option<&'t Arc<RegistryCredential>> {
    table.find(hash, |c| c.location().as_str() == location)
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many credentials it holds.
    pub fn len(&self) -> usize {
        self.read().len
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    // A panic while the lock is held cannot leave a half-made change: every
    // write is one hash-table operation. So a poisoned lock is still sound.
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
            .field("credentials", &inner.len)
            .field("scopes", &inner.scopes.len())
            .finish()
    }
}

impl CredentialStore for MemoryStore {
    fn get(&self, key: Key<'_>) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
        Ok(self.read().find(key).cloned())
    }

    fn get_many(
        &self,
        keys: &[Key<'_>],
    ) -> Result<Vec<Option<Arc<RegistryCredential>>>, StoreError> {
        let inner = self.read();
        Ok(keys.iter().map(|k| inner.find(*k).cloned()).collect())
    }

    /// One read lock for the whole plan, one scope look-up per run of keys
    /// at the same scope, and no allocation.
    fn first_match(
        &self,
        keys: &[Key<'_>],
    ) -> Result<Option<(usize, Arc<RegistryCredential>)>, StoreError> {
        let inner = self.read();
        let mut current: Option<(ScopeRef<'_>, Option<&HashTable<_>>)> = None;
        for (i, key) in keys.iter().enumerate() {
            let table = match current {
                Some((scope, table)) if scope == key.scope => table,
                _ => {
                    let table = inner.scopes.get(&key.scope);
                    current = Some((key.scope, table));
                    table
                }
            };
            if let Some(table) = table {
                if let Some(c) = find_in(table, inner.hash(key.location), key.location) {
                    return Ok(Some((i, Arc::clone(c))));
                }
            }
        }
        Ok(None)
    }

    fn create(
        &self,
        credential: RegistryCredential,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        let mut guard = self.write();
        let inner = &mut *guard;
        let hash = inner.hash(credential.location().as_str());
        let table = inner
            .scopes
            .entry_ref(&credential.scope().as_ref())
            .or_default();
        if find_in(table, hash, credential.location().as_str()).is_some() {
            return Err(StoreError::Conflict {
                scope: credential.scope().clone(),
                location: credential.location().clone(),
            });
        }
        let stored = Arc::new(credential);
        let hasher = &inner.hasher;
        table.insert_unique(hash, Arc::clone(&stored), |c| {
            hasher.hash_one(c.location().as_str())
        });
        inner.len += 1;
        Ok(stored)
    }

    fn put(
        &self,
        credential: RegistryCredential,
    ) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
        let mut guard = self.write();
        let inner = &mut *guard;
        let hash = inner.hash(credential.location().as_str());
        let table = inner
            .scopes
            .entry_ref(&credential.scope().as_ref())
            .or_default();
        let stored = Arc::new(credential);
        let location = stored.location().as_str();
        if let Some(slot) = table.find_mut(hash, |c| c.location().as_str() == location) {
            let new = Arc::clone(&stored);
            return Ok(Some(std::mem::replace(slot, new)));
        }
        let hasher = &inner.hasher;
        table.insert_unique(hash, stored, |c| hasher.hash_one(c.location().as_str()));
        inner.len += 1;
        Ok(None)
    }

    fn update(
        &self,
        key: Key<'_>,
        update: CredentialUpdate,
    ) -> Result<Arc<RegistryCredential>, StoreError> {
        let mut guard = self.write();
        let inner = &mut *guard;
        let hash = inner.hash(key.location);
        let slot = inner
            .scopes
            .get_mut(&key.scope)
            .and_then(|t| t.find_mut(hash, |c| c.location().as_str() == key.location))
            .ok_or_else(|| StoreError::not_found(key))?;
        let new = Arc::new(slot.updated(update));
        *slot = Arc::clone(&new);
        Ok(new)
    }

    fn delete(&self, key: Key<'_>) -> Result<Arc<RegistryCredential>, StoreError> {
        let mut guard = self.write();
        let inner = &mut *guard;
        let hash = inner.hash(key.location);
        let table = inner
            .scopes
            .get_mut(&key.scope)
            .ok_or_else(|| StoreError::not_found(key))?;
        let (removed, _) = table
            .find_entry(hash, |c| c.location().as_str() == key.location)
            .map_err(|_| StoreError::not_found(key))?
            .remove();
        if table.is_empty() {
            inner.scopes.remove(&key.scope);
        }
        inner.len -= 1;
        Ok(removed)
    }

    fn list(&self, scope: ScopeRef<'_>) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        let inner = self.read();
        let mut v: Vec<_> = inner
            .scopes
            .get(&scope)
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default();
        v.sort_unstable_by(|a, b| a.location().cmp(b.location()));
        Ok(v)
    }

    fn list_all(&self) -> Result<Vec<Arc<RegistryCredential>>, StoreError> {
        let inner = self.read();
        let mut v: Vec<_> = inner
            .scopes
            .values()
            .flat_map(|t| t.iter().cloned())
            .collect();
        v.sort_unstable_by(|a, b| (a.scope(), a.location()).cmp(&(b.scope(), b.location())));
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Credential, Location, OrgId};

    fn cred(scope: Scope, loc: &str, user: &str) -> RegistryCredential {
        RegistryCredential::new(
            scope,
            Location::parse(loc).unwrap(),
            Credential::new(user, format!("{user}-pw")).unwrap(),
        )
    }

    #[test]
    fn r16_r17_r18_basic_operations() {
        let s = MemoryStore::new();
        let org = Scope::Org(OrgId::new("o").unwrap());
        s.create(cred(org.clone(), "example.com", "a")).unwrap();
        let e = s.create(cred(org.clone(), "Example.com", "b")).unwrap_err();
        assert!(matches!(e, StoreError::Conflict { .. }));
        let key = Key::new(org.as_ref(), "example.com");
        assert_eq!(s.get(key).unwrap().unwrap().username().as_str(), "a");
        s.update(
            key,
            CredentialUpdate::Username(crate::Username::new("c").unwrap()),
        )
        .unwrap();
        assert_eq!(s.get(key).unwrap().unwrap().username().as_str(), "c");
        assert_eq!(s.get(key).unwrap().unwrap().password().expose(), "a-pw");
        assert_eq!(s.len(), 1);
        s.delete(key).unwrap();
        assert!(s.get(key).unwrap().is_none());
        assert!(matches!(s.delete(key), Err(StoreError::NotFound { .. })));
        assert!(s.is_empty());
        let clone = s.clone();
        clone.create(cred(Scope::Foundation, "x.io", "x")).unwrap();
        assert_eq!(s.len(), 1, "clones share state");
    }
}
