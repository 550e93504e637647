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
//! rules are numbered R1–R21 in [`rules`] (the repository's `RULES.md`);
//! the docs and tests name them.
//!
//! This crate is the core: the rules themselves, over a pluggable store.
//!
//! - [`reference`](mod@reference): [`Reference`] parses an image reference (R1–R6) in one
//!   linear, allocation-free pass, and keeps what was written apart from its
//!   normalized name.
//! - [`location`]: [`Location`], a checked, normalized place a credential is
//!   stored under (R7–R9); its errors carry the corrected input.
//! - [`candidates`]: the locations that serve a reference, most specific
//!   first (R10–R12), without allocating. [`host`] is the host grammar both
//!   share, with Docker Hub's aliases.
//! - [`scope`]: [`Scope`], [`App`] and the ids, where a credential lives and
//!   who is pushing (R13).
//! - [`credential`]: [`Credential`], [`Username`] (R16) and [`Password`], a
//!   secret: redacted `Debug`, no `Display`, no serde, wiped on drop.
//! - [`store`]: [`CredentialSource`], the look-up trait resolution needs;
//!   [`CredentialStore`], which adds management (with R19's one-step
//!   replacement of an app's credentials); their async, object-safe forms;
//!   and [`MemoryStore`], the embedded default.
//! - [`resolve`](mod@resolve): the precedence search (R14, R15), a pure
//!   [`Plan`](resolve::Plan) over what any store returns, with
//!   [`resolve`](fn@resolve), `resolve_all`, `explain` and their async forms
//!   around it.
//!
//! Beside it: `registry-credentials-sql` has the database stores (SQLite,
//! PostgreSQL, passwords encrypted at rest), and `registry-credentials-cf`
//! the Cloud Foundry model (roles and access rules, the directory,
//! management, listings) with a cf-style command line.
//!
//! # Errors
//!
//! Parsing fails with [`ReferenceError`] or [`LocationError`]: each says what
//! is wrong, at which byte, and where possible offers a corrected input
//! ([`LocationError::hint`]). Store calls fail with [`StoreError`], whose
//! variants tell a conflict from a missing credential from a backend
//! failure. Ids and credentials are checked by their constructors
//! ([`scope::IdError`], [`credential::CredentialError`]). No error message
//! holds a password.
//!
//! # Features
//!
//! - `psl` (default): the Public Suffix List, to refuse locations that are
//!   public suffixes (R9) and to stop parent-domain candidates at the
//!   registrable domain (R11). Without it, only the list's default rule
//!   applies: the last label alone is a suffix, so `co.uk` is not refused and
//!   `a.example.co.uk` also yields the candidate `co.uk`.
//! - `serde`: strings in and out for [`Reference`], [`Location`], the ids and
//!   [`Username`]; reading validates. `Serialize` for [`Resolution`] and
//!   [`resolve::Explanation`] (scope, location, username, candidate; never
//!   the password). [`Password`] has no serde at all.
//! - `conformance`: [`store::conformance`] and the
//!   [`store_conformance!`](crate::store_conformance) macro, the suite every
//!   store backend must pass, sync or async, to run against your own
//!   backend; with it the test double [`Hooked`](store::conformance::Hooked)
//!   (any store wrapped in hooks).
//! - `tracing`: [`resolve`](fn@resolve), `resolve_all` and their async forms
//!   open a `tracing` span (named after the function) with the image, the
//!   app's ids (`org`, `space`, `app`), the number of `keys` in the plan and
//!   how many were `tried`, and the `outcome`: the winner's `scope`,
//!   `scope_id`, `location` and `rank`, `none` (R15), or the store's
//!   `error`. Never a password, and no username either.
//! - `proptest`: [`strategies`], [proptest](mod@proptest) strategies for property tests
//!   of the matching rules: references and locations (valid, and near-valid
//!   ones a mutation away), hosts, apps, scopes, credentials and whole
//!   stores with the credentials put in, for oracles.
//! - `workload`: [`workload`], a deterministic store of N credentials with
//!   a realistic mix of scopes, registries and namespaces, for any
//!   [`CredentialStore`], and pushes that hit at a chosen scope or miss: to
//!   benchmark a store against [`MemoryStore`].
//!
//! # Non-features
//!
//! This crate does no I/O of its own and never reads the clock, the
//! environment or files: it decides, the caller pulls. It does not talk to
//! registries, and it does not store keys. (The database stores of
//! `registry-credentials-sql` do I/O, by their nature.)

// Forbidden here, only denied in Cargo.toml: the counting allocators of the
// allocation test and the memory bench need their one `unsafe impl`.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod candidates;
pub mod credential;
pub mod host;
pub mod identity;
pub mod location;
mod macros;
pub mod metadata;
pub mod reference;
pub mod resolve;
/// The rules R1–R28, as `RULES.md` states them (with which are built).
///
#[doc = include_str!("../RULES.md")]
pub mod rules {}
pub mod scope;
pub mod store;
#[cfg(feature = "proptest")]
#[cfg_attr(docsrs, doc(cfg(feature = "proptest")))]
pub mod strategies;
pub mod syntax;
#[cfg(feature = "workload")]
#[cfg_attr(docsrs, doc(cfg(feature = "workload")))]
pub mod workload;

/// The README, whose examples run as doc tests of the core.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use credential::{Credential, CredentialKind, Password, RegistryCredential, Username};
pub use location::{Location, LocationError};
pub use reference::{Reference, ReferenceError};
pub use resolve::{Resolution, resolve};
pub use scope::{App, Scope, ScopeKind};
pub use store::{CredentialSource, CredentialStore, MemoryStore, StoreError};
