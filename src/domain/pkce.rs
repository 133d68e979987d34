//! PKCE (RFC 7636): code challenges, verifiers and their check.

use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `code_challenge_method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    S256,
    Plain,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::S256 => "S256",
            Method::Plain => "plain",
        }
    }

    /// RFC 7636 §4.3: absent means `plain`.
    pub fn parse(s: Option<&str>) -> Result<Method, String> {
        match s {
            None | Some("plain") => Ok(Method::Plain),
            Some("S256") => Ok(Method::S256),
            Some(other) => Err(format!(
                "unsupported code_challenge_method {other:?}: use S256"
            )),
        }
    }
}

/// RFC 7636 §4.1: 43–128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
/// Challenges share the alphabet (an S256 challenge is 43 base64url characters).
pub fn check_format(value: &str, what: &str) -> Result<(), String> {
    if !(43..=128).contains(&value.len()) {
        return Err(format!(
            "{what} must be 43 to 128 characters (RFC 7636 §4.1)"
        ));
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    {
        return Err(format!(
            "{what} may contain only letters, digits, '-', '.', '_' and '~' (RFC 7636 §4.1)"
        ));
    }
    Ok(())
}

/// The S256 challenge of a verifier: base64url(SHA-256(verifier)), no padding.
pub fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether `verifier` answers `challenge` under `method` (constant time).
pub fn verify(method: Method, challenge: &str, verifier: &str) -> bool {
    if check_format(verifier, "code_verifier").is_err() {
        return false;
    }
    let expected = match method {
        Method::S256 => s256(verifier),
        Method::Plain => verifier.to_owned(),
    };
    expected.as_bytes().ct_eq(challenge.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The challenge as Python's hashlib computes it:
    /// `base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()).rstrip(b"=")`.
    #[test]
    fn s256_matches_an_independent_implementation() {
        let verifier = "dBjftJeZ4CVP-mJ92K1qUfVgt7p9iyjS8b1D5MhEWdY";
        let challenge = "Rqm7mPdSA8idFG9QVlPD5ka72zjLltWz3Q1NrYWjv3s";
        assert_eq!(s256(verifier), challenge);
        assert!(verify(Method::S256, challenge, verifier));
        assert!(!verify(
            Method::S256,
            challenge,
            &verifier.replace('d', "e")
        ));
        assert!(!verify(Method::Plain, challenge, verifier));
        assert!(verify(Method::Plain, verifier, verifier));
    }

    #[test]
    fn formats_and_methods() {
        assert!(check_format(&"a".repeat(43), "v").is_ok());
        assert!(check_format(&"a".repeat(42), "v").is_err());
        assert!(check_format(&"a".repeat(129), "v").is_err());
        assert!(check_format(&format!("{}+", "a".repeat(43)), "v").is_err());
        assert_eq!(Method::parse(None), Ok(Method::Plain));
        assert_eq!(Method::parse(Some("S256")), Ok(Method::S256));
        assert!(Method::parse(Some("s256")).is_err());
        assert!(!verify(Method::Plain, "short", "short"));
    }
}
