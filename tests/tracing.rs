//! The `tracing` feature: resolution's spans carry what an operator needs
//! (the image, the app's ids, the keys tried, the winner or that none won)
//! and never a password. Captured by a subscriber written here, so the
//! test needs nothing but `tracing` itself.
#![cfg(feature = "tracing")]

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use registry_credentials::resolve::{resolve_all, resolve_all_async, resolve_async};
use registry_credentials::store::InlineStore;
use registry_credentials::store::block_on_ready;
use registry_credentials::{
    App, Credential, CredentialStore, MemoryStore, Reference, RegistryCredential, Scope, resolve,
};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

const PASSWORD: &str = "Sup3r-secret-pw";

type Fields = BTreeMap<String, String>;

/// Every span (name and fields, as last recorded) and every event.
#[derive(Clone, Default)]
struct Capture {
    next: Arc<AtomicU64>,
    spans: Arc<Mutex<BTreeMap<u64, (String, Fields)>>>,
    events: Arc<Mutex<Vec<Fields>>>,
}

struct Visitor<'a>(&'a mut Fields);

impl Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let mut fields = Fields::new();
        attrs.record(&mut Visitor(&mut fields));
        self.spans
            .lock()
            .unwrap()
            .insert(id, (attrs.metadata().name().to_owned(), fields));
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut spans = self.spans.lock().unwrap();
        let (_, fields) = spans.get_mut(&span.into_u64()).unwrap();
        values.record(&mut Visitor(fields));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::new();
        event.record(&mut Visitor(&mut fields));
        fields.insert("level".into(), event.metadata().level().to_string());
        self.events.lock().unwrap().push(fields);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

impl Capture {
    fn spans(&self) -> Vec<(String, Fields)> {
        self.spans.lock().unwrap().values().cloned().collect()
    }

    /// Everything recorded, as one text, to search for secrets.
    fn all_text(&self) -> String {
        format!("{:?} {:?}", self.spans(), self.events.lock().unwrap())
    }
}

fn setup() -> (MemoryStore, App) {
    let store = MemoryStore::new();
    let app = App::new("org-1", "space-1", "app-1").unwrap();
    store
        .create(RegistryCredential::new(
            Scope::Space(app.space().clone()),
            "registry.example.com/team".parse().unwrap(),
            Credential::new("space-user", PASSWORD).unwrap(),
        ))
        .unwrap();
    store
        .create(RegistryCredential::new(
            Scope::Foundation,
            "example.com".parse().unwrap(),
            Credential::new("platform-user", PASSWORD).unwrap(),
        ))
        .unwrap();
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
        assert!(
            block_on_ready(resolve_async(&inline, &app, &image))
                .unwrap()
                .is_some()
        );
        assert_eq!(
            block_on_ready(resolve_all_async(&inline, &app, &image))
                .unwrap()
                .len(),
            2
        );
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
    let events = capture.events.lock().unwrap().clone();
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
