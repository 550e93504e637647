//! Which apps a credential reaches (R29): the apps whose next pull would
//! use a stored credential now ([`AsyncManager::apps_using`]), and the
//! apps whose chosen credential a proposed create, update or delete would
//! change, before and after ([`AsyncManager::dry_run`]), computed without
//! writing anything.
//!
//! Each app's next pull is the image its last started push ran, which the
//! directory records ([`app_images`](crate::directory::DirectoryReader::app_images)),
//! resolved by the core's one resolver
//! ([`resolve_async`](registry_credentials::resolve::resolve_async)): over
//! the store for what happens now, and over an [`Overlay`] of the store
//! and the proposed change for what would happen after it. A change at one
//! scope and location can only change the pulls of apps at or inside that
//! scope whose image has that location among its candidates (R10–R14), so
//! those alone are resolved.

use std::collections::BTreeMap;
use std::sync::Arc;

use registry_credentials::credential::{Credential, CredentialUpdate, Username};
use registry_credentials::identity::Guid;
use registry_credentials::resolve::{Resolution, resolve_async};
use registry_credentials::scope::{OrgId, SpaceId, UserId};
use registry_credentials::store::{
    AsyncCredentialSource, AsyncCredentialStore, BoxFuture, CredentialStore, Key, StoreError,
    block_on_ready,
};
use registry_credentials::{App, Location, Reference, RegistryCredential, Scope, ScopeKind};

use super::{AsyncManager, Gate, ManageError, Manager};
use crate::access::{self, Operation};
use crate::directory::{AsyncDirectoryWriter, DirectoryWriter, Name};

/// A stored credential, named by its GUID or by its scope and location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// By its GUID (R22), as the platform's resource names it.
    Guid(Guid),
    /// By its scope and location (R13), as the cf commands name it.
    At(Scope, Location),
}

/// A change to the stored credentials, proposed: what
/// [`AsyncManager::dry_run`] works out the reach of. Labels and
/// annotations play no part in a pull, so a change of metadata alone
/// reaches no app.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Proposal {
    /// A new credential at foundation, organization or space scope (R16).
    Create(RegistryCredential),
    /// A change to a stored credential (R17, R22, R25).
    Update(Stored, CredentialUpdate),
    /// Deleting a stored credential (R18).
    Delete(Stored),
}

/// An app, with the names of its space and organization and the image its
/// next pull resolves (R29).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRef {
    app: App,
    name: Name,
    space_name: Name,
    org_name: Name,
    image: Reference,
}

impl AppRef {
    /// The app, with its space's and organization's ids.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Its name.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// The name of its space.
    pub fn space_name(&self) -> &Name {
        &self.space_name
    }

    /// The name of its organization.
    pub fn org_name(&self) -> &Name {
        &self.org_name
    }

    /// The image its last started push ran: what its next pull resolves.
    pub fn image(&self) -> &Reference {
        &self.image
    }
}

/// Which credential a pull uses: its GUID (`None` for one a proposed
/// create would store, which has none yet), scope, location and username.
/// Never its secret (R21).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRef {
    guid: Option<Guid>,
    scope: Scope,
    location: Location,
    username: Username,
}

impl CredentialRef {
    fn of(credential: &RegistryCredential) -> Self {
        CredentialRef {
            guid: credential.record().map(|r| r.guid()),
            scope: credential.scope().clone(),
            location: credential.location().clone(),
            username: credential.username().clone(),
        }
    }

    /// Its GUID (R22); `None` for the credential of a proposed create.
    pub fn guid(&self) -> Option<Guid> {
        self.guid
    }

    /// The scope it is stored at.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The kind of that scope.
    pub fn scope_kind(&self) -> ScopeKind {
        self.scope.kind()
    }

    /// The location it is stored under.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Its username.
    pub fn username(&self) -> &Username {
        &self.username
    }
}

/// An app whose next pull a proposed change would change: the credential
/// it uses now and the one it would use after (`None`: none, R15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    app: AppRef,
    before: Option<CredentialRef>,
    after: Option<CredentialRef>,
}

impl Move {
    /// The app.
    pub fn app(&self) -> &AppRef {
        &self.app
    }

    /// The credential its next pull uses now.
    pub fn before(&self) -> Option<&CredentialRef> {
        self.before.as_ref()
    }

    /// The credential its next pull would use after the change.
    pub fn after(&self) -> Option<&CredentialRef> {
        self.after.as_ref()
    }

    /// True when the app keeps the same stored credential, whose username
    /// or secret the change replaces: an update reaches every app that
    /// uses the credential, without a push (R17).
    pub fn keeps_the_credential(&self) -> bool {
        match (&self.before, &self.after) {
            (Some(b), Some(a)) => b.guid.is_some() && b.guid == a.guid,
            _ => false,
        }
    }
}

/// A credential store seen with one proposed change made, in memory: a
/// look-up of the changed key answers what the change would leave there
/// (the new or updated credential, or nothing for a delete), every other
/// key what the store holds. The core's resolver runs over it unchanged,
/// so the answer after a change comes from the same rules as the answer
/// now; nothing is written.
///
/// It answers [`first_match`](AsyncCredentialSource::first_match) with one
/// look-up of the store (two when the store's answer is the credential a
/// delete removes), so a database store still reads the winner alone.
pub struct Overlay<'a, S: ?Sized> {
    store: &'a S,
    /// The credential at the changed key: the new one for a create or an
    /// update, the one removed for a delete.
    at: Arc<RegistryCredential>,
    /// True when the change leaves `at` there (a create or an update),
    /// false when it removes what is there (a delete).
    put: bool,
}

impl<'a, S: ?Sized> Overlay<'a, S> {
    /// `store` with `credential` stored at its scope and location in place
    /// of whatever is there.
    pub fn with(store: &'a S, credential: Arc<RegistryCredential>) -> Self {
        Overlay {
            store,
            at: credential,
            put: true,
        }
    }

    /// `store` without the credential stored at `credential`'s scope and
    /// location.
    pub fn without(store: &'a S, credential: Arc<RegistryCredential>) -> Self {
        Overlay {
            store,
            at: credential,
            put: false,
        }
    }

    /// Where `keys` holds the changed key, if it does.
    fn position(&self, keys: &[Key<'_>]) -> Option<usize> {
        let changed = Key::of(&self.at);
        keys.iter().position(|k| *k == changed)
    }
}

impl<S: AsyncCredentialSource + ?Sized> AsyncCredentialSource for Overlay<'_, S> {
    fn get_many<'a>(
        &'a self,
        keys: &'a [Key<'a>],
    ) -> BoxFuture<'a, Result<Vec<Option<Arc<RegistryCredential>>>, StoreError>> {
        Box::pin(async move {
            let mut found = self.store.get_many(keys).await?;
            if let Some(i) = self.position(keys) {
                found[i] = self.put.then(|| Arc::clone(&self.at));
            }
            Ok(found)
        })
    }

    fn first_match<'a>(
        &'a self,
        keys: &'a [Key<'a>],
    ) -> BoxFuture<'a, Result<Option<(usize, Arc<RegistryCredential>)>, StoreError>> {
        Box::pin(async move {
            let Some(p) = self.position(keys) else {
                return self.store.first_match(keys).await;
            };
            if self.put {
                // The keys before the changed one win over it; else it does.
                return Ok(Some(
                    self.store
                        .first_match(&keys[..p])
                        .await?
                        .unwrap_or_else(|| (p, Arc::clone(&self.at))),
                ));
            }
            match self.store.first_match(keys).await? {
                // The deleted one: what follows it decides.
                Some((i, _)) if i == p => Ok(self
                    .store
                    .first_match(&keys[p + 1..])
                    .await?
                    .map(|(j, c)| (p + 1 + j, c))),
                other => Ok(other),
            }
        })
    }
}

/// What a pull sends, for telling whether a change changes it: the stored
/// credential (by GUID) and its username and secret.
fn sent(resolution: Option<&Resolution>) -> Option<(Option<Guid>, &Credential)> {
    resolution.map(|r| (r.stored().record().map(|r| r.guid()), r.credential()))
}

/// The names of organizations and spaces, each looked up once.
#[derive(Default)]
struct Names {
    orgs: BTreeMap<OrgId, Name>,
    spaces: BTreeMap<SpaceId, Name>,
}

impl<D: AsyncDirectoryWriter + ?Sized> Gate<'_, D> {
    /// The apps at or inside `within` whose recorded image has `location`
    /// among its candidates (R10, R11): the only apps whose pulls a
    /// credential at `within` and `location` can serve.
    async fn apps_reached(
        &self,
        within: &Scope,
        location: &Location,
    ) -> Result<Vec<(App, Name, Reference)>, ManageError> {
        let mut apps = self.directory.app_images(within).await?;
        apps.retain(|(_, _, image)| image.candidates().any(|c| c.as_str() == location.as_str()));
        Ok(apps)
    }

    /// `app` as an [`AppRef`], with its space's and organization's names;
    /// `None` when the directory no longer knows them.
    async fn app_ref(
        &self,
        names: &mut Names,
        (app, name, image): (App, Name, Reference),
    ) -> Result<Option<AppRef>, ManageError> {
        if !names.spaces.contains_key(app.space()) {
            let Some((_, space_name)) = self.directory.space(app.space()).await? else {
                return Ok(None);
            };
            names.spaces.insert(app.space().clone(), space_name);
        }
        if !names.orgs.contains_key(app.org()) {
            let Some(org_name) = self.directory.org_name(app.org()).await? else {
                return Ok(None);
            };
            names.orgs.insert(app.org().clone(), org_name);
        }
        Ok(Some(AppRef {
            space_name: names.spaces[app.space()].clone(),
            org_name: names.orgs[app.org()].clone(),
            app,
            name,
            image,
        }))
    }
}

/// In the order a listing shows them: by organization, space and app
/// name.
fn order(apps: &mut [impl AsRef<AppRef>]) {
    apps.sort_by(|a, b| {
        let (a, b) = (a.as_ref(), b.as_ref());
        (&a.org_name, &a.space_name, &a.name, a.app.id()).cmp(&(
            &b.org_name,
            &b.space_name,
            &b.name,
            b.app.id(),
        ))
    });
}

impl AsRef<AppRef> for AppRef {
    fn as_ref(&self) -> &AppRef {
        self
    }
}

impl AsRef<AppRef> for Move {
    fn as_ref(&self) -> &AppRef {
        &self.app
    }
}

impl<S: AsyncCredentialStore, D: AsyncDirectoryWriter> AsyncManager<S, D> {
    /// [`Manager::apps_using`], async.
    ///
    /// # Errors
    ///
    /// As [`Manager::apps_using`].
    pub async fn apps_using(
        &self,
        caller: &UserId,
        credential: &Stored,
    ) -> Result<Vec<AppRef>, ManageError> {
        let gate = Gate::new(self.directory());
        let found = self.stored_one(caller, Operation::Read, credential).await?;
        let guid = found.record().map(|r| r.guid());
        let roles = gate.roles(caller).await?;
        let mut names = Names::default();
        let mut apps = Vec::new();
        for reached in gate.apps_reached(found.scope(), found.location()).await? {
            if !access::may_see_app(&roles, &reached.0) {
                continue;
            }
            let now = resolve_async(self.store(), &reached.0, &reached.2)
                .await
                .map_err(ManageError::Store)?;
            let uses = now.is_some_and(|r| r.stored().record().map(|r| r.guid()) == guid);
            if uses {
                apps.extend(gate.app_ref(&mut names, reached).await?);
            }
        }
        order(&mut apps);
        Ok(apps)
    }

    /// [`Manager::dry_run`], async.
    ///
    /// # Errors
    ///
    /// As [`Manager::dry_run`].
    pub async fn dry_run(
        &self,
        caller: &UserId,
        proposal: Proposal,
    ) -> Result<Vec<Move>, ManageError> {
        let gate = Gate::new(self.directory());
        let overlay = match proposal {
            Proposal::Create(credential) => {
                if credential.scope().kind() == ScopeKind::App {
                    return Err(ManageError::AppCredentialByPush);
                }
                gate.check(caller, Operation::Create, credential.scope())
                    .await?;
                let held = self
                    .store()
                    .get(Key::of(&credential))
                    .await
                    .map_err(ManageError::Store)?;
                if held.is_some() {
                    let conflict = StoreError::Conflict {
                        scope: credential.scope().clone(),
                        location: credential.location().clone(),
                    };
                    return Err(gate.store_error(conflict).await);
                }
                Overlay::with(self.store(), Arc::new(credential))
            }
            Proposal::Update(which, update) => {
                let found = self.stored_one(caller, Operation::Update, &which).await?;
                let updated = found
                    .updated(update)
                    .map_err(|e| ManageError::Store(StoreError::Metadata(e)))?;
                Overlay::with(self.store(), Arc::new(updated))
            }
            Proposal::Delete(which) => {
                let found = self.stored_one(caller, Operation::Delete, &which).await?;
                Overlay::without(self.store(), found)
            }
        };
        let roles = gate.roles(caller).await?;
        let changed = Arc::clone(&overlay.at);
        let mut names = Names::default();
        let mut moves = Vec::new();
        for reached in gate
            .apps_reached(changed.scope(), changed.location())
            .await?
        {
            // Whoever may make the change sees every app it reaches: the
            // apps of the changed scope (R29's reading of R20); the check
            // keeps the read rule in one place all the same.
            if !access::may_see_app(&roles, &reached.0) {
                continue;
            }
            let (app, image) = (&reached.0, &reached.2);
            let now = resolve_async(self.store(), app, image).await;
            let now = now.map_err(ManageError::Store)?;
            let after = resolve_async(&overlay, app, image).await;
            let after = after.map_err(ManageError::Store)?;
            if sent(now.as_ref()) == sent(after.as_ref()) {
                continue;
            }
            let (before, after) = (
                now.map(|r| CredentialRef::of(r.stored())),
                after.map(|r| CredentialRef::of(r.stored())),
            );
            if let Some(app) = gate.app_ref(&mut names, reached).await? {
                moves.push(Move { app, before, after });
            }
        }
        order(&mut moves);
        Ok(moves)
    }

    /// The stored credential `which` names, once `caller` may do
    /// `operation` to it: by GUID, one the caller may not see is not found
    /// (R21, R22); by scope and location, the scope's access rules decide
    /// first (R20, R21), then a missing one is not found (R17, R18).
    async fn stored_one(
        &self,
        caller: &UserId,
        operation: Operation,
        which: &Stored,
    ) -> Result<Arc<RegistryCredential>, ManageError> {
        let gate = Gate::new(self.directory());
        match which {
            Stored::Guid(guid) => {
                let found = self
                    .store()
                    .get_by_guid(*guid)
                    .await
                    .map_err(ManageError::Store)?
                    .ok_or(ManageError::GuidNotFound { guid: *guid })?;
                gate.check_stored(caller, operation, *guid, &found).await?;
                Ok(found)
            }
            Stored::At(scope, location) => {
                gate.check(caller, operation, scope).await?;
                let key = Key::new(scope.as_scope_ref(), location);
                match self.store().get(key).await {
                    Ok(Some(found)) => Ok(found),
                    Ok(None) => Err(gate
                        .store_error(StoreError::not_found(scope.as_scope_ref(), location))
                        .await),
                    Err(e) => Err(ManageError::Store(e)),
                }
            }
        }
    }
}

impl<S: CredentialStore, D: DirectoryWriter> Manager<S, D> {
    /// The apps whose next pull would use `credential` now (R29), if
    /// `caller` may see it (R21), in order of organization, space and app
    /// name: every app whose recorded image (the one its last started push
    /// ran) resolves to it (R14). Only apps `caller` may see are listed
    /// ([`access::may_see_app`]); the rest are left out without a trace,
    /// as R21's listings leave out what the caller may not see.
    ///
    /// # Errors
    ///
    /// [`ManageError::GuidNotFound`] for a GUID no credential has or the
    /// caller may not see; by scope and location, [`ManageError::Unknown`]
    /// for a scope not in the directory, [`ManageError::Permission`] when
    /// the caller may not see it, [`ManageError::NotFound`];
    /// [`ManageError::Directory`], [`ManageError::Store`].
    pub fn apps_using(
        &self,
        caller: &UserId,
        credential: &Stored,
    ) -> Result<Vec<AppRef>, ManageError> {
        block_on_ready(self.as_async().apps_using(caller, credential))
    }

    /// Every app whose next pull `proposal` would change (R29), with the
    /// credential it uses now and the one it would use after, worked out
    /// over the store with the change made in memory ([`Overlay`]):
    /// nothing is written. An app is listed when the stored credential its
    /// pull uses would differ, or its username or secret would (an update
    /// of the credential it uses); a change of labels or annotations alone,
    /// or of an expiry that leaves the same winner, lists none.
    ///
    /// The proposal is checked as the change itself would be, and refused
    /// with the same errors: the caller must be allowed to make it (R20),
    /// a create must not be at app scope (R19) nor at a location taken
    /// (R16), an update or delete must name a stored credential (R17,
    /// R18). Whoever may make a change sees every app it reaches: a
    /// change at one scope reaches only the apps at or inside it, and its
    /// befores and afters are credentials of that scope or a wider one.
    ///
    /// # Errors
    ///
    /// [`ManageError::AppCredentialByPush`], [`ManageError::Unknown`],
    /// [`ManageError::Permission`], [`ManageError::Conflict`],
    /// [`ManageError::NotFound`], [`ManageError::GuidNotFound`],
    /// [`ManageError::Store`] (with
    /// [`StoreError::Metadata`] for a metadata patch the update would
    /// refuse), [`ManageError::Directory`].
    pub fn dry_run(&self, caller: &UserId, proposal: Proposal) -> Result<Vec<Move>, ManageError> {
        block_on_ready(self.as_async().dry_run(caller, proposal))
    }
}
