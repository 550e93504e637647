//! The `tracing` feature: every management write leaves one event with its
//! outcome (R16–R20), resolution during staging leaves the core's span, and
//! no password appears anywhere. Captured by a subscriber written here.
#![cfg(feature = "tracing")]

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use registry_credentials::credential::{CredentialUpdate, Password};
use registry_credentials::scope::UserId;
use registry_credentials::{Credential, Location, MemoryStore, RegistryCredential, Scope};
use registry_credentials_cf::access::{GlobalRole, SpaceRole};
use registry_credentials_cf::directory::{DirectoryWriter, MemoryDirectory, Name};
use registry_credentials_cf::manage::Manager;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

const SECRETS: [&str; 3] = ["create-Secret-1", "update-Secret-2", "push-Secret-3"];

type Fields = BTreeMap<String, String>;

#[derive(Clone, Default)]
struct Capture {
    next: Arc<AtomicU64>,
    spans: Arc<Mutex<Vec<(String, Fields)>>>,
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
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let mut fields = Fields::new();
        attrs.record(&mut Visitor(&mut fields));
        self.spans
            .lock()
            .unwrap()
            .push((attrs.metadata().name().to_owned(), fields));
        Id::from_u64(id + 1)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut spans = self.spans.lock().unwrap();
        let (_, fields) = &mut spans[span.into_u64() as usize - 1];
        values.record(&mut Visitor(fields));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::new();
        event.record(&mut Visitor(&mut fields));
        fields.insert("level".into(), event.metadata().level().to_string());
        fields.insert("target".into(), event.metadata().target().to_owned());
        self.events.lock().unwrap().push(fields);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn r16_r20_writes_leave_their_outcome_and_no_password() {
    let capture = Capture::default();
    let m = Manager::new(MemoryStore::new(), MemoryDirectory::new());
    let admin = UserId::new("admin").unwrap();
    m.directory()
        .grant_global(admin.clone(), GlobalRole::Admin)
        .unwrap();
    let org = m.create_org(&admin, Name::new("o").unwrap()).unwrap();
    let space = m
        .create_space(&admin, &org, Name::new("s").unwrap())
        .unwrap();
    let dev = UserId::new("dev").unwrap();
    m.set_space_role(&admin, dev.clone(), &space, SpaceRole::Developer)
        .unwrap();
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
        m.create(&dev, credential(&space_scope)).unwrap();
        // R20: a Space Developer may not create at the organization.
        m.create(&dev, credential(&Scope::Org(org.clone())))
            .unwrap_err();
        // R16: a conflict.
        m.create(&dev, credential(&space_scope)).unwrap_err();
        m.update(
            &dev,
            &space_scope,
            &location,
            CredentialUpdate::Password(Password::new(SECRETS[1]).unwrap()),
        )
        .unwrap();
        // A push without credentials resolves (the core's span)…
        let staged = m
            .stage(
                &dev,
                &space,
                &Name::new("app").unwrap(),
                "registry.example.com/team/app".parse().unwrap(),
                None,
            )
            .unwrap();
        staged.started().unwrap();
        // …and one with credentials keeps them at start (R19).
        let staged = m
            .stage(
                &dev,
                &space,
                &Name::new("app").unwrap(),
                "nginx".parse().unwrap(),
                Some(Credential::new("push-user", SECRETS[2]).unwrap()),
            )
            .unwrap();
        staged.started().unwrap();
        m.delete(&dev, &space_scope, &location).unwrap();
        m.delete(&dev, &space_scope, &location).unwrap_err();
    });

    let events = capture.events.lock().unwrap().clone();
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

    let spans = capture.spans.lock().unwrap().clone();
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
