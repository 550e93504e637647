//! The user page's own sequence of commands, its refusals and errors,
//! password prompts, deletions, and imports, in this process.

use std::fs;

use registry_credentials::CredentialStore;

use super::*;

#[test]
fn r16_r21_the_user_page_replayed() {
    let mut sh = platform("page");

    // "an Admin can create a Registry Credential for the Foundation"
    sh.ok_with(
        Some("hub-Password-1"),
        "create-foundation-registry-credential docker.io/library --username docker-user",
    );
    sh.ok_with(
        Some("repo-Password-2"),
        "create-foundation-registry-credential registry.example.com/repo --username private-repo-user",
    );

    // "an Org Manager can create a Registry Credential for an Organization"
    sh.ok("auth org-manager");
    sh.ok("target -o myorg");
    sh.ok_with(
        Some("org-Password-3"),
        "create-org-registry-credential registry.example.com/repo --username orguser",
    );

    // "Space Developers can push apps referencing images in the private
    // registry without providing credentials"
    sh.ok("auth developer");
    let out = sh.ok("target -o myorg -s myspace");
    assert!(
        out.contains("org:    myorg") && out.contains("space:  myspace"),
        "{out}"
    );
    sh.ok_saying("push otherapp --docker-image registry.example.com/repo/image:tag", "Using registry credential: scope organization, location registry.example.com/repo, username orguser");

    // "to create a Space-scoped Registry Credential, the user must target
    // the Space first"
    sh.ok_with(
        Some("space-Password-4"),
        "create-space-registry-credential registry.example.com --username spaceuser",
    );

    // "If an App is pushed with Docker credentials provided, an App-scoped
    // Registry Credential is created automatically"
    let out = sh.ok_with(
        Some("app-Password-5"),
        "push myapp --docker-image nginx --docker-username myuser",
    );
    assert_says(
        &out,
        "Using registry credential: scope push, location docker.io/library, username myuser",
    );
    assert_says(
        &out,
        "Stored the app's registry credential for docker.io/library",
    );

    // The page's listing (with its typo `docker.io/libary` read as meant).
    let out = sh.ok("registry-credentials");
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("Showing registry credentials available to org 'myorg' and space 'myspace'...")
    );
    assert_eq!(
        lines.collect::<Vec<_>>().join("\n"),
        "\
location                    scope          username            app name
docker.io/library           app            myuser              myapp
registry.example.com        space          spaceuser
registry.example.com/repo   organization   orguser
docker.io/library           foundation     docker-user
registry.example.com/repo   foundation     private-repo-user"
    );

    // Resolution reads the current store (R14, R17): the app credential
    // then serves later pushes without credentials…
    sh.ok_saying(
        "push myapp --docker-image nginx",
        "scope app, location docker.io/library, username myuser",
    );
    // …and serves that app alone (R19).
    sh.ok_saying(
        "push thirdapp --docker-image library/nginx:1.27",
        "scope foundation, location docker.io/library, username docker-user",
    );

    // "Providing new credentials on future pushes updates the App-scoped
    // Registry Credential."
    let out = sh.ok_with(
        Some("app-Password-6"),
        "push myapp --docker-image nginx --docker-username newuser",
    );
    assert_says(&out, "Replaced the app's registry credential");

    // Updating: "Only username or password may be updated".
    sh.ok_with(
        Some("space-Password-7"),
        "update-space-registry-credential registry.example.com --username spaceuser2",
    );
    sh.ok("auth org-manager");
    sh.ok("target -o myorg");
    sh.ok_with(
        Some("org-Password-8"),
        "update-org-registry-credential registry.example.com/repo",
    );
    sh.ok("auth admin");
    sh.ok_with(
        Some("hub-Password-9"),
        "update-foundation-registry-credential docker.io/library --username docker-user2",
    );

    sh.ok("auth developer");
    sh.ok("target -o myorg -s myspace");
    assert_eq!(
        sh.rows(),
        cells(&[
            "docker.io/library app newuser myapp",
            "registry.example.com space spaceuser2",
            "registry.example.com/repo organization orguser",
            "docker.io/library foundation docker-user2",
            "registry.example.com/repo foundation private-repo-user",
        ])
    );

    // Deleting, with the page's four commands.
    sh.ok("delete-app-registry-credential docker.io/library myapp -f");
    sh.ok_saying(
        "push myapp --docker-image nginx",
        "scope foundation, location docker.io/library, username docker-user2",
    );
    sh.ok("delete-space-registry-credential registry.example.com -f");
    sh.ok("auth org-manager");
    sh.ok("target -o myorg");
    sh.ok("delete-org-registry-credential registry.example.com/repo -f");
    sh.ok("auth admin");
    sh.ok("delete-foundation-registry-credential docker.io/library -f");
    sh.ok("target -o myorg -s myspace");
    assert_eq!(
        sh.rows(),
        cells(&["registry.example.com/repo foundation private-repo-user"])
    );
    // R15: nothing matches, the push goes on.
    sh.ok_saying(
        "push myapp --docker-image nginx",
        "No registry credential matches nginx",
    );

    // "If no space or organization is targeted, only Registry Credentials
    // available to the foundation are listed."
    sh.ok("auth developer");
    let out = sh.ok("registry-credentials");
    assert!(out.starts_with("Showing registry credentials available to the foundation...\n"));

    sh.assert_no_secret_printed();
}

#[test]
fn r20_refusals_are_one_line_and_change_nothing() {
    let mut sh = platform("refusals");
    sh.ok("auth developer");
    sh.ok("target -o myorg -s myspace");
    let e = sh.fails_with(
        Some("pw-refused-1"),
        "create-org-registry-credential registry.example.com --username u",
    );
    assert_eq!(
        e,
        "user `developer` may not create registry credentials for organization `myorg`: only an admin or an org manager of that organization may"
    );
    sh.fails_with(
        Some("pw-refused-2"),
        "create-foundation-registry-credential registry.example.com --username u",
    );
    sh.fails("create-org other");
    // Refused before any password is asked for (there is no terminal here:
    // a prompt would fail differently).
    sh.fails_saying(
        "create-org-registry-credential registry.example.com --username u",
        "may not create registry credentials",
    );
    sh.fails_saying(
        "update-foundation-registry-credential registry.example.com --username u",
        "may not update registry credentials for the foundation",
    );

    // R20: an Org Manager may not change space credentials.
    sh.ok("auth org-manager");
    sh.ok("target -o myorg -s myspace");
    sh.fails_with_saying(
        Some("pw-refused-3"),
        "create-space-registry-credential registry.example.com --username u",
        "only an admin or a space developer of that space may",
    );
    sh.fails_with_saying(
        Some("pw-refused-4"),
        "push app --docker-image nginx --docker-username u",
        "may not push app `app`",
    );
    sh.fails_saying(
        "push app --docker-image nginx --docker-username u",
        "may not push app `app`",
    );

    // R21: an organization the caller has no role in is not found.
    sh.ok("auth stranger");
    assert_eq!(
        sh.fails("target -o myorg"),
        "organization not found; check the name given with -o"
    );
    sh.assert_no_secret_printed();
}

#[test]
fn r16_r18_conflicts_missing_and_bad_input() {
    let mut sh = platform("errors");
    sh.ok_with(
        Some("pw-errors-1"),
        "create-foundation-registry-credential registry.example.com --username a",
    );
    let e = sh.fails_with(
        Some("pw-errors-2"),
        "create-foundation-registry-credential Registry.Example.com --username b",
    );
    assert_eq!(
        e,
        "a registry credential for `registry.example.com` already exists for the foundation; update or delete it instead"
    );
    sh.fails_with_saying(
        Some("pw-errors-3"),
        "update-foundation-registry-credential example.com --username b",
        "no registry credential for `example.com` exists for the foundation",
    );
    sh.fails("delete-foundation-registry-credential example.com");
    // R8: the page's own example location is refused with the fix.
    sh.fails_with_saying(
        Some("pw-errors-4"),
        "create-foundation-registry-credential registry.example.com/path/to/repo:5000 --username u",
        "did you mean `registry.example.com:5000/path/to/repo`?",
    );
    // A missing required option is a usage error: exit 1, the command's
    // help, nothing changed.
    let err = sh.usage_error("create-foundation-registry-credential example.org");
    assert_starts(
        &err,
        "Incorrect Usage: the required `--username <USERNAME>` was not given\n",
    );
    sh.fails_with_saying(
        Some(""),
        "create-foundation-registry-credential example.org --username u",
        "CF_DOCKER_PASSWORD: the password is empty",
    );
    // No CF_DOCKER_PASSWORD and no terminal to prompt on.
    sh.fails_saying(
        "create-foundation-registry-credential example.org --username u",
        "set CF_DOCKER_PASSWORD or run in a terminal",
    );
    let err = sh.usage_error("frobnicate");
    assert_starts(&err, "Incorrect Usage: argument 1 is not a command\n");
    assert!(!err.contains("frobnicate"), "{err}");
    let err = sh.usage_error("");
    assert_starts(&err, "Incorrect Usage: no command given\n");
    sh.ok("auth nobody");
    sh.fails("create-space-registry-credential example.org --username u");
    sh.assert_no_secret_printed();
}

#[test]
fn r17_password_from_the_prompt_and_partial_updates() {
    let mut sh = platform("prompt");
    sh.ok_answering(
        "typed-Password-1",
        "create-foundation-registry-credential registry.example.com --username a",
    );
    // An empty answer keeps the password: a username-only update.
    sh.ok_answering(
        "",
        "update-foundation-registry-credential registry.example.com --username b",
    );
    assert_eq!(sh.stored_passwords(), ["typed-Password-1"]);
    // A password-only update.
    sh.ok_answering(
        "typed-Password-2",
        "update-foundation-registry-credential registry.example.com",
    );
    assert_eq!(sh.stored_passwords(), ["typed-Password-2"]);
    assert_eq!(sh.rows(), cells(&["registry.example.com foundation b"]));
    sh.assert_no_secret_printed();
}

/// R13 through the tool: `delete-org`, `delete-space` and `delete APP`
/// delete what is stored at that scope and below it; a later one of the
/// same name is a new id and inherits nothing. R20: who may.
#[test]
fn r13_delete_org_space_and_app_delete_their_credentials() {
    let mut sh = platform("delete");
    sh.ok("auth developer");
    sh.ok("target -o myorg -s myspace");
    sh.ok_with(
        Some("del-Pass-1"),
        "create-space-registry-credential registry.example.com --username space-user",
    );
    sh.ok_with(
        Some("del-Pass-2"),
        "push myapp --docker-image registry.example.com/team/x --docker-username app-user",
    );
    // R20: an Org Manager may not delete an app; a developer not a space.
    sh.ok("auth org-manager");
    sh.ok("target -o myorg -s myspace");
    sh.fails_saying("delete myapp -f", "may not delete app `myapp`");
    sh.ok("auth developer");
    sh.ok("target -o myorg -s myspace");
    sh.fails_saying("delete-space myspace -o myorg -f", "may not delete spaces");
    sh.fails_saying("delete-org myorg -f", "may not delete organizations");

    let out = sh.ok("delete myapp -f");
    assert_starts(
        &out,
        "Deleting app myapp in org myorg / space myspace as developer...\n",
    );
    sh.ok_saying(
        "push myapp --docker-image registry.example.com/team/x",
        "scope space, location registry.example.com, username space-user",
    );
    sh.ok("auth org-manager");
    // Confirmed at the prompt rather than with `-f`.
    sh.stdin = "y\n".to_owned();
    let out = sh.ok("delete-space myspace -o myorg");
    assert_starts(
        &out,
        "Really delete the space myspace, including its apps and registry credentials? [yN]: Deleting space myspace",
    );
    sh.stdin.clear();
    sh.ok("auth admin");
    sh.ok("delete-org myorg -f");
    assert_eq!(sh.store().list_all().unwrap().len(), 0);
    // The same names again: new ids, nothing inherited.
    sh.ok("create-org myorg");
    sh.ok("create-space myspace -o myorg");
    sh.ok("set-space-role developer myorg myspace SpaceDeveloper");
    sh.ok("auth developer");
    sh.ok("target -o myorg -s myspace");
    sh.ok_saying(
        "push myapp --docker-image registry.example.com/team/x",
        "No registry credential matches",
    );
    assert_eq!(sh.rows(), Vec::<Vec<String>>::new());
    sh.assert_no_secret_printed();
}

/// R9, R16, R20: `import-{foundation,org,space}-registry-credentials FILE`
/// brings a Docker `config.json` into a scope through the management API:
/// R20 decides who may, R16 which usernames, R9 which keys; all or nothing
/// unless `--skip-failures`; a file that is not a regular file is refused
/// without being read; no password is printed.
#[test]
fn r9_r16_r20_import_a_docker_config_file() {
    // Standard base64, padded (what `docker login` writes).
    let b64 = |s: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(s)
    };
    let mut sh = platform("import");
    sh.secrets
        .extend(["hub-Import-Pw-1", "quay-Import-Pw-2", "wild-Import-Pw-3"].map(String::from));
    let config = format!(
        r#"{{"auths": {{
            "https://index.docker.io/v1/": {{"auth": "{}"}},
            "quay.io/team": {{"auth": "{}"}},
            "*.example.com": {{"auth": "{}"}}
        }}, "credHelpers": {{"gcr.io": "gcloud"}}}}"#,
        b64("hub-user:hub-Import-Pw-1"),
        b64("quay-user:quay-Import-Pw-2"),
        b64("wild-user:wild-Import-Pw-3"),
    );
    let file = sh.dir.join("config.json");
    fs::write(&file, config).unwrap();
    let path = file.to_str().unwrap().to_owned();

    sh.ok("auth developer");
    sh.ok("target -o myorg -s myspace");
    // R20: a Space Developer may not import into the organization.
    sh.fails_saying(
        &format!("import-org-registry-credentials {path}"),
        "may not create registry credentials",
    );
    // All or nothing: the wildcard key fails the whole import.
    let e = sh.fails_saying(
        &format!("import-space-registry-credentials {path}"),
        "nothing was created",
    );
    assert_says(&e, "*.example.com");
    assert!(sh.rows().is_empty());
    // Skipping failures imports the rest, each key as the peers read it.
    let out = sh.ok_saying(
        &format!("import-space-registry-credentials {path} --skip-failures"),
        "OK: 2 imported",
    );
    assert_says(&out, "gcr.io");
    assert_eq!(
        sh.rows(),
        cells(&["docker.io space hub-user", "quay.io/team space quay-user"])
    );
    let mut stored = sh.stored_passwords();
    stored.sort();
    assert_eq!(stored, ["hub-Import-Pw-1", "quay-Import-Pw-2"]);
    // R16: a second import is a conflict for every key, and changes nothing.
    sh.fails_saying(
        &format!("import-space-registry-credentials {path}"),
        "nothing was created",
    );
    // A file of the wrong kind is refused without being read.
    sh.fails_saying(
        "import-space-registry-credentials /dev/zero",
        "not a regular file",
    );
    sh.assert_no_secret_printed();
}
