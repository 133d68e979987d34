//! The authorization endpoint in a scripted browser: login and consent forms,
//! code + PKCE, implicit, out-of-band and loopback redirects, refresh rotation,
//! and the attacks the endpoint must refuse.

use std::sync::Arc;

use latchkey::clock::ManualClock;
use latchkey::domain::pkce;
use latchkey::domain::time::Timestamp;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::common::{
    expect_error, expect_json, hidden_inputs, location, params_of, title, Browser, Grant,
    OAuthClient, TestServer,
};

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
    expect_json(redeem(server, app, code, redirect).await, StatusCode::OK).await
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

/// The whole flow: the login page (not frameable) names the client, the login
/// sets a session, the consent page describes the scopes, allowing redirects
/// with a code and the state verbatim; the code redeems with the verifier for
/// tokens that act as pat through the client; the refresh token rotates and
/// may narrow but not widen the scopes, and reusing a spent one ends the family.
#[tokio::test]
async fn code_flow_with_pkce_login_consent_and_refresh() {
    let server = TestServer::start().await;
    new_user(&server).await;
    let app = web_app(&server, json!({})).await;
    let mut b = Browser::new(&server);

    let resp = b
        .get(&authorize_url(&app, CB, "&scope=readUsersData+read"))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers();
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(h["x-frame-options"], "DENY");
    let page = resp.text().await.unwrap();
    assert!(page.contains("Photo Printer"));
    assert!(page.contains("name=\"csrf_token\""));
    assert!(page.contains("name=\"password\""));

    let resp = b
        .submit(&page, &[("username", "pat"), ("password", "pat-password")])
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(b.cookie("lk_session").is_some());
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("Read your user data"),
        "scope descriptions: {page}"
    );
    assert!(page.contains("Read access to your account"));
    assert!(page.contains("registered by admin"));

    let resp = b.submit(&page, &[("decision", "allow")]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let loc = location(&resp);
    assert!(loc.starts_with("https://printer.example/cb?"), "{loc}");
    let p = params_of(&loc, '?');
    assert_eq!(p["state"], "st-123 & more", "state echoed verbatim");
    let code = &p["code"];
    assert!(code.starts_with("lk_ac_"));

    let resp = redeem(&server, &app, code, CB).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let t: Value = resp.json().await.unwrap();
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["scope"], "readUsersData read");
    let access = t["access_token"].as_str().unwrap();
    let refresh = t["refresh_token"].as_str().unwrap();
    assert!(refresh.starts_with("lk_rt_"));
    let me: Value = server.me_bearer(access).await.json().await.unwrap();
    assert_eq!(me["username"], "pat");
    assert_eq!(me["auth_method"], "access_token");
    assert_eq!(me["client_id"], app.id);

    // Refresh: rotation, narrowing allowed, widening not.
    let t2 = server
        .token_json(app.auth(), Grant::refresh(refresh).scope("read"))
        .await;
    assert_eq!(t2["scope"], "read");
    let refresh2 = t2["refresh_token"].as_str().unwrap();
    assert_ne!(refresh2, refresh);
    let wider = Grant::refresh(refresh2).scope("read modifyUsersData");
    let resp = server.token(app.auth(), wider).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_scope").await;

    // Reusing the first refresh token revokes the whole family.
    let resp = server.token(app.auth(), Grant::refresh(refresh)).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let resp = server.token(app.auth(), Grant::refresh(refresh2)).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_eq!(me_status(&server, access).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        me_status(&server, t2["access_token"].as_str().unwrap()).await,
        StatusCode::UNAUTHORIZED
    );
}

/// A signed-in browser that has consented gets a code at once; a wider scope
/// asks again; after logout the old session cookie is worthless.
#[tokio::test]
async fn a_session_and_remembered_consent_skip_both_pages() {
    let server = TestServer::start().await;
    new_user(&server).await;
    let app = web_app(&server, json!({})).await;
    let mut b = Browser::new(&server);
    let url = authorize_url(&app, CB, "&scope=read");
    let resp = b.sign_in_and_allow(&url, "pat", "pat-password").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);

    let resp = b.get(&url).await;
    assert_eq!(resp.status(), StatusCode::FOUND, "no login, no consent");
    assert!(params_of(&location(&resp), '?').contains_key("code"));

    // A wider request asks again.
    let resp = b
        .get(&authorize_url(&app, CB, "&scope=read+modifyUsersData"))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("name=\"decision\""));

    // After logout the old session cookie is worthless.
    let old = b.cookie("lk_session").unwrap().to_owned();
    let resp = b.get("/oauth/logout").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(b.cookie("lk_session").is_none());
    b.set_cookie("lk_session", &old);
    let resp = b.get(&url).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("name=\"password\""));
}

/// A first-party (skip_consent) client goes straight back with a code after
/// login; denying another client's consent redirects `access_denied` with the
/// state and no code.
#[tokio::test]
async fn first_party_clients_skip_consent_and_deny_is_reported() {
    let server = TestServer::start().await;
    new_user(&server).await;
    let first = web_app(&server, json!({"skip_consent": true})).await;
    let mut b = Browser::new(&server);
    let resp = b.get(&authorize_url(&first, CB, "")).await;
    let page = resp.text().await.unwrap();
    let resp = b
        .submit(&page, &[("username", "pat"), ("password", "pat-password")])
        .await;
    assert_eq!(
        resp.status(),
        StatusCode::SEE_OTHER,
        "straight back with a code"
    );
    assert!(params_of(&location(&resp), '?').contains_key("code"));

    let other = web_app(&server, json!({})).await;
    let resp = b.get(&authorize_url(&other, CB, "")).await;
    let page = resp.text().await.unwrap();
    let resp = b.submit(&page, &[("decision", "deny")]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let p = params_of(&location(&resp), '?');
    assert_eq!(p["error"], "access_denied");
    assert_eq!(p["state"], "st-123 & more");
    assert!(!p.contains_key("code"));
}

/// A wrong password and an unknown user get the same page; from the fifth
/// failure in a row even the right password waits, until the wait ends; other
/// users are not affected.
#[tokio::test]
async fn login_failures_look_alike_and_slow_down() {
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000)));
    let server = TestServer::builder().clock(clock.clone()).start().await;
    new_user(&server).await;
    let app = web_app(&server, json!({})).await;
    let mut b = Browser::new(&server);
    let resp = b.get(&authorize_url(&app, CB, "")).await;
    let page = resp.text().await.unwrap();
    let wrong_password = [("username", "pat"), ("password", "wrong-password")];
    let resp = b.submit(&page, &wrong_password).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let wrong = resp.text().await.unwrap();
    let resp = b
        .submit(
            &page,
            &[("username", "nobody"), ("password", "wrong-password")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let unknown = resp.text().await.unwrap();
    let msg = "The username or password is incorrect.";
    assert!(wrong.contains(msg) && unknown.contains(msg));
    for _ in 0..4 {
        b.submit(&page, &wrong_password).await;
    }
    let right_password = [("username", "pat"), ("password", "pat-password")];
    let resp = b.submit(&page, &right_password).await;
    assert_eq!(
        resp.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("Try again in 2 seconds"));
    clock.advance(2);
    let resp = b.submit(&page, &right_password).await;
    assert_eq!(resp.status(), StatusCode::OK, "the wait ends");
    // Another user is not affected.
    server.create_user("sam", "sam-password", &["member"]).await;
    let resp = b
        .submit(&page, &[("username", "sam"), ("password", "sam-password")])
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

/// The login and consent forms are refused (403) without the CSRF token, and
/// with a token minted for another browser's cookie.
#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let server = TestServer::start().await;
    new_user(&server).await;
    let app = web_app(&server, json!({})).await;
    let url = authorize_url(&app, CB, "");
    let mut b = Browser::new(&server);
    let page = b.get(&url).await.text().await.unwrap();
    let mut form = hidden_inputs(&page);
    form.retain(|(k, _)| k != "csrf_token");
    form.push(("username".into(), "pat".into()));
    form.push(("password".into(), "pat-password".into()));
    let resp = b.post_form("/oauth/authorize/login", &form).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // A token minted for another browser's cookie does not fit this one.
    let mut other = Browser::new(&server);
    let other_page = other.get(&url).await.text().await.unwrap();
    let mut form = hidden_inputs(&other_page);
    form.push(("username".into(), "pat".into()));
    form.push(("password".into(), "pat-password".into()));
    let resp = b.post_form("/oauth/authorize/login", &form).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // Consent: a signed-in browser posting without the token.
    let resp = b.sign_in_and_allow(&url, "pat", "pat-password").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let page = b
        .get(&authorize_url(&app, CB, "&scope=read"))
        .await
        .text()
        .await
        .unwrap();
    let mut form = hidden_inputs(&page);
    form.retain(|(k, _)| k != "csrf_token");
    form.push(("decision".into(), "allow".into()));
    let resp = b.post_form("/oauth/authorize/consent", &form).await;
    let status = resp.status();
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "{}",
        resp.text().await.unwrap()
    );
}

/// Nothing that fails client or redirect URI validation is ever redirected.
#[tokio::test]
async fn bad_clients_and_redirect_uris_get_a_page_not_a_redirect() {
    let server = TestServer::start().await;
    let app = web_app(
        &server,
        json!({"redirect_uris": ["https://printer.example/cb", "http://127.0.0.1/loop"]}),
    )
    .await;
    let mut b = Browser::new(&server);
    let evil = [
        "https://evil.example/cb",
        "https://printer.example/cb/",
        "https://printer.example/c",
        "https://printer.example/cb?x=1",
        "https://printer.example/cb#frag",
        "https://printer.example.evil.example/cb",
        "https://printer.example@evil.example/cb",
        "https://evil.example@printer.example/cb",
        "http://printer.example/cb",
        "https://printer.example:8443/cb",
        "https://PRINTER.example/cb",
        "https://printer.example/%63b",
        "https://printer.example/cb%2f..",
        "http://127.0.0.1:8080/loop/x",
        "http://localhost:8080/loop",
        "javascript:alert(1)",
    ];
    for uri in evil {
        let url = authorize_url(&app, uri, "");
        let resp = b.get(&url).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{uri}");
        assert!(resp.headers().get("location").is_none(), "{uri}");
        assert!(
            resp.text().await.unwrap().contains("not registered"),
            "{uri}"
        );
    }
    for q in [
        "response_type=code&redirect_uri=https://printer.example/cb".to_string(),
        "response_type=code&client_id=cli_000000000000000000000000&redirect_uri=https://printer.example/cb".into(),
        format!("response_type=code&client_id={}&client_id={}", app.id, app.id),
    ] {
        let resp = b.get(&format!("/oauth/authorize?{q}")).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{q}");
        assert!(resp.headers().get("location").is_none());
    }
    // Two URIs registered: redirect_uri may not be left out.
    let resp = b
        .get(&format!(
            "/oauth/authorize?response_type=code&client_id={}",
            app.id
        ))
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // Loopback registered without a port: any port.
    let resp = b
        .get(&authorize_url(&app, "http://127.0.0.1:49152/loop", ""))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

/// After the client and redirect URI check out, errors go to the client.
#[tokio::test]
async fn request_errors_are_redirected_with_the_state() {
    let server = TestServer::start().await;
    let app = web_app(&server, json!({"grant_types": ["authorization_code"]})).await;
    let public = web_app(&server, json!({"type": "public", "redirect_uris": ["http://127.0.0.1/cb"], "grant_types": ["authorization_code"]})).await;
    let plain_ok = web_app(&server, json!({"allow_plain_pkce": true})).await;
    let mut b = Browser::new(&server);
    let base = |app: &OAuthClient, uri: &str| {
        format!(
            "/oauth/authorize?client_id={}&redirect_uri={}&state=s1",
            app.id,
            form_urlencoded::byte_serialize(uri.as_bytes()).collect::<String>()
        )
    };
    let challenge = pkce::s256(VERIFIER);
    let cases: Vec<(String, &str)> = vec![
        (base(&app, CB), "invalid_request"),
        (
            format!("{}&response_type=id_token", base(&app, CB)),
            "unsupported_response_type",
        ),
        (
            format!("{}&response_type=token", base(&app, CB)),
            "unauthorized_client",
        ),
        (
            format!("{}&response_type=code&scope=manageJobs", base(&app, CB)),
            "invalid_scope",
        ),
        (
            format!("{}&response_type=code&scope=bad\"scope", base(&app, CB)),
            "invalid_scope",
        ),
        (
            format!(
                "{}&response_type=code&code_challenge={challenge}&code_challenge_method=S512",
                base(&app, CB)
            ),
            "invalid_request",
        ),
        (
            format!(
                "{}&response_type=code&code_challenge={challenge}&code_challenge_method=plain",
                base(&app, CB)
            ),
            "invalid_request",
        ),
        (
            format!("{}&response_type=code&code_challenge=short", base(&app, CB)),
            "invalid_request",
        ),
        (
            format!(
                "{}&response_type=code",
                base(&public, "http://127.0.0.1:5000/cb")
            ),
            "invalid_request",
        ),
    ];
    for (url, code) in cases {
        let resp = b.get(&url).await;
        assert_eq!(resp.status(), StatusCode::FOUND, "{url}");
        let loc = location(&resp);
        let p = params_of(&loc, if loc.contains('#') { '#' } else { '?' });
        assert_eq!(
            p.get("error").map(String::as_str),
            Some(code),
            "{url} → {loc}"
        );
        assert_eq!(p["state"], "s1");
        assert!(!p["error_description"].is_empty());
    }
    // plain where allowed: accepted (the login page shows).
    let url = format!(
        "{}&response_type=code&code_challenge={VERIFIER}&code_challenge_method=plain",
        base(&plain_ok, CB)
    );
    assert_eq!(b.get(&url).await.status(), StatusCode::OK);
}

/// A public client gets the code on the `oob` page (and the `oob:auto` page)
/// and redeems it with PKCE alone; a loopback redirect registered without a
/// port works on any port; `response_type=token` with `oob` shows the token
/// (and no refresh token) in the page title.
#[tokio::test]
async fn installed_apps_get_oob_pages_and_loopback_redirects() {
    let server = TestServer::start().await;
    new_user(&server).await;
    let app = web_app(&server, json!({
        "type": "public",
        "redirect_uris": ["urn:ietf:wg:oauth:2.0:oob", "urn:ietf:wg:oauth:2.0:oob:auto", "http://localhost/cb"],
        "grant_types": ["authorization_code", "refresh_token", "implicit"],
    }))
    .await;
    let mut b = Browser::new(&server);

    let resp = b
        .sign_in_and_allow(
            &authorize_url(&app, "urn:ietf:wg:oauth:2.0:oob", ""),
            "pat",
            "pat-password",
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let page = resp.text().await.unwrap();
    let t = title(&page);
    assert!(t.starts_with("Success code=lk_ac_"), "{t}");
    assert!(t.ends_with("&state=st-123 & more"), "{t}");
    assert!(page.contains("Copy the code"));
    let code = t["Success code=".len()..]
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let resp = redeem(&server, &app, &code, "urn:ietf:wg:oauth:2.0:oob").await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "public client, PKCE, no secret"
    );
    let tok: serde_json::Value = resp.json().await.unwrap();
    assert!(tok["refresh_token"].is_string());

    let resp = b
        .get(&authorize_url(&app, "urn:ietf:wg:oauth:2.0:oob:auto", ""))
        .await;
    let page = resp.text().await.unwrap();
    assert!(title(&page).starts_with("Success code=lk_ac_"));
    assert!(page.contains("close this window"));

    let resp = b
        .get(&authorize_url(&app, "http://localhost:61234/cb", ""))
        .await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    let loc = location(&resp);
    assert!(loc.starts_with("http://localhost:61234/cb?code="), "{loc}");
    let code = params_of(&loc, '?')["code"].clone();
    redeem_json(&server, &app, &code, "http://localhost:61234/cb").await;

    // Imagen's example: response_type=token with the oob redirect.
    let q = format!(
        "/oauth/authorize?response_type=token&client_id={}&redirect_uri=urn:ietf:wg:oauth:2.0:oob&scope=readUsersData&state=x",
        app.id
    );
    let resp = b.get(&q).await;
    let page = resp.text().await.unwrap();
    let t = title(&page);
    assert!(t.starts_with("Success access_token=lk_at_"), "{t}");
    assert!(
        t.contains("&token_type=Bearer&expires_in=3600&scope=readUsersData&state=x"),
        "{t}"
    );
    assert!(!t.contains("refresh_token"));
}

/// The implicit grant redirects with the access token, its type, scope and the
/// state in the fragment, never a refresh token; the token works.
#[tokio::test]
async fn implicit_tokens_come_in_the_fragment() {
    let server = TestServer::start().await;
    new_user(&server).await;
    let app = web_app(&server, json!({})).await;
    let mut b = Browser::new(&server);
    let url = format!(
        "/oauth/authorize?response_type=token&client_id={}&redirect_uri=https://printer.example/cb&state=abc&scope=read",
        app.id
    );
    let resp = b.sign_in_and_allow(&url, "pat", "pat-password").await;
    let loc = location(&resp);
    assert!(
        loc.starts_with("https://printer.example/cb#access_token="),
        "{loc}"
    );
    let p = params_of(&loc, '#');
    assert_eq!(p["token_type"], "Bearer");
    assert_eq!(p["scope"], "read");
    assert_eq!(p["state"], "abc");
    assert!(!p.contains_key("refresh_token"));
    assert_eq!(me_status(&server, &p["access_token"]).await, StatusCode::OK);
}

/// A code redeems only for its client, its redirect URI and its verifier
/// (a code issued without a challenge not with one either), once, within ten
/// minutes; a replay by its own client revokes what the first redemption issued.
#[tokio::test]
async fn codes_are_bound_single_use_and_short_lived() {
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000)));
    let server = TestServer::builder().clock(clock.clone()).start().await;
    new_user(&server).await;
    let app = web_app(&server, json!({})).await;
    let other = web_app(&server, json!({})).await;
    let mut b = Browser::new(&server);
    let code = first_code(&mut b, &app, CB, "").await;

    // Another client, another redirect URI, a wrong verifier, no verifier.
    let resp = redeem(&server, &other, &code, CB).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
    // (A failed attempt by another client used the code up: start again.)
    let code = fresh_code(&mut b, &app, CB).await;
    let resp = redeem(&server, &app, &code, "https://printer.example/other").await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let code = fresh_code(&mut b, &app, CB).await;
    let wrong_verifier = format!("{VERIFIER}x");
    let grant = Grant::code(&code, CB).verifier(&wrong_verifier);
    let resp = server.token(app.auth(), grant).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let code = fresh_code(&mut b, &app, CB).await;
    let resp = server.token(app.auth(), Grant::code(&code, CB)).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;

    // A replayed code fails and revokes what the first redemption issued.
    let code = fresh_code(&mut b, &app, CB).await;
    let t = redeem_json(&server, &app, &code, CB).await;
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(me_status(&server, access).await, StatusCode::OK);
    let resp = redeem(&server, &app, &code, CB).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_eq!(me_status(&server, access).await, StatusCode::UNAUTHORIZED);
    let refresh = Grant::refresh(t["refresh_token"].as_str().unwrap());
    let resp = server.token(app.auth(), refresh).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;

    // Ten minutes at most.
    let code = fresh_code(&mut b, &app, CB).await;
    clock.advance(600);
    let resp = redeem(&server, &app, &code, CB).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;

    // PKCE downgrade: a code issued without a challenge, redeemed with a verifier.
    let url = format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri={CB}",
        app.id
    );
    let resp = b.get(&url).await;
    let code = params_of(&location(&resp), '?')["code"].clone();
    let resp = redeem(&server, &app, &code, CB).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

/// Eight refreshes of one token at once: exactly one wins, the others are
/// reuse, so the whole grant is revoked (RFC 9700), the winner's tokens too.
#[tokio::test]
async fn concurrent_refreshes_exactly_one_wins() {
    let server = TestServer::start().await;
    new_user(&server).await;
    let app = web_app(&server, json!({})).await;
    let mut b = Browser::new(&server);
    let code = first_code(&mut b, &app, CB, "").await;
    let t = redeem_json(&server, &app, &code, CB).await;
    let refresh = t["refresh_token"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (client, url, id, secret, refresh) = (
            server.client.clone(),
            server.url("/oauth/token"),
            app.id.clone(),
            app.secret().to_owned(),
            refresh.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let resp = client
                .post(url)
                .basic_auth(id, Some(secret))
                .form(&Grant::refresh(&refresh).params())
                .send()
                .await
                .unwrap();
            (resp.status(), resp.json::<Value>().await.unwrap())
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        if status == StatusCode::OK {
            winners.push(body);
        } else {
            assert_eq!(body["error"], "invalid_grant", "{body}");
        }
    }
    assert_eq!(winners.len(), 1);
    // The others presented a spent token: reuse, so the whole grant is revoked
    // (RFC 9700), the winner's new tokens included.
    let won = &winners[0];
    assert_eq!(
        me_status(&server, won["access_token"].as_str().unwrap()).await,
        StatusCode::UNAUTHORIZED
    );
    let refresh = Grant::refresh(won["refresh_token"].as_str().unwrap());
    let resp = server.token(app.auth(), refresh).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

/// A new client secret with revoke_tokens ends its users' grants too: refresh
/// tokens and codes issued before it no longer work.
#[tokio::test]
async fn revoking_a_clients_tokens_ends_its_grants() {
    let server = TestServer::start().await;
    new_user(&server).await;
    let app = web_app(&server, json!({})).await;
    let mut b = Browser::new(&server);
    let code = first_code(&mut b, &app, CB, "").await;
    let t = redeem_json(&server, &app, &code, CB).await;
    let pending = fresh_code(&mut b, &app, CB).await;
    let doc: Value = server
        .as_admin(
            Method::POST,
            &format!("/api/v1/clients/{}/secret?revoke_tokens=true", app.id),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let app = OAuthClient::of(&doc);
    let refresh = t["refresh_token"].as_str().unwrap();
    let resp = server.token(app.auth(), Grant::refresh(refresh)).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let resp = redeem(&server, &app, &pending, CB).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_eq!(
        me_status(&server, t["access_token"].as_str().unwrap()).await,
        StatusCode::UNAUTHORIZED
    );
    let intro = server.introspect_json(app.auth(), refresh).await;
    assert_eq!(intro, json!({"active": false}));
}

/// A password change ends browser sessions.
#[tokio::test]
async fn a_password_change_signs_the_browser_out() {
    let server = TestServer::start().await;
    let pat = server.create_user("pat", "pat-password", &["member"]).await;
    let app = web_app(&server, json!({})).await;
    let url = authorize_url(&app, CB, "");
    let mut b = Browser::new(&server);
    b.sign_in_and_allow(&url, "pat", "pat-password").await;
    assert_eq!(b.get(&url).await.status(), StatusCode::FOUND);
    let resp = server
        .as_admin(
            Method::PATCH,
            &format!("/api/v1/users/{}", pat["id"].as_str().unwrap()),
        )
        .json(&json!({"password": "pat-new-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = b.get(&url).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("name=\"password\""));
}

/// Introspection describes a live refresh token; revoking it (with the hint)
/// also revokes the access tokens it issued, and it no longer refreshes.
#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_access_tokens() {
    let server = TestServer::start().await;
    new_user(&server).await;
    let app = web_app(&server, json!({})).await;
    let mut b = Browser::new(&server);
    let code = first_code(&mut b, &app, CB, "").await;
    let t = redeem_json(&server, &app, &code, CB).await;
    let (access, refresh) = (
        t["access_token"].as_str().unwrap(),
        t["refresh_token"].as_str().unwrap(),
    );
    let intro = server.introspect_json(app.auth(), refresh).await;
    assert_eq!(intro["active"], true);
    assert_eq!(intro["token_type"], "refresh_token");
    assert_eq!(intro["username"], "pat");
    let hinted = [("token", refresh), ("token_type_hint", "refresh_token")];
    let resp = server
        .oauth_form("/oauth/revoke", app.auth(), &hinted)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(me_status(&server, access).await, StatusCode::UNAUTHORIZED);
    let resp = server.token(app.auth(), Grant::refresh(refresh)).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

/// The metadata names the authorization endpoint, both response types, both
/// PKCE methods, every grant, and `none` for public clients.
#[tokio::test]
async fn metadata_lists_the_authorization_endpoint() {
    let server = TestServer::start().await;
    let m = server.metadata().await;
    assert_eq!(m["authorization_endpoint"], server.url("/oauth/authorize"));
    assert_eq!(m["response_types_supported"], json!(["code", "token"]));
    assert_eq!(
        m["code_challenge_methods_supported"],
        json!(["S256", "plain"])
    );
    assert_eq!(
        m["grant_types_supported"],
        json!([
            "authorization_code",
            "client_credentials",
            "refresh_token",
            "implicit"
        ])
    );
    assert!(m["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("none")));
}

/// `/oauth/authorize` for the swagger-ui client with an S256 challenge and `redirect`.
fn swagger_ui_url(redirect: &str) -> String {
    format!(
        "/oauth/authorize?response_type=code&client_id=swagger-ui&redirect_uri={}&code_challenge={}&code_challenge_method=S256",
        form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>(),
        pkce::s256(VERIFIER),
    )
}

/// The built-in swagger-ui client's redirect URI is a path on this server's own
/// origin: the loopback host it was reached at, or `--public-url`; a Host
/// header naming another host (DNS rebinding) does not make it a target.
#[tokio::test]
async fn swagger_ui_redirects_only_to_this_servers_origin() {
    let server = TestServer::start().await;
    let mut b = Browser::new(&server);
    let own = format!("{}/docs/oauth-receiver.html", server.base);
    assert_eq!(b.get(&swagger_ui_url(&own)).await.status(), StatusCode::OK);
    let resp = server
        .get(&swagger_ui_url(
            "http://evil.example:8080/docs/oauth-receiver.html",
        ))
        .header("host", "evil.example:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get("location").is_none());
    let resp = b
        .get(&swagger_ui_url(
            "http://127.0.0.1:1/docs/oauth-receiver.html",
        ))
        .await;
    assert_eq!(
        resp.status(),
        StatusCode::BAD_REQUEST,
        "another port is another origin"
    );

    let public = TestServer::builder()
        .config(|c| c.public_url = Some("https://auth.example.test".into()))
        .start()
        .await;
    let mut b = Browser::new(&public);
    let resp = b
        .get(&swagger_ui_url(
            "https://auth.example.test/docs/oauth-receiver.html",
        ))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().unwrap().contains("; Secure")));
}

/// Deleting a client forgets the consents given to it: a client registered
/// again under the same id (a seed) asks again.
#[tokio::test]
async fn deleting_a_client_forgets_its_consents() {
    let server = TestServer::start().await;
    new_user(&server).await;
    let app = web_app(&server, json!({})).await;
    let mut b = Browser::new(&server);
    b.sign_in_and_allow(&authorize_url(&app, CB, ""), "pat", "pat-password")
        .await;
    let store = &server.state.store;
    let pat_id = || store.users().get_by_username("pat").unwrap().unwrap().id;
    assert_eq!(
        store
            .grants()
            .consent(pat_id().as_str(), &app.id)
            .unwrap()
            .map(|c| c.scopes.len()),
        Some(2)
    );
    let resp = server
        .as_admin(Method::DELETE, &format!("/api/v1/clients/{}", app.id))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(store
        .grants()
        .consent(&pat_id(), &app.id)
        .unwrap()
        .is_none());
}

/// Without `state` none comes back; with one it comes back verbatim, however odd.
#[tokio::test]
async fn state_is_echoed_exactly_when_sent() {
    let server = TestServer::start().await;
    new_user(&server).await;
    let app = web_app(&server, json!({"skip_consent": true})).await;
    let mut b = Browser::new(&server);
    let base = format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri={CB}",
        app.id
    );
    let page = b.get(&base).await.text().await.unwrap();
    let resp = b
        .submit(&page, &[("username", "pat"), ("password", "pat-password")])
        .await;
    let p = params_of(&location(&resp), '?');
    assert!(p.contains_key("code") && !p.contains_key("state"), "{p:?}");
    let odd = "a=b&c=d#e f/é";
    let q = form_urlencoded::byte_serialize(odd.as_bytes()).collect::<String>();
    let resp = b.get(&format!("{base}&state={q}")).await;
    assert_eq!(params_of(&location(&resp), '?')["state"], odd);
}

/// A scope taken away from the client is gone from the tokens its existing
/// grants mint next.
#[tokio::test]
async fn refreshes_follow_the_clients_current_scopes() {
    let server = TestServer::start().await;
    new_user(&server).await;
    let app = web_app(&server, json!({})).await;
    let mut b = Browser::new(&server);
    let code = first_code(&mut b, &app, CB, "&scope=read+readUsersData").await;
    let t = redeem_json(&server, &app, &code, CB).await;
    assert_eq!(t["scope"], "read readUsersData");
    let resp = server
        .as_admin(Method::PATCH, &format!("/api/v1/clients/{}", app.id))
        .json(&json!({"scopes": ["readUsersData", "modifyUsersData"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let refresh = Grant::refresh(t["refresh_token"].as_str().unwrap());
    let t2 = server.token_json(app.auth(), refresh).await;
    assert_eq!(t2["scope"], "readUsersData", "{t2}");
}

/// A first-party client still asks before handing out latchkey's own powers.
#[tokio::test]
async fn first_party_clients_still_ask_for_latchkey_scopes() {
    let server = TestServer::start().await;
    new_user(&server).await;
    let app = web_app(
        &server,
        json!({"skip_consent": true, "scopes": ["read", "keys:read"]}),
    )
    .await;
    let mut b = Browser::new(&server);
    let page = b
        .get(&authorize_url(&app, CB, "&scope=read+keys:read"))
        .await
        .text()
        .await
        .unwrap();
    let resp = b
        .submit(&page, &[("username", "pat"), ("password", "pat-password")])
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("name=\"decision\""));
    // Without them, first-party means no question.
    let resp = b.get(&authorize_url(&app, CB, "&scope=read")).await;
    assert_eq!(resp.status(), StatusCode::FOUND);
}

/// Another client replaying a spent code cannot end the grant it came from.
#[tokio::test]
async fn a_code_replayed_by_another_client_revokes_nothing() {
    let server = TestServer::start().await;
    new_user(&server).await;
    let app = web_app(&server, json!({})).await;
    let other = web_app(&server, json!({})).await;
    let mut b = Browser::new(&server);
    let code = first_code(&mut b, &app, CB, "").await;
    let t = redeem_json(&server, &app, &code, CB).await;
    let resp = redeem(&server, &other, &code, CB).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_eq!(
        me_status(&server, t["access_token"].as_str().unwrap()).await,
        StatusCode::OK
    );
}

/// Reached under a name that is not loopback and without --public-url, the
/// server does not know its own origin: the swagger-ui client has no redirect.
#[tokio::test]
async fn swagger_ui_needs_a_known_origin() {
    let server = TestServer::start().await;
    let challenge = pkce::s256(VERIFIER);
    let resp = server
        .get(&format!(
            "/oauth/authorize?response_type=code&client_id=swagger-ui&code_challenge={challenge}&code_challenge_method=S256"
        ))
        .header("host", "latchkey.internal:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get("location").is_none());
    assert!(resp.text().await.unwrap().contains("--public-url"));
}
