//! The interpreter of the `cf` command line: one command per run, with
//! cf's names and argument order, over one SQLite database.
//!
//! It lives beside the binary rather than in the library because it is an
//! emulator for walking through the user page, not an API to build on:
//! the library does no I/O of its own. `tests/cf.rs` includes this file
//! (`#[path]`) to drive exactly the code the binary runs, with its own
//! directory, password and output buffers.
//!
//! # State
//!
//! Everything — organizations, spaces, apps, roles, the current user and
//! target, and the credentials (passwords encrypted at rest) — lives in
//! one SQLite file, [`DB_SUFFIX`] after the base path. Every command is
//! one transaction: it happens whole and exits 0, or changes nothing and
//! exits non-zero with one line on standard error. Output is written only
//! after the commit; if writing it fails then (a closed pipe), the
//! command still happened: a note goes to standard error and the exit
//! code is 0. Commands that only read (`registry-credentials`, `target`
//! without options, `help`) never take the write lock.
//!
//! The key is `CF_REGISTRY_KEY` (64 hexadecimal digits) or, when that is
//! unset, the key file ([`KEY_SUFFIX`]), made on first use (mode 0600,
//! written under a unique temporary name and linked into place, so a
//! racing process never reads half of it). A new database is built
//! complete under a temporary name and linked into place the same way,
//! so no process ever sees half of one.
//!
//! Damage is reported, never repaired by starting over: a missing
//! database when the key file exists, an empty, truncated or corrupt
//! database, a file of the wrong kind (FIFO, directory, device, or a link
//! to one), a file others may read. Nothing is created or overwritten in
//! its place.

#![allow(dead_code)]

use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use registry_credentials::credential::CredentialUpdate;
use registry_credentials::scope::{OrgId, SpaceId, UserId};
use registry_credentials::{
    Credential, Location, Password, Reference, RegistryCredential, Scope, Username,
};
use registry_credentials_cf::access::{GlobalRole, Operation, OrgRole, SpaceRole};
use registry_credentials_cf::directory::{Directory, Name, Session, SqliteDirectory};
use registry_credentials_cf::listing::Target;
use registry_credentials_cf::manage::{Chosen, ManageError, Manager};
use registry_credentials_cf::text;
use registry_credentials_sql::{
    EncryptionKey, KeyError, Keyring, OpenError, SchemaError, SqliteOptions, SqliteStore,
    SqliteTransaction,
};

/// The base path of the tool's files, in the working directory. A file
/// by this name alone is the state file of an earlier release.
pub const STATE_FILE: &str = ".cf-registry-credentials";

/// What is added to the base path for the database.
pub const DB_SUFFIX: &str = ".db";

/// What is added to the base path for the key file, used when
/// `CF_REGISTRY_KEY` is unset.
pub const KEY_SUFFIX: &str = ".key";

/// The id the database records for its key.
const KEY_ID: &str = "cf";

/// The user who holds the Admin role in a new database.
pub const ADMIN: &str = "admin";

/// How long a command waits for another one holding the write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long after a key file was written its database may still be on
/// its way (another process creating both).
const CREATION_GRACE: Duration = Duration::from_secs(3);

/// The longest key file read.
const MAX_KEY_FILE: u64 = 4096;

/// What the interpreter reads and writes besides its arguments.
pub struct Io<'a> {
    /// The base path of the tool's files ([`STATE_FILE`] in the working
    /// directory).
    pub state: &'a Path,
    /// `CF_DOCKER_PASSWORD`, if set.
    pub password_env: Option<OsString>,
    /// `CF_REGISTRY_KEY`, if set.
    pub registry_key: Option<OsString>,
    /// Asks for a password without echoing it.
    pub prompt: &'a mut dyn FnMut(&str) -> io::Result<String>,
    /// Standard output.
    pub out: &'a mut dyn Write,
    /// Standard error.
    pub err: &'a mut dyn Write,
}

/// Runs one command and returns the exit code: 0 when it happened; on
/// failure, one line on standard error and 1 (2 for a usage error).
pub fn main(args: &[OsString], io: &mut Io<'_>) -> i32 {
    let (code, note) = match run(args, io) {
        Ok(Done { output, wrote }) => match io
            .out
            .write_all(output.as_bytes())
            .and_then(|()| io.out.flush())
        {
            Ok(()) => (0, None),
            // The command committed: it happened, whatever became of its
            // output.
            Err(e) if wrote => (
                0,
                Some(format!(
                    "note: the command was carried out, but its output could not be written: {e}"
                )),
            ),
            Err(e) => (1, Some(format!("FAILED: cannot write the output: {e}"))),
        },
        Err(e) => (e.code, Some(format!("FAILED: {}", e.message))),
    };
    if let Some(line) = note {
        let _ = writeln!(io.err, "{}", one_line(&line, args));
    }
    code
}

/// `line` as one safe line: every control, format or separator character
/// escaped, and every argument longer than [`text::MAX_QUOTED`]
/// characters cut to that (R21).
fn one_line(line: &str, args: &[OsString]) -> String {
    let mut line = line.to_owned();
    for arg in args.iter().filter_map(|a| a.to_str()) {
        if arg.chars().count() > text::MAX_QUOTED {
            let cut = text::quote(arg);
            line = line.replace(arg, &cut);
            line = line.replace(&arg.escape_debug().to_string(), &cut);
        }
    }
    // Whatever a library error repeated in another form, the line stays
    // short.
    const MAX_LINE: usize = 2000;
    if let Some((at, _)) = line.char_indices().nth(MAX_LINE) {
        line.truncate(at);
        line.push('…');
    }
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if text::is_unsafe(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// A command carried out: its output, and whether it changed the
/// database.
struct Done {
    output: String,
    wrote: bool,
}

/// A failed command: one line of text and an exit code.
#[derive(Debug)]
pub struct Failure {
    /// The message.
    pub message: String,
    /// The exit code.
    pub code: i32,
    /// True when the database held what no release writes (a corrupt
    /// row, a password that does not decrypt): reported as damage.
    damage: bool,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 2,
            damage: false,
        }
    }
}

/// The exit code of the signal that a command needs a password before
/// it can go on; never an exit code.
const NEEDS_PASSWORD: i32 = -1;

/// Every error becomes one line: its text, then each source's, joined by
/// `: ` (the crate's errors never repeat their source's text).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let _ = write!(s, ": {inner}");
        source = inner.source();
    }
    s
}

macro_rules! impl_failure_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Self {
                Failure { message: chain(&e), code: 1, damage: false }
            }
        }
    )*};
}

/// True when SQLite found the file corrupt, or not a database.
fn sqlite_damage(e: &(dyn std::error::Error + 'static)) -> bool {
    use registry_credentials_sql::rusqlite::ErrorCode;
    e.downcast_ref::<registry_credentials_sql::rusqlite::Error>()
        .and_then(|e| e.sqlite_error_code())
        .is_some_and(|c| matches!(c, ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase))
}

/// True when the store found the database damaged: a row it cannot read
/// (a wrong key for a row, a corrupt row) or a file SQLite calls corrupt.
/// A full disk or a busy database is not damage.
fn store_damage(e: &registry_credentials::StoreError) -> bool {
    use registry_credentials::StoreError;
    match e {
        StoreError::Unreadable { .. } => true,
        StoreError::Backend { source, .. } => sqlite_damage(source.as_ref()),
        _ => false,
    }
}

/// A store error; damage is reported with the database's name and what to
/// do (the store and the directory check every row they read).
impl From<registry_credentials::StoreError> for Failure {
    fn from(e: registry_credentials::StoreError) -> Self {
        let damage = store_damage(&e);
        Failure {
            message: chain(&e),
            code: 1,
            damage,
        }
    }
}

impl From<registry_credentials_cf::directory::DirectoryError> for Failure {
    fn from(e: registry_credentials_cf::directory::DirectoryError) -> Self {
        use registry_credentials_cf::directory::DirectoryError;
        let damage = match &e {
            DirectoryError::Corrupt { .. } => true,
            DirectoryError::Backend { source, .. } => {
                sqlite_damage(source.as_ref())
                    || source
                        .downcast_ref::<registry_credentials::StoreError>()
                        .is_some_and(store_damage)
            }
            _ => false,
        };
        Failure {
            message: chain(&e),
            code: 1,
            damage,
        }
    }
}

impl From<ManageError> for Failure {
    fn from(e: ManageError) -> Self {
        match e {
            ManageError::Store(s) => s.into(),
            ManageError::Directory(d) => d.into(),
            other => Failure {
                message: chain(&other),
                code: 1,
                damage: false,
            },
        }
    }
}

impl_failure_from!(
    registry_credentials::scope::IdError,
    registry_credentials_cf::directory::NameError,
    registry_credentials::credential::CredentialError,
    registry_credentials::LocationError,
    registry_credentials::ReferenceError,
    registry_credentials_cf::access::RoleError
);

fn fail(message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        code: 1,
        damage: false,
    }
}

const USAGE: &str = "commands: auth USER | create-org ORG | delete-org ORG [-f] | \
create-space SPACE [-o ORG] | delete-space SPACE [-o ORG] [-f] | \
set-org-role USER ORG ROLE | set-space-role USER ORG SPACE ROLE | target [-o ORG] [-s SPACE] | \
create-{foundation,org,space}-registry-credential LOCATION --username USER | \
update-{foundation,org,space}-registry-credential LOCATION [--username USER] | \
delete-{foundation,org,space}-registry-credential LOCATION | \
delete-app-registry-credential LOCATION APP | registry-credentials | \
import-{foundation,org,space}-registry-credentials FILE [--skip-failures] | \
push APP --docker-image IMAGE [--docker-username USER] | delete APP [-f] | help";

/// The arguments as text; a non-UTF-8 one is a usage error.
fn utf8_args(args: &[OsString]) -> Result<Vec<String>, Failure> {
    args.iter()
        .enumerate()
        .map(|(i, a)| {
            a.to_str().map(str::to_owned).ok_or_else(|| {
                Failure::usage(format!(
                    "argument {} is not valid UTF-8 (`{}`); give names, locations and usernames as UTF-8 text",
                    i + 1,
                    text::quote(&a.to_string_lossy())
                ))
            })
        })
        .collect()
}

/// An environment variable as text; set but not UTF-8 is an error.
fn utf8_env(name: &str, value: &Option<OsString>) -> Result<Option<String>, Failure> {
    match value {
        None => Ok(None),
        Some(v) => v.to_str().map(|s| Some(s.to_owned())).ok_or_else(|| {
            fail(format!(
                "{name} is set but is not valid UTF-8; set it to UTF-8 text, or unset it"
            ))
        }),
    }
}

/// Runs one command.
fn run(args: &[OsString], io: &mut Io<'_>) -> Result<Done, Failure> {
    let args = utf8_args(args)?;
    let Some((command, rest)) = args.split_first() else {
        return Err(Failure::usage(format!("no command given; {USAGE}")));
    };
    let cmd = Command::parse(command, rest)?;
    if let Command::Help = cmd {
        return Ok(Done {
            output: format!("{USAGE}\n"),
            wrote: false,
        });
    }
    let password_env = utf8_env("CF_DOCKER_PASSWORD", &io.password_env)?;
    let registry_key = utf8_env("CF_REGISTRY_KEY", &io.registry_key)?;
    let files = Files::new(io.state);
    let store = files.open(registry_key.as_deref())?;

    // A command that needs a password first runs in a read transaction
    // up to the point where it asks, so that a refusal comes before the
    // question and no lock is held while a person types; then it runs
    // whole, with the password, in one write transaction.
    let mut password: Option<Option<Password>> = None;
    let writes = cmd.writes();
    loop {
        let mut output = String::new();
        let attempt = |tx: &SqliteTransaction<'_>| -> Result<(), Failure> {
            check_database(tx, &files.db)?;
            let directory = SqliteDirectory::open(tx)?;
            let mut state = State {
                manager: Manager::new(tx, directory),
                session: directory.session()?,
                password: password.clone(),
                password_env: password_env.clone(),
                out: &mut output,
            };
            state.execute(&cmd)?;
            if writes {
                directory.set_session(&state.session)?;
            }
            Ok(())
        };
        let result = if writes && (password.is_some() || !cmd.may_need_password()) {
            store.transaction(attempt)
        } else {
            store.read_transaction(attempt)
        };
        match result {
            Err(f) if f.damage => return Err(files.damaged(&f.message)),
            Err(f) if f.code == NEEDS_PASSWORD => {
                let optional = f.message == "optional";
                password = Some(ask_password(io, password_env.as_deref(), optional)?);
            }
            Err(f) => return Err(f),
            Ok(()) => {
                return Ok(Done {
                    output,
                    wrote: writes,
                });
            }
        }
    }
}

/// The password from `CF_DOCKER_PASSWORD`, or else from a prompt that
/// does not echo. With `optional`, an empty answer at the prompt means
/// "keep the current one" (`None`).
fn ask_password(
    io: &mut Io<'_>,
    env: Option<&str>,
    optional: bool,
) -> Result<Option<Password>, Failure> {
    if let Some(p) = env {
        return Password::new(p)
            .map(Some)
            .map_err(|e| fail(format!("CF_DOCKER_PASSWORD: {e}")));
    }
    let prompt = if optional {
        "Password (leave empty to keep the current one): "
    } else {
        "Password: "
    };
    let answer = (io.prompt)(prompt).map_err(|e| {
        fail(format!(
            "cannot read a password ({e}); set CF_DOCKER_PASSWORD or run in a terminal"
        ))
    })?;
    if optional && answer.is_empty() {
        return Ok(None);
    }
    Password::new(answer).map(Some).map_err(Failure::from)
}

/// Checks the database's pages before a command reads or writes it: a
/// truncated or corrupt file is reported, never used.
fn check_database(tx: &SqliteTransaction<'_>, db: &Path) -> Result<(), Failure> {
    let check = tx.with_connection(|c| {
        let mut stmt = c.prepare("PRAGMA quick_check(1)")?;
        let mut rows = stmt.query([])?;
        match rows.next()? {
            Some(r) => r.get::<_, String>(0),
            None => Ok(String::from("no answer")),
        }
    });
    match check {
        Ok(ok) if ok == "ok" => Ok(()),
        Ok(problem) => Err(damaged(db, &problem)),
        Err(e) => Err(damaged(db, &chain(&e))),
    }
}

fn damaged(db: &Path, what: &str) -> Failure {
    fail(format!(
        "the database {} is damaged ({what}); restore it from a backup, or move it and the key file away to start afresh",
        db.display()
    ))
}

/// Which scope a `*-registry-credential` command acts on.
#[derive(Clone, Copy, Debug)]
enum Level {
    Foundation,
    Org,
    Space,
}

/// A command, its arguments checked.
#[derive(Debug)]
enum Command {
    Help,
    Auth(UserId),
    CreateOrg(Name),
    DeleteOrg(String),
    CreateSpace {
        name: Name,
        org: Option<String>,
    },
    DeleteSpace {
        name: String,
        org: Option<String>,
    },
    SetOrgRole {
        user: UserId,
        org: String,
        role: OrgRole,
    },
    SetSpaceRole {
        user: UserId,
        org: String,
        space: String,
        role: SpaceRole,
    },
    Target {
        org: Option<String>,
        space: Option<String>,
    },
    Create {
        level: Level,
        location: Location,
        username: Username,
    },
    Update {
        level: Level,
        location: Location,
        username: Option<Username>,
    },
    Delete {
        level: Level,
        location: Location,
    },
    DeleteAppCredential {
        location: Location,
        app: String,
    },
    List,
    Push {
        app: Name,
        image: Reference,
        username: Option<Username>,
    },
    DeleteApp(String),
    Import {
        level: Level,
        file: String,
        skip_failures: bool,
    },
}

/// The largest credentials file `import-*` reads: far more than any
/// `config.json` holds, and a bound on what a mistaken path can cost.
const MAX_IMPORT_FILE: u64 = 4 << 20;

/// A username from an argument: the core's checks, revised R16's included.
fn username(s: &str) -> Result<Username, Failure> {
    Ok(Username::new(s)?)
}

/// A user id from an argument: the core's checks, and no invisible
/// (format or separator) character, so that no message names a user that
/// looks like another.
fn user_id(s: &str) -> Result<UserId, Failure> {
    if let Some((at, c)) = s.char_indices().find(|(_, c)| text::is_unsafe(*c)) {
        return Err(fail(format!(
            "the user name contains an invisible character (U+{:04X}) at byte {at}; remove it",
            c as u32
        )));
    }
    Ok(UserId::new(s)?)
}

impl Command {
    fn parse(command: &str, rest: &[String]) -> Result<Self, Failure> {
        let level = |s: &str| match s {
            "foundation" => Some(Level::Foundation),
            "org" => Some(Level::Org),
            "space" => Some(Level::Space),
            _ => None,
        };
        let import = command
            .strip_prefix("import-")
            .and_then(|c| c.strip_suffix("-registry-credentials"))
            .and_then(level);
        let cred = command
            .strip_suffix("-registry-credential")
            .and_then(|c| c.split_once('-'))
            .and_then(|(verb, l)| Some((verb, level(l)?)));
        Ok(match (command, cred) {
            ("help" | "--help" | "-h", _) => {
                Args::parse(command, rest, &[], &[], &[])?;
                Command::Help
            }
            ("auth", _) => {
                let a = Args::parse(command, rest, &[], &[], &["USER"])?;
                Command::Auth(user_id(a.positional[0])?)
            }
            ("create-org", _) => {
                let a = Args::parse(command, rest, &[], &[], &["ORG"])?;
                Command::CreateOrg(Name::new(a.positional[0])?)
            }
            ("delete-org", _) => {
                let a = Args::parse(command, rest, &[], &["-f"], &["ORG"])?;
                Command::DeleteOrg(a.positional[0].to_owned())
            }
            ("create-space", _) => {
                let a = Args::parse(command, rest, &["-o"], &[], &["SPACE"])?;
                Command::CreateSpace {
                    name: Name::new(a.positional[0])?,
                    org: a.option("-o").map(str::to_owned),
                }
            }
            ("delete-space", _) => {
                let a = Args::parse(command, rest, &["-o"], &["-f"], &["SPACE"])?;
                Command::DeleteSpace {
                    name: a.positional[0].to_owned(),
                    org: a.option("-o").map(str::to_owned),
                }
            }
            ("set-org-role", _) => {
                let a = Args::parse(command, rest, &[], &[], &["USER", "ORG", "ROLE"])?;
                Command::SetOrgRole {
                    user: user_id(a.positional[0])?,
                    org: a.positional[1].to_owned(),
                    role: a.positional[2].parse()?,
                }
            }
            ("set-space-role", _) => {
                let a = Args::parse(command, rest, &[], &[], &["USER", "ORG", "SPACE", "ROLE"])?;
                Command::SetSpaceRole {
                    user: user_id(a.positional[0])?,
                    org: a.positional[1].to_owned(),
                    space: a.positional[2].to_owned(),
                    role: a.positional[3].parse()?,
                }
            }
            ("target", _) => {
                // `-s` without `-o` is checked against the current target
                // when it runs.
                let a = Args::parse(command, rest, &["-o", "-s"], &[], &[])?;
                Command::Target {
                    org: a.option("-o").map(str::to_owned),
                    space: a.option("-s").map(str::to_owned),
                }
            }
            (_, Some(("create", level))) => {
                let a = Args::parse(command, rest, &["--username"], &[], &["LOCATION"])?;
                Command::Create {
                    level,
                    location: Location::parse(a.positional[0])?,
                    username: username(a.require("--username")?)?,
                }
            }
            (_, Some(("update", level))) => {
                let a = Args::parse(command, rest, &["--username"], &[], &["LOCATION"])?;
                Command::Update {
                    level,
                    location: Location::parse(a.positional[0])?,
                    username: a.option("--username").map(username).transpose()?,
                }
            }
            (_, Some(("delete", level))) => {
                let a = Args::parse(command, rest, &[], &[], &["LOCATION"])?;
                Command::Delete {
                    level,
                    location: Location::parse(a.positional[0])?,
                }
            }
            ("delete-app-registry-credential", _) => {
                let a = Args::parse(command, rest, &[], &[], &["LOCATION", "APP"])?;
                Command::DeleteAppCredential {
                    location: Location::parse(a.positional[0])?,
                    app: a.positional[1].to_owned(),
                }
            }
            (_, _) if import.is_some() => {
                let a = Args::parse(command, rest, &[], &["--skip-failures"], &["FILE"])?;
                Command::Import {
                    level: import.expect("checked above"),
                    file: a.positional[0].to_owned(),
                    skip_failures: rest.iter().any(|r| r == "--skip-failures"),
                }
            }
            ("registry-credentials", _) => {
                Args::parse(command, rest, &[], &[], &[])?;
                Command::List
            }
            ("push", _) => {
                let a = Args::parse(
                    command,
                    rest,
                    &["--docker-image", "--docker-username"],
                    &[],
                    &["APP"],
                )?;
                Command::Push {
                    app: Name::new(a.positional[0])?,
                    image: Reference::parse(a.require("--docker-image")?)?,
                    username: a.option("--docker-username").map(username).transpose()?,
                }
            }
            ("delete", _) => {
                let a = Args::parse(command, rest, &[], &["-f"], &["APP"])?;
                Command::DeleteApp(a.positional[0].to_owned())
            }
            (other, _) => {
                return Err(Failure::usage(format!(
                    "`{}` is not a command; {USAGE}",
                    text::quote(other)
                )));
            }
        })
    }

    /// True when the command may change the database.
    fn writes(&self) -> bool {
        match self {
            Command::Help | Command::List => false,
            Command::Target { org, space } => org.is_some() || space.is_some(),
            _ => true,
        }
    }

    /// True when the command may ask for a password.
    fn may_need_password(&self) -> bool {
        matches!(
            self,
            Command::Create { .. }
                | Command::Update { .. }
                | Command::Push {
                    username: Some(_),
                    ..
                }
        )
    }
}

/// The arguments of one command: positionals, the values of the options
/// it knows, and its flags.
struct Args<'a> {
    command: &'a str,
    positional: Vec<&'a str>,
    options: Vec<(&'static str, &'a str)>,
}

impl<'a> Args<'a> {
    fn parse(
        command: &'a str,
        args: &'a [String],
        known: &[&'static str],
        flags: &[&'static str],
        positionals: &[&str],
    ) -> Result<Self, Failure> {
        let usage = || {
            let mut u = format!("usage: {command}");
            for p in positionals {
                let _ = write!(u, " {p}");
            }
            for o in known {
                let _ = write!(u, " [{o} VALUE]");
            }
            for f in flags {
                let _ = write!(u, " [{f}]");
            }
            u
        };
        let mut positional = Vec::new();
        let mut options = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if a.starts_with('-') && a.len() > 1 {
                if flags.contains(&a.as_str()) {
                    continue;
                }
                let Some(name) = known.iter().find(|k| **k == a.as_str()) else {
                    return Err(Failure::usage(format!(
                        "`{command}` has no option `{}`; {}",
                        text::quote(a),
                        usage()
                    )));
                };
                let Some(value) = it.next() else {
                    return Err(Failure::usage(format!(
                        "option `{a}` needs a value; {}",
                        usage()
                    )));
                };
                options.push((*name, value.as_str()));
            } else {
                positional.push(a.as_str());
            }
        }
        if positional.len() != positionals.len() {
            return Err(Failure::usage(format!(
                "`{command}` takes {} argument{}, {} given; {}",
                positionals.len(),
                if positionals.len() == 1 { "" } else { "s" },
                positional.len(),
                usage()
            )));
        }
        Ok(Args {
            command,
            positional,
            options,
        })
    }

    fn option(&self, name: &str) -> Option<&'a str> {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    fn require(&self, name: &str) -> Result<&'a str, Failure> {
        self.option(name)
            .ok_or_else(|| Failure::usage(format!("`{}` needs `{name} VALUE`", self.command)))
    }
}

/// Text from input, safe to print ([`text::escape`]).
fn shown(s: &impl std::fmt::Display) -> String {
    text::escape(&s.to_string()).into_owned()
}

/// One command's run inside one transaction.
struct State<'t, 'o> {
    manager: Manager<&'t SqliteTransaction<'t>, SqliteDirectory<'t>>,
    session: Session,
    /// `None` until asked for; then the answer (`Some(None)`: keep the
    /// current password).
    password: Option<Option<Password>>,
    password_env: Option<String>,
    out: &'o mut String,
}

impl State<'_, '_> {
    fn say(&mut self, text: impl AsRef<str>) {
        self.out.push_str(text.as_ref());
    }

    /// The password, or the signal to ask for it.
    fn password(&self, optional: bool) -> Result<Option<Password>, Failure> {
        match &self.password {
            Some(p) => Ok(p.clone()),
            None => Err(Failure {
                message: if optional { "optional" } else { "required" }.to_owned(),
                code: NEEDS_PASSWORD,
                damage: false,
            }),
        }
    }

    fn caller(&self) -> Result<UserId, Failure> {
        self.session.user.clone().ok_or_else(|| {
            fail("not logged in; run `auth USER` first (`auth admin` for the admin)")
        })
    }

    fn target_org(&self) -> Result<OrgId, Failure> {
        self.session
            .org
            .clone()
            .ok_or_else(|| fail("no organization targeted; run `target -o ORG` first"))
    }

    fn target_space(&self) -> Result<SpaceId, Failure> {
        self.session
            .space
            .clone()
            .ok_or_else(|| fail("no space targeted; run `target -o ORG -s SPACE` first"))
    }

    fn dir(&self) -> &SqliteDirectory<'_> {
        self.manager.directory()
    }

    /// The name of `org`, escaped, or its id when the directory does not
    /// know it.
    fn org_name(&self, org: &OrgId) -> Result<String, Failure> {
        Ok(shown(
            &self
                .dir()
                .org_name(org)?
                .map_or_else(|| org.to_string(), |n| n.to_string()),
        ))
    }

    /// The name of `space`, escaped, or its id.
    fn space_name(&self, space: &SpaceId) -> Result<String, Failure> {
        Ok(shown(
            &self
                .dir()
                .space(space)?
                .map_or_else(|| space.to_string(), |(_, n)| n.to_string()),
        ))
    }

    fn execute(&mut self, cmd: &Command) -> Result<(), Failure> {
        match cmd {
            Command::Help => self.say(format!("{USAGE}\n")),
            Command::Auth(user) => {
                self.say(format!("Authenticating as {}...\nOK\n", shown(user)));
                self.session = Session {
                    user: Some(user.clone()),
                    org: None,
                    space: None,
                };
            }
            Command::CreateOrg(name) => {
                let caller = self.caller()?;
                self.say(format!(
                    "Creating org {} as {}...\n",
                    shown(name),
                    shown(&caller)
                ));
                self.manager.create_org(&caller, name.clone())?;
                self.say("OK\n");
            }
            Command::DeleteOrg(name) => {
                let caller = self.caller()?;
                let org = self.manager.find_org(&caller, name)?;
                self.say(format!(
                    "Deleting org {} as {}...\n",
                    shown(name),
                    shown(&caller)
                ));
                self.manager.delete_org(&caller, &org)?;
                if self.session.org.as_ref() == Some(&org) {
                    self.session.org = None;
                    self.session.space = None;
                }
                self.say("OK\n");
            }
            Command::CreateSpace { name, org } => {
                let caller = self.caller()?;
                let org = match org {
                    Some(o) => self.manager.find_org(&caller, o)?,
                    None => self.target_org()?,
                };
                self.say(format!(
                    "Creating space {} in org {} as {}...\n",
                    shown(name),
                    self.org_name(&org)?,
                    shown(&caller)
                ));
                self.manager.create_space(&caller, &org, name.clone())?;
                self.say("OK\n");
            }
            Command::DeleteSpace { name, org } => {
                let caller = self.caller()?;
                let org = match org {
                    Some(o) => self.manager.find_org(&caller, o)?,
                    None => self.target_org()?,
                };
                let space = self.manager.find_space(&caller, &org, name)?;
                self.say(format!(
                    "Deleting space {} in org {} as {}...\n",
                    shown(name),
                    self.org_name(&org)?,
                    shown(&caller)
                ));
                self.manager.delete_space(&caller, &space)?;
                if self.session.space.as_ref() == Some(&space) {
                    self.session.space = None;
                }
                self.say("OK\n");
            }
            Command::SetOrgRole { user, org, role } => {
                let caller = self.caller()?;
                let org = self.manager.find_org(&caller, org)?;
                self.say(format!(
                    "Assigning role {role} to user {} in org {} as {}...\n",
                    shown(user),
                    self.org_name(&org)?,
                    shown(&caller)
                ));
                self.manager
                    .set_org_role(&caller, user.clone(), &org, *role)?;
                self.say("OK\n");
            }
            Command::SetSpaceRole {
                user,
                org,
                space,
                role,
            } => {
                let caller = self.caller()?;
                let org = self.manager.find_org(&caller, org)?;
                let space = self.manager.find_space(&caller, &org, space)?;
                self.say(format!(
                    "Assigning role {role} to user {} in org {} / space {} as {}...\n",
                    shown(user),
                    self.org_name(&org)?,
                    self.space_name(&space)?,
                    shown(&caller)
                ));
                self.manager
                    .set_space_role(&caller, user.clone(), &space, *role)?;
                self.say("OK\n");
            }
            Command::Target { org, space } => {
                let caller = self.caller()?;
                let new_org = match org {
                    Some(name) => Some(self.manager.find_org(&caller, name)?),
                    None => self.session.org.clone(),
                };
                let new_space = match (space, &new_org) {
                    (Some(name), Some(o)) => Some(self.manager.find_space(&caller, o, name)?),
                    (Some(_), None) => {
                        return Err(fail(
                            "no organization targeted; give `-o ORG` with `-s SPACE`",
                        ));
                    }
                    (None, _) if org.is_some() => None,
                    (None, _) => self.session.space.clone(),
                };
                self.session.org = new_org;
                self.session.space = new_space;
                let mut text = format!("user:   {}\n", shown(&caller));
                let org_line = match &self.session.org {
                    Some(o) => self.org_name(o)?,
                    None => "No org targeted".to_owned(),
                };
                let space_line = match &self.session.space {
                    Some(s) => self.space_name(s)?,
                    None => "No space targeted".to_owned(),
                };
                let _ = writeln!(text, "org:    {org_line}");
                let _ = writeln!(text, "space:  {space_line}");
                self.say(text);
            }
            Command::Create {
                level,
                location,
                username,
            } => {
                let caller = self.caller()?;
                let (scope, label) = self.scope(*level)?;
                // Refuse before asking for a password that could not be used.
                self.manager
                    .check_access(&caller, Operation::Create, &scope)?;
                let password = self.password(false)?.expect("a required password");
                self.say(format!(
                    "Creating registry credential {location} for {label} as {}...\n",
                    shown(&caller)
                ));
                let credential = Credential::from_parts(username.clone(), password);
                self.manager.create(
                    &caller,
                    RegistryCredential::new(scope, location.clone(), credential),
                )?;
                self.say("OK\n");
            }
            Command::Update {
                level,
                location,
                username,
            } => {
                let caller = self.caller()?;
                let (scope, label) = self.scope(*level)?;
                self.manager
                    .check_access(&caller, Operation::Update, &scope)?;
                let update = match username {
                    Some(username) => match self.password(true)? {
                        Some(password) => CredentialUpdate::Both(Credential::from_parts(
                            username.clone(),
                            password,
                        )),
                        None => CredentialUpdate::Username(username.clone()),
                    },
                    None => CredentialUpdate::Password(
                        self.password(false)?.expect("a required password"),
                    ),
                };
                self.say(format!(
                    "Updating registry credential {location} for {label} as {}...\n",
                    shown(&caller)
                ));
                self.manager.update(&caller, &scope, location, update)?;
                self.say("OK\n");
            }
            Command::Delete { level, location } => {
                let caller = self.caller()?;
                let (scope, label) = self.scope(*level)?;
                self.say(format!(
                    "Deleting registry credential {location} for {label} as {}...\n",
                    shown(&caller)
                ));
                self.manager.delete(&caller, &scope, location)?;
                self.say("OK\n");
            }
            Command::DeleteAppCredential { location, app } => {
                let caller = self.caller()?;
                let space = self.target_space()?;
                let id = self.manager.find_app(&caller, &space, app)?;
                self.say(format!(
                    "Deleting registry credential {location} for app {} as {}...\n",
                    shown(app),
                    shown(&caller)
                ));
                self.manager.delete(&caller, &Scope::App(id), location)?;
                self.say("OK\n");
            }
            Command::Import {
                level,
                file,
                skip_failures,
            } => self.import(*level, file, *skip_failures)?,
            Command::List => {
                let caller = self.caller()?;
                let (target, heading) = match (&self.session.org, &self.session.space) {
                    (Some(org), Some(space)) => (
                        Target::Space(space.clone()),
                        format!(
                            "org '{}' and space '{}'",
                            self.org_name(org)?,
                            self.space_name(space)?
                        ),
                    ),
                    (Some(org), None) => (
                        Target::Org(org.clone()),
                        format!("org '{}'", self.org_name(org)?),
                    ),
                    _ => (Target::Foundation, "the foundation".to_owned()),
                };
                let listing = self.manager.list(&caller, &target)?;
                self.say(format!(
                    "Showing registry credentials available to {heading}...\n{listing}"
                ));
            }
            Command::Push {
                app,
                image,
                username,
            } => self.push(app, image, username.as_ref())?,
            Command::DeleteApp(name) => {
                let caller = self.caller()?;
                let space = self.target_space()?;
                let org = self.target_org()?;
                let app = self.manager.find_app(&caller, &space, name)?;
                self.say(format!(
                    "Deleting app {} in org {} / space {} as {}...\n",
                    shown(name),
                    self.org_name(&org)?,
                    self.space_name(&space)?,
                    shown(&caller)
                ));
                self.manager.delete_app(&caller, &app)?;
                self.say("OK\n");
            }
        }
        Ok(())
    }

    /// Imports a Docker `config.json`, a containers `auth.json`, a
    /// `.dockercfg` or a Kubernetes `dockerconfigjson` Secret into the
    /// target's scope, through the manager (R16, R20), all or nothing
    /// unless `skip_failures`. The file is read without blocking, as a
    /// regular file of bounded size, and its bytes are wiped after.
    fn import(&mut self, level: Level, file: &str, skip_failures: bool) -> Result<(), Failure> {
        use registry_credentials_interop::apply::{ImportError, Policy, import_into};
        let caller = self.caller()?;
        let (scope, label) = self.scope(level)?;
        let path = Path::new(file);
        let shown_path = text::quote(file);
        let cannot = |e: io::Error| fail(format!("cannot read {shown_path}: {e}"));
        let f = open_nonblocking(path).map_err(cannot)?;
        let meta = f.metadata().map_err(cannot)?;
        if !meta.is_file() {
            return Err(fail(format!(
                "{shown_path} is {}, not a regular file; give the path of a credentials file",
                kind_of(&meta)
            )));
        }
        if meta.len() > MAX_IMPORT_FILE {
            return Err(fail(format!(
                "{shown_path} is {} bytes, more than the {MAX_IMPORT_FILE} a credentials file can be; check the path",
                meta.len()
            )));
        }
        let mut bytes = secrecy::zeroize::Zeroizing::new(Vec::new());
        f.take(MAX_IMPORT_FILE)
            .read_to_end(&mut bytes)
            .map_err(cannot)?;
        let found = registry_credentials_interop::import::read(&bytes)
            .map_err(|e| fail(format!("cannot import {shown_path}: {e}")))?;
        self.say(format!(
            "Importing registry credentials from {shown_path} into {label} as {}...\n",
            shown(&caller)
        ));
        let policy = if skip_failures {
            Policy::SkipFailures
        } else {
            Policy::AllOrNothing
        };
        match import_into(&self.manager, &caller, &scope, found, policy) {
            Ok(report) => {
                self.say(format!("{report}\n"));
                self.say(format!("OK: {} imported\n", report.imported()));
                Ok(())
            }
            Err(ImportError::Check(e)) => Err(e.into()),
            // One line on standard error, naming the keys that failed.
            Err(e) => {
                use registry_credentials_interop::import::Outcome;
                let failed: Vec<String> = e
                    .report()
                    .map(|r| {
                        r.lines
                            .iter()
                            .filter(|l| matches!(&l.outcome, Outcome::Skipped(s) if s.is_failure()))
                            .map(|l| l.to_string().trim().to_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                if failed.is_empty() {
                    Err(fail(e.to_string()))
                } else {
                    Err(fail(format!("{e}: {}", failed.join("; "))))
                }
            }
        }
    }

    fn scope(&self, level: Level) -> Result<(Scope, String), Failure> {
        Ok(match level {
            Level::Foundation => (Scope::Foundation, "the foundation".to_owned()),
            Level::Org => {
                let org = self.target_org()?;
                let label = format!("org {}", self.org_name(&org)?);
                (Scope::Org(org), label)
            }
            Level::Space => {
                let space = self.target_space()?;
                let label = format!("space {}", self.space_name(&space)?);
                (Scope::Space(space), label)
            }
        })
    }

    fn push(
        &mut self,
        app: &Name,
        image: &Reference,
        username: Option<&Username>,
    ) -> Result<(), Failure> {
        let caller = self.caller()?;
        let space = self.target_space()?;
        let given = match username {
            Some(username) => {
                self.manager.check_push(&caller, &space, app)?;
                let password = self.password(false)?.expect("a required password");
                Some(Credential::from_parts(username.clone(), password))
            }
            None => None,
        };
        let org = self.target_org()?;
        let head = format!(
            "Pushing app {} to org {} / space {} as {}...\n",
            shown(app),
            self.org_name(&org)?,
            self.space_name(&space)?,
            shown(&caller)
        );
        self.say(head);
        let staged = self
            .manager
            .stage(&caller, &space, app, image.clone(), given)?;
        let line = match (staged.chosen(), staged.chosen().source()) {
            (Chosen::None, _) | (_, None) => format!(
                "No registry credential matches {}; pulling the image without credentials.\n",
                staged.image()
            ),
            (chosen, Some(source)) => format!(
                "Using registry credential: scope {source}, location {}, username {}\n",
                chosen.location().map(Location::as_str).unwrap_or_default(),
                shown(&chosen.username().map(Username::as_str).unwrap_or_default()),
            ),
        };
        // The emulator's app always starts: this is the one place that
        // stores the app credential (R19).
        let started = staged.started()?;
        self.say(line);
        self.say("Staging app... done\nStarting app... done\n");
        if let Some(stored) = started.stored() {
            let verb = if started.replaced().is_empty() {
                "Stored"
            } else {
                "Replaced"
            };
            self.say(format!(
                "{verb} the app's registry credential for {} (username {}).\n",
                stored.location(),
                shown(stored.username())
            ));
        }
        self.say("OK\n");
        Ok(())
    }
}

/// The tool's files.
struct Files {
    /// The state file of an earlier release.
    old_state: PathBuf,
    db: PathBuf,
    key: PathBuf,
}

/// `base` with `suffix` added to its name.
fn beside(base: &Path, suffix: &str) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

/// What a file is, when it is not a regular file.
fn kind_of(meta: &fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

impl Files {
    fn new(base: &Path) -> Self {
        Files {
            old_state: base.to_owned(),
            db: beside(base, DB_SUFFIX),
            key: beside(base, KEY_SUFFIX),
        }
    }

    fn damaged(&self, what: &str) -> Failure {
        damaged(&self.db, what)
    }

    /// Whether `path` exists; if it does, that it is a regular file (a
    /// link to one counts) that others may not read or write. Never
    /// opens it.
    fn check(&self, path: &Path, what: &str) -> Result<Option<fs::Metadata>, Failure> {
        let shown = path.display();
        match fs::symlink_metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(fail(format!("cannot inspect {what} {shown}: {e}"))),
            Ok(_) => {}
        }
        let meta = fs::metadata(path).map_err(|e| {
            fail(format!(
                "{what} {shown} is a link that leads nowhere ({e}); restore what it pointed to, or remove the link"
            ))
        })?;
        if !meta.is_file() {
            return Err(fail(format!(
                "{what} {shown} is {}, not a regular file; move it away (nothing was read from it)",
                kind_of(&meta)
            )));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(fail(format!(
                    "{what} {shown} holds secrets but others may access it (mode {:o}); run `chmod 600 {shown}`",
                    mode & 0o777
                )));
            }
        }
        Ok(Some(meta))
    }

    /// Opens the database, creating it (and the key file) when nothing of
    /// the tool's exists yet.
    fn open(&self, env_key: Option<&str>) -> Result<SqliteStore, Failure> {
        if fs::symlink_metadata(&self.old_state).is_ok() {
            return Err(fail(format!(
                "{} is the state file of an earlier release, which this one does not read; \
                 move it away (its organizations and credentials are not carried over)",
                self.old_state.display()
            )));
        }
        let db = self.check(&self.db, "the database")?;
        for suffix in ["-wal", "-shm"] {
            self.check(&beside(&self.db, suffix), "the database's journal")?;
        }
        let key_file = match env_key {
            Some(_) => None,
            None => self.check(&self.key, "the key file")?,
        };
        if let Some(meta) = &db {
            self.check_header(meta.len())?;
        }
        let key = match env_key {
            Some(hex) => Some(EncryptionKey::from_hex(KEY_ID, hex).map_err(|_| {
                fail("CF_REGISTRY_KEY is not 64 hexadecimal digits; set it to the database's key, or unset it to use the key file")
            })?),
            None if key_file.is_some() => Some(self.read_key()?),
            None => None,
        };
        match (db, key) {
            (Some(_), Some(key)) => self.open_existing(key),
            (Some(_), None) => Err(fail(format!(
                "the database {} exists but the key file {} does not; set CF_REGISTRY_KEY to the database's key, or restore the key file",
                self.db.display(),
                self.key.display()
            ))),
            (None, key) => {
                let key_exists = fs::symlink_metadata(&self.key).is_ok();
                if key_exists {
                    // Another process may be creating both: its key file
                    // goes first, its database a moment later.
                    if self.wait_for_db()? {
                        let key = match key {
                            Some(k) => k,
                            None => self.read_key()?,
                        };
                        return self.open_existing(key);
                    }
                    return Err(fail(format!(
                        "the database {} is missing but the key file {} exists, so there was one; \
                         restore the database from a backup, or move the key file away to start afresh",
                        self.db.display(),
                        self.key.display()
                    )));
                }
                self.create(key)
            }
        }
    }

    /// Checks the database's header against its length: an SQLite file is
    /// whole pages, and as long as its header says when no WAL file holds
    /// pages of it. Reads the first 100 bytes of a regular file.
    fn check_header(&self, len: u64) -> Result<(), Failure> {
        if len == 0 {
            return Err(self.damaged("it is empty"));
        }
        let mut header = [0u8; 100];
        let read = open_nonblocking(&self.db).and_then(|f| {
            if f.metadata()?.is_file() {
                f.take(100).read_exact(&mut header)
            } else {
                Err(io::Error::other("not a regular file"))
            }
        });
        if read.is_err() || &header[..16] != b"SQLite format 3\0" {
            return Err(self.damaged("it is not an SQLite database, or is cut short"));
        }
        let page = match u16::from_be_bytes([header[16], header[17]]) {
            1 => 65_536,
            n => u64::from(n),
        };
        if page < 512 || len % page != 0 {
            return Err(self.damaged(&format!(
                "its {len} bytes are not a whole number of {page}-byte pages: it was cut short"
            )));
        }
        let be = |at: usize| {
            u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
        };
        let pages = u64::from(be(28));
        let valid = be(24) == be(92);
        let wal_pages = fs::metadata(beside(&self.db, "-wal")).is_ok_and(|m| m.len() > 0);
        if valid && !wal_pages && pages * page > len {
            return Err(self.damaged(&format!(
                "its header counts {pages} pages but the file holds {}: it was cut short",
                len / page
            )));
        }
        Ok(())
    }

    /// Waits a moment for a database another process is creating; true
    /// when it appeared.
    fn wait_for_db(&self) -> Result<bool, Failure> {
        let written = fs::metadata(&self.key)
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        // However the key file's time reads (a clock set back, a file
        // restored with a time ahead), the wait ends.
        let deadline = Instant::now() + CREATION_GRACE;
        loop {
            if self.check(&self.db, "the database")?.is_some() {
                return Ok(true);
            }
            let age = SystemTime::now()
                .duration_since(written)
                .unwrap_or(Duration::ZERO);
            if age > CREATION_GRACE || Instant::now() > deadline {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Reads the key file: a regular file, never more than a few bytes,
    /// opened without blocking (a FIFO swapped in after the check cannot
    /// hang it).
    fn read_key(&self) -> Result<EncryptionKey, Failure> {
        let shown = self.key.display();
        let file = open_nonblocking(&self.key)
            .map_err(|e| fail(format!("cannot read the key file {shown}: {e}")))?;
        let meta = file
            .metadata()
            .map_err(|e| fail(format!("cannot read the key file {shown}: {e}")))?;
        if !meta.is_file() {
            return Err(fail(format!(
                "the key file {shown} is {}, not a regular file; move it away",
                kind_of(&meta)
            )));
        }
        let mut text = String::new();
        file.take(MAX_KEY_FILE)
            .read_to_string(&mut text)
            .map_err(|e| fail(format!("cannot read the key file {shown}: {e}")))?;
        let text = Password::new(text).map_err(|_| self.bad_key())?;
        EncryptionKey::from_hex(KEY_ID, text.expose()).map_err(|_| self.bad_key())
    }

    fn bad_key(&self) -> Failure {
        fail(format!(
            "the key file {} does not hold 64 hexadecimal digits; restore it, or set CF_REGISTRY_KEY",
            self.key.display()
        ))
    }

    fn options() -> SqliteOptions {
        SqliteOptions::default().busy_timeout(BUSY_TIMEOUT)
    }

    fn open_existing(&self, key: EncryptionKey) -> Result<SqliteStore, Failure> {
        let shown = self.db.display();
        SqliteStore::open_with(&self.db, Keyring::new(key), Self::options().create(false)).map_err(|e| match &e {
            OpenError::Key(KeyError::WrongKey { .. }) => fail(format!(
                "the database {shown} was encrypted with another key: {}; set CF_REGISTRY_KEY to its key, or unset it to use the key file",
                chain(&e)
            )),
            OpenError::Schema(SchemaError::NotAStore) => self.damaged("it holds no credential store"),
            OpenError::Backend { retryable: true, .. } => fail(format!(
                "the database {shown} is busy: {}; retry",
                chain(&e)
            )),
            _ => self.damaged(&chain(&e)),
        })
    }

    /// A unique temporary name beside `path`.
    fn temp(path: &Path) -> PathBuf {
        beside(
            path,
            &format!(
                ".tmp-{}-{}",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            ),
        )
    }

    /// Creates the database, complete, under a temporary name, then the
    /// key file (when the key is not given), then links the database into
    /// place: no process ever sees half of either.
    fn create(&self, key: Option<EncryptionKey>) -> Result<SqliteStore, Failure> {
        let (key, key_text) = match key {
            Some(k) => (k, None),
            None => {
                let hex = EncryptionKey::generate_hex().map_err(|e| fail(chain(&e)))?;
                let k =
                    EncryptionKey::from_hex(KEY_ID, hex.expose()).map_err(|e| fail(chain(&e)))?;
                (k, Some(hex))
            }
        };
        let temp_db = Self::temp(&self.db);
        let built = self.build(&temp_db, key.clone());
        let linked = built.and_then(|()| {
            if let Some(hex) = &key_text {
                if !self.write_key(hex.expose())? {
                    // Another process made the key file first: its
                    // database is on its way.
                    return Ok(false);
                }
            }
            match fs::hard_link(&temp_db, &self.db) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(fail(format!(
                    "cannot create the database {}: {e}",
                    self.db.display()
                ))),
            }
        });
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = fs::remove_file(beside(&temp_db, suffix));
        }
        if linked? {
            return self.open_existing(key);
        }
        // Someone else created it; use theirs.
        if !self.wait_for_db()? {
            return Err(fail(format!(
                "the database {} did not appear although the key file {} was written; retry",
                self.db.display(),
                self.key.display()
            )));
        }
        let key = match key_text {
            Some(_) => self.read_key()?,
            None => key,
        };
        self.open_existing(key)
    }

    /// A complete new database at `path`: the store, the directory's
    /// tables, and the admin.
    fn build(&self, path: &Path, key: EncryptionKey) -> Result<(), Failure> {
        let fail_build = |e: &dyn std::error::Error| {
            fail(format!(
                "cannot create the database {}: {}",
                self.db.display(),
                chain(e)
            ))
        };
        let store = SqliteStore::open_with(path, Keyring::new(key), Self::options())
            .map_err(|e| fail_build(&e))?;
        store
            .transaction(
                |tx| -> Result<(), registry_credentials_cf::directory::DirectoryError> {
                    let d = SqliteDirectory::open(tx)?;
                    d.grant_global(UserId::new(ADMIN).expect("a valid id"), GlobalRole::Admin)?;
                    Ok(())
                },
            )
            .map_err(|e| fail_build(&e))?;
        Ok(())
    }

    /// Writes the key file atomically (mode 0600); false when it exists.
    fn write_key(&self, hex: &str) -> Result<bool, Failure> {
        let temp = Self::temp(&self.key);
        let shown = self.key.display();
        let write = || -> io::Result<bool> {
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&temp)?;
            file.write_all(format!("{hex}\n").as_bytes())?;
            file.sync_all()?;
            match fs::hard_link(&temp, &self.key) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(e),
            }
        };
        let result = write();
        let _ = fs::remove_file(&temp);
        result.map_err(|e| fail(format!("cannot write the key file {shown}: {e}")))
    }
}

/// Opens `path` for reading without blocking: a FIFO swapped in after a
/// check of its kind cannot hang the open.
fn open_nonblocking(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    options.open(path)
}
