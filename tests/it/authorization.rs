//! One authorization rule for the whole API, checked against the generated
//! OpenAPI document so that no operation, present or future, can skip it.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{TestServer, ADMIN};

/// Operations any valid credential may call.
const OPEN_TO_ANY_CREDENTIAL: &[(&str, &str)] =
    &[("get", "/api/v1/users/me"), ("get", "/api/v1/scopes")];

/// Every `/api/v1` operation in the spec: (method, path with ids filled in).
fn api_operations() -> Vec<(String, String, String)> {
    let spec: Value = serde_json::from_str(&latchkey::api::api_service().spec()).unwrap();
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            // Ids that exist: the real admin id and key id are substituted later.
            ops.push((method.clone(), path.clone(), path.clone()));
        }
    }
    assert!(ops.len() >= 16, "only {} operations found", ops.len());
    ops
}

/// Without credentials every operation answers 401; with a valid API key that
/// carries no scopes every operation answers 403 (whatever the ids), except
/// the two any credential may call.
#[tokio::test]
async fn every_operation_checks_credentials_and_scopes() {
    let server = TestServer::start().await;
    let key = server
        .create_api_key(ADMIN, json!({"name": "scope-less", "scopes": []}))
        .await;
    let secret = key["secret"].as_str().unwrap();
    let me: Value = server.get_json_as("/api/v1/users/me", ADMIN).await;
    let fill = |p: &str| {
        p.replace(
            "{id}",
            if p.contains("api-keys") {
                key["id"].as_str().unwrap()
            } else {
                me["id"].as_str().unwrap()
            },
        )
        .replace("{name}", "keys:read")
    };
    for (method, template, _) in api_operations() {
        let path = fill(&template);
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let anon = server
            .request(m.clone(), &path)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            anon.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {template} without credentials"
        );
        assert!(
            anon.headers().get("www-authenticate").is_some(),
            "{method} {template}"
        );

        let keyed = server
            .request(m, &path)
            .bearer_auth(secret)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let expected = if OPEN_TO_ANY_CREDENTIAL.contains(&(method.as_str(), template.as_str())) {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        let status = keyed.status();
        let body = keyed.text().await.unwrap();
        assert_eq!(
            status, expected,
            "{method} {template} with a scope-less key: {body}"
        );
    }
    // Nothing was changed by the refused calls.
    let resp = server
        .as_admin(
            Method::GET,
            &format!("/api/v1/api-keys/{}", key["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// The scope check comes before any lookup: a key without `keys:read` gets 403
/// for an id that does not exist, never 404.
#[tokio::test]
async fn scope_checks_come_before_lookups() {
    let server = TestServer::start().await;
    let key = server
        .create_api_key(
            ADMIN,
            json!({"name": "no-keys-read", "scopes": ["users:read"]}),
        )
        .await;
    let resp = server
        .get("/api/v1/api-keys/key_000000000000000000000000")
        .bearer_auth(key["secret"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}
