//! Every error answer is the one JSON shape, including the framework's own
//! (parse failures, unknown paths, wrong methods, oversized bodies).

use reqwest::{Method, StatusCode};

use crate::common::{expect_error, TestServer};

/// A declared Content-Length over the limit is refused with 413 before reading.
#[tokio::test]
async fn an_oversized_body_gets_413() {
    let server = TestServer::start().await;
    let big = format!(
        r#"{{"username":"big","password":"{}"}}"#,
        "x".repeat(100 * 1024)
    );
    let resp = server
        .as_admin(Method::POST, "/api/v1/users")
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

/// A chunked body (no Content-Length) is cut off at the limit too. Sent over a
/// raw socket so that nothing adds a Content-Length.
#[tokio::test]
async fn an_oversized_chunked_body_gets_413() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start().await;
    let addr = server.base.trim_start_matches("http://");
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = base64_basic("admin", crate::common::ADMIN_PASSWORD);
    let head = format!(
        "POST /api/v1/users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {auth}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'x'; 1024];
    // 100 KiB in 1 KiB chunks; the server may stop reading (and answer) early.
    for _ in 0..100 {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(&chunk);
        frame.extend_from_slice(b"\r\n");
        if sock.write_all(&frame).await.is_err() {
            break;
        }
    }
    let _ = sock.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(20),
        sock.read_to_end(&mut answer),
    )
    .await
    .expect("answer within 20 s")
    .ok();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    crate::common::checked::assert_declared("POST", "/api/v1/users", 413);
    assert!(text.contains(r#""error":"payload_too_large""#), "{text}");
}

fn base64_basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

/// Malformed JSON is 400 with the JSON error, not poem's plain text.
#[tokio::test]
async fn malformed_json_gets_400_json() {
    let server = TestServer::start().await;
    for body in ["{", "{\"username\": }", "", "null", "\u{feff}{}"] {
        let resp = server
            .as_admin(Method::POST, "/api/v1/users")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
}

/// A body that is not JSON by content type is 415.
#[tokio::test]
async fn a_wrong_content_type_gets_415_json() {
    let server = TestServer::start().await;
    let resp = server
        .as_admin(Method::POST, "/api/v1/users")
        .header("content-type", "text/plain")
        .body(r#"{"username":"t","password":"long-enough"}"#)
        .send()
        .await
        .unwrap();
    expect_error(
        resp,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
}

/// Unknown paths and wrong methods answer in the JSON shape too.
#[tokio::test]
async fn unknown_paths_and_methods_get_json() {
    let server = TestServer::start().await;
    let resp = server.get("/no/such/path").send().await.unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = server
        .as_admin(Method::PUT, "/api/v1/users")
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

/// A query parameter of the wrong type is a 400 JSON error.
#[tokio::test]
async fn a_bad_query_parameter_gets_400_json() {
    let server = TestServer::start().await;
    let resp = server
        .as_admin(Method::GET, "/api/v1/users?limit=ten")
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
}
