//! An example HTTP service: the platform's v3 resource for stored
//! registry credentials (`/v3/registry_credentials`, R22) served over
//! HTTP/1.1 with hyper from one SQLite file, through the access rules of
//! `registry-credentials-cf` (R20, R21). Each request is one transaction
//! of the file, over its credentials and its directory (organizations,
//! spaces, apps and roles) together: a read for a `GET`, a write
//! otherwise, rolled back when the answer is an error.
//!
//! The caller is known by a bearer token: `REGISTRY_CREDENTIALS_API_TOKENS`
//! holds `USER=TOKEN` pairs separated by white space, standing in for the
//! platform's own token check (UAA). The passwords are encrypted with the
//! key in `REGISTRY_CREDENTIALS_KEY` (64 hexadecimal digits). There is no
//! TLS: put it behind a proxy that has it, or keep it on 127.0.0.1.
//!
//! ```sh
//! export REGISTRY_CREDENTIALS_KEY=$(openssl rand -hex 32)
//! export REGISTRY_CREDENTIALS_API_TOKENS="admin=$(openssl rand -hex 16)"
//! cargo run -p registry-credentials-api-service -- --db creds.db --listen 127.0.0.1:8080 --admin admin
//! curl -H "Authorization: bearer ${REGISTRY_CREDENTIALS_API_TOKENS#admin=}" http://127.0.0.1:8080/v3/registry_credentials
//! ```
//!
//! `--admin USER` gives USER the Admin role in the file's directory at
//! start (the operator's door); `--base-url URL` puts the links under URL
//! instead of relative paths. The service prints `listening on
//! http://ADDRESS` once it accepts connections (with `--listen
//! 127.0.0.1:0`, the port it was given).
#![forbid(unsafe_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use registry_credentials::StoreError;
use registry_credentials::scope::UserId;
use registry_credentials_cf::access::GlobalRole;
use registry_credentials_cf::api::{self, Api};
use registry_credentials_cf::directory::{DirectoryError, DirectoryWriter, SqliteDirectory};
use registry_credentials_cf::manage::Manager;
use registry_credentials_sql::{EncryptionKey, Keyring, SqliteStore, SqliteTransaction};
use tokio::net::TcpListener;

/// The largest request body read: far more than any credential's JSON
/// (a password has at most 5,000 bytes, R16).
const MAX_BODY: usize = 64 * 1024;

/// What the command line and the environment say.
struct Config {
    db: PathBuf,
    listen: SocketAddr,
    admin: Option<UserId>,
    base_url: Option<String>,
    tokens: Vec<(String, UserId)>,
}

const USAGE: &str = "usage: registry-credentials-api --db FILE [--listen ADDRESS] [--admin USER] [--base-url URL]\n\
    with REGISTRY_CREDENTIALS_KEY (64 hexadecimal digits) and REGISTRY_CREDENTIALS_API_TOKENS (USER=TOKEN pairs) set";

fn config(mut args: impl Iterator<Item = String>) -> Result<Config, String> {
    let (mut db, mut listen, mut admin, mut base_url) = (None, None, None, None);
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match name.as_str() {
            "--db" => db = Some(PathBuf::from(value()?)),
            "--listen" => {
                let given = value()?;
                listen = Some(given.parse::<SocketAddr>().map_err(|_| {
                    "--listen takes an address and port, such as 127.0.0.1:8080".to_owned()
                })?);
            }
            "--admin" => admin = Some(UserId::new(value()?).map_err(|e| format!("--admin: {e}"))?),
            "--base-url" => base_url = Some(value()?),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            _ => {
                return Err(format!(
                    "an argument is not an option of this service\n{USAGE}"
                ));
            }
        }
    }
    let tokens = std::env::var("REGISTRY_CREDENTIALS_API_TOKENS").unwrap_or_default();
    let tokens = tokens
        .split_whitespace()
        .map(|pair| {
            let (user, token) = pair.split_once('=').ok_or(
                "REGISTRY_CREDENTIALS_API_TOKENS holds USER=TOKEN pairs separated by white space",
            )?;
            if token.len() < 16 {
                return Err(
                    "each token in REGISTRY_CREDENTIALS_API_TOKENS has at least 16 characters",
                );
            }
            let user = UserId::new(user)
                .map_err(|_| "a user in REGISTRY_CREDENTIALS_API_TOKENS is not a user id")?;
            Ok((token.to_owned(), user))
        })
        .collect::<Result<Vec<_>, &str>>()?;
    Ok(Config {
        db: db.ok_or_else(|| format!("--db is required\n{USAGE}"))?,
        listen: listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
        admin,
        base_url,
        tokens,
    })
}

/// What every connection shares.
struct Service {
    store: SqliteStore,
    api: Api,
    tokens: Vec<(String, UserId)>,
}

/// Why a request's transaction did not commit.
enum Failed {
    /// The API answered with an error: rolled back, and answered.
    Refused(api::Response),
    Store(StoreError),
    Directory(DirectoryError),
}

impl From<StoreError> for Failed {
    fn from(e: StoreError) -> Self {
        Failed::Store(e)
    }
}

/// Whether two byte strings are equal, in time that depends on their
/// lengths alone, so that a token is not guessed byte by byte.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The platform's error body.
fn error(status: u16, code: u32, title: &str, detail: &str) -> (u16, String) {
    let body = serde_json::json!({"errors": [{"code": code, "title": title, "detail": detail}]});
    (status, body.to_string())
}

impl Service {
    /// The user `authorization` (`bearer TOKEN`) names.
    fn caller(&self, authorization: Option<&HeaderValue>) -> Result<UserId, (u16, String)> {
        let Some(given) = authorization.and_then(|v| v.to_str().ok()) else {
            return Err(error(
                401,
                10002,
                "CF-NotAuthenticated",
                "Authentication error: send the header Authorization: bearer TOKEN",
            ));
        };
        let token = given
            .strip_prefix("bearer ")
            .or_else(|| given.strip_prefix("Bearer "))
            .unwrap_or_default();
        let mut found = None;
        for (known, user) in &self.tokens {
            if same(known.as_bytes(), token.as_bytes()) {
                found = Some(user.clone());
            }
        }
        found.ok_or_else(|| {
            error(
                401,
                1000,
                "CF-InvalidAuthToken",
                "Invalid Auth Token: the bearer token is not one this service was given; ask its operator for yours",
            )
        })
    }

    /// One request, in one transaction: a read for `GET`, a write
    /// otherwise, rolled back when the answer is an error.
    fn answer(&self, user: &UserId, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        let run = |tx: &SqliteTransaction<'_>| -> Result<api::Response, Failed> {
            let directory = SqliteDirectory::open(tx).map_err(Failed::Directory)?;
            let m = Manager::new(tx, directory);
            let response = self.api.handle_blocking(&m, user, method, path, body);
            if response.status() >= 400 {
                return Err(Failed::Refused(response));
            }
            Ok(response)
        };
        let result = if method == "GET" {
            self.store.read_transaction(run)
        } else {
            self.store.transaction(run)
        };
        match result {
            Ok(response) | Err(Failed::Refused(response)) => {
                (response.status(), response.into_body())
            }
            Err(Failed::Store(e)) if e.is_retryable() => error(
                503,
                10015,
                "CF-ServiceUnavailable",
                "the database is busy; retry the request",
            ),
            Err(Failed::Store(_) | Failed::Directory(_)) => error(
                500,
                10001,
                "CF-UnknownError",
                "the database failed; nothing changed. Its operator finds the cause in the service's log",
            ),
        }
    }

    async fn serve(
        self: Arc<Self>,
        req: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        let (status, body) = match self.caller(req.headers().get(AUTHORIZATION)) {
            Err(refused) => refused,
            Ok(user) => {
                let method = req.method().as_str().to_owned();
                let path = req
                    .uri()
                    .path_and_query()
                    .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
                match Limited::new(req.into_body(), MAX_BODY).collect().await {
                    Err(_) => error(
                        413,
                        10008,
                        "CF-UnprocessableEntity",
                        "the request body is larger than 64 KiB; a registry credential's JSON is far smaller",
                    ),
                    Ok(collected) => {
                        let bytes = collected.to_bytes();
                        let service = Arc::clone(&self);
                        tokio::task::spawn_blocking(move || {
                            service.answer(&user, &method, &path, &bytes)
                        })
                        .await
                        .unwrap_or_else(|_| {
                            error(
                                500,
                                10001,
                                "CF-UnknownError",
                                "the request failed inside the service",
                            )
                        })
                    }
                }
            }
        };
        let mut response = Response::new(Full::new(Bytes::from(body.clone())));
        *response.status_mut() =
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if !body.is_empty() {
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        Ok(response)
    }
}

async fn run(config: Config) -> Result<(), String> {
    let hex = std::env::var("REGISTRY_CREDENTIALS_KEY")
        .map_err(|_| format!("REGISTRY_CREDENTIALS_KEY is not set\n{USAGE}"))?;
    let key = EncryptionKey::from_hex("api", &hex)
        .map_err(|e| format!("REGISTRY_CREDENTIALS_KEY: {e}"))?;
    let store = SqliteStore::open(&config.db, Keyring::new(key)).map_err(|e| e.to_string())?;
    // One write transaction first: it brings the directory's tables to
    // this release's version, and makes the first admin.
    store
        .transaction(|tx| -> Result<(), Failed> {
            let directory = SqliteDirectory::open(tx).map_err(Failed::Directory)?;
            if let Some(admin) = &config.admin {
                directory
                    .grant_global(admin.clone(), GlobalRole::Admin)
                    .map_err(Failed::Directory)?;
            }
            Ok(())
        })
        .map_err(|e| match e {
            Failed::Store(e) => e.to_string(),
            Failed::Directory(e) => e.to_string(),
            Failed::Refused(r) => r.into_body(),
        })?;
    let api = config
        .base_url
        .as_deref()
        .map_or_else(Api::new, Api::with_base_url);
    let service = Arc::new(Service {
        store,
        api,
        tokens: config.tokens,
    });
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on http://{address}");
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("registry-credentials-api: a connection was not accepted: {e}");
                continue;
            }
        };
        let service = Arc::clone(&service);
        tokio::spawn(async move {
            let serve = service_fn(move |req| Arc::clone(&service).serve(req));
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), serve)
                .await
            {
                eprintln!("registry-credentials-api: a connection failed: {e}");
            }
        });
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let outcome = match config(std::env::args().skip(1)) {
        Ok(config) => run(config).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("registry-credentials-api: {e}");
            ExitCode::FAILURE
        }
    }
}
