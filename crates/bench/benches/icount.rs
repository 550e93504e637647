//! Instruction counts of the hot paths, each beside its lower bound and its
//! peer in the same run: callgrind (through gungraun) counts the
//! instructions of one call, exactly and whatever the machine's load, so
//! CI can compare every run with the committed baseline
//! (`icount-baseline.txt`, checked by the `icount-check` binary).
//!
//! Run: `cargo bench -p registry-credentials-bench --features sqlite --bench icount`
//! (needs valgrind and `gungraun-runner` of the same version as the
//! `gungraun` library; BENCHMARKS.md has the commands and the figures).
//! Names in the baseline are `<group>/<case>/<impl>`:
//!
//! - `parse/<input>/{ours,bound,oci-spec}`: `Reference::parse` of the five
//!   inputs of the parse bench; the bound is one pass over the bytes with a
//!   256-entry table ([`bounds::scan`]); the peer is oci-spec's parser.
//! - `candidates/<input>/{ours,bound,vec-of-strings}`: every candidate of
//!   the parsed input; the bound is one backward pass over the name
//!   ([`bounds::candidates`]); the peer builds a `Vec<String>`.
//! - `resolve/<case>-<size>/{ours,bound,linear-scan}`: parse and resolve
//!   one of the resolve bench's questions on a `MemoryStore` of the core's
//!   workload; the bound scans the image's bytes as the parse bound does and
//!   probes a bare hash table of the store's keys with the plan's keys in
//!   order until the first hit ([`bounds::KeyTable`]); the peer is the
//!   kubelet-style linear scan. At 1 million only ours runs: a probe's
//!   instructions do not depend on the table's size, and each bench at 1
//!   million builds its own store.
//! - `explain/<case>-1k/{ours,bound,linear-scan-all}`: parse and explain
//!   (every key looked up); the bound probes every key; the peer keeps
//!   every matching entry, sorted, as kubelet's `Lookup` returns them.
//! - `sqlite/<case>-<size>/{ours,bound,memory-store}`: `first_match` of the
//!   plan's keys on a `SqliteStore` file of the workload (plan built and
//!   statement prepared outside the measured call); the bound is a bare
//!   primary-key select of the answering key (the first key on a miss) on a
//!   connection of its own to the same file; the peer is `MemoryStore`'s
//!   `first_match` of the same keys.
//!
//! Each bench's set-up (stores, parsed references, plans) runs outside the
//! measured call and leaks what it builds, so that nothing is dropped inside
//! the measured call either. Set-ups run without instrumentation and turn
//! it on when done ([`start_instrumentation`]), which keeps a
//! million-credential set-up to seconds under valgrind; the SQLite files are
//! built before any bench runs, outside valgrind (the main set-up), and kept
//! under `target/bench-data/`. The whole run takes about 1.5 minutes on 2
//! cores, half a minute of it building the million-row SQLite file when it
//! is missing.

#![allow(missing_docs, reason = "gungraun's macros make undocumented items")]

use std::hint::black_box;
use std::str::FromStr;
use std::sync::Arc;

use gungraun::{
    Callgrind, LibraryBenchmarkConfig, library_benchmark, library_benchmark_group, main,
};
use registry_credentials::resolve::{Explanation, Plan};
use registry_credentials::store::Key;
use registry_credentials::workload::{PushKind, Workload};
use registry_credentials::{
    App, CredentialSource, CredentialStore, MemoryStore, Reference, ReferenceError,
    RegistryCredential, Resolution,
};
use registry_credentials_bench::bounds::{self, KeyTable};
use registry_credentials_bench::peers;
use registry_credentials_sql::SqliteStore;
use registry_credentials_sql::rusqlite;

/// Turns callgrind's instrumentation on (the client request
/// `CALLGRIND_START_INSTRUMENTATION` of valgrind's `callgrind.h`), for set-ups
/// that run with `--instr-atstart=no`: uninstrumented code runs several
/// times faster under valgrind, and nothing before this call is counted
/// anyway. Outside valgrind the sequence does nothing.
#[cfg(target_arch = "x86_64")]
#[allow(
    unsafe_code,
    reason = "a valgrind client request is a fixed inline-assembly sequence"
)]
fn start_instrumentation() {
    // VG_USERREQ_TOOL_BASE('C', 'T') + 4: DUMP_STATS, ZERO_STATS,
    // TOGGLE_COLLECT, DUMP_STATS_AT, START_INSTRUMENTATION.
    const START_INSTRUMENTATION: u64 = ((b'C' as u64) << 24 | (b'T' as u64) << 16) + 4;
    let request: [u64; 6] = [START_INSTRUMENTATION, 0, 0, 0, 0, 0];
    let mut answer: u64 = 0;
    // SAFETY: the four rotations of `rdi` add up to 128 bits and leave it
    // as it was, and `xchg rbx, rbx` exchanges a register with itself: on
    // a processor the sequence changes nothing but the flags. Valgrind
    // recognises it as a client request, reads the six words `rax` points
    // to (alive on this frame) and writes its answer to `rdx`.
    unsafe {
        std::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            inout("rdx") answer,
            in("rax") request.as_ptr(),
            inout("rdi") 0u64 => _,
            options(nostack),
        );
    }
    black_box(answer);
}

/// Elsewhere the set-ups run instrumented (slower, counted the same).
#[cfg(not(target_arch = "x86_64"))]
fn start_instrumentation() {}

/// The configuration of benches whose set-up calls
/// [`start_instrumentation`] when it is done.
fn uninstrumented_setup() -> LibraryBenchmarkConfig {
    let mut config = LibraryBenchmarkConfig::default();
    if cfg!(target_arch = "x86_64") {
        config.tool(Callgrind::with_args(["--instr-atstart=no"]));
    }
    config
}

/// A value made in a set-up, kept for the rest of the process (so the
/// measured call never drops it).
fn keep<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

// --- parse ---------------------------------------------------------------

/// Benches each function once for each of the parse bench's five inputs,
/// each made by `$setup` from the input's name.
macro_rules! for_each_input {
    ($setup:ident, $($bench:item),+ $(,)?) => {$(
        #[library_benchmark]
        #[bench::short($setup("short"))]
        #[bench::typical($setup("typical"))]
        #[bench::digest($setup("digest"))]
        #[bench::deep($setup("deep"))]
        #[bench::long255($setup("long255"))]
        $bench
    )+};
}

/// The parse bench's input named `case`, parsed once (so that every code
/// path is warm).
fn parse_input(case: &str) -> &'static str {
    let input = registry_credentials_bench::inputs::inputs()
        .into_iter()
        .find(|i| i.case == case)
        .expect("a parse bench input");
    let text: &'static str = Box::leak(input.text.into_boxed_str());
    let ours = Reference::parse(text).expect("a valid reference");
    assert_eq!(ours.registry(), input.registry);
    assert!(bounds::scan(text).valid);
    start_instrumentation();
    text
}

/// [`parse_input`], parsed once by oci-spec too: its first parse compiles
/// its regular expressions, which later parses do not repeat.
fn oci_spec_input(case: &str) -> &'static str {
    let text = parse_input(case);
    let theirs = oci_spec::distribution::Reference::from_str(text).expect("a valid reference");
    assert_eq!(
        theirs.registry(),
        Reference::parse(text).expect("valid").registry()
    );
    text
}

for_each_input!(
    parse_input,
    fn parse_ours(text: &'static str) -> Result<Reference, ReferenceError> {
        // The parser's own answer, unwrapped by no one: the set-up checked it.
        Reference::parse(black_box(text))
    },
    fn parse_bound(text: &'static str) -> bounds::Marks {
        bounds::scan(black_box(text))
    }
);

for_each_input!(
    oci_spec_input,
    fn parse_oci_spec(
        text: &'static str,
    ) -> Result<oci_spec::distribution::Reference, oci_spec::distribution::ParseError> {
        oci_spec::distribution::Reference::from_str(black_box(text))
    }
);

library_benchmark_group!(
    name = parse,
    benchmarks = [parse_ours, parse_bound, parse_oci_spec]
);

// --- candidates ----------------------------------------------------------

/// The parse bench's input named `case`, parsed.
fn parsed_input(case: &str) -> &'static Reference {
    keep(Reference::parse(parse_input(case)).expect("a valid reference"))
}

for_each_input!(
    parsed_input,
    fn candidates_ours(reference: &'static Reference) -> (usize, &'static str) {
        let mut count = 0;
        let mut last = "";
        for c in black_box(reference).candidates() {
            count += 1;
            last = c.as_str();
        }
        (count, last)
    },
    fn candidates_bound(reference: &'static Reference) -> (usize, &'static str) {
        bounds::candidates(black_box(reference).name())
    },
    fn candidates_vec_of_strings(reference: &'static Reference) -> Vec<String> {
        peers::vec_of_strings(black_box(reference).name())
    }
);

library_benchmark_group!(
    name = candidates,
    benchmarks = [candidates_ours, candidates_bound, candidates_vec_of_strings]
);

// --- resolve and explain -------------------------------------------------

/// Benches each function once for each kind of the resolve bench's
/// questions (an app's hit, the foundation's hit, a miss), each made by
/// `$setup` on the workload of a thousand credentials; with `large`, on
/// the workload of that many as well.
macro_rules! for_each_kind {
    ($setup:ident, large = $large:tt, $($bench:item),+ $(,)?) => {$(
        #[library_benchmark]
        #[bench::app_hit_1k($setup(PushKind::AppHit, 1_000))]
        #[bench::foundation_hit_1k($setup(PushKind::FoundationHit, 1_000))]
        #[bench::miss_1k($setup(PushKind::Miss, 1_000))]
        #[bench::app_hit_1m($setup(PushKind::AppHit, $large))]
        #[bench::foundation_hit_1m($setup(PushKind::FoundationHit, $large))]
        #[bench::miss_1m($setup(PushKind::Miss, $large))]
        $bench
    )+};
    ($setup:ident, $($bench:item),+ $(,)?) => {$(
        #[library_benchmark]
        #[bench::app_hit_1k($setup(PushKind::AppHit, 1_000))]
        #[bench::foundation_hit_1k($setup(PushKind::FoundationHit, 1_000))]
        #[bench::miss_1k($setup(PushKind::Miss, 1_000))]
        $bench
    )+};
}

/// A bound's probe: the kind, id and location of a plan's key.
type Probe = (u8, &'static str, &'static str);

/// One question of the resolve bench, the store it is asked of, and what
/// the bound and the peer need: made once per bench process.
struct Question {
    store: &'static MemoryStore,
    app: &'static App,
    image: &'static str,
    /// The stored keys (the bound's table) and every stored entry (the
    /// linear scan's list); both empty at sizes where only ours runs.
    table: KeyTable,
    entries: Vec<Arc<RegistryCredential>>,
    /// The plan's keys, in order, as the bound's probes.
    probes: Vec<Probe>,
}

/// The first of the resolve bench's questions of `kind`, on the core's
/// workload of `n` credentials in a `MemoryStore`; with the bound's table
/// and the peer's list up to 1 thousand. Larger set-ups run uninstrumented
/// and turn the instrumentation on when done.
fn question(kind: PushKind, n: usize) -> &'static Question {
    let workload = Workload::new(n);
    let store = keep(registry_credentials_bench::memory_store(&workload));
    let (app, image) = registry_credentials_bench::questions(&workload, kind)
        .into_iter()
        .next()
        .expect("a workload has questions of every kind");
    let app = keep(app);
    let image: &'static str = Box::leak(image.into_boxed_str());
    let reference = keep(Reference::parse(image).expect("a valid image"));
    let probes = KeyTable::probes(Plan::new(app, reference).keys());
    let entries = if n <= 1_000 {
        store.list_all().expect("a memory store lists")
    } else {
        Vec::new()
    };
    let table = KeyTable::new(entries.iter().map(|c| &**c));
    // Each answers as the question's kind says, and every code path is
    // warm before the measured call.
    let ours =
        registry_credentials::resolve(store, app, reference).expect("a memory store resolves");
    assert_eq!(ours.map(|r| r.scope_kind()), kind.scope(), "{image}");
    if n <= 1_000 {
        let hit = table.first(&probes);
        assert_eq!(hit.is_some(), kind.scope().is_some(), "{image}");
        let linear = peers::linear_scan(&entries, app, image);
        assert_eq!(linear.map(|c| c.scope().kind()), kind.scope(), "{image}");
        let why = registry_credentials::resolve::explain(store, app, reference)
            .expect("a memory store explains");
        let all = peers::linear_scan_all(&entries, app, image);
        assert_eq!(
            why.attempts()
                .iter()
                .filter(|a| a.stored().is_some())
                .count(),
            all.len()
        );
        assert_eq!(table.count(&probes), all.len());
    }
    start_instrumentation();
    keep(Question {
        store,
        app,
        image,
        table,
        entries,
        probes,
    })
}

for_each_kind!(
    question,
    large = 1_000_000,
    fn resolve_ours(q: &'static Question) -> Option<Resolution> {
        let reference = Reference::parse(black_box(q.image)).expect("a valid image");
        registry_credentials::resolve(q.store, black_box(q.app), &reference)
            .expect("a memory store resolves")
    }
);

for_each_kind!(
    question,
    fn resolve_bound(q: &'static Question) -> (bounds::Marks, Option<usize>) {
        let marks = bounds::scan(black_box(q.image));
        (marks, q.table.first(black_box(&q.probes)))
    },
    fn resolve_linear_scan(q: &'static Question) -> Option<&'static Arc<RegistryCredential>> {
        peers::linear_scan(&q.entries, black_box(q.app), black_box(q.image))
    }
);

library_benchmark_group!(
    name = resolve,
    benchmarks = [resolve_ours, resolve_bound, resolve_linear_scan]
);

for_each_kind!(
    question,
    fn explain_ours(q: &'static Question) -> Explanation {
        let reference = Reference::parse(black_box(q.image)).expect("a valid image");
        registry_credentials::resolve::explain(q.store, black_box(q.app), &reference)
            .expect("a memory store explains")
    },
    fn explain_bound(q: &'static Question) -> (bounds::Marks, usize) {
        let marks = bounds::scan(black_box(q.image));
        (marks, q.table.count(black_box(&q.probes)))
    },
    fn explain_linear_scan_all(q: &'static Question) -> Vec<&'static Arc<RegistryCredential>> {
        peers::linear_scan_all(&q.entries, black_box(q.app), black_box(q.image))
    }
);

library_benchmark_group!(
    name = explain,
    benchmarks = [explain_ours, explain_bound, explain_linear_scan_all]
);

// --- SQLite --------------------------------------------------------------

/// One question asked of the workload's SQLite file: the plan's keys, the
/// store, a connection of the bound's own and the key it selects, and a
/// `MemoryStore` of the same workload where the peer runs.
struct SqliteQuestion {
    store: SqliteStore,
    keys: Vec<Key<'static>>,
    bound: rusqlite::Connection,
    /// The answering key (the first on a miss): kind code, id, location.
    probe: Probe,
    memory: Option<MemoryStore>,
}

/// The bound's statement: one row by its primary key, its columns read.
const SELECT_BY_KEY: &str = "SELECT username, key_id, secret FROM registry_credentials \
     WHERE location = ?1 AND scope_kind = ?2 AND scope_id = ?3";

/// The first of the resolve bench's questions of `kind` on the SQLite file
/// of the workload of `n` credentials (built by the main set-up), its
/// plan made and its statements prepared and run once.
fn sqlite_question(kind: PushKind, n: usize) -> &'static SqliteQuestion {
    let workload = Workload::new(n);
    let store = registry_credentials_bench::sqlite::store(&workload);
    let (app, image) = registry_credentials_bench::questions(&workload, kind)
        .into_iter()
        .next()
        .expect("a workload has questions of every kind");
    let app = keep(app);
    let reference = keep(Reference::parse(&image).expect("a valid image"));
    let keys = Plan::new(app, reference).keys().to_vec();
    let found = store.first_match(&keys).expect("the file answers");
    assert_eq!(
        found.as_ref().map(|(_, c)| c.scope().kind()),
        kind.scope(),
        "{image}"
    );
    let probe = KeyTable::probes(&keys)[found.as_ref().map_or(0, |(i, _)| *i)];
    let bound = rusqlite::Connection::open_with_flags(
        registry_credentials_bench::sqlite::path(n),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("the file opens");
    assert_eq!(select_by_key(&bound, probe).is_some(), found.is_some());
    let memory = (n <= 1_000).then(|| {
        let memory = registry_credentials_bench::memory_store(&workload);
        assert_eq!(
            memory.first_match(&keys).expect("answers").map(|(i, _)| i),
            found.map(|(i, _)| i)
        );
        memory
    });
    start_instrumentation();
    keep(SqliteQuestion {
        store,
        keys,
        bound,
        probe,
        memory,
    })
}

/// The bound's one select: the row's username and the lengths of its key
/// id and secret.
fn select_by_key(
    conn: &rusqlite::Connection,
    (kind, id, location): Probe,
) -> Option<(usize, usize)> {
    let mut stmt = conn
        .prepare_cached(SELECT_BY_KEY)
        .expect("the statement prepares");
    let mut rows = stmt
        .query(rusqlite::params![location, kind, id])
        .expect("the statement runs");
    let row = rows.next().expect("the row reads")?;
    let len = |i: usize| {
        row.get_ref(i)
            .map_or(0, |v| v.as_bytes().map_or(0, <[u8]>::len))
    };
    Some((len(0), len(1) + len(2)))
}

/// Builds the SQLite files before the benches run (outside valgrind).
fn build_sqlite_files() {
    for n in [1_000, SQLITE_LARGE] {
        registry_credentials_bench::sqlite::store(&Workload::new(n));
    }
}

/// The larger SQLite file's number of rows.
const SQLITE_LARGE: usize = 1_000_000;

for_each_kind!(
    sqlite_question,
    large = SQLITE_LARGE,
    fn sqlite_ours(q: &'static SqliteQuestion) -> Option<(usize, Arc<RegistryCredential>)> {
        q.store
            .first_match(black_box(&q.keys))
            .expect("the file answers")
    }
);

for_each_kind!(
    sqlite_question,
    large = SQLITE_LARGE,
    fn sqlite_bound(q: &'static SqliteQuestion) -> Option<(usize, usize)> {
        select_by_key(&q.bound, black_box(q.probe))
    }
);

for_each_kind!(
    sqlite_question,
    fn sqlite_memory_store(q: &'static SqliteQuestion) -> Option<(usize, Arc<RegistryCredential>)> {
        let memory = q.memory.as_ref().expect("the peer's store at 1 thousand");
        memory
            .first_match(black_box(&q.keys))
            .expect("a memory store answers")
    }
);

library_benchmark_group!(
    name = sqlite,
    benchmarks = [sqlite_ours, sqlite_bound, sqlite_memory_store]
);

// --- The list (R22, R23) -------------------------------------------------

/// The list's questions on the 1-million-row SQLite file: the store, the
/// query of a case of [`query_cases`](registry_credentials_bench::query_cases),
/// and a bare connection to the file for the peer's plain select of 50.
struct ListQuestion {
    store: SqliteStore,
    query: registry_credentials::store::Query,
    org: String,
    /// The peer's own read-only connection to the file, as the bound of
    /// the look-ups has.
    bare: rusqlite::Connection,
}

/// The list's case `name` on the file of `n` rows, run once.
fn list_question(name: &str, n: usize) -> &'static ListQuestion {
    let workload = Workload::new(n);
    let store = registry_credentials_bench::sqlite::store(&workload);
    let first = registry_credentials::store::Query::new()
        .page(1, 1)
        .expect("a valid page");
    let guid = store.query(&first).expect("the file answers").resources()[0]
        .record()
        .guid();
    let query = registry_credentials_bench::query_cases(&workload, 0, guid)
        .into_iter()
        .find(|(case, _)| *case == name)
        .map(|(_, q)| q)
        .expect("a case of that name");
    let org = workload.app(0).org().as_str().to_owned();
    let bare = rusqlite::Connection::open_with_flags(
        registry_credentials_bench::sqlite::path(n),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("the file opens");
    // Each statement run twice first, so that its connection is open and
    // its statement prepared: what is counted is one answer.
    for _ in 0..2 {
        assert!(!store.query(&query).expect("answers").resources().is_empty());
        assert!(plain_select_50(&bare, &org) > 0);
    }
    drop(workload);
    // The allocator sorts the million entries just freed at its next large
    // request: made here, so that no bench counts it.
    drop(black_box(Vec::<u8>::with_capacity(1 << 20)));
    start_instrumentation();
    keep(ListQuestion {
        store,
        query,
        org,
        bare,
    })
}

#[library_benchmark]
#[bench::space_developer_page_of_50_1m(list_question("space-developer-page-of-50", SQLITE_LARGE))]
#[bench::organization_page_of_50_1m(list_question("organization-page-of-50", SQLITE_LARGE))]
#[bench::one_guid_1m(list_question("one-guid", SQLITE_LARGE))]
fn list_ours(q: &'static ListQuestion) -> registry_credentials::store::Page {
    q.store
        .query(black_box(&q.query))
        .expect("the file answers")
}

// The peer: a plain indexed select of 50 rows of one organization, on a
// bare connection to the same file (no pool, no transaction).
#[library_benchmark]
#[bench::plain_select_50_1m(list_question("one-guid", SQLITE_LARGE))]
fn list_plain_select_50(q: &'static ListQuestion) -> usize {
    plain_select_50(&q.bare, black_box(&q.org))
}

/// A plain indexed select of `org`'s first 50 credentials on `conn`,
/// their secrets read but not opened.
fn plain_select_50(conn: &rusqlite::Connection, org: &str) -> usize {
    let mut stmt = conn
        .prepare_cached(registry_credentials_bench::PLAIN_SELECT_50)
        .expect("the statement prepares");
    let mut rows = stmt.query([org]).expect("it runs");
    let mut n = 0;
    while let Some(r) = rows.next().expect("a row reads") {
        n += r
            .get_ref(3)
            .map_or(0, |v| v.as_bytes().map_or(0, <[u8]>::len));
    }
    n
}

library_benchmark_group!(name = list, benchmarks = [list_ours, list_plain_select_50]);

main!(
    config = uninstrumented_setup(),
    setup = build_sqlite_files(),
    library_benchmark_groups = [parse, candidates, resolve, explain, sqlite, list]
);
