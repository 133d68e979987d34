//! Parsing the `Authorization` header into a credential, without judging it.
//!
//! The schemes of DESIGN.md §Authenticating: `Basic`, `Bearer` and `OAuth`
//! (Image Relay's draft-10 style). Scheme names are case-insensitive (RFC 9110
//! §11.1); the credential itself is taken verbatim.

use base64::Engine as _;

use crate::secret::Redacted;

/// Longest `Authorization` value looked at. Real credentials are far shorter; a
/// bound keeps a hostile header from costing decoding work or memory.
pub const MAX_HEADER_LEN: usize = 8 * 1024;

/// A credential as presented, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Basic {
        username: String,
        password: Redacted<String>,
    },
    /// `Bearer` or `OAuth`: an API key or an access token, told apart by prefix.
    Token {
        scheme: TokenScheme,
        token: Redacted<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenScheme {
    Bearer,
    OAuth,
}

/// Why an `Authorization` header could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MalformedCredential {
    NotAscii,
    TooLong,
    UnknownScheme(String),
    Empty,
    BadBase64,
    NotUtf8,
    NoColon,
}

impl MalformedCredential {
    /// A sentence for the error body. It never echoes the credential itself.
    pub fn describe(&self) -> String {
        match self {
            MalformedCredential::NotAscii => "the Authorization header is not ASCII".into(),
            MalformedCredential::TooLong => "the Authorization header is too long".into(),
            MalformedCredential::UnknownScheme(s) => {
                format!("unsupported authorization scheme {s:?} (use Basic, Bearer or OAuth)")
            }
            MalformedCredential::Empty => "the Authorization header carries no credential".into(),
            MalformedCredential::BadBase64 => "the Basic credential is not valid base64".into(),
            MalformedCredential::NotUtf8 => "the Basic credential is not UTF-8".into(),
            MalformedCredential::NoColon => {
                "the Basic credential must be base64(username:password)".into()
            }
        }
    }
}

/// Reads one `Authorization` header value.
pub fn parse_authorization(raw: &[u8]) -> Result<Credential, MalformedCredential> {
    if raw.len() > MAX_HEADER_LEN {
        return Err(MalformedCredential::TooLong);
    }
    let value = std::str::from_utf8(raw)
        .ok()
        .filter(|v| v.is_ascii())
        .ok_or(MalformedCredential::NotAscii)?
        .trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(if scheme.is_empty() || is_known_scheme(scheme) {
            MalformedCredential::Empty
        } else {
            MalformedCredential::UnknownScheme(scheme.chars().take(32).collect())
        });
    }
    if scheme.eq_ignore_ascii_case("basic") {
        parse_basic(rest)
    } else if scheme.eq_ignore_ascii_case("bearer") {
        token(TokenScheme::Bearer, rest)
    } else if scheme.eq_ignore_ascii_case("oauth") {
        token(TokenScheme::OAuth, rest)
    } else {
        Err(MalformedCredential::UnknownScheme(
            scheme.chars().take(32).collect(),
        ))
    }
}

fn is_known_scheme(s: &str) -> bool {
    ["basic", "bearer", "oauth"]
        .iter()
        .any(|k| s.eq_ignore_ascii_case(k))
}

fn token(scheme: TokenScheme, value: &str) -> Result<Credential, MalformedCredential> {
    if value.contains(' ') {
        return Err(MalformedCredential::Empty);
    }
    Ok(Credential::Token {
        scheme,
        token: Redacted::new(value.to_owned()),
    })
}

fn parse_basic(encoded: &str) -> Result<Credential, MalformedCredential> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| MalformedCredential::BadBase64)?;
    let text = String::from_utf8(bytes).map_err(|_| MalformedCredential::NotUtf8)?;
    let (username, password) = text.split_once(':').ok_or(MalformedCredential::NoColon)?;
    Ok(Credential::Basic {
        username: username.to_owned(),
        password: Redacted::new(password.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(s: &str) -> Vec<u8> {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
        .into_bytes()
    }

    #[test]
    fn basic_splits_at_the_first_colon() {
        let c = parse_authorization(&basic("alice:pa:ss")).unwrap();
        assert_eq!(
            c,
            Credential::Basic {
                username: "alice".into(),
                password: Redacted::new("pa:ss".into())
            }
        );
    }

    #[test]
    fn scheme_names_are_case_insensitive() {
        assert!(matches!(
            parse_authorization(b"bEaReR lk_key_x"),
            Ok(Credential::Token {
                scheme: TokenScheme::Bearer,
                ..
            })
        ));
        assert!(matches!(
            parse_authorization(b"OAuth lk_at_x"),
            Ok(Credential::Token {
                scheme: TokenScheme::OAuth,
                ..
            })
        ));
    }

    #[test]
    fn malformed_values_are_named() {
        assert_eq!(
            parse_authorization(b"Basic !!!"),
            Err(MalformedCredential::BadBase64)
        );
        assert_eq!(
            parse_authorization(&basic("nocolon")),
            Err(MalformedCredential::NoColon)
        );
        assert_eq!(
            parse_authorization(b"Basic"),
            Err(MalformedCredential::Empty)
        );
        assert_eq!(parse_authorization(b""), Err(MalformedCredential::Empty));
        assert_eq!(
            parse_authorization(b"Bearer a b"),
            Err(MalformedCredential::Empty)
        );
        assert_eq!(
            parse_authorization(b"Digest x"),
            Err(MalformedCredential::UnknownScheme("Digest".into()))
        );
        assert_eq!(
            parse_authorization(b"Basic \xff\xfe"),
            Err(MalformedCredential::NotAscii)
        );
        assert_eq!(
            parse_authorization(&vec![b'a'; MAX_HEADER_LEN + 1]),
            Err(MalformedCredential::TooLong)
        );
    }

    #[test]
    fn basic_payload_must_be_utf8() {
        let v = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode([0xff, b':', b'x'])
        );
        assert_eq!(
            parse_authorization(v.as_bytes()),
            Err(MalformedCredential::NotUtf8)
        );
    }
}
