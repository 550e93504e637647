//! What the workspace's tests share, so that each helper is written once:
//!
//! - [`capture`]: a `tracing` subscriber that records every span and event,
//!   to check what resolution and management report (and that no password
//!   is among it).
//! - [`fs`]: a fresh directory per test, and a 1 MiB tmpfs to fill.
//! - [`process`]: a program run with something on its standard input.
//! - [`registry`]: the real registry `.ci/registry.sh setup` starts.
//! - `postgres` (feature `postgres`): the throwaway PostgreSQL server of
//!   `REGISTRY_CREDENTIALS_PG_URL`, and a schema of its own for each test.
//! - `cf` (feature `cf`): a `Manager` with an admin, an organization, a
//!   space and a Space Developer, over any store and directory.
//!
//! This package is never published; the crates that use it name it as a
//! path-only dev-dependency.
#![forbid(unsafe_code)]

pub mod capture;
#[cfg(feature = "cf")]
pub mod cf;
pub mod fs;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod process;
pub mod registry;
