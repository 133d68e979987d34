//! The OAuth protocol endpoints, one file each: `/oauth/token`
//! ([`token`]), `/oauth/introspect` ([`introspect`]), `/oauth/revoke`
//! ([`revoke`]) and the RFC 8414 metadata document ([`metadata`]); their
//! parameters are read by [`params`], which the authorization pages use too.

pub mod introspect;
pub mod metadata;
pub mod params;
pub mod revoke;
pub mod token;

use poem::http::header::AUTHORIZATION;
use poem::Request;

/// `Cache-Control` of every answer that carries or describes a credential.
const NO_STORE: &str = "no-store";

/// The raw `Authorization` header, if any.
fn authorization(req: &Request) -> Option<&[u8]> {
    req.headers().get(AUTHORIZATION).map(|v| v.as_bytes())
}
