//! The JWT signing keys: published at `GET /oauth/jwks` (a JWK Set, RFC 7517
//! §5), listed and rotated by admins at `/api/v1/signing-keys`. Private parts
//! never leave the store.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::types::Any;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{Authorized, UsersRead, UsersWrite};
use super::error::{ApiError, AuthOnly, Readiness};
use super::ApiTags;
use crate::service::signing_keys::{self, KeyView};
use crate::state::AppState;

/// The signing-key operations.
#[derive(Default)]
pub struct SigningKeysApi;

/// A signing key (its public half is in `/oauth/jwks`).
#[derive(Debug, Object)]
pub struct SigningKeyView {
    /// The JWK thumbprint (RFC 7638) of its public key, or the seed's `kid`.
    pub kid: String,
    /// `RS256`, `ES256` or `EdDSA`.
    pub alg: String,
    /// RFC 3339.
    pub created_at: String,
    /// New tokens of its algorithm are signed with it.
    pub active: bool,
    /// A retired key leaves the JWKS then (RFC 3339), once every token it
    /// signed has expired.
    #[oai(nullable)]
    pub retires_at: Option<String>,
}

impl From<KeyView> for SigningKeyView {
    fn from(k: KeyView) -> Self {
        SigningKeyView {
            kid: k.kid,
            alg: k.alg.as_str().to_owned(),
            created_at: k.created_at.to_rfc3339(),
            active: k.active,
            retires_at: k.retires_at.map(|t| t.to_rfc3339()),
        }
    }
}

#[derive(Debug, Object)]
pub struct SigningKeyList {
    pub keys: Vec<SigningKeyView>,
}

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

#[derive(ApiResponse)]
pub enum Rotated {
    /// Every key now: the new active ones first, then the retiring ones.
    #[oai(status = 200)]
    Done(Json<SigningKeyList>),
}

#[OpenApi(tag = "ApiTags::SigningKeys")]
impl SigningKeysApi {
    /// Signing keys (JWKS)
    #[oai(
        path = "/oauth/jwks",
        method = "get",
        operation_id = "jwks",
        tag = "ApiTags::OAuth"
    )]
    async fn jwks(&self, state: Data<&AppState>) -> Result<JwksResponse, ApiError<Readiness>> {
        signing_keys::ready(&state).await?;
        Ok(JwksResponse::Keys(
            Json(Any(signing_keys::jwks(&state.keyring))),
            "public, max-age=60".into(),
        ))
    }

    /// List signing keys (admin)
    ///
    /// Active keys first, then retiring ones.
    #[oai(
        path = "/api/v1/signing-keys",
        method = "get",
        operation_id = "listSigningKeys"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        _auth: Authorized<UsersRead>,
    ) -> Result<Json<SigningKeyList>, ApiError<AuthOnly>> {
        signing_keys::ready(&state).await?;
        Ok(Json(SigningKeyList {
            keys: signing_keys::list(&state)
                .into_iter()
                .map(Into::into)
                .collect(),
        }))
    }

    /// Rotate the signing keys (admin)
    ///
    /// A new active key for every algorithm. The previous keys stop signing at
    /// once and stay in the JWKS until every token they signed has expired.
    #[oai(
        path = "/api/v1/signing-keys/rotate",
        method = "post",
        operation_id = "rotateSigningKeys"
    )]
    async fn rotate(
        &self,
        _auth: Authorized<UsersWrite>,
        state: Data<&AppState>,
    ) -> Result<Rotated, ApiError<AuthOnly>> {
        let keys = signing_keys::rotate(&state).await?;
        Ok(Rotated::Done(Json(SigningKeyList {
            keys: keys.into_iter().map(Into::into).collect(),
        })))
    }
}
