//! JSON Web Tokens as latchkey signs and checks them (RFC 7515, 7519, 7517):
//! three algorithms only — `RS256` (RSA 2048, PKCS #1 v1.5), `ES256` (P-256)
//! and `EdDSA` (Ed25519). `none`, `HS*` and everything else are refused before
//! any key is looked at, and a token's `alg` must be the algorithm of the key
//! its `kid` names (no algorithm confusion). Expiry and the other claims are
//! the caller's to check; this module knows bytes, keys and signatures.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256, Sha512};

mod keys;

pub use keys::{PrivateKey, PublicKey, RSA_BITS};

/// Longest token accepted for checking.
pub const MAX_JWT_LEN: usize = 16 * 1024;

/// The signature algorithms latchkey issues and accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Alg {
    RS256,
    ES256,
    EdDSA,
}

impl Alg {
    pub const ALL: [Alg; 3] = [Alg::RS256, Alg::ES256, Alg::EdDSA];

    pub fn as_str(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::ES256 => "ES256",
            Alg::EdDSA => "EdDSA",
        }
    }

    pub fn parse(s: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The left half of this hash of `value`, base64url: `at_hash` and
    /// `c_hash` (OIDC Core §3.1.3.6; SHA-512 for Ed25519, errata set 2).
    pub fn half_hash(self, value: &str) -> String {
        let digest: Vec<u8> = match self {
            Alg::RS256 | Alg::ES256 => Sha256::digest(value.as_bytes()).to_vec(),
            Alg::EdDSA => Sha512::digest(value.as_bytes()).to_vec(),
        };
        B64.encode(&digest[..digest.len() / 2])
    }
}

impl std::fmt::Display for Alg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Signs `claims` with `key` under `kid`; `typ` is the header's type
/// (`JWT`, or `at+jwt` for RFC 9068 access tokens).
pub fn sign(key: &PrivateKey, kid: &str, typ: &str, claims: &Map<String, Value>) -> String {
    let header = json!({"alg": key.alg().as_str(), "typ": typ, "kid": kid});
    let mut out = B64.encode(header.to_string());
    out.push('.');
    out.push_str(&B64.encode(Value::Object(claims.clone()).to_string()));
    let signature = key.sign(out.as_bytes());
    out.push('.');
    out.push_str(&B64.encode(signature));
    out
}

/// Why a token does not verify (never echoes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    /// Not three base64url parts of JSON objects, or too long.
    Malformed,
    /// `alg` is missing, `none`, symmetric, or not one latchkey signs with.
    Alg(String),
    /// No `kid`, or a `kid` this server does not know.
    UnknownKey,
    /// The key's algorithm is not the header's.
    AlgMismatch,
    /// The signature does not match.
    Signature,
}

impl std::fmt::Display for JwtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JwtError::Malformed => f.write_str("not a well-formed JWT"),
            JwtError::Alg(a) => write!(
                f,
                "the algorithm {a:?} is not accepted (RS256, ES256 and EdDSA are)"
            ),
            JwtError::UnknownKey => f.write_str("signed with a key this server does not know"),
            JwtError::AlgMismatch => f.write_str("the header's alg is not the key's algorithm"),
            JwtError::Signature => f.write_str("the signature does not verify"),
        }
    }
}

/// A verified token: its header's `typ` and `kid`, and its claims.
#[derive(Debug, Clone)]
pub struct Verified {
    pub typ: Option<String>,
    pub kid: String,
    pub alg: Alg,
    pub claims: Map<String, Value>,
}

/// Whether a string has the shape of a JWS compact serialization.
pub fn looks_like_jwt(token: &str) -> bool {
    token.len() <= MAX_JWT_LEN
        && token.bytes().filter(|b| *b == b'.').count() == 2
        && token.starts_with("eyJ")
}

fn part(s: &str) -> Result<Map<String, Value>, JwtError> {
    let bytes = B64.decode(s).map_err(|_| JwtError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JwtError::Malformed),
    }
}

/// Checks the header and the signature with the key `find` returns for the
/// header's `kid`; returns the claims unchecked (expiry is the caller's).
pub fn verify<'k>(
    token: &str,
    find: impl FnOnce(&str) -> Option<&'k PublicKey>,
) -> Result<Verified, JwtError> {
    if token.len() > MAX_JWT_LEN {
        return Err(JwtError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let header = part(h)?;
    let alg_name = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let alg =
        Alg::parse(alg_name).ok_or_else(|| JwtError::Alg(alg_name.chars().take(32).collect()))?;
    if header.contains_key("crit") {
        return Err(JwtError::Malformed);
    }
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or(JwtError::UnknownKey)?;
    let key = find(kid).ok_or(JwtError::UnknownKey)?;
    if key.alg() != alg {
        return Err(JwtError::AlgMismatch);
    }
    let signature = B64.decode(s).map_err(|_| JwtError::Malformed)?;
    let signed = &token[..h.len() + 1 + p.len()];
    if !key.verify(signed.as_bytes(), &signature) {
        return Err(JwtError::Signature);
    }
    Ok(Verified {
        typ: header.get("typ").and_then(Value::as_str).map(str::to_owned),
        kid: kid.to_owned(),
        alg,
        claims: part(p)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<PrivateKey> {
        let mut rng = rand::rngs::OsRng;
        vec![
            PrivateKey::Rsa(Box::new(
                rsa::RsaPrivateKey::new(&mut rng, RSA_BITS).unwrap(),
            )),
            PrivateKey::Ec(p256::ecdsa::SigningKey::random(&mut rng)),
            PrivateKey::Ed(ed25519_dalek::SigningKey::generate(&mut rng)),
        ]
    }

    fn claims() -> Map<String, Value> {
        match json!({"iss": "http://127.0.0.1", "sub": "usr_1", "exp": 2_000_000_000}) {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn every_algorithm_signs_verifies_and_round_trips_through_pkcs8() {
        for key in keys() {
            let public = key.public();
            let kid = public.thumbprint();
            let token = sign(&key, &kid, "JWT", &claims());
            assert!(looks_like_jwt(&token));
            let v = verify(&token, |k| (k == kid).then_some(&public)).unwrap();
            assert_eq!(v.claims, claims());
            assert_eq!(v.alg, key.alg());
            assert_eq!(v.typ.as_deref(), Some("JWT"));
            let der = key.to_pkcs8_der().unwrap();
            let again = PrivateKey::from_pkcs8_der(key.alg(), &der).unwrap();
            assert_eq!(again.public().thumbprint(), kid);
            let jwk = public.jwk(&kid);
            assert_eq!(jwk["alg"], key.alg().as_str());
            assert_eq!(jwk["use"], "sig");
            assert!(jwk.get("d").is_none(), "no private member in a JWK");
        }
    }

    #[test]
    fn tampering_unknown_keys_and_foreign_algorithms_are_refused() {
        let all = keys();
        for key in &all {
            let public = key.public();
            let token = sign(key, "k1", "JWT", &claims());
            let find = |k: &str| (k == "k1").then_some(&public);
            // Any changed character of the signed part breaks the signature.
            let dot = token.rfind('.').unwrap();
            for i in (0..dot).step_by(7) {
                let mut t = token.clone().into_bytes();
                t[i] = if t[i] == b'A' { b'B' } else { b'A' };
                let t = String::from_utf8(t).unwrap();
                assert!(
                    verify(&t, |k| (k == "k1").then_some(&public)).is_err(),
                    "{i}"
                );
            }
            assert_eq!(verify(&token, |_| None).unwrap_err(), JwtError::UnknownKey);
            assert!(verify(&format!("{token}.x"), find).is_err());
            // The same token checked against another algorithm's key.
            let other = all.iter().find(|k| k.alg() != key.alg()).unwrap().public();
            assert_eq!(
                verify(&token, |_| Some(&other)).unwrap_err(),
                JwtError::AlgMismatch
            );
        }
    }

    #[test]
    fn none_and_symmetric_algorithms_are_never_accepted() {
        let key = &keys()[1];
        let public = key.public();
        let body = B64.encode(Value::Object(claims()).to_string());
        for alg in ["none", "HS256", "HS512", "RS512", "", "ES256K"] {
            let header = B64.encode(json!({"alg": alg, "kid": "k1"}).to_string());
            for sig in ["", "c2ln"] {
                let token = format!("{header}.{body}.{sig}");
                assert!(
                    matches!(verify(&token, |_| Some(&public)), Err(JwtError::Alg(_))),
                    "{alg}"
                );
            }
        }
        // HS256 "signed" with the public key as the secret (key confusion).
        let header = B64.encode(json!({"alg": "HS256", "kid": "k1"}).to_string());
        let forged = format!("{header}.{body}.{}", B64.encode([0u8; 32]));
        assert!(verify(&forged, |_| Some(&public)).is_err());
    }

    #[test]
    fn half_hashes_follow_the_algorithm() {
        // OIDC Core §3.1.3.6 example: at_hash of "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y".
        assert_eq!(
            Alg::RS256.half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        assert_eq!(Alg::EdDSA.half_hash("x").len(), 43);
    }
}
