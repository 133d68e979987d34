//! Authenticating to `/api/v1`: Basic now, and every way a credential can be bad.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{challenges, expect_error, expect_error_naming, TestServer, ADMIN_PASSWORD};

/// The bootstrap admin can call /users/me with Basic and sees its roles and scopes.
#[tokio::test]
async fn basic_auth_reports_the_caller() {
    let server = TestServer::start().await;
    let resp = server
        .as_admin(Method::GET, "/api/v1/users/me")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let me: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(me["username"], "admin");
    assert_eq!(me["roles"], json!(["admin"]));
    assert_eq!(me["auth_method"], "basic");
    assert!(me["scopes"]
        .as_array()
        .unwrap()
        .contains(&json!("users:write")));
    assert!(me.get("password_hash").is_none() && me.get("password").is_none());
}

/// No header: 401, JSON, and challenges for both Basic and Bearer.
#[tokio::test]
async fn missing_credentials_get_401_with_challenges() {
    let server = TestServer::start().await;
    let resp = server.get("/api/v1/users/me").send().await.unwrap();
    let ch = challenges(&resp);
    assert!(
        ch.iter().any(|c| c.starts_with("Basic realm=\"latchkey\"")),
        "{ch:?}"
    );
    assert!(
        ch.iter()
            .any(|c| c.starts_with("Bearer realm=\"latchkey\"")),
        "{ch:?}"
    );
    expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

/// Wrong password and unknown user get the same answer, so usernames cannot be probed.
#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let server = TestServer::start().await;
    let wrong = server
        .get("/api/v1/users/me")
        .basic_auth("admin", Some("not-the-password"))
        .send()
        .await
        .unwrap();
    let a = expect_error(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let unknown = server
        .get("/api/v1/users/me")
        .basic_auth("nobody", Some("not-the-password"))
        .send()
        .await
        .unwrap();
    let b = expect_error(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(a, b);
}

/// Usernames are case-insensitive at login too.
#[tokio::test]
async fn login_ignores_username_case() {
    let server = TestServer::start().await;
    let resp = server
        .get("/api/v1/users/me")
        .basic_auth("ADMIN", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// A disabled user is refused at once, even with a cached successful login,
/// and works again when re-enabled.
#[tokio::test]
async fn disabling_takes_effect_at_once() {
    let server = TestServer::start().await;
    let user = server
        .create_user("dora", "dora-password", &["member"])
        .await;
    let id = user["id"].as_str().unwrap();
    let me = || {
        server
            .get("/api/v1/users/me")
            .basic_auth("dora", Some("dora-password"))
            .send()
    };
    assert_eq!(me().await.unwrap().status(), StatusCode::OK);

    let resp = server
        .as_admin(Method::PATCH, &format!("/api/v1/users/{id}"))
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    expect_error(
        me().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "account_disabled",
    )
    .await;

    server
        .as_admin(Method::PATCH, &format!("/api/v1/users/{id}"))
        .json(&json!({"disabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(me().await.unwrap().status(), StatusCode::OK);
}

/// A changed password works at once and the old one stops at once, although
/// the old one was in the verified-credentials cache.
#[tokio::test]
async fn a_password_change_takes_effect_at_once() {
    let server = TestServer::start().await;
    let user = server.create_user("pat", "old-password", &["member"]).await;
    let id = user["id"].as_str().unwrap();
    let me = |pw: &'static str| {
        server
            .get("/api/v1/users/me")
            .basic_auth("pat", Some(pw))
            .send()
    };
    assert_eq!(me("old-password").await.unwrap().status(), StatusCode::OK);
    assert!(!server.state.login_cache.is_empty(), "the login was cached");

    server
        .as_admin(Method::PATCH, &format!("/api/v1/users/{id}"))
        .json(&json!({"password": "new-password"}))
        .send()
        .await
        .unwrap();
    expect_error(
        me("old-password").await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(me("new-password").await.unwrap().status(), StatusCode::OK);
}

/// A deleted user's cached login stops working.
#[tokio::test]
async fn a_deleted_user_is_refused_despite_the_cache() {
    let server = TestServer::start().await;
    let user = server
        .create_user("gone", "gone-password", &["member"])
        .await;
    let me = || {
        server
            .get("/api/v1/users/me")
            .basic_auth("gone", Some("gone-password"))
            .send()
    };
    assert_eq!(me().await.unwrap().status(), StatusCode::OK);
    let resp = server
        .as_admin(
            Method::DELETE,
            &format!("/api/v1/users/{}", user["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    expect_error(
        me().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

/// Malformed, non-UTF-8, non-ASCII, unknown-scheme and enormous Authorization
/// values all get 401 with the JSON error, never 400 or 500.
#[tokio::test]
async fn malformed_authorization_headers_get_401() {
    let server = TestServer::start().await;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not base64", b"Basic %%%".to_vec()),
        ("no colon", b"Basic bm9jb2xvbg==".to_vec()),
        ("scheme only", b"Basic".to_vec()),
        ("unknown scheme", b"Digest username=x".to_vec()),
        ("non-UTF-8 bytes", b"Basic \xff\xfe\xfd".to_vec()),
        ("non-UTF-8 inside base64", b"Basic /w==".to_vec()),
        ("huge", [b"Basic ".to_vec(), vec![b'A'; 16 * 1024]].concat()),
    ];
    for (what, value) in cases {
        let resp = server
            .get("/api/v1/users/me")
            .header(
                "authorization",
                reqwest::header::HeaderValue::from_bytes(&value).unwrap(),
            )
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body = resp.text().await.unwrap();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        let json: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|_| panic!("{what}: {body}"));
        assert!(json["error"].is_string(), "{what}: {body}");
    }
}

/// Bearer tokens of unknown kind are refused with RFC 6750's invalid_token.
#[tokio::test]
async fn unknown_bearer_tokens_are_invalid_tokens() {
    let server = TestServer::start().await;
    for scheme in ["Bearer", "OAuth"] {
        let resp = server
            .get("/api/v1/users/me")
            .header("authorization", format!("{scheme} lk_key_doesnotexist"))
            .send()
            .await
            .unwrap();
        assert!(challenges(&resp)
            .iter()
            .any(|c| c.contains("error=\"invalid_token\"")));
        expect_error(resp, StatusCode::UNAUTHORIZED, "invalid_token").await;
    }
}

/// `--no-basic-auth` refuses Basic and stops advertising it.
#[tokio::test]
async fn basic_auth_can_be_turned_off() {
    let server = TestServer::builder()
        .config(|c| c.basic_auth = false)
        .start()
        .await;
    let resp = server
        .as_admin(Method::GET, "/api/v1/users/me")
        .send()
        .await
        .unwrap();
    assert!(challenges(&resp).iter().all(|c| !c.starts_with("Basic")));
    expect_error(resp, StatusCode::UNAUTHORIZED, "basic_auth_disabled").await;
}

/// A member may read /users/me but gets 403 on every admin operation.
#[tokio::test]
async fn members_cannot_use_admin_endpoints() {
    let server = TestServer::start().await;
    let member = server.create_user("mia", "mia-password", &["member"]).await;
    let id = member["id"].as_str().unwrap().to_owned();
    let calls = [
        (Method::GET, "/api/v1/users".to_string(), None),
        (
            Method::POST,
            "/api/v1/users".to_string(),
            Some(json!({"username": "x", "password": "xxxxxxxx"})),
        ),
        (Method::GET, format!("/api/v1/users/{id}"), None),
        (
            Method::PATCH,
            format!("/api/v1/users/{id}"),
            Some(json!({"roles": ["admin"]})),
        ),
        (Method::DELETE, format!("/api/v1/users/{id}"), None),
    ];
    for (method, path, body) in calls {
        let mut req = server
            .request(method.clone(), &path)
            .basic_auth("mia", Some("mia-password"));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let me = server
        .get("/api/v1/users/me")
        .basic_auth("mia", Some("mia-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    // The member is still a member: the PATCH above changed nothing.
    let after = server
        .as_admin(Method::GET, &format!("/api/v1/users/{id}"))
        .send()
        .await
        .unwrap();
    let after: serde_json::Value = after.json().await.unwrap();
    assert_eq!(after["roles"], json!(["member"]));
}

/// The credential check runs before the body is read: an unauthenticated caller
/// learns nothing from a malformed body (401, not 400).
#[tokio::test]
async fn authentication_comes_before_body_parsing() {
    let server = TestServer::start().await;
    let resp = server
        .post("/api/v1/users")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

/// Guessing passwords over Basic slows down per username like the login page:
/// from the fifth failure in a row even the right password waits.
#[tokio::test]
async fn basic_guessing_slows_down() {
    let clock = std::sync::Arc::new(latchkey::clock::ManualClock::new(
        latchkey::domain::time::Timestamp(1_800_000_000),
    ));
    let server = TestServer::builder().clock(clock.clone()).start().await;
    server
        .create_user("victim", "victim-password", &["member"])
        .await;
    let me = |pw: &'static str| {
        server
            .get("/api/v1/users/me")
            .basic_auth("victim", Some(pw))
            .send()
    };
    for _ in 0..5 {
        let resp = me("wrong-password").await.unwrap();
        expect_error(resp, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    let resp = me("victim-password").await.unwrap();
    expect_error_naming(
        resp,
        StatusCode::UNAUTHORIZED,
        "too_many_attempts",
        "2 seconds",
    )
    .await;
    // Other users are not affected; the wait ends.
    let resp = server
        .as_admin(reqwest::Method::GET, "/api/v1/users/me")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    clock.advance(2);
    assert_eq!(
        me("victim-password").await.unwrap().status(),
        StatusCode::OK
    );
}
