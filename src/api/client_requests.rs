//! What a client registration (`POST /api/v1/clients`) and an update
//! (`PATCH /api/v1/clients/{client_id}`) send; the endpoints are in `clients.rs`.

use poem_openapi::types::{Any, MaybeUndefined};
use poem_openapi::Object;

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct CreateClient {
    /// Your own client id (3–128 letters, digits, `-`, `.`, `_`, `~`); without
    /// one, a `cli_…` id is generated. A taken id is 409 `client_id_taken`.
    pub client_id: Option<String>,
    /// What the application is called, 1–100 characters.
    pub name: String,
    /// `confidential` (a web app with a secret) or `public` (an installed app, no secret).
    #[oai(rename = "type")]
    pub client_type: String,
    /// Where the authorization endpoint may send the user back. Confidential
    /// clients: `https://`, or `http://` on loopback. Public clients also
    /// `urn:ietf:wg:oauth:2.0:oob`, `urn:ietf:wg:oauth:2.0:oob:auto` and
    /// reverse-domain private-use schemes. No fragments.
    pub redirect_uris: Option<Vec<String>>,
    /// Default: `authorization_code`, `client_credentials`, `refresh_token` for
    /// confidential clients; `authorization_code`, `refresh_token` for public ones.
    pub grant_types: Option<Vec<String>>,
    /// Catalog scopes the client may request. Default: the catalog's default
    /// scopes; members may not ask for more, client-admins and admins may.
    pub scopes: Option<Vec<String>>,
    /// 1 s to 30 days; default: the server's `--access-token-ttl`.
    pub access_token_ttl_seconds: Option<i64>,
    /// First-party application: no consent page (client-admins and admins only). Default false.
    pub skip_consent: Option<bool>,
    /// Accept PKCE `plain` (else only `S256`). Default false.
    pub allow_plain_pkce: Option<bool>,
    /// How its id_tokens are signed: `RS256` (default), `ES256` or `EdDSA`.
    pub id_token_signed_response_alg: Option<String>,
    /// Where `/oauth/logout` may send the browser back to (exact match).
    #[oai(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// `opaque` (default: `lk_at_…`) or `jwt` (RFC 9068).
    pub access_token_format: Option<String>,
    /// For `jwt`: `RS256` (default), `ES256` or `EdDSA`.
    pub access_token_signed_response_alg: Option<String>,
    /// The JWT access tokens' `aud` (default: the client id).
    #[oai(default)]
    pub audience: Vec<String>,
    /// Custom claims (a JSON object, ≤ 8 KiB, no registered names) for its
    /// client_credentials JWT access tokens.
    pub claims: Option<Any<serde_json::Value>>,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct UpdateClient {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    /// `null` returns to the server default.
    pub access_token_ttl_seconds: MaybeUndefined<i64>,
    pub skip_consent: Option<bool>,
    pub allow_plain_pkce: Option<bool>,
    /// How its id_tokens are signed: `RS256` (default), `ES256` or `EdDSA`.
    pub id_token_signed_response_alg: Option<String>,
    /// Replaces the list of post-logout redirect URIs.
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// `opaque` or `jwt`.
    pub access_token_format: Option<String>,
    /// For `jwt`: `RS256`, `ES256` or `EdDSA`.
    pub access_token_signed_response_alg: Option<String>,
    /// Replaces the audience list.
    pub audience: Option<Vec<String>>,
    /// Replaces the custom claims as a whole.
    pub claims: Option<Any<serde_json::Value>>,
}
