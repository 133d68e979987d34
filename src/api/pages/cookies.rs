//! The pages' cookies: `lk_session` (the browser session) and `lk_csrf` (the
//! forms' CSRF secret), both HttpOnly and SameSite=Lax on `/oauth` (a created realm's on
//! `/realms/{name}`), Secure
//! behind an https `--public-url`.

use poem::http::header::{COOKIE, SET_COOKIE};
use poem::{Request, Response};

use crate::service::authorize as flow;
use crate::state::AppState;

pub(super) const SESSION_COOKIE: &str = "lk_session";
pub(super) const CSRF_COOKIE: &str = "lk_csrf";

pub(super) fn with_cookies(mut resp: Response, cookies: Vec<String>) -> Response {
    for c in cookies {
        if let Ok(v) = c.parse() {
            resp.headers_mut().append(SET_COOKIE, v);
        }
    }
    resp
}

pub(super) fn session_cookie(state: &AppState, value: &str, max_age: i64) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path={}; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        cookie_path(state),
        if https(state) { "; Secure" } else { "" }
    )
}

/// The browser's CSRF cookie, made (and queued to be set) when absent.
pub(super) fn csrf_cookie(state: &AppState, req: &Request, set: &mut Vec<String>) -> String {
    if let Some(c) = cookie(req, CSRF_COOKIE).filter(|c| !c.is_empty() && c.len() <= 128) {
        return c;
    }
    let value = flow::new_cookie_value();
    set.push(format!(
        "{CSRF_COOKIE}={value}; Path={}; HttpOnly; SameSite=Lax{}",
        cookie_path(state),
        if https(state) { "; Secure" } else { "" }
    ));
    value
}

/// `/oauth` in the default realm; a created realm's whole path
/// (`/realms/{name}`), so its Keycloak-shaped endpoints see them too and no
/// other realm ever does.
fn cookie_path(state: &AppState) -> &str {
    if state.realm.is_default() {
        "/oauth"
    } else {
        &state.realm.path
    }
}

fn https(state: &AppState) -> bool {
    state
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
}

pub(super) fn cookie(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}
