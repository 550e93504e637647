//! A cf-style command line, to walk through the user page ("Using stored
//! Registry Credentials to push Docker apps") by hand.
//!
//! Each run is one command, with cf's names and argument order:
//!
//! ```text
//! cargo run -p registry-credentials-cf --example cf -- auth admin
//! cargo run -p registry-credentials-cf --example cf -- create-org myorg
//! cargo run -p registry-credentials-cf --example cf -- create-space myspace -o myorg
//! cargo run -p registry-credentials-cf --example cf -- set-space-role dev myorg myspace SpaceDeveloper
//! CF_DOCKER_PASSWORD=secret cargo run -p registry-credentials-cf --example cf -- create-foundation-registry-credential docker.io --username hub-user
//! cargo run -p registry-credentials-cf --example cf -- auth dev
//! cargo run -p registry-credentials-cf --example cf -- target -o myorg -s myspace
//! cargo run -p registry-credentials-cf --example cf -- push myapp --docker-image nginx
//! cargo run -p registry-credentials-cf --example cf -- registry-credentials
//! ```
//!
//! The user `admin` holds the Admin role; any other name is a user with
//! the roles given to it by `set-org-role` and `set-space-role`. Passwords
//! come from `CF_DOCKER_PASSWORD`, or else from a prompt that does not
//! echo; they are never printed. State persists between runs in
//! `.cf-registry-credentials` in the working directory, readable by its
//! owner alone. Built with `--features sqlite`, the credentials live
//! instead in the SQLite file `.cf-registry-credentials.db`, passwords
//! encrypted with the key in `CF_REGISTRY_KEY` (64 hexadecimal digits) or,
//! when that is unset, in `.cf-registry-credentials.key` (made on first
//! use, mode 0600). Errors are one line on standard error and a non-zero exit.
//! `help` lists the commands.

#[path = "../tests/support/cf.rs"]
mod cf;

use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut prompt = |text: &str| rpassword::prompt_password(text);
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    let mut io = cf::Io {
        state: Path::new(cf::STATE_FILE),
        password_env: std::env::var("CF_DOCKER_PASSWORD").ok(),
        registry_key: std::env::var("CF_REGISTRY_KEY").ok(),
        prompt: &mut prompt,
        out: &mut stdout,
        err: &mut stderr,
    };
    let code = cf::main(&args, &mut io);
    drop(io);
    drop(stdout);
    drop(stderr);
    std::process::exit(code);
}
