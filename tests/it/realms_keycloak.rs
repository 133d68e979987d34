//! A created realm at Keycloak's paths: `/realms/{name}/protocol/openid-connect/…`
//! and the older `/auth/realms/{name}/…` are latchkey's own endpoints, and a
//! Keycloak client library nobody here wrote (python-keycloak) works against
//! them.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::code_flow::{authorize_url, CB, VERIFIER};
use crate::common::{
    expect_error, expect_json, Browser, ClientAuth, Grant, OAuthClient, TestServer,
};
use crate::interop::{interop_venv, run_script_with};
use crate::realms::RealmRef;

const KC: &str = "/protocol/openid-connect";

/// A confidential client of `realm` for client_credentials and the code flow
/// (`openid read write`, no consent page), and a member who signs in.
async fn keycloak_client(server: &TestServer, realm: &RealmRef) -> OAuthClient {
    realm
        .admin_json(
            server,
            Method::POST,
            "/api/v1/users",
            json!({"username": "kim", "password": "kim-password", "roles": ["member"]}),
            StatusCode::CREATED,
        )
        .await;
    realm
        .client(
            server,
            json!({"name": "kc app", "type": "confidential", "redirect_uris": [CB],
                   "grant_types": ["client_credentials", "authorization_code", "refresh_token"],
                   "scopes": ["openid", "profile", "read", "write"], "skip_consent": true}),
        )
        .await
}

/// Signs `kim` in through `{prefix}/realms/{name}/protocol/openid-connect/auth`
/// and redeems the code at `…/token`; returns the token response.
async fn code_flow(server: &TestServer, prefix: &str, app: &OAuthClient) -> Value {
    let url = authorize_url(app, CB, "&scope=openid%20read&nonce=kc-1")
        .replace("/oauth/authorize", &format!("{prefix}{KC}/auth"));
    let mut browser = Browser::new(server);
    let code = browser.sign_in_for_code(&url, "kim", "kim-password").await;
    let grant = Grant::code(&code, CB).verifier(VERIFIER);
    let resp = server
        .oauth_form(&format!("{prefix}{KC}/token"), app.post(), &grant.params())
        .await;
    expect_json(resp, StatusCode::OK).await
}

#[tokio::test]
async fn keycloak_paths_are_the_realms_own_endpoints() {
    let server = TestServer::start().await;
    let realm = RealmRef::create(&server, "kc").await;
    let app = keycloak_client(&server, &realm).await;
    for prefix in ["/realms/kc", "/auth/realms/kc"] {
        let at = |e: &str| format!("{prefix}{KC}/{e}");
        let cc = server
            .oauth_form(
                &at("token"),
                app.post(),
                &Grant::client_credentials().scope("read").params(),
            )
            .await;
        let cc = expect_json(cc, StatusCode::OK).await;
        let token = cc["access_token"].as_str().unwrap();
        let seen = server
            .oauth_form(&at("token/introspect"), app.post(), &[("token", token)])
            .await;
        let seen = expect_json(seen, StatusCode::OK).await;
        assert_eq!(
            (seen["active"].clone(), seen["client_id"].clone()),
            (json!(true), json!(app.id))
        );
        // The default realm's admin introspects in every realm.
        let by_admin = server
            .oauth_form(
                &at("token/introspect"),
                ClientAuth::ADMIN,
                &[("token", token)],
            )
            .await;
        assert_eq!(expect_json(by_admin, StatusCode::OK).await["active"], true);
        let certs = expect_json(
            server.get(&at("certs")).send().await.unwrap(),
            StatusCode::OK,
        )
        .await;
        assert_eq!(certs["keys"].as_array().unwrap().len(), 3, "{certs}");
        assert_eq!(realm.kids(&server).await.len(), 3);
        let revoked = server
            .oauth_form(&at("revoke"), app.post(), &[("token", token)])
            .await;
        assert_eq!(revoked.status(), StatusCode::OK);
        assert_eq!(
            realm.introspect(&server, realm.admin_auth(), token).await,
            json!({"active": false})
        );

        let tokens = code_flow(&server, prefix, &app).await;
        let access = tokens["access_token"].as_str().unwrap();
        let refresh = tokens["refresh_token"].as_str().unwrap();
        let info = server
            .get(&at("userinfo"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        let info = expect_json(info, StatusCode::OK).await;
        assert!(info["sub"].as_str().unwrap().starts_with("usr_"), "{info}");
        // Keycloak's back-channel logout: the grant ends, 204.
        let bad = server
            .oauth_form(
                &at("logout"),
                app.post(),
                &[("refresh_token", "lk_rt_nope")],
            )
            .await;
        expect_error(bad, StatusCode::BAD_REQUEST, "invalid_grant").await;
        let wrong = server
            .oauth_form(
                &at("logout"),
                ClientAuth::Post(&app.id, "lk_cs_not-the-secret-at-all"),
                &[("refresh_token", refresh)],
            )
            .await;
        expect_error(wrong, StatusCode::UNAUTHORIZED, "invalid_client").await;
        let out = server
            .oauth_form(&at("logout"), app.post(), &[("refresh_token", refresh)])
            .await;
        assert_eq!(out.status(), StatusCode::NO_CONTENT);
        let again = server
            .oauth_form(&at("token"), app.post(), &Grant::refresh(refresh).params())
            .await;
        expect_error(again, StatusCode::BAD_REQUEST, "invalid_grant").await;
        assert_eq!(
            realm.introspect(&server, app.post(), access).await,
            json!({"active": false})
        );
    }
    // Keycloak names that latchkey does not have are 404s, not something else.
    let resp = server
        .get(&format!("/realms/kc{KC}/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

/// python-keycloak's `KeycloakOpenID`: discovery, client_credentials,
/// introspection, certs, then (with a code-flow grant made here) userinfo,
/// refresh and logout — at `/realms/…` and at `/auth/realms/…`.
#[tokio::test]
async fn python_keycloak_against_a_realm() {
    let python = interop_venv().await;
    let server = TestServer::start().await;
    let realm = RealmRef::create(&server, "py-kc").await;
    let app = keycloak_client(&server, &realm).await;
    for (prefix, path) in [("", "/realms/py-kc"), ("/auth", "/auth/realms/py-kc")] {
        let tokens = code_flow(&server, path, &app).await;
        run_script_with(
            &python,
            "keycloak_realm.py",
            &[&server.base, "py-kc", &app.id, app.secret(), prefix],
            &[
                (
                    "LK_REFRESH_TOKEN",
                    tokens["refresh_token"].as_str().unwrap(),
                ),
                ("LK_ACCESS_TOKEN", tokens["access_token"].as_str().unwrap()),
            ],
        )
        .await;
    }
}

/// npm openid-client discovers a created realm at `/realms/{name}` and runs
/// the whole OpenID Connect walk there (tests/browser/oidc_client.mjs), jose
/// verifying against the realm's JWKS.
#[tokio::test]
async fn openid_client_discovers_a_realm() {
    let server = TestServer::start().await;
    let realm = RealmRef::create(&server, "node-realm").await;
    realm
        .admin_json(
            &server,
            Method::POST,
            "/api/v1/users",
            json!({"username": "vic", "password": "vic-password-realm", "roles": ["member"]}),
            StatusCode::CREATED,
        )
        .await;
    let app = realm
        .client(
            &server,
            json!({"name": "node app", "type": "confidential", "redirect_uris": ["http://127.0.0.1/cb"],
                   "grant_types": ["authorization_code", "refresh_token"], "scopes": ["openid", "profile"],
                   "post_logout_redirect_uris": ["http://127.0.0.1/bye"]}),
        )
        .await;
    let rs = realm
        .client(
            &server,
            json!({"name": "rs", "type": "confidential", "grant_types": ["client_credentials"],
                   "scopes": ["read"], "access_token_format": "jwt",
                   "access_token_signed_response_alg": "EdDSA", "audience": ["https://api.node.test"]}),
        )
        .await;
    crate::oidc::run_openid_client(
        &server.url("/realms/node-realm"),
        ("vic", "vic-password-realm"),
        &app,
        &rs,
    )
    .await;
    server.stop().await;
}
