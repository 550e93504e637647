//! Audit events (R27): every management write records what it did, who did
//! it and where, in the same step as the change, and never a secret.
//!
//! A write to audit is a [`Write`]; a store's
//! [`audited`](super::CredentialStore::audited) runs it in one transaction
//! with [`apply`], which makes the change through the store's own calls,
//! and stores the [`AuditEvent`]s that [`Change::events`] makes of it
//! before the transaction commits. So a write that fails records nothing,
//! and one that commits always leaves its events.
//! [`audit_events`](super::CredentialStore::audit_events) lists them, by an
//! [`AuditQuery`].
//!
//! ```
//! use registry_credentials::store::audit::{Actor, AuditContext, AuditQuery, EventType, Write};
//! use registry_credentials::{Credential, CredentialStore, MemoryStore, RegistryCredential, Scope};
//! let store = MemoryStore::new();
//! let admin = AuditContext::new(Actor::new("admin-guid", "admin"));
//! let c = RegistryCredential::new(Scope::Foundation, "docker.io".parse()?, Credential::new("u", "p")?);
//! let written = store.audited(Write::Create(c), &admin)?;
//! assert_eq!(written.after().len(), 1);
//! let events = store.audit_events(&AuditQuery::new())?;
//! assert_eq!(events.total_results(), 1);
//! assert_eq!(events.resources()[0].event_type(), EventType::Create);
//! assert_eq!(events.resources()[0].actor().name(), "admin");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cmp::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::query::{Page, TimeFilter, list_filters};
use super::{AsyncCredentialStore, StoreError};
use crate::credential::{Credential, CredentialUpdate, RegistryCredential, Username};
use crate::identity::{Guid, seconds};
use crate::location::Location;
use crate::scope::{AppId, OrgId, Scope, SpaceId};

/// Who made a write: a user's id and the name it is shown by. The store
/// keeps both as given; a printer escapes them as it does every input
/// (R21).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor {
    id: Box<str>,
    name: Box<str>,
}

impl Actor {
    /// The user `id`, shown as `name`.
    pub fn new(id: impl Into<Box<str>>, name: impl Into<Box<str>>) -> Self {
        Actor {
            id: id.into(),
            name: name.into(),
        }
    }

    /// The user's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The name the user is shown by.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Who makes a write and where: the actor, and the organization and space
/// of the credential's scope (none for the foundation; the space too for a
/// space or an app). The caller knows the place; the store knows the rest
/// of each event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    actor: Actor,
    organization: Option<OrgId>,
    space: Option<SpaceId>,
}

impl AuditContext {
    /// Writes by `actor`, at the foundation until a place is given.
    pub fn new(actor: Actor) -> Self {
        AuditContext {
            actor,
            organization: None,
            space: None,
        }
    }

    /// In `organization`.
    #[must_use]
    pub fn in_organization(mut self, organization: OrgId) -> Self {
        self.organization = Some(organization);
        self
    }

    /// In `space`.
    #[must_use]
    pub fn in_space(mut self, space: SpaceId) -> Self {
        self.space = Some(space);
        self
    }

    /// Who makes the write.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The organization of the credential's scope, if any.
    pub fn organization(&self) -> Option<&OrgId> {
        self.organization.as_ref()
    }

    /// The space of the credential's scope, if any.
    pub fn space(&self) -> Option<&SpaceId> {
        self.space.as_ref()
    }
}

/// What an event records, by the platform's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EventType {
    /// A credential created (R16), one event per credential of a batch.
    Create,
    /// A credential's username, secret, kind, expiry or metadata changed
    /// (R17, R22).
    Update,
    /// A credential removed (R18), one event per credential a deletion of
    /// a scope removes (R13).
    Delete,
    /// An app's credential stored by a started push (R19): one event for
    /// the credential stored, naming those it replaced.
    Push,
}

crate::macros::enum_names! {
    /// Every type, in this order.
    ALL,
    /// The platform's name: `audit.registry_credential.create` and so on.
    EventType::as_str {
        Create => "audit.registry_credential.create",
        Update => "audit.registry_credential.update",
        Delete => "audit.registry_credential.delete",
        Push => "audit.app.registry_credential.push",
    }
    parse: UnknownEventType
}

/// A name that is no [`EventType`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{given:?} is not an audit event type; give one of {}", EventType::ALL.map(EventType::as_str).join(", "))]
pub struct UnknownEventType {
    given: String,
}

impl UnknownEventType {
    /// The error for `given`.
    fn unknown(given: &str) -> Self {
        UnknownEventType {
            given: given.to_owned(),
        }
    }
}

/// What a write changed in the credential an event is about: the username
/// before and after, and whether the secret and the metadata changed —
/// never a secret (R21, R27).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changes {
    username_before: Option<Username>,
    username_after: Option<Username>,
    password_changed: bool,
    metadata_changed: bool,
    replaced: Vec<Guid>,
}

impl Changes {
    /// No change recorded.
    pub fn new() -> Self {
        Changes::default()
    }

    /// The username before the write (none for a create) and after it
    /// (none for a delete).
    #[must_use]
    pub fn usernames(mut self, before: Option<Username>, after: Option<Username>) -> Self {
        self.username_before = before;
        self.username_after = after;
        self
    }

    crate::macros::setters! {
        /// Whether the secret (password or token) or its kind changed.
        password_changed(changed: bool) => password_changed = changed;
        /// Whether the labels or annotations changed.
        metadata_changed(changed: bool) => metadata_changed = changed;
        /// The app credentials a push replaced at other locations (R19).
        replaced(replaced: Vec<Guid>) => replaced = replaced;
    }

    /// The username before the write.
    pub fn username_before(&self) -> Option<&Username> {
        self.username_before.as_ref()
    }

    /// The username after the write.
    pub fn username_after(&self) -> Option<&Username> {
        self.username_after.as_ref()
    }

    /// True when the secret or its kind changed (always for a create).
    pub fn is_password_changed(&self) -> bool {
        self.password_changed
    }

    /// True when the labels or annotations changed.
    pub fn is_metadata_changed(&self) -> bool {
        self.metadata_changed
    }

    /// The GUIDs of the app credentials a push replaced at other
    /// locations.
    pub fn replaced_guids(&self) -> &[Guid] {
        &self.replaced
    }
}

/// The credential an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTarget {
    guid: Guid,
    scope: Scope,
    location: Location,
}

impl EventTarget {
    /// The credential with `guid`, at `location` in `scope`.
    pub fn new(guid: Guid, scope: Scope, location: Location) -> Self {
        EventTarget {
            guid,
            scope,
            location,
        }
    }

    /// The stored credential's target; `None` for a credential with no
    /// record, which no store returns from a write.
    fn of(credential: &RegistryCredential) -> Option<Self> {
        Some(EventTarget::new(
            credential.record()?.guid(),
            credential.scope().clone(),
            credential.location().clone(),
        ))
    }

    /// The credential's GUID.
    pub fn guid(&self) -> Guid {
        self.guid
    }

    /// The credential's scope.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The credential's location.
    pub fn location(&self) -> &Location {
        &self.location
    }
}

/// One recorded write to one credential (R27).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    guid: Guid,
    created_secs: u64,
    event_type: EventType,
    context: AuditContext,
    target: EventTarget,
    changes: Changes,
}

impl AuditEvent {
    /// An event as a store reads it back: its own `guid`, its type, who
    /// and where, the credential, when (whole seconds since 1970, UTC),
    /// and what changed.
    pub fn new(
        guid: Guid,
        event_type: EventType,
        context: AuditContext,
        target: EventTarget,
        created_secs: u64,
        changes: Changes,
    ) -> Self {
        AuditEvent {
            guid,
            event_type,
            context,
            target,
            created_secs,
            changes,
        }
    }

    /// The event's own GUID.
    pub fn guid(&self) -> Guid {
        self.guid
    }

    /// What the write did.
    pub fn event_type(&self) -> EventType {
        self.event_type
    }

    /// Who wrote, and where.
    pub fn context(&self) -> &AuditContext {
        &self.context
    }

    /// Who wrote.
    pub fn actor(&self) -> &Actor {
        &self.context.actor
    }

    /// The credential written.
    pub fn target(&self) -> &EventTarget {
        &self.target
    }

    /// When, in whole seconds.
    pub fn created_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.created_secs)
    }

    /// When, in whole seconds since 1970, UTC.
    pub fn created_secs(&self) -> u64 {
        self.created_secs
    }

    /// What changed.
    pub fn changes(&self) -> &Changes {
        &self.changes
    }
}

/// A management write to make and audit in one step: each of the
/// [`CredentialStore`](super::CredentialStore) writes, by value.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Write {
    /// [`create`](super::CredentialStore::create).
    Create(RegistryCredential),
    /// [`create_all`](super::CredentialStore::create_all).
    CreateAll(Vec<RegistryCredential>),
    /// [`update`](super::CredentialStore::update) of the credential at
    /// `location` in `scope`.
    Update {
        /// The credential's scope.
        scope: Scope,
        /// The credential's location.
        location: Location,
        /// The change.
        update: CredentialUpdate,
    },
    /// [`update_by_guid`](super::CredentialStore::update_by_guid).
    UpdateByGuid(Guid, CredentialUpdate),
    /// [`delete`](super::CredentialStore::delete) of the credential at
    /// `location` in `scope`.
    Delete {
        /// The credential's scope.
        scope: Scope,
        /// The credential's location.
        location: Location,
    },
    /// [`delete_by_guid`](super::CredentialStore::delete_by_guid).
    DeleteByGuid(Guid),
    /// [`replace_app_credential`](super::CredentialStore::replace_app_credential).
    ReplaceAppCredential {
        /// The app.
        app: AppId,
        /// The image's most specific candidate location.
        location: Location,
        /// What the push brought.
        credential: Credential,
    },
    /// [`delete_scope`](super::CredentialStore::delete_scope).
    DeleteScope(Scope),
}

impl Write {
    /// The type of the events the write records.
    pub fn event_type(&self) -> EventType {
        match self {
            Write::Create(_) | Write::CreateAll(_) => EventType::Create,
            Write::Update { .. } | Write::UpdateByGuid(..) => EventType::Update,
            Write::Delete { .. } | Write::DeleteByGuid(_) | Write::DeleteScope(_) => {
                EventType::Delete
            }
            Write::ReplaceAppCredential { .. } => EventType::Push,
        }
    }
}

/// What a write did: the credentials as they were before it, of those it
/// changed or removed, and as they are after it, of those it stored.
#[derive(Debug, Clone)]
pub struct Change {
    event_type: EventType,
    before: Vec<Arc<RegistryCredential>>,
    after: Vec<Arc<RegistryCredential>>,
}

impl Change {
    /// The credentials before the write, of those it changed or removed:
    /// the updated one, the deleted ones, or the app credentials a push
    /// replaced (the one at the same location first).
    pub fn before(&self) -> &[Arc<RegistryCredential>] {
        &self.before
    }

    /// The credentials the write stored, as stored.
    pub fn after(&self) -> &[Arc<RegistryCredential>] {
        &self.after
    }

    /// The events that record it, by `context` at `at`: one per
    /// credential created, updated or removed, and one for a push. A
    /// credential without a record (no store returns one from a write) has
    /// no GUID to name, and no event.
    pub fn events(&self, context: &AuditContext, at: SystemTime) -> Vec<AuditEvent> {
        let event = |target: &RegistryCredential, changes| {
            Some(AuditEvent::new(
                Guid::random(),
                self.event_type,
                context.clone(),
                EventTarget::of(target)?,
                seconds(at),
                changes,
            ))
        };
        let username = |c: &RegistryCredential| Some(c.username().clone());
        match self.event_type {
            EventType::Create => self
                .after
                .iter()
                .filter_map(|c| {
                    let changes = Changes::new()
                        .usernames(None, username(c))
                        .password_changed(true)
                        .metadata_changed(!c.metadata().is_empty());
                    event(c, changes)
                })
                .collect(),
            EventType::Delete => self
                .before
                .iter()
                .filter_map(|c| event(c, Changes::new().usernames(username(c), None)))
                .collect(),
            EventType::Update | EventType::Push => {
                let Some(after) = self.after.first() else {
                    return Vec::new();
                };
                let same = self
                    .before
                    .first()
                    .filter(|b| b.location() == after.location());
                let replaced = self
                    .before
                    .iter()
                    .filter(|b| b.location() != after.location())
                    .filter_map(|b| b.record().map(|r| r.guid()))
                    .collect();
                let changes = Changes::new()
                    .usernames(same.and_then(|b| username(b)), username(after))
                    .password_changed(same.is_none_or(|b| {
                        b.password() != after.password() || b.kind() != after.kind()
                    }))
                    .metadata_changed(same.is_some_and(|b| b.metadata() != after.metadata()))
                    .replaced(replaced);
                event(after, changes).into_iter().collect()
            }
        }
    }
}

/// A write made and its events recorded: what
/// [`audited`](super::CredentialStore::audited) returns.
#[derive(Debug, Clone)]
pub struct Written {
    change: Change,
    events: Vec<AuditEvent>,
}

impl Written {
    /// The change and the events that record it.
    pub fn new(change: Change, events: Vec<AuditEvent>) -> Self {
        Written { change, events }
    }

    /// What the write did.
    pub fn change(&self) -> &Change {
        &self.change
    }

    /// The credentials before the write ([`Change::before`]).
    pub fn before(&self) -> &[Arc<RegistryCredential>] {
        &self.change.before
    }

    /// The credentials the write stored ([`Change::after`]).
    pub fn after(&self) -> &[Arc<RegistryCredential>] {
        &self.change.after
    }

    /// The events recorded.
    pub fn events(&self) -> &[AuditEvent] {
        &self.events
    }
}

/// Makes `write` through `store`'s own calls and says what it did: how a
/// store's [`audited`](super::CredentialStore::audited) makes the change,
/// with `store` its open transaction (a sync one through
/// [`InlineStore`](super::InlineStore)), so that the change and its events
/// commit together. An update reads the credential first, in the same
/// transaction, for what it was before.
///
/// # Errors
///
/// The write's own errors, as the call of the same name has them.
pub async fn apply<S: AsyncCredentialStore + ?Sized>(
    store: &S,
    write: Write,
) -> Result<Change, StoreError> {
    let event_type = write.event_type();
    let (before, after) = match write {
        Write::Create(c) => (Vec::new(), vec![store.create(c).await?]),
        Write::CreateAll(batch) => (Vec::new(), store.create_all(batch).await?),
        Write::Update {
            scope,
            location,
            update,
        } => {
            let key = super::Key::new(scope.as_scope_ref(), &location);
            let old = store
                .get(key)
                .await?
                .ok_or_else(|| StoreError::not_found(scope.as_scope_ref(), &location))?;
            let new = store
                .update(scope.as_scope_ref(), &location, update)
                .await?;
            (vec![old], vec![new])
        }
        Write::UpdateByGuid(guid, update) => {
            let old = store
                .get_by_guid(guid)
                .await?
                .ok_or(StoreError::GuidNotFound { guid })?;
            (vec![old], vec![store.update_by_guid(guid, update).await?])
        }
        Write::Delete { scope, location } => (
            vec![store.delete(scope.as_scope_ref(), &location).await?],
            Vec::new(),
        ),
        Write::DeleteByGuid(guid) => (vec![store.delete_by_guid(guid).await?], Vec::new()),
        Write::ReplaceAppCredential {
            app,
            location,
            credential,
        } => {
            let done = store
                .replace_app_credential(&app, location, credential)
                .await?;
            (done.replaced, vec![done.stored])
        }
        Write::DeleteScope(scope) => (store.delete_scope(scope.as_scope_ref()).await?, Vec::new()),
    };
    Ok(Change {
        event_type,
        before,
        after,
    })
}

/// Which audit events to list, and which page: the platform's
/// `GET /v3/audit_events` (`types`, `target_guids`, `organization_guids`,
/// `space_guids`, `created_ats`, `order_by`, `page`, `per_page`), plus the
/// scopes of the credentials written, through which a caller's read
/// rules apply (R21). A filter not given selects every event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    types: Option<Vec<EventType>>,
    targets: Option<Vec<Guid>>,
    organizations: Option<Vec<OrgId>>,
    spaces: Option<Vec<SpaceId>>,
    scopes: Option<Vec<Scope>>,
    created: TimeFilter,
    descending: bool,
    page: super::query::PageSpec,
}

super::query::paged_query!(
    AuditQuery,
    "Every event, oldest first, the first page of 50."
);

impl AuditQuery {
    list_filters! {
        /// Events of these types.
        types, type_filter: types: EventType;
        /// Events about the credentials with these GUIDs.
        target_guids, target_filter: targets: Guid;
        /// Events in these organizations.
        organizations, organization_filter: organizations: OrgId;
        /// Events in these spaces.
        spaces, space_filter: spaces: SpaceId;
        /// Events about credentials of these scopes.
        scopes, scope_filter: scopes: Scope;
    }

    crate::macros::setters! {
        /// Events whose time `filter` holds.
        created(filter: TimeFilter) => created = filter;
        /// Newest first (`order_by=-created_at`) when `descending`.
        descending(descending: bool) => descending = descending;
    }

    /// The time filter.
    pub fn created_filter(&self) -> &TimeFilter {
        &self.created
    }

    /// True when newest first.
    pub fn is_descending(&self) -> bool {
        self.descending
    }

    /// True when `event` is selected.
    pub fn matches(&self, event: &AuditEvent) -> bool {
        fn within<T: PartialEq>(filter: Option<&Vec<T>>, value: Option<&T>) -> bool {
            filter.is_none_or(|f| value.is_some_and(|v| f.contains(v)))
        }
        within(self.types.as_ref(), Some(&event.event_type))
            && within(self.targets.as_ref(), Some(&event.target.guid))
            && within(self.organizations.as_ref(), event.context.organization())
            && within(self.spaces.as_ref(), event.context.space())
            && within(self.scopes.as_ref(), Some(&event.target.scope))
            && self.created.holds(event.created_secs)
    }

    /// The order of the list: by time, then by the event's GUID.
    pub fn compare(&self, a: &AuditEvent, b: &AuditEvent) -> Ordering {
        let ordering = (a.created_secs, a.guid).cmp(&(b.created_secs, b.guid));
        if self.descending {
            ordering.reverse()
        } else {
            ordering
        }
    }

    /// The answer over every event in `all`: what a store that keeps its
    /// events in memory returns.
    pub fn page_of<'e>(&self, all: impl IntoIterator<Item = &'e AuditEvent>) -> Page<AuditEvent> {
        Page::select(
            self,
            all.into_iter().filter(|e| self.matches(e)).cloned(),
            |a, b| self.compare(a, b),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{CredentialStore, MemoryStore};

    fn admin() -> AuditContext {
        AuditContext::new(Actor::new("admin-guid", "admin"))
    }

    fn credential(location: &str, user: &str, password: &str) -> RegistryCredential {
        RegistryCredential::new(
            Scope::Foundation,
            location.parse().unwrap(),
            Credential::new(user, password).unwrap(),
        )
    }

    #[test]
    fn r27_an_update_records_usernames_and_whether_the_password_changed() {
        let store = MemoryStore::new();
        store
            .audited(Write::Create(credential("docker.io", "a", "p1")), &admin())
            .unwrap();
        let update = |u: CredentialUpdate| Write::Update {
            scope: Scope::Foundation,
            location: "docker.io".parse().unwrap(),
            update: u,
        };
        let renamed = store
            .audited(
                update(CredentialUpdate::Username("b".parse().unwrap())),
                &admin(),
            )
            .unwrap();
        let changes = renamed.events()[0].changes();
        assert_eq!(changes.username_before().map(Username::as_str), Some("a"));
        assert_eq!(changes.username_after().map(Username::as_str), Some("b"));
        assert!(!changes.is_password_changed());
        let rotated = store
            .audited(
                update(CredentialUpdate::Password(
                    crate::credential::Password::new("p2").unwrap(),
                )),
                &admin(),
            )
            .unwrap();
        assert!(rotated.events()[0].changes().is_password_changed());
        let text = format!("{:?}", store.audit_events(&AuditQuery::new()).unwrap());
        assert!(!text.contains("p1") && !text.contains("p2"), "{text}");
    }

    #[test]
    fn r27_event_types_parse_as_they_print() {
        for t in EventType::ALL {
            assert_eq!(t.as_str().parse::<EventType>(), Ok(t));
        }
        let e = "audit.app.create".parse::<EventType>().unwrap_err();
        assert!(e.to_string().contains("audit.registry_credential.create"));
    }
}
