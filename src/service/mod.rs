//! Use cases: what latchkey does, in terms of the domain and the store.
//!
//! Each file is one area (users, authentication, …). Services take `&AppState`,
//! return `crate::error::Result`, and never mention HTTP. Must not import
//! `poem`, `poem_openapi`, `sled` or `bincode`.

pub mod api_keys;
pub mod auth_cache;
pub mod authn;
pub mod authorize;
pub mod bootstrap;
pub mod clients;
pub mod health;
pub mod login_cache;
pub mod login_throttle;
pub mod oauth;
pub mod passwords;
pub mod revocations;
pub mod scopes;
pub mod seed;
pub mod tokens;
pub mod usage;
pub mod users;
