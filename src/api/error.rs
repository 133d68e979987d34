//! The one mapping from errors to HTTP: statuses, `WWW-Authenticate`, and the
//! JSON body `{"error": "<code>", "error_description": "<sentence>"}`.
//!
//! Handlers return `ApiError<S>`, where `S` lists the statuses that operation can
//! really answer, so the OpenAPI document stays honest. Errors raised by poem and
//! poem-openapi themselves (bad JSON, wrong content type, unknown path, …) are
//! turned into the same JSON shape by [`json_errors`].

use std::marker::PhantomData;

use poem::http::{header, HeaderValue, StatusCode};
use poem::{IntoResponse, Response};
use poem_openapi::registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::{ToJSON, Type};
use poem_openapi::{ApiResponse, Object};

use crate::domain::access::Denied;
use crate::domain::oauth::{OAuthError, OAuthErrorCode};
use crate::error::{AuthFailure, Error};

/// The Basic challenge of every 401 that offers Basic (RFC 7617 §2).
const BASIC_CHALLENGE: &str = r#"Basic realm="latchkey", charset="UTF-8""#;
/// The plain Bearer challenge (RFC 6750 §3).
const BEARER_CHALLENGE: &str = r#"Bearer realm="latchkey""#;

/// A Bearer challenge (RFC 6750 §3): bare, or naming the error and, for
/// `insufficient_scope`, the scope the token lacks.
pub fn bearer_challenge(error: Option<&str>, scope: Option<&str>) -> String {
    match (error, scope) {
        (None, _) => BEARER_CHALLENGE.to_owned(),
        (Some(e), None) => format!(r#"{BEARER_CHALLENGE}, error="{e}""#),
        (Some(e), Some(s)) => format!(r#"{BEARER_CHALLENGE}, error="{e}", scope="{s}""#),
    }
}

/// The body of every error answer of the management API.
#[derive(Debug, Clone, Object)]
pub struct ErrorBody {
    /// Machine-readable code, e.g. `invalid_request`, `not_found`, `username_taken`.
    pub error: String,
    /// A sentence for the person reading it.
    pub error_description: String,
}

/// The statuses one operation can answer with an error.
pub trait Statuses: Send + Sync + 'static {
    const LIST: &'static [u16];
}

macro_rules! statuses {
    ($($(#[$doc:meta])* $name:ident = [$($code:literal),*];)*) => {$(
        $(#[$doc])*
        pub struct $name;
        impl Statuses for $name {
            const LIST: &'static [u16] = &[$($code),*];
        }
    )*};
}

statuses! {
    /// Listing the scope catalog: credentials only.
    AuthOnly = [401, 403, 503];
    /// `GET /users/me`: any valid credential.
    CurrentUser = [401, 503];
    /// Reading one resource by id.
    Lookup = [401, 403, 404, 503];
    /// Disabling or enabling one resource.
    Toggle = [401, 403, 404, 503];
    /// Listing with query parameters.
    Listing = [400, 401, 403, 503];
    /// Listing what belongs to a user named by a query parameter.
    OwnedListing = [400, 401, 403, 404, 503];
    /// Creating from a JSON body.
    Create = [400, 401, 403, 409, 413, 415, 503];
    /// Changing one resource from a JSON body.
    Change = [400, 401, 403, 404, 409, 413, 415, 503];
    /// Deleting a resource that may refuse to go (the last admin, a built-in scope).
    Removal = [401, 403, 404, 409, 503];
    /// Deleting an API key.
    KeyRemoval = [401, 403, 404, 503];
    /// Deleting a client (`revoke_tokens` in the query).
    ClientRemoval = [400, 401, 403, 404, 503];
    /// A new client secret (`revoke_tokens` in the query; public clients have
    /// none: 409).
    SecretRotation = [400, 401, 403, 404, 409, 503];
    /// Test control without a body (404 when it is turned off).
    TestControlRead = [401, 403, 404, 503];
    /// Resetting a realm (409 for the default realm).
    TestControlReset = [401, 403, 404, 409, 503];
    /// Test control with a JSON body (404 when it is turned off).
    TestControlChange = [400, 401, 403, 404, 413, 415, 503];
    /// Service endpoints that may report the server unusable.
    Readiness = [503];
    /// The token endpoint (RFC 6749 §5.2 errors; `invalid_client` is 401).
    TokenEndpoint = [400, 401, 413, 503];
    /// UserInfo: 401 without a valid token, 403 without `openid`.
    UserInfoEndpoint = [400, 401, 403, 413, 503];
    /// Introspection and revocation: also 403 for a user credential without
    /// the admin scope they need.
    GuardedOAuthEndpoint = [400, 401, 403, 413, 503];
}

/// An error answer; `S` documents which statuses the operation uses.
pub struct ApiError<S: Statuses> {
    status: StatusCode,
    body: ErrorBody,
    challenges: Vec<String>,
    _statuses: PhantomData<S>,
}

impl<S: Statuses> ApiError<S> {
    pub fn new(status: StatusCode, code: &str, description: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                error: code.into(),
                error_description: description.into(),
            },
            challenges: Vec::new(),
            _statuses: PhantomData,
        }
    }

    /// Maps a service error. `basic_auth` says whether a Basic challenge may be
    /// offered on 401.
    pub fn from_error(err: Error, basic_auth: bool) -> Self {
        match err {
            Error::Unauthenticated(failure) => Self::unauthenticated(&failure, basic_auth),
            Error::Forbidden(denied) => {
                let code = match denied {
                    Denied::Role(_) => "forbidden",
                    Denied::Scope(_) => "insufficient_scope",
                };
                Self::new(
                    StatusCode::FORBIDDEN,
                    code,
                    Error::Forbidden(denied).to_string(),
                )
            }
            Error::NotPermitted(m) => Self::new(StatusCode::FORBIDDEN, "forbidden", m),
            e @ Error::Invalid { .. } => {
                Self::new(StatusCode::BAD_REQUEST, "invalid_request", e.to_string())
            }
            e @ Error::NotFound { .. } => {
                Self::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            Error::Conflict { code, message } => Self::new(StatusCode::CONFLICT, code, message),
            Error::OAuth(e) => Self::oauth(e),
            Error::Unavailable(m) => Self::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", m),
            e @ (Error::Store(_) | Error::Internal(_)) => {
                tracing::error!(error = %e, "request failed on the server side");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "the server could not complete the request; see its log",
                )
            }
        }
    }

    fn oauth(e: OAuthError) -> Self {
        let status = match e.code {
            OAuthErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            _ => StatusCode::BAD_REQUEST,
        };
        Self::new(status, e.code.as_str(), e.description)
    }

    /// Maps an error at an OAuth endpoint: protocol errors per RFC 6749 §5.2
    /// (`invalid_client` is 401 with a Basic challenge, as every 401 carries
    /// one); a failed user credential at introspection is `invalid_client` too.
    pub fn from_oauth(err: Error) -> Self {
        match err {
            Error::OAuth(e) => {
                let unauthorized = e.code == OAuthErrorCode::InvalidClient;
                let mut out = Self::oauth(e);
                if unauthorized {
                    out.challenges.push(BASIC_CHALLENGE.into());
                }
                out
            }
            Error::Unauthenticated(failure) => {
                let mut out = Self::new(
                    StatusCode::UNAUTHORIZED,
                    OAuthErrorCode::InvalidClient.as_str(),
                    failure.to_string(),
                );
                out.challenges.push(BASIC_CHALLENGE.into());
                out.challenges.push(BEARER_CHALLENGE.into());
                out
            }
            e @ Error::Invalid { .. } => Self::new(
                StatusCode::BAD_REQUEST,
                OAuthErrorCode::InvalidRequest.as_str(),
                e.to_string(),
            ),
            other => Self::from_error(other, true),
        }
    }

    fn unauthenticated(failure: &AuthFailure, basic_auth: bool) -> Self {
        let code = match failure {
            AuthFailure::Missing => "unauthorized",
            AuthFailure::Malformed(_) => "invalid_authorization",
            AuthFailure::BasicDisabled => "basic_auth_disabled",
            AuthFailure::BadPassword => "invalid_credentials",
            AuthFailure::AccountDisabled => "account_disabled",
            AuthFailure::InvalidToken => "invalid_token",
            AuthFailure::SlowDown(_) => "too_many_attempts",
            AuthFailure::RealmGone => "invalid_token",
        };
        let mut err = Self::new(StatusCode::UNAUTHORIZED, code, failure.to_string());
        if basic_auth {
            err.challenges.push(BASIC_CHALLENGE.into());
        }
        err.challenges.push(if failure.is_token_failure() {
            format!(
                r#"Bearer realm="latchkey", error="invalid_token", error_description="{failure}""#
            )
        } else {
            BEARER_CHALLENGE.into()
        });
        err
    }

    /// Adds a `WWW-Authenticate` challenge to the answer.
    pub fn with_challenge(mut self, challenge: String) -> Self {
        self.challenges.push(challenge);
        self
    }
}

impl<S: Statuses> From<Error> for ApiError<S> {
    fn from(err: Error) -> Self {
        Self::from_error(err, true)
    }
}

impl<S: Statuses> IntoResponse for ApiError<S> {
    fn into_response(self) -> Response {
        let mut resp = json_response(self.status, &self.body);
        for challenge in self.challenges {
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                resp.headers_mut().append(header::WWW_AUTHENTICATE, v);
            }
        }
        resp
    }
}

impl<S: Statuses> From<ApiError<S>> for poem::Error {
    fn from(err: ApiError<S>) -> poem::Error {
        poem::Error::from_response(err.into_response())
    }
}

impl<S: Statuses> ApiResponse for ApiError<S> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: S::LIST
                .iter()
                .map(|&status| MetaResponse {
                    description: describe_status(status),
                    status: Some(status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: "application/json; charset=utf-8",
                        schema: ErrorBody::schema_ref(),
                    }],
                    headers: if status == 401 {
                        vec![MetaHeader {
                            name: "WWW-Authenticate".into(),
                            description: Some(
                                "The schemes this server accepts (RFC 9110 §11.6.1, RFC 6750 §3)."
                                    .into(),
                            ),
                            required: true,
                            deprecated: false,
                            schema: String::schema_ref(),
                        }]
                    } else {
                        vec![]
                    },
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        ErrorBody::register(registry);
    }
}

fn describe_status(status: u16) -> &'static str {
    match status {
        400 => "The request is malformed or breaks a rule (`invalid_request`; at OAuth endpoints any RFC 6749 §5.2 code).",
        401 => "Missing, malformed or invalid credentials (`invalid_client` at OAuth endpoints).",
        403 => "Authenticated, but the roles or the credential's scopes do not allow this (`forbidden`, `insufficient_scope`).",
        404 => "No such resource, or not visible to this caller (`not_found`).",
        409 => "Conflicts with the current state (e.g. `username_taken`, `last_admin`).",
        413 => "The request body is larger than the server accepts (`payload_too_large`).",
        415 => "The request body is not `application/json` (`unsupported_media_type`).",
        503 => "The server is not ready (`not_ready`).",
        _ => "Error.",
    }
}

fn json_response(status: StatusCode, body: &ErrorBody) -> Response {
    let json = body.to_json_string();
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(json)
}

/// Turns every error that reaches the top of the app into the JSON shape.
/// Errors built from our own responses pass through untouched.
pub async fn json_errors(err: poem::Error) -> Response {
    if err.is_from_response() {
        return err.into_response();
    }
    let status = err.status();
    let (code, description) = match status {
        StatusCode::BAD_REQUEST => ("invalid_request", err.to_string()),
        StatusCode::NOT_FOUND => ("not_found", "no such path on this server".to_string()),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this path does not take that HTTP method".to_string(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", err.to_string()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", err.to_string()),
        StatusCode::LENGTH_REQUIRED => ("length_required", err.to_string()),
        s if s.is_server_error() => {
            tracing::error!(error = %err, "unhandled server error");
            (
                "server_error",
                "the server could not complete the request; see its log".to_string(),
            )
        }
        _ => ("error", err.to_string()),
    };
    json_response(
        status,
        &ErrorBody {
            error: code.into(),
            error_description: description,
        },
    )
}
