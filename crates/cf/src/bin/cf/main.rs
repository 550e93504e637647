//! `cf`: a cf-style command line, to walk through the user page ("Using
//! stored Registry Credentials to push Docker apps") by hand, with every
//! change kept in one SQLite database in the working directory.
//!
//! Each run is one command, with cf's names and argument order:
//!
//! ```text
//! cargo run -p registry-credentials-cf --features cli --bin cf -- auth admin
//! cargo run -p registry-credentials-cf --features cli --bin cf -- create-org myorg
//! cargo run -p registry-credentials-cf --features cli --bin cf -- create-space myspace -o myorg
//! cargo run -p registry-credentials-cf --features cli --bin cf -- set-space-role dev myorg myspace SpaceDeveloper
//! CF_DOCKER_PASSWORD=secret cargo run -p registry-credentials-cf --features cli --bin cf -- create-foundation-registry-credential docker.io --username hub-user
//! cargo run -p registry-credentials-cf --features cli --bin cf -- auth dev
//! cargo run -p registry-credentials-cf --features cli --bin cf -- target -o myorg -s myspace
//! cargo run -p registry-credentials-cf --features cli --bin cf -- push myapp --docker-image nginx
//! cargo run -p registry-credentials-cf --features cli --bin cf -- registry-credentials
//! ```
//!
//! The user `admin` holds the Admin role; any other name is a user with
//! the roles `set-org-role` and `set-space-role` give it. Passwords come
//! from `CF_DOCKER_PASSWORD`, or else from a prompt that does not echo;
//! they are never printed. Everything — organizations, spaces, apps,
//! roles, the current user and target, and the credentials, passwords
//! encrypted — lives in `.cf-registry-credentials.db` in the working
//! directory, with the key in `CF_REGISTRY_KEY` (64 hexadecimal digits)
//! or, when that is unset, in `.cf-registry-credentials.key` (made on
//! first use, mode 0600). Every command is one transaction: it happens
//! whole and exits 0, or changes nothing and exits non-zero with one line
//! on standard error. `help` lists the commands.

mod interp;

use std::path::Path;

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let mut prompt = |text: &str| rpassword::prompt_password(text);
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    let mut io = interp::Io {
        state: Path::new(interp::STATE_FILE),
        password_env: std::env::var_os("CF_DOCKER_PASSWORD"),
        registry_key: std::env::var_os("CF_REGISTRY_KEY"),
        prompt: &mut prompt,
        out: &mut stdout,
        err: &mut stderr,
    };
    let code = interp::main(&args, &mut io);
    drop(io);
    drop(stdout);
    drop(stderr);
    std::process::exit(code);
}
