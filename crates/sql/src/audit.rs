//! The audit events' table in both dialects (R27): one row per event,
//! written in the transaction of its change, never deleted with its
//! credential, and listed by one statement per query.

use registry_credentials::credential::Username;
use registry_credentials::identity::Guid;
use registry_credentials::location::Location;
use registry_credentials::scope::{OrgId, SpaceId};
use registry_credentials::store::audit::{
    Actor, AuditContext, AuditEvent, AuditQuery, Changes, EventTarget, EventType,
};
use registry_credentials::store::{Page, StoreError};

use crate::schema::{self, SchemaError};
use crate::{Columns, Conditions, Param, corrupt, time_column};

/// The columns of an event's row (`e`), in [`EventRow`]'s order.
pub(crate) const EVENT_COLUMNS: &str = "e.guid, e.created_at, e.type, e.actor_id, \
     e.actor_name, e.target_guid, e.target_scope_kind, e.target_scope_id, e.target_location, \
     e.organization, e.space, e.data";

/// Inserts one event: [`event_params`] in order.
pub(crate) const INSERT_EVENT: &str = "INSERT INTO registry_credential_events (guid, created_at, \
     type, actor_id, actor_name, target_guid, target_scope_kind, target_scope_id, \
     target_location, organization, space, data) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

/// The parameters of [`INSERT_EVENT`] for `event`.
pub(crate) fn event_params(event: &AuditEvent) -> Vec<Param> {
    let target = event.target();
    let (kind, id) = schema::scope_columns(target.scope().as_scope_ref());
    let text = |s: &str| Param::Text(s.to_owned());
    let optional = |s: Option<&str>| s.map_or(Param::Null, text);
    vec![
        Param::Bytes(event.guid().as_bytes().to_vec()),
        Param::Int(time_column(event.created_secs())),
        text(event.event_type().as_str()),
        text(event.actor().id()),
        text(event.actor().name()),
        Param::Bytes(target.guid().as_bytes().to_vec()),
        Param::Small(kind),
        text(id),
        text(target.location().as_str()),
        optional(event.context().organization().map(OrgId::as_str)),
        optional(event.context().space().map(SpaceId::as_str)),
        text(&data_column(event.changes())),
    ]
}

/// What changed, as the `data` column's JSON object: never a secret.
fn data_column(changes: &Changes) -> String {
    serde_json::json!({
        "username": {
            "before": changes.username_before().map(Username::as_str),
            "after": changes.username_after().map(Username::as_str),
        },
        "password_changed": changes.is_password_changed(),
        "metadata_changed": changes.is_metadata_changed(),
        "replaced": changes.replaced_guids().iter().map(Guid::to_string).collect::<Vec<_>>(),
    })
    .to_string()
}

/// An event's row as read, before it is checked.
pub(crate) struct EventRow<'a> {
    pub guid: &'a [u8],
    pub created_at: i64,
    pub event_type: &'a str,
    pub actor_id: &'a str,
    pub actor_name: &'a str,
    pub target_guid: &'a [u8],
    pub target_scope_kind: i64,
    pub target_scope_id: &'a str,
    pub target_location: &'a str,
    pub organization: Option<&'a str>,
    pub space: Option<&'a str>,
    pub data: &'a str,
}

impl<'a> EventRow<'a> {
    /// The [`EVENT_COLUMNS`] from `first` on; `None` for the row of
    /// `NULL`s that a page past the end is.
    pub(crate) fn read(row: impl Columns<'a>, first: usize) -> Result<Option<Self>, StoreError> {
        let Some(guid) = row.bytes_or_null(first)? else {
            return Ok(None);
        };
        Ok(Some(EventRow {
            guid,
            created_at: row.int(first + 1)?,
            event_type: row.text(first + 2)?,
            actor_id: row.text(first + 3)?,
            actor_name: row.text(first + 4)?,
            target_guid: row.bytes(first + 5)?,
            target_scope_kind: row.small(first + 6)?,
            target_scope_id: row.text(first + 7)?,
            target_location: row.text(first + 8)?,
            organization: row.text_or_null(first + 9)?,
            space: row.text_or_null(first + 10)?,
            data: row.text(first + 11)?,
        }))
    }
}

/// A page of events as the rows of [`audit_sql`]'s statement are read.
#[derive(Default)]
pub(crate) struct EventPage {
    total: i64,
    resources: Vec<AuditEvent>,
}

impl EventPage {
    /// Reads one row of the statement: the total, then an event unless
    /// the page is past the end.
    pub(crate) fn read<'a>(&mut self, row: impl Columns<'a>) -> Result<(), StoreError> {
        self.total = row.int(0)?;
        if let Some(event) = EventRow::read(row, 1)? {
            self.resources.push(decode_event(event)?);
        }
        Ok(())
    }

    /// The page of `query` these rows are.
    pub(crate) fn into_page(self, query: &AuditQuery) -> Page<AuditEvent> {
        Page::new(
            query,
            u64::try_from(self.total).unwrap_or(0),
            self.resources,
        )
    }
}

/// The event a row holds, every part checked: a row that fails is an
/// error, never a wrong event.
pub(crate) fn decode_event(row: EventRow<'_>) -> Result<AuditEvent, StoreError> {
    let bad = |what: String| corrupt(SchemaError::CorruptRow { what });
    let guid = |bytes: &[u8], what: &str| {
        <[u8; 16]>::try_from(bytes)
            .ok()
            .and_then(|b| Guid::from_bytes(b).ok())
            .ok_or_else(|| bad(format!("an audit event's {what} is not a GUID")))
    };
    let event_guid = guid(row.guid, "GUID")?;
    let event_type: EventType = row.event_type.parse().map_err(|e| bad(format!("{e}")))?;
    let scope = schema::kind_of(row.target_scope_kind)
        .and_then(|k| schema::scope_of(k, row.target_scope_id))
        .map_err(|e| bad(format!("an audit event's scope: {e}")))?;
    let location = Location::parse(row.target_location)
        .map_err(|e| bad(format!("an audit event's location: {e}")))?;
    let mut context = AuditContext::new(Actor::new(row.actor_id, row.actor_name));
    if let Some(org) = row.organization {
        context = context.in_organization(
            OrgId::new(org).map_err(|e| bad(format!("an audit event's organization: {e}")))?,
        );
    }
    if let Some(space) = row.space {
        context = context.in_space(
            SpaceId::new(space).map_err(|e| bad(format!("an audit event's space: {e}")))?,
        );
    }
    let changes = changes_of(row.data).map_err(|e| bad(format!("an audit event's data: {e}")))?;
    Ok(AuditEvent::new(
        event_guid,
        event_type,
        context,
        EventTarget::new(guid(row.target_guid, "target GUID")?, scope, location),
        u64::try_from(row.created_at).unwrap_or(0),
        changes,
    ))
}

/// The changes a `data` column holds.
fn changes_of(text: &str) -> Result<Changes, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
    let username = |which: &str| -> Result<Option<Username>, String> {
        match &value["username"][which] {
            serde_json::Value::Null => Ok(None),
            serde_json::Value::String(s) => Username::new(s).map(Some).map_err(|e| e.to_string()),
            _ => Err(format!("the username {which} is not text")),
        }
    };
    let flag = |name: &str| {
        value[name]
            .as_bool()
            .ok_or_else(|| format!("`{name}` is not true or false"))
    };
    let replaced = value["replaced"]
        .as_array()
        .ok_or("`replaced` is not a list")?
        .iter()
        .map(|g| {
            g.as_str()
                .and_then(|g| g.parse::<Guid>().ok())
                .ok_or_else(|| "`replaced` holds a value that is not a GUID".to_owned())
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Changes::new()
        .usernames(username("before")?, username("after")?)
        .password_changed(flag("password_changed")?)
        .metadata_changed(flag("metadata_changed")?)
        .replaced(replaced))
}

/// The one statement that answers an [`AuditQuery`], the same text in
/// both dialects, as [`QuerySql`](crate::QuerySql) answers a credential
/// query: each row is the count of every match, then the page's row
/// ([`EVENT_COLUMNS`]); a page past the end is one row of the count and
/// `NULL`s.
pub(crate) fn audit_sql(query: &AuditQuery) -> (String, Vec<Param>) {
    let mut c = Conditions::default();
    c.any_of("e.type", query.type_filter(), |t| Param::text(&t.as_str()));
    c.any_of("e.target_guid", query.target_filter(), Param::guid);
    c.any_of("e.organization", query.organization_filter(), Param::text);
    c.any_of("e.space", query.space_filter(), Param::text);
    if let Some(scopes) = query.scope_filter() {
        c.scopes("(e.target_scope_kind, e.target_scope_id)", scopes);
    }
    c.time("e.created_at", query.created_filter());
    let filter = c.where_clause();
    let direction = if query.is_descending() { " DESC" } else { "" };
    let (limit, offset) = c.page(query);
    let sql = format!(
        "SELECT (SELECT count(*) FROM registry_credential_events AS e{filter}), p.* \
         FROM (SELECT 1) AS one LEFT JOIN (\
         SELECT {EVENT_COLUMNS} FROM registry_credential_events AS e{filter} \
         ORDER BY e.created_at{direction}, e.guid{direction} LIMIT {limit} OFFSET {offset}\
         ) AS p ON TRUE"
    );
    (sql, c.into_params())
}
