//! The harness every integration test uses: a real server in this process, on
//! an ephemeral port, with its own store; plus small helpers for requests.
//! Every request a test sends through it is status-checked against the spec
//! ([`checked`]); [`oauth`] has typed token, introspection and revocation
//! requests, [`browser`] the scripted browser for the authorization pages, and
//! [`code_flow`] the fixture the authorization-endpoint tests share.

pub mod browser;
pub mod checked;
pub mod code_flow;
pub mod oauth;

pub use browser::{hidden_inputs, location, params_of, title, Browser};
pub use checked::{checked, CheckedClient, CheckedRequest};
pub use oauth::{ClientAuth, Grant, OAuthClient};

use std::path::PathBuf;
use std::sync::Arc;

use latchkey::clock::{Clock, SystemClock};
use latchkey::config::Config;
use latchkey::secret::Redacted;
use latchkey::state::AppState;
use latchkey::store::{Location, Store, DEFAULT_CACHE_BYTES};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The bootstrap admin's password on every test server.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// The bootstrap admin as (username, password).
pub const ADMIN: (&str, &str) = ("admin", ADMIN_PASSWORD);

/// How long any single request may take before the test fails.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

pub struct TestServer {
    pub base: String,
    pub state: AppState,
    /// The created realms.
    pub realms: Arc<latchkey::service::realms::Realms>,
    /// Checks every answer against the spec (see [`checked`]).
    pub client: CheckedClient,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

#[derive(Clone)]
pub struct Builder {
    location: Location,
    config: Config,
    clock: Arc<dyn Clock>,
}

impl Builder {
    /// Keep the store in `dir` (for restart tests) instead of a throwaway one.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.location = Location::Dir(dir.into());
        self
    }

    /// Run on this clock (e.g. a `ManualClock`, to test expiry without sleeping).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn config(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(&mut self.config);
        self
    }

    pub async fn start(self) -> TestServer {
        let store = Store::open(&self.location, DEFAULT_CACHE_BYTES).expect("open store");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let launched =
            latchkey::startup::launch(listener, store, self.clock, self.config, async move {
                let _ = stop_rx.await;
            })
            .await
            .expect("launch");
        TestServer {
            base: format!("http://{}", launched.addr),
            state: launched.state,
            realms: launched.realms,
            client: CheckedClient::new(
                reqwest::Client::builder()
                    .timeout(REQUEST_TIMEOUT)
                    .build()
                    .expect("client"),
            ),
            stop: Some(stop_tx),
            server: Some(launched.server),
        }
    }
}

impl TestServer {
    pub fn builder() -> Builder {
        Builder {
            location: Location::Ephemeral,
            config: Config {
                admin_password: Some(Redacted::new(ADMIN_PASSWORD.into())),
                ..Config::default()
            },
            clock: Arc::new(SystemClock),
        }
    }

    pub async fn start() -> TestServer {
        Self::builder().start().await
    }

    /// Graceful stop: in-flight requests finish, the store is flushed and closed.
    /// The test's own HTTP client goes first, so no idle keep-alive connection
    /// keeps the server's state (and the store's lock) alive after the stop.
    pub async fn stop(mut self) {
        self.client = CheckedClient::new(reqwest::Client::new());
        self.shutdown().await;
    }

    async fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            tokio::time::timeout(std::time::Duration::from_secs(30), server)
                .await
                .expect("server stops within 30 s")
                .expect("server task")
                .expect("server result");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn request(&self, method: Method, path: &str) -> CheckedRequest {
        self.client.request(method, self.url(path))
    }

    pub fn get(&self, path: &str) -> CheckedRequest {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> CheckedRequest {
        self.request(Method::POST, path)
    }

    /// A request authenticated as the bootstrap admin.
    pub fn as_admin(&self, method: Method, path: &str) -> CheckedRequest {
        self.request(method, path)
            .basic_auth("admin", Some(ADMIN_PASSWORD))
    }

    /// `GET path` as `user` (username, password), expecting JSON back.
    pub async fn get_json_as(&self, path: &str, user: (&str, &str)) -> Value {
        self.get(path)
            .basic_auth(user.0, Some(user.1))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Creates a user through the API and returns its JSON.
    pub async fn create_user(&self, username: &str, password: &str, roles: &[&str]) -> Value {
        let resp = self
            .as_admin(Method::POST, "/api/v1/users")
            .json(&json!({"username": username, "password": password, "roles": roles}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED, "creating {username}");
        resp.json().await.unwrap()
    }

    /// `GET /api/v1/users/me` with `token` (an access token or API key) as Bearer.
    pub async fn me_bearer(&self, token: &str) -> Response {
        self.get("/api/v1/users/me")
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Registers a client as `user` (username, password); returns the response.
    pub async fn register_client(&self, user: (&str, &str), body: Value) -> Response {
        self.post("/api/v1/clients")
            .basic_auth(user.0, Some(user.1))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Registers a client as the admin, expecting 201; returns its credentials document.
    pub async fn admin_client(&self, body: Value) -> Value {
        let resp = self.register_client(ADMIN, body).await;
        expect_json(resp, StatusCode::CREATED).await
    }

    /// Creates an API key as `user` (username, password), expecting 201;
    /// returns the create response (the only one that shows the secret).
    pub async fn create_api_key(&self, user: (&str, &str), body: Value) -> Value {
        let resp = self
            .post("/api/v1/api-keys")
            .basic_auth(user.0, Some(user.1))
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_json(resp, StatusCode::CREATED).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // A test that did not call `stop` still must not leave a server running.
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Asserts the status and that the body is JSON; returns it.
pub async fn expect_json(resp: Response, status: StatusCode) -> Value {
    let got = resp.status();
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// Asserts the status and that the body is the API's JSON error shape; returns it.
pub async fn expect_error(resp: Response, status: StatusCode, code: &str) -> Value {
    let got = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "body: {text}");
    assert!(
        ctype.starts_with("application/json"),
        "content-type {ctype:?}, body {text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    assert_eq!(body["error"], code, "body: {body}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "error_description missing: {body}"
    );
    body
}

/// [`expect_error`], and the description names `needle` (the field, scope or
/// value at fault); returns the body.
pub async fn expect_error_naming(
    resp: Response,
    status: StatusCode,
    code: &str,
    needle: &str,
) -> Value {
    let body = expect_error(resp, status, code).await;
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains(needle)),
        "the description should name {needle:?}: {body}"
    );
    body
}

/// The `WWW-Authenticate` values of a response.
pub fn challenges(resp: &Response) -> Vec<String> {
    resp.headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}
