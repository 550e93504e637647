//! Storing an [`Import`] at a scope through `registry-credentials-cf`'s
//! management API, so the access rules (R20) and the checks of creation
//! (R16) apply to every entry as if it were created by hand.
//!
//! [`import_into`] (over a [`Manager`]) and [`import_into_async`] (over an
//! [`AsyncManager`]) do the same steps:
//!
//! 1. the caller must be allowed to create credentials at the scope
//!    ([`Manager::check_access`]); app scope is refused, as app
//!    credentials come from pushes only (R19);
//! 2. every entry is checked against the scope's listing: a location the
//!    scope already holds is a conflict, and the stored credential is left
//!    as it is (R16);
//! 3. with [`Policy::AllOrNothing`] (the default), any key that failed
//!    ([`Skip::is_failure`]) stops the import before anything is created;
//!    keys whose secret is not in the file (a helper, a token) are
//!    reported but do not stop it;
//! 4. the entries are created one by one with [`Manager::create`]; if one
//!    still fails (another writer got there first, the store failed), the
//!    ones this import created are deleted again and the report says so.
//!    With [`Policy::SkipFailures`] a failed key is reported and the rest go
//!    on.

use std::collections::BTreeSet;
use std::fmt;

use registry_credentials::scope::UserId;
use registry_credentials::store::{AsyncCredentialStore, CredentialStore};
use registry_credentials::{Location, RegistryCredential, Scope, ScopeKind};
use registry_credentials_cf::access::Operation;
use registry_credentials_cf::directory::Directory;
use registry_credentials_cf::listing::{Listing, Target};
use registry_credentials_cf::manage::{AsyncManager, ManageError, Manager};

use crate::import::{Entry, Import, Line, Outcome, Report, Skip};

/// What to do when some keys cannot be imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Policy {
    /// Import every entry or none (the default).
    #[default]
    AllOrNothing,
    /// Import what can be, and report the rest.
    SkipFailures,
}

/// Why an import stored nothing. Every variant carries what is known;
/// no message holds a password.
#[derive(Debug)]
#[non_exhaustive]
pub enum ImportError {
    /// The caller may not create credentials at the scope, the scope is
    /// unknown or is an app's, or its listing could not be read. Nothing
    /// was created.
    Check(ManageError),
    /// Some keys cannot be imported and the import is all or nothing:
    /// nothing was created. The report says which and why.
    Refused(Report),
    /// Creating a key failed after the checks; the keys this import had
    /// created were deleted again (the report says which, and any that
    /// could not be).
    Failed {
        /// One line per key.
        report: Report,
        /// The failure (boxed: it is large, and rare).
        error: Box<ManageError>,
    },
}

impl ImportError {
    /// The report, when the import got as far as the keys.
    pub fn report(&self) -> Option<&Report> {
        match self {
            ImportError::Check(_) => None,
            ImportError::Refused(report) | ImportError::Failed { report, .. } => Some(report),
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Check(_) => f.write_str("the import was refused; nothing was created"),
            ImportError::Refused(report) => {
                let failed = report
                    .lines
                    .iter()
                    .filter(|l| matches!(&l.outcome, Outcome::Skipped(s) if s.is_failure()))
                    .count();
                write!(
                    f,
                    "{failed} of {} keys cannot be imported, so nothing was created; fix them, or skip failures",
                    report.lines.len()
                )
            }
            ImportError::Failed { .. } => f.write_str(
                "creating a credential failed part way, and what the import had created was deleted again",
            ),
        }
    }
}

impl std::error::Error for ImportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ImportError::Check(e) => Some(e),
            ImportError::Failed { error, .. } => Some(&**error),
            ImportError::Refused(_) => None,
        }
    }
}

/// The listing target that shows `scope`'s own credentials.
fn target_of(scope: &Scope) -> Target {
    match scope {
        Scope::Foundation => Target::Foundation,
        Scope::Org(org) => Target::Org(org.clone()),
        Scope::Space(space) => Target::Space(space.clone()),
        Scope::App(_) => unreachable!("app scope is refused before listing"),
    }
}

/// The locations `scope` holds, read from its listing.
fn held(listing: &Listing, kind: ScopeKind) -> BTreeSet<Location> {
    listing
        .rows()
        .iter()
        .filter(|r| r.scope == kind)
        .map(|r| r.location.clone())
        .collect()
}

/// Steps 1–3, after the access check and the listing: the lines so far and
/// the entries to create.
struct Plan {
    lines: Vec<Line>,
    to_create: Vec<(usize, Entry)>,
}

fn plan(
    import: Import,
    scope: &Scope,
    held: &BTreeSet<Location>,
    policy: Policy,
) -> Result<Plan, ImportError> {
    let mut lines: Vec<Line> = import.skipped.iter().map(Line::of_skipped).collect();
    let mut ready = Vec::new();
    for entry in import.entries {
        if held.contains(&entry.location) {
            let mut line = Line::of_entry(&entry, Outcome::Found);
            line.outcome = Outcome::Skipped(Skip::Conflict {
                at: scope.to_string(),
            });
            lines.push(line);
        } else {
            lines.push(Line::of_entry(&entry, Outcome::Found));
            ready.push((lines.len() - 1, entry));
        }
    }
    let failed = lines
        .iter()
        .any(|l| matches!(&l.outcome, Outcome::Skipped(s) if s.is_failure()));
    if failed && policy == Policy::AllOrNothing {
        for (i, _) in &ready {
            lines[*i].outcome = Outcome::NotCreated;
        }
        return Err(ImportError::Refused(sorted(lines)));
    }
    Ok(Plan {
        lines,
        to_create: ready,
    })
}

fn sorted(mut lines: Vec<Line>) -> Report {
    lines.sort_by(|a, b| a.key.cmp(&b.key));
    Report { lines }
}

fn skip_of(error: &ManageError) -> Skip {
    match error {
        ManageError::Conflict { at, .. } => Skip::Conflict { at: at.clone() },
        other => Skip::Failed(other.to_string()),
    }
}

/// Stores `import` at `scope` as `caller`, through `manager` (so R16 and
/// R20 apply), and reports one line per key.
///
/// ```
/// use registry_credentials::scope::UserId;
/// use registry_credentials::{MemoryStore, Scope};
/// use registry_credentials_cf::access::GlobalRole;
/// use registry_credentials_cf::directory::{Directory, MemoryDirectory, Name};
/// use registry_credentials_cf::manage::Manager;
/// use registry_credentials_interop::apply::{import_into, Policy};
/// use registry_credentials_interop::import::read;
///
/// let m = Manager::new(MemoryStore::new(), MemoryDirectory::new());
/// let admin = UserId::new("admin")?;
/// m.directory().grant_global(admin.clone(), GlobalRole::Admin)?;
/// let org = m.create_org(&admin, Name::new("o")?)?;
///
/// let file = br#"{"auths": {"https://index.docker.io/v1/": {"auth": "bWU6cHc="}}}"#;
/// let report = import_into(&m, &admin, &Scope::Org(org), read(file)?, Policy::AllOrNothing)?;
/// assert_eq!(report.imported(), 1);
/// assert!(report.to_string().starts_with("imported  `https://index.docker.io/v1/` as `docker.io`, user `me`"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`ImportError`]: nothing is left created, except what a failed
/// roll-back reports.
pub fn import_into<S: CredentialStore, D: Directory>(
    manager: &Manager<S, D>,
    caller: &UserId,
    scope: &Scope,
    import: Import,
    policy: Policy,
) -> Result<Report, ImportError> {
    if scope.kind() == ScopeKind::App {
        return Err(ImportError::Check(ManageError::AppCredentialByPush));
    }
    manager
        .check_access(caller, Operation::Create, scope)
        .map_err(ImportError::Check)?;
    let listing = manager
        .list(caller, &target_of(scope))
        .map_err(ImportError::Check)?;
    let Plan {
        mut lines,
        to_create,
    } = plan(import, scope, &held(&listing, scope.kind()), policy)?;
    let mut created: Vec<(usize, Location)> = Vec::new();
    for (n, (i, entry)) in to_create.iter().enumerate() {
        let credential = RegistryCredential::new(
            scope.clone(),
            entry.location.clone(),
            entry.credential.clone(),
        );
        match manager.create(caller, credential) {
            Ok(_) => {
                lines[*i].outcome = Outcome::Imported;
                created.push((*i, entry.location.clone()));
            }
            Err(error) => {
                lines[*i].outcome = Outcome::Skipped(skip_of(&error));
                if policy == Policy::AllOrNothing {
                    for (j, location) in created {
                        lines[j].outcome = match manager.delete(caller, scope, &location) {
                            Ok(_) => Outcome::RolledBack,
                            Err(e) => Outcome::RollbackFailed(e.to_string()),
                        };
                    }
                    for (j, _) in &to_create[n + 1..] {
                        lines[*j].outcome = Outcome::NotCreated;
                    }
                    return Err(ImportError::Failed {
                        report: sorted(lines),
                        error: Box::new(error),
                    });
                }
            }
        }
    }
    Ok(sorted(lines))
}

/// [`import_into`] over an [`AsyncManager`]: the same steps and report.
///
/// # Errors
///
/// As [`import_into`].
pub async fn import_into_async<S: AsyncCredentialStore, D: Directory>(
    manager: &AsyncManager<S, D>,
    caller: &UserId,
    scope: &Scope,
    import: Import,
    policy: Policy,
) -> Result<Report, ImportError> {
    if scope.kind() == ScopeKind::App {
        return Err(ImportError::Check(ManageError::AppCredentialByPush));
    }
    manager
        .check_access(caller, Operation::Create, scope)
        .map_err(ImportError::Check)?;
    let listing = manager
        .list(caller, &target_of(scope))
        .await
        .map_err(ImportError::Check)?;
    let Plan {
        mut lines,
        to_create,
    } = plan(import, scope, &held(&listing, scope.kind()), policy)?;
    let mut created: Vec<(usize, Location)> = Vec::new();
    for (n, (i, entry)) in to_create.iter().enumerate() {
        let credential = RegistryCredential::new(
            scope.clone(),
            entry.location.clone(),
            entry.credential.clone(),
        );
        match manager.create(caller, credential).await {
            Ok(_) => {
                lines[*i].outcome = Outcome::Imported;
                created.push((*i, entry.location.clone()));
            }
            Err(error) => {
                lines[*i].outcome = Outcome::Skipped(skip_of(&error));
                if policy == Policy::AllOrNothing {
                    for (j, location) in created {
                        lines[j].outcome = match manager.delete(caller, scope, &location).await {
                            Ok(_) => Outcome::RolledBack,
                            Err(e) => Outcome::RollbackFailed(e.to_string()),
                        };
                    }
                    for (j, _) in &to_create[n + 1..] {
                        lines[*j].outcome = Outcome::NotCreated;
                    }
                    return Err(ImportError::Failed {
                        report: sorted(lines),
                        error: Box::new(error),
                    });
                }
            }
        }
    }
    Ok(sorted(lines))
}
