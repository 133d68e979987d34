//! Client authentication at the token, introspection and revocation endpoints
//! (RFC 6749 §2.3): `client_secret_basic`, `client_secret_post`, and public
//! clients by their id alone; and who may call introspection and revocation.

use std::sync::Arc;

use crate::domain::access::{Permission, Principal};
use crate::domain::client::{self, Client};
use crate::domain::credential::{parse_authorization, Credential};
use crate::domain::oauth::{self, OAuthErrorCode as Code};
use crate::error::{Error, Result};
use crate::secret::{constant_time_eq, fingerprint, Redacted};
use crate::service::{authn, live};
use crate::state::AppState;

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

pub(crate) fn invalid_client(description: impl Into<String>) -> Error {
    Error::oauth(Code::InvalidClient, description)
}

/// Authenticates the client: one method only; a confidential client by its
/// secret, a public one by its id alone. Disabled and deleted clients fail.
pub fn authenticate_client(state: &AppState, auth: &ClientAuth) -> Result<Arc<Client>> {
    let (id, secret) = match (&auth.basic, &auth.client_id, &auth.client_secret) {
        (Some(_), _, Some(_)) => {
            return Err(Error::oauth(
                Code::InvalidRequest,
                "use one client authentication method: Basic or client_secret in the body, not both",
            ));
        }
        (Some((id, _)), Some(param), None) if param != id => {
            return Err(Error::oauth(
                Code::InvalidRequest,
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
    let found = live::client(state, id)?.ok_or_else(unknown)?;
    if !found.enabled {
        return Err(unknown());
    }
    match (&found.secret_hash, secret) {
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
    Ok(found)
}

/// Who called introspection or revocation.
pub enum Caller {
    /// An authenticated client (confidential, or public by id where allowed).
    Client(Arc<Client>),
    /// A user credential holding the admin permission the endpoint asks for.
    Admin,
}

impl Caller {
    /// Whether a client other than `client_id` is calling (an admin may act on
    /// any client's tokens).
    pub fn is_other_client(&self, client_id: &str) -> bool {
        matches!(self, Caller::Client(c) if c.client_id.as_str() != client_id)
    }
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
            .map(|id| live::client(state, &id))
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
