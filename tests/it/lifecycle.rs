//! Start, readiness, restart on the same data directory, and durability.

use std::sync::Arc;

use latchkey::clock::SystemClock;
use latchkey::config::Config;
use latchkey::secret::Redacted;
use latchkey::state::AppState;
use latchkey::store::{Location, Store, DEFAULT_CACHE_BYTES};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::checked::operations;
use crate::common::{expect_error, CheckedClient, TestServer, ADMIN_PASSWORD};

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

/// Until start-up has finished (the bootstrap admin and the scope catalog are
/// being made) every operation in the spec but `/health` answers 503 with the
/// JSON error `not_ready`, whatever the credentials and ids; the authorization
/// page says so too. The server here is run without the bootstrap, so it
/// never becomes ready.
#[tokio::test]
async fn before_start_up_finishes_every_operation_answers_503() {
    let store = Store::open(&Location::Ephemeral, DEFAULT_CACHE_BYTES).unwrap();
    let config = Config {
        admin_password: Some(Redacted::new(ADMIN_PASSWORD.into())),
        ..Config::default()
    };
    let state = AppState::new(store, Arc::new(SystemClock), config).unwrap();
    let realms = Arc::new(latchkey::service::realms::Realms::new(state.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(latchkey::server::run(listener, state, realms, async move {
        let _ = stopped.await;
    }));
    let client = CheckedClient::new(reqwest::Client::new());
    for op in operations() {
        let path: String = op
            .template
            .split('/')
            .map(|s| if s.starts_with('{') { "x_1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(op.method.as_bytes()).unwrap();
        let resp = client
            .request(method, format!("{base}{path}"))
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        if op.id == "health" {
            assert_eq!(resp.status(), StatusCode::OK);
        } else {
            let what = format!("{} {} ({})", op.method, op.template, op.id);
            assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE, "{what}");
            expect_error(resp, StatusCode::SERVICE_UNAVAILABLE, "not_ready").await;
        }
    }
    let page = client
        .get(format!(
            "{base}/oauth/authorize?response_type=code&client_id=swagger-ui"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
