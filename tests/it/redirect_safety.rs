//! Where the authorization endpoint may send a browser: never to a redirect URI
//! that is not registered exactly (open-redirect attempts get a page), only
//! after that check to the client with the error and the state, and for the
//! built-in swagger-ui client only to this server's own origin.

use latchkey::domain::pkce;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::code_flow::{authorize_url, web_app, CB, VERIFIER};
use crate::common::{location, params_of, Browser, OAuthClient, TestServer};

/// Nothing that fails client or redirect URI validation is ever redirected.
#[tokio::test]
async fn bad_clients_and_redirect_uris_get_a_page_not_a_redirect() {
    let server = TestServer::start().await;
    let app = web_app(
        &server,
        json!({"redirect_uris": ["https://printer.example/cb", "http://127.0.0.1/loop"]}),
    )
    .await;
    let mut b = Browser::new(&server);
    let evil = [
        "https://evil.example/cb",
        "https://printer.example/cb/",
        "https://printer.example/c",
        "https://printer.example/cb?x=1",
        "https://printer.example/cb#frag",
        "https://printer.example.evil.example/cb",
        "https://printer.example@evil.example/cb",
        "https://evil.example@printer.example/cb",
        "http://printer.example/cb",
        "https://printer.example:8443/cb",
        "https://PRINTER.example/cb",
        "https://printer.example/%63b",
        "https://printer.example/cb%2f..",
        "http://127.0.0.1:8080/loop/x",
        "http://localhost:8080/loop",
        "javascript:alert(1)",
    ];
    for uri in evil {
        let url = authorize_url(&app, uri, "");
        let resp = b.get(&url).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{uri}");
        assert!(resp.headers().get("location").is_none(), "{uri}");
        assert!(
            resp.text().await.unwrap().contains("not registered"),
            "{uri}"
        );
    }
    for q in [
        "response_type=code&redirect_uri=https://printer.example/cb".to_string(),
        "response_type=code&client_id=cli_000000000000000000000000&redirect_uri=https://printer.example/cb".into(),
        format!("response_type=code&client_id={}&client_id={}", app.id, app.id),
    ] {
        let resp = b.get(&format!("/oauth/authorize?{q}")).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{q}");
        assert!(resp.headers().get("location").is_none());
    }
    // Two URIs registered: redirect_uri may not be left out.
    let resp = b
        .get(&format!(
            "/oauth/authorize?response_type=code&client_id={}",
            app.id
        ))
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // Loopback registered without a port: any port.
    let resp = b
        .get(&authorize_url(&app, "http://127.0.0.1:49152/loop", ""))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

/// After the client and redirect URI check out, errors go to the client.
#[tokio::test]
async fn request_errors_are_redirected_with_the_state() {
    let server = TestServer::start().await;
    let app = web_app(&server, json!({"grant_types": ["authorization_code"]})).await;
    let public = web_app(&server, json!({"type": "public", "redirect_uris": ["http://127.0.0.1/cb"], "grant_types": ["authorization_code"]})).await;
    let plain_ok = web_app(&server, json!({"allow_plain_pkce": true})).await;
    let mut b = Browser::new(&server);
    let base = |app: &OAuthClient, uri: &str| {
        format!(
            "/oauth/authorize?client_id={}&redirect_uri={}&state=s1",
            app.id,
            form_urlencoded::byte_serialize(uri.as_bytes()).collect::<String>()
        )
    };
    let challenge = pkce::s256(VERIFIER);
    let cases: Vec<(String, &str)> = vec![
        (base(&app, CB), "invalid_request"),
        (
            format!("{}&response_type=device", base(&app, CB)),
            "unsupported_response_type",
        ),
        // A supported type (OIDC) that needs the implicit grant this app lacks.
        (
            format!("{}&response_type=id_token&nonce=n", base(&app, CB)),
            "unauthorized_client",
        ),
        (
            format!("{}&response_type=token", base(&app, CB)),
            "unauthorized_client",
        ),
        (
            format!("{}&response_type=code&scope=manageJobs", base(&app, CB)),
            "invalid_scope",
        ),
        (
            format!("{}&response_type=code&scope=bad\"scope", base(&app, CB)),
            "invalid_scope",
        ),
        (
            format!(
                "{}&response_type=code&code_challenge={challenge}&code_challenge_method=S512",
                base(&app, CB)
            ),
            "invalid_request",
        ),
        (
            format!(
                "{}&response_type=code&code_challenge={challenge}&code_challenge_method=plain",
                base(&app, CB)
            ),
            "invalid_request",
        ),
        (
            format!("{}&response_type=code&code_challenge=short", base(&app, CB)),
            "invalid_request",
        ),
        (
            format!(
                "{}&response_type=code",
                base(&public, "http://127.0.0.1:5000/cb")
            ),
            "invalid_request",
        ),
    ];
    for (url, code) in cases {
        let resp = b.get(&url).await;
        assert_eq!(resp.status(), StatusCode::FOUND, "{url}");
        let loc = location(&resp);
        let p = params_of(&loc, if loc.contains('#') { '#' } else { '?' });
        assert_eq!(
            p.get("error").map(String::as_str),
            Some(code),
            "{url} → {loc}"
        );
        assert_eq!(p["state"], "s1");
        assert!(!p["error_description"].is_empty());
    }
    // plain where allowed: accepted (the login page shows).
    let url = format!(
        "{}&response_type=code&code_challenge={VERIFIER}&code_challenge_method=plain",
        base(&plain_ok, CB)
    );
    assert_eq!(b.get(&url).await.status(), StatusCode::OK);
}

/// `/oauth/authorize` for the swagger-ui client with an S256 challenge and `redirect`.
fn swagger_ui_url(redirect: &str) -> String {
    format!(
        "/oauth/authorize?response_type=code&client_id=swagger-ui&redirect_uri={}&code_challenge={}&code_challenge_method=S256",
        form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>(),
        pkce::s256(VERIFIER),
    )
}

/// The built-in swagger-ui client's redirect URI is a path on this server's own
/// origin: the loopback host it was reached at, or `--public-url`; a Host
/// header naming another host (DNS rebinding) does not make it a target.
#[tokio::test]
async fn swagger_ui_redirects_only_to_this_servers_origin() {
    let server = TestServer::start().await;
    let mut b = Browser::new(&server);
    let own = format!("{}/docs/oauth-receiver.html", server.base);
    assert_eq!(b.get(&swagger_ui_url(&own)).await.status(), StatusCode::OK);
    let resp = server
        .get(&swagger_ui_url(
            "http://evil.example:8080/docs/oauth-receiver.html",
        ))
        .header("host", "evil.example:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get("location").is_none());
    let resp = b
        .get(&swagger_ui_url(
            "http://127.0.0.1:1/docs/oauth-receiver.html",
        ))
        .await;
    assert_eq!(
        resp.status(),
        StatusCode::BAD_REQUEST,
        "another port is another origin"
    );

    let public = TestServer::builder()
        .config(|c| c.public_url = Some("https://auth.example.test".into()))
        .start()
        .await;
    let mut b = Browser::new(&public);
    let resp = b
        .get(&swagger_ui_url(
            "https://auth.example.test/docs/oauth-receiver.html",
        ))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().unwrap().contains("; Secure")));
}

/// Reached under a name that is not loopback and without --public-url, the
/// server does not know its own origin: the swagger-ui client has no redirect.
#[tokio::test]
async fn swagger_ui_needs_a_known_origin() {
    let server = TestServer::start().await;
    let challenge = pkce::s256(VERIFIER);
    let resp = server
        .get(&format!(
            "/oauth/authorize?response_type=code&client_id=swagger-ui&code_challenge={challenge}&code_challenge_method=S256"
        ))
        .header("host", "latchkey.internal:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get("location").is_none());
    assert!(resp.text().await.unwrap().contains("--public-url"));
}
