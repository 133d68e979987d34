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

use super::{
    AuthorizeParams, AuthzRequest, Prompt, Reply, ResponseMode, ResponseType, MAX_STATE_LEN,
};

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
    let response_type = p
        .response_type
        .as_deref()
        .and_then(ResponseType::parse)
        .unwrap_or(ResponseType::CODE);
    let mut req = AuthzRequest {
        client: client.clone(),
        issuer: issuer.to_owned(),
        owner,
        response_type,
        response_mode: ResponseMode::Default,
        redirect_uri,
        redirect_uri_given: given,
        scopes: ScopeSet::default(),
        state: p.state.clone(),
        challenge: None,
        nonce: p.nonce.clone(),
        prompt: Prompt::default(),
        max_age: None,
        hinted_sub: None,
        params: p.clone(),
    };
    let refuse =
        |req: &AuthzRequest, code: &str, m: &str| Ok(Validation::ToClient(req.error(code, m)));
    req.response_mode = match p.response_mode.as_deref() {
        None => ResponseMode::Default,
        Some("query") if req.response_type.front_channel_tokens() => {
            return refuse(
                &req,
                "invalid_request",
                "response_mode=query cannot carry tokens; use fragment or form_post",
            )
        }
        Some("query") => ResponseMode::Query,
        Some("fragment") => ResponseMode::Fragment,
        Some("form_post") => ResponseMode::FormPost,
        Some(other) => {
            return refuse(
                &req,
                "invalid_request",
                &format!("response_mode {other:?} is not one of query, fragment, form_post"),
            )
        }
    };
    match p.response_type.as_deref().map(str::trim) {
        None | Some("") => return refuse(&req, "invalid_request", "response_type is required"),
        Some(raw) if ResponseType::parse(raw).is_none() => return refuse(
            &req,
            "unsupported_response_type",
            "response_type must be code, token, id_token, or a combination such as code id_token",
        ),
        Some(_) => {}
    }
    let rt = req.response_type;
    let needed = [
        (rt.code, GrantType::AuthorizationCode),
        (rt.front_channel_tokens(), GrantType::Implicit),
    ];
    if let Some((_, grant)) = needed.iter().find(|(n, g)| *n && !client.allows(*g)) {
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
    if rt.id_token && !req.scopes.contains(crate::service::id_token::OPENID) {
        return refuse(
            &req,
            "invalid_scope",
            "response_type id_token needs the openid scope",
        );
    }
    // OIDC Core §3.2.2.1, §3.3.2.11: whenever this endpoint returns an id_token.
    if rt.id_token && req.nonce.is_none() {
        return refuse(
            &req,
            "invalid_request",
            "nonce is required when the authorization endpoint returns an id_token",
        );
    }
    let public = client.is_public();
    match (&p.code_challenge, rt.code) {
        (Some(challenge), true) => {
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
        (Some(_), false) => {
            return refuse(
                &req,
                "invalid_request",
                "PKCE applies to response types with code only",
            )
        }
        (None, true) if public => {
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
    req.prompt = match parse_prompt(p.prompt.as_deref()) {
        Ok(prompt) => prompt,
        Err(m) => return refuse(&req, "invalid_request", &m),
    };
    req.max_age = match p.max_age.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(secs)) if secs >= 0 => Some(secs),
        Some(_) => {
            return refuse(
                &req,
                "invalid_request",
                "max_age must be a non-negative number of seconds",
            )
        }
    };
    if let Some(hint) = p.id_token_hint.as_deref() {
        match hinted_sub(state, issuer, hint) {
            Some(sub) => req.hinted_sub = Some(sub),
            None => {
                return refuse(
                    &req,
                    "invalid_request",
                    "id_token_hint is not an id_token issued by this server",
                )
            }
        }
    }
    Ok(Validation::Valid(Box::new(req)))
}

/// Reads `prompt`: space-separated values; `none` stands alone.
fn parse_prompt(raw: Option<&str>) -> std::result::Result<Prompt, String> {
    let mut prompt = Prompt::default();
    let mut count = 0;
    for value in raw.unwrap_or("").split(' ').filter(|v| !v.is_empty()) {
        count += 1;
        match value {
            "none" => prompt.none = true,
            "login" | "select_account" => prompt.login = true,
            "consent" => prompt.consent = true,
            other => {
                return Err(format!(
                    "prompt {other:?} is not one of none, login, consent, select_account"
                ))
            }
        }
    }
    if prompt.none && count > 1 {
        return Err("prompt=none cannot be combined with other values".into());
    }
    Ok(prompt)
}

/// The `sub` of an id_token this server signed for `issuer`.
fn hinted_sub(state: &AppState, issuer: &str, hint: &str) -> Option<String> {
    crate::service::id_token::verify_own(state, issuer, hint)?
        .get("sub")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_values_are_read_strictly() {
        assert_eq!(parse_prompt(None), Ok(Prompt::default()));
        let p = parse_prompt(Some("login consent")).unwrap();
        assert!(p.login && p.consent && !p.none);
        assert!(parse_prompt(Some("select_account")).unwrap().login);
        assert!(parse_prompt(Some("none")).unwrap().none);
        assert!(parse_prompt(Some("none login")).is_err());
        assert!(parse_prompt(Some("sometimes")).is_err());
    }
}
