//! Where the pullers read credentials, and how they say what they chose:
//! the store their environment names (the cf tool's state, a SQLite file
//! or PostgreSQL), whom a puller's names or ids stand for there, and the
//! verbose log on stderr. Both binaries open their store and log through
//! this module.
//!
//! Errors are messages for the binaries to print: each names the input,
//! what was wrong with it and what to set instead.

use std::collections::BTreeMap;
use std::sync::Arc;

use registry_credentials::resolve::{Clock, LiveProbe, Plan, first_live};
use registry_credentials::scope::{OrgId, Puller, Pulls, SpaceId};
use registry_credentials::store::{AsyncCredentialSource, AsyncCredentialStore, Key};
use registry_credentials::{
    App, CredentialStore, Reference, RegistryCredential, Resolution, StoreError,
};
use registry_credentials_cf::directory::{DirectoryError, DirectoryReader, SqliteDirectory};
use registry_credentials_cf_cli::state::{open_existing_state, state_dir};
use registry_credentials_interop::export::kubelet_carries;
use registry_credentials_sql::{EncryptionKey, Keyring, PostgresStore, SqliteStore};

use crate::{helper_carries, host_keys, hosts_of, list_hosts, resolve_host};

/// The value of the environment variable `name`: `None` when unset or
/// empty.
///
/// # Errors
///
/// A message when the value is not UTF-8.
pub fn var(name: &str) -> Result<Option<String>, String> {
    match std::env::var(name) {
        Ok(v) if v.is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!("{name} is not UTF-8")),
    }
}

/// The verbose log on stderr: what a binary decided (the store, whom it
/// acts for, the scope, location and username chosen, or why none), each
/// line prefixed by the binary's name. Callers never pass it a secret.
#[derive(Debug, Clone, Copy)]
pub struct Log {
    program: &'static str,
    on: bool,
}

impl Log {
    /// A log for `program`, written when `on`.
    pub fn new(program: &'static str, on: bool) -> Self {
        Log { program, on }
    }

    /// A log for `program`, written when `REGISTRY_CREDENTIALS_VERBOSE` is
    /// set to anything but `0`.
    pub fn from_env(program: &'static str) -> Self {
        let on = var("REGISTRY_CREDENTIALS_VERBOSE")
            .ok()
            .flatten()
            .is_some_and(|v| v != "0");
        Log::new(program, on)
    }

    /// Whether lines are written.
    pub fn is_on(&self) -> bool {
        self.on
    }

    /// Writes `message` to stderr when on.
    pub fn log(&self, message: impl std::fmt::Display) {
        if self.on {
            eprintln!("{}: {message}", self.program);
        }
    }

    /// Logs the credential `found` for `what` (an image or a host), or
    /// that the scopes of `puller` hold none: scope, location and username,
    /// never the secret.
    pub fn choice(&self, what: &str, puller: &Puller, found: Option<&RegistryCredential>) {
        match found {
            Some(c) => self.log(format_args!(
                "{what}: the {} credential at {} (user {}, {})",
                c.scope().kind().as_str(),
                c.location(),
                c.username().as_str(),
                c.kind()
            )),
            None => self.log(format_args!(
                "{what}: no credential in the scopes of {puller} ({} scopes searched)",
                puller.scopes().count()
            )),
        }
    }
}

/// Where the credentials are read: a bare store, whose pullers are named
/// by ids, or the cf tool's state, whose pullers are named by names.
pub enum Source {
    /// A `registry-credentials` SQLite file (`REGISTRY_CREDENTIALS_SQLITE`).
    Bare(SqliteStore),
    /// The cf tool's state (`CF_HOME`, as cf reads it).
    Cf(SqliteStore),
    /// A PostgreSQL store's URL and key (`REGISTRY_CREDENTIALS_PG_URL`).
    Postgres(String, Keyring),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a database password: left out.
        f.write_str(match self {
            Source::Bare(_) => "Source::Bare",
            Source::Cf(_) => "Source::Cf",
            Source::Postgres(..) => "Source::Postgres",
        })
    }
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

impl Source {
    /// The store the environment names: `REGISTRY_CREDENTIALS_SQLITE`,
    /// else `REGISTRY_CREDENTIALS_PG_URL` (both with
    /// `REGISTRY_CREDENTIALS_KEY` and `_KEY_ID`), else the cf tool's state
    /// in `CF_HOME` or `HOME` with `CF_REGISTRY_KEY` or its key file.
    /// Nothing is ever created.
    ///
    /// # Errors
    ///
    /// A message naming what is missing or cannot be opened.
    pub fn open(log: &Log) -> Result<Source, String> {
        if let Some(path) = var("REGISTRY_CREDENTIALS_SQLITE")? {
            if !std::path::Path::new(&path).exists() {
                return Err(format!(
                    "no store at {path:?} (REGISTRY_CREDENTIALS_SQLITE): nothing was created"
                ));
            }
            let keyring = bare_key()?;
            log.log(format_args!(
                "store: SQLite file {path:?}; pullers are named by ids"
            ));
            return SqliteStore::open(&path, keyring)
                .map(Source::Bare)
                .map_err(|e| format!("cannot open {path:?}: {e}"));
        }
        if let Some(url) = var("REGISTRY_CREDENTIALS_PG_URL")? {
            let keyring = bare_key()?;
            log.log("store: PostgreSQL (REGISTRY_CREDENTIALS_PG_URL); pullers are named by ids");
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
                log.log(format_args!(
                    "store: the cf tool's state in {}; pullers are named by names",
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

    /// Asks the store `query` for the puller `named` names (by names over
    /// the cf tool's state, by ids otherwise), in one read.
    ///
    /// # Errors
    ///
    /// A message when a name is unknown or the store fails.
    pub fn ask(self, named: &Puller, query: Query<'_>, log: &Log) -> Result<Answer, String> {
        let sync = |store: &dyn CredentialStore, puller: Puller| -> Result<Answer, String> {
            let e = |e: registry_credentials::StoreError| e.to_string();
            Ok(match query {
                Query::Host(r) => Answer::Host(resolve_host(store, &puller, r).map_err(e)?, puller),
                Query::Image(r) => {
                    let chosen = {
                        let plan = Plan::new(&puller, r);
                        let found =
                            first_live(store, plan.keys(), &mut Clock::new(), kubelet_carries);
                        found.map_err(e)?.and_then(|(i, c)| plan.resolution(i, c))
                    };
                    Answer::Image(chosen, puller)
                }
                Query::List => Answer::List(list_hosts(store, &puller).map_err(e)?),
            })
        };
        match self {
            Source::Bare(store) => {
                log.log(format_args!("acting for {named}"));
                sync(&store, named.clone())
            }
            Source::Cf(store) => store
                .read_transaction(|tx| -> Result<Answer, Failed> {
                    let directory = SqliteDirectory::open(tx).map_err(|e| Failed(e.to_string()))?;
                    let puller = puller_by_name(&directory, named).map_err(Failed)?;
                    log.log(format_args!("acting for {named}: {puller}"));
                    sync(tx, puller).map_err(Failed)
                })
                .map_err(|Failed(m)| m),
            Source::Postgres(url, keyring) => {
                log.log(format_args!("acting for {named}"));
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
                            let plan = Plan::new(named, r);
                            let keys = host_keys(&plan);
                            let found = first_live_async(&store, &keys, helper_carries);
                            let found = found.await.map_err(e)?.map(|(_, c)| c);
                            Answer::Host(found, named.clone())
                        }
                        Query::Image(r) => {
                            let plan = Plan::new(named, r);
                            let found = first_live_async(&store, plan.keys(), kubelet_carries);
                            let chosen = found.await.map_err(e)?;
                            let chosen = chosen.and_then(|(i, c)| plan.resolution(i, c));
                            Answer::Image(chosen, named.clone())
                        }
                        Query::List => {
                            let mut lists = Vec::new();
                            for scope in named.scopes() {
                                lists.push(
                                    AsyncCredentialStore::list(&store, scope).await.map_err(e)?,
                                );
                            }
                            Answer::List(hosts_of(lists))
                        }
                    })
                })
            }
        }
    }
}

/// The first of `keys` the async `store` holds that has not expired and
/// that `accept` takes ([`LiveProbe`], as `first_live` for a sync store).
async fn first_live_async(
    store: &impl AsyncCredentialSource,
    keys: &[Key<'_>],
    accept: fn(&RegistryCredential) -> bool,
) -> Result<Option<(usize, Arc<RegistryCredential>)>, StoreError> {
    let mut clock = Clock::new();
    let mut probe = LiveProbe::new(keys, &mut clock, accept);
    loop {
        if let Some(done) = probe.answer(store.first_match(probe.keys()).await?) {
            return Ok(done);
        }
    }
}

/// What a puller asks a store.
#[derive(Debug, Clone, Copy)]
pub enum Query<'r> {
    /// The credential for a host alone ([`resolve_host`]): the docker
    /// helper's `get`.
    Host(&'r Reference),
    /// The credential for an image, the first of its [`Plan`]'s keys
    /// whose credential has not expired (R25) and that kubelet can carry
    /// ([`kubelet_carries`], R24): the kubelet provider.
    Image(&'r Reference),
    /// The hosts and usernames ([`list_hosts`]): the docker helper's
    /// `list`.
    List,
}

/// A store's answer to a [`Query`].
pub enum Answer {
    /// For [`Query::Host`], the credential found, with the puller the
    /// answer is for (its names looked up as ids).
    Host(Option<Arc<RegistryCredential>>, Puller),
    /// For [`Query::Image`], the credential chosen, with the puller.
    Image(Option<Resolution>, Puller),
    /// For [`Query::List`]: each host to its username.
    List(BTreeMap<String, String>),
}

/// Redacted like the credentials it holds: locations and usernames only.
impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Host(found, puller) => {
                f.debug_tuple("Host").field(found).field(puller).finish()
            }
            Answer::Image(chosen, puller) => {
                f.debug_tuple("Image").field(chosen).field(puller).finish()
            }
            Answer::List(hosts) => f.debug_tuple("List").field(hosts).finish(),
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

/// The puller `named` names, its names looked up as ids in the cf tool's
/// directory.
///
/// # Errors
///
/// A message naming the organization, space or app the directory does not
/// know (never the foundation in its place, R26).
pub fn puller_by_name(directory: &SqliteDirectory<'_>, named: &Puller) -> Result<Puller, String> {
    let dir_err = |e: DirectoryError| e.to_string();
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
