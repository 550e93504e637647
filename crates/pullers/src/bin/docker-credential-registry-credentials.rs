//! `docker-credential-registry-credentials`: a docker-credential-helpers
//! helper that answers `get`, `list` and `version` from the cf tool's state
//! (`CF_HOME`, as cf reads it) or a `registry-credentials` SQLite store, for the app, space, organization or
//! foundation the environment names (R26). `store` and `erase` are refused:
//! credentials are managed through cf or the management API.
//!
//! Environment: `CF_HOME` and `CF_REGISTRY_KEY` as the cf tool reads them,
//! where the puller variables are names; or `REGISTRY_CREDENTIALS_SQLITE`
//! (a bare store's file, where they are ids) or `REGISTRY_CREDENTIALS_PG_URL`
//! (a PostgreSQL store, ids too),
//! `REGISTRY_CREDENTIALS_KEY` (its key, 64 hex digits),
//! `REGISTRY_CREDENTIALS_KEY_ID` (the key's id), one of
//! `REGISTRY_CREDENTIALS_APP`, `_SPACE`, `_ORG`, and
//! `REGISTRY_CREDENTIALS_VERBOSE=1` to log to stderr whom it acts for and
//! which scope and location it chose, never a secret.

use std::io::{Read, Write};
use std::process::ExitCode;

use registry_credentials::scope::{OrgId, Puller, Pulls, SpaceId};
use std::collections::BTreeMap;
use std::sync::Arc;

use registry_credentials::resolve::{Clock, LiveProbe, Plan};
use registry_credentials::store::AsyncCredentialSource as _;
use registry_credentials::store::AsyncCredentialStore;
use registry_credentials::{App, CredentialStore, Reference, RegistryCredential};
use registry_credentials_cf::directory::{DirectoryReader, SqliteDirectory};
use registry_credentials_cf_cli::state::{open_existing_state, state_dir};
use registry_credentials_pullers::{
    GetReply, NOT_FOUND, helper_carries, helper_username, host_keys, host_of_server_url,
    host_reference, hosts_of, list_hosts, puller_from_env, resolve_host,
};
use registry_credentials_sql::{EncryptionKey, Keyring, PostgresStore, SqliteStore};

const USAGE: &str = "usage: docker-credential-registry-credentials <get|list|version|store|erase>";

fn var(name: &str) -> Result<Option<String>, String> {
    match std::env::var(name) {
        Ok(v) if v.is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!("{name} is not UTF-8")),
    }
}

fn verbose() -> bool {
    var("REGISTRY_CREDENTIALS_VERBOSE")
        .ok()
        .flatten()
        .is_some_and(|v| v != "0")
}

fn log(message: impl std::fmt::Display) {
    if verbose() {
        eprintln!("docker-credential-registry-credentials: {message}");
    }
}

/// Where the credentials are read: a bare store whose puller variables are
/// ids, or the cf tool's state whose puller variables are names.
enum Source {
    Bare(SqliteStore),
    Cf(SqliteStore),
    /// A PostgreSQL store's URL and key; puller variables are ids.
    Postgres(String, Keyring),
}

/// The key of a bare store: `REGISTRY_CREDENTIALS_KEY` and `_KEY_ID`.
fn bare_key() -> Result<Keyring, String> {
    let hex = var("REGISTRY_CREDENTIALS_KEY")?
        .ok_or("REGISTRY_CREDENTIALS_KEY is not set: give the store's key as 64 hex digits")?;
    let id = var("REGISTRY_CREDENTIALS_KEY_ID")?
        .ok_or("REGISTRY_CREDENTIALS_KEY_ID is not set: give the id the store knows its key by")?;
    let key = EncryptionKey::from_hex(&id, &hex).map_err(|e| e.to_string())?;
    Ok(Keyring::new(key))
}

fn open_source() -> Result<Source, String> {
    if let Some(path) = var("REGISTRY_CREDENTIALS_SQLITE")? {
        if !std::path::Path::new(&path).exists() {
            return Err(format!(
                "no store at {path:?} (REGISTRY_CREDENTIALS_SQLITE): nothing was created"
            ));
        }
        let keyring = bare_key()?;
        log(format_args!(
            "store: SQLite file {path:?}; puller variables are ids"
        ));
        return SqliteStore::open(&path, keyring)
            .map(Source::Bare)
            .map_err(|e| format!("cannot open {path:?}: {e}"));
    }
    if let Some(url) = var("REGISTRY_CREDENTIALS_PG_URL")? {
        let keyring = bare_key()?;
        log("store: PostgreSQL (REGISTRY_CREDENTIALS_PG_URL); puller variables are ids");
        return Ok(Source::Postgres(url, keyring));
    }
    let dir = state_dir(
        std::env::var_os("CF_HOME").as_deref(),
        std::env::var_os("HOME").as_deref(),
    )
    .map_err(|e| format!("no store: set REGISTRY_CREDENTIALS_SQLITE, or CF_HOME or HOME for the cf tool's state ({e})"))?;
    let key = var("CF_REGISTRY_KEY")?;
    match open_existing_state(&dir, key.as_deref())? {
        Some(store) => {
            log(format_args!(
                "store: the cf tool's state in {}; puller variables are names",
                dir.display()
            ));
            Ok(Source::Cf(store))
        }
        None => Err(format!(
            "no store: the cf tool has no state in {} (run `cf auth` there, or set REGISTRY_CREDENTIALS_SQLITE); nothing was created",
            dir.display()
        )),
    }
}

/// The puller the variables name, ids as given.
fn puller_ids() -> Result<Puller, String> {
    puller_from_env(
        var("REGISTRY_CREDENTIALS_APP")?.as_deref(),
        var("REGISTRY_CREDENTIALS_SPACE")?.as_deref(),
        var("REGISTRY_CREDENTIALS_ORG")?.as_deref(),
    )
    .map_err(|e| e.to_string())
}

/// The puller the variables name, its names looked up in the cf tool's
/// directory.
fn puller_by_name(directory: &SqliteDirectory<'_>, named: &Puller) -> Result<Puller, String> {
    let dir_err = |e: registry_credentials_cf::directory::DirectoryError| e.to_string();
    let org = |name: &OrgId| -> Result<OrgId, String> {
        directory
            .org_by_name(name.as_str())
            .map_err(dir_err)?
            .ok_or_else(|| {
                format!(
                    "no organization named {:?} in the cf tool's state",
                    name.as_str()
                )
            })
    };
    let space = |o: &OrgId, name: &SpaceId| -> Result<SpaceId, String> {
        directory
            .space_by_name(o, name.as_str())
            .map_err(dir_err)?
            .ok_or_else(|| format!("no space named {:?} in that organization", name.as_str()))
    };
    Ok(match named {
        Puller::Foundation => Puller::Foundation,
        Puller::Org(o) => Puller::Org(org(o)?),
        Puller::Space { org: o, space: s } => {
            let o = org(o)?;
            let s = space(&o, s)?;
            Puller::Space { org: o, space: s }
        }
        Puller::App(app) => {
            let o = org(app.org())?;
            let s = space(&o, app.space())?;
            let a = directory
                .app_by_name(&s, app.id().as_str())
                .map_err(dir_err)?
                .ok_or_else(|| format!("no app named {:?} in that space", app.id().as_str()))?;
            Puller::App(App::from_ids(o, s, a))
        }
    })
}

/// What the helper asks a store.
enum Query<'r> {
    /// The credential for a host: `get`.
    Host(&'r Reference),
    /// The hosts and usernames: `list`.
    List,
}

/// A store's answer to a [`Query`].
enum Answer {
    Host(Option<Arc<RegistryCredential>>, Puller),
    List(BTreeMap<String, String>),
}

/// Asks the source's credentials `query` for the puller the variables name.
fn ask(query: Query<'_>) -> Result<Answer, String> {
    let named = puller_ids()?;
    let sync = |store: &dyn CredentialStore, puller: &Puller| -> Result<Answer, String> {
        let e = |e: registry_credentials::StoreError| e.to_string();
        Ok(match query {
            Query::Host(r) => {
                Answer::Host(resolve_host(store, puller, r).map_err(e)?, puller.clone())
            }
            Query::List => Answer::List(list_hosts(store, puller).map_err(e)?),
        })
    };
    match open_source()? {
        Source::Bare(store) => {
            log(format_args!("acting for {named}"));
            sync(&store, &named)
        }
        Source::Cf(store) => store
            .read_transaction(|tx| -> Result<Answer, Failed> {
                let directory = SqliteDirectory::open(tx).map_err(|e| Failed(e.to_string()))?;
                let puller = puller_by_name(&directory, &named).map_err(Failed)?;
                log(format_args!("acting for {named}: {puller}"));
                sync(tx, &puller).map_err(Failed)
            })
            .map_err(|Failed(m)| m),
        Source::Postgres(url, keyring) => {
            log(format_args!("acting for {named}"));
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the runtime for PostgreSQL: {e}"))?;
            runtime.block_on(async {
                let e = |e: registry_credentials::StoreError| e.to_string();
                let store = PostgresStore::connect(&url, keyring)
                    .await
                    .map_err(|e| format!("cannot open the PostgreSQL store: {e}"))?;
                Ok(match query {
                    Query::Host(r) => {
                        let plan = Plan::new(&named, r);
                        let keys = host_keys(&plan);
                        let mut clock = Clock::new();
                        let mut probe = LiveProbe::new(&keys, &mut clock, helper_carries);
                        let found = loop {
                            let answer = store.first_match(probe.keys()).await.map_err(e)?;
                            if let Some(done) = probe.answer(answer) {
                                break done;
                            }
                        };
                        Answer::Host(found.map(|(_, c)| c), named.clone())
                    }
                    Query::List => {
                        let mut lists = Vec::new();
                        for scope in named.scopes() {
                            lists.push(AsyncCredentialStore::list(&store, scope).await.map_err(e)?);
                        }
                        Answer::List(hosts_of(lists))
                    }
                })
            })
        }
    }
}

/// A failure inside a read transaction.
struct Failed(String);

impl From<registry_credentials::StoreError> for Failed {
    fn from(e: registry_credentials::StoreError) -> Self {
        Failed(e.to_string())
    }
}

fn get(out: &mut impl Write) -> Result<bool, String> {
    let mut input = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut input)
        .map_err(|e| format!("cannot read the server URL from stdin: {e}"))?;
    let server_url = input.trim();
    let host = host_of_server_url(server_url).map_err(|e| e.to_string())?;
    let reference = host_reference(&host).map_err(|e| e.to_string())?;
    let Answer::Host(found, puller) = ask(Query::Host(&reference))? else {
        unreachable!("a host query is answered with a host answer")
    };
    match found {
        Some(c) => {
            log(format_args!(
                "{host}: the {} credential at {} (user {}, {})",
                c.scope().kind().as_str(),
                c.location(),
                c.username().as_str(),
                c.kind()
            ));
            let reply = GetReply {
                server_url,
                username: helper_username(&c),
                secret: c.password().expose(),
            };
            serde_json::to_writer(&mut *out, &reply).map_err(|e| e.to_string())?;
            writeln!(out).map_err(|e| e.to_string())?;
            Ok(true)
        }
        None => {
            log(format_args!(
                "{host}: no credential in the scopes of {puller} ({} scopes searched)",
                puller.scopes().count()
            ));
            writeln!(out, "{NOT_FOUND}").map_err(|e| e.to_string())?;
            Ok(false)
        }
    }
}

fn list(out: &mut impl Write) -> Result<bool, String> {
    let Answer::List(hosts) = ask(Query::List)? else {
        unreachable!("a list query is answered with a list answer")
    };
    serde_json::to_writer(&mut *out, &hosts).map_err(|e| e.to_string())?;
    writeln!(out).map_err(|e| e.to_string())?;
    Ok(true)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut out = std::io::stdout().lock();
    let result = match args.first().map(String::as_str) {
        Some("get") => get(&mut out),
        Some("list") => list(&mut out),
        Some("version") => writeln!(
            out,
            "docker-credential-registry-credentials {}",
            env!("CARGO_PKG_VERSION")
        )
        .map(|()| true)
        .map_err(|e| e.to_string()),
        Some(op @ ("store" | "erase")) => Err(format!(
            "{op} is refused: this helper only reads; credentials are managed through cf or the registry-credentials management API, nothing changed"
        )),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            // The protocol's callers read a helper's error from stdout.
            let _ = writeln!(out, "{message}");
            ExitCode::FAILURE
        }
    }
}
