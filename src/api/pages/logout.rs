//! `GET /oauth/logout`: ends the browser session.

use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, Request, Response};

use super::cookies::{cookie, session_cookie, with_cookies, SESSION_COOKIE};
use super::layout::{html, server_error};
use crate::service::authorize as flow;
use crate::state::AppState;

/// `GET /oauth/logout`.
#[handler]
pub async fn logout(req: &Request, Data(state): Data<&AppState>) -> Response {
    if let Err(e) = flow::logout(state, cookie(req, SESSION_COOKIE).as_deref()).await {
        return server_error(&e);
    }
    let clear = session_cookie(state, "", 0);
    with_cookies(
        html(
            StatusCode::OK,
            "Signed out",
            "<h1>Signed out</h1><p>You are signed out of latchkey. You may close this window.</p>",
        ),
        vec![clear],
    )
}
