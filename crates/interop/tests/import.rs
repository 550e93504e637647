//! Reading credentials files: keys to locations as the peers read them,
//! secrets decoded and checked, and a report line for every key.

use base64::Engine as _;
use registry_credentials::CredentialKind;
use registry_credentials_interop::import::{
    Form, Outcome, ReadError, Skip, Warning, location_of_key, read, read_auths, read_dockercfg,
    read_kubernetes_secret,
};

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn b64_unpadded(s: &str) -> String {
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(s)
}

fn one(json: &str) -> Result<(String, String, String), Skip> {
    let import = read(json.as_bytes()).unwrap();
    if let Some(s) = import.skipped.first() {
        return Err(s.reason.clone());
    }
    let e = &import.entries[0];
    Ok((
        e.location.to_string(),
        e.credential.username().to_string(),
        e.credential.password().expose().to_owned(),
    ))
}

#[test]
fn r4_r7_keys_map_to_locations_as_the_peers_read_them() {
    // (key, in an auths document, in a legacy .dockercfg where that differs)
    let table = [
        ("https://index.docker.io/v1/", "docker.io", None),
        ("http://index.docker.io/v1/", "docker.io", None),
        ("index.docker.io", "docker.io", None),
        ("registry-1.docker.io", "docker.io", None),
        ("registry.hub.docker.com", "docker.io", None),
        ("docker.io/library", "docker.io/library", Some("docker.io")),
        (
            "https://registry.example.com/team",
            "registry.example.com",
            None,
        ),
        (
            "https://registry.example.com:5000/v2/",
            "registry.example.com:5000",
            None,
        ),
        ("quay.io/org", "quay.io/org", Some("quay.io")),
        ("Quay.IO/org", "quay.io/org", Some("quay.io")),
        ("localhost:5000", "localhost:5000", None),
        ("127.0.0.1:55000", "127.0.0.1:55000", None),
        // R4: with a port, `index.docker.io` is not Docker Hub.
        ("index.docker.io:443", "index.docker.io:443", None),
    ];
    for (key, auths, legacy) in table {
        assert_eq!(
            location_of_key(key, false).unwrap().0.as_str(),
            auths,
            "{key}"
        );
        assert_eq!(
            location_of_key(key, true).unwrap().0.as_str(),
            legacy.unwrap_or(auths),
            "{key} legacy"
        );
    }
}

#[test]
fn r8_r9_wildcards_public_suffixes_and_bad_keys_are_skipped() {
    assert_eq!(
        location_of_key("*.example.com", false).unwrap_err(),
        Skip::Wildcard
    );
    assert_eq!(
        location_of_key("https://*.azurecr.io", false).unwrap_err(),
        Skip::Wildcard
    );
    // R9: a public suffix, however written.
    for key in ["com", "https://co.uk/v1/", "github.io"] {
        assert_eq!(
            location_of_key(key, false).unwrap_err(),
            Skip::PublicSuffix,
            "{key}"
        );
    }
    for key in [
        "",
        "registry.example.com/Team",
        "user@registry.example.com",
        "a b",
    ] {
        assert!(
            matches!(location_of_key(key, false), Err(Skip::Location(_))),
            "{key}"
        );
    }
}

#[test]
fn r10_a_key_that_may_name_a_repository_warns() {
    assert_eq!(
        location_of_key("quay.io/org/image", false).unwrap().1,
        Some(Warning::Repository)
    );
    assert_eq!(location_of_key("quay.io/org", false).unwrap().1, None);
    assert_eq!(location_of_key("quay.io", false).unwrap().1, None);
    let file = format!(
        r#"{{"auths":{{"quay.io/org/image":{{"auth":"{}"}}}}}}"#,
        b64("u:p")
    );
    let import = read(file.as_bytes()).unwrap();
    assert_eq!(import.entries[0].location.as_str(), "quay.io/org/image");
    let report = import.report().to_string();
    assert!(
        report.contains("does not serve it, only images below it (R10)"),
        "{report}"
    );
}

#[test]
fn auth_is_decoded_padded_or_not_split_at_the_first_colon_nul_trimmed() {
    let doc = |auth: &str| format!(r#"{{"auths":{{"r.example.com":{{"auth":"{auth}"}}}}}}"#);
    let expected = (
        "r.example.com".to_owned(),
        "me".to_owned(),
        "pa:ss".to_owned(),
    );
    assert_eq!(one(&doc(&b64("me:pa:ss"))).unwrap(), expected);
    assert_eq!(one(&doc(&b64_unpadded("me:pa:ss"))).unwrap(), expected);
    assert_eq!(one(&doc(&b64("me:pa:ss\0\0"))).unwrap(), expected);
    // NUL bytes at either end of the password, as Docker trims them.
    assert_eq!(one(&doc(&b64("me:\0pa:ss\0"))).unwrap(), expected);
    assert_eq!(
        one(&doc("not base64!")).unwrap_err(),
        Skip::Auth("is not base64")
    );
    assert!(matches!(
        one(&doc(&b64("no-colon"))).unwrap_err(),
        Skip::Auth(_)
    ));
    // R16: the password may not be empty.
    assert!(matches!(
        one(&doc(&b64("me:"))).unwrap_err(),
        Skip::Password(_)
    ));
    assert!(matches!(
        one(&doc(&b64(":pw"))).unwrap_err(),
        Skip::Username(_)
    ));
}

/// Go's base64 decoder, which the Docker CLI reads `auth` with, skips
/// `\r` and `\n` wherever they stand: a value copied from `base64`'s
/// output (which ends in a line break, and wraps at 76 columns) is read.
#[test]
fn auth_with_line_breaks_is_read_as_docker_reads_it() {
    let doc =
        |auth: &str| serde_json::json!({"auths": {"r.example.com": {"auth": auth}}}).to_string();
    let long = format!("me:{}", "p".repeat(80));
    let wrapped = b64(&long);
    let (head, tail) = wrapped.split_at(76);
    for auth in [
        format!("{}\n", b64("me:pa:ss")),
        format!("{}\r\n", b64("me:pa:ss")),
        format!("{}\n", b64_unpadded("me:pa:ss")),
        format!("\n{}", b64("me:pa:ss")),
    ] {
        let (_, user, password) = one(&doc(&auth)).unwrap();
        assert_eq!(
            (user.as_str(), password.as_str()),
            ("me", "pa:ss"),
            "{auth:?}"
        );
    }
    let (_, _, password) = one(&doc(&format!("{head}\n{tail}\n"))).unwrap();
    assert_eq!(password, "p".repeat(80));
    // Other white space is no base64, for Docker either.
    for auth in [format!("{} ", b64("me:pw")), format!("{}\t", b64("me:pw"))] {
        assert_eq!(one(&doc(&auth)).unwrap_err(), Skip::Auth("is not base64"));
    }
}

/// A key twice in one object, anywhere in the file, refuses the file with
/// the key's path and place; the value is never repeated. Both peers keep
/// the last of two keys, serde_json's maps too: which was meant is a guess.
#[test]
fn a_key_twice_in_one_object_refuses_the_file_naming_the_key_not_its_value() {
    let secret = "Hunter2-secret";
    let cases = [
        (
            format!(r#"{{"auths": {{}}, "auths": {{"r.example.com": {{"auth": "{secret}"}}}}}}"#),
            r#""auths""#,
            1,
        ),
        (
            format!(
                "{{\"auths\": {{\n  \"r.example.com\": {{\"auth\": \"{0}\"}},\n  \"r.example.com\": {{\"auth\": \"{0}\"}}\n}}}}",
                b64(&format!("me:{secret}"))
            ),
            r#""auths"."r.example.com""#,
            3,
        ),
        (
            format!(
                r#"{{"auths": {{"r.example.com": {{"username": "me", "password": "{secret}", "password": "{secret}2"}}}}}}"#
            ),
            r#""auths"."r.example.com"."password""#,
            1,
        ),
        // A .dockercfg, and an `auths` key that carries user info.
        (
            format!(
                r#"{{"https://me:{secret}@r.example.com": {{}}, "https://me:{secret}@r.example.com": {{}}}}"#
            ),
            r#""https://<redacted>@r.example.com""#,
            1,
        ),
        (
            r#"{"credHelpers": {"gcr.io": "gcloud", "gcr.io": "other"}}"#.to_owned(),
            r#""credHelpers"."gcr.io""#,
            1,
        ),
    ];
    for (file, path, line) in &cases {
        let e = read(file.as_bytes()).unwrap_err();
        match &e {
            ReadError::DuplicateKey {
                path: p, line: l, ..
            } => assert_eq!((p.as_str(), l), (*path, line), "{file}"),
            other => panic!("{file}: {other:?}"),
        }
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(secret), "{shown}");
        assert!(
            e.to_string().starts_with(&format!(
                "the key {path} appears twice in one object (line {line}, column "
            )),
            "{e}"
        );
    }
    // Inside a Kubernetes secret's data, the document it holds is read the
    // same way.
    let inner = r#"{"auths": {"r.example.com": {"auth": "a"}, "r.example.com": {"auth": "b"}}}"#;
    let secret_doc = serde_json::json!({
        "kind": "Secret",
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": b64(inner)}
    })
    .to_string();
    assert!(matches!(
        read(secret_doc.as_bytes()),
        Err(ReadError::DuplicateKey { ref path, .. }) if path == r#""auths"."r.example.com""#
    ));
    // And the secret's own keys.
    let twice = r#"{"kind": "Secret", "type": "kubernetes.io/dockerconfigjson", "type": "Opaque", "data": {}}"#;
    assert!(matches!(
        read_kubernetes_secret(twice.as_bytes()),
        Err(ReadError::DuplicateKey { ref path, .. }) if path == r#""type""#
    ));
}

/// Many keys, many of them naming one location twice: each is matched
/// against the first key of its location once, and the report is whole.
#[test]
fn two_keys_for_one_location_at_scale() {
    const N: usize = 20_000;
    let mut auths = serde_json::Map::new();
    for i in 0..N {
        let auth = serde_json::json!({"auth": b64(&format!("user{i}:pw{i}"))});
        auths.insert(format!("r{i}.example.com"), auth.clone());
        // Every tenth location again, as a URL: the same credential for
        // even ones, another for odd ones.
        if i % 10 == 0 {
            let other = if i % 20 == 0 {
                auth
            } else {
                serde_json::json!({"auth": b64("x:y")})
            };
            auths.insert(format!("https://r{i}.example.com"), other);
        }
    }
    let file = serde_json::json!({ "auths": auths }).to_string();
    let import = read(file.as_bytes()).unwrap();
    let same = import
        .skipped
        .iter()
        .filter(|s| matches!(s.reason, Skip::SameAs { .. }))
        .count();
    let duplicate = import
        .skipped
        .iter()
        .filter(|s| matches!(s.reason, Skip::Duplicate { .. }))
        .count();
    assert_eq!(same, N / 20);
    assert_eq!(duplicate, 2 * (N / 20));
    assert_eq!(import.entries.len(), N - N / 20);
    assert_eq!(import.report().lines.len(), N + N / 10);
}

#[test]
fn username_and_password_fields_stand_in_for_auth_and_must_agree_with_it() {
    let plain = r#"{"auths":{"r.example.com":{"username":"me","password":"pw"}}}"#;
    assert_eq!(one(plain).unwrap().1, "me");
    let agree = format!(
        r#"{{"auths":{{"r.example.com":{{"auth":"{}","username":"me","password":"pw"}}}}}}"#,
        b64("me:pw")
    );
    assert_eq!(one(&agree).unwrap().2, "pw");
    let contradict = format!(
        r#"{{"auths":{{"r.example.com":{{"auth":"{}","username":"you"}}}}}}"#,
        b64("me:pw")
    );
    assert_eq!(one(&contradict).unwrap_err(), Skip::Contradiction);
    let contradict = format!(
        r#"{{"auths":{{"r.example.com":{{"auth":"{}","password":"other"}}}}}}"#,
        b64("me:pw")
    );
    assert_eq!(one(&contradict).unwrap_err(), Skip::Contradiction);
    let half = r#"{"auths":{"r.example.com":{"username":"me"}}}"#;
    assert_eq!(one(half).unwrap_err(), Skip::NoSecret);
}

#[test]
fn r16_usernames_that_could_forge_a_line_are_refused() {
    for bad in [
        "a:b",
        "a b",
        "a\tb",
        "a\u{2028}b",
        "a\u{202e}b",
        "a\u{200b}b",
        "a\u{feff}b",
        "a\u{85}b",
    ] {
        let json =
            serde_json::json!({"auths": {"r.example.com": {"username": bad, "password": "pw"}}});
        let import = read(json.to_string().as_bytes()).unwrap();
        assert!(import.entries.is_empty(), "{bad:?}");
        let Skip::Username(why) = &import.skipped[0].reason else {
            panic!("{bad:?}: {:?}", import.skipped)
        };
        // The message names the character, never prints it raw.
        assert!(why.contains("U+"), "{why}");
        assert!(!import.report().to_string().contains(bad), "{bad:?}");
    }
}

#[test]
fn secrets_kept_elsewhere_are_reported_not_imported() {
    let file = format!(
        r#"{{
        "auths": {{
            "ghcr.io": {{}},
            "gcr.io": {{"auth": "{}"}},
            "quay.io": {{"auth": "{}"}}
        }},
        "credHelpers": {{"gcr.io": "gcloud", "123456789012.dkr.ecr.us-east-1.amazonaws.com": "ecr-login"}},
        "credsStore": "desktop"
    }}"#,
        b64("old:stale"),
        b64("robot:pw")
    );
    let import = read(file.as_bytes()).unwrap();
    assert_eq!(import.form, Form::Auths);
    assert_eq!(import.entries.len(), 1);
    assert_eq!(import.entries[0].location.as_str(), "quay.io");
    let reasons: Vec<(&str, &Skip)> = import
        .skipped
        .iter()
        .map(|s| (s.key.as_str(), &s.reason))
        .collect();
    assert!(
        matches!(reasons[0], ("123456789012.dkr.ecr.us-east-1.amazonaws.com", Skip::Helper { helper }) if helper == "ecr-login")
    );
    assert!(matches!(reasons[1], ("gcr.io", Skip::Helper { .. })));
    assert!(
        matches!(reasons[2], ("gcr.io", Skip::ShadowedByHelper { helper }) if helper == "gcloud")
    );
    assert!(matches!(reasons[3], ("ghcr.io", Skip::Store { store }) if store == "desktop"));
    // None of these is a failure: the rest of an import goes on.
    assert!(!import.has_failures());
    let report = import.report().to_string();
    assert_eq!(report.lines().count(), 5, "{report}");
    assert!(
        report.contains("found     `quay.io` as `quay.io`, user `robot`"),
        "{report}"
    );
    assert!(!report.contains("stale"), "{report}");
}

/// R24: tokens are imported with their kind, as Docker and containers
/// write them: an `identitytoken` beside `auth` of `username:` (what
/// `az acr login` leaves), one alone, and a `registrytoken`.
#[test]
fn r24_identity_and_registry_tokens_are_imported_with_their_kind() {
    let file = format!(
        r#"{{
        "auths": {{
            "myregistry.azurecr.io": {{"auth": "{}", "identitytoken": "eyJ.refresh"}},
            "alone.example.com": {{"identitytoken": "refresh-alone"}},
            "tokens.example.com": {{"registrytoken": "bearer-abc"}},
            "robot.example.com": {{"username": "robot", "registrytoken": "bearer-robot"}}
        }}
    }}"#,
        b64("00000000-0000-0000-0000-000000000000:")
    );
    let import = read(file.as_bytes()).unwrap();
    assert!(import.skipped.is_empty(), "{:?}", import.skipped);
    let got: Vec<(&str, &str, CredentialKind, &str)> = import
        .entries
        .iter()
        .map(|e| {
            (
                e.location.as_str(),
                e.credential.username().as_str(),
                e.credential.kind(),
                e.credential.password().expose(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "alone.example.com",
                "<token>",
                CredentialKind::IdentityToken,
                "refresh-alone"
            ),
            (
                "myregistry.azurecr.io",
                "00000000-0000-0000-0000-000000000000",
                CredentialKind::IdentityToken,
                "eyJ.refresh"
            ),
            (
                "robot.example.com",
                "robot",
                CredentialKind::RegistryToken,
                "bearer-robot"
            ),
            (
                "tokens.example.com",
                "<token>",
                CredentialKind::RegistryToken,
                "bearer-abc"
            ),
        ]
    );
    let report = import.report().to_string();
    assert!(
        !report.contains("eyJ") && !report.contains("bearer"),
        "{report}"
    );
    assert!(
        report.contains(
            "`tokens.example.com` as `tokens.example.com`, user `<token>`, registry token"
        ),
        "{report}"
    );
    assert!(!format!("{import:?}").contains("bearer"));
}

#[test]
fn two_keys_for_one_location() {
    let same = format!(
        r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{0}"}},"docker.io":{{"auth":"{0}"}}}}}}"#,
        b64("me:pw")
    );
    let import = read(same.as_bytes()).unwrap();
    assert_eq!(import.entries.len(), 1);
    assert!(matches!(import.skipped[0].reason, Skip::SameAs { .. }));
    assert!(!import.has_failures());
    let different = format!(
        r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{}"}},"docker.io":{{"auth":"{}"}}}}}}"#,
        b64("me:pw"),
        b64("you:pw")
    );
    let import = read(different.as_bytes()).unwrap();
    assert!(import.entries.is_empty());
    assert_eq!(import.skipped.len(), 2);
    assert!(
        import
            .skipped
            .iter()
            .all(|s| matches!(s.reason, Skip::Duplicate { .. }))
    );
    assert!(import.has_failures());
}

#[test]
fn legacy_dockercfg_keys_are_hosts() {
    let file = format!(
        r#"{{"https://index.docker.io/v1/":{{"auth":"{}","email":"me@example.com"}},"quay.io/org":{{"auth":"{}"}}}}"#,
        b64("me:pw"),
        b64("robot:pw")
    );
    let import = read(file.as_bytes()).unwrap();
    assert_eq!(import.form, Form::DockerCfg);
    let locations: Vec<&str> = import.entries.iter().map(|e| e.location.as_str()).collect();
    assert_eq!(locations, ["docker.io", "quay.io"]);
    assert_eq!(read_dockercfg(file.as_bytes()).unwrap().entries.len(), 2);
}

#[test]
fn kubernetes_secrets_as_json() {
    let inner = format!(
        r#"{{"auths":{{"registry.example.com/team":{{"auth":"{}"}}}}}}"#,
        b64("me:pw")
    );
    let secret = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "regcred"},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": b64(&inner)}
    })
    .to_string();
    let import = read(secret.as_bytes()).unwrap();
    assert_eq!(import.form, Form::KubernetesDockerConfigJson);
    assert_eq!(
        import.entries[0].location.as_str(),
        "registry.example.com/team"
    );
    assert_eq!(
        read_kubernetes_secret(secret.as_bytes())
            .unwrap()
            .entries
            .len(),
        1
    );

    let legacy = serde_json::json!({
        "kind": "Secret",
        "type": "kubernetes.io/dockercfg",
        "data": {".dockercfg": b64(&format!(r#"{{"registry.example.com/team":{{"auth":"{}"}}}}"#, b64("me:pw")))}
    })
    .to_string();
    let import = read(legacy.as_bytes()).unwrap();
    assert_eq!(import.form, Form::KubernetesDockerCfg);
    assert_eq!(import.entries[0].location.as_str(), "registry.example.com");

    let opaque = r#"{"kind":"Secret","type":"Opaque","data":{}}"#;
    assert!(matches!(read(opaque.as_bytes()), Err(ReadError::Secret(_))));
    let missing = r#"{"kind":"Secret","type":"kubernetes.io/dockerconfigjson","data":{}}"#;
    assert!(matches!(
        read(missing.as_bytes()),
        Err(ReadError::Secret(_))
    ));
    let garbled = r#"{"kind":"Secret","type":"kubernetes.io/dockerconfigjson","data":{".dockerconfigjson":"!!"}}"#;
    assert!(matches!(
        read(garbled.as_bytes()),
        Err(ReadError::SecretData)
    ));
}

#[test]
fn not_a_credentials_file() {
    for bad in ["", "[]", "{\"auths\": []}", "not json"] {
        let e = read(bad.as_bytes()).unwrap_err();
        assert!(matches!(e, ReadError::Json { .. }), "{bad}");
    }
    assert!(read_auths(b"{}").unwrap().entries.is_empty());
}

#[test]
fn r21_a_mangled_file_does_not_echo_its_secrets() {
    // serde_json's message would quote the string it did not expect.
    for bad in [
        r#"{"auths": {"r.example.com": "me:Hunter2-secret"}}"#,
        r#"{"auths": "Hunter2-secret"}"#,
        r#"{"auths": {"r.example.com": {"password": "Hunter2-secret", "auth": 5}}}"#,
    ] {
        let e = read(bad.as_bytes()).unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains("Hunter2"), "{shown}");
        assert!(
            matches!(
                e,
                ReadError::Json {
                    line: 1,
                    syntax: false,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(std::error::Error::source(&e).is_none());
    }
}

#[test]
fn r21_no_password_in_debug_report_or_errors() {
    let secret = "Hunter2-secret";
    let file = serde_json::json!({"auths": {
        "registry.example.com": {"auth": b64(&format!("me:{secret}"))},
        "bad.example.com": {"auth": b64(&format!("me:{secret}")), "password": "other-secret"},
        "com": {"auth": b64(&format!("me:{secret}"))},
        "x\u{1b}[31m.example.com": {"auth": b64(&format!("me:{secret}"))},
        (format!("https://me:{secret}@r.example.com")): {"auth": b64("me:pw")},
    }})
    .to_string();
    let import = read(file.as_bytes()).unwrap();
    let shown = format!("{import:?} {import:#?} {}", import.report());
    assert!(
        !shown.contains(secret) && !shown.contains("other-secret"),
        "{shown}"
    );
    assert!(!shown.contains(&b64(&format!("me:{secret}"))), "{shown}");
    // Keys are escaped: no terminal escape reaches the report (R21).
    assert!(!import.report().to_string().contains('\u{1b}'));
    let lines: Vec<String> = import
        .report()
        .lines
        .iter()
        .map(|l| l.to_string())
        .collect();
    assert_eq!(lines.len(), 5);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("`https://<redacted>@r.example.com`")),
        "{lines:?}"
    );
    let found = import
        .report()
        .lines
        .iter()
        .any(|l| l.outcome == Outcome::Found);
    assert!(found);
}
