//! The cf-style command line (`cargo run --example cf`), driven through the
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
    let state = fs::read_to_string(sh.state()).unwrap();
    assert!(state.contains(&hex("typed-Password-1")));
    // A password-only update.
    let o = sh.run_with(
        None,
        Some("typed-Password-2"),
        "update-foundation-registry-credential registry.example.com",
    );
    assert_eq!(o.code, 0, "{}", o.err);
    let state = fs::read_to_string(sh.state()).unwrap();
    assert!(state.contains(&hex("typed-Password-2")));
    assert!(!state.contains(&hex("typed-Password-1")));
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
