//! `cf curl`: the API's registry credentials resource (R16–R23) through
//! the built binary, as the logged-in user, its answers printed as
//! indented JSON as cf's `curl` prints the platform's, whatever their
//! status; `-f` exits 22 on an error; no password is ever printed (R21).

use serde_json::{Value, json};

use super::*;

/// Runs the binary; its exit code and standard output, with standard
/// error empty.
fn curl(sh: &Shell, args: &[&str]) -> (i32, String) {
    let mut all = vec!["curl"];
    all.extend_from_slice(args);
    let o = cf_run(sh, &all, &[]);
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.is_empty(), "{args:?}: {err}");
    (
        o.status.code().unwrap(),
        String::from_utf8(o.stdout).unwrap(),
    )
}

/// The JSON `cf curl` printed, checked to be indented as the platform
/// indents it and to end in a newline.
fn printed(out: &str) -> Value {
    assert!(out.ends_with("}\n"), "{out:?}");
    assert!(out.starts_with("{\n  \""), "{out:?}");
    serde_json::from_str(out).unwrap()
}

#[test]
fn r16_r22_curl_creates_reads_changes_lists_and_deletes_as_the_logged_in_user() {
    let mut sh = platform("curl-routes");
    sh.ok("target -o myorg -s myspace");
    sh.ok_with(
        Some("space-SECRET-pw"),
        "create-space-registry-credential registry.example.com --username space-user",
    );
    sh.ok("auth developer");
    sh.ok("target -o myorg -s myspace");

    // GET by default: the list, as the developer sees it.
    let (code, out) = curl(&sh, &["/v3/registry_credentials"]);
    assert_eq!(code, 0);
    let list = printed(&out);
    assert_eq!(list["pagination"]["total_results"], 1);
    let existing = &list["resources"][0];
    assert_eq!(existing["username"], "space-user");
    assert_eq!(existing["scope"], "space");
    let space = existing["relationships"]["space"]["data"]["guid"]
        .as_str()
        .unwrap()
        .to_owned();

    // POST with -d: a space credential, 201, shown without its password.
    let body = json!({
        "location": "other.example.com",
        "username": "ci",
        "password": "curl-SECRET-1",
        "relationships": {"space": {"data": {"guid": space}}},
    })
    .to_string();
    let (code, out) = curl(&sh, &["/v3/registry_credentials", "-d", &body]);
    assert_eq!(code, 0);
    let created = printed(&out);
    assert_eq!(created["location"], "other.example.com");
    let guid = created["guid"].as_str().unwrap().to_owned();
    assert!(!out.contains("SECRET"), "{out}");

    // PATCH, with a path without its leading `/`, as cf's `curl` takes it.
    let path = format!("v3/registry_credentials/{guid}");
    let patch = r#"{"metadata": {"labels": {"env": "prod"}}}"#;
    let (code, out) = curl(&sh, &[&path, "-X", "PATCH", "-d", patch]);
    assert_eq!(code, 0);
    assert_eq!(printed(&out)["metadata"]["labels"], json!({"env": "prod"}));
    let (_, out) = curl(
        &sh,
        &[
            "/v3/registry_credentials?label_selector=env=prod",
            "-X",
            "GET",
        ],
    );
    assert_eq!(printed(&out)["resources"][0]["guid"], guid.as_str());
    // The command line's own listing shows what the API stored.
    assert_says(&sh.ok("registry-credentials"), "other.example.com");

    // A refusal is printed as the API's error, and exits 0 without -f and
    // 22 with it; nothing changes.
    let foundation = r#"{"location": "docker.io", "username": "u", "password": "curl-SECRET-2"}"#;
    let before = sh.snapshot();
    let (code, out) = curl(&sh, &["/v3/registry_credentials", "-d", foundation]);
    assert_eq!(code, 0);
    assert_eq!(printed(&out)["errors"][0]["code"], 10003);
    let (code, out) = curl(&sh, &["/v3/registry_credentials", "-d", foundation, "-f"]);
    assert_eq!(code, 22);
    assert_eq!(printed(&out)["errors"][0]["title"], "CF-NotAuthorized");
    let (code, out) = curl(&sh, &["/v3/nothing-here", "--fail"]);
    assert_eq!(code, 22);
    assert_eq!(printed(&out)["errors"][0]["code"], 10000);
    assert_eq!(sh.snapshot(), before);

    // -d @FILE reads the body from a file.
    let file = sh.work().join("body.json");
    fs::write(
        &file,
        r#"{"username": "from-file", "password": "curl-SECRET-3"}"#,
    )
    .unwrap();
    let at = format!("@{}", file.display());
    let path = format!("/v3/registry_credentials/{guid}");
    let (code, out) = curl(&sh, &[&path, "-X", "PATCH", "-d", &at]);
    assert_eq!(code, 0);
    assert_eq!(printed(&out)["username"], "from-file");
    fs::remove_file(&file).unwrap();
    let stored = sh.stored_passwords();
    assert!(stored.contains(&"curl-SECRET-3".to_owned()), "{stored:?}");

    // DELETE: 204, an empty body printed as an empty line.
    let (code, out) = curl(&sh, &[&path, "-X", "DELETE"]);
    assert_eq!((code, out.as_str()), (0, "\n"));
    let (code, out) = curl(&sh, &[&path, "-f"]);
    assert_eq!(code, 22);
    assert_eq!(printed(&out)["errors"][0]["code"], 10010);
    assert_eq!(sh.stored_passwords(), ["space-SECRET-pw"]);
    sh.secrets
        .extend(["curl-SECRET-1", "curl-SECRET-2", "curl-SECRET-3"].map(str::to_owned));
    sh.assert_no_secret_printed();
}

#[test]
fn r21_curl_needs_a_login_and_another_spaces_credential_is_not_found() {
    let mut sh = platform("curl-rules");
    sh.ok("create-space other -o myorg");
    sh.ok("target -o myorg -s other");
    sh.ok_with(
        Some("other-SECRET-pw"),
        "create-space-registry-credential hidden.example.com --username u",
    );
    let (_, out) = curl(&sh, &["/v3/registry_credentials"]);
    let guid = printed(&out)["resources"][0]["guid"]
        .as_str()
        .unwrap()
        .to_owned();
    sh.ok("auth developer");
    let (code, out) = curl(&sh, &["/v3/registry_credentials"]);
    assert_eq!(code, 0);
    assert_eq!(printed(&out)["pagination"]["total_results"], 0);
    let path = format!("/v3/registry_credentials/{guid}");
    let (code, out) = curl(&sh, &[&path, "-X", "DELETE", "-f"]);
    assert_eq!(code, 22);
    assert_eq!(printed(&out)["errors"][0]["title"], "CF-ResourceNotFound");
    assert_eq!(sh.stored_passwords(), ["other-SECRET-pw"]);

    // Without a login there is no caller: the command fails as every
    // command does, and prints no JSON.
    let fresh = Shell::new("curl-no-login");
    let o = cf_run(&fresh, &["curl", "/v3/registry_credentials"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    sh.assert_no_secret_printed();
}
