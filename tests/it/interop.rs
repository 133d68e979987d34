//! Interop: OAuth clients nobody here wrote — the `oauth2` crate and Python's
//! Authlib — obtain client_credentials tokens, use them, and read our RFC 6749
//! §5.2 errors the way they read any other server's.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use oauth2::basic::{
    BasicClient, BasicErrorResponse, BasicErrorResponseType, BasicTokenResponse, BasicTokenType,
};
use oauth2::{
    AuthType, ClientId, ClientSecret, HttpClientError, RequestTokenError, Scope, TokenResponse,
    TokenUrl,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TestServer;

/// What a failed `oauth2` token request gives back.
type TokenError = RequestTokenError<HttpClientError<reqwest::Error>, BasicErrorResponse>;

/// `python3 -m venv`, which also bootstraps pip with ensurepip.
const VENV_TIMEOUT: Duration = Duration::from_secs(120);
/// `pip install` of tests/interop/requirements.txt, downloads included.
const PIP_TIMEOUT: Duration = Duration::from_secs(300);
/// The Authlib script; each of its requests has its own 10 s timeout.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

const INSTALL_HINT: &str =
    "the Authlib interop test needs python3 with its venv module (Debian/Ubuntu: apt-get install python3 python3-venv)";

/// A registered confidential client: its id and its one-time secret.
struct Registered {
    id: String,
    secret: String,
}

/// Registers a confidential client_credentials client, owned by admin, allowed `read` and `write`.
async fn register_client(server: &TestServer) -> Registered {
    let resp = server
        .as_admin(Method::POST, "/api/v1/clients")
        .json(&json!({
            "name": "svc",
            "type": "confidential",
            "grant_types": ["client_credentials"],
            "scopes": ["read", "write"],
            "access_token_ttl_seconds": 600,
        }))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "registering a client: {text}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    let secret = body["client_secret"].as_str().unwrap_or_default();
    assert!(secret.starts_with("lk_cs_"), "client_secret: {body}");
    Registered {
        id: body["client_id"].as_str().unwrap().to_owned(),
        secret: secret.to_owned(),
    }
}

/// Asks for a client_credentials token the way an `oauth2` crate user would.
async fn oauth2_token(
    http: &reqwest::Client,
    server: &TestServer,
    client_id: &str,
    secret: &str,
    auth_type: AuthType,
    scopes: &[&str],
) -> Result<BasicTokenResponse, TokenError> {
    let client = BasicClient::new(ClientId::new(client_id.to_owned()))
        .set_client_secret(ClientSecret::new(secret.to_owned()))
        .set_auth_type(auth_type)
        .set_token_uri(TokenUrl::new(server.url("/oauth/token")).unwrap());
    client
        .exchange_client_credentials()
        .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())))
        .request_async(http)
        .await
}

/// The RFC 6749 §5.2 error code of a token request that must fail.
fn error_code(result: Result<BasicTokenResponse, TokenError>) -> BasicErrorResponseType {
    match result {
        Ok(token) => panic!(
            "expected an error response, got a token for {:?}",
            token.scopes()
        ),
        Err(RequestTokenError::ServerResponse(resp)) => resp.error().clone(),
        Err(RequestTokenError::Parse(err, body)) => {
            panic!(
                "unparsable error response ({err}): {}",
                String::from_utf8_lossy(&body)
            )
        }
        Err(other) => panic!("expected an RFC 6749 error response, got {other:?}"),
    }
}

/// The oauth2 crate, with either client authentication (`AuthType::BasicAuth` sends
/// form-encoded Basic credentials, `RequestBody` sends them as form fields), gets a
/// Bearer token that works at the API, and sees `invalid_client` and `invalid_scope`.
#[tokio::test]
async fn oauth2_crate_client_credentials() {
    let server = TestServer::start().await;
    let client = register_client(&server).await;
    // The oauth2 crate's own advice: never follow redirects from a token endpoint (SSRF).
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();

    for auth_type in [AuthType::BasicAuth, AuthType::RequestBody] {
        let token = oauth2_token(
            &http,
            &server,
            &client.id,
            &client.secret,
            auth_type.clone(),
            &["read", "write"],
        )
        .await
        .unwrap_or_else(|err| panic!("{auth_type:?}: {err:?}"));
        let access = token.access_token().secret();
        assert!(access.starts_with("lk_at_"), "{auth_type:?}: {access}");
        assert_eq!(*token.token_type(), BasicTokenType::Bearer, "{auth_type:?}");
        assert_eq!(
            token.expires_in(),
            Some(Duration::from_secs(600)),
            "{auth_type:?}"
        );
        let mut scopes: Vec<&str> = token.scopes().unwrap().iter().map(|s| s.as_str()).collect();
        scopes.sort_unstable();
        assert_eq!(scopes, ["read", "write"], "{auth_type:?}");

        let resp = server
            .get("/api/v1/users/me")
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{auth_type:?}");
        let me: Value = resp.json().await.unwrap();
        assert_eq!(me["auth_method"], "access_token", "{me}");
        assert_eq!(me["client_id"], client.id.as_str(), "{me}");
        assert_eq!(me["username"], "admin", "{me}");
        let mut granted: Vec<&str> = me["scopes"]
            .as_array()
            .unwrap_or_else(|| panic!("scopes: {me}"))
            .iter()
            .filter_map(Value::as_str)
            .collect();
        granted.sort_unstable();
        assert_eq!(granted, ["read", "write"], "{me}");

        let wrong_secret = format!("{}x", client.secret);
        let refused = oauth2_token(
            &http,
            &server,
            &client.id,
            &wrong_secret,
            auth_type.clone(),
            &["read"],
        )
        .await;
        assert_eq!(
            error_code(refused),
            BasicErrorResponseType::InvalidClient,
            "{auth_type:?}"
        );

        // `content:read` is in the catalog but not granted to this client; the other exists nowhere.
        for scope in ["content:read", "no-such-scope"] {
            let refused = oauth2_token(
                &http,
                &server,
                &client.id,
                &client.secret,
                auth_type.clone(),
                &[scope],
            )
            .await;
            assert_eq!(
                error_code(refused),
                BasicErrorResponseType::InvalidScope,
                "{auth_type:?} {scope}"
            );
        }
    }
    server.stop().await;
}

/// Python's Authlib (pinned in tests/interop/requirements.txt), with both
/// `client_secret_basic` and `client_secret_post`, fetches, uses, introspects and
/// revokes a token; see tests/interop/authlib_client_credentials.py for each check.
#[tokio::test]
async fn authlib_client_credentials() {
    let python = interop_venv().await;
    let server = TestServer::start().await;
    let client = register_client(&server).await;

    let mut script = Command::new(&python);
    script
        .arg("-u") // unbuffered, so a killed run still shows how far it got
        .arg(repo().join("tests/interop/authlib_client_credentials.py"))
        .args([&server.base, &client.id, &client.secret]);
    let out = run_bounded(script, SCRIPT_TIMEOUT)
        .await
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", python.display()));
    assert!(
        out.status.success(),
        "the Authlib script failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    server.stop().await;
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `<target dir>/interop-venv`, so `cargo clean` removes it. A relative
/// CARGO_TARGET_DIR is taken from the repository root (joining an absolute one replaces it).
fn venv_dir() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    repo().join(target).join("interop-venv")
}

/// Makes sure the venv holds the pinned requirements and returns its python.
/// The marker file holds the requirements it was built from: when they differ
/// (or it is missing), the venv is rebuilt from scratch. Fails, never skips,
/// when python3 or its venv module is missing.
async fn interop_venv() -> PathBuf {
    let dir = venv_dir();
    let python = dir.join("bin/python");
    let marker = dir.join("requirements.installed");
    let requirements_path = repo().join("tests/interop/requirements.txt");
    let requirements = std::fs::read_to_string(&requirements_path).unwrap();
    if python.exists() && std::fs::read_to_string(&marker).is_ok_and(|built| built == requirements)
    {
        return python;
    }

    let mut venv = Command::new("python3");
    venv.args(["-m", "venv", "--clear"]).arg(&dir);
    let out = run_bounded(venv, VENV_TIMEOUT)
        .await
        .unwrap_or_else(|err| panic!("{INSTALL_HINT}; running python3 failed: {err}"));
    assert!(
        out.status.success(),
        "{INSTALL_HINT}; `python3 -m venv {}` failed ({}):\n{}\n{}",
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );

    let mut pip = Command::new(&python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "-q",
        "-r",
    ])
    .arg(&requirements_path);
    let out = run_bounded(pip, PIP_TIMEOUT)
        .await
        .unwrap_or_else(|err| panic!("{INSTALL_HINT}; running {} failed: {err}", python.display()));
    assert!(
        out.status.success(),
        "pip could not install {} (it needs PyPI or a configured index) ({}):\n{}\n{}",
        requirements_path.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    std::fs::write(&marker, &requirements).unwrap();
    python
}

/// Runs `cmd` with its output captured and kills it if it outlives `limit`.
/// Polls rather than blocks: the test server shares this test's runtime thread,
/// and the child may be talking to it.
async fn run_bounded(mut cmd: Command, limit: Duration) -> std::io::Result<Output> {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            // The pipes close with the child, unless it left children of its own holding them.
            tokio::time::sleep(Duration::from_millis(200)).await;
            panic!(
                "{what} did not finish within {limit:?} and was killed\n--- stdout\n{}\n--- stderr\n{}",
                finished_output(stdout),
                finished_output(stderr),
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    Ok(Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    })
}

/// Reads a child's pipe to the end on its own thread, so a chatty child never blocks on a full pipe.
fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// What a drained pipe held, if it has been closed; never waits.
fn finished_output(reader: JoinHandle<Vec<u8>>) -> String {
    if reader.is_finished() {
        String::from_utf8_lossy(&reader.join().unwrap()).into_owned()
    } else {
        "(pipe still held open by a grandchild)".to_owned()
    }
}
