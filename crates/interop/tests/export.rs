//! Exporting a resolution: keys per form, the documents' shape, and that
//! no password reaches a `Debug`, an error or a report.

use base64::Engine as _;
use registry_credentials::resolve::resolve_all;
use registry_credentials::{
    App, Credential, CredentialStore, MemoryStore, Reference, RegistryCredential, Resolution,
    Scope, resolve,
};
use registry_credentials_interop::export::{
    AuthFile, AuthFileForm, CredentialProviderRequest, CredentialProviderResponse, ExportError,
    RegistryAuthHeader, RequestError, image_of_request,
};
use registry_credentials_interop::import;

const SECRET: &str = "s3cret-Pa55word";

fn app() -> App {
    App::new("org", "space", "app").unwrap()
}

/// The app, and a store holding its space's credential for
/// `registry.example.com/team` (user `space-user`) and the foundation's
/// for `location` (user `user`).
fn team_and_foundation(location: &str, user: &str) -> (App, MemoryStore) {
    let a = app();
    let space = Scope::Space(a.space().clone());
    let store = store_with(&[
        (space, "registry.example.com/team", "space-user"),
        (Scope::Foundation, location, user),
    ]);
    (a, store)
}

fn store_with(entries: &[(Scope, &str, &str)]) -> MemoryStore {
    let store = MemoryStore::new();
    for (scope, location, user) in entries {
        store
            .create(RegistryCredential::new(
                scope.clone(),
                location.parse().unwrap(),
                Credential::new(*user, SECRET).unwrap(),
            ))
            .unwrap();
    }
    store
}

fn chosen(store: &MemoryStore, image: &str) -> (Reference, Resolution) {
    let image: Reference = image.parse().unwrap();
    let r = resolve(store, &app(), &image)
        .unwrap()
        .expect("a credential");
    (image, r)
}

fn auths(bytes: &[u8]) -> serde_json::Map<String, serde_json::Value> {
    let doc: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    doc["auths"].as_object().unwrap().clone()
}

#[test]
fn r10_r11_keys_per_form() {
    let a = app();
    let store = store_with(&[
        (Scope::Foundation, "docker.io", "hub"),
        (
            Scope::Space(a.space().clone()),
            "registry.example.com/team",
            "team",
        ),
        (Scope::Org(a.org().clone()), "example.com", "parent"),
        (Scope::Foundation, "localhost:5000/a", "local"),
    ]);
    // (image, config.json key, auth.json key)
    let table = [
        ("nginx", "https://index.docker.io/v1/", "docker.io"),
        (
            "index.docker.io/myorg/app:1",
            "https://index.docker.io/v1/",
            "docker.io",
        ),
        (
            "registry.example.com/team/app",
            "registry.example.com",
            "registry.example.com/team",
        ),
        // A parent domain (R11): containers/image never looks one up, so
        // the auth.json key is the image's registry.
        (
            "registry.example.com/other/app",
            "registry.example.com",
            "registry.example.com",
        ),
        (
            "mirror.example.com/x/y",
            "mirror.example.com",
            "mirror.example.com",
        ),
        (
            "localhost:5000/a/b/img",
            "localhost:5000",
            "localhost:5000/a",
        ),
    ];
    for (image, docker, containers) in table {
        let (image, r) = chosen(&store, image);
        let d = AuthFile::docker(&image, &r).unwrap();
        let c = AuthFile::containers(&image, &r).unwrap();
        assert_eq!(
            (d.key(), d.form()),
            (docker, AuthFileForm::Docker),
            "{image}"
        );
        assert_eq!(
            (c.key(), c.form()),
            (containers, AuthFileForm::Containers),
            "{image}"
        );
        for file in [d, c] {
            let bytes = file.to_json_bytes();
            let map = auths(&bytes);
            assert_eq!(map.len(), 1);
            let auth = map[file.key()]["auth"].as_str().unwrap();
            let plain = base64::engine::general_purpose::STANDARD
                .decode(auth)
                .unwrap();
            let expected = format!("{}:{SECRET}", r.credential().username());
            assert_eq!(plain, expected.as_bytes());
            let mut written = Vec::new();
            file.write_to(&mut written).unwrap();
            assert_eq!(&written[..], &bytes[..]);
        }
    }
}

#[test]
fn r12_a_resolution_for_another_image_is_refused() {
    let store = store_with(&[(Scope::Foundation, "registry.example.com", "u")]);
    let (_, r) = chosen(&store, "registry.example.com/team/app");
    for other in [
        "registry.example.com:5000/team/app",
        "other.example.com/team/app",
        "nginx",
    ] {
        let other: Reference = other.parse().unwrap();
        let e = AuthFile::docker(&other, &r).unwrap_err();
        assert!(matches!(e, ExportError::NotServing { .. }));
        assert!(!e.to_string().contains(SECRET));
        assert!(RegistryAuthHeader::new(&other, &r).is_err());
        assert!(CredentialProviderResponse::new(&other, Some(&r)).is_err());
    }
}

#[test]
fn x_registry_auth_is_base64url_json() {
    let store = store_with(&[(Scope::Foundation, "docker.io/library", "hub")]);
    let (image, r) = chosen(&store, "nginx:1.27");
    let header = RegistryAuthHeader::new(&image, &r).unwrap();
    assert_eq!(RegistryAuthHeader::NAME, "X-Registry-Auth");
    assert_eq!(header.server_address(), "https://index.docker.io/v1/");
    let value = header.header_value();
    assert!(!value.contains('+') && !value.contains('/'));
    let json = base64::engine::general_purpose::URL_SAFE
        .decode(&*value)
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(doc["username"], "hub");
    assert_eq!(doc["password"], SECRET);
    assert_eq!(doc["serveraddress"], "https://index.docker.io/v1/");
}

#[test]
fn r15_r17_kubelet_response_is_keyed_by_repository_and_never_cached() {
    let a = app();
    let store = store_with(&[(
        Scope::Space(a.space().clone()),
        "registry.example.com/team",
        "team",
    )]);
    let (image, r) = chosen(
        &store,
        "registry.example.com/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    );
    let response = CredentialProviderResponse::new(&image, Some(&r)).unwrap();
    assert_eq!(response.key(), "registry.example.com/team/app");
    let doc: serde_json::Value = serde_json::from_slice(&response.to_json_bytes()).unwrap();
    assert_eq!(doc["apiVersion"], "credentialprovider.kubelet.k8s.io/v1");
    assert_eq!(doc["kind"], "CredentialProviderResponse");
    assert_eq!(doc["cacheKeyType"], "Image");
    // R17: "0s" tells kubelet not to cache at all.
    assert_eq!(doc["cacheDuration"], "0s");
    let auth = doc["auth"].as_object().unwrap();
    assert_eq!(auth.len(), 1);
    assert_eq!(auth["registry.example.com/team/app"]["username"], "team");
    assert_eq!(auth["registry.example.com/team/app"]["password"], SECRET);

    // R15: nothing matched, no auth.
    let none = CredentialProviderResponse::new(&"quay.io/x/y".parse().unwrap(), None).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&none.to_json_bytes()).unwrap();
    assert!(doc.get("auth").is_none(), "{doc}");
    assert_eq!(doc["cacheDuration"], "0s");
    assert!(none.username().is_none());

    let request = br#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"nginx"}"#;
    assert_eq!(
        image_of_request(request).unwrap().name(),
        "docker.io/library/nginx"
    );
    let old = br#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1","kind":"CredentialProviderRequest","image":"nginx"}"#;
    assert!(matches!(
        image_of_request(old),
        Err(RequestError::Version { .. })
    ));
    let bad = br#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"https://x"}"#;
    assert!(matches!(image_of_request(bad), Err(RequestError::Image(_))));
    // A key twice is refused with its place, never its value.
    let twice = br#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"nginx","image":"quay.io/x/y"}"#;
    let e = image_of_request(twice).unwrap_err();
    assert!(
        matches!(&e, RequestError::DuplicateKey { path, line: 1, .. } if path == r#""image""#),
        "{e:?}"
    );
    assert!(!e.to_string().contains("quay.io"), "{e}");
}

#[test]
fn kubelet_cache_duration_is_written_as_go_parses_it() {
    use std::time::Duration;
    let image: Reference = "quay.io/x/y".parse().unwrap();
    for (d, text) in [
        (Duration::ZERO, "0s"),
        (Duration::from_secs(300), "300s"),
        (Duration::from_millis(1500), "1.5s"),
        (Duration::from_nanos(1), "0.000000001s"),
    ] {
        let r = CredentialProviderResponse::new(&image, None)
            .unwrap()
            .with_cache_duration(d);
        assert_eq!(r.cache_duration(), d);
        let doc: serde_json::Value = serde_json::from_slice(&r.to_json_bytes()).unwrap();
        assert_eq!(doc["cacheDuration"], text);
    }
}

#[test]
fn kubelet_request_carries_the_service_account_token_and_annotations_kep_4412() {
    const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.e30.c2ln";
    let request = format!(
        r#"{{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"nginx","serviceAccountToken":"{TOKEN}","serviceAccountAnnotations":{{"a.example/app":"web"}},"later":1}}"#
    );
    let r = CredentialProviderRequest::from_json(request.as_bytes()).unwrap();
    assert_eq!(r.image().name(), "docker.io/library/nginx");
    assert_eq!(r.service_account_token(), Some(TOKEN));
    assert_eq!(r.service_account_annotations()["a.example/app"], "web");
    let shown = format!("{r:?} {r:#?}");
    assert!(
        !shown.contains("eyJ") && shown.contains("<redacted>"),
        "{shown}"
    );

    let plain = br#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"nginx"}"#;
    let r = CredentialProviderRequest::from_json(plain).unwrap();
    assert!(r.service_account_token().is_none());
    assert!(r.service_account_annotations().is_empty());

    let empty = br#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"nginx","serviceAccountToken":""}"#;
    assert!(matches!(
        CredentialProviderRequest::from_json(empty),
        Err(RequestError::EmptyToken)
    ));
    // An annotation twice is refused, naming its place only.
    let twice = br#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"nginx","serviceAccountAnnotations":{"k":"one","k":"two"}}"#;
    let e = CredentialProviderRequest::from_json(twice).unwrap_err();
    assert!(matches!(e, RequestError::DuplicateKey { .. }), "{e:?}");
    assert!(!e.to_string().contains("two"), "{e}");
}

#[test]
fn r21_no_password_in_debug_or_errors() {
    let store = store_with(&[(Scope::Foundation, "registry.example.com", "user")]);
    let (image, r) = chosen(&store, "registry.example.com/team/app");
    let d = AuthFile::docker(&image, &r).unwrap();
    let h = RegistryAuthHeader::new(&image, &r).unwrap();
    let k = CredentialProviderResponse::new(&image, Some(&r)).unwrap();
    let shown = format!("{d:?} {d:#?} {h:?} {h:#?} {k:?} {k:#?}");
    assert!(!shown.contains(SECRET), "{shown}");
    // Nor its base64, in any alignment of the `auth` field.
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("user:{SECRET}"));
    assert!(!shown.contains(&encoded[8..20]), "{shown}");
    assert!(shown.contains("<redacted>") && shown.contains("user"));
    // The bytes, when asked for, do hold it.
    assert!(String::from_utf8_lossy(&k.to_json_bytes()).contains(SECRET));
}

#[test]
fn an_outranked_credential_exports_for_its_own_location() {
    let (a, store) = team_and_foundation("registry.example.com", "foundation-user");
    let image: Reference = "registry.example.com/team/app".parse().unwrap();
    let all = resolve_all(&store, &a, &image).unwrap();
    assert_eq!(all.len(), 2);
    let outranked = AuthFile::containers(&image, &all[1]).unwrap();
    assert_eq!(outranked.key(), "registry.example.com");
    assert_eq!(outranked.username().as_str(), "foundation-user");
}

#[test]
fn r7_an_exported_auth_json_imports_back_to_the_same_location_and_credential() {
    let (_, store) = team_and_foundation("docker.io", "hub");
    for image in ["registry.example.com/team/app", "nginx"] {
        let (image, r) = chosen(&store, image);
        for file in [
            AuthFile::containers(&image, &r).unwrap(),
            AuthFile::docker(&image, &r).unwrap(),
        ] {
            let back = import::read(&file.to_json_bytes()).unwrap();
            assert!(back.skipped.is_empty());
            assert_eq!(back.entries.len(), 1);
            let e = &back.entries[0];
            assert_eq!(&e.credential, r.credential());
            if file.form() == AuthFileForm::Containers {
                assert_eq!(&e.location, r.location());
            } else {
                assert_eq!(e.location.as_str(), image.registry());
            }
        }
    }
}

/// A fresh directory for one test.
fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("export-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The names in `dir`, sorted.
fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// R21: a file holding a password is written readable by its owner alone,
/// whole, and parses back; a file already there is replaced, its looser
/// mode not kept, and no temporary file is left behind.
#[test]
fn r21_write_to_path_creates_an_owner_only_file_that_parses_back() {
    let store = store_with(&[(Scope::Foundation, "docker.io", "hub")]);
    let (image, r) = chosen(&store, "nginx");
    let dir = temp_dir("mode");
    for (form, name) in [
        (AuthFileForm::Docker, "config.json"),
        (AuthFileForm::Containers, "auth.json"),
    ] {
        let path = dir.join(name);
        let file = AuthFile::new(form, &image, &r).unwrap();
        file.write_to_path(&path).unwrap();
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600, "{name}");
        let written = std::fs::read(&path).unwrap();
        assert_eq!(written, *file.to_json_bytes());
        let entry = &auths(&written)[file.key()];
        let auth = base64::engine::general_purpose::STANDARD
            .decode(entry["auth"].as_str().unwrap())
            .unwrap();
        assert_eq!(auth, format!("hub:{SECRET}").as_bytes());
    }

    // An existing, world-readable file is replaced by an owner-only one.
    let path = dir.join("config.json");
    std::fs::write(&path, b"{\"auths\": {}, \"old\": true}").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    AuthFile::docker(&image, &r)
        .unwrap()
        .write_to_path(&path)
        .unwrap();
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert!(doc.get("old").is_none(), "replaced whole: {doc}");
    assert_eq!(
        names(&dir),
        ["auth.json", "config.json"],
        "no temporary file left"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// R21: a symlink, a FIFO or a directory at the path is refused and left
/// as it was: the password never goes where a link points.
#[cfg(unix)]
#[test]
fn r21_write_to_path_refuses_what_is_not_a_regular_file() {
    use registry_credentials_interop::export::WriteFileError;
    let store = store_with(&[(Scope::Foundation, "docker.io", "hub")]);
    let (image, r) = chosen(&store, "nginx");
    let file = AuthFile::docker(&image, &r).unwrap();
    let dir = temp_dir("refuse");

    let target = dir.join("elsewhere.json");
    std::fs::write(&target, b"untouched").unwrap();
    let link = dir.join("config.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let e = file.write_to_path(&link).unwrap_err();
    assert!(
        matches!(&e, WriteFileError::NotARegularFile { path } if *path == link),
        "{e:?}"
    );
    assert!(e.to_string().contains("is not a regular file"), "{e}");
    assert!(!e.to_string().contains(SECRET));
    assert_eq!(std::fs::read(&target).unwrap(), b"untouched");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );

    let fifo = dir.join("fifo.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let e = file.write_to_path(&fifo).unwrap_err();
    assert!(matches!(e, WriteFileError::NotARegularFile { .. }), "{e:?}");

    let sub = dir.join("sub");
    std::fs::create_dir(&sub).unwrap();
    let e = file.write_to_path(&sub).unwrap_err();
    assert!(matches!(e, WriteFileError::NotARegularFile { .. }), "{e:?}");

    // A missing directory is an I/O error naming the step and the path.
    let e = file
        .write_to_path(dir.join("missing").join("config.json"))
        .unwrap_err();
    assert!(
        matches!(&e, WriteFileError::Io { step: "create", .. }),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("could not create `"), "{e}");

    assert_eq!(
        names(&dir),
        ["config.json", "elsewhere.json", "fifo.json", "sub"]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A store holding the foundation's credential of `kind` for
/// `registry.example.com`, and the resolution for an image there.
fn token_of(kind: registry_credentials::CredentialKind) -> (Reference, Resolution) {
    let store = MemoryStore::new();
    store
        .create(RegistryCredential::new(
            Scope::Foundation,
            "registry.example.com".parse().unwrap(),
            Credential::of_kind(kind, "account", SECRET).unwrap(),
        ))
        .unwrap();
    chosen(&store, "registry.example.com/team/app:1")
}

/// R24: each kind is written as Docker and containers/image write it, and
/// reads back through the import with its kind, username and secret.
#[test]
fn r24_every_kind_exports_as_docker_writes_it_and_imports_back() {
    use registry_credentials::CredentialKind;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for (kind, entry) in [
        (
            CredentialKind::Password,
            serde_json::json!({"auth": b64(&format!("account:{SECRET}"))}),
        ),
        (
            CredentialKind::IdentityToken,
            serde_json::json!({"auth": b64("account:"), "identitytoken": SECRET}),
        ),
        (
            CredentialKind::RegistryToken,
            serde_json::json!({"registrytoken": SECRET}),
        ),
    ] {
        let (image, r) = token_of(kind);
        for form in [AuthFileForm::Docker, AuthFileForm::Containers] {
            let file = AuthFile::new(form, &image, &r).unwrap();
            let bytes = file.to_json_bytes();
            let doc = auths(&bytes);
            assert_eq!(doc["registry.example.com"], entry, "{kind} {form:?}");
            let back = import::read(&bytes).unwrap();
            assert!(back.skipped.is_empty(), "{kind}: {:?}", back.skipped);
            let c = &back.entries[0].credential;
            let username = match kind {
                CredentialKind::RegistryToken => "<token>",
                _ => "account",
            };
            assert_eq!(
                (c.kind(), c.username().as_str(), c.password().expose()),
                (kind, username, SECRET)
            );
            assert!(!format!("{file:?}").contains(SECRET));
        }
    }
}

/// R24: `X-Registry-Auth` carries a token in the Engine's `AuthConfig`
/// field for it, with no username or password.
#[test]
fn r24_x_registry_auth_carries_tokens_in_their_fields() {
    use registry_credentials::CredentialKind;
    for (kind, field) in [
        (CredentialKind::IdentityToken, "identitytoken"),
        (CredentialKind::RegistryToken, "registrytoken"),
    ] {
        let (image, r) = token_of(kind);
        let header = RegistryAuthHeader::new(&image, &r).unwrap();
        let json = base64::engine::general_purpose::URL_SAFE
            .decode(&*header.header_value())
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(
            v,
            serde_json::json!({field: SECRET, "serveraddress": "registry.example.com"})
        );
    }
}

/// R24: kubelet takes a username and password alone: a token is refused
/// with an error that names the kind and never the secret.
#[test]
fn r24_kubelet_response_refuses_a_token_kind() {
    use registry_credentials::CredentialKind;
    for kind in [CredentialKind::IdentityToken, CredentialKind::RegistryToken] {
        let (image, r) = token_of(kind);
        let e = CredentialProviderResponse::new(&image, Some(&r)).unwrap_err();
        assert!(matches!(e, ExportError::NotCarried { kind: k, .. } if k == kind));
        let message = e.to_string();
        assert!(message.contains(kind.secret_name()), "{message}");
        assert!(!message.contains(SECRET), "{message}");
        assert!(!registry_credentials_interop::export::kubelet_carries(
            r.stored()
        ));
    }
    let (image, r) = token_of(CredentialKind::Password);
    assert!(CredentialProviderResponse::new(&image, Some(&r)).is_ok());
}
