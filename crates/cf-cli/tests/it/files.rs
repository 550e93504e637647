//! The one database and its key: where they live, who may read them,
//! wrong and missing keys, damage, files of the wrong kind, and hostile
//! input.

use std::process::Command;
use std::time::{Duration, Instant};

use super::*;

// ---- one database: files, keys, privacy --------------------------------

/// Every file the tool wrote: the database, its WAL and shared-memory
/// files when present.
fn raw_files(sh: &Shell) -> Vec<(PathBuf, Vec<u8>)> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|s| with_suffix(&sh.db(), s))
        .filter_map(|p| fs::read(&p).ok().map(|b| (p, b)))
        .collect()
}

/// A short session: credentials at two scopes, a push with credentials
/// (an app-scoped one), and the listing.
fn session(sh: &mut Shell) -> Vec<Vec<String>> {
    sh.ok_with(
        Some("hub-Sqlite-Pass-1"),
        "create-foundation-registry-credential docker.io/library --username hub-user",
    );
    sh.ok("auth developer");
    sh.ok("target -o myorg -s myspace");
    sh.ok_with(
        Some("space-Sqlite-Pass-2"),
        "create-space-registry-credential registry.example.com --username space-user",
    );
    let out = sh.ok_with(
        Some("app-Sqlite-Pass-3"),
        "push myapp --docker-image registry.example.com/team/app --docker-username app-user",
    );
    assert_says(&out, "Stored the app's registry credential");
    let rows = sh.rows();
    assert_eq!(
        rows,
        cells(&[
            "registry.example.com/team app app-user myapp",
            "registry.example.com space space-user",
            "docker.io/library foundation hub-user",
        ]),
    );
    rows
}

#[cfg(unix)]
#[test]
fn r21_one_private_database_with_passwords_encrypted() {
    use std::os::unix::fs::PermissionsExt;
    let mut sh = platform("one-db");
    let rows = session(&mut sh);
    // One database and its key in `$CF_HOME/.cf` (mode 0700): no other
    // state file.
    assert_eq!(entries(&sh.home()), [STATE_DIR]);
    let names: Vec<String> = entries(&sh.state_dir())
        .into_iter()
        .filter(|n| !n.ends_with("-wal") && !n.ends_with("-shm"))
        .collect();
    assert_eq!(names, [DB_FILE, KEY_FILE]);
    let mode = fs::metadata(sh.state_dir()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    for (path, bytes) in raw_files(&sh) {
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", path.display());
        for s in &sh.secrets {
            for needle in [s.clone(), hex(s)] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "`{s}` is in {} in clear",
                    path.display()
                );
            }
        }
    }
    let mode = fs::metadata(sh.key_file()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // Every command is a fresh run: the same listing.
    assert_eq!(sh.rows(), rows);
    assert_eq!(
        sh.stored_passwords(),
        [
            "app-Sqlite-Pass-3",
            "hub-Sqlite-Pass-1",
            "space-Sqlite-Pass-2"
        ]
    );
    // A key file or database others may read is refused, and left as it
    // is.
    for file in [sh.key_file(), sh.db()] {
        let before = fs::read(&file).unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        let o = sh.run_with(None, None, "registry-credentials");
        assert_eq!(o.code, 1);
        assert_says(&o.err, "others may access it (mode 644)");
        assert_eq!(fs::read(&file).unwrap(), before);
        fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    }
    sh.ok("delete-space-registry-credential registry.example.com -f");
    assert_eq!(sh.rows().len(), 2);
    sh.assert_no_secret_printed();
}

#[test]
fn r21_wrong_key_is_one_line_and_changes_nothing() {
    let mut sh = platform("wrong-key");
    let rows = session(&mut sh);
    let before = (raw_files(&sh), fs::read(sh.key_file()).unwrap());
    sh.registry_key = Some("5a".repeat(32));
    let e = sh.fails("registry-credentials");
    assert!(
        e.contains("was encrypted with another key") && e.contains("CF_REGISTRY_KEY"),
        "{e}"
    );
    sh.fails_with_saying(
        Some("never-Stored-Pass"),
        "create-space-registry-credential ghcr.io --username x",
        "was encrypted with another key",
    );
    sh.registry_key = Some("not hex".into());
    sh.fails_saying(
        "registry-credentials",
        "CF_REGISTRY_KEY is not 64 hexadecimal digits",
    );
    assert_eq!(
        (raw_files(&sh), fs::read(sh.key_file()).unwrap()),
        before,
        "a refused run changed a file"
    );
    sh.registry_key = Some(fs::read_to_string(sh.key_file()).unwrap());
    assert_eq!(sh.rows(), rows);
    sh.registry_key = None;
    assert_eq!(sh.rows(), rows);
    sh.assert_no_secret_printed();
}

#[test]
fn r21_key_from_the_environment_makes_no_key_file() {
    let mut sh = Shell::new("env-key");
    sh.registry_key = Some("3c".repeat(32));
    sh.ok("auth admin");
    sh.ok_with(
        Some("env-Sqlite-Pass-1"),
        "create-foundation-registry-credential docker.io --username hub-user",
    );
    assert!(!sh.key_file().exists());
    assert_eq!(sh.rows(), cells(&["docker.io foundation hub-user"]));
    // Without the key, the database is not opened with a new one.
    sh.registry_key = None;
    sh.fails_saying("registry-credentials", "set CF_REGISTRY_KEY");
    assert!(!sh.key_file().exists());
}

/// A database cut short, garbled, or gone while its key file is there is
/// one clear error naming the file; nothing is created or overwritten
/// (the stored credentials stay as they were, R16–R18).
#[test]
fn damaged_and_missing_databases_are_reported_not_replaced() {
    let mut sh = platform("damaged");
    session(&mut sh);
    let db = sh.db();
    let bytes = fs::read(&db).unwrap();
    assert!(!with_suffix(&db, "-wal").exists(), "checkpointed on close");

    let page = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    // Garbage over the second page (a table's b-tree page).
    let mut garbled = bytes.clone();
    garbled[page..page + 200].fill(0xa5);
    // Cut short by a few bytes, by half, by a whole page, and to nothing;
    // and garbled.
    let cuts = [bytes.len() - 7, bytes.len() / 2, bytes.len() - page, 0];
    let damaged: Vec<Vec<u8>> = cuts
        .iter()
        .map(|len| bytes[..*len].to_vec())
        .chain([garbled])
        .collect();
    for damaged in damaged {
        let len = damaged.len();
        fs::write(&db, &damaged).unwrap();
        let before = fs::read(&db).unwrap();
        let o = sh.run_with(None, None, "registry-credentials");
        assert_ne!(
            o.code, 0,
            "a database cut to {len} bytes was used: {}",
            o.out
        );
        assert!(o.out.is_empty());
        assert!(
            o.err.contains(&db.display().to_string()) && o.err.contains("damaged"),
            "{}",
            o.err
        );
        failure_message(&o.err, "a damaged database");
        let o = sh.run_with(
            Some("never-Stored"),
            None,
            "create-space-registry-credential ghcr.io --username u",
        );
        assert_ne!(o.code, 0);
        assert_eq!(
            fs::read(&db).unwrap(),
            before,
            "the damaged file was written"
        );
    }
    fs::write(&db, &bytes).unwrap();
    assert_eq!(sh.rows().len(), 3);

    // Missing, while the key file says there was one. The key file was
    // written an hour ago, past the grace the tool gives another process
    // that is creating both, so it answers at once.
    fs::remove_file(&db).unwrap();
    fs::File::options()
        .write(true)
        .open(sh.key_file())
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    let o = sh.run_with(None, None, "auth admin");
    assert_ne!(o.code, 0);
    assert!(
        o.err.contains("is missing but the key file") && o.err.contains(&db.display().to_string()),
        "{}",
        o.err
    );
    assert!(!db.exists(), "a new database was created in its place");
}

/// A FIFO, a directory or a link to a device as the database or the key
/// file is one error, and is never opened (opening a FIFO would wait for
/// a writer forever).
#[cfg(unix)]
#[test]
fn a_fifo_or_device_as_the_database_is_refused_without_hanging() {
    let sh = Shell::new("fifo");
    fs::create_dir_all(sh.state_dir()).unwrap();
    let db = sh.db();
    let key = sh.key_file();
    let mkfifo = |p: &Path| {
        assert!(Command::new("mkfifo").arg(p).status().unwrap().success());
    };
    type Make<'a> = Box<dyn Fn() + 'a>;
    let cases: Vec<(&str, Make<'_>)> = vec![
        ("a FIFO", Box::new(|| mkfifo(&db))),
        ("a directory", Box::new(|| fs::create_dir(&db).unwrap())),
        (
            "a device",
            Box::new(|| std::os::unix::fs::symlink("/dev/zero", &db).unwrap()),
        ),
        ("a FIFO", Box::new(|| mkfifo(&key))),
        (
            "a device",
            Box::new(|| std::os::unix::fs::symlink("/dev/zero", &key).unwrap()),
        ),
    ];
    for (kind, make) in cases {
        for p in [&db, &key] {
            let _ = fs::remove_file(p);
            let _ = fs::remove_dir(p);
        }
        make();
        let mut child = cf_cmd(&sh, &["registry-credentials"], &[])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                panic!("the tool hung on {kind}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{kind}: {err}");
        assert!(
            err.contains(kind) && err.contains("not a regular file"),
            "{err}"
        );
        failure_message(&err, kind);
    }
}

/// A non-UTF-8 argument is a usage error that names its position (and
/// does not repeat it); a non-UTF-8 `CF_DOCKER_PASSWORD` or
/// `CF_REGISTRY_KEY` is an error, never ignored.
#[cfg(unix)]
#[test]
fn non_utf8_arguments_and_variables_are_errors() {
    use std::os::unix::ffi::OsStrExt;
    let sh = platform("non-utf8");
    let bad = std::ffi::OsStr::from_bytes(b"my\xffapp");
    let out = cf_cmd(&sh, &["push"], &[])
        .arg(bad)
        .args(["--docker-image", "nginx"])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_starts(&err, "Incorrect Usage: argument 2 is not valid UTF-8;");
    assert_says(&err, "Usage: cf push");
    assert!(!err.contains("my") && !err.contains('\u{fffd}'), "{err}");

    let before = sh.snapshot();
    for var in ["CF_DOCKER_PASSWORD", "CF_REGISTRY_KEY"] {
        let out = cf_cmd(
            &sh,
            &[
                "create-foundation-registry-credential",
                "docker.io",
                "--username",
                "u",
            ],
            &[],
        )
        .env(var, std::ffi::OsStr::from_bytes(b"pw\xff"))
        .output()
        .unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains(&format!("{var} is set but is not valid UTF-8")),
            "{err}"
        );
    }
    assert_eq!(sh.snapshot(), before);
}

/// A username holding U+2028, a bidi control or a zero-width character
/// could forge a foundation row in a listing: it is refused (R16); a user
/// name that looks like another is refused too; and error lines escape
/// control characters and quote at most 200 characters of an argument
/// (R21).
#[test]
fn r16_r21_a_username_cannot_forge_a_listing_row() {
    let mut sh = platform("forged-row");
    let forged = "evil\u{2028}docker.io   foundation   admin-approved";
    let args: Vec<OsString> = [
        "create-foundation-registry-credential",
        "registry.example.com",
        "--username",
        forged,
    ]
    .iter()
    .map(OsString::from)
    .collect();
    let before = sh.snapshot();
    let o = sh.run_args(Some("forged-Pw-1"), None, &args);
    let e = sh.failed(o, "create with a forged username", &before);
    assert_says(&e, "U+2028");
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    for bad in [
        "a\u{202e}b",
        "zero\u{200b}width",
        "tab\tuser",
        "a:b",
        "esc\u{1b}[2J",
    ] {
        let args: Vec<OsString> = ["auth", "admin"].iter().map(OsString::from).collect();
        sh.run_args(None, None, &args);
        let args: Vec<OsString> = [
            "create-foundation-registry-credential",
            "example.org",
            "--username",
            bad,
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let o = sh.run_args(Some("forged-Pw-2"), None, &args);
        assert_ne!(o.code, 0, "{bad:?} accepted");
    }

    // No program can store such a username through the core either, so
    // no listing can show one (R16).
    assert!(registry_credentials::Username::new(forged).is_err());

    // A user name that looks like another is refused too.
    for bad in ["ad\u{202e}nim", "admin\u{200b}"] {
        let args: Vec<OsString> = ["auth", bad].iter().map(OsString::from).collect();
        let before = sh.snapshot();
        let o = sh.run_args(None, None, &args);
        let e = sh.failed(o, "auth with an invisible character", &before);
        assert_says(&e, "invisible format character");
    }

    // An organization name that is not found is not repeated: it could
    // be anything, a password pasted in the wrong place included.
    let args: Vec<OsString> = ["target", "-o", "\u{1b}]0;pwned\u{7}"]
        .iter()
        .map(OsString::from)
        .collect();
    let before = sh.snapshot();
    let o = sh.run_args(None, None, &args);
    let e = sh.failed(o, "target an unknown organization", &before);
    assert_eq!(e, "organization not found; check the name given with -o");
    // A path given as FILE is not repeated either: the error names the
    // argument, whatever was typed there.
    for path in [
        "/nonexistent/\u{1b}]0;pwned\u{7}".to_owned(),
        format!("/nonexistent/{}", "y".repeat(300)),
    ] {
        let args: Vec<OsString> = ["import-foundation-registry-credentials", &path]
            .iter()
            .map(OsString::from)
            .collect();
        let o = sh.run_args(None, None, &args);
        let e = sh.failed(o, "import from a path that is not there", &before);
        assert_eq!(
            e,
            "cannot read the file given as FILE: No such file or directory (os error 2)"
        );
    }
    let long = format!("{}{}", "x".repeat(5000), '\u{1b}');
    let args: Vec<OsString> = [long.as_str()].iter().map(OsString::from).collect();
    let o = sh.run_args(None, None, &args);
    assert_eq!(o.code, 1);
    assert!(
        o.err
            .starts_with("Incorrect Usage: argument 1 is not a command")
    );
    assert!(!o.err.contains("xxx"), "the unknown command was repeated");
    assert!(!o.err.contains('\u{1b}'));
    sh.assert_no_secret_printed();
}
