//! `[[signing_keys]]`: fixed JWT signing keys (PKCS #8 PEM), one per algorithm.

use super::errors::At;
use super::{SeedSigningKey, SigningKeySeed};
use crate::domain::jwt;

/// Checks one level's signing keys; `section` is `signing_keys` or
/// `realms.signing_keys`.
pub(super) fn check(
    section: &str,
    entries: Vec<(At, SeedSigningKey)>,
) -> Result<Vec<SigningKeySeed>, String> {
    let mut out = Vec::new();
    let mut kids: Vec<String> = Vec::new();
    let mut algs: Vec<String> = Vec::new();
    for (at, k) in entries {
        let err = |field: &str, m: String| at.field_error(section, field, m);
        if k.kid.is_empty()
            || k.kid.len() > 128
            || !k
                .kid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        {
            return Err(err(
                "kid",
                "use 1–128 letters, digits, '-', '.', '_' or '~'".into(),
            ));
        }
        if kids.contains(&k.kid) {
            return Err(err("kid", format!("{:?} is listed twice", k.kid)));
        }
        let alg = jwt::Alg::parse(&k.alg)
            .ok_or_else(|| err("alg", format!("{:?}: use RS256, ES256 or EdDSA", k.alg)))?;
        if algs.contains(&k.alg) {
            return Err(err(
                "alg",
                format!("{} is listed twice: one active key per algorithm", k.alg),
            ));
        }
        let key = jwt::PrivateKey::from_pkcs8_pem(alg, &k.private_key_pem)
            .map_err(|m| err("private_key_pem", m))?;
        kids.push(k.kid.clone());
        algs.push(k.alg.clone());
        out.push(SigningKeySeed { kid: k.kid, key });
    }
    Ok(out)
}
