//! `/api/v1/scopes`: the catalog.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{expect_error, TestServer};

/// The shipped catalog: latchkey's own, OIDC's reserved, and the seeds' scopes,
/// with Imagen's two defaults; any authenticated user may read it.
#[tokio::test]
async fn the_shipped_catalog_is_listed() {
    let server = TestServer::start().await;
    server
        .create_user("reader", "reader-password", &["member"])
        .await;
    let resp = server
        .get("/api/v1/scopes")
        .basic_auth("reader", Some("reader-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let list: Value = resp.json().await.unwrap();
    let scopes = list["scopes"].as_array().unwrap();
    let find = |n: &str| {
        scopes
            .iter()
            .find(|s| s["name"] == n)
            .unwrap_or_else(|| panic!("{n} missing"))
    };
    for n in [
        "keys:read",
        "keys:write",
        "clients:read",
        "clients:write",
        "users:read",
        "users:write",
        "scopes:write",
    ] {
        assert_eq!(find(n)["builtin"], true);
    }
    for n in ["openid", "profile", "email", "offline_access"] {
        assert_eq!(find(n)["builtin"], true);
    }
    for n in [
        "readUsersData",
        "modifyUsersData",
        "manageJobs",
        "roles",
        "createJobs",
        "modifyRoles",
        "read",
        "write",
        "content:read",
        "content:write",
        "analytics:read",
    ] {
        assert_eq!(find(n)["builtin"], false);
        assert!(!find(n)["description"].as_str().unwrap().is_empty());
    }
    let defaults: Vec<&str> = scopes
        .iter()
        .filter(|s| s["default"] == true)
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(defaults.len(), 2);
    assert!(defaults.contains(&"readUsersData") && defaults.contains(&"modifyUsersData"));
}

/// Admins create, update and delete scopes; built-in ones cannot be deleted;
/// names follow RFC 6749 §3.3.
#[tokio::test]
async fn admins_manage_the_catalog() {
    let server = TestServer::start().await;
    let resp = server
        .as_admin(Method::POST, "/api/v1/scopes")
        .json(&json!({"name": "reports:read", "description": "Read reports"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = server
        .as_admin(Method::POST, "/api/v1/scopes")
        .json(&json!({"name": "reports:read"}))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::CONFLICT, "scope_exists").await;
    let changed: Value = server
        .as_admin(Method::PATCH, "/api/v1/scopes/reports:read")
        .json(&json!({"default": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(changed["default"], true);
    assert_eq!(changed["description"], "Read reports");

    for bad in ["has space", "quo\"te", "back\\slash", "", &"x".repeat(129)] {
        let resp = server
            .as_admin(Method::POST, "/api/v1/scopes")
            .json(&json!({"name": bad}))
            .send()
            .await
            .unwrap();
        expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
    let resp = server
        .as_admin(Method::DELETE, "/api/v1/scopes/keys:read")
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::CONFLICT, "builtin_scope").await;
    let resp = server
        .as_admin(Method::DELETE, "/api/v1/scopes/reports:read")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = server
        .as_admin(Method::DELETE, "/api/v1/scopes/reports:read")
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = server
        .as_admin(Method::PATCH, "/api/v1/scopes/nope")
        .json(&json!({"default": true}))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
}

/// A deleted shipped scope stays deleted across a restart; built-in ones are
/// always there.
#[tokio::test]
async fn catalog_changes_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::builder().data_dir(dir.path()).start().await;
    let resp = server
        .as_admin(Method::DELETE, "/api/v1/scopes/manageJobs")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    server.stop().await;
    let server = TestServer::builder().data_dir(dir.path()).start().await;
    let list: Value = server
        .as_admin(Method::GET, "/api/v1/scopes")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"manageJobs"));
    assert!(names.contains(&"keys:read") && names.contains(&"readUsersData"));
}
