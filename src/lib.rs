//! Decide which stored Docker registry credential an image pull should use.
//!
//! ```
//! use registry_credentials::{
//!     resolve, App, Credential, CredentialStore, MemoryStore, RegistryCredential, Scope,
//!     ScopeKind,
//! };
//!
//! let store = MemoryStore::new();
//! let app = App::new("my-org", "my-space", "my-app")?;
//! store.create(RegistryCredential::new(
//!     Scope::Org(app.org().clone()),
//!     "registry.example.com/repo".parse()?,
//!     Credential::new("org-user", "org-password")?,
//! ))?;
//! store.create(RegistryCredential::new(
//!     Scope::Foundation,
//!     "example.com".parse()?,
//!     Credential::new("platform-user", "platform-password")?,
//! ))?;
//!
//! let found = resolve(&store, &app, &"registry.example.com/repo/image:tag".parse()?)?;
//! let found = found.expect("the organization's credential");
//! assert_eq!(found.scope_kind(), ScopeKind::Org);
//! assert_eq!(found.credential().username().as_str(), "org-user");
//!
//! // A sibling repository only matches the foundation's parent-domain entry.
//! let other = resolve(&store, &app, &"registry.example.com/other/image".parse()?)?.unwrap();
//! assert_eq!(other.location().as_str(), "example.com");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Overview
//!
//! A platform (Cloud Foundry is the model) stores registry credentials at four
//! scopes: the foundation, an organization, a space and an app. When an app is
//! pushed with an image, the credential to send is the first one found
//! searching the app's scope, then its space, its organization and the
//! foundation, and inside each scope the most specific location first. The
//! rules are numbered R1–R21 in the project's `SPEC.md`; the docs name them.
//!
//! - [`Reference`] parses an image reference (R1–R6) with a hand-written,
//!   linear, allocation-free parser, and keeps what was written apart from its
//!   normalized [`name`](Reference::name).
//! - [`Location`] is a checked, normalized place a credential is stored under
//!   (R7–R9); its errors carry the corrected input.
//! - [`Reference::candidates`] lists the locations that serve a reference,
//!   most specific first (R10–R12), without allocating.
//! - [`Scope`], [`App`] and the id types say where a credential lives and who
//!   is pushing (R13).
//! - [`CredentialStore`] is the storage trait, with a written contract;
//!   [`MemoryStore`] is the embedded default.
//! - [`resolve`], [`resolve_all`] and [`explain`] apply the precedence rules
//!   (R14, R15) over any store; [`Plan`] and [`select_first`] are the pure
//!   parts, for stores that answer a whole plan in one query.
//! - [`Manager`] applies R16–R21 over any store: access rules
//!   ([`access`]), the [`Directory`] of names, pushes in two phases
//!   ([`StagedPush`]), and [`Listing`]s in the order cf prints them.
//! - [`Password`] is a secret: redacted `Debug`, no `Display`, no serde,
//!   zeroed on drop.
//!
//! # Errors
//!
//! Parsing fails with [`ReferenceError`] or [`LocationError`]: each says what
//! is wrong, at which byte, and where possible offers a corrected input
//! ([`LocationError::hint`]). Store calls fail with [`StoreError`], whose
//! variants tell a conflict from a missing credential from a backend
//! failure. Ids and credentials are checked by their constructors
//! ([`IdError`], [`CredentialError`]). No error message holds a password.
//!
//! # Features
//!
//! - `psl` (default): the Public Suffix List, to refuse locations that are
//!   public suffixes (R9) and to stop parent-domain candidates at the
//!   registrable domain (R11). Without it, only the list's default rule
//!   applies: the last label alone is a suffix, so `co.uk` is not refused and
//!   `a.example.co.uk` also yields the candidate `co.uk`.
//! - `serde`: strings in and out for [`Reference`], [`Location`], the ids and
//!   [`Username`]; reading validates. [`Password`] has no serde at all.
//!
//! # Non-features
//!
//! The crate does no I/O of its own and never reads the clock, the
//! environment or files: it decides, the caller pulls. It does not talk to
//! registries, and it does not store keys.

// Forbidden here, only denied in Cargo.toml: the counting allocators of the
// allocation test and the memory bench need their one `unsafe impl`.
#![forbid(unsafe_code)]

pub mod access;
mod async_store;
pub mod candidates;
mod credential;
mod directory;
pub mod host;
mod listing;
pub mod location;
mod macros;
mod manage;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
pub mod reference;
mod resolve;
mod scope;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;

pub use async_store::{resolve_all_async, resolve_async, AsyncCredentialStore, InlineStore};
pub use candidates::{Candidate, CandidateKind, Candidates};
pub use credential::{
    Credential, CredentialError, CredentialUpdate, ForbiddenCharacter, Password,
    RegistryCredential, Username, MAX_PASSWORD_LEN, MAX_USERNAME_LEN,
};
pub use host::{Host, DOCKER_HUB, DOCKER_HUB_ALIASES};
pub use location::{Location, LocationError, LocationErrorKind};
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
pub use reference::{
    Reference, ReferenceError, ReferenceErrorKind, MAX_DIGEST_LEN, MAX_NAME_LEN, MAX_REFERENCE_LEN,
    MAX_TAG_LEN,
};
pub use resolve::{
    explain, resolve, resolve_all, select_first, Attempt, Explanation, Plan, Resolution,
};
pub use scope::{App, AppId, IdError, OrgId, Scope, ScopeKind, ScopeRef, SpaceId, MAX_ID_LEN};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use sql::{EncryptionKey, KeyError, Keyring, OpenError, SchemaError, KEY_LEN, MAX_KEY_ID_LEN};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteOptions, SqliteStore};
pub use store::{CredentialStore, Key, StoreError};

// Managing credentials: access control, directory, pushes, listings (R16–R21).
pub use access::{
    DirectoryAction, GlobalRole, Operation, OrgRole, RoleError, Roles, ScopePath, SpaceRole,
};
pub use directory::{Directory, DirectoryError, Name, NameError, MAX_DIRECTORY_NAME_LEN};
pub use listing::{Listing, Row, Target};
pub use manage::{Chosen, ManageError, Manager, PermissionError, StagedPush, Started};
pub use scope::UserId;

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
