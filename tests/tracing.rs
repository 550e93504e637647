//! The `tracing` feature: resolution's spans carry what an operator needs
//! (the image, the app's ids, the keys tried, the winner or that none won)
//! and never a password. Captured by the workspace's test subscriber
//! (`registry-credentials-test-support`, which needs nothing but `tracing`).
#![cfg(feature = "tracing")]

use registry_credentials::resolve::{resolve_all, resolve_all_async, resolve_async};
use registry_credentials::store::InlineStore;
use registry_credentials::store::block_on_ready;
use registry_credentials::{
    App, Credential, CredentialStore, MemoryStore, Reference, RegistryCredential, Scope, resolve,
};
use registry_credentials_test_support::capture::Capture;

const PASSWORD: &str = "Sup3r-secret-pw";

fn setup() -> (MemoryStore, App) {
    let store = MemoryStore::new();
    let app = App::new("org-1", "space-1", "app-1").unwrap();
    for (scope, location, user) in [
        (
            Scope::Space(app.space().clone()),
            "registry.example.com/team",
            "space-user",
        ),
        (Scope::Foundation, "example.com", "platform-user"),
    ] {
        let credential = Credential::new(user, PASSWORD).unwrap();
        let location = location.parse().unwrap();
        store
            .create(RegistryCredential::new(scope, location, credential))
            .unwrap();
    }
    (store, app)
}

#[test]
fn r14_r15_resolution_spans_name_the_winner_or_none_and_never_a_password() {
    let (store, app) = setup();
    let capture = Capture::default();
    let image: Reference = "registry.example.com/team/app:1".parse().unwrap();
    let public: Reference = "quay.io/someone/tool".parse().unwrap();
    tracing::subscriber::with_default(capture.clone(), || {
        // R14: the space's namespace credential, the first key of the
        // space (after the app's three).
        assert!(resolve(&store, &app, &image).unwrap().is_some());
        // R15: nothing.
        assert!(resolve(&store, &app, &public).unwrap().is_none());
        assert_eq!(resolve_all(&store, &app, &image).unwrap().len(), 2);
        let inline = InlineStore(store.clone());
        let found = block_on_ready(resolve_async(&inline, &app, &image)).unwrap();
        assert!(found.is_some());
        let all = block_on_ready(resolve_all_async(&inline, &app, &image)).unwrap();
        assert_eq!(all.len(), 2);
    });
    let spans = capture.spans();
    let names: Vec<&str> = spans.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "resolve",
            "resolve",
            "resolve_all",
            "resolve_async",
            "resolve_all_async"
        ]
    );

    let (_, won) = &spans[0];
    assert_eq!(won["image"], "registry.example.com/team/app:1");
    assert_eq!(
        (
            won["org"].as_str(),
            won["space"].as_str(),
            won["app"].as_str()
        ),
        ("org-1", "space-1", "app-1")
    );
    // Three candidates at four scopes; the winner is the fourth key.
    assert_eq!(won["keys"], "12");
    assert_eq!(won["tried"], "4");
    assert_eq!(won["outcome"], "found");
    assert_eq!(won["scope"], "space");
    assert_eq!(won["scope_id"], "space-1");
    assert_eq!(won["location"], "registry.example.com/team");
    assert_eq!(won["rank"], "0");

    let (_, none) = &spans[1];
    assert_eq!(none["outcome"], "none");
    assert_eq!(none["tried"], none["keys"]);
    assert!(!none.contains_key("location"));

    let (_, all) = &spans[2];
    assert_eq!(
        (all["found"].as_str(), all["location"].as_str()),
        ("2", "registry.example.com/team")
    );
    for (_, async_span) in &spans[3..] {
        assert_eq!(async_span["outcome"], "found");
        assert_eq!(async_span["scope"], "space");
    }
    let events = capture.events();
    assert_eq!(events.len(), 5);
    assert!(events[1]["message"].contains("R15"));

    let text = capture.all_text();
    assert!(!text.contains(PASSWORD), "{text}");
    // Nor a username: the span is about where, not who.
    assert!(
        !text.contains("space-user") && !text.contains("platform-user"),
        "{text}"
    );
}
