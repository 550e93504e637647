//! The properties the fuzz targets check, one function per target.
//!
//! This file is compiled twice: into the fuzz targets (`fuzz/fuzz_targets/`)
//! and into `tests/fuzz_regressions.rs`, which replays every input a fuzzer
//! ever failed on. Each function panics when a property fails; a parser that
//! panics on its own fails the same way.
//!
//! The rules named (R1–R12, "Printing") are those of `RULES.md`.
#![allow(dead_code)] // each fuzz target uses one of the functions

use registry_credentials::candidates::CandidateKind;
use registry_credentials::host::DOCKER_HUB_ALIASES;
use registry_credentials::location::LocationErrorKind;
use registry_credentials::{Location, Reference};

/// The message of `error`, a parser's refusal of `s`, after checking that
/// it names the input (`what`) and the byte of the fault, which lies within
/// what a parser reads of `s`.
fn refusal_message(s: &str, error: &dyn std::fmt::Display, what: &str, position: usize) -> String {
    let msg = error.to_string();
    assert!(msg.starts_with(&format!("{what} at byte ")), "{msg}");
    let read = s
        .len()
        .min(registry_credentials::reference::MAX_REFERENCE_LEN);
    assert!(
        position <= read,
        "position {position} past the input in {msg}"
    );
    msg
}

/// `parse_reference`: parse any input; an accepted reference keeps every
/// invariant, a refused one has a well-formed error.
pub fn reference(s: &str) {
    match Reference::parse(s) {
        Ok(r) => reference_invariants(s, &r),
        Err(e) => {
            refusal_message(s, &e, "invalid image reference", e.position());
            if let Some(h) = e.hint() {
                // R6: a hint is offered only when it is itself valid.
                assert!(Reference::parse(h).is_ok(), "hint {h:?} does not parse");
                assert!(!h.contains('@'), "hint {h:?} keeps user information");
            }
        }
    }
}

/// `parse_location`: the same for locations (R7–R9).
pub fn location(s: &str) {
    match Location::parse(s) {
        Ok(l) => location_invariants(&l),
        Err(e) => {
            let msg = refusal_message(s, &e, "invalid registry location", e.position());
            if let Some(h) = e.hint() {
                // R8: the hint is the fix, so it must be accepted as is.
                let fixed = Location::parse(h)
                    .unwrap_or_else(|e2| panic!("hint {h:?} for {s:?} is refused: {e2}"));
                assert_eq!(
                    fixed.as_str(),
                    Location::parse(fixed.as_str()).unwrap().as_str()
                );
                assert!(!h.contains('@'), "hint {h:?} keeps user information");
            }
            let digest = e.kind() == &LocationErrorKind::Digest;
            no_user_info_in(s, &msg, digest);
        }
    }
}

/// `round_trip`: print and parse again (SPEC "Printing"), for references
/// and locations, through `Display` and (with `serde`) through JSON.
pub fn round_trip(s: &str) {
    if let Ok(r) = Reference::parse(s) {
        let printed = r.to_string();
        let again = Reference::parse(&printed)
            .unwrap_or_else(|e| panic!("{printed:?} printed from {s:?} is refused: {e}"));
        same_reference(&r, &again);
        #[cfg(feature = "serde")]
        {
            let json = serde_json::to_string(&r).unwrap();
            let back: Reference = serde_json::from_str(&json).unwrap();
            same_reference(&r, &back);
        }
        // The normalized name with the same tag and digest reads back as an
        // equal reference wherever its host is recognised without capitals.
        if let Some(full) = normalized_full(&r) {
            let n = Reference::parse(&full)
                .unwrap_or_else(|e| panic!("normalized {full:?} of {s:?} is refused: {e}"));
            assert_eq!(n, r, "normalized {full:?} of {s:?}");
            assert_eq!(n.name(), r.name());
            assert_eq!(n.as_str(), full, "a normalized name prints as itself");
        }
    }
    if let Ok(l) = Location::parse(s) {
        let printed = l.to_string();
        let again = Location::parse(&printed)
            .unwrap_or_else(|e| panic!("{printed:?} printed from {s:?} is refused: {e}"));
        assert_eq!(again, l);
        assert_eq!(
            again.as_str(),
            printed,
            "R7: the normal form is a fixed point"
        );
        assert_eq!(
            (again.registry(), again.port(), again.path(), again.host()),
            { (l.registry(), l.port(), l.path(), l.host()) }
        );
        #[cfg(feature = "serde")]
        {
            let json = serde_json::to_string(&l).unwrap();
            let back: Location = serde_json::from_str(&json).unwrap();
            assert_eq!(back, l);
        }
    }
}

/// R2: the registry part of a normalized name is read back as a host when
/// it has a `.` or `:` or is `localhost`. A host recognised only by its
/// capitals (`Foo/bar`) is not, as SPEC "Printing" says.
fn registry_reads_as_host(registry: &str) -> bool {
    registry == "localhost" || registry.contains('.') || registry.contains(':')
}

/// `name[:tag][@digest]`, when it should read back (see above).
fn normalized_full(r: &Reference) -> Option<String> {
    if !registry_reads_as_host(r.registry()) {
        return None;
    }
    let mut full = r.name().to_owned();
    if let Some(t) = r.tag() {
        full.push(':');
        full.push_str(t);
    }
    if let Some(d) = r.digest() {
        full.push('@');
        full.push_str(d);
    }
    Some(full)
}

fn same_reference(a: &Reference, b: &Reference) {
    assert_eq!(a, b);
    assert_eq!(a.as_str(), b.as_str());
    assert_eq!(a.name(), b.name());
    assert_eq!(a.registry(), b.registry());
    assert_eq!(a.host(), b.host());
    assert_eq!(a.port(), b.port());
    assert_eq!(a.path(), b.path());
    assert_eq!(a.tag(), b.tag());
    assert_eq!(a.digest(), b.digest());
    assert_eq!(a.has_host(), b.has_host());
    assert!(a.candidates().eq(b.candidates()));
}

fn reference_invariants(s: &str, r: &Reference) {
    // Printing: as written.
    assert_eq!(r.as_str(), s);
    assert_eq!(r.to_string(), s);
    // R1: the normalized name.
    let name = r.name();
    assert!(
        name.len() <= registry_credentials::reference::MAX_NAME_LEN,
        "{name}"
    );
    assert_eq!(name, format!("{}/{}", r.registry(), r.path()));
    assert!(!name.bytes().any(|b| b.is_ascii_uppercase()), "R4: {name}");
    assert!(name.is_ascii(), "R5: {name}");
    assert!(!r.path().is_empty() && !r.path().split('/').any(str::is_empty));
    assert_eq!(Some(r.image_name()), r.path().rsplit('/').next());
    assert!(r.registry().starts_with(&r.host().to_string()));
    if let Some(t) = r.tag() {
        assert!(!t.is_empty() && t.len() <= registry_credentials::reference::MAX_TAG_LEN);
        assert!(s.contains(&format!(":{t}")));
    }
    if let Some(d) = r.digest() {
        assert!(s.ends_with(&format!("@{d}")));
    }
    host_ending_in_a_number_is_ipv4(r.host());
    // R3: no host means Docker Hub; one component gets `library/`.
    if !r.has_host() {
        assert_eq!(r.registry(), "docker.io");
    }
    if r.is_docker_hub() {
        assert!(r.path().contains('/'), "R3: {name}");
    }
    // Idempotent normalization: the name read back as a location is itself.
    match Location::parse(name) {
        Ok(l) => assert_eq!(l.as_str(), name, "R7 normal form of {name:?}"),
        Err(e) => assert_eq!(e.kind(), &LocationErrorKind::PublicSuffix, "{name:?}: {e}"),
    }
    candidates(r);
    // Parsing is a function of the input.
    same_reference(r, &Reference::parse(s).unwrap());
}

/// R10–R12: candidates are namespaces (prefixes of the name at a `/`), the
/// registry, then parent domains (suffixes of the host at a `.`, with the
/// same port), most specific first, each a valid location that serves `r`.
fn candidates(r: &Reference) {
    let name = r.name();
    let registry = r.registry();
    let host = r.host().to_string();
    let port = &registry[host.len()..];
    let list: Vec<_> = r.candidates().collect();
    let namespaces = r.path().matches('/').count();
    assert_eq!(
        list.iter()
            .filter(|c| c.kind() == CandidateKind::Namespace)
            .count(),
        namespaces,
        "R10: one namespace per component but the image name, for {name}"
    );
    let mut last_len = usize::MAX;
    let mut phase = 0;
    for c in &list {
        let text = c.as_str();
        assert!(text.len() < last_len, "R10: most specific first: {list:?}");
        last_len = text.len();
        match c.kind() {
            CandidateKind::Namespace => {
                assert_eq!(phase, 0, "{list:?}");
                assert!(name.starts_with(text) && name.as_bytes()[text.len()] == b'/');
                assert!(text.len() > registry.len(), "{text}");
            }
            CandidateKind::Registry => {
                assert!(phase < 1, "one registry candidate: {list:?}");
                phase = 1;
                assert_eq!(text, registry);
            }
            CandidateKind::ParentDomain => {
                assert!(phase >= 1, "{list:?}");
                phase = 2;
                // R12: the same port; R11: a proper suffix of the host at a
                // label boundary, with at least two labels.
                let parent = text
                    .strip_suffix(port)
                    .unwrap_or_else(|| panic!("R12: parent {text} of {registry} lost the port"));
                assert!(
                    host.ends_with(&format!(".{parent}")),
                    "R11: {parent} of {host}"
                );
                assert!(parent.contains('.'), "R11: {parent} is a single label");
            }
        }
        match Location::parse(text) {
            Ok(l)
                if c.kind() == CandidateKind::ParentDomain
                    && DOCKER_HUB_ALIASES.contains(&text) =>
            {
                // R11 as stated lists a parent that is a Docker Hub
                // alias; it never matches, as a location under an alias is
                // stored as `docker.io` (R4, R7).
                assert_eq!(l.as_str(), "docker.io");
            }
            Ok(l) => {
                assert_eq!(l.as_str(), text, "a candidate is in normal form");
                assert!(l.serves(r), "R10: {text} does not serve {name}");
            }
            Err(e) => {
                // R9: a location on a public suffix is refused at creation;
                // R11 never produces one.
                assert_eq!(e.kind(), &LocationErrorKind::PublicSuffix, "{text}: {e}");
                assert_ne!(c.kind(), CandidateKind::ParentDomain, "R11: {text}");
            }
        }
    }
    assert!(phase >= 1, "the registry is always a candidate: {list:?}");
}

/// R5: a host whose last label is a number (digits, or `0x` and hex) was
/// accepted only as an IPv4 address, never as a DNS name.
fn host_ending_in_a_number_is_ipv4(host: registry_credentials::host::Host<'_>) {
    if let registry_credentials::host::Host::Domain(d) = host {
        let last = d.rsplit('.').next().unwrap_or(d);
        let hex = last
            .strip_prefix("0x")
            .or_else(|| last.strip_prefix("0X"))
            .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
        let digits = !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit());
        assert!(
            !hex && !digits,
            "R5: {d} ends in a number but is a DNS name"
        );
    }
}

fn location_invariants(l: &Location) {
    let text = l.as_str();
    host_ending_in_a_number_is_ipv4(l.host());
    assert!(text.len() <= registry_credentials::reference::MAX_NAME_LEN);
    assert!(!text.bytes().any(|b| b.is_ascii_uppercase()), "R7: {text}");
    assert!(text.is_ascii());
    assert_eq!(l.to_string(), text);
    assert!(text.starts_with(l.registry()));
    assert!(l.registry().starts_with(&l.host().to_string()));
    match l.path() {
        Some(p) => {
            assert_eq!(text, format!("{}/{p}", l.registry()));
            assert!(!p.split('/').any(str::is_empty), "R8: {text}");
        }
        None => assert_eq!(text, l.registry()),
    }
    assert!(!text.contains('@'), "R8: {text}");
    let again = Location::parse(text).expect("R7: the normal form parses");
    assert_eq!(&again, l);
    assert_eq!(again.as_str(), text);
    // R10: a location serves the images right under it.
    if registry_reads_as_host(l.registry())
        && text.len() + 4 <= registry_credentials::reference::MAX_NAME_LEN
    {
        let image = format!("{text}/img");
        let r = Reference::parse(&image)
            .unwrap_or_else(|e| panic!("{image:?} under location {text:?} is refused: {e}"));
        assert!(l.serves(&r), "R10: {text} does not serve {image}");
    }
}

/// An error about user information never repeats it: what stands before
/// the last `@` may be `user:password`.
fn no_user_info_in(s: &str, msg: &str, digest: bool) {
    let Some(at) = s.rfind('@') else { return };
    if digest {
        // `host/repo@sha256:…`: before `@` is a location, not user info.
        return;
    }
    let user_info = &s[..at];
    // Short user info may appear in the fixed text of a message by chance.
    if user_info.len() >= 12 && !s[at + 1..].contains(user_info) {
        assert!(
            !msg.contains(user_info),
            "the message repeats the user information: {msg}"
        );
    }
}
