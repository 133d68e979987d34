//! The OAuth protocol endpoints: `/oauth/token`, `/oauth/introspect`,
//! `/oauth/revoke` and the RFC 8414 metadata document.
//!
//! Parameters are read by [`OAuthParams`]: a form body (RFC 6749), a JSON body
//! (IriSync) or the query string (Image Relay), in any mix, with a parameter
//! given twice refused (RFC 6749 §3.2) and empty values treated as absent.

use std::marker::PhantomData;

use poem::http::header::{AUTHORIZATION, CONTENT_TYPE};
use poem::web::Data;
use poem::{Request, RequestBody};
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaMediaType, MetaRequest, Registry};
use poem_openapi::types::Type;
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions, Object, OpenApi,
};

use super::error::{ApiError, OAuthEndpoint};
use super::links::base_url;
use super::ApiTags;
use crate::domain::access::Permission;
use crate::domain::client::GrantType;
use crate::domain::oauth::{OAuthError, OAuthErrorCode};
use crate::error::Error;
use crate::service::oauth::{self, ClientAuth, Introspection, TokenRequest};
use crate::service::scopes;
use crate::state::AppState;

/// Request parameters from the query string and the body, each at most once.
pub struct OAuthParams<D> {
    pairs: Vec<(String, String)>,
    _doc: PhantomData<D>,
}

impl<D> OAuthParams<D> {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    /// Keeps a parameter whose repeats the caller has already refused.
    fn add(&mut self, name: String, value: String) {
        // RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
        if !value.is_empty() {
            self.pairs.push((name, value));
        }
    }

    fn add_form(
        &mut self,
        bytes: &[u8],
        seen: &mut std::collections::HashSet<String>,
    ) -> Result<(), OAuthError> {
        for (k, v) in form_urlencoded::parse(bytes) {
            if seen.len() >= 64 {
                return Err(bad_request("too many parameters"));
            }
            if !seen.insert(k.to_string()) {
                return Err(bad_request(format!(
                    "the parameter {k:?} is given more than once (RFC 6749 §3.2)"
                )));
            }
            self.add(k.into_owned(), v.into_owned());
        }
        Ok(())
    }
}

/// A JSON object of string (or null) parameters, in order, keeping repeated
/// keys so they can be refused (a plain map would keep the last silently).
struct JsonParams(Vec<(String, Option<String>)>);

impl<'de> serde::Deserialize<'de> for JsonParams {
    fn deserialize<De: serde::Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = JsonParams;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object whose values are strings")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonParams, A::Error> {
                let mut pairs = Vec::new();
                while let Some(entry) = map.next_entry::<String, Option<String>>()? {
                    if pairs.len() >= 64 {
                        return Err(serde::de::Error::custom("too many parameters"));
                    }
                    pairs.push(entry);
                }
                Ok(JsonParams(pairs))
            }
        }
        d.deserialize_map(Visit)
    }
}

fn bad_request(description: impl Into<String>) -> OAuthError {
    OAuthError::new(OAuthErrorCode::InvalidRequest, description)
}

fn read_params<D>(
    query: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<OAuthParams<D>, OAuthError> {
    let mut params = OAuthParams {
        pairs: Vec::new(),
        _doc: PhantomData,
    };
    let mut seen = std::collections::HashSet::new();
    params.add_form(query.as_bytes(), &mut seen)?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(params);
    }
    let media = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase());
    match media.as_deref() {
        Some("application/x-www-form-urlencoded") => params.add_form(body, &mut seen)?,
        Some("application/json") => {
            let JsonParams(pairs) = serde_json::from_slice(body).map_err(|e| {
                bad_request(format!(
                    "the JSON body is not an object of string parameters: {e}"
                ))
            })?;
            for (k, v) in pairs {
                let Some(value) = v else { continue };
                if !seen.insert(k.clone()) {
                    return Err(bad_request(format!(
                        "the parameter {k:?} is given more than once (RFC 6749 §3.2)"
                    )));
                }
                params.add(k, value);
            }
        }
        other => {
            return Err(bad_request(format!(
                "send parameters as application/x-www-form-urlencoded or application/json, not {}",
                other.unwrap_or("a body without Content-Type")
            )))
        }
    }
    Ok(params)
}

impl<'a, D: Type> ApiExtractor<'a> for OAuthParams<D> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        D::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: Some(
                "Parameters as a form (RFC 6749), as a JSON object, or in the query string.",
            ),
            content: vec![
                MetaMediaType {
                    content_type: "application/x-www-form-urlencoded",
                    schema: D::schema_ref(),
                },
                MetaMediaType {
                    content_type: "application/json",
                    schema: D::schema_ref(),
                },
            ],
            required: false,
        })
    }

    async fn from_request(
        req: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let bytes = match body.take() {
            Ok(b) => b.into_bytes().await?,
            Err(_) => Default::default(),
        };
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        read_params(req.uri().query().unwrap_or(""), content_type, &bytes)
            .map_err(|e| ApiError::<OAuthEndpoint>::from(Error::OAuth(e)).into())
    }
}

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
    /// Space-separated subset of the client's scopes (client_credentials; default:
    /// all of them) or of the grant's (refresh_token; default: the same).
    pub scope: Option<String>,
    /// For `client_secret_post` and public clients; with Basic, optional and equal to the Basic user.
    pub client_id: Option<String>,
    /// For `client_secret_post` (instead of Basic).
    pub client_secret: Option<String>,
}

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

/// RFC 6749 §5.1.
#[derive(Object)] // no Debug: holds the token
pub struct TokenBody {
    /// `lk_at_…`.
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

#[derive(ApiResponse)]
pub enum IntrospectionResponse {
    #[oai(status = 200)]
    Ok(
        Json<IntrospectionBody>,
        #[oai(header = "Cache-Control")] String,
    ),
}

#[derive(ApiResponse)]
pub enum RevokeResponse {
    /// Revoked, or nothing to revoke (unknown, malformed or expired tokens).
    #[oai(status = 200)]
    Done(#[oai(header = "Cache-Control")] String),
}

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

pub struct OAuthApi;

const NO_STORE: &str = "no-store";

fn authorization(req: &Request) -> Option<&[u8]> {
    req.headers().get(AUTHORIZATION).map(|v| v.as_bytes())
}

fn not_ready(state: &AppState) -> Result<(), ApiError<OAuthEndpoint>> {
    if state.is_ready() {
        Ok(())
    } else {
        Err(Error::Unavailable("start-up has not finished; retry in a moment".into()).into())
    }
}

#[OpenApi(tag = "ApiTags::OAuth")]
impl OAuthApi {
    /// Token endpoint
    ///
    /// `grant_type=client_credentials`. Authenticate the client with HTTP Basic
    /// (`client_secret_basic`) or with `client_id` and `client_secret`
    /// parameters (`client_secret_post`). Errors follow RFC 6749 §5.2.
    #[oai(path = "/oauth/token", method = "post", operation_id = "token")]
    async fn token(
        &self,
        req: &Request,
        state: Data<&AppState>,
        params: OAuthParams<TokenParams>,
    ) -> Result<TokenResponse, ApiError<OAuthEndpoint>> {
        not_ready(&state)?;
        let auth = ClientAuth::read(
            authorization(req),
            params.owned("client_id"),
            params.owned("client_secret"),
        )
        .map_err(ApiError::from_oauth)?;
        let issued = oauth::token(
            &state,
            TokenRequest {
                grant_type: params.owned("grant_type"),
                scope: params.owned("scope"),
                auth,
                code: params.owned("code"),
                redirect_uri: params.owned("redirect_uri"),
                code_verifier: params.owned("code_verifier"),
                refresh_token: params.owned("refresh_token"),
            },
        )
        .await
        .map_err(ApiError::from_oauth)?;
        Ok(TokenResponse::Issued(
            Json(TokenBody {
                access_token: issued.token.into_inner(),
                token_type: "Bearer".into(),
                expires_in: issued.expires_in,
                scope: issued.scopes.join(" "),
                refresh_token: issued.refresh_token.map(|r| r.into_inner()),
            }),
            NO_STORE.into(),
            "no-cache".into(),
        ))
    }

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
        req: &Request,
        state: Data<&AppState>,
        params: OAuthParams<TokenParam>,
    ) -> Result<IntrospectionResponse, ApiError<OAuthEndpoint>> {
        not_ready(&state)?;
        let header = authorization(req);
        oauth::authorize_introspection(
            &state,
            header,
            params.owned("client_id"),
            params.owned("client_secret"),
        )
        .await
        .map_err(ApiError::from_oauth)?;
        let found = oauth::introspect(&state, params.get("token"))
            .await
            .map_err(ApiError::from_oauth)?;
        let iss = Some(base_url(req, &state));
        let body = match found {
            Introspection::Inactive => IntrospectionBody::default(),
            Introspection::AccessToken { claims, user } => IntrospectionBody {
                active: true,
                scope: Some(claims.scope_string()),
                client_id: Some(claims.client_id.clone()),
                username: Some(user.username.as_str().to_owned()),
                sub: Some(user.id.to_string()),
                token_type: Some("Bearer".into()),
                exp: Some(claims.expires_at.unix()),
                iat: Some(claims.issued_at.unix()),
                iss,
                jti: Some(claims.id_hex()),
            },
            Introspection::RefreshToken { record, user } => IntrospectionBody {
                active: true,
                scope: Some(record.scopes.join(" ")),
                client_id: Some(record.client_id.clone()),
                username: Some(user.username.as_str().to_owned()),
                sub: Some(user.id.to_string()),
                token_type: Some("refresh_token".into()),
                exp: Some(record.expires_at),
                iat: Some(record.created_at),
                iss,
                jti: None,
            },
            Introspection::ApiKey { key, owner } => IntrospectionBody {
                active: true,
                scope: Some(key.scopes.join(" ")),
                client_id: None,
                username: Some(owner.username.as_str().to_owned()),
                sub: Some(owner.id.to_string()),
                token_type: Some("api_key".into()),
                exp: key.expires_at,
                iat: Some(key.created_at),
                iss,
                jti: Some(key.id),
            },
        };
        Ok(IntrospectionResponse::Ok(Json(body), NO_STORE.into()))
    }

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
        req: &Request,
        state: Data<&AppState>,
        params: OAuthParams<TokenParam>,
    ) -> Result<RevokeResponse, ApiError<OAuthEndpoint>> {
        not_ready(&state)?;
        let caller = oauth::endpoint_caller(
            &state,
            authorization(req),
            params.owned("client_id"),
            params.owned("client_secret"),
            Permission::UsersWrite,
        )
        .await
        .map_err(ApiError::from_oauth)?;
        oauth::revoke(&state, &caller, params.get("token"))
            .await
            .map_err(ApiError::from_oauth)?;
        Ok(RevokeResponse::Done(NO_STORE.into()))
    }

    /// Authorization server metadata (RFC 8414)
    #[oai(
        path = "/.well-known/oauth-authorization-server",
        method = "get",
        operation_id = "serverMetadata"
    )]
    async fn metadata(
        &self,
        req: &Request,
        state: Data<&AppState>,
    ) -> Result<Json<ServerMetadata>, ApiError<OAuthEndpoint>> {
        not_ready(&state)?;
        let base = base_url(req, &state);
        let scopes = scopes::list(&state)?.into_iter().map(|s| s.name).collect();
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str, ct: Option<&str>, body: &str) -> Result<Vec<(String, String)>, String> {
        read_params::<()>(query, ct, body.as_bytes())
            .map(|p| p.pairs)
            .map_err(|e| e.description)
    }

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded; charset=UTF-8");

    #[test]
    fn three_encodings() {
        let want = vec![
            ("grant_type".to_string(), "client_credentials".to_string()),
            ("scope".to_string(), "a b".to_string()),
        ];
        assert_eq!(
            parse("", FORM, "grant_type=client_credentials&scope=a+b").unwrap(),
            want
        );
        assert_eq!(
            parse(
                "",
                Some("application/json"),
                r#"{"grant_type":"client_credentials","scope":"a b"}"#
            )
            .unwrap(),
            want
        );
        assert_eq!(
            parse("grant_type=client_credentials&scope=a%20b", None, "").unwrap(),
            want
        );
        assert_eq!(
            parse("grant_type=client_credentials", FORM, "scope=a+b").unwrap(),
            want,
            "query and body combine"
        );
    }

    #[test]
    fn repeats_and_bad_bodies_are_refused() {
        assert!(parse("", FORM, "scope=a&scope=b")
            .unwrap_err()
            .contains("more than once"));
        assert!(parse("scope=a", FORM, "scope=b")
            .unwrap_err()
            .contains("more than once"));
        assert!(parse("scope=a", Some("application/json"), r#"{"scope":"b"}"#).is_err());
        assert!(parse("", Some("application/json"), "[1]").is_err());
        assert!(parse("", Some("application/json"), r#"{"scope":1}"#).is_err());
        assert!(parse("", Some("application/json"), "{").is_err());
        assert!(
            parse("", Some("application/json"), r#"{"scope":"a","scope":"b"}"#)
                .unwrap_err()
                .contains("more than once")
        );
        assert!(parse("", Some("text/plain"), "grant_type=x").is_err());
        assert!(parse("", None, "grant_type=x").is_err());
    }

    #[test]
    fn empty_values_are_omitted() {
        assert_eq!(parse("", FORM, "scope=&grant_type=x").unwrap().len(), 1);
        assert_eq!(
            parse(
                "",
                Some("application/json"),
                r#"{"scope":null,"grant_type":"x"}"#
            )
            .unwrap()
            .len(),
            1
        );
    }
}
