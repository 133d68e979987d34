//! `POST /oauth/introspect` (RFC 7662): who may ask, and what a presented
//! access token, refresh token or API key is right now. Told apart by their
//! type prefix; anything unknown, expired, revoked or disabled is inactive.

use std::sync::Arc;

use crate::domain::access::Permission;
use crate::domain::api_key::ApiKeyId;
use crate::domain::oauth::OAuthErrorCode as Code;
use crate::domain::scope::ScopeSet;
use crate::domain::time::Timestamp;
use crate::domain::token::AccessClaims;
use crate::domain::user::User;
use crate::error::{Error, Result};
use crate::secret::Kind;
use crate::service::client_auth::{self, invalid_client, Caller};
use crate::service::token::refresh_token::{self, LiveRefresh};
use crate::service::{access_token, api_keys};
use crate::state::AppState;

/// An active API key, as introspection reports it.
#[derive(Debug, Clone)]
pub struct ActiveKey {
    pub id: ApiKeyId,
    pub scopes: ScopeSet,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

/// What introspection found.
pub enum Introspection {
    Inactive,
    AccessToken {
        claims: AccessClaims,
        user: Arc<User>,
    },
    ApiKey {
        key: ActiveKey,
        owner: User,
    },
    RefreshToken {
        refresh: LiveRefresh,
        user: Arc<User>,
    },
}

/// Who may introspect: a confidential client, or a credential with `users:read`.
pub async fn authorize(
    state: &AppState,
    header: Option<&[u8]>,
    client_id: Option<String>,
    client_secret: Option<String>,
) -> Result<()> {
    let caller = client_auth::endpoint_caller(
        state,
        header,
        client_id,
        client_secret,
        Permission::UsersRead,
    )
    .await?;
    if let Caller::Client(client) = caller {
        if client.is_public() {
            return Err(invalid_client("public clients cannot introspect tokens"));
        }
    }
    Ok(())
}

/// An access token of either format.
fn access(state: &AppState, token: &str) -> Result<Introspection> {
    Ok(match access_token::check(state, token)? {
        Some(active) => Introspection::AccessToken {
            claims: active.claims,
            user: active.user,
        },
        None => Introspection::Inactive,
    })
}

/// What `token` is now.
pub async fn introspect(state: &AppState, token: Option<&str>) -> Result<Introspection> {
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::oauth(Code::InvalidRequest, "the token parameter is required"))?;
    Ok(match Kind::of(token) {
        Some(Kind::AccessToken) => access(state, token)?,
        None if access_token::looks_like_access_token(token) => access(state, token)?,
        Some(Kind::RefreshToken) => match refresh_token::live(state, token)? {
            Some((refresh, user)) => Introspection::RefreshToken { refresh, user },
            None => Introspection::Inactive,
        },
        Some(Kind::ApiKey) => match api_keys::check(state, token).await? {
            Some((key, owner)) => Introspection::ApiKey {
                key: ActiveKey {
                    id: ApiKeyId::parse(&key.id).ok_or_else(|| {
                        Error::Internal(format!("stored API key id {:?} is malformed", key.id))
                    })?,
                    scopes: ScopeSet::from_names(&key.scopes),
                    created_at: Timestamp(key.created_at),
                    expires_at: key.expires_at.map(Timestamp),
                },
                owner,
            },
            None => Introspection::Inactive,
        },
        Some(Kind::Code | Kind::ClientSecret) | None => Introspection::Inactive,
    })
}
