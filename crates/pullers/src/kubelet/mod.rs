//! The protocol logic of `registry-credentials-kubelet-provider`, a
//! kubelet credential provider plugin (`credentialprovider.kubelet.k8s.io/v1`),
//! without I/O.
//!
//! - Node mode (a request without `serviceAccountToken`): the puller is
//!   [`Puller::Foundation`], so only foundation credentials serve (R26).
//! - Service-account mode (KEP-4412): the token is checked by a
//!   [`Verifier`] and its service account mapped by a
//!   [`Mapping`] to an app, a space or an organization,
//!   resolved app → space → organization → foundation (R14). A token that
//!   does not check out, or a service account no rule maps, is refused,
//!   never answered from a lower scope (R26).
//! - The credential for an image is the first of its plan's keys whose
//!   credential has not expired (R25) and that kubelet can carry
//!   ([`kubelet_carries`](registry_credentials_interop::export::kubelet_carries), R24): `first_live` over the plan's keys, as the
//!   store query `Query::Image` asks it.
//! - The answer is an interop
//!   [`CredentialProviderResponse`](registry_credentials_interop::export::CredentialProviderResponse):
//!   `cacheKeyType: Image`, the image's repository name as the only `auth`
//!   key, `cacheDuration` as configured (`0s` by default, R17).

pub mod mapping;
pub mod token;

use std::time::Duration;

use registry_credentials::scope::Puller;
use registry_credentials_interop::export::CredentialProviderRequest;

use mapping::{Mapping, MappingError};
use token::{ServiceAccount, TokenError, Verifier};

/// Why a request was refused: kubelet gets no answer, and the message on
/// stderr says why.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// A token came, and service-account mode is not configured.
    #[error(
        "the request carries a service-account token, and this provider has no --jwks, --issuer, --audience and --service-accounts to check and map it with: configure them, or remove tokenAttributes from kubelet's CredentialProviderConfig; no credential is served for an unchecked token"
    )]
    NotConfigured,
    /// The token did not check out.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The service account is not mapped.
    #[error(transparent)]
    Mapping(#[from] MappingError),
}

/// Service-account mode: the checker of tokens and the mapping of their
/// service accounts.
#[derive(Debug)]
pub struct ServiceAccounts {
    /// Checks the tokens.
    pub verifier: Verifier,
    /// Maps their service accounts.
    pub mapping: Mapping,
}

/// Whom a request pulls for, and how that was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requester {
    /// No token: the node (R26).
    Node,
    /// A verified service account, and the rule that mapped it (from 1).
    ServiceAccount(ServiceAccount, usize),
}

/// The puller `request` pulls for (names or ids, as the mapping gives
/// them), and who asked: the foundation for a request without a token
/// (R26), else the target of the rule that maps the token's verified
/// service account.
///
/// # Errors
///
/// [`Refusal`] for a token without `service_accounts`, a token that does
/// not check out, or a service account no rule maps.
pub fn puller(
    request: &CredentialProviderRequest,
    service_accounts: Option<&ServiceAccounts>,
) -> Result<(Puller, Requester), Refusal> {
    let Some(token) = request.service_account_token() else {
        return Ok((Puller::Foundation, Requester::Node));
    };
    let sa = service_accounts.ok_or(Refusal::NotConfigured)?;
    let account = sa.verifier.verify(token)?;
    let (puller, rule) = sa
        .mapping
        .puller(&account, request.service_account_annotations())?;
    Ok((puller, Requester::ServiceAccount(account, rule)))
}

/// Why a `--cache-duration` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the cache duration {input:?} is not a duration: give whole numbers with units h, m and s, as `0s`, `90s` or `1h30m`"
)]
pub struct DurationError {
    input: String,
}

/// A duration as kubelet's configuration writes one (`0s`, `90s`, `5m`,
/// `1h30m`): whole numbers, each followed by `h`, `m` or `s`.
///
/// # Errors
///
/// [`DurationError`] for anything else (no unit, a fraction, another unit,
/// an overflow).
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let bad = || DurationError {
        input: input.escape_debug().to_string(),
    };
    let mut rest = input;
    let mut total: u64 = 0;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        let unit = match rest.as_bytes().get(digits) {
            Some(b'h') => 3600,
            Some(b'm') => 60,
            Some(b's') => 1,
            _ => return Err(bad()),
        };
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(bad)?;
        rest = &rest[digits + 1..];
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_kubelet_writes_them() {
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("5m10s").unwrap(), Duration::from_secs(310));
        for bad in [
            "",
            "5",
            "1.5s",
            "10ms",
            "s",
            "-1s",
            "1h 2m",
            "99999999999999999999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
