//! The conformance suite every directory must pass: the contracts of
//! [`DirectoryReader`](super::DirectoryReader) and
//! [`DirectoryWriter`](super::DirectoryWriter) (names unique where cf
//! wants them, ids never reused (R13), missing is `None` for a look-up and
//! [`DirectoryError::Unknown`] for a change, lists in name order, removals
//! that take what is inside along, space roles that make Org Users (R21),
//! the image each app runs, found by scope and removed with its app
//! (R29)).
//!
//! The suite is written once, over [`AsyncDirectoryWriter`], as the core's
//! store suite is: a sync directory runs it through
//! [`InlineDirectory`](super::InlineDirectory) with `block_on_ready`, an
//! async one on its runtime. [`CHECKS`] lists every check;
//! [`directory_conformance!`](crate::directory_conformance) makes one
//! `#[test]` of each, from the same list. Each check is a private function
//! that only that list uses, so a check left out of it is dead code, which
//! the build refuses (`-D warnings`).
//!
//! The test module defines `fn run(check: Check)`, which runs `check` on a
//! fresh, empty directory to its end, then calls the macro:
//!
//! ```
//! mod memory_directory_conformance {
//!     use registry_credentials::store::block_on_ready;
//!     use registry_credentials_cf::directory::conformance::Check;
//!     use registry_credentials_cf::directory::{InlineDirectory, MemoryDirectory};
//!
//!     fn run(check: Check) {
//!         block_on_ready(check(&InlineDirectory(MemoryDirectory::new())));
//!     }
//!
//!     registry_credentials_cf::directory_conformance!();
//! }
//! ```
//!
//! A backend that needs a server nobody may have (PostgreSQL) passes
//! `ignore = "why"`: its tests are `#[ignore]`d with that reason, so a run
//! without the server reports them as ignored, not passed.

use registry_credentials::scope::{AppId, OrgId, SpaceId, UserId};
use registry_credentials::store::BoxFuture;
use registry_credentials::{Reference, Scope};

use super::{AsyncDirectoryWriter, DirectoryError, Name, Place};
use crate::access::{GlobalRole, OrgRole, SpaceRole};

/// One check: runs on a fresh, empty directory, and panics where the
/// directory breaks its contract.
pub type Check = for<'a> fn(&'a dyn AsyncDirectoryWriter) -> BoxFuture<'a, ()>;

/// One `#[test]` per check of the suite, each calling the `run(check:
/// Check)` the calling module defines. `directory_conformance!(ignore =
/// "why")` marks them `#[ignore = "why"]`.
#[macro_export]
macro_rules! directory_conformance {
    () => {
        $crate::directory_conformance!(@list @tests []);
    };
    (ignore = $reason:literal) => {
        $crate::directory_conformance!(@list @tests [#[ignore = $reason]]);
    };
    // The one list of checks; `CHECKS` is made from it too.
    (@list $($then:tt)*) => {
        $crate::directory_conformance!($($then)* [
            r13_names_are_unique_where_cf_wants_them,
            r13_ids_are_never_reused,
            missing_is_none_for_look_ups_and_unknown_for_changes,
            look_ups_by_name_and_by_id_agree,
            lists_are_in_name_order,
            r21_a_space_role_makes_an_org_user,
            r13_removing_takes_what_is_inside_along,
            r29_app_images_are_recorded_by_scope_and_go_with_their_app,
        ]);
    };
    (@tests $attrs:tt [$($name:ident),* $(,)?]) => {
        $( $crate::directory_conformance!(@test $attrs $name); )*
    };
    (@test [$($attr:tt)*] $name:ident) => {
        #[test]
        $($attr)*
        fn $name() {
            run($crate::directory::conformance::check(stringify!($name)));
        }
    };
    (@checks [$($name:ident),* $(,)?]) => {
        /// Every check of the suite, by name: what
        /// [`directory_conformance!`](crate::directory_conformance) runs,
        /// one `#[test]` each.
        pub const CHECKS: &[(&str, Check)] = &[
            $( (stringify!($name), |d| Box::pin($name(d))), )*
        ];
    };
}

crate::directory_conformance!(@list @checks);

/// The check called `name`.
///
/// # Panics
///
/// When no check has that name.
pub fn check(name: &str) -> Check {
    CHECKS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| *c)
        .unwrap_or_else(|| panic!("no directory conformance check is called `{name}`"))
}

fn n(s: &str) -> Name {
    Name::new(s).expect("a valid name")
}

fn org(s: &str) -> OrgId {
    OrgId::new(s).expect("a valid id")
}

fn space(s: &str) -> SpaceId {
    SpaceId::new(s).expect("a valid id")
}

fn app(s: &str) -> AppId {
    AppId::new(s).expect("a valid id")
}

fn user(s: &str) -> UserId {
    UserId::new(s).expect("a valid id")
}

/// Organization `o1` (`org`) with spaces `s1` (`b-space`) and `s2`
/// (`a-space`), and apps `a1` (`web`) and `a2` (`api`) in `s1`.
async fn seed(d: &dyn AsyncDirectoryWriter) {
    d.add_org(org("o1"), n("org")).await.unwrap();
    d.add_space(space("s1"), &org("o1"), n("b-space"))
        .await
        .unwrap();
    d.add_space(space("s2"), &org("o1"), n("a-space"))
        .await
        .unwrap();
    d.add_app(app("a1"), &space("s1"), n("web")).await.unwrap();
    d.add_app(app("a2"), &space("s1"), n("api")).await.unwrap();
}

fn is_name_taken<T: std::fmt::Debug>(r: Result<T, DirectoryError>) -> bool {
    matches!(r, Err(DirectoryError::NameTaken { .. }))
}

fn is_id_taken<T: std::fmt::Debug>(r: Result<T, DirectoryError>) -> bool {
    matches!(r, Err(DirectoryError::IdTaken { .. }))
}

fn is_unknown<T: std::fmt::Debug>(r: Result<T, DirectoryError>) -> bool {
    matches!(r, Err(DirectoryError::Unknown { .. }))
}

async fn r13_names_are_unique_where_cf_wants_them(d: &dyn AsyncDirectoryWriter) {
    seed(d).await;
    assert!(is_name_taken(d.add_org(org("o2"), n("org")).await));
    // A refused change changes nothing.
    assert_eq!(d.org_name(&org("o2")).await.unwrap(), None);
    let e = d
        .add_space(space("s3"), &org("o1"), n("a-space"))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "space `a-space` already exists in organization `org`; choose another name"
    );
    assert!(is_name_taken(
        d.add_app(app("a3"), &space("s1"), n("web")).await
    ));
    assert_eq!(d.app(&app("a3")).await.unwrap(), None);
    // Space names are unique in their organization only, app names in
    // their space only.
    d.add_org(org("o2"), n("other")).await.unwrap();
    d.add_space(space("s3"), &org("o2"), n("a-space"))
        .await
        .unwrap();
    d.add_app(app("a3"), &space("s2"), n("web")).await.unwrap();
}

async fn r13_ids_are_never_reused(d: &dyn AsyncDirectoryWriter) {
    seed(d).await;
    assert!(is_id_taken(d.add_org(org("o1"), n("again")).await));
    assert!(is_id_taken(
        d.add_space(space("s1"), &org("o1"), n("again")).await
    ));
    assert!(is_id_taken(
        d.add_app(app("a1"), &space("s2"), n("again")).await
    ));
    d.remove_app(&app("a2")).await.unwrap();
    assert!(is_id_taken(
        d.add_app(app("a2"), &space("s1"), n("api")).await
    ));
    d.remove_org(&org("o1")).await.unwrap();
    // The name is free again; no removed id is, inside or out.
    d.add_org(org("o2"), n("org")).await.unwrap();
    assert!(is_id_taken(d.add_org(org("o1"), n("x")).await));
    assert!(is_id_taken(
        d.add_space(space("s1"), &org("o2"), n("x")).await
    ));
    assert!(is_id_taken(
        d.add_space(space("s2"), &org("o2"), n("x")).await
    ));
    d.add_space(space("s9"), &org("o2"), n("x")).await.unwrap();
    assert!(is_id_taken(
        d.add_app(app("a1"), &space("s9"), n("y")).await
    ));
    assert_eq!(d.org_name(&org("o1")).await.unwrap(), None);
}

async fn missing_is_none_for_look_ups_and_unknown_for_changes(d: &dyn AsyncDirectoryWriter) {
    assert_eq!(d.org_by_name("org").await.unwrap(), None);
    assert_eq!(d.space_by_name(&org("o1"), "s").await.unwrap(), None);
    assert_eq!(d.app_by_name(&space("s1"), "a").await.unwrap(), None);
    assert_eq!(d.org_name(&org("o1")).await.unwrap(), None);
    assert_eq!(d.space(&space("s1")).await.unwrap(), None);
    assert_eq!(d.app(&app("a1")).await.unwrap(), None);
    assert!(d.apps_in(&space("s1")).await.unwrap().is_empty());
    assert!(d.spaces_in(&org("o1")).await.unwrap().is_empty());
    assert_eq!(d.roles(&user("nobody")).await.unwrap(), Default::default());
    assert_eq!(d.place(&Scope::Org(org("o1"))).await.unwrap(), None);
    assert_eq!(
        d.describe(&Scope::App(app("a1"))).await.unwrap(),
        "app `a1`"
    );
    assert!(is_unknown(
        d.add_space(space("s1"), &org("o1"), n("s")).await
    ));
    assert!(is_unknown(d.add_app(app("a1"), &space("s1"), n("a")).await));
    assert!(is_unknown(
        d.grant_org(user("u"), &org("o1"), OrgRole::User).await
    ));
    assert!(is_unknown(
        d.grant_space(user("u"), &space("s1"), SpaceRole::Auditor)
            .await
    ));
    assert!(is_unknown(d.remove_org(&org("o1")).await));
    assert!(is_unknown(d.remove_space(&space("s1")).await));
    assert!(is_unknown(d.remove_app(&app("a1")).await));
    // A refused grant leaves no role behind.
    assert_eq!(d.roles(&user("u")).await.unwrap(), Default::default());
}

async fn look_ups_by_name_and_by_id_agree(d: &dyn AsyncDirectoryWriter) {
    seed(d).await;
    assert_eq!(d.org_by_name("org").await.unwrap(), Some(org("o1")));
    assert_eq!(d.org_name(&org("o1")).await.unwrap(), Some(n("org")));
    assert_eq!(
        d.space_by_name(&org("o1"), "b-space").await.unwrap(),
        Some(space("s1"))
    );
    assert_eq!(
        d.space(&space("s1")).await.unwrap(),
        Some((org("o1"), n("b-space")))
    );
    assert_eq!(
        d.app_by_name(&space("s1"), "web").await.unwrap(),
        Some(app("a1"))
    );
    assert_eq!(d.app_by_name(&space("s2"), "web").await.unwrap(), None);
    let (found, name) = d.app(&app("a1")).await.unwrap().unwrap();
    assert_eq!(
        (found.org(), found.space(), found.id(), name),
        (&org("o1"), &space("s1"), &app("a1"), n("web"))
    );
    assert_eq!(
        d.place(&Scope::App(app("a1"))).await.unwrap(),
        Some(Place::App(found))
    );
    assert_eq!(
        d.place(&Scope::Space(space("s2"))).await.unwrap(),
        Some(Place::Space(org("o1"), space("s2")))
    );
    assert_eq!(
        d.describe(&Scope::App(app("a1"))).await.unwrap(),
        "app `web` in space `b-space`"
    );
    assert_eq!(
        d.describe(&Scope::Space(space("s2"))).await.unwrap(),
        "space `a-space` of organization `org`"
    );
}

async fn lists_are_in_name_order(d: &dyn AsyncDirectoryWriter) {
    seed(d).await;
    assert_eq!(
        d.spaces_in(&org("o1")).await.unwrap(),
        [(space("s2"), n("a-space")), (space("s1"), n("b-space"))]
    );
    let apps: Vec<(AppId, Name)> = d
        .apps_in(&space("s1"))
        .await
        .unwrap()
        .into_iter()
        .map(|(a, name)| (a.id().clone(), name))
        .collect();
    assert_eq!(apps, [(app("a2"), n("api")), (app("a1"), n("web"))]);
    assert!(d.apps_in(&space("s2")).await.unwrap().is_empty());
}

async fn r21_a_space_role_makes_an_org_user(d: &dyn AsyncDirectoryWriter) {
    seed(d).await;
    d.add_org(org("o2"), n("other")).await.unwrap();
    let u = user("u");
    d.grant_global(u.clone(), GlobalRole::GlobalAuditor)
        .await
        .unwrap();
    d.grant_org(u.clone(), &org("o2"), OrgRole::Manager)
        .await
        .unwrap();
    // Granting a role held already changes nothing.
    for _ in 0..2 {
        d.grant_space(u.clone(), &space("s1"), SpaceRole::Developer)
            .await
            .unwrap();
    }
    let r = d.roles(&u).await.unwrap();
    assert!(r.has_global(GlobalRole::GlobalAuditor));
    assert!(r.has_org_role(&org("o2"), OrgRole::Manager));
    assert!(r.has_org_role(&org("o1"), OrgRole::User));
    assert!(!r.has_org_role(&org("o1"), OrgRole::Manager));
    assert!(r.has_space_role(&space("s1"), SpaceRole::Developer));
    assert!(!r.in_space(&space("s2")));
    assert_eq!(d.roles(&user("v")).await.unwrap(), Default::default());
}

async fn r13_removing_takes_what_is_inside_along(d: &dyn AsyncDirectoryWriter) {
    seed(d).await;
    d.add_org(org("o2"), n("other")).await.unwrap();
    let u = user("u");
    for (s, role) in [("s1", SpaceRole::Manager), ("s2", SpaceRole::Auditor)] {
        d.grant_space(u.clone(), &space(s), role).await.unwrap();
    }
    d.grant_org(u.clone(), &org("o2"), OrgRole::Manager)
        .await
        .unwrap();
    // An app alone.
    d.remove_app(&app("a2")).await.unwrap();
    assert_eq!(d.app(&app("a2")).await.unwrap(), None);
    assert_eq!(d.app_by_name(&space("s1"), "api").await.unwrap(), None);
    assert_eq!(d.apps_in(&space("s1")).await.unwrap().len(), 1);
    // A space, with its apps and the roles in it.
    d.remove_space(&space("s1")).await.unwrap();
    assert_eq!(d.space(&space("s1")).await.unwrap(), None);
    assert_eq!(d.app(&app("a1")).await.unwrap(), None);
    assert_eq!(d.spaces_in(&org("o1")).await.unwrap().len(), 1);
    let r = d.roles(&u).await.unwrap();
    assert!(!r.in_space(&space("s1")));
    assert!(r.has_space_role(&space("s2"), SpaceRole::Auditor));
    // An organization, with its spaces and every role held there; roles
    // elsewhere stay.
    d.remove_org(&org("o1")).await.unwrap();
    assert_eq!(d.org_by_name("org").await.unwrap(), None);
    assert_eq!(d.space(&space("s2")).await.unwrap(), None);
    let r = d.roles(&u).await.unwrap();
    assert!(!r.in_org(&org("o1")));
    assert!(!r.in_space(&space("s2")));
    assert!(r.has_org_role(&org("o2"), OrgRole::Manager));
}

fn image(s: &str) -> Reference {
    Reference::parse(s).expect("a valid reference")
}

/// The apps `within` holds with images, as (app id, name, image as
/// written, organization, space).
async fn images(
    d: &dyn AsyncDirectoryWriter,
    within: &Scope,
) -> Vec<(String, String, String, String, String)> {
    d.app_images(within)
        .await
        .unwrap()
        .into_iter()
        .map(|(a, name, image)| {
            (
                a.id().to_string(),
                name.to_string(),
                image.as_str().to_owned(),
                a.org().to_string(),
                a.space().to_string(),
            )
        })
        .collect()
}

fn row(
    app: &str,
    name: &str,
    image: &str,
    org: &str,
    space: &str,
) -> (String, String, String, String, String) {
    (
        app.to_owned(),
        name.to_owned(),
        image.to_owned(),
        org.to_owned(),
        space.to_owned(),
    )
}

async fn r29_app_images_are_recorded_by_scope_and_go_with_their_app(d: &dyn AsyncDirectoryWriter) {
    seed(d).await;
    // No push has started yet: no app has an image.
    assert!(images(d, &Scope::Foundation).await.is_empty());
    d.add_org(org("o2"), n("other")).await.unwrap();
    d.add_space(space("s3"), &org("o2"), n("x")).await.unwrap();
    d.add_app(app("a0"), &space("s3"), n("zz")).await.unwrap();
    d.set_app_image(&app("a2"), &image("registry.example.com/team/api:1"))
        .await
        .unwrap();
    d.set_app_image(&app("a1"), &image("Registry.Example.com/team/web"))
        .await
        .unwrap();
    d.set_app_image(&app("a0"), &image("nginx")).await.unwrap();
    // In app id order, each with its organization and space; the image
    // as it was written.
    let web = row("a1", "web", "Registry.Example.com/team/web", "o1", "s1");
    let api = row("a2", "api", "registry.example.com/team/api:1", "o1", "s1");
    let zz = row("a0", "zz", "nginx", "o2", "s3");
    assert_eq!(
        images(d, &Scope::Foundation).await,
        [zz.clone(), web.clone(), api.clone()]
    );
    assert_eq!(
        images(d, &Scope::Org(org("o1"))).await,
        [web.clone(), api.clone()]
    );
    assert_eq!(
        images(d, &Scope::Space(space("s1"))).await,
        [web.clone(), api.clone()]
    );
    assert!(images(d, &Scope::Space(space("s2"))).await.is_empty());
    assert_eq!(images(d, &Scope::App(app("a2"))).await, [api]);
    assert!(images(d, &Scope::App(app("nope"))).await.is_empty());
    // A later push replaces the image.
    d.set_app_image(&app("a1"), &image("registry.example.com/team/web:2"))
        .await
        .unwrap();
    let web2 = row("a1", "web", "registry.example.com/team/web:2", "o1", "s1");
    assert_eq!(
        images(d, &Scope::App(app("a1"))).await,
        std::slice::from_ref(&web2)
    );
    assert!(is_unknown(
        d.set_app_image(&app("nope"), &image("nginx")).await
    ));
    // Removing an app, or its space, removes its image; a removed app
    // gets none again.
    d.remove_app(&app("a2")).await.unwrap();
    assert_eq!(images(d, &Scope::Org(org("o1"))).await, [web2]);
    assert!(is_unknown(
        d.set_app_image(&app("a2"), &image("nginx")).await
    ));
    d.remove_space(&space("s1")).await.unwrap();
    assert_eq!(images(d, &Scope::Foundation).await, [zz]);
    d.remove_org(&org("o2")).await.unwrap();
    assert!(images(d, &Scope::Foundation).await.is_empty());
}
