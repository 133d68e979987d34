//! Minted tokens (test control): the token response a flow would give,
//! without the flow — for a client acting as its owner (as client_credentials)
//! or for a user as if they had authorized the client. The tokens are real:
//! validated, introspected and revoked like any other.

use crate::domain::claims;
use crate::domain::client::GrantType;
use crate::domain::oauth;
use crate::domain::user::Username;
use crate::error::{Error, Result};
use crate::secret::random_bytes;
use crate::service::access_token::{IssuedToken, Recipient};
use crate::service::token::user_grant::{self, UserGrant};
use crate::service::{live, token, users};
use crate::state::AppState;

/// What to mint.
#[derive(Debug, Default)]
pub struct MintRequest {
    pub client_id: String,
    pub username: Option<String>,
    pub scope: Option<String>,
    /// The access token's lifetime instead of the client's.
    pub ttl_seconds: Option<i64>,
    /// Claims added to the JWTs (id_token; JWT access tokens), over the user's
    /// or the client's own.
    pub claims: Option<serde_json::Value>,
    pub nonce: Option<String>,
    /// Of `access_token`, `refresh_token`, `id_token`; default: what the
    /// flow would give.
    pub kinds: Option<Vec<String>>,
}

pub async fn mint(state: &AppState, issuer: &str, req: MintRequest) -> Result<IssuedToken> {
    let client = live::client(state, &req.client_id)?
        .filter(|c| c.enabled)
        .ok_or_else(|| {
            Error::invalid(
                "client_id",
                format!("no enabled client {:?}", req.client_id),
            )
        })?;
    let mut client = (*client).clone();
    if let Some(ttl) = req.ttl_seconds {
        crate::domain::client::check_ttl(ttl).map_err(|m| Error::invalid("ttl_seconds", m))?;
        client.access_token_ttl_seconds = Some(ttl);
    }
    let extra = match &req.claims {
        Some(c) => claims::check(c).map_err(|m| Error::invalid("claims", m))?,
        None => serde_json::Map::new(),
    };
    let scope = oauth::parse_scope(req.scope.as_deref())
        .map_err(|e| Error::invalid("scope", e.description))?;
    let (mut refresh, mut id_token) = (false, false);
    for k in req.kinds.iter().flatten() {
        match k.as_str() {
            "access_token" => {}
            "refresh_token" => refresh = true,
            "id_token" => id_token = true,
            other => {
                return Err(Error::invalid(
                    "kinds",
                    format!("{other:?}: use access_token, refresh_token or id_token"),
                ))
            }
        }
    }
    let to = Recipient {
        issuer,
        resource: None,
    };
    let Some(username) = &req.username else {
        if refresh || id_token {
            return Err(Error::invalid(
                "kinds",
                "refresh and id tokens need a user: give username",
            ));
        }
        if !client.allows(GrantType::ClientCredentials) {
            return Err(Error::invalid(
                "client_id",
                "without username the tokens act as the client's owner, which needs the client_credentials grant",
            ));
        }
        client.claims.extend(extra);
        return token::for_client(state, &to, &client, scope)
            .await
            .map_err(as_field);
    };
    let key = Username::parse(username)
        .map_err(|m| Error::invalid("username", m))?
        .key();
    let mut user = match state.store.users().get_by_username(&key)? {
        Some(r) => users::from_record(r)?,
        None => return Err(Error::invalid("username", format!("no user {username:?}"))),
    };
    if user.disabled {
        return Err(Error::invalid(
            "username",
            format!("{username:?} is disabled"),
        ));
    }
    if ![
        GrantType::AuthorizationCode,
        GrantType::Implicit,
        GrantType::Password,
    ]
    .iter()
    .any(|g| client.allows(*g))
    {
        return Err(Error::invalid(
            "client_id",
            "a user's tokens need a client with authorization_code, implicit or password",
        ));
    }
    let granted = oauth::grant_scopes(scope, &client.scopes)
        .map_err(|e| Error::invalid("scope", e.description))?;
    let openid = granted.contains("openid");
    if req.kinds.is_none() {
        refresh = client.allows(GrantType::RefreshToken);
        id_token = openid;
    }
    if refresh && !client.allows(GrantType::RefreshToken) {
        return Err(Error::invalid(
            "kinds",
            "the client does not have the refresh_token grant",
        ));
    }
    if id_token && !openid {
        return Err(Error::invalid(
            "kinds",
            "an id_token needs openid in the scope",
        ));
    }
    user.claims.extend(extra);
    let grant = UserGrant {
        user: &user,
        granted: &granted,
        auth_time: state.clock.now().unix(),
        sid: None,
        nonce: req.nonce.as_deref(),
        family: random_bytes(),
        refresh,
        id_token,
    };
    user_grant::issue(state, &to, &client, grant)
        .await
        .map_err(as_field)
}

/// An OAuth error of the issuing step, as the 400 naming what was wrong.
fn as_field(e: Error) -> Error {
    match e {
        Error::OAuth(e) => Error::invalid("client_id", e.description),
        other => other,
    }
}
