//! `SqliteStore` under chaos (R28): a writer process with four threads is
//! killed with SIGKILL at a random moment, eight times over one file.
//! Every write a thread acknowledges is logged before the next begins;
//! after each kill the file must pass SQLite's integrity check and hold,
//! for every thread, exactly its acknowledged writes, plus at most the one
//! it had in flight, whole. No write is lost, none is applied twice, and a
//! write that was in flight is either all there or not at all; the run
//! prints how many in-flight writes each way.
//!
//! SIGKILL ends the process but not the kernel: what it wrote to the page
//! cache reaches the file. So this shows that the file stays consistent
//! and that every acknowledged (committed) write is there for the next
//! process, whatever instant the writer dies at; not durability across a
//! power loss, which needs `fsync` to reach the disk
//! (`SqliteOptions::sync_every_commit`, on by default).
#![cfg(feature = "sqlite")]

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use registry_credentials::credential::CredentialUpdate;
use registry_credentials::store::CredentialStore;
use registry_credentials::store::conformance::{cred, loc, org};
use registry_credentials::{Password, Username};
use registry_credentials_sql::SqliteStore;
use support::keyring;

const CHILD_ENV: &str = "REGISTRY_CREDENTIALS_CHAOS_CHILD";
const THREADS: usize = 4;
const ROUNDS: usize = 8;

/// The organization thread `t` of round `r` writes in.
fn scope_name(round: usize, t: usize) -> String {
    format!("r{round}-t{t}")
}

fn name(i: usize) -> String {
    format!("c{i}.example.com")
}

/// The `n`th write of a thread: create, change the password, then either
/// delete or rename, over a sliding set of locations.
fn op(store: &SqliteStore, scope: &str, n: usize) {
    let o = org(scope);
    let result = match n % 3 {
        0 => store
            .create(cred(o, &name(n), &format!("u{n}"), &format!("p{n}")))
            .map(drop),
        1 => store
            .update(
                o.as_scope_ref(),
                &loc(&name(n - 1)),
                CredentialUpdate::Password(Password::new(format!("p{n}")).unwrap()),
            )
            .map(drop),
        _ if (n / 3) % 2 == 1 => store.delete(o.as_scope_ref(), &loc(&name(n - 2))).map(drop),
        _ => store
            .update(
                o.as_scope_ref(),
                &loc(&name(n - 2)),
                CredentialUpdate::Username(Username::new(format!("u{n}")).unwrap()),
            )
            .map(drop),
    };
    // Every write of the stream is valid: any error is a failure of the
    // store, and the parent sees the thread stop acknowledging.
    result.unwrap();
}

/// An organization's credentials: location → (username, password).
type Held = BTreeMap<String, (String, String)>;

/// What a thread's organization holds after its first `k` writes.
fn model(k: usize) -> Held {
    let mut m = BTreeMap::new();
    for n in 0..k {
        match n % 3 {
            0 => {
                m.insert(name(n), (format!("u{n}"), format!("p{n}")));
            }
            1 => m.get_mut(&name(n - 1)).unwrap().1 = format!("p{n}"),
            _ if (n / 3) % 2 == 1 => {
                m.remove(&name(n - 2));
            }
            _ => m.get_mut(&name(n - 2)).unwrap().0 = format!("u{n}"),
        }
    }
    m
}

fn stored(store: &SqliteStore, scope: &str) -> Held {
    store
        .list(org(scope).as_scope_ref())
        .unwrap()
        .iter()
        .map(|c| {
            (
                c.location().as_str().to_owned(),
                (
                    c.username().as_str().to_owned(),
                    c.password().expose().to_owned(),
                ),
            )
        })
        .collect()
}

/// The writer: `THREADS` threads, each printing `ack T N` once its `N`th
/// write has returned.
fn child_main(path: &Path, round: usize) {
    let store = SqliteStore::open(path, keyring()).unwrap();
    let out = Mutex::new(std::io::stdout());
    writeln!(out.lock().unwrap()).unwrap();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (store, out) = (&store, &out);
            s.spawn(move || {
                let scope = scope_name(round, t);
                for n in 0.. {
                    op(store, &scope, n);
                    let mut out = out.lock().unwrap();
                    writeln!(out, "ack {t} {n}").unwrap();
                    out.flush().unwrap();
                }
            });
        }
    });
}

#[test]
fn r28_chaos_a_killed_writer_loses_no_acknowledged_write_and_applies_none_twice() {
    if let Ok(role) = std::env::var(CHILD_ENV) {
        let (path, round) = role.split_once('|').unwrap();
        child_main(Path::new(path), round.parse().unwrap());
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("chaos-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("chaos.db");
    let mut seed = u64::from(std::process::id()) | 1;
    let (mut acked_total, mut in_flight_applied, mut in_flight_not) = (0, 0, 0);
    let mut settled: Vec<(String, Held)> = Vec::new();
    for round in 0..ROUNDS {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let kill_after = 40 + (seed % 400) as usize;
        let mut proc = Command::new(std::env::current_exe().unwrap())
            .args([
                "r28_chaos_a_killed_writer_loses_no_acknowledged_write_and_applies_none_twice",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, format!("{}|{round}", path.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut acked = [0usize; THREADS];
        let mut record = |line: &str| {
            if let Some(rest) = line.strip_prefix("ack ") {
                let (t, n) = rest.split_once(' ').unwrap();
                let (t, n): (usize, usize) = (t.parse().unwrap(), n.parse().unwrap());
                assert_eq!(n, acked[t], "thread {t} acknowledged out of order");
                acked[t] += 1;
            }
        };
        let mut lines = BufReader::new(proc.stdout.take().unwrap()).lines();
        let mut seen = 0;
        while seen < kill_after {
            let line = lines.next().expect("the writer ended early").unwrap();
            record(&line);
            seen += usize::from(line.starts_with("ack "));
        }
        // A random instant within the next writes, not just after an ack.
        std::thread::sleep(std::time::Duration::from_micros(seed % 5000));
        proc.kill().unwrap(); // SIGKILL
        proc.wait().unwrap();
        for line in lines {
            record(&line.unwrap());
        }

        let raw = registry_credentials_sql::rusqlite::Connection::open(&path).unwrap();
        let check: String = raw
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "round {round}");
        drop(raw);
        let store = SqliteStore::open(&path, keyring()).unwrap();
        for (t, &k) in acked.iter().enumerate() {
            let found = stored(&store, &scope_name(round, t));
            if found == model(k) {
                in_flight_not += 1;
            } else if found == model(k + 1) {
                in_flight_applied += 1;
            } else {
                panic!(
                    "round {round}, thread {t}: after {k} acknowledged writes the file holds {found:?}"
                );
            }
        }
        // Earlier rounds' writes are still there, untouched.
        for (scope, expected) in &settled {
            assert_eq!(
                &stored(&store, scope),
                expected,
                "{scope} after round {round}"
            );
        }
        for t in 0..THREADS {
            let scope = scope_name(round, t);
            let found = stored(&store, &scope);
            settled.push((scope, found));
        }
        acked_total += acked.iter().sum::<usize>();
    }
    println!(
        "sqlite chaos: {ROUNDS} kills of a {THREADS}-thread writer, {acked_total} acknowledged writes, all found; \
         of the {} writes in flight at a kill, {in_flight_applied} were there whole and {in_flight_not} not at all",
        ROUNDS * THREADS
    );
}
