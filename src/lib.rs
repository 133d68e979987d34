//! latchkey: a dev/test identity provider in one binary.
//!
//! # Layout
//!
//! Requests flow `api → service → (domain, store)`; nothing flows back up. A test
//! (`tests/it/layering.rs`) reads `src/` and fails when a module imports a layer
//! it must not know, when `api/` names a store record, or when a part of the
//! state imports the state back.
//!
//! | layer | owns | may import |
//! | --- | --- | --- |
//! | [`api`] | HTTP: poem-openapi endpoints, the HTML pages, DTOs, the credential extractor, error → HTTP | service, domain, state, error |
//! | [`app`] | the route table, the readiness gate, the body limit, the JSON catch-all | api, state |
//! | [`server`], [`startup`] | serving, background usage writes and sweeps, graceful shutdown, first-start bootstrap | app, service, store |
//! | [`service`] | use cases, one per file (the token endpoint's grants one per file) | domain, store, state, error |
//! | [`domain`] | pure rules: ids, scopes, clients, redirect URIs, PKCE, the access-token format, OAuth errors, the authorization decision | nothing with I/O |
//! | [`store`] | sled trees and their indexes, the bincode codec, group commit, the cache generation | nothing above it |
//! | [`secret`], [`password`] | credential kinds and prefixes, OS randomness, blake3 fingerprints, argon2id, `Redacted` | — |
//! | [`cli`], [`healthcheck`], [`seed`] | the command line, the `healthcheck` probe, reading `--seed` files | domain |
//!
//! ## Where things are
//!
//! | what | HTTP (`api/`) | use case (`service/`) | rules (`domain/`) | trees (`store/`) |
//! | --- | --- | --- | --- | --- |
//! | `POST /oauth/token` | `oauth/token.rs`, parameters `oauth/params.rs` | `token/mod.rs` (typed `Grant`, check order), client auth `client_auth.rs` | `oauth.rs` (errors, scope parameter) | — |
//! | client_credentials | — | `token/client_credentials.rs` | `client.rs` | `clients.rs` |
//! | authorization_code | — | `token/authorization_code.rs` | `pkce.rs` | `grants/` (`auth_codes`) |
//! | refresh_token (rotation, families) | — | `token/refresh_token.rs` | — | `grants/` (`refresh_tokens`) |
//! | access tokens (issue, validate) | — | `access_token.rs`, live client/user `live.rs` | `token.rs` (format, MAC) | — (not stored) |
//! | `POST /oauth/introspect` | `oauth/introspect.rs` | `introspection.rs` | — | — |
//! | `POST /oauth/revoke`, revocation list, sweeps | `oauth/revoke.rs` | `revocation.rs`, memory `revocation_list.rs` | — | `revocations.rs` (`revoked_tokens`, `revocation_markers`) |
//! | RFC 8414 metadata, OIDC discovery | `oauth/metadata.rs` | `scopes.rs` | — | — |
//! | id_tokens | — | `id_token.rs` (claims, `at_hash`, hints) | `jwt/` (JWS: RS256, ES256, EdDSA) | — |
//! | signing keys, `GET /oauth/jwks` | `signing_keys.rs` | `signing_keys.rs`, memory `keyring.rs` | `jwt/keys.rs` | `signing_keys.rs` |
//! | `/oauth/userinfo` | `oauth/userinfo.rs` | `userinfo.rs` | — | — |
//! | `/oauth/logout` (RP-initiated) | `pages/logout.rs` | `end_session.rs` | — | `grants/` (`sessions`) |
//! | `GET /oauth/authorize` (prompt, max_age, response modes), login, consent | `pages/{authorize,login,consent}.rs`, HTML `pages/layout.rs`, cookies `pages/cookies.rs` | `authorize/{request,session,consent}.rs` | `redirect_uri.rs`, `pkce.rs` | `grants/` (`sessions`, `consents`, `auth_codes`) |
//! | `/api/v1/users` | `users.rs` | `users.rs`, bootstrap `bootstrap.rs` | `user.rs` | `users.rs` (`users`, `users_by_name`) |
//! | `/api/v1/api-keys` | `api_keys.rs` | `api_keys.rs`, usage `usage.rs` | `api_key.rs` | `api_keys.rs` (`api_keys`, `api_keys_by_hash`, `api_keys_by_owner`, `api_key_usage`) |
//! | `/api/v1/clients` | `clients.rs` | `clients/{mod,rules,lifecycle,swagger_ui}.rs` | `client.rs`, `redirect_uri.rs` | `clients.rs` (`clients`, `clients_by_owner`) |
//! | `/api/v1/scopes` | `scopes.rs` | `scopes.rs` | `scope.rs` (`ScopeSet`) | `scopes.rs` |
//! | authentication (Basic, Bearer, OAuth) | extractor `auth.rs` | `authn.rs`, caches `auth_cache.rs`, `login_cache.rs`, throttle `login_throttle.rs` | `credential.rs`, `access.rs` | cache generation `flusher.rs` |
//! | readiness (503 `not_ready`) | gate in `app.rs`, `/ready` `health.rs` | `health.rs` | — | — |
//! | errors → HTTP | `error.rs` (status sets per operation) | `crate::error` | `oauth.rs` | — |
//! | credential prefixes (`lk_at_` …) | — | — | `crate::secret::Kind` | — |
//! | server secrets (token MAC key, CSRF key) | — | `crate::state` | — | `mod.rs` (`meta`) |

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
