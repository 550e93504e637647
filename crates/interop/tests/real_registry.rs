//! The crate's decision against a real registry: Debian's `docker-registry`
//! (the CNCF distribution registry) on 127.0.0.1 with htpasswd
//! authentication, holding one image, started by `.ci/registry.sh setup`.
//!
//! Credentials are stored at several scopes: the right one where precedence
//! must pick it (R14: the space's, for the image's namespace), wrong ones
//! where precedence must pass them over (the space's for the whole
//! registry, outranked by specificity; the organization's and the
//! foundation's, outranked by scope). The chosen one, exported as
//! containers' `auth.json` and as Docker's `config.json`, opens the image
//! with `skopeo inspect` and with oci-client; every outranked one, exported
//! the same way, is refused with "unauthorized". Last, an `auth.json`
//! written by `skopeo login` is imported through the management API and
//! resolved.
//!
//! Run it: `.ci/registry.sh setup`, then
//! `cargo test -p registry-credentials-interop --all-features -- --ignored`,
//! then `.ci/registry.sh teardown`. CI does all three.
#![cfg(all(feature = "oci-client", feature = "oci-spec"))]

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use registry_credentials::resolve::resolve_all;
use registry_credentials::scope::AppId;
use registry_credentials::{App, MemoryStore, Reference, Resolution, Scope, ScopeKind, resolve};
use registry_credentials_cf::manage::Manager;
use registry_credentials_interop::apply::{Policy, import_into};
use registry_credentials_interop::export::{AuthFile, AuthFileForm};
use registry_credentials_interop::import;
use registry_credentials_interop::oci::{oci_reference, registry_auth};
use registry_credentials_test_support::cf::World;
use registry_credentials_test_support::process::{output_with_input, printed};
use registry_credentials_test_support::registry::Registry;

/// The registry of `.ci/registry.sh setup`, and its image.
fn registry() -> (Registry, Reference) {
    let env = Registry::from_env();
    let image = env
        .image
        .parse()
        .expect("the test image is a valid reference");
    (env, image)
}

/// A private scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("rc-interop-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// Writes `bytes` to a new file readable by its owner only.
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .unwrap();
        f.write_all(bytes).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// `skopeo inspect` of `image` with `authfile` only; its output and
/// whether it succeeded.
fn skopeo_inspect(authfile: &Path, image: &Reference) -> (bool, String) {
    let out = Command::new("skopeo")
        .env_remove("REGISTRY_AUTH_FILE")
        .args(["inspect", "--tls-verify=false", "--authfile"])
        .arg(authfile)
        .arg(format!("docker://{}", image.as_str()))
        .output()
        .expect("skopeo runs");
    (out.status.success(), printed(&out))
}

fn pull_manifest(image: &Reference, resolution: &Resolution) -> Result<String, String> {
    // oci-client's TLS stack needs a crypto provider even for plain HTTP.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = oci_client::Client::new(oci_client::client::ClientConfig {
        protocol: oci_client::client::ClientProtocol::Http,
        ..Default::default()
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(client.pull_manifest(&oci_reference(image), &registry_auth(Some(resolution))))
        .map(|(_, digest)| digest)
        .map_err(|e| e.to_string())
}

/// The world's app `app-1` in its space (not pushed: resolution needs
/// only its ids).
fn app(w: &World<Manager<MemoryStore>>) -> App {
    App::from_ids(w.org.clone(), w.space.clone(), AppId::new("app-1").unwrap())
}

#[test]
#[ignore = "needs docker-registry and skopeo: .ci/registry.sh setup"]
fn r14_the_chosen_credential_opens_the_registry_and_outranked_ones_do_not() {
    let (env, image) = registry();
    let w = World::new(MemoryStore::new());
    let (org, space) = (Scope::Org(w.org.clone()), Scope::Space(w.space.clone()));
    let reg = &env.address;
    let team = format!("{reg}/team");
    let user = &env.user;
    // The right one: the space's, for the image's namespace.
    w.store(space.clone(), &team, user, &env.password);
    // Outranked by specificity: the same space, the whole registry.
    w.store(space.clone(), reg, user, "space-registry-wrong");
    // Outranked by scope: the organization's for the very same namespace,
    // and the foundation's.
    w.store(org, &team, user, "org-wrong");
    w.store(Scope::Foundation, reg, "someone-else", "foundation-wrong");
    // Not a candidate at all (R10: `team` never matches `team-x`).
    w.store(space, &format!("{reg}/team-x"), user, "never");
    let app = app(&w);

    let chosen = resolve(w.m.store(), &app, &image)
        .unwrap()
        .expect("R14: a credential");
    assert_eq!(chosen.scope_kind(), ScopeKind::Space);
    assert_eq!(chosen.location().as_str(), team);
    let all = resolve_all(w.m.store(), &app, &image).unwrap();
    assert_eq!(all.len(), 4, "the winner and three outranked");

    let scratch = Scratch::new("precedence");
    for (i, r) in all.iter().enumerate() {
        for form in [AuthFileForm::Containers, AuthFileForm::Docker] {
            let file = AuthFile::new(form, &image, r).unwrap();
            let path = scratch.write(&format!("{i}-{form:?}.json"), &file.to_json_bytes());
            let (ok, out) = skopeo_inspect(&path, &image);
            let what = format!(
                "{} credential for {} as {form:?} ({})",
                r.scope_kind().as_str(),
                r.location(),
                file.key()
            );
            if i == 0 {
                assert!(ok, "the chosen {what} must open the image:\n{out}");
                assert!(out.contains("\"Digest\""), "{out}");
            } else {
                assert!(!ok, "the outranked {what} must not open the image:\n{out}");
                assert!(out.contains("unauthorized"), "{what}:\n{out}");
            }
        }
    }

    // From Rust, with oci-client.
    let digest =
        pull_manifest(&image, &chosen).expect("oci-client pulls with the chosen credential");
    assert!(digest.starts_with("sha256:"), "{digest}");
    for r in &all[1..] {
        let e = pull_manifest(&image, r).unwrap_err();
        // oci-client says "Not authorized: url …" for the registry's 401.
        assert!(e.to_lowercase().contains("authorized"), "{e}");
    }
}

#[test]
#[ignore = "needs docker-registry and skopeo: .ci/registry.sh setup"]
fn r16_r20_an_auth_json_from_skopeo_login_imports_and_resolves() {
    let (env, image) = registry();
    let scratch = Scratch::new("login");
    let authfile = scratch.0.join("auth.json");
    let out = output_with_input(
        Command::new("skopeo")
            .args(["login", "--tls-verify=false", "--authfile"])
            .arg(&authfile)
            .args(["--username", &env.user, "--password-stdin", &env.address]),
        env.password.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let bytes = fs::read(&authfile).unwrap();
    let found = import::read(&bytes).unwrap();
    assert_eq!(found.form, import::Form::Auths);
    assert_eq!(found.entries.len(), 1, "{}", found.report());
    assert_eq!(found.entries[0].location.as_str(), env.address);

    let w = World::new(MemoryStore::new());
    let scope = Scope::Org(w.org.clone());
    let report = import_into(&w.m, &w.admin, &scope, found, Policy::AllOrNothing).unwrap();
    assert_eq!(report.imported(), 1, "{report}");
    assert!(!report.to_string().contains(&env.password));

    let chosen = resolve(w.m.store(), &app(&w), &image)
        .unwrap()
        .expect("the imported credential");
    assert_eq!(chosen.scope_kind(), ScopeKind::Org);
    assert_eq!(chosen.credential().password().expose(), env.password);
    let file = AuthFile::containers(&image, &chosen).unwrap();
    let path = scratch.write("exported.json", &file.to_json_bytes());
    let (ok, out) = skopeo_inspect(&path, &image);
    assert!(ok, "{out}");
    assert!(pull_manifest(&image, &chosen).is_ok());
}
