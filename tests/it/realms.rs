//! Realms: made, listed and deleted through `/api/v1/realms`; served under
//! `/realms/{name}` with their own issuer; and isolated — no credential of one
//! realm is accepted by another, in either direction.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::code_flow::{authorize_url, CB, VERIFIER};
use crate::common::{
    expect_error, expect_json, Browser, ClientAuth, Grant, OAuthClient, TestServer, ADMIN,
};

/// Creates the realm `name` as the default realm's admin; returns the 201 body.
pub async fn create_realm(server: &TestServer, body: Value) -> Value {
    let resp = server
        .as_admin(Method::POST, "/api/v1/realms")
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_json(resp, StatusCode::CREATED).await
}

/// One realm as a test sees it: its path and its admin's credentials.
pub struct RealmRef {
    pub path: String,
    pub admin: (String, String),
}

impl RealmRef {
    pub fn default_realm() -> RealmRef {
        RealmRef {
            path: String::new(),
            admin: (ADMIN.0.into(), ADMIN.1.into()),
        }
    }

    /// Creates `name` with a generated admin password.
    pub async fn create(server: &TestServer, name: &str) -> RealmRef {
        let body = create_realm(server, json!({ "name": name })).await;
        RealmRef {
            path: format!("/realms/{name}"),
            admin: (
                "admin".into(),
                body["admin"]["password"].as_str().unwrap().into(),
            ),
        }
    }

    pub fn p(&self, path: &str) -> String {
        format!("{}{path}", self.path)
    }

    pub fn admin_auth(&self) -> ClientAuth<'_> {
        ClientAuth::Basic(&self.admin.0, &self.admin.1)
    }

    /// `method path` in this realm as its admin, with a JSON body, expecting `status`.
    pub async fn admin_json(
        &self,
        server: &TestServer,
        method: Method,
        path: &str,
        body: Value,
        status: StatusCode,
    ) -> Value {
        let resp = server
            .request(method, &self.p(path))
            .basic_auth(&self.admin.0, Some(&self.admin.1))
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_json(resp, status).await
    }

    /// `POST path` in this realm as its admin, expecting 400 `invalid_request`;
    /// returns the error body.
    pub async fn post_refused(&self, server: &TestServer, path: &str, body: Value) -> Value {
        let resp = server
            .post(&self.p(path))
            .basic_auth(&self.admin.0, Some(&self.admin.1))
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await
    }

    pub async fn client(&self, server: &TestServer, body: Value) -> OAuthClient {
        OAuthClient::of(
            &self
                .admin_json(
                    server,
                    Method::POST,
                    "/api/v1/clients",
                    body,
                    StatusCode::CREATED,
                )
                .await,
        )
    }

    pub async fn token(
        &self,
        server: &TestServer,
        auth: ClientAuth<'_>,
        grant: Grant<'_>,
    ) -> reqwest::Response {
        server
            .oauth_form(&self.p("/oauth/token"), auth, &grant.params())
            .await
    }

    pub async fn me(&self, server: &TestServer, bearer: &str) -> StatusCode {
        server
            .get(&self.p("/api/v1/users/me"))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap()
            .status()
    }

    pub async fn introspect(
        &self,
        server: &TestServer,
        auth: ClientAuth<'_>,
        token: &str,
    ) -> Value {
        let resp = server
            .oauth_form(&self.p("/oauth/introspect"), auth, &[("token", token)])
            .await;
        expect_json(resp, StatusCode::OK).await
    }

    pub async fn kids(&self, server: &TestServer) -> Vec<String> {
        let jwks = expect_json(
            server.get(&self.p("/oauth/jwks")).send().await.unwrap(),
            StatusCode::OK,
        )
        .await;
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// Every credential kind a realm hands out, made in one realm.
pub struct Credentials {
    pub user: (String, String),
    pub api_key: String,
    pub cc: OAuthClient,
    pub opaque: String,
    pub jwt: String,
    pub web: OAuthClient,
    /// From the code flow (scope `openid read`).
    pub user_token: String,
    pub refresh: String,
    pub id_token: String,
    /// A code not yet redeemed.
    pub spare_code: String,
    pub session: String,
}

pub async fn credentials(server: &TestServer, realm: &RealmRef) -> Credentials {
    // The same username in every realm, a password of its own in each.
    let user = ("pat".to_owned(), format!("pat-password{}", realm.path));
    realm
        .admin_json(
            server,
            Method::POST,
            "/api/v1/users",
            json!({"username": user.0, "password": user.1, "roles": ["member"]}),
            StatusCode::CREATED,
        )
        .await;
    let key = expect_json(
        server
            .post(&realm.p("/api/v1/api-keys"))
            .basic_auth(&user.0, Some(&user.1))
            .json(&json!({"name": "ci"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let api_key = key["secret"].as_str().unwrap().to_owned();
    let cc = realm
        .client(
            server,
            json!({"name": "svc", "type": "confidential", "grant_types": ["client_credentials"], "scopes": ["read"]}),
        )
        .await;
    let jwt_cc = realm
        .client(
            server,
            json!({"name": "jwt svc", "type": "confidential", "grant_types": ["client_credentials"],
                   "scopes": ["read"], "access_token_format": "jwt", "access_token_signed_response_alg": "ES256"}),
        )
        .await;
    let token = |c: &OAuthClient| {
        let c = c.clone();
        async move {
            let resp = realm
                .token(server, c.auth(), Grant::client_credentials())
                .await;
            expect_json(resp, StatusCode::OK).await["access_token"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let opaque = token(&cc).await;
    let jwt = token(&jwt_cc).await;
    assert_eq!(jwt.matches('.').count(), 2, "a JWT: {jwt}");
    let web = realm
        .client(
            server,
            json!({"name": "web", "type": "confidential", "redirect_uris": [CB],
                   "grant_types": ["authorization_code", "refresh_token"],
                   "scopes": ["openid", "read"], "skip_consent": true}),
        )
        .await;
    let url = format!(
        "{}{}",
        realm.path,
        authorize_url(&web, CB, "&scope=openid%20read&nonce=n-1")
    );
    let mut browser = Browser::new(server);
    let code = browser.sign_in_for_code(&url, &user.0, &user.1).await;
    let spare_code = browser.code_again(&url).await;
    let session = browser.cookie("lk_session").unwrap().to_owned();
    let resp = realm
        .token(
            server,
            web.auth(),
            Grant::code(&code, CB).verifier(VERIFIER),
        )
        .await;
    let tokens = expect_json(resp, StatusCode::OK).await;
    Credentials {
        user,
        api_key,
        cc,
        opaque,
        jwt,
        web,
        user_token: tokens["access_token"].as_str().unwrap().into(),
        refresh: tokens["refresh_token"].as_str().unwrap().into(),
        id_token: tokens["id_token"].as_str().unwrap().into(),
        spare_code,
        session,
    }
}

/// What `from`'s credentials are worth in `to`: nothing.
async fn refused_across(
    server: &TestServer,
    from: &RealmRef,
    c: &Credentials,
    to: &RealmRef,
    tc: &Credentials,
) {
    let at = &to.path;
    // Each works at home...
    for bearer in [&c.api_key, &c.opaque, &c.jwt, &c.user_token] {
        assert_eq!(
            from.me(server, bearer).await,
            StatusCode::OK,
            "at home: {bearer}"
        );
    }
    // ...and nowhere else: a member's API key and access token, and the
    // client tokens (they act for the admin who registered the client) —
    // except that the default realm's admins administer every realm.
    for bearer in [&c.api_key, &c.user_token] {
        assert_eq!(
            to.me(server, bearer).await,
            StatusCode::UNAUTHORIZED,
            "{bearer} in {at:?}"
        );
    }
    for bearer in [&c.opaque, &c.jwt] {
        let want = if from.path.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(to.me(server, bearer).await, want, "{bearer} in {at:?}");
    }
    let basic = server
        .get(&to.p("/api/v1/users/me"))
        .basic_auth(&c.user.0, Some(&c.user.1))
        .send()
        .await
        .unwrap();
    assert_eq!(
        basic.status(),
        StatusCode::UNAUTHORIZED,
        "a password of another realm"
    );
    for token in [&c.opaque, &c.jwt, &c.user_token, &c.refresh, &c.id_token] {
        let seen = to.introspect(server, tc.cc.auth(), token).await;
        assert_eq!(
            seen,
            json!({"active": false}),
            "{token} introspected in {at:?}"
        );
    }
    let code = to
        .token(
            server,
            tc.web.auth(),
            Grant::code(&c.spare_code, CB).verifier(VERIFIER),
        )
        .await;
    expect_error(code, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let refresh = to
        .token(server, tc.web.auth(), Grant::refresh(&c.refresh))
        .await;
    expect_error(refresh, StatusCode::BAD_REQUEST, "invalid_grant").await;
    // The other realm's client credentials are unknown here.
    let cc = to
        .token(server, c.cc.auth(), Grant::client_credentials())
        .await;
    expect_error(cc, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let theirs = from.kids(server).await;
    assert!(
        to.kids(server).await.iter().all(|k| !theirs.contains(k)),
        "JWKS shares no key"
    );
    // A session of one realm signs nobody in elsewhere.
    let mut b = Browser::new(server);
    b.set_cookie("lk_session", &c.session);
    let url = format!("{}{}", to.path, authorize_url(&tc.web, CB, "&scope=read"));
    let page = b.get(&url).await.text().await.unwrap();
    assert!(
        page.contains("name=\"username\""),
        "the login page, not a code: {page}"
    );
    // Revoking it here does nothing to it there.
    let resp = server
        .oauth_form(
            &to.p("/oauth/revoke"),
            tc.cc.auth(),
            &[("token", &c.opaque)],
        )
        .await;
    assert!(resp.status().is_success() || resp.status() == StatusCode::BAD_REQUEST);
    assert_eq!(from.me(server, &c.opaque).await, StatusCode::OK);
}

#[tokio::test]
async fn no_credential_crosses_a_realm_boundary() {
    let server = TestServer::start().await;
    let default = RealmRef::default_realm();
    let a = RealmRef::create(&server, "team-a").await;
    let b = RealmRef::create(&server, "team-b").await;
    let (cd, ca, cb) = (
        credentials(&server, &default).await,
        credentials(&server, &a).await,
        credentials(&server, &b).await,
    );
    refused_across(&server, &a, &ca, &b, &cb).await;
    refused_across(&server, &b, &cb, &a, &ca).await;
    refused_across(&server, &default, &cd, &a, &ca).await;
    refused_across(&server, &a, &ca, &default, &cd).await;
}

#[tokio::test]
async fn a_realm_is_its_own_issuer() {
    let server = TestServer::start().await;
    let body = create_realm(
        &server,
        json!({"name": "acme", "admin_password": "acme-admin-password"}),
    )
    .await;
    let issuer = server.url("/realms/acme");
    assert_eq!(body["name"], "acme");
    assert_eq!(body["issuer"], issuer.as_str());
    assert_eq!(
        body["discovery_url"],
        format!("{issuer}/.well-known/openid-configuration")
    );
    assert_eq!(body["docs_url"], format!("{issuer}/docs"));
    assert_eq!(
        body["admin"],
        json!({"username": "admin", "password": null}),
        "a chosen password is not echoed"
    );
    for doc in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        for prefix in ["/realms/acme", "/auth/realms/acme"] {
            let d = expect_json(
                server.get(&format!("{prefix}{doc}")).send().await.unwrap(),
                StatusCode::OK,
            )
            .await;
            assert_eq!(d["issuer"], issuer.as_str(), "{prefix}{doc}");
            for k in [
                "authorization_endpoint",
                "token_endpoint",
                "jwks_uri",
                "introspection_endpoint",
                "revocation_endpoint",
            ] {
                assert!(
                    d[k].as_str().unwrap().starts_with(&format!("{issuer}/")),
                    "{k}: {}",
                    d[k]
                );
            }
        }
    }
    // Its admin signs in with the chosen password; the default realm's does not know it.
    let realm = RealmRef {
        path: "/realms/acme".into(),
        admin: ("admin".into(), "acme-admin-password".into()),
    };
    let me = realm
        .admin_json(
            &server,
            Method::GET,
            "/api/v1/users/me",
            Value::Null,
            StatusCode::OK,
        )
        .await;
    assert_eq!(me["username"], "admin");
    let resp = server
        .get("/api/v1/users/me")
        .basic_auth("admin", Some("acme-admin-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // Tokens say whose they are.
    let cc = realm.client(&server, json!({"name": "j", "type": "confidential", "grant_types": ["client_credentials"], "scopes": ["read"], "access_token_format": "jwt", "access_token_signed_response_alg": "EdDSA"})).await;
    let t = expect_json(
        realm
            .token(&server, cc.auth(), Grant::client_credentials())
            .await,
        StatusCode::OK,
    )
    .await;
    let claims = crate::oidc::payload(t["access_token"].as_str().unwrap());
    assert_eq!(claims["iss"], issuer.as_str());
    // Cookies stay under the realm's path.
    let web = realm.client(&server, json!({"name": "w", "type": "confidential", "redirect_uris": [CB], "grant_types": ["authorization_code"], "scopes": ["read"]})).await;
    let resp = server
        .get(&format!("/realms/acme{}", authorize_url(&web, CB, "")))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        !cookies.is_empty() && cookies.iter().all(|c| c.contains("Path=/realms/acme;")),
        "{cookies:?}"
    );
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("action=\"/realms/acme/oauth/authorize/login\""),
        "{page}"
    );
    // Its front door names it.
    let door = expect_json(
        server.get("/realms/acme").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (door["realm"].clone(), door["issuer"].clone()),
        (json!("acme"), json!(issuer))
    );
    // Swagger UI of the realm signs in with the realm's swagger-ui client.
    let docs = server
        .get("/realms/acme/docs")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(docs.contains("\"/realms/acme/docs/oauth-receiver.html\""));
    let receiver = server
        .get("/realms/acme/docs/oauth-receiver.html")
        .send()
        .await
        .unwrap();
    assert_eq!(receiver.status(), StatusCode::OK);
    let swagger = realm
        .admin_json(
            &server,
            Method::GET,
            "/api/v1/clients/swagger-ui",
            Value::Null,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        swagger["redirect_uris"],
        json!(["/realms/acme/docs/oauth-receiver.html"])
    );
}

#[tokio::test]
async fn realms_are_managed_from_the_default_realm_only() {
    let server = TestServer::start().await;
    for (name, says) in [
        ("", "1 to 63"),
        ("Team", "'T'"),
        ("-a", "start or end"),
        ("default", "reserved"),
        (&"x".repeat(64) as &str, "1 to 63"),
    ] {
        let resp = server
            .as_admin(Method::POST, "/api/v1/realms")
            .json(&json!({"name": name}))
            .send()
            .await
            .unwrap();
        let body = expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
        assert!(
            body["error_description"].as_str().unwrap().contains(says),
            "{name}: {body}"
        );
    }
    let a = create_realm(&server, json!({"name": "a"})).await;
    let pw = a["admin"]["password"].as_str().unwrap();
    assert!(pw.len() >= 24, "{a}");
    let again = server
        .as_admin(Method::POST, "/api/v1/realms")
        .json(&json!({"name": "a"}))
        .send()
        .await
        .unwrap();
    expect_error(again, StatusCode::CONFLICT, "realm_exists").await;
    for n in ["c", "b"] {
        create_realm(&server, json!({"name": n})).await;
    }
    let page = expect_json(
        server
            .as_admin(Method::GET, "/api/v1/realms?limit=2")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let names: Vec<&str> = page["realms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(page["next_after"], "b");
    let rest = expect_json(
        server
            .as_admin(Method::GET, "/api/v1/realms?after=b")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(rest["realms"][0]["name"], "c");
    assert_eq!(rest["next_after"], Value::Null);
    let one = expect_json(
        server
            .as_admin(Method::GET, "/api/v1/realms/b")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(one["issuer"], server.url("/realms/b").as_str());
    // A member of the default realm may not; a realm's own admin may not either.
    server.create_user("mia", "mia-password", &["member"]).await;
    let resp = server
        .post("/api/v1/realms")
        .basic_auth("mia", Some("mia-password"))
        .json(&json!({"name": "m"}))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    let resp = server
        .post("/realms/a/api/v1/realms")
        .basic_auth("admin", Some(pw))
        .json(&json!({"name": "m"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // The default realm's admin administers every realm (as its admin).
    let users = expect_json(
        server
            .as_admin(Method::GET, "/realms/a/api/v1/users")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(users["users"][0]["username"], "admin");
    let resp = server
        .get("/realms/a/api/v1/users")
        .basic_auth("mia", Some("mia-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "a default-realm member is nobody in a realm"
    );
    // Deleting: gone at once, JSON 404 for the API, a page for the browser.
    let resp = server
        .as_admin(Method::DELETE, "/api/v1/realms/a")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = server
        .get("/realms/a/.well-known/openid-configuration")
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = server
        .get("/realms/a/oauth/authorize?client_id=x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let resp = server
        .get("/realms/a/api/v1/users/me")
        .basic_auth("admin", Some(pw))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = server
        .as_admin(Method::DELETE, "/api/v1/realms/a")
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = server
        .as_admin(Method::GET, "/api/v1/realms/a")
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    // The name can be used again, for a new, empty realm.
    let again = create_realm(&server, json!({"name": "a"})).await;
    let resp = server
        .get("/realms/a/api/v1/users/me")
        .basic_auth("admin", Some(pw))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "the old admin's password: {again}"
    );
}

#[tokio::test]
async fn realms_survive_a_restart_and_deleting_one_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::builder().data_dir(dir.path()).start().await;
    let before = server.state.store.created_realm_records().unwrap();
    assert_eq!(before, 0);
    let keep = RealmRef::create(&server, "keep").await;
    let kc = credentials(&server, &keep).await;
    let doomed = RealmRef::create(&server, "doomed").await;
    let dc = credentials(&server, &doomed).await;
    // Every kind of record: revocations and consents too.
    let resp = server
        .oauth_form(
            &doomed.p("/oauth/revoke"),
            dc.cc.auth(),
            &[("token", &dc.opaque)],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let scope = doomed
        .admin_json(
            &server,
            Method::POST,
            "/api/v1/scopes",
            json!({"name": "extra:read", "description": "x"}),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(scope["name"], "extra:read");
    let with_both = server.state.store.created_realm_records().unwrap();
    server.stop().await;

    let server = TestServer::builder().data_dir(dir.path()).start().await;
    assert_eq!(
        server.state.store.created_realm_records().unwrap(),
        with_both
    );
    for (realm, c) in [(&keep, &kc), (&doomed, &dc)] {
        assert_eq!(realm.me(&server, &c.api_key).await, StatusCode::OK);
        assert_eq!(realm.me(&server, &c.jwt).await, StatusCode::OK);
    }
    assert_eq!(
        doomed.me(&server, &dc.opaque).await,
        StatusCode::UNAUTHORIZED,
        "revoked stays revoked"
    );
    let keep_only = {
        let resp = server
            .as_admin(Method::DELETE, "/api/v1/realms/doomed")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        server.state.store.created_realm_records().unwrap()
    };
    assert!(keep_only < with_both);
    let keep_state = server.realms.get("keep").unwrap();
    assert_eq!(
        keep_only,
        keep_state.store.record_count(),
        "only the kept realm's records remain"
    );
    drop(keep_state);
    let resp = server
        .as_admin(Method::DELETE, "/api/v1/realms/keep")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(server.state.store.created_realm_records().unwrap(), before);
    server.stop().await;
    let server = TestServer::builder().data_dir(dir.path()).start().await;
    assert!(server.realms.is_empty());
    assert_eq!(server.state.store.created_realm_records().unwrap(), before);
    let list = expect_json(
        server
            .as_admin(Method::GET, "/api/v1/realms")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["realms"], json!([]));
}

#[tokio::test]
async fn deleting_a_busy_realm_answers_every_request_cleanly() {
    let server = TestServer::start().await;
    let realm = RealmRef::create(&server, "busy").await;
    let cc = realm
        .client(&server, json!({"name": "svc", "type": "confidential", "grant_types": ["client_credentials"], "scopes": ["read"]}))
        .await;
    let mut tasks = Vec::new();
    for i in 0..48 {
        let (client, base, cc, admin) = (
            server.client.clone(),
            server.base.clone(),
            cc.clone(),
            realm.admin.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let resp = if i % 2 == 0 {
                client
                    .post(format!("{base}/realms/busy/oauth/token"))
                    .basic_auth(&cc.id, cc.secret.as_deref())
                    .form(&[("grant_type", "client_credentials")])
                    .send()
                    .await
            } else {
                client
                    .post(format!("{base}/realms/busy/api/v1/users"))
                    .basic_auth(&admin.0, Some(&admin.1))
                    .json(&json!({"username": format!("u{i}"), "password": "a-long-password"}))
                    .send()
                    .await
            };
            resp.unwrap().status()
        }));
    }
    let resp = server
        .as_admin(Method::DELETE, "/api/v1/realms/busy")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    for t in tasks {
        let status = t.await.unwrap();
        assert!(
            status.is_success()
                || status == StatusCode::NOT_FOUND
                || status == StatusCode::UNAUTHORIZED,
            "{status}"
        );
    }
    // What in-flight requests wrote after the purge is swept.
    server.realms.sweep_orphans().await.unwrap();
    assert_eq!(server.state.store.created_realm_records().unwrap(), 0);
}

/// The same client, with the same id and secret, in two realms.
const SEEDED_REALMS: &str = r#"
[[realms]]
name = "east"
admin_password = "east-admin-password"
[[realms.users]]
username = "eve"
password = "eve-password-east"
[[realms.clients]]
client_id = "shared-app"
client_secret = "lk_cs_the-same-secret-in-both"
name = "Shared"
type = "confidential"
grant_types = ["client_credentials"]
scopes = ["read"]

[[realms]]
name = "west"
[[realms.clients]]
client_id = "shared-app"
client_secret = "lk_cs_the-same-secret-in-both"
name = "Shared"
type = "confidential"
grant_types = ["client_credentials"]
scopes = ["read"]
"#;

#[tokio::test]
async fn seeded_realms_are_made_at_start_and_kept_in_line() {
    let dir = tempfile::tempdir().unwrap();
    let seed = std::sync::Arc::new(latchkey::seed::parse(SEEDED_REALMS).unwrap());
    let start = || {
        let seed = seed.clone();
        TestServer::builder()
            .data_dir(dir.path())
            .config(move |c| c.seed = Some(seed))
            .start()
    };
    let server = start().await;
    let app = OAuthClient {
        id: "shared-app".into(),
        secret: Some("lk_cs_the-same-secret-in-both".into()),
    };
    let east = RealmRef {
        path: "/realms/east".into(),
        admin: ("admin".into(), "east-admin-password".into()),
    };
    let west = RealmRef {
        path: "/realms/west".into(),
        admin: ("admin".into(), "unknown".into()),
    };
    let token = |r: &RealmRef| {
        let (r, app) = (r.p(""), app.clone());
        let server = &server;
        async move {
            let resp = server
                .oauth_form(
                    &format!("{r}/oauth/token"),
                    app.auth(),
                    &Grant::client_credentials().params(),
                )
                .await;
            expect_json(resp, StatusCode::OK).await["access_token"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (te, tw) = (token(&east).await, token(&west).await);
    // Same client id and secret; still each realm's token only.
    assert_eq!(
        east.introspect(&server, app.auth(), &te).await["active"],
        true
    );
    assert_eq!(
        west.introspect(&server, app.auth(), &te).await,
        json!({"active": false})
    );
    assert_eq!(
        east.introspect(&server, app.auth(), &tw).await,
        json!({"active": false})
    );
    let me = east
        .admin_json(
            &server,
            Method::GET,
            "/api/v1/users/me",
            Value::Null,
            StatusCode::OK,
        )
        .await;
    assert_eq!(me["username"], "admin");
    let eve = server
        .get("/realms/east/api/v1/users/me")
        .basic_auth("eve", Some("eve-password-east"))
        .send()
        .await
        .unwrap();
    assert_eq!(eve.status(), StatusCode::OK);
    server.stop().await;
    // Started again with the same seed: nothing new, nothing lost.
    let server = start().await;
    assert_eq!(server.realms.len(), 2);
    let eve = server
        .get("/realms/east/api/v1/users/me")
        .basic_auth("eve", Some("eve-password-east"))
        .send()
        .await
        .unwrap();
    assert_eq!(eve.status(), StatusCode::OK);
    let users = east
        .admin_json(
            &server,
            Method::GET,
            "/api/v1/users",
            Value::Null,
            StatusCode::OK,
        )
        .await;
    assert_eq!(users["users"].as_array().unwrap().len(), 2, "{users}");
    server.stop().await;
}

#[tokio::test]
async fn an_inline_seed_is_applied_or_refused_whole() {
    let server = TestServer::start().await;
    let seed = json!({
        "users": [{"username": "ann", "password": "ann-password", "claims": {"tenant": "acme"}}],
        "clients": [{"client_id": "svc", "client_secret": "lk_cs_inline-seeded-secret", "name": "Svc",
                     "type": "confidential", "grant_types": ["client_credentials"], "scopes": ["read"],
                     "owner": "ann"}],
        "api_keys": [{"owner": "ann", "name": "ci", "secret": "lk_key_inlineSeededKeyForTestsOnly0123456789abcdef"}],
    });
    let body = create_realm(&server, json!({"name": "seeded", "seed": seed})).await;
    assert!(body["admin"]["password"].is_string());
    let realm = RealmRef {
        path: "/realms/seeded".into(),
        admin: (
            "admin".into(),
            body["admin"]["password"].as_str().unwrap().into(),
        ),
    };
    assert_eq!(
        realm
            .me(
                &server,
                "lk_key_inlineSeededKeyForTestsOnly0123456789abcdef"
            )
            .await,
        StatusCode::OK
    );
    let cc = OAuthClient {
        id: "svc".into(),
        secret: Some("lk_cs_inline-seeded-secret".into()),
    };
    let resp = realm
        .token(&server, cc.auth(), Grant::client_credentials())
        .await;
    assert_eq!(resp.status(), StatusCode::OK);

    let before = server.state.store.created_realm_records().unwrap();
    for (seed, says) in [
        (
            json!({"users": [{"username": "a", "password": "pw"}]}),
            "entry 1 of [[users]] password",
        ),
        (
            json!({"users": [{"username": "a", "pasword": "a-long-password"}]}),
            "unknown field",
        ),
        (json!({"realms": []}), "realms"),
        (json!([1]), "object"),
        // Checked only against the realm's store: the owner does not exist.
        (
            json!({"clients": [{"client_id": "c", "client_secret": "lk_cs_inline-seeded-secret", "name": "C",
                             "type": "confidential", "grant_types": ["client_credentials"], "owner": "nobody"}]}),
            "nobody",
        ),
    ] {
        let resp = server
            .as_admin(Method::POST, "/api/v1/realms")
            .json(&json!({"name": "broken", "seed": seed}))
            .send()
            .await
            .unwrap();
        let err = expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
        assert!(
            err["error_description"].as_str().unwrap().contains(says),
            "{says}: {err}"
        );
        assert!(server.realms.get("broken").is_none());
        assert_eq!(
            server.state.store.created_realm_records().unwrap(),
            before,
            "no half-made realm: {err}"
        );
    }
}

/// Guesses in one realm never slow another realm's users down, and the
/// default realm's admin working in a realm is not counted as a guess there.
#[tokio::test]
async fn password_guesses_stay_in_their_realm() {
    let server = TestServer::start().await;
    let realm = RealmRef::create(&server, "guarded").await;
    for _ in 0..12 {
        let resp = server
            .get("/realms/guarded/api/v1/users/me")
            .basic_auth("admin", Some("not-the-password"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let root = server
        .as_admin(Method::GET, "/api/v1/users/me")
        .send()
        .await
        .unwrap();
    assert_eq!(
        root.status(),
        StatusCode::OK,
        "the default admin is not slowed down"
    );
    let fresh = RealmRef::create(&server, "busy-admin").await;
    for _ in 0..8 {
        let resp = server
            .as_admin(Method::GET, "/realms/busy-admin/api/v1/users")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
    fresh
        .admin_json(
            &server,
            Method::GET,
            "/api/v1/users/me",
            Value::Null,
            StatusCode::OK,
        )
        .await;
    let _ = realm;
}

/// Swagger UI's sign-in works in a realm: its `swagger-ui` client's relative
/// redirect URI is matched under the realm's path.
#[tokio::test]
async fn swagger_ui_signs_in_to_a_realm() {
    let server = TestServer::start().await;
    RealmRef::create(&server, "docs").await;
    let receiver = server.url("/realms/docs/docs/oauth-receiver.html");
    let challenge = latchkey::domain::pkce::s256(VERIFIER);
    for redirect in [Some(receiver.as_str()), None] {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("response_type", "code")
            .append_pair("client_id", "swagger-ui")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", "s");
        if let Some(r) = redirect {
            q.append_pair("redirect_uri", r);
        }
        let url = format!("/realms/docs/oauth/authorize?{}", q.finish());
        let resp = server.get(&url).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{redirect:?}");
        let page = resp.text().await.unwrap();
        assert!(page.contains("name=\"username\""), "{redirect:?}: {page}");
    }
}
