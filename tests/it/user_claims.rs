//! Users' custom claims: set on create, replaced on update, read from the
//! seed file, shown in the user view, and carried into the user's id_tokens,
//! userinfo and JWT access tokens (with `auth_time`); registered names refused.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::browser::{params_of, Browser};
use crate::common::oauth::{ClientAuth, Grant, OAuthClient};
use crate::common::{expect_error_naming, expect_json, TestServer};
use crate::oidc::payload;

const REDIRECT: &str = "http://127.0.0.1/cb";

async fn create(server: &TestServer, body: Value) -> reqwest::Response {
    server
        .as_admin(Method::POST, "/api/v1/users")
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn claims_are_checked_kept_and_replaced_whole() {
    let server = TestServer::start().await;
    for (claims, needle) in [
        (json!({"sub": "someone-else"}), "sub"),
        (json!({"ok": 1, "auth_time": 0}), "auth_time"),
        (json!(["not", "an", "object"]), "claims"),
        (json!({"big": "x".repeat(9000)}), "claims"),
    ] {
        let resp = create(
            &server,
            json!({"username": "vera", "password": "vera-password", "claims": claims}),
        )
        .await;
        expect_error_naming(resp, StatusCode::BAD_REQUEST, "invalid_request", needle).await;
    }
    let made = expect_json(
        create(
            &server,
            json!({"username": "vera", "password": "vera-password",
                   "claims": {"tenant": "t-9", "groups": ["a", "b"]}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        made["claims"],
        json!({"tenant": "t-9", "groups": ["a", "b"]})
    );
    let id = made["id"].as_str().unwrap();
    let me = server
        .get_json_as("/api/v1/users/me", ("vera", "vera-password"))
        .await;
    assert_eq!(me["claims"]["tenant"], "t-9", "/users/me shows them too");

    // An update replaces the whole object, and a bad one changes nothing.
    let path = format!("/api/v1/users/{id}");
    let resp = server
        .as_admin(Method::PATCH, &path)
        .json(&json!({"claims": {"iss": "x"}}))
        .send()
        .await
        .unwrap();
    expect_error_naming(resp, StatusCode::BAD_REQUEST, "invalid_request", "iss").await;
    let updated = expect_json(
        server
            .as_admin(Method::PATCH, &path)
            .json(&json!({"claims": {"level": 3}}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated["claims"], json!({"level": 3}));
    let fetched = expect_json(
        server.as_admin(Method::GET, &path).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(fetched["claims"], json!({"level": 3}));
    let cleared = expect_json(
        server
            .as_admin(Method::PATCH, &path)
            .json(&json!({"claims": {}}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(cleared["claims"], json!({}));
    server.stop().await;
}

/// A seeded user's claims reach their id_token, userinfo and JWT access
/// token; the JWT also says when they signed in; claims outlive a restart.
#[tokio::test]
async fn claims_reach_id_tokens_userinfo_and_jwt_access_tokens() {
    let seed = r#"
[[users]]
username = "nina"
password = "nina-password"
email = "nina@example.test"
claims = { tenant = "acme", groups = ["billing", "ops"], email_verified = true }

[[clients]]
client_id = "svc"
client_secret = "lk_cs_svc-secret-for-the-claims-test"
name = "svc"
type = "confidential"
grant_types = ["client_credentials"]
scopes = ["read"]
jwt_access_token_alg = "ES256"
claims = { team = "core" }
"#;
    let seed = Arc::new(latchkey::seed::parse(seed).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let builder = TestServer::builder()
        .data_dir(dir.path())
        .config(move |c| c.seed = Some(seed));
    let server = builder.clone().start().await;
    let created = server
        .admin_client(json!({
            "name": "claims app",
            "type": "confidential",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "scopes": ["openid", "email", "read"],
            "access_token_format": "jwt",
            "access_token_signed_response_alg": "EdDSA",
            "claims": {"client_only": true},
        }))
        .await;
    let client = OAuthClient::of(&created);
    let mut browser = Browser::new(&server);
    let url = format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri={REDIRECT}&scope=openid%20email%20read&state=s&nonce=n",
        client.id
    );
    let resp = browser
        .sign_in_and_allow(&url, "nina", "nina-password")
        .await;
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let code = params_of(&location, '?')["code"].clone();
    let token = server
        .token_json(client.basic(), Grant::code(&code, REDIRECT))
        .await;

    let id_token = payload(token["id_token"].as_str().unwrap());
    assert_eq!(id_token["tenant"], "acme");
    assert_eq!(id_token["groups"], json!(["billing", "ops"]));
    assert_eq!(id_token["email"], "nina@example.test");
    assert_eq!(id_token["email_verified"], true, "a custom claim wins");
    assert!(id_token.get("client_only").is_none());

    let access = token["access_token"].as_str().unwrap();
    let jwt = payload(access);
    assert_eq!(
        jwt["tenant"], "acme",
        "the user's claims, in a user's grant"
    );
    assert!(jwt.get("client_only").is_none(), "not the client's");
    assert_eq!(jwt["auth_time"], id_token["auth_time"]);
    assert_eq!(jwt["sub"], id_token["sub"]);

    let info = expect_json(
        server
            .get("/oauth/userinfo")
            .bearer_auth(access)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(info["tenant"], "acme");
    assert_eq!(info["groups"], json!(["billing", "ops"]));

    // A refreshed JWT still carries them and the same auth_time.
    let again = server
        .token_json(
            client.basic(),
            Grant::refresh(token["refresh_token"].as_str().unwrap()),
        )
        .await;
    let refreshed = payload(again["access_token"].as_str().unwrap());
    assert_eq!(refreshed["tenant"], "acme");
    assert_eq!(refreshed["auth_time"], jwt["auth_time"]);
    server.stop().await;

    let server = builder.start().await;
    let me = server
        .get_json_as("/api/v1/users/me", ("nina", "nina-password"))
        .await;
    assert_eq!(me["claims"]["tenant"], "acme", "kept across a restart");
    let svc = ClientAuth::Basic("svc", "lk_cs_svc-secret-for-the-claims-test");
    let cc = server.token_json(svc, Grant::client_credentials()).await;
    let cc = payload(cc["access_token"].as_str().unwrap());
    assert_eq!(cc["team"], "core", "a seeded client's claims");
    assert!(cc.get("auth_time").is_none(), "no one signed in");
    server.stop().await;
}

/// A seed file's claims are checked before the server starts.
#[test]
fn seeded_claims_are_checked() {
    let bad = "[[users]]\nusername = \"x\"\npassword = \"x-password\"\nclaims = { aud = \"y\" }\n";
    let err = latchkey::seed::parse(bad).err().unwrap();
    assert!(
        err.contains("line 1") && err.contains("claims") && err.contains("aud"),
        "{err}"
    );
    let bad = "[[clients]]\nclient_id = \"c1\"\nname = \"c\"\ntype = \"public\"\nredirect_uris = [\"http://127.0.0.1/cb\"]\nclaims = { jti = 1 }\n";
    let err = latchkey::seed::parse(bad).err().unwrap();
    assert!(
        err.contains("[[clients]] claims") && err.contains("jti"),
        "{err}"
    );
}
