//! `GET` and `POST /oauth/logout`: RP-Initiated Logout 1.0 (the end-session
//! endpoint). Ends the browser session; goes back only to a registered
//! post-logout redirect URI of the client the request names.

use poem::http::header::{AUTHORIZATION, CACHE_CONTROL, LOCATION};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, Body, IntoResponse, Request, Response};

use super::cookies::{cookie, session_cookie, with_cookies, SESSION_COOKIE};
use super::layout::{error_page, html, secure_headers, server_error};
use super::login::read_form;
use crate::api::error::{ApiError, TokenEndpoint};
use crate::api::links::base_url;
use crate::api::oauth::params::Params;
use crate::domain::access::Permission;
use crate::service::client_auth;
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
/// With `refresh_token`, Keycloak's back-channel form: a client ends a grant
/// (204, or a JSON OAuth error).
#[handler]
pub async fn logout_post(req: &Request, Data(state): Data<&AppState>, body: Body) -> Response {
    match read_form(body).await {
        Ok(p) if p.get("refresh_token").is_some() => back_channel(req, state, &p)
            .await
            .unwrap_or_else(|e| ApiError::<TokenEndpoint>::from_oauth(e).into_response()),
        Ok(p) => answer(req, state, &p).await,
        Err(m) => error_page(StatusCode::BAD_REQUEST, &m),
    }
}

async fn back_channel(
    req: &Request,
    state: &AppState,
    p: &Params,
) -> crate::error::Result<Response> {
    let header = req.headers().get(AUTHORIZATION).map(|v| v.as_bytes());
    let caller = client_auth::endpoint_caller(
        state,
        header,
        p.get("client_id").map(str::to_owned),
        p.get("client_secret").map(str::to_owned),
        Permission::UsersWrite,
    )
    .await?;
    end_session::back_channel(state, &caller, p.get("refresh_token").unwrap_or_default()).await?;
    Ok(Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header(CACHE_CONTROL, "no-store")
        .finish())
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
