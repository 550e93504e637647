//! Resolution: which stored credential an image pull uses (R13–R15).
//!
//! The decision is pure: [`Plan`] lists the (scope, location) keys to look
//! up in precedence order, and turns what any store found for them into a
//! [`Resolution`] ([`Plan::resolve`], [`Plan::resolve_all`]). [`resolve`],
//! [`resolve_all`] and [`explain`] put the two around a [`CredentialSource`],
//! [`resolve_async`], [`resolve_all_async`] and [`explain_async`] around an
//! [`AsyncCredentialSource`], so sync and async callers, and a store that
//! answers a whole plan in one query, share one rule.
//!
//! An expired credential (R25) is passed over as if it were absent: the
//! next candidate, then the next scope, is tried; [`explain`] shows it as
//! expired. The clock is read only when a found credential has an expiry.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use smallvec::SmallVec;

use crate::candidates::{Candidate, CandidateKind};
use crate::credential::{Credential, CredentialKind, RegistryCredential};
use crate::location::Location;
use crate::reference::Reference;
use crate::scope::{Puller, Pulls, Scope, ScopeKind, ScopeRef};
use crate::store::{AsyncCredentialSource, CredentialSource, Key, StoreError};

/// The span each resolution opens (feature `tracing`): named after the
/// function, with the image, the app's ids and the plan's size; the rest is
/// recorded by [`trace`] once the store has answered.
#[cfg(feature = "tracing")]
macro_rules! resolve_span {
    ($name:literal, $app:expr, $reference:expr, $plan:expr) => {
        tracing::info_span!(
            $name,
            image = $reference.as_str(),
            org = scope_id($app, ScopeKind::Org),
            space = scope_id($app, ScopeKind::Space),
            app = scope_id($app, ScopeKind::App),
            keys = $plan.key_count(),
            tried = tracing::field::Empty,
            found = tracing::field::Empty,
            outcome = tracing::field::Empty,
            scope = tracing::field::Empty,
            scope_id = tracing::field::Empty,
            location = tracing::field::Empty,
            rank = tracing::field::Empty,
            error = tracing::field::Empty,
        )
    };
}

/// The id of the puller's scope of `kind`, for a span; `None` when it
/// searches no such scope.
#[cfg(feature = "tracing")]
fn scope_id<P: Pulls + ?Sized>(puller: &P, kind: ScopeKind) -> Option<&str> {
    puller
        .scopes()
        .find(|s| s.kind() == kind)
        .and_then(|s| s.id())
}

/// Recording what a resolution found on its span, and one event with the
/// outcome. Only scopes, ids, locations and counts: never a username or a
/// password.
#[cfg(feature = "tracing")]
mod trace {
    use super::Resolution;
    use crate::store::StoreError;

    pub(super) use tracing::Span;

    /// `future`, run inside `span` (never held across an await by a guard).
    pub(super) fn instrument<F: std::future::Future>(
        future: F,
        span: &Span,
    ) -> tracing::instrument::Instrumented<F> {
        tracing::Instrument::instrument(future, span.clone())
    }

    /// `tried` keys were looked up, and `winner` won (or nothing did).
    pub(super) fn found(span: &Span, tried: usize, found: usize, winner: Option<&Resolution>) {
        span.record("tried", tried);
        span.record("found", found);
        match winner {
            Some(r) => {
                span.record("outcome", "found");
                span.record("scope", r.scope_kind().as_str());
                span.record("scope_id", r.scope().id().unwrap_or(""));
                span.record("location", r.location().as_str());
                span.record("rank", r.rank());
                tracing::debug!(
                    parent: span,
                    scope = r.scope_kind().as_str(),
                    location = r.location().as_str(),
                    "registry credential chosen"
                );
            }
            None => {
                span.record("outcome", "none");
                tracing::debug!(parent: span, "no registry credential matches (R15)");
            }
        }
    }

    /// The winner of a resolution (or none): the keys up to it were
    /// looked up.
    pub(super) fn found_first(span: &Span, plan: &super::Plan<'_>, winner: Option<&Resolution>) {
        if span.is_disabled() {
            return; // nobody listens: nothing to count or record
        }
        let tried = winner.map_or_else(|| plan.key_count(), |r| r.index + 1);
        found(span, tried, usize::from(winner.is_some()), winner);
    }

    /// The store failed.
    pub(super) fn failed(span: &Span, error: &StoreError) {
        span.record("outcome", "error");
        span.record("error", tracing::field::display(error));
        tracing::warn!(parent: span, error = %error, "registry credential look-up failed");
    }
}

/// Without the `tracing` feature: no span, and the same calls doing nothing.
#[cfg(not(feature = "tracing"))]
macro_rules! resolve_span {
    ($name:literal, $app:expr, $reference:expr, $plan:expr) => {
        trace::Span
    };
}

#[cfg(not(feature = "tracing"))]
mod trace {
    use super::Resolution;
    use crate::store::StoreError;

    /// No span.
    pub(super) struct Span;

    /// Entering no span.
    pub(super) struct Entered;

    impl Span {
        pub(super) fn enter(&self) -> Entered {
            Entered
        }
    }

    pub(super) fn instrument<F>(future: F, _: &Span) -> F {
        future
    }

    pub(super) fn found(_: &Span, _: usize, _: usize, _: Option<&Resolution>) {}

    pub(super) fn found_first(_: &Span, _: &super::Plan<'_>, _: Option<&Resolution>) {}

    pub(super) fn failed(_: &Span, _: &StoreError) {}
}

/// The wall clock for R25, read at most once per resolution and only when
/// a found credential has an expiry.
#[derive(Debug, Default)]
pub struct Clock(Option<SystemTime>);

impl Clock {
    /// A clock not yet read.
    pub fn new() -> Self {
        Clock(None)
    }

    /// A clock that reads `now`, for tests and for callers that fix the time
    /// of a decision.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use registry_credentials::resolve::Clock;
    /// use registry_credentials::{Credential, RegistryCredential, Scope};
    /// let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    /// let c = RegistryCredential::new(Scope::Foundation, "example.com".parse()?, Credential::new("u", "p")?)
    ///     .with_expires_at(Some(at));
    /// assert!(!Clock::at(at - Duration::from_secs(1)).expired(&c));
    /// assert!(Clock::at(at).expired(&c));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn at(now: SystemTime) -> Self {
        Clock(Some(now))
    }

    /// Whether `credential` has expired (R25).
    pub fn expired(&mut self, credential: &RegistryCredential) -> bool {
        credential.expires_at().is_some_and(|_| {
            let now = *self.0.get_or_insert_with(SystemTime::now);
            credential.is_expired_at(now)
        })
    }

    /// `found`, unless it has expired.
    fn live(&mut self, found: Option<Arc<RegistryCredential>>) -> Option<Arc<RegistryCredential>> {
        found.filter(|c| !self.expired(c))
    }
}

/// A probe of keys in order for the first credential a puller can use:
/// each `first_match` answer over [`keys`](Self::keys) is handed to
/// [`answer`](Self::answer), which ends the probe at a live hit the puller
/// accepts or at a miss, and otherwise moves past what it passed over (an
/// expired credential, R25; a kind the puller cannot carry, R24), so that
/// one passed over is as if absent. A driver only calls the store:
/// [`first_live`] for a sync one; for an async one, as [`resolve_async`]
/// does:
///
/// ```
/// use registry_credentials::resolve::{Clock, LiveProbe, Plan};
/// use registry_credentials::store::{AsyncCredentialSource, InlineStore, block_on_ready};
/// use registry_credentials::{App, Credential, CredentialKind, CredentialStore, MemoryStore, RegistryCredential, Scope};
/// let memory = MemoryStore::new();
/// let token = Credential::registry_token("robot", "bearer")?;
/// memory.create(RegistryCredential::new(Scope::Foundation, "registry.example.com".parse()?, token))?;
/// memory.create(RegistryCredential::new(Scope::Foundation, "example.com".parse()?, Credential::new("u", "p")?))?;
/// let store = InlineStore(memory);
/// let app = App::new("o", "s", "a")?;
/// let image = "registry.example.com/team/app".parse()?;
/// let plan = Plan::new(&app, &image);
/// let mut clock = Clock::new();
/// // A puller that carries passwords alone.
/// let mut probe = LiveProbe::new(plan.keys(), &mut clock, |c| c.kind() == CredentialKind::Password);
/// let found = block_on_ready(async {
///     loop {
///         if let Some(done) = probe.answer(store.first_match(probe.keys()).await?) {
///             break Ok::<_, registry_credentials::StoreError>(done);
///         }
///     }
/// })?;
/// assert_eq!(found.unwrap().1.location().as_str(), "example.com");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct LiveProbe<'k, 'a, 'c, F> {
    keys: &'k [Key<'a>],
    from: usize,
    clock: &'c mut Clock,
    accept: F,
}

impl<'k, 'a, 'c, F: Fn(&RegistryCredential) -> bool> LiveProbe<'k, 'a, 'c, F> {
    /// A probe of `keys`, passing over what `clock` says has expired and
    /// what `accept` refuses.
    pub fn new(keys: &'k [Key<'a>], clock: &'c mut Clock, accept: F) -> Self {
        LiveProbe {
            keys,
            from: 0,
            clock,
            accept,
        }
    }

    /// The keys to ask `first_match` for next.
    pub fn keys(&self) -> &'k [Key<'a>] {
        &self.keys[self.from..]
    }

    /// The outcome once `found` (the answer for [`keys`](Self::keys)) ends
    /// the probe: the winner as an index into all the keys, or nothing.
    pub fn answer(
        &mut self,
        found: Option<(usize, Arc<RegistryCredential>)>,
    ) -> Option<Option<(usize, Arc<RegistryCredential>)>> {
        match found {
            Some((i, c)) if self.clock.expired(&c) || !(self.accept)(&c) => {
                self.from += i + 1;
                (self.from >= self.keys.len()).then_some(None)
            }
            found => Some(found.map(|(i, c)| (self.from + i, c))),
        }
    }
}

/// The winner a store found for `plan`, recorded on `span`.
fn first_resolution(
    plan: &Plan,
    span: &trace::Span,
    found: Result<Option<Resolution>, StoreError>,
) -> Result<Option<Resolution>, StoreError> {
    match &found {
        Err(e) => trace::failed(span, e),
        Ok(resolution) => trace::found_first(span, plan, resolution.as_ref()),
    }
    found
}

/// `get_many`'s answer as every resolution, winner first, recorded on
/// `span`.
fn all_resolutions(
    plan: &Plan,
    span: &trace::Span,
    found: Result<impl IntoIterator<Item = Option<Arc<RegistryCredential>>>, StoreError>,
) -> Result<Vec<Resolution>, StoreError> {
    if let Err(e) = &found {
        trace::failed(span, e);
    }
    let all = plan.resolve_all(found?);
    trace::found(span, plan.keys().len(), all.len(), all.first());
    Ok(all)
}

/// The keys to look up for one app and one reference, in precedence order:
/// every candidate of the reference, most specific first, at the app's own
/// scope, then its space, its organization and the foundation (R14).
///
/// ```
/// use registry_credentials::resolve::Plan;
/// use registry_credentials::{App, Reference, ScopeKind};
/// let app = App::new("o", "s", "a")?;
/// let image: Reference = "registry.example.com/repo/image".parse()?;
/// let plan = Plan::new(&app, &image);
/// assert_eq!(plan.keys().len(), 4 * 3);
/// assert_eq!(plan.keys()[0].scope().kind(), ScopeKind::App);
/// assert_eq!(plan.keys()[0].location(), "registry.example.com/repo");
/// assert_eq!(plan.keys()[11].scope().kind(), ScopeKind::Foundation);
/// assert_eq!(plan.keys()[11].location(), "example.com");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A store that answers a whole plan itself (one query for every key)
/// hands what it found back to the plan, which applies the rules:
///
/// ```
/// use std::sync::Arc;
/// use registry_credentials::resolve::Plan;
/// use registry_credentials::{App, Credential, RegistryCredential, Scope, ScopeKind};
/// let app = App::new("o", "s", "a")?;
/// let image = "registry.example.com/repo/image".parse()?;
/// let plan = Plan::new(&app, &image);
/// // Say the store found something for the space's `example.com` only.
/// let space_key = plan
///     .keys()
///     .iter()
///     .position(|k| k.scope().kind() == ScopeKind::Space && k.location() == "example.com")
///     .unwrap();
/// let found = plan.keys().iter().enumerate().map(|(i, _)| {
///     (i == space_key).then(|| Arc::new(RegistryCredential::new(
///         Scope::Space(app.space().clone()),
///         "example.com".parse().unwrap(),
///         Credential::new("space-user", "pw").unwrap(),
///     )))
/// });
/// let winner = plan.resolve(found).expect("the space's credential");
/// assert_eq!(winner.scope_kind(), ScopeKind::Space);
/// assert_eq!(winner.rank(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A plan is made in a few instructions and lists nothing until asked:
/// [`first_probed`](Self::first_probed) makes each candidate and key as it
/// reaches it and stops at the first hit, so a hit at the app's first
/// candidate makes one key and no Public Suffix List look-up; [`keys`](Self::keys)
/// and [`candidates`](Self::candidates) list them all, once, for a store
/// that answers every key at once.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    /// The puller's scopes, in precedence order; the first `scope_count`.
    scopes: [ScopeRef<'a>; 4],
    scope_count: usize,
    reference: &'a Reference,
    /// Every candidate and key, listed on first use.
    listed: OnceLock<Listed<'a>>,
}

/// A plan's candidates and keys, all of them.
#[derive(Debug, Clone)]
struct Listed<'a> {
    candidates: SmallVec<[Candidate<'a>; 8]>,
    keys: SmallVec<[Key<'a>; 32]>,
}

/// How many candidates [`Plan::first_probed`] keeps without allocating: a
/// path of 14 components under a host with a parent domain.
const INLINE_CANDIDATES: usize = 16;

/// A store's look-up of one key at a time, as [`Plan::first_probed`]
/// drives it: what the store derives from a scope or a candidate (a hash,
/// say) is derived once per resolution, when the loop first reaches it, and
/// handed back with every key that shares it.
pub trait Prober<'a> {
    /// What the store derives from a scope.
    type Scope;
    /// What the store derives from a candidate's location.
    type Location;

    /// Derives what `scope`'s keys share.
    fn scope(&mut self, scope: ScopeRef<'a>) -> Self::Scope;

    /// Derives what the keys of the candidate `location` share.
    fn location(&mut self, location: &'a str) -> Self::Location;

    /// Derives what every candidate of the reference shares from its
    /// `registry` (`host[:port]`), before the first
    /// [`location`](Self::location): every candidate's registry ends in
    /// the last two labels and the port of this one (R10–R12). False when
    /// the store can tell from that alone that it holds no candidate: the
    /// resolution then finds nothing (R15) and makes no key. True, and
    /// nothing derived, unless a store needs it.
    fn registry(&mut self, registry: &'a str) -> bool {
        let _ = registry;
        true
    }

    /// The credential stored at `key`, if any; `scope` and `location` are
    /// what [`scope`](Self::scope) and [`location`](Self::location) derived
    /// from its scope and its location (the scope's may be completed here,
    /// for the scope's later keys: a hash made only once a key needs it).
    fn probe(
        &mut self,
        key: Key<'a>,
        scope: &mut Self::Scope,
        location: &Self::Location,
    ) -> Option<Arc<RegistryCredential>>;
}

impl<'a> Plan<'a> {
    /// The plan for pulling `reference` for `puller` (an [`App`](crate::App) or a
    /// [`Puller`]). Lists nothing yet and allocates nothing.
    #[inline]
    pub fn new<P: Pulls + ?Sized>(puller: &'a P, reference: &'a Reference) -> Self {
        let mut scopes = [ScopeRef::Foundation; 4];
        let mut scope_count = 0;
        for (slot, scope) in scopes.iter_mut().zip(puller.scopes()) {
            *slot = scope;
            scope_count += 1;
        }
        Plan {
            scopes,
            scope_count,
            reference,
            listed: OnceLock::new(),
        }
    }

    /// The scopes searched, in precedence order (R14, R26).
    pub fn scopes(&self) -> &[ScopeRef<'a>] {
        &self.scopes[..self.scope_count]
    }

    /// Every candidate and key, listed the first time one is asked for.
    fn listed(&self) -> &Listed<'a> {
        self.listed.get_or_init(|| {
            let candidates: SmallVec<[Candidate<'a>; 8]> = self.reference.candidates().collect();
            let mut keys = SmallVec::with_capacity(candidates.len() * self.scope_count);
            for scope in self.scopes() {
                keys.extend(candidates.iter().map(|c| Key::candidate(*scope, *c)));
            }
            Listed { candidates, keys }
        })
    }

    /// How many keys the plan has, without listing them (for a span).
    #[cfg(feature = "tracing")]
    fn key_count(&self) -> usize {
        match self.listed.get() {
            Some(listed) => listed.keys.len(),
            None => self.scope_count * self.reference.candidates().count(),
        }
    }

    /// The keys, in precedence order.
    pub fn keys(&self) -> &[Key<'a>] {
        &self.listed().keys
    }

    /// The reference's candidates, most specific first.
    pub fn candidates(&self) -> &[Candidate<'a>] {
        &self.listed().candidates
    }

    /// The candidate the key at `index` looks up, and its rank among the
    /// candidates (0 is the most specific); `None` past the last key.
    pub fn candidate(&self, index: usize) -> Option<(Candidate<'a>, usize)> {
        let listed = self.listed();
        if index >= listed.keys.len() {
            return None;
        }
        let rank = index % listed.candidates.len();
        Some((listed.candidates[rank], rank))
    }

    /// The resolution for `credential`, found at the key at `index`; `None`
    /// past the last key.
    pub fn resolution(
        &self,
        index: usize,
        credential: Arc<RegistryCredential>,
    ) -> Option<Resolution> {
        let (candidate, rank) = self.candidate(index)?;
        Some(Resolution {
            credential,
            kind: candidate.kind(),
            rank,
            index,
        })
    }

    /// The winner found by `prober`, a store's look-up of one key: the keys
    /// are probed in precedence order (R14) and the first that finds a
    /// credential `clock` does not say has expired wins (an expired one is
    /// passed over as if absent, R25); `None` when none does (R15). Each candidate is made
    /// when the first scope reaches it (so the Public Suffix List is read
    /// once, and only when a parent domain is reached) and each key when it
    /// is probed: no key after the winner is made.
    ///
    /// This is the one loop of a store that probes key by key
    /// ([`CredentialSource::resolve_plan`]); it gives what
    /// [`resolve`](Self::resolve) gives for the same store's answers to
    /// every key.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use registry_credentials::resolve::{Clock, Plan, Prober};
    /// use registry_credentials::scope::ScopeRef;
    /// use registry_credentials::store::Key;
    /// use registry_credentials::{App, Credential, RegistryCredential, Scope, ScopeKind};
    ///
    /// /// One stored credential, and the keys asked for.
    /// struct One<'a>(Arc<RegistryCredential>, Vec<Key<'a>>);
    ///
    /// impl<'a> Prober<'a> for One<'a> {
    ///     type Scope = ();
    ///     type Location = ();
    ///     fn scope(&mut self, _: ScopeRef<'a>) {}
    ///     fn location(&mut self, _: &'a str) {}
    ///     fn probe(&mut self, key: Key<'a>, _: &mut (), _: &()) -> Option<Arc<RegistryCredential>> {
    ///         self.1.push(key);
    ///         (key == Key::of(&self.0)).then(|| Arc::clone(&self.0))
    ///     }
    /// }
    ///
    /// let app = App::new("o", "s", "a")?;
    /// let image = "registry.example.com/repo/image".parse()?;
    /// let plan = Plan::new(&app, &image);
    /// let mut one = One(
    ///     Arc::new(RegistryCredential::new(
    ///         Scope::Space(app.space().clone()),
    ///         "registry.example.com".parse()?,
    ///         Credential::new("space-user", "pw")?,
    ///     )),
    ///     Vec::new(),
    /// );
    /// let winner = plan
    ///     .first_probed(&mut one, &mut Clock::new())
    ///     .expect("the space's credential");
    /// assert_eq!((winner.scope_kind(), winner.rank()), (ScopeKind::Space, 1));
    /// // The app's three keys, then the space's first two: nothing after.
    /// assert_eq!(one.1, plan.keys()[..5]);
    /// assert_eq!(winner.key_index(), 4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn first_probed<P: Prober<'a>>(
        &self,
        prober: &mut P,
        clock: &mut Clock,
    ) -> Option<Resolution> {
        let found = |credential, candidate: &Candidate<'a>, rank, index| Resolution {
            credential,
            kind: candidate.kind(),
            rank,
            index,
        };
        let (&first, rest) = self.scopes().split_first()?;
        let candidates = self.reference.candidates();
        if !prober.registry(candidates.registry()) {
            return None;
        }
        // The first scope makes the candidates, and keeps them with what
        // the store derived from each for the later scopes.
        let mut made: SmallVec<[(Candidate<'a>, P::Location); INLINE_CANDIDATES]> = SmallVec::new();
        let mut derived = prober.scope(first);
        for (rank, candidate) in candidates.enumerate() {
            let location = prober.location(candidate.as_str());
            let key = Key::candidate(first, candidate);
            // An expired credential is passed over as if absent (R25).
            if let Some(credential) = prober.probe(key, &mut derived, &location) {
                if !clock.expired(&credential) {
                    return Some(found(credential, &candidate, rank, rank));
                }
            }
            made.push((candidate, location));
        }
        for (scope_rank, &scope) in rest.iter().enumerate() {
            let mut derived = prober.scope(scope);
            for (rank, (candidate, location)) in made.iter().enumerate() {
                let key = Key::candidate(scope, *candidate);
                if let Some(credential) = prober.probe(key, &mut derived, location) {
                    if !clock.expired(&credential) {
                        let index = (scope_rank + 1) * made.len() + rank;
                        return Some(found(credential, candidate, rank, index));
                    }
                }
            }
        }
        None
    }

    /// The winner among what a store found for [`keys`](Self::keys),
    /// answered in key order: the first found (R14), or `None` when nothing
    /// was (R15). Answers past the last key are ignored.
    ///
    /// An expired credential is passed over as if absent (R25).
    pub fn resolve(
        &self,
        found: impl IntoIterator<Item = Option<Arc<RegistryCredential>>>,
    ) -> Option<Resolution> {
        let mut clock = Clock::new();
        select_first(found.into_iter().map(|c| clock.live(c)))
            .and_then(|(i, c)| self.resolution(i, c))
    }

    /// Every found credential as a resolution, winner first: what
    /// [`resolve_all`] returns. `found` answers [`keys`](Self::keys) in
    /// order; answers past the last key are ignored.
    ///
    /// Expired credentials are left out (R25).
    pub fn resolve_all(
        &self,
        found: impl IntoIterator<Item = Option<Arc<RegistryCredential>>>,
    ) -> Vec<Resolution> {
        let mut clock = Clock::new();
        found
            .into_iter()
            .enumerate()
            .filter_map(|(i, c)| clock.live(c).and_then(|c| self.resolution(i, c)))
            .collect()
    }
}

/// The first found credential and its index: the winner (R14), or `None`
/// when nothing was found (R15). `found` answers a [`Plan`]'s keys in order.
pub fn select_first(
    found: impl IntoIterator<Item = Option<Arc<RegistryCredential>>>,
) -> Option<(usize, Arc<RegistryCredential>)> {
    crate::store::first_found(found)
}

/// The credential chosen for a pull, and why.
///
/// With the `serde` feature it serializes as what it says, never the
/// password (R21): the scope's kind and id, the location, the username,
/// and the candidate's kind and rank.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use registry_credentials::{resolve, App, Credential, CredentialStore, MemoryStore, RegistryCredential, Scope};
/// let store = MemoryStore::new();
/// store.create(RegistryCredential::new(
///     Scope::Foundation,
///     "docker.io".parse()?,
///     Credential::new("hub-user", "hub-password")?,
/// ))?;
/// let app = App::new("o", "s", "a")?;
/// let found = resolve(&store, &app, &"nginx".parse()?)?.unwrap();
/// assert_eq!(
///     serde_json::to_string(&found)?,
///     r#"{"scope":{"kind":"foundation","id":null},"location":"docker.io","username":"hub-user","kind":"password","candidate":"registry","rank":1}"#
/// );
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Resolution {
    credential: Arc<RegistryCredential>,
    kind: CandidateKind,
    rank: usize,
    /// The index of the plan's key it was found at.
    index: usize,
}

impl Resolution {
    /// The username and secret to send.
    pub fn credential(&self) -> &Credential {
        self.credential.credential()
    }

    /// The stored credential that won: the credential with its scope and
    /// location.
    pub fn stored(&self) -> &Arc<RegistryCredential> {
        &self.credential
    }

    /// The scope it was found at.
    pub fn scope(&self) -> &Scope {
        self.credential.scope()
    }

    /// The kind of that scope.
    pub fn scope_kind(&self) -> ScopeKind {
        self.credential.scope().kind()
    }

    /// The location that matched.
    pub fn location(&self) -> &Location {
        self.credential.location()
    }

    /// How the matched location relates to the image.
    pub fn candidate_kind(&self) -> CandidateKind {
        self.kind
    }

    /// The matched location's rank among the candidates: 0 is the most
    /// specific.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// The index of the key it was found at among the plan's
    /// [`keys`](Plan::keys): how many keys precede the winner in precedence
    /// order (R14).
    pub fn key_index(&self) -> usize {
        self.index
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "user `{}` from the {} credential for `{}` ({})",
            self.credential.username(),
            self.scope(),
            self.location(),
            self.kind
        )
    }
}

/// The credential to use for pushing `reference` as `app`: the first stored
/// credential in the order of [`Plan`] (R14), or `None` (R15: the push goes
/// on without credentials). Reads the store afresh every time (R17).
///
/// # Errors
///
/// [`StoreError::Backend`] when the store fails. Finding nothing is not an
/// error.
///
/// ```
/// use registry_credentials::{
///     resolve, App, Credential, CredentialStore, MemoryStore, Reference, RegistryCredential,
///     Scope, ScopeKind,
/// };
/// let store = MemoryStore::new();
/// let app = App::new("o", "s", "a")?;
/// let image: Reference = "registry.example.com/repo/image:tag".parse()?;
/// assert!(resolve(&store, &app, &image)?.is_none());
///
/// store.create(RegistryCredential::new(
///     Scope::Space(app.space().clone()),
///     "registry.example.com/repo".parse()?,
///     Credential::new("space-user", "pw")?,
/// ))?;
/// store.create(RegistryCredential::new(
///     Scope::App(app.id().clone()),
///     "example.com".parse()?,
///     Credential::new("app-user", "pw")?,
/// ))?;
/// // Scope outranks specificity.
/// let r = resolve(&store, &app, &image)?.unwrap();
/// assert_eq!(r.scope_kind(), ScopeKind::App);
/// assert_eq!(r.location().as_str(), "example.com");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn resolve<S: CredentialSource + ?Sized, P: Pulls + ?Sized>(
    store: &S,
    app: &P,
    reference: &Reference,
) -> Result<Option<Resolution>, StoreError> {
    let plan = Plan::new(app, reference);
    let span = resolve_span!("resolve", app, reference, plan);
    let _entered = span.enter();
    let found = store.resolve_plan(&plan, &mut Clock::new());
    first_resolution(&plan, &span, found)
}

/// The first of `keys`, in order, whose credential has not expired (R25)
/// and that `accept` takes, with its index: `first_match`, probing again
/// past each credential passed over, so that one passed over is as if
/// absent. `accept` lets a puller that can carry only some kinds (R24)
/// pass over the others.
///
/// # Errors
///
/// [`StoreError::Backend`] when the store fails.
pub fn first_live<S: CredentialSource + ?Sized>(
    store: &S,
    keys: &[Key<'_>],
    clock: &mut Clock,
    accept: impl Fn(&RegistryCredential) -> bool,
) -> Result<Option<(usize, Arc<RegistryCredential>)>, StoreError> {
    let mut probe = LiveProbe::new(keys, clock, accept);
    loop {
        if let Some(done) = probe.answer(store.first_match(probe.keys())?) {
            return Ok(done);
        }
    }
}

/// Every stored credential that serves `reference` for `app`, in precedence
/// order: the winner first, then the ones to fall back to when a registry
/// refuses it.
///
/// # Errors
///
/// [`StoreError::Backend`] when the store fails.
pub fn resolve_all<S: CredentialSource + ?Sized, P: Pulls + ?Sized>(
    store: &S,
    app: &P,
    reference: &Reference,
) -> Result<Vec<Resolution>, StoreError> {
    let plan = Plan::new(app, reference);
    let span = resolve_span!("resolve_all", app, reference, plan);
    let _entered = span.enter();
    all_resolutions(&plan, &span, store.get_many(plan.keys()))
}

/// [`resolve`] for async stores: the same [`Plan`], so a store that
/// answers `first_match` in one query resolves in one round trip.
///
/// # Errors
///
/// [`StoreError::Backend`] when the store fails. Finding nothing is not an
/// error (R15).
pub async fn resolve_async<S: AsyncCredentialSource + ?Sized, P: Pulls + ?Sized>(
    store: &S,
    app: &P,
    reference: &Reference,
) -> Result<Option<Resolution>, StoreError> {
    let plan = Plan::new(app, reference);
    let span = resolve_span!("resolve_async", app, reference, plan);
    let mut clock = Clock::new();
    // The span covers the store's futures.
    let found = trace::instrument(store.resolve_plan(&plan, &mut clock), &span).await;
    first_resolution(&plan, &span, found)
}

/// [`resolve_all`] for async stores: every stored credential that serves
/// `reference` for `app`, winner first.
///
/// # Errors
///
/// [`StoreError::Backend`] when the store fails.
pub async fn resolve_all_async<S: AsyncCredentialSource + ?Sized, P: Pulls + ?Sized>(
    store: &S,
    app: &P,
    reference: &Reference,
) -> Result<Vec<Resolution>, StoreError> {
    let plan = Plan::new(app, reference);
    let span = resolve_span!("resolve_all_async", app, reference, plan);
    let found = trace::instrument(store.get_many(plan.keys()), &span).await;
    all_resolutions(&plan, &span, found)
}

/// One (scope, candidate) look-up, as [`explain`] reports it.
///
/// With the `serde` feature it serializes as the scope's kind and id, the
/// location, the candidate's kind, and what was found there as its
/// username alone, or `null` (R21: never the password).
#[derive(Debug, Clone)]
pub struct Attempt {
    scope: Scope,
    candidate: String,
    kind: CandidateKind,
    found: Option<Arc<RegistryCredential>>,
    expired: bool,
}

impl Attempt {
    /// The scope searched.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The candidate location looked up, as the image's name gives it (a
    /// candidate need not be a [`Location`] one could store: a parent
    /// domain such as `github.io` is looked up and never found).
    pub fn candidate(&self) -> &str {
        &self.candidate
    }

    /// How the candidate relates to the image.
    pub fn candidate_kind(&self) -> CandidateKind {
        self.kind
    }

    /// What the store held there, expired or not.
    pub fn stored(&self) -> Option<&Arc<RegistryCredential>> {
        self.found.as_ref()
    }

    /// Whether what the store held there had expired, so that it was
    /// passed over (R25).
    pub fn expired(&self) -> bool {
        self.expired
    }
}

/// Every (scope, candidate) tried for a pull, in order, and which one won:
/// for an operator asking why a credential was or was not used.
///
/// Its `Display` is a table, one line per attempt; passwords never appear.
/// With the `serde` feature it serializes as the image, its name, the
/// app's ids, every [`Attempt`] and the winner's index, again without a
/// password (R21).
#[derive(Debug, Clone)]
pub struct Explanation {
    image: String,
    name: String,
    puller: Puller,
    attempts: Vec<Attempt>,
    winner: Option<usize>,
}

impl Explanation {
    /// The image as written.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// The image's normalized name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whom the pull was for: an app, or a puller who can say less (R26).
    pub fn puller(&self) -> &Puller {
        &self.puller
    }

    /// Every look-up, in precedence order.
    pub fn attempts(&self) -> &[Attempt] {
        &self.attempts
    }

    /// The winning attempt: the first that found a credential that had
    /// not expired.
    pub fn winner(&self) -> Option<&Attempt> {
        self.winner.and_then(|i| self.attempts.get(i))
    }

    /// The winner's index in [`attempts`](Self::attempts).
    pub fn winner_index(&self) -> Option<usize> {
        self.winner
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "image `{}` ({}) for {}:",
            self.image, self.name, self.puller
        )?;
        let width = self
            .attempts
            .iter()
            .map(|a| a.candidate.len())
            .max()
            .unwrap_or(0);
        for (i, a) in self.attempts.iter().enumerate() {
            let what = match (&a.found, Some(i) == self.winner) {
                (None, _) => "-".to_owned(),
                (Some(c), winner) => {
                    let kind = match c.kind() {
                        CredentialKind::Password => String::new(),
                        kind => format!(" ({})", kind.secret_name()),
                    };
                    let verdict = match (a.expired, winner) {
                        (true, _) => ", expired: passed over",
                        (false, true) => "  <- chosen",
                        (false, false) => " (outranked)",
                    };
                    format!("found user `{}`{kind}{verdict}", c.username())
                }
            };
            writeln!(
                f,
                "  {:<12} {:<width$}  {:<13}  {what}",
                a.scope.kind().as_str(),
                a.candidate,
                a.kind.to_string(),
            )?;
        }
        match self.winner() {
            Some(w) => write!(
                f,
                "chosen: the {} credential for `{}`, user `{}`",
                w.scope,
                w.candidate,
                w.found
                    .as_ref()
                    .map(|c| c.username().as_str())
                    .unwrap_or("")
            ),
            None => write!(
                f,
                "no stored credential matches; the push goes on without one"
            ),
        }
    }
}

/// Every (scope, candidate) look-up for pushing `reference` as `app`, with
/// what each found and which won.
///
/// # Errors
///
/// [`StoreError::Backend`] when the store fails.
///
/// ```
/// use registry_credentials::resolve::explain;
/// use registry_credentials::{App, Credential, CredentialStore, MemoryStore, RegistryCredential, Scope};
/// let store = MemoryStore::new();
/// store.create(RegistryCredential::new(
///     Scope::Foundation,
///     "docker.io".parse()?,
///     Credential::new("hub-user", "hub-password")?,
/// ))?;
/// let app = App::new("o", "s", "a")?;
/// let why = explain(&store, &app, &"nginx".parse()?)?;
/// assert_eq!(why.attempts().len(), 2 * 4);
/// assert_eq!(why.winner_index(), Some(7));
/// assert_eq!(why.winner().unwrap().candidate(), "docker.io");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn explain<S: CredentialSource + ?Sized, P: Pulls + ?Sized>(
    store: &S,
    app: &P,
    reference: &Reference,
) -> Result<Explanation, StoreError> {
    let plan = Plan::new(app, reference);
    let found = store.get_many(plan.keys())?;
    Ok(explanation(&plan, app, reference, found, &mut Clock::new()))
}

/// [`explain`] for async stores: the same [`Plan`] and the same
/// explanation, from one `get_many` of the store.
///
/// # Errors
///
/// [`StoreError::Backend`] when the store fails.
///
/// ```
/// use std::sync::Arc;
/// use registry_credentials::resolve::explain_async;
/// use registry_credentials::store::{AsyncCredentialSource, InlineStore, block_on_ready};
/// use registry_credentials::{App, Credential, CredentialStore, MemoryStore, RegistryCredential, Scope};
/// let memory = MemoryStore::new();
/// memory.create(RegistryCredential::new(
///     Scope::Foundation,
///     "docker.io".parse()?,
///     Credential::new("hub-user", "hub-password")?,
/// ))?;
/// let store: Arc<dyn AsyncCredentialSource> = Arc::new(InlineStore(memory));
/// let app = App::new("o", "s", "a")?;
/// let why = block_on_ready(explain_async(&*store, &app, &"nginx".parse()?))?;
/// assert_eq!(why.winner().unwrap().candidate(), "docker.io");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn explain_async<S: AsyncCredentialSource + ?Sized, P: Pulls + ?Sized>(
    store: &S,
    app: &P,
    reference: &Reference,
) -> Result<Explanation, StoreError> {
    let plan = Plan::new(app, reference);
    let found = store.get_many(plan.keys()).await?;
    Ok(explanation(&plan, app, reference, found, &mut Clock::new()))
}

/// What [`explain`] and [`explain_async`] report, from what a store found
/// for `plan`'s keys (in key order): every attempt, and the first found as
/// the winner (R14), expired ones marked and passed over (R25).
fn explanation<P: Pulls + ?Sized>(
    plan: &Plan<'_>,
    app: &P,
    reference: &Reference,
    found: impl IntoIterator<Item = Option<Arc<RegistryCredential>>>,
    clock: &mut Clock,
) -> Explanation {
    let attempts: Vec<Attempt> = plan
        .keys()
        .iter()
        .zip(found)
        .zip(plan.candidates().iter().cycle())
        .map(|((key, found), candidate)| Attempt {
            scope: key.scope().to_scope(),
            candidate: key.location().to_owned(),
            kind: candidate.kind(),
            expired: found.as_deref().is_some_and(|c| clock.expired(c)),
            found,
        })
        .collect();
    let winner = attempts
        .iter()
        .position(|a| a.found.is_some() && !a.expired);
    Explanation {
        image: reference.as_str().to_owned(),
        name: reference.name().to_owned(),
        puller: app.to_puller(),
        attempts,
        winner,
    }
}

/// `Serialize` for what resolution reports, written by hand so that a
/// password is never among the fields (R21): only the scope, location,
/// username and candidate are.
#[cfg(feature = "serde")]
mod serialize {
    use serde::ser::{Serialize, SerializeStruct, Serializer};

    use super::{Attempt, Explanation, Resolution};
    use crate::scope::{Puller, Scope};

    /// A scope as `{"kind": …, "id": … or null}`.
    struct ScopeFields<'a>(&'a Scope);

    impl Serialize for ScopeFields<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("Scope", 2)?;
            st.serialize_field("kind", self.0.kind().as_str())?;
            st.serialize_field("id", &self.0.id())?;
            st.end()
        }
    }

    /// An app as its three ids.
    struct PullerFields<'a>(&'a Puller);

    impl Serialize for PullerFields<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let (kind, org, space, app) = match self.0 {
                Puller::App(a) => ("app", Some(a.org()), Some(a.space()), Some(a.id())),
                Puller::Space { org, space } => ("space", Some(org), Some(space), None),
                Puller::Org(org) => ("organization", Some(org), None, None),
                Puller::Foundation => ("foundation", None, None, None),
            };
            let mut st = s.serialize_struct("Puller", 4)?;
            st.serialize_field("kind", kind)?;
            st.serialize_field("org", &org)?;
            st.serialize_field("space", &space)?;
            st.serialize_field("app", &app)?;
            st.end()
        }
    }

    /// What an attempt found: the username, the kind and whether it had
    /// expired; never the secret.
    struct FoundFields<'a>(&'a crate::credential::RegistryCredential, bool);

    impl Serialize for FoundFields<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("Found", 3)?;
            st.serialize_field("username", self.0.username())?;
            st.serialize_field("kind", &self.0.kind())?;
            st.serialize_field("expired", &self.1)?;
            st.end()
        }
    }

    impl Serialize for Resolution {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("Resolution", 6)?;
            st.serialize_field("scope", &ScopeFields(self.scope()))?;
            st.serialize_field("location", self.location())?;
            st.serialize_field("username", self.credential.username())?;
            st.serialize_field("kind", &self.credential.kind())?;
            st.serialize_field("candidate", self.kind.as_str())?;
            st.serialize_field("rank", &self.rank)?;
            st.end()
        }
    }

    impl Serialize for Attempt {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("Attempt", 4)?;
            st.serialize_field("scope", &ScopeFields(&self.scope))?;
            st.serialize_field("location", &self.candidate)?;
            st.serialize_field("candidate", self.kind.as_str())?;
            st.serialize_field(
                "found",
                &self.found.as_deref().map(|c| FoundFields(c, self.expired)),
            )?;
            st.end()
        }
    }

    impl Serialize for Explanation {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("Explanation", 5)?;
            st.serialize_field("image", &self.image)?;
            st.serialize_field("name", &self.name)?;
            st.serialize_field("puller", &PullerFields(&self.puller))?;
            st.serialize_field("attempts", &self.attempts)?;
            st.serialize_field("winner", &self.winner)?;
            st.end()
        }
    }
}
