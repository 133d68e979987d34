//! OAuth 2.0 protocol errors (RFC 6749 §5.2, RFC 7009 §2.2.1) and the parsing of
//! the `scope` parameter.

use std::fmt;

use super::scope::ScopeSet;

/// The error codes of the token, introspection and revocation endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    UnsupportedTokenType,
    /// RFC 8707 §2: the `resource` is not one the client may get tokens for.
    InvalidTarget,
}

impl OAuthErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthErrorCode::InvalidRequest => "invalid_request",
            OAuthErrorCode::InvalidClient => "invalid_client",
            OAuthErrorCode::InvalidGrant => "invalid_grant",
            OAuthErrorCode::UnauthorizedClient => "unauthorized_client",
            OAuthErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthErrorCode::InvalidScope => "invalid_scope",
            OAuthErrorCode::UnsupportedTokenType => "unsupported_token_type",
            OAuthErrorCode::InvalidTarget => "invalid_target",
        }
    }
}

/// A protocol error with a sentence for the developer reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: OAuthErrorCode,
    pub description: String,
}

impl OAuthError {
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> OAuthError {
        OAuthError {
            code,
            description: description.into(),
        }
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

/// Parses `scope` (RFC 6749 §3.3) as an `invalid_scope` error on failure. An
/// absent or blank parameter is `None`.
pub fn parse_scope(raw: Option<&str>) -> Result<Option<ScopeSet>, OAuthError> {
    let Some(raw) = raw else { return Ok(None) };
    let set = ScopeSet::parse(raw).map_err(|m| OAuthError::new(OAuthErrorCode::InvalidScope, m))?;
    Ok((!set.is_empty()).then_some(set))
}

/// The requested scopes if every one is among `allowed`; absent means all of
/// `allowed`.
pub fn grant_scopes(
    requested: Option<ScopeSet>,
    allowed: &ScopeSet,
) -> Result<ScopeSet, OAuthError> {
    match requested {
        None => Ok(allowed.clone()),
        Some(req) => match req.first_missing(allowed) {
            Some(missing) => Err(OAuthError::new(
                OAuthErrorCode::InvalidScope,
                format!("the scope {missing:?} is not allowed for this client"),
            )),
            None => Ok(req),
        },
    }
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space, `%XX` a
/// byte); `None` for a broken escape or bytes that are not UTF-8.
pub fn form_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        assert_eq!(form_decode("a+b%2Fc%3a"), Some("a b/c:".into()));
        assert_eq!(form_decode("plain"), Some("plain".into()));
        assert_eq!(form_decode("bad%2"), None);
        assert_eq!(form_decode("bad%zz"), None);
        assert_eq!(form_decode("%ff"), None);
        assert_eq!(form_decode("%+5"), None);
    }

    #[test]
    fn scope_parameter() {
        assert_eq!(parse_scope(None), Ok(None));
        assert_eq!(parse_scope(Some("  ")), Ok(None));
        assert_eq!(
            parse_scope(Some("read  write read")),
            Ok(Some(ScopeSet::from_names(["read", "write"])))
        );
        assert_eq!(
            parse_scope(Some("re\"ad")).unwrap_err().code,
            OAuthErrorCode::InvalidScope
        );
    }

    #[test]
    fn granted_scopes_are_a_subset() {
        let allowed = ScopeSet::from_names(["read", "write"]);
        assert_eq!(grant_scopes(None, &allowed).unwrap(), allowed);
        assert_eq!(
            grant_scopes(Some(ScopeSet::from_names(["write"])), &allowed)
                .unwrap()
                .to_string(),
            "write"
        );
        let err = grant_scopes(Some(ScopeSet::from_names(["admin"])), &allowed).unwrap_err();
        assert_eq!(err.code, OAuthErrorCode::InvalidScope);
        assert!(err.description.contains("admin"));
    }
}
