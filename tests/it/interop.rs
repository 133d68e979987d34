//! Interop: OAuth clients nobody here wrote — the `oauth2` crate and Python's
//! Authlib — obtain client_credentials tokens and run the authorization-code flow
//! with PKCE and refresh-token rotation, use the tokens, and read our RFC 6749
//! §5.2 errors the way they read any other server's. There is no browser: the
//! login and consent forms are posted over plain HTTP.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::Command;
use std::time::Duration;

use oauth2::basic::{
    BasicClient, BasicErrorResponse, BasicErrorResponseType, BasicTokenResponse, BasicTokenType,
};
use oauth2::{
    AsyncHttpClient, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointNotSet, EndpointSet, HttpClientError, HttpRequest, HttpResponse, PkceCodeChallenge,
    RedirectUrl, RefreshToken, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::checked::assert_declared;
use crate::common::{params_of, Browser, OAuthClient, TestServer};
use crate::subprocess::{repo, run_bounded, target_dir};

/// What a failed `oauth2` token request gives back.
type TokenError = RequestTokenError<HttpClientError<reqwest::Error>, BasicErrorResponse>;

/// An `oauth2` client that knows the authorization and token endpoints.
type CodeFlowClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// `python3 -m venv`, which also bootstraps pip with ensurepip.
const VENV_TIMEOUT: Duration = Duration::from_secs(120);
/// `pip install` of tests/interop/requirements.txt, downloads included.
const PIP_TIMEOUT: Duration = Duration::from_secs(300);
/// The Authlib script; each of its requests has its own 10 s timeout.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

const INSTALL_HINT: &str =
    "the Authlib interop test needs python3 with its venv module (Debian/Ubuntu: apt-get install python3 python3-venv)";

/// The code-flow clients' redirect URI: loopback and registered without a port, so
/// (RFC 8252 §7.3) the server must accept it on any port.
const REGISTERED_REDIRECT: &str = "http://127.0.0.1/cb";
/// What the clients send: the registered URI on a port of their own. Nothing listens
/// there; the tests read the redirect's `Location` instead of following it.
const CLIENT_REDIRECT: &str = "http://127.0.0.1:8765/cb";
/// The resource owner who signs in on the login page.
const USERNAME: &str = "pat";
const PASSWORD: &str = "pat-password";
/// Access-token lifetime of every client registered here: longer than Authlib's
/// 60 s refresh leeway, so it never refreshes on its own behind the script's back.
const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(600);

/// Registers a confidential client_credentials client, owned by admin, allowed `read` and `write`.
async fn register_client(server: &TestServer) -> OAuthClient {
    let body = server
        .admin_client(json!({
            "name": "svc",
            "type": "confidential",
            "grant_types": ["client_credentials"],
            "scopes": ["read", "write"],
            "access_token_ttl_seconds": ACCESS_TOKEN_TTL.as_secs(),
        }))
        .await;
    let secret = body["client_secret"].as_str().unwrap_or_default();
    assert!(secret.starts_with("lk_cs_"), "client_secret: {body}");
    OAuthClient::of(&body)
}

/// The HTTP client the `oauth2` crate sends its token requests with: reqwest,
/// whose answers are status-checked against the spec like every other request
/// here. The crate's own advice: never follow redirects from a token endpoint (SSRF).
fn token_http() -> SpecCheckedHttp {
    SpecCheckedHttp(
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
    )
}

/// reqwest as the `oauth2` crate's HTTP client, with each answer's status
/// checked against the operation it came from ([`assert_declared`]).
struct SpecCheckedHttp(reqwest::Client);

impl<'c> AsyncHttpClient<'c> for SpecCheckedHttp {
    type Error = HttpClientError<reqwest::Error>;
    type Future =
        Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + Sync + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        let method = request.method().to_string();
        let path = request.uri().path().to_owned();
        let answer = self.0.call(request);
        Box::pin(async move {
            let resp = answer.await?;
            assert_declared(&method, &path, resp.status().as_u16());
            Ok(resp)
        })
    }
}

/// Registers a `confidential` or `public` client for the code flow with refresh
/// tokens, owned by admin, allowed `read` and `write`, redirecting to [`REGISTERED_REDIRECT`].
async fn register_code_client(server: &TestServer, kind: &str) -> OAuthClient {
    let body = server
        .admin_client(json!({
            "name": format!("{kind} app"),
            "type": kind,
            "redirect_uris": [REGISTERED_REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "scopes": ["read", "write"],
            "access_token_ttl_seconds": ACCESS_TOKEN_TTL.as_secs(),
        }))
        .await;
    let app = OAuthClient::of(&body);
    match kind {
        "public" => assert_eq!(app.secret, None, "a public client has no secret: {body}"),
        _ => assert!(
            app.secret
                .as_deref()
                .is_some_and(|s| s.starts_with("lk_cs_")),
            "client_secret: {body}"
        ),
    }
    app
}

/// Asks for a client_credentials token the way an `oauth2` crate user would.
async fn oauth2_token(
    http: &SpecCheckedHttp,
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
    let http = token_http();

    for auth_type in [AuthType::BasicAuth, AuthType::RequestBody] {
        let token = oauth2_token(
            &http,
            &server,
            &client.id,
            client.secret(),
            auth_type.clone(),
            &["read", "write"],
        )
        .await
        .unwrap_or_else(|err| panic!("{auth_type:?}: {err:?}"));
        let access = token.access_token().secret();
        assert!(access.starts_with("lk_at_"), "{auth_type:?}: {access}");
        assert_eq!(*token.token_type(), BasicTokenType::Bearer, "{auth_type:?}");
        assert_eq!(token.expires_in(), Some(ACCESS_TOKEN_TTL), "{auth_type:?}");
        let mut scopes: Vec<&str> = token.scopes().unwrap().iter().map(|s| s.as_str()).collect();
        scopes.sort_unstable();
        assert_eq!(scopes, ["read", "write"], "{auth_type:?}");

        let resp = server.me_bearer(access).await;
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

        let wrong_secret = format!("{}x", client.secret());
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
                client.secret(),
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

/// The oauth2 crate runs the authorization-code flow with S256 PKCE, the login and
/// consent forms posted by a scripted [`Browser`]: a confidential client with Basic
/// credentials; the same client with credentials in the body, which the signed-in,
/// consented browser gets a code for at once (302); and a public client. Each time
/// its `CsrfToken` comes back verbatim, the code redeems with the verifier, the
/// token works, the refresh token rotates, and a reused one is `InvalidGrant` and
/// takes its successor with it.
#[tokio::test]
async fn oauth2_crate_code_flow_with_pkce_and_refresh() {
    let server = TestServer::start().await;
    server.create_user(USERNAME, PASSWORD, &["member"]).await;
    let confidential = register_code_client(&server, "confidential").await;
    let public = register_code_client(&server, "public").await;
    let http = token_http();

    let mut browser = Browser::new(&server);
    for (auth_type, consented) in [(AuthType::BasicAuth, false), (AuthType::RequestBody, true)] {
        let client = code_flow_client(&server, &confidential, auth_type.clone());
        let label = format!("confidential {auth_type:?}");
        oauth2_code_flow(&server, &http, &mut browser, &client, consented, &label).await;
    }
    // Without a secret the crate sends `client_id` in the body, whatever the AuthType.
    let client = code_flow_client(&server, &public, AuthType::BasicAuth);
    let mut browser = Browser::new(&server);
    oauth2_code_flow(&server, &http, &mut browser, &client, false, "public").await;
    server.stop().await;
}

/// An `oauth2` client for `app` that redirects to [`CLIENT_REDIRECT`].
fn code_flow_client(server: &TestServer, app: &OAuthClient, auth_type: AuthType) -> CodeFlowClient {
    let client = BasicClient::new(ClientId::new(app.id.clone()))
        .set_auth_uri(AuthUrl::new(server.url("/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(server.url("/oauth/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(CLIENT_REDIRECT.to_owned()).unwrap())
        .set_auth_type(auth_type);
    match &app.secret {
        Some(secret) => client.set_client_secret(ClientSecret::new(secret.clone())),
        None => client,
    }
}

/// One authorization-code round with `client`, as described on
/// [`oauth2_crate_code_flow_with_pkce_and_refresh`]. With `consented`, the browser
/// is expected to be signed in and to have allowed `read` for this client already.
async fn oauth2_code_flow(
    server: &TestServer,
    http: &SpecCheckedHttp,
    browser: &mut Browser,
    client: &CodeFlowClient,
    consented: bool,
    label: &str,
) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("read".to_owned()))
        .set_pkce_challenge(challenge)
        .url();
    assert!(
        url.as_str().starts_with(&server.url("/oauth/authorize?")),
        "{label}: authorization URL {url}"
    );
    let path_and_query = format!("{}?{}", url.path(), url.query().unwrap_or_default());
    let (resp, expected) = if consented {
        (browser.get(&path_and_query).await, StatusCode::FOUND)
    } else {
        let resp = browser
            .sign_in_and_allow(&path_and_query, USERNAME, PASSWORD)
            .await;
        (resp, StatusCode::SEE_OTHER)
    };
    let status = resp.status();
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = resp.text().await.unwrap_or_default();
    assert_eq!(
        status, expected,
        "{label}: GET {path_and_query}: Location {location:?}, body {body}"
    );
    assert!(
        location.starts_with(&format!("{CLIENT_REDIRECT}?")),
        "{label}: Location {location}"
    );
    let params = params_of(&location, '?');
    assert_eq!(
        params.get("state"),
        Some(state.secret()),
        "{label}: the CsrfToken is not echoed verbatim: {location}"
    );
    let code = params.get("code").cloned().unwrap_or_default();
    assert!(code.starts_with("lk_ac_"), "{label}: Location {location}");

    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(http)
        .await
        .unwrap_or_else(|err| panic!("{label}: redeeming the code: {err:?}"));
    let refresh = issued(&token, label).clone();
    let access = token.access_token().secret();
    assert_me(server, access, client.client_id(), label).await;

    let rotated = client
        .exchange_refresh_token(&refresh)
        .request_async(http)
        .await
        .unwrap_or_else(|err| panic!("{label}: refreshing: {err:?}"));
    let successor = issued(&rotated, label);
    assert_ne!(
        successor.secret(),
        refresh.secret(),
        "{label}: the refresh token was not rotated"
    );
    let new_access = rotated.access_token().secret();
    assert_ne!(new_access, access, "{label}: the same access token again");
    assert_me(server, new_access, client.client_id(), label).await;

    let reused = client
        .exchange_refresh_token(&refresh)
        .request_async(http)
        .await;
    assert_eq!(
        error_code(reused),
        BasicErrorResponseType::InvalidGrant,
        "{label}: a reused refresh token"
    );
    let after_reuse = client
        .exchange_refresh_token(successor)
        .request_async(http)
        .await;
    assert_eq!(
        error_code(after_reuse),
        BasicErrorResponseType::InvalidGrant,
        "{label}: the rotated refresh token after its predecessor was reused"
    );
    for token in [access, new_access] {
        let resp = server.me_bearer(token).await;
        assert_eq!(
            resp.status(),
            StatusCode::UNAUTHORIZED,
            "{label}: an access token of the revoked family still works"
        );
    }
}

/// Checks a code-flow token response (Bearer, `read`, [`ACCESS_TOKEN_TTL`], our
/// prefixes) and returns its refresh token.
fn issued<'t>(token: &'t BasicTokenResponse, label: &str) -> &'t RefreshToken {
    assert!(
        token.access_token().secret().starts_with("lk_at_"),
        "{label}: access_token {}",
        token.access_token().secret()
    );
    assert_eq!(*token.token_type(), BasicTokenType::Bearer, "{label}");
    assert_eq!(token.expires_in(), Some(ACCESS_TOKEN_TTL), "{label}");
    let scopes: Option<Vec<&str>> = token
        .scopes()
        .map(|scopes| scopes.iter().map(|s| s.as_str()).collect());
    assert_eq!(scopes, Some(vec!["read"]), "{label}: scope");
    let refresh = token
        .refresh_token()
        .unwrap_or_else(|| panic!("{label}: no refresh_token"));
    assert!(
        refresh.secret().starts_with("lk_rt_"),
        "{label}: refresh_token {}",
        refresh.secret()
    );
    refresh
}

/// Asserts that `access` authenticates at /api/v1/users/me as [`USERNAME`] through `client_id`.
async fn assert_me(server: &TestServer, access: &str, client_id: &ClientId, label: &str) {
    let resp = server.me_bearer(access).await;
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{label}: /users/me: {text}");
    let me: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    assert_eq!(me["auth_method"], "access_token", "{label}: {me}");
    assert_eq!(me["username"], USERNAME, "{label}: {me}");
    assert_eq!(me["client_id"], client_id.as_str(), "{label}: {me}");
}

/// Python's Authlib (pinned in tests/interop/requirements.txt), with both
/// `client_secret_basic` and `client_secret_post`, fetches, uses, introspects and
/// revokes a token; see tests/interop/authlib_client_credentials.py for each check.
#[tokio::test]
async fn authlib_client_credentials() {
    let python = interop_venv().await;
    let server = TestServer::start().await;
    let client = register_client(&server).await;

    run_script(
        &python,
        "authlib_client_credentials.py",
        &[&server.base, &client.id, client.secret()],
    )
    .await;
    server.stop().await;
}

/// Python's Authlib runs the authorization-code flow with S256 PKCE for a
/// confidential client (`client_secret_basic`) and a public one (`none`), the
/// forms posted by `requests`: state echoed, code redeemed with the verifier, the
/// token used, refreshed with rotation, and a reused refresh token refused with
/// `invalid_grant` after which its successor is dead too. See
/// tests/interop/authlib_code_flow.py for each check.
#[tokio::test]
async fn authlib_code_flow_with_pkce_and_refresh() {
    let python = interop_venv().await;
    let server = TestServer::start().await;
    server.create_user(USERNAME, PASSWORD, &["member"]).await;
    let confidential = register_code_client(&server, "confidential").await;
    let public = register_code_client(&server, "public").await;
    let secret = confidential.secret().to_owned();

    run_script(
        &python,
        "authlib_code_flow.py",
        &[
            &server.base,
            &confidential.id,
            &secret,
            &public.id,
            USERNAME,
            PASSWORD,
        ],
    )
    .await;
    server.stop().await;
}

/// Runs tests/interop/`name` with `args` in the venv's python and fails the test,
/// showing its output, unless it exits 0.
pub(crate) async fn run_script(python: &Path, name: &str, args: &[&str]) {
    run_script_with(python, name, args, &[]).await;
}

/// [`run_script`] with `env` added to the script's environment.
pub(crate) async fn run_script_with(
    python: &Path,
    name: &str,
    args: &[&str],
    env: &[(&str, &str)],
) {
    let mut script = Command::new(python);
    script
        .arg("-u") // unbuffered, so a killed run still shows how far it got
        .arg(repo().join("tests/interop").join(name))
        .args(args)
        .envs(env.iter().copied());
    let out = run_bounded(script, SCRIPT_TIMEOUT)
        .await
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", python.display()));
    assert!(
        out.status.success(),
        "the interop script {name} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
}

/// `<target dir>/interop-venv`, so `cargo clean` removes it.
fn venv_dir() -> PathBuf {
    target_dir().join("interop-venv")
}

/// Makes sure the venv holds the pinned requirements and returns its python.
/// The marker file holds the requirements it was built from: when they differ
/// (or it is missing), the venv is rebuilt from scratch. Fails, never skips,
/// when python3 or its venv module is missing.
pub(crate) async fn interop_venv() -> PathBuf {
    // Tests run concurrently in this process: one builds the venv, the others wait.
    static BUILDING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _building = BUILDING.lock().await;
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
