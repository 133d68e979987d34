//! Pure rules: identifiers, names, roles, the authorization decision, time.
//!
//! Nothing here does I/O, awaits, reads a clock or draws randomness: callers pass
//! `now` and freshly generated values in, so every rule is unit-tested with fixed
//! inputs. Must not import `store`, `service`, `api`, `poem*`, `sled` or `tokio`.

pub mod access;
pub mod api_key;
pub mod claims;
pub mod client;
pub mod credential;
pub mod jwt;
pub mod oauth;
pub mod pkce;
pub mod realm;
pub mod redirect_uri;
pub mod scope;
pub mod time;
pub mod token;
pub mod user;
