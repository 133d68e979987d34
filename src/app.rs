//! The route table: the API at `/`, Swagger UI at `/docs`, the spec as JSON and
//! YAML, with the readiness gate, a body limit and the JSON error catch-all
//! around everything.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use poem::endpoint::make_sync;
use poem::http::StatusCode;
use poem::web::headers::{ContentLength, HeaderMapExt};
use poem::web::Html;
use poem::{get, post, Body, Endpoint, EndpointExt, IntoResponse, Request, Response, Route};
use tokio::io::{AsyncRead, ReadBuf};

use crate::api::error::{json_errors, ApiError, Readiness};
use crate::api::{self, pages};
use crate::error::Error;
use crate::state::AppState;

/// Builds the whole HTTP application for one server.
pub fn build(state: AppState) -> impl Endpoint<Output = Response> {
    let api = api::api_service();
    let page = api::docs::swagger_page(api.swagger_ui_html());
    // Swagger UI with sign-in preset (client `swagger-ui`, PKCE) and the page
    // its sign-in window returns to.
    let docs = Route::new()
        .at("/", make_sync(move |_| Html(page.clone())))
        .at(
            "/oauth-receiver.html",
            make_sync(|_| Html(api::docs::OAUTH_RECEIVER)),
        );
    let spec_json = api.spec_endpoint();
    let spec_yaml = api.spec_endpoint_yaml();
    let limit = state.config.body_limit;
    Route::new()
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
        )
        .nest("/", api)
        .around(move |ep, req| async move { limit_body(&ep, req, limit).await })
        .around(|ep, req| async move { ready_gate(&ep, req).await })
        .data(state)
        .catch_all_error(json_errors)
}

/// The readiness gate: until start-up has finished (the bootstrap admin and the
/// scope catalog exist), every operation of the API and every page answers 503
/// — JSON `not_ready` for the API and the protocol endpoints, an HTML page for
/// the browser's pages. `/health`, `/ready`, the spec and Swagger UI stay up.
async fn ready_gate<E: Endpoint>(ep: &E, req: Request) -> poem::Result<Response> {
    let ready = req.data::<AppState>().is_some_and(AppState::is_ready);
    let path = req.uri().path();
    if !ready && is_gated(path) {
        return Ok(if is_page(path) {
            pages::layout::error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "latchkey is starting; try again in a moment.",
            )
        } else {
            ApiError::<Readiness>::from(Error::Unavailable(
                "start-up has not finished; retry in a moment".into(),
            ))
            .into_response()
        });
    }
    ep.call(req).await.map(IntoResponse::into_response)
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
async fn limit_body<E: Endpoint>(ep: &E, mut req: Request, limit: usize) -> poem::Result<Response> {
    if let Some(ContentLength(n)) = req.headers().typed_get::<ContentLength>() {
        if n > limit as u64 {
            return Err(too_large(limit));
        }
    }
    let exceeded = Arc::new(AtomicBool::new(false));
    let body = req.take_body();
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
