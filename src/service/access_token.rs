//! Access tokens: issuing (nothing is written) and validating (MAC or
//! signature, expiry, revocation list, and the live state of the client and
//! the user). Two formats, one validation path: opaque `lk_at_` tokens (a
//! blake3 MAC) and, for clients that ask, RFC 9068 JWTs (`typ: at+jwt`,
//! signed like id_tokens) that resource servers can check with the JWKS.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::domain::access::{AuthMethod, Principal};
use crate::domain::client::Client;
use crate::domain::jwt;
use crate::domain::scope::ScopeSet;
use crate::domain::token::{self, hex, unhex, AccessClaims};
use crate::domain::user::User;
use crate::error::{AuthFailure, Error, Result};
use crate::secret::{random_bytes, Redacted};
use crate::service::{live, signing_keys};
use crate::state::AppState;

/// A freshly issued access token.
#[derive(Debug)]
pub struct IssuedToken {
    pub token: Redacted<String>,
    pub expires_in: i64,
    pub scopes: ScopeSet,
    /// `lk_rt_…`, for grants that come with one.
    pub refresh_token: Option<Redacted<String>>,
    /// For OpenID Connect grants (`openid` granted).
    pub id_token: Option<String>,
}

/// What a new access token of `client` acting as `user_id` says.
fn new_claims(
    state: &AppState,
    client: &Client,
    user_id: &str,
    scopes: ScopeSet,
    family: Option<[u8; 16]>,
) -> AccessClaims {
    let ttl = client.access_token_ttl(state.config.access_token_ttl);
    let now = state.clock.now();
    AccessClaims {
        id: random_bytes(),
        client_id: client.client_id.to_string(),
        client_epoch: client.token_epoch,
        user_id: user_id.to_owned(),
        scopes,
        issued_at: now,
        expires_at: state.clock.deadline(ttl),
        family,
    }
}

/// The response half of an issued token.
/// `expires_in` is the lifetime asked for: `exp` may lie up to a second
/// beyond `iat` + it (see `Clock::deadline`), never before.
fn issued(token: String, claims: AccessClaims, ttl: i64) -> IssuedToken {
    IssuedToken {
        token: Redacted::new(token),
        expires_in: (claims.expires_at.unix() - claims.issued_at.unix()).min(ttl),
        scopes: claims.scopes,
        refresh_token: None,
        id_token: None,
    }
}

/// Issues an opaque access token for `client` acting as `user_id` with `scopes`.
pub fn issue(
    state: &AppState,
    client: &Client,
    user_id: &str,
    scopes: ScopeSet,
    family: Option<[u8; 16]>,
) -> Result<IssuedToken> {
    let claims = new_claims(state, client, user_id, scopes, family);
    let token = token::encode(&state.token_key, &claims)
        .map_err(|_| Error::invalid("scope", "the granted scopes do not fit in a token"))?;
    Ok(issued(
        token,
        claims,
        client.access_token_ttl(state.config.access_token_ttl),
    ))
}

/// Who a token is issued by and for: the issuer, and the resource a token
/// request named (RFC 8707; one of the client's audience values).
#[derive(Debug, Clone, Copy)]
pub struct Recipient<'a> {
    pub issuer: &'a str,
    pub resource: Option<&'a str>,
}

/// Whom an access token acts for, and so which custom claims a JWT access
/// token carries.
#[derive(Debug, Clone, Copy)]
pub enum Acting<'a> {
    /// client_credentials: the client itself (as its owner, `sub`), with the
    /// client's own claims.
    Client { owner: &'a User },
    /// A user's grant: the user's claims, and when they signed in.
    User { user: &'a User, auth_time: i64 },
}

/// Issues the client's kind of access token: opaque, or an RFC 9068 JWT whose
/// `iss` is the issuer and whose `aud` is the requested resource, else the
/// client's whole audience.
pub async fn mint(
    state: &AppState,
    to: &Recipient<'_>,
    acting: Acting<'_>,
    client: &Client,
    scopes: ScopeSet,
    family: Option<[u8; 16]>,
) -> Result<IssuedToken> {
    let (user_id, custom, auth_time) = match acting {
        Acting::Client { owner } => (owner.id.as_str(), &client.claims, None),
        Acting::User { user, auth_time } => (user.id.as_str(), &user.claims, Some(auth_time)),
    };
    let Some(alg) = client.jwt_access_alg else {
        return issue(state, client, user_id, scopes, family);
    };
    let claims = new_claims(state, client, user_id, scopes, family);
    let key = signing_keys::active(state, alg).await?;
    let audience = match to.resource {
        Some(r) => vec![r.to_owned()],
        None => client.token_audience(),
    };
    let mut jwt = custom.clone();
    jwt.insert("iss".into(), json!(to.issuer));
    jwt.insert("sub".into(), json!(claims.user_id));
    jwt.insert(
        "aud".into(),
        match audience.as_slice() {
            [one] => json!(one),
            many => json!(many),
        },
    );
    jwt.insert("client_id".into(), json!(claims.client_id));
    jwt.insert("scope".into(), json!(claims.scopes.to_string()));
    jwt.insert("jti".into(), json!(claims.id_hex()));
    jwt.insert("iat".into(), json!(claims.issued_at.unix()));
    jwt.insert("exp".into(), json!(claims.expires_at.unix()));
    if let Some(t) = auth_time {
        jwt.insert("auth_time".into(), json!(t));
    }
    // latchkey's own: what revocation needs (the client's token epoch, the grant).
    jwt.insert(
        "lk_epoch".into(),
        json!(format!("{:016x}", claims.client_epoch)),
    );
    if let Some(f) = claims.family {
        jwt.insert("lk_family".into(), json!(hex(&f)));
    }
    let token = jwt::sign(&key.private, &key.kid, "at+jwt", &jwt);
    Ok(issued(
        token,
        claims,
        client.access_token_ttl(state.config.access_token_ttl),
    ))
}

/// The claims of a JWT access token this server signed (signature and `typ`
/// checked, once per token: later uses hit the cache).
fn jwt_claims(state: &AppState, presented: &str) -> Option<AccessClaims> {
    if !jwt::looks_like_jwt(presented) {
        return None;
    }
    let hash = crate::secret::fingerprint(presented);
    if let Some(claims) = state.jwt_cache.get(&hash) {
        return Some(claims);
    }
    let verified = state.keyring.verify(presented).ok()?;
    if verified.typ.as_deref() != Some("at+jwt") {
        return None;
    }
    let c = &verified.claims;
    let text = |name: &str| c.get(name).and_then(Value::as_str);
    let int = |name: &str| c.get(name).and_then(Value::as_i64);
    // Issued by this realm: two realms seeded with the same signing key still
    // never take each other's tokens. (Only the path is compared: the host is
    // however the client reached the server.)
    if !issued_by_realm(text("iss")?, &state.realm.path) {
        return None;
    }
    let claims = AccessClaims {
        id: unhex::<16>(text("jti")?)?,
        client_id: text("client_id")?.to_owned(),
        client_epoch: u64::from_str_radix(text("lk_epoch")?, 16).ok()?,
        user_id: text("sub")?.to_owned(),
        scopes: ScopeSet::from_names(text("scope")?.split(' ').filter(|s| !s.is_empty())),
        issued_at: crate::domain::time::Timestamp(int("iat")?),
        expires_at: crate::domain::time::Timestamp(int("exp")?),
        family: match text("lk_family") {
            Some(f) => Some(unhex::<16>(f)?),
            None => None,
        },
    };
    state.jwt_cache.insert(hash, claims.clone());
    Some(claims)
}

/// Whether the issuer URL `iss` is the realm at `path` (`""` for the
/// default realm, `/realms/{name}` for a created one), on any host.
fn issued_by_realm(iss: &str, path: &str) -> bool {
    let after_scheme = iss.split_once("://").map_or(iss, |(_, rest)| rest);
    let iss_path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    if path.is_empty() {
        !iss_path.contains("/realms/")
    } else {
        iss_path.ends_with(path)
    }
}

/// Whether a presented bearer token is an access token of either format
/// (by shape; nothing is verified).
pub fn looks_like_access_token(presented: &str) -> bool {
    crate::secret::Kind::of(presented) == Some(crate::secret::Kind::AccessToken)
        || jwt::looks_like_jwt(presented)
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
    let Some(claims) = claims(state, presented) else {
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
    token::decode(&state.token_key, presented)
        .ok()
        .or_else(|| jwt_claims(state, presented))
}

#[cfg(test)]
mod tests {
    use super::issued_by_realm;

    #[test]
    fn the_issuer_names_the_realm() {
        assert!(issued_by_realm("http://127.0.0.1:8080", ""));
        assert!(issued_by_realm("https://a.test/idp", ""));
        assert!(!issued_by_realm("http://127.0.0.1:8080/realms/a", ""));
        assert!(issued_by_realm("http://localhost:9/realms/a", "/realms/a"));
        assert!(!issued_by_realm(
            "http://localhost:9/realms/ba",
            "/realms/a"
        ));
        assert!(!issued_by_realm("http://localhost:9", "/realms/a"));
    }
}
