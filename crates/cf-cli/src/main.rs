//! `cf`: the command line of [`registry_credentials_cf_cli`], one
//! command per run (`cf help` lists them).

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let mut prompt = |text: &str| rpassword::prompt_password(text);
    let mut stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    let mut io = registry_credentials_cf_cli::Io {
        cf_home: std::env::var_os("CF_HOME"),
        home: std::env::var_os("HOME"),
        password_env: std::env::var_os("CF_DOCKER_PASSWORD"),
        registry_key: std::env::var_os("CF_REGISTRY_KEY"),
        prompt: &mut prompt,
        stdin: &mut stdin,
        out: &mut stdout,
        err: &mut stderr,
    };
    let code = registry_credentials_cf_cli::run(&args, &mut io);
    drop(io);
    drop(stdout);
    drop(stderr);
    std::process::exit(code);
}
