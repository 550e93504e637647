//! The helper against a real registry: Debian's `docker-registry` on
//! 127.0.0.1 with htpasswd authentication, holding one image, started by
//! `.ci/registry.sh setup`. An `auth.json` names the helper in
//! `credHelpers` for the registry, with the built binary's directory on
//! `PATH`; `skopeo inspect` and `skopeo copy` then pull with what the
//! helper answers.
//!
//! - The foundation's credential, chosen for a puller who names nobody
//!   (R26), opens the image.
//! - An organization's wrong credential outranks it for that organization
//!   (R14), so skopeo is refused: the helper's choice is what is sent.
//! - With nothing stored, the helper answers "credentials not found";
//!   skopeo falls back to anonymous and is refused.
//!
//! Run it: `.ci/registry.sh setup`, then
//! `cargo test -p registry-credentials-pullers -- --ignored`, then
//! `.ci/registry.sh teardown`. CI does all three.

use std::path::{Path, PathBuf};
use std::process::Command;

use registry_credentials::scope::OrgId;
use registry_credentials::{Credential, CredentialStore, RegistryCredential, Scope};
use registry_credentials_sql::{EncryptionKey, Keyring, SqliteStore};
use registry_credentials_test_support::process::printed;
use registry_credentials_test_support::registry::Registry;

const KEY: &str = "8899aabbccddeeff00112233445566778899aabbccddeeff0011223344556677";

/// A store holding `credentials`, and an `auth.json` naming the helper for
/// the registry, in a scratch directory.
fn setup(env: &Registry, credentials: &[(Scope, &str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let key = EncryptionKey::from_hex("ci", KEY).unwrap();
    let store = SqliteStore::open(dir.path().join("store.db"), Keyring::new(key)).unwrap();
    for (scope, user, password) in credentials {
        store
            .create(RegistryCredential::new(
                scope.clone(),
                env.address.parse().unwrap(),
                Credential::new(*user, *password).unwrap(),
            ))
            .unwrap();
    }
    let auth =
        serde_json::json!({ "credHelpers": { env.address.as_str(): "registry-credentials" } });
    std::fs::write(dir.path().join("auth.json"), auth.to_string()).unwrap();
    dir
}

/// `skopeo` with `args`, the scratch `auth.json` and the helper on `PATH`,
/// acting for `puller` (one `REGISTRY_CREDENTIALS_*` variable, or none);
/// whether it succeeded and its output.
fn skopeo(dir: &Path, puller: Option<(&str, &str)>, args: &[&str]) -> (bool, String) {
    let helper = PathBuf::from(env!("CARGO_BIN_EXE_docker-credential-registry-credentials"));
    let bin_dir = helper.parent().unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin_dir.to_path_buf()];
    paths.extend(std::env::split_paths(&path));
    let mut cmd = Command::new("skopeo");
    cmd.env_remove("REGISTRY_AUTH_FILE")
        .env("PATH", std::env::join_paths(paths).unwrap())
        .env("REGISTRY_CREDENTIALS_SQLITE", dir.join("store.db"))
        .env("REGISTRY_CREDENTIALS_KEY", KEY)
        .env("REGISTRY_CREDENTIALS_KEY_ID", "ci")
        .env("REGISTRY_CREDENTIALS_VERBOSE", "1")
        .env_remove("REGISTRY_CREDENTIALS_APP")
        .env_remove("REGISTRY_CREDENTIALS_SPACE")
        .env_remove("REGISTRY_CREDENTIALS_ORG");
    if let Some((k, v)) = puller {
        cmd.env(k, v);
    }
    let out = cmd
        .args(args)
        .arg("--authfile")
        .arg(dir.join("auth.json"))
        .output()
        .expect("skopeo runs");
    (out.status.success(), printed(&out))
}

fn inspect(env: &Registry, dir: &Path, puller: Option<(&str, &str)>) -> (bool, String) {
    let image = format!("docker://{}", env.image);
    skopeo(dir, puller, &["inspect", "--tls-verify=false", &image])
}

#[test]
#[ignore = "needs docker-registry and skopeo: .ci/registry.sh setup"]
fn r26_the_helper_s_foundation_credential_opens_the_registry_for_skopeo() {
    let env = Registry::from_env();
    let org = Scope::Org(OrgId::new("o").unwrap());
    let dir = setup(
        &env,
        &[
            (Scope::Foundation, &env.user, &env.password),
            (org, &env.user, "not-the-password"),
        ],
    );
    let (ok, text) = inspect(&env, dir.path(), None);
    assert!(
        ok,
        "the foundation's credential must open the image: {text}"
    );
    assert!(
        !text.contains(&env.password),
        "the secret is never logged: {text}"
    );

    let target = dir.path().join("copy");
    let image = format!("docker://{}", env.image);
    let dest = format!("dir:{}", target.display());
    let (ok, text) = skopeo(
        dir.path(),
        None,
        &[
            "--insecure-policy",
            "copy",
            "--quiet",
            "--src-tls-verify=false",
            &image,
            &dest,
        ],
    );
    assert!(ok, "skopeo copy with the helper's credential: {text}");
    assert!(target.join("manifest.json").exists());

    // R14: the organization's own (wrong) credential outranks the
    // foundation's for the organization, and the registry refuses it.
    let (ok, text) = inspect(&env, dir.path(), Some(("REGISTRY_CREDENTIALS_ORG", "o")));
    assert!(
        !ok,
        "the organization's wrong credential must be refused: {text}"
    );
    assert!(
        text.contains("unauthorized") || text.contains("authentication required"),
        "{text}"
    );
}

#[test]
#[ignore = "needs docker-registry and skopeo: .ci/registry.sh setup"]
fn with_no_credential_skopeo_falls_back_to_anonymous_and_is_refused() {
    let env = Registry::from_env();
    let dir = setup(&env, &[]);
    let (ok, text) = inspect(
        &env,
        dir.path(),
        Some(("REGISTRY_CREDENTIALS_APP", "o/s/a")),
    );
    assert!(!ok, "an anonymous pull must be refused: {text}");
    assert!(
        text.contains("no credential"),
        "the helper said why none: {text}"
    );
    assert!(
        text.contains("unauthorized") || text.contains("authentication required"),
        "{text}"
    );
}
