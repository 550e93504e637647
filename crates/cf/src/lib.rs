//! The Cloud Foundry model over [`registry_credentials`]: who may change
//! and see which registry credentials (R20, R21), the directory of
//! organizations, spaces, apps and roles, management with pushes in two
//! phases (R16–R19), and listings as `cf registry-credentials` prints them.
//!
//! ```
//! use registry_credentials::scope::UserId;
//! use registry_credentials::{Credential, MemoryStore, RegistryCredential, Scope};
//! use registry_credentials_cf::access::{GlobalRole, SpaceRole};
//! use registry_credentials_cf::directory::{DirectoryWriter, MemoryDirectory, Name};
//! use registry_credentials::ScopeKind;
//! use registry_credentials_cf::manage::{Manager, Source};
//!
//! let m = Manager::new(MemoryStore::new(), MemoryDirectory::new());
//! let admin = UserId::new("admin")?;
//! m.directory().grant_global(admin.clone(), GlobalRole::Admin)?;
//! let org = m.create_org(&admin, Name::new("myorg")?)?;
//! let space = m.create_space(&admin, &org, Name::new("myspace")?)?;
//! m.create(&admin, RegistryCredential::new(
//!     Scope::Org(org),
//!     "registry.example.com".parse()?,
//!     Credential::new("org-user", "org-password")?,
//! ))?;
//! let staged = m.stage(&admin, &space, &Name::new("myapp")?, "registry.example.com/team/app".parse()?, None)?;
//! assert_eq!(staged.chosen().source(), Some(Source::Stored(ScopeKind::Org)));
//! staged.started()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Overview
//!
//! - [`access`]: the rules of R20 and R21 as pure functions of a user's
//!   [`Roles`](access::Roles) and a place: no store, no directory, no I/O.
//! - [`directory`]: the [`DirectoryReader`](directory::DirectoryReader)
//!   and [`DirectoryWriter`](directory::DirectoryWriter) traits a platform
//!   implements over its own records (with async forms), and
//!   [`MemoryDirectory`](directory::MemoryDirectory).
//! - [`manage`]: [`Manager`](manage::Manager) over a sync store and
//!   [`AsyncManager`](manage::AsyncManager) over an async one (PostgreSQL),
//!   sharing every decision; pushes in two phases
//!   ([`StagedPush`](manage::StagedPush)) whose start replaces the app's
//!   credentials in one step (R19).
//! - [`listing`]: rows in R21's order and the table cf prints.
//! - [`text`]: which characters names and usernames may not hold (R16),
//!   and escaping for whatever is printed from input (R21).
//!
//! The cf-style command line over this crate is its own package,
//! `registry-credentials-cf-cli` (the binary `cf`:
//! `cargo run -p registry-credentials-cf-cli -- help`). It keeps all of
//! its state in one SQLite database, and runs every command as one
//! transaction of
//! `registry_credentials_sql::SqliteStore::transaction`, over the
//! credentials and a `SqliteDirectory` together.
//!
//! # Features
//!
//! - `sqlite`: `directory::SqliteDirectory`, the directory in tables of a
//!   `SqliteStore`'s file, read and changed in the same transaction as the
//!   credentials (`registry-credentials-sql`'s `SqliteTransaction`).
//! - `postgres`: `directory::PostgresDirectory`, the directory in tables of
//!   the database a `registry-credentials-sql` `PostgresStore` uses, so
//!   every instance of a service shares organizations, spaces, apps and
//!   roles; [`AsyncManager`](manage::AsyncManager) runs over both, and
//!   deletes an organization, space or app with its credentials in one
//!   transaction ([`AsyncRemoval`](manage::AsyncRemoval)).
//!   `PostgresDirectory::in_transaction` puts the directory's changes in
//!   the same transaction as a `PostgresTransaction`'s credentials.
//! - `conformance`: `directory::conformance` and `directory_conformance!`,
//!   the suite every directory backend passes.
//! - `api`: [`api`], the platform's v3 resource for stored registry
//!   credentials (`/v3/registry_credentials`) as a handler without I/O:
//!   method, path and body in, status and JSON out, through the access
//!   rules; no HTTP library.
//! - `import`: [`import`], the management calls that
//!   `registry-credentials-interop` imports credential files through.
//! - `tracing`: the core's resolution spans, and one event per management
//!   write (create, update, delete, a push's start) with its operation,
//!   caller, scope, location and outcome; never a password.
//!
//! Without `postgres` and `sqlite` the library does no I/O. None is on by default; the in-memory store and
//! [`MemoryDirectory`](directory::MemoryDirectory) are the defaults.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

pub mod access;
#[cfg(feature = "api")]
#[cfg_attr(docsrs, doc(cfg(feature = "api")))]
pub mod api;
pub mod directory;
#[cfg(feature = "import")]
#[cfg_attr(docsrs, doc(cfg(feature = "import")))]
pub mod import;
pub mod listing;
pub mod manage;
pub mod text;

/// This crate's README, whose examples run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
