//! `GET /oauth/jwks`: the public signing keys as a JWK Set (RFC 7517 §5).

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::types::Any;
use poem_openapi::{ApiResponse, OpenApi};

use crate::api::error::{ApiError, Readiness};
use crate::api::ApiTags;
use crate::service::signing_keys;
use crate::state::AppState;

#[derive(ApiResponse)]
pub enum JwksResponse {
    /// `{"keys": [...]}`: every active and retiring key (`kty`, `kid`, `use`,
    /// `alg` and the public members); cached for a minute at most.
    #[oai(status = 200)]
    Keys(
        Json<Any<serde_json::Value>>,
        #[oai(header = "Cache-Control")] String,
    ),
}

#[derive(Default)]
pub struct JwksApi;

#[OpenApi(tag = "ApiTags::OAuth")]
impl JwksApi {
    /// Signing keys (JWKS)
    #[oai(path = "/oauth/jwks", method = "get", operation_id = "jwks")]
    async fn jwks(&self, state: Data<&AppState>) -> Result<JwksResponse, ApiError<Readiness>> {
        signing_keys::ready(&state).await?;
        Ok(JwksResponse::Keys(
            Json(Any(signing_keys::jwks(&state.keyring))),
            "public, max-age=60".into(),
        ))
    }
}
