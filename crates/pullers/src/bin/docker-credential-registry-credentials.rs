//! `docker-credential-registry-credentials`: a docker-credential-helpers
//! helper that answers `get`, `list` and `version` from a
//! `registry-credentials` SQLite store, for the app, space, organization or
//! foundation the environment names (R26). `store` and `erase` are refused:
//! credentials are managed through cf or the management API.
//!
//! Environment: `REGISTRY_CREDENTIALS_SQLITE` (the store's file),
//! `REGISTRY_CREDENTIALS_KEY` (its key, 64 hex digits),
//! `REGISTRY_CREDENTIALS_KEY_ID` (the key's id), one of
//! `REGISTRY_CREDENTIALS_APP`, `_SPACE`, `_ORG` (ids), and
//! `REGISTRY_CREDENTIALS_VERBOSE=1` to log to stderr whom it acts for and
//! which scope and location it chose, never a secret.

use std::io::{Read, Write};
use std::process::ExitCode;

use registry_credentials::scope::Pulls;
use registry_credentials_pullers::{
    GetReply, NOT_FOUND, host_of_server_url, host_reference, list_hosts, puller_from_env,
    resolve_host,
};
use registry_credentials_sql::{EncryptionKey, Keyring, SqliteStore};

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

fn open_store() -> Result<SqliteStore, String> {
    let path = var("REGISTRY_CREDENTIALS_SQLITE")?.ok_or(
        "no store: set REGISTRY_CREDENTIALS_SQLITE to the store's file and REGISTRY_CREDENTIALS_KEY to its key",
    )?;
    if !std::path::Path::new(&path).exists() {
        return Err(format!(
            "no store at {path:?} (REGISTRY_CREDENTIALS_SQLITE): nothing was created"
        ));
    }
    let hex = var("REGISTRY_CREDENTIALS_KEY")?
        .ok_or("REGISTRY_CREDENTIALS_KEY is not set: give the store's key as 64 hex digits")?;
    let id = var("REGISTRY_CREDENTIALS_KEY_ID")?
        .ok_or("REGISTRY_CREDENTIALS_KEY_ID is not set: give the id the store knows its key by")?;
    let key = EncryptionKey::from_hex(&id, &hex).map_err(|e| e.to_string())?;
    log(format_args!("store: SQLite file {path:?}, key {id:?}"));
    SqliteStore::open(&path, Keyring::new(key)).map_err(|e| format!("cannot open {path:?}: {e}"))
}

fn puller() -> Result<registry_credentials::scope::Puller, String> {
    let p = puller_from_env(
        var("REGISTRY_CREDENTIALS_APP")?.as_deref(),
        var("REGISTRY_CREDENTIALS_SPACE")?.as_deref(),
        var("REGISTRY_CREDENTIALS_ORG")?.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    log(format_args!("acting for {p}"));
    Ok(p)
}

fn get(out: &mut impl Write) -> Result<bool, String> {
    let mut input = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut input)
        .map_err(|e| format!("cannot read the server URL from stdin: {e}"))?;
    let server_url = input.trim();
    let host = host_of_server_url(server_url).map_err(|e| e.to_string())?;
    let puller = puller()?;
    let store = open_store()?;
    let reference = host_reference(&host).map_err(|e| e.to_string())?;
    match resolve_host(&store, &puller, &reference).map_err(|e| e.to_string())? {
        Some(c) => {
            log(format_args!(
                "{host}: the {} credential at {} (user {})",
                c.scope().kind().as_str(),
                c.location(),
                c.username().as_str()
            ));
            let reply = GetReply {
                server_url,
                username: c.username().as_str(),
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
    let puller = puller()?;
    let store = open_store()?;
    let hosts = list_hosts(&store, &puller).map_err(|e| e.to_string())?;
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
