//! The helper and the kubelet provider over the cf tool's state
//! (`CF_HOME`): the puller variables and the service-account mapping are
//! names, looked up in the tool's directory (R26).

mod common;
mod tokens;

use std::ffi::OsString;
use std::path::Path;
use std::process::Output;

use common::{answer, stdout};
use registry_credentials_cf_cli::{Io, run};

/// Runs the cf tool's `line` in `home`, with `password` as `CF_DOCKER_PASSWORD`.
fn cf(home: &Path, password: Option<&str>, line: &str) {
    let args: Vec<OsString> = line.split_whitespace().map(OsString::from).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut prompt = |_: &str| Err(std::io::Error::other("no terminal"));
    let mut stdin: &[u8] = b"";
    let mut io = Io {
        cf_home: Some(home.as_os_str().to_owned()),
        home: None,
        password_env: password.map(OsString::from),
        registry_key: None,
        prompt: &mut prompt,
        stdin: &mut stdin,
        out: &mut out,
        err: &mut err,
    };
    let code = run(&args, &mut io);
    assert_eq!(code, 0, "cf {line}: {}", String::from_utf8_lossy(&err));
}

/// A cf state with an admin logged in, the organization `myorg` and its
/// space `myspace`.
fn platform() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    cf(home.path(), None, "auth admin");
    cf(home.path(), None, "create-org myorg");
    cf(home.path(), None, "create-space myspace -o myorg");
    home
}

/// [`platform`] with a foundation credential for `location`: user
/// `hub-user`, password `hub-Password-1`.
fn platform_with_foundation_credential(location: &str) -> tempfile::TempDir {
    let home = platform();
    let line = format!("create-foundation-registry-credential {location} --username hub-user");
    cf(home.path(), Some("hub-Password-1"), &line);
    home
}

/// Targets `target` (`-o ORG [-s SPACE]`), then runs `create`, a
/// `create-*-registry-credential` line, with `password`.
fn create_targeted(home: &Path, target: &str, password: &str, create: &str) {
    cf(home, None, &format!("target {target}"));
    cf(home, Some(password), create);
}

fn helper(home: &Path, env: &[(&str, &str)], args: &[&str], stdin: &str) -> Output {
    common::helper(("CF_HOME", home.as_os_str()), None, env, args, stdin)
}

#[test]
fn names_are_looked_up_in_the_cf_tool_s_directory_r26() {
    let home = platform_with_foundation_credential("docker.io");
    create_targeted(
        home.path(),
        "-o myorg",
        "org-Password-2",
        "create-org-registry-credential registry.example.com --username org-user",
    );

    let v = answer(&helper(
        home.path(),
        &[("REGISTRY_CREDENTIALS_SPACE", "myorg/myspace")],
        &["get"],
        "registry.example.com",
    ));
    assert_eq!(v["Username"], "org-user");
    assert_eq!(v["Secret"], "org-Password-2");

    // The foundation alone: the organization's credential is not its.
    let o = helper(home.path(), &[], &["get"], "registry.example.com");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "credentials not found in native keychain\n");
    let o = helper(home.path(), &[], &["get"], "https://index.docker.io/v1/");
    assert!(stdout(&o).contains("hub-user"), "{}", stdout(&o));

    // A name the directory does not know is an error, not the foundation.
    let o = helper(
        home.path(),
        &[("REGISTRY_CREDENTIALS_ORG", "nosuchorg")],
        &["get"],
        "docker.io",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("no organization named \"nosuchorg\""),
        "{}",
        stdout(&o)
    );
}

#[test]
fn no_cf_state_is_a_clear_error_and_creates_nothing() {
    let home = tempfile::tempdir().unwrap();
    let o = helper(home.path(), &[], &["get"], "docker.io");
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("the cf tool has no state"));
    assert!(!home.path().join(".cf").exists());
}

/// The kubelet provider over the cf tool's state: the mapping names an
/// organization and space by their names, looked up in the tool's
/// directory as the helper's variables are; node mode serves the
/// foundation's credential alone (R26).
#[test]
fn the_kubelet_provider_maps_service_accounts_to_names_in_the_cf_tool_s_directory() {
    use tokens::{AUDIENCE, ISSUER, fixture, request, token};
    let home = platform_with_foundation_credential("registry.example.com");
    create_targeted(
        home.path(),
        "-o myorg -s myspace",
        "space-Password-2",
        "create-space-registry-credential registry.example.com --username space-user",
    );
    let mapping = home.path().join("mapping.json");
    std::fs::write(
        &mapping,
        r#"{"serviceAccounts":[{"namespace":"shop","space":"myorg/myspace"},{"namespace":"gone","org":"nosuchorg"}]}"#,
    )
    .unwrap();
    let args = [
        format!("--jwks={}", fixture("issuer.jwks.json").display()),
        format!("--issuer={ISSUER}"),
        format!("--audience={AUDIENCE}"),
        format!("--service-accounts={}", mapping.display()),
    ];
    let provider = |stdin: &str| {
        registry_credentials_test_support::process::output_with_input(
            std::process::Command::new(env!("CARGO_BIN_EXE_registry-credentials-kubelet-provider"))
                .args(&args)
                .env_clear()
                .env("CF_HOME", home.path()),
            stdin.as_bytes(),
        )
    };
    let sign = |ns: &str| {
        token(
            "issuer-es256.der",
            jsonwebtoken::Algorithm::ES256,
            "es256-key",
            ns,
            "web",
            |_| {},
        )
    };
    let image = "registry.example.com/team/app";
    let user = |o: &Output| -> serde_json::Value {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["auth"][image]["username"].clone()
    };
    let o = provider(&request(image, Some(&sign("shop")), &[]));
    assert_eq!(user(&o), "space-user");
    let o = provider(&request(image, None, &[]));
    assert_eq!(user(&o), "hub-user");
    // A name the directory does not know is refused, not the foundation.
    let o = provider(&request(image, Some(&sign("gone")), &[]));
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no organization named \"nosuchorg\""),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
