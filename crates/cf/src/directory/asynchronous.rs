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

macro_rules! forward_async_directory {
    ($($ty:ty),*) => {$(
        impl<D: AsyncDirectoryReader + ?Sized> AsyncDirectoryReader for $ty {
            fn roles<'a>(&'a self, user: &'a UserId) -> BoxFuture<'a, Result<Roles, DirectoryError>> {
                (**self).roles(user)
            }
            fn org_by_name<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<OrgId>, DirectoryError>> {
                (**self).org_by_name(name)
            }
            fn space_by_name<'a>(&'a self, org: &'a OrgId, name: &'a str) -> BoxFuture<'a, Result<Option<SpaceId>, DirectoryError>> {
                (**self).space_by_name(org, name)
            }
            fn app_by_name<'a>(&'a self, space: &'a SpaceId, name: &'a str) -> BoxFuture<'a, Result<Option<AppId>, DirectoryError>> {
                (**self).app_by_name(space, name)
            }
            fn org_name<'a>(&'a self, org: &'a OrgId) -> BoxFuture<'a, Result<Option<Name>, DirectoryError>> {
                (**self).org_name(org)
            }
            fn space<'a>(&'a self, space: &'a SpaceId) -> BoxFuture<'a, Result<Option<(OrgId, Name)>, DirectoryError>> {
                (**self).space(space)
            }
            fn app<'a>(&'a self, app: &'a AppId) -> BoxFuture<'a, Result<Option<(App, Name)>, DirectoryError>> {
                (**self).app(app)
            }
            fn apps_in<'a>(&'a self, space: &'a SpaceId) -> BoxFuture<'a, Result<Vec<(App, Name)>, DirectoryError>> {
                (**self).apps_in(space)
            }
            fn spaces_in<'a>(&'a self, org: &'a OrgId) -> BoxFuture<'a, Result<Vec<(SpaceId, Name)>, DirectoryError>> {
                (**self).spaces_in(org)
            }
            fn place<'a>(&'a self, scope: &'a Scope) -> BoxFuture<'a, Result<Option<Place>, DirectoryError>> {
                (**self).place(scope)
            }
            fn describe<'a>(&'a self, scope: &'a Scope) -> BoxFuture<'a, Result<String, DirectoryError>> {
                (**self).describe(scope)
            }
        }

        impl<D: AsyncDirectoryWriter + ?Sized> AsyncDirectoryWriter for $ty {
            fn add_org(&self, id: OrgId, name: Name) -> BoxFuture<'_, Result<(), DirectoryError>> {
                (**self).add_org(id, name)
            }
            fn add_space<'a>(&'a self, id: SpaceId, org: &'a OrgId, name: Name) -> BoxFuture<'a, Result<(), DirectoryError>> {
                (**self).add_space(id, org, name)
            }
            fn add_app<'a>(&'a self, id: AppId, space: &'a SpaceId, name: Name) -> BoxFuture<'a, Result<(), DirectoryError>> {
                (**self).add_app(id, space, name)
            }
            fn remove_org<'a>(&'a self, org: &'a OrgId) -> BoxFuture<'a, Result<(), DirectoryError>> {
                (**self).remove_org(org)
            }
            fn remove_space<'a>(&'a self, space: &'a SpaceId) -> BoxFuture<'a, Result<(), DirectoryError>> {
                (**self).remove_space(space)
            }
            fn remove_app<'a>(&'a self, app: &'a AppId) -> BoxFuture<'a, Result<(), DirectoryError>> {
                (**self).remove_app(app)
            }
            fn grant_global(&self, user: UserId, role: GlobalRole) -> BoxFuture<'_, Result<(), DirectoryError>> {
                (**self).grant_global(user, role)
            }
            fn grant_org<'a>(&'a self, user: UserId, org: &'a OrgId, role: OrgRole) -> BoxFuture<'a, Result<(), DirectoryError>> {
                (**self).grant_org(user, org, role)
            }
            fn grant_space<'a>(&'a self, user: UserId, space: &'a SpaceId, role: SpaceRole) -> BoxFuture<'a, Result<(), DirectoryError>> {
                (**self).grant_space(user, space, role)
            }
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

fn ready<'a, T: Send + 'a>(value: T) -> BoxFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

impl<D: DirectoryReader> AsyncDirectoryReader for InlineDirectory<D> {
    fn roles<'a>(&'a self, user: &'a UserId) -> BoxFuture<'a, Result<Roles, DirectoryError>> {
        ready(self.0.roles(user))
    }
    fn org_by_name<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<OrgId>, DirectoryError>> {
        ready(self.0.org_by_name(name))
    }
    fn space_by_name<'a>(
        &'a self,
        org: &'a OrgId,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<SpaceId>, DirectoryError>> {
        ready(self.0.space_by_name(org, name))
    }
    fn app_by_name<'a>(
        &'a self,
        space: &'a SpaceId,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<AppId>, DirectoryError>> {
        ready(self.0.app_by_name(space, name))
    }
    fn org_name<'a>(
        &'a self,
        org: &'a OrgId,
    ) -> BoxFuture<'a, Result<Option<Name>, DirectoryError>> {
        ready(self.0.org_name(org))
    }
    fn space<'a>(
        &'a self,
        space: &'a SpaceId,
    ) -> BoxFuture<'a, Result<Option<(OrgId, Name)>, DirectoryError>> {
        ready(self.0.space(space))
    }
    fn app<'a>(
        &'a self,
        app: &'a AppId,
    ) -> BoxFuture<'a, Result<Option<(App, Name)>, DirectoryError>> {
        ready(self.0.app(app))
    }
    fn apps_in<'a>(
        &'a self,
        space: &'a SpaceId,
    ) -> BoxFuture<'a, Result<Vec<(App, Name)>, DirectoryError>> {
        ready(self.0.apps_in(space))
    }
    fn spaces_in<'a>(
        &'a self,
        org: &'a OrgId,
    ) -> BoxFuture<'a, Result<Vec<(SpaceId, Name)>, DirectoryError>> {
        ready(self.0.spaces_in(org))
    }
}

impl<D: DirectoryWriter> AsyncDirectoryWriter for InlineDirectory<D> {
    fn add_org(&self, id: OrgId, name: Name) -> BoxFuture<'_, Result<(), DirectoryError>> {
        ready(self.0.add_org(id, name))
    }
    fn add_space<'a>(
        &'a self,
        id: SpaceId,
        org: &'a OrgId,
        name: Name,
    ) -> BoxFuture<'a, Result<(), DirectoryError>> {
        ready(self.0.add_space(id, org, name))
    }
    fn add_app<'a>(
        &'a self,
        id: AppId,
        space: &'a SpaceId,
        name: Name,
    ) -> BoxFuture<'a, Result<(), DirectoryError>> {
        ready(self.0.add_app(id, space, name))
    }
    fn remove_org<'a>(&'a self, org: &'a OrgId) -> BoxFuture<'a, Result<(), DirectoryError>> {
        ready(self.0.remove_org(org))
    }
    fn remove_space<'a>(&'a self, space: &'a SpaceId) -> BoxFuture<'a, Result<(), DirectoryError>> {
        ready(self.0.remove_space(space))
    }
    fn remove_app<'a>(&'a self, app: &'a AppId) -> BoxFuture<'a, Result<(), DirectoryError>> {
        ready(self.0.remove_app(app))
    }
    fn grant_global(
        &self,
        user: UserId,
        role: GlobalRole,
    ) -> BoxFuture<'_, Result<(), DirectoryError>> {
        ready(self.0.grant_global(user, role))
    }
    fn grant_org<'a>(
        &'a self,
        user: UserId,
        org: &'a OrgId,
        role: OrgRole,
    ) -> BoxFuture<'a, Result<(), DirectoryError>> {
        ready(self.0.grant_org(user, org, role))
    }
    fn grant_space<'a>(
        &'a self,
        user: UserId,
        space: &'a SpaceId,
        role: SpaceRole,
    ) -> BoxFuture<'a, Result<(), DirectoryError>> {
        ready(self.0.grant_space(user, space, role))
    }
}
