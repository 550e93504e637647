//! The store conformance suite on `MemoryStore`.

#[path = "store_conformance/mod.rs"]
mod store_conformance;

use registry_credentials::MemoryStore;

fn store() -> MemoryStore {
    MemoryStore::new()
}

store_conformance!();
