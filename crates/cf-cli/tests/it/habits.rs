//! The cf CLI's habits, each shown through the built binary as a person
//! at a shell sees it: `--flag=value`, help, suggestions, the version,
//! usage errors, `FAILED`, confirmations and `-f`, and where the state
//! lives.

use std::os::unix::fs::PermissionsExt as _;

use super::*;

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

/// `sh` with the page's platform, made through the binary.
fn platform_bin(name: &str) -> Shell {
    let sh = Shell::new(name);
    cf_ok(&sh, &["auth", "admin"], &[]);
    cf_ok(&sh, &["create-org", "myorg"], &[]);
    cf_ok(&sh, &["create-space", "myspace", "-o", "myorg"], &[]);
    cf_ok(
        &sh,
        &[
            "set-space-role",
            "developer",
            "myorg",
            "myspace",
            "SpaceDeveloper",
        ],
        &[],
    );
    sh
}

#[test]
fn flag_equals_value_and_flag_space_value() {
    let sh = platform_bin("flag-equals");
    cf_ok(&sh, &["auth", "developer"], &[]);
    let out = cf_ok(&sh, &["target", "-o=myorg", "-s", "myspace"], &[]);
    assert!(
        out.contains("org:    myorg") && out.contains("space:  myspace"),
        "{out}"
    );
    let out = cf_ok(
        &sh,
        &[
            "push",
            "myapp",
            "--docker-image=registry.example.com/team/app",
            "--docker-username",
            "robot",
        ],
        &[("CF_DOCKER_PASSWORD", "flag-Equals-Pw")],
    );
    assert_says(&out, "Stored the app's registry credential");
    let out = cf_ok(
        &sh,
        &[
            "push",
            "other",
            "--docker-image",
            "registry.example.com/team/app",
        ],
        &[],
    );
    assert_says(&out, "No registry credential matches");
}

#[test]
fn help_lists_every_command_on_its_own_line_and_help_command_prints_its_usage() {
    let sh = Shell::new("help");
    for args in [&["help"][..], &["-h"], &["--help"]] {
        let o = cf_run(&sh, args, &[]);
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        let out = text(o.stdout);
        assert!(o.stderr.is_empty());
        for (command, about) in [
            ("push", "Push an app from a Docker image"),
            ("registry-credentials", "List the registry credentials"),
            ("delete-org", "Delete an organization"),
            (
                "create-foundation-registry-credential",
                "Create a registry credential for the foundation",
            ),
        ] {
            assert!(
                out.lines().any(|l| {
                    let l = l.trim_start();
                    l.starts_with(&format!("{command} ")) && l.contains(about)
                }),
                "{args:?}: no line for {command}:\n{out}"
            );
        }
    }
    // `help COMMAND`, `COMMAND -h` and `COMMAND --help`: that command's
    // usage, its required option shown as required.
    for args in [&["help", "push"][..], &["push", "-h"], &["push", "--help"]] {
        let o = cf_run(&sh, args, &[]);
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        let out = text(o.stdout);
        assert!(
            out.contains("Usage: cf push [OPTIONS] --docker-image <IMAGE> <APP>"),
            "{args:?}: {out}"
        );
        assert_says(&out, "--docker-username <USERNAME>");
    }
    // Help reads and writes no state.
    assert!(entries(&sh.home()).is_empty());
    assert!(entries(&sh.work()).is_empty());
}

#[test]
fn a_mistyped_command_or_option_gets_a_did_you_mean() {
    let sh = Shell::new("did-you-mean");
    let o = cf_run(&sh, &["registry-credential"], &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(o.stderr);
    assert_starts(
        &err,
        "Incorrect Usage: argument 1 is not a command; did you mean `registry-credentials`?\n",
    );
    let o = cf_run(&sh, &["push", "app", "--docker-imag=nginx"], &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(o.stderr);
    assert_starts(
        &err,
        "Incorrect Usage: `--docker-imag` is not an option of this command; did you mean `--docker-image`?\n",
    );
    assert!(!err.contains("=nginx"), "{err}");
}

#[test]
fn version_prints_the_package_name_and_version() {
    let sh = Shell::new("version");
    let expected = format!(
        "cf version {} ({})\n",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_NAME")
    );
    for args in [&["version"][..], &["-v"], &["--version"]] {
        let o = cf_run(&sh, args, &[]);
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(text(o.stdout), expected, "{args:?}");
    }
    assert!(entries(&sh.home()).is_empty());
}

/// R21: a usage error exits 1 (clap's own code is 2), prints cf's
/// `Incorrect Usage:` with the command's help, and never repeats what
/// was typed where it could be a secret.
#[test]
fn r21_usage_errors_exit_1_print_the_usage_and_repeat_no_argument() {
    let sh = platform_bin("usage");
    let before = sh.snapshot();
    let o = cf_run(&sh, &["push", "myapp"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let err = text(o.stderr);
    assert_starts(
        &err,
        "Incorrect Usage: the required `--docker-image <IMAGE>` was not given\n\n",
    );
    assert_says(
        &err,
        "Usage: cf push [OPTIONS] --docker-image <IMAGE> <APP>",
    );
    // A password typed where no argument goes is named by its position.
    let o = cf_run(&sh, &["target", "-o", "myorg", "Hunter2-Secret"], &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(o.stderr);
    assert_starts(
        &err,
        "Incorrect Usage: argument 4 is one argument too many\n",
    );
    assert_says(&err, "Usage: cf target");
    assert!(!err.contains("Hunter2"), "{err}");
    // A role is named, not repeated.
    let o = cf_run(&sh, &["set-org-role", "u", "myorg", "Hunter2-Secret"], &[]);
    let err = text(o.stderr);
    assert_eq!(
        failure_message(&err, "set-org-role"),
        "ROLE is not an organization role; use one of OrgManager, OrgAuditor, BillingManager, OrgUser"
    );
    assert_eq!(sh.snapshot(), before);
}

#[test]
fn a_failure_prints_its_message_then_failed_and_exits_1() {
    let sh = platform_bin("failed");
    cf_ok(&sh, &["auth", "developer"], &[]);
    let o = cf_run(&sh, &["create-org", "other"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let err = text(o.stderr);
    let message = failure_message(&err, "create-org");
    assert!(
        message.starts_with("user `developer` may not create organizations"),
        "{err}"
    );
    // R21: an organization the caller cannot see is not found, and the
    // name, which could be anything, is not repeated.
    let o = cf_run(&sh, &["target", "-o", "S3cret-Passw0rd"], &[]);
    assert_eq!(
        text(o.stderr),
        "organization not found; check the name given with -o\nFAILED\n"
    );
}

/// The listing's rows, through the binary.
fn rows(sh: &Shell) -> Vec<Vec<String>> {
    cf_ok(sh, &["registry-credentials"], &[])
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

/// R13, R18: every deleting command asks, reading a line from standard
/// input; any answer but `y`/`yes`, or the end of the input, deletes
/// nothing and exits 0; `-f` deletes without asking.
#[test]
fn r13_r18_deletions_ask_for_confirmation_unless_forced() {
    let sh = platform_bin("confirm");
    cf_ok(
        &sh,
        &[
            "create-foundation-registry-credential",
            "docker.io",
            "--username",
            "hub",
        ],
        &[("CF_DOCKER_PASSWORD", "confirm-Pw-1")],
    );
    cf_ok(&sh, &["auth", "developer"], &[]);
    cf_ok(&sh, &["target", "-o", "myorg", "-s", "myspace"], &[]);
    cf_ok(
        &sh,
        &[
            "create-space-registry-credential",
            "registry.example.com",
            "--username",
            "space-user",
        ],
        &[("CF_DOCKER_PASSWORD", "confirm-Pw-2")],
    );
    cf_ok(
        &sh,
        &[
            "push",
            "myapp",
            "--docker-image",
            "ghcr.io/team/app",
            "--docker-username",
            "app-user",
        ],
        &[("CF_DOCKER_PASSWORD", "confirm-Pw-3")],
    );
    let all = rows(&sh);
    assert_eq!(all.len(), 3);

    let declined = |args: &[&str], question: &str, answer: &str, said: &str| {
        let before = sh.snapshot();
        let o = cf_with_input(&sh, args, answer);
        let out = text(o.stdout);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {out}");
        assert!(o.stderr.is_empty(), "{args:?}");
        assert!(
            out.starts_with(&format!("{question} [yN]: ")),
            "{args:?}: {out}"
        );
        assert!(out.ends_with(&format!("{said}\n")), "{args:?}: {out}");
        assert_eq!(
            sh.snapshot(),
            before,
            "{args:?} with {answer:?} changed something"
        );
    };
    for answer in ["", "n\n", "no\n", "maybe\n", "yess\n"] {
        declined(
            &["delete", "myapp"],
            "Really delete the app myapp?",
            answer,
            "App 'myapp' has not been deleted.",
        );
        declined(
            &["delete-app-registry-credential", "ghcr.io/team", "myapp"],
            "Really delete the registry credential ghcr.io/team for app myapp?",
            answer,
            "Registry credential ghcr.io/team for app myapp has not been deleted.",
        );
        declined(
            &["delete-space-registry-credential", "registry.example.com"],
            "Really delete the registry credential registry.example.com for space myspace?",
            answer,
            "Registry credential registry.example.com for space myspace has not been deleted.",
        );
    }
    // Refused before anything is asked: a developer may not delete the
    // organization, and is told so at once.
    let o = cf_with_input(&sh, &["delete-org", "myorg"], "y\n");
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty(), "{}", text(o.stdout));
    assert!(text(o.stderr).contains("may not delete organizations"));

    // `y`, `Y`, `yes`: deleted.
    let o = cf_with_input(
        &sh,
        &["delete-space-registry-credential", "registry.example.com"],
        "Y\n",
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(text(o.stdout).contains(
        "Deleting registry credential registry.example.com for space myspace as developer...\nOK\n"
    ));
    let o = cf_with_input(&sh, &["delete", "myapp"], "yes\n");
    assert_eq!(o.status.code(), Some(0));
    assert!(text(o.stdout).contains("Deleting app myapp in org myorg / space myspace"));
    assert_eq!(rows(&sh), cells(&["docker.io foundation hub"]));

    cf_ok(&sh, &["auth", "admin"], &[]);
    declined(
        &["delete-foundation-registry-credential", "docker.io"],
        "Really delete the registry credential docker.io for the foundation?",
        "",
        "Registry credential docker.io for the foundation has not been deleted.",
    );
    declined(
        &["delete-space", "myspace", "-o", "myorg"],
        "Really delete the space myspace, including its apps and registry credentials?",
        "n\n",
        "Space 'myspace' has not been deleted.",
    );
    declined(
        &["delete-org", "myorg"],
        "Really delete the org myorg, including its spaces, apps and registry credentials?",
        "\n",
        "Organization 'myorg' has not been deleted.",
    );
    // `-f`: no question, even with no input at all.
    for args in [
        &["delete-foundation-registry-credential", "docker.io", "-f"][..],
        &["delete-space", "myspace", "-o", "myorg", "-f"],
        &["delete-org", "-f", "myorg"],
    ] {
        let out = cf_ok(&sh, args, &[]);
        assert!(!out.contains("Really"), "{args:?}: {out}");
        assert!(out.ends_with("OK\n"), "{args:?}: {out}");
    }
    assert!(sh.store().list_all().unwrap().is_empty());
    let o = cf_run(&sh, &["target", "-o", "myorg"], &[]);
    assert_eq!(o.status.code(), Some(1));
}

/// The state lives under `$CF_HOME/.cf` (a directory of mode 0700, the
/// key file 0600), or `$HOME/.cf` without `CF_HOME`; never in the working
/// directory.
#[test]
fn state_lives_under_cf_home_or_home_never_in_the_working_directory() {
    let sh = Shell::new("state-home");
    cf_ok(&sh, &["auth", "admin"], &[]);
    cf_ok(&sh, &["create-org", "myorg"], &[]);
    assert!(entries(&sh.work()).is_empty(), "{:?}", entries(&sh.work()));
    assert_eq!(entries(&sh.home()), [".cf"]);
    assert_eq!(entries(&sh.state_dir()), [DB_FILE, KEY_FILE]);
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&sh.state_dir()), 0o700);
    assert_eq!(mode(&sh.key_file()), 0o600);
    assert_eq!(mode(&sh.db()), 0o600);

    // Without CF_HOME, `$HOME/.cf`; an empty CF_HOME counts as unset.
    let home = sh.dir.join("user-home");
    fs::create_dir_all(&home).unwrap();
    for cf_home in [None, Some("")] {
        let mut c = cf_cmd(&sh, &["auth", "admin"], &[]);
        c.env("HOME", &home);
        match cf_home {
            None => c.env_remove("CF_HOME"),
            Some(v) => c.env("CF_HOME", v),
        };
        assert!(c.output().unwrap().status.success());
        assert_eq!(entries(&home.join(".cf")), [DB_FILE, KEY_FILE]);
    }
    // Neither: an error, and nothing anywhere.
    let o = cf_cmd(&sh, &["auth", "admin"], &[])
        .env_remove("CF_HOME")
        .env_remove("HOME")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        failure_message(&text(o.stderr), "no home").starts_with("neither CF_HOME nor HOME is set")
    );
    assert!(entries(&sh.work()).is_empty());
}

/// Without any state, a command other than `auth` fails as not logged in
/// and creates nothing: no directory, no database, no key file.
#[test]
fn a_failing_command_without_state_creates_nothing() {
    let sh = Shell::new("no-state");
    for args in [
        &["registry-credentials"][..],
        &["target"],
        &["target", "-o", "myorg"],
        &["create-org", "myorg"],
        &["delete", "myapp", "-f"],
        &["delete-org", "myorg"],
    ] {
        let o = cf_run(&sh, args, &[]);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert_eq!(
            failure_message(&text(o.stderr), "no state"),
            "not logged in; run `cf auth USERNAME` first (`cf auth admin` for the admin)"
        );
        assert!(
            entries(&sh.home()).is_empty(),
            "{args:?} created {:?}",
            entries(&sh.home())
        );
    }
    // With CF_REGISTRY_KEY set, the same.
    let o = cf_run(
        &sh,
        &["registry-credentials"],
        &[("CF_REGISTRY_KEY", &"ab".repeat(32))],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(entries(&sh.home()).is_empty());
    assert!(entries(&sh.work()).is_empty());
}
