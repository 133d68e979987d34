//! `GET /.well-known/oauth-authorization-server` (RFC 8414).

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use crate::api::error::{ApiError, Readiness};
use crate::api::links::BaseUrl;
use crate::api::ApiTags;
use crate::domain::client::GrantType;
use crate::service::scopes;
use crate::state::AppState;

/// The metadata document's operation.
#[derive(Default)]
pub struct MetadataApi;

/// RFC 8414 authorization server metadata.
#[derive(Debug, Object)]
pub struct ServerMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub introspection_endpoint: String,
    pub revocation_endpoint: String,
    pub grant_types_supported: Vec<String>,
    pub response_types_supported: Vec<String>,
    pub response_modes_supported: Vec<String>,
    pub code_challenge_methods_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    pub scopes_supported: Vec<String>,
    pub service_documentation: String,
}

/// The documents clients discover this server by (RFC 8615 well-known URIs).
#[OpenApi(prefix_path = "/.well-known", tag = "ApiTags::OAuth")]
impl MetadataApi {
    /// Authorization server metadata (RFC 8414)
    #[oai(
        path = "/oauth-authorization-server",
        method = "get",
        operation_id = "serverMetadata"
    )]
    async fn metadata(
        &self,
        state: Data<&AppState>,
        BaseUrl(base): BaseUrl,
    ) -> Result<Json<ServerMetadata>, ApiError<Readiness>> {
        let scopes = scopes::list(&state)?.into_iter().map(|s| s.name).collect();
        Ok(Json(ServerMetadata {
            authorization_endpoint: format!("{base}/oauth/authorize"),
            token_endpoint: format!("{base}/oauth/token"),
            introspection_endpoint: format!("{base}/oauth/introspect"),
            revocation_endpoint: format!("{base}/oauth/revoke"),
            grant_types_supported: GrantType::ALL
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            response_types_supported: strings(&["code", "token"]),
            response_modes_supported: strings(&["query", "fragment"]),
            code_challenge_methods_supported: strings(&["S256", "plain"]),
            token_endpoint_auth_methods_supported: strings(&[
                "client_secret_basic",
                "client_secret_post",
                "none",
            ]),
            introspection_endpoint_auth_methods_supported: strings(&[
                "client_secret_basic",
                "client_secret_post",
            ]),
            revocation_endpoint_auth_methods_supported: strings(&[
                "client_secret_basic",
                "client_secret_post",
                "none",
            ]),
            scopes_supported: scopes,
            service_documentation: format!("{base}/docs"),
            issuer: base,
        }))
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}
