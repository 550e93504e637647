//! The real registry of the `real_registry` tests: Debian's
//! `docker-registry` on 127.0.0.1 with htpasswd authentication, holding
//! one image, started by `.ci/registry.sh setup`.

use std::process::Command;

/// How to get what the tests need, for their `#[ignore]` reason and their
/// failures.
pub const HOW: &str = "needs docker-registry and skopeo: .ci/registry.sh setup";

/// The registry, its image and its user.
#[derive(Debug, Clone)]
pub struct Registry {
    /// `host:port`.
    pub address: String,
    /// The image it holds, as a reference.
    pub image: String,
    /// The htpasswd user.
    pub user: String,
    /// The user's password.
    pub password: String,
}

impl Registry {
    /// What `.ci/registry.sh setup` printed (its defaults for what is not
    /// exported).
    ///
    /// # Panics
    ///
    /// When skopeo is missing or no registry listens at the address: the
    /// tests that ask for it must not pass without it.
    pub fn from_env() -> Self {
        let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
        let address = var("REGISTRY_CREDENTIALS_REGISTRY", "127.0.0.1:55000");
        let image = var(
            "REGISTRY_CREDENTIALS_REGISTRY_IMAGE",
            &format!("{address}/team/app:1"),
        );
        assert!(
            Command::new("skopeo").arg("--version").output().is_ok(),
            "skopeo is missing: {HOW}"
        );
        assert!(
            std::net::TcpStream::connect(&address).is_ok(),
            "no registry listens on {address}: {HOW}"
        );
        Registry {
            address,
            image,
            user: var("REGISTRY_CREDENTIALS_REGISTRY_USER", "team-user"),
            password: var("REGISTRY_CREDENTIALS_REGISTRY_PASSWORD", "team-password-1"),
        }
    }
}
