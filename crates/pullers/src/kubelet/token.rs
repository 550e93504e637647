//! Service-account tokens (KEP-4412), checked offline: the signature
//! against the issuer's public keys (a JWKS), then the issuer, the
//! audience, the expiry and the not-before time, with
//! [`jsonwebtoken`]. What a token says is believed only after all of that
//! (R26: a token that cannot be verified is refused, never answered from
//! a lower scope).
//!
//! Only asymmetric keys are taken from the JWKS (RSA, EC on P-256 or
//! P-384, Ed25519): a symmetric (`oct`) key is refused when the set is
//! read, so no token can be "signed" with a public key used as an HMAC
//! secret. A key verifies only the algorithms of its family, or the one
//! its `alg` names.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

/// How far a token's `exp` and `nbf` may be off the node's clock, in
/// seconds: jsonwebtoken's default, for clock skew between the API server
/// and the node.
pub const LEEWAY_SECONDS: u64 = 60;

/// Why a token, or the keys to check it with, was refused. No message
/// repeats the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The JWKS is not a JSON Web Key Set.
    #[error("the issuer's key set is not a JWKS (`{{\"keys\": [...]}}`): {0}")]
    Jwks(String),
    /// The JWKS holds a key that cannot check tokens.
    #[error("the issuer's key set holds {what} (key {kid}): give the issuer's public keys alone")]
    UnusableKey {
        /// The key's `kid`, or its place in the set.
        kid: String,
        /// What is wrong with it.
        what: &'static str,
    },
    /// The JWKS holds no key.
    #[error("the issuer's key set holds no key: give the issuer's public keys")]
    NoKeys,
    /// Not a JWS in compact form, or its header is not one.
    #[error("the service-account token is not a signed JWT: {0}")]
    Malformed(String),
    /// The header names an algorithm no key of the set verifies.
    #[error(
        "the service-account token is signed with {alg}, which no key of the issuer's set verifies"
    )]
    Algorithm {
        /// The header's `alg`.
        alg: String,
    },
    /// The header's `kid` is not in the set.
    #[error(
        "the service-account token names the key {kid:?}, which is not in the issuer's key set: refresh the JWKS file from the issuer"
    )]
    UnknownKey {
        /// The header's `kid`, escaped.
        kid: String,
    },
    /// The signature does not verify with the issuer's keys: forged, or
    /// from another issuer.
    #[error("the service-account token's signature does not verify with the issuer's keys")]
    Signature,
    /// Past its `exp`.
    #[error("the service-account token has expired")]
    Expired,
    /// Before its `nbf`.
    #[error("the service-account token is not valid yet (nbf)")]
    NotYetValid,
    /// Another `iss` than the configured issuer.
    #[error("the service-account token is from another issuer than {expected:?}")]
    Issuer {
        /// The configured issuer.
        expected: String,
    },
    /// No `aud` is the configured audience.
    #[error(
        "the service-account token is not for the audience {expected:?}: set kubelet's tokenAttributes.serviceAccountTokenAudience to it"
    )]
    Audience {
        /// The configured audience.
        expected: String,
    },
    /// A claim is missing or not of its type.
    #[error("the service-account token's claims are not a service account's: {0}")]
    Claims(String),
}

/// A service account: its namespace and name. [`Verifier::verify`]
/// returns the one a token was verified for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    namespace: String,
    name: String,
}

impl ServiceAccount {
    /// The service account `name` of `namespace`.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        ServiceAccount {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// Its namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Display for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "service account {}/{}",
            self.namespace.escape_debug(),
            self.name.escape_debug()
        )
    }
}

/// One key of the set, with the algorithms it verifies.
struct Key {
    kid: Option<String>,
    algorithms: Vec<Algorithm>,
    key: DecodingKey,
}

/// Checks service-account tokens of one issuer for one audience.
pub struct Verifier {
    keys: Vec<Key>,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field(
                "keys",
                &self
                    .keys
                    .iter()
                    .map(|k| k.kid.as_deref())
                    .collect::<Vec<_>>(),
            )
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

/// The algorithms `jwk` verifies: the one its `alg` names, else those of
/// its family.
fn algorithms(jwk: &Jwk, kid: &str) -> Result<Vec<Algorithm>, TokenError> {
    let unusable = |what| TokenError::UnusableKey {
        kid: kid.to_owned(),
        what,
    };
    let family: Vec<Algorithm> = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => vec![
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => {
                return Err(unusable(
                    "an elliptic-curve key on a curve other than P-256 or P-384",
                ));
            }
        },
        AlgorithmParameters::OctetKeyPair(p) => match p.curve {
            EllipticCurve::Ed25519 => vec![Algorithm::EdDSA],
            _ => return Err(unusable("an octet key pair other than Ed25519")),
        },
        AlgorithmParameters::OctetKey(_) => {
            return Err(unusable("a symmetric (oct) key, which is a secret"));
        }
    };
    let Some(named) = jwk.common.key_algorithm else {
        return Ok(family);
    };
    let named = match named {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return Err(unusable("a key whose `alg` is not a signature algorithm")),
    };
    if family.contains(&named) {
        Ok(vec![named])
    } else {
        Err(unusable("a key whose `alg` is not of its key type"))
    }
}

/// The claims the provider reads from a verified token; `exp`, `nbf`,
/// `iss` and `aud` are checked by jsonwebtoken.
#[derive(serde::Deserialize)]
struct Claims {
    sub: String,
    #[serde(rename = "kubernetes.io")]
    kubernetes: Option<KubernetesClaims>,
}

#[derive(serde::Deserialize)]
struct KubernetesClaims {
    namespace: String,
    serviceaccount: Named,
}

#[derive(serde::Deserialize)]
struct Named {
    name: String,
}

impl Verifier {
    /// A verifier of tokens from `issuer` (their `iss`) for `audience`
    /// (one of their `aud`), signed by a key of `jwks` (a JSON Web Key
    /// Set, as the API server serves at `/openid/v1/jwks`).
    ///
    /// # Errors
    ///
    /// [`TokenError::Jwks`], [`TokenError::NoKeys`] or
    /// [`TokenError::UnusableKey`] when the set cannot check tokens.
    pub fn from_jwks(jwks: &[u8], issuer: &str, audience: &str) -> Result<Self, TokenError> {
        let set: JwkSet = serde_json::from_slice(jwks).map_err(|e| {
            // The place only: a key set is public, but keep messages short.
            TokenError::Jwks(format!("line {}, column {}", e.line(), e.column()))
        })?;
        if set.keys.is_empty() {
            return Err(TokenError::NoKeys);
        }
        let mut keys = Vec::with_capacity(set.keys.len());
        for (i, jwk) in set.keys.iter().enumerate() {
            let kid = jwk
                .common
                .key_id
                .clone()
                .unwrap_or_else(|| format!("#{}", i + 1));
            let algorithms = algorithms(jwk, &kid)?;
            let key = DecodingKey::from_jwk(jwk).map_err(|_| TokenError::UnusableKey {
                kid: kid.clone(),
                what: "a key whose parameters do not decode",
            })?;
            keys.push(Key {
                kid: jwk.common.key_id.clone(),
                algorithms,
                key,
            });
        }
        Ok(Verifier {
            keys,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    /// The configured issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The configured audience.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The service account `token` was issued for, once its signature,
    /// issuer, audience, `exp` and `nbf` (with [`LEEWAY_SECONDS`]) check
    /// out and its `sub` agrees with its `kubernetes.io` claim.
    ///
    /// # Errors
    ///
    /// [`TokenError`] saying what did not check out; the signature is
    /// checked first, so a forged token is refused as forged whatever its
    /// claims say.
    pub fn verify(&self, token: &str) -> Result<ServiceAccount, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| {
            TokenError::Malformed(match e.kind() {
                ErrorKind::InvalidAlgorithmName => "its header names no known algorithm".into(),
                _ => "its header does not decode".into(),
            })
        })?;
        let alg = header.alg;
        let candidates: Vec<&Key> = match &header.kid {
            Some(kid) => {
                let keys: Vec<&Key> = self
                    .keys
                    .iter()
                    .filter(|k| k.kid.as_deref() == Some(kid))
                    .collect();
                if keys.is_empty() {
                    return Err(TokenError::UnknownKey {
                        kid: kid.escape_debug().to_string(),
                    });
                }
                keys
            }
            None => self.keys.iter().collect(),
        };
        let candidates: Vec<&Key> = candidates
            .into_iter()
            .filter(|k| k.algorithms.contains(&alg))
            .collect();
        if candidates.is_empty() {
            return Err(TokenError::Algorithm {
                alg: format!("{alg:?}"),
            });
        }
        let mut last = TokenError::Signature;
        for key in candidates {
            let mut validation = Validation::new(alg);
            validation.algorithms = vec![alg];
            validation.leeway = LEEWAY_SECONDS;
            validation.validate_exp = true;
            validation.validate_nbf = true;
            validation.set_issuer(&[&self.issuer]);
            validation.set_audience(&[&self.audience]);
            validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
            match jsonwebtoken::decode::<Claims>(token, &key.key, &validation) {
                Ok(data) => return self.service_account(data.claims),
                Err(e) => {
                    last = self.error(e.kind());
                    if last != TokenError::Signature {
                        // The signature held: the claims are what failed,
                        // and another key would not change them.
                        return Err(last);
                    }
                }
            }
        }
        Err(last)
    }

    fn error(&self, kind: &ErrorKind) -> TokenError {
        match kind {
            ErrorKind::InvalidSignature
            | ErrorKind::InvalidEcdsaKey
            | ErrorKind::InvalidEddsaKey
            | ErrorKind::InvalidRsaKey(_)
            | ErrorKind::InvalidKeyFormat
            | ErrorKind::InvalidAlgorithm
            | ErrorKind::Provider(_) => TokenError::Signature,
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::ImmatureSignature => TokenError::NotYetValid,
            ErrorKind::InvalidIssuer => TokenError::Issuer {
                expected: self.issuer.clone(),
            },
            ErrorKind::InvalidAudience => TokenError::Audience {
                expected: self.audience.clone(),
            },
            ErrorKind::MissingRequiredClaim(c) => TokenError::Claims(format!("no `{c}` claim")),
            ErrorKind::InvalidClaimFormat(c) => {
                TokenError::Claims(format!("the `{c}` claim is not of its type"))
            }
            ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Utf8(_) => {
                TokenError::Malformed("it is not three base64url parts".into())
            }
            // The claims did not read as a service account's (serde's
            // message names the field, never a value of the token).
            ErrorKind::Json(e) => TokenError::Claims(claim_error(e)),
            _ => TokenError::Malformed("it does not decode".into()),
        }
    }

    fn service_account(&self, claims: Claims) -> Result<ServiceAccount, TokenError> {
        let k = claims.kubernetes.ok_or_else(|| {
            TokenError::Claims("no `kubernetes.io` claim: not a service-account token".into())
        })?;
        let expected = format!(
            "system:serviceaccount:{}:{}",
            k.namespace, k.serviceaccount.name
        );
        if claims.sub != expected || k.namespace.is_empty() || k.serviceaccount.name.is_empty() {
            return Err(TokenError::Claims(
                "its `sub` is not the service account its `kubernetes.io` claim names".into(),
            ));
        }
        Ok(ServiceAccount {
            namespace: k.namespace,
            name: k.serviceaccount.name,
        })
    }
}

/// What was wrong with the claims, from serde_json's error: its category
/// and place, which name no claim's value.
fn claim_error(e: &serde_json::Error) -> String {
    let what = match e.classify() {
        serde_json::error::Category::Data => "a claim is missing or not of its type",
        _ => "they are not a JSON object",
    };
    format!("{what} (column {})", e.column())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};

    const JWKS: &[u8] = include_bytes!("../../tests/fixtures/issuer.jwks.json");
    const ES256: &[u8] = include_bytes!("../../tests/fixtures/issuer-es256.der");

    fn claims() -> serde_json::Value {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        serde_json::json!({
            "aud": "aud", "iss": "iss", "exp": now + 600, "nbf": now,
            "sub": "system:serviceaccount:ns:sa",
            "kubernetes.io": {"namespace": "ns", "serviceaccount": {"name": "sa"}}
        })
    }

    #[test]
    fn a_token_without_a_kid_is_checked_against_every_key_of_its_algorithm() {
        let v = Verifier::from_jwks(JWKS, "iss", "aud").unwrap();
        let t = jsonwebtoken::encode(
            &Header::new(Algorithm::ES256),
            &claims(),
            &EncodingKey::from_ec_der(ES256),
        )
        .unwrap();
        assert_eq!(v.verify(&t).unwrap(), ServiceAccount::new("ns", "sa"));
        // A single `aud` string is an audience too; another is not.
        let v = Verifier::from_jwks(JWKS, "iss", "other").unwrap();
        assert!(matches!(v.verify(&t), Err(TokenError::Audience { .. })));
    }

    #[test]
    fn key_sets_that_cannot_check_tokens_are_refused() {
        let err = |jwks: &str| Verifier::from_jwks(jwks.as_bytes(), "iss", "aud").unwrap_err();
        assert_eq!(err(r#"{"keys":[]}"#), TokenError::NoKeys);
        assert!(matches!(err("[]"), TokenError::Jwks(_)));
        assert!(matches!(
            err(r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#),
            TokenError::UnusableKey { what, .. } if what.contains("symmetric")
        ));
        // An RSA key that says it is for ES256.
        let set: serde_json::Value = serde_json::from_slice(JWKS).unwrap();
        let mut rsa = set["keys"][0].clone();
        rsa["alg"] = "ES256".into();
        let e = err(&serde_json::json!({ "keys": [rsa] }).to_string());
        assert!(
            matches!(&e, TokenError::UnusableKey { kid, .. } if kid == "rs256-key"),
            "{e:?}"
        );
    }
}
