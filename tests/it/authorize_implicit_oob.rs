//! Installed apps and the implicit grant: out-of-band pages that show the code
//! (or token) in their title, loopback redirects on any port, and implicit
//! tokens in the fragment.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::code_flow::{authorize_url, me_status, new_user, redeem, redeem_json, web_app};
use crate::common::{location, params_of, title, Browser, TestServer};

/// A public client gets the code on the `oob` page (and the `oob:auto` page)
/// and redeems it with PKCE alone; a loopback redirect registered without a
/// port works on any port; `response_type=token` with `oob` shows the token
/// (and no refresh token) in the page title.
#[tokio::test]
async fn installed_apps_get_oob_pages_and_loopback_redirects() {
    let server = TestServer::start().await;
    new_user(&server).await;
    let app = web_app(&server, json!({
        "type": "public",
        "redirect_uris": ["urn:ietf:wg:oauth:2.0:oob", "urn:ietf:wg:oauth:2.0:oob:auto", "http://localhost/cb"],
        "grant_types": ["authorization_code", "refresh_token", "implicit"],
    }))
    .await;
    let mut b = Browser::new(&server);

    let resp = b
        .sign_in_and_allow(
            &authorize_url(&app, "urn:ietf:wg:oauth:2.0:oob", ""),
            "pat",
            "pat-password",
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let page = resp.text().await.unwrap();
    let t = title(&page);
    assert!(t.starts_with("Success code=lk_ac_"), "{t}");
    assert!(t.ends_with("&state=st-123 & more"), "{t}");
    assert!(page.contains("Copy the code"));
    let code = t["Success code=".len()..]
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let resp = redeem(&server, &app, &code, "urn:ietf:wg:oauth:2.0:oob").await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "public client, PKCE, no secret"
    );
    let tok: serde_json::Value = resp.json().await.unwrap();
    assert!(tok["refresh_token"].is_string());

    let resp = b
        .get(&authorize_url(&app, "urn:ietf:wg:oauth:2.0:oob:auto", ""))
        .await;
    let page = resp.text().await.unwrap();
    assert!(title(&page).starts_with("Success code=lk_ac_"));
    assert!(page.contains("close this window"));

    let resp = b
        .get(&authorize_url(&app, "http://localhost:61234/cb", ""))
        .await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    let loc = location(&resp);
    assert!(loc.starts_with("http://localhost:61234/cb?code="), "{loc}");
    let code = params_of(&loc, '?')["code"].clone();
    redeem_json(&server, &app, &code, "http://localhost:61234/cb").await;

    // Imagen's example: response_type=token with the oob redirect.
    let q = format!(
        "/oauth/authorize?response_type=token&client_id={}&redirect_uri=urn:ietf:wg:oauth:2.0:oob&scope=readUsersData&state=x",
        app.id
    );
    let resp = b.get(&q).await;
    let page = resp.text().await.unwrap();
    let t = title(&page);
    assert!(t.starts_with("Success access_token=lk_at_"), "{t}");
    assert!(
        t.contains("&token_type=Bearer&expires_in=3600&scope=readUsersData&state=x"),
        "{t}"
    );
    assert!(!t.contains("refresh_token"));
}

/// The implicit grant redirects with the access token, its type, scope and the
/// state in the fragment, never a refresh token; the token works.
#[tokio::test]
async fn implicit_tokens_come_in_the_fragment() {
    let server = TestServer::start().await;
    new_user(&server).await;
    let app = web_app(&server, json!({})).await;
    let mut b = Browser::new(&server);
    let url = format!(
        "/oauth/authorize?response_type=token&client_id={}&redirect_uri=https://printer.example/cb&state=abc&scope=read",
        app.id
    );
    let resp = b.sign_in_and_allow(&url, "pat", "pat-password").await;
    let loc = location(&resp);
    assert!(
        loc.starts_with("https://printer.example/cb#access_token="),
        "{loc}"
    );
    let p = params_of(&loc, '#');
    assert_eq!(p["token_type"], "Bearer");
    assert_eq!(p["scope"], "read");
    assert_eq!(p["state"], "abc");
    assert!(!p.contains_key("refresh_token"));
    assert_eq!(me_status(&server, &p["access_token"]).await, StatusCode::OK);
}
