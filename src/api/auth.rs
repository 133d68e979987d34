//! The credential extractor every `/api/v1` operation takes.
//!
//! `Authorized<R>` reads `Authorization` itself (one extractor for every scheme,
//! rather than poem-openapi's scheme enum, which reports the wrong variant's error
//! and swallows bad credentials, poem #726/#870), authenticates it through
//! `service::authn`, and checks `R`'s permission before the handler runs. The
//! permission is part of the handler's signature, so an operation cannot forget
//! its check, and the check happens before any lookup of the resource.

use std::marker::PhantomData;

use poem::http::header::AUTHORIZATION;
use poem::{Request, RequestBody};
use poem_openapi::registry::{
    MetaOAuthFlow, MetaOAuthFlows, MetaOAuthScope, MetaSecurityScheme, Registry,
};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};

use super::error::{bearer_challenge, ApiError, AuthOnly};
use crate::domain::access::{AuthMethod, Denied, Permission, Principal};
use crate::domain::scope::builtin_description;
use crate::error::Error;
use crate::service::authn;
use crate::state::AppState;

/// Name of the Basic scheme in the OpenAPI document.
pub const BASIC_SCHEME: &str = "basicAuth";
/// Name of the Bearer scheme (API keys, access tokens) in the OpenAPI document.
pub const BEARER_SCHEME: &str = "bearerAuth";
/// Name of the OAuth 2.0 scheme (Swagger UI fetches a token itself).
pub const OAUTH_SCHEME: &str = "oauth2";
/// Name of the OpenID Connect scheme (its flows come from discovery).
pub const OIDC_SCHEME: &str = "openIdConnect";

/// What an operation needs, as a type.
pub trait Requirement: Send + Sync + 'static {
    /// `None`: any valid credential will do.
    const PERMISSION: Option<Permission>;
}

macro_rules! requirements {
    ($($(#[$doc:meta])* $name:ident => $perm:expr;)*) => {$(
        $(#[$doc])*
        pub struct $name;
        impl Requirement for $name {
            const PERMISSION: Option<Permission> = $perm;
        }
    )*};
}

requirements! {
    /// Any valid credential (`/users/me`).
    AnyCredential => None;
    /// `users:read`: admins reading users.
    UsersRead => Some(Permission::UsersRead);
    /// `users:write`: admins changing users.
    UsersWrite => Some(Permission::UsersWrite);
    /// `keys:read`: reading API keys.
    KeysRead => Some(Permission::KeysRead);
    /// `keys:write`: creating and changing API keys.
    KeysWrite => Some(Permission::KeysWrite);
    /// `scopes:write`: changing the scope catalog.
    ScopesWrite => Some(Permission::ScopesWrite);
    /// `clients:read`: reading OAuth clients.
    ClientsRead => Some(Permission::ClientsRead);
    /// `clients:write`: registering and changing OAuth clients.
    ClientsWrite => Some(Permission::ClientsWrite);
    /// `realms:read`: listing realms.
    RealmsRead => Some(Permission::RealmsRead);
    /// `realms:write`: creating and deleting realms.
    RealmsWrite => Some(Permission::RealmsWrite);
    /// `test:control`: the realm's clock, minted tokens.
    TestControl => Some(Permission::TestControl);
}

fn builtin_scopes() -> Vec<MetaOAuthScope> {
    Permission::ALL
        .into_iter()
        .map(|p| MetaOAuthScope {
            name: p.scope(),
            description: Some(builtin_description(p)),
        })
        .collect()
}

/// An authenticated caller allowed to perform `R`.
pub struct Authorized<R: Requirement> {
    pub principal: Principal,
    _requirement: PhantomData<R>,
}

impl<'a, R: Requirement> ApiExtractor<'a> for Authorized<R> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        registry.create_security_scheme(
            BASIC_SCHEME,
            MetaSecurityScheme {
                ty: "http",
                description: Some(
                    "A latchkey user's username and password (off with `--no-basic-auth`).",
                ),
                name: None,
                key_in: None,
                scheme: Some("basic"),
                bearer_format: None,
                flows: None,
                openid_connect_url: None,
            },
        );
        registry.create_security_scheme(
            BEARER_SCHEME,
            MetaSecurityScheme {
                ty: "http",
                description: Some(
                    "An API key (`lk_key_…`) or an access token (`lk_at_…`), as `Authorization: Bearer`. Access tokens are also accepted as `Authorization: OAuth <token>`.",
                ),
                name: None,
                key_in: None,
                scheme: Some("bearer"),
                bearer_format: Some("lk_key_… | lk_at_…"),
                flows: None,
                openid_connect_url: None,
            },
        );
        registry.create_security_scheme(
            OAUTH_SCHEME,
            MetaSecurityScheme {
                ty: "oauth2",
                description: Some(
                    "Sign in as a latchkey user (authorization code with PKCE, client_id `swagger-ui`, no secret), or give an OAuth client's id and secret (client_credentials; leave the scopes unticked to get all of the client's). Swagger UI then sends the access token as Bearer.",
                ),
                name: None,
                key_in: None,
                scheme: None,
                bearer_format: None,
                flows: Some(MetaOAuthFlows {
                    implicit: None,
                    password: None,
                    client_credentials: Some(MetaOAuthFlow {
                        authorization_url: None,
                        token_url: Some("/oauth/token"),
                        refresh_url: None,
                        scopes: builtin_scopes(),
                    }),
                    authorization_code: Some(MetaOAuthFlow {
                        authorization_url: Some("/oauth/authorize"),
                        token_url: Some("/oauth/token"),
                        refresh_url: Some("/oauth/token"),
                        scopes: builtin_scopes(),
                    }),
                }),
                openid_connect_url: None,
            },
        );
        registry.create_security_scheme(
            OIDC_SCHEME,
            MetaSecurityScheme {
                ty: "openIdConnect",
                description: Some(
                    "OpenID Connect: the flows and endpoints of this server's discovery document. An access token granted with openid is accepted like any other.",
                ),
                name: None,
                key_in: None,
                scheme: None,
                bearer_format: None,
                flows: None,
                openid_connect_url: Some("/.well-known/openid-configuration"),
            },
        );
    }

    fn security_schemes() -> Vec<&'static str> {
        vec![BASIC_SCHEME, BEARER_SCHEME, OAUTH_SCHEME, OIDC_SCHEME]
    }

    async fn from_request(
        req: &'a Request,
        _body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let state = req.data::<AppState>().ok_or_else(|| {
            ApiError::<AuthOnly>::from(Error::Internal("AppState missing from the route".into()))
        })?;
        let header = req.headers().get(AUTHORIZATION).map(|v| v.as_bytes());
        let principal = authn::authenticate(state, header)
            .await
            .map_err(|e| ApiError::<AuthOnly>::from_error(e, state.config.basic_auth))?;
        if let Some(needed) = R::PERMISSION {
            principal.require(needed).map_err(|d| {
                let bearer = !matches!(principal.method, AuthMethod::Basic);
                let err = ApiError::<AuthOnly>::from(Error::from(d.clone()));
                match d {
                    // RFC 6750 §3.1: tell a bearer client which scope it lacks.
                    Denied::Scope(p) if bearer => err.with_challenge(bearer_challenge(
                        Some("insufficient_scope"),
                        Some(p.scope()),
                    )),
                    _ => err,
                }
            })?;
        }
        Ok(Authorized {
            principal,
            _requirement: PhantomData,
        })
    }
}
