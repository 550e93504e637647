//! The helper and the kubelet provider over a PostgreSQL store
//! (`REGISTRY_CREDENTIALS_PG_URL`): the same choice as over SQLite (R14,
//! R26), the puller variables and the mapping's targets ids.

mod common;
mod tokens;

use std::process::Output;

use common::{answer, stdout};
use registry_credentials::scope::{OrgId, ScopeRef};
use registry_credentials::store::AsyncCredentialStore;
use registry_credentials::{Credential, RegistryCredential, Scope};
use registry_credentials_sql::{EncryptionKey, Keyring, PostgresStore};

const KEY: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

fn helper(url: &str, env: &[(&str, &str)], args: &[&str], stdin: &str) -> Output {
    let store = ("REGISTRY_CREDENTIALS_PG_URL", url.as_ref());
    common::helper(store, Some(("pullers", KEY)), env, args, stdin)
}

/// The server's URL, a runtime, and a PostgreSQL store on it holding the
/// credential of `pg-org-user` for an organization and a host of this
/// process's own (`{prefix}-PID`, the host with `port` after it).
fn org_store(
    prefix: &str,
    port: &str,
) -> (
    String,
    tokio::runtime::Runtime,
    PostgresStore,
    OrgId,
    String,
) {
    let url = std::env::var("REGISTRY_CREDENTIALS_PG_URL").expect("REGISTRY_CREDENTIALS_PG_URL");
    let org = OrgId::new(format!("{prefix}-{}", std::process::id())).unwrap();
    let host = format!("{prefix}-{}.example.com{port}", std::process::id());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = runtime.block_on(async {
        let key = EncryptionKey::from_hex("pullers", KEY).unwrap();
        let store = PostgresStore::connect(&url, Keyring::new(key))
            .await
            .unwrap();
        store
            .create(RegistryCredential::new(
                Scope::Org(org.clone()),
                host.parse().unwrap(),
                Credential::new("pg-org-user", "pg-org-pw").unwrap(),
            ))
            .await
            .unwrap();
        store
    });
    (url, runtime, store, org, host)
}

#[test]
#[ignore = "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)"]
fn get_and_list_over_postgres_for_an_organization_r26() {
    let (url, runtime, store, org, host) = org_store("pullers", ":5000");

    let o = helper(
        &url,
        &[("REGISTRY_CREDENTIALS_ORG", org.as_str())],
        &["get"],
        &format!("https://{host}/v2/"),
    );
    let listed = helper(
        &url,
        &[("REGISTRY_CREDENTIALS_ORG", org.as_str())],
        &["list"],
        "",
    );
    let foundation = helper(&url, &[], &["get"], &host);

    runtime.block_on(async {
        store
            .delete(ScopeRef::Org(&org), &host.parse().unwrap())
            .await
            .unwrap();
    });
    let v = answer(&o);
    assert_eq!(v["Username"], "pg-org-user");
    assert_eq!(v["Secret"], "pg-org-pw");
    let map = answer(&listed);
    assert_eq!(map[host.as_str()], "pg-org-user");
    assert_eq!(foundation.status.code(), Some(1));
    assert_eq!(
        stdout(&foundation),
        "credentials not found in native keychain\n"
    );
}

#[test]
#[ignore = "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)"]
fn the_kubelet_provider_over_postgres_serves_a_mapped_organization_and_node_mode_the_foundation_r26()
 {
    use tokens::{AUDIENCE, ISSUER, fixture, request, token};
    let (url, runtime, store, org, host) = org_store("kubelet", "");
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("mapping.json");
    std::fs::write(
        &mapping,
        format!(
            r#"{{"serviceAccounts":[{{"namespace":"shop","org":"{}"}}]}}"#,
            org.as_str()
        ),
    )
    .unwrap();
    let provider = |stdin: &str| {
        registry_credentials_test_support::process::output_with_input(
            std::process::Command::new(env!("CARGO_BIN_EXE_registry-credentials-kubelet-provider"))
                .arg(format!("--jwks={}", fixture("issuer.jwks.json").display()))
                .arg(format!("--issuer={ISSUER}"))
                .arg(format!("--audience={AUDIENCE}"))
                .arg(format!("--service-accounts={}", mapping.display()))
                .env_clear()
                .env("REGISTRY_CREDENTIALS_PG_URL", &url)
                .env("REGISTRY_CREDENTIALS_KEY", KEY)
                .env("REGISTRY_CREDENTIALS_KEY_ID", "pullers"),
            stdin.as_bytes(),
        )
    };
    let image = format!("{host}/team/app");
    let t = token(
        "issuer-rs256.der",
        jsonwebtoken::Algorithm::RS256,
        "rs256-key",
        "shop",
        "web",
        |_| {},
    );
    let mapped = provider(&request(&image, Some(&t), &[]));
    let node = provider(&request(&image, None, &[]));
    runtime.block_on(async {
        store
            .delete(ScopeRef::Org(&org), &host.parse().unwrap())
            .await
            .unwrap();
    });
    let doc = |o: &Output| -> serde_json::Value {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let v = doc(&mapped);
    assert_eq!(v["auth"][image.as_str()]["username"], "pg-org-user");
    assert_eq!(v["auth"][image.as_str()]["password"], "pg-org-pw");
    assert!(doc(&node).get("auth").is_none());
}
