//! Whom a Kubernetes service account pulls for: a JSON file of rules that
//! map a verified service account (its namespace and name) and the
//! annotations kubelet passes for it to an app, a space, an organization
//! or the foundation.
//!
//! ```json
//! {
//!   "serviceAccounts": [
//!     { "namespace": "shop", "name": "web", "app": "acme/prod/web" },
//!     { "namespace": "shop", "space": "acme/prod",
//!       "appFromAnnotation": "registry-credentials.example.com/app" },
//!     { "namespace": "ci", "annotations": { "example.com/tier": "trusted" },
//!       "org": "acme" },
//!     { "namespace": "public", "foundation": true }
//!   ]
//! }
//! ```
//!
//! - `namespace` (required) and `name` (optional: without it, every
//!   service account of the namespace) must equal the token's.
//! - `annotations` (optional): each must be among the request's
//!   `serviceAccountAnnotations` with that value (kubelet passes only the
//!   keys its `requiredServiceAccountAnnotationKeys` and
//!   `optionalServiceAccountAnnotationKeys` name).
//! - Exactly one target: `app` (`ORG/SPACE/APP`), `space` (`ORG/SPACE`),
//!   `org` (`ORG`) or `"foundation": true`. With `space`,
//!   `appFromAnnotation` names the annotation whose value is the app's
//!   name within that space: a service account can choose its app, never
//!   another space's; one without the annotation is refused.
//!
//! The first rule that matches wins. A service account no rule matches is
//! refused, never served the foundation's credentials in its place. The
//! parts are names over the cf tool's state and ids over a bare store, as
//! for the docker helper. An unknown field or a key twice is refused.

use std::collections::BTreeMap;
use std::fmt;

use registry_credentials::App;
use registry_credentials::scope::{OrgId, Puller, SpaceId};
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::token::ServiceAccount;

/// Why the mapping was not read, or maps no puller for a service account.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MappingError {
    /// Not JSON of the mapping's shape.
    #[error("the service-account mapping is not valid (line {line}, column {column}): {reason}")]
    Json {
        /// What serde_json found wrong (a field's name, never a value).
        reason: String,
        /// Its line, from 1.
        line: usize,
        /// Its column, from 1.
        column: usize,
    },
    /// A rule is not in its form.
    #[error("rule {rule} of the service-account mapping: {reason}")]
    Rule {
        /// The rule's place, from 1.
        rule: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// No rule maps the service account.
    #[error(
        "no rule of the service-account mapping maps {account} (with the annotations kubelet passed): add a rule for it"
    )]
    Unmapped {
        /// The service account.
        account: String,
    },
    /// The matching rule reads the app from an annotation the request
    /// lacks.
    #[error(
        "rule {rule} of the service-account mapping reads the app of {account} from the annotation {key:?}, which kubelet did not pass: annotate the service account and list the key in kubelet's requiredServiceAccountAnnotationKeys"
    )]
    MissingAnnotation {
        /// The rule's place, from 1.
        rule: usize,
        /// The service account.
        account: String,
        /// The annotation's key.
        key: String,
    },
    /// The annotation's value is not an app's name.
    #[error(
        "rule {rule} of the service-account mapping reads the app of {account} from the annotation {key:?}, whose value is not an app's name: {reason}"
    )]
    AnnotationValue {
        /// The rule's place, from 1.
        rule: usize,
        /// The service account.
        account: String,
        /// The annotation's key.
        key: String,
        /// What is wrong with the value.
        reason: String,
    },
}

/// Whom a rule maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Puller(Puller),
    AppFromAnnotation {
        org: OrgId,
        space: SpaceId,
        key: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    namespace: String,
    name: Option<String>,
    annotations: BTreeMap<String, String>,
    target: Target,
}

/// The rules, read from the mapping file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    rules: Vec<Rule>,
}

/// A JSON object read as a map, refusing a key twice.
#[derive(Default)]
struct UniqueMap(BTreeMap<String, String>);

impl<'de> serde::Deserialize<'de> for UniqueMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UniqueMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueMap, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    if out.contains_key(&k) {
                        return Err(de::Error::custom(format_args!(
                            "the annotation key {:?} twice",
                            k.escape_debug().to_string()
                        )));
                    }
                    out.insert(k, v);
                }
                Ok(UniqueMap(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct File {
    service_accounts: Vec<RawRule>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawRule {
    namespace: String,
    name: Option<String>,
    #[serde(default)]
    annotations: UniqueMap,
    app: Option<String>,
    space: Option<String>,
    org: Option<String>,
    foundation: Option<bool>,
    app_from_annotation: Option<String>,
}

impl RawRule {
    fn check(self, rule: usize) -> Result<Rule, MappingError> {
        let bad = |reason: String| MappingError::Rule { rule, reason };
        if self.namespace.is_empty() {
            return Err(bad("`namespace` is empty".into()));
        }
        if self.name.as_deref() == Some("") {
            return Err(bad(
                "`name` is empty: leave it out to match every service account of the namespace"
                    .into(),
            ));
        }
        let targets = [
            self.app.is_some(),
            self.space.is_some(),
            self.org.is_some(),
            self.foundation.is_some(),
        ];
        if targets.iter().filter(|t| **t).count() != 1 {
            return Err(bad(
                "give exactly one of `app`, `space`, `org` and `\"foundation\": true`".into(),
            ));
        }
        if self.foundation == Some(false) {
            return Err(bad(
                "`\"foundation\": false` maps to nobody: give `true`, or another target".into(),
            ));
        }
        if self.app_from_annotation.is_some() && self.space.is_none() {
            return Err(bad(
                "`appFromAnnotation` names the app within a space: give `space` with it".into(),
            ));
        }
        let org = |v: &str, form: &str| OrgId::new(v).map_err(|e| bad(format!("`{form}`: {e}")));
        let target = if let Some(v) = &self.app {
            let parts: Vec<&str> = v.split('/').collect();
            let [o, s, a] = parts[..] else {
                return Err(bad(format!(
                    "`app` must be ORG/SPACE/APP: {} parts given",
                    parts.len()
                )));
            };
            Target::Puller(Puller::App(
                App::new(o, s, a).map_err(|e| bad(format!("`app`: {e}")))?,
            ))
        } else if let Some(v) = &self.space {
            let Some((o, s)) = v.split_once('/') else {
                return Err(bad(
                    "`space` must be ORG/SPACE: no `/` between the two".into()
                ));
            };
            let org = org(o, "space")?;
            let space = SpaceId::new(s).map_err(|e| bad(format!("`space`: {e}")))?;
            match self.app_from_annotation {
                Some(key) if key.is_empty() => {
                    return Err(bad("`appFromAnnotation` is empty".into()));
                }
                Some(key) => Target::AppFromAnnotation { org, space, key },
                None => Target::Puller(Puller::Space { org, space }),
            }
        } else if let Some(v) = &self.org {
            Target::Puller(Puller::Org(org(v, "org")?))
        } else {
            Target::Puller(Puller::Foundation)
        };
        Ok(Rule {
            namespace: self.namespace,
            name: self.name,
            annotations: self.annotations.0,
            target,
        })
    }
}

impl Mapping {
    /// Reads a mapping file's contents.
    ///
    /// # Errors
    ///
    /// [`MappingError::Json`] for JSON not of the mapping's shape (an
    /// unknown field, a key twice), [`MappingError::Rule`] for a rule not
    /// in its form.
    pub fn from_json(bytes: &[u8]) -> Result<Self, MappingError> {
        let file: File = serde_json::from_slice(bytes).map_err(|e| MappingError::Json {
            // serde_json's messages name fields and types; a mapping holds
            // no secret.
            reason: e
                .to_string()
                .split(" at line")
                .next()
                .unwrap_or("")
                .to_owned(),
            line: e.line(),
            column: e.column(),
        })?;
        let rules = file
            .service_accounts
            .into_iter()
            .enumerate()
            .map(|(i, r)| r.check(i + 1))
            .collect::<Result<_, _>>()?;
        Ok(Mapping { rules })
    }

    /// The puller `account` pulls for, given the annotations kubelet
    /// passed: the first matching rule's target, with the rule's place
    /// (from 1) for the log.
    ///
    /// # Errors
    ///
    /// [`MappingError::Unmapped`] when no rule matches; for a rule that
    /// reads the app from an annotation, [`MappingError::MissingAnnotation`]
    /// or [`MappingError::AnnotationValue`].
    pub fn puller(
        &self,
        account: &ServiceAccount,
        annotations: &BTreeMap<String, String>,
    ) -> Result<(Puller, usize), MappingError> {
        let matched = self.rules.iter().enumerate().find(|(_, r)| {
            r.namespace == account.namespace()
                && r.name.as_deref().is_none_or(|n| n == account.name())
                && r.annotations
                    .iter()
                    .all(|(k, v)| annotations.get(k) == Some(v))
        });
        let Some((i, rule)) = matched else {
            return Err(MappingError::Unmapped {
                account: account.to_string(),
            });
        };
        let place = i + 1;
        match &rule.target {
            Target::Puller(p) => Ok((p.clone(), place)),
            Target::AppFromAnnotation { org, space, key } => {
                let value =
                    annotations
                        .get(key)
                        .ok_or_else(|| MappingError::MissingAnnotation {
                            rule: place,
                            account: account.to_string(),
                            key: key.clone(),
                        })?;
                let app = App::new(org.as_str(), space.as_str(), value).map_err(|e| {
                    MappingError::AnnotationValue {
                        rule: place,
                        account: account.to_string(),
                        key: key.clone(),
                        reason: e.to_string(),
                    }
                })?;
                Ok((Puller::App(app), place))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the README's "The service-account mapping".
    fn readme_example() -> Mapping {
        let readme = include_str!("../../README.md");
        let section = &readme[readme.find("### The service-account mapping").unwrap()..];
        let start = section.find("```json\n").unwrap() + "```json\n".len();
        let end = start + section[start..].find("```").unwrap();
        Mapping::from_json(&section.as_bytes()[start..end]).unwrap()
    }

    fn map(
        m: &Mapping,
        ns: &str,
        name: &str,
        ann: &[(&str, &str)],
    ) -> Result<Puller, MappingError> {
        let ann = ann
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        m.puller(&ServiceAccount::new(ns, name), &ann)
            .map(|(p, _)| p)
    }

    #[test]
    fn the_readme_example_maps_as_it_says_r26() {
        let m = readme_example();
        let app = |o, s, a| Puller::App(App::new(o, s, a).unwrap());
        assert_eq!(
            map(&m, "shop", "web", &[]).unwrap(),
            app("acme", "prod", "web")
        );
        assert!(matches!(
            map(&m, "shop", "worker", &[]).unwrap(),
            Puller::Space { .. }
        ));
        assert!(matches!(
            map(&m, "shop", "batch", &[("example.com/tier", "trusted")]).unwrap(),
            Puller::Org(_)
        ));
        assert!(matches!(
            map(&m, "shop", "batch", &[("example.com/tier", "other")]),
            Err(MappingError::Unmapped { .. })
        ));
        let key = "registry-credentials.example.com/app";
        assert_eq!(
            map(&m, "apps", "any", &[(key, "shop-ui")]).unwrap(),
            app("acme", "prod", "shop-ui")
        );
        assert!(matches!(
            map(&m, "apps", "any", &[]),
            Err(MappingError::MissingAnnotation { rule: 4, .. })
        ));
        assert!(matches!(
            map(&m, "apps", "any", &[(key, "two words")]),
            Err(MappingError::AnnotationValue { .. })
        ));
        assert_eq!(map(&m, "public", "x", &[]).unwrap(), Puller::Foundation);
        assert!(matches!(
            map(&m, "other", "x", &[]),
            Err(MappingError::Unmapped { .. })
        ));
    }

    #[test]
    fn rules_not_in_their_form_are_refused_with_their_place() {
        for (json, needle) in [
            (r#"{"serviceAccounts":[{"namespace":"a"}]}"#, "exactly one"),
            (
                r#"{"serviceAccounts":[{"namespace":"a","org":"o","space":"o/s"}]}"#,
                "exactly one",
            ),
            (
                r#"{"serviceAccounts":[{"namespace":"","org":"o"}]}"#,
                "`namespace` is empty",
            ),
            (
                r#"{"serviceAccounts":[{"namespace":"a","name":"","org":"o"}]}"#,
                "`name` is empty",
            ),
            (
                r#"{"serviceAccounts":[{"namespace":"a","foundation":false}]}"#,
                "maps to nobody",
            ),
            (
                r#"{"serviceAccounts":[{"namespace":"a","app":"o/s"}]}"#,
                "ORG/SPACE/APP",
            ),
            (
                r#"{"serviceAccounts":[{"namespace":"a","space":"o"}]}"#,
                "ORG/SPACE",
            ),
            (
                r#"{"serviceAccounts":[{"namespace":"a","org":"o","appFromAnnotation":"k"}]}"#,
                "give `space`",
            ),
            (
                r#"{"serviceAccounts":[{"namespace":"a","org":"o","extra":1}]}"#,
                "unknown field",
            ),
            (
                r#"{"serviceAccounts":[{"namespace":"a","namespace":"b","org":"o"}]}"#,
                "duplicate field",
            ),
            (
                r#"{"serviceAccounts":[{"namespace":"a","annotations":{"k":"1","k":"2"},"org":"o"}]}"#,
                "twice",
            ),
        ] {
            let e = Mapping::from_json(json.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(needle), "{json}: {e}");
        }
    }
}
