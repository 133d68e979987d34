//! `GET /oauth/authorize`: validate the request, then sign in, ask for
//! consent, or answer the client at once; and the answer itself (a redirect,
//! or the out-of-band page).

use poem::http::header::LOCATION;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, Body, Request, Response};

use super::consent::consent_page;
use super::cookies::{cookie, csrf_cookie, with_cookies, SESSION_COOKIE};
use super::layout::{error_page, esc, form_post, html, secure_headers, server_error};
use super::login::login_page;
use crate::api::oauth::params::Params;
use crate::service::authorize::{
    self as flow, AuthorizeParams, AuthzRequest, Delivery, Next, Reply, Session, Validation,
};
use crate::state::AppState;

/// `GET /oauth/authorize`.
#[handler]
pub async fn authorize(req: &Request, Data(state): Data<&AppState>) -> Response {
    let params = match Params::from_query(req.uri().query().unwrap_or("")) {
        Ok(p) => authorize_params(&p),
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e.page_sentence()),
    };
    let mut cookies = Vec::new();
    let csrf = csrf_cookie(state, req, &mut cookies);
    let outcome = respond(state, req, &params, &csrf).await;
    with_cookies(outcome, cookies)
}

/// The authorize step after validation: sign in, consent, or deliver.
async fn respond(
    state: &AppState,
    req: &Request,
    params: &AuthorizeParams,
    csrf: &str,
) -> Response {
    let request = match validated(state, req, params) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    let session = match flow::session(state, cookie(req, SESSION_COOKIE).as_deref()) {
        Ok(s) => s,
        Err(e) => return server_error(&e),
    };
    let next = flow::first(state, &request, session).await;
    show(state, &request, next, csrf, StatusCode::FOUND)
}

/// A signed-in user: ask for consent, or answer at once.
pub(super) async fn continue_as(
    state: &AppState,
    request: &AuthzRequest,
    session: Session,
    csrf: &str,
    after_post: bool,
) -> Response {
    let next = flow::signed_in(state, request, session).await;
    let status = if after_post {
        StatusCode::SEE_OTHER
    } else {
        StatusCode::FOUND
    };
    show(state, request, next, csrf, status)
}

/// The page or the answer for a step of the flow.
fn show(
    state: &AppState,
    request: &AuthzRequest,
    next: crate::error::Result<Next>,
    csrf: &str,
    redirect_status: StatusCode,
) -> Response {
    match next {
        Ok(Next::SignIn) => login_page(state, request, csrf, None, StatusCode::OK),
        Ok(Next::Consent(session)) => consent_page(state, request, &session.user, csrf),
        Ok(Next::Reply(reply)) => deliver(&reply, redirect_status),
        Err(e) => server_error(&e),
    }
}

/// Validates the request; a refusal is already the response.
pub(super) fn validated(
    state: &AppState,
    req: &Request,
    params: &AuthorizeParams,
) -> Result<AuthzRequest, Box<Response>> {
    let issuer = crate::api::links::base_url(req, state);
    match flow::validate(state, params, own_origin(req, state).as_deref(), &issuer) {
        Ok(Validation::Valid(r)) => Ok(*r),
        Ok(Validation::Page(m)) => Err(Box::new(error_page(StatusCode::BAD_REQUEST, &m))),
        Ok(Validation::ToClient(reply)) => Err(Box::new(deliver(&reply, StatusCode::FOUND))),
        Err(e) => Err(Box::new(server_error(&e))),
    }
}

/// This server's origin for built-in clients' relative redirect URIs: the
/// `--public-url`, else the request's host only when it is loopback. A Host
/// header is the browser's to choose only as far as DNS allows: trusting any
/// host would let a rebinding attacker's name receive Swagger UI's codes.
fn own_origin(req: &Request, state: &AppState) -> Option<String> {
    // The origin alone: a realm's built-in redirect URIs carry its path.
    let base = crate::api::links::server_url(req, state);
    if state.config.public_url.is_some() {
        return Some(base);
    }
    let host = base.strip_prefix("http://").unwrap_or("");
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    // Anything else: unknown, so built-in relative redirect URIs match nothing
    // (sign-in through Swagger UI from another host needs --public-url).
    crate::domain::redirect_uri::is_loopback(name).then_some(base)
}

/// Sends a result or error to the client: a redirect, or the out-of-band page.
pub(super) fn deliver(reply: &Reply, redirect_status: StatusCode) -> Response {
    if let Some(location) = reply.location() {
        return secure_headers(Response::builder().status(redirect_status))
            .header(LOCATION, location)
            .body(Body::empty());
    }
    if let Delivery::FormPost(action) = &reply.delivery {
        return form_post(action, &reply.params);
    }
    let auto = matches!(reply.delivery, Delivery::OutOfBand { auto: true });
    let (title, text) = match (reply.is_error, auto) {
        (false, false) => (
            format!("Success {}", reply.title_params()),
            "Copy the code below and paste it into the application you came from.".to_string(),
        ),
        (false, true) => (
            format!("Success {}", reply.title_params()),
            "Done. You may close this window and return to the application.".to_string(),
        ),
        (true, _) => (
            format!("Error {}", reply.title_params()),
            "The request was not granted. You may close this window and return to the application."
                .to_string(),
        ),
    };
    let value = reply
        .params
        .iter()
        .find(|(k, _)| matches!(*k, "code" | "access_token" | "error"))
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let shown = if auto {
        String::new()
    } else {
        format!(
            r#"<p><label for="result">Your code</label><input id="result" readonly value="{}"></p>"#,
            esc(value)
        )
    };
    html(
        StatusCode::OK,
        &title,
        &format!(
            "<h1>{}</h1><p>{}</p>{shown}<p class=\"muted\">Issuer: <code>{}</code></p>",
            if reply.is_error {
                "Not granted"
            } else {
                "Signed in"
            },
            esc(&text),
            esc(reply.issuer().unwrap_or(""))
        ),
    )
}

/// The authorization request's parameters from a query string or form.
pub(super) fn authorize_params(p: &Params) -> AuthorizeParams {
    AuthorizeParams {
        response_type: p.owned("response_type"),
        client_id: p.owned("client_id"),
        redirect_uri: p.owned("redirect_uri"),
        scope: p.owned("scope"),
        state: p.owned("state"),
        code_challenge: p.owned("code_challenge"),
        code_challenge_method: p.owned("code_challenge_method"),
        nonce: p.owned("nonce"),
        prompt: p.owned("prompt"),
        max_age: p.owned("max_age"),
        login_hint: p.owned("login_hint"),
        id_token_hint: p.owned("id_token_hint"),
        response_mode: p.owned("response_mode"),
    }
}
