//! The fixture the authorization-endpoint tests share: the "Photo Printer" web
//! app registered by admin, the member `pat` who signs in, the authorization
//! URL they start from (state and S256 PKCE included), and redeeming the code
//! that comes back.

use latchkey::domain::pkce;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use super::{Browser, Grant, OAuthClient, TestServer};

/// Photo Printer's registered redirect URI.
pub const CB: &str = "https://printer.example/cb";

/// The PKCE verifier behind every [`authorize_url`]'s S256 challenge.
pub const VERIFIER: &str = "a-verifier-that-is-long-enough-to-satisfy-rfc-7636-rules";

/// The member who signs in, and their password.
pub const PAT: (&str, &str) = ("pat", "pat-password");

/// Creates [`PAT`].
pub async fn new_user(server: &TestServer) {
    server.create_user(PAT.0, PAT.1, &["member"]).await;
}

/// Registers Photo Printer (confidential; code, refresh and implicit grants;
/// three scopes), with `extra` fields replacing the defaults.
pub async fn web_app(server: &TestServer, extra: Value) -> OAuthClient {
    let mut body = json!({
        "name": "Photo Printer", "type": "confidential",
        "redirect_uris": [CB],
        "grant_types": ["authorization_code", "refresh_token", "implicit"],
        "scopes": ["readUsersData", "modifyUsersData", "read"],
    });
    for (k, v) in extra.as_object().expect("an object of fields") {
        body[k] = v.clone();
    }
    OAuthClient::of(&server.admin_client(body).await)
}

/// `/oauth/authorize` for a code with state `st-123 & more` and the S256
/// challenge of [`VERIFIER`]; `extra` is appended to the query as it is.
pub fn authorize_url(app: &OAuthClient, redirect: &str, extra: &str) -> String {
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &app.id)
        .append_pair("redirect_uri", redirect)
        .append_pair("state", "st-123 & more")
        .append_pair("code_challenge", &pkce::s256(VERIFIER))
        .append_pair("code_challenge_method", "S256")
        .finish();
    format!("/oauth/authorize?{q}{extra}")
}

/// Redeems `code` as `app` (its default authentication) with [`VERIFIER`].
pub async fn redeem(
    server: &TestServer,
    app: &OAuthClient,
    code: &str,
    redirect: &str,
) -> Response {
    server
        .token(app.auth(), Grant::code(code, redirect).verifier(VERIFIER))
        .await
}

/// [`redeem`], expecting 200; returns the token response.
pub async fn redeem_json(
    server: &TestServer,
    app: &OAuthClient,
    code: &str,
    redirect: &str,
) -> Value {
    super::expect_json(redeem(server, app, code, redirect).await, StatusCode::OK).await
}

/// Signs [`PAT`] in at [`authorize_url`], allows, and returns the code.
pub async fn first_code(b: &mut Browser, app: &OAuthClient, cb: &str, extra: &str) -> String {
    b.sign_in_for_code(&authorize_url(app, cb, extra), PAT.0, PAT.1)
        .await
}

/// A new code for a browser that is signed in and has consented already.
pub async fn fresh_code(b: &mut Browser, app: &OAuthClient, cb: &str) -> String {
    b.code_again(&authorize_url(app, cb, "")).await
}

/// The status `GET /api/v1/users/me` answers with `token` as Bearer.
pub async fn me_status(server: &TestServer, token: &str) -> StatusCode {
    server.me_bearer(token).await.status()
}
