//! A cf-style command line over the crate's [`Manager`]: the interpreter
//! behind `cargo run -p registry-credentials-cf --example cf -- …`, shared
//! by `examples/cf.rs` and `tests/cf.rs` (each includes this file with
//! `#[path]`).
//!
//! It lives here rather than in the library because it is an emulator for
//! walking through the user page, not an API anyone should build on: the
//! library stays free of argument parsing, files and terminals (it does no
//! I/O of its own), and the prompt (`rpassword`) stays a dev-dependency.
//! The test drives exactly the code the example runs, with its own state
//! file, password and output buffers.
//!
//! State (the directory, the credentials, the current user and target)
//! persists in one file that only its owner may read or write (mode 0600);
//! a file others may read is refused. Passwords are in that file, since
//! they must persist; they never reach the output. The directory is a
//! [`MemoryDirectory`], saved from its snapshots and rebuilt on load
//! through the [`Directory`] trait with the saved ids (new organizations,
//! spaces and apps get random GUIDs, R13).
//!
//! With the `sqlite` feature the credentials live instead in a
//! `registry_credentials_sql::SqliteStore` beside the state file
//! (its name plus `.db`), passwords encrypted with the key in
//! `CF_REGISTRY_KEY` (64 hexadecimal digits) or, when that is unset, in the
//! key file (the state file's name plus `.key`, mode 0600), made on first
//! use. The state file then holds the directory, user and target only.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

use registry_credentials::credential::CredentialUpdate;
use registry_credentials::scope::{OrgId, SpaceId, UserId};
use registry_credentials::{
    Credential, Location, Password, Reference, RegistryCredential, Scope, Username,
};
#[cfg(not(feature = "sqlite"))]
use registry_credentials::{CredentialStore, MemoryStore};
use registry_credentials_cf::access::{GlobalRole, Operation, OrgRole, SpaceRole};
use registry_credentials_cf::directory::{Directory, MemoryDirectory, Name};
use registry_credentials_cf::listing::Target;
use registry_credentials_cf::manage::{Chosen, ManageError, Manager};

/// The state file's name, in the working directory.
pub const STATE_FILE: &str = ".cf-registry-credentials";

/// What the `sqlite` feature adds to the state file's name for the
/// credential database.
pub const DB_SUFFIX: &str = ".db";

/// What the `sqlite` feature adds to the state file's name for the key
/// file, used when `CF_REGISTRY_KEY` is unset.
pub const KEY_SUFFIX: &str = ".key";

/// What the state file holds that others must not read.
#[cfg(not(feature = "sqlite"))]
const STATE_HOLDS: &str = "holds passwords";
#[cfg(feature = "sqlite")]
const STATE_HOLDS: &str = "holds your session";

/// The id the `sqlite` feature's rows record for their key.
const KEY_ID: &str = "cf";

/// The credential store: in the state file without the `sqlite` feature,
/// in its own encrypted SQLite file with it.
#[cfg(not(feature = "sqlite"))]
type Store = MemoryStore;
#[cfg(feature = "sqlite")]
type Store = registry_credentials_sql::SqliteStore;

/// The user who holds the Admin role.
pub const ADMIN: &str = "admin";

const MAGIC: &str = "cf-registry-credentials-state\t1";

/// What the interpreter reads and writes besides its arguments.
pub struct Io<'a> {
    /// The state file.
    pub state: &'a Path,
    /// `CF_DOCKER_PASSWORD`, if set.
    pub password_env: Option<String>,
    /// `CF_REGISTRY_KEY`, if set: the credential database's key (used
    /// with the `sqlite` feature only).
    pub registry_key: Option<String>,
    /// Asks for a password without echoing it.
    pub prompt: &'a mut dyn FnMut(&str) -> io::Result<String>,
    /// Standard output.
    pub out: &'a mut dyn Write,
    /// Standard error.
    pub err: &'a mut dyn Write,
}

/// Runs one command and returns the exit code: 0 on success; on failure,
/// one line on standard error and 1 (2 for a usage error).
pub fn main(args: &[String], io: &mut Io<'_>) -> i32 {
    match run(args, io) {
        Ok(()) => 0,
        Err(e) => {
            let line = e.message.replace(['\n', '\r'], " ");
            let _ = writeln!(io.err, "FAILED: {line}");
            e.code
        }
    }
}

/// A failed command: one line of text and an exit code.
#[derive(Debug)]
pub struct Failure {
    /// The message, one line.
    pub message: String,
    /// The exit code.
    pub code: i32,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 2,
        }
    }
}

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
                Failure { message: chain(&e), code: 1 }
            }
        }
    )*};
}

impl_failure_from!(
    ManageError,
    registry_credentials::scope::IdError,
    registry_credentials_cf::directory::NameError,
    registry_credentials::credential::CredentialError,
    registry_credentials::LocationError,
    registry_credentials::ReferenceError,
    registry_credentials_cf::access::RoleError,
    registry_credentials_cf::directory::DirectoryError,
    registry_credentials::StoreError
);

fn fail(message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        code: 1,
    }
}

const USAGE: &str = "commands: auth USER | create-org ORG | create-space SPACE [-o ORG] | \
set-org-role USER ORG ROLE | set-space-role USER ORG SPACE ROLE | target [-o ORG] [-s SPACE] | \
create-{foundation,org,space}-registry-credential LOCATION --username USER | \
update-{foundation,org,space}-registry-credential LOCATION [--username USER] | \
delete-{foundation,org,space}-registry-credential LOCATION | \
delete-app-registry-credential LOCATION APP | registry-credentials | \
push APP --docker-image IMAGE [--docker-username USER]";

/// Runs one command.
///
/// # Errors
///
/// A [`Failure`] with one line of text; the state file is then unchanged.
pub fn run(args: &[String], io: &mut Io<'_>) -> Result<(), Failure> {
    let Some((command, rest)) = args.split_first() else {
        return Err(Failure::usage(format!("no command given; {USAGE}")));
    };
    let mut state = State::load(io.state, io.registry_key.as_deref())?;
    let changed = state.execute(command, rest, io)?;
    if changed {
        state.save(io.state)?;
    }
    Ok(())
}

/// The arguments of one command: positionals, and the values of the
/// options it knows.
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
            u
        };
        let mut positional = Vec::new();
        let mut options = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if a.starts_with('-') && a.len() > 1 {
                let Some(name) = known.iter().find(|k| **k == a.as_str()) else {
                    return Err(Failure::usage(format!(
                        "`{command}` has no option `{a}`; {}",
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

/// Which scope a `*-registry-credential` command acts on.
#[derive(Clone, Copy)]
enum Level {
    Foundation,
    Org,
    Space,
}

struct State {
    manager: Manager<Store, MemoryDirectory>,
    user: Option<UserId>,
    org: Option<OrgId>,
    space: Option<SpaceId>,
}

impl State {
    fn fresh(store: Store) -> Result<Self, Failure> {
        let manager = Manager::new(store, MemoryDirectory::new());
        manager
            .directory()
            .grant_global(UserId::new(ADMIN)?, GlobalRole::Admin)?;
        Ok(State {
            manager,
            user: None,
            org: None,
            space: None,
        })
    }

    fn caller(&self) -> Result<&UserId, Failure> {
        self.user.as_ref().ok_or_else(|| {
            fail("not logged in; run `auth USER` first (`auth admin` for the admin)")
        })
    }

    fn target_org(&self) -> Result<&OrgId, Failure> {
        self.org
            .as_ref()
            .ok_or_else(|| fail("no organization targeted; run `target -o ORG` first"))
    }

    fn target_space(&self) -> Result<&SpaceId, Failure> {
        self.space
            .as_ref()
            .ok_or_else(|| fail("no space targeted; run `target -o ORG -s SPACE` first"))
    }

    fn dir(&self) -> &MemoryDirectory {
        self.manager.directory()
    }

    /// The name of `org`, or its id when the directory does not know it.
    fn org_name(&self, org: &OrgId) -> String {
        // A `MemoryDirectory` does not fail.
        self.dir()
            .org_name(org)
            .ok()
            .flatten()
            .map_or_else(|| org.to_string(), |n| n.to_string())
    }

    /// The name of `space`, or its id when the directory does not know it.
    fn space_name(&self, space: &SpaceId) -> String {
        self.dir()
            .space(space)
            .ok()
            .flatten()
            .map_or_else(|| space.to_string(), |(_, n)| n.to_string())
    }

    /// Runs `command`; true when the state changed and must be saved.
    fn execute(
        &mut self,
        command: &str,
        rest: &[String],
        io: &mut Io<'_>,
    ) -> Result<bool, Failure> {
        let out = |io: &mut Io<'_>, text: String| -> Result<(), Failure> {
            io.out
                .write_all(text.as_bytes())
                .map_err(|e| fail(format!("cannot write the output: {e}")))
        };
        match command {
            "auth" => {
                let a = Args::parse(command, rest, &[], &["USER"])?;
                let user = UserId::new(a.positional[0])?;
                out(io, format!("Authenticating as {user}...\nOK\n"))?;
                self.user = Some(user);
                self.org = None;
                self.space = None;
                Ok(true)
            }
            "create-org" => {
                let a = Args::parse(command, rest, &[], &["ORG"])?;
                let caller = self.caller()?.clone();
                let name = Name::new(a.positional[0])?;
                out(io, format!("Creating org {name} as {caller}...\n"))?;
                self.manager.create_org(&caller, name)?;
                out(io, "OK\n".into())?;
                Ok(true)
            }
            "create-space" => {
                let a = Args::parse(command, rest, &["-o"], &["SPACE"])?;
                let caller = self.caller()?.clone();
                let org = match a.option("-o") {
                    Some(name) => self.manager.find_org(&caller, name)?,
                    None => self.target_org()?.clone(),
                };
                let name = Name::new(a.positional[0])?;
                out(
                    io,
                    format!(
                        "Creating space {name} in org {} as {caller}...\n",
                        self.org_name(&org)
                    ),
                )?;
                self.manager.create_space(&caller, &org, name)?;
                out(io, "OK\n".into())?;
                Ok(true)
            }
            "set-org-role" => {
                let a = Args::parse(command, rest, &[], &["USER", "ORG", "ROLE"])?;
                let caller = self.caller()?.clone();
                let user = UserId::new(a.positional[0])?;
                let org = self.manager.find_org(&caller, a.positional[1])?;
                let role: OrgRole = a.positional[2].parse()?;
                out(
                    io,
                    format!(
                        "Assigning role {role} to user {user} in org {} as {caller}...\n",
                        self.org_name(&org)
                    ),
                )?;
                self.manager.set_org_role(&caller, user, &org, role)?;
                out(io, "OK\n".into())?;
                Ok(true)
            }
            "set-space-role" => {
                let a = Args::parse(command, rest, &[], &["USER", "ORG", "SPACE", "ROLE"])?;
                let caller = self.caller()?.clone();
                let user = UserId::new(a.positional[0])?;
                let org = self.manager.find_org(&caller, a.positional[1])?;
                let space = self.manager.find_space(&caller, &org, a.positional[2])?;
                let role: SpaceRole = a.positional[3].parse()?;
                out(
                    io,
                    format!(
                    "Assigning role {role} to user {user} in org {} / space {} as {caller}...\n",
                    self.org_name(&org),
                    self.space_name(&space)
                ),
                )?;
                self.manager.set_space_role(&caller, user, &space, role)?;
                out(io, "OK\n".into())?;
                Ok(true)
            }
            "target" => {
                let a = Args::parse(command, rest, &["-o", "-s"], &[])?;
                let caller = self.caller()?.clone();
                let org = match a.option("-o") {
                    Some(name) => Some(self.manager.find_org(&caller, name)?),
                    None => self.org.clone(),
                };
                let space = match (a.option("-s"), &org) {
                    (Some(name), Some(org)) => Some(self.manager.find_space(&caller, org, name)?),
                    (Some(_), None) => {
                        return Err(fail(
                            "no organization targeted; give `-o ORG` with `-s SPACE`",
                        ))
                    }
                    (None, _) if a.option("-o").is_some() => None,
                    (None, _) => self.space.clone(),
                };
                let changed = a.option("-o").is_some() || a.option("-s").is_some();
                self.org = org;
                self.space = space;
                let mut text = format!("user:   {caller}\n");
                let _ = writeln!(
                    text,
                    "org:    {}",
                    self.org
                        .as_ref()
                        .map_or("No org targeted".to_owned(), |o| self.org_name(o))
                );
                let _ = writeln!(
                    text,
                    "space:  {}",
                    self.space
                        .as_ref()
                        .map_or("No space targeted".to_owned(), |s| self.space_name(s))
                );
                out(io, text)?;
                Ok(changed)
            }
            "create-foundation-registry-credential" => {
                self.create(Level::Foundation, command, rest, io)
            }
            "create-org-registry-credential" => self.create(Level::Org, command, rest, io),
            "create-space-registry-credential" => self.create(Level::Space, command, rest, io),
            "update-foundation-registry-credential" => {
                self.update(Level::Foundation, command, rest, io)
            }
            "update-org-registry-credential" => self.update(Level::Org, command, rest, io),
            "update-space-registry-credential" => self.update(Level::Space, command, rest, io),
            "delete-foundation-registry-credential" => {
                self.delete(Level::Foundation, command, rest, io)
            }
            "delete-org-registry-credential" => self.delete(Level::Org, command, rest, io),
            "delete-space-registry-credential" => self.delete(Level::Space, command, rest, io),
            "delete-app-registry-credential" => {
                let a = Args::parse(command, rest, &[], &["LOCATION", "APP"])?;
                let caller = self.caller()?.clone();
                let location = Location::parse(a.positional[0])?;
                let space = self.target_space()?.clone();
                let app = self.manager.find_app(&caller, &space, a.positional[1])?;
                out(
                    io,
                    format!(
                        "Deleting registry credential {location} for app {} as {caller}...\n",
                        a.positional[1]
                    ),
                )?;
                self.manager.delete(&caller, &Scope::App(app), &location)?;
                out(io, "OK\n".into())?;
                Ok(true)
            }
            "registry-credentials" => {
                Args::parse(command, rest, &[], &[])?;
                let caller = self.caller()?.clone();
                let (target, heading) = match (&self.org, &self.space) {
                    (Some(org), Some(space)) => (
                        Target::Space(space.clone()),
                        format!(
                            "org '{}' and space '{}'",
                            self.org_name(org),
                            self.space_name(space)
                        ),
                    ),
                    (Some(org), None) => (
                        Target::Org(org.clone()),
                        format!("org '{}'", self.org_name(org)),
                    ),
                    _ => (Target::Foundation, "the foundation".to_owned()),
                };
                let listing = self.manager.list(&caller, &target)?;
                out(
                    io,
                    format!("Showing registry credentials available to {heading}...\n{listing}"),
                )?;
                Ok(false)
            }
            "push" => self.push(command, rest, io),
            "help" | "--help" | "-h" => {
                out(io, format!("{USAGE}\n"))?;
                Ok(false)
            }
            other => Err(Failure::usage(format!(
                "`{other}` is not a command; {USAGE}"
            ))),
        }
    }

    fn scope(&self, level: Level) -> Result<(Scope, String), Failure> {
        Ok(match level {
            Level::Foundation => (Scope::Foundation, "the foundation".to_owned()),
            Level::Org => {
                let org = self.target_org()?;
                (
                    Scope::Org(org.clone()),
                    format!("org {}", self.org_name(org)),
                )
            }
            Level::Space => {
                let space = self.target_space()?;
                (
                    Scope::Space(space.clone()),
                    format!("space {}", self.space_name(space)),
                )
            }
        })
    }

    fn create(
        &mut self,
        level: Level,
        command: &str,
        rest: &[String],
        io: &mut Io<'_>,
    ) -> Result<bool, Failure> {
        let a = Args::parse(command, rest, &["--username"], &["LOCATION"])?;
        let caller = self.caller()?.clone();
        let location = Location::parse(a.positional[0])?;
        let username = Username::new(a.require("--username")?)?;
        let (scope, label) = self.scope(level)?;
        // Refuse before asking for a password that could not be used.
        self.manager
            .check_access(&caller, Operation::Create, &scope)?;
        let password = password(io, false)?.expect("a required password");
        write_out(
            io,
            format!("Creating registry credential {location} for {label} as {caller}...\n"),
        )?;
        let credential = Credential { username, password };
        self.manager.create(
            &caller,
            RegistryCredential::new(scope, location, credential),
        )?;
        write_out(io, "OK\n".into())?;
        Ok(true)
    }

    fn update(
        &mut self,
        level: Level,
        command: &str,
        rest: &[String],
        io: &mut Io<'_>,
    ) -> Result<bool, Failure> {
        let a = Args::parse(command, rest, &["--username"], &["LOCATION"])?;
        let caller = self.caller()?.clone();
        let location = Location::parse(a.positional[0])?;
        let username = a.option("--username").map(Username::new).transpose()?;
        let (scope, label) = self.scope(level)?;
        self.manager
            .check_access(&caller, Operation::Update, &scope)?;
        let update = match username {
            Some(username) => match password(io, true)? {
                Some(password) => CredentialUpdate::Both(Credential { username, password }),
                None => CredentialUpdate::Username(username),
            },
            None => CredentialUpdate::Password(password(io, false)?.expect("a required password")),
        };
        write_out(
            io,
            format!("Updating registry credential {location} for {label} as {caller}...\n"),
        )?;
        self.manager.update(&caller, &scope, &location, update)?;
        write_out(io, "OK\n".into())?;
        Ok(true)
    }

    fn delete(
        &mut self,
        level: Level,
        command: &str,
        rest: &[String],
        io: &mut Io<'_>,
    ) -> Result<bool, Failure> {
        let a = Args::parse(command, rest, &[], &["LOCATION"])?;
        let caller = self.caller()?.clone();
        let location = Location::parse(a.positional[0])?;
        let (scope, label) = self.scope(level)?;
        write_out(
            io,
            format!("Deleting registry credential {location} for {label} as {caller}...\n"),
        )?;
        self.manager.delete(&caller, &scope, &location)?;
        write_out(io, "OK\n".into())?;
        Ok(true)
    }

    fn push(&mut self, command: &str, rest: &[String], io: &mut Io<'_>) -> Result<bool, Failure> {
        let a = Args::parse(
            command,
            rest,
            &["--docker-image", "--docker-username"],
            &["APP"],
        )?;
        let caller = self.caller()?.clone();
        let app = Name::new(a.positional[0])?;
        let image = Reference::parse(a.require("--docker-image")?)?;
        let space = self.target_space()?.clone();
        let given = match a.option("--docker-username") {
            Some(user) => {
                let username = Username::new(user)?;
                self.manager.check_push(&caller, &space, &app)?;
                let password = password(io, false)?.expect("a required password");
                Some(Credential { username, password })
            }
            None => None,
        };
        let org = self.target_org()?.clone();
        write_out(
            io,
            format!(
                "Pushing app {app} to org {} / space {} as {caller}...\n",
                self.org_name(&org),
                self.space_name(&space)
            ),
        )?;
        let staged = self.manager.stage(&caller, &space, &app, image, given)?;
        let line = match (staged.chosen(), staged.chosen().source()) {
            (Chosen::None, _) | (_, None) => format!(
                "No registry credential matches {}; pulling the image without credentials.\n",
                staged.image()
            ),
            (chosen, Some(source)) => format!(
                "Using registry credential: scope {source}, location {}, username {}\n",
                chosen.location().map(Location::as_str).unwrap_or_default(),
                chosen.username().map(Username::as_str).unwrap_or_default(),
            ),
        };
        write_out(io, line)?;
        write_out(io, "Staging app... done\nStarting app... done\n".into())?;
        // The emulator's app always starts: this is the one place that
        // stores the app credential (R19).
        let started = staged.started()?;
        if let Some(stored) = started.stored() {
            let verb = if !started.replaced().is_empty() {
                "Replaced"
            } else {
                "Stored"
            };
            write_out(
                io,
                format!(
                    "{verb} the app's registry credential for {} (username {}).\n",
                    stored.location(),
                    stored.username()
                ),
            )?;
        }
        write_out(io, "OK\n".into())?;
        Ok(true)
    }

    /// Loads the state file, or a fresh state when there is none, and
    /// opens the credential store.
    fn load(path: &Path, key: Option<&str>) -> Result<Self, Failure> {
        let shown = path.display();
        let text = match fs::read_to_string(path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(fail(format!("cannot read the state file {shown}: {e}"))),
        };
        if text.is_some() {
            check_private(path, "the state file", STATE_HOLDS)?;
        }
        let mut lines = text.as_deref().unwrap_or(MAGIC).lines().enumerate();
        match lines.next() {
            Some((_, MAGIC)) => {}
            _ => {
                return Err(fail(format!(
                    "{shown} is not a state file of this version; move it away to start afresh"
                )))
            }
        }
        #[cfg(feature = "sqlite")]
        if text
            .as_deref()
            .is_some_and(|t| t.contains("\ncredential\t"))
        {
            return Err(fail(format!(
                "the state file {shown} holds credentials, written without the `sqlite` feature; \
                 delete them with a run without it, or move the file away to start afresh"
            )));
        }
        let mut state = State::fresh(open_store(path, key)?)?;
        for (n, line) in lines {
            state.load_line(line).map_err(|e| {
                fail(format!("the state file {shown} is damaged at line {}: {}; move it away to start afresh", n + 1, e.message))
            })?;
        }
        Ok(state)
    }

    fn load_line(&mut self, line: &str) -> Result<(), Failure> {
        let f: Vec<&str> = line.split('\t').collect();
        fn opt(s: &str) -> Option<&str> {
            (s != "-").then_some(s)
        }
        // The directory is rebuilt through the `Directory` trait, with the
        // saved ids.
        let dir = self.manager.directory();
        match f.as_slice() {
            ["user", u] => self.user = opt(u).map(UserId::new).transpose()?,
            ["target", o, s] => {
                self.org = opt(o).map(OrgId::new).transpose()?;
                self.space = opt(s).map(SpaceId::new).transpose()?;
            }
            ["org", id, name] => dir.add_org(OrgId::new(id)?, Name::new(name)?)?,
            ["space", id, org, name] => {
                dir.add_space(SpaceId::new(id)?, &OrgId::new(org)?, Name::new(name)?)?
            }
            ["app", id, space, name] => {
                dir.add_app(id.parse()?, &SpaceId::new(space)?, Name::new(name)?)?
            }
            ["global", u, r] => dir.grant_global(UserId::new(u)?, r.parse()?)?,
            ["org-role", u, o, r] => dir.grant_org(UserId::new(u)?, &OrgId::new(o)?, r.parse()?)?,
            ["space-role", u, s, r] => {
                dir.grant_space(UserId::new(u)?, &SpaceId::new(s)?, r.parse()?)?
            }
            #[cfg(not(feature = "sqlite"))]
            ["credential", kind, id, loc, user, pass] => {
                let scope = match (*kind, opt(id)) {
                    ("foundation", None) => Scope::Foundation,
                    ("organization", Some(id)) => Scope::Org(id.parse()?),
                    ("space", Some(id)) => Scope::Space(id.parse()?),
                    ("app", Some(id)) => Scope::App(id.parse()?),
                    _ => return Err(fail(
                        "a credential's scope is not one of foundation, organization, space, app",
                    )),
                };
                let username = Username::new(unhex(user)?)?;
                let password = Password::new(unhex(pass)?)?;
                self.manager.store().create(RegistryCredential::new(
                    scope,
                    Location::parse(loc)?,
                    Credential { username, password },
                ))?;
            }
            [] | [""] => {}
            _ => return Err(fail("the line is not one this program writes")),
        }
        Ok(())
    }

    fn serialize(&self) -> String {
        let dir = self.dir();
        let opt = |s: Option<&str>| s.unwrap_or("-").to_owned();
        let mut s = format!("{MAGIC}\n");
        let _ = writeln!(s, "user\t{}", opt(self.user.as_ref().map(UserId::as_str)));
        let _ = writeln!(
            s,
            "target\t{}\t{}",
            opt(self.org.as_ref().map(OrgId::as_str)),
            opt(self.space.as_ref().map(SpaceId::as_str))
        );
        // Organizations before spaces before apps, so that a load adds
        // each after what it belongs to.
        for (id, name) in dir.orgs() {
            let _ = writeln!(s, "org\t{id}\t{name}");
        }
        for (id, org, name) in dir.spaces() {
            let _ = writeln!(s, "space\t{id}\t{org}\t{name}");
        }
        for (app, name) in dir.apps() {
            let _ = writeln!(s, "app\t{}\t{}\t{name}", app.id(), app.space());
        }
        for (user, roles) in dir.users() {
            for r in roles.global() {
                let _ = writeln!(s, "global\t{user}\t{r}");
            }
            for (org, r) in roles.org_roles() {
                let _ = writeln!(s, "org-role\t{user}\t{org}\t{r}");
            }
            for (space, r) in roles.space_roles() {
                let _ = writeln!(s, "space-role\t{user}\t{space}\t{r}");
            }
        }
        #[cfg(not(feature = "sqlite"))]
        for c in self
            .manager
            .store()
            .list_all()
            .expect("the memory store does not fail")
        {
            let _ = writeln!(
                s,
                "credential\t{}\t{}\t{}\t{}\t{}",
                c.scope().kind(),
                c.scope().id().unwrap_or("-"),
                c.location(),
                hex(c.username().as_str()),
                hex(c.password().expose())
            );
        }
        s
    }

    /// Writes the state to a new file readable by its owner alone, then
    /// renames it over the old one, so a crash leaves one or the other.
    fn save(&self, path: &Path) -> Result<(), Failure> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".new");
        let tmp = std::path::PathBuf::from(tmp);
        let text = self.serialize();
        let shown = path.display();
        let write = || -> io::Result<()> {
            let _ = fs::remove_file(&tmp);
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&tmp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            fail(format!("cannot write the state file {shown}: {e}"))
        })
    }
}

fn write_out(io: &mut Io<'_>, text: String) -> Result<(), Failure> {
    io.out
        .write_all(text.as_bytes())
        .map_err(|e| fail(format!("cannot write the output: {e}")))
}

/// The password from `CF_DOCKER_PASSWORD`, or else from a prompt that
/// does not echo. With `optional`, an empty answer at the prompt means
/// "keep the current one" (`None`).
fn password(io: &mut Io<'_>, optional: bool) -> Result<Option<Password>, Failure> {
    if let Some(p) = io.password_env.clone() {
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

/// Refuses a file (`what`, which `holds` something) that others may read.
fn check_private(path: &Path, what: &str, holds: &str) -> Result<(), Failure> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)
            .map_err(|e| fail(format!("cannot read {what} {}: {e}", path.display())))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(fail(format!(
                "{what} {0} {holds} but others may access it (mode {1:o}); run `chmod 600 {0}`",
                path.display(),
                mode & 0o777
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = (path, what, holds);
    Ok(())
}

/// `state` with `suffix` added to its name.
fn beside(state: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = state.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

/// Creates `path` readable by its owner alone, holding `bytes`, unless it
/// exists; true when this call created it.
fn create_private(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(bytes)?;
            file.sync_all()?;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(not(feature = "sqlite"))]
fn open_store(_state: &Path, _key: Option<&str>) -> Result<Store, Failure> {
    Ok(MemoryStore::new())
}

/// Opens the credential database beside `state`, with the key from
/// `CF_REGISTRY_KEY` (`key`) or else from the key file, which is made
/// (mode 0600) on first use.
#[cfg(feature = "sqlite")]
fn open_store(state: &Path, key: Option<&str>) -> Result<Store, Failure> {
    use registry_credentials_sql::{EncryptionKey, Keyring, OpenError, SqliteStore};

    let db = beside(state, DB_SUFFIX);
    let key = match key {
        Some(hex) => EncryptionKey::from_hex(KEY_ID, hex).map_err(|_| {
            fail("CF_REGISTRY_KEY is not 64 hexadecimal digits; set it to the key of the credential database, or unset it to use the key file")
        })?,
        None => {
            let path = beside(state, KEY_SUFFIX);
            let shown = path.display();
            if db.exists() && !path.exists() {
                return Err(fail(format!(
                    "the credential database {} exists but the key file {shown} does not; set CF_REGISTRY_KEY to the database's key",
                    db.display()
                )));
            }
            let generated = generate_key_hex();
            create_private(&path, format!("{}\n", generated.expose()).as_bytes())
                .map_err(|e| fail(format!("cannot write the key file {shown}: {e}")))?;
            check_private(&path, "the key file", "holds the credentials' key")?;
            let bad = || {
                fail(format!("the key file {shown} does not hold 64 hexadecimal digits; restore it, or set CF_REGISTRY_KEY"))
            };
            let hex = Password::new(
                fs::read_to_string(&path)
                    .map_err(|e| fail(format!("cannot read the key file {shown}: {e}")))?,
            )
            .map_err(|_| bad())?;
            EncryptionKey::from_hex(KEY_ID, hex.expose()).map_err(|_| bad())?
        }
    };
    let path = db;
    let shown = path.display();
    // SQLite gives its WAL and shared-memory files the database's mode.
    create_private(&path, b"").map_err(|e| {
        fail(format!(
            "cannot create the credential database {shown}: {e}"
        ))
    })?;
    SqliteStore::open(&path, Keyring::new(key)).map_err(|e| match e {
        OpenError::Key(_) => fail(format!(
            "the credential database {shown} was encrypted with another key: {}; set CF_REGISTRY_KEY to its key, or unset it to use the key file",
            chain(&e)
        )),
        e => fail(format!("cannot open the credential database {shown}: {}", chain(&e))),
    })
}

/// 64 hexadecimal digits of fresh key material, held in a [`Password`]
/// (a secret string, wiped on drop): 256 of the random bits of three
/// version 4 UUIDs, 122 each, which `uuid` draws from the operating
/// system's generator. (`EncryptionKey::generate_hex` does the same, but
/// its `SecretString` needs `secrecy`, which this package does not depend
/// on.)
#[cfg(feature = "sqlite")]
fn generate_key_hex() -> Password {
    let mut hex = String::with_capacity(64);
    // Random bits not yet used: the low `have` bits of `pool`, fewer than
    // 4 + 122 at any time.
    let (mut pool, mut have) = (0u128, 0u32);
    while hex.len() < 64 {
        if have < 4 {
            let v = uuid::Uuid::new_v4().as_u128();
            // Leave out the version (bits 76..80) and variant (62..64).
            let random = ((v >> 80) << 74) | (((v >> 64) & 0xfff) << 62) | (v & ((1 << 62) - 1));
            pool = (pool << 122) | random;
            have += 122;
        }
        have -= 4;
        let nibble = (pool >> have) & 0xf;
        pool &= (1 << have) - 1;
        hex.push(char::from_digit(nibble as u32, 16).expect("a nibble is a hex digit"));
    }
    Password::new(hex).expect("64 digits are a valid secret")
}

fn hex(s: &str) -> String {
    s.bytes()
        .fold(String::with_capacity(s.len() * 2), |mut h, b| {
            let _ = write!(h, "{b:02x}");
            h
        })
}

fn unhex(s: &str) -> Result<String, Failure> {
    let bad = || fail("a username or password is not hex");
    if s.len() % 2 != 0 {
        return Err(bad());
    }
    let bytes = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2).ok_or_else(bad)?, 16).map_err(|_| bad()))
        .collect::<Result<Vec<u8>, _>>()?;
    String::from_utf8(bytes).map_err(|_| bad())
}
