//! The helper and the kubelet provider over a PostgreSQL store
//! (`REGISTRY_CREDENTIALS_PG_URL`): the same choice as over SQLite (R14,
//! R26), the puller variables and the mapping's targets ids.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use registry_credentials::scope::{OrgId, ScopeRef};
use registry_credentials::store::AsyncCredentialStore;
use registry_credentials::{Credential, RegistryCredential, Scope};
use registry_credentials_sql::{EncryptionKey, Keyring, PostgresStore};

const KEY: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

fn helper(url: &str, env: &[(&str, &str)], args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_docker-credential-registry-credentials"))
        .args(args)
        .env_clear()
        .env("REGISTRY_CREDENTIALS_PG_URL", url)
        .env("REGISTRY_CREDENTIALS_KEY", KEY)
        .env("REGISTRY_CREDENTIALS_KEY_ID", "pullers")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
#[ignore = "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)"]
fn get_and_list_over_postgres_for_an_organization_r26() {
    let url = std::env::var("REGISTRY_CREDENTIALS_PG_URL").expect("REGISTRY_CREDENTIALS_PG_URL");
    let org = OrgId::new(format!("pullers-{}", std::process::id())).unwrap();
    let host = format!("pullers-{}.example.com:5000", std::process::id());
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
    let out = |o: &Output| String::from_utf8(o.stdout.clone()).unwrap();

    let o = helper(
        &url,
        &[("REGISTRY_CREDENTIALS_ORG", org.as_str())],
        &["get"],
        &format!("https://{host}/v2/"),
    );
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap_or_default();
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
    assert!(o.status.success(), "{}", out(&o));
    assert_eq!(v["Username"], "pg-org-user");
    assert_eq!(v["Secret"], "pg-org-pw");
    let map: serde_json::Value = serde_json::from_str(&out(&listed)).unwrap();
    assert_eq!(map[host.as_str()], "pg-org-user");
    assert_eq!(foundation.status.code(), Some(1));
    assert_eq!(
        out(&foundation),
        "credentials not found in native keychain\n"
    );
}

#[test]
#[ignore = "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)"]
fn the_kubelet_provider_over_postgres_serves_a_mapped_organization_and_node_mode_the_foundation_r26()
 {
    use common::{AUDIENCE, ISSUER, fixture, request, token};
    let url = std::env::var("REGISTRY_CREDENTIALS_PG_URL").expect("REGISTRY_CREDENTIALS_PG_URL");
    let org = OrgId::new(format!("kubelet-{}", std::process::id())).unwrap();
    let host = format!("kubelet-{}.example.com", std::process::id());
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
        let mut child = Command::new(env!("CARGO_BIN_EXE_registry-credentials-kubelet-provider"))
            .arg(format!("--jwks={}", fixture("issuer.jwks.json").display()))
            .arg(format!("--issuer={ISSUER}"))
            .arg(format!("--audience={AUDIENCE}"))
            .arg(format!("--service-accounts={}", mapping.display()))
            .env_clear()
            .env("REGISTRY_CREDENTIALS_PG_URL", &url)
            .env("REGISTRY_CREDENTIALS_KEY", KEY)
            .env("REGISTRY_CREDENTIALS_KEY_ID", "pullers")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
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
