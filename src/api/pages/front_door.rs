//! `GET /`: what this server is and where to go next — a small page for a
//! browser, JSON (`{name, version, issuer, docs, discovery}`) for anything
//! else (curl's `*/*` included), decided by the `Accept` header's q-values.

use poem::http::header::{ACCEPT, CONTENT_TYPE};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, Request, Response};

use super::layout::{esc, html};
use crate::api::links::base_url;
use crate::state::AppState;

#[handler]
pub fn front_door(req: &Request, Data(state): Data<&AppState>) -> Response {
    let base = base_url(req, state);
    let accept = req
        .headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if prefers_html(accept) {
        page(&base, &state.realm.path)
    } else {
        let doc = serde_json::json!({
            "name": "latchkey",
            "realm": state.realm.name,
            "version": env!("CARGO_PKG_VERSION"),
            "issuer": base,
            "docs": format!("{base}/docs"),
            "discovery": format!("{base}/.well-known/openid-configuration"),
        });
        Response::builder()
            .status(StatusCode::OK)
            .header(CONTENT_TYPE, "application/json")
            .header("Cache-Control", "no-store")
            .body(doc.to_string())
    }
}

/// The page; `path` is the realm's (empty for the default realm).
fn page(base: &str, path: &str) -> Response {
    let b = esc(base);
    let p = esc(path);
    let body = format!(
        "<h1>latchkey {version}</h1>\
<p>A dev/test identity provider: API keys, OAuth 2.0 and OpenID Connect clients and tokens, Basic logins. Issuer <code>{b}</code>.</p>\
<ul class=\"scopes\">\
<li><a href=\"{p}/docs\">API documentation</a> (Swagger UI; <b>Authorize</b> signs you in)</li>\
<li><a href=\"{p}/.well-known/openid-configuration\">OpenID Connect discovery</a> · <a href=\"{p}/.well-known/oauth-authorization-server\">RFC 8414 metadata</a> · <a href=\"{p}/oauth/jwks\">JWKS</a></li>\
<li><a href=\"/openapi.json\">OpenAPI document</a></li>\
</ul>\
<p class=\"muted\">Who am I (the bootstrap admin's password is printed at first start):</p>\
<p><code>curl -u admin:PASSWORD {b}/api/v1/users/me</code></p>\
<p class=\"muted\">A client and a token:</p>\
<p><code>curl -u admin:PASSWORD {b}/api/v1/clients -H 'content-type: application/json' -d '{{\"name\":\"svc\",\"type\":\"confidential\",\"grant_types\":[\"client_credentials\"]}}'</code></p>\
<p><code>curl -u CLIENT_ID:CLIENT_SECRET {b}/oauth/token -d grant_type=client_credentials</code></p>",
        version = env!("CARGO_PKG_VERSION"),
    );
    html(StatusCode::OK, "latchkey", &body)
}

/// Whether `Accept` ranks `text/html` above `application/json` (a tie, as
/// with `*/*` or no header, answers JSON).
fn prefers_html(accept: &str) -> bool {
    quality(accept, "text", "html") > quality(accept, "application", "json")
}

/// The q-value `accept` gives `kind/sub`: its most specific matching range.
fn quality(accept: &str, kind: &str, sub: &str) -> f32 {
    let mut best: Option<(u8, f32)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|v| v.trim().parse::<f32>().ok())
            .unwrap_or(1.0)
            .clamp(0.0, 1.0);
        let (t, s) = media.split_once('/').unwrap_or((media.as_str(), ""));
        let specificity = match (t, s) {
            _ if t == kind && s == sub => 2,
            (_, "*") if t == kind => 1,
            ("*", "*") => 0,
            _ => continue,
        };
        if best.is_none_or(|(sp, _)| specificity > sp) {
            best = Some((specificity, q));
        }
    }
    best.map_or(if accept.trim().is_empty() { 1.0 } else { 0.0 }, |(_, q)| q)
}

#[cfg(test)]
mod tests {
    use super::prefers_html;

    #[test]
    fn browsers_get_html_and_everything_else_json() {
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(prefers_html(firefox));
        assert!(prefers_html("text/*"));
        assert!(!prefers_html(""));
        assert!(!prefers_html("*/*"));
        assert!(!prefers_html("application/json"));
        assert!(!prefers_html("application/json, text/html;q=0.5"));
        assert!(!prefers_html("text/html;q=0, */*"));
        assert!(prefers_html("text/html;q=0.9, application/json;q=0.1"));
        assert!(!prefers_html("text/html;q=bogus, application/json"));
    }
}
