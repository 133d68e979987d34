//! The authorization endpoint's rules (RFC 6749 §4.1, §4.2, RFC 7636, RFC 8252):
//! the request and its reply here; validating a request in `request`, the
//! browser session and login with backoff in `session`, consent and issuing
//! the code or (implicit) token in `consent`, and which page (if any) comes
//! next in `next`.
//!
//! A request is validated from scratch at every step (the first GET, the login
//! form, the consent form), so nothing but the session lives on the server
//! between pages.

mod consent;
mod next;
mod request;
pub(crate) mod session;

use std::sync::Arc;

use crate::domain::client::Client;
use crate::domain::pkce::Method;
use crate::domain::redirect_uri::{OOB, OOB_AUTO};
use crate::domain::scope::ScopeSet;

pub use consent::{approve, deny, describe_scopes, needs_consent};
pub use next::{first, signed_in, Next};
pub use request::{validate, Validation};
pub use session::{
    check_csrf, csrf_token, login, logout, new_cookie_value, session, session_user, Login, Session,
};

/// How long a code may wait to be redeemed (RFC 6749 §4.1.2: at most 10 minutes).
pub const CODE_TTL: i64 = 600;
/// How long a browser session lasts.
pub const SESSION_TTL: i64 = 12 * 3600;
/// Longest `state` / `nonce` echoed.
pub const MAX_STATE_LEN: usize = 2048;

/// The authorization request's parameters, as received.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub nonce: Option<String>,
    /// OIDC Core §3.1.2.1: `none`, `login`, `consent`, `select_account`.
    pub prompt: Option<String>,
    /// OIDC: the longest time since sign-in accepted, in seconds.
    pub max_age: Option<String>,
    /// OIDC: prefills the username.
    pub login_hint: Option<String>,
    /// OIDC: an id_token of this server naming who should be signed in.
    pub id_token_hint: Option<String>,
    pub response_mode: Option<String>,
}

/// What the request's `prompt` asks for (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    /// `none`: never show a page; answer the client with an error instead.
    pub none: bool,
    /// `login` or `select_account`: ask for the password even with a session.
    pub login: bool,
    /// `consent`: ask again even when consent is remembered.
    pub consent: bool,
}

/// `response_type` (RFC 6749 §3.1.1, OAuth 2.0 Multiple Response Types):
/// which of a code, an access token and an id_token the endpoint returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResponseType {
    pub code: bool,
    pub token: bool,
    pub id_token: bool,
}

impl ResponseType {
    pub const CODE: ResponseType = ResponseType {
        code: true,
        token: false,
        id_token: false,
    };

    /// `code`, `token`, `id_token` and their combinations, each value once.
    pub fn parse(raw: &str) -> Option<ResponseType> {
        let mut rt = ResponseType::default();
        for value in raw.split(' ').filter(|v| !v.is_empty()) {
            let slot = match value {
                "code" => &mut rt.code,
                "token" => &mut rt.token,
                "id_token" => &mut rt.id_token,
                _ => return None,
            };
            if *slot {
                return None;
            }
            *slot = true;
        }
        (rt != ResponseType::default()).then_some(rt)
    }

    /// Whether tokens come back through the browser (never in a query).
    pub fn front_channel_tokens(self) -> bool {
        self.token || self.id_token
    }
}

/// `response_mode` (OAuth 2.0 Multiple Response Type Encoding Practices,
/// Form Post Response Mode); `Default`: query for codes, fragment for tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ResponseMode {
    #[default]
    Default,
    Query,
    Fragment,
    FormPost,
}

/// Where and how the result goes back to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// `redirect_uri?…` (code).
    Query(String),
    /// `redirect_uri#…` (implicit).
    Fragment(String),
    /// An HTML page that posts the result to `redirect_uri` (OAuth 2.0 Form
    /// Post Response Mode).
    FormPost(String),
    /// A page whose title carries the result; `auto`: the app reads it itself.
    OutOfBand { auto: bool },
}

/// A result (or error) for the client, with its parameters in order.
#[derive(Clone)] // no Debug: holds the code or the access token
pub struct Reply {
    pub delivery: Delivery,
    pub params: Vec<(&'static str, String)>,
    /// An error reply (the page says so).
    pub is_error: bool,
}

impl Reply {
    /// The URL to redirect to, unless the delivery is out of band.
    pub fn location(&self) -> Option<String> {
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.params.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        match &self.delivery {
            Delivery::Query(uri) => {
                let sep = if uri.contains('?') { '&' } else { '?' };
                Some(format!("{uri}{sep}{encoded}"))
            }
            Delivery::Fragment(uri) => Some(format!("{uri}#{encoded}")),
            Delivery::FormPost(_) | Delivery::OutOfBand { .. } => None,
        }
    }

    /// The issuer that answered (RFC 9207 `iss`).
    pub fn issuer(&self) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| *k == "iss")
            .map(|(_, v)| v.as_str())
    }

    /// `code=…&state=…` for the out-of-band page title (without `iss`).
    pub fn title_params(&self) -> String {
        self.params
            .iter()
            .filter(|(k, _)| *k != "iss")
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// A validated authorization request.
#[derive(Debug, Clone)]
pub struct AuthzRequest {
    pub client: Arc<Client>,
    /// This server's issuer identifier: every reply carries it (RFC 9207).
    pub issuer: String,
    /// The owner's username, for the consent page.
    pub owner: String,
    pub response_type: ResponseType,
    pub response_mode: ResponseMode,
    pub redirect_uri: String,
    pub redirect_uri_given: bool,
    pub scopes: ScopeSet,
    pub state: Option<String>,
    pub challenge: Option<(String, Method)>,
    pub nonce: Option<String>,
    pub prompt: Prompt,
    /// Seconds since sign-in beyond which the user signs in again.
    pub max_age: Option<i64>,
    /// The `sub` of a valid `id_token_hint`.
    pub hinted_sub: Option<String>,
    /// The parameters to carry through the login and consent forms.
    pub params: AuthorizeParams,
}

impl AuthzRequest {
    fn delivery(&self) -> Delivery {
        match self.redirect_uri.as_str() {
            OOB => Delivery::OutOfBand { auto: false },
            OOB_AUTO => Delivery::OutOfBand { auto: true },
            uri => match (self.response_mode, self.response_type) {
                (ResponseMode::FormPost, _) => Delivery::FormPost(uri.to_owned()),
                (ResponseMode::Query, _) => Delivery::Query(uri.to_owned()),
                (ResponseMode::Default, rt) if !rt.front_channel_tokens() => {
                    Delivery::Query(uri.to_owned())
                }
                (ResponseMode::Fragment | ResponseMode::Default, _) => {
                    Delivery::Fragment(uri.to_owned())
                }
            },
        }
    }

    /// An error for the client (RFC 6749 §4.1.2.1), with the state echoed.
    pub fn error(&self, code: &str, description: &str) -> Reply {
        let mut params = vec![
            ("error", code.to_owned()),
            ("error_description", description.to_owned()),
        ];
        if let Some(s) = &self.state {
            params.push(("state", s.clone()));
        }
        params.push(("iss", self.issuer.clone()));
        Reply {
            delivery: self.delivery(),
            params,
            is_error: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_encode_their_parameters() {
        let r = Reply {
            delivery: Delivery::Query("https://a.example/cb?x=1".into()),
            params: vec![
                ("code", "lk_ac_x".into()),
                ("state", "a b&c".into()),
                ("iss", "http://i.test".into()),
            ],
            is_error: false,
        };
        assert_eq!(
            r.location().unwrap(),
            "https://a.example/cb?x=1&code=lk_ac_x&state=a+b%26c&iss=http%3A%2F%2Fi.test"
        );
        let r = Reply {
            delivery: Delivery::Fragment("http://127.0.0.1:9/cb".into()),
            ..r
        };
        assert_eq!(
            r.location().unwrap(),
            "http://127.0.0.1:9/cb#code=lk_ac_x&state=a+b%26c&iss=http%3A%2F%2Fi.test"
        );
        let r = Reply {
            delivery: Delivery::OutOfBand { auto: false },
            ..r
        };
        assert_eq!(r.location(), None);
        assert_eq!(r.title_params(), "code=lk_ac_x&state=a b&c");
        assert_eq!(r.issuer(), Some("http://i.test"));
    }
}
