//! Storing an [`Import`] at a scope through a management API, so that the
//! access rules (R20) and the checks of creation (R16) apply to every entry
//! as if it were created by hand.
//!
//! The management API is reached through [`ImportTarget`] (sync) and
//! [`AsyncImportTarget`] (async): `registry-credentials-cf` implements them
//! for its `Manager` and `AsyncManager` (its feature `import`), so that
//! crate and its `cf` binary can depend on this one and not the other way
//! round. [`import_into`] and [`import_into_async`] do the same steps:
//!
//! 1. the caller must be allowed to create credentials at the scope
//!    ([`ImportTarget::check_create`]: for cf, `Manager::check_access`;
//!    app scope is refused, as app credentials come from pushes only, R19);
//! 2. every entry is checked against what the scope holds
//!    ([`ImportTarget::held`]: for cf, the scope's listing): a location the
//!    scope already holds is a conflict, and the stored credential is left
//!    as it is (R16);
//! 3. with [`Policy::AllOrNothing`] (the default), any key that failed
//!    ([`Skip::is_failure`]) stops the import before anything is created;
//!    keys whose secret is not in the file (a helper, a token) are
//!    reported but do not stop it;
//! 4. the entries are created one by one ([`ImportTarget::create`]: for
//!    cf, `Manager::create`); if one still fails (another writer got there
//!    first, the store failed), the ones this import created are deleted
//!    again and the report says so. With [`Policy::SkipFailures`] a failed
//!    key is reported and the rest go on.

use std::collections::BTreeSet;
use std::fmt;

use registry_credentials::scope::UserId;
use registry_credentials::store::BoxFuture;
use registry_credentials::{Location, RegistryCredential, Scope};

use crate::import::{Entry, Import, Line, Outcome, Report, Skip};

/// The management calls an import makes, over a sync store. Every call
/// names the caller and applies the implementation's access rules.
///
/// ```
/// use std::collections::BTreeSet;
/// use std::sync::Mutex;
/// use registry_credentials::scope::UserId;
/// use registry_credentials::{Location, RegistryCredential, Scope};
/// use registry_credentials_interop::apply::{import_into, ImportTarget, Policy};
/// use registry_credentials_interop::import::read;
///
/// /// Everyone may import; nothing is ever held twice.
/// #[derive(Default)]
/// struct Open(Mutex<Vec<RegistryCredential>>);
///
/// #[derive(Debug)]
/// struct Never;
/// impl std::fmt::Display for Never {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("never") }
/// }
/// impl std::error::Error for Never {}
///
/// impl ImportTarget for Open {
///     type Error = Never;
///     fn check_create(&self, _: &UserId, _: &Scope) -> Result<(), Never> { Ok(()) }
///     fn held(&self, _: &UserId, scope: &Scope) -> Result<BTreeSet<Location>, Never> {
///         let held = self.0.lock().unwrap();
///         Ok(held.iter().filter(|c| c.scope() == scope).map(|c| c.location().clone()).collect())
///     }
///     fn create(&self, _: &UserId, credential: RegistryCredential) -> Result<(), Never> {
///         self.0.lock().unwrap().push(credential);
///         Ok(())
///     }
///     fn delete(&self, _: &UserId, scope: &Scope, location: &Location) -> Result<(), Never> {
///         self.0.lock().unwrap().retain(|c| !(c.scope() == scope && c.location() == location));
///         Ok(())
///     }
///     fn conflict_at(_: &Never) -> Option<String> { None }
/// }
///
/// let target = Open::default();
/// let file = br#"{"auths": {"quay.io/org": {"username": "robot", "password": "pw"}}}"#;
/// let report = import_into(&target, &UserId::new("me")?, &Scope::Foundation, read(file)?, Policy::AllOrNothing)?;
/// assert_eq!(report.imported(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait ImportTarget {
    /// Why a call failed. Its message must not hold a password.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Whether `caller` may create credentials at `scope` (R20), without
    /// creating one.
    ///
    /// # Errors
    ///
    /// The refusal, or a failure to find out.
    fn check_create(&self, caller: &UserId, scope: &Scope) -> Result<(), Self::Error>;

    /// The locations `scope` holds, as `caller` sees them.
    ///
    /// # Errors
    ///
    /// A failure to read them.
    fn held(&self, caller: &UserId, scope: &Scope) -> Result<BTreeSet<Location>, Self::Error>;

    /// Creates `credential` as `caller` (R16, R20).
    ///
    /// # Errors
    ///
    /// Whatever creating it by hand would fail with.
    fn create(&self, caller: &UserId, credential: RegistryCredential) -> Result<(), Self::Error>;

    /// Deletes the credential for `location` at `scope` as `caller`: the
    /// roll-back of a failed import.
    ///
    /// # Errors
    ///
    /// Whatever deleting it by hand would fail with.
    fn delete(
        &self,
        caller: &UserId,
        scope: &Scope,
        location: &Location,
    ) -> Result<(), Self::Error>;

    /// `Some(the scope in words)` when `error` says the location was taken
    /// (R16), for the report.
    fn conflict_at(error: &Self::Error) -> Option<String>;
}

/// [`ImportTarget`] over an async store: the same calls, as boxed futures.
pub trait AsyncImportTarget: Sync {
    /// Why a call failed. Its message must not hold a password.
    type Error: std::error::Error + Send + Sync + 'static;

    /// As [`ImportTarget::check_create`].
    fn check_create<'a>(
        &'a self,
        caller: &'a UserId,
        scope: &'a Scope,
    ) -> BoxFuture<'a, Result<(), Self::Error>>;

    /// As [`ImportTarget::held`].
    fn held<'a>(
        &'a self,
        caller: &'a UserId,
        scope: &'a Scope,
    ) -> BoxFuture<'a, Result<BTreeSet<Location>, Self::Error>>;

    /// As [`ImportTarget::create`].
    fn create<'a>(
        &'a self,
        caller: &'a UserId,
        credential: RegistryCredential,
    ) -> BoxFuture<'a, Result<(), Self::Error>>;

    /// As [`ImportTarget::delete`].
    fn delete<'a>(
        &'a self,
        caller: &'a UserId,
        scope: &'a Scope,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<(), Self::Error>>;

    /// As [`ImportTarget::conflict_at`].
    fn conflict_at(error: &Self::Error) -> Option<String>;
}

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

/// Why an import stored nothing. `E` is the management API's error (for
/// cf, `ManageError`). Every variant carries what is known; no message
/// holds a password.
#[derive(Debug)]
#[non_exhaustive]
pub enum ImportError<E> {
    /// The caller may not create credentials at the scope, the scope is
    /// unknown or is an app's, or what it holds could not be read. Nothing
    /// was created.
    Check(E),
    /// Some keys cannot be imported and the import is all or nothing:
    /// nothing was created. The report says which and why.
    Refused(Report),
    /// Creating a key failed after the checks; the keys this import had
    /// created were deleted again (the report says which, and any that
    /// could not be).
    Failed {
        /// One line per key.
        report: Report,
        /// The failure (boxed: it may be large, and it is rare).
        error: Box<E>,
    },
}

impl<E> ImportError<E> {
    /// The report, when the import got as far as the keys.
    pub fn report(&self) -> Option<&Report> {
        match self {
            ImportError::Check(_) => None,
            ImportError::Refused(report) | ImportError::Failed { report, .. } => Some(report),
        }
    }
}

impl<E> fmt::Display for ImportError<E> {
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

impl<E: std::error::Error + 'static> std::error::Error for ImportError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ImportError::Check(e) => Some(e),
            ImportError::Failed { error, .. } => Some(&**error),
            ImportError::Refused(_) => None,
        }
    }
}

/// Steps 1–3, after the access check and the listing: the lines so far and
/// the entries to create.
struct Plan {
    lines: Vec<Line>,
    to_create: Vec<(usize, Entry)>,
}

fn plan<E>(
    import: Import,
    scope: &Scope,
    held: &BTreeSet<Location>,
    policy: Policy,
) -> Result<Plan, ImportError<E>> {
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

fn skip_of(conflict: Option<String>, error: &impl fmt::Display) -> Skip {
    match conflict {
        Some(at) => Skip::Conflict { at },
        None => Skip::Failed(error.to_string()),
    }
}

/// Stores `import` at `scope` as `caller` through `target` (for cf, a
/// `Manager`: so R16 and R20 apply), and reports one line per key.
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
pub fn import_into<T: ImportTarget + ?Sized>(
    target: &T,
    caller: &UserId,
    scope: &Scope,
    import: Import,
    policy: Policy,
) -> Result<Report, ImportError<T::Error>> {
    target
        .check_create(caller, scope)
        .map_err(ImportError::Check)?;
    let held = target.held(caller, scope).map_err(ImportError::Check)?;
    let Plan {
        mut lines,
        to_create,
    } = plan(import, scope, &held, policy)?;
    let mut created: Vec<(usize, Location)> = Vec::new();
    for (n, (i, entry)) in to_create.iter().enumerate() {
        let credential = RegistryCredential::new(
            scope.clone(),
            entry.location.clone(),
            entry.credential.clone(),
        );
        match target.create(caller, credential) {
            Ok(()) => {
                lines[*i].outcome = Outcome::Imported;
                created.push((*i, entry.location.clone()));
            }
            Err(error) => {
                lines[*i].outcome = Outcome::Skipped(skip_of(T::conflict_at(&error), &error));
                if policy == Policy::AllOrNothing {
                    for (j, location) in created {
                        lines[j].outcome = match target.delete(caller, scope, &location) {
                            Ok(()) => Outcome::RolledBack,
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

/// [`import_into`] through an [`AsyncImportTarget`] (for cf, an
/// `AsyncManager`): the same steps and report.
///
/// # Errors
///
/// As [`import_into`].
pub async fn import_into_async<T: AsyncImportTarget + ?Sized>(
    target: &T,
    caller: &UserId,
    scope: &Scope,
    import: Import,
    policy: Policy,
) -> Result<Report, ImportError<T::Error>> {
    target
        .check_create(caller, scope)
        .await
        .map_err(ImportError::Check)?;
    let held = target
        .held(caller, scope)
        .await
        .map_err(ImportError::Check)?;
    let Plan {
        mut lines,
        to_create,
    } = plan(import, scope, &held, policy)?;
    let mut created: Vec<(usize, Location)> = Vec::new();
    for (n, (i, entry)) in to_create.iter().enumerate() {
        let credential = RegistryCredential::new(
            scope.clone(),
            entry.location.clone(),
            entry.credential.clone(),
        );
        match target.create(caller, credential).await {
            Ok(()) => {
                lines[*i].outcome = Outcome::Imported;
                created.push((*i, entry.location.clone()));
            }
            Err(error) => {
                lines[*i].outcome = Outcome::Skipped(skip_of(T::conflict_at(&error), &error));
                if policy == Policy::AllOrNothing {
                    for (j, location) in created {
                        lines[j].outcome = match target.delete(caller, scope, &location).await {
                            Ok(()) => Outcome::RolledBack,
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
