//! Admin CRUD on `/api/v1/users` and the rules behind it.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{expect_error, TestServer};

async fn admin_id(server: &TestServer) -> String {
    let me: Value = server
        .as_admin(Method::GET, "/api/v1/users/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    me["id"].as_str().unwrap().to_owned()
}

/// Create, get, list, update and delete one user; each answer shows the change.
#[tokio::test]
async fn a_user_goes_through_its_whole_life() {
    let server = TestServer::start().await;
    let resp = server
        .as_admin(Method::POST, "/api/v1/users")
        .json(&json!({"username": "Eve", "password": "eve-password", "email": "eve@example.test", "name": "Eve E."}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let eve: Value = resp.json().await.unwrap();
    let id = eve["id"].as_str().unwrap();
    assert!(id.starts_with("usr_"));
    assert_eq!(eve["username"], "Eve");
    assert_eq!(eve["roles"], json!(["member"]), "roles default to member");
    assert_eq!(eve["disabled"], false);
    assert!(eve["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(eve.get("password").is_none() && eve.get("password_hash").is_none());

    let got: Value = server
        .as_admin(Method::GET, &format!("/api/v1/users/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got, eve);

    let list: Value = server
        .as_admin(Method::GET, "/api/v1/users")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "Eve"]);

    let resp = server
        .as_admin(Method::PATCH, &format!("/api/v1/users/{id}"))
        .json(&json!({"roles": ["client-admin", "member"], "email": null, "name": "Eve Two"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let changed: Value = resp.json().await.unwrap();
    assert_eq!(changed["roles"], json!(["client-admin", "member"]));
    assert!(changed["email"].is_null(), "null clears the email");
    assert_eq!(changed["name"], "Eve Two");
    assert_eq!(changed["created_at"], eve["created_at"]);

    let resp = server
        .as_admin(Method::DELETE, &format!("/api/v1/users/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = server
        .as_admin(Method::GET, &format!("/api/v1/users/{id}"))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = server
        .as_admin(Method::DELETE, &format!("/api/v1/users/{id}"))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
}

/// Usernames are unique whatever their letter case, and the refused create
/// leaves no trace.
#[tokio::test]
async fn duplicate_usernames_in_any_case_are_refused() {
    let server = TestServer::start().await;
    server
        .create_user("frank", "frank-password", &["member"])
        .await;
    for name in ["frank", "FRANK", "fRaNk", "Admin"] {
        let resp = server
            .as_admin(Method::POST, "/api/v1/users")
            .json(&json!({"username": name, "password": "other-password"}))
            .send()
            .await
            .unwrap();
        expect_error(resp, StatusCode::CONFLICT, "username_taken").await;
    }
    let list: Value = server
        .as_admin(Method::GET, "/api/v1/users")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["users"].as_array().unwrap().len(), 2);
}

/// Concurrent creates of one name in different cases: exactly one wins.
#[tokio::test]
async fn concurrent_duplicate_creates_have_one_winner() {
    let server = TestServer::start().await;
    let names = ["grace", "Grace", "GRACE", "gRACE"];
    let results = futures_like_join(names.iter().map(|n| {
        server
            .as_admin(Method::POST, "/api/v1/users")
            .json(&json!({"username": n, "password": "grace-password"}))
            .send()
    }))
    .await;
    let created = results
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = results
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 3), "{results:?}");
}

async fn futures_like_join<F>(futs: impl Iterator<Item = F>) -> Vec<StatusCode>
where
    F: std::future::Future<Output = reqwest::Result<reqwest::Response>> + Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap().unwrap().status());
    }
    out
}

/// The last enabled admin cannot be deleted, demoted or disabled; with a second
/// admin, the first can go.
#[tokio::test]
async fn the_last_admin_is_protected() {
    let server = TestServer::start().await;
    let id = admin_id(&server).await;
    let path = format!("/api/v1/users/{id}");

    let resp = server.as_admin(Method::DELETE, &path).send().await.unwrap();
    expect_error(resp, StatusCode::CONFLICT, "last_admin").await;
    let resp = server
        .as_admin(Method::PATCH, &path)
        .json(&json!({"roles": ["member"]}))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::CONFLICT, "last_admin").await;
    let resp = server
        .as_admin(Method::PATCH, &path)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::CONFLICT, "last_admin").await;

    // A disabled admin does not count as a second admin.
    let other = server
        .create_user("backup", "backup-password", &["admin"])
        .await;
    let other_path = format!("/api/v1/users/{}", other["id"].as_str().unwrap());
    server
        .as_admin(Method::PATCH, &other_path)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    let resp = server.as_admin(Method::DELETE, &path).send().await.unwrap();
    expect_error(resp, StatusCode::CONFLICT, "last_admin").await;

    server
        .as_admin(Method::PATCH, &other_path)
        .json(&json!({"disabled": false}))
        .send()
        .await
        .unwrap();
    let resp = server.as_admin(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = server
        .request(Method::DELETE, &other_path)
        .basic_auth("backup", Some("backup-password"))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::CONFLICT, "last_admin").await;
}

/// Each invalid field is refused with 400 naming it, and nothing is created.
#[tokio::test]
async fn invalid_user_fields_are_named() {
    let server = TestServer::start().await;
    let cases = [
        (
            json!({"username": "has space", "password": "long-enough"}),
            "username",
        ),
        (
            json!({"username": "a:b", "password": "long-enough"}),
            "username",
        ),
        (
            json!({"username": "", "password": "long-enough"}),
            "username",
        ),
        (
            json!({"username": "x".repeat(65), "password": "long-enough"}),
            "username",
        ),
        (
            json!({"username": "shorty", "password": "short"}),
            "password",
        ),
        (
            json!({"username": "mailer", "password": "long-enough", "email": "no-at-sign"}),
            "email",
        ),
        (
            json!({"username": "roleless", "password": "long-enough", "roles": []}),
            "roles",
        ),
    ];
    for (body, field) in cases {
        let resp = server
            .as_admin(Method::POST, "/api/v1/users")
            .json(&body)
            .send()
            .await
            .unwrap();
        let err = expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
        assert!(
            err["error_description"]
                .as_str()
                .unwrap()
                .starts_with(field),
            "{body}: {err}"
        );
    }
    let list: Value = server
        .as_admin(Method::GET, "/api/v1/users")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["users"].as_array().unwrap().len(), 1);
}

/// Unknown roles, unknown fields and wrong types are parse errors: 400 JSON.
#[tokio::test]
async fn malformed_user_documents_get_400() {
    let server = TestServer::start().await;
    for body in [
        json!({"username": "u1", "password": "long-enough", "roles": ["superuser"]}),
        json!({"username": "u2", "password": "long-enough", "pasword": "typo"}),
        json!({"username": ["u3"], "password": "long-enough"}),
        json!({"password": "long-enough"}),
        json!(["not", "an", "object"]),
    ] {
        let resp = server
            .as_admin(Method::POST, "/api/v1/users")
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
}

/// Ids that cannot exist and ids that do not exist both answer 404.
#[tokio::test]
async fn unknown_and_malformed_ids_are_404() {
    let server = TestServer::start().await;
    for id in ["usr_000000000000000000000000", "nope", "usr_%2e%2e", "%00"] {
        for method in [Method::GET, Method::DELETE] {
            let resp = server
                .as_admin(method.clone(), &format!("/api/v1/users/{id}"))
                .send()
                .await
                .unwrap();
            expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
        }
        let resp = server
            .as_admin(Method::PATCH, &format!("/api/v1/users/{id}"))
            .json(&json!({"disabled": true}))
            .send()
            .await
            .unwrap();
        expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    }
}

/// Listing pages through every user exactly once, in username order.
#[tokio::test]
async fn listing_pages_through_all_users() {
    let server = TestServer::start().await;
    for name in ["delta", "Alpha", "charlie", "bravo", "echo"] {
        server.create_user(name, "some-password", &["member"]).await;
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..10 {
        let mut path = "/api/v1/users?limit=2".to_string();
        if let Some(a) = &after {
            path.push_str(&format!("&after={a}"));
        }
        let page: Value = server
            .as_admin(Method::GET, &path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for u in page["users"].as_array().unwrap() {
            seen.push(u["username"].as_str().unwrap().to_owned());
        }
        match page["next_after"].as_str() {
            Some(a) => after = Some(a.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ["admin", "Alpha", "bravo", "charlie", "delta", "echo"]
    );

    for bad in ["0", "1001", "-1", "many"] {
        let resp = server
            .as_admin(Method::GET, &format!("/api/v1/users?limit={bad}"))
            .send()
            .await
            .unwrap();
        expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
}
