//! Pullers for `registry-credentials`: the protocol logic of the
//! `docker-credential-registry-credentials` helper and the
//! `registry-credentials-kubelet-provider` plugin, without I/O, and the
//! store-opening and logging both binaries share.
//!
//! - [`host_of_server_url`]: the registry host a docker-credential-helpers
//!   server URL names (`https://index.docker.io/v1/` is `docker.io`).
//! - [`puller_from_env`]: whom the helper acts for, from
//!   `REGISTRY_CREDENTIALS_APP`, `_SPACE` or `_ORG`; none is the foundation
//!   (R26).
//! - [`resolve_host`]: the credential for a host alone (R10, R11, R14): the
//!   registry and its parent domains, never a namespace of it.
//! - [`list_hosts`]: the hosts the puller's scopes hold credentials for.
//! - [`source`]: the store the environment names (the cf tool's state, a
//!   SQLite file, PostgreSQL), whom names or ids stand for there, and the
//!   verbose log.
//! - [`kubelet`]: node mode and service-account mode (KEP-4412) of the
//!   kubelet provider: token checks, the service-account mapping, the
//!   choice of credential.
#![forbid(unsafe_code)]

pub mod kubelet;
pub mod source;

use std::collections::BTreeMap;
use std::sync::Arc;

use registry_credentials::candidates::CandidateKind;
use registry_credentials::credential::IDENTITY_TOKEN_USERNAME;
use registry_credentials::resolve::{Clock, Plan, first_live};
use registry_credentials::scope::{OrgId, Puller, Pulls, SpaceId};
use registry_credentials::store::Key;
use registry_credentials::{
    App, CredentialKind, CredentialSource, CredentialStore, Reference, RegistryCredential,
    StoreError,
};

/// The message docker-credential-helpers prints when a helper holds nothing
/// for a server URL; docker and skopeo match it to fall back.
pub const NOT_FOUND: &str = "credentials not found in native keychain";

/// Why a server URL or a puller variable was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The server URL names no registry host.
    #[error(
        "the server URL {0:?} names no registry host: give `host[:port]`, optionally with a scheme and path"
    )]
    ServerUrl(String),
    /// A puller variable is not in its form.
    #[error("{var} must be {form}: {reason}")]
    Puller {
        /// The variable.
        var: &'static str,
        /// The form it takes.
        form: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// More than one puller variable is set.
    #[error(
        "set at most one of REGISTRY_CREDENTIALS_APP, REGISTRY_CREDENTIALS_SPACE and REGISTRY_CREDENTIALS_ORG"
    )]
    ManyPullers,
}

/// The registry host (with its port) a server URL names: the scheme, the
/// path and any user info are dropped, the host is lowercased, and Docker
/// Hub's aliases (`index.docker.io`, `registry-1.docker.io`,
/// `registry.hub.docker.com`) are `docker.io` (R7).
///
/// # Errors
///
/// [`InputError::ServerUrl`] when nothing that parses as a registry host is
/// left.
pub fn host_of_server_url(url: &str) -> Result<String, InputError> {
    let bad = || InputError::ServerUrl(url.escape_debug().to_string());
    let trimmed = url.trim();
    let rest = match trimmed.find("://") {
        Some(i) => &trimmed[i + 3..],
        None => trimmed,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or("");
    if authority.is_empty() {
        return Err(bad());
    }
    // The core's reference parser normalizes the host (case, Docker Hub's
    // aliases) and checks it; `HOST/x` has no namespace, so only the host
    // is taken from it.
    let reference: Reference = format!("{}/x", authority.to_ascii_lowercase())
        .parse()
        .map_err(|_| bad())?;
    Ok(reference.registry().to_owned())
}

/// Whom the helper acts for, from the values of `REGISTRY_CREDENTIALS_APP`
/// (`ORG/SPACE/APP`), `REGISTRY_CREDENTIALS_SPACE` (`ORG/SPACE`) and
/// `REGISTRY_CREDENTIALS_ORG` (`ORG`); none set is [`Puller::Foundation`]
/// (R26). The parts are the store's ids.
///
/// # Errors
///
/// [`InputError::Puller`] for a value not in its form,
/// [`InputError::ManyPullers`] when more than one is set.
pub fn puller_from_env(
    app: Option<&str>,
    space: Option<&str>,
    org: Option<&str>,
) -> Result<Puller, InputError> {
    let bad = |var, form, reason: String| InputError::Puller { var, form, reason };
    match (app, space, org) {
        (None, None, None) => Ok(Puller::Foundation),
        (Some(v), None, None) => {
            const VAR: &str = "REGISTRY_CREDENTIALS_APP";
            const FORM: &str = "ORG/SPACE/APP";
            let parts: Vec<&str> = v.split('/').collect();
            let [o, s, a] = parts[..] else {
                return Err(bad(VAR, FORM, format!("{} parts given", parts.len())));
            };
            App::new(o, s, a)
                .map(Puller::App)
                .map_err(|e| bad(VAR, FORM, e.to_string()))
        }
        (None, Some(v), None) => {
            const VAR: &str = "REGISTRY_CREDENTIALS_SPACE";
            const FORM: &str = "ORG/SPACE";
            let Some((o, s)) = v.split_once('/') else {
                return Err(bad(VAR, FORM, "no `/` between the two".to_owned()));
            };
            let org = OrgId::new(o).map_err(|e| bad(VAR, FORM, e.to_string()))?;
            let space = SpaceId::new(s).map_err(|e| bad(VAR, FORM, e.to_string()))?;
            Ok(Puller::Space { org, space })
        }
        (None, None, Some(v)) => OrgId::new(v)
            .map(Puller::Org)
            .map_err(|e| bad("REGISTRY_CREDENTIALS_ORG", "ORG", e.to_string())),
        _ => Err(InputError::ManyPullers),
    }
}

/// The keys `puller` looks up for `host` alone: the keys of `plan` (the
/// plan for an image directly under the host, see [`host_reference`])
/// whose candidate is the registry or a parent domain (R10, R11), in
/// precedence order (R14). A credential stored for a namespace of the host
/// (`host/team`) is never one, since the protocol does not say which
/// repository is pulled. Sync and async stores look these up alike.
pub fn host_keys<'a>(plan: &Plan<'a>) -> Vec<Key<'a>> {
    (0..plan.keys().len())
        .filter(|&i| {
            plan.candidate(i)
                .is_some_and(|(c, _)| c.kind() != CandidateKind::Namespace)
        })
        .map(|i| plan.keys()[i])
        .collect()
}

/// Whether the credential helper protocol can carry `credential` (R24):
/// a password, or an identity token (sent with the username `<token>`);
/// a registry (bearer) token has no place in it.
pub fn helper_carries(credential: &RegistryCredential) -> bool {
    credential.kind() != CredentialKind::RegistryToken
}

/// The credential `puller` uses for `host` alone: the first of
/// [`host_keys`] a sync store holds that has not expired (R25) and that
/// the protocol can carry ([`helper_carries`]); one passed over is as if
/// absent.
///
/// # Errors
///
/// [`StoreError`] when the store fails.
pub fn resolve_host<S: CredentialSource + ?Sized, P: Pulls + ?Sized>(
    store: &S,
    puller: &P,
    host: &Reference,
) -> Result<Option<Arc<RegistryCredential>>, StoreError> {
    let plan = Plan::new(puller, host);
    let found = first_live(store, &host_keys(&plan), &mut Clock::new(), helper_carries)?;
    Ok(found.map(|(_, c)| c))
}

/// The `Username` the protocol answers with for `credential`: its own, or
/// `<token>` for an identity token, which tells docker and containers
/// that the secret is a refresh token (R24).
pub fn helper_username(credential: &RegistryCredential) -> &str {
    match credential.kind() {
        CredentialKind::IdentityToken => IDENTITY_TOKEN_USERNAME,
        _ => credential.username().as_str(),
    }
}

/// A reference for an image directly under `host`, whose candidates are the
/// host's registry and parent domains (and, for Docker Hub, `library`,
/// which [`resolve_host`] skips).
///
/// # Errors
///
/// [`InputError::ServerUrl`] when `host` is not a registry host.
pub fn host_reference(host: &str) -> Result<Reference, InputError> {
    format!("{host}/x")
        .parse()
        .map_err(|_| InputError::ServerUrl(host.escape_debug().to_string()))
}

/// The hosts `puller`'s scopes hold a registry-wide credential for (a
/// location with no path, the ones [`resolve_host`] can return), each with
/// the username of the most specific scope (R14): what `list` prints.
///
/// # Errors
///
/// [`StoreError`] when the store fails.
pub fn list_hosts<S: CredentialStore + ?Sized, P: Pulls + ?Sized>(
    store: &S,
    puller: &P,
) -> Result<BTreeMap<String, String>, StoreError> {
    let mut lists = Vec::new();
    for scope in puller.scopes() {
        lists.push(store.list(scope)?);
    }
    Ok(hosts_of(lists))
}

/// The map [`list_hosts`] returns, from each scope's credentials in
/// precedence order (as an async store lists them): the first scope's
/// username wins for a host; locations with a path, expired credentials
/// (R25) and those the protocol cannot carry (R24) are left out, as `get`
/// passes over them.
pub fn hosts_of(
    lists: impl IntoIterator<Item = Vec<Arc<RegistryCredential>>>,
) -> BTreeMap<String, String> {
    let mut hosts = BTreeMap::new();
    let mut clock = Clock::new();
    for c in lists.into_iter().flatten() {
        let location = c.location().as_str();
        if location.contains('/') || clock.expired(&c) || !helper_carries(&c) {
            continue;
        }
        hosts
            .entry(location.to_owned())
            .or_insert_with(|| c.username().as_str().to_owned());
    }
    hosts
}

/// What `get` prints: the protocol's credential object. The secret is only
/// here, on stdout, never in a log.
#[derive(serde::Serialize)]
pub struct GetReply<'a> {
    /// The server URL as asked.
    #[serde(rename = "ServerURL")]
    pub server_url: &'a str,
    /// The username.
    #[serde(rename = "Username")]
    pub username: &'a str,
    /// The password.
    #[serde(rename = "Secret")]
    pub secret: &'a str,
}

impl std::fmt::Debug for GetReply<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetReply")
            .field("server_url", &self.server_url)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_map_to_their_host_keeping_the_port() {
        assert_eq!(
            host_of_server_url("https://index.docker.io/v1/").unwrap(),
            "docker.io"
        );
        assert_eq!(
            host_of_server_url("Registry.Example.com:5000/v2/").unwrap(),
            "registry.example.com:5000"
        );
        assert_eq!(
            host_of_server_url("http://u@127.0.0.1:5000").unwrap(),
            "127.0.0.1:5000"
        );
        assert!(host_of_server_url("https:///v1/").is_err());
        assert!(host_of_server_url("").is_err());
    }

    #[test]
    fn no_puller_variable_is_the_foundation_r26() {
        assert_eq!(
            puller_from_env(None, None, None).unwrap(),
            Puller::Foundation
        );
        assert!(matches!(
            puller_from_env(Some("o/s/a"), None, None).unwrap(),
            Puller::App(_)
        ));
        assert!(matches!(
            puller_from_env(None, Some("o/s"), None).unwrap(),
            Puller::Space { .. }
        ));
        assert!(matches!(
            puller_from_env(None, None, Some("o")).unwrap(),
            Puller::Org(_)
        ));
        assert!(puller_from_env(Some("o/s"), None, None).is_err());
        assert_eq!(
            puller_from_env(Some("o/s/a"), None, Some("o")),
            Err(InputError::ManyPullers)
        );
    }
}
