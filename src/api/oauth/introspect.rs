//! `POST /oauth/introspect` (RFC 7662): the caller is authorized by
//! [`service::introspection`](crate::service::introspection), which also says
//! what the token is; this file turns that into RFC 7662 §2.2 JSON.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::params::OAuthParams;
use super::{AuthorizationHeader, NO_STORE};
use crate::api::error::{ApiError, GuardedOAuthEndpoint};
use crate::api::links::BaseUrl;
use crate::api::ApiTags;
use crate::service::introspection::{self, Introspection};
use crate::state::AppState;

/// `POST /oauth/introspect` and `/oauth/revoke` parameters.
#[derive(Object)]
pub struct TokenParam {
    /// The token: an access token (`lk_at_…`) or, for introspection, an API key.
    pub token: String,
    /// `access_token` or `api_key`; optional, the prefix tells.
    pub token_type_hint: Option<String>,
    /// For `client_secret_post`, or a public client at `/oauth/revoke`.
    pub client_id: Option<String>,
    /// For `client_secret_post`.
    pub client_secret: Option<String>,
}

/// RFC 7662 §2.2. Inactive tokens show only `active: false`.
#[derive(Debug, Default, Object)]
pub struct IntrospectionBody {
    pub active: bool,
    #[oai(skip_serializing_if_is_none)]
    pub scope: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub client_id: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub username: Option<String>,
    /// The user the credential acts as.
    #[oai(skip_serializing_if_is_none)]
    pub sub: Option<String>,
    /// `Bearer` for access tokens, `refresh_token`, or `api_key` for API keys.
    #[oai(skip_serializing_if_is_none)]
    pub token_type: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub exp: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    pub iat: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    pub iss: Option<String>,
    /// The token id (access tokens) or key id (API keys).
    #[oai(skip_serializing_if_is_none)]
    pub jti: Option<String>,
}

impl IntrospectionBody {
    fn from_found(found: Introspection, iss: String) -> IntrospectionBody {
        let iss = Some(iss);
        match found {
            Introspection::Inactive => IntrospectionBody::default(),
            Introspection::AccessToken { claims, user } => IntrospectionBody {
                active: true,
                scope: Some(claims.scopes.to_string()),
                client_id: Some(claims.client_id.clone()),
                username: Some(user.username.as_str().to_owned()),
                sub: Some(user.id.to_string()),
                token_type: Some("Bearer".into()),
                exp: Some(claims.expires_at.unix()),
                iat: Some(claims.issued_at.unix()),
                iss,
                jti: Some(claims.id_hex()),
            },
            Introspection::RefreshToken { refresh, user } => IntrospectionBody {
                active: true,
                scope: Some(refresh.scopes.to_string()),
                client_id: Some(refresh.client_id),
                username: Some(user.username.as_str().to_owned()),
                sub: Some(user.id.to_string()),
                token_type: Some("refresh_token".into()),
                exp: Some(refresh.expires_at),
                iat: Some(refresh.issued_at),
                iss,
                jti: None,
            },
            Introspection::ApiKey { key, owner } => IntrospectionBody {
                active: true,
                scope: Some(key.scopes.to_string()),
                client_id: None,
                username: Some(owner.username.as_str().to_owned()),
                sub: Some(owner.id.to_string()),
                token_type: Some("api_key".into()),
                exp: key.expires_at.map(|t| t.unix()),
                iat: Some(key.created_at.unix()),
                iss,
                jti: Some(key.id.to_string()),
            },
        }
    }
}

#[derive(ApiResponse)]
pub enum IntrospectionResponse {
    #[oai(status = 200)]
    Ok(
        Json<IntrospectionBody>,
        #[oai(header = "Cache-Control")] String,
    ),
}

#[derive(Default)]
pub struct IntrospectApi;

#[OpenApi(tag = "ApiTags::OAuth")]
impl IntrospectApi {
    /// Token introspection (RFC 7662)
    ///
    /// Authenticate as a confidential client (Basic or `client_secret_post`) or
    /// with an admin credential (`users:read`). Answers `{"active": false}` for
    /// anything unknown, expired, revoked or disabled.
    #[oai(
        path = "/oauth/introspect",
        method = "post",
        operation_id = "introspect"
    )]
    async fn introspect(
        &self,
        header: AuthorizationHeader,
        BaseUrl(base): BaseUrl,
        state: Data<&AppState>,
        params: OAuthParams<TokenParam>,
    ) -> Result<IntrospectionResponse, ApiError<GuardedOAuthEndpoint>> {
        introspection::authorize(
            &state,
            header.bytes(),
            params.owned("client_id"),
            params.owned("client_secret"),
        )
        .await
        .map_err(ApiError::from_oauth)?;
        let found = introspection::introspect(&state, params.get("token"))
            .await
            .map_err(ApiError::from_oauth)?;
        let body = IntrospectionBody::from_found(found, base);
        Ok(IntrospectionResponse::Ok(Json(body), NO_STORE.into()))
    }
}
