//! Query strings: percent-decoded pairs, the list's parameters read into a
//! [`Query`] and a [`Within`], and the parameters written back into the
//! pagination's hrefs.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::SystemTime;

use registry_credentials::identity::Guid;
use registry_credentials::metadata::Selector;
use registry_credentials::scope::{AppId, OrgId, SpaceId};
use registry_credentials::store::audit::{AuditQuery, EventType};
use registry_credentials::store::{DEFAULT_PER_PAGE, OrderBy, Query, QueryError, TimeFilter};
use registry_credentials::{Location, ScopeKind};

use super::error::ApiError;
use crate::manage::Within;
use crate::text;

/// Every parameter the list takes, as the refusal of an unknown one names
/// them.
const LIST_PARAMETERS: &str = "'page', 'per_page', 'order_by', 'guids', 'app_guids', 'space_guids', 'organization_guids', 'scopes', 'locations', 'label_selector', 'created_ats', 'updated_ats' (and 'created_ats[lt]', '[lte]', '[gt]', '[gte]', the same for 'updated_ats')";

/// `raw` percent-decoded, `+` read as a space, as a form-encoded query
/// string is.
fn decode(raw: &str) -> Result<String, ApiError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                let Some(byte) = hex else {
                    return Err(ApiError::bad_query(format!(
                        "the query parameter `{}` has a `%` that is not followed by two hexadecimal digits; write a literal `%` as %25",
                        text::quote(raw)
                    )));
                };
                out.push(byte);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| {
        ApiError::bad_query(format!(
            "the query parameter `{}` is not UTF-8 once decoded; percent-encode the UTF-8 bytes of the text",
            text::quote(raw)
        ))
    })
}

/// Appends `s` to `out` percent-encoded: letters, digits and `-._~,()![]:`
/// stay as they are.
pub(super) fn encode(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~,()![]:".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// The decoded (key, value) pairs of a query string, each key once.
fn pairs(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        let (key, value) = (decode(key)?, decode(value)?);
        if !seen.insert(key.clone()) {
            return Err(ApiError::bad_query(format!(
                "the query parameter '{}' is given twice; give it once (a list is one value, comma-separated)",
                text::quote(&key)
            )));
        }
        out.push((key, value));
    }
    Ok(out)
}

/// Refuses every parameter: the routes of one resource take none.
pub(super) fn none(query: &str) -> Result<(), ApiError> {
    match pairs(query)?.first() {
        None => Ok(()),
        Some((key, _)) => Err(ApiError::bad_query(format!(
            "Unknown query parameter(s): '{}'. This request takes no query parameters; filters and pages belong to GET /v3/registry_credentials",
            text::quote(key)
        ))),
    }
}

/// Whether a create, change or delete is asked as a dry run (R29): the
/// one parameter these routes take, `dry_run=true` (or `false`, the same
/// as leaving it out).
pub(super) fn dry_run(query: &str) -> Result<bool, ApiError> {
    let mut dry_run = false;
    for (key, value) in pairs(query)? {
        if key != "dry_run" {
            return Err(ApiError::bad_query(format!(
                "Unknown query parameter(s): '{}'. This request takes no query parameters but 'dry_run' (this crate's extension); filters and pages belong to GET /v3/registry_credentials",
                text::quote(&key)
            )));
        }
        dry_run = match value.as_str() {
            "true" => true,
            "false" => false,
            _ => {
                return Err(ApiError::bad_query(format!(
                    "the query parameter 'dry_run' is `{}`; give true or false",
                    text::quote(&value)
                )));
            }
        };
    }
    Ok(dry_run)
}

/// The list's parameters, read.
#[derive(Debug)]
pub(super) struct ListParams {
    /// The store's query: every filter but the relationships, the order
    /// and the page.
    pub(super) query: Query,
    /// The organization, space and app filters.
    pub(super) within: Within,
    /// Every parameter but `page` and `per_page`, decoded, in the order
    /// given: what the pagination's hrefs repeat.
    kept: Vec<(String, String)>,
}

impl ListParams {
    /// The href of page `page` of this list under `path`: `page` and
    /// `per_page` first, then the other parameters as given.
    pub(super) fn href(&self, path: &str, page: u64) -> String {
        href(path, page, self.query.per_page(), &self.kept)
    }
}

/// The href of page `page` of a list under `path`: `page` and `per_page`
/// first, then the `kept` parameters as given.
fn href(path: &str, page: u64, per_page: u32, kept: &[(String, String)]) -> String {
    let mut href = format!("{path}?page={page}&per_page={per_page}");
    for (key, value) in kept {
        href.push('&');
        encode(key, &mut href);
        href.push('=');
        encode(value, &mut href);
    }
    href
}

/// Every parameter the list of audit events takes.
const AUDIT_PARAMETERS: &str = "'page', 'per_page', 'order_by', 'types', 'target_guids', 'space_guids', 'organization_guids', 'created_ats' (and 'created_ats[lt]', '[lte]', '[gt]', '[gte]')";

/// The names `order_by` takes in the list of audit events, and whether
/// each is newest first.
const AUDIT_ORDERS: &[(&str, bool)] = &[
    ("created_at", false),
    ("+created_at", false),
    ("-created_at", true),
];

/// The parameters of the list of audit events (R27), read.
#[derive(Debug)]
pub(super) struct AuditParams {
    /// The store's query.
    pub(super) query: AuditQuery,
    /// Every parameter but `page` and `per_page`, as [`ListParams`] keeps
    /// them.
    kept: Vec<(String, String)>,
}

impl AuditParams {
    /// The href of page `page` of this list under `path`.
    pub(super) fn href(&self, path: &str, page: u64) -> String {
        href(path, page, self.query.per_page(), &self.kept)
    }
}

/// The parameters of `GET /v3/audit_events` in `query` (the text after
/// `?`).
pub(super) fn audit_params(query: &str) -> Result<AuditParams, ApiError> {
    let mut q = AuditQuery::new();
    let mut created = TimeFilter::new();
    let paging = Paging::read_query(query)?;
    for (key, value) in paging.others() {
        match key {
            "order_by" => q = q.descending(order(value, AUDIT_ORDERS)?),
            "types" => q = q.types(list(key, value, str::parse::<EventType>)?),
            "target_guids" => q = q.target_guids(list(key, value, str::parse::<Guid>)?),
            "organization_guids" => q = q.organizations(list(key, value, |id| OrgId::new(id))?),
            "space_guids" => q = q.spaces(list(key, value, |id| SpaceId::new(id))?),
            k if k.starts_with("created_ats") => {
                created = time_filter(created, "created_ats", k, value, AUDIT_PARAMETERS)?;
            }
            _ => return Err(unknown(key, AUDIT_PARAMETERS)),
        }
    }
    let query = q
        .created(created)
        .page(paging.page, paging.per_page)
        .map_err(bad_page)?;
    Ok(AuditParams {
        query,
        kept: paging.kept,
    })
}

/// The order that `value` names among `orders` (the names of
/// `order_by`); a refusal lists the times it may order by, the names
/// without a sign.
fn order<T: Copy>(value: &str, orders: &[(&str, T)]) -> Result<T, ApiError> {
    orders
        .iter()
        .find(|(name, _)| *name == value)
        .map(|&(_, order)| order)
        .ok_or_else(|| {
            let names: Vec<String> = orders
                .iter()
                .filter(|(name, _)| !name.starts_with(['+', '-']))
                .map(|(name, _)| format!("'{name}'"))
                .collect();
            ApiError::bad_query(format!(
                "Order by can only be: {} (with '-' for newest first); `{}` is not one",
                names.join(", "),
                text::quote(value)
            ))
        })
}

/// The comma-separated items of `value`, empty ones skipped.
fn items(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').filter(|s| !s.is_empty())
}

/// Each item of `value` read by `parse`; a refusal names the parameter
/// `key` and says what `parse`'s error says.
fn list<T, E: std::fmt::Display>(
    key: &str,
    value: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Vec<T>, ApiError> {
    items(value)
        .map(|item| {
            parse(item).map_err(|e| {
                ApiError::bad_query(format!("the query parameter '{key}' is not valid: {e}"))
            })
        })
        .collect()
}

/// What a list's parameters say of the page, and every other parameter,
/// decoded, in the order given: what the pagination's hrefs repeat.
struct Paging {
    page: u64,
    per_page: u64,
    kept: Vec<(String, String)>,
}

impl Paging {
    /// The first page of the default size, and no other parameter.
    fn new() -> Self {
        Paging {
            page: 1,
            per_page: u64::from(DEFAULT_PER_PAGE),
            kept: Vec::new(),
        }
    }

    /// The page that `query` asks for, and every other parameter kept
    /// for [`others`](Self::others).
    fn read_query(query: &str) -> Result<Self, ApiError> {
        let mut paging = Paging::new();
        for (key, value) in pairs(query)? {
            paging.read(key, value)?;
        }
        Ok(paging)
    }

    /// The parameters other than the page's, in the order given.
    fn others(&self) -> impl Iterator<Item = (&str, &str)> {
        self.kept.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Reads `key`'s `value` if it is the page's, else keeps the pair.
    fn read(&mut self, key: String, value: String) -> Result<(), ApiError> {
        match key.as_str() {
            "page" => self.page = number(&key, &value, "from 1")?,
            "per_page" => self.per_page = number(&key, &value, "from 1 to 5000")?,
            _ => self.kept.push((key, value)),
        }
        Ok(())
    }
}

/// A page that a query refused.
fn bad_page(e: QueryError) -> ApiError {
    ApiError::bad_query(format!("the page is not valid: {e}"))
}

/// A whole number for `page` or `per_page`.
fn number(key: &str, value: &str, range: &str) -> Result<u64, ApiError> {
    value.parse().map_err(|_| {
        ApiError::bad_query(format!(
            "the query parameter '{key}' is `{}`; give a whole number {range}",
            text::quote(value)
        ))
    })
}

/// A time of `created_ats` or `updated_ats`, RFC 3339.
fn time(key: &str, value: &str) -> Result<SystemTime, ApiError> {
    text::parse_utc_time(value).map_err(|_| {
        ApiError::bad_query(format!(
            "the query parameter '{key}' has `{}`, which is not an RFC 3339 time; give one such as 2026-12-06T22:47:13Z",
            text::quote(value)
        ))
    })
}

/// `filter` with the condition of `key` (`created_ats` or
/// `created_ats[lt]`, …, whose field is `field`) and `value`.
fn time_filter(
    filter: TimeFilter,
    field: &str,
    key: &str,
    value: &str,
    valid: &str,
) -> Result<TimeFilter, ApiError> {
    let operator = &key[field.len()..];
    if operator.is_empty() {
        let times: Vec<_> = items(value)
            .map(|t| time(key, t))
            .collect::<Result<_, _>>()?;
        return Ok(filter.any_of(times));
    }
    let bound = |f: fn(TimeFilter, SystemTime) -> TimeFilter| -> Result<TimeFilter, ApiError> {
        if value.contains(',') {
            return Err(ApiError::bad_query(format!(
                "the query parameter '{key}' takes one time, not a list; give a comma list to '{field}' for exact times"
            )));
        }
        Ok(f(filter.clone(), time(key, value)?))
    };
    match operator {
        "[lt]" => bound(TimeFilter::before),
        "[lte]" => bound(TimeFilter::at_or_before),
        "[gt]" => bound(TimeFilter::after),
        "[gte]" => bound(TimeFilter::at_or_after),
        _ => Err(unknown(key, valid)),
    }
}

/// An unknown parameter `key`, of a list that takes those `valid` names.
fn unknown(key: &str, valid: &str) -> ApiError {
    ApiError::bad_query(format!(
        "Unknown query parameter(s): '{}'. Valid parameters are: {valid}",
        text::quote(key)
    ))
}

/// The names `order_by` takes in the list of credentials, and the order
/// each names.
const LIST_ORDERS: &[(&str, OrderBy)] = &[
    ("created_at", OrderBy::CreatedAt),
    ("+created_at", OrderBy::CreatedAt),
    ("-created_at", OrderBy::CreatedAtDescending),
    ("updated_at", OrderBy::UpdatedAt),
    ("+updated_at", OrderBy::UpdatedAt),
    ("-updated_at", OrderBy::UpdatedAtDescending),
];

/// The list's parameters in `query` (the text after `?`).
pub(super) fn list_params(query: &str) -> Result<ListParams, ApiError> {
    let mut q = Query::new();
    let mut within = Within::new();
    let (mut created, mut updated) = (TimeFilter::new(), TimeFilter::new());
    let paging = Paging::read_query(query)?;
    for (key, value) in paging.others() {
        match key {
            "order_by" => q = q.order_by(order(value, LIST_ORDERS)?),
            "guids" => q = q.guids(list(key, value, str::parse::<Guid>)?),
            "organization_guids" => within = within.orgs(list(key, value, |id| OrgId::new(id))?),
            "space_guids" => within = within.spaces(list(key, value, |id| SpaceId::new(id))?),
            "app_guids" => within = within.apps(list(key, value, |id| AppId::new(id))?),
            "scopes" => q = q.scope_kinds(list(key, value, scope_kind)?),
            "locations" => q = q.locations(list(key, value, Location::parse)?),
            "label_selector" => {
                q = q.selector(Selector::parse(value).map_err(|e| {
                    ApiError::bad_query(format!(
                        "the query parameter 'label_selector' is not valid: {e}"
                    ))
                })?);
            }
            k if k.starts_with("created_ats") => {
                created = time_filter(created, "created_ats", k, value, LIST_PARAMETERS)?;
            }
            k if k.starts_with("updated_ats") => {
                updated = time_filter(updated, "updated_ats", k, value, LIST_PARAMETERS)?;
            }
            _ => return Err(unknown(key, LIST_PARAMETERS)),
        }
    }
    let query = q
        .created(created)
        .updated(updated)
        .page(paging.page, paging.per_page)
        .map_err(bad_page)?;
    Ok(ListParams {
        query,
        within,
        kept: paging.kept,
    })
}

/// A scope kind as the platform names it.
fn scope_kind(s: &str) -> Result<ScopeKind, String> {
    ScopeKind::ALL
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| {
            format!(
                "`{}` is not a scope; give app, space, organization or foundation",
                text::quote(s)
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode_percent_and_plus_and_refuse_broken_escapes() {
        assert_eq!(decode("a%20b+c%2C").unwrap(), "a b c,");
        assert_eq!(decode("%E2%9C%93").unwrap(), "\u{2713}");
        for bad in ["%", "%4", "%zz", "%FF", "a%e2%9c"] {
            let e = decode(bad).unwrap_err();
            assert_eq!((e.status, e.code), (400, 10005), "{bad}");
        }
        let mut out = String::new();
        encode("env in (a,b)&x=ü", &mut out);
        assert_eq!(out, "env%20in%20(a,b)%26x%3D%C3%BC");
        assert_eq!(decode(&out).unwrap(), "env in (a,b)&x=ü");
    }

    #[test]
    fn r22_a_parameter_given_twice_or_unknown_is_a_bad_query() {
        for (query, says) in [
            ("page=1&page=2", "given twice"),
            ("pages=1", "Unknown query parameter(s): 'pages'"),
            (
                "created_ats[lte]=2026-01-01T00:00:00Z&created_ats[eq]=x",
                "'created_ats[eq]'",
            ),
            ("order_by=name", "Order by can only be"),
            ("per_page=0", "per_page is 0"),
            ("per_page=5001", "per_page is 5001"),
            ("page=0", "pages are numbered from 1"),
            ("page=-1", "whole number from 1"),
            ("scopes=app,global", "`global` is not a scope"),
            ("guids=abc", "not a GUID"),
            ("label_selector=", "label selector"),
            (
                "created_ats[lt]=2026-01-01T00:00:00Z,2027-01-01T00:00:00Z",
                "takes one time",
            ),
            ("updated_ats=yesterday", "not an RFC 3339 time"),
            ("locations=https://example.com", "not valid"),
        ] {
            let e = list_params(query).unwrap_err();
            assert_eq!(
                (e.status, e.code, e.title),
                (400, 10005, "CF-BadQueryParameter"),
                "{query}"
            );
            assert!(e.detail.contains(says), "{query}: {}", e.detail);
        }
        assert!(none("").is_ok());
        assert!(
            none("page=1")
                .unwrap_err()
                .detail
                .contains("takes no query parameters")
        );
    }

    #[test]
    fn r22_hrefs_repeat_the_other_parameters_after_the_page() {
        let params =
            list_params("label_selector=env+in+(a,b)&page=3&per_page=2&order_by=-created_at")
                .unwrap();
        assert_eq!(params.query.page_number(), 3);
        assert_eq!(params.query.order(), OrderBy::CreatedAtDescending);
        assert_eq!(
            params.href("/v3/registry_credentials", 1),
            "/v3/registry_credentials?page=1&per_page=2&label_selector=env%20in%20(a,b)&order_by=-created_at"
        );
    }
}
