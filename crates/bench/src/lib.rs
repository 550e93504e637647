//! What the workspace's benches share: the parse inputs ([`inputs`]), and
//! the questions the resolve benches ask of the core's
//! [`workload`](registry_credentials::workload).
//!
//! The parse inputs stay here: they are the bench cases' names (`short`,
//! `typical`, ...) beside oci-spec's parser, not a workload a store could
//! be filled with.
//!
//! This package is never published. It holds the benches
//! (`cargo bench -p registry-credentials-bench`; BENCHMARKS.md has the
//! figures), the instruction-count benches `benches/icount.rs` with their
//! lower bounds ([`bounds`]), their baseline `icount-baseline.txt` and its
//! checker ([`icount`], the `icount-check` binary), the peers both kinds of
//! bench measure ([`peers`]), the profiling loop `examples/profile.rs`, and
//! the tests that read more than one crate: the differential test against
//! oci-spec and the README checks. Keeping them here keeps criterion, oci-spec and the
//! database stores out of the published crates' builds.
#![forbid(unsafe_code)]

pub mod bounds;
pub mod icount;
pub mod inputs;
pub mod peers;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use registry_credentials::workload::{PushKind, Workload};
use registry_credentials::{App, MemoryStore};

/// How many distinct questions of each kind a bench cycles through: enough
/// that a large store is not all in cache, as in a real platform.
pub const QUESTIONS: usize = 4096;

/// The first [`QUESTIONS`] pushes of `kind`: the app and the image as
/// written.
pub fn questions(workload: &Workload, kind: PushKind) -> Vec<(App, String)> {
    workload
        .pushes(kind)
        .take(QUESTIONS)
        .map(|p| (p.app, p.image))
        .collect()
}

/// A `MemoryStore` holding the workload.
pub fn memory_store(workload: &Workload) -> MemoryStore {
    let store = MemoryStore::new();
    workload
        .fill(&store)
        .expect("a workload's keys are distinct");
    store
}
