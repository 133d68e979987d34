//! End-to-end tests: each starts a real latchkey on 127.0.0.1:0 with its own
//! temporary store (see `common::TestServer`) and speaks HTTP to it. Tests are
//! independent of each other and of their order.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod api_keys;
mod auth;
mod authorization;
mod authorize_code;
mod authorize_implicit_oob;
mod authorize_pages;
mod binary;
mod clients;
mod errors;
mod examples;
mod front_door;
mod interop;
mod layering;
mod lifecycle;
mod oauth;
mod oidc;
mod openapi;
mod openidconnect_rs;
mod properties;
mod realms;
mod realms_keycloak;
mod redirect_safety;
mod refresh;
mod scopes;
mod seed;
mod spec_statuses;
mod subprocess;
mod swagger;
mod test_control;
mod test_faults;
mod user_claims;
mod users;
