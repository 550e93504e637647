//! Token kinds (R24) and expiry (R25) on the command line: created,
//! listed with their kind and expiry and never their secret, updated, and
//! passed over by a push once expired.

use registry_credentials::CredentialKind;

use super::*;

#[test]
fn r24_create_with_a_token_kind_lists_the_kind_and_never_the_token() {
    let mut sh = platform("kinds-create");
    sh.ok_with(
        Some("refresh-SECRET-token"),
        "create-foundation-registry-credential myregistry.azurecr.io --username 00000000-0000-0000-0000-000000000000 --kind identity-token",
    );
    sh.ok_with(
        Some("bearer-SECRET-token"),
        "create-foundation-registry-credential quay.io --username robot --kind=registry-token --expires-at 2099-01-01T00:00:00Z",
    );
    sh.ok_with(
        Some("pw"),
        "create-foundation-registry-credential docker.io --username hub",
    );
    let out = sh.ok("registry-credentials");
    assert_says(&out, "kind");
    assert_says(&out, "expires");
    let rows = cells(&out.lines().collect::<Vec<_>>());
    assert!(
        rows.contains(
            &[
                "quay.io",
                "foundation",
                "robot",
                "registry-token",
                "2099-01-01T00:00:00Z"
            ]
            .map(str::to_owned)
            .to_vec()
        ),
        "{out}"
    );
    assert!(
        rows.iter()
            .any(|r| r[0] == "myregistry.azurecr.io" && r.last().unwrap() == "identity-token"),
        "{out}"
    );
    assert!(!out.contains("SECRET"), "{out}");
    let store = sh.store();
    let all = store.list_all().unwrap();
    let kinds: Vec<(String, CredentialKind)> = all
        .iter()
        .map(|c| (c.location().to_string(), c.kind()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("docker.io".to_owned(), CredentialKind::Password),
            (
                "myregistry.azurecr.io".to_owned(),
                CredentialKind::IdentityToken
            ),
            ("quay.io".to_owned(), CredentialKind::RegistryToken),
        ]
    );
    sh.assert_no_secret_printed();
}

#[test]
fn r24_r25_update_changes_the_kind_or_the_expiry_alone() {
    let mut sh = platform("kinds-update");
    sh.ok_with(
        Some("pw"),
        "create-foundation-registry-credential quay.io --username robot",
    );
    sh.ok_with(
        Some("bearer-2"),
        "update-foundation-registry-credential quay.io --kind registry-token",
    );
    let c = |sh: &Shell| sh.store().list_all().unwrap().remove(0);
    assert_eq!(c(&sh).kind(), CredentialKind::RegistryToken);
    assert_eq!(c(&sh).username().as_str(), "robot");
    // An expiry alone asks for no secret and keeps it.
    sh.ok("update-foundation-registry-credential quay.io --expires-at 2030-06-01T12:00:00+02:00");
    let got = c(&sh);
    assert_eq!(got.password().expose(), "bearer-2");
    assert_eq!(
        got.expires_at()
            .map(registry_credentials_cf::text::utc_time)
            .as_deref(),
        Some("2030-06-01T10:00:00Z")
    );
    sh.ok("update-foundation-registry-credential quay.io --expires-at never");
    assert_eq!(c(&sh).expires_at(), None);
    // Bad input says what was wrong and changes nothing.
    sh.fails_saying(
        "update-foundation-registry-credential quay.io --expires-at tomorrow",
        "RFC 3339",
    );
    let err = sh.usage_error(
        "update-foundation-registry-credential quay.io --expires-at never --username x",
    );
    assert_says(&err, "Incorrect Usage: `--expires-at <TIME>`");
}

#[test]
fn r25_a_push_passes_over_an_expired_credential() {
    let mut sh = platform("kinds-expired");
    sh.ok_with(
        Some("old"),
        "create-foundation-registry-credential registry.example.com --username expired-user --expires-at 2000-01-01T00:00:00Z",
    );
    sh.ok_with(
        Some("live"),
        "create-foundation-registry-credential example.com --username live-user",
    );
    sh.ok("target -o myorg -s myspace");
    let out = sh.ok("push myapp --docker-image registry.example.com/team/app:1");
    assert_says(&out, "live-user");
    assert!(!out.contains("expired-user"), "{out}");
}
