//! What the workspace's benches share: the parse inputs ([`inputs`]), the
//! questions the resolve benches ask of the core's
//! [`workload`](registry_credentials::workload), and the database benches'
//! cases ([`StoreCase`]) with their check against `MemoryStore`.
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

use registry_credentials::resolve::Resolution;
use registry_credentials::workload::{PushKind, Workload};
use registry_credentials::{App, MemoryStore, Reference, ScopeKind, resolve};

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

/// A `MemoryStore` holding the workload, its tables hashed with a fixed
/// seed so that their layout, and the instructions a look-up takes, are
/// the same on every machine.
pub fn memory_store(workload: &Workload) -> MemoryStore {
    let store = MemoryStore::with_hash_seed(0);
    workload
        .fill(&store)
        .expect("a workload's keys are distinct");
    store
}

/// An app and the parsed image it pushes.
pub type Question = (App, Reference);

/// One case of the database stores' resolve benches.
pub struct StoreCase {
    /// The case's name in the bench ids (`app-hit`, …).
    pub name: &'static str,
    /// Its [`QUESTIONS`], parsed outside the timed part.
    pub questions: Vec<Question>,
    /// The scope of every answer (`None`: nothing is found).
    pub expected: Option<ScopeKind>,
}

impl StoreCase {
    /// The resolve bench's `app-hit`, `foundation-hit` and `miss` cases of
    /// `workload`.
    pub fn all(workload: &Workload) -> Vec<StoreCase> {
        [PushKind::AppHit, PushKind::FoundationHit, PushKind::Miss]
            .into_iter()
            .map(|kind| StoreCase {
                name: kind.name(),
                questions: questions(workload, kind)
                    .into_iter()
                    .map(|(app, image)| (app, image.parse().unwrap()))
                    .collect(),
                expected: kind.scope(),
            })
            .collect()
    }

    /// `found` after checking that its scope is the case's: what a timed
    /// iteration returns.
    ///
    /// # Panics
    ///
    /// When it is not.
    pub fn checked(&self, found: Option<Resolution>) -> Option<Resolution> {
        assert_eq!(found.as_ref().map(|r| r.scope_kind()), self.expected);
        found
    }

    /// Checks that the store `ours` answers the case's first 64 questions
    /// as `memory`, the `MemoryStore` holding the same workload, does: the
    /// same winning location, or none.
    ///
    /// # Panics
    ///
    /// At the first answer that differs.
    pub fn assert_agrees_with_memory(
        &self,
        memory: &MemoryStore,
        mut ours: impl FnMut(&App, &Reference) -> Option<Resolution>,
    ) {
        for (app, image) in self.questions.iter().take(64) {
            let theirs = resolve(memory, app, image).unwrap();
            assert_eq!(
                ours(app, image).as_ref().map(|r| r.location()),
                theirs.as_ref().map(|r| r.location()),
                "{} {image}",
                self.name
            );
        }
    }
}

/// Cycles through `questions`: each call the next, from the first again
/// after the last, so that an iteration of a bench asks a new question.
pub fn cycle<'q>(questions: &'q [Question]) -> impl FnMut() -> &'q Question {
    let mut i = 0;
    move || {
        let q = &questions[i % questions.len()];
        i += 1;
        q
    }
}

/// The query benches' questions (R22, R23): what a space developer's list
/// of the platform's registry credentials asks of a store, for app `a` of
/// the workload: every credential they may read (the foundation's, their
/// organization's, their space's and the app's own), oldest first, the
/// first page of 50; the first page of 50 of the app's organization's own
/// credentials, the rows the plain select reads, oldest first; and one
/// credential by GUID.
pub fn query_cases(
    workload: &Workload,
    a: usize,
    guid: registry_credentials::identity::Guid,
) -> Vec<(&'static str, registry_credentials::store::Query)> {
    use registry_credentials::Scope;
    use registry_credentials::store::Query;
    let app = workload.app(a);
    let visible = [
        Scope::Foundation,
        Scope::Org(app.org().clone()),
        Scope::Space(app.space().clone()),
        Scope::App(app.id().clone()),
    ];
    vec![
        (
            "space-developer-page-of-50",
            Query::new()
                .scopes(visible)
                .page(1, 50)
                .expect("a valid page"),
        ),
        (
            "organization-page-of-50",
            Query::new()
                .scopes([Scope::Org(app.org().clone())])
                .page(1, 50)
                .expect("a valid page"),
        ),
        ("one-guid", Query::new().guids([guid])),
    ]
}

/// The peer of the query benches: a plain indexed select of 50 rows (an
/// organization's credentials, on the `by_scope` index, no decryption),
/// the same text in both dialects.
pub const PLAIN_SELECT_50: &str = "SELECT location, username, key_id, secret FROM registry_credentials \
     WHERE scope_kind = 2 AND scope_id = $1 ORDER BY location LIMIT 50";
