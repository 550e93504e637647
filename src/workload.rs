//! A deterministic workload for benchmarks: a store of N credentials with a
//! realistic mix, and pushes that hit at a chosen scope or miss.
//!
//! [`Workload::new`] lays out organizations, spaces and apps for N
//! credentials and describes each credential by its index, so that
//! [`Workload::fill`] loads any [`CredentialStore`],
//! [`Workload::credentials`] gives the same credentials to anything else
//! (a database loader, a plain `Vec`), and [`Workload::pushes`] asks
//! questions whose answers are known: a [`Push`] of [`PushKind::AppHit`] is
//! answered by the app's own credential, [`PushKind::Miss`] by nothing
//! (R14, R15). The same credential count and seed give the same store and
//! the same pushes on every machine; nothing reads the clock or the
//! environment.
//!
//! # The mix
//!
//! - Scopes: up to 64 foundation credentials (a quarter of the store when it
//!   is small), then of every four credentials two at app scope, one at
//!   space scope and one at organization scope, each owned by a tenant
//!   drawn at random. Ten apps to a space, ten spaces to an organization,
//!   one organization per 400 credentials (at least two).
//! - Hosts: many registries (`r{k}.example{m}.com`), registries with ports
//!   (`registry.example.com:5000`, `localhost:5000`), IPv4 and IPv6 hosts,
//!   `ghcr.io`, `quay.io`, and Docker Hub, with user namespaces and, for an
//!   app's own login, `docker.io/library`. Users write Docker Hub's
//!   aliases (`index.docker.io`, `registry-1.docker.io`), which the
//!   locations normalize to `docker.io` (R4, R7).
//! - Namespaces: `team{i}` or `user{i}`, then zero to two more components
//!   (depth 1–3). The credential's index `i` in the first component makes
//!   every location of the store distinct, so no credential serves another
//!   one's images (R10: components match whole).
//! - Foundation credentials sit at `acme{f}.com`; a push of
//!   `registry.acme{f}.com/team/image` reaches them as a parent domain
//!   (R11), after every other key of its plan.
//!
//! # Example: a third-party source beside `MemoryStore`
//!
//! Both get the same credentials, answer the same pushes, and are timed;
//! the answers must agree.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::{Duration, Instant};
//!
//! use registry_credentials::store::{CredentialSource, Key, StoreError};
//! use registry_credentials::workload::{PushKind, Workload};
//! use registry_credentials::{resolve, MemoryStore, Reference, RegistryCredential};
//!
//! /// A third-party source: every credential in a list, scanned per key.
//! struct Linear(Vec<Arc<RegistryCredential>>);
//!
//! impl CredentialSource for Linear {
//!     fn get_many(&self, keys: &[Key<'_>]) -> Result<Vec<Option<Arc<RegistryCredential>>>, StoreError> {
//!         Ok(keys
//!             .iter()
//!             .map(|k| self.0.iter().find(|c| Key::of(c) == *k).cloned())
//!             .collect())
//!     }
//! }
//!
//! let workload = Workload::new(300);
//! let memory = MemoryStore::new();
//! workload.fill(&memory)?;
//! let linear = Linear(workload.credentials().map(Arc::new).collect());
//!
//! for kind in PushKind::ALL {
//!     let pushes: Vec<_> = workload.pushes(kind).take(50).collect();
//!     let images: Vec<Reference> = pushes.iter().map(|p| p.image.parse()).collect::<Result<_, _>>()?;
//!     let mut took = [Duration::ZERO; 2];
//!     for (push, image) in pushes.iter().zip(&images) {
//!         let start = Instant::now();
//!         let ours = resolve(&memory, &push.app, image)?;
//!         took[0] += start.elapsed();
//!         let start = Instant::now();
//!         let theirs = resolve(&linear, &push.app, image)?;
//!         took[1] += start.elapsed();
//!         let location = |r: &Option<registry_credentials::Resolution>| r.as_ref().map(|r| r.location().clone());
//!         assert_eq!(location(&ours), location(&theirs), "{}", push.image);
//!         assert_eq!(location(&ours), push.expected);
//!         assert_eq!(ours.map(|r| r.scope_kind()), kind.scope());
//!     }
//!     println!("{kind}: memory {:?}, linear {:?}", took[0] / 50, took[1] / 50);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use crate::scope::{AppId, OrgId, SpaceId};
use crate::{
    App, Credential, CredentialStore, Location, RegistryCredential, Scope, ScopeKind, StoreError,
};

/// xorshift64*: a small generator whose sequence is the same everywhere.
struct Rng(u64);

impl Rng {
    /// A generator for `stream` of `seed`: the seed and the stream are
    /// mixed (splitmix64's finalizer), so neighbouring streams differ.
    fn new(seed: u64, stream: u64) -> Self {
        let mut z = seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)).max(1))
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// The most foundation credentials a workload holds.
pub const MAX_FOUNDATION: usize = 64;

/// The fewest credentials a workload holds: enough for a credential at
/// every scope, so that every [`PushKind`] has pushes.
pub const MIN_CREDENTIALS: usize = 8;

/// The kinds of push a workload asks, each named by where it must be
/// answered (R14, R15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PushKind {
    /// The app's own credential answers, at the plan's first key: the image
    /// is under the credential's location.
    AppHit,
    /// A credential of the app's space answers: the app holds none for the
    /// image.
    SpaceHit,
    /// A credential of the app's organization answers.
    OrgHit,
    /// A foundation credential for a parent domain answers, at the plan's
    /// last key: `registry.acme{f}.com/team/image` is served by
    /// `acme{f}.com` (R11), twelve keys in all.
    FoundationHit,
    /// Nothing answers: an image on a registry no credential is stored for,
    /// with three candidates (a namespace, the registry and its parent
    /// domain), twelve keys in all.
    Miss,
}

impl PushKind {
    /// The scope whose credential answers, `None` for a miss.
    pub fn scope(self) -> Option<ScopeKind> {
        match self {
            PushKind::AppHit => Some(ScopeKind::App),
            PushKind::SpaceHit => Some(ScopeKind::Space),
            PushKind::OrgHit => Some(ScopeKind::Org),
            PushKind::FoundationHit => Some(ScopeKind::Foundation),
            PushKind::Miss => None,
        }
    }
}

crate::macros::enum_names! {
    /// Every kind, from the most specific scope to none.
    ALL,
    /// The kind's name in bench ids: `app-hit`, `space-hit`, `org-hit`,
    /// `foundation-hit`, `miss`.
    PushKind::name {
        AppHit => "app-hit",
        SpaceHit => "space-hit",
        OrgHit => "org-hit",
        FoundationHit => "foundation-hit",
        Miss => "miss",
    }
}

/// One question of a workload: an app pushes an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// Which kind it is.
    pub kind: PushKind,
    /// The app pushing, made from fresh strings as a request brings them
    /// (so no look-up can take a shortcut through shared pointers).
    pub app: App,
    /// The image as the user wrote it (Docker Hub's aliases, capitals in
    /// the host, no host at all for Docker Hub), with a tag or a digest.
    pub image: String,
    /// The location of the credential that answers, `None` for a miss.
    pub expected: Option<Location>,
}

/// Where a credential of the mix lives, before it is written out.
enum Registry {
    /// A registry by its normal name, `host[:port]`.
    Named(String),
    /// Docker Hub, which users write in several ways.
    DockerHub,
}

/// What is drawn for the credential at one index.
struct Entry {
    scope: Scope,
    /// For an app credential, the app's index.
    app: Option<usize>,
    registry: Registry,
    /// The path below the registry: `library`, or `team{i}`/`user{i}` and
    /// up to two more components.
    namespace: String,
    /// How the location's text writes Docker Hub.
    hub_alias: &'static str,
    password_bits: u64,
}

const HUB_WRITTEN: [&str; 3] = ["docker.io", "index.docker.io", "registry-1.docker.io"];
const SUBPATHS: [&str; 6] = ["api", "web", "ci", "prod", "dev", "tools"];

/// N credentials over a layout of tenants, and pushes against them; see
/// the [module docs](self).
#[derive(Debug, Clone)]
pub struct Workload {
    len: usize,
    seed: u64,
    foundation: usize,
    orgs: Vec<OrgId>,
    spaces: Vec<SpaceId>,
    apps: Vec<AppId>,
}

impl Workload {
    /// The seed [`new`](Self::new) uses.
    pub const DEFAULT_SEED: u64 = 0x5eed_0000;

    /// A workload of `credentials` credentials from [`DEFAULT_SEED`](Self::DEFAULT_SEED).
    ///
    /// ```
    /// use registry_credentials::workload::Workload;
    /// let w = Workload::new(1_000);
    /// assert_eq!(w.credentials().len(), 1_000);
    /// assert_eq!(w.orgs().len(), 2);
    /// assert_eq!(w.apps().len(), 200);
    /// ```
    ///
    /// # Panics
    ///
    /// When `credentials` is less than [`MIN_CREDENTIALS`].
    pub fn new(credentials: usize) -> Self {
        Self::with_seed(credentials, Self::DEFAULT_SEED)
    }

    /// A workload of `credentials` credentials drawn from `seed`.
    ///
    /// # Panics
    ///
    /// When `credentials` is less than [`MIN_CREDENTIALS`].
    pub fn with_seed(credentials: usize, seed: u64) -> Self {
        assert!(
            credentials >= MIN_CREDENTIALS,
            "a workload holds at least {MIN_CREDENTIALS} credentials, not {credentials}"
        );
        let orgs: Vec<OrgId> = (0..(credentials / 400).max(2))
            .map(|o| OrgId::new(format!("org-{o:06}")).expect("a valid id"))
            .collect();
        let spaces: Vec<SpaceId> = (0..orgs.len() * 10)
            .map(|s| SpaceId::new(format!("space-{s:07}")).expect("a valid id"))
            .collect();
        let apps: Vec<AppId> = (0..spaces.len() * 10)
            .map(|a| AppId::new(format!("app-{a:08}")).expect("a valid id"))
            .collect();
        Workload {
            len: credentials,
            seed,
            foundation: credentials.div_ceil(4).min(MAX_FOUNDATION),
            orgs,
            spaces,
            apps,
        }
    }

    /// How many credentials it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a workload holds at least [`MIN_CREDENTIALS`].
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The seed it was drawn from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// How many of its credentials are at the foundation: the first ones.
    pub fn foundation(&self) -> usize {
        self.foundation
    }

    /// The organizations, ten spaces each.
    pub fn orgs(&self) -> &[OrgId] {
        &self.orgs
    }

    /// The spaces: space `s` belongs to organization `s / 10`.
    pub fn spaces(&self) -> &[SpaceId] {
        &self.spaces
    }

    /// The apps: app `a` belongs to space `a / 10`.
    pub fn apps(&self) -> &[AppId] {
        &self.apps
    }

    /// The app with index `a`, in its space and organization, made from
    /// fresh strings as a request would bring them.
    ///
    /// # Panics
    ///
    /// When `a` is not below `apps().len()`.
    pub fn app(&self, a: usize) -> App {
        App::new(
            self.orgs[a / 100].as_str(),
            self.spaces[a / 10].as_str(),
            self.apps[a].as_str(),
        )
        .expect("workload ids are valid")
    }

    fn entry(&self, i: usize) -> Entry {
        let mut rng = Rng::new(self.seed, i as u64);
        let password_bits = rng.next_u64();
        let hub_alias = rng.pick(&HUB_WRITTEN);
        if i < self.foundation {
            return Entry {
                scope: Scope::Foundation,
                app: None,
                registry: Registry::Named(format!("acme{i}.com")),
                namespace: String::new(),
                hub_alias,
                password_bits,
            };
        }
        let j = i - self.foundation;
        let (scope, app) = match j % 4 {
            0 | 1 => {
                let a = rng.below(self.apps.len());
                (Scope::App(self.apps[a].clone()), Some(a))
            }
            2 => {
                let s = rng.below(self.spaces.len());
                (Scope::Space(self.spaces[s].clone()), None)
            }
            _ => {
                let o = rng.below(self.orgs.len());
                (Scope::Org(self.orgs[o].clone()), None)
            }
        };
        let mut namespace = format!("team{i}");
        for _ in 0..rng.below(3) {
            namespace.push('/');
            namespace.push_str(rng.pick(&SUBPATHS));
        }
        let registry = match rng.below(20) {
            0..=7 => Registry::Named(format!("r{}.example{}.com", i % 997, (i / 997) % 89)),
            8 => Registry::Named("registry.example.com:5000".into()),
            9 => Registry::Named("localhost:5000".into()),
            10 => Registry::Named(format!(
                "10.{}.{}.{}",
                (i >> 16) & 255,
                (i >> 8) & 255,
                i & 255
            )),
            11 => Registry::Named(format!("[fd00::{:x}]:5000", i & 0xffff)),
            12..=16 => {
                // An app's own Docker Hub login, from pushing an official
                // image (R19 stores it at `docker.io/library`): at most one
                // per app, as the first credential of each block of four
                // goes to the app with the block's number.
                let block = j / 4;
                if j % 4 == 0 && block < self.apps.len() && rng.below(4) == 0 {
                    return Entry {
                        scope: Scope::App(self.apps[block].clone()),
                        app: Some(block),
                        registry: Registry::DockerHub,
                        namespace: "library".into(),
                        hub_alias,
                        password_bits,
                    };
                }
                if rng.below(2) == 0 {
                    namespace.replace_range(..4, "user");
                }
                Registry::DockerHub
            }
            17 => Registry::Named("ghcr.io".into()),
            _ => Registry::Named("quay.io".into()),
        };
        Entry {
            scope,
            app,
            registry,
            namespace,
            hub_alias,
            password_bits,
        }
    }

    /// The credential at index `i` (below [`len`](Self::len)): its scope,
    /// location, username `user-{i}` and a password of its own.
    ///
    /// # Panics
    ///
    /// When `i` is not below `len()`.
    pub fn credential(&self, i: usize) -> RegistryCredential {
        assert!(i < self.len, "credential {i} of a workload of {}", self.len);
        let e = self.entry(i);
        let text = match &e.registry {
            Registry::Named(host) if e.namespace.is_empty() => host.clone(),
            Registry::Named(host) => format!("{host}/{}", e.namespace),
            Registry::DockerHub => format!("{}/{}", e.hub_alias, e.namespace),
        };
        let location = Location::parse(&text).expect("workload locations are valid");
        let credential = Credential::new(
            format!("user-{i:08}"),
            format!("password-{i:08}-{:016x}", e.password_bits),
        )
        .expect("workload credentials are valid");
        RegistryCredential::new(e.scope, location, credential)
    }

    /// Every credential, in index order.
    pub fn credentials(&self) -> Credentials<'_> {
        Credentials {
            workload: self,
            next: 0,
        }
    }

    /// Creates every credential in `store`, in index order, and returns how
    /// many it created.
    ///
    /// # Errors
    ///
    /// The first error of `store.create`: [`StoreError::Conflict`] when the
    /// store already held one of the workload's keys, or the backend's.
    pub fn fill<S: CredentialStore + ?Sized>(&self, store: &S) -> Result<usize, StoreError> {
        for c in self.credentials() {
            store.create(c)?;
        }
        Ok(self.len)
    }

    /// Pushes of `kind`, without end: each one's app and image drawn
    /// afresh, the same sequence for the same workload and kind.
    pub fn pushes(&self, kind: PushKind) -> Pushes<'_> {
        Pushes {
            workload: self,
            kind,
            rng: Rng::new(self.seed, u64::MAX - kind as u64),
            next: 0,
        }
    }

    /// A non-foundation credential whose slot in its block of four is one
    /// of `slots` (0 and 1: app, 2: space, 3: organization).
    fn pick(&self, rng: &mut Rng, slots: std::ops::RangeInclusive<usize>) -> usize {
        loop {
            let j = rng.below(self.len - self.foundation);
            if slots.contains(&(j % 4)) {
                return self.foundation + j;
            }
        }
    }

    fn push(&self, kind: PushKind, rng: &mut Rng, n: usize) -> Push {
        let tag = rng.pick(&[":1.0", ":latest", ":v2.3.1"]);
        let (app, image, expected) = match kind {
            PushKind::AppHit | PushKind::SpaceHit | PushKind::OrgHit => {
                let slots = match kind {
                    PushKind::AppHit => 0..=1,
                    PushKind::SpaceHit => 2..=2,
                    _ => 3..=3,
                };
                let i = self.pick(rng, slots);
                let e = self.entry(i);
                let app = match &e.scope {
                    Scope::App(_) => e.app.expect("an app credential knows its app"),
                    Scope::Space(s) => {
                        let s = self.spaces.binary_search(s).expect("a workload space");
                        s * 10 + rng.below(10)
                    }
                    Scope::Org(o) => {
                        let o = self.orgs.binary_search(o).expect("a workload organization");
                        o * 100 + rng.below(100)
                    }
                    Scope::Foundation => unreachable!("slots 0 to 3 are never the foundation"),
                };
                let name = rng.pick(&["app", "web", "api", "worker"]);
                let image = match &e.registry {
                    Registry::Named(host) => {
                        // Users sometimes write a capital in the host (R4).
                        let host = if rng.below(8) == 0 {
                            let (first, rest) = host.split_at(1);
                            format!("{}{rest}", first.to_ascii_uppercase())
                        } else {
                            host.clone()
                        };
                        format!("{host}/{}/{name}{tag}", e.namespace)
                    }
                    Registry::DockerHub if e.namespace == "library" => {
                        // An official image: `nginx`, `docker.io/library/nginx`.
                        match rng.below(3) {
                            0 => format!("{name}{tag}"),
                            1 => format!("library/{name}{tag}"),
                            _ => format!("{}/library/{name}{tag}", rng.pick(&HUB_WRITTEN)),
                        }
                    }
                    Registry::DockerHub => {
                        let host = rng.pick(&[
                            "",
                            "docker.io/",
                            "index.docker.io/",
                            "registry-1.docker.io/",
                        ]);
                        format!("{host}{}/{name}{tag}", e.namespace)
                    }
                };
                let expected = self.credential(i).location().clone();
                (app, image, Some(expected))
            }
            PushKind::FoundationHit => {
                let f = rng.below(self.foundation);
                let expected = Location::parse(&format!("acme{f}.com")).expect("a valid location");
                let image = format!("registry.acme{f}.com/team/image{tag}");
                (rng.below(self.apps.len()), image, Some(expected))
            }
            PushKind::Miss => {
                let image = format!("registry.nowhere{n}.io/team/image{tag}");
                (rng.below(self.apps.len()), image, None)
            }
        };
        Push {
            kind,
            app: self.app(app),
            image,
            expected,
        }
    }
}

/// The credentials of a [`Workload`], in index order; from
/// [`Workload::credentials`].
#[derive(Debug, Clone)]
pub struct Credentials<'a> {
    workload: &'a Workload,
    next: usize,
}

impl Iterator for Credentials<'_> {
    type Item = RegistryCredential;

    fn next(&mut self) -> Option<RegistryCredential> {
        (self.next < self.workload.len).then(|| {
            self.next += 1;
            self.workload.credential(self.next - 1)
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.workload.len - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Credentials<'_> {}

/// The pushes of one [`PushKind`] against a [`Workload`], without end; from
/// [`Workload::pushes`].
pub struct Pushes<'a> {
    workload: &'a Workload,
    kind: PushKind,
    rng: Rng,
    next: usize,
}

impl fmt::Debug for Pushes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pushes")
            .field("kind", &self.kind)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl Iterator for Pushes<'_> {
    type Item = Push;

    fn next(&mut self) -> Option<Push> {
        let push = self.workload.push(self.kind, &mut self.rng, self.next);
        self.next += 1;
        Some(push)
    }
}
