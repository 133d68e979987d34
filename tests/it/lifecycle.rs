//! Start, readiness, restart on the same data directory, and durability.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::TestServer;

/// `/health` and `/ready` answer 200 once the server is up, without credentials.
#[tokio::test]
async fn health_and_ready_answer() {
    let server = TestServer::start().await;
    let h: Value = server
        .get("/health")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(h["status"], "ok");
    let r = server.get("/ready").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// A user created before a stop is there after a start on the same directory,
/// and the bootstrap admin is not made twice.
#[tokio::test]
async fn users_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::builder().data_dir(dir.path()).start().await;
    let created = server
        .create_user("restart-user", "restart-password", &["member"])
        .await;
    server.stop().await;

    let server = TestServer::builder()
        .data_dir(dir.path())
        .config(|c| c.admin_password = None)
        .start()
        .await;
    let resp = server
        .get("/api/v1/users/me")
        .basic_auth("restart-user", Some("restart-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let me: Value = resp.json().await.unwrap();
    assert_eq!(me["id"], created["id"]);
    let list: Value = server
        .as_admin(Method::GET, "/api/v1/users")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["users"].as_array().unwrap().len(), 2, "{list}");
}

/// Swagger UI and both spec formats are served.
#[tokio::test]
async fn docs_and_specs_are_served() {
    let server = TestServer::start().await;
    let docs = server.get("/docs").send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("SwaggerUIBundle"));
    let json: Value = server
        .get("/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(json["paths"]["/api/v1/users/me"].is_object());
    let yaml = server
        .get("/openapi.yaml")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(yaml.contains("/api/v1/users/me"));
}
