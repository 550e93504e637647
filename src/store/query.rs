//! One query for listing stored credentials as the platform's list of
//! registry credentials does (R22, R23): filters by GUID, scope, location,
//! label selector and time, an order, and a page.
//!
//! [`CredentialStore::query`](super::CredentialStore::query) answers it;
//! [`Query::matches`] and [`Query::page_of`] say what the answer is, and are
//! the answer of a store that keeps everything in memory.
//!
//! ```
//! use registry_credentials::store::{Query, OrderBy};
//! use registry_credentials::{Credential, CredentialStore, MemoryStore, RegistryCredential, Scope, ScopeKind};
//! let store = MemoryStore::new();
//! for l in ["a.example.com", "b.example.com", "c.example.com"] {
//!     store.create(RegistryCredential::new(Scope::Foundation, l.parse()?, Credential::new("u", "p")?))?;
//! }
//! let page = store.query(&Query::new().scope_kinds([ScopeKind::Foundation]).page(2, 2)?)?;
//! assert_eq!(page.total_results(), 3);
//! assert_eq!(page.total_pages(), 2);
//! assert_eq!(page.resources().len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cmp::Ordering;
use std::time::SystemTime;

use crate::credential::{CredentialSummary, RegistryCredential};
use crate::identity::{Guid, seconds};
use crate::location::Location;
use crate::metadata::Selector;
use crate::scope::{Scope, ScopeKind};

/// The setter and the getter of each optional list filter of a query:
/// `set` keeps only what has one of the values given (none: nothing), and
/// `get` is the list set, if any. Used by [`Query`] and
/// [`AuditQuery`](super::audit::AuditQuery).
macro_rules! list_filters {
    ($($(#[$doc:meta])* $set:ident, $get:ident: $field:ident: $t:ty;)*) => {$(
        $(#[$doc])*
        #[must_use]
        pub fn $set(mut self, values: impl IntoIterator<Item = $t>) -> Self {
            self.$field = Some(values.into_iter().collect());
            self
        }

        #[doc = concat!("The filter [`", stringify!($set), "`](Self::", stringify!($set), ") set, if any.")]
        pub fn $get(&self) -> Option<&[$t]> {
            self.$field.as_deref()
        }
    )*};
}
pub(crate) use list_filters;

/// `new` (documented by `$new`), `page`, `page_number`, `per_page` and
/// [`Paged`] for a query type whose `page` field is a [`PageSpec`].
macro_rules! paged_query {
    ($ty:ident, $new:literal) => {
        impl $ty {
            #[doc = $new]
            pub fn new() -> Self {
                $ty::default()
            }

            /// Page `page` (from 1) of `per_page` (1 to
            /// [`MAX_PER_PAGE`](crate::store::MAX_PER_PAGE)).
            ///
            /// # Errors
            ///
            /// [`QueryError`](crate::store::QueryError) when `page` is 0
            /// or `per_page` is out of range.
            pub fn page(
                mut self,
                page: u64,
                per_page: u64,
            ) -> Result<Self, $crate::store::QueryError> {
                self.page = $crate::store::query::PageSpec::new(page, per_page)?;
                Ok(self)
            }

            /// The page number, from 1.
            pub fn page_number(&self) -> u32 {
                self.page.number
            }

            /// The page size.
            pub fn per_page(&self) -> u32 {
                self.page.size
            }
        }

        impl $crate::store::Paged for $ty {
            fn page_number(&self) -> u32 {
                $ty::page_number(self)
            }

            fn per_page(&self) -> u32 {
                $ty::per_page(self)
            }
        }
    };
}
pub(crate) use paged_query;

/// The most credentials one page holds.
pub const MAX_PER_PAGE: u32 = 5000;
/// How many a page holds when the query does not say.
pub const DEFAULT_PER_PAGE: u32 = 50;

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The page number is 0.
    #[error("the page is {page}; pages are numbered from 1")]
    Page {
        /// The page asked for.
        page: u64,
    },
    /// The page size is 0 or more than [`MAX_PER_PAGE`].
    #[error("per_page is {per_page}; give 1 to {MAX_PER_PAGE}")]
    PerPage {
        /// The size asked for.
        per_page: u64,
    },
}

/// Which time a [`Query`] orders by, and which way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OrderBy {
    /// Oldest created first (`created_at`), the default.
    #[default]
    CreatedAt,
    /// Newest created first (`-created_at`).
    CreatedAtDescending,
    /// Least recently updated first (`updated_at`).
    UpdatedAt,
    /// Most recently updated first (`-updated_at`).
    UpdatedAtDescending,
}

impl OrderBy {
    /// Whether it orders by `updated_at` rather than `created_at`.
    pub fn by_updated_at(self) -> bool {
        matches!(self, OrderBy::UpdatedAt | OrderBy::UpdatedAtDescending)
    }

    /// Whether the newest comes first.
    pub fn descending(self) -> bool {
        matches!(
            self,
            OrderBy::CreatedAtDescending | OrderBy::UpdatedAtDescending
        )
    }
}

/// A filter on one of a credential's times, to the second: any of some
/// exact times, and bounds (`[lt]`, `[lte]`, `[gt]`, `[gte]`); every part
/// given must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TimeFilter {
    any_of: Option<Vec<u64>>,
    lt: Option<u64>,
    lte: Option<u64>,
    gt: Option<u64>,
    gte: Option<u64>,
}

impl TimeFilter {
    /// No condition.
    pub fn new() -> Self {
        TimeFilter::default()
    }

    /// The time is one of `times` (each cut to the second).
    #[must_use]
    pub fn any_of(mut self, times: impl IntoIterator<Item = SystemTime>) -> Self {
        self.any_of = Some(times.into_iter().map(seconds).collect());
        self
    }

    crate::macros::setters! {
        /// The time is before `at`.
        before(at: SystemTime) => lt = Some(seconds(at));
        /// The time is at or before `at`.
        at_or_before(at: SystemTime) => lte = Some(seconds(at));
        /// The time is after `at`.
        after(at: SystemTime) => gt = Some(seconds(at));
        /// The time is at or after `at`.
        at_or_after(at: SystemTime) => gte = Some(seconds(at));
    }

    /// Whether it has no condition.
    pub fn is_empty(&self) -> bool {
        *self == TimeFilter::default()
    }

    /// Exact times, in whole seconds since 1970.
    pub fn exact_secs(&self) -> Option<&[u64]> {
        self.any_of.as_deref()
    }

    /// The bounds, in whole seconds since 1970: `<`, `<=`, `>`, `>=`.
    pub fn bounds_secs(&self) -> [(&'static str, Option<u64>); 4] {
        [
            ("<", self.lt),
            ("<=", self.lte),
            (">", self.gt),
            (">=", self.gte),
        ]
    }

    /// Whether `secs` (whole seconds since 1970) passes.
    pub fn holds(&self, secs: u64) -> bool {
        self.any_of.as_ref().is_none_or(|any| any.contains(&secs))
            && self.lt.is_none_or(|b| secs < b)
            && self.lte.is_none_or(|b| secs <= b)
            && self.gt.is_none_or(|b| secs > b)
            && self.gte.is_none_or(|b| secs >= b)
    }
}

/// What to list: every filter given must hold (a list filter holds when
/// the credential's value is one of the list); an empty list matches
/// nothing. Ordered by [`OrderBy`], ties by GUID; paged from 1.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    guids: Option<Vec<Guid>>,
    scope_kinds: Option<Vec<ScopeKind>>,
    scopes: Option<Vec<Scope>>,
    locations: Option<Vec<Location>>,
    selector: Option<Selector>,
    created: TimeFilter,
    updated: TimeFilter,
    order: OrderBy,
    page: PageSpec,
}

paged_query!(
    Query,
    "Every credential, oldest first, the first page of 50."
);

impl Query {
    list_filters! {
        /// Only these GUIDs.
        guids, guid_filter: guids: Guid;
        /// Only these kinds of scope (`scopes` of the platform's list).
        scope_kinds, scope_kind_filter: scope_kinds: ScopeKind;
        /// Only credentials at one of these scopes: what an organization,
        /// space or app filter, and the read rules, come to.
        scopes, scope_filter: scopes: Scope;
        /// Only these locations (in normal form, as stored).
        locations, location_filter: locations: Location;
    }

    crate::macros::setters! {
        /// Only credentials whose labels `selector` matches (R23).
        selector(selector: Selector) => selector = Some(selector);
        /// Only credentials whose `created_at` passes `filter`.
        created(filter: TimeFilter) => created = filter;
        /// Only credentials whose `updated_at` passes `filter`.
        updated(filter: TimeFilter) => updated = filter;
        /// Ordered so.
        order_by(order: OrderBy) => order = order;
    }

    /// The label selector.
    pub fn selector_filter(&self) -> Option<&Selector> {
        self.selector.as_ref()
    }

    /// The `created_at` filter.
    pub fn created_filter(&self) -> &TimeFilter {
        &self.created
    }

    /// The `updated_at` filter.
    pub fn updated_filter(&self) -> &TimeFilter {
        &self.updated
    }

    /// The order.
    pub fn order(&self) -> OrderBy {
        self.order
    }

    /// How many credentials come before the page.
    pub fn offset(&self) -> u64 {
        Paged::offset(self)
    }

    /// Whether `c` passes every filter.
    pub fn matches(&self, c: &CredentialSummary) -> bool {
        let record = c.record();
        self.guids
            .as_ref()
            .is_none_or(|g| g.contains(&record.guid()))
            && self
                .scope_kinds
                .as_ref()
                .is_none_or(|k| k.contains(&c.scope().kind()))
            && self.scopes.as_ref().is_none_or(|s| s.contains(c.scope()))
            && self
                .locations
                .as_ref()
                .is_none_or(|l| l.contains(c.location()))
            && self
                .selector
                .as_ref()
                .is_none_or(|s| s.matches(c.metadata().labels()))
            && self.created.holds(record.created_secs())
            && self.updated.holds(record.updated_secs())
    }

    /// How two listed credentials are ordered: by the order's time, then
    /// GUID, both in the order's direction.
    pub fn compare(&self, a: &CredentialSummary, b: &CredentialSummary) -> Ordering {
        let key = |c: &CredentialSummary| {
            let r = c.record();
            let time = if self.order.by_updated_at() {
                r.updated_secs()
            } else {
                r.created_secs()
            };
            (time, r.guid())
        };
        let ordering = key(a).cmp(&key(b));
        if self.order.descending() {
            ordering.reverse()
        } else {
            ordering
        }
    }

    /// The answer to this query over `all`, a store's every credential in
    /// any order (one never stored matches nothing).
    pub fn page_of<C: std::ops::Deref<Target = RegistryCredential>>(
        &self,
        all: impl IntoIterator<Item = C>,
    ) -> Page {
        Page::select(
            self,
            all.into_iter()
                .filter_map(|c| CredentialSummary::of(&c))
                .filter(|c| self.matches(c)),
            |a, b| self.compare(a, b),
        )
    }
}

/// A request for one page: its number, from 1, and its size. [`Query`]
/// and [`AuditQuery`](super::audit::AuditQuery) are.
pub trait Paged {
    /// The page's number, from 1.
    fn page_number(&self) -> u32;

    /// The page's size, 1 to [`MAX_PER_PAGE`].
    fn per_page(&self) -> u32;

    /// How many results come before the page.
    fn offset(&self) -> u64 {
        u64::from(self.page_number().saturating_sub(1)) * u64::from(self.per_page())
    }
}

/// Which page a query asks for: its number, from 1, and its size, 1 to
/// [`MAX_PER_PAGE`]; by default the first of [`DEFAULT_PER_PAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageSpec {
    pub(crate) number: u32,
    pub(crate) size: u32,
}

impl Default for PageSpec {
    fn default() -> Self {
        PageSpec {
            number: 1,
            size: DEFAULT_PER_PAGE,
        }
    }
}

impl PageSpec {
    /// `page` and `per_page` checked as the platform checks them.
    pub(crate) fn new(page: u64, per_page: u64) -> Result<Self, QueryError> {
        let number = u32::try_from(page)
            .ok()
            .filter(|p| *p >= 1)
            .ok_or(QueryError::Page { page })?;
        let size = u32::try_from(per_page)
            .ok()
            .filter(|n| (1..=MAX_PER_PAGE).contains(n))
            .ok_or(QueryError::PerPage { per_page })?;
        Ok(PageSpec { number, size })
    }
}

/// One page of an answer, and how many matched in all: of a [`Query`],
/// the credentials without their secrets ([`CredentialSummary`]); of an
/// [`AuditQuery`](super::audit::AuditQuery), audit events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T = CredentialSummary> {
    total_results: u64,
    page: u32,
    per_page: u32,
    resources: Vec<T>,
}

impl<T> Page<T> {
    /// The page `query` asked for, holding `resources`, of `total_results`
    /// that matched.
    pub fn new(query: &impl Paged, total_results: u64, resources: Vec<T>) -> Self {
        Page {
            total_results,
            page: query.page_number(),
            per_page: query.per_page(),
            resources,
        }
    }

    /// The page `query` asks for of every result of `found`, in the order
    /// of `compare`.
    pub(crate) fn select(
        query: &impl Paged,
        found: impl Iterator<Item = T>,
        compare: impl Fn(&T, &T) -> Ordering,
    ) -> Self {
        let mut found: Vec<T> = found.collect();
        let total = found.len() as u64;
        found.sort_unstable_by(compare);
        let resources = found
            .into_iter()
            .skip(usize::try_from(query.offset()).unwrap_or(usize::MAX))
            .take(query.per_page() as usize)
            .collect();
        Page::new(query, total, resources)
    }

    /// How many matched, on every page.
    pub fn total_results(&self) -> u64 {
        self.total_results
    }

    /// How many pages there are (at least 1, as the platform counts).
    pub fn total_pages(&self) -> u64 {
        self.total_results.div_ceil(u64::from(self.per_page)).max(1)
    }

    /// This page's number, from 1.
    pub fn page(&self) -> u32 {
        self.page
    }

    /// The page size asked for.
    pub fn per_page(&self) -> u32 {
        self.per_page
    }

    /// The results on this page, in order.
    pub fn resources(&self) -> &[T] {
        &self.resources
    }

    /// The results on this page, taken.
    pub fn into_resources(self) -> Vec<T> {
        self.resources
    }

    /// The same page, counts and numbers, holding `resources` instead:
    /// these results with what a caller adds to each (where it sits, say).
    pub fn with_resources<U>(&self, resources: Vec<U>) -> Page<U> {
        Page {
            total_results: self.total_results,
            page: self.page,
            per_page: self.per_page,
            resources,
        }
    }
}
