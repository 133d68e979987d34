//! The authorization-code flow with PKCE, start to finish in a scripted
//! browser, and what a code is bound to: its client, redirect URI, verifier and
//! ten minutes, used once; the state comes back exactly as sent; the metadata
//! names the endpoint.

use std::sync::Arc;

use latchkey::clock::ManualClock;
use latchkey::domain::time::Timestamp;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::code_flow::{
    authorize_url, first_code, fresh_code, me_status, new_user, redeem, redeem_json, web_app, CB,
    VERIFIER,
};
use crate::common::{expect_error, location, params_of, Browser, Grant, TestServer};

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

/// The metadata names the authorization endpoint, every response type (OAuth
/// and OIDC's), both PKCE methods, every grant, and `none` for public clients.
#[tokio::test]
async fn metadata_lists_the_authorization_endpoint() {
    let server = TestServer::start().await;
    let m = server.metadata().await;
    assert_eq!(m["authorization_endpoint"], server.url("/oauth/authorize"));
    assert_eq!(
        m["response_types_supported"],
        json!([
            "code",
            "token",
            "id_token",
            "id_token token",
            "code id_token",
            "code token",
            "code id_token token"
        ])
    );
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
            "implicit",
            "password"
        ])
    );
    assert!(m["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("none")));
}
