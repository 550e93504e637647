//! Bytes per stored credential in a `MemoryStore` of 1 million credentials
//! (the core's workload), measured with a counting global allocator, beside the same credentials
//! in a plain `Vec` (what a linear scan holds: no index at all).
//!
//! Run: `cargo bench -p registry-credentials-bench --bench memory`. It prints one table. Run without
//! `--bench` (as `cargo test --benches` does) it checks itself on 10
//! thousand credentials instead.
//!
//! "Strings" are the bytes of every location, username and password, and of
//! each organization, space and app id once; "overhead" is everything else
//! the heap holds for the store: the credential structs, `Arc` headers,
//! hash tables and their spare room. The allocator's own per-block
//! bookkeeping (8 to 16 bytes per block with glibc) is not counted: the
//! table gives the number of blocks so it can be added.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

use registry_credentials::workload::Workload;
use registry_credentials::{CredentialStore, MemoryStore, RegistryCredential};

/// Counts the bytes and blocks live on the heap.
struct Counting;

static BYTES: AtomicIsize = AtomicIsize::new(0);
static BLOCKS: AtomicIsize = AtomicIsize::new(0);

// The one unsafe item of this bench: a global allocator must be an
// `unsafe impl`. It forwards every call to the system allocator unchanged.
#[allow(unsafe_code, reason = "a GlobalAlloc is an unsafe trait")]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            BYTES.fetch_add(layout.size() as isize, Relaxed);
            BLOCKS.fetch_add(1, Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            BYTES.fetch_add(layout.size() as isize, Relaxed);
            BLOCKS.fetch_add(1, Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(ptr, layout) };
        BYTES.fetch_sub(layout.size() as isize, Relaxed);
        BLOCKS.fetch_sub(1, Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            BYTES.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> (isize, isize) {
    (BYTES.load(Relaxed), BLOCKS.load(Relaxed))
}

/// The strings a credential holds itself.
fn own_strings(c: &RegistryCredential) -> usize {
    c.location().as_str().len() + c.username().as_str().len() + c.password().expose().len()
}

/// The id strings the credentials' scopes hold, each once.
fn id_strings(creds: &[impl std::ops::Deref<Target = RegistryCredential>]) -> usize {
    let ids: HashSet<(registry_credentials::ScopeKind, &str)> = creds
        .iter()
        .filter_map(|c| c.scope().id().map(|id| (c.scope().kind(), id)))
        .collect();
    ids.iter().map(|(_, id)| id.len()).sum()
}

struct Row {
    what: &'static str,
    bytes: f64,
    strings: f64,
    blocks: f64,
}

/// Builds `n` credentials into a `MemoryStore`; what it holds once built.
fn measure_store(n: usize) -> Row {
    let before = live();
    let workload = Workload::new(n);
    let store = MemoryStore::new();
    let mut strings = 0;
    for c in workload.credentials() {
        strings += own_strings(&c);
        store.create(c).unwrap();
    }
    drop(workload); // the ids the store uses stay alive through it
    let after = live();
    let all = store.list_all().unwrap();
    assert_eq!(all.len(), n);
    strings += id_strings(&all);
    drop(all);
    black_box(&store);
    row("MemoryStore", n, before, after, strings)
}

/// The same credentials in a `Vec`, sized exactly.
fn measure_vec(n: usize) -> Row {
    let before = live();
    let workload = Workload::new(n);
    let mut v = Vec::with_capacity(n);
    let mut strings = 0;
    for c in workload.credentials() {
        strings += own_strings(&c);
        v.push(c);
    }
    drop(workload);
    let after = live();
    strings += id_strings(&v.iter().collect::<Vec<_>>());
    black_box(&v);
    row("Vec (linear scan)", n, before, after, strings)
}

fn row(
    what: &'static str,
    n: usize,
    before: (isize, isize),
    after: (isize, isize),
    strings: usize,
) -> Row {
    let n = n as f64;
    Row {
        what,
        bytes: (after.0 - before.0) as f64 / n,
        strings: strings as f64 / n,
        blocks: (after.1 - before.1) as f64 / n,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bench = args.iter().any(|a| a == "--bench");
    let filter = args.iter().find(|a| !a.starts_with('-'));
    if filter.is_some_and(|f| !"memory/bytes-per-credential".contains(f.as_str())) {
        return;
    }
    let n = if bench { 1_000_000 } else { 10_000 };
    let ours = measure_store(n);
    let peer = measure_vec(n);
    println!("memory/bytes-per-credential, {n} credentials (heap bytes requested, per credential)");
    println!(
        "{:<20} {:>10} {:>10} {:>10} {:>8}",
        "impl", "total", "strings", "overhead", "blocks"
    );
    for r in [&ours, &peer] {
        println!(
            "{:<20} {:>10.1} {:>10.1} {:>10.1} {:>8.2}",
            r.what,
            r.bytes,
            r.strings,
            r.bytes - r.strings,
            r.blocks
        );
    }
    let overhead = ours.bytes - ours.strings;
    println!(
        "MemoryStore overhead beyond strings: {overhead:.1} bytes (target < 200: {}); index over a Vec: {:.1} bytes",
        if overhead < 200.0 { "met" } else { "MISSED" },
        ours.bytes - peer.bytes
    );
    assert!(
        ours.strings > 0.0 && ours.bytes > ours.strings,
        "the counter counts"
    );
}
