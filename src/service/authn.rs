//! Authentication: from an `Authorization` header to a [`Principal`].
//!
//! The header is parsed in `domain::credential`; this module verifies what it
//! names. Each credential kind is one function: Basic (users' passwords) here,
//! tokens dispatched on their type prefix (`lk_key_`, `lk_at_`) as those kinds
//! arrive, so handlers never change when a kind is added.

use crate::domain::access::{AuthMethod, Principal};
use crate::domain::credential::{parse_authorization, Credential, TokenScheme};
use crate::domain::user::{self, Username};
use crate::error::{AuthFailure, Error, Result};
use crate::secret::{Kind, Redacted};
use crate::service::login_cache::LoginCache;
use crate::service::login_throttle::LoginThrottle;
use crate::service::users::from_record;
use crate::service::{access_token, api_keys};
use crate::state::AppState;

/// Authenticates the raw `Authorization` header of a request (`None`: absent).
///
/// In a created realm, a credential the realm does not know may be an admin
/// credential of the default realm, whose admins administer every realm: it
/// is then accepted as the realm's own admin (its first active admin user),
/// with the credential's scopes. Anything else keeps the realm's own answer.
pub async fn authenticate(state: &AppState, header: Option<&[u8]>) -> Result<Principal> {
    if state.realm.is_gone() {
        return Err(Error::Unauthenticated(AuthFailure::RealmGone));
    }
    let failure = match authenticate_here(state, header, &state.login_throttle).await {
        Err(Error::Unauthenticated(f)) => f,
        other => return other,
    };
    let Some(default) = &state.default_realm else {
        return Err(Error::Unauthenticated(failure));
    };
    // Failed guesses count in this realm's throttle only: a tenant mistyping
    // here never slows the default realm's admins down.
    match Box::pin(authenticate_here(default, header, &state.login_throttle)).await {
        Ok(outside) if outside.is_admin() => match realm_admin(state)? {
            Some(user) => {
                // The realm's own attempt was not a guess at its user.
                if let Some(Ok(Credential::Basic { username, .. })) =
                    header.map(parse_authorization)
                {
                    if let Ok(u) = Username::parse(&username) {
                        state.login_throttle.succeeded(&u.key());
                    }
                }
                Ok(Principal {
                    user: std::sync::Arc::new(user),
                    method: outside.method,
                    credential_scopes: outside.credential_scopes,
                })
            }
            None => Err(Error::Unauthenticated(failure)),
        },
        _ => Err(Error::Unauthenticated(failure)),
    }
}

/// The realm's first active admin, whom a default-realm admin acts as.
fn realm_admin(state: &AppState) -> Result<Option<crate::domain::user::User>> {
    // The bootstrap admin first: no scan of every user on the common path.
    let bootstrap = crate::service::bootstrap::ADMIN_USERNAME;
    if let Some(record) = state.store.users().get_by_username(bootstrap)? {
        let user = from_record(record)?;
        if user.is_active_admin() {
            return Ok(Some(user));
        }
    }
    for record in state.store.users().all() {
        let user = from_record(record?)?;
        if user.is_active_admin() {
            return Ok(Some(user));
        }
    }
    Ok(None)
}

/// [`authenticate`] against this realm's own users, keys and tokens only,
/// password guesses counted by `throttle`.
async fn authenticate_here(
    state: &AppState,
    header: Option<&[u8]>,
    throttle: &LoginThrottle,
) -> Result<Principal> {
    let raw = header.ok_or(Error::Unauthenticated(AuthFailure::Missing))?;
    let credential =
        parse_authorization(raw).map_err(|m| Error::Unauthenticated(AuthFailure::Malformed(m)))?;
    match credential {
        Credential::Basic { username, password } => {
            basic(state, throttle, &username, password).await
        }
        Credential::Token { scheme, token } => bearer(state, scheme, &token).await,
    }
}

/// `Authorization: Basic`: a user's own username and password.
async fn basic(
    state: &AppState,
    throttle: &LoginThrottle,
    username: &str,
    password: Redacted<String>,
) -> Result<Principal> {
    if !state.config.basic_auth {
        return Err(Error::Unauthenticated(AuthFailure::BasicDisabled));
    }
    let bad = || Error::Unauthenticated(AuthFailure::BadPassword);
    // A name that could never be registered, or a password no user can have,
    // cannot match: answer without hashing (this reveals nothing about accounts).
    let username = Username::parse(username).map_err(|_| bad())?;
    user::check_password(password.expose()).map_err(|_| bad())?;
    let key = username.key();
    let now = state.clock.now();
    let digest = state.login_cache.digest(&key, password.expose());

    if let Some((user_id, stamp)) = state.login_cache.lookup(&digest, now) {
        if let Some(record) = state.store.users().get(&user_id)? {
            if record.username_key == key
                && LoginCache::stamp_matches(&stamp, &record.password_hash)
            {
                return principal_for(from_record(record)?);
            }
        }
        state.login_cache.forget(&digest);
    }

    // Many requests with the same credentials at once (a client's connection
    // pool starting up) verify once: the rest wait here, then hit the cache.
    let _flight = state.login_cache.single_flight(&digest).await;
    if let Some((user_id, stamp)) = state.login_cache.lookup(&digest, now) {
        if let Some(record) = state.store.users().get(&user_id)? {
            if record.username_key == key
                && LoginCache::stamp_matches(&stamp, &record.password_hash)
            {
                return principal_for(from_record(record)?);
            }
        }
    }

    // Guessing over Basic is slowed down like guessing on the login page.
    throttle
        .attempt(&key, now)
        .map_err(|wait| Error::Unauthenticated(AuthFailure::SlowDown(wait)))?;
    let record = state.store.users().get_by_username(&key)?;
    let phc = record.as_ref().map(|r| r.password_hash.clone());
    if !state.passwords.verify(password.into_inner(), phc).await? {
        return Err(bad());
    }
    let Some(record) = record else {
        return Err(bad());
    };
    throttle.succeeded(&key);
    state
        .login_cache
        .remember(digest, &record.id, &record.password_hash, now);
    principal_for(from_record(record)?)
}

fn principal_for(user: crate::domain::user::User) -> Result<Principal> {
    if user.disabled {
        return Err(Error::Unauthenticated(AuthFailure::AccountDisabled));
    }
    Ok(Principal {
        user: std::sync::Arc::new(user),
        method: AuthMethod::Basic,
        credential_scopes: None,
    })
}

/// `Authorization: Bearer` / `OAuth`: told apart by the credential's type prefix.
async fn bearer(
    state: &AppState,
    scheme: TokenScheme,
    token: &Redacted<String>,
) -> Result<Principal> {
    let token = token.expose();
    match (scheme, Kind::of(token)) {
        // Image Relay's `OAuth` scheme carries access tokens only.
        (TokenScheme::Bearer, Some(Kind::ApiKey)) => api_keys::authenticate(state, token).await,
        (_, Some(Kind::AccessToken)) => access_token::authenticate(state, token),
        (_, None) if access_token::looks_like_access_token(token) => {
            access_token::authenticate(state, token)
        }
        _ => Err(Error::Unauthenticated(AuthFailure::InvalidToken)),
    }
}
