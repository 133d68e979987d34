//! `POST /oauth/authorize/consent`: the consent form and its page.

use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, Body, Request, Response};

use super::authorize::deliver;
use super::cookies::{cookie, SESSION_COOKIE};
use super::layout::{error_page, esc, html, server_error};
use super::login::{hidden_fields, login_page, posted_form, PostedForm};
use crate::domain::user::User;
use crate::service::authorize::{self as flow, AuthzRequest};
use crate::state::AppState;

/// `POST /oauth/authorize/consent`: the consent form.
#[handler]
pub async fn consent(req: &Request, Data(state): Data<&AppState>, body: Body) -> Response {
    let form: PostedForm = match posted_form(state, req, body).await {
        Ok(f) => f,
        Err(resp) => return *resp,
    };
    let (request, csrf) = (&form.request, form.csrf.as_str());
    let session = match flow::session(state, cookie(req, SESSION_COOKIE).as_deref()) {
        Ok(Some(s)) => s,
        Ok(None) => return login_page(state, request, csrf, None, StatusCode::OK),
        Err(e) => return server_error(&e),
    };
    match form.fields.get("decision") {
        Some("allow") => match flow::approve(state, &session, request, true).await {
            Ok(reply) => deliver(&reply, StatusCode::SEE_OTHER),
            Err(e) => server_error(&e),
        },
        Some("deny") => deliver(&flow::deny(request), StatusCode::SEE_OTHER),
        _ => error_page(
            StatusCode::BAD_REQUEST,
            "The consent form must say allow or deny.",
        ),
    }
}

pub(super) fn consent_page(
    state: &AppState,
    request: &AuthzRequest,
    user: &User,
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
<form method="post" action="{base}/oauth/authorize/consent">
{hidden}
<div class="row">
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
<button type="submit" name="decision" value="allow">Allow</button>
</div>
</form>
<p class="muted">Signed in as {user} · <a href="{base}/oauth/logout">not you?</a></p>"#,
        app = esc(&request.client.name),
        base = esc(&state.realm.path),
        hidden = hidden_fields(state, request, csrf),
        user = esc(user.username.as_str()),
    );
    html(StatusCode::OK, "Allow access? · latchkey", &body)
}
