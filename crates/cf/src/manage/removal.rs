//! [`AsyncRemoval`]: how a deletion removes a directory entry together
//! with the credentials under it (R13), in order or as one transaction.

use std::sync::Arc;

use registry_credentials::scope::{AppId, OrgId, SpaceId};
use registry_credentials::store::audit::{Actor, Write};
use registry_credentials::store::{AsyncCredentialStore, BoxFuture};
use registry_credentials::{RegistryCredential, Scope};

use super::{ManageError, audit_context};
use crate::directory::{
    AsyncDirectoryReader, AsyncDirectoryWriter, DirectoryError, DirectoryWriter, InlineDirectory,
    Place,
};

/// An organization, space or app that a deletion removes, with everything
/// inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry<'a> {
    /// An organization, with its spaces and their apps.
    Org(&'a OrgId),
    /// A space, with its apps.
    Space(&'a SpaceId),
    /// An app.
    App(&'a AppId),
}

impl Entry<'_> {
    /// The scope its own credentials are stored at.
    pub fn scope(self) -> Scope {
        match self {
            Entry::Org(org) => Scope::Org(org.clone()),
            Entry::Space(space) => Scope::Space(space.clone()),
            Entry::App(app) => Scope::App(app.clone()),
        }
    }
}

/// How the deletions of an [`AsyncManager`](super::AsyncManager)
/// (`delete_org`, `delete_space`, `delete_app`) remove an entry of this
/// directory together with every credential stored at it or inside it in
/// the store `S` (R13).
///
/// The provided method does it in order, each part a step of its own
/// (see [`remove_with_credentials`](Self::remove_with_credentials)); a
/// directory that keeps its entries in the store's own database overrides
/// it to make the whole removal one transaction, as `PostgresDirectory`
/// does over a `PostgresStore`. A directory of a platform's own takes the
/// order with one line:
/// `impl<S: AsyncCredentialStore + ?Sized> AsyncRemoval<S> for MyDirectory {}`.
///
/// ```
/// use registry_credentials::scope::{OrgId, SpaceId};
/// use registry_credentials::store::{block_on_ready, AsyncCredentialStore, InlineStore};
/// use registry_credentials::store::audit::Actor;
/// use registry_credentials::{Credential, MemoryStore, RegistryCredential, Scope};
/// use registry_credentials_cf::directory::{DirectoryReader, DirectoryWriter, InlineDirectory, MemoryDirectory, Name};
/// use registry_credentials_cf::manage::{AsyncRemoval, Entry};
///
/// let store = InlineStore(MemoryStore::new());
/// let directory = InlineDirectory(MemoryDirectory::new());
/// let (org, space) = (OrgId::new("org-1")?, SpaceId::new("space-1")?);
/// directory.0.add_org(org.clone(), Name::new("o")?)?;
/// directory.0.add_space(space.clone(), &org, Name::new("s")?)?;
/// let at_space = RegistryCredential::new(
///     Scope::Space(space.clone()), "registry.example.com".parse()?, Credential::new("u", "p")?,
/// );
/// block_on_ready(store.create(at_space))?;
///
/// let admin = Actor::new("admin", "admin");
/// let deleted = block_on_ready(directory.remove_with_credentials(&store, Entry::Org(&org), &admin))?;
/// assert_eq!(deleted.len(), 1);
/// assert!(store.0.is_empty());
/// assert_eq!(directory.0.org_name(&org)?, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`InlineDirectory`] (so every sync directory: `MemoryDirectory`,
/// `SqliteDirectory`), `dyn AsyncDirectoryWriter` and references, boxes
/// and `Arc`s of these implement it for every store.
pub trait AsyncRemoval<S: AsyncCredentialStore + ?Sized>: AsyncDirectoryWriter {
    /// Deletes the credentials `store` holds at `what` and at every scope
    /// inside it, then removes `what` from this directory (with its
    /// spaces, apps and roles, its ids recorded as never to be used again,
    /// R13), and returns the credentials deleted: each space's apps
    /// first, then the space, then the organization.
    ///
    /// As provided it does these in that order, each a step of its own:
    /// a failure part-way leaves the entry in place without some of its
    /// credentials, never credentials without their entry, and deleting it
    /// again finishes the job. Over a store and a directory that share one
    /// transaction (a `SqliteTransaction` and its `SqliteDirectory`, a
    /// `PostgresTransaction` and `PostgresDirectory::in_transaction`), the
    /// order runs inside it and commits with it.
    ///
    /// # Errors
    ///
    /// [`ManageError::Store`], or [`ManageError::Directory`] (with
    /// [`DirectoryError::Unknown`] when `what` is not in the directory).
    fn remove_with_credentials<'a>(
        &'a self,
        store: &'a S,
        what: Entry<'a>,
        by: &'a Actor,
    ) -> BoxFuture<'a, Result<Vec<Arc<RegistryCredential>>, ManageError>> {
        Box::pin(remove_in_order(store, self, what, by))
    }
}

/// [`AsyncRemoval`]'s provided removal: the credentials at every scope of
/// `what`, innermost first, each deletion audited as `by`'s in its place
/// (R27), then the entry.
pub(crate) async fn remove_in_order<S, D>(
    store: &S,
    directory: &D,
    what: Entry<'_>,
    by: &Actor,
) -> Result<Vec<Arc<RegistryCredential>>, ManageError>
where
    S: AsyncCredentialStore + ?Sized,
    D: AsyncDirectoryWriter + ?Sized,
{
    let mut deleted = Vec::new();
    for scope in scopes_under(directory, what).await? {
        let place = directory.place(&scope).await?.unwrap_or(Place::Foundation);
        let context = audit_context(by.clone(), &place);
        let written = store
            .audited(Write::DeleteScope(scope), &context)
            .await
            .map_err(ManageError::Store)?;
        deleted.extend_from_slice(written.before());
    }
    match what {
        Entry::Org(org) => directory.remove_org(org).await?,
        Entry::Space(space) => directory.remove_space(space).await?,
        Entry::App(app) => directory.remove_app(app).await?,
    }
    Ok(deleted)
}

/// The scopes whose credentials removing `what` deletes, innermost first:
/// the apps of each space, the space, then the organization (R13's "at
/// that scope and below it").
async fn scopes_under<D: AsyncDirectoryReader + ?Sized>(
    directory: &D,
    what: Entry<'_>,
) -> Result<Vec<Scope>, DirectoryError> {
    let spaces = match what {
        Entry::App(_) => return Ok(vec![what.scope()]),
        Entry::Space(space) => vec![space.clone()],
        Entry::Org(org) => directory
            .spaces_in(org)
            .await?
            .into_iter()
            .map(|(space, _)| space)
            .collect(),
    };
    let mut scopes = Vec::new();
    for space in spaces {
        for (app, _) in directory.apps_in(&space).await? {
            scopes.push(Scope::App(app.id().clone()));
        }
        scopes.push(Scope::Space(space));
    }
    if let Entry::Org(_) = what {
        scopes.push(what.scope());
    }
    Ok(scopes)
}

impl<S: AsyncCredentialStore + ?Sized, D: DirectoryWriter> AsyncRemoval<S> for InlineDirectory<D> {}

impl<S: AsyncCredentialStore + ?Sized> AsyncRemoval<S> for dyn AsyncDirectoryWriter + '_ {}

macro_rules! forward_removal {
    ($($ty:ty),*) => {$(
        impl<S: AsyncCredentialStore + ?Sized, D: AsyncRemoval<S> + ?Sized> AsyncRemoval<S> for $ty {
            fn remove_with_credentials<'a>(
                &'a self,
                store: &'a S,
                what: Entry<'a>,
                by: &'a Actor,
            ) -> BoxFuture<'a, Result<Vec<Arc<RegistryCredential>>, ManageError>> {
                (**self).remove_with_credentials(store, what, by)
            }
        }
    )*};
}

forward_removal!(&D, Box<D>, Arc<D>);
