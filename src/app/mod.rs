//! The route table: the API at `/`, Swagger UI at `/docs`, the spec as JSON and
//! YAML, with the readiness gate, a body limit and the JSON error catch-all
//! around everything.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use poem::endpoint::make_sync;
use poem::http::header::{CONTENT_DISPOSITION, TRANSFER_ENCODING};
use poem::http::HeaderValue;
use poem::http::StatusCode;
use poem::web::headers::{ContentLength, HeaderMapExt};
use poem::{
    get, post, Body, Endpoint, EndpointExt, IntoEndpoint, IntoResponse, Request, Response, Route,
};
use tokio::io::{AsyncRead, ReadBuf};

use crate::api::error::{json_errors, ApiError, Readiness};
use crate::api::{self, pages};
use crate::error::Error;
use crate::service::realms::Realms;
use crate::state::AppState;

mod control;
mod realm;

/// Builds the whole HTTP application for one server: the default realm at the
/// root, every created realm under `/realms/{name}` (and `/auth/realms/{name}`).
pub fn build(state: AppState, realms: Arc<Realms>) -> impl Endpoint<Output = Response> {
    let api = api::api_service();
    // Swagger UI with sign-in preset (client `swagger-ui`, PKCE) and the page
    // its sign-in window returns to. The page and the specs are made on first
    // request and served from one static copy (see `api::docs`).
    let docs = Route::new()
        .at(
            "/",
            make_sync(|_| {
                static_body("text/html; charset=utf-8", api::docs::swagger_page_static())
            }),
        )
        .at(
            "/oauth-receiver.html",
            make_sync(|_| static_body("text/html; charset=utf-8", api::docs::OAUTH_RECEIVER)),
        );
    let spec_json = make_sync(|_| static_body("application/json", api::docs::spec_json_static()));
    let spec_yaml = make_sync(|_| {
        let mut r = static_body("application/x-yaml", api::docs::spec_yaml_static());
        r.headers_mut().insert(
            CONTENT_DISPOSITION,
            HeaderValue::from_static("inline; filename=\"spec.yaml\""),
        );
        r
    });
    let limit = state.config.body_limit;
    let others = Route::new()
        .at("/", get(pages::front_door::front_door))
        .nest("/docs", docs)
        .at("/openapi.json", spec_json)
        .at("/openapi.yaml", spec_yaml)
        .at("/oauth/authorize", get(pages::authorize::authorize))
        // Image Relay's guide names the authorization endpoint so, too.
        .at("/oauth/authorization", get(pages::authorize::authorize))
        .at("/oauth/authorize/login", post(pages::login::login))
        .at("/oauth/authorize/consent", post(pages::consent::consent))
        .at(
            "/oauth/logout",
            get(pages::logout::logout).post(pages::logout::logout_post),
        );
    Stack {
        others,
        api: api.into_endpoint(),
        state,
        realms,
        limit,
    }
    .catch_all_error(json_errors)
}

/// The paths [`build`] routes to `others` rather than to the API; everything
/// else is the API's (it answers 404 for what it does not know).
fn is_other(path: &str) -> bool {
    matches!(
        path,
        "/" | "/docs"
            | "/openapi.json"
            | "/openapi.yaml"
            | "/oauth/authorize"
            | "/oauth/authorization"
            | "/oauth/authorize/login"
            | "/oauth/authorize/consent"
            | "/oauth/logout"
    ) || path.starts_with("/docs/")
}

/// The middleware of every request, in one layer: the state as request data,
/// the readiness gate, the body limit, then the API or the other routes.
///
/// Written out rather than as poem's `.data().around().around()` and a
/// `Route` that nests the API at `/`: each of those layers wraps the request's
/// future in another (moved and polled through), and the nest at `/` rebuilds
/// the request's URI (a parse and an allocation) to strip an empty prefix.
/// The behaviour is theirs: the same data, the same checks in the same order,
/// the same routes.
struct Stack<O, A> {
    others: O,
    api: A,
    state: AppState,
    realms: Arc<Realms>,
    limit: usize,
}

impl<O: Endpoint, A: Endpoint> Endpoint for Stack<O, A> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let path = req.uri().path();
        if let Some(rest) = path
            .strip_prefix("/realms/")
            .or_else(|| path.strip_prefix("/auth/realms/"))
        {
            let (name, rest) = rest
                .split_once('/')
                .map_or((rest, ""), |(n, _)| (n, &rest[n.len()..]));
            let (name, canonical) = (name.to_owned(), realm::canonical_path(rest).to_owned());
            return self.realm_call(req, &name, &canonical).await;
        }
        let manages_realms = path.starts_with("/api/v1/realms");
        req.extensions_mut().insert(self.state.clone());
        if manages_realms {
            req.extensions_mut().insert(self.realms.clone());
        }
        if let Some(refused) = ready_gate(&self.state, req.uri().path()) {
            return Ok(refused);
        }
        self.route(&self.state, req).await
    }
}

impl<O: Endpoint, A: Endpoint> Stack<O, A> {
    /// A request to the created realm `name`, for its path `canonical` (a
    /// Keycloak-shaped alias already mapped to latchkey's own path): the
    /// realm's state as request data and the URI rewritten to `canonical`,
    /// then the same routes as the default realm's.
    async fn realm_call(
        &self,
        mut req: Request,
        name: &str,
        canonical: &str,
    ) -> poem::Result<Response> {
        if let Some(refused) = ready_gate(&self.state, canonical) {
            return Ok(refused);
        }
        let Some(state) = self.realms.get(name) else {
            return Ok(realm::unknown(name, is_page(canonical)));
        };
        if canonical == "/docs" || canonical == "/docs/" {
            return Ok(Response::builder()
                .content_type("text/html; charset=utf-8")
                .body(api::docs::realm_swagger_page(&state.realm.path)));
        }
        let uri = match req.uri().query() {
            Some(q) => format!("{canonical}?{q}"),
            None => canonical.to_owned(),
        };
        *req.uri_mut() = uri
            .parse()
            .map_err(|_| poem::Error::from_status(StatusCode::BAD_REQUEST))?;
        req.extensions_mut().insert(state.clone());
        if canonical == "/api/v1/test/reset" {
            req.extensions_mut().insert(self.realms.clone());
        }
        self.route(&state, req).await
    }

    /// To the pages or the API, under the realm's test control where it applies.
    async fn route(&self, state: &AppState, req: Request) -> poem::Result<Response> {
        let path = req.uri().path();
        let endpoint = control::endpoint_of(path);
        match (is_other(path), endpoint) {
            (true, Some(e)) => control::observed(state, e, req, &self.others, self.limit).await,
            (true, None) => limit_body(&self.others, req, self.limit).await,
            (false, Some(e)) => control::observed(state, e, req, &self.api, self.limit).await,
            (false, None) => limit_body(&self.api, req, self.limit).await,
        }
    }
}

/// A 200 with a body that is not copied (the headers poem-openapi's own spec
/// and Swagger UI endpoints send).
fn static_body(content_type: &'static str, body: &'static str) -> Response {
    Response::builder().content_type(content_type).body(body)
}

/// The readiness gate: until start-up has finished (the bootstrap admin and the
/// scope catalog exist), every operation of the API and every page answers 503
/// — JSON `not_ready` for the API and the protocol endpoints, an HTML page for
/// the browser's pages. `/health`, `/ready`, the spec and Swagger UI stay up.
/// `None`: let the request through.
fn ready_gate(state: &AppState, path: &str) -> Option<Response> {
    if state.is_ready() || !is_gated(path) {
        return None;
    }
    Some(if is_page(path) {
        pages::layout::error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "latchkey is starting; try again in a moment.",
        )
    } else {
        ApiError::<Readiness>::from(Error::Unavailable(
            "start-up has not finished; retry in a moment".into(),
        ))
        .into_response()
    })
}

/// The paths behind the readiness gate: the management API and everything
/// OAuth (protocol endpoints, pages, metadata).
fn is_gated(path: &str) -> bool {
    ["/api/", "/oauth/", "/.well-known/"]
        .iter()
        .any(|p| path.starts_with(p))
}

/// The browser's pages (HTML answers).
fn is_page(path: &str) -> bool {
    matches!(
        path,
        "/oauth/logout" | "/oauth/authorize" | "/oauth/authorization"
    ) || path.starts_with("/oauth/authorize/")
}

/// Refuses bodies over `limit` with 413: at once when `Content-Length` says so,
/// and for chunked bodies as soon as the reader has seen one byte too many.
///
/// A body whose length is declared (and within the limit) or that is empty
/// needs no counting reader: hyper delivers exactly `Content-Length` bytes
/// (HTTP/1.1 frames the message by it, h2 fails a stream whose data exceeds
/// it), so the wrapper (three allocations and a copy through a 4 KiB buffer
/// per request) is kept for chunked bodies, whose length nobody declared.
async fn limit_body<E: Endpoint>(ep: &E, mut req: Request, limit: usize) -> poem::Result<Response> {
    let declared = req.headers().typed_get::<ContentLength>();
    if let Some(ContentLength(n)) = declared {
        if n > limit as u64 {
            return Err(too_large(limit));
        }
    }
    let chunked = req.headers().contains_key(TRANSFER_ENCODING);
    let body = req.take_body();
    if body.is_empty() || (declared.is_some() && !chunked) {
        req.set_body(body);
        return ep.call(req).await.map(IntoResponse::into_response);
    }
    let exceeded = Arc::new(AtomicBool::new(false));
    req.set_body(Body::from_async_read(Limited {
        inner: Box::pin(body.into_async_read()),
        remaining: limit,
        exceeded: exceeded.clone(),
    }));
    let result = ep.call(req).await.map(IntoResponse::into_response);
    if exceeded.load(Ordering::Acquire) {
        return Err(too_large(limit));
    }
    result
}

fn too_large(limit: usize) -> poem::Error {
    poem::Error::from_string(
        format!("the request body is larger than {limit} bytes"),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
}

/// A reader that fails once more than `remaining` bytes have been read.
struct Limited {
    inner: Pin<Box<dyn AsyncRead + Send>>,
    remaining: usize,
    exceeded: Arc<AtomicBool>,
}

impl AsyncRead for Limited {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = self.inner.as_mut().poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &poll {
            let read = buf.filled().len() - before;
            if read > self.remaining {
                self.exceeded.store(true, Ordering::Release);
                return Poll::Ready(Err(std::io::Error::other("request body too large")));
            }
            self.remaining -= read;
        }
        poll
    }
}
