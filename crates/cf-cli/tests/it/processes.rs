//! The built binary in several processes: a closed pipe, concurrent
//! writers, killed pushes, readers beside a writer, and first commands
//! racing to create the state.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use super::*;

/// A push whose output goes to a closed pipe (`| head -n 1`) is still one
/// transaction: the app and its credential are saved together (exit 0, a
/// note on stderr), and another organization's push of an app of the same
/// name sees nothing of it (R13: ids are never reused; R19: the app's
/// credential serves that app only).
#[test]
fn r13_r19_a_closed_pipe_never_hands_a_credential_to_another_organization() {
    let sh = Shell::new("broken-pipe");
    let d = &sh;
    cf_ok(d, &["auth", "admin"], &[]);
    for (org, dev) in [("alice-org", "alice"), ("bob-org", "bob")] {
        cf_ok(d, &["create-org", org], &[]);
        cf_ok(d, &["create-space", "dev", "-o", org], &[]);
        cf_ok(
            d,
            &["set-space-role", dev, org, "dev", "SpaceDeveloper"],
            &[],
        );
    }
    cf_ok(d, &["auth", "alice"], &[]);
    cf_ok(d, &["target", "-o", "alice-org", "-s", "dev"], &[]);
    let mut child = cf_cmd(
        d,
        &[
            "push",
            "web",
            "--docker-image",
            "registry.alice.com/team/web",
            "--docker-username",
            "alice-robot",
        ],
        &[("CF_DOCKER_PASSWORD", "alice-Secret-1")],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // The reader goes away before the push writes a byte.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_says(&err, "the command was carried out");
    // Alice's app and its credential are both there.
    let listing = cf_ok(d, &["registry-credentials"], &[]);
    assert!(
        listing.lines().any(|l| l.split_whitespace().eq([
            "registry.alice.com/team",
            "app",
            "alice-robot",
            "web"
        ])),
        "{listing}"
    );

    cf_ok(d, &["auth", "bob"], &[]);
    cf_ok(d, &["target", "-o", "bob-org", "-s", "dev"], &[]);
    let out = cf_ok(
        d,
        &[
            "push",
            "web",
            "--docker-image",
            "registry.alice.com/team/web",
        ],
        &[],
    );
    assert_says(
        &out,
        "No registry credential matches registry.alice.com/team/web",
    );
    assert!(!out.contains("alice-robot"), "{out}");
    let listing = cf_ok(d, &["registry-credentials"], &[]);
    assert!(!listing.contains("alice"), "{listing}");
}

/// Four processes creating 25 credentials each at once: every create that
/// exited 0 is stored, every one that failed is not, and of creates
/// racing for one location exactly one wins, the others being conflicts
/// (R16).
#[test]
fn r16_four_processes_creating_at_once_keep_every_acknowledged_create() {
    let sh = Shell::new("four-writers");
    let d = &sh;
    cf_ok(d, &["auth", "admin"], &[]);
    type Attempt = (String, String, Result<(), String>);
    let results: Vec<Vec<Attempt>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|w| {
                s.spawn(move || {
                    (0..25)
                        .map(|i| {
                            // Every fifth location is contested by all four.
                            let location = if i % 5 == 0 {
                                format!("shared{i}.example.com")
                            } else {
                                format!("w{w}-{i}.example.com")
                            };
                            let user = format!("writer{w}");
                            let o = cf_run(
                                d,
                                &[
                                    "create-foundation-registry-credential",
                                    &location,
                                    "--username",
                                    &user,
                                ],
                                &[("CF_DOCKER_PASSWORD", "four-Writers-Pw")],
                            );
                            let err = String::from_utf8_lossy(&o.stderr).into_owned();
                            if o.status.success() {
                                assert!(err.is_empty(), "{err}");
                            } else {
                                failure_message(&err, &location);
                            }
                            let outcome = if o.status.success() { Ok(()) } else { Err(err) };
                            (location, user, outcome)
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let stored: BTreeMap<String, String> = sh
        .store()
        .list_all()
        .unwrap()
        .iter()
        .map(|c| (c.location().to_string(), c.username().to_string()))
        .collect();
    let mut acked: BTreeMap<String, String> = BTreeMap::new();
    let mut failed = 0;
    let mut busy = 0;
    for (location, user, outcome) in results.into_iter().flatten() {
        if let Err(e) = &outcome {
            // A contested location is taken; any other failure can only be
            // a database busy past the timeout, which says so.
            if e.contains("already exists") {
                assert!(location.starts_with("shared"), "{e}");
            } else {
                assert_says(e, "retry");
                busy += 1;
            }
        }
        if outcome.is_ok() {
            assert!(
                acked.insert(location.clone(), user.clone()).is_none(),
                "two creates of {location} both exited 0"
            );
        } else {
            failed += 1;
            // A failed create stored nothing of its own.
            assert_ne!(
                stored.get(&location),
                Some(&user),
                "{location} failed for {user} but is stored as theirs"
            );
        }
    }
    assert_eq!(
        stored, acked,
        "stored credentials differ from the acknowledged creates"
    );
    // 4 × 20 own locations, and 5 contested ones with one winner each,
    // less what a busy database refused (none, unless the machine is
    // very slow).
    assert!(
        acked.len() + busy >= 85,
        "{} acknowledged, {busy} busy",
        acked.len()
    );
    assert_eq!(acked.len() + failed, 100);
    if busy == 0 {
        assert_eq!((acked.len(), failed), (85, 15));
    }
}

/// A process killed in the middle of a push leaves the database
/// consistent — every app credential belongs to an app in the directory —
/// and every push that exited 0 is there (R19: stored only with the app).
#[cfg(unix)]
#[test]
fn r19_sigkill_during_pushes_keeps_every_acknowledged_push() {
    let sh = platform("sigkill");
    let d = &sh;
    cf_ok(d, &["auth", "developer"], &[]);
    cf_ok(d, &["target", "-o", "myorg", "-s", "myspace"], &[]);
    let mut acked = BTreeSet::new();
    let mut killed = 0;
    for n in 0..40u64 {
        let app = format!("app{n}");
        let user = format!("robot{n}");
        let mut child = cf_cmd(
            d,
            &[
                "push",
                &app,
                "--docker-image",
                "registry.example.com/team/x",
                "--docker-username",
                &user,
            ],
            &[("CF_DOCKER_PASSWORD", "kill-Loop-Pw")],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        // Kill at a different moment each time, sometimes after it ended.
        std::thread::sleep(Duration::from_micros((n * 1_777) % 40_000));
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.success() {
            acked.insert((app, user));
        } else {
            killed += 1;
        }
    }
    // Every command still works on the file.
    let listing = cf_ok(d, &["registry-credentials"], &[]);
    let listed: BTreeSet<(String, String)> = listing
        .lines()
        .skip(2)
        .filter_map(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            (c.get(1) == Some(&"app")).then(|| (c[3].to_owned(), c[2].to_owned()))
        })
        .collect();
    assert!(
        acked.is_subset(&listed),
        "lost: {:?}",
        acked.difference(&listed).collect::<Vec<_>>()
    );
    // Every app credential in the store belongs to an app of the
    // directory (it is listed under the app's name).
    let app_credentials = sh
        .store()
        .list_all()
        .unwrap()
        .iter()
        .filter(|c| c.scope().kind() == registry_credentials::ScopeKind::App)
        .count();
    assert_eq!(app_credentials, listed.len(), "{listing}");
    let raw = rusqlite::Connection::open(sh.db()).unwrap();
    let check: String = raw
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    eprintln!("{} pushes acknowledged, {killed} killed", acked.len());
}

/// Commands that only read never take the write lock, so they never wait
/// behind a writer.
#[test]
fn readers_do_not_take_the_write_lock() {
    let mut sh = platform("readers");
    sh.ok("target -o myorg");
    let writer = rusqlite::Connection::open(sh.db()).unwrap();
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    for args in [&["registry-credentials"][..], &["target"], &["help"]] {
        let started = Instant::now();
        let out = cf_ok(&sh, args, &[]);
        assert!(!out.is_empty());
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{args:?} waited for the writer"
        );
    }
    writer.execute_batch("ROLLBACK").unwrap();
}

/// Several processes creating the state at once all succeed, on one
/// database and one key, and leave no temporary file behind.
#[test]
fn first_commands_at_once_all_succeed() {
    for round in 0..3 {
        let sh = Shell::new(&format!("first-at-once-{round}"));
        let outputs: Vec<Output> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| cf_run(&sh, &["auth", "admin"], &[])))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for o in outputs {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        cf_ok(&sh, &["create-org", "o"], &[]);
        let leftovers: Vec<_> = fs::read_dir(sh.state_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
