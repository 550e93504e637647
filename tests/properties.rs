//! Property tests of the matching rules (R1–R15).

use proptest::prelude::*;
use registry_credentials::candidates::CandidateKind;
use registry_credentials::resolve::resolve_all;
use registry_credentials::scope::{AppId, OrgId, SpaceId};
use registry_credentials::{
    resolve, App, Credential, CredentialStore, Location, MemoryStore, Reference,
    RegistryCredential, Scope, ScopeKind,
};

const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A host as someone might write it: varied case, aliases, IPs, ports.
fn host() -> impl Strategy<Value = String> {
    let dns = prop::collection::vec("[a-zA-Z0-9]([a-zA-Z0-9-]{0,3}[a-zA-Z0-9])?", 1..4)
        .prop_map(|labels| labels.join("."));
    let known = prop::sample::select(vec![
        "registry.example.com",
        "Registry.Example.COM",
        "example.co.uk",
        "a.b.example.co.uk",
        "docker.io",
        "index.docker.io",
        "registry-1.docker.io",
        "registry.hub.docker.com",
        "localhost",
        "10.0.0.1",
        "[::1]",
        "[2001:DB8:0:0:0:0:0:1]",
        "[::ffff:102:304]",
        "user.github.io",
        "registry.corp",
    ])
    .prop_map(str::to_owned);
    let port = prop::option::of(prop::sample::select(vec![
        "5000", "05000", "1", "65535", "443",
    ]));
    (prop_oneof![known, dns], port).prop_map(|(h, p)| match p {
        Some(p) => format!("{h}:{p}"),
        None => h,
    })
}

fn component() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,3}(([._]|__|-{1,2})[a-z0-9]{1,3}){0,2}"
}

/// A reference that should parse (a few generated ones do not, e.g. a
/// single-label host with no `.`, which R2 reads as a path component).
fn reference_text() -> impl Strategy<Value = String> {
    (
        prop::option::of(host()),
        prop::collection::vec(component(), 1..5),
        prop::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,8}"),
        any::<bool>(),
    )
        .prop_map(|(h, path, tag, digest)| {
            let mut s = match h {
                Some(h) => format!("{h}/{}", path.join("/")),
                None => path.join("/"),
            };
            if let Some(t) = tag {
                s.push(':');
                s.push_str(&t);
            }
            if digest {
                s.push_str("@sha256:");
                s.push_str(SHA);
            }
            s
        })
}

/// Near-valid noise: the characters references are made of.
fn noise() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9./:@_\\-\\[\\] %]{0,40}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// R6: parsing never panics, on anything.
    #[test]
    fn r6_parsing_never_panics(s in any::<String>(), t in noise()) {
        let _ = Reference::parse(&s);
        let _ = Location::parse(&s);
        let _ = Reference::parse(&t);
        let _ = Location::parse(&t);
    }

    /// Printing: a reference prints as written and parses back equal.
    #[test]
    fn r1_display_round_trips(s in prop_oneof![reference_text(), noise()]) {
        if let Ok(r) = Reference::parse(&s) {
            prop_assert_eq!(r.to_string(), s.clone());
            let again = Reference::parse(&r.to_string()).unwrap();
            prop_assert_eq!(&again, &r);
            prop_assert_eq!(again.name(), r.name());
            prop_assert!(r.name().len() <= 255);
        }
    }

    /// R3/R4: normalization is idempotent. A normalized name parses to
    /// itself, except for a host recognised only by its capitals (`Foo/bar`),
    /// which the SPEC names as the one form that cannot read back.
    #[test]
    fn r4_normalization_is_idempotent(s in reference_text()) {
        if let Ok(r) = Reference::parse(&s) {
            let first = s.split('/').next().unwrap_or("");
            let capital_only_host = r.has_host()
                && !first.contains(['.', ':'])
                && !first.eq_ignore_ascii_case("localhost");
            let again = Reference::parse(r.name());
            if capital_only_host {
                let again = again.unwrap();
                prop_assert_eq!(again.name(), format!("docker.io/{}", r.name()));
            } else {
                let again = again.unwrap();
                prop_assert_eq!(again.name(), r.name());
                let third = Reference::parse(again.name()).unwrap();
                prop_assert_eq!(third.name(), r.name());
            }
        }
    }

    /// R7: a location's normal form is a fixed point, and every candidate
    /// that is a valid location is already in normal form.
    #[test]
    fn r7_location_normal_form_is_a_fixed_point(h in host(), path in prop::collection::vec(component(), 0..3)) {
        let text = if path.is_empty() { h } else { format!("{h}/{}", path.join("/")) };
        if let Ok(l) = Location::parse(&text) {
            let again = Location::parse(l.as_str()).unwrap();
            prop_assert_eq!(again.as_str(), l.as_str());
            prop_assert_eq!(&again, &l);
        }
        if let Ok(r) = Reference::parse(&format!("{text}/img")) {
            for c in r.candidates() {
                if let Ok(l) = Location::parse(c.as_str()) {
                    prop_assert_eq!(l.as_str(), c.as_str());
                }
            }
        }
    }

    /// R10–R12: each candidate is a strict prefix (by whole components) or
    /// a parent domain (with the same port) of the one before; the first is
    /// the name without its image; ports never change.
    #[test]
    fn r10_r11_r12_candidates_shrink_strictly(s in reference_text()) {
        let Ok(r) = Reference::parse(&s) else { return Ok(()) };
        let cands: Vec<_> = r.candidates().collect();
        prop_assert!(!cands.is_empty());
        let (image_dir, _) = r.name().rsplit_once('/').unwrap();
        prop_assert_eq!(cands[0].as_str(), image_dir);
        let port_suffix = r.port().map(|p| format!(":{p}")).unwrap_or_default();
        for pair in cands.windows(2) {
            let (a, b) = (pair[0].as_str(), pair[1].as_str());
            match pair[1].kind() {
                CandidateKind::Namespace | CandidateKind::Registry => {
                    prop_assert!(a.starts_with(b) && a.as_bytes()[b.len()] == b'/', "{a} -> {b}");
                }
                CandidateKind::ParentDomain => {
                    let (ha, hb) = (
                        a.strip_suffix(&port_suffix).unwrap(),
                        b.strip_suffix(&port_suffix).unwrap(),
                    );
                    prop_assert!(ha.ends_with(hb) && ha.as_bytes()[ha.len() - hb.len() - 1] == b'.', "{a} -> {b}");
                    prop_assert!(hb.contains('.'), "a parent keeps two labels: {b}");
                }
            }
        }
        let registry = cands.iter().filter(|c| c.kind() == CandidateKind::Registry).count();
        prop_assert_eq!(registry, 1);
        prop_assert!(cands.iter().all(|c| !c.as_str().contains('@') && c.as_str().len() < r.name().len()));
    }
}

// ---------------------------------------------------------------------------
// R13–R15: resolution equals a brute-force oracle.

fn scope_strategy() -> impl Strategy<Value = Scope> {
    prop_oneof![
        Just(Scope::Foundation),
        prop::sample::select(vec!["o1", "o2"]).prop_map(|o| Scope::Org(OrgId::new(o).unwrap())),
        prop::sample::select(vec!["s1", "s2"]).prop_map(|s| Scope::Space(SpaceId::new(s).unwrap())),
        prop::sample::select(vec!["a1", "a2"]).prop_map(|a| Scope::App(AppId::new(a).unwrap())),
    ]
}

fn location_strategy() -> impl Strategy<Value = String> {
    let host = prop::sample::select(vec![
        "registry.example.com",
        "example.com",
        "a.registry.example.com",
        "docker.io",
        "localhost:5000",
        "example.com:5000",
        "registry.example.com:5000",
    ]);
    let path = prop::sample::select(vec![
        "",
        "/repo",
        "/repo/sub",
        "/library",
        "/team",
        "/team-x",
    ]);
    (host, path).prop_map(|(h, p)| format!("{h}{p}"))
}

fn image_strategy() -> impl Strategy<Value = String> {
    let host = prop::sample::select(vec![
        "",
        "registry.example.com/",
        "a.registry.example.com/",
        "docker.io/",
        "localhost:5000/",
        "registry.example.com:5000/",
        "Index.Docker.io/",
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
    (host, path, prop::option::of("[a-z0-9]{1,4}"))
        .prop_map(|(h, p, t)| format!("{h}{p}{}", t.map(|t| format!(":{t}")).unwrap_or_default()))
}

/// The oracle: scan everything stored, keep the credentials at one of the
/// app's scopes whose location is a candidate, order by scope precedence,
/// then by candidate specificity.
fn oracle(
    all: &[std::sync::Arc<RegistryCredential>],
    app: &App,
    r: &Reference,
) -> Vec<(ScopeKind, String, String)> {
    let cands: Vec<&str> = r.candidates().map(|c| c.as_str()).collect();
    let mut hits: Vec<(ScopeKind, usize, String, String)> = all
        .iter()
        .filter(|c| match c.scope() {
            Scope::Foundation => true,
            Scope::Org(o) => o == app.org(),
            Scope::Space(s) => s == app.space(),
            Scope::App(a) => a == app.id(),
        })
        .filter_map(|c| {
            let rank = cands.iter().position(|x| *x == c.location().as_str())?;
            Some((
                c.scope().kind(),
                rank,
                c.location().to_string(),
                c.username().to_string(),
            ))
        })
        .collect();
    hits.sort();
    hits.into_iter().map(|(k, _, l, u)| (k, l, u)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn r14_r15_resolution_equals_the_oracle(
        stored in prop::collection::vec((scope_strategy(), location_strategy()), 0..25),
        image in image_strategy(),
        app_pick in 0usize..4,
    ) {
        let store = MemoryStore::new();
        for (i, (scope, loc)) in stored.into_iter().enumerate() {
            let c = RegistryCredential::new(
                scope,
                Location::parse(&loc).unwrap(),
                Credential::new(format!("u{i}"), format!("u{i}-pw")).unwrap(),
            );
            // R13: a location is held once per scope; duplicates conflict.
            let _ = store.create(c);
        }
        let app = match app_pick {
            0 => App::new("o1", "s1", "a1"),
            1 => App::new("o1", "s2", "a2"),
            2 => App::new("o2", "s1", "a2"),
            _ => App::new("o2", "s2", "a1"),
        }
        .unwrap();
        let r = Reference::parse(&image).unwrap();
        let expected = oracle(&store.list_all().unwrap(), &app, &r);
        let got = resolve(&store, &app, &r).unwrap().map(|x| (
            x.scope_kind(),
            x.location().to_string(),
            x.credential().username().to_string(),
        ));
        prop_assert_eq!(got, expected.first().cloned());
        let all: Vec<_> = resolve_all(&store, &app, &r).unwrap().into_iter().map(|x| (
            x.scope_kind(),
            x.location().to_string(),
            x.credential().username().to_string(),
        )).collect();
        prop_assert_eq!(all, expected);
    }
}
