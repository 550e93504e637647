//! The formats around [`registry_credentials`]: hand the credential a
//! resolution chose to the program that pulls, and bring in the credentials
//! people already keep in Docker's, Podman's and Kubernetes' files.
//!
//! ```
//! use registry_credentials::{resolve, App, Credential, CredentialStore, MemoryStore, Reference, RegistryCredential, Scope};
//! use registry_credentials_interop::export::AuthFile;
//!
//! let store = MemoryStore::new();
//! let app = App::new("org", "space", "app")?;
//! store.create(RegistryCredential::new(
//!     Scope::Space(app.space().clone()),
//!     "registry.example.com/team".parse()?,
//!     Credential::new("space-user", "space-password")?,
//! ))?;
//! let image: Reference = "registry.example.com/team/app:1".parse()?;
//! let chosen = resolve(&store, &app, &image)?.expect("the space's credential");
//!
//! // containers/image (skopeo, podman) reads namespace keys…
//! let auth_json = AuthFile::containers(&image, &chosen)?;
//! assert_eq!(auth_json.key(), "registry.example.com/team");
//! // …Docker wants the registry.
//! let config_json = AuthFile::docker(&image, &chosen)?;
//! assert_eq!(config_json.key(), "registry.example.com");
//! // Written only on request, into a buffer wiped on drop.
//! let bytes = config_json.to_json_bytes();
//! assert!(bytes.starts_with(br#"{"auths":{"registry.example.com":{"auth":""#));
//! // Its Debug holds no password.
//! assert!(!format!("{config_json:?}").contains("space-password"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Overview
//!
//! - [`export`]: a [`Resolution`](registry_credentials::Resolution) as a
//!   Docker `config.json` or containers `auth.json`
//!   ([`AuthFile`](export::AuthFile)), the Docker Engine API's
//!   `X-Registry-Auth` header ([`RegistryAuthHeader`](export::RegistryAuthHeader)),
//!   or a kubelet credential provider response
//!   ([`CredentialProviderResponse`](export::CredentialProviderResponse)).
//!   Every one keeps its password out of `Debug` and has no `Display`; the
//!   secret leaves only through `to_json_bytes`/`write_to`/`header_value`,
//!   or `AuthFile::write_to_path` (a file of mode `0600`, renamed into place).
//! - [`import`]: read a Docker `config.json`, a containers `auth.json`, a
//!   legacy `.dockercfg` or a Kubernetes `kubernetes.io/dockerconfigjson`
//!   secret into [`Entry`](import::Entry)s, keys mapped to locations the way
//!   containers/image and the Docker CLI read them, with a report line for
//!   every key.
//! - [`apply`]: create the entries at a scope through a management API
//!   ([`ImportTarget`](apply::ImportTarget); `registry-credentials-cf`
//!   implements it for its `Manager` and `AsyncManager` with its feature
//!   `import`), so the access rules (R20) and checks (R16) apply; all or
//!   nothing unless asked to skip failures.
//! - [`oci`] (features `oci-client`, `oci-spec`): a resolution as
//!   `oci_client::secrets::RegistryAuth`, a reference as
//!   `oci_spec::distribution::Reference`.
//!
//! # Features
//!
//! - `oci-client`: [`oci::registry_auth`], for oci-client's `Client`.
//! - `oci-spec`: [`oci::oci_reference`].
//!
//! None is on by default; without them the crate needs serde, serde_json,
//! base64 and zeroize, and no runtime.
//!
//! # Non-features
//!
//! No credential helpers are run and no identity tokens are exchanged: the
//! secrets they hold are not in the file, and the import says so for each
//! such entry. No file is read or written by path: callers hand in bytes and
//! a writer.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

pub mod apply;
pub mod export;
pub mod import;
mod json;
#[cfg(any(feature = "oci-client", feature = "oci-spec"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "oci-client", feature = "oci-spec"))))]
pub mod oci;

/// This crate's README, whose examples are compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(all(doctest, feature = "oci-client", feature = "oci-spec"))]
pub struct ReadmeDoctests;

/// The key Docker and most tools use for Docker Hub in `config.json`.
pub const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";
