//! Validating an authorization request: client and redirect URI first
//! (failures are pages: an unverified client is never redirected to), then
//! everything else (failures go to the client at its redirect URI).

use crate::domain::client::{self, GrantType};
use crate::domain::oauth;
use crate::domain::pkce::{self, Method};
use crate::domain::redirect_uri;
use crate::domain::scope::ScopeSet;
use crate::error::Result;
use crate::service::{live, scopes};
use crate::state::AppState;

use super::{AuthorizeParams, AuthzRequest, Reply, ResponseType, MAX_STATE_LEN};

/// The outcome of validating an authorization request.
pub enum Validation {
    /// Valid: go on to sign-in and consent.
    Valid(Box<AuthzRequest>),
    /// The client or redirect URI cannot be trusted: show this, never redirect.
    Page(String),
    /// Refused: tell the client, at its redirect URI.
    ToClient(Reply),
}

/// Validates an authorization request: client and redirect URI first (failures
/// are pages), then everything else (failures go to the client).
pub fn validate(
    state: &AppState,
    p: &AuthorizeParams,
    own_base: Option<&str>,
    issuer: &str,
) -> Result<Validation> {
    let page = |m: &str| Ok(Validation::Page(m.to_owned()));
    let Some(client_id) = p.client_id.as_deref().filter(|c| !c.is_empty()) else {
        return page("The request names no client (client_id is missing).");
    };
    let found = match client::is_id(client_id) {
        true => live::client(state, client_id)?,
        false => None,
    };
    let Some(client) = found else {
        return page("The application that sent you here is not registered.");
    };
    if !client.enabled {
        return page("The application that sent you here is disabled.");
    }
    let (redirect_uri, given) = match p.redirect_uri.as_deref() {
        Some(uri) => match client
            .redirect_uris
            .iter()
            .any(|r| redirect_uri::matches(r, uri, own_base))
        {
            true => (uri.to_owned(), true),
            false => {
                return page(
                    "The redirect URI in the request is not registered for this application.",
                )
            }
        },
        // RFC 6749 §3.1.2.3: optional only when exactly one is registered.
        None => match client.redirect_uris.as_slice() {
            [only] if only.starts_with('/') => match own_base {
                Some(base) => (format!("{base}{only}"), false),
                None => {
                    return page(
                        "This server does not know its own address here: start it with --public-url to sign in from another host.",
                    )
                }
            },
            [only] => (only.clone(), false),
            [] => return page("This application has no redirect URI registered."),
            _ => {
                return page(
                    "The request has no redirect_uri and the application registered several.",
                )
            }
        },
    };
    if p.state.as_deref().is_some_and(|s| s.len() > MAX_STATE_LEN)
        || p.nonce.as_deref().is_some_and(|s| s.len() > MAX_STATE_LEN)
    {
        return page("The request's state or nonce is too long.");
    }
    let owner = live::user(state, &client.owner_id)?
        .map(|u| u.username.as_str().to_owned())
        .unwrap_or_default();
    let response_type = match p.response_type.as_deref() {
        Some("code") => ResponseType::Code,
        Some("token") => ResponseType::Token,
        _ => ResponseType::Code,
    };
    let mut req = AuthzRequest {
        client: client.clone(),
        issuer: issuer.to_owned(),
        owner,
        response_type,
        redirect_uri,
        redirect_uri_given: given,
        scopes: ScopeSet::default(),
        state: p.state.clone(),
        challenge: None,
        nonce: p.nonce.clone(),
        params: p.clone(),
    };
    let refuse =
        |req: &AuthzRequest, code: &str, m: &str| Ok(Validation::ToClient(req.error(code, m)));
    match p.response_type.as_deref() {
        Some("code") | Some("token") => {}
        None | Some("") => return refuse(&req, "invalid_request", "response_type is required"),
        Some(_) => {
            return refuse(
                &req,
                "unsupported_response_type",
                "response_type must be code or token",
            )
        }
    }
    let grant = match req.response_type {
        ResponseType::Code => GrantType::AuthorizationCode,
        ResponseType::Token => GrantType::Implicit,
    };
    if !client.allows(grant) {
        return refuse(
            &req,
            "unauthorized_client",
            &format!("this application may not use the {grant} grant"),
        );
    }
    let requested = match oauth::parse_scope(p.scope.as_deref()) {
        Ok(r) => r,
        Err(e) => return refuse(&req, "invalid_scope", &e.description),
    };
    req.scopes = match requested {
        Some(r) => match oauth::grant_scopes(Some(r), &client.scopes) {
            Ok(s) => s,
            Err(e) => return refuse(&req, "invalid_scope", &e.description),
        },
        // Absent: the client's scopes that are catalog defaults, else all of them.
        None => {
            let defaults = ScopeSet::from_names(scopes::defaults(state)?);
            let defaults = client.scopes.intersect(&defaults);
            if defaults.is_empty() {
                client.scopes.clone()
            } else {
                defaults
            }
        }
    };
    let public = client.is_public();
    match (&p.code_challenge, req.response_type) {
        (Some(challenge), ResponseType::Code) => {
            let method = match Method::parse(p.code_challenge_method.as_deref()) {
                Ok(m) => m,
                Err(m) => return refuse(&req, "invalid_request", &m),
            };
            if method == Method::Plain && !client.allow_plain_pkce {
                return refuse(
                    &req,
                    "invalid_request",
                    "this application must use code_challenge_method=S256",
                );
            }
            if let Err(m) = pkce::check_format(challenge, "code_challenge") {
                return refuse(&req, "invalid_request", &m);
            }
            req.challenge = Some((challenge.clone(), method));
        }
        (Some(_), ResponseType::Token) => {
            return refuse(
                &req,
                "invalid_request",
                "PKCE applies to response_type=code only",
            )
        }
        (None, ResponseType::Code) if public => {
            return refuse(
                &req,
                "invalid_request",
                "public clients must use PKCE (code_challenge with code_challenge_method=S256)",
            )
        }
        (None, _) => {
            if p.code_challenge_method.is_some() {
                return refuse(
                    &req,
                    "invalid_request",
                    "code_challenge_method without code_challenge",
                );
            }
        }
    }
    Ok(Validation::Valid(Box::new(req)))
}
