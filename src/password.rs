//! Password hashing: argon2id with parameters sized for a shared 2-core box.
//!
//! OWASP's password storage guidance lists equivalent argon2id settings; we take
//! `m = 7 MiB, t = 5, p = 1` rather than the crate's 19 MiB default so that a burst
//! of logins costs little resident memory while the work per guess stays the same.
//! Hashes are PHC strings, so records made with other parameters still verify.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{Arc, OnceLock};

use crate::secret::random_bytes;

/// Memory cost in KiB.
pub const M_COST_KIB: u32 = 7 * 1024;
/// Passes over memory.
pub const T_COST: u32 = 5;

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes and verifies passwords. Cheap to clone; CPU-heavy to call, so async
/// callers run it on a blocking thread.
#[derive(Clone)]
pub struct PasswordHasher {
    argon: Argon2<'static>,
    /// A real hash of a random password, verified against when the username is
    /// unknown so that "no such user" takes as long as "wrong password". Made on
    /// first use, so start-up does not pay for it.
    decoy: Arc<OnceLock<String>>,
}

impl PasswordHasher {
    pub fn new() -> Result<Self, HashError> {
        let params =
            Params::new(M_COST_KIB, T_COST, 1, None).map_err(|e| HashError(e.to_string()))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        Ok(PasswordHasher {
            argon,
            decoy: Arc::default(),
        })
    }

    /// A fresh PHC string for `password` with a random 16-byte salt.
    pub fn hash(&self, password: &str) -> Result<String, HashError> {
        let salt =
            SaltString::encode_b64(&random_bytes::<16>()).map_err(|e| HashError(e.to_string()))?;
        self.argon
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| HashError(e.to_string()))
    }

    /// Whether `password` matches `phc`. A malformed stored hash never matches.
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        match PasswordHash::new(phc) {
            Ok(parsed) => self
                .argon
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }

    /// Spends the time of one verification and fails: for unknown usernames.
    pub fn verify_decoy(&self, password: &str) -> bool {
        let decoy = self.decoy.get_or_init(|| {
            // Hashing can only fail on invalid parameters, which `new` ruled out;
            // an empty decoy would still cost a parse, so fall back to that.
            self.hash(crate::secret::random_password().expose())
                .unwrap_or_default()
        });
        let _ = self.verify(password, decoy);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let h = PasswordHasher::new().unwrap();
        let phc = h.hash("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"));
        assert!(h.verify("correct horse", &phc));
        assert!(!h.verify("Correct horse", &phc));
        assert!(!h.verify("correct horse", "not a phc string"));
        assert!(!h.verify_decoy("anything"));
    }

    #[test]
    fn salts_differ_between_hashes() {
        let h = PasswordHasher::new().unwrap();
        assert_ne!(h.hash("same").unwrap(), h.hash("same").unwrap());
    }
}
