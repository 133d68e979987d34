//! `POST /oauth/revoke` (RFC 7009): the caller (a client, or an admin
//! credential with `users:write`) and the token go to
//! [`service::revocation`](crate::service::revocation).

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::introspect::TokenParam;
use super::params::OAuthParams;
use super::{AuthorizationHeader, NO_STORE};
use crate::api::error::{ApiError, GuardedOAuthEndpoint};
use crate::api::ApiTags;
use crate::domain::access::Permission;
use crate::service::{client_auth, revocation};
use crate::state::AppState;

/// The empty JSON object answered on success (RFC 7009 §2.2 leaves the body
/// open; clients such as simple-oauth2 expect JSON).
#[derive(Object)]
pub struct Revoked {}

#[derive(ApiResponse)]
pub enum RevokeResponse {
    /// Revoked, or nothing to revoke (unknown, malformed or expired tokens): `{}`.
    #[oai(status = 200)]
    Done(Json<Revoked>, #[oai(header = "Cache-Control")] String),
}

#[derive(Default)]
pub struct RevokeApi;

#[OpenApi(tag = "ApiTags::OAuth")]
impl RevokeApi {
    /// Token revocation (RFC 7009)
    ///
    /// A client (Basic, `client_secret_post`, or a public client by `client_id`)
    /// revokes an access token issued to it; an admin credential (`users:write`)
    /// may revoke any, also a deleted client's. Unknown, malformed and expired
    /// tokens answer 200 too; another client's token is refused with
    /// `unauthorized_client`.
    #[oai(path = "/oauth/revoke", method = "post", operation_id = "revoke")]
    async fn revoke(
        &self,
        header: AuthorizationHeader,
        state: Data<&AppState>,
        params: OAuthParams<TokenParam>,
    ) -> Result<RevokeResponse, ApiError<GuardedOAuthEndpoint>> {
        let caller = client_auth::endpoint_caller(
            &state,
            header.bytes(),
            params.owned("client_id"),
            params.owned("client_secret"),
            Permission::UsersWrite,
        )
        .await
        .map_err(ApiError::from_oauth)?;
        revocation::revoke(&state, &caller, params.get("token"))
            .await
            .map_err(ApiError::from_oauth)?;
        Ok(RevokeResponse::Done(Json(Revoked {}), NO_STORE.into()))
    }
}
