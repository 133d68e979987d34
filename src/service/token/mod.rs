//! `POST /oauth/token`: the request typed once into a [`Grant`], then one file
//! per grant type.
//!
//! Checks run in a fixed order, so a request with several faults always gets
//! the same error: `grant_type` (RFC 6749 §5.2 `invalid_request`,
//! `unsupported_grant_type`), client authentication (`invalid_client`), the
//! `scope` parameter (`invalid_scope`), whether the client registered the grant
//! (`unauthorized_client`), then the grant's own parameters.

mod authorization_code;
mod client_credentials;
mod password;
pub mod refresh_token;
pub(crate) mod user_grant;

use crate::domain::client::GrantType;
use crate::domain::oauth::{self, OAuthErrorCode as Code};
use crate::domain::scope::ScopeSet;
use crate::error::{Error, Result};
use crate::secret::Redacted;
use crate::service::access_token::{IssuedToken, Recipient};
use crate::service::client_auth::{self, ClientAuth};
use crate::state::AppState;

/// A token request's grant with the parameters it needs, and nothing else.
#[derive(Debug, PartialEq, Eq)]
pub enum Grant {
    /// RFC 6749 §4.4: the client acting as its owner.
    ClientCredentials { scope: Option<ScopeSet> },
    /// RFC 6749 §4.1.3 with RFC 7636's verifier.
    AuthorizationCode {
        code: String,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
    },
    /// RFC 6749 §6, with rotation.
    RefreshToken {
        refresh_token: String,
        scope: Option<ScopeSet>,
    },
    /// RFC 6749 §4.3: the user's own username and password.
    Password {
        username: String,
        password: Redacted<String>,
        scope: Option<ScopeSet>,
    },
}

impl Grant {
    /// Types the grant's parameters (`param` reads one by name; empty values
    /// are absent). `kind` and `scope` have been read already.
    fn read(
        kind: GrantType,
        scope: Option<ScopeSet>,
        param: &impl Fn(&str) -> Option<String>,
    ) -> Result<Grant> {
        let required = |name: &str| {
            param(name)
                .ok_or_else(|| Error::oauth(Code::InvalidRequest, format!("{name} is required")))
        };
        Ok(match kind {
            GrantType::ClientCredentials => Grant::ClientCredentials { scope },
            GrantType::AuthorizationCode => Grant::AuthorizationCode {
                code: required("code")?,
                redirect_uri: param("redirect_uri"),
                code_verifier: param("code_verifier"),
            },
            GrantType::RefreshToken => Grant::RefreshToken {
                refresh_token: required("refresh_token")?,
                scope,
            },
            GrantType::Password => Grant::Password {
                username: required("username")?,
                password: Redacted::new(required("password")?),
                scope,
            },
            GrantType::Implicit => return Err(unsupported("implicit")),
        })
    }
}

fn unsupported(grant: &str) -> Error {
    Error::oauth(
        Code::UnsupportedGrantType,
        format!("this server does not support the grant type {grant:?}; it supports authorization_code, client_credentials, refresh_token and password"),
    )
}

/// The token endpoint's grant types (implicit is the authorization endpoint's).
fn grant_type(raw: Option<&str>) -> Result<GrantType> {
    match raw {
        None | Some("") => Err(Error::oauth(Code::InvalidRequest, "grant_type is required")),
        Some(g) => GrantType::parse(g)
            .filter(|g| *g != GrantType::Implicit)
            .ok_or_else(|| unsupported(g)),
    }
}

/// `POST /oauth/token`: `param` reads the request's parameters by name.
pub async fn token(
    state: &AppState,
    auth: ClientAuth,
    issuer: &str,
    param: impl Fn(&str) -> Option<String>,
) -> Result<IssuedToken> {
    let kind = grant_type(param("grant_type").as_deref())?;
    let client = client_auth::authenticate_client(state, &auth)?;
    let scope = oauth::parse_scope(param("scope").as_deref())?;
    // RFC 8707: a token for one of the client's audiences.
    let resource = param("resource");
    if let Some(r) = &resource {
        if !client.token_audience().contains(r) {
            return Err(Error::oauth(
                Code::InvalidTarget,
                format!("the resource {r:?} is not among this client's audience"),
            ));
        }
    }
    let to = Recipient {
        issuer,
        resource: resource.as_deref(),
    };
    if !client.allows(kind) {
        return Err(Error::oauth(
            Code::UnauthorizedClient,
            format!("this client may not use the {kind} grant (see its grant_types)"),
        ));
    }
    match Grant::read(kind, scope, &param)? {
        Grant::ClientCredentials { scope } => {
            client_credentials::issue(state, &to, &client, scope).await
        }
        Grant::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            let presented = authorization_code::Presented {
                code: &code,
                redirect_uri: redirect_uri.as_deref(),
                code_verifier: code_verifier.as_deref(),
            };
            authorization_code::redeem(state, &client, &to, presented).await
        }
        Grant::RefreshToken {
            refresh_token,
            scope,
        } => refresh_token::refresh(state, &client, &to, &refresh_token, scope).await,
        Grant::Password {
            username,
            password,
            scope,
        } => password::issue(state, &client, &to, &username, password, scope).await,
    }
}

/// client_credentials without a token request (minted tokens, test control).
pub(crate) async fn for_client(
    state: &AppState,
    to: &Recipient<'_>,
    client: &crate::domain::client::Client,
    scope: Option<ScopeSet>,
) -> Result<IssuedToken> {
    client_credentials::issue(state, to, client, scope).await
}

/// The access token of a user's grant (a code or a refresh): the client's
/// format, the user's claims, none of the client's own.
async fn user_token(
    state: &AppState,
    to: &Recipient<'_>,
    client: &crate::domain::client::Client,
    acting: crate::service::access_token::Acting<'_>,
    scopes: ScopeSet,
    family: [u8; 16],
) -> Result<IssuedToken> {
    crate::service::access_token::mint(state, to, acting, client, scopes, Some(family)).await
}

fn invalid_grant(description: impl Into<String>) -> Error {
    Error::oauth(Code::InvalidGrant, description)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn code_of(e: Error) -> Code {
        match e {
            Error::OAuth(e) => e.code,
            other => panic!("not an OAuth error: {other}"),
        }
    }

    #[test]
    fn grant_types_are_read_strictly() {
        assert_eq!(
            grant_type(Some("client_credentials")).unwrap(),
            GrantType::ClientCredentials
        );
        assert_eq!(code_of(grant_type(None).unwrap_err()), Code::InvalidRequest);
        assert_eq!(
            code_of(grant_type(Some("")).unwrap_err()),
            Code::InvalidRequest
        );
        for bad in ["implicit", "CLIENT_CREDENTIALS"] {
            assert_eq!(
                code_of(grant_type(Some(bad)).unwrap_err()),
                Code::UnsupportedGrantType,
                "{bad}"
            );
        }
    }

    #[test]
    fn each_grant_takes_only_its_parameters() {
        let p = params(&[
            ("code", "lk_ac_x"),
            ("code_verifier", "v"),
            ("refresh_token", "r"),
        ]);
        assert_eq!(
            Grant::read(GrantType::AuthorizationCode, None, &p).unwrap(),
            Grant::AuthorizationCode {
                code: "lk_ac_x".into(),
                redirect_uri: None,
                code_verifier: Some("v".into()),
            }
        );
        let scope = ScopeSet::parse("read").ok();
        assert_eq!(
            Grant::read(GrantType::RefreshToken, scope.clone(), &p).unwrap(),
            Grant::RefreshToken {
                refresh_token: "r".into(),
                scope: scope.clone(),
            }
        );
        assert_eq!(
            Grant::read(GrantType::ClientCredentials, scope.clone(), &p).unwrap(),
            Grant::ClientCredentials { scope }
        );
    }

    #[test]
    fn a_missing_grant_parameter_is_named() {
        let none = params(&[]);
        for (kind, name) in [
            (GrantType::AuthorizationCode, "code"),
            (GrantType::RefreshToken, "refresh_token"),
        ] {
            match Grant::read(kind, None, &none).unwrap_err() {
                Error::OAuth(e) => {
                    assert_eq!(e.code, Code::InvalidRequest);
                    assert_eq!(e.description, format!("{name} is required"));
                }
                other => panic!("{other}"),
            }
        }
    }
}
