//! `POST /oauth/authorize/login`: the login form and its page, and what the
//! login and consent forms share (reading a posted form, re-validating the
//! authorization request in its hidden fields, the CSRF check).

use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, Body, Request, Response};

use super::authorize::{authorize_params, continue_as, validated};
use super::cookies::{cookie, session_cookie, with_cookies, CSRF_COOKIE};
use super::layout::{error_page, esc, html, server_error};
use crate::api::oauth::params::Params;
use crate::secret::Redacted;
use crate::service::authorize::{self as flow, AuthzRequest, Login};
use crate::state::AppState;

/// `POST /oauth/authorize/login`: the login form.
#[handler]
pub async fn login(req: &Request, Data(state): Data<&AppState>, body: Body) -> Response {
    let form: PostedForm = match posted_form(state, req, body).await {
        Ok(f) => f,
        Err(resp) => return *resp,
    };
    let (request, csrf) = (&form.request, form.csrf.as_str());
    let username = form.fields.get("username").unwrap_or("").to_owned();
    let password = Redacted::new(form.fields.get("password").unwrap_or("").to_owned());
    match flow::login(state, &username, password).await {
        Ok(Login::SignedIn(session)) => {
            let set = session_cookie(state, session.expose(), flow::SESSION_TTL);
            let signed_in = match flow::session(state, Some(session.expose())) {
                Ok(Some(s)) => s,
                Ok(None) => {
                    return login_page(
                        state,
                        request,
                        csrf,
                        Some("Please sign in again."),
                        StatusCode::UNAUTHORIZED,
                    )
                }
                Err(e) => return server_error(&e),
            };
            with_cookies(
                continue_as(state, request, signed_in, csrf, true).await,
                vec![set],
            )
        }
        Ok(Login::Invalid) => login_page(
            state,
            request,
            csrf,
            Some("The username or password is incorrect."),
            StatusCode::UNAUTHORIZED,
        ),
        Ok(Login::SlowDown(secs)) => login_page(
            state,
            request,
            csrf,
            Some(&format!(
                "Too many failed attempts for this username. Try again in {secs} seconds."
            )),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Err(e) => server_error(&e),
    }
}

/// A login or consent form that checked out: its fields, the authorization
/// request it carries (validated again), and the browser's CSRF cookie.
pub(super) struct PostedForm {
    pub(super) fields: Params,
    pub(super) request: AuthzRequest,
    pub(super) csrf: String,
}

/// Reads a posted form, validates the authorization request in its hidden
/// fields, and checks its CSRF token; a failure is already the response.
pub(super) async fn posted_form(
    state: &AppState,
    req: &Request,
    body: Body,
) -> Result<PostedForm, Box<Response>> {
    let fields = read_form(body)
        .await
        .map_err(|m| Box::new(error_page(StatusCode::BAD_REQUEST, &m)))?;
    let request = validated(state, req, &authorize_params(&fields))?;
    let csrf = cookie(req, CSRF_COOKIE);
    if !flow::check_csrf(state, csrf.as_deref(), fields.get("csrf_token")) {
        return Err(Box::new(error_page(
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from this site. Go back to the application and start again.",
        )));
    }
    Ok(PostedForm {
        fields,
        request,
        csrf: csrf.unwrap_or_default(),
    })
}

pub(super) fn login_page(
    state: &AppState,
    request: &AuthzRequest,
    csrf: &str,
    message: Option<&str>,
    status: StatusCode,
) -> Response {
    let alert = message
        .map(|m| format!(r#"<p class="alert" role="alert">{}</p>"#, esc(m)))
        .unwrap_or_default();
    let body = format!(
        r#"<h1>Sign in</h1>
<p>to continue to <strong>{app}</strong></p>
{alert}
<form method="post" action="{base}/oauth/authorize/login">
{hidden}
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" autocapitalize="none" required autofocus value="{hint}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>"#,
        app = esc(&request.client.name),
        base = esc(&state.realm.path),
        hint = esc(request.params.login_hint.as_deref().unwrap_or("")),
        hidden = hidden_fields(state, request, csrf),
    );
    html(status, "Sign in · latchkey", &body)
}

pub(super) fn hidden_fields(state: &AppState, request: &AuthzRequest, csrf: &str) -> String {
    let p = &request.params;
    let mut out = format!(
        r#"<input type="hidden" name="csrf_token" value="{}">"#,
        flow::csrf_token(state, csrf)
    );
    for (name, value) in [
        ("response_type", &p.response_type),
        ("client_id", &p.client_id),
        ("redirect_uri", &p.redirect_uri),
        ("scope", &p.scope),
        ("state", &p.state),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
        ("nonce", &p.nonce),
        ("prompt", &p.prompt),
        ("response_mode", &p.response_mode),
        ("max_age", &p.max_age),
        ("login_hint", &p.login_hint),
        ("id_token_hint", &p.id_token_hint),
    ] {
        if let Some(v) = value {
            out.push_str(&format!(
                r#"<input type="hidden" name="{name}" value="{}">"#,
                esc(v)
            ));
        }
    }
    out
}

/// Largest login or consent form accepted.
const MAX_FORM: usize = 16 * 1024;

/// A posted form's fields (the login, consent and logout forms).
pub(super) async fn read_form(body: Body) -> Result<Params, String> {
    let bytes = body
        .into_bytes_limit(MAX_FORM)
        .await
        .map_err(|_| "The form is too large or could not be read.".to_string())?;
    Params::from_form(&bytes).map_err(|e| e.page_sentence())
}
