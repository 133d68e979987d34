//! The login and consent pages: sessions and remembered consent, first-party
//! clients, denial, failed logins that look alike and slow down, the CSRF
//! token, and what ends a session or a consent.

use std::sync::Arc;

use latchkey::clock::ManualClock;
use latchkey::domain::time::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::code_flow::{authorize_url, new_user, web_app, CB};
use crate::common::{hidden_inputs, location, params_of, Browser, TestServer};

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
