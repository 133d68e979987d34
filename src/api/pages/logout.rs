//! `GET` and `POST /oauth/logout`: RP-Initiated Logout 1.0 (the end-session
//! endpoint). Ends the browser session; goes back only to a registered
//! post-logout redirect URI of the client the request names.

use poem::http::header::LOCATION;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, Body, Request, Response};

use super::cookies::{cookie, session_cookie, with_cookies, SESSION_COOKIE};
use super::layout::{error_page, html, secure_headers, server_error};
use super::login::read_form;
use crate::api::links::base_url;
use crate::api::oauth::params::Params;
use crate::service::end_session::{self, Logout, LogoutRequest};
use crate::state::AppState;

/// `GET /oauth/logout`.
#[handler]
pub async fn logout(req: &Request, Data(state): Data<&AppState>) -> Response {
    match Params::from_query(req.uri().query().unwrap_or("")) {
        Ok(p) => answer(req, state, &p).await,
        Err(e) => error_page(StatusCode::BAD_REQUEST, &e.page_sentence()),
    }
}

/// `POST /oauth/logout` (form parameters, as RP-Initiated Logout allows).
#[handler]
pub async fn logout_post(req: &Request, Data(state): Data<&AppState>, body: Body) -> Response {
    match read_form(body).await {
        Ok(p) => answer(req, state, &p).await,
        Err(m) => error_page(StatusCode::BAD_REQUEST, &m),
    }
}

async fn answer(req: &Request, state: &AppState, p: &Params) -> Response {
    let request = LogoutRequest {
        id_token_hint: p.get("id_token_hint"),
        client_id: p.get("client_id"),
        post_logout_redirect_uri: p.get("post_logout_redirect_uri"),
        state: p.get("state"),
    };
    let issuer = base_url(req, state);
    let outcome = end_session::logout(
        state,
        &issuer,
        cookie(req, SESSION_COOKIE).as_deref(),
        request,
    )
    .await;
    let clear = session_cookie(state, "", 0);
    match outcome {
        Err(e) => server_error(&e),
        Ok(Logout::Refused(m)) => error_page(StatusCode::BAD_REQUEST, &m),
        Ok(Logout::Redirect(location)) => with_cookies(
            secure_headers(Response::builder().status(StatusCode::FOUND))
                .header(LOCATION, location)
                .body(Body::empty()),
            vec![clear],
        ),
        Ok(Logout::SignedOut) => with_cookies(
            html(
                StatusCode::OK,
                "Signed out",
                "<h1>Signed out</h1><p>You are signed out of latchkey. You may close this window.</p>",
            ),
            vec![clear],
        ),
    }
}
