//! Swagger UI sign-in: `/docs` is preset for the built-in public client
//! `swagger-ui`, and a person can click Authorize, log in, consent and then
//! Try-it-out `GET /api/v1/users/me` with the token Swagger UI got. The browser
//! test drives Debian's `chromium` (never a downloaded browser) with
//! `playwright-core`, pinned in tests/browser/package.json and installed under
//! the target directory; see tests/browser/swagger_signin.mjs for each step.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::{expect_json, TestServer, ADMIN_PASSWORD};
use crate::subprocess::{repo, run_bounded, target_dir};

/// `node --version` and `npm --version`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);
/// `npm ci` of tests/browser/package-lock.json, download included.
const NPM_TIMEOUT: Duration = Duration::from_secs(300);
/// The browser script; each of its steps has its own 15 s timeout.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

const INSTALL_HINT: &str = "the Swagger UI browser test needs Debian's chromium, node and npm (apt-get install chromium nodejs npm)";

/// What the browser test installs from: the pinned manifest, its lockfile and the script.
const BROWSER_FILES: [&str; 4] = [
    "package.json",
    "package-lock.json",
    "swagger_signin.mjs",
    "oidc_client.mjs",
];

/// The page at `/docs` starts Swagger UI preset for the built-in client, with
/// PKCE; the OAuth receiver page it redirects to is served; the spec's oauth2
/// scheme has an authorization-code flow at this server's endpoints; and the
/// `swagger-ui` client exists from first start, public, redirecting to the receiver.
#[tokio::test]
async fn docs_are_preset_for_swagger_ui_sign_in() {
    let server = TestServer::start().await;

    let resp = server.get("/docs").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains(r#"clientId: "swagger-ui""#),
        "no initOAuth preset on /docs"
    );
    assert!(
        page.contains("usePkceWithAuthorizationCodeGrant: true"),
        "PKCE not preset on /docs"
    );

    let resp = server
        .get("/docs/oauth-receiver.html")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(ctype.starts_with("text/html"), "content-type {ctype:?}");
    let receiver = resp.text().await.unwrap();
    assert!(
        receiver.contains("swaggerUIRedirectOauth2"),
        "not Swagger UI's receiver page: {receiver}"
    );

    let spec: Value = server
        .get("/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code_flow = &spec["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"];
    assert_eq!(
        code_flow["authorizationUrl"], "/oauth/authorize",
        "{code_flow}"
    );
    assert_eq!(code_flow["tokenUrl"], "/oauth/token", "{code_flow}");

    let resp = server
        .as_admin(Method::GET, "/api/v1/clients/swagger-ui")
        .send()
        .await
        .unwrap();
    let client = expect_json(resp, StatusCode::OK).await;
    assert_eq!(client["type"], "public", "{client}");
    assert_eq!(
        client["redirect_uris"],
        serde_json::json!(["/docs/oauth-receiver.html"]),
        "{client}"
    );
    assert_eq!(client["allow_plain_pkce"], false, "{client}");
    server.stop().await;
}

/// In headless chromium, admin opens `/docs`, clicks Authorize, picks the oauth2
/// authorizationCode flow, signs in and allows in the popup, sees the flow
/// authorized, and Try-it-out on `GET /api/v1/users/me` answers for admin with
/// `auth_method` `access_token` and `client_id` `swagger-ui`.
#[tokio::test]
async fn swagger_ui_signs_in_and_tries_users_me() {
    let chromium = std::env::var_os("CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        chromium.exists(),
        "{INSTALL_HINT}; no browser at {}",
        chromium.display()
    );
    let dir = browser_node().await;
    let server = TestServer::start().await;

    let mut script = Command::new("node");
    script
        .arg("swagger_signin.mjs")
        .args([server.base.as_str(), "admin", ADMIN_PASSWORD])
        .current_dir(&dir)
        .env("CHROMIUM", &chromium)
        .env("ARTIFACT_DIR", target_dir().join("browser-artifacts"))
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
    let out = run_bounded(script, SCRIPT_TIMEOUT)
        .await
        .unwrap_or_else(|err| panic!("{INSTALL_HINT}; running node failed: {err}"));
    assert!(
        out.status.success(),
        "the Swagger UI sign-in failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    server.stop().await;
}

/// Makes sure `<target dir>/browser-node` holds the pinned playwright-core and
/// the current script, and returns that directory. The marker file holds the
/// manifest and lockfile it was installed from: when they differ (or it is
/// missing), `npm ci` installs afresh. playwright-core downloads no browser by
/// itself; PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD says so anyway. Fails, never skips,
/// when node or npm is missing.
pub(crate) async fn browser_node() -> PathBuf {
    let source = repo().join("tests/browser");
    let dir = target_dir().join("browser-node");
    std::fs::create_dir_all(&dir).unwrap();
    for name in BROWSER_FILES {
        std::fs::copy(source.join(name), dir.join(name))
            .unwrap_or_else(|err| panic!("copying tests/browser/{name}: {err}"));
    }

    for tool in ["node", "npm"] {
        let mut probe = Command::new(tool);
        probe.arg("--version");
        let out = run_bounded(probe, PROBE_TIMEOUT)
            .await
            .unwrap_or_else(|err| panic!("{INSTALL_HINT}; running {tool} failed: {err}"));
        assert!(
            out.status.success(),
            "{INSTALL_HINT}; `{tool} --version` failed ({})",
            out.status
        );
    }

    let marker = dir.join("packages.installed");
    let mut wanted = String::new();
    for name in ["package.json", "package-lock.json"] {
        wanted += &std::fs::read_to_string(source.join(name)).unwrap();
    }
    let installed = dir.join("node_modules/playwright-core/package.json");
    if installed.exists() && std::fs::read_to_string(&marker).is_ok_and(|had| had == wanted) {
        return dir;
    }

    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
    let out = run_bounded(npm, NPM_TIMEOUT)
        .await
        .unwrap_or_else(|err| panic!("{INSTALL_HINT}; running npm failed: {err}"));
    assert!(
        out.status.success(),
        "npm could not install tests/browser/package-lock.json (it needs the npm registry or a configured mirror) ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    std::fs::write(&marker, &wanted).unwrap();
    dir
}
