//! The methods of the directory traits as one list per trait, every method
//! with its arguments and the `Ok` type of its result, so that whatever
//! repeats the traits' methods is written from that list once:
//!
//! - `declare_async`: the async traits' declarations, each documented as
//!   the sync method it mirrors (the list names the sync trait);
//! - `forward` and `forward_async`: the impls for `&D`, `Box<D>` and
//!   `Arc<D>`, which call the same method of `**self`;
//! - `inline`: [`InlineDirectory`](super::InlineDirectory), which runs the
//!   sync method of `self.0` in a future ready at once;
//! - `locked`: [`MemoryDirectory`](super::MemoryDirectory)'s changes, each
//!   the same method of its tables under the write lock.
//!
//! `reader_methods!($how)` and `writer_methods!($how)` expand the list of
//! [`DirectoryReader`](super::DirectoryReader)'s look-ups and of
//! [`DirectoryWriter`](super::DirectoryWriter)'s changes the `$how` way;
//! `derived_methods!($how)` the two methods the traits build on the
//! look-ups (`place`, `describe`), for the forwarding impls.

macro_rules! directory_methods {
    (declare_async $sync:ident: $($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {$(
        #[doc = concat!("[`", stringify!($sync), "::", stringify!($name), "`].")]
        fn $name<'a>(&'a self, $($arg: $ty),*) -> BoxFuture<'a, Result<$out, DirectoryError>>;
    )*};
    (forward $sync:ident: $($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {$(
        #[allow(clippy::needless_lifetimes, reason = "the lists name the lifetime `'a` that the async methods need")]
        fn $name<'a>(&'a self, $($arg: $ty),*) -> Result<$out, DirectoryError> {
            (**self).$name($($arg),*)
        }
    )*};
    (forward_async $sync:ident: $($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {$(
        fn $name<'a>(&'a self, $($arg: $ty),*) -> BoxFuture<'a, Result<$out, DirectoryError>> {
            (**self).$name($($arg),*)
        }
    )*};
    (inline $sync:ident: $($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {$(
        fn $name<'a>(&'a self, $($arg: $ty),*) -> BoxFuture<'a, Result<$out, DirectoryError>> {
            Box::pin(std::future::ready(self.0.$name($($arg),*)))
        }
    )*};
    (locked $sync:ident: $($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {$(
        #[allow(clippy::needless_lifetimes, reason = "the lists name the lifetime `'a` that the async methods need")]
        fn $name<'a>(&'a self, $($arg: $ty),*) -> Result<$out, DirectoryError> {
            self.write().$name($($arg),*)
        }
    )*};
}

/// [`DirectoryReader`](super::DirectoryReader)'s look-ups, for
/// `directory_methods!`.
macro_rules! reader_methods {
    ($how:ident) => {
        directory_methods! { $how DirectoryReader:
            roles(user: &'a UserId) -> Roles;
            org_by_name(name: &'a str) -> Option<OrgId>;
            space_by_name(org: &'a OrgId, name: &'a str) -> Option<SpaceId>;
            app_by_name(space: &'a SpaceId, name: &'a str) -> Option<AppId>;
            org_name(org: &'a OrgId) -> Option<Name>;
            space(space: &'a SpaceId) -> Option<(OrgId, Name)>;
            app(app: &'a AppId) -> Option<(App, Name)>;
            apps_in(space: &'a SpaceId) -> Vec<(App, Name)>;
            spaces_in(org: &'a OrgId) -> Vec<(SpaceId, Name)>;
            app_images(within: &'a Scope) -> Vec<(App, Name, Reference)>;
        }
    };
}

/// The reader's methods built on its look-ups, for the forwarding impls.
macro_rules! derived_methods {
    ($how:ident) => {
        directory_methods! { $how DirectoryReader:
            place(scope: &'a Scope) -> Option<Place>;
            describe(scope: &'a Scope) -> String;
        }
    };
}

/// [`DirectoryWriter`](super::DirectoryWriter)'s changes, for
/// `directory_methods!`.
macro_rules! writer_methods {
    ($how:ident) => {
        directory_methods! { $how DirectoryWriter:
            add_org(id: OrgId, name: Name) -> ();
            add_space(id: SpaceId, org: &'a OrgId, name: Name) -> ();
            add_app(id: AppId, space: &'a SpaceId, name: Name) -> ();
            set_app_image(app: &'a AppId, image: &'a Reference) -> ();
            remove_org(org: &'a OrgId) -> ();
            remove_space(space: &'a SpaceId) -> ();
            remove_app(app: &'a AppId) -> ();
            grant_global(user: UserId, role: GlobalRole) -> ();
            grant_org(user: UserId, org: &'a OrgId, role: OrgRole) -> ();
            grant_space(user: UserId, space: &'a SpaceId, role: SpaceRole) -> ();
        }
    };
}
