//! Typed requests to the OAuth endpoints, so a test names the grant and the
//! client authentication instead of spelling out the form each time:
//! `server.token(app.auth(), Grant::refresh(&rt))`, `server.introspect(…)`,
//! `server.revoke(…)`, `server.metadata()`.

use reqwest::{Response, StatusCode};
use serde_json::Value;

use super::{expect_json, TestServer, ADMIN};

/// A registered client's credentials: its id and, if confidential, its secret.
#[derive(Clone, Debug)]
pub struct OAuthClient {
    pub id: String,
    pub secret: Option<String>,
}

impl OAuthClient {
    /// The id and secret of a credentials document (create or new secret).
    pub fn of(doc: &Value) -> OAuthClient {
        OAuthClient {
            id: doc["client_id"].as_str().expect("client_id").to_owned(),
            secret: doc["client_secret"].as_str().map(str::to_owned),
        }
    }

    /// The secret of a confidential client.
    pub fn secret(&self) -> &str {
        self.secret
            .as_deref()
            .expect("a confidential client's secret")
    }

    /// How this client authenticates unless a test says otherwise:
    /// `client_secret_basic` with a secret, its bare `client_id` (`none`) without.
    pub fn auth(&self) -> ClientAuth<'_> {
        match &self.secret {
            Some(secret) => ClientAuth::Basic(&self.id, secret),
            None => ClientAuth::PublicId(&self.id),
        }
    }

    /// `client_secret_basic`.
    pub fn basic(&self) -> ClientAuth<'_> {
        ClientAuth::Basic(&self.id, self.secret())
    }

    /// `client_secret_post`.
    pub fn post(&self) -> ClientAuth<'_> {
        ClientAuth::Post(&self.id, self.secret())
    }
}

/// Who calls an OAuth endpoint, and how (RFC 6749 §2.3.1).
#[derive(Clone, Copy, Debug)]
pub enum ClientAuth<'a> {
    /// `Authorization: Basic user:password`: `client_secret_basic`, or a
    /// user's credentials (the admin, a member), or `client_id:` with an empty
    /// password as libraries send a public client.
    Basic(&'a str, &'a str),
    /// `client_secret_post`: `client_id` and `client_secret` in the body.
    Post(&'a str, &'a str),
    /// A public client (`none`): only `client_id` in the body.
    PublicId(&'a str),
    /// `Authorization: Bearer …`, e.g. an API key that may introspect.
    Bearer(&'a str),
    /// No credentials at all.
    Anonymous,
}

impl ClientAuth<'static> {
    /// The bootstrap admin's Basic credentials.
    pub const ADMIN: ClientAuth<'static> = ClientAuth::Basic(ADMIN.0, ADMIN.1);
}

/// A token request's grant and its parameters (RFC 6749 §4.1.3, §4.4.2, §6).
#[derive(Clone, Copy, Debug)]
pub enum Grant<'a> {
    ClientCredentials {
        scope: Option<&'a str>,
    },
    AuthorizationCode {
        code: &'a str,
        redirect_uri: &'a str,
        code_verifier: Option<&'a str>,
    },
    RefreshToken {
        refresh_token: &'a str,
        scope: Option<&'a str>,
    },
}

impl<'a> Grant<'a> {
    /// `client_credentials` for every scope the client has.
    pub fn client_credentials() -> Grant<'a> {
        Grant::ClientCredentials { scope: None }
    }

    /// `authorization_code` without a verifier (add one with [`Grant::verifier`]).
    pub fn code(code: &'a str, redirect_uri: &'a str) -> Grant<'a> {
        Grant::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier: None,
        }
    }

    /// `refresh_token` for the scopes the grant has.
    pub fn refresh(refresh_token: &'a str) -> Grant<'a> {
        Grant::RefreshToken {
            refresh_token,
            scope: None,
        }
    }

    /// The same grant asking for `scope`.
    pub fn scope(self, wanted: &'a str) -> Grant<'a> {
        match self {
            Grant::ClientCredentials { .. } => Grant::ClientCredentials {
                scope: Some(wanted),
            },
            Grant::RefreshToken { refresh_token, .. } => Grant::RefreshToken {
                refresh_token,
                scope: Some(wanted),
            },
            Grant::AuthorizationCode { .. } => panic!("a code grant takes no scope"),
        }
    }

    /// The same code grant with a PKCE `code_verifier`.
    pub fn verifier(self, verifier: &'a str) -> Grant<'a> {
        match self {
            Grant::AuthorizationCode {
                code, redirect_uri, ..
            } => Grant::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier: Some(verifier),
            },
            other => panic!("only a code grant has a verifier: {other:?}"),
        }
    }

    /// The form parameters, `grant_type` first.
    pub fn params(&self) -> Vec<(&'static str, &'a str)> {
        let mut p = Vec::new();
        match *self {
            Grant::ClientCredentials { scope } => {
                p.push(("grant_type", "client_credentials"));
                p.extend(scope.map(|s| ("scope", s)));
            }
            Grant::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                p.push(("grant_type", "authorization_code"));
                p.push(("code", code));
                p.push(("redirect_uri", redirect_uri));
                p.extend(code_verifier.map(|v| ("code_verifier", v)));
            }
            Grant::RefreshToken {
                refresh_token,
                scope,
            } => {
                p.push(("grant_type", "refresh_token"));
                p.push(("refresh_token", refresh_token));
                p.extend(scope.map(|s| ("scope", s)));
            }
        }
        p
    }
}

impl TestServer {
    /// `POST path` (an OAuth endpoint) with `params` as a form body, and
    /// `auth` as the header or the body's client fields.
    pub async fn oauth_form(
        &self,
        path: &str,
        auth: ClientAuth<'_>,
        params: &[(&str, &str)],
    ) -> Response {
        let mut form: Vec<(&str, &str)> = params.to_vec();
        let mut req = self.post(path);
        match auth {
            ClientAuth::Basic(user, password) => req = req.basic_auth(user, Some(password)),
            ClientAuth::Bearer(token) => req = req.bearer_auth(token),
            ClientAuth::Post(id, secret) => {
                form.push(("client_id", id));
                form.push(("client_secret", secret));
            }
            ClientAuth::PublicId(id) => form.push(("client_id", id)),
            ClientAuth::Anonymous => {}
        }
        req.form(&form).send().await.expect("the server answers")
    }

    /// `POST /oauth/token` for `grant`.
    pub async fn token(&self, auth: ClientAuth<'_>, grant: Grant<'_>) -> Response {
        self.oauth_form("/oauth/token", auth, &grant.params()).await
    }

    /// [`TestServer::token`], expecting 200; returns the token response.
    pub async fn token_json(&self, auth: ClientAuth<'_>, grant: Grant<'_>) -> Value {
        expect_json(self.token(auth, grant).await, StatusCode::OK).await
    }

    /// `POST /oauth/introspect` for `token`.
    pub async fn introspect(&self, auth: ClientAuth<'_>, token: &str) -> Response {
        self.oauth_form("/oauth/introspect", auth, &[("token", token)])
            .await
    }

    /// [`TestServer::introspect`], expecting 200; returns what it says.
    pub async fn introspect_json(&self, auth: ClientAuth<'_>, token: &str) -> Value {
        expect_json(self.introspect(auth, token).await, StatusCode::OK).await
    }

    /// `POST /oauth/revoke` for `token`.
    pub async fn revoke(&self, auth: ClientAuth<'_>, token: &str) -> Response {
        self.oauth_form("/oauth/revoke", auth, &[("token", token)])
            .await
    }

    /// `GET /.well-known/oauth-authorization-server`, expecting 200.
    pub async fn metadata(&self) -> Value {
        let resp = self
            .get("/.well-known/oauth-authorization-server")
            .send()
            .await
            .expect("the server answers");
        expect_json(resp, StatusCode::OK).await
    }
}
