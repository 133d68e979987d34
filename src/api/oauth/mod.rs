//! The OAuth protocol endpoints, one file each: `/oauth/token`
//! ([`token`]), `/oauth/introspect` ([`introspect`]), `/oauth/revoke`
//! ([`revoke`]) and the RFC 8414 metadata document ([`metadata`]); their
//! parameters are read by [`params`], which the authorization pages use too.

pub mod introspect;
pub mod metadata;
pub mod params;
pub mod revoke;
pub mod token;
pub mod userinfo;

use poem::http::header::AUTHORIZATION;
use poem::http::HeaderValue;
use poem::{FromRequest, Request, RequestBody};

/// `Cache-Control` of every answer that carries or describes a credential.
const NO_STORE: &str = "no-store";

/// The raw `Authorization` header, if any: client authentication (or, at
/// introspection and revocation, an admin credential) is read from it.
pub struct AuthorizationHeader(Option<HeaderValue>);

impl AuthorizationHeader {
    fn bytes(&self) -> Option<&[u8]> {
        self.0.as_ref().map(HeaderValue::as_bytes)
    }
}

impl<'a> FromRequest<'a> for AuthorizationHeader {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(AuthorizationHeader(
            req.headers().get(AUTHORIZATION).cloned(),
        ))
    }
}
