//! The `tracing` feature: every management write leaves one event with its
//! outcome (R16–R20), resolution during staging leaves the core's span, and
//! no password appears anywhere. Captured by the workspace's test
//! subscriber (`registry-credentials-test-support`).
#![cfg(feature = "tracing")]

use registry_credentials::credential::{CredentialUpdate, Password};
use registry_credentials::{Credential, Location, MemoryStore, RegistryCredential, Scope};
use registry_credentials_test_support::capture::Capture;
use registry_credentials_test_support::cf::World;

const SECRETS: [&str; 3] = ["create-Secret-1", "update-Secret-2", "push-Secret-3"];

#[test]
fn r16_r20_writes_leave_their_outcome_and_no_password() {
    let capture = Capture::default();
    let w = World::new(MemoryStore::new());
    let (m, dev, org, space) = (&w.m, &w.dev, &w.org, &w.space);
    let location: Location = "registry.example.com".parse().unwrap();
    let space_scope = Scope::Space(space.clone());

    tracing::subscriber::with_default(capture.clone(), || {
        let credential = |scope: &Scope| {
            RegistryCredential::new(
                scope.clone(),
                location.clone(),
                Credential::new("dev-user", SECRETS[0]).unwrap(),
            )
        };
        m.create(dev, credential(&space_scope)).unwrap();
        // R20: a Space Developer may not create at the organization.
        m.create(dev, credential(&Scope::Org(org.clone())))
            .unwrap_err();
        // R16: a conflict.
        m.create(dev, credential(&space_scope)).unwrap_err();
        m.update(
            dev,
            &space_scope,
            &location,
            CredentialUpdate::Password(Password::new(SECRETS[1]).unwrap()),
        )
        .unwrap();
        // A push without credentials resolves (the core's span)…
        w.push("app", "registry.example.com/team/app", None)
            .started()
            .unwrap();
        // …and one with credentials keeps them at start (R19).
        let given = Credential::new("push-user", SECRETS[2]).unwrap();
        w.push("app", "nginx", Some(given)).started().unwrap();
        m.delete(dev, &space_scope, &location).unwrap();
        m.delete(dev, &space_scope, &location).unwrap_err();
    });

    let events = capture.events();
    let writes: Vec<(&str, &str, &str, &str)> = events
        .iter()
        .filter(|e| e["target"] == "registry_credentials_cf::manage")
        .map(|e| {
            (
                e["op"].as_str(),
                e["outcome"].as_str(),
                e["scope"].as_str(),
                e["location"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        writes,
        [
            ("create", "ok", "space", "registry.example.com"),
            ("create", "error", "organization", "registry.example.com"),
            ("create", "error", "space", "registry.example.com"),
            ("update", "ok", "space", "registry.example.com"),
            ("push-start", "ok", "app", ""),
            ("push-start", "ok", "app", "docker.io/library"),
            ("delete", "ok", "space", "registry.example.com"),
            ("delete", "error", "space", "registry.example.com"),
        ]
    );
    let refused = events
        .iter()
        .find(|e| e.get("outcome").is_some_and(|o| o == "error"))
        .unwrap();
    assert_eq!(refused["level"], "WARN");
    assert_eq!(refused["caller"], "dev");
    assert!(refused["error"].contains("may not create"), "{refused:?}");
    assert_eq!(refused["scope_id"], org.as_str());

    let spans = capture.spans();
    let (_, resolved) = spans
        .iter()
        // `Manager` drives the one async implementation of staging.
        .find(|(n, _)| n == "resolve_async")
        .expect("staging resolves");
    assert_eq!(resolved["outcome"], "found");
    assert_eq!(resolved["scope"], "space");

    let text = format!("{events:?} {spans:?}");
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}
