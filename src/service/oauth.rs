//! The OAuth protocol endpoints' rules: client authentication
//! (`client_secret_basic`, `client_secret_post`, public clients by id), the
//! token endpoint's grants, introspection (RFC 7662) and revocation (RFC 7009).

use std::sync::Arc;

use crate::domain::access::{Permission, Principal};
use crate::domain::api_key;
use crate::domain::client::{self, GrantType};
use crate::domain::credential::{parse_authorization, Credential};
use crate::domain::oauth::{self, OAuthError, OAuthErrorCode as Code};
use crate::domain::token::{AccessClaims, ACCESS_PREFIX};
use crate::domain::user::User;
use crate::error::{Error, Result};
use crate::secret::{constant_time_eq, fingerprint, Redacted};
use crate::service::tokens::{self, IssuedToken};
use crate::service::{api_keys, authn, revocations};
use crate::state::AppState;
use crate::store::{ApiKeyRecord, ClientRecord};

/// How a client presented itself, as read from the request.
#[derive(Default)]
pub struct ClientAuth {
    /// `Authorization: Basic` (RFC 6749 §2.3.1), form-decoded.
    pub basic: Option<(String, Redacted<String>)>,
    /// `client_id` parameter.
    pub client_id: Option<String>,
    /// `client_secret` parameter.
    pub client_secret: Option<Redacted<String>>,
}

impl ClientAuth {
    /// Reads the `Authorization` header (if any) and the body's client
    /// parameters. A header other than Basic is not client authentication.
    pub fn read(
        header: Option<&[u8]>,
        client_id: Option<String>,
        client_secret: Option<String>,
    ) -> Result<ClientAuth> {
        let basic = match header.map(parse_authorization) {
            None => None,
            Some(Ok(Credential::Basic { username, password })) => {
                let id = oauth::form_decode(&username).ok_or_else(|| {
                    invalid_client("the Basic client id is not form-urlencoded (RFC 6749 §2.3.1)")
                })?;
                let secret = oauth::form_decode(password.expose()).ok_or_else(|| {
                    invalid_client(
                        "the Basic client secret is not form-urlencoded (RFC 6749 §2.3.1)",
                    )
                })?;
                Some((id, Redacted::new(secret)))
            }
            Some(Ok(Credential::Token { .. })) => {
                return Err(invalid_client(
                    "authenticate the client with Basic (client_secret_basic) or with client_id and client_secret parameters (client_secret_post)",
                ));
            }
            Some(Err(m)) => return Err(invalid_client(m.describe())),
        };
        Ok(ClientAuth {
            basic,
            client_id,
            client_secret: client_secret.map(Redacted::new),
        })
    }
}

fn invalid_client(description: impl Into<String>) -> Error {
    Error::OAuth(OAuthError::new(Code::InvalidClient, description))
}

fn invalid_request(description: impl Into<String>) -> Error {
    Error::OAuth(OAuthError::new(Code::InvalidRequest, description))
}

/// Authenticates the client: one method only; a confidential client by its
/// secret, a public one by its id alone. Disabled and deleted clients fail.
pub fn authenticate_client(state: &AppState, auth: &ClientAuth) -> Result<Arc<ClientRecord>> {
    let (id, secret) = match (&auth.basic, &auth.client_id, &auth.client_secret) {
        (Some(_), _, Some(_)) => {
            return Err(invalid_request(
                "use one client authentication method: Basic or client_secret in the body, not both",
            ));
        }
        (Some((id, _)), Some(param), None) if param != id => {
            return Err(invalid_request(
                "client_id does not match the client authenticated by Basic",
            ));
        }
        // Libraries send a public client as `client_id:` with an empty password.
        (Some((id, secret)), _, None) => {
            (id.as_str(), Some(secret).filter(|s| !s.expose().is_empty()))
        }
        (None, Some(id), secret) => (id.as_str(), secret.as_ref()),
        (None, None, _) => {
            return Err(invalid_client(
                "client authentication required: Basic (client_secret_basic) or client_id and client_secret (client_secret_post)",
            ));
        }
    };
    let unknown = || invalid_client("unknown client, wrong secret, or the client is disabled");
    if !client::is_id(id) {
        return Err(unknown());
    }
    let record = tokens::client(state, id)?.ok_or_else(unknown)?;
    if !record.enabled {
        return Err(unknown());
    }
    match (&record.secret_hash, secret) {
        (Some(hash), Some(secret)) => {
            if !constant_time_eq(hash, &fingerprint(secret.expose())) {
                return Err(unknown());
            }
        }
        (Some(_), None) => {
            return Err(invalid_client(
                "this client must authenticate with its secret",
            ));
        }
        (None, Some(_)) => {
            return Err(invalid_client(
                "a public client has no secret; send only client_id",
            ));
        }
        (None, None) => {}
    }
    Ok(record)
}

/// A token request, whatever encoding it came in.
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub scope: Option<String>,
    pub auth: ClientAuth,
}

/// `POST /oauth/token`.
pub async fn token(state: &AppState, req: TokenRequest) -> Result<IssuedToken> {
    let grant = match req.grant_type.as_deref() {
        None | Some("") => return Err(invalid_request("grant_type is required")),
        Some(g) => g,
    };
    if grant != GrantType::ClientCredentials.as_str() {
        return Err(Error::OAuth(OAuthError::new(
            Code::UnsupportedGrantType,
            format!("this server does not support the grant type {grant:?}; it supports client_credentials"),
        )));
    }
    let client = authenticate_client(state, &req.auth)?;
    let requested = oauth::parse_scope(req.scope.as_deref())?;
    client_credentials(state, &client, requested)
}

fn client_credentials(
    state: &AppState,
    client: &ClientRecord,
    requested: Option<Vec<String>>,
) -> Result<IssuedToken> {
    let allowed = client
        .grant_types
        .iter()
        .any(|g| g == GrantType::ClientCredentials.as_str());
    if !allowed || client.secret_hash.is_none() {
        return Err(Error::OAuth(OAuthError::new(
            Code::UnauthorizedClient,
            "this client may not use the client_credentials grant (see its grant_types)",
        )));
    }
    let scopes = oauth::grant_scopes(requested, &client.scopes)?;
    // The token acts as the client's owner, who must still be able to act.
    let owner = tokens::user(state, &client.owner_id)?
        .ok_or_else(|| invalid_client("the client's owner no longer exists"))?;
    if owner.disabled {
        return Err(Error::OAuth(OAuthError::new(
            Code::InvalidGrant,
            "the account that owns this client is disabled",
        )));
    }
    tokens::issue(state, client, owner.id.as_str(), scopes, None)
}

/// Who called introspection or revocation.
pub enum Caller {
    /// An authenticated client (confidential, or public by id where allowed).
    Client(Arc<ClientRecord>),
    /// A user credential holding the admin permission the endpoint asks for.
    Admin,
}

/// Authenticates the caller of introspection or revocation: a client (Basic
/// whose username names an existing client, or `client_id` parameters), or
/// else a user credential in the header (Basic, API key, access token) that
/// holds `admin`.
pub async fn endpoint_caller(
    state: &AppState,
    header: Option<&[u8]>,
    client_id: Option<String>,
    client_secret: Option<String>,
    admin: Permission,
) -> Result<Caller> {
    let client_basic = match header.map(parse_authorization) {
        Some(Ok(Credential::Basic { username, .. })) => oauth::form_decode(&username)
            .filter(|id| client::is_id(id))
            .map(|id| tokens::client(state, &id))
            .transpose()?
            .flatten()
            .is_some(),
        _ => false,
    };
    if header.is_some() && !client_basic {
        let principal: Principal = authn::authenticate(state, header).await?;
        principal.require(admin)?;
        return Ok(Caller::Admin);
    }
    let auth = ClientAuth::read(header, client_id, client_secret)?;
    Ok(Caller::Client(authenticate_client(state, &auth)?))
}

/// Who may introspect: a confidential client, or a credential with `users:read`.
pub async fn authorize_introspection(
    state: &AppState,
    header: Option<&[u8]>,
    client_id: Option<String>,
    client_secret: Option<String>,
) -> Result<()> {
    let caller = endpoint_caller(
        state,
        header,
        client_id,
        client_secret,
        Permission::UsersRead,
    )
    .await?;
    if let Caller::Client(client) = caller {
        if client.secret_hash.is_none() {
            return Err(invalid_client("public clients cannot introspect tokens"));
        }
    }
    Ok(())
}

/// What introspection found.
pub enum Introspection {
    Inactive,
    AccessToken {
        claims: AccessClaims,
        user: Arc<User>,
    },
    ApiKey {
        key: Box<ApiKeyRecord>,
        owner: User,
    },
}

/// `POST /oauth/introspect`: access tokens and API keys, told apart by prefix.
pub async fn introspect(state: &AppState, token: Option<&str>) -> Result<Introspection> {
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| invalid_request("the token parameter is required"))?;
    if token.starts_with(ACCESS_PREFIX) {
        return Ok(match tokens::check(state, token)? {
            Some(active) => Introspection::AccessToken {
                claims: active.claims,
                user: active.user,
            },
            None => Introspection::Inactive,
        });
    }
    if token.starts_with(api_key::SECRET_PREFIX) {
        return Ok(match api_keys::check(state, token).await? {
            Some((key, owner)) => Introspection::ApiKey {
                key: Box::new(key),
                owner,
            },
            None => Introspection::Inactive,
        });
    }
    Ok(Introspection::Inactive)
}

/// `POST /oauth/revoke`: a client revokes a token issued to it; an admin
/// credential (`users:write`) any token, also of a deleted client. Unknown,
/// malformed and already expired tokens succeed without effect (RFC 7009 §2.2).
pub async fn revoke(state: &AppState, caller: &Caller, token: Option<&str>) -> Result<()> {
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| invalid_request("the token parameter is required"))?;
    if token.starts_with(api_key::SECRET_PREFIX) {
        return Err(Error::OAuth(OAuthError::new(
            Code::UnsupportedTokenType,
            "API keys are not revoked here: disable or delete them with /api/v1/api-keys",
        )));
    }
    let Some(claims) = tokens::claims(state, token) else {
        return Ok(());
    };
    if matches!(caller, Caller::Client(c) if c.client_id != claims.client_id) {
        return Err(Error::OAuth(OAuthError::new(
            Code::UnauthorizedClient,
            "this token was not issued to the client revoking it",
        )));
    }
    revocations::revoke_token(state, &claims).await
}
