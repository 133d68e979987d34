//! The committed `openapi/openapi.json` is what the code generates.

use serde_json::Value;

/// Fails when the spec in `openapi/` drifts from the code. Regenerate with
/// `cargo run -q -- openapi > openapi/openapi.json` (or run this test with
/// `UPDATE_OPENAPI=1`).
#[test]
fn committed_spec_matches_the_code() {
    let generated = latchkey::api::api_service().spec();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, format!("{generated}\n")).unwrap();
    }
    let committed = std::fs::read_to_string(path).expect("openapi/openapi.json exists");
    let a: Value = serde_json::from_str(&generated).unwrap();
    let b: Value = serde_json::from_str(&committed).unwrap();
    assert!(
        a == b,
        "openapi/openapi.json is stale: run `cargo run -q -- openapi > openapi/openapi.json`"
    );
}

/// Every `/api/v1` operation declares the Basic and Bearer schemes, has an operation id, and
/// documents 401; so Swagger UI's Authorize applies to all of them.
#[test]
fn every_api_operation_is_secured_and_named() {
    let spec: Value = serde_json::from_str(&latchkey::api::api_service().spec()).unwrap();
    assert_eq!(
        spec["components"]["securitySchemes"]["basicAuth"]["scheme"],
        "basic"
    );
    let mut ids = std::collections::BTreeSet::new();
    let mut count = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
            if !path.starts_with("/api/v1/") {
                continue;
            }
            count += 1;
            let security = op["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} has no security"));
            assert!(
                security.iter().any(|s| s.get("basicAuth").is_some()),
                "{method} {path}"
            );
            assert!(
                op["responses"]["401"].is_object(),
                "{method} {path} does not document 401"
            );
        }
    }
    assert!(count >= 6, "found only {count} API operations");
}

/// Swagger UI can fetch a token itself: the spec declares an OAuth 2.0
/// client-credentials flow at this server's token endpoint, offered on every
/// `/api/v1` operation, and documents the OAuth endpoints' bodies and errors.
#[test]
fn the_spec_declares_the_client_credentials_flow() {
    let spec: Value = serde_json::from_str(&latchkey::api::api_service().spec()).unwrap();
    let scheme = &spec["components"]["securitySchemes"]["oauth2"];
    assert_eq!(scheme["type"], "oauth2");
    let flow = &scheme["flows"]["clientCredentials"];
    assert_eq!(flow["tokenUrl"], "/oauth/token");
    assert!(flow["scopes"]["keys:read"].is_string(), "{flow}");
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if path.starts_with("/api/v1/") {
                let security = op["security"].as_array().unwrap();
                assert!(
                    security.iter().any(|s| s.get("oauth2").is_some()),
                    "{method} {path}"
                );
            }
        }
    }
    let token = &spec["paths"]["/oauth/token"]["post"];
    let content = &token["requestBody"]["content"];
    assert!(content["application/x-www-form-urlencoded"].is_object());
    assert!(content["application/json"].is_object());
    for status in ["200", "400", "401"] {
        assert!(token["responses"][status].is_object(), "token {status}");
    }
    for path in [
        "/oauth/introspect",
        "/oauth/revoke",
        "/.well-known/oauth-authorization-server",
    ] {
        assert!(spec["paths"][path].is_object(), "{path}");
    }
}
