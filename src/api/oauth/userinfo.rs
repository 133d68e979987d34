//! `GET` and `POST /oauth/userinfo` (OIDC Core §5.3).

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::types::Any;
use poem_openapi::{ApiResponse, OpenApi};

use super::params::OAuthParams;
use super::{AuthorizationHeader, NO_STORE};
use crate::api::error::{bearer_challenge, ApiError, UserInfoEndpoint};
use crate::api::ApiTags;
use crate::service::userinfo::{self, Refusal, UserInfo};
use crate::state::AppState;
use poem::http::StatusCode;

/// `POST /oauth/userinfo` parameters (RFC 6750 §2.2).
#[derive(poem_openapi::Object)]
pub struct UserInfoParams {
    /// The access token, when not sent as `Authorization: Bearer`.
    pub access_token: Option<String>,
}

#[derive(ApiResponse)]
pub enum UserInfoResponse {
    /// The user's claims for the token's scopes; `sub` always.
    #[oai(status = 200)]
    Claims(
        Json<Any<serde_json::Value>>,
        #[oai(header = "Cache-Control")] String,
    ),
}

#[derive(Default)]
pub struct UserInfoApi;

fn answer(
    state: &AppState,
    header: &AuthorizationHeader,
    body: Option<&str>,
) -> Result<UserInfoResponse, ApiError<UserInfoEndpoint>> {
    match userinfo::userinfo(state, header.bytes(), body)? {
        UserInfo::Claims(c) => Ok(UserInfoResponse::Claims(
            Json(Any(serde_json::Value::Object(c))),
            NO_STORE.into(),
        )),
        UserInfo::Refused(Refusal::NoToken) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send an access token granted with the openid scope as Authorization: Bearer",
        )
        .with_challenge(bearer_challenge(None, None))),
        UserInfo::Refused(Refusal::InvalidToken) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is unknown, expired, revoked or disabled",
        )
        .with_challenge(bearer_challenge(Some("invalid_token"), None))),
        UserInfo::Refused(Refusal::InsufficientScope) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "the access token was not granted the openid scope",
        )
        .with_challenge(bearer_challenge(Some("insufficient_scope"), Some("openid")))),
    }
}

#[OpenApi(tag = "ApiTags::OAuth")]
impl UserInfoApi {
    /// UserInfo (OpenID Connect)
    ///
    /// The signed-in user's claims, by the access token's scopes (`profile`,
    /// `email`); the token must carry `openid`.
    #[oai(path = "/oauth/userinfo", method = "get", operation_id = "userinfo")]
    async fn get(
        &self,
        header: AuthorizationHeader,
        state: Data<&AppState>,
    ) -> Result<UserInfoResponse, ApiError<UserInfoEndpoint>> {
        answer(&state, &header, None)
    }

    /// UserInfo (OpenID Connect), by POST
    ///
    /// As `GET`; the token may also come as the form parameter `access_token`.
    #[oai(
        path = "/oauth/userinfo",
        method = "post",
        operation_id = "userinfoPost"
    )]
    async fn post(
        &self,
        header: AuthorizationHeader,
        state: Data<&AppState>,
        params: OAuthParams<UserInfoParams>,
    ) -> Result<UserInfoResponse, ApiError<UserInfoEndpoint>> {
        answer(&state, &header, params.get("access_token"))
    }
}
