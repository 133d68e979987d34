//! Where secrets come from and how they are kept out of sight.
//!
//! Randomness is the OS RNG only. High-entropy secrets are found by their blake3
//! hash; passwords go through argon2id ([`crate::password`]). A secret value lives
//! in a [`Redacted`] so that no `Debug`, log line or panic message can print it.

use std::fmt;

use rand::rngs::OsRng;
use rand::RngCore;

/// A value that never shows itself in `Debug` output.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    pub fn new(value: T) -> Self {
        Redacted(value)
    }

    /// The secret itself; call only where it is used, never to log it.
    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// `N` bytes from the operating system's RNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// A password a person can copy from a terminal: 24 characters from a 56-letter
/// alphabet without look-alikes (≈139 bits).
pub fn random_password() -> Redacted<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
    let mut out = String::with_capacity(24);
    while out.len() < 24 {
        // Rejection sampling keeps every letter equally likely.
        for b in random_bytes::<32>() {
            let limit = 256 - (256 % ALPHABET.len());
            if (b as usize) < limit && out.len() < 24 {
                out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    Redacted::new(out)
}

/// blake3 of a whole credential string: the only form in which high-entropy
/// secrets are stored and looked up.
pub fn fingerprint(secret: &str) -> [u8; 32] {
    *blake3::hash(secret.as_bytes()).as_bytes()
}

/// Equality whose running time does not depend on where two byte strings differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_debug_hides_the_value() {
        let s = Redacted::new("hunter2".to_string());
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{:?}", Some(s)), "Some(***)");
    }

    #[test]
    fn generated_passwords_differ_and_use_the_alphabet() {
        let a = random_password();
        let b = random_password();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 24);
        assert!(a
            .expose()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() && !"0O1lI".contains(c)));
    }

    #[test]
    fn constant_time_eq_compares_contents_and_lengths() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
