//! `/api/v1/clients`: registration rules, visibility, updates, secrets.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{expect_error, expect_error_naming, TestServer, ADMIN};

#[tokio::test]
async fn create_returns_a_credentials_document_once() {
    let server = TestServer::start().await;
    let doc = server.admin_client(json!({"name": "Reports", "type": "confidential", "redirect_uris": ["https://app.example/cb"]}),
    )
    .await;
    let id = doc["client_id"].as_str().unwrap();
    assert!(id.starts_with("cli_"), "{doc}");
    assert!(doc["client_secret"].as_str().unwrap().starts_with("lk_cs_"));
    assert_eq!(doc["token_endpoint"], server.url("/oauth/token"));
    assert_eq!(doc["issuer"], server.base);
    assert_eq!(doc["type"], "confidential");
    assert_eq!(
        doc["grant_types"],
        json!(["authorization_code", "client_credentials", "refresh_token"])
    );
    assert_eq!(doc["scopes"], json!(["modifyUsersData", "readUsersData"]));
    assert_eq!(doc["enabled"], true);
    assert_eq!(doc["access_token_ttl_seconds"], Value::Null);

    let got: Value = server
        .as_admin(Method::GET, &format!("/api/v1/clients/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["client_id"], id);
    assert!(got.get("client_secret").is_none(), "{got}");
    let text = got.to_string();
    assert!(!text.contains(doc["client_secret"].as_str().unwrap()));
}

#[tokio::test]
async fn public_clients_have_no_secret_and_no_client_credentials() {
    let server = TestServer::start().await;
    let doc = server.admin_client(json!({"name": "CLI", "type": "public", "redirect_uris": ["urn:ietf:wg:oauth:2.0:oob", "http://127.0.0.1/cb"]}),
    )
    .await;
    assert!(doc.get("client_secret").is_none() || doc["client_secret"].is_null());
    assert_eq!(
        doc["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );

    let resp = server
        .register_client(
            ADMIN,
            json!({"name": "CLI", "type": "public", "grant_types": ["client_credentials"]}),
        )
        .await;
    expect_error_naming(
        resp,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "client_credentials",
    )
    .await;

    let id = doc["client_id"].as_str().unwrap();
    let resp = server
        .as_admin(Method::POST, &format!("/api/v1/clients/{id}/secret"))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::CONFLICT, "public_client").await;
}

#[tokio::test]
async fn redirect_uris_are_validated() {
    let server = TestServer::start().await;
    let admin = ADMIN;
    let cases = [
        ("confidential", "https://app.example/cb", true),
        ("confidential", "http://localhost:8080/cb", true),
        ("confidential", "http://app.example/cb", false),
        ("confidential", "https://app.example/cb#x", false),
        ("confidential", "/relative", false),
        ("confidential", "https://user@app.example/cb", false),
        ("confidential", "urn:ietf:wg:oauth:2.0:oob", false),
        ("public", "urn:ietf:wg:oauth:2.0:oob", true),
        ("public", "urn:ietf:wg:oauth:2.0:oob:auto", true),
        ("public", "com.example.app:/oauth2redirect", true),
        ("public", "http://[::1]/cb", true),
        ("public", "myapp:/cb", false),
        ("public", "javascript:alert(1)", false),
    ];
    for (ty, uri, ok) in cases {
        let resp = server.register_client(admin,
            json!({"name": "x", "type": ty, "redirect_uris": [uri], "grant_types": ["authorization_code"]}),
        )
        .await;
        if ok {
            assert_eq!(resp.status(), StatusCode::CREATED, "{ty} {uri}");
        } else {
            let body = expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
            assert!(
                body["error_description"]
                    .as_str()
                    .unwrap()
                    .starts_with("redirect_uris"),
                "{ty} {uri}: {body}"
            );
        }
    }
    // A redirecting grant needs a redirect URI.
    let resp = server
        .register_client(
            admin,
            json!({"name": "x", "type": "confidential", "grant_types": ["authorization_code"]}),
        )
        .await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    // Bad types and grants.
    for body in [
        json!({"name": "x", "type": "web"}),
        json!({"name": "x", "type": "confidential", "grant_types": ["urn:ietf:params:oauth:grant-type:device_code"]}),
        json!({"name": "x", "type": "confidential", "grant_types": []}),
        json!({"name": "", "type": "confidential", "grant_types": ["client_credentials"]}),
        json!({"name": "x", "type": "confidential", "grant_types": ["client_credentials"], "access_token_ttl_seconds": 0}),
        json!({"name": "x", "type": "confidential", "grant_types": ["client_credentials"], "access_token_ttl_seconds": 2_592_001}),
    ] {
        let resp = server.register_client(admin, body.clone()).await;
        expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
}

#[tokio::test]
async fn members_get_default_scopes_and_client_admins_grant_more() {
    let server = TestServer::start().await;
    server
        .create_user("mia", "member-password", &["member"])
        .await;
    server
        .create_user("cara", "client-admin-password", &["client-admin"])
        .await;
    let mia = ("mia", "member-password");
    let cara = ("cara", "client-admin-password");
    let cc = json!(["client_credentials"]);

    let resp = server
        .register_client(
            mia,
            json!({"name": "m", "type": "confidential", "grant_types": cc}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["scopes"], json!(["modifyUsersData", "readUsersData"]));

    // First-party (no consent page) is for client-admins to decide.
    let resp = server
        .register_client(
            mia,
            json!({"name": "m", "type": "confidential", "grant_types": cc, "skip_consent": true}),
        )
        .await;
    expect_error_naming(resp, StatusCode::FORBIDDEN, "forbidden", "skip_consent").await;

    let resp = server.register_client(mia,
        json!({"name": "m", "type": "confidential", "grant_types": cc, "scopes": ["readUsersData", "manageJobs"]}),
    )
    .await;
    expect_error_naming(resp, StatusCode::FORBIDDEN, "forbidden", "manageJobs").await;

    let resp = server.register_client(cara,
        json!({"name": "c", "type": "confidential", "grant_types": cc, "scopes": ["manageJobs", "read"]}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["scopes"], json!(["manageJobs", "read"]));

    let resp = server.register_client(cara,
        json!({"name": "c", "type": "confidential", "grant_types": cc, "scopes": ["no-such-scope"]}),
    )
    .await;
    expect_error_naming(
        resp,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "no-such-scope",
    )
    .await;
}

/// A narrowed credential cannot make a client that carries latchkey powers it lacks.
#[tokio::test]
async fn an_api_key_cannot_escalate_through_a_client() {
    let server = TestServer::start().await;
    let key = server
        .create_api_key(ADMIN, json!({"name": "k", "scopes": ["clients:write"]}))
        .await;
    let secret = key["secret"].as_str().unwrap();
    let resp = server
        .post("/api/v1/clients")
        .bearer_auth(secret)
        .json(&json!({"name": "c", "type": "confidential", "grant_types": ["client_credentials"], "scopes": ["users:write"]}))
        .send()
        .await
        .unwrap();
    expect_error_naming(resp, StatusCode::FORBIDDEN, "forbidden", "users:write").await;
    let resp = server
        .post("/api/v1/clients")
        .bearer_auth(secret)
        .json(&json!({"name": "c", "type": "confidential", "grant_types": ["client_credentials"], "scopes": ["read"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn others_clients_are_hidden_from_members_and_visible_to_client_admins() {
    let server = TestServer::start().await;
    server.create_user("ann", "ann-password", &["member"]).await;
    server.create_user("bob", "bob-password", &["member"]).await;
    server
        .create_user("cara", "client-admin-password", &["client-admin"])
        .await;
    let body = json!({"name": "a", "type": "confidential", "grant_types": ["client_credentials"]});
    let doc: Value = server
        .register_client(("ann", "ann-password"), body.clone())
        .await
        .json()
        .await
        .unwrap();
    let id = doc["client_id"].as_str().unwrap();
    server
        .register_client(("bob", "bob-password"), body.clone())
        .await;

    for (method, path) in [
        (Method::GET, format!("/api/v1/clients/{id}")),
        (Method::PATCH, format!("/api/v1/clients/{id}")),
        (Method::DELETE, format!("/api/v1/clients/{id}")),
        (Method::POST, format!("/api/v1/clients/{id}/disable")),
        (Method::POST, format!("/api/v1/clients/{id}/secret")),
        (
            Method::GET,
            "/api/v1/clients/cli_000000000000000000000000".to_string(),
        ),
        (Method::GET, "/api/v1/clients/not%20an%20id".to_string()),
    ] {
        let resp = server
            .request(method.clone(), &path)
            .basic_auth("bob", Some("bob-password"))
            .json(&json!({"name": "stolen"}))
            .send()
            .await
            .unwrap();
        expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    }

    let list = |user: &'static str, pw: &'static str, query: &'static str| {
        let server = &server;
        async move {
            server
                .get(&format!("/api/v1/clients{query}"))
                .basic_auth(user, Some(pw))
                .send()
                .await
                .unwrap()
        }
    };
    let own: Value = list("bob", "bob-password", "").await.json().await.unwrap();
    assert_eq!(own["clients"].as_array().unwrap().len(), 1);
    expect_error(
        list("bob", "bob-password", "?all=true").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let all: Value = list("cara", "client-admin-password", "?all=true&limit=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["clients"].as_array().unwrap().len(), 1);
    assert!(all["next_after"].is_string());

    let resp = server
        .request(Method::PATCH, &format!("/api/v1/clients/{id}"))
        .basic_auth("cara", Some("client-admin-password"))
        .json(&json!({"name": "renamed by cara", "scopes": ["read"], "access_token_ttl_seconds": 300}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let updated: Value = resp.json().await.unwrap();
    assert_eq!(updated["name"], "renamed by cara");
    assert_eq!(updated["scopes"], json!(["read"]));
    assert_eq!(updated["access_token_ttl_seconds"], 300);
    assert_eq!(updated["owner_id"], doc["owner_id"]);

    let resp = server
        .request(Method::PATCH, &format!("/api/v1/clients/{id}"))
        .basic_auth("ann", Some("ann-password"))
        .json(&json!({"access_token_ttl_seconds": null}))
        .send()
        .await
        .unwrap();
    let updated: Value = resp.json().await.unwrap();
    assert_eq!(updated["access_token_ttl_seconds"], Value::Null);
    assert_eq!(updated["name"], "renamed by cara");
}

#[tokio::test]
async fn deleting_a_user_deletes_their_clients() {
    let server = TestServer::start().await;
    let user = server
        .create_user("gone", "gone-password", &["member"])
        .await;
    let doc: Value = server
        .register_client(
            ("gone", "gone-password"),
            json!({"name": "a", "type": "confidential", "grant_types": ["client_credentials"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let resp = server
        .as_admin(
            Method::DELETE,
            &format!("/api/v1/users/{}", user["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = server
        .as_admin(
            Method::GET,
            &format!("/api/v1/clients/{}", doc["client_id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
}

/// A client-admin manages clients, but cannot reach latchkey powers it lacks,
/// nor take over a client that acts with latchkey's own scopes for someone else.
#[tokio::test]
async fn client_admins_cannot_escalate_through_clients() {
    let server = TestServer::start().await;
    server
        .create_user("cara", "client-admin-password", &["client-admin"])
        .await;
    let cara = ("cara", "client-admin-password");
    let cc = json!(["client_credentials"]);
    // Roles decide latchkey's own scopes: a client-admin has no users:write.
    let resp = server.register_client(cara,
        json!({"name": "c", "type": "confidential", "grant_types": cc, "scopes": ["users:write"]}),
    )
    .await;
    expect_error_naming(resp, StatusCode::FORBIDDEN, "forbidden", "users:write").await;

    // The admin's client that carries latchkey scopes: cara may read it, not change it.
    let doc = server.admin_client(json!({"name": "ops", "type": "confidential", "grant_types": cc, "scopes": ["keys:read", "read"]}),
    )
    .await;
    let id = doc["client_id"].as_str().unwrap();
    let resp = server
        .get(&format!("/api/v1/clients/{id}"))
        .basic_auth(cara.0, Some(cara.1))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    for (method, path) in [
        (Method::POST, format!("/api/v1/clients/{id}/secret")),
        (Method::POST, format!("/api/v1/clients/{id}/enable")),
        (Method::PATCH, format!("/api/v1/clients/{id}")),
        (Method::DELETE, format!("/api/v1/clients/{id}")),
    ] {
        let resp = server
            .request(method, &path)
            .basic_auth(cara.0, Some(cara.1))
            .json(&json!({"name": "mine now"}))
            .send()
            .await
            .unwrap();
        expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    }
    // Nor may she put latchkey scopes on someone else's plain client.
    let plain = server
        .admin_client(
            json!({"name": "plain", "type": "confidential", "grant_types": cc, "scopes": ["read"]}),
        )
        .await;
    let resp = server
        .request(
            Method::PATCH,
            &format!("/api/v1/clients/{}", plain["client_id"].as_str().unwrap()),
        )
        .basic_auth(cara.0, Some(cara.1))
        .json(&json!({"scopes": ["keys:read"]}))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    // Plain clients of others are hers to manage.
    let resp = server
        .request(
            Method::PATCH,
            &format!("/api/v1/clients/{}", plain["client_id"].as_str().unwrap()),
        )
        .basic_auth(cara.0, Some(cara.1))
        .json(&json!({"scopes": ["read", "write"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// A key that may manage clients cannot take a new secret for (or re-enable) a
/// client that carries latchkey scopes the key lacks.
#[tokio::test]
async fn a_narrow_key_cannot_take_over_a_broader_client() {
    let server = TestServer::start().await;
    let doc = server.admin_client(json!({"name": "ops", "type": "confidential", "grant_types": ["client_credentials"], "scopes": ["users:write"]}),
    )
    .await;
    let id = doc["client_id"].as_str().unwrap();
    let key = server
        .create_api_key(ADMIN, json!({"name": "k", "scopes": ["clients:write"]}))
        .await;
    for path in [
        format!("/api/v1/clients/{id}/secret"),
        format!("/api/v1/clients/{id}/enable"),
    ] {
        let resp = server
            .post(&path)
            .bearer_auth(key["secret"].as_str().unwrap())
            .send()
            .await
            .unwrap();

        expect_error_naming(resp, StatusCode::FORBIDDEN, "forbidden", "users:write").await;
    }
}
