//! Where secrets come from and how they are kept out of sight.
//!
//! Randomness is the OS RNG only. High-entropy secrets are found by their blake3
//! hash; passwords go through argon2id ([`crate::password`]). A secret value lives
//! in a [`Redacted`] so that no `Debug`, log line or panic message can print it.

use std::fmt;

use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore;

/// The kinds of credential latchkey hands out, each with its readable type
/// prefix (so logs and secret scanners tell them apart). The one place that
/// knows the prefixes and how a credential string is formatted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `lk_at_`: a self-contained access token (payload and MAC, base64url).
    AccessToken,
    /// `lk_rt_`: a refresh token (random, stored by its hash).
    RefreshToken,
    /// `lk_ac_`: an authorization code (random, stored by its hash).
    Code,
    /// `lk_key_`: an API key (random, stored by its hash).
    ApiKey,
    /// `lk_cs_`: a client secret (random, stored by its hash).
    ClientSecret,
}

/// base64url characters of 32 random bytes (256 bits) without padding.
const RANDOM_LEN: usize = 43;

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::AccessToken,
        Kind::RefreshToken,
        Kind::Code,
        Kind::ApiKey,
        Kind::ClientSecret,
    ];

    pub const fn prefix(self) -> &'static str {
        match self {
            Kind::AccessToken => "lk_at_",
            Kind::RefreshToken => "lk_rt_",
            Kind::Code => "lk_ac_",
            Kind::ApiKey => "lk_key_",
            Kind::ClientSecret => "lk_cs_",
        }
    }

    /// The kind a presented credential claims by its prefix (nothing is verified).
    pub fn of(credential: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| credential.starts_with(k.prefix()))
    }

    /// The prefix followed by `bytes` in base64url without padding.
    pub fn format(self, bytes: &[u8]) -> String {
        let mut out = String::with_capacity(self.prefix().len() + bytes.len().div_ceil(3) * 4);
        out.push_str(self.prefix());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(bytes, &mut out);
        out
    }

    /// The bytes after this kind's prefix, if the string has the prefix and is
    /// base64url without padding.
    pub fn parse(self, credential: &str) -> Option<Vec<u8>> {
        let body = credential.strip_prefix(self.prefix())?;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .ok()
    }

    /// A new random credential of this kind: the prefix and 256 bits from the OS RNG.
    pub fn generate(self) -> String {
        self.from_random(random_bytes())
    }

    /// The credential made of these 32 random bytes.
    pub fn from_random(self, bytes: [u8; 32]) -> String {
        self.format(&bytes)
    }

    /// Whether a presented string has the exact shape of a random credential of
    /// this kind (prefix and 43 base64url characters); anything else is refused
    /// without a lookup.
    pub fn is_well_formed(self, credential: &str) -> bool {
        credential.strip_prefix(self.prefix()).is_some_and(|body| {
            body.len() == RANDOM_LEN
                && body
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())
    }
}

/// A random value with no type prefix (cookies): base64url of 32 random bytes.
pub fn random_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

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
    fn kinds_have_their_prefixes_and_shapes() {
        for kind in Kind::ALL {
            let s = kind.generate();
            assert!(s.starts_with(kind.prefix()));
            assert_eq!(s.len(), kind.prefix().len() + 43);
            assert_eq!(Kind::of(&s), Some(kind));
            assert!(kind.is_well_formed(&s));
            assert!(!kind.is_well_formed(&s[..s.len() - 1]));
            assert!(!kind.is_well_formed(&format!("{s}A")));
            assert_eq!(kind.parse(&s).map(|b| b.len()), Some(32));
            for other in Kind::ALL.into_iter().filter(|k| *k != kind) {
                assert!(!other.is_well_formed(&s), "{kind:?} taken for {other:?}");
            }
        }
        assert_eq!(Kind::of("lk_xx_abc"), None);
        assert!(!Kind::ApiKey.is_well_formed(&format!("lk_key_{}", "*".repeat(43))));
        // 0xffffff is base64url "____".
        assert_eq!(
            Kind::Code.format(&[0xff; 3]),
            format!("lk_ac_{}", "_".repeat(4))
        );
        assert_eq!(Kind::RefreshToken.parse("lk_rt_***"), None);
    }

    #[test]
    fn constant_time_eq_compares_contents_and_lengths() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
