//! Every answer a test receives from a spec operation is checked against the
//! statuses that operation declares in the generated OpenAPI document (issue 9,
//! item 5): [`CheckedClient`] and [`CheckedRequest`] wrap reqwest's client and
//! builder, and [`assert_declared`] fails the test on a status the spec does not
//! list. Paths that are not spec operations (the HTML authorization pages,
//! `/oauth/logout`, `/docs`, `/openapi.*`, unknown paths answered by the JSON
//! catch-all, a method the path does not have) are not checked.

use std::fmt;
use std::sync::OnceLock;

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Body, IntoUrl, Method, RequestBuilder, Response, StatusCode};
use serde::Serialize;
use serde_json::Value;

/// Statuses the spec does not declare but the suite tolerates, as
/// (operationId, status). Empty: every status a test meets is declared (the
/// reshape documented 503 `not_ready` on every gated operation). A test fails
/// when an entry here becomes declared, so the list cannot go stale.
pub const UNDECLARED_TODAY: &[(&str, u16)] = &[];

/// A reqwest client whose every answer from a spec operation is checked.
#[derive(Clone, Debug)]
pub struct CheckedClient {
    inner: reqwest::Client,
}

impl CheckedClient {
    pub fn new(inner: reqwest::Client) -> CheckedClient {
        CheckedClient { inner }
    }

    pub fn request(&self, method: Method, url: impl IntoUrl) -> CheckedRequest {
        CheckedRequest::from(self.inner.request(method, url))
    }

    pub fn get(&self, url: impl IntoUrl) -> CheckedRequest {
        self.request(Method::GET, url)
    }

    pub fn post(&self, url: impl IntoUrl) -> CheckedRequest {
        self.request(Method::POST, url)
    }
}

/// A request being built; [`CheckedRequest::send`] checks the answer's status.
/// It forwards the reqwest builder methods the tests use; add others the same
/// way when a test needs them.
/// Any reqwest builder becomes one with `CheckedRequest::from` (or [`checked`]),
/// so clients with their own cookie or redirect policy are checked too.
#[must_use]
pub struct CheckedRequest {
    inner: RequestBuilder,
}

impl From<RequestBuilder> for CheckedRequest {
    fn from(inner: RequestBuilder) -> CheckedRequest {
        CheckedRequest { inner }
    }
}

/// `builder`, sent through the status check: for tests with their own client.
pub fn checked(builder: RequestBuilder) -> CheckedRequest {
    CheckedRequest::from(builder)
}

impl CheckedRequest {
    /// A header; the name and value are converted at once (a bad one fails the test).
    pub fn header<K, V>(self, key: K, value: V) -> CheckedRequest
    where
        K: TryInto<HeaderName>,
        K::Error: fmt::Debug,
        V: TryInto<HeaderValue>,
        V::Error: fmt::Debug,
    {
        let key: HeaderName = key.try_into().expect("a valid header name");
        let value: HeaderValue = value.try_into().expect("a valid header value");
        self.map(|b| b.header(key, value))
    }

    pub fn basic_auth(
        self,
        user: impl fmt::Display,
        password: Option<impl fmt::Display>,
    ) -> CheckedRequest {
        self.map(|b| b.basic_auth(user, password))
    }

    pub fn bearer_auth(self, token: impl fmt::Display) -> CheckedRequest {
        self.map(|b| b.bearer_auth(token))
    }

    pub fn body(self, body: impl Into<Body>) -> CheckedRequest {
        self.map(|b| b.body(body))
    }

    pub fn json<T: Serialize + ?Sized>(self, json: &T) -> CheckedRequest {
        self.map(|b| b.json(json))
    }

    pub fn form<T: Serialize + ?Sized>(self, form: &T) -> CheckedRequest {
        self.map(|b| b.form(form))
    }

    fn map(self, f: impl FnOnce(RequestBuilder) -> RequestBuilder) -> CheckedRequest {
        CheckedRequest {
            inner: f(self.inner),
        }
    }

    /// Sends the request and fails the test if the answer's status is not one
    /// its operation declares.
    pub async fn send(self) -> reqwest::Result<Response> {
        let (client, request) = self.inner.build_split();
        let request = request?;
        let method = request.method().clone();
        let url = request.url().clone();
        let resp = client.execute(request).await?;
        if resp.url().path() != url.path() {
            // A redirect was followed: the status is another URL's. No spec
            // operation declares a 3xx, so one that redirects is a violation.
            assert_declared(method.as_str(), url.path(), StatusCode::FOUND.as_u16());
        }
        assert_declared(method.as_str(), url.path(), resp.status().as_u16());
        Ok(resp)
    }
}

/// One operation of the spec: where it is, and the statuses it declares.
#[derive(Debug)]
pub struct Operation {
    pub id: String,
    pub method: String,
    pub template: String,
    segments: Vec<Segment>,
    /// The keys of `responses`: "200", "4XX", "default" …
    declared: Vec<String>,
}

#[derive(Debug)]
enum Segment {
    Literal(String),
    Param,
}

impl Operation {
    /// Whether the spec allows `status` for this operation: listed, in a listed
    /// range (`4XX`), or covered by a `default` response.
    pub fn declares(&self, status: u16) -> bool {
        let code = status.to_string();
        let range = format!("{}XX", status / 100);
        self.declared
            .iter()
            .any(|d| d == &code || d.eq_ignore_ascii_case(&range) || d == "default")
    }

    /// How many segments `path` matches literally, if it matches at all.
    fn literal_matches(&self, path: &[&str]) -> Option<usize> {
        if path.len() != self.segments.len() {
            return None;
        }
        let mut literal = 0;
        for (seg, part) in self.segments.iter().zip(path) {
            match seg {
                Segment::Literal(l) if l == part => literal += 1,
                Segment::Literal(_) => return None,
                Segment::Param if part.is_empty() => return None,
                Segment::Param => {}
            }
        }
        Some(literal)
    }
}

/// The operations of `latchkey::api::api_service().spec()`, parsed once.
pub fn operations() -> &'static [Operation] {
    static OPERATIONS: OnceLock<Vec<Operation>> = OnceLock::new();
    OPERATIONS.get_or_init(|| {
        let spec: Value = serde_json::from_str(&latchkey::api::api_service().spec())
            .expect("the generated spec is JSON");
        let mut ops = Vec::new();
        for (template, item) in spec["paths"].as_object().expect("spec paths") {
            for (method, op) in item.as_object().expect("a path item") {
                let segments = template
                    .split('/')
                    .map(|s| {
                        if s.starts_with('{') && s.ends_with('}') {
                            Segment::Param
                        } else {
                            Segment::Literal(s.to_owned())
                        }
                    })
                    .collect();
                ops.push(Operation {
                    id: op["operationId"].as_str().unwrap_or(template).to_owned(),
                    method: method.to_uppercase(),
                    template: template.clone(),
                    segments,
                    declared: op["responses"]
                        .as_object()
                        .map(|r| r.keys().cloned().collect())
                        .unwrap_or_default(),
                });
            }
        }
        ops
    })
}

/// The operation that answers `method path` (path without the query), as the
/// router picks it: the path template with the most literal segments wins, and
/// then the method must be one of that path's; otherwise no operation.
pub fn operation_for(method: &str, path: &str) -> Option<&'static Operation> {
    let parts: Vec<&str> = path.split('/').collect();
    let ops = operations();
    let best = ops
        .iter()
        .filter_map(|op| op.literal_matches(&parts).map(|n| (n, op)))
        .max_by_key(|(n, _)| *n)?;
    let template = &best.1.template;
    ops.iter()
        .find(|op| &op.template == template && op.method.eq_ignore_ascii_case(method))
}

/// Fails the test when `status` is not among those the operation answering
/// `method path` declares (and not in [`UNDECLARED_TODAY`]). Paths that are
/// not spec operations pass unchecked.
pub fn assert_declared(method: &str, path: &str, status: u16) {
    let path = path.split('?').next().unwrap_or(path);
    let Some(op) = operation_for(method, path) else {
        return;
    };
    if op.declares(status) || UNDECLARED_TODAY.contains(&(op.id.as_str(), status)) {
        return;
    }
    panic!(
        "{method} {path} answered {status}, which its operation {} ({} {}) does not declare in openapi.json; it declares {:?}",
        op.id, op.method, op.template, op.declared
    );
}
