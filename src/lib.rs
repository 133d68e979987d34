//! latchkey: a dev/test identity provider in one binary.
//!
//! # Layout
//!
//! | module | owns | may import |
//! | --- | --- | --- |
//! | [`api`] | HTTP: poem-openapi endpoints (management API, OAuth endpoints), the authorization endpoint's HTML pages, Swagger UI with its sign-in preset, DTOs, the credential extractor, OAuth parameter reading, error → HTTP mapping | service, domain, state, error |
//! | [`app`] | the route table: API, Swagger UI, spec, body limit, JSON catch-all | api, state |
//! | [`server`], [`startup`] | serving, background usage writes and revocation sweeps, graceful shutdown, first-start bootstrap | app, service, store |
//! | [`service`] | use cases: users, API keys, scopes, clients, the authorization flow (sessions, login throttling, consent), the token, introspection and revocation endpoints, access tokens, the revocation list, authentication (+ its caches), key usage, seeding, bootstrap | domain, store, state, error |
//! | [`domain`] | pure rules: ids, usernames, roles, scopes, key usability, clients, redirect URIs and their matching, PKCE, the access-token format, OAuth errors, the authorization decision, credential parsing, time | nothing with I/O |
//! | [`store`] | sled trees (users, scopes, API keys and their indexes, usage, clients, the revocation list, codes, refresh tokens, sessions, consents, server secrets), the bincode codec with upgrades of older records, group commit | nothing above it |
//! | [`secret`], [`password`] | OS randomness, blake3 fingerprints, argon2id, `Redacted` | — |
//! | [`cli`], [`healthcheck`], [`seed`] | the command line, the `healthcheck` probe, reading and checking `--seed` files | domain |
//!
//! Requests flow `api → service → (domain, store)`; nothing flows back up. A test
//! (`tests/it/layering.rs`) reads `src/` and fails when a module imports a layer
//! it must not know.

pub mod api;
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod healthcheck;
pub mod password;
pub mod secret;
pub mod seed;
pub mod server;
pub mod service;
pub mod startup;
pub mod state;
pub mod store;
