//! The pages' HTML: one layout, inline style, no external assets, every value
//! escaped, every page and redirect unframeable and uncached.

use poem::http::header::CONTENT_TYPE;
use poem::http::StatusCode;
use poem::Response;

pub fn error_page(status: StatusCode, message: &str) -> Response {
    html(
        status,
        "Cannot continue · latchkey",
        &format!(
            "<h1>Cannot continue</h1><p class=\"alert\">{}</p><p class=\"muted\">You were not sent back to the application, because it could not be verified.</p>",
            esc(message)
        ),
    )
}

pub(super) fn server_error(e: &crate::error::Error) -> Response {
    use crate::error::{AuthFailure, Error};
    if let Error::Unauthenticated(AuthFailure::RealmGone) = e {
        // The realm was deleted while the page was in flight.
        return error_page(StatusCode::NOT_FOUND, "This realm has been deleted.");
    }
    tracing::error!(error = %e, "authorization page failed");
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on the server; see its log.",
    )
}

const STYLE: &str = "body{font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;background:#f4f5f7;color:#1d2330;margin:0}\
main{max-width:26rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.1)}\
h1{font-size:1.4rem;margin:0 0 .5rem}label{display:block;margin:.8rem 0 .2rem;font-weight:600}\
input{box-sizing:border-box;width:100%;padding:.6rem;border:1px solid #c3c8d1;border-radius:6px;font:inherit}\
button{margin-top:1.2rem;padding:.6rem 1.2rem;border:0;border-radius:6px;background:#2459d6;color:#fff;font:inherit;cursor:pointer}\
button.secondary{background:#e4e7ec;color:#1d2330}.row{display:flex;gap:.6rem;justify-content:flex-end}\
.alert{background:#fdecea;color:#8a1c12;padding:.6rem;border-radius:6px}.muted{color:#5b6372;font-size:.9rem}\
ul.scopes{padding-left:1.2rem}ul.scopes li{margin:.4rem 0}code{font-size:.85rem;color:#5b6372}\
footer{text-align:center;color:#5b6372;font-size:.8rem;margin-top:1rem}";

pub(super) fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let doc = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{}</title><style>{STYLE}</style></head><body><main>{body}</main>\
<footer>latchkey · a dev/test identity provider</footer></body></html>",
        esc(title)
    );
    secure_headers(Response::builder().status(status))
        .header(CONTENT_TYPE, "text/html; charset=utf-8")
        .body(doc)
}

/// Headers every page and redirect carries: no framing, no caching, no referrer.
pub(super) fn secure_headers(b: poem::ResponseBuilder) -> poem::ResponseBuilder {
    with_policy(b, PAGE_POLICY)
}

/// The pages' Content-Security-Policy: no scripts, no framing, inline style only.
const PAGE_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

fn with_policy(b: poem::ResponseBuilder, policy: &str) -> poem::ResponseBuilder {
    b.header("Content-Security-Policy", policy)
        .header("X-Frame-Options", "DENY")
        .header("X-Content-Type-Options", "nosniff")
        .header("Referrer-Policy", "no-referrer")
        .header("Cache-Control", "no-store")
}

/// The form_post response (OAuth 2.0 Form Post Response Mode): a form that
/// posts `params` to `action`, with a visible button (it works without
/// JavaScript) and a script, allowed by a one-time CSP nonce, that submits it
/// at once.
pub(super) fn form_post(action: &str, params: &[(&str, String)]) -> Response {
    let nonce = crate::secret::random_token();
    let fields: String = params
        .iter()
        .map(|(k, v)| {
            format!(
                r#"<input type="hidden" name="{}" value="{}">"#,
                esc(k),
                esc(v)
            )
        })
        .collect();
    let doc = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Continue · latchkey</title><style>{STYLE}</style></head><body><main>\
<h1>Continue</h1><form method=\"post\" action=\"{}\">{fields}\
<button type=\"submit\">Continue to the application</button></form></main>\
<script nonce=\"{nonce}\">document.forms[0].submit()</script></body></html>",
        esc(action)
    );
    let policy = format!(
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; frame-ancestors 'none'; base-uri 'none'"
    );
    with_policy(Response::builder().status(StatusCode::OK), &policy)
        .header(CONTENT_TYPE, "text/html; charset=utf-8")
        .body(doc)
}

/// HTML-escapes text for element content and quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
