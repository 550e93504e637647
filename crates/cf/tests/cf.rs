//! The cf-style command line (`cargo run -p registry-credentials-cf
//! --example cf`), driven through the
//! same interpreter the example runs: the user page's own sequence of
//! commands (R16–R21), its errors, and its state file.

#[path = "support/cf.rs"]
mod cf;

use std::fs;
use std::io;
use std::path::PathBuf;

/// A working directory with its own state file.
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

    /// Runs `line` (split on white space) with `CF_DOCKER_PASSWORD` set to
    /// `env`, and `prompt` as what the user types at a password prompt
    /// (`None`: there is no terminal).
    fn run_with(&mut self, env: Option<&str>, prompt: Option<&str>, line: &str) -> Outcome {
        let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
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
            password_env: env.map(str::to_owned),
            registry_key: self.registry_key.clone(),
            prompt: &mut prompted,
            out: &mut out,
            err: &mut err,
        };
        let code = cf::main(&args, &mut io);
        let (out, err) = (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        );
        self.transcript.push_str(&out);
        self.transcript.push_str(&err);
        Outcome { code, out, err }
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

    /// Runs a command that must fail: one line on stderr, a non-zero exit,
    /// and the state file unchanged. Returns the line.
    fn fails_with(&mut self, env: Option<&str>, line: &str) -> String {
        let before = fs::read(self.state()).ok();
        let o = self.run_with(env, None, line);
        assert_ne!(o.code, 0, "`{line}` succeeded: {}", o.out);
        assert_eq!(o.err.lines().count(), 1, "`{line}`: {:?}", o.err);
        assert!(o.err.ends_with('\n'));
        assert_eq!(
            fs::read(self.state()).ok(),
            before,
            "`{line}` changed the state"
        );
        o.err.trim_end().to_owned()
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

    /// The stored passwords, sorted: from the state file's credential
    /// lines (hex), or with the `sqlite` feature from the database.
    #[cfg(not(feature = "sqlite"))]
    fn stored_passwords(&self) -> Vec<String> {
        let state = fs::read_to_string(self.state()).unwrap();
        let mut found: Vec<String> = state
            .lines()
            .filter(|l| l.starts_with("credential\t"))
            .map(|l| {
                let h = l.rsplit('\t').next().unwrap();
                let bytes = (0..h.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                    .collect();
                String::from_utf8(bytes).unwrap()
            })
            .collect();
        found.sort();
        found
    }

    /// The stored passwords, sorted: from the state file's credential
    /// lines (hex), or with the `sqlite` feature from the database.
    #[cfg(feature = "sqlite")]
    fn stored_passwords(&self) -> Vec<String> {
        use registry_credentials::CredentialStore;
        use registry_credentials_sql::{EncryptionKey, Keyring, SqliteStore};
        let mut db = self.state().into_os_string();
        let mut key = db.clone();
        db.push(cf::DB_SUFFIX);
        key.push(cf::KEY_SUFFIX);
        let hex_key = match &self.registry_key {
            Some(k) => k.clone(),
            None => fs::read_to_string(key).unwrap(),
        };
        let key = EncryptionKey::from_hex("cf", &hex_key).unwrap();
        let store = SqliteStore::open(db, Keyring::new(key)).unwrap();
        let mut found: Vec<String> = store
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
    assert!(o
        .err
        .starts_with("FAILED: `frobnicate` is not a command; commands: auth USER"));
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

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

#[cfg(unix)]
#[test]
fn r21_state_file_is_private_and_survives_runs() {
    use std::os::unix::fs::PermissionsExt;
    let mut sh = platform("state");
    sh.ok_with(
        Some("state-Password-1"),
        "create-foundation-registry-credential registry.example.com --username a",
    );
    let mode = fs::metadata(sh.state()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // Every command is a fresh run: the credential came back from the file.
    assert_eq!(sh.rows(), cells(&["registry.example.com foundation a"]));

    // A file others may read is refused, and left as it is.
    fs::set_permissions(sh.state(), fs::Permissions::from_mode(0o640)).unwrap();
    let e = sh.fails("registry-credentials");
    assert!(
        e.contains("others may access it (mode 640); run `chmod 600"),
        "{e}"
    );
    fs::set_permissions(sh.state(), fs::Permissions::from_mode(0o600)).unwrap();

    // A damaged file is reported with its line.
    let text = fs::read_to_string(sh.state()).unwrap();
    fs::write(sh.state(), format!("{text}nonsense\n")).unwrap();
    let e = sh.fails("registry-credentials");
    assert!(e.contains("is damaged at line"), "{e}");
    sh.assert_no_secret_printed();
}

/// The `sqlite` feature: credentials in an encrypted SQLite file beside
/// the state file, which keeps the directory only (R21: what was stored
/// survives between runs; passwords never stored or shown in clear).
#[cfg(all(unix, feature = "sqlite"))]
mod sqlite {
    use super::*;
    use registry_credentials_sql::{EncryptionKey, Keyring, SqliteStore};
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        name.into()
    }

    fn db(sh: &Shell) -> PathBuf {
        with_suffix(&sh.state(), cf::DB_SUFFIX)
    }

    fn key_file(sh: &Shell) -> PathBuf {
        with_suffix(&sh.state(), cf::KEY_SUFFIX)
    }

    /// A short session: credentials at two scopes, a push with
    /// credentials (an app-scoped one), and the listing.
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

    /// Every file the session wrote: the state file, the database and its
    /// WAL and shared-memory files when present.
    fn raw_files(sh: &Shell) -> Vec<(PathBuf, Vec<u8>)> {
        ["", "-wal", "-shm"]
            .iter()
            .map(|s| with_suffix(&db(sh), s))
            .chain([sh.state()])
            .filter_map(|p| fs::read(&p).ok().map(|b| (p, b)))
            .collect()
    }

    fn assert_no_password_at_rest(sh: &Shell) {
        let files = raw_files(sh);
        assert!(files.iter().any(|(p, _)| *p == db(sh)), "no database");
        for (path, bytes) in &files {
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
    }

    #[test]
    fn r21_sqlite_credentials_live_encrypted_in_their_own_file() {
        let mut sh = platform("sqlite-session");
        let rows = session(&mut sh);

        assert!(db(&sh).is_file());
        let state = fs::read_to_string(sh.state()).unwrap();
        assert!(
            !state.lines().any(|l| l.starts_with("credential")),
            "{state}"
        );
        assert!(state.contains("space\t") && state.contains("space-role\t"));
        assert_no_password_at_rest(&sh);
        for file in [key_file(&sh), db(&sh), sh.state()] {
            let mode = fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", file.display());
        }

        // A fresh load (every command is one) sees the same listing.
        assert_eq!(sh.rows(), rows);

        // The database holds exactly the session's credentials, readable
        // with the key file's key and no other.
        assert_eq!(
            sh.stored_passwords(),
            [
                "app-Sqlite-Pass-3",
                "hub-Sqlite-Pass-1",
                "space-Sqlite-Pass-2"
            ]
        );
        let other = EncryptionKey::from_hex("cf", &"07".repeat(32)).unwrap();
        assert!(SqliteStore::open(db(&sh), Keyring::new(other)).is_err());

        // A key file others may read is refused, and left as it is.
        fs::set_permissions(key_file(&sh), fs::Permissions::from_mode(0o644)).unwrap();
        let e = sh.fails("registry-credentials");
        assert!(
            e.contains("the key file") && e.contains("others may access it (mode 644)"),
            "{e}"
        );
        fs::set_permissions(key_file(&sh), fs::Permissions::from_mode(0o600)).unwrap();

        // Deleting goes to the database too.
        sh.ok("delete-space-registry-credential registry.example.com");
        assert_eq!(sh.rows().len(), 2);
        sh.assert_no_secret_printed();
    }

    #[test]
    fn r21_sqlite_wrong_key_is_one_line_and_changes_nothing() {
        let mut sh = platform("sqlite-wrong-key");
        let rows = session(&mut sh);
        let before: Vec<_> = raw_files(&sh)
            .into_iter()
            .chain(fs::read(key_file(&sh)).ok().map(|b| (key_file(&sh), b)))
            .collect();

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
        let after: Vec<_> = raw_files(&sh)
            .into_iter()
            .chain(fs::read(key_file(&sh)).ok().map(|b| (key_file(&sh), b)))
            .collect();
        assert_eq!(before, after, "a refused run changed a file");

        // The right key (the key file's, here given in the environment)
        // still opens it, and nothing was added.
        sh.registry_key = Some(fs::read_to_string(key_file(&sh)).unwrap());
        assert_eq!(sh.rows(), rows);
        sh.registry_key = None;
        assert_eq!(sh.rows(), rows);
        sh.assert_no_secret_printed();
    }

    #[test]
    fn r21_sqlite_key_from_the_environment_makes_no_key_file() {
        let mut sh = Shell::new("sqlite-env-key");
        sh.registry_key = Some("3c".repeat(32));
        sh.ok("auth admin");
        sh.ok_with(
            Some("env-Sqlite-Pass-1"),
            "create-foundation-registry-credential docker.io --username hub-user",
        );
        assert!(!key_file(&sh).exists());
        assert_eq!(sh.rows(), cells(&["docker.io foundation hub-user"]));
        assert_no_password_at_rest(&sh);

        // Without the key, the database is not opened with a new one.
        sh.registry_key = None;
        let e = sh.fails("registry-credentials");
        assert!(e.contains("set CF_REGISTRY_KEY"), "{e}");
        assert!(!key_file(&sh).exists());
    }

    #[test]
    fn r21_sqlite_refuses_credentials_in_an_old_state_file() {
        let mut sh = platform("sqlite-old-state");
        let text = fs::read_to_string(sh.state()).unwrap();
        fs::write(
            sh.state(),
            format!("{text}credential\tfoundation\t-\tdocker.io\t75\t70\n"),
        )
        .unwrap();
        let e = sh.fails("registry-credentials");
        assert!(e.contains("written without the `sqlite` feature"), "{e}");
    }
}
