//! `/api/v1/clients`: OAuth applications. Create and secret regeneration answer
//! with a credentials document (the secret, once, and the URLs to use it with).

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::{Any, MaybeUndefined};
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{Authorized, ClientsRead, ClientsWrite};
use super::client_requests::{CreateClient, UpdateClient};
use super::error::{
    ApiError, Change, ClientRemoval, Create, Lookup, OwnedListing, SecretRotation, Toggle,
};
use super::links::BaseUrl;
use super::ApiTags;
use crate::domain::client::Client;
use crate::service::clients::{self, ClientChange, IssuedClient, NewClient};
use crate::state::AppState;

/// A client as list and get show it: never the secret or its hash.
#[derive(Debug, Object)]
pub struct ClientView {
    /// The public identifier, `cli_…`.
    pub client_id: String,
    pub name: String,
    /// `confidential` (a web app with a secret) or `public` (an installed app).
    #[oai(rename = "type")]
    pub client_type: String,
    pub redirect_uris: Vec<String>,
    /// Of `authorization_code`, `client_credentials`, `refresh_token`, `implicit`.
    pub grant_types: Vec<String>,
    /// The scopes the client may request.
    pub scopes: Vec<String>,
    /// Lifetime of its access tokens; absent: the server default (`--access-token-ttl`).
    #[oai(nullable)]
    pub access_token_ttl_seconds: Option<i64>,
    pub enabled: bool,
    /// A first-party application: users are not asked to consent.
    pub skip_consent: bool,
    /// PKCE `plain` is accepted at the authorization endpoint (else only `S256`).
    pub allow_plain_pkce: bool,
    /// How its id_tokens are signed: `RS256`, `ES256` or `EdDSA`.
    pub id_token_signed_response_alg: String,
    /// Where `/oauth/logout` may send the browser back to (exact match).
    pub post_logout_redirect_uris: Vec<String>,
    /// `opaque` (`lk_at_…`) or `jwt` (RFC 9068, signed as below).
    pub access_token_format: String,
    /// For `jwt` access tokens: `RS256`, `ES256` or `EdDSA`.
    #[oai(skip_serializing_if_is_none)]
    #[oai(nullable)]
    pub access_token_signed_response_alg: Option<String>,
    /// The JWT access tokens' `aud` (empty: the client id).
    pub audience: Vec<String>,
    /// Custom claims of its client_credentials JWT access tokens.
    pub claims: Any<serde_json::Value>,
    /// The user who owns the client; client_credentials tokens act as this user.
    pub owner_id: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

impl From<Client> for ClientView {
    fn from(c: Client) -> Self {
        ClientView {
            client_id: c.client_id.to_string(),
            name: c.name,
            client_type: c.client_type.as_str().to_owned(),
            redirect_uris: c.redirect_uris,
            grant_types: c
                .grant_types
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            scopes: c.scopes.to_vec(),
            access_token_ttl_seconds: c.access_token_ttl_seconds,
            enabled: c.enabled,
            skip_consent: c.skip_consent,
            allow_plain_pkce: c.allow_plain_pkce,
            id_token_signed_response_alg: c.id_token_alg.as_str().to_owned(),
            post_logout_redirect_uris: c.post_logout_redirect_uris,
            access_token_format: if c.jwt_access_alg.is_some() {
                "jwt"
            } else {
                "opaque"
            }
            .into(),
            access_token_signed_response_alg: c.jwt_access_alg.map(|a| a.as_str().to_owned()),
            audience: c.audience,
            claims: Any(serde_json::Value::Object(c.claims)),
            owner_id: c.owner_id,
            created_at: c.created_at.to_rfc3339(),
            updated_at: c.updated_at.to_rfc3339(),
        }
    }
}

/// A client's credentials document: save it now, the secret is not shown again.
#[derive(Object)] // no Debug: holds the secret
pub struct ClientCredentials {
    /// The secret (`lk_cs_…`); absent for public clients.
    #[oai(nullable)]
    pub client_secret: Option<String>,
    /// Where to fetch tokens.
    pub token_endpoint: String,
    /// This server's issuer identifier; its metadata is at
    /// `<issuer>/.well-known/oauth-authorization-server`.
    pub issuer: String,
    #[oai(flatten)]
    pub client: ClientView,
}

impl ClientCredentials {
    fn new(issued: IssuedClient, base: String) -> Self {
        ClientCredentials {
            client_secret: issued.secret.map(|s| s.into_inner()),
            token_endpoint: format!("{base}/oauth/token"),
            issuer: base,
            client: issued.client.into(),
        }
    }
}

#[derive(Debug, Object)]
pub struct ClientList {
    pub clients: Vec<ClientView>,
    /// Pass as `after` for the next page; absent on the last page.
    #[oai(nullable)]
    pub next_after: Option<String>,
}

#[derive(ApiResponse)]
pub enum CreatedClient {
    /// Created; the response is the credentials document, with the secret, once.
    #[oai(status = 201)]
    Created(Json<ClientCredentials>),
}

#[derive(ApiResponse)]
pub enum DeletedClient {
    /// Deleted: no new tokens; issued ones live until they expire unless
    /// `revoke_tokens=true`.
    #[oai(status = 204)]
    Deleted,
}

#[derive(Default)]
pub struct ClientsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Clients")]
impl ClientsApi {
    /// Register an OAuth client
    ///
    /// The caller owns the client. The response holds the secret, once: save it
    /// (Swagger UI offers the response for download).
    #[oai(path = "/clients", method = "post", operation_id = "createClient")]
    async fn create(
        &self,
        BaseUrl(base): BaseUrl,
        state: Data<&AppState>,
        auth: Authorized<ClientsWrite>,
        body: Json<CreateClient>,
    ) -> Result<CreatedClient, ApiError<Create>> {
        let b = body.0;
        let issued = clients::create(
            &state,
            &auth.principal,
            NewClient {
                name: b.name,
                client_type: b.client_type,
                redirect_uris: b.redirect_uris.unwrap_or_default(),
                grant_types: b.grant_types,
                scopes: b.scopes,
                access_token_ttl_seconds: b.access_token_ttl_seconds,
                skip_consent: b.skip_consent.unwrap_or(false),
                allow_plain_pkce: b.allow_plain_pkce.unwrap_or(false),
                access_token_format: b.access_token_format,
                access_token_signed_response_alg: b.access_token_signed_response_alg,
                audience: b.audience,
                claims: b.claims.map(|c| c.0),
                client_id: b.client_id,
                id_token_signed_response_alg: b.id_token_signed_response_alg,
                post_logout_redirect_uris: b.post_logout_redirect_uris,
            },
        )
        .await?;
        Ok(CreatedClient::Created(Json(ClientCredentials::new(
            issued, base,
        ))))
    }

    /// List OAuth clients
    ///
    /// The caller's own clients; client-admins and admins may pass `user_id`, or
    /// `all=true` for everyone's.
    #[oai(path = "/clients", method = "get", operation_id = "listClients")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: Authorized<ClientsRead>,
        /// Whose clients (client-admins and admins; default: the caller).
        user_id: Query<Option<String>>,
        /// Everyone's clients (client-admins and admins).
        all: Query<Option<bool>>,
        /// Page size, 1–1000 (default 100).
        limit: Query<Option<u32>>,
        /// Start after this client id (the previous page's `next_after`).
        after: Query<Option<String>>,
    ) -> Result<Json<ClientList>, ApiError<OwnedListing>> {
        let (found, next_after) = clients::list(
            &state,
            &auth.principal,
            user_id.0.as_deref(),
            all.0.unwrap_or(false),
            after.0.as_deref(),
            limit.0.unwrap_or(100) as usize,
        )?;
        Ok(Json(ClientList {
            clients: found.into_iter().map(ClientView::from).collect(),
            next_after,
        }))
    }

    /// Get an OAuth client
    #[oai(
        path = "/clients/:client_id",
        method = "get",
        operation_id = "getClient"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: Authorized<ClientsRead>,
        client_id: Path<String>,
    ) -> Result<Json<ClientView>, ApiError<Lookup>> {
        Ok(Json(
            clients::get(&state, &auth.principal, &client_id.0)?.into(),
        ))
    }

    /// Update an OAuth client
    ///
    /// Only the fields given change. Scope rules are those of create.
    #[oai(
        path = "/clients/:client_id",
        method = "patch",
        operation_id = "updateClient"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: Authorized<ClientsWrite>,
        client_id: Path<String>,
        body: Json<UpdateClient>,
    ) -> Result<Json<ClientView>, ApiError<Change>> {
        let b = body.0;
        let change = ClientChange {
            name: b.name,
            redirect_uris: b.redirect_uris,
            grant_types: b.grant_types,
            scopes: b.scopes,
            access_token_ttl_seconds: match b.access_token_ttl_seconds {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(v) => Some(Some(v)),
            },
            skip_consent: b.skip_consent,
            allow_plain_pkce: b.allow_plain_pkce,
            id_token_signed_response_alg: b.id_token_signed_response_alg,
            post_logout_redirect_uris: b.post_logout_redirect_uris,
            access_token_format: b.access_token_format,
            access_token_signed_response_alg: b.access_token_signed_response_alg,
            audience: b.audience,
            claims: b.claims.map(|c| c.0),
        };
        Ok(Json(
            clients::update(&state, &auth.principal, &client_id.0, change)
                .await?
                .into(),
        ))
    }

    /// Delete an OAuth client
    ///
    /// No new tokens are issued. Tokens already issued live until they expire,
    /// unless `revoke_tokens=true`.
    #[oai(
        path = "/clients/:client_id",
        method = "delete",
        operation_id = "deleteClient"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: Authorized<ClientsWrite>,
        client_id: Path<String>,
        /// Also revoke every token issued to the client.
        revoke_tokens: Query<Option<bool>>,
    ) -> Result<DeletedClient, ApiError<ClientRemoval>> {
        clients::delete(
            &state,
            &auth.principal,
            &client_id.0,
            revoke_tokens.0.unwrap_or(false),
        )
        .await?;
        Ok(DeletedClient::Deleted)
    }

    /// Disable an OAuth client
    ///
    /// No tokens are issued, and its tokens are refused, until it is enabled again.
    #[oai(
        path = "/clients/:client_id/disable",
        method = "post",
        operation_id = "disableClient"
    )]
    async fn disable(
        &self,
        state: Data<&AppState>,
        auth: Authorized<ClientsWrite>,
        client_id: Path<String>,
    ) -> Result<Json<ClientView>, ApiError<Toggle>> {
        set_enabled(&state, &auth, &client_id, false).await
    }

    /// Enable an OAuth client
    ///
    /// Its unexpired, unrevoked tokens work again.
    #[oai(
        path = "/clients/:client_id/enable",
        method = "post",
        operation_id = "enableClient"
    )]
    async fn enable(
        &self,
        state: Data<&AppState>,
        auth: Authorized<ClientsWrite>,
        client_id: Path<String>,
    ) -> Result<Json<ClientView>, ApiError<Toggle>> {
        set_enabled(&state, &auth, &client_id, true).await
    }

    /// Regenerate a client's secret
    ///
    /// The old secret stops working at once; the new one is in this response
    /// only. With `revoke_tokens=true`, every token issued so far is revoked too.
    #[oai(
        path = "/clients/:client_id/secret",
        method = "post",
        operation_id = "regenerateClientSecret"
    )]
    async fn regenerate_secret(
        &self,
        BaseUrl(base): BaseUrl,
        state: Data<&AppState>,
        auth: Authorized<ClientsWrite>,
        client_id: Path<String>,
        /// Also revoke every token issued so far.
        revoke_tokens: Query<Option<bool>>,
    ) -> Result<Json<ClientCredentials>, ApiError<SecretRotation>> {
        let issued = clients::regenerate_secret(
            &state,
            &auth.principal,
            &client_id.0,
            revoke_tokens.0.unwrap_or(false),
        )
        .await?;
        Ok(Json(ClientCredentials::new(issued, base)))
    }
}

/// Disable and enable: one change, two operations.
async fn set_enabled(
    state: &AppState,
    auth: &Authorized<ClientsWrite>,
    client_id: &Path<String>,
    enabled: bool,
) -> Result<Json<ClientView>, ApiError<Toggle>> {
    let client = clients::set_enabled(state, &auth.principal, &client_id.0, enabled).await?;
    Ok(Json(client.into()))
}
