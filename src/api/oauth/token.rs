//! `POST /oauth/token` (RFC 6749 §3.2): the request's parameters and client
//! authentication go to [`service::token`](crate::service::token); the answer
//! is RFC 6749 §5.1 JSON, never cached.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::params::OAuthParams;
use super::{AuthorizationHeader, NO_STORE};
use crate::api::error::{ApiError, TokenEndpoint};
use crate::api::links::BaseUrl;
use crate::api::ApiTags;
use crate::service::client_auth::ClientAuth;
use crate::service::token;
use crate::state::AppState;

/// `POST /oauth/token` parameters (documentation of the body).
#[derive(Object)]
pub struct TokenParams {
    /// `client_credentials`, `authorization_code` or `refresh_token`.
    pub grant_type: String,
    /// `authorization_code`: the code from the authorization endpoint.
    pub code: Option<String>,
    /// `authorization_code`: the redirect URI of the authorization request.
    pub redirect_uri: Option<String>,
    /// `authorization_code`: the PKCE verifier (RFC 7636).
    pub code_verifier: Option<String>,
    /// `refresh_token`: the refresh token (`lk_rt_…`).
    pub refresh_token: Option<String>,
    /// `password` (clients that list the grant; test suites only, RFC 9700
    /// forbids it in production): the user's username.
    pub username: Option<String>,
    /// `password`: the user's password.
    pub password: Option<String>,
    /// Space-separated subset of the client's scopes (client_credentials; default:
    /// all of them) or of the grant's (refresh_token; default: the same).
    pub scope: Option<String>,
    /// For `client_secret_post` and public clients; with Basic, optional and equal to the Basic user.
    pub client_id: Option<String>,
    /// For `client_secret_post` (instead of Basic).
    pub client_secret: Option<String>,
    /// RFC 8707: one of the client's `audience` values; a JWT access token then
    /// names only it as `aud`. Anything else is `invalid_target`.
    pub resource: Option<String>,
}

/// RFC 6749 §5.1.
#[derive(Object)] // no Debug: holds the token
pub struct TokenBody {
    /// `lk_at_…`, or an RFC 9068 JWT for clients with `access_token_format: jwt`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// `lk_rt_…`: for `authorization_code` and `refresh_token` grants when the
    /// client has the `refresh_token` grant. Single use: each refresh returns a new one.
    #[oai(skip_serializing_if_is_none)]
    pub refresh_token: Option<String>,
    /// OpenID Connect: a signed JWT about the user, when `openid` was granted
    /// (`authorization_code` and `refresh_token` grants).
    #[oai(skip_serializing_if_is_none)]
    pub id_token: Option<String>,
}

impl From<crate::service::access_token::IssuedToken> for TokenBody {
    fn from(issued: crate::service::access_token::IssuedToken) -> TokenBody {
        TokenBody {
            access_token: issued.token.into_inner(),
            token_type: "Bearer".into(),
            expires_in: issued.expires_in,
            scope: issued.scopes.to_string(),
            refresh_token: issued.refresh_token.map(|r| r.into_inner()),
            id_token: issued.id_token,
        }
    }
}

#[derive(ApiResponse)]
pub enum TokenResponse {
    /// A token (RFC 6749 §5.1); never cached.
    #[oai(status = 200)]
    Issued(
        Json<TokenBody>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
    ),
}

#[derive(Default)]
pub struct TokenApi;

#[OpenApi(tag = "ApiTags::OAuth")]
impl TokenApi {
    /// Token endpoint
    ///
    /// `grant_type=client_credentials`. Authenticate the client with HTTP Basic
    /// (`client_secret_basic`) or with `client_id` and `client_secret`
    /// parameters (`client_secret_post`). Errors follow RFC 6749 §5.2.
    #[oai(path = "/oauth/token", method = "post", operation_id = "token")]
    async fn token(
        &self,
        header: AuthorizationHeader,
        BaseUrl(issuer): BaseUrl,
        state: Data<&AppState>,
        params: OAuthParams<TokenParams>,
    ) -> Result<TokenResponse, ApiError<TokenEndpoint>> {
        let auth = ClientAuth::read(
            header.bytes(),
            params.owned("client_id"),
            params.owned("client_secret"),
        )
        .map_err(ApiError::from_oauth)?;
        let issued = token::token(&state, auth, &issuer, |name| params.owned(name))
            .await
            .map_err(ApiError::from_oauth)?;
        Ok(TokenResponse::Issued(
            Json(issued.into()),
            NO_STORE.into(),
            "no-cache".into(),
        ))
    }
}
