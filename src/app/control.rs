//! Test control on the request path: a request to a realm's protocol
//! endpoints, pages or management API is matched against the realm's queued
//! faults (answered by the fault instead, changing nothing), then recorded in
//! its journal. Requests to `/api/v1/test`, the docs and the health checks are
//! neither.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use poem::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use poem::http::{HeaderName, HeaderValue, StatusCode};
use poem::web::headers::{ContentLength, HeaderMapExt};
use poem::{Body, Endpoint, Request, Response};
use tokio::io::{AsyncRead, ReadBuf};

use crate::domain::credential::{parse_authorization, Credential};
use crate::service::control::{redact, Entry, Respond, Seen};
use crate::state::AppState;

/// The journal's and the faults' name for the endpoint at `path` (a realm's
/// own path); `None` for what test control leaves alone.
pub(super) fn endpoint_of(path: &str) -> Option<&'static str> {
    Some(match path {
        "/oauth/authorize"
        | "/oauth/authorization"
        | "/oauth/authorize/login"
        | "/oauth/authorize/consent" => "authorize",
        "/oauth/token" => "token",
        "/oauth/introspect" => "introspect",
        "/oauth/revoke" => "revoke",
        "/oauth/userinfo" => "userinfo",
        "/oauth/jwks" => "jwks",
        "/oauth/logout" => "logout",
        p if p.starts_with("/.well-known/") => "discovery",
        p if p == "/api/v1/test" || p.starts_with("/api/v1/test/") => return None,
        p if p.starts_with("/api/v1/") => "api",
        _ => return None,
    })
}

/// Runs `ep` on `req` under the realm's faults and journal.
pub(super) async fn observed<E: Endpoint>(
    state: &AppState,
    endpoint: &'static str,
    req: Request,
    ep: &E,
    limit: usize,
) -> poem::Result<Response> {
    if !state.journal.is_on() && !state.faults.any() {
        return super::limit_body(ep, req, limit).await;
    }
    let started = Instant::now();
    let (req, params) = read_params(req, limit).await;
    let find = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let basic_user = match req
        .headers()
        .get(AUTHORIZATION)
        .map(|v| parse_authorization(v.as_bytes()))
    {
        Some(Ok(Credential::Basic { username, .. })) => Some(username),
        _ => None,
    };
    // The client a request claims: Basic at the OAuth endpoints, else its
    // `client_id` parameter. The user: `username`, or Basic at the API.
    let client_id = find("client_id")
        .map(str::to_owned)
        .or_else(|| (endpoint != "api").then(|| basic_user.clone()).flatten());
    let username = find("username")
        .map(str::to_owned)
        .or_else(|| (endpoint == "api").then(|| basic_user.clone()).flatten());
    let seen = Seen {
        endpoint,
        client_id: client_id.as_deref(),
        grant_type: find("grant_type"),
        username: username.as_deref(),
    };
    let fired = state.faults.fire(&seen);
    let mut entry = Entry {
        at: state.clock.now(),
        seq: 0,
        method: req.method().to_string(),
        path: req.uri().path().to_owned(),
        endpoint: endpoint.to_owned(),
        client_id: client_id.clone(),
        grant_type: seen.grant_type.map(str::to_owned),
        username: username.clone(),
        scope: find("scope").map(str::to_owned),
        status: 0,
        error: None,
        duration_ms: 0.0,
        fault: fired.as_ref().map(|(id, _)| id.clone()),
        params: params
            .iter()
            .map(|(k, v)| (k.clone(), redact(k, v)))
            .collect(),
    };
    let result = match fired.map(|(_, r)| r) {
        Some(Respond::Delay { ms }) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            super::limit_body(ep, req, limit).await
        }
        Some(respond) => Ok(answer(respond)),
        None => super::limit_body(ep, req, limit).await,
    };
    // An error becomes here the answer the catch-all would make of it, so
    // the journal sees its status and code.
    let resp = match result {
        Ok(resp) => resp,
        Err(e) => crate::api::error::json_errors(e).await,
    };
    let (resp, error) = error_code(resp).await;
    entry.status = resp.status().as_u16();
    entry.error = error;
    entry.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    state.journal.record(entry);
    Ok(resp)
}

/// The request's parameters: the query, and a form or JSON object body of a
/// declared length within the limit (read, then put back for the endpoint).
async fn read_params(mut req: Request, limit: usize) -> (Request, Vec<(String, String)>) {
    let mut params: Vec<(String, String)> =
        form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .take(64)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let declared = req.headers().typed_get::<ContentLength>().map(|c| c.0);
    let readable = !req.headers().contains_key(TRANSFER_ENCODING)
        && declared.is_some_and(|n| n > 0 && n <= limit as u64);
    if !readable {
        return (req, params);
    }
    let ctype = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let Ok(bytes) = req.take_body().into_bytes().await else {
        return (req, params);
    };
    if ctype.starts_with("application/x-www-form-urlencoded") {
        params.extend(
            form_urlencoded::parse(&bytes)
                .take(64)
                .map(|(k, v)| (k.into_owned(), v.into_owned())),
        );
    } else if ctype.starts_with("application/json") {
        if let Ok(serde_json::Value::Object(map)) =
            serde_json::from_slice::<serde_json::Value>(&bytes)
        {
            for (k, v) in map.into_iter().take(64) {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                params.push((k, text));
            }
        }
    }
    req.set_body(Body::from(bytes));
    (req, params)
}

/// The `error` of a JSON error answer (read, then put back).
async fn error_code(resp: Response) -> (Response, Option<String>) {
    if resp.status().as_u16() < 400 {
        return (resp, None);
    }
    let json = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if !json {
        return (resp, None);
    }
    let (parts, body) = resp.into_parts();
    let bytes = body.into_bytes().await.unwrap_or_default();
    let code = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned));
    (Response::from_parts(parts, Body::from(bytes)), code)
}

/// What a fault answers.
fn answer(respond: Respond) -> Response {
    let json = |status: u16, body: String| {
        Response::builder()
            .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
            .header(CONTENT_TYPE, "application/json")
            .header("Cache-Control", "no-store")
            .body(body)
    };
    match respond {
        Respond::OAuthError {
            code,
            status,
            description,
        } => {
            let description =
                description.unwrap_or_else(|| "a fault queued by test control".into());
            let body = serde_json::json!({ "error": code, "error_description": description });
            json(status, body.to_string())
        }
        Respond::Status {
            status,
            body,
            headers,
        } => {
            let mut resp = json(status, body);
            for (k, v) in headers {
                if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
                    resp.headers_mut().insert(k, v);
                }
            }
            resp
        }
        Respond::Malformed => json(200, r#"{"access_token": "lk_at_"#.into()),
        Respond::Close => {
            // A body that fails at once: the server drops the connection
            // before an answer is complete.
            // It promises a body it never sends: the connection must close
            // with the answer incomplete.
            Response::builder()
                .status(StatusCode::OK)
                .header(CONTENT_LENGTH, "64")
                .body(Body::from_async_read(Broken))
        }
        Respond::Delay { .. } => json(500, "{}".into()),
    }
}

/// A reader that fails on its first read.
struct Broken;

impl AsyncRead for Broken {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Poll::Ready(Err(std::io::Error::other("test control: close_connection")))
    }
}
