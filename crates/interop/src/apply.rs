//! Storing an [`Import`] at a scope through a management API, so that the
//! access rules (R20) and the checks of creation (R16) apply to every entry
//! as if it were created by hand.
//!
//! The management API is reached through [`ImportTarget`]:
//! `registry-credentials-cf` implements it for its `Manager` and
//! `AsyncManager` (its feature `import`), so that crate and its `cf` binary
//! can depend on this one and not the other way round. The import is
//! written once, async, in [`import_into_async`]; [`import_into`] drives
//! it for a target whose futures never pend (a sync store behind
//! `InlineStore`) with [`block_on_ready`]. The steps:
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
//! 4. the entries are created in one step of the store
//!    ([`ImportTarget::create_all`]: for cf, `Manager::create_all`, over
//!    the store's `create_all`): all of them or none, and no reader sees
//!    part of them. If that step is refused (another writer took a
//!    location meanwhile) or the store fails, nothing was created and the
//!    report says so; nothing needs deleting again. With
//!    [`Policy::SkipFailures`] a location taken meanwhile is reported as a
//!    conflict and the rest are created in one step again. If the store
//!    lost the answer to that step ([`ImportTarget::outcome_unknown`],
//!    R28), the whole batch or none of it is stored: the error
//!    ([`ImportError::OutcomeUnknown`]) and the report say so, and nothing
//!    is tried again.
//!
//! The file is read and checked ([`read`](crate::import::read)) before
//! any of this, and needs no lock: a caller that holds a write lock or
//! transaction for the import holds it for these steps alone.

use std::collections::BTreeSet;
use std::fmt;

use registry_credentials::scope::UserId;
use registry_credentials::store::{BoxFuture, block_on_ready};
use registry_credentials::{Credential, Location, Scope};

use crate::import::{Entry, Import, Line, Outcome, Report, Skip};

/// The management calls an import makes. Every call names the caller and
/// applies the implementation's access rules.
///
/// The calls return boxed futures, so one trait serves async management
/// APIs and sync ones: a sync implementation returns futures that are
/// ready at once (`Box::pin(async move { … })` around its sync call), and
/// [`import_into`] drives them without a runtime.
///
/// ```
/// use std::collections::BTreeSet;
/// use std::sync::Mutex;
/// use registry_credentials::scope::UserId;
/// use registry_credentials::store::BoxFuture;
/// use registry_credentials::{Credential, Location, Scope};
/// use registry_credentials_interop::apply::{import_into, ImportTarget, Policy};
/// use registry_credentials_interop::import::read;
///
/// /// Everyone may import; nothing is ever held twice.
/// #[derive(Default)]
/// struct Open(Mutex<Vec<(Scope, Location)>>);
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
///     fn check_create<'a>(&'a self, _: &'a UserId, _: &'a Scope) -> BoxFuture<'a, Result<(), Never>> {
///         Box::pin(async { Ok(()) })
///     }
///     fn held<'a>(&'a self, _: &'a UserId, scope: &'a Scope) -> BoxFuture<'a, Result<BTreeSet<Location>, Never>> {
///         Box::pin(async move {
///             let held = self.0.lock().unwrap();
///             Ok(held.iter().filter(|(s, _)| s == scope).map(|(_, l)| l.clone()).collect())
///         })
///     }
///     fn create_all<'a>(
///         &'a self,
///         _: &'a UserId,
///         scope: &'a Scope,
///         batch: Vec<(Location, Credential)>,
///     ) -> BoxFuture<'a, Result<(), Never>> {
///         Box::pin(async move {
///             let mut held = self.0.lock().unwrap();
///             held.extend(batch.into_iter().map(|(l, _)| (scope.clone(), l)));
///             Ok(())
///         })
///     }
///     fn conflict_at(_: &Never) -> Option<(Location, String)> { None }
///     fn outcome_unknown(_: &Never) -> bool { false }
/// }
///
/// let target = Open::default();
/// let file = br#"{"auths": {"quay.io/org": {"username": "robot", "password": "pw"}}}"#;
/// let report = import_into(&target, &UserId::new("me")?, &Scope::Foundation, read(file)?, Policy::AllOrNothing)?;
/// assert_eq!(report.imported(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait ImportTarget: Sync {
    /// Why a call failed. Its message must not hold a password.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Whether `caller` may create credentials at `scope` (R20), without
    /// creating one.
    ///
    /// # Errors
    ///
    /// The refusal, or a failure to find out.
    fn check_create<'a>(
        &'a self,
        caller: &'a UserId,
        scope: &'a Scope,
    ) -> BoxFuture<'a, Result<(), Self::Error>>;

    /// The locations `scope` holds, as `caller` sees them.
    ///
    /// # Errors
    ///
    /// A failure to read them.
    fn held<'a>(
        &'a self,
        caller: &'a UserId,
        scope: &'a Scope,
    ) -> BoxFuture<'a, Result<BTreeSet<Location>, Self::Error>>;

    /// Creates every credential of `batch` at `scope` as `caller` (R16,
    /// R20), in one step: all of them, or none when the call fails.
    ///
    /// # Errors
    ///
    /// Whatever creating them by hand would fail with; then none of them
    /// is stored.
    fn create_all<'a>(
        &'a self,
        caller: &'a UserId,
        scope: &'a Scope,
        batch: Vec<(Location, Credential)>,
    ) -> BoxFuture<'a, Result<(), Self::Error>>;

    /// When `error` says a location was taken (R16): that location, and
    /// the scope in words, for the report.
    fn conflict_at(error: &Self::Error) -> Option<(Location, String)>;

    /// True when `error` says the store lost the answer to
    /// [`create_all`](Self::create_all) (R28): the batch may or may not
    /// be stored. Every other error of `create_all` stored none of it.
    fn outcome_unknown(error: &Self::Error) -> bool;
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
    /// Creating the keys failed after the checks (a location taken
    /// meanwhile, the store failing): nothing was created. The report
    /// names the key refused, if one was.
    Failed {
        /// One line per key.
        report: Report,
        /// The failure (boxed: it may be large, and it is rare).
        error: Box<E>,
    },
    /// The batch was sent to the store and its answer was lost (R28): all
    /// of it or none of it is stored. The report marks its keys
    /// [`Outcome::Unknown`]; list the scope to see which it was.
    OutcomeUnknown {
        /// One line per key.
        report: Report,
        /// The store's error.
        error: Box<E>,
    },
}

impl<E> ImportError<E> {
    /// The report, when the import got as far as the keys.
    pub fn report(&self) -> Option<&Report> {
        match self {
            ImportError::Check(_) => None,
            ImportError::Refused(report)
            | ImportError::Failed { report, .. }
            | ImportError::OutcomeUnknown { report, .. } => Some(report),
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
            ImportError::Failed { .. } => {
                f.write_str("creating the credentials failed, so nothing was created")
            }
            ImportError::OutcomeUnknown { .. } => f.write_str(
                "the store lost the answer to creating the credentials, so all of them or none may be stored; list the scope's credentials to see",
            ),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for ImportError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ImportError::Check(e) => Some(e),
            ImportError::Failed { error, .. } | ImportError::OutcomeUnknown { error, .. } => {
                Some(&**error)
            }
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

/// Stores `import` at `scope` as `caller` through `target` (for cf, a
/// `Manager`: so R16 and R20 apply), and reports one line per key: the
/// steps of [`import_into_async`], for a target whose futures are ready at
/// once (a sync management API).
///
/// ```
/// use registry_credentials::scope::UserId;
/// use registry_credentials::{MemoryStore, Scope};
/// use registry_credentials_cf::access::GlobalRole;
/// use registry_credentials_cf::directory::{DirectoryWriter, MemoryDirectory, Name};
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
/// As [`import_into_async`].
///
/// # Panics
///
/// When a future of `target` is not ready at once (it waits on I/O): use
/// [`import_into_async`] on a runtime for such a target.
pub fn import_into<T: ImportTarget + ?Sized>(
    target: &T,
    caller: &UserId,
    scope: &Scope,
    import: Import,
    policy: Policy,
) -> Result<Report, ImportError<T::Error>> {
    block_on_ready(import_into_async(target, caller, scope, import, policy))
}

/// Stores `import` at `scope` as `caller` through `target` (for cf, an
/// `AsyncManager`), and reports one line per key: the steps in the
/// [module docs](self).
///
/// # Errors
///
/// [`ImportError`]: nothing of the import is stored, except with
/// [`ImportError::OutcomeUnknown`], when the whole batch may be.
pub async fn import_into_async<T: ImportTarget + ?Sized>(
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
        mut to_create,
    } = plan(import, scope, &held, policy)?;
    loop {
        if to_create.is_empty() {
            return Ok(sorted(lines));
        }
        let batch = to_create
            .iter()
            .map(|(_, e)| (e.location.clone(), e.credential.clone()))
            .collect();
        let error = match target.create_all(caller, scope, batch).await {
            Ok(()) => {
                for (i, _) in &to_create {
                    lines[*i].outcome = Outcome::Imported;
                }
                return Ok(sorted(lines));
            }
            Err(error) => error,
        };
        if T::outcome_unknown(&error) {
            for (i, _) in &to_create {
                lines[*i].outcome = Outcome::Unknown;
            }
            return Err(ImportError::OutcomeUnknown {
                report: sorted(lines),
                error: Box::new(error),
            });
        }
        // The entry refused, if the error names one of this batch.
        let refused = T::conflict_at(&error).and_then(|(location, at)| {
            let n = to_create.iter().position(|(_, e)| e.location == location)?;
            Some((n, at))
        });
        for (i, _) in &to_create {
            lines[*i].outcome = Outcome::NotCreated;
        }
        if let Some((n, at)) = refused {
            let (i, _) = to_create.remove(n);
            lines[i].outcome = Outcome::Skipped(Skip::Conflict { at });
            if policy == Policy::SkipFailures {
                continue;
            }
        }
        return Err(ImportError::Failed {
            report: sorted(lines),
            error: Box::new(error),
        });
    }
}
