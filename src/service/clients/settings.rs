//! Reading a client's settings from a registration or an update: a chosen
//! client id, the signing algorithms, the access-token format, custom claims.

use crate::domain::client::ClientId;
use crate::domain::jwt::Alg;
use crate::error::{Error, Result};

use super::SWAGGER_UI_CLIENT_ID;

/// A client id chosen at registration: 3–128 RFC 3986 unreserved characters,
/// not the built-in `swagger-ui`.
pub(super) fn chosen_id(chosen: &str) -> Result<ClientId> {
    if chosen == SWAGGER_UI_CLIENT_ID {
        return Err(Error::invalid(
            "client_id",
            "\"swagger-ui\" is the built-in Swagger UI client's id",
        ));
    }
    match ClientId::parse(chosen) {
        Some(id) if chosen.len() >= 3 => Ok(id),
        _ => Err(Error::invalid(
            "client_id",
            "use 3–128 letters, digits, '-', '.', '_' or '~' (RFC 3986 unreserved)",
        )),
    }
}

/// The stored form of custom claims: checked JSON text, empty for none.
pub(super) fn claims_json(value: Option<&serde_json::Value>) -> Result<String> {
    match value {
        None => Ok(String::new()),
        Some(v) => crate::domain::claims::to_stored(v).map_err(|m| Error::invalid("claims", m)),
    }
}

/// The stored form of the access-token settings: `None` for opaque tokens,
/// the algorithm for JWTs. `current` is the stored value an update starts from.
pub(super) fn access_format(
    format: Option<&str>,
    alg: Option<&str>,
    current: Option<&str>,
) -> Result<Option<String>> {
    let jwt = match format {
        None => current.is_some(),
        Some("opaque") => false,
        Some("jwt") => true,
        Some(other) => {
            return Err(Error::invalid(
                "access_token_format",
                format!("{other:?}: use opaque or jwt"),
            ))
        }
    };
    match (jwt, alg) {
        (false, Some(_)) => Err(Error::invalid(
            "access_token_signed_response_alg",
            "only JWT access tokens are signed: set access_token_format to jwt",
        )),
        (false, None) => Ok(None),
        (true, None) => Ok(Some(current.unwrap_or("RS256").to_owned())),
        (true, Some(a)) => match Alg::parse(a) {
            Some(alg) => Ok(Some(alg.as_str().to_owned())),
            None => Err(Error::invalid(
                "access_token_signed_response_alg",
                format!("{a:?} is not offered: use RS256, ES256 or EdDSA"),
            )),
        },
    }
}

/// The stored form of `id_token_signed_response_alg` (`None`: the default,
/// RS256); anything but the three algorithms is refused.
pub(super) fn id_token_alg(requested: Option<&str>) -> Result<Option<String>> {
    match requested {
        None => Ok(None),
        Some(a) => match Alg::parse(a) {
            Some(alg) => Ok(Some(alg.as_str().to_owned())),
            None => Err(Error::invalid(
                "id_token_signed_response_alg",
                format!("{a:?} is not offered: use RS256, ES256 or EdDSA"),
            )),
        },
    }
}
