//! This server's own URLs: `--public-url` when given, else derived from the
//! request's `Host` (so a server reached as `localhost:8080` or through a
//! container's mapped port names itself the way its client reached it).

use poem::http::header::HOST;
use poem::http::StatusCode;
use poem::{FromRequest, Request, RequestBody};

use crate::state::AppState;

/// [`base_url`] as an extractor, for operations that need the server's URL
/// for links and nothing else of the request.
pub struct BaseUrl(pub String);

impl<'a> FromRequest<'a> for BaseUrl {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let state = req
            .data::<AppState>()
            .ok_or_else(|| poem::Error::from_status(StatusCode::INTERNAL_SERVER_ERROR))?;
        Ok(BaseUrl(base_url(req, state)))
    }
}

/// The base URL of the request's realm (no trailing slash), e.g.
/// `http://127.0.0.1:8080` for the default realm and
/// `http://127.0.0.1:8080/realms/team-a` for a created one: the realm's issuer.
pub fn base_url(req: &Request, state: &AppState) -> String {
    let mut url = server_url(req, state);
    url.push_str(&state.realm.path);
    url
}

/// The server's own base URL, whatever the realm.
pub fn server_url(req: &Request, state: &AppState) -> String {
    if let Some(url) = &state.config.public_url {
        return url.clone();
    }
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| is_authority(h))
        .map(str::to_owned)
        .or_else(|| req.local_addr().as_socket_addr().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".into());
    format!("http://{host}")
}

/// A `Host` value safe to echo into URLs: host name or IP literal and a port.
fn is_authority(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

#[cfg(test)]
mod tests {
    use super::is_authority;

    #[test]
    fn hosts_that_could_inject_are_refused() {
        assert!(is_authority("127.0.0.1:8080"));
        assert!(is_authority("[::1]:80"));
        assert!(is_authority("auth.example.test"));
        assert!(!is_authority(""));
        assert!(!is_authority("a.test/evil"));
        assert!(!is_authority("a.test\"><script>"));
        assert!(!is_authority("user@a.test"));
    }
}
