//! `cf`, a command line with the Cloud Foundry CLI's command names and
//! habits over [`registry_credentials_cf`], to walk through the user page
//! ("Using stored Registry Credentials to push Docker apps") by hand.
//! Every change is kept in one SQLite database under `$CF_HOME/.cf`.
//!
//! ```text
//! $ cf auth admin
//! $ cf create-org myorg
//! $ cf create-space myspace -o myorg
//! $ cf set-space-role dev myorg myspace SpaceDeveloper
//! $ CF_DOCKER_PASSWORD=secret cf create-foundation-registry-credential docker.io --username hub-user
//! $ cf set-label registry-credential docker.io env=prod --scope foundation
//! $ cf auth dev
//! $ cf target -o myorg -s myspace
//! $ cf push myapp --docker-image nginx
//! $ cf registry-credentials
//! $ cf registry-credentials --labels env=prod
//! ```
//!
//! The user `admin` holds the Admin role; any other name is a user with
//! the roles `set-org-role` and `set-space-role` give it. Passwords come
//! from `CF_DOCKER_PASSWORD`, or else from a prompt that does not echo;
//! they are never printed.
//!
//! # cf's habits
//!
//! - `--flag=value` and `--flag value`; `-h` and `--help` on every
//!   command; `cf help` lists the commands, one per line, and `cf help
//!   COMMAND` prints one command's usage and options.
//! - A mistyped command or option gets a "did you mean".
//! - `cf version` (and `cf -v`) prints the version and this package's name.
//! - A usage error prints `Incorrect Usage:`, the reason and the
//!   command's help, and exits 1; a failure prints its reason, then
//!   `FAILED` on its own line, on standard error, and exits 1.
//! - `delete`, `delete-space`, `delete-org` and the
//!   `delete-*-registry-credential` commands ask `Really delete …? [yN]:`
//!   and read the answer from standard input, unless given `-f`; any
//!   answer but `y` or `yes`, or the end of the input, deletes nothing and
//!   exits 0.
//! - `--dry-run` on the `create-*`, `update-*` and `delete-*` registry
//!   credential commands prints the apps whose next pull the change would
//!   change, before and after, and changes nothing; it asks for no
//!   password and no confirmation. `registry-credential-apps LOCATION`
//!   (`--org`, `--space`, `--app APP`) lists the apps whose next pull
//!   uses a credential now (R29).
//! - The state lives where cf keeps its own: `$CF_HOME/.cf`, or `$HOME/.cf`
//!   when `CF_HOME` is unset ([`state`]).
//!
//! Error messages name an argument by its position or role (`argument 3`,
//! `the name given with -o`) instead of repeating it, since what a person
//! typed in the wrong place may be a password; whatever is printed from
//! input is escaped (R21).
//!
//! # Why clap
//!
//! The arguments are parsed by clap's derive API, without its default
//! features (no colour, no terminal probing): it is well kept, and gives
//! `--flag=value`, `-h`, suggestions for typos and each command's usage
//! from the definitions in [`args`], which a hand-written parser would
//! have to build and test again. Its build weight (a proc macro and syn)
//! lives in this package alone: the libraries do not depend on it.
//!
//! # Modules
//!
//! - [`args`]: the commands and their options (clap definitions), and
//!   clap's errors in cf's words.
//! - [`state`]: where the database and key file live, and how they are
//!   opened, created and checked for damage.
//! - [`commands`]: checking the arguments and carrying out one command in
//!   one transaction; [`run`] is the whole program, given its streams.
//! - [`output`]: failures as cf prints them, and text from input made safe
//!   to print.
#![forbid(unsafe_code)]

pub mod args;
pub mod commands;
pub mod output;
pub mod state;

pub use commands::{Io, run};
