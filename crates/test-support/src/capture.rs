//! [`Capture`]: a subscriber that records what is traced.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// A span's or an event's fields by name, each value as its `Debug` form
/// (a `&str` as itself).
pub type Fields = BTreeMap<String, String>;

/// Records every span (its name and fields, as last recorded) and every
/// event (its fields, with its `level` and `target` added), in order.
/// Clones share one record: install one with
/// `tracing::subscriber::with_default(capture.clone(), …)` and read the
/// other.
#[derive(Clone, Default)]
pub struct Capture {
    next: Arc<AtomicU64>,
    spans: Arc<Mutex<BTreeMap<u64, (String, Fields)>>>,
    events: Arc<Mutex<Vec<Fields>>>,
}

impl Capture {
    /// Every span opened so far, in the order they were opened.
    pub fn spans(&self) -> Vec<(String, Fields)> {
        lock(&self.spans).values().cloned().collect()
    }

    /// Every event so far, in order.
    pub fn events(&self) -> Vec<Fields> {
        lock(&self.events).clone()
    }

    /// Everything recorded, as one text, to search for what must not be
    /// there (a password, a username).
    pub fn all_text(&self) -> String {
        format!("{:?} {:?}", self.spans(), self.events())
    }
}

/// The data behind `m`, even if a test thread panicked holding it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
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
        lock(&self.spans).insert(id, (attrs.metadata().name().to_owned(), fields));
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut spans = lock(&self.spans);
        let (_, fields) = spans
            .get_mut(&span.into_u64())
            .expect("tracing records only on spans this subscriber opened");
        values.record(&mut Visitor(fields));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::new();
        event.record(&mut Visitor(&mut fields));
        let metadata = event.metadata();
        fields.insert("level".into(), metadata.level().to_string());
        fields.insert("target".into(), metadata.target().to_owned());
        lock(&self.events).push(fields);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}
