//! What the helper binary's tests share: running it, and reading what it
//! printed.

use std::ffi::OsStr;
use std::process::{Command, Output};

use registry_credentials_test_support::process::output_with_input;

/// Runs the helper with `args` and `stdin`, in an environment of `env`
/// (the puller), the variable `store` that names its store, and the
/// store's `key` (its id and hexadecimal value) alone.
pub fn helper(
    store: (&str, &OsStr),
    key: Option<(&str, &str)>,
    env: &[(&str, &str)],
    args: &[&str],
    stdin: &str,
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_docker-credential-registry-credentials"));
    cmd.env_clear().env(store.0, store.1);
    if let Some((id, hex)) = key {
        cmd.env("REGISTRY_CREDENTIALS_KEY_ID", id)
            .env("REGISTRY_CREDENTIALS_KEY", hex);
    }
    output_with_input(cmd.envs(env.iter().copied()).args(args), stdin.as_bytes())
}

/// The helper's standard output.
pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// The answer of a `get` or `list` that succeeded: its JSON.
pub fn answer(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", stdout(o));
    serde_json::from_str(&stdout(o)).unwrap()
}
