//! OpenID Connect: discovery, the JWKS, signing-key rotation, id_tokens in the
//! code flow and on refresh, userinfo's errors, and the vendor guides'
//! dialects that came with it; interop with Authlib, PyJWT and joserfc.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::browser::{params_of, Browser};
use crate::common::oauth::{ClientAuth, Grant, OAuthClient};
use crate::common::{challenges, expect_error, expect_json, TestServer, ADMIN};
use crate::interop::{interop_venv, run_script};

const REDIRECT: &str = "http://127.0.0.1/cb";

async fn oidc_client(server: &TestServer, alg: &str) -> OAuthClient {
    let created = server
        .admin_client(json!({
            "name": format!("oidc {alg}"),
            "type": "confidential",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "scopes": ["openid", "profile", "email", "read"],
            "id_token_signed_response_alg": alg,
        }))
        .await;
    assert_eq!(created["id_token_signed_response_alg"], alg);
    OAuthClient::of(&created)
}

/// A client_credentials client whose access tokens are JWTs signed with
/// `alg` for `audience` (a resource server's view of them is tested).
async fn resource_client(server: &TestServer, alg: &str, audience: &str) -> OAuthClient {
    let created = server
        .admin_client(json!({
            "name": format!("resource server client {alg}"),
            "type": "confidential",
            "grant_types": ["client_credentials"],
            "scopes": ["read"],
            "access_token_format": "jwt",
            "access_token_signed_response_alg": alg,
            "audience": [audience],
        }))
        .await;
    assert_eq!(created["access_token_format"], "jwt");
    OAuthClient::of(&created)
}

/// Discovery and the RFC 8414 document are one document naming every OIDC
/// endpoint under the issuer; the JWKS holds a public key per algorithm and no
/// private member.
#[tokio::test]
async fn discovery_and_jwks() {
    let server = TestServer::start().await;
    let d = expect_json(
        server
            .get("/.well-known/openid-configuration")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(d["issuer"], server.base);
    assert_eq!(d["jwks_uri"], server.url("/oauth/jwks"));
    assert_eq!(d["userinfo_endpoint"], server.url("/oauth/userinfo"));
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    assert_eq!(d["request_parameter_supported"], false);
    assert_eq!(
        d["id_token_signing_alg_values_supported"],
        json!(["RS256", "ES256", "EdDSA"])
    );
    assert_eq!(d["subject_types_supported"], json!(["public"]));
    assert_eq!(
        server.metadata().await,
        d,
        "RFC 8414 carries the same fields"
    );

    let resp = server.get("/oauth/jwks").send().await.unwrap();
    assert_eq!(
        resp.headers()["cache-control"].to_str().unwrap(),
        "public, max-age=60"
    );
    let jwks = expect_json(resp, StatusCode::OK).await;
    let keys = jwks["keys"].as_array().unwrap();
    let algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    assert_eq!(algs.len(), 3, "{jwks}");
    for alg in ["RS256", "ES256", "EdDSA"] {
        assert!(algs.contains(&alg), "{alg} in {jwks}");
    }
    for k in keys {
        assert_eq!(k["use"], "sig");
        assert!(k["kid"].as_str().is_some_and(|s| !s.is_empty()));
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(k.get(private).is_none(), "private member {private} in {k}");
        }
    }
    server.stop().await;
}

/// Rotation makes a new active key per algorithm; the old ones stay in the
/// JWKS (retiring, with a retires_at) and keep verifying what they signed.
#[tokio::test]
async fn signing_keys_rotate_and_retired_ones_stay_published() {
    let server = TestServer::start().await;
    let before = expect_json(
        server
            .as_admin(Method::GET, "/api/v1/signing-keys")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(before["keys"].as_array().unwrap().len(), 3);
    let rotated = expect_json(
        server
            .as_admin(Method::POST, "/api/v1/signing-keys/rotate")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let keys = rotated["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 6, "{rotated}");
    let active: Vec<&Value> = keys.iter().filter(|k| k["active"] == true).collect();
    assert_eq!(active.len(), 3);
    for old in before["keys"].as_array().unwrap() {
        let now = keys.iter().find(|k| k["kid"] == old["kid"]).unwrap();
        assert_eq!(now["active"], false);
        assert!(now["retires_at"].is_string(), "{now}");
    }
    let jwks = expect_json(
        server.get("/oauth/jwks").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 6);
    // A member may not rotate.
    server.create_user("mia", "mia-password", &["member"]).await;
    let resp = server
        .post("/api/v1/signing-keys/rotate")
        .basic_auth("mia", Some("mia-password"))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    server.stop().await;
}

/// The code flow with `openid` returns an id_token whose claims name the
/// issuer, the client, the user and the nonce; the redirect carries `iss`;
/// refresh returns a new id_token for the same sign-in and no nonce.
#[tokio::test]
async fn code_flow_with_openid_returns_id_tokens() {
    let server = TestServer::start().await;
    server
        .create_user("olga", "olga-password", &["member"])
        .await;
    let client = oidc_client(&server, "ES256").await;
    let mut browser = Browser::new(&server);
    let url = format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri={REDIRECT}&scope=openid%20profile&state=s&nonce=n-1",
        client.id
    );
    let resp = browser
        .sign_in_and_allow(&url, "olga", "olga-password")
        .await;
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let returned = params_of(&location, '?');
    assert_eq!(returned["iss"], server.base, "RFC 9207 iss");
    let token = server
        .token_json(client.basic(), Grant::code(&returned["code"], REDIRECT))
        .await;
    let claims = payload(token["id_token"].as_str().unwrap());
    assert_eq!(claims["iss"], server.base);
    assert_eq!(claims["aud"], client.id);
    assert_eq!(claims["azp"], client.id);
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["preferred_username"], "olga");
    assert!(claims["sub"].as_str().unwrap().starts_with("usr_"));
    assert!(claims["sid"].is_string() && claims["at_hash"].is_string());
    assert!(claims.get("email").is_none(), "email scope not granted");

    let again = server
        .token_json(
            client.basic(),
            Grant::refresh(token["refresh_token"].as_str().unwrap()),
        )
        .await;
    let refreshed = payload(again["id_token"].as_str().unwrap());
    assert_eq!(refreshed["sub"], claims["sub"]);
    assert_eq!(refreshed["auth_time"], claims["auth_time"]);
    assert!(refreshed.get("nonce").is_none());

    // userinfo: the token's claims, sub always.
    let info = expect_json(
        server
            .get("/oauth/userinfo")
            .bearer_auth(again["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(info["preferred_username"], "olga");
    server.stop().await;
}

/// The claims of a JWT (the caller checks the signature elsewhere).
pub(crate) fn payload(jwt: &str) -> Value {
    use base64::Engine as _;
    let part = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// userinfo answers RFC 6750: no token → 401 with a bare Bearer challenge; a
/// bad one → 401 invalid_token; a token without openid → 403 insufficient_scope.
#[tokio::test]
async fn userinfo_errors_follow_rfc_6750() {
    let server = TestServer::start().await;
    let resp = server.get("/oauth/userinfo").send().await.unwrap();
    assert_eq!(challenges(&resp), [r#"Bearer realm="latchkey""#]);
    expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let resp = server
        .get("/oauth/userinfo")
        .bearer_auth("lk_at_nonsense")
        .send()
        .await
        .unwrap();
    assert_eq!(
        challenges(&resp),
        [r#"Bearer realm="latchkey", error="invalid_token""#]
    );
    expect_error(resp, StatusCode::UNAUTHORIZED, "invalid_token").await;
    let cc = server
        .admin_client(json!({"name": "cc", "type": "confidential", "grant_types": ["client_credentials"], "scopes": ["read"]}))
        .await;
    let cc = OAuthClient::of(&cc);
    let token = server
        .token_json(cc.basic(), Grant::client_credentials())
        .await;
    let access = token["access_token"].as_str().unwrap();
    let resp = server
        .post("/oauth/userinfo")
        .form(&[("access_token", access)])
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::FORBIDDEN, "insufficient_scope").await;
    server.stop().await;
}

/// Bad OIDC settings are refused with the field named; a chosen client id is
/// kept, a taken one is 409, swagger-ui is reserved.
#[tokio::test]
async fn client_settings_are_checked() {
    let server = TestServer::start().await;
    let resp = server
        .register_client(ADMIN, json!({"name": "x", "type": "confidential", "grant_types": ["client_credentials"], "id_token_signed_response_alg": "HS256"}))
        .await;
    let body = expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("id_token_signed_response_alg"));
    let mine = server
        .admin_client(json!({"name": "imply", "type": "confidential", "client_id": "my-app.1", "grant_types": ["client_credentials"]}))
        .await;
    assert_eq!(mine["client_id"], "my-app.1");
    let resp = server
        .register_client(ADMIN, json!({"name": "again", "type": "confidential", "client_id": "my-app.1", "grant_types": ["client_credentials"]}))
        .await;
    expect_error(resp, StatusCode::CONFLICT, "client_id_taken").await;
    for bad in ["swagger-ui", "ab", "has space"] {
        let resp = server
            .register_client(ADMIN, json!({"name": "x", "type": "confidential", "client_id": bad, "grant_types": ["client_credentials"]}))
            .await;
        let body = expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("client_id"),
            "{bad}"
        );
    }
    server.stop().await;
}

/// IriSync's comma-separated scopes are read like space-separated ones and
/// answered space-separated; revocation answers JSON `{}`; Image Relay's
/// `/oauth/authorization` is the authorization endpoint.
#[tokio::test]
async fn vendor_dialects() {
    let server = TestServer::start().await;
    let cc = server
        .admin_client(json!({"name": "cc", "type": "confidential", "grant_types": ["client_credentials"], "scopes": ["read", "write"]}))
        .await;
    let cc = OAuthClient::of(&cc);
    let token = server
        .token_json(cc.basic(), Grant::client_credentials().scope("read,write"))
        .await;
    assert_eq!(token["scope"], "read write");
    let resp = server
        .revoke(cc.basic(), token["access_token"].as_str().unwrap())
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({}));
    let resp = server
        .get("/oauth/authorization?client_id=nobody")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("not registered"));
    server.stop().await;
}

/// Authlib runs the code flow with PKCE and a nonce for one client per
/// algorithm; PyJWT (PyJWKClient) and joserfc validate every id_token against
/// the JWKS; userinfo and refresh agree; and, as resource servers, they
/// validate JWT access tokens of each algorithm (audience, issuer, typ). See
/// tests/interop/authlib_oidc.py.
#[tokio::test]
async fn authlib_pyjwt_and_joserfc_validate_id_tokens() {
    let python = interop_venv().await;
    let server = TestServer::start().await;
    let user = server.create_user("ida", "ida-password", &["member"]).await;
    let id = user["id"].as_str().unwrap();
    let resp = server
        .as_admin(Method::PATCH, &format!("/api/v1/users/{id}"))
        .json(&json!({"email": "ida@example.test", "name": "Ida Lovelace"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut specs = Vec::new();
    for alg in ["RS256", "ES256", "EdDSA"] {
        let c = oidc_client(&server, alg).await;
        specs.push(format!("{alg}:{}:{}", c.id, c.secret()));
    }
    for alg in ["RS256", "ES256", "EdDSA"] {
        let c = resource_client(&server, alg, "https://api.example.test").await;
        specs.push(format!(
            "jwt:{alg}:{}:{}:https://api.example.test",
            c.id,
            c.secret()
        ));
    }
    let mut args = vec![server.base.as_str(), "ida", "ida-password"];
    args.extend(specs.iter().map(String::as_str));
    run_script(&python, "authlib_oidc.py", &args).await;
    server.stop().await;
}

/// Signs `user` in through `client` with `openid` and returns the browser,
/// the code's token response and the authorize URL used.
async fn signed_in(
    server: &TestServer,
    client: &OAuthClient,
    user: &str,
    password: &str,
) -> (Browser, Value, String) {
    let mut browser = Browser::new(server);
    let url = format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri={REDIRECT}&scope=openid&nonce=n",
        client.id
    );
    let resp = browser.sign_in_and_allow(&url, user, password).await;
    let code = params_of(resp.headers()["location"].to_str().unwrap(), '?')["code"].clone();
    let token = server
        .token_json(client.basic(), Grant::code(&code, REDIRECT))
        .await;
    (browser, token, url)
}

/// prompt=none answers the client at once: login_required without a session,
/// consent_required without remembered consent, a code when both hold; an
/// id_token_hint naming someone else is login_required; prompt=login and
/// max_age=0 show the login page again despite the session; login_hint
/// prefills the username; unknown prompt values are invalid_request.
#[tokio::test]
async fn prompt_max_age_and_hints() {
    let server = TestServer::start().await;
    server.create_user("pia", "pia-password", &["member"]).await;
    let client = oidc_client(&server, "EdDSA").await;
    let none = |extra: &str| {
        format!(
            "/oauth/authorize?response_type=code&client_id={}&redirect_uri={REDIRECT}&scope=openid&state=s{extra}",
            client.id
        )
    };
    let mut stranger = Browser::new(&server);
    let resp = stranger.get(&none("&prompt=none")).await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    let back = params_of(resp.headers()["location"].to_str().unwrap(), '?');
    assert_eq!(back["error"], "login_required");
    assert_eq!(back["state"], "s");
    assert_eq!(back["iss"], server.base);

    let (mut browser, token, _) = signed_in(&server, &client, "pia", "pia-password").await;
    let resp = browser.get(&none("&prompt=none")).await;
    let back = params_of(resp.headers()["location"].to_str().unwrap(), '?');
    assert!(
        back.contains_key("code"),
        "consented and signed in: {back:?}"
    );
    let resp = browser
        .get(&none("&prompt=none&scope=openid%20profile").replace("&scope=openid&", "&"))
        .await;
    let back = params_of(resp.headers()["location"].to_str().unwrap(), '?');
    assert_eq!(back["error"], "consent_required", "{back:?}");

    // A hint for another user with prompt=none: login_required.
    server
        .create_user("quin", "quin-password", &["member"])
        .await;
    let (_, other, _) = signed_in(&server, &client, "quin", "quin-password").await;
    let hint = other["id_token"].as_str().unwrap();
    let resp = browser
        .get(&none(&format!("&prompt=none&id_token_hint={hint}")))
        .await;
    let back = params_of(resp.headers()["location"].to_str().unwrap(), '?');
    assert_eq!(back["error"], "login_required");
    let own = token["id_token"].as_str().unwrap();
    let resp = browser
        .get(&none(&format!("&prompt=none&id_token_hint={own}")))
        .await;
    assert!(params_of(resp.headers()["location"].to_str().unwrap(), '?').contains_key("code"));
    let resp = browser.get(&none("&id_token_hint=eyJ.not.valid")).await;
    let back = params_of(resp.headers()["location"].to_str().unwrap(), '?');
    assert_eq!(back["error"], "invalid_request");

    for extra in ["&prompt=login", "&max_age=0", "&prompt=select_account"] {
        let resp = browser.get(&none(extra)).await;
        assert_eq!(resp.status(), StatusCode::OK, "{extra}");
        assert!(
            resp.text().await.unwrap().contains("id=\"password\""),
            "{extra}: the login page"
        );
    }
    let resp = browser.get(&none("&prompt=login&login_hint=pia")).await;
    assert!(resp.text().await.unwrap().contains(r#"value="pia""#));
    let resp = browser.get(&none("&prompt=consent")).await;
    assert!(resp.text().await.unwrap().contains("Allow access?"));
    for bad in [
        "&prompt=sometimes",
        "&prompt=none%20login",
        "&max_age=-1",
        "&max_age=x",
    ] {
        let resp = browser.get(&none(bad)).await;
        let back = params_of(resp.headers()["location"].to_str().unwrap(), '?');
        assert_eq!(back["error"], "invalid_request", "{bad}");
    }
    server.stop().await;
}

/// response_mode=form_post answers a page that posts the code to the client,
/// with a button for browsers without JavaScript and a nonced script.
#[tokio::test]
async fn form_post_response_mode() {
    let server = TestServer::start().await;
    server.create_user("ria", "ria-password", &["member"]).await;
    let client = oidc_client(&server, "RS256").await;
    let (mut browser, _, _) = signed_in(&server, &client, "ria", "ria-password").await;
    let url = format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri={REDIRECT}&scope=openid&state=fp&response_mode=form_post",
        client.id
    );
    let resp = browser.get(&url).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let page = resp.text().await.unwrap();
    assert!(
        page.contains(&format!(r#"<form method="post" action="{REDIRECT}">"#)),
        "{page}"
    );
    assert!(page.contains(r#"name="code" value="lk_ac_"#), "{page}");
    assert!(page.contains(r#"name="state" value="fp""#));
    assert!(page.contains(r#"name="iss""#));
    assert!(page.contains("<button type=\"submit\""));
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(page.contains(&format!(r#"<script nonce="{nonce}">"#)));
    let resp = browser
        .get(
            &url.replace("form_post", "query")
                .replace("response_type=code", "response_type=token"),
        )
        .await;
    let back = params_of(resp.headers()["location"].to_str().unwrap(), '#');
    assert_eq!(back["error"], "invalid_request");
    server.stop().await;
}

/// RP-initiated logout ends the session and returns only to a registered
/// post-logout URI of the client the id_token_hint names; anything else is
/// the signed-out page (never an open redirect); a bad hint is a 400 page.
#[tokio::test]
async fn rp_initiated_logout() {
    let server = TestServer::start().await;
    server.create_user("sia", "sia-password", &["member"]).await;
    let created = server
        .admin_client(json!({
            "name": "rp",
            "type": "confidential",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code"],
            "scopes": ["openid"],
            "post_logout_redirect_uris": ["https://rp.example/bye"],
        }))
        .await;
    assert_eq!(
        created["post_logout_redirect_uris"],
        json!(["https://rp.example/bye"])
    );
    let client = OAuthClient::of(&created);
    let (mut browser, token, url) = signed_in(&server, &client, "sia", "sia-password").await;
    let hint = token["id_token"].as_str().unwrap();

    let resp = browser
        .get(&format!(
            "/oauth/logout?id_token_hint={hint}&post_logout_redirect_uri=https://evil.example/&state=x"
        ))
        .await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "unregistered: signed-out page"
    );
    assert!(resp.headers().get("location").is_none());
    let (mut browser, token, _) = signed_in(&server, &client, "sia", "sia-password").await;
    let hint = token["id_token"].as_str().unwrap();
    let resp = browser
        .get(&format!(
            "/oauth/logout?id_token_hint={hint}&post_logout_redirect_uri=https://rp.example/bye&state=x%20y"
        ))
        .await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert_eq!(
        resp.headers()["location"].to_str().unwrap(),
        "https://rp.example/bye?state=x+y"
    );
    // The session is gone: prompt=none now says login_required.
    let resp = browser.get(&format!("{url}&prompt=none")).await;
    let back = params_of(resp.headers()["location"].to_str().unwrap(), '?');
    assert_eq!(back["error"], "login_required");
    // Without a hint, client_id names the client; POST works too.
    let resp = browser
        .post_form(
            "/oauth/logout",
            &[
                ("client_id".into(), client.id.clone()),
                (
                    "post_logout_redirect_uri".into(),
                    "https://rp.example/bye".into(),
                ),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    let resp = browser
        .get("/oauth/logout?id_token_hint=eyJhbGciOiJub25lIn0.e30.")
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = browser.get("/oauth/logout?client_id=nobody-here").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = server
        .register_client(ADMIN, json!({"name": "x", "type": "confidential", "grant_types": ["client_credentials"], "post_logout_redirect_uris": ["http://evil.example/"]}))
        .await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    server.stop().await;
}

/// A client with `access_token_format: jwt` gets RFC 9068 access tokens
/// (`typ: at+jwt`, its audience, the client's claims) that latchkey checks on
/// the same path as opaque ones: /users/me, introspection, revocation by jti,
/// client disable; tampered, unsigned and HS256-forged tokens are refused.
#[tokio::test]
async fn jwt_access_tokens_validate_like_opaque_ones() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let server = TestServer::start().await;
    let created = server
        .admin_client(json!({
            "name": "rs",
            "type": "confidential",
            "grant_types": ["client_credentials"],
            "scopes": ["read", "keys:read"],
            "access_token_format": "jwt",
            "access_token_signed_response_alg": "ES256",
            "audience": ["https://api.one.test", "https://api.two.test"],
            "claims": {"tenant": "t-1", "roles": ["reader"]},
        }))
        .await;
    assert_eq!(created["access_token_format"], "jwt");
    assert_eq!(
        created["claims"],
        json!({"tenant": "t-1", "roles": ["reader"]})
    );
    assert_eq!(created["access_token_signed_response_alg"], "ES256");
    let client = OAuthClient::of(&created);
    let token = server
        .token_json(client.basic(), Grant::client_credentials())
        .await;
    let access = token["access_token"].as_str().unwrap().to_owned();
    let header: Value =
        serde_json::from_slice(&b64.decode(access.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    let claims = payload(&access);
    assert_eq!(claims["iss"], server.base);
    assert_eq!(claims["client_id"], client.id);
    assert_eq!(
        claims["aud"],
        json!(["https://api.one.test", "https://api.two.test"])
    );
    assert_eq!(claims["scope"], "keys:read read");
    assert_eq!(claims["tenant"], "t-1", "the client's custom claims");
    assert_eq!(claims["roles"], json!(["reader"]));
    assert!(claims["jti"].is_string() && claims["sub"].is_string());

    // RFC 8707: one audience by name; anything else is invalid_target.
    let one = expect_json(
        server
            .oauth_form(
                "/oauth/token",
                client.basic(),
                &[
                    ("grant_type", "client_credentials"),
                    ("resource", "https://api.two.test"),
                ],
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        payload(one["access_token"].as_str().unwrap())["aud"],
        "https://api.two.test"
    );
    let resp = server
        .oauth_form(
            "/oauth/token",
            client.basic(),
            &[
                ("grant_type", "client_credentials"),
                ("resource", "https://elsewhere.test"),
            ],
        )
        .await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_target").await;

    assert_eq!(server.me_bearer(&access).await.status(), StatusCode::OK);
    let seen = server.introspect_json(ClientAuth::ADMIN, &access).await;
    assert_eq!(seen["active"], true);
    assert_eq!(seen["client_id"], client.id);

    // Tampered, unsigned, HS256 with the public key as the secret: refused.
    let (head, rest) = access.split_once('.').unwrap();
    let (body, sig) = rest.split_once('.').unwrap();
    let flipped = format!(
        "{head}.{body}.{}{}",
        &sig[..sig.len() - 2],
        if sig.ends_with('A') { "BB" } else { "AA" }
    );
    let none = format!("{}.{body}.", b64.encode(r#"{"alg":"none","typ":"at+jwt"}"#));
    let hs = format!(
        "{}.{body}.{}",
        b64.encode(format!(
            r#"{{"alg":"HS256","typ":"at+jwt","kid":"{}"}}"#,
            header["kid"].as_str().unwrap()
        )),
        b64.encode([7u8; 32])
    );
    for forged in [&flipped, &none, &hs] {
        assert_eq!(
            server.me_bearer(forged).await.status(),
            StatusCode::UNAUTHORIZED,
            "{forged}"
        );
        let seen = server.introspect_json(ClientAuth::ADMIN, forged).await;
        assert_eq!(seen["active"], false);
    }

    // Revoked by jti: refused everywhere from now on.
    let resp = server.revoke(client.basic(), &access).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        server.me_bearer(&access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.introspect_json(ClientAuth::ADMIN, &access).await["active"],
        false
    );
    // A disabled client's JWTs are inactive too.
    let second = server
        .token_json(client.basic(), Grant::client_credentials())
        .await;
    let second = second["access_token"].as_str().unwrap().to_owned();
    assert_eq!(server.me_bearer(&second).await.status(), StatusCode::OK);
    let resp = server
        .as_admin(
            Method::POST,
            &format!("/api/v1/clients/{}/disable", client.id),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        server.me_bearer(&second).await.status(),
        StatusCode::UNAUTHORIZED
    );
    for (field, value) in [
        ("access_token_format", "paseto"),
        ("access_token_signed_response_alg", "HS256"),
    ] {
        let mut body = json!({"name": "x", "type": "confidential", "grant_types": ["client_credentials"], "access_token_format": "jwt"});
        body[field] = json!(value);
        let resp = server.register_client(ADMIN, body).await;
        let err = expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
        assert!(err["error_description"].as_str().unwrap().contains(field));
    }
    server.stop().await;
}

/// Implicit and hybrid responses (OIDC Core §3.2, §3.3): every response type
/// answers in the fragment with what it names; id_tokens carry the nonce and
/// the hashes binding them (`at_hash` with a token, `c_hash` with a code); a
/// missing nonce, a missing openid scope or a grant the client lacks is refused.
#[tokio::test]
async fn implicit_and_hybrid_response_types() {
    let server = TestServer::start().await;
    server.create_user("uma", "uma-password", &["member"]).await;
    let created = server
        .admin_client(json!({
            "name": "hybrid",
            "type": "confidential",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "implicit"],
            "scopes": ["openid", "profile"],
            "id_token_signed_response_alg": "EdDSA",
        }))
        .await;
    let client = OAuthClient::of(&created);
    let (mut browser, _, _) = signed_in(&server, &client, "uma", "uma-password").await;
    let url = |rt: &str, extra: &str| {
        format!(
            "/oauth/authorize?response_type={}&client_id={}&redirect_uri={REDIRECT}&scope=openid&state=h{extra}",
            rt.replace(' ', "%20"),
            client.id
        )
    };
    for (rt, code, token) in [
        ("id_token", false, false),
        ("id_token token", false, true),
        ("code id_token", true, false),
        ("code token", true, true),
        ("code id_token token", true, true),
    ] {
        let resp = browser.get(&url(rt, "&nonce=nn")).await;
        assert_eq!(resp.status(), StatusCode::FOUND, "{rt}");
        let location = resp.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.starts_with(&format!("{REDIRECT}#")),
            "{rt}: {location}"
        );
        let back = params_of(&location, '#');
        assert_eq!(back["state"], "h");
        assert_eq!(back["iss"], server.base);
        assert_eq!(back.contains_key("code"), code, "{rt}");
        assert_eq!(back.contains_key("access_token"), token, "{rt}");
        assert_eq!(
            back.contains_key("id_token"),
            rt.contains("id_token"),
            "{rt}"
        );
        if let Some(id_token) = back.get("id_token") {
            let claims = payload(id_token);
            assert_eq!(claims["nonce"], "nn");
            assert_eq!(claims.get("c_hash").is_some(), code, "{rt}: c_hash");
            assert_eq!(claims.get("at_hash").is_some(), token, "{rt}: at_hash");
        }
    }
    for (rt, extra, error) in [
        ("id_token", "", "invalid_request"),
        ("code id_token", "", "invalid_request"),
        ("id_token id_token", "&nonce=n", "unsupported_response_type"),
        (
            "code id_token",
            "&nonce=n&response_mode=query",
            "invalid_request",
        ),
    ] {
        let resp = browser.get(&url(rt, extra)).await;
        let location = resp.headers()["location"].to_str().unwrap().to_owned();
        let sep = if location.contains('#') { '#' } else { '?' };
        assert_eq!(params_of(&location, sep)["error"], error, "{rt}{extra}");
    }
    // No openid: no id_token.
    let resp = browser
        .get(&url("id_token", "&nonce=n").replace("scope=openid", "scope=profile"))
        .await;
    let back = params_of(resp.headers()["location"].to_str().unwrap(), '#');
    assert_eq!(back["error"], "invalid_scope");
    // A code-only client may not ask for tokens in the front channel.
    let code_only = oidc_client(&server, "RS256").await;
    let resp = browser
        .get(&url("code id_token", "&nonce=n").replace(&client.id, &code_only.id))
        .await;
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(params_of(&location, '#')["error"], "unauthorized_client");
    let discovery = expect_json(
        server
            .get("/.well-known/openid-configuration")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        discovery["response_types_supported"],
        json!([
            "code",
            "token",
            "id_token",
            "id_token token",
            "code id_token",
            "code token",
            "code id_token token"
        ])
    );
    server.stop().await;
}

/// npm's openid-client (v6) runs discovery, the code flow with PKCE, state and
/// nonce (checking the response's iss), userinfo, a refresh and the end-session
/// URL; jose verifies the id_tokens and a JWT access token against the JWKS.
/// See tests/browser/oidc_client.mjs for each check.
#[tokio::test]
async fn openid_client_and_jose() {
    let server = TestServer::start().await;
    server.create_user("vic", "vic-password", &["member"]).await;
    let app = server
        .admin_client(json!({
            "name": "node app",
            "type": "confidential",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "scopes": ["openid", "profile"],
            "post_logout_redirect_uris": ["http://127.0.0.1/bye"],
        }))
        .await;
    let app = OAuthClient::of(&app);
    let rs = resource_client(&server, "EdDSA", "https://api.node.test").await;
    run_openid_client(&server.base, ("vic", "vic-password"), &app, &rs).await;
    server.stop().await;
}

/// Runs tests/browser/oidc_client.mjs against the issuer `issuer` (the default
/// realm's base URL or a created realm's): `user` signs in to `app` (code flow,
/// openid profile, post-logout URI http://127.0.0.1/bye); `rs` has
/// client_credentials JWT access tokens for https://api.node.test.
pub(crate) async fn run_openid_client(
    issuer: &str,
    user: (&str, &str),
    app: &OAuthClient,
    rs: &OAuthClient,
) {
    let dir = crate::swagger::browser_node().await;
    let mut script = std::process::Command::new("node");
    script
        .arg("oidc_client.mjs")
        .args([
            issuer,
            &app.id,
            app.secret(),
            user.0,
            user.1,
            &rs.id,
            rs.secret(),
            "https://api.node.test",
        ])
        .current_dir(&dir);
    let out = crate::subprocess::run_bounded(script, std::time::Duration::from_secs(120))
        .await
        .expect("node runs");
    assert!(
        out.status.success(),
        "openid-client/jose failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
}
