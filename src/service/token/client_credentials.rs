//! `grant_type=client_credentials` (RFC 6749 §4.4): a confidential client
//! gets a token that acts as the client's owner, with the requested subset of
//! the client's scopes (all of them when none are named).

use crate::domain::client::Client;
use crate::domain::oauth::{self, OAuthErrorCode as Code};
use crate::domain::scope::ScopeSet;
use crate::error::{Error, Result};
use crate::service::access_token::{self, IssuedToken};
use crate::service::client_auth::invalid_client;
use crate::service::live;
use crate::state::AppState;

pub(super) fn issue(
    state: &AppState,
    client: &Client,
    requested: Option<ScopeSet>,
) -> Result<IssuedToken> {
    if client.is_public() {
        return Err(Error::oauth(
            Code::UnauthorizedClient,
            "a public client may not use the client_credentials grant",
        ));
    }
    let scopes = oauth::grant_scopes(requested, &client.scopes)?;
    // The token acts as the client's owner, who must still be able to act.
    let owner = live::user(state, &client.owner_id)?
        .ok_or_else(|| invalid_client("the client's owner no longer exists"))?;
    if owner.disabled {
        return Err(Error::oauth(
            Code::InvalidGrant,
            "the account that owns this client is disabled",
        ));
    }
    access_token::issue(state, client, owner.id.as_str(), scopes, None)
}
