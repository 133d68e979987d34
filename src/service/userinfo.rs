//! The UserInfo endpoint's rules (OIDC Core §5.3): an access token granted
//! with `openid` gets the user's claims for its scopes; `sub` always.

use serde_json::{Map, Value};

use crate::domain::credential::{parse_authorization, Credential};
use crate::service::access_token;
use crate::service::id_token::{user_claims, OPENID};
use crate::state::AppState;

/// Why userinfo refuses (RFC 6750 §3.1).
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No token at all: a bare `Bearer` challenge, no error code.
    NoToken,
    /// Malformed, unknown, expired, revoked, or its client or user disabled.
    InvalidToken,
    /// A valid token without `openid`.
    InsufficientScope,
}

/// The outcome of a userinfo request.
pub enum UserInfo {
    Claims(Map<String, Value>),
    Refused(Refusal),
}

/// Answers for the token in `Authorization: Bearer|OAuth` or, failing that,
/// the form body's `access_token` (RFC 6750 §2.2; never both).
pub fn userinfo(
    state: &AppState,
    header: Option<&[u8]>,
    body_token: Option<&str>,
) -> crate::error::Result<UserInfo> {
    let token = match (header.map(parse_authorization), body_token) {
        (Some(Ok(Credential::Token { token, .. })), None) => token.into_inner(),
        (None, Some(t)) => t.to_owned(),
        (None, None) => return Ok(UserInfo::Refused(Refusal::NoToken)),
        _ => return Ok(UserInfo::Refused(Refusal::InvalidToken)),
    };
    let Some(active) = access_token::check(state, &token)? else {
        return Ok(UserInfo::Refused(Refusal::InvalidToken));
    };
    if !active.claims.scopes.contains(OPENID) {
        return Ok(UserInfo::Refused(Refusal::InsufficientScope));
    }
    Ok(UserInfo::Claims(user_claims(
        &active.user,
        &active.claims.scopes,
    )))
}
