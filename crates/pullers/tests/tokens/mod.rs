//! What the kubelet provider's tests share: the test keys of
//! `tests/fixtures`, service-account tokens signed with them, and v1
//! requests.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};

/// The issuer the tests' tokens name.
pub const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
/// The audience the tests' tokens are for.
pub const AUDIENCE: &str = "registry-credentials";

/// The path of the fixture `name`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The time, in seconds since the epoch, as tokens write it.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A service-account token as the API server issues one (KEP-4412's
/// pod-bound token), with `change` applied to its claims.
pub fn token(
    signer: &str,
    alg: Algorithm,
    kid: &str,
    namespace: &str,
    name: &str,
    change: impl FnOnce(&mut serde_json::Value),
) -> String {
    let t = now();
    let mut claims = serde_json::json!({
        "aud": [AUDIENCE],
        "exp": t + 3600,
        "iat": t,
        "nbf": t,
        "iss": ISSUER,
        "jti": "0d0b6a4e-7d3c-4a1e-9d9e-2f0f1b3c4d5e",
        "kubernetes.io": {
            "namespace": namespace,
            "node": {"name": "node-1", "uid": "1"},
            "pod": {"name": "pod-1", "uid": "2"},
            "serviceaccount": {"name": name, "uid": "3"}
        },
        "sub": format!("system:serviceaccount:{namespace}:{name}")
    });
    change(&mut claims);
    let der = std::fs::read(fixture(signer)).unwrap();
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_der(&der),
        _ => EncodingKey::from_rsa_der(&der),
    };
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

/// A v1 request for `image`, with `token` and `annotations` when given.
pub fn request(image: &str, token: Option<&str>, annotations: &[(&str, &str)]) -> String {
    let mut r = serde_json::json!({
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": image,
    });
    if let Some(t) = token {
        r["serviceAccountToken"] = t.into();
    }
    if !annotations.is_empty() {
        r["serviceAccountAnnotations"] = annotations
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
            .collect::<serde_json::Map<_, _>>()
            .into();
    }
    r.to_string()
}
