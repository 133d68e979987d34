//! What a user's grant gives, however it was made (a code, the password
//! grant, a minted grant): an access token acting for the user, a refresh
//! token starting the grant's family when the client has the refresh_token
//! grant, and an id_token when `openid` was granted.

use crate::domain::client::{Client, GrantType};
use crate::domain::scope::ScopeSet;
use crate::domain::user::User;
use crate::error::Result;
use crate::service::access_token::{Acting, IssuedToken, Recipient};
use crate::service::id_token::{self, Subject};
use crate::state::AppState;

use super::refresh_token;

/// A user's grant to a client.
pub(crate) struct UserGrant<'a> {
    pub user: &'a User,
    /// What the user granted (the tokens get what the client may still have).
    pub granted: &'a ScopeSet,
    pub auth_time: i64,
    pub sid: Option<&'a str>,
    pub nonce: Option<&'a str>,
    /// The grant family: revoking it ends every token of the grant.
    pub family: [u8; 16],
    /// Whether to start a refresh token (when the client has the grant).
    pub refresh: bool,
    /// Whether to add an id_token (when `openid` was granted).
    pub id_token: bool,
}

pub(crate) async fn issue(
    state: &AppState,
    to: &Recipient<'_>,
    client: &Client,
    g: UserGrant<'_>,
) -> Result<IssuedToken> {
    // Only what the client may still request (an admin may have taken a scope
    // away since the user consented).
    let scopes = g.granted.intersect(&client.scopes);
    let acting = Acting::User {
        user: g.user,
        auth_time: g.auth_time,
    };
    let mut issued = super::user_token(state, to, client, acting, scopes, g.family).await?;
    if g.refresh && client.allows(GrantType::RefreshToken) {
        let origin = refresh_token::Origin {
            family: &g.family,
            user_id: g.user.id.as_str(),
            auth_time: g.auth_time,
            sid: g.sid,
        };
        issued.refresh_token = Some(refresh_token::start(state, client, origin, g.granted).await?);
    }
    if g.id_token {
        let subject = Subject {
            user: g.user,
            auth_time: g.auth_time,
            sid: g.sid,
            nonce: g.nonce,
        };
        issued.id_token = id_token::for_grant(state, to.issuer, client, subject, &issued).await?;
    }
    Ok(issued)
}
