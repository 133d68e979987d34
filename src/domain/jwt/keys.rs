//! The key material of the three algorithms: private keys (PKCS #8 in and
//! out), public keys (JWK members, RFC 7638 thumbprints), raw signing and
//! verification of JWS signing input.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use rsa::signature::{SignatureEncoding as _, Signer as _, Verifier as _};
use rsa::traits::PublicKeyParts as _;

use super::Alg;

/// A private signing key of one of the three algorithms.
#[derive(Clone)]
pub enum PrivateKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    Ec(p256::ecdsa::SigningKey),
    Ed(ed25519_dalek::SigningKey),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({}, ***)", self.alg())
    }
}

/// The public half, as the JWKS shows it and verification uses it.
#[derive(Debug, Clone)]
pub enum PublicKey {
    Rsa(rsa::RsaPublicKey),
    Ec(p256::ecdsa::VerifyingKey),
    Ed(ed25519_dalek::VerifyingKey),
}

/// RSA keys latchkey makes and accepts from seeds.
pub const RSA_BITS: usize = 2048;

impl PrivateKey {
    pub fn alg(&self) -> Alg {
        match self {
            PrivateKey::Rsa(_) => Alg::RS256,
            PrivateKey::Ec(_) => Alg::ES256,
            PrivateKey::Ed(_) => Alg::EdDSA,
        }
    }

    /// Reads a PKCS #8 key (DER) that must be of `alg`.
    pub fn from_pkcs8_der(alg: Alg, der: &[u8]) -> Result<PrivateKey, String> {
        let key = match alg {
            Alg::RS256 => PrivateKey::Rsa(Box::new(
                <rsa::RsaPrivateKey as rsa::pkcs8::DecodePrivateKey>::from_pkcs8_der(der)
                    .map_err(|e| format!("not an RSA PKCS #8 key: {e}"))?,
            )),
            Alg::ES256 => PrivateKey::Ec(
                <p256::ecdsa::SigningKey as p256::pkcs8::DecodePrivateKey>::from_pkcs8_der(der)
                    .map_err(|e| format!("not a P-256 PKCS #8 key: {e}"))?,
            ),
            Alg::EdDSA => PrivateKey::Ed(
                ed25519_dalek::SigningKey::from_pkcs8_der(der)
                    .map_err(|e| format!("not an Ed25519 PKCS #8 key: {e}"))?,
            ),
        };
        key.check_strength()?;
        Ok(key)
    }

    /// Reads a PKCS #8 PEM key (`-----BEGIN PRIVATE KEY-----`) of `alg`.
    pub fn from_pkcs8_pem(alg: Alg, pem: &str) -> Result<PrivateKey, String> {
        let key = match alg {
            Alg::RS256 => PrivateKey::Rsa(Box::new(
                <rsa::RsaPrivateKey as rsa::pkcs8::DecodePrivateKey>::from_pkcs8_pem(pem)
                    .map_err(|e| format!("not an RSA PKCS #8 PEM key: {e}"))?,
            )),
            Alg::ES256 => PrivateKey::Ec(
                <p256::ecdsa::SigningKey as p256::pkcs8::DecodePrivateKey>::from_pkcs8_pem(pem)
                    .map_err(|e| format!("not a P-256 PKCS #8 PEM key: {e}"))?,
            ),
            Alg::EdDSA => PrivateKey::Ed(
                ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
                    .map_err(|e| format!("not an Ed25519 PKCS #8 PEM key: {e}"))?,
            ),
        };
        key.check_strength()?;
        Ok(key)
    }

    fn check_strength(&self) -> Result<(), String> {
        match self {
            PrivateKey::Rsa(k) if k.size() * 8 < RSA_BITS => Err(format!(
                "an RSA key needs at least {RSA_BITS} bits; this one has {}",
                k.size() * 8
            )),
            _ => Ok(()),
        }
    }

    /// PKCS #8 DER, for the store.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, String> {
        let doc = match self {
            PrivateKey::Rsa(k) => rsa::pkcs8::EncodePrivateKey::to_pkcs8_der(k.as_ref()),
            PrivateKey::Ec(k) => p256::pkcs8::EncodePrivateKey::to_pkcs8_der(k),
            PrivateKey::Ed(k) => k.to_pkcs8_der(),
        };
        doc.map(|d| d.as_bytes().to_vec())
            .map_err(|e| format!("cannot encode the key: {e}"))
    }

    pub fn public(&self) -> PublicKey {
        match self {
            PrivateKey::Rsa(k) => PublicKey::Rsa(rsa::RsaPublicKey::from(k.as_ref())),
            PrivateKey::Ec(k) => PublicKey::Ec(*k.verifying_key()),
            PrivateKey::Ed(k) => PublicKey::Ed(k.verifying_key()),
        }
    }

    pub(super) fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            PrivateKey::Rsa(k) => rsa::pkcs1v15::SigningKey::<Sha256>::new(k.as_ref().clone())
                .sign(message)
                .to_vec(),
            PrivateKey::Ec(k) => {
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_bytes().to_vec()
            }
            PrivateKey::Ed(k) => k.sign(message).to_bytes().to_vec(),
        }
    }
}

impl PublicKey {
    pub fn alg(&self) -> Alg {
        match self {
            PublicKey::Rsa(_) => Alg::RS256,
            PublicKey::Ec(_) => Alg::ES256,
            PublicKey::Ed(_) => Alg::EdDSA,
        }
    }

    pub(super) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicKey::Rsa(k) => rsa::pkcs1v15::Signature::try_from(signature).is_ok_and(|sig| {
                rsa::pkcs1v15::VerifyingKey::<Sha256>::new(k.clone())
                    .verify(message, &sig)
                    .is_ok()
            }),
            PublicKey::Ec(k) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|sig| k.verify(message, &sig).is_ok()),
            PublicKey::Ed(k) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|sig| k.verify_strict(message, &sig).is_ok()),
        }
    }

    /// The key's required JWK members (RFC 7517, 7518 §6, RFC 8037), in the
    /// lexicographic order RFC 7638 thumbprints use.
    fn members(&self) -> Vec<(&'static str, String)> {
        match self {
            PublicKey::Rsa(k) => vec![
                ("e", B64.encode(k.e().to_bytes_be())),
                ("kty", "RSA".into()),
                ("n", B64.encode(k.n().to_bytes_be())),
            ],
            PublicKey::Ec(k) => {
                let point = k.to_encoded_point(false);
                vec![
                    ("crv", "P-256".into()),
                    ("kty", "EC".into()),
                    ("x", point.x().map(|x| B64.encode(x)).unwrap_or_default()),
                    ("y", point.y().map(|y| B64.encode(y)).unwrap_or_default()),
                ]
            }
            PublicKey::Ed(k) => vec![
                ("crv", "Ed25519".into()),
                ("kty", "OKP".into()),
                ("x", B64.encode(k.to_bytes())),
            ],
        }
    }

    /// RFC 7638 thumbprint (SHA-256, base64url): latchkey's `kid`.
    pub fn thumbprint(&self) -> String {
        let canonical: Map<String, Value> = self
            .members()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::String(v)))
            .collect();
        // serde_json's map keeps keys sorted, as RFC 7638 §3.3 asks.
        let text = Value::Object(canonical).to_string();
        B64.encode(Sha256::digest(text.as_bytes()))
    }

    /// The public JWK for a JWK Set.
    pub fn jwk(&self, kid: &str) -> Value {
        let mut map: Map<String, Value> = self
            .members()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::String(v)))
            .collect();
        map.insert("kid".into(), json!(kid));
        map.insert("use".into(), json!("sig"));
        map.insert("alg".into(), json!(self.alg().as_str()));
        Value::Object(map)
    }
}
