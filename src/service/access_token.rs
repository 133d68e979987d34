//! Access tokens: issuing (nothing is written) and validating (MAC, expiry,
//! revocation list, and the live state of the client and the user).

use std::sync::Arc;

use crate::domain::access::{AuthMethod, Principal};
use crate::domain::client::Client;
use crate::domain::scope::ScopeSet;
use crate::domain::token::{self, AccessClaims};
use crate::domain::user::User;
use crate::error::{AuthFailure, Error, Result};
use crate::secret::{random_bytes, Redacted};
use crate::service::live;
use crate::state::AppState;

/// A freshly issued access token.
#[derive(Debug)]
pub struct IssuedToken {
    pub token: Redacted<String>,
    pub expires_in: i64,
    pub scopes: ScopeSet,
    /// `lk_rt_…`, for grants that come with one.
    pub refresh_token: Option<Redacted<String>>,
}

/// Issues an access token for `client` acting as `user_id` with `scopes`.
pub fn issue(
    state: &AppState,
    client: &Client,
    user_id: &str,
    scopes: ScopeSet,
    family: Option<[u8; 16]>,
) -> Result<IssuedToken> {
    let ttl = client.access_token_ttl(state.config.access_token_ttl);
    let now = state.clock.now();
    let claims = AccessClaims {
        id: random_bytes(),
        client_id: client.client_id.to_string(),
        client_epoch: client.token_epoch,
        user_id: user_id.to_owned(),
        scopes,
        issued_at: now,
        expires_at: now.plus_secs(ttl),
        family,
    };
    let token = token::encode(&state.token_key, &claims)
        .map_err(|_| Error::invalid("scope", "the granted scopes do not fit in a token"))?;
    Ok(IssuedToken {
        token: Redacted::new(token),
        expires_in: ttl,
        scopes: claims.scopes,
        refresh_token: None,
    })
}

/// A token that passed every check, with what it names.
#[derive(Debug, Clone)]
pub struct ActiveToken {
    pub claims: AccessClaims,
    pub user: Arc<User>,
}

/// Validates an access token. `Ok(None)`: not active (malformed, tampered,
/// expired, revoked, or its client or user is disabled or gone).
pub fn check(state: &AppState, presented: &str) -> Result<Option<ActiveToken>> {
    let Ok(claims) = token::decode(&state.token_key, presented) else {
        return Ok(None);
    };
    let now = state.clock.now();
    if claims.expires_at <= now || claims.issued_at > now.plus_secs(60) {
        return Ok(None);
    }
    let revocations = &state.revocations;
    if revocations.is_token_revoked(&claims.id)
        || revocations.is_epoch_revoked(&claims.client_id, claims.client_epoch)
        || claims
            .family
            .is_some_and(|f| revocations.is_family_revoked(&f))
    {
        return Ok(None);
    }
    // A deleted client's tokens live out their lifetime (Imply); an existing
    // one must be enabled and still on the epoch the token was issued under.
    if let Some(client) = live::client(state, &claims.client_id)? {
        if !client.enabled || client.token_epoch != claims.client_epoch {
            return Ok(None);
        }
    }
    let Some(user) = live::active_user(state, &claims.user_id)? else {
        return Ok(None);
    };
    Ok(Some(ActiveToken { claims, user }))
}

/// `Authorization: Bearer|OAuth lk_at_…`: the user, narrowed to the token's scopes.
pub fn authenticate(state: &AppState, presented: &str) -> Result<Principal> {
    let active =
        check(state, presented)?.ok_or(Error::Unauthenticated(AuthFailure::InvalidToken))?;
    Ok(Principal {
        credential_scopes: Some(active.claims.scopes.iter().map(str::to_owned).collect()),
        user: active.user,
        method: AuthMethod::AccessToken {
            client_id: active.claims.client_id,
        },
    })
}

/// Reads an access token's claims if its MAC verifies, whatever its state
/// (revocation needs the id and owner of tokens that may already be inactive).
pub fn claims(state: &AppState, presented: &str) -> Option<AccessClaims> {
    token::decode(&state.token_key, presented).ok()
}
