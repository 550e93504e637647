//! The helper binary over a SQLite store: the docker-credential-helpers
//! protocol (`get`, `list`, `version`; `store` and `erase` refused) and the
//! scopes it searches for each puller (R14, R26).

mod common;

use std::process::Output;

use common::{answer, stdout};
use registry_credentials::scope::{AppId, OrgId};
use registry_credentials::{Credential, CredentialStore, RegistryCredential, Scope};
use registry_credentials_sql::{EncryptionKey, Keyring, SqliteStore};

const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// The puller that is app `a` of space `s` of organization `o`, whose
/// credentials [`store`] holds.
const APP_A: (&str, &str) = ("REGISTRY_CREDENTIALS_APP", "o/s/a");

fn store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let key = EncryptionKey::from_hex("k1", KEY).unwrap();
    let store = SqliteStore::open(dir.path().join("store.db"), Keyring::new(key)).unwrap();
    let add = |scope, location: &str, user: &str, pw: &str| {
        store
            .create(RegistryCredential::new(
                scope,
                location.parse().unwrap(),
                Credential::new(user, pw).unwrap(),
            ))
            .unwrap();
    };
    add(Scope::Foundation, "docker.io", "hub-user", "hub-pw");
    add(
        Scope::Foundation,
        "docker.io/library",
        "library-user",
        "library-pw",
    );
    add(
        Scope::Org(OrgId::new("o").unwrap()),
        "registry.example.com:5000",
        "org-user",
        "org-pw",
    );
    add(
        Scope::App(AppId::new("a").unwrap()),
        "registry.example.com:5000/team",
        "team-user",
        "team-pw",
    );
    dir
}

fn helper(dir: &tempfile::TempDir, env: &[(&str, &str)], args: &[&str], stdin: &str) -> Output {
    let db = dir.path().join("store.db");
    let store = ("REGISTRY_CREDENTIALS_SQLITE", db.as_os_str());
    common::helper(store, Some(("k1", KEY)), env, args, stdin)
}

#[test]
fn get_answers_the_foundation_registry_credential_for_docker_hub_r26() {
    let dir = store();
    let v = answer(&helper(
        &dir,
        &[],
        &["get"],
        "https://index.docker.io/v1/\n",
    ));
    assert_eq!(
        v,
        serde_json::json!({"ServerURL": "https://index.docker.io/v1/", "Username": "hub-user", "Secret": "hub-pw"})
    );
}

#[test]
fn get_with_nothing_for_the_host_prints_the_not_found_message_and_exits_1() {
    let dir = store();
    // The organization's credential is not the foundation's (R26).
    let o = helper(&dir, &[], &["get"], "registry.example.com:5000");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "credentials not found in native keychain\n");
}

#[test]
fn get_for_an_app_uses_its_organization_registry_credential_never_a_namespace_r10() {
    let dir = store();
    let v = answer(&helper(
        &dir,
        &[APP_A],
        &["get"],
        "https://registry.example.com:5000/v2/",
    ));
    assert_eq!(v["Username"], "org-user");
    assert_eq!(v["Secret"], "org-pw");
    // Another organization's space sees none of it.
    let o = helper(
        &dir,
        &[("REGISTRY_CREDENTIALS_SPACE", "p/s")],
        &["get"],
        "registry.example.com:5000",
    );
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn verbose_logs_the_choice_to_stderr_without_the_secret() {
    let dir = store();
    let o = helper(
        &dir,
        &[
            ("REGISTRY_CREDENTIALS_ORG", "o"),
            ("REGISTRY_CREDENTIALS_VERBOSE", "1"),
        ],
        &["get"],
        "registry.example.com:5000",
    );
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains("organization o"), "{err}");
    assert!(err.contains("org-user"), "{err}");
    assert!(!err.contains("org-pw"), "{err}");
}

#[test]
fn list_maps_the_hosts_the_scopes_hold_registry_credentials_for_to_usernames() {
    let dir = store();
    let v = answer(&helper(&dir, &[APP_A], &["list"], ""));
    assert_eq!(
        v,
        serde_json::json!({"registry.example.com:5000": "org-user", "docker.io": "hub-user"})
    );
    let v = answer(&helper(&dir, &[], &["list"], ""));
    assert_eq!(v, serde_json::json!({"docker.io": "hub-user"}));
}

#[test]
fn store_and_erase_are_refused_and_change_nothing() {
    let dir = store();
    for op in ["store", "erase"] {
        let o = helper(
            &dir,
            &[],
            &[op],
            r#"{"ServerURL":"docker.io","Username":"x","Secret":"y"}"#,
        );
        assert_eq!(o.status.code(), Some(1));
        assert!(stdout(&o).contains("managed through cf"), "{}", stdout(&o));
    }
    let o = helper(&dir, &[], &["get"], "docker.io");
    assert!(stdout(&o).contains("hub-user"));
}

#[test]
fn version_prints_the_name_and_version() {
    let dir = store();
    let o = helper(&dir, &[], &["version"], "");
    assert!(o.status.success());
    assert_eq!(
        stdout(&o),
        format!(
            "docker-credential-registry-credentials {}\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn a_missing_store_or_key_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = helper(&dir, &[], &["get"], "docker.io");
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("no store at"), "{}", stdout(&o));
    assert!(!dir.path().join("store.db").exists());
}

/// Adds credentials of other kinds and expiries to the store in `dir`.
fn add_to(dir: &tempfile::TempDir, credentials: Vec<RegistryCredential>) {
    let key = EncryptionKey::from_hex("k1", KEY).unwrap();
    let store = SqliteStore::open(dir.path().join("store.db"), Keyring::new(key)).unwrap();
    for c in credentials {
        store.create(c).unwrap();
    }
}

#[test]
fn r24_an_identity_token_is_answered_with_the_token_username() {
    let dir = store();
    add_to(
        &dir,
        vec![RegistryCredential::new(
            Scope::Foundation,
            "myregistry.azurecr.io".parse().unwrap(),
            Credential::identity_token("00000000-0000-0000-0000-000000000000", "refresh-token")
                .unwrap(),
        )],
    );
    let v = answer(&helper(&dir, &[], &["get"], "myregistry.azurecr.io"));
    assert_eq!(
        v,
        serde_json::json!({"ServerURL": "myregistry.azurecr.io", "Username": "<token>", "Secret": "refresh-token"})
    );
}

#[test]
fn r24_r25_a_registry_token_or_an_expired_credential_is_passed_over_as_if_absent() {
    let dir = store();
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    add_to(
        &dir,
        vec![
            // A bearer token the protocol cannot carry, for the registry:
            // the parent domain's password is the answer.
            RegistryCredential::new(
                Scope::Foundation,
                "quay.example.com".parse().unwrap(),
                Credential::registry_token("robot", "bearer").unwrap(),
            ),
            RegistryCredential::new(
                Scope::Foundation,
                "example.com".parse().unwrap(),
                Credential::new("parent-user", "parent-pw").unwrap(),
            ),
            RegistryCredential::new(
                Scope::Foundation,
                "old.example.org".parse().unwrap(),
                Credential::new("old-user", "old-pw").unwrap(),
            )
            .with_expires_at(Some(past)),
        ],
    );
    let v = answer(&helper(&dir, &[], &["get"], "quay.example.com"));
    assert_eq!(v["Username"], "parent-user");
    let o = helper(&dir, &[], &["get"], "old.example.org");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "credentials not found in native keychain\n");
    let listed = answer(&helper(&dir, &[], &["list"], ""));
    assert!(listed.get("old.example.org").is_none(), "{listed}");
    assert!(listed.get("quay.example.com").is_none(), "{listed}");
    assert_eq!(listed["example.com"], "parent-user");
}
