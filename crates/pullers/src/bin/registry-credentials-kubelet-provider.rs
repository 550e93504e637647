//! `registry-credentials-kubelet-provider`: a kubelet credential provider
//! plugin (`credentialprovider.kubelet.k8s.io/v1`). Kubelet writes a
//! `CredentialProviderRequest` to its stdin; it answers a
//! `CredentialProviderResponse` on stdout from the stored credentials, for
//! the foundation alone when the request has no service-account token
//! (node mode, R26), or for the app, space or organization the verified
//! token's service account is mapped to (service-account mode, KEP-4412).
//! Refusals go to stderr with exit status 1, and nothing to stdout.
//!
//! The store is named by the environment as for the docker helper
//! (`CF_HOME`, `REGISTRY_CREDENTIALS_SQLITE`, `REGISTRY_CREDENTIALS_PG_URL`
//! and their keys); the arguments (kubelet's `CredentialProviderConfig`
//! `args`) configure service-account mode, the cache duration and the
//! verbose log. See the crate's README for kubelet's configuration.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use registry_credentials_interop::export::{
    CredentialProviderRequest, CredentialProviderResponse, RequestError,
};
use registry_credentials_pullers::kubelet::mapping::Mapping;
use registry_credentials_pullers::kubelet::token::Verifier;
use registry_credentials_pullers::kubelet::{Requester, ServiceAccounts, parse_duration, puller};
use registry_credentials_pullers::source::{Answer, Log, Query, Source};
use zeroize::Zeroizing;

const PROGRAM: &str = "registry-credentials-kubelet-provider";

/// The most a request may hold: an image, a token and some annotations.
const MAX_REQUEST: u64 = 1024 * 1024;

/// A kubelet credential provider: reads one CredentialProviderRequest
/// (credentialprovider.kubelet.k8s.io/v1) on stdin and answers a
/// CredentialProviderResponse on stdout from the stored credentials: the
/// foundation's alone without a service-account token, else those of the
/// app, space or organization the verified token's service account is
/// mapped to. The store is named by the environment (CF_HOME,
/// REGISTRY_CREDENTIALS_SQLITE or REGISTRY_CREDENTIALS_PG_URL).
#[derive(Parser, Debug)]
#[command(name = PROGRAM, version)]
struct Args {
    /// The issuer's public keys, a JWKS file (the API server's
    /// `/openid/v1/jwks`): turns service-account mode on, with --issuer,
    /// --audience and --service-accounts.
    #[arg(long, value_name = "FILE", requires_all = ["issuer", "audience", "service_accounts"])]
    jwks: Option<PathBuf>,
    /// The tokens' issuer (`iss`), as the API server's
    /// `--service-account-issuer`.
    #[arg(long, value_name = "URL", requires = "jwks")]
    issuer: Option<String>,
    /// The audience the tokens must be for (`aud`), as kubelet's
    /// `tokenAttributes.serviceAccountTokenAudience`.
    #[arg(long, value_name = "AUDIENCE", requires = "jwks")]
    audience: Option<String>,
    /// The JSON file that maps service accounts to apps, spaces and
    /// organizations.
    #[arg(long, value_name = "FILE", requires = "jwks")]
    service_accounts: Option<PathBuf>,
    /// How long kubelet may reuse an answer (`0s`, `90s`, `1h30m`). `0s`,
    /// the default, has the next pull see every change (R17).
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = cache_duration)]
    cache_duration: Duration,
    /// Log to stderr the store, whom the request pulls for and the scope,
    /// location and username chosen, or why none; never a secret (also
    /// `REGISTRY_CREDENTIALS_VERBOSE=1`).
    #[arg(short, long)]
    verbose: bool,
}

fn cache_duration(s: &str) -> Result<Duration, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

fn read_file(path: &PathBuf, what: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read the {what} {}: {e}", path.display()))
}

/// Service-account mode, when the arguments configure it.
fn service_accounts(args: &Args) -> Result<Option<ServiceAccounts>, String> {
    let (Some(jwks), Some(issuer), Some(audience), Some(mapping)) = (
        &args.jwks,
        &args.issuer,
        &args.audience,
        &args.service_accounts,
    ) else {
        return Ok(None);
    };
    let verifier = Verifier::from_jwks(&read_file(jwks, "JWKS file")?, issuer, audience)
        .map_err(|e| format!("{}: {e}", jwks.display()))?;
    let mapping = Mapping::from_json(&read_file(mapping, "service-account mapping")?)
        .map_err(|e| format!("{}: {e}", mapping.display()))?;
    Ok(Some(ServiceAccounts { verifier, mapping }))
}

fn answer(args: &Args, log: &Log, out: &mut impl Write) -> Result<(), String> {
    let service_accounts = service_accounts(args)?;
    let mut input = Zeroizing::new(Vec::new());
    std::io::stdin()
        .take(MAX_REQUEST + 1)
        .read_to_end(&mut input)
        .map_err(|e| format!("cannot read the request from stdin: {e}"))?;
    if input.len() as u64 > MAX_REQUEST {
        return Err(format!(
            "the request is over {MAX_REQUEST} bytes: not a CredentialProviderRequest"
        ));
    }
    let request = CredentialProviderRequest::from_json(&input).map_err(|e| match &e {
        // serde_json's message may quote a value, which may be the token:
        // only its place is kept.
        RequestError::Json(json) => format!(
            "{e} (line {}, column {}): send a credentialprovider.kubelet.k8s.io/v1 CredentialProviderRequest with a string `image`",
            json.line(),
            json.column()
        ),
        RequestError::Image(reason) => format!("{e}: {reason}"),
        _ => e.to_string(),
    })?;
    let image = request.image();
    let (named, requester) = puller(&request, service_accounts.as_ref())
        .map_err(|e| format!("{}: {e}", image.as_str()))?;
    match &requester {
        Requester::Node => log.log(format_args!(
            "{}: no service-account token: node mode, the foundation alone (R26)",
            image.as_str()
        )),
        Requester::ServiceAccount(account, rule) => log.log(format_args!(
            "{}: {account}, verified, mapped by rule {rule} to {named}",
            image.as_str()
        )),
    }
    let Answer::Image(chosen, puller) = Source::open(log)?.ask(&named, Query::Image(image), log)?
    else {
        unreachable!("an image query is answered with what was chosen")
    };
    log.choice(
        image.as_str(),
        &puller,
        chosen.as_ref().map(|r| &**r.stored()),
    );
    let response = CredentialProviderResponse::new(image, chosen.as_ref())
        .map_err(|e| e.to_string())?
        .with_cache_duration(args.cache_duration);
    response
        .write_to(&mut *out)
        .and_then(|()| writeln!(out))
        .map_err(|e| format!("cannot write the response: {e}"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let log = if args.verbose {
        Log::new(PROGRAM, true)
    } else {
        Log::from_env(PROGRAM)
    };
    let mut out = std::io::stdout().lock();
    match answer(&args, &log, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // Kubelet logs a plugin's stderr when it exits non-zero, and
            // reads nothing from its stdout.
            eprintln!("{PROGRAM}: {message}");
            ExitCode::FAILURE
        }
    }
}
