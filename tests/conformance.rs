//! Runs the conformance vectors (R1–R15): the project's own copy, and the
//! shared one when it is present beside the repository.

mod support {
    pub mod conformance;
}

use support::conformance;

fn run_file(path: &str) -> conformance::Report {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    conformance::run(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every case of the file at `path` passes, and there are at least
/// `cases` of them: a file that lost cases (or a runner that skipped them)
/// would pass with fewer.
fn all_pass(path: &str, cases: usize) {
    let report = run_file(path);
    assert!(report.passed >= cases, "{path}: {}", report.summary());
    assert!(report.failures.is_empty(), "{path}: {:#?}", report.failures);
}

#[test]
#[cfg_attr(not(feature = "psl"), ignore = "R9/R11 cases need the `psl` feature")]
fn r1_to_r15_project_vectors_all_pass() {
    all_pass(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/vectors.json"),
        226,
    );
}

#[test]
#[cfg_attr(not(feature = "psl"), ignore = "R9/R11 cases need the `psl` feature")]
fn r1_to_r15_shared_vectors_all_pass() {
    // The repository's copy of the shared vectors; CI also runs the
    // conformance example on the shared file itself.
    all_pass(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/shared-vectors.json"
        ),
        51,
    );
}

#[test]
#[cfg_attr(not(feature = "psl"), ignore = "R9/R11 cases need the `psl` feature")]
fn r1_to_r15_spec_review_vectors_all_pass() {
    // 552 cases written from SPEC.md's text alone by a reviewer who had not
    // read the crate, checked against distribution/reference where the
    // rules are silent.
    all_pass(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/spec-review-vectors.json"
        ),
        552,
    );
}

#[test]
fn the_runner_refuses_unknown_top_level_keys() {
    let e = conformance::run(r#"{"references": [], "resolution": []}"#).unwrap_err();
    assert!(e.contains("unknown top-level key `resolution`"), "{e}");
    assert!(conformance::run("[]").is_err());
}

#[test]
fn the_runner_reports_wrong_expectations() {
    let text = r#"{
      "references": [
        {"input": "nginx", "name": "docker.io/nginx", "candidates": ["docker.io"]},
        {"input": "nginx", "error": true},
        {"input": "", "name": "x"}
      ],
      "locations": [
        {"input": "https://a.example.com", "error": true, "hint": "nope.example.com"},
        {"input": "A.example.com", "normalized": "A.example.com"}
      ],
      "resolutions": [
        {"name": "wrong winner",
         "credentials": [{"scope": "foundation", "location": "docker.io", "username": "u"}],
         "app": {"org": "o", "space": "s", "app": "a"},
         "image": "nginx",
         "expect": null}
      ]
    }"#;
    let report = conformance::run(text).unwrap();
    assert_eq!(report.passed, 0, "{report:?}");
    assert_eq!(report.failures.len(), 6, "{report:?}");
    assert_eq!(report.summary(), "0 passed, 6 failed");
    assert!(report.failures[0].contains("nginx"));
    assert!(conformance::run("not json").is_err());
}

/// A resolution case: the foundation holds `stored` (location, username),
/// app `a` of space `s` of organization `o` pulls `image`, and the
/// foundation's credential `expect` (location, username) must win.
fn foundation_case(
    name: &str,
    stored: &[(&str, &str)],
    image: &str,
    expect: (&str, &str),
) -> serde_json::Value {
    let foundation = |(location, username): (&str, &str)| serde_json::json!({"scope": "foundation", "location": location, "username": username});
    serde_json::json!({
        "name": name,
        "credentials": stored.iter().copied().map(foundation).collect::<Vec<_>>(),
        "app": {"org": "o", "space": "s", "app": "a"},
        "image": image,
        "expect": foundation(expect),
    })
}

#[test]
fn r9_r16_credentials_the_platform_refuses_are_not_stored() {
    let resolutions = [
        foundation_case(
            "R9 a public suffix is refused, the rest stored",
            &[("co.uk", "suffix"), ("example.co.uk", "ok")],
            "registry.example.co.uk/img",
            ("example.co.uk", "ok"),
        ),
        foundation_case(
            "R16 the second credential at one location is a conflict",
            &[("example.com", "first"), ("Example.com", "second")],
            "example.com/img",
            ("example.com", "first"),
        ),
        foundation_case(
            "a refused credential is reported when the case fails",
            &[("https://x.example.com", "u")],
            "x.example.com/img",
            ("x.example.com", "u"),
        ),
    ];
    let text = serde_json::json!({ "resolutions": resolutions }).to_string();
    let report = conformance::run(&text).unwrap();
    assert_eq!(report.passed, 2, "{report:?}");
    assert_eq!(report.failures.len(), 1);
    assert!(
        report.failures[0].contains("refused to store"),
        "{report:?}"
    );
}
