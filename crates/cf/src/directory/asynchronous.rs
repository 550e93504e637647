//! The directory's async, object-safe traits, and [`InlineDirectory`], the
//! one adapter from the sync traits to them.
//!
//! The methods return [`BoxFuture`], as the core's async store traits do,
//! so a service keeps `Arc<dyn AsyncDirectoryWriter>` in its state.

use std::sync::Arc;

use registry_credentials::scope::{AppId, OrgId, SpaceId, UserId};
use registry_credentials::store::BoxFuture;
use registry_credentials::{App, Scope};

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
    /// [`DirectoryReader::roles`].
    fn roles<'a>(&'a self, user: &'a UserId) -> BoxFuture<'a, Result<Roles, DirectoryError>>;

    /// [`DirectoryReader::org_by_name`].
    fn org_by_name<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<OrgId>, DirectoryError>>;

    /// [`DirectoryReader::space_by_name`].
    fn space_by_name<'a>(
        &'a self,
        org: &'a OrgId,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<SpaceId>, DirectoryError>>;

    /// [`DirectoryReader::app_by_name`].
    fn app_by_name<'a>(
        &'a self,
        space: &'a SpaceId,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<AppId>, DirectoryError>>;

    /// [`DirectoryReader::org_name`].
    fn org_name<'a>(
        &'a self,
        org: &'a OrgId,
    ) -> BoxFuture<'a, Result<Option<Name>, DirectoryError>>;

    /// [`DirectoryReader::space`].
    fn space<'a>(
        &'a self,
        space: &'a SpaceId,
    ) -> BoxFuture<'a, Result<Option<(OrgId, Name)>, DirectoryError>>;

    /// [`DirectoryReader::app`].
    fn app<'a>(
        &'a self,
        app: &'a AppId,
    ) -> BoxFuture<'a, Result<Option<(App, Name)>, DirectoryError>>;

    /// [`DirectoryReader::apps_in`].
    fn apps_in<'a>(
        &'a self,
        space: &'a SpaceId,
    ) -> BoxFuture<'a, Result<Vec<(App, Name)>, DirectoryError>>;

    /// [`DirectoryReader::spaces_in`].
    fn spaces_in<'a>(
        &'a self,
        org: &'a OrgId,
    ) -> BoxFuture<'a, Result<Vec<(SpaceId, Name)>, DirectoryError>>;

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
    /// [`DirectoryWriter::add_org`].
    fn add_org(&self, id: OrgId, name: Name) -> BoxFuture<'_, Result<(), DirectoryError>>;

    /// [`DirectoryWriter::add_space`].
    fn add_space<'a>(
        &'a self,
        id: SpaceId,
        org: &'a OrgId,
        name: Name,
    ) -> BoxFuture<'a, Result<(), DirectoryError>>;

    /// [`DirectoryWriter::add_app`].
    fn add_app<'a>(
        &'a self,
        id: AppId,
        space: &'a SpaceId,
        name: Name,
    ) -> BoxFuture<'a, Result<(), DirectoryError>>;

    /// [`DirectoryWriter::remove_org`].
    fn remove_org<'a>(&'a self, org: &'a OrgId) -> BoxFuture<'a, Result<(), DirectoryError>>;

    /// [`DirectoryWriter::remove_space`].
    fn remove_space<'a>(&'a self, space: &'a SpaceId) -> BoxFuture<'a, Result<(), DirectoryError>>;

    /// [`DirectoryWriter::remove_app`].
    fn remove_app<'a>(&'a self, app: &'a AppId) -> BoxFuture<'a, Result<(), DirectoryError>>;

    /// [`DirectoryWriter::grant_global`].
    fn grant_global(
        &self,
        user: UserId,
        role: GlobalRole,
    ) -> BoxFuture<'_, Result<(), DirectoryError>>;

    /// [`DirectoryWriter::grant_org`].
    fn grant_org<'a>(
        &'a self,
        user: UserId,
        org: &'a OrgId,
        role: OrgRole,
    ) -> BoxFuture<'a, Result<(), DirectoryError>>;

    /// [`DirectoryWriter::grant_space`].
    fn grant_space<'a>(
        &'a self,
        user: UserId,
        space: &'a SpaceId,
        role: SpaceRole,
    ) -> BoxFuture<'a, Result<(), DirectoryError>>;
}

/// The methods of the async directory traits as one list each, every
/// method with its arguments and the `Ok` type of its future, so that the
/// forwarding impls (`&D`, `Box<D>`, `Arc<D>`) and [`InlineDirectory`]
/// are written once: `directory_methods!(forward: …)` calls the same
/// method of `**self`, `directory_methods!(inline: …)` the sync method of
/// `self.0`, in a future ready at once.
macro_rules! directory_methods {
    (forward: $($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {$(
        fn $name<'a>(&'a self, $($arg: $ty),*) -> BoxFuture<'a, Result<$out, DirectoryError>> {
            (**self).$name($($arg),*)
        }
    )*};
    (inline: $($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {$(
        fn $name<'a>(&'a self, $($arg: $ty),*) -> BoxFuture<'a, Result<$out, DirectoryError>> {
            Box::pin(std::future::ready(self.0.$name($($arg),*)))
        }
    )*};
}

/// [`AsyncDirectoryReader`]'s required methods, for `directory_methods!`.
macro_rules! reader_methods {
    ($how:ident) => {
        directory_methods! { $how:
            roles(user: &'a UserId) -> Roles;
            org_by_name(name: &'a str) -> Option<OrgId>;
            space_by_name(org: &'a OrgId, name: &'a str) -> Option<SpaceId>;
            app_by_name(space: &'a SpaceId, name: &'a str) -> Option<AppId>;
            org_name(org: &'a OrgId) -> Option<Name>;
            space(space: &'a SpaceId) -> Option<(OrgId, Name)>;
            app(app: &'a AppId) -> Option<(App, Name)>;
            apps_in(space: &'a SpaceId) -> Vec<(App, Name)>;
            spaces_in(org: &'a OrgId) -> Vec<(SpaceId, Name)>;
        }
    };
}

/// [`AsyncDirectoryWriter`]'s methods, for `directory_methods!`.
macro_rules! writer_methods {
    ($how:ident) => {
        directory_methods! { $how:
            add_org(id: OrgId, name: Name) -> ();
            add_space(id: SpaceId, org: &'a OrgId, name: Name) -> ();
            add_app(id: AppId, space: &'a SpaceId, name: Name) -> ();
            remove_org(org: &'a OrgId) -> ();
            remove_space(space: &'a SpaceId) -> ();
            remove_app(app: &'a AppId) -> ();
            grant_global(user: UserId, role: GlobalRole) -> ();
            grant_org(user: UserId, org: &'a OrgId, role: OrgRole) -> ();
            grant_space(user: UserId, space: &'a SpaceId, role: SpaceRole) -> ();
        }
    };
}

macro_rules! forward_async_directory {
    ($($ty:ty),*) => {$(
        impl<D: AsyncDirectoryReader + ?Sized> AsyncDirectoryReader for $ty {
            reader_methods!(forward);
            directory_methods! { forward:
                place(scope: &'a Scope) -> Option<Place>;
                describe(scope: &'a Scope) -> String;
            }
        }

        impl<D: AsyncDirectoryWriter + ?Sized> AsyncDirectoryWriter for $ty {
            writer_methods!(forward);
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
