//! [proptest](mod@proptest) strategies for property tests of the matching rules: image
//! references and locations (valid ones, and near-valid ones one mutation
//! away), hosts, apps, scopes, credentials and whole stores.
//!
//! The text strategies return `String`s as someone would write them, so a
//! test can check both what parses and how it prints. Valid ones always
//! parse; near-valid ones never do, and each doc says which mutation makes
//! them fail. The pool strategies ([`app`], [`scope`], [`pooled_location`],
//! [`pooled_image`], [`store`]) draw from a few ids, hosts and paths, so
//! that a stored credential serves a pushed image often, at every scope.
//!
//! R14 checked against an oracle built from what [`store`] put in: the
//! winner is at the first of the app's scopes (app, space, organization,
//! foundation) that holds a credential serving the image.
//!
//! ```
//! use proptest::prelude::*;
//! use proptest::test_runner::{Config, TestRunner};
//! use registry_credentials::{resolve, strategies};
//!
//! let mut runner = TestRunner::new(Config::with_cases(64));
//! let input = (strategies::store(0..20), strategies::app(), strategies::pooled_image());
//! runner.run(&input, |((store, stored), app, image)| {
//!     let best = stored
//!         .iter()
//!         .filter(|c| app.scopes().contains(&c.scope().as_scope_ref()))
//!         .filter(|c| c.location().serves(&image))
//!         .map(|c| c.scope().kind())
//!         .min();
//!     let found = resolve(&store, &app, &image).expect("a MemoryStore never fails");
//!     prop_assert_eq!(found.map(|f| f.scope_kind()), best);
//!     Ok(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;

use proptest::collection::SizeRange;
use proptest::prelude::*;

use crate::scope::{AppId, OrgId, SpaceId};
use crate::{
    App, Credential, CredentialStore, Location, MemoryStore, Reference, RegistryCredential, Scope,
};

/// A DNS name R5 accepts: one to four labels of letters (either case),
/// digits and inner `-`, the last one starting with a letter so that the
/// name is never read as a number (R5).
///
/// As a location it may still be refused as a public suffix (R9: `com`),
/// and as the first part of a reference a name of one lowercase label is a
/// path component, not a host (R2).
pub fn dns_name() -> impl Strategy<Value = String> {
    (
        prop::collection::vec("[a-zA-Z0-9]([a-zA-Z0-9-]{0,3}[a-zA-Z0-9])?", 0..3),
        "[a-zA-Z]([a-zA-Z0-9-]{0,3}[a-zA-Z0-9])?",
    )
        .prop_map(|(mut labels, last)| {
            labels.push(last);
            labels.join(".")
        })
}

/// An IPv4 address as R5 accepts it: four decimal numbers from 0 to 255
/// without leading zeros.
pub fn ipv4() -> impl Strategy<Value = String> {
    any::<[u8; 4]>().prop_map(|[a, b, c, d]| format!("{a}.{b}.{c}.{d}"))
}

/// An IPv6 address in brackets as R5 accepts it: hex digits of either case
/// and colons, in full (eight groups, some with leading zeros), or
/// compressed with `::`; never a zone or a dotted quad.
pub fn ipv6() -> impl Strategy<Value = String> {
    let full =
        prop::collection::vec((any::<u16>(), any::<bool>(), any::<bool>()), 8).prop_map(|groups| {
            let groups: Vec<String> = groups
                .into_iter()
                .map(|(g, padded, upper)| match (padded, upper) {
                    (true, true) => format!("{g:04X}"),
                    (true, false) => format!("{g:04x}"),
                    (false, true) => format!("{g:X}"),
                    (false, false) => format!("{g:x}"),
                })
                .collect();
            format!("[{}]", groups.join(":"))
        });
    let compressed = (
        prop::collection::vec(any::<u16>(), 0..3),
        prop::collection::vec(any::<u16>(), 0..3),
    )
        .prop_map(|(head, tail)| {
            let hex = |g: &[u16]| {
                g.iter()
                    .map(|g| format!("{g:x}"))
                    .collect::<Vec<_>>()
                    .join(":")
            };
            format!("[{}::{}]", hex(&head), hex(&tail))
        });
    let known = prop::sample::select(vec!["[::1]", "[2001:DB8:0:0:0:0:0:1]", "[::ffff:102:304]"])
        .prop_map(str::to_owned);
    prop_oneof![full, compressed, known]
}

/// Docker Hub as users write it: `docker.io` or one of its aliases
/// (`index.docker.io`, `registry-1.docker.io`, `registry.hub.docker.com`),
/// in lower case or with capitals. Without a port each normalizes to
/// `docker.io` (R4).
pub fn docker_hub_alias() -> impl Strategy<Value = String> {
    let mut names = vec![crate::host::DOCKER_HUB];
    names.extend(crate::host::DOCKER_HUB_ALIASES);
    (prop::sample::select(names), any::<bool>()).prop_map(|(name, capitals)| {
        if capitals {
            // `Index.Docker.Io`: a capital at the start of every label.
            name.split('.')
                .map(|l| {
                    let (first, rest) = l.split_at(1);
                    format!("{}{rest}", first.to_ascii_uppercase())
                })
                .collect::<Vec<_>>()
                .join(".")
        } else {
            name.to_owned()
        }
    })
}

/// A port R5 accepts, as written: 1 to 65535, sometimes with leading zeros
/// (`05000`, which R4 writes `5000`).
pub fn port() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["5000", "05000", "1", "65535", "443"]).prop_map(str::to_owned),
        (1..=u16::MAX).prop_map(|p| p.to_string()),
    ]
}

/// `text` with a space, a tab or a newline before or after it: refused
/// by every parser (R6, R8).
fn with_white_space(text: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (
        text,
        prop::sample::select(vec![" ", "\t", "\n"]),
        any::<bool>(),
    )
        .prop_map(|(t, w, front)| {
            if front {
                format!("{w}{t}")
            } else {
                format!("{t}{w}")
            }
        })
}

/// `host`, half the time or so followed by `:` and a [`port`] (R12: the
/// port is part of the place).
fn with_optional_port(host: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (host, prop::option::of(port())).prop_map(|(h, p)| match p {
        Some(p) => format!("{h}:{p}"),
        None => h,
    })
}

/// A host as someone might write it, with an optional [`port`]: the
/// names the matching rules treat specially (Docker Hub's aliases,
/// `localhost`, public suffixes such as `s3.amazonaws.com` and parents
/// such as `example.co.uk`), a [`dns_name`], an [`ipv4`] or an [`ipv6`]
/// address. Every one is a host R5 accepts.
///
/// As a location one may be refused as a public suffix (R9); as the first
/// part of a reference, one lowercase label without a port is a path
/// component (R2).
pub fn host() -> impl Strategy<Value = String> {
    let known = prop::sample::select(vec![
        "registry.example.com",
        "Registry.Example.COM",
        "example.co.uk",
        "a.b.example.co.uk",
        "localhost",
        "10.0.0.1",
        "user.github.io",
        // A public suffix itself (a private rule) whose parent is not one.
        "s3.amazonaws.com",
        "registry.corp",
        "a.city.kawasaki.jp",
    ])
    .prop_map(str::to_owned);
    let name = prop_oneof![
        4 => known,
        2 => docker_hub_alias(),
        4 => dns_name(),
        1 => ipv4(),
        1 => ipv6(),
    ];
    with_optional_port(name)
}

/// A host that ends in a number but is no IPv4 address R5 accepts, so it
/// is refused: too few or too many parts (`1.2.3`, `1.2.3.4.5`), a part
/// over 255 (`256.1.1.1`), a leading zero (`010.0.0.1`), hex (`0x10`,
/// `0x7f.0.0.1`), or a name whose last label is all digits (`example.123`).
pub fn numeric_look_alike() -> impl Strategy<Value = String> {
    let byte = || 0..=255u16;
    prop_oneof![
        prop::sample::select(vec![
            "1.2.3",
            "0x10",
            "256.1.1.1",
            "010.0.0.1",
            "0x7f.0.0.1",
            "1.2.3.999",
            "999",
            "0.1",
        ])
        .prop_map(str::to_owned),
        (byte(), byte(), byte()).prop_map(|(a, b, c)| format!("{a}.{b}.{c}")),
        (256..1000u16, byte(), byte(), byte()).prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        (1..10u8, byte(), byte()).prop_map(|(a, b, c)| format!("0{a}.{b}.{c}.1")),
        "0[xX][0-9a-fA-F]{1,4}",
        ("[a-z]{1,5}", 0..10_000u16).prop_map(|(name, n)| format!("{name}.{n}")),
    ]
}

/// A host one mutation away from one R5 accepts, so it is refused: a
/// [`numeric_look_alike`], port 0 or one over 65535, a dot at the end, an
/// empty label, a label starting or ending with `-`, an `_`, a character
/// outside ASCII, or an IPv6 address with a zone or a dotted quad inside.
pub fn near_valid_host() -> impl Strategy<Value = String> {
    let name = || prop_oneof![dns_name(), Just("registry.example.com".to_owned())];
    prop_oneof![
        3 => numeric_look_alike(),
        1 => (name(), prop::sample::select(vec!["0", "65536", "99999", "00"]))
            .prop_map(|(h, p)| format!("{h}:{p}")),
        1 => name().prop_map(|h| format!("{h}.")),
        1 => name().prop_map(|h| format!("{h}..example.com")),
        1 => name().prop_map(|h| format!("-{h}.example.com")),
        1 => name().prop_map(|h| format!("{h}-.example.com")),
        1 => name().prop_map(|h| format!("{h}_x.example.com")),
        1 => name().prop_map(|h| format!("{h}\u{e9}.example.com")),
        1 => prop::sample::select(vec!["[fe80::1%eth0]", "[::ffff:1.2.3.4]", "[::1", "[1::2::3]"])
            .prop_map(str::to_owned),
    ]
}

/// A path component R1 accepts: runs of lowercase letters and digits
/// joined by `.`, `_`, `__` or one or two `-`.
pub fn component() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,3}(([._]|__|-{1,2})[a-z0-9]{1,3}){0,2}"
}

/// A tag R1 accepts: a letter, digit or `_`, then up to eight letters,
/// digits, `_`, `.` and `-`.
pub fn tag() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_][A-Za-z0-9_.-]{0,8}"
}

/// A `sha256` digest R1 accepts: `sha256:` and 64 lowercase hex digits.
pub fn digest() -> impl Strategy<Value = String> {
    "[0-9a-f]{64}".prop_map(|hex| format!("sha256:{hex}"))
}

/// A reference that parses (R1–R6): an optional [`host`] (with its port),
/// one to four [`component`]s, an optional [`tag`] and an optional
/// [`digest`]. It covers Docker Hub's aliases and defaults (R3, R4), hosts
/// known only by their capitals (R2), IP hosts, ports with leading zeros,
/// and names whose candidates climb through public suffixes (R11).
pub fn reference() -> impl Strategy<Value = String> {
    (
        prop::option::of(host()),
        prop::collection::vec(component(), 1..5),
        prop::option::of(tag()),
        prop::option::of(digest()),
    )
        .prop_map(|(h, mut path, tag, digest)| {
            let mut s = match h {
                Some(h) => format!("{h}/"),
                None => {
                    // R2: without a host, a first component with a `.` and
                    // more after it would be read as one; `-` keeps it a
                    // component.
                    if path.len() > 1 {
                        path[0] = path[0].replace('.', "-");
                    }
                    String::new()
                }
            };
            s.push_str(&path.join("/"));
            if let Some(t) = tag {
                s.push(':');
                s.push_str(&t);
            }
            if let Some(d) = digest {
                s.push('@');
                s.push_str(&d);
            }
            s
        })
}

/// The parts of a valid reference that is sure to name its host (R2): a
/// [`host`], made a DNS name with a `.` where it was one bare label.
fn explicit_host() -> impl Strategy<Value = String> {
    host().prop_map(|h| {
        if h.contains(['.', ':', '[']) {
            h
        } else {
            format!("{h}.example.com")
        }
    })
}

/// A reference one mutation away from one that parses, so R6 refuses it:
/// a capital in the path (R4: "repository name must be lowercase"), a tag
/// with a character no tag may hold or of 129 characters, an empty tag, a
/// digest without its hex or with too little or capital hex, `https://`
/// in front, a trailing `/`, `//`, white space at either end, user
/// information, or a [`numeric_look_alike`] host.
pub fn near_valid_reference() -> impl Strategy<Value = String> {
    let name = || {
        (explicit_host(), prop::collection::vec(component(), 1..4))
            .prop_map(|(h, path)| format!("{h}/{}", path.join("/")))
    };
    let written = || {
        (name(), prop::option::of(tag())).prop_map(|(n, t)| match t {
            Some(t) => format!("{n}:{t}"),
            None => n,
        })
    };
    prop_oneof![
        (name(), "[A-Z]").prop_map(|(n, c)| {
            // The image, the last component: never read as a host.
            let (head, image) = n.rsplit_once('/').unwrap_or(("", &n));
            format!("{head}/{c}{image}")
        }),
        (name(), tag(), "[!$+,;=~*]").prop_map(|(n, t, c)| format!("{n}:{t}{c}")),
        (name(), "[.-]", tag()).prop_map(|(n, c, t)| format!("{n}:{c}{t}")),
        name().prop_map(|n| format!("{n}:{}", "t".repeat(129))),
        name().prop_map(|n| format!("{n}:")),
        name().prop_map(|n| format!("{n}@sha256:")),
        (name(), "[0-9a-f]{32,63}").prop_map(|(n, hex)| format!("{n}@sha256:{hex}")),
        (name(), "[0-9A-F]{63}").prop_map(|(n, hex)| format!("{n}@sha256:A{hex}")),
        (prop::sample::select(vec!["https://", "http://"]), written())
            .prop_map(|(p, r)| format!("{p}{r}")),
        name().prop_map(|n| format!("{n}/")),
        name().prop_map(|n| n.replacen('/', "//", 1)),
        with_white_space(written()),
        ("[a-z]{1,6}(:[a-zA-Z0-9]{1,6})?", written()).prop_map(|(u, r)| format!("{u}@{r}")),
        (numeric_look_alike(), component()).prop_map(|(h, c)| format!("{h}:5000/{c}")),
    ]
}

/// Near-valid noise: up to forty of the characters references are made
/// of (letters of either case, digits, `./:@_-[]`, a space and `%`), in any
/// order. Most of it is refused; some parses.
pub fn noise() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9./:@_\\-\\[\\] %]{0,40}"
}

/// A host a location accepts (R7–R9): a DNS name under a registrable
/// domain that nothing on the Public Suffix List sits below
/// (`example.com`, `example.co.uk`, `city.kawasaki.jp`, `registry.corp`),
/// in either case; Docker Hub or an alias; `localhost` or a bare label;
/// an [`ipv4`] or [`ipv6`] address; each with an optional [`port`].
fn location_host() -> impl Strategy<Value = String> {
    let under = (
        prop::collection::vec("[a-zA-Z0-9]([a-zA-Z0-9-]{0,3}[a-zA-Z0-9])?", 0..3),
        prop::sample::select(vec![
            "example.com",
            "Example.COM",
            "example.co.uk",
            "city.kawasaki.jp",
            "registry.corp",
        ]),
    )
        .prop_map(|(mut labels, base)| {
            labels.push(base.to_owned());
            labels.join(".")
        });
    let name = prop_oneof![
        4 => under,
        2 => docker_hub_alias(),
        1 => prop::sample::select(vec!["localhost", "registry", "Localhost"]).prop_map(str::to_owned),
        1 => ipv4(),
        1 => ipv6(),
    ];
    with_optional_port(name)
}

/// A location that parses (R7–R9), as written: a host (any case, Docker
/// Hub's aliases, `localhost`, IP addresses, ports with leading zeros)
/// that is no public suffix, and zero to three [`component`]s.
pub fn location() -> impl Strategy<Value = String> {
    (location_host(), prop::collection::vec(component(), 0..4)).prop_map(|(h, path)| {
        if path.is_empty() {
            h
        } else {
            format!("{h}/{}", path.join("/"))
        }
    })
}

/// A location one mutation away from one that parses, so R8 refuses it: a
/// protocol in front, user information, a tag or a digest, a port after
/// the path, an empty component, a trailing `/`, white space, a capital in
/// the path, a [`numeric_look_alike`] host, or the empty string.
pub fn near_valid_location() -> impl Strategy<Value = String> {
    let with_path = || {
        (location_host(), prop::collection::vec(component(), 1..4))
            .prop_map(|(h, path)| format!("{h}/{}", path.join("/")))
    };
    prop_oneof![
        (
            prop::sample::select(vec!["https://", "http://"]),
            location()
        )
            .prop_map(|(p, l)| format!("{p}{l}")),
        ("[a-z]{1,6}(:[a-zA-Z0-9]{1,6})?", location()).prop_map(|(u, l)| format!("{u}@{l}")),
        (with_path(), tag()).prop_map(|(l, t)| format!("{l}:{t}")),
        (with_path(), digest()).prop_map(|(l, d)| format!("{l}@{d}")),
        (with_path(), 1..=u16::MAX).prop_map(|(l, p)| format!("{l}:{p}")),
        with_path().prop_map(|l| l.replacen('/', "//", 1)),
        location().prop_map(|l| format!("{l}/")),
        with_white_space(location()),
        (with_path(), "[A-Z]").prop_map(|(l, c)| format!("{l}{c}")),
        (
            numeric_look_alike(),
            prop::collection::vec(component(), 0..2)
        )
            .prop_map(|(h, path)| {
                if path.is_empty() {
                    h
                } else {
                    format!("{h}/{}", path.join("/"))
                }
            }),
        Just(String::new()),
    ]
}

/// The organization ids of the pool [`app`] and [`scope`] draw from.
pub const ORGS: [&str; 2] = ["o1", "o2"];
/// The space ids of the pool.
pub const SPACES: [&str; 2] = ["s1", "s2"];
/// The app ids of the pool.
pub const APPS: [&str; 2] = ["a1", "a2"];

/// An app from the pool: any of [`APPS`] in any of [`SPACES`] in any of
/// [`ORGS`]. Resolution compares ids alone (R13, R14), so the pool lets one
/// space id appear in both organizations, and a test sees that only the
/// ids matter.
pub fn app() -> impl Strategy<Value = App> {
    (
        prop::sample::select(ORGS.to_vec()),
        prop::sample::select(SPACES.to_vec()),
        prop::sample::select(APPS.to_vec()),
    )
        .prop_map(|(o, s, a)| App::new(o, s, a).expect("pool ids are valid"))
}

/// Every scope of the pool: the foundation, and each of [`ORGS`],
/// [`SPACES`] and [`APPS`].
fn pool_scopes() -> Vec<Scope> {
    let mut scopes = vec![Scope::Foundation];
    scopes.extend(ORGS.map(|o| Scope::Org(OrgId::new(o).expect("a valid id"))));
    scopes.extend(SPACES.map(|s| Scope::Space(SpaceId::new(s).expect("a valid id"))));
    scopes.extend(APPS.map(|a| Scope::App(AppId::new(a).expect("a valid id"))));
    scopes
}

/// A scope of the pool (R13), each of its seven alike likely: the
/// foundation, an organization of [`ORGS`], a space of [`SPACES`], an app
/// of [`APPS`]. For an [`app`] of the pool some of these are its own
/// scopes and the others its neighbours', which must never serve it.
/// Shrinks towards the foundation.
pub fn scope() -> impl Strategy<Value = Scope> {
    prop::sample::select(pool_scopes())
}

/// One of the four scopes `app` searches (R14): its own, its space's, its
/// organization's or the foundation.
pub fn scope_of(app: &App) -> impl Strategy<Value = Scope> + use<> {
    prop::sample::select(app.scopes().map(|s| s.to_scope()).to_vec())
}

/// The hosts of the location pool: registries, their parent domains and
/// ports, Docker Hub, an IP address, and parents of the public-suffix edge
/// cases (`city.kawasaki.jp` below the wildcard `*.kawasaki.jp`,
/// `amazonaws.com` above the suffix `s3.amazonaws.com`).
const POOL_HOSTS: [&str; 12] = [
    "registry.example.com",
    "example.com",
    "a.registry.example.com",
    "docker.io",
    "localhost:5000",
    "example.com:5000",
    "registry.example.com:5000",
    "city.kawasaki.jp",
    "b.example.co.uk",
    "example.co.uk",
    "amazonaws.com",
    "10.0.0.1",
];

/// The paths of the location pool, `team` and `team-x` among them so that
/// a whole-component match (R10) is tested.
const POOL_PATHS: [&str; 6] = ["", "/repo", "/repo/sub", "/library", "/team", "/team-x"];

/// A location of the pool: one of twelve hosts (registries, their parent
/// domains, ports, Docker Hub, an IP, the parents of public-suffix edge
/// cases) with one of six paths. Every image of [`pooled_image`] has some
/// of these among its candidates.
pub fn pooled_location() -> impl Strategy<Value = Location> {
    (
        prop::sample::select(POOL_HOSTS.to_vec()),
        prop::sample::select(POOL_PATHS.to_vec()),
    )
        .prop_map(|(h, p)| Location::parse(&format!("{h}{p}")).expect("pool locations are valid"))
}

/// An image pushed against the pool: one of eleven registries (no host,
/// Docker Hub written with capitals, ports, IPs, names below the
/// public-suffix edge cases) with one of seven paths of zero to three
/// namespaces, and an optional tag. Its candidates meet
/// [`pooled_location`]'s locations at every specificity: namespaces, the
/// registry, parent domains (R10–R12).
pub fn pooled_image() -> impl Strategy<Value = Reference> {
    let host = prop::sample::select(vec![
        "",
        "registry.example.com/",
        "a.registry.example.com/",
        "docker.io/",
        "localhost:5000/",
        "registry.example.com:5000/",
        "Index.Docker.io/",
        "a.city.kawasaki.jp/",
        "a.b.example.co.uk/",
        "s3.amazonaws.com/",
        "10.0.0.1/",
    ]);
    let path = prop::sample::select(vec![
        "img",
        "repo/img",
        "repo/sub/img",
        "library/img",
        "team/img",
        "team-x/img",
        "repo/sub/deeper/img",
    ]);
    (host, path, prop::option::of("[a-z0-9]{1,4}")).prop_map(|(h, p, t)| {
        let tag = t.map(|t| format!(":{t}")).unwrap_or_default();
        Reference::parse(&format!("{h}{p}{tag}")).expect("pool images are valid")
    })
}

/// A username R16 accepts: one to twenty letters and digits of any script,
/// with inner punctuation (`.`, `-`, `_`, `@`, `+`).
pub fn username() -> impl Strategy<Value = String> {
    "[\\p{L}\\p{N}]([\\p{L}\\p{N}._@+-]{0,18}[\\p{L}\\p{N}])?"
}

/// A password R16 accepts: one to sixty-four characters, each printable
/// ASCII or a character of any script outside Unicode's "other" category
/// (no control, format, private-use or unassigned character).
pub fn password() -> impl Strategy<Value = String> {
    "[ -~\\PC]{1,64}"
}

/// A [`Credential`] of a [`username`] and a [`password`].
pub fn credential() -> impl Strategy<Value = Credential> {
    (username(), password())
        .prop_map(|(u, p)| Credential::new(u, p).expect("generated credentials are valid"))
}

/// A [`MemoryStore`] of `size` credentials, each at a [`scope`] and a
/// [`pooled_location`] no other holds (R13), and the credentials as stored,
/// in the order they were created. The `i`-th is `u{i}` with password
/// `u{i}-pw`, so an oracle can tell which one a resolution found.
///
/// The pool has 72 locations and 7 scopes: `size` is at most 504. Each
/// generated value is a new store, so a test may change it.
pub fn store(
    size: impl Into<SizeRange>,
) -> impl Strategy<Value = (MemoryStore, Vec<Arc<RegistryCredential>>)> {
    prop::collection::btree_set((scope(), pooled_location()), size).prop_map(|keys| {
        let store = MemoryStore::new();
        let stored = keys
            .into_iter()
            .enumerate()
            .map(|(i, (scope, location))| {
                let credential = Credential::new(format!("u{i}"), format!("u{i}-pw"))
                    .expect("a valid credential");
                store
                    .create(RegistryCredential::new(scope, location, credential))
                    .expect("keys of a set are distinct")
            })
            .collect();
        (store, stored)
    })
}

/// A label or annotation key R22 accepts, with or without a prefix, drawn
/// from a small pool of names so that selectors and labels meet.
pub fn label_key() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec!["env", "tier", "a", "team-1", "x.y_z"]);
    let prefix = prop::option::of(prop::sample::select(vec!["example.com", "a.b.example.org"]));
    (prefix, name).prop_map(|(p, n)| match p {
        Some(p) => format!("{p}/{n}"),
        None => n.to_owned(),
    })
}

/// A label value R22 accepts (the empty one included), from a small pool.
pub fn label_value() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["", "prod", "dev", "v1.2", "a_b-c"]).prop_map(str::to_owned)
}

/// Labels as a PATCH or a store would hold them: up to eight pairs of a
/// [`label_key`] and a [`label_value`].
pub fn labels() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((label_key(), label_value()), 0..8)
}

/// One R23 requirement as text: every operator, over [`label_key`] and
/// [`label_value`].
pub fn requirement() -> impl Strategy<Value = String> {
    let values = || prop::collection::vec(label_value(), 1..4);
    prop_oneof![
        (label_key(), label_value()).prop_map(|(k, v)| format!("{k}={v}")),
        (label_key(), label_value()).prop_map(|(k, v)| format!("{k}=={v}")),
        (label_key(), label_value()).prop_map(|(k, v)| format!("{k}!={v}")),
        (label_key(), values()).prop_map(|(k, v)| format!("{k} in ({})", v.join(","))),
        (label_key(), values()).prop_map(|(k, v)| format!("{k} notin ({})", v.join(","))),
        label_key(),
        label_key().prop_map(|k| format!("!{k}")),
    ]
}

/// A label selector R23 accepts: one to six [`requirement`]s joined by
/// `,`.
pub fn selector() -> impl Strategy<Value = String> {
    prop::collection::vec(requirement(), 1..6).prop_map(|r| r.join(","))
}
