//! HTTP API: the only module that knows poem-openapi.
//!
//! One `#[OpenApi]` struct per tag, each operation with an explicit
//! `operation_id` and an error type listing the statuses it really returns.
//! Handlers authenticate through [`auth::Authorized`], call one service function
//! and map the result; they never touch the store and never see its records.
//! The readiness gate is not theirs: `app` answers 503 `not_ready` for every
//! operation until start-up has finished, and every operation documents it.

mod api_keys;
pub mod auth;
mod client_requests;
mod clients;
pub mod docs;
pub mod error;
mod health;
mod links;
mod me;
pub mod oauth;
pub mod pages;
mod realms;
mod scopes;
mod signing_keys;
mod test_control;
mod test_journal;
mod users;

use poem_openapi::{OpenApiService, Tags};

#[derive(Tags)]
pub enum ApiTags {
    /// Liveness and readiness.
    Service,
    /// Users of latchkey itself: admin CRUD and the current caller.
    Users,
    /// API keys: shown once, scoped, disabled, rolled, deleted.
    ApiKeys,
    /// The scope catalog.
    Scopes,
    /// OAuth clients (applications): registered, scoped, disabled, deleted.
    Clients,
    /// OAuth 2.0 and OpenID Connect protocol endpoints: token, introspection,
    /// revocation, userinfo, JWKS, metadata and discovery.
    OAuth,
    /// The JWT signing keys: listed and rotated (admins).
    SigningKeys,
    /// Realms: isolated issuers in this process, under `/realms/{name}`
    /// (admins of the default realm).
    Realms,
    /// Test control: a realm's clock and minted tokens (admins, `test:control`;
    /// off with `--no-test-control`).
    TestControl,
}

/// Every `#[OpenApi]` struct, one per area, in the order the spec lists them
/// (nested: tuples of more than twelve have no `Default`).
type Apis = (
    CoreApis,
    realms::RealmsApi,
    test_control::TestControlApi,
    test_journal::TestJournalApi,
);

type CoreApis = (
    health::HealthApi,
    users::UsersApi,
    api_keys::ApiKeysApi,
    scopes::ScopesApi,
    clients::ClientsApi,
    oauth::token::TokenApi,
    oauth::introspect::IntrospectApi,
    oauth::revoke::RevokeApi,
    oauth::metadata::MetadataApi,
    oauth::userinfo::UserInfoApi,
    signing_keys::SigningKeysApi,
);

/// The whole API as one poem-openapi service; used by the server, by
/// `latchkey openapi` and by the spec test, so all three see the same thing.
pub type Api = OpenApiService<Apis, ()>;

pub fn api_service() -> Api {
    OpenApiService::new(Apis::default(), "latchkey", env!("CARGO_PKG_VERSION"))
    .description(
        "A dev/test identity provider: API keys, OAuth 2.0 clients and tokens, and Basic \
         logins, in one binary. Errors are JSON: `{\"error\": code, \"error_description\": sentence}`.",
    )
}
