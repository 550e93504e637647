//! The `cf` command line (`cargo run -p registry-credentials-cf --features
//! cli --bin cf`): the user page's own sequence of commands (R16–R21), its
//! errors, and its one database, driven in this process through the same
//! interpreter the binary runs; and, where the reproduction needs
//! processes, the built binary itself (issue 11: concurrent commands, a
//! closed pipe, a killed process, damaged files, hostile input).

#[path = "../src/bin/cf/interp.rs"]
mod cf;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use registry_credentials::CredentialStore;
use registry_credentials_sql::rusqlite;
use registry_credentials_sql::{EncryptionKey, Keyring, SqliteStore};

/// A working directory with its own database.
struct Shell {
    dir: PathBuf,
    /// Every byte written to standard output or error, to check for
    /// secrets at the end.
    transcript: String,
    /// Passwords used, none of which may ever be printed.
    secrets: Vec<String>,
    /// `CF_REGISTRY_KEY` for the runs.
    registry_key: Option<String>,
}

struct Outcome {
    code: i32,
    out: String,
    err: String,
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

impl Shell {
    fn new(name: &str) -> Self {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cf-{name}"));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Shell {
            dir,
            transcript: String::new(),
            secrets: Vec::new(),
            registry_key: None,
        }
    }

    fn state(&self) -> PathBuf {
        self.dir.join(cf::STATE_FILE)
    }

    fn db(&self) -> PathBuf {
        with_suffix(&self.state(), cf::DB_SUFFIX)
    }

    fn key_file(&self) -> PathBuf {
        with_suffix(&self.state(), cf::KEY_SUFFIX)
    }

    /// Runs `args` with `CF_DOCKER_PASSWORD` set to `env`, and `prompt` as
    /// what the user types at a password prompt (`None`: there is no
    /// terminal).
    fn run_args(&mut self, env: Option<&str>, prompt: Option<&str>, args: &[OsString]) -> Outcome {
        let state = self.state();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut prompted = |_: &str| match prompt {
            Some(answer) => Ok(answer.to_owned()),
            None => Err(io::Error::new(io::ErrorKind::NotFound, "no terminal")),
        };
        for secret in env.into_iter().chain(prompt).filter(|s| !s.is_empty()) {
            self.secrets.push(secret.to_owned());
        }
        let mut io = cf::Io {
            state: &state,
            password_env: env.map(OsString::from),
            registry_key: self.registry_key.clone().map(OsString::from),
            prompt: &mut prompted,
            out: &mut out,
            err: &mut err,
        };
        let code = cf::main(args, &mut io);
        let (out, err) = (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        );
        self.transcript.push_str(&out);
        self.transcript.push_str(&err);
        Outcome { code, out, err }
    }

    /// Runs `line` (split on white space).
    fn run_with(&mut self, env: Option<&str>, prompt: Option<&str>, line: &str) -> Outcome {
        let args: Vec<OsString> = line.split_whitespace().map(OsString::from).collect();
        self.run_args(env, prompt, &args)
    }

    fn ok_with(&mut self, env: Option<&str>, line: &str) -> String {
        let o = self.run_with(env, None, line);
        assert_eq!(o.code, 0, "`{line}` failed: {}", o.err);
        assert!(o.err.is_empty(), "`{line}` wrote to stderr: {}", o.err);
        o.out
    }

    fn ok(&mut self, line: &str) -> String {
        self.ok_with(None, line)
    }

    /// Checks a failed run: one line on stderr, a non-zero exit, and the
    /// database unchanged. Returns the line.
    fn failed(&self, o: Outcome, what: &str, before: &Option<Snapshot>) -> String {
        assert_ne!(o.code, 0, "`{what}` succeeded: {}", o.out);
        assert_eq!(o.err.lines().count(), 1, "`{what}`: {:?}", o.err);
        assert!(o.err.ends_with('\n'));
        assert!(o.out.is_empty(), "`{what}` printed {:?}", o.out);
        assert_eq!(&self.snapshot(), before, "`{what}` changed the database");
        o.err.trim_end().to_owned()
    }

    /// Runs a command that must fail: one line on stderr, a non-zero exit,
    /// and nothing changed. Returns the line.
    fn fails_with(&mut self, env: Option<&str>, line: &str) -> String {
        let before = self.snapshot();
        let o = self.run_with(env, None, line);
        self.failed(o, line, &before)
    }

    fn fails(&mut self, line: &str) -> String {
        self.fails_with(None, line)
    }

    /// The listing's rows, each as its white-space-separated cells.
    fn rows(&mut self) -> Vec<Vec<String>> {
        let out = self.ok("registry-credentials");
        out.lines()
            .skip(2)
            .map(|l| l.split_whitespace().map(str::to_owned).collect())
            .collect()
    }

    /// Every row of every table of the database, read-only, or `None`
    /// when there is no database.
    fn snapshot(&self) -> Option<Snapshot> {
        snapshot(&self.db())
    }

    fn key_hex(&self) -> String {
        match &self.registry_key {
            Some(k) => k.clone(),
            None => fs::read_to_string(self.key_file()).unwrap(),
        }
    }

    /// The database as a store, with its key.
    fn store(&self) -> SqliteStore {
        let key = EncryptionKey::from_hex("cf", &self.key_hex()).unwrap();
        SqliteStore::open(self.db(), Keyring::new(key)).unwrap()
    }

    /// The stored passwords, sorted.
    fn stored_passwords(&self) -> Vec<String> {
        let mut found: Vec<String> = self
            .store()
            .list_all()
            .unwrap()
            .iter()
            .map(|c| c.password().expose().to_owned())
            .collect();
        found.sort();
        found
    }

    fn assert_no_secret_printed(&self) {
        for s in &self.secrets {
            assert!(!self.transcript.contains(s.as_str()), "`{s}` was printed");
            assert!(
                !self.transcript.contains(&hex(s)),
                "`{s}` was printed in hex"
            );
        }
    }
}

type Snapshot = BTreeMap<String, Vec<String>>;

fn snapshot(db: &Path) -> Option<Snapshot> {
    if !db.exists() {
        return None;
    }
    // A connection as the tool's: on close it folds the WAL back into the
    // file and removes it (a read-only one would leave it behind).
    let c = rusqlite::Connection::open(db).unwrap();
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut snap = BTreeMap::new();
    for t in tables {
        let mut stmt = c.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                Ok((0..n)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.sort();
        snap.insert(t, rows);
    }
    Some(snap)
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn cells(rows: &[&str]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.split_whitespace().map(str::to_owned).collect())
        .collect()
}

/// The platform the page assumes: an admin, an organization with a space,
/// an Org Manager and a Space Developer.
fn platform(name: &str) -> Shell {
    let mut sh = Shell::new(name);
    sh.ok("auth admin");
    sh.ok("create-org myorg");
    sh.ok("create-space myspace -o myorg");
    sh.ok("set-org-role org-manager myorg OrgManager");
    sh.ok("set-space-role developer myorg myspace SpaceDeveloper");
    sh
}

#[test]
fn r16_r21_the_user_page_replayed() {
    let mut sh = platform("page");

    // "an Admin can create a Registry Credential for the Foundation"
    sh.ok_with(
        Some("hub-Password-1"),
        "create-foundation-registry-credential docker.io/library --username docker-user",
    );
    sh.ok_with(
        Some("repo-Password-2"),
        "create-foundation-registry-credential registry.example.com/repo --username private-repo-user",
    );

    // "an Org Manager can create a Registry Credential for an Organization"
    sh.ok("auth org-manager");
    sh.ok("target -o myorg");
    sh.ok_with(
        Some("org-Password-3"),
        "create-org-registry-credential registry.example.com/repo --username orguser",
    );

    // "Space Developers can push apps referencing images in the private
    // registry without providing credentials"
    sh.ok("auth developer");
    let out = sh.ok("target -o myorg -s myspace");
    assert!(
        out.contains("org:    myorg") && out.contains("space:  myspace"),
        "{out}"
    );
    let out = sh.ok("push otherapp --docker-image registry.example.com/repo/image:tag");
    assert!(
        out.contains(
            "Using registry credential: scope organization, location registry.example.com/repo, username orguser"
        ),
        "{out}"
    );

    // "to create a Space-scoped Registry Credential, the user must target
    // the Space first"
    sh.ok_with(
        Some("space-Password-4"),
        "create-space-registry-credential registry.example.com --username spaceuser",
    );

    // "If an App is pushed with Docker credentials provided, an App-scoped
    // Registry Credential is created automatically"
    let out = sh.ok_with(
        Some("app-Password-5"),
        "push myapp --docker-image nginx --docker-username myuser",
    );
    assert!(
        out.contains(
            "Using registry credential: scope push, location docker.io/library, username myuser"
        ),
        "{out}"
    );
    assert!(
        out.contains("Stored the app's registry credential for docker.io/library"),
        "{out}"
    );

    // The page's listing (with its typo `docker.io/libary` read as meant).
    let out = sh.ok("registry-credentials");
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("Showing registry credentials available to org 'myorg' and space 'myspace'...")
    );
    assert_eq!(
        lines.collect::<Vec<_>>().join("\n"),
        "\
location                    scope          username            app name
docker.io/library           app            myuser              myapp
registry.example.com        space          spaceuser
registry.example.com/repo   organization   orguser
docker.io/library           foundation     docker-user
registry.example.com/repo   foundation     private-repo-user"
    );

    // Resolution reads the current store (R14, R17): the app credential
    // now serves later pushes without credentials…
    let out = sh.ok("push myapp --docker-image nginx");
    assert!(
        out.contains("scope app, location docker.io/library, username myuser"),
        "{out}"
    );
    // …and serves that app alone (R19).
    let out = sh.ok("push thirdapp --docker-image library/nginx:1.27");
    assert!(
        out.contains("scope foundation, location docker.io/library, username docker-user"),
        "{out}"
    );

    // "Providing new credentials on future pushes updates the App-scoped
    // Registry Credential."
    let out = sh.ok_with(
        Some("app-Password-6"),
        "push myapp --docker-image nginx --docker-username newuser",
    );
    assert!(
        out.contains("Replaced the app's registry credential"),
        "{out}"
    );

    // Updating: "Only username or password may be updated".
    sh.ok_with(
        Some("space-Password-7"),
        "update-space-registry-credential registry.example.com --username spaceuser2",
    );
    sh.ok("auth org-manager");
    sh.ok("target -o myorg");
    sh.ok_with(
        Some("org-Password-8"),
        "update-org-registry-credential registry.example.com/repo",
    );
    sh.ok("auth admin");
    sh.ok_with(
        Some("hub-Password-9"),
        "update-foundation-registry-credential docker.io/library --username docker-user2",
    );

    sh.ok("auth developer");
    sh.ok("target -o myorg -s myspace");
    assert_eq!(
        sh.rows(),
        cells(&[
            "docker.io/library app newuser myapp",
            "registry.example.com space spaceuser2",
            "registry.example.com/repo organization orguser",
            "docker.io/library foundation docker-user2",
            "registry.example.com/repo foundation private-repo-user",
        ])
    );

    // Deleting, with the page's four commands.
    sh.ok("delete-app-registry-credential docker.io/library myapp");
    let out = sh.ok("push myapp --docker-image nginx");
    assert!(
        out.contains("scope foundation, location docker.io/library, username docker-user2"),
        "{out}"
    );
    sh.ok("delete-space-registry-credential registry.example.com");
    sh.ok("auth org-manager");
    sh.ok("target -o myorg");
    sh.ok("delete-org-registry-credential registry.example.com/repo");
    sh.ok("auth admin");
    sh.ok("delete-foundation-registry-credential docker.io/library");
    sh.ok("target -o myorg -s myspace");
    assert_eq!(
        sh.rows(),
        cells(&["registry.example.com/repo foundation private-repo-user"])
    );
    // R15: nothing matches, the push goes on.
    let out = sh.ok("push myapp --docker-image nginx");
    assert!(
        out.contains("No registry credential matches nginx"),
        "{out}"
    );

    // "If no space or organization is targeted, only Registry Credentials
    // available to the foundation are listed."
    sh.ok("auth developer");
    let out = sh.ok("registry-credentials");
    assert!(out.starts_with("Showing registry credentials available to the foundation...\n"));

    sh.assert_no_secret_printed();
}

#[test]
fn r20_refusals_are_one_line_and_change_nothing() {
    let mut sh = platform("refusals");
    sh.ok("auth developer");
    sh.ok("target -o myorg -s myspace");
    let e = sh.fails_with(
        Some("pw-refused-1"),
        "create-org-registry-credential registry.example.com --username u",
    );
    assert_eq!(
        e,
        "FAILED: user `developer` may not create registry credentials for organization `myorg`: only an admin or an org manager of that organization may"
    );
    sh.fails_with(
        Some("pw-refused-2"),
        "create-foundation-registry-credential registry.example.com --username u",
    );
    sh.fails("create-org other");
    // Refused before any password is asked for (there is no terminal here:
    // a prompt would fail differently).
    let e = sh.fails("create-org-registry-credential registry.example.com --username u");
    assert!(e.contains("may not create registry credentials"), "{e}");
    let e = sh.fails("update-foundation-registry-credential registry.example.com --username u");
    assert!(
        e.contains("may not update registry credentials for the foundation"),
        "{e}"
    );

    // R20: an Org Manager may not change space credentials.
    sh.ok("auth org-manager");
    sh.ok("target -o myorg -s myspace");
    let e = sh.fails_with(
        Some("pw-refused-3"),
        "create-space-registry-credential registry.example.com --username u",
    );
    assert!(
        e.contains("only an admin or a space developer of that space may"),
        "{e}"
    );
    let e = sh.fails_with(
        Some("pw-refused-4"),
        "push app --docker-image nginx --docker-username u",
    );
    assert!(e.contains("may not push app `app`"), "{e}");
    let e = sh.fails("push app --docker-image nginx --docker-username u");
    assert!(e.contains("may not push app `app`"), "{e}");

    // R21: an organization the caller has no role in is not found.
    sh.ok("auth stranger");
    assert_eq!(
        sh.fails("target -o myorg"),
        "FAILED: organization `myorg` not found"
    );
    sh.assert_no_secret_printed();
}

#[test]
fn r16_r18_conflicts_missing_and_bad_input() {
    let mut sh = platform("errors");
    sh.ok_with(
        Some("pw-errors-1"),
        "create-foundation-registry-credential registry.example.com --username a",
    );
    let e = sh.fails_with(
        Some("pw-errors-2"),
        "create-foundation-registry-credential Registry.Example.com --username b",
    );
    assert_eq!(
        e,
        "FAILED: a registry credential for `registry.example.com` already exists for the foundation; update or delete it instead"
    );
    let e = sh.fails_with(
        Some("pw-errors-3"),
        "update-foundation-registry-credential example.com --username b",
    );
    assert!(
        e.contains("no registry credential for `example.com` exists for the foundation"),
        "{e}"
    );
    sh.fails("delete-foundation-registry-credential example.com");
    // R8: the page's own example location is refused with the fix.
    let e = sh.fails_with(
        Some("pw-errors-4"),
        "create-foundation-registry-credential registry.example.com/path/to/repo:5000 --username u",
    );
    assert!(
        e.contains("did you mean `registry.example.com:5000/path/to/repo`?"),
        "{e}"
    );
    let e = sh.fails("create-foundation-registry-credential example.org");
    assert!(e.contains("needs `--username VALUE`"), "{e}");
    let e = sh.fails_with(
        Some(""),
        "create-foundation-registry-credential example.org --username u",
    );
    assert!(
        e.contains("CF_DOCKER_PASSWORD: the password is empty"),
        "{e}"
    );
    // No CF_DOCKER_PASSWORD and no terminal to prompt on.
    let e = sh.fails("create-foundation-registry-credential example.org --username u");
    assert!(
        e.contains("set CF_DOCKER_PASSWORD or run in a terminal"),
        "{e}"
    );
    let o = sh.run_with(None, None, "frobnicate");
    assert_eq!(o.code, 2);
    assert!(
        o.err
            .starts_with("FAILED: `frobnicate` is not a command; commands: auth USER")
    );
    let o = sh.run_with(None, None, "");
    assert_eq!(o.code, 2);
    sh.ok("auth nobody");
    sh.fails("create-space-registry-credential example.org --username u");
    sh.assert_no_secret_printed();
}

#[test]
fn r17_password_from_the_prompt_and_partial_updates() {
    let mut sh = platform("prompt");
    let o = sh.run_with(
        None,
        Some("typed-Password-1"),
        "create-foundation-registry-credential registry.example.com --username a",
    );
    assert_eq!(o.code, 0, "{}", o.err);
    // An empty answer keeps the password: a username-only update.
    let o = sh.run_with(
        None,
        Some(""),
        "update-foundation-registry-credential registry.example.com --username b",
    );
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(sh.stored_passwords(), ["typed-Password-1"]);
    // A password-only update.
    let o = sh.run_with(
        None,
        Some("typed-Password-2"),
        "update-foundation-registry-credential registry.example.com",
    );
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(sh.stored_passwords(), ["typed-Password-2"]);
    assert_eq!(sh.rows(), cells(&["registry.example.com foundation b"]));
    sh.assert_no_secret_printed();
}

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
    assert!(
        out.contains("Stored the app's registry credential"),
        "{out}"
    );
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
    // One database and its key: no other state file.
    let mut names: Vec<String> = fs::read_dir(&sh.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.ends_with("-wal") && !n.ends_with("-shm"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".cf-registry-credentials.db",
            ".cf-registry-credentials.key"
        ]
    );
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
        assert!(
            o.err.contains("others may access it (mode 644)"),
            "{}",
            o.err
        );
        assert_eq!(fs::read(&file).unwrap(), before);
        fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    }
    sh.ok("delete-space-registry-credential registry.example.com");
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
    let e = sh.fails_with(
        Some("never-Stored-Pass"),
        "create-space-registry-credential ghcr.io --username x",
    );
    assert!(e.contains("was encrypted with another key"), "{e}");
    sh.registry_key = Some("not hex".into());
    let e = sh.fails("registry-credentials");
    assert!(
        e.contains("CF_REGISTRY_KEY is not 64 hexadecimal digits"),
        "{e}"
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
    let e = sh.fails("registry-credentials");
    assert!(e.contains("set CF_REGISTRY_KEY"), "{e}");
    assert!(!sh.key_file().exists());
}

#[test]
fn an_earlier_releases_state_file_is_refused_not_replaced() {
    let mut sh = Shell::new("old-state");
    fs::write(sh.state(), "cf-registry-credentials-state\t1\n").unwrap();
    let e = sh.fails("auth admin");
    assert!(e.contains("state file of an earlier release"), "{e}");
    assert!(!sh.db().exists() && !sh.key_file().exists());
}

/// R13 through the tool: `delete-org`, `delete-space` and `delete APP`
/// delete what is stored at that scope and below it; a later one of the
/// same name is a new id and inherits nothing. R20: who may.
#[test]
fn r13_delete_org_space_and_app_delete_their_credentials() {
    let mut sh = platform("delete");
    sh.ok("auth developer");
    sh.ok("target -o myorg -s myspace");
    sh.ok_with(
        Some("del-Pass-1"),
        "create-space-registry-credential registry.example.com --username space-user",
    );
    sh.ok_with(
        Some("del-Pass-2"),
        "push myapp --docker-image registry.example.com/team/x --docker-username app-user",
    );
    // R20: an Org Manager may not delete an app; a developer not a space.
    sh.ok("auth org-manager");
    sh.ok("target -o myorg -s myspace");
    let e = sh.fails("delete myapp -f");
    assert!(e.contains("may not delete app `myapp`"), "{e}");
    sh.ok("auth developer");
    sh.ok("target -o myorg -s myspace");
    let e = sh.fails("delete-space myspace -o myorg -f");
    assert!(e.contains("may not delete spaces"), "{e}");
    let e = sh.fails("delete-org myorg -f");
    assert!(e.contains("may not delete organizations"), "{e}");

    let out = sh.ok("delete myapp -f");
    assert!(
        out.starts_with("Deleting app myapp in org myorg / space myspace as developer...\n"),
        "{out}"
    );
    let out = sh.ok("push myapp --docker-image registry.example.com/team/x");
    assert!(
        out.contains("scope space, location registry.example.com, username space-user"),
        "{out}"
    );
    sh.ok("auth org-manager");
    sh.ok("delete-space myspace -o myorg");
    sh.ok("auth admin");
    sh.ok("delete-org myorg");
    assert_eq!(sh.store().list_all().unwrap().len(), 0);
    // The same names again: new ids, nothing inherited.
    sh.ok("create-org myorg");
    sh.ok("create-space myspace -o myorg");
    sh.ok("set-space-role developer myorg myspace SpaceDeveloper");
    sh.ok("auth developer");
    sh.ok("target -o myorg -s myspace");
    let out = sh.ok("push myapp --docker-image registry.example.com/team/x");
    assert!(out.contains("No registry credential matches"), "{out}");
    assert_eq!(sh.rows(), Vec::<Vec<String>>::new());
    sh.assert_no_secret_printed();
}

// ---- issue 11's reproductions, with the built binary -----------------------

/// The built `cf` binary, run in `dir` with `env` added.
fn cf_cmd(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cf"));
    c.current_dir(dir)
        .args(args)
        .env_remove("CF_DOCKER_PASSWORD")
        .env_remove("CF_REGISTRY_KEY")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

fn cf_run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    cf_cmd(dir, args, env).output().unwrap()
}

fn cf_ok(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let o = cf_run(dir, args, env);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Issue 11: a push whose output goes to a closed pipe (`| head -n 1`)
/// after its credential was committed used to leave the app unsaved, and
/// the next app created got the old id with its credential — another
/// organization's. Now the push is one transaction: the credential and
/// the app are saved together (exit 0, a note on stderr), and another
/// organization's push sees nothing of it.
#[test]
fn issue11_a_closed_pipe_never_hands_a_credential_to_another_organization() {
    let sh = Shell::new("broken-pipe");
    let d = &sh.dir;
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
    assert!(err.contains("the command was carried out"), "{err}");
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
    assert!(
        out.contains("No registry credential matches registry.alice.com/team/web"),
        "{out}"
    );
    assert!(!out.contains("alice-robot"), "{out}");
    let listing = cf_ok(d, &["registry-credentials"], &[]);
    assert!(!listing.contains("alice"), "{listing}");
}

/// Issue 11: four shells creating credentials at once lost acknowledged
/// writes and stored failed ones. Now every create that exited 0 is
/// stored, and every one that failed is not; of creates racing for one
/// location exactly one wins.
#[test]
fn issue11_four_processes_creating_25_credentials_each() {
    let sh = Shell::new("four-writers");
    let d = sh.dir.clone();
    cf_ok(&d, &["auth", "admin"], &[]);
    type Attempt = (String, String, Result<(), String>);
    let results: Vec<Vec<Attempt>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|w| {
                let d = d.clone();
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
                                &d,
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
                                assert_eq!(err.lines().count(), 1, "{err}");
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
                assert!(e.contains("retry"), "{e}");
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

/// Issue 11: a process killed in the middle of a push leaves the database
/// consistent — every app credential belongs to an app in the directory —
/// and every push that exited 0 is there.
#[cfg(unix)]
#[test]
fn issue11_sigkill_during_pushes_keeps_every_acknowledged_push() {
    let sh = platform("sigkill");
    let d = &sh.dir;
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

/// Issue 11: a database cut short, or gone while its key file is there,
/// used to load without complaint or start over. Now each is one clear
/// error naming the file, and nothing is created or overwritten.
#[test]
fn issue11_truncated_and_missing_databases_are_reported_not_replaced() {
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
        assert_eq!(o.err.lines().count(), 1);
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

/// Issue 11: a state file that was a FIFO hung the tool forever. A FIFO,
/// a directory or a link to a device as the database or the key file is
/// now one error, and never opened.
#[cfg(unix)]
#[test]
fn issue11_a_fifo_or_device_as_the_database_is_refused_without_hanging() {
    let sh = Shell::new("fifo");
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
        let mut child = cf_cmd(&sh.dir, &["registry-credentials"], &[])
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
        assert_eq!(err.lines().count(), 1);
    }
}

/// Issue 11: a non-UTF-8 argument panicked, and a non-UTF-8
/// `CF_DOCKER_PASSWORD` or `CF_REGISTRY_KEY` was silently ignored. Now
/// each is a clear error.
#[cfg(unix)]
#[test]
fn issue11_non_utf8_arguments_and_variables_are_errors() {
    use std::os::unix::ffi::OsStrExt;
    let sh = platform("non-utf8");
    let bad = std::ffi::OsStr::from_bytes(b"my\xffapp");
    let out = cf_cmd(&sh.dir, &["push"], &[])
        .arg(bad)
        .args(["--docker-image", "nginx"])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("argument 2 is not valid UTF-8"), "{err}");
    assert_eq!(err.lines().count(), 1);

    let before = sh.snapshot();
    for var in ["CF_DOCKER_PASSWORD", "CF_REGISTRY_KEY"] {
        let out = cf_cmd(
            &sh.dir,
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

/// Issue 11: a username holding U+2028, a bidi control or a zero-width
/// character forged a foundation row in listings, and terminal escapes
/// were echoed raw in errors. Now such a username is refused (revised
/// R16), a row that holds one anyway prints escaped on one line (revised
/// R21), and error lines escape control characters and quote at most
/// 200 characters of an argument.
#[test]
fn issue11_a_username_cannot_forge_a_listing_row() {
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
    assert!(e.contains("U+2028"), "{e}");
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
        assert!(e.contains("invisible character"), "{e}");
    }

    // Error lines escape what they repeat, and cut long arguments.
    let args: Vec<OsString> = ["target", "-o", "\u{1b}]0;pwned\u{7}"]
        .iter()
        .map(OsString::from)
        .collect();
    let o = sh.run_args(None, None, &args);
    assert_ne!(o.code, 0);
    assert!(
        !o.err.contains('\u{1b}') && !o.err.contains('\u{7}'),
        "{:?}",
        o.err
    );
    assert!(o.err.contains("\\u{1b}"), "{:?}", o.err);
    let args: Vec<OsString> = ["target", "-o", &"y".repeat(300)]
        .iter()
        .map(OsString::from)
        .collect();
    let o = sh.run_args(None, None, &args);
    assert_ne!(o.code, 0);
    assert!(
        o.err.contains(&format!("{}…", "y".repeat(200))),
        "{}",
        o.err
    );
    assert!(!o.err.contains(&"y".repeat(201)), "{}", o.err);
    let long = format!("{}{}", "x".repeat(5000), '\u{1b}');
    let args: Vec<OsString> = [long.as_str()].iter().map(OsString::from).collect();
    let o = sh.run_args(None, None, &args);
    assert_eq!(o.code, 2);
    assert!(o.err.len() < 1200, "{} bytes", o.err.len());
    assert!(!o.err.contains('\u{1b}'));
    sh.assert_no_secret_printed();
}

/// Issue 11: every command took the write lock on opening, so readers
/// waited behind any writer and failed after 5 s. Now reading commands
/// never wait for a writer.
#[test]
fn issue11_readers_do_not_take_the_write_lock() {
    let mut sh = platform("readers");
    sh.ok("target -o myorg");
    let writer = rusqlite::Connection::open(sh.db()).unwrap();
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    for args in [&["registry-credentials"][..], &["target"], &["help"]] {
        let started = Instant::now();
        let out = cf_ok(&sh.dir, args, &[]);
        assert!(!out.is_empty());
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{args:?} waited for the writer"
        );
    }
    writer.execute_batch("ROLLBACK").unwrap();
}

/// Issue 11: several processes opening a new database at once failed
/// with "database is locked". Now all of them succeed, on one database
/// and one key.
#[test]
fn issue11_first_commands_at_once_all_succeed() {
    for round in 0..3 {
        let sh = Shell::new(&format!("first-at-once-{round}"));
        let outputs: Vec<Output> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| cf_run(&sh.dir, &["auth", "admin"], &[])))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for o in outputs {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        cf_ok(&sh.dir, &["create-org", "o"], &[]);
        let leftovers: Vec<_> = fs::read_dir(&sh.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

/// Issue 13: `import-{foundation,org,space}-registry-credentials FILE`
/// brings a Docker `config.json` into a scope through the management API:
/// R20 decides who may, R16 which usernames, R9 which keys; all or nothing
/// unless `--skip-failures`; a file that is not a regular file is refused
/// without being read; no password is printed.
#[test]
fn r9_r16_r20_import_a_docker_config_file() {
    // Standard base64, padded (what `docker login` writes).
    let b64 = |s: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(s)
    };
    let mut sh = platform("import");
    sh.secrets
        .extend(["hub-Import-Pw-1", "quay-Import-Pw-2", "wild-Import-Pw-3"].map(String::from));
    let config = format!(
        r#"{{"auths": {{
            "https://index.docker.io/v1/": {{"auth": "{}"}},
            "quay.io/team": {{"auth": "{}"}},
            "*.example.com": {{"auth": "{}"}}
        }}, "credHelpers": {{"gcr.io": "gcloud"}}}}"#,
        b64("hub-user:hub-Import-Pw-1"),
        b64("quay-user:quay-Import-Pw-2"),
        b64("wild-user:wild-Import-Pw-3"),
    );
    let file = sh.dir.join("config.json");
    fs::write(&file, config).unwrap();
    let path = file.to_str().unwrap().to_owned();

    sh.ok("auth developer");
    sh.ok("target -o myorg -s myspace");
    // R20: a Space Developer may not import into the organization.
    let e = sh.fails(&format!("import-org-registry-credentials {path}"));
    assert!(e.contains("may not create registry credentials"), "{e}");
    // All or nothing: the wildcard key fails the whole import.
    let e = sh.fails(&format!("import-space-registry-credentials {path}"));
    assert!(e.contains("nothing was created"), "{e}");
    assert!(e.contains("*.example.com"), "{e}");
    assert!(sh.rows().is_empty());
    // Skipping failures imports the rest, each key as the peers read it.
    let out = sh.ok(&format!(
        "import-space-registry-credentials {path} --skip-failures"
    ));
    assert!(out.contains("OK: 2 imported"), "{out}");
    assert!(out.contains("gcr.io"), "{out}");
    assert_eq!(
        sh.rows(),
        cells(&["docker.io space hub-user", "quay.io/team space quay-user"])
    );
    let mut stored = sh.stored_passwords();
    stored.sort();
    assert_eq!(stored, ["hub-Import-Pw-1", "quay-Import-Pw-2"]);
    // R16: a second import is a conflict for every key, and changes nothing.
    let e = sh.fails(&format!("import-space-registry-credentials {path}"));
    assert!(e.contains("nothing was created"), "{e}");
    // A file of the wrong kind is refused without being read.
    let e = sh.fails("import-space-registry-credentials /dev/zero");
    assert!(e.contains("not a regular file"), "{e}");
    sh.assert_no_secret_printed();
}
