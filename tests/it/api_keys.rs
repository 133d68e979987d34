//! `/api/v1/api-keys`: keys are shown once, act as their owner narrowed to their
//! scopes, and stop working the moment they should.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{expect_error, expect_error_naming, TestServer, ADMIN};

/// A clock that moves only when the test says so, starting at today's time.
fn manual_clock() -> std::sync::Arc<latchkey::clock::ManualClock> {
    use latchkey::clock::Clock;
    std::sync::Arc::new(latchkey::clock::ManualClock::new(
        latchkey::clock::SystemClock.now(),
    ))
}

/// The secret appears in the create response only; list and get show a prefix,
/// usage and settings, never the secret or its hash.
#[tokio::test]
async fn the_secret_is_shown_exactly_once() {
    let server = TestServer::start().await;
    let created = server.create_api_key(ADMIN,
        json!({"name": "ci", "scopes": ["keys:read"], "meta": {"team": "qa"}, "expires_in_seconds": 3600}),
    )
    .await;
    let secret = created["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("lk_key_") && secret.len() == 50,
        "{secret}"
    );
    assert_eq!(created["prefix"], &secret[..12]);
    assert_eq!(created["meta"], json!({"team": "qa"}));
    assert!(created["expires_at"].is_string());
    let id = created["id"].as_str().unwrap();

    let got: Value = server
        .as_admin(Method::GET, &format!("/api/v1/api-keys/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list: Value = server
        .as_admin(Method::GET, "/api/v1/api-keys")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for shown in [&got, &list["api_keys"][0]] {
        let text = shown.to_string();
        assert!(!text.contains(&secret[12..]), "secret leaked: {text}");
        assert!(shown.get("secret").is_none() && shown.get("secret_hash").is_none());
        assert_eq!(shown["id"], id);
        assert_eq!(shown["scopes"], json!(["keys:read"]));
        assert_eq!(shown["enabled"], true);
        assert_eq!(shown["use_count"], 0);
    }
}

/// A key acts as its owner, narrowed to its scopes; /users/me says so.
#[tokio::test]
async fn a_key_acts_as_its_owner_narrowed_to_its_scopes() {
    let server = TestServer::start().await;
    let key = server
        .create_api_key(ADMIN, json!({"name": "reader", "scopes": ["users:read"]}))
        .await;
    let secret = key["secret"].as_str().unwrap();
    let me: Value = server.me_bearer(secret).await.json().await.unwrap();
    assert_eq!(me["username"], "admin");
    assert_eq!(me["auth_method"], "api_key");
    assert_eq!(me["api_key"], json!({"id": key["id"], "name": "reader"}));
    assert_eq!(me["scopes"], json!(["users:read"]));

    let ok = server
        .get("/api/v1/users")
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let resp = server
        .post("/api/v1/users")
        .bearer_auth(secret)
        .json(&json!({"username": "x", "password": "long-enough"}))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::FORBIDDEN, "insufficient_scope").await;

    // Use is counted (advisory, but exact through the API).
    let got: Value = server
        .as_admin(
            Method::GET,
            &format!("/api/v1/api-keys/{}", key["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["use_count"], 3);
    assert!(got["last_used_at"].is_string());
}

/// Disable refuses at once, enable restores at once, delete refuses for good.
#[tokio::test]
async fn disable_enable_and_delete_take_effect_at_once() {
    let server = TestServer::start().await;
    let key = server
        .create_api_key(ADMIN, json!({"name": "toggle"}))
        .await;
    let (id, secret) = (key["id"].as_str().unwrap(), key["secret"].as_str().unwrap());
    assert_eq!(server.me_bearer(secret).await.status(), StatusCode::OK);

    let off: Value = server
        .as_admin(Method::POST, &format!("/api/v1/api-keys/{id}/disable"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(off["enabled"], false);
    expect_error(
        server.me_bearer(secret).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;

    server
        .as_admin(Method::POST, &format!("/api/v1/api-keys/{id}/enable"))
        .send()
        .await
        .unwrap();
    assert_eq!(server.me_bearer(secret).await.status(), StatusCode::OK);

    let resp = server
        .as_admin(Method::DELETE, &format!("/api/v1/api-keys/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    expect_error(
        server.me_bearer(secret).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    let resp = server
        .as_admin(Method::GET, &format!("/api/v1/api-keys/{id}"))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
}

/// Rolling issues a new secret for the same key; without grace the old one
/// stops at once, with grace it works until the grace ends.
#[tokio::test]
async fn rolling_replaces_the_secret() {
    let clock = manual_clock();
    let server = TestServer::builder().clock(clock.clone()).start().await;
    let key = server
        .create_api_key(ADMIN, json!({"name": "rolled", "scopes": ["keys:read"]}))
        .await;
    let (id, old) = (key["id"].as_str().unwrap(), key["secret"].as_str().unwrap());

    let rolled: Value = server
        .as_admin(Method::POST, &format!("/api/v1/api-keys/{id}/roll"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new = rolled["secret"].as_str().unwrap();
    assert_ne!(new, old);
    assert_eq!(rolled["id"], id);
    assert_eq!(rolled["scopes"], json!(["keys:read"]));
    expect_error(
        server.me_bearer(old).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    assert_eq!(server.me_bearer(new).await.status(), StatusCode::OK);

    let graced: Value = server
        .as_admin(
            Method::POST,
            &format!("/api/v1/api-keys/{id}/roll?grace_seconds=60"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let newest = graced["secret"].as_str().unwrap();
    clock.advance(59);
    assert_eq!(
        server.me_bearer(new).await.status(),
        StatusCode::OK,
        "within grace"
    );
    assert_eq!(server.me_bearer(newest).await.status(), StatusCode::OK);
    clock.advance(1);
    expect_error(
        server.me_bearer(new).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    assert_eq!(server.me_bearer(newest).await.status(), StatusCode::OK);

    for bad in ["-1", "999999999999", "soon"] {
        let resp = server
            .as_admin(
                Method::POST,
                &format!("/api/v1/api-keys/{id}/roll?grace_seconds={bad}"),
            )
            .send()
            .await
            .unwrap();
        expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
}

/// An expired key is refused; an expiry in the past is refused at creation.
#[tokio::test]
async fn expiry_is_enforced() {
    let clock = manual_clock();
    let server = TestServer::builder().clock(clock.clone()).start().await;
    let key = server
        .create_api_key(ADMIN, json!({"name": "short", "expires_in_seconds": 600}))
        .await;
    let secret = key["secret"].as_str().unwrap();
    clock.advance(599);
    assert_eq!(server.me_bearer(secret).await.status(), StatusCode::OK);
    clock.advance(1);
    expect_error(
        server.me_bearer(secret).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;

    for body in [
        json!({"name": "past", "expires_at": "2001-01-01T00:00:00Z"}),
        json!({"name": "garbled", "expires_at": "tomorrow"}),
        json!({"name": "both", "expires_at": "2099-01-01T00:00:00Z", "expires_in_seconds": 5}),
        json!({"name": "zero", "expires_in_seconds": 0}),
    ] {
        let resp = server
            .as_admin(Method::POST, "/api/v1/api-keys")
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
}

/// A disabled owner's keys are refused at once and work again when re-enabled.
#[tokio::test]
async fn a_disabled_owner_disables_their_keys() {
    let server = TestServer::start().await;
    let user = server
        .create_user("owner", "owner-password", &["member"])
        .await;
    let key = server
        .create_api_key(("owner", "owner-password"), json!({"name": "mine"}))
        .await;
    let secret = key["secret"].as_str().unwrap();
    let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());
    server
        .as_admin(Method::PATCH, &path)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    expect_error(
        server.me_bearer(secret).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    server
        .as_admin(Method::PATCH, &path)
        .json(&json!({"disabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(server.me_bearer(secret).await.status(), StatusCode::OK);
    // Deleting the owner deletes the keys.
    server.as_admin(Method::DELETE, &path).send().await.unwrap();
    expect_error(
        server.me_bearer(secret).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    let resp = server
        .as_admin(
            Method::GET,
            &format!("/api/v1/api-keys/{}", key["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
}

/// Scopes: unknown is 400 naming it; beyond the owner's power is 403 naming it;
/// a member may grant default catalog scopes and their own permissions.
#[tokio::test]
async fn keys_carry_only_scopes_their_owner_may_grant() {
    let server = TestServer::start().await;
    server
        .create_user("member", "member-password", &["member"])
        .await;
    let member = ("member", "member-password");
    let post = |body: Value| {
        server
            .post("/api/v1/api-keys")
            .basic_auth(member.0, Some(member.1))
            .json(&body)
            .send()
    };
    expect_error_naming(
        post(json!({"name": "k", "scopes": ["no-such-scope"]}))
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "no-such-scope",
    )
    .await;
    expect_error_naming(
        post(json!({"name": "k", "scopes": ["users:write"]}))
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
        "users:write",
    )
    .await;
    expect_error_naming(
        post(json!({"name": "k", "scopes": ["manageJobs"]}))
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
        "manageJobs",
    )
    .await;
    let ok = post(json!({"name": "k", "scopes": ["readUsersData", "keys:read"]}))
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);

    // A key may mint keys only within its own scopes.
    let minting = server
        .create_api_key(
            ADMIN,
            json!({"name": "minter", "scopes": ["keys:write", "manageJobs"]}),
        )
        .await;
    let secret = minting["secret"].as_str().unwrap();
    let resp = server
        .post("/api/v1/api-keys")
        .bearer_auth(secret)
        .json(&json!({"name": "c", "scopes": ["users:read"]}))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    let resp = server
        .post("/api/v1/api-keys")
        .bearer_auth(secret)
        .json(&json!({"name": "c", "scopes": ["manageJobs"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
}

/// Another user's key id is 404 (not 403), for every operation; admins see all.
#[tokio::test]
async fn other_users_keys_are_invisible() {
    let server = TestServer::start().await;
    server
        .create_user("alice", "alice-password", &["member"])
        .await;
    let bob = server.create_user("bob", "bob-password", &["member"]).await;
    let bobs = server
        .create_api_key(("bob", "bob-password"), json!({"name": "bobs"}))
        .await;
    let id = bobs["id"].as_str().unwrap();
    for (method, path) in [
        (Method::GET, format!("/api/v1/api-keys/{id}")),
        (Method::DELETE, format!("/api/v1/api-keys/{id}")),
        (Method::POST, format!("/api/v1/api-keys/{id}/disable")),
        (Method::POST, format!("/api/v1/api-keys/{id}/enable")),
        (Method::POST, format!("/api/v1/api-keys/{id}/roll")),
    ] {
        let resp = server
            .request(method, &path)
            .basic_auth("alice", Some("alice-password"))
            .send()
            .await
            .unwrap();
        expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    }
    let list: Value = server
        .get_json_as("/api/v1/api-keys", ("alice", "alice-password"))
        .await;
    assert_eq!(list["api_keys"], json!([]));
    // Listing another user's keys: admins only.
    let bob_id = bob["id"].as_str().unwrap();
    let resp = server
        .get(&format!("/api/v1/api-keys?user_id={bob_id}"))
        .basic_auth("alice", Some("alice-password"))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    let list: Value = server
        .as_admin(Method::GET, &format!("/api/v1/api-keys?user_id={bob_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["api_keys"][0]["id"], id);
    let resp = server
        .as_admin(Method::GET, &format!("/api/v1/api-keys/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// Malformed, truncated, wrong-prefix, non-ASCII and enormous bearer values get
/// 401 with the JSON error, never 500.
#[tokio::test]
async fn bad_bearer_values_get_401() {
    let server = TestServer::start().await;
    let key = server.create_api_key(ADMIN, json!({"name": "real"})).await;
    let secret = key["secret"].as_str().unwrap().to_owned();
    let values: Vec<Vec<u8>> = vec![
        format!("Bearer {}", &secret[..secret.len() - 1]).into_bytes(),
        format!("Bearer {secret}x").into_bytes(),
        format!("Bearer {}", secret.replace("lk_key_", "lk_kez_")).into_bytes(),
        format!("Bearer {}", secret.to_uppercase()).into_bytes(),
        b"Bearer lk_key_\xc3\xa9\xc3\xa9".to_vec(),
        format!("Bearer lk_key_{}", "A".repeat(20_000)).into_bytes(),
        b"Bearer ".to_vec(),
        format!("OAuth {secret}").into_bytes(),
    ];
    for v in values {
        let resp = server
            .get("/api/v1/users/me")
            .header(
                "authorization",
                reqwest::header::HeaderValue::from_bytes(&v).unwrap(),
            )
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body = resp.text().await.unwrap();
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{}: {body}",
            String::from_utf8_lossy(&v[..v.len().min(40)])
        );
        assert!(serde_json::from_str::<Value>(&body).is_ok(), "{body}");
    }
}

/// Keys survive a restart; usage recorded before the stop is kept.
#[tokio::test]
async fn keys_and_usage_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::builder().data_dir(dir.path()).start().await;
    let key = server
        .create_api_key(ADMIN, json!({"name": "durable"}))
        .await;
    let secret = key["secret"].as_str().unwrap();
    assert_eq!(server.me_bearer(secret).await.status(), StatusCode::OK);
    server.stop().await;
    let server = TestServer::builder().data_dir(dir.path()).start().await;
    assert_eq!(server.me_bearer(secret).await.status(), StatusCode::OK);
    let got: Value = server
        .as_admin(
            Method::GET,
            &format!("/api/v1/api-keys/{}", key["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["use_count"], 2);
}

/// Names, meta and page sizes are validated.
#[tokio::test]
async fn key_fields_are_validated() {
    let server = TestServer::start().await;
    for body in [
        json!({"name": ""}),
        json!({"name": "x".repeat(101)}),
        json!({"name": "m", "meta": [1, 2]}),
        json!({"name": "m", "meta": {"big": "x".repeat(5000)}}),
        json!({"name": "s", "scopes": ["has space"]}),
    ] {
        let resp = server
            .as_admin(Method::POST, "/api/v1/api-keys")
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
    let resp = server
        .as_admin(Method::GET, "/api/v1/api-keys?limit=0")
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
}

/// A narrowed key cannot widen itself by rolling or re-enabling a sibling key
/// that carries more scopes; an admin's key reaches other users' keys only with
/// the admin scopes for it.
#[tokio::test]
async fn keys_cannot_escalate_through_sibling_keys() {
    let server = TestServer::start().await;
    let strong = server
        .create_api_key(
            ADMIN,
            json!({"name": "strong", "scopes": ["users:write", "keys:write"]}),
        )
        .await;
    let weak = server
        .create_api_key(
            ADMIN,
            json!({"name": "weak", "scopes": ["keys:write", "keys:read"]}),
        )
        .await;
    let (strong_id, weak_secret) = (
        strong["id"].as_str().unwrap(),
        weak["secret"].as_str().unwrap(),
    );
    for action in ["roll", "enable"] {
        let resp = server
            .post(&format!("/api/v1/api-keys/{strong_id}/{action}"))
            .bearer_auth(weak_secret)
            .send()
            .await
            .unwrap();

        expect_error_naming(resp, StatusCode::FORBIDDEN, "forbidden", "users:write").await;
    }
    // Disabling a sibling is allowed (it only takes power away).
    let resp = server
        .post(&format!("/api/v1/api-keys/{strong_id}/disable"))
        .bearer_auth(weak_secret)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // Another user's key: not reachable with keys:* alone, even by an admin.
    server
        .create_user("victim", "victim-password", &["admin"])
        .await;
    let theirs = server
        .create_api_key(("victim", "victim-password"), json!({"name": "theirs"}))
        .await;
    let path = format!("/api/v1/api-keys/{}", theirs["id"].as_str().unwrap());
    let resp = server
        .get(&path)
        .bearer_auth(weak_secret)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = server
        .post(&format!("{path}/roll"))
        .bearer_auth(weak_secret)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    // With Basic (not narrowed) the admin reaches it.
    let resp = server.as_admin(Method::GET, &path).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// Disable and roll racing each other: the disable is never lost.
#[tokio::test]
async fn a_disable_racing_a_roll_is_not_lost() {
    let server = TestServer::start().await;
    for round in 0..8 {
        let key = server
            .create_api_key(ADMIN, json!({"name": format!("race{round}")}))
            .await;
        let id = key["id"].as_str().unwrap().to_owned();
        let disable = server
            .as_admin(Method::POST, &format!("/api/v1/api-keys/{id}/disable"))
            .send();
        let roll = server
            .as_admin(Method::POST, &format!("/api/v1/api-keys/{id}/roll"))
            .send();
        let (d, r) = tokio::join!(disable, roll);
        assert_eq!(d.unwrap().status(), StatusCode::OK);
        let rolled: Value = r.unwrap().json().await.unwrap();
        let got: Value = server
            .as_admin(Method::GET, &format!("/api/v1/api-keys/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(got["enabled"], false, "round {round}");
        expect_error(
            server.me_bearer(rolled["secret"].as_str().unwrap()).await,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        )
        .await;
    }
}

/// A bearer credential lacking a scope is told which one (RFC 6750 §3.1).
#[tokio::test]
async fn insufficient_scope_names_the_scope_in_the_challenge() {
    let server = TestServer::start().await;
    let key = server
        .create_api_key(ADMIN, json!({"name": "narrow", "scopes": ["keys:read"]}))
        .await;
    let resp = server
        .get("/api/v1/users")
        .bearer_auth(key["secret"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let challenges = crate::common::challenges(&resp);
    assert!(
        challenges
            .iter()
            .any(|c| c.contains(r#"error="insufficient_scope""#)
                && c.contains(r#"scope="users:read""#)),
        "{challenges:?}"
    );
    expect_error(resp, StatusCode::FORBIDDEN, "insufficient_scope").await;
}

/// An administrator's disable of someone else's key sticks: its owner cannot
/// enable it again; an administrator can.
#[tokio::test]
async fn an_admins_disable_is_for_an_admin_to_lift() {
    let server = TestServer::start().await;
    server
        .create_user("mo", "member-password", &["member"])
        .await;
    let mo = ("mo", "member-password");
    let key = server
        .create_api_key(mo, json!({"name": "laptop", "scopes": ["keys:read"]}))
        .await;
    let id = key["id"].as_str().unwrap();
    let secret = key["secret"].as_str().unwrap();
    let post = |user: (&'static str, &'static str), action: &str| {
        server
            .post(&format!("/api/v1/api-keys/{id}/{action}"))
            .basic_auth(user.0, Some(user.1))
            .send()
    };
    let admin = ("admin", crate::common::ADMIN_PASSWORD);

    // The owner's own disable is the owner's to lift.
    assert_eq!(post(mo, "disable").await.unwrap().status(), StatusCode::OK);
    let resp = post(mo, "enable").await.unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["enabled"], true);
    assert_eq!(body["disabled_by_admin"], false);

    // An administrator's is not.
    let body: Value = post(admin, "disable").await.unwrap().json().await.unwrap();
    assert_eq!(body["disabled_by_admin"], true);
    let resp = post(mo, "enable").await.unwrap();
    expect_error_naming(resp, StatusCode::FORBIDDEN, "forbidden", "administrator").await;
    assert_eq!(
        server.me_bearer(secret).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Disabling it again as its owner does not clear the administrator's mark.
    assert_eq!(post(mo, "disable").await.unwrap().status(), StatusCode::OK);
    expect_error(
        post(mo, "enable").await.unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let body: Value = post(admin, "enable").await.unwrap().json().await.unwrap();
    assert_eq!(body["enabled"], true);
    assert_eq!(body["disabled_by_admin"], false);
    assert_eq!(server.me_bearer(secret).await.status(), StatusCode::OK);
}
