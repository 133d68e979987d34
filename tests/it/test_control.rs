//! Test control over HTTP (`/api/v1/test`): each realm's clock, moved instead
//! of sleeping, and every expiry following it; minted tokens; and the
//! password grant.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::code_flow::{authorize_url, CB, VERIFIER};
use crate::common::{expect_error, expect_json, Browser, Grant, OAuthClient, TestServer};
use crate::realms::RealmRef;

async fn clock(server: &TestServer, realm: &RealmRef, method: Method, body: Value) -> Value {
    realm
        .admin_json(server, method, "/api/v1/test/clock", body, StatusCode::OK)
        .await
}

async fn advance(server: &TestServer, realm: &RealmRef, secs: i64) {
    clock(
        server,
        realm,
        Method::PUT,
        json!({ "advance_seconds": secs }),
    )
    .await;
}

async fn mint(server: &TestServer, realm: &RealmRef, body: Value) -> Value {
    realm
        .admin_json(
            server,
            Method::POST,
            "/api/v1/test/tokens",
            body,
            StatusCode::CREATED,
        )
        .await
}

async fn mint_refused(server: &TestServer, realm: &RealmRef, body: Value, field: &str) {
    let err = realm
        .post_refused(server, "/api/v1/test/tokens", body)
        .await;
    let says = err["error_description"].as_str().unwrap();
    assert!(says.starts_with(&format!("{field}:")), "{field}: {err}");
}

#[tokio::test]
async fn each_realm_has_a_clock_of_its_own() {
    let server = TestServer::start().await;
    let default = RealmRef::default_realm();
    let a = RealmRef::create(&server, "clocked").await;
    let c = clock(&server, &default, Method::GET, Value::Null).await;
    assert_eq!(
        (c["offset_seconds"].clone(), c["frozen"].clone()),
        (json!(0), json!(false))
    );
    let c = clock(&server, &a, Method::PUT, json!({"offset_seconds": 86400})).await;
    assert_eq!(c["offset_seconds"], 86400);
    assert_eq!(
        clock(&server, &default, Method::GET, Value::Null).await["offset_seconds"],
        0,
        "the default realm's clock did not move"
    );
    let c = clock(
        &server,
        &a,
        Method::PUT,
        json!({"frozen_at": "2030-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(
        (c["now"].clone(), c["frozen"].clone()),
        (json!("2030-01-01T00:00:00Z"), json!(true))
    );
    let c = clock(&server, &a, Method::PUT, json!({"advance_seconds": 90})).await;
    assert_eq!(c["now"], "2030-01-01T00:01:30Z");
    let c = clock(&server, &a, Method::DELETE, Value::Null).await;
    assert_eq!(
        (c["offset_seconds"].clone(), c["frozen"].clone()),
        (json!(0), json!(false))
    );
    for bad in [
        json!({}),
        json!({"offset_seconds": 1, "advance_seconds": 1}),
        json!({"frozen_at": "tomorrow"}),
        json!({"offset_seconds": 9_000_000_000i64}),
    ] {
        let resp = server
            .request(Method::PUT, &a.p("/api/v1/test/clock"))
            .basic_auth(&a.admin.0, Some(&a.admin.1))
            .json(&bad)
            .send()
            .await
            .unwrap();
        expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
    server.create_user("mo", "mo-password", &["member"]).await;
    let resp = server
        .get("/api/v1/test/clock")
        .basic_auth("mo", Some("mo-password"))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    server.stop().await;

    let off = TestServer::builder()
        .config(|c| c.test_control = false)
        .start()
        .await;
    let resp = off
        .as_admin(Method::GET, "/api/v1/test/clock")
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
}

/// Every expiry of a realm follows its clock: access tokens (opaque and JWT),
/// id_tokens' iat, codes, refresh tokens, sessions and API keys.
#[tokio::test]
async fn expiry_follows_the_realms_clock() {
    let server = TestServer::start().await;
    let realm = RealmRef::create(&server, "expiry").await;
    realm
        .admin_json(
            &server,
            Method::POST,
            "/api/v1/users",
            json!({"username": "tia", "password": "tia-password"}),
            StatusCode::CREATED,
        )
        .await;
    let cc = realm.client(&server, json!({"name": "cc", "type": "confidential", "grant_types": ["client_credentials"], "scopes": ["read"], "access_token_ttl_seconds": 60})).await;
    let jwt = realm.client(&server, json!({"name": "jwt", "type": "confidential", "grant_types": ["client_credentials"], "scopes": ["read"], "access_token_ttl_seconds": 60, "access_token_format": "jwt", "access_token_signed_response_alg": "ES256"})).await;
    let web = realm.client(&server, json!({"name": "web", "type": "confidential", "redirect_uris": [CB], "grant_types": ["authorization_code", "refresh_token"], "scopes": ["openid", "read"], "skip_consent": true})).await;
    let token = |c: OAuthClient| {
        let (server, realm) = (&server, &realm);
        async move {
            let t = expect_json(
                realm
                    .token(server, c.auth(), Grant::client_credentials())
                    .await,
                StatusCode::OK,
            )
            .await;
            t["access_token"].as_str().unwrap().to_owned()
        }
    };
    let (opaque, signed) = (token(cc.clone()).await, token(jwt.clone()).await);
    let key = realm
        .admin_json(
            &server,
            Method::POST,
            "/api/v1/api-keys",
            json!({"name": "short", "expires_in_seconds": 120}),
            StatusCode::CREATED,
        )
        .await;
    let key = key["secret"].as_str().unwrap().to_owned();
    let url = format!(
        "{}{}",
        realm.path,
        authorize_url(&web, CB, "&scope=openid%20read&nonce=n")
    );
    let mut browser = Browser::new(&server);
    let code = browser.sign_in_for_code(&url, "tia", "tia-password").await;
    let tokens = expect_json(
        realm
            .token(
                &server,
                web.auth(),
                Grant::code(&code, CB).verifier(VERIFIER),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let stale_code = browser.code_again(&url).await;
    for t in [&opaque, &signed, &key] {
        assert_eq!(realm.me(&server, t).await, StatusCode::OK);
    }

    advance(&server, &realm, 61).await;
    for t in [&opaque, &signed] {
        assert_eq!(
            realm.me(&server, t).await,
            StatusCode::UNAUTHORIZED,
            "expired: {t}"
        );
        assert_eq!(
            realm.introspect(&server, cc.auth(), t).await,
            json!({"active": false})
        );
    }
    assert_eq!(
        realm.me(&server, &key).await,
        StatusCode::OK,
        "the key lives 120 s"
    );
    advance(&server, &realm, 60).await;
    assert_eq!(
        realm.me(&server, &key).await,
        StatusCode::UNAUTHORIZED,
        "the key expired with the clock"
    );
    advance(&server, &realm, 600).await;
    let resp = realm
        .token(
            &server,
            web.auth(),
            Grant::code(&stale_code, CB).verifier(VERIFIER),
        )
        .await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
    // The browser session (12 h) and the refresh token (14 days) outlive it...
    let resp = realm
        .token(&server, web.auth(), Grant::refresh(&refresh))
        .await;
    let rotated = expect_json(resp, StatusCode::OK).await;
    let refresh = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(
        browser.get(&url).await.status(),
        StatusCode::FOUND,
        "still signed in"
    );
    // ...until the clock passes them.
    advance(&server, &realm, 13 * 3600).await;
    let page = browser.get(&url).await.text().await.unwrap();
    assert!(
        page.contains("name=\"username\""),
        "the session expired: {page}"
    );
    advance(&server, &realm, 14 * 24 * 3600).await;
    let resp = realm
        .token(&server, web.auth(), Grant::refresh(&refresh))
        .await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
    // Tokens issued now carry the realm's time.
    let c = clock(
        &server,
        &realm,
        Method::PUT,
        json!({"frozen_at": "2031-06-01T12:00:00Z"}),
    )
    .await;
    assert_eq!(c["frozen"], true);
    let minted = mint(
        &server,
        &realm,
        json!({"client_id": web.id, "username": "tia", "scope": "openid read", "nonce": "n-9"}),
    )
    .await;
    let claims = crate::oidc::payload(minted["id_token"].as_str().unwrap());
    assert_eq!(claims["iat"], 1_938_081_600i64, "{claims}");
    assert_eq!(claims["nonce"], "n-9");
    let seen = realm
        .introspect(
            &server,
            web.auth(),
            minted["access_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(seen["iat"], 1_938_081_600i64);
}

#[tokio::test]
async fn minted_tokens_are_real_tokens() {
    let server = TestServer::start().await;
    let realm = RealmRef::default_realm();
    server.create_user("uma", "uma-password", &["member"]).await;
    let cc = realm.client(&server, json!({"name": "cc", "type": "confidential", "grant_types": ["client_credentials"], "scopes": ["read", "write"]})).await;
    let web = realm.client(&server, json!({"name": "web", "type": "confidential", "redirect_uris": [CB], "grant_types": ["authorization_code", "refresh_token"], "scopes": ["openid", "profile", "read"], "id_token_signed_response_alg": "EdDSA"})).await;
    let code_only = realm.client(&server, json!({"name": "code only", "type": "confidential", "redirect_uris": [CB], "grant_types": ["authorization_code"], "scopes": ["openid", "read"]})).await;

    let as_owner = mint(
        &server,
        &realm,
        json!({"client_id": cc.id, "scope": "read", "ttl_seconds": 90}),
    )
    .await;
    assert_eq!(
        (as_owner["scope"].clone(), as_owner["expires_in"].clone()),
        (json!("read"), json!(90))
    );
    assert!(
        as_owner.get("refresh_token").is_none() && as_owner.get("id_token").is_none(),
        "{as_owner}"
    );
    let at = as_owner["access_token"].as_str().unwrap();
    assert_eq!(realm.me(&server, at).await, StatusCode::OK);

    let for_user = mint(&server, &realm, json!({"client_id": web.id, "username": "uma", "scope": "openid profile read", "claims": {"tenant": "acme"}})).await;
    let at = for_user["access_token"].as_str().unwrap();
    let me = expect_json(
        server
            .get("/api/v1/users/me")
            .bearer_auth(at)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["username"], "uma");
    let id = crate::oidc::payload(for_user["id_token"].as_str().unwrap());
    assert_eq!(
        (
            id["tenant"].clone(),
            id["aud"].clone(),
            id["preferred_username"].clone()
        ),
        (json!("acme"), json!(web.id), json!("uma"))
    );
    // The refresh token rotates at the token endpoint, and revoking ends the grant.
    let rt = for_user["refresh_token"].as_str().unwrap();
    let next = expect_json(
        server.token(web.auth(), Grant::refresh(rt)).await,
        StatusCode::OK,
    )
    .await;
    assert!(next["id_token"].is_string());
    let resp = server
        .revoke(web.auth(), next["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        realm
            .me(&server, next["access_token"].as_str().unwrap())
            .await,
        StatusCode::UNAUTHORIZED
    );
    // Just the kinds asked for.
    let just = mint(&server, &realm, json!({"client_id": web.id, "username": "uma", "scope": "openid", "kinds": ["access_token", "id_token"]})).await;
    assert!(
        just.get("refresh_token").is_none() && just["id_token"].is_string(),
        "{just}"
    );

    for (body, field) in [
        (json!({"client_id": "cli_nope"}), "client_id"),
        (json!({"client_id": web.id}), "client_id"),
        (json!({"client_id": cc.id, "username": "uma"}), "client_id"),
        (
            json!({"client_id": web.id, "username": "nobody"}),
            "username",
        ),
        (
            json!({"client_id": web.id, "username": "uma", "scope": "read", "kinds": ["id_token"]}),
            "kinds",
        ),
        (
            json!({"client_id": code_only.id, "username": "uma", "kinds": ["refresh_token"]}),
            "kinds",
        ),
        (
            json!({"client_id": web.id, "username": "uma", "kinds": ["cookie"]}),
            "kinds",
        ),
        (
            json!({"client_id": web.id, "username": "uma", "scope": "admin:everything"}),
            "scope",
        ),
        (json!({"client_id": cc.id, "ttl_seconds": 0}), "ttl_seconds"),
        (
            json!({"client_id": cc.id, "claims": {"iss": "x"}}),
            "claims",
        ),
        (
            json!({"client_id": cc.id, "kinds": ["refresh_token"]}),
            "kinds",
        ),
    ] {
        mint_refused(&server, &realm, body, field).await;
    }
}

#[tokio::test]
async fn the_password_grant_is_for_clients_that_ask_for_it() {
    let server = TestServer::start().await;
    let realm = RealmRef::create(&server, "direct").await;
    realm
        .admin_json(
            &server,
            Method::POST,
            "/api/v1/users",
            json!({"username": "ned", "password": "ned-password"}),
            StatusCode::CREATED,
        )
        .await;
    let direct = realm.client(&server, json!({"name": "direct", "type": "confidential", "grant_types": ["password", "refresh_token"], "scopes": ["openid", "read"]})).await;
    let other = realm.client(&server, json!({"name": "cc", "type": "confidential", "grant_types": ["client_credentials"], "scopes": ["read"]})).await;
    let grant = |u: &'static str, p: &'static str| {
        vec![
            ("grant_type", "password"),
            ("username", u),
            ("password", p),
            ("scope", "openid read"),
        ]
    };
    for path in ["/oauth/token", "/protocol/openid-connect/token"] {
        let resp = server
            .oauth_form(&realm.p(path), direct.post(), &grant("ned", "ned-password"))
            .await;
        let t = expect_json(resp, StatusCode::OK).await;
        assert!(
            t["refresh_token"].is_string() && t["id_token"].is_string(),
            "{t}"
        );
        let id = crate::oidc::payload(t["id_token"].as_str().unwrap());
        assert_eq!(id["iss"], server.url("/realms/direct").as_str());
        let me = server
            .get(&realm.p("/api/v1/users/me"))
            .bearer_auth(t["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(expect_json(me, StatusCode::OK).await["username"], "ned");
    }
    let resp = server
        .oauth_form(
            &realm.p("/oauth/token"),
            other.auth(),
            &grant("ned", "ned-password"),
        )
        .await;
    expect_error(resp, StatusCode::BAD_REQUEST, "unauthorized_client").await;
    let resp = server
        .oauth_form(
            &realm.p("/oauth/token"),
            direct.auth(),
            &[("grant_type", "password"), ("username", "ned")],
        )
        .await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    // Wrong passwords are invalid_grant, and the login throttle counts them.
    let mut slowed = false;
    for _ in 0..12 {
        let resp = server
            .oauth_form(
                &realm.p("/oauth/token"),
                direct.auth(),
                &grant("ned", "not-the-password"),
            )
            .await;
        let err = expect_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
        if err["error_description"]
            .as_str()
            .unwrap()
            .contains("too many")
        {
            slowed = true;
            break;
        }
    }
    assert!(slowed, "the throttle stepped in");
    let resp = server
        .oauth_form(
            &realm.p("/oauth/token"),
            direct.auth(),
            &grant("ned", "ned-password"),
        )
        .await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
    // The throttle's window follows the realm's clock too.
    advance(&server, &realm, 3600).await;
    let resp = server
        .oauth_form(
            &realm.p("/oauth/token"),
            direct.auth(),
            &grant("ned", "ned-password"),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let meta = expect_json(
        server
            .get(&realm.p("/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(meta["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("password")));
}

#[tokio::test]
async fn a_reset_puts_a_realm_back_to_its_seed() {
    let server = TestServer::start().await;
    let seed = json!({
        "users": [{"username": "sam", "password": "sam-password"}],
        "clients": [{"client_id": "seeded-app", "client_secret": "lk_cs_seeded-app-secret-kept", "name": "Seeded",
                     "type": "confidential", "grant_types": ["client_credentials"], "scopes": ["read"]}],
    });
    let body = realm_with_seed(&server, "resettable", seed).await;
    let realm = RealmRef {
        path: "/realms/resettable".into(),
        admin: (
            "admin".into(),
            body["admin"]["password"].as_str().unwrap().into(),
        ),
    };
    let fresh = server.state.store.created_realm_records().unwrap();
    let app = OAuthClient {
        id: "seeded-app".into(),
        secret: Some("lk_cs_seeded-app-secret-kept".into()),
    };
    let token = expect_json(
        realm
            .token(&server, app.auth(), Grant::client_credentials())
            .await,
        StatusCode::OK,
    )
    .await;
    let token = token["access_token"].as_str().unwrap().to_owned();
    realm
        .admin_json(
            &server,
            Method::POST,
            "/api/v1/users",
            json!({"username": "temp", "password": "temp-password"}),
            StatusCode::CREATED,
        )
        .await;
    advance(&server, &realm, 500).await;
    realm
        .admin_json(
            &server,
            Method::POST,
            "/api/v1/test/faults",
            json!({"match": {"endpoint": "jwks"}, "respond": {"malformed_body": true}, "times": 0}),
            StatusCode::CREATED,
        )
        .await;
    assert!(server.state.store.created_realm_records().unwrap() > fresh);

    let resp = server
        .post(&realm.p("/api/v1/test/reset"))
        .basic_auth(&realm.admin.0, Some(&realm.admin.1))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        server.state.store.created_realm_records().unwrap(),
        fresh,
        "only the seed's records, the admin's and the catalog remain"
    );
    assert_eq!(
        realm.me(&server, &token).await,
        StatusCode::UNAUTHORIZED,
        "a token from before the reset is refused"
    );
    let again = realm
        .token(&server, app.auth(), Grant::client_credentials())
        .await;
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "the seeded client is back with its secret"
    );
    let temp = server
        .get(&realm.p("/api/v1/users/me"))
        .basic_auth("temp", Some("temp-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        temp.status(),
        StatusCode::UNAUTHORIZED,
        "made since the seed: gone"
    );
    let sam = server
        .get(&realm.p("/api/v1/users/me"))
        .basic_auth("sam", Some("sam-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(sam.status(), StatusCode::OK);
    let c = clock(&server, &realm, Method::GET, Value::Null).await;
    assert_eq!(c["offset_seconds"], 0, "the clock is real again");
    let faults = realm
        .admin_json(
            &server,
            Method::GET,
            "/api/v1/test/faults",
            Value::Null,
            StatusCode::OK,
        )
        .await;
    assert_eq!(faults["faults"], json!([]));
    assert_eq!(
        server
            .get(&realm.p("/oauth/jwks"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let journal = realm
        .admin_json(
            &server,
            Method::GET,
            "/api/v1/test/requests",
            Value::Null,
            StatusCode::OK,
        )
        .await;
    let before = journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["path"] == "/api/v1/users" && e["method"] == "POST");
    assert!(!before, "the journal starts afresh: {journal}");
    // The default realm is not reset: each test takes a realm of its own.
    let resp = server
        .as_admin(Method::POST, "/api/v1/test/reset")
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::CONFLICT, "not_supported").await;
}

async fn realm_with_seed(server: &TestServer, name: &str, seed: Value) -> Value {
    crate::realms::create_realm(server, json!({"name": name, "seed": seed})).await
}

/// `max_age` measures the sign-in's age on the realm's clock.
#[tokio::test]
async fn max_age_follows_the_realms_clock() {
    let server = TestServer::start().await;
    let realm = RealmRef::create(&server, "aging").await;
    realm
        .admin_json(
            &server,
            Method::POST,
            "/api/v1/users",
            json!({"username": "ola", "password": "ola-password"}),
            StatusCode::CREATED,
        )
        .await;
    let web = realm.client(&server, json!({"name": "web", "type": "confidential", "redirect_uris": [CB], "grant_types": ["authorization_code"], "scopes": ["openid", "read"], "skip_consent": true})).await;
    let url = |extra: &str| {
        format!(
            "{}{}",
            realm.path,
            authorize_url(&web, CB, &format!("&scope=openid&nonce=n{extra}"))
        )
    };
    let mut browser = Browser::new(&server);
    browser
        .sign_in_for_code(&url(""), "ola", "ola-password")
        .await;
    assert_eq!(
        browser.get(&url("&max_age=60")).await.status(),
        StatusCode::FOUND,
        "a fresh sign-in"
    );
    advance(&server, &realm, 120).await;
    let page = browser.get(&url("&max_age=60")).await.text().await.unwrap();
    assert!(
        page.contains("name=\"username\""),
        "two minutes later the sign-in is too old: {page}"
    );
    assert_eq!(
        browser.get(&url("&max_age=600")).await.status(),
        StatusCode::FOUND,
        "but not for ten minutes"
    );
}

/// An API key's `last_used_at` is the realm's time of use.
#[tokio::test]
async fn last_used_at_follows_the_realms_clock() {
    let server = TestServer::start().await;
    let realm = RealmRef::create(&server, "used").await;
    let key = realm
        .admin_json(
            &server,
            Method::POST,
            "/api/v1/api-keys",
            json!({"name": "k"}),
            StatusCode::CREATED,
        )
        .await;
    let (secret, id) = (key["secret"].as_str().unwrap(), key["id"].as_str().unwrap());
    clock(
        &server,
        &realm,
        Method::PUT,
        json!({"frozen_at": "2030-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(realm.me(&server, secret).await, StatusCode::OK);
    let seen = realm
        .admin_json(
            &server,
            Method::GET,
            &format!("/api/v1/api-keys/{id}"),
            Value::Null,
            StatusCode::OK,
        )
        .await;
    assert_eq!(seen["last_used_at"], "2030-01-01T00:00:00Z", "{seen}");
    assert_eq!(seen["use_count"], 1);
}
