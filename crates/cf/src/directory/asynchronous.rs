//! The directory's async, object-safe traits, and [`InlineDirectory`], the
//! one adapter from the sync traits to them.
//!
//! The methods return [`BoxFuture`], as the core's async store traits do,
//! so a service keeps `Arc<dyn AsyncDirectoryWriter>` in its state.

use std::sync::Arc;

use registry_credentials::scope::{AppId, OrgId, SpaceId, UserId};
use registry_credentials::store::BoxFuture;
use registry_credentials::{App, Reference, Scope};

use super::{DirectoryError, DirectoryReader, DirectoryWriter, Name, Place};
use crate::access::{GlobalRole, OrgRole, Roles, SpaceRole};

/// [`DirectoryReader`], async: what the management gate of an
/// [`AsyncManager`](crate::manage::AsyncManager) awaits.
///
/// # Contract
///
/// [`DirectoryReader`]'s, word for word: missing is `None` (never
/// [`DirectoryError::Unknown`]), removed ids stay gone (R13), lists are in
/// name order, every call sees every change that returned before it
/// began, and implementations are `Send + Sync`.
///
/// [`place`](Self::place) and [`describe`](Self::describe) are written
/// here once, over the look-ups; the sync trait drives these over
/// [`InlineDirectory`].
pub trait AsyncDirectoryReader: Send + Sync {
    reader_methods!(declare_async);

    /// Where `scope` sits, for an access decision; `None` when the
    /// directory does not know it.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Backend`].
    fn place<'a>(
        &'a self,
        scope: &'a Scope,
    ) -> BoxFuture<'a, Result<Option<Place>, DirectoryError>> {
        Box::pin(async move {
            Ok(match scope {
                Scope::Foundation => Some(Place::Foundation),
                Scope::Org(org) => self.org_name(org).await?.map(|_| Place::Org(org.clone())),
                Scope::Space(space) => self
                    .space(space)
                    .await?
                    .map(|(org, _)| Place::Space(org, space.clone())),
                Scope::App(app) => self.app(app).await?.map(|(app, _)| Place::App(app)),
            })
        })
    }

    /// `scope` in words, by name, as [`DirectoryReader::describe`] says.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::Backend`].
    fn describe<'a>(&'a self, scope: &'a Scope) -> BoxFuture<'a, Result<String, DirectoryError>> {
        Box::pin(async move {
            Ok(match scope {
                Scope::Foundation => "the foundation".to_owned(),
                Scope::Org(org) => {
                    let label = self
                        .org_name(org)
                        .await?
                        .map_or_else(|| org.to_string(), |n| n.to_string());
                    format!("organization `{label}`")
                }
                Scope::Space(space) => match self.space(space).await? {
                    Some((org, name)) => {
                        let label = self
                            .org_name(&org)
                            .await?
                            .map_or_else(|| org.to_string(), |n| n.to_string());
                        format!("space `{name}` of organization `{label}`")
                    }
                    None => format!("space `{space}`"),
                },
                Scope::App(app) => match self.app(app).await? {
                    Some((a, name)) => {
                        let label = self
                            .space(a.space())
                            .await?
                            .map_or_else(|| a.space().to_string(), |(_, n)| n.to_string());
                        format!("app `{name}` in space `{label}`")
                    }
                    None => format!("app `{app}`"),
                },
            })
        })
    }
}

/// [`DirectoryWriter`], async.
///
/// # Contract
///
/// [`DirectoryWriter`]'s, word for word: names unique where cf wants them,
/// ids never reused (R13), missing is [`DirectoryError::Unknown`], each
/// call one step that changes all or nothing, and concurrent calls
/// serialized by the backend.
pub trait AsyncDirectoryWriter: AsyncDirectoryReader {
    writer_methods!(declare_async);
}

macro_rules! forward_async_directory {
    ($($ty:ty),*) => {$(
        impl<D: AsyncDirectoryReader + ?Sized> AsyncDirectoryReader for $ty {
            reader_methods!(forward_async);
            derived_methods!(forward_async);
        }

        impl<D: AsyncDirectoryWriter + ?Sized> AsyncDirectoryWriter for $ty {
            writer_methods!(forward_async);
        }
    )*};
}

forward_async_directory!(&D, Box<D>, Arc<D>);

/// A sync directory used as an async one, each call run inline in its
/// future, which is ready at its first poll: the one adapter from
/// [`DirectoryReader`] and [`DirectoryWriter`] to the async traits
/// (STYLE 13), as `InlineStore` is for stores. [`Manager`](crate::manage::Manager)
/// drives its [`AsyncManager`](crate::manage::AsyncManager) over one, with
/// `block_on_ready`. Right for directories that never wait on a network
/// ([`MemoryDirectory`](super::MemoryDirectory), a
/// `SqliteDirectory` in a transaction).
///
/// ```
/// use registry_credentials_cf::directory::{AsyncDirectoryWriter, InlineDirectory, MemoryDirectory};
/// fn takes_async_directory(_: &dyn AsyncDirectoryWriter) {}
/// takes_async_directory(&InlineDirectory(MemoryDirectory::new()));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct InlineDirectory<D>(pub D);

impl<D: DirectoryReader> AsyncDirectoryReader for InlineDirectory<D> {
    reader_methods!(inline);
}

impl<D: DirectoryWriter> AsyncDirectoryWriter for InlineDirectory<D> {
    writer_methods!(inline);
}
