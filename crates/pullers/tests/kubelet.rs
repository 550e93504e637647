//! The kubelet provider binary over a SQLite store: node mode (R26),
//! service-account mode (KEP-4412) with RS256 and ES256 tokens signed by
//! the test keys of `tests/fixtures`, each refusal, and every answer read
//! back with a strict decoder of the v1 response, as kubelet reads it.

mod tokens;

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::process::{Command, Output, Stdio};

use tokens::{AUDIENCE, ISSUER, fixture, now, request, token};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use registry_credentials::store::conformance::{app_scope, cred, loc, org, space};
use registry_credentials::{Credential, CredentialStore, RegistryCredential, Scope};
use registry_credentials_sql::{EncryptionKey, Keyring, SqliteStore};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

// --- a strict decoder of the v1 response, as kubelet decodes it --------

/// `CredentialProviderResponse` v1: unknown fields and keys twice refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Response {
    api_version: String,
    kind: String,
    cache_key_type: CacheKeyType,
    cache_duration: Option<String>,
    #[serde(default)]
    auth: Option<AuthMap>,
}

#[derive(Debug, PartialEq, Eq, Deserialize)]
enum CacheKeyType {
    Image,
    Registry,
    Global,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthConfig {
    username: String,
    password: String,
}

#[derive(Debug, Default)]
struct AuthMap(BTreeMap<String, AuthConfig>);

impl<'de> Deserialize<'de> for AuthMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AuthMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of auth configs")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<AuthMap, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = m.next_entry::<String, AuthConfig>()? {
                    if out.insert(k.clone(), v).is_some() {
                        return Err(de::Error::custom(format!("auth key {k} twice")));
                    }
                }
                Ok(AuthMap(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// The response on `o`'s stdout, decoded strictly and checked as kubelet
/// checks it: the API version and kind exact, `cacheKeyType` `Image`, a
/// duration Go parses, every `auth` key one kubelet's `URLsMatch` applies
/// to `image` (the repository name: same host, the key's path a prefix).
fn decode(o: &Output, image: &str) -> (BTreeMap<String, (String, String)>, String) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: Response = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&o.stdout));
    });
    assert_eq!(r.api_version, "credentialprovider.kubelet.k8s.io/v1");
    assert_eq!(r.kind, "CredentialProviderResponse");
    assert_eq!(r.cache_key_type, CacheKeyType::Image);
    let duration = r.cache_duration.expect("a cacheDuration");
    let secs = duration.strip_suffix('s').expect("seconds");
    assert!(
        !secs.is_empty() && secs.bytes().all(|b| b.is_ascii_digit()),
        "{duration}"
    );
    let auth: BTreeMap<_, _> = r
        .auth
        .unwrap_or_default()
        .0
        .into_iter()
        .map(|(k, v)| {
            let (host, path) = k.split_once('/').unwrap_or((&k, ""));
            let (ihost, ipath) = image.split_once('/').unwrap();
            assert_eq!(host, ihost, "{k} is not for {image}'s registry");
            assert!(ipath.starts_with(path), "{k} does not match {image}");
            (k, (v.username, v.password))
        })
        .collect();
    (auth, duration)
}

#[test]
fn the_strict_decoder_refuses_what_kubelet_refuses() {
    let ok = br#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","cacheKeyType":"Image","cacheDuration":"0s"}"#;
    assert!(serde_json::from_slice::<Response>(ok).is_ok());
    for bad in [
        // the alpha's field, unknown to v1
        r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","cacheKeyType":"Image","serviceAccountTokenCacheType":"Token"}"#,
        r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","cacheKeyType":"Pod"}"#,
        r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","cacheKeyType":"Image","cacheKeyType":"Image"}"#,
        r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","cacheKeyType":"Image","auth":{"a/b":{"username":"u","password":"p"},"a/b":{"username":"u","password":"p"}}}"#,
        r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","cacheKeyType":"Image","auth":{"a/b":{"username":"u","password":"p","auth":"x"}}}"#,
    ] {
        assert!(serde_json::from_str::<Response>(bad).is_err(), "{bad}");
    }
}

// --- a store, keys, tokens, the binary -----------------------------------

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    /// A store with a credential at each scope of app `a` in space `s` of
    /// organization `o`, and at another organization `p`.
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let key = EncryptionKey::from_hex("k1", KEY).unwrap();
        let store = SqliteStore::open(dir.path().join("store.db"), Keyring::new(key)).unwrap();
        for (scope, location, user) in [
            (Scope::Foundation, "docker.io", "hub-user"),
            (Scope::Foundation, "registry.example.com", "foundation-user"),
            (org("o"), "registry.example.com", "org-user"),
            (org("p"), "quay.io", "other-org-user"),
            (space("s"), "registry.example.com/team", "space-user"),
            (app_scope("a"), "registry.example.com/team", "app-user"),
        ] {
            store
                .create(cred(scope, location, user, &format!("{user}-pw")))
                .unwrap();
        }
        let env = Env { dir };
        env.mapping(
            r#"{"serviceAccounts": [
                {"namespace": "shop", "name": "web", "app": "o/s/a"},
                {"namespace": "shop", "name": "worker", "space": "o/s"},
                {"namespace": "shop", "annotations": {"example.com/tier": "trusted"}, "org": "o"},
                {"namespace": "apps", "space": "o/s", "appFromAnnotation": "example.com/app"},
                {"namespace": "public", "foundation": true}
            ]}"#,
        );
        env
    }

    fn mapping(&self, json: &str) {
        std::fs::write(self.dir.path().join("mapping.json"), json).unwrap();
    }

    /// Checks that service-account mode refuses a request for `nginx`
    /// with the token `t` (see [`refused`]).
    fn refuses(&self, t: &str, why: &str) {
        refused(
            &self.run(&self.sa_args(), &[], &request("nginx", Some(t), &[])),
            why,
            Some(t),
        );
    }

    /// The arguments of service-account mode.
    fn sa_args(&self) -> Vec<String> {
        vec![
            format!("--jwks={}", fixture("issuer.jwks.json").display()),
            format!("--issuer={ISSUER}"),
            format!("--audience={AUDIENCE}"),
            format!(
                "--service-accounts={}",
                self.dir.path().join("mapping.json").display()
            ),
        ]
    }

    fn run(&self, args: &[String], env: &[(&str, &str)], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_registry-credentials-kubelet-provider"))
            .args(args)
            .env_clear()
            .env(
                "REGISTRY_CREDENTIALS_SQLITE",
                self.dir.path().join("store.db"),
            )
            .env("REGISTRY_CREDENTIALS_KEY", KEY)
            .env("REGISTRY_CREDENTIALS_KEY_ID", "k1")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A provider that refuses its configuration exits before reading.
        if let Err(e) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
        child.wait_with_output().unwrap()
    }
}

fn rs256(namespace: &str, name: &str) -> String {
    token(
        "issuer-rs256.der",
        Algorithm::RS256,
        "rs256-key",
        namespace,
        name,
        |_| {},
    )
}

/// A token of the service account shop/web signed with the issuer's RS256
/// key, its claims changed by `change`.
fn shop_web_with(change: impl FnOnce(&mut serde_json::Value)) -> String {
    token(
        "issuer-rs256.der",
        Algorithm::RS256,
        "rs256-key",
        "shop",
        "web",
        change,
    )
}

/// The one auth entry's username, or `None` for an empty `auth`.
fn user(o: &Output, image: &str) -> Option<String> {
    let (auth, _) = decode(o, image);
    assert!(auth.len() <= 1, "{auth:?}");
    auth.into_iter().next().map(|(k, (u, p))| {
        assert_eq!(k, image, "the key is the image's repository name");
        assert_eq!(p, format!("{u}-pw"));
        u
    })
}

/// A refusal: exit 1, nothing on stdout, `needle` on stderr, and no
/// password or token there.
fn refused(o: &Output, needle: &str, token: Option<&str>) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(err.contains(needle), "{err}");
    assert!(!err.contains("-pw"), "{err}");
    if let Some(t) = token {
        for part in t.split('.') {
            assert!(!err.contains(part), "{err}");
        }
    }
}

// --- node mode ------------------------------------------------------------

#[test]
fn r26_node_mode_answers_from_foundation_credentials_alone() {
    let env = Env::new();
    // The app, space and organization hold credentials for this image;
    // without a token only the foundation's serves.
    let image = "registry.example.com/team/app";
    let o = env.run(&[], &[], &request(&format!("{image}:1"), None, &[]));
    assert_eq!(user(&o, image).as_deref(), Some("foundation-user"));
    let o = env.run(&[], &[], &request("nginx", None, &[]));
    assert_eq!(
        user(&o, "docker.io/library/nginx").as_deref(),
        Some("hub-user")
    );
    // Service-account mode configured changes nothing for a request
    // without a token.
    let o = env.run(&env.sa_args(), &[], &request("quay.io/x/y", None, &[]));
    assert_eq!(user(&o, "quay.io/x/y"), None, "another organization's");
}

#[test]
fn r15_nothing_serves_is_a_valid_answer_with_an_empty_auth() {
    let env = Env::new();
    let o = env.run(
        &[],
        &[],
        &request(
            "ghcr.io/x/y@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            None,
            &[],
        ),
    );
    let (auth, duration) = decode(&o, "ghcr.io/x/y");
    assert!(auth.is_empty());
    // Left out, as kubelet's own encoding leaves an empty map out.
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(doc.get("auth").is_none(), "{doc}");
    assert_eq!(duration, "0s");
}

// --- service-account mode ---------------------------------------------------

#[test]
fn r14_service_account_mode_resolves_app_space_org_foundation() {
    let env = Env::new();
    let args = env.sa_args();
    let image = "registry.example.com/team/app";
    let ask = |t: &str, annotations: &[(&str, &str)]| {
        let o = env.run(&args, &[], &request(image, Some(t), annotations));
        user(&o, image)
    };
    // shop/web is the app: its own credential wins.
    assert_eq!(ask(&rs256("shop", "web"), &[]).as_deref(), Some("app-user"));
    // shop/worker is the space, signed with ES256.
    let es = token(
        "issuer-es256.der",
        Algorithm::ES256,
        "es256-key",
        "shop",
        "worker",
        |_| {},
    );
    assert_eq!(ask(&es, &[]).as_deref(), Some("space-user"));
    // Any other shop account with the annotation is the organization.
    let t = rs256("shop", "batch");
    assert_eq!(
        ask(&t, &[("example.com/tier", "trusted")]).as_deref(),
        Some("org-user")
    );
    // public/* is the foundation.
    assert_eq!(
        ask(&rs256("public", "any"), &[]).as_deref(),
        Some("foundation-user")
    );
    // The app named by an annotation, within the rule's space.
    let t = rs256("apps", "frontend");
    assert_eq!(
        ask(&t, &[("example.com/app", "a")]).as_deref(),
        Some("app-user")
    );
    assert_eq!(
        ask(&t, &[("example.com/app", "b")]).as_deref(),
        Some("space-user")
    );
}

#[test]
fn cache_duration_is_zero_by_default_and_configurable() {
    let env = Env::new();
    let o = env.run(&[], &[], &request("nginx", None, &[]));
    assert_eq!(decode(&o, "docker.io/library/nginx").1, "0s");
    let mut args = env.sa_args();
    args.push("--cache-duration=5m".into());
    let o = env.run(
        &args,
        &[],
        &request("nginx", Some(&rs256("shop", "web")), &[]),
    );
    assert_eq!(decode(&o, "docker.io/library/nginx").1, "300s");
    let o = env.run(&["--cache-duration=5".into()], &[], "");
    assert_ne!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a duration"));
}

#[test]
fn verbose_logs_the_choice_and_never_a_secret_or_the_token() {
    let env = Env::new();
    let mut args = env.sa_args();
    args.push("--verbose".into());
    let t = rs256("shop", "worker");
    let image = "registry.example.com/team/app";
    let o = env.run(&args, &[], &request(image, Some(&t), &[]));
    assert_eq!(user(&o, image).as_deref(), Some("space-user"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("service account shop/worker, verified, mapped by rule 2"),
        "{err}"
    );
    assert!(
        err.contains(
            "the space credential at registry.example.com/team (user space-user, password)"
        ),
        "{err}"
    );
    assert!(!err.contains("-pw"), "{err}");
    for part in t.split('.') {
        assert!(!err.contains(part), "{err}");
    }
    // Node mode says why it is the foundation, and why nothing served.
    let o = env.run(
        &[],
        &[("REGISTRY_CREDENTIALS_VERBOSE", "1")],
        &request("quay.io/x/y", None, &[]),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("node mode, the foundation alone (R26)"),
        "{err}"
    );
    assert!(err.contains("no credential in the scopes of"), "{err}");
}

#[test]
fn r24_r25_kinds_kubelet_cannot_carry_and_expired_credentials_are_passed_over() {
    let env = Env::new();
    let key = EncryptionKey::from_hex("k1", KEY).unwrap();
    let store = SqliteStore::open(env.dir.path().join("store.db"), Keyring::new(key)).unwrap();
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    let image = "quay.example.com/team/app";
    for c in [
        // The app's identity token and the space's registry token, most
        // specific first: kubelet can carry neither.
        RegistryCredential::new(
            app_scope("a"),
            loc("quay.example.com/team"),
            Credential::identity_token("00000000-0000-0000-0000-000000000000", "refresh-pw")
                .unwrap(),
        ),
        RegistryCredential::new(
            space("s"),
            loc("quay.example.com"),
            Credential::registry_token("robot", "bearer-pw").unwrap(),
        ),
        // The organization's password has expired.
        cred(
            org("o"),
            "quay.example.com",
            "expired-user",
            "expired-user-pw",
        )
        .with_expires_at(Some(past)),
        // The foundation's password for the parent domain answers.
        cred(
            Scope::Foundation,
            "example.com",
            "parent-user",
            "parent-user-pw",
        ),
    ] {
        store.create(c).unwrap();
    }
    let o = env.run(
        &env.sa_args(),
        &[],
        &request(image, Some(&rs256("shop", "web")), &[]),
    );
    assert_eq!(user(&o, image).as_deref(), Some("parent-user"));
}

// --- refusals ----------------------------------------------------------------

#[test]
fn r26_a_forged_token_is_refused() {
    let env = Env::new();
    // Signed by a key the issuer's set does not hold, under its kid.
    let t = token(
        "forger-rs256.der",
        Algorithm::RS256,
        "rs256-key",
        "shop",
        "web",
        |_| {},
    );
    let o = env.run(&env.sa_args(), &[], &request("nginx", Some(&t), &[]));
    refused(&o, "signature does not verify", Some(&t));
    // A claim changed after signing.
    let good = rs256("shop", "web");
    let parts: Vec<&str> = good.split('.').collect();
    let other = rs256("public", "x");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        other.split('.').nth(1).unwrap(),
        parts[2]
    );
    let o = env.run(&env.sa_args(), &[], &request("nginx", Some(&tampered), &[]));
    refused(&o, "signature does not verify", Some(&tampered));
    // An unknown kid, and a symmetric algorithm no key of the set takes.
    let t = token(
        "issuer-rs256.der",
        Algorithm::RS256,
        "nope",
        "shop",
        "web",
        |_| {},
    );
    env.refuses(&t, "not in the issuer's key set");
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rs256-key".into());
    let t = jsonwebtoken::encode(
        &header,
        &serde_json::json!({"sub": "system:serviceaccount:shop:web"}),
        &EncodingKey::from_secret(b"guess"),
    )
    .unwrap();
    env.refuses(&t, "no key of the issuer's set verifies");
    // Not a JWT at all.
    refused(
        &env.run(
            &env.sa_args(),
            &[],
            &request("nginx", Some("not-a-token"), &[]),
        ),
        "not a signed JWT",
        None,
    );
}

#[test]
fn r26_an_expired_or_not_yet_valid_token_is_refused() {
    let env = Env::new();
    let t = shop_web_with(|c: &mut serde_json::Value| {
        c["exp"] = (now() - 3600).into();
        c["nbf"] = (now() - 7200).into();
    });
    env.refuses(&t, "has expired");
    let t = shop_web_with(|c: &mut serde_json::Value| c["nbf"] = (now() + 3600).into());
    env.refuses(&t, "not valid yet");
    // An `exp` of the wrong type is no expiry to skip.
    let t = shop_web_with(|c: &mut serde_json::Value| c["exp"] = "never".into());
    env.refuses(&t, "claims");
    let t = shop_web_with(|c: &mut serde_json::Value| {
        c.as_object_mut().unwrap().remove("exp");
    });
    env.refuses(&t, "no `exp` claim");
}

#[test]
fn r26_a_token_for_another_audience_or_issuer_is_refused() {
    let env = Env::new();
    let t = shop_web_with(|c| {
        c["aud"] = serde_json::json!(["https://kubernetes.default.svc"]);
    });
    env.refuses(&t, "not for the audience \"registry-credentials\"");
    let t = token(
        "issuer-es256.der",
        Algorithm::ES256,
        "es256-key",
        "shop",
        "web",
        |c| {
            c["iss"] = "https://other.example.com".into();
        },
    );
    env.refuses(&t, "from another issuer");
    // A `sub` that is not the service account of `kubernetes.io`.
    let t = shop_web_with(|c| {
        c["sub"] = "system:serviceaccount:public:x".into();
    });
    env.refuses(&t, "its `sub` is not the service account");
}

#[test]
fn r26_a_service_account_the_mapping_does_not_map_is_refused() {
    let env = Env::new();
    let t = rs256("other", "web");
    env.refuses(&t, "maps service account other/web");
    // shop's organization rule needs its annotation with that value.
    let t = rs256("shop", "batch");
    refused(
        &env.run(
            &env.sa_args(),
            &[],
            &request("nginx", Some(&t), &[("example.com/tier", "untrusted")]),
        ),
        "maps service account shop/batch",
        Some(&t),
    );
    // A rule that reads the app from an annotation kubelet did not pass.
    let t = rs256("apps", "frontend");
    env.refuses(
        &t,
        "reads the app of service account apps/frontend from the annotation \"example.com/app\"",
    );
}

#[test]
fn r26_a_token_without_service_account_mode_is_refused() {
    let env = Env::new();
    let t = rs256("shop", "web");
    refused(
        &env.run(&[], &[], &request("nginx", Some(&t), &[])),
        "has no --jwks, --issuer, --audience and --service-accounts",
        Some(&t),
    );
}

#[test]
fn a_malformed_request_is_refused() {
    let env = Env::new();
    let t = rs256("shop", "web");
    for (stdin, needle) in [
        ("".to_owned(), "not a CredentialProviderRequest"),
        ("{".to_owned(), "not a CredentialProviderRequest"),
        (
            r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1","kind":"CredentialProviderRequest","image":"nginx"}"#.to_owned(),
            "this plugin answers `credentialprovider.kubelet.k8s.io/v1`",
        ),
        (
            r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"https://nginx"}"#.to_owned(),
            "not a valid reference",
        ),
        (
            r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"nginx","image":"quay.io/x/y"}"#.to_owned(),
            "twice",
        ),
        (
            r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"nginx","serviceAccountToken":""}"#.to_owned(),
            "serviceAccountToken is empty",
        ),
        // The token where the annotations belong: refused, never echoed.
        (
            format!(r#"{{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"nginx","serviceAccountAnnotations":"{t}"}}"#),
            "not a CredentialProviderRequest",
        ),
    ] {
        refused(&env.run(&env.sa_args(), &[], &stdin), needle, Some(&t));
    }
}

#[test]
fn a_bad_configuration_is_refused_before_any_answer() {
    let env = Env::new();
    // Half of service-account mode.
    let o = env.run(
        &[format!("--issuer={ISSUER}")],
        &[],
        &request("nginx", None, &[]),
    );
    assert_ne!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    // A mapping with an unknown field or two targets.
    for (mapping, needle) in [
        (
            r#"{"serviceAccounts":[{"namespace":"a","app":"o/s/a","team":"x"}]}"#,
            "unknown field `team`",
        ),
        (
            r#"{"serviceAccounts":[{"namespace":"a","app":"o/s/a","org":"o"}]}"#,
            "rule 1",
        ),
        (
            r#"{"serviceAccounts":[{"namespace":"a","annotations":{"k":"1","k":"2"},"org":"o"}]}"#,
            "twice",
        ),
    ] {
        env.mapping(mapping);
        refused(
            &env.run(&env.sa_args(), &[], &request("nginx", None, &[])),
            needle,
            None,
        );
    }
    // A key set with a symmetric key.
    let jwks = env.dir.path().join("oct.json");
    std::fs::write(
        &jwks,
        r#"{"keys":[{"kty":"oct","kid":"s","k":"c2VjcmV0"}]}"#,
    )
    .unwrap();
    env.mapping(r#"{"serviceAccounts":[]}"#);
    let mut args = env.sa_args();
    args[0] = format!("--jwks={}", jwks.display());
    refused(
        &env.run(&args, &[], &request("nginx", None, &[])),
        "a symmetric (oct) key",
        None,
    );
}

// --- node mode over random stores (R26) -------------------------------------

mod node_mode {
    use proptest::prelude::*;
    use registry_credentials::ScopeKind;
    use registry_credentials::resolve::Plan;
    use registry_credentials::resolve::{Clock, first_live};
    use registry_credentials::scope::Puller;
    use registry_credentials::strategies;
    use registry_credentials_interop::export::CredentialProviderRequest;
    use registry_credentials_interop::export::kubelet_carries;
    use registry_credentials_pullers::kubelet::mapping::Mapping;
    use registry_credentials_pullers::kubelet::token::Verifier;
    use registry_credentials_pullers::kubelet::{Requester, ServiceAccounts, puller};

    use super::tokens::{AUDIENCE, ISSUER, fixture, request};

    /// Service-account mode configured with a rule for every service
    /// account, so that only the missing token keeps a request in node mode.
    fn configured() -> ServiceAccounts {
        let jwks = std::fs::read(fixture("issuer.jwks.json")).unwrap();
        ServiceAccounts {
            verifier: Verifier::from_jwks(&jwks, ISSUER, AUDIENCE).unwrap(),
            mapping: Mapping::from_json(
                br#"{"serviceAccounts":[{"namespace":"o1","app":"o1/s1/a1"}]}"#,
            )
            .unwrap(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Bad input is an error, never a panic: requests, mappings,
        /// durations and tokens (random text, and three base64url parts
        /// behind a real header).
        #[test]
        fn parsers_and_the_token_checker_never_panic(
            bytes in any::<Vec<u8>>(),
            text in "\\PC{0,120}",
            parts in "[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,60}",
        ) {
            let _ = CredentialProviderRequest::from_json(&bytes);
            let _ = Mapping::from_json(&bytes);
            let _ = registry_credentials_pullers::kubelet::parse_duration(&text);
            let sa = configured();
            prop_assert!(sa.verifier.verify(&text).is_err());
            // {"alg":"RS256","kid":"rs256-key"}
            let header = "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzMjU2LWtleSJ9";
            let token = format!("{header}.{parts}");
            prop_assert!(sa.verifier.verify(&token).is_err());
        }

        /// Whatever the store holds at the app, space and organization
        /// scopes, a request without a token is answered from the
        /// foundation's credentials alone: exactly the foundation's best
        /// match for the image, or nothing.
        #[test]
        fn r26_node_mode_never_returns_an_org_space_or_app_credential(
            (store, stored) in strategies::store(0..60),
            image in strategies::pooled_image(),
            with_service_accounts in any::<bool>(),
        ) {
            let r = CredentialProviderRequest::from_json(
                request(image.as_str(), None, &[]).as_bytes(),
            )
            .unwrap();
            let sa = configured();
            let (named, requester) =
                puller(&r, with_service_accounts.then_some(&sa)).unwrap();
            prop_assert_eq!(&named, &Puller::Foundation);
            prop_assert_eq!(requester, Requester::Node);
            let plan = Plan::new(&named, r.image());
            let chosen = first_live(&store, plan.keys(), &mut Clock::new(), kubelet_carries)
                .unwrap()
                .and_then(|(i, c)| plan.resolution(i, c));
            // The oracle: the foundation's credential at the most specific
            // candidate, from the list of what was stored.
            let expected = plan.candidates().iter().find_map(|c| {
                stored.iter().find(|s| {
                    s.scope().kind() == ScopeKind::Foundation && s.location().as_str() == c.as_str()
                })
            });
            match (&chosen, expected) {
                (Some(c), Some(e)) => {
                    prop_assert_eq!(c.scope_kind(), ScopeKind::Foundation);
                    prop_assert_eq!(c.stored().username(), e.username());
                }
                (None, None) => {}
                (c, e) => prop_assert!(false, "chose {c:?}, the foundation holds {e:?}"),
            }
        }
    }
}
