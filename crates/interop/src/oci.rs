//! Conversions for Rust pullers: oci-client's `RegistryAuth` (feature
//! `oci-client`) and oci-spec's `Reference` (feature `oci-spec`), which
//! oci-client uses as its own `Reference`.

/// The `RegistryAuth` that pulls with `resolution`'s credential: HTTP
/// Basic with its username and password, `Bearer` with a registry token
/// (R24), or `Anonymous` when nothing matched (R15: the pull goes on
/// without credentials). An identity token goes as Basic with its stored
/// username (Azure Container Registry takes a refresh token so, with the
/// all-zero username `az acr login` writes); oci-client has no OAuth
/// refresh-token grant, so a registry that takes the token only through
/// that grant refuses it.
///
/// `RegistryAuth` keeps the password in a plain `String` (its `Debug` does
/// leave it out): build it right before the pull and drop it after.
///
/// ```
/// use oci_client::secrets::RegistryAuth;
/// use registry_credentials::{resolve, App, Credential, CredentialStore, MemoryStore, RegistryCredential, Scope};
/// use registry_credentials_interop::oci::registry_auth;
///
/// let store = MemoryStore::new();
/// let app = App::new("o", "s", "a")?;
/// let image = "registry.example.com/team/app:1".parse()?;
/// assert!(matches!(registry_auth(resolve(&store, &app, &image)?.as_ref()), RegistryAuth::Anonymous));
/// store.create(RegistryCredential::new(
///     Scope::Foundation,
///     "registry.example.com".parse()?,
///     Credential::new("me", "pw")?,
/// ))?;
/// let auth = registry_auth(resolve(&store, &app, &image)?.as_ref());
/// assert!(matches!(&auth, RegistryAuth::Basic(u, p) if u == "me" && p == "pw"));
///
/// // A registry token goes as a bearer token.
/// store.create(RegistryCredential::new(
///     Scope::Foundation,
///     "quay.io".parse()?,
///     Credential::registry_token("robot", "bearer-token")?,
/// ))?;
/// let auth = registry_auth(resolve(&store, &app, &"quay.io/team/app".parse()?)?.as_ref());
/// assert!(matches!(&auth, RegistryAuth::Bearer(t) if t == "bearer-token"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "oci-client")]
#[cfg_attr(docsrs, doc(cfg(feature = "oci-client")))]
pub fn registry_auth(
    resolution: Option<&registry_credentials::Resolution>,
) -> oci_client::secrets::RegistryAuth {
    use registry_credentials::CredentialKind;
    let Some(r) = resolution else {
        return oci_client::secrets::RegistryAuth::Anonymous;
    };
    let secret = r.credential().password().expose().to_owned();
    match r.credential().kind() {
        CredentialKind::RegistryToken => oci_client::secrets::RegistryAuth::Bearer(secret),
        _ => oci_client::secrets::RegistryAuth::Basic(
            r.credential().username().as_str().to_owned(),
            secret,
        ),
    }
}

/// `reference` as oci-spec's (and oci-client's) `Reference`, built from
/// its normalized parts, not parsed again: registry `host[:port]`
/// (`docker.io` for Docker Hub, which oci-spec resolves to
/// `index.docker.io` itself), repository (`library/nginx`), and the tag
/// and digest as written. A reference with neither gets the tag `latest`,
/// which every puller assumes.
///
/// ```
/// use registry_credentials::Reference;
/// use registry_credentials_interop::oci::oci_reference;
/// let r: Reference = "Index.Docker.io/nginx".parse()?;
/// let o = oci_reference(&r);
/// assert_eq!((o.registry(), o.repository(), o.tag()), ("docker.io", "library/nginx", Some("latest")));
/// let r: Reference = "localhost:5000/team/app:1".parse()?;
/// assert_eq!(oci_reference(&r).whole(), "localhost:5000/team/app:1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "oci-spec")]
#[cfg_attr(docsrs, doc(cfg(feature = "oci-spec")))]
pub fn oci_reference(
    reference: &registry_credentials::Reference,
) -> oci_spec::distribution::Reference {
    use oci_spec::distribution::Reference;
    let registry = reference.registry().to_owned();
    let repository = reference.path().to_owned();
    match (reference.tag(), reference.digest()) {
        (Some(t), Some(d)) => {
            Reference::with_tag_and_digest(registry, repository, t.to_owned(), d.to_owned())
        }
        (None, Some(d)) => Reference::with_digest(registry, repository, d.to_owned()),
        (Some(t), None) => Reference::with_tag(registry, repository, t.to_owned()),
        (None, None) => Reference::with_tag(registry, repository, "latest".to_owned()),
    }
}
