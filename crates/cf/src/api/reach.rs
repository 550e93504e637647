//! The JSON of this crate's extension for which apps a credential reaches
//! (R29): the apps of `GET /v3/registry_credentials/:guid/apps`, and the
//! moves a dry run (`?dry_run=true` on `POST`, `PATCH` and `DELETE`)
//! answers. Written from views with no field for a secret (R21).

use serde::Serialize;

use super::{Api, Href, json};
use crate::manage::{AppRef, CredentialRef, Move};

/// An app: its GUID, name, the image its next pull resolves, and its
/// space and organization by GUID and name.
#[derive(Serialize)]
struct AppView<'a> {
    guid: &'a str,
    name: &'a str,
    image: &'a str,
    space: Named<'a>,
    organization: Named<'a>,
    links: AppLinks,
}

#[derive(Serialize)]
struct Named<'a> {
    guid: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
struct AppLinks {
    #[serde(rename = "self")]
    this: Href,
    space: Href,
    organization: Href,
}

/// The credential a pull uses: GUID (`null` for the one a proposed create
/// would store), scope, location and username; never the secret.
#[derive(Serialize)]
struct CredentialView<'a> {
    guid: Option<String>,
    scope: &'static str,
    location: &'a str,
    username: &'a str,
}

/// An app a proposed change would move: the credential its next pull
/// uses now and the one it would use after (`null`: none, R15).
#[derive(Serialize)]
struct MoveView<'a> {
    app: AppView<'a>,
    before: Option<CredentialView<'a>>,
    after: Option<CredentialView<'a>>,
}

fn credential(c: &CredentialRef) -> CredentialView<'_> {
    CredentialView {
        guid: c.guid().map(|g| g.to_string()),
        scope: c.scope_kind().as_str(),
        location: c.location().as_str(),
        username: c.username().as_str(),
    }
}

#[derive(Serialize)]
struct Resources<T> {
    resources: Vec<T>,
}

impl Api {
    fn app<'a>(&self, a: &'a AppRef) -> AppView<'a> {
        let app = a.app();
        AppView {
            guid: app.id().as_str(),
            name: a.name().as_str(),
            image: a.image().as_str(),
            space: Named {
                guid: app.space().as_str(),
                name: a.space_name().as_str(),
            },
            organization: Named {
                guid: app.org().as_str(),
                name: a.org_name().as_str(),
            },
            links: AppLinks {
                this: self.member("apps", app.id().as_str()),
                space: self.member("spaces", app.space().as_str()),
                organization: self.member("organizations", app.org().as_str()),
            },
        }
    }

    /// The body of `GET /v3/registry_credentials/:guid/apps`.
    pub(super) fn apps(&self, apps: &[AppRef]) -> String {
        json(&Resources {
            resources: apps.iter().map(|a| self.app(a)).collect(),
        })
    }

    /// The body of a dry run: the apps the change would move.
    pub(super) fn moves(&self, moves: &[Move]) -> String {
        json(&Resources {
            resources: moves
                .iter()
                .map(|m| MoveView {
                    app: self.app(m.app()),
                    before: m.before().map(credential),
                    after: m.after().map(credential),
                })
                .collect(),
        })
    }
}
