//! The platform's v3 resource for stored registry credentials,
//! `/v3/registry_credentials`, as a handler without I/O (feature `api`):
//! a method, a path with its query and a body go in, a status and a JSON
//! body come out, and every call goes through the manager's access rules
//! (R20, R21) as the calling user. Any HTTP server carries it: it reads
//! the user from its own authentication and hands the rest over.
//!
//! ```
//! use registry_credentials::MemoryStore;
//! use registry_credentials::scope::UserId;
//! use registry_credentials_cf::access::GlobalRole;
//! use registry_credentials_cf::api::Api;
//! use registry_credentials_cf::directory::{DirectoryWriter, MemoryDirectory};
//! use registry_credentials_cf::manage::Manager;
//!
//! let m = Manager::new(MemoryStore::new(), MemoryDirectory::new());
//! let admin = UserId::new("admin")?;
//! m.directory().grant_global(admin.clone(), GlobalRole::Admin)?;
//! let api = Api::new();
//! let body = br#"{"location": "registry.example.com", "username": "ci", "password": "s3cret"}"#;
//! let created = api.handle_blocking(&m, &admin, "POST", "/v3/registry_credentials", body);
//! assert_eq!(created.status(), 201);
//! assert!(created.body().contains(r#""scope":"foundation""#));
//! assert!(!created.body().contains("s3cret"));
//!
//! let listed = api.handle_blocking(&m, &admin, "GET", "/v3/registry_credentials?scopes=foundation", b"");
//! assert_eq!(listed.status(), 200);
//! assert!(listed.body().contains(r#""total_results":1"#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Routes
//!
//! - `POST /v3/registry_credentials` (201): `location`, `username`,
//!   `password`, optionally `relationships.organization.data.guid` or
//!   `relationships.space.data.guid` (no app: pushes store those, R19) and
//!   `metadata.labels` and `metadata.annotations` (R16, R22).
//! - `GET /v3/registry_credentials/:guid` (200).
//! - `PATCH /v3/registry_credentials/:guid` (200): `username`,
//!   `password`, `metadata` (merged; a `null` value removes a key). Any
//!   other field, `location` and `relationships` among them, is refused
//!   (R17, R22).
//! - `DELETE /v3/registry_credentials/:guid` (204, no body).
//! - `GET /v3/registry_credentials` (200): `page` (from 1), `per_page`
//!   (1–5000, 50 by default), `order_by` (`created_at`, `updated_at`,
//!   `-created_at`, `-updated_at`), the comma lists `guids`, `app_guids`,
//!   `space_guids`, `organization_guids`, `scopes` (`app`, `space`,
//!   `organization`, `foundation`) and `locations`, `label_selector`
//!   (R23), and `created_ats` and `updated_ats` (exact RFC 3339 times, or
//!   `created_ats[lt]=`, `[lte]`, `[gt]`, `[gte]`). An organization filter
//!   holds for the organization's credentials and those of its spaces and
//!   their apps, a space filter for the space's and its apps'.
//!
//! # Which apps a credential reaches: this crate's extension (R29)
//!
//! The platform has no such routes; these are this crate's own, beside
//! the resource:
//!
//! - `GET /v3/registry_credentials/:guid/apps` (200): the apps whose next
//!   pull would use the credential now, those the caller may see, ordered
//!   by organization, space and app name: `{"resources": [APP, …]}`, an
//!   APP being `{"guid", "name", "image", "space": {"guid", "name"},
//!   "organization": {"guid", "name"}, "links": {"self", "space",
//!   "organization"}}`, where `image` is the image its last started push
//!   ran. Not paged.
//! - `POST /v3/registry_credentials?dry_run=true`, `PATCH
//!   /v3/registry_credentials/:guid?dry_run=true` and `DELETE
//!   /v3/registry_credentials/:guid?dry_run=true` (200): the same request
//!   as without `dry_run`, checked the same way and refused with the same
//!   errors, but nothing is written: the answer lists every app whose
//!   chosen credential the change would change, `{"resources": [{"app":
//!   APP, "before": CREDENTIAL, "after": CREDENTIAL}, …]}`, a CREDENTIAL
//!   being `{"guid", "scope", "location", "username"}` (`guid` is `null`
//!   for the one a create would store) or `null` for none (R15). A change
//!   of `metadata` alone moves no app. `dry_run=false` is the same as
//!   leaving it out.
//!
//! # The resource
//!
//! `guid`, `created_at`, `updated_at` (RFC 3339, UTC, whole seconds),
//! `location`, `username`, `scope`, `relationships` (`organization`,
//! `space`, `app`, each `{"data": {"guid": …}}` or `{"data": null}`; a
//! space credential's organization and an app credential's space and
//! organization are the directory's), `metadata` (`labels`,
//! `annotations`) and `links` (`self`, and the organization, space and app
//! where they apply). This crate's extensions beside them: `kind`
//! (`password`, `identity-token` or `registry-token`, R24) and
//! `expires_at` (RFC 3339 or `null`, R25). Never the password: the views
//! are written from a [`CredentialSummary`](registry_credentials::credential::CredentialSummary),
//! which has none (R21).
//!
//! # Errors
//!
//! `{"errors": [{"code", "title", "detail"}]}`, the detail saying what was
//! wrong and what to do:
//!
//! | status | code | title | when |
//! | --- | --- | --- | --- |
//! | 400 | 1001 | `CF-MessageParseError` | the body is not a JSON object, or a field has the wrong JSON type |
//! | 400 | 10005 | `CF-BadQueryParameter` | a query parameter is unknown, given twice, or not valid |
//! | 403 | 10003 | `CF-NotAuthorized` | the caller may see the credential but not change it (R20) |
//! | 404 | 10010 | `CF-ResourceNotFound` | no credential has the GUID, or the caller may not see it (R21) |
//! | 404 | 10000 | `CF-NotFound` | no such route (a path or a method the resource does not serve) |
//! | 422 | 10008 | `CF-UnprocessableEntity` | a field is missing, unknown or not valid; the location is taken at that scope (R16) |
//! | 500 | 10001 | `CF-UnknownError` | the store or the directory failed, or lost the answer to a change (R28) |
//! | 503 | 10015 | `CF-ServiceUnavailable` | the store or the directory failed and a retry may succeed |

mod body;
mod error;
mod params;
mod reach;

use std::collections::BTreeMap;

use registry_credentials::identity::Guid;
use registry_credentials::scope::UserId;
use registry_credentials::store::audit::AuditEvent;
use registry_credentials::store::{AsyncCredentialStore, Page, block_on_ready};
use registry_credentials::{CredentialStore, Scope};
use serde::Serialize;

use self::error::ApiError;
use self::params::{AuditParams, ListParams};
use crate::access::Operation;
use crate::directory::{AsyncDirectoryWriter, DirectoryWriter, Entity};
use crate::manage::{AsyncManager, Located, LocatedPage, ManageError, Manager, Proposal, Stored};

/// The path of the resource.
pub const PATH: &str = "/v3/registry_credentials";

/// What follows a credential's path for the apps it serves, this crate's
/// extension (R29): `/v3/registry_credentials/:guid/apps`.
const APPS: &str = "/apps";

/// What the handler answers: an HTTP status and a body, JSON or (for 204)
/// empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    status: u16,
    body: String,
}

impl Response {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The body: JSON, or empty for 204.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The body, taken.
    pub fn into_body(self) -> String {
        self.body
    }

    /// `application/json` when there is a body; `None` for 204.
    pub fn content_type(&self) -> Option<&'static str> {
        (!self.body.is_empty()).then_some("application/json")
    }
}

impl From<ApiError> for Response {
    fn from(e: ApiError) -> Self {
        Response {
            status: e.status,
            body: e.body(),
        }
    }
}

/// `value` as JSON. The views written here have string keys and no
/// fallible parts, so this never fails; were it to, the answer is the
/// platform's unknown error rather than a panic.
fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| {
        r#"{"errors":[{"code":10001,"title":"CF-UnknownError","detail":"the answer could not be written as JSON"}]}"#.to_owned()
    })
}

/// The handler, with the base of its links: relative (`/v3/…`) by
/// default, or under a base URL such as `https://api.example.com`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Api {
    base_url: String,
}

/// A route the resource serves.
enum Route<'a> {
    List,
    Create,
    Get(&'a str),
    Update(&'a str),
    Delete(&'a str),
    /// This crate's extension (R29): the apps a credential serves.
    Apps(&'a str),
    /// The audit events of registry credentials (R27).
    AuditEvents,
}

/// The path of the audit events' list (R27).
pub const AUDIT_EVENTS_PATH: &str = "/v3/audit_events";

fn route<'a>(method: &str, path: &'a str) -> Option<Route<'a>> {
    if path == AUDIT_EVENTS_PATH {
        return (method == "GET").then_some(Route::AuditEvents);
    }
    let rest = path.strip_prefix(PATH)?;
    if rest.is_empty() {
        return match method {
            "GET" => Some(Route::List),
            "POST" => Some(Route::Create),
            _ => None,
        };
    }
    let member = rest.strip_prefix('/')?;
    if let Some(guid) = member.strip_suffix(APPS) {
        let guid = Some(guid).filter(|g| !g.is_empty() && !g.contains('/'))?;
        return (method == "GET").then_some(Route::Apps(guid));
    }
    let guid = Some(member).filter(|g| !g.is_empty() && !g.contains('/'))?;
    match method {
        "GET" => Some(Route::Get(guid)),
        "PATCH" => Some(Route::Update(guid)),
        "DELETE" => Some(Route::Delete(guid)),
        _ => None,
    }
}

/// The GUID of a path, or not found: no credential has a GUID that is
/// not one.
fn guid(text: &str) -> Result<Guid, ApiError> {
    text.parse().map_err(|e| {
        ApiError::not_found(format!(
            "Registry credential not found: {e}; list the registry credentials to find its GUID"
        ))
    })
}

impl Api {
    /// The handler with relative links (`/v3/registry_credentials/…`).
    pub fn new() -> Self {
        Api::default()
    }

    /// The handler with links under `base_url` (`https://api.example.com`;
    /// a `/` at its end is dropped).
    pub fn with_base_url(base_url: &str) -> Self {
        Api {
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// Answers one request of `actor` (the user the server
    /// authenticated): `method`, `path_and_query` (`/v3/…?…`, as in the
    /// request line) and `body`. Every refusal is an answer, never a
    /// panic; nothing changes unless the answer is 201, 200 for a `PATCH`,
    /// or 204.
    pub async fn handle<S: AsyncCredentialStore, D: AsyncDirectoryWriter>(
        &self,
        m: &AsyncManager<S, D>,
        actor: &UserId,
        method: &str,
        path_and_query: &str,
        body: &[u8],
    ) -> Response {
        let answer: Result<Response, ApiError> = async {
            let (path, query) = path_and_query
                .split_once('?')
                .unwrap_or((path_and_query, ""));
            let route = route(method, path).ok_or_else(|| ApiError::no_route(method, path))?;
            let ok = |status, body| Ok(Response { status, body });
            match route {
                Route::List => {
                    let params = params::list_params(query)?;
                    let page = m.query(actor, params.query.clone(), &params.within).await?;
                    ok(200, json(&self.list(&page, &params)))
                }
                Route::Create => {
                    let dry_run = params::dry_run(query)?;
                    let credential = body::create(body)?;
                    let scope = credential.scope().clone();
                    if dry_run {
                        return match m.dry_run(actor, Proposal::Create(credential)).await {
                            Ok(moves) => ok(200, self.moves(&moves)),
                            Err(e) => Err(self.refused_create(m, actor, &scope, e).await),
                        };
                    }
                    match m.create_located(actor, credential).await {
                        Ok(created) => ok(201, json(&self.resource(&created))),
                        Err(e) => Err(self.refused_create(m, actor, &scope, e).await),
                    }
                }
                Route::Get(id) => {
                    params::none(query)?;
                    let found = m.get_by_guid(actor, guid(id)?).await?;
                    ok(200, json(&self.resource(&found)))
                }
                Route::Update(id) => {
                    let dry_run = params::dry_run(query)?;
                    let guid = guid(id)?;
                    let update = body::update(body)?;
                    if dry_run {
                        let proposal = Proposal::Update(Stored::Guid(guid), update);
                        return ok(200, self.moves(&m.dry_run(actor, proposal).await?));
                    }
                    let updated = m.update_by_guid(actor, guid, update).await?;
                    ok(200, json(&self.resource(&updated)))
                }
                Route::Delete(id) => {
                    let dry_run = params::dry_run(query)?;
                    let guid = guid(id)?;
                    if dry_run {
                        let proposal = Proposal::Delete(Stored::Guid(guid));
                        return ok(200, self.moves(&m.dry_run(actor, proposal).await?));
                    }
                    m.delete_by_guid(actor, guid).await?;
                    ok(204, String::new())
                }
                Route::Apps(id) => {
                    params::none(query)?;
                    let apps = m.apps_using(actor, &Stored::Guid(guid(id)?)).await?;
                    ok(200, self.apps(&apps))
                }
                Route::AuditEvents => {
                    let params = params::audit_params(query)?;
                    let page = m.audit_events(actor, params.query.clone()).await?;
                    ok(200, json(&self.events(&page, &params)))
                }
            }
        }
        .await;
        answer.unwrap_or_else(Response::from)
    }

    /// [`handle`](Self::handle) over a sync [`Manager`]: the same handler,
    /// run to completion at once.
    pub fn handle_blocking<S: CredentialStore, D: DirectoryWriter>(
        &self,
        m: &Manager<S, D>,
        actor: &UserId,
        method: &str,
        path_and_query: &str,
        body: &[u8],
    ) -> Response {
        block_on_ready(self.handle(m.as_async(), actor, method, path_and_query, body))
    }

    /// A create's refusal as the platform words it: an organization or
    /// space that does not exist, or that the caller may not see, is an
    /// invalid relationship (422), so that its existence is not revealed;
    /// one the caller sees but may not change is 403 (R20).
    async fn refused_create<S: AsyncCredentialStore, D: AsyncDirectoryWriter>(
        &self,
        m: &AsyncManager<S, D>,
        actor: &UserId,
        scope: &Scope,
        e: ManageError,
    ) -> ApiError {
        let hidden = match &e {
            ManageError::Unknown { .. } => true,
            ManageError::Permission(_) => {
                m.check_access(actor, Operation::Read, scope).await.is_err()
            }
            _ => false,
        };
        if !hidden {
            return e.into();
        }
        let what = match scope {
            Scope::Space(_) => Entity::Space,
            _ => Entity::Org,
        };
        ApiError::unprocessable(format!(
            "Invalid {what}. Ensure that the {what} exists and you have access to it; its GUID goes in 'relationships.{what}.data.guid'"
        ))
    }

    fn href(&self, path: &str) -> Href {
        Href {
            href: format!("{}{path}", self.base_url),
        }
    }

    /// The href of `/v3/{collection}/{id}`, the id percent-encoded.
    fn member(&self, collection: &str, id: &str) -> Href {
        let mut path = format!("/v3/{collection}/");
        params::encode(id, &mut path);
        self.href(&path)
    }

    fn resource<'a>(&self, r: &'a Located) -> Resource<'a> {
        let c = r.credential();
        let record = c.record();
        let guid = record.guid().to_string();
        let to_one = |id: Option<&str>| ToOne {
            data: id.map(|guid| GuidRef {
                guid: guid.to_owned(),
            }),
        };
        let (org, space, app) = (
            r.org().map(|o| o.as_str()),
            r.space().map(|s| s.as_str()),
            r.app().map(|a| a.as_str()),
        );
        Resource {
            links: Links {
                this: self.member("registry_credentials", &guid),
                organization: org.map(|o| self.member("organizations", o)),
                space: space.map(|s| self.member("spaces", s)),
                app: app.map(|a| self.member("apps", a)),
            },
            created_at: crate::text::utc_time(record.created_at()),
            updated_at: crate::text::utc_time(record.updated_at()),
            guid,
            kind: c.kind().as_str(),
            expires_at: c.expires_at().map(crate::text::utc_time),
            location: c.location().as_str(),
            username: c.username().as_str(),
            scope: c.scope().kind().as_str(),
            relationships: Relationships {
                organization: to_one(org),
                space: to_one(space),
                app: to_one(app),
            },
            metadata: MetadataView {
                labels: c
                    .metadata()
                    .labels()
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect(),
                annotations: c
                    .metadata()
                    .annotations()
                    .map(|(k, v)| (k.as_str(), v))
                    .collect(),
            },
        }
    }

    fn list<'a>(&self, page: &'a LocatedPage, params: &ListParams) -> List<Resource<'a>> {
        self.page_of(page, |n| params.href(PATH, n), |r| self.resource(r))
    }

    /// `page` in the platform's shape: its pagination, each page's href
    /// made by `href`, and each result as `view` shows it.
    fn page_of<'a, T, V>(
        &self,
        page: &'a Page<T>,
        href: impl Fn(u64) -> String,
        view: impl Fn(&'a T) -> V,
    ) -> List<V> {
        let number = u64::from(page.page());
        let last = page.total_pages();
        let at = |n: u64| self.href(&href(n));
        List {
            pagination: Pagination {
                total_results: page.total_results(),
                total_pages: last,
                first: at(1),
                last: at(last),
                next: (number < last).then(|| at(number + 1)),
                previous: (number > 1).then(|| at((number - 1).min(last))),
            },
            resources: page.resources().iter().map(view).collect(),
        }
    }

    /// The platform's audit event: who, what, when and where, and what
    /// changed (R27), never a secret.
    fn event<'a>(&self, e: &'a AuditEvent) -> EventView<'a> {
        let changes = e.changes();
        let guid_of = |id: Option<&str>| {
            id.map(|guid| GuidRef {
                guid: guid.to_owned(),
            })
        };
        let target = e.target();
        EventView {
            guid: e.guid().to_string(),
            created_at: crate::text::utc_time(e.created_at()),
            updated_at: crate::text::utc_time(e.created_at()),
            event_type: e.event_type().as_str(),
            actor: Actor {
                guid: e.actor().id(),
                actor_type: "user",
                name: e.actor().name(),
            },
            target: Target {
                guid: target.guid().to_string(),
                target_type: "registry_credential",
                name: target.location().as_str(),
            },
            data: EventData {
                scope: target.scope().kind().as_str(),
                location: target.location().as_str(),
                username: Change {
                    before: changes.username_before().map(|u| u.as_str()),
                    after: changes.username_after().map(|u| u.as_str()),
                },
                password_changed: changes.is_password_changed(),
                metadata_changed: changes.is_metadata_changed(),
                replaced: changes
                    .replaced_guids()
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            },
            space: guid_of(e.context().space().map(|s| s.as_str())),
            organization: guid_of(e.context().organization().map(|o| o.as_str())),
        }
    }

    fn events<'a>(&self, page: &'a Page<AuditEvent>, params: &AuditParams) -> List<EventView<'a>> {
        self.page_of(
            page,
            |n| params.href(AUDIT_EVENTS_PATH, n),
            |e| self.event(e),
        )
    }
}

// The views written as JSON: borrowed from the credential, with no field
// for its secret (R21).

#[derive(Serialize)]
struct Href {
    href: String,
}

#[derive(Serialize)]
struct GuidRef {
    guid: String,
}

#[derive(Serialize)]
struct ToOne {
    data: Option<GuidRef>,
}

#[derive(Serialize)]
struct Relationships {
    organization: ToOne,
    space: ToOne,
    app: ToOne,
}

#[derive(Serialize)]
struct MetadataView<'a> {
    labels: BTreeMap<&'a str, &'a str>,
    annotations: BTreeMap<&'a str, &'a str>,
}

#[derive(Serialize)]
struct Links {
    #[serde(rename = "self")]
    this: Href,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization: Option<Href>,
    #[serde(skip_serializing_if = "Option::is_none")]
    space: Option<Href>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app: Option<Href>,
}

#[derive(Serialize)]
struct Resource<'a> {
    guid: String,
    created_at: String,
    updated_at: String,
    location: &'a str,
    username: &'a str,
    /// This crate's extension (R24): `password`, `identity-token` or
    /// `registry-token`.
    kind: &'static str,
    /// This crate's extension (R25): RFC 3339 UTC, or `null`.
    expires_at: Option<String>,
    scope: &'static str,
    relationships: Relationships,
    metadata: MetadataView<'a>,
    links: Links,
}

#[derive(Serialize)]
struct Pagination {
    total_results: u64,
    total_pages: u64,
    first: Href,
    last: Href,
    next: Option<Href>,
    previous: Option<Href>,
}

#[derive(Serialize)]
struct List<T> {
    pagination: Pagination,
    resources: Vec<T>,
}

#[derive(Serialize)]
struct Actor<'a> {
    guid: &'a str,
    #[serde(rename = "type")]
    actor_type: &'static str,
    name: &'a str,
}

#[derive(Serialize)]
struct Target<'a> {
    guid: String,
    #[serde(rename = "type")]
    target_type: &'static str,
    name: &'a str,
}

#[derive(Serialize)]
struct Change<'a> {
    before: Option<&'a str>,
    after: Option<&'a str>,
}

#[derive(Serialize)]
struct EventData<'a> {
    scope: &'static str,
    location: &'a str,
    username: Change<'a>,
    password_changed: bool,
    metadata_changed: bool,
    replaced: Vec<String>,
}

#[derive(Serialize)]
struct EventView<'a> {
    guid: String,
    created_at: String,
    updated_at: String,
    #[serde(rename = "type")]
    event_type: &'static str,
    actor: Actor<'a>,
    target: Target<'a>,
    data: EventData<'a>,
    space: Option<GuidRef>,
    organization: Option<GuidRef>,
}
