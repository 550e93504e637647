//! The `cf` command line, end to end: the user page's own sequence of
//! commands (R16–R21), its errors, and its one database, driven in this
//! process through the library's [`run`] (the same code the binary runs,
//! with its own state directory, password, input and output buffers);
//! and, where a check needs processes, the built binary itself
//! (concurrent commands, a closed pipe, a killed process, damaged files,
//! hostile input, and cf's habits as a person sees them).
//!
//! One test binary for the package, with a module per concern.

mod curl;
mod errors;
mod files;
#[cfg(unix)]
mod habits;
mod kinds;
mod labels;
mod page;
mod processes;
mod reach;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use registry_credentials::CredentialStore;
use registry_credentials_cf_cli::state::{DB_FILE, KEY_FILE, STATE_DIR};
use registry_credentials_cf_cli::{Io, run};
use registry_credentials_sql::rusqlite;
use registry_credentials_sql::{EncryptionKey, Keyring, SqliteStore};
use registry_credentials_test_support::process::output_with_input;

/// A test's own directory: `home` is its `CF_HOME` (the state lives in
/// `home/.cf`), `work` the working directory of the binary's runs, which
/// must stay empty.
pub(crate) struct Shell {
    pub(crate) dir: PathBuf,
    /// Every byte written to standard output or error, to check for
    /// secrets at the end.
    pub(crate) transcript: String,
    /// Passwords used, none of which may ever be printed.
    pub(crate) secrets: Vec<String>,
    /// `CF_REGISTRY_KEY` for the runs.
    pub(crate) registry_key: Option<String>,
    /// What the next runs read from standard input (answers to "Really
    /// delete…?"); empty: the end of the input at once.
    pub(crate) stdin: String,
}

pub(crate) struct Outcome {
    pub(crate) code: i32,
    pub(crate) out: String,
    pub(crate) err: String,
}

impl Outcome {
    /// What `line` printed, checking that it exited 0 and wrote nothing
    /// to standard error.
    #[track_caller]
    pub(crate) fn succeeded(self, line: &str) -> String {
        assert_eq!(self.code, 0, "`{line}` failed: {}", self.err);
        assert!(
            self.err.is_empty(),
            "`{line}` wrote to stderr: {}",
            self.err
        );
        self.out
    }
}

pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

impl Shell {
    pub(crate) fn new(name: &str) -> Self {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cf-cli-{name}"));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("work")).unwrap();
        fs::create_dir_all(dir.join("home")).unwrap();
        Shell {
            dir,
            transcript: String::new(),
            secrets: Vec::new(),
            registry_key: None,
            stdin: String::new(),
        }
    }

    /// `CF_HOME`.
    pub(crate) fn home(&self) -> PathBuf {
        self.dir.join("home")
    }

    /// The working directory of the binary's runs.
    pub(crate) fn work(&self) -> PathBuf {
        self.dir.join("work")
    }

    /// Where the state lives: `$CF_HOME/.cf`.
    pub(crate) fn state_dir(&self) -> PathBuf {
        self.home().join(STATE_DIR)
    }

    pub(crate) fn db(&self) -> PathBuf {
        self.state_dir().join(DB_FILE)
    }

    pub(crate) fn key_file(&self) -> PathBuf {
        self.state_dir().join(KEY_FILE)
    }

    /// Runs `args` with `CF_DOCKER_PASSWORD` set to `env`, and `prompt` as
    /// what the user types at a password prompt (`None`: there is no
    /// terminal).
    pub(crate) fn run_args(
        &mut self,
        env: Option<&str>,
        prompt: Option<&str>,
        args: &[OsString],
    ) -> Outcome {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut prompted = |_: &str| match prompt {
            Some(answer) => Ok(answer.to_owned()),
            None => Err(io::Error::new(io::ErrorKind::NotFound, "no terminal")),
        };
        for secret in env.into_iter().chain(prompt).filter(|s| !s.is_empty()) {
            self.secrets.push(secret.to_owned());
        }
        let mut stdin = self.stdin.as_bytes();
        let mut io = Io {
            cf_home: Some(self.home().into_os_string()),
            home: None,
            password_env: env.map(OsString::from),
            registry_key: self.registry_key.clone().map(OsString::from),
            prompt: &mut prompted,
            stdin: &mut stdin,
            out: &mut out,
            err: &mut err,
        };
        let code = run(args, &mut io);
        let (out, err) = (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        );
        self.transcript.push_str(&out);
        self.transcript.push_str(&err);
        Outcome { code, out, err }
    }

    /// Runs `line` (split on white space).
    pub(crate) fn run_with(
        &mut self,
        env: Option<&str>,
        prompt: Option<&str>,
        line: &str,
    ) -> Outcome {
        let args: Vec<OsString> = line.split_whitespace().map(OsString::from).collect();
        self.run_args(env, prompt, &args)
    }

    /// Runs `line` with `env` as `CF_DOCKER_PASSWORD`, and checks that it
    /// succeeded without a word on standard error; what it printed.
    pub(crate) fn ok_with(&mut self, env: Option<&str>, line: &str) -> String {
        self.run_with(env, None, line).succeeded(line)
    }

    /// Runs `line` with `prompt` as the answer to a password prompt, and
    /// checks that it succeeded without a word on standard error; what it
    /// printed.
    pub(crate) fn ok_answering(&mut self, prompt: &str, line: &str) -> String {
        self.run_with(None, Some(prompt), line).succeeded(line)
    }

    pub(crate) fn ok(&mut self, line: &str) -> String {
        self.ok_with(None, line)
    }

    /// [`ok`](Self::ok), and checks that the command said `part`.
    #[track_caller]
    pub(crate) fn ok_saying(&mut self, line: &str, part: &str) -> String {
        let out = self.ok(line);
        assert_says(&out, part);
        out
    }

    /// [`fails`](Self::fails), and checks that the message says `part`.
    #[track_caller]
    pub(crate) fn fails_saying(&mut self, line: &str, part: &str) -> String {
        self.fails_with_saying(None, line, part)
    }

    /// [`fails_with`](Self::fails_with), and checks that the message says
    /// `part`.
    #[track_caller]
    pub(crate) fn fails_with_saying(
        &mut self,
        env: Option<&str>,
        line: &str,
        part: &str,
    ) -> String {
        let e = self.fails_with(env, line);
        assert_says(&e, part);
        e
    }

    /// Checks a failed run: exit 1, its message on one line then `FAILED`
    /// on the next (cf's form), nothing on standard output, and the
    /// database unchanged. Returns the message.
    pub(crate) fn failed(&self, o: Outcome, what: &str, before: &Option<Snapshot>) -> String {
        assert_eq!(o.code, 1, "`{what}`: {}{}", o.out, o.err);
        let message = failure_message(&o.err, what);
        assert!(o.out.is_empty(), "`{what}` printed {:?}", o.out);
        assert_eq!(&self.snapshot(), before, "`{what}` changed the database");
        message
    }

    /// Runs a command that must fail: exit 1, the message then `FAILED`,
    /// and nothing changed. Returns the message.
    pub(crate) fn fails_with(&mut self, env: Option<&str>, line: &str) -> String {
        let before = self.snapshot();
        let o = self.run_with(env, None, line);
        self.failed(o, line, &before)
    }

    /// Runs `line`, a usage error: exit 1 and the database unchanged.
    /// What it wrote to standard error.
    #[track_caller]
    pub(crate) fn usage_error(&mut self, line: &str) -> String {
        let before = self.snapshot();
        let o = self.run_with(None, None, line);
        assert_eq!(o.code, 1, "`{line}`: {}", o.err);
        assert_eq!(self.snapshot(), before, "`{line}` changed the database");
        o.err
    }

    pub(crate) fn fails(&mut self, line: &str) -> String {
        self.fails_with(None, line)
    }

    /// The listing's rows, each as its white-space-separated cells.
    pub(crate) fn rows(&mut self) -> Vec<Vec<String>> {
        let out = self.ok("registry-credentials");
        out.lines()
            .skip(2)
            .map(|l| l.split_whitespace().map(str::to_owned).collect())
            .collect()
    }

    /// Every row of every table of the database, read-only, or `None`
    /// when there is no database.
    pub(crate) fn snapshot(&self) -> Option<Snapshot> {
        snapshot(&self.db())
    }

    pub(crate) fn key_hex(&self) -> String {
        match &self.registry_key {
            Some(k) => k.clone(),
            None => fs::read_to_string(self.key_file()).unwrap(),
        }
    }

    /// The database as a store, with its key.
    pub(crate) fn store(&self) -> SqliteStore {
        let key = EncryptionKey::from_hex("cf", &self.key_hex()).unwrap();
        SqliteStore::open(self.db(), Keyring::new(key)).unwrap()
    }

    /// The stored passwords, sorted.
    pub(crate) fn stored_passwords(&self) -> Vec<String> {
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

    pub(crate) fn assert_no_secret_printed(&self) {
        for s in &self.secrets {
            assert!(!self.transcript.contains(s.as_str()), "`{s}` was printed");
            assert!(
                !self.transcript.contains(&hex(s)),
                "`{s}` was printed in hex"
            );
        }
    }
}

/// The message of a failure's standard error: exactly one line, then
/// `FAILED`.
pub(crate) fn failure_message(err: &str, what: &str) -> String {
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines.len() == 2 && lines[1] == "FAILED" && err.ends_with('\n'),
        "`{what}`: {err:?}"
    );
    lines[0].to_owned()
}

pub(crate) type Snapshot = BTreeMap<String, Vec<String>>;

pub(crate) fn snapshot(db: &Path) -> Option<Snapshot> {
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

/// `text`, what a command printed, says `part`.
#[track_caller]
pub(crate) fn assert_says(text: &str, part: &str) {
    assert!(text.contains(part), "{part:?} not in:\n{text}");
}

/// `text`, what a command printed, starts with `start`.
#[track_caller]
pub(crate) fn assert_starts(text: &str, start: &str) {
    assert!(text.starts_with(start), "{start:?} does not start:\n{text}");
}

pub(crate) fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn cells(rows: &[&str]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.split_whitespace().map(str::to_owned).collect())
        .collect()
}

/// The platform the page assumes: an admin, an organization with a space,
/// an Org Manager and a Space Developer.
pub(crate) fn platform(name: &str) -> Shell {
    let mut sh = Shell::new(name);
    sh.ok("auth admin");
    sh.ok("create-org myorg");
    sh.ok("create-space myspace -o myorg");
    sh.ok("set-org-role org-manager myorg OrgManager");
    sh.ok("set-space-role developer myorg myspace SpaceDeveloper");
    sh
}

// ---- the built binary ----------------------------------------------------

/// The built `cf` binary for `sh`: `CF_HOME` is its home, the working
/// directory its `work`, `HOME` a directory that does not exist (so that
/// nothing can fall back to it), `env` added, standard input empty.
pub(crate) fn cf_cmd(sh: &Shell, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cf"));
    c.current_dir(sh.work())
        .args(args)
        .env("CF_HOME", sh.home())
        .env("HOME", sh.dir.join("no-home"))
        .env_remove("CF_DOCKER_PASSWORD")
        .env_remove("CF_REGISTRY_KEY")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

pub(crate) fn cf_run(sh: &Shell, args: &[&str], env: &[(&str, &str)]) -> Output {
    cf_cmd(sh, args, env).output().unwrap()
}

pub(crate) fn cf_ok(sh: &Shell, args: &[&str], env: &[(&str, &str)]) -> String {
    let o = cf_run(sh, args, env);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Runs the binary with `stdin` as its standard input.
pub(crate) fn cf_with_input(sh: &Shell, args: &[&str], stdin: &str) -> Output {
    output_with_input(&mut cf_cmd(sh, args, &[]), stdin.as_bytes())
}

/// The entries of `dir`, sorted.
pub(crate) fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}
