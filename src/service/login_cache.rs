//! A short-lived memory of Basic credentials that verified, so that a client
//! sending the same `Authorization: Basic` on every request pays argon2 once a
//! minute rather than on each call.
//!
//! Entries are keyed by a blake3 keyed hash (per-process random key) of the
//! username and password; the password is never kept. Each entry also holds a
//! stamp of the password hash it was checked against: the caller compares it with
//! the user's current hash, so a changed password stops working at once, and
//! reads the user live, so disabling does too.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::domain::time::Timestamp;
use crate::secret::{constant_time_eq, random_bytes};

/// How long a verification is trusted.
pub const TTL_SECS: i64 = 60;
/// Most entries kept; a full cache drops expired entries, then everything.
pub const CAPACITY: usize = 10_000;

pub struct LoginCache {
    key: [u8; 32],
    entries: Mutex<HashMap<[u8; 32], Entry>>,
    /// Striped locks so that concurrent first logins with one credential run
    /// argon2 once; different credentials rarely share a stripe.
    flights: Vec<tokio::sync::Mutex<()>>,
}

const FLIGHT_STRIPES: usize = 64;

#[derive(Clone)]
struct Entry {
    user_id: String,
    stamp: [u8; 32],
    verified_at: Timestamp,
}

impl Default for LoginCache {
    fn default() -> Self {
        Self::new()
    }
}

impl LoginCache {
    pub fn new() -> LoginCache {
        LoginCache {
            key: random_bytes(),
            entries: Mutex::default(),
            flights: (0..FLIGHT_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }

    /// The cache key of one username/password pair.
    pub fn digest(&self, username_key: &str, password: &str) -> [u8; 32] {
        let mut h = blake3::Hasher::new_keyed(&self.key);
        h.update(&(username_key.len() as u64).to_le_bytes());
        h.update(username_key.as_bytes());
        h.update(password.as_bytes());
        *h.finalize().as_bytes()
    }

    /// Held while one credential is being verified the slow way.
    pub async fn single_flight(&self, digest: &[u8; 32]) -> tokio::sync::MutexGuard<'_, ()> {
        self.flights[usize::from(digest[0]) % FLIGHT_STRIPES]
            .lock()
            .await
    }

    /// The stamp of a stored password hash.
    pub fn stamp(password_hash: &str) -> [u8; 32] {
        *blake3::hash(password_hash.as_bytes()).as_bytes()
    }

    /// The user id a fresh entry vouches for, if its stamp matches `current_stamp`
    /// as computed by the caller from the user's current record.
    pub fn lookup(&self, digest: &[u8; 32], now: Timestamp) -> Option<(String, [u8; 32])> {
        let entries = self.entries.lock().ok()?;
        let e = entries.get(digest)?;
        (now.unix() - e.verified_at.unix() < TTL_SECS && now >= e.verified_at)
            .then(|| (e.user_id.clone(), e.stamp))
    }

    /// Whether an entry's stamp still matches the user's password hash.
    pub fn stamp_matches(entry_stamp: &[u8; 32], password_hash: &str) -> bool {
        constant_time_eq(entry_stamp, &Self::stamp(password_hash))
    }

    pub fn remember(&self, digest: [u8; 32], user_id: &str, password_hash: &str, now: Timestamp) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= CAPACITY {
            entries.retain(|_, e| now.unix() - e.verified_at.unix() < TTL_SECS);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(
            digest,
            Entry {
                user_id: user_id.to_owned(),
                stamp: Self::stamp(password_hash),
                verified_at: now,
            },
        );
    }

    /// Drops an entry that no longer vouches for anyone.
    pub fn forget(&self, digest: &[u8; 32]) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(digest);
        }
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_the_ttl() {
        let cache = LoginCache::new();
        let d = cache.digest("alice", "pw");
        cache.remember(d, "usr_1", "$hash", Timestamp(100));
        assert!(cache.lookup(&d, Timestamp(100 + TTL_SECS - 1)).is_some());
        assert!(cache.lookup(&d, Timestamp(100 + TTL_SECS)).is_none());
    }

    #[test]
    fn a_different_password_is_a_different_entry() {
        let cache = LoginCache::new();
        cache.remember(cache.digest("alice", "pw"), "usr_1", "$hash", Timestamp(0));
        assert!(cache
            .lookup(&cache.digest("alice", "pw2"), Timestamp(0))
            .is_none());
        // Length-prefixing keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(cache.digest("ab", "c"), cache.digest("a", "bc"));
    }

    #[test]
    fn stamps_follow_the_password_hash() {
        let s = LoginCache::stamp("$old");
        assert!(LoginCache::stamp_matches(&s, "$old"));
        assert!(!LoginCache::stamp_matches(&s, "$new"));
    }

    #[test]
    fn a_full_cache_stays_bounded() {
        let cache = LoginCache::new();
        for i in 0..(CAPACITY + 5) {
            cache.remember(cache.digest(&i.to_string(), "pw"), "u", "$h", Timestamp(0));
        }
        assert!(cache.len() <= CAPACITY);
    }
}
