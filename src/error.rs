//! The error of the service layer: what went wrong, in the domain's words.
//!
//! Services never name HTTP statuses; `api::error` is the one place that maps
//! these variants to statuses, `WWW-Authenticate` challenges and JSON bodies.

use crate::domain::access::Denied;
use crate::domain::credential::MalformedCredential;
use crate::domain::oauth::{OAuthError, OAuthErrorCode};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No credential, or one that does not check out.
    #[error("{0}")]
    Unauthenticated(AuthFailure),
    /// Authenticated, but not allowed to do this.
    #[error("{}", describe_denied(.0))]
    Forbidden(Denied),
    /// Authenticated, and the action is refused for a reason the message states.
    #[error("{0}")]
    NotPermitted(String),
    /// The input breaks a rule; `field` names the offending part of the request.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{kind} {id:?} not found")]
    NotFound { kind: &'static str, id: String },
    /// The request conflicts with current state; `code` is machine-readable.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// The server is not ready to serve (start-up not finished, store unusable).
    #[error("{0}")]
    Unavailable(String),
    /// An OAuth protocol error, answered in RFC 6749 §5.2 form.
    #[error("{0}")]
    OAuth(OAuthError),
    #[error(transparent)]
    Store(StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// Why authentication failed. Messages never echo the credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization` header.
    Missing,
    /// A header that could not be parsed.
    Malformed(MalformedCredential),
    /// Basic credentials when `--no-basic-auth` is set.
    BasicDisabled,
    /// Username and password do not match an enabled user (one message for all
    /// three cases, so responses do not reveal which usernames exist).
    BadPassword,
    /// The right password for a disabled user.
    AccountDisabled,
    /// A bearer token that is unknown, expired, revoked or disabled.
    InvalidToken,
    /// Too many wrong passwords for this username: wait this many seconds.
    SlowDown(i64),
    /// The realm was deleted while the request was in flight: whatever it
    /// presented is no longer valid anywhere.
    RealmGone,
}

impl AuthFailure {
    /// Whether the client presented a token (so RFC 6750's `invalid_token` applies).
    pub fn is_token_failure(&self) -> bool {
        matches!(self, AuthFailure::InvalidToken | AuthFailure::RealmGone)
    }
}

impl std::fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthFailure::Missing => f.write_str("authentication required: send an Authorization header (Basic, Bearer or OAuth)"),
            AuthFailure::Malformed(m) => f.write_str(&m.describe()),
            AuthFailure::BasicDisabled => f.write_str("Basic authentication is turned off on this server (--no-basic-auth); use an API key or an access token"),
            AuthFailure::BadPassword => f.write_str("invalid username or password"),
            AuthFailure::AccountDisabled => f.write_str("this account is disabled"),
            AuthFailure::InvalidToken => f.write_str("the token is unknown, expired, revoked or disabled"),
            AuthFailure::SlowDown(secs) => write!(f, "too many failed attempts for this username; try again in {secs} seconds"),
            AuthFailure::RealmGone => f.write_str("this realm has been deleted; its credentials are no longer valid"),
        }
    }
}

fn describe_denied(d: &Denied) -> String {
    match d {
        Denied::Role(p) => format!(
            "your roles do not allow this operation (it needs the {} permission)",
            p.scope()
        ),
        Denied::Scope(p) => format!(
            "this credential lacks the {} scope this operation needs",
            p.scope()
        ),
    }
}

impl Error {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Error {
        Error::Invalid {
            field,
            message: message.into(),
        }
    }
}

impl Error {
    /// An OAuth protocol error (RFC 6749 §5.2) with a sentence for the developer.
    pub fn oauth(code: OAuthErrorCode, description: impl Into<String>) -> Error {
        Error::OAuth(OAuthError::new(code, description))
    }
}

impl From<OAuthError> for Error {
    fn from(e: OAuthError) -> Error {
        Error::OAuth(e)
    }
}

impl From<StoreError> for Error {
    /// A write into a realm deleted meanwhile is answered as the deletion's
    /// other requests are: 401, its credentials are gone.
    fn from(e: StoreError) -> Error {
        match e {
            StoreError::RealmGone => Error::Unauthenticated(AuthFailure::RealmGone),
            e => Error::Store(e),
        }
    }
}

impl From<Denied> for Error {
    fn from(d: Denied) -> Error {
        Error::Forbidden(d)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
