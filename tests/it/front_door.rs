//! `GET /`: a page for a browser, JSON for everything else; unknown paths
//! keep their JSON 404.

use reqwest::StatusCode;

use crate::common::{expect_error, expect_json, TestServer};

#[tokio::test]
async fn the_front_door_answers_html_to_browsers_and_json_otherwise() {
    let server = TestServer::start().await;
    let doc = expect_json(server.get("/").send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(doc["name"], "latchkey");
    assert_eq!(doc["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["issuer"], server.base);
    assert_eq!(doc["docs"], format!("{}/docs", server.base));
    let discovery = doc["discovery"].as_str().unwrap();
    assert_eq!(
        server
            .get(discovery.strip_prefix(&server.base).unwrap())
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK,
        "the discovery link works"
    );

    let resp = server
        .get("/")
        .header(
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(resp.headers().contains_key("content-security-policy"));
    let page = resp.text().await.unwrap();
    for link in [
        "href=\"/docs\"",
        "/.well-known/openid-configuration",
        "/oauth/jwks",
    ] {
        assert!(page.contains(link), "{link} in {page}");
    }
    assert!(page.contains(&format!("{}/oauth/token", server.base)));

    let resp = server.get("/no/such/page").send().await.unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    server.stop().await;
}
