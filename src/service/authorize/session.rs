//! The browser session: login with backoff, the session cookie's user, logout,
//! and the CSRF token of the login and consent forms.

use std::sync::Arc;

use crate::domain::user::{self, User, Username};
use crate::error::Result;
use crate::secret::{constant_time_eq, fingerprint, random_token, Redacted};
use crate::service::{live, users};
use crate::state::AppState;
use crate::store::SessionRecord;

use super::SESSION_TTL;

/// A live browser session.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: Arc<User>,
    /// When the user signed in (OIDC `auth_time`).
    pub auth_time: i64,
    /// The session's public id (OIDC `sid`): not the cookie, nor its hash.
    pub sid: String,
}

/// The signed-in user of a browser session cookie, if it is live.
pub fn session_user(state: &AppState, cookie: Option<&str>) -> Result<Option<Arc<User>>> {
    Ok(session(state, cookie)?.map(|s| s.user))
}

/// The live session of a browser session cookie.
pub fn session(state: &AppState, cookie: Option<&str>) -> Result<Option<Session>> {
    let Some(cookie) = cookie.filter(|c| !c.is_empty() && c.len() <= 128) else {
        return Ok(None);
    };
    let hash = fingerprint(cookie);
    let Some(record) = state.store.grants().session(&hash)? else {
        return Ok(None);
    };
    if record.expires_at <= state.clock.now().unix() {
        return Ok(None);
    }
    // A disabled user, or one whose password changed since, is signed out.
    let user = live::active_user(state, &record.user_id)?
        .filter(|u| constant_time_eq(&password_stamp(&u.password_hash), &record.password_stamp));
    Ok(user.map(|user| Session {
        user,
        auth_time: record.created_at,
        sid: blake3::derive_key("latchkey session id", &hash)[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    }))
}

fn password_stamp(password_hash: &str) -> Vec<u8> {
    blake3::hash(password_hash.as_bytes()).as_bytes()[..16].to_vec()
}

/// Ends a browser session.
pub async fn logout(state: &AppState, cookie: Option<&str>) -> Result<()> {
    if let Some(c) = cookie.filter(|c| !c.is_empty() && c.len() <= 128) {
        state.store.grants().delete_session(&fingerprint(c)).await?;
    }
    Ok(())
}

/// The form token that proves a POST came from our page: a keyed hash of the
/// browser's `lk_csrf` cookie (double submit; the cookie is HttpOnly and
/// SameSite, and another site can read neither it nor the page).
pub fn csrf_token(state: &AppState, csrf_cookie: &str) -> String {
    blake3::keyed_hash(&state.form_key, csrf_cookie.as_bytes())
        .to_hex()
        .to_string()
}

pub fn check_csrf(state: &AppState, csrf_cookie: Option<&str>, presented: Option<&str>) -> bool {
    match (csrf_cookie, presented) {
        (Some(c), Some(p)) if !c.is_empty() && c.len() <= 128 => {
            constant_time_eq(csrf_token(state, c).as_bytes(), p.as_bytes())
        }
        _ => false,
    }
}

/// A fresh random cookie value (256 bits).
pub fn new_cookie_value() -> String {
    random_token()
}

/// The outcome of a login attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Login {
    /// Signed in: the new session's cookie value.
    SignedIn(Redacted<String>),
    /// Unknown user, wrong password or disabled account (one message for all).
    Invalid,
    /// Too many failures for this username: wait this many seconds.
    SlowDown(i64),
}

/// What a username and password are worth (login page, password grant).
#[derive(Debug)]
pub enum Credentials {
    /// The enabled user they name.
    Valid(User),
    /// Unknown user, wrong password or disabled account (one answer for all).
    Invalid,
    /// Too many failures for this username: wait this many seconds.
    SlowDown(i64),
}

/// Checks a username and password, counted by the login throttle.
pub async fn check_credentials(
    state: &AppState,
    username: &str,
    password: Redacted<String>,
) -> Result<Credentials> {
    let now = state.clock.now();
    let key = Username::parse(username)
        .map(|u| u.key())
        .unwrap_or_else(|_| username.to_lowercase());
    // Counted before verifying, so parallel guesses cannot all slip through.
    if let Err(wait) = state.login_throttle.attempt(&key, now) {
        return Ok(Credentials::SlowDown(wait));
    }
    let record = match Username::parse(username) {
        Ok(u) if user::check_password(password.expose()).is_ok() => {
            state.store.users().get_by_username(&u.key())?
        }
        _ => None,
    };
    let phc = record.as_ref().map(|r| r.password_hash.clone());
    let ok = state.passwords.verify(password.into_inner(), phc).await?;
    let user = match record {
        Some(r) if ok => Some(users::from_record(r)?),
        _ => None,
    };
    let Some(user) = user.filter(|u| !u.disabled) else {
        return Ok(Credentials::Invalid);
    };
    state.login_throttle.succeeded(&key);
    Ok(Credentials::Valid(user))
}

/// Checks a username and password; on success starts a session and returns
/// its cookie value.
pub async fn login(state: &AppState, username: &str, password: Redacted<String>) -> Result<Login> {
    let user = match check_credentials(state, username, password).await? {
        Credentials::Valid(user) => user,
        Credentials::Invalid => return Ok(Login::Invalid),
        Credentials::SlowDown(wait) => return Ok(Login::SlowDown(wait)),
    };
    let now = state.clock.now();
    let cookie = new_cookie_value();
    let rec = SessionRecord {
        user_id: user.id.to_string(),
        password_stamp: password_stamp(&user.password_hash),
        created_at: now.unix(),
        expires_at: state.clock.deadline(SESSION_TTL).unix(),
    };
    state
        .store
        .grants()
        .insert_session(&fingerprint(&cookie), &rec)?;
    Ok(Login::SignedIn(Redacted::new(cookie)))
}
