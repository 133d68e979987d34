//! `GET /.well-known/oauth-authorization-server` (RFC 8414) and
//! `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §3):
//! one document under both names, listing only what this server does.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use crate::api::error::{ApiError, Readiness};
use crate::api::links::BaseUrl;
use crate::api::ApiTags;
use crate::domain::client::GrantType;
use crate::domain::jwt::Alg;
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
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    /// RP-Initiated Logout 1.0.
    pub end_session_endpoint: String,
    pub grant_types_supported: Vec<String>,
    pub response_types_supported: Vec<String>,
    pub response_modes_supported: Vec<String>,
    pub code_challenge_methods_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    pub scopes_supported: Vec<String>,
    pub subject_types_supported: Vec<String>,
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub claims_supported: Vec<String>,
    pub authorization_response_iss_parameter_supported: bool,
    pub request_parameter_supported: bool,
    pub request_uri_parameter_supported: bool,
    pub claims_parameter_supported: bool,
    pub service_documentation: String,
}

impl ServerMetadata {
    fn of(state: &AppState, base: String) -> Result<ServerMetadata, ApiError<Readiness>> {
        let scopes = scopes::list(state)?.into_iter().map(|s| s.name).collect();
        let algs: Vec<String> = Alg::ALL.iter().map(|a| a.as_str().to_owned()).collect();
        Ok(ServerMetadata {
            authorization_endpoint: format!("{base}/oauth/authorize"),
            token_endpoint: format!("{base}/oauth/token"),
            introspection_endpoint: format!("{base}/oauth/introspect"),
            revocation_endpoint: format!("{base}/oauth/revoke"),
            userinfo_endpoint: format!("{base}/oauth/userinfo"),
            jwks_uri: format!("{base}/oauth/jwks"),
            end_session_endpoint: format!("{base}/oauth/logout"),
            grant_types_supported: GrantType::ALL
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            response_types_supported: strings(&[
                "code",
                "token",
                "id_token",
                "id_token token",
                "code id_token",
                "code token",
                "code id_token token",
            ]),
            response_modes_supported: strings(&["query", "fragment", "form_post"]),
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
            subject_types_supported: strings(&["public"]),
            id_token_signing_alg_values_supported: algs,
            claims_supported: strings(&[
                "iss",
                "sub",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "azp",
                "sid",
                "at_hash",
                "c_hash",
                "name",
                "preferred_username",
                "updated_at",
                "email",
                "email_verified",
            ]),
            authorization_response_iss_parameter_supported: true,
            request_parameter_supported: false,
            request_uri_parameter_supported: false,
            claims_parameter_supported: false,
            service_documentation: format!("{base}/docs"),
            issuer: base,
        })
    }
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
        Ok(Json(ServerMetadata::of(&state, base)?))
    }

    /// OpenID Provider configuration (OIDC Discovery 1.0)
    ///
    /// The same document as the RFC 8414 metadata; `issuer` is this server.
    #[oai(
        path = "/openid-configuration",
        method = "get",
        operation_id = "openidConfiguration"
    )]
    async fn openid_configuration(
        &self,
        state: Data<&AppState>,
        BaseUrl(base): BaseUrl,
    ) -> Result<Json<ServerMetadata>, ApiError<Readiness>> {
        Ok(Json(ServerMetadata::of(&state, base)?))
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}
