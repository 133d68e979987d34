//! The route table: the API at `/`, Swagger UI at `/docs`, the spec as JSON and
//! YAML, with a body limit and the JSON error catch-all around everything.

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

use crate::api::{self, error::json_errors, pages};
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
        .at("/oauth/authorize", get(pages::authorize))
        .at("/oauth/authorize/login", post(pages::login))
        .at("/oauth/authorize/consent", post(pages::consent))
        .at("/oauth/logout", get(pages::logout))
        .nest("/", api)
        .around(move |ep, req| async move { limit_body(&ep, req, limit).await })
        .data(state)
        .catch_all_error(json_errors)
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
