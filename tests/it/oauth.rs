//! The OAuth endpoints: `/oauth/token` (client_credentials), access tokens on
//! the API, introspection, revocation, metadata, and the lifecycle of tokens
//! when their client is disabled, deleted or gets a new secret.

use std::sync::Arc;

use latchkey::clock::ManualClock;
use latchkey::domain::time::Timestamp;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::common::{
    challenges, expect_error, expect_json, ClientAuth, Grant, OAuthClient, TestServer, ADMIN,
};

/// A client_credentials client registered by `owner`, whose tokens act as them.
async fn client_of(server: &TestServer, owner: (&str, &str)) -> (OAuthClient, Value) {
    let resp = server
        .register_client(
            owner,
            json!({"name": "o", "type": "confidential", "grant_types": ["client_credentials"]}),
        )
        .await;
    let doc = expect_json(resp, StatusCode::CREATED).await;
    (OAuthClient::of(&doc), doc)
}

/// A confidential client_credentials client of admin's with `read`, `write`
/// and `keys:read`, and `extra` fields.
async fn machine_client(server: &TestServer, extra: Value) -> OAuthClient {
    let mut body = json!({"name": "svc", "type": "confidential", "grant_types": ["client_credentials"], "scopes": ["read", "write", "keys:read"]});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    OAuthClient::of(&server.admin_client(body).await)
}

/// The `client_credentials` grant for all of the client's scopes.
fn cc() -> Grant<'static> {
    Grant::client_credentials()
}

/// A client_credentials access token for `c` (client_secret_basic).
async fn access_token(server: &TestServer, c: &OAuthClient) -> String {
    let body = server.token_json(c.basic(), cc()).await;
    body["access_token"].as_str().unwrap().to_owned()
}

/// `GET /api/v1/users/me` with `Authorization: {scheme} {token}`.
async fn me(server: &TestServer, scheme: &str, token: &str) -> Response {
    server
        .get("/api/v1/users/me")
        .header("authorization", format!("{scheme} {token}"))
        .send()
        .await
        .unwrap()
}

/// The API refuses `token`: 401 `invalid_token` with a Bearer challenge saying so.
async fn assert_refused(server: &TestServer, token: &str) {
    let resp = server.me_bearer(token).await;
    let ch = challenges(&resp);
    expect_error(resp, StatusCode::UNAUTHORIZED, "invalid_token").await;
    assert!(
        ch.iter()
            .any(|c| c.starts_with("Bearer") && c.contains(r#"error="invalid_token""#)),
        "{ch:?}"
    );
}

async fn admin_post(server: &TestServer, path: &str) -> Response {
    server.as_admin(Method::POST, path).send().await.unwrap()
}

/// client_credentials works with the credentials in a Basic header or in the
/// body, and the parameters in a form, a JSON object or the query string; the
/// answer is never cached and carries the client's lifetime and the scope.
#[tokio::test]
async fn client_credentials_in_every_encoding_and_auth_method() {
    let server = TestServer::start().await;
    let c = machine_client(&server, json!({"access_token_ttl_seconds": 300})).await;
    let secret = c.secret();

    let basic_form = server.token(c.basic(), cc().scope("read")).await;
    let post_form = server.token(c.post(), cc().scope("read")).await;
    let json_body = server
        .post("/oauth/token")
        .json(&json!({"grant_type": "client_credentials", "client_id": c.id, "client_secret": secret, "scope": "read"}))
        .send()
        .await
        .unwrap();
    let query = server
        .post(&format!(
            "/oauth/token?grant_type=client_credentials&client_id={}&client_secret={secret}&scope=read",
            c.id
        ))
        .send()
        .await
        .unwrap();
    let basic_json = server
        .post("/oauth/token")
        .basic_auth(&c.id, Some(secret))
        .json(&json!({"grant_type": "client_credentials", "scope": "read"}))
        .send()
        .await
        .unwrap();
    for resp in [basic_form, post_form, json_body, query, basic_json] {
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["cache-control"], "no-store");
        assert_eq!(resp.headers()["pragma"], "no-cache");
        let body: Value = resp.json().await.unwrap();
        assert!(body["access_token"].as_str().unwrap().starts_with("lk_at_"));
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 300);
        assert_eq!(body["scope"], "read");
        assert!(body.get("refresh_token").is_none());
    }
}

/// Without `scope` a token gets all the client's scopes and the server's
/// default lifetime; a requested scope must be a subset of the client's.
#[tokio::test]
async fn scope_defaults_to_all_and_must_be_a_subset() {
    let server = TestServer::start().await;
    let c = machine_client(&server, json!({})).await;
    let body = server.token_json(c.basic(), cc()).await;
    assert_eq!(body["scope"], "keys:read read write");
    assert_eq!(body["expires_in"], 3600, "the server default lifetime");
    let body = server.token_json(c.basic(), cc().scope("write read")).await;
    assert_eq!(body["scope"], "write read");
    for bad in ["admin", "read content:read", "re\"ad"] {
        let resp = server.token(c.basic(), cc().scope(bad)).await;
        expect_error(resp, StatusCode::BAD_REQUEST, "invalid_scope").await;
    }
}

/// RFC 6749 §5.2, each error with its status.
#[tokio::test]
async fn every_token_endpoint_error() {
    let server = TestServer::start().await;
    let c = machine_client(&server, json!({})).await;
    let secret = c.secret();
    let grant = [("grant_type", "client_credentials")];

    // invalid_request: no grant_type, a repeated parameter, two auth methods.
    let resp = server
        .oauth_form("/oauth/token", c.basic(), &[("scope", "read")])
        .await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    let resp = server
        .post("/oauth/token")
        .basic_auth(&c.id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=read&scope=write")
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    let both = [grant[0], ("client_secret", secret)];
    let resp = server.oauth_form("/oauth/token", c.basic(), &both).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    let resp = server
        .post("/oauth/token")
        .header("content-type", "text/plain")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;

    // invalid_client: wrong secret (Basic → challenge), unknown client, none at all.
    let resp = server
        .token(ClientAuth::Basic(&c.id, "lk_cs_wrong"), cc())
        .await;
    let ch = challenges(&resp);
    expect_error(resp, StatusCode::UNAUTHORIZED, "invalid_client").await;
    assert!(ch.iter().any(|c| c.starts_with("Basic")), "{ch:?}");
    let unknown = ClientAuth::Post("cli_000000000000000000000000", secret);
    let resp = server.token(unknown, cc()).await;
    expect_error(resp, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let resp = server.token(ClientAuth::Anonymous, cc()).await;
    let ch = challenges(&resp);
    expect_error(resp, StatusCode::UNAUTHORIZED, "invalid_client").await;
    assert!(
        ch.iter().any(|c| c.starts_with("Basic")),
        "every 401 challenges: {ch:?}"
    );
    let resp = server.token(ClientAuth::PublicId(&c.id), cc()).await;
    expect_error(resp, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let resp = server
        .post("/oauth/token")
        .header("authorization", "Basic !!!")
        .form(&grant)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::UNAUTHORIZED, "invalid_client").await;

    // unauthorized_client: a client without the grant.
    let web = server
        .admin_client(json!({"name": "web", "type": "confidential", "grant_types": ["authorization_code"], "redirect_uris": ["https://app.example/cb"]}))
        .await;
    let web = OAuthClient::of(&web);
    let resp = server.token(web.basic(), cc()).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "unauthorized_client").await;

    // unsupported_grant_type.
    for grant in [
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "implicit",
    ] {
        let resp = server
            .oauth_form("/oauth/token", c.basic(), &[("grant_type", grant)])
            .await;
        expect_error(resp, StatusCode::BAD_REQUEST, "unsupported_grant_type").await;
    }

    // invalid_scope.
    let resp = server.token(c.basic(), cc().scope("users:write")).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_scope").await;

    // invalid_grant: the account the client acts as is disabled.
    server
        .create_user("owner", "owner-password", &["client-admin"])
        .await;
    let (owned, doc) = client_of(&server, ("owner", "owner-password")).await;
    let resp = server
        .as_admin(
            Method::PATCH,
            &format!("/api/v1/users/{}", doc["owner_id"].as_str().unwrap()),
        )
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = server.token(owned.basic(), cc()).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn access_tokens_act_as_the_owner_narrowed_to_their_scopes() {
    let server = TestServer::start().await;
    let c = machine_client(&server, json!({})).await;
    let token = access_token(&server, &c).await;
    for scheme in ["Bearer", "OAuth", "bearer"] {
        let resp = me(&server, scheme, &token).await;
        assert_eq!(resp.status(), StatusCode::OK, "{scheme}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["username"], "admin");
        assert_eq!(body["auth_method"], "access_token");
        assert_eq!(body["client_id"], c.id);
        assert_eq!(body["scopes"], json!(["keys:read", "read", "write"]));
    }
    // keys:read is in the token; users:read is not, though the owner is an admin.
    let resp = server
        .get("/api/v1/api-keys")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = server
        .get("/api/v1/users")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::FORBIDDEN, "insufficient_scope").await;
    // A token narrowed further at the token endpoint.
    let body = server.token_json(c.basic(), cc().scope("read")).await;
    let narrow = body["access_token"].as_str().unwrap();
    let resp = server
        .get("/api/v1/api-keys")
        .bearer_auth(narrow)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::FORBIDDEN, "insufficient_scope").await;
}

#[tokio::test]
async fn unknown_and_tampered_tokens_are_refused() {
    let server = TestServer::start().await;
    let c = machine_client(&server, json!({})).await;
    let token = access_token(&server, &c).await;
    assert_eq!(server.me_bearer(&token).await.status(), StatusCode::OK);
    assert_refused(&server, "lk_at_").await;
    assert_refused(&server, "lk_at_AAAA").await;
    assert_refused(&server, &format!("{token}A")).await;
    assert_refused(&server, &token[..token.len() - 1]).await;
    assert_refused(&server, &token.replacen("lk_at_", "lk_xx_", 1)).await;
    // Every character changed, one at a time.
    for i in 0..token.len() {
        let mut bytes = token.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        let resp = server.me_bearer(&tampered).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "position {i}");
    }
}

#[tokio::test]
async fn tokens_expire_with_the_clients_lifetime() {
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000)));
    let server = TestServer::builder().clock(clock.clone()).start().await;
    let c = machine_client(&server, json!({"access_token_ttl_seconds": 60})).await;
    let token = access_token(&server, &c).await;
    clock.advance(59);
    assert_eq!(server.me_bearer(&token).await.status(), StatusCode::OK);
    clock.advance(1);
    assert_refused(&server, &token).await;
    assert_eq!(
        server.introspect_json(c.basic(), &token).await,
        json!({"active": false})
    );
}

#[tokio::test]
async fn disabling_a_client_suspends_its_tokens() {
    let server = TestServer::start().await;
    let c = machine_client(&server, json!({})).await;
    let token = access_token(&server, &c).await;
    let resp = admin_post(&server, &format!("/api/v1/clients/{}/disable", c.id)).await;
    assert_eq!(resp.json::<Value>().await.unwrap()["enabled"], false);
    assert_refused(&server, &token).await;
    let resp = server.token(c.basic(), cc()).await;
    expect_error(resp, StatusCode::UNAUTHORIZED, "invalid_client").await;

    admin_post(&server, &format!("/api/v1/clients/{}/enable", c.id)).await;
    assert_eq!(server.me_bearer(&token).await.status(), StatusCode::OK);
    assert_eq!(server.token(c.basic(), cc()).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_deleted_clients_tokens_live_out_their_lifetime() {
    let server = TestServer::start().await;
    let c = machine_client(&server, json!({})).await;
    let token = access_token(&server, &c).await;
    let resp = server
        .as_admin(Method::DELETE, &format!("/api/v1/clients/{}", c.id))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(server.me_bearer(&token).await.status(), StatusCode::OK);
    let resp = server.token(c.basic(), cc()).await;
    expect_error(resp, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn deleting_with_revoke_tokens_revokes_them_with_one_marker() {
    let server = TestServer::start().await;
    let c = machine_client(&server, json!({})).await;
    let mut tokens = Vec::new();
    for _ in 0..5 {
        tokens.push(access_token(&server, &c).await);
    }
    let resp = server
        .as_admin(
            Method::DELETE,
            &format!("/api/v1/clients/{}?revoke_tokens=true", c.id),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    for t in &tokens {
        assert_refused(&server, t).await;
    }
    assert_eq!(server.state.store.revocations().len(), (0, 1));
}

#[tokio::test]
async fn a_new_secret_stops_the_old_one_and_may_revoke_tokens() {
    let server = TestServer::start().await;
    let c = machine_client(&server, json!({})).await;
    let token = access_token(&server, &c).await;

    let resp = admin_post(&server, &format!("/api/v1/clients/{}/secret", c.id)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let doc: Value = resp.json().await.unwrap();
    let fresh = OAuthClient::of(&doc);
    assert_ne!(fresh.secret(), c.secret());
    expect_error(
        server.token(c.basic(), cc()).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    assert_eq!(server.me_bearer(&token).await.status(), StatusCode::OK);
    let second = access_token(&server, &fresh).await;

    let resp = admin_post(
        &server,
        &format!("/api/v1/clients/{}/secret?revoke_tokens=true", c.id),
    )
    .await;
    let doc: Value = resp.json().await.unwrap();
    let newest = OAuthClient::of(&doc);
    assert_refused(&server, &token).await;
    assert_refused(&server, &second).await;
    let third = access_token(&server, &newest).await;
    assert_eq!(server.me_bearer(&third).await.status(), StatusCode::OK);
}

/// Tokens revoked by a new secret, or suspended by a disable, do not come back
/// when the client is deleted afterwards.
#[tokio::test]
async fn revoked_or_suspended_tokens_stay_dead_after_a_delete() {
    let server = TestServer::start().await;
    let a = machine_client(&server, json!({})).await;
    let ta = access_token(&server, &a).await;
    admin_post(
        &server,
        &format!("/api/v1/clients/{}/secret?revoke_tokens=true", a.id),
    )
    .await;
    let b = machine_client(&server, json!({})).await;
    let tb = access_token(&server, &b).await;
    admin_post(&server, &format!("/api/v1/clients/{}/disable", b.id)).await;
    for c in [&a, &b] {
        let resp = server
            .as_admin(Method::DELETE, &format!("/api/v1/clients/{}", c.id))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }
    assert_refused(&server, &ta).await;
    assert_refused(&server, &tb).await;
}

/// A public client authenticates with its id alone (as `id:` in Basic, or
/// `client_id` in the body); a secret is refused, and it cannot introspect.
#[tokio::test]
async fn public_clients_authenticate_by_id_alone() {
    let server = TestServer::start().await;
    let doc = server
        .admin_client(
            json!({"name": "cli", "type": "public", "redirect_uris": ["http://127.0.0.1/cb"]}),
        )
        .await;
    let id = doc["client_id"].as_str().unwrap();
    // `client_id:` with an empty password, as libraries send a public client.
    let resp = server.revoke(ClientAuth::Basic(id, ""), "lk_at_AAAA").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = server.revoke(ClientAuth::PublicId(id), "lk_at_AAAA").await;
    assert_eq!(resp.status(), StatusCode::OK);
    // A secret is refused, and public clients cannot introspect.
    let guess = ClientAuth::Basic(id, "lk_cs_guess");
    let resp = server.revoke(guess, "lk_at_AAAA").await;
    expect_error(resp, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let resp = server
        .introspect(ClientAuth::PublicId(id), "lk_at_AAAA")
        .await;
    expect_error(resp, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn disabling_the_owner_suspends_the_tokens() {
    let server = TestServer::start().await;
    let owner = server
        .create_user("ops", "ops-password", &["client-admin"])
        .await;
    let (c, _) = client_of(&server, ("ops", "ops-password")).await;
    let token = access_token(&server, &c).await;
    let user_path = format!("/api/v1/users/{}", owner["id"].as_str().unwrap());
    let set = |disabled: bool| {
        server
            .as_admin(Method::PATCH, &user_path)
            .json(&json!({"disabled": disabled}))
            .send()
    };
    assert_eq!(set(true).await.unwrap().status(), StatusCode::OK);
    assert_refused(&server, &token).await;
    assert_eq!(set(false).await.unwrap().status(), StatusCode::OK);
    assert_eq!(server.me_bearer(&token).await.status(), StatusCode::OK);
}

/// A confidential client (basic or post, with a hint), an admin's Basic
/// credentials and an API key with users:read may introspect; access tokens
/// and API keys are described, unknown tokens are inactive; no credentials, a
/// member, a wrong secret or a missing token are refused.
#[tokio::test]
async fn introspection_by_clients_and_admins() {
    let server = TestServer::start().await;
    let c = machine_client(&server, json!({"access_token_ttl_seconds": 120})).await;
    let token = access_token(&server, &c).await;

    let body = server.introspect_json(c.basic(), &token).await;
    assert_eq!(body["active"], true);
    assert_eq!(body["scope"], "keys:read read write");
    assert_eq!(body["client_id"], c.id);
    assert_eq!(body["username"], "admin");
    assert!(body["sub"].as_str().unwrap().starts_with("usr_"));
    assert_eq!(body["token_type"], "Bearer");
    // At least the 120 s asked for, never less (an expiry rounds up to the
    // next whole second).
    let lifetime = body["exp"].as_i64().unwrap() - body["iat"].as_i64().unwrap();
    assert!((120..=121).contains(&lifetime), "{lifetime}");
    assert_eq!(body["iss"], server.base);

    // client_secret_post, with a hint.
    let hinted = [
        ("token", token.as_str()),
        ("token_type_hint", "access_token"),
    ];
    let resp = server
        .oauth_form("/oauth/introspect", c.post(), &hinted)
        .await;
    assert_eq!(resp.json::<Value>().await.unwrap()["active"], true);

    // An admin's Basic credentials, and an API key with users:read.
    let resp = server.introspect(ClientAuth::ADMIN, &token).await;
    assert_eq!(resp.json::<Value>().await.unwrap()["active"], true);
    let key = server
        .create_api_key(ADMIN, json!({"name": "rs", "scopes": ["users:read"]}))
        .await;
    let key_secret = key["secret"].as_str().unwrap();
    let resp = server
        .introspect(ClientAuth::Bearer(key_secret), &token)
        .await;
    assert_eq!(resp.json::<Value>().await.unwrap()["active"], true);

    // API keys can be introspected too.
    let body = server.introspect_json(c.basic(), key_secret).await;
    assert_eq!(body["active"], true);
    assert_eq!(body["token_type"], "api_key");
    assert_eq!(body["scope"], "users:read");
    assert_eq!(body["jti"], key["id"]);
    assert!(body.get("client_id").is_none());

    for unknown in ["nonsense", "lk_at_AAAA", "lk_key_AAAA", "lk_rt_x"] {
        assert_eq!(
            server.introspect_json(c.basic(), unknown).await,
            json!({"active": false})
        );
    }

    // Not allowed: no credentials, a member, a wrong client secret, no token.
    let resp = server.introspect(ClientAuth::Anonymous, &token).await;
    expect_error(resp, StatusCode::UNAUTHORIZED, "invalid_client").await;
    server
        .create_user("mo", "member-password", &["member"])
        .await;
    let member = ClientAuth::Basic("mo", "member-password");
    let resp = server.introspect(member, &token).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let wrong = ClientAuth::Basic(&c.id, "lk_cs_wrong");
    let resp = server.introspect(wrong, &token).await;
    expect_error(resp, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let no_token = [("token_type_hint", "access_token")];
    let resp = server
        .oauth_form("/oauth/introspect", c.basic(), &no_token)
        .await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
}

/// A client may revoke its own tokens (at once, twice is fine, unknown ones
/// are 200), not another client's, not API keys, and not with a wrong secret.
#[tokio::test]
async fn clients_revoke_their_own_tokens_only() {
    let server = TestServer::start().await;
    let a = machine_client(&server, json!({})).await;
    let b = machine_client(&server, json!({})).await;
    let ta = access_token(&server, &a).await;
    let tb = access_token(&server, &b).await;

    // Another client's token: refused, and it keeps working.
    let resp = server.revoke(a.basic(), &tb).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "unauthorized_client").await;
    assert_eq!(server.me_bearer(&tb).await.status(), StatusCode::OK);
    // Unknown and malformed tokens: 200.
    for unknown in ["nonsense", "lk_at_AAAA"] {
        assert_eq!(
            server.revoke(a.basic(), unknown).await.status(),
            StatusCode::OK
        );
    }
    // API keys are not revoked here.
    let resp = server
        .revoke(
            a.basic(),
            "lk_key_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )
        .await;
    expect_error(resp, StatusCode::BAD_REQUEST, "unsupported_token_type").await;
    // Its own token: revoked at once, twice is fine.
    let resp = server.revoke(a.basic(), &ta).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_refused(&server, &ta).await;
    assert_eq!(server.revoke(a.basic(), &ta).await.status(), StatusCode::OK);
    assert_eq!(
        server.introspect_json(a.basic(), &ta).await,
        json!({"active": false})
    );
    // A wrong secret cannot revoke anything.
    let wrong = ClientAuth::Basic(&b.id, "lk_cs_wrong");
    let resp = server.revoke(wrong, &tb).await;
    expect_error(resp, StatusCode::UNAUTHORIZED, "invalid_client").await;
    assert_eq!(server.me_bearer(&tb).await.status(), StatusCode::OK);
}

/// An admin credential may revoke any access token, also one whose client is
/// gone; other users may not.
#[tokio::test]
async fn admins_revoke_any_token() {
    let server = TestServer::start().await;
    let c = machine_client(&server, json!({})).await;
    let token = access_token(&server, &c).await;
    let resp = server
        .as_admin(Method::DELETE, &format!("/api/v1/clients/{}", c.id))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(server.me_bearer(&token).await.status(), StatusCode::OK);

    server
        .create_user("mo", "member-password", &["member"])
        .await;
    let member = ClientAuth::Basic("mo", "member-password");
    let resp = server.revoke(member, &token).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let wrong = ClientAuth::Basic("admin", "wrong-password");
    let resp = server.revoke(wrong, &token).await;
    expect_error(resp, StatusCode::UNAUTHORIZED, "invalid_client").await;
    assert_eq!(server.me_bearer(&token).await.status(), StatusCode::OK);

    let resp = server.revoke(ClientAuth::ADMIN, &token).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_refused(&server, &token).await;
}

/// The revocation list holds an entry only while its token could be alive.
#[tokio::test]
async fn the_revocation_list_shrinks_as_tokens_expire() {
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000)));
    let server = TestServer::builder().clock(clock.clone()).start().await;
    let short = machine_client(&server, json!({"access_token_ttl_seconds": 30})).await;
    let long = machine_client(&server, json!({"access_token_ttl_seconds": 600})).await;
    let mut revoked = Vec::new();
    for (c, n) in [(&short, 20), (&long, 5)] {
        for i in 0..n {
            let t = access_token(&server, c).await;
            if i % 2 == 0 {
                let resp = server.revoke(c.basic(), &t).await;
                assert_eq!(resp.status(), StatusCode::OK);
                revoked.push(t);
            }
        }
    }
    let state = &server.state;
    assert_eq!(state.store.revocations().len().0, 13);
    assert_eq!(latchkey::service::revocation::sweep(state).unwrap(), 0);

    clock.advance(31);
    assert_eq!(latchkey::service::revocation::sweep(state).unwrap(), 10);
    assert_eq!(state.store.revocations().len().0, 3);
    assert_eq!(state.revocations.token_count(), 3);
    for t in &revoked[10..] {
        assert_refused(&server, t).await;
    }

    clock.advance(600);
    assert_eq!(latchkey::service::revocation::sweep(state).unwrap(), 3);
    assert_eq!(state.store.revocations().len(), (0, 0));
}

/// After a restart on the same directory, revoked tokens stay revoked, the
/// others still verify (the signing key persisted), and the client still works.
#[tokio::test]
async fn revocations_and_the_token_key_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let builder = TestServer::builder().data_dir(dir.path());
    let server = builder.clone().start().await;
    let c = machine_client(&server, json!({})).await;
    let kept = access_token(&server, &c).await;
    let gone = access_token(&server, &c).await;
    let resp = server.revoke(c.basic(), &gone).await;
    assert_eq!(resp.status(), StatusCode::OK);
    server.stop().await;

    let server = builder.start().await;
    assert_eq!(server.me_bearer(&kept).await.status(), StatusCode::OK);
    assert_refused(&server, &gone).await;
    assert_eq!(server.token(c.basic(), cc()).await.status(), StatusCode::OK);
}

/// The metadata names the issuer, the three endpoints, the client
/// authentication methods, and the catalog's scopes.
#[tokio::test]
async fn metadata_lists_what_exists() {
    let server = TestServer::start().await;
    let m = server.metadata().await;
    assert_eq!(m["issuer"], server.base);
    assert_eq!(m["token_endpoint"], server.url("/oauth/token"));
    assert_eq!(m["introspection_endpoint"], server.url("/oauth/introspect"));
    assert_eq!(m["revocation_endpoint"], server.url("/oauth/revoke"));
    assert_eq!(
        m["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    let scopes: Vec<&str> = m["scopes_supported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    for s in ["read", "readUsersData", "keys:read", "openid"] {
        assert!(scopes.contains(&s), "{s} in {scopes:?}");
    }
}

/// With `--public-url` the metadata names that as the issuer and endpoint base.
#[tokio::test]
async fn a_public_url_names_the_issuer() {
    let server = TestServer::builder()
        .config(|c| c.public_url = Some("https://auth.example.test".into()))
        .start()
        .await;
    let m = server.metadata().await;
    assert_eq!(m["issuer"], "https://auth.example.test");
    assert_eq!(m["token_endpoint"], "https://auth.example.test/oauth/token");
}

/// Deleting a user whose client was disabled does not bring that client's
/// refused tokens back.
#[tokio::test]
async fn deleting_the_owner_of_a_disabled_client_keeps_its_tokens_dead() {
    let server = TestServer::start().await;
    let owner = server
        .create_user("ops", "ops-password", &["client-admin"])
        .await;
    let (c, _) = client_of(&server, ("ops", "ops-password")).await;
    let token = access_token(&server, &c).await;
    admin_post(&server, &format!("/api/v1/clients/{}/disable", c.id)).await;
    assert_refused(&server, &token).await;
    let resp = server
        .as_admin(
            Method::DELETE,
            &format!("/api/v1/users/{}", owner["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_refused(&server, &token).await;
}
