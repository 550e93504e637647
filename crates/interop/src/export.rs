//! A resolution in the forms pullers read: Docker's `config.json`,
//! containers' `auth.json`, the Docker Engine API's `X-Registry-Auth`, and
//! the kubelet's credential provider response.
//!
//! Every type here holds a password. None has `Display` or serde; each
//! `Debug` prints the key and the username and leaves the password out.
//! The secret leaves only through an explicit call: `to_json_bytes` (or
//! `header_value`), which returns a buffer wiped when dropped, or
//! `write_to`, which writes that buffer and wipes it. A credentials file
//! goes to disk with [`AuthFile::write_to_path`]: readable by its owner
//! alone (mode `0600`), and whole or not at all.
//!
//! Each is made from the image and the [`Resolution`] for it, and refuses
//! a resolution whose location does not serve the image
//! ([`ExportError::NotServing`]): a credential is never handed to a
//! registry it was not stored for.

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use registry_credentials::candidates::CandidateKind;
use registry_credentials::{
    Credential, CredentialKind, Location, Reference, RegistryCredential, Resolution, Username,
};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use zeroize::Zeroizing;

use crate::DOCKER_HUB_KEY;

/// Why a resolution cannot be exported for an image. No message holds a
/// password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The resolution's location is not a candidate of the image (R10–R12):
    /// it was resolved for another image.
    #[error(
        "the credential for `{location}` does not serve the image `{}`; export the resolution made for that image",
        image.escape_debug()
    )]
    NotServing {
        /// The image, as written.
        image: String,
        /// The resolution's location.
        location: Location,
    },
    /// The format cannot carry the credential's kind (R24): kubelet takes
    /// only a username and password.
    #[error(
        "the credential for `{location}` is a {}, which {format} cannot carry; resolve passing over that kind (see kubelet_carries)",
        kind.secret_name()
    )]
    NotCarried {
        /// The format.
        format: &'static str,
        /// The credential's kind.
        kind: CredentialKind,
        /// The resolution's location.
        location: Location,
    },
}

fn check_serves(image: &Reference, resolution: &Resolution) -> Result<(), ExportError> {
    if resolution.location().serves(image) {
        Ok(())
    } else {
        Err(ExportError::NotServing {
            image: image.as_str().to_owned(),
            location: resolution.location().clone(),
        })
    }
}

/// Serializes `value` into a buffer wiped on drop. The buffer is sized up
/// front for the worst case (every byte of `text_len` escaped as `\uXXXX`)
/// plus `overhead`, so it never grows: growing would free a copy of the
/// secret without wiping it.
fn secret_json(value: &impl Serialize, text_len: usize, overhead: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(6 * text_len + overhead));
    serde_json::to_writer(&mut *out, value).expect("serializing strings into memory cannot fail");
    out
}

/// `base64(username:password)` in a buffer wiped on drop, sized up front.
fn basic_auth(credential: &Credential) -> Zeroizing<String> {
    basic_auth_of(credential.username(), credential.password().expose())
}

/// `base64(user:password)` in a buffer wiped on drop, sized up front.
fn basic_auth_of(user: &Username, password: &str) -> Zeroizing<String> {
    let user = user.as_str();
    let mut plain = Zeroizing::new(String::with_capacity(user.len() + 1 + password.len()));
    plain.push_str(user);
    plain.push(':');
    plain.push_str(password);
    let len = base64::encoded_len(plain.len(), true).expect("a credential is short");
    let mut encoded = Zeroizing::new(String::with_capacity(len));
    base64::engine::general_purpose::STANDARD.encode_string(plain.as_bytes(), &mut encoded);
    encoded
}

/// The fields of Docker's `AuthConfig` (as the Engine API and
/// `config.json` name them); those that are `None` are left out.
#[derive(Serialize, Default)]
struct AuthConfig<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identitytoken: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registrytoken: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    serveraddress: Option<&'a str>,
}

impl<'a> AuthConfig<'a> {
    /// The token field of `credential`'s kind (R24), if it is a token.
    fn tokens(credential: &'a Credential) -> Self {
        let secret = credential.password().expose();
        let kind = credential.kind();
        AuthConfig {
            identitytoken: (kind == CredentialKind::IdentityToken).then_some(secret),
            registrytoken: (kind == CredentialKind::RegistryToken).then_some(secret),
            ..AuthConfig::default()
        }
    }
}

/// A one-entry JSON object `{key: value}`.
struct One<'a, V>(&'a str, V);

impl<V: Serialize> Serialize for One<'_, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(self.0, &self.1)?;
        m.end()
    }
}

/// Which file an [`AuthFile`] is written for; they differ in their keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthFileForm {
    /// Docker's `~/.docker/config.json`: the key is the registry,
    /// `https://index.docker.io/v1/` for Docker Hub (what the Docker CLI
    /// writes and every tool reads), else `host[:port]`.
    Docker,
    /// containers' `auth.json` (skopeo, podman, buildah, CRI-O): the key is
    /// the matched location, namespace and all, since containers/image
    /// looks keys up namespace by namespace as R10 does. A parent domain
    /// (R11), which containers/image never looks up, becomes the image's
    /// registry.
    Containers,
}

/// A credentials file with one entry: `{"auths": {KEY: {"auth":
/// base64("user:password")}}}`, for the one image it was made for.
///
/// ```
/// use registry_credentials::{resolve, App, Credential, CredentialStore, MemoryStore, Reference, RegistryCredential, Scope};
/// use registry_credentials_interop::export::AuthFile;
///
/// let store = MemoryStore::new();
/// store.create(RegistryCredential::new(
///     Scope::Foundation,
///     "docker.io".parse()?,
///     Credential::new("hub-user", "hub-password")?,
/// ))?;
/// let app = App::new("o", "s", "a")?;
/// let image: Reference = "nginx".parse()?;
/// let chosen = resolve(&store, &app, &image)?.unwrap();
/// assert_eq!(AuthFile::docker(&image, &chosen)?.key(), "https://index.docker.io/v1/");
/// assert_eq!(AuthFile::containers(&image, &chosen)?.key(), "docker.io");
///
/// let mut file = Vec::new();
/// AuthFile::docker(&image, &chosen)?.write_to(&mut file)?;
/// let doc: serde_json::Value = serde_json::from_slice(&file)?;
/// // "hub-user:hub-password"
/// assert_eq!(doc["auths"]["https://index.docker.io/v1/"]["auth"], "aHViLXVzZXI6aHViLXBhc3N3b3Jk");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct AuthFile {
    form: AuthFileForm,
    key: String,
    credential: Credential,
}

impl AuthFile {
    /// The `config.json` form ([`AuthFileForm::Docker`]) of `resolution`,
    /// for pulling `image`.
    ///
    /// # Errors
    ///
    /// [`ExportError::NotServing`] when the resolution was made for another
    /// image.
    pub fn docker(image: &Reference, resolution: &Resolution) -> Result<Self, ExportError> {
        Self::new(AuthFileForm::Docker, image, resolution)
    }

    /// The `auth.json` form ([`AuthFileForm::Containers`]) of `resolution`,
    /// for pulling `image`.
    ///
    /// # Errors
    ///
    /// [`ExportError::NotServing`] when the resolution was made for another
    /// image.
    pub fn containers(image: &Reference, resolution: &Resolution) -> Result<Self, ExportError> {
        Self::new(AuthFileForm::Containers, image, resolution)
    }

    /// The `form` of `resolution`, for pulling `image`.
    ///
    /// # Errors
    ///
    /// [`ExportError::NotServing`] when the resolution was made for another
    /// image.
    pub fn new(
        form: AuthFileForm,
        image: &Reference,
        resolution: &Resolution,
    ) -> Result<Self, ExportError> {
        check_serves(image, resolution)?;
        let key = match form {
            AuthFileForm::Docker => docker_key(image).to_owned(),
            AuthFileForm::Containers => match resolution.candidate_kind() {
                CandidateKind::ParentDomain => image.registry().to_owned(),
                _ => resolution.location().as_str().to_owned(),
            },
        };
        Ok(AuthFile {
            form,
            key,
            credential: resolution.credential().clone(),
        })
    }

    /// The form.
    pub fn form(&self) -> AuthFileForm {
        self.form
    }

    /// The entry's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The username.
    pub fn username(&self) -> &Username {
        self.credential.username()
    }

    /// The document, in a buffer wiped when dropped. A password is
    /// `auth`; an identity token is `identitytoken` beside an `auth` of the
    /// username and an empty password, as the Docker CLI writes it; a
    /// registry token is `registrytoken` alone (R24).
    pub fn to_json_bytes(&self) -> Zeroizing<Vec<u8>> {
        let secret = self.credential.password().expose();
        let auth = match self.credential.kind() {
            CredentialKind::RegistryToken => None,
            CredentialKind::IdentityToken => Some(basic_auth_of(self.credential.username(), "")),
            _ => Some(basic_auth(&self.credential)),
        };
        let entry = AuthConfig {
            auth: auth.as_deref().map(String::as_str),
            ..AuthConfig::tokens(&self.credential)
        };
        let doc = One("auths", One(&self.key, entry));
        let len = self.key.len() + auth.as_ref().map_or(0, |a| a.len()) + secret.len();
        secret_json(&doc, len, 96)
    }

    /// Writes the document to `out`.
    ///
    /// # Errors
    ///
    /// Whatever `out` fails with.
    pub fn write_to(&self, mut out: impl Write) -> io::Result<()> {
        out.write_all(&self.to_json_bytes())
    }

    /// Writes the document to the file at `path` (a `config.json` or an
    /// `auth.json`), readable by its owner alone, so that no reader ever
    /// sees half of it:
    ///
    /// - the document goes to a new file in the same directory, created
    ///   with mode `0600` on Unix (and set to it, whatever the umask), and
    ///   is synced to disk;
    /// - that file is renamed over `path`, which then holds the whole new
    ///   document, and the directory is synced.
    ///
    /// A file already at `path` is replaced only when it is a regular file:
    /// a symlink, a FIFO, a directory or a device there is refused and left
    /// as it is (writing through a symlink could put the password where the
    /// link points). Elsewhere than on Unix the new file gets the
    /// platform's default permissions.
    ///
    /// ```
    /// use registry_credentials::{resolve, App, Credential, CredentialStore, MemoryStore, RegistryCredential, Scope};
    /// use registry_credentials_interop::export::AuthFile;
    ///
    /// let store = MemoryStore::new();
    /// store.create(RegistryCredential::new(
    ///     Scope::Foundation,
    ///     "docker.io".parse()?,
    ///     Credential::new("hub-user", "hub-password")?,
    /// ))?;
    /// let image = "nginx".parse()?;
    /// let chosen = resolve(&store, &App::new("o", "s", "a")?, &image)?.unwrap();
    /// # let dir = std::env::temp_dir().join(format!("rc-write-to-path-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("config.json");
    /// AuthFile::docker(&image, &chosen)?.write_to_path(&path)?;
    /// #[cfg(unix)]
    /// {
    ///     use std::os::unix::fs::PermissionsExt;
    ///     assert_eq!(std::fs::metadata(&path)?.permissions().mode() & 0o777, 0o600);
    /// }
    /// let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&path)?)?;
    /// assert!(doc["auths"]["https://index.docker.io/v1/"]["auth"].is_string());
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`WriteFileError::NotARegularFile`] when something other than a
    /// regular file is at `path`; [`WriteFileError::Io`] when a step
    /// fails. Either way `path` is as it was, and no temporary file is
    /// left behind.
    pub fn write_to_path(&self, path: impl AsRef<Path>) -> Result<(), WriteFileError> {
        write_private_file(path.as_ref(), &self.to_json_bytes())
    }
}

/// Why [`AuthFile::write_to_path`] did not write the file. The messages
/// name the path (escaped) and never the document.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteFileError {
    /// Something other than a regular file is at the path: a symlink, a
    /// FIFO, a directory or a device. It was left as it is.
    #[error(
        "`{}` is not a regular file (a symlink, a FIFO or a directory); remove it or choose another path",
        path.display().to_string().escape_debug()
    )]
    NotARegularFile {
        /// The path given.
        path: PathBuf,
    },
    /// Inspecting the path, or creating, writing, syncing or renaming a
    /// file, failed.
    #[error(
        "could not {step} `{}`; check that the directory exists and is writable",
        path.display().to_string().escape_debug()
    )]
    Io {
        /// What was being done: `inspect`, `create`, `write`, `sync` or
        /// `rename to`.
        step: &'static str,
        /// The file it was done to.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: io::Error,
    },
}

/// `contents` into a file at `path` readable by its owner alone, through a
/// temporary file in the same directory and a rename (see
/// [`AuthFile::write_to_path`]).
fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), WriteFileError> {
    let io = |step: &'static str, path: &Path| {
        let path = path.to_owned();
        move |source| WriteFileError::Io { step, path, source }
    };
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_file() => {}
        Ok(_) => {
            return Err(WriteFileError::NotARegularFile {
                path: path.to_owned(),
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("inspect", path)(e)),
    }
    let (temp, mut file) = create_temp(path)?;
    let written = file
        .write_all(contents)
        .map_err(io("write", &temp))
        .and_then(|()| file.sync_all().map_err(io("sync", &temp)))
        .and_then(|()| {
            drop(file);
            std::fs::rename(&temp, path).map_err(io("rename to", path))
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    // The rename itself reaches the disk when the directory is synced.
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io("sync", dir))?;
    }
    Ok(())
}

/// A new file beside `path`, named after it, mode `0600` on Unix.
fn create_temp(path: &Path) -> Result<(PathBuf, std::fs::File), WriteFileError> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| WriteFileError::Io {
        step: "create",
        path: path.to_owned(),
        source: io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"),
    })?;
    loop {
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(
            ".{}.{}.tmp",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let temp = path.with_file_name(temp_name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&temp) {
            Ok(file) => {
                // The umask may have taken bits away, never added them;
                // set the mode exactly all the same.
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    if let Err(e) = file.set_permissions(std::fs::Permissions::from_mode(0o600)) {
                        let _ = std::fs::remove_file(&temp);
                        return Err(WriteFileError::Io {
                            step: "create",
                            path: temp,
                            source: e,
                        });
                    }
                }
                return Ok((temp, file));
            }
            // Left by another writer: try the next name.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => {
                return Err(WriteFileError::Io {
                    step: "create",
                    path: temp,
                    source,
                });
            }
        }
    }
}

/// Redacted: the key and the username, never the password.
impl fmt::Debug for AuthFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthFile")
            .field("form", &self.form)
            .field("key", &self.key)
            .field("username", &self.credential.username())
            .field("password", &format_args!("<redacted>"))
            .finish()
    }
}

/// The key Docker looks `image` up under: [`DOCKER_HUB_KEY`] for Docker
/// Hub, else `host[:port]`.
fn docker_key(image: &Reference) -> &str {
    if image.is_docker_hub() {
        DOCKER_HUB_KEY
    } else {
        image.registry()
    }
}

/// The Docker Engine API's `X-Registry-Auth` header for pulling `image`
/// (`POST /images/create`): base64url of `{"username", "password",
/// "serveraddress"}`, with `serveraddress` the key Docker itself uses
/// (`https://index.docker.io/v1/` for Docker Hub, else `host[:port]`).
///
/// ```
/// use base64::Engine as _;
/// use registry_credentials::{resolve, App, Credential, CredentialStore, MemoryStore, Reference, RegistryCredential, Scope};
/// use registry_credentials_interop::export::RegistryAuthHeader;
///
/// let store = MemoryStore::new();
/// store.create(RegistryCredential::new(
///     Scope::Foundation,
///     "example.com".parse()?,
///     Credential::new("me", "pw")?,
/// ))?;
/// // A parent domain's credential: the header names the image's registry.
/// let image: Reference = "registry.example.com/team/app".parse()?;
/// let chosen = resolve(&store, &App::new("o", "s", "a")?, &image)?.unwrap();
/// let header = RegistryAuthHeader::new(&image, &chosen)?;
/// let json = base64::engine::general_purpose::URL_SAFE.decode(&*header.header_value())?;
/// assert_eq!(json, br#"{"username":"me","password":"pw","serveraddress":"registry.example.com"}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct RegistryAuthHeader {
    server_address: String,
    credential: Credential,
}

impl RegistryAuthHeader {
    /// The header for pulling `image` with `resolution`.
    ///
    /// # Errors
    ///
    /// [`ExportError::NotServing`] when the resolution was made for another
    /// image.
    pub fn new(image: &Reference, resolution: &Resolution) -> Result<Self, ExportError> {
        check_serves(image, resolution)?;
        Ok(RegistryAuthHeader {
            server_address: docker_key(image).to_owned(),
            credential: resolution.credential().clone(),
        })
    }

    /// The header's name.
    pub const NAME: &'static str = "X-Registry-Auth";

    /// `serveraddress`.
    pub fn server_address(&self) -> &str {
        &self.server_address
    }

    /// The header's value (base64url, padded, as Go's `URLEncoding` writes
    /// it), in a buffer wiped when dropped.
    ///
    /// A password is `username` and `password`; an identity token is
    /// `identitytoken` and a registry token `registrytoken`, the fields of
    /// the Engine's `AuthConfig` (R24).
    pub fn header_value(&self) -> Zeroizing<String> {
        let username = self.credential.username().as_str();
        let secret = self.credential.password().expose();
        let password = self.credential.kind() == CredentialKind::Password;
        let json = secret_json(
            &AuthConfig {
                username: password.then_some(username),
                password: password.then_some(secret),
                serveraddress: Some(&self.server_address),
                ..AuthConfig::tokens(&self.credential)
            },
            username.len() + secret.len() + self.server_address.len(),
            64,
        );
        let len = base64::encoded_len(json.len(), true).expect("a credential is short");
        let mut out = Zeroizing::new(String::with_capacity(len));
        base64::engine::general_purpose::URL_SAFE.encode_string(&*json, &mut out);
        out
    }
}

/// Redacted: the server address and the username, never the password.
impl fmt::Debug for RegistryAuthHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryAuthHeader")
            .field("server_address", &self.server_address)
            .field("username", &self.credential.username())
            .field("password", &format_args!("<redacted>"))
            .finish()
    }
}

/// Whether a kubelet credential provider response can carry `credential`
/// (R24): kubelet's `AuthConfig` has a username and password alone, so
/// only a password credential; a provider passes over the token kinds as
/// if absent (`registry_credentials::resolve::first_live` with this).
pub fn kubelet_carries(credential: &RegistryCredential) -> bool {
    credential.kind() == CredentialKind::Password
}

/// The kubelet's credential provider API version this module speaks.
pub const KUBELET_API_VERSION: &str = "credentialprovider.kubelet.k8s.io/v1";

/// A kubelet credential provider plugin's answer for one image
/// (`credentialprovider.kubelet.k8s.io/v1`, `CredentialProviderResponse`),
/// so that kubelet pulls with exactly the credential resolution chose.
///
/// - `auth` has one key, the image's repository name (`docker.io/library/nginx`):
///   kubelet matches keys as path prefixes, so the key serves this
///   repository alone, not the namespace the credential was stored under;
///   it has no entry when nothing matched (R15).
/// - `cacheKeyType` is `Image`: credentials can be path-specific, so a
///   `Registry` or `Global` key would let kubelet reuse one image's answer
///   for another.
/// - `cacheDuration` is `0s` unless [`with_cache_duration`](Self::with_cache_duration)
///   says otherwise: `0s` tells kubelet not to cache the answer at all (not
///   even for the provider's `defaultCacheDuration`), so an update or delete
///   takes effect on the next pull (R17).
/// - No other field: kubelet decodes the response strictly and drops an
///   answer with a field it does not know.
///
/// ```
/// use registry_credentials::{resolve, App, Credential, CredentialStore, MemoryStore, Reference, RegistryCredential, Scope};
/// use registry_credentials_interop::export::CredentialProviderResponse;
///
/// let store = MemoryStore::new();
/// store.create(RegistryCredential::new(
///     Scope::Foundation,
///     "docker.io/library".parse()?,
///     Credential::new("me", "pw")?,
/// ))?;
/// let image: Reference = "nginx:1.27".parse()?;
/// let chosen = resolve(&store, &App::new("o", "s", "a")?, &image)?;
/// let response = CredentialProviderResponse::new(&image, chosen.as_ref())?;
/// let doc: serde_json::Value = serde_json::from_slice(&response.to_json_bytes())?;
/// assert_eq!(doc["kind"], "CredentialProviderResponse");
/// assert_eq!(doc["cacheKeyType"], "Image");
/// assert_eq!(doc["cacheDuration"], "0s");
/// assert_eq!(doc["auth"]["docker.io/library/nginx"]["username"], "me");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct CredentialProviderResponse {
    key: String,
    credential: Option<Credential>,
    cache_duration: std::time::Duration,
}

impl CredentialProviderResponse {
    /// The response for `image`, with the credential of `resolution`, or
    /// none when nothing matched (R15).
    ///
    /// # Errors
    ///
    /// [`ExportError::NotServing`] when the resolution was made for another
    /// image.
    ///
    /// [`ExportError::NotCarried`] when the credential is a token (R24):
    /// kubelet takes a username and password alone, so a provider resolves
    /// passing over the other kinds ([`kubelet_carries`]).
    pub fn new(image: &Reference, resolution: Option<&Resolution>) -> Result<Self, ExportError> {
        if let Some(r) = resolution {
            check_serves(image, r)?;
            if !kubelet_carries(r.stored()) {
                return Err(ExportError::NotCarried {
                    format: "a kubelet credential provider response",
                    kind: r.stored().kind(),
                    location: r.location().clone(),
                });
            }
        }
        Ok(CredentialProviderResponse {
            key: image.name().to_owned(),
            credential: resolution.map(|r| r.credential().clone()),
            cache_duration: std::time::Duration::ZERO,
        })
    }

    /// The response with `cacheDuration` set to `duration`: how long
    /// kubelet may reuse the answer for this image. Anything but zero lets
    /// a pull within it miss a change to the credentials (R17); whole
    /// seconds and their fraction are written as Go's `time.ParseDuration`
    /// reads them (`90s`, `1.5s`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use registry_credentials_interop::export::CredentialProviderResponse;
    /// let response = CredentialProviderResponse::new(&"nginx".parse()?, None)?
    ///     .with_cache_duration(Duration::from_secs(300));
    /// let doc: serde_json::Value = serde_json::from_slice(&response.to_json_bytes())?;
    /// assert_eq!(doc["cacheDuration"], "300s");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_cache_duration(mut self, duration: std::time::Duration) -> Self {
        self.cache_duration = duration;
        self
    }

    /// `cacheDuration`.
    pub fn cache_duration(&self) -> std::time::Duration {
        self.cache_duration
    }

    /// The `auth` key: the image's repository name.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The username, when a credential matched.
    pub fn username(&self) -> Option<&Username> {
        self.credential.as_ref().map(|c| c.username())
    }

    /// The response, in a buffer wiped when dropped.
    pub fn to_json_bytes(&self) -> Zeroizing<Vec<u8>> {
        #[derive(Serialize)]
        struct Auth<'a> {
            username: &'a str,
            password: &'a str,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Response<'a> {
            api_version: &'static str,
            kind: &'static str,
            cache_key_type: &'static str,
            cache_duration: &'a str,
            // Left out when nothing matched, as kubelet's own encoding
            // (`omitempty`) leaves an empty `auth` out.
            #[serde(skip_serializing_if = "Option::is_none")]
            auth: Option<One<'a, Auth<'a>>>,
        }
        let auth = self.credential.as_ref().map(|c| {
            One(
                &self.key,
                Auth {
                    username: c.username().as_str(),
                    password: c.password().expose(),
                },
            )
        });
        let len = self.key.len()
            + self.credential.as_ref().map_or(0, |c| {
                c.username().as_str().len() + c.password().expose().len()
            });
        let cache_duration = go_duration(self.cache_duration);
        let doc = Response {
            api_version: KUBELET_API_VERSION,
            kind: "CredentialProviderResponse",
            cache_key_type: "Image",
            cache_duration: &cache_duration,
            auth,
        };
        secret_json(&doc, len, 256)
    }

    /// Writes the response to `out` (a plugin's standard output).
    ///
    /// # Errors
    ///
    /// Whatever `out` fails with.
    pub fn write_to(&self, mut out: impl Write) -> io::Result<()> {
        out.write_all(&self.to_json_bytes())
    }
}

/// `duration` as Go's `time.ParseDuration` reads it: seconds, with the
/// fraction when there is one (`0s`, `300s`, `1.5s`).
fn go_duration(duration: std::time::Duration) -> String {
    let (secs, nanos) = (duration.as_secs(), duration.subsec_nanos());
    if nanos == 0 {
        format!("{secs}s")
    } else {
        let fraction = format!("{nanos:09}");
        format!("{secs}.{}s", fraction.trim_end_matches('0'))
    }
}

/// Redacted: the key and the username, never the password.
impl fmt::Debug for CredentialProviderResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialProviderResponse")
            .field("key", &self.key)
            .field("username", &self.username())
            .field("cache_duration", &self.cache_duration)
            .field(
                "password",
                &format_args!(
                    "{}",
                    if self.credential.is_some() {
                        "<redacted>"
                    } else {
                        "None"
                    }
                ),
            )
            .finish()
    }
}

/// Why a kubelet `CredentialProviderRequest` was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// Not JSON of the request's shape.
    #[error("the request is not a CredentialProviderRequest")]
    Json(#[source] serde_json::Error),
    /// An object of the request holds the same key twice; only the key's
    /// place is kept, never its value.
    #[error(
        "the request has the key {path} twice in one object (line {line}, column {column}); send each key once"
    )]
    DuplicateKey {
        /// The path from the request's root to the key, quoted and
        /// escaped: `"image"`.
        path: String,
        /// The line of the second one, from 1.
        line: usize,
        /// The column just after it, from 1.
        column: usize,
    },
    /// Another API version or kind than this module speaks.
    #[error(
        "the request is `{}` `{}`; this plugin answers `{KUBELET_API_VERSION}` `CredentialProviderRequest`",
        api_version.escape_debug(),
        kind.escape_debug()
    )]
    Version {
        /// `apiVersion`, as sent.
        api_version: String,
        /// `kind`, as sent.
        kind: String,
    },
    /// The image is not a valid reference (R1–R6).
    #[error("the request's image is not a valid reference")]
    Image(#[source] registry_credentials::ReferenceError),
    /// `serviceAccountToken` is there but empty: kubelet omits the field
    /// when it has no token.
    #[error(
        "the request's serviceAccountToken is empty: send a token, or leave the field out for a request without one"
    )]
    EmptyToken,
}

/// A kubelet `CredentialProviderRequest` (what kubelet writes to a
/// plugin's standard input): the image, and with KEP-4412 (kubelet's
/// `tokenAttributes`) the pod's service-account token and the service
/// account's annotations that kubelet was told to pass.
///
/// The token is a secret: it is kept in a buffer wiped when dropped and
/// left out of `Debug`. A field kubelet may add later is ignored; a key
/// twice, another `apiVersion` or `kind`, an invalid image or an empty
/// token (kubelet omits an absent one) are refused.
///
/// ```
/// use registry_credentials_interop::export::CredentialProviderRequest;
/// let request = CredentialProviderRequest::from_json(br#"{
///     "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
///     "kind": "CredentialProviderRequest",
///     "image": "registry.example.com/team/app:1",
///     "serviceAccountToken": "eyJhbGciOi...",
///     "serviceAccountAnnotations": {"example.com/app": "web"}
/// }"#)?;
/// assert_eq!(request.image().name(), "registry.example.com/team/app");
/// assert!(request.service_account_token().is_some());
/// assert_eq!(request.service_account_annotations()["example.com/app"], "web");
/// assert!(!format!("{request:?}").contains("eyJ"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct CredentialProviderRequest {
    image: Reference,
    service_account_token: Option<Zeroizing<String>>,
    service_account_annotations: std::collections::BTreeMap<String, String>,
}

impl CredentialProviderRequest {
    /// Reads a request.
    ///
    /// # Errors
    ///
    /// [`RequestError`] for anything but a v1 request with a valid image
    /// and, when it has one, a non-empty token.
    pub fn from_json(request: &[u8]) -> Result<Self, RequestError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Request {
            api_version: String,
            kind: String,
            image: String,
            #[serde(default)]
            service_account_token: Option<String>,
            #[serde(default)]
            service_account_annotations: Option<std::collections::BTreeMap<String, String>>,
        }
        let r: Request = crate::json::from_slice(request).map_err(|e| match e {
            crate::json::JsonFault::Serde(e) => RequestError::Json(e),
            crate::json::JsonFault::DuplicateKey { path, line, column } => {
                RequestError::DuplicateKey { path, line, column }
            }
        })?;
        let token = r.service_account_token.map(Zeroizing::new);
        if r.api_version != KUBELET_API_VERSION || r.kind != "CredentialProviderRequest" {
            return Err(RequestError::Version {
                api_version: r.api_version,
                kind: r.kind,
            });
        }
        if token.as_ref().is_some_and(|t| t.is_empty()) {
            return Err(RequestError::EmptyToken);
        }
        Ok(CredentialProviderRequest {
            image: r.image.parse().map_err(RequestError::Image)?,
            service_account_token: token,
            service_account_annotations: r.service_account_annotations.unwrap_or_default(),
        })
    }

    /// The image to pull.
    pub fn image(&self) -> &Reference {
        &self.image
    }

    /// `serviceAccountToken`: the pod's service-account token, when
    /// kubelet sent one. Check it before believing any of it.
    pub fn service_account_token(&self) -> Option<&str> {
        self.service_account_token.as_deref().map(String::as_str)
    }

    /// `serviceAccountAnnotations`: the annotations of the pod's service
    /// account that kubelet passes (empty when none).
    pub fn service_account_annotations(&self) -> &std::collections::BTreeMap<String, String> {
        &self.service_account_annotations
    }
}

/// Redacted: the image and the annotations, never the token.
impl fmt::Debug for CredentialProviderRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialProviderRequest")
            .field("image", &self.image.as_str())
            .field(
                "service_account_token",
                &format_args!(
                    "{}",
                    if self.service_account_token.is_some() {
                        "<redacted>"
                    } else {
                        "None"
                    }
                ),
            )
            .field(
                "service_account_annotations",
                &self.service_account_annotations,
            )
            .finish()
    }
}

/// The image of a kubelet `CredentialProviderRequest`: what
/// [`CredentialProviderRequest::from_json`] reads, without the rest.
///
/// ```
/// use registry_credentials_interop::export::image_of_request;
/// let request = br#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"registry.example.com/team/app:1"}"#;
/// assert_eq!(image_of_request(request)?.name(), "registry.example.com/team/app");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`RequestError`] for anything but a v1 request with a valid image.
pub fn image_of_request(request: &[u8]) -> Result<Reference, RequestError> {
    CredentialProviderRequest::from_json(request).map(|r| r.image)
}
