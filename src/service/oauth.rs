//! The OAuth protocol endpoints' rules: client authentication
//! (`client_secret_basic`, `client_secret_post`, public clients by id), the
//! token endpoint's grants, introspection (RFC 7662) and revocation (RFC 7009).

use std::sync::Arc;

use crate::domain::access::{Permission, Principal};
use crate::domain::api_key;
use crate::domain::client::{self, GrantType};
use crate::domain::credential::{parse_authorization, Credential};
use crate::domain::oauth::{self, OAuthError, OAuthErrorCode as Code};
use crate::domain::pkce;
use crate::domain::token::{AccessClaims, ACCESS_PREFIX};
use crate::domain::user::User;
use crate::error::{Error, Result};
use crate::secret::random_bytes;
use crate::secret::{constant_time_eq, fingerprint, Redacted};
use crate::service::tokens::{self, IssuedToken};
use crate::service::{api_keys, authn, revocations};
use crate::state::AppState;
use crate::store::{ApiKeyRecord, ClientRecord, RefreshRecord, Use};
use base64::Engine as _;

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
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
}

/// `POST /oauth/token`.
pub async fn token(state: &AppState, req: TokenRequest) -> Result<IssuedToken> {
    let grant = match req.grant_type.as_deref() {
        None | Some("") => return Err(invalid_request("grant_type is required")),
        Some(g) => g,
    };
    let Some(grant) = GrantType::parse(grant).filter(|g| *g != GrantType::Implicit) else {
        return Err(Error::OAuth(OAuthError::new(
            Code::UnsupportedGrantType,
            format!("this server does not support the grant type {grant:?}; it supports authorization_code, client_credentials and refresh_token"),
        )));
    };
    let client = authenticate_client(state, &req.auth)?;
    let requested = oauth::parse_scope(req.scope.as_deref())?;
    match grant {
        GrantType::ClientCredentials => client_credentials(state, &client, requested),
        GrantType::AuthorizationCode => authorization_code(state, &client, &req).await,
        _ => refresh(state, &client, &req, requested).await,
    }
}

fn invalid_grant(description: impl Into<String>) -> Error {
    Error::OAuth(OAuthError::new(Code::InvalidGrant, description))
}

fn require_grant(client: &ClientRecord, grant: GrantType) -> Result<()> {
    if client.grant_types.iter().any(|g| g == grant.as_str()) {
        Ok(())
    } else {
        Err(Error::OAuth(OAuthError::new(
            Code::UnauthorizedClient,
            format!("this client may not use the {grant} grant (see its grant_types)"),
        )))
    }
}

/// Keep a family's revocation until every token it could have issued expired.
fn family_horizon(state: &AppState) -> i64 {
    state
        .clock
        .now()
        .plus_secs(state.config.refresh_token_ttl.max(client::MAX_TTL_SECONDS))
        .unix()
}

fn family_of(bytes: &[u8]) -> Result<[u8; 16]> {
    bytes
        .try_into()
        .map_err(|_| Error::Internal("a stored grant family is not 16 bytes".into()))
}

/// `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6). A code is
/// single-use: presenting it again fails and revokes what it issued.
async fn authorization_code(
    state: &AppState,
    client: &ClientRecord,
    req: &TokenRequest,
) -> Result<IssuedToken> {
    require_grant(client, GrantType::AuthorizationCode)?;
    let code = req
        .code
        .as_deref()
        .ok_or_else(|| invalid_request("code is required"))?;
    let bad = || {
        invalid_grant("the code is unknown, expired, already used, or was issued to another client or redirect URI")
    };
    if !code.starts_with(crate::service::authorize::CODE_PREFIX) || code.len() > 128 {
        return Err(bad());
    }
    let rec = match state.store.grants().redeem_code(&fingerprint(code)).await? {
        Use::Fresh(rec) => rec,
        // RFC 6749 §4.1.2: revoke the tokens issued from a replayed code —
        // when its own client replays it (anyone else holding a spent code must
        // not be able to end another client's grant).
        Use::Replayed(rec) if rec.client_id == client.client_id => {
            revocations::revoke_family(state, &family_of(&rec.family)?, family_horizon(state))
                .await?;
            return Err(invalid_grant(
                "the code was already used; the tokens issued from it are revoked",
            ));
        }
        Use::Replayed(_) | Use::Unknown => return Err(bad()),
    };
    if rec.client_id != client.client_id
        || rec.expires_at <= state.clock.now().unix()
        || !same_epoch(state, client, rec.client_epoch)
    {
        return Err(bad());
    }
    match (&req.redirect_uri, rec.redirect_uri_given) {
        (Some(uri), _) if *uri != rec.redirect_uri => return Err(bad()),
        (None, true) => {
            return Err(invalid_grant(
                "redirect_uri is required: the authorization request named one",
            ))
        }
        _ => {}
    }
    match (&rec.code_challenge, &req.code_verifier) {
        (Some(challenge), Some(verifier)) => {
            let method = pkce::Method::parse(rec.code_challenge_method.as_deref())
                .map_err(Error::Internal)?;
            if !pkce::verify(method, challenge, verifier) {
                return Err(invalid_grant(
                    "code_verifier does not match the code_challenge",
                ));
            }
        }
        (Some(_), None) => return Err(invalid_grant("code_verifier is required (PKCE)")),
        (None, Some(_)) => {
            return Err(invalid_grant(
                "code_verifier sent, but the authorization request had no code_challenge",
            ))
        }
        (None, None) => {}
    }
    let user = tokens::user(state, &rec.user_id)?
        .filter(|u| !u.disabled)
        .ok_or_else(|| invalid_grant("the user who authorized this code is disabled or gone"))?;
    let family = family_of(&rec.family)?;
    let mut issued = tokens::issue(
        state,
        client,
        user.id.as_str(),
        rec.scopes
            .iter()
            .filter(|s| client.scopes.contains(s))
            .cloned()
            .collect(),
        Some(family),
    )?;
    if client
        .grant_types
        .iter()
        .any(|g| g == GrantType::RefreshToken.as_str())
    {
        let (secret, record) =
            new_refresh(state, &rec.family, client, user.id.as_str(), &rec.scopes);
        state
            .store
            .grants()
            .insert_refresh(&fingerprint(&secret), &record)
            .await?;
        issued.refresh_token = Some(Redacted::new(secret));
    }
    Ok(issued)
}

/// Type prefix of refresh tokens.
pub const REFRESH_PREFIX: &str = "lk_rt_";

/// Whether a code or refresh token issued under `epoch` still belongs to the
/// client's live tokens (a new secret with `revoke_tokens` moves the epoch).
fn same_epoch(state: &AppState, client: &ClientRecord, epoch: u64) -> bool {
    client.token_epoch == epoch && !state.revocations.is_epoch_revoked(&client.client_id, epoch)
}

fn new_refresh(
    state: &AppState,
    family: &[u8],
    client: &ClientRecord,
    user_id: &str,
    scopes: &[String],
) -> (String, RefreshRecord) {
    let now = state.clock.now();
    let secret = format!(
        "{REFRESH_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>())
    );
    let record = RefreshRecord {
        family: family.to_vec(),
        client_id: client.client_id.clone(),
        client_epoch: client.token_epoch,
        user_id: user_id.to_owned(),
        scopes: scopes.to_vec(),
        created_at: now.unix(),
        expires_at: now.plus_secs(state.config.refresh_token_ttl).unix(),
        rotated: false,
    };
    (secret, record)
}

/// A refresh token's record if it is usable now (not rotated, not expired, its
/// family not revoked).
fn live_refresh(state: &AppState, token: &str) -> Result<Option<RefreshRecord>> {
    if !token.starts_with(REFRESH_PREFIX) || token.len() > 128 {
        return Ok(None);
    }
    let Some(rec) = state.store.grants().refresh_token(&fingerprint(token))? else {
        return Ok(None);
    };
    let family = family_of(&rec.family)?;
    let client_ok = tokens::client(state, &rec.client_id)?
        .is_some_and(|c| c.enabled && same_epoch(state, &c, rec.client_epoch));
    if rec.rotated
        || !client_ok
        || rec.expires_at <= state.clock.now().unix()
        || state.revocations.is_family_revoked(&family)
    {
        return Ok(None);
    }
    Ok(Some(rec))
}

/// `grant_type=refresh_token` (RFC 6749 §6) with rotation: every use returns a
/// new refresh token; presenting a used one revokes its whole family (RFC 9700).
async fn refresh(
    state: &AppState,
    client: &ClientRecord,
    req: &TokenRequest,
    requested: Option<Vec<String>>,
) -> Result<IssuedToken> {
    require_grant(client, GrantType::RefreshToken)?;
    let token = req
        .refresh_token
        .as_deref()
        .ok_or_else(|| invalid_request("refresh_token is required"))?;
    let bad = || {
        invalid_grant(
            "the refresh token is unknown, expired, revoked, or was issued to another client",
        )
    };
    if !token.starts_with(REFRESH_PREFIX) || token.len() > 128 {
        return Err(bad());
    }
    let hash = fingerprint(token);
    let Some(current) = state.store.grants().refresh_token(&hash)? else {
        return Err(bad());
    };
    if current.client_id != client.client_id || !same_epoch(state, client, current.client_epoch) {
        return Err(bad());
    }
    let family = family_of(&current.family)?;
    if state.revocations.is_family_revoked(&family)
        || current.expires_at <= state.clock.now().unix()
    {
        return Err(bad());
    }
    if current.rotated {
        // A spent refresh token presented again: stolen, or a client bug. RFC
        // 9700 §4.14.2: revoke every token of the grant.
        revocations::revoke_family(state, &family, family_horizon(state)).await?;
        return Err(invalid_grant(
            "the refresh token was already used; every token of its grant is revoked",
        ));
    }
    // Narrowing is allowed, widening never (RFC 6749 §6); and never beyond what
    // the client may still request (an admin may have taken a scope away since).
    let scopes: Vec<String> = oauth::grant_scopes(requested, &current.scopes)?
        .into_iter()
        .filter(|s| client.scopes.contains(s))
        .collect();
    let user = tokens::user(state, &current.user_id)?
        .filter(|u| !u.disabled)
        .ok_or_else(|| invalid_grant("the user who authorized this grant is disabled or gone"))?;
    let (secret, successor) = new_refresh(
        state,
        &current.family,
        client,
        user.id.as_str(),
        &current.scopes,
    );
    match state
        .store
        .grants()
        .rotate_refresh(&hash, &fingerprint(&secret), &successor)
        .await?
    {
        Use::Fresh(_) => {}
        // Spent meanwhile by a concurrent request: that is reuse too (RFC 9700
        // §4.14.2 cannot tell a race from a theft), so the grant is revoked.
        Use::Replayed(_) => {
            revocations::revoke_family(state, &family, family_horizon(state)).await?;
            return Err(invalid_grant(
                "the refresh token was already used; every token of its grant is revoked",
            ));
        }
        Use::Unknown => return Err(bad()),
    }
    let mut issued = tokens::issue(state, client, user.id.as_str(), scopes, Some(family))?;
    issued.refresh_token = Some(Redacted::new(secret));
    Ok(issued)
}

fn client_credentials(
    state: &AppState,
    client: &ClientRecord,
    requested: Option<Vec<String>>,
) -> Result<IssuedToken> {
    require_grant(client, GrantType::ClientCredentials)?;
    if client.secret_hash.is_none() {
        return Err(Error::OAuth(OAuthError::new(
            Code::UnauthorizedClient,
            "a public client may not use the client_credentials grant",
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
    RefreshToken {
        record: RefreshRecord,
        user: Arc<User>,
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
    if token.starts_with(REFRESH_PREFIX) {
        let Some(record) = live_refresh(state, token)? else {
            return Ok(Introspection::Inactive);
        };
        let client_live = tokens::client(state, &record.client_id)?.is_some_and(|c| c.enabled);
        return Ok(
            match tokens::user(state, &record.user_id)?.filter(|u| !u.disabled && client_live) {
                Some(user) => Introspection::RefreshToken { record, user },
                None => Introspection::Inactive,
            },
        );
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
    if token.starts_with(REFRESH_PREFIX) {
        // Revoking a refresh token revokes its grant: the access tokens issued
        // from it too (RFC 7009 §2.1).
        let Some(rec) = state.store.grants().refresh_token(&fingerprint(token))? else {
            return Ok(());
        };
        if matches!(caller, Caller::Client(c) if c.client_id != rec.client_id) {
            return Err(Error::OAuth(OAuthError::new(
                Code::UnauthorizedClient,
                "this token was not issued to the client revoking it",
            )));
        }
        return revocations::revoke_family(state, &family_of(&rec.family)?, family_horizon(state))
            .await;
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
