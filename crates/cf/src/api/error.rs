//! The platform's error bodies, `{"errors": [{"code", "title", "detail"}]}`,
//! with its codes and titles, and which one each refusal of the manager is.

use registry_credentials::StoreError;
use serde::Serialize;

use crate::directory::DirectoryError;
use crate::manage::ManageError;

/// One error of the platform's v3 API: status, code, title, and a detail
/// that says what was wrong and what to do. No detail holds a secret: the
/// manager's errors never do, and the parsers never quote a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct ApiError {
    #[serde(skip)]
    pub(super) status: u16,
    pub(super) code: u32,
    pub(super) title: &'static str,
    pub(super) detail: String,
}

impl ApiError {
    fn new(status: u16, code: u32, title: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            title,
            detail: detail.into(),
        }
    }

    /// No such route: the platform answers 404 `CF-NotFound` for a path
    /// or a method it does not serve.
    pub(super) fn no_route(method: &str, path: &str) -> Self {
        ApiError::new(
            404,
            10000,
            "CF-NotFound",
            format!(
                "Unknown request: {} {} is not served; use GET or POST /v3/registry_credentials, or GET, PATCH or DELETE /v3/registry_credentials/:guid",
                crate::text::quote(method),
                crate::text::quote(path)
            ),
        )
    }

    /// The resource does not exist, or the caller may not see it.
    pub(super) fn not_found(detail: impl Into<String>) -> Self {
        ApiError::new(404, 10010, "CF-ResourceNotFound", detail)
    }

    /// The caller may see but not do it (R20).
    pub(super) fn not_authorized(detail: impl Into<String>) -> Self {
        ApiError::new(403, 10003, "CF-NotAuthorized", detail)
    }

    /// A field's value is not valid, or the change conflicts.
    pub(super) fn unprocessable(detail: impl Into<String>) -> Self {
        ApiError::new(422, 10008, "CF-UnprocessableEntity", detail)
    }

    /// A query parameter is unknown or its value is not valid.
    pub(super) fn bad_query(detail: impl Into<String>) -> Self {
        ApiError::new(400, 10005, "CF-BadQueryParameter", detail)
    }

    /// The body is not JSON, or a field has the wrong JSON type.
    pub(super) fn message_parse(detail: impl Into<String>) -> Self {
        ApiError::new(400, 1001, "CF-MessageParseError", detail)
    }

    /// The store or the directory failed; `retryable` when the same call
    /// may succeed later.
    fn failed(retryable: bool, detail: String) -> Self {
        if retryable {
            ApiError::new(503, 10015, "CF-ServiceUnavailable", detail)
        } else {
            ApiError::new(500, 10001, "CF-UnknownError", detail)
        }
    }

    /// The body of this error.
    pub(super) fn body(&self) -> String {
        #[derive(Serialize)]
        struct Errors<'a> {
            errors: [&'a ApiError; 1],
        }
        super::json(&Errors { errors: [self] })
    }
}

impl From<ManageError> for ApiError {
    fn from(e: ManageError) -> Self {
        let detail = e.to_string();
        match e {
            ManageError::Permission(_) => ApiError::not_authorized(detail),
            ManageError::GuidNotFound { .. } | ManageError::NotFound { .. } => {
                ApiError::not_found(detail)
            }
            ManageError::Unknown { .. } => ApiError::not_found(detail),
            ManageError::Conflict { .. } | ManageError::AppCredentialByPush => {
                ApiError::unprocessable(detail)
            }
            ManageError::Directory(d) => match d {
                DirectoryError::Backend { retryable, .. } => ApiError::failed(retryable, detail),
                _ => ApiError::failed(false, detail),
            },
            ManageError::Store(s) => match s {
                StoreError::Metadata(_) => ApiError::unprocessable(detail),
                StoreError::GuidNotFound { .. } | StoreError::NotFound { .. } => {
                    ApiError::not_found(detail)
                }
                StoreError::Conflict { .. } => ApiError::unprocessable(detail),
                StoreError::OutcomeUnknown { .. } => ApiError::failed(false, detail),
                other => ApiError::failed(other.is_retryable(), detail),
            },
        }
    }
}
