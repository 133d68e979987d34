//! The authorization endpoint's HTML: `GET /oauth/authorize`, the login and
//! consent forms it shows, the out-of-band result pages, and `GET /oauth/logout`.
//!
//! Plain server-rendered HTML that works without JavaScript, with no external
//! assets; every value is escaped; every page forbids framing. The forms carry
//! the authorization request in hidden fields and a CSRF token bound to the
//! browser's `lk_csrf` cookie; the request is validated again on every POST.

use poem::http::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, Body, Request, Response};

use crate::secret::Redacted;
use crate::service::authorize::{
    self as flow, AuthorizeParams, AuthzRequest, Delivery, LoginFailure, Refusal, Reply,
};
use crate::state::AppState;

const SESSION_COOKIE: &str = "lk_session";
const CSRF_COOKIE: &str = "lk_csrf";
/// Largest login or consent form accepted.
const MAX_FORM: usize = 16 * 1024;

/// `GET /oauth/authorize`.
#[handler]
pub async fn authorize(req: &Request, Data(state): Data<&AppState>) -> Response {
    let pairs = match parse_pairs(req.uri().query().unwrap_or("")) {
        Ok(p) => p,
        Err(m) => return error_page(StatusCode::BAD_REQUEST, &m),
    };
    let params = authorize_params(&pairs);
    let mut cookies = Vec::new();
    let csrf = csrf_cookie(state, req, &mut cookies);
    let outcome = respond(state, req, &params, &csrf).await;
    with_cookies(outcome, cookies)
}

/// `POST /oauth/authorize/login`: the login form.
#[handler]
pub async fn login(req: &Request, Data(state): Data<&AppState>, body: Body) -> Response {
    let PostedForm {
        pairs,
        request,
        csrf,
    } = match posted_form(state, req, body).await {
        Ok(f) => f,
        Err(resp) => return *resp,
    };
    let username = field(&pairs, "username").unwrap_or("").to_owned();
    let password = Redacted::new(field(&pairs, "password").unwrap_or("").to_owned());
    match flow::login(state, &username, password).await {
        Ok(Ok(session)) => {
            let set = session_cookie(state, session.expose(), flow::SESSION_TTL);
            let user = match flow::session_user(state, Some(session.expose())) {
                Ok(Some(u)) => u,
                Ok(None) => {
                    return login_page(
                        state,
                        &request,
                        &csrf,
                        Some("Please sign in again."),
                        StatusCode::UNAUTHORIZED,
                    )
                }
                Err(e) => return server_error(&e),
            };
            with_cookies(
                continue_as(state, &request, &user, &csrf, true).await,
                vec![set],
            )
        }
        Ok(Err(LoginFailure::Invalid)) => login_page(
            state,
            &request,
            &csrf,
            Some("The username or password is incorrect."),
            StatusCode::UNAUTHORIZED,
        ),
        Ok(Err(LoginFailure::SlowDown(secs))) => login_page(
            state,
            &request,
            &csrf,
            Some(&format!(
                "Too many failed attempts for this username. Try again in {secs} seconds."
            )),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Err(e) => server_error(&e),
    }
}

/// `POST /oauth/authorize/consent`: the consent form.
#[handler]
pub async fn consent(req: &Request, Data(state): Data<&AppState>, body: Body) -> Response {
    let PostedForm {
        pairs,
        request,
        csrf,
    } = match posted_form(state, req, body).await {
        Ok(f) => f,
        Err(resp) => return *resp,
    };
    let user = match flow::session_user(state, cookie(req, SESSION_COOKIE).as_deref()) {
        Ok(Some(u)) => u,
        Ok(None) => return login_page(state, &request, &csrf, None, StatusCode::OK),
        Err(e) => return server_error(&e),
    };
    match field(&pairs, "decision") {
        Some("allow") => match flow::approve(state, &user, &request, true).await {
            Ok(reply) => deliver(&reply, StatusCode::SEE_OTHER),
            Err(e) => server_error(&e),
        },
        Some("deny") => deliver(&flow::deny(&request), StatusCode::SEE_OTHER),
        _ => error_page(
            StatusCode::BAD_REQUEST,
            "The consent form must say allow or deny.",
        ),
    }
}

/// A login or consent form that checked out: its fields, the authorization
/// request it carries (validated again), and the browser's CSRF cookie.
struct PostedForm {
    pairs: Vec<(String, String)>,
    request: AuthzRequest,
    csrf: String,
}

/// Reads a posted form, validates the authorization request in its hidden
/// fields, and checks its CSRF token; a failure is already the response.
async fn posted_form(
    state: &AppState,
    req: &Request,
    body: Body,
) -> Result<PostedForm, Box<Response>> {
    let pairs = read_form(body)
        .await
        .map_err(|m| Box::new(error_page(StatusCode::BAD_REQUEST, &m)))?;
    let request = validated(state, req, &authorize_params(&pairs))?;
    let csrf = cookie(req, CSRF_COOKIE);
    if !flow::check_csrf(state, csrf.as_deref(), field(&pairs, "csrf_token")) {
        return Err(Box::new(error_page(
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from this site. Go back to the application and start again.",
        )));
    }
    Ok(PostedForm {
        pairs,
        request,
        csrf: csrf.unwrap_or_default(),
    })
}

/// `GET /oauth/logout`: ends the browser session.
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
    match flow::session_user(state, cookie(req, SESSION_COOKIE).as_deref()) {
        Ok(Some(user)) => continue_as(state, &request, &user, csrf, false).await,
        Ok(None) => login_page(state, &request, csrf, None, StatusCode::OK),
        Err(e) => server_error(&e),
    }
}

/// A signed-in user: ask for consent, or issue at once.
async fn continue_as(
    state: &AppState,
    request: &AuthzRequest,
    user: &crate::domain::user::User,
    csrf: &str,
    after_post: bool,
) -> Response {
    match flow::needs_consent(state, user, request) {
        Ok(true) => consent_page(state, request, user, csrf),
        Ok(false) => match flow::approve(state, user, request, false).await {
            Ok(reply) => deliver(
                &reply,
                if after_post {
                    StatusCode::SEE_OTHER
                } else {
                    StatusCode::FOUND
                },
            ),
            Err(e) => server_error(&e),
        },
        Err(e) => server_error(&e),
    }
}

/// Validates the request; a refusal is already the response.
fn validated(
    state: &AppState,
    req: &Request,
    params: &AuthorizeParams,
) -> Result<AuthzRequest, Box<Response>> {
    if !state.is_ready() {
        return Err(Box::new(error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "latchkey is starting; try again in a moment.",
        )));
    }
    match flow::validate(state, params, own_origin(req, state).as_deref()) {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(Refusal::Page(m))) => Err(Box::new(error_page(StatusCode::BAD_REQUEST, &m))),
        Ok(Err(Refusal::Client(reply))) => Err(Box::new(deliver(&reply, StatusCode::FOUND))),
        Err(e) => Err(Box::new(server_error(&e))),
    }
}

/// This server's origin for built-in clients' relative redirect URIs: the
/// `--public-url`, else the request's host only when it is loopback. A Host
/// header is the browser's to choose only as far as DNS allows: trusting any
/// host would let a rebinding attacker's name receive Swagger UI's codes.
fn own_origin(req: &Request, state: &AppState) -> Option<String> {
    let base = super::links::base_url(req, state);
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
fn deliver(reply: &Reply, redirect_status: StatusCode) -> Response {
    if let Some(location) = reply.location() {
        return secure_headers(Response::builder().status(redirect_status))
            .header(LOCATION, location)
            .body(Body::empty());
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
            "<h1>{}</h1><p>{}</p>{shown}",
            if reply.is_error {
                "Not granted"
            } else {
                "Signed in"
            },
            esc(&text)
        ),
    )
}

fn login_page(
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
<form method="post" action="/oauth/authorize/login">
{hidden}
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" autocapitalize="none" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>"#,
        app = esc(&request.client.name),
        hidden = hidden_fields(state, request, csrf),
    );
    html(status, "Sign in · latchkey", &body)
}

fn consent_page(
    state: &AppState,
    request: &AuthzRequest,
    user: &crate::domain::user::User,
    csrf: &str,
) -> Response {
    let scopes = match flow::describe_scopes(state, request) {
        Ok(s) => s,
        Err(e) => return server_error(&e),
    };
    let items: String = if scopes.is_empty() {
        "<li>Know who you are (no other access)</li>".into()
    } else {
        scopes
            .iter()
            .map(|(name, description)| {
                format!(
                    "<li><strong>{}</strong><br><code>{}</code></li>",
                    esc(if description.is_empty() {
                        name
                    } else {
                        description
                    }),
                    esc(name)
                )
            })
            .collect()
    };
    let owner = if request.owner.is_empty() {
        String::new()
    } else {
        format!(
            " <span class=\"muted\">(registered by {})</span>",
            esc(&request.owner)
        )
    };
    let body = format!(
        r#"<h1>Allow access?</h1>
<p><strong>{app}</strong>{owner} wants to:</p>
<ul class="scopes">{items}</ul>
<form method="post" action="/oauth/authorize/consent">
{hidden}
<div class="row">
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
<button type="submit" name="decision" value="allow">Allow</button>
</div>
</form>
<p class="muted">Signed in as {user} · <a href="/oauth/logout">not you?</a></p>"#,
        app = esc(&request.client.name),
        hidden = hidden_fields(state, request, csrf),
        user = esc(user.username.as_str()),
    );
    html(StatusCode::OK, "Allow access? · latchkey", &body)
}

fn hidden_fields(state: &AppState, request: &AuthzRequest, csrf: &str) -> String {
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

fn error_page(status: StatusCode, message: &str) -> Response {
    html(
        status,
        "Cannot continue · latchkey",
        &format!(
            "<h1>Cannot continue</h1><p class=\"alert\">{}</p><p class=\"muted\">You were not sent back to the application, because it could not be verified.</p>",
            esc(message)
        ),
    )
}

fn server_error(e: &crate::error::Error) -> Response {
    tracing::error!(error = %e, "authorization page failed");
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on the server; see its log.",
    )
}

const STYLE: &str = "body{font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;background:#f4f5f7;color:#1d2330;margin:0}\
main{max-width:26rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.1)}\
h1{font-size:1.4rem;margin:0 0 .5rem}label{display:block;margin:.8rem 0 .2rem;font-weight:600}\
input{box-sizing:border-box;width:100%;padding:.6rem;border:1px solid #c3c8d1;border-radius:6px;font:inherit}\
button{margin-top:1.2rem;padding:.6rem 1.2rem;border:0;border-radius:6px;background:#2459d6;color:#fff;font:inherit;cursor:pointer}\
button.secondary{background:#e4e7ec;color:#1d2330}.row{display:flex;gap:.6rem;justify-content:flex-end}\
.alert{background:#fdecea;color:#8a1c12;padding:.6rem;border-radius:6px}.muted{color:#5b6372;font-size:.9rem}\
ul.scopes{padding-left:1.2rem}ul.scopes li{margin:.4rem 0}code{font-size:.85rem;color:#5b6372}\
footer{text-align:center;color:#5b6372;font-size:.8rem;margin-top:1rem}";

fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let doc = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{}</title><style>{STYLE}</style></head><body><main>{body}</main>\
<footer>latchkey · a dev/test identity provider</footer></body></html>",
        esc(title)
    );
    secure_headers(Response::builder().status(status))
        .header(CONTENT_TYPE, "text/html; charset=utf-8")
        .body(doc)
}

/// Headers every page and redirect carries: no framing, no caching, no referrer.
fn secure_headers(b: poem::ResponseBuilder) -> poem::ResponseBuilder {
    b.header(
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    )
    .header("X-Frame-Options", "DENY")
    .header("X-Content-Type-Options", "nosniff")
    .header("Referrer-Policy", "no-referrer")
    .header("Cache-Control", "no-store")
}

/// HTML-escapes text for element content and quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn with_cookies(mut resp: Response, cookies: Vec<String>) -> Response {
    for c in cookies {
        if let Ok(v) = c.parse() {
            resp.headers_mut().append(SET_COOKIE, v);
        }
    }
    resp
}

fn session_cookie(state: &AppState, value: &str, max_age: i64) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/oauth; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        if https(state) { "; Secure" } else { "" }
    )
}

/// The browser's CSRF cookie, made (and queued to be set) when absent.
fn csrf_cookie(state: &AppState, req: &Request, set: &mut Vec<String>) -> String {
    if let Some(c) = cookie(req, CSRF_COOKIE).filter(|c| !c.is_empty() && c.len() <= 128) {
        return c;
    }
    let value = flow::new_cookie_value();
    set.push(format!(
        "{CSRF_COOKIE}={value}; Path=/oauth; HttpOnly; SameSite=Lax{}",
        if https(state) { "; Secure" } else { "" }
    ));
    value
}

fn https(state: &AppState) -> bool {
    state
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
}

fn cookie(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Parses `application/x-www-form-urlencoded` pairs; a parameter given twice
/// is refused (RFC 6749 §3.1).
fn parse_pairs(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
        if out.len() >= MAX_PARAMS {
            return Err("The request has too many parameters.".into());
        }
        if !seen.insert(k.to_string()) {
            return Err(format!("The parameter {k:?} is given more than once."));
        }
        out.push((k.into_owned(), v.into_owned()));
    }
    Ok(out)
}

/// More parameters than any authorization request or form of ours carries.
const MAX_PARAMS: usize = 64;

async fn read_form(body: Body) -> Result<Vec<(String, String)>, String> {
    let bytes = body
        .into_bytes_limit(MAX_FORM)
        .await
        .map_err(|_| "The form is too large or could not be read.".to_string())?;
    parse_pairs(&String::from_utf8_lossy(&bytes))
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn authorize_params(pairs: &[(String, String)]) -> AuthorizeParams {
    let get = |n: &str| field(pairs, n).map(str::to_owned);
    AuthorizeParams {
        response_type: get("response_type"),
        client_id: get("client_id"),
        redirect_uri: get("redirect_uri"),
        scope: get("scope"),
        state: get("state"),
        code_challenge: get("code_challenge"),
        code_challenge_method: get("code_challenge_method"),
        nonce: get("nonce"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(parse_pairs("a=1&b=2").is_ok());
        assert!(parse_pairs("a=1&a=2").is_err());
    }
}
