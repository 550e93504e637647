//! What the benches share: the reference inputs, and a deterministic
//! population of credentials spread over many organizations, spaces and
//! apps.

use registry_credentials::CredentialStore;
use registry_credentials::scope::{AppId, OrgId, SpaceId};
use registry_credentials::{App, Credential, Location, MemoryStore, RegistryCredential, Scope};

/// One parse/candidates input: a case name, the reference, and the
/// registry (`host[:port]`) both parsers must find.
pub struct Input {
    /// The case's name in the bench ids (`short`, `typical`, …).
    pub case: &'static str,
    /// The reference as written.
    pub text: String,
    /// The `host[:port]` both parsers must find.
    pub registry: &'static str,
}

/// The five inputs of the parse and candidates benches.
pub fn inputs() -> Vec<Input> {
    let digest = format!("sha256:{}", "0123456789abcdef".repeat(4));
    // 255 characters in all: a host, then 3-character components, a tag.
    let mut long = String::from("registry.example.com");
    let mut n = 0;
    while long.len() + 4 + 3 <= 255 - 3 {
        long.push_str(&format!("/c{:02}", n % 100));
        n += 1;
    }
    long.push_str("/img");
    while long.len() < 255 - 3 {
        long.push('x');
    }
    long.push_str(":v1");
    assert_eq!(long.len(), 255);
    vec![
        Input {
            case: "short",
            text: "nginx".into(),
            registry: "docker.io",
        },
        Input {
            case: "typical",
            text: "registry.example.com/repo/image:tag".into(),
            registry: "registry.example.com",
        },
        Input {
            case: "digest",
            text: format!("registry.example.com/repo/image@{digest}"),
            registry: "registry.example.com",
        },
        Input {
            case: "deep",
            text: "registry.example.com/one/two/three/four/five/six/seven/image:tag".into(),
            registry: "registry.example.com",
        },
        Input {
            case: "long255",
            text: long,
            registry: "registry.example.com",
        },
    ]
}

/// A small, fast, deterministic generator (xorshift64*), so every run
/// builds the same store and asks the same questions.
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed` (0 is taken as 1).
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// How many foundation credentials every population holds: `acme{i}.com`.
pub const FOUNDATION: usize = 64;

/// Who the credentials of a population belong to: organizations of ten
/// spaces of ten apps each.
pub struct Tenants {
    /// The organizations.
    pub orgs: Vec<OrgId>,
    /// The spaces, ten to an organization.
    pub spaces: Vec<SpaceId>,
    /// The apps, ten to a space.
    pub apps: Vec<AppId>,
}

impl Tenants {
    /// Enough tenants for `n` credentials: one organization per 400
    /// credentials (at least 2), so about 2 credentials per app, 10 per
    /// space and 100 per organization, whatever `n` is.
    pub fn for_credentials(n: usize) -> Self {
        let orgs: Vec<OrgId> = (0..(n / 400).max(2))
            .map(|o| OrgId::new(format!("org-{o:06}")).unwrap())
            .collect();
        let spaces: Vec<SpaceId> = (0..orgs.len() * 10)
            .map(|s| SpaceId::new(format!("space-{s:07}")).unwrap())
            .collect();
        let apps: Vec<AppId> = (0..spaces.len() * 10)
            .map(|a| AppId::new(format!("app-{a:08}")).unwrap())
            .collect();
        Tenants { orgs, spaces, apps }
    }

    /// The app with index `a`, in its space and organization, made from
    /// fresh strings as a request would bring them (so no look-up can take
    /// a shortcut through shared pointers).
    pub fn app(&self, a: usize) -> App {
        App::new(
            self.orgs[a / 100].as_str(),
            self.spaces[a / 10].as_str(),
            self.apps[a].as_str(),
        )
        .unwrap()
    }
}

/// The `i`-th credential of a population: foundation credentials for
/// `acme{i}.com` first, then, of every four, two at app scope, one at space
/// scope and one at organization scope, each under its own location
/// `r{..}.example{..}.com/team{i}` and at a random tenant. Returns the
/// credential and, for app credentials, the app's index.
pub fn credential(
    tenants: &Tenants,
    rng: &mut Rng,
    i: usize,
) -> (RegistryCredential, Option<usize>) {
    let password = format!("password-{i:08}-{:016x}", rng.next_u64());
    let username = format!("user-{i:08}");
    if i < FOUNDATION {
        let loc = Location::parse(&format!("acme{i}.com")).unwrap();
        let c = Credential::new(username, password).unwrap();
        return (RegistryCredential::new(Scope::Foundation, loc, c), None);
    }
    let loc = Location::parse(&format!(
        "r{}.example{}.com/team{i}",
        i % 997,
        (i / 997) % 89
    ))
    .unwrap();
    let c = Credential::new(username, password).unwrap();
    let (scope, app) = match i % 4 {
        0 | 1 => {
            let a = rng.below(tenants.apps.len());
            (Scope::App(tenants.apps[a].clone()), Some(a))
        }
        2 => {
            let s = rng.below(tenants.spaces.len());
            (Scope::Space(tenants.spaces[s].clone()), None)
        }
        _ => {
            let o = rng.below(tenants.orgs.len());
            (Scope::Org(tenants.orgs[o].clone()), None)
        }
    };
    (RegistryCredential::new(scope, loc, c), app)
}

/// The three kinds of question the resolve bench asks.
pub struct Queries {
    /// (app, image) pairs that hit the app's own credential, first key.
    pub app_hits: Vec<(App, String)>,
    /// (app, image) pairs that hit a foundation credential for a parent
    /// domain, the last of twelve keys.
    pub foundation_hits: Vec<(App, String)>,
    /// (app, image) pairs that match nothing: twelve keys looked up.
    pub misses: Vec<(App, String)>,
}

/// How many distinct questions of each kind a bench cycles through: enough
/// that a large store is not all in cache, as in a real platform.
pub const QUERIES: usize = 4096;

/// A population of `n` credentials in a [`MemoryStore`], and questions to
/// ask it.
pub struct Population {
    /// Whom the credentials belong to.
    pub tenants: Tenants,
    /// The credentials.
    pub store: MemoryStore,
    /// The questions.
    pub queries: Queries,
}

impl Population {
    /// `n` credentials (more than [`FOUNDATION`]) and their questions.
    pub fn new(n: usize) -> Self {
        assert!(n > FOUNDATION);
        let tenants = Tenants::for_credentials(n);
        let store = MemoryStore::new();
        let mut rng = Rng::new(0x5eed_0000 + n as u64);
        let mut app_creds = Vec::new();
        for i in 0..n {
            let (c, app) = credential(&tenants, &mut rng, i);
            if let Some(a) = app {
                if app_creds.len() < QUERIES * 4 {
                    app_creds.push((a, c.location().as_str().to_owned()));
                }
            }
            store.create(c).expect("population locations are unique");
        }
        let mut q = Rng::new(0x9e37_79b9);
        let app_hits = (0..QUERIES)
            .map(|_| {
                let (a, loc) = &app_creds[q.below(app_creds.len())];
                (tenants.app(*a), format!("{loc}/image:1.0"))
            })
            .collect();
        let foundation_hits = (0..QUERIES)
            .map(|_| {
                let a = q.below(tenants.apps.len());
                let f = q.below(FOUNDATION);
                (
                    tenants.app(a),
                    format!("registry.acme{f}.com/team/image:1.0"),
                )
            })
            .collect();
        let misses = (0..QUERIES)
            .map(|j| {
                let a = q.below(tenants.apps.len());
                (
                    tenants.app(a),
                    format!("registry.nowhere{j}.io/team/image:1.0"),
                )
            })
            .collect();
        Population {
            tenants,
            store,
            queries: Queries {
                app_hits,
                foundation_hits,
                misses,
            },
        }
    }
}
