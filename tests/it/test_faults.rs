//! Test control: queued faults answer instead of an endpoint (and change
//! nothing), and the request journal records what an app actually sent,
//! secrets redacted.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{expect_error, expect_json, ClientAuth, Grant, OAuthClient, TestServer};
use crate::realms::RealmRef;

async fn fault(server: &TestServer, realm: &RealmRef, body: Value) -> Value {
    realm
        .admin_json(
            server,
            Method::POST,
            "/api/v1/test/faults",
            body,
            StatusCode::CREATED,
        )
        .await
}

async fn refused(server: &TestServer, realm: &RealmRef, body: Value, field: &str) {
    let err = realm
        .post_refused(server, "/api/v1/test/faults", body)
        .await;
    assert!(
        err["error_description"]
            .as_str()
            .unwrap()
            .starts_with(field),
        "{field}: {err}"
    );
}

fn hash8(credential: &str) -> String {
    let h = latchkey::secret::fingerprint(credential);
    h.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn faults_answer_instead_and_change_nothing() {
    let server = TestServer::start().await;
    let realm = RealmRef::create(&server, "faulty").await;
    // For answers the spec does not declare (a fault's own): sent unchecked.
    let raw = reqwest::Client::new();
    let cc = realm.client(&server, json!({"name": "cc", "type": "confidential", "grant_types": ["client_credentials", "refresh_token"], "scopes": ["read"]})).await;
    let token = |c: &OAuthClient| {
        let c = c.clone();
        let (server, realm) = (&server, &realm);
        async move {
            realm
                .token(server, c.auth(), Grant::client_credentials())
                .await
        }
    };
    let f = fault(&server, &realm, json!({"match": {"endpoint": "token", "client_id": cc.id}, "respond": {"oauth_error": "invalid_client", "description": "told to"}})).await;
    assert_eq!(
        (f["remaining"].clone(), f["fired"].clone()),
        (json!(1), json!(0))
    );
    let err = expect_error(token(&cc).await, StatusCode::UNAUTHORIZED, "invalid_client").await;
    assert_eq!(err["error_description"], "told to");
    assert_eq!(token(&cc).await.status(), StatusCode::OK, "once only");
    let listed = realm
        .admin_json(
            &server,
            Method::GET,
            "/api/v1/test/faults",
            Value::Null,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        (
            listed["faults"][0]["remaining"].clone(),
            listed["faults"][0]["fired"].clone()
        ),
        (json!(0), json!(1))
    );

    // Until deleted; another realm (and the default one) untouched.
    let f = fault(&server, &realm, json!({"match": {"endpoint": "token"}, "respond": {"oauth_error": "temporarily_unavailable"}, "times": 0})).await;
    assert_eq!(f["remaining"], Value::Null);
    for _ in 0..3 {
        expect_error(
            token(&cc).await,
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
        )
        .await;
    }
    let other = server.admin_client(json!({"name": "d", "type": "confidential", "grant_types": ["client_credentials"], "scopes": ["read"]})).await;
    assert_eq!(
        server
            .token(OAuthClient::of(&other).auth(), Grant::client_credentials())
            .await
            .status(),
        StatusCode::OK
    );
    let resp = server
        .request(
            Method::DELETE,
            &realm.p(&format!(
                "/api/v1/test/faults/{}",
                f["id"].as_str().unwrap()
            )),
        )
        .basic_auth(&realm.admin.0, Some(&realm.admin.1))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(token(&cc).await.status(), StatusCode::OK);

    // A status, body and headers of the test's choosing; a malformed body; a dropped connection.
    fault(&server, &realm, json!({"match": {"endpoint": "discovery"}, "respond": {"status": 418, "body": {"teapot": true}, "headers": {"retry-after": "7"}}})).await;
    let resp = server
        .get(&realm.p("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            resp.status(),
            resp.headers()["retry-after"].to_str().unwrap().to_owned()
        ),
        (StatusCode::IM_A_TEAPOT, "7".to_owned())
    );
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"teapot": true}));
    fault(
        &server,
        &realm,
        json!({"match": {"endpoint": "jwks"}, "respond": {"malformed_body": true}}),
    )
    .await;
    let resp = server.get(&realm.p("/oauth/jwks")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(serde_json::from_str::<Value>(&resp.text().await.unwrap()).is_err());
    fault(
        &server,
        &realm,
        json!({"match": {"endpoint": "token"}, "respond": {"close_connection": true}}),
    )
    .await;
    let sent = raw
        .post(server.url(&realm.p("/oauth/token")))
        .basic_auth(&cc.id, cc.secret.as_deref())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await;
    let dropped = match sent {
        Ok(resp) => match resp.text().await {
            Ok(body) => panic!("an answer came: {body}"),
            Err(e) => e,
        },
        Err(e) => e,
    };
    assert!(
        dropped.is_body() || dropped.is_request() || dropped.is_decode(),
        "{dropped:?}"
    );
    assert_eq!(token(&cc).await.status(), StatusCode::OK);
    // A delay, then the normal answer.
    fault(
        &server,
        &realm,
        json!({"match": {"endpoint": "token"}, "respond": {"delay_ms": 300}}),
    )
    .await;
    let t = std::time::Instant::now();
    assert_eq!(token(&cc).await.status(), StatusCode::OK);
    assert!(t.elapsed() >= std::time::Duration::from_millis(300));

    // An api fault never answers test control itself, so it can be undone.
    fault(&server, &realm, json!({"match": {"endpoint": "api"}, "respond": {"oauth_error": "server_error"}, "times": 0})).await;
    let resp = server
        .get(&realm.p("/api/v1/users/me"))
        .basic_auth(&realm.admin.0, Some(&realm.admin.1))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let resp = server
        .request(Method::DELETE, &realm.p("/api/v1/test/faults"))
        .basic_auth(&realm.admin.0, Some(&realm.admin.1))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    realm
        .admin_json(
            &server,
            Method::GET,
            "/api/v1/users/me",
            Value::Null,
            StatusCode::OK,
        )
        .await;

    for (body, field) in [
        (
            json!({"match": {"endpoint": "nowhere"}, "respond": {"malformed_body": true}}),
            "match.endpoint",
        ),
        (
            json!({"match": {"endpoint": "token"}, "respond": {"malformed_body": true, "delay_ms": 5}}),
            "respond",
        ),
        (
            json!({"match": {"endpoint": "token"}, "respond": {}}),
            "respond",
        ),
        (
            json!({"match": {"endpoint": "token"}, "respond": {"delay_ms": 30001}}),
            "respond.delay_ms",
        ),
        (
            json!({"match": {"endpoint": "token"}, "respond": {"body": {}}}),
            "respond.status",
        ),
        (
            json!({"match": {"endpoint": "token"}, "respond": {"status": 99, "body": {}}}),
            "respond.status",
        ),
        (
            json!({"match": {"endpoint": "token"}, "respond": {"oauth_error": "Bad Code"}}),
            "respond.oauth_error",
        ),
    ] {
        refused(&server, &realm, body, field).await;
    }
    let resp = server
        .request(Method::DELETE, &realm.p("/api/v1/test/faults/flt_nope"))
        .basic_auth(&realm.admin.0, Some(&realm.admin.1))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn a_faulted_code_redemption_spends_nothing() {
    let server = TestServer::start().await;
    let realm = RealmRef::default_realm();
    server.create_user("pia", "pia-password", &["member"]).await;
    let web = realm.client(&server, json!({"name": "web", "type": "confidential", "grant_types": ["password", "refresh_token"], "scopes": ["read"]})).await;
    let t = expect_json(
        server
            .oauth_form(
                "/oauth/token",
                web.auth(),
                &[
                    ("grant_type", "password"),
                    ("username", "pia"),
                    ("password", "pia-password"),
                ],
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let rt = t["refresh_token"].as_str().unwrap();
    fault(&server, &realm, json!({"match": {"endpoint": "token", "grant_type": "refresh_token"}, "respond": {"oauth_error": "temporarily_unavailable"}})).await;
    expect_error(
        server.token(web.auth(), Grant::refresh(rt)).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
    )
    .await;
    // The refresh token was not rotated by the faulted request.
    assert_eq!(
        server.token(web.auth(), Grant::refresh(rt)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_journal_shows_what_was_sent_without_its_secrets() {
    let server = TestServer::start().await;
    let realm = RealmRef::create(&server, "watched").await;
    let cc = realm.client(&server, json!({"name": "cc", "type": "confidential", "grant_types": ["client_credentials"], "scopes": ["read"]})).await;
    let t = expect_json(
        realm
            .token(
                &server,
                cc.post(),
                Grant::client_credentials().scope("read"),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let at = t["access_token"].as_str().unwrap();
    realm.introspect(&server, cc.auth(), at).await;
    let bad = realm
        .token(
            &server,
            ClientAuth::Basic(&cc.id, "lk_cs_wrong-secret-entirely"),
            Grant::client_credentials(),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    realm
        .admin_json(
            &server,
            Method::GET,
            "/api/v1/test/clock",
            Value::Null,
            StatusCode::OK,
        )
        .await;

    let get = |query: &str| {
        let url = realm.p(&format!("/api/v1/test/requests{query}"));
        let (server, realm) = (&server, &realm);
        async move {
            realm
                .admin_json(
                    server,
                    Method::GET,
                    url.trim_start_matches(&realm.path),
                    Value::Null,
                    StatusCode::OK,
                )
                .await
        }
    };
    let all = get("").await;
    let paths: Vec<&str> = all["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert!(
        !paths.iter().any(|p| p.starts_with("/api/v1/test")),
        "test control is not recorded: {paths:?}"
    );
    let tokens = get(&format!("?endpoint=token&client_id={}", cc.id)).await;
    assert_eq!(tokens["count"], 2, "{tokens}");
    let (failed, issued) = (&tokens["requests"][0], &tokens["requests"][1]);
    assert_eq!(
        (failed["status"].clone(), failed["error"].clone()),
        (json!(401), json!("invalid_client")),
        "the claimed client id is kept"
    );
    assert_eq!(issued["params"]["client_secret"], "***");
    assert_eq!(issued["params"]["grant_type"], "client_credentials");
    assert_eq!(
        (
            issued["grant_type"].clone(),
            issued["scope"].clone(),
            issued["status"].clone()
        ),
        (json!("client_credentials"), json!("read"), json!(200))
    );
    let seen = get("?endpoint=introspect").await;
    assert_eq!(
        seen["requests"][0]["params"]["token"],
        format!("lk_at_#{}", hash8(at))
    );
    assert!(
        !seen.to_string().contains(at),
        "the token itself is never kept"
    );
    assert_eq!(get("?status=401").await["count"], 1);
    assert_eq!(get("?since=2999-01-01T00:00:00Z").await["count"], 0);
    let limited = get("?limit=1").await;
    assert_eq!(limited["requests"].as_array().unwrap().len(), 1);
    assert!(limited["count"].as_u64().unwrap() >= 3);
    let resp = server
        .get(&realm.p("/api/v1/test/requests?since=yesterday"))
        .basic_auth(&realm.admin.0, Some(&realm.admin.1))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    let resp = server
        .request(Method::DELETE, &realm.p("/api/v1/test/requests"))
        .basic_auth(&realm.admin.0, Some(&realm.admin.1))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(get("").await["count"], 0);
    // The default realm's journal never saw the realm's requests.
    let root = expect_json(
        server
            .as_admin(Method::GET, "/api/v1/test/requests?endpoint=token")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(root["count"], 0);
}
