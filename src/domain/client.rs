//! OAuth clients: identifiers, secrets, types, grant types, lifetimes and the
//! rules for registering redirect URIs.

use std::collections::BTreeSet;
use std::fmt;

use super::jwt::Alg;
use super::redirect_uri::{RedirectUri, UriKind};
use super::scope::ScopeSet;
use super::time::Timestamp;
/// Longest name accepted.
pub const MAX_NAME_LEN: usize = 100;
/// Most redirect URIs one client may register.
pub const MAX_REDIRECT_URIS: usize = 20;
/// Most scopes one client may carry.
pub const MAX_SCOPES: usize = 64;
/// Shortest and longest access-token lifetime a client may set (1 s .. 30 days).
pub const MIN_TTL_SECONDS: i64 = 1;
pub const MAX_TTL_SECONDS: i64 = 30 * 24 * 3600;

/// The built-in public client Swagger UI signs in with (made at start).
pub const SWAGGER_UI_CLIENT_ID: &str = "swagger-ui";

/// A client's id: 1–128 characters of RFC 3986's unreserved set (generated
/// ones are `cli_` + 24 hex digits; the built-in `swagger-ui` and seeded ones
/// are chosen).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(String);

impl ClientId {
    /// `cli_` + 24 hex digits from 12 random bytes.
    pub fn from_random(bytes: [u8; 12]) -> ClientId {
        let mut s = String::from("cli_");
        for b in bytes {
            s.push_str(&format!("{b:02x}"));
        }
        ClientId(s)
    }

    /// The id, if `s` could be one; anything else is refused without a lookup.
    pub fn parse(s: &str) -> Option<ClientId> {
        is_id(s).then(|| ClientId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for ClientId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// Whether `s` could be a client id (see [`ClientId`]).
pub fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// An OAuth client as the rules see it.
#[derive(Debug, Clone)]
pub struct Client {
    pub client_id: ClientId,
    pub owner_id: String,
    pub name: String,
    pub client_type: ClientType,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    /// What the client may request.
    pub scopes: ScopeSet,
    /// `None`: the server's default lifetime.
    pub access_token_ttl_seconds: Option<i64>,
    pub enabled: bool,
    /// A first-party application: users are not asked to consent.
    pub skip_consent: bool,
    /// PKCE `plain` is accepted (else only `S256`).
    pub allow_plain_pkce: bool,
    /// How its id_tokens are signed (`id_token_signed_response_alg`).
    pub id_token_alg: Alg,
    /// Where RP-initiated logout may return the browser (exact match).
    pub post_logout_redirect_uris: Vec<String>,
    /// `Some(alg)`: RFC 9068 JWT access tokens signed with `alg`; `None`: opaque.
    pub jwt_access_alg: Option<Alg>,
    /// The JWT access tokens' `aud` (empty: the client id).
    pub audience: Vec<String>,
    /// Custom claims of its client_credentials JWTs.
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// blake3 of the current secret; `None` for public clients.
    pub secret_hash: Option<Vec<u8>>,
    /// Carried by every token and grant; a new epoch revokes all earlier ones.
    pub token_epoch: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Client {
    /// Whether the client registered this grant.
    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// A public (installed or browser) client: no secret.
    pub fn is_public(&self) -> bool {
        self.client_type == ClientType::Public
    }

    /// The `aud` of its JWT access tokens: its audience list, else its id.
    pub fn token_audience(&self) -> Vec<String> {
        if self.audience.is_empty() {
            vec![self.client_id.to_string()]
        } else {
            self.audience.clone()
        }
    }

    /// Its access tokens' lifetime, else `default`.
    pub fn access_token_ttl(&self, default: i64) -> i64 {
        self.access_token_ttl_seconds.unwrap_or(default)
    }
}

pub fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("a client needs a name".into());
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(format!("name is longer than {MAX_NAME_LEN} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("name must not contain control characters".into());
    }
    Ok(())
}

pub fn check_ttl(seconds: i64) -> Result<(), String> {
    if (MIN_TTL_SECONDS..=MAX_TTL_SECONDS).contains(&seconds) {
        Ok(())
    } else {
        Err(format!(
            "must be between {MIN_TTL_SECONDS} and {MAX_TTL_SECONDS} seconds"
        ))
    }
}

/// RFC 6749 §2.1 client types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientType {
    /// A web application that keeps a secret.
    Confidential,
    /// An installed or browser application that cannot keep one.
    Public,
}

impl ClientType {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientType::Confidential => "confidential",
            ClientType::Public => "public",
        }
    }

    pub fn parse(s: &str) -> Result<ClientType, String> {
        match s {
            "confidential" => Ok(ClientType::Confidential),
            "public" => Ok(ClientType::Public),
            other => Err(format!(
                "unknown client type {other:?}: use \"confidential\" (a web app with a secret) or \"public\" (an installed app)"
            )),
        }
    }
}

/// The grants a client may use at the token and authorization endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GrantType {
    AuthorizationCode,
    ClientCredentials,
    RefreshToken,
    Implicit,
    /// RFC 6749 §4.3, the resource owner's password (Keycloak's "direct
    /// access grants"): for test suites only; RFC 9700 §2.4 forbids it in
    /// production. Off unless a client lists it.
    Password,
}

impl GrantType {
    pub const ALL: [GrantType; 5] = [
        GrantType::AuthorizationCode,
        GrantType::ClientCredentials,
        GrantType::RefreshToken,
        GrantType::Implicit,
        GrantType::Password,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::RefreshToken => "refresh_token",
            GrantType::Implicit => "implicit",
            GrantType::Password => "password",
        }
    }

    pub fn parse(s: &str) -> Option<GrantType> {
        GrantType::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// Whether the grant sends the user's browser to a redirect URI.
    fn redirects(self) -> bool {
        matches!(self, GrantType::AuthorizationCode | GrantType::Implicit)
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The grants a client gets when it does not name any.
pub fn default_grants(ty: ClientType) -> Vec<GrantType> {
    match ty {
        ClientType::Confidential => vec![
            GrantType::AuthorizationCode,
            GrantType::ClientCredentials,
            GrantType::RefreshToken,
        ],
        ClientType::Public => vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
    }
}

/// Parses and checks a grant list against the client type.
pub fn check_grants(ty: ClientType, names: &[String]) -> Result<Vec<GrantType>, String> {
    let mut out = BTreeSet::new();
    for name in names {
        let g = GrantType::parse(name).ok_or_else(|| {
            format!(
                "unknown grant type {name:?}: use authorization_code, client_credentials, refresh_token, implicit or password"
            )
        })?;
        if g == GrantType::ClientCredentials && ty == ClientType::Public {
            return Err(
                "a public client has no secret, so it cannot use client_credentials".into(),
            );
        }
        out.insert(g);
    }
    if out.is_empty() {
        return Err("a client needs at least one grant type".into());
    }
    Ok(out.into_iter().collect())
}

/// Checks post-logout redirect URIs: absolute https (or loopback http) URIs
/// without a fragment, at most [`MAX_REDIRECT_URIS`], no repeats.
pub fn check_post_logout_uris(uris: &[String]) -> Result<(), String> {
    if uris.len() > MAX_REDIRECT_URIS {
        return Err(format!(
            "at most {MAX_REDIRECT_URIS} post-logout redirect URIs"
        ));
    }
    let mut seen = BTreeSet::new();
    for raw in uris {
        let uri = RedirectUri::parse(raw)?;
        if !matches!(uri.kind(), UriKind::Https | UriKind::LoopbackHttp) {
            return Err(format!(
                "{raw:?}: use https (plain http only for loopback: localhost, 127.0.0.1, [::1])"
            ));
        }
        if !seen.insert(raw.as_str()) {
            return Err(format!("{raw:?} is listed twice"));
        }
    }
    Ok(())
}

/// Checks an audience list: 1–20 values, each 1–256 printable characters.
pub fn check_audience(values: &[String]) -> Result<(), String> {
    if values.len() > MAX_REDIRECT_URIS {
        return Err(format!("at most {MAX_REDIRECT_URIS} audience values"));
    }
    for v in values {
        if v.is_empty() || v.len() > 256 || v.chars().any(char::is_control) {
            return Err(format!("{v:?}: use 1–256 printable characters"));
        }
    }
    Ok(())
}

/// Checks redirect URIs against the client type and its grants.
pub fn check_redirect_uris(
    ty: ClientType,
    grants: &[GrantType],
    uris: &[String],
) -> Result<(), String> {
    if uris.len() > MAX_REDIRECT_URIS {
        return Err(format!("at most {MAX_REDIRECT_URIS} redirect URIs"));
    }
    let mut seen = BTreeSet::new();
    for raw in uris {
        let uri = RedirectUri::parse(raw)?;
        let allowed = match (ty, uri.kind()) {
            (_, UriKind::Https | UriKind::LoopbackHttp) => true,
            (ClientType::Public, UriKind::OutOfBand | UriKind::PrivateUse) => true,
            (ClientType::Confidential, UriKind::OutOfBand | UriKind::PrivateUse) => false,
            (_, UriKind::OtherHttp) => false,
        };
        if !allowed {
            return Err(match uri.kind() {
                UriKind::OtherHttp => format!(
                    "{raw:?}: plain http is allowed only for loopback (localhost, 127.0.0.1, [::1]); use https"
                ),
                _ => format!(
                    "{raw:?}: out-of-band and private-use redirect URIs are for public (installed) clients"
                ),
            });
        }
        if !seen.insert(raw.as_str()) {
            return Err(format!("{raw:?} is listed twice"));
        }
    }
    if uris.is_empty() {
        if let Some(g) = grants.iter().find(|g| g.redirects()) {
            return Err(format!("the {g} grant needs at least one redirect URI"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uris(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ids_have_their_shape() {
        let id = ClientId::from_random([0xab; 12]);
        assert_eq!(id.as_str().len(), 28);
        assert_eq!(ClientId::parse(id.as_str()), Some(id));
        assert!(is_id("my-fixed.client_id~1"));
        assert!(!is_id(""));
        assert!(!is_id("a b"));
        assert!(!is_id("a:b"));
        assert!(!is_id(&"a".repeat(129)));
        assert_eq!(ClientId::parse("a b"), None);
    }

    #[test]
    fn grants_follow_the_client_type() {
        let ok = check_grants(
            ClientType::Confidential,
            &uris(&["client_credentials", "refresh_token", "client_credentials"]),
        )
        .unwrap();
        assert_eq!(ok, [GrantType::ClientCredentials, GrantType::RefreshToken]);
        assert!(check_grants(ClientType::Public, &uris(&["client_credentials"])).is_err());
        assert_eq!(
            check_grants(ClientType::Public, &uris(&["password"])).unwrap(),
            [GrantType::Password],
            "Keycloak's direct access grants, public clients too"
        );
        assert!(check_grants(ClientType::Public, &uris(&["ftp"])).is_err());
        assert!(check_grants(ClientType::Public, &[]).is_err());
    }

    #[test]
    fn confidential_clients_register_https_or_loopback() {
        let g = [GrantType::AuthorizationCode];
        let c = ClientType::Confidential;
        assert!(check_redirect_uris(c, &g, &uris(&["https://app.example/cb"])).is_ok());
        assert!(check_redirect_uris(c, &g, &uris(&["http://localhost:3000/cb"])).is_ok());
        assert!(check_redirect_uris(c, &g, &uris(&["http://app.example/cb"])).is_err());
        assert!(check_redirect_uris(c, &g, &uris(&["urn:ietf:wg:oauth:2.0:oob"])).is_err());
        assert!(check_redirect_uris(c, &g, &uris(&["com.example.app:/cb"])).is_err());
        assert!(check_redirect_uris(c, &g, &[]).is_err());
        assert!(check_redirect_uris(c, &[GrantType::ClientCredentials], &[]).is_ok());
        assert!(
            check_redirect_uris(c, &g, &uris(&["https://a.example/", "https://a.example/"]))
                .is_err()
        );
    }

    #[test]
    fn public_clients_may_also_use_oob_and_private_schemes() {
        let g = [GrantType::AuthorizationCode];
        let p = ClientType::Public;
        for ok in [
            "urn:ietf:wg:oauth:2.0:oob",
            "urn:ietf:wg:oauth:2.0:oob:auto",
            "http://127.0.0.1/cb",
            "http://[::1]:8080/",
            "com.example.app:/oauth2redirect",
            "https://spa.example/cb",
        ] {
            assert!(check_redirect_uris(p, &g, &uris(&[ok])).is_ok(), "{ok}");
        }
        for bad in ["myapp:/cb", "http://example.com/cb", "javascript:alert(1)"] {
            assert!(check_redirect_uris(p, &g, &uris(&[bad])).is_err(), "{bad}");
        }
    }

    #[test]
    fn lifetimes_are_bounded() {
        assert!(check_ttl(1).is_ok());
        assert!(check_ttl(MAX_TTL_SECONDS).is_ok());
        assert!(check_ttl(0).is_err());
        assert!(check_ttl(MAX_TTL_SECONDS + 1).is_err());
    }
}
