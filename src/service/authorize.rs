//! The authorization endpoint's rules (RFC 6749 §4.1, §4.2, RFC 7636, RFC 8252):
//! validating a request, the browser session, login with backoff, consent, and
//! issuing the code or (implicit) token with its delivery to the client.
//!
//! A request is validated from scratch at every step (the first GET, the login
//! form, the consent form), so nothing but the session lives on the server
//! between pages.

use std::sync::Arc;

use base64::Engine as _;

use crate::domain::client::{ClientType, GrantType};
use crate::domain::oauth;
use crate::domain::pkce::{self, Method};
use crate::domain::redirect_uri::{self, OOB, OOB_AUTO};
use crate::domain::user::{self, User, Username};
use crate::error::Result;
use crate::secret::{constant_time_eq, fingerprint, random_bytes, Redacted};
use crate::service::{scopes, tokens, users};
use crate::state::AppState;
use crate::store::{ClientRecord, CodeRecord, ConsentRecord, SessionRecord};

/// Type prefix of authorization codes.
pub const CODE_PREFIX: &str = "lk_ac_";
/// How long a code may wait to be redeemed (RFC 6749 §4.1.2: at most 10 minutes).
pub const CODE_TTL: i64 = 600;
/// How long a browser session lasts.
pub const SESSION_TTL: i64 = 12 * 3600;
/// Longest `state` / `nonce` echoed.
pub const MAX_STATE_LEN: usize = 2048;

/// The authorization request's parameters, as received.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub nonce: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    Code,
    Token,
}

/// Where and how the result goes back to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// `redirect_uri?…` (code).
    Query(String),
    /// `redirect_uri#…` (implicit).
    Fragment(String),
    /// A page whose title carries the result; `auto`: the app reads it itself.
    OutOfBand { auto: bool },
}

/// A result (or error) for the client, with its parameters in order.
#[derive(Clone)] // no Debug: holds the code or the access token
pub struct Reply {
    pub delivery: Delivery,
    pub params: Vec<(&'static str, String)>,
    /// An error reply (the page says so).
    pub is_error: bool,
}

impl Reply {
    /// The URL to redirect to, unless the delivery is out of band.
    pub fn location(&self) -> Option<String> {
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.params.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        match &self.delivery {
            Delivery::Query(uri) => {
                let sep = if uri.contains('?') { '&' } else { '?' };
                Some(format!("{uri}{sep}{encoded}"))
            }
            Delivery::Fragment(uri) => Some(format!("{uri}#{encoded}")),
            Delivery::OutOfBand { .. } => None,
        }
    }

    /// `code=…&state=…` for the out-of-band page title.
    pub fn title_params(&self) -> String {
        self.params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// A validated authorization request.
#[derive(Debug, Clone)]
pub struct AuthzRequest {
    pub client: Arc<ClientRecord>,
    /// The owner's username, for the consent page.
    pub owner: String,
    pub response_type: ResponseType,
    pub redirect_uri: String,
    pub redirect_uri_given: bool,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub challenge: Option<(String, Method)>,
    pub nonce: Option<String>,
    /// The parameters to carry through the login and consent forms.
    pub params: AuthorizeParams,
}

impl AuthzRequest {
    fn delivery(&self) -> Delivery {
        match self.redirect_uri.as_str() {
            OOB => Delivery::OutOfBand { auto: false },
            OOB_AUTO => Delivery::OutOfBand { auto: true },
            uri => match self.response_type {
                ResponseType::Code => Delivery::Query(uri.to_owned()),
                ResponseType::Token => Delivery::Fragment(uri.to_owned()),
            },
        }
    }

    /// An error for the client (RFC 6749 §4.1.2.1), with the state echoed.
    pub fn error(&self, code: &str, description: &str) -> Reply {
        error_reply(self.delivery(), code, description, self.state.as_deref())
    }
}

fn error_reply(delivery: Delivery, code: &str, description: &str, state: Option<&str>) -> Reply {
    let mut params = vec![
        ("error", code.to_owned()),
        ("error_description", description.to_owned()),
    ];
    if let Some(s) = state {
        params.push(("state", s.to_owned()));
    }
    Reply {
        delivery,
        params,
        is_error: true,
    }
}

/// Why a request is refused.
pub enum Refusal {
    /// The client or redirect URI cannot be trusted: show this, never redirect.
    Page(String),
    /// Tell the client, at its redirect URI.
    Client(Reply),
}

/// Validates an authorization request: client and redirect URI first (failures
/// are pages), then everything else (failures go to the client).
pub fn validate(
    state: &AppState,
    p: &AuthorizeParams,
    own_base: Option<&str>,
) -> Result<std::result::Result<AuthzRequest, Refusal>> {
    let page = |m: &str| Ok(Err(Refusal::Page(m.to_owned())));
    let Some(client_id) = p.client_id.as_deref().filter(|c| !c.is_empty()) else {
        return page("The request names no client (client_id is missing).");
    };
    let found = match crate::domain::client::is_id(client_id) {
        true => tokens::client(state, client_id)?,
        false => None,
    };
    let Some(client) = found else {
        return page("The application that sent you here is not registered.");
    };
    if !client.enabled {
        return page("The application that sent you here is disabled.");
    }
    let (redirect_uri, given) = match p.redirect_uri.as_deref() {
        Some(uri) => match client
            .redirect_uris
            .iter()
            .any(|r| redirect_uri::matches(r, uri, own_base))
        {
            true => (uri.to_owned(), true),
            false => {
                return page(
                    "The redirect URI in the request is not registered for this application.",
                )
            }
        },
        // RFC 6749 §3.1.2.3: optional only when exactly one is registered.
        None => match client.redirect_uris.as_slice() {
            [only] if only.starts_with('/') => match own_base {
                Some(base) => (format!("{base}{only}"), false),
                None => {
                    return page(
                        "This server does not know its own address here: start it with --public-url to sign in from another host.",
                    )
                }
            },
            [only] => (only.clone(), false),
            [] => return page("This application has no redirect URI registered."),
            _ => {
                return page(
                    "The request has no redirect_uri and the application registered several.",
                )
            }
        },
    };
    if p.state.as_deref().is_some_and(|s| s.len() > MAX_STATE_LEN)
        || p.nonce.as_deref().is_some_and(|s| s.len() > MAX_STATE_LEN)
    {
        return page("The request's state or nonce is too long.");
    }
    let owner = tokens::user(state, &client.owner_id)?
        .map(|u| u.username.as_str().to_owned())
        .unwrap_or_default();
    let response_type = match p.response_type.as_deref() {
        Some("code") => ResponseType::Code,
        Some("token") => ResponseType::Token,
        _ => ResponseType::Code,
    };
    let mut req = AuthzRequest {
        client: client.clone(),
        owner,
        response_type,
        redirect_uri,
        redirect_uri_given: given,
        scopes: Vec::new(),
        state: p.state.clone(),
        challenge: None,
        nonce: p.nonce.clone(),
        params: p.clone(),
    };
    let refuse =
        |req: &AuthzRequest, code: &str, m: &str| Ok(Err(Refusal::Client(req.error(code, m))));
    match p.response_type.as_deref() {
        Some("code") | Some("token") => {}
        None | Some("") => return refuse(&req, "invalid_request", "response_type is required"),
        Some(_) => {
            return refuse(
                &req,
                "unsupported_response_type",
                "response_type must be code or token",
            )
        }
    }
    let grant = match req.response_type {
        ResponseType::Code => GrantType::AuthorizationCode,
        ResponseType::Token => GrantType::Implicit,
    };
    if !client.grant_types.iter().any(|g| g == grant.as_str()) {
        return refuse(
            &req,
            "unauthorized_client",
            &format!("this application may not use the {grant} grant"),
        );
    }
    let requested = match oauth::parse_scope(p.scope.as_deref()) {
        Ok(r) => r,
        Err(e) => return refuse(&req, "invalid_scope", &e.description),
    };
    req.scopes = match requested {
        Some(r) => match oauth::grant_scopes(Some(r), &client.scopes) {
            Ok(s) => s,
            Err(e) => return refuse(&req, "invalid_scope", &e.description),
        },
        // Absent: the client's scopes that are catalog defaults, else all of them.
        None => {
            let defaults: Vec<String> = scopes::defaults(state)?
                .into_iter()
                .filter(|s| client.scopes.contains(s))
                .collect();
            if defaults.is_empty() {
                client.scopes.clone()
            } else {
                defaults
            }
        }
    };
    let public = client.client_type == ClientType::Public.as_str();
    match (&p.code_challenge, req.response_type) {
        (Some(challenge), ResponseType::Code) => {
            let method = match Method::parse(p.code_challenge_method.as_deref()) {
                Ok(m) => m,
                Err(m) => return refuse(&req, "invalid_request", &m),
            };
            if method == Method::Plain && !client.allow_plain_pkce {
                return refuse(
                    &req,
                    "invalid_request",
                    "this application must use code_challenge_method=S256",
                );
            }
            if let Err(m) = pkce::check_format(challenge, "code_challenge") {
                return refuse(&req, "invalid_request", &m);
            }
            req.challenge = Some((challenge.clone(), method));
        }
        (Some(_), ResponseType::Token) => {
            return refuse(
                &req,
                "invalid_request",
                "PKCE applies to response_type=code only",
            )
        }
        (None, ResponseType::Code) if public => {
            return refuse(
                &req,
                "invalid_request",
                "public clients must use PKCE (code_challenge with code_challenge_method=S256)",
            )
        }
        (None, _) => {
            if p.code_challenge_method.is_some() {
                return refuse(
                    &req,
                    "invalid_request",
                    "code_challenge_method without code_challenge",
                );
            }
        }
    }
    Ok(Ok(req))
}

/// The signed-in user of a browser session cookie, if it is live.
pub fn session_user(state: &AppState, cookie: Option<&str>) -> Result<Option<Arc<User>>> {
    let Some(cookie) = cookie.filter(|c| !c.is_empty() && c.len() <= 128) else {
        return Ok(None);
    };
    let Some(session) = state.store.grants().session(&fingerprint(cookie))? else {
        return Ok(None);
    };
    if session.expires_at <= state.clock.now().unix() {
        return Ok(None);
    }
    // A disabled user, or one whose password changed since, is signed out.
    Ok(tokens::user(state, &session.user_id)?.filter(|u| {
        !u.disabled && constant_time_eq(&password_stamp(&u.password_hash), &session.password_stamp)
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
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// Why a login failed.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginFailure {
    /// Unknown user, wrong password or disabled account (one message for all).
    Invalid,
    /// Too many failures for this username: wait this many seconds.
    SlowDown(i64),
}

/// Checks a username and password; on success starts a session and returns
/// its cookie value.
pub async fn login(
    state: &AppState,
    username: &str,
    password: Redacted<String>,
) -> Result<std::result::Result<Redacted<String>, LoginFailure>> {
    let now = state.clock.now();
    let key = Username::parse(username)
        .map(|u| u.key())
        .unwrap_or_else(|_| username.to_lowercase());
    // Counted before verifying, so parallel guesses cannot all slip through.
    if let Err(wait) = state.login_throttle.attempt(&key, now) {
        return Ok(Err(LoginFailure::SlowDown(wait)));
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
        return Ok(Err(LoginFailure::Invalid));
    };
    state.login_throttle.succeeded(&key);
    let cookie = new_cookie_value();
    let rec = SessionRecord {
        user_id: user.id.to_string(),
        password_stamp: password_stamp(&user.password_hash),
        created_at: now.unix(),
        expires_at: now.plus_secs(SESSION_TTL).unix(),
    };
    state
        .store
        .grants()
        .insert_session(&fingerprint(&cookie), &rec)?;
    Ok(Ok(Redacted::new(cookie)))
}

/// Whether the user must be asked: not for first-party clients, nor when the
/// user already consented to (a superset of) these scopes for this client.
pub fn needs_consent(state: &AppState, user: &User, req: &AuthzRequest) -> Result<bool> {
    // latchkey's own scopes make the token a credential to latchkey itself
    // (acting as this user): a person always says yes to that, first-party or not.
    let own_powers = req
        .scopes
        .iter()
        .any(|s| crate::domain::scope::permission_of(s).is_some());
    if req.client.skip_consent && !own_powers {
        return Ok(false);
    }
    let given = state
        .store
        .grants()
        .consent(user.id.as_str(), &req.client.client_id)?;
    Ok(!given.is_some_and(|c| req.scopes.iter().all(|s| c.scopes.contains(s))))
}

/// The scopes of a request with their catalog descriptions, for the consent page.
pub fn describe_scopes(state: &AppState, req: &AuthzRequest) -> Result<Vec<(String, String)>> {
    let catalog = scopes::list(state)?;
    Ok(req
        .scopes
        .iter()
        .map(|name| {
            let description = catalog
                .iter()
                .find(|s| &s.name == name)
                .map(|s| s.description.clone())
                .unwrap_or_default();
            (name.clone(), description)
        })
        .collect())
}

/// The user said no (RFC 6749 §4.1.2.1 `access_denied`).
pub fn deny(req: &AuthzRequest) -> Reply {
    req.error("access_denied", "the user denied the request")
}

/// The user allowed the request: remember the consent (when asked), issue the
/// code or the token, and say where it goes.
pub async fn approve(
    state: &AppState,
    user: &User,
    req: &AuthzRequest,
    remember: bool,
) -> Result<Reply> {
    let now = state.clock.now();
    if remember {
        let mut scopes = state
            .store
            .grants()
            .consent(user.id.as_str(), &req.client.client_id)?
            .map(|c| c.scopes)
            .unwrap_or_default();
        for s in &req.scopes {
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        state.store.grants().put_consent(
            user.id.as_str(),
            &req.client.client_id,
            &ConsentRecord {
                scopes,
                granted_at: now.unix(),
            },
        )?;
    }
    let mut params: Vec<(&'static str, String)> = Vec::new();
    match req.response_type {
        ResponseType::Code => {
            let code = format!(
                "{CODE_PREFIX}{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>())
            );
            let rec = CodeRecord {
                client_id: req.client.client_id.clone(),
                user_id: user.id.to_string(),
                redirect_uri: req.redirect_uri.clone(),
                redirect_uri_given: req.redirect_uri_given,
                scopes: req.scopes.clone(),
                code_challenge: req.challenge.as_ref().map(|c| c.0.clone()),
                code_challenge_method: req.challenge.as_ref().map(|c| c.1.as_str().to_owned()),
                nonce: req.nonce.clone(),
                family: random_bytes::<16>().to_vec(),
                client_epoch: req.client.token_epoch,
                created_at: now.unix(),
                expires_at: now.plus_secs(CODE_TTL).unix(),
                used: false,
            };
            state
                .store
                .grants()
                .insert_code(&fingerprint(&code), &rec)
                .await?;
            params.push(("code", code));
        }
        ResponseType::Token => {
            let issued = tokens::issue(
                state,
                &req.client,
                user.id.as_str(),
                req.scopes.clone(),
                None,
            )?;
            params.push(("access_token", issued.token.into_inner()));
            params.push(("token_type", "Bearer".into()));
            params.push(("expires_in", issued.expires_in.to_string()));
            params.push(("scope", issued.scopes.join(" ")));
        }
    }
    if let Some(s) = &req.state {
        params.push(("state", s.clone()));
    }
    Ok(Reply {
        delivery: req.delivery(),
        params,
        is_error: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_encode_their_parameters() {
        let r = Reply {
            delivery: Delivery::Query("https://a.example/cb?x=1".into()),
            params: vec![("code", "lk_ac_x".into()), ("state", "a b&c".into())],
            is_error: false,
        };
        assert_eq!(
            r.location().unwrap(),
            "https://a.example/cb?x=1&code=lk_ac_x&state=a+b%26c"
        );
        let r = Reply {
            delivery: Delivery::Fragment("http://127.0.0.1:9/cb".into()),
            ..r
        };
        assert_eq!(
            r.location().unwrap(),
            "http://127.0.0.1:9/cb#code=lk_ac_x&state=a+b%26c"
        );
        let r = Reply {
            delivery: Delivery::OutOfBand { auto: false },
            ..r
        };
        assert_eq!(r.location(), None);
        assert_eq!(r.title_params(), "code=lk_ac_x&state=a b&c");
    }
}
