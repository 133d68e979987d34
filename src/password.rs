//! Password hashing: argon2id with parameters sized for a shared 2-core box.
//!
//! OWASP's password storage guidance lists equivalent argon2id settings; we take
//! `m = 7 MiB, t = 5, p = 1` rather than the crate's 19 MiB default so that a burst
//! of logins costs little resident memory while the work per guess stays the same.
//! Hashes are PHC strings, so records made with other parameters still verify.
//!
//! The argon2 working memory lives in a caller-owned [`Workspace`] that is reused
//! from one hash to the next: allocating and freeing 7 MiB per login made glibc's
//! heap grow to ~85 MiB under a wrong-password flood (measured with
//! `scripts/load.py`), while a reused buffer keeps it at the pool size.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::secret::{constant_time_eq, random_bytes};

/// Memory cost in KiB.
pub const M_COST_KIB: u32 = 7 * 1024;
/// Passes over memory.
pub const T_COST: u32 = 5;
/// Bytes of hash output.
const OUTPUT_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

fn err(e: impl std::fmt::Display) -> HashError {
    HashError(e.to_string())
}

/// Reusable argon2 working memory; one per hashing thread.
#[derive(Default)]
pub struct Workspace(Vec<Block>);

impl Workspace {
    fn blocks(&mut self, params: &Params) -> &mut [Block] {
        let n = params.block_count();
        if self.0.len() != n {
            self.0.resize(n, Block::default());
        }
        &mut self.0
    }
}

/// Hashes and verifies passwords. Cheap to clone; CPU-heavy to call, so async
/// callers run it on the hashing pool (`service::passwords`).
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    /// A real hash of a random password, verified against when the username is
    /// unknown so that "no such user" takes as long as "wrong password". Made on
    /// first use, so start-up does not pay for it.
    decoy: Arc<OnceLock<String>>,
}

/// How the hash of a *generated* password starts (see [`generated_hash`]).
const GENERATED_PREFIX: &str = "$blake3$";

/// The stored form of a password latchkey generated itself (24 characters
/// from the OS RNG, about 139 bits): a blake3 fingerprint, as for every other
/// high-entropy secret. argon2id's cost buys nothing against guessing a
/// secret nobody can guess, and would put ~14 ms of CPU on every realm
/// created without a chosen password. Never used for a password a person chose.
pub fn generated_hash(password: &str) -> String {
    format!(
        "{GENERATED_PREFIX}{}",
        to_hex(&crate::secret::fingerprint(password))
    )
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl PasswordHasher {
    pub fn new() -> Result<Self, HashError> {
        Ok(PasswordHasher {
            params: Params::new(M_COST_KIB, T_COST, 1, Some(OUTPUT_LEN)).map_err(err)?,
            decoy: Arc::default(),
        })
    }

    /// A fresh PHC string for `password` with a random 16-byte salt.
    pub fn hash(&self, password: &str, ws: &mut Workspace) -> Result<String, HashError> {
        let salt = SaltString::encode_b64(&random_bytes::<16>()).map_err(err)?;
        let mut salt_buf = [0u8; 64];
        let salt_bytes = salt.as_salt().decode_b64(&mut salt_buf).map_err(err)?;
        let mut out = [0u8; OUTPUT_LEN];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt_bytes,
                &mut out,
                ws.blocks(&self.params),
            )
            .map_err(err)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).map_err(err)?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(err)?),
        };
        Ok(phc.to_string())
    }

    /// Whether `password` matches `phc` (any argon2 variant and parameters).
    /// A malformed stored hash never matches.
    pub fn verify(&self, password: &str, phc: &str, ws: &mut Workspace) -> bool {
        self.try_verify(password, phc, ws).unwrap_or(false)
    }

    fn try_verify(&self, password: &str, phc: &str, ws: &mut Workspace) -> Option<bool> {
        if let Some(hex) = phc.strip_prefix(GENERATED_PREFIX) {
            let want = crate::secret::fingerprint(password);
            return Some(constant_time_eq(hex.as_bytes(), to_hex(&want).as_bytes()));
        }
        let parsed = PasswordHash::new(phc).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
        let version = match parsed.version {
            Some(v) => Version::try_from(v).ok()?,
            None => Version::default(),
        };
        let params = Params::try_from(&parsed).ok()?;
        let expected = parsed.hash?;
        let mut salt_buf = [0u8; 64];
        let salt = parsed.salt?.decode_b64(&mut salt_buf).ok()?;
        let mut out = vec![0u8; expected.len()];
        Argon2::new(algorithm, version, params.clone())
            .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, ws.blocks(&params))
            .ok()?;
        Some(constant_time_eq(&out, expected.as_bytes()))
    }

    /// Spends the time of one verification and fails: for unknown usernames.
    pub fn verify_decoy(&self, password: &str, ws: &mut Workspace) -> bool {
        let decoy = self.decoy.get_or_init(|| {
            // Hashing fails only on invalid parameters, which `new` ruled out; an
            // empty decoy would still be answered with `false`.
            self.hash(crate::secret::random_password().expose(), ws)
                .unwrap_or_default()
        });
        let _ = self.verify(password, decoy, ws);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    #[test]
    fn generated_passwords_verify_by_fingerprint() {
        let h = PasswordHasher::new().unwrap();
        let mut ws = Workspace::default();
        let phc = generated_hash("Q7mZp3xKc9RtV2wLh8NbYe4s");
        assert!(phc.starts_with("$blake3$") && phc.len() == 8 + 64);
        assert!(h.verify("Q7mZp3xKc9RtV2wLh8NbYe4s", &phc, &mut ws));
        assert!(!h.verify("Q7mZp3xKc9RtV2wLh8NbYe4S", &phc, &mut ws));
        assert!(!h.verify("", &phc, &mut ws));
    }

    #[test]
    fn hashes_verify_only_their_password() {
        let h = PasswordHasher::new().unwrap();
        let ws = &mut Workspace::default();
        let phc = h.hash("correct horse", ws).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{phc}");
        assert!(h.verify("correct horse", &phc, ws));
        assert!(!h.verify("Correct horse", &phc, ws));
        assert!(!h.verify("correct horse", "not a phc string", ws));
        assert!(!h.verify_decoy("anything", ws));
    }

    #[test]
    fn salts_differ_between_hashes() {
        let h = PasswordHasher::new().unwrap();
        let ws = &mut Workspace::default();
        assert_ne!(h.hash("same", ws).unwrap(), h.hash("same", ws).unwrap());
    }

    /// Our PHC strings are the argon2 crate's: each verifies the other's.
    #[test]
    fn hashes_interoperate_with_the_argon2_crate() {
        let h = PasswordHasher::new().unwrap();
        let ws = &mut Workspace::default();
        let ours = h.hash("interop", ws).unwrap();
        let argon = Argon2::default();
        assert!(argon
            .verify_password(b"interop", &PasswordHash::new(&ours).unwrap())
            .is_ok());
        // A hash with the crate's default (different) parameters verifies too.
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let theirs = argon.hash_password(b"interop", &salt).unwrap().to_string();
        assert!(h.verify("interop", &theirs, ws));
        assert!(!h.verify("other", &theirs, ws));
    }
}
