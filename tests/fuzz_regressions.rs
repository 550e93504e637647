//! Every input a fuzz target (`fuzz/`) failed on, replayed with the same
//! checks (`tests/support/fuzz_checks.rs`), plus the fuzzers' seed inputs. A new crash
//! input goes into the list of its target, with a comment saying what it
//! found.

#[path = "support/fuzz_checks.rs"]
mod checks;

use registry_credentials::Reference;
use registry_credentials::syntax::Fault;

/// Inputs `parse_reference` failed on.
const PARSE_REFERENCE: &[&[u8]] = &[
    // R11/R7: the parent domain `registry.hub.docker.com` is a candidate
    // (as R11 states it), but a location is never stored under a Docker
    // Hub alias (it becomes `docker.io`), so it can match nothing: the
    // check accepts such a parent, and checks that it normalizes to
    // `docker.io`.
    b"a.bccccccxl.registry.hub.docker.com/y/x/y",
];

/// Inputs `parse_location` failed on.
const PARSE_LOCATION: &[&[u8]] = &[];

/// Inputs `round_trip` failed on.
const ROUND_TRIP: &[&[u8]] = &[];

fn text(input: &[u8]) -> String {
    // As the fuzz targets read their bytes.
    String::from_utf8_lossy(input).into_owned()
}

#[test]
fn parse_reference_regressions() {
    for input in PARSE_REFERENCE {
        checks::reference(&text(input));
        checks::round_trip(&text(input));
    }
}

#[test]
fn parse_location_regressions() {
    for input in PARSE_LOCATION {
        checks::location(&text(input));
        checks::round_trip(&text(input));
    }
}

#[test]
fn round_trip_regressions() {
    for input in ROUND_TRIP {
        checks::round_trip(&text(input));
    }
}

#[test]
fn seeds_pass_every_check() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/fuzz-seeds");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let input = text(&std::fs::read(entry.unwrap().path()).unwrap());
        checks::reference(&input);
        checks::location(&input);
        checks::round_trip(&input);
        n += 1;
    }
    assert!(n >= 20, "the seeds are missing: {n} in {dir}");
}

#[test]
fn r11_parent_domains_are_listed_to_the_letter_even_when_an_alias() {
    let cands = |s: &str| -> Vec<String> {
        Reference::parse(s)
            .unwrap()
            .candidates()
            .map(|c| c.to_string())
            .collect()
    };
    assert_eq!(
        cands("x.registry.hub.docker.com/y/img"),
        [
            "x.registry.hub.docker.com/y",
            "x.registry.hub.docker.com",
            "registry.hub.docker.com",
            "hub.docker.com",
            "docker.com"
        ]
    );
    assert_eq!(
        cands("x.index.docker.io/img"),
        ["x.index.docker.io", "index.docker.io", "docker.io"]
    );
    // R12: with a port the alias is an ordinary host, kept as written.
    assert_eq!(
        cands("x.index.docker.io:5000/img"),
        [
            "x.index.docker.io:5000",
            "index.docker.io:5000",
            "docker.io:5000"
        ]
    );
}

/// The round-trip property (fuzz_checks.rs) at the input limit: a digest
/// is at most `MAX_DIGEST_LEN`, so that every accepted reference's
/// normalized form is accepted too. Without that bound `a@foo:` with 1,010
/// hex digits (1,016 bytes) would be accepted while its normalized form,
/// 18 bytes longer with `docker.io/library/`, is over the 1,024-byte input
/// limit.
#[test]
fn r1_r6_a_long_digest_keeps_the_normal_form_readable() {
    use registry_credentials::reference::{
        MAX_DIGEST_LEN, MAX_NAME_LEN, MAX_REFERENCE_LEN, ReferenceErrorKind,
    };
    let input = format!("a@foo:{}", "a".repeat(1010));
    let e = Reference::parse(&input).unwrap_err();
    assert_eq!(e.kind(), &ReferenceErrorKind::Syntax(Fault::DigestTooLong));
    assert_eq!(e.position(), 2 + MAX_DIGEST_LEN);
    checks::round_trip(&input);
    // The longest digest still fits with the longest name and tag.
    let digest = format!("foo:{}", "a".repeat(MAX_DIGEST_LEN - 4));
    let longest = format!(
        "{}:{}@{digest}",
        format_args!("example.com/{}", "a".repeat(MAX_NAME_LEN - 12)),
        "t".repeat(128)
    );
    assert_eq!(longest.len(), MAX_REFERENCE_LEN);
    let r = Reference::parse(&longest).unwrap();
    assert_eq!(r.digest(), Some(digest.as_str()));
    checks::reference(&longest);
    checks::round_trip(&longest);
    // With one more digit the digest is refused, whatever else is short.
    let over = format!("a@foo:{}", "a".repeat(MAX_DIGEST_LEN - 3));
    assert_eq!(
        Reference::parse(&over).unwrap_err().kind(),
        &ReferenceErrorKind::Syntax(Fault::DigestTooLong)
    );
}
