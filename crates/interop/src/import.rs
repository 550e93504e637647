//! Reading the credentials files people already have: Docker's
//! `config.json`, containers' `auth.json`, the legacy `.dockercfg`, and
//! Kubernetes `kubernetes.io/dockerconfigjson` (or `dockercfg`) secrets.
//!
//! [`read`] tells the forms apart and returns an [`Import`]: the
//! [`Entry`]s that can be stored, and a [`Skipped`] for every key that
//! cannot, with the reason. [`Import::report`] says, one line per key,
//! what became of it. Storing the entries is [`apply`](crate::apply)'s job
//! (feature `cf`), through the management API.
//!
//! # Keys and locations
//!
//! Keys are read as containers/image (`normalizeAuthFileKey`) and the
//! Docker CLI (`ConvertToHostname`) read them, then checked as any
//! [`Location`] is (R7–R9):
//!
//! - a key written as a URL (`http://`, `https://`) names a whole registry:
//!   only its host and port are kept (`https://index.docker.io/v1/` →
//!   `docker.io`, `https://registry.example.com/team` →
//!   `registry.example.com`);
//! - a key without a scheme keeps its path: `quay.io/org` is a namespace;
//! - in a legacy `.dockercfg` every key is a host: the path is dropped;
//! - Docker Hub's spellings (`index.docker.io`, `registry-1.docker.io`,
//!   `registry.hub.docker.com`) become `docker.io` (R4);
//! - a wildcard (`*.example.com`), which only kubelet reads (one label per
//!   `*`), has no equivalent here and is skipped;
//! - a public suffix is refused (R9), as is anything else R7–R8 refuse.
//!
//! A key with two or more path components (`quay.io/org/image`) may name a
//! repository, which containers/image would use for that repository too;
//! here a location serves only the images below it (R10), so the entry is
//! imported with a [`Warning`].
//!
//! # Secrets
//!
//! `auth` is base64 of `username:password`, padded or not, with any line
//! breaks (`\r`, `\n`) skipped as Go's decoder, which Docker uses, skips
//! them; it is split at the first `:`, and NUL bytes at either end of the
//! password are trimmed, as Docker trims them.
//! Where `auth` is absent, `username` and `password` are taken; where both
//! are present they must agree. An `identitytoken` is imported as an
//! identity token (R24), with the username of `auth` (whose password Docker
//! leaves empty) or `username`, or `<token>` when neither names one; a
//! `registrytoken` as a registry token, with `username` or `<token>`.
//! Secrets that are not in the file — an entry of `credHelpers` or
//! `credsStore` — are reported and skipped. The decoded secrets live in
//! buffers wiped on drop, and no report, error or `Debug` holds a password.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use base64::Engine as _;
use registry_credentials::credential::{CredentialError, IDENTITY_TOKEN_USERNAME};
use registry_credentials::location::LocationErrorKind;
use registry_credentials::{
    Credential, CredentialKind, Location, LocationError, Password, Username,
};
use serde::Deserialize;
use serde::de::IgnoredAny;
use zeroize::{Zeroize, Zeroizing};

use crate::json::{self, JsonFault};

/// Which form a file was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Form {
    /// `{"auths": {…}}`: Docker's `config.json` or containers' `auth.json`
    /// (the two share the format; keys with a path are namespaces).
    Auths,
    /// The legacy `.dockercfg`: entries at the top level, keys are hosts.
    DockerCfg,
    /// A Kubernetes secret (as JSON) of type
    /// `kubernetes.io/dockerconfigjson`, holding an `auths` document.
    KubernetesDockerConfigJson,
    /// A Kubernetes secret of type `kubernetes.io/dockercfg`, holding a
    /// legacy document.
    KubernetesDockerCfg,
}

/// Why a file could not be read at all. No message holds a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// Not JSON, or not of any form this module reads. Only the place is
    /// kept: serde_json's own message repeats the value it did not expect,
    /// which in a mangled file may be a password.
    #[error(
        "not a credentials file: {} at line {line}, column {column}; expected a Docker config.json, a containers auth.json, a .dockercfg or a Kubernetes secret as JSON",
        if *syntax { "bad JSON" } else { "an unexpected value" }
    )]
    Json {
        /// The line, from 1 (0 at the end of the input).
        line: usize,
        /// The column, from 1.
        column: usize,
        /// True for bad JSON, false for JSON of the wrong shape.
        syntax: bool,
    },
    /// An object of the file holds the same key twice. Which value was
    /// meant is anyone's guess (Docker's and containers' readers keep the
    /// last), so the file is refused. Only the key's place is kept, never
    /// its value.
    #[error(
        "the key {path} appears twice in one object (line {line}, column {column}); remove one of them, since readers disagree which one counts"
    )]
    DuplicateKey {
        /// The path from the document's root to the key, every key quoted
        /// and escaped and any user info redacted: `"auths"."quay.io"`.
        path: String,
        /// The line of the second one, from 1.
        line: usize,
        /// The column just after it, from 1.
        column: usize,
    },
    /// A Kubernetes secret of another type, or without its data key.
    #[error("not a registry credentials secret: {0}")]
    Secret(String),
    /// A Kubernetes secret whose data is not base64.
    #[error("the secret's data is not base64")]
    SecretData,
}

/// The place of a JSON error, without serde_json's message.
fn json_error(e: JsonFault) -> ReadError {
    match e {
        JsonFault::Serde(e) => ReadError::Json {
            line: e.line(),
            column: e.column(),
            syntax: !e.is_data(),
        },
        JsonFault::DuplicateKey { path, line, column } => {
            ReadError::DuplicateKey { path, line, column }
        }
    }
}

/// A key that can be stored: its location and credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key as written in the file.
    pub key: String,
    /// Where it will be stored.
    pub location: Location,
    /// Username and password. Its `Debug` redacts the password.
    pub credential: Credential,
    /// Something to tell the user.
    pub warning: Option<Warning>,
}

/// Something an imported entry does differently from the tool that wrote
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// The key may name a repository: containers/image would use it for
    /// that repository, but a location serves only images below it (R10).
    Repository,
}

/// A key that is not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The key as written in the file (a helper's key for `credHelpers`).
    pub key: String,
    /// The location it names, when it names one.
    pub location: Option<Location>,
    /// Why.
    pub reason: Skip,
}

/// Why a key is not imported. Messages never hold a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Skip {
    /// `credHelpers` sends this registry to a helper program, which holds
    /// the secret.
    Helper {
        /// The helper (`docker-credential-<name>`).
        helper: String,
    },
    /// An `auths` entry with no secret, whose secret is in `credsStore`.
    Store {
        /// The store helper's name.
        store: String,
    },
    /// `credHelpers` names a helper for this registry, so Docker never
    /// reads this `auths` entry.
    ShadowedByHelper {
        /// The helper.
        helper: String,
    },
    /// A wildcard key: kubelet's one-label glob has no equivalent.
    Wildcard,
    /// The key's host is a public suffix (R9).
    PublicSuffix,
    /// The key is no location (R7, R8).
    Location(LocationError),
    /// `auth` is not base64, not UTF-8, or has no `:`.
    Auth(&'static str),
    /// `username` or `password` disagree with `auth`.
    Contradiction,
    /// Neither `auth` nor `username` and `password`.
    NoSecret,
    /// The username is refused (R16).
    Username(String),
    /// The password is refused (R16).
    Password(CredentialError),
    /// Another key names the same location with another credential.
    Duplicate {
        /// The other key.
        other: String,
    },
    /// Another key names the same location with the same credential, and
    /// is imported.
    SameAs {
        /// The other key.
        other: String,
    },
    /// The scope already holds a credential for the location (R16); it is
    /// left as it is. Found when the import is applied.
    Conflict {
        /// The scope, in words.
        at: String,
    },
    /// Creating it failed when the import was applied.
    Failed(String),
}

impl Skip {
    /// False when the secret is simply not in the file (a helper, a
    /// store, a token): reported, but no reason to refuse the rest of an
    /// import. True for a key that is wrong or cannot be stored.
    pub fn is_failure(&self) -> bool {
        !matches!(
            self,
            Skip::Helper { .. }
                | Skip::Store { .. }
                | Skip::ShadowedByHelper { .. }
                | Skip::SameAs { .. }
        )
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::Helper { helper } => write!(
                f,
                "the secret lives in the credential helper `docker-credential-{}` (credHelpers); store it by hand",
                helper.escape_debug()
            ),
            Skip::Store { store } => write!(
                f,
                "the secret lives in the credential store `docker-credential-{}` (credsStore); store it by hand",
                store.escape_debug()
            ),
            Skip::ShadowedByHelper { helper } => write!(
                f,
                "credHelpers sends this registry to `docker-credential-{}`, so Docker never uses this entry",
                helper.escape_debug()
            ),
            Skip::Wildcard => f.write_str(
                "a wildcard key: kubelet's one-label glob has no equivalent here; store each registry by name",
            ),
            Skip::PublicSuffix => f.write_str(
                "a public suffix, which no registry serves from (R9)",
            ),
            Skip::Location(e) => write!(f, "not a registry location: {e}"),
            Skip::Auth(why) => write!(f, "`auth` {why}"),
            Skip::Contradiction => f.write_str(
                "`username` or `password` contradicts `auth`; fix the file",
            ),
            Skip::NoSecret => f.write_str(
                "no `auth`, and no `username` and `password`",
            ),
            Skip::Username(why) => write!(f, "the username is refused (R16): {why}"),
            Skip::Password(e) => write!(f, "the password is refused (R16): {e}"),
            Skip::Duplicate { other } => write!(
                f,
                "the key `{}` names the same location with another credential; import one of them by hand",
                other.escape_debug()
            ),
            Skip::SameAs { other } => write!(
                f,
                "the same credential as the key `{}`",
                other.escape_debug()
            ),
            Skip::Conflict { at } => write!(
                f,
                "a credential for this location already exists for {at}; it is left as it is (R16)"
            ),
            Skip::Failed(why) => write!(f, "not created: {why}"),
        }
    }
}

/// What a file held: the entries to store and the keys skipped.
#[derive(Debug, Clone)]
pub struct Import {
    /// The form it was read as.
    pub form: Form,
    /// The keys that can be stored, in key order.
    pub entries: Vec<Entry>,
    /// The keys that cannot, in key order.
    pub skipped: Vec<Skipped>,
}

impl Import {
    /// One line per key: found (to be imported), or skipped and why.
    pub fn report(&self) -> Report {
        let mut lines: Vec<Line> = self
            .entries
            .iter()
            .map(|e| Line::of_entry(e, Outcome::Found))
            .chain(self.skipped.iter().map(Line::of_skipped))
            .collect();
        lines.sort_by(|a, b| a.key.cmp(&b.key));
        Report { lines }
    }

    /// True when some key was skipped for a failure ([`Skip::is_failure`]).
    pub fn has_failures(&self) -> bool {
        self.skipped.iter().any(|s| s.reason.is_failure())
    }
}

/// What became of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Read and ready to store; not stored yet.
    Found,
    /// Stored.
    Imported,
    /// Not stored, and why.
    Skipped(Skip),
    /// Ready, but not stored: another key failed (or the store did) and
    /// the import stored nothing.
    NotCreated,
    /// Sent to be stored with the rest of the batch, and the store lost the
    /// answer (R28): all of the batch or none of it is stored.
    Unknown,
}

/// One line of a [`Report`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The key as written.
    pub key: String,
    /// The location it names, if it names one.
    pub location: Option<Location>,
    /// The username, for an entry that has one.
    pub username: Option<Username>,
    /// What its secret is, for an entry (R24).
    pub kind: Option<CredentialKind>,
    /// A warning for an entry.
    pub warning: Option<Warning>,
    /// What became of it.
    pub outcome: Outcome,
}

impl Line {
    /// The line for an entry.
    pub fn of_entry(entry: &Entry, outcome: Outcome) -> Self {
        Line {
            key: entry.key.clone(),
            location: Some(entry.location.clone()),
            username: Some(entry.credential.username().clone()),
            kind: Some(entry.credential.kind()),
            warning: entry.warning.clone(),
            outcome,
        }
    }

    /// The line for a skipped key.
    pub fn of_skipped(skipped: &Skipped) -> Self {
        Line {
            key: skipped.key.clone(),
            location: skipped.location.clone(),
            username: None,
            kind: None,
            warning: None,
            outcome: Outcome::Skipped(skipped.reason.clone()),
        }
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = self.key.escape_debug();
        let target = match (&self.location, &self.username) {
            (Some(l), Some(u)) => {
                let kind = match self.kind {
                    Some(k) if k != CredentialKind::Password => format!(", {}", k.secret_name()),
                    _ => String::new(),
                };
                format!(" as `{l}`, user `{}`{kind}", u.as_str().escape_debug())
            }
            (Some(l), None) => format!(" (`{l}`)"),
            _ => String::new(),
        };
        match &self.outcome {
            Outcome::Found => write!(f, "found     `{key}`{target}")?,
            Outcome::Imported => write!(f, "imported  `{key}`{target}")?,
            Outcome::Skipped(why) => write!(f, "skipped   `{key}`{target}: {why}")?,
            Outcome::NotCreated => write!(
                f,
                "not done  `{key}`{target}: the import stored nothing, as another key or the store failed"
            )?,
            Outcome::Unknown => write!(
                f,
                "unknown   `{key}`{target}: the store lost the answer, so the whole batch or none of it is stored; list the scope's credentials to see"
            )?,
        }
        if let (Some(Warning::Repository), Some(l)) = (&self.warning, &self.location) {
            write!(
                f,
                "; warning: if `{l}` is a repository, this credential does not serve it, only images below it (R10)"
            )?;
        }
        Ok(())
    }
}

/// One line per key of an import. Its `Display` prints them, one a line;
/// no line holds a password, and keys and usernames are escaped (R21).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The lines, in key order.
    pub lines: Vec<Line>,
}

impl Report {
    /// How many keys were stored.
    pub fn imported(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| l.outcome == Outcome::Imported)
            .count()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut separator = "";
        for line in &self.lines {
            write!(f, "{separator}{line}")?;
            separator = "\n";
        }
        Ok(())
    }
}

/// The location a file's key names, with a warning for a key that may
/// name a repository. `legacy` is for `.dockercfg`, whose keys are hosts.
///
/// ```
/// use registry_credentials_interop::import::{location_of_key, Skip};
/// let loc = |k| location_of_key(k, false).map(|(l, _)| l.to_string());
/// assert_eq!(loc("https://index.docker.io/v1/").unwrap(), "docker.io");
/// assert_eq!(loc("https://registry.example.com/team").unwrap(), "registry.example.com");
/// assert_eq!(loc("quay.io/org").unwrap(), "quay.io/org");
/// assert_eq!(loc("registry-1.docker.io").unwrap(), "docker.io");
/// assert_eq!(location_of_key("*.example.com", false).unwrap_err(), Skip::Wildcard);
/// assert_eq!(location_of_key("quay.io/org", true).unwrap().0.as_str(), "quay.io");
/// ```
///
/// # Errors
///
/// The [`Skip`] for a wildcard, a public suffix (R9) or a key that is no
/// location (R7, R8).
pub fn location_of_key(key: &str, legacy: bool) -> Result<(Location, Option<Warning>), Skip> {
    if key.contains('*') {
        return Err(Skip::Wildcard);
    }
    let stripped = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"));
    let text = match stripped {
        Some(rest) => rest.split('/').next().unwrap_or(rest),
        None if legacy => key.split('/').next().unwrap_or(key),
        None => key,
    };
    let location = Location::parse(text).map_err(|e| match e.kind() {
        LocationErrorKind::PublicSuffix => Skip::PublicSuffix,
        _ => Skip::Location(e),
    })?;
    let warning = location
        .path()
        .is_some_and(|p| p.contains('/'))
        .then_some(Warning::Repository);
    Ok((location, warning))
}

/// A username as R16 has it, checked by [`Username::new`]: no `:`,
/// control, format or separator character and no white space, so that no
/// listing or log line can be forged through one.
///
/// ```
/// use registry_credentials_interop::import::parse_username;
/// assert_eq!(parse_username("robot$team")?.as_str(), "robot$team");
/// assert!(parse_username("a:b").unwrap_err().contains("U+003A"));
/// assert!(parse_username("a\u{202e}b").unwrap_err().contains("format character"));
/// assert!(parse_username("a\u{3000}b").unwrap_err().contains("white space"));
/// # Ok::<(), String>(())
/// ```
///
/// # Errors
///
/// The core's message: what is wrong, with the character written as
/// `U+XXXX`, never raw.
pub fn parse_username(name: &str) -> Result<Username, String> {
    Username::new(name).map_err(|e| e.to_string())
}

/// One `auths` entry as written. Its strings are wiped when it is dropped.
#[derive(Deserialize, Default)]
struct RawEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
    #[serde(default)]
    registrytoken: Option<String>,
}

impl Drop for RawEntry {
    fn drop(&mut self) {
        for s in [
            &mut self.auth,
            &mut self.username,
            &mut self.password,
            &mut self.identitytoken,
            &mut self.registrytoken,
        ]
        .into_iter()
        .flatten()
        {
            s.zeroize();
        }
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// The credential of one entry: a token when it has one (R24), else a
/// username and password.
fn credential_of(raw: &RawEntry) -> Result<Credential, Skip> {
    let token = match (non_empty(&raw.identitytoken), non_empty(&raw.registrytoken)) {
        (Some(token), _) => Some((CredentialKind::IdentityToken, token)),
        (None, Some(token)) => Some((CredentialKind::RegistryToken, token)),
        (None, None) => None,
    };
    if let Some((kind, token)) = token {
        // The account the token was issued to: `auth`'s username (Docker
        // writes `username:` with no password beside an identity token),
        // else `username`, else the protocol's `<token>`.
        let from_auth = match non_empty(&raw.auth) {
            Some(_) => Some(basic_of(raw)?.0),
            None => None,
        };
        let user = from_auth
            .as_deref()
            .map(String::as_str)
            .or(non_empty(&raw.username))
            .unwrap_or(IDENTITY_TOKEN_USERNAME);
        let username = parse_username(user).map_err(Skip::Username)?;
        let secret = Password::try_from(token).map_err(Skip::Password)?;
        return Ok(Credential::from_parts_of_kind(kind, username, secret));
    }
    let (user, password) = basic_of(raw)?;
    let username = parse_username(&user).map_err(Skip::Username)?;
    let password = Password::try_from(password.as_str()).map_err(Skip::Password)?;
    Ok(Credential::from_parts(username, password))
}

/// The username and password of an entry: from `auth`, checked against
/// `username` and `password`, or from those two.
fn basic_of(raw: &RawEntry) -> Result<(Zeroizing<String>, Zeroizing<String>), Skip> {
    let (user, password): (Zeroizing<String>, Zeroizing<String>) = match non_empty(&raw.auth) {
        Some(auth) => {
            // Go's base64 decoder, which the Docker CLI and containers/image
            // read `auth` with, skips line breaks wherever they stand (a
            // value written by `base64` without `-w0`, or ending in `\n`).
            let mut text = Zeroizing::new(String::with_capacity(auth.len()));
            text.extend(auth.chars().filter(|c| !matches!(c, '\r' | '\n')));
            let decoded = Zeroizing::new(
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(text.trim_end_matches('='))
                    .map_err(|_| Skip::Auth("is not base64"))?,
            );
            let text = std::str::from_utf8(&decoded).map_err(|_| Skip::Auth("is not UTF-8"))?;
            let (u, p) = text
                .split_once(':')
                .ok_or(Skip::Auth("has no `:` between username and password"))?;
            // Docker trims NUL bytes from both ends (`strings.Trim`).
            let p = p.trim_matches('\0');
            let (u, p) = (Zeroizing::new(u.to_owned()), Zeroizing::new(p.to_owned()));
            let disagrees = non_empty(&raw.username).is_some_and(|x| x != u.as_str())
                || non_empty(&raw.password).is_some_and(|x| x != p.as_str());
            if disagrees {
                return Err(Skip::Contradiction);
            }
            (u, p)
        }
        None => match (non_empty(&raw.username), non_empty(&raw.password)) {
            (Some(u), Some(p)) => (Zeroizing::new(u.to_owned()), Zeroizing::new(p.to_owned())),
            _ => return Err(Skip::NoSecret),
        },
    };
    Ok((user, password))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    #[serde(default)]
    auths: Option<IgnoredAny>,
    #[serde(default)]
    cred_helpers: Option<IgnoredAny>,
    #[serde(default)]
    creds_store: Option<IgnoredAny>,
    #[serde(default)]
    kind: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawConfig {
    #[serde(default)]
    auths: BTreeMap<String, RawEntry>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Deserialize)]
struct RawSecret {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    data: BTreeMap<String, String>,
}

/// Reads any form this module knows, telling them apart by their shape: a
/// Kubernetes `Secret`, an `auths` document (with or without
/// `credHelpers`/`credsStore`), else a legacy `.dockercfg`.
///
/// ```
/// use registry_credentials_interop::import::{read, Form, Skip};
/// let file = br#"{
///   "auths": {
///     "https://index.docker.io/v1/": {"auth": "aHViLXVzZXI6aHViLXBhc3N3b3Jk"},
///     "quay.io/org": {"username": "robot", "password": "pw"},
///     "ghcr.io": {}
///   },
///   "credHelpers": {"123456789.dkr.ecr.us-east-1.amazonaws.com": "ecr-login"},
///   "credsStore": "desktop"
/// }"#;
/// let import = read(file)?;
/// assert_eq!(import.form, Form::Auths);
/// let locations: Vec<&str> = import.entries.iter().map(|e| e.location.as_str()).collect();
/// assert_eq!(locations, ["docker.io", "quay.io/org"]);
/// assert!(matches!(import.skipped[0].reason, Skip::Helper { .. }));
/// assert!(matches!(import.skipped[1].reason, Skip::Store { .. }));
/// println!("{}", import.report());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`ReadError`] when the bytes are not JSON of any of these forms.
pub fn read(bytes: &[u8]) -> Result<Import, ReadError> {
    let probe: Probe = json::from_slice(bytes).map_err(json_error)?;
    if probe.kind.as_ref().and_then(|k| k.as_str()) == Some("Secret") {
        return read_kubernetes_secret(bytes);
    }
    if probe.auths.is_some() || probe.cred_helpers.is_some() || probe.creds_store.is_some() {
        read_auths(bytes)
    } else {
        read_dockercfg(bytes)
    }
}

/// Reads an `auths` document: Docker's `config.json` or containers'
/// `auth.json`.
///
/// # Errors
///
/// [`ReadError::Json`] when it is not one.
pub fn read_auths(bytes: &[u8]) -> Result<Import, ReadError> {
    let raw: RawConfig = json::from_slice(bytes).map_err(json_error)?;
    Ok(collect(
        Form::Auths,
        &raw.auths,
        &raw.cred_helpers,
        raw.creds_store.as_deref(),
        false,
    ))
}

/// Reads a legacy `.dockercfg`: entries at the top level, keys are hosts.
///
/// # Errors
///
/// [`ReadError::Json`] when it is not one.
pub fn read_dockercfg(bytes: &[u8]) -> Result<Import, ReadError> {
    let raw: BTreeMap<String, RawEntry> = json::from_slice(bytes).map_err(json_error)?;
    Ok(collect(Form::DockerCfg, &raw, &BTreeMap::new(), None, true))
}

/// Reads a Kubernetes secret, as JSON (`kubectl get secret -o json`), of
/// type `kubernetes.io/dockerconfigjson` (`data[".dockerconfigjson"]`) or
/// `kubernetes.io/dockercfg` (`data[".dockercfg"]`).
///
/// # Errors
///
/// [`ReadError`] for another type, missing or undecodable data.
pub fn read_kubernetes_secret(bytes: &[u8]) -> Result<Import, ReadError> {
    let secret: RawSecret = json::from_slice(bytes).map_err(json_error)?;
    let (field, form) = match secret.kind.as_str() {
        "kubernetes.io/dockerconfigjson" => (".dockerconfigjson", Form::KubernetesDockerConfigJson),
        "kubernetes.io/dockercfg" => (".dockercfg", Form::KubernetesDockerCfg),
        other => {
            return Err(ReadError::Secret(format!(
                "its type is `{}`, not `kubernetes.io/dockerconfigjson` or `kubernetes.io/dockercfg`",
                other.escape_debug()
            )));
        }
    };
    let data = secret
        .data
        .get(field)
        .ok_or_else(|| ReadError::Secret(format!("it has no `data[\"{field}\"]`")))?;
    let decoded = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|_| ReadError::SecretData)?,
    );
    let mut import = match form {
        Form::KubernetesDockerConfigJson => read_auths(&decoded)?,
        _ => read_dockercfg(&decoded)?,
    };
    import.form = form;
    Ok(import)
}

/// `key` with any user info (`user:password@`) replaced, so no report or
/// `Debug` repeats it. Such a key is refused anyway (R8).
pub(crate) fn shown_key(key: &str) -> String {
    match key.rfind('@') {
        Some(at) => {
            let scheme = key.find("://").map_or(0, |i| i + 3).min(at);
            format!("{}<redacted>{}", &key[..scheme], &key[at..])
        }
        None => key.to_owned(),
    }
}

fn collect(
    form: Form,
    auths: &BTreeMap<String, RawEntry>,
    helpers: &BTreeMap<String, String>,
    store: Option<&str>,
    legacy: bool,
) -> Import {
    let mut entries: Vec<Entry> = Vec::new();
    let mut skipped = Vec::new();
    // The first helper key for each location.
    let mut helper_locations: HashMap<Location, &String> = HashMap::new();
    for (k, h) in helpers {
        if let Ok((l, _)) = location_of_key(k, true) {
            helper_locations.entry(l).or_insert(h);
        }
    }
    for (key, helper) in helpers {
        skipped.push(Skipped {
            key: shown_key(key),
            location: location_of_key(key, true).ok().map(|(l, _)| l),
            reason: Skip::Helper {
                helper: helper.clone(),
            },
        });
    }
    for (written, raw) in auths {
        let key = &shown_key(written);
        let (location, warning) = match location_of_key(written, legacy) {
            Ok(found) => found,
            Err(reason) => {
                skipped.push(Skipped {
                    key: key.clone(),
                    location: None,
                    reason,
                });
                continue;
            }
        };
        let skip = |reason| Skipped {
            key: key.clone(),
            location: Some(location.clone()),
            reason,
        };
        if let Some(helper) = helper_locations.get(&location) {
            skipped.push(skip(Skip::ShadowedByHelper {
                helper: (*helper).clone(),
            }));
            continue;
        }
        match credential_of(raw) {
            Ok(credential) => entries.push(Entry {
                key: key.clone(),
                location,
                credential,
                warning,
            }),
            Err(Skip::NoSecret) if store.is_some() => skipped.push(skip(Skip::Store {
                store: store.unwrap_or_default().to_owned(),
            })),
            Err(reason) => skipped.push(skip(reason)),
        }
    }
    // Two keys for one location (`https://index.docker.io/v1/` and
    // `docker.io`): the same credential is imported once; different ones
    // are both refused, since neither tool agrees which wins. Each entry
    // finds the first key of its location in a hash map: one look-up per
    // entry, however many there are.
    let mut kept: Vec<(Entry, bool)> = Vec::with_capacity(entries.len());
    let mut first_of: HashMap<Location, usize> = HashMap::with_capacity(entries.len());
    for entry in entries {
        let Some(&i) = first_of.get(&entry.location) else {
            first_of.insert(entry.location.clone(), kept.len());
            kept.push((entry, false));
            continue;
        };
        let (first, refused) = &mut kept[i];
        if first.credential == entry.credential {
            skipped.push(Skipped {
                key: entry.key.clone(),
                location: Some(entry.location.clone()),
                reason: Skip::SameAs {
                    other: first.key.clone(),
                },
            });
            continue;
        }
        skipped.push(Skipped {
            key: entry.key.clone(),
            location: Some(entry.location.clone()),
            reason: Skip::Duplicate {
                other: first.key.clone(),
            },
        });
        if !*refused {
            *refused = true;
            skipped.push(Skipped {
                key: first.key.clone(),
                location: Some(first.location.clone()),
                reason: Skip::Duplicate {
                    other: entry.key.clone(),
                },
            });
        }
    }
    let entries = kept
        .into_iter()
        .filter(|(_, refused)| !refused)
        .map(|(e, _)| e)
        .collect();
    skipped.sort_by(|a: &Skipped, b| a.key.cmp(&b.key));
    Import {
        form,
        entries,
        skipped,
    }
}
