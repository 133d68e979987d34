//! The paths of a created realm: Keycloak's endpoint names mapped onto
//! latchkey's own (the same endpoints, not copies), and the answer for a
//! realm that does not exist.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};

use crate::api::error::{ApiError, Lookup};
use crate::api::pages;
use crate::error::Error;

/// Keycloak's OpenID Connect endpoint names (`/protocol/openid-connect/…`)
/// and latchkey's path for each.
const KEYCLOAK: [(&str, &str); 7] = [
    ("auth", "/oauth/authorize"),
    ("token", "/oauth/token"),
    ("token/introspect", "/oauth/introspect"),
    ("revoke", "/oauth/revoke"),
    ("userinfo", "/oauth/userinfo"),
    ("certs", "/oauth/jwks"),
    ("logout", "/oauth/logout"),
];

/// The path within the realm that `rest` (what follows `/realms/{name}`)
/// names: a Keycloak alias mapped to its endpoint, anything else as it is.
pub(super) fn canonical_path(rest: &str) -> &str {
    if let Some(endpoint) = rest.strip_prefix("/protocol/openid-connect/") {
        if let Some((_, path)) = KEYCLOAK.iter().find(|(k, _)| *k == endpoint) {
            return path;
        }
    }
    if rest.is_empty() {
        return "/";
    }
    rest
}

/// 404 for a realm that does not exist: an HTML page on the browser's pages,
/// JSON everywhere else.
pub(super) fn unknown(name: &str, page: bool) -> Response {
    let message = format!(
        "there is no realm called {:?} (GET /api/v1/realms lists them)",
        name.chars().take(64).collect::<String>()
    );
    if page {
        pages::layout::error_page(StatusCode::NOT_FOUND, &message)
    } else {
        ApiError::<Lookup>::from(Error::NotFound {
            kind: "realm",
            id: name.chars().take(64).collect(),
        })
        .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::canonical_path;

    #[test]
    fn keycloak_names_map_to_latchkey_paths() {
        assert_eq!(
            canonical_path("/protocol/openid-connect/token"),
            "/oauth/token"
        );
        assert_eq!(
            canonical_path("/protocol/openid-connect/token/introspect"),
            "/oauth/introspect"
        );
        assert_eq!(
            canonical_path("/protocol/openid-connect/certs"),
            "/oauth/jwks"
        );
        assert_eq!(
            canonical_path("/protocol/openid-connect/auth"),
            "/oauth/authorize"
        );
        assert_eq!(
            canonical_path("/protocol/openid-connect/nope"),
            "/protocol/openid-connect/nope"
        );
        assert_eq!(canonical_path("/oauth/token"), "/oauth/token");
        assert_eq!(canonical_path(""), "/");
    }
}
