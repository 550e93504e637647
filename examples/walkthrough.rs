//! The user page's story, on the in-memory store.
//!
//! Credentials are created at each scope — the foundation, an organization, a
//! space and an app — and then several pushes are resolved. For each push the
//! program prints every (scope, location) it looked at, what it found there,
//! and which credential won and why, so a person can follow the precedence
//! rules (R10–R15 of SPEC.md). Passwords are never printed.
//!
//! ```text
//! cargo run --example walkthrough
//! ```

use std::error::Error;

use registry_credentials::credential::CredentialUpdate;
use registry_credentials::resolve::explain;
use registry_credentials::scope::ScopeRef;
use registry_credentials::{
    App, Credential, CredentialStore, Location, MemoryStore, Reference, RegistryCredential, Scope,
    resolve,
};

fn store(
    store: &MemoryStore,
    scope: Scope,
    location: &str,
    user: &str,
) -> Result<(), Box<dyn Error>> {
    let location = Location::parse(location)?;
    println!(
        "  create {:<12} {:<28} user {user}",
        scope.kind().as_str(),
        location.as_str()
    );
    store.create(RegistryCredential::new(
        scope,
        location,
        Credential::new(user, format!("{user}-secret"))?,
    ))?;
    Ok(())
}

fn push(store: &MemoryStore, app: &App, image: &str) -> Result<(), Box<dyn Error>> {
    println!("\n$ cf push {} --docker-image {image}", app.id());
    let reference = Reference::parse(image)?;
    let why = explain(store, app, &reference)?;
    println!("{why}");
    // `explain` and `resolve` agree: the explanation is for people, the
    // resolution for the code that pulls.
    let chosen = resolve(store, app, &reference)?;
    assert_eq!(
        chosen.as_ref().map(|r| r.location().as_str()),
        why.winner().map(|w| w.candidate())
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let creds = MemoryStore::new();
    let myapp = App::new("myorg", "myspace", "myapp")?;
    let other = App::new("myorg", "otherspace", "otherapp")?;

    println!("Registry credentials, as an admin, an org manager and a space developer store them:");
    store(
        &creds,
        Scope::Foundation,
        "docker.io/library",
        "docker-user",
    )?;
    store(
        &creds,
        Scope::Foundation,
        "registry.example.com/repo",
        "private-repo-user",
    )?;
    store(&creds, Scope::Foundation, "example.com", "domain-user")?;
    store(
        &creds,
        Scope::Org(myapp.org().clone()),
        "registry.example.com/repo",
        "orguser",
    )?;
    store(
        &creds,
        Scope::Space(myapp.space().clone()),
        "registry.example.com",
        "spaceuser",
    )?;
    // A push with --docker-username stores an app credential once the app
    // has started (R19); here it is stored directly.
    store(
        &creds,
        Scope::App(myapp.id().clone()),
        "docker.io/library",
        "myuser",
    )?;

    // The app's own credential wins for official images (R14).
    push(&creds, &myapp, "nginx:1.27")?;
    // Scope outranks specificity: the space's `registry.example.com` beats
    // the organization's more specific `registry.example.com/repo`.
    push(&creds, &myapp, "registry.example.com/repo/image:tag")?;
    // Another space of the same org: the org's credential, most specific.
    push(&creds, &other, "registry.example.com/repo/image:tag")?;
    // A sibling repository: only the foundation's parent-domain entry.
    push(&creds, &other, "registry.example.com/team/image")?;
    // A port is identity (R12): nothing matches, the push goes on (R15).
    push(&creds, &other, "registry.example.com:5000/repo/image")?;

    println!("\nThe space developer rotates the space credential (R17):");
    let space_location = Location::parse("registry.example.com")?;
    creds.update(
        ScopeRef::Space(myapp.space()),
        &space_location,
        CredentialUpdate::Both(Credential::new("spaceuser2", "new-secret")?),
    )?;
    push(&creds, &myapp, "registry.example.com/repo/image:tag")?;

    println!("\nAnd deletes it (R18); the next push falls back to the organization:");
    creds.delete(ScopeRef::Space(myapp.space()), &space_location)?;
    push(&creds, &myapp, "registry.example.com/repo/image:tag")?;
    Ok(())
}
