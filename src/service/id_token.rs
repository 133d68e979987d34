//! id_tokens (OIDC Core §2, §3.1.3.6, §5.4): who signed in, for which client,
//! when, signed with the client's `id_token_signed_response_alg`. Claims by
//! scope: `profile` adds `name`, `preferred_username` and `updated_at`;
//! `email` adds `email` and `email_verified` (false: latchkey never verifies
//! an address); the user's custom claims are added to every scope's.

use serde_json::{json, Map, Value};

use crate::domain::client::Client;
use crate::domain::jwt;
use crate::domain::scope::ScopeSet;
use crate::domain::user::User;
use crate::error::Result;
use crate::service::access_token::IssuedToken;
use crate::service::signing_keys;
use crate::state::AppState;

/// The scope that makes a grant an OpenID Connect one.
pub const OPENID: &str = "openid";

/// Who the id_token is about, and how they signed in.
pub struct Subject<'a> {
    pub user: &'a User,
    /// When the user signed in (unix seconds).
    pub auth_time: i64,
    /// The browser session's public id.
    pub sid: Option<&'a str>,
    /// The authorization request's `nonce` (not on refresh).
    pub nonce: Option<&'a str>,
}

/// What the id_token travels with: its `at_hash` and `c_hash` bind them.
#[derive(Default)]
pub struct Companions<'a> {
    pub access_token: Option<&'a str>,
    pub code: Option<&'a str>,
}

/// The user's claims for `scopes` (id_tokens and userinfo): `sub` always.
pub fn user_claims(user: &User, scopes: &ScopeSet) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("sub".into(), json!(user.id.to_string()));
    if scopes.contains("profile") {
        c.insert(
            "name".into(),
            json!(user
                .name
                .clone()
                .unwrap_or_else(|| user.username.as_str().to_owned())),
        );
        c.insert("preferred_username".into(), json!(user.username.as_str()));
        c.insert("updated_at".into(), json!(user.updated_at.unix()));
    }
    if scopes.contains("email") {
        if let Some(email) = &user.email {
            c.insert("email".into(), json!(email));
            c.insert("email_verified".into(), json!(false));
        }
    }
    // The user's own claims come last and win over the scope's (a test may
    // want `email_verified: true`); registered names never get here.
    for (name, value) in &user.claims {
        c.insert(name.clone(), value.clone());
    }
    c
}

/// Signs an id_token for `client` about `subject`.
pub async fn issue(
    state: &AppState,
    issuer: &str,
    client: &Client,
    subject: Subject<'_>,
    scopes: &ScopeSet,
    with: Companions<'_>,
) -> Result<String> {
    let key = signing_keys::active(state, client.id_token_alg).await?;
    let now = state.clock.now();
    let ttl = client.access_token_ttl(state.config.access_token_ttl);
    let mut claims = user_claims(subject.user, scopes);
    claims.insert("iss".into(), json!(issuer));
    claims.insert("aud".into(), json!(client.client_id.as_str()));
    claims.insert("azp".into(), json!(client.client_id.as_str()));
    claims.insert("iat".into(), json!(now.unix()));
    claims.insert("exp".into(), json!(state.clock.deadline(ttl).unix()));
    claims.insert("auth_time".into(), json!(subject.auth_time));
    if let Some(nonce) = subject.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    if let Some(sid) = subject.sid {
        claims.insert("sid".into(), json!(sid));
    }
    if let Some(at) = with.access_token {
        claims.insert("at_hash".into(), json!(key.alg().half_hash(at)));
    }
    if let Some(code) = with.code {
        claims.insert("c_hash".into(), json!(key.alg().half_hash(code)));
    }
    Ok(jwt::sign(&key.private, &key.kid, "JWT", &claims))
}

/// The id_token of a token response, when `openid` was granted: bound to
/// the access token by `at_hash`.
pub async fn for_grant(
    state: &AppState,
    issuer: &str,
    client: &Client,
    subject: Subject<'_>,
    issued: &IssuedToken,
) -> Result<Option<String>> {
    if !issued.scopes.contains(OPENID) {
        return Ok(None);
    }
    let with = Companions {
        access_token: Some(issued.token.expose()),
        code: None,
    };
    Ok(Some(
        issue(state, issuer, client, subject, &issued.scopes, with).await?,
    ))
}

/// The claims of an id_token this server signed for `issuer`, whatever its
/// expiry (`id_token_hint`s name who, they do not authenticate).
pub fn verify_own(state: &AppState, issuer: &str, token: &str) -> Option<Map<String, Value>> {
    if !jwt::looks_like_jwt(token) {
        return None;
    }
    let verified = state.keyring.verify(token).ok()?;
    let ours = verified.typ.as_deref() != Some("at+jwt")
        && verified.claims.get("iss").and_then(Value::as_str) == Some(issuer);
    ours.then_some(verified.claims)
}
