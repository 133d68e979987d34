//! Refresh tokens after the code flow: rotation under concurrency, reuse
//! detection, revocation of one token or of a client's whole grants, and
//! refreshes that follow the client's current scopes.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::code_flow::{
    first_code, fresh_code, me_status, new_user, redeem, redeem_json, web_app, CB,
};
use crate::common::{expect_error, Browser, Grant, OAuthClient, TestServer};

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
