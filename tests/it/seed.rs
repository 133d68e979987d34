//! `--seed`: the shipped example seeds users, scopes, clients and keys with
//! fixed credentials, idempotently across restarts.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::{ClientAuth, Grant, TestServer};

const EXAMPLE: &str = include_str!("../../examples/seed.toml");
const KEY: &str = "lk_key_demoKeyForLocalTestsOnly0123456789abcdefghi";

fn seeded(text: &str) -> impl FnOnce(&mut latchkey::config::Config) {
    let seed = Arc::new(latchkey::seed::parse(text).unwrap());
    move |c| c.seed = Some(seed)
}

/// The status of a client_credentials request for `read` by `id`:`secret`.
async fn token_status(server: &TestServer, id: &str, secret: &str) -> StatusCode {
    let grant = Grant::client_credentials().scope("read");
    server
        .token(ClientAuth::Basic(id, secret), grant)
        .await
        .status()
}

#[tokio::test]
async fn the_example_seed_works_and_survives_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let builder = TestServer::builder()
        .data_dir(dir.path())
        .config(seeded(EXAMPLE));
    for round in 0..2 {
        let server = builder.clone().start().await;
        let me: Value = server
            .get_json_as("/api/v1/users/me", ("alice", "alice-password"))
            .await;
        assert_eq!(me["email"], "alice@example.test", "round {round}");
        let me: Value = server.me_bearer(KEY).await.json().await.unwrap();
        assert_eq!(me["username"], "alice");
        assert_eq!(
            me["scopes"],
            serde_json::json!(["clients:read", "keys:read"])
        );
        assert_eq!(
            token_status(&server, "demo-web", "lk_cs_demo-web-secret-for-local-tests").await,
            StatusCode::OK
        );
        let clients: Value = server
            .as_admin(Method::GET, "/api/v1/clients?all=true")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<&str> = clients["clients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["client_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["demo-cli", "demo-web", "swagger-ui"], "round {round}");
        let keys: Value = server
            .get_json_as("/api/v1/api-keys", ("alice", "alice-password"))
            .await;
        assert_eq!(
            keys["api_keys"].as_array().unwrap().len(),
            1,
            "round {round}"
        );
        let scope = server
            .get("/api/v1/scopes")
            .basic_auth("alice", Some("alice-password"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(scope.contains("Read your invoices"));
        server.stop().await;
    }
}

/// The seed is authoritative: a changed secret replaces the old one.
#[tokio::test]
async fn a_changed_seed_updates_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::builder()
        .data_dir(dir.path())
        .config(seeded(EXAMPLE))
        .start()
        .await;
    server.stop().await;
    let changed = EXAMPLE
        .replace(
            "lk_cs_demo-web-secret-for-local-tests",
            "lk_cs_a-rotated-demo-web-secret",
        )
        .replace("alice-password", "alice-new-password");
    let server = TestServer::builder()
        .data_dir(dir.path())
        .config(seeded(&changed))
        .start()
        .await;
    assert_eq!(
        token_status(&server, "demo-web", "lk_cs_demo-web-secret-for-local-tests").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        token_status(&server, "demo-web", "lk_cs_a-rotated-demo-web-secret").await,
        StatusCode::OK
    );
    let resp = server
        .get("/api/v1/users/me")
        .basic_auth("alice", Some("alice-new-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// A seeded key rolled through the API gets its seeded secret back at the
/// next start: the seed's credentials always work.
#[tokio::test]
async fn a_rolled_seeded_key_is_restored() {
    let dir = tempfile::tempdir().unwrap();
    let builder = TestServer::builder()
        .data_dir(dir.path())
        .config(seeded(EXAMPLE));
    let server = builder.clone().start().await;
    let keys: Value = server
        .get_json_as("/api/v1/api-keys", ("alice", "alice-password"))
        .await;
    let id = keys["api_keys"][0]["id"].as_str().unwrap().to_owned();
    let resp = server
        .post(&format!("/api/v1/api-keys/{id}/roll"))
        .basic_auth("alice", Some("alice-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = server.me_bearer(KEY).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
    let server = builder.start().await;
    let resp = server.me_bearer(KEY).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

/// A seed that names a scope the catalog lacks stops start-up.
#[tokio::test]
async fn a_seed_naming_an_unknown_scope_fails_start_up() {
    let text = EXAMPLE.replace("\"billing:read\"]", "\"no-such-scope\"]");
    let seed = Arc::new(latchkey::seed::parse(&text).unwrap());
    let store = latchkey::store::Store::open(
        &latchkey::store::Location::Ephemeral,
        latchkey::store::DEFAULT_CACHE_BYTES,
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = latchkey::config::Config {
        seed: Some(seed),
        ..Default::default()
    };
    let err = latchkey::startup::launch(
        listener,
        store,
        Arc::new(latchkey::clock::SystemClock),
        config,
        std::future::pending(),
    )
    .await
    .err()
    .expect("start-up fails");
    assert!(err.to_string().contains("no-such-scope"), "{err}");
}

/// A seed that lists `admin` sets the bootstrap admin's password.
#[tokio::test]
async fn a_seeded_admin_password_wins() {
    let text = format!(
        "{EXAMPLE}\n[[users]]\nusername = \"admin\"\npassword = \"seeded-admin-password\"\n"
    );
    let server = TestServer::builder().config(seeded(&text)).start().await;
    let ok = server
        .get("/api/v1/users/me")
        .basic_auth("admin", Some("seeded-admin-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let old = server
        .get("/api/v1/users/me")
        .basic_auth("admin", Some(crate::common::ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    // Listed without roles, the admin stays an admin.
    let me: Value = ok.json().await.unwrap();
    assert_eq!(me["roles"], serde_json::json!(["admin"]));
}

/// A seeded client's OIDC settings take effect (JWT access tokens with its
/// audience, its id_token algorithm), and a seeded signing key is the active
/// key of its algorithm with its own kid.
#[tokio::test]
async fn seeded_oidc_settings_and_signing_keys() {
    use base64::Engine as _;
    let key = latchkey::service::signing_keys::generate(latchkey::domain::jwt::Alg::ES256).unwrap();
    let der = key.to_pkcs8_der().unwrap();
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    );
    let text = format!(
        r#"
[[clients]]
client_id = "seeded-rs"
client_secret = "lk_cs_seeded-rs-secret-for-tests"
name = "Seeded RS"
type = "confidential"
grant_types = ["client_credentials"]
scopes = ["read"]
jwt_access_token_alg = "ES256"
audience = ["https://api.seeded.test"]

[[signing_keys]]
kid = "fixed-es256"
alg = "ES256"
private_key_pem = """{pem}"""
"#
    );
    let server = TestServer::builder().config(seeded(&text)).start().await;
    let resp = server
        .post("/oauth/token")
        .basic_auth("seeded-rs", Some("lk_cs_seeded-rs-secret-for-tests"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    let token: serde_json::Value = resp.json().await.unwrap();
    let access = token["access_token"].as_str().unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(access.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], "fixed-es256", "the seeded key signs");
    let keys: serde_json::Value = server
        .as_admin(reqwest::Method::GET, "/api/v1/signing-keys")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let es: Vec<&serde_json::Value> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["alg"] == "ES256" && k["active"] == true)
        .collect();
    assert_eq!(es.len(), 1);
    assert_eq!(es[0]["kid"], "fixed-es256");
    let bad = text.replace(
        "alg = \"ES256\"\nprivate_key_pem",
        "alg = \"RS256\"\nprivate_key_pem",
    );
    let err = latchkey::seed::parse(&bad).unwrap_err();
    assert!(err.contains("[[signing_keys]] private_key_pem"), "{err}");
    server.stop().await;
}
