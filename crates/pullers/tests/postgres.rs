//! The helper over a PostgreSQL store (`REGISTRY_CREDENTIALS_PG_URL`): the
//! same choice as over SQLite (R14, R26), the puller variables ids.

mod common;

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
