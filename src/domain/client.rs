//! OAuth clients: identifiers, secrets, types, grant types, lifetimes and the
//! rules for registering redirect URIs.

use std::collections::BTreeSet;
use std::fmt;

use base64::Engine as _;

use super::redirect_uri::{RedirectUri, UriKind};

/// Type prefix of every client secret.
pub const SECRET_PREFIX: &str = "lk_cs_";
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

/// `cli_` + 24 hex digits from 12 random bytes.
pub fn id_from_random(bytes: [u8; 12]) -> String {
    let mut s = String::from("cli_");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Whether `s` could be a client id: 1–128 characters of RFC 3986's unreserved
/// set. Anything else is refused without a lookup.
pub fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// `lk_cs_` + base64url (no padding) of 32 random bytes: 256 bits.
pub fn secret_from_random(bytes: [u8; 32]) -> String {
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
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
}

impl GrantType {
    pub const ALL: [GrantType; 4] = [
        GrantType::AuthorizationCode,
        GrantType::ClientCredentials,
        GrantType::RefreshToken,
        GrantType::Implicit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::RefreshToken => "refresh_token",
            GrantType::Implicit => "implicit",
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
                "unknown grant type {name:?}: use authorization_code, client_credentials, refresh_token or implicit"
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
    fn ids_and_secrets_have_their_shapes() {
        let id = id_from_random([0xab; 12]);
        assert_eq!(id.len(), 28);
        assert!(is_id(&id));
        assert!(is_id("my-fixed.client_id~1"));
        assert!(!is_id(""));
        assert!(!is_id("a b"));
        assert!(!is_id("a:b"));
        assert!(!is_id(&"a".repeat(129)));
        let s = secret_from_random([7; 32]);
        assert!(s.starts_with("lk_cs_"));
        assert_eq!(s.len(), 6 + 43);
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
        assert!(check_grants(ClientType::Public, &uris(&["password"])).is_err());
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
