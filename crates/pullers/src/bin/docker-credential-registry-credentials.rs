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

use registry_credentials::scope::Puller;
use registry_credentials_pullers::source::{Answer, Log, Query, Source, var};
use registry_credentials_pullers::{
    GetReply, NOT_FOUND, helper_username, host_of_server_url, host_reference, puller_from_env,
};

const USAGE: &str = "usage: docker-credential-registry-credentials <get|list|version|store|erase>";

/// The verbose log (`REGISTRY_CREDENTIALS_VERBOSE`).
fn log() -> Log {
    Log::from_env("docker-credential-registry-credentials")
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

/// Asks the source's credentials `query` for the puller the variables name.
fn ask(query: Query<'_>) -> Result<Answer, String> {
    let named = puller_ids()?;
    let log = log();
    Source::open(&log)?.ask(&named, query, &log)
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
        unreachable!("a host query is answered with what was found")
    };
    log().choice(&host, &puller, found.as_deref());
    match found {
        Some(c) => {
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
