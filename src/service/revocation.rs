//! Revoking: the RFC 7009 endpoint's rules, and the durable writes behind
//! every revocation (one access token, a grant family, a client's token
//! epoch) with the sweep that drops entries once they can no longer matter.
//! Each write is on disk before it returns, then mirrored in
//! [`RevocationList`](crate::service::revocation_list::RevocationList).

use crate::domain::client::MAX_TTL_SECONDS;
use crate::domain::oauth::OAuthErrorCode as Code;
use crate::domain::token::AccessClaims;
use crate::error::{Error, Result};
use crate::secret::Kind;
use crate::service::access_token;
use crate::service::client_auth::Caller;
use crate::service::revocation_list::{client_marker, family_marker};
use crate::service::token::refresh_token::{self, family_horizon};
use crate::state::AppState;
use crate::store::RevocationRecord;

/// How often the server sweeps expired entries.
pub const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// `POST /oauth/revoke`: a client revokes a token issued to it; an admin
/// credential (`users:write`) any token, also of a deleted client. Unknown,
/// malformed and already expired tokens succeed without effect (RFC 7009 §2.2).
pub async fn revoke(state: &AppState, caller: &Caller, token: Option<&str>) -> Result<()> {
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::oauth(Code::InvalidRequest, "the token parameter is required"))?;
    let not_yours = || {
        Error::oauth(
            Code::UnauthorizedClient,
            "this token was not issued to the client revoking it",
        )
    };
    match Kind::of(token) {
        Some(Kind::ApiKey) => Err(Error::oauth(
            Code::UnsupportedTokenType,
            "API keys are not revoked here: disable or delete them with /api/v1/api-keys",
        )),
        // Revoking a refresh token revokes its grant: the access tokens issued
        // from it too (RFC 7009 §2.1).
        Some(Kind::RefreshToken) => {
            let Some((family, client_id)) = refresh_token::family_and_client(state, token)? else {
                return Ok(());
            };
            if caller.is_other_client(&client_id) {
                return Err(not_yours());
            }
            revoke_family(state, &family, family_horizon(state)).await
        }
        _ => {
            let Some(claims) = access_token::claims(state, token) else {
                return Ok(());
            };
            if caller.is_other_client(&claims.client_id) {
                return Err(not_yours());
            }
            revoke_token(state, &claims).await
        }
    }
}

/// Revokes every token of a grant family (the access and refresh tokens from
/// one authorization code), until `keep_until`; durable before it returns.
pub async fn revoke_family(state: &AppState, family: &[u8; 16], keep_until: i64) -> Result<()> {
    if state.revocations.is_family_revoked(family) {
        return Ok(());
    }
    let rec = RevocationRecord {
        revoked_at: state.clock.now().unix(),
        keep_until,
    };
    state
        .store
        .revocations()
        .add_marker(&family_marker(family), rec)
        .await?;
    state.revocations.remember_family(*family, keep_until);
    Ok(())
}

/// Revokes one access token until it expires; durable before it returns.
pub async fn revoke_token(state: &AppState, claims: &AccessClaims) -> Result<()> {
    let now = state.clock.now();
    if claims.expires_at <= now || state.revocations.is_token_revoked(&claims.id) {
        return Ok(());
    }
    let rec = RevocationRecord {
        revoked_at: now.unix(),
        keep_until: claims.expires_at.unix(),
    };
    state
        .store
        .revocations()
        .revoke_token(&claims.id, rec)
        .await?;
    state.revocations.remember_token(claims.id, rec.keep_until);
    Ok(())
}

/// Revokes every token of one epoch of a client with a single marker.
pub async fn revoke_client_epoch(state: &AppState, client_id: &str, epoch: u64) -> Result<()> {
    let now = state.clock.now();
    let rec = RevocationRecord {
        revoked_at: now.unix(),
        keep_until: now.plus_secs(MAX_TTL_SECONDS).unix(),
    };
    state
        .store
        .revocations()
        .add_marker(&client_marker(client_id, epoch), rec)
        .await?;
    state
        .revocations
        .remember_epoch(client_id, epoch, rec.keep_until);
    Ok(())
}

/// Drops entries that can no longer matter, from the store and from memory.
/// Returns how many store entries went.
pub fn sweep(state: &AppState) -> Result<usize> {
    let now = state.clock.now();
    let removed = state.store.revocations().sweep(now.unix())?;
    state.revocations.forget_expired(now.unix());
    Ok(removed)
}
