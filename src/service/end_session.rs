//! RP-Initiated Logout 1.0: `/oauth/logout` ends the browser session and
//! sends the browser back only to a post-logout redirect URI registered by the
//! client that the `id_token_hint` (or `client_id`) names — never anywhere else.

use serde_json::Value;

use crate::domain::oauth::OAuthErrorCode;
use crate::error::{Error, Result};
use crate::service::client_auth::Caller;
use crate::service::token::refresh_token::{family_and_client, family_horizon};
use crate::service::{authorize, id_token, live, revocation};
use crate::state::AppState;

/// The logout request's parameters.
#[derive(Debug, Default)]
pub struct LogoutRequest<'a> {
    pub id_token_hint: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub post_logout_redirect_uri: Option<&'a str>,
    pub state: Option<&'a str>,
}

/// What the browser gets.
#[derive(Debug, PartialEq, Eq)]
pub enum Logout {
    /// Signed out; back to the client's registered URI (with `state`).
    Redirect(String),
    /// Signed out; no (registered) place to go back to.
    SignedOut,
    /// The request is broken: nothing was done.
    Refused(String),
}

/// The client an id_token of this server was issued to, if it is one.
fn hinted_client(state: &AppState, issuer: &str, hint: &str) -> Option<String> {
    match id_token::verify_own(state, issuer, hint)?.get("aud")? {
        Value::String(a) => Some(a.clone()),
        Value::Array(list) => list.first().and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// Ends the session of `cookie` (if any) as `req` asks.
pub async fn logout(
    state: &AppState,
    issuer: &str,
    cookie: Option<&str>,
    req: LogoutRequest<'_>,
) -> Result<Logout> {
    let hinted = match req.id_token_hint {
        Some(hint) => match hinted_client(state, issuer, hint) {
            Some(client) => Some(client),
            None => {
                return Ok(Logout::Refused(
                    "The id_token_hint is not an id_token issued by this server.".into(),
                ))
            }
        },
        None => None,
    };
    let client_id = match (hinted, req.client_id) {
        (Some(h), Some(c)) if h != c => {
            return Ok(Logout::Refused(
                "client_id names another client than the id_token_hint.".into(),
            ))
        }
        (Some(h), _) => Some(h),
        (None, c) => c.map(str::to_owned),
    };
    let client = match &client_id {
        Some(id) if crate::domain::client::is_id(id) => live::client(state, id)?,
        _ => None,
    };
    if client_id.is_some() && client.is_none() {
        return Ok(Logout::Refused(
            "The application that sent you here is not registered.".into(),
        ));
    }
    authorize::logout(state, cookie).await?;
    let back = req.post_logout_redirect_uri.filter(|uri| {
        client
            .as_ref()
            .is_some_and(|c| c.post_logout_redirect_uris.iter().any(|r| r == uri))
    });
    Ok(match back {
        Some(uri) => {
            let mut location = uri.to_owned();
            if let Some(s) = req.state {
                let encoded = form_urlencoded::Serializer::new(String::new())
                    .append_pair("state", s)
                    .finish();
                location.push(if uri.contains('?') { '&' } else { '?' });
                location.push_str(&encoded);
            }
            Logout::Redirect(location)
        }
        None => Logout::SignedOut,
    })
}

/// Keycloak's back-channel logout (`POST …/logout` with client
/// authentication and `refresh_token`): ends that refresh token's grant — it,
/// its successors and every access token issued from it. An unknown refresh
/// token, or another client's, is `invalid_grant` (as Keycloak answers).
pub async fn back_channel(state: &AppState, caller: &Caller, refresh_token: &str) -> Result<()> {
    let invalid = || {
        Error::oauth(
            OAuthErrorCode::InvalidGrant,
            "the refresh token is unknown or was not issued to this client",
        )
    };
    let Some((family, client_id)) = family_and_client(state, refresh_token)? else {
        return Err(invalid());
    };
    if caller.is_other_client(&client_id) {
        return Err(invalid());
    }
    revocation::revoke_family(state, &family, family_horizon(state)).await
}
