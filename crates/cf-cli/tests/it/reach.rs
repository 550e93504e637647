//! Which apps a credential reaches (R29) on the command line:
//! `registry-credential-apps`, and `--dry-run` on the commands that
//! create, update and delete registry credentials, walked through the
//! two-credential rotation the README shows, word for word. A dry run
//! asks for no password and no confirmation and leaves the database as
//! it was.

use super::*;

/// The README's rotation: an Org Manager, `alice`, moves the apps of two
/// spaces from credential A (`example.com`) to B
/// (`registry.example.com`), then deletes A with nothing left on it.
#[test]
fn r29_the_readme_rotation_through_two_credentials() {
    let mut sh = Shell::new("reach-rotation");
    sh.ok("auth admin");
    sh.ok("create-org myorg");
    sh.ok("create-space myspace -o myorg");
    sh.ok("create-space jobs -o myorg");
    sh.ok("set-org-role alice myorg OrgManager");
    sh.ok("set-space-role bob myorg myspace SpaceDeveloper");
    sh.ok("set-space-role bob myorg jobs SpaceDeveloper");
    sh.ok("auth alice");
    sh.ok("target -o myorg");
    sh.ok_with(
        Some("robot-a-secret"),
        "create-org-registry-credential example.com --username robot-a",
    );
    sh.ok("auth bob");
    sh.ok("target -o myorg -s myspace");
    sh.ok("push web --docker-image registry.example.com/team/web:1");
    sh.ok("push cache --docker-image quay.io/team/cache");
    sh.ok("target -o myorg -s jobs");
    sh.ok("push worker --docker-image registry.example.com/jobs/worker");
    sh.ok("auth alice");
    sh.ok("target -o myorg");

    assert_eq!(
        sh.ok("registry-credential-apps example.com --org"),
        "\
Getting apps using registry credential example.com for org myorg as alice...
app      space     org     image
worker   jobs      myorg   registry.example.com/jobs/worker
web      myspace   myorg   registry.example.com/team/web:1
"
    );

    // The dry run: no password asked, nothing written.
    let before = sh.snapshot();
    assert_eq!(
        sh.ok("create-org-registry-credential registry.example.com --username robot-b --dry-run"),
        "\
Dry run: creating registry credential registry.example.com for org myorg as alice...
app      space     org     now                                  after
worker   jobs      myorg   organization example.com (robot-a)   organization registry.example.com (robot-b)
web      myspace   myorg   organization example.com (robot-a)   organization registry.example.com (robot-b)
2 apps' next pull would change.
OK: nothing was changed
"
    );
    assert_eq!(sh.snapshot(), before, "a dry run writes nothing");

    sh.ok_with(
        Some("robot-b-secret"),
        "create-org-registry-credential registry.example.com --username robot-b",
    );
    assert_eq!(
        sh.ok("registry-credential-apps registry.example.com --org"),
        "\
Getting apps using registry credential registry.example.com for org myorg as alice...
app      space     org     image
worker   jobs      myorg   registry.example.com/jobs/worker
web      myspace   myorg   registry.example.com/team/web:1
"
    );
    assert_eq!(
        sh.ok("registry-credential-apps example.com --org"),
        "\
Getting apps using registry credential example.com for org myorg as alice...
No app's next pull uses it.
"
    );

    // Nothing is left on A: its delete moves no app, asks nothing, and
    // deletes nothing.
    let before = sh.snapshot();
    assert_eq!(
        sh.ok("delete-org-registry-credential example.com --dry-run"),
        "\
Dry run: deleting registry credential example.com for org myorg as alice...
No app's registry credential would change.
OK: nothing was changed
"
    );
    assert_eq!(sh.snapshot(), before, "a dry run writes nothing");
    sh.ok("delete-org-registry-credential example.com -f");

    // A new password for B reaches both apps, which keep B.
    assert_eq!(
        sh.ok("update-org-registry-credential registry.example.com --dry-run"),
        "\
Dry run: updating registry credential registry.example.com for org myorg as alice...
app      space     org     now                                           after
worker   jobs      myorg   organization registry.example.com (robot-b)   organization registry.example.com (robot-b), updated
web      myspace   myorg   organization registry.example.com (robot-b)   organization registry.example.com (robot-b), updated
2 apps' next pull would change.
OK: nothing was changed
"
    );
    sh.assert_no_secret_printed();
}

#[test]
fn r29_r20_dry_runs_and_app_lists_are_refused_as_the_commands_are() {
    let mut sh = platform("reach-refusals");
    sh.ok_with(
        Some("hub-pw"),
        "create-foundation-registry-credential docker.io --username hub",
    );
    sh.ok("auth developer");
    sh.ok("target -o myorg -s myspace");
    sh.ok("push web --docker-image nginx");
    sh.ok_with(
        Some("app-pw"),
        "push own --docker-image nginx --docker-username me",
    );
    // A Space Developer may see the foundation's credential and its apps…
    let out = sh.ok("registry-credential-apps docker.io");
    assert_says(&out, "web   myspace   myorg   nginx");
    assert!(
        !out.contains("own"),
        "its own credential outranks (R14): {out}"
    );
    let out = sh.ok("registry-credential-apps docker.io/library --app own");
    assert_says(&out, "own   myspace   myorg   nginx");
    // …but not dry-run a change there or at the organization (R20).
    sh.fails_saying(
        "delete-foundation-registry-credential docker.io --dry-run",
        "may not delete registry credentials for the foundation",
    );
    sh.fails_saying(
        "create-org-registry-credential example.com --username u --dry-run",
        "may not create registry credentials",
    );
    // A dry run of what does not exist fails as the command would.
    sh.fails_saying(
        "delete-space-registry-credential example.com --dry-run",
        "no registry credential for `example.com` exists",
    );
    sh.fails_saying(
        "registry-credential-apps example.com --space",
        "no registry credential for `example.com` exists",
    );
    // The app's own credential: deleting it would hand the app back to
    // the foundation's.
    let out = sh.ok("delete-app-registry-credential docker.io/library own --dry-run");
    assert_says(
        &out,
        "own   myspace   myorg   app docker.io/library (me)   foundation docker.io (hub)",
    );
    let usage = sh.usage_error("registry-credential-apps docker.io --org --space");
    assert_says(&usage, "Incorrect Usage:");
    sh.assert_no_secret_printed();
}

/// A database whose directory tables are of the first schema (before the
/// apps' images) is migrated when any command opens it, even one that
/// only reads; its apps are kept, without images until their next push.
#[test]
fn r29_a_first_schema_database_migrates_on_a_read_only_command() {
    let mut sh = platform("reach-migrate");
    sh.ok("auth developer");
    sh.ok("target -o myorg -s myspace");
    sh.ok("push web --docker-image nginx");
    sh.store()
        .transaction(|tx| {
            tx.with_connection(|c| {
                c.execute_batch(
                    "ALTER TABLE cf_apps DROP COLUMN image; \
                     UPDATE registry_credentials_cf_schema SET version = 1;",
                )
            })
            .unwrap();
            Ok::<(), registry_credentials::StoreError>(())
        })
        .unwrap();
    sh.ok("registry-credentials");
    let version: u32 = rusqlite::Connection::open(sh.db())
        .unwrap()
        .query_row(
            "SELECT version FROM registry_credentials_cf_schema",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        version,
        registry_credentials_cf::directory::SQLITE_DIRECTORY_VERSION
    );
    // The app is there; it has no image until it is pushed again.
    sh.ok_with(
        Some("hub-pw"),
        "create-space-registry-credential docker.io --username hub",
    );
    assert_says(
        &sh.ok("registry-credential-apps docker.io --space"),
        "No app's next pull uses it.",
    );
    sh.ok("push web --docker-image nginx");
    assert_says(
        &sh.ok("registry-credential-apps docker.io --space"),
        "web   myspace   myorg   nginx",
    );
}
