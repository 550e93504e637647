//! What the SQLite and PostgreSQL store tests share: their keys, the
//! error a tampered row gives, and the rows of the check that resolution
//! reads the winning row alone (R14).

#![allow(dead_code, reason = "each test binary uses the part it needs")]

use registry_credentials::resolve::Resolution;
use registry_credentials::store::conformance::{cred, org};
use registry_credentials::store::{StoreError, UnreadableReason};
use registry_credentials::{RegistryCredential, Scope};
use registry_credentials_sql::{EncryptionKey, KeyError, Keyring};

/// A key named `id` of 32 bytes `byte`.
pub fn key(id: &str, byte: u8) -> EncryptionKey {
    EncryptionKey::new(id, [byte; 32]).unwrap()
}

/// The keyring of the tests that are not about keys.
pub fn keyring() -> Keyring {
    Keyring::new(key("test-key", 0x42))
}

/// `e` says a stored password failed to decrypt (it was tampered with).
pub fn undecryptable(e: &StoreError) -> bool {
    match e {
        StoreError::Unreadable {
            reason: UnreadableReason::Key,
            source,
        } => matches!(
            source.downcast_ref::<KeyError>(),
            Some(KeyError::Undecryptable { .. })
        ),
        _ => false,
    }
}

/// The location of [`OUTRANKED`]'s row, which the winner-only checks
/// corrupt behind the store's back (at the foundation: `scope_id = ''`).
pub const OUTRANKED: &str = "registry.example.com/repo";

/// An image both rows of [`winner_and_outranked`] match.
pub const IMAGE: &str = "registry.example.com/repo/image:tag";

/// Two credentials that both match [`IMAGE`] for app `app-1` of space
/// `space-1` of organization `org-1`: the winner, the organization's for
/// the registry, and the foundation's for the more specific [`OUTRANKED`],
/// outranked (scope outranks specificity, R14).
pub fn winner_and_outranked() -> [RegistryCredential; 2] {
    [
        cred(org("org-1"), "registry.example.com", "org-user", "org-pw"),
        cred(
            Scope::Foundation,
            OUTRANKED,
            "foundation-user",
            "foundation-pw",
        ),
    ]
}

/// `r` is the winner of [`winner_and_outranked`], password and all.
pub fn assert_the_winner(r: Option<Resolution>) {
    let r = r.expect("the winner");
    assert_eq!(r.scope(), &org("org-1"));
    assert_eq!(r.credential().username().as_str(), "org-user");
    assert_eq!(r.credential().password().expose(), "org-pw");
}

/// A store on a fresh schema `name` of the server at `direct`, reached
/// through the proxy that cuts commit answers; the schema's name, and what
/// the proxy counts.
#[cfg(feature = "postgres")]
pub async fn store_behind_proxy(
    direct: &str,
    name: &str,
) -> (
    registry_credentials_sql::PostgresStore,
    String,
    std::sync::Arc<registry_credentials_test_support::postgres::ProxyCounts>,
) {
    use registry_credentials_test_support::postgres::{fresh_schema, proxied, url_in};
    let schema = fresh_schema(direct, name).await;
    let counts = std::sync::Arc::default();
    let proxied = proxied(direct, std::sync::Arc::clone(&counts)).await;
    let store =
        registry_credentials_sql::PostgresStore::connect(&url_in(&proxied, &schema), keyring())
            .await
            .unwrap();
    (store, schema, counts)
}
