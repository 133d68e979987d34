//! Use cases: what latchkey does, in terms of the domain and the store.
//!
//! One use case (or one tightly knit family of them) per file; the token
//! endpoint's grants one per file under [`token`]. Services take `&AppState`,
//! return `crate::error::Result`, hand domain types (never store records) to
//! the HTTP layer, and never mention HTTP. Must not import `poem`,
//! `poem_openapi`, `sled` or `bincode`.

pub mod access_token;
pub mod api_keys;
pub mod auth_cache;
pub mod authn;
pub mod authorize;
pub mod bootstrap;
pub mod client_auth;
pub mod clients;
pub mod control;
pub mod end_session;
pub mod health;
pub mod id_token;
pub mod introspection;
pub mod jwt_cache;
pub mod keyring;
pub mod live;
pub mod login_cache;
pub mod login_throttle;
pub mod minted;
pub mod passwords;
pub mod realms;
pub mod revocation;
pub mod revocation_list;
pub mod scopes;
pub mod seed;
pub mod signing_keys;
pub mod token;
pub mod usage;
pub mod userinfo;
pub mod users;

#[cfg(test)]
pub(crate) mod testing;
