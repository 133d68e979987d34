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
    let basic_user = match req.headers().get(AUTHORIZATION) {
        Some(v) if v.as_bytes().starts_with(b"Basic ") => match parse_authorization(v.as_bytes()) {
            Ok(Credential::Basic { username, .. }) => Some(username),
            _ => None,
        },
        _ => None,
    };
    // The client a request claims: Basic at the OAuth endpoints, else its
    // `client_id` parameter. The user: `username`, or Basic at the API.
    let client_id = params
        .find("client_id")
        .or_else(|| (endpoint != "api").then(|| basic_user.clone()).flatten());
    let username = params
        .find("username")
        .or_else(|| (endpoint == "api").then(|| basic_user.clone()).flatten());
    let grant_type = params.find("grant_type");
    let fired = state.faults.fire(&Seen {
        endpoint,
        client_id: client_id.as_deref(),
        grant_type: grant_type.as_deref(),
        username: username.as_deref(),
    });
    let mut entry = Entry {
        at: state.clock.now(),
        seq: 0,
        method: method_name(req.method()),
        path: req.uri().path().to_owned(),
        endpoint,
        client_id,
        grant_type,
        username,
        scope: params.find("scope"),
        status: 0,
        error: None,
        duration_ms: 0.0,
        fault: fired.as_ref().map(|(id, _)| id.clone()),
        params: params.redacted(),
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

/// The query and body parameters of one request, read without copying
/// them (values are borrowed from the query and the form bytes).
struct Params<'a> {
    query: &'a str,
    form: &'a [u8],
    json: &'a [(String, String)],
}

/// What the journal and the faults need of a request's parameters.
struct Extracted {
    client_id: Option<String>,
    grant_type: Option<String>,
    username: Option<String>,
    scope: Option<String>,
    redacted: String,
}

impl Extracted {
    fn find(&self, name: &str) -> Option<String> {
        match name {
            "client_id" => self.client_id.clone(),
            "grant_type" => self.grant_type.clone(),
            "username" => self.username.clone(),
            "scope" => self.scope.clone(),
            _ => None,
        }
    }

    fn redacted(&self) -> String {
        self.redacted.clone()
    }
}

impl Params<'_> {
    fn extract(&self) -> Extracted {
        Extracted {
            client_id: self.find("client_id"),
            grant_type: self.find("grant_type"),
            username: self.find("username"),
            scope: self.find("scope"),
            redacted: self.redacted(),
        }
    }

    fn for_each(&self, mut f: impl FnMut(&str, &str)) {
        let query = form_urlencoded::parse(self.query.as_bytes()).take(64);
        let form = form_urlencoded::parse(self.form).take(64);
        for (k, v) in query.chain(form) {
            f(&k, &v);
        }
        self.json.iter().for_each(|(k, v)| f(k, v));
    }

    fn find(&self, name: &str) -> Option<String> {
        let mut found = None;
        self.for_each(|k, v| {
            if found.is_none() && k == name && !v.is_empty() {
                found = Some(v.to_owned());
            }
        });
        found
    }

    /// Every parameter, redacted, form-encoded into one string.
    fn redacted(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        self.for_each(|k, v| {
            out.append_pair(k, &redact(k, v));
        });
        out.finish()
    }
}

fn method_name(m: &poem::http::Method) -> &'static str {
    use poem::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// The parameters of a request: its query, and a form or JSON object body
/// of a declared length within the limit (read, then put back for the
/// endpoint, which gets the same bytes).
async fn read_params(mut req: Request, limit: usize) -> (Request, Extracted) {
    let query = req.uri().query().unwrap_or("").to_owned();
    let none = |req, query: &str| {
        let p = Params {
            query,
            form: &[],
            json: &[],
        };
        (req, p.extract())
    };
    let declared = req.headers().typed_get::<ContentLength>().map(|c| c.0);
    let readable = !req.headers().contains_key(TRANSFER_ENCODING)
        && declared.is_some_and(|n| n > 0 && n <= limit as u64);
    let ctype = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let form = ctype.starts_with("application/x-www-form-urlencoded");
    let json = ctype.starts_with("application/json");
    if !readable || !(form || json) {
        return none(req, &query);
    }
    let Ok(bytes) = req.take_body().into_bytes().await else {
        return none(req, &query);
    };
    let members: Vec<(String, String)> = if json {
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Object(map)) => map
                .into_iter()
                .take(64)
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => (k, s),
                    other => (k, other.to_string()),
                })
                .collect(),
            _ => Vec::new(),
        }
    } else {
        Vec::new()
    };
    let extracted = Params {
        query: &query,
        form: if form { &bytes } else { &[] },
        json: &members,
    }
    .extract();
    req.set_body(Body::from(bytes));
    (req, extracted)
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
