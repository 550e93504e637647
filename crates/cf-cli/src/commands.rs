//! Carrying out one command: its arguments checked with the library's
//! types, the questions it asks (a password, a confirmation), and its
//! run inside one transaction of the database.
//!
//! Every command is one transaction: it happens whole and exits 0, or
//! changes nothing and exits 1 with its message and `FAILED` on standard
//! error. Output is written only after the commit; if writing it fails
//! then (a closed pipe), the command still happened: a note goes to
//! standard error and the exit code is 0. Commands that only read
//! (`registry-credentials`, `target` without options, `help`) never take
//! the write lock, and a command that asks a question (a password, "Really
//! delete…?") asks it between a read transaction that checks it may go
//! on and the write transaction that does it, so no lock is held while a
//! person types.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{self, BufRead, Read, Write};
use std::path::Path;

use registry_credentials::CredentialSource as _;
use registry_credentials::credential::CredentialUpdate;
use registry_credentials::metadata::{
    LabelKey, LabelValue, MetadataError, MetadataPatch, Selector,
};
use registry_credentials::scope::{AppId, OrgId, SpaceId, UserId};
use registry_credentials::store::{Key, MAX_PER_PAGE, Query};
use registry_credentials::{
    Credential, CredentialKind, Location, Password, Reference, RegistryCredential, Scope, Username,
};
use registry_credentials_cf::access::{self, DirectoryAction, Operation, OrgRole, SpaceRole};
use registry_credentials_cf::api::Api;
use registry_credentials_cf::directory::{DirectoryReader, Entity, Name, Session, SqliteDirectory};
use registry_credentials_cf::listing::{Listing, Row, Target};
use registry_credentials_cf::manage::{
    Chosen, Located, ManageError, Manager, Proposal, Stored, Within,
};
use registry_credentials_cf::text;
use registry_credentials_interop::import::Import;
use registry_credentials_sql::{SqliteStore, SqliteTransaction};

mod reach;

use crate::args::{self, Parsed};
use crate::output::{Failure, Kind, chain, fail, one_line, pretty_json, report, shown};
use crate::state::{self, Files, check_database, kind_of, open_nonblocking};

/// What a run reads and writes besides its arguments: the binary passes
/// the process's environment and standard streams, a test its own.
pub struct Io<'a> {
    /// `CF_HOME`, if set: the state lives in its `.cf`.
    pub cf_home: Option<OsString>,
    /// `HOME`, if set: the state lives in its `.cf` when `CF_HOME` is
    /// unset.
    pub home: Option<OsString>,
    /// `CF_DOCKER_PASSWORD`, if set.
    pub password_env: Option<OsString>,
    /// `CF_REGISTRY_KEY`, if set.
    pub registry_key: Option<OsString>,
    /// Asks for a password without echoing it.
    pub prompt: &'a mut dyn FnMut(&str) -> io::Result<String>,
    /// Standard input, where the answer to "Really delete…?" is read.
    pub stdin: &'a mut dyn BufRead,
    /// Standard output.
    pub out: &'a mut dyn Write,
    /// Standard error.
    pub err: &'a mut dyn Write,
}

/// Runs one command (`args` without the program's name) and returns the
/// exit code: 0 when it happened (or help was printed, or a deletion was
/// declined); 1 when it failed or the arguments do not fit it, with the
/// reason on standard error.
pub fn run(args: &[OsString], io: &mut Io<'_>) -> i32 {
    let (code, note) = match execute(args, io) {
        Ok(Done {
            output,
            wrote,
            code,
        }) => match io
            .out
            .write_all(output.as_bytes())
            .and_then(|()| io.out.flush())
        {
            Ok(()) => (code, None),
            // The command committed: it happened, whatever became of its
            // output.
            Err(e) if wrote => (
                code,
                Some(format!(
                    "note: the command was carried out, but its output could not be written: {}\n",
                    one_line(&e.to_string(), args)
                )),
            ),
            Err(e) => (
                1,
                Some(report(&fail(format!("cannot write the output: {e}")), args)),
            ),
        },
        Err(f) => (1, Some(report(&f, args))),
    };
    if let Some(text) = note {
        let _ = io.err.write_all(text.as_bytes());
        let _ = io.err.flush();
    }
    code
}

/// A command carried out: its output, whether it changed the database,
/// and its exit code (0; 22 for `cf curl -f` answered with an error).
struct Done {
    output: String,
    wrote: bool,
    code: i32,
}

/// The arguments as text; a non-UTF-8 one is a usage error that names
/// its position.
fn utf8_args(args: &[OsString]) -> Result<Vec<String>, Failure> {
    args.iter()
        .enumerate()
        .map(|(i, a)| {
            a.to_str().map(str::to_owned).ok_or_else(|| {
                let command = args.first().and_then(|c| c.to_str());
                Failure::usage(
                    command,
                    format!(
                        "argument {} is not valid UTF-8; give names, locations and usernames as UTF-8 text",
                        i + 1
                    ),
                )
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

/// Parses, checks and carries out one command.
fn execute(args: &[OsString], io: &mut Io<'_>) -> Result<Done, Failure> {
    let args = utf8_args(args)?;
    let cmd = match args::parse(&args)? {
        Parsed::Print(text) => {
            return Ok(Done {
                output: text,
                wrote: false,
                code: 0,
            });
        }
        Parsed::Run(command) => Action::check(command)?,
    };
    if let Action::Version = cmd {
        return Ok(Done {
            output: format!("cf {}\n", args::VERSION),
            wrote: false,
            code: 0,
        });
    }
    let password_env = utf8_env("CF_DOCKER_PASSWORD", &io.password_env)?;
    let registry_key = utf8_env("CF_REGISTRY_KEY", &io.registry_key)?;
    let dir = state::state_dir(io.cf_home.as_deref(), io.home.as_deref())
        .map_err(|e| fail(e.to_string()))?;
    let files = Files::new(&dir);
    // Only `auth` creates the state: without it every other command
    // would fail as not logged in, so it fails here, creating nothing.
    let create = matches!(cmd, Action::Auth(_));
    let Some(store) = files.open(registry_key.as_deref(), create)? else {
        return Err(not_logged_in());
    };
    run_in(&store, &files, &cmd, io, password_env.as_deref())
}

/// Runs `cmd` over `store`. A command that needs a password or a
/// confirmation first runs in a read transaction up to the point where
/// it asks, so that a refusal comes before the question and no lock is
/// held while a person types; then it runs whole, with the answer, in one
/// write transaction.
fn run_in(
    store: &SqliteStore,
    files: &Files,
    cmd: &Action,
    io: &mut Io<'_>,
    password_env: Option<&str>,
) -> Result<Done, Failure> {
    let mut password: Option<Option<Password>> = None;
    let mut confirmed = cmd.forced();
    let writes = cmd.writes();
    loop {
        let mut output = String::new();
        let mut answered = None;
        let attempt = |tx: &SqliteTransaction<'_>| -> Result<(), Failure> {
            check_database(tx, &files.db)?;
            let directory = SqliteDirectory::open(tx)?;
            let mut state = State {
                manager: Manager::new(tx, directory),
                session: directory.session()?,
                password: password.clone(),
                confirmed,
                out: &mut output,
                answered: &mut answered,
            };
            state.execute(cmd)?;
            if writes {
                directory.set_session(&state.session)?;
            }
            Ok(())
        };
        let asked = (password.is_some() || !cmd.may_need_password())
            && (confirmed || !cmd.may_need_confirmation());
        let result = if writes && asked {
            store.transaction(attempt)
        } else {
            store.read_transaction(attempt)
        };
        let failure = match result {
            Ok(()) => {
                return Ok(Done {
                    output,
                    wrote: writes,
                    code: cmd.exit_code(answered),
                });
            }
            Err(f) => f.on_database(&files.db, state::BUSY_TIMEOUT),
        };
        match failure.kind {
            Kind::Damage => return Err(files.damaged(&failure.message)),
            Kind::NeedsPassword { optional } => {
                password = Some(ask_password(io, password_env, optional)?);
            }
            Kind::NeedsConfirmation { question, declined } => {
                if !confirm(io, &question)? {
                    return Ok(Done {
                        output: format!("{declined}\n"),
                        wrote: false,
                        code: 0,
                    });
                }
                confirmed = true;
            }
            Kind::Failed | Kind::Usage(_) | Kind::Sqlite { .. } => return Err(failure),
        }
    }
}

/// Asks `question` on standard output and reads a line from standard
/// input: true for `y` or `yes` (any case); anything else, or the end of
/// the input, is no, as cf's `[yN]` reads it.
fn confirm(io: &mut Io<'_>, question: &str) -> Result<bool, Failure> {
    let asked = write!(io.out, "{question} [yN]: ").and_then(|()| io.out.flush());
    asked.map_err(|e| fail(format!("cannot ask for confirmation: {e}")))?;
    let mut answer = String::new();
    let read = Read::take(&mut *io.stdin, 1024)
        .read_line(&mut answer)
        .map_err(|e| {
            fail(format!(
                "cannot read the answer: {e}; give -f to delete without asking"
            ))
        })?;
    if read == 0 {
        // The end of the input: no answer, so the prompt's line ends here.
        let _ = writeln!(io.out);
    }
    let answer = answer.trim().to_ascii_lowercase();
    Ok(answer == "y" || answer == "yes")
}

/// A look-up's failure; an organization, space or app not found is named
/// by the argument that gave it (`given`: `with -o`, `as APP`), not by
/// what was typed there.
fn not_found(e: ManageError, given: &str) -> Failure {
    match e {
        ManageError::Unknown { what, .. } => {
            fail(format!("{what} not found; check the name given {given}"))
        }
        other => other.into(),
    }
}

/// The signal to ask for a password (`optional`: one the person may leave
/// empty) and run the command again.
fn needs_password(optional: bool) -> Failure {
    Failure {
        message: "a password is needed".to_owned(),
        kind: Kind::NeedsPassword { optional },
    }
}

fn not_logged_in() -> Failure {
    fail("not logged in; run `cf auth USERNAME` first (`cf auth admin` for the admin)")
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

/// Which scope a `*-registry-credential` command acts on.
#[derive(Clone, Copy, Debug)]
enum Level {
    Foundation,
    Org,
    Space,
}

/// Which credential of a location a label command names: one at the
/// foundation or the target's organization or space, as `update-*`
/// names it, or one of an app of the targeted space, as
/// `delete-app-registry-credential` names it (the app's name stays as
/// given: the directory finds it).
#[derive(Debug)]
enum Holder {
    At(Level),
    App(String),
}

/// A command, its arguments checked with the library's types. Names of
/// organizations, spaces and apps to look up stay as given: the
/// directory finds them (or says it cannot).
#[derive(Debug)]
enum Action {
    Version,
    Auth(UserId),
    CreateOrg(Name),
    DeleteOrg {
        name: String,
        force: bool,
    },
    CreateSpace {
        name: Name,
        org: Option<String>,
    },
    DeleteSpace {
        name: String,
        org: Option<String>,
        force: bool,
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
        kind: CredentialKind,
        expires_at: Option<std::time::SystemTime>,
        dry_run: bool,
    },
    Update {
        level: Level,
        location: Location,
        username: Option<Username>,
        kind: Option<CredentialKind>,
        /// A new expiry (`Some(None)`: none), changing nothing else.
        expiry: Option<Option<std::time::SystemTime>>,
        dry_run: bool,
    },
    Delete {
        level: Level,
        location: Location,
        force: bool,
        dry_run: bool,
    },
    DeleteAppCredential {
        location: Location,
        app: String,
        force: bool,
        dry_run: bool,
    },
    /// `registry-credentials`, with `--labels` (R23).
    List {
        selector: Option<Selector>,
    },
    /// `set-label registry-credential` (R22): the labels checked here.
    SetLabels {
        holder: Holder,
        location: Location,
        labels: Vec<(LabelKey, LabelValue)>,
    },
    /// `unset-label registry-credential` (R22).
    UnsetLabels {
        holder: Holder,
        location: Location,
        keys: Vec<LabelKey>,
    },
    /// `labels registry-credential` (R22).
    Labels {
        holder: Holder,
        location: Location,
    },
    /// `registry-credential-apps`: the credential at `location` of the
    /// scope `level` names, or of the app `app` in the targeted space.
    Apps {
        location: Location,
        level: Level,
        app: Option<String>,
    },
    Push {
        app: Name,
        image: Reference,
        username: Option<Username>,
    },
    DeleteApp {
        name: String,
        force: bool,
    },
    /// A request to the API (`cf curl`); the body was read here, before
    /// the database is opened.
    Curl {
        method: String,
        path: String,
        body: Body,
        fail: bool,
    },
    /// The file was read and checked here, before the database is opened:
    /// the write transaction holds the lock for storing it alone.
    Import {
        level: Level,
        file: String,
        found: Import,
        skip_failures: bool,
    },
}

/// The largest credentials file `import-*` reads: far more than any
/// `config.json` holds, and a bound on what a mistaken path can cost.
const MAX_IMPORT_FILE: u64 = 4 << 20;

/// The largest body `cf curl -d @FILE` reads: the API takes nothing
/// near it (a password has at most 5,000 bytes, R16).
const MAX_CURL_BODY: u64 = 1 << 20;

/// A request body for `cf curl`: it may hold a password, so its `Debug`
/// shows its length alone and its bytes are wiped on drop (R21).
struct Body(secrecy::zeroize::Zeroizing<Vec<u8>>);

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Body(<{} bytes>)", self.0.len())
    }
}

/// The body of `cf curl -d DATA`: DATA itself, or the file named after
/// an `@`.
fn curl_body(data: Option<String>) -> Result<Body, Failure> {
    let bytes = match data {
        None => Vec::new(),
        Some(data) => match data.strip_prefix('@') {
            Some(file) => {
                let bytes = read_file(file, "-d @FILE", "a request body", MAX_CURL_BODY)?;
                return Ok(Body(bytes));
            }
            None => data.into_bytes(),
        },
    };
    Ok(Body(secrecy::zeroize::Zeroizing::new(bytes)))
}

/// Reads and checks the credentials file given as FILE of `import-*`,
/// before the database is opened: a regular file of bounded size, opened
/// without blocking, its bytes wiped after. Messages name the argument
/// (`FILE`), never its text, which may be anything a person typed.
fn read_import_file(file: &str) -> Result<Import, Failure> {
    let bytes = read_file(file, "FILE", "a credentials file", MAX_IMPORT_FILE)?;
    registry_credentials_interop::import::read(&bytes)
        .map_err(|e| fail(format!("cannot import the file given as FILE: {e}")))
}

/// The bytes of the file `file`, given as `what` and holding `holds`: a
/// regular file of at most `max` bytes, opened without blocking, its bytes wiped after use.
/// Messages name the argument (`what`), never its text, which may be
/// anything a person typed.
fn read_file(
    file: &str,
    what: &str,
    holds: &str,
    max: u64,
) -> Result<secrecy::zeroize::Zeroizing<Vec<u8>>, Failure> {
    let path = Path::new(file);
    let cannot = |e: io::Error| fail(format!("cannot read the file given as {what}: {e}"));
    let f = open_nonblocking(path).map_err(cannot)?;
    let meta = f.metadata().map_err(cannot)?;
    if !meta.is_file() {
        return Err(fail(format!(
            "the file given as {what} is {}, not a regular file; give the path of {holds}",
            kind_of(&meta)
        )));
    }
    if meta.len() > max {
        return Err(fail(format!(
            "the file given as {what} is {} bytes, more than the {max} {holds} can be; check the path",
            meta.len()
        )));
    }
    let mut bytes = secrecy::zeroize::Zeroizing::new(Vec::new());
    f.take(max).read_to_end(&mut bytes).map_err(cannot)?;
    Ok(bytes)
}

/// The one kind of resource the label commands know, `RESOURCE`, as cf
/// names its resources (any case, as cf reads it).
const LABELLED: &str = "registry-credential";

/// Checks `RESOURCE` of a label command. What was typed is not repeated.
fn labelled(resource: &str) -> Result<(), Failure> {
    if resource.eq_ignore_ascii_case(LABELLED) {
        Ok(())
    } else {
        Err(fail(format!(
            "RESOURCE is not a kind of resource with labels here; give {LABELLED}"
        )))
    }
}

/// Which credential the scope options of `command` name.
fn holder(command: &str, h: args::Holder) -> Result<Holder, Failure> {
    use args::ScopeArg;
    match (h.scope, h.app) {
        (None | Some(ScopeArg::App), Some(app)) => Ok(Holder::App(app)),
        (Some(ScopeArg::Foundation), None) => Ok(Holder::At(Level::Foundation)),
        (Some(ScopeArg::Org), None) => Ok(Holder::At(Level::Org)),
        (Some(ScopeArg::Space), None) => Ok(Holder::At(Level::Space)),
        // clap asks for `--app` with `--scope app`, and for one of the
        // two; these are what it lets through.
        (Some(_), Some(_)) => Err(Failure::usage(
            Some(command),
            "`--app <APP>` names an app's credential; give it alone, or with `--scope app`",
        )),
        (Some(ScopeArg::App) | None, None) => Err(Failure::usage(
            Some(command),
            "give `--scope <SCOPE>`, or `--app <APP>` for an app's credential",
        )),
    }
}

/// A label key or value refused by the core's checks (R22), named by
/// `what` (`the key of label 2`, `KEY 2`) rather than repeated: what
/// was typed in the wrong place may be a password. The reason is the
/// core's, which names no input.
fn metadata_failure(e: MetadataError, what: &str) -> Failure {
    match e {
        MetadataError::Key { why, .. } | MetadataError::LabelValue { why, .. } => {
            fail(format!("{what} is not valid: {why}"))
        }
        other => fail(format!("{what}: {}", chain(&other))),
    }
}

/// The `n`th KEY=VALUE of `set-label` (from 1), checked as the core
/// checks labels (R22).
fn label_pair(n: usize, arg: &str) -> Result<(LabelKey, LabelValue), Failure> {
    let (key, value) = arg.split_once('=').ok_or_else(|| {
        fail(format!(
            "label {n} has no `=`; give each label as KEY=VALUE (KEY= for an empty value)"
        ))
    })?;
    let key =
        LabelKey::new(key).map_err(|e| metadata_failure(e, &format!("the key of label {n}")))?;
    let value = LabelValue::new(value)
        .map_err(|e| metadata_failure(e, &format!("the value of label {n}")))?;
    Ok((key, value))
}

/// The `n`th KEY of `unset-label` (from 1), checked as the core checks
/// keys (R22).
fn label_key(n: usize, key: &str) -> Result<LabelKey, Failure> {
    LabelKey::new(key).map_err(|e| metadata_failure(e, &format!("KEY {n}")))
}

/// The labels as cf's `labels` prints them: a table of `key` and
/// `value`, sorted by key, columns three spaces apart; `No labels
/// found.` when there are none. Keys and values are R22's characters
/// alone; they are escaped all the same, as everything printed from a
/// store is.
fn labels_table(labels: &BTreeMap<LabelKey, LabelValue>) -> String {
    if labels.is_empty() {
        return "No labels found.\n".to_owned();
    }
    let rows: Vec<(String, String)> = std::iter::once(("key".to_owned(), "value".to_owned()))
        .chain(labels.iter().map(|(k, v)| (shown(k), shown(v))))
        .collect();
    let width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut table = String::new();
    for (key, value) in rows {
        let line = format!("{key:<width$}   {value}");
        let _ = writeln!(table, "{}", line.trim_end());
    }
    table
}

/// A username from an argument: the core's checks (R16).
fn username(s: &str) -> Result<Username, Failure> {
    Ok(Username::new(s)?)
}

/// An expiry from `--expires-at` (R25).
fn expiry(s: &str) -> Result<std::time::SystemTime, Failure> {
    text::parse_utc_time(s).map_err(|e| fail(format!("--expires-at: {e}")))
}

/// A user id from an argument: the core's checks (`UserId::new`: none of
/// the characters R16 keeps out of names but a colon), so that no message
/// names a user that looks like another.
fn user_id(s: &str) -> Result<UserId, Failure> {
    Ok(UserId::new(s)?)
}

/// A role from an argument. The message names the argument and lists the
/// roles; it does not repeat what was typed.
fn role<R: std::str::FromStr + Copy + std::fmt::Display>(
    s: &str,
    all: &[R],
    what: &str,
) -> Result<R, Failure> {
    s.parse().map_err(|_| {
        let names: Vec<String> = all.iter().map(ToString::to_string).collect();
        fail(format!(
            "ROLE is not {what} role; use one of {}",
            names.join(", ")
        ))
    })
}

impl Action {
    /// Checks the arguments of `command`.
    fn check(command: args::Command) -> Result<Self, Failure> {
        use args::Command as C;
        let create = |level, a: args::Create| -> Result<Action, Failure> {
            Ok(Action::Create {
                level,
                location: Location::parse(&a.location)?,
                username: username(a.username.as_deref().unwrap_or_default())?,
                kind: a.kind,
                expires_at: a.expires_at.as_deref().map(expiry).transpose()?,
                dry_run: a.dry_run,
            })
        };
        let update = |level, a: args::Update| -> Result<Action, Failure> {
            Ok(Action::Update {
                level,
                location: Location::parse(&a.location)?,
                username: a.username.as_deref().map(username).transpose()?,
                kind: a.kind,
                expiry: a
                    .expires_at
                    .as_deref()
                    .map(|t| match t {
                        "never" => Ok(None),
                        t => expiry(t).map(Some),
                    })
                    .transpose()?,
                dry_run: a.dry_run,
            })
        };
        let delete = |level, a: args::Delete| -> Result<Action, Failure> {
            Ok(Action::Delete {
                level,
                location: Location::parse(&a.location)?,
                force: a.force,
                dry_run: a.dry_run,
            })
        };
        let import = |level, a: args::Import| -> Result<Action, Failure> {
            Ok(Action::Import {
                level,
                found: read_import_file(&a.file)?,
                file: a.file,
                skip_failures: a.skip_failures,
            })
        };
        Ok(match command {
            C::Auth { user } => Action::Auth(user_id(&user)?),
            C::Target { org, space } => Action::Target { org, space },
            C::CreateOrg { name } => Action::CreateOrg(Name::new(name)?),
            C::DeleteOrg { name, force } => Action::DeleteOrg { name, force },
            C::CreateSpace { name, org } => Action::CreateSpace {
                name: Name::new(name)?,
                org,
            },
            C::DeleteSpace { name, org, force } => Action::DeleteSpace { name, org, force },
            C::SetOrgRole { user, org, role: r } => Action::SetOrgRole {
                user: user_id(&user)?,
                org,
                role: role(&r, &OrgRole::ALL, "an organization")?,
            },
            C::SetSpaceRole {
                user,
                org,
                space,
                role: r,
            } => Action::SetSpaceRole {
                user: user_id(&user)?,
                org,
                space,
                role: role(&r, &SpaceRole::ALL, "a space")?,
            },
            C::CreateFoundationRegistryCredential(a) => create(Level::Foundation, a)?,
            C::CreateOrgRegistryCredential(a) => create(Level::Org, a)?,
            C::CreateSpaceRegistryCredential(a) => create(Level::Space, a)?,
            C::UpdateFoundationRegistryCredential(a) => update(Level::Foundation, a)?,
            C::UpdateOrgRegistryCredential(a) => update(Level::Org, a)?,
            C::UpdateSpaceRegistryCredential(a) => update(Level::Space, a)?,
            C::DeleteFoundationRegistryCredential(a) => delete(Level::Foundation, a)?,
            C::DeleteOrgRegistryCredential(a) => delete(Level::Org, a)?,
            C::DeleteSpaceRegistryCredential(a) => delete(Level::Space, a)?,
            C::DeleteAppRegistryCredential {
                location,
                app,
                force,
                dry_run,
            } => Action::DeleteAppCredential {
                location: Location::parse(&location)?,
                app,
                force,
                dry_run,
            },
            C::RegistryCredentials { labels } => Action::List {
                // The core's parser (R23); its message quotes the part
                // of the selector that is wrong, as a location's does.
                selector: labels.as_deref().map(Selector::parse).transpose()?,
            },
            C::SetLabel {
                resource,
                location,
                labels,
                holder: h,
            } => {
                labelled(&resource)?;
                Action::SetLabels {
                    location: Location::parse(&location)?,
                    labels: (1..)
                        .zip(&labels)
                        .map(|(n, l)| label_pair(n, l))
                        .collect::<Result<_, _>>()?,
                    holder: holder("set-label", h)?,
                }
            }
            C::UnsetLabel {
                resource,
                location,
                keys,
                holder: h,
            } => {
                labelled(&resource)?;
                Action::UnsetLabels {
                    location: Location::parse(&location)?,
                    keys: (1..)
                        .zip(&keys)
                        .map(|(n, k)| label_key(n, k))
                        .collect::<Result<_, _>>()?,
                    holder: holder("unset-label", h)?,
                }
            }
            C::Labels {
                resource,
                location,
                holder: h,
            } => {
                labelled(&resource)?;
                Action::Labels {
                    location: Location::parse(&location)?,
                    holder: holder("labels", h)?,
                }
            }
            C::RegistryCredentialApps(a) => Action::Apps {
                location: Location::parse(&a.location)?,
                level: match (a.org, a.space) {
                    (true, _) => Level::Org,
                    (_, true) => Level::Space,
                    _ => Level::Foundation,
                },
                app: a.app,
            },
            C::ImportFoundationRegistryCredentials(a) => import(Level::Foundation, a)?,
            C::ImportOrgRegistryCredentials(a) => import(Level::Org, a)?,
            C::ImportSpaceRegistryCredentials(a) => import(Level::Space, a)?,
            C::Push {
                app,
                docker_image,
                docker_username,
            } => Action::Push {
                app: Name::new(app)?,
                image: Reference::parse(docker_image.as_deref().unwrap_or_default())?,
                username: docker_username.as_deref().map(username).transpose()?,
            },
            C::Delete { app, force } => Action::DeleteApp { name: app, force },
            C::Curl {
                path,
                method,
                data,
                fail,
            } => Action::Curl {
                // A GET, or a POST when a body is given, as cf's `curl`.
                method: method
                    .unwrap_or_else(|| if data.is_some() { "POST" } else { "GET" }.to_owned()),
                // cf's `curl` puts a `/` in front of a path without one.
                path: if path.starts_with('/') {
                    path
                } else {
                    format!("/{path}")
                },
                body: curl_body(data)?,
                fail,
            },
            C::Version => Action::Version,
        })
    }

    /// True when the command may change the database.
    fn writes(&self) -> bool {
        match self {
            Action::Version | Action::List { .. } | Action::Labels { .. } | Action::Apps { .. } => {
                false
            }
            _ if self.dry_run() => false,
            Action::Target { org, space } => org.is_some() || space.is_some(),
            Action::Curl { method, .. } => method != "GET",
            _ => true,
        }
    }

    /// The exit code of a command carried out, whose API request (for
    /// `cf curl`) was `answered` with that status: 22 for an error with
    /// `-f`, as cf's `curl --fail`; 0 otherwise.
    fn exit_code(&self, answered: Option<u16>) -> i32 {
        match (self, answered) {
            (Action::Curl { fail: true, .. }, Some(status)) if status >= 400 => 22,
            _ => 0,
        }
    }

    /// True for a `--dry-run`: it changes nothing, and asks nothing (R29).
    fn dry_run(&self) -> bool {
        matches!(
            self,
            Action::Create { dry_run: true, .. }
                | Action::Update { dry_run: true, .. }
                | Action::Delete { dry_run: true, .. }
                | Action::DeleteAppCredential { dry_run: true, .. }
        )
    }

    /// True when the command may ask for a password.
    fn may_need_password(&self) -> bool {
        !self.dry_run()
            && matches!(
                self,
                Action::Create { .. }
                    | Action::Update { expiry: None, .. }
                    | Action::Push {
                        username: Some(_),
                        ..
                    }
            )
    }

    /// For a command that deletes, whether it was given `-f`; `None` for
    /// any other command.
    fn delete_forced(&self) -> Option<bool> {
        match self {
            _ if self.dry_run() => None,
            Action::DeleteOrg { force, .. }
            | Action::DeleteSpace { force, .. }
            | Action::Delete { force, .. }
            | Action::DeleteAppCredential { force, .. }
            | Action::DeleteApp { force, .. } => Some(*force),
            _ => None,
        }
    }

    /// True when the command deletes and was given `-f`: it asks nothing.
    fn forced(&self) -> bool {
        self.delete_forced() == Some(true)
    }

    /// True when the command asks before it deletes.
    fn may_need_confirmation(&self) -> bool {
        self.delete_forced() == Some(false)
    }
}

/// One command's run inside one transaction.
struct State<'t, 'o> {
    manager: Manager<&'t SqliteTransaction<'t>, SqliteDirectory<'t>>,
    session: Session,
    /// `None` until asked for; then the answer (`Some(None)`: keep the
    /// current password).
    password: Option<Option<Password>>,
    /// True once the person answered yes to "Really delete…?" (or gave
    /// `-f`).
    confirmed: bool,
    out: &'o mut String,
    /// The status the API answered `cf curl` with.
    answered: &'o mut Option<u16>,
}

impl State<'_, '_> {
    fn say(&mut self, text: impl AsRef<str>) {
        self.out.push_str(text.as_ref());
    }

    /// The password a command cannot go on without, or the signal to ask
    /// for it.
    fn required_password(&self) -> Result<Password, Failure> {
        match &self.password {
            Some(Some(p)) => Ok(p.clone()),
            _ => Err(needs_password(false)),
        }
    }

    /// The password a command may go on without (`None`: the person left
    /// it empty), or the signal to ask for it.
    fn optional_password(&self) -> Result<Option<Password>, Failure> {
        match &self.password {
            Some(p) => Ok(p.clone()),
            None => Err(needs_password(true)),
        }
    }

    /// The caller, the scope `level` names and its label, once the caller
    /// may do `operation` there: a refusal comes before a password is
    /// asked for that could not be used.
    fn allowed(
        &self,
        level: Level,
        operation: Operation,
    ) -> Result<(UserId, Scope, String), Failure> {
        let caller = self.caller()?;
        let (scope, label) = self.scope(level)?;
        self.manager.check_access(&caller, operation, &scope)?;
        Ok((caller, scope, label))
    }

    /// Goes on once the person confirmed; until then, the signal to ask
    /// `question` (printing `declined` if the answer is no).
    fn confirm(&self, question: String, declined: String) -> Result<(), Failure> {
        if self.confirmed {
            return Ok(());
        }
        Err(Failure {
            message: "a confirmation is needed".to_owned(),
            kind: Kind::NeedsConfirmation { question, declined },
        })
    }

    /// The organization named `name` (given as `given`, as a message
    /// names the argument: `-o`, `ORG`), if the caller may see it. A
    /// name not found is not repeated: it may be anything the person
    /// typed.
    fn find_org(&self, caller: &UserId, name: &str, given: &str) -> Result<OrgId, Failure> {
        self.manager
            .find_org(caller, name)
            .map_err(|e| not_found(e, given))
    }

    /// The space named `name` of `org`, as [`Self::find_org`].
    fn find_space(
        &self,
        caller: &UserId,
        org: &OrgId,
        name: &str,
        given: &str,
    ) -> Result<SpaceId, Failure> {
        self.manager
            .find_space(caller, org, name)
            .map_err(|e| not_found(e, given))
    }

    /// The app named `name` in `space`, as [`Self::find_org`].
    fn find_app(&self, caller: &UserId, space: &SpaceId, name: &str) -> Result<AppId, Failure> {
        self.manager
            .find_app(caller, space, name)
            .map_err(|e| not_found(e, "as APP"))
    }

    fn caller(&self) -> Result<UserId, Failure> {
        self.session.user.clone().ok_or_else(not_logged_in)
    }

    fn target_org(&self) -> Result<OrgId, Failure> {
        self.session
            .org
            .clone()
            .ok_or_else(|| fail("no organization targeted; run `cf target -o ORG` first"))
    }

    fn target_space(&self) -> Result<SpaceId, Failure> {
        self.session
            .space
            .clone()
            .ok_or_else(|| fail("no space targeted; run `cf target -o ORG -s SPACE` first"))
    }

    /// Goes on once the person confirmed `question` (see
    /// [`confirm`](Self::confirm)), if `caller` may take `action`; if not,
    /// asks nothing: the manager's call refuses it, with the reason.
    fn confirm_if_allowed(
        &self,
        caller: &UserId,
        action: DirectoryAction<'_>,
        question: String,
        declined: String,
    ) -> Result<(), Failure> {
        if access::may_administer(&self.manager.roles(caller)?, action) {
            self.confirm(question, declined)?;
        }
        Ok(())
    }

    /// Whether a credential is stored at `scope` and `location` (the
    /// caller may see it: [`Manager::check_access`] said so).
    fn exists(&self, scope: &Scope, location: &Location) -> Result<bool, Failure> {
        let key = Key::new(scope.as_scope_ref(), location);
        Ok(self.manager.store().get(key)?.is_some())
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

    fn execute(&mut self, cmd: &Action) -> Result<(), Failure> {
        match cmd {
            Action::Version => self.say(format!("cf {}\n", args::VERSION)),
            Action::Auth(user) => {
                self.say(format!("Authenticating as {}...\nOK\n", shown(user)));
                self.session = Session {
                    user: Some(user.clone()),
                    org: None,
                    space: None,
                };
            }
            Action::CreateOrg(name) => {
                let caller = self.caller()?;
                self.say(format!(
                    "Creating org {} as {}...\n",
                    shown(name),
                    shown(&caller)
                ));
                self.manager.create_org(&caller, name.clone())?;
                self.say("OK\n");
            }
            Action::DeleteOrg { name, .. } => {
                let caller = self.caller()?;
                let org = self.find_org(&caller, name, "as ORG")?;
                // Asked only of those who may: a refusal comes first.
                self.confirm_if_allowed(
                    &caller,
                    DirectoryAction::DeleteOrg(&org),
                    format!(
                        "Really delete the org {}, including its spaces, apps and registry credentials?",
                        shown(name)
                    ),
                    format!("Organization '{}' has not been deleted.", shown(name)),
                )?;
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
            Action::CreateSpace { name, org } => {
                let caller = self.caller()?;
                let org = match org {
                    Some(o) => self.find_org(&caller, o, "with -o")?,
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
            Action::DeleteSpace { name, org, .. } => {
                let caller = self.caller()?;
                let org = match org {
                    Some(o) => self.find_org(&caller, o, "with -o")?,
                    None => self.target_org()?,
                };
                let space = self.find_space(&caller, &org, name, "as SPACE")?;
                self.confirm_if_allowed(
                    &caller,
                    DirectoryAction::DeleteSpace(&org),
                    format!(
                        "Really delete the space {}, including its apps and registry credentials?",
                        shown(name)
                    ),
                    format!("Space '{}' has not been deleted.", shown(name)),
                )?;
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
            Action::SetOrgRole { user, org, role } => {
                let caller = self.caller()?;
                let org = self.find_org(&caller, org, "as ORG")?;
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
            Action::SetSpaceRole {
                user,
                org,
                space,
                role,
            } => {
                let caller = self.caller()?;
                let org = self.find_org(&caller, org, "as ORG")?;
                let space = self.find_space(&caller, &org, space, "as SPACE")?;
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
            Action::Target { org, space } => {
                let caller = self.caller()?;
                let new_org = match org {
                    Some(name) => Some(self.find_org(&caller, name, "with -o")?),
                    None => self.session.org.clone(),
                };
                let new_space = match (space, &new_org) {
                    (Some(name), Some(o)) => Some(self.find_space(&caller, o, name, "with -s")?),
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
            Action::Create {
                level,
                location,
                username,
                kind,
                expires_at,
                dry_run,
            } => {
                let (caller, scope, label) = self.allowed(*level, Operation::Create)?;
                if *dry_run {
                    let credential =
                        Credential::from_parts_of_kind(*kind, username.clone(), reach::unasked());
                    let proposed = RegistryCredential::new(scope, location.clone(), credential)
                        .with_expires_at(*expires_at);
                    let what = format!("creating registry credential {location} for {label}");
                    return self.dry_run(&caller, &what, Proposal::Create(proposed));
                }
                let password = self.required_password()?;
                self.say(format!(
                    "Creating registry credential {location} for {label} as {}...\n",
                    shown(&caller)
                ));
                let credential = Credential::from_parts_of_kind(*kind, username.clone(), password);
                self.manager.create(
                    &caller,
                    RegistryCredential::new(scope, location.clone(), credential)
                        .with_expires_at(*expires_at),
                )?;
                self.say("OK\n");
            }
            Action::Update {
                level,
                location,
                username,
                kind,
                expiry,
                dry_run,
            } => {
                let (caller, scope, label) = self.allowed(*level, Operation::Update)?;
                if *dry_run {
                    let update = reach::update(username.as_ref(), *kind, *expiry);
                    let which = Stored::At(scope, location.clone());
                    let what = format!("updating registry credential {location} for {label}");
                    return self.dry_run(&caller, &what, Proposal::Update(which, update));
                }
                let new_kind = kind.unwrap_or(CredentialKind::Password);
                let update = match (expiry, username) {
                    (Some(expiry), _) => CredentialUpdate::ExpiresAt(*expiry),
                    (None, Some(username)) => match (self.optional_password()?, kind) {
                        (Some(secret), _) => CredentialUpdate::Both(
                            Credential::from_parts_of_kind(new_kind, username.clone(), secret),
                        ),
                        (None, None) => CredentialUpdate::Username(username.clone()),
                        (None, Some(kind)) => {
                            return Err(fail(format!(
                                "--kind {kind} needs a new {}; give it, or leave out --kind",
                                kind.secret_name()
                            )));
                        }
                    },
                    (None, None) => CredentialUpdate::Secret(new_kind, self.required_password()?),
                };
                self.say(format!(
                    "Updating registry credential {location} for {label} as {}...\n",
                    shown(&caller)
                ));
                self.manager.update(&caller, &scope, location, update)?;
                self.say("OK\n");
            }
            Action::Delete {
                level,
                location,
                dry_run,
                ..
            } => {
                // Asked only of those who may, about one that exists: a
                // refusal or a not-found error comes first.
                let (caller, scope, label) = self.allowed(*level, Operation::Delete)?;
                if *dry_run {
                    let which = Stored::At(scope, location.clone());
                    let what = format!("deleting registry credential {location} for {label}");
                    return self.dry_run(&caller, &what, Proposal::Delete(which));
                }
                if self.exists(&scope, location)? {
                    self.confirm(
                        format!("Really delete the registry credential {location} for {label}?"),
                        format!("Registry credential {location} for {label} has not been deleted."),
                    )?;
                }
                self.say(format!(
                    "Deleting registry credential {location} for {label} as {}...\n",
                    shown(&caller)
                ));
                self.manager.delete(&caller, &scope, location)?;
                self.say("OK\n");
            }
            Action::DeleteAppCredential {
                location,
                app,
                dry_run,
                ..
            } => {
                let caller = self.caller()?;
                let space = self.target_space()?;
                let id = self.find_app(&caller, &space, app)?;
                let scope = Scope::App(id);
                self.manager
                    .check_access(&caller, Operation::Delete, &scope)?;
                if *dry_run {
                    let which = Stored::At(scope, location.clone());
                    let what = format!(
                        "deleting registry credential {location} for app {}",
                        shown(app)
                    );
                    return self.dry_run(&caller, &what, Proposal::Delete(which));
                }
                if self.exists(&scope, location)? {
                    self.confirm(
                        format!(
                            "Really delete the registry credential {location} for app {}?",
                            shown(app)
                        ),
                        format!(
                            "Registry credential {location} for app {} has not been deleted.",
                            shown(app)
                        ),
                    )?;
                }
                self.say(format!(
                    "Deleting registry credential {location} for app {} as {}...\n",
                    shown(app),
                    shown(&caller)
                ));
                self.manager.delete(&caller, &scope, location)?;
                self.say("OK\n");
            }
            Action::Import {
                level,
                file,
                found,
                skip_failures,
            } => self.import(*level, file, found.clone(), *skip_failures)?,
            Action::Curl {
                method, path, body, ..
            } => {
                let caller = self.caller()?;
                let response =
                    Api::new().handle_blocking(&self.manager, &caller, method, path, &body.0);
                *self.answered = Some(response.status());
                self.say(pretty_json(response.body()));
            }
            Action::List { selector } => {
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
                let listing = match selector {
                    None => self.manager.list(&caller, &target)?,
                    Some(selector) => self.selected(&caller, &target, selector)?,
                };
                self.say(format!(
                    "Showing registry credentials available to {heading}...\n{listing}"
                ));
            }
            Action::SetLabels {
                holder,
                location,
                labels,
            } => {
                let patch = MetadataPatch::labels(
                    labels.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))),
                );
                self.change_labels("Setting", holder, location, patch)?;
            }
            Action::UnsetLabels {
                holder,
                location,
                keys,
            } => {
                let patch = MetadataPatch::labels(keys.iter().map(|k| (k.as_str(), None)));
                self.change_labels("Removing", holder, location, patch)?;
            }
            Action::Labels { holder, location } => {
                let caller = self.caller()?;
                let (scope, label) = self.held(&caller, holder)?;
                self.manager
                    .check_access(&caller, Operation::Read, &scope)?;
                let found = self.stored_at(&caller, &scope, location)?;
                self.say(format!(
                    "Getting labels for {LABELLED} {location} of {label} as {}...\n\n",
                    shown(&caller)
                ));
                self.say(labels_table(found.credential().metadata().labels()));
            }
            Action::Push {
                app,
                image,
                username,
            } => self.push(app, image, username.as_ref())?,
            Action::Apps {
                location,
                level,
                app,
            } => self.apps(location, *level, app.as_deref())?,
            Action::DeleteApp { name, .. } => {
                let caller = self.caller()?;
                let space = self.target_space()?;
                let org = self.target_org()?;
                let app = self.find_app(&caller, &space, name)?;
                self.confirm(
                    format!("Really delete the app {}?", shown(name)),
                    format!("App '{}' has not been deleted.", shown(name)),
                )?;
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

    /// Imports what was read from `file` (a Docker `config.json`, a
    /// containers `auth.json`, a `.dockercfg` or a Kubernetes
    /// `dockerconfigjson` Secret, [`read_import_file`]) into the target's
    /// scope, through the manager (R16, R20), all or nothing unless
    /// `skip_failures`.
    fn import(
        &mut self,
        level: Level,
        file: &str,
        found: Import,
        skip_failures: bool,
    ) -> Result<(), Failure> {
        use registry_credentials_interop::apply::{ImportError, Policy, import_into};
        let caller = self.caller()?;
        let (scope, label) = self.scope(level)?;
        self.say(format!(
            "Importing registry credentials from {} into {label} as {}...\n",
            text::quote(file),
            shown(&caller)
        ));
        let policy = if skip_failures {
            Policy::SkipFailures
        } else {
            Policy::AllOrNothing
        };
        let e = match import_into(&self.manager, &caller, &scope, found, policy) {
            Ok(report) => {
                self.say(format!("{report}\n"));
                self.say(format!("OK: {} imported\n", report.imported()));
                return Ok(());
            }
            Err(ImportError::Check(e)) => return Err(e.into()),
            Err(e) => e,
        };
        // One line on standard error, naming the keys that failed, and
        // what the store said (a full disk, a lost answer), which says
        // what to do.
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
        let mut message = e.to_string();
        if !failed.is_empty() {
            message = format!("{message}: {}", failed.join("; "));
        }
        match e {
            ImportError::Failed { error, .. } | ImportError::OutcomeUnknown { error, .. }
                if !matches!(*error, ManageError::Conflict { .. }) =>
            {
                let cause = Failure::from(*error);
                Err(Failure {
                    message: format!("{message}: {}", cause.message),
                    kind: cause.kind,
                })
            }
            _ => Err(fail(message)),
        }
    }

    /// Sets or removes (`verb`: `Setting`, `Removing`) the labels of the
    /// credential `holder` names at `location`, as cf's `set-label` and
    /// `unset-label` do: through the manager's update by GUID, the call
    /// the API's PATCH makes (R20, R22). A refusal comes before a
    /// credential is looked for, as for `update-*`.
    fn change_labels(
        &mut self,
        verb: &str,
        holder: &Holder,
        location: &Location,
        patch: MetadataPatch,
    ) -> Result<(), Failure> {
        let caller = self.caller()?;
        let (scope, label) = self.held(&caller, holder)?;
        self.manager
            .check_access(&caller, Operation::Update, &scope)?;
        let found = self.stored_at(&caller, &scope, location)?;
        self.say(format!(
            "{verb} label(s) for {LABELLED} {location} of {label} as {}...\n",
            shown(&caller)
        ));
        let guid = found.credential().record().guid();
        self.manager
            .update_by_guid(&caller, guid, CredentialUpdate::Metadata(patch))?;
        self.say("OK\n");
        Ok(())
    }

    /// The scope `holder` names and its label (`space myspace`, `app
    /// myapp`), as the `update-*` and `delete-app-registry-credential`
    /// commands name them.
    fn held(&self, caller: &UserId, holder: &Holder) -> Result<(Scope, String), Failure> {
        match holder {
            Holder::At(level) => self.scope(*level),
            Holder::App(name) => {
                let space = self.target_space()?;
                let app = self
                    .manager
                    .find_app(caller, &space, name)
                    .map_err(|e| not_found(e, "with --app"))?;
                Ok((Scope::App(app), format!("app {}", shown(name))))
            }
        }
    }

    /// The credential stored at `scope` for `location`, as `caller` may
    /// see it (R21), found by the manager's query; not found is the error
    /// `update-*` gives.
    fn stored_at(
        &self,
        caller: &UserId,
        scope: &Scope,
        location: &Location,
    ) -> Result<Located, Failure> {
        let query = Query::new()
            .scopes([scope.clone()])
            .locations([location.clone()]);
        let page = self.manager.query(caller, query, &Within::new())?;
        match page.resources().first() {
            Some(found) => Ok(found.clone()),
            None => Err(ManageError::NotFound {
                at: self.dir().describe(scope)?,
                location: location.clone(),
            }
            .into()),
        }
    }

    /// The listing for `target` of the credentials whose labels
    /// `selector` matches (R21, R23): those at the scopes available to
    /// the target (the foundation; its organization; its space and the
    /// space's apps) that `caller` may see, read through the manager's
    /// query, which applies the read rules, a page at a time.
    fn selected(
        &self,
        caller: &UserId,
        target: &Target,
        selector: &Selector,
    ) -> Result<Listing, Failure> {
        let unknown = |what, id: &dyn std::fmt::Display| ManageError::Unknown {
            what,
            name: id.to_string(),
        };
        let mut scopes = vec![Scope::Foundation];
        let mut app_names = BTreeMap::new();
        match target {
            Target::Foundation => {}
            Target::Org(org) => {
                if self.dir().org_name(org)?.is_none() {
                    return Err(unknown(Entity::Org, org).into());
                }
                scopes.push(Scope::Org(org.clone()));
            }
            Target::Space(space) => {
                let Some((org, _)) = self.dir().space(space)? else {
                    return Err(unknown(Entity::Space, space).into());
                };
                scopes.push(Scope::Org(org));
                scopes.push(Scope::Space(space.clone()));
                for (app, name) in self.dir().apps_in(space)? {
                    scopes.push(Scope::App(app.id().clone()));
                    app_names.insert(app.id().clone(), name);
                }
            }
        }
        let mut rows = Vec::new();
        for number in 1.. {
            let query = Query::new()
                .scopes(scopes.iter().cloned())
                .selector(selector.clone())
                .page(number, MAX_PER_PAGE.into())
                .map_err(|e| fail(e.to_string()))?;
            let page = self.manager.query(caller, query, &Within::new())?;
            rows.extend(page.resources().iter().map(|found| {
                let c = found.credential();
                Row {
                    location: c.location().clone(),
                    scope: c.scope().kind(),
                    username: c.username().clone(),
                    app_name: found.app().and_then(|app| app_names.get(app)).cloned(),
                    kind: c.kind(),
                    expires_at: c.expires_at(),
                }
            }));
            if number >= page.total_pages() {
                break;
            }
        }
        Ok(Listing::new(rows))
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
                let password = self.required_password()?;
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
