//! Labels on the command line, through the built binary: `set-label`,
//! `unset-label` and `labels` for a registry credential named by its
//! location and scope, as the `update-*` and `delete-*` commands name it
//! (R22), and `registry-credentials --labels SELECTOR` (R23), each
//! through the access rules (R20, R21); bad input is refused with its
//! reason, exit 1 and nothing changed.

use std::collections::BTreeMap;
use std::sync::Arc;

use registry_credentials::RegistryCredential;

use super::*;

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

/// Runs the binary, which must succeed without a word on standard
/// error; what it printed.
#[track_caller]
fn bin_ok(sh: &Shell, args: &[&str]) -> String {
    let o = cf_run(sh, args, &[]);
    let err = text(o.stderr);
    assert!(o.status.success(), "{args:?}: {err}");
    assert!(err.is_empty(), "{args:?} wrote to stderr: {err}");
    text(o.stdout)
}

/// [`bin_ok`] of `line` split on white space (its arguments hold none).
#[track_caller]
fn ok_line(sh: &Shell, line: &str) -> String {
    bin_ok(sh, &line.split_whitespace().collect::<Vec<_>>())
}

/// Runs `labels` for the foundation's credential of `docker.io`, naming
/// the scope with `scope` as written, and checks that it printed its
/// header, a blank line, then `table`.
#[track_caller]
fn assert_foundation_labels(sh: &Shell, scope: &str, table: &str) {
    let out = ok_line(sh, &format!("labels registry-credential docker.io {scope}"));
    assert_eq!(
        out,
        format!(
            "Getting labels for registry-credential docker.io of the foundation as admin...\n\n{table}"
        )
    );
}

/// [`bin_fails`] of `line` split on white space (its arguments hold
/// none).
#[track_caller]
fn fails_line(sh: &Shell, line: &str) -> String {
    bin_fails(sh, &line.split_whitespace().collect::<Vec<_>>())
}

/// Runs the binary, which must fail: exit 1, nothing on standard
/// output, one line then `FAILED` on standard error, the database
/// unchanged. The line.
#[track_caller]
fn bin_fails(sh: &Shell, args: &[&str]) -> String {
    let before = sh.snapshot();
    let o = cf_run(sh, args, &[]);
    let outcome = Outcome {
        code: o.status.code().unwrap_or(-1),
        out: text(o.stdout),
        err: text(o.stderr),
    };
    sh.failed(outcome, &args.join(" "), &before)
}

/// Runs the binary with a usage error: exit 1, `Incorrect Usage:` and
/// the command's help, the database unchanged. The first line.
#[track_caller]
fn bin_usage_error(sh: &Shell, args: &[&str]) -> String {
    let before = sh.snapshot();
    let o = cf_run(sh, args, &[]);
    let err = text(o.stderr);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
    assert!(o.stdout.is_empty(), "{args:?}");
    assert_eq!(sh.snapshot(), before, "{args:?} changed the database");
    assert_starts(&err, "Incorrect Usage: ");
    assert_says(&err, &format!("Usage: cf {}", args[0]));
    err.lines().next().unwrap().to_owned()
}

/// The stored credential at `location` whose scope is of `kind`
/// (`foundation`, `organization`, `space`, `app`).
fn stored(sh: &Shell, location: &str, kind: &str) -> Arc<RegistryCredential> {
    let all = sh.store().list_all().unwrap();
    all.into_iter()
        .find(|c| c.location().as_str() == location && c.scope().kind().as_str() == kind)
        .unwrap_or_else(|| panic!("no {kind} credential for {location}"))
}

/// The labels of a stored credential, as text.
fn labels_of(c: &RegistryCredential) -> BTreeMap<String, String> {
    c.metadata()
        .labels()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The page's platform with one credential for `docker.io/library` at
/// each scope: the foundation's, the organization's, the space's and the
/// app `myapp`'s (stored by its push), the caller left as the space
/// developer, targeting the space.
fn four_scopes(name: &str) -> Shell {
    let mut sh = platform(name);
    sh.ok_with(
        Some("foundation-Pw"),
        "create-foundation-registry-credential docker.io/library --username f-user",
    );
    sh.ok("auth org-manager");
    sh.ok("target -o myorg");
    sh.ok_with(
        Some("org-Pw"),
        "create-org-registry-credential docker.io/library --username o-user",
    );
    sh.ok("auth developer");
    sh.ok("target -o myorg -s myspace");
    sh.ok_with(
        Some("space-Pw"),
        "create-space-registry-credential docker.io/library --username s-user",
    );
    sh.ok_with(
        Some("app-Pw"),
        "push myapp --docker-image nginx --docker-username a-user",
    );
    sh
}

/// R22: `set-label` sets labels as cf's does ("Setting label(s) … as
/// USER…", then OK), merging: a key given again takes its new value,
/// keys not given stay; `labels` prints them as cf's table, sorted by
/// key; `unset-label` removes the keys given. Nothing else of the
/// credential changes: not its GUID, creation time, username or secret.
#[test]
fn r22_set_label_labels_and_unset_label_change_the_labels_alone() {
    let mut sh = platform("labels-cycle");
    sh.ok_with(
        Some("hub-Pw"),
        "create-foundation-registry-credential docker.io --username hub-user",
    );
    let before = stored(&sh, "docker.io", "foundation");

    let out = ok_line(
        &sh,
        "set-label registry-credential docker.io env=prod team.example.com/owner=ci tier= --scope foundation",
    );
    assert_eq!(
        out,
        "Setting label(s) for registry-credential docker.io of the foundation as admin...\nOK\n"
    );
    let after = stored(&sh, "docker.io", "foundation");
    assert_eq!(
        labels_of(&after),
        map(&[
            ("env", "prod"),
            ("team.example.com/owner", "ci"),
            ("tier", "")
        ])
    );
    let (was, is) = (before.record().unwrap(), after.record().unwrap());
    assert_eq!(is.guid(), was.guid());
    assert_eq!(is.created_secs(), was.created_secs());
    assert_eq!(after.username().as_str(), "hub-user");
    assert_eq!(after.password().expose(), "hub-Pw");

    assert_foundation_labels(
        &sh,
        "--scope=foundation",
        "key                      value\n\
         env                      prod\n\
         team.example.com/owner   ci\n\
         tier\n",
    );

    // A merge: `env` takes its new value, the rest stay.
    ok_line(
        &sh,
        "set-label registry-credential docker.io env=staging --scope foundation",
    );
    assert_eq!(
        labels_of(&stored(&sh, "docker.io", "foundation")),
        map(&[
            ("env", "staging"),
            ("team.example.com/owner", "ci"),
            ("tier", "")
        ])
    );

    let out = ok_line(
        &sh,
        "unset-label registry-credential docker.io env tier --scope foundation",
    );
    assert_eq!(
        out,
        "Removing label(s) for registry-credential docker.io of the foundation as admin...\nOK\n"
    );
    assert_eq!(
        labels_of(&stored(&sh, "docker.io", "foundation")),
        map(&[("team.example.com/owner", "ci")])
    );
    // Removing a key the credential does not have is no error, and
    // changes no label.
    ok_line(
        &sh,
        "unset-label registry-credential docker.io team.example.com/owner never-set --scope foundation",
    );
    assert_foundation_labels(&sh, "--scope foundation", "No labels found.\n");
    let last = stored(&sh, "docker.io", "foundation");
    assert_eq!(last.record().unwrap().guid(), was.guid());
    assert_eq!(last.password().expose(), "hub-Pw");
    sh.assert_no_secret_printed();
}

/// R22: the label commands name a credential by its location and scope,
/// as `update-*` and `delete-*` do: `--scope foundation`, `--scope org`
/// (the targeted organization), `--scope space` (the targeted space),
/// or `--app APP` (an app of the targeted space). Each reaches its own
/// credential of one location, and the `update-*` and
/// `delete-app-registry-credential` commands work beside them, keeping
/// the labels of what they update.
#[test]
fn r22_label_commands_name_a_credential_by_location_and_scope() {
    let mut sh = four_scopes("labels-scopes");
    sh.ok("auth admin");
    sh.ok("target -o myorg -s myspace");
    let set = |sh: &Shell, value: &str, which: &[&str]| {
        let label = format!("at={value}");
        let mut args = vec!["set-label", "registry-credential", "docker.io/library"];
        args.push(label.as_str());
        args.extend_from_slice(which);
        bin_ok(sh, &args)
    };
    let out = set(&sh, "foundation", &["--scope", "foundation"]);
    assert_says(&out, "of the foundation as admin...");
    let out = set(&sh, "org", &["--scope", "org"]);
    assert_says(
        &out,
        "for registry-credential docker.io/library of org myorg as admin...",
    );
    let out = set(&sh, "space", &["--scope=space"]);
    assert_says(&out, "of space myspace as admin...");
    let out = set(&sh, "app", &["--app", "myapp"]);
    assert_says(&out, "of app myapp as admin...");
    for (kind, value) in [
        ("foundation", "foundation"),
        ("organization", "org"),
        ("space", "space"),
        ("app", "app"),
    ] {
        assert_eq!(
            labels_of(&stored(&sh, "docker.io/library", kind)),
            map(&[("at", value)]),
            "{kind}"
        );
    }
    // `--scope organization` is `--scope org`; `--scope app --app APP`
    // is `--app APP`.
    let out = ok_line(
        &sh,
        "labels registry-credential docker.io/library --scope organization",
    );
    assert_says(&out, "\nat    org\n");
    let out = ok_line(
        &sh,
        "labels registry-credential docker.io/library --scope app --app=myapp",
    );
    assert_says(
        &out,
        "Getting labels for registry-credential docker.io/library of app myapp as admin...\n\nkey   value\nat    app\n",
    );

    // The update and delete commands, beside the labels: an update of
    // the username keeps them; the app's credential is deleted as before.
    sh.ok("auth developer");
    sh.ok("target -o myorg -s myspace");
    sh.ok_answering(
        "",
        "update-space-registry-credential docker.io/library --username s-user-2",
    );
    let space = stored(&sh, "docker.io/library", "space");
    assert_eq!(space.username().as_str(), "s-user-2");
    assert_eq!(labels_of(&space), map(&[("at", "space")]));
    sh.ok("delete-app-registry-credential docker.io/library myapp -f");
    assert!(
        sh.store()
            .list_all()
            .unwrap()
            .iter()
            .all(|c| c.scope().kind().as_str() != "app")
    );
    let e = fails_line(
        &sh,
        "labels registry-credential docker.io/library --app myapp",
    );
    assert_eq!(
        e,
        "no registry credential for `docker.io/library` exists for app `myapp` in space `myspace`; check the location and the target"
    );
    sh.assert_no_secret_printed();
}

/// R22: a bad key, a bad value, a label without `=`, more labels than
/// a credential may carry, an unknown resource or app, and a credential
/// that is not there: each is refused with what is wrong, exit 1, and
/// the database unchanged. The message names the label by its place
/// among the labels, never repeating what was typed there.
#[test]
fn r22_bad_labels_are_refused_with_the_reason_and_change_nothing() {
    let mut sh = platform("labels-bad");
    sh.ok_with(
        Some("hub-Pw"),
        "create-foundation-registry-credential docker.io --username hub-user",
    );
    sh.ok("target -o myorg -s myspace");
    let set = |labels: &[&str]| {
        let mut args = vec!["set-label", "registry-credential", "docker.io"];
        args.extend_from_slice(labels);
        args.extend_from_slice(&["--scope", "foundation"]);
        args.iter()
            .map(|a| (*a).to_owned())
            .collect::<Vec<String>>()
    };
    let fails = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        bin_fails(&sh, &args)
    };
    for (labels, message) in [
        (
            &["env=prod", "Hunter2"][..],
            "label 2 has no `=`; give each label as KEY=VALUE (KEY= for an empty value)",
        ),
        (
            &["cloudfoundry.org/env=prod"],
            "the key of label 1 is not valid: the prefix `cloudfoundry.org` is reserved",
        ),
        (
            &["ok=1", "Hunter 2=x"],
            "the key of label 2 is not valid: a name has only letters, digits, `.`, `_` and `-`",
        ),
        (
            &["example/env=x"],
            "the key of label 1 is not valid: the prefix is a DNS name with a dot, such as `example.com`",
        ),
        (
            &["env=-Hunter2"],
            "the value of label 1 is not valid: a name starts and ends with a letter or digit",
        ),
        (
            &["=x"],
            "the key of label 1 is not valid: the name is empty",
        ),
    ] {
        assert_eq!(fails(set(labels)), message, "{labels:?}");
    }
    // 51 labels: the store's merge refuses the change whole.
    let many: Vec<String> = (0..51).map(|i| format!("k{i}=v")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let e = fails(set(&many));
    assert!(
        e.ends_with(
            ": labels would be 51, more than the 50 allowed; remove some in the same change"
        ),
        "{e}"
    );
    assert_eq!(e.matches("labels would be 51").count(), 1, "{e}");
    // Unset: a bad key.
    let e = fails_line(
        &sh,
        "unset-label registry-credential docker.io env Hunter2! --scope foundation",
    );
    assert_eq!(
        e,
        "KEY 2 is not valid: a name has only letters, digits, `.`, `_` and `-`"
    );
    // Not a resource with labels here, as cf says of one it does not know.
    let e = bin_fails(
        &sh,
        &["labels", "app", "docker.io", "--scope", "foundation"],
    );
    assert_eq!(
        e,
        "RESOURCE is not a kind of resource with labels here; give registry-credential"
    );
    // A credential or an app that is not there.
    let e = fails(
        set(&["env=prod"])
            .into_iter()
            .map(|a| a.replace("docker.io", "quay.io"))
            .collect(),
    );
    assert_eq!(
        e,
        "no registry credential for `quay.io` exists for the foundation; check the location and the target"
    );
    let e = fails_line(
        &sh,
        "set-label registry-credential docker.io env=prod --app Hunter2-app",
    );
    assert_eq!(e, "app not found; check the name given with --app");
    // Usage errors: no scope, `--scope app` without an app, an app with
    // another scope, a scope that is none, no label.
    for (args, first) in [
        (
            &["set-label", "registry-credential", "docker.io", "env=prod"][..],
            "Incorrect Usage: the required `--scope <SCOPE>` was not given",
        ),
        (
            &[
                "labels",
                "registry-credential",
                "docker.io",
                "--scope",
                "app",
            ],
            "Incorrect Usage: the required `--app <APP>` was not given",
        ),
        (
            &[
                "unset-label",
                "registry-credential",
                "docker.io",
                "env",
                "--scope",
                "space",
                "--app",
                "myapp",
            ],
            "Incorrect Usage: `--app <APP>` names an app's credential; give it alone, or with `--scope app`",
        ),
        (
            &[
                "labels",
                "registry-credential",
                "docker.io",
                "--scope",
                "Hunter2",
            ],
            "Incorrect Usage: `--scope <SCOPE>` takes one of: foundation, org, space, app",
        ),
        (
            &[
                "set-label",
                "registry-credential",
                "docker.io",
                "--scope",
                "foundation",
            ],
            "Incorrect Usage: the required `<KEY=VALUE>...` was not given",
        ),
    ] {
        assert_eq!(bin_usage_error(&sh, args), first, "{args:?}");
    }
    assert!(stored(&sh, "docker.io", "foundation").metadata().is_empty());
}

/// R20, R21: label changes go through the access rules of updates: a
/// user who may see a credential but not change it is refused, and one
/// who may not see it is refused `labels` too; nothing changes.
#[test]
fn r20_r21_label_commands_are_refused_to_who_may_not_change_or_see() {
    let mut sh = four_scopes("labels-refused");
    // The space developer may not change the foundation's or the
    // organization's credentials, but may see and label the space's.
    let e = fails_line(
        &sh,
        "set-label registry-credential docker.io/library env=prod --scope foundation",
    );
    assert_eq!(
        e,
        "user `developer` may not update registry credentials for the foundation: only an admin may"
    );
    let e = fails_line(
        &sh,
        "unset-label registry-credential docker.io/library env --scope org",
    );
    assert_starts(
        &e,
        "user `developer` may not update registry credentials for organization `myorg`",
    );
    ok_line(
        &sh,
        "labels registry-credential docker.io/library --scope org",
    );
    ok_line(
        &sh,
        "set-label registry-credential docker.io/library env=prod --scope space",
    );
    // The org manager may not change the space's or the app's (R20),
    // nor see them (R21: no role in the space).
    sh.ok("auth org-manager");
    sh.ok("target -o myorg -s myspace");
    for args in [
        &[
            "set-label",
            "registry-credential",
            "docker.io/library",
            "env=dev",
            "--scope",
            "space",
        ][..],
        &[
            "unset-label",
            "registry-credential",
            "docker.io/library",
            "env",
            "--app",
            "myapp",
        ],
    ] {
        let e = bin_fails(&sh, args);
        assert_starts(
            &e,
            "user `org-manager` may not update registry credentials for ",
        );
        assert_says(&e, "only an admin or a space developer of that space may");
    }
    let e = fails_line(
        &sh,
        "labels registry-credential docker.io/library --scope space",
    );
    assert_eq!(
        e,
        "user `org-manager` may not see registry credentials for space `myspace` of organization `myorg`: only admins, global auditors and users with a role in that space may"
    );
    // A user with no role sees the foundation's labels, and changes none.
    sh.ok("auth stranger");
    ok_line(
        &sh,
        "labels registry-credential docker.io/library --scope foundation",
    );
    fails_line(
        &sh,
        "set-label registry-credential docker.io/library env=x --scope foundation",
    );
    assert_eq!(
        labels_of(&stored(&sh, "docker.io/library", "space")),
        map(&[("env", "prod")])
    );
    for kind in ["foundation", "organization", "app"] {
        assert!(
            stored(&sh, "docker.io/library", kind).metadata().is_empty(),
            "{kind}"
        );
    }
}

/// The rows a listing printed, each as its cells.
fn listed(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .skip(2)
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

/// The scope of each row of a listing, in order.
fn scopes_listed(out: &str) -> Vec<String> {
    listed(out).iter().map(|r| r[1].clone()).collect()
}

/// R23: `registry-credentials --labels SELECTOR` lists what the plain
/// listing lists (R21: available to the target, visible to the caller,
/// in its order) whose labels the selector matches, as Kubernetes reads
/// a selector: `!=` and `notin` hold for a credential without the label,
/// `k=` matches the empty value.
#[test]
fn r23_registry_credentials_lists_only_what_the_selector_matches() {
    let mut sh = four_scopes("labels-selector");
    sh.ok("auth admin");
    sh.ok("create-space other -o myorg");
    sh.ok("target -o myorg -s other");
    sh.ok_with(
        Some("other-Pw"),
        "create-space-registry-credential quay.io --username other-user",
    );
    sh.ok("set-label registry-credential quay.io env=prod --scope space");
    sh.ok("target -o myorg -s myspace");
    for (which, labels) in [
        ("--scope foundation", "env=prod tier="),
        ("--scope org", "env=staging team.example.com/owner=ci"),
        ("--scope space", "env=prod team.example.com/owner=ci"),
        ("--app myapp", "tier=gold"),
    ] {
        sh.ok(&format!(
            "set-label registry-credential docker.io/library {labels} {which}"
        ));
    }
    let rows = |sh: &Shell, selector: &str| -> Vec<String> {
        let out = bin_ok(sh, &["registry-credentials", "--labels", selector]);
        assert_starts(
            &out,
            "Showing registry credentials available to org 'myorg' and space 'myspace'...\nlocation",
        );
        scopes_listed(&out)
    };
    // The other space's credential matches `env=prod` but is not
    // available to this target: it is never listed.
    for (selector, scopes) in [
        ("env=prod", &["space", "foundation"][..]),
        ("env==prod", &["space", "foundation"]),
        ("env!=prod", &["app", "organization"]),
        (
            "env in (prod,staging)",
            &["space", "organization", "foundation"],
        ),
        ("env notin (prod,staging)", &["app"]),
        ("team.example.com/owner", &["space", "organization"]),
        ("!team.example.com/owner", &["app", "foundation"]),
        ("tier=", &["foundation"]),
        ("tier", &["app", "foundation"]),
        ("env=prod,team.example.com/owner=ci", &["space"]),
        (",,env=prod,,", &["space", "foundation"]),
        ("env=nothing", &[]),
    ] {
        assert_eq!(rows(&sh, selector), scopes, "{selector}");
    }
    // The rows are the plain listing's.
    let out = bin_ok(&sh, &["registry-credentials", "--labels=tier"]);
    assert_eq!(
        listed(&out),
        cells(&[
            "docker.io/library app a-user myapp",
            "docker.io/library foundation f-user",
        ])
    );
    // R21: the org manager sees the organization's and the foundation's
    // credentials alone, with a selector as without.
    sh.ok("auth org-manager");
    sh.ok("target -o myorg -s myspace");
    assert_eq!(rows(&sh, "env"), ["organization", "foundation"]);
    assert_eq!(rows(&sh, "env=prod"), ["foundation"]);
    // Targeting the organization alone, or nothing.
    sh.ok("auth admin");
    sh.ok("target -o myorg");
    let out = bin_ok(&sh, &["registry-credentials", "--labels", "env"]);
    assert_starts(
        &out,
        "Showing registry credentials available to org 'myorg'...\n",
    );
    assert_eq!(scopes_listed(&out), ["organization", "foundation"]);
    sh.ok("auth admin");
    let out = bin_ok(&sh, &["registry-credentials", "--labels", "env"]);
    assert_starts(
        &out,
        "Showing registry credentials available to the foundation...\n",
    );
    assert_eq!(scopes_listed(&out), ["foundation"]);
}

/// R23: a selector that is not one is refused with the core's reason,
/// exit 1: an empty one, white space outside ` in (`, an unclosed list,
/// a bad key or value.
#[test]
fn r23_a_bad_selector_is_refused_with_the_reason() {
    let mut sh = platform("labels-bad-selector");
    sh.ok_with(
        Some("hub-Pw"),
        "create-foundation-registry-credential docker.io --username hub-user",
    );
    for (selector, why) in [
        ("", "it is empty"),
        (",", "it is empty"),
        ("env = prod", "with no other white space"),
        ("env in (prod", "has no closing `)`"),
        ("cloudfoundry.org/env=x", "reserved"),
        ("env=-x", "starts and ends with a letter or digit"),
    ] {
        let e = bin_fails(&sh, &["registry-credentials", "--labels", selector]);
        assert_starts(&e, "the label selector ");
        assert_says(&e, why);
    }
    let err = bin_usage_error(&sh, &["registry-credentials", "--labels"]);
    assert_eq!(err, "Incorrect Usage: `--labels <SELECTOR>` needs a value");
}
