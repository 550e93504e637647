//! Property tests of the matching rules (R1–R15).
//!
//! The candidate and resolution oracles below are written from the rules'
//! text (R10–R14) and the Public Suffix List, never from the crate's own
//! candidate code. Tests that can only check inputs that parse count them,
//! and fail when too few did. The inputs come from the crate's public
//! strategies (`registry_credentials::strategies`), whose own promises
//! (valid inputs parse, near-valid ones do not) are checked first.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use registry_credentials::candidates::CandidateKind;
use registry_credentials::location::LocationErrorKind;
use registry_credentials::resolve::resolve_all;
use registry_credentials::{
    App, Location, Password, Reference, RegistryCredential, Scope, ScopeKind, Username, resolve,
    strategies,
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// R6: parsing never panics, on anything.
    #[test]
    fn r6_parsing_never_panics(s in any::<String>(), t in strategies::noise()) {
        let _ = Reference::parse(&s);
        let _ = Location::parse(&s);
        let _ = Reference::parse(&t);
        let _ = Location::parse(&t);
    }

    /// R1–R6: every reference the valid strategy writes parses, and
    /// prints as written.
    #[test]
    fn r1_valid_references_parse(s in strategies::reference()) {
        let r = accepted(&s, Reference::parse(&s))?;
        prop_assert_eq!(r.to_string(), s);
    }

    /// R6: a reference one mutation away from a valid one is refused.
    #[test]
    fn r6_near_valid_references_are_refused(s in strategies::near_valid_reference()) {
        refused(&s, Reference::parse(&s))?;
    }

    /// R7–R9: every location the valid strategy writes parses.
    #[test]
    fn r7_valid_locations_parse(s in strategies::location()) {
        accepted(&s, Location::parse(&s))?;
    }

    /// R8: a location one mutation away from a valid one is refused.
    #[test]
    fn r8_near_valid_locations_are_refused(s in strategies::near_valid_location()) {
        refused(&s, Location::parse(&s))?;
    }

    /// R5: every host the host strategy writes is one R5 accepts: as a
    /// location it parses, or is refused as a public suffix only (R9).
    #[test]
    fn r5_valid_hosts_are_accepted(h in strategies::host()) {
        match Location::parse(&h) {
            Ok(_) => {}
            Err(e) => prop_assert_eq!(e.kind(), &LocationErrorKind::PublicSuffix, "{:?}: {}", h, e),
        }
    }

    /// R16: the usernames and passwords of the credential strategy are
    /// ones R16 accepts.
    #[test]
    fn r16_generated_usernames_and_passwords_are_accepted(
        u in strategies::username(),
        p in strategies::password(),
    ) {
        prop_assert!(Username::new(&u).is_ok(), "{:?}", u);
        prop_assert!(Password::new(p).is_ok());
    }

    /// R5: a numeric look-alike, a bad port, a bad label or a bad IPv6
    /// address is refused, as a location and as a reference's host.
    #[test]
    fn r5_near_valid_hosts_are_refused(h in strategies::near_valid_host()) {
        refused(&h, Location::parse(&h))?;
        let text = format!("{h}/team/img");
        // One label without `.` or `:` is a path component (R2), not a host.
        if h.contains(['.', ':', '[']) {
            refused(&text, Reference::parse(&text))?;
        }
    }
}

/// `s`'s parse `r`, which must have succeeded.
fn accepted<T: std::fmt::Debug, E: std::fmt::Debug>(
    s: &str,
    r: Result<T, E>,
) -> Result<T, TestCaseError> {
    r.map_err(|e| TestCaseError::fail(format!("{s:?}: {e:?}")))
}

/// `s`'s parse `r`, which must have failed.
fn refused<T: std::fmt::Debug, E>(s: &str, r: Result<T, E>) -> Result<(), TestCaseError> {
    match r {
        Ok(parsed) => Err(TestCaseError::fail(format!("{s:?} parsed: {parsed:?}"))),
        Err(_) => Ok(()),
    }
}

/// Runs `check` on `cases` inputs from `strategy`; `check` says whether
/// the input was one it could check (it parsed). Fails unless at least
/// `min_percent` of the inputs were checked, so a generator that drifts
/// into producing only refused inputs cannot make a property pass
/// vacuously.
fn run_counting<S: Strategy>(
    name: &str,
    cases: u32,
    min_percent: u32,
    strategy: S,
    check: impl Fn(S::Value) -> Result<bool, TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
    let (total, checked) = (AtomicU32::new(0), AtomicU32::new(0));
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(cases));
    let result = runner.run(&strategy, |v| {
        total.fetch_add(1, Relaxed);
        if check(v)? {
            checked.fetch_add(1, Relaxed);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    let (total, checked) = (total.into_inner(), checked.into_inner());
    assert!(
        checked * 100 >= total * min_percent,
        "{name}: only {checked} of {total} inputs parsed, less than {min_percent}%"
    );
}

/// [`run_counting`] over `cases` references of the valid strategy:
/// `check` gets each that parses (at least 60% must), with its text.
fn run_on_references(
    name: &str,
    cases: u32,
    check: impl Fn(&str, Reference) -> Result<(), TestCaseError>,
) {
    run_counting(name, cases, 60, strategies::reference(), |s| {
        let Ok(r) = Reference::parse(&s) else {
            return Ok(false);
        };
        check(&s, r)?;
        Ok(true)
    });
}

/// Printing: a reference prints as written and parses back equal (R1).
#[test]
fn r1_display_round_trips() {
    run_on_references("r1_display_round_trips", 2000, |s, r| {
        prop_assert_eq!(r.to_string(), s);
        let again = Reference::parse(&r.to_string()).unwrap();
        prop_assert_eq!(&again, &r);
        prop_assert_eq!(again.name(), r.name());
        prop_assert!(r.name().len() <= 255);
        Ok(())
    });
}

/// R3/R4: normalization is idempotent. A normalized name parses to itself,
/// except for a host recognised only by its capitals (`Foo/bar`), which the
/// SPEC names as the one form that cannot read back.
#[test]
fn r4_normalization_is_idempotent() {
    run_on_references("r4_normalization_is_idempotent", 2000, |s, r| {
        let first = s.split('/').next().unwrap_or("");
        let capital_only_host =
            r.has_host() && !first.contains(['.', ':']) && !first.eq_ignore_ascii_case("localhost");
        let again = Reference::parse(r.name()).unwrap();
        if capital_only_host {
            prop_assert_eq!(again.name(), format!("docker.io/{}", r.name()));
        } else {
            prop_assert_eq!(again.name(), r.name());
            let third = Reference::parse(again.name()).unwrap();
            prop_assert_eq!(third.name(), r.name());
        }
        Ok(())
    });
}

/// R7: a location's normal form is a fixed point, and every candidate that
/// is a valid location is already in normal form.
#[test]
fn r7_location_normal_form_is_a_fixed_point() {
    let input = (
        strategies::host(),
        prop::collection::vec(strategies::component(), 0..3),
    );
    run_counting(
        "r7_location_normal_form_is_a_fixed_point",
        2000,
        50,
        input,
        |(h, path)| {
            let text = if path.is_empty() {
                h
            } else {
                format!("{h}/{}", path.join("/"))
            };
            let Ok(l) = Location::parse(&text) else {
                return Ok(false);
            };
            let again = Location::parse(l.as_str()).unwrap();
            prop_assert_eq!(again.as_str(), l.as_str());
            prop_assert_eq!(&again, &l);
            let r = Reference::parse(&format!("{text}/img")).unwrap();
            for c in r.candidates() {
                match Location::parse(c.as_str()) {
                    Ok(l) => prop_assert_eq!(l.as_str(), c.as_str()),
                    // R9: only the registry itself may be a public suffix
                    // (`github.io/img`); R11 never climbs to one.
                    Err(e) => {
                        prop_assert_eq!(e.kind(), &LocationErrorKind::PublicSuffix);
                        prop_assert_eq!(c.kind(), CandidateKind::Registry);
                    }
                }
            }
            Ok(true)
        },
    );
}

// ---------------------------------------------------------------------------
// The oracle: R10–R12 from the rules' text, with nothing of the crate's
// candidate code. It needs only the reference's normalized name (tested
// above and by the vectors) and the Public Suffix List itself.

/// `host[:port]` split into host and port; `[v6]:port` keeps its brackets.
fn split_registry(registry: &str) -> (&str, Option<&str>) {
    let after_host = if registry.starts_with('[') {
        registry.find(']').map_or(registry.len(), |i| i + 1)
    } else {
        registry.find(':').unwrap_or(registry.len())
    };
    let (host, port) = registry.split_at(after_host);
    (host, port.strip_prefix(':'))
}

/// A location in normal form: registry, host, port and path components.
struct Place<'a> {
    registry: &'a str,
    host: &'a str,
    port: Option<&'a str>,
    path: Vec<&'a str>,
}

fn place(normal: &str) -> Place<'_> {
    let (registry, path) = match normal.split_once('/') {
        Some((r, p)) => (r, p.split('/').collect()),
        None => (normal, Vec::new()),
    };
    let (host, port) = split_registry(registry);
    Place {
        registry,
        host,
        port,
        path,
    }
}

/// R5: an IP address (a dotted quad or a bracketed IPv6 address).
fn is_ip(host: &str) -> bool {
    host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok()
}

/// R9: the name is listed in the Public Suffix List, or is the root of one
/// of its wildcard rules (a label below it is a suffix by `*.`).
#[cfg(feature = "psl")]
fn is_public_suffix(name: &str) -> bool {
    let listed = |n: &str| {
        psl::suffix(n.as_bytes()).is_some_and(|s| s.is_known() && s.as_bytes().len() == n.len())
    };
    // `zz0-oracle` is no explicit rule of any suffix: only a wildcard can
    // make it one.
    listed(name) || listed(&format!("zz0-oracle.{name}"))
}

/// Without the list only its default rule applies: the top-level label.
#[cfg(not(feature = "psl"))]
fn is_public_suffix(name: &str) -> bool {
    !name.contains('.')
}

/// R11: the proper parent domains of `host` that a credential may sit at,
/// longest first: while at least two labels remain and what remains is not
/// a public suffix.
fn parent_domains(host: &str) -> Vec<&str> {
    if is_ip(host) || !host.contains('.') {
        return Vec::new();
    }
    let mut parents = Vec::new();
    let mut rest = host;
    while let Some((_, parent)) = rest.split_once('.') {
        if !parent.contains('.') || is_public_suffix(parent) {
            break;
        }
        parents.push(parent);
        rest = parent;
    }
    parents
}

/// How specific a match is, most specific first (smaller sorts first):
/// namespaces by length, then the registry, then parent domains by length.
type Specificity = (u8, std::cmp::Reverse<usize>);

/// Whether a credential stored at `location` (normal form) serves a
/// reference whose normalized name is `name`, and how specifically
/// (R10–R12).
fn serves(location: &str, name: &str) -> Option<Specificity> {
    let loc = place(location);
    let want = place(name);
    let namespaces = &want.path[..want.path.len() - 1]; // not the image (R10)
    if loc.registry == want.registry {
        // R10: the location's path is a whole-component prefix of the
        // namespaces (the registry itself has the empty path).
        let n = loc.path.len();
        return (n <= namespaces.len() && loc.path == namespaces[..n])
            .then_some((0, std::cmp::Reverse(n)));
    }
    // R11, R12: no path, the same port, a proper parent domain.
    if !loc.path.is_empty() || loc.port != want.port {
        return None;
    }
    parent_domains(want.host)
        .contains(&loc.host)
        .then_some((1, std::cmp::Reverse(loc.host.len())))
}

/// Every candidate the rules allow for `name`, most specific first.
fn oracle_candidates(name: &str) -> Vec<String> {
    let want = place(name);
    let k = want.path.len() - 1;
    let mut out: Vec<String> = (1..=k)
        .rev()
        .map(|j| format!("{}/{}", want.registry, want.path[..j].join("/")))
        .collect();
    out.push(want.registry.to_owned());
    let port = want.port.map(|p| format!(":{p}")).unwrap_or_default();
    out.extend(
        parent_domains(want.host)
            .into_iter()
            .map(|p| format!("{p}{port}")),
    );
    out
}

/// R10–R12: the candidates are exactly the oracle's, in its order: the
/// count is k namespaces, the registry, and every allowed parent domain.
#[test]
fn r10_r11_r12_candidates_equal_the_oracle() {
    run_on_references("r10_r11_r12_candidates_equal_the_oracle", 3000, |_, r| {
        let got: Vec<&str> = r.candidates().map(|c| c.as_str()).collect();
        let expected = oracle_candidates(r.name());
        let k = r.path().split('/').count() - 1;
        let parents = parent_domains(split_registry(r.registry()).0).len();
        prop_assert_eq!(got.len(), k + 1 + parents, "{}: {:?}", r.name(), got);
        prop_assert_eq!(&got, &expected, "{}", r.name());
        for (c, next) in r.candidates().zip(r.candidates().skip(1)) {
            prop_assert!(serves(c.as_str(), r.name()) < serves(next.as_str(), r.name()));
        }
        let kinds: Vec<CandidateKind> = r.candidates().map(|c| c.kind()).collect();
        let mut shape = vec![CandidateKind::Namespace; k];
        shape.push(CandidateKind::Registry);
        shape.extend(std::iter::repeat_n(CandidateKind::ParentDomain, parents));
        prop_assert_eq!(kinds, shape);
        Ok(())
    });
}

/// The oracle itself, on the SPEC's examples and the rules, so a
/// wrong oracle cannot agree with a wrong crate.
#[test]
fn r10_r11_oracle_follows_the_spec_examples() {
    assert_eq!(
        oracle_candidates("docker.io/library/nginx"),
        ["docker.io/library", "docker.io"]
    );
    assert_eq!(
        oracle_candidates("registry.example.com/repo/image"),
        [
            "registry.example.com/repo",
            "registry.example.com",
            "example.com"
        ]
    );
    assert_eq!(
        oracle_candidates("localhost:5000/a/b/img"),
        ["localhost:5000/a/b", "localhost:5000/a", "localhost:5000"]
    );
    assert_eq!(
        oracle_candidates("registry.example.com:5000/img"),
        ["registry.example.com:5000", "example.com:5000"]
    );
    assert_eq!(
        oracle_candidates("10.0.0.1:5000/r/i"),
        ["10.0.0.1:5000/r", "10.0.0.1:5000"]
    );
    assert_eq!(oracle_candidates("[::1]/i"), ["[::1]"]);
    #[cfg(feature = "psl")]
    {
        assert_eq!(
            oracle_candidates("a.b.example.co.uk/img"),
            ["a.b.example.co.uk", "b.example.co.uk", "example.co.uk"]
        );
        assert_eq!(oracle_candidates("user.github.io/img"), ["user.github.io"]);
        assert_eq!(
            oracle_candidates("a.city.kawasaki.jp/img"),
            ["a.city.kawasaki.jp", "city.kawasaki.jp"]
        );
        assert_eq!(
            oracle_candidates("a.b.example.ck/img"),
            ["a.b.example.ck", "b.example.ck"]
        );
        assert!(is_public_suffix("ck") && is_public_suffix("kawasaki.jp"));
        assert!(!is_public_suffix("city.kawasaki.jp") && !is_public_suffix("www.ck"));
    }
    assert_eq!(serves("team", "docker.io/team-x/img"), None);
    assert_eq!(serves("example.com", "registry.example.com:5000/img"), None);
    assert_eq!(serves("example.com:5000", "registry.example.com/img"), None);
    assert_eq!(
        serves(
            "registry.example.com/repo/image",
            "registry.example.com/repo/image"
        ),
        None
    );
}

// ---------------------------------------------------------------------------
// R13–R15: resolution equals a brute-force oracle.

/// The resolution oracle (R13–R15): scan everything stored, keep the
/// credentials at one of the app's scopes whose location serves the
/// reference by [`serves`] (the rules' text, not the crate's candidates),
/// and order them by scope precedence, then by specificity.
fn oracle(
    all: &[std::sync::Arc<RegistryCredential>],
    app: &App,
    r: &Reference,
) -> Vec<(ScopeKind, String, String)> {
    let mut hits: Vec<(ScopeKind, Specificity, String, String)> = all
        .iter()
        .filter(|c| match c.scope() {
            Scope::Foundation => true,
            Scope::Org(o) => o == app.org(),
            Scope::Space(s) => s == app.space(),
            Scope::App(a) => a == app.id(),
        })
        .filter_map(|c| {
            let rank = serves(c.location().as_str(), r.name())?;
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
        (store, stored) in strategies::store(0..25),
        image in strategies::pooled_image(),
        app in strategies::app(),
    ) {
        let expected = oracle(&stored, &app, &image);
        let got = resolve(&store, &app, &image).unwrap().map(|x| (
            x.scope_kind(),
            x.location().to_string(),
            x.credential().username().to_string(),
        ));
        prop_assert_eq!(got, expected.first().cloned());
        let all: Vec<_> = resolve_all(&store, &app, &image).unwrap().into_iter().map(|x| (
            x.scope_kind(),
            x.location().to_string(),
            x.credential().username().to_string(),
        )).collect();
        prop_assert_eq!(all, expected);
    }
}

/// The requirements of a selector's text: split at the commas outside a
/// value list, apart from the parser.
fn requirements_of(text: &str) -> impl Iterator<Item = &str> {
    let mut depth = 0;
    text.split(move |c| {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        c == ',' && depth == 0
    })
}

/// An oracle for one R23 requirement, read from its text apart from the
/// parser: whether `labels` meet it.
fn requirement_holds(text: &str, labels: &std::collections::BTreeMap<String, String>) -> bool {
    if let Some(k) = text.strip_prefix('!') {
        return !labels.contains_key(k);
    }
    for (op, member) in [(" notin (", false), (" in (", true)] {
        if let Some((k, rest)) = text.split_once(op) {
            let values: Vec<&str> = rest.trim_end_matches(')').split(',').collect();
            let found = labels.get(k).is_some_and(|v| values.contains(&v.as_str()));
            return if member { found } else { !found };
        }
    }
    for (op, equal) in [("==", true), ("!=", false), ("=", true)] {
        if let Some((k, v)) = text.split_once(op) {
            let found = labels.get(k).is_some_and(|have| have == v);
            return if equal { found } else { !found };
        }
    }
    labels.contains_key(text)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// R23: the selector reader never panics, whatever it is given.
    #[test]
    fn r23_selector_parsing_never_panics(text in "\\PC{0,80}|[a-z=!,() .\\-/]{0,40}") {
        let _ = registry_credentials::metadata::Selector::parse(&text);
    }

    /// R23: every selector of the grammar reads, writes back to a
    /// selector that reads the same, and matches exactly when each of its
    /// requirements holds by the oracle; R22: labels merge as a patch says.
    #[test]
    fn r22_r23_selectors_match_by_the_oracle(
        text in registry_credentials::strategies::selector(),
        pairs in registry_credentials::strategies::labels(),
    ) {
        use registry_credentials::metadata::{Metadata, MetadataPatch, Selector};
        let selector: Selector = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        let again: Selector = selector.to_string().parse().unwrap();
        prop_assert_eq!(&again, &selector);
        let mut meta = Metadata::default();
        meta.merge(&MetadataPatch::labels(pairs.iter().map(|(k, v)| (k.as_str(), Some(v.as_str())))))
            .unwrap();
        let oracle: std::collections::BTreeMap<String, String> = pairs.into_iter().collect();
        let want = requirements_of(&text).all(|r| requirement_holds(r, &oracle));
        prop_assert_eq!(selector.matches(meta.labels()), want, "{}", text);
    }
}
