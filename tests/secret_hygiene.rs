//! Secret hygiene (R21: "Passwords are never listed, logged, printed by
//! `Debug`, or serialized by accident"; STYLE.md 6: redacted `Debug`, no
//! `Display`, no serde by accident, wiped on drop).
//!
//! - Every public type that holds a password is printed with `{:?}` and
//!   `{:#?}`, every error and every explanation with `{}`, and the output
//!   is searched for the password.
//! - The crate's serializable types are serialized (with `serde`) next to
//!   a stored password, and the JSON is searched for it.
//! - What must never exist is checked at compile time: `Password` has no
//!   `Display` and no serde, and no type holding a password is
//!   `Serialize`, except `Resolution`, `Attempt` and `Explanation`, whose
//!   hand-written `Serialize` leaves the password out (checked on their
//!   output). The check is the "ambiguous impl" pattern (the one
//!   `static_assertions::assert_not_impl_any!` uses), written out in
//!   `assert_not_impl!` below, so no dependency and no compile-fail
//!   harness (trybuild) is needed: if the type implements the trait, two
//!   blanket impls apply, type inference is ambiguous and this file does
//!   not compile.
//! - Wiping on drop is checked through the secret type's own guarantee, as
//!   the crate forbids `unsafe` (reading freed memory cannot be done
//!   soundly): `Password` and its field are `zeroize::ZeroizeOnDrop`
//!   (asserted at compile time here, and against the private field inside
//!   the crate), and the wipe that `SecretString`'s `Drop` runs is shown to
//!   zero the bytes.

use std::sync::Arc;

use proptest::prelude::*;
use registry_credentials::credential::{CredentialError, CredentialUpdate};
use registry_credentials::resolve::{Attempt, Explanation, explain, resolve_all};
use registry_credentials::store::{AppCredentialReplaced, Key};
use registry_credentials::{
    App, Credential, CredentialSource, CredentialStore, Location, MemoryStore, Password, Reference,
    RegistryCredential, Resolution, Scope, StoreError, Username, resolve, strategies,
};

const SECRET: &str = "Hunter2-S3cr3t-\u{2603}-7f3a";

/// Panics when `text` shows `password` or any telling part of it.
fn assert_clean(what: &str, text: &str, password: &str) {
    assert!(
        !text.contains(password),
        "{what} shows the password: {text}"
    );
    // A part of it, or the marker character, escaped or not.
    if let Some((head, _)) = password.split_once('\u{2603}') {
        assert!(
            !text.contains(head),
            "{what} shows part of the password: {text}"
        );
    }
    for marker in ["\u{2603}", "2603"] {
        assert!(
            !text.contains(marker),
            "{what} shows part of the password: {text}"
        );
    }
}

fn debug_clean<T: std::fmt::Debug>(what: &str, value: &T, password: &str) {
    assert_clean(what, &format!("{value:?}"), password);
    assert_clean(what, &format!("{value:#?}"), password);
}

/// An error's `Display`, `Debug` and every source's `Display`.
fn error_clean(what: &str, e: &(dyn std::error::Error + 'static), password: &str) {
    assert_clean(what, &e.to_string(), password);
    assert_clean(what, &format!("{e:?}"), password);
    let mut source = e.source();
    while let Some(s) = source {
        assert_clean(what, &s.to_string(), password);
        source = s.source();
    }
}

fn app() -> App {
    App::new("o1", "s1", "a1").unwrap()
}

/// A store holding `password` at every scope of `app()`.
fn store_with(password: &str) -> MemoryStore {
    let store = MemoryStore::new();
    for (i, scope) in app().scopes().iter().enumerate() {
        let loc = ["registry.example.com/team", "example.com"][i % 2];
        store
            .create(RegistryCredential::new(
                scope.to_scope(),
                loc.parse().unwrap(),
                Credential::new(format!("user{i}"), password).unwrap(),
            ))
            .unwrap();
    }
    store
}

#[test]
fn r21_debug_of_every_type_holding_a_password_is_redacted() {
    let password = Password::new(SECRET).unwrap();
    debug_clean("Password", &password, SECRET);
    assert_eq!(format!("{password:?}"), "Password(<redacted>)");
    let credential = Credential::new("me", SECRET).unwrap();
    debug_clean("Credential", &credential, SECRET);
    let stored = RegistryCredential::new(
        Scope::Foundation,
        "example.com".parse().unwrap(),
        credential.clone(),
    );
    debug_clean("RegistryCredential", &stored, SECRET);
    debug_clean("Arc<RegistryCredential>", &Arc::new(stored.clone()), SECRET);
    for update in [
        CredentialUpdate::Password(password.clone()),
        CredentialUpdate::Both(credential.clone()),
        CredentialUpdate::Username(Username::new("you").unwrap()),
    ] {
        debug_clean("CredentialUpdate", &update, SECRET);
        debug_clean(
            "updated RegistryCredential",
            &stored.updated(update).unwrap(),
            SECRET,
        );
    }

    let store = store_with(SECRET);
    debug_clean("MemoryStore", &store, SECRET);
    // Listings.
    debug_clean("list_all", &store.list_all().unwrap(), SECRET);
    for scope in app().scopes() {
        debug_clean("list", &store.list(scope).unwrap(), SECRET);
    }
    let location: Location = "example.com".parse().unwrap();
    let key = Key::new(Scope::Foundation.as_scope_ref(), &location);
    debug_clean("get", &store.get(key).unwrap(), SECRET);
    debug_clean("get_many", &store.get_many(&[key, key]).unwrap(), SECRET);
    debug_clean("first_match", &store.first_match(&[key]).unwrap(), SECRET);

    // Resolutions and explanations.
    let image: Reference = "registry.example.com/team/img".parse().unwrap();
    let found: Resolution = resolve(&store, &app(), &image).unwrap().unwrap();
    debug_clean("Resolution", &found, SECRET);
    assert_clean("Resolution's Display", &found.to_string(), SECRET);
    let all: Vec<Resolution> = resolve_all(&store, &app(), &image).unwrap();
    assert_eq!(all.len(), 4, "every scope holds one");
    debug_clean("resolve_all", &all, SECRET);
    for r in &all {
        assert_clean("Resolution's Display", &r.to_string(), SECRET);
    }
    let why: Explanation = explain(&store, &app(), &image).unwrap();
    debug_clean("Explanation", &why, SECRET);
    assert_clean("Explanation's Display", &why.to_string(), SECRET);
    let attempt: &Attempt = why.winner().unwrap();
    debug_clean("Attempt", attempt, SECRET);
    // The password is really in there, and reachable where it must be.
    assert_eq!(found.credential().password().expose(), SECRET);

    // An app credential replaced (R19): what was stored and what it
    // replaced. Last, as it changes the store.
    let replaced: AppCredentialReplaced = store
        .replace_app_credential(
            app().id(),
            "docker.io".parse().unwrap(),
            Credential::new("me", SECRET).unwrap(),
        )
        .unwrap();
    assert_eq!(replaced.replaced.len(), 1, "the app held one");
    debug_clean("AppCredentialReplaced", &replaced, SECRET);
}

/// R24: a token of either kind is as secret as a password: redacted in
/// every `Debug`, absent from every `Display` and every error, wherever it
/// is held (a credential, an update, the store, a resolution, an
/// explanation, an expired one).
#[test]
fn r24_tokens_are_as_secret_as_passwords() {
    use registry_credentials::CredentialKind;
    for kind in [CredentialKind::IdentityToken, CredentialKind::RegistryToken] {
        let credential = Credential::of_kind(kind, "account", SECRET).unwrap();
        debug_clean("token Credential", &credential, SECRET);
        let store = MemoryStore::new();
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(1);
        for (location, expires_at) in [("registry.example.com", Some(past)), ("example.com", None)]
        {
            store
                .create(
                    RegistryCredential::new(
                        Scope::Foundation,
                        location.parse().unwrap(),
                        credential.clone(),
                    )
                    .with_expires_at(expires_at),
                )
                .unwrap();
        }
        debug_clean("MemoryStore of tokens", &store, SECRET);
        debug_clean("list_all", &store.list_all().unwrap(), SECRET);
        let update = CredentialUpdate::Secret(kind, Password::new(SECRET).unwrap());
        debug_clean("CredentialUpdate::Secret", &update, SECRET);
        let image: Reference = "registry.example.com/team/img".parse().unwrap();
        let found = resolve(&store, &app(), &image).unwrap().unwrap();
        assert_eq!(
            found.location().as_str(),
            "example.com",
            "R25: the expired one is passed over"
        );
        debug_clean("Resolution of a token", &found, SECRET);
        assert_clean("Resolution's Display", &found.to_string(), SECRET);
        let why = explain(&store, &app(), &image).unwrap();
        debug_clean("Explanation with an expired token", &why, SECRET);
        assert_clean("Explanation's Display", &why.to_string(), SECRET);
        assert!(why.to_string().contains(kind.secret_name()), "{why}");
        let over = "t".repeat(registry_credentials::credential::MAX_PASSWORD_LEN + 1);
        let e = Credential::of_kind(kind, "account", over.clone()).unwrap_err();
        assert!(e.to_string().contains(kind.secret_name()), "{e}");
        error_clean("token too long", &e, &over);
        let e = Credential::of_kind(kind, "account", "").unwrap_err();
        assert_eq!(e, CredentialError::EmptyToken { kind });
    }
}

#[test]
fn r21_no_error_shows_a_password() {
    // Credential errors, made from the secret itself.
    let too_long = format!("{SECRET}{}", "x".repeat(5000));
    for e in [
        Password::new(too_long.as_str()).unwrap_err(),
        Password::try_from(too_long.as_str()).unwrap_err(),
        Credential::new("me", too_long.as_str()).unwrap_err(),
        Password::new("").unwrap_err(),
        // A username that is really a password pasted in the wrong field
        // is not echoed either.
        Username::new(format!("{SECRET}\n")).unwrap_err(),
        Username::new(&too_long[..300]).unwrap_err(),
    ] {
        error_clean("CredentialError", &e, SECRET);
    }
    assert!(matches!(
        Password::new(too_long.as_str()),
        Err(CredentialError::PasswordTooLong { .. })
    ));

    // Store errors carry scope and location only.
    let store = store_with(SECRET);
    let dup = RegistryCredential::new(
        Scope::Foundation,
        "example.com".parse().unwrap(),
        Credential::new("me", SECRET).unwrap(),
    );
    let conflict = store.create(dup).unwrap_err();
    assert!(matches!(conflict, StoreError::Conflict { .. }));
    error_clean("StoreError::Conflict", &conflict, SECRET);
    let missing: Location = "missing.example.com".parse().unwrap();
    let update = CredentialUpdate::Password(Password::new(SECRET).unwrap());
    error_clean(
        "StoreError::NotFound",
        &store
            .update(Scope::Foundation.as_scope_ref(), &missing, update)
            .unwrap_err(),
        SECRET,
    );
    error_clean(
        "StoreError::NotFound",
        &store
            .delete(Scope::Foundation.as_scope_ref(), &missing)
            .unwrap_err(),
        SECRET,
    );

    // Parse errors, for every way a password gets typed into a reference
    // or a location.
    let pw = "Hunter2S3cr3tPW";
    for input in [
        format!("user:{pw}@registry.example.com"),
        format!("user:{pw}@registry.example.com/team"),
        format!("https://user:{pw}@registry.example.com"),
        format!(" user:{pw}@registry.example.com "),
        format!("user:{pw}@registry.example.com/team/img:tag"),
        format!("{pw}@registry.example.com"),
        format!("user:{pw}@@registry.example.com"),
        format!("registry.example.com/user:{pw}@x"),
        format!("user:{pw}@registry.example.com/Team"),
        format!("user:{pw}@registry.example.com/path:5000"),
        format!("user:{pw}@{}", "a".repeat(2000)),
    ] {
        if let Err(e) = Location::parse(&input) {
            error_clean(&format!("LocationError for {input:?}"), &e, pw);
            if let Some(h) = e.hint() {
                assert_clean("a location hint", h, pw);
            }
        }
        if let Err(e) = Reference::parse(&input) {
            error_clean(&format!("ReferenceError for {input:?}"), &e, pw);
        }
        assert!(Location::parse(&input).is_err(), "{input}");
    }
}

proptest! {
    /// Any password, any place: `Debug` and `Display` never show it. The
    /// password starts with a marker, so that a short one cannot be found
    /// in the output by chance.
    #[test]
    fn r21_no_password_shows_anywhere(
        tail in strategies::password(),
        user in strategies::username(),
    ) {
        let password = format!("pw\u{2603}{tail}");
        let store = store_with(&password);
        let image: Reference = "registry.example.com/team/img".parse().unwrap();
        let found = resolve(&store, &app(), &image).unwrap().unwrap();
        let cred = Credential::new(&user, password.as_str()).unwrap();
        let outputs = [
            format!("{cred:?}"),
            format!("{:#?}", store.list_all().unwrap()),
            format!("{found:?} {found}"),
            explain(&store, &app(), &image).unwrap().to_string(),
            format!("{:?}", explain(&store, &app(), &image).unwrap()),
        ];
        for out in outputs {
            prop_assert!(!out.contains(&password), "{}", out);
            prop_assert!(!out.contains('\u{2603}'), "{}", out);
        }
    }
}

/// Serializing everything that can be serialized, next to a stored
/// password, never writes it.
#[cfg(feature = "serde")]
#[test]
fn r21_serialized_output_never_holds_a_password() {
    let store = store_with(SECRET);
    let app = app();
    let image: Reference = "registry.example.com/team/img:1".parse().unwrap();
    let found = resolve(&store, &app, &image).unwrap().unwrap();
    let c = found.stored();
    // Every public type with `Serialize`, taken from a stored credential.
    let json = [
        serde_json::to_string(&image).unwrap(),
        serde_json::to_string(c.location()).unwrap(),
        serde_json::to_string(c.username()).unwrap(),
        serde_json::to_string(app.org()).unwrap(),
        serde_json::to_string(app.space()).unwrap(),
        serde_json::to_string(app.id()).unwrap(),
        serde_json::to_string(&found).unwrap(),
        serde_json::to_string_pretty(&found).unwrap(),
        serde_json::to_string(&resolve_all(&store, &app, &image).unwrap()).unwrap(),
        serde_json::to_string(&explain(&store, &app, &image).unwrap()).unwrap(),
        serde_json::to_string_pretty(&explain(&store, &app, &image).unwrap()).unwrap(),
    ]
    .join(" ");
    assert_clean("serialized output", &json, SECRET);
    assert!(json.contains("registry.example.com/team"));
    assert!(json.contains(c.username().as_str()));
    // The password is really in what was serialized.
    assert_eq!(c.password().expose(), SECRET);
}

/// The exact JSON of a resolution and an explanation: the scope's kind
/// and id, the location, the username and the candidate, each attempt and
/// the winner's index; no password field (R21).
#[cfg(feature = "serde")]
#[test]
fn r21_resolution_and_explanation_serialize_without_a_password() {
    let store = MemoryStore::new();
    let app = App::new("o1", "s1", "a1").unwrap();
    store
        .create(RegistryCredential::new(
            Scope::Space(app.space().clone()),
            "docker.io".parse().unwrap(),
            Credential::new("space-user", SECRET).unwrap(),
        ))
        .unwrap();
    let image: Reference = "nginx:1".parse().unwrap();
    let found = resolve(&store, &app, &image).unwrap().unwrap();
    let json: serde_json::Value = serde_json::to_value(&found).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "scope": {"kind": "space", "id": "s1"},
            "location": "docker.io",
            "username": "space-user",
            "kind": "password",
            "candidate": "registry",
            "rank": 1,
        })
    );
    let why = explain(&store, &app, &image).unwrap();
    let attempt = |kind: &str, id: Option<&str>, location: &str, found: serde_json::Value| {
        let candidate = if location == "docker.io" {
            "registry"
        } else {
            "namespace"
        };
        serde_json::json!({
            "scope": {"kind": kind, "id": id},
            "location": location,
            "candidate": candidate,
            "found": found,
        })
    };
    let none = serde_json::Value::Null;
    assert_eq!(
        serde_json::to_value(&why).unwrap(),
        serde_json::json!({
            "image": "nginx:1",
            "name": "docker.io/library/nginx",
            "puller": {"kind": "app", "org": "o1", "space": "s1", "app": "a1"},
            "attempts": [
                attempt("app", Some("a1"), "docker.io/library", none.clone()),
                attempt("app", Some("a1"), "docker.io", none.clone()),
                attempt("space", Some("s1"), "docker.io/library", none.clone()),
                attempt("space", Some("s1"), "docker.io", serde_json::json!({"username": "space-user", "kind": "password", "expired": false})),
                attempt("organization", Some("o1"), "docker.io/library", none.clone()),
                attempt("organization", Some("o1"), "docker.io", none.clone()),
                attempt("foundation", None, "docker.io/library", none.clone()),
                attempt("foundation", None, "docker.io", none),
            ],
            "winner": 3,
        })
    );
    assert_clean(
        "serialized explanation",
        &serde_json::to_string(&why).unwrap(),
        SECRET,
    );
}

/// `assert_not_impl!(T: Trait)` does not compile when `T: Trait`.
///
/// Two blanket impls of `AmbiguousIfImpl<_>` exist: one for every type,
/// one for every type that implements `Trait`. Naming
/// `<T as AmbiguousIfImpl<_>>::some_item` leaves `_` to inference, which
/// succeeds only when exactly one impl applies, that is when `T` does not
/// implement `Trait`.
macro_rules! assert_not_impl {
    ($ty:ty: $($trait:tt)+) => {
        const _: fn() = || {
            trait AmbiguousIfImpl<A> {
                fn some_item() {}
            }
            impl<T: ?Sized> AmbiguousIfImpl<()> for T {}
            #[allow(dead_code)]
            struct Invalid;
            impl<T: ?Sized + $($trait)+> AmbiguousIfImpl<Invalid> for T {}
            let _ = <$ty as AmbiguousIfImpl<_>>::some_item;
        };
    };
}

// STYLE.md 6: a password has no `Display`, so no `to_string()` either.
assert_not_impl!(Password: std::fmt::Display);
assert_not_impl!(Credential: std::fmt::Display);
assert_not_impl!(RegistryCredential: std::fmt::Display);

// No serde for anything that holds a password, with or without the
// feature; `Resolution`, `Attempt` and `Explanation` write theirs without
// it, as `r21_serialized_output_never_holds_a_password` checks.
#[cfg(feature = "serde")]
mod no_serde {
    use super::*;
    assert_not_impl!(Password: serde::Serialize);
    assert_not_impl!(Password: serde::Deserialize<'static>);
    assert_not_impl!(Credential: serde::Serialize);
    assert_not_impl!(Credential: serde::Deserialize<'static>);
    assert_not_impl!(RegistryCredential: serde::Serialize);
    assert_not_impl!(CredentialUpdate: serde::Serialize);
    assert_not_impl!(StoreError: serde::Serialize);
    assert_not_impl!(MemoryStore: serde::Serialize);
}

/// Wiped on drop, through the secret type's own guarantee.
mod wiped_on_drop {
    use secrecy::zeroize::{Zeroize, ZeroizeOnDrop};
    use secrecy::{ExposeSecret, SecretString};

    use super::*;

    fn zeroize_on_drop<T: ZeroizeOnDrop + ?Sized>() {}

    #[test]
    fn r21_password_is_zeroize_on_drop() {
        // Compile-time facts: `Password` is `ZeroizeOnDrop` (its own impl
        // is checked against its `SecretString` field inside the crate),
        // and so is `SecretString`, whose `Drop` calls `zeroize`.
        zeroize_on_drop::<Password>();
        zeroize_on_drop::<SecretString>();
    }

    #[test]
    fn r21_the_wipe_that_drop_runs_zeroes_the_bytes() {
        // `SecretBox`'s `Drop` is `self.zeroize()`. Running that same wipe
        // early on a live secret shows what a drop leaves behind: zeros,
        // in place, at the same length.
        let mut secret = SecretString::from(SECRET.to_owned());
        let len = secret.expose_secret().len();
        secret.zeroize();
        assert_eq!(secret.expose_secret().len(), len);
        assert!(secret.expose_secret().bytes().all(|b| b == 0));
        // And a `String` that is refused or moved is wiped capacity and
        // all (what `Password::new` does with one it refuses).
        let mut s = String::with_capacity(64);
        s.push_str(SECRET);
        s.zeroize();
        assert!(s.is_empty());
    }
}
